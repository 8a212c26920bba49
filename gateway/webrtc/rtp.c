/* RTP header rewrite and RTCP parsing/writing (see rtp.h). The RTCP parser
 * reads decrypted bytes from viewers, so each header length is checked
 * against what is left. Used by media/fanout.c. */
#include "rtp.h"

#include "bytes.h"
#include "core/error.h"

#define NTP_UNIX_OFFSET 2208988800ull

enum { RTCP_SR = 200, RTCP_RR = 201, RTCP_RTPFB = 205, RTCP_PSFB = 206 };

int
hc_rtp_rewrite(guint8 *pkt, gsize len, guint8 pt, guint16 seq, guint32 ts_offset, guint32 ssrc)
{
  if (len < 12 || (pkt[0] >> 6) != 2)
    return HC_EINVAL;
  pkt[1] = (pkt[1] & 0x80) | (pt & 0x7f);
  pkt[2] = seq >> 8;
  pkt[3] = seq & 0xff;
  hc_wr32(pkt + 4, hc_rd32(pkt + 4) + ts_offset);
  hc_wr32(pkt + 8, ssrc);
  return 0;
}

guint32
hc_rtp_timestamp(const guint8 *pkt)
{
  return hc_rd32(pkt + 4);
}

/* Report blocks of an SR or RR: 24 bytes each, after the sender's part. */
static void
report_blocks(const guint8 *p, gsize plen, gsize skip, guint count, const HcRtcpHandler *h,
              gpointer data)
{
  for (guint i = 0; i < count && skip + 24 * (i + 1) <= plen; i++) {
    const guint8 *b = p + skip + 24 * i;
    gint32 lost = (gint32)(((guint32)b[5] << 16 | (guint32)b[6] << 8 | b[7]) << 8) >> 8;

    if (h->report)
      h->report(data, hc_rd32(b), b[4], lost, hc_rd32(b + 12), hc_rd32(b + 16), hc_rd32(b + 20));
  }
}

int
hc_rtcp_parse(const guint8 *buf, gsize len, const HcRtcpHandler *h, gpointer data)
{
  gsize off = 0;

  while (off < len) {
    const guint8 *p = buf + off;
    guint count, type;
    gsize plen;

    if (len - off < 4 || (p[0] >> 6) != 2)
      return HC_EINVAL;
    count = p[0] & 0x1f;
    type = p[1];
    plen = 4 * ((gsize)(p[2] << 8 | p[3]) + 1);
    if (plen > len - off)
      return HC_EINVAL;
    if (type == RTCP_SR && plen >= 28)
      report_blocks(p, plen, 28, count, h, data);
    else if (type == RTCP_RR && plen >= 8)
      report_blocks(p, plen, 8, count, h, data);
    else if (type == RTCP_RTPFB && count == 1 && plen >= 12) {
      /* Generic NACK (RFC 4585 6.2.1): FCI of (PID, BLP) pairs. */
      guint32 media = hc_rd32(p + 8);
      for (gsize f = 12; f + 4 <= plen; f += 4) {
        guint16 pid = (guint16)(p[f] << 8 | p[f + 1]);
        guint16 blp = (guint16)(p[f + 2] << 8 | p[f + 3]);
        if (h->nack) {
          h->nack(data, media, pid);
          for (guint b = 0; b < 16; b++)
            if (blp & (1u << b))
              h->nack(data, media, (guint16)(pid + b + 1));
        }
      }
    } else if (type == RTCP_PSFB && count == 1 && plen >= 12) {
      if (h->keyframe)
        h->keyframe(data, hc_rd32(p + 8)); /* PLI */
    } else if (type == RTCP_PSFB && count == 4 && plen >= 20) {
      /* FIR (RFC 5104 4.3.1): FCI entries of (SSRC, seq, reserved). */
      for (gsize f = 12; f + 8 <= plen; f += 8)
        if (h->keyframe)
          h->keyframe(data, hc_rd32(p + f));
    }
    off += plen;
  }
  return 0;
}

gsize
hc_rtcp_sender_report(guint8 *out, gsize cap, guint32 ssrc, guint64 ntp, guint32 rtp_ts,
                      guint32 packets, guint32 octets)
{
  if (cap < 28)
    return 0;
  out[0] = 0x80;
  out[1] = RTCP_SR;
  out[2] = 0;
  out[3] = 6; /* 28 bytes / 4 - 1 */
  hc_wr32(out + 4, ssrc);
  hc_wr32(out + 8, (guint32)(ntp >> 32));
  hc_wr32(out + 12, (guint32)ntp);
  hc_wr32(out + 16, rtp_ts);
  hc_wr32(out + 20, packets);
  hc_wr32(out + 24, octets);
  return 28;
}

guint64
hc_ntp_now(void)
{
  gint64 us = g_get_real_time();
  guint64 secs = (guint64)(us / G_USEC_PER_SEC) + NTP_UNIX_OFFSET;
  guint64 frac = ((guint64)(us % G_USEC_PER_SEC) << 32) / G_USEC_PER_SEC;

  return secs << 32 | frac;
}
