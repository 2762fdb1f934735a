/*  Integration: the ops through a real ledgerd over TCP -- refs, modes,
    atomic rollback, timestamps across offsets, pagination, idempotency. */

#include "testing.h"
#include "harness_files.h"
#include "harness_json.h"
#include "harness_wire.h"
#include "worker_harness.h"
#include "harness_fixture.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

/*  Each test gets a worker of its own (harness_fixture.h). */
#define OPS(...) "{\"v\":1,\"ops\":[" __VA_ARGS__ "]}"

static long long
s_count_rows (fixture_t *f, const char *op)
{
    char text [200];
    snprintf (text, sizeof (text), OPS ("{\"op\":\"%s\"%s}"), op,
              strcmp (op, "txn.query") == 0? ",\"limit\":10000": "");
    json_t *reply = s_call (f, text);
    long long count = (long long) json_array_size (harness_get (reply, "results.0.rows"));
    json_decref (reply);
    return count;
}

static void
test_refs_and_every_op (fixture_t *f)
{
    json_t *reply = s_call (f, "{\"v\":1,\"id\":\"batch-1\",\"ops\":["
        "{\"op\":\"category.create\",\"name\":\"Food\"},"
        "{\"op\":\"category.create\",\"name\":\"Bakery\",\"parent\":{\"ref\":0}},"
        "{\"op\":\"txn.create\",\"amount\":\"4.20\",\"occurred_at\":\"2025-03-01T08:00:00+01:00\",\"category\":{\"ref\":1}},"
        "{\"op\":\"txn.update\",\"id\":{\"ref\":2},\"description\":\"croissant\"},"
        "{\"op\":\"txn.get\",\"id\":{\"ref\":2}},"
        "{\"op\":\"category.update\",\"id\":{\"ref\":1},\"name\":\"Bread\"},"
        "{\"op\":\"category.get\",\"name\":\"Bread\"},"
        "{\"op\":\"category.list\"},"
        "{\"op\":\"txn.query\",\"categories\":[\"Food\"],\"include_subcategories\":true},"
        "{\"op\":\"sys.ping\"},"
        "{\"op\":\"sys.stats\"}]}");
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_STR (harness_str (reply, "id"), "batch-1");
    CHECK_INT (harness_int (reply, "v"), 1);
    CHECK_INT (json_array_size (harness_get (reply, "results")), 11);
    long long txn_id = harness_int (reply, "results.2.id");
    CHECK (txn_id > 0);
    CHECK_INT (harness_int (reply, "results.3.changed"), 1);
    CHECK_INT (harness_int (reply, "results.4.row.amount"), 420);
    CHECK_STR (harness_str (reply, "results.4.row.description"), "croissant");
    CHECK_INT (harness_int (reply, "results.4.row.category_id"), harness_int (reply, "results.1.id"));
    CHECK_STR (harness_str (reply, "results.6.row.name"), "Bread");
    CHECK_INT (json_array_size (harness_get (reply, "results.7.rows")), 2);
    CHECK_INT (harness_int (reply, "results.8.rows.0.id"), txn_id);
    CHECK (json_is_null (harness_get (reply, "results.8.next")));
    CHECK_INT (harness_bool (reply, "results.9.pong"), 1);
    CHECK (harness_get (reply, "results.10.stats.batches_ok") != NULL);
    json_decref (reply);

    char text [300];
    snprintf (text, sizeof (text), OPS ("{\"op\":\"txn.delete\",\"id\":%lld},{\"op\":\"category.delete\",\"id\":2}"), txn_id);
    reply = s_call (f, text);
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (harness_int (reply, "results.1.changed"), 1);
    json_decref (reply);
}

/*  Deleting a category still in use fails with CATEGORY_IN_USE, field
    id, and says by what; nothing is deleted. */
