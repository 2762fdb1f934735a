/*  soak -- target 6: the worker's memory over a long, steady run. */

#include "soak.h"
#include "soak_verdict.h"
#include "driver.h"
#include "progress.h"
#include "report.h"
#include "run.h"
#include "spawn.h"
#include "timing.h"
#include "workdir.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_MIB (1024.0 * 1024.0)

typedef struct {
    spawn_t *worker;
    progress_t *progress;
    tally_live_t *live;
    double sample_s;
    double next_s;
    soak_sample_t *samples;
    size_t count;
    size_t alloc;
} s_soak_t;

static void
s_take_sample (s_soak_t *self, double t_s)
{
    spawn_usage_t usage;
    if (spawn_usage (self->worker, &usage))
        return;
    if (self->count == self->alloc) {
        size_t alloc = self->alloc? self->alloc * 2: 64;
        soak_sample_t *samples = realloc (self->samples, alloc * sizeof (soak_sample_t));
        if (!samples)
            return;
        self->samples = samples;
        self->alloc = alloc;
    }
    self->samples [self->count++] = (soak_sample_t) {
        t_s, atomic_load (&self->live->done), usage.rss_bytes, usage.peak_rss_bytes
    };
}

static void
s_tick (void *arg, int64_t started_ns)
{
    s_soak_t *self = (s_soak_t *) arg;
    progress_tick (self->progress, started_ns);
    double t_s = (double) (timing_now_ns () - started_ns) / 1e9;
    if (t_s >= self->next_s) {
        s_take_sample (self, t_s);
        self->next_s += self->sample_s;
    }
}

/*  The run a soak makes of options: a spawned worker sent --rows rows in
    batches at an even rate over --duration. */
static options_t
s_run_options (const options_t *options)
{
    options_t run = *options;
    run.mode = BENCH_RUN;
    run.spawn = true;
    run.batches = (options->rows + (uint64_t) options->batch_ops - 1) / (uint64_t) options->batch_ops;
    run.rate = (double) run.batches / options->duration_s;
    return run;
}

/*  Spawn the worker on a new database in workdir. Returns 0, or -1 with
    result->error set. */
static int
s_start_worker (s_soak_t *soak, const options_t *run, workdir_t *workdir, run_result_t *result)
{
    char db_path [4096], log_path [4096];
    workdir_file (workdir, "soak", "db", db_path, sizeof (db_path));
    workdir_file (workdir, "soak", "log", log_path, sizeof (log_path));
    soak->worker = spawn_new (db_path, log_path, run->sync_full, run->worker_args, run->worker_argc,
                              result->error, sizeof (result->error));
    if (!soak->worker)
        return -1;
    result->spawned = true;
    result->worker_pid = spawn_pid (soak->worker);
    snprintf (result->worker_command, sizeof (result->worker_command), "%s", spawn_command (soak->worker));
    snprintf (result->endpoint, sizeof (result->endpoint), "%s", spawn_endpoint (soak->worker));
    return 0;
}

/*  Send the rows, sampling the worker's memory on the way; then stop the
    worker. Returns the driver's 0, or -1 with result->error set. */
static int
s_drive (s_soak_t *soak, const options_t *run, run_result_t *result)
{
    soak->progress = progress_new ("soak", 0, run->batches, soak->live, run->progress);
    driver_plan_t plan = {
        .options = run, .endpoint = spawn_endpoint (soak->worker), .batches = run->batches, .live = soak->live,
        .tick = s_tick, .tick_arg = soak
    };
    char ignored [256];
    result->stats_known = driver_worker_stats (plan.endpoint, run, &result->stats_start, ignored, sizeof (ignored)) == 0;
    result->usage_known = spawn_usage (soak->worker, &result->usage_start) == 0;
    double cpu_before = timing_cpu_s ();
    int rc = driver_run (&plan, &result->tally [PHASE_WORKER], &result->tally [PHASE_READERS],
                         result->error, sizeof (result->error));
    result->client_cpu_s = timing_cpu_s () - cpu_before;
    result->stats_known &= rc == 0
                        && driver_worker_stats (plan.endpoint, run, &result->stats_end, ignored, sizeof (ignored)) == 0;
    s_take_sample (soak, tally_seconds (&result->tally [PHASE_WORKER]));
    result->usage_known &= spawn_usage (soak->worker, &result->usage_end) == 0;
    progress_destroy (&soak->progress);
    result->ran [PHASE_WORKER] = true;
    char stop_error [256] = "";
    result->worker_exit = spawn_stop (&soak->worker, stop_error, sizeof (stop_error));
    if (result->worker_exit)
        fprintf (stderr, "ledger-bench: %s\n", stop_error);
    return rc;
}

/*  The soak as one JSON object on stdout. Returns 0, or -1 if it could
    not be written. */
