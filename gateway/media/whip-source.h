/* The whip:// source, built into the gateway: a stream with url=whip:// and
 * key=KEY is idle until a WHIP publisher (http/whip.c) brings media. Its
 * source bin is appsrc ! rtpjitterbuffer ! depayloader per track, fed by the
 * publisher's fan-out worker; the same packets go straight into the stream's
 * RTP rings. The registry of inputs (one per whip:// stream) is main-thread. */
#ifndef HC_MEDIA_WHIP_SOURCE_H
#define HC_MEDIA_WHIP_SOURCE_H

#include <gst/gst.h>
#include <hallcast/plugin.h>

#include "rtp-out.h"

typedef struct HcPublisher HcPublisher;

/* One per whip:// stream name, reference-counted: the registry holds one,
 * each publisher another. */
typedef struct {
  char *stream;
  char *key; /* main thread; a secret, never logged */
  /* Guards the fields below: taken by the publisher's worker for each packet
   * it hands on, and by the main thread when they change. */
  GMutex lock;
  HcPublisher *owner;                /* the live publisher (a reference), NULL if none */
  HcRtpOut *out;                     /* the stream's rings (a reference), NULL until known */
  GstElement *bin;                   /* the source bin waiting or in use (a reference) */
  GstElement *video_src, *audio_src; /* its appsrcs once a publisher is attached */
  gboolean bin_used; /* main thread: the bin has had a publisher; the next one needs another */
  /* atomic: the bin's video has started (its first keyframe came out of the
   * depayloader); until then its audio is held back, or HLS would wait on a
   * video track that never starts */
  gint video_started;
  guint watch; /* main thread: timer while there is an owner */
} HcWhipInput;

/* The source descriptor of the whip scheme; main.c registers it with the plugins. */
extern const HcPlugin hc_whip_source_plugin;

/* Main thread: the input of a whip:// stream (borrowed), NULL if none was made. */
HcWhipInput *hc_whip_input_lookup(const char *stream);
HcWhipInput *hc_whip_input_ref(HcWhipInput *in);
void hc_whip_input_unref(HcWhipInput *in);

/* Main thread: p becomes the stream's publisher; a live one is ended first
 * (a new publish takes over). Takes a reference to p. */
void hc_whip_input_start(HcWhipInput *in, HcPublisher *p);
/* Main thread: ends publisher p if it is the stream's (DELETE, its peer left,
 * takeover): its bin gets end-of-stream, so the stream goes back to idle.
 * remove_peer: also drop its WebRTC peer from its worker. */
void hc_whip_input_stop(HcWhipInput *in, HcPublisher *p, gboolean remove_peer);

/* Any thread: asks the live publisher for a keyframe (rate-limited there). */
void hc_whip_input_request_keyframe(HcWhipInput *in);

#endif
