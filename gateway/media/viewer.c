/* Viewer creation, freeing and the registry shared by the main thread (WHEP,
 * stats API) and the fan-out workers (see viewer.h). */
#define G_LOG_DOMAIN "hc-webrtc"

#include "viewer.h"

#include <openssl/rand.h>
#include <string.h>

#include "publisher.h"

static GMutex lock;
static GHashTable *registry;   /* id -> HcViewer*, borrowed */
static GHashTable *per_stream; /* stream name (owned) -> registered viewers */

/* Under lock: counts v in or out of its stream's total. */
static void
count(const HcViewer *v, int delta)
{
  guint n = GPOINTER_TO_UINT(g_hash_table_lookup(per_stream, v->stream)) + delta;

  if (n)
    g_hash_table_insert(per_stream, g_strdup(v->stream), GUINT_TO_POINTER(n));
  else
    g_hash_table_remove(per_stream, v->stream);
}

static void
random_string(char *out, gsize n)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  guint8 r[64];

  g_assert(n <= sizeof r);
  RAND_bytes(r, (int)n);
  for (gsize i = 0; i < n; i++)
    out[i] = alphabet[r[i] & 63];
  out[n] = '\0';
}

static guint32
random32(void)
{
  guint32 v;

  RAND_bytes((guint8 *)&v, sizeof v);
  return v;
}

static void
track_init(HcViewerTrack *t, HcRing *ring, int pt, guint32 clock)
{
  t->ring = ring;
  t->pt = ring ? pt : -1;
  t->ssrc = random32() | 1;
  t->clock = clock;
  t->seq_base = (guint16)random32();
  t->ts_offset = random32();
}

HcViewer *
hc_viewer_new(const char *stream, HcRtpOut *out, const char *peer_fp, int video_pt, int audio_pt)
{
  HcViewer *v = g_new0(HcViewer, 1);
  guint8 id[16];

  RAND_bytes(id, sizeof id);
  for (guint i = 0; i < sizeof id; i++)
    g_snprintf(v->id + 2 * i, 3, "%02x", id[i]);
  v->stream = g_strdup(stream);
  v->out = hc_rtp_out_ref(out);
  random_string(v->ufrag, 8);
  random_string(v->pwd, 24);
  g_strlcpy(v->peer_fp, peer_fp, sizeof v->peer_fp);
  track_init(&v->video, out->video, video_pt, 90000);
  track_init(&v->audio, out->audio, audio_pt, 48000);
  if (v->audio.ssrc == v->video.ssrc)
    v->audio.ssrc ^= 2;
  v->created_us = v->last_heard_us = g_get_monotonic_time();
  v->since_real_us = g_get_real_time();
  g_atomic_int_inc(&out->viewers);
  g_mutex_lock(&lock);
  if (!registry) {
    registry = g_hash_table_new(g_str_hash, g_str_equal);
    per_stream = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  }
  g_hash_table_insert(registry, v->id, v);
  count(v, 1);
  v->registered = TRUE;
  g_mutex_unlock(&lock);
  return v;
}

void
hc_viewer_free(HcViewer *v)
{
  if (!v)
    return;
  g_mutex_lock(&lock);
  if (v->registered) {
    g_hash_table_remove(registry, v->id);
    count(v, -1);
  }
  v->registered = FALSE;
  g_mutex_unlock(&lock);
  g_atomic_int_add(&v->out->viewers, -1);
  if (v->publisher)
    hc_publisher_peer_freed(v->publisher);
  hc_dtls_free(v->dtls);
  hc_srtp_free(v->srtp);
  hc_srtp_fast_free(v->srtp_fast);
  hc_rtp_out_unref(v->out);
  g_free(v->stream);
  g_free(v);
}

guint64
hc_viewer_track_index(const HcViewerTrack *t, guint16 seq)
{
  guint16 last, back;

  if (!t->started || t->next == t->first)
    return G_MAXUINT64;
  /* Sequence numbers are seq_base + (index - first), mod 2^16. */
  last = (guint16)(t->seq_base + (guint16)(t->next - 1 - t->first));
  back = (guint16)(last - seq);
  if (back >= t->next - t->first || back >= t->ring->size)
    return G_MAXUINT64;
  return t->next - 1 - back;
}

const char *
hc_viewer_state_name(HcViewerState st)
{
  static const char *const names[] = {"ice", "dtls", "connected", "closed"};
  return (guint)st < G_N_ELEMENTS(names) ? names[st] : "unknown";
}

guint
hc_viewers_count(const char *stream)
{
  guint n = 0;

  g_mutex_lock(&lock);
  if (registry)
    n = stream ? GPOINTER_TO_UINT(g_hash_table_lookup(per_stream, stream))
               : g_hash_table_size(registry);
  g_mutex_unlock(&lock);
  return n;
}

void
hc_viewers_foreach(const char *stream, void (*fn)(const HcViewer *v, gpointer data), gpointer data)
{
  GHashTableIter it;
  gpointer v;

  g_mutex_lock(&lock);
  if (registry) {
    g_hash_table_iter_init(&it, registry);
    while (g_hash_table_iter_next(&it, NULL, &v))
      if (!stream || strcmp(((HcViewer *)v)->stream, stream) == 0)
        fn(v, data);
  }
  g_mutex_unlock(&lock);
}

gboolean
hc_viewers_exists(const char *stream, const char *id)
{
  HcViewer *v;
  gboolean found;

  g_mutex_lock(&lock);
  v = registry ? g_hash_table_lookup(registry, id) : NULL;
  found = v && strcmp(v->stream, stream) == 0;
  g_mutex_unlock(&lock);
  return found;
}

int
hc_viewers_unregister(const char *stream, const char *id)
{
  HcViewer *v;
  int worker = -1;

  g_mutex_lock(&lock);
  v = registry ? g_hash_table_lookup(registry, id) : NULL;
  if (v && strcmp(v->stream, stream) == 0) {
    g_hash_table_remove(registry, id);
    count(v, -1);
    v->registered = FALSE;
    worker = (int)v->worker;
  }
  g_mutex_unlock(&lock);
  return worker;
}
