/* hallcast: arguments, configuration, start, signals and a clean shutdown.
 * Start order: config file -> plugins -> validation -> data folder -> plugin
 * init -> streams -> HTTP; shutdown runs it backwards. */
#define G_LOG_DOMAIN "hallcast"

#include <glib-unix.h>
#include <gst/gst.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "core/config.h"
#include "core/error.h"
#include "core/log.h"
#include "core/plugins.h"
#include "hc-build-config.h"
#include "http/http.h"
#include "interact/interact.h"
#include "media/stream.h"
#include "media/switch.h"
#include "media/whip-source.h"
#include "webrtc/webrtc.h"

enum { EXIT_CONFIG = 2 };

static char *opt_config;
static gboolean opt_check, opt_version, opt_print;

static const GOptionEntry options[] = {
  {"config", 'c', 0, G_OPTION_ARG_FILENAME, &opt_config,
   "Configuration file (default: none, embedded defaults)", "FILE"},
  {"check-config", 0, 0, G_OPTION_ARG_NONE, &opt_check,
   "Check the configuration and exit: 0 if good, 2 if not", NULL},
  {"print-config", 0, 0, G_OPTION_ARG_NONE, &opt_print,
   "Print the documented configuration with every default and exit", NULL},
  {"version", 'V', 0, G_OPTION_ARG_NONE, &opt_version, "Print the version and exit", NULL},
  {NULL},
};

/* Folder of the running executable. */
static char *
exe_dir(void)
{
  char *exe = g_file_read_link("/proc/self/exe", NULL);
  char *dir = exe ? g_path_get_dirname(exe) : g_strdup(".");

  g_free(exe);
  return dir;
}

/* An empty plugin_dir/web_root means: the build tree's when running from it,
 * else the installed one. A build tree has plugins/ beside gateway/. */
static char *
auto_path(const char *configured, const char *in_build, const char *installed)
{
  char *dir, *build_plugins;
  gboolean uninstalled;

  if (configured && *configured)
    return g_strdup(configured);
  dir = exe_dir();
  build_plugins = g_build_filename(dir, "..", "plugins", NULL);
  uninstalled = g_file_test(build_plugins, G_FILE_TEST_IS_DIR) &&
                g_file_test(HC_BUILD_ROOT, G_FILE_TEST_IS_DIR) &&
                g_str_has_prefix(dir, HC_BUILD_ROOT);
  g_free(build_plugins);
  g_free(dir);
  return g_strdup(uninstalled ? in_build : installed);
}

/* Every [stream NAME] must have a valid name and a URL a plugin accepts. */
static gboolean
check_streams(HcConfig *cfg, const char *file, GError **error)
{
  char **names = hc_config_instances(cfg, "stream");
  gboolean ok = TRUE;

  for (int i = 0; ok && names[i]; i++) {
    char *group = g_strdup_printf("stream %s", names[i]);
    const char *url = hc_config_string(cfg, group, "url");
    const HcPlugin *src = hc_plugins_source_for(url);
    GError *err = NULL;

    if (!hc_stream_name_valid(names[i])) {
      g_set_error(error, HC_ERROR, HC_ECONFIG, "%s: [%s]: the name must be 1 to 64 of A-Za-z0-9_-",
                  file, group);
      ok = FALSE;
    } else if (!src) {
      g_set_error(error, HC_ERROR, HC_ECONFIG,
                  "%s: [%s] url: expected a URL with a scheme a plugin handles, got '%s'", file,
                  group, url);
      ok = FALSE;
    } else if (src->source_check && !src->source_check(url, &err)) {
      g_set_error(error, HC_ERROR, HC_ECONFIG, "%s: [%s] url: %s", file, group, err->message);
      g_error_free(err);
      ok = FALSE;
    }
    g_free(group);
  }
  g_strfreev(names);
  return ok;
}

/* Thousands of WebSocket clients need file descriptors: take the hard limit. */
static void
raise_nofile(void)
{
  struct rlimit rl;

  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
      g_warning("cannot raise the open files limit: %s", g_strerror(errno));
  }
}

static gboolean
on_signal(gpointer loop)
{
  g_info("signal received, shutting down");
  g_main_loop_quit(loop);
  return G_SOURCE_CONTINUE;
}

static void
start_streams(HcConfig *cfg)
{
  char **names = hc_config_instances(cfg, "stream");

  for (int i = 0; names[i]; i++) {
    char *group = g_strdup_printf("stream %s", names[i]);
    GError *err = NULL;

    if (!hc_streams_create_with_key(names[i], hc_config_string(cfg, group, "url"),
                                    hc_config_string(cfg, group, "key"), TRUE, &err)) {
      g_warning("stream %s: %s", names[i], err->message);
      g_error_free(err);
    }
    g_free(group);
  }
  g_strfreev(names);
}

