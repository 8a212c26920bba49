/* A libuv loop driven from the GLib main loop, so libwebsockets can use its
 * libuv event library (epoll) while everything still runs on hallcast's one
 * main loop. GLib sees a single fd (libuv's epoll fd) and libuv's next timer
 * as the source's timeout: its cost per iteration no longer grows with the
 * number of connections, as it did with lws's GLib event library (one GSource
 * and one pollfd per socket, walked on every iteration). */
#define G_LOG_DOMAIN "hc-http"

#include "uv-source.h"

typedef struct {
  GSource base;
  uv_loop_t *uv;
  gpointer tag;
} UvSource;

/* libuv's clock only moves in uv_run(); refresh it so the timeout counts from
 * now and not from the last time lws ran. */
static int
uv_timeout_now(uv_loop_t *uv)
{
  uv_update_time(uv);
  return uv_backend_timeout(uv);
}

static gboolean
uv_source_prepare(GSource *source, gint *timeout)
{
  UvSource *s = (UvSource *)source;

  *timeout = uv_timeout_now(s->uv);
  return *timeout == 0;
}

static gboolean
uv_source_check(GSource *source)
{
  UvSource *s = (UvSource *)source;

  return (g_source_query_unix_fd(source, s->tag) & G_IO_IN) || uv_timeout_now(s->uv) == 0;
}

static gboolean
uv_source_dispatch(GSource *source, GSourceFunc callback, gpointer data)
{
  UvSource *s = (UvSource *)source;

  (void)callback;
  (void)data;
  uv_run(s->uv, UV_RUN_NOWAIT);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs uv_source_funcs = {
  .prepare = uv_source_prepare,
  .check = uv_source_check,
  .dispatch = uv_source_dispatch,
};

GSource *
hc_uv_source_new(uv_loop_t *uv)
{
  GSource *source = g_source_new(&uv_source_funcs, sizeof(UvSource));
  UvSource *s = (UvSource *)source;

  s->uv = uv;
  s->tag = g_source_add_unix_fd(source, uv_backend_fd(uv), G_IO_IN);
  g_source_set_name(source, "hallcast libuv");
  return source;
}

void
hc_uv_drain(uv_loop_t *uv, gint64 budget_us)
{
  gint64 end = g_get_monotonic_time() + budget_us;

  while (uv_run(uv, UV_RUN_NOWAIT) && g_get_monotonic_time() < end)
    g_usleep(1000);
}
