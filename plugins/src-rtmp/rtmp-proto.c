/* RTMP server protocol without I/O (see rtmp-proto.h): the simple handshake
 * (version 3, no digest), chunk stream reassembly with the limits of the
 * header, a bounded AMF0 reader for commands and metadata, and the answers a
 * publisher (ffmpeg, OBS, hardware encoders) waits for. */
#include "rtmp-proto.h"

#include <string.h>

#define HANDSHAKE_SIZE 1536
#define OUT_CHUNK_SIZE 4096
#define WINDOW_ACK_SIZE 2500000
#define AMF_MAX_DEPTH 8
#define STREAM_ID 1 /* the one message stream createStream hands out */

enum { STATE_C0C1, STATE_C2, STATE_CHUNKS, STATE_CLOSED };

typedef struct {
  guint32 csid;
  gboolean has_header; /* a type 0 header was seen */
  gboolean extended;   /* the last header carried an extended timestamp */
  guint32 timestamp, delta, length, stream_id;
  guint8 type;
  GByteArray *msg; /* payload gathered so far */
} ChunkStream;

struct HcRtmpConn {
  const HcRtmpCallbacks *cb;
  gpointer user;
  int state;
  GByteArray *in;
  guint32 in_chunk_size;
  ChunkStream cs[HC_RTMP_MAX_CHUNK_STREAMS];
  guint n_cs;
  gsize pending; /* bytes held in partial messages */
  guint64 received, acked;
  guint32 peer_window;
  char app[128];
  gboolean publishing, ended;
};

/* ---- AMF0 ---- */

typedef struct {
  const guint8 *p;
  gsize n, off;
} Reader;

static gboolean amf_skip(Reader *r, int depth);

static gboolean
need(Reader *r, gsize k)
{
  return r->n - r->off >= k;
}

static guint32
be16(const guint8 *p)
{
  return (guint32)p[0] << 8 | p[1];
}

static guint32
be24(const guint8 *p)
{
  return (guint32)p[0] << 16 | (guint32)p[1] << 8 | p[2];
}

