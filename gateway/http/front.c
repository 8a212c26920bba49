/* The HTTP front door: one thread with its own epoll accepts every connection
 * on the HTTP port and reads its first request. GETs of HLS playlists and
 * segments (hls-request.c says which) are served here, keep-alive and
 * pipelined, sendfile() for large files: per request a read, an open, a send
 * and no epoll_ctl, where libwebsockets' per-request timers and its libuv
 * poll churn cost two to three times nginx's CPU. Any other request (API,
 * WHEP/WHIP, /ws, the web client, anything unusual or malformed) hands the
 * connection, with the bytes read, to libwebsockets on the main thread, which
 * owns it from then on. See docs/BENCHMARKS.md (HLS). */
#define G_LOG_DOMAIN "hc-http"

#include "front.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"
#include "hls-request.h"
#include "http.h"

/* A request head must fit this (lws's own limit, max_http_header_data):
 * a longer one is answered 431 here. */
#define IN_SIZE 8192
/* Connections served here at once; more are handed to libwebsockets. */
#define MAX_CONNS 4096
/* Bodies up to this size are read and sent with the headers in one send(). */
#define SMALL_BODY 16384
#define HEAD_MAX 512
#define EVENTS 256
/* TCP keepalive on every accepted connection: a WebSocket classroom that
 * vanished is found by the kernel (lws runs no ping timers: server.c). */
#define KA_IDLE 60
#define KA_INTERVAL 15
#define KA_PROBES 4

typedef struct Conn {
  int fd;
  struct Conn *prev, *next; /* in deadline order (all deadlines are now + idle) */
  gint64 deadline;
  char *out; /* response bytes the socket has not taken yet */
  gsize out_len, out_off;
  int file_fd; /* >= 0: then send file_off..file_end of this file */
  off_t file_off, file_end;
  gboolean close_after, want_out, draining;
} Conn;

typedef enum { FLUSH_DONE, FLUSH_AGAIN, FLUSH_ERROR } Flush;

typedef struct {
  int fd;
  gsize len;
  char bytes[];
} Handoff;

static struct {
  int listen_fd, epoll_fd, wake_fd;
  gint64 idle_us;
  HcFrontHandoff handoff;
  GThread *thread;
  Conn *head, *tail;
  guint conns;
  char in[IN_SIZE]; /* the bytes waiting on one connection, peeked */
  char scratch[HEAD_MAX + SMALL_BODY];
} front = {.listen_fd = -1, .epoll_fd = -1, .wake_fd = -1};

/* Markers for epoll data: the listening socket and the wake-up eventfd. */
static char listen_tag, wake_tag;

static void
list_remove(Conn *c)
{
  if (c->prev)
    c->prev->next = c->next;
  else
    front.head = c->next;
  if (c->next)
    c->next->prev = c->prev;
  else
    front.tail = c->prev;
  c->prev = c->next = NULL;
}

/* Gives c a fresh deadline, now + idle: it moves to the tail, so the list
 * stays in deadline order. */
static void
touch(Conn *c)
{
  if (front.tail != c) {
    if (c->prev || front.head == c)
      list_remove(c);
    c->prev = front.tail;
    if (front.tail)
      front.tail->next = c;
    else
      front.head = c;
    front.tail = c;
  }
  c->deadline = g_get_monotonic_time() + front.idle_us;
}

