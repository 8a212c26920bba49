/* The RTMP listener (GIO sockets on the main loop) for src-rtmp: one
 * connection per publisher, parsed by rtmp-proto.c, routed by stream key to
 * the appsrc of the stream that owns the key. Published audio, video and
 * metadata become FLV tags whose timestamps continue the pipeline's running
 * time, so a new publisher session continues the stream's timeline. */
#define G_LOG_DOMAIN "hc-src-rtmp"

#include "rtmp-server.h"

#include <gio/gio.h>
#include <string.h>

#include "rtmp-proto.h"

#define READ_SIZE 65536
#define READS_PER_WAKEUP 8
#define MAX_OUT (1024 * 1024)
#define PUBLISH_TIMEOUT_S 10

typedef struct Conn Conn;

typedef struct {
  char *key, *stream;
  GstElement *bin;    /* not a reference: cleared when the bin is finalised */
  GstElement *appsrc; /* inside bin */
  Conn *publisher;
  gboolean orphan; /* no longer in the registry (replaced) */
} Route;

struct Conn {
  GSocketConnection *conn;
  GSocket *sock;
  GSource *in_src, *out_src;
  GByteArray *out;
  HcRtmpConn *proto;
  Route *route;
  guint timeout_id;
  gboolean header_sent, have_base;
  guint8 flags; /* FLV header: 4 audio, 1 video; 0 until metadata says */
  guint32 first_ts;
  guint64 base_ms;
  char peer[64];
};

static GSocketService *service;
static GHashTable *routes; /* key -> Route* */
static GHashTable *claims; /* key -> stream name (both owned), outlives the listener */
static GList *conns;
static char *app_name;
static guint max_conns;

static void conn_close(Conn *c, const char *why);

static void
flush_out(Conn *c)
{
  GError *err = NULL;
  gssize n;

  while (c->out->len) {
    n = g_socket_send(c->sock, (const char *)c->out->data, c->out->len, NULL, &err);
    if (n <= 0)
      break;
    g_byte_array_remove_range(c->out, 0, (guint)n);
  }
  g_clear_error(&err);
}

static gboolean
on_writable(GSocket *sock, GIOCondition cond, gpointer data)
{
  Conn *c = data;

  flush_out(c);
  if (c->out->len)
    return G_SOURCE_CONTINUE;
  g_source_unref(c->out_src);
  c->out_src = NULL;
  return G_SOURCE_REMOVE;
}

static void
proto_send(const guint8 *data, gsize len, gpointer user)
{
  Conn *c = user;

  if (c->out->len + len > MAX_OUT)
    return; /* a peer that never reads; it is closed by its timeout or stream */
  g_byte_array_append(c->out, data, (guint)len);
  flush_out(c);
  if (c->out->len && !c->out_src) {
    c->out_src = g_socket_create_source(c->sock, G_IO_OUT, NULL);
    g_source_set_callback(c->out_src, (GSourceFunc)(void (*)(void))on_writable, c, NULL);
    g_source_attach(c->out_src, NULL);
  }
}

static const char *
proto_publish(const char *app, const char *key, gpointer user)
{
  Conn *c = user;
  Route *r = g_hash_table_lookup(routes, key);

  if (strcmp(app, app_name) != 0)
    return "unknown application: publish to rtmp://HOST:PORT/APP/KEY";
  if (!r)
    return "no stream has this stream key";
  if (r->publisher)
    return "the stream key is in use by another publisher";
  if (!r->appsrc || GST_STATE(r->appsrc) < GST_STATE_PAUSED)
    return "the stream is not ready, try again";
  r->publisher = c;
  c->route = r;
  if (c->timeout_id) {
    g_source_remove(c->timeout_id);
    c->timeout_id = 0;
  }
  g_info("stream %s: RTMP publisher %s", r->stream, c->peer);
  return NULL;
}

/* Running time of the appsrc in milliseconds, 0 if it has no clock yet. */
static guint64
running_ms(GstElement *e)
{
  GstClockTime t = gst_element_get_current_running_time(e);
  return GST_CLOCK_TIME_IS_VALID(t) ? t / GST_MSECOND : 0;
}

static void
push(Conn *c, GstBuffer *buf)
{
  GstFlowReturn ret = GST_FLOW_OK;

  g_signal_emit_by_name(c->route->appsrc, "push-buffer", buf, &ret);
  gst_buffer_unref(buf);
}

