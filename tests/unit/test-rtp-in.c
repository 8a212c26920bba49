/* Unit tests of media/rtp-in.c: what a WHIP publisher sends, before the
 * rings: header parsing, H.264 split to fit a ring slot, the reorder buffer
 * behind NACKs, and the NACK/PLI packets we send back. */
#include <string.h>

#include "media/ring.h"
#include "media/rtp-in.h"

typedef struct {
  GArray *seqs;     /* guint16 of the packets handed on */
  GByteArray *nals; /* reassembled H.264 payload bytes (split test) */
  guint packets, markers;
  gsize largest;
} Sink;

static void
sink_init(Sink *s)
{
  memset(s, 0, sizeof *s);
  s->seqs = g_array_new(FALSE, FALSE, sizeof(guint16));
  s->nals = g_byte_array_new();
}

static void
sink_clear(Sink *s)
{
  g_array_unref(s->seqs);
  g_byte_array_unref(s->nals);
}

static void
collect(const guint8 *pkt, gsize len, gpointer data)
{
  Sink *s = data;
  guint16 seq = (guint16)(pkt[2] << 8 | pkt[3]);

  g_array_append_val(s->seqs, seq);
  s->packets++;
  s->markers += (pkt[1] & 0x80) != 0;
  s->largest = MAX(s->largest, len);
}

static gsize
make_rtp(guint8 *buf, guint16 seq, gboolean marker, const guint8 *payload, gsize n)
{
  buf[0] = 0x80;
  buf[1] = (guint8)(96 | (marker ? 0x80 : 0));
  buf[2] = seq >> 8;
  buf[3] = seq & 0xff;
  memset(buf + 4, 0, 4);
  buf[8] = 0x12, buf[9] = 0x34, buf[10] = 0x56, buf[11] = 0x78;
  memcpy(buf + 12, payload, n);
  return 12 + n;
}

static void
test_parse(void)
{
  guint8 pkt[64] = {0x80 | 0x20 | 0x10 | 0x01, 0x80 | 111, 0x12, 0x34, 0, 0, 0, 9, 0, 0, 0, 7};
  HcRtpInHeader h;

  /* One CSRC, a one-word extension, 4 bytes of payload, 3 of padding. */
  pkt[16] = 0xbe, pkt[17] = 0xde, pkt[18] = 0, pkt[19] = 1;
  pkt[31] = 3;
  g_assert_cmpint(hc_rtp_in_parse(pkt, 32, &h), ==, 0);
  g_assert_cmpuint(h.pt, ==, 111);
  g_assert_true(h.marker);
  g_assert_cmpuint(h.seq, ==, 0x1234);
  g_assert_cmpuint(h.ts, ==, 9);
  g_assert_cmpuint(h.ssrc, ==, 7);
  g_assert_cmpuint(h.payload_off, ==, 24);
  g_assert_cmpuint(h.payload_len, ==, 5);
  /* Lengths that do not fit are refused. */
  g_assert_cmpint(hc_rtp_in_parse(pkt, 11, &h), !=, 0);
  g_assert_cmpint(hc_rtp_in_parse(pkt, 18, &h), !=, 0);
  pkt[31] = 40;
  g_assert_cmpint(hc_rtp_in_parse(pkt, 32, &h), !=, 0);
  pkt[0] = 0x40;
  g_assert_cmpint(hc_rtp_in_parse(pkt, 32, &h), !=, 0);
}

/* Appends a piece's NAL data, reassembling FU-A fragments into NAL units. */
static void
reassemble(const guint8 *pkt, gsize len, gpointer data)
{
  Sink *s = data;
  const guint8 *p = pkt + 12;
  gsize n = len - 12;

  collect(pkt, len, data);
  if ((p[0] & 0x1f) == 28) {
    if (p[1] & 0x80) {
      guint8 nal = (p[0] & 0xe0) | (p[1] & 0x1f);
      g_byte_array_append(s->nals, &nal, 1);
    }
    g_byte_array_append(s->nals, p + 2, (guint)(n - 2));
  } else {
    g_byte_array_append(s->nals, p, (guint)n);
  }
}

