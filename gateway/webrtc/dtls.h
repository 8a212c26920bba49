/* DTLS 1.2 for DTLS-SRTP (RFC 5764) with OpenSSL: one self-signed ECDSA
 * certificate made at start, one SSL object per viewer driven through memory
 * BIOs (datagrams in, datagrams out), hallcast always the DTLS server.
 * hc_dtls_init/shutdown on the main thread; an HcDtls belongs to one thread. */
#ifndef HC_WEBRTC_DTLS_H
#define HC_WEBRTC_DTLS_H

#include <glib.h>

#define HC_SRTP_MAX_KEY 32 /* key + salt of the largest profile we use */

typedef struct HcDtls HcDtls;

typedef enum {
  HC_DTLS_HANDSHAKE = 0, /* in progress */
  HC_DTLS_CONNECTED,     /* keys available */
  HC_DTLS_CLOSED,        /* close_notify received */
  HC_DTLS_FAILED,        /* fatal alert, bad fingerprint */
} HcDtlsState;

/* Makes the certificate and the shared context. HC_EINTERNAL on failure. */
gboolean hc_dtls_init(GError **error);
void hc_dtls_shutdown(void);
/* "AB:CD:..." SHA-256 fingerprint of our certificate, for a=fingerprint. */
const char *hc_dtls_fingerprint(void);

/* A server-side session expecting a peer certificate with the SHA-256
 * fingerprint peer_fp ("AB:CD:...", case-insensitive). */
HcDtls *hc_dtls_new(const char *peer_fp);
void hc_dtls_free(HcDtls *d);

/* Feeds one received datagram and advances the handshake. Returns the state;
 * datagrams to send are then taken with hc_dtls_next_out(). */
HcDtlsState hc_dtls_receive(HcDtls *d, const guint8 *data, gsize len);
/* Queues a close_notify alert (take it with hc_dtls_next_out). */
void hc_dtls_close(HcDtls *d);
/* Retransmits on timeout; call periodically while in HC_DTLS_HANDSHAKE. */
void hc_dtls_tick(HcDtls *d);
/* Moves the next datagram to send into out; returns its length, 0 if none. */
gsize hc_dtls_next_out(HcDtls *d, guint8 *out, gsize cap);

/* After HC_DTLS_CONNECTED: the negotiated SRTP protection profile id
 * (RFC 5764: 0x0001 AES128_CM_SHA1_80, 0x0007 AEAD_AES_128_GCM) and the
 * keys+salts for what we send and what we receive. 0 or HC_EINTERNAL. */
int hc_dtls_srtp_keys(HcDtls *d, int *profile, guint8 send[HC_SRTP_MAX_KEY],
                      guint8 recv[HC_SRTP_MAX_KEY]);

#endif
