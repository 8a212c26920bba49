/* Logging: GLib's structured log with one domain per module ("hc-http",
 * "hc-media", ...), written to stderr as "time level domain: message".
 * Any thread may log. Never log secrets or credentials. */
#ifndef HC_CORE_LOG_H
#define HC_CORE_LOG_H

#include <glib.h>

/* Installs the writer; level is "error", "warning", "info" or "debug". */
void hc_log_init(const char *level);
/* TRUE if messages of this level are written (check before costly formatting). */
gboolean hc_log_enabled(GLogLevelFlags level);

#endif
