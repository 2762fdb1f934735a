/*  The store under storage faults: a VFS fails the k-th write, sync or
    truncate with SQLITE_IOERR or SQLITE_FULL, for k = 1, 2, ... until a
    scripted workload runs clean; once in fail-once mode, once in
    keep-failing mode. Every batch answered ok must be in the database
    exactly once, every other batch must have got a retryable error and be
    absent, and the database must pass integrity_check.

    Then faults inside a statement, before COMMIT: a read the cache cannot
    serve fails with each code SQLite may see, and a write to the WAL when
    a big insert overflows a small cache fails with SQLITE_FULL or
    SQLITE_IOERR_WRITE. The reply must name the class the code maps to, the
    code, and the op, in atomic and independent mode alike. */

#include "faulty_vfs.h"
#include "proto_json.h"
#include "proto_request.h"
#include "store.h"
#include "store_internal.h"
#include "testing.h"
#include "harness_json.h"
#include "harness_files.h"

#include <sqlite3.h>
#include <stdlib.h>

enum { ROUNDS = 6, PER_GROUP = 3, BATCHES = ROUNDS * (PER_GROUP + 1) };

typedef struct {
    char *body;
    size_t size;
    proto_request_t *request;
    msgpack_sbuffer reply;
} batch_t;

static void
s_batch_init (batch_t *self, int number)
{
    char text [400];
    snprintf (text, sizeof (text), "{\"v\":1,\"key\":\"fault-%d\",\"ops\":["
              "{\"op\":\"txn.create\",\"amount\":%d,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"description\":\"a\"},"
              "{\"op\":\"txn.create\",\"amount\":%d,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"description\":\"b\"}]}",
              number, number, number);
    json_t *json = json_loads (text, 0, NULL);
    proto_json_to_msgpack (json, &self->body, &self->size, NULL, 0);
    json_decref (json);
    self->request = proto_request_new (self->body, self->size, 100);
    msgpack_sbuffer_init (&self->reply);
}

static void
s_batch_fini (batch_t *self)
{
    proto_request_destroy (&self->request);
    msgpack_sbuffer_destroy (&self->reply);
    free (self->body);
}

/*  One round at fault point k. Returns true if the fault fired (so k+1 is
    worth trying), false when the workload ran clean. */
