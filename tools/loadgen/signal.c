/* Signalling for the load generator, blocking, on its own thread: WHEP
 * (POST an offer, 201 + Location + answer, DELETE to leave) or Janus's
 * streaming plugin over its HTTP transport (one session, a handle per
 * viewer: attach, watch, long-poll for the offer, start with our answer).
 * HTTP is libcurl's; only loopback URLs are accepted. Called from main.c. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <string.h>

#include "loadgen.h"

struct HcLgSignal {
  const HcLgOptions *opt;
  HcLgDtlsContext *dtls;
  CURL *curl;
  guint64 janus_session;
  gint64 last_keepalive_us;
  guint txn;
};

typedef struct {
  long status;
  GString *body;
  char *location;
} Reply;

static size_t
on_body(char *data, size_t size, size_t n, void *user)
{
  Reply *r = user;

  if (r->body->len + size * n > 1 << 20)
    return 0; /* bounded: no answer is this large */
  g_string_append_len(r->body, data, (gssize)(size * n));
  return size * n;
}

static size_t
on_header(char *data, size_t size, size_t n, void *user)
{
  Reply *r = user;
  size_t len = size * n;

  if (len > 9 && g_ascii_strncasecmp(data, "location:", 9) == 0 && !r->location)
    r->location = g_strstrip(g_strndup(data + 9, len - 9));
  return len;
}

static void
reply_clear(Reply *r)
{
  if (r->body)
    g_string_free(r->body, TRUE);
  g_free(r->location);
  memset(r, 0, sizeof(*r));
}

/* One request; 0 when it got an HTTP status (any), -1 on transport error. */
static int
http(HcLgSignal *s, const char *method, const char *url, const char *ctype, const char *body,
     long timeout_ms, Reply *r)
{
  struct curl_slist *hdrs = NULL;
  char *auth = NULL, *ct = NULL;
  CURLcode rc;

  r->body = g_string_new(NULL);
  curl_easy_reset(s->curl);
  curl_easy_setopt(s->curl, CURLOPT_URL, url);
  curl_easy_setopt(s->curl, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(s->curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(s->curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(s->curl, CURLOPT_HEADERDATA, r);
  if (body) {
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
  }
  if (ctype) {
    ct = g_strdup_printf("Content-Type: %s", ctype);
    hdrs = curl_slist_append(hdrs, ct);
  }
  if (s->opt->token && !s->opt->janus) {
    auth = g_strdup_printf("Authorization: Bearer %s", s->opt->token);
    hdrs = curl_slist_append(hdrs, auth);
  }
  hdrs = curl_slist_append(hdrs, "Expect:");
  curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, hdrs);
  rc = curl_easy_perform(s->curl);
  if (rc == CURLE_OK)
    curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &r->status);
  curl_slist_free_all(hdrs);
  g_free(auth);
  g_free(ct);
  if (rc != CURLE_OK) {
    g_warning("%s %s: %s", method, url, curl_easy_strerror(rc));
    return -1;
  }
  return 0;
}

static gboolean
url_is_loopback(const char *url)
{
  CURLU *u = curl_url();
  char *host = NULL;
  gboolean ok = FALSE;
  struct sockaddr_in6 a6 = {.sin6_family = AF_INET6};
  struct sockaddr_in a4 = {.sin_family = AF_INET};

  if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
    char *h = host;
    size_t n = strlen(h);
    if (n > 2 && h[0] == '[' && h[n - 1] == ']') {
      h[n - 1] = '\0';
      h++;
    }
    if (strcmp(h, "localhost") == 0)
      ok = TRUE;
    else if (inet_pton(AF_INET, h, &a4.sin_addr) == 1)
      ok = hc_lg_addr_is_loopback((struct sockaddr *)&a4);
    else if (inet_pton(AF_INET6, h, &a6.sin6_addr) == 1)
      ok = hc_lg_addr_is_loopback((struct sockaddr *)&a6);
  }
  curl_free(host);
  curl_url_cleanup(u);
  return ok;
}

/* ---- Janus ---- */

