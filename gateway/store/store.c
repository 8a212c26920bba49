/* SQLite persistence for the interaction subsystem (interact/): one
 * connection in WAL mode used by the main thread only, prepared statements
 * kept for the life of the connection. Errors are logged here once and
 * reported to callers as FALSE. */
#define G_LOG_DOMAIN "hc-store"

#include "store.h"

#include <sqlite3.h>
#include <string.h>

#include "core/error.h"

static sqlite3 *db;
static gboolean tx_failed; /* a statement failed since hc_store_begin() */

static const char schema[] =
  "CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
  "  settings TEXT NOT NULL, room TEXT NOT NULL);"
  "CREATE TABLE IF NOT EXISTS events (session TEXT NOT NULL, seq INTEGER NOT NULL,"
  "  type TEXT NOT NULL, audience INTEGER NOT NULL, author TEXT, body TEXT NOT NULL,"
  "  PRIMARY KEY (session, seq)) WITHOUT ROWID;"
  "CREATE TABLE IF NOT EXISTS questions (session TEXT NOT NULL, id INTEGER NOT NULL,"
  "  body TEXT NOT NULL, PRIMARY KEY (session, id)) WITHOUT ROWID;"
  "CREATE TABLE IF NOT EXISTS polls (session TEXT NOT NULL, id INTEGER NOT NULL,"
  "  body TEXT NOT NULL, PRIMARY KEY (session, id)) WITHOUT ROWID;"
  "CREATE TABLE IF NOT EXISTS chat (session TEXT NOT NULL, id INTEGER NOT NULL,"
  "  body TEXT NOT NULL, PRIMARY KEY (session, id)) WITHOUT ROWID;"
  "CREATE TABLE IF NOT EXISTS qa_votes (session TEXT NOT NULL, question INTEGER NOT NULL,"
  "  voter TEXT NOT NULL, PRIMARY KEY (session, question, voter)) WITHOUT ROWID;"
  "CREATE TABLE IF NOT EXISTS poll_votes (session TEXT NOT NULL, poll INTEGER NOT NULL,"
  "  voter TEXT NOT NULL, site TEXT NOT NULL, choices TEXT NOT NULL,"
  "  PRIMARY KEY (session, poll, voter)) WITHOUT ROWID;";

enum {
  ST_BEGIN,
  ST_COMMIT,
  ST_ROLLBACK,
  ST_PUT_SESSION,
  ST_PUT_EVENT,
  ST_PUT_QUESTION,
  ST_PUT_POLL,
  ST_PUT_CHAT,
  ST_DEL_QUESTION,
  ST_DEL_POLL,
  ST_DEL_CHAT,
  ST_QA_VOTE_ADD,
  ST_QA_VOTE_DEL,
  ST_POLL_VOTE,
  ST_PRUNE,
  ST_N,
};

static const char *const sql[ST_N] = {
  [ST_BEGIN] = "BEGIN IMMEDIATE",
  [ST_COMMIT] = "COMMIT",
  [ST_ROLLBACK] = "ROLLBACK",
  [ST_PUT_SESSION] = "INSERT OR REPLACE INTO sessions (id, seq, settings, room) VALUES (?,?,?,?)",
  [ST_PUT_EVENT] =
    "INSERT INTO events (session, seq, type, audience, author, body) VALUES (?,?,?,?,?,?)",
  [ST_PUT_QUESTION] = "INSERT OR REPLACE INTO questions (session, id, body) VALUES (?,?,?)",
  [ST_PUT_POLL] = "INSERT OR REPLACE INTO polls (session, id, body) VALUES (?,?,?)",
  [ST_PUT_CHAT] = "INSERT OR REPLACE INTO chat (session, id, body) VALUES (?,?,?)",
  [ST_DEL_QUESTION] = "DELETE FROM questions WHERE session=? AND id=?",
  [ST_DEL_POLL] = "DELETE FROM polls WHERE session=? AND id=?",
  [ST_DEL_CHAT] = "DELETE FROM chat WHERE session=? AND id=?",
  [ST_QA_VOTE_ADD] = "INSERT OR IGNORE INTO qa_votes (session, question, voter) VALUES (?,?,?)",
  [ST_QA_VOTE_DEL] = "DELETE FROM qa_votes WHERE session=? AND question=? AND voter=?",
  [ST_POLL_VOTE] =
    "INSERT OR REPLACE INTO poll_votes (session, poll, voter, site, choices) VALUES (?,?,?,?,?)",
  [ST_PRUNE] = "DELETE FROM events WHERE session=? AND seq<=?",
};

