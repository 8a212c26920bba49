/* Streams: one GStreamer pipeline per stream, from a source plugin's bin to
 * one tee per track (video H.264, audio AAC, audio Opus), where output plugins
 * (HLS, recording) and the WebRTC fan-out attach. The registry is main-thread
 * only; a stream's counters are updated from streaming threads atomically. */
#ifndef HC_MEDIA_STREAM_H
#define HC_MEDIA_STREAM_H

#include <glib.h>
#include <gst/gst.h>

typedef struct HcStream HcStream;

typedef enum {
  HC_STREAM_STARTING = 0, /* pipeline built, no media yet */
  HC_STREAM_LIVE,         /* media flowing */
  HC_STREAM_RECONNECTING, /* source lost, retrying */
  HC_STREAM_IDLE,         /* waiting for a publisher */
  HC_STREAM_ERROR,        /* stopped by an error; see last_error */
} HcStreamState;

typedef struct {
  char codec[16];           /* "H264", "AAC", "OPUS"; empty if the track is absent */
  int width, height;        /* video only */
  double fps;               /* video only: nominal frame rate from the caps, 0 if not given */
  double measured_fps;      /* video only: frames per second counted over the last seconds */
  double keyframe_interval; /* video only: seconds between the last two keyframes, 0 if unknown */
  int rate, channels;       /* audio only */
  double bitrate;           /* bit/s over the last seconds */
} HcTrackInfo;

/* A consistent copy of a stream's public state, for the API. */
typedef struct {
  const char *name;
  char *url;          /* credentials masked; owned, free with hc_stream_info_clear */
  const char *origin; /* "config" or "api" */
  HcStreamState state;
  char *last_error; /* owned, may be NULL */
  gint64 uptime_s;  /* seconds live, 0 if not live */
  guint reconnects; /* times the source was made again after a loss */
  HcTrackInfo video, audio;
} HcStreamInfo;

/* Starts the registry; max is the most streams at once. */
void hc_streams_init(guint max);
/* Stops every stream (pipelines to NULL, outputs detached, files kept). */
void hc_streams_shutdown(void);

/* Creates and starts a stream. Errors (HC_ERROR): HC_EINVAL for a bad name or
 * URL, HC_EUNSUPPORTED for a scheme no plugin handles, HC_EEXISTS, HC_EFULL. */
HcStream *hc_streams_create(const char *name, const char *url, gboolean from_config,
                            GError **error);
/* Like hc_streams_create, with the stream's publish key (RTMP stream key,
 * SRT passphrase; NULL or "" for none), which is handed to the source plugin. */
HcStream *hc_streams_create_with_key(const char *name, const char *url, const char *key,
                                     gboolean from_config, GError **error);
/* Stops a stream, detaches outputs and removes their files. HC_ENOTFOUND. */
gboolean hc_streams_remove(const char *name, GError **error);
/* Borrowed pointer, valid until the stream is removed; NULL if unknown. */
HcStream *hc_streams_lookup(const char *name);
/* Streams in creation order; borrowed, valid until the next create/remove. */
GPtrArray *hc_streams_list(void);

void hc_stream_get_info(HcStream *s, HcStreamInfo *out);
/* Main thread: the stream's WebRTC RTP output (borrowed; NULL until its
 * tracks are known). Take a reference with hc_rtp_out_ref to keep it. */
struct HcRtpOut *hc_stream_rtp_out(HcStream *s);
void hc_stream_info_clear(HcStreamInfo *info);
const char *hc_stream_state_name(HcStreamState state);
/* The stream's name (borrowed, valid while the stream lives). */
const char *hc_stream_name(HcStream *s);
/* Running time of the stream's pipeline in ns (its media clock), or -1 if it
 * has no clock yet. Main thread. Used to stamp interaction events. */
gint64 hc_stream_running_time(HcStream *s);

/* TRUE if name is [A-Za-z0-9_-]{1,64}. */
gboolean hc_stream_name_valid(const char *name);
/* Copy of url with any password replaced by "***". */
char *hc_url_mask(const char *url);

#endif
