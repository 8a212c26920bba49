/* One load-generator viewer: its UDP socket, the ICE connectivity checks
 * (controlling against an ICE-lite WHEP server, controlled against Janus's
 * full agent), the DTLS client handshake, and per-packet counting: RTP
 * sequence gaps per SSRC and a sample of packets decrypted with libsrtp.
 * Called from main.c's media loop; nothing here blocks. */
#include <errno.h>
#include <linux/filter.h>
#include <linux/sock_diag.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <string.h>
#include <unistd.h>

#include "loadgen.h"

#define ICE_CHECK_US (50 * 1000)
#define CONSENT_US (2500 * 1000)
#define ICE_TIMEOUT_US (10 * G_USEC_PER_SEC)
#define DTLS_TIMEOUT_US (10 * G_USEC_PER_SEC)

static void
random_token(char *out, size_t n)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  uint8_t raw[64];

  RAND_bytes(raw, (int)n);
  for (size_t i = 0; i < n; i++)
    out[i] = alphabet[raw[i] & 63];
  out[n] = '\0';
}

HcLgViewer *
hc_lg_viewer_new(int id, gboolean controlling, const struct sockaddr_in *bind_to)
{
  HcLgViewer *v = g_new0(HcLgViewer, 1);
  struct sockaddr_in a = *bind_to;
  int rcvbuf = 1 << 20;

  v->id = id;
  v->controlling = controlling;
  v->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  a.sin_port = 0;
  /* Room for a keyframe burst while its media thread serves the other
   * sockets, as a browser has; capped by net.core.rmem_max (main.c then
   * sets --rcvbuf, past that cap when it may). */
  if (v->fd >= 0)
    setsockopt(v->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
  if (v->fd < 0 || bind(v->fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
    g_warning("viewer %d: socket: %s", id, g_strerror(errno));
    hc_lg_viewer_free(v);
    return NULL;
  }
  random_token(v->ufrag, 8);
  random_token(v->pwd, 24);
  v->start_us = g_get_monotonic_time();
  return v;
}

/* The kernel drops this socket's RTP before it is queued: classic BPF run
 * on each datagram at its UDP header (offset 8 is the payload's first
 * byte). RTP is a first byte of 128-191 (RFC 7983) whose payload type is
 * not RTCP's 64-95 (RFC 5761); STUN, DTLS and the sender reports still
 * come in, so the drop counter counts RTP packets only. */
int
hc_lg_viewer_filter_media(HcLgViewer *v)
{
  static struct sock_filter code[] = {
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 8),
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 128, 0, 6), /* < 128: STUN, DTLS: keep */
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 192, 5, 0), /* >= 192: not RTP: keep */
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 9),
    BPF_STMT(BPF_ALU | BPF_AND | BPF_K, 0x7f),
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 64, 0, 1), /* payload type < 64: RTP: drop */
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 96, 0, 1), /* 96-127: RTP: drop; 64-95: RTCP */
    BPF_STMT(BPF_RET | BPF_K, 0),
    BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
  };
  struct sock_fprog prog = {.len = G_N_ELEMENTS(code), .filter = code};

  if (setsockopt(v->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0)
    return -errno;
  v->filtered = TRUE;
  return 0;
}

uint64_t
hc_lg_viewer_dropped(const HcLgViewer *v)
{
  uint32_t mem[SK_MEMINFO_VARS] = {0};
  socklen_t len = sizeof(mem);

  if (getsockopt(v->fd, SOL_SOCKET, SO_MEMINFO, mem, &len) < 0 || len <= SK_MEMINFO_DROPS * 4)
    return 0;
  return mem[SK_MEMINFO_DROPS];
}

void
hc_lg_viewer_free(HcLgViewer *v)
{
  if (!v)
    return;
  if (v->fd >= 0)
    close(v->fd);
  if (v->ssl)
    SSL_free(v->ssl);
  if (v->srtp)
    srtp_dealloc(v->srtp);
  g_free(v->resource);
  g_free(v);
}

