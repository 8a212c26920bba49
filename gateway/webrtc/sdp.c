/* WHEP offer parsing and answer writing on GstSDPMessage (see sdp.h). The
 * offer is hostile text: GstSDPMessage does the syntax, this file checks what
 * we need and copies bounded strings. Called from http/whep.c. */
#include "sdp.h"

#include <gst/sdp/sdp.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

/* A media-level attribute, else the session-level one, else NULL. */
static const char *
attr(const GstSDPMessage *msg, const GstSDPMedia *m, const char *key)
{
  const char *v = m ? gst_sdp_media_get_attribute_val(m, key) : NULL;

  return v ? v : gst_sdp_message_get_attribute_val(msg, key);
}

static gboolean
fmtp_has(const char *fmtp, const char *key, const char *value)
{
  char **params = g_strsplit(fmtp, ";", -1);
  gboolean found = FALSE;

  for (int i = 0; params[i] && !found; i++) {
    char *p = g_strstrip(params[i]);
    size_t n = strlen(key);
    if (g_ascii_strncasecmp(p, key, n) == 0 && p[n] == '=')
      found = value == NULL || g_ascii_strcasecmp(p + n + 1, value) == 0;
  }
  g_strfreev(params);
  return found;
}

/* The fmtp value of payload type pt, or "". */
static const char *
fmtp_of(const GstSDPMedia *m, int pt)
{
  for (guint i = 0; i < gst_sdp_media_attributes_len(m); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, i);
    char *end;
    long v;

    if (!a->value || strcmp(a->key, "fmtp") != 0)
      continue;
    v = strtol(a->value, &end, 10);
    if (v == pt && end != a->value && *end == ' ')
      return end + 1;
  }
  return "";
}

static void
read_rtcp_fb(const GstSDPMedia *m, HcSdpMedia *out)
{
  char prefix[8];

  g_snprintf(prefix, sizeof prefix, "%d ", out->pt);
  for (guint i = 0; i < gst_sdp_media_attributes_len(m); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, i);
    const char *v;

    if (!a->value || strcmp(a->key, "rtcp-fb") != 0)
      continue;
    if (g_str_has_prefix(a->value, prefix))
      v = a->value + strlen(prefix);
    else if (g_str_has_prefix(a->value, "* "))
      v = a->value + 2;
    else
      continue;
    if (strcmp(v, "nack") == 0)
      out->nack = TRUE;
    else if (strcmp(v, "nack pli") == 0)
      out->pli = TRUE;
    else if (strcmp(v, "ccm fir") == 0)
      out->fir = TRUE;
  }
}

/* Picks the payload type of the codec we send: H.264 with
 * packetization-mode=1 (baseline profiles first) or Opus. */
static void
choose_codec(const GstSDPMedia *m, HcSdpMedia *out)
{
  int best = -1, best_score = 0;

  for (guint i = 0; i < gst_sdp_media_attributes_len(m); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, i);
    char enc[64];
    int pt, score = 0;

    if (!a->value || strcmp(a->key, "rtpmap") != 0 || sscanf(a->value, "%d %63s", &pt, enc) != 2 ||
        pt < 0 || pt > 127)
      continue;
    if (out->kind == HC_SDP_VIDEO && g_ascii_strcasecmp(enc, "H264/90000") == 0) {
      const char *f = fmtp_of(m, pt);
      if (!fmtp_has(f, "packetization-mode", "1"))
        continue;
      /* Our streams are constrained baseline: a 42xxxx profile fits best. */
      score = fmtp_has(f, "profile-level-id", NULL) && strstr(f, "profile-level-id=42") ? 2 : 1;
    } else if (out->kind == HC_SDP_AUDIO && (g_ascii_strcasecmp(enc, "opus/48000/2") == 0 ||
                                             g_ascii_strcasecmp(enc, "opus/48000") == 0)) {
      /* RFC 7587 says opus/48000/2; some stacks leave the channels out. */
      score = 1;
    }
    if (score > best_score) {
      best = pt;
      best_score = score;
      g_strlcpy(out->rtpmap, enc, sizeof out->rtpmap);
    }
  }
  out->pt = best;
  if (best >= 0) {
    g_strlcpy(out->fmtp, fmtp_of(m, best), sizeof out->fmtp);
    read_rtcp_fb(m, out);
  }
}

/* The rtpmap of the m-line's first format, echoed if the m-line is rejected. */
static void
first_rtpmap(const GstSDPMedia *m, HcSdpMedia *out)
{
  int first;
  char *end;

  if (!out->first_format[0])
    return;
  first = (int)strtol(out->first_format, &end, 10);
  if (*end)
    return;
  for (guint i = 0; i < gst_sdp_media_attributes_len(m); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute(m, i);
    char enc[64];
    int pt;

    if (a->value && strcmp(a->key, "rtpmap") == 0 && sscanf(a->value, "%d %63s", &pt, enc) == 2 &&
        pt == first) {
      g_strlcpy(out->first_rtpmap, enc, sizeof out->first_rtpmap);
      return;
    }
  }
}

