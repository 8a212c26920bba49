/* The "hallcast-ws" lws protocol: one HcConn per connection, reassembly of
 * fragmented messages (bounded), rate buckets, dispatch through the message
 * table, and a bounded outgoing queue: a message is written at once when
 * nothing waits before it, otherwise from the WRITEABLE callback, one
 * lws_write() per callback. Registered in http/server.c protocols[]. */
#define G_LOG_DOMAIN "hc-interact"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "core/error.h"
#include "internal.h"

#define CLOSE_SLOW 1013 /* "try again later": reconnect with since */

G_STATIC_ASSERT(sizeof(HcConn) <= HC_INTERACT_CONN_SIZE);
G_STATIC_ASSERT(LWS_PRE >= 10); /* room for the longest frame header */

static GHashTable *site_conns; /* site -> guint count of authenticated connections */

HcWsMsg *
hc_ws_msg_new(const char *text, gsize len)
{
  HcWsMsg *m = g_malloc(sizeof *m + LWS_PRE + len);

  unsigned char *h;

  m->ref = 1;
  m->len = len;
  memcpy(m->data + LWS_PRE, text, len);
  /* RFC 6455 5.2: FIN + text, then the payload length in 7, 16 or 64 bits. */
  if (len < 126) {
    h = m->data + LWS_PRE - 2;
    h[1] = len;
  } else if (len < 65536) {
    h = m->data + LWS_PRE - 4;
    h[1] = 126;
    h[2] = len >> 8;
    h[3] = len;
  } else {
    h = m->data + LWS_PRE - 10;
    h[1] = 127;
    for (int i = 0; i < 8; i++)
      h[2 + i] = (guint64)len >> (56 - 8 * i);
  }
  h[0] = 0x81;
  m->frame = h;
  m->frame_len = m->data + LWS_PRE + len - h;
  return m;
}

HcWsMsg *
hc_ws_msg_from_json(json_t *obj)
{
  char *text = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(10));
  HcWsMsg *m = hc_ws_msg_new(text, strlen(text));

  free(text);
  return m;
}

void
hc_ws_msg_unref(HcWsMsg *m)
{
  if (m && g_atomic_int_dec_and_test(&m->ref))
    g_free(m);
}

/* Stops writing to c and closes it with code and reason once writeable. */
static void
conn_close(HcConn *c, int code, const char *reason)
{
  if (c->closing)
    return;
  c->closing = TRUE;
  c->close_code = code;
  g_strlcpy(c->close_reason, reason, sizeof c->close_reason);
  /* A client that reads nothing never becomes writeable: bound the wait. */
  lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 10);
  lws_callback_on_writable(c->wsi);
}

static void
queue_clear(HcConn *c)
{
  HcWsMsg *m;

  while ((m = g_queue_pop_head(&c->out)))
    hc_ws_msg_unref(m);
  c->out_bytes = 0;
}

/* One send() of m's frame to fd, from its first byte; the bytes the socket
 * took (0 when full), or -1 on an error that ends the connection. Touches
 * nothing but the socket: the sender thread calls it too (sender.c). */
ssize_t
hc_ws_frame_send(int fd, const HcWsMsg *m)
{
  ssize_t n = send(fd, m->frame, m->frame_len, MSG_DONTWAIT | MSG_NOSIGNAL);

  if (n >= 0)
    return n;
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
}

/* After sent bytes of m's frame went to the socket: hands lws the rest as
 * raw bytes (LWS_WRITE_HTTP: no framing, lws_issue_raw), which it sends
 * before anything else, calling WRITEABLE once it holds nothing (clearing
 * the flag). -1 when the connection failed. Main thread only. */
int
hc_ws_frame_rest(HcConn *c, HcWsMsg *m, ssize_t sent)
{
  if (sent < 0)
    return -1;
  if (sent == (ssize_t)m->frame_len)
    return 0;
  if (lws_write(c->wsi, m->frame + sent, m->frame_len - sent, LWS_WRITE_HTTP) < 0)
    return -1;
  c->lws_holding = lws_partial_buffered(c->wsi) != 0;
  return 0;
}

/* Writes m's frame at once; lws must hold nothing for c (its own frames
 * too, a pong say): the caller checked. The frame goes straight to the
 * socket (one system call: lws_write would build the same header again and
 * walk its own state for every client of a broadcast); lws gets only what
 * the socket did not take. With TLS (no fd) lws writes it all. */
static int
write_now(HcConn *c, HcWsMsg *m)
{
  return hc_ws_frame_rest(c, m, c->fd >= 0 ? hc_ws_frame_send(c->fd, m) : 0);
}

gboolean
hc_ws_direct(HcConn *c)
{
  return c->fd >= 0 && !c->close_sent && !c->closing && c->out.length == 0 && !c->lws_holding &&
         !lws_partial_buffered(c->wsi);
}

