/* UDP peer addresses of either family for the WebRTC stack: a union small
 * enough to copy per message (28 bytes, not sockaddr_storage's 128), with
 * hashing for the worker's address table and text for logs and the API.
 * A dual-stack socket sees IPv4 peers as v4-mapped IPv6 (::ffff:a.b.c.d);
 * hc_addr_unmap gives them back their IPv4 form. Pure functions, any thread. */
#ifndef HC_WEBRTC_ADDR_H
#define HC_WEBRTC_ADDR_H

#include <glib.h>
#include <netinet/in.h>
#include <sys/socket.h>

typedef union {
  struct sockaddr sa;
  struct sockaddr_in in;
  struct sockaddr_in6 in6;
} HcAddr;

/* "[ffff:...:ffff%4294967295]:65535" and its NUL fit. */
#define HC_ADDR_STRLEN 64

/* The length of a's sockaddr for its family (0 if neither); on the send path. */
static inline socklen_t
hc_addr_len(const HcAddr *a)
{
  return a->sa.sa_family == AF_INET6  ? sizeof a->in6
         : a->sa.sa_family == AF_INET ? sizeof a->in
                                      : 0;
}
/* TRUE if a and b are the same family, address and port (the IPv6 scope
 * too). A v4-mapped address and its IPv4 form differ. */
gboolean hc_addr_equal(const HcAddr *a, const HcAddr *b);
/* GHashTable functions over HcAddr* keys. */
guint hc_addr_hash(gconstpointer a);
gboolean hc_addr_equal_fn(gconstpointer a, gconstpointer b);
/* a with a v4-mapped IPv6 address turned into IPv4; else a as it is. */
HcAddr hc_addr_unmap(const HcAddr *a);
/* Sets *out to address ip (IPv4 or IPv6 text) and port; FALSE if ip is neither. */
gboolean hc_addr_parse(const char *ip, guint16 port, HcAddr *out);
/* TRUE for 0.0.0.0 and ::. */
gboolean hc_addr_is_any(const HcAddr *a);
/* "a.b.c.d:port" or "[v6]:port" (v4-mapped shown as IPv4) into buf; returns buf. */
const char *hc_addr_to_string(const HcAddr *a, char buf[HC_ADDR_STRLEN]);
/* The address alone ("a.b.c.d" or "v6", v4-mapped shown as IPv4) into buf. */
const char *hc_addr_ip_string(const HcAddr *a, char buf[HC_ADDR_STRLEN]);

#endif
