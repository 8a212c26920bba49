/* Unit test of the fan-out send path (media/fanout.c) on real UDP sockets:
 * ring packets are rewritten, SRTP-protected and sent with UDP GSO to a
 * viewer socket on loopback; each arrives as its own datagram, decrypts with
 * the viewer's key and carries the viewer's SSRC, payload type and
 * consecutive sequence numbers. Also the NACK retransmission path. Run for
 * an IPv4 socket, and for a dual-stack one (bound to ::, sending from the
 * viewer's local address) to an IPv6 viewer and to a v4-mapped IPv4 one. */
#include <arpa/inet.h>
#include <netinet/udp.h>
#include <string.h>
#include <unistd.h>

#include "media/fanout-private.h"
#include "media/ring.h"
#include "webrtc/rtp.h"
#include "webrtc/srtp.h"
#ifdef HC_SRTP_BUNDLED
#include <srtp.h>
#else
#include <srtp2/srtp.h>
#endif

/* The viewer's side: an inbound AEAD-AES-128-GCM session with our send key. */
static srtp_t
viewer_session(const guint8 *key)
{
  srtp_policy_t p;
  srtp_t s;
  guint8 k[HC_SRTP_MAX_KEY];

  memcpy(k, key, sizeof k);
  memset(&p, 0, sizeof p);
  srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
  srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
  p.ssrc.type = ssrc_any_inbound;
  p.key = k;
  p.window_size = 1024;
  p.allow_repeat_tx = 1;
  g_assert_cmpint(srtp_create(&s, &p), ==, srtp_err_status_ok);
  return s;
}

/* An RTP packet of the packetiser: seq i, marker on the frame's last. */
static gsize
packet(guint8 *buf, guint16 seq, gboolean marker, gsize len)
{
  memset(buf, 0x5a, len);
  buf[0] = 0x80;
  buf[1] = (marker ? 0x80 : 0) | 96;
  buf[2] = seq >> 8;
  buf[3] = seq & 0xff;
  memcpy(buf + 4, "\x00\x00\x10\x00\x11\x22\x33\x44", 8);
  buf[12] = 28; /* FU-A */
  buf[13] = 0x01;
  return len;
}

/* A UDP socket bound to ip port 0 (the port chosen is put in *addr). */
static int
udp_socket(const char *ip, HcAddr *addr)
{
  int fd, zero = 0;
  socklen_t len = sizeof *addr;
  struct timeval tv = {2, 0};

  g_assert_true(hc_addr_parse(ip, 0, addr));
  fd = socket(addr->sa.sa_family, SOCK_DGRAM, 0);
  g_assert_cmpint(fd, >=, 0);
  if (addr->sa.sa_family == AF_INET6)
    g_assert_cmpint(setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero), ==, 0);
  g_assert_cmpint(bind(fd, &addr->sa, hc_addr_len(addr)), ==, 0);
  g_assert_cmpint(getsockname(fd, &addr->sa, &len), ==, 0);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

typedef struct {
  const char *worker_ip; /* the worker socket's bind address */
  const char *viewer_ip; /* the viewer's socket */
  const char *remote_ip; /* the viewer as the worker sees it */
  const char *local_ip;  /* the worker's address the viewer talks to, or NULL */
} Case;

