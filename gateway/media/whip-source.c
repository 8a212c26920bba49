/* The whip:// source (see whip-source.h): a bin per publisher session made
 * through media/source.c like any source's, so the stream's tees, outputs and
 * viewers stay while publishers come and go. The bin gets its "video" and
 * "audio" pads when a publisher attaches, and end-of-stream when it leaves,
 * which source.c turns into a loss: the stream is idle until the next one.
 * Main thread unless a function says otherwise; http/whip.c calls in. */
#define G_LOG_DOMAIN "hc-media"

#include "whip-source.h"

#include <gio/gio.h>
#include <gst/app/gstappsrc.h>
#include <string.h>

#include "fanout.h"
#include "publisher.h"
#include "stream.h"

#define WATCH_MS 100
#define APPSRC_MAX_BYTES (2 * 1024 * 1024)

static GHashTable *inputs; /* stream name -> HcWhipInput* (a reference) */

static void
set_ref(GstElement **slot, GstElement *e)
{
  if (e)
    gst_object_ref(e);
  if (*slot)
    gst_object_unref(*slot);
  *slot = e;
}

HcWhipInput *
hc_whip_input_ref(HcWhipInput *in)
{
  return g_atomic_rc_box_acquire(in);
}

static void
input_clear(gpointer data)
{
  HcWhipInput *in = data;

  if (in->watch)
    g_source_remove(in->watch);
  if (in->owner)
    hc_publisher_unref(in->owner);
  if (in->out)
    hc_rtp_out_unref(in->out);
  set_ref(&in->bin, NULL);
  set_ref(&in->video_src, NULL);
  set_ref(&in->audio_src, NULL);
  g_mutex_clear(&in->lock);
  g_free(in->key);
  g_free(in->stream);
}

void
hc_whip_input_unref(HcWhipInput *in)
{
  g_atomic_rc_box_release_full(in, input_clear);
}

HcWhipInput *
hc_whip_input_lookup(const char *stream)
{
  return inputs && stream ? g_hash_table_lookup(inputs, stream) : NULL;
}

void
hc_whip_input_request_keyframe(HcWhipInput *in)
{
  g_mutex_lock(&in->lock);
  if (in->owner)
    hc_publisher_want_keyframe(in->owner);
  g_mutex_unlock(&in->lock);
}

/* Any thread: a keyframe request travelling up from the stream's packetiser,
 * parser or outputs (GstForceKeyUnit) becomes a PLI to the publisher. */
static GstPadProbeReturn
on_upstream_event(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);

  if (GST_EVENT_TYPE(ev) == GST_EVENT_CUSTOM_UPSTREAM && gst_event_has_name(ev, "GstForceKeyUnit"))
    hc_whip_input_request_keyframe(data);
  return GST_PAD_PROBE_OK;
}

/* Streaming thread: the first video buffer out of the bin. */
static GstPadProbeReturn
on_first_video(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  HcWhipInput *in = data;

  g_atomic_int_set(&in->video_started, 1);
  return GST_PAD_PROBE_REMOVE;
}

/* Adds "appsrc ! rtpjitterbuffer ! depayloader" for one track to bin and a
 * ghost pad named track for it; returns the appsrc (a reference) or NULL. */
