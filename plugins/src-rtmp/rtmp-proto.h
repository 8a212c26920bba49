/* RTMP publish protocol, server side, without I/O: handshake, chunk stream,
 * AMF0 connect/createStream/publish, media messages out. Every length is
 * checked against the bytes at hand and the limits below; a peer that breaks
 * the protocol gets an error, never a crash (fuzzed by tests/fuzz/fuzz-rtmp.c).
 * Used by rtmp-server.c on the main thread; one HcRtmpConn per connection. */
#ifndef HC_RTMP_PROTO_H
#define HC_RTMP_PROTO_H

#include <glib.h>

#define HC_RTMP_MAX_CHUNK_SIZE 65536u          /* largest Set Chunk Size accepted */
#define HC_RTMP_MAX_MESSAGE (4u * 1024 * 1024) /* largest message (a 4K keyframe fits) */
#define HC_RTMP_MAX_PENDING (8u * 1024 * 1024) /* all partial messages together */
#define HC_RTMP_MAX_CHUNK_STREAMS 16

enum {
  HC_RTMP_MSG_AUDIO = 8,
  HC_RTMP_MSG_VIDEO = 9,
  HC_RTMP_MSG_DATA = 18, /* AMF0 data: @setDataFrame onMetaData */
};

typedef struct HcRtmpConn HcRtmpConn;

typedef struct {
  /* Bytes to send to the peer, in order. */
  void (*send)(const guint8 *data, gsize len, gpointer user);
  /* The peer asks to publish key in application app. NULL accepts; a
   * returned static text refuses (sent to the peer, which is then closed). */
  const char *(*publish)(const char *app, const char *key, gpointer user);
  /* One complete audio, video or data message of the published stream;
   * timestamp in milliseconds as the peer sent it. */
  void (*media)(guint8 type, guint32 timestamp, const guint8 *data, gsize len, gpointer user);
} HcRtmpCallbacks;

/* cb must outlive the connection. */
HcRtmpConn *hc_rtmp_conn_new(const HcRtmpCallbacks *cb, gpointer user);
void hc_rtmp_conn_free(HcRtmpConn *c);

/* Feeds received bytes. Returns 0; -1 when the connection must be closed
 * (after sending what send() was given), *why then says why in a static
 * text; 1 when the peer ended its publish (deleteStream, FCUnpublish). */
int hc_rtmp_conn_feed(HcRtmpConn *c, const guint8 *data, gsize len, const char **why);

/* TRUE once a publish was accepted. */
gboolean hc_rtmp_conn_publishing(HcRtmpConn *c);

/* From an AMF0 data message ([@setDataFrame] onMetaData {...}): whether it
 * names an audio and a video codec. FALSE if it is not readable metadata. */
gboolean hc_rtmp_metadata_tracks(const guint8 *data, gsize len, gboolean *audio, gboolean *video);

#endif
