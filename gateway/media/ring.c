/* The RTP ring buffer (see ring.h): single writer, lock-free readers that
 * validate their copy against the head afterwards, like a seqlock. Written
 * by media/rtp-out.c, read by media/fanout.c. */
#include "ring.h"

#include <string.h>

#include "core/error.h"

HcRing *
hc_ring_new(guint32 size, gboolean h264)
{
  HcRing *r = g_new0(HcRing, 1);
  guint32 n = 16;

  while (n < size && n < (1u << 20))
    n <<= 1;
  r->size = n;
  r->h264 = h264;
  r->last_marker = 1;
  r->slots = g_new0(HcRingSlot, n);
  return r;
}

void
hc_ring_free(HcRing *ring)
{
  if (!ring)
    return;
  g_free(ring->slots);
  g_free(ring);
}

/* NAL unit types of RFC 6184 aggregation and fragmentation packets. */
enum { NAL_IDR = 5, NAL_SPS = 7, NAL_STAP_A = 24, NAL_FU_A = 28 };

gboolean
hc_h264_rtp_is_key(const guint8 *p, gsize len)
{
  guint8 type;

  if (len < 1)
    return FALSE;
  type = p[0] & 0x1f;
  if (type == NAL_IDR || type == NAL_SPS)
    return TRUE;
  if (type == NAL_FU_A)
    return len >= 2 && (p[1] & 0x80) && (p[1] & 0x1f) == NAL_IDR;
  if (type == NAL_STAP_A) {
    /* 1-byte header, then (16-bit size, NAL unit) pairs. */
    for (gsize off = 1; off + 2 < len;) {
      gsize n = ((gsize)p[off] << 8) | p[off + 1];
      if (n == 0 || off + 2 + n > len)
        return FALSE;
      type = p[off + 2] & 0x1f;
      if (type == NAL_IDR || type == NAL_SPS)
        return TRUE;
      off += 2 + n;
    }
  }
  return FALSE;
}

/* Offset of the RTP payload, or 0 if the header does not fit. */
static gsize
rtp_payload_offset(const guint8 *pkt, gsize len)
{
  gsize off;

  if (len < 12 || (pkt[0] >> 6) != 2)
    return 0;
  off = 12 + 4 * (gsize)(pkt[0] & 0x0f);
  if (pkt[0] & 0x10) {
    if (off + 4 > len)
      return 0;
    off += 4 + 4 * (((gsize)pkt[off + 2] << 8) | pkt[off + 3]);
  }
  return off <= len ? off : 0;
}

int
hc_ring_push(HcRing *ring, const guint8 *pkt, gsize len, gint64 time_us)
{
  guint64 idx = ring->head;
  HcRingSlot *slot = &ring->slots[idx & (ring->size - 1)];
  gsize off = rtp_payload_offset(pkt, len);
  gboolean key = FALSE;

  if (len > HC_RING_SLOT_SIZE || off == 0)
    return HC_EINVAL;
  /* A keyframe starts on the first packet of an access unit that holds an
   * SPS or an IDR slice (SPS/PPS come in-band before every IDR). */
  if (ring->h264 && ring->last_marker && hc_h264_rtp_is_key(pkt + off, len - off))
    key = TRUE;
  ring->last_marker = (pkt[1] & 0x80) != 0;
  memcpy(slot->data, pkt, len);
  slot->len = (guint16)len;
  slot->keyframe = key;
  slot->time_us = time_us;
  slot->arrival_us = g_get_monotonic_time();
  __atomic_store_n(&ring->head, idx + 1, __ATOMIC_RELEASE);
  if (key)
    __atomic_store_n(&ring->key, idx + 1, __ATOMIC_RELEASE);
  return 0;
}

void
hc_ring_forget_key(HcRing *ring)
{
  __atomic_store_n(&ring->key, 0, __ATOMIC_RELEASE);
}

guint64
hc_ring_start_index(const HcRing *ring)
{
  guint64 head = hc_ring_head(ring);
  guint64 key = __atomic_load_n(&ring->key, __ATOMIC_ACQUIRE);

  /* Keep a margin so the writer does not catch up while the viewer drains. */
  if (key && head - (key - 1) < ring->size - ring->size / 4)
    return key - 1;
  return head;
}

gsize
hc_ring_read(const HcRing *ring, guint64 idx, guint8 *buf, gboolean *keyframe, gint64 *time_us)
{
  guint64 head = hc_ring_head(ring);
  const HcRingSlot *slot = &ring->slots[idx & (ring->size - 1)];
  gsize len;
  gboolean key;
  gint64 t;

  if (idx >= head || head - idx >= ring->size)
    return 0;
  len = slot->len;
  key = slot->keyframe;
  t = slot->time_us;
  if (len > HC_RING_SLOT_SIZE)
    return 0;
  memcpy(buf, slot->data, len);
  /* The copy is good only if the writer did not start on idx + size meanwhile. */
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  if (hc_ring_head(ring) - idx >= ring->size)
    return 0;
  if (keyframe)
    *keyframe = key;
  if (time_us)
    *time_us = t;
  return len;
}

gint64
hc_ring_arrival(const HcRing *ring, guint64 idx)
{
  guint64 head = hc_ring_head(ring);

  if (idx >= head || head - idx >= ring->size)
    return 0;
  return ring->slots[idx & (ring->size - 1)].arrival_us;
}
