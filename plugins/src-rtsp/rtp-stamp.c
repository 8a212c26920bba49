/* HcRtpStamp (see rtp-stamp.h): in place of rtpjitterbuffer for RTSP/TCP
 * cameras. rtpjitterbuffer hands every packet to a thread of its own (a
 * futex wake and two context switches a packet, about half of a camera's
 * ingest cost, measured); over TCP it has nothing to reorder or wait for.
 * This element stamps each packet in rtspsrc's reader thread and pushes it on.
 * Its times follow the camera's RTP clock from the first packet's arrival,
 * slewed towards the lowest delay seen each SKEW_WINDOW by at most SLEW_NS
 * (the camera's clock drifts over a day), never stepped. */
#define G_LOG_DOMAIN "hc-src-rtsp"

#include "rtp-stamp.h"

#include <gst/rtp/rtp.h>

/* A packet this far from where its RTP time puts it starts a new timeline
 * (the camera's clock jumped). */
#define RESYNC_NS (2 * GST_SECOND)
#define SKEW_WINDOW (2 * GST_SECOND)
/* The most the skew moves in a window: 1000 ppm, past any camera clock's drift. */
#define SLEW_NS (2 * GST_MSECOND)

typedef struct {
  GstElement parent;
  GstPad *sink, *src, *rtcp;

  /* Under the object lock: the RTP and RTCP paths may be two threads. */
  guint clock_rate;          /* from caps; 0: unknown, packets pass unstamped */
  guint64 clock_base;        /* caps' clock-base, G_MAXUINT64 if none */
  guint64 ext;               /* gst_rtp_buffer_ext_timestamp's state */
  guint32 ssrc;              /* of the last RTP packet */
  gboolean have_base;        /* base_ext and base_time are set */
  guint64 base_ext;          /* the extended RTP time at base_time */
  GstClockTime base_time;    /* running time of the timeline's first packet */
  GstClockTimeDiff skew;     /* added to the RTP-derived time: the lowest delay */
  GstClockTimeDiff win_min;  /* lowest delay in this window */
  GstClockTime win_start;    /* running time the window began */
  gint64 ts_offset;          /* set by rtpbin for lip sync */
  gboolean have_prev;        /* prev_ext and prev_pts are set */
  guint64 prev_ext;          /* the last packet's extended RTP time */
  GstClockTimeDiff prev_pts; /* and the time it was given */
  guint latency_ms;          /* set by rtpbin; nothing is held, so unused */
} HcRtpStamp;

typedef struct {
  GstElementClass parent_class;
} HcRtpStampClass;

enum { PROP_0, PROP_LATENCY, PROP_TS_OFFSET };
enum { SIGNAL_HANDLE_SYNC, SIGNAL_CLEAR_PT_MAP, N_SIGNALS };
static guint signals[N_SIGNALS];

static GType hc_rtp_stamp_get_type(void);
G_DEFINE_TYPE(HcRtpStamp, hc_rtp_stamp, GST_TYPE_ELEMENT)

static GstStaticPadTemplate sink_tmpl = GST_STATIC_PAD_TEMPLATE(
  "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS("application/x-rtp"));
static GstStaticPadTemplate rtcp_tmpl = GST_STATIC_PAD_TEMPLATE(
  "sink_rtcp", GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS("application/x-rtcp"));
static GstStaticPadTemplate src_tmpl =
  GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("application/x-rtp"));

/* Object lock held: a new timeline starts at this packet. */
static void
rebase(HcRtpStamp *self, guint64 ext, GstClockTime now)
{
  self->have_base = TRUE;
  self->base_ext = ext;
  self->base_time = now;
  self->skew = 0;
  self->win_min = G_MAXINT64;
  self->win_start = now;
  self->have_prev = FALSE;
}

/* Object lock held: the presentation time of a packet with RTP time rtptime
 * arriving at running time now. */
