/*  auth -- the ZAP handler: which CURVE clients may talk to the worker.

    A thread answers libzmq's ZAP requests (RFC 27) for every CURVE socket
    of a context: a client whose public key has a certificate in the allow
    directory is admitted with its key, in Z85, as the connection's user id
    (a message's "User-Id" property); anything else is refused. czmq's zauth
    cannot serve here, since it leaves the user id empty.

    The directory is watched, not just read once: the thread looks at it
    at every handshake and every AUTH_CHECK_MS, and reloads the keys when a
    file came, went or changed, so a removed certificate stops new
    connections at once. A connection opened before the removal stays open
    (ZeroMQ authenticates only at the handshake); the front end asks
    auth_allows on every request to shut it out too, within AUTH_CHECK_MS. */

#ifndef WORKER_AUTH_H
#define WORKER_AUTH_H

#include <stdbool.h>
#include <stddef.h>

typedef struct _auth_t auth_t;

/* How often the allow directory is looked at, in milliseconds. */
#define AUTH_CHECK_MS 250

/* Load the public certificates in allow_dir and start answering ZAP
   requests on ctx (a ZeroMQ context; bind this before any CURVE socket of
   ctx binds or connects). A certificate is any file directly in allow_dir
   whose name neither starts with '.' nor ends in "_secret" and that holds
   a czmq certificate's curve/public-key; other files are skipped. Returns
   NULL and writes why into errbuf if the directory cannot be read or the
   handler cannot be bound. Destroy with auth_destroy. */
auth_t *auth_new (void *ctx, const char *allow_dir, char *errbuf, size_t errlen);

/* Stop the handler thread and free everything; set *self_p to NULL. Safe
   with a NULL *self_p. No call of auth_allows may be running. */
void auth_destroy (auth_t **self_p);

/* True when user_id (a public key in Z85, 40 characters) has a certificate
   in the allow directory as last read. False for NULL. Thread-safe, and
   cheap: one lock and one hash lookup, no file access. */
bool auth_allows (auth_t *self, const char *user_id);

/* How many keys the allow directory held when last read. Thread-safe. */
size_t auth_size (auth_t *self);

#endif