static bool
s_round (uint64_t k, int rc, bool keep_failing, int *answered_ok, int *refused)
{
    char dir [64];
    if (harness_make_dir (dir, sizeof (dir), "ledger-faults"))
        abort ();
    char path [100];
    snprintf (path, sizeof (path), "%s/ledger.db", dir);
    stats_t stats;
    stats_init (&stats);
    store_options_t options = { .sync_full = true, .busy_timeout_ms = 100 };
    char errbuf [256];
    faulty_vfs_arm (0, rc, false);
    store_t *store = store_new (path, &options, &stats, errbuf, sizeof (errbuf));
    CHECK (store != NULL);
    batch_t batches [BATCHES];
    for (int n = 0; n < BATCHES; n++)
        s_batch_init (&batches [n], n);

    /*  The workload: a group of PER_GROUP batches, then one alone, ROUNDS times. */
    faulty_vfs_arm (k, rc, keep_failing);
    for (int round = 0; store && round < ROUNDS; round++) {
        batch_t *group = &batches [round * (PER_GROUP + 1)];
        const proto_request_t *requests [PER_GROUP];
        msgpack_sbuffer *replies [PER_GROUP];
        for (int n = 0; n < PER_GROUP; n++) {
            requests [n] = group [n].request;
            replies [n] = &group [n].reply;
        }
        store_run_group (store, requests, replies, PER_GROUP);
        store_run (store, group [PER_GROUP].request, &group [PER_GROUP].reply);
    }
    bool fired = faulty_vfs_failures () > 0;
    faulty_vfs_arm (0, rc, false);
    store_destroy (&store);

    /*  What the replies said is what the database holds. */
    sqlite3 *db;
    sqlite3_open (path, &db);
    char *integrity = NULL;
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL) == SQLITE_OK
    &&  sqlite3_step (stmt) == SQLITE_ROW)
        integrity = strdup ((const char *) sqlite3_column_text (stmt, 0));
    sqlite3_finalize (stmt);
    CHECK_STR (integrity, "ok");
    free (integrity);
    int ok = 0;
    for (int n = 0; n < BATCHES; n++) {
        json_t *reply = batches [n].reply.size
                      ? proto_json_from_msgpack (batches [n].reply.data, batches [n].reply.size, NULL, 0): NULL;
        char sql [100];
        snprintf (sql, sizeof (sql), "SELECT count (*) FROM txn WHERE amount = %d", n);
        long long rows = harness_db_int (db, sql);
        if (harness_bool (reply, "ok") == 1) {
            ok++;
            CHECK_INT (rows, 2);
        }
        else {
            if (reply) {
                CHECK_INT (harness_bool (reply, "error.retryable"), 1);
                if (harness_bool (reply, "error.retryable") != 1)
                    fprintf (stderr, "    k=%llu batch %d: %s\n", (unsigned long long) k, n,
                             harness_str (reply, "error.message"));
            }
            CHECK_INT (rows, 0);
            if (rows)
                fprintf (stderr, "    k=%llu rc=%d keep=%d: batch %d was refused but is in the database\n",
                         (unsigned long long) k, rc, keep_failing, n);
        }
        json_decref (reply);
    }
    CHECK_INT (harness_db_int (db, "SELECT count (*) FROM idempotency"), ok);
    sqlite3_close (db);
    *answered_ok += ok;
    *refused += BATCHES - ok;
    for (int n = 0; n < BATCHES; n++)
        s_batch_fini (&batches [n]);
    harness_remove_dir (dir);
    /*  Fail-once: the store must recover and serve the rest of the workload. */
    if (!keep_failing && fired)
        CHECK (ok >= BATCHES - PER_GROUP - 1);
    return fired;
}

static void
s_sweep (int rc, bool keep_failing)
{
    int answered_ok = 0, refused = 0;
    uint64_t k = 1;
    while (k < 2000 && s_round (k, rc, keep_failing, &answered_ok, &refused))
        k++;
    CHECK (k < 2000);
    printf ("     %s, %s: %llu fault points, %d batches ok, %d refused\n",
            rc == SQLITE_FULL? "SQLITE_FULL": "SQLITE_IOERR", keep_failing? "keep failing": "fail once",
            (unsigned long long) k - 1, answered_ok, refused);
}

static void
test_ioerr_once (void)
{
    s_sweep (SQLITE_IOERR_WRITE, false);
}

static void
test_ioerr_keep_failing (void)
{
    s_sweep (SQLITE_IOERR_WRITE, true);
}

static void
test_full_once (void)
{
    s_sweep (SQLITE_FULL, false);
}

static void
test_full_keep_failing (void)
{
    s_sweep (SQLITE_FULL, true);
}


/*  Faults inside a statement: COMMIT forces io whatever the code, so the
    sweeps above never show the store's code-to-class map; these do. */

static char s_dir [64];
static char s_path [128];
static stats_t s_stats;

static store_t *
s_store_open (void)
{
    store_options_t options = { .sync_full = true, .busy_timeout_ms = 100 };
    char errbuf [256];
    stats_init (&s_stats);
    store_t *store = store_new (s_path, &options, &s_stats, errbuf, sizeof (errbuf));
    if (!store) {
        fprintf (stderr, "store_new: %s\n", errbuf);
        abort ();
    }
    return store;
}

/*  Run one request given as JSON on store; the reply as JSON. */
static json_t *
s_run (store_t *store, const char *text)
{
    char *body;
    size_t size;
    json_t *json = json_loads (text, 0, NULL);
    if (!json || proto_json_to_msgpack (json, &body, &size, NULL, 0))
        abort ();
    json_decref (json);
    proto_request_t *request = proto_request_new (body, size, 1000);
    if (!request || proto_error_is_set (&request->error))
        abort ();
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    store_run (store, request, &out);
    json_t *reply = proto_json_from_msgpack (out.data, out.size, NULL, 0);
    msgpack_sbuffer_destroy (&out);
    proto_request_destroy (&request);
    free (body);
    return reply? reply: json_object ();    /* keeps the checks failing, not crashing */
}

