/* Fan-out workers (see fanout.h): each thread owns a UDP socket, an epoll
 * loop, an eventfd (ring has packets, or a command is queued) and a timer
 * (timeouts, DTLS retransmits, sender reports). The send path reads rings,
 * rewrites and protects per viewer into a batch that goes out by sendmmsg:
 * no lock and no allocation per packet. */
#define G_LOG_DOMAIN "hc-webrtc"

#include "fanout-private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <netinet/udp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/error.h"
#include "publisher.h"
#include "webrtc/rtp.h"

#define TICK_MS 100

typedef enum { CMD_ADD, CMD_REMOVE } CmdType;

typedef struct {
  CmdType type;
  HcViewer *viewer; /* CMD_ADD */
  char id[33];      /* CMD_REMOVE */
} Cmd;

HcFanoutConfig hc_fanout_config;
guint64 hc_fanout_drops;
static HcWorker **workers;
static guint n_workers;
static gint trim_wanted; /* atomic: workers freed DTLS sessions */
static guint trim_source;

/* Main thread, every second: returns freed heap to the system when workers
 * freed DTLS sessions, so the resident size follows the viewers. It can take
 * milliseconds on a large heap: never on a worker. */
static gboolean
trim_heap(gpointer data)
{
  if (g_atomic_int_exchange(&trim_wanted, 0))
    malloc_trim(0);
  return G_SOURCE_CONTINUE;
}

static void
relaxed_add64(guint64 *p, guint64 v)
{
  __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
}

/* Counts one sample of wait 100 us units. Read by the API thread: a
 * relaxed store, no locked add on the hot path. */
static inline void
histogram_add(guint64 *h, gint64 wait)
{
  guint64 *b = &h[CLAMP(wait, 0, HC_LATENCY_BUCKETS - 1)];

  __atomic_store_n(b, __atomic_load_n(b, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

/* Worker thread, every tick: starts a new histogram half every window. */
static void
latency_window(HcWorker *w, gint64 now)
{
  int next = !w->lat_half;

  if (now - w->lat_switch_us < HC_LATENCY_WINDOW_S * G_USEC_PER_SEC)
    return;
  for (guint i = 0; i < HC_LATENCY_BUCKETS; i++) {
    __atomic_store_n(&w->latency[next][i], 0, __ATOMIC_RELAXED);
    __atomic_store_n(&w->wake[next][i], 0, __ATOMIC_RELAXED);
  }
  g_atomic_int_set(&w->lat_half, next);
  w->lat_switch_us = now;
}

guint8 *
hc_worker_slot(HcWorker *w)
{
  if (w->n == HC_BATCH || w->arena_used + HC_PKT_CAP > HC_ARENA)
    hc_worker_flush(w);
  return w->arena + w->arena_used;
}

/* Queues the len bytes just written at the slot for to. A packet of the same
 * viewer as the last message joins it as one more GSO segment when it fits. */
static void
commit_to(HcWorker *w, const HcViewer *v, const HcAddr *to, gsize len, gboolean mergeable)
{
  if (mergeable && w->gso && w->n > 0) {
    __typeof__(w->outs[0]) *o = &w->outs[w->n - 1];
    if (o->viewer == v && !o->closed && len <= o->seg && o->nseg < HC_GSO_MAX_SEGS &&
        o->len + len <= HC_GSO_MAX_BYTES && o->offset + o->len == w->arena_used) {
      o->len += (guint32)len;
      o->nseg++;
      o->closed = len < o->seg;
      w->arena_used += (guint32)len;
      return;
    }
  }
  w->outs[w->n].viewer = mergeable ? v : NULL;
  w->outs[w->n].to = *to;
  w->outs[w->n].local = v->local;
  w->outs[w->n].offset = w->arena_used;
  w->outs[w->n].len = (guint32)len;
  w->outs[w->n].seg = (guint16)len;
  w->outs[w->n].nseg = 1;
  w->outs[w->n].closed = FALSE;
  w->n++;
  w->arena_used += (guint32)len;
}

/* Adds the cmsg that makes the kernel send from local: IP_PKTINFO for an
 * IPv4 address (v4-mapped here, also on a dual-stack socket), IPV6_PKTINFO
 * for an IPv6 one. Returns its space. */
static gsize
source_cmsg(struct cmsghdr *c, const struct in6_addr *local)
{
  if (IN6_IS_ADDR_V4MAPPED(local)) {
    struct in_pktinfo pi = {.ipi_ifindex = 0};

    memcpy(&pi.ipi_spec_dst, local->s6_addr + 12, 4);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof pi);
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
    return CMSG_SPACE(sizeof pi);
  } else {
    struct in6_pktinfo pi = {.ipi6_addr = *local, .ipi6_ifindex = 0};

    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof pi);
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
    return CMSG_SPACE(sizeof pi);
  }
}

/* Fills message i from outs[i]: address, IP(V6)_PKTINFO (send from the
 * address the viewer talks to), UDP_SEGMENT when it holds several packets. */
static void
address_msg(HcWorker *w, guint i)
{
  struct msghdr *h = &w->msgs[i].msg_hdr;
  struct cmsghdr *c;
  gsize control = 0;
  /* Bound to one address, the kernel sends from it anyway: no IP_PKTINFO
   * to parse on every message. */
  gboolean source = w->bound_any && !IN6_IS_ADDR_UNSPECIFIED(&w->outs[i].local);

  w->iov[i].iov_base = w->arena + w->outs[i].offset;
  w->iov[i].iov_len = w->outs[i].len;
  memset(h, 0, sizeof *h);
  h->msg_name = &w->outs[i].to;
  h->msg_namelen = hc_addr_len(&w->outs[i].to);
  h->msg_iov = &w->iov[i];
  h->msg_iovlen = 1;
  if (!source && w->outs[i].nseg == 1)
    return;
  memset(&w->cmsg[i], 0, sizeof w->cmsg[i]);
  h->msg_control = w->cmsg[i].buf;
  h->msg_controllen = sizeof w->cmsg[i].buf;
  c = CMSG_FIRSTHDR(h);
  if (source) {
    control += source_cmsg(c, &w->outs[i].local);
    c = CMSG_NXTHDR(h, c);
  }
  if (w->outs[i].nseg > 1) {
    guint16 seg = w->outs[i].seg;

    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof seg);
    memcpy(CMSG_DATA(c), &seg, sizeof seg);
    control += CMSG_SPACE(sizeof seg);
  }
  h->msg_controllen = control;
}

