/* [webrtc] configuration and the start/stop of the WebRTC stack (see
 * webrtc.h). main.c calls hc_webrtc_start after the streams registry. */
#define G_LOG_DOMAIN "hc-webrtc"

#include "webrtc.h"

#include "addr.h"
#include "core/error.h"
#include "dtls.h"
#include "media/fanout.h"
#include "srtp.h"

const HcConfigKey hc_webrtc_keys[] = {
  {"workers", HC_CFG_INT, "0", 0, 64, NULL,
   "Fan-out worker threads, each with its own UDP port; 0: one per CPU core."},
  {"udp_address", HC_CFG_STRING, "::", 2, 45, NULL,
   "Address the WebRTC UDP sockets bind to: :: takes IPv6 and IPv4 (dual-stack), 0.0.0.0 IPv4 "
   "only, or one address of either family."},
  {"udp_port", HC_CFG_INT, "0", 0, 65535, NULL,
   "UDP port of worker 0 (worker N uses udp_port+N); 0: any free ports, see the log."},
  {"public_ip", HC_CFG_STRING, "", 0, 45, NULL,
   "Public IPv4 or IPv6 address of a 1:1 NAT, offered as an extra ICE candidate; empty: none."},
  {"handshake_timeout", HC_CFG_INT, "10", 1, 120, NULL,
   "Seconds a viewer has to complete ICE and DTLS before it is removed."},
  {"idle_timeout", HC_CFG_INT, "30", 5, 3600, NULL,
   "Seconds without STUN consent or RTCP after which a viewer is removed."},
  {"max_viewers", HC_CFG_INT, "10000", 1, 1000000, NULL,
   "Most WebRTC viewers at once over all streams; more get 503."},
  {"nack_per_second", HC_CFG_INT, "100", 0, 10000, NULL,
   "Most retransmissions answered per viewer per second (NACK)."},
  {NULL},
};

static char *public_ip, *udp_address;
static GHashTable *view_keys; /* stream name -> [stream NAME] view_key, when set */
static guint max_viewers;
static gboolean started;

static void
load_view_keys(HcConfig *cfg)
{
  char **names = hc_config_instances(cfg, "stream");

  view_keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; names[i]; i++) {
    char *group = g_strdup_printf("stream %s", names[i]);
    const char *key = hc_config_string(cfg, group, "view_key");

    if (key[0])
      g_hash_table_insert(view_keys, g_strdup(names[i]), g_strdup(key));
    g_free(group);
  }
  g_strfreev(names);
}

gboolean
hc_webrtc_start(HcConfig *cfg, GError **error)
{
  HcFanoutConfig fc = {
    .workers = (guint)hc_config_int(cfg, "webrtc", "workers"),
    .udp_address = hc_config_string(cfg, "webrtc", "udp_address"),
    .udp_port = (guint16)hc_config_int(cfg, "webrtc", "udp_port"),
    .handshake_timeout_s = (guint)hc_config_int(cfg, "webrtc", "handshake_timeout"),
    .idle_timeout_s = (guint)hc_config_int(cfg, "webrtc", "idle_timeout"),
    .nack_per_second = (guint)hc_config_int(cfg, "webrtc", "nack_per_second"),
  };

  const char *ip = hc_config_string(cfg, "webrtc", "public_ip");
  HcAddr addr;

  if (ip[0] && !hc_addr_parse(ip, 0, &addr)) {
    g_set_error(error, HC_ERROR, HC_ECONFIG,
                "[webrtc] public_ip: expected an IPv4 or IPv6 address or nothing, got '%s'", ip);
    return FALSE;
  }
  public_ip = g_strdup(ip);
  max_viewers = (guint)hc_config_int(cfg, "webrtc", "max_viewers");
  if (!hc_srtp_init(error))
    return FALSE;
  if (!hc_dtls_init(error)) {
    hc_srtp_shutdown();
    return FALSE;
  }
  if (!hc_fanout_start(&fc, error)) {
    hc_dtls_shutdown();
    hc_srtp_shutdown();
    return FALSE;
  }
  udp_address = g_strdup(fc.udp_address);
  load_view_keys(cfg);
  started = TRUE;
  return TRUE;
}

void
hc_webrtc_stop(void)
{
  if (!started)
    return;
  hc_fanout_stop();
  hc_dtls_shutdown();
  hc_srtp_shutdown();
  g_clear_pointer(&public_ip, g_free);
  g_clear_pointer(&udp_address, g_free);
  g_clear_pointer(&view_keys, g_hash_table_unref);
  started = FALSE;
}

const char *
hc_webrtc_public_ip(void)
{
  return public_ip ? public_ip : "";
}

const char *
hc_webrtc_udp_address(void)
{
  return udp_address ? udp_address : "::";
}

const char *
hc_webrtc_view_key(const char *stream)
{
  const char *key = view_keys ? g_hash_table_lookup(view_keys, stream) : NULL;

  return key ? key : "";
}

void
hc_webrtc_set_view_key(const char *stream, const char *key)
{
  if (!view_keys)
    return;
  if (key && key[0])
    g_hash_table_insert(view_keys, g_strdup(stream), g_strdup(key));
  else
    g_hash_table_remove(view_keys, stream);
}

guint
hc_webrtc_max_viewers(void)
{
  return max_viewers;
}
