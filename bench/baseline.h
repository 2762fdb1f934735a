/*  baseline -- the same workload written straight into SQLite, without
    ledgerd: what producers would do on their own (--direct), and the most
    one writer can do (--raw).

    A baseline writer is one connection set up as the worker sets up its
    own (WAL, foreign keys, the --sync setting, a busy timeout) on a
    database with the worker's schema (made by the worker's own migration
    code), running the worker's statements. Each batch of the workload is
    one transaction: BEGIN IMMEDIATE, its B ops, COMMIT -- a busy or failed
    transaction is rolled back and counted by the class the worker would
    have given it. No idempotency record is written: producers writing the
    file themselves have none, which is one of the things ledgerd adds.

    The two baselines run these writers: direct.h (--direct, many
    processes) and raw.h (--raw, one writer). */

#ifndef BENCH_BASELINE_H
#define BENCH_BASELINE_H

#include "options.h"
#include "tally.h"
#include "workload.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* Called about ten times a second while a baseline runs. */
typedef void (baseline_tick_fn) (void *arg, int64_t started_ns);

/* Make the database at path: the worker's schema and pragmas, then count
   prefill rows (1000 per transaction), whose ids and instants go into rows
   [0 .. count). Returns 0, or -1 with errbuf set. */
int baseline_create (const char *path, const options_t *options, work_row_t *rows, size_t count,
                     char *errbuf, size_t errlen);

typedef struct _baseline_t baseline_t;

/* Open a writer on the database at path (made by baseline_create). Returns
   NULL with errbuf set when it cannot. */
baseline_t *baseline_new (const char *path, const options_t *options, char *errbuf, size_t errlen);

/* Close the connection, destroy the writer and set *self_p to NULL. */
void baseline_destroy (baseline_t **self_p);

typedef struct {
    int lane;                   /* this writer's lane of the workload, of lanes */
    int lanes;
    uint64_t quota;             /* transactions to run; 0: until deadline_ns */
    int64_t start_ns;           /* the clock started */
    int64_t deadline_ns;
    const work_row_t *prefill;
    size_t prefill_count;
    tally_live_t *live;         /* may be NULL */
    atomic_bool *stop;          /* set by someone else to stop the run early (may be NULL) */
    baseline_tick_fn *tick;     /* may be NULL */
    void *tick_arg;
} baseline_plan_t;

/* Run the workload of options as plan says, adding the outcomes to tally.
   Returns 0, or -1 with errbuf set if it had to stop early. */
int baseline_run (baseline_t *self, const options_t *options, const baseline_plan_t *plan, tally_t *tally,
                  char *errbuf, size_t errlen);

/* Run op (a WORK_GET or WORK_QUERY) alone in a transaction of its own and
   put the rows it read (id and instant, at most max) into rows and their
   number into *count_p: for the test that holds the baselines to the
   worker. Returns 0, or -1 with errbuf set. */
int baseline_read (baseline_t *self, const work_op_t *op, work_row_t *rows, size_t max, size_t *count_p,
                   char *errbuf, size_t errlen);

#endif
