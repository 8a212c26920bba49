/* Camera switching (see switch.h): the switch:// source (a bin of two
 * appsrcs with "video" and "audio" pads) and the taps, an appsink on every
 * stream's video and Opus tees whose callback, in the tee's streaming
 * thread, pushes the buffer to each switch stream showing that camera. The
 * registry is read by those threads under one mutex. Used by main.c and
 * http/api_switch.c. */
#define G_LOG_DOMAIN "hc-media"

#include "switch.h"

#include <gio/gio.h>
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <string.h>

#include "core/error.h"
#include "rtp-out.h"
#include "stream.h"

#define APPSRC_MAX_BYTES (4 * 1024 * 1024)
#define MAX_CAMERAS 16

typedef struct {
  char *name;
  char **cams; /* NULL-terminated */
  int current; /* index in cams of the camera shown */
  int pending; /* index of the camera switched to at its next keyframe, -1 none */
  GstElement *video_src, *audio_src; /* of the current bin (references) */
  /* Added to the shown camera's timestamps (its pipeline's running time) to
   * make ours: taken at the first buffer after each switch, so the camera's
   * own spacing and lip sync are kept and time never goes back. */
  GstClockTimeDiff offset;
  gboolean have_offset;
  GstClockTime last_pts; /* of the last video buffer pushed */
  GstClockTime interval; /* between the last two video buffers */
  /* The current bin has had the shown camera's first keyframe: before it,
   * nothing is pushed (audio alone would make HLS wait on the video). */
  gboolean started;
} Switch;

static GMutex lock;          /* guards switches and every Switch */
static GHashTable *switches; /* name -> Switch* */

static void
switch_free(gpointer data)
{
  Switch *sw = data;

  g_clear_object(&sw->video_src);
  g_clear_object(&sw->audio_src);
  g_strfreev(sw->cams);
  g_free(sw->name);
  g_free(sw);
}

static int
camera_index(const Switch *sw, const char *camera)
{
  for (int i = 0; sw->cams[i]; i++)
    if (strcmp(sw->cams[i], camera) == 0)
      return i;
  return -1;
}

/* Running time of the switch stream's pipeline now, or NONE without a clock. */
static GstClockTime
running_time(GstElement *e)
{
  GstObject *top = gst_object_ref(GST_OBJECT(e)), *parent;
  GstClock *clock;
  GstClockTime now, base;

  /* The pipeline's base time: an element added to a running pipeline may
   * not have it yet. */
  while ((parent = gst_object_get_parent(top))) {
    gst_object_unref(top);
    top = parent;
  }
  clock = gst_element_get_clock(GST_ELEMENT(top));
  base = gst_element_get_base_time(GST_ELEMENT(top));
  gst_object_unref(top);

  if (!clock)
    return GST_CLOCK_TIME_NONE;
  now = gst_clock_get_time(clock);
  gst_object_unref(clock);
  return now >= base ? now - base : GST_CLOCK_TIME_NONE;
}

