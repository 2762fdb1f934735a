/*  report -- a run's figures for people (a table) and for machines (JSON). */

#include "report.h"
#include "signals.h"
#include "timing.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <zmq.h>

#define S_MIB (1024.0 * 1024.0)

static const double s_percents [] = { 50, 90, 99, 99.9, 100 };
static const char *s_percent_names [] = { "p50", "p90", "p99", "p99_9", "max" };
#define S_PERCENTS ((int) (sizeof (s_percents) / sizeof (s_percents [0])))

void
report_pad (FILE *out, const char *text, int width)
{
    int chars = 0;
    for (const char *c = text; *c; c++)
        chars += ((unsigned char) *c & 0xC0) != 0x80;
    for (; chars < width; chars++)
        fputc (' ', out);
    fputs (text, out);
}

/*  The model name of the first CPU in /proc/cpuinfo, into buffer. */
static void
s_cpu_model (char *buffer, size_t size)
{
    snprintf (buffer, size, "unknown");
    FILE *file = fopen ("/proc/cpuinfo", "r");
    if (!file)
        return;
    char line [512];
    while (fgets (line, sizeof (line), file))
        if (strncmp (line, "model name", 10) == 0) {
            const char *colon = strchr (line, ':');
            if (colon) {
                snprintf (buffer, size, "%s", colon + 1 + (colon [1] == ' '));
                buffer [strcspn (buffer, "\n")] = 0;
            }
            break;
        }
    fclose (file);
}

/*  The 1-minute load average, or -1: a busy machine makes every figure
    worse, so the report says how busy it was. */
double
report_load_average (void)
{
    double load = -1;
    FILE *file = fopen ("/proc/loadavg", "r");
    if (file) {
        if (fscanf (file, "%lf", &load) != 1)
            load = -1;
        fclose (file);
    }
    return load;
}

void
report_cpu_snapshot (report_cpu_t *snapshot)
{
    snapshot->machine_busy_s = 0;
    FILE *file = fopen ("/proc/stat", "r");
    unsigned long long user, nice, system, idle, iowait, irq, softirq, steal;
    if (file) {
        if (fscanf (file, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &system, &idle, &iowait, &irq,
                    &softirq, &steal) == 8) {
            long ticks = sysconf (_SC_CLK_TCK);
            snapshot->machine_busy_s = (double) (user + nice + system + irq + softirq + steal)
                                     / (double) (ticks > 0? ticks: 100);
        }
        fclose (file);
    }
    struct rusage self, children;
    getrusage (RUSAGE_SELF, &self);
    getrusage (RUSAGE_CHILDREN, &children);
    snapshot->own_s = (double) (self.ru_utime.tv_sec + self.ru_stime.tv_sec + children.ru_utime.tv_sec
                                + children.ru_stime.tv_sec)
                    + (double) (self.ru_utime.tv_usec + self.ru_stime.tv_usec + children.ru_utime.tv_usec
                                + children.ru_stime.tv_usec) / 1e6;
}

double
report_cpu_others_s (const report_cpu_t *start, const report_cpu_t *end)
{
    double others = (end->machine_busy_s - start->machine_busy_s) - (end->own_s - start->own_s);
    return others > 0? others: 0;
}

json_t *
report_machine_json (void)
{
    char cpu [256];
    s_cpu_model (cpu, sizeof (cpu));
    struct utsname name;
    if (uname (&name))
        memset (&name, 0, sizeof (name));
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    char zmq [32];
    snprintf (zmq, sizeof (zmq), "%d.%d.%d", major, minor, patch);
    return json_pack ("{s:i, s:s, s:s, s:s, s:s, s:f}", "cores", (int) sysconf (_SC_NPROCESSORS_ONLN), "cpu", cpu,
                      "kernel", name.release, "sqlite", sqlite3_libversion (), "zeromq", zmq,
                      "load_average_1m", report_load_average ());
}

