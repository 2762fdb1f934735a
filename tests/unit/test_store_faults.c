/*  The store under storage faults: a VFS fails the k-th write, sync or
    truncate with SQLITE_IOERR or SQLITE_FULL, for k = 1, 2, ... until a
    scripted workload runs clean; once in fail-once mode, once in
    keep-failing mode. Every batch answered ok must be in the database
    exactly once, every other batch must have got a retryable error and be
    absent, and the database must pass integrity_check. */

#include "faulty_vfs.h"
#include "proto_json.h"
#include "proto_request.h"
#include "store.h"
#include "testing.h"
#include "reply.h"
#include "scratch_dir.h"

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

static long long
s_query (sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt;
    long long value = -1;
    if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
        value = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return value;
}

/*  One round at fault point k. Returns true if the fault fired (so k+1 is
    worth trying), false when the workload ran clean. */
static bool
s_round (uint64_t k, int rc, bool keep_failing, int *answered_ok, int *refused)
{
    char dir [64];
    if (scratch_dir_make (dir, sizeof (dir), "ledger-faults"))
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
        long long rows = s_query (db, sql);
        if (reply_bool (reply, "ok") == 1) {
            ok++;
            CHECK_INT (rows, 2);
        }
        else {
            if (reply) {
                CHECK_INT (reply_bool (reply, "error.retryable"), 1);
                if (reply_bool (reply, "error.retryable") != 1)
                    fprintf (stderr, "    k=%llu batch %d: %s\n", (unsigned long long) k, n,
                             reply_str (reply, "error.message"));
            }
            CHECK_INT (rows, 0);
            if (rows)
                fprintf (stderr, "    k=%llu rc=%d keep=%d: batch %d was refused but is in the database\n",
                         (unsigned long long) k, rc, keep_failing, n);
        }
        json_decref (reply);
    }
    CHECK_INT (s_query (db, "SELECT count (*) FROM idempotency"), ok);
    sqlite3_close (db);
    *answered_ok += ok;
    *refused += BATCHES - ok;
    for (int n = 0; n < BATCHES; n++)
        s_batch_fini (&batches [n]);
    scratch_dir_remove (dir);
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

int
main (void)
{
    faulty_vfs_install ();
    TEST_RUN (test_ioerr_once);
    TEST_RUN (test_ioerr_keep_failing);
    TEST_RUN (test_full_once);
    TEST_RUN (test_full_keep_failing);
    return TEST_DONE ();
}
