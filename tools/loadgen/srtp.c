/* SRTP sessions for the load generator: keys come from the finished DTLS
 * handshake (RFC 5764 key export), sessions are libsrtp's. A viewer only
 * receives, so its session is inbound with the DTLS server's write key.
 * Called from media.c and the unit tests. */
#include <string.h>

#include "loadgen.h"

#define PROFILE_AES_CM_80 0x0001
#define PROFILE_AEAD_GCM_128 0x0007

static int
profile_sizes(int profile, size_t *key, size_t *salt)
{
  switch (profile) {
  case PROFILE_AES_CM_80:
    *key = 16;
    *salt = 14;
    return 0;
  case PROFILE_AEAD_GCM_128:
    *key = 16;
    *salt = 12;
    return 0;
  default:
    return -1;
  }
}

const char *
hc_lg_srtp_profile_name(int profile)
{
  switch (profile) {
  case PROFILE_AES_CM_80:
    return "AES_CM_128_HMAC_SHA1_80";
  case PROFILE_AEAD_GCM_128:
    return "AEAD_AES_128_GCM";
  default:
    return "?";
  }
}

int
hc_lg_srtp_session_new(int profile, const uint8_t *key_salt, gboolean inbound, srtp_t *out)
{
  srtp_policy_t policy;
  size_t key, salt;

  if (profile_sizes(profile, &key, &salt) < 0)
    return -1;
  memset(&policy, 0, sizeof(policy));
  if (profile == PROFILE_AEAD_GCM_128) {
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtp);
    srtp_crypto_policy_set_aes_gcm_128_16_auth(&policy.rtcp);
  } else {
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&policy.rtcp);
  }
  policy.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
  policy.key = (unsigned char *)key_salt;
  policy.window_size = 1024;
  policy.allow_repeat_tx = 0;
  policy.next = NULL;
  return srtp_create(out, &policy) == srtp_err_status_ok ? 0 : -1;
}

int
hc_lg_srtp_from_dtls(SSL *ssl, gboolean is_client, gboolean inbound, srtp_t *out, int *profile_out)
{
  const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(ssl);
  uint8_t material[2 * (16 + 14)];
  uint8_t key_salt[16 + 14];
  size_t key, salt;
  gboolean use_client_key;

  if (!p || profile_sizes((int)p->id, &key, &salt) < 0)
    return -1;
  if (SSL_export_keying_material(ssl, material, 2 * (key + salt), "EXTRACTOR-dtls_srtp", 19, NULL,
                                 0, 0) != 1)
    return -1;
  /* Layout: client key, server key, client salt, server salt. The client
   * key protects what the client sends. */
  use_client_key = is_client ? !inbound : inbound;
  memcpy(key_salt, material + (use_client_key ? 0 : key), key);
  memcpy(key_salt + key, material + 2 * key + (use_client_key ? 0 : salt), salt);
  if (profile_out)
    *profile_out = (int)p->id;
  return hc_lg_srtp_session_new((int)p->id, key_salt, inbound, out);
}
