/* One WebSocket client of hallcast's /ws: a non-blocking TCP connect, the
 * HTTP upgrade, session.join, then reading events. Each qa.asked event is
 * stamped (CLOCK_MONOTONIC) as soon as its bytes are read and matched to its
 * question by text ("wsload q K"), so latency = that stamp minus the time
 * the asker wrote question K, both in this process. Driven by main.c's
 * epoll loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wsload.h"

#define SUBPROTOCOL "hallcast-ws"
#define MAX_MESSAGE (1 << 20)
#define READ_CHUNK (256 * 1024)
#define QUESTION_TAG "\"text\":\"wsload q "

static void
fail(HcWslRun *run, HcWslClient *c, const char *what, const char *detail)
{
  if (c->state == HC_WSL_CLOSED)
    return;
  g_snprintf(run->last_error, sizeof run->last_error, "client %d: %s%s%s", c->index, what,
             detail ? ": " : "", detail ? detail : "");
  run->errors++;
  run->closed++;
  c->state = HC_WSL_CLOSED;
  epoll_ctl(run->epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->fd = -1;
}

static void
want_write(HcWslRun *run, HcWslClient *c, gboolean on)
{
  struct epoll_event ev = {.events = EPOLLIN | EPOLLET | (on ? EPOLLOUT : 0), .data.ptr = c};

  epoll_ctl(run->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes what is queued; FALSE when the connection failed. */
static gboolean
flush(HcWslRun *run, HcWslClient *c)
{
  while (c->tx->len > 0) {
    ssize_t n = send(c->fd, c->tx->data, c->tx->len, MSG_NOSIGNAL);

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN) {
      want_write(run, c, TRUE);
      return TRUE;
    }
    if (n <= 0) {
      fail(run, c, "send", g_strerror(errno));
      return FALSE;
    }
    g_byte_array_remove_range(c->tx, 0, n);
  }
  want_write(run, c, FALSE);
  return TRUE;
}

static gboolean
send_frame(HcWslRun *run, HcWslClient *c, int opcode, const void *payload, gsize len)
{
  gsize old = c->tx->len;

  if (c->state == HC_WSL_CLOSED)
    return FALSE;
  /* xorshift32: masks need not be strong here, only present (RFC 6455 5.3). */
  c->rng ^= c->rng << 13;
  c->rng ^= c->rng >> 17;
  c->rng ^= c->rng << 5;
  g_byte_array_set_size(c->tx, old + HC_WSL_MAX_HEADER + len);
  g_byte_array_set_size(c->tx, old + hc_wsl_frame_build(c->tx->data + old, HC_WSL_MAX_HEADER + len,
                                                        opcode, payload, len, c->rng));
  return flush(run, c);
}

gboolean
hc_wsl_client_send(HcWslRun *run, HcWslClient *c, const char *text, gsize len)
{
  return send_frame(run, c, HC_WSL_OP_TEXT, text, len);
}

