/* Interaction sessions: the registry, loading from the store at start, the
 * event log (a change is stored in one transaction, then broadcast to the
 * connections that may see it), snapshots, replay with since, membership
 * (presence.c pushes it) and the media clock stamped on events. Called by ws.c and the handlers. */
#define G_LOG_DOMAIN "hc-interact"

#include <string.h>

#include "internal.h"
#include "media/stream.h"
#include "store/store.h"

#define CHAT_KEPT 200
#define VOTES_FLUSH_MS 250

typedef struct {
  HcWsMsg *msg;
  int audience;
  char *author;
} Pending;

static GHashTable *sessions; /* id -> HcSession* */
static gboolean votes_fire(gpointer data);
static gint64 seq_at_begin;

gint64
hc_now_ms(void)
{
  return g_get_real_time() / 1000;
}

static void
pending_free(gpointer p)
{
  Pending *e = p;

  hc_ws_msg_unref(e->msg);
  g_free(e->author);
  g_free(e);
}

static json_t *
default_settings(void)
{
  const HcInteractLimits *l = &hc_interact_limits;

  return json_pack("{s:b, s:s, s:b, s:i, s:s}", "moderation", l->moderation, "qa_visibility",
                   l->answered_only ? "answered" : "all", "chat", 1, "slow_mode", 0, "main_stream",
                   l->main_stream ? l->main_stream : "");
}

static void
session_free(gpointer p)
{
  HcSession *s = p;

  if (s->presence_timer)
    g_source_remove(s->presence_timer);
  if (s->votes_timer)
    g_source_remove(s->votes_timer);
  g_hash_table_unref(s->votes_dirty);
  g_free(s->id);
  json_decref(s->settings);
  g_hash_table_unref(s->questions);
  g_hash_table_unref(s->qa_voters);
  g_hash_table_unref(s->polls);
  g_hash_table_unref(s->poll_voters);
  g_queue_clear_full(&s->chat, (GDestroyNotify)json_decref);
  g_ptr_array_unref(s->hands);
  g_ptr_array_unref(s->stage);
  g_hash_table_unref(s->last_chat);
  g_hash_table_unref(s->conns);
  g_hash_table_unref(s->site_counts);
  g_hash_table_unref(s->presence_changed);
  g_ptr_array_unref(s->pending);
  g_free(s);
}

static HcSession *
session_new(const char *id, gint64 seq, json_t *settings, json_t *room)
{
  HcSession *s = g_new0(HcSession, 1);
  json_t *merged = default_settings(), *v;
  size_t i;

  s->id = g_strdup(id);
  s->seq = seq;
  if (json_is_object(settings))
    json_object_update_existing(merged, settings);
  s->settings = merged;
  s->questions =
    g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify)json_decref);
  s->qa_voters =
    g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify)g_hash_table_unref);
  s->polls =
    g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify)json_decref);
  s->poll_voters =
    g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, (GDestroyNotify)g_hash_table_unref);
  g_queue_init(&s->chat);
  s->next_question = s->next_poll = 1;
  /* Deleted chat messages leave no row: the counter is kept with the room. */
  s->next_chat = MAX(1, json_integer_value(json_object_get(room, "next_chat")));
  s->hands = g_ptr_array_new_with_free_func(g_free);
  s->stage = g_ptr_array_new_with_free_func(g_free);
  json_array_foreach(json_object_get(room, "hands"), i, v)
    g_ptr_array_add(s->hands, g_strdup(json_string_value(v)));
  json_array_foreach(json_object_get(room, "stage"), i, v)
    g_ptr_array_add(s->stage, g_strdup(json_string_value(v)));
  s->last_chat = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  s->conns = g_hash_table_new(NULL, NULL);
  s->site_counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  s->presence_changed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  s->votes_dirty = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  s->pending = g_ptr_array_new_with_free_func(pending_free);
  g_hash_table_insert(sessions, s->id, s);
  return s;
}

static json_t *
room_json(HcSession *s)
{
  json_t *hands = json_array(), *stage = json_array();

  for (guint i = 0; i < s->hands->len; i++)
    json_array_append_new(hands, json_string(s->hands->pdata[i]));
  for (guint i = 0; i < s->stage->len; i++)
    json_array_append_new(stage, json_string(s->stage->pdata[i]));
  return json_pack("{s:o, s:o, s:I}", "hands", hands, "stage", stage, "next_chat",
                   (json_int_t)s->next_chat);
}

