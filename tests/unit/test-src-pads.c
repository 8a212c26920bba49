/* Unit tests of plugins/common/src-pads.c's table-driven track dispatch
 * (hc_src_take_pad, used by src-rtmp and src-srt): a taken track becomes the
 * bin's ghost pad, a refused codec posts an error naming it, a type no row
 * matches is discarded, and audio/mpeg rows match on mpegversion. */
#include <gst/gst.h>
#include <string.h>

#include "../../plugins/common/src-pads.h"

static const HcSrcTrack tracks[] = {
  {"video/x-h264", 0, "video", "queue", NULL, NULL},
  {"video/x-h265", 0, NULL, NULL, "H.265", "H.264"},
  {"video/", 0, NULL, NULL, NULL, "H.264"},
  {"audio/mpeg", 1u << 4, "audio", "queue", NULL, NULL},
  {NULL},
};

/* A pad of a would-be demuxer whose caps are caps_text (its template). */
static GstPad *
demux_pad(const char *caps_text)
{
  GstCaps *caps = gst_caps_from_string(caps_text);
  GstPadTemplate *tmpl = gst_pad_template_new("src", GST_PAD_SRC, GST_PAD_ALWAYS, caps);
  GstPad *pad = gst_pad_new_from_template(tmpl, "src");

  gst_caps_unref(caps);
  gst_object_unref(tmpl);
  return pad;
}

/* Takes a pad of caps_text into a new bin; returns the first error's text
 * (or NULL) and whether the bin got ghost pad ghost. */
static char *
take(const char *caps_text, const char *ghost, gboolean *exposed, guint *children)
{
  GstElement *pipeline = gst_pipeline_new(NULL);
  GstElement *bin = gst_bin_new(NULL);
  GstBus *bus = gst_element_get_bus(pipeline);
  GstPad *pad = demux_pad(caps_text), *g;
  GstMessage *msg;
  char *text = NULL;

  gst_bin_add(GST_BIN(pipeline), bin);
  hc_src_take_pad(bin, pad, tracks, "TEST", "H.264 video and AAC audio");
  g = gst_element_get_static_pad(bin, ghost);
  *exposed = g != NULL;
  *children = GST_BIN(bin)->numchildren;
  if (g)
    gst_object_unref(g);
  msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  if (msg) {
    GError *err = NULL;
    gst_message_parse_error(msg, &err, NULL);
    text = g_strdup(err->message);
    g_error_free(err);
    gst_message_unref(msg);
  }
  gst_object_unref(pad);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  return text;
}

static void
test_take(void)
{
  gboolean exposed;
  guint children;
  char *err;

  err = take("video/x-h264,stream-format=avc", "video", &exposed, &children);
  g_assert_null(err);
  g_assert_true(exposed);

  err = take("audio/mpeg,mpegversion=4", "audio", &exposed, &children);
  g_assert_null(err);
  g_assert_true(exposed);

  /* MP3 is audio/mpeg too, of version 1: no row takes it; left out. */
  g_test_expect_message(NULL, G_LOG_LEVEL_WARNING,
                        "TEST track audio/mpeg left out: hallcast takes H.264 video and AAC audio");
  err = take("audio/mpeg,mpegversion=1,layer=3", "audio", &exposed, &children);
  g_test_assert_expected_messages();
  g_assert_null(err);
  g_assert_false(exposed);
  g_assert_cmpuint(children, ==, 1); /* the fakesink it went into */

  err = take("video/x-h265", "video", &exposed, &children);
  g_assert_cmpstr(err, ==, "unsupported video codec H.265: hallcast takes H.264");
  g_assert_false(exposed);
  g_free(err);

  err = take("video/x-vp6-flash", "video", &exposed, &children);
  g_assert_cmpstr(err, ==, "unsupported video codec video/x-vp6-flash: hallcast takes H.264");
  g_assert_false(exposed);
  g_assert_cmpuint(children, ==, 1);
  g_free(err);
}

int
main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/src-pads/take", test_take);
  return g_test_run();
}
