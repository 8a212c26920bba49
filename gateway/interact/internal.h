/* Types shared by the files of interact/: connections, sessions, the
 * message table and error codes. Not for use outside gateway/interact/
 * (except the fuzz target and unit tests). Main thread only. */
#ifndef HC_INTERACT_INTERNAL_H
#define HC_INTERACT_INTERNAL_H

#include <sys/types.h>

#include "interact.h"

/* Error codes sent to clients: {"type":"error","error":{"code":NAME,...}}. */
typedef enum {
  HC_WS_OK = 0,
  HC_WS_INVALID_JSON,
  HC_WS_INVALID_MESSAGE,
  HC_WS_UNKNOWN_TYPE,
  HC_WS_INVALID_ARGUMENT,
  HC_WS_UNAUTHORIZED,
  HC_WS_FORBIDDEN,
  HC_WS_NOT_JOINED,
  HC_WS_NOT_FOUND,
  HC_WS_INVALID_STATE,
  HC_WS_ALREADY_VOTED,
  HC_WS_RATE_LIMITED,
  HC_WS_CHAT_DISABLED,
  HC_WS_LIMIT_REACHED,
  HC_WS_INTERNAL,
  HC_WS_N_ERRORS,
} HcWsError;

const char *hc_ws_error_name(HcWsError code);

/* A failed request: the code, a message for people, the field at fault. */
typedef struct {
  HcWsError code;
  char message[160];
  const char *field;     /* static string or NULL */
  gint64 retry_after_ms; /* rate_limited only */
} HcWsFault;

void hc_ws_fault(HcWsFault *f, HcWsError code, const char *field, const char *fmt, ...)
  G_GNUC_PRINTF(4, 5);

enum { HC_RATE_MSG = 0, HC_RATE_ASK, HC_RATE_VOTE, HC_RATE_CHAT, HC_RATE_N };

typedef struct {
  gsize max_message; /* bytes of one WebSocket message */
  glong max_text;    /* characters of a question, answer or chat message */
  gsize max_queue;   /* bytes queued to one client before it is closed */
  guint max_bad;     /* invalid messages before the connection is closed */
  guint max_site_conns;
  guint max_sessions;
  guint retain;                             /* events kept per session */
  double rate[HC_RATE_N], burst[HC_RATE_N]; /* per second, and bucket size */
  gboolean dev_tokens;
  gboolean moderation;    /* default for new sessions */
  gboolean answered_only; /* default for new sessions */
  char *main_stream;      /* default for new sessions, may be empty */
  char **keywords;        /* casefolded, held for review */
  guint presence_ms;
  guint split_sends; /* broadcasts to this many connections use two threads; 0: never */
} HcInteractLimits;

extern HcInteractLimits hc_interact_limits;

typedef struct HcSession HcSession;
typedef struct HcConn HcConn;

/* One WebSocket connection (lws per-session data, zeroed by lws). What a
 * broadcast reads of every connection comes first, in one cache line: a
 * broadcast to 10,000 classrooms otherwise waits on several misses each. */
struct HcConn {
  struct lws *wsi;
  int fd;     /* the socket, -1 with TLS (then lws writes) */
  GQueue out; /* of HcWsMsg*, oldest first */
  gsize out_bytes;
  gboolean closing;         /* close once the queue is written */
  gboolean close_sent;      /* the closing handshake has started */
  gboolean lws_holding;     /* lws may still hold part of our last write */
  gboolean rx_paused;       /* reading stopped until the queue drains */
  gboolean presence_behind; /* missed a presence push: the next is the whole list */
  gboolean snapshot_behind; /* owed a session.snapshot, sent once its queue drains */
  int close_code;
  gboolean authed;
  HcIdentity who;
  HcSession *session;
  double tokens[HC_RATE_N];
  gint64 refilled_us[HC_RATE_N];
  guint bad;
  GByteArray *rx;
  char close_reason[64];
};

/* A message to send, shared by every recipient: its whole WebSocket frame
 * (a server's frames are unmasked: the same bytes for every client), built
 * once, the header in the LWS_PRE bytes before the text. */