void
report_machine_print (FILE *out)
{
    char cpu [256];
    s_cpu_model (cpu, sizeof (cpu));
    struct utsname name;
    if (uname (&name))
        memset (&name, 0, sizeof (name));
    int major, minor, patch;
    zmq_version (&major, &minor, &patch);
    long cores = sysconf (_SC_NPROCESSORS_ONLN);
    double load = report_load_average ();
    fprintf (out, "machine: %ld cores, %s, Linux %s, SQLite %s, ZeroMQ %d.%d.%d; load average %.2f%s\n",
             cores, cpu, name.release, sqlite3_libversion (), major, minor, patch, load,
             load > 0.5 * (double) cores? " (busy: other work will skew these figures)": "");
}

json_t *
report_tally_json (const tally_t *tally)
{
    json_t *errors = json_object ();
    json_t *latency = json_object ();
    json_t *root = json_object ();
    if (!errors || !latency || !root) {
        json_decref (errors);
        json_decref (latency);
        json_decref (root);
        return NULL;
    }
    for (int klass = 0; klass < TALLY_CLASS_COUNT; klass++)
        json_object_set_new (errors, tally_class_name ((tally_class_t) klass), json_integer ((json_int_t) tally->errors [klass]));
    json_object_set_new (latency, "mean", json_real (histogram_mean (&tally->latency) / 1000.0));
    json_object_set_new (latency, "min", json_real ((double) tally->latency.min / 1000.0));
    for (int n = 0; n < S_PERCENTS; n++)
        json_object_set_new (latency, s_percent_names [n], json_real (tally_latency_us (tally, s_percents [n])));
    json_object_set_new (root, "batches_ok", json_integer ((json_int_t) tally->batches_ok));
    json_object_set_new (root, "batches_failed", json_integer ((json_int_t) tally_failed (tally)));
    json_object_set_new (root, "errors", errors);
    json_object_set_new (root, "ops_ok", json_integer ((json_int_t) tally->ops_ok));
    json_object_set_new (root, "ops_failed", json_integer ((json_int_t) tally->ops_failed));
    json_object_set_new (root, "rows_written", json_integer ((json_int_t) tally->rows_written));
    json_object_set_new (root, "rows_read", json_integer ((json_int_t) tally->rows_read));
    json_object_set_new (root, "replays", json_integer ((json_int_t) tally->replays));
    json_object_set_new (root, "resent", json_integer ((json_int_t) tally->resent));
    json_object_set_new (root, "seconds", json_real (tally_seconds (tally)));
    json_object_set_new (root, "batches_per_s", json_real (tally_batches_per_s (tally)));
    json_object_set_new (root, "rows_per_s", json_real (tally_rows_per_s (tally)));
    json_object_set_new (root, "rows_read_per_s", json_real (tally_rows_read_per_s (tally)));
    json_object_set_new (root, "latency_us", latency);
    json_object_set_new (root, "ok", json_boolean (tally_clean (tally)));
    return root;
}

/*  The label of a phase's line: "worker", "direct (8 procs)". */
static void
s_label (const options_t *options, phase_t phase, char *buffer, size_t size)
{
    if (phase == PHASE_DIRECT)
        snprintf (buffer, size, "direct (%d proc%s)", options->clients, options->clients == 1? "": "s");
    else
    if (phase == PHASE_READERS)
        snprintf (buffer, size, "readers (%d)", options->query_clients);
    else
    if (phase == PHASE_WORKER)
        snprintf (buffer, size, "worker (%d×%d)", options->clients, options->window);
    else
        snprintf (buffer, size, "%s", run_phase_name ((phase_t) phase));
}

/*  Print a ratio line item if both sides ran; returns whether it did. */
static bool
s_ratio (FILE *out, bool first, const char *what, double numerator, double denominator, bool both)
{
    if (!both || denominator <= 0)
        return false;
    fprintf (out, "%s%s = %.2f", first? "ratios: ": "; ", what, numerator / denominator);
    return true;
}

