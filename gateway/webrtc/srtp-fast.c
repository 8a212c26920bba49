/* Per-viewer SRTP protect of the fan-out (see srtp-fast.h), called by
 * hc_worker_emit for every packet of every viewer. Session keys come from the
 * RFC 3711 4.3 AES-CM PRF once per session; per packet only the IV changes,
 * and the cipher is OpenSSL's provider implementation called directly: the
 * EVP layer looks parameters up by name on every call (~40% of libsrtp's). */
#define G_LOG_DOMAIN "hc-webrtc"
/* HMAC-SHA1 from two SHA_CTX states precomputed once: OpenSSL 3.0's EVP_MAC
 * and EVP_MD_CTX_copy_ex duplicate (malloc) a context per packet. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include "srtp-fast.h"

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/sha.h>
#include <string.h>

#include "core/error.h"

#define PROFILE_CM 0x0001
#define PROFILE_GCM 0x0007
#define KEY_LEN 16
#define AUTH_KEY_LEN 20 /* HMAC-SHA1 key of AES_CM_128_HMAC_SHA1_80 */
#define CM_TAG_LEN 10
#define GCM_TAG_LEN 16

enum { LABEL_RTP_ENCRYPTION = 0, LABEL_RTP_AUTH = 1, LABEL_RTP_SALT = 2 };

/* A cipher of the provider that implements it in this process (the default
 * one unless configured otherwise): the functions EVP would call for us. */
typedef struct {
  EVP_CIPHER *cipher; /* keeps the provider loaded */
  void *provctx;
  OSSL_FUNC_cipher_newctx_fn *newctx;
  OSSL_FUNC_cipher_freectx_fn *freectx;
  OSSL_FUNC_cipher_encrypt_init_fn *einit;
  OSSL_FUNC_cipher_update_fn *update;
  OSSL_FUNC_cipher_final_fn *final;
  OSSL_FUNC_cipher_get_ctx_params_fn *get_ctx_params;
} Impl;

typedef struct {
  guint32 ssrc;
  gboolean used;
  guint64 index; /* highest packet index sent: ROC << 16 | SEQ */
} Stream;

struct HcSrtpFast {
  int profile;
  const Impl *impl;     /* AES-128-GCM or AES-128-CTR */
  void *cctx;           /* its context, keyed with the session key */
  guint8 salt[14];      /* session salt: 12 bytes used by GCM, 14 by AES-CM */
  SHA_CTX inner, outer; /* HMAC-SHA1 after the key's ipad / opad block (AES-CM) */
  Stream streams[HC_SRTP_FAST_STREAMS];
};

static gboolean
has_name(const char *names, const char *name)
{
  gsize n = strlen(name);

  for (const char *p = names; p; p = strchr(p, ':'), p = p ? p + 1 : NULL)
    if (g_ascii_strncasecmp(p, name, n) == 0 && (p[n] == ':' || p[n] == '\0'))
      return TRUE;
  return FALSE;
}

/* Fills im from the provider that EVP_CIPHER_fetch picks for name. */
static gboolean
impl_load(Impl *im, const char *name)
{
  const OSSL_PROVIDER *prov;
  const OSSL_ALGORITHM *algs;
  int no_store = 0;

  im->cipher = EVP_CIPHER_fetch(NULL, name, NULL);
  prov = im->cipher ? EVP_CIPHER_get0_provider(im->cipher) : NULL;
  algs = prov ? OSSL_PROVIDER_query_operation(prov, OSSL_OP_CIPHER, &no_store) : NULL;
  for (const OSSL_ALGORITHM *a = algs; a && a->algorithm_names; a++) {
    if (!has_name(a->algorithm_names, name))
      continue;
    for (const OSSL_DISPATCH *d = a->implementation; d->function_id; d++) {
      switch (d->function_id) {
      case OSSL_FUNC_CIPHER_NEWCTX:
        im->newctx = OSSL_FUNC_cipher_newctx(d);
        break;
      case OSSL_FUNC_CIPHER_FREECTX:
        im->freectx = OSSL_FUNC_cipher_freectx(d);
        break;
      case OSSL_FUNC_CIPHER_ENCRYPT_INIT:
        im->einit = OSSL_FUNC_cipher_encrypt_init(d);
        break;
      case OSSL_FUNC_CIPHER_UPDATE:
        im->update = OSSL_FUNC_cipher_update(d);
        break;
      case OSSL_FUNC_CIPHER_FINAL:
        im->final = OSSL_FUNC_cipher_final(d);
        break;
      case OSSL_FUNC_CIPHER_GET_CTX_PARAMS:
        im->get_ctx_params = OSSL_FUNC_cipher_get_ctx_params(d);
        break;
      }
    }
    break;
  }
  if (algs)
    OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_CIPHER, algs);
  im->provctx = prov ? OSSL_PROVIDER_get0_provider_ctx(prov) : NULL;
  return im->newctx && im->freectx && im->einit && im->update && im->final && im->get_ctx_params;
}

