/* UDP peer addresses of either family (see addr.h). */
#include "addr.h"

#include <arpa/inet.h>
#include <string.h>

gboolean
hc_addr_equal(const HcAddr *a, const HcAddr *b)
{
  if (a->sa.sa_family != b->sa.sa_family)
    return FALSE;
  if (a->sa.sa_family == AF_INET)
    return a->in.sin_port == b->in.sin_port && a->in.sin_addr.s_addr == b->in.sin_addr.s_addr;
  if (a->sa.sa_family == AF_INET6)
    return a->in6.sin6_port == b->in6.sin6_port && a->in6.sin6_scope_id == b->in6.sin6_scope_id &&
           memcmp(&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
  return FALSE;
}

guint
hc_addr_hash(gconstpointer p)
{
  const HcAddr *a = p;
  guint32 w[4];

  if (a->sa.sa_family == AF_INET)
    return a->in.sin_addr.s_addr * 2654435761u ^ a->in.sin_port;
  memcpy(w, &a->in6.sin6_addr, sizeof w);
  return (w[0] ^ w[1] * 31 ^ w[2] * 961 ^ w[3]) * 2654435761u ^ a->in6.sin6_port;
}

gboolean
hc_addr_equal_fn(gconstpointer a, gconstpointer b)
{
  return hc_addr_equal(a, b);
}

HcAddr
hc_addr_unmap(const HcAddr *a)
{
  HcAddr r = *a;

  if (a->sa.sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&a->in6.sin6_addr)) {
    memset(&r, 0, sizeof r);
    r.in.sin_family = AF_INET;
    r.in.sin_port = a->in6.sin6_port;
    memcpy(&r.in.sin_addr, a->in6.sin6_addr.s6_addr + 12, 4);
  }
  return r;
}

gboolean
hc_addr_parse(const char *ip, guint16 port, HcAddr *out)
{
  memset(out, 0, sizeof *out);
  if (inet_pton(AF_INET, ip, &out->in.sin_addr) == 1) {
    out->in.sin_family = AF_INET;
    out->in.sin_port = htons(port);
    return TRUE;
  }
  if (inet_pton(AF_INET6, ip, &out->in6.sin6_addr) == 1) {
    out->in6.sin6_family = AF_INET6;
    out->in6.sin6_port = htons(port);
    return TRUE;
  }
  return FALSE;
}

gboolean
hc_addr_is_any(const HcAddr *a)
{
  return a->sa.sa_family == AF_INET    ? a->in.sin_addr.s_addr == htonl(INADDR_ANY)
         : a->sa.sa_family == AF_INET6 ? IN6_IS_ADDR_UNSPECIFIED(&a->in6.sin6_addr)
                                       : FALSE;
}

const char *
hc_addr_ip_string(const HcAddr *a, char buf[HC_ADDR_STRLEN])
{
  HcAddr u = hc_addr_unmap(a);

  buf[0] = '\0';
  if (u.sa.sa_family == AF_INET)
    inet_ntop(AF_INET, &u.in.sin_addr, buf, HC_ADDR_STRLEN);
  else if (u.sa.sa_family == AF_INET6)
    inet_ntop(AF_INET6, &u.in6.sin6_addr, buf, HC_ADDR_STRLEN);
  return buf;
}

const char *
hc_addr_to_string(const HcAddr *a, char buf[HC_ADDR_STRLEN])
{
  char ip[HC_ADDR_STRLEN];
  HcAddr u = hc_addr_unmap(a);

  hc_addr_ip_string(&u, ip);
  if (u.sa.sa_family == AF_INET6)
    g_snprintf(buf, HC_ADDR_STRLEN, "[%s]:%u", ip, ntohs(u.in6.sin6_port));
  else
    g_snprintf(buf, HC_ADDR_STRLEN, "%s:%u", ip, ntohs(u.in.sin_port));
  return buf;
}
