/* Unit tests of media/ring.c (wrap-around, NACK-style lookups of old
 * indexes, the keyframe cache for fast start) and of webrtc/rtp.c (the
 * per-viewer header rewrite, RTCP feedback parsing, sender reports). */
#include <string.h>

#include "core/error.h"
#include "media/ring.h"
#include "media/viewer.h"
#include "webrtc/rtp.h"

/* An RTP packet with seq, marker, and a payload whose first byte is nal. */
static gsize
packet(guint8 *buf, guint16 seq, gboolean marker, guint8 nal, gsize len)
{
  memset(buf, 0xab, len);
  buf[0] = 0x80;
  buf[1] = (marker ? 0x80 : 0) | 96;
  buf[2] = seq >> 8;
  buf[3] = seq & 0xff;
  buf[4] = buf[5] = buf[6] = 0;
  buf[7] = (guint8)seq;
  memset(buf + 8, 0x11, 4);
  buf[12] = nal;
  return len;
}

static void
test_wrap_and_lookup(void)
{
  HcRing *r = hc_ring_new(16, FALSE);
  guint8 pkt[200], out[HC_RING_SLOT_SIZE];
  gint64 t;

  g_assert_cmpuint(r->size, ==, 16);
  for (guint16 i = 0; i < 40; i++)
    g_assert_cmpint(hc_ring_push(r, pkt, packet(pkt, i, FALSE, 1, 100 + i), 1000 + i), ==, 0);
  g_assert_cmpuint(hc_ring_head(r), ==, 40);
  /* Not written yet, and overwritten: both absent. */
  g_assert_cmpuint(hc_ring_read(r, 40, out, NULL, NULL), ==, 0);
  g_assert_cmpuint(hc_ring_read(r, 24, out, NULL, NULL), ==, 0);
  g_assert_cmpuint(hc_ring_read(r, 0, out, NULL, NULL), ==, 0);
  /* The last size-1 packets are there with their own bytes after wrapping twice. */
  for (guint64 i = 25; i < 40; i++) {
    g_assert_cmpuint(hc_ring_read(r, i, out, NULL, &t), ==, 100 + i);
    g_assert_cmpuint(out[3], ==, (guint8)i);
    g_assert_cmpint(t, ==, 1000 + (gint64)i);
  }
  hc_ring_free(r);
}

static void
test_refuses_bad_packets(void)
{
  HcRing *r = hc_ring_new(16, TRUE);
  guint8 big[HC_RING_SLOT_SIZE + 1];

  g_assert_cmpint(hc_ring_push(r, big, packet(big, 1, TRUE, 1, sizeof big), 0), ==, HC_EINVAL);
  g_assert_cmpint(hc_ring_push(r, big, 11, 0), ==, HC_EINVAL);
  big[0] = 0x40; /* version 1 */
  g_assert_cmpint(hc_ring_push(r, big, 100, 0), ==, HC_EINVAL);
  g_assert_cmpuint(hc_ring_head(r), ==, 0);
  hc_ring_free(r);
}

static void
test_keyframe_cache(void)
{
  HcRing *r = hc_ring_new(64, TRUE);
  guint8 pkt[100], out[HC_RING_SLOT_SIZE];
  gboolean key = FALSE;
  guint16 seq = 0;

  g_assert_cmpuint(hc_ring_start_index(r), ==, 0);
  /* Delta frames only: a new reader starts at the head. */
  for (int i = 0; i < 3; i++)
    hc_ring_push(r, pkt, packet(pkt, seq++, TRUE, 1, 100), 0);
  g_assert_cmpuint(hc_ring_start_index(r), ==, 3);
  /* A keyframe: STAP-A with SPS+PPS, then FU-A of an IDR over 3 packets. */
  {
    guint8 stap[] = {24, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce};
    gsize n = packet(pkt, seq++, FALSE, 24, 12 + sizeof stap);
    memcpy(pkt + 12, stap, sizeof stap);
    hc_ring_push(r, pkt, n, 0);
  }
  g_assert_true(hc_h264_rtp_is_key((const guint8[]){24, 0, 2, 0x67, 0x42, 0, 2, 0x68, 0xce}, 9));
  g_assert_true(hc_h264_rtp_is_key((const guint8[]){28, 0x85}, 2));
  g_assert_false(hc_h264_rtp_is_key((const guint8[]){28, 0x05}, 2));       /* not the start */
  g_assert_false(hc_h264_rtp_is_key((const guint8[]){24, 0, 9, 0x67}, 4)); /* truncated */
  hc_ring_push(r, pkt, packet(pkt, seq++, FALSE, 0x7c, 100), 0);
  hc_ring_push(r, pkt, packet(pkt, seq++, TRUE, 0x7c, 100), 0);
  for (int i = 0; i < 5; i++)
    hc_ring_push(r, pkt, packet(pkt, seq++, TRUE, 1, 100), 0);
  g_assert_cmpuint(hc_ring_start_index(r), ==, 3);
  g_assert_cmpuint(hc_ring_read(r, 3, out, &key, NULL), >, 0);
  g_assert_true(key);
  g_assert_cmpuint(hc_ring_read(r, 4, out, &key, NULL), >, 0);
  g_assert_false(key);
  /* Once the keyframe is about to be overwritten, readers start at the head. */
  for (int i = 0; i < 60; i++)
    hc_ring_push(r, pkt, packet(pkt, seq++, TRUE, 1, 100), 0);
  g_assert_cmpuint(hc_ring_start_index(r), ==, hc_ring_head(r));
  hc_ring_free(r);
}

