/* Q&A and chat: the question state machine (pending -> published ->
 * highlighted -> answered, dismissed, reopen), one vote per participant,
 * the order by votes then age, and chat with slow mode and the keyword
 * filter that holds messages for review. Handlers called from ws.c. */
#define G_LOG_DOMAIN "hc-interact"

#include <string.h>

#include "internal.h"
#include "store/store.h"

static const char *
q_state(json_t *q)
{
  return json_string_value(json_object_get(q, "state"));
}

static gboolean
q_in(json_t *q, const char *states)
{
  char **words = g_strsplit(states, "|", -1);
  gboolean in = g_strv_contains((const char *const *)words, q_state(q));

  g_strfreev(words);
  return in;
}

static const char *
q_author(json_t *q)
{
  return json_string_value(json_object_get(q, "_author"));
}

gboolean
hc_question_public(HcSession *s, json_t *q)
{
  return q_in(q, hc_session_answered_only(s) ? "highlighted|answered"
                                             : "published|highlighted|answered");
}

/* A copy without the private "_" fields. */
static json_t *
strip(json_t *o)
{
  json_t *v = json_object();
  const char *key;
  json_t *val;

  json_object_foreach(o, key, val) if (key[0] != '_') json_object_set(v, key, val);
  return v;
}

json_t *
hc_question_view(HcSession *s, json_t *q, gboolean moderator)
{
  return strip(q);
}

json_t *
hc_chat_view(json_t *m)
{
  return strip(m);
}

static gint
by_votes_then_age(gconstpointer a, gconstpointer b)
{
  json_t *qa = *(json_t **)a, *qb = *(json_t **)b;
  json_int_t va = json_integer_value(json_object_get(qa, "votes"));
  json_int_t vb = json_integer_value(json_object_get(qb, "votes"));
  json_int_t ia = json_integer_value(json_object_get(qa, "id"));
  json_int_t ib = json_integer_value(json_object_get(qb, "id"));

  if (va != vb)
    return va > vb ? -1 : 1;
  return ia < ib ? -1 : ia > ib; /* ids grow with age: older first */
}

/* Questions c may see (NULL c: all), sorted. */
json_t *
hc_session_questions(HcSession *s, HcConn *c)
{
  GPtrArray *list = g_ptr_array_new();
  GHashTableIter it;
  gpointer q;
  json_t *arr = json_array();

  g_hash_table_iter_init(&it, s->questions);
  while (g_hash_table_iter_next(&it, NULL, &q))
    if (!c || hc_question_public(s, q) || hc_session_sees(c, HC_AUDIENCE_MODERATORS, q_author(q)))
      g_ptr_array_add(list, q);
  g_ptr_array_sort(list, by_votes_then_age);
  for (guint i = 0; i < list->len; i++)
    json_array_append_new(arr, hc_question_view(s, list->pdata[i], FALSE));
  g_ptr_array_unref(list);
  return arr;
}

json_t *
hc_interact_export_questions(const char *session)
{
  HcSession *s = hc_session_get(session, FALSE, NULL);

  return s ? hc_session_questions(s, NULL) : NULL;
}

/* Stores q and records event TYPE about it; was_public: before the change. */
static gint64
q_event(HcSession *s, const char *type, json_t *q, gboolean was_public, json_t *previous)
{
  gint64 id = json_integer_value(json_object_get(q, "id"));
  gboolean pub = was_public || hc_question_public(s, q);
  json_t *body = json_pack("{s:o}", "question", hc_question_view(s, q, FALSE));

  hc_store_put_object(HC_STORE_QUESTION, s->id, id, q);
  if (previous)
    json_object_set_new(body, "previous", hc_question_view(s, previous, FALSE));
  return hc_session_event(s, type, body, pub ? HC_AUDIENCE_ALL : HC_AUDIENCE_MODERATORS,
                          q_author(q));
}

int
hc_qa_ask(HcConn *c, const HcMessage *m, json_t **result, HcWsFault *f)
{
  HcSession *s = c->session;
  gint64 id = s->next_question++;
  gboolean anonymous = hc_msg_bool(m, "anonymous") == 1;
  gboolean moderated =
    json_is_true(json_object_get(s->settings, "moderation")) && !hc_conn_is_moderator(c);
  json_t *q = json_pack("{s:I, s:s, s:s, s:i, s:b, s:s?, s:s?, s:I, s:n, s:n, s:b, s:s}", "id",
                        (json_int_t)id, "text", hc_msg_str(m, "text"), "state",
                        moderated ? "pending" : "published", "votes", 0, "anonymous", anonymous,
                        "site", anonymous ? NULL : c->who.site, "name",
                        anonymous ? NULL : c->who.name, "asked", (json_int_t)hc_now_ms(),
                        "answered", "answer", "edited", 0, "_author", c->who.participant);
  gint64 seq;

  g_hash_table_insert(s->questions, g_memdup2(&id, sizeof id), q);
  seq = q_event(s, "qa.asked", q, FALSE, NULL);
  *result = json_pack("{s:I, s:s, s:I}", "question", (json_int_t)id, "state", q_state(q), "seq",
                      (json_int_t)seq);
  return 0;
}

