/* SDP for the load generator: a browser-like recvonly WHEP offer, a
 * recvonly answer to a server's offer (Janus sends the offer), and the
 * ICE/DTLS facts of a remote description. Parsing is GstSDPMessage's;
 * descriptions are built as text. Called from signal.c. */
#include <arpa/inet.h>
#include <errno.h>
#include <gst/sdp/sdp.h>
#include <stdlib.h>
#include <string.h>

#include "loadgen.h"

static void
candidate_line(GString *s, const struct sockaddr *sa)
{
  char ip[INET6_ADDRSTRLEN] = "";
  int port = 0;

  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, ip, sizeof(ip));
    port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
  } else {
    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, ip, sizeof(ip));
    port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
  }
  g_string_append_printf(s, "a=candidate:1 1 udp 2130706431 %s %d typ host\r\n", ip, port);
  g_string_append(s, "a=end-of-candidates\r\n");
}

static void
transport_lines(GString *s, const HcLgLocalIce *l, const char *setup)
{
  g_string_append_printf(s,
                         "c=IN IP4 0.0.0.0\r\n"
                         "a=ice-ufrag:%s\r\n"
                         "a=ice-pwd:%s\r\n"
                         "a=fingerprint:%s\r\n"
                         "a=setup:%s\r\n"
                         "a=rtcp-mux\r\n",
                         l->ufrag, l->pwd, l->fingerprint, setup);
}

char *
hc_lg_sdp_whep_offer(const HcLgLocalIce *l)
{
  GString *s = g_string_new(NULL);

  g_string_append_printf(s,
                         "v=0\r\n"
                         "o=- %u 2 IN IP4 127.0.0.1\r\n"
                         "s=-\r\n"
                         "t=0 0\r\n"
                         "a=group:BUNDLE 0 1\r\n"
                         "a=msid-semantic: WMS\r\n",
                         g_random_int());
  g_string_append(s, "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n");
  transport_lines(s, l, "actpass");
  g_string_append(s, "a=mid:0\r\n"
                     "a=recvonly\r\n"
                     "a=rtpmap:111 opus/48000/2\r\n"
                     "a=fmtp:111 minptime=10;useinbandfec=1\r\n");
  if (l->candidate)
    candidate_line(s, l->candidate);
  g_string_append(s, "m=video 9 UDP/TLS/RTP/SAVPF 102 106 108 112\r\n");
  transport_lines(s, l, "actpass");
  g_string_append(s, "a=mid:1\r\n"
                     "a=recvonly\r\n"
                     "a=rtcp-rsize\r\n");
  static const struct {
    int pt;
    const char *plid;
  } h264[] = {{102, "42e01f"}, {106, "42001f"}, {108, "4d001f"}, {112, "64001f"}};
  for (guint i = 0; i < G_N_ELEMENTS(h264); i++)
    g_string_append_printf(s,
                           "a=rtpmap:%d H264/90000\r\n"
                           "a=rtcp-fb:%d nack\r\n"
                           "a=rtcp-fb:%d nack pli\r\n"
                           "a=fmtp:%d level-asymmetry-allowed=1;packetization-mode=1;"
                           "profile-level-id=%s\r\n",
                           h264[i].pt, h264[i].pt, h264[i].pt, h264[i].pt, h264[i].plid);
  return g_string_free(s, FALSE);
}

/* "foundation component transport priority ip port typ type ..." */
static gboolean
parse_candidate(const char *value, struct sockaddr_storage *out)
{
  gchar **f = g_strsplit(value, " ", 0);
  gboolean ok = FALSE;

  if (g_strv_length(f) >= 8 && strcmp(f[1], "1") == 0 && g_ascii_strcasecmp(f[2], "udp") == 0) {
    guint64 port = g_ascii_strtoull(f[5], NULL, 10);
    struct sockaddr_in *a4 = (struct sockaddr_in *)out;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;

    memset(out, 0, sizeof(*out));
    if (port > 0 && port < 65536 && inet_pton(AF_INET, f[4], &a4->sin_addr) == 1) {
      a4->sin_family = AF_INET;
      a4->sin_port = htons((uint16_t)port);
      ok = hc_lg_addr_is_local((struct sockaddr *)out);
    } else if (port > 0 && port < 65536 && inet_pton(AF_INET6, f[4], &a6->sin6_addr) == 1) {
      a6->sin6_family = AF_INET6;
      a6->sin6_port = htons((uint16_t)port);
      ok = hc_lg_addr_is_local((struct sockaddr *)out);
    }
  }
  g_strfreev(f);
  return ok;
}

/* The viewers' sockets are IPv4: the first IPv4 candidate of this host,
 * else the first IPv6 one (a dual-stack server lists both, in any order). */
static void
take_candidate(HcLgSdpInfo *info, const char *value)
{
  struct sockaddr_storage c;

  if (info->has_candidate && info->candidate.ss_family == AF_INET)
    return;
  if (parse_candidate(value, &c) && (!info->has_candidate || c.ss_family == AF_INET)) {
    info->candidate = c;
    info->has_candidate = TRUE;
  }
}

static void
copy_attr(char *dst, size_t cap, const char *v)
{
  if (v && !dst[0])
    g_strlcpy(dst, v, cap);
}

