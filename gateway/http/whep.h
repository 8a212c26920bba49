/* WHEP playback signalling (POST an SDP offer to /whep/NAME, DELETE the
 * viewer resource to leave) and the viewers API. Main thread only; routed
 * from server.c and api_streams.c. */
#ifndef HC_HTTP_WHEP_H
#define HC_HTTP_WHEP_H

#include <arpa/inet.h>
#include <jansson.h>

#include "http.h"

/* Route /whep/: POST /whep/NAME, DELETE and PATCH /whep/NAME/VIEWER. */
void hc_whep(const HcHttpRequest *req, HcHttpResponse *resp);
/* GET /api/v1/streams/NAME/viewers for stream name (known to exist). */
void hc_whep_viewers(const char *stream, HcHttpResponse *resp);
/* WebRTC viewers of a stream, for the stream list. */
guint hc_whep_viewer_count(const char *stream);

/* Host candidates for an SDP answer (WHEP and WHIP), of either family:
 * [webrtc] public_ip if set, then where the fan-out sockets listen:
 * [webrtc] udp_address when it is a specific address; for a wildcard bind,
 * the address this HTTP request came in on unless it is loopback or
 * link-local (what a client on the LAN reaches), 127.0.0.1, and ::1 when
 * the sockets are dual-stack (::). Fills addrs and a NULL-terminated list
 * pointing into it. Main thread. */
#define HC_CANDIDATES 4
void hc_http_candidate_addresses(const HcHttpRequest *req,
                                 char addrs[HC_CANDIDATES][INET6_ADDRSTRLEN],
                                 const char *list[HC_CANDIDATES + 1]);

/* The token of Authorization: Bearer TOKEN (to g_free), or NULL. */
char *hc_http_bearer(const HcHttpRequest *req);
/* Constant-time: given (may be NULL) is secret, and secret is not empty. */
gboolean hc_http_secret_equal(const char *given, const char *secret);

/* TRUE if the request says Content-Type: application/sdp; else fills resp
 * with 400 unsupported (field content-type) and returns FALSE. */
gboolean hc_http_require_sdp(const HcHttpRequest *req, HcHttpResponse *resp);

/* 201 Created with the SDP answer (taken, freed), Location
 * COLLECTION/NAME/ID, Accept-Patch for trickle ICE and no caching. */
void hc_http_sdp_created(HcHttpResponse *resp, const char *collection, const char *name,
                         const char *id, char *answer);

/* Routes COLLECTION/NAME (POST: post) and COLLECTION/NAME/ID (32 hex
 * characters: resource) for WHEP and WHIP; anything else is 404, another
 * method on NAME 405. req->tail is what follows "COLLECTION/". Main thread. */
typedef void (*HcSessionPost)(const HcHttpRequest *req, HcHttpResponse *resp, const char *name);
typedef void (*HcSessionResource)(const HcHttpRequest *req, HcHttpResponse *resp, const char *name,
                                  const char *id);
void hc_http_session_route(const HcHttpRequest *req, HcHttpResponse *resp, const char *collection,
                           HcSessionPost post, HcSessionResource resource);

/* Token check hook (set by the tokens module): 0 to allow, or a negative
 * HC_E* code (HC_EUNAUTHORIZED, HC_EFORBIDDEN). bearer may be NULL when the
 * request has no Authorization: Bearer header. NULL hook: only streams with
 * a view_key need a Bearer (the key; the hook may admit other tokens). */
typedef int (*HcWhepAuthorize)(const char *stream, const char *bearer);
void hc_whep_set_authorize(HcWhepAuthorize fn);

#endif
