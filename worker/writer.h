/*  writer -- the one thread that writes to the database.

    Jobs arrive as pointers over an inproc PAIR socket and go back the same
    way with their reply filled in, in the order they came. One writer and
    one connection means no lock fights inside the worker: SQLITE_BUSY can
    only come from another process. */

#ifndef WORKER_WRITER_H
#define WORKER_WRITER_H

#include "store.h"

typedef struct _writer_t writer_t;

/* Start the writer thread on ctx (a ZeroMQ context), taking ownership of
   the store. The thread connects a PAIR socket to endpoint, which the
   caller has already bound. Returns NULL on failure. */
writer_t *writer_new (void *ctx, const char *endpoint, store_t **store_p);

/* Ask the thread to stop through pipe (the caller's end of the PAIR), wait
   for it, close the store; set *self_p to NULL. Jobs sent before this call
   are finished and sent back first. */
void writer_destroy (writer_t **self_p, void *pipe);

#endif
