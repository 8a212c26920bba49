/* libsrtp2 sessions (see srtp.h). Which libsrtp is linked (ours built on
 * OpenSSL, or the system's NSS build) is decided by meson; this file works
 * with either. Called by the fan-out workers. */
#define G_LOG_DOMAIN "hc-webrtc"

#include "srtp.h"

#ifdef HC_SRTP_BUNDLED
#include <srtp.h>
#else
#include <srtp2/srtp.h>
#endif
#include <string.h>

#include "core/error.h"

/* libsrtp allows one wildcard-SSRC stream per session: one session for what
 * we send, one for what the viewer sends. */
struct HcSrtp {
  srtp_t tx, rx;
  gboolean rtp; /* FALSE: SRTCP only, RTP policies are null (never used) */
};

gboolean
hc_srtp_init(GError **error)
{
  srtp_err_status_t st = srtp_init();

  if (st != srtp_err_status_ok) {
    g_set_error(error, HC_ERROR, HC_EINTERNAL, "libsrtp failed to initialise (%d)", st);
    return FALSE;
  }
#ifdef HC_SRTP_BUNDLED
  g_info("%s, built on OpenSSL (subprojects/libsrtp2-openssl)", srtp_get_version_string());
#else
  g_info("%s, the system library (Debian builds it on NSS: slower)", srtp_get_version_string());
#endif
  return TRUE;
}

void
hc_srtp_shutdown(void)
{
  srtp_shutdown();
}

const char *
hc_srtp_profile_name(int profile)
{
  switch (profile) {
  case 0x0001:
    return "AES128_CM_SHA1_80";
  case 0x0007:
    return "AEAD_AES_128_GCM";
  default:
    return "none";
  }
}

/* rtp: whether libsrtp protects RTP with this policy (a WHIP publisher's
 * media, the reference in tests); a viewer's RTP goes through srtp-fast.c,
 * so its policy keeps what SRTCP needs: the null cipher and null auth cost
 * a few bytes, a keyed AES and HMAC context far more. The RTCP keys do not
 * depend on it (libsrtp's KDF takes the RTCP cipher's master key length
 * when the RTP one has none). */
static gboolean
set_policy(srtp_policy_t *p, int profile, gboolean rtp)
{
  memset(p, 0, sizeof *p);
  if (profile == 0x0007) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
  } else if (profile == 0x0001) {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
  } else {
    return FALSE;
  }
  if (rtp) {
    /* Window for the packets we retransmit on NACK (they reuse old indexes). */
    p->window_size = 1024;
    p->allow_repeat_tx = 1;
  } else {
    /* libsrtp picks the SRTCP format (AEAD or not) by the RTP cipher, so
     * GCM keeps its RTP cipher; AES-CM drops an AES and an HMAC context. */
    if (profile == 0x0001)
      srtp_crypto_policy_set_null_cipher_hmac_null(&p->rtp);
    p->window_size = 64; /* the smallest libsrtp takes; no RTP comes */
  }
  return TRUE;
}

static HcSrtp *
session_new(int profile, const guint8 send[HC_SRTP_MAX_KEY], const guint8 recv[HC_SRTP_MAX_KEY],
            gboolean rtp)
{
  srtp_policy_t out, in;
  guint8 kout[HC_SRTP_MAX_KEY], kin[HC_SRTP_MAX_KEY];
  HcSrtp *s;
  srtp_err_status_t st;

  if (!set_policy(&out, profile, rtp) || !set_policy(&in, profile, rtp))
    return NULL;
  memcpy(kout, send, sizeof kout);
  memcpy(kin, recv, sizeof kin);
  out.ssrc.type = ssrc_any_outbound;
  out.key = kout;
  in.ssrc.type = ssrc_any_inbound;
  in.key = kin;
  s = g_new0(HcSrtp, 1);
  s->rtp = rtp;
  st = srtp_create(&s->tx, &out);
  if (st == srtp_err_status_ok) {
    st = srtp_create(&s->rx, &in);
    if (st != srtp_err_status_ok)
      srtp_dealloc(s->tx);
  }
  if (st != srtp_err_status_ok) {
    g_warning("libsrtp: cannot create a session for %s: error %d", hc_srtp_profile_name(profile),
              st);
    g_free(s);
    s = NULL;
  }
  memset(kout, 0, sizeof kout);
  memset(kin, 0, sizeof kin);
  return s;
}

HcSrtp *
hc_srtp_new(int profile, const guint8 send[HC_SRTP_MAX_KEY], const guint8 recv[HC_SRTP_MAX_KEY])
{
  return session_new(profile, send, recv, TRUE);
}

HcSrtp *
hc_srtp_new_rtcp(int profile, const guint8 send[HC_SRTP_MAX_KEY],
                 const guint8 recv[HC_SRTP_MAX_KEY])
{
  return session_new(profile, send, recv, FALSE);
}

void
hc_srtp_free(HcSrtp *s)
{
  if (!s)
    return;
  srtp_dealloc(s->tx);
  srtp_dealloc(s->rx);
  g_free(s);
}

int
hc_srtp_protect(HcSrtp *s, guint8 *buf, int *len)
{
  return s->rtp && srtp_protect(s->tx, buf, len) == srtp_err_status_ok ? 0 : HC_EINVAL;
}

int
hc_srtp_protect_rtcp(HcSrtp *s, guint8 *buf, int *len)
{
  return srtp_protect_rtcp(s->tx, buf, len) == srtp_err_status_ok ? 0 : HC_EINVAL;
}

int
hc_srtp_unprotect(HcSrtp *s, guint8 *buf, int *len)
{
  return s->rtp && srtp_unprotect(s->rx, buf, len) == srtp_err_status_ok ? 0 : HC_EINVAL;
}

int
hc_srtp_unprotect_rtcp(HcSrtp *s, guint8 *buf, int *len)
{
  return srtp_unprotect_rtcp(s->rx, buf, len) == srtp_err_status_ok ? 0 : HC_EINVAL;
}
