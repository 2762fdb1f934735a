/*  signals -- Ctrl-C stops a run cleanly.

    The first SIGINT or SIGTERM asks every phase to stop sending, take the
    replies still due and report what it has; the spawned worker is then
    stopped and the databases removed as usual. A second one exits at once.
    SIGPIPE is ignored. */

#ifndef BENCH_SIGNALS_H
#define BENCH_SIGNALS_H

#include <stdbool.h>

/* Install the handlers. Returns 0, or -1 if they cannot be. */
int signals_install (void);

/* Whether a stop was asked for. */
bool signals_stopped (void);

#endif
