/* Stream pipelines and the stream registry. The source plugin's bin feeds a
 * parser and a tee per track; audio is normalised once to both AAC (HLS,
 * recording) and Opus (WebRTC). Output plugins attach once the tracks are
 * known. Called from main.c (config streams) and http/api_streams.c. */
#define G_LOG_DOMAIN "hc-media"

#include "stream.h"

#include <string.h>

#include "core/error.h"
#include "core/plugins.h"
#include "rtp-out.h"

typedef struct {
  const HcPlugin *plugin;
  gpointer handle;
} Output;

typedef struct {
  HcTrackInfo info; /* guarded by the stream's lock */
  guint64 bytes;    /* atomically increased by the streaming thread */
  guint64 bytes_at_last_tick;
} Track;

struct HcStream {
  char *name;
  char *url;
  gboolean from_config;
  gint state; /* HcStreamState; written on the main thread, read anywhere */
  gint live_queued; /* atomic: a mark_live is queued */
  gboolean removed; /* main thread: the stream left the registry */
  gint64 live_since_us; /* main thread; 0 when not live */
  GMutex lock; /* guards last_error and the track infos */
  char *last_error;
  Track video, audio;

  GstElement *pipeline;
  GstElement *video_tee, *aac_tee, *opus_tee;
  guint bus_watch;
  gboolean outputs_attached;
  GArray *outputs; /* of Output */
  HcRtpOut *rtp_out; /* WebRTC packetiser and rings, NULL until attached */
};

static GHashTable *by_name; /* name -> HcStream*, owns the streams */
static GPtrArray *order;    /* HcStream*, creation order */
static guint max_streams;
static guint tick_source;

const char *
hc_stream_state_name(HcStreamState state)
{
  static const char *const names[] = {"starting", "live", "reconnecting", "idle", "error"};
  return (guint)state < G_N_ELEMENTS(names) ? names[state] : "unknown";
}

gboolean
hc_stream_name_valid(const char *name)
{
  size_t n = name ? strlen(name) : 0;

  if (n < 1 || n > 64)
    return FALSE;
  for (size_t i = 0; i < n; i++)
    if (!g_ascii_isalnum(name[i]) && name[i] != '-' && name[i] != '_')
      return FALSE;
  return TRUE;
}

char *
hc_url_mask(const char *url)
{
  const char *start = strstr(url, "://");
  const char *at, *colon, *slash;

  if (!start)
    return g_strdup(url);
  start += 3;
  slash = strchr(start, '/');
  at = strchr(start, '@');
  if (!at || (slash && at > slash))
    return g_strdup(url);
  colon = memchr(start, ':', at - start);
  if (!colon)
    return g_strdup(url);
  return g_strdup_printf("%.*s***%s", (int)(colon + 1 - url), url, at);
}

static void
set_state(HcStream *s, HcStreamState st)
{
  HcStreamState old = g_atomic_int_get(&s->state);

  if (old == st)
    return;
  g_atomic_int_set(&s->state, st);
  s->live_since_us = st == HC_STREAM_LIVE ? g_get_monotonic_time() : 0;
  g_info("stream %s: %s -> %s", s->name, hc_stream_state_name(old), hc_stream_state_name(st));
}

static void stream_unref(HcStream *s);

static HcStream *
stream_ref(HcStream *s)
{
  return g_atomic_rc_box_acquire(s);
}

/* Main thread, queued by the first buffer of video. Holds a reference. */
static gboolean
mark_live(gpointer data)
{
  HcStream *s = data;

  g_atomic_int_set(&s->live_queued, 0);
  if (!s->removed && (s->state == HC_STREAM_STARTING || s->state == HC_STREAM_RECONNECTING))
    set_state(s, HC_STREAM_LIVE);
  return G_SOURCE_REMOVE;
}

/* Streaming thread: counts bytes and records caps of a track's tee input. */
static GstPadProbeReturn
track_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  HcStream *s = g_object_get_data(G_OBJECT(pad), "hc-stream");
  Track *t = data;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    __atomic_fetch_add(&t->bytes, gst_buffer_get_size(buf), __ATOMIC_RELAXED);
    if (t == &s->video && g_atomic_int_get(&s->state) != HC_STREAM_LIVE &&
        g_atomic_int_compare_and_exchange(&s->live_queued, 0, 1))
      g_idle_add_full(G_PRIORITY_DEFAULT, mark_live, stream_ref(s), (GDestroyNotify)stream_unref);
  } else if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_CAPS) {
    GstCaps *caps;
    const GstStructure *st;
    const char *mt;
    int fn = 0, fd = 1;

    gst_event_parse_caps(GST_PAD_PROBE_INFO_EVENT(info), &caps);
    st = gst_caps_get_structure(caps, 0);
    mt = gst_structure_get_name(st);
    g_mutex_lock(&s->lock);
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
    g_mutex_unlock(&s->lock);
  }
  return GST_PAD_PROBE_OK;
}

