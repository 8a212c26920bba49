/* hc-wsload: N WebSocket clients of hallcast's /ws in one process (one
 * epoll loop), ramped at a set rate, all joining one session; a lecturer
 * (the control client) turns moderation off, the first --askers clients ask
 * --questions questions and every client stamps each qa.asked broadcast.
 * Prints one JSON line: connected, delivered/expected, latency p50/p99/max,
 * and the gateway's CPU and RSS (from /proc, --pid). Bounded in count and
 * time. Used by tools/bench-ws and tests/integration/test_wsload.py. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "wsload.h"

#define MAX_CLIENTS 60000
#define MAX_QUESTIONS 10000
#define CONTROL_ID_CONFIGURE 2

typedef struct {
  char *host, *session;
  int port, clients, rate, inflight, sites, askers, questions, interval_ms, pid, timeout_s;
  int settle_ms, idle_ms, batch_us;
} Options;

typedef struct {
  HcWslRun run;
  Options opt;
  HcWslClient *control;
  gboolean control_ready;
  GPtrArray *clients;
  gsize expected; /* joined clients when the first question goes, times questions */
} Load;

/* The gateway's CPU time (user + system, microseconds) and resident set
 * (KiB), both from /proc/PID/stat; FALSE when it cannot be read. */
static gboolean
proc_sample(int pid, gint64 *cpu_us, gint64 *rss_kib)
{
  char path[64], *text = NULL, *p;
  unsigned long long ut = 0, st = 0;
  long long rss = 0;
  gboolean ok;

  *cpu_us = *rss_kib = 0;
  if (pid <= 0)
    return FALSE;
  g_snprintf(path, sizeof path, "/proc/%d/stat", pid);
  if (!g_file_get_contents(path, &text, NULL, NULL))
    return FALSE;
  /* After the name (which may hold spaces): state, then fields 4..; utime
   * and stime are fields 14 and 15, rss (pages) field 24. */
  p = strrchr(text, ')');
  ok = p && sscanf(p + 2,
                   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
                   "%*d %*d %*u %*u %lld",
                   &ut, &st, &rss) == 3;
  g_free(text);
  *cpu_us = (gint64)((ut + st) * 1000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK));
  *rss_kib = rss * sysconf(_SC_PAGESIZE) / 1024;
  return ok;
}

static gint64
proc_cpu_us(int pid)
{
  gint64 cpu, rss;

  proc_sample(pid, &cpu, &rss);
  return cpu;
}

static gint64
proc_rss_kib(int pid)
{
  gint64 cpu, rss;

  proc_sample(pid, &cpu, &rss);
  return rss;
}

/* This process's own CPU time, microseconds. */
static gint64
self_cpu_us(void)
{
  struct rusage ru;

  getrusage(RUSAGE_SELF, &ru);
  return (gint64)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * G_USEC_PER_SEC + ru.ru_utime.tv_usec +
         ru.ru_stime.tv_usec;
}

static void
raise_nofile(int need)
{
  struct rlimit rl;

  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)need)
    g_printerr("wsload: open files limit %llu is below the %d this run needs\n",
               (unsigned long long)rl.rlim_cur, need);
}

/* The control client: once joined, turn moderation off; once that is
 * acknowledged, the run may start. */
static void
on_ack(HcWslRun *run, HcWslClient *c, gint64 id, const char *text, gsize len)
{
  Load *l = (Load *)run;
  static const char configure[] = "{\"type\":\"session.configure\",\"id\":2,\"moderation\":false}";

  if (c != l->control)
    return;
  if (id == 1)
    hc_wsl_client_send(run, c, configure, strlen(configure));
  else if (id == CONTROL_ID_CONFIGURE)
    l->control_ready = TRUE;
}

/* Runs the loop for at most timeout_us or until done(l) holds. */
static void
loop_until(Load *l, gint64 until_us, gboolean (*done)(Load *l), void (*tick)(Load *l))
{
  struct epoll_event evs[1024];

  while (g_get_monotonic_time() < until_us && !(done && done(l))) {
    int n = epoll_wait(l->run.epfd, evs, G_N_ELEMENTS(evs), 1);

    for (int i = 0; i < n; i++)
      hc_wsl_client_ready(&l->run, evs[i].data.ptr, evs[i].events);
    if (n < 0 && errno != EINTR) {
      g_printerr("wsload: epoll_wait: %s\n", g_strerror(errno));
      return;
    }
    if (tick)
      tick(l);
    /* While a broadcast arrives, let its messages gather for --batch-us
     * rather than wake up for each: every wake-up of this process is work
     * on the sender's CPU too (on loopback the sender wakes us), and one
     * epoll_wait then serves many clients. Adds at most that much to each
     * latency (read later, stamped later): the figures only get worse. */
    if (n > 0 && n < (int)G_N_ELEMENTS(evs) && l->opt.batch_us > 0)
      g_usleep(l->opt.batch_us);
  }
}

