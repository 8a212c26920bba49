/* WHEP (draft-ietf-wish-whep): a viewer POSTs its SDP offer to /whep/NAME
 * and gets 201 with our answer and a Location to DELETE when leaving. The
 * viewer is then handed to a fan-out worker. Also the viewers list of
 * GET /api/v1/streams/NAME/viewers. Routed from server.c. */
#define G_LOG_DOMAIN "hc-http"

#include "whep.h"

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <openssl/crypto.h>
#include <string.h>

#include "core/error.h"
#include "media/fanout.h"
#include "media/stream.h"
#include "webrtc/addr.h"
#include "webrtc/dtls.h"
#include "webrtc/sdp.h"
#include "webrtc/webrtc.h"

static HcWhepAuthorize authorize;

void
hc_whep_set_authorize(HcWhepAuthorize fn)
{
  authorize = fn;
}

/* The address this HTTP request came in on (v4-mapped shown as IPv4) into
 * out; FALSE if unknown, loopback or link-local (no scope in a candidate). */
static gboolean
request_local_address(const HcHttpRequest *req, char out[INET6_ADDRSTRLEN])
{
  HcAddr a;
  socklen_t len = sizeof a;
  int fd = lws_get_socket_fd(req->wsi);

  if (fd < 0 || getsockname(fd, &a.sa, &len) != 0)
    return FALSE;
  a = hc_addr_unmap(&a);
  if (a.sa.sa_family == AF_INET)
    return a.in.sin_addr.s_addr != htonl(INADDR_ANY) &&
           (ntohl(a.in.sin_addr.s_addr) >> 24) != 127 &&
           inet_ntop(AF_INET, &a.in.sin_addr, out, INET6_ADDRSTRLEN);
  if (a.sa.sa_family == AF_INET6)
    return !IN6_IS_ADDR_UNSPECIFIED(&a.in6.sin6_addr) && !IN6_IS_ADDR_LOOPBACK(&a.in6.sin6_addr) &&
           !IN6_IS_ADDR_LINKLOCAL(&a.in6.sin6_addr) &&
           inet_ntop(AF_INET6, &a.in6.sin6_addr, out, INET6_ADDRSTRLEN);
  return FALSE;
}

void
hc_http_candidate_addresses(const HcHttpRequest *req, char addrs[HC_CANDIDATES][INET6_ADDRSTRLEN],
                            const char *list[HC_CANDIDATES + 1])
{
  const char *bound = hc_webrtc_udp_address(), *public_ip = hc_webrtc_public_ip();
  gboolean ipv6 = hc_fanout_ipv6();
  HcAddr a;
  guint n = 0;

  if (public_ip[0])
    g_strlcpy(addrs[n++], public_ip, INET6_ADDRSTRLEN);
  if (hc_addr_parse(bound, 0, &a) && !hc_addr_is_any(&a)) {
    /* Sockets bound to one address receive nothing sent to another. */
    if (strcmp(bound, public_ip) != 0)
      g_strlcpy(addrs[n++], bound, INET6_ADDRSTRLEN);
  } else {
    /* A wildcard socket takes what reaches the host: the address the
     * client reached us on, and loopback of each family it takes. */
    if (request_local_address(req, addrs[n]) && (ipv6 || !strchr(addrs[n], ':')) &&
        strcmp(addrs[n], public_ip) != 0)
      n++;
    g_strlcpy(addrs[n++], "127.0.0.1", INET6_ADDRSTRLEN);
    if (ipv6)
      g_strlcpy(addrs[n++], "::1", INET6_ADDRSTRLEN);
  }
  for (guint i = 0; i < n; i++)
    list[i] = addrs[i];
  list[n] = NULL;
}

char *
hc_http_bearer(const HcHttpRequest *req)
{
  char *h = hc_http_header(req, "authorization");
  char *token = h && g_ascii_strncasecmp(h, "Bearer ", 7) == 0 ? g_strdup(h + 7) : NULL;

  g_free(h);
  return token;
}

gboolean
hc_http_secret_equal(const char *given, const char *secret)
{
  size_t n = given ? strlen(given) : 0;

  return given && secret[0] && n == strlen(secret) && CRYPTO_memcmp(given, secret, n) == 0;
}

void
hc_http_sdp_created(HcHttpResponse *resp, const char *collection, const char *name, const char *id,
                    char *answer)
{
  char *loc = g_strdup_printf("%s/%s/%s", collection, name, id);

  hc_http_add_header(resp, "location", loc);
  hc_http_add_header(resp, "accept-patch", "application/trickle-ice-sdpfrag");
  hc_http_add_header(resp, "cache-control", "no-store");
  hc_http_set_body(resp, 201, "application/sdp", answer, strlen(answer));
  g_free(loc);
  g_free(answer);
}

