/* hc-loadgen: the WebRTC load generator's shared types and module API.
 * One process opens N viewers against a WHEP URL (hallcast) or Janus's
 * streaming plugin; signalling runs on one thread, media (STUN, DTLS,
 * SRTP) on K epoll threads, each owning a share of the viewers. Not part of the daemon: a benchmark
 * tool. */
#ifndef HC_LOADGEN_H
#define HC_LOADGEN_H

#include <glib.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <srtp2/srtp.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- STUN (stun.c): RFC 5389 binding requests/responses for ICE ---- */

#define HC_LG_STUN_MAX 548
#define HC_LG_STUN_BINDING_REQUEST 0x0001
#define HC_LG_STUN_BINDING_SUCCESS 0x0101
#define HC_LG_STUN_BINDING_ERROR 0x0111
#define HC_LG_STUN_COOKIE 0x2112A442u

typedef struct {
  gboolean controlling; /* ICE-CONTROLLING (else ICE-CONTROLLED) */
  gboolean use_candidate;
  uint32_t priority;
  uint64_t tiebreaker;
  const char *username; /* "remote_ufrag:local_ufrag" */
  const char *password; /* the remote side's ice-pwd */
} HcLgStunRequest;

typedef struct {
  uint16_t type;
  uint8_t tid[12];
  char username[128]; /* empty when absent */
  gboolean use_candidate;
  gboolean has_integrity, has_fingerprint, fingerprint_ok;
  gboolean has_mapped;
  struct sockaddr_storage mapped; /* XOR-MAPPED-ADDRESS */
  size_t integrity_offset;        /* where MESSAGE-INTEGRITY starts */
} HcLgStunMessage;

/* Builds a binding request with a fresh transaction id (copied to tid) into
 * out (HC_LG_STUN_MAX bytes). Returns the length, or a negative errno. */
int hc_lg_stun_build_request(const HcLgStunRequest *req, uint8_t tid[12], uint8_t *out, size_t cap);
/* Builds a success response to tid that maps from, signed with password. */
int hc_lg_stun_build_response(const uint8_t tid[12], const struct sockaddr *from,
                              const char *password, uint8_t *out, size_t cap);
/* Parses and bounds-checks a STUN message; checks the FINGERPRINT when
 * present. Returns 0 or -EINVAL. Never reads past len. */
int hc_lg_stun_parse(const uint8_t *buf, size_t len, HcLgStunMessage *msg);
/* TRUE when msg carries a MESSAGE-INTEGRITY that verifies with password. */
gboolean hc_lg_stun_check_integrity(const uint8_t *buf, size_t len, const HcLgStunMessage *msg,
                                    const char *password);
/* TRUE when the first byte says STUN (RFC 7983 demultiplexing). */
static inline gboolean
hc_lg_is_stun(const uint8_t *b, size_t n)
{
  return n >= 20 && b[0] < 4;
}

/* TRUE for RTP, not RTCP: first byte 128-191 (RFC 7983), payload type
 * outside RTCP's 64-95 (RFC 5761). */
static inline gboolean
hc_lg_is_rtp(const uint8_t *b, size_t n)
{
  return n >= 12 && b[0] >= 128 && b[0] <= 191 && ((b[1] & 0x7f) < 64 || (b[1] & 0x7f) > 95);
}

/* ---- DTLS (dtls.c): the client side, OpenSSL with memory BIOs ---- */

typedef struct HcLgDtlsContext HcLgDtlsContext;