static gboolean
control_done(Load *l)
{
  return l->control_ready || l->control->state == HC_WSL_CLOSED;
}

static int
pending(Load *l)
{
  int n = 0;

  for (guint i = 0; i < l->clients->len; i++) {
    HcWslClient *c = l->clients->pdata[i];
    n += c && c->state < HC_WSL_JOINED;
  }
  return n;
}

static gint64 ramp_t0;
static int ramp_pending;

/* Opens clients at --rate, at most --inflight still handshaking. */
static void
ramp_tick(Load *l)
{
  gint64 due = (g_get_monotonic_time() - ramp_t0) * l->opt.rate / G_USEC_PER_SEC + 1;

  ramp_pending = pending(l);
  while ((gint64)l->clients->len < MIN(due, l->opt.clients) && ramp_pending < l->opt.inflight) {
    int i = l->clients->len;
    char *token = g_strdup_printf("school:site-%d:Room %d", l->opt.sites ? i % l->opt.sites : i, i);
    HcWslClient *c = hc_wsl_client_new(&l->run, i, token);

    g_free(token);
    g_ptr_array_add(l->clients, c);
    ramp_pending += c != NULL;
  }
}

static gboolean
ramp_done(Load *l)
{
  return (int)l->clients->len == l->opt.clients && ramp_pending == 0;
}

static gboolean
idle_never(Load *l)
{
  return FALSE;
}

static gsize
expected(Load *l)
{
  gsize n = 0;

  for (guint i = 0; i < l->clients->len; i++) {
    HcWslClient *c = l->clients->pdata[i];
    n += c && c->state == HC_WSL_JOINED;
  }
  return n * l->opt.questions;
}

static gboolean
all_delivered(Load *l)
{
  return l->run.delivered >= l->expected;
}

/* Appends "name":value, to the JSON report (null when not measured). */
static void
field(GString *out, const char *name, double value)
{
  char num[G_ASCII_DTOSTR_BUF_SIZE];

  if (isnan(value) || isinf(value))
    g_string_append_printf(out, "\"%s\":null,", name);
  else
    g_string_append_printf(
      out, "\"%s\":%s,", name,
      g_ascii_formatd(num, sizeof num, value == floor(value) ? "%.0f" : "%.2f", value));
}

static int
cmp_float(const void *a, const void *b)
{
  float x = *(const float *)a, y = *(const float *)b;
  return x < y ? -1 : x > y;
}

static double
percentile(const float *v, gsize n, double p)
{
  gsize k;

  if (n == 0)
    return NAN;
  k = (gsize)ceil(p / 100.0 * n);
  return v[k ? k - 1 : 0];
}

static void
ask(Load *l, int k)
{
  int askers = MAX(1, MIN(l->opt.askers, (int)l->clients->len));
  char *msg =
    g_strdup_printf("{\"type\":\"qa.ask\",\"id\":%d,\"text\":\"wsload q %d\"}", 1000 + k, k);

  /* The next joined asker in turn; the question is stamped as it is written. */
  for (int tries = 0; tries < askers; tries++) {
    HcWslClient *c = l->clients->pdata[(k + tries) % askers];
    if (c && c->state == HC_WSL_JOINED) {
      l->run.sent_us[k] = g_get_monotonic_time();
      hc_wsl_client_send(&l->run, c, msg, strlen(msg));
      break;
    }
  }
  g_free(msg);
}

