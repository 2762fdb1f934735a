/*  soak -- target 6: the worker's memory over a long, steady run. */

#include "soak.h"
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
    double t_s;                 /* since the clock started */
    uint64_t batches;           /* done by then */
    int64_t rss_bytes;
    int64_t peak_rss_bytes;
} s_sample_t;

typedef struct {
    spawn_t *worker;
    progress_t *progress;
    tally_live_t *live;
    double sample_s;
    double next_s;
    s_sample_t *samples;
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
        s_sample_t *samples = realloc (self->samples, alloc * sizeof (s_sample_t));
        if (!samples)
            return;
        self->samples = samples;
        self->alloc = alloc;
    }
    self->samples [self->count++] = (s_sample_t) {
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
    options_t run = *options;
    run.mode = BENCH_RUN;
    run.spawn = true;
    run.batches = (options->rows + (uint64_t) options->batch_ops - 1) / (uint64_t) options->batch_ops;
    run.rate = (double) run.batches / options->duration_s;
    tally_live_t live;
    atomic_init (&live.done, 0);
    atomic_init (&live.failed, 0);
    s_soak_t soak = { .live = &live, .sample_s = options->sample_s };
    char db_path [4096], log_path [4096];
    workdir_file (workdir, "soak", "db", db_path, sizeof (db_path));
    workdir_file (workdir, "soak", "log", log_path, sizeof (log_path));
    int status = 3;
    if (!result)
        goto done;
    soak.worker = spawn_new (db_path, log_path, run.sync_full, run.worker_args, run.worker_argc,
                             result->error, sizeof (result->error));
    if (!soak.worker)
        goto done;
    result->spawned = true;
    result->worker_pid = spawn_pid (soak.worker);
    snprintf (result->worker_command, sizeof (result->worker_command), "%s", spawn_command (soak.worker));
    snprintf (result->endpoint, sizeof (result->endpoint), "%s", spawn_endpoint (soak.worker));
    soak.progress = progress_new ("soak", 0, run.batches, &live, run.progress);
    driver_plan_t plan = {
        .options = &run, .endpoint = spawn_endpoint (soak.worker), .batches = run.batches, .live = &live,
        .tick = s_tick, .tick_arg = &soak
    };
    char ignored [256];
    result->stats_known = driver_worker_stats (plan.endpoint, &run, &result->stats_start, ignored, sizeof (ignored)) == 0;
    result->usage_known = spawn_usage (soak.worker, &result->usage_start) == 0;
    double cpu_before = timing_cpu_s ();
    int rc = driver_run (&plan, &result->tally [PHASE_WORKER], &result->tally [PHASE_READERS],
                         result->error, sizeof (result->error));
    result->client_cpu_s = timing_cpu_s () - cpu_before;
    result->stats_known &= rc == 0
                        && driver_worker_stats (plan.endpoint, &run, &result->stats_end, ignored, sizeof (ignored)) == 0;
    s_take_sample (&soak, tally_seconds (&result->tally [PHASE_WORKER]));
    result->usage_known &= spawn_usage (soak.worker, &result->usage_end) == 0;
    progress_destroy (&soak.progress);
    result->ran [PHASE_WORKER] = true;
    char stop_error [256] = "";
    result->worker_exit = spawn_stop (&soak.worker, stop_error, sizeof (stop_error));
    if (result->worker_exit)
        fprintf (stderr, "ledger-bench: %s\n", stop_error);
    if (rc)
        goto done;

    /*  The verdict. */
    double seconds = tally_seconds (&result->tally [PHASE_WORKER]);
    double limit = options->rss_limit_mib * S_MIB;
    int64_t peak = result->usage_known? result->usage_end.peak_rss_bytes: -1;
    int64_t first_half = 0, second_half = 0;
    size_t first_count = 0, second_count = 0;
    for (size_t n = 0; n < soak.count; n++) {
        s_sample_t *sample = &soak.samples [n];
        if (sample->t_s < seconds / 2) {
            first_count++;
            if (sample->rss_bytes > first_half)
                first_half = sample->rss_bytes;
        }
        else {
            second_count++;
            if (sample->rss_bytes > second_half)
                second_half = sample->rss_bytes;
        }
    }
    bool enough = first_count >= 2 && second_count >= 2;
    double allowed = (double) first_half * 1.10 + S_MIB;
    bool flat = enough && (double) second_half <= allowed;
    bool small = peak >= 0 && (double) peak <= limit;
    int run_status = run_exit_status (result, 0);
    bool pass = flat && small && run_status == 0;
    status = pass? 0: 1;

    if (options->json) {
        json_t *samples = json_array ();
        for (size_t n = 0; samples && n < soak.count; n++)
            json_array_append_new (samples, json_pack ("{s:f, s:I, s:I, s:I}", "t_s", soak.samples [n].t_s,
                                   "batches", (json_int_t) soak.samples [n].batches,
                                   "rss_bytes", (json_int_t) soak.samples [n].rss_bytes,
                                   "peak_rss_bytes", (json_int_t) soak.samples [n].peak_rss_bytes));
        json_t *root = json_pack ("{s:s, s:o, s:o, s:I, s:f, s:I, s:I, s:I, s:b, s:b, s:b}",
                                  "tool", "ledger-bench soak", "run", report_json (&run, result), "samples", samples,
                                  "rows_goal", (json_int_t) options->rows, "rss_limit_mib", options->rss_limit_mib,
                                  "peak_rss_bytes", (json_int_t) peak, "first_half_max_rss_bytes", (json_int_t) first_half,
                                  "second_half_max_rss_bytes", (json_int_t) second_half, "flat", flat,
                                  "within_limit", small, "pass", pass);
        if (!root || json_dumpf (root, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER) || printf ("\n") < 0)
            status = 3;
        json_decref (root);
    }
    else {
        report_machine_print (stdout);
        report_print (stdout, &run, result);
        printf ("\nworker memory, sampled every %.1f s:\n%10s %14s %12s %12s\n", options->sample_s, "t s",
                "rows", "RSS MiB", "peak MiB");
        for (size_t n = 0; n < soak.count; n++)
            printf ("%10.1f %14llu %12.1f %12.1f\n", soak.samples [n].t_s,
                    (unsigned long long) soak.samples [n].batches * (unsigned long long) options->batch_ops,
                    (double) soak.samples [n].rss_bytes / S_MIB, (double) soak.samples [n].peak_rss_bytes / S_MIB);
        printf ("\ntarget 6: peak RSS %.1f MiB after %llu rows (target ≤ %.0f MiB)  %s\n", (double) peak / S_MIB,
                (unsigned long long) result->tally [PHASE_WORKER].rows_written, options->rss_limit_mib,
                small? "PASS": "FAIL");
        if (enough)
            printf ("          flat: second half at most %.1f MiB, first half at most %.1f MiB (allowed %.1f)  %s\n",
                    (double) second_half / S_MIB, (double) first_half / S_MIB, allowed / S_MIB, flat? "PASS": "FAIL");
        else
            printf ("          flat: too few samples to tell (run longer, or lower --sample-s)  FAIL\n");
        if (run_status)
            printf ("          not every batch was ok  FAIL\n");
        printf ("overall: %s\n", pass? "PASS": "FAIL");
    }
done:
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
