/* SDP offer/answer for WHEP playback with GstSDPMessage: reads a viewer's
 * offer (bundle, rtcp-mux, ICE credentials, DTLS fingerprint, H.264
 * packetization-mode=1 and Opus payload types) and writes our ICE-lite,
 * setup:passive, sendonly answer. Pure functions, any thread. */
#ifndef HC_WEBRTC_SDP_H
#define HC_WEBRTC_SDP_H

#include <glib.h>

#define HC_SDP_MAX_MEDIA 8

typedef enum { HC_SDP_OTHER = 0, HC_SDP_VIDEO, HC_SDP_AUDIO } HcSdpKind;

typedef struct {
  HcSdpKind kind;
  char mid[33];
  char first_format[16];   /* echoed in a rejected m-line */
  char first_rtpmap[64];   /* and its rtpmap ("" if none) */
  int pt;                  /* chosen payload type, -1: this m-line is rejected */
  char rtpmap[64];         /* of the chosen payload type, e.g. "H264/90000" */
  char fmtp[256];          /* of the chosen payload type, may be empty */
  gboolean nack, pli, fir; /* rtcp-fb offered for the chosen payload type */
  gboolean idle;           /* accepted as inactive: a kind the stream lacks */
} HcSdpMedia;

typedef struct {
  char ice_ufrag[257];
  char ice_pwd[257];
  char fingerprint[100]; /* SHA-256, "AB:CD:..." */
  guint n_media;
  HcSdpMedia media[HC_SDP_MAX_MEDIA];
  int video, audio; /* index in media of the served m-lines, -1 if none */
} HcSdpOffer;

/* Reads an offer for a stream that has video and/or audio. On error returns
 * HC_EINVAL (not SDP) or HC_EUNSUPPORTED and sets *reason to a static
 * one-line reason ("no bundle", "no DTLS fingerprint", ...). */
int hc_sdp_parse_offer(const char *text, gsize len, gboolean has_video, gboolean has_audio,
                       HcSdpOffer *offer, const char **reason);

/* Reads a WHIP publisher's offer (sendonly or sendrecv m-lines, H.264
 * packetization-mode=1 and/or Opus), with the same errors. */
int hc_sdp_parse_publish_offer(const char *text, gsize len, HcSdpOffer *offer, const char **reason);

typedef struct {
  const char *ice_ufrag, *ice_pwd;
  const char *fingerprint;      /* ours */
  const char *const *addresses; /* host candidate addresses, NULL-terminated */
  guint16 port;
  guint32 video_ssrc, audio_ssrc;
  const char *cname;  /* viewer id */
  const char *stream; /* msid stream id */
} HcSdpAnswerParams;

/* The answer text (owned by the caller) for a parsed offer. */
char *hc_sdp_build_answer(const HcSdpOffer *offer, const HcSdpAnswerParams *p);
/* The recvonly answer (no msid, no ssrc; the SSRCs of p unused) for a
 * parsed publisher's offer. */
char *hc_sdp_build_publish_answer(const HcSdpOffer *offer, const HcSdpAnswerParams *p);

#endif