/* A tee's streaming thread: a buffer of camera's video or Opus. */
static void
feed(const char *camera, gboolean video, GstBuffer *buf, GstClockTime pts, GstClockTime dts)
{
  GHashTableIter it;
  gpointer value;

  g_mutex_lock(&lock);
  if (!switches) {
    g_mutex_unlock(&lock);
    return;
  }
  g_hash_table_iter_init(&it, switches);
  while (g_hash_table_iter_next(&it, NULL, &value)) {
    Switch *sw = value;
    int idx = camera_index(sw, camera);
    GstElement *src;
    GstBuffer *copy;

    if (idx < 0)
      continue;
    if (video && idx == sw->pending && !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT)) {
      /* The new camera's keyframe (SPS/PPS in-band before it): switch now. */
      g_info("stream %s: switched from %s to %s", sw->name, sw->cams[sw->current], camera);
      sw->current = idx;
      sw->pending = -1;
      sw->have_offset = FALSE;
    }
    if (idx != sw->current)
      continue;
    if (!sw->started) {
      if (!video || GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT))
        continue;
      sw->started = TRUE;
      sw->have_offset = FALSE;
    }
    src = video ? sw->video_src : sw->audio_src;
    if (!src)
      continue;
    if (!GST_CLOCK_TIME_IS_VALID(pts))
      continue;
    if (!sw->have_offset) {
      GstClockTime now = running_time(src);
      if (!GST_CLOCK_TIME_IS_VALID(now))
        continue;
      sw->offset = GST_CLOCK_DIFF(pts, now);
      /* The new camera's first frame comes a frame after the old one's last. */
      if (GST_CLOCK_TIME_IS_VALID(sw->last_pts) &&
          (GstClockTimeDiff)pts + sw->offset < (GstClockTimeDiff)(sw->last_pts + sw->interval))
        sw->offset = (GstClockTimeDiff)(sw->last_pts + sw->interval) - (GstClockTimeDiff)pts;
      sw->have_offset = TRUE;
      g_debug("stream %s: %s timestamps %+" G_GINT64_FORMAT
              " ms (from a %s buffer at %" GST_TIME_FORMAT ", now %" GST_TIME_FORMAT ")",
              sw->name, camera, sw->offset / GST_MSECOND, video ? "video" : "audio",
              GST_TIME_ARGS(pts), GST_TIME_ARGS(now));
    }
    if ((GstClockTimeDiff)pts + sw->offset < 0)
      continue;
    copy = gst_buffer_copy(buf);
    GST_BUFFER_PTS(copy) = pts + sw->offset;
    GST_BUFFER_DTS(copy) = GST_CLOCK_TIME_IS_VALID(dts) && (GstClockTimeDiff)dts + sw->offset >= 0
                             ? dts + sw->offset
                             : GST_BUFFER_PTS(copy);
    if (video && (!GST_CLOCK_TIME_IS_VALID(sw->last_pts) || GST_BUFFER_PTS(copy) > sw->last_pts)) {
      if (GST_CLOCK_TIME_IS_VALID(sw->last_pts))
        sw->interval =
          CLAMP(GST_BUFFER_PTS(copy) - sw->last_pts, 10 * GST_MSECOND, 200 * GST_MSECOND);
      sw->last_pts = GST_BUFFER_PTS(copy);
    }
    gst_app_src_push_buffer(GST_APP_SRC(src), copy);
  }
  g_mutex_unlock(&lock);
}

/* ---- the taps: an output on every stream ---- */

typedef struct {
  char *camera;
  gboolean video;
} Tap;

static GstFlowReturn
on_tap_sample(GstAppSink *sink, gpointer data)
{
  Tap *tap = data;
  GstSample *sample = gst_app_sink_pull_sample(sink);
  const GstSegment *seg;
  GstBuffer *buf;

  if (!sample)
    return GST_FLOW_EOS;
  /* Timestamps as the camera's running time: encoders shift theirs (x264enc
   * by 1000 hours) and say so in the segment. */
  seg = gst_sample_get_segment(sample);
  buf = gst_sample_get_buffer(sample);
  if (seg && seg->format == GST_FORMAT_TIME)
    feed(tap->camera, tap->video, buf,
         gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_PTS(buf)),
         gst_segment_to_running_time(seg, GST_FORMAT_TIME, GST_BUFFER_DTS(buf)));
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

static void
tap_free(gpointer data)
{
  Tap *tap = data;

  g_free(tap->camera);
  g_free(tap);
}

/* An appsink on a new branch of tee; no queue: the callback never blocks. */
static void
add_tap(const HcStreamPads *pads, GstElement *tee, gboolean video)
{
  GstElement *sink = gst_element_factory_make("appsink", NULL);
  GstAppSinkCallbacks cb = {.new_sample = on_tap_sample};
  Tap *tap = g_new0(Tap, 1);
  GstPad *src, *sinkpad;

  tap->camera = g_strdup(pads->name);
  tap->video = video;
  g_object_set(sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, "max-buffers", 4,
               "drop", TRUE, NULL);
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, tap, tap_free);
  gst_bin_add(pads->pipeline, sink);
  src = gst_element_request_pad_simple(tee, "src_%u");
  sinkpad = gst_element_get_static_pad(sink, "sink");
  if (gst_pad_link(src, sinkpad) != GST_PAD_LINK_OK)
    g_warning("stream %s: cannot link the switch tap", pads->name);
  gst_object_unref(sinkpad);
  gst_object_unref(src);
  gst_element_sync_state_with_parent(sink);
}

