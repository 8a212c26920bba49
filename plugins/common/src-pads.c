/* Dynamic-pad helpers shared by the network source plugins (src-rtsp,
 * src-srt, src-rtmp); compiled into each of them. */
#include "src-pads.h"

#include <string.h>

gboolean
hc_src_expose(GstElement *bin, GstPad *pad, const char *desc, const char *ghost)
{
  GError *err = NULL;
  GstPad *existing = gst_element_get_static_pad(bin, ghost);
  GstElement *chain;
  GstPad *sink, *src, *gpad;
  gboolean ok;

  if (existing) {
    gst_object_unref(existing);
    return FALSE;
  }
  chain = gst_parse_bin_from_description(desc, TRUE, &err);
  if (!chain) {
    g_warning("cannot build '%s': %s", desc, err->message);
    g_error_free(err);
    return FALSE;
  }
  gst_bin_add(GST_BIN(bin), chain);
  sink = gst_element_get_static_pad(chain, "sink");
  ok = gst_pad_link(pad, sink) == GST_PAD_LINK_OK;
  gst_object_unref(sink);
  if (!ok) {
    g_warning("cannot link %s:%s to '%s'", GST_DEBUG_PAD_NAME(pad), desc);
    gst_bin_remove(GST_BIN(bin), chain);
    return FALSE;
  }
  gst_element_sync_state_with_parent(chain);
  src = gst_element_get_static_pad(chain, "src");
  gpad = gst_ghost_pad_new(ghost, src);
  gst_object_unref(src);
  gst_pad_set_active(gpad, TRUE);
  return gst_element_add_pad(bin, gpad);
}

void
hc_src_discard(GstElement *bin, GstPad *pad)
{
  GstElement *sink = gst_element_factory_make("fakesink", NULL);
  GstPad *sp;

  g_object_set(sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add(GST_BIN(bin), sink);
  sp = gst_element_get_static_pad(sink, "sink");
  gst_pad_link(pad, sp);
  gst_object_unref(sp);
  gst_element_sync_state_with_parent(sink);
}

void
hc_src_unsupported(GstElement *bin, const char *kind, const char *codec, const char *supported)
{
  char *text =
    g_strdup_printf("unsupported %s codec %s: hallcast takes %s", kind, codec, supported);
  GError *err = g_error_new_literal(GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND, text);

  gst_element_post_message(bin, gst_message_new_error(GST_OBJECT(bin), err, NULL));
  g_error_free(err);
  g_free(text);
}

char *
hc_src_pad_type(GstPad *pad, GstStructure **st)
{
  GstCaps *caps = gst_pad_get_current_caps(pad);
  char *name = NULL;

  if (!caps)
    caps = gst_pad_query_caps(pad, NULL);
  if (caps && !gst_caps_is_any(caps) && !gst_caps_is_empty(caps)) {
    name = g_strdup(gst_structure_get_name(gst_caps_get_structure(caps, 0)));
    if (st)
      *st = gst_structure_copy(gst_caps_get_structure(caps, 0));
  } else if (st) {
    *st = NULL;
  }
  if (caps)
    gst_caps_unref(caps);
  return name ? name : g_strdup("");
}

static gboolean
row_matches(const HcSrcTrack *row, const char *type, const GstStructure *st)
{
  size_t n = strlen(row->type);
  int version = 0;

  if (n && row->type[n - 1] == '/' ? !g_str_has_prefix(type, row->type)
                                   : strcmp(type, row->type) != 0)
    return FALSE;
  if (!row->mpeg_versions)
    return TRUE;
  return st && gst_structure_get_int(st, "mpegversion", &version) && version >= 0 && version < 32 &&
         (row->mpeg_versions & (1u << version));
}

void
hc_src_take_pad(GstElement *bin, GstPad *pad, const HcSrcTrack *tracks, const char *source,
                const char *takes)
{
  GstStructure *st = NULL;
  char *type = hc_src_pad_type(pad, &st);
  const HcSrcTrack *row = tracks;

  while (row->type && !row_matches(row, type, st))
    row++;
  if (!row->type) {
    g_warning("%s track %s left out: hallcast takes %s", source, type, takes);
    hc_src_discard(bin, pad);
  } else if (!row->track) {
    char *kind = g_strndup(type, strcspn(type, "/"));

    hc_src_unsupported(bin, kind, row->name ? row->name : type, row->takes);
    hc_src_discard(bin, pad);
    g_free(kind);
  } else if (!hc_src_expose(bin, pad, row->chain, row->track)) {
    hc_src_discard(bin, pad);
  }
  if (st)
    gst_structure_free(st);
  g_free(type);
}
