/*  compare -- the standard matrix in one go, and its verdicts. */

#include "compare.h"
#include "report.h"
#include "run.h"
#include "signals.h"
#include "timing.h"
#include "workdir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { STEP_1, STEP_2, STEP_3, STEP_4, STEP_5_ALONE, STEP_5_READERS, STEP_COUNT } step_t;

static const char *s_step_titles [STEP_COUNT] = {
    "step 1 (target 1): 1-op batches, 8 clients, sync full: worker and direct",
    "step 2 (target 2): 1-op batches, 8 clients, sync normal: worker and direct",
    "step 3 (target 3): 1000-op batches, 1 client, sync normal: worker and raw",
    "step 4 (target 4): 1 client, window 1, 1-op batches, sync normal: worker and echo",
    "step 5a (target 5): 4 writers, 1-op batches, sync normal, 10000 rows prefilled: writes alone",
    "step 5b (target 5): the same writers beside 4 clients paging txn.query (100 rows a page)",
};

/*  The options of one step: the compare options, then the step's own. */
static options_t
s_step_options (const options_t *base, step_t step)
{
    options_t options = *base;
    options.mode = BENCH_RUN;
    options.spawn = true;
    options.endpoint = NULL;
    options.direct = options.raw = options.echo = false;
    options.batches = 0;
    options.rate = 0;
    options.script = NULL;
    options.query_clients = 0;
    options.prefill = -1;
    memset (&options.mix, 0, sizeof (options.mix));
    options.mix.weight [WORK_CREATE] = options.mix.total = 100;
    options.batch_ops = 1;
    options.sync_full = false;
    switch (step) {
        case STEP_1:
        case STEP_2:
            options.clients = 8;
            options.direct = true;
            options.sync_full = step == STEP_1;
            break;
        case STEP_3:
            options.clients = 1;
            options.batch_ops = 1000;
            options.raw = true;
            break;
        case STEP_4:
            options.clients = 1;
            options.window = 1;
            options.echo = true;
            break;
        case STEP_5_ALONE:
        case STEP_5_READERS:
            options.clients = 4;
            options.prefill = 10000;
            options.query_clients = step == STEP_5_READERS? 4: 0;
            options.query_limit = 100;
            break;
        default:
            break;
    }
    return options;
}

typedef struct {
    const char *id;
    const char *title;
    char measured [256];
    double value;
    bool at_most;               /* value must be <= target, else >= */
    double target;
    const char *unit;           /* "×" for ratios, "µs" */
    bool pass;
    bool known;                 /* the steps it needs ran */
    bool clean;                 /* and every batch in them was ok */
} s_verdict_t;

/*  Whether a step's run went through with every batch ok. */
static bool
s_clean (run_result_t *results [], step_t step)
{
    return results [step] && run_exit_status (results [step], results [step]->error [0]? -1: 0) == 0;
}

static void
s_ratio_verdict (s_verdict_t *verdict, const char *what, double numerator, double denominator, const char *unit,
                 bool clean)
{
    verdict->known = denominator > 0;
    verdict->clean = clean;
    verdict->value = verdict->known? numerator / denominator: 0;
    snprintf (verdict->measured, sizeof (verdict->measured), "%s %.1f / %.1f %s = %.2f", what, numerator, denominator,
              unit, verdict->value);
    verdict->pass = verdict->known && clean
                 && (verdict->at_most? verdict->value <= verdict->target: verdict->value >= verdict->target);
}

