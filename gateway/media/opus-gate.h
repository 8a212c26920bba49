/* The Opus transcode gate of a stream whose source brings AAC or raw audio:
 * the decode-and-encode branch into the Opus tee gets nothing while nobody
 * takes Opus (no WebRTC viewer of the stream, no switch stream showing it),
 * and starts again with the next audio buffer when someone does. Installed
 * by media/stream.c. */
#ifndef HC_MEDIA_OPUS_GATE_H
#define HC_MEDIA_OPUS_GATE_H

#include <gst/gst.h>

#include "stream.h"

/* Main thread: gates the buffers leaving pad (a tee's src pad that feeds the
 * Opus encoder). s is borrowed: its pipeline, and so the gate, stops before
 * the stream is freed. */
void hc_opus_gate_attach(GstPad *pad, HcStream *s);

#endif