void
hc_worker_commit(HcWorker *w, const HcViewer *v, gsize len)
{
  commit_to(w, v, &v->remote, len, TRUE);
}

void
hc_worker_flush(HcWorker *w)
{
  guint sent = 0;

  for (guint i = 0; i < w->n; i++)
    address_msg(w, i);
  while (sent < w->n) {
    int r = sendmmsg(w->sock, w->msgs + sent, w->n - sent, 0);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      /* Socket buffer full or the peer is gone: drop this batch's rest. */
      relaxed_add64(&hc_fanout_drops, w->n - sent);
      break;
    }
    for (int i = 0; i < r; i++)
      w->datagrams += w->outs[sent + i].nseg;
    w->messages += (guint)r;
    sent += (guint)r;
  }
  w->n = 0;
  w->arena_used = 0;
}

/* Queues a control datagram (no GSO merging); it goes out with the next flush. */
static void
hc_worker_queue(HcWorker *w, const HcViewer *v, const HcAddr *to, const guint8 *data, gsize len)
{
  guint8 *slot;

  if (len > HC_PKT_CAP) {
    /* Cannot happen with the DTLS MTU set; never write past a slot. */
    relaxed_add64(&hc_fanout_drops, 1);
    return;
  }
  slot = hc_worker_slot(w);
  memcpy(slot, data, len);
  commit_to(w, v, to, len, FALSE);
}

void
hc_worker_send_now(HcWorker *w, const HcViewer *v, const HcAddr *to, const guint8 *data, gsize len)
{
  hc_worker_queue(w, v, to, data, len);
  hc_worker_flush(w);
}

/* Fast start sends the cached GOP at once. Played at its own pace it would
 * keep the viewer (and, through lip sync, its audio) as far behind live as
 * the keyframe is old; so its timestamps are squeezed 128-fold towards the
 * join point: a 2 s GOP flashes by in 16 ms, then media is live (a player
 * that anchors its clock on the keyframe lags live by that much; 16-fold
 * kept it up to 125 ms behind: tools/bench-faststart). Returns
 * what to add to the viewer's timestamp offset for packet idx. */
static guint32
fast_start_shift(const HcViewerTrack *t, guint64 idx, guint32 ts)
{
  guint32 behind = t->join_ts - ts;

  if (idx >= t->join || behind > 0x7fffffffu)
    return 0;
  return behind - behind / 128;
}

