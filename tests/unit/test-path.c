/* Unit tests of hc_path_normalise(): the gate between request paths and files. */
#include <string.h>

#include "core/error.h"
#include "http/path.h"

static void
expect(const char *in, const char *out)
{
  char buf[256];
  int r = hc_path_normalise(in, buf, sizeof buf);

  if (out) {
    g_assert_cmpint(r, ==, 0);
    g_assert_cmpstr(buf, ==, out);
  } else {
    g_assert_cmpint(r, ==, HC_ENOTFOUND);
  }
}

static void
test_plain(void)
{
  expect("/", "");
  expect("/index.html", "index.html");
  expect("/a/b/c.ts", "a/b/c.ts");
  expect("//a///b/", "a/b");
  expect("/./a/./b", "a/b");
  expect("/a%20b/c%2Ed", "a b/c.d");
  expect("/...", "...");
  expect("/a..b/..c", "a..b/..c");
}

static void
test_traversal(void)
{
  expect("/..", NULL);
  expect("/../etc/passwd", NULL);
  expect("/a/../../b", NULL);
  expect("/a/..", NULL);
  expect("/%2e%2e/x", NULL);
  expect("/%2E%2e/x", NULL);
  expect("/.%2e/x", NULL);
  expect("/a/%2e%2e", NULL);
  expect("/a%2f..%2fb", NULL);
  expect("/a\\..\\b", NULL);
  expect("/a%5c..", NULL);
}

static void
test_malformed(void)
{
  char small[4];

  expect("", NULL);
  expect("relative/path", NULL);
  expect("/a%00b", NULL);
  expect("/a%2", NULL);
  expect("/a%zz", NULL);
  expect("/a%", NULL);
  g_assert_cmpint(hc_path_normalise(NULL, small, sizeof small), ==, HC_ENOTFOUND);
  g_assert_cmpint(hc_path_normalise("/abc", small, sizeof small), ==, 0);
  g_assert_cmpint(hc_path_normalise("/abcd", small, sizeof small), ==, HC_ENOTFOUND);
  g_assert_cmpint(hc_path_normalise("/ab/cd", small, sizeof small), ==, HC_ENOTFOUND);
  g_assert_cmpint(hc_path_normalise("/a", small, 0), ==, HC_ENOTFOUND);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/path/plain", test_plain);
  g_test_add_func("/path/traversal", test_traversal);
  g_test_add_func("/path/malformed", test_malformed);
  return g_test_run();
}
