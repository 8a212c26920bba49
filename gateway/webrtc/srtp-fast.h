/* SRTP protect for the RTP the fan-out sends to viewers, with the least work
 * per packet: OpenSSL cipher contexts keyed once per session, RFC 7714
 * AEAD_AES_128_GCM and RFC 3711 AES_CM_128_HMAC_SHA1_80. Everything else
 * (SRTCP, what viewers send us) stays with libsrtp (srtp.h). A session
 * belongs to the worker thread of its viewer. */
#ifndef HC_WEBRTC_SRTP_FAST_H
#define HC_WEBRTC_SRTP_FAST_H

#include <glib.h>

#include "dtls.h"

/* SSRCs one session can send (a viewer has a video and an audio one). */
#define HC_SRTP_FAST_STREAMS 4

typedef struct HcSrtpFast HcSrtpFast;

/* A session for RFC 5764 profile 0x0007 (GCM) or 0x0001 (AES-CM + HMAC-SHA1-80)
 * with our send master key + salt, as given to hc_srtp_new. NULL if the
 * profile is neither or OpenSSL fails. Caller owns; free with hc_srtp_fast_free. */
HcSrtpFast *hc_srtp_fast_new(int profile, const guint8 send[HC_SRTP_MAX_KEY]);
void hc_srtp_fast_free(HcSrtpFast *f);

/* Protects the RTP packet of *len bytes in place, as srtp_protect does
 * (rollover counter per SSRC, the sender's index estimate of RFC 3711
 * appendix A, repeats allowed for NACK retransmissions); buf must have
 * HC_SRTP_TRAILER bytes of room after *len. 0 or HC_EINVAL (not RTP, or a
 * fifth SSRC). Worker thread of the session; no allocation. */
int hc_srtp_fast_protect(HcSrtpFast *f, guint8 *buf, int *len);

/* Worker thread: asks the CPU for the session's cipher state ahead of the
 * next hc_srtp_fast_protect (a hint: no effect on results). */
void hc_srtp_fast_prefetch(const HcSrtpFast *f);

#endif