/* The question named by the message, if c may see it. */
static json_t *
find_question(HcConn *c, const HcMessage *m, HcWsFault *f)
{
  gint64 id = hc_msg_int(m, "question", 0);
  json_t *q = g_hash_table_lookup(c->session->questions, &id);

  if (!q || !(hc_question_public(c->session, q) ||
              hc_session_sees(c, HC_AUDIENCE_MODERATORS, q_author(q)))) {
    hc_ws_fault(f, HC_WS_NOT_FOUND, "question", "no such question");
    return NULL;
  }
  return q;
}

int
hc_qa_vote(HcConn *c, const HcMessage *m, json_t **result, HcWsFault *f)
{
  HcSession *s = c->session;
  gboolean add = strcmp(m->spec->type, "qa.vote") == 0;
  json_t *q = find_question(c, m, f);
  gint64 id = hc_msg_int(m, "question", 0);
  GHashTable *voters;
  json_int_t votes;

  if (!q)
    return -1;
  if (!q_in(q, "published|highlighted")) {
    hc_ws_fault(f, HC_WS_INVALID_STATE, "question", "only open questions take votes");
    return -1;
  }
  voters = g_hash_table_lookup(s->qa_voters, &id);
  if (!voters) {
    voters = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_insert(s->qa_voters, g_memdup2(&id, sizeof id), voters);
  }
  if (add == g_hash_table_contains(voters, c->who.participant)) {
    if (add)
      hc_ws_fault(f, HC_WS_ALREADY_VOTED, "question", "one vote per participant");
    else
      hc_ws_fault(f, HC_WS_INVALID_STATE, "question", "you have not voted for this question");
    return -1;
  }
  if (add)
    g_hash_table_add(voters, g_strdup(c->who.participant));
  else
    g_hash_table_remove(voters, c->who.participant);
  votes = g_hash_table_size(voters);
  json_object_set_new(q, "votes", json_integer(votes));
  hc_store_qa_vote(s->id, id, c->who.participant, add);
  hc_store_put_object(HC_STORE_QUESTION, s->id, id, q);
  hc_session_votes_changed(s, id);
  *result = json_pack("{s:I, s:I}", "question", (json_int_t)id, "votes", votes);
  return 0;
}

typedef struct {
  const char *type, *from, *to, *event;
} Transition;

static const Transition transitions[] = {
  {"qa.approve", "pending", "published", "qa.approved"},
  {"qa.dismiss", "pending|published|highlighted|answered", "dismissed", "qa.dismissed"},
  {"qa.reopen", "dismissed|answered", "published", "qa.reopened"},
  {"qa.highlight", "pending|published|answered", "highlighted", "qa.highlighted"},
  {"qa.answer", "pending|published|highlighted", "answered", "qa.answered"},
  {"qa.edit", "pending|published|highlighted|answered|dismissed", NULL, "qa.edited"},
};

/* The question highlighted now, other than except, or NULL. */
static json_t *
highlighted(HcSession *s, json_t *except)
{
  GHashTableIter it;
  gpointer q;

  g_hash_table_iter_init(&it, s->questions);
  while (g_hash_table_iter_next(&it, NULL, &q))
    if (q != except && g_strcmp0(q_state(q), "highlighted") == 0)
      return q;
  return NULL;
}

int
hc_qa_moderate(HcConn *c, const HcMessage *m, json_t **result, HcWsFault *f)
{
  HcSession *s = c->session;
  const Transition *t = NULL;
  json_t *q = find_question(c, m, f), *prev = NULL;
  gboolean was_public;
  gint64 seq;

  if (!q)
    return -1;
  for (guint i = 0; i < G_N_ELEMENTS(transitions); i++)
    if (strcmp(transitions[i].type, m->spec->type) == 0)
      t = &transitions[i];
  if (!q_in(q, t->from)) {
    hc_ws_fault(f, HC_WS_INVALID_STATE, "question", "a %s question cannot take %s", q_state(q),
                t->type);
    return -1;
  }
  was_public = hc_question_public(s, q);
  if (t->to && strcmp(t->to, "highlighted") == 0 && (prev = highlighted(s, q))) {
    /* At most one question is being answered: the previous one goes back. */
    json_object_set_new(prev, "state", json_string("published"));
    hc_store_put_object(HC_STORE_QUESTION, s->id, json_integer_value(json_object_get(prev, "id")),
                        prev);
  }
  if (t->to)
    json_object_set_new(q, "state", json_string(t->to));
  if (strcmp(t->type, "qa.answer") == 0) {
    json_object_set_new(q, "answered", json_integer(hc_now_ms()));
    if (hc_msg_str(m, "text"))
      json_object_set_new(q, "answer", json_string(hc_msg_str(m, "text")));
  } else if (strcmp(t->type, "qa.reopen") == 0) {
    json_object_set_new(q, "answered", json_null());
  } else if (strcmp(t->type, "qa.edit") == 0) {
    json_object_set_new(q, "text", json_string(hc_msg_str(m, "text")));
    json_object_set_new(q, "edited", json_true());
  }
  seq = q_event(s, t->event, q, was_public || prev, prev);
  *result = json_pack("{s:O, s:s, s:I}", "question", json_object_get(q, "id"), "state", q_state(q),
                      "seq", (json_int_t)seq);
  return 0;
}

