/*  Integration: group commit and reader connections. Batches are queued
    behind a write lock another process holds, so that when it is released
    the writer takes them into one transaction; then each batch must still
    be atomic and isolated, and a failed COMMIT must fail all of them. */

#include "proto_json.h"
#include "testing.h"
#include "harness_files.h"
#include "harness_json.h"
#include "harness_wire.h"
#include "worker_harness.h"

#include <dirent.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define OPS(...) "{\"v\":1,\"ops\":[" __VA_ARGS__ "]}"


static void
s_send_json (zsock_t *dealer, const char *text)
{
    json_t *json = json_loads (text, 0, NULL);
    char *body;
    size_t size;
    if (!json || proto_json_to_msgpack (json, &body, &size, NULL, 0))
        abort ();
    json_decref (json);
    zmq_send (zsock_resolve (dealer), body, size, 0);
    free (body);
}

static json_t *
s_recv_json (zsock_t *dealer)
{
    zmsg_t *msg = zmsg_recv (dealer);
    if (!msg)
        return NULL;
    zframe_t *frame = zmsg_last (msg);
    json_t *json = proto_json_from_msgpack (zframe_data (frame), zframe_size (frame), NULL, 0);
    zmsg_destroy (&msg);
    return json;
}

/*  The front end answers garbage at once; its reply proves that everything
    sent before it on this connection has been taken. */
static void
s_sync (zsock_t *dealer)
{
    zmq_send (zsock_resolve (dealer), "\xc1", 1, 0);
    json_t *reply = s_recv_json (dealer);
    CHECK_STR (harness_str (reply, "error.code"), "MALFORMED");
    json_decref (reply);
}

static long long
s_stat (harness_t *worker, const char *path)
{
    zsock_t *req = harness_req (worker);
    json_t *reply = harness_call (req, OPS ("{\"op\":\"sys.stats\"}"));
    char full [100];
    snprintf (full, sizeof (full), "results.0.stats.%s", path);
    long long value = harness_int (reply, full);
    json_decref (reply);
    zsock_destroy (&req);
    return value;
}

/*  Queue `count` batches behind a held write lock, release it, and collect
    their replies in request order (replies [n] answers batches [n]). */
