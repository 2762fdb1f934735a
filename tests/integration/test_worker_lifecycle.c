/*  Integration: ledgerd as a process -- command line and exit statuses,
    start-up failures, a lock held by another process, and a clean drain on
    SIGTERM/SIGINT with batches in flight. */

#include "proto_json.h"
#include "testing.h"
#include "harness_files.h"
#include "harness_json.h"
#include "harness_wire.h"
#include "worker_harness.h"

#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define OPS(...) "{\"v\":1,\"ops\":[" __VA_ARGS__ "]}"


static int
s_run_ledgerd (char *output, size_t size, const char *const *args)
{
    return harness_run (LEDGERD_PATH, output, size, args);
}

/*  As s_run_ledgerd, but as user nobody if this process is root. */
static int
s_run_ledgerd_as_nobody (char *output, size_t size, const char *const *args)
{
    char log [] = "/tmp/ledgerd-cli-XXXXXX";
    int fd = mkstemp (log);
    char *argv [32] = { (char *) LEDGERD_PATH };
    for (int argc = 1; argc < 31 && (argv [argc] = (char *) args [argc - 1]); argc++)
        ;
    fflush (NULL);
    pid_t pid = fork ();
    if (pid == 0) {
        dup2 (fd, 1);
        dup2 (fd, 2);
        if (geteuid () == 0 && (setgid (65534) || setuid (65534)))
            _exit (99);
        execv (LEDGERD_PATH, argv);
        _exit (98);
    }
    int status = -1;
    if (pid > 0)
        harness_wait_bounded (pid, &status);
    ssize_t got = pread (fd, output, size - 1, 0);
    output [got > 0? got: 0] = 0;
    close (fd);
    unlink (log);
    return WIFEXITED (status)? WEXITSTATUS (status): -1;
}

/*  True if path names no file. */
static bool
s_gone (const char *path)
{
    struct stat st;
    return stat (path, &st) != 0;
}

static void
test_command_line_errors (void)
{
    char output [4096];
    static const char *const bad [] [10] = {
        { "--bogus", NULL },
        /*  Cluster mode: every bad combination is a usage error. */
        { "--cluster-bind", "127.0.0.1:9001", NULL },                      /* no --cluster-id */
        { "--cluster-id", "1", NULL },                                       /* no bind, no data dir */
        { "--cluster-id", "1", "--cluster-bind", "127.0.0.1:9001", NULL },   /* no data dir */
        { "--cluster-id", "0", "--cluster-bind", "127.0.0.1:9001", "--data-dir", "/tmp/x", NULL },
        { "--cluster-id", "2", "--cluster-bind", "127.0.0.1:9001", "--data-dir", "/tmp/x", NULL },  /* no join */
        { "--cluster-id", "1", "--cluster-bind", "127.0.0.1:9001", "--data-dir", "/tmp/x",
          "--cluster-join", "127.0.0.1:9002", NULL },                        /* node 1 founds */
        { "--cluster-id", "1", "--cluster-bind", "10.1.2.3:9001", "--data-dir", "/tmp/x", NULL },  /* not loopback */
        { "--cluster-id", "1", "--cluster-bind", "node1:9001", "--data-dir", "/tmp/x", NULL },     /* not IPv4 */
        { "--cluster-id", "1", "--cluster-bind", "127.0.0.1:9001", "--data-dir", "/tmp/x",
          "--db", "x.db", NULL },                                            /* --db in cluster mode */
        { "--sync", "sometimes", NULL },
        { "--max-ops", "0", NULL },
        { "--max-ops", "12abc", NULL },
        { "--max-queue", "-1", NULL },
        { "--busy-timeout-ms", "99999999999999", NULL },
        { "--log-level", "loud", NULL },
        { "--reader-nice", "20", NULL },
        { "--db", NULL },
        { "stray", NULL },
    };
    for (size_t n = 0; n < sizeof (bad) / sizeof (bad [0]); n++) {
        CHECK_INT (s_run_ledgerd (output, sizeof (output), bad [n]), 2);
        CHECK (strstr (output, "ledgerd: ") == output);     /* one line saying what is wrong */
        CHECK (strstr (output, "; see ledgerd --help\n") != NULL);
        CHECK (strchr (output, '\n') == output + strlen (output) - 1);
        CHECK (strstr (output, "usage: ledgerd") == NULL);
    }
    static const char *const version [] = { "--version", NULL };
    CHECK_INT (s_run_ledgerd (output, sizeof (output), version), 0);
    CHECK (strstr (output, "ledgerd " LEDGER_VERSION) != NULL);
    static const char *const help [] = { "--help", NULL };
    CHECK_INT (s_run_ledgerd (output, sizeof (output), help), 0);
    CHECK (strstr (output, "--max-queue") != NULL);
}

