/*  histogram -- latencies in nanoseconds, with percentiles to within 0.4 %. */

#include "histogram.h"

#include <math.h>
#include <string.h>

/*  Values below HISTOGRAM_LINEAR have a bucket each. Above, a value whose
    top bit is bit e is shifted right by e - (SUB_BITS - 1), leaving 128..255,
    and each shift has HISTOGRAM_HALF buckets. */
static int
s_index (uint64_t value)
{
    if (value < HISTOGRAM_LINEAR)
        return (int) value;
    int top = 63 - __builtin_clzll (value);
    int shift = top - (HISTOGRAM_SUB_BITS - 1);
    return HISTOGRAM_LINEAR + (shift - 1) * HISTOGRAM_HALF + (int) ((value >> shift) - HISTOGRAM_HALF);
}

/*  The middle of bucket index. */
static int64_t
s_middle (int index)
{
    if (index < HISTOGRAM_LINEAR)
        return index;
    int shift = (index - HISTOGRAM_LINEAR) / HISTOGRAM_HALF + 1;
    uint64_t low = (uint64_t) ((index - HISTOGRAM_LINEAR) % HISTOGRAM_HALF + HISTOGRAM_HALF) << shift;
    return (int64_t) (low + ((1ULL << shift) - 1) / 2);
}

void
histogram_reset (histogram_t *self)
{
    memset (self, 0, sizeof (*self));
}

void
histogram_record (histogram_t *self, int64_t value)
{
    if (value < 0)
        value = 0;
    if (self->count == 0 || value < self->min)
        self->min = value;
    if (self->count == 0 || value > self->max)
        self->max = value;
    self->count++;
    self->sum += (double) value;
    self->buckets [s_index ((uint64_t) value)]++;
}

void
histogram_merge (histogram_t *self, const histogram_t *other)
{
    if (other->count == 0)
        return;
    if (self->count == 0 || other->min < self->min)
        self->min = other->min;
    if (self->count == 0 || other->max > self->max)
        self->max = other->max;
    self->count += other->count;
    self->sum += other->sum;
    for (int index = 0; index < HISTOGRAM_BUCKETS; index++)
        self->buckets [index] += other->buckets [index];
}

int64_t
histogram_percentile (const histogram_t *self, double percent)
{
    if (self->count == 0)
        return 0;
    if (percent >= 100)
        return self->max;
    uint64_t rank = (uint64_t) ceil (percent / 100.0 * (double) self->count);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (int index = 0; index < HISTOGRAM_BUCKETS; index++) {
        seen += self->buckets [index];
        if (seen >= rank) {
            int64_t value = s_middle (index);
            return value < self->min? self->min: value > self->max? self->max: value;
        }
    }
    return self->max;
}

double
histogram_mean (const histogram_t *self)
{
    return self->count? self->sum / (double) self->count: 0;
}
