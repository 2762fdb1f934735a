/*  progress -- the live line on stderr while a phase runs. */

#include "progress.h"
#include "timing.h"

#include <stdio.h>
#include <stdlib.h>

#define S_REDRAW_NS (100 * TIMING_NS_PER_MS)

struct _progress_t {
    const char *label;
    double duration_s;
    uint64_t total;
    tally_live_t *live;
    bool enabled;
    bool drawn;
    int64_t drawn_ns;
};

progress_t *
progress_new (const char *label, double duration_s, uint64_t total, tally_live_t *live, bool enabled)
{
    progress_t *self = calloc (1, sizeof (progress_t));
    if (!self)
        return NULL;
    self->label = label;
    self->duration_s = duration_s;
    self->total = total;
    self->live = live;
    self->enabled = enabled && live;
    return self;
}

void
progress_tick (void *arg, int64_t started_ns)
{
    progress_t *self = (progress_t *) arg;
    if (!self || !self->enabled)
        return;
    int64_t now = timing_now_ns ();
    if (self->drawn && now - self->drawn_ns < S_REDRAW_NS)
        return;
    double seconds = (double) (now - started_ns) / 1e9;
    uint64_t done = atomic_load_explicit (&self->live->done, memory_order_relaxed);
    uint64_t failed = atomic_load_explicit (&self->live->failed, memory_order_relaxed);
    if (self->total)
        fprintf (stderr, "\r  %-8s %7.1f s  %10llu/%llu batches  %10.0f batches/s  %llu errors\033[K", self->label,
                 seconds, (unsigned long long) done, (unsigned long long) self->total,
                 seconds > 0? (double) done / seconds: 0.0, (unsigned long long) failed);
    else
        fprintf (stderr, "\r  %-8s %5.1f/%.1f s  %10llu batches  %10.0f batches/s  %llu errors\033[K", self->label,
                 seconds, self->duration_s, (unsigned long long) done,
                 seconds > 0? (double) done / seconds: 0.0, (unsigned long long) failed);
    fflush (stderr);
    self->drawn = true;
    self->drawn_ns = now;
}

void
progress_destroy (progress_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->drawn) {
        fputs ("\r\033[K", stderr);
        fflush (stderr);
    }
    free (*self_p);
    *self_p = NULL;
}
