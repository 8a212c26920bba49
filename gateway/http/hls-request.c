/* hc_hls_request_parse(): the HLS fast path's request-head parser. It accepts
 * only the narrow, common form of a playlist or segment GET and says "other"
 * for everything else, as early as the bytes allow, so that libwebsockets
 * keeps answering every unusual request exactly as before. Fuzzed by
 * tests/fuzz/fuzz-hls-request.c. */
#include "hls-request.h"

#include <string.h>

#define PREFIX "GET /hls/"
#define VERSION " HTTP/1.1\r\n"

static int
is_path_char(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '~' || c == '-';
}

static int
is_token_char(unsigned char c)
{
  return is_path_char(c) || (c != '\0' && strchr("!#$%&'*+^`|", c) != NULL);
}

static unsigned char
lower(unsigned char c)
{
  return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Whether s[0..n) equals the lower-case word w, ignoring case. */
static int
word_is(const char *s, size_t n, const char *w)
{
  if (strlen(w) != n)
    return 0;
  for (size_t i = 0; i < n; i++)
    if (lower((unsigned char)s[i]) != (unsigned char)w[i])
      return 0;
  return 1;
}

/* Whether the lower-case word w occurs in s[0..n), ignoring case. */
static int
contains(const char *s, size_t n, const char *w)
{
  size_t wl = strlen(w);

  for (size_t i = 0; i + wl <= n; i++)
    if (word_is(s + i, wl, w))
      return 1;
  return 0;
}

/* Compares buf[at..len) with the literal lit as far as both go: 1 equal and
 * complete, 0 equal so far but buf ends first, -1 different. */
static int
match(const char *buf, size_t len, size_t at, const char *lit)
{
  size_t n = strlen(lit), have = len - at < n ? len - at : n;

  if (memcmp(buf + at, lit, have) != 0)
    return -1;
  return have == n;
}

/* Checks the segments of the path after "/hls/": none empty, "." or "..". */
static int
segments_ok(const char *p, size_t n)
{
  size_t start = 0;

  for (size_t i = 0; i <= n; i++) {
    if (i < n && p[i] != '/')
      continue;
    size_t sl = i - start;
    if (sl == 0 || (sl == 1 && p[start] == '.') ||
        (sl == 2 && p[start] == '.' && p[start + 1] == '.'))
      return 0;
    start = i + 1;
  }
  return 1;
}

/* One header line from buf[at]: on success sets *next past its CRLF. */
static HcHlsKind
header_line(const char *buf, size_t len, size_t at, size_t *next, HcHlsRequest *req)
{
  size_t i = at, name_end, value_start;

  while (i < len && is_token_char((unsigned char)buf[i]))
    i++;
  if (i == len)
    return HC_HLS_INCOMPLETE;
  if (i == at || buf[i] != ':')
    return HC_HLS_OTHER; /* no name, a folded line, or a bare line */
  name_end = i++;
  while (i < len && (buf[i] == ' ' || buf[i] == '\t'))
    i++;
  value_start = i;
  while (i < len && ((unsigned char)buf[i] >= 0x20 && (unsigned char)buf[i] < 0x7f))
    i++;
  if (i == len)
    return HC_HLS_INCOMPLETE;
  if (buf[i] != '\r')
    return HC_HLS_OTHER;
  if (i + 1 == len)
    return HC_HLS_INCOMPLETE;
  if (buf[i + 1] != '\n')
    return HC_HLS_OTHER;
  *next = i + 2;
  const char *name = buf + at, *value = buf + value_start;
  size_t nl = name_end - at, vl = i - value_start;
  if (word_is(name, nl, "upgrade") || word_is(name, nl, "content-length") ||
      word_is(name, nl, "transfer-encoding") || word_is(name, nl, "expect"))
    return HC_HLS_OTHER;
  if (word_is(name, nl, "connection")) {
    if (contains(value, vl, "upgrade"))
      return HC_HLS_OTHER;
    if (contains(value, vl, "close"))
      req->keep_alive = 0;
  }
  return HC_HLS_FAST;
}

HcHlsKind
hc_hls_request_parse(const char *buf, size_t len, HcHlsRequest *req)
{
  size_t i, path_end;
  int m;

  memset(req, 0, sizeof *req);
  req->keep_alive = 1;
  m = match(buf, len, 0, PREFIX);
  if (m <= 0)
    return m < 0 ? HC_HLS_OTHER : HC_HLS_INCOMPLETE;
  /* The path: from its '/' to the query or the space before the version. */
  for (i = 4; i < len && buf[i] != ' ' && buf[i] != '?'; i++) {
    if (buf[i] != '/' && !is_path_char((unsigned char)buf[i]))
      return HC_HLS_OTHER;
    if (i - 4 >= HC_HLS_MAX_PATH)
      return HC_HLS_OTHER;
  }
  if (i == len)
    return HC_HLS_INCOMPLETE;
  path_end = i;
  if (!segments_ok(buf + strlen(PREFIX), path_end - strlen(PREFIX)))
    return HC_HLS_OTHER;
  /* The query is not used; any visible ASCII is let through. */
  if (buf[i] == '?') {
    while (i < len && buf[i] != ' ') {
      if ((unsigned char)buf[i] <= 0x20 || (unsigned char)buf[i] >= 0x7f)
        return HC_HLS_OTHER;
      i++;
    }
    if (i == len)
      return HC_HLS_INCOMPLETE;
  }
  m = match(buf, len, i, VERSION);
  if (m <= 0)
    return m < 0 ? HC_HLS_OTHER : HC_HLS_INCOMPLETE;
  i += strlen(VERSION);
  req->path_off = 4;
  req->path_len = path_end - 4;
  for (;;) {
    if (i >= len)
      return HC_HLS_INCOMPLETE;
    if (buf[i] == '\r') {
      if (i + 1 == len)
        return HC_HLS_INCOMPLETE;
      if (buf[i + 1] != '\n')
        return HC_HLS_OTHER;
      req->head_len = i + 2;
      return HC_HLS_FAST;
    }
    HcHlsKind k = header_line(buf, len, i, &i, req);
    if (k != HC_HLS_FAST)
      return k;
  }
}
