/* src-rtmp: encoders (OBS, hardware) publishing over RTMP. A stream with
 * url=rtmp:// and key=KEY receives what is published to
 * rtmp://gateway:PORT/APP/KEY; its source is an appsrc of FLV fed by our own
 * small RTMP server (rtmp-server.c, rtmp-proto.c: GStreamer has no RTMP
 * server element) and demuxed by flvdemux. */
#define G_LOG_DOMAIN "hc-src-rtmp"

#include <gio/gio.h>
#include <hallcast/plugin.h>
#include <string.h>

#include "common/src-pads.h"
#include "rtmp-server.h"

static const HcConfigKey keys[] = {
  {"address", HC_CFG_STRING, "0.0.0.0", 1, 64, NULL,
   "Address the RTMP server listens on (it starts with the first rtmp:// stream)."},
  {"port", HC_CFG_INT, "1935", 1, 65535, NULL, "TCP port of the RTMP server."},
  {"app", HC_CFG_STRING, "live", 1, 64, NULL,
   "Application name in publish URLs: rtmp://HOST:PORT/APP/KEY."},
  {"max_connections", HC_CFG_INT, "32", 1, 1024, NULL,
   "Most RTMP connections at once (publishers and handshakes)."},
  {NULL},
};

static const HcHost *host;

static gboolean
rtmp_check(const char *url, GError **error)
{
  if (g_ascii_strcasecmp(url, "rtmp://") != 0 && g_ascii_strcasecmp(url, "rtmp:///") != 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "RTMP streams are url=rtmp:// with key=KEY; encoders publish to "
                "rtmp://gateway:1935/live/KEY");
    return FALSE;
  }
  return TRUE;
}

static gboolean
rtmp_init(const HcHost *h, GError **error)
{
  host = h;
  return TRUE;
}

static void
rtmp_shutdown(void)
{
  hc_rtmp_server_stop();
}

/* The bin's tracks are complete when every track the FLV header announced
 * has its pad (flvdemux itself only says so when it has both). */
static void
maybe_no_more_pads(GstElement *bin)
{
  int tracks = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(bin), "hc-rtmp-tracks"));
  GstPad *v = gst_element_get_static_pad(bin, "video");
  GstPad *a = gst_element_get_static_pad(bin, "audio");
  gboolean done = tracks && (!(tracks & 1) || v) && (!(tracks & 4) || a);

  if (v)
    gst_object_unref(v);
  if (a)
    gst_object_unref(a);
  if (done && !g_object_get_data(G_OBJECT(bin), "hc-rtmp-done")) {
    g_object_set_data(G_OBJECT(bin), "hc-rtmp-done", GINT_TO_POINTER(1));
    gst_element_no_more_pads(bin);
  }
}

#define QUEUE "queue max-size-time=1000000000"

/* What is taken from FLV: H.264 and AAC. */
static const HcSrcTrack flv_tracks[] = {
  {"video/x-h264", 0, "video", QUEUE, NULL, NULL},
  {"video/", 0, NULL, NULL, NULL, "H.264"},
  {"audio/mpeg", 1u << 4, "audio", QUEUE, NULL, NULL},
  {NULL},
};

/* flvdemux's streaming thread. */
static void
on_flv_pad(GstElement *demux, GstPad *pad, gpointer data)
{
  GstElement *bin = data;

  hc_src_take_pad(bin, pad, flv_tracks, "RTMP", "H.264 video and AAC audio");
  maybe_no_more_pads(bin);
}

static void
on_flv_no_more_pads(GstElement *demux, gpointer data)
{
  GstElement *bin = data;

  if (!g_object_get_data(G_OBJECT(bin), "hc-rtmp-done")) {
    g_object_set_data(G_OBJECT(bin), "hc-rtmp-done", GINT_TO_POINTER(1));
    gst_element_no_more_pads(bin);
  }
}

static GstElement *
rtmp_open(HcSourceArgs *args, GError **error)
{
  HcRtmpServerConfig cfg = {
    host->config_string("rtmp", "address"),
    (guint)host->config_int("rtmp", "port"),
    host->config_string("rtmp", "app"),
    (guint)host->config_int("rtmp", "max_connections"),
  };
  GstElement *bin, *src, *demux;
  GstCaps *caps;

  if (!rtmp_check(args->url, error))
    return NULL;
  if (!args->key || !*args->key || strpbrk(args->key, "/?")) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "key: an rtmp:// stream needs key= (the stream key, without / or ?)");
    return NULL;
  }
  /* The key is the stream's before the port is: a port taken by another
   * program is retried, and the key must stay refused to others meanwhile. */
  if (!hc_rtmp_server_claim(args->key, args->stream, error) || !hc_rtmp_server_start(&cfg, error))
    return NULL;
  src = gst_element_factory_make("appsrc", NULL);
  demux = gst_element_factory_make("flvdemux", NULL);
  if (!src || !demux) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                "GStreamer's appsrc or flvdemux is missing: install gstreamer1.0-plugins-good");
    if (src)
      gst_object_unref(src);
    if (demux)
      gst_object_unref(demux);
    return NULL;
  }
  caps = gst_caps_new_empty_simple("video/x-flv");
  /* Bounded: a publisher faster than the pipeline loses its oldest tags. */
  g_object_set(src, "is-live", TRUE, "caps", caps, "max-bytes", (guint64)(4 * 1024 * 1024), "block",
               FALSE, NULL);
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(src), "leaky-type"))
    gst_util_set_object_arg(G_OBJECT(src), "leaky-type", "downstream");
  gst_caps_unref(caps);
  bin = gst_bin_new(NULL);
  gst_bin_add_many(GST_BIN(bin), src, demux, NULL);
  gst_element_link(src, demux);
  g_signal_connect(demux, "pad-added", G_CALLBACK(on_flv_pad), bin);
  g_signal_connect(demux, "no-more-pads", G_CALLBACK(on_flv_no_more_pads), bin);
  if (!hc_rtmp_server_route(args->key, args->stream, bin, src, error)) {
    gst_object_unref(gst_object_ref_sink(bin));
    return NULL;
  }
  args->waits = TRUE;
  return bin;
}

static void
rtmp_release(const char *stream)
{
  hc_rtmp_server_release(stream);
}

HC_PLUGIN_DEFINE = {
  .api_version = HC_PLUGIN_API_VERSION,
  .name = "src-rtmp",
  .description = "encoders over RTMP (url=rtmp:// with key=; publish to rtmp://HOST/live/KEY)",
  .kind = HC_PLUGIN_SOURCE,
  .config_group = "rtmp",
  .config_keys = keys,
  .init = rtmp_init,
  .shutdown = rtmp_shutdown,
  .scheme = "rtmp",
  .source_check = rtmp_check,
  .source_open = rtmp_open,
  .source_release = rtmp_release,
};
