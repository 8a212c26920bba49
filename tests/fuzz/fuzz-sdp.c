/* libFuzzer target for webrtc/sdp.c: any text as a WHEP offer; an accepted
 * offer must give an answer. Never a crash, leak or overflow. */
#include <stdint.h>
#include <string.h>

#include "webrtc/sdp.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  HcSdpOffer o;
  const char *reason;
  char *text;

  if (size > 16384)
    return 0;
  text = g_memdup2(data, size);
  if (hc_sdp_parse_offer(text, size, TRUE, TRUE, &o, &reason) == 0) {
    const char *addrs[] = {"127.0.0.1", NULL};
    HcSdpAnswerParams p = {"ufra", "pwd", "AA", addrs, 9, 1, 2, "c", "s"};
    char *answer = hc_sdp_build_answer(&o, &p);
    if (!answer || !strstr(answer, "a=ice-lite"))
      __builtin_trap();
    g_free(answer);
  } else if (!reason) {
    __builtin_trap();
  }
  g_free(text);
  return 0;
}
