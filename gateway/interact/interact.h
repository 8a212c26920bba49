/* Interaction over WebSockets (/ws): Q&A, chat, hands, stage, polls,
 * presence, with a per-session event log stored in SQLite before it is
 * broadcast. Public API for main.c (init/shutdown), http/server.c (the lws
 * protocol) and http/api_interact.c (exports). Main thread only. */
#ifndef HC_INTERACT_INTERACT_H
#define HC_INTERACT_INTERACT_H

#include <glib.h>
#include <jansson.h>
#include <libwebsockets.h>

#include "core/config.h"

#define HC_INTERACT_PROTOCOL "hallcast-ws"

/* The [interact] configuration keys (declared in hc_config_new()). */
extern const HcConfigKey hc_interact_keys[];

/* Opens the store (DATA_DIR/hallcast.db) and loads every session. Must run
 * before the HTTP server starts. Error HC_EINTERNAL. */
gboolean hc_interact_init(HcConfig *cfg, const char *data_dir, GError **error);
/* Closes the store; call after the HTTP server stopped. */
void hc_interact_shutdown(void);

/* The lws protocol callback of "hallcast-ws" and its per-connection size
 * (an upper bound, checked at compile time). */
int hc_interact_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                            size_t len);
#define HC_INTERACT_CONN_SIZE 1024

/* Role of an accepted token, in increasing power. */
typedef enum {
  HC_ROLE_VIEWER = 0,
  HC_ROLE_SCHOOL,
  HC_ROLE_LECTURER,
  HC_ROLE_OPERATOR,
} HcRole;

typedef struct {
  HcRole role;
  char site[65];
  char name[260];
  char participant[330]; /* "site/name": one vote per participant */
} HcIdentity;

/* Checks a token and fills *who. The one place tokens are checked, so that
 * signed tokens can replace the development form "role:site:name". Error
 * HC_EUNAUTHORIZED with a message safe to show to the client. */
gboolean hc_interact_token_check(const char *token, HcIdentity *who, GError **error);
const char *hc_role_name(HcRole role);

/* The questions of a session for the export, in (votes desc, age) order:
 * a new JSON array, or NULL if no such session. */
json_t *hc_interact_export_questions(const char *session);

#endif
