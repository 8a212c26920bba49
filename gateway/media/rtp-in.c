/* RTP from a WHIP publisher (see rtp-in.h): header parsing, H.264 packets
 * split to fit a ring slot, the reorder buffer behind NACKs, and the RTCP
 * feedback we send back. Every length is checked before it is read; the
 * fuzz target tests/fuzz/fuzz-rtp-in.c feeds it hostile bytes. */
#include "rtp-in.h"

#include <string.h>

#include "core/error.h"

int
hc_rtp_in_parse(const guint8 *pkt, gsize len, HcRtpInHeader *h)
{
  gsize off, pad = 0;

  if (len < 12 || (pkt[0] >> 6) != 2)
    return HC_EINVAL;
  off = 12 + 4 * (gsize)(pkt[0] & 0x0f);
  if (pkt[0] & 0x10) {
    if (off + 4 > len)
      return HC_EINVAL;
    off += 4 + 4 * (((gsize)pkt[off + 2] << 8) | pkt[off + 3]);
  }
  if (off > len)
    return HC_EINVAL;
  if (pkt[0] & 0x20) {
    pad = pkt[len - 1];
    if (pad == 0 || pad > len - off)
      return HC_EINVAL;
  }
  h->pt = pkt[1] & 0x7f;
  h->marker = (pkt[1] & 0x80) != 0;
  h->seq = (guint16)(pkt[2] << 8 | pkt[3]);
  h->ts = (guint32)pkt[4] << 24 | (guint32)pkt[5] << 16 | (guint32)pkt[6] << 8 | pkt[7];
  h->ssrc = (guint32)pkt[8] << 24 | (guint32)pkt[9] << 16 | (guint32)pkt[10] << 8 | pkt[11];
  h->payload_off = off;
  h->payload_len = len - off - pad;
  return 0;
}

enum { NAL_STAP_A = 24, NAL_FU_A = 28 };

typedef struct {
  guint8 hdr[12];  /* the original fixed header without P, X, CC and marker */
  gboolean marker; /* the original packet ended an access unit */
  gsize max;
  HcRtpInEmit emit;
  gpointer data;
  guint count;
  guint8 out[HC_RTP_IN_MAX];
} Splitter;

/* Emits header + prefix (plen bytes) + body (blen bytes). */
static void
emit_piece(Splitter *s, const guint8 *prefix, gsize plen, const guint8 *body, gsize blen,
           gboolean last)
{
  memcpy(s->out, s->hdr, 12);
  if (last && s->marker)
    s->out[1] |= 0x80;
  memcpy(s->out + 12, prefix, plen);
  memcpy(s->out + 12 + plen, body, blen);
  s->emit(s->out, 12 + plen + blen, s->data);
  s->count++;
}

/* One NAL unit (or the rest of a fragmented one) as FU-A pieces. start and
 * end say whether the first and last piece carry the S and E bits. */
static void
fragment(Splitter *s, guint8 indicator, guint8 type, const guint8 *body, gsize blen, gboolean start,
         gboolean end, gboolean last)
{
  gsize chunk = s->max - 12 - 2;

  while (blen > 0) {
    gsize n = MIN(chunk, blen);
    guint8 fu[2] = {indicator, type};

    if (start)
      fu[1] |= 0x80;
    if (n == blen && end)
      fu[1] |= 0x40;
    emit_piece(s, fu, 2, body, n, last && n == blen);
    start = FALSE;
    body += n;
    blen -= n;
  }
}

/* A whole NAL unit: one packet if it fits, else FU-A. */
static void
nal_unit(Splitter *s, const guint8 *nal, gsize n, gboolean last)
{
  if (12 + n <= s->max)
    emit_piece(s, nal, 1, nal + 1, n - 1, last);
  else
    fragment(s, (nal[0] & 0xe0) | NAL_FU_A, nal[0] & 0x1f, nal + 1, n - 1, TRUE, TRUE, last);
}

guint
hc_h264_rtp_split(const guint8 *pkt, gsize len, gsize max, HcRtpInEmit emit, gpointer data)
{
  HcRtpInHeader h;
  const guint8 *p;
  gsize n;
  guint8 type;
  Splitter *s;
  guint count;

  if (len > HC_RTP_IN_MAX || hc_rtp_in_parse(pkt, len, &h) != 0 || h.payload_len == 0)
    return 0;
  if (len <= max) {
    emit(pkt, len, data);
    return 1;
  }
  if (max < 12 + 2 + 1 || max > HC_RTP_IN_MAX)
    return 0;
  p = pkt + h.payload_off;
  n = h.payload_len;
  type = p[0] & 0x1f;
  s = g_new(Splitter, 1);
  memcpy(s->hdr, pkt, 12);
  s->hdr[0] &= 0xc0;
  s->hdr[1] &= 0x7f;
  s->marker = h.marker;
  s->max = max;
  s->emit = emit;
  s->data = data;
  s->count = 0;
  if (type >= 1 && type <= 23) {
    nal_unit(s, p, n, TRUE);
  } else if (type == NAL_FU_A && n > 2) {
    fragment(s, p[0], p[1] & 0x1f, p + 2, n - 2, (p[1] & 0x80) != 0, (p[1] & 0x40) != 0, TRUE);
  } else if (type == NAL_STAP_A) {
    /* 1-byte header, then (16-bit size, NAL unit) pairs; check them all first. */
    gsize off = 1, units = 0;

    while (off + 2 <= n) {
      gsize u = ((gsize)p[off] << 8) | p[off + 1];
      if (u == 0 || off + 2 + u > n)
        break;
      off += 2 + u;
      units++;
    }
    if (off == n && units > 0) {
      off = 1;
      while (off < n) {
        gsize u = ((gsize)p[off] << 8) | p[off + 1];
        nal_unit(s, p + off + 2, u, off + 2 + u == n);
        off += 2 + u;
      }
    }
  }
  count = s->count;
  g_free(s);
  return count;
}

