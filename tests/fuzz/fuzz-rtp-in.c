/* libFuzzer target for media/rtp-in.c: RTP from a WHIP publisher (after
 * SRTP, still hostile): header parsing, the H.264 split to ring-slot size
 * (every piece must fit and parse), and the reorder buffer on any sequence. */
#include <stdint.h>
#include <string.h>

#include "media/ring.h"
#include "media/rtp-in.h"

static void
check_piece(const guint8 *pkt, gsize len, gpointer data)
{
  HcRtpInHeader h;

  if (len > HC_RING_SLOT_SIZE || hc_rtp_in_parse(pkt, len, &h) != 0)
    __builtin_trap();
  (*(guint *)data)++;
}

static void
count(const guint8 *pkt, gsize len, gpointer data)
{
  (*(guint *)data)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static HcReorder *r;
  HcRtpInHeader h;
  guint n = 0;
  guint16 missing[64];

  if (size > HC_RTP_IN_MAX)
    return 0;
  if (!r) {
    r = g_new(HcReorder, 1);
    hc_reorder_init(r);
  }
  if (hc_rtp_in_parse(data, size, &h) != 0)
    return 0;
  if (h.payload_off + h.payload_len > size)
    __builtin_trap();
  hc_h264_rtp_split(data, size, HC_RING_SLOT_SIZE, check_piece, &n);
  /* The reorder buffer keeps state across inputs, like a publisher's. */
  hc_reorder_push(r, data, size, h.seq, (gint64)h.ts, count, &n);
  hc_reorder_missing(r, missing, G_N_ELEMENTS(missing));
  hc_reorder_expire(r, (gint64)h.ts, 200000, count, &n);
  return 0;
}
