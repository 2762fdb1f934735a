/*  progress -- a progress bar with a rate, on a terminal only. */

#include "progress.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 30
#define REDRAW_MS 100

struct _progress_t {
    size_t total;
    const char *unit;
    bool enabled;
    bool drawn;
    int64_t started_ms;
    int64_t drawn_ms;
};

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

progress_t *
progress_new (size_t total, const char *unit)
{
    progress_t *self = calloc (1, sizeof (progress_t));
    if (!self)
        return NULL;
    self->total = total;
    self->unit = unit;
    self->enabled = isatty (STDERR_FILENO) == 1;
    self->started_ms = s_now_ms ();
    return self;
}

void
progress_update (progress_t *self, size_t done)
{
    if (!self || !self->enabled)
        return;
    int64_t now = s_now_ms ();
    if (self->drawn && now - self->drawn_ms < REDRAW_MS && done < self->total)
        return;
    size_t filled = self->total? done * BAR_WIDTH / self->total: BAR_WIDTH;
    char bar [BAR_WIDTH + 1];
    for (size_t n = 0; n < BAR_WIDTH; n++)
        bar [n] = n < filled? '#': '.';
    bar [BAR_WIDTH] = 0;
    double seconds = (double) (now - self->started_ms) / 1000.0;
    double rate = seconds > 0? (double) done / seconds: 0;
    fprintf (stderr, "\r[%s] %zu/%zu %s %3d%%  %.0f %s/s\033[K", bar, done, self->total, self->unit,
             self->total? (int) (done * 100 / self->total): 100, rate, self->unit);
    fflush (stderr);
    self->drawn = true;
    self->drawn_ms = now;
}

void
progress_destroy (progress_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    progress_t *self = *self_p;
    if (self->drawn) {
        fputs ("\r\033[K", stderr);
        fflush (stderr);
    }
    free (self);
    *self_p = NULL;
}
