/*  Unit tests for the store: every op, error mapping, atomicity, modes,
    idempotency, pagination and migrations, straight against SQLite. */

#include "proto_json.h"
#include "proto_request.h"
#include "store.h"
#include "store_internal.h"
#include "testing.h"
#include "harness_json.h"
#include "harness_files.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <unistd.h>

static char s_dir [64];
static char s_path [128];
static stats_t s_stats;
static store_t *s_store;

/*  A fresh database for each test. */
static store_t *
s_open (int busy_timeout_ms)
{
    store_destroy (&s_store);
    if (harness_make_dir (s_dir, sizeof (s_dir), "ledger-store"))
        abort ();
    snprintf (s_path, sizeof (s_path), "%s/ledger.db", s_dir);
    stats_init (&s_stats);
    store_options_t options = { .sync_full = false, .busy_timeout_ms = busy_timeout_ms, .dedup_ttl_s = 3600 };
    char errbuf [256];
    s_store = store_new (s_path, &options, &s_stats, errbuf, sizeof (errbuf));
    if (!s_store) {
        fprintf (stderr, "store_new: %s\n", errbuf);
        abort ();
    }
    return s_store;
}

static void
s_close (void)
{
    store_destroy (&s_store);
    harness_remove_dir (s_dir);
}

/*  Run one request given as JSON; return the reply as JSON. */
static json_t *
s_run (const char *json_text)
{
    json_error_t jerr;
    json_t *json = json_loads (json_text, 0, &jerr);
    if (!json) {
        fprintf (stderr, "bad test JSON %s: %s\n", json_text, jerr.text);
        abort ();
    }
    char *body;
    size_t size;
    if (proto_json_to_msgpack (json, &body, &size, NULL, 0))
        abort ();
    json_decref (json);
    proto_request_t *request = proto_request_new (body, size, 1000);
    json_t *reply = NULL;
    if (request && !proto_error_is_set (&request->error)) {
        msgpack_sbuffer out;
        msgpack_sbuffer_init (&out);
        store_run (s_store, request, &out);
        reply = proto_json_from_msgpack (out.data, out.size, NULL, 0);
        msgpack_sbuffer_destroy (&out);
    }
    else
        fprintf (stderr, "request did not decode: %s\n", request? request->error.message: "NULL");
    proto_request_destroy (&request);
    free (body);
    if (!reply)
        reply = json_object ();         /* keeps the checks failing, not crashing */
    return reply;
}

#define OPS(...) "{\"v\":1,\"ops\":[" __VA_ARGS__ "]}"

/*  Run a batch and expect it to fail with class and code at op. */
static void
s_expect_error (const char *json_text, const char *klass, const char *code, int op, const char *field)
{
    json_t *reply = s_run (json_text);
    CHECK_INT (harness_bool (reply, "ok"), 0);
    CHECK_STR (harness_str (reply, "error.class"), klass);
    CHECK_STR (harness_str (reply, "error.code"), code);
    if (op < 0)
        CHECK (json_is_null (harness_get (reply, "error.op")));
    else
        CHECK_INT (harness_int (reply, "error.op"), op);
    if (field)
        CHECK_STR (harness_str (reply, "error.field"), field);
    CHECK (harness_get (reply, "results") == NULL);
    json_decref (reply);
}

static long long
s_count (const char *table)
{
    sqlite3 *db;
    sqlite3_open (s_path, &db);
    char sql [300];
    snprintf (sql, sizeof (sql), "SELECT count (*) FROM %s", table);
    sqlite3_stmt *stmt;
    long long count = -1;
    if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
        count = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    return count;
}

