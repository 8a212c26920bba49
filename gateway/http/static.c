/* Static files: the web client at / and HLS output at /hls/. A path passes
 * hc_path_normalise(), then the kernel opens it beneath the served folder's
 * descriptor (openat2 RESOLVE_BENEATH): "..", absolute paths and symlinks
 * that lead out are refused in one system call. Routed from server.c; the
 * HLS fast path (hls-fast.c) opens its files through hc_static_open_hls(). */
#define G_LOG_DOMAIN "hc-http"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/error.h"
#include "http.h"
#include "path.h"

static int web_fd = -1, hls_fd = -1; /* O_PATH descriptors of the roots */

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

static int
open_root(const char *dir)
{
  int fd = dir ? open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;

  if (fd < 0)
    g_warning("cannot serve %s: %s", dir ? dir : "(none)", g_strerror(errno));
  return fd;
}

/* Opens rel beneath root; symlinks may be followed only while they stay inside. */
static int
open_beneath(int root, const char *rel)
{
  struct open_how how = {
    .flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
  };

  return (int)syscall(SYS_openat2, root, rel[0] ? rel : ".", &how, sizeof how);
}

void
hc_static_init(const char *web_root, const char *hls_root)
{
  if (web_fd >= 0)
    close(web_fd);
  if (hls_fd >= 0)
    close(hls_fd);
  web_fd = open_root(web_root);
  hls_fd = open_root(hls_root);
  if (web_fd >= 0) {
    int probe = open_beneath(web_fd, "");

    if (probe >= 0)
      close(probe);
    else if (errno == ENOSYS)
      g_critical("this kernel has no openat2() (Linux 5.6 or later is needed): "
                 "the web client and HLS cannot be served");
  }
}

/* Opens the regular file a request path names under root (a folder's index
 * file if index is set) and writes the relative name it opened into name;
 * -1 if there is none or it lies outside root. */
static int
resolve(int root, const char *path, const char *index, char name[PATH_MAX], struct stat *st)
{
  int fd;

  if (root < 0 || hc_path_normalise(path, name, PATH_MAX) != 0)
    return -1;
  fd = open_beneath(root, name);
  if (fd < 0 || fstat(fd, st) != 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  if (S_ISDIR(st->st_mode) && index) {
    size_t n = strlen(name);

    close(fd);
    if (g_snprintf(name + n, PATH_MAX - n, "%s%s", n ? "/" : "", index) >= (int)(PATH_MAX - n))
      return -1;
    fd = open_beneath(root, name);
    if (fd >= 0 && fstat(fd, st) != 0) {
      close(fd);
      fd = -1;
    }
  }
  if (fd >= 0 && !S_ISREG(st->st_mode)) {
    close(fd);
    fd = -1;
  }
  return fd;
}

/* Opens the file path names under root and fills f; FALSE if there is none.
 * A playlist of 0 bytes is one hlssink2 has created and not yet written (it
 * writes a playlist's first version in place, later ones by rename): it does
 * not exist yet for a client. */
static gboolean
open_file(int root, const char *path, const char *index, HcStaticFile *f)
{
  char name[PATH_MAX];
  struct stat st;
  int fd = resolve(root, path, index, name, &st);

  f->type = "application/octet-stream";
  f->cache = "no-cache";
  if (fd < 0)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS(types); i++) {
    if (g_str_has_suffix(name, types[i].ext)) {
      f->type = types[i].type;
      f->cache = types[i].cache;
      break;
    }
  }
  if (st.st_size == 0 && g_str_has_suffix(name, ".m3u8")) {
    close(fd);
    return FALSE;
  }
  f->fd = fd;
  f->size = (gsize)st.st_size;
  return TRUE;
}

static void
serve(int root, const char *path, const char *index, HcHttpResponse *resp)
{
  HcStaticFile f;

  if (!open_file(root, path, index, &f)) {
    hc_http_set_error(resp, HC_ENOTFOUND, NULL, HC_STATIC_NOT_FOUND);
    return;
  }
  hc_http_set_file(resp, f.fd, f.size, f.type, f.cache);
}

gboolean
hc_static_open_hls(const char *path, HcStaticFile *f)
{
  return open_file(hls_fd, path, NULL, f);
}

void
hc_static_web(const HcHttpRequest *req, HcHttpResponse *resp)
{
  serve(web_fd, req->path, "index.html", resp);
}

void
hc_static_hls(const HcHttpRequest *req, HcHttpResponse *resp)
{
  /* req->tail is what follows "/hls/"; give it back its leading slash. */
  char *p = g_strconcat("/", req->tail, NULL);

  serve(hls_fd, p, NULL, resp);
  g_free(p);
}
