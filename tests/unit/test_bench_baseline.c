/*  Unit tests for ledger-bench's baselines: they must read what the worker
    reads. The same txn.query window (and txn.get) runs through the worker's
    store, as a request, and through the baseline writer, on one database
    the baseline made; the rows must be the same rows in the same order. */

#include "baseline.h"
#include "proto_json.h"
#include "proto_request.h"
#include "proto_time.h"
#include "store.h"
#include "testing.h"

#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

#define S_PREFILL 300

static char s_dir [64];
static char s_path [128];
static work_row_t s_rows [S_PREFILL];
static options_t s_options;

/*  A database the baseline made, prefilled: S_PREFILL rows a millisecond
    apart, so that a one-minute window from row k holds far more than a
    page, and a page from row k starts at row k. */
static void
s_setup (void)
{
    snprintf (s_dir, sizeof (s_dir), "/tmp/ledger-baseline-XXXXXX");
    if (!mkdtemp (s_dir))
        abort ();
    snprintf (s_path, sizeof (s_path), "%s/baseline.db", s_dir);
    s_options = (options_t) { .busy_timeout_ms = 5000, .sync_full = false, .batch_ops = 1 };
    char errbuf [256];
    if (baseline_create (s_path, &s_options, s_rows, S_PREFILL, errbuf, sizeof (errbuf))) {
        fprintf (stderr, "baseline_create: %s\n", errbuf);
        abort ();
    }
}

static void
s_teardown (void)
{
    const char *suffixes [] = { "", "-wal", "-shm" };
    char file [160];
    for (size_t n = 0; n < sizeof (suffixes) / sizeof (suffixes [0]); n++) {
        snprintf (file, sizeof (file), "%s%s", s_path, suffixes [n]);
        unlink (file);
    }
    rmdir (s_dir);
}

/*  Run one op, given as JSON, through the worker's store on the baseline's
    database; return its result (owned by the caller), or NULL. */
static json_t *
s_worker_run (const char *op_json)
{
    stats_t stats;
    stats_init (&stats);
    store_options_t options = { .busy_timeout_ms = 5000, .read_only = true };
    char errbuf [256];
    store_t *store = store_new (s_path, &options, &stats, errbuf, sizeof (errbuf));
    if (!store) {
        fprintf (stderr, "store_new: %s\n", errbuf);
        return NULL;
    }
    char text [600];
    snprintf (text, sizeof (text), "{\"v\":1,\"ops\":[%s]}", op_json);
    json_t *json = json_loads (text, 0, NULL);
    char *body = NULL;
    size_t size = 0;
    json_t *result = NULL;
    if (json && proto_json_to_msgpack (json, &body, &size, NULL, 0) == 0) {
        proto_request_t *request = proto_request_new (body, size, 1000);
        if (request && !proto_error_is_set (&request->error)) {
            msgpack_sbuffer out;
            msgpack_sbuffer_init (&out);
            store_run (store, request, &out);
            json_t *reply = proto_json_from_msgpack (out.data, out.size, NULL, 0);
            result = json_incref (json_array_get (json_object_get (reply, "results"), 0));
            if (!result) {
                char *dump = json_dumps (reply, 0);
                fprintf (stderr, "the worker failed %s: %s\n", text, dump? dump: "(no reply)");
                free (dump);
            }
            json_decref (reply);
            msgpack_sbuffer_destroy (&out);
        }
        proto_request_destroy (&request);
    }
    free (body);
    json_decref (json);
    store_destroy (&store);
    return result;
}

static const char *
s_time (int64_t us, char text [PROTO_TIME_MAX])
{
    proto_time_format (us, 0, text);
    return text;
}

/*  The baseline's rows must be the worker's rows, one by one. */
static void
s_check_same (const char *what, json_t *worker_rows, const work_row_t *rows, size_t count)
{
    CHECK_INT (json_array_size (worker_rows), count);
    for (size_t n = 0; n < count && n < json_array_size (worker_rows); n++) {
        json_t *row = json_array_get (worker_rows, n);
        char at [PROTO_TIME_MAX];
        s_time (rows [n].occurred_us, at);
        const char *worker_at = json_string_value (json_object_get (row, "occurred_at"));
        if (json_integer_value (json_object_get (row, "id")) != rows [n].id || !worker_at || strcmp (worker_at, at)) {
            fprintf (stderr, "%s row %zu: the worker read id %lld at %s, the baseline id %lld at %s\n", what, n,
                     (long long) json_integer_value (json_object_get (row, "id")),
                     worker_at? worker_at: "(none)", (long long) rows [n].id, at);
            CHECK (false);
            return;
        }
    }
}

