/* GET /metrics: Prometheus text exposition of the gateway's health, for the
 * operators' monitoring. Built from the same snapshots the REST API answers.
 * Routed from server.c; main thread. */
#define G_LOG_DOMAIN "hc-http"

#include <string.h>

#include "hc-build-config.h"
#include "http.h"
#include "media/stream.h"

/* Prometheus label values escape backslash, quote and newline. */
static void
label(GString *out, const char *v)
{
  for (; *v; v++) {
    if (*v == '\\' || *v == '"')
      g_string_append_c(out, '\\');
    if (*v == '\n') {
      g_string_append(out, "\\n");
      continue;
    }
    g_string_append_c(out, *v);
  }
}

static void
track(GString *out, const char *stream, const char *kind, const HcTrackInfo *t)
{
  if (!t->codec[0])
    return;
  g_string_append(out, "hallcast_track_bitrate_bits{stream=\"");
  label(out, stream);
  g_string_append_printf(out, "\",track=\"%s\",codec=\"%s\"} %.0f\n", kind, t->codec, t->bitrate);
}

void
hc_api_metrics(const HcHttpRequest *req, HcHttpResponse *resp)
{
  static const HcStreamState states[] = {HC_STREAM_STARTING, HC_STREAM_LIVE, HC_STREAM_RECONNECTING,
                                         HC_STREAM_IDLE, HC_STREAM_ERROR};
  GPtrArray *all = hc_streams_list();
  HcStreamInfo *infos = g_new0(HcStreamInfo, all->len + 1);
  GString *out = g_string_new(NULL);

  /* One consistent snapshot per stream, then one block per metric family. */
  for (guint i = 0; i < all->len; i++)
    hc_stream_get_info(all->pdata[i], &infos[i]);
  g_string_append_printf(out,
                         "# HELP hallcast_info Version of the running gateway.\n"
                         "# TYPE hallcast_info gauge\n"
                         "hallcast_info{version=\"%s\"} 1\n"
                         "# HELP hallcast_streams Streams configured or created.\n"
                         "# TYPE hallcast_streams gauge\n"
                         "hallcast_streams %u\n",
                         HC_VERSION, all->len);
  g_string_append(out, "# HELP hallcast_stream_state 1 for the state a stream is in.\n"
                       "# TYPE hallcast_stream_state gauge\n");
  for (guint i = 0; i < all->len; i++) {
    for (guint k = 0; k < G_N_ELEMENTS(states); k++) {
      g_string_append(out, "hallcast_stream_state{stream=\"");
      label(out, infos[i].name);
      g_string_append_printf(out, "\",state=\"%s\"} %d\n", hc_stream_state_name(states[k]),
                             infos[i].state == states[k]);
    }
  }
  g_string_append(out, "# HELP hallcast_stream_uptime_seconds Seconds since the stream went live.\n"
                       "# TYPE hallcast_stream_uptime_seconds gauge\n");
  for (guint i = 0; i < all->len; i++) {
    g_string_append(out, "hallcast_stream_uptime_seconds{stream=\"");
    label(out, infos[i].name);
    g_string_append_printf(out, "\"} %" G_GINT64_FORMAT "\n", infos[i].uptime_s);
  }
  g_string_append(out, "# HELP hallcast_track_bitrate_bits Input bit rate of a track, bit/s.\n"
                       "# TYPE hallcast_track_bitrate_bits gauge\n");
  for (guint i = 0; i < all->len; i++) {
    track(out, infos[i].name, "video", &infos[i].video);
    track(out, infos[i].name, "audio", &infos[i].audio);
  }
  for (guint i = 0; i < all->len; i++)
    hc_stream_info_clear(&infos[i]);
  g_free(infos);
  hc_http_set_body(resp, 200, "text/plain; version=0.0.4; charset=utf-8", out->str, out->len);
  hc_http_add_header(resp, "cache-control", "no-store");
  g_string_free(out, TRUE);
}
