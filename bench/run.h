/*  run -- one configuration, measured on every target it names.

    The phases run one after another, each on its own new database, with
    the same workload: the echo floor, then the worker (spawned or at an
    endpoint, with its paging readers if any), then --direct, then --raw.
    Setup -- starting the worker, making databases, prefilling rows,
    connecting clients -- happens before each phase's clock starts. */

#ifndef BENCH_RUN_H
#define BENCH_RUN_H

#include "driver.h"
#include "options.h"
#include "spawn.h"
#include "tally.h"
#include "workdir.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef enum {
    PHASE_ECHO,                 /* bare ZeroMQ round trips */
    PHASE_WORKER,               /* the writers against the worker */
    PHASE_READERS,              /* the paging readers beside them */
    PHASE_DIRECT,
    PHASE_RAW,
    PHASE_COUNT
} phase_t;

typedef struct {
    bool ran [PHASE_COUNT];
    tally_t tally [PHASE_COUNT];
    size_t prefill;             /* rows made before the clocks started */
    char endpoint [256];        /* the worker's, or "" */
    /* A spawned worker. */
    bool spawned;
    char worker_command [1024];
    pid_t worker_pid;
    bool usage_known;
    spawn_usage_t usage_start;  /* when the clock started */
    spawn_usage_t usage_end;    /* when the last reply came */
    int worker_exit;            /* its exit status after SIGTERM; -1 if it had to be killed */
    /* CPU seconds ledger-bench itself used while the worker phase ran: on
       a small machine the load generator competes with the worker. */
    double client_cpu_s;
    /* The worker's own counters over the run (sys.stats), spawned or not. */
    bool stats_known;
    driver_worker_stats_t stats_start;
    driver_worker_stats_t stats_end;
    /* Why the run stopped before the end, or "". */
    char error [512];
} run_result_t;

/* The phase's name for reports ("worker"). */
const char *run_phase_name (phase_t phase);

/* A new, empty result (it holds five histograms: keep it off the stack).
   Returns NULL when memory runs out. */
run_result_t *run_result_new (void);

/* Destroy the result and set *self_p to NULL. */
void run_result_destroy (run_result_t **self_p);

/* Run every phase options names, with databases in workdir, into result.
   Returns 0, or -1 when a phase could not be set up (result->error says
   why; the phases before it are in result). */
int run_execute (const options_t *options, workdir_t *workdir, run_result_t *result);

/* The exit status the result calls for: 0 every batch the worker (and the
   echo) answered was ok; 1 some were not, the worker did not stop cleanly
   or the run was interrupted; 3 set-up failed. The baselines' failed
   transactions are figures, not failures. */
int run_exit_status (const run_result_t *result, int execute_rc);

#endif
