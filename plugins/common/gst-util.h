/* Small GStreamer helpers shared by plugins (linked statically into each). */
#ifndef HC_PLUGIN_GST_UTIL_H
#define HC_PLUGIN_GST_UTIL_H

#include <gst/gst.h>

/* Adds to bin a ghost pad named ghost_name for pad_name of the named child
 * element. Returns FALSE if the child or its pad does not exist. */
gboolean hc_gst_ghost(GstElement *bin, const char *child, const char *pad_name,
                      const char *ghost_name);

#endif