typedef struct {
  gint ref;
  gsize len;            /* of the text */
  unsigned char *frame; /* header then text, inside data */
  gsize frame_len;
  unsigned char data[];
} HcWsMsg;

HcWsMsg *hc_ws_msg_new(const char *text, gsize len);
HcWsMsg *hc_ws_msg_from_json(json_t *obj); /* obj borrowed */
void hc_ws_msg_unref(HcWsMsg *m);
/* Queues m (a new reference) for c; a client over its queue bound is closed. */
void hc_ws_send(HcConn *c, HcWsMsg *m);
void hc_ws_send_json(HcConn *c, json_t *obj); /* steals obj */
/* TRUE when nothing waits to be written to c (a message sent now goes out
 * at once, never queued); otherwise asks lws to tell when it has written
 * what it holds. */
gboolean hc_ws_idle(HcConn *c);
/* TRUE when a message for c may go straight to its socket now: a plain
 * socket, nothing queued, nothing held by lws, not closing. */
gboolean hc_ws_direct(HcConn *c);
ssize_t hc_ws_frame_send(int fd, const HcWsMsg *m); /* any thread */
int hc_ws_frame_rest(HcConn *c, HcWsMsg *m, ssize_t sent);
void hc_ws_kill(HcConn *c);
/* Sends m to the n direct connections in conns (hc_ws_direct held for each
 * just before), the first half from the sender thread, the rest from this
 * one; returns once both are done and every remainder or error was handed
 * to lws (sender.c). */
void hc_ws_send_split(HcConn **conns, guint n, HcWsMsg *m);
gboolean hc_ws_split_useful(void); /* this process may run on two CPUs or more */
void hc_ws_sender_stop(void);
gboolean hc_conn_is_moderator(const HcConn *c);

/* A parsed, validated request. */
typedef struct HcMessageSpec HcMessageSpec;
typedef struct {
  const HcMessageSpec *spec;
  json_t *root; /* owned */
  json_t *id;   /* borrowed from root, may be NULL */
} HcMessage;

typedef int (*HcHandler)(HcConn *c, const HcMessage *m, json_t **result, HcWsFault *f);

struct HcMessageSpec {
  const char *type;
  HcRole min_role;
  gboolean needs_session;
  int rate; /* HC_RATE_* class besides HC_RATE_MSG, or -1 */
  const struct HcField *fields;
  HcHandler handler;
};

/* Parses and validates one text message against the message table. On
 * error fills *f and, when the envelope was readable, m->id (so the error
 * can answer it); the caller clears m with hc_message_clear() either way. */
gboolean hc_message_parse(const char *data, gsize len, HcMessage *m, HcWsFault *f);
void hc_message_clear(HcMessage *m);

/* Field accessors for handlers (fields were validated). */
const char *hc_msg_str(const HcMessage *m, const char *field);
gint64 hc_msg_int(const HcMessage *m, const char *field, gint64 def);
int hc_msg_bool(const HcMessage *m, const char *field); /* -1 if absent */
json_t *hc_msg_get(const HcMessage *m, const char *field);

/* Sessions (session.c). */
struct HcSession {
  char *id;
  gint64 seq, first_seq;
  json_t *settings;        /* moderation, qa_visibility, chat, slow_mode, main_stream */
  GHashTable *questions;   /* id -> json object (with "_" private fields) */
  GHashTable *qa_voters;   /* id -> GHashTable set of participants */
  GHashTable *polls;       /* id -> json object */
  GHashTable *poll_voters; /* id -> GHashTable participant -> json choices */
  GQueue chat;             /* json objects, oldest first, bounded */
  gint64 next_question, next_poll, next_chat;
  GPtrArray *hands, *stage;     /* sites, in order */
  GHashTable *last_chat;        /* participant -> gint64* monotonic us of last message */
  GHashTable *conns;            /* HcConn* set */
  GHashTable *site_counts;      /* site -> connections of the site in the session */
  GHashTable *presence_changed; /* sites whose count changed since the last push */
  gboolean presence_dirty;
  guint presence_timer;
  GHashTable *votes_dirty; /* question ids whose count changed since the last qa.votes */
  guint votes_timer;
  GPtrArray *pending;  /* events of the current change, json */
  gboolean resnapshot; /* after commit, send every client a fresh snapshot */
};

