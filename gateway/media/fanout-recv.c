/* What viewers send to a fan-out worker, demultiplexed by first byte
 * (RFC 7983): STUN binding requests (ICE-lite, consent), DTLS handshake
 * records, SRTCP feedback (receiver reports, NACK, PLI/FIR). Anything from an
 * unknown address or failing authentication is dropped and counted. */
#define G_LOG_DOMAIN "hc-webrtc"

#include <string.h>

#include "core/log.h"
#include "fanout-private.h"
#include "publisher.h"
#include "webrtc/rtp.h"
#include "webrtc/stun.h"

static void
drop_why(const char *why)
{
  __atomic_fetch_add(&hc_fanout_drops, 1, __ATOMIC_RELAXED);
  /* A flood of junk must not cost a formatted line each. */
  if (hc_log_enabled(G_LOG_LEVEL_DEBUG))
    g_debug("dropped a datagram: %s", why);
}
#define drop() drop_why(G_STRLOC)

static void
flush_dtls(HcWorker *w, HcViewer *v)
{
  gsize n;

  while ((n = hc_dtls_next_out(v->dtls, w->scratch, sizeof w->scratch)) > 0)
    hc_worker_send_now(w, v, &v->remote, w->scratch, n);
}

static void
on_stun(HcWorker *w, const guint8 *buf, gsize len, const HcAddr *from, const struct in6_addr *local)
{
  HcStunMessage m;
  const guint8 *colon;
  char ufrag[9];
  HcViewer *v;
  gsize n;

  if (hc_stun_parse(buf, len, &m) == 0 && m.type == HC_STUN_BINDING_INDICATION) {
    /* A keepalive (RFC 8445 11). Unauthenticated, so not consent (RFC 7675):
     * ignored, and not counted as a bad datagram either. */
    return;
  }
  if (hc_stun_parse(buf, len, &m) != 0 || m.type != HC_STUN_BINDING_REQUEST || !m.username) {
    drop();
    return;
  }
  /* USERNAME is "our-ufrag:their-ufrag". */
  colon = memchr(m.username, ':', m.username_len);
  if (!colon || colon - m.username != 8) {
    drop();
    return;
  }
  memcpy(ufrag, m.username, 8);
  ufrag[8] = '\0';
  v = g_hash_table_lookup(w->by_ufrag, ufrag);
  if (!v || !hc_stun_check_integrity(buf, len, &m, v->pwd, strlen(v->pwd)) ||
      (m.fingerprint_at && !hc_stun_check_fingerprint(buf, len, &m))) {
    drop();
    return;
  }
  n = hc_stun_binding_response(w->scratch, sizeof w->scratch, m.txid, from, v->pwd, strlen(v->pwd));
  v->last_heard_us = g_get_monotonic_time();
  /* ICE-lite: the first authenticated check picks the path; a nominated one
   * (USE-CANDIDATE) may move it. */
  if (!v->has_remote || (m.use_candidate && !hc_addr_equal(&v->remote, from)))
    hc_worker_set_remote(w, v, from, local);
  if (n)
    hc_worker_send_now(w, v, from, w->scratch, n);
  if (g_atomic_int_get(&v->state) == HC_VIEWER_ICE) {
    v->dtls = hc_dtls_new(v->peer_fp);
    g_atomic_int_set(&v->state, HC_VIEWER_DTLS);
    g_debug("viewer %s (stream %s): ICE done", v->id, v->stream);
  }
}

static void
on_dtls(HcWorker *w, HcViewer *v, const guint8 *buf, gsize len)
{
  HcDtlsState st;
  guint8 send[HC_SRTP_MAX_KEY], recv[HC_SRTP_MAX_KEY];

  if (!v->dtls) {
    /* The session was freed once SRTP ran: an alert record (content type 21,
     * in clear in the header) is close_notify or fatal, so the viewer left. */
    if (buf[0] == 21 && g_atomic_int_get(&v->state) == HC_VIEWER_CONNECTED)
      hc_worker_drop(w, v, "the viewer closed DTLS");
    return;
  }
  st = hc_dtls_receive(v->dtls, buf, len);
  flush_dtls(w, v);
  v->last_heard_us = g_get_monotonic_time();
  if (st == HC_DTLS_CONNECTED && g_atomic_int_get(&v->state) == HC_VIEWER_DTLS) {
    if (hc_dtls_srtp_keys(v->dtls, &v->profile, send, recv) != 0) {
      hc_worker_drop(w, v, "no SRTP profile negotiated");
      return;
    }
    if (!(v->srtp = (v->publisher ? hc_srtp_new : hc_srtp_new_rtcp)(v->profile, send, recv)) ||
        !(v->srtp_fast = hc_srtp_fast_new(v->profile, send))) {
      hc_worker_drop(w, v, "libsrtp refused the keys");
      return;
    }
    memset(send, 0, sizeof send);
    memset(recv, 0, sizeof recv);
    v->connected_us = v->last_heard_us;
    g_atomic_int_set(&v->state, HC_VIEWER_CONNECTED);
    g_info("viewer %s (stream %s): connected (%s) %" G_GINT64_FORMAT " ms after the offer", v->id,
           v->stream, hc_srtp_profile_name(v->profile), (v->connected_us - v->created_us) / 1000);
  } else if (st == HC_DTLS_CLOSED) {
    hc_worker_drop(w, v, "the viewer closed DTLS");
  } else if (st == HC_DTLS_FAILED) {
    hc_worker_drop(w, v, "DTLS failed");
  }
}

