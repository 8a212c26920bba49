/* hc_path_normalise(): decode, split and check a request path before any
 * file is opened. Called by http/static.c; fuzzed by tests/fuzz. */
#include "path.h"

#include <string.h>

#include "core/error.h"

static int
hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int
hc_path_normalise(const char *raw, char *out, size_t outlen)
{
  size_t o = 0, seg_start = 0;
  const char *p;

  if (!raw || raw[0] != '/' || outlen == 0)
    return HC_ENOTFOUND;
  /* Decode into out, one segment at a time, checking each when it ends. */
  for (p = raw + 1;; p++) {
    char c = *p;

    if (c == '%') {
      int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
      if (lo < 0)
        return HC_ENOTFOUND;
      c = (char)(hi * 16 + lo);
      if (c == '\0' || c == '/')
        return HC_ENOTFOUND; /* an encoded separator or NUL is never a plain name */
      p += 2;
    } else if (c == '/' || c == '\0') {
      size_t len = o - seg_start;
      const char *seg = out + seg_start;

      if (len == 2 && seg[0] == '.' && seg[1] == '.')
        return HC_ENOTFOUND;
      if (len == 0 || (len == 1 && seg[0] == '.')) {
        o = seg_start; /* drop an empty or "." segment */
      } else if (c == '/') {
        if (o + 1 >= outlen)
          return HC_ENOTFOUND;
        out[o++] = '/';
        seg_start = o;
      }
      if (c == '\0')
        break;
      continue;
    }
    if (c == '\\')
      return HC_ENOTFOUND;
    if (o + 1 >= outlen)
      return HC_ENOTFOUND;
    out[o++] = c;
  }
  /* A trailing separator of the last kept segment is not part of a name. */
  if (o > 0 && out[o - 1] == '/')
    o--;
  out[o] = '\0';
  return 0;
}
