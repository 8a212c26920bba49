/* hc-bench-srtp: what one SRTP protect costs with the libsrtp this binary is
 * linked to (hc-bench-srtp-openssl: ours, built on OpenSSL; -system: Debian's
 * libsrtp2, built on NSS), for AES-CM + HMAC-SHA1-80 and AEAD AES-128-GCM,
 * and the heap one session takes. Bounded: N packets per profile (default
 * 200000). Prints one JSON line per profile. Run by hand; figures go to
 * docs/BENCHMARKS.md. */
#include <glib.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef HC_SRTP_BUNDLED
#include <srtp.h>
#else
#include <srtp2/srtp.h>
#endif

#define SESSIONS 1000

static void
set_profile(srtp_policy_t *p, int gcm)
{
  memset(p, 0, sizeof *p);
  if (gcm) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
  }
  p->ssrc.type = ssrc_any_outbound;
  p->window_size = 1024;
  p->allow_repeat_tx = 1;
}

static void
run(const char *variant, int gcm, long n, int size)
{
  static guint8 key[64], pkt[1500 + SRTP_MAX_TRAILER_LEN];
  srtp_policy_t p;
  srtp_t s, *many = g_new0(srtp_t, SESSIONS);
  struct mallinfo2 before, after;
  gint64 t0, t1;

  for (guint i = 0; i < sizeof key; i++)
    key[i] = (guint8)(i * 7 + 1);
  set_profile(&p, gcm);
  p.key = key;
  /* Memory: the heap SESSIONS sessions take, per session. */
  before = mallinfo2();
  for (int i = 0; i < SESSIONS; i++)
    if (srtp_create(&many[i], &p) != srtp_err_status_ok)
      exit(1);
  after = mallinfo2();
  for (int i = 0; i < SESSIONS; i++)
    srtp_dealloc(many[i]);
  g_free(many);
  if (srtp_create(&s, &p) != srtp_err_status_ok)
    exit(1);
  t0 = g_get_monotonic_time();
  for (long i = 0; i < n; i++) {
    int len = size;
    memset(pkt, 0, 12);
    pkt[0] = 0x80;
    pkt[1] = 96;
    pkt[2] = (guint8)(i >> 8);
    pkt[3] = (guint8)i;
    pkt[11] = 1;
    if (srtp_protect(s, pkt, &len) != srtp_err_status_ok)
      exit(1);
  }
  t1 = g_get_monotonic_time();
  srtp_dealloc(s);
  printf("{\"libsrtp\":\"%s\",\"profile\":\"%s\",\"bytes\":%d,\"packets\":%ld,"
         "\"us_per_packet\":%.3f,\"session_bytes\":%zu}\n",
         variant, gcm ? "AEAD_AES_128_GCM" : "AES128_CM_SHA1_80", size, n,
         (double)(t1 - t0) / (double)n, (after.uordblks - before.uordblks) / SESSIONS);
}

int
main(int argc, char **argv)
{
  long n = argc > 1 ? atol(argv[1]) : 200000;
  int size = argc > 2 ? atoi(argv[2]) : 1200;
#ifdef HC_SRTP_BUNDLED
  const char *variant = "openssl";
#else
  const char *variant = "system";
#endif

  if (n < 1 || n > 100000000 || size < 12 || size > 1500) {
    fprintf(stderr, "usage: hc-bench-srtp [PACKETS] [BYTES]\n");
    return 2;
  }
  if (srtp_init() != srtp_err_status_ok)
    return 1;
  run(variant, 0, n, size);
  run(variant, 1, n, size);
  srtp_shutdown();
  return 0;
}