static GstElement *
add_track(HcWhipInput *in, GstElement *bin, const char *track, int pt)
{
  gboolean video = strcmp(track, "video") == 0;
  char *desc = g_strdup_printf(
    "appsrc name=src is-live=true format=time do-timestamp=true block=false "
    "max-bytes=%u caps=\"application/x-rtp,media=%s,clock-rate=%d,encoding-name=%s,payload=%d\" ! "
    "rtpjitterbuffer latency=200 ! %s",
    APPSRC_MAX_BYTES, track, video ? 90000 : 48000, video ? "H264" : "OPUS", pt,
    /* The stream's parser and outputs start on a keyframe, and one is
     * asked for when packets are lost for good. */
    video ? "rtph264depay wait-for-keyframe=true request-keyframe=true" : "rtpopusdepay");
  GError *err = NULL;
  GstElement *chain = gst_parse_bin_from_description(desc, TRUE, &err);
  GstElement *src;
  GstPad *pad, *ghost;

  g_free(desc);
  if (!chain) {
    g_warning("stream %s: cannot build the WHIP %s input: %s", in->stream, track, err->message);
    g_error_free(err);
    return NULL;
  }
  src = gst_bin_get_by_name(GST_BIN(chain), "src");
  if (video) {
    /* Requests of the depayloader come up to the appsrc; the stream's come
     * through the ghost pad (below). */
    pad = gst_element_get_static_pad(src, "src");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_upstream_event, in, NULL);
    gst_object_unref(pad);
  }
  gst_bin_add(GST_BIN(bin), chain);
  gst_element_sync_state_with_parent(chain);
  pad = gst_element_get_static_pad(chain, "src");
  ghost = gst_ghost_pad_new(track, pad);
  gst_object_unref(pad);
  if (video) {
    gst_pad_add_probe(ghost, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_upstream_event, in, NULL);
    gst_pad_add_probe(ghost, GST_PAD_PROBE_TYPE_BUFFER, on_first_video, in, NULL);
  }
  gst_pad_set_active(ghost, TRUE);
  gst_element_add_pad(bin, ghost);
  return src;
}

/* Gives the owner's tracks to the waiting bin: its pads appear and the
 * stream links them (its first publisher makes the stream's tracks). */
static void
attach(HcWhipInput *in)
{
  HcPublisher *p = in->owner;
  int vpt = hc_publisher_video_pt(p), apt = hc_publisher_audio_pt(p);
  GstElement *bin = in->bin, *vsrc = NULL, *asrc = NULL;

  in->bin_used = TRUE;
  g_atomic_int_set(&in->video_started, 0);
  if (vpt >= 0)
    vsrc = add_track(in, bin, "video", vpt);
  if (apt >= 0)
    asrc = add_track(in, bin, "audio", apt);
  gst_element_no_more_pads(bin);
  g_mutex_lock(&in->lock);
  set_ref(&in->video_src, vsrc);
  set_ref(&in->audio_src, asrc);
  g_mutex_unlock(&in->lock);
  if (vsrc)
    gst_object_unref(vsrc);
  if (asrc)
    gst_object_unref(asrc);
  /* The depayloader and the stream's parser start on a keyframe. */
  hc_publisher_want_keyframe(p);
  g_info("stream %s: publisher %s attached to the stream's source", in->stream, hc_publisher_id(p));
}

/* Main thread, while there is a publisher: finds the stream's rings (made
 * once the first publisher's tracks are linked) and takes them over from
 * the packetiser; ends the publisher if the stream was removed. */
static gboolean
watch(gpointer data)
{
  HcWhipInput *in = data;
  HcStream *s = hc_streams_lookup(in->stream);
  HcRtpOut *out = s ? hc_stream_rtp_out(s) : NULL, *old;

  if (!in->owner) {
    in->watch = 0;
    return G_SOURCE_REMOVE;
  }
  if (!s) {
    hc_whip_input_stop(in, in->owner, TRUE);
    return G_SOURCE_REMOVE; /* stop cleared in->watch */
  }
  if (out && out != in->out) {
    /* Before any packet of ours reaches the pipeline (the publisher hands on
     * nothing while in->out is NULL), so the rings never have two writers. */
    hc_rtp_out_set_external(out);
    g_mutex_lock(&in->lock);
    old = in->out;
    in->out = hc_rtp_out_ref(out);
    g_mutex_unlock(&in->lock);
    if (old)
      hc_rtp_out_unref(old);
    hc_publisher_want_keyframe(in->owner);
  }
  return G_SOURCE_CONTINUE;
}