static void
test_category_ops (void)
{
    s_open (1000);
    json_t *reply = s_run (OPS ("{\"op\":\"category.create\",\"name\":\"Food\"},"
                                "{\"op\":\"category.create\",\"name\":\"Groceries\",\"parent\":\"Food\"},"
                                "{\"op\":\"category.create\",\"name\":\"Bakery\",\"parent\":{\"ref\":1}},"
                                "{\"op\":\"category.get\",\"name\":\"Bakery\"},"
                                "{\"op\":\"category.get\",\"id\":{\"ref\":0}},"
                                "{\"op\":\"category.list\"}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (harness_int (reply, "results.0.id"), 1);
    CHECK_INT (harness_int (reply, "results.1.id"), 2);
    CHECK_INT (harness_int (reply, "results.2.id"), 3);
    CHECK_INT (harness_int (reply, "results.3.row.id"), 3);
    CHECK_INT (harness_int (reply, "results.3.row.parent_id"), 2);
    CHECK_STR (harness_str (reply, "results.4.row.name"), "Food");
    CHECK (json_is_null (harness_get (reply, "results.4.row.parent_id")));
    CHECK_INT (json_array_size (harness_get (reply, "results.5.rows")), 3);
    CHECK_STR (harness_str (reply, "results.5.rows.2.name"), "Bakery");
    CHECK (harness_get (reply, "failed") == NULL);  /* atomic mode has no "failed" */
    json_decref (reply);

    reply = s_run (OPS ("{\"op\":\"category.update\",\"id\":3,\"name\":\"Bread\",\"parent\":null},"
                        "{\"op\":\"category.get\",\"id\":3}"));
    CHECK_INT (harness_int (reply, "results.0.changed"), 1);
    CHECK_STR (harness_str (reply, "results.1.row.name"), "Bread");
    CHECK (json_is_null (harness_get (reply, "results.1.row.parent_id")));
    json_decref (reply);

    reply = s_run (OPS ("{\"op\":\"category.delete\",\"id\":3}"));
    CHECK_INT (harness_int (reply, "results.0.changed"), 1);
    json_decref (reply);
    CHECK_INT (s_count ("category"), 2);
    s_close ();
}

/*  Delete request for category id as op 1 (after a harmless get) must
    fail with CATEGORY_IN_USE and exactly this message. */
static void
s_expect_in_use (int id, const char *message)
{
    char text [300];
    snprintf (text, sizeof (text), OPS ("{\"op\":\"category.list\"},{\"op\":\"category.delete\",\"id\":%d}"), id);
    s_expect_error (text, "constraint", "CATEGORY_IN_USE", 1, "id");
    json_t *reply = s_run (text);
    CHECK_STR (harness_str (reply, "error.message"), message);
    CHECK_INT (harness_bool (reply, "error.retryable"), 0);
    json_decref (reply);
}

/*  A category still in use is not deleted, and the error says by what. */
static void
test_category_in_use (void)
{
    s_open (1000);
    json_decref (s_run (OPS ("{\"op\":\"category.create\",\"name\":\"Food\"},"
                             "{\"op\":\"category.create\",\"name\":\"Groceries\",\"parent\":1},"
                             "{\"op\":\"category.create\",\"name\":\"Bakery\",\"parent\":2},"
                             "{\"op\":\"category.create\",\"name\":\"Drinks\",\"parent\":1},"
                             "{\"op\":\"category.create\",\"name\":\"Rent\"},"
                             "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":3},"
                             "{\"op\":\"txn.create\",\"amount\":2,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":2},"
                             "{\"op\":\"txn.create\",\"amount\":3,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":2},"
                             "{\"op\":\"txn.create\",\"amount\":4,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":5},"
                             "{\"op\":\"txn.create\",\"amount\":5,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":5},"
                             "{\"op\":\"txn.create\",\"amount\":6,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":5}")));
    s_expect_in_use (1, "category 1 still has 2 subcategories");
    s_expect_in_use (2, "category 2 still has 2 transactions and 1 subcategory");
    s_expect_in_use (3, "category 3 still has 1 transaction");
    s_expect_in_use (5, "category 5 still has 3 transactions");
    CHECK_INT (s_count ("category"), 5);
    /*  Free once its transactions are gone; unknown ids still not_found. */
    json_t *reply = s_run (OPS ("{\"op\":\"txn.delete\",\"id\":1},{\"op\":\"category.delete\",\"id\":3},"
                                "{\"op\":\"category.delete\",\"id\":4}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);
    s_expect_in_use (1, "category 1 still has 1 subcategory");
    s_expect_error (OPS ("{\"op\":\"category.delete\",\"id\":99}"), "not_found", "NOT_FOUND", 0, "id");
    CHECK_INT (s_count ("category"), 3);
    s_close ();
}

static void
test_category_errors (void)
{
    s_open (1000);
    json_decref (s_run (OPS ("{\"op\":\"category.create\",\"name\":\"Food\"},"
                             "{\"op\":\"category.create\",\"name\":\"Groceries\",\"parent\":1},"
                             "{\"op\":\"category.create\",\"name\":\"Bakery\",\"parent\":2},"
                             "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":3}")));
    s_expect_error (OPS ("{\"op\":\"category.create\",\"name\":\"Food\"}"),
                    "constraint", "SQLITE_CONSTRAINT_UNIQUE", 0, "name");
    s_expect_error (OPS ("{\"op\":\"category.delete\",\"id\":1}"),          /* has a subcategory */
                    "constraint", "CATEGORY_IN_USE", 0, "id");
    s_expect_error (OPS ("{\"op\":\"category.delete\",\"id\":3}"),          /* used by a transaction */
                    "constraint", "CATEGORY_IN_USE", 0, "id");
    s_expect_error (OPS ("{\"op\":\"category.update\",\"id\":1,\"parent\":1}"),
                    "invalid", "CATEGORY_CYCLE", 0, "parent");
    s_expect_error (OPS ("{\"op\":\"category.update\",\"id\":1,\"parent\":\"Bakery\"}"),
                    "invalid", "CATEGORY_CYCLE", 0, "parent");
    s_expect_error (OPS ("{\"op\":\"category.update\",\"id\":1,\"name\":\"Groceries\"}"),
                    "constraint", "SQLITE_CONSTRAINT_UNIQUE", 0, "name");
    s_expect_error (OPS ("{\"op\":\"category.get\",\"id\":99}"), "not_found", "NOT_FOUND", 0, "id");
    s_expect_error (OPS ("{\"op\":\"category.get\",\"name\":\"Nope\"}"), "not_found", "NOT_FOUND", 0, "name");
    s_expect_error (OPS ("{\"op\":\"category.update\",\"id\":99,\"name\":\"x\"}"), "not_found", "NOT_FOUND", 0, "id");
    s_expect_error (OPS ("{\"op\":\"category.delete\",\"id\":99}"), "not_found", "NOT_FOUND", 0, "id");
    s_expect_error (OPS ("{\"op\":\"category.create\",\"name\":\"x\",\"parent\":\"Nope\"}"),
                    "not_found", "NOT_FOUND", 0, "parent");
    s_expect_error (OPS ("{\"op\":\"category.create\",\"name\":\"x\",\"parent\":99}"),
                    "not_found", "NOT_FOUND", 0, "parent");
    /*  Moving a leaf under another branch is no cycle. */
    json_t *reply = s_run (OPS ("{\"op\":\"category.create\",\"name\":\"Travel\"},"
                                "{\"op\":\"category.update\",\"id\":3,\"parent\":{\"ref\":0}}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);
    s_close ();
}

static void
test_txn_ops (void)
{
    s_open (1000);
    json_t *reply = s_run (OPS ("{\"op\":\"category.create\",\"name\":\"Food\"},"
                                "{\"op\":\"txn.create\",\"amount\":\"-12.34\",\"occurred_at\":\"2025-01-02T10:00:00.5+01:00\","
                                " \"description\":\"lunch\",\"category\":\"Food\"},"
                                "{\"op\":\"txn.get\",\"id\":{\"ref\":1}}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (harness_int (reply, "results.1.id"), 1);
    CHECK_INT (harness_int (reply, "results.2.row.amount"), -1234);
    CHECK_STR (harness_str (reply, "results.2.row.occurred_at"), "2025-01-02T10:00:00.500000+01:00");
    CHECK_STR (harness_str (reply, "results.2.row.description"), "lunch");
    CHECK_INT (harness_int (reply, "results.2.row.category_id"), 1);
    const char *created = harness_str (reply, "results.2.row.created_at");
    CHECK (created && strlen (created) >= 20 && created [strlen (created) - 1] == 'Z');
    json_decref (reply);

    reply = s_run (OPS ("{\"op\":\"txn.update\",\"id\":1,\"amount\":500,\"occurred_at\":\"2025-01-02T09:00:00Z\","
                        " \"description\":null,\"category\":null},"
                        "{\"op\":\"txn.get\",\"id\":1}"));
    CHECK_INT (harness_int (reply, "results.0.changed"), 1);
    CHECK_INT (harness_int (reply, "results.1.row.amount"), 500);
    CHECK_STR (harness_str (reply, "results.1.row.occurred_at"), "2025-01-02T09:00:00Z");
    CHECK (json_is_null (harness_get (reply, "results.1.row.description")));
    CHECK (json_is_null (harness_get (reply, "results.1.row.category_id")));
    json_decref (reply);

    /*  An update that names only some fields leaves the rest alone. */
    reply = s_run (OPS ("{\"op\":\"txn.update\",\"id\":1,\"description\":\"dinner\"},{\"op\":\"txn.get\",\"id\":1}"));
    CHECK_INT (harness_int (reply, "results.1.row.amount"), 500);
    CHECK_STR (harness_str (reply, "results.1.row.description"), "dinner");
    json_decref (reply);

    s_expect_error (OPS ("{\"op\":\"txn.get\",\"id\":2}"), "not_found", "NOT_FOUND", 0, "id");
    s_expect_error (OPS ("{\"op\":\"txn.update\",\"id\":2,\"amount\":1}"), "not_found", "NOT_FOUND", 0, "id");
    s_expect_error (OPS ("{\"op\":\"txn.update\",\"id\":1,\"category\":\"Nope\"}"), "not_found", "NOT_FOUND", 0, "category");
    s_expect_error (OPS ("{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":7}"),
                    "not_found", "NOT_FOUND", 0, "category");
    reply = s_run (OPS ("{\"op\":\"txn.delete\",\"id\":1}"));
    CHECK_INT (harness_int (reply, "results.0.changed"), 1);
    json_decref (reply);
    s_expect_error (OPS ("{\"op\":\"txn.delete\",\"id\":1}"), "not_found", "NOT_FOUND", 0, "id");
    CHECK_INT (s_count ("txn"), 0);
    /*  The id of a deleted row is never handed out again. */
    reply = s_run (OPS ("{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\"}"));
    CHECK_INT (harness_int (reply, "results.0.id"), 2);
    json_decref (reply);
    s_close ();
}

static void
test_atomic_rollback (void)
{
    s_open (1000);
    s_expect_error (OPS ("{\"op\":\"category.create\",\"name\":\"A\"},"
                         "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":{\"ref\":0}},"
                         "{\"op\":\"category.create\",\"name\":\"A\"}"),
                    "constraint", "SQLITE_CONSTRAINT_UNIQUE", 2, "name");
    CHECK_INT (s_count ("category"), 0);
    CHECK_INT (s_count ("txn"), 0);
    s_close ();
}

static void
test_independent_mode (void)
{
    s_open (1000);
    json_t *reply = s_run ("{\"v\":1,\"mode\":\"independent\",\"ops\":["
                           "{\"op\":\"category.create\",\"name\":\"A\"},"
                           "{\"op\":\"category.create\",\"name\":\"A\"},"
                           "{\"op\":\"category.create\",\"name\":\"B\",\"parent\":{\"ref\":1}},"
                           "{\"op\":\"txn.nope\"},"
                           "{\"op\":\"category.create\",\"name\":\"C\",\"parent\":{\"ref\":0}}]}");
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (harness_int (reply, "failed"), 3);
    CHECK_INT (harness_int (reply, "results.0.id"), 1);
    CHECK_STR (harness_str (reply, "results.1.error.class"), "constraint");
    CHECK_STR (harness_str (reply, "results.1.error.code"), "SQLITE_CONSTRAINT_UNIQUE");
    CHECK_INT (harness_int (reply, "results.1.error.op"), 1);
    CHECK_STR (harness_str (reply, "results.2.error.code"), "REF_FAILED");
    CHECK_STR (harness_str (reply, "results.2.error.field"), "parent");
    CHECK_STR (harness_str (reply, "results.3.error.code"), "UNKNOWN_OP");
    CHECK_INT (harness_int (reply, "results.4.id"), 2);
    json_decref (reply);
    CHECK_INT (s_count ("category"), 2);

    /*  An independent batch where nothing fails still says failed: 0. */
    reply = s_run ("{\"v\":1,\"mode\":\"independent\",\"ops\":[{\"op\":\"sys.ping\"}]}");
    CHECK_INT (harness_int (reply, "failed"), 0);
    json_decref (reply);
    s_close ();
}

static void
test_idempotency (void)
{
    s_open (1000);
    const char *batch = "{\"v\":1,\"id\":1,\"key\":\"k-1\",\"ops\":[{\"op\":\"txn.create\",\"amount\":\"1.00\","
                        "\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}";
    json_t *first = s_run (batch);
    CHECK_INT (harness_bool (first, "ok"), 1);
    CHECK (harness_get (first, "replayed") == NULL);
    /*  The retry has another id, and the amount written another way. */
    json_t *again = s_run ("{\"v\":1,\"id\":2,\"key\":\"k-1\",\"ops\":[{\"op\":\"txn.create\",\"amount\":100,"
                           "\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}");
    CHECK_INT (harness_bool (again, "ok"), 1);
    CHECK_INT (harness_bool (again, "replayed"), 1);
    CHECK_INT (harness_int (again, "id"), 2);
    CHECK (json_equal (harness_get (first, "results"), harness_get (again, "results")));
    json_decref (first);
    json_decref (again);
    CHECK_INT (s_count ("txn"), 1);

    s_expect_error ("{\"v\":1,\"key\":\"k-1\",\"ops\":[{\"op\":\"txn.create\",\"amount\":2,"
                    "\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}", "invalid", "KEY_REUSED", -1, "key");
    CHECK_INT (s_count ("txn"), 1);

    /*  A failed batch is not recorded: its retry runs again. */
    json_decref (s_run (OPS ("{\"op\":\"category.create\",\"name\":\"Dup\"}")));
    const char *failing = "{\"v\":1,\"key\":\"k-2\",\"ops\":[{\"op\":\"category.create\",\"name\":\"Dup\"}]}";
    s_expect_error (failing, "constraint", "SQLITE_CONSTRAINT_UNIQUE", 0, "name");
    json_decref (s_run (OPS ("{\"op\":\"category.delete\",\"id\":1}")));
    json_t *retry = s_run (failing);
    CHECK_INT (harness_bool (retry, "ok"), 1);
    CHECK (harness_get (retry, "replayed") == NULL);
    json_decref (retry);

    /*  Independent batches that succeed are recorded, failed count and all. */
    const char *mixed = "{\"v\":1,\"key\":\"k-3\",\"mode\":\"independent\",\"ops\":["
                        "{\"op\":\"category.create\",\"name\":\"Dup\"},{\"op\":\"category.create\",\"name\":\"New\"}]}";
    json_t *one = s_run (mixed);
    json_t *two = s_run (mixed);
    CHECK_INT (harness_int (one, "failed"), 1);
    CHECK_INT (harness_int (two, "failed"), 1);
    CHECK_INT (harness_bool (two, "replayed"), 1);
    CHECK (json_equal (harness_get (one, "results"), harness_get (two, "results")));
    json_decref (one);
    json_decref (two);
    CHECK_INT (s_count ("category"), 2);
    s_close ();
}

static void
test_query_pages (void)
{
    s_open (1000);
    json_decref (s_run (OPS ("{\"op\":\"category.create\",\"name\":\"Food\"},"
                             "{\"op\":\"category.create\",\"name\":\"Bakery\",\"parent\":\"Food\"},"
                             "{\"op\":\"category.create\",\"name\":\"Rent\"}")));
    /*  25 transactions, several sharing an instant, across offsets. */
    for (int n = 0; n < 25; n++) {
        char text [400];
        snprintf (text, sizeof (text), OPS ("{\"op\":\"txn.create\",\"amount\":%d,"
                  "\"occurred_at\":\"2025-01-%02dT%02d:00:00+02:00\",\"category\":%d}"),
                  n * 100, 1 + n / 3, 10 + (n % 3 == 2? 0: 0), 1 + n % 3);
        json_decref (s_run (text));
    }
    /*  Page through with limit 10: 10 + 10 + 5, no gaps, no repeats, in order. */
    char after [64] = "null";
    bool seen [26] = { false };
    int pages = 0, rows = 0;
    long long last_id = 0;
    while (pages < 10) {
        char text [300];
        snprintf (text, sizeof (text), OPS ("{\"op\":\"txn.query\",\"limit\":10,\"after\":%s}"), after);
        json_t *reply = s_run (text);
        json_t *page = harness_get (reply, "results.0.rows");
        pages++;
        for (size_t i = 0; i < json_array_size (page); i++) {
            long long id = json_integer_value (json_object_get (json_array_get (page, i), "id"));
            CHECK (id >= 1 && id <= 25 && !seen [id]);
            if (id >= 1 && id <= 25)
                seen [id] = true;
            CHECK (id > last_id);   /* same day: instant order is id order here */
            last_id = id;
            rows++;
        }
        json_t *next = harness_get (reply, "results.0.next");
        bool done = json_is_null (next);
        if (!done)
            snprintf (after, sizeof (after), "\"%s\"", json_string_value (next));
        CHECK_INT (json_array_size (page), pages < 3? 10: 5);
        json_decref (reply);
        if (done)
            break;
    }
    CHECK_INT (pages, 3);
    CHECK_INT (rows, 25);

    /*  An exactly full last page says next: nil, not an empty extra page. */
    json_t *reply = s_run (OPS ("{\"op\":\"txn.query\",\"limit\":25}"));
    CHECK_INT (json_array_size (harness_get (reply, "results.0.rows")), 25);
    CHECK (json_is_null (harness_get (reply, "results.0.next")));
    json_decref (reply);

    /*  Half-open day range: 2025-01-02 holds n = 3, 4, 5 (occurred at 10:00+02:00 = 08:00Z). */
    reply = s_run (OPS ("{\"op\":\"txn.query\",\"from\":\"2025-01-02\",\"to\":\"2025-01-03\"}"));
    CHECK_INT (json_array_size (harness_get (reply, "results.0.rows")), 3);
    CHECK_INT (harness_int (reply, "results.0.rows.0.id"), 4);
    CHECK_STR (harness_str (reply, "results.0.rows.0.occurred_at"), "2025-01-02T10:00:00+02:00");
    json_decref (reply);
    reply = s_run (OPS ("{\"op\":\"txn.query\",\"from\":\"2025-01-02T08:00:00Z\",\"to\":\"2025-01-02T08:00:00Z\"}"));
    CHECK_INT (json_array_size (harness_get (reply, "results.0.rows")), 0);
    json_decref (reply);

    /*  `from` and a cursor together: whichever is later bounds the page. */
    reply = s_run (OPS ("{\"op\":\"txn.query\",\"from\":\"2025-01-02\",\"limit\":2}"));
    char cursor [64];
    snprintf (cursor, sizeof (cursor), "%s", harness_str (reply, "results.0.next")?: "");
    json_decref (reply);
    char text [300];
    snprintf (text, sizeof (text), OPS ("{\"op\":\"txn.query\",\"from\":\"2025-01-01\",\"after\":\"%s\",\"limit\":1},"
              "{\"op\":\"txn.query\",\"from\":\"2025-01-03\",\"after\":\"%s\",\"limit\":1}"), cursor, cursor);
    reply = s_run (text);
    CHECK_INT (harness_int (reply, "results.0.rows.0.id"), 6);     /* the cursor (at id 5) is later */
    CHECK_INT (harness_int (reply, "results.1.rows.0.id"), 7);     /* `from` is later */
    json_decref (reply);

    /*  Amount bounds are inclusive. */
    reply = s_run (OPS ("{\"op\":\"txn.query\",\"min_amount\":\"2.00\",\"max_amount\":400}"));
    CHECK_INT (json_array_size (harness_get (reply, "results.0.rows")), 3);
    json_decref (reply);

    /*  Categories, with and without their subcategories. */
    reply = s_run (OPS ("{\"op\":\"txn.query\",\"categories\":[\"Food\"]},"
                        "{\"op\":\"txn.query\",\"categories\":[\"Food\"],\"include_subcategories\":true},"
                        "{\"op\":\"txn.query\",\"categories\":[2,\"Rent\"]}"));
    CHECK_INT (json_array_size (harness_get (reply, "results.0.rows")), 9);
    CHECK_INT (json_array_size (harness_get (reply, "results.1.rows")), 17);
    CHECK_INT (json_array_size (harness_get (reply, "results.2.rows")), 16);
    json_decref (reply);
    s_expect_error (OPS ("{\"op\":\"txn.query\",\"categories\":[\"Nope\"]}"), "not_found", "NOT_FOUND", 0, "categories");
    s_close ();
}

static void
test_busy_and_read_only (void)
{
    s_open (100);
    json_decref (s_run (OPS ("{\"op\":\"category.create\",\"name\":\"A\"}")));
    sqlite3 *other;
    CHECK_INT (sqlite3_open (s_path, &other), SQLITE_OK);
    CHECK_INT (sqlite3_exec (other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    /*  Reads do not need the write lock. */
    json_t *reply = s_run (OPS ("{\"op\":\"category.list\"},{\"op\":\"sys.ping\"}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_STR (harness_str (reply, "results.1.version"), LEDGER_VERSION);
    json_decref (reply);
    /*  A write waits busy_timeout_ms, then fails as retryable busy. */
    reply = s_run (OPS ("{\"op\":\"category.create\",\"name\":\"B\"}"));
    CHECK_STR (harness_str (reply, "error.class"), "busy");
    CHECK_INT (harness_bool (reply, "error.retryable"), 1);
    CHECK (strncmp (harness_str (reply, "error.code")? harness_str (reply, "error.code"): "", "SQLITE_BUSY", 11) == 0);
    json_decref (reply);
    sqlite3_exec (other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close (other);
    reply = s_run (OPS ("{\"op\":\"category.create\",\"name\":\"B\"}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);
    s_close ();
}

static void
test_stats (void)
{
    s_open (1000);
    json_decref (s_run (OPS ("{\"op\":\"category.create\",\"name\":\"A\"},{\"op\":\"category.create\",\"name\":\"B\"}")));
    json_decref (s_run (OPS ("{\"op\":\"category.create\",\"name\":\"A\"}")));
    json_t *reply = s_run (OPS ("{\"op\":\"sys.stats\"}"));
    CHECK_INT (harness_int (reply, "results.0.stats.batches_ok"), 1);
    CHECK_INT (harness_int (reply, "results.0.stats.batches_failed.constraint"), 1);
    CHECK_INT (harness_int (reply, "results.0.stats.batches_failed.busy"), 0);
    CHECK_INT (harness_int (reply, "results.0.stats.rows_changed"), 2);
    CHECK_INT (harness_int (reply, "results.0.stats.ops"), 3);    /* sys.stats counts after it runs */
    json_decref (reply);

    /*  Uptime is whole seconds since stats_init: started 100 s earlier,
        the store says 100 (or a second more, if one ticks over). */
    s_stats.started_us -= 100 * 1000000LL;
    int64_t before_us = stats_now_us ();
    reply = s_run (OPS ("{\"op\":\"sys.stats\"}"));
    int64_t after_us = stats_now_us ();
    long long uptime = harness_int (reply, "results.0.stats.uptime_s");
    CHECK (uptime >= (before_us - s_stats.started_us) / 1000000);
    CHECK (uptime <= (after_us - s_stats.started_us) / 1000000);
    CHECK (uptime >= 100 && uptime <= 101);
    json_decref (reply);
    s_close ();
}

/*  The writer's connection syncs as asked: FULL (2) fsyncs the WAL at
    every commit, NORMAL (1) only at checkpoints, and may lose the last
    commits to a power cut. */
static void
test_sync_option_sets_the_pragma (void)
{
    bool sync_full [] = { true, false };
    long long expected [] = { 2, 1 };
    for (int n = 0; n < 2; n++) {
        char dir [64], path [128], errbuf [256] = "";
        if (harness_make_dir (dir, sizeof (dir), "ledger-sync"))
            abort ();
        snprintf (path, sizeof (path), "%s/ledger.db", dir);
        stats_t stats;
        stats_init (&stats);
        store_options_t options = { .sync_full = sync_full [n], .busy_timeout_ms = 1000 };
        store_t *store = store_new (path, &options, &stats, errbuf, sizeof (errbuf));
        CHECK (store != NULL);
        if (store) {
            sqlite3 *db = store_db_sqlite_handle (store->db);
            sqlite3_stmt *stmt;
            long long level = -1;
            if (sqlite3_prepare_v2 (db, "PRAGMA synchronous", -1, &stmt, NULL) == SQLITE_OK
            &&  sqlite3_step (stmt) == SQLITE_ROW)
                level = sqlite3_column_int64 (stmt, 0);
            sqlite3_finalize (stmt);
            CHECK_INT (level, expected [n]);
        }
        store_destroy (&store);
        harness_remove_dir (dir);
    }
}

/*  Run sql on the test database through a connection of its own. */
static void
s_sql (const char *sql)
{
    sqlite3 *db;
    sqlite3_open (s_path, &db);
    sqlite3_busy_timeout (db, 5000);
    char *message = NULL;
    if (sqlite3_exec (db, sql, NULL, NULL, &message) != SQLITE_OK) {
        fprintf (stderr, "%s: %s\n", sql, message);
        abort ();
    }
    sqlite3_close (db);
}

static void
test_prune_sweeps_expired_keys (void)
{
    s_open (1000);
    /*  5000 keys in key order, every odd one past the TTL (3600 s). */
    s_sql ("WITH RECURSIVE n (i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 4999)"
           " INSERT INTO idempotency (key, fingerprint, results, failed, created_us)"
           " SELECT CAST (printf ('k%05d', i) AS BLOB), 1, X'90', NULL,"
           " CAST (strftime ('%s', 'now') AS INTEGER) * 1000000 - (i % 2) * 7200000000 FROM n");
    CHECK_INT (s_count ("idempotency"), 5000);
    const char *fresh = "idempotency WHERE created_us > (CAST (strftime ('%s', 'now') AS INTEGER) - 3600) * 1000000";
    /*  A prune sweeps twice the keys written since the last: with 500
        written, 1000 keys, of which 500 expired go. */
    s_store->last_prune_us = 0;
    s_store->keys_written = 500;
    store_prune (s_store);
    CHECK_INT (s_count ("idempotency"), 4500);
    /*  A prune within the tick does nothing. */
    store_prune (s_store);
    CHECK_INT (s_count ("idempotency"), 4500);
    /*  Each goes on where the last stopped: 3000 keys, then to the last. */
    s_store->last_prune_us = 0;
    s_store->keys_written = 1500;
    store_prune (s_store);
    CHECK_INT (s_count ("idempotency"), 3000);
    s_store->last_prune_us = 0;
    s_store->keys_written = 500;
    store_prune (s_store);
    CHECK_INT (s_count ("idempotency"), 2500);
    CHECK_INT (s_count (fresh), 2500);
    /*  Then, past the end, it starts over from the first key; with nothing
        written it still sweeps 100 keys a tick. */
    s_sql ("UPDATE idempotency SET created_us = created_us - 7200000000 WHERE key < CAST ('k00100' AS BLOB)");
    for (int tick = 0; tick < 2; tick++) {
        s_store->last_prune_us = 0;
        store_prune (s_store);
    }
    CHECK_INT (s_count ("idempotency"), 2450);
    CHECK_INT (s_count (fresh), 2450);
    s_close ();
}

static void
test_migrations (void)
{
    s_open (1000);
    CHECK_INT (store_schema_version (s_store), store_schema_latest ());
    json_decref (s_run (OPS ("{\"op\":\"category.create\",\"name\":\"Kept\"}")));
    store_destroy (&s_store);

    /*  Reopening keeps data and version. */
    store_options_t options = { .busy_timeout_ms = 1000 };
    char errbuf [256] = "";
    s_store = store_new (s_path, &options, &s_stats, errbuf, sizeof (errbuf));
    CHECK (s_store != NULL);
    CHECK_INT (s_count ("category"), 1);
    store_destroy (&s_store);

    /*  A version 2 database (no txn.external_id) gains the column and its
        unique index, and keeps its rows. */
    s_sql ("INSERT INTO txn (amount, occurred_us, occurred_off, created_us, updated_us) VALUES (5, 0, 0, 0, 0);"
           "ALTER TABLE txn DROP COLUMN version; ALTER TABLE category DROP COLUMN version;"
           "DROP INDEX IF EXISTS txn_external_id; ALTER TABLE txn DROP COLUMN external_id; PRAGMA user_version = 2");
    s_store = store_new (s_path, &options, &s_stats, errbuf, sizeof (errbuf));
    CHECK (s_store != NULL);
    CHECK_INT (store_schema_version (s_store), store_schema_latest ());
    CHECK_INT (s_count ("txn WHERE external_id IS NULL AND amount = 5"), 1);
    CHECK_INT (s_count ("sqlite_master WHERE name = 'txn_external_id'"), 1);
    store_destroy (&s_store);

    /*  A version 1 database (with the created_us index) moves to the latest. */
    s_sql ("ALTER TABLE txn DROP COLUMN version; ALTER TABLE category DROP COLUMN version;"
           "DROP INDEX IF EXISTS txn_external_id; ALTER TABLE txn DROP COLUMN external_id;"
           "CREATE INDEX idempotency_created ON idempotency (created_us); PRAGMA user_version = 1");
    s_store = store_new (s_path, &options, &s_stats, errbuf, sizeof (errbuf));
    CHECK (s_store != NULL);
    CHECK_INT (store_schema_version (s_store), store_schema_latest ());
    CHECK_INT (s_count ("sqlite_master WHERE name = 'idempotency_created'"), 0);
    CHECK_INT (s_count ("category"), 1);
    store_destroy (&s_store);

    /*  A schema from the future is refused, not guessed at. */
    sqlite3 *db;
    sqlite3_open (s_path, &db);
    char sql [64];
    snprintf (sql, sizeof (sql), "PRAGMA user_version = %d", store_schema_latest () + 1);
    sqlite3_exec (db, sql, NULL, NULL, NULL);
    sqlite3_close (db);
    s_store = store_new (s_path, &options, &s_stats, errbuf, sizeof (errbuf));
    CHECK (s_store == NULL);
    CHECK (strstr (errbuf, "newer") != NULL);

    /*  A file that is not a database is refused with a message. */
    FILE *file = fopen (s_path, "w");
    fputs ("this is not an SQLite database, not even close; padding padding padding padding", file);
    fclose (file);
    unlink (s_path);
    file = fopen (s_path, "w");
    for (int n = 0; n < 200; n++)
        fputs ("garbage garbage garbage garbage ", file);
    fclose (file);
    s_store = store_new (s_path, &options, &s_stats, errbuf, sizeof (errbuf));
    CHECK (s_store == NULL);
    CHECK (errbuf [0] != 0);
    s_close ();
}

/*  A database as ledgerd left it at schema version 3, with rows, opens
    at the latest version; every row is at version 1 and goes on from
    there. The foreign-database check takes it as ledgerd's own. */
static void
test_migration_from_version_3 (void)
{
    if (harness_make_dir (s_dir, sizeof (s_dir), "ledger-store"))
        abort ();
    snprintf (s_path, sizeof (s_path), "%s/ledger.db", s_dir);
    CHECK_INT (harness_make_schema_v3 (s_path,
        "INSERT INTO category (name) VALUES ('Food');"
        "INSERT INTO txn (amount, occurred_us, occurred_off, category_id, created_us, updated_us, external_id)"
        " VALUES (-500, 0, 60, 1, 0, 0, 'bank-1'), (700, 1, 0, NULL, 0, 0, NULL)"), 0);
    CHECK_INT (harness_sql_int (s_path, "PRAGMA user_version"), 3);
    store_options_t options = { .busy_timeout_ms = 1000 };
    char errbuf [256] = "";
    stats_init (&s_stats);
    s_store = store_new (s_path, &options, &s_stats, errbuf, sizeof (errbuf));
    if (!s_store)
        fprintf (stderr, "    store_new: %s\n", errbuf);
    CHECK (s_store != NULL);
    if (!s_store) {
        s_close ();
        return;
    }
    CHECK_INT (store_schema_version (s_store), 4);
    CHECK_INT (harness_sql_int (s_path, "PRAGMA user_version"), 4);
    CHECK_INT (s_count ("txn WHERE version = 1"), 2);
    CHECK_INT (s_count ("category WHERE version = 1"), 1);
    json_t *reply = s_run (OPS ("{\"op\":\"txn.get\",\"id\":1},{\"op\":\"category.get\",\"id\":1},"
                                "{\"op\":\"txn.update\",\"id\":2,\"amount\":1,\"expect_version\":1},"
                                "{\"op\":\"txn.get\",\"id\":2}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (harness_int (reply, "results.0.row.version"), 1);
    CHECK_STR (harness_str (reply, "results.0.row.external_id"), "bank-1");
    CHECK_INT (harness_int (reply, "results.1.row.version"), 1);
    CHECK_INT (harness_int (reply, "results.3.row.version"), 2);
    json_decref (reply);
    s_close ();
}

/*  Row versions: 1 on create, one more on every update; an update or
    delete that expects another version fails as conflict and changes
    nothing. */
static void
test_row_versions (void)
{
    s_open (1000);
    json_t *reply = s_run (OPS ("{\"op\":\"category.create\",\"name\":\"Food\"},"
                                "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\"},"
                                "{\"op\":\"category.list\"},"
                                "{\"op\":\"txn.query\"}"));
    CHECK_INT (harness_int (reply, "results.2.rows.0.version"), 1);
    CHECK_INT (harness_int (reply, "results.3.rows.0.version"), 1);
    json_decref (reply);
    reply = s_run (OPS ("{\"op\":\"txn.update\",\"id\":1,\"amount\":2,\"expect_version\":1},"
                        "{\"op\":\"txn.update\",\"id\":1,\"amount\":3},"
                        "{\"op\":\"category.update\",\"id\":1,\"name\":\"Meals\",\"expect_version\":1},"
                        "{\"op\":\"txn.get\",\"id\":1},{\"op\":\"category.get\",\"id\":1}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (harness_int (reply, "results.0.changed"), 1);
    CHECK_INT (harness_int (reply, "results.3.row.version"), 3);
    CHECK_INT (harness_int (reply, "results.3.row.amount"), 3);
    CHECK_INT (harness_int (reply, "results.4.row.version"), 2);
    json_decref (reply);

    s_expect_error (OPS ("{\"op\":\"txn.update\",\"id\":1,\"amount\":9,\"expect_version\":2}"),
                    "conflict", "VERSION_MISMATCH", 0, "expect_version");
    reply = s_run (OPS ("{\"op\":\"txn.delete\",\"id\":1,\"expect_version\":4}"));
    CHECK_STR (harness_str (reply, "error.message"), "transaction 1 is at version 3, not 4");
    CHECK_INT (harness_bool (reply, "error.retryable"), 0);
    json_decref (reply);
    s_expect_error (OPS ("{\"op\":\"category.update\",\"id\":1,\"parent\":null,\"expect_version\":1}"),
                    "conflict", "VERSION_MISMATCH", 0, "expect_version");
    s_expect_error (OPS ("{\"op\":\"category.delete\",\"id\":1,\"expect_version\":1}"),
                    "conflict", "VERSION_MISMATCH", 0, "expect_version");
    CHECK_INT (s_count ("txn WHERE amount = 3 AND version = 3"), 1);
    CHECK_INT (s_count ("category WHERE name = 'Meals' AND version = 2"), 1);
    /*  A missing row stays not_found, whatever version is expected. */
    s_expect_error (OPS ("{\"op\":\"txn.update\",\"id\":9,\"amount\":1,\"expect_version\":1}"),
                    "not_found", "NOT_FOUND", 0, "id");
    s_expect_error (OPS ("{\"op\":\"txn.delete\",\"id\":9,\"expect_version\":1}"),
                    "not_found", "NOT_FOUND", 0, "id");
    s_expect_error (OPS ("{\"op\":\"category.delete\",\"id\":9,\"expect_version\":1}"),
                    "not_found", "NOT_FOUND", 0, "id");

    /*  In independent mode a conflict is the op's alone. */
    reply = s_run ("{\"v\":1,\"mode\":\"independent\",\"ops\":["
                   "{\"op\":\"txn.update\",\"id\":1,\"amount\":9,\"expect_version\":1},"
                   "{\"op\":\"txn.delete\",\"id\":1,\"expect_version\":3},"
                   "{\"op\":\"category.delete\",\"id\":1,\"expect_version\":2}]}");
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (harness_int (reply, "failed"), 1);
    CHECK_STR (harness_str (reply, "results.0.error.class"), "conflict");
    CHECK_INT (harness_int (reply, "results.1.changed"), 1);
    CHECK_INT (harness_int (reply, "results.2.changed"), 1);
    json_decref (reply);
    CHECK_INT (s_count ("txn"), 0);
    CHECK_INT (s_count ("category"), 0);
    CHECK_INT ((long long) s_stats.blocks [STATS_FRONTEND].batches_failed [PROTO_CLASS_CONFLICT], 4);
    s_close ();
}

/*  Runs of txn.create go in as multi-row inserts (32 and 8 rows at a
    time): every op must still get its own row, with its own values, and
    the ids in op order; a failing op in a run is named, and nothing of
    the batch stays. */
#define TXN_EXT(amount, ext, extra) \
    "{\"op\":\"txn.create\",\"amount\":" #amount ",\"occurred_at\":\"2025-01-01T00:00:00Z\"," \
    "\"external_id\":\"" ext "\"" extra "}"

/*  external_id: unique in the ledger; if_absent answers with the row
    already there instead of failing, and says which it did. */
static void
test_txn_external_id (void)
{
    s_open (1000);
    json_t *reply = s_run (OPS (TXN_EXT (1, "bank-1", "") "," "{\"op\":\"txn.get\",\"id\":{\"ref\":0}}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (harness_int (reply, "results.0.id"), 1);
    CHECK (harness_get (reply, "results.0.existed") == NULL);      /* no if_absent: the result as ever */
    CHECK_STR (harness_str (reply, "results.1.row.external_id"), "bank-1");
    json_decref (reply);

    /*  Without if_absent a second row of that name fails, in another
        batch or in the same one, and nothing of its batch stays. */
    s_expect_error (OPS (TXN_EXT (2, "bank-1", "")), "constraint", "EXTERNAL_ID_EXISTS", 0, "external_id");
    s_expect_error (OPS (TXN_EXT (2, "bank-2", "") "," TXN_EXT (3, "bank-2", "")),
                    "constraint", "EXTERNAL_ID_EXISTS", 1, "external_id");
    CHECK_INT (s_count ("txn"), 1);

    /*  if_absent: the existing id, existed true, nothing written (not even
        a changed amount); a new name is created, existed false; a ref to
        either op is the id returned. */
    reply = s_run (OPS (TXN_EXT (9, "bank-1", ",\"if_absent\":true") ","
                        TXN_EXT (4, "bank-4", ",\"if_absent\":true") ","
                        TXN_EXT (4, "bank-4", ",\"if_absent\":true") ","
                        "{\"op\":\"txn.get\",\"id\":{\"ref\":0}}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (harness_int (reply, "results.0.id"), 1);
    CHECK_INT (harness_bool (reply, "results.0.existed"), 1);
    CHECK_INT (harness_int (reply, "results.1.id"), 2);
    CHECK_INT (harness_bool (reply, "results.1.existed"), 0);
    CHECK_INT (harness_int (reply, "results.2.id"), 2);
    CHECK_INT (harness_bool (reply, "results.2.existed"), 1);
    CHECK_INT (harness_int (reply, "results.3.row.amount"), 1);
    json_decref (reply);
    CHECK_INT (s_count ("txn"), 2);

    /*  A row already in needs no category to exist: only a new one does. */
    reply = s_run (OPS (TXN_EXT (1, "bank-1", ",\"if_absent\":true,\"category\":\"Nope\"")));
    CHECK_INT (harness_bool (reply, "results.0.existed"), 1);
    json_decref (reply);

    /*  Rows without external_id are never compared. */
    reply = s_run (OPS ("{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\"},"
                        "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\"}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);
    CHECK_INT (s_count ("txn"), 4);
    s_close ();
}

/*  A long run of creates, some with external_id (seen before or twice in
    the run): the bulk inserts take only the others, and every result is
    what one-by-one would give. */
static void
test_txn_external_id_in_runs (void)
{
    s_open (5000);
    json_decref (s_run (OPS (TXN_EXT (1, "seen", ""))));
    size_t size = 64 * 1024;
    char *text = malloc (size);
    size_t used = (size_t) snprintf (text, size, "{\"v\": 1, \"ops\": [");
    for (int n = 0; n < 60; n++) {
        char external [64] = "";
        if (n == 20 || n == 45)
            snprintf (external, sizeof (external), ", \"external_id\": \"seen\", \"if_absent\": true");
        else
        if (n == 30 || n == 31)
            snprintf (external, sizeof (external), ", \"external_id\": \"twice\", \"if_absent\": true");
        used += (size_t) snprintf (text + used, size - used,
                                   "%s{\"op\": \"txn.create\", \"amount\": %d, \"occurred_at\": \"2025-01-01T00:00:00Z\"%s}",
                                   n? ", ": "", n, external);
    }
    snprintf (text + used, size - used, "]}");
    json_t *reply = s_run (text);
    CHECK_INT (harness_bool (reply, "ok"), 1);
    int64_t next_id = 2;
    for (int n = 0; n < 60; n++) {
        char path [64];
        snprintf (path, sizeof (path), "results.%d.id", n);
        int64_t want = n == 20 || n == 45? 1: n == 31? harness_int (reply, "results.30.id"): next_id++;
        CHECK_INT (harness_int (reply, path), want);
        snprintf (path, sizeof (path), "results.%d.existed", n);
        if (n == 20 || n == 45 || n == 30 || n == 31)
            CHECK_INT (harness_bool (reply, path), n != 30);
        else
            CHECK (harness_get (reply, path) == NULL);
    }
    json_decref (reply);
    CHECK_INT (s_count ("txn"), 1 + 57);
    CHECK_INT (s_count ("txn WHERE external_id = 'twice' AND amount = 30"), 1);
    free (text);
    s_close ();
}

static void
test_txn_create_runs (void)
{
    s_open (5000);
    //  1 category, 150 creates (4 x 32 + 2 x 8 + 6 one by one), a get.
    size_t size = 64 * 1024;
    char *text = malloc (size);
    size_t used = (size_t) snprintf (text, size, "{\"v\": 1, \"ops\": [{\"op\": \"category.create\", \"name\": \"Bulk\"}");
    for (int n = 1; n <= 150; n++) {
        const char *category = n % 3 == 0? ", \"category\": {\"ref\": 0}": n % 3 == 1? ", \"category\": \"Bulk\"": "";
        const char *description = n % 5? "": ", \"description\": \"row\"";
        used += (size_t) snprintf (text + used, size - used,
                                   ", {\"op\": \"txn.create\", \"amount\": %d, \"occurred_at\": \"2025-01-01T00:00:%02d+01:00\"%s%s}",
                                   -n, n % 60, category, description);
    }
    snprintf (text + used, size - used, ", {\"op\": \"txn.get\", \"id\": 77}]}");
    json_t *reply = s_run (text);
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (json_array_size (harness_get (reply, "results")), 152);
    for (int n = 1; n <= 150; n++) {
        char path [64];
        snprintf (path, sizeof (path), "results.%d.id", n);
        CHECK_INT (harness_int (reply, path), n);           //  ids in op order, from 1
    }
    //  Row 77 (op 77) is op 77's: amount -77, second 17, +01:00, category by ref? 77 % 3 = 2: none.
    CHECK_INT (harness_int (reply, "results.151.row.amount"), -77);
    CHECK_STR (harness_str (reply, "results.151.row.occurred_at"), "2025-01-01T00:00:17+01:00");
    CHECK (json_is_null (harness_get (reply, "results.151.row.category_id")));
    json_decref (reply);
    //  Every row against its op, through the database.
    sqlite3 *db = store_db_sqlite_handle (s_store->db);
    sqlite3_stmt *stmt;
    CHECK_INT (sqlite3_prepare_v2 (db, "SELECT id, amount, occurred_us % 60000000 / 1000000, occurred_off,"
                                       " description, category_id FROM txn ORDER BY id", -1, &stmt, NULL), SQLITE_OK);
    int rows = 0;
    while (sqlite3_step (stmt) == SQLITE_ROW) {
        int n = ++rows;
        CHECK_INT (sqlite3_column_int64 (stmt, 0), n);
        CHECK_INT (sqlite3_column_int64 (stmt, 1), -n);
        CHECK_INT (sqlite3_column_int64 (stmt, 3), 60);
        CHECK_INT (sqlite3_column_type (stmt, 4) == SQLITE_NULL, n % 5 != 0);
        CHECK_INT (sqlite3_column_type (stmt, 5) == SQLITE_NULL, n % 3 == 2);
        if (n % 3 != 2)
            CHECK_INT (sqlite3_column_int64 (stmt, 5), 1);
    }
    sqlite3_finalize (stmt);
    CHECK_INT (rows, 150);

    //  Op 70 of a run names a category that does not exist: that op is
    //  named, and none of the 100 rows stays.
    used = (size_t) snprintf (text, size, "{\"v\": 1, \"ops\": [");
    for (int n = 0; n < 100; n++)
        used += (size_t) snprintf (text + used, size - used,
                                   "%s{\"op\": \"txn.create\", \"amount\": 1, \"occurred_at\": \"2025-01-02T00:00:00Z\"%s}",
                                   n? ", ": "", n == 70? ", \"category\": \"Nope\"": "");
    snprintf (text + used, size - used, "]}");
    reply = s_run (text);
    CHECK_INT (harness_bool (reply, "ok"), 0);
    CHECK_STR (harness_str (reply, "error.class"), "not_found");
    CHECK_INT (harness_int (reply, "error.op"), 70);
    CHECK_STR (harness_str (reply, "error.field"), "category");
    json_decref (reply);
    CHECK_INT (s_count ("txn"), 150);
    free (text);
    s_close ();
}

int
main (void)
{
    TEST_RUN (test_category_ops);
    TEST_RUN (test_category_errors);
    TEST_RUN (test_category_in_use);
    TEST_RUN (test_txn_ops);
    TEST_RUN (test_txn_create_runs);
    TEST_RUN (test_txn_external_id);
    TEST_RUN (test_txn_external_id_in_runs);
    TEST_RUN (test_atomic_rollback);
    TEST_RUN (test_independent_mode);
    TEST_RUN (test_idempotency);
    TEST_RUN (test_query_pages);
    TEST_RUN (test_busy_and_read_only);
    TEST_RUN (test_stats);
    TEST_RUN (test_sync_option_sets_the_pragma);
    TEST_RUN (test_prune_sweeps_expired_keys);
    TEST_RUN (test_migrations);
    TEST_RUN (test_migration_from_version_3);
    TEST_RUN (test_row_versions);
    return TEST_DONE ();
}
