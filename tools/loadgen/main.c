/* hc-loadgen: opens N WebRTC viewers against a WHEP URL or a Janus
 * streaming mountpoint, ramps them at a set rate, holds them, and prints one
 * JSON line a second (viewers, packets, bytes, loss, sampled decryption, the
 * gateway's CPU and RSS from /proc) and a summary line. Media runs on
 * --threads epoll threads; --gro receives GSO sends whole (UDP_GRO) and
 * splits them here. Bounded in count and time; talks to loopback only. See
 * docs/BENCHMARKS.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/udp.h>
#include <srtp2/srtp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "loadgen.h"

#define MAX_VIEWERS 20000
#define MAX_THREADS 16
#define BATCH 32
#define GRO_BATCH 8   /* super-packets per recvmmsg with --gro */
#define GRO_CAP 65536 /* one coalesced GSO send: up to 64 segments */
#define DEFAULT_RCVBUF_KB 4096
#define LEAVE_S 10 /* seconds past the hard bound for the DELETEs */
#ifndef UDP_GRO
#define UDP_GRO 104 /* linux/udp.h, Linux 5.0 */
#endif

typedef struct {
  int connected, pending, failed, receiving;
  uint64_t pkts, bytes, verified, verify_failed, expected, lost, rtcp;
  uint64_t datagrams, segments; /* as received: with --gro one datagram holds several */
  int profiles[2];              /* GCM, AES-CM */
  int sampled;                  /* viewers whose media is read (--sample) */
  uint64_t dropped;             /* RTP datagrams the kernel dropped for the others */
} Totals;

typedef struct Run Run;

/* One media thread: its own epoll over the sockets of its viewers. */
typedef struct {
  Run *run;
  int index;
  GThread *thread;
  int epfd, wake_fd;
  GMutex lock;                  /* guards incoming */
  GPtrArray *incoming;          /* HcLgViewer*, negotiated, not yet in the loop */
  GPtrArray *viewers;           /* this thread only: its viewers in the loop */
  uint8_t *bufs;                /* receive buffers: BATCH x 1500, or GRO_BATCH x GRO_CAP */
  uint64_t datagrams, segments; /* received by this thread */
  Totals published;             /* under run->lock: its totals at generation done_gen */
  gint done_gen;
} Media;

struct Run {
  HcLgOptions opt;
  HcLgMediaConfig media;
  HcLgSignal *signal;
  Media threads[MAX_THREADS];
  GMutex lock; /* guards the threads' published totals */
  GCond answered;
  gint gen; /* atomic: the reporter asks every thread for totals */
  gint started, failed_signal, signal_done, stop;
  gint64 t0;
  struct sockaddr_in bind;
};

typedef struct {
  gint64 t_us;
  uint64_t pkts, dropped, datagrams, segments, bytes, verified, cpu_ticks, self_ticks;
  uint64_t core_ticks; /* busy time of the gateway's CPU (--core), all tasks and softirqs */
} Snapshot;

static uint64_t
proc_cpu_ticks(int pid)
{
  char path[64], *text = NULL, *p;
  unsigned long long ut = 0, st = 0;

  g_snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return 0;
  /* Fields after the command name, which may hold spaces: state is 3rd. */
  p = strrchr(text, ')');
  if (p)
    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st);
  g_free(text);
  return ut + st;
}

/* Busy ticks of one CPU from /proc/stat (user, nice, system, irq, softirq,
 * steal): what the gateway's core did, whoever it was charged to: the
 * kernel's receive work in ksoftirqd counts here, not in the process. */
static uint64_t
core_busy_ticks(int cpu)
{
  char *text = NULL, name[16];
  unsigned long long f[8] = {0};
  uint64_t busy = 0;
  gchar **lines;

  if (cpu < 0 || !g_file_get_contents("/proc/stat", &text, NULL, NULL))
    return 0;
  g_snprintf(name, sizeof(name), "cpu%d ", cpu);
  lines = g_strsplit(text, "\n", 0);
  for (guint i = 0; lines[i]; i++)
    if (g_str_has_prefix(lines[i], name) &&
        sscanf(lines[i] + strlen(name), "%llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1],
               &f[2], &f[3], &f[4], &f[5], &f[6], &f[7]) == 8)
      busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
  g_strfreev(lines);
  g_free(text);
  return busy;
}