static gboolean
parse_options(int argc, char **argv, Options *o)
{
  GOptionEntry entries[] = {
    {"host", 0, 0, G_OPTION_ARG_STRING, &o->host, "gateway address (IPv4)", "A"},
    {"port", 'p', 0, G_OPTION_ARG_INT, &o->port, "gateway HTTP port", "P"},
    {"clients", 'n', 0, G_OPTION_ARG_INT, &o->clients, "clients to connect (N)", "N"},
    {"rate", 0, 0, G_OPTION_ARG_INT, &o->rate, "connections opened per second", "R"},
    {"inflight", 0, 0, G_OPTION_ARG_INT, &o->inflight, "handshakes in progress at most", "K"},
    {"session", 0, 0, G_OPTION_ARG_STRING, &o->session, "session to join", "ID"},
    {"sites", 0, 0, G_OPTION_ARG_INT, &o->sites, "distinct sites (0: one per client)", "S"},
    {"askers", 0, 0, G_OPTION_ARG_INT, &o->askers, "clients that ask, in turn", "A"},
    {"questions", 'q', 0, G_OPTION_ARG_INT, &o->questions, "questions asked", "Q"},
    {"interval-ms", 0, 0, G_OPTION_ARG_INT, &o->interval_ms, "between questions", "MS"},
    {"settle-ms", 0, 0, G_OPTION_ARG_INT, &o->settle_ms, "wait after the ramp", "MS"},
    {"idle-ms", 0, 0, G_OPTION_ARG_INT, &o->idle_ms, "measure quiet CPU this long", "MS"},
    {"batch-us", 0, 0, G_OPTION_ARG_INT, &o->batch_us,
     "after reading some clients, wait this long for more (0: never)", "US"},
    {"pid", 0, 0, G_OPTION_ARG_INT, &o->pid, "gateway process for CPU and RSS", "PID"},
    {"timeout", 't', 0, G_OPTION_ARG_INT, &o->timeout_s, "seconds for the whole run", "S"},
    {NULL},
  };
  GOptionContext *ctx = g_option_context_new("- many WebSocket clients of hallcast's /ws");
  GError *err = NULL;
  gboolean ok;

  g_option_context_add_main_entries(ctx, entries, NULL);
  ok = g_option_context_parse(ctx, &argc, &argv, &err);
  g_option_context_free(ctx);
  if (!ok) {
    g_printerr("wsload: %s\n", err->message);
    g_error_free(err);
    return FALSE;
  }
  if (o->port < 1 || o->port > 65535 || o->clients < 1 || o->clients > MAX_CLIENTS || o->rate < 1 ||
      o->inflight < 1 || o->questions < 1 || o->questions > MAX_QUESTIONS || o->askers < 1 ||
      o->interval_ms < 0 || o->sites < 0 || o->timeout_s < 1 || o->timeout_s > 3600 ||
      o->batch_us < 0 || o->batch_us > 10000 || strchr(o->session, '"') ||
      strchr(o->session, '\\')) {
    g_printerr(
      "wsload: need --port 1..65535, --clients 1..%d, --questions 1..%d, positive "
      "--rate/--inflight/--askers/--timeout (at most 3600 s), --batch-us 0..10000, a plain "
      "--session\n",
      MAX_CLIENTS, MAX_QUESTIONS);
    return FALSE;
  }
  return TRUE;
}