static sqlite3_stmt *stmts[ST_N];
static const char *const tables[HC_STORE_N_KINDS] = {"questions", "polls", "chat"};

static void
log_error(const char *what)
{
  g_warning("%s: %s", what, db ? sqlite3_errmsg(db) : "database not open");
}

/* Runs a prepared statement to completion and resets it. */
static gboolean
run(int st)
{
  int rc = sqlite3_step(stmts[st]);

  sqlite3_reset(stmts[st]);
  sqlite3_clear_bindings(stmts[st]);
  if (rc != SQLITE_DONE) {
    tx_failed = TRUE;
    log_error(sql[st]);
    return FALSE;
  }
  return TRUE;
}

static void
bind_text(sqlite3_stmt *s, int i, const char *v)
{
  if (v)
    sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null(s, i);
}

/* Binds a JSON document as compact text. */
static void
bind_json(sqlite3_stmt *s, int i, json_t *v)
{
  char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

  sqlite3_bind_text(s, i, text ? text : "null", -1, SQLITE_TRANSIENT);
  free(text);
}

static json_t *
column_json(sqlite3_stmt *s, int i)
{
  const char *text = (const char *)sqlite3_column_text(s, i);

  return text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
}

gboolean
hc_store_open(const char *path, gboolean full_sync, GError **error)
{
  char *errmsg = NULL;

  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
    goto fail;
  sqlite3_busy_timeout(db, 5000);
  if (sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL, &errmsg) != SQLITE_OK)
    goto fail;
  if (sqlite3_exec(db, full_sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL,
                   NULL, &errmsg) != SQLITE_OK)
    goto fail;
  if (sqlite3_exec(db, schema, NULL, NULL, &errmsg) != SQLITE_OK)
    goto fail;
  for (int i = 0; i < ST_N; i++)
    if (sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &stmts[i], NULL) != SQLITE_OK)
      goto fail;
  g_info("database %s open (WAL, synchronous=%s)", path, full_sync ? "full" : "normal");
  return TRUE;

fail:
  g_set_error(error, HC_ERROR, HC_EINTERNAL, "database %s: %s", path,
              errmsg ? errmsg : (db ? sqlite3_errmsg(db) : "cannot open"));
  sqlite3_free(errmsg);
  hc_store_close();
  return FALSE;
}

void
hc_store_close(void)
{
  for (int i = 0; i < ST_N; i++)
    g_clear_pointer(&stmts[i], sqlite3_finalize);
  if (db) {
    sqlite3_close(db);
    db = NULL;
  }
}

gboolean
hc_store_is_open(void)
{
  return db != NULL;
}

gboolean
hc_store_begin(void)
{
  tx_failed = FALSE;
  return db && run(ST_BEGIN);
}

gboolean
hc_store_commit(void)
{
  if (!db)
    return FALSE;
  if (tx_failed || !run(ST_COMMIT)) {
    hc_store_rollback();
    return FALSE;
  }
  return TRUE;
}

void
hc_store_rollback(void)
{
  if (db && !sqlite3_get_autocommit(db))
    run(ST_ROLLBACK);
}

gboolean
hc_store_put_session(const char *session, gint64 seq, json_t *settings, json_t *room)
{
  sqlite3_stmt *s = stmts[ST_PUT_SESSION];

  bind_text(s, 1, session);
  sqlite3_bind_int64(s, 2, seq);
  bind_json(s, 3, settings);
  bind_json(s, 4, room);
  return run(ST_PUT_SESSION);
}

gboolean
hc_store_put_event(const char *session, gint64 seq, const char *type, int audience,
                   const char *author, const char *body)
{
  sqlite3_stmt *s = stmts[ST_PUT_EVENT];

  bind_text(s, 1, session);
  sqlite3_bind_int64(s, 2, seq);
  bind_text(s, 3, type);
  sqlite3_bind_int(s, 4, audience);
  bind_text(s, 5, author);
  bind_text(s, 6, body);
  return run(ST_PUT_EVENT);
}

gboolean
hc_store_put_object(HcStoreKind kind, const char *session, gint64 id, json_t *body)
{
  int st = ST_PUT_QUESTION + kind;

  bind_text(stmts[st], 1, session);
  sqlite3_bind_int64(stmts[st], 2, id);
  bind_json(stmts[st], 3, body);
  return run(st);
}

gboolean
hc_store_delete_object(HcStoreKind kind, const char *session, gint64 id)
{
  int st = ST_DEL_QUESTION + kind;

  bind_text(stmts[st], 1, session);
  sqlite3_bind_int64(stmts[st], 2, id);
  return run(st);
}

