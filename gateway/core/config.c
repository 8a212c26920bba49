/* Configuration loading and validation against key tables (nginx-style
 * directive tables). main.c loads and validates once at start; every module
 * reads typed values through hc_config_*(). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "error.h"
#include "webrtc/webrtc.h"
#include "interact/interact.h"

const HcConfigKey hc_gateway_keys[] = {
  {"http_address", HC_CFG_STRING, "0.0.0.0", 1, 255, NULL,
   "Address the HTTP server (web client, REST API, HLS, WebSocket) listens on."},
  {"http_port", HC_CFG_INT, "8080", 1, 65535, NULL, "TCP port of the HTTP server."},
  {"http_idle_timeout", HC_CFG_INT, "30", 1, 3600, NULL,
   "Seconds an HTTP connection may take to send a request, or stay idle between requests, "
   "before it is closed."},
  {"data_dir", HC_CFG_STRING, "./var", 1, 4095, NULL,
   "Folder for state that hallcast writes: HLS segments, database, recordings."},
  {"web_root", HC_CFG_STRING, "", 0, 4095, NULL,
   "Folder served at /; empty: the web-client folder next to the build or install."},
  {"plugin_dir", HC_CFG_STRING, "", 0, 4095, NULL,
   "Folder the plugins are loaded from; empty: the build's or the installed folder."},
  {"log_level", HC_CFG_ENUM, "info", 0, 0, "error|warning|info|debug",
   "Least important messages logged."},
  {"max_streams", HC_CFG_INT, "64", 1, 4096, NULL, "Most streams at once (config and API)."},
  {"max_body", HC_CFG_INT, "65536", 1024, 16777216, NULL,
   "Largest HTTP request body accepted, in bytes."},
  {NULL},
};

const HcConfigKey hc_stream_keys[] = {
  {"url", HC_CFG_STRING, NULL, 1, 4095, NULL,
   "Where the stream comes from: test://[?pattern=ball&width=1280&height=720&fps=30]; "
   "whip:// waits for a WHIP publisher (POST /whip/NAME); switch://cam1,cam2 shows one of "
   "other streams."},
  {"key", HC_CFG_STRING, "", 0, 255, NULL,
   "Publish key, a secret: the RTMP stream key (rtmp://host/live/KEY), the SRT passphrase, "
   "the WHIP Bearer token."},
  {"view_key", HC_CFG_STRING, "", 0, 255, NULL,
   "Viewing key, a secret: when set, WHEP viewers must send Authorization: Bearer with it; "
   "empty: anyone may watch."},
  {NULL},
};

typedef struct {
  char *group; /* "gateway", or "stream *" for a template */
  const HcConfigKey *keys;
} Decl;

struct HcConfig {
  GKeyFile *kf;
  char *name;    /* file name used in messages */
  char *text;    /* the loaded text, to find line numbers */
  GArray *decls; /* of Decl, in declaration order */
};

static const char embedded_defaults[] = "[stream demo]\nurl=test://\n";

static void
decl_clear(gpointer p)
{
  g_free(((Decl *)p)->group);
}

HcConfig *
hc_config_new(void)
{
  HcConfig *cfg = g_new0(HcConfig, 1);

  cfg->decls = g_array_new(FALSE, TRUE, sizeof(Decl));
  g_array_set_clear_func(cfg->decls, decl_clear);
  hc_config_declare(cfg, "gateway", hc_gateway_keys);
  hc_config_declare(cfg, "stream *", hc_stream_keys);
  hc_config_declare(cfg, "webrtc", hc_webrtc_keys);
  hc_config_declare(cfg, "interact", hc_interact_keys);
  if (!hc_config_load_data(cfg, "(embedded defaults)", embedded_defaults, NULL))
    g_assert_not_reached();
  return cfg;
}

void
hc_config_free(HcConfig *cfg)
{
  if (!cfg)
    return;
  g_key_file_unref(cfg->kf);
  g_free(cfg->name);
  g_free(cfg->text);
  g_array_unref(cfg->decls);
  g_free(cfg);
}

