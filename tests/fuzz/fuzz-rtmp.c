/* libFuzzer target for the RTMP server protocol (plugins/src-rtmp/rtmp-proto.c):
 * after a valid handshake, any bytes, fed in two pieces, never crash, never
 * read out of bounds, and media messages handed out are whole. The AMF0
 * metadata reader gets the same bytes. */
#include <stdint.h>
#include <string.h>

#include "../../plugins/src-rtmp/rtmp-proto.h"

static void
on_send(const guint8 *data, gsize len, gpointer user)
{
  (void)data;
  (void)len;
  (void)user;
}

static const char *
on_publish(const char *app, const char *key, gpointer user)
{
  return strcmp(key, "k") == 0 ? NULL : "wrong key";
}

static void
on_media(guint8 type, guint32 ts, const guint8 *data, gsize len, gpointer user)
{
  volatile guint8 sum = 0;

  if (len > HC_RTMP_MAX_MESSAGE)
    __builtin_trap();
  for (gsize i = 0; i < len; i++) /* every byte handed out is readable */
    sum ^= data[i];
  (void)sum;
}

static const HcRtmpCallbacks callbacks = {on_send, on_publish, on_media};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static guint8 handshake[1 + 1536 + 1536];
  HcRtmpConn *c = hc_rtmp_conn_new(&callbacks, NULL);
  const char *why = NULL;
  size_t half = size ? data[0] % (size + 1) : 0;
  gboolean audio, video;

  handshake[0] = 3;
  if (hc_rtmp_conn_feed(c, handshake, sizeof handshake, &why) == 0 &&
      hc_rtmp_conn_feed(c, data, half, &why) == 0)
    hc_rtmp_conn_feed(c, data + half, size - half, &why);
  hc_rtmp_conn_free(c);
  hc_rtmp_metadata_tracks(data, size, &audio, &video);
  return 0;
}
