/*  timing -- the one clock every figure is measured with.

    CLOCK_MONOTONIC in nanoseconds: it never jumps, and it is the same clock
    in every process of the machine, so the --direct writers (separate
    processes) and the parent that starts them agree on when the run began. */

#ifndef BENCH_TIMING_H
#define BENCH_TIMING_H

#include <stdint.h>

#define TIMING_NS_PER_S  1000000000LL
#define TIMING_NS_PER_MS 1000000LL
#define TIMING_NS_PER_US 1000LL

/* Now, in nanoseconds on the monotonic clock. */
int64_t timing_now_ns (void);

/* Sleep until the monotonic clock reads when_ns (returns at once if it
   already has). */
void timing_sleep_until_ns (int64_t when_ns);

/* CPU seconds this process (every thread) has used so far. */
double timing_cpu_s (void);

/* Now, in microseconds since 1970 (for created_us, as the worker stamps). */
int64_t timing_wall_us (void);

#endif
