/* The WebSocket message table and its validator: every request type, the
 * roles that may send it, its rate class and a declarative list of fields.
 * hc_message_parse() takes hostile bytes (fuzzed in tests/fuzz); handlers
 * only ever see messages that passed it. Called from ws.c. */
#define G_LOG_DOMAIN "hc-interact"

#include <stdio.h>
#include <string.h>

#include "internal.h"

typedef enum {
  F_NAME, /* [A-Za-z0-9_-]{1,64} */
  F_TEXT, /* user text: 1..max_text characters, no control characters but \n \t */
  F_ID,   /* integer 1..2^53 */
  F_SEQ,  /* integer 0..2^53 */
  F_BOOL,
  F_ENUM,    /* one of choices "a|b" */
  F_OPTIONS, /* array of 2..max texts */
  F_CHOICES, /* array of 0..max distinct integers 0..31 */
  F_TOKEN,   /* string 1..1024 bytes */
  F_SECONDS, /* integer 0..max */
} FieldKind;

struct HcField {
  const char *name;
  FieldKind kind;
  gboolean required;
  const char *choices;
  gint64 max;
};

#define END                                                                                        \
  {                                                                                                \
    NULL, 0, FALSE, NULL, 0                                                                        \
  }
#define MAX_OPTIONS 10
#define MAX_ID ((gint64)1 << 53)

static const struct HcField f_none[] = {END};
static const struct HcField f_hello[] = {{"token", F_TOKEN, TRUE, NULL, 0}, END};
static const struct HcField f_join[] = {
  {"session", F_NAME, TRUE, NULL, 0}, {"since", F_SEQ, FALSE, NULL, 0}, END};
static const struct HcField f_configure[] = {
  {"moderation", F_BOOL, FALSE, NULL, 0},  {"qa_visibility", F_ENUM, FALSE, "all|answered", 0},
  {"chat", F_BOOL, FALSE, NULL, 0},        {"slow_mode", F_SECONDS, FALSE, NULL, 3600},
  {"main_stream", F_NAME, FALSE, NULL, 0}, END};
static const struct HcField f_ask[] = {
  {"text", F_TEXT, TRUE, NULL, 0}, {"anonymous", F_BOOL, FALSE, NULL, 0}, END};
static const struct HcField f_question[] = {{"question", F_ID, TRUE, NULL, 0}, END};
static const struct HcField f_answer[] = {
  {"question", F_ID, TRUE, NULL, 0}, {"text", F_TEXT, FALSE, NULL, 0}, END};
static const struct HcField f_edit[] = {
  {"question", F_ID, TRUE, NULL, 0}, {"text", F_TEXT, TRUE, NULL, 0}, END};
static const struct HcField f_chat[] = {{"text", F_TEXT, TRUE, NULL, 0}, END};
static const struct HcField f_chat_id[] = {{"message", F_ID, TRUE, NULL, 0}, END};
static const struct HcField f_site_opt[] = {{"site", F_NAME, FALSE, NULL, 0}, END};
static const struct HcField f_site[] = {{"site", F_NAME, TRUE, NULL, 0}, END};
static const struct HcField f_poll_create[] = {{"question", F_TEXT, TRUE, NULL, 0},
                                               {"options", F_OPTIONS, TRUE, NULL, MAX_OPTIONS},
                                               {"multi", F_BOOL, FALSE, NULL, 0},
                                               {"correct", F_CHOICES, FALSE, NULL, MAX_OPTIONS},
                                               END};
static const struct HcField f_poll[] = {{"poll", F_ID, TRUE, NULL, 0}, END};
static const struct HcField f_poll_vote[] = {
  {"poll", F_ID, TRUE, NULL, 0}, {"choices", F_CHOICES, TRUE, NULL, MAX_OPTIONS}, END};

#define V HC_ROLE_VIEWER
#define S HC_ROLE_SCHOOL
#define L HC_ROLE_LECTURER