/* Loading. */
static void
load_question(gint64 id, json_t *body, gpointer data)
{
  HcSession *s = data;

  g_hash_table_insert(s->questions, g_memdup2(&id, sizeof id), json_incref(body));
  s->next_question = MAX(s->next_question, id + 1);
}

static void
load_poll(gint64 id, json_t *body, gpointer data)
{
  HcSession *s = data;

  g_hash_table_insert(s->polls, g_memdup2(&id, sizeof id), json_incref(body));
  g_hash_table_insert(
    s->poll_voters, g_memdup2(&id, sizeof id),
    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)json_decref));
  s->next_poll = MAX(s->next_poll, id + 1);
}

static void
load_chat(gint64 id, json_t *body, gpointer data)
{
  HcSession *s = data;

  g_queue_push_tail(&s->chat, json_incref(body));
  if (s->chat.length > CHAT_KEPT)
    json_decref(g_queue_pop_head(&s->chat));
  s->next_chat = MAX(s->next_chat, id + 1);
}

static void
load_qa_vote(gint64 id, const char *voter, const char *site, json_t *choices, gpointer data)
{
  HcSession *s = data;
  GHashTable *set = g_hash_table_lookup(s->qa_voters, &id);

  if (!set) {
    set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_insert(s->qa_voters, g_memdup2(&id, sizeof id), set);
  }
  g_hash_table_add(set, g_strdup(voter));
}

static void
load_poll_vote(gint64 id, const char *voter, const char *site, json_t *choices, gpointer data)
{
  HcSession *s = data;
  GHashTable *voters = g_hash_table_lookup(s->poll_voters, &id);

  if (voters && choices)
    g_hash_table_insert(voters, g_strdup(voter), json_incref(choices));
}

static void
load_session(const char *id, gint64 seq, json_t *settings, json_t *room, gpointer data)
{
  HcSession *s = session_new(id, seq, settings, room);

  hc_store_load_objects(HC_STORE_QUESTION, id, load_question, s);
  hc_store_load_objects(HC_STORE_POLL, id, load_poll, s);
  hc_store_load_objects(HC_STORE_CHAT, id, load_chat, s);
  hc_store_load_votes(FALSE, id, load_qa_vote, s);
  hc_store_load_votes(TRUE, id, load_poll_vote, s);
  s->first_seq = hc_store_first_seq(id);
  g_info("session %s: loaded at seq %" G_GINT64_FORMAT " with %u questions, %u polls", id, seq,
         g_hash_table_size(s->questions), g_hash_table_size(s->polls));
}

void
hc_sessions_load(void)
{
  if (!sessions)
    sessions = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, session_free);
  hc_store_load_sessions(load_session, NULL);
}

void
hc_sessions_free(void)
{
  GHashTableIter it;
  gpointer s;

  /* Votes not yet announced: their event goes to the log now. */
  if (sessions) {
    g_hash_table_iter_init(&it, sessions);
    while (g_hash_table_iter_next(&it, NULL, &s))
      if (((HcSession *)s)->votes_timer) {
        g_source_remove(((HcSession *)s)->votes_timer);
        votes_fire(s);
      }
  }
  g_clear_pointer(&sessions, g_hash_table_unref);
}

HcSession *
hc_session_get(const char *id, gboolean create, HcWsFault *f)
{
  HcSession *s = sessions ? g_hash_table_lookup(sessions, id) : NULL;
  json_t *room;
  gboolean ok;

  if (s || !create) {
    if (!s && f)
      hc_ws_fault(f, HC_WS_NOT_FOUND, "session", "no such session");
    return s;
  }
  if (g_hash_table_size(sessions) >= hc_interact_limits.max_sessions) {
    hc_ws_fault(f, HC_WS_LIMIT_REACHED, "session", "too many sessions");
    return NULL;
  }
  s = session_new(id, 0, NULL, NULL);
  room = room_json(s);
  ok = hc_store_begin() && hc_store_put_session(id, 0, s->settings, room) && hc_store_commit();
  json_decref(room);
  if (!ok) {
    hc_store_rollback();
    g_hash_table_remove(sessions, id);
    hc_ws_fault(f, HC_WS_INTERNAL, NULL, "the session could not be stored");
    return NULL;
  }
  g_info("session %s: created", id);
  return s;
}