/*  The first column of the first row of sql on the test database, or -1. */
static long long
s_sql (const char *sql)
{
    sqlite3 *db;
    sqlite3_open (s_path, &db);
    long long value = harness_db_int (db, sql);
    sqlite3_close (db);
    return value;
}

/*  Check that reply failed as a whole with klass and code at an op from
    op_min to op_max, and so before COMMIT (a failed COMMIT names no op). */
static void
s_check_failed (json_t *reply, const char *klass, const char *code, int op_min, int op_max)
{
    bool retryable = strcmp (klass, "io") == 0 || strcmp (klass, "busy") == 0;
    CHECK_INT (harness_bool (reply, "ok"), 0);
    CHECK_STR (harness_str (reply, "error.class"), klass);
    CHECK_STR (harness_str (reply, "error.code"), code);
    long long op = harness_int (reply, "error.op");
    CHECK (op >= op_min && op <= op_max);
    CHECK_INT (harness_bool (reply, "error.retryable"), retryable);
    CHECK (harness_get (reply, "results") == NULL);
    const char *message = harness_str (reply, "error.message");
    CHECK (message && strstr (message, "commit failed") == NULL);
    if (!harness_str (reply, "error.code") || strcmp (harness_str (reply, "error.code"), code))
        fprintf (stderr, "    reply: %s / %s at op %lld: %s\n", harness_str (reply, "error.class"),
                 harness_str (reply, "error.code"), harness_int (reply, "error.op"), message);
}

/*  A ledger with transaction 1 in it, reopened: the new connection's cache
    holds the category table (a batch has just written it) but no page of
    the txn table, so txn.get reads from the file. */
static store_t *
s_cold_ledger (void)
{
    if (harness_make_dir (s_dir, sizeof (s_dir), "ledger-midfault"))
        abort ();
    snprintf (s_path, sizeof (s_path), "%s/ledger.db", s_dir);
    faulty_vfs_arm (0, SQLITE_OK, false);
    store_t *store = s_store_open ();
    json_decref (s_run (store, "{\"v\":1,\"ops\":[{\"op\":\"txn.create\",\"amount\":1,"
                               "\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}"));
    store_destroy (&store);
    store = s_store_open ();
    json_t *reply = s_run (store, "{\"v\":1,\"ops\":[{\"op\":\"category.create\",\"name\":\"Warm\"}]}");
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);
    return store;
}

/*  Op 0 writes a category (cached pages), op 1 reads nothing, op 2 reads
    transaction 1 (pages not cached): the first read is op 2's. */
#define READ_AT_OP_2(mode) "{\"v\":1" mode ",\"ops\":[{\"op\":\"category.create\",\"name\":\"B\"}," \
                           "{\"op\":\"sys.ping\"},{\"op\":\"txn.get\",\"id\":1}]}"

/*  Every class of the map from a read: a real disk gives few of these
    codes there, but the map must send each where store_errors.c says, and
    the store must fail the whole batch, independent or not, and go on. */