static GstClockTime
stamp(HcRtpStamp *self, guint32 rtptime, GstClockTime now)
{
  guint64 ext = gst_rtp_buffer_ext_timestamp(&self->ext, rtptime);
  GstClockTimeDiff nominal, delay, pts;

  if (!self->have_base)
    rebase(self, ext, now);
  /* Signed: with B-frames of an open GOP, a packet may present before the
   * first one. */
  nominal =
    ext >= self->base_ext
      ? (GstClockTimeDiff)self->base_time + (GstClockTimeDiff)gst_util_uint64_scale(
                                              ext - self->base_ext, GST_SECOND, self->clock_rate)
      : (GstClockTimeDiff)self->base_time - (GstClockTimeDiff)gst_util_uint64_scale(
                                              self->base_ext - ext, GST_SECOND, self->clock_rate);
  delay = (GstClockTimeDiff)now - nominal;
  if (ABS(delay - self->skew) > RESYNC_NS) {
    GST_INFO_OBJECT(self, "RTP time off by %" G_GINT64_FORMAT " ms: new timeline",
                    (delay - self->skew) / GST_MSECOND);
    rebase(self, ext, now);
    nominal = (GstClockTimeDiff)now;
    delay = 0;
  }
  self->win_min = MIN(self->win_min, delay);
  if (now - self->win_start >= SKEW_WINDOW) {
    /* The least delayed packet of the window is the best guess of when the
     * camera sent: follow it, a little a window. Never step: a B-frame
     * encoder sends P-frames ahead of their time (by its reorder depth, 212
     * ms with 2 B-frames at 15 fps), so the first packet's delay is not the
     * least, and a step to the least would turn the times of one GOP back
     * (an HLS segment showed its keyframe 181 ms late against the rest). */
    self->skew += CLAMP(self->win_min - self->skew, -SLEW_NS, SLEW_NS);
    self->win_min = G_MAXINT64;
    self->win_start = now;
  }
  pts = nominal + self->skew + self->ts_offset;
  /* The skew moves in steps: never let it turn time back (a muxer refuses
   * that) where the RTP time went on, as rtpjitterbuffer does. RTP time going
   * back (B-frames) may go back; packets of one frame share its time. */
  if (self->have_prev && ((ext > self->prev_ext && pts < self->prev_pts) ||
                          (ext < self->prev_ext && pts > self->prev_pts) || ext == self->prev_ext))
    pts = self->prev_pts;
  self->have_prev = TRUE;
  self->prev_ext = ext;
  self->prev_pts = pts;
  return pts > 0 ? (GstClockTime)pts : 0;
}

static GstClockTime
running_time(GstElement *e)
{
  GstClock *clock = gst_element_get_clock(e);
  GstClockTime now, base;

  if (!clock)
    return GST_CLOCK_TIME_NONE;
  now = gst_clock_get_time(clock);
  base = gst_element_get_base_time(e);
  gst_object_unref(clock);
  return now > base ? now - base : 0;
}

static GstFlowReturn
on_rtp(GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  HcRtpStamp *self = (HcRtpStamp *)parent;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  GstClockTime now, pts = GST_CLOCK_TIME_NONE;
  guint32 rtptime, ssrc;

  if (!gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp)) {
    gst_buffer_unref(buf);
    return GST_FLOW_OK; /* not RTP: dropped, as rtpjitterbuffer does */
  }
  rtptime = gst_rtp_buffer_get_timestamp(&rtp);
  ssrc = gst_rtp_buffer_get_ssrc(&rtp);
  gst_rtp_buffer_unmap(&rtp);
  /* Before the lock: the element's clock and base time take it too. */
  now = running_time(GST_ELEMENT(self));
  GST_OBJECT_LOCK(self);
  self->ssrc = ssrc;
  if (self->clock_rate && GST_CLOCK_TIME_IS_VALID(now))
    pts = stamp(self, rtptime, now);
  GST_OBJECT_UNLOCK(self);
  if (GST_CLOCK_TIME_IS_VALID(pts)) {
    buf = gst_buffer_make_writable(buf);
    GST_BUFFER_PTS(buf) = pts;
    GST_BUFFER_DTS(buf) = pts;
  }
  return gst_pad_push(self->src, buf);
}