/*  What was run: the tool, the workload, the worker. */
static void
s_print_config (FILE *out, const options_t *options, const run_result_t *result)
{
    char mix [128];
    workload_mix_format (&options->mix, mix, sizeof (mix));
    fprintf (out, "ledger-bench %s: %d client%s, window %d, ", LEDGER_VERSION, options->clients,
             options->clients == 1? "": "s", options->window);
    if (options->script)
        fprintf (out, "script %s", options->script);
    else
        fprintf (out, "%d-op batches, mix %s", options->batch_ops, mix);
    if (options->batches)
        fprintf (out, ", %llu batches", (unsigned long long) options->batches);
    else
    if (options->duration_s > 0)
        fprintf (out, ", %.1f s", options->duration_s);
    if (options->rate > 0)
        fprintf (out, ", open loop at %.0f batches/s", options->rate);
    else
        fprintf (out, ", closed loop");
    fprintf (out, ", sync %s", options->sync_full? "full": "normal");
    if (result->prefill)
        fprintf (out, ", %zu rows prefilled", result->prefill);
    fprintf (out, "\n");
    if (result->spawned)
        fprintf (out, "worker: %s\n", result->worker_command);
    else
    if (result->endpoint [0])
        fprintf (out, "worker: %s (not spawned: its CPU and memory are not measured)\n", result->endpoint);
}

/*  The table's head; the read/s column only when a phase read rows. */
static void
s_print_table_head (FILE *out, bool reads)
{
    fprintf (out, "\n%-18s", "");
    const char *heads [] = { "batches", "errors", "batches/s", "rows/s", "read/s" };
    const int widths [] = { 10, 8, 12, 12, 12 };
    for (int n = 0; n < 5; n++)
        if (n != 4 || reads)
            report_pad (out, heads [n], widths [n]);
    fprintf (out, "   latency µs:");
    for (int n = 0; n < S_PERCENTS; n++)
        report_pad (out, n == 3? "p99.9": s_percent_names [n], 10);
    fprintf (out, "\n");
}

/*  One phase's line of the table. */
static void
s_print_phase (FILE *out, const options_t *options, phase_t phase, const tally_t *tally, bool reads)
{
    char label [64];
    s_label (options, phase, label, sizeof (label));
    fprintf (out, "%-18s", label);
    /*  %-18s counts bytes: make up for the × in "worker (8×16)". */
    if (strstr (label, "×"))
        fputc (' ', out);
    fprintf (out, "%10llu%8llu%12.1f", (unsigned long long) tally->batches_ok,
             (unsigned long long) tally_failed (tally), tally_batches_per_s (tally));
    if (phase == PHASE_ECHO)
        report_pad (out, "-", 12);
    else
        fprintf (out, "%12.1f", tally_rows_per_s (tally));
    if (reads)
        fprintf (out, "%12.1f", tally_rows_read_per_s (tally));
    fprintf (out, "%14s", "");
    for (int n = 0; n < S_PERCENTS; n++) {
        double us = tally_latency_us (tally, s_percents [n]);
        fprintf (out, us < 1e5? "%10.1f": "%10.0f", us);
    }
    fprintf (out, "\n");
}

/*  The table: a line per phase that ran, and what its latency measures. */
static void
s_print_table (FILE *out, const options_t *options, const run_result_t *result)
{
    bool reads = false;
    for (int phase = 0; phase < PHASE_COUNT; phase++)
        reads |= result->ran [phase] && result->tally [phase].rows_read > 0;
    s_print_table_head (out, reads);
    for (int phase = 0; phase < PHASE_COUNT; phase++)
        if (result->ran [phase])
            s_print_phase (out, options, (phase_t) phase, &result->tally [phase], reads);
    if (options->rate > 0)
        fprintf (out, "\nlatency: from each batch's scheduled send to its reply (direct, raw: from its scheduled"
                      " start to COMMIT's return)\n");
    else
        fprintf (out, "\nlatency: from each batch's send to its reply (direct, raw: from BEGIN to COMMIT's return)\n");
}

