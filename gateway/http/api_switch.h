/* POST/GET /api/v1/streams/NAME/switch: which camera a switch:// stream
 * shows. Main thread; routed from api_streams.c. */
#ifndef HC_HTTP_API_SWITCH_H
#define HC_HTTP_API_SWITCH_H

#include "http.h"

/* For the stream list: adds "switch": {"current", "pending"} to o when
 * stream name is a switch:// stream. */
void hc_api_switch_fields(const char *name, json_t *o);
/* Handles /api/v1/streams/NAME/switch for stream name (any method). */
void hc_api_switch(const char *name, const HcHttpRequest *req, HcHttpResponse *resp);

#endif