static socklen_t
addr_len(const struct sockaddr_storage *ss)
{
  return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static void
send_to_peer(HcLgViewer *v, const void *buf, size_t len)
{
  if (!v->have_peer)
    return; /* have_peer is only set for addresses of this host */
  /* A full socket buffer drops the datagram, as the network would. */
  (void)sendto(v->fd, buf, len, 0, (struct sockaddr *)&v->peer, addr_len(&v->peer));
}

static gboolean
same_addr(const struct sockaddr *a, const struct sockaddr_storage *b)
{
  if (a->sa_family != b->ss_family)
    return FALSE;
  if (a->sa_family == AF_INET)
    return memcmp(a, b, sizeof(struct sockaddr_in)) == 0;
  return memcmp(a, b, sizeof(struct sockaddr_in6)) == 0;
}

static void
fail(HcLgViewer *v, const char *why)
{
  g_warning("viewer %d: %s", v->id, why);
  v->state = HC_LG_FAILED;
}

/* ---- ICE ---- */

static void
send_check(const HcLgMediaConfig *cfg, HcLgViewer *v)
{
  uint8_t buf[HC_LG_STUN_MAX];
  char username[200];
  HcLgStunRequest req = {
    .controlling = v->controlling,
    .use_candidate = v->controlling,
    .priority = 1853824767u, /* peer-reflexive, as RFC 8445 §7.1.1 asks */
    .tiebreaker = cfg->tiebreaker,
    .username = username,
    .password = v->remote.pwd,
  };
  int n;

  g_snprintf(username, sizeof(username), "%s:%s", v->remote.ufrag, v->ufrag);
  n = hc_lg_stun_build_request(&req, v->stun_tid, buf, sizeof(buf));
  if (n > 0)
    send_to_peer(v, buf, (size_t)n);
}

static void
stun_input(HcLgViewer *v, const uint8_t *buf, size_t len, const struct sockaddr *from)
{
  HcLgStunMessage msg;
  size_t ulen = strlen(v->ufrag);

  if (hc_lg_stun_parse(buf, len, &msg) < 0) {
    g_debug("viewer %d: bad STUN message (%zu bytes)", v->id, len);
    return;
  }
  if (msg.type == HC_LG_STUN_BINDING_REQUEST) {
    uint8_t out[HC_LG_STUN_MAX];
    int n;

    if (strncmp(msg.username, v->ufrag, ulen) != 0 || msg.username[ulen] != ':' ||
        !hc_lg_stun_check_integrity(buf, len, &msg, v->pwd))
      return;
    if (!same_addr(from, &v->peer) && !hc_lg_addr_is_local(from))
      return;
    if (!v->have_peer) {
      memcpy(&v->peer, from,
             from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                         : sizeof(struct sockaddr_in));
      v->have_peer = TRUE;
    }
    if (msg.use_candidate)
      v->nominated = TRUE;
    n = hc_lg_stun_build_response(msg.tid, from, v->pwd, out, sizeof(out));
    if (n > 0)
      (void)sendto(v->fd, out, (size_t)n, 0, from,
                   from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                               : sizeof(struct sockaddr_in));
  } else if (msg.type == HC_LG_STUN_BINDING_SUCCESS) {
    if (memcmp(msg.tid, v->stun_tid, 12) != 0 ||
        !hc_lg_stun_check_integrity(buf, len, &msg, v->remote.pwd))
      return;
    if (!v->ice_success)
      v->ice_success_us = g_get_monotonic_time();
    v->ice_success = TRUE;
  }
}

/* ---- DTLS ---- */

static void
dtls_flush(HcLgViewer *v)
{
  BIO *wbio = SSL_get_wbio(v->ssl);
  char *data;
  long n;

  /* Memory BIO: each write by OpenSSL is one record flight; with the MTU set
   * it never exceeds one datagram per BIO_write, so send what is pending in
   * pieces no larger than the MTU. */
  while ((n = BIO_get_mem_data(wbio, &data)) > 0) {
    uint8_t buf[1500];
    int got = BIO_read(wbio, buf, (int)MIN((long)sizeof(buf), n));
    if (got <= 0)
      break;
    send_to_peer(v, buf, (size_t)got);
  }
}

static void
dtls_step(const HcLgMediaConfig *cfg, HcLgViewer *v)
{
  int rc = SSL_do_handshake(v->ssl);
  char fp[160];

  dtls_flush(v);
  if (rc == 1 && v->state == HC_LG_DTLS) {
    if (hc_lg_dtls_peer_fingerprint(v->ssl, fp, sizeof(fp)) < 0 ||
        g_ascii_strcasecmp(fp, v->remote.fingerprint) != 0) {
      fail(v, "DTLS peer certificate does not match the SDP fingerprint");
      return;
    }
    if (hc_lg_srtp_from_dtls(v->ssl, TRUE, TRUE, &v->srtp, &v->profile) < 0) {
      fail(v, "no SRTP keys from the DTLS handshake");
      return;
    }
    v->state = HC_LG_MEDIA;
    v->connected_us = g_get_monotonic_time();
  } else if (rc <= 0) {
    int err = SSL_get_error(v->ssl, rc);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      char msg[256];
      ERR_error_string_n(ERR_get_error(), msg, sizeof(msg));
      fail(v, msg);
    }
  }
}

static void
dtls_start(const HcLgMediaConfig *cfg, HcLgViewer *v)
{
  v->ssl = hc_lg_dtls_ssl_new(cfg->dtls);
  if (!v->ssl) {
    fail(v, "SSL_new failed");
    return;
  }
  v->state = HC_LG_DTLS;
  dtls_step(cfg, v);
}

