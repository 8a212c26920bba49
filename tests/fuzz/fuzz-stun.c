/* libFuzzer target for webrtc/stun.c: any bytes are parsed and, if they
 * parse, checked for integrity and fingerprint; never a crash or a read
 * outside the datagram. */
#include <stdint.h>
#include <string.h>

#include "webrtc/stun.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  HcStunMessage m;
  guint8 *copy;

  if (size > 4096)
    return 0;
  /* An exact-size heap copy, so ASan sees any read past the end. */
  copy = g_memdup2(data, size);
  if (hc_stun_parse(copy, size, &m) == 0) {
    if (m.username && (m.username < copy || m.username + m.username_len > copy + size))
      __builtin_trap();
    hc_stun_check_integrity(copy, size, &m, "key", 3);
    hc_stun_check_fingerprint(copy, size, &m);
  }
  g_free(copy);
  return 0;
}
