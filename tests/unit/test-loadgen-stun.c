/* Unit tests for the load generator's STUN messages (tools/loadgen/stun.c)
 * and its RTP sequence counting (viewer.c): requests and responses are
 * checked against independent HMAC-SHA1 (GLib) and CRC-32 (zlib) code, and
 * hostile input (truncations, flipped bits) is refused without a crash. */
#include <arpa/inet.h>
#include <glib.h>
#include <string.h>
#include <zlib.h>

#include "loadgen.h"

static int
build_request(uint8_t *buf, uint8_t tid[12], gboolean controlling)
{
  HcLgStunRequest req = {
    .controlling = controlling,
    .use_candidate = controlling,
    .priority = 1853824767u,
    .tiebreaker = 0x0102030405060708ull,
    .username = "remoteuf:localuf",
    .password = "the-remote-password-1234",
  };
  return hc_lg_stun_build_request(&req, tid, buf, HC_LG_STUN_MAX);
}

static void
test_request_round_trip(void)
{
  uint8_t buf[HC_LG_STUN_MAX], tid[12];
  HcLgStunMessage msg;
  int n = build_request(buf, tid, TRUE);

  g_assert_cmpint(n, >, 20);
  g_assert_cmpint(n % 4, ==, 0);
  g_assert_cmpint(buf[2] << 8 | buf[3], ==, n - 20);
  g_assert_cmpint(hc_lg_stun_parse(buf, (size_t)n, &msg), ==, 0);
  g_assert_cmpint(msg.type, ==, HC_LG_STUN_BINDING_REQUEST);
  g_assert_cmpmem(msg.tid, 12, tid, 12);
  g_assert_cmpstr(msg.username, ==, "remoteuf:localuf");
  g_assert_true(msg.use_candidate);
  g_assert_true(msg.has_integrity);
  g_assert_true(msg.has_fingerprint);
  g_assert_true(msg.fingerprint_ok);
  g_assert_true(hc_lg_stun_check_integrity(buf, (size_t)n, &msg, "the-remote-password-1234"));
  g_assert_false(hc_lg_stun_check_integrity(buf, (size_t)n, &msg, "another-password"));

  n = build_request(buf, tid, FALSE);
  g_assert_cmpint(hc_lg_stun_parse(buf, (size_t)n, &msg), ==, 0);
  g_assert_false(msg.use_candidate);
}

/* The integrity and fingerprint, recomputed with other libraries. */
static void
test_request_independent_check(void)
{
  uint8_t buf[HC_LG_STUN_MAX], tid[12], copy[HC_LG_STUN_MAX];
  int n = build_request(buf, tid, TRUE);
  size_t mi = (size_t)n - 8 - 24; /* MESSAGE-INTEGRITY, then FINGERPRINT */
  const char *pwd = "the-remote-password-1234";
  GHmac *hmac;
  guint8 mac[20];
  gsize mac_len = sizeof(mac);
  uint32_t fp;

  g_assert_cmpint(buf[mi] << 8 | buf[mi + 1], ==, 0x0008);
  g_assert_cmpint(buf[n - 8] << 8 | buf[n - 7], ==, 0x8028);
  /* RFC 5389 §15.4: the length counts up to and including the integrity. */
  memcpy(copy, buf, mi);
  copy[2] = (uint8_t)((mi + 24 - 20) >> 8);
  copy[3] = (uint8_t)((mi + 24 - 20) & 0xff);
  hmac = g_hmac_new(G_CHECKSUM_SHA1, (const guchar *)pwd, strlen(pwd));
  g_hmac_update(hmac, copy, (gssize)mi);
  g_hmac_get_digest(hmac, mac, &mac_len);
  g_hmac_unref(hmac);
  g_assert_cmpmem(mac, 20, buf + mi + 4, 20);
  /* RFC 5389 §15.5: CRC-32 of everything before it, XOR 0x5354554e. */
  fp = (uint32_t)crc32(0, buf, (uInt)(n - 8)) ^ 0x5354554eu;
  g_assert_cmpuint((uint32_t)buf[n - 4] << 24 | (uint32_t)buf[n - 3] << 16 |
                     (uint32_t)buf[n - 2] << 8 | buf[n - 1],
                   ==, fp);
}

