/*  raw -- the --raw baseline: one writer (baseline.h) on this thread, no
    worker, no network, no idempotency record: the most the file can take. */

#ifndef BENCH_RAW_H
#define BENCH_RAW_H

#include "baseline.h"

/* Run options' workload with one writer on this thread on a new database
   at path, prefilled with prefill_count rows; the rest as direct_run
   (direct.h). Returns 0, or -1 with errbuf set. */
int raw_run (const char *path, const options_t *options, size_t prefill_count, tally_t *tally,
             tally_live_t *live, baseline_tick_fn *tick, void *tick_arg, char *errbuf, size_t errlen);

#endif