enum { HC_AUDIENCE_ALL = 0, HC_AUDIENCE_MODERATORS = 1 };

HcSession *hc_session_get(const char *id, gboolean create, HcWsFault *f);
/* Records an event of the current change (body stolen; seq, ts, clock and
 * type added). audience: HC_AUDIENCE_*; author may be NULL. Returns the seq. */
gint64 hc_session_event(HcSession *s, const char *type, json_t *body, int audience,
                        const char *author);
/* Begins / commits a change: commit stores the pending events and rows in
 * one transaction and only then broadcasts them. FALSE if the store failed. */
gboolean hc_session_begin(HcSession *s);
gboolean hc_session_commit(HcSession *s);
void hc_session_abort(HcSession *s);
/* A question's vote count changed (stored): announced in a batched qa.votes event. */
void hc_session_votes_changed(HcSession *s, gint64 question);
void hc_session_attach(HcSession *s, HcConn *c);
void hc_session_detach(HcConn *c);
/* The state as c may see it. */
json_t *hc_session_snapshot(HcSession *s, HcConn *c);
/* Sends c a session.snapshot of its session now if nothing waits to be
 * written to it; otherwise marks c (snapshot_behind) and ws.c calls again
 * once its queue has drained. The snapshot is built when it is sent, after
 * every event queued before it, so it never counts against max_queue and
 * its seq is the last event's. Main thread only. */
void hc_session_send_snapshot(HcConn *c);
/* Presence (presence.c): a connection of site more (delta 1) or less (-1),
 * pushed debounced; the view in a snapshot (moderators: every site). */
void hc_presence_count(HcSession *s, const char *site, int delta);
json_t *hc_presence_view(HcSession *s, gboolean moderator);
/* Sends c the events after since it may see; FALSE if since is outside the
 * retained log (the caller sends a snapshot). *count is set. */
gboolean hc_session_replay(HcSession *s, HcConn *c, gint64 since, guint *count);
gboolean hc_session_sees(const HcConn *c, int audience, const char *author);
gboolean hc_session_answered_only(HcSession *s);

/* Views (state.c): copies without private fields, as c may see them. */
json_t *hc_question_view(HcSession *s, json_t *q, gboolean moderator);
gboolean hc_question_public(HcSession *s, json_t *q);
json_t *hc_poll_view(json_t *p, gboolean moderator);
json_t *hc_chat_view(json_t *m);
json_t *hc_session_questions(HcSession *s, HcConn *c); /* sorted view list */

/* Handlers (qa.c, room.c). */
int hc_qa_ask(HcConn *, const HcMessage *, json_t **, HcWsFault *);
int hc_qa_vote(HcConn *, const HcMessage *, json_t **, HcWsFault *);
int hc_qa_moderate(HcConn *, const HcMessage *, json_t **, HcWsFault *);
int hc_chat_send(HcConn *, const HcMessage *, json_t **, HcWsFault *);
int hc_chat_moderate(HcConn *, const HcMessage *, json_t **, HcWsFault *);
int hc_hand_handle(HcConn *, const HcMessage *, json_t **, HcWsFault *);
int hc_stage_handle(HcConn *, const HcMessage *, json_t **, HcWsFault *);
int hc_poll_handle(HcConn *, const HcMessage *, json_t **, HcWsFault *);
int hc_session_configure(HcConn *, const HcMessage *, json_t **, HcWsFault *);
int hc_ws_hello(HcConn *, const HcMessage *, json_t **, HcWsFault *);
int hc_ws_join(HcConn *, const HcMessage *, json_t **, HcWsFault *);
int hc_ws_leave(HcConn *, const HcMessage *, json_t **, HcWsFault *);
int hc_ws_ping(HcConn *, const HcMessage *, json_t **, HcWsFault *);

/* Loading and shutdown of sessions (session.c). */
void hc_sessions_load(void);
void hc_sessions_free(void);
gint64 hc_now_ms(void);

#endif
