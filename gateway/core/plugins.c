/* Plugin loading (GModule) and the HcHost services plugins call back into.
 * main.c loads, declares config, inits and unloads; media/stream.c asks for
 * the source of a URL and the outputs to attach. */
#define G_LOG_DOMAIN "hc-plugin"

#include "plugins.h"

#include <gmodule.h>
#include <string.h>

#include "error.h"

typedef struct {
  GModule *module;
  const HcPlugin *desc;
  char *file;
} Loaded;

static GPtrArray *loaded; /* of Loaded* */
static gboolean initialised;
static HcConfig *host_cfg;
static HcHost host;

static void
loaded_free(gpointer p)
{
  Loaded *l = p;

  if (l->module)
    g_module_close(l->module);
  g_free(l->file);
  g_free(l);
}

gboolean
hc_plugin_check(const HcPlugin *p, const char *where, GError **error)
{
  if (p->api_version != HC_PLUGIN_API_VERSION) {
    g_set_error(error, HC_ERROR, HC_EPLUGIN,
                "%s: built for plugin API version %u, this hallcast has version %u", where,
                p->api_version, HC_PLUGIN_API_VERSION);
    return FALSE;
  }
  if (!p->name || !*p->name) {
    g_set_error(error, HC_ERROR, HC_EPLUGIN, "%s: descriptor has no name", where);
    return FALSE;
  }
  switch (p->kind) {
  case HC_PLUGIN_SOURCE:
    if (!p->scheme || !*p->scheme || (!p->source_create && !p->source_open)) {
      g_set_error(error, HC_ERROR, HC_EPLUGIN,
                  "%s: source plugin needs scheme and source_open or source_create", where);
      return FALSE;
    }
    break;
  case HC_PLUGIN_OUTPUT:
    if (!p->output_attach || !p->output_detach) {
      g_set_error(error, HC_ERROR, HC_EPLUGIN,
                  "%s: output plugin needs output_attach and output_detach", where);
      return FALSE;
    }
    break;
  default:
    g_set_error(error, HC_ERROR, HC_EPLUGIN, "%s: unknown plugin kind %d", where, p->kind);
    return FALSE;
  }
  if (p->config_keys && !p->config_group) {
    g_set_error(error, HC_ERROR, HC_EPLUGIN, "%s: config keys without a config group", where);
    return FALSE;
  }
  return TRUE;
}

/* Refuses a second plugin with the same name or scheme. */
static gboolean
check_unique(const HcPlugin *p, const char *where, GError **error)
{
  for (guint i = 0; i < loaded->len; i++) {
    const HcPlugin *o = ((Loaded *)loaded->pdata[i])->desc;
    if (strcmp(o->name, p->name) == 0 ||
        (p->scheme && o->scheme && g_ascii_strcasecmp(o->scheme, p->scheme) == 0)) {
      g_set_error(error, HC_ERROR, HC_EPLUGIN, "%s: plugin '%s' clashes with one loaded already",
                  where, p->name);
      return FALSE;
    }
  }
  return TRUE;
}

static void
load_one(const char *path)
{
  GModule *m = g_module_open(path, G_MODULE_BIND_LOCAL);
  gpointer sym = NULL;
  GError *err = NULL;
  Loaded *l;

  if (!m) {
    g_warning("refusing %s: %s", path, g_module_error());
    return;
  }
  if (!g_module_symbol(m, HC_PLUGIN_SYMBOL, &sym) || !sym) {
    g_warning("refusing %s: no '%s' descriptor, not a hallcast plugin", path, HC_PLUGIN_SYMBOL);
    g_module_close(m);
    return;
  }
  if (!hc_plugin_check(sym, path, &err) || !check_unique(sym, path, &err)) {
    g_warning("refusing plugin %s", err->message);
    g_error_free(err);
    g_module_close(m);
    return;
  }
  l = g_new0(Loaded, 1);
  l->module = m;
  l->desc = sym;
  l->file = g_strdup(path);
  g_ptr_array_add(loaded, l);
  g_info("loaded plugin %s (%s)", l->desc->name, l->desc->description ? l->desc->description : "");
}

