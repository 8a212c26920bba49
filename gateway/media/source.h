/* A stream's source: the source plugin's bin inside the stream's pipeline,
 * made again with backoff (1 s doubling to 30 s, forever) when it fails or
 * ends, while the rest of the pipeline (parsers, tees, outputs) keeps running.
 * Owned by media/stream.c. Main thread only unless a function says otherwise. */
#ifndef HC_MEDIA_SOURCE_H
#define HC_MEDIA_SOURCE_H

#include <hallcast/plugin.h>

typedef struct HcSource HcSource;

typedef struct {
  /* Streaming or main thread: a src pad of the current bin appeared. */
  void (*pad_added)(GstPad *pad, gpointer user);
  /* Streaming or main thread: the current bin will add no more pads. */
  void (*no_more_pads)(gpointer user);
  /* Main thread: the bin failed or ended and was removed; another one is made
   * in delay_ms. why is fit for the API and the log (credentials masked). */
  void (*lost)(const char *why, guint delay_ms, gpointer user);
  /* Main thread: a bin made again after a loss waits for a publisher. */
  void (*waiting)(gpointer user);
} HcSourceCallbacks;

/* Where a GstObject that posted a message sits relative to the source. */
typedef enum {
  HC_SOURCE_OTHER = 0, /* not in any bin of this source */
  HC_SOURCE_CURRENT,   /* inside the bin in use */
  HC_SOURCE_STALE,     /* inside a bin removed after a loss */
} HcSourceOwner;

/* The strings are copied; cb and user must outlive the source. */
HcSource *hc_source_new(GstBin *pipeline, const HcPlugin *plugin, const char *stream,
                        const char *url, const char *key, const HcSourceCallbacks *cb,
                        gpointer user);
/* Stops any retry and removes the bin (set to NULL first: the pipeline's own
 * state changes do not reach it); call after the stream's pipeline stopped,
 * which unblocks the source's threads. Waits (up to 5 s) for lost bins still
 * being stopped. */
void hc_source_free(HcSource *src);

/* Makes the first bin and adds it to the pipeline without changing its
 * state; pads it has already are reported through pad_added, and *had_pads
 * tells whether there were any. FALSE with error when the plugin refuses.
 * When the plugin answers G_IO_ERROR_ADDRESS_IN_USE (its port is taken) the
 * source counts as lost at once (lost is called) and is retried with the
 * backoff: TRUE, without a bin. */
gboolean hc_source_open(HcSource *src, gboolean *had_pads, GError **error);

/* Starts the current bin (its state is locked: the pipeline's changes do not
 * reach it). When it cannot start, it counts as lost. */
void hc_source_play(HcSource *src);

/* TRUE if the plugin said its source waits for a publisher (RTMP, SRT listener). */
gboolean hc_source_waits(HcSource *src);
HcSourceOwner hc_source_owner(HcSource *src, GstObject *obj);

/* Handles a pipeline bus message about the source: an error or the end of
 * the current bin (a loss), or the first error of a bin removed because it
 * did not start (reported through lost as the reason). TRUE if handled. */
gboolean hc_source_handle_message(HcSource *src, GstMessage *msg);

/* The current bin failed or ended: remove it (unlinked at once) and make
 * another after the backoff delay. The removed bin is set to NULL in another
 * thread, so this never waits for its streaming threads, even when an output
 * blocks them. Ignored when there is no current bin. */
void hc_source_lost(HcSource *src, const char *why);
/* Media flows again: the next loss retries after the shortest delay. */
void hc_source_ok(HcSource *src);
/* Times a bin was made again after a loss. Any thread. */
guint hc_source_reconnects(HcSource *src);

/* Replaces every "user:password@" of URLs in text by "user:***@"; owned copy. */
char *hc_source_mask_text(const char *text);

#endif
