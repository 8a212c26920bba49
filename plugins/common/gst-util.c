/* Helpers for plugins that build bins from gst-launch descriptions. */
#include "gst-util.h"

gboolean
hc_gst_ghost(GstElement *bin, const char *child, const char *pad_name, const char *ghost_name)
{
  GstElement *e = gst_bin_get_by_name(GST_BIN(bin), child);
  GstPad *pad = e ? gst_element_get_static_pad(e, pad_name) : NULL;
  gboolean ok = pad && gst_element_add_pad(bin, gst_ghost_pad_new(ghost_name, pad));

  if (pad)
    gst_object_unref(pad);
  if (e)
    gst_object_unref(e);
  return ok;
}
