/* Presence: which sites are in a session with how many connections each,
 * kept up to date on attach and detach and pushed at most every
 * presence_interval ms. Moderators get the sites that changed since the
 * last push (absolute counts, 0: the site left), schools and viewers the
 * totals. A push goes only to a connection with nothing waiting to be
 * written: one that is behind is skipped and gets the whole list once it
 * has caught up, so presence never fills a queue (a moderator is never
 * closed for the server's own pushes). Called by session.c. */
#define G_LOG_DOMAIN "hc-interact"

#include <string.h>

#include "internal.h"

static int
cmp_site(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static json_t *
presence_total(HcSession *s)
{
  return json_pack("{s:i, s:i}", "sites", (int)g_hash_table_size(s->site_counts), "viewers",
                   (int)g_hash_table_size(s->conns));
}

/* The sites of set (keys are site names), sorted, with their counts now. */
static json_t *
presence_sites(HcSession *s, GHashTable *set)
{
  guint n;
  gpointer *sites = g_hash_table_get_keys_as_array(set, &n);
  json_t *arr = json_array();

  qsort(sites, n, sizeof *sites, cmp_site);
  for (guint i = 0; i < n; i++)
    json_array_append_new(
      arr, json_pack("{s:s, s:i}", "site", (char *)sites[i], "viewers",
                     GPOINTER_TO_INT(g_hash_table_lookup(s->site_counts, sites[i]))));
  g_free(sites);
  return arr;
}

json_t *
hc_presence_view(HcSession *s, gboolean moderator)
{
  return moderator ? presence_sites(s, s->site_counts) : presence_total(s);
}

static HcWsMsg *
presence_msg(HcSession *s, json_t *sites, gboolean full)
{
  json_t *obj =
    json_pack("{s:s, s:s, s:o}", "type", "presence", "session", s->id, "total", presence_total(s));
  HcWsMsg *m;

  if (sites) {
    json_object_set_new(obj, "full", json_boolean(full));
    json_object_set_new(obj, "sites", sites);
  }
  m = hc_ws_msg_from_json(obj);
  json_decref(obj);
  return m;
}

static gboolean
presence_fire(gpointer data)
{
  HcSession *s = data;
  gboolean changed = s->presence_dirty;
  HcWsMsg *delta = NULL, *full = NULL, *total = NULL, *m;
  GHashTableIter it;
  gpointer key;
  guint behind = 0;

  s->presence_timer = 0;
  s->presence_dirty = FALSE;
  g_hash_table_iter_init(&it, s->conns);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    HcConn *c = key;
    gboolean mod = hc_conn_is_moderator(c);

    if (c->closing || (!changed && !c->presence_behind))
      continue;
    if (!hc_ws_idle(c)) {
      c->presence_behind = TRUE;
      behind++;
      continue;
    }
    /* Built once per push, for every connection that takes it. */
    if (!mod)
      m = total ? total : (total = presence_msg(s, NULL, FALSE));
    else if (c->presence_behind)
      m = full ? full : (full = presence_msg(s, presence_sites(s, s->site_counts), TRUE));
    else
      m = delta ? delta : (delta = presence_msg(s, presence_sites(s, s->presence_changed), FALSE));
    hc_ws_send(c, m);
    c->presence_behind = FALSE;
  }
  g_hash_table_remove_all(s->presence_changed);
  hc_ws_msg_unref(delta);
  hc_ws_msg_unref(full);
  hc_ws_msg_unref(total);
  if (behind) { /* again until every connection has the present state */
    g_debug("session %s: presence skipped %u connections with writes waiting", s->id, behind);
    s->presence_timer = g_timeout_add(hc_interact_limits.presence_ms, presence_fire, s);
  }
  return G_SOURCE_REMOVE;
}

/* Counts one more (delta 1) or one fewer (-1) connection of site. */
void
hc_presence_count(HcSession *s, const char *site, int delta)
{
  int n = GPOINTER_TO_INT(g_hash_table_lookup(s->site_counts, site)) + delta;

  if (n <= 0)
    g_hash_table_remove(s->site_counts, site);
  else
    g_hash_table_insert(s->site_counts, g_strdup(site), GINT_TO_POINTER(n));
  g_hash_table_add(s->presence_changed, g_strdup(site));
  s->presence_dirty = TRUE;
  if (!s->presence_timer)
    s->presence_timer = g_timeout_add(hc_interact_limits.presence_ms, presence_fire, s);
}
