/* The room: raised hands (one server-side queue, the same order for every
 * client), the stage, polls and quizzes (draft -> open -> closed ->
 * published, results hidden until published) and the session settings.
 * Handlers called from ws.c. */
#define G_LOG_DOMAIN "hc-interact"

#include <string.h>

#include "internal.h"
#include "store/store.h"

static json_t *
sites_json(GPtrArray *sites)
{
  json_t *arr = json_array();

  for (guint i = 0; i < sites->len; i++)
    json_array_append_new(arr, json_string(sites->pdata[i]));
  return arr;
}

static gboolean
sites_find(GPtrArray *sites, const char *site, guint *index)
{
  for (guint i = 0; i < sites->len; i++)
    if (strcmp(sites->pdata[i], site) == 0) {
      if (index)
        *index = i;
      return TRUE;
    }
  return FALSE;
}

int
hc_hand_handle(HcConn *c, const HcMessage *m, json_t **result, HcWsFault *f)
{
  HcSession *s = c->session;
  const char *type = m->spec->type, *event, *site = hc_msg_str(m, "site");
  char *target = NULL;
  guint i;
  gint64 seq;

  if (strcmp(type, "hand.raise") == 0) {
    if (sites_find(s->hands, c->who.site, NULL)) {
      hc_ws_fault(f, HC_WS_INVALID_STATE, NULL, "the hand of %s is already raised", c->who.site);
      return -1;
    }
    target = g_strdup(c->who.site);
    g_ptr_array_add(s->hands, g_strdup(target));
    event = "hand.raised";
  } else if (strcmp(type, "hand.lower") == 0) {
    site = site ? site : c->who.site;
    if (strcmp(site, c->who.site) != 0 && !hc_conn_is_moderator(c)) {
      hc_ws_fault(f, HC_WS_FORBIDDEN, "site", "only moderators lower another site's hand");
      return -1;
    }
    if (!sites_find(s->hands, site, &i)) {
      hc_ws_fault(f, HC_WS_INVALID_STATE, "site", "the hand of %s is not raised", site);
      return -1;
    }
    target = g_strdup(site);
    g_ptr_array_remove_index(s->hands, i);
    event = "hand.lowered";
  } else if (strcmp(type, "hand.next") == 0) {
    if (s->hands->len == 0) {
      hc_ws_fault(f, HC_WS_INVALID_STATE, NULL, "no hand is raised");
      return -1;
    }
    target = g_strdup(s->hands->pdata[0]);
    g_ptr_array_remove_index(s->hands, 0);
    event = "hand.next";
  } else {
    g_ptr_array_set_size(s->hands, 0);
    event = "hand.cleared";
  }
  seq = hc_session_event(s, event,
                         json_pack("{s:s?, s:o}", "site", target, "queue", sites_json(s->hands)),
                         HC_AUDIENCE_ALL, NULL);
  *result = json_pack("{s:s?, s:o, s:I}", "site", target, "queue", sites_json(s->hands), "seq",
                      (json_int_t)seq);
  g_free(target);
  return 0;
}

int
hc_stage_handle(HcConn *c, const HcMessage *m, json_t **result, HcWsFault *f)
{
  HcSession *s = c->session;
  const char *site = hc_msg_str(m, "site");
  gboolean invite = strcmp(m->spec->type, "stage.invite") == 0;
  guint i;
  gint64 seq;

  if (invite == sites_find(s->stage, site, &i)) {
    hc_ws_fault(f, HC_WS_INVALID_STATE, "site",
                invite ? "%s is already on stage" : "%s is not on stage", site);
    return -1;
  }
  if (invite) {
    g_ptr_array_add(s->stage, g_strdup(site));
    if (sites_find(s->hands, site, &i))
      g_ptr_array_remove_index(s->hands, i);
  } else {
    g_ptr_array_remove_index(s->stage, i);
  }
  seq = hc_session_event(s, invite ? "stage.invited" : "stage.removed",
                         json_pack("{s:s, s:o, s:o}", "site", site, "stage", sites_json(s->stage),
                                   "queue", sites_json(s->hands)),
                         HC_AUDIENCE_ALL, NULL);
  *result = json_pack("{s:s, s:I}", "site", site, "seq", (json_int_t)seq);
  return 0;
}

