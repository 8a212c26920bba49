/* Unit tests of media/source.c: credentials masked in free text, a lost
 * source reported with the first backoff delay while the pipeline stays, and
 * losing a source whose streaming thread an output blocks does not block the
 * main thread. */
#include <gio/gio.h>
#include <gst/gst.h>
#include <string.h>
#include <unistd.h>

#include "media/source.h"

static void
test_mask(void)
{
  static const char *const cases[][2] = {
    {"rtsp://admin:secret@10.0.0.5/h264", "rtsp://admin:***@10.0.0.5/h264"},
    {"Could not open rtsp://u:p@cam:554/x and rtsp://v:q@cam2/y.",
     "Could not open rtsp://u:***@cam:554/x and rtsp://v:***@cam2/y."},
    {"rtsp://cam/path?a=b:c@d", "rtsp://cam/path?a=b:c@d"},
    {"no url here: user:pass@host", "no url here: user:pass@host"},
    {"rtsp://onlyuser@cam/", "rtsp://onlyuser@cam/"},
    {"srt://:9000", "srt://:9000"},
    {"", ""},
  };

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    char *m = hc_source_mask_text(cases[i][0]);
    g_assert_cmpstr(m, ==, cases[i][1]);
    g_free(m);
  }
}

static GstElement *
fake_create(const char *url, GError **error)
{
  return gst_parse_bin_from_description("fakesrc is-live=true name=s", FALSE, error);
}

static const HcPlugin fake = {.api_version = HC_PLUGIN_API_VERSION,
                              .name = "fake",
                              .kind = HC_PLUGIN_SOURCE,
                              .scheme = "fake",
                              .source_create = fake_create};

static guint lost_delay, lost_calls;
static char *lost_why;

static void
on_pad(GstPad *pad, gpointer user)
{
}

static void
on_nmp(gpointer user)
{
}

static void
on_lost(const char *why, guint delay_ms, gpointer user)
{
  lost_calls++;
  lost_delay = delay_ms;
  g_free(lost_why);
  lost_why = g_strdup(why);
}

static void
on_waiting(gpointer user)
{
}

static const HcSourceCallbacks cbs = {on_pad, on_nmp, on_lost, on_waiting};

static void
test_lost(void)
{
  GstElement *pipeline = gst_pipeline_new(NULL);
  HcSource *src = hc_source_new(GST_BIN(pipeline), &fake, "cam", "fake://", "", &cbs, NULL);
  gboolean had_pads = TRUE;
  GError *err = NULL;

  g_assert_true(hc_source_open(src, &had_pads, &err));
  g_assert_no_error(err);
  g_assert_false(had_pads);
  g_assert_false(hc_source_waits(src));
  g_assert_cmpint(GST_BIN(pipeline)->numchildren, ==, 1);
  hc_source_play(src);

  hc_source_lost(src, "gone from rtsp://u:pw@cam/");
  g_assert_cmpuint(lost_calls, ==, 1);
  g_assert_cmpuint(lost_delay, ==, 1000);
  g_assert_cmpstr(lost_why, ==, "gone from rtsp://u:***@cam/");
  /* The bin left the pipeline; a second loss of no bin is ignored. */
  g_assert_cmpint(GST_BIN(pipeline)->numchildren, ==, 0);
  hc_source_lost(src, "again");
  g_assert_cmpuint(lost_calls, ==, 1);
  g_assert_cmpuint(hc_source_reconnects(src), ==, 0);

  hc_source_free(src);
  gst_object_unref(pipeline);
  g_clear_pointer(&lost_why, g_free);
}

static int busy_code;

static GstElement *
busy_create(const char *url, GError **error)
{
  g_set_error(error, G_IO_ERROR, busy_code, "cannot listen on 127.0.0.1:1935");
  return NULL;
}

static const HcPlugin busy = {.api_version = HC_PLUGIN_API_VERSION,
                              .name = "busy",
                              .kind = HC_PLUGIN_SOURCE,
                              .scheme = "busy",
                              .source_create = busy_create};

/* A port in use is a loss retried with the backoff; other errors refuse. */
static void
test_port_in_use(void)
{
  GstElement *pipeline = gst_pipeline_new(NULL);
  HcSource *src = hc_source_new(GST_BIN(pipeline), &busy, "enc", "busy://", "", &cbs, NULL);
  gboolean had_pads = TRUE;
  GError *err = NULL;

  lost_calls = 0;
  busy_code = G_IO_ERROR_ADDRESS_IN_USE;
  g_assert_true(hc_source_open(src, &had_pads, &err));
  g_assert_no_error(err);
  g_assert_false(had_pads);
  g_assert_cmpuint(lost_calls, ==, 1);
  g_assert_cmpuint(lost_delay, ==, 1000);
  g_assert_cmpstr(lost_why, ==, "cannot listen on 127.0.0.1:1935");
  g_assert_cmpint(GST_BIN(pipeline)->numchildren, ==, 0);
  hc_source_play(src); /* no bin yet: nothing happens */
  hc_source_free(src);

  src = hc_source_new(GST_BIN(pipeline), &busy, "enc", "busy://", "", &cbs, NULL);
  busy_code = G_IO_ERROR_INVALID_ARGUMENT;
  g_assert_false(hc_source_open(src, &had_pads, &err));
  g_assert_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_cmpuint(lost_calls, ==, 1);
  g_clear_error(&err);
  hc_source_free(src);
  gst_object_unref(pipeline);
  g_clear_pointer(&lost_why, g_free);
}