/* NACK lookup: a viewer that started at ring index 1000 with sequence
 * numbers from 65530 (so they wrap) asks for lost packets by number. */
static void
test_nack_lookup(void)
{
  HcRing *r = hc_ring_new(256, FALSE);
  HcViewerTrack t = {.ring = r, .seq_base = 65530, .started = TRUE, .first = 1000, .next = 1000};
  guint8 pkt[100], out[HC_RING_SLOT_SIZE];

  g_assert_cmpuint(hc_viewer_track_index(&t, 65530), ==, G_MAXUINT64); /* nothing sent */
  for (int i = 0; i < 1300; i++)
    hc_ring_push(r, pkt, packet(pkt, (guint16)i, TRUE, 1, 100), 0);
  t.next = 1200; /* sent ring packets 1000..1199, numbered 65530, ..., 65535, 0, ..., 193 */
  g_assert_cmpuint(hc_viewer_track_index(&t, 65530), ==, 1000);
  g_assert_cmpuint(hc_viewer_track_index(&t, 65535), ==, 1005);
  g_assert_cmpuint(hc_viewer_track_index(&t, 0), ==, 1006);
  g_assert_cmpuint(hc_viewer_track_index(&t, 193), ==, 1199);
  /* Not sent yet, and sent before this viewer's first packet. */
  g_assert_cmpuint(hc_viewer_track_index(&t, 194), ==, G_MAXUINT64);
  g_assert_cmpuint(hc_viewer_track_index(&t, 65529), ==, G_MAXUINT64);
  /* The looked-up packet is the ring's own (its original sequence number). */
  g_assert_cmpuint(hc_ring_read(r, hc_viewer_track_index(&t, 100), out, NULL, NULL), ==, 100);
  g_assert_cmpuint((guint)(out[2] << 8 | out[3]), ==, 1106);
  /* Older than the ring can hold: gone. */
  t.next = 1299;
  t.first = 1000;
  g_assert_cmpuint(hc_viewer_track_index(&t, 65530), ==, G_MAXUINT64);
  g_assert_cmpuint(hc_viewer_track_index(&t, (guint16)(65530 + 298)), ==, 1298);
  hc_ring_free(r);
}

static void
test_rewrite(void)
{
  guint8 pkt[20];

  packet(pkt, 0x1234, TRUE, 1, sizeof pkt);
  pkt[4] = 0xff, pkt[5] = 0xff, pkt[6] = 0xff, pkt[7] = 0xf0;
  g_assert_cmpint(hc_rtp_rewrite(pkt, sizeof pkt, 102, 7, 0x20, 0xdeadbeef), ==, 0);
  g_assert_cmphex(pkt[0], ==, 0x80);
  g_assert_cmphex(pkt[1], ==, 0x80 | 102); /* marker kept */
  g_assert_cmphex(pkt[2] << 8 | pkt[3], ==, 7);
  g_assert_cmphex(hc_rtp_timestamp(pkt), ==, 0x10); /* wraps */
  g_assert_cmphex((guint32)pkt[8] << 24 | (guint32)pkt[9] << 16 | pkt[10] << 8 | pkt[11], ==,
                  0xdeadbeef);
  g_assert_cmphex(pkt[12], ==, 1); /* payload untouched */
  packet(pkt, 1, FALSE, 1, sizeof pkt);
  g_assert_cmpint(hc_rtp_rewrite(pkt, sizeof pkt, 102, 7, 0, 1), ==, 0);
  g_assert_cmphex(pkt[1], ==, 102);
  g_assert_cmpint(hc_rtp_rewrite(pkt, 11, 102, 7, 0, 1), ==, HC_EINVAL);
  pkt[0] = 0;
  g_assert_cmpint(hc_rtp_rewrite(pkt, sizeof pkt, 102, 7, 0, 1), ==, HC_EINVAL);
}