static guint32
be32(const guint8 *p)
{
  return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

/* A string value (type 2) copied into out (truncated, NUL-terminated). */
static gboolean
amf_string(Reader *r, char *out, gsize size)
{
  gsize len;

  if (!need(r, 3) || r->p[r->off] != 0x02)
    return FALSE;
  len = be16(r->p + r->off + 1);
  if (!need(r, 3 + len))
    return FALSE;
  if (out && size) {
    gsize k = MIN(len, size - 1);
    memcpy(out, r->p + r->off + 3, k);
    out[k] = '\0';
  }
  r->off += 3 + len;
  return TRUE;
}

static gboolean
amf_number(Reader *r, double *out)
{
  guint64 bits = 0;

  if (!need(r, 9) || r->p[r->off] != 0x00)
    return FALSE;
  for (int i = 1; i <= 8; i++)
    bits = bits << 8 | r->p[r->off + i];
  memcpy(out, &bits, sizeof *out);
  r->off += 9;
  return TRUE;
}

/* Skips the "key: value" pairs of an object or ECMA array up to its end
 * marker; if key and out are given, copies the string value of that key. */
static gboolean
amf_pairs(Reader *r, int depth, const char *key, char *out, gsize size, gboolean *seen)
{
  while (need(r, 3)) {
    gsize klen = be16(r->p + r->off);

    if (klen == 0 && r->p[r->off + 2] == 0x09) {
      r->off += 3;
      return TRUE;
    }
    if (!need(r, 2 + klen + 1))
      return FALSE;
    r->off += 2;
    if (key && klen == strlen(key) && memcmp(r->p + r->off, key, klen) == 0) {
      r->off += klen;
      if (seen)
        *seen = TRUE;
      if (out && r->p[r->off] == 0x02) {
        if (!amf_string(r, out, size))
          return FALSE;
        continue;
      }
    } else {
      r->off += klen;
    }
    if (!amf_skip(r, depth + 1))
      return FALSE;
  }
  return FALSE;
}

/* Skips one value of any type; nesting deeper than AMF_MAX_DEPTH is refused. */
static gboolean
amf_skip(Reader *r, int depth)
{
  guint8 type;
  guint32 count;

  if (depth > AMF_MAX_DEPTH || !need(r, 1))
    return FALSE;
  type = r->p[r->off];
  switch (type) {
  case 0x00: /* number */
    return need(r, 9) && (r->off += 9, TRUE);
  case 0x01: /* boolean */
    return need(r, 2) && (r->off += 2, TRUE);
  case 0x02: /* string */
    return amf_string(r, NULL, 0);
  case 0x03: /* object */
    r->off += 1;
    return amf_pairs(r, depth, NULL, NULL, 0, NULL);
  case 0x05: /* null */
  case 0x06: /* undefined */
    r->off += 1;
    return TRUE;
  case 0x08: /* ECMA array: a count (not trusted), then pairs */
    if (!need(r, 5))
      return FALSE;
    r->off += 5;
    return amf_pairs(r, depth, NULL, NULL, 0, NULL);
  case 0x0a: /* strict array */
    if (!need(r, 5))
      return FALSE;
    count = be32(r->p + r->off + 1);
    r->off += 5;
    /* Each value takes at least one byte, so the count is bounded by the data. */
    if (count > r->n - r->off)
      return FALSE;
    for (guint32 i = 0; i < count; i++)
      if (!amf_skip(r, depth + 1))
        return FALSE;
    return TRUE;
  case 0x0b: /* date */
    return need(r, 11) && (r->off += 11, TRUE);
  case 0x0c: /* long string */
    if (!need(r, 5))
      return FALSE;
    count = be32(r->p + r->off + 1);
    if (!need(r, 5 + (gsize)count))
      return FALSE;
    r->off += 5 + (gsize)count;
    return TRUE;
  default:
    return FALSE;
  }
}

gboolean
hc_rtmp_metadata_tracks(const guint8 *data, gsize len, gboolean *audio, gboolean *video)
{
  Reader r = {data, len, 0};
  char name[32];
  Reader copy;

  *audio = *video = FALSE;
  if (!amf_string(&r, name, sizeof name))
    return FALSE;
  if (strcmp(name, "@setDataFrame") == 0 && !amf_string(&r, name, sizeof name))
    return FALSE;
  if (strcmp(name, "onMetaData") != 0 || !need(&r, 1))
    return FALSE;
  if (r.p[r.off] == 0x08) {
    if (!need(&r, 5))
      return FALSE;
    r.off += 5;
  } else if (r.p[r.off] == 0x03) {
    r.off += 1;
  } else {
    return FALSE;
  }
  copy = r;
  if (!amf_pairs(&r, 0, "audiocodecid", NULL, 0, audio))
    return FALSE;
  return amf_pairs(&copy, 0, "videocodecid", NULL, 0, video);
}

/* ---- writing ---- */

static void
w8(GByteArray *b, guint8 v)
{
  g_byte_array_append(b, &v, 1);
}

static void
wbe(GByteArray *b, guint32 v, int bytes)
{
  for (int i = bytes - 1; i >= 0; i--)
    w8(b, (guint8)(v >> (8 * i)));
}

static void
amf_w_string(GByteArray *b, const char *s)
{
  gsize n = MIN(strlen(s), 0xffff);

  w8(b, 0x02);
  wbe(b, (guint32)n, 2);
  g_byte_array_append(b, (const guint8 *)s, (guint)n);
}

static void
amf_w_number(GByteArray *b, double v)
{
  guint64 bits;

  memcpy(&bits, &v, sizeof bits);
  w8(b, 0x00);
  for (int i = 7; i >= 0; i--)
    w8(b, (guint8)(bits >> (8 * i)));
}

static void
amf_w_key(GByteArray *b, const char *k)
{
  wbe(b, (guint32)strlen(k), 2);
  g_byte_array_append(b, (const guint8 *)k, (guint)strlen(k));
}

static void
amf_w_end(GByteArray *b)
{
  wbe(b, 0, 2);
  w8(b, 0x09);
}

/* Sends one message on chunk stream csid, split into chunks. */
static void
send_message(HcRtmpConn *c, guint32 csid, guint8 type, guint32 stream_id, const guint8 *data,
             gsize len)
{
  GByteArray *b = g_byte_array_sized_new((guint)len + 32);
  gsize off = 0;

  w8(b, (guint8)csid); /* csid < 64: one byte, format 0 */
  wbe(b, 0, 3);        /* timestamp */
  wbe(b, (guint32)len, 3);
  w8(b, type);
  for (int i = 0; i < 4; i++) /* message stream id, little endian */
    w8(b, (guint8)(stream_id >> (8 * i)));
  for (;;) {
    gsize k = MIN(len - off, OUT_CHUNK_SIZE);
    g_byte_array_append(b, data + off, (guint)k);
    off += k;
    if (off >= len)
      break;
    w8(b, (guint8)(0xc0 | csid)); /* format 3 continuation */
  }
  c->cb->send(b->data, b->len, c->user);
  g_byte_array_unref(b);
}

static void
send_control(HcRtmpConn *c, guint8 type, guint32 value, int extra_byte)
{
  guint8 p[5] = {value >> 24, value >> 16, value >> 8, value, 2};

  send_message(c, 2, type, 0, p, extra_byte ? 5 : 4);
}

/* onStatus / _result style command messages. */
static void
send_status(HcRtmpConn *c, const char *level, const char *code, const char *desc)
{
  GByteArray *b = g_byte_array_new();

  amf_w_string(b, "onStatus");
  amf_w_number(b, 0);
  w8(b, 0x05);
  w8(b, 0x03);
  amf_w_key(b, "level");
  amf_w_string(b, level);
  amf_w_key(b, "code");
  amf_w_string(b, code);
  amf_w_key(b, "description");
  amf_w_string(b, desc);
  amf_w_end(b);
  send_message(c, 5, 20, STREAM_ID, b->data, b->len);
  g_byte_array_unref(b);
}

static void
send_result(HcRtmpConn *c, double txn, gboolean with_stream_id)
{
  GByteArray *b = g_byte_array_new();

  amf_w_string(b, "_result");
  amf_w_number(b, txn);
  w8(b, 0x05);
  if (with_stream_id)
    amf_w_number(b, STREAM_ID);
  else
    w8(b, 0x06);
  send_message(c, 3, 20, 0, b->data, b->len);
  g_byte_array_unref(b);
}

static void
send_connect_result(HcRtmpConn *c, double txn)
{
  GByteArray *b = g_byte_array_new();

  send_control(c, 5, WINDOW_ACK_SIZE, 0); /* window acknowledgement size */
  send_control(c, 6, WINDOW_ACK_SIZE, 1); /* set peer bandwidth, dynamic */
  send_control(c, 1, OUT_CHUNK_SIZE, 0);  /* set chunk size */
  amf_w_string(b, "_result");
  amf_w_number(b, txn);
  w8(b, 0x03);
  amf_w_key(b, "fmsVer");
  amf_w_string(b, "FMS/3,0,1,123");
  amf_w_key(b, "capabilities");
  amf_w_number(b, 31);
  amf_w_end(b);
  w8(b, 0x03);
  amf_w_key(b, "level");
  amf_w_string(b, "status");
  amf_w_key(b, "code");
  amf_w_string(b, "NetConnection.Connect.Success");
  amf_w_key(b, "description");
  amf_w_string(b, "Connection succeeded.");
  amf_w_key(b, "objectEncoding");
  amf_w_number(b, 0);
  amf_w_end(b);
  send_message(c, 3, 20, 0, b->data, b->len);
  g_byte_array_unref(b);
}

/* ---- messages ---- */

static int
on_command(HcRtmpConn *c, const guint8 *data, gsize len, const char **why)
{
  Reader r = {data, len, 0};
  char name[64], key[256];
  double txn = 0;
  const char *refused;

  if (!amf_string(&r, name, sizeof name) || !amf_number(&r, &txn))
    return 0; /* not a command we answer */
  if (strcmp(name, "connect") == 0) {
    if (!need(&r, 1) || r.p[r.off] != 0x03)
      return (*why = "connect without a command object", -1);
    r.off++;
    c->app[0] = '\0';
    if (!amf_pairs(&r, 0, "app", c->app, sizeof c->app, NULL))
      return (*why = "connect: unreadable command object", -1);
    send_connect_result(c, txn);
  } else if (strcmp(name, "createStream") == 0) {
    send_result(c, txn, TRUE);
  } else if (strcmp(name, "releaseStream") == 0 || strcmp(name, "FCPublish") == 0) {
    send_result(c, txn, FALSE);
  } else if (strcmp(name, "publish") == 0) {
    if (c->publishing)
      return (*why = "a second publish on one connection", -1);
    if (!amf_skip(&r, 0) || !amf_string(&r, key, sizeof key))
      return (*why = "publish without a stream key", -1);
    key[strcspn(key, "?")] = '\0'; /* encoders may append ?query */
    refused = c->cb->publish(c->app, key, c->user);
    if (refused) {
      send_status(c, "error", "NetStream.Publish.BadName", refused);
      *why = refused;
      return -1;
    }
    c->publishing = TRUE;
    {
      guint8 begin[6] = {0, 0, 0, 0, 0, STREAM_ID}; /* user control: stream begin */
      send_message(c, 2, 4, 0, begin, sizeof begin);
    }
    send_status(c, "status", "NetStream.Publish.Start", "Publishing.");
  } else if (strcmp(name, "deleteStream") == 0 || strcmp(name, "FCUnpublish") == 0 ||
             strcmp(name, "closeStream") == 0) {
    if (c->publishing) {
      c->ended = TRUE;
      return 1;
    }
  }
  return 0;
}

static int
on_message(HcRtmpConn *c, ChunkStream *cs, const char **why)
{
  const guint8 *d = cs->msg->data;
  gsize n = cs->msg->len;
  guint32 v;

  switch (cs->type) {
  case 1: /* set chunk size */
    if (n < 4)
      return (*why = "short Set Chunk Size", -1);
    v = be32(d) & 0x7fffffff;
    if (v < 1 || v > HC_RTMP_MAX_CHUNK_SIZE)
      return (*why = "chunk size out of range", -1);
    c->in_chunk_size = v;
    return 0;
  case 2: /* abort message */
    if (n >= 4)
      for (guint i = 0; i < c->n_cs; i++)
        if (c->cs[i].csid == be32(d)) {
          c->pending -= c->cs[i].msg->len;
          g_byte_array_set_size(c->cs[i].msg, 0);
        }
    return 0;
  case 5: /* window acknowledgement size */
    if (n >= 4)
      c->peer_window = be32(d);
    return 0;
  case 20: /* AMF0 command */
    return on_command(c, d, n, why);
  case HC_RTMP_MSG_AUDIO:
  case HC_RTMP_MSG_VIDEO:
  case HC_RTMP_MSG_DATA:
    if (c->publishing && n > 0)
      c->cb->media(cs->type, cs->timestamp, d, n, c->user);
    return 0;
  default: /* acknowledgements, user control, AMF3 and others: nothing to do */
    return 0;
  }
}

static ChunkStream *
chunk_stream(HcRtmpConn *c, guint32 csid)
{
  for (guint i = 0; i < c->n_cs; i++)
    if (c->cs[i].csid == csid)
      return &c->cs[i];
  if (c->n_cs == HC_RTMP_MAX_CHUNK_STREAMS)
    return NULL;
  c->cs[c->n_cs] = (ChunkStream){.csid = csid, .msg = g_byte_array_new()};
  return &c->cs[c->n_cs++];
}

/* Parses one chunk from p[0..n). Returns the bytes used, 0 if more bytes are
 * needed, -1 on a protocol error. */
static gssize
parse_chunk(HcRtmpConn *c, const guint8 *p, gsize n, const char **why, int *status)
{
  static const gsize header_size[4] = {11, 7, 3, 0};
  gsize off = 1, piece;
  guint32 csid = p[0] & 0x3f, field = 0;
  int fmt = p[0] >> 6;
  ChunkStream *cs;
  gboolean starts;

  if (csid == 0) {
    if (n < 2)
      return 0;
    csid = 64 + p[1];
    off = 2;
  } else if (csid == 1) {
    if (n < 3)
      return 0;
    csid = 64 + p[1] + ((guint32)p[2] << 8);
    off = 3;
  }
  if (n < off + header_size[fmt])
    return 0;
  cs = chunk_stream(c, csid);
  if (!cs)
    return (*why = "too many chunk streams", -1);
  starts = cs->msg->len == 0;
  if (fmt != 3 && !starts)
    return (*why = "a new message header in the middle of a message", -1);
  if (fmt != 0 && !cs->has_header)
    return (*why = "a chunk stream without a first full header", -1);
  if (fmt <= 2)
    field = be24(p + off);
  if (fmt <= 1) {
    cs->length = be24(p + off + 3);
    cs->type = p[off + 6];
  }
  if (fmt == 0)
    cs->stream_id = p[off + 7] | (guint32)p[off + 8] << 8 | (guint32)p[off + 9] << 16 |
                    (guint32)p[off + 10] << 24;
  off += header_size[fmt];
  if (fmt <= 2)
    cs->extended = field == 0xffffff;
  if (cs->extended) {
    if (n < off + 4)
      return 0;
    if (fmt <= 2)
      field = be32(p + off);
    off += 4;
  }
  if (cs->length > HC_RTMP_MAX_MESSAGE)
    return (*why = "message larger than the limit", -1);
  piece = MIN(c->in_chunk_size, cs->length - cs->msg->len);
  if (n < off + piece)
    return 0;
  if (c->pending + piece > HC_RTMP_MAX_PENDING)
    return (*why = "too much data in partial messages", -1);
  /* Timestamps apply when a message starts. */
  if (starts) {
    if (fmt == 0) {
      cs->timestamp = field;
      cs->delta = 0;
    } else {
      if (fmt != 3)
        cs->delta = field;
      cs->timestamp += cs->delta;
    }
    cs->has_header = TRUE;
  }
  g_byte_array_append(cs->msg, p + off, (guint)piece);
  c->pending += piece;
  off += piece;
  if (cs->msg->len == cs->length) {
    *status = on_message(c, cs, why);
    c->pending -= cs->msg->len;
    g_byte_array_set_size(cs->msg, 0);
  }
  return (gssize)off;
}

static void
send_handshake(HcRtmpConn *c, const guint8 *c1)
{
  guint8 *s = g_malloc0(1 + 2 * HANDSHAKE_SIZE);
  guint32 now = (guint32)(g_get_monotonic_time() / 1000);

  s[0] = 3;
  s[1] = now >> 24; /* S1: time, zero (version 0: no digest), random */
  s[2] = now >> 16;
  s[3] = now >> 8;
  s[4] = now;
  for (int i = 9; i < 1 + HANDSHAKE_SIZE; i++)
    s[i] = (guint8)g_random_int();
  memcpy(s + 1 + HANDSHAKE_SIZE, c1, HANDSHAKE_SIZE); /* S2 echoes C1 */
  c->cb->send(s, 1 + 2 * HANDSHAKE_SIZE, c->user);
  g_free(s);
}

int
hc_rtmp_conn_feed(HcRtmpConn *c, const guint8 *data, gsize len, const char **why)
{
  gsize used = 0;
  int status = 0;

  if (c->state == STATE_CLOSED)
    return (*why = "connection closed", -1);
  g_byte_array_append(c->in, data, (guint)len);
  c->received += len;
  while (status == 0) {
    const guint8 *p = c->in->data + used;
    gsize n = c->in->len - used;
    gssize k;

    if (c->state == STATE_C0C1) {
      if (n < 1 + HANDSHAKE_SIZE)
        break;
      if (p[0] != 3) {
        *why = "not RTMP version 3 (RTMPE and others are not supported)";
        status = -1;
        break;
      }
      send_handshake(c, p + 1);
      used += 1 + HANDSHAKE_SIZE;
      c->state = STATE_C2;
    } else if (c->state == STATE_C2) {
      if (n < HANDSHAKE_SIZE)
        break;
      used += HANDSHAKE_SIZE;
      c->state = STATE_CHUNKS;
    } else {
      if (n == 0)
        break;
      k = parse_chunk(c, p, n, why, &status);
      if (k < 0) {
        status = -1;
        break;
      }
      if (k == 0)
        break;
      used += (gsize)k;
    }
  }
  g_byte_array_remove_range(c->in, 0, (guint)used);
  if (status < 0) {
    c->state = STATE_CLOSED;
    return -1;
  }
  /* Acknowledge as the peer asked, so that it never waits for us. */
  if (c->peer_window && c->received - c->acked >= c->peer_window) {
    c->acked = c->received;
    send_control(c, 3, (guint32)c->received, 0);
  }
  return status;
}

HcRtmpConn *
hc_rtmp_conn_new(const HcRtmpCallbacks *cb, gpointer user)
{
  HcRtmpConn *c = g_new0(HcRtmpConn, 1);

  c->cb = cb;
  c->user = user;
  c->in = g_byte_array_new();
  c->in_chunk_size = 128;
  return c;
}

void
hc_rtmp_conn_free(HcRtmpConn *c)
{
  if (!c)
    return;
  for (guint i = 0; i < c->n_cs; i++)
    g_byte_array_unref(c->cs[i].msg);
  g_byte_array_unref(c->in);
  g_free(c);
}

gboolean
hc_rtmp_conn_publishing(HcRtmpConn *c)
{
  return c->publishing && !c->ended;
}
