/* WHIP ingest signalling (RFC 9725): POST an SDP offer to /whip/NAME with
 * the stream's publish key as Bearer token, DELETE the session resource to
 * stop. Main thread only; routed from server.c. */
#ifndef HC_HTTP_WHIP_H
#define HC_HTTP_WHIP_H

#include "http.h"

/* For the stream list: adds "publisher": SESSION or null to o when stream
 * name (with url) is a whip:// stream. */
void hc_whip_fields(const char *name, const char *url, json_t *o);
/* Route /whip/: POST /whip/NAME, DELETE and PATCH /whip/NAME/SESSION. */
void hc_whip(const HcHttpRequest *req, HcHttpResponse *resp);

#endif
