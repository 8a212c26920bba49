/* Stream pipelines and the stream registry. The source plugin's bin feeds a
 * parser and a tee per track; audio is normalised once to both AAC (HLS,
 * recording) and Opus (WebRTC; transcoded only while taken, opus-gate.c).
 * Output plugins attach once the tracks are
 * known. Called from main.c (config streams) and http/api_streams.c. */
#define G_LOG_DOMAIN "hc-media"

#include "stream.h"

#include <string.h>

#include "core/error.h"
#include "core/plugins.h"
#include "health.h"
#include "opus-gate.h"
#include "rtp-out.h"
#include "source.h"

/* Seconds without media before a live source counts as lost, and before a
 * source that never delivered does (cameras may take a while to answer). */
#define STALL_LIVE_S 5
#define STALL_START_S 20

typedef struct {
  const HcPlugin *plugin;
  gpointer handle;
} Output;

struct HcStream {
  char *name;
  char *url;
  char *key; /* publish key, a secret: never logged */
  gboolean from_config;
  gint state;           /* HcStreamState; written on the main thread, read anywhere */
  gint live_queued;     /* atomic: a mark_live is queued */
  gint audio_only;      /* atomic: the tracks are known and there is no video */
  gboolean removed;     /* main thread: the stream left the registry */
  gint64 live_since_us; /* main thread; 0 when not live */
  HcHealth health;      /* figures for the API, last error */

