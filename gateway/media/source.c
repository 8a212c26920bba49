/* Source supervision for media/stream.c: makes the plugin's bin, adds it to
 * the stream's pipeline, and when it fails (an error) or ends (EOS, which
 * must not reach the outputs) removes it and makes another after a backoff
 * of 1 s doubling to 30 s, forever. The tees and outputs never stop. */
#define G_LOG_DOMAIN "hc-media"

#include "source.h"

#include <gio/gio.h>
#include <string.h>

#define BACKOFF_FIRST_MS 1000
#define BACKOFF_MAX_MS 30000
#define ENDED_MESSAGE "hc-source-ended"
/* How long hc_source_free waits for lost bins still being stopped. */
#define STOP_WAIT_US (5 * G_USEC_PER_SEC)

/* Lost bins being stopped off the main thread; shared with those threads, so
 * that a source freed while one is stuck leaves them something valid. */
typedef struct {
  GMutex lock;
  GCond done;
  guint pending;
} Stopping;

struct HcSource {
  GstBin *pipeline; /* borrowed: the stream's pipeline outlives its source */
  const HcPlugin *plugin;
  char *stream, *url, *key;
  gboolean waits;
  const HcSourceCallbacks *cb;
  gpointer user;

  GstElement *bin;      /* the bin in use (a reference), NULL while waiting to retry */
  GstElement *stale;    /* the last bin removed (a reference), to recognise its messages */
  gboolean want_reason; /* the stale bin's first error explains the loss better */
  guint attempt;        /* losses since media last flowed */
  guint retry_id;
  guint delay_ms;
  gint reconnects;    /* atomic */
  Stopping *stopping; /* a reference (g_atomic_rc_box) */
};

char *
hc_source_mask_text(const char *text)
{
  GString *out = g_string_new(NULL);
  const char *p = text;
  const char *sep;

  /* For each "scheme://user:password@", keep the user and hide the password. */
  while ((sep = strstr(p, "://"))) {
    const char *auth = sep + 3;
    size_t n = strcspn(auth, "/ \t\r\n\"'<>");
    const char *at = memchr(auth, '@', n);
    const char *colon = at ? memchr(auth, ':', at - auth) : NULL;

    if (!colon) {
      g_string_append_len(out, p, auth - p);
      p = auth;
      continue;
    }
    g_string_append_len(out, p, colon + 1 - p);
    g_string_append(out, "***");
    p = at;
  }
  g_string_append(out, p);
  return g_string_free(out, FALSE);
}

HcSource *
hc_source_new(GstBin *pipeline, const HcPlugin *plugin, const char *stream, const char *url,
              const char *key, const HcSourceCallbacks *cb, gpointer user)
{
  HcSource *src = g_new0(HcSource, 1);

  src->pipeline = pipeline;
  src->plugin = plugin;
  src->stream = g_strdup(stream);
  src->url = g_strdup(url);
  src->key = g_strdup(key ? key : "");
  src->cb = cb;
  src->user = user;
  src->stopping = g_atomic_rc_box_new0(Stopping);
  g_mutex_init(&src->stopping->lock);
  g_cond_init(&src->stopping->done);
  return src;
}

static void
stopping_clear(gpointer data)
{
  Stopping *st = data;

  g_mutex_clear(&st->lock);
  g_cond_clear(&st->done);
}

static void
stopping_unref(gpointer data)
{
  g_atomic_rc_box_release_full(data, stopping_clear);
}

/* A GstTaskPool thread (gst_element_call_async, which holds a reference to
 * bin): stops a lost bin. Its streaming threads may be blocked downstream (an
 * output that blocks a tee) until that output flushes or the stream stops;
 * the wait is here, never on the main thread. */
static void
stop_bin(GstElement *bin, gpointer data)
{
  Stopping *st = data;

  gst_element_set_state(bin, GST_STATE_NULL);
  g_mutex_lock(&st->lock);
  st->pending--;
  g_cond_broadcast(&st->done);
  g_mutex_unlock(&st->lock);
}

/* Streaming thread: EOS from the source would end every output, so it is
 * dropped here and told to the main thread as a message from the bin. */