static GstElement *
make(GstBin *bin, const char *factory, const char *name)
{
  GstElement *e = gst_element_factory_make(factory, name);

  if (!e) {
    g_warning("missing GStreamer element %s: install its plugin package", factory);
    return NULL;
  }
  gst_bin_add(bin, e);
  return e;
}

/* A tee that never blocks the stream when nothing is linked to it yet. */
static GstElement *
make_tee(HcStream *s, const char *name, Track *t)
{
  GstElement *tee = make(GST_BIN(s->pipeline), "tee", name);
  GstPad *sink;

  if (!tee)
    return NULL;
  g_object_set(tee, "allow-not-linked", TRUE, NULL);
  if (t) {
    sink = gst_element_get_static_pad(tee, "sink");
    g_object_set_data(G_OBJECT(sink), "hc-stream", s);
    gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
                      track_probe, t, NULL);
    gst_object_unref(sink);
  }
  return tee;
}

/* Links src to a chain of new elements "a ! b ! ..." (gst-launch syntax) and
 * returns the last element, synced to the pipeline's state. */
static GstElement *
link_chain(HcStream *s, GstPad *src, const char *desc)
{
  GError *err = NULL;
  GstElement *bin = gst_parse_bin_from_description(desc, TRUE, &err);
  GstPad *sink;

  if (!bin) {
    g_warning("stream %s: cannot build '%s': %s", s->name, desc, err->message);
    g_error_free(err);
    return NULL;
  }
  gst_bin_add(GST_BIN(s->pipeline), bin);
  sink = gst_element_get_static_pad(bin, "sink");
  if (gst_pad_link(src, sink) != GST_PAD_LINK_OK) {
    g_warning("stream %s: cannot link %s", s->name, desc);
    gst_object_unref(sink);
    return NULL;
  }
  gst_object_unref(sink);
  return bin;
}

/* Links element's "src" pad into a tee, then syncs both with the pipeline. */
static gboolean
link_to_tee(HcStream *s, GstElement *chain, GstElement *tee)
{
  if (!chain || !tee || !gst_element_link(chain, tee))
    return FALSE;
  gst_element_sync_state_with_parent(tee);
  gst_element_sync_state_with_parent(chain);
  return TRUE;
}

static GstPad *
tee_branch(GstElement *tee)
{
  return gst_element_request_pad_simple(tee, "src_%u");
}

#define AAC_ENC "audioconvert ! audioresample ! avenc_aac bitrate=128000 ! aacparse"
#define OPUS_ENC                                                                                   \
  "audioconvert ! audioresample ! audio/x-raw,rate=48000,channels=2 ! "                            \
  "opusenc bitrate=64000 frame-size=20 ! opusparse"

/* Builds the audio part for a pad of any supported audio caps. */
static gboolean
link_audio(HcStream *s, GstPad *pad, const char *mt)
{
  GstElement *dec_tee = NULL;
  GstPad *p;
  gboolean ok;

  s->aac_tee = make_tee(s, "aac", &s->audio);
  s->opus_tee = make_tee(s, "opus", NULL);
  if (g_str_equal(mt, "audio/x-raw")) {
    dec_tee = make_tee(s, "audio_raw", NULL);
    ok = link_to_tee(s, link_chain(s, pad, "queue ! audioconvert"), dec_tee);
  } else if (g_str_equal(mt, "audio/mpeg")) {
    ok = link_to_tee(s, link_chain(s, pad, "aacparse"), s->aac_tee);
    if (ok) {
      dec_tee = s->aac_tee;
      /* The decode branch hangs off the AAC tee: AAC goes through untouched. */
      p = tee_branch(dec_tee);
      ok = link_to_tee(s, link_chain(s, p, "queue ! avdec_aac ! " OPUS_ENC), s->opus_tee);
      gst_object_unref(p);
      return ok;
    }
  } else if (g_str_equal(mt, "audio/x-opus")) {
    ok = link_to_tee(s, link_chain(s, pad, "opusparse"), s->opus_tee);
    if (ok) {
      p = tee_branch(s->opus_tee);
      ok = link_to_tee(s, link_chain(s, p, "queue ! opusdec ! " AAC_ENC), s->aac_tee);
      gst_object_unref(p);
      return ok;
    }
  } else {
    g_warning("stream %s: unsupported audio %s", s->name, mt);
    return FALSE;
  }
  if (!ok)
    return FALSE;
  p = tee_branch(dec_tee);
  ok = link_to_tee(s, link_chain(s, p, "queue ! " AAC_ENC), s->aac_tee);
  gst_object_unref(p);
  p = tee_branch(dec_tee);
  ok = ok && link_to_tee(s, link_chain(s, p, "queue ! " OPUS_ENC), s->opus_tee);
  gst_object_unref(p);
  return ok;
}