static gboolean
on_rtp_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
  HcRtpStamp *self = (HcRtpStamp *)parent;
  const GstStructure *st;
  GstCaps *caps;
  gint rate = 0;
  guint base = 0;

  switch (GST_EVENT_TYPE(event)) {
  case GST_EVENT_CAPS:
    gst_event_parse_caps(event, &caps);
    st = gst_caps_get_structure(caps, 0);
    GST_OBJECT_LOCK(self);
    if (gst_structure_get_int(st, "clock-rate", &rate) && rate > 0)
      self->clock_rate = rate;
    self->clock_base = gst_structure_get_uint(st, "clock-base", &base) ? base : G_MAXUINT64;
    GST_OBJECT_UNLOCK(self);
    break;
  case GST_EVENT_FLUSH_STOP:
    GST_OBJECT_LOCK(self);
    self->have_base = FALSE;
    self->ext = G_MAXUINT64;
    GST_OBJECT_UNLOCK(self);
    break;
  default:
    break;
  }
  return gst_pad_event_default(pad, parent, event);
}

/* A sender report of this stream's source: tell rtpbin how RTP time maps to
 * our running time, as rtpjitterbuffer does, so that it sets ts-offset on
 * each stream of the camera from the reports' NTP times (lip sync). */
static GstFlowReturn
on_rtcp(GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  HcRtpStamp *self = (HcRtpStamp *)parent;
  GstRTCPBuffer rtcp = GST_RTCP_BUFFER_INIT;
  GstRTCPPacket packet;
  GstStructure *s = NULL;
  guint32 ssrc, rtptime;
  guint64 ntp, ext;
  gboolean sr;

  if (!gst_rtcp_buffer_validate_reduced(buf) || !gst_rtcp_buffer_map(buf, GST_MAP_READ, &rtcp))
    goto done;
  sr = gst_rtcp_buffer_get_first_packet(&rtcp, &packet) &&
       gst_rtcp_packet_get_type(&packet) == GST_RTCP_TYPE_SR;
  if (sr)
    gst_rtcp_packet_sr_get_sender_info(&packet, &ssrc, &ntp, &rtptime, NULL, NULL);
  gst_rtcp_buffer_unmap(&rtcp);
  if (!sr)
    goto done;
  GST_OBJECT_LOCK(self);
  if (self->have_base && self->clock_rate && ssrc == self->ssrc) {
    /* Extend the report's RTP time next to the packets' (within half the range). */
    ext = self->ext + (gint64)(gint32)(rtptime - (guint32)self->ext);
    if (ext >= self->base_ext)
      s = gst_structure_new(
        "application/x-rtp-sync", "base-rtptime", G_TYPE_UINT64, self->base_ext, "base-time",
        G_TYPE_UINT64, (guint64)MAX((GstClockTimeDiff)self->base_time + self->skew, 0),
        "clock-rate", G_TYPE_UINT, self->clock_rate, "clock-base", G_TYPE_UINT64, self->clock_base,
        "ssrc", G_TYPE_UINT, ssrc, "sr-ext-rtptime", G_TYPE_UINT64, ext, "sr-buffer",
        GST_TYPE_BUFFER, buf, NULL);
  }
  GST_OBJECT_UNLOCK(self);
  if (s) {
    g_signal_emit(self, signals[SIGNAL_HANDLE_SYNC], 0, s);
    gst_structure_free(s);
  }
done:
  gst_buffer_unref(buf);
  return GST_FLOW_OK;
}

static gboolean
on_rtcp_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
  /* Nothing goes downstream from the RTCP pad. */
  gst_event_unref(event);
  return TRUE;
}

static GstPad *
request_new_pad(GstElement *element, GstPadTemplate *templ, const gchar *name, const GstCaps *caps)
{
  HcRtpStamp *self = (HcRtpStamp *)element;

  if (self->rtcp)
    return NULL;
  self->rtcp = gst_pad_new_from_template(templ, "sink_rtcp");
  gst_pad_set_chain_function(self->rtcp, on_rtcp);
  gst_pad_set_event_function(self->rtcp, on_rtcp_event);
  gst_pad_set_active(self->rtcp, TRUE);
  gst_element_add_pad(element, self->rtcp);
  return self->rtcp;
}