static GstPadProbeReturn
on_pad_event(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  GstElement *bin = data;

  if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  gst_element_post_message(
    bin, gst_message_new_application(GST_OBJECT(bin), gst_structure_new_empty(ENDED_MESSAGE)));
  return GST_PAD_PROBE_DROP;
}

/* Streaming or main thread. */
static void
on_pad_added(GstElement *bin, GstPad *pad, gpointer data)
{
  HcSource *src = data;

  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
    return;
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_pad_event, bin, NULL);
  src->cb->pad_added(pad, src->user);
}

static void
on_no_more_pads(GstElement *bin, gpointer data)
{
  HcSource *src = data;

  src->cb->no_more_pads(src->user);
}

/* Asks the plugin for a bin and adds it to the pipeline (state unchanged). */
static gboolean
make_bin(HcSource *src, gboolean *had_pads, GError **error)
{
  HcSourceArgs args = {src->stream, src->url, src->key, FALSE};
  GstElement *bin = src->plugin->source_open ? src->plugin->source_open(&args, error)
                                             : src->plugin->source_create(src->url, error);
  GstIterator *it;
  GValue v = G_VALUE_INIT;
  gboolean any = FALSE;

  if (!bin)
    return FALSE;
  src->waits = args.waits;
  src->bin = gst_object_ref(bin);
  /* The source's state is ours alone: when an output joins the running
   * pipeline, the pipeline passes through PAUSED, which would make rtspsrc
   * send PAUSE to the camera. */
  gst_element_set_locked_state(bin, TRUE);
  gst_bin_add(src->pipeline, bin);
  g_signal_connect(bin, "pad-added", G_CALLBACK(on_pad_added), src);
  g_signal_connect(bin, "no-more-pads", G_CALLBACK(on_no_more_pads), src);
  it = gst_element_iterate_src_pads(bin);
  while (gst_iterator_next(it, &v) == GST_ITERATOR_OK) {
    on_pad_added(bin, g_value_get_object(&v), src);
    any = TRUE;
    g_value_reset(&v);
  }
  g_value_unset(&v);
  gst_iterator_free(it);
  if (had_pads)
    *had_pads = any;
  return TRUE;
}

/* A plugin that cannot make its bin now but may later (its listener's port
 * is taken by another program) says so with G_IO_ERROR_ADDRESS_IN_USE. */