static uint64_t
proc_rss_kb(int pid)
{
  char path[64], *text = NULL;
  unsigned long long size = 0, rss = 0;

  g_snprintf(path, sizeof(path), "/proc/%d/statm", pid);
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return 0;
  sscanf(text, "%llu %llu", &size, &rss);
  g_free(text);
  return rss * (uint64_t)sysconf(_SC_PAGESIZE) / 1024;
}

/* RcvbufErrors of /proc/net/snmp: datagrams this network namespace dropped
 * because a socket's receive buffer was full, i.e. loss on our side. */
static uint64_t
udp_rcvbuf_errors(void)
{
  char *text = NULL, **lines;
  uint64_t value = 0;
  int col = -1;

  if (!g_file_get_contents("/proc/net/snmp", &text, NULL, NULL))
    return 0;
  lines = g_strsplit(text, "\n", 0);
  for (guint i = 0; lines[i]; i++) {
    gchar **f;
    if (!g_str_has_prefix(lines[i], "Udp: "))
      continue;
    f = g_strsplit(lines[i], " ", 0);
    for (int k = 0; f[k]; k++) {
      if (col < 0 && strcmp(f[k], "RcvbufErrors") == 0)
        col = k;
      else if (col >= 0 && k == col && g_ascii_isdigit(f[k][0]))
        value = g_ascii_strtoull(f[k], NULL, 10);
    }
    g_strfreev(f);
  }
  g_strfreev(lines);
  g_free(text);
  return value;
}

/* Gives the viewer's socket the receive options of the run: a large
 * buffer (SO_RCVBUFFORCE as root, past net.core.rmem_max) and, with --gro,
 * UDP_GRO so a GSO send arrives whole, as one datagram of several segments.
 * Outside the sample (--sample K: viewers 0, K, 2K... read their media) the
 * kernel drops the RTP before it is queued and counts the datagrams per
 * socket (with --gro a GSO send is one datagram there too). */
static int
socket_options(const HcLgOptions *o, HcLgViewer *v)
{
  int bytes = o->rcvbuf_kb * 1024, one = 1, err;
  gboolean filtered = o->sample > 1 && v->id % o->sample != 0;

  if (filtered && (err = hc_lg_viewer_filter_media(v)) < 0) {
    g_warning("viewer %d: socket filter: %s", v->id, g_strerror(-err));
    return -1;
  }
  if (!filtered && setsockopt(v->fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) < 0)
    setsockopt(v->fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
  if (o->gro && setsockopt(v->fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) < 0)
    g_warning("viewer %d: UDP_GRO: %s", v->id, g_strerror(errno));
  return 0;
}

/* Signalling thread: starts viewers at the set rate, each on media thread
 * i % threads, then keeps Janus's session alive until the reporter says stop. */
static gpointer
signal_thread(gpointer data)
{
  Run *r = data;
  uint64_t one = 1;

  for (int i = 0; i < r->opt.viewers && !g_atomic_int_get(&r->stop); i++) {
    gint64 due = r->t0 + (gint64)(i * G_USEC_PER_SEC / r->opt.rate);
    Media *m = &r->threads[i % r->opt.threads];
    HcLgViewer *v;

    while (g_get_monotonic_time() < due && !g_atomic_int_get(&r->stop))
      g_usleep(MIN(due - g_get_monotonic_time(), 10000));
    v = hc_lg_viewer_new(i, !r->opt.janus, &r->bind);
    if (!v || socket_options(&r->opt, v) < 0 || hc_lg_signal_connect(r->signal, v) < 0) {
      hc_lg_viewer_free(v);
      g_atomic_int_inc(&r->failed_signal);
      continue;
    }
    g_mutex_lock(&m->lock);
    g_ptr_array_add(m->incoming, v);
    g_mutex_unlock(&m->lock);
    g_atomic_int_inc(&r->started);
    if (write(m->wake_fd, &one, sizeof(one)) < 0)
      g_warning("eventfd: %s", g_strerror(errno));
  }
  g_atomic_int_set(&r->signal_done, 1);
  while (!g_atomic_int_get(&r->stop)) {
    hc_lg_signal_keepalive(r->signal);
    g_usleep(100000);
  }
  return NULL;
}

static void
take_incoming(Media *m)
{
  uint64_t n;

  if (read(m->wake_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
    g_warning("eventfd: %s", g_strerror(errno));
  g_mutex_lock(&m->lock);
  for (guint i = 0; i < m->incoming->len; i++) {
    HcLgViewer *v = m->incoming->pdata[i];
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = v};

    /* ICE's time limit counts from here, not from the (maybe slow) signalling. */
    v->start_us = g_get_monotonic_time();
    if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, v->fd, &ev) < 0)
      g_warning("viewer %d: epoll: %s", v->id, g_strerror(errno));
    g_ptr_array_add(m->viewers, v);
  }
  g_ptr_array_set_size(m->incoming, 0);
  g_mutex_unlock(&m->lock);
}

