/* REST: /api/v1/streams (list, create) and /api/v1/streams/NAME (get,
 * delete), plus /healthz. Request bodies are validated field by field and
 * errors name the field. Routed from server.c. */
#define G_LOG_DOMAIN "hc-http"

#include <string.h>

#include "api_switch.h"
#include "core/error.h"
#include "hc-build-config.h"
#include "http.h"
#include "media/stream.h"
#include "webrtc/webrtc.h"
#include "whep.h"
#include "whip.h"

static json_t *
track_json(const char *kind, const HcTrackInfo *t)
{
  json_t *o = json_pack("{s:s, s:s, s:i}", "kind", kind, "codec", t->codec, "bitrate",
                        (json_int_t)t->bitrate);

  if (strcmp(kind, "video") == 0) {
    json_object_set_new(o, "width", json_integer(t->width));
    json_object_set_new(o, "height", json_integer(t->height));
    /* Nominal rate from the caps; sources that do not say get the counted one. */
    json_object_set_new(o, "fps", json_real(t->fps > 0 ? t->fps : t->measured_fps));
    json_object_set_new(o, "measured_fps", json_real(t->measured_fps));
    json_object_set_new(o, "keyframe_interval", json_real(t->keyframe_interval));
  } else {
    json_object_set_new(o, "rate", json_integer(t->rate));
    json_object_set_new(o, "channels", json_integer(t->channels));
  }
  return o;
}

static json_t *
stream_json(HcStream *s)
{
  HcStreamInfo info;
  json_t *o, *tracks = json_array();
  char *hls;

  hc_stream_get_info(s, &info);
  if (info.video.codec[0])
    json_array_append_new(tracks, track_json("video", &info.video));
  if (info.audio.codec[0])
    json_array_append_new(tracks, track_json("audio", &info.audio));
  hls = g_strdup_printf("/hls/%s/index.m3u8", info.name);
  o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:I, s:o, s:s}", "name", info.name, "url", info.url,
                "origin", info.origin, "state", hc_stream_state_name(info.state), "last_error",
                info.last_error ? json_string(info.last_error) : json_null(), "uptime",
                (json_int_t)info.uptime_s, "tracks", tracks, "hls", hls);
  json_object_set_new(o, "bitrate",
                      json_integer((json_int_t)(info.video.bitrate + info.audio.bitrate)));
  json_object_set_new(o, "reconnects", json_integer(info.reconnects));
  json_object_set_new(o, "viewers", json_integer(hc_whep_viewer_count(info.name)));
  hc_whip_fields(info.name, info.url, o);
  hc_api_switch_fields(info.name, o);
  g_free(hls);
  hc_stream_info_clear(&info);
  return o;
}

static void
list(HcHttpResponse *resp)
{
  GPtrArray *all = hc_streams_list();
  json_t *arr = json_array();

  for (guint i = 0; i < all->len; i++)
    json_array_append_new(arr, stream_json(all->pdata[i]));
  hc_http_set_json(resp, 200, json_pack("{s:o}", "streams", arr));
}

/* Reads a required string field; answers 400 naming it and returns NULL if absent. */
static const char *
need_string(json_t *body, const char *field, HcHttpResponse *resp)
{
  json_t *v = json_object_get(body, field);

  if (!v) {
    hc_http_set_error(resp, HC_EINVAL, field, "%s is required", field);
    return NULL;
  }
  if (!json_is_string(v)) {
    hc_http_set_error(resp, HC_EINVAL, field, "%s must be a string", field);
    return NULL;
  }
  return json_string_value(v);
}