static void
s_run_queued (harness_t *worker, const char **batches, int count, json_t **replies)
{
    sqlite3 *lock;
    sqlite3_open (harness_db_path (worker), &lock);
    CHECK_INT (sqlite3_exec (lock, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    zsock_t *dealer = harness_dealer (worker);
    zsock_set_rcvtimeo (dealer, 20000);
    /*  The first batch takes the writer, which then waits for the lock... */
    s_send_json (dealer, batches [0]);
    s_sync (dealer);
    /*  ...so the others queue up behind it. */
    for (int n = 1; n < count; n++)
        s_send_json (dealer, batches [n]);
    s_sync (dealer);
    sqlite3_exec (lock, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close (lock);
    for (int n = 0; n < count; n++)
        replies [n] = NULL;
    for (int n = 0; n < count; n++) {
        json_t *reply = s_recv_json (dealer);
        long long id = harness_int (reply, "id");
        if (id >= 0 && id < count && !replies [id])
            replies [id] = reply;
        else {
            CHECK (!"a reply for no batch, or twice");
            json_decref (reply);
        }
    }
    zsock_destroy (&dealer);
}

#ifdef LEDGERD_TEST_HOOKS
/*  Built as test_group_commit_hooks, which starts ledgerd_test: the
    ledgerd with test hooks (worker/CMakeLists.txt). */
static void
test_failed_commit_fails_the_whole_group (void)
{
    /*  The group holding the batch keyed "commit-4" fails to commit, once. */
    setenv ("LEDGERD_TEST_FAIL_COMMIT_KEY", "commit-4", 1);
    harness_t *worker = harness_start ("--busy-timeout-ms", "20000", NULL);
    unsetenv ("LEDGERD_TEST_FAIL_COMMIT_KEY");
    CHECK (worker != NULL);
    if (!worker)
        return;
    enum { COUNT = 8 };
    char texts [COUNT] [300];
    const char *batches [COUNT];
    for (int n = 0; n < COUNT; n++) {
        snprintf (texts [n], sizeof (texts [n]), "{\"v\":1,\"id\":%d,\"key\":\"commit-%d\",\"ops\":["
                  "{\"op\":\"txn.create\",\"amount\":%d,\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}", n, n, n);
        batches [n] = texts [n];
    }
    long long transactions = s_stat (worker, "transactions");
    json_t *replies [COUNT];
    s_run_queued (worker, batches, COUNT, replies);
    int failed = 0;
    for (int n = 0; n < COUNT; n++) {
        char sql [100];
        snprintf (sql, sizeof (sql), "SELECT count (*) FROM txn WHERE amount = %d", n);
        if (harness_bool (replies [n], "ok") == 1) {
            CHECK_INT (harness_sql_int (harness_db_path (worker), sql), 1);
            continue;
        }
        failed++;
        CHECK_STR (harness_str (replies [n], "error.class"), "io");
        CHECK_INT (harness_bool (replies [n], "error.retryable"), 1);
        CHECK_INT (harness_sql_int (harness_db_path (worker), sql), 0);
    }
    /*  The poisoned batch failed, and not alone: its whole group did. */
    CHECK_INT (harness_bool (replies [4], "ok"), 0);
    CHECK (failed >= 2);
    CHECK (s_stat (worker, "transactions") - transactions < COUNT);
    CHECK_INT (harness_sql_int (harness_db_path (worker), "SELECT count (*) FROM idempotency"), COUNT - failed);
    /*  Their retries (same keys) now commit, each once; the others replay. */
    zsock_t *req = harness_req (worker);
    for (int n = 0; n < COUNT; n++) {
        json_t *reply = harness_call (req, texts [n]);
        CHECK_INT (harness_bool (reply, "ok"), 1);
        CHECK_INT (harness_bool (reply, "replayed") == 1, harness_bool (replies [n], "ok") == 1);
        json_decref (reply);
        json_decref (replies [n]);
    }
    zsock_destroy (&req);
    CHECK_INT (harness_sql_int (harness_db_path (worker), "SELECT count (*) FROM txn"), COUNT);
    CHECK_INT (harness_stop (&worker, false), 0);
}

#else

static void
test_failures_in_a_group_are_isolated (void)
{
    harness_t *worker = harness_start ("--busy-timeout-ms", "20000", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    zsock_t *req = harness_req (worker);
    json_decref (harness_call (req, OPS ("{\"op\":\"category.create\",\"name\":\"Taken\"}")));
    zsock_destroy (&req);
    long long transactions = s_stat (worker, "transactions");

    const char *batches [] = {
        "{\"v\":1,\"id\":0,\"ops\":[{\"op\":\"txn.create\",\"amount\":0,\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}",
        "{\"v\":1,\"id\":1,\"ops\":[{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}",
        /*  fails at its second op: its first op must not stay */
        "{\"v\":1,\"id\":2,\"ops\":[{\"op\":\"txn.create\",\"amount\":2,\"occurred_at\":\"2025-01-01T00:00:00Z\"},"
        "{\"op\":\"category.create\",\"name\":\"Taken\"}]}",
        "{\"v\":1,\"id\":3,\"ops\":[{\"op\":\"txn.create\",\"amount\":3,\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}",
        "{\"v\":1,\"id\":4,\"ops\":[{\"op\":\"txn.create\",\"amount\":4,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":\"Nope\"}]}",
        /*  independent mode inside a group: one op fails, one commits */
        "{\"v\":1,\"id\":5,\"mode\":\"independent\",\"ops\":[{\"op\":\"txn.create\",\"amount\":5,\"occurred_at\":\"2025-01-01T00:00:00Z\"},"
        "{\"op\":\"txn.delete\",\"id\":999}]}",
        /*  the same key twice in one group: the second is a replay */
        "{\"v\":1,\"id\":6,\"key\":\"group-dup\",\"ops\":[{\"op\":\"txn.create\",\"amount\":6,\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}",
        "{\"v\":1,\"id\":7,\"key\":\"group-dup\",\"ops\":[{\"op\":\"txn.create\",\"amount\":6,\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}",
        /*  a later batch sees an earlier one's work in the same group */
        "{\"v\":1,\"id\":8,\"ops\":[{\"op\":\"category.create\",\"name\":\"Fresh\"}]}",
        "{\"v\":1,\"id\":9,\"ops\":[{\"op\":\"txn.create\",\"amount\":9,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":\"Fresh\"}]}",
    };
    enum { COUNT = sizeof (batches) / sizeof (batches [0]) };
    json_t *replies [COUNT];
    s_run_queued (worker, batches, COUNT, replies);

    static const int ok [COUNT] = { 1, 1, 0, 1, 0, 1, 1, 1, 1, 1 };
    for (int n = 0; n < COUNT; n++)
        CHECK_INT (harness_bool (replies [n], "ok"), ok [n]);
    CHECK_STR (harness_str (replies [2], "error.code"), "SQLITE_CONSTRAINT_UNIQUE");
    CHECK_INT (harness_int (replies [2], "error.op"), 1);
    CHECK_STR (harness_str (replies [4], "error.class"), "not_found");
    CHECK_INT (harness_int (replies [5], "failed"), 1);
    CHECK (harness_get (replies [6], "replayed") == NULL);
    CHECK_INT (harness_bool (replies [7], "replayed"), 1);
    CHECK (json_equal (harness_get (replies [6], "results"), harness_get (replies [7], "results")));
    for (int n = 0; n < COUNT; n++)
        json_decref (replies [n]);

    const char *db = harness_db_path (worker);
    CHECK_INT (harness_sql_int (db, "SELECT count (*) FROM txn WHERE amount IN (0, 1, 3, 5, 6, 9)"), 6);
    CHECK_INT (harness_sql_int (db, "SELECT count (*) FROM txn WHERE amount IN (2, 4)"), 0);
    CHECK_INT (harness_sql_int (db, "SELECT count (*) FROM txn WHERE amount = 6"), 1);
    /*  They really shared transactions: far fewer than one per batch. */
    long long used = s_stat (worker, "transactions") - transactions;
    printf ("     %d batches in %lld write transactions\n", COUNT, used);
    CHECK (used >= 1 && used <= 3);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  The production ledgerd has no test hooks: the variable that makes
    ledgerd_test fail a commit is nothing to it, and the batch commits. */
static void
test_ledgerd_ignores_the_test_hook_variable (void)
{
    setenv ("LEDGERD_TEST_FAIL_COMMIT_KEY", "commit-4", 1);
    harness_t *worker = harness_start (NULL);
    unsetenv ("LEDGERD_TEST_FAIL_COMMIT_KEY");
    CHECK (worker != NULL);
    if (!worker)
        return;
    zsock_t *req = harness_req (worker);
    json_t *reply = harness_call (req, "{\"v\":1,\"key\":\"commit-4\",\"ops\":[{\"op\":\"txn.create\","
                                  "\"amount\":4,\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}");
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK (harness_get (reply, "replayed") == NULL);
    json_decref (reply);
    zsock_destroy (&req);
    CHECK_INT (harness_sql_int (harness_db_path (worker), "SELECT count (*) FROM txn WHERE amount = 4"), 1);
    CHECK_INT (harness_stop (&worker, false), 0);
}

static void
test_group_max_one_is_one_transaction_per_batch (void)
{
    harness_t *worker = harness_start ("--busy-timeout-ms", "20000", "--group-max", "1", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    long long transactions = s_stat (worker, "transactions");
    enum { COUNT = 6 };
    char texts [COUNT] [300];
    const char *batches [COUNT];
    for (int n = 0; n < COUNT; n++) {
        snprintf (texts [n], sizeof (texts [n]), "{\"v\":1,\"id\":%d,\"ops\":["
                  "{\"op\":\"txn.create\",\"amount\":%d,\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}", n, n);
        batches [n] = texts [n];
    }
    json_t *replies [COUNT];
    s_run_queued (worker, batches, COUNT, replies);
    for (int n = 0; n < COUNT; n++) {
        CHECK_INT (harness_bool (replies [n], "ok"), 1);
        json_decref (replies [n]);
    }
    CHECK_INT (s_stat (worker, "transactions") - transactions, COUNT);
    CHECK_INT (harness_stop (&worker, false), 0);
}

static void
test_reads_see_acknowledged_writes (void)
{
    harness_t *worker = harness_start ("--readers", "3", "--sync", "normal", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    zsock_t *writer = harness_req (worker);
    zsock_t *readers [3] = { harness_req (worker), harness_req (worker), harness_req (worker) };
    int seen = 0;
    for (int n = 0; n < 300; n++) {
        json_t *reply = harness_callf (writer, OPS ("{\"op\":\"txn.create\",\"amount\":%d,"
                                       "\"occurred_at\":\"2025-01-01T00:00:00Z\"}"), n);
        long long id = harness_int (reply, "results.0.id");
        json_decref (reply);
        /*  The reply is in: any reader, on any connection, must see it. */
        reply = harness_callf (readers [n % 3], OPS ("{\"op\":\"txn.get\",\"id\":%lld}"), id);
        seen += harness_int (reply, "results.0.row.amount") == n;
        json_decref (reply);
    }
    CHECK_INT (seen, 300);
    /*  And a batch that mixes reads and writes sees its own earlier ops. */
    json_t *reply = harness_call (writer, OPS ("{\"op\":\"category.create\",\"name\":\"Mixed\"},"
                                               "{\"op\":\"category.get\",\"name\":\"Mixed\"}"));
    CHECK_STR (harness_str (reply, "results.1.row.name"), "Mixed");
    json_decref (reply);
    for (int n = 0; n < 3; n++)
        zsock_destroy (&readers [n]);
    zsock_destroy (&writer);
    CHECK_INT (harness_stop (&worker, false), 0);
}

static void
test_reads_do_not_wait_for_the_writer (void)
{
    harness_t *worker = harness_start ("--busy-timeout-ms", "20000", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    /*  The writer is stuck on a lock; reads are still answered. */
    sqlite3 *lock;
    sqlite3_open (harness_db_path (worker), &lock);
    sqlite3_exec (lock, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    zsock_t *dealer = harness_dealer (worker);
    s_send_json (dealer, OPS ("{\"op\":\"category.create\",\"name\":\"Waits\"}"));
    s_sync (dealer);
    zsock_t *req = harness_req (worker);
    for (int n = 0; n < 20; n++) {
        json_t *reply = harness_call (req, OPS ("{\"op\":\"txn.query\",\"limit\":5},{\"op\":\"sys.ping\"}"));
        CHECK_INT (harness_bool (reply, "ok"), 1);
        json_decref (reply);
    }
    sqlite3_exec (lock, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close (lock);
    zsock_set_rcvtimeo (dealer, 20000);
    json_t *reply = s_recv_json (dealer);
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);
    zsock_destroy (&req);
    zsock_destroy (&dealer);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  sys.ping and sys.stats need no ledger: the front end answers them
    itself, with no reader and the writer waiting for a lock. */
static void
test_sys_ops_do_not_wait_for_the_ledger (void)
{
    harness_t *worker = harness_start ("--readers", "0", "--busy-timeout-ms", "20000", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    sqlite3 *lock;
    sqlite3_open (harness_db_path (worker), &lock);
    CHECK_INT (sqlite3_exec (lock, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    zsock_t *dealer = harness_dealer (worker);
    s_send_json (dealer, "{\"v\":1,\"id\":1,\"ops\":[{\"op\":\"category.create\",\"name\":\"Waits\"}]}");
    s_sync (dealer);
    /*  The writer waits for the lock; the ping must not wait behind it. */
    s_send_json (dealer, "{\"v\":1,\"id\":2,\"ops\":[{\"op\":\"sys.ping\"},{\"op\":\"sys.stats\"}]}");
    zsock_set_rcvtimeo (dealer, 5000);
    json_t *reply = s_recv_json (dealer);
    CHECK_INT (harness_int (reply, "id"), 2);
    CHECK_INT (harness_bool (reply, "results.0.pong"), 1);
    CHECK (harness_int (reply, "results.1.stats.ops") >= 0);
    json_decref (reply);
    sqlite3_exec (lock, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close (lock);
    zsock_set_rcvtimeo (dealer, 20000);
    reply = s_recv_json (dealer);
    CHECK_INT (harness_int (reply, "id"), 1);
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);
    zsock_destroy (&dealer);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  Both absent, or equal. */
static bool
s_same (json_t *a, json_t *b)
{
    return (!a && !b) || json_equal (a, b);
}

/*  A batch of ops that need no ledger gets the same reply from the front
    end (unkeyed) as from the store (keyed: its key must be kept), in both
    modes: in independent mode an op's own mistake fails it alone. */
static void
test_sys_ops_answer_as_the_store_does (void)
{
    harness_t *worker = harness_start (NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    zsock_t *req = harness_req (worker);
    static const char *modes [] = { "atomic", "independent" };
    for (int m = 0; m < 2; m++) {
        json_t *alone = harness_callf (req, "{\"v\":1,\"mode\":\"%s\",\"ops\":[{\"op\":\"sys.ping\"},"
                                       "{\"op\":\"cluster.transfer\",\"id\":2},{\"op\":\"sys.ping\"}]}", modes [m]);
        json_t *stored = harness_callf (req, "{\"v\":1,\"mode\":\"%s\",\"key\":\"sys-%d\",\"ops\":["
                                        "{\"op\":\"sys.ping\"},{\"op\":\"cluster.transfer\",\"id\":2},"
                                        "{\"op\":\"sys.ping\"}]}", modes [m], m);
        CHECK_INT (harness_bool (alone, "ok"), m);
        CHECK (s_same (harness_get (alone, "ok"), harness_get (stored, "ok")));
        CHECK (s_same (harness_get (alone, "error"), harness_get (stored, "error")));
        CHECK (s_same (harness_get (alone, "results"), harness_get (stored, "results")));
        CHECK (s_same (harness_get (alone, "failed"), harness_get (stored, "failed")));
        if (m == 1) {
            CHECK_INT (harness_int (alone, "failed"), 1);
            CHECK_STR (harness_str (alone, "results.1.error.code"), "NOT_CLUSTER");
            CHECK_INT (harness_bool (alone, "results.2.pong"), 1);
        }
        else
            CHECK_STR (harness_str (alone, "error.code"), "NOT_CLUSTER");
        json_decref (alone);
        json_decref (stored);
    }
    zsock_destroy (&req);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  How many threads of process pid run at nice value `nice`. */
static int
s_threads_at_nice (pid_t pid, int nice)
{
    char path [64];
    snprintf (path, sizeof (path), "/proc/%d/task", (int) pid);
    DIR *dir = opendir (path);
    int count = 0;
    struct dirent *entry;
    while (dir && (entry = readdir (dir))) {
        if (entry->d_name [0] == '.')
            continue;
        char stat_path [400], line [1024];
        snprintf (stat_path, sizeof (stat_path), "%s/%s/stat", path, entry->d_name);
        FILE *file = fopen (stat_path, "r");
        if (!file)
            continue;
        size_t size = fread (line, 1, sizeof (line) - 1, file);
        fclose (file);
        line [size] = 0;
        /*  Field 19 is nice; the name (field 2) may hold spaces, so
            count from the ')' that closes it. */
        char *rest = strrchr (line, ')');
        int field = 2, value = 0;
        for (char *token = rest? strtok (rest + 1, " "): NULL; token; token = strtok (NULL, " "))
            if (++field == 19) {
                value = atoi (token);
                break;
            }
        count += field == 19 && value == nice;
    }
    if (dir)
        closedir (dir);
    return count;
}

static void
test_readers_run_nicer_than_the_writer (void)
{
    harness_t *worker = harness_start ("--readers", "3", "--reader-nice", "7", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    /*  Each reader lowers its own priority as it starts, and so does the
        backup thread (worker/backup.c): 3 + 1. */
    int64_t deadline = zclock_mono () + 5000;
    while (s_threads_at_nice (harness_pid (worker), 7) < 4 && zclock_mono () < deadline)
        zclock_sleep (10);
    CHECK_INT (s_threads_at_nice (harness_pid (worker), 7), 4);
    CHECK (s_threads_at_nice (harness_pid (worker), 0) >= 1);      /* the writer and ZeroMQ's */
    CHECK_INT (harness_stop (&worker, false), 0);
}
#endif

int
main (void)
{
#ifdef LEDGERD_TEST_HOOKS
    TEST_RUN (test_failed_commit_fails_the_whole_group);
#else
    TEST_RUN (test_failures_in_a_group_are_isolated);
    TEST_RUN (test_ledgerd_ignores_the_test_hook_variable);
    TEST_RUN (test_group_max_one_is_one_transaction_per_batch);
    TEST_RUN (test_reads_see_acknowledged_writes);
    TEST_RUN (test_reads_do_not_wait_for_the_writer);
    TEST_RUN (test_sys_ops_do_not_wait_for_the_ledger);
    TEST_RUN (test_sys_ops_answer_as_the_store_does);
    TEST_RUN (test_readers_run_nicer_than_the_writer);
#endif
    return TEST_DONE ();
}