static void
conn_free(Conn *c, gboolean close_socket)
{
  epoll_ctl(front.epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
  list_remove(c);
  if (close_socket)
    close(c->fd);
  if (c->file_fd >= 0)
    close(c->file_fd);
  g_free(c->out);
  g_free(c);
  front.conns--;
}

static gboolean
run_handoff(gpointer data)
{
  Handoff *h = data;

  front.handoff(h->fd, h->bytes, h->len);
  h->fd = -1;
  return G_SOURCE_REMOVE;
}

static void
free_handoff(gpointer data)
{
  Handoff *h = data;

  if (h->fd >= 0)
    close(h->fd); /* the main loop ended before it took the connection */
  g_free(h);
}

static Handoff *
handoff_new(int fd, const char *bytes, gsize len)
{
  Handoff *h = g_malloc(sizeof *h + len);

  h->fd = fd;
  h->len = len;
  if (len)
    memcpy(h->bytes, bytes, len);
  return h;
}

/* Passes the connection to the main thread, for libwebsockets. */
static void
handoff_queue(Handoff *h)
{
  g_main_context_invoke_full(NULL, G_PRIORITY_DEFAULT, run_handoff, h, free_handoff);
}

/* Hands c to libwebsockets, its next request still unread in the socket
 * (lws 4.1's adoption with a read buffer loses request bodies); c is gone. */
static void
hand_off_conn(Conn *c)
{
  Handoff *h = handoff_new(c->fd, NULL, 0);

  conn_free(c, FALSE); /* out of this thread's epoll before the main thread adopts it */
  handoff_queue(h);
}

static void
want_output(Conn *c, gboolean out)
{
  struct epoll_event ev = {.events = out ? EPOLLOUT : EPOLLIN | EPOLLET, .data.ptr = c};

  if (c->want_out == out)
    return;
  c->want_out = out;
  epoll_ctl(front.epoll_fd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Sends what is pending: buffered bytes, then the file. */
static Flush
flush(Conn *c)
{
  while (c->out && c->out_off < c->out_len) {
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                     MSG_NOSIGNAL | (c->file_fd >= 0 ? MSG_MORE : 0));
    if (n < 0)
      return errno == EAGAIN || errno == EINTR ? FLUSH_AGAIN : FLUSH_ERROR;
    c->out_off += (gsize)n;
    touch(c);
  }
  g_clear_pointer(&c->out, g_free);
  while (c->file_fd >= 0 && c->file_off < c->file_end) {
    ssize_t n = sendfile(c->fd, c->file_fd, &c->file_off, (size_t)(c->file_end - c->file_off));
    if (n < 0)
      return errno == EAGAIN || errno == EINTR ? FLUSH_AGAIN : FLUSH_ERROR;
    if (n == 0)
      return FLUSH_ERROR; /* the file shrank: the length announced cannot be met */
    touch(c);
  }
  if (c->file_fd >= 0) {
    close(c->file_fd);
    c->file_fd = -1;
  }
  return FLUSH_DONE;
}

/* Sends len bytes of front.scratch; keeps what the socket does not take. */
static Flush
send_scratch(Conn *c, gsize len)
{
  ssize_t n = send(c->fd, front.scratch, len, MSG_NOSIGNAL | (c->file_fd >= 0 ? MSG_MORE : 0));

  if (n < 0 && errno != EAGAIN && errno != EINTR)
    return FLUSH_ERROR;
  if (n < 0)
    n = 0;
  if ((gsize)n < len) {
    c->out = g_memdup2(front.scratch + n, len - (gsize)n);
    c->out_len = len - (gsize)n;
    c->out_off = 0;
    return FLUSH_AGAIN;
  }
  return flush(c);
}

/* The same response head, byte for byte, that server.c writes through lws;
 * status is "200 OK" or the like. */
static int
head(const char *status, const char *type, gsize length, const char *cache)
{
  return snprintf(front.scratch, HEAD_MAX,
                  "HTTP/1.1 %s\r\ncontent-type: %s\r\ncontent-length: %" G_GSIZE_FORMAT
                  "\r\naccess-control-allow-origin: *\r\n"
                  "access-control-expose-headers: " HC_HTTP_CORS_EXPOSE "\r\n"
                  "cache-control: %s\r\n\r\n",
                  status, type, length, cache);
}

/* An error answer as hc_http_set_error() makes it: {"error":{"code","message"}}. */
static Flush
respond_error(Conn *c, const char *status, int code, const char *message)
{
  char body[160];
  int bl = snprintf(body, sizeof body, "{\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
                    hc_error_name(code), message);
  int hl = head(status, "application/json", (gsize)bl, "no-store");

  memcpy(front.scratch + hl, body, (size_t)bl);
  return send_scratch(c, (gsize)(hl + bl));
}

/* Answers the request for the path p[0..len), "/hls/...". */
static Flush
respond(Conn *c, const char *p, gsize len)
{
  char path[HC_HLS_MAX_PATH + 1];
  HcStaticFile f;
  int hl;

  /* What follows "/hls", with its slash, as hc_static_hls() sees it. */
  memcpy(path, p + 4, len - 4);
  path[len - 4] = '\0';
  if (!hc_static_open_hls(path, &f))
    return respond_error(c, "404 Not Found", HC_ENOTFOUND, HC_STATIC_NOT_FOUND);
  hl = head("200 OK", f.type, f.size, f.cache);
  if (f.size <= SMALL_BODY) {
    ssize_t n = pread(f.fd, front.scratch + hl, f.size, 0);

    close(f.fd);
    if (n != (ssize_t)f.size)
      return FLUSH_ERROR; /* the file shrank (a segment deleted): close, as server.c does */
    return send_scratch(c, (gsize)hl + f.size);
  }
  c->file_fd = f.fd;
  c->file_off = 0;
  c->file_end = (off_t)f.size;
  return send_scratch(c, (gsize)hl);
}

/* Discards what a lingering connection sends; closes it at its end. */
static void
drain(Conn *c)
{
  for (;;) {
    ssize_t n = recv(c->fd, NULL, 65536, MSG_TRUNC | MSG_DONTWAIT);

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      return;
    if (n <= 0) {
      conn_free(c, TRUE);
      return;
    }
  }
}

/* Ends a connection whose last response is sent (r: how the send went). A
 * close() with unread bytes would reset the connection and could destroy the
 * response before the client reads it: send FIN, and close once the client
 * closes too (or at the deadline), discarding what it still sends. */
static void
linger(Conn *c, Flush r)
{
  if (r == FLUSH_ERROR || shutdown(c->fd, SHUT_WR) != 0) {
    conn_free(c, TRUE);
    return;
  }
  c->draining = TRUE;
  want_output(c, FALSE);
  touch(c);
  drain(c);
}

/* Whether buf[0..len) holds a whole request head (the line ends may be bare
 * LFs: lws decides what it accepts). */
static gboolean
head_complete(const char *buf, gsize len)
{
  return memmem(buf, len, "\r\n\r\n", 4) || memmem(buf, len, "\n\n", 2);
}

/* After a response: what next for c. FALSE when c is gone or must wait for
 * the socket to take the response. */
static gboolean
after_response(Conn *c, Flush r)
{
  if (r == FLUSH_ERROR) {
    conn_free(c, TRUE);
    return FALSE;
  }
  if (r == FLUSH_AGAIN) {
    want_output(c, TRUE);
    return FALSE;
  }
  touch(c);
  if (c->close_after) {
    linger(c, r);
    return FALSE;
  }
  return TRUE;
}

/* Serves the requests waiting in c's socket, in order, while the socket takes
 * the responses. The bytes are peeked, and a request is taken off the socket
 * only once it is answered here: a request for libwebsockets stays unread,
 * and lws reads it itself (with its body) once it owns the connection. */
static void
serve(Conn *c)
{
  for (;;) {
    ssize_t n = recv(c->fd, front.in, IN_SIZE, MSG_PEEK | MSG_DONTWAIT);
    gsize off = 0;

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
      return;
    if (n <= 0) {
      conn_free(c, TRUE);
      return;
    }
    while (off < (gsize)n) {
      const char *buf = front.in + off;
      gsize len = (gsize)n - off;
      HcHlsRequest req;
      HcHlsKind kind = hc_hls_request_parse(buf, len, &req);

      if (kind == HC_HLS_FAST) {
        Flush r = respond(c, buf + req.path_off, req.path_len);

        /* Take the request off the socket: MSG_TRUNC discards, no copy. */
        if (recv(c->fd, NULL, req.head_len, MSG_TRUNC | MSG_DONTWAIT) != (ssize_t)req.head_len)
          r = FLUSH_ERROR;
        off += req.head_len;
        if (!req.keep_alive)
          c->close_after = TRUE;
        if (!after_response(c, r))
          return;
        continue;
      }
      if (kind == HC_HLS_OTHER && head_complete(buf, len)) {
        /* libwebsockets answers this and everything after it on the connection. */
        hand_off_conn(c);
        return;
      }
      if (len == IN_SIZE) {
        /* No head within the limit; lws would close without a word: say why. */
        c->close_after = TRUE;
        after_response(c, respond_error(c, "431 Request Header Fields Too Large", HC_ETOOLARGE,
                                        "request head over " G_STRINGIFY(IN_SIZE) " bytes"));
        return;
      }
      break; /* the rest of a head: wait for it, until the deadline */
    }
    if ((gsize)n < IN_SIZE || off == 0)
      return; /* all of it seen; edge-triggered epoll reports what comes next */
  }
}

static void
on_event(Conn *c, guint32 events)
{
  if (c->draining) {
    drain(c);
    return;
  }
  if (c->want_out) {
    Flush r = flush(c);

    if (r == FLUSH_AGAIN)
      return;
    want_output(c, FALSE);
    if (after_response(c, r))
      serve(c);
    return;
  }
  serve(c);
}

/* Dead peers: probes after KA_IDLE s quiet, and data left unacknowledged
 * for as long as the probes would take ends the connection. */
static void
keepalive(int fd)
{
  int on = 1, idle = KA_IDLE, interval = KA_INTERVAL, probes = KA_PROBES;
  unsigned int user_timeout = 1000 * (KA_IDLE + KA_INTERVAL * KA_PROBES);

  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof probes);
  setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout);
}

