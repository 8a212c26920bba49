/* Configuration: a GKeyFile checked against declared key tables (the gateway's
 * own and each plugin's). The same tables fill defaults and print the documented
 * config file. Main thread only; values are valid while the HcConfig lives. */
#ifndef HC_CORE_CONFIG_H
#define HC_CORE_CONFIG_H

#include <hallcast/plugin.h>

typedef struct HcConfig HcConfig;

/* A config with the embedded defaults: no file, one test stream "demo". */
HcConfig *hc_config_new(void);
void hc_config_free(HcConfig *cfg);

/* Reads FILE (syntax only). Error: HC_ECONFIG, message "FILE: what is wrong". */
gboolean hc_config_load_file(HcConfig *cfg, const char *path, GError **error);
/* Reads configuration text (tests, embedded defaults); name is used in errors. */
gboolean hc_config_load_data(HcConfig *cfg, const char *name, const char *text, GError **error);

/* Declares a group and its keys (the table must outlive cfg). A group name
 * ending in " *" is a template: "stream *" declares every "[stream NAME]". */
void hc_config_declare(HcConfig *cfg, const char *group, const HcConfigKey *keys);

/* Checks every group and key of the loaded text against the declarations.
 * The error message is one line: "FILE:LINE: [group] key: expected ..., got '...'". */
gboolean hc_config_validate(HcConfig *cfg, GError **error);

/* Values after validation (defaults filled in). Unknown keys are a bug: they
 * log a critical and return "" / 0 / FALSE. */
const char *hc_config_string(HcConfig *cfg, const char *group, const char *key);
gint64 hc_config_int(HcConfig *cfg, const char *group, const char *key);
gboolean hc_config_bool(HcConfig *cfg, const char *group, const char *key);

/* Names NAME of the "[PREFIX NAME]" groups present, e.g. prefix "stream";
 * a NULL-terminated array to free with g_strfreev. */
char **hc_config_instances(HcConfig *cfg, const char *prefix);

/* The documented configuration with every declared key at its default. */
char *hc_config_document(HcConfig *cfg);

/* The gateway's own keys ([gateway] and [stream NAME]). */
extern const HcConfigKey hc_gateway_keys[];
extern const HcConfigKey hc_stream_keys[];

#endif