static gboolean
try_later(const GError *err)
{
  return g_error_matches(err, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
}

static void report_lost(HcSource *src, const char *why);

gboolean
hc_source_open(HcSource *src, gboolean *had_pads, GError **error)
{
  GError *err = NULL;

  if (make_bin(src, had_pads, &err))
    return TRUE;
  if (!try_later(err)) {
    g_propagate_error(error, err);
    return FALSE;
  }
  if (had_pads)
    *had_pads = FALSE;
  report_lost(src, err->message);
  g_error_free(err);
  return TRUE;
}

gboolean
hc_source_waits(HcSource *src)
{
  return src->waits;
}

HcSourceOwner
hc_source_owner(HcSource *src, GstObject *obj)
{
  if (src->bin &&
      (obj == GST_OBJECT(src->bin) || gst_object_has_as_ancestor(obj, GST_OBJECT(src->bin))))
    return HC_SOURCE_CURRENT;
  if (src->stale &&
      (obj == GST_OBJECT(src->stale) || gst_object_has_as_ancestor(obj, GST_OBJECT(src->stale))))
    return HC_SOURCE_STALE;
  return HC_SOURCE_OTHER;
}

static gboolean retry(gpointer data);

static void
report_lost(HcSource *src, const char *why)
{
  char *masked = hc_source_mask_text(why);
  guint shift = MIN(src->attempt, 5);

  src->delay_ms = MIN(BACKOFF_FIRST_MS << shift, BACKOFF_MAX_MS);
  src->attempt++;
  if (src->retry_id)
    g_source_remove(src->retry_id);
  src->retry_id = g_timeout_add(src->delay_ms, retry, src);
  src->cb->lost(masked, src->delay_ms, src->user);
  g_free(masked);
}

void
hc_source_lost(HcSource *src, const char *why)
{
  GstElement *bin = src->bin;

  if (!bin)
    return;
  src->bin = NULL;
  /* Removal unlinks its pads from the stream's parsers at once, so nothing
   * more of it enters the stream. Stopping it waits for its streaming
   * threads, which may be blocked downstream (an output blocking a tee, the
   * SIGTERM hang of an earlier session): that wait happens in another thread,
   * and the main loop goes on. */
  gst_bin_remove(src->pipeline, bin);
  g_mutex_lock(&src->stopping->lock);
  src->stopping->pending++;
  g_mutex_unlock(&src->stopping->lock);
  gst_element_call_async(bin, stop_bin, g_atomic_rc_box_acquire(src->stopping), stopping_unref);
  if (src->stale)
    gst_object_unref(src->stale);
  src->stale = bin;
  src->want_reason = FALSE;
  report_lost(src, why);
}

/* Main thread, after the backoff delay: a new bin joins the running pipeline. */
static gboolean
retry(gpointer data)
{
  HcSource *src = data;
  GError *err = NULL;

  src->retry_id = 0;
  g_atomic_int_inc(&src->reconnects);
  g_info("stream %s: making the source again (attempt %u)", src->stream, src->attempt);
  if (!make_bin(src, NULL, &err)) {
    report_lost(src, err ? err->message : "the source plugin failed");
    g_clear_error(&err);
    return G_SOURCE_REMOVE;
  }
  if (src->waits)
    src->cb->waiting(src->user);
  hc_source_play(src);
  return G_SOURCE_REMOVE;
}

void
hc_source_play(HcSource *src)
{
  if (!src->bin || gst_element_set_state(src->bin, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE)
    return;
  hc_source_lost(src, "the source did not start");
  /* Its error message, still on the bus, says why. */
  src->want_reason = TRUE;
}

gboolean
hc_source_handle_message(HcSource *src, GstMessage *msg)
{
  HcSourceOwner owner = hc_source_owner(src, GST_MESSAGE_SRC(msg));
  GError *err = NULL;

  if (owner == HC_SOURCE_OTHER)
    return FALSE;
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_APPLICATION &&
      gst_message_has_name(msg, ENDED_MESSAGE)) {
    if (owner == HC_SOURCE_CURRENT)
      hc_source_lost(src, src->waits ? "the publisher left" : "the source ended the stream");
    return TRUE;
  }
  if (GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ERROR)
    return FALSE;
  gst_message_parse_error(msg, &err, NULL);
  if (owner == HC_SOURCE_CURRENT) {
    hc_source_lost(src, err->message);
  } else if (src->want_reason) {
    char *masked = hc_source_mask_text(err->message);
    src->want_reason = FALSE;
    src->cb->lost(masked, src->delay_ms, src->user);
    g_free(masked);
  }
  g_error_free(err);
  return TRUE;
}

void
hc_source_ok(HcSource *src)
{
  src->attempt = 0;
}

guint
hc_source_reconnects(HcSource *src)
{
  return (guint)g_atomic_int_get(&src->reconnects);
}

/* Main thread, at free: the lost bins' threads (unblocked by now, as the
 * stream's pipeline stopped first) finish before the gateway goes on, so no
 * thread of the source outlives the process's clean exit. Bounded. */
static void
stopping_wait(HcSource *src)
{
  Stopping *st = src->stopping;
  gint64 until = g_get_monotonic_time() + STOP_WAIT_US;
  guint left;

  g_mutex_lock(&st->lock);
  while (st->pending && g_cond_wait_until(&st->done, &st->lock, until))
    ;
  left = st->pending;
  g_mutex_unlock(&st->lock);
  if (left)
    g_warning("stream %s: %u lost source(s) still stopping", src->stream, left);
  stopping_unref(st);
}

void
hc_source_free(HcSource *src)
{
  if (!src)
    return;
  if (src->retry_id)
    g_source_remove(src->retry_id);
  if (src->bin) {
    gst_element_set_state(src->bin, GST_STATE_NULL);
    gst_bin_remove(src->pipeline, src->bin);
    gst_object_unref(src->bin);
  }
  if (src->stale)
    gst_object_unref(src->stale);
  stopping_wait(src);
  if (src->plugin->source_release)
    src->plugin->source_release(src->stream);
  g_free(src->stream);
  g_free(src->url);
  g_free(src->key);
  g_free(src);
}
