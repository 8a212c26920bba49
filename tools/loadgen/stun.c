/* STUN for the load generator's ICE agent (RFC 5389, RFC 8445 attributes):
 * builds binding requests (controlling or controlled) and success responses
 * and parses whatever the gateway sends, bounds-checked. Attribute walking,
 * MESSAGE-INTEGRITY and FINGERPRINT are the gateway's own (webrtc/stun.c,
 * linked as libhc-stun). Called from media.c. */
#include <errno.h>
#include <ifaddrs.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "loadgen.h"
#include "webrtc/bytes.h"
#include "webrtc/stun.h"

#define ATTR_MAPPED_ADDRESS 0x0001
#define ATTR_USERNAME 0x0006
#define ATTR_XOR_MAPPED_ADDRESS 0x0020
#define ATTR_PRIORITY 0x0024
#define ATTR_USE_CANDIDATE 0x0025
#define ATTR_ICE_CONTROLLED 0x8029
#define ATTR_ICE_CONTROLLING 0x802A

typedef struct {
  uint8_t *buf;
  size_t len, cap;
  gboolean overflow;
} Writer;

static uint8_t *
attr(Writer *w, uint16_t type, size_t vlen)
{
  uint8_t *p = hc_stun_add_attr(w->buf, w->cap, &w->len, type, vlen);

  w->overflow |= p == NULL;
  return p;
}

/* Appends MESSAGE-INTEGRITY (when password) and FINGERPRINT. */
static int
finish(Writer *w, const char *password)
{
  size_t n = hc_stun_finish(w->buf, w->cap, w->len, password, password ? strlen(password) : 0);

  return n ? (int)n : -ENOSPC;
}

static void
header(Writer *w, uint16_t type, const uint8_t tid[12])
{
  hc_wr16(w->buf, type);
  hc_wr16(w->buf + 2, 0);
  hc_wr32(w->buf + 4, HC_LG_STUN_COOKIE);
  memcpy(w->buf + 8, tid, 12);
  w->len = 20;
}

int
hc_lg_stun_build_request(const HcLgStunRequest *req, uint8_t tid[12], uint8_t *out, size_t cap)
{
  Writer w = {out, 0, cap, FALSE};
  size_t ulen = strlen(req->username);
  uint8_t *p;

  if (cap < 20 || ulen > 513)
    return -EINVAL;
  if (RAND_bytes(tid, 12) != 1)
    return -EIO;
  header(&w, HC_LG_STUN_BINDING_REQUEST, tid);
  if ((p = attr(&w, ATTR_USERNAME, ulen)))
    memcpy(p, req->username, ulen);
  if ((p = attr(&w, ATTR_PRIORITY, 4)))
    hc_wr32(p, req->priority);
  if ((p = attr(&w, req->controlling ? ATTR_ICE_CONTROLLING : ATTR_ICE_CONTROLLED, 8))) {
    hc_wr32(p, (uint32_t)(req->tiebreaker >> 32));
    hc_wr32(p + 4, (uint32_t)req->tiebreaker);
  }
  if (req->use_candidate)
    attr(&w, ATTR_USE_CANDIDATE, 0);
  if (w.overflow)
    return -ENOSPC;
  return finish(&w, req->password);
}

int
hc_lg_stun_build_response(const uint8_t tid[12], const struct sockaddr *from, const char *password,
                          uint8_t *out, size_t cap)
{
  Writer w = {out, 0, cap, FALSE};
  uint8_t *p;

  if (cap < 20)
    return -EINVAL;
  header(&w, HC_LG_STUN_BINDING_SUCCESS, tid);
  if (from->sa_family == AF_INET) {
    const struct sockaddr_in *a = (const struct sockaddr_in *)from;
    if ((p = attr(&w, ATTR_XOR_MAPPED_ADDRESS, 8))) {
      p[1] = 0x01;
      hc_wr16(p + 2, ntohs(a->sin_port) ^ (HC_LG_STUN_COOKIE >> 16));
      hc_wr32(p + 4, ntohl(a->sin_addr.s_addr) ^ HC_LG_STUN_COOKIE);
    }
  } else if (from->sa_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)from;
    uint8_t key[16];
    hc_wr32(key, HC_LG_STUN_COOKIE);
    memcpy(key + 4, tid, 12);
    if ((p = attr(&w, ATTR_XOR_MAPPED_ADDRESS, 20))) {
      p[1] = 0x02;
      hc_wr16(p + 2, ntohs(a->sin6_port) ^ (HC_LG_STUN_COOKIE >> 16));
      for (int i = 0; i < 16; i++)
        p[4 + i] = a->sin6_addr.s6_addr[i] ^ key[i];
    }
  } else {
    return -EAFNOSUPPORT;
  }
  if (w.overflow)
    return -ENOSPC;
  return finish(&w, password);
}

