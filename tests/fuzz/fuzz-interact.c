/* libFuzzer target for hc_message_parse(), the validator of every /ws
 * message: any bytes, never a crash or a leak; an accepted message has a
 * known type, and a refused one has an error code and a message. */
#include <stdint.h>
#include <string.h>

#include "interact/internal.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  HcMessage m;
  HcWsFault f;

  memset(&f, 0, sizeof f);
  if (hc_message_parse((const char *)data, size, &m, &f)) {
    if (!m.spec || !m.spec->type || !m.spec->handler)
      __builtin_trap();
    /* Every field a handler reads was validated: read them all. */
    (void)hc_msg_str(&m, "text");
    (void)hc_msg_int(&m, "question", 0);
    (void)hc_msg_bool(&m, "anonymous");
  } else if (f.code <= HC_WS_OK || f.code >= HC_WS_N_ERRORS || !f.message[0]) {
    __builtin_trap();
  }
  hc_message_clear(&m);
  return 0;
}