static void
release_pad(GstElement *element, GstPad *pad)
{
  HcRtpStamp *self = (HcRtpStamp *)element;

  if (pad != self->rtcp)
    return;
  self->rtcp = NULL;
  gst_pad_set_active(pad, FALSE);
  gst_element_remove_pad(element, pad);
}

static void
set_property(GObject *obj, guint id, const GValue *value, GParamSpec *pspec)
{
  HcRtpStamp *self = (HcRtpStamp *)obj;

  GST_OBJECT_LOCK(self);
  if (id == PROP_LATENCY)
    self->latency_ms = g_value_get_uint(value);
  else if (id == PROP_TS_OFFSET)
    self->ts_offset = g_value_get_int64(value);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, pspec);
  GST_OBJECT_UNLOCK(self);
}

static void
get_property(GObject *obj, guint id, GValue *value, GParamSpec *pspec)
{
  HcRtpStamp *self = (HcRtpStamp *)obj;

  GST_OBJECT_LOCK(self);
  if (id == PROP_LATENCY)
    g_value_set_uint(value, self->latency_ms);
  else if (id == PROP_TS_OFFSET)
    g_value_set_int64(value, self->ts_offset);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID(obj, id, pspec);
  GST_OBJECT_UNLOCK(self);
}

static void
clear_pt_map(HcRtpStamp *self)
{
  /* rtpbin relays its own clear-pt-map; the clock rate comes with the caps. */
}

static void
hc_rtp_stamp_class_init(HcRtpStampClass *klass)
{
  GObjectClass *oc = G_OBJECT_CLASS(klass);
  GstElementClass *ec = GST_ELEMENT_CLASS(klass);

  oc->set_property = set_property;
  oc->get_property = get_property;
  g_object_class_install_property(
    oc, PROP_LATENCY,
    g_param_spec_uint("latency", "Latency", "Kept for rtpbin: nothing is held", 0, G_MAXUINT, 0,
                      G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property(
    oc, PROP_TS_OFFSET,
    g_param_spec_int64("ts-offset", "Timestamp offset", "Added to the times (lip sync, by rtpbin)",
                       G_MININT64, G_MAXINT64, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  signals[SIGNAL_HANDLE_SYNC] =
    g_signal_new("handle-sync", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                 G_TYPE_NONE, 1, GST_TYPE_STRUCTURE | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[SIGNAL_CLEAR_PT_MAP] = g_signal_new_class_handler(
    "clear-pt-map", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST | G_SIGNAL_ACTION,
    G_CALLBACK(clear_pt_map), NULL, NULL, NULL, G_TYPE_NONE, 0, G_TYPE_NONE);
  ec->request_new_pad = request_new_pad;
  ec->release_pad = release_pad;
  gst_element_class_add_static_pad_template(ec, &sink_tmpl);
  gst_element_class_add_static_pad_template(ec, &rtcp_tmpl);
  gst_element_class_add_static_pad_template(ec, &src_tmpl);
  gst_element_class_set_static_metadata(ec, "hallcast RTP stamp", "Filter/Network/RTP",
                                        "Times RTP packets from their RTP timestamps, in place",
                                        "hallcast");
}

static void
hc_rtp_stamp_init(HcRtpStamp *self)
{
  self->sink = gst_pad_new_from_static_template(&sink_tmpl, "sink");
  gst_pad_set_chain_function(self->sink, on_rtp);
  gst_pad_set_event_function(self->sink, on_rtp_event);
  GST_PAD_SET_PROXY_CAPS(self->sink);
  GST_PAD_SET_PROXY_ALLOCATION(self->sink);
  gst_element_add_pad(GST_ELEMENT(self), self->sink);
  self->src = gst_pad_new_from_static_template(&src_tmpl, "src");
  GST_PAD_SET_PROXY_CAPS(self->src);
  GST_PAD_SET_PROXY_ALLOCATION(self->src);
  gst_element_add_pad(GST_ELEMENT(self), self->src);
  self->ext = G_MAXUINT64;
  self->clock_base = G_MAXUINT64;
}

GstElement *
hc_rtp_stamp_new(void)
{
  return g_object_new(hc_rtp_stamp_get_type(), NULL);
}
