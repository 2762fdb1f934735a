/*  progress -- the live line on stderr while a phase runs.

    "  worker   2.3/5.0 s   45123 batches   19620 batches/s   0 errors",
    rewritten in place at most ten times a second, and only when stderr is
    a terminal; erased when the phase ends, so the table that follows (and
    any log) holds only results. */

#ifndef BENCH_PROGRESS_H
#define BENCH_PROGRESS_H

#include "tally.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct _progress_t progress_t;

/* A line for the phase called label, which ends after duration_s seconds
   or total batches (whichever is not 0), counting live. Draws nothing
   unless enabled. Returns NULL when memory runs out. */
progress_t *progress_new (const char *label, double duration_s, uint64_t total, tally_live_t *live, bool enabled);

/* Redraw if it is time; started_ns is when the phase's clock started.
   Has the signature of a driver or baseline tick (arg is the progress). */
void progress_tick (void *self, int64_t started_ns);

/* Erase the line, destroy the object and set *self_p to NULL. */
void progress_destroy (progress_t **self_p);

#endif
