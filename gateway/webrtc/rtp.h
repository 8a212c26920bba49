/* RTP and RTCP for the fan-out: the per-viewer RTP header rewrite, the RTCP
 * feedback parser (receiver reports, generic NACK, PLI, FIR) for hostile
 * bytes, and sender reports. Pure functions, any thread. */
#ifndef HC_WEBRTC_RTP_H
#define HC_WEBRTC_RTP_H

#include <glib.h>

/* RFC 7983: RTP and RTCP start with a byte in 128..191; RTCP packet types
 * 192..223 in the second byte tell RTCP from RTP. */
static inline gboolean
hc_rtp_is_rtcp(const guint8 *buf, gsize len)
{
  return len >= 8 && buf[1] >= 192 && buf[1] <= 223;
}

/* Rewrites a packet for one viewer, in place: payload type (marker kept),
 * sequence number, timestamp + ts_offset, SSRC. 0, or HC_EINVAL if it is
 * not an RTP version 2 packet of at least 12 bytes. */
int hc_rtp_rewrite(guint8 *pkt, gsize len, guint8 pt, guint16 seq, guint32 ts_offset, guint32 ssrc);
/* The RTP timestamp of a packet (no checks: len >= 12 is the caller's). */
guint32 hc_rtp_timestamp(const guint8 *pkt);

typedef struct {
  /* A report block about one of our SSRCs (RR or SR). */
  void (*report)(gpointer data, guint32 ssrc, guint8 fraction_lost, gint32 cumulative_lost,
                 guint32 jitter, guint32 lsr, guint32 dlsr);
  /* One lost sequence number of media_ssrc (generic NACK, expanded). */
  void (*nack)(gpointer data, guint32 media_ssrc, guint16 seq);
  /* Picture loss (PLI) or full intra request (FIR) for media_ssrc. */
  void (*keyframe)(gpointer data, guint32 media_ssrc);
} HcRtcpHandler;

/* Walks a (decrypted) compound RTCP packet and calls h for what it finds;
 * unknown packet types are skipped. 0, or HC_EINVAL if a length is wrong
 * (callbacks may have been called for the packets before it). */
int hc_rtcp_parse(const guint8 *buf, gsize len, const HcRtcpHandler *h, gpointer data);

/* Writes a sender report without report blocks (28 bytes); 0 if cap is too small. */
gsize hc_rtcp_sender_report(guint8 *out, gsize cap, guint32 ssrc, guint64 ntp, guint32 rtp_ts,
                            guint32 packets, guint32 octets);

/* Now as a 64-bit NTP timestamp (seconds since 1900 in the upper 32 bits). */
guint64 hc_ntp_now(void);

#endif
