/* Unit test for the load generator's socket filter (tools/loadgen/viewer.c,
 * --sample): a viewer outside the sample has the kernel drop its RTP and
 * count it, while STUN, DTLS and RTCP still reach it. Real sockets on
 * 127.0.0.1. */
#include <arpa/inet.h>
#include <glib.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "loadgen.h"

static int
receive_all(int fd, uint8_t *first_bytes, int cap)
{
  uint8_t buf[1500];
  int n = 0;
  struct pollfd p = {.fd = fd, .events = POLLIN};

  while (n < cap && poll(&p, 1, 200) > 0 && recv(fd, buf, sizeof(buf), 0) > 0)
    first_bytes[n++] = buf[0];
  return n;
}

static void
test_filter_drops_rtp_only(void)
{
  struct sockaddr_in lo = {.sin_family = AF_INET}, to;
  socklen_t len = sizeof(to);
  HcLgViewer *v;
  int tx = socket(AF_INET, SOCK_DGRAM, 0);
  /* first byte, second byte: RTP PT 96 with marker, RTP PT 0, RTCP SR (200),
   * RTCP RR (201), STUN binding request, DTLS handshake, RTP PT 111. */
  static const uint8_t heads[][2] = {{0x80, 0xe0}, {0x80, 0x00}, {0x80, 200}, {0x81, 201},
                                     {0x00, 0x01}, {0x16, 0xfe}, {0x80, 111}};
  uint8_t got[16];
  int n;

  inet_pton(AF_INET, "127.0.0.1", &lo.sin_addr);
  v = hc_lg_viewer_new(1, TRUE, &lo);
  g_assert_nonnull(v);
  g_assert_cmpint(getsockname(v->fd, (struct sockaddr *)&to, &len), ==, 0);
  g_assert_cmpint(hc_lg_viewer_filter_media(v), ==, 0);
  g_assert_true(v->filtered);
  for (guint i = 0; i < G_N_ELEMENTS(heads); i++) {
    uint8_t pkt[200] = {0};

    memcpy(pkt, heads[i], 2);
    g_assert_cmpint(sendto(tx, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)), ==,
                    sizeof(pkt));
  }
  n = receive_all(v->fd, got, G_N_ELEMENTS(got));
  g_assert_cmpint(n, ==, 4); /* SR, RR, STUN, DTLS */
  g_assert_cmpint(got[0], ==, 0x80);
  g_assert_cmpint(got[1], ==, 0x81);
  g_assert_cmpint(got[2], ==, 0x00);
  g_assert_cmpint(got[3], ==, 0x16);
  g_assert_cmpuint(hc_lg_viewer_dropped(v), ==, 3);
  hc_lg_viewer_free(v);
  close(tx);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/loadgen/filter/drops-rtp-only", test_filter_drops_rtp_only);
  return g_test_run();
}
