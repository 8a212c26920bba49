/* Unit tests of webrtc/sdp.c: a browser-like WHEP offer (several H.264
 * profiles, VP8, Opus, a data channel) is answered with the offer's own
 * payload types, ICE-lite, setup:passive and bundle; bad offers name why. */
#include <string.h>

#include "core/error.h"
#include "webrtc/sdp.h"

static const char browser_offer[] =
  "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
  "a=group:BUNDLE 0 1 2\r\na=msid-semantic: WMS\r\n"
  "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
  "a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdefghijklmn\r\n"
  "a=fingerprint:sha-256 "
  "AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:"
  "99\r\n"
  "a=setup:actpass\r\na=mid:0\r\na=recvonly\r\na=rtcp-mux\r\n"
  "a=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:0 PCMU/8000\r\n"
  "m=video 9 UDP/TLS/RTP/SAVPF 96 102 106 127\r\nc=IN IP4 0.0.0.0\r\n"
  "a=mid:1\r\na=recvonly\r\na=rtcp-mux\r\n"
  "a=rtpmap:96 VP8/90000\r\n"
  "a=rtpmap:102 H264/90000\r\na=rtcp-fb:102 nack\r\na=rtcp-fb:102 nack pli\r\n"
  "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f\r\n"
  "a=rtpmap:106 H264/90000\r\na=rtcp-fb:106 nack\r\na=rtcp-fb:106 nack pli\r\na=rtcp-fb:106 ccm "
  "fir\r\n"
  "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
  "a=rtpmap:127 H264/90000\r\n"
  "a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c1f\r\n"
  "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\n";

static char *
replace(const char *s, const char *from, const char *to)
{
  char **parts = g_strsplit(s, from, -1);
  char *r = g_strjoinv(to, parts);

  g_strfreev(parts);
  return r;
}

static void
test_browser_offer(void)
{
  HcSdpOffer o;
  const char *reason = "unset";
  const char *addrs[] = {"192.0.2.10", "127.0.0.1", NULL};
  HcSdpAnswerParams p = {
    "ufra", "passwordpasswordpassword", "11:22", addrs, 40000, 1234, 5678, "cname", "demo"};
  char *answer;

  g_assert_cmpint(hc_sdp_parse_offer(browser_offer, strlen(browser_offer), TRUE, TRUE, &o, &reason),
                  ==, 0);
  g_assert_null(reason);
  g_assert_cmpint(o.video, ==, 1);
  g_assert_cmpint(o.audio, ==, 0);
  g_assert_cmpint(o.media[1].pt, ==, 106); /* mode 1, baseline first */
  g_assert_true(o.media[1].nack && o.media[1].pli && o.media[1].fir);
  g_assert_cmpint(o.media[0].pt, ==, 111);
  g_assert_cmpstr(o.ice_ufrag, ==, "abcd");
  g_assert_cmpuint(strlen(o.fingerprint), ==, 95);
  answer = hc_sdp_build_answer(&o, &p);
  g_assert_nonnull(strstr(answer, "a=group:BUNDLE 0 1\r\n"));
  g_assert_nonnull(strstr(answer, "a=ice-lite\r\n"));
  g_assert_nonnull(strstr(answer, "m=audio 40000 UDP/TLS/RTP/SAVPF 111\r\n"));
  g_assert_nonnull(strstr(answer, "m=video 40000 UDP/TLS/RTP/SAVPF 106\r\n"));
  g_assert_nonnull(strstr(answer, "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;"
                                  "profile-level-id=42e01f\r\n"));
  g_assert_nonnull(strstr(answer, "a=setup:passive\r\n"));
  g_assert_nonnull(strstr(answer, "a=fingerprint:sha-256 11:22\r\n"));
  g_assert_nonnull(strstr(answer, "a=ssrc:1234 cname:cname\r\n"));
  g_assert_nonnull(strstr(answer, "a=candidate:1 1 udp 2130706431 192.0.2.10 40000 typ host\r\n"));
  g_assert_nonnull(strstr(answer, "a=candidate:2 1 udp 2130706430 127.0.0.1 40000 typ host\r\n"));
  /* The data channel is rejected with port 0, its mid kept. */
  g_assert_nonnull(strstr(answer, "m=application 0 UDP/TLS/RTP/SAVPF"));
  g_assert_nonnull(strstr(answer, "a=mid:2\r\n"));
  g_free(answer);
}

