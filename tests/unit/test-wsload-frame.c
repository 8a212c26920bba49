/* Unit tests of hc-wsload's WebSocket pieces (tools/wsload/frame.c and
 * handshake.c): server frames of every length form parsed, every truncation
 * asks for more bytes, every protocol fault refused, client frames masked,
 * fragmented messages reassembled around control frames, and the 101 check
 * against RFC 6455's own example. */
#include <string.h>

#include "wsload.h"

#define LIMIT (1 << 20)

/* An unmasked server frame into out; returns its length. */
static gsize
server_frame(guint8 *out, guint8 first, const guint8 *payload, gsize len)
{
  gsize h = 2;

  out[0] = first;
  if (len > 0xffff) {
    out[1] = 127;
    for (int i = 0; i < 8; i++)
      out[2 + i] = (guint8)((guint64)len >> (56 - 8 * i));
    h = 10;
  } else if (len > 125) {
    out[1] = 126;
    out[2] = len >> 8;
    out[3] = len & 0xff;
    h = 4;
  } else {
    out[1] = len;
  }
  memcpy(out + h, payload, len);
  return h + len;
}

static void
test_lengths(void)
{
  static const gsize lens[] = {0, 1, 125, 126, 65535, 65536, 100000};
  guint8 *payload = g_malloc(100000), *buf = g_malloc(100000 + 16);

  for (gsize i = 0; i < 100000; i++)
    payload[i] = i * 7;
  for (guint k = 0; k < G_N_ELEMENTS(lens); k++) {
    gsize n = server_frame(buf, 0x81, payload, lens[k]);
    HcWslFrame f;
    const char *err = NULL;

    g_assert_cmpint(hc_wsl_frame_parse(buf, n, LIMIT, &f, &err), ==, 1);
    g_assert_true(f.fin);
    g_assert_cmpint(f.opcode, ==, HC_WSL_OP_TEXT);
    g_assert_cmpuint(f.len, ==, lens[k]);
    g_assert_cmpuint(f.header + f.len, ==, n);
    g_assert_cmpmem(buf + f.header, f.len, payload, lens[k]);
    /* Every header prefix asks for more; never an error, never a read past. */
    for (gsize cut = 0; cut < f.header; cut++) {
      guint8 *copy = g_memdup2(buf, cut ? cut : 1);
      g_assert_cmpint(hc_wsl_frame_parse(copy, cut, LIMIT, &f, &err), ==, 0);
      g_free(copy);
    }
  }
  g_free(payload);
  g_free(buf);
}

