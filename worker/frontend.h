/*  frontend -- the thread that owns the ROUTER socket.

    It receives requests, decodes and validates them (so malformed input
    never reaches the database), answers what it can itself (protocol,
    too_large, invalid, overloaded), passes the rest to the writer, and sends
    every reply back with its routing envelope. Sends never block: a reply to
    a peer that is gone or not reading is dropped and counted. */

#ifndef WORKER_FRONTEND_H
#define WORKER_FRONTEND_H

#include "config.h"
#include "stats.h"

#include <signal.h>

typedef struct _frontend_t frontend_t;

/* Create the ROUTER socket on ctx and bind every endpoint of config, and
   bind one job pipe per runner: the writer's (index 0), then one per
   reader. Batches that write or carry a key go to the writer; batches that
   only read go to the reader with the fewest in flight. Returns NULL and
   writes why into errbuf on failure. */
frontend_t *frontend_new (void *ctx, const config_t *config, stats_t *stats, char *errbuf, size_t errlen);

/* Close the sockets, giving queued replies a moment to leave; set *self_p
   to NULL. */
void frontend_destroy (frontend_t **self_p);

/* The endpoint runner `index` connects its end of the job pipe to. */
const char *frontend_pipe_endpoint (frontend_t *self, int index);

/* The front end's end of runner `index`'s pipe (for runner_destroy). */
void *frontend_pipe (frontend_t *self, int index);

/* Serve until *stop becomes non-zero (wake_fd becomes readable when it
   does), then stop reading requests, reply to every batch already taken,
   and return 0. Returns -1 if polling fails. */
int frontend_run (frontend_t *self, int wake_fd, volatile sig_atomic_t *stop);

#endif
