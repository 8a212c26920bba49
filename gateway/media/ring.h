/* RTP ring buffer: one per track, written once per packet by the stream's
 * packetiser thread and read by every fan-out worker without locks. Slots are
 * addressed by a 64-bit packet index that only grows; a reader copies a slot
 * and then checks it was not overwritten meanwhile. The ring also remembers
 * where the latest keyframe starts (fast start) and serves NACK lookups. */
#ifndef HC_MEDIA_RING_H
#define HC_MEDIA_RING_H

#include <glib.h>
#include <stdint.h>

#define HC_RING_SLOT_SIZE 1280 /* largest RTP packet kept (payloader mtu=1200) */

typedef struct {
  gint64 time_us;    /* pipeline clock time of the buffer (monotonic), for sender reports */
  gint64 arrival_us; /* monotonic time it was pushed, for the latency figures */
  guint16 len;
  guint8 keyframe; /* the first packet of an access unit that starts a keyframe */
  guint8 data[HC_RING_SLOT_SIZE];
} HcRingSlot;

typedef struct {
  guint32 size;       /* slots, a power of two */
  guint64 head;       /* atomic: index of the next packet to be written */
  guint64 key;        /* atomic: index of the first packet of the latest keyframe + 1; 0 none */
  guint8 last_marker; /* writer only: the previous packet ended an access unit */
  gboolean h264;      /* writer only: detect H.264 keyframes */
  HcRingSlot *slots;
} HcRing;

/* A ring of size slots (rounded up to a power of two). Free with hc_ring_free. */
HcRing *hc_ring_new(guint32 size, gboolean h264);
void hc_ring_free(HcRing *ring);

/* Writer thread only: appends one RTP packet (copied). Packets longer than
 * HC_RING_SLOT_SIZE or shorter than an RTP header are refused (-HC_EINVAL). */
int hc_ring_push(HcRing *ring, const guint8 *pkt, gsize len, gint64 time_us);

/* Any thread: index of the next packet to be written. */
static inline guint64
hc_ring_head(const HcRing *ring)
{
  return __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
}

/* Writer thread only: the ring no longer has a keyframe to start on (its
 * writer paused); readers start at the head until the next one. */
void hc_ring_forget_key(HcRing *ring);

/* Any thread: index where a new reader should start: the latest keyframe if
 * it is still in the ring, else the head. */
guint64 hc_ring_start_index(const HcRing *ring);

/* Any thread: copies packet idx into buf (at least HC_RING_SLOT_SIZE bytes).
 * Returns its length, or 0 when idx is not in the ring (not written yet, or
 * already overwritten). *keyframe and *time_us (may be NULL) describe it. */
gsize hc_ring_read(const HcRing *ring, guint64 idx, guint8 *buf, gboolean *keyframe,
                   gint64 *time_us);

/* Any thread: when packet idx was pushed (monotonic us), 0 if it is not in
 * the ring. A statistic: not validated against a concurrent overwrite. */
gint64 hc_ring_arrival(const HcRing *ring, guint64 idx);

/* TRUE if the H.264 RTP payload (RFC 6184) carries an SPS or an IDR slice. */
gboolean hc_h264_rtp_is_key(const guint8 *payload, gsize len);

#endif
