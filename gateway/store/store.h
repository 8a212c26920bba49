/* Persistent state in SQLite (WAL) under the data folder: interaction
 * sessions, their event log, questions, votes, polls and chat. One writer,
 * the main thread; every public function is main-thread only. A change is
 * written between hc_store_begin() and hc_store_commit(). */
#ifndef HC_STORE_STORE_H
#define HC_STORE_STORE_H

#include <glib.h>
#include <jansson.h>

/* Tables of per-session objects whose body is a JSON document. */
typedef enum {
  HC_STORE_QUESTION = 0,
  HC_STORE_POLL,
  HC_STORE_CHAT,
  HC_STORE_N_KINDS,
} HcStoreKind;

/* Opens (creating if needed) PATH. full_sync: fsync every commit (survives
 * a power cut); otherwise a commit survives a crash of the process. Error
 * HC_EINTERNAL with SQLite's message. */
gboolean hc_store_open(const char *path, gboolean full_sync, GError **error);
/* Closes the database (a no-op when not open). */
void hc_store_close(void);
gboolean hc_store_is_open(void);

/* A transaction; hc_store_commit() returns FALSE (and rolls back) if it or
 * any write since hc_store_begin() failed. */
gboolean hc_store_begin(void);
gboolean hc_store_commit(void);
void hc_store_rollback(void);

/* Writes the session row (settings and hands are JSON documents, borrowed). */
gboolean hc_store_put_session(const char *session, gint64 seq, json_t *settings, json_t *room);
/* Appends one event. audience: 0 everyone, 1 moderators and author. */
gboolean hc_store_put_event(const char *session, gint64 seq, const char *type, int audience,
                            const char *author, const char *body);
/* Inserts or replaces an object (body borrowed). */
gboolean hc_store_put_object(HcStoreKind kind, const char *session, gint64 id, json_t *body);
gboolean hc_store_delete_object(HcStoreKind kind, const char *session, gint64 id);
/* Adds (add=TRUE) or removes a participant's vote on a question. */
gboolean hc_store_qa_vote(const char *session, gint64 question, const char *voter, gboolean add);
/* Records a participant's poll choices (a JSON array, borrowed). */
gboolean hc_store_poll_vote(const char *session, gint64 poll, const char *voter, const char *site,
                            json_t *choices);
/* Deletes events of SESSION with seq <= upto. */
gboolean hc_store_prune_events(const char *session, gint64 upto);

/* Loading at start. Callbacks get borrowed values valid during the call. */
typedef void (*HcStoreSessionFunc)(const char *session, gint64 seq, json_t *settings, json_t *room,
                                   gpointer data);
typedef void (*HcStoreObjectFunc)(gint64 id, json_t *body, gpointer data);
typedef void (*HcStoreVoteFunc)(gint64 id, const char *voter, const char *site, json_t *choices,
                                gpointer data);
typedef void (*HcStoreEventFunc)(gint64 seq, const char *type, int audience, const char *author,
                                 const char *body, gpointer data);

void hc_store_load_sessions(HcStoreSessionFunc func, gpointer data);
/* Objects of one kind in id order. */
void hc_store_load_objects(HcStoreKind kind, const char *session, HcStoreObjectFunc func,
                           gpointer data);
/* Q&A votes (choices NULL, site NULL) or poll votes of a session. */
void hc_store_load_votes(gboolean polls, const char *session, HcStoreVoteFunc func, gpointer data);
/* Events with seq > since in order; returns the number given to func. */
guint hc_store_load_events(const char *session, gint64 since, HcStoreEventFunc func, gpointer data);
/* Lowest seq still in the log for SESSION, or 0 if it has none. */
gint64 hc_store_first_seq(const char *session);

#endif