  GstElement *pipeline;
  HcSource *source;
  /* The first pad of each track's chain: a source made again after a loss
   * links here, so the tees and outputs behind never change. */
  GstPad *video_head, *audio_head;
  char *audio_type; /* media type the audio chain was built for */
  guint stalled_s;  /* main thread: seconds without media */
  GstElement *video_tee, *aac_tee, *opus_tee;
  guint bus_watch;
  gboolean outputs_attached;
  GArray *outputs;   /* of Output */
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

/* Main thread, queued by the first buffer of video (of audio in a stream
 * without video). Holds a reference. */
static gboolean
mark_live(gpointer data)
{
  HcStream *s = data;

  g_atomic_int_set(&s->live_queued, 0);
  /* Live means watchable: a source whose media flows before its last track
   * appeared (a camera over TCP, with no jitter buffer holding the first
   * packets) waits for the outputs; the next buffer asks again. */
  if (s->removed || !s->outputs_attached)
    return G_SOURCE_REMOVE;
  if (s->state == HC_STREAM_STARTING || s->state == HC_STREAM_RECONNECTING ||
      s->state == HC_STREAM_IDLE)
    set_state(s, HC_STREAM_LIVE);
  if (s->source)
    hc_source_ok(s->source);
  return G_SOURCE_REMOVE;
}

/* Streaming thread: counts bytes and records caps of a track's tee input;
 * the first buffer of the lead track (video, else audio) makes the stream live. */
static GstPadProbeReturn
track_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  HcStream *s = g_object_get_data(G_OBJECT(pad), "hc-stream");
  HcHealthTrack *t = data;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    hc_health_count(&s->health, t, GST_PAD_PROBE_INFO_BUFFER(info));
    if ((t == &s->health.video || g_atomic_int_get(&s->audio_only)) &&
        g_atomic_int_get(&s->state) != HC_STREAM_LIVE &&
        g_atomic_int_compare_and_exchange(&s->live_queued, 0, 1))
      g_idle_add_full(G_PRIORITY_DEFAULT, mark_live, stream_ref(s), (GDestroyNotify)stream_unref);
  } else if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_CAPS) {
    GstCaps *caps;

    gst_event_parse_caps(GST_PAD_PROBE_INFO_EVENT(info), &caps);
    hc_health_caps(&s->health, t, caps);
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
make_tee(HcStream *s, const char *name, HcHealthTrack *t)
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
  /* Marked, so that an error inside it counts as the source's (see on_bus). */
  g_object_set_data(G_OBJECT(bin), "hc-chain", GINT_TO_POINTER(1));
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

  s->aac_tee = make_tee(s, "aac", &s->health.audio);
  s->opus_tee = make_tee(s, "opus", NULL);
  if (g_str_equal(mt, "audio/x-raw")) {
    dec_tee = make_tee(s, "audio_raw", NULL);
    ok = link_to_tee(s, link_chain(s, pad, "queue ! audioconvert"), dec_tee);
  } else if (g_str_equal(mt, "audio/mpeg")) {
    ok = link_to_tee(s, link_chain(s, pad, "aacparse"), s->aac_tee);
    if (ok) {
      dec_tee = s->aac_tee;
      /* The decode branch hangs off the AAC tee: AAC goes through untouched.
       * It runs only while someone takes Opus. */
      p = tee_branch(dec_tee);
      hc_opus_gate_attach(p, s);
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
  hc_opus_gate_attach(p, s);
  ok = ok && link_to_tee(s, link_chain(s, p, "queue ! " OPUS_ENC), s->opus_tee);
  gst_object_unref(p);
  return ok;
}

static void set_error(HcStream *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void
set_error(HcStream *s, const char *fmt, ...)
{
  va_list ap;
  char *msg;

  va_start(ap, fmt);
  msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_warning("stream %s: %s", s->name, msg);
  hc_health_set_error(&s->health, msg);
}

/* Links a pad of a source made again to the chain its track had. */
static void
relink(HcStream *s, GstPad *pad, GstPad *head, const char *track)
{
  GstPad *old = gst_pad_get_peer(head);

  /* The bin of the lost source was removed, which unlinked it. */
  if (old) {
    gst_pad_unlink(old, head);
    gst_object_unref(old);
  }
  if (gst_pad_link(pad, head) != GST_PAD_LINK_OK)
    set_error(s, "cannot link the %s track of the source made again", track);
}

/* The media type of a pad's caps, or "" if they are not known yet. */
static char *
pad_media_type(GstPad *pad)
{
  GstCaps *caps = gst_pad_get_current_caps(pad);
  char *mt;

  if (!caps)
    caps = gst_pad_query_caps(pad, NULL);
  mt = caps && !gst_caps_is_any(caps) && !gst_caps_is_empty(caps)
         ? g_strdup(gst_structure_get_name(gst_caps_get_structure(caps, 0)))
         : g_strdup("");
  if (caps)
    gst_caps_unref(caps);
  return mt;
}

/* Streaming or main thread: a source pad appeared; link it by its name, to
 * the track's existing chain when the source was made again after a loss. */
static void
on_source_pad(GstPad *pad, gpointer data)
{
  HcStream *s = data;
  char *name = gst_pad_get_name(pad);
  char *mt = pad_media_type(pad);

  if (g_str_equal(name, "video") && s->video_head) {
    relink(s, pad, s->video_head, "video");
  } else if (g_str_equal(name, "audio") && s->audio_head) {
    if (g_strcmp0(mt, s->audio_type) == 0)
      relink(s, pad, s->audio_head, "audio");
    else
      set_error(s, "the audio of the source changed from %s to %s: audio left out", s->audio_type,
                mt);
  } else if (g_str_equal(name, "video") && !s->video_tee) {
    s->video_tee = make_tee(s, "video", &s->health.video);
    if (!link_to_tee(
          s,
          link_chain(s, pad,
                     "h264parse config-interval=-1 ! "
                     "capsfilter caps=video/x-h264,stream-format=byte-stream,alignment=au"),
          s->video_tee))
      set_error(s, "cannot link the video track");
    s->video_head = gst_pad_get_peer(pad);
  } else if (g_str_equal(name, "audio") && !s->aac_tee) {
    if (!link_audio(s, pad, mt))
      set_error(s, "cannot link the audio track (%s)", mt);
    s->audio_head = gst_pad_get_peer(pad);
    s->audio_type = g_strdup(mt);
  } else {
    g_warning("stream %s: source pad %s ignored", s->name, name);
  }
  g_free(mt);
  g_free(name);
}

/* Main thread, while outputs join a pipeline that may be running already
 * (sources whose tracks appear late). A sink that must preroll would take the
 * whole pipeline back to PAUSED, where the sinks already there block the
 * tees, so the new one might never preroll: a stalled stream. Bins added now
 * handle their own asynchronous state changes instead. */
static void
on_output_added(GstBin *pipeline, GstElement *e, gpointer data)
{
  if (GST_IS_BIN(e))
    g_object_set(e, "async-handling", TRUE, NULL);
  else if (g_object_class_find_property(G_OBJECT_GET_CLASS(e), "async"))
    g_object_set(e, "async", FALSE, NULL);
}

static GstPadProbeReturn
hold(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  return GST_PAD_PROBE_OK;
}

/* Holds (on) or releases the data entering the tees. A branch linked to a
 * tee before its elements are started answers FLUSHING, which would stop the
 * source's streaming threads for good; outputs attach while data is held. */
static void
hold_tees(HcStream *s, gulong ids[3], gboolean on)
{
  GstElement *tees[3] = {s->video_tee, s->aac_tee, s->opus_tee};

  for (guint i = 0; i < 3; i++) {
    GstPad *sink = tees[i] ? gst_element_get_static_pad(tees[i], "sink") : NULL;

    if (!sink)
      continue;
    if (on)
      ids[i] = gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM, hold, NULL, NULL);
    else if (ids[i])
      gst_pad_remove_probe(sink, ids[i]);
    gst_object_unref(sink);
  }
}

static gboolean
attach_outputs(gpointer data)
{
  HcStream *s = data;
  guint n;
  const HcPlugin **outs = hc_plugins_of_kind(HC_PLUGIN_OUTPUT, &n);
  HcStreamPads pads = {s->name, GST_BIN(s->pipeline), s->video_tee, s->aac_tee, s->opus_tee};
  gulong added, held[3] = {0, 0, 0};

  /* Without any track yet (the source failed first), a later source attaches. */
  if (s->outputs_attached || s->removed || (!s->video_tee && !s->aac_tee))
    return G_SOURCE_REMOVE;
  s->outputs_attached = TRUE;
  /* From now on audio alone makes the stream live (a microphone on an encoder). */
  g_atomic_int_set(&s->audio_only, s->video_tee == NULL);
  hold_tees(s, held, TRUE);
  added = g_signal_connect(s->pipeline, "element-added", G_CALLBACK(on_output_added), NULL);
  /* Read by the Opus gate in a streaming thread. */
  g_atomic_pointer_set(&s->rtp_out, hc_rtp_out_attach(&pads));
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
  g_signal_handler_disconnect(s->pipeline, added);
  hold_tees(s, held, FALSE);
  return G_SOURCE_REMOVE;
}

/* Streaming thread: the source will add no more pads; attach outputs on the main thread. */
static void
on_no_more_pads(gpointer data)
{
  g_idle_add_full(G_PRIORITY_DEFAULT, attach_outputs, stream_ref(data),
                  (GDestroyNotify)stream_unref);
}

/* Main thread: the source failed or ended and is made again after delay_ms;
 * the tees and outputs keep running, so viewers stay connected. */
static void
on_source_lost(const char *why, guint delay_ms, gpointer data)
{
  HcStream *s = data;

  s->stalled_s = 0;
  set_error(s, "%s", why);
  g_info("stream %s: source lost, next try in %.1f s", s->name, delay_ms / 1000.0);
  if (!s->removed)
    set_state(s, hc_source_waits(s->source) ? HC_STREAM_IDLE : HC_STREAM_RECONNECTING);
}

/* Main thread: a listener made again after a loss (its port was taken)
 * waits for its publisher. */
static void
on_source_waiting(gpointer data)
{
  HcStream *s = data;

  if (!s->removed && s->state == HC_STREAM_RECONNECTING)
    set_state(s, HC_STREAM_IDLE);
}

static const HcSourceCallbacks source_callbacks = {on_source_pad, on_no_more_pads, on_source_lost,
                                                   on_source_waiting};

/* TRUE if obj is inside a track's chain (parsers and transcoders before the tees). */
static gboolean
in_chain(GstObject *obj)
{
  GstObject *o = gst_object_ref(obj);
  gboolean chain = FALSE;

  while (o && !chain) {
    GstObject *parent = gst_object_get_parent(o);

    chain = g_object_get_data(G_OBJECT(o), "hc-chain") != NULL;
    gst_object_unref(o);
    o = parent;
  }
  if (o)
    gst_object_unref(o);
  return chain;
}

static gboolean
on_bus(GstBus *bus, GstMessage *msg, gpointer data)
{
  HcStream *s = data;
  GError *err = NULL;
  char *dbg = NULL, *masked;

  if (s->source && hc_source_handle_message(s->source, msg))
    return G_SOURCE_CONTINUE;
  switch (GST_MESSAGE_TYPE(msg)) {
  case GST_MESSAGE_ERROR:
    gst_message_parse_error(msg, &err, &dbg);
    masked = hc_source_mask_text(dbg ? dbg : "");
    g_debug("stream %s: %s", s->name, masked);
    g_free(masked);
    if (s->source && in_chain(GST_MESSAGE_SRC(msg))) {
      /* What the source sent broke a parser or decoder: start the source again. */
      hc_source_lost(s->source, err->message);
    } else {
      set_error(s, "%s", err->message);
      set_state(s, HC_STREAM_ERROR);
      gst_element_set_state(s->pipeline, GST_STATE_NULL);
    }
    g_error_free(err);
    g_free(dbg);
    break;
  case GST_MESSAGE_WARNING:
    gst_message_parse_warning(msg, &err, &dbg);
    masked = hc_source_mask_text(err->message);
    g_warning("stream %s: %s", s->name, masked);
    g_free(masked);
    g_error_free(err);
    g_free(dbg);
    break;
  case GST_MESSAGE_STATE_CHANGED:
    if (GST_MESSAGE_SRC(msg) == GST_OBJECT(s->pipeline)) {
      GstState old, cur;
      gst_message_parse_state_changed(msg, &old, &cur, NULL);
      g_debug("stream %s: pipeline %s -> %s", s->name, gst_element_state_get_name(old),
              gst_element_state_get_name(cur));
    }
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

  hc_source_free(s->source);
  if (s->video_head)
    gst_object_unref(s->video_head);
  if (s->audio_head)
    gst_object_unref(s->audio_head);
  if (s->pipeline)
    gst_object_unref(s->pipeline);
  g_array_unref(s->outputs);
  hc_health_clear(&s->health);
  g_free(s->audio_type);
  g_free(s->key);
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
  /* The source's state is its own (locked): stop it after the rest, which
   * frees any of its threads blocked downstream, and before a retry could add
   * a source to the stopped pipeline. */
  g_clear_pointer(&s->source, hc_source_free);
  /* Detach after the pipeline stopped, so no data flows into removed files. */
  for (guint i = 0; i < s->outputs->len; i++) {
    Output *o = &g_array_index(s->outputs, Output, i);
    o->plugin->output_detach(o->handle, remove_files);
  }
  g_array_set_size(s->outputs, 0);
  g_clear_pointer(&s->rtp_out, hc_rtp_out_detach);
  stream_unref(s);
}

/* Main thread, every second: a source that sends nothing any more (a camera
 * that hangs without closing its connection) counts as lost. A source that
 * waits for a publisher may be silent while it has none. */
static void
check_stall(HcStream *s, gboolean moved, double secs)
{
  HcStreamState st = g_atomic_int_get(&s->state);
  guint limit = st == HC_STREAM_LIVE ? STALL_LIVE_S : STALL_START_S;
  char *why;

  if (moved || !s->source || st == HC_STREAM_ERROR ||
      (st == HC_STREAM_IDLE && hc_source_waits(s->source))) {
    s->stalled_s = 0;
    return;
  }
  s->stalled_s += (guint)(secs + 0.5);
  if (s->stalled_s < limit)
    return;
  why = g_strdup_printf("no media from the source for %u s", s->stalled_s);
  s->stalled_s = 0;
  hc_source_lost(s->source, why);
  g_free(why);
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

    check_stall(s, hc_health_tick(&s->health, secs), secs);
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

/* Builds the pipeline around the plugin's source bin and starts it. A source
 * that cannot start now (a listener's port in use) is retried like a lost one. */
static gboolean
stream_start(HcStream *s, const HcPlugin *plugin, GError **error)
{
  GstBus *bus;
  GError *err = NULL;
  gboolean has_pads = FALSE, ok = FALSE;

  s->pipeline = gst_pipeline_new(s->name);
  bus = gst_pipeline_get_bus(GST_PIPELINE(s->pipeline));
  s->bus_watch = gst_bus_add_watch(bus, on_bus, s);
  s->source =
    hc_source_new(GST_BIN(s->pipeline), plugin, s->name, s->url, s->key, &source_callbacks, s);
  if (!hc_source_open(s->source, &has_pads, &err)) {
    /* Plugins report in their own domains; to clients this is a bad value. */
    g_set_error(error, HC_ERROR, HC_EINVAL, "%s", err ? err->message : "the source failed");
    g_clear_error(&err);
    goto out;
  }
  if (hc_source_waits(s->source))
    set_state(s, HC_STREAM_IDLE);
  /* A bin with all its pads up front has its tracks known now. */
  if (has_pads)
    attach_outputs(s);
  if (gst_element_set_state(s->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    g_set_error(error, HC_ERROR, HC_EINTERNAL, "the pipeline of stream %s did not start", s->name);
    goto out;
  }
  hc_source_play(s->source);
  ok = TRUE;
out:
  gst_object_unref(bus);
  return ok;
}

HcStream *
hc_streams_create(const char *name, const char *url, gboolean from_config, GError **error)
{
  return hc_streams_create_with_key(name, url, NULL, from_config, error);
}

HcStream *
hc_streams_create_with_key(const char *name, const char *url, const char *key, gboolean from_config,
                           GError **error)
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
  s->key = g_strdup(key ? key : "");
  s->from_config = from_config;
  s->outputs = g_array_new(FALSE, TRUE, sizeof(Output));
  hc_health_init(&s->health);
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
  return g_atomic_pointer_get(&s->rtp_out);
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
  out->reconnects = s->source ? hc_source_reconnects(s->source) : 0;
  hc_health_get(&s->health, out);
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