/* One RTMP media message becomes one FLV tag (with the FLV header first). */
static void
proto_media(guint8 type, guint32 ts, const guint8 *data, gsize len, gpointer user)
{
  Conn *c = user;
  Route *r = c->route;
  gboolean audio, video;
  guint32 out_ts;
  guint8 *p;
  GstBuffer *buf;

  if (!r || !r->appsrc)
    return;
  if (type == HC_RTMP_MSG_DATA) {
    if (!c->header_sent && hc_rtmp_metadata_tracks(data, len, &audio, &video))
      c->flags = (audio ? 4 : 0) | (video ? 1 : 0);
    /* FLV script tags carry onMetaData without RTMP's @setDataFrame. */
    if (len > 16 && memcmp(data, "\x02\x00\x0d@setDataFrame", 16) == 0) {
      data += 16;
      len -= 16;
    }
  }
  if (!c->header_sent) {
    static const guint8 prev0[4] = {0, 0, 0, 0};
    guint8 header[9] = {'F', 'L', 'V', 1, c->flags ? c->flags : 5, 0, 0, 0, 9};
    GByteArray *h = g_byte_array_new();

    /* src-rtmp.c tells the stream its tracks are complete from these flags. */
    g_object_set_data(G_OBJECT(r->bin), "hc-rtmp-tracks", GINT_TO_POINTER(header[4]));
    g_byte_array_append(h, header, 9);
    g_byte_array_append(h, prev0, 4);
    push(c, gst_buffer_new_wrapped(h->data, h->len));
    g_byte_array_free(h, FALSE);
    c->header_sent = TRUE;
  }
  if (!c->have_base) {
    c->first_ts = ts;
    c->base_ms = running_ms(r->appsrc);
    c->have_base = TRUE;
  }
  out_ts = (guint32)(c->base_ms + (guint32)(ts - c->first_ts));
  p = g_malloc(11 + len + 4);
  p[0] = type;
  p[1] = len >> 16;
  p[2] = len >> 8;
  p[3] = len;
  p[4] = out_ts >> 16;
  p[5] = out_ts >> 8;
  p[6] = out_ts;
  p[7] = out_ts >> 24;
  p[8] = p[9] = p[10] = 0;
  memcpy(p + 11, data, len);
  p[11 + len] = (11 + len) >> 24;
  p[12 + len] = (11 + len) >> 16;
  p[13 + len] = (11 + len) >> 8;
  p[14 + len] = 11 + len;
  buf = gst_buffer_new_wrapped(p, 11 + len + 4);
  push(c, buf);
}

static const HcRtmpCallbacks proto_callbacks = {proto_send, proto_publish, proto_media};

static void
conn_close(Conn *c, const char *why)
{
  Route *r = c->route;

  if (r && r->publisher == c) {
    r->publisher = NULL;
    g_info("stream %s: RTMP publisher %s left: %s", r->stream, c->peer, why);
    /* The end of the publish ends the source; the stream waits for the next one. */
    if (r->appsrc && c->header_sent) {
      GstFlowReturn ret;
      g_signal_emit_by_name(r->appsrc, "end-of-stream", &ret);
    }
  } else {
    /* Refusals (wrong key, garbage) are worth an operator's look. */
    g_warning("RTMP connection from %s closed: %s", c->peer, why);
  }
  flush_out(c);
  conns = g_list_remove(conns, c);
  if (c->timeout_id)
    g_source_remove(c->timeout_id);
  if (c->in_src) {
    g_source_destroy(c->in_src);
    g_source_unref(c->in_src);
  }
  if (c->out_src) {
    g_source_destroy(c->out_src);
    g_source_unref(c->out_src);
  }
  g_io_stream_close(G_IO_STREAM(c->conn), NULL, NULL);
  g_object_unref(c->conn);
  hc_rtmp_conn_free(c->proto);
  g_byte_array_unref(c->out);
  g_free(c);
}