static void
test_read_fault_mid_batch (void)
{
    struct { int rc; const char *klass; const char *code; } cases [] = {
        { SQLITE_IOERR_READ, "io", "SQLITE_IOERR_READ" },
        { SQLITE_IOERR, "io", "SQLITE_IOERR" },
        { SQLITE_FULL, "io", "SQLITE_FULL" },
        { SQLITE_CANTOPEN, "io", "SQLITE_CANTOPEN" },
        { SQLITE_PROTOCOL, "io", "SQLITE_PROTOCOL" },
        { SQLITE_READONLY, "io", "SQLITE_READONLY" },
        { SQLITE_IOERR_NOMEM, "io", "SQLITE_NOMEM" },
        { SQLITE_CORRUPT, "internal", "SQLITE_CORRUPT" },
        { SQLITE_NOTADB, "internal", "SQLITE_NOTADB" },
        { SQLITE_BUSY, "busy", "SQLITE_BUSY" },
        { SQLITE_LOCKED, "busy", "SQLITE_LOCKED" },
        { SQLITE_PERM, "internal", "SQLITE_PERM" },
    };
    const char *modes [] = { "", ",\"mode\":\"independent\"" };
    for (size_t c = 0; c < sizeof (cases) / sizeof (cases [0]); c++)
    for (int m = 0; m < 2; m++) {
        store_t *store = s_cold_ledger ();
        char text [300];
        snprintf (text, sizeof (text), READ_AT_OP_2 ("%s"), modes [m]);
        faulty_vfs_arm_reads (1, cases [c].rc, false);
        json_t *reply = s_run (store, text);
        CHECK_INT (faulty_vfs_failures (), 1);
        faulty_vfs_arm (0, SQLITE_OK, false);
        s_check_failed (reply, cases [c].klass, cases [c].code, 2, 2);
        json_decref (reply);
        /*  Nothing of the batch stays, and the store goes on. */
        reply = s_run (store, text);
        CHECK_INT (harness_bool (reply, "ok"), 1);
        CHECK_INT (harness_int (reply, "results.2.row.amount"), 1);
        json_decref (reply);
        store_destroy (&store);
        CHECK_INT (s_sql ("SELECT count (*) FROM category WHERE name = 'B'"), 1);
        harness_remove_dir (s_dir);
    }
}

/*  Three batches committed together; the middle one meets a read fault.
    Storage trouble is the group's, not one batch's: every batch of the
    group is answered io (retryable), none of them is in the ledger, and
    the same group sent again goes in whole. */
static void
s_group_read_fault (int rc)
{
    const char *texts [3] = {
        "{\"v\":1,\"ops\":[{\"op\":\"category.create\",\"name\":\"G0\"}]}",
        READ_AT_OP_2 (""),
        "{\"v\":1,\"ops\":[{\"op\":\"category.create\",\"name\":\"G2\"}]}",
    };
    store_t *store = s_cold_ledger ();
    for (int round = 0; round < 2; round++) {
        char *bodies [3];
        proto_request_t *requests [3];
        msgpack_sbuffer outs [3];
        msgpack_sbuffer *out_ptrs [3];
        for (int n = 0; n < 3; n++) {
            size_t size;
            json_t *json = json_loads (texts [n], 0, NULL);
            if (!json || proto_json_to_msgpack (json, &bodies [n], &size, NULL, 0))
                abort ();
            json_decref (json);
            requests [n] = proto_request_new (bodies [n], size, 1000);
            if (!requests [n] || proto_error_is_set (&requests [n]->error))
                abort ();
            msgpack_sbuffer_init (&outs [n]);
            out_ptrs [n] = &outs [n];
        }
        if (round == 0)
            faulty_vfs_arm_reads (1, rc, false);
        store_run_group (store, (const proto_request_t **) requests, out_ptrs, 3);
        if (round == 0) {
            CHECK_INT (faulty_vfs_failures (), 1);
            faulty_vfs_arm (0, SQLITE_OK, false);
        }
        for (int n = 0; n < 3; n++) {
            json_t *reply = proto_json_from_msgpack (outs [n].data, outs [n].size, NULL, 0);
            if (round == 0) {
                CHECK_INT (harness_bool (reply, "ok"), 0);
                CHECK_STR (harness_str (reply, "error.class"), "io");
                CHECK_INT (harness_bool (reply, "error.retryable"), 1);
            }
            else
                CHECK_INT (harness_bool (reply, "ok"), 1);
            json_decref (reply);
            msgpack_sbuffer_destroy (&outs [n]);
            proto_request_destroy (&requests [n]);
            free (bodies [n]);
        }
        if (round == 0)
            CHECK_INT (s_sql ("SELECT count (*) FROM category WHERE name IN ('G0', 'B', 'G2')"), 0);
    }
    store_destroy (&store);
    CHECK_INT (s_sql ("SELECT count (*) FROM category WHERE name IN ('G0', 'B', 'G2')"), 3);
    harness_remove_dir (s_dir);
}

/*  A read error makes SQLite roll the whole transaction back; one that
    leaves it open (here SQLITE_READONLY from a read) must end the group
    all the same. */
