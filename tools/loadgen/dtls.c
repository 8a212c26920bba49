/* DTLS for the load generator: one self-signed ECDSA certificate shared by
 * all viewers, client SSL objects on memory BIOs offering the SRTP profiles
 * a browser offers (AEAD AES-128-GCM first, then AES_CM_128_HMAC_SHA1_80),
 * and SHA-256 certificate fingerprints. Called from media.c and signal.c. */
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

#include "loadgen.h"

#define SRTP_PROFILES "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80"

struct HcLgDtlsContext {
  SSL_CTX *client, *server;
  EVP_PKEY *key;
  X509 *cert;
  char fingerprint[160];
};

static int
accept_any(int ok, X509_STORE_CTX *store)
{
  /* Self-signed on both sides: the fingerprint from the SDP is checked
   * after the handshake instead (hc_lg_dtls_peer_fingerprint). */
  return 1;
}

static int
x509_fingerprint(X509 *cert, char *out, size_t cap)
{
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  size_t pos;

  if (!X509_digest(cert, EVP_sha256(), md, &n) || cap < 8 + n * 3)
    return -1;
  pos = (size_t)g_snprintf(out, cap, "sha-256 ");
  for (unsigned int i = 0; i < n; i++)
    pos += (size_t)g_snprintf(out + pos, cap - pos, i ? ":%02X" : "%02X", md[i]);
  return 0;
}

static SSL_CTX *
ctx_new(HcLgDtlsContext *c, const SSL_METHOD *method)
{
  SSL_CTX *ctx = SSL_CTX_new(method);

  if (!ctx)
    return NULL;
  if (SSL_CTX_use_certificate(ctx, c->cert) != 1 || SSL_CTX_use_PrivateKey(ctx, c->key) != 1 ||
      SSL_CTX_set_tlsext_use_srtp(ctx, SRTP_PROFILES) != 0) {
    SSL_CTX_free(ctx);
    return NULL;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
  SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
  SSL_CTX_set_read_ahead(ctx, 1);
  return ctx;
}

HcLgDtlsContext *
hc_lg_dtls_context_new(void)
{
  HcLgDtlsContext *c = g_new0(HcLgDtlsContext, 1);
  X509_NAME *name;

  c->key = EVP_EC_gen("P-256");
  if (!c->key)
    goto fail;
  c->cert = X509_new();
  if (!c->cert)
    goto fail;
  X509_set_version(c->cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c->cert), (long)g_random_int_range(1, G_MAXINT32));
  X509_gmtime_adj(X509_getm_notBefore(c->cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c->cert), 30L * 24 * 3600);
  name = X509_get_subject_name(c->cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"hc-loadgen", -1, -1,
                             0);
  X509_set_issuer_name(c->cert, name);
  X509_set_pubkey(c->cert, c->key);
  if (!X509_sign(c->cert, c->key, EVP_sha256()))
    goto fail;
  if (x509_fingerprint(c->cert, c->fingerprint, sizeof(c->fingerprint)) < 0)
    goto fail;
  c->client = ctx_new(c, DTLS_client_method());
  c->server = ctx_new(c, DTLS_server_method());
  if (!c->client || !c->server)
    goto fail;
  return c;

fail:
  hc_lg_dtls_context_free(c);
  return NULL;
}

void
hc_lg_dtls_context_free(HcLgDtlsContext *c)
{
  if (!c)
    return;
  SSL_CTX_free(c->client);
  SSL_CTX_free(c->server);
  X509_free(c->cert);
  EVP_PKEY_free(c->key);
  g_free(c);
}

const char *
hc_lg_dtls_fingerprint(const HcLgDtlsContext *c)
{
  return c->fingerprint;
}

static SSL *
ssl_new(SSL_CTX *ctx, gboolean client)
{
  SSL *ssl = SSL_new(ctx);
  BIO *rbio, *wbio;

  if (!ssl)
    return NULL;
  rbio = BIO_new(BIO_s_mem());
  wbio = BIO_new(BIO_s_mem());
  BIO_set_mem_eof_return(rbio, -1);
  BIO_set_mem_eof_return(wbio, -1);
  SSL_set_bio(ssl, rbio, wbio);
  SSL_set_options(ssl, SSL_OP_NO_QUERY_MTU);
  SSL_set_mtu(ssl, 1200);
  DTLS_set_link_mtu(ssl, 1200);
  if (client)
    SSL_set_connect_state(ssl);
  else
    SSL_set_accept_state(ssl);
  return ssl;
}

SSL *
hc_lg_dtls_ssl_new(HcLgDtlsContext *c)
{
  return ssl_new(c->client, TRUE);
}

SSL *
hc_lg_dtls_server_ssl_new(HcLgDtlsContext *c)
{
  return ssl_new(c->server, FALSE);
}

int
hc_lg_dtls_peer_fingerprint(SSL *ssl, char *out, size_t cap)
{
  X509 *peer = SSL_get1_peer_certificate(ssl);
  int rc;

  if (!peer)
    return -1;
  rc = x509_fingerprint(peer, out, cap);
  X509_free(peer);
  return rc;
}