int
main(int argc, char **argv)
{
  Load l = {0};
  Options *o = &l.opt;
  gint64 t0 = g_get_monotonic_time(), end, rss0, rss1, cpu0, cpu1, idle0, idle1, ramp_cpu0,
         ramp_cpu1;
  gint64 ramp_us, ask_t0, ask_us, self0, self1;
  double p50, p99, pmax, events;
  GString *report;
  gsize exp;

  *o = (Options){.host = g_strdup("127.0.0.1"),
                 .session = g_strdup("wsload"),
                 .clients = 100,
                 .rate = 1000,
                 .inflight = 200,
                 .askers = 1,
                 .questions = 10,
                 .interval_ms = 100,
                 .timeout_s = 120,
                 .settle_ms = 1000,
                 .idle_ms = 0,
                 .batch_us = 200};
  if (!parse_options(argc, argv, o))
    return 2;
  end = t0 + (gint64)o->timeout_s * G_USEC_PER_SEC;
  raise_nofile(o->clients + 64);
  l.run.host = o->host;
  l.run.port = o->port;
  l.run.session = o->session;
  l.run.questions = o->questions;
  l.run.sent_us = g_new0(gint64, o->questions);
  l.run.capacity = (gsize)o->clients * o->questions;
  l.run.latency_ms = g_new(float, l.run.capacity);
  l.run.on_ack = on_ack;
  l.run.epfd = epoll_create1(EPOLL_CLOEXEC);
  l.clients = g_ptr_array_new_with_free_func((GDestroyNotify)hc_wsl_client_free);
  rss0 = proc_rss_kib(o->pid);

  l.control = hc_wsl_client_new(&l.run, -1, "lecturer:studio:wsload");
  if (!l.control) {
    g_printerr("wsload: %s\n", l.run.last_error);
    return 1;
  }
  loop_until(&l, MIN(end, t0 + 10 * G_USEC_PER_SEC), control_done, NULL);
  if (!l.control_ready) {
    g_printerr("wsload: the control client could not join and configure %s: %s\n", o->session,
               l.run.last_error);
    return 1;
  }

  ramp_cpu0 = proc_cpu_us(o->pid);
  ramp_t0 = g_get_monotonic_time();
  loop_until(&l, end, ramp_done, ramp_tick);
  ramp_us = g_get_monotonic_time() - ramp_t0;
  ramp_cpu1 = proc_cpu_us(o->pid);
  loop_until(&l, MIN(end, g_get_monotonic_time() + o->settle_ms * 1000), idle_never, NULL);
  rss1 = proc_rss_kib(o->pid);
  idle0 = proc_cpu_us(o->pid);
  loop_until(&l, MIN(end, g_get_monotonic_time() + o->idle_ms * 1000), idle_never, NULL);
  idle1 = proc_cpu_us(o->pid);

  /* A marker for tools that profile the asks only (bench-ws --perf-phase). */
  g_printerr("wsload: joined %d, asking\n", l.run.joined);
  cpu0 = proc_cpu_us(o->pid);
  self0 = self_cpu_us();
  l.expected = expected(&l);
  ask_t0 = g_get_monotonic_time();
  for (int k = 0; k < o->questions && g_get_monotonic_time() < end; k++) {
    loop_until(&l, MIN(end, ask_t0 + (gint64)k * o->interval_ms * 1000), idle_never, NULL);
    ask(&l, k);
  }
  loop_until(&l, end, all_delivered, NULL);
  cpu1 = proc_cpu_us(o->pid);
  self1 = self_cpu_us();
  ask_us = MAX(1, g_get_monotonic_time() - ask_t0);

  exp = l.expected;
  qsort(l.run.latency_ms, l.run.delivered, sizeof(float), cmp_float);
  p50 = percentile(l.run.latency_ms, l.run.delivered, 50);
  p99 = percentile(l.run.latency_ms, l.run.delivered, 99);
  pmax = percentile(l.run.latency_ms, l.run.delivered, 100);
  events = l.run.delivered ? (double)l.run.delivered : NAN;
  g_printerr("wsload: N=%d joined %d, delivered %zu/%zu, p50 %.1f ms p99 %.1f ms max %.1f ms, "
             "%zu errors%s%s\n",
             o->clients, l.run.joined, l.run.delivered, exp, p50, p99, pmax, l.run.errors,
             l.run.errors ? ", last: " : "", l.run.errors ? l.run.last_error : "");
  report = g_string_new("{");
  field(report, "clients", o->clients);
  field(report, "connected", l.run.joined);
  field(report, "closed", l.run.closed);
  field(report, "errors", l.run.errors);
  field(report, "delivered", l.run.delivered);
  field(report, "expected", exp);
  field(report, "unmatched", l.run.dup);
  field(report, "p50_ms", p50);
  field(report, "p99_ms", p99);
  field(report, "max_ms", pmax);
  field(report, "ramp_s", ramp_us / 1e6);
  field(report, "gw_cpu_us_per_join",
        l.run.joined ? (double)(ramp_cpu1 - ramp_cpu0) / l.run.joined : NAN);
  field(report, "gw_cpu_us_per_event", (double)(cpu1 - cpu0) / events);
  field(report, "gw_idle_cpu_pct",
        o->idle_ms > 0 ? (double)(idle1 - idle0) / (o->idle_ms * 10.0) : NAN);
  field(report, "gw_rss_kib", (double)rss1);
  /* Whether the load generator itself was busy while it measured. */
  field(report, "wsload_cpu_pct", (double)(self1 - self0) * 100 / ask_us);
  field(report, "wsload_cpu_us_per_event", (double)(self1 - self0) / events);
  field(report, "gw_rss_kib_per_conn", l.run.joined ? (double)(rss1 - rss0) / l.run.joined : NAN);
  g_string_truncate(report, report->len - 1);
  g_string_append(report, "}\n");
  fputs(report->str, stdout);
  g_string_free(report, TRUE);
  fflush(stdout);

  g_ptr_array_unref(l.clients);
  hc_wsl_client_free(l.control);
  close(l.run.epfd);
  g_free(l.run.sent_us);
  g_free(l.run.latency_ms);
  g_free(o->host);
  g_free(o->session);
  return l.run.delivered == exp && exp > 0 ? 0 : 1;
}