static void
test_read_fault_ends_the_group (void)
{
    s_group_read_fault (SQLITE_IOERR_READ);
    s_group_read_fault (SQLITE_READONLY);
}

/*  Category A (op 0), then 32 txn.create of 1000-byte descriptions (ops 1
    to 32), which go in as one 32-row insert: some 9 pages of rows. */
static char *
s_spilling_batch (const char *mode)
{
    size_t size = 40000;
    char *text = malloc (size);
    char description [1001];
    memset (description, 'x', 1000);
    description [1000] = 0;
    size_t at = (size_t) snprintf (text, size, "{\"v\":1%s,\"ops\":[{\"op\":\"category.create\",\"name\":\"A\"}",
                                   mode);
    for (int n = 1; n <= 32; n++)
        at += (size_t) snprintf (text + at, size - at, ",{\"op\":\"txn.create\",\"amount\":%d,"
                                 "\"occurred_at\":\"2025-01-01T00:00:00Z\",\"description\":\"%s\"}", n, description);
    snprintf (text + at, size - at, "]}");
    return text;
}

/*  With a cache of 10 pages, the 32-row insert overflows it and SQLite
    writes pages to the WAL in the middle of the statement: the first
    write of the transaction is op 1's, long before COMMIT. Independent,
    the ops go in one by one, and one of them overflows the cache. Either
    way the whole batch fails: storage trouble is never one op's. */
static void
test_write_fault_mid_batch (void)
{
    struct { int rc; const char *code; } cases [] = {
        { SQLITE_FULL, "SQLITE_FULL" },
        { SQLITE_IOERR_WRITE, "SQLITE_IOERR_WRITE" },
    };
    char *texts [] = { s_spilling_batch (""), s_spilling_batch (",\"mode\":\"independent\"") };
    for (size_t c = 0; c < sizeof (cases) / sizeof (cases [0]); c++)
    for (int m = 0; m < 2; m++) {
        const char *text = texts [m];
        if (harness_make_dir (s_dir, sizeof (s_dir), "ledger-midfault"))
            abort ();
        snprintf (s_path, sizeof (s_path), "%s/ledger.db", s_dir);
        faulty_vfs_arm (0, SQLITE_OK, false);
        store_t *store = s_store_open ();
        CHECK_INT (sqlite3_exec (store_db_sqlite_handle (store->db), "PRAGMA cache_size = 10", NULL, NULL, NULL),
                   SQLITE_OK);
        faulty_vfs_arm (1, cases [c].rc, false);
        json_t *reply = s_run (store, text);
        CHECK_INT (faulty_vfs_failures (), 1);
        faulty_vfs_arm (0, SQLITE_OK, false);
        /*  Op by op (independent), where the cache overflows is SQLite's
            business: at one of the txn.create ops. */
        s_check_failed (reply, "io", cases [c].code, 1, m? 32: 1);
        json_decref (reply);
        CHECK_INT (s_sql ("SELECT count (*) FROM txn"), 0);
        CHECK_INT (s_sql ("SELECT count (*) FROM category"), 0);
        /*  The store goes on: the same batch, retried, goes in whole. */
        reply = s_run (store, text);
        CHECK_INT (harness_bool (reply, "ok"), 1);
        CHECK_INT (harness_int (reply, "results.32.id"), 32);
        json_decref (reply);
        store_destroy (&store);
        CHECK_INT (s_sql ("SELECT count (*) FROM txn"), 32);
        CHECK_INT (s_sql ("SELECT count (*) FROM category"), 1);
        harness_remove_dir (s_dir);
    }
    free (texts [0]);
    free (texts [1]);
}

int
main (void)
{
    faulty_vfs_install ();
    TEST_RUN (test_ioerr_once);
    TEST_RUN (test_ioerr_keep_failing);
    TEST_RUN (test_full_once);
    TEST_RUN (test_full_keep_failing);
    TEST_RUN (test_read_fault_mid_batch);
    TEST_RUN (test_read_fault_ends_the_group);
    TEST_RUN (test_write_fault_mid_batch);
    return TEST_DONE ();
}