gboolean
hc_config_load_data(HcConfig *cfg, const char *name, const char *text, GError **error)
{
  GKeyFile *kf = g_key_file_new();
  GError *err = NULL;

  if (!g_key_file_load_from_data(kf, text, -1, G_KEY_FILE_NONE, &err)) {
    g_set_error(error, HC_ERROR, HC_ECONFIG, "%s: %s", name, err->message);
    g_error_free(err);
    g_key_file_unref(kf);
    return FALSE;
  }
  if (cfg->kf)
    g_key_file_unref(cfg->kf);
  g_free(cfg->name);
  g_free(cfg->text);
  cfg->kf = kf;
  cfg->name = g_strdup(name);
  cfg->text = g_strdup(text);
  return TRUE;
}

gboolean
hc_config_load_file(HcConfig *cfg, const char *path, GError **error)
{
  char *text = NULL;
  GError *err = NULL;
  gboolean ok;

  if (!g_file_get_contents(path, &text, NULL, &err)) {
    g_set_error(error, HC_ERROR, HC_ECONFIG, "%s: cannot read: %s", path, err->message);
    g_error_free(err);
    return FALSE;
  }
  ok = hc_config_load_data(cfg, path, text, error);
  g_free(text);
  return ok;
}

void
hc_config_declare(HcConfig *cfg, const char *group, const HcConfigKey *keys)
{
  Decl d = {g_strdup(group), keys};

  g_array_append_val(cfg->decls, d);
}

/* The declaration a group of the file falls under, or NULL. */
static const Decl *
find_decl(HcConfig *cfg, const char *group)
{
  for (guint i = 0; i < cfg->decls->len; i++) {
    const Decl *d = &g_array_index(cfg->decls, Decl, i);
    size_t n = strlen(d->group);

    if (n > 2 && g_str_has_suffix(d->group, " *")) {
      if (strncmp(group, d->group, n - 1) == 0 && group[n - 1] != '\0')
        return d;
    } else if (strcmp(group, d->group) == 0) {
      return d;
    }
  }
  return NULL;
}

static const HcConfigKey *
find_key(const Decl *d, const char *key)
{
  for (const HcConfigKey *k = d->keys; k && k->key; k++)
    if (strcmp(k->key, key) == 0)
      return k;
  return NULL;
}

/* Line number of "[group]" (key == NULL) or of "key =" inside it; 0 if not found. */
static int
find_line(HcConfig *cfg, const char *group, const char *key)
{
  char **lines = g_strsplit(cfg->text ? cfg->text : "", "\n", -1);
  gboolean in_group = FALSE;
  int found = 0;

  for (int i = 0; lines[i] && !found; i++) {
    char *l = g_strstrip(lines[i]);

    if (l[0] == '[') {
      char *end = strrchr(l, ']');
      if (end) {
        *end = '\0';
        in_group = strcmp(l + 1, group) == 0;
        if (in_group && !key)
          found = i + 1;
      }
    } else if (in_group && key && g_str_has_prefix(l, key)) {
      const char *rest = l + strlen(key);
      while (*rest == ' ' || *rest == '\t')
        rest++;
      if (*rest == '=')
        found = i + 1;
    }
  }
  g_strfreev(lines);
  return found;
}

static void set_error(HcConfig *cfg, GError **error, const char *group, const char *key,
                      const char *fmt, ...) G_GNUC_PRINTF(5, 6);

static void
set_error(HcConfig *cfg, GError **error, const char *group, const char *key, const char *fmt, ...)
{
  va_list ap;
  char *what;
  int line = find_line(cfg, group, key);
  char *where = line ? g_strdup_printf("%s:%d", cfg->name, line) : g_strdup(cfg->name);

  va_start(ap, fmt);
  what = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  if (key)
    g_set_error(error, HC_ERROR, HC_ECONFIG, "%s: [%s] %s: %s", where, group, key, what);
  else
    g_set_error(error, HC_ERROR, HC_ECONFIG, "%s: [%s]: %s", where, group, what);
  g_free(what);
  g_free(where);
}