/* The segment size of a coalesced datagram (UDP_GRO), or 0. */
static size_t
gro_segment(struct msghdr *h)
{
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c))
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int seg = 0;
      memcpy(&seg, CMSG_DATA(c), MIN(sizeof(seg), (size_t)(c->cmsg_len - CMSG_LEN(0))));
      return seg > 0 ? (size_t)seg : 0;
    }
  return 0;
}

static void
receive(Media *m, HcLgViewer *v)
{
  gboolean gro = m->run->opt.gro;
  int batch = gro ? GRO_BATCH : BATCH;
  size_t cap = gro ? GRO_CAP : 1500;
  struct sockaddr_storage from[BATCH];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control[BATCH];

  for (int round = 0; round < 4; round++) {
    int n;

    for (int i = 0; i < batch; i++) {
      iov[i].iov_base = m->bufs + (size_t)i * cap;
      iov[i].iov_len = cap;
      memset(&msgs[i], 0, sizeof(msgs[i]));
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
      if (gro) {
        msgs[i].msg_hdr.msg_control = control[i].buf;
        msgs[i].msg_hdr.msg_controllen = sizeof(control[i].buf);
      }
    }
    n = recvmmsg(v->fd, msgs, (unsigned)batch, MSG_DONTWAIT, NULL);
    if (n <= 0)
      return;
    for (int i = 0; i < n; i++) {
      uint8_t *buf = iov[i].iov_base;
      size_t len = msgs[i].msg_len;
      size_t seg = gro ? gro_segment(&msgs[i].msg_hdr) : 0;

      /* A coalesced datagram holds segments of seg bytes, the last maybe
       * shorter: each is one packet of the sender's GSO send. */
      if (seg == 0 || seg >= len)
        seg = len;
      if (hc_lg_is_rtp(buf, len)) { /* the media's datagrams and packets */
        m->datagrams++;
        m->segments += (len + seg - 1) / seg;
      }
      for (size_t off = 0; off < len; off += seg)
        hc_lg_viewer_input(&m->run->media, v, buf + off, MIN(seg, len - off),
                           (struct sockaddr *)&from[i]);
    }
    if (n < batch)
      return;
  }
}

static void
totals_add(Totals *t, const Totals *x)
{
  t->connected += x->connected;
  t->pending += x->pending;
  t->failed += x->failed;
  t->receiving += x->receiving;
  t->pkts += x->pkts;
  t->bytes += x->bytes;
  t->verified += x->verified;
  t->verify_failed += x->verify_failed;
  t->expected += x->expected;
  t->lost += x->lost;
  t->rtcp += x->rtcp;
  t->datagrams += x->datagrams;
  t->segments += x->segments;
  t->profiles[0] += x->profiles[0];
  t->profiles[1] += x->profiles[1];
  t->sampled += x->sampled;
  t->dropped += x->dropped;
}

