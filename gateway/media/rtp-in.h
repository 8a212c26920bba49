/* RTP received from a WHIP publisher, before it joins a stream: the header
 * parser (hostile bytes), a small reorder buffer that holds packets behind a
 * gap while the lost ones are NACKed, and the splitting of H.264 packets too
 * large for a ring slot. Pure functions; used by media/publisher.c. */
#ifndef HC_MEDIA_RTP_IN_H
#define HC_MEDIA_RTP_IN_H

#include <glib.h>

#define HC_RTP_IN_MAX 1500   /* largest RTP packet taken from a publisher */
#define HC_REORDER_SLOTS 256 /* packets held behind a gap at most (a power of two) */

typedef struct {
  guint8 pt;
  gboolean marker;
  guint16 seq;
  guint32 ts, ssrc;
  gsize payload_off, payload_len; /* without padding */
} HcRtpInHeader;

/* Reads the header of an RTP packet: version 2, CSRCs, header extension and
 * padding inside len. 0, or HC_EINVAL. */
int hc_rtp_in_parse(const guint8 *pkt, gsize len, HcRtpInHeader *h);

/* Called for each packet a function hands on; pkt is valid during the call. */
typedef void (*HcRtpInEmit)(const guint8 *pkt, gsize len, gpointer data);

/* Hands on an H.264 RTP packet (RFC 6184) in packets of at most max bytes:
 * as it is when it fits, else its NAL units re-fragmented as FU-A (a single
 * NAL unit or an FU-A fragment) or unpacked (STAP-A), with the marker bit on
 * the last piece only, CSRCs, header extension and padding left out.
 * Returns the number of packets handed on (0: the packet cannot be split). */
guint hc_h264_rtp_split(const guint8 *pkt, gsize len, gsize max, HcRtpInEmit emit, gpointer data);

/* Puts packets of one SSRC back in sequence order. A packet after a gap is
 * held until the missing ones arrive (retransmitted after a NACK) or the
 * wait is over; late duplicates are dropped. */
typedef struct {
  gboolean started;
  guint16 next;     /* sequence number handed on next */
  guint held;       /* packets held */
  gint64 gap_since; /* when the current gap was seen (us), 0 if none */
  guint16 highest;  /* highest sequence number held */
  struct {
    guint16 len; /* 0: empty */
    guint8 data[HC_RTP_IN_MAX];
  } slots[HC_REORDER_SLOTS];
} HcReorder;

void hc_reorder_init(HcReorder *r);
/* Takes packet seq (already parsed, len <= HC_RTP_IN_MAX); hands on what is
 * now in order. Returns TRUE if the packet opened a new gap (NACK time). */
gboolean hc_reorder_push(HcReorder *r, const guint8 *pkt, gsize len, guint16 seq, gint64 now,
                         HcRtpInEmit emit, gpointer data);
/* Gives up on a gap older than max_wait: hands on everything held, in order. */
void hc_reorder_expire(HcReorder *r, gint64 now, gint64 max_wait, HcRtpInEmit emit, gpointer data);
/* The sequence numbers still missing before the highest one held (at most
 * max, oldest first); returns how many. */
guint hc_reorder_missing(const HcReorder *r, guint16 *out, guint max);

/* Writes an RTCP generic NACK (RFC 4585) for the n sequence numbers of seqs
 * (ascending) of media_ssrc; returns its length, 0 if cap is too small. */
gsize hc_rtcp_nack(guint8 *out, gsize cap, guint32 sender_ssrc, guint32 media_ssrc,
                   const guint16 *seqs, guint n);
/* Writes an RTCP picture loss indication (RFC 4585); returns 12, or 0. */
gsize hc_rtcp_pli(guint8 *out, gsize cap, guint32 sender_ssrc, guint32 media_ssrc);

#endif
