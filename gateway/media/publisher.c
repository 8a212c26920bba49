/* WHIP publishers (see publisher.h). The receive side runs on the fan-out
 * worker that owns the publisher's peer, next to the viewers' send path:
 * SRTP in, reorder and NACK, then the packet goes into the stream's ring as
 * it came (H.264 split only when larger than a slot) and into the stream's
 * whip:// source bin for HLS and recording. */
#define G_LOG_DOMAIN "hc-webrtc"

#include "publisher.h"

#include <gst/app/gstappsrc.h>
#include <openssl/rand.h>
#include <string.h>

#include "fanout-private.h"
#include "rtp-in.h"
#include "webrtc/rtp.h"

#define REORDER_WAIT_US (200 * 1000) /* how long a gap may hold packets back */
#define NACK_REPEAT_US (60 * 1000)   /* a NACK not answered is sent again after this */
#define NACK_MAX 48                  /* sequence numbers in one NACK */
#define DTLS_KEEP_US (5 * G_USEC_PER_SEC)

typedef struct {
  int pt; /* from the answer, -1: not sent */
  gboolean video;
  gboolean seen; /* a packet arrived: ssrc is known */
  guint32 ssrc;  /* the publisher's */
  gint64 nacked_us;
  guint64 woken; /* ring head at the last wake of the workers */
  HcReorder reorder;
} Track;

struct HcPublisher {
  char id[33];
  HcWhipInput *in; /* a reference */
  gint worker;     /* atomic: the peer's worker, -1 once the peer is gone */
  gint want_key;   /* atomic: send a PLI at the next tick */
  /* Worker thread only. */
  guint32 our_ssrc; /* sender SSRC of our RTCP */
  gint64 last_pli_us;
  Track video, audio;
};

HcPublisher *
hc_publisher_new(HcWhipInput *in, const char *peer_fp, int video_pt, int audio_pt, HcViewer **peer)
{
  /* The peer sends nothing: it belongs to an output without rings, so the
   * worker's send path and wake-ups pass it by. */
  HcRtpOut *none = g_atomic_rc_box_new0(HcRtpOut);
  HcPublisher *p = g_atomic_rc_box_new0(HcPublisher);
  HcViewer *v;

  none->name = g_strdup(in->stream);
  v = hc_viewer_new(in->stream, none, peer_fp, -1, -1);
  hc_rtp_out_unref(none);
  /* Not a viewer: out of the viewer lists and counts. */
  hc_viewers_unregister(in->stream, v->id);
  g_strlcpy(p->id, v->id, sizeof p->id);
  p->in = hc_whip_input_ref(in);
  p->worker = -1;
  RAND_bytes((guint8 *)&p->our_ssrc, sizeof p->our_ssrc);
  p->video.pt = video_pt;
  p->video.video = TRUE;
  p->audio.pt = audio_pt;
  hc_reorder_init(&p->video.reorder);
  hc_reorder_init(&p->audio.reorder);
  v->publisher = hc_publisher_ref(p);
  *peer = v;
  return p;
}

HcPublisher *
hc_publisher_ref(HcPublisher *p)
{
  return g_atomic_rc_box_acquire(p);
}

static void
publisher_clear(gpointer data)
{
  HcPublisher *p = data;

  hc_whip_input_unref(p->in);
}

void
hc_publisher_unref(HcPublisher *p)
{
  g_atomic_rc_box_release_full(p, publisher_clear);
}

const char *
hc_publisher_id(const HcPublisher *p)
{
  return p->id;
}

int
hc_publisher_worker(const HcPublisher *p)
{
  return g_atomic_int_get(&p->worker);
}

void
hc_publisher_set_worker(HcPublisher *p, guint worker)
{
  g_atomic_int_set(&p->worker, (gint)worker);
}

int
hc_publisher_video_pt(const HcPublisher *p)
{
  return p->video.pt;
}

int
hc_publisher_audio_pt(const HcPublisher *p)
{
  return p->audio.pt;
}

void
hc_publisher_want_keyframe(HcPublisher *p)
{
  g_atomic_int_set(&p->want_key, 1);
}

typedef struct {
  HcPublisher *p;
  Track *t;
  HcRing *ring;
  gint64 now;
} Delivery;

static void
ring_push(const guint8 *pkt, gsize len, gpointer data)
{
  Delivery *d = data;

  hc_ring_push(d->ring, pkt, len, d->now);
}

/* Worker thread: one packet in sequence order goes to the rings and the
 * source bin, if this publisher is still the stream's. */
static void
deliver(const guint8 *pkt, gsize len, gpointer data)
{
  Delivery *d = data;
  HcWhipInput *in = d->p->in;
  Track *t = d->t;
  GstElement *src;

  g_mutex_lock(&in->lock);
  /* Nothing before the rings are ours (see whip-source.c watch). */
  if (in->owner != d->p || !in->out) {
    g_mutex_unlock(&in->lock);
    return;
  }
  d->ring = t->video ? in->out->video : in->out->audio;
  if (d->ring) {
    if (t->video)
      hc_h264_rtp_split(pkt, len, HC_RING_SLOT_SIZE, ring_push, d);
    else if (len <= HC_RING_SLOT_SIZE)
      hc_ring_push(d->ring, pkt, len, d->now);
    /* Like the packetiser: video wakes the workers once a frame (or every
     * 16 packets), audio on every packet. */
    if (!t->video || (pkt[1] & 0x80) || hc_ring_head(d->ring) - t->woken >= 16) {
      t->woken = hc_ring_head(d->ring);
      hc_fanout_wake(in->out);
    }
  }
  src = t->video ? in->video_src : in->audio_src;
  /* Audio joins the pipeline once its video has started (see whip-source.h). */
  if (!t->video && in->video_src && !g_atomic_int_get(&in->video_started))
    src = NULL;
  if (src)
    gst_app_src_push_buffer(GST_APP_SRC(src), gst_buffer_new_memdup(pkt, len));
  g_mutex_unlock(&in->lock);
}

