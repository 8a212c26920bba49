/* sink-hls: HLS (MPEG-TS segments, sliding window) for every stream at
 * <data_dir>/hls/NAME/index.m3u8, served by the gateway at /hls/NAME/. Attached
 * by media/stream.c to the video and AAC tees once a stream's tracks are known. */
#define G_LOG_DOMAIN "hc-sink-hls"

#include <errno.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <hallcast/plugin.h>
#include <string.h>

#include "common/gst-util.h"

static const HcConfigKey keys[] = {
  {"enabled", HC_CFG_BOOL, "true", 0, 0, NULL, "Write HLS for every stream."},
  {"segment_duration", HC_CFG_INT, "2", 1, 10, NULL,
   "Target segment length in seconds (segments cut on keyframes)."},
  {"window", HC_CFG_INT, "6", 3, 100, NULL, "Segments listed in the playlist."},
  {NULL},
};

/* Up to 3 s of media waits for the other track (muxing interleaves them).
 * Leaky: when one track stops (a camera whose video dies while its
 * microphone goes on), the muxer waits for it and the other track's queue
 * fills up; it then drops its oldest data instead of blocking the stream's
 * tee, which would stop that track for WebRTC and every other output too. */
#define QUEUE_LIMITS "max-size-time=3000000000 max-size-bytes=0 max-size-buffers=0 leaky=downstream"

typedef struct {
  char *dir;
  GstBin *pipeline;
  GstElement *bin;
} Hls;

static const HcHost *host;

static gboolean
hls_init(const HcHost *h, GError **error)
{
  host = h;
  return TRUE;
}

/* Removes the files of a stream's HLS folder, then the folder. */
static void
remove_dir(const char *dir)
{
  GDir *d = g_dir_open(dir, 0, NULL);
  const char *n;

  if (!d)
    return;
  while ((n = g_dir_read_name(d))) {
    char *f = g_build_filename(dir, n, NULL);
    if (g_unlink(f) != 0)
      g_warning("cannot remove %s: %s", f, g_strerror(errno));
    g_free(f);
  }
  g_dir_close(d);
  g_rmdir(dir);
}

static gboolean
link_tee(GstElement *tee, GstElement *bin, const char *pad_name)
{
  GstPad *src = gst_element_request_pad_simple(tee, "src_%u");
  GstPad *sink = gst_element_get_static_pad(bin, pad_name);
  gboolean ok = src && sink && gst_pad_link(src, sink) == GST_PAD_LINK_OK;

  if (src)
    gst_object_unref(src);
  if (sink)
    gst_object_unref(sink);
  return ok;
}

static gpointer
hls_attach(const HcStreamPads *s, GError **error)
{
  Hls *h;
  char *desc, *seg, *playlist;
  gint64 window = host->config_int("hls", "window");

  if (!host->config_bool("hls", "enabled"))
    return GINT_TO_POINTER(1); /* a handle that does nothing */
  if (!s->video_tee && !s->aac_tee) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "HLS needs a video or an AAC track");
    return NULL;
  }
  h = g_new0(Hls, 1);
  h->dir = g_build_filename(host->data_dir, "hls", s->name, NULL);
  remove_dir(h->dir); /* segments of an earlier run */
  if (g_mkdir_with_parents(h->dir, 0755) != 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot create %s: %s", h->dir,
                g_strerror(errno));
    goto fail;
  }
  /* Segment names carry the start time, so a cache never mixes two runs. */
  seg = g_strdup_printf("%s/seg-%" G_GINT64_FORMAT "-%%05d.ts", h->dir, g_get_real_time() / 1000);
  playlist = g_build_filename(h->dir, "index.m3u8", NULL);
  /* Video cuts segments on its keyframes; an audio-only stream (a microphone
   * on an encoder) is cut by time. */
  desc = g_strdup_printf(
    "hlssink2 name=hls location=\"%s\" playlist-location=\"%s\" target-duration=%" G_GINT64_FORMAT
    " playlist-length=%" G_GINT64_FORMAT " max-files=%" G_GINT64_FORMAT
    " send-keyframe-requests=false %s %s",
    seg, playlist, host->config_int("hls", "segment_duration"), window, window + 3,
    s->video_tee ? "queue name=vq " QUEUE_LIMITS " ! hls.video" : "",
    s->aac_tee ? "queue name=aq " QUEUE_LIMITS " ! hls.audio" : "");
  g_free(seg);
  g_free(playlist);
  h->bin = gst_parse_bin_from_description(desc, FALSE, error);
  g_free(desc);
  if (!h->bin)
    goto fail;
  if (s->video_tee)
    hc_gst_ghost(h->bin, "vq", "sink", "video");
  if (s->aac_tee)
    hc_gst_ghost(h->bin, "aq", "sink", "audio");
  h->pipeline = s->pipeline;
  gst_bin_add(s->pipeline, h->bin);
  if ((s->video_tee && !link_tee(s->video_tee, h->bin, "video")) ||
      (s->aac_tee && !link_tee(s->aac_tee, h->bin, "audio"))) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot link HLS to the stream's tracks");
    gst_bin_remove(s->pipeline, h->bin);
    h->bin = NULL;
    goto fail;
  }
  gst_element_sync_state_with_parent(h->bin);
  g_info("stream %s: HLS in %s", s->name, h->dir);
  return h;
fail:
  g_free(h->dir);
  g_free(h);
  return NULL;
}

static void
hls_detach(gpointer handle, gboolean remove_files)
{
  Hls *h = handle;

  if (handle == GINT_TO_POINTER(1))
    return;
  if (remove_files)
    remove_dir(h->dir);
  g_free(h->dir);
  g_free(h);
}

HC_PLUGIN_DEFINE = {
  .api_version = HC_PLUGIN_API_VERSION,
  .name = "sink-hls",
  .description = "HLS output (MPEG-TS segments) at /hls/NAME/index.m3u8",
  .kind = HC_PLUGIN_OUTPUT,
  .config_group = "hls",
  .config_keys = keys,
  .init = hls_init,
  .output_attach = hls_attach,
  .output_detach = hls_detach,
};