typedef struct {
  int reports, nacks, keyframes;
  guint16 seqs[32];
  guint32 lost, jitter;
} Seen;

static void
on_report(gpointer d, guint32 ssrc, guint8 f, gint32 lost, guint32 jitter, guint32 lsr,
          guint32 dlsr)
{
  Seen *s = d;
  s->reports++;
  s->lost = (guint32)lost;
  s->jitter = jitter;
}

static void
on_nack(gpointer d, guint32 ssrc, guint16 seq)
{
  Seen *s = d;
  if (s->nacks < 32)
    s->seqs[s->nacks] = seq;
  s->nacks++;
}

static void
on_key(gpointer d, guint32 ssrc)
{
  ((Seen *)d)->keyframes++;
}

static void
test_rtcp_feedback(void)
{
  static const HcRtcpHandler h = {on_report, on_nack, on_key};
  /* RR with one block (lost 3, jitter 17), generic NACK PID 100 BLP 0x8001,
   * PLI: a compound packet as a browser sends it. */
  const guint8 rtcp[] = {
    0x81, 201, 0, 7,  0,    0,   0, 1, /* RR, one block */
    0,    0,   0, 42, 0x10, 0,   0, 3, 0, 0, 0, 0,  0, 0, 0, 17, 0, 0,   0,    0,
    0,    0,   0, 0,  0x81, 205, 0, 3, 0, 0, 0, 1,  0, 0, 0, 42, 0, 100, 0x80, 0x01, /* NACK */
    0x81, 206, 0, 2,  0,    0,   0, 1, 0, 0, 0, 42,                                  /* PLI */
  };
  Seen s = {0};

  g_assert_cmpint(hc_rtcp_parse(rtcp, sizeof rtcp, &h, &s), ==, 0);
  g_assert_cmpint(s.reports, ==, 1);
  g_assert_cmpuint(s.lost, ==, 3);
  g_assert_cmpuint(s.jitter, ==, 17);
  g_assert_cmpint(s.nacks, ==, 3);
  g_assert_cmpuint(s.seqs[0], ==, 100);
  g_assert_cmpuint(s.seqs[1], ==, 101);
  g_assert_cmpuint(s.seqs[2], ==, 116);
  g_assert_cmpint(s.keyframes, ==, 1);
  /* A length past the end stops the walk with an error. */
  memset(&s, 0, sizeof s);
  g_assert_cmpint(hc_rtcp_parse(rtcp, sizeof rtcp - 1, &h, &s), ==, HC_EINVAL);
}

static void
test_sender_report(void)
{
  guint8 out[28];
  Seen s = {0};
  static const HcRtcpHandler h = {on_report, on_nack, on_key};

  g_assert_cmpuint(hc_rtcp_sender_report(out, 27, 1, 2, 3, 4, 5), ==, 0);
  g_assert_cmpuint(
    hc_rtcp_sender_report(out, sizeof out, 0x01020304, 0x1122334455667788ull, 90000, 10, 12000), ==,
    28);
  g_assert_cmphex(out[1], ==, 200);
  g_assert_cmphex(out[8], ==, 0x11);
  g_assert_cmphex(out[15], ==, 0x88);
  g_assert_true(hc_rtp_is_rtcp(out, sizeof out));
  g_assert_cmpint(hc_rtcp_parse(out, sizeof out, &h, &s), ==, 0);
  g_assert_cmpint(s.reports, ==, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/ring/wrap-and-lookup", test_wrap_and_lookup);
  g_test_add_func("/ring/refuses-bad-packets", test_refuses_bad_packets);
  g_test_add_func("/ring/keyframe-cache", test_keyframe_cache);
  g_test_add_func("/ring/nack-lookup", test_nack_lookup);
  g_test_add_func("/rtp/rewrite", test_rewrite);
  g_test_add_func("/rtcp/feedback", test_rtcp_feedback);
  g_test_add_func("/rtcp/sender-report", test_sender_report);
  return g_test_run();
}
