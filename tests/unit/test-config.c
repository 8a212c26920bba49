/* Unit tests of the configuration: defaults, every error path, documentation. */
#include <string.h>

#include "core/config.h"
#include "core/error.h"

static const HcConfigKey plugin_keys[] = {
  {"enabled", HC_CFG_BOOL, "true", 0, 0, NULL, "On or off."},
  {"window", HC_CFG_INT, "6", 3, 100, NULL, "Segments."},
  {NULL},
};

static HcConfig *
load(const char *text, GError **error)
{
  HcConfig *cfg = hc_config_new();

  hc_config_declare(cfg, "hls", plugin_keys);
  if (!hc_config_load_data(cfg, "test.conf", text, error) || !hc_config_validate(cfg, error)) {
    hc_config_free(cfg);
    return NULL;
  }
  return cfg;
}

/* The config is refused and the one-line message contains every expected part. */
static void
refused(const char *text, const char *const *parts)
{
  GError *err = NULL;
  HcConfig *cfg = load(text, &err);

  g_assert_null(cfg);
  g_assert_error(err, HC_ERROR, HC_ECONFIG);
  g_assert_null(strchr(err->message, '\n'));
  for (int i = 0; parts[i]; i++)
    if (!strstr(err->message, parts[i]))
      g_error("message '%s' lacks '%s'", err->message, parts[i]);
  g_error_free(err);
}

static void
test_defaults(void)
{
  HcConfig *cfg = hc_config_new();
  char **streams;

  g_assert_true(hc_config_validate(cfg, NULL));
  g_assert_cmpint(hc_config_int(cfg, "gateway", "http_port"), ==, 8080);
  g_assert_cmpstr(hc_config_string(cfg, "gateway", "http_address"), ==, "0.0.0.0");
  g_assert_cmpstr(hc_config_string(cfg, "gateway", "data_dir"), ==, "./var");
  g_assert_cmpstr(hc_config_string(cfg, "gateway", "log_level"), ==, "info");
  streams = hc_config_instances(cfg, "stream");
  g_assert_cmpuint(g_strv_length(streams), ==, 1);
  g_assert_cmpstr(streams[0], ==, "demo");
  g_assert_cmpstr(hc_config_string(cfg, "stream demo", "url"), ==, "test://");
  g_strfreev(streams);
  hc_config_free(cfg);
}

static void
test_values(void)
{
  GError *err = NULL;
  HcConfig *cfg = load("[gateway]\nhttp_port = 9000\nlog_level=debug\n"
                       "[hls]\nenabled=false\nwindow=10\n"
                       "[stream a]\nurl=test://?pattern=snow\n[stream b]\nurl=test://\n",
                       &err);
  char **streams;

  g_assert_no_error(err);
  g_assert_cmpint(hc_config_int(cfg, "gateway", "http_port"), ==, 9000);
  g_assert_cmpint(hc_config_int(cfg, "gateway", "max_streams"), ==, 64); /* default */
  g_assert_cmpstr(hc_config_string(cfg, "gateway", "log_level"), ==, "debug");
  g_assert_false(hc_config_bool(cfg, "hls", "enabled"));
  g_assert_cmpint(hc_config_int(cfg, "hls", "window"), ==, 10);
  streams = hc_config_instances(cfg, "stream");
  g_assert_cmpuint(g_strv_length(streams), ==, 2); /* a file replaces the embedded demo */
  g_strfreev(streams);
  hc_config_free(cfg);
}

static void
test_unknown_key(void)
{
  refused("[gateway]\nhttp_port=80\nhttp_prot=81\n",
          (const char *const[]){"test.conf:3", "[gateway] http_prot", "unknown key", NULL});
}

static void
test_unknown_group(void)
{
  refused("[gateway]\n[gatway]\nx=1\n",
          (const char *const[]){"test.conf:2", "[gatway]", "unknown group", "[stream NAME]", NULL});
}

static void
test_wrong_type(void)
{
  refused("[gateway]\nhttp_port=eighty\n",
          (const char *const[]){"test.conf:2", "[gateway] http_port", "expected an integer",
                                "'eighty'", NULL});
  refused("[hls]\nenabled=yes\n",
          (const char *const[]){"[hls] enabled", "expected true or false", "'yes'", NULL});
  refused("[gateway]\nlog_level=loud\n",
          (const char *const[]){"[gateway] log_level", "error|warning|info|debug", "'loud'", NULL});
  refused("[gateway]\nhttp_port=80x\n", (const char *const[]){"'80x'", NULL});
}

static void
test_out_of_range(void)
{
  refused("[gateway]\nhttp_port=70000\n",
          (const char *const[]){"[gateway] http_port", "from 1 to 65535", "'70000'", NULL});
  refused("[gateway]\nhttp_port=0\n", (const char *const[]){"from 1 to 65535", NULL});
  refused("[hls]\nwindow=2\n", (const char *const[]){"[hls] window", "from 3 to 100", NULL});
  refused("[gateway]\ndata_dir=\n",
          (const char *const[]){"[gateway] data_dir", "1 to 4095 characters", NULL});
}

static void
test_missing_required(void)
{
  refused("[stream cam]\n",
          (const char *const[]){"[stream cam]", "missing required key 'url'", NULL});
}

static void
test_syntax(void)
{
  refused("[gateway\nhttp_port=1\n", (const char *const[]){"test.conf", NULL});
  refused("http_port=1\n", (const char *const[]){"test.conf", NULL});
}

static void
test_unreadable(void)
{
  HcConfig *cfg = hc_config_new();
  GError *err = NULL;

  g_assert_false(hc_config_load_file(cfg, "/nonexistent/hallcast.conf", &err));
  g_assert_error(err, HC_ERROR, HC_ECONFIG);
  g_assert_nonnull(strstr(err->message, "/nonexistent/hallcast.conf"));
  g_error_free(err);
  hc_config_free(cfg);
}

static void
test_document_roundtrip(void)
{
  HcConfig *cfg = hc_config_new();
  char *doc;
  GError *err = NULL;
  HcConfig *again;

  hc_config_declare(cfg, "hls", plugin_keys);
  doc = hc_config_document(cfg);
  for (const HcConfigKey *k = hc_gateway_keys; k->key; k++)
    g_assert_nonnull(strstr(doc, k->key));
  g_assert_nonnull(strstr(doc, "[hls]"));
  g_assert_nonnull(strstr(doc, "[stream demo]"));
  /* The documented file is itself a valid config with the same values. */
  again = load(doc, &err);
  g_assert_no_error(err);
  g_assert_cmpint(hc_config_int(again, "gateway", "http_port"), ==, 8080);
  g_assert_cmpstr(hc_config_string(again, "stream demo", "url"), ==, "test://");
  hc_config_free(again);
  g_free(doc);
  hc_config_free(cfg);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/config/defaults", test_defaults);
  g_test_add_func("/config/values", test_values);
  g_test_add_func("/config/unknown-key", test_unknown_key);
  g_test_add_func("/config/unknown-group", test_unknown_group);
  g_test_add_func("/config/wrong-type", test_wrong_type);
  g_test_add_func("/config/out-of-range", test_out_of_range);
  g_test_add_func("/config/missing-required", test_missing_required);
  g_test_add_func("/config/syntax", test_syntax);
  g_test_add_func("/config/unreadable", test_unreadable);
  g_test_add_func("/config/document-roundtrip", test_document_roundtrip);
  return g_test_run();
}