/* Media thread: the totals of its own viewers. */
static void
media_totals(Media *m, Totals *t)
{
  memset(t, 0, sizeof(*t));
  t->datagrams = m->datagrams;
  t->segments = m->segments;
  for (guint i = 0; i < m->viewers->len; i++) {
    HcLgViewer *v = m->viewers->pdata[i];
    uint64_t e, l, dropped = v->filtered ? hc_lg_viewer_dropped(v) : 0;

    t->connected += v->state == HC_LG_MEDIA;
    t->pending += v->state == HC_LG_ICE || v->state == HC_LG_DTLS;
    t->failed += v->state == HC_LG_FAILED;
    t->receiving += v->packets > 0 || dropped > 0;
    t->sampled += !v->filtered;
    t->dropped += dropped;
    t->pkts += v->packets;
    t->bytes += v->bytes;
    t->verified += v->verified;
    t->verify_failed += v->verify_failed;
    t->rtcp += v->rtcp;
    hc_lg_viewer_loss(v, &e, &l);
    t->expected += e;
    t->lost += l;
    if (v->state == HC_LG_MEDIA)
      t->profiles[v->profile == 7 ? 0 : 1]++;
  }
}

/* Media thread: answers the reporter's request for totals, if any. */
static void
media_answer(Media *m)
{
  Run *r = m->run;
  gint gen = g_atomic_int_get(&r->gen);
  Totals t;

  if (gen == m->done_gen)
    return;
  media_totals(m, &t);
  g_mutex_lock(&r->lock);
  m->published = t;
  m->done_gen = gen;
  g_cond_broadcast(&r->answered);
  g_mutex_unlock(&r->lock);
}

/* Reporter: the totals of every media thread, each taken within a few ms
 * of the request (their loops wake every 5 ms at most). */
static void
totals(Run *r, Totals *t)
{
  gint gen = g_atomic_int_add(&r->gen, 1) + 1;
  gint64 deadline = g_get_monotonic_time() + G_USEC_PER_SEC;

  memset(t, 0, sizeof(*t));
  g_mutex_lock(&r->lock);
  for (int i = 0; i < r->opt.threads; i++) {
    while (r->threads[i].done_gen != gen)
      if (!g_cond_wait_until(&r->answered, &r->lock, deadline))
        break;
    totals_add(t, &r->threads[i].published);
  }
  g_mutex_unlock(&r->lock);
}

static void
snapshot(Run *r, const Totals *t, Snapshot *s)
{
  s->t_us = g_get_monotonic_time();
  s->pkts = t->pkts;
  s->dropped = t->dropped;
  s->datagrams = t->datagrams;
  s->segments = t->segments;
  s->bytes = t->bytes;
  s->verified = t->verified;
  s->cpu_ticks = r->opt.gateway_pid ? proc_cpu_ticks(r->opt.gateway_pid) : 0;
  s->self_ticks = proc_cpu_ticks(getpid());
  s->core_ticks = core_busy_ticks(r->opt.core);
}

static double
ticks_us(uint64_t ticks)
{
  return (double)ticks * 1e6 / (double)sysconf(_SC_CLK_TCK);
}

static void
report(Run *r, const Totals *t, const Snapshot *prev, const Snapshot *now)
{
  double dt = (double)(now->t_us - prev->t_us) / 1e6;

  printf("{\"t\":%.2f,\"connected\":%d,\"receiving\":%d,\"pending\":%d,\"failed\":%d,"
         "\"signal_failed\":%d,\"pkts_s\":%.0f,\"dropped_s\":%.0f,\"kbit_s\":%.0f,\"lost\":"
         "%" G_GUINT64_FORMAT ",\"expected\":%" G_GUINT64_FORMAT ",\"verified\":%" G_GUINT64_FORMAT
         ",\"verify_failed\":%" G_GUINT64_FORMAT
         ",\"gw_cpu_pct\":%.1f,\"gw_rss_kb\":%" G_GUINT64_FORMAT ",\"lg_cpu_pct\":%.1f}\n",
         (double)(now->t_us - r->t0) / 1e6, t->connected, t->receiving, t->pending, t->failed,
         g_atomic_int_get(&r->failed_signal), (double)(now->pkts - prev->pkts) / dt,
         (double)(now->dropped - prev->dropped) / dt,
         (double)(now->bytes - prev->bytes) * 8 / 1000 / dt, t->lost, t->expected, t->verified,
         t->verify_failed, ticks_us(now->cpu_ticks - prev->cpu_ticks) / 1e4 / dt,
         r->opt.gateway_pid ? proc_rss_kb(r->opt.gateway_pid) : 0,
         ticks_us(now->self_ticks - prev->self_ticks) / 1e4 / dt);
  fflush(stdout);
}