gboolean
hc_worker_emit(HcWorker *w, HcViewer *v, HcViewerTrack *t, guint64 idx, gboolean retransmit)
{
  guint8 *buf = hc_worker_slot(w);
  gint64 time_us = 0;
  gsize len = hc_ring_read(t->ring, idx, buf, NULL, &time_us);
  int n;

  if (len == 0)
    return FALSE;
  if (len < 12)
    return FALSE;
  if (!retransmit && idx >= t->join) {
    gint64 arrival = hc_ring_arrival(t->ring, idx);
    gint64 wait = arrival && w->now > arrival ? (w->now - arrival) / 100 : 0;

    histogram_add(w->latency[w->lat_half], wait);
  }
  if (!retransmit) {
    t->last_ts = hc_rtp_timestamp(buf);
    t->last_time_us = time_us;
  }
  if (hc_rtp_rewrite(buf, len, (guint8)t->pt, (guint16)(t->seq_base + (guint16)(idx - t->first)),
                     t->ts_offset + fast_start_shift(t, idx, hc_rtp_timestamp(buf)), t->ssrc) != 0)
    return FALSE;
  n = (int)len;
  if (hc_srtp_fast_protect(v->srtp_fast, buf, &n) != 0)
    return FALSE;
  hc_worker_commit(w, v, (gsize)n);
  relaxed_add64(&t->packets, 1);
  relaxed_add64(&t->bytes, (guint64)n);
  return TRUE;
}

/* Sends what the ring has for one track of a connected viewer. */
static void
send_track(HcWorker *w, HcViewer *v, HcViewerTrack *t, gboolean video)
{
  HcRing *ring = t->ring;
  guint64 head;

  if (t->pt < 0 || !ring)
    return;
  head = hc_ring_head(ring);
  if (t->next < head)
    w->now = g_get_monotonic_time();
  if (!t->started || head - t->next > ring->size - ring->size / 8) {
    /* Start (or restart after falling behind) on the latest keyframe. */
    guint64 start = video ? hc_ring_start_index(ring) : head;
    if (!t->started)
      t->first = start;
    else
      g_info("viewer %s (stream %s): fell behind, skipping to the latest keyframe", v->id,
             v->stream);
    /* Everything before the head now is the cached GOP (see fast_start_shift). */
    t->join = head;
    if (start < head && hc_ring_read(ring, head - 1, w->scratch, NULL, NULL) >= 12)
      t->join_ts = hc_rtp_timestamp(w->scratch);
    else
      t->join = start;
    t->next = start;
    t->started = TRUE;
    if (video && start == head)
      hc_rtp_out_request_keyframe(v->out);
  }
  for (; t->next < head; t->next++)
    hc_worker_emit(w, v, t, t->next, FALSE);
}

/* The newest packet's age in the rings of out, in 100 us units; -1 if none. */
static gint64
newest_arrival(const HcRing *ring)
{
  guint64 head = ring ? hc_ring_head(ring) : 0;

  return head ? hc_ring_arrival(ring, head - 1) : 0;
}

static gint64
wake_delay(HcRtpOut *out, gint64 now)
{
  gint64 newest = MAX(newest_arrival(out->video), newest_arrival(out->audio));

  return newest && now > newest ? (now - newest) / 100 : -1;
}

/* Asks for what the pass will read of viewer vs[i + 3], vs[i + 2] and
 * vs[i + 1], a stage each: the viewer, its SRTP session, then the cipher's
 * keys; each step's pointer was fetched by the step before. With thousands
 * of viewers these miss the cache, one after the other, on every pass. */
static inline void
prefetch_ahead(HcViewer *const *vs, guint i, guint n)
{
  if (i + 3 < n)
    for (guint k = 0; k < sizeof(HcViewer); k += 64)
      __builtin_prefetch((const char *)vs[i + 3] + k);
  if (i + 2 < n && vs[i + 2]->srtp_fast)
    __builtin_prefetch(vs[i + 2]->srtp_fast);
  if (i + 1 < n && vs[i + 1]->srtp_fast)
    hc_srtp_fast_prefetch(vs[i + 1]->srtp_fast);
}

/* Sends what the rings have to the viewers of the streams that woke this
 * worker (all streams when all is TRUE, on the timer). */
