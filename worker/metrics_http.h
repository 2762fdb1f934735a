/*  metrics_http -- ledgerd's HTTP endpoint: /metrics, /healthz, /readyz.

    With --metrics-bind, libmicrohttpd serves on a thread of its own. It
    only reads: the counters every worker thread writes into its own block
    (stats.h) and the state the front end publishes, so a scrape never
    takes a lock a batch needs. A client cannot hurt the worker through
    it: few connections, small requests, and a short timeout; a request
    body is never read.

      GET /metrics   Prometheus text format (metrics.h)
      GET /healthz   200 "ok" while the process serves
      GET /readyz    200 "ok" while the database is open and the worker is
                     not draining (cluster: while this node leads with its
                     store, or follows a leader it knows); else 503 and a
                     one-line reason

    Any other path is 404; any method but GET and HEAD is 405. */

#ifndef WORKER_METRICS_HTTP_H
#define WORKER_METRICS_HTTP_H

#include "config.h"
#include "stats.h"

typedef struct _metrics_http_t metrics_http_t;

/* Start serving at config->metrics_host and metrics_port (config_parse
   checked them), reading stats (borrowed; it must outlive the server) and
   the sizes of the database at db_path and its WAL (NULL: none). Returns
   NULL with errbuf set if the address cannot be bound. */
metrics_http_t *metrics_http_new (const config_t *config, stats_t *stats, const char *db_path,
                                  char *errbuf, size_t errlen);

/* Stop serving (closing every connection) and set *self_p to NULL. */
void metrics_http_destroy (metrics_http_t **self_p);

#endif
