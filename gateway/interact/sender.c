/* The sender thread: a broadcast to many connections writes the first half
 * of them from here while the main thread writes the rest, then the main
 * thread waits for it. Most of a broadcast's time is send() (on loopback
 * the receivers' kernel work runs inside it too), so two cores halve it.
 * The thread only calls send() on sockets the main thread handed it for
 * this one message and records what each took; nothing else of a
 * connection is touched here and lws is never called off the main thread:
 * the main thread hands partial writes to lws and closes failed
 * connections after the join, in the connections' order. */
#define G_LOG_DOMAIN "hc-interact"

#include <sched.h>

#include "internal.h"

typedef struct {
  GMutex lock;
  GCond cond;
  GThread *thread;
  guint64 posted, done; /* jobs handed over, jobs finished */
  gboolean stop;
  HcConn **conns; /* the job: conns[0..n), results into sent[] */
  guint n;
  const HcWsMsg *msg;
  ssize_t *sent;
} Sender;

static Sender sender;

static void
send_range(HcConn **conns, guint n, const HcWsMsg *m, ssize_t *sent)
{
  for (guint i = 0; i < n; i++) {
    if (i + 2 < n)
      __builtin_prefetch(conns[i + 2]);
    sent[i] = hc_ws_frame_send(conns[i]->fd, m);
  }
}

static gpointer
sender_main(gpointer data)
{
  Sender *s = data;
  guint64 seen = 0;

  g_mutex_lock(&s->lock);
  for (;;) {
    while (s->posted == seen && !s->stop)
      g_cond_wait(&s->cond, &s->lock);
    if (s->stop)
      break;
    seen = s->posted;
    g_mutex_unlock(&s->lock);
    send_range(s->conns, s->n, s->msg, s->sent);
    g_mutex_lock(&s->lock);
    s->done = seen;
    g_cond_broadcast(&s->cond);
  }
  g_mutex_unlock(&s->lock);
  return NULL;
}

gboolean
hc_ws_split_useful(void)
{
  cpu_set_t set;

  /* Pinned to one CPU (taskset, a container's cpuset), a second thread only
   * takes turns with the first. Asked each time: the mask may change. */
  return sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) >= 2;
}

void
hc_ws_send_split(HcConn **conns, guint n, HcWsMsg *m)
{
  ssize_t *sent = g_new(ssize_t, n);
  guint half = n / 2;

  if (!sender.thread)
    sender.thread = g_thread_new("hc-ws-send", sender_main, &sender);
  g_mutex_lock(&sender.lock);
  sender.conns = conns;
  sender.n = half;
  sender.msg = m;
  sender.sent = sent;
  sender.posted++;
  g_cond_broadcast(&sender.cond);
  g_mutex_unlock(&sender.lock);

  send_range(conns + half, n - half, m, sent + half);

  g_mutex_lock(&sender.lock);
  while (sender.done != sender.posted)
    g_cond_wait(&sender.cond, &sender.lock);
  g_mutex_unlock(&sender.lock);

  for (guint i = 0; i < n; i++)
    if (hc_ws_frame_rest(conns[i], m, sent[i]) < 0)
      hc_ws_kill(conns[i]);
  g_free(sent);
}

void
hc_ws_sender_stop(void)
{
  if (!sender.thread)
    return;
  g_mutex_lock(&sender.lock);
  sender.stop = TRUE;
  g_cond_broadcast(&sender.cond);
  g_mutex_unlock(&sender.lock);
  g_thread_join(sender.thread);
  sender.thread = NULL;
  sender.stop = FALSE;
}
