/*  frontend -- the thread that owns the ROUTER socket and runs the writes.

    It receives requests, decodes and validates them (so malformed input
    never reaches the database), and answers what it can itself (protocol,
    too_large, invalid, overloaded). Batches that only read go to the reader
    threads. Batches that write wait in its queue, and it runs them itself,
    on the one read-write connection, as group commits: every waiting batch
    (up to --group-max) in one transaction. It is the single writer, on the
    same thread as the socket, as in Redis and dqlite: a batch of a few
    rows costs SQLite microseconds, less than handing it to another thread
    and back. While SQLite waits for a lock held by another process, its
    busy handler keeps this loop serving reads and queueing writes. Sends
    never block: a reply to a peer that is gone or not reading is dropped
    and counted. */

#ifndef WORKER_FRONTEND_H
#define WORKER_FRONTEND_H

#include "auth.h"
#include "cluster.h"
#include "config.h"
#include "stats.h"
#include "store.h"

#include <signal.h>

typedef struct _frontend_t frontend_t;

/* Create the ROUTER socket on ctx and bind every endpoint of config, and
   start one reader thread per store in readers [0 .. config->readers).
   Takes the writer's store (*writer_p) and each reader's store (readers [n])
   on success, setting them to NULL; on failure the stores not taken are
   the caller's. In cluster mode (cluster not NULL) there is no writer's
   store to give: the front end opens one on the dqlite node while this
   node leads, and answers NOT_LEADER while it does not. Returns NULL and
   writes why into errbuf on failure. */
frontend_t *frontend_new (void *ctx, const config_t *config, stats_t *stats, store_t **writer_p,
                          store_t **readers, cluster_t *cluster, char *errbuf, size_t errlen);

/* Stop the readers, close the stores and sockets, giving queued replies a
   moment to leave; set *self_p to NULL. */
void frontend_destroy (frontend_t **self_p);

/* Check every request's CURVE key against auth (borrowed; NULL: no check). */
void frontend_set_auth (frontend_t *self, auth_t *auth);

/* Serve until *stop becomes non-zero (wake_fd becomes readable when it
   does), then stop reading requests, reply to every batch already taken,
   and return 0. Returns -1 if polling fails. */
int frontend_run (frontend_t *self, int wake_fd, volatile sig_atomic_t *stop);

#endif
