/*  summary -- `ledger-bench summary`: txn.summary against what users do
    without it.

    Loads N transactions spread over one year (2025, UTC) across K
    categories and some with none into a worker of our own, through the
    worker (pipelined batches: the load is off the clock), then times
    txn.summary by month and category through the worker, and, in the same
    run, the baseline: paging every row with txn.query (10000 a page) and
    adding up per month and category in the client. The two must agree to
    the minor unit, or the run fails. */

#include "summary.h"
#include "spawn.h"
#include "timing.h"
#include "workdir.h"
#include "ledger.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define YEAR_START_S INT64_C (1735689600)      /* 2025-01-01T00:00:00Z */
#define YEAR_S (365 * INT64_C (86400))
#define LOAD_BATCH 1000
#define MAX_CATEGORIES 1000

typedef struct {
    long rows;
    long categories;
    long runs;
    const char *dir;
    bool quiet;
} s_options_t;

/*  Totals per month (12) and category (0: none, 1..K by index). */
typedef struct {
    int64_t count [12][MAX_CATEGORIES + 1];
    int64_t total [12][MAX_CATEGORIES + 1];
} s_table_t;

static int
s_usage (FILE *out, int status)
{
    fprintf (out, "usage: ledger-bench summary [--rows N] [--categories K] [--runs R] [--dir D] [--quiet]\n"
                  "  --rows N         transactions over 2025 (default 1000000)\n"
                  "  --categories K   categories, 1 to %d (default 30); every 31st row has none\n"
                  "  --runs R         timed txn.summary runs; the best and the median are shown (default 5)\n"
                  "  --dir D          where the database goes (default /tmp)\n", MAX_CATEGORIES);
    return status;
}

