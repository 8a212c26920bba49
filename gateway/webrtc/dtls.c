/* DTLS-SRTP server sessions on OpenSSL memory BIOs (see dtls.h). The read
 * side is a mem BIO fed one datagram at a time; the write side is a small
 * custom BIO that keeps datagram boundaries so no flight is glued together
 * beyond the MTU. Used by the fan-out workers for viewers in handshake. */
#define G_LOG_DOMAIN "hc-webrtc"

#include "dtls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <string.h>

#include "core/error.h"

#define MTU 1200

struct HcDtls {
  SSL *ssl;
  BIO *rbio;  /* mem BIO: datagrams we received */
  GQueue out; /* of GBytes: datagrams to send */
  char peer_fp[96 + 4];
  HcDtlsState state;
};

static SSL_CTX *ctx;
static char fingerprint[96 + 4];
static BIO_METHOD *out_method;

/* The peer's certificate is checked against the SDP fingerprint after the
 * handshake; self-signed is what WebRTC peers use, so accept it here. */
static int
verify_any(int ok, X509_STORE_CTX *store)
{
  return 1;
}

static int
out_write(BIO *b, const char *data, int len)
{
  HcDtls *d = BIO_get_data(b);

  if (len > 0)
    g_queue_push_tail(&d->out, g_bytes_new(data, len));
  return len;
}

static long
out_ctrl(BIO *b, int cmd, long num, void *ptr)
{
  switch (cmd) {
  case BIO_CTRL_FLUSH:
    return 1;
  case BIO_CTRL_DGRAM_QUERY_MTU:
  case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
    return MTU;
  case BIO_CTRL_WPENDING:
  case BIO_CTRL_PENDING:
    return 0;
  default:
    return 0;
  }
}

static void
hex_fingerprint(X509 *cert, char *out, gsize cap)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  gsize off = 0;

  out[0] = '\0';
  if (!X509_digest(cert, EVP_sha256(), md, &n))
    return;
  for (unsigned int i = 0; i < n && off + 4 < cap; i++)
    off += g_snprintf(out + off, cap - off, i ? ":%02X" : "%02X", md[i]);
}

/* A self-signed ECDSA P-256 certificate valid for 30 days. */
static X509 *
make_cert(EVP_PKEY *key)
{
  X509 *x = X509_new();
  X509_NAME *name;
  guint8 serial[8];

  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), GUINT64_FROM_BE(*(guint64 *)serial));
  X509_set_version(x, 2);
  X509_gmtime_adj(X509_getm_notBefore(x), -86400);
  X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
  X509_set_pubkey(x, key);
  name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"hallcast", -1, -1,
                             0);
  X509_set_issuer_name(x, name);
  if (!X509_sign(x, key, EVP_sha256())) {
    X509_free(x);
    return NULL;
  }
  return x;
}

gboolean
hc_dtls_init(GError **error)
{
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *cert = key ? make_cert(key) : NULL;

  if (!cert)
    goto fail;
  ctx = SSL_CTX_new(DTLS_server_method());
  if (!ctx || !SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) ||
      SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
      SSL_CTX_set_tlsext_use_srtp(ctx, "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") != 0)
    goto fail;
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_any);
  SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  hex_fingerprint(cert, fingerprint, sizeof fingerprint);
  out_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "hallcast-dtls-out");
  BIO_meth_set_write(out_method, out_write);
  BIO_meth_set_ctrl(out_method, out_ctrl);
  X509_free(cert);
  EVP_PKEY_free(key);
  return TRUE;
fail:
  g_set_error(error, HC_ERROR, HC_EINTERNAL, "cannot set up DTLS: %s",
              ERR_reason_error_string(ERR_get_error()) ?: "OpenSSL error");
  X509_free(cert);
  EVP_PKEY_free(key);
  g_clear_pointer(&ctx, SSL_CTX_free);
  return FALSE;
}

void
hc_dtls_shutdown(void)
{
  g_clear_pointer(&ctx, SSL_CTX_free);
  g_clear_pointer(&out_method, BIO_meth_free);
}

const char *
hc_dtls_fingerprint(void)
{
  return fingerprint;
}

HcDtls *
hc_dtls_new(const char *peer_fp)
{
  HcDtls *d = g_new0(HcDtls, 1);
  BIO *wbio;

  g_queue_init(&d->out);
  g_strlcpy(d->peer_fp, peer_fp, sizeof d->peer_fp);
  d->ssl = SSL_new(ctx);
  d->rbio = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(d->rbio, -1);
  wbio = BIO_new(out_method);
  BIO_set_data(wbio, d);
  BIO_set_init(wbio, 1);
  SSL_set_bio(d->ssl, d->rbio, wbio);
  SSL_set_mtu(d->ssl, MTU);
  DTLS_set_link_mtu(d->ssl, MTU);
  SSL_set_accept_state(d->ssl);
  return d;
}