static void
test_split(void)
{
  guint8 nal[3000], pkt[HC_RTP_IN_MAX], stap[1500];
  gsize len;
  Sink s;

  for (guint i = 0; i < sizeof nal; i++)
    nal[i] = (guint8)(i * 7);
  nal[0] = 0x65; /* IDR slice */

  /* A packet that fits goes on as it is. */
  sink_init(&s);
  len = make_rtp(pkt, 1, TRUE, nal, 500);
  g_assert_cmpuint(hc_h264_rtp_split(pkt, len, HC_RING_SLOT_SIZE, reassemble, &s), ==, 1);
  g_assert_cmpuint(s.largest, ==, len);
  sink_clear(&s);

  /* A 1400-byte single NAL unit becomes FU-A fragments that fit. */
  sink_init(&s);
  len = make_rtp(pkt, 2, TRUE, nal, 1400);
  g_assert_cmpuint(hc_h264_rtp_split(pkt, len, HC_RING_SLOT_SIZE, reassemble, &s), ==, 2);
  g_assert_cmpuint(s.largest, <=, HC_RING_SLOT_SIZE);
  g_assert_cmpuint(s.markers, ==, 1);
  g_assert_cmpuint(s.nals->len, ==, 1400);
  g_assert_cmpmem(s.nals->data, 1400, nal, 1400);
  /* The first piece starts a keyframe for the ring. */
  sink_clear(&s);

  /* An FU-A fragment (middle of a NAL unit) keeps neither S nor E. */
  {
    guint8 fu[1400];
    fu[0] = 0x7c, fu[1] = 0x05; /* FU-A of an IDR, no S, no E */
    memcpy(fu + 2, nal + 1, sizeof fu - 2);
    sink_init(&s);
    len = make_rtp(pkt, 3, FALSE, fu, sizeof fu);
    g_assert_cmpuint(hc_h264_rtp_split(pkt, len, HC_RING_SLOT_SIZE, reassemble, &s), ==, 2);
    g_assert_cmpuint(s.markers, ==, 0);
    g_assert_cmpuint(s.nals->len, ==, sizeof fu - 2);
    sink_clear(&s);
  }

  /* A STAP-A too large is unpacked into its NAL units. */
  stap[0] = 0x78;
  stap[1] = 0, stap[2] = 10,
  memcpy(stap + 3,
         "\x67"
         "123456789",
         10);
  stap[13] = 0, stap[14] = 4,
  memcpy(stap + 15,
         "\x68"
         "abc",
         4);
  stap[19] = (1290 >> 8), stap[20] = 1290 & 0xff, memcpy(stap + 21, nal, 1290);
  sink_init(&s);
  len = make_rtp(pkt, 4, TRUE, stap, 21 + 1290);
  g_assert_cmpuint(hc_h264_rtp_split(pkt, len, HC_RING_SLOT_SIZE, reassemble, &s), ==, 4);
  g_assert_cmpuint(s.markers, ==, 1);
  g_assert_cmpuint(s.nals->len, ==, 10 + 4 + 1290);
  sink_clear(&s);

  /* A broken STAP-A gives nothing rather than reading past the packet. */
  stap[19] = 0x7f;
  len = make_rtp(pkt, 5, TRUE, stap, 21 + 1290);
  sink_init(&s);
  g_assert_cmpuint(hc_h264_rtp_split(pkt, len, HC_RING_SLOT_SIZE, reassemble, &s), ==, 0);
  sink_clear(&s);
}

static void
push(HcReorder *r, Sink *s, guint16 seq, gint64 now, gboolean want_gap)
{
  guint8 pkt[32];
  gsize len = make_rtp(pkt, seq, FALSE, (const guint8 *)"x", 1);

  g_assert_cmpint(hc_reorder_push(r, pkt, len, seq, now, collect, s), ==, want_gap);
}