static void
test_category_in_use (fixture_t *f)
{
    json_t *reply = s_call (f, OPS (
        "{\"op\":\"category.create\",\"name\":\"Home\"},"
        "{\"op\":\"category.create\",\"name\":\"Garden\",\"parent\":{\"ref\":0}},"
        "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":{\"ref\":0}},"
        "{\"op\":\"txn.create\",\"amount\":2,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":{\"ref\":0}}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    long long home = harness_int (reply, "results.0.id");
    json_decref (reply);
    long long categories = s_count_rows (f, "category.list");
    char text [200], message [100];
    snprintf (text, sizeof (text), OPS ("{\"op\":\"sys.ping\"},{\"op\":\"category.delete\",\"id\":%lld}"), home);
    reply = s_call (f, text);
    CHECK_INT (harness_bool (reply, "ok"), 0);
    CHECK_STR (harness_str (reply, "error.class"), "constraint");
    CHECK_STR (harness_str (reply, "error.code"), "CATEGORY_IN_USE");
    CHECK_INT (harness_int (reply, "error.op"), 1);
    CHECK_STR (harness_str (reply, "error.field"), "id");
    CHECK_INT (harness_bool (reply, "error.retryable"), 0);
    snprintf (message, sizeof (message), "category %lld still has 2 transactions and 1 subcategory", home);
    CHECK_STR (harness_str (reply, "error.message"), message);
    json_decref (reply);
    CHECK_INT (s_count_rows (f, "category.list"), categories);
}

/*  s_call with a request made printf-style. */
static json_t *
s_callf (fixture_t *f, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

static json_t *
s_callf (fixture_t *f, const char *format, ...)
{
    char text [1000];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof (text), format, args);
    va_end (args);
    return s_call (f, text);
}

/*  One row read back: its version and one value (a txn's amount, a
    category's parent_id), or -1 for a row that is not there. */
typedef struct {
    long long version, value;
} s_row_t;

static s_row_t
s_read_row (fixture_t *f, const char *op, long long id, const char *value)
{
    json_t *reply = s_callf (f, OPS ("{\"op\":\"%s\",\"id\":%lld}"), op, id);
    s_row_t row = { -1, -1 };
    if (harness_bool (reply, "ok") == 1) {
        row.version = harness_int (reply, "results.0.row.version");
        json_t *cell = harness_get (reply, "results.0.row");
        cell = cell? json_object_get (cell, value): NULL;
        row.value = json_is_integer (cell)? json_integer_value (cell): 0;
    }
    json_decref (reply);
    return row;
}

/*  Optimistic concurrency: every row has a version, 1 on create and one
    more on every update; an update or delete given a stale
    expect_version fails as conflict / VERSION_MISMATCH naming the row's
    version, and in an atomic batch nothing of the batch stays. */
static void
test_row_versions (fixture_t *f)
{
    json_t *reply = s_call (f, OPS (
        "{\"op\":\"category.create\",\"name\":\"Versioned\"},"
        "{\"op\":\"txn.create\",\"amount\":100,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":{\"ref\":0}},"
        "{\"op\":\"txn.get\",\"id\":{\"ref\":1}},"
        "{\"op\":\"category.get\",\"id\":{\"ref\":0}},"
        "{\"op\":\"txn.query\",\"categories\":[{\"ref\":0}]},"
        "{\"op\":\"category.list\"}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    long long category = harness_int (reply, "results.0.id");
    long long txn = harness_int (reply, "results.1.id");
    CHECK_INT (harness_int (reply, "results.2.row.version"), 1);
    CHECK_INT (harness_int (reply, "results.3.row.version"), 1);
    CHECK_INT (harness_int (reply, "results.4.rows.0.version"), 1);
    json_t *rows = harness_get (reply, "results.5.rows");
    for (size_t n = 0; n < json_array_size (rows); n++)
        CHECK_INT (json_integer_value (json_object_get (json_array_get (rows, n), "version")), 1);
    json_decref (reply);

    /*  + 1 per update, with or without expect_version. */
    reply = s_callf (f, OPS ("{\"op\":\"txn.update\",\"id\":%lld,\"amount\":200,\"expect_version\":1},"
                             "{\"op\":\"txn.update\",\"id\":%lld,\"amount\":300}"), txn, txn);
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);
    s_row_t row = s_read_row (f, "txn.get", txn, "amount");
    CHECK_INT (row.version, 3);
    CHECK_INT (row.value, 300);
    json_t *stats = s_call (f, OPS ("{\"op\":\"sys.stats\"}"));
    long long conflicts = harness_int (stats, "results.0.stats.batches_failed.conflict");
    CHECK (conflicts >= 0);
    json_decref (stats);

    /*  A stale version in an atomic batch: the exact error, and neither
        the create before it nor the category update is kept. */
    long long txns = s_count_rows (f, "txn.query");
    reply = s_callf (f, OPS ("{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\"},"
                             "{\"op\":\"category.update\",\"id\":%lld,\"name\":\"Renamed\",\"expect_version\":1},"
                             "{\"op\":\"txn.update\",\"id\":%lld,\"amount\":999,\"expect_version\":2}"),
                     category, txn);
    CHECK_INT (harness_bool (reply, "ok"), 0);
    CHECK_STR (harness_str (reply, "error.class"), "conflict");
    CHECK_INT (harness_bool (reply, "error.retryable"), 0);
    CHECK_INT (harness_int (reply, "error.op"), 2);
    CHECK_STR (harness_str (reply, "error.field"), "expect_version");
    CHECK_STR (harness_str (reply, "error.code"), "VERSION_MISMATCH");
    char message [100];
    snprintf (message, sizeof (message), "transaction %lld is at version 3, not 2", txn);
    CHECK_STR (harness_str (reply, "error.message"), message);
    json_decref (reply);
    CHECK_INT (s_count_rows (f, "txn.query"), txns);
    row = s_read_row (f, "txn.get", txn, "amount");
    CHECK_INT (row.version, 3);
    CHECK_INT (row.value, 300);
    row = s_read_row (f, "category.get", category, "parent_id");
    CHECK_INT (row.version, 1);
    stats = s_call (f, OPS ("{\"op\":\"sys.stats\"}"));
    CHECK_INT (harness_int (stats, "results.0.stats.batches_failed.conflict"), conflicts + 1);
    json_decref (stats);

    /*  The version just read succeeds. */
    reply = s_callf (f, OPS ("{\"op\":\"txn.update\",\"id\":%lld,\"amount\":400,\"expect_version\":3}"), txn);
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (harness_int (reply, "results.0.changed"), 1);
    json_decref (reply);
    row = s_read_row (f, "txn.get", txn, "amount");
    CHECK_INT (row.version, 4);
    CHECK_INT (row.value, 400);

    /*  A stale delete is refused and the row stays; a fresh one deletes. */
    reply = s_callf (f, OPS ("{\"op\":\"txn.delete\",\"id\":%lld,\"expect_version\":3}"), txn);
    CHECK_STR (harness_str (reply, "error.class"), "conflict");
    CHECK_STR (harness_str (reply, "error.code"), "VERSION_MISMATCH");
    json_decref (reply);
    CHECK_INT (s_read_row (f, "txn.get", txn, "amount").version, 4);
    reply = s_callf (f, OPS ("{\"op\":\"txn.delete\",\"id\":%lld,\"expect_version\":4},"
                             "{\"op\":\"category.delete\",\"id\":%lld,\"expect_version\":2}"), txn, category);
    CHECK_STR (harness_str (reply, "error.class"), "conflict");
    CHECK_INT (harness_int (reply, "error.op"), 1);
    CHECK_STR (harness_str (reply, "error.field"), "expect_version");
    json_decref (reply);
    CHECK_INT (s_read_row (f, "txn.get", txn, "amount").version, 4);
    reply = s_callf (f, OPS ("{\"op\":\"txn.delete\",\"id\":%lld,\"expect_version\":4},"
                             "{\"op\":\"category.delete\",\"id\":%lld,\"expect_version\":1}"), txn, category);
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);
    CHECK_INT (s_read_row (f, "txn.get", txn, "amount").version, -1);
    CHECK_INT (s_read_row (f, "category.get", category, "parent_id").version, -1);
}

/*  A keyed batch sent again is answered from its record, even though the
    version it expected is stale by then: a retry is not a new edit. */
static void
test_row_versions_replay (fixture_t *f)
{
    json_t *reply = s_call (f, OPS ("{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\"}"));
    long long txn = harness_int (reply, "results.0.id");
    json_decref (reply);
#define EDIT "{\"v\":1,\"key\":\"edit-%lld\",\"ops\":[{\"op\":\"txn.update\",\"id\":%lld,\"amount\":5," \
             "\"expect_version\":1}]}"
    json_t *first = s_callf (f, EDIT, txn, txn);
    json_t *again = s_callf (f, EDIT, txn, txn);
    CHECK_INT (harness_bool (first, "ok"), 1);
    CHECK_INT (harness_bool (again, "ok"), 1);
    CHECK_INT (harness_bool (again, "replayed"), 1);
    CHECK (json_equal (harness_get (first, "results"), harness_get (again, "results")));
    json_decref (first);
    json_decref (again);
    CHECK_INT (s_read_row (f, "txn.get", txn, "amount").version, 2);
}

/*  A database an older ledgerd left (schema version 3, no versions) is
    migrated when the worker opens it: its rows are at version 1, and the
    file's user_version is the new one. */
static void
test_migration_from_version_3 (void)
{
    char dir [300], db_path [340];
    CHECK_INT (harness_make_dir (dir, sizeof (dir), "ledgerd-ops-v3"), 0);
    snprintf (db_path, sizeof (db_path), "%s/ledger.db", dir);
    CHECK_INT (harness_make_schema_v3 (db_path,
        "INSERT INTO category (name) VALUES ('Old');"
        "INSERT INTO txn (amount, occurred_us, occurred_off, category_id, created_us, updated_us)"
        " VALUES (-250, 1735689600000000, 60, 1, 0, 0)"), 0);
    fixture_t f = { harness_start_in (dir, "--sync", "normal", NULL), NULL };
    CHECK (f.worker != NULL);
    if (f.worker) {
        f.req = harness_req (f.worker);
        json_t *reply = s_call (&f, OPS ("{\"op\":\"txn.get\",\"id\":1},{\"op\":\"category.list\"},"
                                         "{\"op\":\"txn.update\",\"id\":1,\"description\":\"x\",\"expect_version\":1},"
                                         "{\"op\":\"txn.query\"}"));
        CHECK_INT (harness_bool (reply, "ok"), 1);
        CHECK_INT (harness_int (reply, "results.0.row.version"), 1);
        CHECK_INT (harness_int (reply, "results.0.row.amount"), -250);
        CHECK_STR (harness_str (reply, "results.0.row.occurred_at"), "2025-01-01T01:00:00+01:00");
        CHECK_INT (harness_int (reply, "results.1.rows.0.version"), 1);
        CHECK_INT (harness_int (reply, "results.3.rows.0.version"), 2);
        json_decref (reply);
        zsock_destroy (&f.req);
        if (TEST_FAILING ())
            harness_dump_log (f.worker);
        CHECK_INT (harness_stop (&f.worker, false), 0);
    }
    CHECK_INT (harness_sql_int (db_path, "PRAGMA user_version"), 4);
    CHECK_INT (harness_sql_int (db_path, "SELECT count (*) FROM txn WHERE version = 2"), 1);
    harness_remove_dir (dir);
}

/*  The same on a one-node cluster: the counts are plain queries, which
    the dqlite backend runs as the SQLite one does. */
static void
test_category_in_use_in_a_cluster (void)
{
    char dir [300], data_dir [320];
    CHECK_INT (harness_make_dir (dir, sizeof (dir), "ledgerd-ops-cluster"), 0);
    snprintf (data_dir, sizeof (data_dir), "%s/raft", dir);
    char *endpoint = harness_free_endpoint ();
    char *raft = harness_free_endpoint ();
    CHECK (endpoint && raft);
    fixture_t f = { NULL, NULL };
    if (endpoint && raft)
        f.worker = harness_start_at (dir, endpoint, "--cluster-id", "1", "--cluster-bind", raft + strlen ("tcp://"),
                                     "--data-dir", data_dir, "--sync", "normal", NULL);
    CHECK (f.worker != NULL);
    if (f.worker) {
        f.req = harness_req (f.worker);
        /*  Writes wait for the node to lead (an election of one). */
        for (int tries = 0; tries < 100; tries++) {
            json_t *reply = s_call (&f, OPS ("{\"op\":\"category.create\",\"name\":\"Probe\"}"));
            bool wrote = harness_bool (reply, "ok") == 1;
            const char *klass = harness_str (reply, "error.class");
            bool waiting = klass && strcmp (klass, "unavailable") == 0 && tries < 99;
            if (!wrote && !waiting)
                fprintf (stderr, "    first write: %s: %s\n", klass? klass: "no answer",
                         klass? harness_str (reply, "error.message"): "");
            json_decref (reply);
            if (!waiting) {
                CHECK (wrote);
                break;
            }
            usleep (100000);
        }
        test_category_in_use (&f);
        test_row_versions (&f);
        /*  Backups are for single-node workers: a cluster says so. */
        json_t *reply = s_call (&f, OPS ("{\"op\":\"sys.backup\"}"));
        CHECK_INT (harness_bool (reply, "ok"), 0);
        CHECK_STR (harness_str (reply, "error.class"), "invalid");
        CHECK_STR (harness_str (reply, "error.code"), "NOT_SUPPORTED");
        CHECK_STR (harness_str (reply, "error.field"), "op");
        json_decref (reply);
        zsock_destroy (&f.req);
        if (TEST_FAILING ())
            harness_dump_log (f.worker);
        CHECK_INT (harness_stop (&f.worker, false), 0);
    }
    free (endpoint);
    free (raft);
    harness_remove_dir (dir);
}

static void
test_atomic_rollback_leaves_no_trace (fixture_t *f)
{
    long long categories = s_count_rows (f, "category.list");
    long long txns = s_count_rows (f, "txn.query");
    json_t *reply = s_call (f, "{\"v\":1,\"id\":5,\"ops\":["
        "{\"op\":\"category.create\",\"name\":\"Rollback-A\"},"
        "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":{\"ref\":0}},"
        "{\"op\":\"txn.create\",\"amount\":2,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":\"No-such\"}]}");
    CHECK_INT (harness_bool (reply, "ok"), 0);
    CHECK_INT (harness_int (reply, "id"), 5);
    CHECK_STR (harness_str (reply, "error.class"), "not_found");
    CHECK_INT (harness_int (reply, "error.op"), 2);
    CHECK_STR (harness_str (reply, "error.field"), "category");
    CHECK_INT (harness_bool (reply, "error.retryable"), 0);
    CHECK (harness_str (reply, "error.message") != NULL);
    CHECK (harness_get (reply, "results") == NULL);
    json_decref (reply);
    CHECK_INT (s_count_rows (f, "category.list"), categories);
    CHECK_INT (s_count_rows (f, "txn.query"), txns);
    /*  And the name is free: nothing of the batch was kept. */
    reply = s_call (f, OPS ("{\"op\":\"category.create\",\"name\":\"Rollback-A\"}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);
}

static void
test_independent_mode (fixture_t *f)
{
    json_t *reply = s_call (f, "{\"v\":1,\"mode\":\"independent\",\"ops\":["
        "{\"op\":\"category.create\",\"name\":\"Indep\"},"
        "{\"op\":\"category.create\",\"name\":\"Indep\"},"
        "{\"op\":\"txn.create\",\"amount\":1.5,\"occurred_at\":\"2025-01-01T00:00:00Z\"},"
        "{\"op\":\"txn.create\",\"amount\":7,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":{\"ref\":1}},"
        "{\"op\":\"txn.create\",\"amount\":8,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":{\"ref\":0}}]}");
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (harness_int (reply, "failed"), 3);
    CHECK (harness_int (reply, "results.0.id") > 0);
    CHECK_STR (harness_str (reply, "results.1.error.code"), "SQLITE_CONSTRAINT_UNIQUE");
    CHECK_STR (harness_str (reply, "results.2.error.code"), "AMOUNT_NOT_EXACT");
    CHECK_STR (harness_str (reply, "results.2.error.field"), "amount");
    CHECK_STR (harness_str (reply, "results.3.error.code"), "REF_FAILED");
    CHECK (harness_int (reply, "results.4.id") > 0);
    json_decref (reply);
    reply = s_call (f, OPS ("{\"op\":\"txn.query\",\"categories\":[\"Indep\"]}"));
    CHECK_INT (json_array_size (harness_get (reply, "results.0.rows")), 1);
    CHECK_INT (harness_int (reply, "results.0.rows.0.amount"), 8);
    json_decref (reply);
}

static void
test_timestamps_across_offsets (fixture_t *f)
{
    json_t *reply = s_call (f, OPS (
        "{\"op\":\"category.create\",\"name\":\"TZ\"},"
        "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2030-06-01T17:30:00+05:30\",\"category\":\"TZ\"},"
        "{\"op\":\"txn.create\",\"amount\":2,\"occurred_at\":\"2030-06-01T12:00:00Z\",\"category\":\"TZ\"},"
        "{\"op\":\"txn.create\",\"amount\":3,\"occurred_at\":\"2030-06-01T04:00:00.000001-08:00\",\"category\":\"TZ\"},"
        "{\"op\":\"txn.create\",\"amount\":4,\"occurred_at\":\"2030-06-02T01:59:59+14:00\",\"category\":\"TZ\"},"
        "{\"op\":\"txn.create\",\"amount\":5,\"occurred_at\":\"2030-06-01t12:00:00-00:00\",\"category\":\"TZ\"}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);
    /*  In instant order: 4 (11:59:59Z), then 1, 2, 5 at 12:00Z by id, then 3. */
    reply = s_call (f, OPS ("{\"op\":\"txn.query\",\"categories\":[\"TZ\"],"
                         "\"from\":\"2030-06-01T11:00:00Z\",\"to\":\"2030-06-01T13:00:00.000001+01:00\"}"));
    json_t *rows = harness_get (reply, "results.0.rows");
    CHECK_INT (json_array_size (rows), 4);      /* `to` is exclusive: 3, at 12:00:00.000001Z, is out */
    static const long long amounts [] = { 4, 1, 2, 5 };
    static const char *written [] = { "2030-06-02T01:59:59+14:00", "2030-06-01T17:30:00+05:30",
                                      "2030-06-01T12:00:00Z", "2030-06-01T12:00:00Z" };
    for (size_t n = 0; n < 4 && n < json_array_size (rows); n++) {
        json_t *row = json_array_get (rows, n);
        CHECK_INT (json_integer_value (json_object_get (row, "amount")), amounts [n]);
        CHECK_STR (json_string_value (json_object_get (row, "occurred_at")), written [n]);
    }
    json_decref (reply);
    reply = s_call (f, OPS ("{\"op\":\"txn.query\",\"categories\":[\"TZ\"],\"from\":\"2030-06-01T12:00:00.000001Z\"}"));
    CHECK_INT (json_array_size (harness_get (reply, "results.0.rows")), 1);
    CHECK_STR (harness_str (reply, "results.0.rows.0.occurred_at"), "2030-06-01T04:00:00.000001-08:00");
    json_decref (reply);
}

static void
test_pagination_without_gaps_or_repeats (fixture_t *f)
{
    /*  40 rows over 4 instants (ties broken by id), in one batch. */
    char text [20000];
    size_t size = (size_t) snprintf (text, sizeof (text), "{\"v\":1,\"ops\":[{\"op\":\"category.create\",\"name\":\"Pages\"}");
    for (int n = 0; n < 40; n++)
        size += (size_t) snprintf (text + size, sizeof (text) - size,
                                   ",{\"op\":\"txn.create\",\"amount\":%d,\"occurred_at\":\"2031-01-0%dT00:00:00Z\",\"category\":{\"ref\":0}}",
                                   n, 4 - n % 4);
    snprintf (text + size, sizeof (text) - size, "]}");
    json_t *reply = s_call (f, text);
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);

    bool seen [40] = { false };
    int rows = 0, pages = 0;
    char after [80] = "null";
    const char *last_time = NULL;
    char last_buf [40] = "";
    long long last_id = 0;
    while (pages < 20) {
        snprintf (text, sizeof (text), OPS ("{\"op\":\"txn.query\",\"categories\":[\"Pages\"],\"limit\":7,\"after\":%s}"), after);
        reply = s_call (f, text);
        json_t *page = harness_get (reply, "results.0.rows");
        pages++;
        for (size_t i = 0; i < json_array_size (page); i++) {
            json_t *row = json_array_get (page, i);
            long long amount = json_integer_value (json_object_get (row, "amount"));
            const char *time = json_string_value (json_object_get (row, "occurred_at"));
            long long id = json_integer_value (json_object_get (row, "id"));
            CHECK (amount >= 0 && amount < 40 && !seen [amount]);
            if (amount >= 0 && amount < 40)
                seen [amount] = true;
            /*  Ordered by instant, then id. */
            if (last_time) {
                int order = strcmp (time, last_buf);
                CHECK (order > 0 || (order == 0 && id > last_id));
            }
            snprintf (last_buf, sizeof (last_buf), "%s", time);
            last_time = last_buf;
            last_id = id;
            rows++;
        }
        json_t *next = harness_get (reply, "results.0.next");
        bool done = !next || json_is_null (next);
        if (!done)
            snprintf (after, sizeof (after), "\"%s\"", json_string_value (next));
        json_decref (reply);
        if (pages == 1) {
            /*  A row written behind the cursor between pages is not seen
                again, nor does it shift the pages that follow. */
            json_decref (s_call (f, OPS ("{\"op\":\"txn.create\",\"amount\":999,\"occurred_at\":\"2030-12-31T23:59:59Z\",\"category\":\"Pages\"}")));
        }
        if (done)
            break;
    }
    CHECK_INT (pages, 6);
    CHECK_INT (rows, 40);
    reply = s_call (f, OPS ("{\"op\":\"txn.query\",\"after\":\"not-a-cursor\"}"));
    CHECK_STR (harness_str (reply, "error.code"), "BAD_CURSOR");
    CHECK_STR (harness_str (reply, "error.field"), "after");
    json_decref (reply);
}

static void
test_idempotent_replay (fixture_t *f)
{
    long long before = s_count_rows (f, "txn.query");
#define KEYED_BATCH "{\"v\":1,\"id\":%d,\"key\":\"import-42\",\"ops\":[" \
                    "{\"op\":\"txn.create\",\"amount\":\"99.99\",\"occurred_at\":\"2025-05-05T05:05:05Z\"}," \
                    "{\"op\":\"txn.create\",\"amount\":\"0.01\",\"occurred_at\":\"2025-05-05T05:05:05Z\"}]}"
    json_t *first = harness_callf (f->req, KEYED_BATCH, 1);
    json_t *second = harness_callf (f->req, KEYED_BATCH, 2);
    CHECK (first && second);
    if (first && second) {
        CHECK_INT (harness_bool (first, "ok"), 1);
        CHECK (harness_get (first, "replayed") == NULL);
        CHECK_INT (harness_bool (second, "replayed"), 1);
        CHECK_INT (harness_int (second, "id"), 2);
        CHECK (json_equal (harness_get (first, "results"), harness_get (second, "results")));
    }
    json_decref (first);
    json_decref (second);
    CHECK_INT (s_count_rows (f, "txn.query"), before + 2);
    json_t *reused = s_call (f, "{\"v\":1,\"key\":\"import-42\",\"ops\":[{\"op\":\"sys.ping\"}]}");
    CHECK_STR (harness_str (reused, "error.code"), "KEY_REUSED");
    CHECK_STR (harness_str (reused, "error.class"), "invalid");
    json_decref (reused);
}

/*  The counters of sys.stats, read now. */
typedef struct {
    long long ok, not_found, invalid, rows_changed, replays;
} s_counters_t;

static s_counters_t
s_counters (fixture_t *f)
{
    json_t *reply = s_call (f, OPS ("{\"op\":\"sys.stats\"}"));
    s_counters_t counters = {
        .ok = harness_int (reply, "results.0.stats.batches_ok"),
        .not_found = harness_int (reply, "results.0.stats.batches_failed.not_found"),
        .invalid = harness_int (reply, "results.0.stats.batches_failed.invalid"),
        .rows_changed = harness_int (reply, "results.0.stats.rows_changed"),
        .replays = harness_int (reply, "results.0.stats.replays")
    };
    json_decref (reply);
    return counters;
}

static void
test_stats_count_batches (fixture_t *f)
{
    s_counters_t before = s_counters (f);
    CHECK (before.ok >= 0 && before.not_found >= 0 && before.invalid >= 0
        && before.rows_changed >= 0 && before.replays >= 0);
    /*  Two batches that succeed (three rows, then one), the second sent
        twice with its key (one replay), one refused as not_found, one as
        invalid (its key reused for other ops). */
    const char *batches [] = {
        OPS ("{\"op\":\"category.create\",\"name\":\"Counted\"},"
             "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":{\"ref\":0}},"
             "{\"op\":\"txn.create\",\"amount\":2,\"occurred_at\":\"2025-01-01T00:00:00Z\"}"),
        "{\"v\":1,\"key\":\"counted\",\"ops\":[{\"op\":\"txn.create\",\"amount\":3,\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}",
        "{\"v\":1,\"key\":\"counted\",\"ops\":[{\"op\":\"txn.create\",\"amount\":3,\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}",
        OPS ("{\"op\":\"txn.create\",\"amount\":4,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":\"No-such\"}"),
        "{\"v\":1,\"key\":\"counted\",\"ops\":[{\"op\":\"sys.ping\"}]}",
    };
    for (size_t n = 0; n < sizeof (batches) / sizeof (batches [0]); n++)
        json_decref (s_call (f, batches [n]));
    s_counters_t after = s_counters (f);
    /*  A replay is answered ok (from the key's record, changing no row),
        and one sys.stats batch lies between the two readings, whichever
        side of its own reply it is counted on. */
    CHECK_INT (after.ok - before.ok, 2 + 1 + 1);
    CHECK_INT (after.not_found - before.not_found, 1);
    CHECK_INT (after.invalid - before.invalid, 1);
    CHECK_INT (after.rows_changed - before.rows_changed, 3 + 1);
    CHECK_INT (after.replays - before.replays, 1);
}

/*  "test_worker_ops cluster" runs the one-node cluster case alone: it is
    its own ctest (test_cluster_ops), which the sanitizer builds leave out
    as they do test_cluster (see tests/CMakeLists.txt). */
int
main (int argc, char *argv [])
{
    if (argc == 2 && strcmp (argv [1], "cluster") == 0) {
        TEST_RUN (test_category_in_use_in_a_cluster);
        return TEST_DONE ();
    }
    TEST_RUN_F (test_refs_and_every_op, s_setup, s_teardown);
    TEST_RUN_F (test_category_in_use, s_setup, s_teardown);
    TEST_RUN_F (test_atomic_rollback_leaves_no_trace, s_setup, s_teardown);
    TEST_RUN_F (test_independent_mode, s_setup, s_teardown);
    TEST_RUN_F (test_timestamps_across_offsets, s_setup, s_teardown);
    TEST_RUN_F (test_pagination_without_gaps_or_repeats, s_setup, s_teardown);
    TEST_RUN_F (test_idempotent_replay, s_setup, s_teardown);
    TEST_RUN_F (test_stats_count_batches, s_setup, s_teardown);
    TEST_RUN_F (test_row_versions, s_setup, s_teardown);
    TEST_RUN_F (test_row_versions_replay, s_setup, s_teardown);
    TEST_RUN (test_migration_from_version_3);
    return TEST_DONE ();
}
