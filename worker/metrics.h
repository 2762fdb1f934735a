/*  metrics -- the worker's counters in Prometheus' text format.

    Renders GET /metrics (exposition format 0.0.4): the counters of
    stats.h summed over the threads, the gauges the front end publishes,
    the database's files, and the standard process_* metrics read from
    /proc. Names follow Prometheus' conventions: a `ledgerd_` prefix,
    `_total` on counters, base units (seconds, bytes). */

#ifndef WORKER_METRICS_H
#define WORKER_METRICS_H

#include "stats.h"

#include <stddef.h>

/* The content type of what metrics_render returns. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The exposition text of stats now, with the size of the database at
   db_path and of its WAL (NULL: none, as in cluster mode). Returns a
   new buffer the caller frees, its length in *size_p; NULL if memory
   ran out. */
char *metrics_render (stats_t *stats, const char *db_path, size_t *size_p);

#endif