static int
s_parse (int argc, char **argv, s_options_t *options)
{
    static const struct option longs [] = {
        { "rows", required_argument, NULL, 'n' }, { "categories", required_argument, NULL, 'k' },
        { "runs", required_argument, NULL, 'r' }, { "dir", required_argument, NULL, 'd' },
        { "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 }
    };
    *options = (s_options_t) { .rows = 1000000, .categories = 30, .runs = 5, .dir = "/tmp" };
    int opt;
    optind = 1;
    while ((opt = getopt_long (argc, argv, "", longs, NULL)) != -1) {
        char *end = NULL;
        long value = optarg? strtol (optarg, &end, 10): 0;
        bool number = optarg && *optarg && end && !*end && value > 0;
        if (opt == 'n' && number)
            options->rows = value;
        else
        if (opt == 'k' && number && value <= MAX_CATEGORIES)
            options->categories = value;
        else
        if (opt == 'r' && number)
            options->runs = value;
        else
        if (opt == 'd')
            options->dir = optarg;
        else
        if (opt == 'q')
            options->quiet = true;
        else
            return s_usage (opt == 'h'? stdout: stderr, opt == 'h'? 0: 2);
    }
    return optind < argc? s_usage (stderr, 2): -1;
}

/*  Row n of the data set: its instant, category index (0: none) and
    amount, from a fixed LCG so every run loads the same rows. */
static void
s_row (const s_options_t *options, long n, int64_t *us_p, long *category_p, int64_t *amount_p)
{
    uint64_t x = (uint64_t) n * 6364136223846793005ULL + 1442695040888963407ULL;
    x ^= x >> 29;
    *us_p = (YEAR_START_S + (int64_t) ((uint64_t) n * (uint64_t) YEAR_S / (uint64_t) options->rows)) * 1000000;
    *category_p = n % 31 == 30? 0: 1 + (long) (x % (uint64_t) options->categories);
    *amount_p = (int64_t) ((x >> 20) % 120001) - 100000;
}

static int
s_submit_ok (ledger_client_t *client, ledger_batch_t *batch, ledger_result_t **result_p)
{
    ledger_result_t *result = ledger_client_submit (client, batch);
    if (!result || ledger_result_status (result) != LEDGER_OK) {
        fprintf (stderr, "ledger-bench summary: %s\n", result? ledger_result_describe (result): "cannot send");
        ledger_result_destroy (&result);
        return -1;
    }
    *result_p = result;
    return 0;
}

static int
s_load_categories (ledger_client_t *client, const s_options_t *options, int64_t *ids)
{
    ledger_batch_t *batch = ledger_batch_new ();
    for (long k = 1; k <= options->categories; k++) {
        char name [32];
        snprintf (name, sizeof (name), "Category %ld", k);
        ledger_batch_category_create (batch, name, LEDGER_UNSET);
    }
    ledger_result_t *result;
    int rc = s_submit_ok (client, batch, &result);
    ledger_batch_destroy (&batch);
    for (long k = 1; rc == 0 && k <= options->categories; k++)
        ids [k] = ledger_result_id (result, (size_t) k - 1);
    ledger_result_destroy (&result);
    return rc;
}

/*  Take one finished load batch; -1 if it failed. */
static int
s_load_recv (ledger_client_t *client)
{
    ledger_result_t *result = ledger_client_recv (client, -1);
    int rc = result && ledger_result_status (result) == LEDGER_OK? 0: -1;
    if (rc)
        fprintf (stderr, "ledger-bench summary: a load batch failed: %s\n",
                 result? ledger_result_describe (result): "no reply");
    ledger_result_destroy (&result);
    return rc;
}

/*  The rows, in pipelined batches of LOAD_BATCH. */
static int
s_load_rows (ledger_client_t *client, const s_options_t *options, const int64_t *ids)
{
    for (long n = 0; n < options->rows; ) {
        ledger_batch_t *batch = ledger_batch_new ();
        for (long end = n + LOAD_BATCH; n < end && n < options->rows; n++) {
            int64_t us, amount;
            long category;
            s_row (options, n, &us, &category, &amount);
            ledger_batch_txn_create (batch, amount, ledger_time_at (us, 0), NULL,
                                     category? ledger_id (ids [category]): LEDGER_UNSET);
        }
        while (ledger_client_send (client, batch) == 0)
            if (s_load_recv (client)) {
                ledger_batch_destroy (&batch);
                return -1;
            }
        ledger_batch_destroy (&batch);
    }
    while (ledger_client_in_flight (client))
        if (s_load_recv (client))
            return -1;
    return 0;
}

/*  The category index of id (0 for none). */
static long
s_index (const int64_t *ids, long count, int64_t id)
{
    for (long k = 1; k <= count; k++)
        if (ids [k] == id)
            return k;
    return 0;
}

/*  txn.summary by month and category into table; the seconds it took. */
static double
s_time_summary (ledger_client_t *client, const s_options_t *options, const int64_t *ids, s_table_t *table)
{
    ledger_summary_t summary = { .by = LEDGER_BY_BOTH, .period = LEDGER_PERIOD_MONTH };
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_batch_txn_summary (batch, &summary);
    int64_t start = timing_now_ns ();
    ledger_result_t *result;
    int rc = s_submit_ok (client, batch, &result);
    double seconds = (double) (timing_now_ns () - start) / TIMING_NS_PER_S;
    ledger_batch_destroy (&batch);
    if (rc)
        return -1;
    memset (table, 0, sizeof (*table));
    ledger_summary_row_t row;
    for (size_t n = 0; ledger_result_summary_row (result, 0, n, &row) == 0; n++) {
        int month = atoi (row.period + 5) - 1;
        long k = s_index (ids, options->categories, row.category_id);
        if (month >= 0 && month < 12) {
            table->count [month][k] = row.count;
            table->total [month][k] = row.total;
        }
    }
    ledger_result_destroy (&result);
    return seconds;
}

/*  The baseline: every row through txn.query, added up here. */
static double
s_time_paging (ledger_client_t *client, const s_options_t *options, const int64_t *ids, s_table_t *table)
{
    memset (table, 0, sizeof (*table));
    ledger_query_t query = { .limit = 10000 };
    int64_t start = timing_now_ns ();
    int more;
    do {
        ledger_batch_t *batch = ledger_batch_new ();
        ledger_batch_txn_query (batch, &query);
        ledger_result_t *result;
        int rc = s_submit_ok (client, batch, &result);
        ledger_batch_destroy (&batch);
        if (rc)
            return -1;
        ledger_txn_t txn;
        for (size_t n = 0; ledger_result_txn (result, 0, n, &txn) == 0; n++) {
            int month = atoi (txn.occurred_at + 5) - 1;         /* written in UTC: "2025-MM-..." */
            long k = s_index (ids, options->categories, txn.category_id);
            if (month >= 0 && month < 12) {
                table->count [month][k]++;
                table->total [month][k] += txn.amount;
            }
        }
        more = ledger_query_next_page (&query, result, 0);
        ledger_result_destroy (&result);
    } while (more == 1);
    return more == 0? (double) (timing_now_ns () - start) / TIMING_NS_PER_S: -1;
}

static int
s_by_value (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/*  Load, time, compare, print. Returns the exit status. */
static int
s_measure (ledger_client_t *client, const s_options_t *options)
{
    static int64_t ids [MAX_CATEGORIES + 1];
    static s_table_t by_summary, by_paging;
    int64_t start = timing_now_ns ();
    if (s_load_categories (client, options, ids) || s_load_rows (client, options, ids))
        return 1;
    double load_s = (double) (timing_now_ns () - start) / TIMING_NS_PER_S;
    double *times = calloc ((size_t) options->runs, sizeof (double));
    for (long r = 0; times && r < options->runs; r++)
        if ((times [r] = s_time_summary (client, options, ids, &by_summary)) < 0) {
            free (times);
            return 1;
        }
    double paging_s = times? s_time_paging (client, options, ids, &by_paging): -1;
    if (paging_s < 0) {
        free (times);
        return 1;
    }
    qsort (times, (size_t) options->runs, sizeof (double), s_by_value);
    double best = times [0], median = times [options->runs / 2];
    free (times);
    bool agree = memcmp (&by_summary, &by_paging, sizeof (s_table_t)) == 0;
    printf ("ledger-bench summary: %ld transactions over 2025 (UTC), %ld categories and none; loaded through"
            " the worker in %.1f s\n", options->rows, options->categories, load_s);
    printf ("  txn.summary by month and category:   best %.3f s, median %.3f s of %ld runs\n",
            best, median, options->runs);
    printf ("  baseline, txn.query pages of 10000 summed in the client: %.3f s (1 run), %.1fx the median\n",
            paging_s, median > 0? paging_s / median: 0);
    printf ("  totals agree to the minor unit: %s\n", agree? "yes": "NO");
    return agree? 0: 1;
}

int
summary_main (int argc, char **argv)
{
    s_options_t options;
    int status = s_parse (argc, argv, &options);
    if (status >= 0)
        return status;
    char errbuf [512], db [600], log [600];
    workdir_t *workdir = workdir_new (options.dir, false, errbuf, sizeof (errbuf));
    if (!workdir) {
        fprintf (stderr, "ledger-bench summary: %s\n", errbuf);
        return 3;
    }
    workdir_file (workdir, "summary", "db", db, sizeof (db));
    workdir_file (workdir, "summary", "log", log, sizeof (log));
    spawn_t *worker = spawn_new (db, log, false, NULL, 0, errbuf, sizeof (errbuf));
    ledger_client_t *client = worker? ledger_client_new (spawn_endpoint (worker)): NULL;
    if (!client) {
        fprintf (stderr, "ledger-bench summary: %s\n", worker? "cannot make a client": errbuf);
        status = 3;
    }
    else {
        ledger_client_set_timeout (client, 60000);
        ledger_client_set_window (client, 16);
        status = s_measure (client, &options);
    }
    ledger_client_destroy (&client);
    if (worker && spawn_stop (&worker, errbuf, sizeof (errbuf))) {
        fprintf (stderr, "ledger-bench summary: the worker did not stop cleanly: %s\n", errbuf);
        status = 1;
    }
    workdir_destroy (&workdir);
    return status;
}