static void
create(const HcHttpRequest *req, HcHttpResponse *resp)
{
  gsize len;
  const char *data = g_bytes_get_data(req->body, &len);
  json_error_t jerr;
  json_t *body = data ? json_loadb(data, len, 0, &jerr) : NULL;
  const char *name, *url, *key, *publish_key = NULL, *view_key = NULL;
  json_t *v;
  GError *err = NULL;
  HcStream *s;
  char *loc;

  if (!body || !json_is_object(body)) {
    hc_http_set_error(resp, HC_EINVAL, NULL, "body must be a JSON object%s%s", body ? "" : ": ",
                      body ? "" : (data ? jerr.text : "empty body"));
    goto out;
  }
  json_object_foreach(body, key, v)
  {
    if (strcmp(key, "name") != 0 && strcmp(key, "url") != 0 && strcmp(key, "key") != 0 &&
        strcmp(key, "view_key") != 0) {
      hc_http_set_error(resp, HC_EINVAL, key, "unknown field %s", key);
      goto out;
    }
  }
  if (!(name = need_string(body, "name", resp)) || !(url = need_string(body, "url", resp)))
    goto out;
  if (json_object_get(body, "key") && !(publish_key = need_string(body, "key", resp)))
    goto out;
  if (json_object_get(body, "view_key") && !(view_key = need_string(body, "view_key", resp)))
    goto out;
  if (publish_key && strlen(publish_key) > 255) {
    hc_http_set_error(resp, HC_EINVAL, "key", "key must be at most 255 bytes");
    goto out;
  }
  if (view_key && strlen(view_key) > 255) {
    hc_http_set_error(resp, HC_EINVAL, "view_key", "view_key must be at most 255 bytes");
    goto out;
  }
  s = hc_streams_create_with_key(name, url, publish_key, FALSE, &err);
  if (!s) {
    /* Which field is wrong follows from the code: names are checked first. */
    const char *field = err->code == HC_EEXISTS || !hc_stream_name_valid(name) ? "name" : "url";
    /* Source plugins start the messages about a stream's key with "key". */
    if (err->code == HC_EINVAL && g_str_has_prefix(err->message, "key"))
      field = "key";
    hc_http_set_error(resp, err->code, err->code == HC_EFULL ? NULL : field, "%s", err->message);
    g_error_free(err);
    goto out;
  }
  /* Set after the stream exists, so a refused stream leaves no key behind. */
  hc_webrtc_set_view_key(name, view_key);
  loc = g_strdup_printf("/api/v1/streams/%s", name);
  hc_http_add_header(resp, "location", loc);
  g_free(loc);
  hc_http_set_json(resp, 201, stream_json(s));
out:
  json_decref(body);
}

void
hc_api_streams(const HcHttpRequest *req, HcHttpResponse *resp)
{
  const char *tail = req->tail;
  gboolean collection = tail[0] == '\0' || strcmp(tail, "/") == 0;
  HcStream *s;
  GError *err = NULL;
  const char *slash, *sub;
  char *name = NULL;

  if (collection) {
    if (strcmp(req->method, "GET") == 0)
      list(resp);
    else if (strcmp(req->method, "POST") == 0)
      create(req, resp);
    else
      hc_http_set_error(resp, HC_EMETHOD, NULL, "use GET or POST on /api/v1/streams");
    return;
  }
  /* The tail is "/NAME" or "/NAME/SUB": parsed once, so a stream may be named
   * like a sub-resource ("viewers") without being taken for one. */
  slash = tail[0] == '/' ? strchr(tail + 1, '/') : NULL;
  name = slash ? g_strndup(tail + 1, slash - tail - 1) : g_strdup(tail[0] == '/' ? tail + 1 : "");
  sub = slash ? slash + 1 : NULL;
  if (!hc_stream_name_valid(name)) {
    hc_http_set_error(resp, HC_ENOTFOUND, NULL, "no such resource");
    goto out;
  }
  s = hc_streams_lookup(name);
  if (!s) {
    hc_http_set_error(resp, HC_ENOTFOUND, "name", "no stream named %s", name);
    goto out;
  }
  if (sub && strcmp(sub, "viewers") == 0) {
    /* GET /api/v1/streams/NAME/viewers: WebRTC viewers (http/whep.c). */
    if (strcmp(req->method, "GET") == 0)
      hc_whep_viewers(name, resp);
    else
      hc_http_set_error(resp, HC_EMETHOD, NULL, "use GET on the viewers of a stream");
    goto out;
  }
  if (sub && strcmp(sub, "switch") == 0) {
    /* /api/v1/streams/NAME/switch: camera switching (http/api_switch.c). */
    hc_api_switch(name, req, resp);
    goto out;
  }
  if (sub) {
    hc_http_set_error(resp, HC_ENOTFOUND, NULL, "no such resource");
    goto out;
  }
  if (strcmp(req->method, "GET") == 0) {
    hc_http_set_json(resp, 200, stream_json(s));
  } else if (strcmp(req->method, "DELETE") == 0) {
    if (!hc_streams_remove(name, &err)) {
      hc_http_set_error(resp, err->code, "name", "%s", err->message);
      g_error_free(err);
      goto out;
    }
    hc_webrtc_set_view_key(name, NULL);
    hc_http_set_body(resp, 204, "text/plain", "", 0);
  } else {
    hc_http_set_error(resp, HC_EMETHOD, NULL, "use GET or DELETE on a stream");
  }
out:
  g_free(name);
}

void
hc_api_healthz(const HcHttpRequest *req, HcHttpResponse *resp)
{
  GPtrArray *all = hc_streams_list();
  guint live = 0;

  for (guint i = 0; i < all->len; i++) {
    HcStreamInfo info;
    hc_stream_get_info(all->pdata[i], &info);
    live += info.state == HC_STREAM_LIVE;
    hc_stream_info_clear(&info);
  }
  hc_http_set_json(resp, 200,
                   json_pack("{s:s, s:s, s:i, s:i}", "status", "ok", "version", HC_VERSION,
                             "streams", (int)all->len, "live", (int)live));
}
