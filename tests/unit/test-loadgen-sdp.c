/* Unit tests for the load generator's SDP (tools/loadgen/sdp.c): the WHEP
 * offer is what a browser sends and parses back; the answer to a Janus-like
 * offer is recvonly, setup:active, keeps the mids and payload types, drops
 * data channels; only candidates on this host are taken. */
#include <arpa/inet.h>
#include <glib.h>
#include <string.h>

#include "loadgen.h"

static const char janus_offer[] =
  "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=Mountpoint 1\r\nt=0 0\r\n"
  "a=group:BUNDLE v a d\r\n"
  "a=fingerprint:sha-256 6F:3E:F3:CF:C5:0E:C7:C4:8A:79:55:F8:F9:2E:46:8B:1F:25:D2:F3:EB:E8:06:66:"
  "46:26:53:89:2D:E4:4E:9B\r\n"
  "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 127.0.0.1\r\na=sendonly\r\na=mid:v\r\n"
  "a=rtcp-mux\r\na=ice-ufrag:JFwF\r\na=ice-pwd:/o+Dp+aAv+vWzG9tuJKqlc\r\na=setup:actpass\r\n"
  "a=rtpmap:96 H264/90000\r\na=rtcp-fb:96 nack\r\n"
  "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1\r\n"
  "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
  "a=candidate:1 1 udp 2015363327 192.0.2.9 35880 typ host\r\n"
  "a=candidate:2 1 udp 2015363326 127.0.0.1 35881 typ host\r\n"
  "a=end-of-candidates\r\n"
  "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 127.0.0.1\r\na=sendonly\r\na=mid:a\r\n"
  "a=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
  "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 127.0.0.1\r\na=mid:d\r\n";

static void
local_ice(HcLgLocalIce *l, struct sockaddr_in *a)
{
  memset(a, 0, sizeof(*a));
  a->sin_family = AF_INET;
  a->sin_port = htons(40000);
  inet_pton(AF_INET, "127.0.0.1", &a->sin_addr);
  l->ufrag = "abcd1234";
  l->pwd = "0123456789abcdefghijklmn";
  l->fingerprint = "sha-256 AA:BB";
  l->candidate = (struct sockaddr *)a;
}

static void
test_parse_janus_offer(void)
{
  HcLgSdpInfo info;
  struct sockaddr_in *c = (struct sockaddr_in *)&info.candidate;
  char ip[INET_ADDRSTRLEN];

  g_assert_cmpint(hc_lg_sdp_parse(janus_offer, &info), ==, 0);
  g_assert_cmpstr(info.ufrag, ==, "JFwF");
  g_assert_cmpstr(info.pwd, ==, "/o+Dp+aAv+vWzG9tuJKqlc");
  g_assert_true(g_str_has_prefix(info.fingerprint, "sha-256 6F:3E"));
  g_assert_cmpstr(info.setup, ==, "actpass");
  /* 192.0.2.9 is not an address of this host: the loopback one is taken. */
  g_assert_true(info.has_candidate);
  inet_ntop(AF_INET, &c->sin_addr, ip, sizeof(ip));
  g_assert_cmpstr(ip, ==, "127.0.0.1");
  g_assert_cmpint(ntohs(c->sin_port), ==, 35881);
  g_assert_cmpint(hc_lg_sdp_parse("v=0\r\nnot sdp", &info), <, 0);
}

static void
test_answer_to_janus(void)
{
  HcLgLocalIce l;
  struct sockaddr_in a;
  char *answer;
  HcLgSdpInfo info;

  local_ice(&l, &a);
  answer = hc_lg_sdp_answer(janus_offer, &l);
  g_assert_nonnull(answer);
  g_assert_nonnull(strstr(answer, "a=group:BUNDLE v a d\r\n"));
  g_assert_nonnull(strstr(answer, "m=video 9 UDP/TLS/RTP/SAVPF 96\r\n"));
  g_assert_nonnull(strstr(answer, "a=fmtp:96 profile-level-id=42e01f;packetization-mode=1\r\n"));
  g_assert_null(strstr(answer, "rtx/90000"));
  g_assert_nonnull(strstr(answer, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"));
  g_assert_nonnull(strstr(answer, "a=mid:a\r\n"));
  g_assert_nonnull(strstr(answer, "m=application 0 "));
  g_assert_nonnull(strstr(answer, "a=setup:active\r\n"));
  g_assert_null(strstr(answer, "actpass"));
  g_assert_nonnull(strstr(answer, "a=recvonly\r\n"));
  g_assert_nonnull(strstr(answer, "a=candidate:1 1 udp 2130706431 127.0.0.1 40000 typ host\r\n"));
  g_assert_cmpint(hc_lg_sdp_parse(answer, &info), ==, 0);
  g_assert_cmpstr(info.ufrag, ==, "abcd1234");
  g_free(answer);
}

static void
test_whep_offer(void)
{
  HcLgLocalIce l;
  struct sockaddr_in a;
  char *offer;
  HcLgSdpInfo info;

  local_ice(&l, &a);
  offer = hc_lg_sdp_whep_offer(&l);
  g_assert_nonnull(strstr(offer, "a=group:BUNDLE 0 1\r\n"));
  g_assert_nonnull(strstr(offer, "a=rtpmap:111 opus/48000/2\r\n"));
  g_assert_nonnull(strstr(offer, "packetization-mode=1;profile-level-id=42e01f\r\n"));
  g_assert_nonnull(strstr(offer, "a=setup:actpass\r\n"));
  g_assert_cmpint(hc_lg_sdp_parse(offer, &info), ==, 0);
  g_assert_cmpstr(info.pwd, ==, "0123456789abcdefghijklmn");
  g_assert_true(info.has_candidate);
  g_free(offer);
}

/* A dual-stack server lists ::1 and 127.0.0.1 in either order: the viewers'
 * sockets are IPv4, so the IPv4 candidate is taken; IPv6 only without one. */
static void
test_candidate_family(void)
{
  static const char head[] = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
                             "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 127.0.0.1\r\n"
                             "a=ice-ufrag:u\r\na=ice-pwd:p\r\na=fingerprint:sha-256 AA:BB\r\n";
  static const char v6[] = "a=candidate:1 1 udp 2130706431 ::1 40002 typ host\r\n";
  static const char v4[] = "a=candidate:2 1 udp 2130706430 127.0.0.1 40001 typ host\r\n";
  HcLgSdpInfo info;
  char *both = g_strconcat(head, v6, v4, NULL), *only6 = g_strconcat(head, v6, NULL);

  g_assert_cmpint(hc_lg_sdp_parse(both, &info), ==, 0);
  g_assert_true(info.has_candidate);
  g_assert_cmpint(info.candidate.ss_family, ==, AF_INET);
  g_assert_cmpint(ntohs(((struct sockaddr_in *)&info.candidate)->sin_port), ==, 40001);
  g_assert_cmpint(hc_lg_sdp_parse(only6, &info), ==, 0);
  g_assert_true(info.has_candidate);
  g_assert_cmpint(info.candidate.ss_family, ==, AF_INET6);
  g_assert_cmpint(ntohs(((struct sockaddr_in6 *)&info.candidate)->sin6_port), ==, 40002);
  g_free(both);
  g_free(only6);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/loadgen/sdp/parse-janus-offer", test_parse_janus_offer);
  g_test_add_func("/loadgen/sdp/answer-to-janus", test_answer_to_janus);
  g_test_add_func("/loadgen/sdp/whep-offer", test_whep_offer);
  g_test_add_func("/loadgen/sdp/candidate-family", test_candidate_family);
  return g_test_run();
}
