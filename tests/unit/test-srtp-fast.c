/* Interop of the fan-out's own SRTP protect (webrtc/srtp-fast.c) with
 * libsrtp: for both profiles, packets protected by hc_srtp_fast_protect are
 * byte for byte what libsrtp's srtp_protect makes from the same keys, and
 * libsrtp's srtp_unprotect (a viewer) takes them back, across sequence
 * number wraps (the rollover counter), with two SSRCs, CSRCs, a header
 * extension, reordering and NACK retransmissions. */
#include <glib.h>
#include <string.h>

#ifdef HC_SRTP_BUNDLED
#include <srtp.h>
#else
#include <srtp2/srtp.h>
#endif

#include "webrtc/srtp-fast.h"
#include "webrtc/srtp.h"

#define CAP (1500 + HC_SRTP_TRAILER)

typedef struct {
  int profile;
  guint8 key[HC_SRTP_MAX_KEY];
  HcSrtpFast *fast;
  HcSrtp *ref; /* libsrtp sending with the same key */
  srtp_t viewer;
} Pair;

static void
pair_init(Pair *p, int profile, guint8 seed)
{
  srtp_policy_t pol;

  memset(p, 0, sizeof *p);
  p->profile = profile;
  for (guint i = 0; i < sizeof p->key; i++)
    p->key[i] = (guint8)(seed + 37 * i);
  p->fast = hc_srtp_fast_new(profile, p->key);
  g_assert_nonnull(p->fast);
  p->ref = hc_srtp_new(profile, p->key, p->key);
  g_assert_nonnull(p->ref);
  memset(&pol, 0, sizeof pol);
  if (profile == 0x0007) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&pol.rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol.rtcp);
  }
  pol.ssrc.type = ssrc_any_inbound;
  pol.key = p->key;
  pol.window_size = 1024;
  g_assert_cmpint(srtp_create(&p->viewer, &pol), ==, srtp_err_status_ok);
}

static void
pair_clear(Pair *p)
{
  hc_srtp_fast_free(p->fast);
  hc_srtp_free(p->ref);
  srtp_dealloc(p->viewer);
}

/* An RTP packet of len bytes: ssrc, seq, a payload that depends on both;
 * with csrc > 0 CSRCs and, if ext, a one-word header extension. */
static int
make_rtp(guint8 *buf, int len, guint32 ssrc, guint16 seq, int csrc, gboolean ext)
{
  int h = 12;

  buf[0] = (guint8)(0x80 | (ext ? 0x10 : 0) | csrc);
  buf[1] = 96;
  buf[2] = (guint8)(seq >> 8);
  buf[3] = (guint8)seq;
  buf[4] = buf[5] = 0;
  buf[6] = (guint8)(seq >> 2);
  buf[7] = 9;
  buf[8] = (guint8)(ssrc >> 24);
  buf[9] = (guint8)(ssrc >> 16);
  buf[10] = (guint8)(ssrc >> 8);
  buf[11] = (guint8)ssrc;
  for (int i = 0; i < csrc; i++, h += 4)
    memset(buf + h, 0x40 + i, 4);
  if (ext) {
    static const guint8 e[8] = {0xbe, 0xde, 0, 1, 0x10, 0x55, 0, 0};
    memcpy(buf + h, e, sizeof e);
    h += sizeof e;
  }
  for (int i = h; i < len; i++)
    buf[i] = (guint8)(i * 7 + seq + ssrc);
  return len;
}

/* Protects with both, checks the bytes are equal, unprotects as the viewer
 * does (unless it is a repeat, which a viewer rightly drops as a replay). */
static void
check_one(Pair *p, guint32 ssrc, guint16 seq, int len, int csrc, gboolean ext, gboolean repeat)
{
  guint8 plain[CAP], fast[CAP], ref[CAP];
  int n = make_rtp(plain, len, ssrc, seq, csrc, ext), nf = n, nr = n;

  memcpy(fast, plain, n);
  memcpy(ref, plain, n);
  g_assert_cmpint(hc_srtp_fast_protect(p->fast, fast, &nf), ==, 0);
  g_assert_cmpint(hc_srtp_protect(p->ref, ref, &nr), ==, 0);
  g_assert_cmpint(nf, ==, n + (p->profile == 0x0007 ? 16 : 10));
  g_assert_cmpmem(fast, nf, ref, nr);
  if (repeat)
    return;
  g_assert_cmpint(srtp_unprotect(p->viewer, fast, &nf), ==, srtp_err_status_ok);
  g_assert_cmpmem(fast, nf, plain, n);
}