gboolean
hc_session_answered_only(HcSession *s)
{
  return g_strcmp0(json_string_value(json_object_get(s->settings, "qa_visibility")), "answered") ==
         0;
}

/* The media clock of the session's main stream (its pipeline's running
 * time), or the gateway's monotonic clock when the stream has none. */
static json_t *
clock_now(HcSession *s)
{
  const char *name = json_string_value(json_object_get(s->settings, "main_stream"));
  HcStream *st = name && *name ? hc_streams_lookup(name) : NULL;
  gint64 t;

  if (!st && (!name || !*name)) {
    GPtrArray *all = hc_streams_list();
    st = all && all->len ? all->pdata[0] : NULL;
  }
  t = st ? hc_stream_running_time(st) : -1;
  if (t >= 0)
    return json_pack("{s:s, s:s, s:f}", "source", "media", "stream", hc_stream_name(st), "t",
                     t / 1e9);
  return json_pack("{s:s, s:f}", "source", "monotonic", "t", g_get_monotonic_time() / 1e6);
}

gint64
hc_session_event(HcSession *s, const char *type, json_t *body, int audience, const char *author)
{
  json_t *ev = json_pack("{s:I, s:I, s:s, s:o}", "seq", (json_int_t)(s->seq + 1), "ts",
                         (json_int_t)hc_now_ms(), "type", type, "clock", clock_now(s));
  Pending *p = g_new0(Pending, 1);
  char *text;

  json_object_update(ev, body);
  json_decref(body);
  s->seq++;
  if (s->first_seq == 0)
    s->first_seq = s->seq;
  text = json_dumps(ev, JSON_COMPACT | JSON_REAL_PRECISION(10));
  p->msg = hc_ws_msg_new(text, strlen(text));
  p->audience = audience;
  p->author = g_strdup(author);
  hc_store_put_event(s->id, s->seq, type, audience, author, text); /* checked at commit */
  g_ptr_array_add(s->pending, p);
  free(text);
  json_decref(ev);
  return s->seq;
}

gboolean
hc_session_begin(HcSession *s)
{
  g_ptr_array_set_size(s->pending, 0);
  seq_at_begin = s->seq;
  return hc_store_begin();
}

void
hc_session_abort(HcSession *s)
{
  hc_store_rollback();
  g_ptr_array_set_size(s->pending, 0);
  s->seq = seq_at_begin;
}

gboolean
hc_session_sees(const HcConn *c, int audience, const char *author)
{
  return audience == HC_AUDIENCE_ALL || hc_conn_is_moderator(c) ||
         (author && strcmp(author, c->who.participant) == 0);
}

/* One event to the n connections that may see it, from two threads: the
 * connections a frame may go straight to are collected (the others take
 * the queued way here, keeping each connection's order) and split between
 * this thread and the sender thread (sender.c). */
static void
broadcast_split(Pending *p, gpointer *conns, guint n, HcConn **direct)
{
  guint k = 0;

  for (guint j = 0; j < n; j++) {
    HcConn *c = conns[j];

    if (j + 2 < n)
      __builtin_prefetch(conns[j + 2]);
    if (j + 1 < n)
      __builtin_prefetch(((HcConn *)conns[j + 1])->wsi);
    if (!hc_session_sees(c, p->audience, p->author))
      continue;
    if (hc_ws_direct(c))
      direct[k++] = c;
    else
      hc_ws_send(c, p->msg);
  }
  hc_ws_send_split(direct, k, p->msg);
}

/* Sends each pending event to the connections that may see it. The
 * connections are read in an array so the next ones can be fetched into
 * cache while one is written to (their state is the only random access of
 * a broadcast). Sending never closes a connection synchronously, so the
 * array stays valid. Events go out one after the other: a connection whose
 * socket did not take one has it queued, and so the next ones too. */