int
main(int argc, char **argv)
{
  GOptionContext *octx = g_option_context_new("- live lectures and museum halls to classrooms");
  GError *err = NULL;
  HcConfig *cfg = hc_config_new();
  GMainLoop *loop = NULL;
  char *plugin_dir = NULL, *web_root = NULL, *data_dir = NULL, *hls_dir = NULL;
  const char *file = opt_config;
  int status = 1;

  g_option_context_add_main_entries(octx, options, NULL);
  g_option_context_add_group(octx, gst_init_get_option_group());
  if (!g_option_context_parse(octx, &argc, &argv, &err)) {
    fprintf(stderr, "hallcast: %s (see --help)\n", err->message);
    status = EXIT_CONFIG;
    goto out;
  }
  if (opt_version) {
    printf("hallcast %s (plugin API %d)\n", HC_VERSION, HC_PLUGIN_API_VERSION);
    status = 0;
    goto out;
  }
  hc_log_init("info");
  file = opt_config ? opt_config : "(embedded defaults)";
  if (opt_config && !hc_config_load_file(cfg, opt_config, &err))
    goto config_error;

  /* Plugins declare config groups, so load them before validating. */
  plugin_dir = auto_path(hc_config_string(cfg, "gateway", "plugin_dir"), HC_BUILD_ROOT "/plugins",
                         HC_PLUGIN_INSTALL_DIR);
  if (!hc_plugins_load(plugin_dir, &err) || !hc_plugins_add_builtin(&hc_whip_source_plugin, &err) ||
      !hc_plugins_add_builtin(&hc_switch_source_plugin, &err) ||
      !hc_plugins_add_builtin(&hc_switch_tap_plugin, &err))
    goto config_error;
  hc_plugins_declare_config(cfg);
  if (opt_print) {
    char *doc = hc_config_document(cfg);
    fputs(doc, stdout);
    g_free(doc);
    status = 0;
    goto out;
  }
  if (!hc_config_validate(cfg, &err) || !check_streams(cfg, file, &err))
    goto config_error;
  if (opt_check) {
    printf("hallcast: %s: configuration OK\n", file);
    status = 0;
    goto out;
  }
  hc_log_init(hc_config_string(cfg, "gateway", "log_level"));

  data_dir = g_canonicalize_filename(hc_config_string(cfg, "gateway", "data_dir"), NULL);
  hls_dir = g_build_filename(data_dir, "hls", NULL);
  if (g_mkdir_with_parents(hls_dir, 0755) != 0) {
    g_critical("cannot create the data folder %s: %s", hls_dir, g_strerror(errno));
    goto out;
  }
  if (!hc_plugins_init(cfg, data_dir, &err)) {
    g_critical("%s", err->message);
    goto out;
  }
  loop = g_main_loop_new(NULL, FALSE);
  web_root = auto_path(hc_config_string(cfg, "gateway", "web_root"), HC_SOURCE_ROOT "/web-client",
                       HC_WEB_INSTALL_DIR);
  hc_streams_init(hc_config_int(cfg, "gateway", "max_streams"));
  raise_nofile();
  if (!hc_interact_init(cfg, data_dir, &err)) {
    g_critical("%s", err->message);
    goto stop_streams;
  }
  if (!hc_webrtc_start(cfg, &err)) {
    g_critical("%s", err->message);
    goto stop_streams;
  }
  {
    HcHttpConfig http = {
      .address = hc_config_string(cfg, "gateway", "http_address"),
      .port = (int)hc_config_int(cfg, "gateway", "http_port"),
      .web_root = web_root,
      .hls_root = hls_dir,
      .max_body = hc_config_int(cfg, "gateway", "max_body"),
      .idle_timeout = hc_config_int(cfg, "gateway", "http_idle_timeout"),
    };
    if (!hc_http_start(&http, &err)) {
      g_critical("%s", err->message);
      goto stop_streams;
    }
  }
  start_streams(cfg);
  g_unix_signal_add(SIGINT, on_signal, loop);
  g_unix_signal_add(SIGTERM, on_signal, loop);
  g_info("hallcast %s running; data in %s", HC_VERSION, data_dir);
  g_main_loop_run(loop);
  status = 0;
  hc_http_stop();
stop_streams:
  hc_interact_shutdown();
  hc_streams_shutdown();
  hc_webrtc_stop();
  g_info("stopped");
  goto out;

config_error:
  fprintf(stderr, "hallcast: %s\n", err->message);
  status = EXIT_CONFIG;
out:
  hc_plugins_unload();
  g_clear_error(&err);
  if (loop)
    g_main_loop_unref(loop);
  g_free(plugin_dir);
  g_free(web_root);
  g_free(data_dir);
  g_free(hls_dir);
  hc_config_free(cfg);
  g_option_context_free(octx);
  g_free(opt_config);
  return status;
}
