/* Unit tests for the load generator's DTLS and SRTP (tools/loadgen/dtls.c,
 * srtp.c): a full DTLS-SRTP handshake between a loadgen client and a server
 * in memory, then packets protected with the server's exported keys must
 * decrypt with the client's, for both profiles a browser offers. */
#include <glib.h>
#include <string.h>

#include "loadgen.h"

static void
pump(SSL *from, SSL *to)
{
  char *data;
  long n;

  while ((n = BIO_get_mem_data(SSL_get_wbio(from), &data)) > 0) {
    char buf[4096];
    int got = BIO_read(SSL_get_wbio(from), buf, (int)MIN((long)sizeof(buf), n));
    BIO_write(SSL_get_rbio(to), buf, got);
  }
}

static size_t
make_rtp(uint8_t *pkt, uint16_t seq, uint32_t ssrc, size_t payload)
{
  memset(pkt, 0, 12 + payload);
  pkt[0] = 0x80;
  pkt[1] = 102;
  pkt[2] = seq >> 8;
  pkt[3] = seq & 0xff;
  pkt[8] = ssrc >> 24;
  pkt[9] = (ssrc >> 16) & 0xff;
  pkt[10] = (ssrc >> 8) & 0xff;
  pkt[11] = ssrc & 0xff;
  for (size_t i = 0; i < payload; i++)
    pkt[12 + i] = (uint8_t)(i * 7 + seq);
  return 12 + payload;
}

/* Protects with `out`, unprotects with `in`: plaintext must come back, and a
 * flipped bit must fail authentication. */
static void
round_trip(srtp_t out, srtp_t in)
{
  for (uint16_t seq = 65500; seq != 40; seq++) {
    uint8_t pkt[1500], orig[1500];
    int len = (int)make_rtp(pkt, seq, 0x11223344, 1100);
    int plain = len;

    memcpy(orig, pkt, (size_t)len);
    g_assert_cmpint(srtp_protect(out, pkt, &len), ==, srtp_err_status_ok);
    g_assert_cmpint(len, >, plain);
    g_assert_true(memcmp(pkt + 12, orig + 12, 16) != 0);
    if (seq == 7) {
      pkt[40] ^= 1;
      g_assert_cmpint(srtp_unprotect(in, pkt, &len), !=, srtp_err_status_ok);
      continue;
    }
    g_assert_cmpint(srtp_unprotect(in, pkt, &len), ==, srtp_err_status_ok);
    g_assert_cmpint(len, ==, plain);
    g_assert_cmpmem(pkt, (size_t)len, orig, (size_t)plain);
  }
}

static void
test_session_round_trip(gconstpointer data)
{
  int profile = GPOINTER_TO_INT(data);
  uint8_t key[30];
  srtp_t out = NULL, in = NULL;

  for (guint i = 0; i < sizeof(key); i++)
    key[i] = (uint8_t)(i * 13 + 1);
  g_assert_cmpint(hc_lg_srtp_session_new(profile, key, FALSE, &out), ==, 0);
  g_assert_cmpint(hc_lg_srtp_session_new(profile, key, TRUE, &in), ==, 0);
  round_trip(out, in);
  srtp_dealloc(out);
  srtp_dealloc(in);
}

static void
test_dtls_srtp(void)
{
  HcLgDtlsContext *ctx = hc_lg_dtls_context_new();
  SSL *client, *server;
  srtp_t server_out = NULL, client_in = NULL;
  int done_c = 0, done_s = 0, profile = 0;
  char fp[160];

  g_assert_nonnull(ctx);
  g_assert_true(g_str_has_prefix(hc_lg_dtls_fingerprint(ctx), "sha-256 "));
  client = hc_lg_dtls_ssl_new(ctx);
  server = hc_lg_dtls_server_ssl_new(ctx);
  for (int round = 0; round < 20 && !(done_c && done_s); round++) {
    done_c = SSL_do_handshake(client) == 1;
    pump(client, server);
    done_s = SSL_do_handshake(server) == 1;
    pump(server, client);
  }
  g_assert_true(done_c && done_s);
  /* Both offer GCM first, so GCM is what a browser-like pair agrees on. */
  g_assert_cmpstr(SSL_get_selected_srtp_profile(client)->name, ==, "SRTP_AEAD_AES_128_GCM");
  g_assert_cmpint(hc_lg_dtls_peer_fingerprint(client, fp, sizeof(fp)), ==, 0);
  g_assert_cmpstr(fp, ==, hc_lg_dtls_fingerprint(ctx));
  /* The server sends with its write key; the client receives with it. */
  g_assert_cmpint(hc_lg_srtp_from_dtls(server, FALSE, FALSE, &server_out, NULL), ==, 0);
  g_assert_cmpint(hc_lg_srtp_from_dtls(client, TRUE, TRUE, &client_in, &profile), ==, 0);
  g_assert_cmpstr(hc_lg_srtp_profile_name(profile), ==, "AEAD_AES_128_GCM");
  round_trip(server_out, client_in);
  srtp_dealloc(server_out);
  srtp_dealloc(client_in);
  SSL_free(client);
  SSL_free(server);
  hc_lg_dtls_context_free(ctx);
}

int
main(int argc, char **argv)
{
  int rc;

  g_test_init(&argc, &argv, NULL);
  g_assert_cmpint(srtp_init(), ==, srtp_err_status_ok);
  g_test_add_data_func("/loadgen/srtp/aes-cm-80", GINT_TO_POINTER(0x0001), test_session_round_trip);
  g_test_add_data_func("/loadgen/srtp/aead-gcm-128", GINT_TO_POINTER(0x0007),
                       test_session_round_trip);
  g_test_add_func("/loadgen/dtls-srtp/handshake-and-keys", test_dtls_srtp);
  rc = g_test_run();
  srtp_shutdown();
  return rc;
}