void
hc_whip_input_start(HcWhipInput *in, HcPublisher *p)
{
  if (in->owner) {
    g_info("stream %s: publisher %s takes over from %s", in->stream, hc_publisher_id(p),
           hc_publisher_id(in->owner));
    hc_whip_input_stop(in, in->owner, TRUE);
  }
  g_mutex_lock(&in->lock);
  in->owner = hc_publisher_ref(p);
  g_mutex_unlock(&in->lock);
  if (in->bin && !in->bin_used)
    attach(in);
  if (!in->watch)
    in->watch = g_timeout_add(WATCH_MS, watch, in);
  watch(in);
}

void
hc_whip_input_stop(HcWhipInput *in, HcPublisher *p, gboolean remove_peer)
{
  GstElement *vsrc, *asrc;
  int worker;

  if (!p || in->owner != p)
    return;
  g_mutex_lock(&in->lock);
  in->owner = NULL;
  vsrc = in->video_src;
  asrc = in->audio_src;
  in->video_src = in->audio_src = NULL;
  g_mutex_unlock(&in->lock);
  worker = hc_publisher_worker(p);
  if (remove_peer && worker >= 0)
    hc_fanout_remove(worker, hc_publisher_id(p));
  /* End-of-stream through the depayloaders: source.c removes the bin and
   * makes a waiting one, and the stream says idle. */
  if (vsrc) {
    gst_app_src_end_of_stream(GST_APP_SRC(vsrc));
    gst_object_unref(vsrc);
  }
  if (asrc) {
    gst_app_src_end_of_stream(GST_APP_SRC(asrc));
    gst_object_unref(asrc);
  }
  if (in->watch) {
    g_source_remove(in->watch);
    in->watch = 0;
  }
  g_info("stream %s: publisher %s ended", in->stream, hc_publisher_id(p));
  hc_publisher_unref(p);
}

static gboolean
whip_check(const char *url, GError **error)
{
  if (g_ascii_strcasecmp(url, "whip://") != 0 && g_ascii_strcasecmp(url, "whip:///") != 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "WHIP streams are url=whip:// with key=KEY; publishers POST their offer to "
                "/whip/NAME with Authorization: Bearer KEY");
    return FALSE;
  }
  return TRUE;
}

static GstElement *
whip_create(const char *url, GError **error)
{
  g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
              "key: a whip:// stream needs key= (the publisher's Bearer token)");
  return NULL;
}

/* Called by media/source.c for each bin: at start, and after each loss
 * (a publisher left). A publisher waiting for a bin attaches at once. */
static GstElement *
whip_open(HcSourceArgs *args, GError **error)
{
  HcWhipInput *in;
  GstElement *bin;

  if (!whip_check(args->url, error))
    return NULL;
  if (!args->key || !*args->key) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "key: a whip:// stream needs key= (the publisher's Bearer token)");
    return NULL;
  }
  if (!inputs)
    inputs =
      g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)hc_whip_input_unref);
  in = g_hash_table_lookup(inputs, args->stream);
  if (!in) {
    in = g_atomic_rc_box_new0(HcWhipInput);
    in->stream = g_strdup(args->stream);
    g_mutex_init(&in->lock);
    g_hash_table_insert(inputs, in->stream, in);
  }
  g_free(in->key);
  in->key = g_strdup(args->key);
  bin = gst_bin_new(NULL);
  set_ref(&in->bin, bin);
  in->bin_used = FALSE;
  args->waits = TRUE;
  if (in->owner)
    attach(in);
  return bin;
}

static void
whip_shutdown(void)
{
  g_clear_pointer(&inputs, g_hash_table_unref);
}

const HcPlugin hc_whip_source_plugin = {
  .api_version = HC_PLUGIN_API_VERSION,
  .name = "src-whip",
  .description = "browsers and OBS over WHIP (url=whip:// with key=; POST /whip/NAME)",
  .kind = HC_PLUGIN_SOURCE,
  .shutdown = whip_shutdown,
  .scheme = "whip",
  .source_check = whip_check,
  .source_create = whip_create,
  .source_open = whip_open,
};