static void
send_media(HcWorker *w, gboolean all)
{
  for (guint g = 0; g < w->groups->len; g++) {
    HcStreamGroup *grp = w->groups->pdata[g];
    HcViewer *const *vs = (HcViewer *const *)grp->viewers->pdata;
    guint n = grp->viewers->len;

    if (!g_atomic_int_exchange(&grp->out->dirty[w->index], 0) && !all)
      continue;
    if (!all) {
      gint64 delay = wake_delay(grp->out, g_get_monotonic_time());
      if (delay >= 0)
        histogram_add(w->wake[w->lat_half], delay);
    }
    for (guint i = 0; i < n; i++) {
      HcViewer *v = vs[i];

      prefetch_ahead(vs, i, n);
      if (g_atomic_int_get(&v->state) != HC_VIEWER_CONNECTED)
        continue;
      send_track(w, v, &v->video, TRUE);
      send_track(w, v, &v->audio, FALSE);
    }
  }
  hc_worker_flush(w);
}

static HcStreamGroup *
group_of(HcWorker *w, HcRtpOut *out, gboolean create)
{
  HcStreamGroup *grp;

  for (guint g = 0; g < w->groups->len; g++) {
    grp = w->groups->pdata[g];
    if (grp->out == out)
      return grp;
  }
  if (!create)
    return NULL;
  grp = g_new0(HcStreamGroup, 1);
  grp->out = out;
  grp->viewers = g_ptr_array_new();
  g_ptr_array_add(w->groups, grp);
  return grp;
}

/* Worker thread: takes v's remote address out of the address table, if
 * the entry is still v's. */
static void
forget_remote(HcWorker *w, HcViewer *v)
{
  if (v->has_remote && g_hash_table_lookup(w->by_addr, &v->remote) == v)
    g_hash_table_remove(w->by_addr, &v->remote);
}

void
hc_worker_set_remote(HcWorker *w, HcViewer *v, const HcAddr *from, const struct in6_addr *local)
{
  forget_remote(w, v);
  v->remote = *from;
  v->local = *local;
  v->has_remote = TRUE;
  /* The key is v's own copy: replace, so no entry keeps another viewer's. */
  g_hash_table_replace(w->by_addr, &v->remote, v);
}

static void
worker_add(HcWorker *w, HcViewer *v)
{
  g_ptr_array_add(w->viewers, v);
  g_ptr_array_add(group_of(w, v->out, TRUE)->viewers, v);
  g_hash_table_insert(w->by_ufrag, v->ufrag, v);
  g_hash_table_insert(w->by_id, v->id, v);
  g_atomic_int_inc(&v->out->per_worker[w->index]);
}

/* Worker thread: forgets and frees v. */
void
hc_worker_drop(HcWorker *w, HcViewer *v, const char *why)
{
  HcStreamGroup *grp;

  g_info("viewer %s (stream %s): removed (%s)", v->id, v->stream, why);
  if (v->dtls && g_atomic_int_get(&v->state) == HC_VIEWER_CONNECTED) {
    guint8 *buf = w->scratch;
    gsize n;
    /* Tell the peer with a DTLS close_notify so it stops at once. */
    hc_dtls_close(v->dtls);
    while ((n = hc_dtls_next_out(v->dtls, buf, sizeof w->scratch)) > 0)
      hc_worker_send_now(w, v, &v->remote, buf, n);
  }
  g_atomic_int_set(&v->state, HC_VIEWER_CLOSED);
  forget_remote(w, v);
  g_hash_table_remove(w->by_ufrag, v->ufrag);
  g_hash_table_remove(w->by_id, v->id);
  g_ptr_array_remove_fast(w->viewers, v);
  grp = group_of(w, v->out, FALSE);
  if (grp) {
    g_ptr_array_remove_fast(grp->viewers, v);
    if (grp->viewers->len == 0) {
      g_ptr_array_remove_fast(w->groups, grp);
      g_ptr_array_unref(grp->viewers);
      g_free(grp);
    }
  }
  g_atomic_int_add(&v->out->per_worker[w->index], -1);
  g_atomic_int_add(&w->load, -1);
  hc_viewer_free(v);
}

static void
run_commands(HcWorker *w)
{
  Cmd *c;

  for (;;) {
    g_mutex_lock(&w->qlock);
    c = g_queue_pop_head(&w->queue);
    g_mutex_unlock(&w->qlock);
    if (!c)
      break;
    if (c->type == CMD_ADD) {
      worker_add(w, c->viewer);
    } else {
      HcViewer *v = g_hash_table_lookup(w->by_id, c->id);
      if (v)
        hc_worker_drop(w, v, "deleted");
    }
    g_free(c);
  }
}

