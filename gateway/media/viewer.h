/* A WebRTC viewer: its ICE credentials, DTLS and SRTP sessions, per-track
 * rewrite state and counters. Created on the main thread by http/whep.c,
 * then owned by one fan-out worker thread for its whole life, which frees
 * it. The registry (id -> viewer) lets the main thread list viewers and ask
 * for removal; it is the only part shared between threads, under a mutex. */
#ifndef HC_MEDIA_VIEWER_H
#define HC_MEDIA_VIEWER_H

#include <glib.h>
#include <netinet/in.h>

#include "rtp-out.h"
#include "webrtc/addr.h"
#include "webrtc/dtls.h"
#include "webrtc/srtp-fast.h"
#include "webrtc/srtp.h"

typedef enum {
  HC_VIEWER_ICE = 0,   /* waiting for a STUN binding request */
  HC_VIEWER_DTLS,      /* ICE done, DTLS handshake running */
  HC_VIEWER_CONNECTED, /* media flowing */
  HC_VIEWER_CLOSED,    /* leaving: deleted, timed out, failed */
} HcViewerState;

typedef struct {
  HcRing *ring; /* borrowed from out */
  int pt;       /* negotiated payload type, -1 if the track is not sent */
  guint32 ssrc;
  guint32 clock;    /* 90000 or 48000 */
  guint16 seq_base; /* sequence number of the first packet sent */
  guint32 ts_offset;
  gboolean started;
  guint64 first;   /* ring index of the first packet sent */
  guint64 next;    /* ring index of the next packet to send */
  guint64 join;    /* ring head when the viewer started: before it, the cached GOP */
  guint32 join_ts; /* original timestamp of the packet before join */
  guint32 last_ts; /* original timestamp and clock time of the last packet */
  gint64 last_time_us;
  /* counters: written by the worker, read by the API with relaxed atomics */
  guint64 packets, bytes, retransmits;
  guint32 nacks, keyframe_requests;
  guint32 lost;   /* cumulative, from receiver reports */
  guint32 jitter; /* in clock units, from receiver reports */
  guint32 rtt_us; /* from receiver reports; 0 until known */
} HcViewerTrack;

typedef struct HcViewer {
  char id[33];
  char *stream;
  HcRtpOut *out; /* referenced */
  guint worker;
  char ufrag[9], pwd[25]; /* ours, from the answer */
  char peer_fp[100];
  gint state;  /* HcViewerState, atomic */
  int profile; /* SRTP profile id once connected */
  gint64 created_us, last_heard_us, connected_us, last_sr_us;
  HcAddr remote;         /* selected by ICE; v4-mapped on a dual-stack socket */
  struct in6_addr local; /* our address the peer talks to (v4-mapped for IPv4), or :: */
  gboolean has_remote;
  HcDtls *dtls;
  HcSrtp *srtp;
  HcSrtpFast *srtp_fast; /* the RTP we send: the fan-out's own protect */
  HcViewerTrack video, audio;
  guint nack_budget; /* retransmissions left this second */
  gint64 nack_window_us;
  gboolean registered; /* in the registry; guarded by its mutex */
  /* Set for a WHIP publisher's peer (media/publisher.c): it sends, we
   * receive; a reference, dropped when the peer is freed. */
  struct HcPublisher *publisher;
  gint64 since_real_us; /* wall clock of creation, for the API */
} HcViewer;

/* Main thread: a new viewer of stream out with fresh ICE credentials and
 * SSRCs, registered; pts < 0 leave a track out. The worker is chosen later. */
HcViewer *hc_viewer_new(const char *stream, HcRtpOut *out, const char *peer_fp, int video_pt,
                        int audio_pt);
/* Worker thread (or main thread before handing over): unregisters and frees. */
void hc_viewer_free(HcViewer *v);

const char *hc_viewer_state_name(HcViewerState st);

/* The ring index of the packet a viewer got with sequence number seq on
 * track t (NACK lookup), or G_MAXUINT64 if it was never sent or is older
 * than the ring. Sequence numbers wrap; the newest match wins. */
guint64 hc_viewer_track_index(const HcViewerTrack *t, guint16 seq);

/* Any thread: number of registered viewers (all streams, or one if stream != NULL). */
guint hc_viewers_count(const char *stream);
/* Any thread: calls fn for each registered viewer of stream under the
 * registry lock; fn must not block or call back into the registry. */
void hc_viewers_foreach(const char *stream, void (*fn)(const HcViewer *v, gpointer data),
                        gpointer data);
/* Any thread: TRUE if viewer id of stream is registered. */
gboolean hc_viewers_exists(const char *stream, const char *id);
/* Main thread: unregisters viewer id of stream and returns its worker index
 * (>= 0) so the caller can tell that worker to drop it; -1 if unknown. */
int hc_viewers_unregister(const char *stream, const char *id);

#endif
