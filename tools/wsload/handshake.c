/* The WebSocket opening handshake, client side (RFC 6455 section 4): the
 * GET with Upgrade, a random Sec-WebSocket-Key and the subprotocol, and the
 * check of the server's 101 (Sec-WebSocket-Accept, Upgrade, subprotocol).
 * Parsing is bounded by the bytes received. Used by client.c. */
#include <string.h>

#include "wsload.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

void
hc_wsl_handshake_key(char key[25])
{
  guint8 raw[16];
  char *b64;

  for (guint i = 0; i < sizeof raw; i += 4) {
    guint32 r = g_random_int();
    memcpy(raw + i, &r, 4);
  }
  b64 = g_base64_encode(raw, sizeof raw);
  g_strlcpy(key, b64, 25);
  g_free(b64);
}

char *
hc_wsl_handshake_request(const char *host, const char *path, const char *key,
                         const char *subprotocol)
{
  return g_strdup_printf("GET %s HTTP/1.1\r\n"
                         "Host: %s\r\n"
                         "Upgrade: websocket\r\n"
                         "Connection: Upgrade\r\n"
                         "Sec-WebSocket-Key: %s\r\n"
                         "Sec-WebSocket-Version: 13\r\n"
                         "Sec-WebSocket-Protocol: %s\r\n"
                         "\r\n",
                         path, host, key, subprotocol);
}

/* The value of header name in the block [buf, end), trimmed, into out;
 * FALSE when absent or longer than cap - 1. */
static gboolean
header_value(const char *buf, const char *end, const char *name, char *out, gsize cap)
{
  gsize nlen = strlen(name);
  const char *line = memchr(buf, '\n', end - buf);

  /* The first line is the status line; headers follow, one per line. */
  while (line && line + 1 < end) {
    const char *start = line + 1, *eol = memchr(start, '\n', end - start), *v, *ve;

    if (!eol)
      return FALSE;
    line = eol;
    if ((gsize)(eol - start) <= nlen || start[nlen] != ':' ||
        g_ascii_strncasecmp(start, name, nlen) != 0)
      continue;
    v = start + nlen + 1;
    ve = eol;
    while (v < ve && (*v == ' ' || *v == '\t'))
      v++;
    while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
      ve--;
    if ((gsize)(ve - v) >= cap)
      return FALSE;
    memcpy(out, v, ve - v);
    out[ve - v] = '\0';
    return TRUE;
  }
  return FALSE;
}

gssize
hc_wsl_handshake_check(const char *buf, gsize len, const char *key, const char *subprotocol,
                       const char **error)
{
  const char *end = g_strstr_len(buf, len, "\r\n\r\n");
  char value[128], *input, *accept;
  guint8 digest[20];
  gsize dlen = sizeof digest;
  GChecksum *sha1;
  gboolean ok;

  if (!end) {
    if (len > 8192) {
      *error = "the answer's headers are over 8 KiB";
      return -1;
    }
    return 0;
  }
  end += 4;
  if (end - buf < 12 || memcmp(buf, "HTTP/1.1 101", 12) != 0) {
    *error = "the answer is not 101 Switching Protocols";
    return -1;
  }
  if (!header_value(buf, end, "Upgrade", value, sizeof value) ||
      g_ascii_strcasecmp(value, "websocket") != 0) {
    *error = "no Upgrade: websocket in the answer";
    return -1;
  }
  if (!header_value(buf, end, "Sec-WebSocket-Protocol", value, sizeof value) ||
      strcmp(value, subprotocol) != 0) {
    *error = "the answer does not select our subprotocol";
    return -1;
  }
  if (!header_value(buf, end, "Sec-WebSocket-Accept", value, sizeof value)) {
    *error = "no Sec-WebSocket-Accept in the answer";
    return -1;
  }
  input = g_strconcat(key, WS_GUID, NULL);
  sha1 = g_checksum_new(G_CHECKSUM_SHA1);
  g_checksum_update(sha1, (const guchar *)input, strlen(input));
  g_checksum_get_digest(sha1, digest, &dlen);
  accept = g_base64_encode(digest, dlen);
  ok = strcmp(accept, value) == 0;
  g_free(accept);
  g_checksum_free(sha1);
  g_free(input);
  if (!ok) {
    *error = "Sec-WebSocket-Accept does not match our key";
    return -1;
  }
  return end - buf;
}
