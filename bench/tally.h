/*  tally -- what one side of a run did: outcomes by class, rows, latency.

    Every client thread (and every --direct writer process) keeps its own
    tally, so recording takes no lock; the parent merges them at the end.
    A tally is a plain value for the same reason a histogram is: the
    --direct writers fill theirs in shared memory.

    tally_live_t is the little that is shared while the run goes on, for the
    progress line: two counters updated with relaxed atomics. */

#ifndef BENCH_TALLY_H
#define BENCH_TALLY_H

#include "histogram.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/*  The protocol's error classes, then the outcomes only a client sees. */
#define TALLY_CLASS_LIST(X) \
    X (PROTOCOL,   "protocol") \
    X (TOO_LARGE,  "too_large") \
    X (INVALID,    "invalid") \
    X (NOT_FOUND,  "not_found") \
    X (CONSTRAINT, "constraint") \
    X (CONFLICT,   "conflict") \
    X (BUSY,       "busy") \
    X (IO,         "io") \
    X (OVERLOADED, "overloaded") \
    X (DENIED,     "denied") \
    X (INTERNAL,   "internal") \
    X (UNKNOWN,    "unknown")       /* no reply after every try */ \
    X (OTHER,      "other")         /* a class this build does not know */ \
    X (LOCAL,      "local")         /* the batch could not be built or sent */ \
    X (LOST,       "lost")          /* still in flight when the run stopped waiting */

typedef enum {
#define X(sym, name) TALLY_##sym,
    TALLY_CLASS_LIST (X)
#undef X
    TALLY_CLASS_COUNT
} tally_class_t;

typedef struct {
    uint64_t batches_ok;
    uint64_t errors [TALLY_CLASS_COUNT];        /* batches not ok, by class */
    uint64_t ops_ok;            /* ops in ok batches */
    uint64_t ops_failed;        /* ops that failed inside ok (independent-mode) batches */
    uint64_t rows_written;      /* rows created, updated or deleted */
    uint64_t rows_read;         /* rows returned by get and query */
    uint64_t replays;           /* ok batches answered from the idempotency log */
    uint64_t resent;            /* batches sent more than once */
    int64_t started_ns;         /* the clock started (monotonic) */
    int64_t finished_ns;        /* the last outcome arrived */
    histogram_t latency;        /* ns, of every batch with an outcome (errors too) */
} tally_t;

typedef struct {
    atomic_uint_fast64_t done;  /* batches with an outcome */
    atomic_uint_fast64_t failed;        /* of which not ok */
} tally_live_t;

/* The name of class klass ("busy"). */
const char *tally_class_name (tally_class_t klass);

/* The class named name; TALLY_OTHER for a name this build does not know. */
tally_class_t tally_class_from_name (const char *name);

/* Empty the tally. */
void tally_reset (tally_t *self);

/* Add other to self; the interval becomes the one covering both. */
void tally_merge (tally_t *self, const tally_t *other);

/* Batches not ok, over every class. */
uint64_t tally_failed (const tally_t *self);

/* Seconds from the start of the clock to the last outcome (0 if none). */
double tally_seconds (const tally_t *self);

/* Whether anything ran and every batch and every op in it was ok. */
bool tally_clean (const tally_t *self);

/* Count one batch's outcome in live (done, and failed unless ok). */
void tally_live_count (tally_live_t *live, bool ok);

/* Figures a report shows. */

/* Ok batches per second over the tally's interval (0 if none). */
double tally_batches_per_s (const tally_t *self);

/* Rows written per second. */
double tally_rows_per_s (const tally_t *self);

/* Rows read per second. */
double tally_rows_read_per_s (const tally_t *self);

/* Latency at percentile percent (100: the maximum), in microseconds. */
double tally_latency_us (const tally_t *self, double percent);

#endif