static void
send_sender_report(HcWorker *w, HcViewer *v, HcViewerTrack *t, gint64 now, guint64 ntp)
{
  guint8 *buf = w->scratch;
  guint32 ts;
  int n;

  if (t->pt < 0 || !t->started || !t->last_time_us)
    return;
  /* The RTP time of now, from the last packet's media time. */
  ts = t->last_ts + t->ts_offset + (guint32)((now - t->last_time_us) * (gint64)t->clock / 1000000);
  n = (int)hc_rtcp_sender_report(buf, sizeof w->scratch - HC_SRTP_TRAILER, t->ssrc, ntp, ts,
                                 (guint32)t->packets, (guint32)t->bytes);
  if (n && hc_srtp_protect_rtcp(v->srtp, buf, &n) == 0)
    hc_worker_queue(w, v, &v->remote, buf, (gsize)n);
}

/* Every TICK_MS: timeouts, DTLS retransmits, sender reports. */
static void
tick(HcWorker *w)
{
  gint64 now = g_get_monotonic_time();
  guint64 ntp = hc_ntp_now();
  gint64 handshake = (gint64)hc_fanout_config.handshake_timeout_s * G_USEC_PER_SEC;
  gint64 idle = (gint64)hc_fanout_config.idle_timeout_s * G_USEC_PER_SEC;

  latency_window(w, now);
  /* DTLS handshakes free tens of KB each: the main thread gives them back
   * to the system (trim_heap), away from the send path. */
  if (w->trim) {
    w->trim = FALSE;
    g_atomic_int_set(&trim_wanted, 1);
  }
  for (guint i = w->viewers->len; i > 0; i--) {
    HcViewer *v = w->viewers->pdata[i - 1];
    HcViewerState st = g_atomic_int_get(&v->state);

    if (g_atomic_int_get(&v->out->closed)) {
      hc_worker_drop(w, v, "the stream was removed");
    } else if (st != HC_VIEWER_CONNECTED && now - v->created_us > handshake) {
      hc_worker_drop(w, v, st == HC_VIEWER_ICE ? "no ICE in time" : "no DTLS in time");
    } else if (st == HC_VIEWER_CONNECTED && now - v->last_heard_us > idle) {
      hc_worker_drop(w, v, "silent: no STUN consent or RTCP");
    } else if (st == HC_VIEWER_DTLS) {
      gsize n;
      hc_dtls_tick(v->dtls);
      while ((n = hc_dtls_next_out(v->dtls, w->scratch, sizeof w->scratch)) > 0)
        hc_worker_send_now(w, v, &v->remote, w->scratch, n);
    } else if (st == HC_VIEWER_CONNECTED && v->publisher) {
      hc_publisher_tick(w, v, now); /* a WHIP publisher: NACK, PLI; we send no media */
    } else if (st == HC_VIEWER_CONNECTED && now - v->last_sr_us >= G_USEC_PER_SEC) {
      /* Without RTCP from it, keep DTLS 5 s for retransmitting our last flight. */
      if (v->dtls && now - v->connected_us > 5 * G_USEC_PER_SEC) {
        g_clear_pointer(&v->dtls, hc_dtls_free);
        w->trim = TRUE;
      }
      v->last_sr_us = now;
      send_sender_report(w, v, &v->video, now, ntp);
      send_sender_report(w, v, &v->audio, now, ntp);
    }
  }
}

static void
receive_all(HcWorker *w)
{
  for (;;) {
    int n;

    for (guint i = 0; i < HC_RECV_BATCH; i++) {
      struct msghdr *h = &w->rmsgs[i].msg_hdr;
      w->riov[i].iov_base = w->rbufs[i];
      w->riov[i].iov_len = HC_RECV_CAP;
      memset(h, 0, sizeof *h);
      h->msg_name = &w->rfrom[i];
      h->msg_namelen = sizeof w->rfrom[i];
      h->msg_iov = &w->riov[i];
      h->msg_iovlen = 1;
      h->msg_control = w->rcmsg[i].buf;
      h->msg_controllen = sizeof w->rcmsg[i].buf;
    }
    n = recvmmsg(w->sock, w->rmsgs, HC_RECV_BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0)
      return;
    for (int i = 0; i < n; i++) {
      struct msghdr *h = &w->rmsgs[i].msg_hdr;
      struct in6_addr local = IN6ADDR_ANY_INIT;

      /* Our address the datagram came to: IPv4 as v4-mapped. */
      for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c))
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
          struct in_pktinfo pi;
          memcpy(&pi, CMSG_DATA(c), sizeof pi);
          local.s6_addr[10] = local.s6_addr[11] = 0xff;
          memcpy(local.s6_addr + 12, &pi.ipi_addr, 4);
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
          struct in6_pktinfo pi;
          memcpy(&pi, CMSG_DATA(c), sizeof pi);
          local = pi.ipi6_addr;
        }
      if (h->msg_namelen == hc_addr_len(&w->rfrom[i]) && h->msg_namelen &&
          !(h->msg_flags & MSG_TRUNC))
        hc_worker_receive(w, w->rbufs[i], w->rmsgs[i].msg_len, &w->rfrom[i], &local);
    }
    hc_worker_flush(w);
    if (n < HC_RECV_BATCH)
      return;
  }
}

