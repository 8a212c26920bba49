/* libFuzzer target for hc-wsload's client-side WebSocket parsing
 * (tools/wsload/frame.c, handshake.c): any bytes from a server, never a
 * crash, a read past the buffer or a leak; every event consumes at most
 * what it was given and a message never exceeds the limit. */
#include <stdint.h>
#include <string.h>

#include "../../tools/wsload/wsload.h"

#define LIMIT 4096

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  HcWslReader r;
  size_t off = 0;
  const char *error = NULL;

  /* The same bytes as an answer to the upgrade. */
  (void)hc_wsl_handshake_check((const char *)data, size, "dGhlIHNhbXBsZSBub25jZQ==", "hallcast-ws",
                               &error);
  hc_wsl_reader_init(&r, LIMIT);
  for (int round = 0; round < 10000 && off < size; round++) {
    const guint8 *payload;
    gsize used, len;
    int opcode;
    HcWslEvent ev =
      hc_wsl_reader_next(&r, data + off, size - off, &used, &payload, &len, &opcode, &error);

    if (ev == HC_WSL_NEED_MORE || ev == HC_WSL_ERROR)
      break;
    if (used == 0 || used > size - off || len > LIMIT)
      __builtin_trap();
    if (len)
      (void)payload[0], (void)payload[len - 1]; /* ASan checks the bounds */
    off += used;
  }
  hc_wsl_reader_clear(&r);
  return 0;
}
