/* RTP output of a stream: the video and Opus tees are packetised once
 * (rtph264pay / rtpopuspay -> appsink) into one RTP ring per track, which the
 * fan-out workers read. Attached by media/stream.c when the tracks are known;
 * viewers hold references so the rings outlive a removed stream. */
#ifndef HC_MEDIA_RTP_OUT_H
#define HC_MEDIA_RTP_OUT_H

#include <glib.h>
#include <gst/gst.h>
#include <hallcast/plugin.h>

#include "ring.h"

#define HC_FANOUT_MAX_WORKERS 64

typedef struct HcRtpOut HcRtpOut;

struct HcRtpOut {
  char *name;    /* stream name */
  HcRing *video; /* NULL without a video track */
  HcRing *audio; /* NULL without an audio track */
  gint closed;   /* atomic: the stream was removed; viewers leave */
  gint viewers;  /* atomic: viewers attached, for the stream list */
  /* atomic: viewers of this stream per worker; a worker is woken only if > 0 */
  gint per_worker[HC_FANOUT_MAX_WORKERS];
  /* atomic: set by the packetiser when the ring has news for worker i, cleared
   * by that worker; the eventfd is written only on the 0 -> 1 change. */
  gint dirty[HC_FANOUT_MAX_WORKERS];
  gint64 last_key_request_us; /* atomic: rate limit of keyframe requests */
  /* atomic: monotonic clock minus media running time (us), fixed by the first
   * packet of either track (0: not yet); see on_sample() in rtp-out.c */
  gint64 clock_offset_us;
  /* atomic: a WHIP publisher writes the rings (media/publisher.c); the
   * packetiser branches drop what they make */
  gint external;
  guint64 video_woken;                 /* video streaming thread: ring head at the last wake */
  GstElement *video_sink, *audio_sink; /* referenced */
};

/* Main thread: builds the packetiser branches on the stream's tees (pads from
 * media/stream.c) and returns the new output (one reference, owned by the
 * stream), or NULL if the stream has neither H.264 video nor Opus audio. */
HcRtpOut *hc_rtp_out_attach(const HcStreamPads *pads);
/* Main thread: the stream is going away (its pipeline is already stopped):
 * marks the output closed and drops the stream's reference. NULL is fine. */
void hc_rtp_out_detach(HcRtpOut *out);

/* Any thread. */
HcRtpOut *hc_rtp_out_ref(HcRtpOut *out);
void hc_rtp_out_unref(HcRtpOut *out);

/* Main thread: from now on the rings are written by a WHIP publisher, not by
 * the packetiser branches; call before its first packet enters the pipeline. */
void hc_rtp_out_set_external(HcRtpOut *out);

/* Any thread: asks the source for a keyframe (a GstForceKeyUnit event up the
 * video branch), at most once a second per stream. TRUE if one was sent. */
gboolean hc_rtp_out_request_keyframe(HcRtpOut *out);

#endif