/*  Work out every target from the steps' results. */
static int
s_verdicts (run_result_t *results [], s_verdict_t *verdicts)
{
    int count = 0;
    s_verdict_t *v;
    const tally_t *t;

    v = &verdicts [count++];
    *v = (s_verdict_t) { .id = "1", .title = "worker / direct batches/s, 1-op batches, 8 clients, sync full",
                         .target = 10, .unit = "×" };
    if (results [STEP_1]) {
        t = results [STEP_1]->tally;
        s_ratio_verdict (v, "worker / direct", tally_batches_per_s (&t [PHASE_WORKER]),
                         tally_batches_per_s (&t [PHASE_DIRECT]), "batches/s", s_clean (results, STEP_1));
    }
    v = &verdicts [count++];
    *v = (s_verdict_t) { .id = "2", .title = "worker / direct batches/s, 1-op batches, 8 clients, sync normal",
                         .target = 3, .unit = "×" };
    if (results [STEP_2]) {
        t = results [STEP_2]->tally;
        s_ratio_verdict (v, "worker / direct", tally_batches_per_s (&t [PHASE_WORKER]),
                         tally_batches_per_s (&t [PHASE_DIRECT]), "batches/s", s_clean (results, STEP_2));
    }
    v = &verdicts [count++];
    *v = (s_verdict_t) { .id = "3", .title = "worker / raw rows/s, 1000-op batches, 1 client, sync normal",
                         .target = 0.8, .unit = "×" };
    if (results [STEP_3]) {
        t = results [STEP_3]->tally;
        s_ratio_verdict (v, "worker / raw", tally_rows_per_s (&t [PHASE_WORKER]), tally_rows_per_s (&t [PHASE_RAW]),
                         "rows/s", s_clean (results, STEP_3));
    }
    v = &verdicts [count++];
    *v = (s_verdict_t) { .id = "4a", .title = "worker p50 / echo p50 round trip, 1 client, window 1, sync normal",
                         .at_most = true, .target = 2, .unit = "×" };
    if (results [STEP_4]) {
        t = results [STEP_4]->tally;
        s_ratio_verdict (v, "worker / echo p50", tally_latency_us (&t [PHASE_WORKER], 50),
                         tally_latency_us (&t [PHASE_ECHO], 50), "µs", s_clean (results, STEP_4));
    }
    v = &verdicts [count++];
    *v = (s_verdict_t) { .id = "4b", .title = "worker p99 round trip, the same run", .at_most = true,
                         .target = 1000, .unit = "µs" };
    if (results [STEP_4]) {
        t = results [STEP_4]->tally;
        v->known = t [PHASE_WORKER].latency.count > 0;
        v->value = tally_latency_us (&t [PHASE_WORKER], 99);
        snprintf (v->measured, sizeof (v->measured), "worker p99 %.1f µs", v->value);
        v->clean = s_clean (results, STEP_4);
        v->pass = v->known && v->clean && v->value <= v->target;
    }
    v = &verdicts [count++];
    *v = (s_verdict_t) { .id = "5", .title = "writes/s beside 4 paging readers / writes/s alone", .target = 0.7,
                         .unit = "×" };
    if (results [STEP_5_ALONE] && results [STEP_5_READERS]) {
        s_ratio_verdict (v, "with readers / alone", tally_batches_per_s (&results [STEP_5_READERS]->tally [PHASE_WORKER]),
                         tally_batches_per_s (&results [STEP_5_ALONE]->tally [PHASE_WORKER]), "batches/s",
                         s_clean (results, STEP_5_ALONE) && s_clean (results, STEP_5_READERS));
    }
    return count;
}

static void
s_print_verdicts (FILE *out, const options_t *options, s_verdict_t *verdicts, int count)
{
    fprintf (out, "\n== targets (each step %.1f s; worker clients keep %d batches in flight in steps 1, 2, 3, 5)\n",
             options->duration_s, options->window);
    for (int n = 0; n < count; n++) {
        s_verdict_t *v = &verdicts [n];
        char target [64];
        snprintf (target, sizeof (target), "%s %g%s", v->at_most? "≤": "≥", v->target, v->unit);
        fprintf (out, "target %-3s %s\n", v->id, v->title);
        if (v->known)
            fprintf (out, "           %s%s (target %s)  %s%s\n", v->measured, strcmp (v->unit, "×") == 0? "×": "",
                     target, v->pass? "PASS": "FAIL", v->clean? "": " (not every batch of its steps was ok)");
        else
            fprintf (out, "           not measured (target %s)  FAIL\n", target);
    }
    fprintf (out, "target 6   worker peak RSS <= 64 MiB after 10 million rows, flat over 10 minutes\n"
                  "           not part of compare: run `ledger-bench soak` (see BENCHMARKS.md)\n");
}

