/* A stream's health figures for the API: per track the caps (codec, size,
 * rate), bytes and frames counted as they enter the track's tee, smoothed
 * bitrate and frame rate, the keyframe interval; and the stream's last error.
 * Embedded in HcStream (media/stream.c), which feeds it from its tee probes
 * (streaming threads) and its one-second tick (main thread). */
#ifndef HC_MEDIA_HEALTH_H
#define HC_MEDIA_HEALTH_H

#include <gst/gst.h>

#include "stream.h"

typedef struct {
  HcTrackInfo info; /* guarded by the health's lock */
  guint64 bytes;    /* atomically increased by the streaming thread */
  guint64 bytes_at_last_tick;
  guint64 frames; /* atomically increased by the streaming thread */
  guint64 frames_at_last_tick;
  gint64 last_key_us; /* streaming thread only: arrival of the last keyframe */
} HcHealthTrack;

typedef struct {
  GMutex lock; /* guards last_error and the track infos */
  char *last_error;
  HcHealthTrack video, audio;
} HcHealth;

void hc_health_init(HcHealth *h);
void hc_health_clear(HcHealth *h);

/* Streaming thread: a buffer entered track t's tee; video counts frames and
 * keyframes too. */
void hc_health_count(HcHealth *h, HcHealthTrack *t, GstBuffer *buf);
/* Streaming thread: the caps of track t (codec, size, rate, channels, fps). */
void hc_health_caps(HcHealth *h, HcHealthTrack *t, GstCaps *caps);
/* Main thread, every secs seconds: updates the smoothed bitrates and frame
 * rate. TRUE if any track had bytes since the last tick. */
gboolean hc_health_tick(HcHealth *h, double secs);

/* Any thread: replaces the last error (msg is taken). */
void hc_health_set_error(HcHealth *h, char *msg);
/* Any thread: a consistent copy of the figures into out (last_error owned). */
void hc_health_get(HcHealth *h, HcStreamInfo *out);

#endif
