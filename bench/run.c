/*  run -- one configuration, measured on every target it names. */

#include "run.h"
#include "direct.h"
#include "raw.h"
#include "driver.h"
#include "echo.h"
#include "progress.h"
#include "script.h"
#include "signals.h"
#include "timing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  Rows made before the clock when the workload targets earlier rows and
    no --prefill was given. */
#define S_DEFAULT_PREFILL 10000

static const char *s_phase_names [PHASE_COUNT] = { "echo", "worker", "readers", "direct", "raw" };

const char *
run_phase_name (phase_t phase)
{
    return phase < PHASE_COUNT? s_phase_names [phase]: "?";
}

run_result_t *
run_result_new (void)
{
    return calloc (1, sizeof (run_result_t));
}

void
run_result_destroy (run_result_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free (*self_p);
    *self_p = NULL;
}

static size_t
s_prefill_count (const options_t *options)
{
    if (options->prefill >= 0)
        return (size_t) options->prefill;
    bool needs_rows = (!options->script && workload_mix_needs_rows (&options->mix)) || options->query_clients > 0;
    return needs_rows? S_DEFAULT_PREFILL: 0;
}

/*  The worker phase: start or reach the worker, prefill, run the clients,
    read its usage, stop it. */
static int
s_worker_phase (const options_t *options, workdir_t *workdir, run_result_t *result, size_t prefill_count)
{
    char *error = result->error;
    size_t error_len = sizeof (result->error);
    script_t *script = NULL;
    spawn_t *worker = NULL;
    work_row_t *rows = NULL;
    uint64_t batches = options->batches;
    int rc = -1;
    if (options->script) {
        if (!(script = script_new (options->script, error, error_len)))
            goto done;
        if (!batches && options->duration_s == 0)
            batches = script_size (script);
    }
    if (options->spawn) {
        char db_path [4096], log_path [4096];
        workdir_file (workdir, "worker", "db", db_path, sizeof (db_path));
        workdir_file (workdir, "worker", "log", log_path, sizeof (log_path));
        if (!(worker = spawn_new (db_path, log_path, options->sync_full, options->worker_args, options->worker_argc,
                                  error, error_len)))
            goto done;
        result->spawned = true;
        result->worker_pid = spawn_pid (worker);
        snprintf (result->worker_command, sizeof (result->worker_command), "%s", spawn_command (worker));
    }
    const char *endpoint = worker? spawn_endpoint (worker): options->endpoint;
    snprintf (result->endpoint, sizeof (result->endpoint), "%s", endpoint);
    if (prefill_count && driver_prefill (endpoint, prefill_count, options, &rows, error, error_len))
        goto done;
    result->prefill = prefill_count;

    tally_live_t live;
    atomic_init (&live.done, 0);
    atomic_init (&live.failed, 0);
    progress_t *progress = progress_new ("worker", options->duration_s, batches, &live, options->progress);
    driver_plan_t plan = {
        .options = options, .endpoint = endpoint, .prefill = rows, .prefill_count = rows? prefill_count: 0,
        .script = script, .batches = batches, .live = &live, .tick = progress_tick, .tick_arg = progress
    };
    char ignored [256];
    result->stats_known = driver_worker_stats (endpoint, options, &result->stats_start, ignored, sizeof (ignored)) == 0;
    result->usage_known = worker && spawn_usage (worker, &result->usage_start) == 0;
    tally_t *readers = &result->tally [PHASE_READERS];
    double cpu_before = timing_cpu_s ();
    rc = driver_run (&plan, &result->tally [PHASE_WORKER], readers, error, error_len);
    result->client_cpu_s = timing_cpu_s () - cpu_before;
    result->usage_known &= worker && spawn_usage (worker, &result->usage_end) == 0;
    result->stats_known &= rc == 0
                        && driver_worker_stats (endpoint, options, &result->stats_end, ignored, sizeof (ignored)) == 0;
    progress_destroy (&progress);
    /*  A run that could not start has nothing to show. */
    result->ran [PHASE_WORKER] = rc == 0;
    result->ran [PHASE_READERS] = rc == 0 && options->query_clients > 0;
done:
    if (worker) {
        char stop_error [256] = "";
        result->worker_exit = spawn_stop (&worker, stop_error, sizeof (stop_error));
        if (result->worker_exit)
            fprintf (stderr, "ledger-bench: %s\n", stop_error);
    }
    free (rows);
    script_destroy (&script);
    return rc;
}

/*  A baseline phase: direct or raw. */
static int
s_baseline_phase (const options_t *options, workdir_t *workdir, run_result_t *result, phase_t phase,
                  size_t prefill_count)
{
    char db_path [4096];
    workdir_file (workdir, run_phase_name (phase), "db", db_path, sizeof (db_path));
    tally_live_t live;
    atomic_init (&live.done, 0);
    atomic_init (&live.failed, 0);
    progress_t *progress = progress_new (run_phase_name (phase), options->duration_s, options->batches, &live,
                                         options->progress);
    tally_t *tally = &result->tally [phase];
    int rc = phase == PHASE_DIRECT
           ? direct_run (db_path, options, prefill_count, tally, &live, progress_tick, progress,
                         result->error, sizeof (result->error))
           : raw_run (db_path, options, prefill_count, tally, &live, progress_tick, progress,
                      result->error, sizeof (result->error));
    progress_destroy (&progress);
    result->ran [phase] = true;
    return rc;
}

int
run_execute (const options_t *options, workdir_t *workdir, run_result_t *result)
{
    size_t prefill_count = s_prefill_count (options);
    if (options->echo) {
        tally_live_t live;
        atomic_init (&live.done, 0);
        atomic_init (&live.failed, 0);
        progress_t *progress = progress_new ("echo", options->duration_s, options->batches, &live, options->progress);
        int rc = echo_run ((size_t) options->echo_bytes, options->duration_s, options->batches,
                           &result->tally [PHASE_ECHO], &live, result->error, sizeof (result->error));
        progress_destroy (&progress);
        result->ran [PHASE_ECHO] = true;
        if (rc)
            return -1;
    }
    if ((options->spawn || options->endpoint) && !signals_stopped ()
    &&  s_worker_phase (options, workdir, result, prefill_count))
        return -1;
    if (options->direct && !signals_stopped ()
    &&  s_baseline_phase (options, workdir, result, PHASE_DIRECT, prefill_count))
        return -1;
    if (options->raw && !signals_stopped ()
    &&  s_baseline_phase (options, workdir, result, PHASE_RAW, prefill_count))
        return -1;
    return 0;
}

int
run_exit_status (const run_result_t *result, int execute_rc)
{
    if (execute_rc)
        return 3;
    bool clean = !(result->spawned && result->worker_exit != 0) && !signals_stopped ();
    for (int phase = 0; phase < PHASE_COUNT; phase++) {
        /*  The baselines' failed transactions (busy, mostly) are part of
            what they measure, shown by class in the report; they do not
            make the run fail. */
        if (phase == PHASE_DIRECT || phase == PHASE_RAW)
            continue;
        const tally_t *tally = &result->tally [phase];
        /*  Readers may not finish a page before quick writers are done. */
        bool ok = phase == PHASE_READERS? tally_failed (tally) == 0 && tally->ops_failed == 0: tally_clean (tally);
        if (result->ran [phase] && !ok)
            clean = false;
    }
    return clean? 0: 1;
}
