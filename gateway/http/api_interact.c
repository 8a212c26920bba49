/* REST exports of a session's questions for the resource library:
 * GET /api/v1/sessions/ID/qa.csv and /qa.json (question, votes, site, state,
 * asked and answered times). Needs a lecturer or operator token in
 * "Authorization: Bearer". Routed from server.c. */
#define G_LOG_DOMAIN "hc-http"

#include <string.h>

#include "core/error.h"
#include "http.h"
#include "interact/interact.h"

/* One CSV cell: quoted, quotes doubled, and a leading = + - @ defused so a
 * spreadsheet never runs a question as a formula. */
static void
csv_cell(GString *out, json_t *v, gboolean last)
{
  const char *s = json_is_string(v) ? json_string_value(v) : NULL;
  char num[32];

  if (json_is_integer(v)) {
    g_snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    s = num;
  }
  g_string_append_c(out, '"');
  if (s && strchr("=+-@\t\r", s[0]) && s[0] && !json_is_integer(v))
    g_string_append_c(out, '\'');
  for (; s && *s; s++) {
    if (*s == '"')
      g_string_append_c(out, '"');
    g_string_append_c(out, *s);
  }
  g_string_append(out, last ? "\"\r\n" : "\",");
}

static json_t *
iso_time(json_t *ms)
{
  GDateTime *t;
  char *text;
  json_t *v;

  if (!json_is_integer(ms))
    return json_null();
  t = g_date_time_new_from_unix_utc(json_integer_value(ms) / 1000);
  text = g_date_time_format_iso8601(t);
  v = json_string(text);
  g_free(text);
  g_date_time_unref(t);
  return v;
}

/* The export rows: one object per question. */
static json_t *
rows(json_t *questions)
{
  json_t *out = json_array(), *q;
  size_t i;

  json_array_foreach(questions, i, q)
  {
    json_array_append_new(
      out,
      json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:o, s:o, s:O}", "id", json_object_get(q, "id"),
                "question", json_object_get(q, "text"), "votes", json_object_get(q, "votes"),
                "site", json_object_get(q, "site"), "name", json_object_get(q, "name"), "state",
                json_object_get(q, "state"), "asked_at", iso_time(json_object_get(q, "asked")),
                "answered_at", iso_time(json_object_get(q, "answered")), "answer",
                json_object_get(q, "answer")));
  }
  return out;
}

static const char *const columns[] = {"id",    "question", "votes",       "site",  "name",
                                      "state", "asked_at", "answered_at", "answer"};

static void
send_csv(HcHttpResponse *resp, json_t *list, const char *session)
{
  GString *out = g_string_new(NULL);
  json_t *row;
  size_t i;
  char *disp;

  for (guint c = 0; c < G_N_ELEMENTS(columns); c++)
    g_string_append_printf(out, "%s%s", columns[c], c + 1 < G_N_ELEMENTS(columns) ? "," : "\r\n");
  json_array_foreach(list, i, row) for (guint c = 0; c < G_N_ELEMENTS(columns); c++)
    csv_cell(out, json_object_get(row, columns[c]), c + 1 == G_N_ELEMENTS(columns));
  hc_http_set_body(resp, 200, "text/csv; charset=utf-8", out->str, out->len);
  disp = g_strdup_printf("attachment; filename=\"%s-qa.csv\"", session);
  hc_http_add_header(resp, "content-disposition", disp);
  hc_http_add_header(resp, "cache-control", "no-store");
  g_free(disp);
  g_string_free(out, TRUE);
}

/* TRUE if the request carries a token of a lecturer or operator. */
static gboolean
authorized(const HcHttpRequest *req, HcHttpResponse *resp)
{
  char *auth = hc_http_header(req, "authorization");
  HcIdentity who;
  GError *err = NULL;
  gboolean ok = FALSE;

  if (!auth || !g_str_has_prefix(auth, "Bearer ")) {
    hc_http_set_error(resp, HC_EUNAUTHORIZED, NULL, "send Authorization: Bearer TOKEN");
  } else if (!hc_interact_token_check(auth + 7, &who, &err)) {
    hc_http_set_error(resp, HC_EUNAUTHORIZED, NULL, "%s", err->message);
    g_error_free(err);
  } else if (who.role < HC_ROLE_LECTURER) {
    hc_http_set_error(resp, HC_EFORBIDDEN, NULL, "only a lecturer or operator may export");
  } else {
    ok = TRUE;
  }
  g_free(auth);
  return ok;
}

void
hc_api_interact(const HcHttpRequest *req, HcHttpResponse *resp)
{
  const char *tail = req->tail, *slash = strchr(tail, '/');
  char *session;
  json_t *questions, *list;
  gboolean csv;

  if (!slash || (strcmp(slash, "/qa.csv") != 0 && strcmp(slash, "/qa.json") != 0)) {
    hc_http_set_error(resp, HC_ENOTFOUND, NULL, "no such resource");
    return;
  }
  if (strcmp(req->method, "GET") != 0) {
    hc_http_set_error(resp, HC_EMETHOD, NULL, "use GET on an export");
    return;
  }
  if (!authorized(req, resp))
    return;
  csv = strcmp(slash, "/qa.csv") == 0;
  session = g_strndup(tail, slash - tail);
  questions = hc_interact_export_questions(session);
  if (!questions) {
    hc_http_set_error(resp, HC_ENOTFOUND, NULL, "no session named %s", session);
    g_free(session);
    return;
  }
  list = rows(questions);
  if (csv)
    send_csv(resp, list, session);
  else
    hc_http_set_json(resp, 200, json_pack("{s:s, s:O}", "session", session, "questions", list));
  json_decref(list);
  json_decref(questions);
  g_free(session);
}
