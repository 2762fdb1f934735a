/*  driver -- the workload against a worker, through the client library.

    Each writer client is its own thread with its own ledger_client_t (so
    its own connection), keeping up to --window batches in flight with
    ledger_client_send / ledger_client_recv. Closed loop: a batch is sent
    as soon as there is room, and its latency runs from that send. Open loop
    (--rate): batch k of a client is due at start + k / rate; it is sent
    when due (or, if the window is full, as soon as there is room), and its
    latency runs from when it was due, so time spent queued on our side is
    counted as the worker's -- a stalled worker cannot hide it.

    Paging readers (--query-clients) are threads too: each walks txn.query
    page after page (window 1), starting over at the end, until the writers
    are done.

    Every client connects and answers a ping before the clock starts; the
    clock starts for all of them at once and stops at the last reply. After
    the last send, replies still due are awaited for as long as the
    library's own timeout and retries can take; a batch still without an
    outcome then is counted `lost`. */

#ifndef BENCH_DRIVER_H
#define BENCH_DRIVER_H

#include "options.h"
#include "script.h"
#include "tally.h"
#include "workload.h"

#include <stddef.h>
#include <stdint.h>

/* Called on the driver's own thread about ten times a second while the
   clients run; started_ns is when the clock started. */
typedef void (driver_tick_fn) (void *arg, int64_t started_ns);

typedef struct {
    const options_t *options;   /* clients, window, batch_ops, mix, rate, timeouts */
    const char *endpoint;
    const work_row_t *prefill;  /* rows that exist already (may be NULL) */
    size_t prefill_count;
    script_t *script;           /* send these batches instead of the mix (may be NULL) */
    uint64_t batches;           /* over all writers; 0: until options->duration_s */
    tally_live_t *live;         /* the writers' outcomes as they come (may be NULL) */
    driver_tick_fn *tick;       /* may be NULL */
    void *tick_arg;
} driver_plan_t;

/* Run plan. The writers' outcomes are added to writers and the readers' to
   readers. Returns 0, or -1 with errbuf set when the run could not start
   (a client could not connect or make its first batch); the outcomes of
   batches that did run are counted either way. */
int driver_run (const driver_plan_t *plan, tally_t *writers, tally_t *readers, char *errbuf, size_t errlen);

/* Create count rows at endpoint before the clock starts (1000-op batches,
   submitted one by one with retries) and return them in a new array the
   caller frees, in *rows_p. Returns 0, or -1 with errbuf set. */
int driver_prefill (const char *endpoint, size_t count, const options_t *options, work_row_t **rows_p,
                    char *errbuf, size_t errlen);

/* The worker's own counters (sys.stats); -1 where the worker has none. */
typedef struct {
    int64_t batches_ok;
    int64_t transactions;       /* write transactions (groups) it committed or tried */
    int64_t replies_dropped;    /* replies it could not deliver */
} driver_worker_stats_t;

/* Read the worker's counters at endpoint. Returns 0, or -1 with errbuf
   set. */
int driver_worker_stats (const char *endpoint, const options_t *options, driver_worker_stats_t *stats,
                         char *errbuf, size_t errlen);

/* Add op to batch with the client library. Returns 0, or -1 (the batch
   says why). */
int driver_add_op (ledger_batch_t *batch, const work_op_t *op);

/* A client for endpoint, with the CURVE keys of options if any; NULL (why
   on stderr) if they cannot be read. */
ledger_client_t *driver_client_new (const options_t *options, const char *endpoint);

#endif