static gboolean
on_readable(GSocket *sock, GIOCondition cond, gpointer data)
{
  Conn *c = data;
  guint8 buf[READ_SIZE];
  const char *why = NULL;

  for (int i = 0; i < READS_PER_WAKEUP; i++) {
    GError *err = NULL;
    gssize n = g_socket_receive(sock, (char *)buf, sizeof buf, NULL, &err);
    int rc;

    if (n < 0 && g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_error_free(err);
      return G_SOURCE_CONTINUE;
    }
    g_clear_error(&err);
    if (n <= 0) {
      conn_close(c, "connection closed by the peer");
      return G_SOURCE_REMOVE;
    }
    rc = hc_rtmp_conn_feed(c->proto, buf, (gsize)n, &why);
    if (rc != 0) {
      conn_close(c, rc > 0 ? "the publisher ended the stream" : why);
      return G_SOURCE_REMOVE;
    }
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_publish_timeout(gpointer data)
{
  Conn *c = data;

  c->timeout_id = 0;
  conn_close(c, "no publish within the time allowed");
  return G_SOURCE_REMOVE;
}

static gboolean
on_incoming(GSocketService *svc, GSocketConnection *conn, GObject *source, gpointer data)
{
  Conn *c;
  GSocketAddress *addr = g_socket_connection_get_remote_address(conn, NULL);

  c = g_new0(Conn, 1);
  c->conn = g_object_ref(conn);
  c->sock = g_socket_connection_get_socket(conn);
  c->out = g_byte_array_new();
  c->proto = hc_rtmp_conn_new(&proto_callbacks, c);
  if (addr) {
    char *ip =
      g_inet_address_to_string(g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(addr)));
    g_snprintf(c->peer, sizeof c->peer, "%s:%u", ip,
               g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(addr)));
    g_free(ip);
    g_object_unref(addr);
  }
  conns = g_list_prepend(conns, c);
  if (g_list_length(conns) > max_conns) {
    conn_close(c, "too many RTMP connections");
    return TRUE;
  }
  g_socket_set_blocking(c->sock, FALSE);
  c->in_src = g_socket_create_source(c->sock, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback(c->in_src, (GSourceFunc)(void (*)(void))on_readable, c, NULL);
  g_source_attach(c->in_src, NULL);
  c->timeout_id = g_timeout_add_seconds(PUBLISH_TIMEOUT_S, on_publish_timeout, c);
  return TRUE;
}

gboolean
hc_rtmp_server_start(const HcRtmpServerConfig *cfg, GError **error)
{
  GInetAddress *ia;
  GSocketAddress *sa;
  gboolean ok;

  if (service)
    return TRUE;
  ia = g_inet_address_new_from_string(cfg->address);
  if (!ia) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                "[rtmp] address: expected an IP address, got '%s'", cfg->address);
    return FALSE;
  }
  sa = g_inet_socket_address_new(ia, (guint16)cfg->port);
  service = g_socket_service_new();
  ok = g_socket_listener_add_address(G_SOCKET_LISTENER(service), sa, G_SOCKET_TYPE_STREAM,
                                     G_SOCKET_PROTOCOL_TCP, NULL, NULL, error);
  g_object_unref(sa);
  g_object_unref(ia);
  if (!ok) {
    g_prefix_error(error, "RTMP cannot listen on %s:%u: ", cfg->address, cfg->port);
    g_clear_object(&service);
    return FALSE;
  }
  if (!routes)
    routes = g_hash_table_new(g_str_hash, g_str_equal);
  app_name = g_strdup(cfg->app);
  max_conns = cfg->max_conns;
  g_signal_connect(service, "incoming", G_CALLBACK(on_incoming), NULL);
  g_socket_service_start(service);
  g_info("RTMP listening on %s:%u (rtmp://HOST:%u/%s/KEY)", cfg->address, cfg->port, cfg->port,
         cfg->app);
  return TRUE;
}

static void
route_free(Route *r)
{
  g_free(r->key);
  g_free(r->stream);
  g_free(r);
}

/* Leaves the registry and closes the publisher; freed when its bin goes. */
static void
route_orphan(Route *r)
{
  if (r->orphan)
    return;
  r->orphan = TRUE;
  g_hash_table_remove(routes, r->key);
  if (r->publisher) {
    Conn *c = r->publisher;
    c->route = NULL;
    r->publisher = NULL;
    conn_close(c, "the stream's source was made again");
  }
}

static void
on_bin_gone(gpointer data, GObject *bin)
{
  Route *r = data;

  r->bin = r->appsrc = NULL;
  route_orphan(r);
  route_free(r);
}

gboolean
hc_rtmp_server_route(const char *key, const char *stream, GstElement *bin, GstElement *appsrc,
                     GError **error)
{
  Route *old = g_hash_table_lookup(routes, key), *r;

  if (old && strcmp(old->stream, stream) != 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "key is already the stream key of stream %s",
                old->stream);
    return FALSE;
  }
  if (old)
    route_orphan(old);
  r = g_new0(Route, 1);
  r->key = g_strdup(key);
  r->stream = g_strdup(stream);
  r->bin = bin;
  r->appsrc = appsrc;
  g_object_weak_ref(G_OBJECT(bin), on_bin_gone, r);
  g_hash_table_insert(routes, r->key, r);
  return TRUE;
}

gboolean
hc_rtmp_server_claim(const char *key, const char *stream, GError **error)
{
  const char *owner;

  if (!claims)
    claims = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  owner = g_hash_table_lookup(claims, key);
  if (owner && strcmp(owner, stream) != 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "key is already the stream key of stream %s",
                owner);
    return FALSE;
  }
  if (!owner)
    g_hash_table_insert(claims, g_strdup(key), g_strdup(stream));
  return TRUE;
}

static gboolean
claimed_by(gpointer key, gpointer value, gpointer stream)
{
  return strcmp(value, stream) == 0;
}

void
hc_rtmp_server_release(const char *stream)
{
  if (claims)
    g_hash_table_foreach_remove(claims, claimed_by, (gpointer)stream);
}

void
hc_rtmp_server_stop(void)
{
  while (conns)
    conn_close(conns->data, "the gateway stops");
  if (service) {
    g_socket_service_stop(service);
    g_socket_listener_close(G_SOCKET_LISTENER(service));
    g_clear_object(&service);
  }
  g_clear_pointer(&app_name, g_free);
  g_clear_pointer(&claims, g_hash_table_unref);
}