static void
summary(Run *r, const Totals *t, const Snapshot *steady0, const Snapshot *end, uint64_t rss0,
        uint64_t rcvbuf_errors)
{
  double secs = steady0->t_us ? (double)(end->t_us - steady0->t_us) / 1e6 : 0;
  /* Packets the viewers got: read by the sample, dropped by the kernel for
   * the rest. The kernel counts dropped datagrams; with --gro one holds the
   * packets of a GSO send, as many as the sample's datagrams held in the
   * same window (every viewer gets the same sends). */
  uint64_t read = steady0->t_us ? end->pkts - steady0->pkts : 0;
  uint64_t dgrams = steady0->t_us ? end->datagrams - steady0->datagrams : 0;
  uint64_t segs = steady0->t_us ? end->segments - steady0->segments : 0;
  uint64_t dropped_dgrams = steady0->t_us ? end->dropped - steady0->dropped : 0;
  uint64_t dropped = dgrams && segs > dgrams
                       ? (uint64_t)((double)dropped_dgrams * segs / dgrams + 0.5)
                       : dropped_dgrams;
  uint64_t pkts = read + dropped;
  double cpu_us = steady0->t_us ? ticks_us(end->cpu_ticks - steady0->cpu_ticks) : 0;
  double core_us =
    steady0->t_us && r->opt.core >= 0 ? ticks_us(end->core_ticks - steady0->core_ticks) : -1;
  uint64_t rss = r->opt.gateway_pid ? proc_rss_kb(r->opt.gateway_pid) : 0;

  printf("{\"summary\":true,\"mode\":\"%s\",\"requested\":%d,\"connected\":%d,\"receiving\":%d,"
         "\"failed\":%d,\"signal_failed\":%d,\"pkts\":%" G_GUINT64_FORMAT
         ",\"bytes\":%" G_GUINT64_FORMAT ",\"expected\":%" G_GUINT64_FORMAT
         ",\"lost\":%" G_GUINT64_FORMAT ",\"loss_pct\":%.4f,\"rtcp\":%" G_GUINT64_FORMAT
         ",\"verified\":%" G_GUINT64_FORMAT ",\"verify_failed\":%" G_GUINT64_FORMAT
         ",\"verify_every\":%d,\"srtp_gcm\":%d,\"srtp_aes_cm\":%d,\"steady_s\":%.2f"
         ",\"steady_pkts\":%" G_GUINT64_FORMAT ",\"steady_gw_cpu_us\":%.0f,\"gw_us_per_pkt\":%.3f"
         ",\"gw_rss_kb_start\":%" G_GUINT64_FORMAT ",\"gw_rss_kb_end\":%" G_GUINT64_FORMAT
         ",\"udp_rcvbuf_errors\":%" G_GUINT64_FORMAT ",\"threads\":%d,\"gro\":%s"
         ",\"udp_datagrams\":%" G_GUINT64_FORMAT ",\"udp_segments\":%" G_GUINT64_FORMAT
         ",\"sample\":%d,\"sampled\":%d,\"steady_pkts_read\":%" G_GUINT64_FORMAT
         ",\"steady_pkts_dropped\":%" G_GUINT64_FORMAT
         ",\"steady_dgrams_dropped\":%" G_GUINT64_FORMAT ",\"steady_core_busy_us\":%.0f}\n",
         r->opt.janus ? "janus" : "whep", r->opt.viewers, t->connected, t->receiving, t->failed,
         g_atomic_int_get(&r->failed_signal), t->pkts, t->bytes, t->expected, t->lost,
         t->expected ? 100.0 * (double)t->lost / (double)t->expected : 0.0, t->rtcp, t->verified,
         t->verify_failed, r->media.verify_every, t->profiles[0], t->profiles[1], secs, pkts,
         cpu_us, pkts ? cpu_us / (double)pkts : 0.0, rss0, rss, rcvbuf_errors, r->opt.threads,
         r->opt.gro ? "true" : "false", t->datagrams, t->segments, MAX(r->opt.sample, 1),
         t->sampled, read, dropped, dropped_dgrams, core_us);
  fflush(stdout);
}

