/* RFC 6455 frames as a client sees them: server frames parsed with every
 * length checked before it is used, client frames built masked, and text
 * messages reassembled from fragments (control frames may come between
 * them). Used by client.c; tested by tests/unit/test-wsload-frame.c and
 * fuzzed by tests/fuzz/fuzz-wsload-frame.c. */
#include <string.h>

#include "wsload.h"

int
hc_wsl_frame_parse(const guint8 *buf, gsize len, guint64 max_payload, HcWslFrame *f,
                   const char **error)
{
  gsize need = 2;
  guint64 n;

  if (len < 2)
    return 0;
  f->fin = (buf[0] & 0x80) != 0;
  f->opcode = buf[0] & 0x0f;
  f->masked = (buf[1] & 0x80) != 0;
  n = buf[1] & 0x7f;
  if (buf[0] & 0x70) {
    *error = "reserved bits set (no extension was negotiated)";
    return -1;
  }
  if (f->masked) {
    *error = "a server frame is masked";
    return -1;
  }
  switch (f->opcode) {
  case HC_WSL_OP_CONT:
  case HC_WSL_OP_TEXT:
  case HC_WSL_OP_BINARY:
    break;
  case HC_WSL_OP_CLOSE:
  case HC_WSL_OP_PING:
  case HC_WSL_OP_PONG:
    if (!f->fin || n > 125) {
      *error = "a control frame is fragmented or longer than 125 bytes";
      return -1;
    }
    break;
  default:
    *error = "reserved opcode";
    return -1;
  }
  if (n == 126)
    need += 2;
  else if (n == 127)
    need += 8;
  if (len < need)
    return 0;
  if (n == 126) {
    n = (guint64)buf[2] << 8 | buf[3];
    if (n < 126) {
      *error = "length not in its shortest form";
      return -1;
    }
  } else if (n == 127) {
    n = 0;
    for (int i = 0; i < 8; i++)
      n = n << 8 | buf[2 + i];
    if (n >> 63 || n <= 0xffff) {
      *error = n >> 63 ? "64-bit length with its top bit set" : "length not in its shortest form";
      return -1;
    }
  }
  if (n > max_payload) {
    *error = "frame larger than the message limit";
    return -1;
  }
  f->len = n;
  f->header = need;
  memset(f->mask, 0, sizeof f->mask);
  return 1;
}

gsize
hc_wsl_frame_build(guint8 *out, gsize cap, int opcode, const void *payload, gsize len, guint32 mask)
{
  const guint8 *p = payload;
  gsize h = 2;
  guint8 m[4] = {mask >> 24, mask >> 16, mask >> 8, mask};

  if (len > 0xffff)
    h += 8;
  else if (len > 125)
    h += 2;
  if (cap < h + 4 || cap - h - 4 < len)
    return 0;
  out[0] = 0x80 | (opcode & 0x0f);
  if (len > 0xffff) {
    out[1] = 0x80 | 127;
    for (int i = 0; i < 8; i++)
      out[2 + i] = (guint8)((guint64)len >> (56 - 8 * i));
  } else if (len > 125) {
    out[1] = 0x80 | 126;
    out[2] = len >> 8;
    out[3] = len & 0xff;
  } else {
    out[1] = 0x80 | len;
  }
  memcpy(out + h, m, 4);
  for (gsize i = 0; i < len; i++)
    out[h + 4 + i] = p[i] ^ m[i & 3];
  return h + 4 + len;
}

void
hc_wsl_reader_init(HcWslReader *r, gsize max_message)
{
  memset(r, 0, sizeof *r);
  r->max_message = max_message;
}

void
hc_wsl_reader_clear(HcWslReader *r)
{
  if (r->msg)
    g_byte_array_unref(r->msg);
  r->msg = NULL;
  r->in_msg = FALSE;
}

HcWslEvent
hc_wsl_reader_next(HcWslReader *r, const guint8 *buf, gsize len, gsize *used, const guint8 **data,
                   gsize *data_len, int *opcode, const char **error)
{
  HcWslFrame f;
  const guint8 *payload;
  int rc = hc_wsl_frame_parse(buf, len, r->max_message, &f, error);

  *used = 0;
  /* A message reassembled by the previous call has been read by now. */
  if (r->msg && !r->in_msg)
    g_byte_array_set_size(r->msg, 0);
  if (rc < 0)
    return HC_WSL_ERROR;
  if (rc == 0 || len - f.header < f.len)
    return HC_WSL_NEED_MORE;
  *used = f.header + f.len;
  payload = buf + f.header;
  *data = payload;
  *data_len = f.len;
  *opcode = f.opcode;
  switch (f.opcode) {
  case HC_WSL_OP_PING:
    return HC_WSL_PING;
  case HC_WSL_OP_PONG:
    return HC_WSL_PONG;
  case HC_WSL_OP_CLOSE:
    if (f.len == 1) {
      *error = "a close frame with a one-byte payload";
      return HC_WSL_ERROR;
    }
    return HC_WSL_CLOSE;
  case HC_WSL_OP_CONT:
    if (!r->in_msg) {
      *error = "a continuation frame with no message to continue";
      return HC_WSL_ERROR;
    }
    if (r->msg->len + f.len > r->max_message) {
      *error = "fragmented message larger than the message limit";
      return HC_WSL_ERROR;
    }
    g_byte_array_append(r->msg, payload, f.len);
    if (!f.fin)
      return HC_WSL_FRAGMENT;
    r->in_msg = FALSE;
    *data = r->msg->data;
    *data_len = r->msg->len;
    *opcode = r->msg_opcode;
    return HC_WSL_MESSAGE;
  default: /* text or binary */
    if (r->in_msg) {
      *error = "a new message before the fragmented one ended";
      return HC_WSL_ERROR;
    }
    if (f.fin)
      return HC_WSL_MESSAGE;
    if (!r->msg)
      r->msg = g_byte_array_new();
    g_byte_array_append(r->msg, payload, f.len);
    r->msg_opcode = f.opcode;
    r->in_msg = TRUE;
    return HC_WSL_FRAGMENT;
  }
}