static void
expect_refused(const char *offer, int code, const char *why)
{
  HcSdpOffer o;
  const char *reason = NULL;

  g_assert_cmpint(hc_sdp_parse_offer(offer, strlen(offer), TRUE, TRUE, &o, &reason), ==, code);
  g_assert_nonnull(reason);
  g_assert_nonnull(strstr(reason, why));
}

static void
test_refused(void)
{
  char *s;

  expect_refused("", HC_EINVAL, "not valid SDP");
  expect_refused("hello", HC_EINVAL, "not valid SDP");
  s = replace(browser_offer, "a=group:BUNDLE 0 1 2\r\n", "");
  expect_refused(s, HC_EUNSUPPORTED, "no bundle");
  g_free(s);
  s = replace(browser_offer, "a=fingerprint:sha-256 ", "a=fingerprint:sha-1 ");
  expect_refused(s, HC_EUNSUPPORTED, "no DTLS fingerprint");
  g_free(s);
  s = replace(browser_offer, "packetization-mode=1", "packetization-mode=0");
  expect_refused(s, HC_EUNSUPPORTED, "no H.264");
  g_free(s);
  s = replace(browser_offer, "opus", "speex");
  expect_refused(s, HC_EUNSUPPORTED, "no Opus");
  g_free(s);
  s = replace(browser_offer, "a=setup:actpass", "a=setup:passive");
  expect_refused(s, HC_EUNSUPPORTED, "setup");
  g_free(s);
  s = replace(browser_offer, "a=ice-pwd:0123456789abcdefghijklmn", "a=ice-pwd:short");
  expect_refused(s, HC_EUNSUPPORTED, "ICE");
  g_free(s);
}

/* A stream with one kind only: the other kind's m-line (mid idle) is
 * accepted as inactive with the offer's codec (mline), kept in the bundle,
 * and carries no SSRC; the served one (mid served) keeps its own. */
static void
expect_one_kind(gboolean has_video, gboolean has_audio, int idle, int served, const char *mline,
                const char *sent_ssrc, const char *silent_ssrc)
{
  HcSdpOffer o;
  const char *reason;
  const char *addrs[] = {"127.0.0.1", NULL};
  HcSdpAnswerParams p = {
    "ufra", "passwordpasswordpassword", "11:22", addrs, 40000, 1234, 5678, "cname", "demo"};
  char *answer, *inactive = g_strdup_printf("a=mid:%d\r\na=inactive\r\n", idle);

  g_assert_cmpint(
    hc_sdp_parse_offer(browser_offer, strlen(browser_offer), has_video, has_audio, &o, &reason), ==,
    0);
  g_assert_cmpint(has_video ? o.video : o.audio, ==, served);
  g_assert_cmpint(has_video ? o.audio : o.video, ==, -1);
  g_assert_true(o.media[idle].idle);
  g_assert_false(o.media[served].idle);
  answer = hc_sdp_build_answer(&o, &p);
  g_assert_nonnull(strstr(answer, "a=group:BUNDLE 0 1\r\n"));
  g_assert_nonnull(strstr(answer, mline));
  g_assert_nonnull(strstr(answer, inactive));
  g_assert_null(strstr(answer, silent_ssrc)); /* nothing is sent on it */
  g_assert_nonnull(strstr(answer, sent_ssrc));
  g_free(inactive);
  g_free(answer);
}

/* Audio is then not served, not an error: its m-line (here the bundle tag,
 * mid 0) is accepted as inactive, so the peer keeps its transport. */
static void
test_stream_without_audio(void)
{
  expect_one_kind(TRUE, FALSE, 0, 1, "m=audio 40000 UDP/TLS/RTP/SAVPF 111\r\n",
                  "a=ssrc:1234 cname:cname\r\n", "a=ssrc:5678");
}

/* A microphone-only lecture: video inactive with the offer's H.264. */
static void
test_stream_without_video(void)
{
  expect_one_kind(FALSE, TRUE, 1, 0, "m=video 40000 UDP/TLS/RTP/SAVPF 106\r\n",
                  "a=ssrc:5678 cname:cname\r\n", "a=ssrc:1234");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sdp/browser-offer", test_browser_offer);
  g_test_add_func("/sdp/refused", test_refused);
  g_test_add_func("/sdp/stream-without-audio", test_stream_without_audio);
  g_test_add_func("/sdp/stream-without-video", test_stream_without_video);
  return g_test_run();
}
