/* STUN (RFC 5389) for ICE-lite: parses binding requests from hostile bytes,
 * checks MESSAGE-INTEGRITY (HMAC-SHA1, short-term credential) and FINGERPRINT
 * (CRC-32), and builds binding success responses with XOR-MAPPED-ADDRESS.
 * Pure functions, any thread; used by media/fanout.c, and (the attribute
 * walker and builder, integrity, fingerprint) by tools/loadgen's ICE agent
 * through the static library hc-stun. */
#ifndef HC_WEBRTC_STUN_H
#define HC_WEBRTC_STUN_H

#include <glib.h>
#include "addr.h"

#define HC_STUN_BINDING_REQUEST 0x0001
#define HC_STUN_BINDING_SUCCESS 0x0101
#define HC_STUN_BINDING_INDICATION 0x0011
#define HC_STUN_HEADER 20
#define HC_STUN_MAGIC 0x2112A442u
#define HC_STUN_ATTR_MESSAGE_INTEGRITY 0x0008
#define HC_STUN_ATTR_FINGERPRINT 0x8028

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
  gboolean has_xor_mapped; /* XOR-MAPPED-ADDRESS, IPv4 or IPv6 */
  HcAddr xor_mapped;
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

/* One attribute of a message: its type, value length, where it starts. */
typedef struct {
  guint16 type;
  guint16 len;
  gsize at;            /* offset of the attribute (its type field) */
  const guint8 *value; /* len bytes, inside the message */
} HcStunAttr;

/* Reads the attribute at *off (start at HC_STUN_HEADER) of a message that
 * ends at end, and moves *off past it and its padding. 1 for an attribute,
 * 0 at the end, HC_EINVAL when it (or its padding) overruns end. */
int hc_stun_attr_next(const guint8 *buf, gsize end, gsize *off, HcStunAttr *a);

/* MESSAGE-INTEGRITY: HMAC-SHA1 with key over buf[0..at) with the header's
 * length set to end right after the attribute at at (RFC 5389 15.4); at is
 * at most 2048. FALSE if it cannot be computed. */
gboolean hc_stun_integrity(const guint8 *buf, gsize at, const char *key, gsize key_len,
                           guint8 out[20]);
/* FINGERPRINT value for an attribute at at: CRC-32 of buf[0..at) with the
 * header's length set to end after it, XOR 0x5354554e (RFC 5389 15.5). */
guint32 hc_stun_fingerprint(const guint8 *buf, gsize at);

/* Appends an attribute of vlen zero bytes (padded to 4) to the message of
 * *len bytes in buf, updating *len and the header's length. Returns where
 * the value goes, or NULL when cap is too small. */
guint8 *hc_stun_add_attr(guint8 *buf, gsize cap, gsize *len, guint16 type, gsize vlen);
/* Appends MESSAGE-INTEGRITY (when key is not NULL) and FINGERPRINT; returns
 * the final length, or 0 when cap is too small. */
gsize hc_stun_finish(guint8 *buf, gsize cap, gsize len, const char *key, gsize key_len);

/* Writes a binding success response for txid telling the peer its address
 * (IPv4 or IPv6; a v4-mapped one as IPv4), with MESSAGE-INTEGRITY (key: our
 * ICE password) and FINGERPRINT. Returns the length, or 0 if cap is too
 * small (64 bytes for IPv4, 76 for IPv6) or peer is of neither family. */
gsize hc_stun_binding_response(guint8 *out, gsize cap, const guint8 txid[12], const HcAddr *peer,
                               const char *key, gsize key_len);

#endif
