/* Unit tests of interact/ and store/: the message validator (table-driven
 * accept and refuse cases), development tokens, and the SQLite store (event
 * log, replay range, pruning, objects and votes, reopening). */
#include <glib/gstdio.h>
#include <string.h>

#include "interact/internal.h"
#include "store/store.h"

typedef struct {
  const char *text;
  HcWsError code; /* HC_WS_OK: accepted */
  const char *field;
} Case;

static const Case cases[] = {
  {"{\"type\":\"qa.ask\",\"id\":1,\"text\":\"Why?\"}", HC_WS_OK, NULL},
  {"{\"type\":\"qa.ask\",\"id\":\"c-1\",\"text\":\"R\\u00e9sum\\u00e9\",\"anonymous\":true}",
   HC_WS_OK, NULL},
  {"{\"type\":\"ping\"}", HC_WS_OK, NULL},
  {"{\"type\":\"session.join\",\"session\":\"lecture_1\",\"since\":0}", HC_WS_OK, NULL},
  {"{\"type\":\"poll.create\",\"question\":\"Q\",\"options\":[\"a\",\"b\"],\"correct\":[1]}",
   HC_WS_OK, NULL},
  {"{\"type\":\"poll.vote\",\"poll\":1,\"choices\":[0,2]}", HC_WS_OK, NULL},
  {"{\"type\":\"session.configure\",\"qa_visibility\":\"answered\",\"slow_mode\":10}", HC_WS_OK,
   NULL},
  {"", HC_WS_INVALID_JSON, NULL},
  {"{\"type\":\"ping\"", HC_WS_INVALID_JSON, NULL},
  {"{\"type\":\"ping\",\"type\":\"ping\"}", HC_WS_INVALID_JSON, NULL},
  {"{\"type\":\"qa.ask\",\"text\":\"\\udc00\"}", HC_WS_INVALID_JSON, NULL},
  {"[]", HC_WS_INVALID_MESSAGE, NULL},
  {"{\"id\":1}", HC_WS_INVALID_MESSAGE, "type"},
  {"{\"type\":7}", HC_WS_INVALID_MESSAGE, "type"},
  {"{\"type\":\"ping\",\"id\":[1]}", HC_WS_INVALID_MESSAGE, "id"},
  {"{\"type\":\"qa.fly\"}", HC_WS_UNKNOWN_TYPE, "type"},
  {"{\"type\":\"qa.ask\"}", HC_WS_INVALID_ARGUMENT, "text"},
  {"{\"type\":\"qa.ask\",\"text\":\"\"}", HC_WS_INVALID_ARGUMENT, "text"},
  {"{\"type\":\"qa.ask\",\"text\":\"   \"}", HC_WS_INVALID_ARGUMENT, "text"},
  {"{\"type\":\"qa.ask\",\"text\":\"a\\u0000b\"}", HC_WS_INVALID_JSON, NULL},
  {"{\"type\":\"qa.ask\",\"text\":\"bell\\u0007\"}", HC_WS_INVALID_ARGUMENT, "text"},
  {"{\"type\":\"qa.ask\",\"text\":\"ok\",\"anonymous\":1}", HC_WS_INVALID_ARGUMENT, "anonymous"},
  {"{\"type\":\"qa.ask\",\"text\":\"ok\",\"extra\":1}", HC_WS_INVALID_ARGUMENT, NULL},
  {"{\"type\":\"qa.vote\",\"question\":0}", HC_WS_INVALID_ARGUMENT, "question"},
  {"{\"type\":\"qa.vote\",\"question\":1.5}", HC_WS_INVALID_ARGUMENT, "question"},
  {"{\"type\":\"session.join\",\"session\":\"a/b\"}", HC_WS_INVALID_ARGUMENT, "session"},
  {"{\"type\":\"session.join\",\"session\":\"s\",\"since\":-1}", HC_WS_INVALID_ARGUMENT, "since"},
  {"{\"type\":\"poll.create\",\"question\":\"Q\",\"options\":[\"a\"]}", HC_WS_INVALID_ARGUMENT,
   "options"},
  {"{\"type\":\"poll.vote\",\"poll\":1,\"choices\":[1,1]}", HC_WS_INVALID_ARGUMENT, "choices"},
  {"{\"type\":\"poll.vote\",\"poll\":1,\"choices\":[32]}", HC_WS_INVALID_ARGUMENT, "choices"},
  {"{\"type\":\"session.configure\",\"qa_visibility\":\"some\"}", HC_WS_INVALID_ARGUMENT,
   "qa_visibility"},
  {"{\"type\":\"session.configure\",\"slow_mode\":3601}", HC_WS_INVALID_ARGUMENT, "slow_mode"},
};

static void
test_messages(void)
{
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    HcMessage m;
    HcWsFault f = {0};
    gboolean ok = hc_message_parse(cases[i].text, strlen(cases[i].text), &m, &f);

    if (cases[i].code == HC_WS_OK) {
      if (!ok)
        g_error("case %u %s refused: %s", i, cases[i].text, f.message);
    } else {
      if (ok)
        g_error("case %u %s accepted", i, cases[i].text);
      g_assert_cmpstr(hc_ws_error_name(f.code), ==, hc_ws_error_name(cases[i].code));
      g_assert_cmpstr(f.field, ==, cases[i].field);
      g_assert_cmpuint(strlen(f.message), >, 0);
    }
    hc_message_clear(&m);
  }
}

