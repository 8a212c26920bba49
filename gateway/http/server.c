/* The libwebsockets HTTP server on the GLib main loop: reads a request (and
 * its body, bounded), routes it, and writes the handler's response from the
 * WRITEABLE callback, one lws_write() per callback. Started by main.c. */
#define G_LOG_DOMAIN "hc-http"

#include <errno.h>
#include <libwebsockets.h>
#include <string.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include "core/error.h"
#include "front.h"
#include "http.h"
#include "interact/interact.h"
#include "uv-source.h"
#include "whep.h"
#include "whip.h"

/* Body bytes per lws_write: large enough that a 2 s segment takes a few. */
#define CHUNK 65536
/* Bodies up to this size go out in the same write as the headers. */
#define SMALL_BODY 16384

struct HcHttpResponse {
  int status;
  char *content_type;
  GString *headers; /* "name:\0value\0" pairs, in order */
  GBytes *body;
  int fd; /* >= 0: the body is this file's first file_size bytes */
  gsize file_size;
};

typedef struct {
  char method[8];
  char *path;
  GByteArray *body;
  gboolean body_too_large;
  HcHttpResponse *resp;
  gsize sent;
  gboolean headers_sent;
} Conn;

typedef struct {
  const char *method; /* NULL: any method */
  const char *prefix;
  gboolean exact;
  HcHttpHandler handler;
} Route;

/* Order matters: the first match wins. */
static const Route routes[] = {
  {"GET", "/healthz", TRUE, hc_api_healthz},
  {"GET", "/metrics", TRUE, hc_api_metrics},
  {NULL, "/api/v1/streams", FALSE, hc_api_streams},
  {NULL, "/whep/", FALSE, hc_whep},
  {NULL, "/whip/", FALSE, hc_whip},
  {NULL, "/api/v1/sessions/", FALSE, hc_api_interact},
  {"GET", "/hls/", FALSE, hc_static_hls},
  {"GET", "/", FALSE, hc_static_web},
};

static struct lws_context *context;
static struct lws_vhost *vhost;
static HcHttpConfig config;
/* lws runs on libuv (epoll), and libuv runs as one source of the main loop. */
static uv_loop_t uv_loop;
static GSource *uv_source;

static const struct {
  enum lws_token_indexes token;
  const char *name;
} methods[] = {
  {WSI_TOKEN_GET_URI, "GET"},       {WSI_TOKEN_POST_URI, "POST"},
  {WSI_TOKEN_PUT_URI, "PUT"},       {WSI_TOKEN_PATCH_URI, "PATCH"},
  {WSI_TOKEN_DELETE_URI, "DELETE"}, {WSI_TOKEN_OPTIONS_URI, "OPTIONS"},
  {WSI_TOKEN_HEAD_URI, "HEAD"},
};

static HcHttpResponse *
response_new(void)
{
  HcHttpResponse *r = g_new0(HcHttpResponse, 1);

  r->status = 200;
  r->headers = g_string_new(NULL);
  r->fd = -1;
  return r;
}

static void
response_free(HcHttpResponse *r)
{
  if (!r)
    return;
  g_free(r->content_type);
  g_string_free(r->headers, TRUE);
  if (r->body)
    g_bytes_unref(r->body);
  if (r->fd >= 0)
    close(r->fd);
  g_free(r);
}

static void
conn_reset(Conn *c)
{
  g_clear_pointer(&c->path, g_free);
  if (c->body)
    g_byte_array_unref(c->body);
  c->body = NULL;
  c->body_too_large = FALSE;
  g_clear_pointer(&c->resp, response_free);
  c->sent = 0;
  c->headers_sent = FALSE;
  c->method[0] = '\0';
}

void
hc_http_set_status(HcHttpResponse *resp, int status)
{
  resp->status = status;
}

void
hc_http_add_header(HcHttpResponse *resp, const char *name, const char *value)
{
  g_string_append_printf(resp->headers, "%s:", name);
  g_string_append_len(resp->headers, "", 1);
  g_string_append(resp->headers, value);
  g_string_append_len(resp->headers, "", 1);
}

