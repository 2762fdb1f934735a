/*  direct -- the --direct baseline: --clients writer processes (baseline.h),
    forked before any SQLite connection exists in this process, each with
    its own connection to one file, started together. What producers would
    do on their own. */

#ifndef BENCH_DIRECT_H
#define BENCH_DIRECT_H

#include "baseline.h"

/* Run options' workload with options->clients processes on a new database
   at path, prefilled with prefill_count rows. Outcomes go into tally, the
   running count into live (may be NULL); tick (may be NULL) is called
   about ten times a second. Returns 0, or -1 with errbuf set when the run
   could not be set up or a process failed. */
int direct_run (const char *path, const options_t *options, size_t prefill_count, tally_t *tally,
                tally_live_t *live, baseline_tick_fn *tick, void *tick_arg, char *errbuf, size_t errlen);

#endif