static void
test_start_up_failures (void)
{
    char output [4096];
    /*  A database that cannot be opened. */
    static const char *const no_dir [] = { "--db", "/nonexistent-dir/x/ledger.db", "--bind", "tcp://127.0.0.1:1", NULL };
    CHECK_INT (s_run_ledgerd (output, sizeof (output), no_dir), 1);
    CHECK (strstr (output, "cannot open database") != NULL);
    CHECK (strstr (output, "(directory /nonexistent-dir/x does not exist)") != NULL);

    /*  An endpoint that cannot be bound (in use by a running worker, or nonsense). */
    harness_t *worker = harness_start (NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    char db [200];
    snprintf (db, sizeof (db), "%s/other.db", harness_dir (worker));
    const char *const taken [] = { "--db", db, "--bind", harness_endpoint (worker), NULL };
    CHECK_INT (s_run_ledgerd (output, sizeof (output), taken), 1);
    CHECK (strstr (output, "cannot bind") != NULL);
    const char *const nonsense [] = { "--db", db, "--bind", "carrier-pigeon://roof", NULL };
    CHECK_INT (s_run_ledgerd (output, sizeof (output), nonsense), 1);
    CHECK (strstr (output, "cannot bind") != NULL);

    /*  A database whose schema is newer than this build. */
    sqlite3 *handle;
    sqlite3_open (db, &handle);
    sqlite3_exec (handle, "PRAGMA user_version = 999", NULL, NULL, NULL);
    sqlite3_close (handle);
    const char *const future [] = { "--db", db, "--bind", "tcp://127.0.0.1:0", NULL };
    CHECK_INT (s_run_ledgerd (output, sizeof (output), future), 1);
    CHECK (strstr (output, "newer than this build") != NULL);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  The worker's log, read whole. */
static char *
s_read_log (harness_t *worker)
{
    char path [300];
    snprintf (path, sizeof (path), "%s/ledgerd.log", harness_dir (worker));
    FILE *file = fopen (path, "r");
    char *text = calloc (1, 65536);
    if (file) {
        size_t size = fread (text, 1, 65535, file);
        text [size] = 0;
        fclose (file);
    }
    return text;
}

static void
test_start_up_log (void)
{
    harness_t *worker = harness_start (NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    char *log = s_read_log (worker);
    char expect [400];
    snprintf (expect, sizeof (expect), "info  listening on %s\n", harness_endpoint (worker));
    CHECK (strstr (log, expect) != NULL);
    snprintf (expect, sizeof (expect), "database %s, schema version %lld, sync full", harness_db_path (worker),
              harness_sql_int (harness_db_path (worker), "PRAGMA user_version"));
    CHECK (strstr (log, expect) != NULL);
    /*  Each line starts with a UTC timestamp and the level. */
    const char *line = strstr (log, "info  listening");
    CHECK (line && line - log >= 25 && line [-2] == 'Z' && line [-1] == ' ');
    free (log);
    CHECK_INT (harness_stop (&worker, false), 0);
    /*  --log-level error keeps the info lines out. */
    worker = harness_start ("--log-level", "error", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    log = s_read_log (worker);
    CHECK (strstr (log, "listening on") == NULL);
    free (log);
    CHECK_INT (harness_stop (&worker, false), 0);
}

static void
test_second_signal_exits_at_once (void)
{
    harness_t *worker = harness_start ("--busy-timeout-ms", "60000", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    /*  The writer waits for a lock someone else holds, so the drain that
        the first SIGTERM starts cannot finish... */
    sqlite3 *other;
    sqlite3_open (harness_db_path (worker), &other);
    CHECK_INT (sqlite3_exec (other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    zsock_t *dealer = harness_dealer (worker);
    json_t *json = json_loads ("{\"v\":1,\"ops\":[{\"op\":\"category.create\",\"name\":\"Stuck\"}]}", 0, NULL);
    char *body;
    size_t size;
    proto_json_to_msgpack (json, &body, &size, NULL, 0);
    json_decref (json);
    zmq_send (zsock_resolve (dealer), body, size, 0);
    free (body);
    /*  Garbage right behind it is answered by the front end at once; its
        reply proves the stuck write was taken (one connection keeps order). */
    zmq_send (zsock_resolve (dealer), "\xc1", 1, 0);
    zmsg_t *msg = zmsg_recv (dealer);
    CHECK (msg != NULL);
    zmsg_destroy (&msg);
    harness_signal (worker, SIGTERM);
    CHECK_INT (harness_wait (worker, 500), -1);
    CHECK (harness_alive (worker));             /* still draining */
    /*  ...and the second signal ends it at once. */
    harness_signal (worker, SIGTERM);
    int64_t start = zclock_mono ();
    harness_wait (worker, 5000);
    CHECK (!harness_alive (worker));
    CHECK (zclock_mono () - start < 2000);
    sqlite3_exec (other, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close (other);
    /*  Nothing of the unfinished batch is in the database. */
    CHECK_INT (harness_sql_int (harness_db_path (worker), "SELECT count (*) FROM category"), 0);
    zsock_destroy (&dealer);
    harness_stop (&worker, false);
}

static void
test_idempotency_keys_expire_after_the_ttl (void)
{
    harness_t *worker = harness_start ("--dedup-ttl-s", "60", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    char dir [256], endpoint [128], db [300];
    snprintf (dir, sizeof (dir), "%s", harness_dir (worker));
    snprintf (endpoint, sizeof (endpoint), "%s", harness_endpoint (worker));
    snprintf (db, sizeof (db), "%s", harness_db_path (worker));
    const char *batch = "{\"v\":1,\"key\":\"ttl-1\",\"ops\":[{\"op\":\"txn.create\",\"amount\":1,"
                        "\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}";
    zsock_t *req = harness_req (worker);
    json_decref (harness_call (req, batch));
    zsock_destroy (&req);
    CHECK_INT (harness_stop (&worker, true), 0);

    /*  Age the record past the TTL (rather than wait a minute); the worker
        prunes on start-up, after which the key is new again. */
    sqlite3 *handle;
    sqlite3_open (db, &handle);
    sqlite3_exec (handle, "UPDATE idempotency SET created_us = created_us - 61000000", NULL, NULL, NULL);
    sqlite3_close (handle);
    worker = harness_start_at (dir, endpoint, "--dedup-ttl-s", "60", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    req = harness_req (worker);
    json_t *reply = harness_call (req, batch);
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK (harness_get (reply, "replayed") == NULL);
    json_decref (reply);
    /*  Within the TTL it is a replay, and with --dedup-ttl-s 0 keys never expire. */
    reply = harness_call (req, batch);
    CHECK_INT (harness_bool (reply, "replayed"), 1);
    json_decref (reply);
    zsock_destroy (&req);
    CHECK_INT (harness_stop (&worker, true), 0);
    sqlite3_open (db, &handle);
    sqlite3_exec (handle, "UPDATE idempotency SET created_us = created_us - 1000000000000", NULL, NULL, NULL);
    sqlite3_close (handle);
    worker = harness_start_at (dir, endpoint, "--dedup-ttl-s", "0", NULL);
    CHECK (worker != NULL);
    if (worker) {
        req = harness_req (worker);
        reply = harness_call (req, batch);
        CHECK_INT (harness_bool (reply, "replayed"), 1);
        json_decref (reply);
        zsock_destroy (&req);
        CHECK_INT (harness_stop (&worker, false), 0);
    }
    CHECK_INT (harness_sql_int (db, "SELECT count (*) FROM txn"), 2);
    harness_remove_dir (dir);
}

static void
test_flag_equals_form_and_ipc (void)
{
    char endpoint [200];
    snprintf (endpoint, sizeof (endpoint), "--bind=ipc:///tmp/ledgerd-test-%d.ipc", (int) getpid ());
    harness_t *worker = harness_start ("--sync=normal", "--max-ops=2", endpoint, NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    zsock_t *ipc = zsock_new_req (endpoint + strlen ("--bind="));
    zsock_set_rcvtimeo (ipc, 5000);
    json_t *reply = harness_call (ipc, OPS ("{\"op\":\"sys.ping\"},{\"op\":\"sys.ping\"},{\"op\":\"sys.ping\"}"));
    CHECK_STR (harness_str (reply, "error.code"), "TOO_MANY_OPS");     /* --max-ops=2 took */
    json_decref (reply);
    zsock_destroy (&ipc);
    CHECK_INT (harness_stop (&worker, false), 0);
    CHECK (s_gone (endpoint + strlen ("--bind=ipc://")));     /* removed at exit */
}

static void
test_busy_while_another_process_holds_the_lock (void)
{
    harness_t *worker = harness_start ("--busy-timeout-ms", "300", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    zsock_t *req = harness_req (worker);
    sqlite3 *other;
    CHECK_INT (sqlite3_open (harness_db_path (worker), &other), SQLITE_OK);
    CHECK_INT (sqlite3_exec (other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

    int64_t start = zclock_mono ();
    json_t *reply = harness_call (req, "{\"v\":1,\"id\":1,\"key\":\"busy-1\",\"ops\":[{\"op\":\"category.create\",\"name\":\"Busy\"}]}");
    int64_t waited = zclock_mono () - start;
    CHECK_INT (harness_bool (reply, "ok"), 0);
    CHECK_STR (harness_str (reply, "error.class"), "busy");
    CHECK_INT (harness_bool (reply, "error.retryable"), 1);
    CHECK (waited >= 250);                      /* it waited for the lock first */
    json_decref (reply);

    /*  Reads go on while the lock is held. */
    reply = harness_call (req, OPS ("{\"op\":\"category.list\"},{\"op\":\"sys.ping\"}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);

    /*  Once the lock is released the same keyed retry runs, once. */
    sqlite3_exec (other, "ROLLBACK", NULL, NULL, NULL);
    reply = harness_call (req, "{\"v\":1,\"id\":2,\"key\":\"busy-1\",\"ops\":[{\"op\":\"category.create\",\"name\":\"Busy\"}]}");
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK (harness_get (reply, "replayed") == NULL);
    json_decref (reply);
    sqlite3_close (other);
    zsock_destroy (&req);
    CHECK_INT (harness_stop (&worker, false), 0);
}


/*  Send body (JSON text, encoded to msgpack) on the DEALER, without
    waiting for a reply. */
static void
s_send_json (zsock_t *dealer, const char *text)
{
    json_t *json = json_loads (text, 0, NULL);
    char *body = NULL;
    size_t size = 0;
    CHECK (json && proto_json_to_msgpack (json, &body, &size, NULL, 0) == 0);
    json_decref (json);
    zmq_send (zsock_resolve (dealer), body, size, 0);
    free (body);
}

/*  The drain test's traffic: WRITES keyed batches of OPS_PER creates (ids
    0..WRITES-1) and, every READ_EVERY writes, a read batch (ids from
    READ_ID) whose queries each scan the SEED rows for an amount none has,
    so that reads are still waiting for the readers when the signal comes. */
enum { WRITES = 300, OPS_PER = 50, READ_EVERY = 6, READS = WRITES / READ_EVERY, READ_ID = 100000,
       SEED = 20000, SEED_AMOUNT = 1000000, BARRIER_ID = -1 };

static void
s_send_traffic (zsock_t *dealer)
{
    char *text = malloc (20000);
    for (int n = 0; n < WRITES; n++) {
        size_t size = (size_t) sprintf (text, "{\"v\":1,\"id\":%d,\"key\":\"drain-%d\",\"ops\":[", n, n);
        for (int op = 0; op < OPS_PER; op++)
            size += (size_t) sprintf (text + size, "%s{\"op\":\"txn.create\",\"amount\":%d,\"occurred_at\":\"2025-01-01T00:00:00Z\"}",
                                      op? ",": "", n);
        sprintf (text + size, "]}");
        s_send_json (dealer, text);
        if (n % READ_EVERY == READ_EVERY - 1) {
            size = (size_t) sprintf (text, "{\"v\":1,\"id\":%d,\"ops\":[", READ_ID + n / READ_EVERY);
            for (int op = 0; op < 5; op++)
                size += (size_t) sprintf (text + size, "%s{\"op\":\"txn.query\",\"min_amount\":%d}", op? ",": "",
                                          SEED_AMOUNT + 1);
            sprintf (text + size, "]}");
            s_send_json (dealer, text);
        }
    }
    free (text);
    /*  Garbage last: the front end answers it at once, so its reply
        proves every batch before it on this connection was taken. */
    zmq_send (zsock_resolve (dealer), "\xc1", 1, 0);
}

/*  Seed rows for the reads to scan, in batches of 2000. */
static void
s_seed (harness_t *worker)
{
    zsock_t *req = harness_req (worker);
    char *text = malloc (200000);
    for (int batch = 0; batch < SEED / 2000; batch++) {
        size_t size = (size_t) sprintf (text, "{\"v\":1,\"ops\":[");
        for (int op = 0; op < 2000; op++)
            size += (size_t) sprintf (text + size, "%s{\"op\":\"txn.create\",\"amount\":%d,\"occurred_at\":\"2025-01-01T00:00:00Z\"}",
                                      op? ",": "", SEED_AMOUNT);
        sprintf (text + size, "]}");
        json_t *reply = harness_call (req, text);
        CHECK (reply && harness_bool (reply, "ok") == 1);
        json_decref (reply);
    }
    free (text);
    zsock_destroy (&req);
}

typedef struct {
    int answers [WRITES + READS];       /* replies to each batch */
    int barrier;                        /* replies to the garbage */
    int ok_writes, ok_reads, refused, other;
} s_tally_t;

/*  Count one reply; false once nothing came within the receive timeout. */
static bool
s_tally_next (zsock_t *dealer, s_tally_t *tally)
{
    zmsg_t *msg = zmsg_recv (dealer);
    if (!msg)
        return false;
    json_t *reply = proto_json_from_msgpack (zframe_data (zmsg_last (msg)), zframe_size (zmsg_last (msg)), NULL, 0);
    zmsg_destroy (&msg);
    long long id = harness_int (reply, "id");
    const char *klass = harness_str (reply, "error.class");
    if (id == LLONG_MIN && klass && strcmp (klass, "protocol") == 0)
        tally->barrier++;
    else
    if (id >= 0 && id < WRITES)
        tally->answers [id]++;
    else
    if (id >= READ_ID && id < READ_ID + READS)
        tally->answers [WRITES + id - READ_ID]++;
    else
        tally->other++;
    if (harness_bool (reply, "ok") == 1)
        *(id >= READ_ID? &tally->ok_reads: &tally->ok_writes) += 1;
    else
    /*  Not run: SHUTTING_DOWN, or (slow under valgrind) OVERLOADED
        after waiting past --max-wait-ms. Retryable, nothing applied. */
    if (id != LLONG_MIN && klass && strcmp (klass, "overloaded") == 0 && harness_bool (reply, "error.retryable") == 1)
        tally->refused++;
    else
    if (id != LLONG_MIN)
        tally->other++;
    json_decref (reply);
    return true;
}

/*  Send write and read batches pipelined; once the worker has taken them
    all (the barrier's reply is in), signal it while most still wait for
    the writer or the readers. Every batch must then be answered exactly
    once -- run (ok) or, not yet started, refused as retryable
    SHUTTING_DOWN -- before the worker exits 0, and exactly the writes
    answered ok must be in the database. One group per commit makes the
    writer's queue long. */
static void
s_drain_on (int signum)
{
    harness_t *worker = harness_start ("--sync", "normal", "--group-max", "1", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    s_seed (worker);
    zsock_t *dealer = harness_dealer (worker);
    zsock_set_rcvtimeo (dealer, 10000);
    s_send_traffic (dealer);
    s_tally_t tally = { .barrier = 0 };
    while (!tally.barrier && s_tally_next (dealer, &tally))
        ;
    CHECK_INT (tally.barrier, 1);
    int before = tally.ok_writes + tally.ok_reads + tally.refused;
    harness_signal (worker, signum);
    /*  Read until the worker has exited and nothing more is queued here. */
    zsock_set_rcvtimeo (dealer, 100);
    int64_t deadline = zclock_mono () + 15000;
    while (zclock_mono () < deadline)
        if (!s_tally_next (dealer, &tally) && !harness_alive (worker))
            break;
    CHECK_INT (harness_wait (worker, 10000), 0);
    int answered = 0, twice = 0;
    for (int n = 0; n < WRITES + READS; n++) {
        answered += tally.answers [n] > 0;
        twice += tally.answers [n] > 1;
    }
    CHECK_INT (answered, WRITES + READS);
    CHECK_INT (twice, 0);
    CHECK_INT (tally.other, 0);
    CHECK_INT (tally.ok_writes + tally.ok_reads + tally.refused, WRITES + READS);
    /*  Exactly the writes answered ok are in the database, each whole. */
    char db [300];
    snprintf (db, sizeof (db), "%s", harness_db_path (worker));
    CHECK_INT (harness_sql_int (db, "SELECT count (*) FROM txn"), (long long) tally.ok_writes * OPS_PER + SEED);
    CHECK_INT (harness_sql_int (db, "SELECT count (*) FROM (SELECT amount FROM txn GROUP BY amount"
                                    " HAVING count (*) NOT IN (50, 20000))"), 0);
    CHECK_INT (harness_sql_int (db, "SELECT count (*) FROM idempotency"), tally.ok_writes);
    printf ("     signal %d: %d of %d batches answered before it; in all %d writes and %d reads run, %d refused\n",
            signum, before, WRITES + READS, tally.ok_writes, tally.ok_reads, tally.refused);
    zsock_destroy (&dealer);
    harness_stop (&worker, false);
}

static void
test_sigterm_drains_batches_in_flight (void)
{
    s_drain_on (SIGTERM);
}

static void
test_sigint_drains_too (void)
{
    s_drain_on (SIGINT);
}

static void
test_readme_first_batch (void)
{
    harness_t *worker = harness_start (NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    char output [4096];
    const char *const args [] = { harness_endpoint (worker), NULL };
    CHECK_INT (harness_run (RAW_REQUEST_PATH, output, sizeof (output), args), 0);
    CHECK (strstr (output, "\"ok\"=>true") != NULL);
    CHECK (strstr (output, "\"results\"=>[{\"id\"=>1}, {\"id\"=>1}]") != NULL);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  SQLite's "unable to open database file" says why, from the directory. */
static void
test_unopenable_database_says_why (void)
{
    char dir [200], path [400], output [4096];
    CHECK_INT (harness_make_dir (dir, sizeof (dir), "ledgerd-open"), 0);
    snprintf (path, sizeof (path), "%s/file", dir);
    FILE *file = fopen (path, "w");
    CHECK (file != NULL);
    if (file)
        fclose (file);
    snprintf (path, sizeof (path), "%s/file/ledger.db", dir);
    const char *const under_file [] = { "--db", path, "--bind", "tcp://127.0.0.1:1", NULL };
    CHECK_INT (s_run_ledgerd (output, sizeof (output), under_file), 1);
    CHECK (strstr (output, "/file is not a directory)") != NULL);

    /*  Root may write anywhere: as root, the worker runs as nobody. */
    char locked [300];
    snprintf (locked, sizeof (locked), "%s/locked", dir);
    CHECK_INT (mkdir (locked, 0555), 0);
    CHECK_INT (chmod (dir, 0755), 0);
    snprintf (path, sizeof (path), "%s/ledger.db", locked);
    const char *const no_write [] = { "--db", path, "--bind", "tcp://127.0.0.1:1", NULL };
    CHECK_INT (s_run_ledgerd_as_nobody (output, sizeof (output), no_write), 1);
    CHECK (strstr (output, "(cannot create files in ") != NULL);
    CHECK (strstr (output, "/locked: Permission denied)") != NULL);
    harness_remove_dir (dir);
}

/*  A TCP port held by a socket of this process; returns the socket, and
    the endpoint in endpoint. */
static int
s_hold_port (char *endpoint, size_t size)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t length = sizeof (address);
    if (fd < 0 || bind (fd, (struct sockaddr *) &address, sizeof (address)) || listen (fd, 1)
    ||  getsockname (fd, (struct sockaddr *) &address, &length))
        return -1;
    snprintf (endpoint, size, "tcp://127.0.0.1:%d", ntohs (address.sin_port));
    return fd;
}

/*  A start that fails creates no database; an existing one stays. */
static void
test_failed_start_leaves_no_database (void)
{
    char dir [200], endpoint [64], db [300], output [4096];
    CHECK_INT (harness_make_dir (dir, sizeof (dir), "ledgerd-failed"), 0);
    int held = s_hold_port (endpoint, sizeof (endpoint));
    CHECK (held >= 0);
    snprintf (db, sizeof (db), "%s/new.db", dir);
    const char *const fresh [] = { "--db", db, "--bind", endpoint, NULL };
    CHECK_INT (s_run_ledgerd (output, sizeof (output), fresh), 1);
    CHECK (strstr (output, "cannot bind") != NULL);
    static const char *const suffixes [] = { "", "-wal", "-shm", "-journal" };
    for (size_t n = 0; n < sizeof (suffixes) / sizeof (suffixes [0]); n++) {
        char path [320];
        snprintf (path, sizeof (path), "%s%s", db, suffixes [n]);
        CHECK (s_gone (path));
    }

    /*  A ledger that was there before the failed start is still there. */
    harness_t *worker = harness_start_in (dir, NULL);
    CHECK (worker != NULL);
    if (worker) {
        zsock_t *req = harness_req (worker);
        json_t *reply = harness_call (req, OPS ("{\"op\":\"category.create\",\"name\":\"Kept\"}"));
        CHECK_INT (harness_bool (reply, "ok"), 1);
        json_decref (reply);
        zsock_destroy (&req);
        snprintf (db, sizeof (db), "%s", harness_db_path (worker));
        CHECK_INT (harness_stop (&worker, true), 0);
        const char *const existing [] = { "--db", db, "--bind", endpoint, NULL };
        CHECK_INT (s_run_ledgerd (output, sizeof (output), existing), 1);
        CHECK_INT (harness_sql_int (db, "SELECT count (*) FROM category WHERE name = 'Kept'"), 1);
    }
    close (held);
    harness_remove_dir (dir);
}

/*  A second worker on a live ipc:// endpoint exits 1; the first keeps it
    and removes its socket file when it stops. */
static void
test_ipc_endpoint_in_use_is_refused (void)
{
    char dir [200], other [200], endpoint [300], db [300], output [4096];
    CHECK_INT (harness_make_dir (dir, sizeof (dir), "ledgerd-ipc"), 0);
    CHECK_INT (harness_make_dir (other, sizeof (other), "ledgerd-ipc2"), 0);
    snprintf (endpoint, sizeof (endpoint), "ipc://%s/s.ipc", dir);
    harness_t *first = harness_start_at (dir, endpoint, NULL);
    CHECK (first != NULL);
    if (first) {
        snprintf (db, sizeof (db), "%s/b.db", other);
        const char *const second [] = { "--db", db, "--bind", endpoint, NULL };
        CHECK_INT (s_run_ledgerd (output, sizeof (output), second), 1);
        CHECK (strstr (output, "already in use (another process is listening)") != NULL);
        CHECK (s_gone (db));

        zsock_t *req = harness_connect (endpoint, ZMQ_REQ, 5000);
        json_t *reply = harness_call (req, OPS ("{\"op\":\"category.create\",\"name\":\"First\"}"));
        CHECK_INT (harness_bool (reply, "ok"), 1);
        json_decref (reply);
        zsock_destroy (&req);
        CHECK_INT (harness_sql_int (harness_db_path (first), "SELECT count (*) FROM category WHERE name = 'First'"), 1);
        CHECK_INT (harness_stop (&first, true), 0);
        CHECK (s_gone (endpoint + strlen ("ipc://")));
    }
    harness_remove_dir (other);
    harness_remove_dir (dir);
}

/*  A socket file nobody answers on, left by a worker that died, is taken
    over; a worker stopped by SIGTERM leaves no file. */
static void
test_stale_ipc_file_is_taken_over (void)
{
    char dir [200], endpoint [300];
    CHECK_INT (harness_make_dir (dir, sizeof (dir), "ledgerd-stale"), 0);
    snprintf (endpoint, sizeof (endpoint), "ipc://%s/s.ipc", dir);
    const char *path = endpoint + strlen ("ipc://");
    struct sockaddr_un address = { .sun_family = AF_UNIX };
    CHECK (strlen (path) < sizeof (address.sun_path));
    memcpy (address.sun_path, path, strlen (path));
    int fd = socket (AF_UNIX, SOCK_STREAM, 0);
    CHECK_INT (bind (fd, (struct sockaddr *) &address, sizeof (address)), 0);
    close (fd);                 /* the file stays, and nobody listens */
    CHECK (!s_gone (path));
    harness_t *worker = harness_start_at (dir, endpoint, NULL);
    CHECK (worker != NULL);
    if (worker) {
        CHECK (!s_gone (path));
        CHECK_INT (harness_stop (&worker, true), 0);
        CHECK (s_gone (path));
    }
    harness_remove_dir (dir);
}

int
main (void)
{
    TEST_RUN (test_readme_first_batch);
    TEST_RUN (test_command_line_errors);
    TEST_RUN (test_start_up_failures);
    TEST_RUN (test_start_up_log);
    TEST_RUN (test_flag_equals_form_and_ipc);
    TEST_RUN (test_unopenable_database_says_why);
    TEST_RUN (test_failed_start_leaves_no_database);
    TEST_RUN (test_ipc_endpoint_in_use_is_refused);
    TEST_RUN (test_stale_ipc_file_is_taken_over);
    TEST_RUN (test_second_signal_exits_at_once);
    TEST_RUN (test_idempotency_keys_expire_after_the_ttl);
    TEST_RUN (test_busy_while_another_process_holds_the_lock);
    TEST_RUN (test_sigterm_drains_batches_in_flight);
    TEST_RUN (test_sigint_drains_too);
    return TEST_DONE ();
}
