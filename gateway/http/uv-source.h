/* A libuv loop as one GSource of the GLib main loop (see uv-source.c). */
#pragma once

#include <glib.h>
#include <uv.h>

/* A source that runs @uv's ready callbacks and timers: attach it to the main
 * context; @uv must outlive it. */
GSource *hc_uv_source_new(uv_loop_t *uv);

/* Runs @uv without blocking until it has nothing alive or @budget_us passed:
 * lets libuv finish closing handles after the source is gone (shutdown). */
void hc_uv_drain(uv_loop_t *uv, gint64 budget_us);
