/*  Integration: the client library against a real ledgerd -- every op,
    refs, independent mode, pipelining, and retries that never apply a batch
    twice: a worker killed and restarted mid-stream, replies held past the
    timeout, a database locked by another process, errors not worth a retry,
    and a worker that is not there at all. */

#include "ledger.h"
#include "testing.h"
#include "harness_files.h"
#include "harness_json.h"
#include "harness_wire.h"
#include "worker_harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;


static ledger_client_t *
s_client (const char *endpoint, int timeout_ms, int retries)
{
    ledger_client_t *client = ledger_client_new (endpoint);
    if (client) {
        ledger_client_set_timeout (client, timeout_ms);
        ledger_client_set_retries (client, retries);
        ledger_client_set_backoff (client, 10, 200);
    }
    return client;
}

static void
test_every_op_with_typed_results (void)
{
    harness_t *worker = harness_start (NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    ledger_client_t *client = s_client (harness_endpoint (worker), 5000, 3);
    /*  The count before: the harness's readiness ping was answered, and
        nothing else this worker did is known here. */
    ledger_batch_t *stats = ledger_batch_new ();
    ledger_batch_stats (stats);
    ledger_result_t *before = ledger_client_submit (client, stats);
    int64_t batches_ok = before? ledger_result_stat (before, 0, "batches_ok"): -1;
    CHECK (batches_ok >= 1);
    ledger_result_destroy (&before);
    ledger_batch_destroy (&stats);
    ledger_batch_t *batch = ledger_batch_new ();
    int food = ledger_batch_category_create (batch, "Food", LEDGER_UNSET);
    int bakery = ledger_batch_category_create (batch, "Bakery", ledger_op (food));
    int txn = ledger_batch_txn_create (batch, -420, ledger_time_text ("2025-03-01T08:00:00+01:00"), "croissant",
                                       ledger_op (bakery));
    ledger_batch_txn_create (batch, -99, ledger_time_at (1740816000000000LL, 0), NULL, ledger_name ("Food"));
    ledger_txn_change_t change = { .set_amount = true, .amount = -450, .category = LEDGER_UNSET };
    ledger_batch_txn_update (batch, ledger_op (txn), &change);
    ledger_batch_txn_get (batch, ledger_op (txn));
    ledger_batch_category_update (batch, ledger_op (bakery), "Bread", LEDGER_UNSET);
    ledger_batch_category_get (batch, ledger_name ("Bread"));
    ledger_batch_category_list (batch);
    ledger_ref_t categories [] = { ledger_name ("Food") };
    ledger_query_t query = { .categories = categories, .category_count = 1, .include_subcategories = true, .limit = 1 };
    ledger_batch_txn_query (batch, &query);
    ledger_batch_ping (batch);
    ledger_batch_stats (batch);
    ledger_result_t *result = ledger_client_submit (client, batch);
    CHECK (result != NULL);
    if (result) {
        CHECK_INT (ledger_result_status (result), LEDGER_OK);
        CHECK_INT (ledger_result_tries (result), 1);
        CHECK (!ledger_result_replayed (result));
        CHECK_INT (ledger_result_id (result, 0), 1);
        CHECK_INT (ledger_result_changed (result, 4), 1);
        ledger_txn_t row;
        CHECK_INT (ledger_result_txn (result, 5, 0, &row), 0);
        CHECK_INT (row.amount, -450);
        CHECK_STR (row.description, "croissant");
        CHECK_STR (row.occurred_at, "2025-03-01T08:00:00+01:00");
        CHECK_INT (row.category_id, 2);
        ledger_category_t category;
        CHECK_INT (ledger_result_category (result, 7, 0, &category), 0);
        CHECK_STR (category.name, "Bread");
        CHECK_INT (category.parent_id, 1);
        CHECK_INT (ledger_result_row_count (result, 8), 2);
        CHECK_INT (ledger_result_row_count (result, 9), 1);
        CHECK (ledger_result_next (result, 9) != NULL);             /* a second page exists */
        CHECK_STR (ledger_result_version (result, 10), "0.1.0");
        /*  A batch is counted before its reply goes out, so the stats
            batch above is in, and this one (still running) is not. */
        CHECK_INT (ledger_result_stat (result, 11, "batches_ok"), batches_ok + 1);
    }
    /*  Follow the cursor, as the header's paging loop does: the result
        goes before the next page is asked for. */
    CHECK_INT (ledger_query_next_page (&query, result, 9), 1);
    ledger_result_destroy (&result);
    size_t pages = 1, rows = 0;
    int more;
    do {
        ledger_batch_t *next = ledger_batch_new ();
        ledger_batch_txn_query (next, &query);
        ledger_result_t *page = ledger_client_submit (client, next);
        ledger_batch_destroy (&next);
        pages++;
        rows += page? ledger_result_row_count (page, 0): 0;
        more = ledger_query_next_page (&query, page, 0);
        ledger_result_destroy (&page);
    } while (more == 1 && pages < 10);
    CHECK_INT (more, 0);
    CHECK_INT (pages, 2);
    CHECK_INT (rows, 1);

    /*  Delete both, in independent mode with one failing op. */
    ledger_batch_t *cleanup = ledger_batch_new ();
    ledger_batch_set_independent (cleanup, true);
    ledger_batch_txn_delete (cleanup, ledger_id (1));
    ledger_batch_category_delete (cleanup, ledger_id (1));          /* still has a subcategory */
    ledger_batch_txn_delete (cleanup, ledger_id (99));
    result = ledger_client_submit (client, cleanup);
    CHECK (result && ledger_result_status (result) == LEDGER_OK);
    if (result) {
        CHECK_INT (ledger_result_failed_count (result), 2);
        CHECK (!ledger_result_op_failed (result, 0));
        CHECK_STR (ledger_result_op_error_class (result, 1), "constraint");
        CHECK_STR (ledger_result_op_error_code (result, 1), "CATEGORY_IN_USE");
        CHECK_STR (ledger_result_op_error_message (result, 1), "category 1 still has 1 transaction and 1 subcategory");
        CHECK_STR (ledger_result_op_error_class (result, 2), "not_found");
    }
    ledger_result_destroy (&result);
    ledger_batch_destroy (&cleanup);
    ledger_batch_destroy (&batch);
    ledger_client_destroy (&client);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  Threads of this process whose name starts with prefix. */
static int
s_threads_named (const char *prefix)
{
    DIR *dir = opendir ("/proc/self/task");
    int count = 0;
    struct dirent *entry;
    while (dir && (entry = readdir (dir))) {
        char path [300], name [64] = "";
        snprintf (path, sizeof (path), "/proc/self/task/%s/comm", entry->d_name);
        FILE *file = entry->d_name [0] != '.'? fopen (path, "r"): NULL;
        if (file) {
            if (fgets (name, sizeof (name), file) && strncmp (name, prefix, strlen (prefix)) == 0)
                count++;
            fclose (file);
        }
    }
    if (dir)
        closedir (dir);
    return count;
}

static bool
s_ping_ok (ledger_client_t *client)
{
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_batch_ping (batch);
    ledger_result_t *result = ledger_client_submit (client, batch);
    bool ok = result && ledger_result_status (result) == LEDGER_OK;
    ledger_result_destroy (&result);
    ledger_batch_destroy (&batch);
    return ok;
}

static void
test_clients_share_one_context (void)
{
    harness_t *worker = harness_start (NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    int before = s_threads_named ("ZMQbg/IO");
    ledger_client_t *one = s_client (harness_endpoint (worker), 5000, 0);
    ledger_client_t *two = s_client (harness_endpoint (worker), 5000, 0);
    ledger_client_t *three = s_client (harness_endpoint (worker), 5000, 0);
    CHECK (s_ping_ok (one) && s_ping_ok (two) && s_ping_ok (three));
    /*  One ZeroMQ I/O thread serves every client of the process. */
    CHECK_INT (s_threads_named ("ZMQbg/IO") - before, 1);
    /*  The context outlives any one client, and is made again after the last. */
    ledger_client_destroy (&one);
    CHECK (s_ping_ok (two));
    ledger_client_destroy (&two);
    ledger_client_destroy (&three);
    ledger_client_t *again = s_client (harness_endpoint (worker), 5000, 0);
    CHECK (s_ping_ok (again));
    /*  A child process forked while a client exists makes its own. */
    pid_t child = fork ();
    if (child == 0) {
        ledger_client_t *own = s_client (harness_endpoint (worker), 5000, 0);
        bool ok = own && s_ping_ok (own);
        ledger_client_destroy (&own);
        _exit (ok? 0: 1);
    }
    int status = -1;
    CHECK (child > 0 && waitpid (child, &status, 0) == child);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    CHECK (s_ping_ok (again));
    ledger_client_destroy (&again);
    CHECK_INT (harness_stop (&worker, false), 0);
}

static void
test_pipelining_1000_requests (void)
{
    harness_t *worker = harness_start ("--sync", "normal", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    ledger_client_t *client = s_client (harness_endpoint (worker), 10000, 3);
    ledger_client_set_window (client, 200);
    enum { COUNT = 1000 };
    uint64_t ids [COUNT];
    bool done [COUNT] = { false };
    int sent = 0, received = 0, ok = 0;
    while (received < COUNT) {
        while (sent < COUNT) {
            ledger_batch_t *batch = ledger_batch_new ();
            ledger_batch_txn_create (batch, sent, ledger_time_text ("2025-01-01T00:00:00Z"), NULL, LEDGER_UNSET);
            uint64_t id = ledger_client_send (client, batch);
            ledger_batch_destroy (&batch);
            if (!id)
                break;          /* window full */
            ids [sent++] = id;
        }
        CHECK (ledger_client_in_flight (client) <= 200);
        ledger_result_t *result = ledger_client_recv (client, 10000);
        if (!result)
            break;
        uint64_t id = ledger_result_request_id (result);
        for (int n = 0; n < sent; n++)
            if (ids [n] == id) {
                CHECK (!done [n]);
                done [n] = true;
                /*  Which request this is shows in the id it created. */
                CHECK_INT (ledger_result_id (result, 0), n + 1);
            }
        ok += ledger_result_status (result) == LEDGER_OK;
        received++;
        ledger_result_destroy (&result);
    }
    CHECK_INT (received, COUNT);
    CHECK_INT (ok, COUNT);
    /*  A timeout of 0 takes a reply that is already there. */
    ledger_batch_t *ping = ledger_batch_new ();
    ledger_batch_ping (ping);
    uint64_t id = ledger_client_send (client, ping);
    ledger_batch_destroy (&ping);
    /*  Polled with a zero timeout, the reply must turn up (before the fix
        it never did: recv (0) returned without looking). */
    ledger_result_t *waiting = NULL;
    int64_t deadline = zclock_mono () + 10000;
    while (!waiting && zclock_mono () < deadline)
        waiting = ledger_client_recv (client, 0);
    CHECK (waiting && ledger_result_request_id (waiting) == id);
    ledger_result_destroy (&waiting);
    CHECK_INT (harness_sql_int (harness_db_path (worker), "SELECT count (*) FROM txn"), COUNT);
    ledger_client_destroy (&client);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  Kills the worker once the database holds `kill_at` rows, then starts it
    again on the same database and endpoint. */
typedef struct {
    harness_t *worker;
    char dir [256];
    char endpoint [128];
    char db [300];
    long long kill_at;
    bool restarted;
} restarter_t;

static void *
s_restarter (void *arg)
{
    restarter_t *self = (restarter_t *) arg;
    int64_t deadline = zclock_mono () + 60000;
    while (harness_sql_int (self->db, "SELECT count (*) FROM txn") < self->kill_at && zclock_mono () < deadline)
        zclock_sleep (5);       /* watching the database, not timing a race */
    harness_signal (self->worker, SIGKILL);
    harness_wait (self->worker, 10000);
    harness_stop (&self->worker, true);
    self->worker = harness_start_at (self->dir, self->endpoint, "--sync", "normal", NULL);
    self->restarted = self->worker != NULL;
    return NULL;
}

static void
test_worker_killed_and_restarted_mid_stream (void)
{
    restarter_t restarter = { .kill_at = 100 };
    restarter.worker = harness_start ("--sync", "normal", NULL);
    CHECK (restarter.worker != NULL);
    if (!restarter.worker)
        return;
    snprintf (restarter.dir, sizeof (restarter.dir), "%s", harness_dir (restarter.worker));
    snprintf (restarter.endpoint, sizeof (restarter.endpoint), "%s", harness_endpoint (restarter.worker));
    snprintf (restarter.db, sizeof (restarter.db), "%s", harness_db_path (restarter.worker));
    pthread_t thread;
    pthread_create (&thread, NULL, s_restarter, &restarter);

    ledger_client_t *client = s_client (restarter.endpoint, 300, 40);
    enum { COUNT = 400 };
    int ok = 0, retried = 0;
    for (int n = 0; n < COUNT; n++) {
        ledger_batch_t *batch = ledger_batch_new ();
        /*  Two rows per batch: a half-applied batch would show. */
        ledger_batch_txn_create (batch, n, ledger_time_text ("2025-01-01T00:00:00Z"), "a", LEDGER_UNSET);
        ledger_batch_txn_create (batch, n, ledger_time_text ("2025-01-01T00:00:00Z"), "b", LEDGER_UNSET);
        ledger_result_t *result = ledger_client_submit (client, batch);
        if (result && ledger_result_status (result) == LEDGER_OK)
            ok++;
        else
            fprintf (stderr, "batch %d: %s\n", n, result? ledger_result_describe (result): ledger_client_error (client));
        if (result && ledger_result_tries (result) > 1)
            retried++;
        ledger_result_destroy (&result);
        ledger_batch_destroy (&batch);
    }
    pthread_join (thread, NULL);
    CHECK (restarter.restarted);
    CHECK_INT (ok, COUNT);
    CHECK (retried >= 1);       /* the kill really happened mid-stream */
    /*  Every batch exactly once, whole. */
    CHECK_INT (harness_sql_int (restarter.db, "SELECT count (*) FROM txn"), 2 * COUNT);
    CHECK_INT (harness_sql_int (restarter.db, "SELECT count (DISTINCT amount) FROM txn"), COUNT);
    CHECK_INT (harness_sql_int (restarter.db, "SELECT count (*) FROM (SELECT amount FROM txn GROUP BY amount HAVING count (*) <> 2)"), 0);
    ledger_client_destroy (&client);
    if (restarter.worker)
        CHECK_INT (harness_stop (&restarter.worker, false), 0);
    harness_remove_dir (restarter.dir);
}

/*  A proxy that forwards requests to the worker and swallows the first
    `drop` replies: to the client, a worker that holds replies past its
    timeout. */
typedef struct {
    const char *backend;
    zsock_t *frontend;
    int drop;
    volatile bool stop;
} proxy_t;

static void *
s_proxy (void *arg)
{
    proxy_t *self = (proxy_t *) arg;
    zsock_t *backend = zsock_new_dealer (self->backend);
    zpoller_t *poller = zpoller_new (self->frontend, backend, NULL);
    while (!self->stop) {
        zsock_t *which = (zsock_t *) zpoller_wait (poller, 50);
        if (!which)
            continue;
        zmsg_t *msg = zmsg_recv (which);
        if (!msg)
            break;
        if (which == self->frontend)
            zmsg_send (&msg, backend);
        else
        if (self->drop > 0) {
            self->drop--;
            zmsg_destroy (&msg);
        }
        else
            zmsg_send (&msg, self->frontend);
    }
    zpoller_destroy (&poller);
    zsock_destroy (&backend);
    return NULL;
}

static void
test_replies_held_past_the_timeout (void)
{
    harness_t *worker = harness_start (NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    proxy_t proxy = { .backend = harness_endpoint (worker), .drop = 2 };
    proxy.frontend = zsock_new_router ("tcp://127.0.0.1:*");
    char *endpoint = zsock_last_endpoint (proxy.frontend);
    pthread_t thread;
    pthread_create (&thread, NULL, s_proxy, &proxy);

    ledger_client_t *client = s_client (endpoint, 300, 5);
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_batch_txn_create (batch, 777, ledger_time_text ("2025-01-01T00:00:00Z"), NULL, LEDGER_UNSET);
    ledger_result_t *result = ledger_client_submit (client, batch);
    CHECK (result && ledger_result_status (result) == LEDGER_OK);
    if (result) {
        CHECK_INT (ledger_result_tries (result), 3);
        CHECK (ledger_result_replayed (result));        /* the first try had committed */
    }
    ledger_result_destroy (&result);
    CHECK_INT (harness_sql_int (harness_db_path (worker), "SELECT count (*) FROM txn WHERE amount = 777"), 1);
    ledger_batch_destroy (&batch);
    ledger_client_destroy (&client);
    proxy.stop = true;
    pthread_join (thread, NULL);
    zsock_destroy (&proxy.frontend);
    zstr_free (&endpoint);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  Holds the write lock until the worker has answered `busy` twice. */
typedef struct {
    const char *db;
    const char *endpoint;
    sqlite3 *lock;
    long long busy_seen;
} locker_t;

static void *
s_unlock_after_two_busy (void *arg)
{
    locker_t *self = (locker_t *) arg;
    zsock_t *req = zsock_new_req (self->endpoint);
    zsock_set_rcvtimeo (req, 5000);
    int64_t deadline = zclock_mono () + 30000;
    while (self->busy_seen < 2 && zclock_mono () < deadline) {
        json_t *reply = harness_call (req, "{\"v\":1,\"ops\":[{\"op\":\"sys.stats\"}]}");
        self->busy_seen = harness_int (reply, "results.0.stats.batches_failed.busy");
        json_decref (reply);
        if (!reply)
            break;
    }
    sqlite3_exec (self->lock, "ROLLBACK", NULL, NULL, NULL);
    zsock_destroy (&req);
    return NULL;
}

static void
test_busy_is_retried_until_it_succeeds (void)
{
    harness_t *worker = harness_start ("--busy-timeout-ms", "50", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    locker_t locker = { .db = harness_db_path (worker), .endpoint = harness_endpoint (worker) };
    sqlite3_open (locker.db, &locker.lock);
    CHECK_INT (sqlite3_exec (locker.lock, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    pthread_t thread;
    pthread_create (&thread, NULL, s_unlock_after_two_busy, &locker);

    ledger_client_t *client = s_client (harness_endpoint (worker), 5000, 100);
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_batch_category_create (batch, "Locked", LEDGER_UNSET);
    ledger_result_t *result = ledger_client_submit (client, batch);
    pthread_join (thread, NULL);
    CHECK (locker.busy_seen >= 2);
    CHECK (result && ledger_result_status (result) == LEDGER_OK);
    CHECK (result && ledger_result_tries (result) >= 3);
    CHECK (result && !ledger_result_replayed (result));
    ledger_result_destroy (&result);
    sqlite3_close (locker.lock);
    CHECK_INT (harness_sql_int (harness_db_path (worker), "SELECT count (*) FROM category"), 1);
    ledger_batch_destroy (&batch);
    ledger_client_destroy (&client);
    CHECK_INT (harness_stop (&worker, false), 0);
}

static void
test_non_retryable_errors_return_at_once (void)
{
    harness_t *worker = harness_start (NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    ledger_client_t *client = s_client (harness_endpoint (worker), 5000, 5);
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_batch_category_create (batch, "Twice", LEDGER_UNSET);
    ledger_batch_category_create (batch, "Twice", LEDGER_UNSET);
    ledger_result_t *result = ledger_client_submit (client, batch);
    CHECK (result != NULL);
    if (result) {
        CHECK_INT (ledger_result_status (result), LEDGER_FAILED);
        CHECK_INT (ledger_result_tries (result), 1);
        CHECK_STR (ledger_result_error_class (result), "constraint");
        CHECK_INT (ledger_result_error_op (result), 1);
        CHECK_STR (ledger_result_error_field (result), "name");
        CHECK (!ledger_result_retryable (result));
        CHECK (strstr (ledger_result_describe (result), "failed: constraint at op 1 (name)") != NULL);
    }
    ledger_result_destroy (&result);
    ledger_batch_destroy (&batch);
    ledger_client_destroy (&client);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  Read, edit, write back with the version read: the first writer wins,
    the second gets conflict at once (never resent: the same batch cannot
    succeed), and succeeds after reading again. */
static void
test_stale_version_is_a_conflict (void)
{
    harness_t *worker = harness_start (NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    ledger_client_t *client = s_client (harness_endpoint (worker), 5000, 5);
    ledger_batch_t *batch = ledger_batch_new ();
    int food = ledger_batch_category_create (batch, "Food", LEDGER_UNSET);
    int txn = ledger_batch_txn_create (batch, -100, ledger_time_text ("2025-01-02T10:00:00Z"), "lunch", LEDGER_UNSET);
    ledger_batch_txn_get (batch, ledger_op (txn));
    ledger_batch_category_get (batch, ledger_op (food));
    ledger_result_t *result = ledger_client_submit (client, batch);
    ledger_batch_destroy (&batch);
    ledger_txn_t read;
    ledger_category_t category;
    CHECK (result && ledger_result_txn (result, 2, 0, &read) == 0 && ledger_result_category (result, 3, 0, &category) == 0);
    int64_t txn_id = ledger_result_id (result, 1), food_id = ledger_result_id (result, 0);
    CHECK_INT (read.version, 1);
    CHECK_INT (category.version, 1);
    ledger_result_destroy (&result);

    /*  Two edits of what was read at version 1: the second conflicts. */
    ledger_txn_change_t change = { .set_amount = true, .amount = -200, .category = LEDGER_UNSET, .expect_version = 1 };
    for (int edit = 0; edit < 2; edit++) {
        batch = ledger_batch_new ();
        ledger_batch_txn_update (batch, ledger_id (txn_id), &change);
        result = ledger_client_submit (client, batch);
        ledger_batch_destroy (&batch);
        CHECK (result != NULL);
        if (result && edit == 0)
            CHECK_INT (ledger_result_status (result), LEDGER_OK);
        if (result && edit == 1) {
            CHECK_INT (ledger_result_status (result), LEDGER_FAILED);
            CHECK_INT (ledger_result_tries (result), 1);
            CHECK_STR (ledger_result_error_class (result), "conflict");
            CHECK_STR (ledger_result_error_code (result), "VERSION_MISMATCH");
            CHECK_STR (ledger_result_error_field (result), "expect_version");
            CHECK (!ledger_result_retryable (result));
        }
        ledger_result_destroy (&result);
    }
    batch = ledger_batch_new ();
    ledger_batch_txn_delete_if (batch, ledger_id (txn_id), 1);
    ledger_batch_category_update_if (batch, ledger_id (food_id), "Meals", LEDGER_UNSET, 1);
    result = ledger_client_submit (client, batch);
    ledger_batch_destroy (&batch);
    CHECK (result && ledger_result_status (result) == LEDGER_FAILED);
    CHECK_STR (result? ledger_result_error_class (result): NULL, "conflict");
    CHECK_INT (result? ledger_result_error_op (result): -2, 0);
    ledger_result_destroy (&result);

    /*  Read again: version 2, and the delete at that version goes through. */
    batch = ledger_batch_new ();
    ledger_batch_txn_get (batch, ledger_id (txn_id));
    result = ledger_client_submit (client, batch);
    ledger_batch_destroy (&batch);
    CHECK (result && ledger_result_txn (result, 0, 0, &read) == 0);
    CHECK_INT (read.version, 2);
    CHECK_INT (read.amount, -200);
    ledger_result_destroy (&result);
    batch = ledger_batch_new ();
    ledger_batch_txn_delete_if (batch, ledger_id (txn_id), 2);
    ledger_batch_category_delete_if (batch, ledger_id (food_id), 1);
    result = ledger_client_submit (client, batch);
    ledger_batch_destroy (&batch);
    CHECK (result && ledger_result_status (result) == LEDGER_OK);
    ledger_result_destroy (&result);
    ledger_client_destroy (&client);
    CHECK_INT (harness_stop (&worker, false), 0);
}

static void
test_no_worker_means_outcome_unknown (void)
{
    /*  A port nothing listens on. (Not a ZeroMQ socket bound and closed:
        it closes in the background and may still take a connection.) */
    char *endpoint = harness_free_endpoint ();
    ledger_client_t *client = s_client (endpoint, 100, 2);
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_batch_category_create (batch, "Nowhere", LEDGER_UNSET);
    int64_t start = zclock_mono ();
    ledger_result_t *result = ledger_client_submit (client, batch);
    CHECK (zclock_mono () - start < 5000);
    CHECK (result && ledger_result_status (result) == LEDGER_UNKNOWN);
    if (result) {
        /*  A refused connection is retried soon, without counting a try,
            for as long as the tries would have waited: 3 x 100 ms. */
        CHECK (ledger_result_tries (result) > 3);
        const char *text = ledger_result_describe (result);
        CHECK (text && strstr (text, "outcome unknown after ") == text);
        CHECK (text && strstr (text, " tries: nothing answers at tcp://127.0.0.1:") != NULL);
        CHECK (text && strstr (text, "(connection refused)") != NULL);
        CHECK (zclock_mono () - start >= 300);
        char *json = ledger_result_json (result);
        CHECK (json && strstr (json, "\"unknown\":true") != NULL);
        free (json);
    }
    ledger_result_destroy (&result);
    ledger_batch_destroy (&batch);
    ledger_client_destroy (&client);
    zstr_free (&endpoint);
}

/*  A cluster leader killed while a producer shakes hands with it: the
    connection is reset mid-handshake, then refused. That is a node gone,
    not a wrong key (which fails again on a live listener), so the try goes
    to the next endpoint at once instead of waiting out the timeout. Here
    the dying node is a plain TCP listener that accepts, resets the
    connection and stops listening; the next endpoint is a real worker. */
static void
test_node_dying_mid_handshake_is_left_at_once (void)
{
    harness_t *worker = harness_start (NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    int listener = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t size = sizeof (address);
    CHECK (listener >= 0 && bind (listener, (struct sockaddr *) &address, size) == 0 && listen (listener, 4) == 0
           && getsockname (listener, (struct sockaddr *) &address, &size) == 0);
    char endpoints [300];
    snprintf (endpoints, sizeof (endpoints), "tcp://127.0.0.1:%d,%s", ntohs (address.sin_port),
              harness_endpoint (worker));
    /*  A timeout far beyond what the test waits: only leaving at once passes. */
    ledger_client_t *client = s_client (endpoints, 30000, 2);
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_batch_category_create (batch, "Survivor", LEDGER_UNSET);
    int64_t start = zclock_mono ();
    CHECK (ledger_client_send (client, batch) > 0);
    ledger_batch_destroy (&batch);
    ledger_result_t *result = NULL;
    bool reset = false;
    while (!result && zclock_mono () - start < 15000) {
        if (!reset) {
            struct pollfd ready = { .fd = listener, .events = POLLIN };
            if (poll (&ready, 1, 0) == 1) {
                int connection = accept (listener, NULL, NULL);
                CHECK (connection >= 0);
                close (listener);
                struct linger hard = { .l_onoff = 1, .l_linger = 0 };
                setsockopt (connection, SOL_SOCKET, SO_LINGER, &hard, sizeof (hard));
                close (connection);    /* RST: the node died mid-handshake */
                reset = true;
            }
        }
        result = ledger_client_recv (client, 20);
    }
    CHECK (reset);
    CHECK (result && ledger_result_status (result) == LEDGER_OK);
    CHECK (zclock_mono () - start < 15000);
    ledger_result_destroy (&result);
    ledger_client_destroy (&client);
    if (!reset)
        close (listener);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  Two requests in flight to a worker that never answers, the second sent
    a little after the first: the first one's timeout closes the socket,
    so the second one's reply could never be read either. With no retries
    allowed it must not go out again: it ends as unknown (it may have
    committed), after one try, and the worker sees each request once. */
static void
test_abandoned_request_is_unknown_not_resent (void)
{
    zsock_t *silent = zsock_new_router ("tcp://127.0.0.1:*");
    CHECK (silent != NULL);
    if (!silent)
        return;
    char *endpoint = zsock_last_endpoint (silent);
    ledger_client_t *client = s_client (endpoint, 400, 0);
    zsock_set_rcvtimeo (silent, 2000);
    uint64_t ids [2];
    for (int n = 0; n < 2; n++) {
        ledger_batch_t *batch = ledger_batch_new ();
        ledger_batch_category_create (batch, n? "Second": "First", LEDGER_UNSET);
        ids [n] = ledger_client_send (client, batch);
        CHECK (ids [n] > 0);
        ledger_batch_destroy (&batch);
        /*  Pump until the worker has it, so that the deadlines differ. */
        int64_t start = zclock_mono ();
        zmsg_t *msg = NULL;
        while (!msg && zclock_mono () - start < 2000) {
            CHECK (ledger_client_recv (client, 20) == NULL);
            zsock_set_rcvtimeo (silent, 0);
            msg = zmsg_recv (silent);
        }
        CHECK (msg != NULL);
        zmsg_destroy (&msg);
        if (n == 0)
            CHECK (ledger_client_recv (client, 100) == NULL);
    }
    for (int n = 0; n < 2; n++) {
        ledger_result_t *result = ledger_client_recv (client, 5000);
        CHECK (result != NULL);
        if (!result)
            break;
        CHECK_INT (ledger_result_request_id (result), ids [n]);
        CHECK_INT (ledger_result_status (result), LEDGER_UNKNOWN);
        CHECK_INT (ledger_result_tries (result), 1);
        ledger_result_destroy (&result);
    }
    /*  Nothing more reaches the worker (a resend would come at once). */
    zsock_set_rcvtimeo (silent, 500);
    zmsg_t *again = zmsg_recv (silent);
    CHECK (again == NULL);
    zmsg_destroy (&again);
    ledger_client_destroy (&client);
    zstr_free (&endpoint);
    zsock_destroy (&silent);
}

/*  examples/producer.c, built against the installed library with
    pkg-config as a user would, and run against a real worker. */
static void
test_example_producer_builds_with_pkg_config (void)
{
    harness_t *worker = harness_start (NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    char script [2048];
    snprintf (script, sizeof (script),
              "set -e; prefix=%s/prefix; "
              "cmake --install %s --prefix $prefix >/dev/null; "
              "export PKG_CONFIG_PATH=$prefix/lib/pkgconfig:$prefix/lib/x86_64-linux-gnu/pkgconfig; "
              "cc " PRODUCER_CFLAGS " %s/examples/producer.c $(pkg-config --cflags --libs ledger) -Wl,-rpath,$prefix/lib "
              "-Wl,-rpath,$prefix/lib/x86_64-linux-gnu -o %s/producer; "
              "%s/producer %s > %s/out.txt",
              harness_dir (worker), LEDGER_BUILD_DIR, LEDGER_SOURCE_DIR, harness_dir (worker),
              harness_dir (worker), harness_endpoint (worker), harness_dir (worker));
    char *argv [] = { (char *) "sh", (char *) "-c", script, NULL };
    pid_t pid;
    int status = -1;
    CHECK_INT (posix_spawnp (&pid, "sh", NULL, NULL, argv, environ), 0);
    waitpid (pid, &status, 0);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    char path [400], output [200] = "";
    snprintf (path, sizeof (path), "%s/out.txt", harness_dir (worker));
    FILE *file = fopen (path, "r");
    if (file) {
        if (!fgets (output, sizeof (output), file))
            output [0] = 0;
        fclose (file);
    }
    CHECK_STR (output, "category 1, transactions 1 to 3\n");
    CHECK_INT (harness_stop (&worker, false), 0);
}

int
main (void)
{
    TEST_RUN (test_every_op_with_typed_results);
    TEST_RUN (test_clients_share_one_context);
    TEST_RUN (test_pipelining_1000_requests);
    TEST_RUN (test_worker_killed_and_restarted_mid_stream);
    TEST_RUN (test_replies_held_past_the_timeout);
    TEST_RUN (test_busy_is_retried_until_it_succeeds);
    TEST_RUN (test_non_retryable_errors_return_at_once);
    TEST_RUN (test_stale_version_is_a_conflict);
    TEST_RUN (test_no_worker_means_outcome_unknown);
    TEST_RUN (test_abandoned_request_is_unknown_not_resent);
    TEST_RUN (test_node_dying_mid_handshake_is_left_at_once);
    TEST_RUN (test_example_producer_builds_with_pkg_config);
    return TEST_DONE ();
}