static const HcMessageSpec specs[] = {
  {"hello", V, FALSE, -1, f_hello, hc_ws_hello},
  {"ping", V, FALSE, -1, f_none, hc_ws_ping},
  {"session.join", V, FALSE, -1, f_join, hc_ws_join},
  {"session.leave", V, TRUE, -1, f_none, hc_ws_leave},
  {"session.configure", L, TRUE, -1, f_configure, hc_session_configure},
  {"qa.ask", S, TRUE, HC_RATE_ASK, f_ask, hc_qa_ask},
  {"qa.vote", V, TRUE, HC_RATE_VOTE, f_question, hc_qa_vote},
  {"qa.unvote", V, TRUE, HC_RATE_VOTE, f_question, hc_qa_vote},
  {"qa.approve", L, TRUE, -1, f_question, hc_qa_moderate},
  {"qa.dismiss", L, TRUE, -1, f_question, hc_qa_moderate},
  {"qa.reopen", L, TRUE, -1, f_question, hc_qa_moderate},
  {"qa.highlight", L, TRUE, -1, f_question, hc_qa_moderate},
  {"qa.answer", L, TRUE, -1, f_answer, hc_qa_moderate},
  {"qa.edit", L, TRUE, -1, f_edit, hc_qa_moderate},
  {"chat.send", S, TRUE, HC_RATE_CHAT, f_chat, hc_chat_send},
  {"chat.delete", L, TRUE, -1, f_chat_id, hc_chat_moderate},
  {"chat.approve", L, TRUE, -1, f_chat_id, hc_chat_moderate},
  {"hand.raise", S, TRUE, -1, f_none, hc_hand_handle},
  {"hand.lower", S, TRUE, -1, f_site_opt, hc_hand_handle},
  {"hand.lower_all", L, TRUE, -1, f_none, hc_hand_handle},
  {"hand.next", L, TRUE, -1, f_none, hc_hand_handle},
  {"stage.invite", L, TRUE, -1, f_site, hc_stage_handle},
  {"stage.remove", L, TRUE, -1, f_site, hc_stage_handle},
  {"poll.create", L, TRUE, -1, f_poll_create, hc_poll_handle},
  {"poll.open", L, TRUE, -1, f_poll, hc_poll_handle},
  {"poll.vote", V, TRUE, HC_RATE_VOTE, f_poll_vote, hc_poll_handle},
  {"poll.close", L, TRUE, -1, f_poll, hc_poll_handle},
  {"poll.publish", L, TRUE, -1, f_poll, hc_poll_handle},
};

static const char *const error_names[HC_WS_N_ERRORS] = {
  [HC_WS_OK] = "ok",
  [HC_WS_INVALID_JSON] = "invalid_json",
  [HC_WS_INVALID_MESSAGE] = "invalid_message",
  [HC_WS_UNKNOWN_TYPE] = "unknown_type",
  [HC_WS_INVALID_ARGUMENT] = "invalid_argument",
  [HC_WS_UNAUTHORIZED] = "unauthorized",
  [HC_WS_FORBIDDEN] = "forbidden",
  [HC_WS_NOT_JOINED] = "not_joined",
  [HC_WS_NOT_FOUND] = "not_found",
  [HC_WS_INVALID_STATE] = "invalid_state",
  [HC_WS_ALREADY_VOTED] = "already_voted",
  [HC_WS_RATE_LIMITED] = "rate_limited",
  [HC_WS_CHAT_DISABLED] = "chat_disabled",
  [HC_WS_LIMIT_REACHED] = "limit_reached",
  [HC_WS_INTERNAL] = "internal_error",
};

const char *
hc_ws_error_name(HcWsError code)
{
  return (guint)code < HC_WS_N_ERRORS ? error_names[code] : "internal_error";
}

void
hc_ws_fault(HcWsFault *f, HcWsError code, const char *field, const char *fmt, ...)
{
  va_list ap;

  f->code = code;
  f->field = field;
  va_start(ap, fmt);
  vsnprintf(f->message, sizeof f->message, fmt, ap);
  va_end(ap);
}

static gboolean
name_valid(const char *s)
{
  size_t n = strlen(s);

  if (n < 1 || n > 64)
    return FALSE;
  for (size_t i = 0; i < n; i++)
    if (!g_ascii_isalnum(s[i]) && s[i] != '-' && s[i] != '_')
      return FALSE;
  return TRUE;
}