static json_t *
janus_call(HcLgSignal *s, const char *path, json_t *req, long timeout_ms)
{
  char *url = g_strconcat(s->opt->url, path, NULL);
  char *text, txn[32];
  Reply r = {0};
  json_t *res = NULL;

  g_snprintf(txn, sizeof(txn), "lg%u", ++s->txn);
  if (req)
    json_object_set_new(req, "transaction", json_string(txn));
  text = req ? json_dumps(req, JSON_COMPACT) : NULL;
  if (http(s, req ? "POST" : "GET", url, req ? "application/json" : NULL, text, timeout_ms, &r) ==
        0 &&
      r.status == 200)
    res = json_loads(r.body->str, 0, NULL);
  else if (r.body)
    g_warning("janus %s: HTTP %ld %.200s", path, r.status, r.body->str);
  free(text);
  json_decref(req);
  reply_clear(&r);
  g_free(url);
  return res;
}

static int
janus_session(HcLgSignal *s)
{
  json_t *res = janus_call(s, "", json_pack("{s:s}", "janus", "create"), 10000);
  json_int_t id = 0;

  if (!res || json_unpack(res, "{s:{s:I}}", "data", "id", &id) != 0) {
    g_warning("janus: could not create a session");
    json_decref(res);
    return -1;
  }
  s->janus_session = (guint64)id;
  s->last_keepalive_us = g_get_monotonic_time();
  json_decref(res);
  return 0;
}

/* Long-polls the session until the event for handle carries an offer. */
static char *
janus_wait_offer(HcLgSignal *s, guint64 handle)
{
  char path[64];
  gint64 deadline = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;

  g_snprintf(path, sizeof(path), "/%" G_GUINT64_FORMAT "?maxev=1", s->janus_session);
  while (g_get_monotonic_time() < deadline) {
    json_t *ev = janus_call(s, path, NULL, 35000);
    json_int_t sender = 0;
    const char *type = NULL, *sdp = NULL;

    if (!ev)
      return NULL;
    s->last_keepalive_us = g_get_monotonic_time();
    json_unpack(ev, "{s?I, s?{s:s, s:s}}", "sender", &sender, "jsep", "type", &type, "sdp", &sdp);
    if ((guint64)sender == handle && sdp && type && strcmp(type, "offer") == 0) {
      char *copy = g_strdup(sdp);
      json_decref(ev);
      return copy;
    }
    if ((guint64)sender == handle && json_object_get(json_object_get(ev, "plugindata"), "data") &&
        json_object_get(json_object_get(json_object_get(ev, "plugindata"), "data"), "error")) {
      char *dump = json_dumps(ev, JSON_COMPACT);
      g_warning("janus watch failed: %.300s", dump);
      free(dump);
      json_decref(ev);
      return NULL;
    }
    json_decref(ev);
  }
  return NULL;
}

static int
janus_connect(HcLgSignal *s, HcLgViewer *v, const HcLgLocalIce *local)
{
  char path[64];
  json_t *res;
  json_int_t handle = 0;
  char *offer = NULL, *answer = NULL;
  int rc = -1;

  if (!s->janus_session && janus_session(s) < 0)
    return -1;
  g_snprintf(path, sizeof(path), "/%" G_GUINT64_FORMAT, s->janus_session);
  res = janus_call(
    s, path, json_pack("{s:s, s:s}", "janus", "attach", "plugin", "janus.plugin.streaming"), 10000);
  if (!res || json_unpack(res, "{s:{s:I}}", "data", "id", &handle) != 0)
    goto out;
  json_decref(res);
  v->resource = g_strdup_printf("%" G_GUINT64_FORMAT, (guint64)handle);
  g_snprintf(path, sizeof(path), "/%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT, s->janus_session,
             (guint64)handle);
  res = janus_call(s, path,
                   json_pack("{s:s, s:{s:s, s:I}}", "janus", "message", "body", "request", "watch",
                             "id", (json_int_t)s->opt->janus_mount),
                   10000);
  if (!res)
    goto out;
  json_decref(res);
  res = NULL;
  offer = janus_wait_offer(s, (guint64)handle);
  if (!offer || hc_lg_sdp_parse(offer, &v->remote) < 0) {
    g_warning("viewer %d: no usable offer from janus", v->id);
    goto out;
  }
  answer = hc_lg_sdp_answer(offer, local);
  if (!answer)
    goto out;
  g_debug("viewer %d: janus offer:\n%s\nanswer:\n%s", v->id, offer, answer);
  res =
    janus_call(s, path,
               json_pack("{s:s, s:{s:s}, s:{s:s, s:s, s:b}}", "janus", "message", "body", "request",
                         "start", "jsep", "type", "answer", "sdp", answer, "trickle", 0),
               10000);
  if (res)
    rc = 0;
out:
  json_decref(res);
  g_free(offer);
  g_free(answer);
  return rc;
}