gboolean
hc_http_require_sdp(const HcHttpRequest *req, HcHttpResponse *resp)
{
  char *ctype = hc_http_header(req, "content-type");
  gboolean ok = ctype && g_str_has_prefix(ctype, "application/sdp");

  if (!ok)
    hc_http_set_error(resp, HC_EUNSUPPORTED, "content-type",
                      "the body must be an SDP offer with Content-Type: application/sdp");
  g_free(ctype);
  return ok;
}

/* A stream with a view_key takes that key (or what the token hook accepts);
 * one without takes anyone, unless the token hook says otherwise. */
static gboolean
check_auth(const HcHttpRequest *req, const char *stream, HcHttpResponse *resp)
{
  const char *key = hc_webrtc_view_key(stream);
  char *bearer;
  int rc = 0;

  if (!key[0] && !authorize)
    return TRUE;
  bearer = hc_http_bearer(req);
  if (key[0])
    rc = hc_http_secret_equal(bearer, key) ? 0 : HC_EUNAUTHORIZED;
  if ((rc != 0 || !key[0]) && authorize)
    rc = authorize(stream, bearer);
  g_free(bearer);
  if (rc != 0) {
    hc_http_add_header(resp, "www-authenticate", "Bearer");
    hc_http_set_error(resp, rc, "authorization",
                      "watching %s needs Authorization: Bearer with its viewing key", stream);
  }
  return rc == 0;
}

static void
offer(const HcHttpRequest *req, HcHttpResponse *resp, const char *name)
{
  HcStream *s = hc_streams_lookup(name);
  HcRtpOut *out;
  char *answer, addrs[HC_CANDIDATES][INET6_ADDRSTRLEN];
  const char *reason, *list[HC_CANDIDATES + 1];
  gsize len;
  const char *text = g_bytes_get_data(req->body, &len);
  HcSdpOffer o;
  HcViewer *v;
  int rc;

  if (!s) {
    hc_http_set_error(resp, HC_ENOTFOUND, NULL, "no stream named %s", name);
    return;
  }
  if (!check_auth(req, name, resp))
    return;
  if (!hc_http_require_sdp(req, resp))
    return;
  out = hc_stream_rtp_out(s);
  if (!out) {
    hc_http_add_header(resp, "retry-after", "2");
    hc_http_set_error(resp, HC_EFULL, NULL, "stream %s has no media yet, try again", name);
    return;
  }
  if (hc_viewers_count(NULL) >= hc_webrtc_max_viewers()) {
    hc_http_add_header(resp, "retry-after", "10");
    hc_http_set_error(resp, HC_EFULL, NULL, "the gateway serves its maximum of %u viewers",
                      hc_webrtc_max_viewers());
    return;
  }
  rc = hc_sdp_parse_offer(text ? text : "", text ? len : 0, out->video != NULL, out->audio != NULL,
                          &o, &reason);
  if (rc != 0) {
    hc_http_set_error(resp, rc, "sdp", "%s", reason);
    return;
  }
  v = hc_viewer_new(name, out, o.fingerprint, o.video >= 0 ? o.media[o.video].pt : -1,
                    o.audio >= 0 ? o.media[o.audio].pt : -1);
  hc_fanout_assign(v);
  hc_http_candidate_addresses(req, addrs, list);
  {
    HcSdpAnswerParams p = {v->ufrag,
                           v->pwd,
                           hc_dtls_fingerprint(),
                           list,
                           hc_fanout_port(v->worker),
                           v->video.ssrc,
                           v->audio.ssrc,
                           v->id,
                           name};
    answer = hc_sdp_build_answer(&o, &p);
  }
  hc_fanout_add(v);
  g_info("viewer %s (stream %s): offer accepted, worker %u", v->id, name, v->worker);
  hc_http_sdp_created(resp, "/whep", name, v->id, answer);
}

static void
resource(const HcHttpRequest *req, HcHttpResponse *resp, const char *name, const char *id)
{
  int worker;

  if (strcmp(req->method, "PATCH") == 0) {
    /* ICE-lite: we learn the viewer's address from its checks, so trickled
     * candidates are not needed; ICE restarts are not supported. */
    if (!hc_viewers_exists(name, id)) {
      hc_http_set_error(resp, HC_ENOTFOUND, NULL, "no viewer %s of stream %s", id, name);
      return;
    }
    hc_http_set_body(resp, 204, "text/plain", "", 0);
    return;
  }
  if (strcmp(req->method, "DELETE") != 0) {
    hc_http_set_error(resp, HC_EMETHOD, NULL, "use DELETE or PATCH on a WHEP viewer resource");
    return;
  }
  worker = hc_viewers_unregister(name, id);
  if (worker < 0) {
    hc_http_set_error(resp, HC_ENOTFOUND, NULL, "no viewer %s of stream %s", id, name);
    return;
  }
  hc_fanout_remove(worker, id);
  hc_http_set_body(resp, 204, "text/plain", "", 0);
}

