/* WHIP (RFC 9725): a publisher (browser, OBS) POSTs its sendonly SDP offer
 * to /whip/NAME with Authorization: Bearer KEY (the stream's publish key)
 * and gets 201 with our recvonly, ICE-lite, setup:passive answer and a
 * Location to DELETE when it stops. A new publish takes over from a live
 * one. Media: media/publisher.c. Routed from server.c. */
#define G_LOG_DOMAIN "hc-http"

#include "whip.h"

#include <arpa/inet.h>
#include <libwebsockets.h>
#include <openssl/crypto.h>
#include <string.h>

#include "core/error.h"
#include "media/fanout.h"
#include "media/publisher.h"
#include "media/stream.h"
#include "webrtc/dtls.h"
#include "webrtc/sdp.h"
#include "webrtc/webrtc.h"
#include "whep.h"

static HcWhipInput *
find_input(HcHttpResponse *resp, const char *name)
{
  HcStream *s = hc_streams_lookup(name);
  HcWhipInput *in = s ? hc_whip_input_lookup(name) : NULL;
  HcStreamInfo info;
  gboolean whip = FALSE;

  if (in) {
    /* The input outlives a removed stream: the one of that name now must
     * be a whip:// stream too. */
    hc_stream_get_info(s, &info);
    whip = g_str_has_prefix(info.url, "whip:");
    hc_stream_info_clear(&info);
  }
  if (!s)
    hc_http_set_error(resp, HC_ENOTFOUND, NULL, "no stream named %s", name);
  else if (!whip)
    hc_http_set_error(resp, HC_ENOTFOUND, NULL,
                      "stream %s does not take WHIP publishers (its url is not whip://)", name);
  return whip ? in : NULL;
}

/* Authorization: Bearer must be the publish key. */
static gboolean
check_key(const HcHttpRequest *req, const HcWhipInput *in, HcHttpResponse *resp)
{
  char *bearer = hc_http_bearer(req);
  gboolean ok = hc_http_secret_equal(bearer, in->key);

  g_free(bearer);
  if (!ok) {
    hc_http_add_header(resp, "www-authenticate", "Bearer");
    hc_http_set_error(resp, HC_EUNAUTHORIZED, NULL,
                      "publishing to %s needs Authorization: Bearer with its publish key",
                      in->stream);
  }
  return ok;
}

static void
publish(const HcHttpRequest *req, HcHttpResponse *resp, const char *name)
{
  HcWhipInput *in = find_input(resp, name);
  char *answer, addrs[HC_CANDIDATES][INET6_ADDRSTRLEN];
  const char *reason, *list[HC_CANDIDATES + 1];
  gsize len;
  const char *text = g_bytes_get_data(req->body, &len);
  HcSdpOffer o;
  HcPublisher *p;
  HcViewer *v;
  int rc;

  if (!in || !check_key(req, in, resp))
    return;
  if (!hc_http_require_sdp(req, resp))
    return;
  rc = hc_sdp_parse_publish_offer(text ? text : "", text ? len : 0, &o, &reason);
  if (rc != 0) {
    hc_http_set_error(resp, rc, "sdp", "%s", reason);
    return;
  }
  p = hc_publisher_new(in, o.fingerprint, o.video >= 0 ? o.media[o.video].pt : -1,
                       o.audio >= 0 ? o.media[o.audio].pt : -1, &v);
  hc_fanout_assign(v);
  hc_publisher_set_worker(p, v->worker);
  hc_http_candidate_addresses(req, addrs, list);
  {
    HcSdpAnswerParams a = {
      v->ufrag, v->pwd, hc_dtls_fingerprint(), list, hc_fanout_port(v->worker), 0, 0, v->id, name};
    answer = hc_sdp_build_publish_answer(&o, &a);
  }
  hc_whip_input_start(in, p);
  hc_fanout_add(v);
  g_info("publisher %s (stream %s): offer accepted (%s%s), worker %u", v->id, name,
         o.video >= 0 ? "H.264" : "", o.audio >= 0 ? (o.video >= 0 ? " + Opus" : "Opus") : "",
         v->worker);
  hc_http_sdp_created(resp, "/whip", name, v->id, answer);
  hc_publisher_unref(p);
}

static void
resource(const HcHttpRequest *req, HcHttpResponse *resp, const char *name, const char *id)
{
  HcWhipInput *in = find_input(resp, name);
  HcPublisher *p;

  /* The session id (128 random bits) is the capability, as for WHEP. */
  if (!in)
    return;
  p = in->owner;
  if (!p || strcmp(hc_publisher_id(p), id) != 0) {
    hc_http_set_error(resp, HC_ENOTFOUND, NULL, "no publisher %s of stream %s", id, name);
    return;
  }
  if (strcmp(req->method, "PATCH") == 0) {
    /* ICE-lite: the publisher's address comes from its checks; trickled
     * candidates are not needed, ICE restarts not supported. */
    hc_http_set_body(resp, 204, "text/plain", "", 0);
    return;
  }
  if (strcmp(req->method, "DELETE") != 0) {
    hc_http_set_error(resp, HC_EMETHOD, NULL, "use DELETE or PATCH on a WHIP session resource");
    return;
  }
  g_info("publisher %s (stream %s): deleted", id, name);
  hc_whip_input_stop(in, p, TRUE);
  hc_http_set_body(resp, 204, "text/plain", "", 0);
}

void
hc_whip_fields(const char *name, const char *url, json_t *o)
{
  HcWhipInput *in = g_str_has_prefix(url, "whip:") ? hc_whip_input_lookup(name) : NULL;

  if (g_str_has_prefix(url, "whip:"))
    json_object_set_new(o, "publisher",
                        in && in->owner ? json_string(hc_publisher_id(in->owner)) : json_null());
}

void
hc_whip(const HcHttpRequest *req, HcHttpResponse *resp)
{
  hc_http_session_route(req, resp, "/whip", publish, resource);
}
