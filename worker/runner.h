/*  runner -- a thread that owns one database connection and runs jobs.

    The writer is a runner on the one read-write connection, with group
    commit: it takes every job waiting (up to a count and a byte budget) and
    runs them in one transaction. Readers are runners on read-only
    connections, one job at a time, beside the writer (WAL lets them read a
    consistent snapshot while it writes). Jobs arrive as pointers over an
    inproc PAIR socket and go back the same way with their reply filled in;
    before running a group the runner says how many jobs it holds (a 4-byte
    count), so the front end knows how many are still waiting. */

#ifndef WORKER_RUNNER_H
#define WORKER_RUNNER_H

#include "store.h"

#include <stddef.h>

typedef struct _runner_t runner_t;

typedef struct {
    size_t group_max;           /* most jobs in one transaction; 1 = no grouping */
    size_t group_bytes;         /* stop adding jobs once their bodies pass this */
    int group_wait_us;          /* wait this long for more work when the queue is short */
} runner_options_t;

/* Start a runner thread on ctx (a ZeroMQ context), taking ownership of the
   store. The thread connects a PAIR socket to endpoint, which the caller
   has already bound. Returns NULL on failure. */
runner_t *runner_new (void *ctx, const char *endpoint, store_t **store_p, const runner_options_t *options);

/* Ask the thread to stop through pipe (the caller's end of the PAIR), wait
   for it, close the store; set *self_p to NULL. Jobs sent before this call
   are finished and sent back first. */
void runner_destroy (runner_t **self_p, void *pipe);

#endif
