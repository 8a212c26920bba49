/* hallcast plugin API, version 1.
 *
 * A plugin is a shared module that exports one fully initialised, static
 * HcPlugin descriptor under the symbol HC_PLUGIN_SYMBOL. The gateway checks
 * api_version before it reads any other field or calls anything. */
#ifndef HALLCAST_PLUGIN_H
#define HALLCAST_PLUGIN_H

#include <glib.h>
#include <gmodule.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define HC_PLUGIN_API_VERSION 1
#define HC_PLUGIN_SYMBOL "hallcast_plugin"

/* Declares the descriptor with the name and visibility the loader expects. */
#define HC_PLUGIN_DEFINE G_MODULE_EXPORT const HcPlugin hallcast_plugin

typedef enum {
  HC_PLUGIN_SOURCE = 1, /* makes the source part of a stream's pipeline for a URL scheme */
  HC_PLUGIN_OUTPUT = 2, /* attaches to every stream's track tees (HLS, recording, ...) */
} HcPluginKind;

/* A configuration key: one table validates the file, fills the defaults and
 * documents config/hallcast.conf. The gateway's own keys use the same struct. */
typedef enum {
  HC_CFG_STRING = 1,
  HC_CFG_INT,
  HC_CFG_BOOL,
  HC_CFG_ENUM, /* one of the '|'-separated words in choices */
} HcConfigType;

typedef struct {
  const char *key;
  HcConfigType type;
  const char *def;     /* default value as written in the file, NULL = required */
  gint64 min, max;     /* HC_CFG_INT only */
  const char *choices; /* HC_CFG_ENUM only: "a|b|c" */
  const char *help;    /* one line for the shipped config file */
} HcConfigKey;

/* Services the gateway offers a plugin; valid from init() to shutdown(). */
typedef struct {
  guint api_version;
  const char *data_dir; /* absolute path of the data folder */
  /* Validated values of any group (the plugin's own or [gateway]); defaults filled in. */
  const char *(*config_string)(const char *group, const char *key);
  gint64 (*config_int)(const char *group, const char *key);
  gboolean (*config_bool)(const char *group, const char *key);
} HcHost;

/* What an output plugin gets for one stream. The tees exist for the tracks the
 * stream has (NULL for a missing track); link request pads of them from a bin
 * that the output adds to the pipeline. Called on the main thread. */
typedef struct {
  const char *name; /* stream name, [A-Za-z0-9_-]{1,64} */
  GstBin *pipeline;
  GstElement *video_tee; /* video/x-h264, stream-format=byte-stream, alignment=au */
  GstElement *aac_tee;   /* audio/mpeg, mpegversion=4, stream-format=raw (parsed) */
  GstElement *opus_tee;  /* audio/x-opus, 48 kHz; when transcoded from the
                          * source's AAC or raw audio, it flows only while a
                          * WebRTC viewer or a switch stream takes it */
} HcStreamPads;

/* What a source plugin gets for one stream (source_open). Fields are only
 * ever appended. The plugin may keep none of the pointers past the call. */
typedef struct {
  const char *stream; /* the stream's name */
  const char *url;
  const char *key; /* [stream NAME] key=: RTMP stream key, SRT passphrase; "" if none.
                    * A secret: never log it. */
  gboolean waits;  /* set by the plugin: the source waits for a publisher (RTMP,
                    * SRT listener), so the stream is idle, not reconnecting,
                    * while it has none */
} HcSourceArgs;

typedef struct {
  guint api_version; /* must be HC_PLUGIN_API_VERSION, checked first */
  const char *name;  /* unique, e.g. "src-test" */
  const char *description;
  HcPluginKind kind;
  /* Configuration group the plugin owns (e.g. "hls"), NULL if none, and its
   * keys, terminated by an entry with key == NULL. */
  const char *config_group;
  const HcConfigKey *config_keys;

  /* Optional. Called once after the configuration is validated. */
  gboolean (*init)(const HcHost *host, GError **error);
  /* Optional. Called once at shutdown, after every stream is stopped. */
  void (*shutdown)(void);

  /* HC_PLUGIN_SOURCE: the URL scheme handled ("test" for test://...). */
  const char *scheme;
  /* Checks a URL without side effects (config check, REST validation). */
  gboolean (*source_check)(const char *url, GError **error);
  /* Returns a floating GstBin whose src pads are named "video" (H.264) and
   * "audio" (audio/x-raw, AAC or Opus). Either every pad exists on return, or
   * pads are added later and gst_element_no_more_pads() is called. */
  GstElement *(*source_create)(const char *url, GError **error);

  /* HC_PLUGIN_OUTPUT: attach to one stream; the returned handle is passed to
   * detach after the pipeline is stopped. remove_files is TRUE when the stream
   * is deleted (not at shutdown). */
  gpointer (*output_attach)(const HcStreamPads *stream, GError **error);
  void (*output_detach)(gpointer handle, gboolean remove_files);

  /* HC_PLUGIN_SOURCE: a source plugin sets source_open, source_create or
   * both; source_open is preferred when set. Like
   * source_create, with the stream's name and key. Buffers are timestamped in
   * the pipeline's running time (as live sources do), so that a source made
   * again after a loss continues the stream's timeline. The gateway makes the
   * source again (with backoff) after an error or EOS from it. An error
   * G_IO_ERROR_ADDRESS_IN_USE (a listener's port is taken) is retried the
   * same way instead of refusing the stream. */
  GstElement *(*source_open)(HcSourceArgs *args, GError **error);

  /* HC_PLUGIN_SOURCE, optional. Main thread: the stream named stream is
   * removed, refused at create, or the gateway stops; the plugin forgets what
   * it kept for that stream across its bins (e.g. a claimed RTMP stream key). */
  void (*source_release)(const char *stream);

  gpointer reserved[6]; /* later API versions add fields here */
} HcPlugin;

G_END_DECLS

#endif /* HALLCAST_PLUGIN_H */
