/* Internals shared by the fan-out worker files: fanout.c (thread, loop,
 * queue, send path, timers) and fanout-recv.c (STUN, DTLS, RTCP from
 * viewers). Nothing here is for other modules. */
#ifndef HC_MEDIA_FANOUT_PRIVATE_H
#define HC_MEDIA_FANOUT_PRIVATE_H

#include <netinet/in.h>
#include <sys/socket.h>

#include "fanout.h"
#include "webrtc/addr.h"
#include "webrtc/srtp.h"

#define HC_BATCH 64 /* messages per sendmmsg */
#define HC_PKT_CAP (HC_RING_SLOT_SIZE + HC_SRTP_TRAILER + 32)
#define HC_ARENA (192 * 1024) /* bytes of packets in one batch */
#define HC_GSO_MAX_SEGS 64    /* the kernel's limit (UDP_MAX_SEGMENTS) */
#define HC_GSO_MAX_BYTES 65000
#define HC_LATENCY_BUCKETS 501 /* of 100 us; the last one is 50 ms and more */
#define HC_LATENCY_WINDOW_S 5  /* each histogram half covers this long */
#define HC_RECV_BATCH 32
#define HC_RECV_CAP 2048

/* A worker's viewers of one stream: woken streams are served alone. */
typedef struct {
  HcRtpOut *out; /* borrowed from its viewers */
  GPtrArray *viewers;
} HcStreamGroup;

typedef struct HcWorker {
  guint index;
  GThread *thread;
  int epfd, sock, evfd, timerfd;
  guint16 port;
  GMutex qlock;
  GQueue queue; /* of Cmd*, from the main thread */
  gint stop;    /* atomic */
  gint load;    /* atomic: viewers owned */

  /* Worker thread only from here on. */
  GPtrArray *viewers;   /* HcViewer*, owned */
  GPtrArray *groups;    /* HcStreamGroup*: the viewers of one stream */
  GHashTable *by_ufrag; /* our ufrag -> viewer */
  GHashTable *by_addr;  /* remote address (HcAddr*, the viewer's own) -> viewer */
  GHashTable *by_id;    /* id -> viewer */
  /* The send batch: messages over one arena of packets. With UDP GSO one
   * message carries several packets of one viewer back to back: all of
   * seg bytes but the last, which may be shorter (UDP_SEGMENT). */
  gboolean gso;                /* the kernel segments UDP (Linux 4.18+) */
  gboolean bound_any;          /* bound to 0.0.0.0 or ::: say our source address per send */
  int family;                  /* of the socket: AF_INET6 takes both (dual-stack) */
  guint64 datagrams, messages; /* sent, for the log at exit */
  gboolean trim;               /* DTLS sessions were freed: trim the heap */
  gint64 now;                  /* clock at the start of the current viewer's send */
  /* Histograms in two halves: the worker clears the older one and makes it
   * current every HC_LATENCY_WINDOW_S, readers sum both (the last 5-10 s). */
  gint lat_half;                          /* atomic: the half being filled */
  gint64 lat_switch_us;                   /* when it became current */
  guint64 latency[2][HC_LATENCY_BUCKETS]; /* appsink-to-send, per packet per viewer */
  guint64 wake[2][HC_LATENCY_BUCKETS];    /* newest appsink packet to the pass's start */
  guint n;                                /* messages in the batch */
  guint32 arena_used;
  struct {
    const HcViewer *viewer; /* packets of whom may join; NULL: none may */
    HcAddr to;
    struct in6_addr local; /* v4-mapped for IPv4; :: when the kernel may choose */
    guint32 offset, len;
    guint16 seg, nseg;
    gboolean closed; /* ended by a shorter packet */
  } outs[HC_BATCH];
  struct mmsghdr msgs[HC_BATCH];
  struct iovec iov[HC_BATCH];
  union {
    char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) + CMSG_SPACE(sizeof(guint16))];
    struct cmsghdr align;
  } cmsg[HC_BATCH];
  guint8 arena[HC_ARENA];
  guint8 scratch[HC_RECV_CAP]; /* for STUN/DTLS answers and RTCP */
  /* receive side */
  struct mmsghdr rmsgs[HC_RECV_BATCH];
  struct iovec riov[HC_RECV_BATCH];
  HcAddr rfrom[HC_RECV_BATCH];
  union {
    char buf[CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(struct in6_pktinfo))];
    struct cmsghdr align;
  } rcmsg[HC_RECV_BATCH];
  guint8 rbufs[HC_RECV_BATCH][HC_RECV_CAP];
} HcWorker;

extern HcFanoutConfig hc_fanout_config;
extern guint64 hc_fanout_drops; /* atomic */

/* fanout.c */
guint8 *hc_worker_slot(HcWorker *w);
void hc_worker_commit(HcWorker *w, const HcViewer *v, gsize len);
void hc_worker_flush(HcWorker *w);
void hc_worker_send_now(HcWorker *w, const HcViewer *v, const HcAddr *to, const guint8 *data,
                        gsize len);
void hc_worker_drop(HcWorker *w, HcViewer *v, const char *why);
/* local: our address the peer sent to (v4-mapped for IPv4), :: if unknown. */
void hc_worker_set_remote(HcWorker *w, HcViewer *v, const HcAddr *from,
                          const struct in6_addr *local);
/* Rewrites, protects and queues ring packet idx of track t; FALSE if it is gone. */
gboolean hc_worker_emit(HcWorker *w, HcViewer *v, HcViewerTrack *t, guint64 idx,
                        gboolean retransmit);

/* fanout-recv.c */
void hc_worker_receive(HcWorker *w, const guint8 *buf, gsize len, const HcAddr *from,
                       const struct in6_addr *local);

#endif