/*  Errors by class, only the classes that happened; then resends. */
static void
s_print_errors (FILE *out, const run_result_t *result)
{
    bool any_error = false;
    for (int phase = 0; phase < PHASE_COUNT; phase++) {
        const tally_t *tally = &result->tally [phase];
        if (!result->ran [phase] || (tally_failed (tally) == 0 && tally->ops_failed == 0))
            continue;
        fprintf (out, "%s%s:", any_error? "; ": "errors by class: ", run_phase_name ((phase_t) phase));
        for (int klass = 0; klass < TALLY_CLASS_COUNT; klass++)
            if (tally->errors [klass])
                fprintf (out, " %s %llu", tally_class_name ((tally_class_t) klass), (unsigned long long) tally->errors [klass]);
        if (tally->ops_failed)
            fprintf (out, " (and %llu failed ops in ok batches)", (unsigned long long) tally->ops_failed);
        any_error = true;
    }
    fprintf (out, "%s\n", any_error? "": "errors by class: none");
    for (int phase = 0; phase < PHASE_COUNT; phase++)
        if (result->ran [phase] && (result->tally [phase].replays || result->tally [phase].resent))
            fprintf (out, "%s: %llu batches sent more than once, %llu answered as replays\n",
                     run_phase_name ((phase_t) phase), (unsigned long long) result->tally [phase].resent,
                     (unsigned long long) result->tally [phase].replays);
}

/*  Batches the worker ran in the worker phase, its readers' with them. */
static uint64_t
s_worker_batches (const run_result_t *result)
{
    const tally_t *worker = &result->tally [PHASE_WORKER];
    return worker->batches_ok + tally_failed (worker) + result->tally [PHASE_READERS].batches_ok;
}

/*  What the worker phase cost: the worker's CPU and memory (spawned), the
    load generator's CPU. */
static void
s_print_cpu (FILE *out, const run_result_t *result)
{
    double seconds = tally_seconds (&result->tally [PHASE_WORKER]);
    uint64_t batches = s_worker_batches (result);
    if (result->spawned && result->usage_known) {
        const spawn_usage_t *start = &result->usage_start, *end = &result->usage_end;
        double user = end->user_s - start->user_s, system = end->system_s - start->system_s;
        fprintf (out, "worker process: %.2f CPU s (%.2f user + %.2f system) in the %.2f s run = %.0f %% of one core,"
                 " %.1f µs CPU per batch; peak RSS %.1f MiB (VmHWM)\n", user + system, user, system, seconds,
                 seconds > 0? 100 * (user + system) / seconds: 0.0,
                 batches? 1e6 * (user + system) / (double) batches: 0.0, (double) end->peak_rss_bytes / S_MIB);
    }
    if (result->ran [PHASE_WORKER])
        fprintf (out, "load generator (ledger-bench's client threads): %.2f CPU s = %.0f %% of one core, %.1f µs"
                 " CPU per batch\n", result->client_cpu_s, seconds > 0? 100 * result->client_cpu_s / seconds: 0.0,
                 batches? 1e6 * result->client_cpu_s / (double) batches: 0.0);
}

/*  The worker's own counters over the run, beside ours; how it stopped. */
static void
s_print_worker_counters (FILE *out, const options_t *options, const run_result_t *result)
{
    if (result->stats_known) {
        const driver_worker_stats_t *start = &result->stats_start, *end = &result->stats_end;
        /*  Not counting the first sys.stats and each client's first ping:
            the worker's count of ok batches should be ours. */
        int64_t batches = end->batches_ok - start->batches_ok - 1 - options->clients - options->query_clients;
        int64_t transactions = end->transactions - start->transactions;
        uint64_t ours = result->tally [PHASE_WORKER].batches_ok + result->tally [PHASE_READERS].batches_ok;
        fprintf (out, "worker counters (sys.stats): %lld batches ok (%s)", (long long) batches,
                 batches == (int64_t) ours? "as counted here": "NOT as counted here");
        if (start->transactions >= 0 && transactions > 0)
            fprintf (out, ", %lld write transactions (%.1f batches per commit)", (long long) transactions,
                     (double) result->tally [PHASE_WORKER].batches_ok / (double) transactions);
        if (start->replies_dropped >= 0)
            fprintf (out, ", %lld replies dropped", (long long) (end->replies_dropped - start->replies_dropped));
        fprintf (out, "\n");
    }
    if (result->spawned && result->worker_exit)
        fprintf (out, "worker process: did not exit cleanly on SIGTERM (status %d)\n", result->worker_exit);
}

