/* src-srt: encoders over SRT, MPEG-TS with H.264 and AAC or Opus.
 * srt://:9000?mode=listener[&streamid=ID] waits for an encoder to call (only
 * callers sending that streamid are admitted);
 * srt://host:9000[?mode=caller] calls one. The passphrase is the stream's
 * key= (or [srt] passphrase), never part of the URL. Demuxed with tsdemux;
 * the gateway makes the source again when the encoder leaves or fails. */
#define G_LOG_DOMAIN "hc-src-srt"

#include <gio/gio.h>
#include <hallcast/plugin.h>
#include <string.h>

#include "common/src-pads.h"

static const HcConfigKey keys[] = {
  {"passphrase", HC_CFG_STRING, "", 0, 79, NULL,
   "Default SRT passphrase (10 to 79 characters) of streams without a key=; empty: none."},
  {"latency_ms", HC_CFG_INT, "125", 20, 8000, NULL,
   "SRT receive latency in milliseconds, unless the URL gives latency=."},
  {NULL},
};

static const HcHost *host;

typedef struct {
  char *uri; /* srt://host:port?mode=MODE */
  const char *mode;
  char *streamid;
  gint64 latency;
} Target;

static void
target_clear(Target *t)
{
  g_free(t->uri);
  g_free(t->streamid);
}

static gboolean
fail(GError **error, const char *msg)
{
  g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, msg);
  return FALSE;
}

/* srt://[host]:port[?mode=listener|caller|rendezvous&streamid=..&latency=..] */
static gboolean
parse(const char *url, Target *t, GError **error)
{
  static const char *const modes[] = {"caller", "listener", "rendezvous", NULL};
  GUri *u;
  GHashTable *q = NULL;
  GHashTableIter it;
  gpointer k, v;
  const char *h;
  gboolean ok = FALSE;

  memset(t, 0, sizeof *t);
  if (g_ascii_strncasecmp(url, "srt://", 6) != 0)
    return fail(error, "SRT URLs look like srt://:9000?mode=listener or srt://encoder:9000");
  u = g_uri_parse(url, G_URI_FLAGS_ENCODED_QUERY, NULL);
  if (!u || g_uri_get_port(u) < 1 || (g_uri_get_userinfo(u) && *g_uri_get_userinfo(u))) {
    fail(error, "not a valid SRT URL: expected srt://[host]:port[?mode=listener]");
    goto out;
  }
  h = g_uri_get_host(u) ? g_uri_get_host(u) : "";
  t->mode = *h ? "caller" : "listener";
  t->latency = host ? host->config_int("srt", "latency_ms") : 125;
  q = g_uri_parse_params(g_uri_get_query(u) ? g_uri_get_query(u) : "", -1, "&", G_URI_PARAMS_NONE,
                         NULL);
  if (!q) {
    fail(error, "srt:// query: expected key=value pairs");
    goto out;
  }
  g_hash_table_iter_init(&it, q);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    if (strcmp(k, "mode") == 0) {
      if (!g_strv_contains(modes, v)) {
        fail(error, "srt:// parameter mode: expected listener, caller or rendezvous");
        goto out;
      }
      t->mode = g_intern_string(v);
    } else if (strcmp(k, "streamid") == 0) {
      t->streamid = g_strdup(v);
    } else if (strcmp(k, "latency") == 0) {
      if (!g_ascii_string_to_signed(v, 10, 20, 8000, &t->latency, NULL)) {
        fail(error, "srt:// parameter latency: expected milliseconds from 20 to 8000");
        goto out;
      }
    } else if (strcmp(k, "passphrase") == 0) {
      fail(error, "srt:// takes no passphrase in the URL: set key= of the stream");
      goto out;
    } else {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                  "srt:// has no parameter '%s' (mode, streamid, latency)", (char *)k);
      goto out;
    }
  }
  if (!*h && strcmp(t->mode, "listener") != 0) {
    fail(error, "srt:// in caller or rendezvous mode needs a host: srt://encoder:9000");
    goto out;
  }
  /* srtsrc takes the listener's local address from the URI only when the mode is in it. */
  t->uri = g_strdup_printf("srt://%s:%d?mode=%s", *h ? h : "0.0.0.0", g_uri_get_port(u), t->mode);
  ok = TRUE;
out:
  if (q)
    g_hash_table_unref(q);
  if (u)
    g_uri_unref(u);
  if (!ok)
    target_clear(t);
  return ok;
}

static gboolean
srt_check(const char *url, GError **error)
{
  Target t;

  if (!parse(url, &t, error))
    return FALSE;
  target_clear(&t);
  return TRUE;
}

