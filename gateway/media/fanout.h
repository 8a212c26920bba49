/* Fan-out workers: one thread per worker with its own UDP socket (ICE-lite,
 * DTLS, SRTP, RTCP all on it) and epoll loop, woken by an eventfd when a ring
 * gets packets. Viewers are handed over from the main thread through a
 * locked queue; after that only the worker touches them. */
#ifndef HC_MEDIA_FANOUT_H
#define HC_MEDIA_FANOUT_H

#include <glib.h>

#include "viewer.h"

typedef struct {
  guint workers;           /* 0: one per core */
  const char *udp_address; /* bind address of the worker sockets: IPv6 ones take IPv4 too */
  guint16 udp_port;        /* worker i binds udp_port + i; 0: any free port */
  guint handshake_timeout_s;
  guint idle_timeout_s;
  guint nack_per_second; /* retransmissions per viewer per second */
} HcFanoutConfig;

/* Main thread: starts the workers. HC_EINTERNAL when a socket cannot be bound. */
gboolean hc_fanout_start(const HcFanoutConfig *cfg, GError **error);
/* Main thread: stops and joins the workers, freeing their viewers. */
void hc_fanout_stop(void);

/* Main thread: number of workers (0 before start) and the UDP port of one. */
guint hc_fanout_workers(void);
guint16 hc_fanout_port(guint worker);
/* Main thread: TRUE if the worker sockets take IPv6 (and IPv4: dual-stack). */
gboolean hc_fanout_ipv6(void);
/* Main thread: picks the least loaded worker for v (sets v->worker); call
 * before building the answer, then hc_fanout_add. */
void hc_fanout_assign(HcViewer *v);
/* Main thread: hands v over to its worker; the worker owns it from now on. */
void hc_fanout_add(HcViewer *v);
/* Main thread: asks worker to drop viewer id (already unregistered). */
void hc_fanout_remove(int worker, const char *id);

/* Any thread (packetiser threads): tells the workers with viewers of out
 * that its rings have news; a worker already told is not woken again. */
void hc_fanout_wake(HcRtpOut *out);

/* Main thread: appsink-to-send latency over all workers in the last 5-10 s,
 * per packet per viewer (fast start's cached packets left out): p50, p99,
 * p99.9 as upper bounds in ms, 0.1 ms buckets up to 50 ms; -1 without a
 * packet in that window. */
void hc_fanout_latency(double out[3]);

/* Any thread: datagrams dropped as unknown or unauthenticated, for stats. */
guint64 hc_fanout_dropped(void);

#endif