/*  The ratios between phases that both ran, on one line. */
static void
s_print_ratios (FILE *out, const run_result_t *result)
{
    const tally_t *tallies = result->tally;
    const bool *ran = result->ran;
    bool first = true;
    if (s_ratio (out, first, "worker / direct batches/s", tally_batches_per_s (&tallies [PHASE_WORKER]),
                 tally_batches_per_s (&tallies [PHASE_DIRECT]), ran [PHASE_WORKER] && ran [PHASE_DIRECT]))
        first = false;
    if (s_ratio (out, first, "worker / raw rows/s", tally_rows_per_s (&tallies [PHASE_WORKER]),
                 tally_rows_per_s (&tallies [PHASE_RAW]), ran [PHASE_WORKER] && ran [PHASE_RAW]))
        first = false;
    if (s_ratio (out, first, "direct / raw rows/s", tally_rows_per_s (&tallies [PHASE_DIRECT]),
                 tally_rows_per_s (&tallies [PHASE_RAW]), ran [PHASE_DIRECT] && ran [PHASE_RAW]))
        first = false;
    if (s_ratio (out, first, "worker p50 / echo p50", tally_latency_us (&tallies [PHASE_WORKER], 50),
                 tally_latency_us (&tallies [PHASE_ECHO], 50), ran [PHASE_WORKER] && ran [PHASE_ECHO]))
        first = false;
    if (!first)
        fprintf (out, "\n");
}

void
report_print (FILE *out, const options_t *options, const run_result_t *result)
{
    s_print_config (out, options, result);
    bool any = false;
    for (int phase = 0; phase < PHASE_COUNT; phase++)
        any |= result->ran [phase];
    if (!any) {
        fprintf (out, "nothing was measured: %s\n", result->error [0]? result->error: "interrupted");
        return;
    }
    s_print_table (out, options, result);
    s_print_errors (out, result);
    s_print_cpu (out, result);
    s_print_worker_counters (out, options, result);
    s_print_ratios (out, result);
    if (result->error [0])
        fprintf (out, "stopped early: %s\n", result->error);
    else
    if (signals_stopped ())
        fprintf (out, "interrupted: the figures cover the part that ran\n");
}