static void
dtls_input(const HcLgMediaConfig *cfg, HcLgViewer *v, const uint8_t *buf, size_t len)
{
  uint8_t scratch[1500];

  if (!v->ssl)
    return;
  BIO_write(SSL_get_rbio(v->ssl), buf, (int)len);
  if (v->state == HC_LG_DTLS) {
    dtls_step(cfg, v);
  } else {
    /* Retransmitted server flights and alerts after the handshake. */
    while (SSL_read(v->ssl, scratch, sizeof(scratch)) > 0)
      ;
    dtls_flush(v);
  }
}

/* ---- RTP ---- */

void
hc_lg_track_count(HcLgViewer *v, uint32_t ssrc, uint16_t seq)
{
  HcLgTrack *t = NULL;

  for (guint i = 0; i < G_N_ELEMENTS(v->tracks); i++) {
    if (v->tracks[i].seen && v->tracks[i].ssrc == ssrc) {
      t = &v->tracks[i];
      break;
    }
    if (!v->tracks[i].seen) {
      t = &v->tracks[i];
      t->seen = TRUE;
      t->ssrc = ssrc;
      t->max_seq = seq;
      t->first_ext = seq;
      break;
    }
  }
  if (!t)
    return; /* more SSRCs than a viewer can have: ignored */
  if (t->received > 0) {
    uint16_t delta = (uint16_t)(seq - t->max_seq);
    if (delta != 0 && delta < 0x8000) {
      if (seq < t->max_seq)
        t->cycles += 65536;
      t->max_seq = seq;
    }
  }
  t->received++;
}

void
hc_lg_viewer_loss(const HcLgViewer *v, uint64_t *expected, uint64_t *lost)
{
  *expected = 0;
  *lost = 0;
  for (guint i = 0; i < G_N_ELEMENTS(v->tracks); i++) {
    const HcLgTrack *t = &v->tracks[i];
    uint64_t exp;

    if (!t->seen)
      continue;
    exp = t->cycles + t->max_seq - t->first_ext + 1;
    *expected += exp;
    if (exp > t->received)
      *lost += exp - t->received;
  }
}

static void
rtp_input(const HcLgMediaConfig *cfg, HcLgViewer *v, uint8_t *buf, size_t len)
{
  int n = (int)len;

  if (len < 12)
    return;
  if (v->state != HC_LG_MEDIA) {
    v->early++;
    return;
  }
  if (!hc_lg_is_rtp(buf, len)) { /* RTCP (RFC 5761 demultiplexing) */
    v->rtcp++;
    return;
  }
  v->packets++;
  v->bytes += len;
  hc_lg_track_count(
    v, (uint32_t)buf[8] << 24 | (uint32_t)buf[9] << 16 | (uint32_t)buf[10] << 8 | buf[11],
    (uint16_t)(buf[2] << 8 | buf[3]));
  if (cfg->verify_every > 0 && v->packets % (uint64_t)cfg->verify_every == 1 % cfg->verify_every) {
    if (srtp_unprotect(v->srtp, buf, &n) == srtp_err_status_ok)
      v->verified++;
    else
      v->verify_failed++;
  }
}

void
hc_lg_viewer_input(const HcLgMediaConfig *cfg, HcLgViewer *v, uint8_t *buf, size_t len,
                   const struct sockaddr *from)
{
  if (len == 0 || v->state == HC_LG_FAILED)
    return;
  if (hc_lg_is_stun(buf, len))
    stun_input(v, buf, len, from);
  else if (buf[0] >= 20 && buf[0] <= 63)
    dtls_input(cfg, v, buf, len);
  else if (buf[0] >= 128 && buf[0] <= 191)
    rtp_input(cfg, v, buf, len);
}

void
hc_lg_viewer_tick(const HcLgMediaConfig *cfg, HcLgViewer *v, gint64 now)
{
  struct timeval tv;

  if (v->state == HC_LG_FAILED)
    return;
  if (!v->have_peer && v->remote.has_candidate) {
    memcpy(&v->peer, &v->remote.candidate, sizeof(v->peer));
    v->have_peer = TRUE;
  }
  if (now >= v->next_stun_us && v->have_peer) {
    send_check(cfg, v);
    v->next_stun_us = now + (v->state == HC_LG_ICE ? ICE_CHECK_US : CONSENT_US);
  }
  switch (v->state) {
  case HC_LG_ICE:
    /* Controlled (Janus): wait a little for the peer's nomination. */
    if (v->ice_success && (v->controlling || v->nominated || now - v->ice_success_us > 500000))
      dtls_start(cfg, v);
    else if (now - v->start_us > ICE_TIMEOUT_US)
      fail(v, "ICE connectivity checks timed out");
    break;
  case HC_LG_DTLS:
    if (DTLSv1_get_timeout(v->ssl, &tv) && tv.tv_sec == 0 && tv.tv_usec == 0) {
      DTLSv1_handle_timeout(v->ssl);
      dtls_flush(v);
    }
    if (now - v->ice_success_us > DTLS_TIMEOUT_US)
      fail(v, "DTLS handshake timed out");
    break;
  default:
    break;
  }
}