void
hc_http_set_body(HcHttpResponse *resp, int status, const char *content_type, const char *body,
                 gsize len)
{
  resp->status = status;
  g_free(resp->content_type);
  resp->content_type = g_strdup(content_type);
  if (resp->body)
    g_bytes_unref(resp->body);
  resp->body = g_bytes_new(body, len);
}

void
hc_http_set_json(HcHttpResponse *resp, int status, json_t *obj)
{
  char *text = json_dumps(obj, JSON_COMPACT);

  hc_http_set_body(resp, status, "application/json", text, strlen(text));
  hc_http_add_header(resp, "cache-control", "no-store");
  free(text);
  json_decref(obj);
}

void
hc_http_set_error(HcHttpResponse *resp, int code, const char *field, const char *fmt, ...)
{
  va_list ap;
  char *msg;
  json_t *err;

  va_start(ap, fmt);
  msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  err = json_pack("{s:s, s:s}", "code", hc_error_name(code), "message", msg);
  if (field)
    json_object_set_new(err, "field", json_string(field));
  hc_http_set_json(resp, hc_error_http_status(code), json_pack("{s:o}", "error", err));
  g_free(msg);
}

void
hc_http_set_file(HcHttpResponse *resp, int fd, gsize size, const char *content_type,
                 const char *cache_control)
{
  resp->status = 200;
  if (resp->fd >= 0)
    close(resp->fd);
  resp->fd = fd;
  resp->file_size = size;
  g_free(resp->content_type);
  resp->content_type = g_strdup(content_type);
  hc_http_add_header(resp, "cache-control", cache_control);
}

char *
hc_http_header(const HcHttpRequest *req, const char *name)
{
  char lname[64];
  int len;
  char *v;

  g_snprintf(lname, sizeof lname, "%s:", name);
  for (char *p = lname; *p; p++)
    *p = g_ascii_tolower(*p);
  len = lws_hdr_custom_length(req->wsi, lname, (int)strlen(lname));
  if (len < 0) {
    /* Well-known headers are not "custom" to lws: look them up by token. */
    const unsigned char *tname;
    for (int t = 0; (tname = lws_token_to_string(t)); t++) {
      if (g_ascii_strcasecmp((const char *)tname, lname) == 0) {
        len = lws_hdr_total_length(req->wsi, t);
        if (len <= 0)
          return NULL;
        v = g_malloc(len + 1);
        if (lws_hdr_copy(req->wsi, v, len + 1, t) < 0) {
          g_free(v);
          return NULL;
        }
        return v;
      }
    }
    return NULL;
  }
  v = g_malloc(len + 1);
  if (lws_hdr_custom_copy(req->wsi, v, len + 1, lname, (int)strlen(lname)) < 0) {
    g_free(v);
    return NULL;
  }
  return v;
}

/* Reads the method and path of the request into c; FALSE if unknown. */
static gboolean
read_request_line(struct lws *wsi, Conn *c)
{
  for (guint i = 0; i < G_N_ELEMENTS(methods); i++) {
    int len = lws_hdr_total_length(wsi, methods[i].token);
    if (len > 0) {
      c->path = g_malloc(len + 1);
      if (lws_hdr_copy(wsi, c->path, len + 1, methods[i].token) < 0)
        return FALSE;
      g_strlcpy(c->method, methods[i].name, sizeof c->method);
      return TRUE;
    }
  }
  return FALSE;
}

static void
add_cors(HcHttpResponse *resp)
{
  hc_http_add_header(resp, "access-control-allow-origin", "*");
  hc_http_add_header(resp, "access-control-expose-headers", HC_HTTP_CORS_EXPOSE);
}