/* Non-blank text check without leaking the strip copy. */
static gboolean
text_ok(json_t *v, glong max)
{
  const char *s = json_string_value(v);
  char *copy;
  gboolean ok;

  if (!s || strlen(s) != json_string_length(v) || !g_utf8_validate(s, -1, NULL))
    return FALSE;
  copy = g_strstrip(g_strdup(s));
  ok = copy[0] != '\0';
  g_free(copy);
  if (!ok || g_utf8_strlen(s, -1) > max)
    return FALSE;
  for (const char *p = s; *p; p = g_utf8_next_char(p)) {
    gunichar ch = g_utf8_get_char(p);
    if ((ch < 0x20 && ch != '\n' && ch != '\t') || (ch >= 0x7f && ch < 0xa0))
      return FALSE;
  }
  return TRUE;
}

static gboolean
int_in(json_t *v, gint64 min, gint64 max)
{
  return json_is_integer(v) && json_integer_value(v) >= min && json_integer_value(v) <= max;
}

/* Checks one field value; fills f on error. */
static gboolean
field_ok(const struct HcField *d, json_t *v, HcWsFault *f)
{
  glong max_text = hc_interact_limits.max_text;

  switch (d->kind) {
  case F_NAME:
    if (json_is_string(v) && name_valid(json_string_value(v)) &&
        strlen(json_string_value(v)) == json_string_length(v))
      return TRUE;
    hc_ws_fault(f, HC_WS_INVALID_ARGUMENT, d->name, "%s must be 1 to 64 of A-Za-z0-9_-", d->name);
    return FALSE;
  case F_TEXT:
    if (text_ok(v, max_text))
      return TRUE;
    hc_ws_fault(f, HC_WS_INVALID_ARGUMENT, d->name,
                "%s must be a text of 1 to %ld characters without control characters", d->name,
                max_text);
    return FALSE;
  case F_ID:
  case F_SEQ:
    if (int_in(v, d->kind == F_ID ? 1 : 0, MAX_ID))
      return TRUE;
    hc_ws_fault(f, HC_WS_INVALID_ARGUMENT, d->name, "%s must be an integer %s", d->name,
                d->kind == F_ID ? "from 1" : "from 0");
    return FALSE;
  case F_SECONDS:
    if (int_in(v, 0, d->max))
      return TRUE;
    hc_ws_fault(f, HC_WS_INVALID_ARGUMENT, d->name,
                "%s must be an integer from 0 to %" G_GINT64_FORMAT, d->name, d->max);
    return FALSE;
  case F_BOOL:
    if (json_is_boolean(v))
      return TRUE;
    hc_ws_fault(f, HC_WS_INVALID_ARGUMENT, d->name, "%s must be true or false", d->name);
    return FALSE;
  case F_ENUM: {
    char **words = g_strsplit(d->choices, "|", -1);
    gboolean ok =
      json_is_string(v) && g_strv_contains((const char *const *)words, json_string_value(v));
    g_strfreev(words);
    if (!ok)
      hc_ws_fault(f, HC_WS_INVALID_ARGUMENT, d->name, "%s must be one of %s", d->name, d->choices);
    return ok;
  }
  case F_TOKEN:
    if (json_is_string(v) && json_string_length(v) >= 1 && json_string_length(v) <= 1024)
      return TRUE;
    hc_ws_fault(f, HC_WS_INVALID_ARGUMENT, d->name, "%s must be a string", d->name);
    return FALSE;
  case F_OPTIONS: {
    size_t i;
    json_t *o;
    gboolean ok =
      json_is_array(v) && json_array_size(v) >= 2 && json_array_size(v) <= (size_t)d->max;
    json_array_foreach(v, i, o) ok = ok && text_ok(o, MIN(max_text, 200));
    if (!ok)
      hc_ws_fault(f, HC_WS_INVALID_ARGUMENT, d->name,
                  "%s must be an array of 2 to %" G_GINT64_FORMAT " texts of 1 to 200 characters",
                  d->name, d->max);
    return ok;
  }
  case F_CHOICES: {
    size_t i;
    json_t *o;
    guint32 seen = 0;
    gboolean ok = json_is_array(v) && json_array_size(v) <= (size_t)d->max;
    json_array_foreach(v, i, o)
    {
      ok = ok && int_in(o, 0, 31) && !(seen & (1u << json_integer_value(o)));
      if (ok)
        seen |= 1u << json_integer_value(o);
    }
    if (!ok)
      hc_ws_fault(f, HC_WS_INVALID_ARGUMENT, d->name,
                  "%s must be an array of distinct option indexes", d->name);
    return ok;
  }
  }
  return FALSE;
}