/* Both ciphers, looked up once for the process; NULL if OpenSSL lacks them. */
static const Impl *
impls(void)
{
  static Impl both[2];
  static gsize done;

  if (g_once_init_enter(&done)) {
    gboolean ok = impl_load(&both[0], "AES-128-GCM") && impl_load(&both[1], "AES-128-CTR");

    if (!ok)
      g_warning("SRTP: OpenSSL has no provider implementation of AES-128-GCM and -CTR");
    g_once_init_leave(&done, ok ? 1 : 2);
  }
  return done == 1 ? both : NULL;
}

/* RFC 3711 4.3.1 with key_derivation_rate 0: AES-CM keystream under the master
 * key from IV = (master salt XOR label at byte 7) * 2^16. GCM's 12-byte master
 * salt is padded with zeros to 14 (RFC 7714 11, as libsrtp does). */
static gboolean
derive(const guint8 *master_key, const guint8 *master_salt, gsize salt_len, int label, guint8 *out,
       int len)
{
  static const guint8 zeros[32];
  guint8 iv[16] = {0};
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int n = 0;
  gboolean ok;

  memcpy(iv, master_salt, salt_len);
  iv[7] ^= (guint8)label;
  ok = c && EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, master_key, iv) == 1 &&
       EVP_EncryptUpdate(c, out, &n, zeros, len) == 1 && n == len;
  EVP_CIPHER_CTX_free(c);
  return ok;
}

static void
hmac_prepare(HcSrtpFast *f, const guint8 key[AUTH_KEY_LEN])
{
  guint8 pad[SHA_CBLOCK];

  memset(pad, 0x36, sizeof pad);
  for (int i = 0; i < AUTH_KEY_LEN; i++)
    pad[i] ^= key[i];
  SHA1_Init(&f->inner);
  SHA1_Update(&f->inner, pad, sizeof pad);
  memset(pad, 0x5c, sizeof pad);
  for (int i = 0; i < AUTH_KEY_LEN; i++)
    pad[i] ^= key[i];
  SHA1_Init(&f->outer);
  SHA1_Update(&f->outer, pad, sizeof pad);
  OPENSSL_cleanse(pad, sizeof pad);
}

HcSrtpFast *
hc_srtp_fast_new(int profile, const guint8 send[HC_SRTP_MAX_KEY])
{
  gboolean gcm = profile == PROFILE_GCM;
  gsize salt_len = gcm ? 12 : 14;
  const Impl *im = impls();
  guint8 key[KEY_LEN], auth[AUTH_KEY_LEN] = {0};
  HcSrtpFast *f;
  gboolean ok;

  if ((profile != PROFILE_GCM && profile != PROFILE_CM) || !im)
    return NULL;
  f = g_new0(HcSrtpFast, 1);
  f->profile = profile;
  f->impl = &im[gcm ? 0 : 1];
  f->cctx = f->impl->newctx(f->impl->provctx);
  ok = f->cctx && derive(send, send + KEY_LEN, salt_len, LABEL_RTP_ENCRYPTION, key, KEY_LEN) &&
       derive(send, send + KEY_LEN, salt_len, LABEL_RTP_SALT, f->salt, (int)salt_len) &&
       f->impl->einit(f->cctx, key, KEY_LEN, NULL, 0, NULL) == 1;
  if (ok && !gcm)
    ok = derive(send, send + KEY_LEN, salt_len, LABEL_RTP_AUTH, auth, AUTH_KEY_LEN);
  if (ok && !gcm)
    hmac_prepare(f, auth);
  OPENSSL_cleanse(key, sizeof key);
  OPENSSL_cleanse(auth, sizeof auth);
  if (!ok) {
    g_warning("SRTP: cannot set up the send cipher (OpenSSL)");
    hc_srtp_fast_free(f);
    return NULL;
  }
  return f;
}

void
hc_srtp_fast_free(HcSrtpFast *f)
{
  if (!f)
    return;
  if (f->cctx)
    f->impl->freectx(f->cctx);
  OPENSSL_cleanse(f, sizeof *f);
  g_free(f);
}

/* OpenSSL's AES-GCM provider context: the GHASH table and AES key schedule
 * sit in its first kilobyte or so. */
#define CCTX_PREFETCH_BYTES 1280

void
hc_srtp_fast_prefetch(const HcSrtpFast *f)
{
  for (gsize k = 0; k < sizeof *f; k += 64)
    __builtin_prefetch((const char *)f + k);
  for (gsize k = 0; k < CCTX_PREFETCH_BYTES; k += 64)
    __builtin_prefetch((const char *)f->cctx + k);
}

/* The packet index for sequence number seq of stream s, the way libsrtp's
 * sender estimates it (srtp_rdbx_estimate_index, RFC 3711 appendix A), and
 * the highest index moved forward: so the receiver's ROC matches ours across
 * a wrap, and a retransmission reuses its original index. */