static void
broadcast_pending(HcSession *s)
{
  guint n, split = hc_interact_limits.split_sends;
  gpointer *conns = g_hash_table_get_keys_as_array(s->conns, &n);
  HcConn **direct = split && n >= split && hc_ws_split_useful() ? g_new(HcConn *, n) : NULL;

  for (guint i = 0; i < s->pending->len; i++) {
    Pending *p = s->pending->pdata[i];

    if (direct) {
      broadcast_split(p, conns, n, direct);
      continue;
    }
    for (guint j = 0; j < n; j++) {
      /* One write is a system call, microseconds: a step ahead is enough
       * (farther, the kernel's own work evicts what was fetched). */
      if (j + 2 < n)
        __builtin_prefetch(conns[j + 2]);
      if (j + 1 < n)
        __builtin_prefetch(((HcConn *)conns[j + 1])->wsi);
      if (hc_session_sees(conns[j], p->audience, p->author))
        hc_ws_send(conns[j], p->msg);
    }
  }
  g_free(direct);
  g_free(conns);
  g_ptr_array_set_size(s->pending, 0);
}

gboolean
hc_session_commit(HcSession *s)
{
  guint retain = hc_interact_limits.retain;
  json_t *room;
  gboolean ok = TRUE;
  GHashTableIter it;
  gpointer key;

  if (s->pending->len == 0) {
    /* Rows without an event (a vote: its event follows, batched). */
    if (!hc_store_commit()) {
      g_critical("session %s: a change could not be stored", s->id);
      return FALSE;
    }
    return TRUE;
  }
  room = room_json(s);
  ok = hc_store_put_session(s->id, s->seq, s->settings, room);
  json_decref(room);
  if (ok && s->seq - s->first_seq >= (gint64)(retain + retain / 8)) {
    ok = hc_store_prune_events(s->id, s->seq - retain);
    if (ok)
      s->first_seq = s->seq - retain + 1;
  }
  if (!ok || !hc_store_commit()) {
    hc_store_rollback();
    g_critical("session %s: a change could not be stored; memory is ahead of the database", s->id);
    g_ptr_array_set_size(s->pending, 0);
    return FALSE;
  }
  broadcast_pending(s);
  if (s->resnapshot) {
    s->resnapshot = FALSE;
    g_hash_table_iter_init(&it, s->conns);
    while (g_hash_table_iter_next(&it, &key, NULL))
      hc_session_send_snapshot(key);
  }
  return TRUE;
}

/* Q&A votes: each vote is stored (and acked) at once; the new counts go out
 * as one qa.votes event per VOTES_FLUSH_MS, so a vote storm in a big session
 * costs one broadcast per interval, not one per vote. */
static gboolean
votes_fire(gpointer data)
{
  HcSession *s = data;
  json_t *pub = json_array(), *mod = json_array();
  GHashTableIter it;
  gpointer key;

  s->votes_timer = 0;
  g_hash_table_iter_init(&it, s->votes_dirty);
  while (g_hash_table_iter_next(&it, &key, NULL)) {
    json_t *q = g_hash_table_lookup(s->questions, key);
    if (q)
      json_array_append_new(hc_question_public(s, q) ? pub : mod,
                            json_pack("{s:O, s:O}", "id", json_object_get(q, "id"), "votes",
                                      json_object_get(q, "votes")));
  }
  g_hash_table_remove_all(s->votes_dirty);
  if (json_array_size(pub) + json_array_size(mod) > 0 && hc_session_begin(s)) {
    if (json_array_size(pub))
      hc_session_event(s, "qa.votes", json_pack("{s:O}", "questions", pub), HC_AUDIENCE_ALL, NULL);
    if (json_array_size(mod))
      hc_session_event(s, "qa.votes", json_pack("{s:O}", "questions", mod), HC_AUDIENCE_MODERATORS,
                       NULL);
    hc_session_commit(s);
  }
  json_decref(pub);
  json_decref(mod);
  return G_SOURCE_REMOVE;
}

void
hc_session_votes_changed(HcSession *s, gint64 question)
{
  g_hash_table_add(s->votes_dirty, g_memdup2(&question, sizeof question));
  if (!s->votes_timer)
    s->votes_timer = g_timeout_add(VOTES_FLUSH_MS, votes_fire, s);
}

void
hc_session_attach(HcSession *s, HcConn *c)
{
  c->session = s;
  c->presence_behind = FALSE; /* its snapshot has the whole list */
  c->snapshot_behind = FALSE;
  g_hash_table_add(s->conns, c);
  hc_presence_count(s, c->who.site, 1);
}

void
hc_session_detach(HcConn *c)
{
  HcSession *s = c->session;

  if (!s)
    return;
  g_hash_table_remove(s->conns, c);
  c->session = NULL;
  c->snapshot_behind = FALSE;
  if (sessions)
    hc_presence_count(s, c->who.site, -1);
}