static void
route(struct lws *wsi, Conn *c)
{
  HcHttpRequest req = {c->method, c->path, NULL, NULL, wsi};

  c->resp = response_new();
  add_cors(c->resp);
  if (c->body_too_large) {
    hc_http_set_error(c->resp, HC_ETOOLARGE, NULL, "request body over %" G_GSIZE_FORMAT " bytes",
                      config.max_body);
    return;
  }
  if (strcmp(c->method, "OPTIONS") == 0) {
    /* CORS preflight: any route may be called from a browser page elsewhere. */
    hc_http_set_body(c->resp, 204, "text/plain", "", 0);
    hc_http_add_header(c->resp, "access-control-allow-methods",
                       "GET, POST, PATCH, DELETE, OPTIONS");
    hc_http_add_header(c->resp, "access-control-allow-headers",
                       "Authorization, Content-Type, If-Match");
    hc_http_add_header(c->resp, "access-control-max-age", "600");
    return;
  }
  req.body = c->body ? g_bytes_new(c->body->data, c->body->len) : g_bytes_new(NULL, 0);
  for (guint i = 0; i < G_N_ELEMENTS(routes); i++) {
    const Route *r = &routes[i];
    size_t n = strlen(r->prefix);

    if (r->exact ? strcmp(c->path, r->prefix) != 0 : strncmp(c->path, r->prefix, n) != 0)
      continue;
    if (r->method && strcmp(r->method, c->method) != 0) {
      hc_http_set_error(c->resp, HC_EMETHOD, NULL, "%s is not allowed on %s", c->method, c->path);
      break;
    }
    req.tail = c->path + n;
    r->handler(&req, c->resp);
    break;
  }
  g_bytes_unref(req.body);
}

/* Appends the handler's extra headers to an lws header buffer. */
static int
add_headers(struct lws *wsi, const HcHttpResponse *r, unsigned char **p, unsigned char *end)
{
  for (gsize off = 0; off < r->headers->len;) {
    const char *name = r->headers->str + off;
    const char *value = name + strlen(name) + 1;
    if (lws_add_http_header_by_name(wsi, (const unsigned char *)name, (const unsigned char *)value,
                                    (int)strlen(value), p, end))
      return -1;
    off = (value - r->headers->str) + strlen(value) + 1;
  }
  return 0;
}

static gsize
body_length(const HcHttpResponse *r)
{
  if (r->fd >= 0)
    return r->file_size;
  return r->body ? g_bytes_get_size(r->body) : 0;
}

/* Plain HTTP/1 (lws speaks HTTP/2 only over TLS): the socket carries the
 * response bytes as they are, so small bodies may share the headers' write
 * and file bodies may go out with sendfile(). */
static gboolean
plain_h1(struct lws *wsi)
{
  return !lws_is_ssl(wsi);
}

/* Copies len bytes of the body from offset into dst; FALSE if a file shrank. */
static gboolean
copy_body(const HcHttpResponse *r, gsize offset, gsize len, guint8 *dst)
{
  if (r->fd >= 0)
    return pread(r->fd, dst, len, (off_t)offset) == (ssize_t)len;
  memcpy(dst, (const guint8 *)g_bytes_get_data(r->body, NULL) + offset, len);
  return TRUE;
}

/* Writes the headers, and the whole body with them when it is small on plain
 * HTTP/1. Returns -1 to close, else 0; sets c->sent to the body bytes written. */
static int
write_headers(struct lws *wsi, Conn *c)
{
  HcHttpResponse *r = c->resp;
  gsize body_len = body_length(r);
  unsigned char buf[LWS_PRE + 4096 + SMALL_BODY], *start = buf + LWS_PRE, *p = start;
  unsigned char *end = buf + LWS_PRE + 4096;

  if (lws_add_http_common_headers(wsi, r->status, r->content_type ? r->content_type : "text/plain",
                                  body_len, &p, end))
    return -1;
  if (add_headers(wsi, r, &p, end))
    return -1;
  if (lws_finalize_http_header(wsi, &p, end))
    return -1;
  if (body_len > 0 && body_len <= SMALL_BODY && plain_h1(wsi)) {
    if (!copy_body(r, 0, body_len, p))
      return -1;
    p += body_len;
    c->sent = body_len;
  }
  if (lws_write(wsi, start, p - start, LWS_WRITE_HTTP_HEADERS) != p - start)
    return -1;
  c->headers_sent = TRUE;
  return 0;
}