/*  A WORK_QUERY from prefilled row k: the worker's txn.query of the same
    window, as ledger-bench's driver sends it (from, to, limit). */
static void
s_check_query (baseline_t *baseline, size_t k)
{
    work_op_t op = { .kind = WORK_QUERY, .occurred_us = s_rows [k].occurred_us };
    work_row_t rows [WORK_QUERY_LIMIT + 2];
    size_t count = 0;
    char errbuf [256];
    CHECK_INT (baseline_read (baseline, &op, rows, WORK_QUERY_LIMIT + 2, &count, errbuf, sizeof (errbuf)), 0);
    char from [PROTO_TIME_MAX], to [PROTO_TIME_MAX], json [300];
    snprintf (json, sizeof (json), "{\"op\":\"txn.query\",\"from\":\"%s\",\"to\":\"%s\",\"limit\":%d}",
              s_time (op.occurred_us, from), s_time (op.occurred_us + WORK_QUERY_SPAN_US, to), WORK_QUERY_LIMIT);
    json_t *result = s_worker_run (json);
    CHECK (result != NULL);
    char what [40];
    snprintf (what, sizeof (what), "query from row %zu", k);
    s_check_same (what, json_object_get (result, "rows"), rows, count);
    /*  And both read the window asked for: it starts at row k. */
    CHECK_INT (count, WORK_QUERY_LIMIT);
    CHECK_INT (rows [0].id, s_rows [k].id);
    json_decref (result);
}

static void
test_query_reads_the_workers_window (void)
{
    s_setup ();
    char errbuf [256];
    baseline_t *baseline = baseline_new (s_path, &s_options, errbuf, sizeof (errbuf));
    CHECK (baseline != NULL);
    if (baseline) {
        size_t starts [] = { 0, 1, 137, S_PREFILL - WORK_QUERY_LIMIT - 5 };
        for (size_t n = 0; n < sizeof (starts) / sizeof (starts [0]); n++)
            s_check_query (baseline, starts [n]);
    }
    baseline_destroy (&baseline);
    s_teardown ();
}

/*  A window the table ends in: fewer rows than a page, the same ones. */
static void
test_query_short_window (void)
{
    s_setup ();
    char errbuf [256];
    baseline_t *baseline = baseline_new (s_path, &s_options, errbuf, sizeof (errbuf));
    CHECK (baseline != NULL);
    if (baseline) {
        size_t k = S_PREFILL - 3;
        work_op_t op = { .kind = WORK_QUERY, .occurred_us = s_rows [k].occurred_us };
        work_row_t rows [WORK_QUERY_LIMIT + 2];
        size_t count = 0;
        CHECK_INT (baseline_read (baseline, &op, rows, WORK_QUERY_LIMIT + 2, &count, errbuf, sizeof (errbuf)), 0);
        char from [PROTO_TIME_MAX], to [PROTO_TIME_MAX], json [300];
        snprintf (json, sizeof (json), "{\"op\":\"txn.query\",\"from\":\"%s\",\"to\":\"%s\",\"limit\":%d}",
                  s_time (op.occurred_us, from), s_time (op.occurred_us + WORK_QUERY_SPAN_US, to),
                  WORK_QUERY_LIMIT);
        json_t *result = s_worker_run (json);
        CHECK (result != NULL);
        s_check_same ("short window", json_object_get (result, "rows"), rows, count);
        CHECK_INT (count, 3);
        json_decref (result);
    }
    baseline_destroy (&baseline);
    s_teardown ();
}

static void
test_get_reads_the_workers_row (void)
{
    s_setup ();
    char errbuf [256];
    baseline_t *baseline = baseline_new (s_path, &s_options, errbuf, sizeof (errbuf));
    CHECK (baseline != NULL);
    if (baseline) {
        work_op_t op = { .kind = WORK_GET, .target_id = s_rows [42].id };
        work_row_t rows [2];
        size_t count = 0;
        CHECK_INT (baseline_read (baseline, &op, rows, 2, &count, errbuf, sizeof (errbuf)), 0);
        char json [100];
        snprintf (json, sizeof (json), "{\"op\":\"txn.get\",\"id\":%lld}", (long long) op.target_id);
        json_t *result = s_worker_run (json);
        CHECK (result != NULL);
        json_t *worker_rows = json_pack ("[O]", json_object_get (result, "row"));
        s_check_same ("get", worker_rows, rows, count);
        json_decref (worker_rows);
        json_decref (result);
    }
    baseline_destroy (&baseline);
    s_teardown ();
}

int
main (void)
{
    TEST_RUN (test_query_reads_the_workers_window);
    TEST_RUN (test_query_short_window);
    TEST_RUN (test_get_reads_the_workers_row);
    return TEST_DONE ();
}