static void
test_gso_send_and_nack(gconstpointer data)
{
  const Case *cs = data;
  HcWorker *w = g_new0(HcWorker, 1);
  HcViewer *v = g_new0(HcViewer, 1);
  HcRing *ring = hc_ring_new(64, FALSE);
  srtp_t rx;
  guint8 key_tx[HC_SRTP_MAX_KEY], key_rx[HC_SRTP_MAX_KEY], pkt[1400], in[2048];
  HcAddr gw_addr, viewer_addr, from, want_from;
  socklen_t from_len;
  int viewer_fd, seg = 1200, none = 0;
  const gsize sizes[] = {1100, 1100, 1100, 700}; /* one frame: equal fragments, short last */

  g_assert_true(hc_srtp_init(NULL));
  w->sock = udp_socket(cs->worker_ip, &gw_addr);
  w->family = gw_addr.sa.sa_family;
  w->bound_any = hc_addr_is_any(&gw_addr);
  w->gso = setsockopt(w->sock, SOL_UDP, UDP_SEGMENT, &seg, sizeof seg) == 0 &&
           setsockopt(w->sock, SOL_UDP, UDP_SEGMENT, &none, sizeof none) == 0;
  viewer_fd = udp_socket(cs->viewer_ip, &viewer_addr);
  g_assert_true(hc_addr_parse(cs->remote_ip, ntohs(viewer_addr.in.sin_port), &v->remote));
  if (cs->local_ip) {
    HcAddr local;
    g_assert_true(hc_addr_parse(cs->local_ip, 0, &local));
    g_assert_cmpint(local.sa.sa_family, ==, AF_INET6);
    v->local = local.in6.sin6_addr;
  }
  /* The datagrams come from the worker's port, on the address the viewer talks to. */
  g_assert_true(hc_addr_parse(cs->local_ip ? cs->local_ip : cs->worker_ip,
                              ntohs(gw_addr.in.sin_port), &want_from));
  want_from = hc_addr_unmap(&want_from);
  for (guint i = 0; i < sizeof key_tx; i++) {
    key_tx[i] = (guint8)(i + 1);
    key_rx[i] = (guint8)(100 + i);
  }
  v->srtp = hc_srtp_new(0x0007, key_tx, key_rx);
  v->srtp_fast = hc_srtp_fast_new(0x0007, key_tx);
  rx = viewer_session(key_tx);
  g_assert_nonnull(v->srtp);
  g_assert_nonnull(v->srtp_fast);
  v->has_remote = TRUE;
  v->video = (HcViewerTrack){.ring = ring,
                             .pt = 102,
                             .ssrc = 0xabcdef01,
                             .clock = 90000,
                             .seq_base = 65534,
                             .ts_offset = 1000,
                             .started = TRUE};
  for (guint i = 0; i < G_N_ELEMENTS(sizes); i++)
    hc_ring_push(ring, pkt, packet(pkt, (guint16)(500 + i), i == 3, sizes[i]), 0);
  v->video.first = v->video.next = v->video.join = 0;
  for (; v->video.next < hc_ring_head(ring); v->video.next++)
    g_assert_true(hc_worker_emit(w, v, &v->video, v->video.next, FALSE));
  /* With GSO the frame is one message of 4 segments. */
  if (w->gso) {
    g_assert_cmpuint(w->n, ==, 1);
    g_assert_cmpuint(w->outs[0].nseg, ==, 4);
  } else {
    g_assert_cmpuint(w->n, ==, 4);
  }
  hc_worker_flush(w);
  for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
    ssize_t n;
    int len;

    from_len = sizeof from;
    n = recvfrom(viewer_fd, in, sizeof in, 0, &from.sa, &from_len);
    len = (int)n;
    g_assert_cmpint(n, ==, (ssize_t)sizes[i] + 16); /* + GCM tag */
    from = hc_addr_unmap(&from);
    g_assert_true(hc_addr_equal(&from, &want_from));
    g_assert_cmpint(srtp_unprotect(rx, in, &len), ==, srtp_err_status_ok);
    g_assert_cmpint(len, ==, (int)sizes[i]);
    g_assert_cmphex(in[1], ==, (i == 3 ? 0x80 : 0) | 102);
    g_assert_cmpuint((guint16)(in[2] << 8 | in[3]), ==, (guint16)(65534 + i));
    g_assert_cmphex((guint32)in[8] << 24 | (guint32)in[9] << 16 | in[10] << 8 | in[11], ==,
                    0xabcdef01);
    g_assert_cmphex(hc_rtp_timestamp(in), ==, 0x1000 + 1000);
    g_assert_cmphex(in[12], ==, 28);
  }
  /* A NACK for the viewer's sequence number 0 (the third packet) resends it. */
  g_assert_cmpuint(hc_viewer_track_index(&v->video, 0), ==, 2);
  g_assert_true(hc_worker_emit(w, v, &v->video, 2, TRUE));
  hc_worker_flush(w);
  g_assert_cmpint(recv(viewer_fd, in, sizeof in, 0), ==, 1100 + 16);
  g_assert_cmpuint((guint16)(in[2] << 8 | in[3]), ==, 0);
  g_assert_cmpuint(__atomic_load_n(&v->video.packets, __ATOMIC_RELAXED), ==, 5);
  srtp_dealloc(rx);
  hc_srtp_free(v->srtp);
  hc_srtp_fast_free(v->srtp_fast);
  g_free(v);
  hc_ring_free(ring);
  close(viewer_fd);
  close(w->sock);
  g_free(w);
  hc_srtp_shutdown();
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  static const Case ipv4 = {"127.0.0.1", "127.0.0.1", "127.0.0.1", NULL};
  static const Case ipv6 = {"::", "::1", "::1", "::1"};
  static const Case mapped = {"::", "127.0.0.1", "::ffff:127.0.0.1", "::ffff:127.0.0.1"};

  g_test_add_data_func("/fanout/gso-send-and-nack/ipv4", &ipv4, test_gso_send_and_nack);
  g_test_add_data_func("/fanout/gso-send-and-nack/ipv6", &ipv6, test_gso_send_and_nack);
  g_test_add_data_func("/fanout/gso-send-and-nack/v4-mapped", &mapped, test_gso_send_and_nack);
  return g_test_run();
}
