/* The viewer's libsrtp session (webrtc/srtp.c hc_srtp_new_rtcp) keeps only
 * SRTCP: for both profiles its SRTCP is byte for byte what a full session
 * with the same keys makes, a full session (the viewer's side) takes it
 * back and the other way round, and RTP is refused, not protected wrongly. */
#include <glib.h>
#include <string.h>

#include "webrtc/srtp.h"

#define CAP (256 + HC_SRTP_TRAILER)

/* A sender report (28 bytes) from ssrc, with a counter to tell packets apart. */
static int
sender_report(guint8 *buf, guint32 ssrc, guint32 n)
{
  memset(buf, 0, CAP);
  buf[0] = 0x80;
  buf[1] = 200;
  buf[3] = 6;
  for (int i = 0; i < 4; i++) {
    buf[4 + i] = (guint8)(ssrc >> (24 - 8 * i));
    buf[16 + i] = (guint8)(n >> (24 - 8 * i));
  }
  return 28;
}

static void
check_profile(gconstpointer data)
{
  int profile = GPOINTER_TO_INT(data);
  guint8 a[HC_SRTP_MAX_KEY], b[HC_SRTP_MAX_KEY];
  HcSrtp *lean, *full, *peer;

  for (guint i = 0; i < sizeof a; i++) {
    a[i] = (guint8)(11 + 37 * i);
    b[i] = (guint8)(201 + 13 * i);
  }
  lean = hc_srtp_new_rtcp(profile, a, b);
  full = hc_srtp_new(profile, a, b); /* what the old full session made */
  peer = hc_srtp_new(profile, b, a); /* the viewer: its send key is our receive key */
  g_assert_nonnull(lean);
  g_assert_nonnull(full);
  g_assert_nonnull(peer);
  for (guint32 n = 0; n < 40; n++) {
    guint32 ssrc = n % 2 ? 0x11223344 : 0x55667788; /* video and audio reports */
    guint8 x[CAP], y[CAP], plain[CAP];
    int nx = sender_report(x, ssrc, n), ny = sender_report(y, ssrc, n);

    memcpy(plain, x, (gsize)nx);
    g_assert_cmpint(hc_srtp_protect_rtcp(lean, x, &nx), ==, 0);
    g_assert_cmpint(hc_srtp_protect_rtcp(full, y, &ny), ==, 0);
    g_assert_cmpmem(x, nx, y, ny);
    g_assert_cmpint(hc_srtp_unprotect_rtcp(peer, x, &nx), ==, 0);
    g_assert_cmpmem(x, nx, plain, 28);
    /* The viewer's receiver report, and a replay of it, which is refused. */
    nx = sender_report(x, 0x99aabbcc, n);
    x[1] = 201;
    g_assert_cmpint(hc_srtp_protect_rtcp(peer, x, &nx), ==, 0);
    memcpy(y, x, (gsize)nx);
    ny = nx;
    g_assert_cmpint(hc_srtp_unprotect_rtcp(lean, x, &nx), ==, 0);
    g_assert_cmpint(x[1], ==, 201);
    g_assert_cmpint(hc_srtp_unprotect_rtcp(lean, y, &ny), !=, 0);
  }
  {
    /* RTP is srtp-fast.c's: the lean session has no key for it. */
    guint8 rtp[CAP] = {0x80, 96, 0, 1, 0, 0, 0, 1, 0x11, 0x22, 0x33, 0x44, 1, 2, 3, 4};
    int n = 16;

    g_assert_cmpint(hc_srtp_protect(full, rtp, &n), ==, 0);
    g_assert_cmpint(hc_srtp_unprotect(lean, rtp, &n), !=, 0);
    n = 16;
    g_assert_cmpint(hc_srtp_protect(lean, rtp, &n), !=, 0);
  }
  hc_srtp_free(lean);
  hc_srtp_free(full);
  hc_srtp_free(peer);
}

int
main(int argc, char **argv)
{
  int rc;

  g_test_init(&argc, &argv, NULL);
  g_assert_true(hc_srtp_init(NULL));
  g_test_add_data_func("/srtp/rtcp-only/aes-cm", GINT_TO_POINTER(0x0001), check_profile);
  g_test_add_data_func("/srtp/rtcp-only/gcm", GINT_TO_POINTER(0x0007), check_profile);
  rc = g_test_run();
  hc_srtp_shutdown();
  return rc;
}