static void
send_rtcp(HcWorker *w, HcViewer *v, guint8 *buf, gsize len)
{
  int n = (int)len;

  if (len && v->srtp && hc_srtp_protect_rtcp(v->srtp, buf, &n) == 0)
    hc_worker_send_now(w, v, &v->remote, buf, (gsize)n);
}

static void
send_nack(HcWorker *w, HcViewer *v, HcPublisher *p, Track *t, gint64 now)
{
  guint16 seqs[NACK_MAX];
  guint8 buf[12 + 4 * NACK_MAX + HC_SRTP_TRAILER];
  guint n = hc_reorder_missing(&t->reorder, seqs, NACK_MAX);

  if (!n)
    return;
  t->nacked_us = now;
  send_rtcp(w, v, buf,
            hc_rtcp_nack(buf, sizeof buf - HC_SRTP_TRAILER, p->our_ssrc, t->ssrc, seqs, n));
}

void
hc_publisher_receive(HcWorker *w, HcViewer *v, const guint8 *buf, gsize len)
{
  HcPublisher *p = v->publisher;
  guint8 pkt[HC_RECV_CAP];
  int n = (int)len;
  gint64 now = g_get_monotonic_time();
  HcRtpInHeader h;
  Track *t;
  Delivery d;

  if (!v->srtp || len > sizeof pkt) {
    __atomic_fetch_add(&hc_fanout_drops, 1, __ATOMIC_RELAXED);
    return;
  }
  memcpy(pkt, buf, len);
  if (hc_rtp_is_rtcp(buf, len)) {
    /* Sender reports: proof of life; the DTLS session is no longer needed. */
    if (hc_srtp_unprotect_rtcp(v->srtp, pkt, &n) != 0) {
      __atomic_fetch_add(&hc_fanout_drops, 1, __ATOMIC_RELAXED);
      return;
    }
    v->last_heard_us = now;
    if (v->dtls) {
      g_clear_pointer(&v->dtls, hc_dtls_free);
      w->trim = TRUE;
    }
    return;
  }
  if (hc_srtp_unprotect(v->srtp, pkt, &n) != 0 || hc_rtp_in_parse(pkt, (gsize)n, &h) != 0) {
    __atomic_fetch_add(&hc_fanout_drops, 1, __ATOMIC_RELAXED);
    return;
  }
  v->last_heard_us = now;
  t = h.pt == p->video.pt ? &p->video : h.pt == p->audio.pt ? &p->audio : NULL;
  if (!t || n > HC_RTP_IN_MAX)
    return;
  if (t->seen && h.ssrc != t->ssrc) {
    /* The sender started again with a new SSRC: its sequence numbers too. */
    hc_reorder_init(&t->reorder);
    if (t->video)
      hc_publisher_want_keyframe(p);
  }
  t->ssrc = h.ssrc;
  t->seen = TRUE;
  d = (Delivery){p, t, NULL, now};
  if (hc_reorder_push(&t->reorder, pkt, (gsize)n, h.seq, now, deliver, &d))
    send_nack(w, v, p, t, now);
}

void
hc_publisher_tick(HcWorker *w, HcViewer *v, gint64 now)
{
  HcPublisher *p = v->publisher;
  Track *tracks[] = {&p->video, &p->audio};

  for (guint i = 0; i < G_N_ELEMENTS(tracks); i++) {
    Track *t = tracks[i];
    HcReorder *r = &t->reorder;
    Delivery d = {p, t, NULL, now};

    if (!t->seen || !r->held)
      continue;
    if (r->gap_since && now - r->gap_since >= REORDER_WAIT_US) {
      /* Lost for good: hand on what came after, and start the picture again. */
      hc_reorder_expire(r, now, REORDER_WAIT_US, deliver, &d);
      if (t->video)
        hc_publisher_want_keyframe(p);
    } else if (now - t->nacked_us >= NACK_REPEAT_US) {
      send_nack(w, v, p, t, now);
    }
  }
  if (p->video.seen && g_atomic_int_get(&p->want_key) &&
      (!p->last_pli_us || now - p->last_pli_us >= G_USEC_PER_SEC)) {
    guint8 buf[12 + HC_SRTP_TRAILER];

    g_atomic_int_set(&p->want_key, 0);
    p->last_pli_us = now;
    send_rtcp(w, v, buf, hc_rtcp_pli(buf, 12, p->our_ssrc, p->video.ssrc));
    g_debug("publisher %s (stream %s): keyframe requested (PLI for SSRC %u)", p->id, p->in->stream,
            p->video.ssrc);
  }
  /* Without SRTCP from it, keep DTLS a while for retransmitting our last flight. */
  if (v->dtls && now - v->connected_us > DTLS_KEEP_US) {
    g_clear_pointer(&v->dtls, hc_dtls_free);
    w->trim = TRUE;
  }
}

/* Main thread: the peer left (DELETE, consent timeout, DTLS closed). */
static gboolean
peer_gone(gpointer data)
{
  HcPublisher *p = data;

  hc_whip_input_stop(p->in, p, FALSE);
  return G_SOURCE_REMOVE;
}

void
hc_publisher_peer_freed(HcPublisher *p)
{
  g_atomic_int_set(&p->worker, -1);
  /* The peer's reference goes with the idle callback. */
  g_idle_add_full(G_PRIORITY_DEFAULT, peer_gone, p, (GDestroyNotify)hc_publisher_unref);
}