static gpointer
worker_main(gpointer data)
{
  HcWorker *w = data;
  struct epoll_event ev[8];

  while (!g_atomic_int_get(&w->stop)) {
    int n = epoll_wait(w->epfd, ev, G_N_ELEMENTS(ev), 1000);

    for (int i = 0; i < n; i++) {
      guint64 count;

      if (ev[i].data.fd == w->evfd) {
        if (read(w->evfd, &count, sizeof count) < 0 && errno != EAGAIN)
          g_warning("worker %u: eventfd: %s", w->index, g_strerror(errno));
        run_commands(w);
        send_media(w, FALSE);
      } else if (ev[i].data.fd == w->sock) {
        receive_all(w);
      } else if (ev[i].data.fd == w->timerfd) {
        if (read(w->timerfd, &count, sizeof count) < 0 && errno != EAGAIN)
          g_warning("worker %u: timerfd: %s", w->index, g_strerror(errno));
        run_commands(w);
        tick(w);
        send_media(w, TRUE);
      }
    }
  }
  return NULL;
}

static int
watch(int epfd, int fd)
{
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

  return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev);
}

/* p50, p99 and p99.9 of the histograms of n workers (the field at offset
 * in HcWorker: latency or wake, both halves), as upper bounds in ms (bucket
 * ends); -1 without data. */
static void
latency_percentiles(HcWorker *const *ws, guint n, gsize offset, double out[3])
{
  static const guint64 per[3][2] = {{1, 2}, {99, 100}, {999, 1000}};
  guint64 sum[HC_LATENCY_BUCKETS] = {0}, total = 0, seen = 0;
  guint k = 0;

  for (guint i = 0; i < HC_LATENCY_BUCKETS; i++) {
    for (guint j = 0; j < n; j++) {
      const guint64(*h)[HC_LATENCY_BUCKETS] = (const void *)((const char *)ws[j] + offset);
      sum[i] +=
        __atomic_load_n(&h[0][i], __ATOMIC_RELAXED) + __atomic_load_n(&h[1][i], __ATOMIC_RELAXED);
    }
    total += sum[i];
  }
  out[0] = out[1] = out[2] = -1;
  for (guint i = 0; i < HC_LATENCY_BUCKETS && total && k < 3; i++) {
    seen += sum[i];
    while (k < 3 && seen * per[k][1] >= total * per[k][0])
      out[k++] = (i + 1) / 10.0;
  }
}

void
hc_fanout_latency(double out[3])
{
  latency_percentiles(workers, n_workers, G_STRUCT_OFFSET(HcWorker, latency), out);
}

static void
worker_free(HcWorker *w)
{
  if (w->thread) {
    guint64 one = 1;
    g_atomic_int_set(&w->stop, 1);
    if (write(w->evfd, &one, sizeof one) < 0)
      g_warning("worker %u: cannot wake: %s", w->index, g_strerror(errno));
    g_thread_join(w->thread);
  }
  if (w->messages) {
    double p[3], k[3];
    HcWorker *one[] = {w};

    latency_percentiles(one, 1, G_STRUCT_OFFSET(HcWorker, latency), p);
    latency_percentiles(one, 1, G_STRUCT_OFFSET(HcWorker, wake), k);
    g_info("worker %u: sent %" G_GUINT64_FORMAT " datagrams in %" G_GUINT64_FORMAT
           " messages%s; over the last 5-10 s, appsink to send: p50 < %.1f ms, p99 < %.1f ms, "
           "p99.9 < %.1f ms; appsink to the worker's pass: p50 < %.1f ms, p99 < %.1f ms",
           w->index, w->datagrams, w->messages, w->gso ? " (UDP GSO)" : "", p[0], p[1], p[2], k[0],
           k[1]);
  }
  run_commands(w);
  while (w->viewers && w->viewers->len)
    hc_worker_drop(w, w->viewers->pdata[0], "shutdown");
  for (int *fd = &w->epfd; fd <= &w->timerfd; fd++)
    if (*fd >= 0)
      close(*fd);
  if (w->viewers)
    g_ptr_array_unref(w->viewers);
  if (w->groups)
    g_ptr_array_unref(w->groups); /* empty: every viewer was dropped */
  if (w->by_ufrag) {
    g_hash_table_unref(w->by_ufrag);
    g_hash_table_unref(w->by_addr);
    g_hash_table_unref(w->by_id);
  }
  g_mutex_clear(&w->qlock);
  g_free(w);
}