/* After hc_ws_frame_rest failed outside a callback: have lws close c. */
void
hc_ws_kill(HcConn *c)
{
  lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void
hc_ws_send(HcConn *c, HcWsMsg *m)
{
  /* Nothing more once lws's closing handshake has begun. */
  if (c->close_sent || (c->closing && c->close_code == CLOSE_SLOW))
    return;
  if (c->out.length == 0 && !c->closing && !c->lws_holding && !lws_partial_buffered(c->wsi)) {
    /* Nothing queued here nor held back by lws: write now. Asking for
     * WRITEABLE costs two epoll_ctl calls and a loop wakeup per message and
     * client, most of what a broadcast costs; lws keeps whatever the socket
     * does not take and sends it before the next WRITEABLE callback. (The
     * client has read everything before: whatever the size, not "slow".) */
    if (write_now(c, m) < 0) /* outside a callback: have lws close it */
      hc_ws_kill(c);
    return;
  }
  if (c->out_bytes + m->len > hc_interact_limits.max_queue) {
    g_info("%s: outgoing queue over %" G_GSIZE_FORMAT " bytes, closing", c->who.participant,
           hc_interact_limits.max_queue);
    queue_clear(c);
    c->closing = FALSE;
    conn_close(c, CLOSE_SLOW, "too slow: reconnect with since");
    return;
  }
  g_atomic_int_inc(&m->ref);
  g_queue_push_tail(&c->out, m);
  c->out_bytes += m->len;
  if (!c->rx_paused && c->out_bytes > hc_interact_limits.max_queue / 2) {
    /* A client that sends faster than it reads its answers: stop reading
     * from it (TCP backpressure) until its queue drains. */
    c->rx_paused = TRUE;
    lws_rx_flow_control(c->wsi, 0);
  }
  lws_callback_on_writable(c->wsi);
}

gboolean
hc_ws_idle(HcConn *c)
{
  if (c->closing)
    return FALSE;
  if (c->out.length == 0 && !c->lws_holding && !lws_partial_buffered(c->wsi))
    return TRUE;
  if (c->out.length == 0) /* lws may have written it since: WRITEABLE clears the flag */
    lws_callback_on_writable(c->wsi);
  return FALSE;
}

void
hc_ws_send_json(HcConn *c, json_t *obj)
{
  HcWsMsg *m = hc_ws_msg_from_json(obj);

  hc_ws_send(c, m);
  hc_ws_msg_unref(m);
  json_decref(obj);
}

gboolean
hc_conn_is_moderator(const HcConn *c)
{
  return c->who.role >= HC_ROLE_LECTURER;
}

static void
send_error(HcConn *c, json_t *id, const HcWsFault *f)
{
  json_t *err = json_pack("{s:s, s:s}", "code", hc_ws_error_name(f->code), "message", f->message);

  if (f->field)
    json_object_set_new(err, "field", json_string(f->field));
  if (f->code == HC_WS_RATE_LIMITED)
    json_object_set_new(err, "retry_after_ms", json_integer(f->retry_after_ms));
  hc_ws_send_json(c, json_pack("{s:s, s:O?, s:o}", "type", "error", "id", id, "error", err));
}

/* Takes a token from the bucket of class k; fills f if there is none. */
static gboolean
take_token(HcConn *c, int k, HcWsFault *f)
{
  const HcInteractLimits *l = &hc_interact_limits;
  gint64 now = g_get_monotonic_time();

  if (c->refilled_us[k] == 0)
    c->tokens[k] = l->burst[k];
  else
    c->tokens[k] = MIN(l->burst[k], c->tokens[k] + (now - c->refilled_us[k]) * l->rate[k] / 1e6);
  c->refilled_us[k] = now;
  if (c->tokens[k] >= 1) {
    c->tokens[k] -= 1;
    return TRUE;
  }
  hc_ws_fault(f, HC_WS_RATE_LIMITED, NULL, "too many messages of this kind; retry later");
  f->retry_after_ms = (gint64)((1 - c->tokens[k]) * 1000 / l->rate[k]) + 1;
  return FALSE;
}

/* Counts one site's authenticated connections; FALSE if over the limit. */
static gboolean
site_acquire(HcConn *c)
{
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(site_conns, c->who.site));

  if (n >= hc_interact_limits.max_site_conns)
    return FALSE;
  g_hash_table_insert(site_conns, g_strdup(c->who.site), GUINT_TO_POINTER(n + 1));
  c->authed = TRUE;
  return TRUE;
}

static void
site_release(HcConn *c)
{
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(site_conns, c->who.site));

  if (!c->authed)
    return;
  c->authed = FALSE;
  if (n <= 1)
    g_hash_table_remove(site_conns, c->who.site);
  else
    g_hash_table_insert(site_conns, g_strdup(c->who.site), GUINT_TO_POINTER(n - 1));
}

