/*  compare -- the standard matrix in one go, and its verdicts.

    Five steps, each on a new worker and new databases, each --duration
    long (5 s by default): (1) 1-op batches from 8 clients against the
    worker and against --direct, sync full; (2) the same with sync normal;
    (3) 1000-op batches from 1 client against the worker and --raw, sync
    normal; (4) one client, window 1, 1-op batches, against the bare
    ZeroMQ echo, sync normal; (5) 4 writers alone, then beside 4 clients
    paging through txn.query. Throughput steps keep --window batches in
    flight per worker client (16 by default); the direct writers, being
    plain SQLite, have one at a time each. Every figure, every ratio and
    PASS/FAIL per target is printed; target 6 is `ledger-bench soak`. */

#ifndef BENCH_COMPARE_H
#define BENCH_COMPARE_H

#include "options.h"

/* Run the matrix with options (mode BENCH_COMPARE) and report it. Returns
   the exit status: 0 every target passed and every batch was ok, 1 not,
   3 a step could not be set up. */
int compare_main (const options_t *options);

#endif