static void
parse_xor_address(const uint8_t *v, size_t n, const uint8_t *tid, HcLgStunMessage *msg)
{
  if (n >= 8 && v[1] == 0x01) {
    struct sockaddr_in *a = (struct sockaddr_in *)&msg->mapped;
    memset(a, 0, sizeof(*a));
    a->sin_family = AF_INET;
    a->sin_port = htons(hc_rd16(v + 2) ^ (HC_LG_STUN_COOKIE >> 16));
    a->sin_addr.s_addr = htonl(hc_rd32(v + 4) ^ HC_LG_STUN_COOKIE);
    msg->has_mapped = TRUE;
  } else if (n >= 20 && v[1] == 0x02) {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&msg->mapped;
    uint8_t key[16];
    hc_wr32(key, HC_LG_STUN_COOKIE);
    memcpy(key + 4, tid, 12);
    memset(a, 0, sizeof(*a));
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(hc_rd16(v + 2) ^ (HC_LG_STUN_COOKIE >> 16));
    for (int i = 0; i < 16; i++)
      a->sin6_addr.s6_addr[i] = v[4 + i] ^ key[i];
    msg->has_mapped = TRUE;
  }
}

int
hc_lg_stun_parse(const uint8_t *buf, size_t len, HcLgStunMessage *msg)
{
  size_t mlen, off = 20;
  HcStunAttr a;
  int rc;

  memset(msg, 0, sizeof(*msg));
  if (len < 20 || (buf[0] & 0xC0) || hc_rd32(buf + 4) != HC_LG_STUN_COOKIE)
    return -EINVAL;
  mlen = hc_rd16(buf + 2);
  if ((mlen & 3) || 20 + mlen > len)
    return -EINVAL;
  msg->type = hc_rd16(buf);
  memcpy(msg->tid, buf + 8, 12);
  while ((rc = hc_stun_attr_next(buf, 20 + mlen, &off, &a)) > 0) {
    switch (a.type) {
    case ATTR_USERNAME:
      if (a.len >= sizeof(msg->username))
        return -EINVAL;
      memcpy(msg->username, a.value, a.len);
      msg->username[a.len] = '\0';
      break;
    case ATTR_USE_CANDIDATE:
      msg->use_candidate = TRUE;
      break;
    case ATTR_XOR_MAPPED_ADDRESS:
      parse_xor_address(a.value, a.len, msg->tid, msg);
      break;
    case HC_STUN_ATTR_MESSAGE_INTEGRITY:
      if (a.len != 20)
        return -EINVAL;
      msg->has_integrity = TRUE;
      msg->integrity_offset = a.at;
      break;
    case HC_STUN_ATTR_FINGERPRINT:
      if (a.len != 4 || a.at + 8 != 20 + mlen)
        return -EINVAL;
      msg->has_fingerprint = TRUE;
      msg->fingerprint_ok = hc_stun_fingerprint(buf, a.at) == hc_rd32(a.value);
      break;
    default:
      break;
    }
  }
  if (rc < 0 || (msg->has_fingerprint && !msg->fingerprint_ok))
    return -EINVAL;
  return 0;
}

gboolean
hc_lg_stun_check_integrity(const uint8_t *buf, size_t len, const HcLgStunMessage *msg,
                           const char *password)
{
  uint8_t mac[20];
  size_t off = msg->integrity_offset;

  if (!msg->has_integrity || off + 24 > len ||
      !hc_stun_integrity(buf, off, password, strlen(password), mac))
    return FALSE;
  return CRYPTO_memcmp(mac, buf + off + 4, 20) == 0;
}

gboolean
hc_lg_addr_is_loopback(const struct sockaddr *sa)
{
  if (sa->sa_family == AF_INET)
    return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
  if (sa->sa_family == AF_INET6) {
    const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
  }
  return FALSE;
}

gboolean
hc_lg_addr_is_local(const struct sockaddr *sa)
{
  struct ifaddrs *list, *i;
  gboolean found = FALSE;

  if (hc_lg_addr_is_loopback(sa))
    return TRUE;
  if (getifaddrs(&list) < 0)
    return FALSE;
  for (i = list; i && !found; i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != sa->sa_family)
      continue;
    if (sa->sa_family == AF_INET)
      found = ((const struct sockaddr_in *)sa)->sin_addr.s_addr ==
              ((const struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
    else if (sa->sa_family == AF_INET6)
      found = memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr,
                     &((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16) == 0;
  }
  freeifaddrs(list);
  return found;
}