static const HcMessageSpec *
find_spec(const char *type)
{
  for (guint i = 0; i < G_N_ELEMENTS(specs); i++)
    if (strcmp(specs[i].type, type) == 0)
      return &specs[i];
  return NULL;
}

gboolean
hc_message_parse(const char *data, gsize len, HcMessage *m, HcWsFault *f)
{
  json_error_t jerr;
  json_t *type, *v;
  const char *key;

  memset(m, 0, sizeof *m);
  m->root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
  if (!m->root) {
    hc_ws_fault(f, HC_WS_INVALID_JSON, NULL, "not JSON: %s at offset %d", jerr.text, jerr.position);
    return FALSE;
  }
  if (!json_is_object(m->root)) {
    hc_ws_fault(f, HC_WS_INVALID_MESSAGE, NULL, "a message is a JSON object");
    return FALSE;
  }
  m->id = json_object_get(m->root, "id");
  if (m->id &&
      !(json_is_integer(m->id) || (json_is_string(m->id) && json_string_length(m->id) <= 64 &&
                                   g_utf8_validate(json_string_value(m->id), -1, NULL)))) {
    m->id = NULL;
    hc_ws_fault(f, HC_WS_INVALID_MESSAGE, "id",
                "id must be an integer or a string of up to 64 bytes");
    return FALSE;
  }
  type = json_object_get(m->root, "type");
  if (!json_is_string(type)) {
    hc_ws_fault(f, HC_WS_INVALID_MESSAGE, "type", "type is required and must be a string");
    return FALSE;
  }
  m->spec = find_spec(json_string_value(type));
  if (!m->spec) {
    hc_ws_fault(f, HC_WS_UNKNOWN_TYPE, "type", "unknown message type");
    return FALSE;
  }
  json_object_foreach(m->root, key, v)
  {
    const struct HcField *d = m->spec->fields;

    if (strcmp(key, "type") == 0 || strcmp(key, "id") == 0)
      continue;
    while (d->name && strcmp(d->name, key) != 0)
      d++;
    if (!d->name) {
      /* A field name may be anything a client sent: name it only if it is short. */
      hc_ws_fault(f, HC_WS_INVALID_ARGUMENT, NULL, "unknown field in %s", m->spec->type);
      return FALSE;
    }
    if (!field_ok(d, v, f))
      return FALSE;
  }
  for (const struct HcField *d = m->spec->fields; d->name; d++) {
    if (d->required && !json_object_get(m->root, d->name)) {
      hc_ws_fault(f, HC_WS_INVALID_ARGUMENT, d->name, "%s is required", d->name);
      return FALSE;
    }
  }
  return TRUE;
}

void
hc_message_clear(HcMessage *m)
{
  json_decref(m->root);
  memset(m, 0, sizeof *m);
}

const char *
hc_msg_str(const HcMessage *m, const char *field)
{
  return json_string_value(json_object_get(m->root, field));
}

gint64
hc_msg_int(const HcMessage *m, const char *field, gint64 def)
{
  json_t *v = json_object_get(m->root, field);

  return json_is_integer(v) ? json_integer_value(v) : def;
}

int
hc_msg_bool(const HcMessage *m, const char *field)
{
  json_t *v = json_object_get(m->root, field);

  return json_is_boolean(v) ? json_is_true(v) : -1;
}

json_t *
hc_msg_get(const HcMessage *m, const char *field)
{
  return json_object_get(m->root, field);
}