/* ---- WHEP ---- */

static char *
resolve_location(const char *base, const char *location)
{
  CURLU *u = curl_url();
  char *abs = NULL, *out = NULL;

  if (curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
      curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK &&
      curl_url_get(u, CURLUPART_URL, &abs, 0) == CURLUE_OK)
    out = g_strdup(abs);
  curl_free(abs);
  curl_url_cleanup(u);
  return out;
}

static int
whep_connect(HcLgSignal *s, HcLgViewer *v, const HcLgLocalIce *local)
{
  char *offer = hc_lg_sdp_whep_offer(local);
  Reply r = {0};
  int rc = -1;

  if (http(s, "POST", s->opt->url, "application/sdp", offer, 10000, &r) < 0)
    goto out;
  if (r.status != 201 && r.status != 200) {
    g_warning("viewer %d: WHEP answered %ld: %.200s", v->id, r.status, r.body->str);
    goto out;
  }
  if (hc_lg_sdp_parse(r.body->str, &v->remote) < 0) {
    g_warning("viewer %d: unusable WHEP answer", v->id);
    goto out;
  }
  g_debug("viewer %d: offer:\n%s\nanswer:\n%s", v->id, offer, r.body->str);
  if (r.location)
    v->resource = resolve_location(s->opt->url, r.location);
  rc = 0;
out:
  reply_clear(&r);
  g_free(offer);
  return rc;
}

HcLgSignal *
hc_lg_signal_new(const HcLgOptions *opt, HcLgDtlsContext *dtls)
{
  HcLgSignal *s;

  if (!url_is_loopback(opt->url)) {
    g_printerr("hc-loadgen: %s is not a loopback URL; this tool only loads local servers\n",
               opt->url);
    return NULL;
  }
  s = g_new0(HcLgSignal, 1);
  s->opt = opt;
  s->dtls = dtls;
  s->curl = curl_easy_init();
  return s;
}

int
hc_lg_signal_connect(HcLgSignal *s, HcLgViewer *v)
{
  struct sockaddr_storage local;
  socklen_t len = sizeof(local);
  HcLgLocalIce ice = {v->ufrag, v->pwd, hc_lg_dtls_fingerprint(s->dtls), (struct sockaddr *)&local};

  if (getsockname(v->fd, (struct sockaddr *)&local, &len) < 0)
    return -1;
  return s->opt->janus ? janus_connect(s, v, &ice) : whep_connect(s, v, &ice);
}

void
hc_lg_signal_leave(HcLgSignal *s, HcLgViewer *v, long timeout_ms)
{
  Reply r = {0};

  if (!v->resource)
    return;
  if (s->opt->janus) {
    char path[64];
    g_snprintf(path, sizeof(path), "/%" G_GUINT64_FORMAT "/%s", s->janus_session, v->resource);
    json_decref(janus_call(s, path, json_pack("{s:s}", "janus", "detach"), timeout_ms));
  } else {
    http(s, "DELETE", v->resource, NULL, NULL, timeout_ms, &r);
    reply_clear(&r);
  }
}

void
hc_lg_signal_keepalive(HcLgSignal *s)
{
  char path[64];

  if (!s->opt->janus || !s->janus_session ||
      g_get_monotonic_time() - s->last_keepalive_us < 10 * G_USEC_PER_SEC)
    return;
  g_snprintf(path, sizeof(path), "/%" G_GUINT64_FORMAT, s->janus_session);
  json_decref(janus_call(s, path, json_pack("{s:s}", "janus", "keepalive"), 5000));
  s->last_keepalive_us = g_get_monotonic_time();
}

void
hc_lg_signal_free(HcLgSignal *s)
{
  if (!s)
    return;
  if (s->opt->janus && s->janus_session) {
    char path[64];
    g_snprintf(path, sizeof(path), "/%" G_GUINT64_FORMAT, s->janus_session);
    json_decref(janus_call(s, path, json_pack("{s:s}", "janus", "destroy"), 5000));
  }
  curl_easy_cleanup(s->curl);
  g_free(s);
}