/* Authenticates c with token; on error fills f. */
static gboolean
authenticate(HcConn *c, const char *token, HcWsFault *f)
{
  GError *err = NULL;

  if (!hc_interact_token_check(token, &c->who, &err)) {
    hc_ws_fault(f, HC_WS_UNAUTHORIZED, "token", "%s", err->message);
    g_error_free(err);
    return FALSE;
  }
  if (!site_acquire(c)) {
    hc_ws_fault(f, HC_WS_LIMIT_REACHED, NULL, "too many connections for site %s", c->who.site);
    return FALSE;
  }
  return TRUE;
}

int
hc_ws_hello(HcConn *c, const HcMessage *m, json_t **result, HcWsFault *f)
{
  if (c->authed) {
    hc_ws_fault(f, HC_WS_INVALID_STATE, NULL, "already authenticated");
    return -1;
  }
  if (!authenticate(c, hc_msg_str(m, "token"), f))
    return -1;
  *result = json_pack("{s:s, s:s, s:s}", "role", hc_role_name(c->who.role), "site", c->who.site,
                      "name", c->who.name);
  return 0;
}

int
hc_ws_ping(HcConn *c, const HcMessage *m, json_t **result, HcWsFault *f)
{
  *result = json_pack("{s:I}", "time", (json_int_t)hc_now_ms());
  return 0;
}

int
hc_ws_join(HcConn *c, const HcMessage *m, json_t **result, HcWsFault *f)
{
  /* Lecturers and operators open a session by joining it; schools and
   * viewers join only one that exists (a mistyped name would otherwise
   * make an empty session nobody moderates). */
  HcSession *s = hc_session_get(hc_msg_str(m, "session"), hc_conn_is_moderator(c), f);
  gint64 since = hc_msg_int(m, "since", -1);
  guint replayed = 0;

  if (!s) {
    if (f->code == HC_WS_NOT_FOUND)
      hc_ws_fault(f, HC_WS_NOT_FOUND, "session",
                  "no such session: a lecturer or operator opens it by joining first");
    return -1;
  }
  if (c->session != s) {
    hc_session_detach(c);
    hc_session_attach(s, c);
  }
  if (since >= 0 && hc_session_replay(s, c, since, &replayed)) {
    *result = json_pack("{s:s, s:s, s:I, s:i}", "session", s->id, "mode", "replay", "seq",
                        (json_int_t)s->seq, "replayed", (int)replayed);
    return 0;
  }
  c->snapshot_behind = FALSE; /* this answer carries a fresh one */
  *result = json_pack("{s:s, s:s, s:I, s:o}", "session", s->id, "mode", "snapshot", "seq",
                      (json_int_t)s->seq, "state", hc_session_snapshot(s, c));
  return 0;
}

int
hc_ws_leave(HcConn *c, const HcMessage *m, json_t **result, HcWsFault *f)
{
  hc_session_detach(c);
  *result = json_object();
  return 0;
}

/* Counts an unreadable message; closes c past the threshold. */
static void
count_bad(HcConn *c)
{
  if (++c->bad > hc_interact_limits.max_bad)
    conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too many invalid messages");
}

static void
dispatch(HcConn *c, const char *data, gsize len)
{
  HcMessage m;
  HcWsFault f = {0};
  json_t *result = NULL;
  HcSession *s;
  const HcMessageSpec *spec;

  if (!hc_message_parse(data, len, &m, &f)) {
    if (f.code != HC_WS_INVALID_ARGUMENT)
      count_bad(c);
    goto fail;
  }
  spec = m.spec;
  if (!c->authed && spec->handler != hc_ws_hello && spec->handler != hc_ws_ping) {
    hc_ws_fault(&f, HC_WS_UNAUTHORIZED, NULL, "send hello with a token first");
    goto fail;
  }
  if (c->who.role < spec->min_role) {
    hc_ws_fault(&f, HC_WS_FORBIDDEN, NULL, "%s may not send %s", hc_role_name(c->who.role),
                spec->type);
    goto fail;
  }
  if (spec->needs_session && !c->session) {
    hc_ws_fault(&f, HC_WS_NOT_JOINED, NULL, "join a session first");
    goto fail;
  }
  if (!take_token(c, HC_RATE_MSG, &f) || (spec->rate >= 0 && !take_token(c, spec->rate, &f)))
    goto fail;
  s = spec->needs_session ? c->session : NULL;
  if (s && !hc_session_begin(s)) {
    hc_ws_fault(&f, HC_WS_INTERNAL, NULL, "the store is not available");
    goto fail;
  }
  if (spec->handler(c, &m, &result, &f) != 0) {
    if (s)
      hc_session_abort(s);
    goto fail;
  }
  if (s && !hc_session_commit(s)) {
    json_decref(result);
    hc_ws_fault(&f, HC_WS_INTERNAL, NULL, "the change could not be stored");
    goto fail;
  }
  hc_ws_send_json(c, json_pack("{s:s, s:O?, s:o}", "type", "ack", "id", m.id, "result",
                               result ? result : json_object()));
  hc_message_clear(&m);
  return;
fail:
  send_error(c, m.id, &f);
  hc_message_clear(&m);
}