/* Chat. */
static gboolean
held_by_filter(const char *text)
{
  char **kw = hc_interact_limits.keywords;
  char *folded;
  gboolean held = FALSE;

  if (!kw || !kw[0])
    return FALSE;
  folded = g_utf8_casefold(text, -1);
  for (int i = 0; kw[i] && !held; i++)
    held = kw[i][0] && strstr(folded, kw[i]) != NULL;
  g_free(folded);
  return held;
}

int
hc_chat_send(HcConn *c, const HcMessage *m, json_t **result, HcWsFault *f)
{
  HcSession *s = c->session;
  gint64 slow = json_integer_value(json_object_get(s->settings, "slow_mode")) * G_USEC_PER_SEC;
  gint64 now = g_get_monotonic_time(), *last, id, seq;
  const char *text = hc_msg_str(m, "text");
  gboolean held;
  json_t *msg;

  if (!json_is_true(json_object_get(s->settings, "chat"))) {
    hc_ws_fault(f, HC_WS_CHAT_DISABLED, NULL, "chat is turned off in this session");
    return -1;
  }
  last = g_hash_table_lookup(s->last_chat, c->who.participant);
  if (slow > 0 && !hc_conn_is_moderator(c) && last && now - *last < slow) {
    hc_ws_fault(f, HC_WS_RATE_LIMITED, NULL, "slow mode: one message every %" G_GINT64_FORMAT " s",
                slow / G_USEC_PER_SEC);
    f->retry_after_ms = (slow - (now - *last)) / 1000 + 1;
    return -1;
  }
  g_hash_table_insert(s->last_chat, g_strdup(c->who.participant), g_memdup2(&now, sizeof now));
  held = !hc_conn_is_moderator(c) && held_by_filter(text);
  id = s->next_chat++;
  msg = json_pack("{s:I, s:s, s:s, s:s, s:s, s:I, s:s}", "id", (json_int_t)id, "text", text, "site",
                  c->who.site, "name", c->who.name, "state", held ? "held" : "published", "ts",
                  (json_int_t)hc_now_ms(), "_author", c->who.participant);
  g_queue_push_tail(&s->chat, msg);
  if (s->chat.length > 200)
    json_decref(g_queue_pop_head(&s->chat));
  hc_store_put_object(HC_STORE_CHAT, s->id, id, msg);
  seq = hc_session_event(s, "chat.message", json_pack("{s:o}", "message", hc_chat_view(msg)),
                         held ? HC_AUDIENCE_MODERATORS : HC_AUDIENCE_ALL, c->who.participant);
  *result = json_pack("{s:I, s:s, s:I}", "message", (json_int_t)id, "state",
                      held ? "held" : "published", "seq", (json_int_t)seq);
  return 0;
}

int
hc_chat_moderate(HcConn *c, const HcMessage *m, json_t **result, HcWsFault *f)
{
  HcSession *s = c->session;
  gint64 id = hc_msg_int(m, "message", 0), seq;
  GList *l;
  json_t *msg = NULL;

  for (l = s->chat.head; l; l = l->next)
    if (json_integer_value(json_object_get(l->data, "id")) == id)
      break;
  if (!l) {
    hc_ws_fault(f, HC_WS_NOT_FOUND, "message", "no such recent message");
    return -1;
  }
  msg = l->data;
  if (strcmp(m->spec->type, "chat.delete") == 0) {
    const char *state = json_string_value(json_object_get(msg, "state"));
    int audience = g_strcmp0(state, "held") == 0 ? HC_AUDIENCE_MODERATORS : HC_AUDIENCE_ALL;
    char *author = g_strdup(json_string_value(json_object_get(msg, "_author")));
    g_queue_delete_link(&s->chat, l);
    json_decref(msg);
    hc_store_delete_object(HC_STORE_CHAT, s->id, id);
    seq = hc_session_event(s, "chat.deleted", json_pack("{s:I}", "message", (json_int_t)id),
                           audience, author);
    g_free(author);
  } else {
    if (g_strcmp0(json_string_value(json_object_get(msg, "state")), "held") != 0) {
      hc_ws_fault(f, HC_WS_INVALID_STATE, "message", "only held messages can be approved");
      return -1;
    }
    json_object_set_new(msg, "state", json_string("published"));
    hc_store_put_object(HC_STORE_CHAT, s->id, id, msg);
    seq = hc_session_event(s, "chat.approved", json_pack("{s:o}", "message", hc_chat_view(msg)),
                           HC_AUDIENCE_ALL, NULL);
  }
  *result = json_pack("{s:I, s:I}", "message", (json_int_t)id, "seq", (json_int_t)seq);
  return 0;
}
