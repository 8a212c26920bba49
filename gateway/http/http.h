/* The HTTP server (libwebsockets on the GLib main loop): requests are routed
 * to handlers that fill an HcHttpResponse; the server writes it from the
 * WRITEABLE callback. Main thread only. */
#ifndef HC_HTTP_H
#define HC_HTTP_H

#include <glib.h>
#include <jansson.h>

typedef struct {
  const char *address;
  int port;
  const char *web_root; /* served at / */
  const char *hls_root; /* served at /hls/ */
  gsize max_body;
  int idle_timeout; /* seconds a connection may be idle or take to send a request */
} HcHttpConfig;

typedef struct HcHttpRequest HcHttpRequest;
typedef struct HcHttpResponse HcHttpResponse;

struct HcHttpRequest {
  const char *method; /* "GET", "POST", "DELETE", "OPTIONS", "PUT", "PATCH", "HEAD" */
  const char *path;   /* as received, without the query */
  const char *tail;   /* the part of path after the route's prefix */
  GBytes *body;       /* never NULL; may be empty */
  struct lws *wsi;
};

/* A route handler fills resp; it never writes to the connection itself. */
typedef void (*HcHttpHandler)(const HcHttpRequest *req, HcHttpResponse *resp);

/* Starts listening; error HC_EINTERNAL when the address cannot be bound. */
gboolean hc_http_start(const HcHttpConfig *cfg, GError **error);
void hc_http_stop(void);

/* Header value of the request (e.g. "content-type"), or NULL; owned by the caller. */
char *hc_http_header(const HcHttpRequest *req, const char *name);

void hc_http_set_status(HcHttpResponse *resp, int status);
/* Adds a response header; name without the colon. */
void hc_http_add_header(HcHttpResponse *resp, const char *name, const char *value);
/* Body and content type; the text is copied. */
void hc_http_set_body(HcHttpResponse *resp, int status, const char *content_type, const char *body,
                      gsize len);
/* JSON body; steals the reference to obj. */
void hc_http_set_json(HcHttpResponse *resp, int status, json_t *obj);
/* {"error":{"code":NAME,"message":...,"field":field?}} with the status of the
 * HC_E* code. field may be NULL. */
void hc_http_set_error(HcHttpResponse *resp, int code, const char *field, const char *fmt, ...)
  G_GNUC_PRINTF(4, 5);
/* Serves size bytes of an open file (already checked); takes ownership of fd. */
void hc_http_set_file(HcHttpResponse *resp, int fd, gsize size, const char *content_type,
                      const char *cache_control);

/* Route handlers of the modules (api_streams.c, static.c). */
void hc_api_streams(const HcHttpRequest *req, HcHttpResponse *resp);
void hc_api_healthz(const HcHttpRequest *req, HcHttpResponse *resp);
void hc_api_interact(const HcHttpRequest *req, HcHttpResponse *resp);
void hc_api_metrics(const HcHttpRequest *req, HcHttpResponse *resp);
void hc_static_init(const char *web_root, const char *hls_root);
void hc_static_web(const HcHttpRequest *req, HcHttpResponse *resp);
void hc_static_hls(const HcHttpRequest *req, HcHttpResponse *resp);

/* A file to serve: an open descriptor (the caller's to close), its size and
 * the headers its name calls for (static strings). */
typedef struct {
  int fd;
  gsize size;
  const char *type;
  const char *cache;
} HcStaticFile;

/* The message of the 404 for a file that is not there. */
#define HC_STATIC_NOT_FOUND "no such file"

/* CORS on every answer (server.c through lws, front.c on its own): the
 * headers a browser page may read from a cross-origin answer. */
#define HC_HTTP_CORS_EXPOSE "Location, Link, ETag"

/* Opens the file under the HLS folder that path ("/NAME/index.m3u8": the part
 * after "/hls", with its slash) names, as hc_static_hls() would serve it;
 * FALSE if none. Any thread, once hc_static_init() has run. */
gboolean hc_static_open_hls(const char *path, HcStaticFile *f);

#endif
