/* A plugin descriptor built for a future API version: the loader must refuse it. */
#include <hallcast/plugin.h>

HC_PLUGIN_DEFINE = {
  .api_version = HC_PLUGIN_API_VERSION + 1,
  .name = "bad-version",
  .kind = HC_PLUGIN_SOURCE,
  .scheme = "bad",
};