static void
test_interop(gconstpointer data)
{
  int profile = GPOINTER_TO_INT(data);
  Pair p;
  guint16 video = 65000, audio = 65500;

  pair_init(&p, profile, 11);
  /* Two wraps of the video SSRC and one of the audio, sizes 29..1200. */
  for (int i = 0; i < 80000; i++) {
    if (i % 9 == 0)
      check_one(&p, 0xa1b2c3d4, audio++, 100 + i % 60, 0, FALSE, FALSE);
    else
      check_one(&p, 0x0badcafe, video++, 29 + (i * 131) % 1172, i % 5 == 0 ? 2 : 0, i % 7 == 0,
                FALSE);
    /* A NACK retransmission now and then, some from before the last wrap. */
    if (i % 997 == 0 && i > 2000)
      check_one(&p, 0x0badcafe, (guint16)(video - 1 - i % 700), 1200, 0, FALSE, TRUE);
  }
  pair_clear(&p);
}

/* Reordering across a wrap: a late packet from before it still gets the old
 * rollover counter; an early one after it the new. */
static void
test_reorder(gconstpointer data)
{
  static const guint16 seqs[] = {65530, 65532, 65531, 65534, 1, 65535, 0, 3, 2, 4};
  Pair p;

  pair_init(&p, GPOINTER_TO_INT(data), 99);
  /* Past the first 32768 so the index is estimated, not assumed in ROC 0. */
  for (guint32 s = 30000; s < 65530; s += 7)
    check_one(&p, 42, (guint16)s, 200, 0, FALSE, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS(seqs); i++)
    check_one(&p, 42, seqs[i], 1200, 1, TRUE, FALSE);
  pair_clear(&p);
}

static void
test_refuse(void)
{
  guint8 key[HC_SRTP_MAX_KEY] = {1}, buf[CAP];
  HcSrtpFast *f = hc_srtp_fast_new(0x0007, key);
  int n;

  g_assert_null(hc_srtp_fast_new(0x0002, key));
  n = 11;
  g_assert_cmpint(hc_srtp_fast_protect(f, buf, &n), !=, 0);
  /* The extension's length runs past the end. */
  n = make_rtp(buf, 40, 1, 1, 0, TRUE);
  buf[14] = 0xff;
  g_assert_cmpint(hc_srtp_fast_protect(f, buf, &n), !=, 0);
  /* One SSRC more than the session has room for. */
  for (guint32 s = 1; s <= HC_SRTP_FAST_STREAMS; s++) {
    n = make_rtp(buf, 40, s, 1, 0, FALSE);
    g_assert_cmpint(hc_srtp_fast_protect(f, buf, &n), ==, 0);
  }
  n = make_rtp(buf, 40, 99, 1, 0, FALSE);
  g_assert_cmpint(hc_srtp_fast_protect(f, buf, &n), !=, 0);
  hc_srtp_fast_free(f);
}

int
main(int argc, char **argv)
{
  int r;

  g_test_init(&argc, &argv, NULL);
  g_assert_true(hc_srtp_init(NULL));
  g_test_add_data_func("/srtp-fast/interop/gcm", GINT_TO_POINTER(0x0007), test_interop);
  g_test_add_data_func("/srtp-fast/interop/aes-cm-hmac-sha1-80", GINT_TO_POINTER(0x0001),
                       test_interop);
  g_test_add_data_func("/srtp-fast/reorder/gcm", GINT_TO_POINTER(0x0007), test_reorder);
  g_test_add_data_func("/srtp-fast/reorder/aes-cm-hmac-sha1-80", GINT_TO_POINTER(0x0001),
                       test_reorder);
  g_test_add_func("/srtp-fast/refuse", test_refuse);
  r = g_test_run();
  hc_srtp_shutdown();
  return r;
}
