/* A jitter buffer without a buffer, for cameras whose RTP comes interleaved
 * in the RTSP TCP connection (nothing to reorder, nothing lost): rtspsrc's
 * rtpbin takes it from "request-jitterbuffer" (src-rtsp.c). Used only by
 * src-rtsp. */
#ifndef HC_PLUGIN_RTP_STAMP_H
#define HC_PLUGIN_RTP_STAMP_H

#include <gst/gst.h>

/* A new (floating) element that gives each RTP packet its presentation time
 * from its RTP timestamp and pushes it on at once, in the thread that brought
 * it: no queue, no thread of its own. It speaks rtpbin's jitter buffer
 * contract for lip sync (a "sink_rtcp" request pad, the "handle-sync" signal
 * on each sender report, the "ts-offset" property rtpbin sets), so audio and
 * video of a camera stay in sync as with rtpjitterbuffer. Any thread. */
GstElement *hc_rtp_stamp_new(void);

#endif
