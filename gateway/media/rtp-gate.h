/* The packetiser gate of a stream's WebRTC output: while a stream has no
 * viewer, its RTP branches (rtph264pay / rtpopuspay -> appsink -> ring) get
 * nothing to do. The video gate keeps references to the current GOP meanwhile
 * and hands it to the payloader when the first viewer arrives, so the ring
 * has the latest keyframe again (fast start). Installed by media/rtp-out.c. */
#ifndef HC_MEDIA_RTP_GATE_H
#define HC_MEDIA_RTP_GATE_H

#include "rtp-out.h"

/* Main thread: gates the buffers leaving tee_src (the tee pad feeding a
 * branch "queue ! payloader ! appsink"); pay_sink is the payloader's sink pad
 * (its peer, in the thread that writes ring, drops what was queued before the
 * gate shut). out and ring are borrowed: they outlive the branch's pipeline.
 * video: cache the GOP for fast start. */
void hc_rtp_gate_attach(HcRtpOut *out, HcRing *ring, GstPad *tee_src, GstPad *pay_sink,
                        gboolean video);

#endif
