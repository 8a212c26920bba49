/* libFuzzer target for webrtc/rtp.c and media/ring.c: RTCP feedback from a
 * viewer (compound packets), the RTP rewrite and the H.264 keyframe
 * detection of the ring, on any bytes. */
#include <stdint.h>
#include <string.h>

#include "media/ring.h"
#include "webrtc/rtp.h"

static void
report(gpointer d, guint32 ssrc, guint8 f, gint32 lost, guint32 j, guint32 lsr, guint32 dlsr)
{
}

static void
nack(gpointer d, guint32 ssrc, guint16 seq)
{
  (*(int *)d)++;
}

static void
key(gpointer d, guint32 ssrc)
{
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const HcRtcpHandler h = {report, nack, key};
  static HcRing *ring;
  guint8 *copy;
  int nacks = 0;

  if (size > 4096)
    return 0;
  if (!ring)
    ring = hc_ring_new(64, TRUE);
  copy = g_memdup2(data, size);
  hc_rtcp_parse(copy, size, &h, &nacks);
  hc_h264_rtp_is_key(copy, size);
  if (hc_ring_push(ring, copy, size, 0) == 0) {
    guint8 out[HC_RING_SLOT_SIZE];
    if (hc_ring_read(ring, hc_ring_head(ring) - 1, out, NULL, NULL) != size)
      __builtin_trap();
  }
  hc_rtp_rewrite(copy, size, 96, 1, 2, 3);
  g_free(copy);
  return 0;
}