/* A media thread: epoll over its viewers' sockets, their timers every
 * 10 ms, answers to the reporter; until the reporter says stop. */
static gpointer
media_thread(gpointer data)
{
  Media *m = data;
  Run *r = m->run;
  struct epoll_event events[256];
  struct epoll_event wake = {.events = EPOLLIN, .data.ptr = NULL};
  gint64 next_tick = 0;

  epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->wake_fd, &wake);
  while (!g_atomic_int_get(&r->stop)) {
    int n = epoll_wait(m->epfd, events, G_N_ELEMENTS(events), 5);
    gint64 clock = g_get_monotonic_time();

    for (int i = 0; i < n; i++) {
      if (!events[i].data.ptr)
        take_incoming(m);
      else
        receive(m, events[i].data.ptr);
    }
    if (clock >= next_tick) {
      for (guint i = 0; i < m->viewers->len; i++)
        hc_lg_viewer_tick(&r->media, m->viewers->pdata[i], clock);
      next_tick = clock + 10000;
    }
    media_answer(m);
  }
  return NULL;
}

/* The reporter (main thread): a report every second; ends after the hold
 * time or the hard bound, then stops the other threads. */
static void
report_loop(Run *r)
{
  Snapshot prev, now, steady0 = {0};
  Totals t;
  gint64 next_report, ramp_end = 0;
  gint64 hard_end = r->t0 + (gint64)(r->opt.max_s * G_USEC_PER_SEC);
  uint64_t rss0 = r->opt.gateway_pid ? proc_rss_kb(r->opt.gateway_pid) : 0;
  uint64_t rcvbuf0 = udp_rcvbuf_errors();

  totals(r, &t);
  snapshot(r, &t, &prev);
  next_report = r->t0 + G_USEC_PER_SEC;
  for (;;) {
    gint64 clock = g_get_monotonic_time();

    if (clock < next_report) {
      g_usleep(MIN(next_report - clock, 100000));
      continue;
    }
    next_report += G_USEC_PER_SEC;
    totals(r, &t);
    snapshot(r, &t, &now);
    report(r, &t, &prev, &now);
    prev = now;
    if (!ramp_end && g_atomic_int_get(&r->signal_done) && t.pending == 0) {
      ramp_end = clock;
      steady0 = now; /* the steady window starts when every viewer is in */
    }
    if ((ramp_end && clock >= ramp_end + (gint64)(r->opt.hold_s * G_USEC_PER_SEC)) ||
        clock >= hard_end)
      break;
  }
  totals(r, &t);
  snapshot(r, &t, &now);
  g_atomic_int_set(&r->stop, 1);
  summary(r, &t, &steady0, &now, rss0, udp_rcvbuf_errors() - rcvbuf0);
}

