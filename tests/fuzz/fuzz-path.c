/* libFuzzer target for hc_path_normalise(): any bytes, never a crash, and an
 * accepted path never contains a ".." segment or a NUL. */
#include <stdint.h>
#include <string.h>

#include "http/path.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char in[4096], out[256];

  if (size >= sizeof in)
    return 0;
  memcpy(in, data, size);
  in[size] = '\0';
  if (hc_path_normalise(in, out, sizeof out) == 0) {
    size_t n = strlen(out);
    if (n >= sizeof out || strcmp(out, "..") == 0 || strncmp(out, "../", 3) == 0 ||
        strstr(out, "/../") || (n >= 3 && strcmp(out + n - 3, "/..") == 0) || strchr(out, '\\'))
      __builtin_trap();
  }
  return 0;
}