/* Polls. */
json_t *
hc_poll_view(json_t *p, gboolean moderator)
{
  json_t *v = json_deep_copy(p);

  if (!moderator && g_strcmp0(json_string_value(json_object_get(p, "state")), "published") != 0) {
    json_object_del(v, "counts");
    json_object_del(v, "sites");
    json_object_del(v, "votes");
    json_object_del(v, "correct");
  }
  return v;
}

static int
poll_create(HcSession *s, const HcMessage *m, json_t **result, HcWsFault *f)
{
  json_t *options = hc_msg_get(m, "options"), *correct = hc_msg_get(m, "correct"), *v, *p, *counts;
  gboolean multi = hc_msg_bool(m, "multi") == 1;
  gint64 id;
  size_t i;

  json_array_foreach(correct, i,
                     v) if (json_integer_value(v) >= (json_int_t)json_array_size(options))
  {
    hc_ws_fault(f, HC_WS_INVALID_ARGUMENT, "correct", "correct names an option that is not there");
    return -1;
  }
  if (correct && !multi && json_array_size(correct) > 1) {
    hc_ws_fault(f, HC_WS_INVALID_ARGUMENT, "correct",
                "a single-choice quiz has one correct option");
    return -1;
  }
  id = s->next_poll++;
  counts = json_array();
  for (i = 0; i < json_array_size(options); i++)
    json_array_append_new(counts, json_integer(0));
  p = json_pack("{s:I, s:s, s:O, s:b, s:b, s:O?, s:s, s:i, s:o, s:{}}", "id", (json_int_t)id,
                "question", hc_msg_str(m, "question"), "options", options, "multi", multi, "quiz",
                correct != NULL, "correct", correct, "state", "draft", "votes", 0, "counts", counts,
                "sites");
  g_hash_table_insert(s->polls, g_memdup2(&id, sizeof id), p);
  g_hash_table_insert(
    s->poll_voters, g_memdup2(&id, sizeof id),
    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)json_decref));
  hc_store_put_object(HC_STORE_POLL, s->id, id, p);
  *result = json_pack("{s:I, s:s, s:I}", "poll", (json_int_t)id, "state", "draft", "seq",
                      (json_int_t)hc_session_event(
                        s, "poll.created", json_pack("{s:o}", "poll", hc_poll_view(p, TRUE)),
                        HC_AUDIENCE_MODERATORS, NULL));
  return 0;
}

/* Adds delta to the count of each choice and to the voter's site. */
static void
poll_count(json_t *p, json_t *choices, const char *site, int delta)
{
  json_t *counts = json_object_get(p, "counts"), *sites = json_object_get(p, "sites"), *v;
  size_t i;

  json_array_foreach(choices, i, v)
  {
    size_t k = (size_t)json_integer_value(v);
    json_array_set_new(counts, k,
                       json_integer(json_integer_value(json_array_get(counts, k)) + delta));
  }
  json_object_set_new(sites, site,
                      json_integer(json_integer_value(json_object_get(sites, site)) + delta));
  if (json_integer_value(json_object_get(sites, site)) <= 0)
    json_object_del(sites, site);
  json_object_set_new(p, "votes",
                      json_integer(json_integer_value(json_object_get(p, "votes")) + delta));
}