static gboolean
parse_options(int argc, char **argv, HcLgOptions *o)
{
  gboolean janus = FALSE, gro = FALSE;
  GOptionEntry entries[] = {
    {"url", 'u', 0, G_OPTION_ARG_STRING, &o->url, "WHEP URL, or Janus base URL with --janus",
     "URL"},
    {"janus", 0, 0, G_OPTION_ARG_NONE, &janus, "Speak Janus's streaming plugin API", NULL},
    {"mount", 0, 0, G_OPTION_ARG_INT64, &o->janus_mount, "Janus mountpoint id (default 1)", "ID"},
    {"token", 0, 0, G_OPTION_ARG_STRING, &o->token, "WHEP Bearer token", "JWT"},
    {"viewers", 'n', 0, G_OPTION_ARG_INT, &o->viewers, "Viewers to open (default 10)", "N"},
    {"rate", 'r', 0, G_OPTION_ARG_DOUBLE, &o->rate, "Viewers started per second (default 50)", "R"},
    {"hold", 't', 0, G_OPTION_ARG_DOUBLE, &o->hold_s, "Seconds to hold all viewers (default 5)",
     "S"},
    {"max-time", 0, 0, G_OPTION_ARG_DOUBLE, &o->max_s,
     "Hard bound on the run (default 120; leaving gets 10 s more)", "S"},
    {"verify-every", 'k', 0, G_OPTION_ARG_INT, &o->verify_every,
     "Decrypt 1 packet in K (default: all up to 50 viewers, then 1 in 16)", "K"},
    {"pid", 'p', 0, G_OPTION_ARG_INT, &o->gateway_pid, "Gateway process to measure", "PID"},
    {"bind", 0, 0, G_OPTION_ARG_STRING, &o->bind_addr,
     "Local IPv4 address of the viewers (default 127.0.0.1)", "ADDR"},
    {"threads", 'j', 0, G_OPTION_ARG_INT, &o->threads,
     "Media threads, each with its own epoll over a share of the viewers (default 1)", "K"},
    {"rcvbuf", 0, 0, G_OPTION_ARG_INT, &o->rcvbuf_kb,
     "Receive buffer per viewer socket in KiB (default 4096; past rmem_max as root)", "KIB"},
    {"gro", 0, 0, G_OPTION_ARG_NONE, &gro,
     "UDP_GRO on the viewer sockets: a GSO send arrives whole and is split here, as "
     "a NIC with UDP segmentation offload would put it on the wire",
     NULL},
    {"core", 0, 0, G_OPTION_ARG_INT, &o->core,
     "The gateway's CPU: report how busy it was over the steady window (/proc/stat), "
     "softirqs and other tasks included",
     "CPU"},
    {"sample", 0, 0, G_OPTION_ARG_INT, &o->sample,
     "Read the media of 1 viewer in K (viewers 0, K, 2K...); for the others a socket filter "
     "drops RTP in the kernel, counted per socket (default 1: every viewer reads)",
     "K"},
    {NULL},
  };
  GOptionContext *ctx = g_option_context_new("- WebRTC load generator (WHEP or Janus)");
  GError *err = NULL;
  gboolean ok;

  o->viewers = 10;
  o->rate = 50;
  o->hold_s = 5;
  o->max_s = 120;
  o->janus_mount = 1;
  o->threads = 1;
  o->rcvbuf_kb = DEFAULT_RCVBUF_KB;
  o->core = -1;
  g_option_context_add_main_entries(ctx, entries, NULL);
  ok = g_option_context_parse(ctx, &argc, &argv, &err);
  g_option_context_free(ctx);
  if (!ok) {
    g_printerr("hc-loadgen: %s\n", err->message);
    g_error_free(err);
    return FALSE;
  }
  o->janus = janus;
  o->gro = gro;
  if (!o->url || o->viewers < 1 || o->viewers > MAX_VIEWERS || o->rate <= 0 || o->hold_s < 0 ||
      o->max_s <= 0 || o->max_s > 3600 || o->verify_every < 0 || o->threads < 1 ||
      o->threads > MAX_THREADS || o->rcvbuf_kb < 64 || o->rcvbuf_kb > 65536 || o->sample < 0 ||
      o->sample > MAX_VIEWERS || o->core < -1 || o->core > 4095) {
    g_printerr("hc-loadgen: need --url, 1 <= --viewers <= %d, --rate > 0, "
               "0 < --max-time <= 3600, 1 <= --threads <= %d, 64 <= --rcvbuf <= 65536, "
               "0 <= --sample <= 20000, -1 <= --core <= 4095\n",
               MAX_VIEWERS, MAX_THREADS);
    return FALSE;
  }
  if (o->verify_every == 0)
    o->verify_every = o->viewers <= 50 ? 1 : 16;
  return TRUE;
}

