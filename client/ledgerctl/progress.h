/*  progress -- a progress bar with a rate, on a terminal only.

    Drawn on stderr, rewriting one line, at most ten times a second. When
    stderr is not a terminal (a pipe, a log file, a test) nothing is drawn,
    so logs hold only the lines that matter. */

#ifndef PROGRESS_H
#define PROGRESS_H

#include <stddef.h>

typedef struct _progress_t progress_t;

/* A bar for total units of work, counted in units named by unit ("rows").
   Drawn only when stderr is a terminal. Returns NULL when memory runs out. */
progress_t *progress_new (size_t total, const char *unit);

/* done units are finished: redraw if it is time to. */
void progress_update (progress_t *self, size_t done);

/* Erase the bar, so the next line starts clean; destroy it and set *self_p
   to NULL. */
void progress_destroy (progress_t **self_p);

#endif