/* One self-signed ECDSA P-256 certificate for every viewer. NULL on error. */
HcLgDtlsContext *hc_lg_dtls_context_new(void);
void hc_lg_dtls_context_free(HcLgDtlsContext *ctx);
/* "sha-256 AB:CD:..." of our certificate, owned by ctx. */
const char *hc_lg_dtls_fingerprint(const HcLgDtlsContext *ctx);
/* A new client SSL with memory BIOs, MTU 1200, the browser's SRTP profiles. */
SSL *hc_lg_dtls_ssl_new(HcLgDtlsContext *ctx);
/* A server-side SSL for tests (same certificate). */
SSL *hc_lg_dtls_server_ssl_new(HcLgDtlsContext *ctx);
/* "sha-256 AB:..." of the peer's certificate into out; 0 or -1. */
int hc_lg_dtls_peer_fingerprint(SSL *ssl, char *out, size_t cap);

/* ---- SRTP (srtp.c) ---- */

/* Derives the inbound (from the DTLS server) or outbound keys from a
 * finished DTLS handshake and creates a libsrtp session. is_client says
 * which side ssl is; inbound picks the peer's write key. 0 or -1. */
int hc_lg_srtp_from_dtls(SSL *ssl, gboolean is_client, gboolean inbound, srtp_t *out,
                         int *profile_out);
/* Creates a session from raw key+salt for a DTLS-SRTP profile id. */
int hc_lg_srtp_session_new(int profile, const uint8_t *key_salt, gboolean inbound, srtp_t *out);
/* "AEAD_AES_128_GCM" / "AES_CM_128_HMAC_SHA1_80" / "?" */
const char *hc_lg_srtp_profile_name(int profile);

/* ---- SDP (sdp.c) ---- */

typedef struct {
  char ufrag[64], pwd[128];
  char fingerprint[160];             /* "sha-256 AB:..." */
  char setup[16];                    /* actpass / active / passive */
  struct sockaddr_storage candidate; /* first UDP candidate on this host */
  gboolean has_candidate;
  gboolean ice_lite;
} HcLgSdpInfo;

typedef struct {
  const char *ufrag, *pwd, *fingerprint;
  const struct sockaddr *candidate; /* our socket */
} HcLgLocalIce;

/* A browser-like recvonly offer (Opus + H.264, bundle, rtcp-mux, actpass). */
char *hc_lg_sdp_whep_offer(const HcLgLocalIce *local);
/* Parses the ICE/DTLS parts of a remote description. 0 or -EINVAL. */
int hc_lg_sdp_parse(const char *sdp, HcLgSdpInfo *info);
/* A recvonly answer (setup:active) to a remote offer, e.g. Janus's. NULL on error. */
char *hc_lg_sdp_answer(const char *offer, const HcLgLocalIce *local);

/* ---- viewers (viewer.c): ICE, DTLS, SRTP and RTP counting per viewer ---- */

typedef enum {
  HC_LG_ICE = 0,
  HC_LG_DTLS,
  HC_LG_MEDIA,
  HC_LG_FAILED,
} HcLgViewerState;

typedef struct {
  uint32_t ssrc;
  gboolean seen;
  uint16_t max_seq;
  uint64_t cycles, first_ext, received;
} HcLgTrack;

typedef struct {
  int id;
  int fd;
  HcLgViewerState state;
  gboolean controlling;
  char ufrag[16], pwd[40];
  HcLgSdpInfo remote;
  struct sockaddr_storage peer; /* where we send: candidate or learnt */
  gboolean have_peer;
  gboolean ice_success, nominated;
  gint64 start_us, ice_success_us, next_stun_us, connected_us;
  uint8_t stun_tid[12];
  SSL *ssl;
  srtp_t srtp;
  int profile;
  HcLgTrack tracks[4];
  uint64_t packets, bytes, verified, verify_failed, rtcp, early;
  gboolean filtered; /* media dropped by the kernel (hc_lg_viewer_filter_media) */
  char *resource;    /* WHEP Location URL, or the Janus handle id as text */
} HcLgViewer;

typedef struct {
  HcLgDtlsContext *dtls;
  int verify_every; /* decrypt 1 RTP packet in this many */
  uint64_t tiebreaker;
} HcLgMediaConfig;

