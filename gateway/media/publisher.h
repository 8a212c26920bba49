/* A WHIP publisher: its WebRTC peer is an HcViewer (ICE-lite, DTLS server,
 * SRTP) owned by a fan-out worker like any viewer's, but it sends and we
 * receive. The worker hands its SRTP/SRTCP here: decrypted, put back in
 * order (NACK for what is missing), then written to the stream's RTP rings
 * and pushed to the stream's whip:// source bin. Created by http/whip.c. */
#ifndef HC_MEDIA_PUBLISHER_H
#define HC_MEDIA_PUBLISHER_H

#include <glib.h>

#include "viewer.h"
#include "whip-source.h"

struct HcWorker;

/* Main thread: a publisher of in's stream sending the payload types of the
 * answer (-1: the track is not sent), and its WebRTC peer (*peer), which the
 * caller assigns to a worker and hands over with hc_fanout_add. Returns one
 * reference; the peer holds another until the worker frees it. */
HcPublisher *hc_publisher_new(HcWhipInput *in, const char *peer_fp, int video_pt, int audio_pt,
                              HcViewer **peer);
HcPublisher *hc_publisher_ref(HcPublisher *p);
void hc_publisher_unref(HcPublisher *p);

/* Any thread: the publisher's id (its peer's), the WHIP resource name. */
const char *hc_publisher_id(const HcPublisher *p);
/* Main thread: the worker of its peer (set after hc_fanout_assign), -1
 * before and once the peer is gone. */
int hc_publisher_worker(const HcPublisher *p);
void hc_publisher_set_worker(HcPublisher *p, guint worker);
/* Any thread: the payload types it sends, -1 if none. */
int hc_publisher_video_pt(const HcPublisher *p);
int hc_publisher_audio_pt(const HcPublisher *p);
/* Any thread: ask for a keyframe at the worker's next tick (PLI, at most one
 * a second). */
void hc_publisher_want_keyframe(HcPublisher *p);

/* Worker thread: SRTP or SRTCP (first byte 128..191) from publisher peer v. */
void hc_publisher_receive(struct HcWorker *w, HcViewer *v, const guint8 *buf, gsize len);
/* Worker thread, every worker tick while v is connected: gaps given up,
 * NACKs repeated, keyframe requests, the DTLS session freed. */
void hc_publisher_tick(struct HcWorker *w, HcViewer *v, gint64 now);
/* Worker thread (hc_viewer_free): the peer is being freed; the main thread
 * then ends the publisher. Drops the peer's reference. */
void hc_publisher_peer_freed(HcPublisher *p);

#endif
