/*  soak -- target 6: the worker's memory over a long, steady run.

    A spawned worker (sync normal unless --sync says otherwise) is sent
    --rows rows in --batch-ops batches spread evenly over --duration
    seconds (open loop, from --clients clients), while its resident memory
    is sampled every --sample-s seconds from /proc/<pid>/status. Passes
    when its peak (VmHWM) stays at or under --rss-limit-mib and the memory
    is flat: no sample of the second half of the run is more than 10 %
    (and 1 MiB) above the highest sample of the first half. The default is
    the issue's: 10 million rows over 10 minutes, 64 MiB. */

#ifndef BENCH_SOAK_H
#define BENCH_SOAK_H

#include "options.h"

/* Run the soak with options (mode BENCH_SOAK) and report it. Returns the
   exit status: 0 passed with every batch ok, 1 not, 3 set-up failed. */
int soak_main (const options_t *options);

#endif
