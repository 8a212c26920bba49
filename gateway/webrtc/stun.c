/* STUN parsing and binding responses for ICE-lite (see stun.h), and the
 * pieces tools/loadgen's ICE agent builds on (libhc-stun): attribute walking,
 * MESSAGE-INTEGRITY, FINGERPRINT. Bytes come from the network: every
 * attribute length is checked against the message before it is read.
 * HMAC-SHA1 from OpenSSL, CRC-32 from zlib. */
#include "stun.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>
#include <zlib.h>

#include "bytes.h"
#include "core/error.h"

#define MAGIC HC_STUN_MAGIC
#define FINGERPRINT_XOR 0x5354554eu

enum {
  ATTR_XOR_MAPPED_ADDRESS = 0x0020,
  ATTR_USERNAME = 0x0006,
  ATTR_MESSAGE_INTEGRITY = HC_STUN_ATTR_MESSAGE_INTEGRITY,
  ATTR_PRIORITY = 0x0024,
  ATTR_USE_CANDIDATE = 0x0025,
  ATTR_FINGERPRINT = HC_STUN_ATTR_FINGERPRINT,
  ATTR_ICE_CONTROLLED = 0x8029,
  ATTR_ICE_CONTROLLING = 0x802A,
};

gboolean
hc_stun_is_stun(const guint8 *buf, gsize len)
{
  return len >= HC_STUN_HEADER && buf[0] < 4 && hc_rd32(buf + 4) == MAGIC;
}

/* The mask of an XOR'd address: the magic cookie, then (IPv6) the
 * transaction id of the message in buf (RFC 5389 15.2). */
static void
xor_mask(const guint8 *buf, guint8 mask[16])
{
  hc_wr32(mask, MAGIC);
  memcpy(mask + 4, buf + 8, 12);
}

/* Reads an XOR-MAPPED-ADDRESS value; FALSE if it is short or of no family we know. */
static gboolean
xor_address(const guint8 *buf, const HcStunAttr *a, HcAddr *out)
{
  guint8 mask[16];
  guint8 *ip;
  gsize n;

  memset(out, 0, sizeof *out);
  if (a->len == 8 && a->value[1] == 0x01) {
    out->in.sin_family = AF_INET;
    ip = (guint8 *)&out->in.sin_addr;
    n = 4;
  } else if (a->len == 20 && a->value[1] == 0x02) {
    out->in6.sin6_family = AF_INET6;
    ip = out->in6.sin6_addr.s6_addr;
    n = 16;
  } else {
    return FALSE;
  }
  /* sin_port and sin6_port are at the same place. */
  out->in.sin_port = htons(hc_rd16(a->value + 2) ^ (MAGIC >> 16));
  xor_mask(buf, mask);
  for (gsize i = 0; i < n; i++)
    ip[i] = a->value[4 + i] ^ mask[i];
  return TRUE;
}

int
hc_stun_parse(const guint8 *buf, gsize len, HcStunMessage *msg)
{
  gsize mlen, off;
  HcStunAttr a;
  int rc;

  memset(msg, 0, sizeof *msg);
  if (!hc_stun_is_stun(buf, len))
    return HC_EINVAL;
  mlen = hc_rd16(buf + 2);
  if (mlen % 4 || HC_STUN_HEADER + mlen != len)
    return HC_EINVAL;
  msg->type = hc_rd16(buf);
  memcpy(msg->txid, buf + 8, 12);
  off = HC_STUN_HEADER;
  while ((rc = hc_stun_attr_next(buf, len, &off, &a)) > 0) {
    const guint8 *v = a.value;

    /* After MESSAGE-INTEGRITY only FINGERPRINT may follow; after it nothing. */
    if (msg->fingerprint_at || (msg->integrity_at && a.type != ATTR_FINGERPRINT))
      return HC_EINVAL;
    switch (a.type) {
    case ATTR_USERNAME:
      if (a.len > 513)
        return HC_EINVAL;
      msg->username = v;
      msg->username_len = a.len;
      break;
    case ATTR_MESSAGE_INTEGRITY:
      if (a.len != 20)
        return HC_EINVAL;
      msg->integrity_at = a.at;
      break;
    case ATTR_FINGERPRINT:
      if (a.len != 4)
        return HC_EINVAL;
      msg->fingerprint_at = a.at;
      msg->fingerprint = hc_rd32(v);
      break;
    case ATTR_PRIORITY:
      if (a.len != 4)
        return HC_EINVAL;
      msg->priority = hc_rd32(v);
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
      msg->has_xor_mapped = xor_address(buf, &a, &msg->xor_mapped);
      break;
    default:
      break; /* unknown attributes are skipped */
    }
  }
  return rc;
}