static void
on_established(struct lws *wsi, HcConn *c)
{
  char buf[1100];
  const char *token;
  HcWsFault f = {0};

  c->wsi = wsi;
  c->fd = lws_is_ssl(wsi) ? -1 : lws_get_socket_fd(wsi);
  g_queue_init(&c->out);
  token = lws_get_urlarg_by_name(wsi, "token=", buf, sizeof buf);
  if (token && !authenticate(c, token, &f)) {
    send_error(c, NULL, &f);
    conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, hc_ws_error_name(f.code));
  }
}

/* Starts the closing handshake now: lws sends the close frame with code and
 * reason, then reads (and drops) what the client still sends until its close
 * answer, so the client reads the code rather than a reset. Not by returning
 * -1 from a callback: the libuv event library of Debian's lws closes such a
 * connection a second time at once ("uv repeat test"), without the frame. */
static void
close_now(struct lws *wsi, HcConn *c, int code, const char *reason)
{
  c->closing = TRUE;
  c->close_sent = TRUE;
  lws_close_reason(wsi, code, (unsigned char *)reason, strlen(reason));
  lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_SYNC);
}

static int
on_receive(struct lws *wsi, HcConn *c, const char *in, size_t len)
{
  gboolean final = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;

  if (c->closing)
    return 0;
  if (!c->rx)
    c->rx = g_byte_array_new();
  if (c->rx->len + len > hc_interact_limits.max_message) {
    char reason[64];
    g_snprintf(reason, sizeof reason, "message over %" G_GSIZE_FORMAT " bytes",
               hc_interact_limits.max_message);
    close_now(wsi, c, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, reason);
    return 0;
  }
  g_byte_array_append(c->rx, (const guint8 *)in, len);
  if (!final)
    return 0;
  if (lws_frame_is_binary(wsi)) {
    HcWsFault f;
    hc_ws_fault(&f, HC_WS_INVALID_MESSAGE, NULL, "messages are JSON text frames");
    send_error(c, NULL, &f);
    count_bad(c);
  } else {
    dispatch(c, (const char *)c->rx->data, c->rx->len);
  }
  g_byte_array_set_size(c->rx, 0);
  return 0;
}

static int
on_writeable(struct lws *wsi, HcConn *c)
{
  HcWsMsg *m = g_queue_pop_head(&c->out);

  c->lws_holding = FALSE;
  if (!m) {
    if (c->closing && !c->close_sent)
      close_now(wsi, c, c->close_code, c->close_reason);
    else if (c->snapshot_behind) /* caught up: the snapshot it is owed, built now */
      hc_session_send_snapshot(c);
    return 0;
  }
  c->out_bytes -= m->len;
  if (write_now(c, m) < 0) {
    hc_ws_msg_unref(m);
    return -1;
  }
  hc_ws_msg_unref(m);
  if (c->rx_paused && c->out_bytes < hc_interact_limits.max_queue / 4) {
    c->rx_paused = FALSE;
    lws_rx_flow_control(wsi, 1);
  }
  if (c->out.length || c->closing || c->snapshot_behind)
    lws_callback_on_writable(wsi);
  return 0;
}

int
hc_interact_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
  HcConn *c = user;

  switch (reason) {
  case LWS_CALLBACK_PROTOCOL_INIT:
    if (!site_conns)
      site_conns = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return 0;
  case LWS_CALLBACK_PROTOCOL_DESTROY:
    g_clear_pointer(&site_conns, g_hash_table_unref);
    return 0;
  case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
    char uri[64];
    /* This protocol lives at /ws (with or without a query) only. */
    if (lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) <= 0 || strcmp(uri, "/ws") != 0)
      return 1;
    return 0;
  }
  case LWS_CALLBACK_ESTABLISHED:
    on_established(wsi, c);
    return 0;
  case LWS_CALLBACK_RECEIVE:
    return on_receive(wsi, c, in, len);
  case LWS_CALLBACK_SERVER_WRITEABLE:
    return on_writeable(wsi, c);
  case LWS_CALLBACK_CLOSED:
    hc_session_detach(c);
    if (site_conns)
      site_release(c);
    queue_clear(c);
    if (c->rx)
      g_byte_array_unref(c->rx);
    c->rx = NULL;
    return 0;
  default:
    return 0;
  }
}