static void
test_faults(void)
{
  static const struct {
    guint8 bytes[10];
    gsize len;
  } bad[] = {
    {{0x81, 0x81, 1, 2, 3, 4}, 6},                   /* masked server frame */
    {{0xc1, 0x00}, 2},                               /* RSV1 */
    {{0x83, 0x00}, 2},                               /* reserved data opcode */
    {{0x8b, 0x00}, 2},                               /* reserved control opcode */
    {{0x09, 0x00}, 2},                               /* fragmented ping */
    {{0x89, 126, 0, 126}, 4},                        /* ping of 126 bytes */
    {{0x81, 126, 0, 125}, 4},                        /* 16-bit form for 125 */
    {{0x81, 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 10}, /* 64-bit form for 65535 */
    {{0x81, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, 10},    /* top bit set */
    {{0x81, 127, 0, 0, 0, 0, 0, 0x20, 0, 0}, 10},    /* over the limit */
  };

  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    HcWslFrame f;
    const char *err = NULL;

    g_assert_cmpint(hc_wsl_frame_parse(bad[i].bytes, bad[i].len, LIMIT, &f, &err), ==, -1);
    g_assert_nonnull(err);
  }
}

static void
test_build_masks(void)
{
  static const gsize lens[] = {0, 5, 125, 126, 65535, 65536};
  guint8 *payload = g_malloc(65536), *buf = g_malloc(65536 + HC_WSL_MAX_HEADER);

  for (gsize i = 0; i < 65536; i++)
    payload[i] = i * 13 + 1;
  for (guint k = 0; k < G_N_ELEMENTS(lens); k++) {
    gsize n = hc_wsl_frame_build(buf, 65536 + HC_WSL_MAX_HEADER, HC_WSL_OP_TEXT, payload, lens[k],
                                 0xa1b2c3d4);
    gsize h = lens[k] > 0xffff ? 14 : lens[k] > 125 ? 8 : 6;

    g_assert_cmpuint(n, ==, h + lens[k]);
    g_assert_cmphex(buf[0], ==, 0x81);
    g_assert_cmphex(buf[1] & 0x80, ==, 0x80);
    g_assert_cmphex(buf[h - 4], ==, 0xa1);
    for (gsize i = 0; i < lens[k]; i++)
      g_assert_cmphex(buf[h + i] ^ buf[h - 4 + (i & 3)], ==, payload[i]);
    /* One byte short of room: nothing written. */
    g_assert_cmpuint(hc_wsl_frame_build(buf, n - 1, HC_WSL_OP_TEXT, payload, lens[k], 1), ==, 0);
  }
  g_free(payload);
  g_free(buf);
}

static HcWslEvent
next(HcWslReader *r, const guint8 *buf, gsize len, gsize *used, GString *out, int *op)
{
  const guint8 *data = NULL;
  gsize dlen = 0;
  const char *err = NULL;
  HcWslEvent ev = hc_wsl_reader_next(r, buf, len, used, &data, &dlen, op, &err);

  g_string_truncate(out, 0);
  if (ev == HC_WSL_MESSAGE || ev == HC_WSL_PING || ev == HC_WSL_CLOSE)
    g_string_append_len(out, (const char *)data, dlen);
  if (ev == HC_WSL_ERROR)
    g_assert_nonnull(err);
  return ev;
}

static void
test_fragments(void)
{
  HcWslReader r;
  guint8 buf[256];
  gsize n = 0, used, off = 0;
  GString *out = g_string_new(NULL);
  int op;

  n += server_frame(buf + n, 0x01, (const guint8 *)"{\"type\":", 8); /* text, not final */
  n += server_frame(buf + n, 0x89, (const guint8 *)"hi", 2);         /* ping in between */
  n += server_frame(buf + n, 0x00, (const guint8 *)"\"qa.", 4);      /* continuation */
  n += server_frame(buf + n, 0x80, (const guint8 *)"asked\"}", 7);   /* final continuation */
  n += server_frame(buf + n, 0x81, (const guint8 *)"{}", 2);         /* a whole message */
  n += server_frame(buf + n, 0x88,
                    (const guint8 *)"\x03\xe8"
                                    "bye",
                    5); /* close 1000 */
  hc_wsl_reader_init(&r, LIMIT);
  g_assert_cmpint(next(&r, buf, n, &used, out, &op), ==, HC_WSL_FRAGMENT);
  off += used;
  g_assert_cmpint(next(&r, buf + off, n - off, &used, out, &op), ==, HC_WSL_PING);
  g_assert_cmpstr(out->str, ==, "hi");
  off += used;
  g_assert_cmpint(next(&r, buf + off, n - off, &used, out, &op), ==, HC_WSL_FRAGMENT);
  off += used;
  /* The last fragment split over two reads: first too short. */
  g_assert_cmpint(next(&r, buf + off, 3, &used, out, &op), ==, HC_WSL_NEED_MORE);
  g_assert_cmpuint(used, ==, 0);
  g_assert_cmpint(next(&r, buf + off, n - off, &used, out, &op), ==, HC_WSL_MESSAGE);
  g_assert_cmpint(op, ==, HC_WSL_OP_TEXT);
  g_assert_cmpstr(out->str, ==, "{\"type\":\"qa.asked\"}");
  off += used;
  g_assert_cmpint(next(&r, buf + off, n - off, &used, out, &op), ==, HC_WSL_MESSAGE);
  g_assert_cmpstr(out->str, ==, "{}");
  off += used;
  g_assert_cmpint(next(&r, buf + off, n - off, &used, out, &op), ==, HC_WSL_CLOSE);
  g_assert_cmpstr(out->str, ==,
                  "\x03\xe8"
                  "bye");
  off += used;
  g_assert_cmpuint(off, ==, n);
  hc_wsl_reader_clear(&r);

  /* A continuation with nothing to continue; a new message inside one. */
  hc_wsl_reader_init(&r, LIMIT);
  n = server_frame(buf, 0x80, (const guint8 *)"x", 1);
  g_assert_cmpint(next(&r, buf, n, &used, out, &op), ==, HC_WSL_ERROR);
  n = server_frame(buf, 0x01, (const guint8 *)"x", 1);
  n += server_frame(buf + n, 0x81, (const guint8 *)"y", 1);
  g_assert_cmpint(next(&r, buf, n, &used, out, &op), ==, HC_WSL_FRAGMENT);
  g_assert_cmpint(next(&r, buf + used, n - used, &used, out, &op), ==, HC_WSL_ERROR);
  hc_wsl_reader_clear(&r);

  /* Fragments that add up to more than the limit; a one-byte close. */
  hc_wsl_reader_init(&r, 10);
  n = server_frame(buf, 0x01, (const guint8 *)"123456", 6);
  n += server_frame(buf + n, 0x80, (const guint8 *)"789012", 6);
  g_assert_cmpint(next(&r, buf, n, &used, out, &op), ==, HC_WSL_FRAGMENT);
  g_assert_cmpint(next(&r, buf + used, n - used, &used, out, &op), ==, HC_WSL_ERROR);
  hc_wsl_reader_clear(&r);
  hc_wsl_reader_init(&r, LIMIT);
  n = server_frame(buf, 0x88, (const guint8 *)"x", 1);
  g_assert_cmpint(next(&r, buf, n, &used, out, &op), ==, HC_WSL_ERROR);
  hc_wsl_reader_clear(&r);
  g_string_free(out, TRUE);
}

static void
test_handshake(void)
{
  /* RFC 6455 section 1.3's example key and accept value. */
  const char *key = "dGhlIHNhbXBsZSBub25jZQ==", *err = NULL;
  const char *ok = "HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                   "sec-websocket-protocol: hallcast-ws\r\n\r\n\x81\x02{}";
  gsize hlen = strstr(ok, "\r\n\r\n") + 4 - ok;
  char *wrong, *req, fresh[25];

  g_assert_cmpint(hc_wsl_handshake_check(ok, strlen(ok), key, "hallcast-ws", &err), ==, hlen);
  for (gsize cut = 0; cut < hlen; cut++)
    g_assert_cmpint(hc_wsl_handshake_check(ok, cut, key, "hallcast-ws", &err), ==, 0);
  g_assert_cmpint(hc_wsl_handshake_check(ok, strlen(ok), key, "other", &err), ==, -1);
  g_assert_cmpint(
    hc_wsl_handshake_check(ok, strlen(ok), "AAAAAAAAAAAAAAAAAAAAAA==", "hallcast-ws", &err), ==,
    -1);
  g_assert_cmpstr(err, ==, "Sec-WebSocket-Accept does not match our key");
  wrong = g_strdup(ok);
  memcpy(wrong + 9, "403", 3);
  g_assert_cmpint(hc_wsl_handshake_check(wrong, strlen(wrong), key, "hallcast-ws", &err), ==, -1);
  g_free(wrong);
  g_assert_cmpint(hc_wsl_handshake_check("HTTP/1.1 101 OK\r\n\r\n", 19, key, "hallcast-ws", &err),
                  ==, -1);

  hc_wsl_handshake_key(fresh);
  g_assert_cmpuint(strlen(fresh), ==, 24);
  req = hc_wsl_handshake_request("127.0.0.1:8080", "/ws?token=a%3Ab", fresh, "hallcast-ws");
  g_assert_true(g_str_has_prefix(req, "GET /ws?token=a%3Ab HTTP/1.1\r\n"));
  g_assert_nonnull(strstr(req, fresh));
  g_assert_true(g_str_has_suffix(req, "\r\n\r\n"));
  g_free(req);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/wsload/frame/lengths", test_lengths);
  g_test_add_func("/wsload/frame/faults", test_faults);
  g_test_add_func("/wsload/frame/build-masks", test_build_masks);
  g_test_add_func("/wsload/frame/fragments", test_fragments);
  g_test_add_func("/wsload/handshake", test_handshake);
  return g_test_run();
}
