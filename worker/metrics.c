/*  metrics -- the worker's counters in Prometheus' text format. */

#include "metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/*  HELP and TYPE of one family. */
static void
s_family (FILE *out, const char *name, const char *type, const char *help)
{
    fprintf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
s_counter (FILE *out, const char *name, const char *help, uint64_t value)
{
    s_family (out, name, "counter", help);
    fprintf (out, "%s %llu\n", name, (unsigned long long) value);
}

static void
s_gauge (FILE *out, const char *name, const char *help, double value)
{
    s_family (out, name, "gauge", help);
    fprintf (out, "%s %.17g\n", name, value);
}

/*  A number of seconds from microseconds, as short as it is exact. */
static void
s_seconds_text (uint64_t us, char *text, size_t size)
{
    snprintf (text, size, "%llu.%06llu", (unsigned long long) (us / 1000000), (unsigned long long) (us % 1000000));
    char *end = text + strlen (text) - 1;
    while (*end == '0')
        *end-- = 0;
    if (*end == '.')
        *end = 0;
}

/*  One histogram: cumulative buckets, +Inf, _sum and _count, all from one
    reading of its buckets, so +Inf equals _count. Values in microseconds
    are printed in seconds. */
static void
s_histogram (FILE *out, const char *name, const char *help, const stats_block_t *total,
             stats_histogram_t which, bool microseconds)
{
    s_family (out, name, "histogram", help);
    int bounds_count;
    const uint64_t *bounds = stats_bounds (which, &bounds_count);
    const stats_histogram_data_t *histogram = &total->histograms [which];
    uint64_t cumulative = 0;
    char text [48];
    for (int bucket = 0; bucket < bounds_count; bucket++) {
        cumulative += stats_get (&histogram->buckets [bucket]);
        if (microseconds)
            s_seconds_text (bounds [bucket], text, sizeof (text));
        else
            snprintf (text, sizeof (text), "%llu", (unsigned long long) bounds [bucket]);
        fprintf (out, "%s_bucket{le=\"%s\"} %llu\n", name, text, (unsigned long long) cumulative);
    }
    cumulative += stats_get (&histogram->buckets [bounds_count]);
    fprintf (out, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long) cumulative);
    uint64_t sum = stats_get (&histogram->sum);
    if (microseconds)
        s_seconds_text (sum, text, sizeof (text));
    else
        snprintf (text, sizeof (text), "%llu", (unsigned long long) sum);
    fprintf (out, "%s_sum %s\n%s_count %llu\n", name, text, name, (unsigned long long) cumulative);
}

static void
s_batches (FILE *out, const stats_block_t *total)
{
    uint64_t failed = 0;
    for (int klass = PROTO_CLASS_NONE + 1; klass < PROTO_CLASS_COUNT; klass++)
        failed += stats_get (&total->batches_failed [klass]);
    s_family (out, "ledgerd_batches_total", "counter", "Batches answered, by outcome (ok: applied or replayed).");
    fprintf (out, "ledgerd_batches_total{outcome=\"ok\"} %llu\n", (unsigned long long) stats_get (&total->batches_ok));
    fprintf (out, "ledgerd_batches_total{outcome=\"failed\"} %llu\n", (unsigned long long) failed);
    s_family (out, "ledgerd_batches_failed_total", "counter", "Batches answered with an error, by error class.");
    for (int klass = PROTO_CLASS_NONE + 1; klass < PROTO_CLASS_COUNT; klass++)
        fprintf (out, "ledgerd_batches_failed_total{class=\"%s\"} %llu\n", proto_class_name ((proto_class_t) klass),
                 (unsigned long long) stats_get (&total->batches_failed [klass]));
    s_family (out, "ledgerd_ops_total", "counter", "Ops run, by op name (unknown: a name the decoder refused).");
    for (int code = 0; code < STATS_OPS; code++)
        fprintf (out, "ledgerd_ops_total{op=\"%s\"} %llu\n",
                 code < PROTO_OP_COUNT? proto_op_info ((proto_op_code_t) code)->name: "unknown",
                 (unsigned long long) stats_get (&total->ops [code]));
}

static void
s_counters (FILE *out, const stats_block_t *total)
{
    s_counter (out, "ledgerd_rows_changed_total", "Ledger rows inserted, updated or deleted by committed batches.",
               stats_get (&total->rows_changed));
    s_counter (out, "ledgerd_replays_total", "Batches answered from the idempotency log (a resend of a committed key).",
               stats_get (&total->replays));
    s_counter (out, "ledgerd_replies_dropped_total", "Replies not sent: the peer was gone or not reading.",
               stats_get (&total->replies_dropped));
    s_counter (out, "ledgerd_write_transactions_total", "Transactions run on the writer's connection (group commits).",
               stats_get (&total->write_transactions));
    s_counter (out, "ledgerd_checkpoints_total", "WAL checkpoints the writer ran.", stats_get (&total->checkpoints));
}

