/* Stream health accounting (see health.h): counters written atomically by the
 * streaming threads, figures derived from them once a second on the main
 * thread, read by the API under one lock. Used by media/stream.c. */
#include "health.h"

void
hc_health_init(HcHealth *h)
{
  g_mutex_init(&h->lock);
}

void
hc_health_clear(HcHealth *h)
{
  g_mutex_clear(&h->lock);
  g_free(h->last_error);
}

/* Streaming thread: the time between the last two keyframes, a health figure
 * (a camera set to a long GOP makes viewers wait that long to start). Taken
 * from arrival times: RTP sources may rebase timestamps (RTCP lip sync). */
static void
note_keyframe(HcHealth *h, HcHealthTrack *t)
{
  gint64 now = g_get_monotonic_time(), last = t->last_key_us;

  t->last_key_us = now;
  if (!last)
    return;
  g_mutex_lock(&h->lock);
  t->info.keyframe_interval = (now - last) / 1e6;
  g_mutex_unlock(&h->lock);
}

void
hc_health_count(HcHealth *h, HcHealthTrack *t, GstBuffer *buf)
{
  __atomic_fetch_add(&t->bytes, gst_buffer_get_size(buf), __ATOMIC_RELAXED);
  if (t != &h->video)
    return;
  __atomic_fetch_add(&t->frames, 1, __ATOMIC_RELAXED);
  if (!GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT))
    note_keyframe(h, t);
}

void
hc_health_caps(HcHealth *h, HcHealthTrack *t, GstCaps *caps)
{
  const GstStructure *st = gst_caps_get_structure(caps, 0);
  const char *mt = gst_structure_get_name(st);
  int fn = 0, fd = 1;

  g_mutex_lock(&h->lock);
  if (g_str_equal(mt, "video/x-h264"))
    g_strlcpy(t->info.codec, "H264", sizeof t->info.codec);
  else if (g_str_equal(mt, "audio/mpeg"))
    g_strlcpy(t->info.codec, "AAC", sizeof t->info.codec);
  else if (g_str_equal(mt, "audio/x-opus"))
    g_strlcpy(t->info.codec, "OPUS", sizeof t->info.codec);
  gst_structure_get_int(st, "width", &t->info.width);
  gst_structure_get_int(st, "height", &t->info.height);
  gst_structure_get_int(st, "rate", &t->info.rate);
  gst_structure_get_int(st, "channels", &t->info.channels);
  if (gst_structure_get_fraction(st, "framerate", &fn, &fd) && fd)
    t->info.fps = (double)fn / fd;
  g_mutex_unlock(&h->lock);
}

gboolean
hc_health_tick(HcHealth *h, double secs)
{
  HcHealthTrack *tracks[] = {&h->video, &h->audio};
  gboolean moved = FALSE;
  guint64 frames;
  double fps;

  g_mutex_lock(&h->lock);
  for (guint t = 0; t < 2; t++) {
    guint64 b = __atomic_load_n(&tracks[t]->bytes, __ATOMIC_RELAXED);
    double rate = (b - tracks[t]->bytes_at_last_tick) * 8.0 / secs;
    /* Smoothed over a few seconds so the figure does not jump with each GOP. */
    tracks[t]->info.bitrate = tracks[t]->info.bitrate * 0.75 + rate * 0.25;
    moved |= b != tracks[t]->bytes_at_last_tick;
    tracks[t]->bytes_at_last_tick = b;
  }
  frames = __atomic_load_n(&h->video.frames, __ATOMIC_RELAXED);
  fps = (frames - h->video.frames_at_last_tick) / secs;
  h->video.frames_at_last_tick = frames;
  h->video.info.measured_fps = h->video.info.measured_fps * 0.5 + fps * 0.5;
  g_mutex_unlock(&h->lock);
  return moved;
}

void
hc_health_set_error(HcHealth *h, char *msg)
{
  g_mutex_lock(&h->lock);
  g_free(h->last_error);
  h->last_error = msg;
  g_mutex_unlock(&h->lock);
}

void
hc_health_get(HcHealth *h, HcStreamInfo *out)
{
  g_mutex_lock(&h->lock);
  out->last_error = g_strdup(h->last_error);
  out->video = h->video.info;
  out->audio = h->audio.info;
  g_mutex_unlock(&h->lock);
}