void
hc_reorder_init(HcReorder *r)
{
  r->started = FALSE;
  r->held = 0;
  r->gap_since = 0;
  for (guint i = 0; i < HC_REORDER_SLOTS; i++)
    r->slots[i].len = 0;
}

#define SLOT(r, seq) (&(r)->slots[(seq) & (HC_REORDER_SLOTS - 1)])

/* Hands on the held packets from next up to the first hole. */
static void
drain(HcReorder *r, HcRtpInEmit emit, gpointer data)
{
  while (r->held && SLOT(r, r->next)->len) {
    emit(SLOT(r, r->next)->data, SLOT(r, r->next)->len, data);
    SLOT(r, r->next)->len = 0;
    r->held--;
    r->next++;
  }
  if (!r->held)
    r->gap_since = 0;
}

/* Hands on everything held, holes skipped. */
static void
flush(HcReorder *r, HcRtpInEmit emit, gpointer data)
{
  while (r->held) {
    if (SLOT(r, r->next)->len) {
      emit(SLOT(r, r->next)->data, SLOT(r, r->next)->len, data);
      SLOT(r, r->next)->len = 0;
      r->held--;
    }
    r->next++;
  }
  r->gap_since = 0;
}

gboolean
hc_reorder_push(HcReorder *r, const guint8 *pkt, gsize len, guint16 seq, gint64 now,
                HcRtpInEmit emit, gpointer data)
{
  guint16 d, before;
  gboolean gap;

  if (len == 0 || len > HC_RTP_IN_MAX)
    return FALSE;
  if (!r->started) {
    r->started = TRUE;
    r->next = seq;
  }
  d = (guint16)(seq - r->next);
  if (d >= 0x8000)
    return FALSE; /* late or a duplicate */
  if (d >= HC_REORDER_SLOTS) {
    /* Far ahead (a long loss, or the sender started again): start over here. */
    flush(r, emit, data);
    r->next = seq;
    d = 0;
  }
  if (d == 0) {
    emit(pkt, len, data);
    r->next++;
    drain(r, emit, data);
    return FALSE;
  }
  if (SLOT(r, seq)->len)
    return FALSE;
  memcpy(SLOT(r, seq)->data, pkt, len);
  SLOT(r, seq)->len = (guint16)len;
  before = r->held ? r->highest : (guint16)(r->next - 1);
  gap = (guint16)(seq - before) > 1 && (guint16)(seq - before) < 0x8000;
  if (!r->held || (guint16)(seq - r->highest) < 0x8000)
    r->highest = seq;
  r->held++;
  if (!r->gap_since)
    r->gap_since = now ? now : 1;
  return gap;
}

void
hc_reorder_expire(HcReorder *r, gint64 now, gint64 max_wait, HcRtpInEmit emit, gpointer data)
{
  if (r->held && r->gap_since && now - r->gap_since >= max_wait)
    flush(r, emit, data);
}

guint
hc_reorder_missing(const HcReorder *r, guint16 *out, guint max)
{
  guint n = 0;

  if (!r->held)
    return 0;
  for (guint16 s = r->next; s != r->highest && n < max; s++)
    if (!r->slots[s & (HC_REORDER_SLOTS - 1)].len)
      out[n++] = s;
  return n;
}

static void
put32(guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

gsize
hc_rtcp_nack(guint8 *out, gsize cap, guint32 sender_ssrc, guint32 media_ssrc, const guint16 *seqs,
             guint n)
{
  gsize len = 12;

  if (n == 0 || cap < 16)
    return 0;
  for (guint i = 0; i < n;) {
    guint16 pid = seqs[i], blp = 0;

    if (len + 4 > cap)
      break;
    for (i++; i < n && (guint16)(seqs[i] - pid) >= 1 && (guint16)(seqs[i] - pid) <= 16; i++)
      blp |= (guint16)(1u << ((guint16)(seqs[i] - pid) - 1));
    out[len] = pid >> 8;
    out[len + 1] = pid & 0xff;
    out[len + 2] = blp >> 8;
    out[len + 3] = blp & 0xff;
    len += 4;
  }
  out[0] = 0x81; /* V=2, FMT=1: generic NACK */
  out[1] = 205;  /* RTPFB */
  out[2] = (guint8)((len / 4 - 1) >> 8);
  out[3] = (guint8)(len / 4 - 1);
  put32(out + 4, sender_ssrc);
  put32(out + 8, media_ssrc);
  return len;
}

gsize
hc_rtcp_pli(guint8 *out, gsize cap, guint32 sender_ssrc, guint32 media_ssrc)
{
  if (cap < 12)
    return 0;
  out[0] = 0x81; /* V=2, FMT=1: PLI */
  out[1] = 206;  /* PSFB */
  out[2] = 0;
  out[3] = 2;
  put32(out + 4, sender_ssrc);
  put32(out + 8, media_ssrc);
  return 12;
}