static gpointer
tap_attach(const HcStreamPads *pads, GError **error)
{
  if (pads->video_tee)
    add_tap(pads, pads->video_tee, TRUE);
  if (pads->opus_tee)
    add_tap(pads, pads->opus_tee, FALSE);
  return g_strdup(pads->name);
}

static void
tap_detach(gpointer handle, gboolean remove_files)
{
  g_free(handle); /* the appsinks go with the stopped pipeline */
}

const HcPlugin hc_switch_tap_plugin = {
  .api_version = HC_PLUGIN_API_VERSION,
  .name = "switch-tap",
  .description = "every stream's video and Opus, for the switch:// streams that show it",
  .kind = HC_PLUGIN_OUTPUT,
  .output_attach = tap_attach,
  .output_detach = tap_detach,
};

/* ---- the switch:// source ---- */

static char **
parse_url(const char *url, GError **error)
{
  char **cams;
  guint n;

  if (g_ascii_strncasecmp(url, "switch://", 9) != 0)
    goto bad;
  cams = g_strsplit(url + 9, ",", -1);
  n = g_strv_length(cams);
  for (guint i = 0; i < n; i++)
    if (!hc_stream_name_valid(cams[i])) {
      g_strfreev(cams);
      goto bad;
    }
  if (n >= 1 && n <= MAX_CAMERAS)
    return cams;
  g_strfreev(cams);
bad:
  g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
              "switch streams are url=switch://cam1,cam2,... with 1 to %d stream names",
              MAX_CAMERAS);
  return NULL;
}

static gboolean
switch_check(const char *url, GError **error)
{
  char **cams = parse_url(url, error);

  g_strfreev(cams);
  return cams != NULL;
}

static GstElement *
add_appsrc(GstElement *bin, const char *pad_name, const char *caps_text)
{
  GstElement *src = gst_element_factory_make("appsrc", NULL), *filter;
  GstCaps *caps = gst_caps_from_string(caps_text);
  GstPad *pad, *ghost;

  g_object_set(src, "is-live", TRUE, "format", GST_FORMAT_TIME, "do-timestamp", FALSE, "block",
               FALSE, "max-bytes", (guint64)APPSRC_MAX_BYTES, "caps", caps, NULL);
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(src), "leaky-type"))
    gst_util_set_object_arg(G_OBJECT(src), "leaky-type", "downstream");
  /* The caps are also those of the pad, for the stream that links it now. */
  filter = gst_element_factory_make("capsfilter", NULL);
  g_object_set(filter, "caps", caps, NULL);
  gst_caps_unref(caps);
  gst_bin_add_many(GST_BIN(bin), src, filter, NULL);
  gst_element_link(src, filter);
  pad = gst_element_get_static_pad(filter, "src");
  ghost = gst_ghost_pad_new(pad_name, pad);
  gst_object_unref(pad);
  gst_pad_set_active(ghost, TRUE);
  gst_element_add_pad(bin, ghost);
  return src;
}