/* One write per WRITEABLE: headers (with a small body), then body chunks,
 * from memory, read from the file, or sent from the file by the kernel.
 * Returns -1 to close the connection. */
static int
on_writeable(struct lws *wsi, Conn *c)
{
  HcHttpResponse *r = c->resp;
  unsigned char buf[LWS_PRE + CHUNK];
  gsize len, n;
  gboolean last;

  if (!r)
    return 0;
  len = body_length(r);
  if (!c->headers_sent) {
    if (write_headers(wsi, c))
      return -1;
  } else if (r->fd >= 0 && plain_h1(wsi)) {
    off_t off = (off_t)c->sent;
    ssize_t sent = sendfile(lws_get_socket_fd(wsi), r->fd, &off, len - c->sent);

    if (sent < 0 && errno != EAGAIN && errno != EINTR)
      return -1;
    if (sent == 0)
      return -1; /* the file shrank (an HLS segment deleted): the length cannot be met */
    if (sent > 0)
      c->sent += (gsize)sent;
  } else {
    n = MIN(len - c->sent, CHUNK);
    if (!copy_body(r, c->sent, n, buf + LWS_PRE))
      return -1; /* the file shrank: the length announced cannot be met */
    last = c->sent + n == len;
    if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
      return -1;
    c->sent += n;
  }
  if (c->sent < len) {
    lws_callback_on_writable(wsi);
    return 0;
  }
  return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Routes the request and writes the response's first part at once: a small
 * response (most: playlists, API answers) is then done without asking for
 * WRITEABLE, which costs two epoll_ctl calls and a loop iteration per request.
 * lws keeps what the socket does not take and sends it before anything else. */
static int
dispatch(struct lws *wsi, Conn *c)
{
  route(wsi, c);
  return on_writeable(wsi, c);
}

static int
callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
  Conn *c = user;

  switch (reason) {
  case LWS_CALLBACK_HTTP: {
    char cl[32];
    gint64 content_length = 0;

    conn_reset(c);
    if (!read_request_line(wsi, c)) {
      lws_return_http_status(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, NULL);
      return -1;
    }
    if (lws_hdr_copy(wsi, cl, sizeof cl, WSI_TOKEN_HTTP_CONTENT_LENGTH) > 0)
      content_length = g_ascii_strtoll(cl, NULL, 10);
    if (content_length > 0 || lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0) {
      /* Wait for LWS_CALLBACK_HTTP_BODY_COMPLETION. */
      c->body = g_byte_array_new();
      c->body_too_large = content_length > (gint64)config.max_body;
      return 0;
    }
    return dispatch(wsi, c);
  }
  case LWS_CALLBACK_HTTP_BODY:
    if (c->body && !c->body_too_large) {
      if (c->body->len + len > config.max_body)
        c->body_too_large = TRUE;
      else
        g_byte_array_append(c->body, in, len);
    }
    return 0;
  case LWS_CALLBACK_HTTP_BODY_COMPLETION:
    return dispatch(wsi, c);
  case LWS_CALLBACK_HTTP_WRITEABLE:
    return on_writeable(wsi, c);
  case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
  case LWS_CALLBACK_CLOSED_HTTP:
    /* A connection closed before its first request has no per-session data. */
    if (c)
      conn_reset(c);
    return 0;
  default:
    return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

static struct lws_protocols protocols[] = {
  {"http", callback_http, sizeof(Conn), 0, 0, NULL, 0},
  /* /ws (see ws_pvo); rx buffer: fragments of larger messages are joined, bounded. */
  {HC_INTERACT_PROTOCOL, hc_interact_ws_callback, HC_INTERACT_CONN_SIZE, 4096, 0, NULL, 0},
  {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* WebSocket clients that name no Sec-WebSocket-Protocol get the vhost's
 * "default" protocol: the interaction protocol, which accepts only /ws. */
static const struct lws_protocol_vhost_options ws_default = {NULL, NULL, "default", ""};
static const struct lws_protocol_vhost_options ws_pvo = {NULL, &ws_default, HC_INTERACT_PROTOCOL,
                                                         ""};

static void
lws_log_to_glib(int level, const char *line)
{
  char *l = g_strchomp(g_strdup(line));

  /* lws 4.1 logs every adoption with read bytes (each connection the front
   * door hands over) at error level; it is not one. */
  if ((level & LLL_ERR) && !strstr(l, "adopt_socket_readbuf:"))
    g_warning("lws: %s", l);
  else
    g_debug("lws: %s", l);
  g_free(l);
}

static const lws_retry_bo_t no_validity = {.secs_since_valid_ping = 0,
                                           .secs_since_valid_hangup = 0};

/* A connection the front door (front.c) does not serve: lws takes it over,
 * with the request bytes already read, as if it had accepted it itself. */
static void
adopt(int fd, const char *bytes, gsize len)
{
  if (!vhost) {
    close(fd);
    return;
  }
  /* On failure lws closes fd itself. */
  lws_adopt_socket_vhost_readbuf(vhost, fd, bytes, len);
}

gboolean
hc_http_start(const HcHttpConfig *cfg, GError **error)
{
  struct lws_context_creation_info info;
  void *foreign_loops[1] = {&uv_loop};

  config = *cfg;
  hc_static_init(cfg->web_root, cfg->hls_root);
  lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_glib);
  memset(&info, 0, sizeof info);
  /* The front door owns the listening socket and hands lws its connections. */
  info.port = CONTEXT_PORT_NO_LISTEN_SERVER;
  info.protocols = protocols;
  info.pvo = &ws_pvo;
  /* The vhost (the listening socket) is made apart from the context: with
   * libuv, a context whose default vhost cannot bind is still returned. */
  info.options =
    LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_EXPLICIT_VHOSTS;
  info.foreign_loops = foreign_loops;
  info.vhost_name = "hallcast";
  info.max_http_header_data = 8192;
  info.timeout_secs = (unsigned int)cfg->idle_timeout;
  /* No lws validity (WebSocket ping) timer per connection: lws keeps its
   * timers in one sorted list and inserts at the far end by walking it, so
   * 10,000 connections each scheduled 300 s ahead made every join walk the
   * others (a third of the gateway's time at 10,000 clients). A dead peer is
   * found by the kernel instead: the front door (front.c), which accepts
   * every connection, turns on TCP keepalive and TCP_USER_TIMEOUT. */
  info.retry_and_idle_policy = &no_validity;
  uv_loop_init(&uv_loop);
  uv_source = hc_uv_source_new(&uv_loop);
  g_source_attach(uv_source, NULL);
  context = lws_create_context(&info);
  vhost = context ? lws_create_vhost(context, &info) : NULL;
  if (!vhost) {
    hc_http_stop();
    g_set_error(error, HC_ERROR, HC_EINTERNAL, "cannot start the HTTP server");
    return FALSE;
  }
  /* lws 4.1 initialises protocols, and with them the "default" option that
   * sends WebSocket clients without a subprotocol to /ws, from the event loop:
   * a client accepted before that lands on "http". Do it now. */
  lws_protocol_init(context);
  if (!hc_front_start(cfg->address, cfg->port, cfg->idle_timeout, adopt, error)) {
    hc_http_stop();
    return FALSE;
  }
  g_info("listening for HTTP on %s:%d", cfg->address, cfg->port);
  return TRUE;
}

void
hc_http_stop(void)
{
  hc_front_stop();
  vhost = NULL;
  if (context) {
    lws_context_destroy(context);
    context = NULL;
  }
  if (uv_source) {
    g_source_destroy(uv_source);
    g_source_unref(uv_source);
    uv_source = NULL;
    /* lws closes its libuv handles asynchronously: let them finish. */
    hc_uv_drain(&uv_loop, G_USEC_PER_SEC);
    if (uv_loop_close(&uv_loop) != 0)
      g_warning("libuv loop still had handles at exit");
  }
}