void
hc_dtls_free(HcDtls *d)
{
  if (!d)
    return;
  SSL_free(d->ssl); /* frees both BIOs */
  g_queue_clear_full(&d->out, (GDestroyNotify)g_bytes_unref);
  g_free(d);
}

static gboolean
peer_matches(HcDtls *d)
{
  X509 *peer = SSL_get1_peer_certificate(d->ssl);
  char fp[sizeof d->peer_fp];

  if (!peer)
    return FALSE;
  hex_fingerprint(peer, fp, sizeof fp);
  X509_free(peer);
  return g_ascii_strcasecmp(fp, d->peer_fp) == 0;
}

HcDtlsState
hc_dtls_receive(HcDtls *d, const guint8 *data, gsize len)
{
  int r, err;
  guint8 sink[2048];

  if (d->state == HC_DTLS_FAILED || d->state == HC_DTLS_CLOSED)
    return d->state;
  BIO_write(d->rbio, data, (int)len);
  if (d->state == HC_DTLS_HANDSHAKE) {
    r = SSL_do_handshake(d->ssl);
    if (r == 1) {
      d->state = peer_matches(d) ? HC_DTLS_CONNECTED : HC_DTLS_FAILED;
      if (d->state == HC_DTLS_FAILED)
        g_info("DTLS: the peer certificate does not match the SDP fingerprint");
    } else {
      err = SSL_get_error(d->ssl, r);
      if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
        g_debug("DTLS handshake failed: %s", ERR_reason_error_string(ERR_peek_error()) ?: "?");
        d->state = HC_DTLS_FAILED;
      }
    }
    ERR_clear_error();
    return d->state;
  }
  /* Connected: application data is not expected (no data channels); read to
   * see alerts such as close_notify. */
  r = SSL_read(d->ssl, sink, sizeof sink);
  if (r <= 0) {
    err = SSL_get_error(d->ssl, r);
    if (err == SSL_ERROR_ZERO_RETURN)
      d->state = HC_DTLS_CLOSED;
    else if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
      d->state = HC_DTLS_FAILED;
  }
  ERR_clear_error();
  return d->state;
}

void
hc_dtls_close(HcDtls *d)
{
  if (d->state == HC_DTLS_CONNECTED) {
    SSL_shutdown(d->ssl);
    d->state = HC_DTLS_CLOSED;
  }
  ERR_clear_error();
}

void
hc_dtls_tick(HcDtls *d)
{
  if (d->state == HC_DTLS_HANDSHAKE)
    DTLSv1_handle_timeout(d->ssl);
}

gsize
hc_dtls_next_out(HcDtls *d, guint8 *out, gsize cap)
{
  GBytes *b = g_queue_pop_head(&d->out);
  gsize len = 0;
  const void *data;

  if (!b)
    return 0;
  data = g_bytes_get_data(b, &len);
  if (len > cap)
    len = 0; /* cannot happen with the MTU set; drop rather than truncate */
  else
    memcpy(out, data, len);
  g_bytes_unref(b);
  return len;
}

int
hc_dtls_srtp_keys(HcDtls *d, int *profile, guint8 send[HC_SRTP_MAX_KEY],
                  guint8 recv[HC_SRTP_MAX_KEY])
{
  const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
  guint8 km[2 * HC_SRTP_MAX_KEY];
  gsize key = 16, salt;

  if (!p)
    return HC_EINTERNAL;
  if (p->id == SRTP_AEAD_AES_128_GCM)
    salt = 12;
  else if (p->id == SRTP_AES128_CM_SHA1_80)
    salt = 14;
  else
    return HC_EINTERNAL;
  if (SSL_export_keying_material(d->ssl, km, 2 * (key + salt), "EXTRACTOR-dtls_srtp", 19, NULL, 0,
                                 0) != 1)
    return HC_EINTERNAL;
  /* RFC 5764 4.2: client key, server key, client salt, server salt. We are
   * the server: we send with the server's, receive with the client's. */
  memcpy(recv, km, key);
  memcpy(send, km + key, key);
  memcpy(recv + key, km + 2 * key, salt);
  memcpy(send + key, km + 2 * key + salt, salt);
  *profile = (int)p->id;
  return 0;
}
