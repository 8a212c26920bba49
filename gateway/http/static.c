/* Static files: the web client at / and HLS output at /hls/. Every path goes
 * through hc_path_normalise() and then realpath(), which must stay inside the
 * served folder (symlinks out are refused). Routed from server.c. */
#define G_LOG_DOMAIN "hc-http"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/error.h"
#include "http.h"
#include "path.h"

static char *web_real, *hls_real; /* realpath of the roots, or NULL */

static const struct {
  const char *ext, *type, *cache;
} types[] = {
  {".m3u8", "application/vnd.apple.mpegurl", "no-cache"},
  /* Segment names are unique per pipeline run, so a cache may keep them. */
  {".ts", "video/mp2t", "public, max-age=3600"},
  {".m4s", "video/iso.segment", "public, max-age=3600"},
  {".mp4", "video/mp4", "public, max-age=3600"},
  {".html", "text/html; charset=utf-8", "no-cache"},
  {".js", "text/javascript; charset=utf-8", "no-cache"},
  {".mjs", "text/javascript; charset=utf-8", "no-cache"},
  {".css", "text/css; charset=utf-8", "no-cache"},
  {".json", "application/json", "no-cache"},
  {".map", "application/json", "no-cache"},
  {".svg", "image/svg+xml", "public, max-age=3600"},
  {".png", "image/png", "public, max-age=3600"},
  {".ico", "image/x-icon", "public, max-age=3600"},
  {".txt", "text/plain; charset=utf-8", "no-cache"},
};

void
hc_static_init(const char *web_root, const char *hls_root)
{
  g_free(web_real);
  g_free(hls_real);
  web_real = web_root ? realpath(web_root, NULL) : NULL;
  hls_real = hls_root ? realpath(hls_root, NULL) : NULL;
  if (!web_real)
    g_warning("web root %s does not exist: / serves nothing", web_root ? web_root : "(none)");
}

/* Resolves a request path under root; returns the file's real path or NULL. */
static char *
resolve(const char *root, const char *path, const char *index)
{
  char rel[PATH_MAX];
  char *joined, *real;
  struct stat st;
  size_t rl;

  if (!root || hc_path_normalise(path, rel, sizeof rel) != 0)
    return NULL;
  joined = g_build_filename(root, rel, NULL);
  real = realpath(joined, NULL);
  g_free(joined);
  if (!real)
    return NULL;
  rl = strlen(root);
  if (strncmp(real, root, rl) != 0 || (real[rl] != '/' && real[rl] != '\0'))
    goto refuse; /* a symlink that leads out of the folder */
  if (stat(real, &st) != 0)
    goto refuse;
  if (S_ISDIR(st.st_mode) && index) {
    char *with_index = g_build_filename(real, index, NULL);
    free(real);
    real = realpath(with_index, NULL);
    g_free(with_index);
    if (!real || strncmp(real, root, rl) != 0 || stat(real, &st) != 0)
      goto refuse;
  }
  if (!S_ISREG(st.st_mode))
    goto refuse;
  return real;
refuse:
  free(real);
  return NULL;
}

static void
serve(const char *root, const char *path, const char *index, HcHttpResponse *resp)
{
  char *file = resolve(root, path, index);

  if (!file) {
    hc_http_set_error(resp, HC_ENOTFOUND, NULL, "no such file");
    return;
  }
  for (guint i = 0; i < G_N_ELEMENTS(types); i++) {
    if (g_str_has_suffix(file, types[i].ext)) {
      hc_http_set_file(resp, file, types[i].type, types[i].cache);
      free(file);
      return;
    }
  }
  hc_http_set_file(resp, file, "application/octet-stream", "no-cache");
  free(file);
}

void
hc_static_web(const HcHttpRequest *req, HcHttpResponse *resp)
{
  serve(web_real, req->path, "index.html", resp);
}

void
hc_static_hls(const HcHttpRequest *req, HcHttpResponse *resp)
{
  /* req->tail is what follows "/hls/"; give it back its leading slash. */
  char *p = g_strconcat("/", req->tail, NULL);

  serve(hls_real, p, NULL, resp);
  g_free(p);
}