static void
set_error(HcStream *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
set_error(HcStream *s, const char *fmt, ...)
{
  va_list ap;
  char *msg;

  va_start(ap, fmt);
  msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_warning("stream %s: %s", s->name, msg);
  g_mutex_lock(&s->lock);
  g_free(s->last_error);
  s->last_error = msg;
  g_mutex_unlock(&s->lock);
}

/* Streaming or main thread: a source pad appeared; link it by its name. */
static void
on_source_pad(GstElement *src, GstPad *pad, gpointer data)
{
  HcStream *s = data;
  char *name = gst_pad_get_name(pad);
  GstCaps *caps = gst_pad_query_caps(pad, NULL);
  const char *mt = gst_structure_get_name(gst_caps_get_structure(caps, 0));

  if (g_str_equal(name, "video") && !s->video_tee) {
    s->video_tee = make_tee(s, "video", &s->video);
    if (!link_to_tee(s,
                     link_chain(s, pad,
                                "h264parse config-interval=-1 ! "
                                "capsfilter caps=video/x-h264,stream-format=byte-stream,alignment=au"),
                     s->video_tee))
      set_error(s, "cannot link the video track");
  } else if (g_str_equal(name, "audio") && !s->aac_tee) {
    if (!link_audio(s, pad, mt))
      set_error(s, "cannot link the audio track (%s)", mt);
  } else {
    g_warning("stream %s: source pad %s ignored", s->name, name);
  }
  gst_caps_unref(caps);
  g_free(name);
}

static gboolean
attach_outputs(gpointer data)
{
  HcStream *s = data;
  guint n;
  const HcPlugin **outs = hc_plugins_of_kind(HC_PLUGIN_OUTPUT, &n);
  HcStreamPads pads = {s->name, GST_BIN(s->pipeline), s->video_tee, s->aac_tee, s->opus_tee};

  if (s->outputs_attached || s->removed)
    return G_SOURCE_REMOVE;
  s->outputs_attached = TRUE;
  s->rtp_out = hc_rtp_out_attach(&pads);
  for (guint i = 0; i < n; i++) {
    GError *err = NULL;
    Output o = {outs[i], outs[i]->output_attach(&pads, &err)};

    if (!o.handle) {
      set_error(s, "output %s: %s", outs[i]->name, err ? err->message : "failed");
      g_clear_error(&err);
      continue;
    }
    g_array_append_val(s->outputs, o);
  }
  return G_SOURCE_REMOVE;
}

/* Streaming thread: the source will add no more pads; attach outputs on the main thread. */
static void
on_no_more_pads(GstElement *src, gpointer data)
{
  g_idle_add_full(G_PRIORITY_DEFAULT, attach_outputs, stream_ref(data),
                  (GDestroyNotify)stream_unref);
}

static gboolean
on_bus(GstBus *bus, GstMessage *msg, gpointer data)
{
  HcStream *s = data;
  GError *err = NULL;
  char *dbg = NULL;

  switch (GST_MESSAGE_TYPE(msg)) {
  case GST_MESSAGE_ERROR:
    gst_message_parse_error(msg, &err, &dbg);
    set_error(s, "%s", err->message);
    g_debug("stream %s: %s", s->name, dbg ? dbg : "");
    set_state(s, HC_STREAM_ERROR);
    gst_element_set_state(s->pipeline, GST_STATE_NULL);
    g_error_free(err);
    g_free(dbg);
    break;
  case GST_MESSAGE_WARNING:
    gst_message_parse_warning(msg, &err, &dbg);
    g_warning("stream %s: %s", s->name, err->message);
    g_error_free(err);
    g_free(dbg);
    break;
  case GST_MESSAGE_EOS:
    set_error(s, "the source ended");
    set_state(s, HC_STREAM_IDLE);
    break;
  default:
    break;
  }
  return G_SOURCE_CONTINUE;
}

static void
stream_clear(gpointer p)
{
  HcStream *s = p;

  if (s->pipeline)
    gst_object_unref(s->pipeline);
  g_array_unref(s->outputs);
  g_mutex_clear(&s->lock);
  g_free(s->last_error);
  g_free(s->url);
  g_free(s->name);
}

static void
stream_unref(HcStream *s)
{
  g_atomic_rc_box_release_full(s, stream_clear);
}

/* Main thread: stops the pipeline, detaches the outputs and drops the
 * registry's reference; queued callbacks holding a reference see removed. */
static void
stream_stop(HcStream *s, gboolean remove_files)
{
  s->removed = TRUE;
  if (s->pipeline) {
    gst_element_set_state(s->pipeline, GST_STATE_NULL);
    g_source_remove(s->bus_watch);
  }
  /* Detach after the pipeline stopped, so no data flows into removed files. */
  for (guint i = 0; i < s->outputs->len; i++) {
    Output *o = &g_array_index(s->outputs, Output, i);
    o->plugin->output_detach(o->handle, remove_files);
  }
  g_array_set_size(s->outputs, 0);
  g_clear_pointer(&s->rtp_out, hc_rtp_out_detach);
  stream_unref(s);
}

static gboolean
tick(gpointer data)
{
  gint64 now = g_get_monotonic_time();
  static gint64 last;
  double secs = last ? (now - last) / 1e6 : 1.0;

  last = now;
  for (guint i = 0; i < order->len; i++) {
    HcStream *s = order->pdata[i];
    Track *tracks[] = {&s->video, &s->audio};

    g_mutex_lock(&s->lock);
    for (guint t = 0; t < 2; t++) {
      guint64 b = __atomic_load_n(&tracks[t]->bytes, __ATOMIC_RELAXED);
      double rate = (b - tracks[t]->bytes_at_last_tick) * 8.0 / secs;
      /* Smoothed over a few seconds so the figure does not jump with each GOP. */
      tracks[t]->info.bitrate = tracks[t]->info.bitrate * 0.75 + rate * 0.25;
      tracks[t]->bytes_at_last_tick = b;
    }
    g_mutex_unlock(&s->lock);
  }
  return G_SOURCE_CONTINUE;
}

void
hc_streams_init(guint max)
{
  max_streams = max;
  by_name = g_hash_table_new(g_str_hash, g_str_equal);
  order = g_ptr_array_new();
  tick_source = g_timeout_add_seconds(1, tick, NULL);
}

void
hc_streams_shutdown(void)
{
  if (!by_name)
    return;
  g_source_remove(tick_source);
  for (guint i = order->len; i > 0; i--)
    stream_stop(order->pdata[i - 1], FALSE);
  g_clear_pointer(&order, g_ptr_array_unref);
  g_clear_pointer(&by_name, g_hash_table_unref);
}

/* Builds the pipeline around the plugin's source bin and starts it. */
static gboolean
stream_start(HcStream *s, const HcPlugin *src, GError **error)
{
  GstElement *bin = src->source_create(s->url, error);
  GstBus *bus;
  GstIterator *it;
  GValue v = G_VALUE_INIT;
  gboolean has_pads = FALSE;

  if (!bin)
    return FALSE;
  s->pipeline = gst_pipeline_new(s->name);
  gst_bin_add(GST_BIN(s->pipeline), bin);
  bus = gst_pipeline_get_bus(GST_PIPELINE(s->pipeline));
  s->bus_watch = gst_bus_add_watch(bus, on_bus, s);
  gst_object_unref(bus);

  g_signal_connect(bin, "pad-added", G_CALLBACK(on_source_pad), s);
  g_signal_connect(bin, "no-more-pads", G_CALLBACK(on_no_more_pads), s);
  it = gst_element_iterate_src_pads(bin);
  while (gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
    on_source_pad(bin, g_value_get_object(&v), s);
    has_pads = TRUE;
    g_value_reset(&v);
  }
  g_value_unset(&v);
  gst_iterator_free(it);
  /* A bin with all its pads up front has its tracks known now. */
  if (has_pads)
    attach_outputs(s);
  if (gst_element_set_state(s->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_set_error(error, HC_ERROR, HC_EINTERNAL, "the pipeline of stream %s did not start", s->name);
    return FALSE;
  }
  return TRUE;
}

HcStream *
hc_streams_create(const char *name, const char *url, gboolean from_config, GError **error)
{
  const HcPlugin *src;
  HcStream *s;
  char *masked;
  GError *err = NULL;

  if (!hc_stream_name_valid(name)) {
    g_set_error(error, HC_ERROR, HC_EINVAL, "name must be 1 to 64 of A-Z a-z 0-9 _ -");
    return NULL;
  }
  if (!url || !strstr(url, "://")) {
    g_set_error(error, HC_ERROR, HC_EINVAL, "url must look like scheme://...");
    return NULL;
  }
  src = hc_plugins_source_for(url);
  if (!src) {
    g_set_error(error, HC_ERROR, HC_EUNSUPPORTED, "no source plugin handles the scheme of url");
    return NULL;
  }
  if (src->source_check && !src->source_check(url, &err)) {
    /* Plugins report in their own domains; to clients this is a bad url. */
    g_set_error(error, HC_ERROR, HC_EINVAL, "%s", err->message);
    g_error_free(err);
    return NULL;
  }
  if (g_hash_table_contains(by_name, name)) {
    g_set_error(error, HC_ERROR, HC_EEXISTS, "a stream named %s exists", name);
    return NULL;
  }
  if (order->len >= max_streams) {
    g_set_error(error, HC_ERROR, HC_EFULL, "the gateway runs its maximum of %u streams",
                max_streams);
    return NULL;
  }
  s = g_atomic_rc_box_new0(HcStream);
  s->name = g_strdup(name);
  s->url = g_strdup(url);
  s->from_config = from_config;
  s->outputs = g_array_new(FALSE, TRUE, sizeof(Output));
  g_mutex_init(&s->lock);
  if (!stream_start(s, src, error)) {
    stream_stop(s, TRUE);
    return NULL;
  }
  g_hash_table_insert(by_name, s->name, s);
  g_ptr_array_add(order, s);
  masked = hc_url_mask(url);
  g_info("stream %s: created from %s (%s)", name, masked, from_config ? "config" : "api");
  g_free(masked);
  return s;
}

gboolean
hc_streams_remove(const char *name, GError **error)
{
  HcStream *s = name ? g_hash_table_lookup(by_name, name) : NULL;

  if (!s) {
    g_set_error(error, HC_ERROR, HC_ENOTFOUND, "no stream named %s", name ? name : "");
    return FALSE;
  }
  g_hash_table_remove(by_name, name);
  g_ptr_array_remove(order, s);
  g_info("stream %s: removed", s->name);
  stream_stop(s, TRUE);
  return TRUE;
}

HcStream *
hc_streams_lookup(const char *name)
{
  return by_name && name ? g_hash_table_lookup(by_name, name) : NULL;
}

GPtrArray *
hc_streams_list(void)
{
  return order;
}

HcRtpOut *
hc_stream_rtp_out(HcStream *s)
{
  return s->rtp_out;
}

void
hc_stream_get_info(HcStream *s, HcStreamInfo *out)
{
  gint64 since = s->live_since_us;

  memset(out, 0, sizeof *out);
  out->name = s->name;
  out->url = hc_url_mask(s->url);
  out->origin = s->from_config ? "config" : "api";
  out->state = g_atomic_int_get(&s->state);
  out->uptime_s = since ? (g_get_monotonic_time() - since) / G_USEC_PER_SEC : 0;
  g_mutex_lock(&s->lock);
  out->last_error = g_strdup(s->last_error);
  out->video = s->video.info;
  out->audio = s->audio.info;
  g_mutex_unlock(&s->lock);
}

void
hc_stream_info_clear(HcStreamInfo *info)
{
  g_free(info->url);
  g_free(info->last_error);
}

const char *
hc_stream_name(HcStream *s)
{
  return s->name;
}

gint64
hc_stream_running_time(HcStream *s)
{
  GstClock *clock = s->pipeline ? gst_element_get_clock(s->pipeline) : NULL;
  GstClockTime now, base;

  if (!clock)
    return -1;
  now = gst_clock_get_time(clock);
  base = gst_element_get_base_time(s->pipeline);
  gst_object_unref(clock);
  return GST_CLOCK_TIME_IS_VALID(now) && now >= base ? (gint64)(now - base) : -1;
}
