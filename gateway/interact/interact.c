/* The [interact] configuration keys, the limits derived from them, and the
 * subsystem's start and stop: open the store under the data folder and load
 * every session before the HTTP server starts. Called from main.c. */
#define G_LOG_DOMAIN "hc-interact"

#include <string.h>

#include "core/error.h"
#include "internal.h"
#include "store/store.h"

const HcConfigKey hc_interact_keys[] = {
  {"dev_tokens", HC_CFG_BOOL, "true", 0, 0, NULL,
   "Accept development tokens ROLE:SITE:NAME (e.g. school:school-12:Room 4) until signed tokens "
   "exist."},
  {"max_message", HC_CFG_INT, "4096", 256, 1048576, NULL,
   "Largest WebSocket message accepted, in bytes; larger ones close the connection (1009)."},
  {"max_text", HC_CFG_INT, "500", 1, 10000, NULL,
   "Longest question, answer or chat message, in characters (valid UTF-8)."},
  {"max_queue", HC_CFG_INT, "1048576", 65536, 67108864, NULL,
   "Bytes queued to one slow client before it is closed (1013); it reconnects with since."},
  {"max_bad_messages", HC_CFG_INT, "20", 0, 100000, NULL,
   "Invalid or unknown messages a connection may send before it is closed (1008)."},
  {"max_site_connections", HC_CFG_INT, "50", 1, 1000000, NULL,
   "WebSocket connections at once per site (token)."},
  {"max_sessions", HC_CFG_INT, "1000", 1, 1000000, NULL, "Interaction sessions at most."},
  {"log_retain", HC_CFG_INT, "10000", 100, 100000000, NULL,
   "Events kept per session for replay; an older since gets a fresh snapshot."},
  {"sync", HC_CFG_ENUM, "normal", 0, 0, "normal|full",
   "normal: a stored event survives a crash of hallcast; full: also a power cut (slower)."},
  {"msg_rate", HC_CFG_INT, "20", 1, 100000, NULL,
   "Messages per second per connection (sustained)."},
  {"msg_burst", HC_CFG_INT, "100", 1, 100000, NULL, "Messages per connection in a burst."},
  {"ask_rate", HC_CFG_INT, "6", 1, 100000, NULL, "Questions per minute per connection."},
  {"ask_burst", HC_CFG_INT, "5", 1, 100000, NULL, "Questions per connection in a burst."},
  {"vote_rate", HC_CFG_INT, "120", 1, 100000, NULL, "Votes per minute per connection."},
  {"vote_burst", HC_CFG_INT, "20", 1, 100000, NULL, "Votes per connection in a burst."},
  {"chat_rate", HC_CFG_INT, "30", 1, 100000, NULL, "Chat messages per minute per connection."},
  {"chat_burst", HC_CFG_INT, "5", 1, 100000, NULL, "Chat messages per connection in a burst."},
  {"keyword_filter", HC_CFG_STRING, "", 0, 65535, NULL,
   "Comma-separated words; chat messages containing one are held for review."},
  {"moderation", HC_CFG_BOOL, "true", 0, 0, NULL,
   "New sessions hold questions as pending until a moderator approves them."},
  {"qa_visibility", HC_CFG_ENUM, "all", 0, 0, "all|answered",
   "What schools and viewers see in new sessions: all published questions, or answered ones only."},
  {"main_stream", HC_CFG_STRING, "", 0, 64, NULL,
   "Stream whose media clock stamps events in new sessions; empty: the first stream."},
  {"presence_interval", HC_CFG_INT, "500", 10, 60000, NULL,
   "Presence changes are pushed at most this often, in milliseconds."},
  {"split_sends", HC_CFG_INT, "512", 0, 1000000, NULL,
   "A broadcast to at least this many connections writes to them from two threads (the main "
   "one and a sender thread) when hallcast may use two CPUs; 0: always from the main thread."},
  {NULL},
};

HcInteractLimits hc_interact_limits = {
  .max_message = 4096,
  .max_text = 500,
  .max_queue = 1048576,
  .max_bad = 20,
  .max_site_conns = 50,
  .max_sessions = 1000,
  .retain = 10000,
  .rate = {20, 0.1, 2, 0.5},
  .burst = {100, 5, 20, 5},
  .dev_tokens = TRUE,
  .moderation = TRUE,
  .presence_ms = 500,
  .split_sends = 512,
};

static char **
split_keywords(const char *list)
{
  char **words = g_strsplit(list, ",", -1);

  for (int i = 0; words[i]; i++) {
    char *folded = g_utf8_casefold(g_strstrip(words[i]), -1);
    g_free(words[i]);
    words[i] = folded;
  }
  return words;
}

static void
read_limits(HcConfig *cfg)
{
  HcInteractLimits *l = &hc_interact_limits;
  const char *g = "interact";

  l->dev_tokens = hc_config_bool(cfg, g, "dev_tokens");
  l->max_message = hc_config_int(cfg, g, "max_message");
  l->max_text = hc_config_int(cfg, g, "max_text");
  l->max_queue = hc_config_int(cfg, g, "max_queue");
  l->max_bad = hc_config_int(cfg, g, "max_bad_messages");
  l->max_site_conns = hc_config_int(cfg, g, "max_site_connections");
  l->max_sessions = hc_config_int(cfg, g, "max_sessions");
  l->retain = hc_config_int(cfg, g, "log_retain");
  l->rate[HC_RATE_MSG] = hc_config_int(cfg, g, "msg_rate");
  l->burst[HC_RATE_MSG] = hc_config_int(cfg, g, "msg_burst");
  l->rate[HC_RATE_ASK] = hc_config_int(cfg, g, "ask_rate") / 60.0;
  l->burst[HC_RATE_ASK] = hc_config_int(cfg, g, "ask_burst");
  l->rate[HC_RATE_VOTE] = hc_config_int(cfg, g, "vote_rate") / 60.0;
  l->burst[HC_RATE_VOTE] = hc_config_int(cfg, g, "vote_burst");
  l->rate[HC_RATE_CHAT] = hc_config_int(cfg, g, "chat_rate") / 60.0;
  l->burst[HC_RATE_CHAT] = hc_config_int(cfg, g, "chat_burst");
  l->moderation = hc_config_bool(cfg, g, "moderation");
  l->answered_only = strcmp(hc_config_string(cfg, g, "qa_visibility"), "answered") == 0;
  g_free(l->main_stream);
  l->main_stream = g_strdup(hc_config_string(cfg, g, "main_stream"));
  g_strfreev(l->keywords);
  l->keywords = split_keywords(hc_config_string(cfg, g, "keyword_filter"));
  l->presence_ms = hc_config_int(cfg, g, "presence_interval");
  l->split_sends = hc_config_int(cfg, g, "split_sends");
}

gboolean
hc_interact_init(HcConfig *cfg, const char *data_dir, GError **error)
{
  char *path = g_build_filename(data_dir, "hallcast.db", NULL);
  gboolean ok;

  read_limits(cfg);
  ok = hc_store_open(path, strcmp(hc_config_string(cfg, "interact", "sync"), "full") == 0, error);
  g_free(path);
  if (ok)
    hc_sessions_load();
  return ok;
}

void
hc_interact_shutdown(void)
{
  hc_sessions_free();
  hc_ws_sender_stop();
  hc_store_close();
  g_clear_pointer(&hc_interact_limits.keywords, g_strfreev);
  g_clear_pointer(&hc_interact_limits.main_stream, g_free);
}