static json_t *
visible_chat(HcSession *s, HcConn *c)
{
  json_t *arr = json_array();

  for (GList *l = s->chat.head; l; l = l->next) {
    json_t *m = l->data;
    const char *author = json_string_value(json_object_get(m, "_author"));
    gboolean held = g_strcmp0(json_string_value(json_object_get(m, "state")), "held") == 0;

    if (!held || hc_session_sees(c, HC_AUDIENCE_MODERATORS, author))
      json_array_append_new(arr, hc_chat_view(m));
  }
  return arr;
}

static json_t *
visible_polls(HcSession *s, HcConn *c)
{
  json_t *arr = json_array();

  for (gint64 id = 1; id < s->next_poll; id++) {
    json_t *p = g_hash_table_lookup(s->polls, &id);
    gboolean draft;

    if (!p)
      continue;
    draft = g_strcmp0(json_string_value(json_object_get(p, "state")), "draft") == 0;
    if (!draft || hc_conn_is_moderator(c))
      json_array_append_new(arr, hc_poll_view(p, hc_conn_is_moderator(c)));
  }
  return arr;
}

json_t *
hc_session_snapshot(HcSession *s, HcConn *c)
{
  json_t *room = room_json(s);
  json_t *snap =
    json_pack("{s:s, s:I, s:O, s:o, s:o, s:O, s:O, s:o, s:o, s:{s:s, s:s, s:s}}", "session", s->id,
              "seq", (json_int_t)s->seq, "settings", s->settings, "questions",
              hc_session_questions(s, c), "chat", visible_chat(s, c), "hands",
              json_object_get(room, "hands"), "stage", json_object_get(room, "stage"), "polls",
              visible_polls(s, c), "presence", hc_presence_view(s, hc_conn_is_moderator(c)), "you",
              "role", hc_role_name(c->who.role), "site", c->who.site, "name", c->who.name);

  json_decref(room);
  return snap;
}

void
hc_session_send_snapshot(HcConn *c)
{
  HcSession *s = c->session;

  /* A snapshot pushed to a connection that is behind would count against
   * its queue bound: a client must never be closed for what the server
   * chose to resend. It waits; events meanwhile are queued as usual and
   * the snapshot, built when sent, has them all (its seq is the last). */
  if (!s || c->closing) {
    c->snapshot_behind = FALSE;
    return;
  }
  if (!hc_ws_idle(c)) {
    if (!c->snapshot_behind)
      g_debug("session %s: %s is behind, its snapshot waits", s->id, c->who.participant);
    c->snapshot_behind = TRUE;
    return;
  }
  c->snapshot_behind = FALSE;
  c->presence_behind = FALSE; /* the snapshot has the whole list */
  hc_ws_send_json(
    c, json_pack("{s:s, s:o}", "type", "session.snapshot", "state", hc_session_snapshot(s, c)));
}

typedef struct {
  HcConn *c;
  GPtrArray *msgs;
  gboolean needs_snapshot;
} Replay;

static void
replay_one(gint64 seq, const char *type, int audience, const char *author, const char *body,
           gpointer data)
{
  Replay *r = data;

  /* A visibility change can reveal older questions: only a snapshot shows them. */
  if (strcmp(type, "session.configured") == 0)
    r->needs_snapshot = TRUE;
  if (body && hc_session_sees(r->c, audience, author))
    g_ptr_array_add(r->msgs, hc_ws_msg_new(body, strlen(body)));
}

gboolean
hc_session_replay(HcSession *s, HcConn *c, gint64 since, guint *count)
{
  Replay r = {c, g_ptr_array_new_with_free_func((GDestroyNotify)hc_ws_msg_unref), FALSE};

  *count = 0;
  if (since > s->seq)
    goto snapshot;
  if (since < s->seq && (s->first_seq == 0 || since + 1 < s->first_seq))
    goto snapshot;
  hc_store_load_events(s->id, since, replay_one, &r);
  if (r.needs_snapshot)
    goto snapshot;
  for (guint i = 0; i < r.msgs->len; i++)
    hc_ws_send(c, r.msgs->pdata[i]);
  *count = r.msgs->len;
  g_ptr_array_unref(r.msgs);
  return TRUE;
snapshot:
  g_ptr_array_unref(r.msgs);
  return FALSE;
}