static gboolean
valid_ice(const char *s, gsize min)
{
  gsize n = s ? strlen(s) : 0;

  if (n < min || n > 256)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum(s[i]) && s[i] != '+' && s[i] != '/')
      return FALSE;
  return TRUE;
}

/* A viewer's offer (WHEP: we send), or a publisher's (WHIP: we receive). */
static int
parse_offer(const char *text, gsize len, gboolean has_video, gboolean has_audio, gboolean publish,
            HcSdpOffer *offer, const char **reason)
{
  GstSDPMessage *msg = NULL;
  const char *group, *fp, *setup;
  const GstSDPMedia *first = NULL;
  gboolean idle_kind[HC_SDP_AUDIO + 1] = {FALSE};
  int rc = HC_EUNSUPPORTED;

  memset(offer, 0, sizeof *offer);
  offer->video = offer->audio = -1;
  *reason = "the offer is not valid SDP";
  if (len == 0 || len > 65536 || memchr(text, '\0', len))
    return HC_EINVAL;
  gst_sdp_message_new(&msg);
  if (gst_sdp_message_parse_buffer((const guint8 *)text, (guint)len, msg) != GST_SDP_OK ||
      gst_sdp_message_medias_len(msg) == 0) {
    rc = HC_EINVAL;
    goto out;
  }
  group = gst_sdp_message_get_attribute_val(msg, "group");
  if (!group || !g_str_has_prefix(group, "BUNDLE ")) {
    *reason = "no bundle: the offer must use a=group:BUNDLE";
    goto out;
  }
  if (gst_sdp_message_medias_len(msg) > HC_SDP_MAX_MEDIA) {
    *reason = "too many m-lines";
    goto out;
  }
  offer->n_media = gst_sdp_message_medias_len(msg);
  for (guint i = 0; i < offer->n_media; i++) {
    const GstSDPMedia *m = gst_sdp_message_get_media(msg, i);
    HcSdpMedia *o = &offer->media[i];
    const char *media = gst_sdp_media_get_media(m),
               *mid = gst_sdp_media_get_attribute_val(m, "mid");
    const char *proto = gst_sdp_media_get_proto(m);

    o->pt = -1;
    o->kind = g_strcmp0(media, "video") == 0   ? HC_SDP_VIDEO
              : g_strcmp0(media, "audio") == 0 ? HC_SDP_AUDIO
                                               : HC_SDP_OTHER;
    if (mid)
      g_strlcpy(o->mid, mid, sizeof o->mid);
    else
      g_snprintf(o->mid, sizeof o->mid, "%u", i);
    if (gst_sdp_media_formats_len(m) > 0)
      g_strlcpy(o->first_format, gst_sdp_media_get_format(m, 0), sizeof o->first_format);
    first_rtpmap(m, o);
    if (o->kind == HC_SDP_OTHER || !proto || !strstr(proto, "SAVPF") ||
        (gst_sdp_media_get_port(m) == 0 && !gst_sdp_media_get_attribute_val(m, "bundle-only")) ||
        gst_sdp_media_get_attribute_val(m, publish ? "recvonly" : "sendonly") ||
        gst_sdp_media_get_attribute_val(m, "inactive"))
      continue;
    if ((o->kind == HC_SDP_VIDEO && !has_video) || (o->kind == HC_SDP_AUDIO && !has_audio)) {
      /* A kind the stream lacks (a lecture with only a microphone): the
       * m-line is accepted as inactive rather than rejected, so a peer whose
       * bundle tag it is (browsers offer video first) keeps its transport. */
      if (!publish && !idle_kind[o->kind] && gst_sdp_media_get_attribute_val(m, "rtcp-mux")) {
        choose_codec(m, o);
        o->idle = idle_kind[o->kind] = o->pt >= 0;
      }
      continue;
    }
    if ((o->kind == HC_SDP_VIDEO && offer->video >= 0) ||
        (o->kind == HC_SDP_AUDIO && offer->audio >= 0))
      continue;
    choose_codec(m, o);
    if (o->pt < 0) {
      *reason = o->kind == HC_SDP_VIDEO ? "no H.264 with packetization-mode=1 in the video offer"
                                        : "no Opus in the audio offer";
      goto out;
    }
    if (!gst_sdp_media_get_attribute_val(m, "rtcp-mux")) {
      *reason = "no rtcp-mux";
      goto out;
    }
    if (o->kind == HC_SDP_VIDEO)
      offer->video = (int)i;
    else
      offer->audio = (int)i;
    if (!first)
      first = m;
  }
  if (!first) {
    *reason = publish ? "no video or audio m-line to publish (H.264 or Opus, sendonly)"
                      : "no video or audio m-line the stream can serve (H.264 or Opus, recvonly)";
    goto out;
  }
  /* With bundle the transport (ICE, DTLS) is the first bundled m-line's,
   * which need not be one we serve (a rejected data channel, say). */
  for (guint i = 0; i < offer->n_media; i++) {
    char *tag = g_strdup_printf("BUNDLE %s", offer->media[i].mid);
    gboolean tagged =
      g_str_has_prefix(group, tag) && (group[strlen(tag)] == ' ' || group[strlen(tag)] == '\0');
    g_free(tag);
    if (tagged) {
      first = gst_sdp_message_get_media(msg, i);
      break;
    }
  }
  fp = attr(msg, first, "fingerprint");
  if (!fp || g_ascii_strncasecmp(fp, "sha-256 ", 8) != 0 || strlen(fp + 8) != 95) {
    *reason = "no DTLS fingerprint: a=fingerprint:sha-256 is required";
    goto out;
  }
  g_strlcpy(offer->fingerprint, fp + 8, sizeof offer->fingerprint);
  setup = attr(msg, first, "setup");
  if (setup && strcmp(setup, "actpass") != 0 && strcmp(setup, "active") != 0) {
    *reason = "a=setup must be actpass or active (hallcast is the DTLS server)";
    goto out;
  }
  if (!valid_ice(attr(msg, first, "ice-ufrag"), 4) || !valid_ice(attr(msg, first, "ice-pwd"), 22)) {
    *reason = "no valid ICE credentials (a=ice-ufrag, a=ice-pwd)";
    goto out;
  }
  g_strlcpy(offer->ice_ufrag, attr(msg, first, "ice-ufrag"), sizeof offer->ice_ufrag);
  g_strlcpy(offer->ice_pwd, attr(msg, first, "ice-pwd"), sizeof offer->ice_pwd);
  rc = 0;
  *reason = NULL;
out:
  gst_sdp_message_free(msg);
  return rc;
}

