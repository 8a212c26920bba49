/* URL path normalisation for static files: the one gate between a request
 * path and the file system. Pure function, any thread. */
#ifndef HC_HTTP_PATH_H
#define HC_HTTP_PATH_H

#include <stddef.h>

/* Turns a request path ("/a/./b%20c/") into a relative path ("a/b c") in out.
 * Percent-escapes are decoded once; empty and "." segments are dropped.
 * Returns 0, or HC_ENOTFOUND for anything that could leave the folder or is
 * not a plain name: a ".." segment, a NUL, a backslash, a bad escape, a path
 * not starting with '/', or a result longer than outlen - 1. */
int hc_path_normalise(const char *raw, char *out, size_t outlen);

#endif
