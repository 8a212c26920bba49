/* STUN parsing and binding responses for ICE-lite (see stun.h). Bytes come
 * from the network: every attribute length is checked against the message
 * before it is read. HMAC-SHA1 from OpenSSL, CRC-32 from zlib. */
#include "stun.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>
#include <zlib.h>

#include "core/error.h"

#define MAGIC 0x2112A442u
#define FINGERPRINT_XOR 0x5354554eu

enum {
  ATTR_XOR_MAPPED_ADDRESS = 0x0020,
  ATTR_USERNAME = 0x0006,
  ATTR_MESSAGE_INTEGRITY = 0x0008,
  ATTR_PRIORITY = 0x0024,
  ATTR_USE_CANDIDATE = 0x0025,
  ATTR_FINGERPRINT = 0x8028,
  ATTR_ICE_CONTROLLED = 0x8029,
  ATTR_ICE_CONTROLLING = 0x802A,
};

static guint16
rd16(const guint8 *p)
{
  return (guint16)(p[0] << 8 | p[1]);
}

static guint32
rd32(const guint8 *p)
{
  return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

static void
wr16(guint8 *p, guint16 v)
{
  p[0] = v >> 8;
  p[1] = v & 0xff;
}

static void
wr32(guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = (v >> 16) & 0xff;
  p[2] = (v >> 8) & 0xff;
  p[3] = v & 0xff;
}

gboolean
hc_stun_is_stun(const guint8 *buf, gsize len)
{
  return len >= HC_STUN_HEADER && buf[0] < 4 && rd32(buf + 4) == MAGIC;
}

int
hc_stun_parse(const guint8 *buf, gsize len, HcStunMessage *msg)
{
  gsize mlen, off;

  memset(msg, 0, sizeof *msg);
  if (!hc_stun_is_stun(buf, len))
    return HC_EINVAL;
  mlen = rd16(buf + 2);
  if (mlen % 4 || HC_STUN_HEADER + mlen != len)
    return HC_EINVAL;
  msg->type = rd16(buf);
  memcpy(msg->txid, buf + 8, 12);
  for (off = HC_STUN_HEADER; off < len;) {
    guint16 type, alen;
    const guint8 *v;

    if (off + 4 > len)
      return HC_EINVAL;
    type = rd16(buf + off);
    alen = rd16(buf + off + 2);
    if (off + 4 + alen > len)
      return HC_EINVAL;
    v = buf + off + 4;
    /* After MESSAGE-INTEGRITY only FINGERPRINT may follow; after it nothing. */
    if (msg->fingerprint_at || (msg->integrity_at && type != ATTR_FINGERPRINT))
      return HC_EINVAL;
    switch (type) {
    case ATTR_USERNAME:
      if (alen > 513)
        return HC_EINVAL;
      msg->username = v;
      msg->username_len = alen;
      break;
    case ATTR_MESSAGE_INTEGRITY:
      if (alen != 20)
        return HC_EINVAL;
      msg->integrity_at = off;
      break;
    case ATTR_FINGERPRINT:
      if (alen != 4)
        return HC_EINVAL;
      msg->fingerprint_at = off;
      msg->fingerprint = rd32(v);
      break;
    case ATTR_PRIORITY:
      if (alen != 4)
        return HC_EINVAL;
      msg->priority = rd32(v);
      break;
    case ATTR_USE_CANDIDATE:
      msg->use_candidate = TRUE;
      break;
    case ATTR_ICE_CONTROLLING:
      msg->controlling = TRUE;
      break;
    case ATTR_ICE_CONTROLLED:
      msg->controlled = TRUE;
      break;
    case ATTR_XOR_MAPPED_ADDRESS:
      if (alen >= 8 && v[1] == 0x01) {
        msg->has_xor_mapped = TRUE;
        msg->xor_mapped.sin_family = AF_INET;
        msg->xor_mapped.sin_port = htons(rd16(v + 2) ^ (MAGIC >> 16));
        msg->xor_mapped.sin_addr.s_addr = htonl(rd32(v + 4) ^ MAGIC);
      }
      break;
    default:
      break; /* unknown attributes are skipped */
    }
    off += 4 + ((alen + 3u) & ~3u);
  }
  return off == len ? 0 : HC_EINVAL;
}

/* HMAC-SHA1 over buf[0..at) with the header length rewritten to end at
 * at + 24 (RFC 5389 15.4). at is at most a UDP datagram. */
static gboolean
integrity(const guint8 *buf, gsize at, const char *key, gsize key_len, guint8 out[20])
{
  guint8 copy[2048];
  unsigned int n = 0;

  if (at > sizeof copy)
    return FALSE;
  memcpy(copy, buf, at);
  wr16(copy + 2, (guint16)(at + 24 - HC_STUN_HEADER));
  return HMAC(EVP_sha1(), key, (int)key_len, copy, at, out, &n) != NULL && n == 20;
}

gboolean
hc_stun_check_integrity(const guint8 *buf, gsize len, const HcStunMessage *msg, const char *key,
                        gsize key_len)
{
  guint8 mac[20];

  if (!msg->integrity_at || msg->integrity_at + 24 > len)
    return FALSE;
  if (!integrity(buf, msg->integrity_at, key, key_len, mac))
    return FALSE;
  return CRYPTO_memcmp(mac, buf + msg->integrity_at + 4, 20) == 0;
}

static guint32
fingerprint(const guint8 *buf, gsize at)
{
  guint8 hdr[4];
  uLong crc = crc32(0L, Z_NULL, 0);

  memcpy(hdr, buf, 2);
  wr16(hdr + 2, (guint16)(at + 8 - HC_STUN_HEADER));
  crc = crc32(crc, hdr, 4);
  crc = crc32(crc, buf + 4, (uInt)(at - 4));
  return (guint32)crc ^ FINGERPRINT_XOR;
}

gboolean
hc_stun_check_fingerprint(const guint8 *buf, gsize len, const HcStunMessage *msg)
{
  if (!msg->fingerprint_at || msg->fingerprint_at + 8 > len)
    return FALSE;
  return fingerprint(buf, msg->fingerprint_at) == msg->fingerprint;
}

gsize
hc_stun_binding_response(guint8 *out, gsize cap, const guint8 txid[12],
                         const struct sockaddr_in *peer, const char *key, gsize key_len)
{
  gsize off = HC_STUN_HEADER;

  if (cap < 64)
    return 0;
  wr16(out, HC_STUN_BINDING_SUCCESS);
  wr32(out + 4, MAGIC);
  memcpy(out + 8, txid, 12);
  /* XOR-MAPPED-ADDRESS, IPv4. */
  wr16(out + off, ATTR_XOR_MAPPED_ADDRESS);
  wr16(out + off + 2, 8);
  out[off + 4] = 0;
  out[off + 5] = 0x01;
  wr16(out + off + 6, ntohs(peer->sin_port) ^ (MAGIC >> 16));
  wr32(out + off + 8, ntohl(peer->sin_addr.s_addr) ^ MAGIC);
  off += 12;
  wr16(out + off, ATTR_MESSAGE_INTEGRITY);
  wr16(out + off + 2, 20);
  if (!integrity(out, off, key, key_len, out + off + 4))
    return 0;
  off += 24;
  wr16(out + off, ATTR_FINGERPRINT);
  wr16(out + off + 2, 4);
  wr32(out + off + 4, fingerprint(out, off));
  off += 8;
  wr16(out + 2, (guint16)(off - HC_STUN_HEADER));
  return off;
}