static void
accept_all(void)
{
  for (int i = 0; i < 64; i++) {
    int fd = accept4(front.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET};
    int one = 1;
    Conn *c;

    if (fd < 0) {
      static gint64 last_warning;

      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
        return;
      if (g_get_monotonic_time() - last_warning > 10 * G_USEC_PER_SEC) {
        g_warning("HTTP accept: %s", g_strerror(errno));
        last_warning = g_get_monotonic_time();
      }
      /* Out of descriptors: the listening socket stays readable; do not spin. */
      g_usleep(10000);
      return;
    }
    /* As lws does for the sockets it accepts: small answers and WebSocket
     * messages go out at once, not held back by Nagle. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    keepalive(fd);
    if (front.conns >= MAX_CONNS) {
      handoff_queue(handoff_new(fd, NULL, 0));
      continue;
    }
    c = g_new0(Conn, 1);
    c->fd = fd;
    c->file_fd = -1;
    ev.data.ptr = c;
    if (epoll_ctl(front.epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
      g_free(c);
      close(fd);
      continue;
    }
    front.conns++;
    touch(c);
  }
}

/* Closes the connections whose deadline has passed: idle keep-alive ones and
 * those that never finish a request (slowloris). */
static void
expire(void)
{
  gint64 now = g_get_monotonic_time();

  while (front.head && front.head->deadline <= now)
    conn_free(front.head, TRUE);
}

static gpointer
front_thread(gpointer data)
{
  struct epoll_event evs[EVENTS];

  for (;;) {
    int n = epoll_wait(front.epoll_fd, evs, EVENTS, 1000);

    for (int i = 0; i < n; i++) {
      void *p = evs[i].data.ptr;

      if (p == &wake_tag)
        return NULL;
      if (p == &listen_tag)
        accept_all();
      else
        on_event(p, evs[i].events);
    }
    expire();
  }
}

static int
listen_on(const char *address, int port)
{
  struct addrinfo hints = {
    .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
  struct addrinfo *ai = NULL;
  char service[16];
  int fd = -1, one = 1;

  g_snprintf(service, sizeof service, "%d", port);
  if (getaddrinfo(address && address[0] ? address : NULL, service, &hints, &ai) != 0)
    return -1;
  fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd >= 0 && (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
                  bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 4096) != 0)) {
    close(fd);
    fd = -1;
  }
  freeaddrinfo(ai);
  return fd;
}

gboolean
hc_front_start(const char *address, int port, int idle_s, HcFrontHandoff handoff, GError **error)
{
  struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &listen_tag};
  struct epoll_event wev = {.events = EPOLLIN, .data.ptr = &wake_tag};

  front.idle_us = (gint64)idle_s * G_USEC_PER_SEC;
  front.handoff = handoff;
  front.listen_fd = listen_on(address, port);
  if (front.listen_fd < 0) {
    g_set_error(error, HC_ERROR, HC_EINTERNAL, "cannot listen for HTTP on %s:%d: %s", address, port,
                g_strerror(errno));
    return FALSE;
  }
  front.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  front.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (front.epoll_fd < 0 || front.wake_fd < 0 ||
      epoll_ctl(front.epoll_fd, EPOLL_CTL_ADD, front.listen_fd, &lev) != 0 ||
      epoll_ctl(front.epoll_fd, EPOLL_CTL_ADD, front.wake_fd, &wev) != 0) {
    g_set_error(error, HC_ERROR, HC_EINTERNAL, "HTTP front door: %s", g_strerror(errno));
    hc_front_stop();
    return FALSE;
  }
  front.thread = g_thread_new("hc-http-front", front_thread, NULL);
  return TRUE;
}

void
hc_front_stop(void)
{
  if (front.thread) {
    guint64 one = 1;

    if (write(front.wake_fd, &one, sizeof one) != sizeof one)
      g_warning("cannot wake the HTTP front door: %s", g_strerror(errno));
    g_thread_join(front.thread);
    front.thread = NULL;
  }
  while (front.head)
    conn_free(front.head, TRUE);
  if (front.listen_fd >= 0)
    close(front.listen_fd);
  if (front.epoll_fd >= 0)
    close(front.epoll_fd);
  if (front.wake_fd >= 0)
    close(front.wake_fd);
  front.listen_fd = front.epoll_fd = front.wake_fd = -1;
}
