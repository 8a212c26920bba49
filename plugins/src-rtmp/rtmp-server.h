/* The RTMP listener shared by every rtmp:// stream: accepts publishers on
 * [rtmp] address:port, checks the stream key and writes the published FLV
 * into the appsrc of the stream that owns the key. Main thread only. */
#ifndef HC_RTMP_SERVER_H
#define HC_RTMP_SERVER_H

#include <gst/gst.h>

typedef struct {
  const char *address; /* listen address */
  guint port;
  const char *app; /* application name publishers use: rtmp://host/APP/KEY */
  guint max_conns;
} HcRtmpServerConfig;

/* Starts listening if not yet listening. A port in use is
 * G_IO_ERROR_ADDRESS_IN_USE (the gateway retries the source with its
 * backoff), with the address and port in the message. */
gboolean hc_rtmp_server_start(const HcRtmpServerConfig *cfg, GError **error);
void hc_rtmp_server_stop(void);

/* Claims key for stream, whether or not the server listens yet: a stream
 * created while the RTMP port is taken still owns its key, so a second
 * stream with that key is refused at create ("key ..." error). Claiming a key
 * the stream holds already is fine. The claim lasts until
 * hc_rtmp_server_release(stream). */
gboolean hc_rtmp_server_claim(const char *key, const char *stream, GError **error);
/* Drops every key claim of stream (it was removed or refused). */
void hc_rtmp_server_release(const char *stream);

/* Routes publishes with key to appsrc (an appsrc of caps video/x-flv inside
 * bin). A key held by another stream is refused ("key ..." error); the same
 * stream taking its key again (a source made again) replaces the old route
 * and closes its publisher. The route ends when bin is finalised. */
gboolean hc_rtmp_server_route(const char *key, const char *stream, GstElement *bin,
                              GstElement *appsrc, GError **error);

#endif
