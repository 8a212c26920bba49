/* Unit tests of webrtc/stun.c against the RFC 5769 test vectors (message
 * integrity with a short-term credential, fingerprint, XOR-MAPPED-ADDRESS),
 * our own binding responses, and malformed input. */
#include <arpa/inet.h>
#include <string.h>

#include "core/error.h"
#include "webrtc/stun.h"

/* RFC 5769 2.1: sample request, username "evtj:h6vY". */
static const guint8 request[] = {
  0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
  0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
  0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
  0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
  0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
  0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
  0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};

/* RFC 5769 2.2: sample IPv4 response, mapped address 192.0.2.1:32853. */
static const guint8 response[] = {
  0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
  0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
  0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
  0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
  0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96};

/* RFC 5769 2.3: sample IPv6 response, mapped address
 * [2001:db8:1234:5678:11:2233:4455:6677]:32853. */
static const guint8 response6[] = {
  0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
  0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
  0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
  0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
  0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
  0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c};

static const char password[] = "VOkJxbRl1RmTxUk/WvJxBt";

static void
test_rfc5769_request(void)
{
  HcStunMessage m;

  g_assert_true(hc_stun_is_stun(request, sizeof request));
  g_assert_cmpint(hc_stun_parse(request, sizeof request, &m), ==, 0);
  g_assert_cmpuint(m.type, ==, HC_STUN_BINDING_REQUEST);
  g_assert_cmpuint(m.username_len, ==, 9);
  g_assert_cmpmem(m.username, 9, "evtj:h6vY", 9);
  g_assert_cmpuint(m.priority, ==, 0x6e0001ff);
  g_assert_true(m.controlled);
  g_assert_false(m.controlling);
  g_assert_true(hc_stun_check_integrity(request, sizeof request, &m, password, strlen(password)));
  g_assert_false(hc_stun_check_integrity(request, sizeof request, &m, "wrong", 5));
  g_assert_true(hc_stun_check_fingerprint(request, sizeof request, &m));
}

/* An RFC 5769 sample response: a binding success, integrity and fingerprint
 * hold with the RFC's password, and it maps the peer to want. */
typedef struct {
  const guint8 *bytes;
  gsize len;
  int family;
  const char *want;
} SampleResponse;

static void
test_rfc5769_response(gconstpointer data)
{
  const SampleResponse *r = data;
  HcStunMessage m;
  char addr[HC_ADDR_STRLEN];

  g_assert_cmpint(hc_stun_parse(r->bytes, r->len, &m), ==, 0);
  g_assert_cmpuint(m.type, ==, HC_STUN_BINDING_SUCCESS);
  g_assert_true(hc_stun_check_integrity(r->bytes, r->len, &m, password, strlen(password)));
  g_assert_true(hc_stun_check_fingerprint(r->bytes, r->len, &m));
  g_assert_true(m.has_xor_mapped);
  g_assert_cmpint(m.xor_mapped.sa.sa_family, ==, r->family);
  g_assert_cmpstr(hc_addr_to_string(&m.xor_mapped, addr), ==, r->want);
}

/* Our response for the RFC's IPv6 peer and transaction carries the RFC's
 * XOR-MAPPED-ADDRESS bytes (integrity and fingerprint differ: no SOFTWARE). */
static void
test_our_response_ipv6(void)
{
  guint8 out[128];
  HcAddr peer;
  HcStunMessage m;
  gsize n;

  g_assert_true(hc_addr_parse("2001:db8:1234:5678:11:2233:4455:6677", 32853, &peer));
  g_assert_cmpuint(hc_stun_binding_response(out, 64, response6 + 8, &peer, "pw", 2), ==, 0);
  n = hc_stun_binding_response(out, sizeof out, response6 + 8, &peer, password, strlen(password));
  g_assert_cmpuint(n, ==, 76);
  g_assert_cmpmem(out + 20, 24, response6 + 36, 24);
  g_assert_cmpint(hc_stun_parse(out, n, &m), ==, 0);
  g_assert_true(hc_stun_check_integrity(out, n, &m, password, strlen(password)));
  g_assert_true(hc_stun_check_fingerprint(out, n, &m));
  g_assert_true(hc_addr_equal(&m.xor_mapped, &peer));
}

/* A dual-stack socket sees an IPv4 peer as ::ffff:a.b.c.d: it is told its
 * IPv4 address, as its candidate said. */
