/* Unit tests of the plugin loader: descriptor checks and the API version gate. */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/plugins.h"

static GstElement *
fake_create(const char *url, GError **error)
{
  return NULL;
}

static GstElement *
fake_open(HcSourceArgs *args, GError **error)
{
  return NULL;
}

static gpointer
fake_attach(const HcStreamPads *s, GError **error)
{
  return NULL;
}

static void
fake_detach(gpointer h, gboolean remove_files)
{
}

static void
test_check(void)
{
  HcPlugin ok = {.api_version = HC_PLUGIN_API_VERSION,
                 .name = "x",
                 .kind = HC_PLUGIN_SOURCE,
                 .scheme = "x",
                 .source_create = fake_create};
  HcPlugin p;
  GError *err = NULL;

  g_assert_true(hc_plugin_check(&ok, "x.so", &err));
  g_assert_no_error(err);

  p = ok;
  p.api_version = HC_PLUGIN_API_VERSION + 1;
  g_assert_false(hc_plugin_check(&p, "x.so", &err));
  g_assert_error(err, HC_ERROR, HC_EPLUGIN);
  g_assert_nonnull(strstr(err->message, "API version"));
  g_clear_error(&err);

  p = ok;
  p.api_version = 0;
  g_assert_false(hc_plugin_check(&p, "x.so", &err));
  g_clear_error(&err);

  p = ok;
  p.name = NULL;
  g_assert_false(hc_plugin_check(&p, "x.so", &err));
  g_clear_error(&err);

  p = ok;
  p.scheme = NULL;
  g_assert_false(hc_plugin_check(&p, "x.so", &err));
  g_clear_error(&err);

  /* A source needs a way to make the source: source_open, source_create or both. */
  p = ok;
  p.source_create = NULL;
  g_assert_false(hc_plugin_check(&p, "x.so", &err));
  g_assert_nonnull(strstr(err->message, "source_open or source_create"));
  g_clear_error(&err);
  p.source_open = fake_open;
  g_assert_true(hc_plugin_check(&p, "x.so", &err));

  p = (HcPlugin){.api_version = HC_PLUGIN_API_VERSION, .name = "o", .kind = HC_PLUGIN_OUTPUT};
  g_assert_false(hc_plugin_check(&p, "o.so", &err));
  g_clear_error(&err);
  p.output_attach = fake_attach;
  p.output_detach = fake_detach;
  g_assert_true(hc_plugin_check(&p, "o.so", &err));

  p.kind = 99;
  g_assert_false(hc_plugin_check(&p, "o.so", &err));
  g_clear_error(&err);
}

/* The loader opens the real modules of the build: it keeps the good ones and
 * refuses the one built for another API version. */
static void
test_load_dir(void)
{
  const char *dir = g_getenv("HC_TEST_BUILD_DIR");
  char *plugins = g_build_filename(dir, "..", "..", "plugins", NULL);
  char *tmp = g_dir_make_tmp("hc-plugins-XXXXXX", NULL);
  char *bad_src = g_build_filename(dir, "hc-bad-version.so", NULL);
  char *bad_dst = g_build_filename(tmp, "hc-bad-version.so", NULL);
  char *test_src = g_build_filename(plugins, "hc-src-test.so", NULL);
  char *test_dst = g_build_filename(tmp, "hc-src-test.so", NULL);
  GError *err = NULL;
  guint n;

  g_assert_true(g_file_test(bad_src, G_FILE_TEST_EXISTS));
  g_assert_cmpint(symlink(bad_src, bad_dst), ==, 0);
  g_assert_cmpint(symlink(test_src, test_dst), ==, 0);

  g_test_expect_message("hc-plugin", G_LOG_LEVEL_WARNING, "*API version*");
  g_assert_true(hc_plugins_load(tmp, &err));
  g_test_assert_expected_messages();
  g_assert_no_error(err);
  g_assert_nonnull(hc_plugins_source_for("test://"));
  g_assert_nonnull(hc_plugins_source_for("TEST://?pattern=snow"));
  g_assert_null(hc_plugins_source_for("bad://x"));
  g_assert_null(hc_plugins_source_for("no-scheme"));
  hc_plugins_of_kind(HC_PLUGIN_SOURCE, &n);
  g_assert_cmpuint(n, ==, 1);
  hc_plugins_unload();

  g_assert_false(hc_plugins_load("/nonexistent-plugin-dir", &err));
  g_assert_error(err, HC_ERROR, HC_EPLUGIN);
  g_clear_error(&err);

  unlink(bad_dst);
  unlink(test_dst);
  g_rmdir(tmp);
  g_free(bad_src);
  g_free(bad_dst);
  g_free(test_src);
  g_free(test_dst);
  g_free(tmp);
  g_free(plugins);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/plugins/check", test_check);
  g_test_add_func("/plugins/load-dir", test_load_dir);
  return g_test_run();
}
