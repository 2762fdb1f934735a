/*  stats -- counters shared by the front end (the writer) and the readers for sys.stats. */

#include "stats.h"

#include <string.h>
#include <time.h>

void
stats_init (stats_t *self)
{
    memset (self, 0, sizeof (*self));
    self->started_us = stats_now_us ();
}

void
stats_count_batch (stats_t *self, proto_class_t klass)
{
    if (klass == PROTO_CLASS_NONE)
        atomic_fetch_add (&self->batches_ok, 1);
    else
    if (klass < PROTO_CLASS_COUNT)
        atomic_fetch_add (&self->batches_failed [klass], 1);
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