static int
poll_vote(HcConn *c, HcSession *s, json_t *p, const HcMessage *m, json_t **result, HcWsFault *f)
{
  json_t *choices = hc_msg_get(m, "choices"), *v, *old;
  gint64 id = json_integer_value(json_object_get(p, "id")), seq;
  GHashTable *voters = g_hash_table_lookup(s->poll_voters, &id);
  size_t n = json_array_size(json_object_get(p, "options")), i;

  if (json_array_size(choices) < 1 ||
      (!json_is_true(json_object_get(p, "multi")) && json_array_size(choices) != 1)) {
    hc_ws_fault(f, HC_WS_INVALID_ARGUMENT, "choices", "choose %s",
                json_is_true(json_object_get(p, "multi")) ? "at least one option" : "one option");
    return -1;
  }
  json_array_foreach(choices, i, v) if ((size_t)json_integer_value(v) >= n)
  {
    hc_ws_fault(f, HC_WS_INVALID_ARGUMENT, "choices", "no such option");
    return -1;
  }
  /* A second vote replaces the first while the poll is open. */
  old = g_hash_table_lookup(voters, c->who.participant);
  if (old)
    poll_count(p, old, c->who.site, -1);
  poll_count(p, choices, c->who.site, +1);
  g_hash_table_insert(voters, g_strdup(c->who.participant), json_incref(choices));
  hc_store_poll_vote(s->id, id, c->who.participant, c->who.site, choices);
  hc_store_put_object(HC_STORE_POLL, s->id, id, p);
  seq =
    hc_session_event(s, "poll.voted",
                     json_pack("{s:I, s:O, s:O}", "poll", (json_int_t)id, "votes",
                               json_object_get(p, "votes"), "counts", json_object_get(p, "counts")),
                     HC_AUDIENCE_MODERATORS, NULL);
  *result = json_pack("{s:I, s:O, s:I}", "poll", (json_int_t)id, "choices", choices, "seq",
                      (json_int_t)seq);
  return 0;
}

int
hc_poll_handle(HcConn *c, const HcMessage *m, json_t **result, HcWsFault *f)
{
  static const struct {
    const char *type, *from, *to, *event;
  } steps[] = {
    {"poll.open", "draft", "open", "poll.opened"},
    {"poll.close", "open", "closed", "poll.closed"},
    {"poll.publish", "closed", "published", "poll.published"},
    {"poll.vote", "open", NULL, NULL},
  };
  HcSession *s = c->session;
  const char *type = m->spec->type, *state;
  gint64 id = hc_msg_int(m, "poll", 0), seq;
  json_t *p;

  if (strcmp(type, "poll.create") == 0)
    return poll_create(s, m, result, f);
  p = g_hash_table_lookup(s->polls, &id);
  state = p ? json_string_value(json_object_get(p, "state")) : NULL;
  if (!p || (!hc_conn_is_moderator(c) && strcmp(state, "draft") == 0)) {
    hc_ws_fault(f, HC_WS_NOT_FOUND, "poll", "no such poll");
    return -1;
  }
  for (guint i = 0; i < G_N_ELEMENTS(steps); i++) {
    if (strcmp(steps[i].type, type) != 0)
      continue;
    if (strcmp(state, steps[i].from) != 0) {
      hc_ws_fault(f, HC_WS_INVALID_STATE, "poll", "the poll is %s", state);
      return -1;
    }
    if (!steps[i].to)
      return poll_vote(c, s, p, m, result, f);
    json_object_set_new(p, "state", json_string(steps[i].to));
    hc_store_put_object(HC_STORE_POLL, s->id, id, p);
    seq = hc_session_event(s, steps[i].event, json_pack("{s:o}", "poll", hc_poll_view(p, FALSE)),
                           HC_AUDIENCE_ALL, NULL);
    *result = json_pack("{s:I, s:s, s:I}", "poll", (json_int_t)id, "state", steps[i].to, "seq",
                        (json_int_t)seq);
    return 0;
  }
  hc_ws_fault(f, HC_WS_INTERNAL, NULL, "no step for %s", type);
  return -1;
}

int
hc_session_configure(HcConn *c, const HcMessage *m, json_t **result, HcWsFault *f)
{
  HcSession *s = c->session;
  static const char *const keys[] = {"moderation", "qa_visibility", "chat", "slow_mode",
                                     "main_stream"};
  gboolean was_answered_only = hc_session_answered_only(s);
  gint64 seq;

  for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
    if (hc_msg_get(m, keys[i]))
      json_object_set(s->settings, keys[i], hc_msg_get(m, keys[i]));
  s->resnapshot = was_answered_only != hc_session_answered_only(s);
  seq = hc_session_event(s, "session.configured", json_pack("{s:O}", "settings", s->settings),
                         HC_AUDIENCE_ALL, NULL);
  *result = json_pack("{s:O, s:I}", "settings", s->settings, "seq", (json_int_t)seq);
  return 0;
}
