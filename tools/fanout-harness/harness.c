/* hc-fanout-harness: hallcast's fan-out send path without a network, for
 * instructions per forwarded packet under callgrind (tools/bench-callgrind).
 * Real worker code: a ring written as the packetiser does, then hc_worker_emit
 * per viewer per packet (ring read, RTP rewrite, SRTP protect, sendmmsg batch)
 * on a worker whose socket is -1, so each batch's sendmmsg fails (EBADF). */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media/fanout-private.h"
#include "media/ring.h"
#include "webrtc/rtp.h"
#include "webrtc/srtp.h"

#define FRAME_PACKETS 8 /* packets written to the ring between two worker wake-ups */

static void
make_packet(guint8 *pkt, gsize len, guint64 i)
{
  memset(pkt, 0xab, len);
  pkt[0] = 0x80;
  pkt[1] = 96 | ((i % FRAME_PACKETS) == FRAME_PACKETS - 1 ? 0x80 : 0);
  pkt[2] = (guint8)(i >> 8);
  pkt[3] = (guint8)i;
  pkt[4] = (guint8)(i >> 20);
  pkt[5] = (guint8)(i >> 12);
  pkt[6] = (guint8)(i >> 4);
  pkt[7] = 0;
  memcpy(pkt + 8, "\x11\x22\x33\x44", 4);
  pkt[12] = 28; /* FU-A: a non-key slice fragment */
  pkt[13] = 0x01;
}

int
main(int argc, char **argv)
{
  int viewers = argc > 1 ? atoi(argv[1]) : 100;
  int frames = argc > 2 ? atoi(argv[2]) : 100;
  int profile = argc > 3 ? atoi(argv[3]) : 7; /* 7 GCM, 1 AES-CM + HMAC-SHA1-80 */
  int payload = argc > 4 ? atoi(argv[4]) : 1200;
  guint8 key[HC_SRTP_MAX_KEY], pkt[HC_RING_SLOT_SIZE];
  HcWorker *w;
  HcViewer *vs;
  HcRing *ring;
  guint64 sent = 0;

  if (viewers < 1 || viewers > 100000 || frames < 1 || frames > 1000000 || payload < 100 ||
      payload > HC_RING_SLOT_SIZE || (profile != 1 && profile != 7)) {
    fprintf(stderr, "usage: hc-fanout-harness VIEWERS FRAMES [PROFILE 7|1] [BYTES]\n");
    return 2;
  }
  if (!hc_srtp_init(NULL))
    return 1;
  ring = hc_ring_new(1024, TRUE);
  w = g_new0(HcWorker, 1);
  w->sock = -1;
  vs = g_new0(HcViewer, viewers);
  for (int i = 0; i < viewers; i++) {
    HcViewer *v = &vs[i];
    for (guint k = 0; k < sizeof(key); k++)
      key[k] = (guint8)(i * 31 + k);
    v->srtp = hc_srtp_new(profile, key, key);
    v->srtp_fast = hc_srtp_fast_new(profile, key);
    if (!v->srtp || !v->srtp_fast)
      return 1;
    hc_addr_parse("127.0.0.1", (guint16)(20000 + i), &v->remote);
    v->video.ring = ring;
    v->video.pt = 102;
    v->video.ssrc = 0x10000 + (guint32)i;
    v->video.seq_base = (guint16)(i * 7);
    v->video.ts_offset = (guint32)i * 1000;
    v->video.started = TRUE;
  }
  for (int f = 0; f < frames; f++) {
    guint64 first = hc_ring_head(ring);
    for (int p = 0; p < FRAME_PACKETS; p++) {
      make_packet(pkt, (gsize)payload, first + (guint64)p);
      hc_ring_push(ring, pkt, (gsize)payload, f * 33333);
    }
    /* What send_media does when the worker wakes: every viewer, new packets. */
    for (int i = 0; i < viewers; i++)
      for (guint64 idx = first; idx < first + FRAME_PACKETS; idx++)
        sent += hc_worker_emit(w, &vs[i], &vs[i].video, idx, FALSE);
    hc_worker_flush(w);
  }
  printf("{\"viewers\":%d,\"frames\":%d,\"packets\":%" G_GUINT64_FORMAT ",\"profile\":%d}\n",
         viewers, frames, sent, profile);
  for (int i = 0; i < viewers; i++) {
    hc_srtp_free(vs[i].srtp);
    hc_srtp_fast_free(vs[i].srtp_fast);
  }
  g_free(vs);
  g_free(w);
  hc_ring_free(ring);
  hc_srtp_shutdown();
  return sent == (guint64)viewers * (guint64)frames * FRAME_PACKETS ? 0 : 1;
}