static void
test_response_addresses(void)
{
  uint8_t buf[HC_LG_STUN_MAX], tid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons(50123)};
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(40000)};
  HcLgStunMessage msg;
  int n;

  inet_pton(AF_INET, "127.0.0.1", &a4.sin_addr);
  n = hc_lg_stun_build_response(tid, (struct sockaddr *)&a4, "pw", buf, sizeof(buf));
  g_assert_cmpint(hc_lg_stun_parse(buf, (size_t)n, &msg), ==, 0);
  g_assert_cmpint(msg.type, ==, HC_LG_STUN_BINDING_SUCCESS);
  g_assert_true(msg.has_mapped);
  g_assert_cmpmem(&msg.mapped, sizeof(a4), &a4, sizeof(a4));
  g_assert_true(hc_lg_stun_check_integrity(buf, (size_t)n, &msg, "pw"));

  a6.sin6_addr = in6addr_loopback;
  n = hc_lg_stun_build_response(tid, (struct sockaddr *)&a6, "pw", buf, sizeof(buf));
  g_assert_cmpint(hc_lg_stun_parse(buf, (size_t)n, &msg), ==, 0);
  g_assert_cmpint(msg.mapped.ss_family, ==, AF_INET6);
  g_assert_cmpmem(&((struct sockaddr_in6 *)&msg.mapped)->sin6_addr, 16, &in6addr_loopback, 16);
  g_assert_cmpint(((struct sockaddr_in6 *)&msg.mapped)->sin6_port, ==, htons(40000));
}

static void
test_hostile_input(void)
{
  uint8_t buf[HC_LG_STUN_MAX], tid[12];
  HcLgStunMessage msg;
  int n = build_request(buf, tid, TRUE);

  for (int len = 0; len < n; len++)
    g_assert_cmpint(hc_lg_stun_parse(buf, (size_t)len, &msg), <, 0);
  /* Any flipped bit in the body breaks the fingerprint or the framing. */
  for (int i = 20; i < n - 8; i++) {
    buf[i] ^= 0x10;
    g_assert_cmpint(hc_lg_stun_parse(buf, (size_t)n, &msg), <, 0);
    buf[i] ^= 0x10;
  }
  /* An attribute whose length runs past the message. */
  buf[22] = 0xff;
  g_assert_cmpint(hc_lg_stun_parse(buf, (size_t)n, &msg), <, 0);
}

static void
test_loopback_only(void)
{
  struct sockaddr_in a = {.sin_family = AF_INET};
  struct sockaddr_in6 b = {.sin6_family = AF_INET6};

  inet_pton(AF_INET, "127.3.4.5", &a.sin_addr);
  g_assert_true(hc_lg_addr_is_loopback((struct sockaddr *)&a));
  inet_pton(AF_INET, "10.0.0.1", &a.sin_addr);
  g_assert_false(hc_lg_addr_is_loopback((struct sockaddr *)&a));
  b.sin6_addr = in6addr_loopback;
  g_assert_true(hc_lg_addr_is_loopback((struct sockaddr *)&b));
  inet_pton(AF_INET6, "2001:db8::1", &b.sin6_addr);
  g_assert_false(hc_lg_addr_is_loopback((struct sockaddr *)&b));
}

static void
test_sequence_loss(void)
{
  HcLgViewer v = {0};
  uint64_t expected, lost;

  /* Track 1 wraps around 65535 and misses two packets. */
  for (uint32_t s = 65530; s < 65546; s++)
    if (s != 65534 && s != 65540)
      hc_lg_track_count(&v, 0xAAAA, (uint16_t)s);
  /* Track 2: one packet late (out of order) is not a loss. */
  hc_lg_track_count(&v, 0xBBBB, 10);
  hc_lg_track_count(&v, 0xBBBB, 12);
  hc_lg_track_count(&v, 0xBBBB, 11);
  hc_lg_viewer_loss(&v, &expected, &lost);
  g_assert_cmpuint(expected, ==, 16 + 3);
  g_assert_cmpuint(lost, ==, 2);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/loadgen/stun/request-round-trip", test_request_round_trip);
  g_test_add_func("/loadgen/stun/request-independent-check", test_request_independent_check);
  g_test_add_func("/loadgen/stun/response-addresses", test_response_addresses);
  g_test_add_func("/loadgen/stun/hostile-input", test_hostile_input);
  g_test_add_func("/loadgen/loopback-only", test_loopback_only);
  g_test_add_func("/loadgen/rtp/sequence-loss", test_sequence_loss);
  return g_test_run();
}