/* Checks one value against its key; on error fills *expected with what was expected. */
static gboolean
value_ok(const HcConfigKey *k, const char *v, char **expected)
{
  switch (k->type) {
  case HC_CFG_STRING: {
    glong len = g_utf8_validate(v, -1, NULL) ? g_utf8_strlen(v, -1) : -1;
    if (len < k->min || len > k->max) {
      *expected = g_strdup_printf("expected a UTF-8 text of %" G_GINT64_FORMAT
                                  " to %" G_GINT64_FORMAT " characters",
                                  k->min, k->max);
      return FALSE;
    }
    return TRUE;
  }
  case HC_CFG_INT: {
    gint64 n;
    if (!g_ascii_string_to_signed(v, 10, k->min, k->max, &n, NULL)) {
      *expected = g_strdup_printf(
        "expected an integer from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT, k->min, k->max);
      return FALSE;
    }
    return TRUE;
  }
  case HC_CFG_BOOL:
    if (strcmp(v, "true") && strcmp(v, "false")) {
      *expected = g_strdup("expected true or false");
      return FALSE;
    }
    return TRUE;
  case HC_CFG_ENUM: {
    char **words = g_strsplit(k->choices, "|", -1);
    gboolean ok = g_strv_contains((const char *const *)words, v);
    g_strfreev(words);
    if (!ok)
      *expected = g_strdup_printf("expected one of %s", k->choices);
    return ok;
  }
  }
  *expected = g_strdup("unknown key type");
  return FALSE;
}

static char *
declared_groups(HcConfig *cfg)
{
  GString *s = g_string_new(NULL);

  for (guint i = 0; i < cfg->decls->len; i++) {
    const char *g = g_array_index(cfg->decls, Decl, i).group;
    g_string_append_printf(s, "%s[%s]", i ? ", " : "", g);
  }
  g_string_replace(s, " *]", " NAME]", 0);
  return g_string_free(s, FALSE);
}

gboolean
hc_config_validate(HcConfig *cfg, GError **error)
{
  gsize ngroups = 0;
  char **groups = g_key_file_get_groups(cfg->kf, &ngroups);
  gboolean ok = FALSE;

  for (gsize g = 0; g < ngroups; g++) {
    const Decl *d = find_decl(cfg, groups[g]);
    char **keys;

    if (!d) {
      char *known = declared_groups(cfg);
      set_error(cfg, error, groups[g], NULL, "unknown group (expected one of %s)", known);
      g_free(known);
      goto out;
    }
    keys = g_key_file_get_keys(cfg->kf, groups[g], NULL, NULL);
    for (int i = 0; keys[i]; i++) {
      const HcConfigKey *k = find_key(d, keys[i]);
      char *v, *expected = NULL;

      if (!k) {
        set_error(cfg, error, groups[g], keys[i], "unknown key");
        g_strfreev(keys);
        goto out;
      }
      v = g_key_file_get_string(cfg->kf, groups[g], keys[i], NULL);
      if (!v || !value_ok(k, v, &expected)) {
        set_error(cfg, error, groups[g], keys[i], "%s, got '%s'",
                  expected ? expected : "expected a value", v ? v : "");
        g_free(expected);
        g_free(v);
        g_strfreev(keys);
        goto out;
      }
      g_free(v);
    }
    g_strfreev(keys);
    for (const HcConfigKey *k = d->keys; k && k->key; k++) {
      if (!k->def && !g_key_file_has_key(cfg->kf, groups[g], k->key, NULL)) {
        set_error(cfg, error, groups[g], NULL, "missing required key '%s'", k->key);
        goto out;
      }
    }
  }
  ok = TRUE;
out:
  g_strfreev(groups);
  return ok;
}

static const HcConfigKey *
lookup(HcConfig *cfg, const char *group, const char *key, HcConfigType type)
{
  const Decl *d = find_decl(cfg, group);
  const HcConfigKey *k = d ? find_key(d, key) : NULL;

  if (!k || (k->type != type && !(type == HC_CFG_STRING && k->type == HC_CFG_ENUM))) {
    g_critical("config: [%s] %s is not declared with this type", group, key);
    return NULL;
  }
  return k;
}

/* The value as text: the file's if present (validated), else the default. */
static const char *
raw_value(HcConfig *cfg, const HcConfigKey *k, const char *group)
{
  char *v = g_key_file_get_string(cfg->kf, group, k->key, NULL);
  const char *r;

  if (!v)
    return k->def ? k->def : "";
  /* Interned: config values are few and must outlive the call. */
  r = g_intern_string(v);
  g_free(v);
  return r;
}

const char *
hc_config_string(HcConfig *cfg, const char *group, const char *key)
{
  const HcConfigKey *k = lookup(cfg, group, key, HC_CFG_STRING);
  return k ? raw_value(cfg, k, group) : "";
}

gint64
hc_config_int(HcConfig *cfg, const char *group, const char *key)
{
  const HcConfigKey *k = lookup(cfg, group, key, HC_CFG_INT);
  gint64 n = 0;

  if (k)
    g_ascii_string_to_signed(raw_value(cfg, k, group), 10, k->min, k->max, &n, NULL);
  return n;
}

gboolean
hc_config_bool(HcConfig *cfg, const char *group, const char *key)
{
  const HcConfigKey *k = lookup(cfg, group, key, HC_CFG_BOOL);
  return k && strcmp(raw_value(cfg, k, group), "true") == 0;
}

char **
hc_config_instances(HcConfig *cfg, const char *prefix)
{
  char **groups = g_key_file_get_groups(cfg->kf, NULL);
  GPtrArray *out = g_ptr_array_new();
  size_t n = strlen(prefix);

  for (int i = 0; groups[i]; i++)
    if (strncmp(groups[i], prefix, n) == 0 && groups[i][n] == ' ' && groups[i][n + 1])
      g_ptr_array_add(out, g_strdup(groups[i] + n + 1));
  g_ptr_array_add(out, NULL);
  g_strfreev(groups);
  return (char **)g_ptr_array_free(out, FALSE);
}

static void
document_key(GString *s, const HcConfigKey *k)
{
  g_string_append_printf(s, "\n# %s\n", k->help);
  switch (k->type) {
  case HC_CFG_INT:
    g_string_append_printf(s, "# integer, %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT "\n", k->min,
                           k->max);
    break;
  case HC_CFG_BOOL:
    g_string_append(s, "# true or false\n");
    break;
  case HC_CFG_ENUM:
    g_string_append_printf(s, "# one of %s\n", k->choices);
    break;
  case HC_CFG_STRING:
    break;
  }
  g_string_append_printf(s, "%s=%s\n", k->key, k->def ? k->def : "");
}

char *
hc_config_document(HcConfig *cfg)
{
  GString *s = g_string_new("# hallcast configuration. Every key is shown with its default value;\n"
                            "# hallcast runs with this file unchanged, or with no file at all.\n"
                            "# Check a file with: hallcast --check-config --config FILE\n");

  for (guint i = 0; i < cfg->decls->len; i++) {
    const Decl *d = &g_array_index(cfg->decls, Decl, i);
    gboolean tmpl = g_str_has_suffix(d->group, " *");
    char *name = tmpl ? g_strndup(d->group, strlen(d->group) - 2) : g_strdup(d->group);

    if (tmpl)
      g_string_append_printf(s,
                             "\n# One [%s NAME] group per %s; NAME is [A-Za-z0-9_-]{1,64}.\n"
                             "[%s demo]\n",
                             name, name, name);
    else
      g_string_append_printf(s, "\n[%s]\n", name);
    for (const HcConfigKey *k = d->keys; k && k->key; k++) {
      if (tmpl && !k->def) {
        g_string_append_printf(s, "\n# %s\n%s=%s\n", k->help, k->key,
                               strcmp(k->key, "url") == 0 ? "test://" : "");
        continue;
      }
      document_key(s, k);
    }
    g_free(name);
  }
  return g_string_free(s, FALSE);
}
