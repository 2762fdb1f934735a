/*  histogram -- latencies in nanoseconds, with percentiles to within 0.4 %.

    Log-linear buckets in the manner of HdrHistogram: exact below 256 ns,
    then 128 buckets per power of two, so any value is stored to within
    1/256 of itself and a percentile is reported to within that. Recording
    is one bucket increment: cheap enough for every request of a run.

    The type is a plain value (no pointers) of fixed size, so a histogram
    can live in memory shared with the --direct writer processes and be
    merged by the parent; that is why its fields are visible here. Use the
    functions, not the fields. */

#ifndef BENCH_HISTOGRAM_H
#define BENCH_HISTOGRAM_H

#include <stdint.h>

#define HISTOGRAM_SUB_BITS 8
#define HISTOGRAM_LINEAR   (1 << HISTOGRAM_SUB_BITS)
#define HISTOGRAM_HALF     (HISTOGRAM_LINEAR / 2)
#define HISTOGRAM_BUCKETS  (HISTOGRAM_LINEAR + (63 - HISTOGRAM_SUB_BITS) * HISTOGRAM_HALF)

typedef struct {
    uint64_t count;
    int64_t min;
    int64_t max;
    double sum;
    uint64_t buckets [HISTOGRAM_BUCKETS];
} histogram_t;

/* Empty the histogram. */
void histogram_reset (histogram_t *self);

/* Record one value (negative values count as 0). */
void histogram_record (histogram_t *self, int64_t value);

/* Add every value recorded in other to self. */
void histogram_merge (histogram_t *self, const histogram_t *other);

/* The value at percentile percent (0..100) of what was recorded: the
   middle of its bucket, kept within [min, max]. 0 when empty. */
int64_t histogram_percentile (const histogram_t *self, double percent);

/* The mean of what was recorded, 0 when empty. */
double histogram_mean (const histogram_t *self);

#endif
