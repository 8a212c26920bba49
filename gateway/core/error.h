/* One error convention for the gateway: negative HC_E* codes, carried in a
 * GError of domain HC_ERROR where an API is GLib-style. One table maps each
 * code to its stable client-facing name and HTTP status (docs/PROTOCOL.md). */
#ifndef HC_CORE_ERROR_H
#define HC_CORE_ERROR_H

#include <glib.h>

typedef enum {
  HC_OK = 0,
  HC_EINVAL = -1,       /* a field is missing or has a wrong value */
  HC_ENOTFOUND = -2,    /* no such stream, file or resource */
  HC_EEXISTS = -3,      /* the name is taken */
  HC_EUNSUPPORTED = -4, /* understood but not supported (scheme, codec) */
  HC_EFULL = -5,        /* a configured limit is reached */
  HC_ETOOLARGE = -6,    /* request body or message too large */
  HC_EMETHOD = -7,      /* method not allowed on this resource */
  HC_EINTERNAL = -8,    /* a bug or a failure of a library */
  HC_EPLUGIN = -9,      /* a plugin could not be loaded */
  HC_ECONFIG = -10,     /* the configuration is wrong */
  HC_EUNAUTHORIZED = -11,
  HC_EFORBIDDEN = -12,
} HcError;

#define HC_ERROR (hc_error_quark())
GQuark hc_error_quark(void);

/* Stable snake_case name of a code ("invalid_argument"); never NULL. */
const char *hc_error_name(int code);
/* HTTP status that answers a code (400, 404, ...). */
int hc_error_http_status(int code);

#endif