static gboolean
srt_init(const HcHost *h, GError **error)
{
  host = h;
  return TRUE;
}

#define QUEUE "queue max-size-time=1000000000"

/* What is taken from MPEG-TS: H.264, AAC (ADTS in TS; the stream's AAC track
 * is raw) and Opus. */
static const HcSrcTrack ts_tracks[] = {
  {"video/x-h264", 0, "video", QUEUE, NULL, NULL},
  {"video/x-h265", 0, NULL, NULL, "H.265", "H.264"},
  {"video/", 0, NULL, NULL, NULL, "H.264"},
  {"audio/mpeg", (1u << 2) | (1u << 4), "audio", "aacparse ! audio/mpeg,stream-format=raw ! " QUEUE,
   NULL, NULL},
  {"audio/x-opus", 0, "audio", QUEUE, NULL, NULL},
  {NULL},
};

/* tsdemux's streaming thread. */
static void
on_ts_pad(GstElement *demux, GstPad *pad, gpointer data)
{
  hc_src_take_pad(data, pad, ts_tracks, "SRT", "H.264 video and AAC or Opus audio");
}

/* libsrt's listener thread: a caller is admitted only with the stream's
 * streamid (SRT access control, the callers' "streamid=" option). */
static gboolean
on_caller_connecting(GstElement *src, GSocketAddress *addr, const char *streamid, gpointer data)
{
  const char *want = data;
  char *shown;

  if (g_strcmp0(streamid, want) == 0)
    return TRUE;
  /* What the caller sent, bounded and escaped for the log. */
  shown = g_strescape(streamid ? streamid : "", NULL);
  g_warning("SRT caller refused: streamid '%.64s' is not this stream's", shown);
  g_free(shown);
  return FALSE;
}

static void
on_ts_no_more_pads(GstElement *demux, gpointer data)
{
  gst_element_no_more_pads(GST_ELEMENT(data));
}

static GstElement *
srt_open(HcSourceArgs *args, GError **error)
{
  Target t;
  GstElement *bin, *src, *demux;
  const char *pass = args->key && *args->key ? args->key : host->config_string("srt", "passphrase");
  size_t n = strlen(pass);

  if (n && (n < 10 || n > 79)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "key: an SRT passphrase has 10 to 79 characters");
    return NULL;
  }
  if (!parse(args->url, &t, error))
    return NULL;
  src = gst_element_factory_make("srtsrc", NULL);
  demux = gst_element_factory_make("tsdemux", NULL);
  if (!src || !demux) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                "GStreamer's srtsrc or tsdemux is missing: install gstreamer1.0-plugins-bad");
    if (src)
      gst_object_unref(src);
    if (demux)
      gst_object_unref(demux);
    target_clear(&t);
    return NULL;
  }
  g_object_set(src, "uri", t.uri, "latency", (gint)t.latency, NULL);
  if (t.streamid)
    g_object_set(src, "streamid", t.streamid, NULL);
  if (t.streamid && strcmp(t.mode, "listener") == 0) {
    g_object_set(src, "authentication", TRUE, NULL);
    g_signal_connect_data(src, "caller-connecting", G_CALLBACK(on_caller_connecting),
                          g_strdup(t.streamid), (GClosureNotify)(void (*)(void))g_free, 0);
  }
  if (n)
    g_object_set(src, "passphrase", pass, NULL);
  /* Timestamps follow the pipeline clock (live), so a new encoder session
   * continues the stream's timeline. */
  g_object_set(src, "do-timestamp", TRUE, NULL);
  bin = gst_bin_new(NULL);
  gst_bin_add_many(GST_BIN(bin), src, demux, NULL);
  gst_element_link(src, demux);
  g_signal_connect(demux, "pad-added", G_CALLBACK(on_ts_pad), bin);
  g_signal_connect(demux, "no-more-pads", G_CALLBACK(on_ts_no_more_pads), bin);
  args->waits = strcmp(t.mode, "listener") == 0;
  target_clear(&t);
  return bin;
}

HC_PLUGIN_DEFINE = {
  .api_version = HC_PLUGIN_API_VERSION,
  .name = "src-srt",
  .description = "encoders over SRT, MPEG-TS (srt://:9000?mode=listener)",
  .kind = HC_PLUGIN_SOURCE,
  .config_group = "srt",
  .config_keys = keys,
  .init = srt_init,
  .scheme = "srt",
  .source_check = srt_check,
  .source_open = srt_open,
};