static GstElement *
switch_open(HcSourceArgs *args, GError **error)
{
  char **cams = parse_url(args->url, error);
  GstElement *bin, *vsrc, *asrc;
  Switch *sw;

  if (!cams)
    return NULL;
  bin = gst_bin_new(NULL);
  vsrc = add_appsrc(bin, "video", "video/x-h264,stream-format=byte-stream,alignment=au");
  asrc = add_appsrc(bin, "audio",
                    "audio/x-opus,rate=48000,channels=2,channel-mapping-family=0,"
                    "stream-count=1,coupled-count=1");
  gst_element_no_more_pads(bin);
  g_mutex_lock(&lock);
  if (!switches)
    switches = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, switch_free);
  sw = g_hash_table_lookup(switches, args->stream);
  if (!sw || !g_strv_equal((const char *const *)sw->cams, (const char *const *)cams)) {
    sw = g_new0(Switch, 1);
    sw->name = g_strdup(args->stream);
    sw->cams = cams;
    sw->pending = -1;
    sw->last_pts = GST_CLOCK_TIME_NONE;
    sw->interval = 40 * GST_MSECOND;
    g_hash_table_replace(switches, sw->name, sw);
  } else {
    g_strfreev(cams);
  }
  g_set_object(&sw->video_src, vsrc);
  g_set_object(&sw->audio_src, asrc);
  sw->have_offset = FALSE;
  sw->started = FALSE;
  g_mutex_unlock(&lock);
  /* Idle, not reconnecting, while no camera delivers. */
  args->waits = TRUE;
  return bin;
}

static GstElement *
switch_create(const char *url, GError **error)
{
  HcSourceArgs args = {"", url, "", FALSE};

  return switch_open(&args, error);
}

/* Main thread: the switch stream is gone; its cameras are no longer shown. */
static void
switch_release(const char *stream)
{
  g_mutex_lock(&lock);
  if (switches)
    g_hash_table_remove(switches, stream);
  g_mutex_unlock(&lock);
}

static void
switch_shutdown(void)
{
  g_mutex_lock(&lock);
  g_clear_pointer(&switches, g_hash_table_unref);
  g_mutex_unlock(&lock);
}

const HcPlugin hc_switch_source_plugin = {
  .api_version = HC_PLUGIN_API_VERSION,
  .name = "src-switch",
  .description = "camera switching over other streams (switch://cam1,cam2)",
  .kind = HC_PLUGIN_SOURCE,
  .shutdown = switch_shutdown,
  .scheme = "switch",
  .source_check = switch_check,
  .source_create = switch_create,
  .source_open = switch_open,
  .source_release = switch_release,
};

int
hc_switch_to(const char *name, const char *to)
{
  Switch *sw;
  int idx, rc = 0;
  HcStream *cam;

  g_mutex_lock(&lock);
  sw = switches && hc_streams_lookup(name) ? g_hash_table_lookup(switches, name) : NULL;
  idx = sw ? camera_index(sw, to) : -1;
  if (!sw)
    rc = HC_ENOTFOUND;
  else if (idx < 0)
    rc = HC_EINVAL;
  else
    sw->pending = idx == sw->current ? -1 : idx;
  g_mutex_unlock(&lock);
  if (rc != 0 || idx < 0)
    return rc;
  g_info("stream %s: switching to %s at its next keyframe", name, to);
  /* Ask the camera for that keyframe now rather than wait for its GOP. */
  cam = hc_streams_lookup(to);
  if (cam && hc_stream_rtp_out(cam))
    hc_rtp_out_request_keyframe(hc_stream_rtp_out(cam));
  return 0;
}

gboolean
hc_switch_state(const char *name, char **current, char **pending)
{
  Switch *sw;

  g_mutex_lock(&lock);
  sw = switches && hc_streams_lookup(name) ? g_hash_table_lookup(switches, name) : NULL;
  if (sw) {
    *current = g_strdup(sw->cams[sw->current]);
    *pending = sw->pending >= 0 ? g_strdup(sw->cams[sw->pending]) : NULL;
  }
  g_mutex_unlock(&lock);
  return sw != NULL;
}

gboolean
hc_switch_shows(const char *camera)
{
  GHashTableIter it;
  gpointer value;
  gboolean shows = FALSE;

  g_mutex_lock(&lock);
  if (switches) {
    g_hash_table_iter_init(&it, switches);
    while (!shows && g_hash_table_iter_next(&it, NULL, &value)) {
      Switch *sw = value;
      int idx = camera_index(sw, camera);

      shows = idx >= 0 && (idx == sw->current || idx == sw->pending);
    }
  }
  g_mutex_unlock(&lock);
  return shows;
}