/* Creates a viewer with a non-blocking UDP socket on 127.0.0.1 and fresh
 * ICE credentials; controlling for WHEP (the server is ICE-lite). The
 * caller owns it; NULL on error. Any thread. */
HcLgViewer *hc_lg_viewer_new(int id, gboolean controlling, const struct sockaddr_in *bind_to);
void hc_lg_viewer_free(HcLgViewer *v);
/* Has the kernel drop the viewer's RTP before it is queued (a socket
 * filter; RTCP, STUN and DTLS still come in), so media to viewers outside
 * the sample costs the generator no reading. 0 or a negative errno. */
int hc_lg_viewer_filter_media(HcLgViewer *v);
/* Datagrams the kernel dropped for this socket: its filter's drops (and a
 * full buffer's). */
uint64_t hc_lg_viewer_dropped(const HcLgViewer *v);
/* Feeds one datagram from `from` to a viewer. Media thread only. */
void hc_lg_viewer_input(const HcLgMediaConfig *cfg, HcLgViewer *v, uint8_t *buf, size_t len,
                        const struct sockaddr *from);
/* Timers: ICE checks and consent, DTLS retransmissions. Media thread only. */
void hc_lg_viewer_tick(const HcLgMediaConfig *cfg, HcLgViewer *v, gint64 now_us);
/* Packets expected from the sequence numbers and lost, over all tracks. */
void hc_lg_viewer_loss(const HcLgViewer *v, uint64_t *expected, uint64_t *lost);
/* Counts one RTP header into the viewer's track table (unit-tested). */
void hc_lg_track_count(HcLgViewer *v, uint32_t ssrc, uint16_t seq);

/* ---- signalling (signal.c) ---- */

typedef struct {
  char *url;   /* WHEP URL, or Janus's base URL (http://127.0.0.1:8088/janus) */
  char *token; /* WHEP Bearer token */
  gboolean janus;
  gint64 janus_mount;
  int viewers;
  double rate;      /* viewers started per second */
  double hold_s;    /* seconds to keep all viewers after the ramp */
  double max_s;     /* hard bound on the whole run */
  int verify_every; /* decrypt 1 packet in K; 0 = auto */
  int gateway_pid;
  char *bind_addr; /* our candidate address; 127.0.0.1 by default */
  int threads;     /* media threads (epoll + recvmmsg each) */
  int rcvbuf_kb;   /* SO_RCVBUF of each viewer socket */
  gboolean gro;    /* UDP_GRO: receive GSO sends whole, split them here */
  int sample;      /* 1 viewer in K reads its media; the kernel drops the others' */
  int core;        /* the gateway's CPU, whose busy time is reported; -1: none */
} HcLgOptions;

typedef struct HcLgSignal HcLgSignal;
HcLgSignal *hc_lg_signal_new(const HcLgOptions *opt, HcLgDtlsContext *dtls);
/* Blocking: negotiates one viewer (WHEP POST, or the Janus watch/start
 * dance). Fills v->remote and v->resource. 0 or -1 (message logged). */
int hc_lg_signal_connect(HcLgSignal *s, HcLgViewer *v);
/* Blocking: leaves (WHEP DELETE / Janus detach), waiting at most timeout_ms. */
void hc_lg_signal_leave(HcLgSignal *s, HcLgViewer *v, long timeout_ms);
/* Keeps a Janus session alive while idle; no-op for WHEP. */
void hc_lg_signal_keepalive(HcLgSignal *s);
void hc_lg_signal_free(HcLgSignal *s);

/* TRUE for 127.0.0.0/8 and ::1. */
gboolean hc_lg_addr_is_loopback(const struct sockaddr *sa);
/* TRUE for loopback and for addresses of this host's own interfaces (such
 * as the one tools/netns-run adds in a private namespace): the only
 * addresses this tool sends media to. Calls getifaddrs(): not per packet. */
gboolean hc_lg_addr_is_local(const struct sockaddr *sa);

#endif
