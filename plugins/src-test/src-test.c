/* src-test: the built-in test stream (test://), a moving pattern with its
 * running time burnt in, H.264 via x264enc, and a tone. The embedded default
 * stream and the source most tests use. URL parameters (all optional):
 * pattern, width, height, fps, bitrate (kbit/s), freq (Hz), audio (true|false). */
#define G_LOG_DOMAIN "hc-src-test"

#include <gio/gio.h>
#include <hallcast/plugin.h>
#include <string.h>

#include "common/gst-util.h"

typedef struct {
  const char *pattern;
  gint64 width, height, fps, bitrate, freq;
  gboolean audio;
} Params;

static const char *const patterns[] = {"ball",     "smpte",      "snow",     "bar",
                                       "pinwheel", "spokes",     "gradient", "colors",
                                       "circular", "zone-plate", NULL};

static const struct {
  const char *name;
  gsize offset;
  gint64 min, max;
} ints[] = {
  {"width", G_STRUCT_OFFSET(Params, width), 16, 3840},
  {"height", G_STRUCT_OFFSET(Params, height), 16, 2160},
  {"fps", G_STRUCT_OFFSET(Params, fps), 1, 60},
  {"bitrate", G_STRUCT_OFFSET(Params, bitrate), 100, 20000},
  {"freq", G_STRUCT_OFFSET(Params, freq), 20, 20000},
};

/* Parses test://[?k=v&...]; the error names the parameter. */
static gboolean
parse(const char *url, Params *p, GHashTable **keep, GError **error)
{
  const char *q = strchr(url, '?');
  const char *rest = url + strlen("test://");
  GHashTable *params;
  GHashTableIter it;
  gpointer k, v;

  *p = (Params){"ball", 1280, 720, 30, 2000, 440, TRUE};
  if (!g_str_has_prefix(url, "test://") || (rest[0] && rest[0] != '?' && rest[0] != '/')) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "test URLs have no host: test://?pattern=ball&width=1280");
    return FALSE;
  }
  params = g_uri_parse_params(q ? q + 1 : "", -1, "&", G_URI_PARAMS_NONE, error);
  if (!params)
    return FALSE;
  g_hash_table_iter_init(&it, params);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    gboolean known = FALSE;

    for (guint i = 0; i < G_N_ELEMENTS(ints); i++) {
      if (strcmp(k, ints[i].name) == 0) {
        known = TRUE;
        if (!g_ascii_string_to_signed(v, 10, ints[i].min, ints[i].max,
                                      (gint64 *)((char *)p + ints[i].offset), NULL)) {
          g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                      "test:// parameter %s: expected an integer from %" G_GINT64_FORMAT
                      " to %" G_GINT64_FORMAT ", got '%s'",
                      (char *)k, ints[i].min, ints[i].max, (char *)v);
          goto fail;
        }
      }
    }
    if (strcmp(k, "pattern") == 0) {
      known = TRUE;
      if (!g_strv_contains(patterns, v)) {
        char *all = g_strjoinv("|", (char **)patterns);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "test:// parameter pattern: expected one of %s, got '%s'", all, (char *)v);
        g_free(all);
        goto fail;
      }
      p->pattern = v;
    } else if (strcmp(k, "audio") == 0) {
      known = TRUE;
      if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    "test:// parameter audio: expected true or false, got '%s'", (char *)v);
        goto fail;
      }
      p->audio = strcmp(v, "true") == 0;
    }
    if (!known) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "test:// has no parameter '%s'",
                  (char *)k);
      goto fail;
    }
  }
  *keep = params; /* p->pattern points into it */
  return TRUE;
fail:
  g_hash_table_unref(params);
  return FALSE;
}

static gboolean
src_check(const char *url, GError **error)
{
  Params p;
  GHashTable *keep = NULL;

  if (!parse(url, &p, &keep, error))
    return FALSE;
  g_hash_table_unref(keep);
  return TRUE;
}

static GstElement *
src_create(const char *url, GError **error)
{
  Params p;
  GHashTable *keep = NULL;
  GstElement *bin;
  char *desc;

  if (!parse(url, &p, &keep, error))
    return NULL;
  /* Keyframe every 2 s; constrained baseline so every WebRTC client decodes it. */
  desc = g_strdup_printf(
    "videotestsrc is-live=true pattern=%s horizontal-speed=4 ! "
    "video/x-raw,width=%" G_GINT64_FORMAT ",height=%" G_GINT64_FORMAT ",framerate=%" G_GINT64_FORMAT
    "/1 ! timeoverlay font-desc=\"Sans 28\" halignment=left valignment=top shaded-background=true "
    "! "
    "videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=%" G_GINT64_FORMAT
    " bitrate=%" G_GINT64_FORMAT " ! video/x-h264,profile=constrained-baseline ! "
    "queue name=vout max-size-time=1000000000 %s",
    p.pattern, p.width, p.height, p.fps, p.fps * 2, p.bitrate,
    p.audio ? "audiotestsrc is-live=true wave=sine volume=0.2 freq=" : "");
  if (p.audio) {
    char *full = g_strdup_printf("%s%" G_GINT64_FORMAT " ! audio/x-raw,rate=48000,channels=2 ! "
                                 "queue name=aout max-size-time=1000000000",
                                 desc, p.freq);
    g_free(desc);
    desc = full;
  }
  g_hash_table_unref(keep);
  bin = gst_parse_bin_from_description(desc, FALSE, error);
  g_free(desc);
  if (!bin)
    return NULL;
  hc_gst_ghost(bin, "vout", "src", "video");
  if (p.audio)
    hc_gst_ghost(bin, "aout", "src", "audio");
  return bin;
}

HC_PLUGIN_DEFINE = {
  .api_version = HC_PLUGIN_API_VERSION,
  .name = "src-test",
  .description = "test pattern and tone (test://)",
  .kind = HC_PLUGIN_SOURCE,
  .scheme = "test",
  .source_check = src_check,
  .source_create = src_create,
};
