/* The Opus transcode gate (see opus-gate.h): a buffer probe on the tee pad
 * feeding avdec_aac (or audioconvert) -> opusenc, in the streaming thread of
 * the stream's audio. Decoding and encoding are most of a camera's ingest
 * cost; the probe itself is two atomic reads and, without viewers, one look
 * at the switch registry per audio buffer (about 47 a second). */
#define G_LOG_DOMAIN "hc-media"

#include "opus-gate.h"

#include "rtp-out.h"
#include "switch.h"

typedef struct {
  HcStream *stream; /* borrowed */
  gboolean shut;    /* streaming thread */
} Gate;

/* Any thread: someone takes this stream's Opus now. */
static gboolean
opus_wanted(HcStream *s)
{
  HcRtpOut *out = hc_stream_rtp_out(s);

  return (out && g_atomic_int_get(&out->viewers) > 0) || hc_switch_shows(hc_stream_name(s));
}

static GstPadProbeReturn
gate_probe(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
  Gate *g = data;
  GstBuffer *buf;

  if (!opus_wanted(g->stream)) {
    if (!g->shut)
      g_debug("stream %s: Opus transcode idle (no WebRTC viewer, no switch stream)",
              hc_stream_name(g->stream));
    g->shut = TRUE;
    return GST_PAD_PROBE_DROP;
  }
  if (g->shut) {
    g->shut = FALSE;
    g_debug("stream %s: Opus transcode running", hc_stream_name(g->stream));
    /* The decoder and encoder start over after the gap instead of taking it
     * for lost samples. */
    buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));
    GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DISCONT);
    GST_PAD_PROBE_INFO_DATA(info) = buf;
  }
  return GST_PAD_PROBE_OK;
}

void
hc_opus_gate_attach(GstPad *pad, HcStream *s)
{
  Gate *g = g_new0(Gate, 1);

  g->stream = s;
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, gate_probe, g, g_free);
}