/* A live source with a streaming thread of its own (the queue's), like
 * rtspsrc's depayloader chain; its "src" ghost pad is the track. */
static GstElement *
threaded_create(const char *url, GError **error)
{
  return gst_parse_bin_from_description(
    "videotestsrc is-live=true ! video/x-raw,width=64,height=48,framerate=100/1 ! "
    "queue max-size-buffers=2",
    TRUE, error);
}

static const HcPlugin threaded = {.api_version = HC_PLUGIN_API_VERSION,
                                  .name = "threaded",
                                  .kind = HC_PLUGIN_SOURCE,
                                  .scheme = "threaded",
                                  .source_create = threaded_create};

static GstPad *output_pad;    /* the blocking output's sink pad */
static GstElement *track_bin; /* the source bin whose pad was linked */
static gint blocked;

static void
link_output(GstPad *pad, gpointer user)
{
  g_assert_cmpint(gst_pad_link(pad, output_pad), ==, GST_PAD_LINK_OK);
  track_bin = GST_ELEMENT(gst_object_get_parent(GST_OBJECT(pad)));
}

static GstPadProbeReturn
on_blocked(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  g_atomic_int_set(&blocked, 1);
  return GST_PAD_PROBE_OK;
}

static const HcSourceCallbacks blocking_cbs = {link_output, on_nmp, on_lost, on_waiting};

/* An output blocks the source's streaming thread (as a sink that stops
 * taking data blocks a tee): losing the source returns at once (the old
 * code set the bin to NULL here and waited for that thread forever; the
 * alarm turns such a hang into a failure), and the bin stops once the output
 * lets its thread go. */
static void
test_lost_while_blocked(void)
{
  GstElement *pipeline = gst_pipeline_new(NULL);
  GstElement *sink = gst_element_factory_make("fakesink", NULL);
  HcSource *src;
  GError *err = NULL;
  gulong probe;
  gint64 until;

  g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add(GST_BIN(pipeline), sink);
  output_pad = gst_element_get_static_pad(sink, "sink");
  probe =
    gst_pad_add_probe(output_pad, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM, on_blocked, NULL, NULL);
  src = hc_source_new(GST_BIN(pipeline), &threaded, "cam", "threaded://", "", &blocking_cbs, NULL);
  g_assert_true(hc_source_open(src, NULL, &err));
  g_assert_no_error(err);
  g_assert_nonnull(track_bin);
  g_assert_cmpint(gst_element_set_state(pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);
  hc_source_play(src);
  until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
  while (!g_atomic_int_get(&blocked) && g_get_monotonic_time() < until)
    g_usleep(10000);
  g_assert_true(g_atomic_int_get(&blocked));

  lost_calls = 0;
  alarm(20);
  hc_source_lost(src, "no media from the source for 5 s");
  alarm(0);
  g_assert_cmpuint(lost_calls, ==, 1);
  g_assert_cmpint(GST_BIN(pipeline)->numchildren, ==, 1);
  /* Still blocked: the bin's thread has not been let go yet. */
  g_assert_cmpint(GST_STATE(track_bin), !=, GST_STATE_NULL);

  gst_pad_remove_probe(output_pad, probe);
  until = g_get_monotonic_time() + 10 * G_USEC_PER_SEC;
  while (GST_STATE(track_bin) != GST_STATE_NULL && g_get_monotonic_time() < until)
    g_usleep(10000);
  g_assert_cmpint(GST_STATE(track_bin), ==, GST_STATE_NULL);

  gst_element_set_state(pipeline, GST_STATE_NULL);
  hc_source_free(src);
  gst_object_unref(track_bin);
  gst_object_unref(output_pad);
  gst_object_unref(pipeline);
  g_clear_pointer(&lost_why, g_free);
}

int
main(int argc, char **argv)
{
  gst_init(&argc, &argv);
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/source/mask", test_mask);
  g_test_add_func("/source/lost", test_lost);
  g_test_add_func("/source/port-in-use", test_port_in_use);
  g_test_add_func("/source/lost-while-blocked", test_lost_while_blocked);
  return g_test_run();
}