json_t *
report_json (const options_t *options, const run_result_t *result)
{
    char mix [128];
    workload_mix_format (&options->mix, mix, sizeof (mix));
    json_t *root = json_object ();
    json_t *config = json_object ();
    json_t *phases = json_object ();
    json_t *ratios = json_object ();
    if (!root || !config || !phases || !ratios) {
        json_decref (root);
        json_decref (config);
        json_decref (phases);
        json_decref (ratios);
        return NULL;
    }
    json_object_set_new (root, "tool", json_string ("ledger-bench"));
    json_object_set_new (root, "version", json_string (LEDGER_VERSION));
    json_object_set_new (root, "machine", report_machine_json ());
    json_object_set_new (config, "worker", json_string (result->spawned? "spawned": options->endpoint? "endpoint": "none"));
    json_object_set_new (config, "endpoint", json_string (result->endpoint));
    json_object_set_new (config, "worker_command", result->spawned? json_string (result->worker_command): json_null ());
    json_object_set_new (config, "clients", json_integer (options->clients));
    json_object_set_new (config, "window", json_integer (options->window));
    json_object_set_new (config, "batch_ops", json_integer (options->batch_ops));
    json_object_set_new (config, "mix", options->script? json_null (): json_string (mix));
    json_object_set_new (config, "script", options->script? json_string (options->script): json_null ());
    json_object_set_new (config, "duration_s", json_real (options->batches? 0: options->duration_s));
    json_object_set_new (config, "batches", json_integer ((json_int_t) options->batches));
    json_object_set_new (config, "rate", json_real (options->rate));
    json_object_set_new (config, "query_clients", json_integer (options->query_clients));
    json_object_set_new (config, "query_limit", json_integer (options->query_limit));
    json_object_set_new (config, "prefill", json_integer ((json_int_t) result->prefill));
    json_object_set_new (config, "sync", json_string (options->sync_full? "full": "normal"));
    json_object_set_new (config, "timeout_ms", json_integer (options->timeout_ms));
    json_object_set_new (config, "retries", json_integer (options->retries));
    json_object_set_new (config, "seed", json_integer ((json_int_t) options->seed));
    json_object_set_new (root, "config", config);
    for (int phase = 0; phase < PHASE_COUNT; phase++)
        if (result->ran [phase])
            json_object_set_new (phases, run_phase_name ((phase_t) phase), report_tally_json (&result->tally [phase]));
    json_object_set_new (root, "phases", phases);
    json_object_set_new (root, "latency_unit", json_string ("us"));
    if (result->spawned && result->usage_known) {
        const spawn_usage_t *start = &result->usage_start, *end = &result->usage_end;
        double user = end->user_s - start->user_s, system = end->system_s - start->system_s;
        const tally_t *worker = &result->tally [PHASE_WORKER];
        uint64_t batches = worker->batches_ok + tally_failed (worker) + result->tally [PHASE_READERS].batches_ok;
        json_object_set_new (root, "worker_process", json_pack ("{s:i, s:f, s:f, s:f, s:f, s:I, s:I, s:i}",
            "pid", (int) result->worker_pid, "cpu_s", user + system, "user_s", user, "system_s", system,
            "cpu_us_per_batch", batches? 1e6 * (user + system) / (double) batches: 0.0,
            "peak_rss_bytes", (json_int_t) end->peak_rss_bytes, "rss_bytes", (json_int_t) end->rss_bytes,
            "exit_status", result->worker_exit));
    }
    if (result->ran [PHASE_WORKER])
        json_object_set_new (root, "client_cpu_s", json_real (result->client_cpu_s));
    if (result->stats_known) {
        const driver_worker_stats_t *start = &result->stats_start, *end = &result->stats_end;
        int64_t transactions = start->transactions >= 0? end->transactions - start->transactions: -1;
        json_object_set_new (root, "worker_counters", json_pack ("{s:I, s:I, s:I}",
            "batches_ok", (json_int_t) (end->batches_ok - start->batches_ok - 1 - options->clients - options->query_clients),
            "write_transactions", (json_int_t) transactions,
            "replies_dropped", (json_int_t) (start->replies_dropped >= 0? end->replies_dropped - start->replies_dropped: -1)));
    }
    const tally_t *tallies = result->tally;
    if (result->ran [PHASE_WORKER] && result->ran [PHASE_DIRECT] && tally_batches_per_s (&tallies [PHASE_DIRECT]) > 0)
        json_object_set_new (ratios, "worker_over_direct_batches_per_s", json_real (
            tally_batches_per_s (&tallies [PHASE_WORKER]) / tally_batches_per_s (&tallies [PHASE_DIRECT])));
    if (result->ran [PHASE_WORKER] && result->ran [PHASE_RAW] && tally_rows_per_s (&tallies [PHASE_RAW]) > 0)
        json_object_set_new (ratios, "worker_over_raw_rows_per_s", json_real (
            tally_rows_per_s (&tallies [PHASE_WORKER]) / tally_rows_per_s (&tallies [PHASE_RAW])));
    if (result->ran [PHASE_WORKER] && result->ran [PHASE_ECHO] && tally_latency_us (&tallies [PHASE_ECHO], 50) > 0)
        json_object_set_new (ratios, "worker_p50_over_echo_p50", json_real (
            tally_latency_us (&tallies [PHASE_WORKER], 50) / tally_latency_us (&tallies [PHASE_ECHO], 50)));
    json_object_set_new (root, "ratios", ratios);
    json_object_set_new (root, "error", result->error [0]? json_string (result->error): json_null ());
    json_object_set_new (root, "ok", json_boolean (run_exit_status (result, result->error [0]? -1: 0) == 0));
    return root;
}