static int
s_print_json (const options_t *options, const options_t *run, const run_result_t *result, const s_soak_t *soak,
              int64_t peak, const soak_verdict_t *verdict)
{
    json_t *samples = json_array ();
    for (size_t n = 0; samples && n < soak->count; n++)
        json_array_append_new (samples, json_pack ("{s:f, s:I, s:I, s:I}", "t_s", soak->samples [n].t_s,
                               "batches", (json_int_t) soak->samples [n].batches,
                               "rss_bytes", (json_int_t) soak->samples [n].rss_bytes,
                               "peak_rss_bytes", (json_int_t) soak->samples [n].peak_rss_bytes));
    json_t *root = json_pack ("{s:s, s:o, s:o, s:I, s:f, s:I, s:I, s:I, s:b, s:b, s:b}",
                              "tool", "ledger-bench soak", "run", report_json (run, result), "samples", samples,
                              "rows_goal", (json_int_t) options->rows, "rss_limit_mib", options->rss_limit_mib,
                              "peak_rss_bytes", (json_int_t) peak,
                              "first_half_max_rss_bytes", (json_int_t) verdict->first_half,
                              "second_half_max_rss_bytes", (json_int_t) verdict->second_half, "flat", verdict->flat,
                              "within_limit", verdict->small, "pass", verdict->pass);
    int rc = !root || json_dumpf (root, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER) || printf ("\n") < 0? -1: 0;
    json_decref (root);
    return rc;
}

/*  The soak for people: the run's report, the samples, the verdict. */
static void
s_print_text (const options_t *options, const options_t *run, const run_result_t *result, const s_soak_t *soak,
              int64_t peak, const soak_verdict_t *verdict, bool batches_ok)
{
    report_machine_print (stdout);
    report_print (stdout, run, result);
    printf ("\nworker memory, sampled every %.1f s:\n%10s %14s %12s %12s\n", options->sample_s, "t s",
            "rows", "RSS MiB", "peak MiB");
    for (size_t n = 0; n < soak->count; n++)
        printf ("%10.1f %14llu %12.1f %12.1f\n", soak->samples [n].t_s,
                (unsigned long long) soak->samples [n].batches * (unsigned long long) options->batch_ops,
                (double) soak->samples [n].rss_bytes / S_MIB, (double) soak->samples [n].peak_rss_bytes / S_MIB);
    printf ("\ntarget 6: peak RSS %.1f MiB after %llu rows (target ≤ %.0f MiB)  %s\n", (double) peak / S_MIB,
            (unsigned long long) result->tally [PHASE_WORKER].rows_written, options->rss_limit_mib,
            verdict->small? "PASS": "FAIL");
    if (verdict->enough)
        printf ("          flat: second half at most %.1f MiB, first half at most %.1f MiB (allowed %.1f)  %s\n",
                (double) verdict->second_half / S_MIB, (double) verdict->first_half / S_MIB,
                verdict->allowed / S_MIB, verdict->flat? "PASS": "FAIL");
    else
        printf ("          flat: too few samples to tell (run longer, or lower --sample-s)  FAIL\n");
    if (!batches_ok)
        printf ("          not every batch was ok  FAIL\n");
    printf ("overall: %s\n", verdict->pass? "PASS": "FAIL");
}

/*  Judge the run and report it. Returns the exit status: 0 passed, 1 not,
    3 the report could not be written. */
static int
s_judge (const options_t *options, const options_t *run, const run_result_t *result, const s_soak_t *soak)
{
    int64_t peak = result->usage_known? result->usage_end.peak_rss_bytes: -1;
    bool batches_ok = run_exit_status (result, 0) == 0;
    soak_verdict_t verdict = soak_verdict (soak->samples, soak->count, tally_seconds (&result->tally [PHASE_WORKER]),
                                           peak, options->rss_limit_mib * S_MIB, batches_ok);
    if (!options->json)
        s_print_text (options, run, result, soak, peak, &verdict, batches_ok);
    else
    if (s_print_json (options, run, result, soak, peak, &verdict))
        return 3;
    return verdict.pass? 0: 1;
}

int
soak_main (const options_t *options)
{
    char errbuf [512];
    workdir_t *workdir = workdir_new (options->dir, options->keep, errbuf, sizeof (errbuf));
    if (!workdir) {
        fprintf (stderr, "ledger-bench: %s\n", errbuf);
        return 3;
    }
    run_result_t *result = run_result_new ();
    options_t run = s_run_options (options);
    tally_live_t live;
    atomic_init (&live.done, 0);
    atomic_init (&live.failed, 0);
    s_soak_t soak = { .live = &live, .sample_s = options->sample_s };
    int status = 3;
    if (result && s_start_worker (&soak, &run, workdir, result) == 0 && s_drive (&soak, &run, result) == 0)
        status = s_judge (options, &run, result, &soak);
    if (status == 3 && result && result->error [0])
        fprintf (stderr, "ledger-bench: soak: %s\n", result->error);
    if (soak.worker) {
        char stop_ignored [256];
        spawn_stop (&soak.worker, stop_ignored, sizeof (stop_ignored));
    }
    progress_destroy (&soak.progress);
    free (soak.samples);
    run_result_destroy (&result);
    workdir_destroy (&workdir);
    return status;
}
