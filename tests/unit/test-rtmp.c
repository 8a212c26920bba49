/* Unit tests of the RTMP protocol (plugins/src-rtmp/rtmp-proto.c): a publish
 * session as ffmpeg sends it is answered and its media handed out; a wrong
 * key and broken chunks close the connection. */
#include <string.h>

#include "../../plugins/src-rtmp/rtmp-proto.h"

typedef struct {
  GByteArray *sent;
  guint media, video;
  char key[64];
} Peer;

static void
on_send(const guint8 *data, gsize len, gpointer user)
{
  g_byte_array_append(((Peer *)user)->sent, data, (guint)len);
}

static const char *
on_publish(const char *app, const char *key, gpointer user)
{
  g_strlcpy(((Peer *)user)->key, key, sizeof((Peer *)user)->key);
  return strcmp(app, "live") == 0 && strcmp(key, "k") == 0 ? NULL : "wrong key";
}

static void
on_media(guint8 type, guint32 ts, const guint8 *data, gsize len, gpointer user)
{
  Peer *p = user;

  p->media++;
  p->video += type == HC_RTMP_MSG_VIDEO;
}

static const HcRtmpCallbacks cbs = {on_send, on_publish, on_media};

/* Appends an AMF0 string / number. */
static void
s(GByteArray *b, const char *v)
{
  guint8 h[3] = {2, strlen(v) >> 8, strlen(v) & 0xff};
  g_byte_array_append(b, h, 3);
  g_byte_array_append(b, (const guint8 *)v, strlen(v));
}

static void
num(GByteArray *b, double v)
{
  guint64 bits;
  guint8 o[9] = {0};

  memcpy(&bits, &v, 8);
  for (int i = 0; i < 8; i++)
    o[1 + i] = bits >> (56 - 8 * i);
  g_byte_array_append(b, o, 9);
}

/* One message in one chunk (format 0), payload under 128 bytes. */
static void
chunk(GByteArray *out, guint8 csid, guint8 type, guint32 sid, GByteArray *payload)
{
  guint8 h[12] = {csid, 0, 0, 0, 0, 0, payload->len, type, sid, 0, 0, 0};

  g_assert_cmpuint(payload->len, <, 128);
  g_byte_array_append(out, h, 12);
  g_byte_array_append(out, payload->data, payload->len);
  g_byte_array_set_size(payload, 0);
}

static GByteArray *
session(const char *key)
{
  GByteArray *out = g_byte_array_new(), *p = g_byte_array_new();
  guint8 hs[1 + 1536 + 1536] = {3};
  static const guint8 obj_app[] = {3, 0, 3, 'a', 'p', 'p'};
  static const guint8 obj_end[] = {0, 0, 9};
  static const guint8 null = 5;
  static const guint8 video[] = {0x17, 1, 0, 0, 0, 0, 0, 0, 2, 0x65, 0x88};

  g_byte_array_append(out, hs, sizeof hs);
  s(p, "connect");
  num(p, 1);
  g_byte_array_append(p, obj_app, sizeof obj_app);
  s(p, "live");
  g_byte_array_append(p, obj_end, sizeof obj_end);
  chunk(out, 3, 20, 0, p);
  s(p, "createStream");
  num(p, 2);
  g_byte_array_append(p, &null, 1);
  chunk(out, 3, 20, 0, p);
  s(p, "publish");
  num(p, 3);
  g_byte_array_append(p, &null, 1);
  s(p, key);
  s(p, "live");
  chunk(out, 8, 20, 1, p);
  g_byte_array_append(p, video, sizeof video);
  chunk(out, 6, 9, 1, p);
  g_byte_array_unref(p);
  return out;
}

static void
test_publish(void)
{
  Peer peer = {.sent = g_byte_array_new()};
  HcRtmpConn *c = hc_rtmp_conn_new(&cbs, &peer);
  GByteArray *in = session("k?token=1");
  const char *why = NULL;

  /* Byte by byte: the parser waits for whole headers and chunks. */
  for (guint i = 0; i < in->len; i++)
    g_assert_cmpint(hc_rtmp_conn_feed(c, in->data + i, 1, &why), ==, 0);
  g_assert_true(hc_rtmp_conn_publishing(c));
  g_assert_cmpstr(peer.key, ==, "k");
  g_assert_cmpuint(peer.video, ==, 1);
  g_assert_nonnull(memmem(peer.sent->data, peer.sent->len, "NetConnection.Connect.Success", 29));
  g_assert_nonnull(memmem(peer.sent->data, peer.sent->len, "NetStream.Publish.Start", 23));
  hc_rtmp_conn_free(c);
  g_byte_array_unref(in);
  g_byte_array_unref(peer.sent);
}

static void
test_wrong_key(void)
{
  Peer peer = {.sent = g_byte_array_new()};
  HcRtmpConn *c = hc_rtmp_conn_new(&cbs, &peer);
  GByteArray *in = session("nope");
  const char *why = NULL;

  g_assert_cmpint(hc_rtmp_conn_feed(c, in->data, in->len, &why), ==, -1);
  g_assert_cmpstr(why, ==, "wrong key");
  g_assert_false(hc_rtmp_conn_publishing(c));
  g_assert_cmpuint(peer.media, ==, 0);
  g_assert_nonnull(memmem(peer.sent->data, peer.sent->len, "NetStream.Publish.BadName", 25));
  hc_rtmp_conn_free(c);
  g_byte_array_unref(in);
  g_byte_array_unref(peer.sent);
}

static void
test_broken(void)
{
  static const guint8 big[] = {3, 0, 0, 0, 0xff, 0xff, 0xff, 20, 0, 0, 0, 0};
  static const guint8 no_header[] = {0xc4, 1, 2, 3};
  static const guint8 huge_chunk[] = {2, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff};
  const guint8 *cases[] = {big, no_header, huge_chunk};
  gsize sizes[] = {sizeof big, sizeof no_header, sizeof huge_chunk};
  guint8 hs[1 + 1536 + 1536] = {3};

  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    Peer peer = {.sent = g_byte_array_new()};
    HcRtmpConn *c = hc_rtmp_conn_new(&cbs, &peer);
    const char *why = NULL;

    g_assert_cmpint(hc_rtmp_conn_feed(c, hs, sizeof hs, &why), ==, 0);
    g_assert_cmpint(hc_rtmp_conn_feed(c, cases[i], sizes[i], &why), ==, -1);
    g_assert_nonnull(why);
    hc_rtmp_conn_free(c);
    g_byte_array_unref(peer.sent);
  }
  {
    Peer peer = {.sent = g_byte_array_new()};
    HcRtmpConn *c = hc_rtmp_conn_new(&cbs, &peer);
    const char *why = NULL;
    guint8 v6[1537] = {6};

    g_assert_cmpint(hc_rtmp_conn_feed(c, v6, sizeof v6, &why), ==, -1);
    hc_rtmp_conn_free(c);
    g_byte_array_unref(peer.sent);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rtmp/publish", test_publish);
  g_test_add_func("/rtmp/wrong-key", test_wrong_key);
  g_test_add_func("/rtmp/broken", test_broken);
  return g_test_run();
}