static void
assert_seqs(Sink *s, const guint16 *want, guint n)
{
  g_assert_cmpuint(s->seqs->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpuint(g_array_index(s->seqs, guint16, i), ==, want[i]);
}

static void
test_reorder(void)
{
  HcReorder *r = g_new(HcReorder, 1);
  guint16 missing[8];
  Sink s;

  hc_reorder_init(r);
  sink_init(&s);
  /* In order, across the wrap of sequence numbers. */
  push(r, &s, 65534, 0, FALSE);
  push(r, &s, 65535, 0, FALSE);
  push(r, &s, 0, 0, FALSE);
  /* 1 and 2 lost: 3 opens a gap, 4 does not open another. */
  push(r, &s, 3, 1000, TRUE);
  push(r, &s, 4, 1000, FALSE);
  g_assert_cmpuint(hc_reorder_missing(r, missing, 8), ==, 2);
  g_assert_cmpuint(missing[0], ==, 1);
  g_assert_cmpuint(missing[1], ==, 2);
  /* 6 skips 5: a new missing number, NACK again. */
  push(r, &s, 6, 2000, TRUE);
  /* The retransmissions of 2 then 1 release everything up to the hole at 5. */
  push(r, &s, 2, 3000, FALSE);
  push(r, &s, 1, 3000, FALSE);
  {
    static const guint16 want[] = {65534, 65535, 0, 1, 2, 3, 4};
    assert_seqs(&s, want, G_N_ELEMENTS(want));
  }
  /* A late duplicate is dropped. */
  push(r, &s, 3, 3000, FALSE);
  g_assert_cmpuint(s.seqs->len, ==, 7);
  /* 5 never comes: after the wait, 6 goes on alone. */
  hc_reorder_expire(r, 100000, 200000, collect, &s);
  g_assert_cmpuint(s.seqs->len, ==, 7);
  hc_reorder_expire(r, 300000, 200000, collect, &s);
  g_assert_cmpuint(s.seqs->len, ==, 8);
  g_assert_cmpuint(g_array_index(s.seqs, guint16, 7), ==, 6);
  push(r, &s, 7, 300000, FALSE);
  g_assert_cmpuint(s.seqs->len, ==, 9);
  /* A jump far ahead (the sender started again) starts over there. */
  push(r, &s, 30000, 400000, FALSE);
  g_assert_cmpuint(g_array_index(s.seqs, guint16, 9), ==, 30000);
  g_assert_cmpuint(r->held, ==, 0);
  sink_clear(&s);
  g_free(r);
}

static void
test_feedback(void)
{
  guint8 buf[64];
  static const guint16 seqs[] = {100, 101, 116, 117, 300};
  gsize n = hc_rtcp_nack(buf, sizeof buf, 1, 0xabcdef01, seqs, G_N_ELEMENTS(seqs));

  /* 100 with 101 and 116 in its bitmask; 117 and 300 each start an entry. */
  g_assert_cmpuint(n, ==, 12 + 3 * 4);
  g_assert_cmpuint(buf[0], ==, 0x81);
  g_assert_cmpuint(buf[1], ==, 205);
  g_assert_cmpuint(buf[3], ==, n / 4 - 1);
  g_assert_cmpuint(buf[8], ==, 0xab);
  g_assert_cmpuint(buf[12] << 8 | buf[13], ==, 100);
  g_assert_cmpuint(buf[14] << 8 | buf[15], ==, (1u << 0) | (1u << 15));
  g_assert_cmpuint(buf[16] << 8 | buf[17], ==, 117);
  g_assert_cmpuint(buf[20] << 8 | buf[21], ==, 300);
  g_assert_cmpuint(hc_rtcp_nack(buf, 15, 1, 2, seqs, 1), ==, 0);
  g_assert_cmpuint(hc_rtcp_pli(buf, sizeof buf, 1, 2), ==, 12);
  g_assert_cmpuint(buf[1], ==, 206);
  g_assert_cmpuint(buf[11], ==, 2);
  g_assert_cmpuint(hc_rtcp_pli(buf, 11, 1, 2), ==, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rtp-in/parse", test_parse);
  g_test_add_func("/rtp-in/split", test_split);
  g_test_add_func("/rtp-in/reorder", test_reorder);
  g_test_add_func("/rtp-in/feedback", test_feedback);
  return g_test_run();
}