static gint
by_name(gconstpointer a, gconstpointer b)
{
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

gboolean
hc_plugins_load(const char *dir, GError **error)
{
  GError *err = NULL;
  GDir *d = g_dir_open(dir, 0, &err);
  GPtrArray *names;
  const char *n;

  if (!d) {
    g_set_error(error, HC_ERROR, HC_EPLUGIN, "plugin folder %s: %s", dir, err->message);
    g_error_free(err);
    return FALSE;
  }
  if (!loaded)
    loaded = g_ptr_array_new_with_free_func(loaded_free);
  names = g_ptr_array_new_with_free_func(g_free);
  while ((n = g_dir_read_name(d)))
    if (g_str_has_suffix(n, ".so"))
      g_ptr_array_add(names, g_build_filename(dir, n, NULL));
  g_dir_close(d);
  /* Sorted, so the load order (and so any clash) does not depend on the folder. */
  g_ptr_array_sort(names, by_name);
  for (guint i = 0; i < names->len; i++)
    load_one(names->pdata[i]);
  g_ptr_array_unref(names);
  return TRUE;
}

gboolean
hc_plugins_add_builtin(const HcPlugin *p, GError **error)
{
  Loaded *l;

  if (!loaded)
    loaded = g_ptr_array_new_with_free_func(loaded_free);
  if (!hc_plugin_check(p, "(built in)", error) || !check_unique(p, "(built in)", error))
    return FALSE;
  l = g_new0(Loaded, 1);
  l->desc = p;
  l->file = g_strdup("(built in)");
  g_ptr_array_add(loaded, l);
  return TRUE;
}

void
hc_plugins_declare_config(HcConfig *cfg)
{
  for (guint i = 0; loaded && i < loaded->len; i++) {
    const HcPlugin *p = ((Loaded *)loaded->pdata[i])->desc;
    if (p->config_group)
      hc_config_declare(cfg, p->config_group, p->config_keys);
  }
}

static const char *
host_string(const char *group, const char *key)
{
  return hc_config_string(host_cfg, group, key);
}

static gint64
host_int(const char *group, const char *key)
{
  return hc_config_int(host_cfg, group, key);
}

static gboolean
host_bool(const char *group, const char *key)
{
  return hc_config_bool(host_cfg, group, key);
}

gboolean
hc_plugins_init(HcConfig *cfg, const char *data_dir, GError **error)
{
  host_cfg = cfg;
  host = (HcHost){
    .api_version = HC_PLUGIN_API_VERSION,
    .data_dir = data_dir,
    .config_string = host_string,
    .config_int = host_int,
    .config_bool = host_bool,
  };
  for (guint i = 0; loaded && i < loaded->len; i++) {
    const HcPlugin *p = ((Loaded *)loaded->pdata[i])->desc;
    if (p->init && !p->init(&host, error)) {
      g_prefix_error(error, "plugin %s: ", p->name);
      return FALSE;
    }
  }
  initialised = TRUE;
  return TRUE;
}

void
hc_plugins_unload(void)
{
  if (!loaded)
    return;
  for (guint i = 0; initialised && i < loaded->len; i++) {
    const HcPlugin *p = ((Loaded *)loaded->pdata[i])->desc;
    if (p->shutdown)
      p->shutdown();
  }
  initialised = FALSE;
  g_clear_pointer(&loaded, g_ptr_array_unref);
}

const HcPlugin *
hc_plugins_source_for(const char *url)
{
  const char *colon = url ? strstr(url, "://") : NULL;

  if (!colon)
    return NULL;
  for (guint i = 0; loaded && i < loaded->len; i++) {
    const HcPlugin *p = ((Loaded *)loaded->pdata[i])->desc;
    if (p->kind == HC_PLUGIN_SOURCE && strlen(p->scheme) == (size_t)(colon - url) &&
        g_ascii_strncasecmp(p->scheme, url, colon - url) == 0)
      return p;
  }
  return NULL;
}

const HcPlugin **
hc_plugins_of_kind(HcPluginKind kind, guint *n)
{
  static const HcPlugin *out[64];
  guint k = 0;

  for (guint i = 0; loaded && i < loaded->len && k < G_N_ELEMENTS(out); i++) {
    const HcPlugin *p = ((Loaded *)loaded->pdata[i])->desc;
    if (p->kind == kind)
      out[k++] = p;
  }
  *n = k;
  return out;
}