int
hc_sdp_parse_offer(const char *text, gsize len, gboolean has_video, gboolean has_audio,
                   HcSdpOffer *offer, const char **reason)
{
  return parse_offer(text, len, has_video, has_audio, FALSE, offer, reason);
}

int
hc_sdp_parse_publish_offer(const char *text, gsize len, HcSdpOffer *offer, const char **reason)
{
  return parse_offer(text, len, TRUE, TRUE, TRUE, offer, reason);
}

/* ICE credentials and DTLS role and fingerprint of an answer m-line. */
static void
add_transport(GstSDPMedia *m, const HcSdpAnswerParams *p)
{
  char buf[160];

  gst_sdp_media_add_attribute(m, "ice-ufrag", p->ice_ufrag);
  gst_sdp_media_add_attribute(m, "ice-pwd", p->ice_pwd);
  g_snprintf(buf, sizeof buf, "sha-256 %s", p->fingerprint);
  gst_sdp_media_add_attribute(m, "fingerprint", buf);
  gst_sdp_media_add_attribute(m, "setup", "passive");
}

/* The SDP address type of a candidate address (RFC 4566 c= and o=). */
static const char *
addrtype(const char *address)
{
  return strchr(address, ':') ? "IP6" : "IP4";
}

static void
add_served_media(GstSDPMedia *m, const HcSdpMedia *o, const HcSdpAnswerParams *p,
                 const char *direction)
{
  char buf[320];
  guint32 ssrc = o->kind == HC_SDP_VIDEO ? p->video_ssrc : p->audio_ssrc;

  g_snprintf(buf, sizeof buf, "%d", o->pt);
  gst_sdp_media_add_format(m, buf);
  gst_sdp_media_add_connection(m, "IN", addrtype(p->addresses[0]), p->addresses[0], 0, 0);
  gst_sdp_media_add_attribute(m, "mid", o->mid);
  gst_sdp_media_add_attribute(m, direction, NULL);
  gst_sdp_media_add_attribute(m, "rtcp-mux", NULL);
  add_transport(m, p);
  g_snprintf(buf, sizeof buf, "%d %s", o->pt, o->rtpmap);
  gst_sdp_media_add_attribute(m, "rtpmap", buf);
  if (o->fmtp[0]) {
    g_snprintf(buf, sizeof buf, "%d %s", o->pt, o->fmtp);
    gst_sdp_media_add_attribute(m, "fmtp", buf);
  }
  if (o->nack) {
    g_snprintf(buf, sizeof buf, "%d nack", o->pt);
    gst_sdp_media_add_attribute(m, "rtcp-fb", buf);
  }
  if (o->pli) {
    g_snprintf(buf, sizeof buf, "%d nack pli", o->pt);
    gst_sdp_media_add_attribute(m, "rtcp-fb", buf);
  }
  if (o->fir) {
    g_snprintf(buf, sizeof buf, "%d ccm fir", o->pt);
    gst_sdp_media_add_attribute(m, "rtcp-fb", buf);
  }
  if (strcmp(direction, "sendonly") == 0) {
    g_snprintf(buf, sizeof buf, "%s %s", p->stream, o->kind == HC_SDP_VIDEO ? "video" : "audio");
    gst_sdp_media_add_attribute(m, "msid", buf);
    g_snprintf(buf, sizeof buf, "%u cname:%s", ssrc, p->cname);
    gst_sdp_media_add_attribute(m, "ssrc", buf);
  }
  for (guint i = 0; p->addresses[i]; i++) {
    g_snprintf(buf, sizeof buf, "%u 1 udp %u %s %u typ host", i + 1, 2130706431u - i,
               p->addresses[i], p->port);
    gst_sdp_media_add_attribute(m, "candidate", buf);
  }
  gst_sdp_media_add_attribute(m, "end-of-candidates", NULL);
}