HcWslClient *
hc_wsl_client_new(HcWslRun *run, int index, const char *token)
{
  HcWslClient *c = g_new0(HcWslClient, 1);
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(run->port)};
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
  char *escaped = g_uri_escape_string(token, NULL, FALSE);
  char *path = g_strconcat("/ws?token=", escaped, NULL), *host, *req;
  int one = 1;

  c->index = index;
  c->started_us = g_get_monotonic_time();
  c->rng = g_random_int() | 1;
  c->rx = g_byte_array_new();
  c->tx = g_byte_array_new();
  hc_wsl_reader_init(&c->reader, MAX_MESSAGE);
  hc_wsl_handshake_key(c->key);
  host = g_strdup_printf("%s:%d", run->host, run->port);
  req = hc_wsl_handshake_request(host, path, c->key, SUBPROTOCOL);
  g_byte_array_append(c->tx, (const guint8 *)req, strlen(req));
  g_free(req);
  g_free(host);
  g_free(path);
  g_free(escaped);
  inet_pton(AF_INET, run->host, &to.sin_addr);
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0)
    goto fail;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c->fd, (struct sockaddr *)&to, sizeof to) < 0 && errno != EINPROGRESS)
    goto fail;
  if (epoll_ctl(run->epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
    goto fail;
  c->state = HC_WSL_CONNECTING;
  return c;
fail:
  g_snprintf(run->last_error, sizeof run->last_error, "client %d: socket: %s", index,
             g_strerror(errno));
  run->errors++;
  if (c->fd >= 0)
    close(c->fd);
  c->fd = -1;
  hc_wsl_client_free(c);
  return NULL;
}

void
hc_wsl_client_free(HcWslClient *c)
{
  if (!c)
    return;
  if (c->fd >= 0)
    close(c->fd);
  hc_wsl_reader_clear(&c->reader);
  g_byte_array_unref(c->rx);
  g_byte_array_unref(c->tx);
  g_free(c->seen);
  g_free(c);
}

/* The integer after "key": in a compact JSON text, or -1. */
static gint64
json_int_after(const char *text, gsize len, const char *key)
{
  const char *p = g_strstr_len(text, len, key);
  gint64 v = 0;

  if (!p)
    return -1;
  p += strlen(key);
  if (p >= text + len || !g_ascii_isdigit(*p))
    return -1;
  while (p < text + len && g_ascii_isdigit(*p) && v < G_MAXINT32)
    v = v * 10 + (*p++ - '0');
  return v;
}

static void
on_question(HcWslRun *run, HcWslClient *c, const char *text, gsize len, gint64 now)
{
  gint64 k = json_int_after(text, len, QUESTION_TAG);

  if (k < 0 || k >= run->questions || run->sent_us[k] == 0) {
    run->dup++;
    return;
  }
  if (c->index < 0)
    return; /* the control client is not one of the N */
  if (!c->seen)
    c->seen = g_malloc0((run->questions + 7) / 8);
  if (c->seen[k / 8] & (1 << (k % 8)) || run->delivered >= run->capacity) {
    run->dup++;
    return;
  }
  c->seen[k / 8] |= 1 << (k % 8);
  c->received++;
  run->latency_ms[run->delivered++] = (now - run->sent_us[k]) / 1000.0f;
}

/* Messages are told apart by their type without parsing the JSON: the
 * gateway writes compact JSON, and a full parse per client per event would
 * make the load generator the bottleneck. */
static void
on_message(HcWslRun *run, HcWslClient *c, const char *text, gsize len, gint64 now)
{
  if (g_strstr_len(text, MIN(len, 96), "\"type\":\"qa.asked\"")) {
    on_question(run, c, text, len, now);
  } else if (g_strstr_len(text, MIN(len, 32), "\"type\":\"ack\"")) {
    gint64 id = json_int_after(text, len, "\"id\":");
    if (c->state == HC_WSL_JOINING && id == 1) {
      c->state = HC_WSL_JOINED;
      run->joined += c->index >= 0;
    }
    if (run->on_ack)
      run->on_ack(run, c, id, text, len);
  } else if (g_strstr_len(text, MIN(len, 32), "\"type\":\"error\"")) {
    g_snprintf(run->last_error, sizeof run->last_error, "client %d: %.*s", c->index,
               (int)MIN(len, 120), text);
    run->errors++;
  }
}

static void
on_close(HcWslRun *run, HcWslClient *c, const guint8 *data, gsize len)
{
  char detail[96];
  int code = len >= 2 ? data[0] << 8 | data[1] : 1005;

  g_snprintf(detail, sizeof detail, "%d %.*s", code, (int)MIN(len > 2 ? len - 2 : 0, 80), data + 2);
  if (len >= 2)
    send_frame(run, c, HC_WSL_OP_CLOSE, data, 2);
  fail(run, c, "closed by the gateway", detail);
}

/* Consumes complete frames from buf; returns the bytes used. */
static gsize
consume(HcWslRun *run, HcWslClient *c, const guint8 *buf, gsize len, gint64 now)
{
  gsize off = 0;

  while (c->state != HC_WSL_CLOSED) {
    const guint8 *data;
    const char *error;
    gsize used, dlen;
    int opcode;
    HcWslEvent ev =
      hc_wsl_reader_next(&c->reader, buf + off, len - off, &used, &data, &dlen, &opcode, &error);

    if (ev == HC_WSL_NEED_MORE)
      break;
    if (ev == HC_WSL_ERROR) {
      fail(run, c, "protocol error", error);
      break;
    }
    off += used;
    if (ev == HC_WSL_MESSAGE && opcode == HC_WSL_OP_TEXT)
      on_message(run, c, (const char *)data, dlen, now);
    else if (ev == HC_WSL_PING)
      send_frame(run, c, HC_WSL_OP_PONG, data, dlen);
    else if (ev == HC_WSL_CLOSE)
      on_close(run, c, data, dlen);
  }
  return off;
}

static void
join(HcWslRun *run, HcWslClient *c)
{
  char *msg =
    g_strdup_printf("{\"type\":\"session.join\",\"id\":1,\"session\":\"%s\"}", run->session);

  c->state = HC_WSL_JOINING;
  hc_wsl_client_send(run, c, msg, strlen(msg));
  g_free(msg);
}

/* Parses the 101 from c->rx; returns FALSE while it is incomplete or bad. */
static gboolean
upgrade(HcWslRun *run, HcWslClient *c)
{
  const char *error = NULL;
  gssize n =
    hc_wsl_handshake_check((const char *)c->rx->data, c->rx->len, c->key, SUBPROTOCOL, &error);

  if (n < 0) {
    fail(run, c, "upgrade", error);
    return FALSE;
  }
  if (n == 0)
    return FALSE;
  g_byte_array_remove_range(c->rx, 0, n);
  join(run, c);
  return c->state != HC_WSL_CLOSED;
}

/* Reads until the socket is empty: the registration is edge-triggered (a
 * socket is polled once per arrival, not again on the next epoll_wait to
 * find it empty), so what is left unread would be reported no more. A read
 * shorter than the buffer emptied it; anything arriving later is a new edge. */
static void
readable(HcWslRun *run, HcWslClient *c)
{
  static guint8 buf[READ_CHUNK];

  while (c->state != HC_WSL_CLOSED) {
    ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    gint64 now = g_get_monotonic_time();
    gsize used;

    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && errno == EAGAIN)
      return;
    if (n <= 0) {
      fail(run, c, n == 0 ? "connection closed without a close frame" : "recv",
           n == 0 ? NULL : g_strerror(errno));
      return;
    }
    if (c->state == HC_WSL_UPGRADING) {
      g_byte_array_append(c->rx, buf, n);
      if (!upgrade(run, c))
        continue;
      used = consume(run, c, c->rx->data, c->rx->len, now);
      g_byte_array_remove_range(c->rx, 0, used);
    } else if (c->rx->len == 0) {
      /* The common case: whole frames straight from the read buffer. */
      used = consume(run, c, buf, n, now);
      g_byte_array_append(c->rx, buf + used, n - used);
    } else {
      g_byte_array_append(c->rx, buf, n);
      used = consume(run, c, c->rx->data, c->rx->len, now);
      g_byte_array_remove_range(c->rx, 0, used);
    }
    if ((gsize)n < sizeof buf)
      return;
  }
}

void
hc_wsl_client_ready(HcWslRun *run, HcWslClient *c, guint32 events)
{
  if (c->state == HC_WSL_CONNECTING && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
    int err = 0;
    socklen_t elen = sizeof err;

    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    if (err) {
      fail(run, c, "connect", g_strerror(err));
      return;
    }
    c->state = HC_WSL_UPGRADING;
  }
  if ((events & EPOLLOUT) && !flush(run, c))
    return;
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
    readable(run, c);
}