/* Opens worker index's UDP socket on [webrtc] udp_address: an IPv6 one
 * takes IPv4 too (IPV6_V6ONLY off; :: is dual-stack), an IPv4 one only
 * IPv4. Without IPv6 in the kernel, :: falls back to 0.0.0.0. Sets w->sock,
 * family, port, bound_any, gso; FALSE with error set on failure. */
static gboolean
worker_socket(HcWorker *w, GError **error)
{
  HcAddr addr;
  socklen_t alen = sizeof addr;
  int one = 1, zero = 0, bufsize = 4 << 20;
  guint16 port = hc_fanout_config.udp_port ? hc_fanout_config.udp_port + w->index : 0;

  if (!hc_addr_parse(hc_fanout_config.udp_address, port, &addr)) {
    g_set_error(error, HC_ERROR, HC_ECONFIG,
                "[webrtc] udp_address: expected an IPv4 or IPv6 address, got '%s'",
                hc_fanout_config.udp_address);
    return FALSE;
  }
  w->sock = socket(addr.sa.sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (w->sock < 0 && errno == EAFNOSUPPORT && hc_addr_is_any(&addr)) {
    g_warning("WebRTC worker %u: no IPv6 in this kernel; UDP on 0.0.0.0 (IPv4 only)", w->index);
    hc_addr_parse("0.0.0.0", port, &addr);
    w->sock = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  }
  w->family = addr.sa.sa_family;
  if (w->sock >= 0 && w->family == AF_INET6 &&
      (setsockopt(w->sock, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) < 0 ||
       setsockopt(w->sock, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) < 0))
    goto fail;
  /* IPv4 datagrams on a dual-stack socket say their destination this way too. */
  if (w->sock < 0 || setsockopt(w->sock, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0 ||
      bind(w->sock, &addr.sa, hc_addr_len(&addr)) < 0 || getsockname(w->sock, &addr.sa, &alen) < 0)
    goto fail;
  setsockopt(w->sock, SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
  setsockopt(w->sock, SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
  {
    /* DF on all we send (media stays under 1300 bytes, DTLS under its MTU):
     * the kernel then sets IP ID 0 instead of hashing one per datagram, and
     * never fragments. PROBE: learnt path MTUs cause no send errors. */
    int pmtu = IP_PMTUDISC_PROBE, pmtu6 = IPV6_PMTUDISC_PROBE;
    setsockopt(w->sock, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu);
    if (w->family == AF_INET6)
      setsockopt(w->sock, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu6, sizeof pmtu6);
  }
  {
    /* UDP GSO if the kernel has it: set, then clear the socket default (each
     * message says its own segment size). */
    int seg = 1200, none = 0;
    w->gso = setsockopt(w->sock, SOL_UDP, UDP_SEGMENT, &seg, sizeof seg) == 0 &&
             setsockopt(w->sock, SOL_UDP, UDP_SEGMENT, &none, sizeof none) == 0;
  }
  w->port = ntohs(addr.in.sin_port); /* sin6_port is at the same place */
  w->bound_any = hc_addr_is_any(&addr);
  return TRUE;
fail:
  g_set_error(error, HC_ERROR, HC_EINTERNAL, "WebRTC worker %u: cannot bind UDP %s port %u: %s",
              w->index, hc_fanout_config.udp_address, port, g_strerror(errno));
  return FALSE;
}

static HcWorker *
worker_new(guint index, GError **error)
{
  HcWorker *w = g_new0(HcWorker, 1);
  struct itimerspec its = {{0, TICK_MS * 1000000L}, {0, TICK_MS * 1000000L}};
  char name[16];

  w->index = index;
  w->epfd = w->sock = w->evfd = w->timerfd = -1;
  g_mutex_init(&w->qlock);
  g_queue_init(&w->queue);
  w->viewers = g_ptr_array_new();
  w->groups = g_ptr_array_new();
  w->by_ufrag = g_hash_table_new(g_str_hash, g_str_equal);
  w->by_addr = g_hash_table_new(hc_addr_hash, hc_addr_equal_fn);
  w->by_id = g_hash_table_new(g_str_hash, g_str_equal);
  if (!worker_socket(w, error))
    goto fail;
  w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  w->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  w->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (w->evfd < 0 || w->timerfd < 0 || w->epfd < 0 || timerfd_settime(w->timerfd, 0, &its, NULL) ||
      watch(w->epfd, w->sock) || watch(w->epfd, w->evfd) || watch(w->epfd, w->timerfd)) {
    g_set_error(error, HC_ERROR, HC_EINTERNAL, "WebRTC worker %u: %s", index, g_strerror(errno));
    goto fail;
  }
  g_snprintf(name, sizeof name, "hc-fanout-%u", index);
  w->thread = g_thread_new(name, worker_main, w);
  return w;
fail:
  worker_free(w);
  return NULL;
}

gboolean
hc_fanout_start(const HcFanoutConfig *cfg, GError **error)
{
  guint n = cfg->workers ? cfg->workers : g_get_num_processors();

  hc_fanout_config = *cfg;
  n = CLAMP(n, 1, HC_FANOUT_MAX_WORKERS);
  workers = g_new0(HcWorker *, n);
  for (guint i = 0; i < n; i++) {
    workers[i] = worker_new(i, error);
    if (!workers[i]) {
      n_workers = i;
      hc_fanout_stop();
      return FALSE;
    }
    n_workers = i + 1;
  }
  trim_source = g_timeout_add_seconds(1, trim_heap, NULL);
  g_info("WebRTC: %u fan-out workers on UDP %s ports %u..%u (%s)%s", n, cfg->udp_address,
         workers[0]->port, workers[n - 1]->port,
         workers[0]->family == AF_INET ? "IPv4"
         : workers[0]->bound_any       ? "IPv6 and IPv4"
                                       : "IPv6",
         workers[0]->gso ? ", UDP GSO" : "");
  return TRUE;
}

void
hc_fanout_stop(void)
{
  if (trim_source)
    g_source_remove(trim_source);
  trim_source = 0;
  for (guint i = 0; i < n_workers; i++)
    g_atomic_int_set(&workers[i]->stop, 1);
  for (guint i = 0; i < n_workers; i++)
    worker_free(workers[i]);
  g_clear_pointer(&workers, g_free);
  n_workers = 0;
}

guint
hc_fanout_workers(void)
{
  return n_workers;
}

guint16
hc_fanout_port(guint worker)
{
  return worker < n_workers ? workers[worker]->port : 0;
}

gboolean
hc_fanout_ipv6(void)
{
  return n_workers > 0 && workers[0]->family == AF_INET6;
}

void
hc_fanout_assign(HcViewer *v)
{
  guint best = 0;

  for (guint i = 1; i < n_workers; i++)
    if (g_atomic_int_get(&workers[i]->load) < g_atomic_int_get(&workers[best]->load))
      best = i;
  v->worker = best;
  g_atomic_int_inc(&workers[best]->load);
}

static void
push(HcWorker *w, Cmd *c)
{
  guint64 one = 1;

  g_mutex_lock(&w->qlock);
  g_queue_push_tail(&w->queue, c);
  g_mutex_unlock(&w->qlock);
  if (write(w->evfd, &one, sizeof one) < 0)
    g_warning("worker %u: cannot wake: %s", w->index, g_strerror(errno));
}

void
hc_fanout_add(HcViewer *v)
{
  Cmd *c = g_new0(Cmd, 1);

  c->type = CMD_ADD;
  c->viewer = v;
  push(workers[v->worker], c);
}

void
hc_fanout_remove(int worker, const char *id)
{
  Cmd *c;

  if (worker < 0 || (guint)worker >= n_workers)
    return;
  c = g_new0(Cmd, 1);
  c->type = CMD_REMOVE;
  g_strlcpy(c->id, id, sizeof c->id);
  push(workers[worker], c);
}

void
hc_fanout_wake(HcRtpOut *out)
{
  guint64 one = 1;

  for (guint i = 0; i < n_workers; i++)
    if (g_atomic_int_get(&out->per_worker[i]) > 0 && !g_atomic_int_exchange(&out->dirty[i], 1))
      if (write(workers[i]->evfd, &one, sizeof one) < 0 && errno != EAGAIN)
        g_warning("worker %u: cannot wake: %s", i, g_strerror(errno));
}

guint64
hc_fanout_dropped(void)
{
  return __atomic_load_n(&hc_fanout_drops, __ATOMIC_RELAXED);
}