static char *
build_answer(const HcSdpOffer *offer, const HcSdpAnswerParams *p, gboolean recvonly)
{
  GstSDPMessage *msg;
  GString *bundle = g_string_new("BUNDLE");
  char *text, id[24];

  gst_sdp_message_new(&msg);
  gst_sdp_message_set_version(msg, "0");
  g_snprintf(id, sizeof id, "%" G_GUINT64_FORMAT, g_random_int() | (guint64)1 << 32);
  gst_sdp_message_set_origin(msg, "-", id, "2", "IN", addrtype(p->addresses[0]), p->addresses[0]);
  gst_sdp_message_set_session_name(msg, "hallcast");
  gst_sdp_message_add_time(msg, "0", "0", NULL);
  for (guint i = 0; i < offer->n_media; i++)
    if ((int)i == offer->video || (int)i == offer->audio || offer->media[i].idle)
      g_string_append_printf(bundle, " %s", offer->media[i].mid);
  gst_sdp_message_add_attribute(msg, "group", bundle->str);
  gst_sdp_message_add_attribute(msg, "ice-lite", NULL);
  gst_sdp_message_add_attribute(msg, "msid-semantic", " WMS *");
  for (guint i = 0; i < offer->n_media; i++) {
    const HcSdpMedia *o = &offer->media[i];
    gboolean served = (int)i == offer->video || (int)i == offer->audio;
    GstSDPMedia media, *m = &media;

    memset(m, 0, sizeof *m); /* init frees what it finds */
    gst_sdp_media_init(m);
    gst_sdp_media_set_media(m, o->kind == HC_SDP_VIDEO   ? "video"
                               : o->kind == HC_SDP_AUDIO ? "audio"
                                                         : "application");
    gst_sdp_media_set_proto(m, "UDP/TLS/RTP/SAVPF");
    if (served || o->idle) {
      gst_sdp_media_set_port_info(m, p->port, 1);
      add_served_media(m, o, p, o->idle ? "inactive" : recvonly ? "recvonly" : "sendonly");
    } else {
      /* Rejected: port 0, and the mid so the peer can match it. */
      gst_sdp_media_set_port_info(m, 0, 1);
      gst_sdp_media_add_format(m, o->first_format[0] ? o->first_format : "0");
      gst_sdp_media_add_connection(m, "IN", "IP4", "0.0.0.0", 0, 0);
      gst_sdp_media_add_attribute(m, "mid", o->mid);
      gst_sdp_media_add_attribute(m, "inactive", NULL);
      gst_sdp_media_add_attribute(m, "rtcp-mux", NULL);
      /* Some peers (aiortc) want the transport and a codec they know in
       * every m-line, even a rejected one. */
      add_transport(m, p);
      if (o->first_rtpmap[0]) {
        char buf[96];
        g_snprintf(buf, sizeof buf, "%s %s", o->first_format, o->first_rtpmap);
        gst_sdp_media_add_attribute(m, "rtpmap", buf);
      }
    }
    /* add_media takes the contents of m: no uninit here. */
    gst_sdp_message_add_media(msg, m);
  }
  text = gst_sdp_message_as_text(msg);
  gst_sdp_message_free(msg);
  g_string_free(bundle, TRUE);
  return text;
}

char *
hc_sdp_build_answer(const HcSdpOffer *offer, const HcSdpAnswerParams *p)
{
  return build_answer(offer, p, FALSE);
}

char *
hc_sdp_build_publish_answer(const HcSdpOffer *offer, const HcSdpAnswerParams *p)
{
  return build_answer(offer, p, TRUE);
}
