/* Big-endian reads and writes for the packet code (STUN, RTP, RTCP) of the
 * gateway and of tools/loadgen. Header only; any thread. */
#ifndef HC_WEBRTC_BYTES_H
#define HC_WEBRTC_BYTES_H

#include <glib.h>

static inline guint16
hc_rd16(const guint8 *p)
{
  return (guint16)(p[0] << 8 | p[1]);
}

static inline guint32
hc_rd32(const guint8 *p)
{
  return (guint32)p[0] << 24 | (guint32)p[1] << 16 | (guint32)p[2] << 8 | p[3];
}

static inline void
hc_wr16(guint8 *p, guint16 v)
{
  p[0] = v >> 8;
  p[1] = v & 0xff;
}

static inline void
hc_wr32(guint8 *p, guint32 v)
{
  p[0] = v >> 24;
  p[1] = (v >> 16) & 0xff;
  p[2] = (v >> 8) & 0xff;
  p[3] = v & 0xff;
}

#endif
