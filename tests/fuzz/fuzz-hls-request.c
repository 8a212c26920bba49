/* libFuzzer target for hc_hls_request_parse(), the HLS fast path's parser of
 * request heads off the network: any bytes, never a read past them, and an
 * accepted request names a path under /hls/ of plain segments, with the head
 * inside the input. The input is copied to a buffer of exactly its size, so
 * ASan catches any read beyond it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/hls-request.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *buf = malloc(size ? size : 1);
  HcHlsRequest req;

  memcpy(buf, data, size);
  if (hc_hls_request_parse(buf, size, &req) == HC_HLS_FAST) {
    const char *p = buf + req.path_off;
    size_t n = req.path_len;

    if (req.head_len > size || req.path_off + n > req.head_len || n > HC_HLS_MAX_PATH || n < 6 ||
        memcmp(p, "/hls/", 5) != 0 || p[n - 1] == '/' || memmem(p, n, "//", 2) ||
        memmem(p, n, "/./", 3) || memmem(p, n, "/../", 4) ||
        (n >= 3 && !memcmp(p + n - 3, "/..", 3)) || (n >= 2 && !memcmp(p + n - 2, "/.", 2)) ||
        memchr(p, '%', n) || memchr(p, '\\', n) ||
        memcmp(buf + req.head_len - 4, "\r\n\r\n", 4) != 0)
      __builtin_trap();
  }
  free(buf);
  return 0;
}