static void
take_attributes(HcLgSdpInfo *info, guint n, const GstSDPAttribute *(*get)(gconstpointer, guint),
                gconstpointer owner)
{
  for (guint i = 0; i < n; i++) {
    const GstSDPAttribute *a = get(owner, i);

    if (!a->key || !a->value)
      continue;
    if (strcmp(a->key, "ice-ufrag") == 0)
      copy_attr(info->ufrag, sizeof(info->ufrag), a->value);
    else if (strcmp(a->key, "ice-pwd") == 0)
      copy_attr(info->pwd, sizeof(info->pwd), a->value);
    else if (strcmp(a->key, "fingerprint") == 0)
      copy_attr(info->fingerprint, sizeof(info->fingerprint), a->value);
    else if (strcmp(a->key, "setup") == 0)
      copy_attr(info->setup, sizeof(info->setup), a->value);
    else if (strcmp(a->key, "candidate") == 0)
      take_candidate(info, a->value);
  }
}

static const GstSDPAttribute *
msg_attr(gconstpointer m, guint i)
{
  return gst_sdp_message_get_attribute((const GstSDPMessage *)m, i);
}

static const GstSDPAttribute *
media_attr(gconstpointer m, guint i)
{
  return gst_sdp_media_get_attribute((const GstSDPMedia *)m, i);
}

int
hc_lg_sdp_parse(const char *sdp, HcLgSdpInfo *info)
{
  GstSDPMessage *msg = NULL;
  int rc = -EINVAL;

  memset(info, 0, sizeof(*info));
  if (gst_sdp_message_new_from_text(sdp, &msg) != GST_SDP_OK)
    return -EINVAL;
  take_attributes(info, gst_sdp_message_attributes_len(msg), msg_attr, msg);
  info->ice_lite = gst_sdp_message_get_attribute_val(msg, "ice-lite") != NULL;
  for (guint i = 0; i < gst_sdp_message_medias_len(msg); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media(msg, i);
    take_attributes(info, gst_sdp_media_attributes_len(m), media_attr, m);
  }
  if (info->ufrag[0] && info->pwd[0] && g_str_has_prefix(info->fingerprint, "sha-256 "))
    rc = 0;
  gst_sdp_message_free(msg);
  return rc;
}

/* The payload type of the first format this viewer takes: Opus for audio,
 * H.264 packetization-mode 1 for video; -1 when there is none. */
static int
pick_format(const GstSDPMedia *m)
{
  const char *want = strcmp(gst_sdp_media_get_media(m), "audio") == 0 ? "opus/" : "H264/";

  for (guint i = 0; i < gst_sdp_media_formats_len(m); i++) {
    int pt = atoi(gst_sdp_media_get_format(m, i));
    for (guint k = 0; k < gst_sdp_media_attributes_len(m); k++) {
      const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, k);
      if (a->key && a->value && strcmp(a->key, "rtpmap") == 0 && atoi(a->value) == pt &&
          strstr(a->value, want))
        return pt;
    }
  }
  return -1;
}

static void
copy_format_lines(GString *s, const GstSDPMedia *m, int pt)
{
  for (guint k = 0; k < gst_sdp_media_attributes_len(m); k++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, k);
    if (a->key && a->value && atoi(a->value) == pt &&
        (strcmp(a->key, "rtpmap") == 0 || strcmp(a->key, "fmtp") == 0 ||
         strcmp(a->key, "rtcp-fb") == 0))
      g_string_append_printf(s, "a=%s:%s\r\n", a->key, a->value);
  }
}

char *
hc_lg_sdp_answer(const char *offer, const HcLgLocalIce *l)
{
  GstSDPMessage *msg = NULL;
  GString *s;
  const char *group;
  gboolean first = TRUE;

  if (gst_sdp_message_new_from_text(offer, &msg) != GST_SDP_OK)
    return NULL;
  s = g_string_new(NULL);
  g_string_append_printf(s, "v=0\r\no=- %u 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", g_random_int());
  group = gst_sdp_message_get_attribute_val(msg, "group");
  if (group)
    g_string_append_printf(s, "a=group:%s\r\n", group);
  for (guint i = 0; i < gst_sdp_message_medias_len(msg); i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media(msg, i);
    const char *media = gst_sdp_media_get_media(m);
    const char *mid = gst_sdp_media_get_attribute_val(m, "mid");
    int pt = -1;

    if (strcmp(media, "audio") == 0 || strcmp(media, "video") == 0)
      pt = gst_sdp_media_get_port(m) ? pick_format(m) : -1;
    if (pt < 0) {
      /* Rejected: data channels, or no codec this viewer takes. */
      g_string_append_printf(s, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\n", media,
                             gst_sdp_media_get_proto(m),
                             gst_sdp_media_formats_len(m) ? gst_sdp_media_get_format(m, 0) : "0");
      if (mid)
        g_string_append_printf(s, "a=mid:%s\r\n", mid);
      continue;
    }
    g_string_append_printf(s, "m=%s 9 UDP/TLS/RTP/SAVPF %d\r\n", media, pt);
    transport_lines(s, l, "active");
    if (mid)
      g_string_append_printf(s, "a=mid:%s\r\n", mid);
    g_string_append(s, "a=recvonly\r\n");
    copy_format_lines(s, m, pt);
    if (first && l->candidate)
      candidate_line(s, l->candidate);
    first = FALSE;
  }
  gst_sdp_message_free(msg);
  return g_string_free(s, FALSE);
}
