/*  tally -- what one side of a run did: outcomes by class, rows, latency. */

#include "tally.h"

#include <string.h>

static const char *s_class_names [TALLY_CLASS_COUNT] = {
#define X(sym, name) [TALLY_##sym] = name,
    TALLY_CLASS_LIST (X)
#undef X
};

const char *
tally_class_name (tally_class_t klass)
{
    return klass < TALLY_CLASS_COUNT? s_class_names [klass]: "?";
}

tally_class_t
tally_class_from_name (const char *name)
{
    for (int klass = 0; name && klass < TALLY_UNKNOWN + 1; klass++)
        if (strcmp (name, s_class_names [klass]) == 0)
            return (tally_class_t) klass;
    return TALLY_OTHER;
}

void
tally_reset (tally_t *self)
{
    memset (self, 0, sizeof (*self));
}

void
tally_merge (tally_t *self, const tally_t *other)
{
    self->batches_ok += other->batches_ok;
    for (int klass = 0; klass < TALLY_CLASS_COUNT; klass++)
        self->errors [klass] += other->errors [klass];
    self->ops_ok += other->ops_ok;
    self->ops_failed += other->ops_failed;
    self->rows_written += other->rows_written;
    self->rows_read += other->rows_read;
    self->replays += other->replays;
    self->resent += other->resent;
    if (other->started_ns && (!self->started_ns || other->started_ns < self->started_ns))
        self->started_ns = other->started_ns;
    if (other->finished_ns > self->finished_ns)
        self->finished_ns = other->finished_ns;
    histogram_merge (&self->latency, &other->latency);
}

uint64_t
tally_failed (const tally_t *self)
{
    uint64_t failed = 0;
    for (int klass = 0; klass < TALLY_CLASS_COUNT; klass++)
        failed += self->errors [klass];
    return failed;
}

double
tally_seconds (const tally_t *self)
{
    if (!self->started_ns || self->finished_ns <= self->started_ns)
        return 0;
    return (double) (self->finished_ns - self->started_ns) / 1e9;
}

bool
tally_clean (const tally_t *self)
{
    return self->batches_ok > 0 && tally_failed (self) == 0 && self->ops_failed == 0;
}

void
tally_live_count (tally_live_t *live, bool ok)
{
    if (!live)
        return;
    atomic_fetch_add_explicit (&live->done, 1, memory_order_relaxed);
    if (!ok)
        atomic_fetch_add_explicit (&live->failed, 1, memory_order_relaxed);
}

static double
s_per_s (const tally_t *self, uint64_t count)
{
    double seconds = tally_seconds (self);
    return seconds > 0? (double) count / seconds: 0;
}

double
tally_batches_per_s (const tally_t *self)
{
    return s_per_s (self, self->batches_ok);
}

double
tally_rows_per_s (const tally_t *self)
{
    return s_per_s (self, self->rows_written);
}

double
tally_rows_read_per_s (const tally_t *self)
{
    return s_per_s (self, self->rows_read);
}

double
tally_latency_us (const tally_t *self, double percent)
{
    return (double) histogram_percentile (&self->latency, percent) / 1000.0;
}
