/* SRTP/SRTCP with libsrtp2: one session per viewer holding an outbound
 * policy (our key) and an inbound one (the viewer's key). A session belongs
 * to the worker thread of its viewer; hc_srtp_init once at start. */
#ifndef HC_WEBRTC_SRTP_H
#define HC_WEBRTC_SRTP_H

#include <glib.h>

#include "dtls.h"

/* Room srtp_protect may add after a packet (tag, and the SRTCP index). */
#define HC_SRTP_TRAILER 32

typedef struct HcSrtp HcSrtp;

/* Initialises libsrtp; logs which crypto backend it was built with. */
gboolean hc_srtp_init(GError **error);
void hc_srtp_shutdown(void);
/* "AES128_CM_SHA1_80" or "AEAD_AES_128_GCM" for an RFC 5764 profile id. */
const char *hc_srtp_profile_name(int profile);

/* A session for profile with our send key+salt and the peer's; NULL on error. */
HcSrtp *hc_srtp_new(int profile, const guint8 send[HC_SRTP_MAX_KEY],
                    const guint8 recv[HC_SRTP_MAX_KEY]);
/* The same for a viewer, whose RTP srtp-fast.c protects: SRTCP only (both
 * ways); hc_srtp_protect and hc_srtp_unprotect fail on it. */
HcSrtp *hc_srtp_new_rtcp(int profile, const guint8 send[HC_SRTP_MAX_KEY],
                         const guint8 recv[HC_SRTP_MAX_KEY]);
void hc_srtp_free(HcSrtp *s);

/* In place; buf must have HC_SRTP_TRAILER bytes of room after *len.
 * 0 or HC_EINVAL. */
int hc_srtp_protect(HcSrtp *s, guint8 *buf, int *len);
int hc_srtp_protect_rtcp(HcSrtp *s, guint8 *buf, int *len);
/* Authenticates and decrypts an SRTP packet (a WHIP publisher's) in place.
 * 0 or HC_EINVAL. */
int hc_srtp_unprotect(HcSrtp *s, guint8 *buf, int *len);
/* Authenticates and decrypts an SRTCP packet in place. 0 or HC_EINVAL. */
int hc_srtp_unprotect_rtcp(HcSrtp *s, guint8 *buf, int *len);

#endif
