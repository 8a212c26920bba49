/* Camera switching over REST: POST {"to":"cam2"} switches a switch:// stream
 * to another of its cameras at that camera's next keyframe (202, the switch
 * is pending until then); GET says which camera is shown and which is next.
 * Routed from api_streams.c; the switching is media/switch.c's. */
#define G_LOG_DOMAIN "hc-http"

#include "api_switch.h"

#include <string.h>

#include "core/error.h"
#include "media/switch.h"

static json_t *
state_json(const char *name)
{
  char *current = NULL, *pending = NULL;
  json_t *o;

  if (!hc_switch_state(name, &current, &pending))
    return NULL;
  o = json_pack("{s:s, s:s, s:o}", "stream", name, "current", current, "pending",
                pending ? json_string(pending) : json_null());
  g_free(current);
  g_free(pending);
  return o;
}

void
hc_api_switch_fields(const char *name, json_t *o)
{
  json_t *state = state_json(name);

  if (state) {
    json_object_del(state, "stream");
    json_object_set_new(o, "switch", state);
  }
}

void
hc_api_switch(const char *name, const HcHttpRequest *req, HcHttpResponse *resp)
{
  gsize len;
  const char *data = g_bytes_get_data(req->body, &len);
  json_error_t jerr;
  json_t *body = NULL, *state;
  const char *to = NULL;
  int rc;

  if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0) {
    hc_http_set_error(resp, HC_EMETHOD, NULL, "use GET or POST on a stream's switch");
    return;
  }
  if (strcmp(req->method, "POST") == 0) {
    body = data && len ? json_loadb(data, len, 0, &jerr) : NULL;
    if (!body || json_unpack(body, "{s:s}", "to", &to) != 0) {
      hc_http_set_error(resp, HC_EINVAL, "to", "the body must be {\"to\": \"CAMERA\"}");
      goto out;
    }
    rc = hc_switch_to(name, to);
    if (rc == HC_EINVAL) {
      hc_http_set_error(resp, rc, "to", "%s is not one of the cameras of %s", to, name);
      goto out;
    }
    if (rc != 0) {
      hc_http_set_error(resp, rc, "name", "%s is not a switch:// stream", name);
      goto out;
    }
  }
  state = state_json(name);
  if (!state)
    hc_http_set_error(resp, HC_ENOTFOUND, "name", "%s is not a switch:// stream", name);
  else
    hc_http_set_json(resp, body && !json_is_null(json_object_get(state, "pending")) ? 202 : 200,
                     state);
out:
  json_decref(body);
}
