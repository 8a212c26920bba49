/* Packetise once per stream: appsink callbacks (GStreamer streaming threads)
 * copy each RTP packet into the track's ring and wake the fan-out workers
 * that have viewers of the stream. Called from media/stream.c. */
#define G_LOG_DOMAIN "hc-media"

#include "rtp-out.h"

#include <gst/app/gstappsink.h>

#include "fanout.h"
#include "rtp-gate.h"

#define VIDEO_RING_SLOTS 4096
#define AUDIO_RING_SLOTS 512

#define VIDEO_BRANCH                                                                               \
  "queue max-size-buffers=0 max-size-bytes=0 max-size-time=500000000 leaky=downstream ! "          \
  "rtph264pay name=pay config-interval=-1 aggregate-mode=zero-latency mtu=1200 pt=96 ! "           \
  "appsink name=rtpsink sync=false async=false enable-last-sample=false max-buffers=256 drop=true"
#define AUDIO_BRANCH                                                                               \
  "queue max-size-buffers=0 max-size-bytes=0 max-size-time=500000000 leaky=downstream ! "          \
  "rtpopuspay name=pay mtu=1200 pt=111 ! "                                                         \
  "appsink name=rtpsink sync=false async=false enable-last-sample=false max-buffers=256 drop=true"

static GstFlowReturn
on_sample(GstAppSink *sink, gpointer data)
{
  HcRing *ring = data;
  HcRtpOut *out = g_object_get_data(G_OBJECT(sink), "hc-rtp-out");
  GstSample *sample = gst_app_sink_pull_sample(sink);
  GstBuffer *buf;
  GstMapInfo map;
  gint64 t = g_get_monotonic_time();

  if (!sample)
    return GST_FLOW_EOS;
  if (g_atomic_int_get(&out->external)) {
    /* A WHIP publisher's packets are in the rings as they came. */
    gst_sample_unref(sample);
    return GST_FLOW_OK;
  }
  buf = gst_sample_get_buffer(sample);
  /* The clock time each packet was captured at, for the sender reports: its
   * running time (not the raw PTS, which x264enc offsets by 1000 hours) plus
   * one offset per stream, taken at the first packet of either track, so
   * video and audio map to one clock. Not the pipeline's base time: a source
   * bin runs in locked state with base time 0 (media/source.c), so its running
   * time is the clock's whole reading, and a demuxer's is the stream's own;
   * added to the base time, it put the reports hours off, past the 32-bit RTP
   * clock's half range once the machine had been up for 6.6 hours. */
  if (GST_BUFFER_PTS_IS_VALID(buf)) {
    GstClockTime rt = gst_segment_to_running_time(gst_sample_get_segment(sample), GST_FORMAT_TIME,
                                                  GST_BUFFER_PTS(buf));
    if (GST_CLOCK_TIME_IS_VALID(rt)) {
      gint64 rt_us = (gint64)(rt / 1000), offset = t - rt_us, unset = 0;

      if (offset == 0)
        offset = 1; /* 0 means "not yet" */
      if (!__atomic_compare_exchange_n(&out->clock_offset_us, &unset, offset, FALSE,
                                       __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        offset = unset; /* another packet set it first */
      t = rt_us + offset;
    }
  }
  if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
    /* Video wakes the workers once a frame (its last packet has the marker
     * bit), so a frame goes out as one GSO send per viewer and the workers
     * pass over their viewers a third as often; a long frame wakes them
     * every 16 packets. Opus has a marker only after silence: always wake. */
    if (hc_ring_push(ring, map.data, map.size, t) == 0 &&
        (ring != out->video || (map.data[1] & 0x80) ||
         hc_ring_head(ring) - out->video_woken >= 16)) {
      if (ring == out->video)
        out->video_woken = hc_ring_head(ring);
      hc_fanout_wake(out);
    }
    gst_buffer_unmap(buf, &map);
  }
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

/* Links a packetiser branch to a new tee pad; returns its appsink (referenced). */
static GstElement *
branch(HcRtpOut *out, GstBin *pipeline, GstElement *tee, const char *desc, HcRing *ring)
{
  GError *err = NULL;
  GstElement *bin = gst_parse_bin_from_description(desc, TRUE, &err);
  GstAppSinkCallbacks cb = {.new_sample = on_sample};
  GstElement *sink, *pay;
  GstPad *src, *sinkpad;

  if (!bin) {
    g_warning("stream %s: cannot build the RTP branch: %s", out->name, err->message);
    g_error_free(err);
    return NULL;
  }
  sink = gst_bin_get_by_name(GST_BIN(bin), "rtpsink");
  g_object_set_data(G_OBJECT(sink), "hc-rtp-out", out);
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, ring, NULL);
  gst_bin_add(pipeline, bin);
  src = gst_element_request_pad_simple(tee, "src_%u");
  sinkpad = gst_element_get_static_pad(bin, "sink");
  if (gst_pad_link(src, sinkpad) != GST_PAD_LINK_OK)
    g_warning("stream %s: cannot link the RTP branch", out->name);
  gst_object_unref(sinkpad);
  /* Packetise only while the stream has viewers (media/rtp-gate.c): the
   * gate is on the tee's pad, so an idle branch's queue never wakes. */
  pay = gst_bin_get_by_name(GST_BIN(bin), "pay");
  sinkpad = gst_element_get_static_pad(pay, "sink");
  hc_rtp_gate_attach(out, ring, src, sinkpad, ring == out->video);
  gst_object_unref(sinkpad);
  gst_object_unref(pay);
  gst_object_unref(src);
  gst_element_sync_state_with_parent(bin);
  return sink;
}

HcRtpOut *
hc_rtp_out_attach(const HcStreamPads *pads)
{
  HcRtpOut *out;

  if (!pads->video_tee && !pads->opus_tee)
    return NULL;
  out = g_atomic_rc_box_new0(HcRtpOut);
  out->name = g_strdup(pads->name);
  if (pads->video_tee) {
    out->video = hc_ring_new(VIDEO_RING_SLOTS, TRUE);
    out->video_sink = branch(out, pads->pipeline, pads->video_tee, VIDEO_BRANCH, out->video);
  }
  if (pads->opus_tee) {
    out->audio = hc_ring_new(AUDIO_RING_SLOTS, FALSE);
    out->audio_sink = branch(out, pads->pipeline, pads->opus_tee, AUDIO_BRANCH, out->audio);
  }
  g_debug("stream %s: RTP output attached", out->name);
  return out;
}

void
hc_rtp_out_detach(HcRtpOut *out)
{
  if (!out)
    return;
  g_atomic_int_set(&out->closed, 1);
  /* Wake every worker with viewers so they notice the stream is gone. */
  hc_fanout_wake(out);
  hc_rtp_out_unref(out);
}

HcRtpOut *
hc_rtp_out_ref(HcRtpOut *out)
{
  return g_atomic_rc_box_acquire(out);
}

static void
rtp_out_clear(gpointer p)
{
  HcRtpOut *out = p;

  if (out->video_sink)
    gst_object_unref(out->video_sink);
  if (out->audio_sink)
    gst_object_unref(out->audio_sink);
  hc_ring_free(out->video);
  hc_ring_free(out->audio);
  g_free(out->name);
}

void
hc_rtp_out_unref(HcRtpOut *out)
{
  g_atomic_rc_box_release_full(out, rtp_out_clear);
}

void
hc_rtp_out_set_external(HcRtpOut *out)
{
  g_atomic_int_set(&out->external, 1);
}

gboolean
hc_rtp_out_request_keyframe(HcRtpOut *out)
{
  gint64 now = g_get_monotonic_time();
  gint64 last = __atomic_load_n(&out->last_key_request_us, __ATOMIC_RELAXED);
  GstStructure *st;

  if (!out->video_sink || g_atomic_int_get(&out->closed) || (last && now - last < G_USEC_PER_SEC))
    return FALSE;
  if (!__atomic_compare_exchange_n(&out->last_key_request_us, &last, now, FALSE, __ATOMIC_RELAXED,
                                   __ATOMIC_RELAXED))
    return FALSE;
  /* The GstForceKeyUnit upstream event of gst-plugins-base's video library;
   * the tee and parser pass it on to an encoder that honours it. */
  st =
    gst_structure_new("GstForceKeyUnit", "running-time", GST_TYPE_CLOCK_TIME, GST_CLOCK_TIME_NONE,
                      "all-headers", G_TYPE_BOOLEAN, TRUE, "count", G_TYPE_UINT, 0, NULL);
  gst_element_send_event(out->video_sink, gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, st));
  g_debug("stream %s: keyframe requested", out->name);
  return TRUE;
}
