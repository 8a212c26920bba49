/* The WebRTC playback subsystem as the rest of the daemon sees it: the
 * [webrtc] configuration keys and start/stop (DTLS certificate, libsrtp,
 * fan-out workers). Main thread only. */
#ifndef HC_WEBRTC_H
#define HC_WEBRTC_H

#include "core/config.h"

extern const HcConfigKey hc_webrtc_keys[];

/* Starts WebRTC from the validated [webrtc] group. HC_EINTERNAL/HC_ECONFIG. */
gboolean hc_webrtc_start(HcConfig *cfg, GError **error);
/* Stops the workers (every viewer is dropped) and frees the certificate. */
void hc_webrtc_stop(void);

/* [webrtc] values kept for http/whep.c; valid between start and stop. */
const char *hc_webrtc_public_ip(void);
const char *hc_webrtc_udp_address(void); /* as configured: "::" or "0.0.0.0" bind any */
guint hc_webrtc_max_viewers(void);
/* [stream NAME] view_key of a configured stream, or the "view_key" of one made
 * through the API: a secret never to log; "" when the stream has none. */
const char *hc_webrtc_view_key(const char *stream);
/* Sets (key non-empty) or forgets (NULL or "") a stream's viewing key. */
void hc_webrtc_set_view_key(const char *stream, const char *key);

#endif
