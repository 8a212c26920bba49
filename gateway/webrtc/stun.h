/* STUN (RFC 5389) for ICE-lite: parses binding requests from hostile bytes,
 * checks MESSAGE-INTEGRITY (HMAC-SHA1, short-term credential) and FINGERPRINT
 * (CRC-32), and builds binding success responses with XOR-MAPPED-ADDRESS.
 * Pure functions, any thread; used by media/fanout.c. */
#ifndef HC_WEBRTC_STUN_H
#define HC_WEBRTC_STUN_H

#include <glib.h>
#include <netinet/in.h>

#define HC_STUN_BINDING_REQUEST 0x0001
#define HC_STUN_BINDING_SUCCESS 0x0101
#define HC_STUN_BINDING_INDICATION 0x0011
#define HC_STUN_HEADER 20

typedef struct {
  guint16 type;
  guint8 txid[12];
  const guint8 *username; /* points into the message; not NUL-terminated */
  gsize username_len;
  gsize integrity_at;   /* offset of the MESSAGE-INTEGRITY attribute, 0 if none */
  gsize fingerprint_at; /* offset of the FINGERPRINT attribute, 0 if none */
  guint32 fingerprint;
  guint32 priority;
  gboolean use_candidate, controlling, controlled;
  gboolean has_xor_mapped; /* XOR-MAPPED-ADDRESS (IPv4 only) */
  struct sockaddr_in xor_mapped;
} HcStunMessage;

/* TRUE if the first bytes look like STUN (RFC 7983 demultiplexing + magic cookie). */
gboolean hc_stun_is_stun(const guint8 *buf, gsize len);

/* Parses a message; every length is checked, unknown attributes skipped.
 * 0, or HC_EINVAL for anything malformed (then msg is undefined). */
int hc_stun_parse(const guint8 *buf, gsize len, HcStunMessage *msg);

/* TRUE if the parsed message carries a valid MESSAGE-INTEGRITY for key. */
gboolean hc_stun_check_integrity(const guint8 *buf, gsize len, const HcStunMessage *msg,
                                 const char *key, gsize key_len);
/* TRUE if the parsed message carries a valid FINGERPRINT. */
gboolean hc_stun_check_fingerprint(const guint8 *buf, gsize len, const HcStunMessage *msg);

/* Writes a binding success response for txid telling the peer its address,
 * with MESSAGE-INTEGRITY (key: our ICE password) and FINGERPRINT. Returns
 * the length, or 0 if cap is too small (needs 64 bytes). */
gsize hc_stun_binding_response(guint8 *out, gsize cap, const guint8 txid[12],
                               const struct sockaddr_in *peer, const char *key, gsize key_len);

#endif