static json_t *
s_verdicts_json (s_verdict_t *verdicts, int count)
{
    json_t *list = json_array ();
    for (int n = 0; list && n < count; n++) {
        s_verdict_t *v = &verdicts [n];
        json_array_append_new (list, json_pack ("{s:s, s:s, s:s, s:f, s:s, s:f, s:s, s:b}", "target", v->id,
                                                "what", v->title, "measured", v->known? v->measured: "not measured",
                                                "value", v->value, "op", v->at_most? "<=": ">=", "goal", v->target,
                                                "unit", strcmp (v->unit, "×") == 0? "ratio": "us", "pass", v->pass));
    }
    return list;
}

int
compare_main (const options_t *options)
{
    char errbuf [512];
    workdir_t *workdir = workdir_new (options->dir, options->keep, errbuf, sizeof (errbuf));
    if (!workdir) {
        fprintf (stderr, "ledger-bench: %s\n", errbuf);
        return 3;
    }
    run_result_t *results [STEP_COUNT] = { NULL };
    report_cpu_t cpu_start, cpu_end;
    report_cpu_snapshot (&cpu_start);
    int64_t started_ns = timing_now_ns ();
    options_t step_options [STEP_COUNT];
    int status = 0;
    if (!options->json) {
        report_machine_print (stdout);
        fflush (stdout);
    }
    for (int step = 0; step < STEP_COUNT && !signals_stopped (); step++) {
        step_options [step] = s_step_options (options, (step_t) step);
        if (!(results [step] = run_result_new ())) {
            fprintf (stderr, "ledger-bench: out of memory\n");
            status = 3;
            break;
        }
        if (options->progress)
            fprintf (stderr, "%s\n", s_step_titles [step]);
        int rc = run_execute (&step_options [step], workdir, results [step]);
        if (!options->json) {
            printf ("\n== %s\n", s_step_titles [step]);
            report_print (stdout, &step_options [step], results [step]);
            fflush (stdout);
        }
        if (rc) {
            fprintf (stderr, "ledger-bench: %s: %s\n", s_step_titles [step], results [step]->error);
            status = 3;
            break;
        }
    }
    report_cpu_snapshot (&cpu_end);
    double others_s = report_cpu_others_s (&cpu_start, &cpu_end);
    double elapsed_s = (double) (timing_now_ns () - started_ns) / 1e9;
    s_verdict_t verdicts [8];
    int count = s_verdicts (results, verdicts);
    bool pass = status == 0;
    for (int n = 0; n < count; n++)
        pass &= verdicts [n].pass;
    for (int step = 0; step < STEP_COUNT; step++)
        pass &= s_clean (results, (step_t) step);
    if (options->json) {
        json_t *steps = json_array ();
        for (int step = 0; steps && step < STEP_COUNT; step++)
            if (results [step]) {
                json_t *run = report_json (&step_options [step], results [step]);
                if (run)
                    json_object_set_new (run, "step", json_string (s_step_titles [step]));
                json_array_append_new (steps, run);
            }
        json_t *worker_args = json_array ();
        for (int n = 0; worker_args && n < options->worker_argc; n++)
            json_array_append_new (worker_args, json_string (options->worker_args [n]));
        json_t *root = json_pack ("{s:s, s:s, s:o, s:f, s:f, s:f, s:i, s:o, s:o, s:o, s:b}", "tool", "ledger-bench compare",
                                  "version", LEDGER_VERSION, "machine", report_machine_json (),
                                  "others_cpu_s", others_s, "elapsed_s", elapsed_s,
                                  "duration_s", options->duration_s, "window", options->window,
                                  "worker_args", worker_args, "steps", steps,
                                  "targets", s_verdicts_json (verdicts, count), "pass", pass);
        if (!root || json_dumpf (root, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER) || printf ("\n") < 0) {
            fprintf (stderr, "ledger-bench: cannot write the JSON report\n");
            status = 3;
        }
        json_decref (root);
    }
    else {
        s_print_verdicts (stdout, options, verdicts, count);
        printf ("\noverall: %s\nother processes used %.1f CPU s during the %.0f s of this run (%.0f %% of one core)%s\n",
                pass? "PASS": "FAIL", others_s, elapsed_s, elapsed_s > 0? 100 * others_s / elapsed_s: 0.0,
                others_s > 0.05 * elapsed_s? ": the figures are skewed by them": "");
    }
    for (int step = 0; step < STEP_COUNT; step++)
        run_result_destroy (&results [step]);
    workdir_destroy (&workdir);
    return status? status: pass? 0: 1;
}
