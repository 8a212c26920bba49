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

static gboolean
set_policy(srtp_policy_t *p, int profile)
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
  /* Window for the packets we retransmit on NACK (they reuse old indexes). */
  p->window_size = 1024;
  p->allow_repeat_tx = 1;
  return TRUE;
}

HcSrtp *
hc_srtp_new(int profile, const guint8 send[HC_SRTP_MAX_KEY], const guint8 recv[HC_SRTP_MAX_KEY])
{
  srtp_policy_t out, in;
  guint8 kout[HC_SRTP_MAX_KEY], kin[HC_SRTP_MAX_KEY];
  HcSrtp *s;
  srtp_err_status_t st;

  if (!set_policy(&out, profile) || !set_policy(&in, profile))
    return NULL;
  memcpy(kout, send, sizeof kout);
  memcpy(kin, recv, sizeof kin);
  out.ssrc.type = ssrc_any_outbound;
  out.key = kout;
  in.ssrc.type = ssrc_any_inbound;
  in.key = kin;
  s = g_new0(HcSrtp, 1);
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
  return srtp_protect(s->tx, buf, len) == srtp_err_status_ok ? 0 : HC_EINVAL;
}

int
hc_srtp_protect_rtcp(HcSrtp *s, guint8 *buf, int *len)
{
  return srtp_protect_rtcp(s->tx, buf, len) == srtp_err_status_ok ? 0 : HC_EINVAL;
}

int
hc_srtp_unprotect(HcSrtp *s, guint8 *buf, int *len)
{
  return srtp_unprotect(s->rx, buf, len) == srtp_err_status_ok ? 0 : HC_EINVAL;
}

int
hc_srtp_unprotect_rtcp(HcSrtp *s, guint8 *buf, int *len)
{
  return srtp_unprotect_rtcp(s->rx, buf, len) == srtp_err_status_ok ? 0 : HC_EINVAL;
}