/* A chat message of n characters "é" (2 bytes each). */
static gboolean
parse_chat_of(int n, HcWsFault *f)
{
  GString *s = g_string_new("{\"type\":\"chat.send\",\"text\":\"");
  HcMessage m;
  gboolean ok;

  for (int i = 0; i < n; i++)
    g_string_append(s, "\xc3\xa9");
  g_string_append(s, "\"}");
  ok = hc_message_parse(s->str, s->len, &m, f);
  hc_message_clear(&m);
  g_string_free(s, TRUE);
  return ok;
}

static void
test_text_length(void)
{
  HcWsFault f;

  /* The limit counts characters, not bytes. */
  g_assert_true(parse_chat_of(500, &f));
  g_assert_false(parse_chat_of(501, &f));
  g_assert_cmpint(f.code, ==, HC_WS_INVALID_ARGUMENT);
  g_assert_cmpstr(f.field, ==, "text");
}

static void
test_tokens(void)
{
  HcIdentity who;
  GError *err = NULL;
  static const char *const bad[] = {"",          "school",       "school:x",  "pirate:x:y",
                                    "school::y", "school:a/b:y", "school:x:", "school:x:tab\there"};

  g_assert_true(hc_interact_token_check("school:school-12:Room 4", &who, NULL));
  g_assert_cmpint(who.role, ==, HC_ROLE_SCHOOL);
  g_assert_cmpstr(who.site, ==, "school-12");
  g_assert_cmpstr(who.name, ==, "Room 4");
  g_assert_cmpstr(who.participant, ==, "school-12/Room 4");
  g_assert_true(hc_interact_token_check("operator:museum:a:b", &who, NULL));
  g_assert_cmpstr(who.name, ==, "a:b");
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_assert_false(hc_interact_token_check(bad[i], &who, &err));
    g_assert_error(err, g_quark_from_static_string("hallcast-error-quark"), -11);
    g_clear_error(&err);
  }
  hc_interact_limits.dev_tokens = FALSE;
  g_assert_false(hc_interact_token_check("school:x:y", &who, NULL));
  hc_interact_limits.dev_tokens = TRUE;
}

static void
count_event(gint64 seq, const char *type, int audience, const char *author, const char *body,
            gpointer data)
{
  GArray *seqs = data;

  g_array_append_val(seqs, seq);
  g_assert_nonnull(body);
}

static void
count_object(gint64 id, json_t *body, gpointer data)
{
  (*(int *)data)++;
  g_assert_cmpint(json_integer_value(json_object_get(body, "id")), ==, id);
}

static void
test_store(void)
{
  char *dir = g_dir_make_tmp("hc-store-XXXXXX", NULL);
  char *path = g_build_filename(dir, "t.db", NULL);
  GArray *seqs = g_array_new(FALSE, FALSE, sizeof(gint64));
  json_t *settings = json_pack("{s:b}", "moderation", 1), *room = json_object();
  json_t *q = json_pack("{s:i, s:s}", "id", 1, "text", "hi");
  int objects = 0;

  g_assert_true(hc_store_open(path, FALSE, NULL));
  g_assert_true(hc_store_begin());
  g_assert_true(hc_store_put_session("s", 10, settings, room));
  for (gint64 seq = 1; seq <= 10; seq++)
    g_assert_true(hc_store_put_event("s", seq, "chat.message", 0, NULL, "{}"));
  g_assert_true(hc_store_put_object(HC_STORE_QUESTION, "s", 1, q));
  g_assert_true(hc_store_qa_vote("s", 1, "site/a", TRUE));
  g_assert_true(hc_store_commit());

  g_assert_cmpuint(hc_store_load_events("s", 7, count_event, seqs), ==, 3);
  g_assert_cmpint(g_array_index(seqs, gint64, 0), ==, 8);
  g_assert_cmpint(hc_store_first_seq("s"), ==, 1);

  /* A failed statement fails the whole transaction: nothing is kept. */
  g_assert_true(hc_store_begin());
  g_assert_true(hc_store_put_event("s", 11, "x", 0, NULL, "{}"));
  g_test_expect_message("hc-store", G_LOG_LEVEL_WARNING, "*UNIQUE*");
  g_assert_false(hc_store_put_event("s", 5, "duplicate", 0, NULL, "{}"));
  g_test_assert_expected_messages();
  g_assert_false(hc_store_commit());
  g_array_set_size(seqs, 0);
  g_assert_cmpuint(hc_store_load_events("s", 10, count_event, seqs), ==, 0);

  g_assert_true(hc_store_begin());
  g_assert_true(hc_store_prune_events("s", 6));
  g_assert_true(hc_store_commit());
  g_assert_cmpint(hc_store_first_seq("s"), ==, 7);

  /* Reopened, everything committed is there. */
  hc_store_close();
  g_assert_true(hc_store_open(path, TRUE, NULL));
  hc_store_load_objects(HC_STORE_QUESTION, "s", count_object, &objects);
  g_assert_cmpint(objects, ==, 1);
  g_array_set_size(seqs, 0);
  g_assert_cmpuint(hc_store_load_events("s", 0, count_event, seqs), ==, 4);
  hc_store_close();

  json_decref(settings);
  json_decref(room);
  json_decref(q);
  g_array_unref(seqs);
  g_unlink(path);
  {
    char *wal = g_strconcat(path, "-wal", NULL), *shm = g_strconcat(path, "-shm", NULL);
    g_unlink(wal);
    g_unlink(shm);
    g_free(wal);
    g_free(shm);
  }
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/interact/messages", test_messages);
  g_test_add_func("/interact/text-length", test_text_length);
  g_test_add_func("/interact/tokens", test_tokens);
  g_test_add_func("/store/log", test_store);
  return g_test_run();
}
