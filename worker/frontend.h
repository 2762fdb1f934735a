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

/* Where the writer connects its end of the job pipe. */
#define FRONTEND_PIPE_ENDPOINT "inproc://ledgerd-writer"

/* Create the ROUTER socket on ctx and bind every endpoint of config, and
   bind the job pipe. Returns NULL and writes why into errbuf on failure. */
frontend_t *frontend_new (void *ctx, const config_t *config, stats_t *stats, char *errbuf, size_t errlen);

/* Close the sockets, giving queued replies a moment to leave; set *self_p
   to NULL. */
void frontend_destroy (frontend_t **self_p);

/* The front end's end of the job pipe (for writer_destroy). */
void *frontend_pipe (frontend_t *self);

/* Serve until *stop becomes non-zero (wake_fd becomes readable when it
   does), then stop reading requests, reply to every batch already taken,
   and return 0. Returns -1 if polling fails. */
int frontend_run (frontend_t *self, int wake_fd, volatile sig_atomic_t *stop);

#endif
