/*  peers -- the ROUTER's connections: how many there are, and what each
    one makes the worker hold.

    libzmq bounds a peer's queue in messages, not bytes, and it keeps a
    multipart message out of sight until its last frame arrives: a peer
    that sends one endless message, or sends requests and never reads the
    replies, grows the worker without limit, and libzmq offers no option
    against either. What it does offer is a monitor (the file descriptor
    of each accepted connection) and the descriptor a message came from
    (ZMQ_SRCFD). So this class keeps a table by descriptor: the wire bytes
    of the messages the front end took from each connection and of the
    replies it sent there. The kernel's TCP_INFO counts the bytes that
    really came in and that the peer acknowledged; the difference is what
    that peer has parked inside libzmq: a message still arriving, requests
    not yet read, replies not yet taken. When the worker is over its
    memory budget, the front end disconnects the peer that holds the most
    (as Redis's maxmemory-clients does), by shutting its socket down: libzmq
    sees the connection end and frees its queues.

    It also keeps the connection count under the open-files limit: a
    connection accepted past the capacity is closed at once (as nginx does
    past worker_connections), so libzmq's listener never meets EMFILE, on
    which it would spin. */

#ifndef WORKER_PEERS_H
#define WORKER_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _peers_t peers_t;

/* Start monitoring router (a ROUTER socket of ctx, not yet bound) for
   connections. capacity is the most connections to keep; curve says
   whether frames travel CURVE-encrypted (their wire size differs).
   Returns NULL and writes why into errbuf on failure. */
peers_t *peers_new (void *ctx, void *router, size_t capacity, bool curve, char *errbuf, size_t errlen);

/* Stop monitoring; set *self_p to NULL. */
void peers_destroy (peers_t **self_p);

/* The socket that becomes readable when a connection event is waiting. */
void *peers_events (peers_t *self);

/* Take every waiting connection event: count connections in and out, and
   close any accepted past the capacity. */
void peers_take_events (peers_t *self);

/* Bytes a frame of size bytes takes on the wire. */
uint64_t peers_wire_size (peers_t *self, size_t size);

/* Count wire bytes of a message taken from the connection fd (ZMQ_SRCFD
   of its frames), and of a reply sent to it. */
void peers_received (peers_t *self, int fd, uint64_t wire_bytes);
void peers_sent (peers_t *self, int fd, uint64_t wire_bytes);

/* Bytes the connection fd may make libzmq hold for it now, at most:
   requests that came in and were not yet taken (a message still arriving
   among them; up to 32 times their wire size), and replies sent and not
   yet acknowledged by the peer. 0 for a descriptor that is not a live TCP
   connection. */
size_t peers_held (peers_t *self, int fd);

/* Disconnect the connection that holds the most, if it holds at least
   min_bytes. Returns the bytes it held, or 0 if none was disconnected. */
size_t peers_evict_largest (peers_t *self, size_t min_bytes);

/* Connections open now. */
size_t peers_count (peers_t *self);

/* Connections closed because they came past the capacity, since start. */
uint64_t peers_refused (peers_t *self);

/* Connections disconnected by peers_evict_largest, since start. */
uint64_t peers_evicted (peers_t *self);

/* Raise the open-files soft limit to the hard limit, and return how many
   connections the process can take: the limit less the descriptors open
   now and a reserve for the database files, pipes and sockets the worker
   opens later (reserve). */
size_t peers_raise_fd_limit (size_t reserve, uint64_t *limit_p);

#endif
