/* hc-wsload: many WebSocket clients of hallcast's /ws in one process. This
 * header holds the client side of RFC 6455 that the tool needs (frame
 * parsing and building, message reassembly, the HTTP upgrade) and the
 * per-connection state machine. Not part of the daemon: a benchmark tool. */
#ifndef HC_WSLOAD_H
#define HC_WSLOAD_H

#include <glib.h>
#include <stdint.h>

/* ---- frames (frame.c) ---- */

enum {
  HC_WSL_OP_CONT = 0x0,
  HC_WSL_OP_TEXT = 0x1,
  HC_WSL_OP_BINARY = 0x2,
  HC_WSL_OP_CLOSE = 0x8,
  HC_WSL_OP_PING = 0x9,
  HC_WSL_OP_PONG = 0xa,
};

/* Largest frame header: 2 bytes, 8 of extended length, 4 of mask. */
#define HC_WSL_MAX_HEADER 14

typedef struct {
  gboolean fin;
  int opcode;
  gsize header; /* bytes before the payload */
  guint64 len;  /* payload length */
  guint8 mask[4];
  gboolean masked;
} HcWslFrame;

/* Parses the frame header at buf (len bytes available), bounds-checked.
 * Returns 1 when the header is complete (f filled; the payload may still be
 * short: compare f->header + f->len with len), 0 when more bytes are needed,
 * -1 on a protocol error (*error says which; a static string). Server
 * frames must be unmasked, use no RSV bits and a known opcode; control
 * frames must be final and at most 125 bytes; a payload over max_payload is
 * an error too. */
int hc_wsl_frame_parse(const guint8 *buf, gsize len, guint64 max_payload, HcWslFrame *f,
                       const char **error);

/* Writes one masked client frame (fin set) with mask into out (cap bytes).
 * Returns its length, or 0 when it does not fit. */
gsize hc_wsl_frame_build(guint8 *out, gsize cap, int opcode, const void *payload, gsize len,
                         guint32 mask);

/* ---- messages (frame.c): reassembly of fragmented messages ---- */

typedef enum {
  HC_WSL_NEED_MORE, /* no complete frame in the buffer yet */
  HC_WSL_MESSAGE,   /* a whole text or binary message */
  HC_WSL_FRAGMENT,  /* a fragment was taken in; nothing to do yet */
  HC_WSL_PING,
  HC_WSL_PONG,
  HC_WSL_CLOSE, /* payload: 2-byte code and reason, or empty */
  HC_WSL_ERROR,
} HcWslEvent;

typedef struct {
  GByteArray *msg; /* fragments of the message in progress (allocated once) */
  gboolean in_msg; /* a fragmented message has begun */
  int msg_opcode;
  gsize max_message;
} HcWslReader;

void hc_wsl_reader_init(HcWslReader *r, gsize max_message);
void hc_wsl_reader_clear(HcWslReader *r);
/* Takes the next frame from buf (len bytes). *used is set to the bytes
 * consumed (0 for NEED_MORE). For MESSAGE, PING, PONG and CLOSE, *data and
 * *data_len give the payload, unmasked; it points into buf or into the
 * reader and stays valid until the next call. *opcode is the message's. On
 * ERROR, *error names the fault and the connection should be closed. */
HcWslEvent hc_wsl_reader_next(HcWslReader *r, const guint8 *buf, gsize len, gsize *used,
                              const guint8 **data, gsize *data_len, int *opcode,
                              const char **error);

/* ---- HTTP upgrade (handshake.c) ---- */

/* A fresh Sec-WebSocket-Key (base64 of 16 random bytes) into key[25]. */
void hc_wsl_handshake_key(char key[25]);
/* The upgrade request for path (already URL-encoded, e.g. "/ws?token=...")
 * offering subprotocol; a new string. */
char *hc_wsl_handshake_request(const char *host, const char *path, const char *key,
                               const char *subprotocol);
/* Checks the server's answer in buf (len bytes). Returns the length of the
 * header block (bytes up to and including the blank line) when it is a 101
 * with the right Upgrade, Sec-WebSocket-Accept for key and subprotocol; 0
 * when the header block is not complete yet; -1 otherwise (*error says
 * why). Bounded: never reads past len. */
gssize hc_wsl_handshake_check(const char *buf, gsize len, const char *key, const char *subprotocol,
                              const char **error);

/* ---- clients (client.c) ---- */

typedef enum {
  HC_WSL_CONNECTING, /* TCP connect in progress */
  HC_WSL_UPGRADING,  /* request sent, waiting for 101 */
  HC_WSL_JOINING,    /* session.join sent, waiting for its ack */
  HC_WSL_JOINED,
  HC_WSL_CLOSED,
} HcWslState;

typedef struct HcWslRun HcWslRun;

typedef struct {
  int index; /* 0..N-1; -1 for the control client */
  int fd;
  HcWslState state;
  char key[25];
  GByteArray *rx; /* bytes read and not yet consumed */
  GByteArray *tx; /* bytes waiting for the socket to take them */
  HcWslReader reader;
  gint64 started_us;
  int received; /* questions received */
  guint8 *seen; /* bit K: question K received (allocated on the first) */
  guint32 rng;
} HcWslClient;

/* What the loop needs from the run (main.c). */
struct HcWslRun {
  const char *host; /* IPv4 literal */
  int port;
  const char *session;
  int epfd;
  int questions;     /* the questions of this run */
  gint64 *sent_us;   /* per question: when it was written (0: not yet) */
  float *latency_ms; /* delivered latencies, appended, capacity entries */
  gsize capacity;
  gsize delivered, dup; /* latencies taken; repeated or unknown questions */
  gsize errors;         /* protocol errors and failed connections */
  int joined, closed;
  char last_error[160];
  /* Called when a client's session.join (or, for the control client, a
   * request) is acknowledged; id is the request's id. */
  void (*on_ack)(HcWslRun *run, HcWslClient *c, gint64 id, const char *text, gsize len);
};

/* A new client connecting (non-blocking) to run's host and port with token,
 * registered with run->epfd. NULL (and run->errors counted) when the socket
 * cannot be made. */
HcWslClient *hc_wsl_client_new(HcWslRun *run, int index, const char *token);
void hc_wsl_client_free(HcWslClient *c);
/* Handles readiness of c's socket (epoll events). */
void hc_wsl_client_ready(HcWslRun *run, HcWslClient *c, guint32 events);
/* Sends one text message on c (masked frame); FALSE when c is closed. */
gboolean hc_wsl_client_send(HcWslRun *run, HcWslClient *c, const char *text, gsize len);

#endif