static guint64
packet_index(Stream *s, guint16 seq)
{
  guint32 roc = (guint32)(s->index >> 16);
  int local = (guint16)s->index;
  guint64 guess;

  if (s->index <= 0x8000)
    guess = seq; /* still in the first ROC: never guess 0xffffffff */
  else if (local < 0x8000)
    guess = (guint64)(seq - local > 0x8000 ? roc - 1 : roc) << 16 | seq;
  else
    guess = (guint64)(local - 0x8000 > seq ? roc + 1 : roc) << 16 | seq;
  if (guess > s->index)
    s->index = guess;
  return guess;
}

static Stream *
stream_of(HcSrtpFast *f, guint32 ssrc)
{
  for (int i = 0; i < HC_SRTP_FAST_STREAMS; i++)
    if (f->streams[i].used && f->streams[i].ssrc == ssrc)
      return &f->streams[i];
  for (int i = 0; i < HC_SRTP_FAST_STREAMS; i++)
    if (!f->streams[i].used) {
      f->streams[i].used = TRUE;
      f->streams[i].ssrc = ssrc;
      return &f->streams[i];
    }
  return NULL;
}

/* RFC 7714 8: IV = salt XOR (00 00 || SSRC || ROC || SEQ), AAD the header,
 * the 16-byte tag after the ciphertext. */
static int
protect_gcm(HcSrtpFast *f, guint8 *buf, int hlen, int *len, guint64 index)
{
  const Impl *im = f->impl;
  guint8 iv[12];
  size_t n = 0, plen = (size_t)(*len - hlen);
  OSSL_PARAM tag[] = {OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, buf + *len, GCM_TAG_LEN),
                      OSSL_PARAM_END};

  memcpy(iv, f->salt, sizeof iv);
  for (int i = 0; i < 4; i++)
    iv[2 + i] ^= buf[8 + i];
  for (int i = 0; i < 6; i++)
    iv[6 + i] ^= (guint8)(index >> (40 - 8 * i));
  if (im->einit(f->cctx, NULL, 0, iv, sizeof iv, NULL) != 1 ||
      im->update(f->cctx, NULL, &n, (size_t)hlen, buf, (size_t)hlen) != 1 ||
      (plen && im->update(f->cctx, buf + hlen, &n, plen, buf + hlen, plen) != 1) ||
      im->final(f->cctx, buf + *len, &n, GCM_TAG_LEN) != 1 || im->get_ctx_params(f->cctx, tag) != 1)
    return HC_EINVAL;
  *len += GCM_TAG_LEN;
  return 0;
}

/* RFC 3711 4.1.1 and 4.2: AES-CM keystream from IV = salt * 2^16 XOR
 * SSRC * 2^64 XOR index * 2^16 over the payload, then HMAC-SHA1 over header,
 * ciphertext and ROC, 10 bytes of it appended. */
static int
protect_cm(HcSrtpFast *f, guint8 *buf, int hlen, int *len, guint64 index)
{
  guint8 iv[16] = {0}, roc[4], mac[SHA_DIGEST_LENGTH];
  SHA_CTX sha;
  size_t n = 0, plen = (size_t)(*len - hlen);

  memcpy(iv, f->salt, 14);
  for (int i = 0; i < 4; i++)
    iv[4 + i] ^= buf[8 + i];
  for (int i = 0; i < 6; i++)
    iv[8 + i] ^= (guint8)(index >> (40 - 8 * i));
  if (f->impl->einit(f->cctx, NULL, 0, iv, sizeof iv, NULL) != 1 ||
      (plen && f->impl->update(f->cctx, buf + hlen, &n, plen, buf + hlen, plen) != 1))
    return HC_EINVAL;
  for (int i = 0; i < 4; i++)
    roc[i] = (guint8)(index >> (40 - 8 * i));
  sha = f->inner;
  SHA1_Update(&sha, buf, (size_t)*len);
  SHA1_Update(&sha, roc, sizeof roc);
  SHA1_Final(mac, &sha);
  sha = f->outer;
  SHA1_Update(&sha, mac, sizeof mac);
  SHA1_Final(mac, &sha);
  memcpy(buf + *len, mac, CM_TAG_LEN);
  *len += CM_TAG_LEN;
  return 0;
}

int
hc_srtp_fast_protect(HcSrtpFast *f, guint8 *buf, int *len)
{
  int hlen;
  Stream *s;
  guint64 index;

  if (*len < 12 || buf[0] >> 6 != 2)
    return HC_EINVAL;
  hlen = 12 + 4 * (buf[0] & 0x0f);
  if ((buf[0] & 0x10) && hlen + 4 <= *len)
    hlen += 4 + 4 * (buf[hlen + 2] << 8 | buf[hlen + 3]);
  else if (buf[0] & 0x10)
    return HC_EINVAL;
  if (hlen > *len)
    return HC_EINVAL;
  s = stream_of(f, (guint32)buf[8] << 24 | buf[9] << 16 | buf[10] << 8 | buf[11]);
  if (!s)
    return HC_EINVAL;
  index = packet_index(s, (guint16)(buf[2] << 8 | buf[3]));
  if (f->profile == PROFILE_GCM)
    return protect_gcm(f, buf, hlen, len, index);
  return protect_cm(f, buf, hlen, len, index);
}