int
main(int argc, char **argv)
{
  Run r = {0};
  struct rlimit rl;
  GThread *thread;
  gint64 leave_end, left_ms;
  guint not_left = 0;
  int rc = 1;

  if (!parse_options(argc, argv, &r.opt))
    return 2;
  r.bind.sin_family = AF_INET;
  if (inet_pton(AF_INET, r.opt.bind_addr ? r.opt.bind_addr : "127.0.0.1", &r.bind.sin_addr) != 1 ||
      !hc_lg_addr_is_local((struct sockaddr *)&r.bind)) {
    g_printerr("hc-loadgen: --bind needs an IPv4 address of this host\n");
    return 2;
  }
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  if (srtp_init() != srtp_err_status_ok)
    return 1;
  r.media.dtls = hc_lg_dtls_context_new();
  r.media.verify_every = r.opt.verify_every;
  RAND_bytes((unsigned char *)&r.media.tiebreaker, sizeof(r.media.tiebreaker));
  r.signal = r.media.dtls ? hc_lg_signal_new(&r.opt, r.media.dtls) : NULL;
  if (!r.signal)
    goto out;
  g_mutex_init(&r.lock);
  g_cond_init(&r.answered);
  r.t0 = g_get_monotonic_time();
  for (int i = 0; i < r.opt.threads; i++) {
    Media *m = &r.threads[i];

    m->run = &r;
    m->index = i;
    m->epfd = epoll_create1(EPOLL_CLOEXEC);
    m->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    g_mutex_init(&m->lock);
    m->incoming = g_ptr_array_new();
    m->viewers = g_ptr_array_new();
    m->bufs = g_malloc(r.opt.gro ? (gsize)GRO_BATCH * GRO_CAP : (gsize)BATCH * 1500);
    m->thread = g_thread_new("media", media_thread, m);
  }
  thread = g_thread_new("signal", signal_thread, &r);
  report_loop(&r);
  g_thread_join(thread);
  /* Leaving is bounded too: DELETEs go out until LEAVE_S after the run's
   * hard bound (a gateway that stalls would otherwise hold the run 5 s per
   * viewer); viewers left after that are reaped by the server's timeout. */
  leave_end = MAX(g_get_monotonic_time(), r.t0 + (gint64)(r.opt.max_s * G_USEC_PER_SEC)) +
              LEAVE_S * G_USEC_PER_SEC;
  for (int i = 0; i < r.opt.threads; i++) {
    Media *m = &r.threads[i];

    g_thread_join(m->thread);
    take_incoming(m);
    for (guint k = 0; k < m->viewers->len; k++) {
      HcLgViewer *v = m->viewers->pdata[k];
      for (guint j = 0; j < G_N_ELEMENTS(v->tracks) && v->tracks[j].seen; j++)
        g_debug("viewer %d: ssrc %08x first %" G_GUINT64_FORMAT " max %u cycles %" G_GUINT64_FORMAT
                " received %" G_GUINT64_FORMAT " early %" G_GUINT64_FORMAT,
                v->id, v->tracks[j].ssrc, v->tracks[j].first_ext, v->tracks[j].max_seq,
                v->tracks[j].cycles, v->tracks[j].received, v->early);
      left_ms = (leave_end - g_get_monotonic_time()) / 1000;
      if (left_ms > 0)
        hc_lg_signal_leave(r.signal, v, MIN(left_ms, 5000));
      else
        not_left++;
      hc_lg_viewer_free(v);
    }
    g_ptr_array_free(m->viewers, TRUE);
    g_ptr_array_free(m->incoming, TRUE);
    g_mutex_clear(&m->lock);
    g_free(m->bufs);
    close(m->epfd);
    close(m->wake_fd);
  }
  if (not_left)
    g_warning("%u viewers not DELETEd: the run's time bound passed (the server reaps them)",
              not_left);
  g_cond_clear(&r.answered);
  g_mutex_clear(&r.lock);
  rc = 0;
out:
  hc_lg_signal_free(r.signal);
  hc_lg_dtls_context_free(r.media.dtls);
  srtp_shutdown();
  curl_global_cleanup();
  g_free(r.opt.url);
  g_free(r.opt.token);
  g_free(r.opt.bind_addr);
  return rc;
}
