/* The HTTP front door (front.c): owns the HTTP port's listening socket and a
 * thread that accepts every connection, serves GETs of HLS files itself, and
 * hands any other connection, with the bytes it has read, to libwebsockets. */
#ifndef HC_FRONT_H
#define HC_FRONT_H

#include <glib.h>

/* Takes a connection the front door does not serve: its socket (the callee's
 * to own and close) and the request bytes already read from it (len may be 0;
 * the bytes are the caller's). Called on the main thread. */
typedef void (*HcFrontHandoff)(int fd, const char *bytes, gsize len);

/* Binds address:port, listens, and starts the front door's thread; idle_s is
 * how long a connection may take to send a request or stay idle between
 * requests. Error HC_EINTERNAL when the address cannot be bound. Main thread. */
gboolean hc_front_start(const char *address, int port, int idle_s, HcFrontHandoff handoff,
                        GError **error);
/* Stops the thread and closes the listening socket and the connections it
 * still serves (handed-off ones are not its own). Main thread; idempotent. */
void hc_front_stop(void);

#endif
