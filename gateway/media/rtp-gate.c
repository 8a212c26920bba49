/* The packetiser gate (see rtp-gate.h): a buffer probe on the tee pad that
 * feeds a packetiser branch, in the thread of the stream's track, so that a
 * branch without viewers gets nothing at all: its queue's thread does not
 * wake once a frame. A second probe after the queue, in the thread that
 * writes the track's ring (the appsink after the payloader calls
 * media/rtp-out.c's on_sample in it), drops what was queued before the gate
 * shut, so that nothing written after the gate reset the ring's keyframe
 * brings back a picture of the past. */
#define G_LOG_DOMAIN "hc-media"

#include "rtp-gate.h"

/* A GOP longer than this is not cached: such a viewer waits for the next
 * keyframe (it asks for one), as it would with a ring too small for it. */
#define GOP_MAX_BUFFERS 1024
#define GOP_MAX_BYTES (8 * 1024 * 1024)

typedef struct {
  HcRtpOut *out; /* borrowed */
  HcRing *ring;  /* borrowed */
  gboolean video;
  gint shut;      /* atomic; written by the tee's thread: the gate drops (no viewer) */
  GPtrArray *gop; /* streaming thread: of GstBuffer, the GOP so far while shut */
  gsize gop_bytes;
  GstPad *pay_sink; /* the payloader's sink pad (a reference), for the replay */
} Gate;

static void
gate_clear(gpointer data)
{
  Gate *g = data;

  g_ptr_array_unref(g->gop);
  gst_object_unref(g->pay_sink);
}

static void
gop_clear(Gate *g)
{
  g_ptr_array_set_size(g->gop, 0);
  g->gop_bytes = 0;
}

/* Streaming thread: keeps buf if it starts a GOP or continues one (open or
 * shut: a viewer may leave at any frame, and the next one needs the GOP). */
static void
gop_keep(Gate *g, GstBuffer *buf)
{
  gboolean key = !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);

  if (key)
    gop_clear(g);
  else if (g->gop->len == 0)
    return;
  g->gop_bytes += gst_buffer_get_size(buf);
  if (g->gop->len >= GOP_MAX_BUFFERS || g->gop_bytes > GOP_MAX_BYTES) {
    gop_clear(g);
    return;
  }
  g_ptr_array_add(g->gop, gst_buffer_ref(buf));
}

/* The tee's thread: the first viewer came; the GOP so far goes to the
 * payloader ahead of the buffer at hand, so the ring starts on its keyframe.
 * Straight to the payloader, not through the branch's queue, whose leaky
 * time limit (500 ms) would drop the keyframe of a long GOP. The queue's
 * thread has nothing to push meanwhile (the gate was shut) and the
 * payloader's stream lock keeps the two apart. */
static void
gop_replay(Gate *g)
{
  for (guint i = 0; i < g->gop->len; i++)
    if (gst_pad_chain(g->pay_sink, gst_buffer_ref(g->gop->pdata[i])) != GST_FLOW_OK)
      break;
}

static GstPadProbeReturn
gate_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Gate *g = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);

  /* A WHIP publisher writes the ring itself; what the payloader would make
   * is dropped anyway (and the ring is not ours to touch). */
  if (g_atomic_int_get(&g->out->external))
    return GST_PAD_PROBE_DROP;
  if (g_atomic_int_get(&g->out->viewers) == 0) {
    if (!g_atomic_int_get(&g->shut)) {
      g_atomic_int_set(&g->shut, TRUE);
      /* The ring's keyframe gets old while shut: a viewer coming later must
       * start on what the gate hands over, not on a picture of the past. */
      hc_ring_forget_key(g->ring);
      g_debug("stream %s: %s packetiser idle (no viewer)", g->out->name,
              g->video ? "video" : "audio");
    }
    if (g->video)
      gop_keep(g, buf);
    return GST_PAD_PROBE_DROP;
  }
  if (g_atomic_int_get(&g->shut)) {
    g_atomic_int_set(&g->shut, FALSE);
    /* A keyframe now makes the cached GOP useless. */
    if (!GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT))
      gop_clear(g);
    g_debug("stream %s: %s packetiser running, %u buffers of the GOP handed over", g->out->name,
            g->video ? "video" : "audio", g->gop->len);
    gop_replay(g);
  }
  if (g->video)
    gop_keep(g, buf);
  return GST_PAD_PROBE_OK;
}

/* The ring writer's thread: what was queued before the gate shut is dropped. */
static GstPadProbeReturn
queued_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Gate *g = data;

  return g_atomic_int_get(&g->shut) ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

static void
gate_unref(gpointer data)
{
  g_atomic_rc_box_release_full(data, gate_clear);
}

void
hc_rtp_gate_attach(HcRtpOut *out, HcRing *ring, GstPad *tee_src, GstPad *pay_sink, gboolean video)
{
  Gate *g = g_atomic_rc_box_new0(Gate);
  GstPad *queued = gst_pad_get_peer(pay_sink);

  g->out = out;
  g->ring = ring;
  g->video = video;
  g->gop = g_ptr_array_new_with_free_func((GDestroyNotify)gst_buffer_unref);
  g->pay_sink = gst_object_ref(pay_sink);
  gst_pad_add_probe(tee_src, GST_PAD_PROBE_TYPE_BUFFER, gate_probe, g, gate_unref);
  if (queued) {
    gst_pad_add_probe(queued, GST_PAD_PROBE_TYPE_BUFFER, queued_probe, g_atomic_rc_box_acquire(g),
                      gate_unref);
    gst_object_unref(queued);
  }
}