static void
s_histograms (FILE *out, const stats_block_t *total)
{
    s_histogram (out, "ledgerd_batch_duration_seconds", "Time from receiving a batch to sending its reply, "
                 "every outcome.", total, STATS_BATCH_LATENCY, true);
    s_histogram (out, "ledgerd_writer_wait_seconds", "Time a write batch waited for the writer before its group "
                 "started.", total, STATS_WRITER_WAIT, true);
    s_histogram (out, "ledgerd_commit_duration_seconds", "Time of a write transaction's COMMIT (with its fsync).",
                 total, STATS_COMMIT, true);
    s_histogram (out, "ledgerd_write_transaction_batches", "Batches in one write transaction (group commit size).",
                 total, STATS_GROUP_SIZE, false);
}

static void
s_gauges (FILE *out, stats_t *stats)
{
    s_gauge (out, "ledgerd_writer_queue_batches", "Write batches waiting for the writer.",
             (double) stats_get (&stats->writer_queue));
    s_gauge (out, "ledgerd_reader_queue_batches", "Read batches waiting for a reader.",
             (double) stats_get (&stats->reader_queue));
    s_gauge (out, "ledgerd_reader_batches_in_flight", "Read batches handed to the reader threads, not yet back.",
             (double) stats_get (&stats->reader_in_flight));
    s_gauge (out, "ledgerd_held_ops", "Ops taken and not yet answered (the --max-queue and memory bound).",
             (double) stats_get (&stats->held_ops));
    int state = atomic_load_explicit (&stats->state, memory_order_relaxed);
    s_gauge (out, "ledgerd_ready", "1 while /readyz answers 200.", state == STATS_READY? 1: 0);
    s_family (out, "ledgerd_build_info", "gauge", "Always 1; the version of this ledgerd in its label.");
    fprintf (out, "ledgerd_build_info{version=\"%s\"} 1\n", LEDGER_VERSION);
}

/*  The size of a file in bytes, 0 if there is none. */
static double
s_file_size (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0? (double) st.st_size: 0;
}

static void
s_files (FILE *out, const char *db_path)
{
    if (!db_path)
        return;
    char wal [4096];
    snprintf (wal, sizeof (wal), "%s-wal", db_path);
    s_gauge (out, "ledgerd_database_size_bytes", "Size of the database file.", s_file_size (db_path));
    s_gauge (out, "ledgerd_wal_size_bytes", "Size of the database's write-ahead log.", s_file_size (wal));
}

/*  The system's boot time, Unix seconds, from /proc/stat; 0 if unknown. */
static double
s_boot_time (void)
{
    FILE *file = fopen ("/proc/stat", "r");
    if (!file)
        return 0;
    char line [256];
    unsigned long long btime = 0;
    while (fgets (line, sizeof (line), file))
        if (sscanf (line, "btime %llu", &btime) == 1)
            break;
    fclose (file);
    return (double) btime;
}

static double
s_open_fds (void)
{
    DIR *dir = opendir ("/proc/self/fd");
    if (!dir)
        return 0;
    double count = 0;
    struct dirent *entry;
    while ((entry = readdir (dir)))
        if (entry->d_name [0] != '.')
            count++;
    closedir (dir);
    return count - 1;           /* the directory's own descriptor */
}

/*  The standard process metrics, as Prometheus' client libraries name
    them, from /proc/self/stat (fields after the command's closing ')'). */
static void
s_process (FILE *out)
{
    char text [1024];
    FILE *file = fopen ("/proc/self/stat", "r");
    size_t size = file? fread (text, 1, sizeof (text) - 1, file): 0;
    if (file)
        fclose (file);
    text [size] = 0;
    const char *fields = strrchr (text, ')');
    unsigned long long utime = 0, stime = 0, start = 0, vsize = 0;
    long long rss = 0;
    /*  state(3) ... utime(14) stime(15) ... starttime(22) vsize(23) rss(24) */
    if (!fields || sscanf (fields + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d"
                           " %llu %llu %lld", &utime, &stime, &start, &vsize, &rss) != 5)
        return;
    double ticks = (double) sysconf (_SC_CLK_TCK);
    s_family (out, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
    fprintf (out, "process_cpu_seconds_total %.2f\n", (double) (utime + stime) / ticks);
    s_gauge (out, "process_resident_memory_bytes", "Resident memory size in bytes.",
             (double) rss * (double) sysconf (_SC_PAGESIZE));
    s_gauge (out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", (double) vsize);
    s_gauge (out, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
             s_boot_time () + (double) start / ticks);
    s_gauge (out, "process_open_fds", "Number of open file descriptors.", s_open_fds ());
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) == 0)
        s_gauge (out, "process_max_fds", "Maximum number of open file descriptors.",
                 limit.rlim_cur == RLIM_INFINITY? -1: (double) limit.rlim_cur);
}

char *
metrics_render (stats_t *stats, const char *db_path, size_t *size_p)
{
    char *text = NULL;
    FILE *out = open_memstream (&text, size_p);
    if (!out)
        return NULL;
    stats_block_t total;
    stats_total (stats, &total);
    s_batches (out, &total);
    s_counters (out, &total);
    s_histograms (out, &total);
    s_gauges (out, stats);
    s_files (out, db_path);
    s_process (out);
    bool failed = ferror (out);
    if (fclose (out) || failed) {
        free (text);
        return NULL;
    }
    return text;
}
