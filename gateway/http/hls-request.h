/* The request-head parser of the HLS fast path (hls-fast.c): decides from the
 * bytes read so far whether a connection's next request is a plain GET of a
 * file under /hls/ that the fast path serves, or anything else, which goes to
 * libwebsockets unchanged. Pure function of its input; fuzzed by tests/fuzz. */
#ifndef HC_HLS_REQUEST_H
#define HC_HLS_REQUEST_H

#include <stddef.h>

typedef enum {
  HC_HLS_INCOMPLETE, /* no end of the request head yet: read more */
  HC_HLS_FAST,       /* a GET of /hls/... the fast path serves */
  HC_HLS_OTHER,      /* anything else: libwebsockets answers it */
} HcHlsKind;

typedef struct {
  size_t head_len; /* bytes of the request head, up to and with its empty line */
  size_t path_off; /* the path (no query), an offset into the buffer */
  size_t path_len;
  int keep_alive; /* 0 when the client sent Connection: close */
} HcHlsRequest;

/* Longest path the fast path serves; longer ones go to libwebsockets. */
#define HC_HLS_MAX_PATH 255

/* Parses the request at the start of buf[0..len). HC_HLS_FAST only for
 * "GET /hls/<path>[?query] HTTP/1.1" with CRLF line ends, a path of
 * [A-Za-z0-9._~-] segments (none empty, "." or ".."; no trailing slash), and
 * no header that asks for more than a plain file (Upgrade, Content-Length,
 * Transfer-Encoding, Expect); req is then filled. HC_HLS_INCOMPLETE when buf
 * holds no complete head yet and it could still become one. Reads only
 * buf[0..len); needs no NUL. Any thread. */
HcHlsKind hc_hls_request_parse(const char *buf, size_t len, HcHlsRequest *req);

#endif