static void
test_our_response_v4_mapped(void)
{
  guint8 out[128], txid[12] = {0};
  HcAddr peer, v4, unmapped;
  HcStunMessage m;
  gsize n;

  g_assert_true(hc_addr_parse("::ffff:10.1.2.3", 40000, &peer));
  g_assert_true(hc_addr_parse("10.1.2.3", 40000, &v4));
  n = hc_stun_binding_response(out, sizeof out, txid, &peer, password, strlen(password));
  g_assert_cmpuint(n, ==, 64);
  g_assert_cmpint(hc_stun_parse(out, n, &m), ==, 0);
  g_assert_true(hc_addr_equal(&m.xor_mapped, &v4));
  g_assert_false(hc_addr_equal(&peer, &v4));
  unmapped = hc_addr_unmap(&peer);
  g_assert_true(hc_addr_equal(&unmapped, &v4));
  g_assert_cmpuint(hc_addr_hash(&peer), !=, 0);
}

static void
test_tampered(void)
{
  guint8 copy[sizeof request];
  HcStunMessage m;

  /* One bit changed in the priority: integrity and fingerprint both fail. */
  memcpy(copy, request, sizeof copy);
  copy[47] ^= 1;
  g_assert_cmpint(hc_stun_parse(copy, sizeof copy, &m), ==, 0);
  g_assert_false(hc_stun_check_integrity(copy, sizeof copy, &m, password, strlen(password)));
  g_assert_false(hc_stun_check_fingerprint(copy, sizeof copy, &m));
}

static void
test_our_response(void)
{
  guint8 out[128];
  guint8 txid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  HcAddr peer;
  HcStunMessage m;
  gsize n;

  g_assert_true(hc_addr_parse("10.1.2.3", 40000, &peer));
  g_assert_cmpuint(hc_stun_binding_response(out, 32, txid, &peer, "pw", 2), ==, 0);
  n = hc_stun_binding_response(out, sizeof out, txid, &peer, password, strlen(password));
  g_assert_cmpuint(n, ==, 64);
  g_assert_cmpint(hc_stun_parse(out, n, &m), ==, 0);
  g_assert_cmpuint(m.type, ==, HC_STUN_BINDING_SUCCESS);
  g_assert_cmpmem(m.txid, 12, txid, 12);
  g_assert_true(hc_stun_check_integrity(out, n, &m, password, strlen(password)));
  g_assert_true(hc_stun_check_fingerprint(out, n, &m));
  g_assert_true(m.has_xor_mapped);
  g_assert_true(hc_addr_equal(&m.xor_mapped, &peer));
}

static void
test_malformed(void)
{
  guint8 copy[sizeof request];
  HcStunMessage m;

  /* Every truncation is refused. */
  for (gsize n = 0; n < sizeof request; n++)
    g_assert_cmpint(hc_stun_parse(request, n, &m), ==, HC_EINVAL);
  /* An attribute length running past the end. */
  memcpy(copy, request, sizeof copy);
  copy[23] = 0xff;
  g_assert_cmpint(hc_stun_parse(copy, sizeof copy, &m), ==, HC_EINVAL);
  /* A wrong magic cookie, and a message length that is not the datagram's. */
  memcpy(copy, request, sizeof copy);
  copy[4] = 0;
  g_assert_cmpint(hc_stun_parse(copy, sizeof copy, &m), ==, HC_EINVAL);
  memcpy(copy, request, sizeof copy);
  copy[3] = 0x54;
  g_assert_cmpint(hc_stun_parse(copy, sizeof copy, &m), ==, HC_EINVAL);
  /* Integrity of a message without MESSAGE-INTEGRITY is never true. */
  memset(&m, 0, sizeof m);
  g_assert_false(hc_stun_check_integrity(request, sizeof request, &m, password, strlen(password)));
}

int
main(int argc, char **argv)
{
  static const SampleResponse v4 = {response, sizeof response, AF_INET, "192.0.2.1:32853"};
  static const SampleResponse v6 = {response6, sizeof response6, AF_INET6,
                                    "[2001:db8:1234:5678:11:2233:4455:6677]:32853"};

  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/stun/rfc5769-request", test_rfc5769_request);

  g_test_add_data_func("/stun/rfc5769-response", &v4, test_rfc5769_response);
  g_test_add_data_func("/stun/rfc5769-response-ipv6", &v6, test_rfc5769_response);
  g_test_add_func("/stun/our-response-ipv6", test_our_response_ipv6);
  g_test_add_func("/stun/our-response-v4-mapped", test_our_response_v4_mapped);
  g_test_add_func("/stun/tampered", test_tampered);
  g_test_add_func("/stun/our-response", test_our_response);
  g_test_add_func("/stun/malformed", test_malformed);
  return g_test_run();
}