void
hc_http_session_route(const HcHttpRequest *req, HcHttpResponse *resp, const char *collection,
                      HcSessionPost post, HcSessionResource resource)
{
  char **parts = g_strsplit(req->tail, "/", 3);
  guint n = g_strv_length(parts);

  if (n == 1 && hc_stream_name_valid(parts[0])) {
    if (strcmp(req->method, "POST") == 0)
      post(req, resp, parts[0]);
    else
      hc_http_set_error(resp, HC_EMETHOD, NULL, "use POST with an SDP offer on %s/NAME",
                        collection);
  } else if (n == 2 && hc_stream_name_valid(parts[0]) && strlen(parts[1]) == 32) {
    resource(req, resp, parts[0], parts[1]);
  } else {
    hc_http_set_error(resp, HC_ENOTFOUND, NULL, "no such resource");
  }
  g_strfreev(parts);
}

void
hc_whep(const HcHttpRequest *req, HcHttpResponse *resp)
{
  hc_http_session_route(req, resp, "/whep", offer, resource);
}

static void
add_viewer_json(const HcViewer *v, gpointer data)
{
  json_t *arr = data;
  char addr[HC_ADDR_STRLEN];
  const HcViewerTrack *tracks[] = {&v->video, &v->audio};
  json_int_t packets = 0, bytes = 0, nacks = 0, plis = 0, rtx = 0, lost = 0, rtt = 0;
  double jitter_ms = 0;
  GDateTime *since = g_date_time_new_from_unix_utc(v->since_real_us / G_USEC_PER_SEC);
  char *iso = g_date_time_format_iso8601(since);
  HcViewerState st = g_atomic_int_get(&v->state);

  for (guint i = 0; i < 2; i++) {
    packets += __atomic_load_n(&tracks[i]->packets, __ATOMIC_RELAXED);
    bytes += __atomic_load_n(&tracks[i]->bytes, __ATOMIC_RELAXED);
    nacks += __atomic_load_n(&tracks[i]->nacks, __ATOMIC_RELAXED);
    plis += __atomic_load_n(&tracks[i]->keyframe_requests, __ATOMIC_RELAXED);
    rtx += __atomic_load_n(&tracks[i]->retransmits, __ATOMIC_RELAXED);
    lost += __atomic_load_n(&tracks[i]->lost, __ATOMIC_RELAXED);
    rtt = MAX(rtt, (json_int_t)__atomic_load_n(&tracks[i]->rtt_us, __ATOMIC_RELAXED));
    jitter_ms = MAX(jitter_ms, __atomic_load_n(&tracks[i]->jitter, __ATOMIC_RELAXED) * 1000.0 /
                                 tracks[i]->clock);
  }
  json_array_append_new(
    arr, json_pack(
           "{s:s, s:o, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:I, s:s}", "id", v->id,
           "remote", v->has_remote ? json_string(hc_addr_to_string(&v->remote, addr)) : json_null(),
           "state", hc_viewer_state_name(st), "srtp_profile",
           st == HC_VIEWER_CONNECTED ? hc_srtp_profile_name(v->profile) : "none", "packets_sent",
           packets, "bytes_sent", bytes, "nacks", nacks, "plis", plis, "retransmits", rtx, "lost",
           lost, "rtt_ms", rtt ? json_real(rtt / 1000.0) : json_null(), "worker",
           (json_int_t)v->worker, "since", iso));
  json_object_set_new(json_array_get(arr, json_array_size(arr) - 1), "jitter_ms",
                      json_real(jitter_ms));
  g_free(iso);
  g_date_time_unref(since);
}

void
hc_whep_viewers(const char *stream, HcHttpResponse *resp)
{
  json_t *arr = json_array(), *latency;
  double lat[3];

  hc_viewers_foreach(stream, add_viewer_json, arr);
  hc_fanout_latency(lat);
  latency = lat[0] < 0 ? json_null()
                       : json_pack("{s:f, s:f, s:f}", "p50", lat[0], "p99", lat[1], "p999", lat[2]);
  /* Datagrams the workers dropped (unknown address, failed authentication,
   * malformed): for all streams, since a bad packet names none. */
  hc_http_set_json(resp, 200,
                   json_pack("{s:s, s:o, s:I, s:o}", "stream", stream, "viewers", arr,
                             "dropped_datagrams", (json_int_t)hc_fanout_dropped(),
                             "send_latency_ms", latency));
}

guint
hc_whep_viewer_count(const char *stream)
{
  return hc_viewers_count(stream);
}
