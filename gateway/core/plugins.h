/* The plugin loader: opens every module of the plugin folder with GModule,
 * checks its descriptor (API version first) and keeps the accepted ones.
 * Main thread only. */
#ifndef HC_CORE_PLUGINS_H
#define HC_CORE_PLUGINS_H

#include <hallcast/plugin.h>

#include "config.h"

/* Checks a descriptor; where names it in the message (a file name). */
gboolean hc_plugin_check(const HcPlugin *p, const char *where, GError **error);

/* Loads every "*.so" of dir. A module that is not a hallcast plugin or was
 * built for another API version is refused with a warning and skipped; an
 * unreadable folder is an error (HC_EPLUGIN). */
gboolean hc_plugins_load(const char *dir, GError **error);
/* Adds a descriptor compiled into the gateway (the whip:// source), after
 * the same checks as a module's. HC_EPLUGIN on a clash. */
gboolean hc_plugins_add_builtin(const HcPlugin *p, GError **error);
/* Declares the configuration groups of the loaded plugins. */
void hc_plugins_declare_config(HcConfig *cfg);
/* Calls every plugin's init with a host bound to cfg; cfg must outlive the plugins. */
gboolean hc_plugins_init(HcConfig *cfg, const char *data_dir, GError **error);
/* Calls shutdown of every initialised plugin, then unloads all modules. */
void hc_plugins_unload(void);

/* The source plugin for a URL's scheme, or NULL. */
const HcPlugin *hc_plugins_source_for(const char *url);
/* Loaded plugins of a kind, in load order; n gets the count. Borrowed. */
const HcPlugin **hc_plugins_of_kind(HcPluginKind kind, guint *n);

#endif
