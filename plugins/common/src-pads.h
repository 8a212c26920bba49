/* Helpers for source plugins whose tracks appear as dynamic pads of an inner
 * element (rtspsrc, tsdemux, flvdemux): expose a track as the bin's "video" or
 * "audio" ghost pad through a chain, discard a track, refuse a codec. */
#ifndef HC_PLUGIN_SRC_PADS_H
#define HC_PLUGIN_SRC_PADS_H

#include <gst/gst.h>

/* Links pad (of a child of bin) to a new chain "a ! b" (gst-launch syntax)
 * inside bin and exposes the chain's end as bin's ghost pad named ghost.
 * FALSE, with a warning, if bin has that pad already or linking fails.
 * Any thread (typically the inner element's pad-added). */
gboolean hc_src_expose(GstElement *bin, GstPad *pad, const char *desc, const char *ghost);

/* Links pad into a fakesink: a track the gateway does not take must not stop
 * the others with a not-linked error. Any thread. */
void hc_src_discard(GstElement *bin, GstPad *pad);

/* Posts an error from bin saying the source sends a codec hallcast does not
 * take; the stream shows it as its last error. Any thread. */
void hc_src_unsupported(GstElement *bin, const char *kind, const char *codec,
                        const char *supported);

/* How a source plugin takes the tracks of its demuxer (flvdemux, tsdemux):
 * one row per media type, in order, ended by a row with type NULL. */
typedef struct {
  const char *type;    /* the pad's media type; one ending in '/' ("video/")
                        * matches any type of that kind not matched before */
  guint mpeg_versions; /* audio/mpeg: a bit (1 << v) per mpegversion taken; 0 any */
  const char *track;   /* "video" or "audio": exposed through chain; NULL: refused */
  const char *chain;   /* gst-launch chain from the pad to the ghost pad */
  const char *name;    /* refused: the codec's name in the error (NULL: the type) */
  const char *takes;   /* refused: what hallcast takes instead, e.g. "H.264" */
} HcSrcTrack;

/* Handles a new pad of a demuxer in bin by the first row of tracks that
 * matches its caps: exposes it as the row's track, or refuses it
 * (hc_src_unsupported) and discards it. A pad no row matches is left out
 * with a warning "<source> track <type> left out: hallcast takes <takes>".
 * Any thread (the demuxer's pad-added). */
void hc_src_take_pad(GstElement *bin, GstPad *pad, const HcSrcTrack *tracks, const char *source,
                     const char *takes);

/* The name of the first structure of the pad's caps (current, else queried),
 * and that structure copied into *st if st is not NULL (free it). "" if unknown. */
char *hc_src_pad_type(GstPad *pad, GstStructure **st);

#endif