gboolean
hc_store_qa_vote(const char *session, gint64 question, const char *voter, gboolean add)
{
  int st = add ? ST_QA_VOTE_ADD : ST_QA_VOTE_DEL;

  bind_text(stmts[st], 1, session);
  sqlite3_bind_int64(stmts[st], 2, question);
  bind_text(stmts[st], 3, voter);
  return run(st);
}

gboolean
hc_store_poll_vote(const char *session, gint64 poll, const char *voter, const char *site,
                   json_t *choices)
{
  sqlite3_stmt *s = stmts[ST_POLL_VOTE];

  bind_text(s, 1, session);
  sqlite3_bind_int64(s, 2, poll);
  bind_text(s, 3, voter);
  bind_text(s, 4, site);
  bind_json(s, 5, choices);
  return run(ST_POLL_VOTE);
}

gboolean
hc_store_prune_events(const char *session, gint64 upto)
{
  bind_text(stmts[ST_PRUNE], 1, session);
  sqlite3_bind_int64(stmts[ST_PRUNE], 2, upto);
  return run(ST_PRUNE);
}

/* Prepares a one-off query; NULL (logged) on error. */
static sqlite3_stmt *
query(const char *text)
{
  sqlite3_stmt *s = NULL;

  if (!db || sqlite3_prepare_v2(db, text, -1, &s, NULL) != SQLITE_OK) {
    log_error(text);
    return NULL;
  }
  return s;
}

void
hc_store_load_sessions(HcStoreSessionFunc func, gpointer data)
{
  sqlite3_stmt *s = query("SELECT id, seq, settings, room FROM sessions ORDER BY id");

  while (s && sqlite3_step(s) == SQLITE_ROW) {
    json_t *settings = column_json(s, 2), *room = column_json(s, 3);
    func((const char *)sqlite3_column_text(s, 0), sqlite3_column_int64(s, 1), settings, room, data);
    json_decref(settings);
    json_decref(room);
  }
  sqlite3_finalize(s);
}

void
hc_store_load_objects(HcStoreKind kind, const char *session, HcStoreObjectFunc func, gpointer data)
{
  char *text = g_strdup_printf("SELECT id, body FROM %s WHERE session=? ORDER BY id", tables[kind]);
  sqlite3_stmt *s = query(text);

  g_free(text);
  if (s)
    bind_text(s, 1, session);
  while (s && sqlite3_step(s) == SQLITE_ROW) {
    json_t *body = column_json(s, 1);
    if (body)
      func(sqlite3_column_int64(s, 0), body, data);
    json_decref(body);
  }
  sqlite3_finalize(s);
}

void
hc_store_load_votes(gboolean polls, const char *session, HcStoreVoteFunc func, gpointer data)
{
  sqlite3_stmt *s =
    query(polls ? "SELECT poll, voter, site, choices FROM poll_votes WHERE session=?"
                : "SELECT question, voter, NULL, NULL FROM qa_votes WHERE session=?");

  if (s)
    bind_text(s, 1, session);
  while (s && sqlite3_step(s) == SQLITE_ROW) {
    json_t *choices = polls ? column_json(s, 3) : NULL;
    func(sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
         (const char *)sqlite3_column_text(s, 2), choices, data);
    json_decref(choices);
  }
  sqlite3_finalize(s);
}

guint
hc_store_load_events(const char *session, gint64 since, HcStoreEventFunc func, gpointer data)
{
  sqlite3_stmt *s = query("SELECT seq, type, audience, author, body FROM events "
                          "WHERE session=? AND seq>? ORDER BY seq");
  guint n = 0;

  if (s) {
    bind_text(s, 1, session);
    sqlite3_bind_int64(s, 2, since);
  }
  while (s && sqlite3_step(s) == SQLITE_ROW) {
    func(sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
         sqlite3_column_int(s, 2), (const char *)sqlite3_column_text(s, 3),
         (const char *)sqlite3_column_text(s, 4), data);
    n++;
  }
  sqlite3_finalize(s);
  return n;
}

gint64
hc_store_first_seq(const char *session)
{
  sqlite3_stmt *s = query("SELECT MIN(seq) FROM events WHERE session=?");
  gint64 first = 0;

  if (s) {
    bind_text(s, 1, session);
    if (sqlite3_step(s) == SQLITE_ROW)
      first = sqlite3_column_int64(s, 0);
  }
  sqlite3_finalize(s);
  return first;
}
