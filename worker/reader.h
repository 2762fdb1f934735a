/*  reader -- a thread that runs read-only batches on its own connection.

    Batches that only read (get, list, query, ping, stats) need no write
    lock, so they run here, beside the writer: each reader holds one
    read-only connection, and WAL gives every batch a consistent snapshot
    that includes every commit made before it began. Jobs arrive as
    pointers over an inproc PAIR socket, one at a time, and go back the same
    way with their reply filled in. */

#ifndef WORKER_READER_H
#define WORKER_READER_H

#include "store.h"

typedef struct _reader_t reader_t;

/* Start a reader thread on ctx (a ZeroMQ context), taking ownership of the
   store (on success *store_p becomes NULL). The thread connects a PAIR
   socket to endpoint, which the caller has already bound, and lowers its
   own CPU priority by nice (see reader.c). A batch that has waited more
   than max_wait_ms since the front end took it is not run: it comes back
   with job->expired set. Returns NULL and writes why into errbuf on
   failure; the store is then still the caller's. */
reader_t *reader_new (void *ctx, const char *endpoint, store_t **store_p, int nice, int max_wait_ms,
                      char *errbuf, size_t errlen);

/* Lower the calling thread's CPU priority to the process's nice plus nice
   (at most 19): how readers, and the backup thread, yield to the writer.
   Linux gives each thread its own nice value; raising it needs no
   privilege. Returns 0 (also for nice <= 0), or -1 with errno set. */
int reader_lower_priority (int nice);

/* Ask the thread to stop through pipe (the caller's end of the PAIR), wait
   for it, close the store; set *self_p to NULL. Jobs sent before this call
   are finished and sent back first. */
void reader_destroy (reader_t **self_p, void *pipe);

#endif
