/*  script -- JSON-lines batches to replay, as `ledgerctl submit` reads them.

    One batch per non-blank line: {"ops": [...], "mode": ..., "key": ...}.
    Every line is checked with ledger_batch_from_json when the script is
    loaded, before the clock starts, so a bad line is a setup error and not
    a thousand failed batches. The lines are kept as text and made into a
    batch again at each send: a batch object remembers the idempotency key
    it was first sent with, so sending the same object twice would be a
    replay, not a new batch. (A line that carries its own "key" is a replay
    from its second send on, by design of the protocol.) */

#ifndef BENCH_SCRIPT_H
#define BENCH_SCRIPT_H

#include "ledger.h"

#include <stddef.h>

typedef struct _script_t script_t;

/* Load and check every line of the file at path ("-" for stdin). Returns
   NULL with errbuf saying which line is wrong, or that the file has none. */
script_t *script_new (const char *path, char *errbuf, size_t errlen);

/* Destroy the script and set *self_p to NULL. */
void script_destroy (script_t **self_p);

/* How many batches (lines) the script has. */
size_t script_size (script_t *self);

/* A new batch made from line index % size. Returns NULL (errbuf says why)
   only if memory ran out, since every line was checked at load. */
ledger_batch_t *script_batch (script_t *self, size_t index, char *errbuf, size_t errlen);

#endif
