/*  stats -- the worker's counters, for sys.stats and /metrics. */

#include "stats.h"

#include <string.h>
#include <time.h>

/*  Bucket bounds: microseconds for the three latencies (50 µs to 10 s: a
    batch of a few rows takes tens of µs, an fsync a millisecond or ten, a
    lock held by another process up to --busy-timeout-ms), and batches for
    the group size (up to --group-max's ceiling). */
static const uint64_t s_time_bounds [] = {
    50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000
};
static const uint64_t s_size_bounds [] = {
    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 10000
};
_Static_assert (sizeof (s_time_bounds) / sizeof (s_time_bounds [0]) <= STATS_MAX_BOUNDS, "too many bounds");
_Static_assert (sizeof (s_size_bounds) / sizeof (s_size_bounds [0]) <= STATS_MAX_BOUNDS, "too many bounds");

void
stats_init (stats_t *self)
{
    memset (self, 0, sizeof (*self));
    self->started_us = stats_now_us ();
}

stats_block_t *
stats_block (stats_t *self, int index)
{
    return &self->blocks [index >= 0 && index < STATS_BLOCKS? index: STATS_FRONTEND];
}

void
stats_count_batch (stats_block_t *block, proto_class_t klass)
{
    if (klass == PROTO_CLASS_NONE)
        stats_add (&block->batches_ok, 1);
    else
    if (klass < PROTO_CLASS_COUNT)
        stats_add (&block->batches_failed [klass], 1);
}

void
stats_count_ops (stats_block_t *block, int code, uint64_t n)
{
    stats_add (&block->ops [code >= 0 && code < PROTO_OP_COUNT? code: STATS_OP_UNKNOWN], n);
}

const uint64_t *
stats_bounds (stats_histogram_t which, int *count_p)
{
    if (which == STATS_GROUP_SIZE) {
        *count_p = (int) (sizeof (s_size_bounds) / sizeof (s_size_bounds [0]));
        return s_size_bounds;
    }
    *count_p = (int) (sizeof (s_time_bounds) / sizeof (s_time_bounds [0]));
    return s_time_bounds;
}

void
stats_observe (stats_block_t *block, stats_histogram_t which, uint64_t value)
{
    int count;
    const uint64_t *bounds = stats_bounds (which, &count);
    int bucket = 0;
    while (bucket < count && value > bounds [bucket])
        bucket++;
    stats_histogram_data_t *histogram = &block->histograms [which];
    stats_add (&histogram->buckets [bucket], 1);
    stats_add (&histogram->sum, value);
}

/*  Add count counters from `from` into `into`. */
static void
s_sum (atomic_uint_fast64_t *into, const atomic_uint_fast64_t *from, size_t count)
{
    for (size_t n = 0; n < count; n++)
        atomic_store_explicit (&into [n], stats_get (&into [n]) + stats_get (&from [n]), memory_order_relaxed);
}

#define S_SUM(field) s_sum (&total->field, &block->field, 1)
#define S_SUM_ARRAY(field) s_sum (total->field, block->field, sizeof (block->field) / sizeof (block->field [0]))

void
stats_total (stats_t *self, stats_block_t *total)
{
    memset (total, 0, sizeof (*total));
    for (int index = 0; index < STATS_BLOCKS; index++) {
        const stats_block_t *block = &self->blocks [index];
        S_SUM (batches_ok);
        S_SUM_ARRAY (batches_failed);
        S_SUM_ARRAY (ops);
        S_SUM (rows_changed);
        S_SUM (replays);
        S_SUM (replies_dropped);
        S_SUM (write_transactions);
        S_SUM (checkpoints);
        for (int which = 0; which < STATS_HISTOGRAMS; which++) {
            S_SUM_ARRAY (histograms [which].buckets);
            S_SUM (histograms [which].sum);
        }
    }
}

uint64_t
stats_batches (const stats_block_t *total)
{
    uint64_t batches = stats_get (&total->batches_ok);
    for (int klass = 0; klass < PROTO_CLASS_COUNT; klass++)
        batches += stats_get (&total->batches_failed [klass]);
    return batches;
}

uint64_t
stats_ops (const stats_block_t *total)
{
    uint64_t ops = 0;
    for (int code = 0; code < STATS_OPS; code++)
        ops += stats_get (&total->ops [code]);
    return ops;
}

int64_t
stats_now_us (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

int64_t
stats_monotonic_us (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
}