int
hc_stun_attr_next(const guint8 *buf, gsize end, gsize *off, HcStunAttr *a)
{
  gsize at = *off;

  if (at == end)
    return 0;
  if (at + 4 > end)
    return HC_EINVAL;
  a->type = hc_rd16(buf + at);
  a->len = hc_rd16(buf + at + 2);
  a->at = at;
  a->value = buf + at + 4;
  /* The value and its padding to 4 bytes lie inside the message. */
  if (at + 4 + ((a->len + 3u) & ~3u) > end)
    return HC_EINVAL;
  *off = at + 4 + ((a->len + 3u) & ~3u);
  return 1;
}

gboolean
hc_stun_integrity(const guint8 *buf, gsize at, const char *key, gsize key_len, guint8 out[20])
{
  guint8 copy[2048];
  unsigned int n = 0;

  if (at > sizeof copy)
    return FALSE;
  memcpy(copy, buf, at);
  hc_wr16(copy + 2, (guint16)(at + 24 - HC_STUN_HEADER));
  return HMAC(EVP_sha1(), key, (int)key_len, copy, at, out, &n) != NULL && n == 20;
}

gboolean
hc_stun_check_integrity(const guint8 *buf, gsize len, const HcStunMessage *msg, const char *key,
                        gsize key_len)
{
  guint8 mac[20];

  if (!msg->integrity_at || msg->integrity_at + 24 > len)
    return FALSE;
  if (!hc_stun_integrity(buf, msg->integrity_at, key, key_len, mac))
    return FALSE;
  return CRYPTO_memcmp(mac, buf + msg->integrity_at + 4, 20) == 0;
}

guint32
hc_stun_fingerprint(const guint8 *buf, gsize at)
{
  guint8 hdr[4];
  uLong crc = crc32(0L, Z_NULL, 0);

  memcpy(hdr, buf, 2);
  hc_wr16(hdr + 2, (guint16)(at + 8 - HC_STUN_HEADER));
  crc = crc32(crc, hdr, 4);
  crc = crc32(crc, buf + 4, (uInt)(at - 4));
  return (guint32)crc ^ FINGERPRINT_XOR;
}

gboolean
hc_stun_check_fingerprint(const guint8 *buf, gsize len, const HcStunMessage *msg)
{
  if (!msg->fingerprint_at || msg->fingerprint_at + 8 > len)
    return FALSE;
  return hc_stun_fingerprint(buf, msg->fingerprint_at) == msg->fingerprint;
}

guint8 *
hc_stun_add_attr(guint8 *buf, gsize cap, gsize *len, guint16 type, gsize vlen)
{
  gsize padded = (vlen + 3) & ~(gsize)3;
  guint8 *p = buf + *len;

  if (vlen > 0xffff || *len + 4 + padded > cap)
    return NULL;
  hc_wr16(p, type);
  hc_wr16(p + 2, (guint16)vlen);
  memset(p + 4, 0, padded);
  *len += 4 + padded;
  hc_wr16(buf + 2, (guint16)(*len - HC_STUN_HEADER));
  return p + 4;
}

gsize
hc_stun_finish(guint8 *buf, gsize cap, gsize len, const char *key, gsize key_len)
{
  guint8 *p;
  gsize at = len;

  if (key) {
    if (!(p = hc_stun_add_attr(buf, cap, &len, ATTR_MESSAGE_INTEGRITY, 20)) ||
        !hc_stun_integrity(buf, at, key, key_len, p))
      return 0;
  }
  at = len;
  if (!(p = hc_stun_add_attr(buf, cap, &len, ATTR_FINGERPRINT, 4)))
    return 0;
  hc_wr32(p, hc_stun_fingerprint(buf, at));
  return len;
}

gsize
hc_stun_binding_response(guint8 *out, gsize cap, const guint8 txid[12], const HcAddr *peer,
                         const char *key, gsize key_len)
{
  HcAddr a = hc_addr_unmap(peer);
  gboolean v6 = a.sa.sa_family == AF_INET6;
  const guint8 *ip = v6 ? a.in6.sin6_addr.s6_addr : (const guint8 *)&a.in.sin_addr;
  gsize len = HC_STUN_HEADER, n = v6 ? 16 : 4;
  guint8 mask[16], *p;

  if (cap < (v6 ? 76u : 64u) || (a.sa.sa_family != AF_INET && !v6))
    return 0;
  hc_wr16(out, HC_STUN_BINDING_SUCCESS);
  hc_wr16(out + 2, 0);
  hc_wr32(out + 4, MAGIC);
  memcpy(out + 8, txid, 12);
  p = hc_stun_add_attr(out, cap, &len, ATTR_XOR_MAPPED_ADDRESS, 4 + n);
  p[1] = v6 ? 0x02 : 0x01;
  hc_wr16(p + 2, ntohs(a.in.sin_port) ^ (MAGIC >> 16));
  xor_mask(out, mask);
  for (gsize i = 0; i < n; i++)
    p[4 + i] = ip[i] ^ mask[i];
  return hc_stun_finish(out, cap, len, key, key_len);
}