typedef struct {
  HcWorker *w;
  HcViewer *v;
  gint64 now;
} Feedback;

static HcViewerTrack *
track_of(HcViewer *v, guint32 ssrc)
{
  if (v->video.pt >= 0 && ssrc == v->video.ssrc)
    return &v->video;
  if (v->audio.pt >= 0 && ssrc == v->audio.ssrc)
    return &v->audio;
  return NULL;
}

static void
on_report(gpointer data, guint32 ssrc, guint8 fraction, gint32 lost, guint32 jitter, guint32 lsr,
          guint32 dlsr)
{
  Feedback *f = data;
  HcViewerTrack *t = track_of(f->v, ssrc);

  if (!t)
    return;
  __atomic_store_n(&t->lost, (guint32)MAX(lost, 0), __ATOMIC_RELAXED);
  __atomic_store_n(&t->jitter, jitter, __ATOMIC_RELAXED);
  if (lsr) {
    /* RFC 3550 6.4.1: RTT = now - LSR - DLSR, in 1/65536 s. */
    guint32 mid = (guint32)(hc_ntp_now() >> 16);
    guint32 rtt = mid - lsr - dlsr;
    if (rtt < 65536u * 10)
      __atomic_store_n(&t->rtt_us, MAX(1u, (guint32)((guint64)rtt * 1000000 / 65536)),
                       __ATOMIC_RELAXED);
  }
}

static void
on_nack(gpointer data, guint32 ssrc, guint16 seq)
{
  Feedback *f = data;
  HcViewer *v = f->v;
  HcViewerTrack *t = track_of(v, ssrc);
  guint64 idx;

  if (!t || !t->started || t->next == t->first)
    return;
  __atomic_fetch_add(&t->nacks, 1, __ATOMIC_RELAXED);
  if (f->now - v->nack_window_us >= G_USEC_PER_SEC) {
    v->nack_window_us = f->now;
    v->nack_budget = hc_fanout_config.nack_per_second;
  }
  if (v->nack_budget == 0)
    return;
  idx = hc_viewer_track_index(t, seq);
  if (idx == G_MAXUINT64)
    return;
  if (hc_worker_emit(f->w, v, t, idx, TRUE)) {
    v->nack_budget--;
    __atomic_fetch_add(&t->retransmits, 1, __ATOMIC_RELAXED);
  }
}

static void
on_keyframe(gpointer data, guint32 ssrc)
{
  Feedback *f = data;
  HcViewerTrack *t = track_of(f->v, ssrc);

  if (t != &f->v->video)
    return;
  __atomic_fetch_add(&t->keyframe_requests, 1, __ATOMIC_RELAXED);
  hc_rtp_out_request_keyframe(f->v->out);
}

static const HcRtcpHandler feedback = {on_report, on_nack, on_keyframe};

static void
on_rtcp(HcWorker *w, HcViewer *v, const guint8 *buf, gsize len)
{
  guint8 *copy = w->scratch;
  int n = (int)len;
  Feedback f = {w, v, g_get_monotonic_time()};

  if (!v->srtp || len > sizeof w->scratch) {
    drop();
    return;
  }
  memcpy(copy, buf, len);
  if (hc_srtp_unprotect_rtcp(v->srtp, copy, &n) != 0) {
    drop();
    return;
  }
  v->last_heard_us = f.now;
  /* SRTCP from the viewer proves it has the keys, so its DTLS handshake is
   * over: the SSL session (the bulk of a viewer's memory) can go. */
  if (v->dtls) {
    g_clear_pointer(&v->dtls, hc_dtls_free);
    w->trim = TRUE;
  }
  hc_rtcp_parse(copy, (gsize)n, &feedback, &f);
}

void
hc_worker_receive(HcWorker *w, const guint8 *buf, gsize len, const HcAddr *from,
                  const struct in6_addr *local)
{
  HcViewer *v;

  if (len == 0)
    return;
  if (buf[0] < 4) {
    on_stun(w, buf, len, from, local);
    return;
  }
  v = g_hash_table_lookup(w->by_addr, from);
  if (!v) {
    drop();
    return;
  }
  if (buf[0] >= 20 && buf[0] <= 63)
    on_dtls(w, v, buf, len);
  else if (buf[0] >= 128 && buf[0] <= 191 && v->publisher)
    hc_publisher_receive(w, v, buf, len); /* SRTP and SRTCP from a WHIP publisher */
  else if (buf[0] >= 128 && buf[0] <= 191 && hc_rtp_is_rtcp(buf, len))
    on_rtcp(w, v, buf, len);
  else
    drop(); /* RTP from a viewer: we only send */
}
