/*  Unit tests for the store and its database file (issue #13): schema
    versions this build does not know, a read-only file, a file deleted or
    replaced while the writer has it open, an empty file, and the log lines
    storage failures and checkpoints leave. Faults come from faulty_vfs;
    log lines are read from stderr, redirected to a file around the call. */

#include "faulty_vfs.h"
#include "proto_json.h"
#include "proto_request.h"
#include "store.h"
#include "store_internal.h"
#include "testing.h"
#include "harness_json.h"
#include "harness_files.h"

#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char s_dir [64];
static char s_path [128];
static stats_t s_stats;
static store_t *s_store;

/*  A new directory for each test; the database is not created yet. */
static void
s_new_dir (void)
{
    if (harness_make_dir (s_dir, sizeof (s_dir), "ledger-files"))
        abort ();
    snprintf (s_path, sizeof (s_path), "%s/ledger.db", s_dir);
    stats_init (&s_stats);
}

static store_t *
s_store_new (char *errbuf, size_t errlen)
{
    store_options_t options = { .sync_full = true, .busy_timeout_ms = 1000, .dedup_ttl_s = 3600 };
    return store_new (s_path, &options, &s_stats, errbuf, errlen);
}

/*  Open the test database, or abort: the test cannot go on without it. */
static void
s_open (void)
{
    char errbuf [256];
    s_store = s_store_new (errbuf, sizeof (errbuf));
    if (!s_store) {
        fprintf (stderr, "store_new: %s\n", errbuf);
        abort ();
    }
}

static void
s_close (void)
{
    store_destroy (&s_store);
    harness_remove_dir (s_dir);
}

/*  A request from JSON text, with its body (freed with it). */
typedef struct {
    char *body;
    proto_request_t *request;
} s_request_t;

static s_request_t
s_request (const char *json_text)
{
    s_request_t self = { NULL, NULL };
    json_t *json = json_loads (json_text, 0, NULL);
    size_t size;
    if (!json || proto_json_to_msgpack (json, &self.body, &size, NULL, 0))
        abort ();
    json_decref (json);
    self.request = proto_request_new (self.body, size, 10000);
    if (!self.request || proto_error_is_set (&self.request->error))
        abort ();
    return self;
}

static void
s_request_free (s_request_t *self)
{
    proto_request_destroy (&self->request);
    free (self->body);
}

/*  Run a group of JSON requests on s_store; return reply [n] as JSON in
    replies (the caller releases them). */
static void
s_run_group (const char **texts, json_t **replies, size_t count)
{
    s_request_t requests [count];
    const proto_request_t *decoded [count];
    msgpack_sbuffer outs [count];
    msgpack_sbuffer *out_ps [count];
    for (size_t n = 0; n < count; n++) {
        requests [n] = s_request (texts [n]);
        decoded [n] = requests [n].request;
        msgpack_sbuffer_init (&outs [n]);
        out_ps [n] = &outs [n];
    }
    store_run_group (s_store, decoded, out_ps, count);
    for (size_t n = 0; n < count; n++) {
        replies [n] = proto_json_from_msgpack (outs [n].data, outs [n].size, NULL, 0);
        if (!replies [n])
            replies [n] = json_object ();   /* keeps the checks failing, not crashing */
        msgpack_sbuffer_destroy (&outs [n]);
        s_request_free (&requests [n]);
    }
}

static json_t *
s_run (const char *json_text)
{
    json_t *reply;
    s_run_group (&json_text, &reply, 1);
    return reply;
}

/*  Run sql on the test database through a connection of its own; return
    the first column of the first row, or -1. */
static long long
s_sql (const char *sql)
{
    sqlite3 *db;
    long long value = -1;
    if (sqlite3_open (s_path, &db) != SQLITE_OK)
        abort ();
    sqlite3_busy_timeout (db, 5000);
    sqlite3_stmt *stmt;
    if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK) {
        int rc = sqlite3_step (stmt);
        if (rc == SQLITE_ROW)
            value = sqlite3_column_int64 (stmt, 0);
        else
        if (rc != SQLITE_DONE)
            fprintf (stderr, "%s: %s\n", sql, sqlite3_errmsg (db));
    }
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    return value;
}

/*  Redirecting stderr: every log line is one write(2) to descriptor 2. */
static char s_capture_path [64];
static int s_saved_stderr = -1;

static void
s_capture_start (void)
{
    snprintf (s_capture_path, sizeof (s_capture_path), "/tmp/ledger-stderr-XXXXXX");
    int fd = mkstemp (s_capture_path);
    if (fd < 0)
        abort ();
    fflush (stderr);
    s_saved_stderr = dup (STDERR_FILENO);
    dup2 (fd, STDERR_FILENO);
    close (fd);
}

/*  Stop redirecting; return what was written (the caller frees it), and
    show it on the real stderr too. */
static char *
s_capture_stop (void)
{
    fflush (stderr);
    dup2 (s_saved_stderr, STDERR_FILENO);
    close (s_saved_stderr);
    s_saved_stderr = -1;
    FILE *file = fopen (s_capture_path, "r");
    char *text = calloc (1, 65536);
    if (file && text) {
        size_t size = fread (text, 1, 65535, file);
        text [size] = 0;
    }
    if (file)
        fclose (file);
    unlink (s_capture_path);
    fputs (text? text: "", stderr);
    return text;
}

static int
s_occurrences (const char *text, const char *needle)
{
    int count = 0;
    for (const char *at = text? strstr (text, needle): NULL; at; at = strstr (at + 1, needle))
        count++;
    return count;
}

/*  Run fn (arg) in a child process and return its exit status, or -1 if
    it died by a signal: a crash stays in the child, and the child may drop
    privileges. No SQLite connection may be open here across the fork. */
static int
s_in_child (int (*fn) (void *), void *arg)
{
    fflush (NULL);
    pid_t pid = fork ();
    if (pid < 0)
        abort ();
    if (pid == 0)
        _exit (fn (arg));
    int status;
    while (waitpid (pid, &status, 0) < 0)
        ;
    if (WIFSIGNALED (status))
        fprintf (stderr, "    the child died by signal %d\n", WTERMSIG (status));
    return WIFEXITED (status)? WEXITSTATUS (status): -1;
}

/*  Child: store_new must refuse the database with a message that names
    its schema version. Exits 0 if it does. */
static int
s_child_refuses_version (void *arg)
{
    int version = *(int *) arg;
    char errbuf [256] = "";
    store_t *store = s_store_new (errbuf, sizeof (errbuf));
    char expected [64];
    snprintf (expected, sizeof (expected), "schema version %d", version);
    fprintf (stderr, "    user_version %d: %s\n", version, store? "store_new accepted it": errbuf);
    int refused = store == NULL && strstr (errbuf, expected) != NULL;
    store_destroy (&store);
    return refused? 0: 1;
}

static void
test_unknown_schema_version_is_refused (void)
{
    int versions [] = { -1, -8, -100, INT_MIN, store_schema_latest () + 1, INT_MAX };
    for (size_t n = 0; n < sizeof (versions) / sizeof (versions [0]); n++) {
        s_new_dir ();
        s_open ();
        json_decref (s_run ("{\"v\":1,\"ops\":[{\"op\":\"category.create\",\"name\":\"Kept\"}]}"));
        store_destroy (&s_store);
        char sql [64];
        snprintf (sql, sizeof (sql), "PRAGMA user_version = %d", versions [n]);
        s_sql (sql);
        CHECK_INT (s_sql ("PRAGMA user_version"), versions [n]);
        CHECK_INT (s_in_child (s_child_refuses_version, &versions [n]), 0);
        /*  Refused, not touched. */
        CHECK_INT (s_sql ("PRAGMA user_version"), versions [n]);
        CHECK_INT (s_sql ("SELECT count (*) FROM category"), 1);
        s_close ();
    }
}

/*  Child: as a user that may not write the file (nobody, when the test
    runs as root, who may write anything), store_new must refuse it.
    Exits 0 if it does. */
static int
s_child_refuses_read_only (void *arg)
{
    (void) arg;
    if (geteuid () == 0 && (setgid (65534) || setuid (65534))) {
        perror ("cannot become nobody");
        return 2;
    }
    if (access (s_path, R_OK) || access (s_path, W_OK) == 0) {
        fprintf (stderr, "    %s should be readable, not writable, by uid %d\n", s_path, (int) geteuid ());
        return 3;
    }
    char errbuf [256] = "";
    store_t *store = s_store_new (errbuf, sizeof (errbuf));
    char expected [200];
    snprintf (expected, sizeof (expected), "database %s is read-only", s_path);
    fprintf (stderr, "    0444 file: %s\n", store? "store_new accepted it": errbuf);
    int refused = store == NULL && strstr (errbuf, expected) != NULL;
    store_destroy (&store);
    return refused? 0: 1;
}

static void
test_read_only_file_is_refused (void)
{
    s_new_dir ();
    s_open ();
    json_decref (s_run ("{\"v\":1,\"ops\":[{\"op\":\"category.create\",\"name\":\"Kept\"}]}"));
    store_destroy (&s_store);
    /*  The directory is the user's own (so SQLite can make -wal and -shm
        beside the file, as it would for an operator): only the file is
        read-only. */
    chmod (s_dir, 0755);
    if (geteuid () == 0)
        CHECK_INT (chown (s_dir, 65534, 65534), 0);
    CHECK_INT (chmod (s_path, 0444), 0);
    CHECK_INT (s_in_child (s_child_refuses_read_only, NULL), 0);
    CHECK_INT (s_sql ("SELECT count (*) FROM category"), 1);
    s_close ();
}

static void
test_read_only_errors_are_io (void)
{
    s_new_dir ();
    s_open ();
    int codes [] = { SQLITE_READONLY, SQLITE_READONLY_DBMOVED, SQLITE_READONLY_CANTLOCK };
    s_capture_start ();
    for (size_t n = 0; n < sizeof (codes) / sizeof (codes [0]); n++) {
        proto_error_t err = { .klass = PROTO_CLASS_NONE };
        store_error_from_sqlite (s_store, codes [n], -1, NULL, &err);
        CHECK_STR (proto_class_name (err.klass), "io");
        CHECK (proto_class_retryable (err.klass));
        CHECK_STR (err.code, store_rc_name (codes [n]));
    }
    char *log = s_capture_stop ();
    /*  Logged once: the other two are held back for 10 s. */
    CHECK_INT (s_occurrences (log, "storage failure on database"), 1);
    CHECK (strstr (log, " error ") != NULL);
    CHECK (strstr (log, "SQLITE_READONLY") != NULL);
    free (log);
    s_close ();
}

#define TXN(amount, key) "{\"v\":1,\"key\":\"" key "\",\"ops\":[{\"op\":\"txn.create\",\"amount\":" #amount "," \
                         "\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}"

/*  Check that reply is the DATABASE_MOVED error. */
static void
s_check_moved (json_t *reply)
{
    CHECK_INT (harness_bool (reply, "ok"), 0);
    CHECK_STR (harness_str (reply, "error.class"), "io");
    CHECK_STR (harness_str (reply, "error.code"), "DATABASE_MOVED");
    CHECK_INT (harness_bool (reply, "error.retryable"), 1);
    const char *message = harness_str (reply, "error.message");
    CHECK (message && strstr (message, s_path) != NULL);
    CHECK (harness_get (reply, "results") == NULL);
}

static void
s_unlink_database (void)
{
    char name [160];
    unlink (s_path);
    snprintf (name, sizeof (name), "%s-wal", s_path);
    unlink (name);
    snprintf (name, sizeof (name), "%s-shm", s_path);
    unlink (name);
}

static void
test_deleted_database_refuses_writes (void)
{
    s_new_dir ();
    s_open ();
    json_t *reply = s_run (TXN (1, "before"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);
    s_unlink_database ();

    s_capture_start ();
    reply = s_run (TXN (2, "after"));
    s_check_moved (reply);
    json_decref (reply);
    /*  A group: every batch gets the error. */
    const char *texts [] = { TXN (3, "after-3"), TXN (4, "after-4"),
                             "{\"v\":1,\"ops\":[{\"op\":\"txn.create\",\"amount\":5,\"occurred_at\":\"2025-01-01T00:00:00Z\"},"
                             "{\"op\":\"txn.create\",\"amount\":6,\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}" };
    json_t *replies [3];
    s_run_group (texts, replies, 3);
    for (int n = 0; n < 3; n++) {
        s_check_moved (replies [n]);
        json_decref (replies [n]);
    }
    /*  Refused before BEGIN: the file nobody will open again does not grow. */
    CHECK_INT (atomic_load (&s_stats.blocks [STATS_FRONTEND].write_transactions), 1);
    /*  A read alone still reads (from the file the writer has open). */
    reply = s_run ("{\"v\":1,\"ops\":[{\"op\":\"txn.get\",\"id\":1}]}");
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);
    char *log = s_capture_stop ();
    CHECK_INT (s_occurrences (log, "DATABASE_MOVED"), 1);     /* logged, once for 10 s */
    CHECK (strstr (log, " error ") != NULL);
    CHECK (strstr (log, s_path) != NULL);
    free (log);

    /*  After a restart on the path, nothing from after the deletion claims
        to be there, and the batch can be retried with its key. */
    store_destroy (&s_store);
    s_open ();
    CHECK_INT (s_sql ("SELECT count (*) FROM txn"), 0);
    CHECK_INT (s_sql ("SELECT count (*) FROM idempotency"), 0);
    reply = s_run (TXN (2, "after"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK (harness_get (reply, "replayed") == NULL);
    json_decref (reply);
    CHECK_INT (s_sql ("SELECT count (*) FROM txn WHERE amount = 2"), 1);
    s_close ();
}

/*  A commit hook that deletes the database while the group commits. */
static int
s_unlink_on_commit (void *arg)
{
    (void) arg;
    s_unlink_database ();
    return 0;
}

static void
test_database_deleted_during_a_group (void)
{
    s_new_dir ();
    s_open ();
    json_decref (s_run (TXN (1, "before")));
    /*  The store clears the commit hook after its COMMIT: this fires once. */
    sqlite3_commit_hook (store_db_sqlite_handle (s_store->db), s_unlink_on_commit, NULL);
    const char *texts [] = { TXN (2, "during-2"), TXN (3, "during-3") };
    json_t *replies [2];
    s_run_group (texts, replies, 2);
    for (int n = 0; n < 2; n++) {
        s_check_moved (replies [n]);
        json_decref (replies [n]);
    }
    CHECK_INT (atomic_load (&s_stats.blocks [STATS_FRONTEND].batches_ok), 1);
    store_destroy (&s_store);
    s_open ();
    CHECK_INT (s_sql ("SELECT count (*) FROM txn"), 0);
    s_close ();
}

static void
test_replaced_database_refuses_writes (void)
{
    s_new_dir ();
    s_open ();
    json_decref (s_run (TXN (1, "before")));
    /*  Another database moved into place (a restore, say). */
    char other [160];
    snprintf (other, sizeof (other), "%s/other.db", s_dir);
    sqlite3 *db;
    sqlite3_open (other, &db);
    sqlite3_exec (db, "CREATE TABLE t (x)", NULL, NULL, NULL);
    sqlite3_close (db);
    CHECK_INT (rename (other, s_path), 0);
    json_t *reply = s_run (TXN (2, "after"));
    s_check_moved (reply);
    CHECK (strstr (harness_str (reply, "error.message")? harness_str (reply, "error.message"): "", "replaced") != NULL);
    json_decref (reply);
    /*  Closing does not touch the new file at the path. */
    store_destroy (&s_store);
    CHECK_INT (s_sql ("SELECT count (*) FROM t"), 0);
    CHECK_INT (s_sql ("SELECT count (*) FROM sqlite_master WHERE name = 'txn'"), 0);
    s_close ();
}

static void
test_new_ledger_is_logged (void)
{
    s_new_dir ();
    s_capture_start ();
    s_open ();
    char *log = s_capture_stop ();
    CHECK (strstr (log, "does not exist: creating a new database") != NULL);
    CHECK (strstr (log, " info ") != NULL);
    free (log);
    json_decref (s_run (TXN (1, "one")));
    store_destroy (&s_store);

    /*  An existing ledger: nothing to say. */
    s_capture_start ();
    s_open ();
    log = s_capture_stop ();
    CHECK (strstr (log, "does not exist") == NULL);
    CHECK (strstr (log, "is empty") == NULL);
    free (log);
    store_destroy (&s_store);

    /*  Truncated to nothing: said, at warn. */
    CHECK_INT (truncate (s_path, 0), 0);
    s_capture_start ();
    s_open ();
    log = s_capture_stop ();
    char expected [200];
    snprintf (expected, sizeof (expected), "warn  database %s is empty: starting a new ledger", s_path);
    CHECK (strstr (log, expected) != NULL);
    free (log);
    CHECK_INT (s_sql ("SELECT count (*) FROM txn"), 0);
    s_close ();
}

static void
test_storage_failures_are_logged (void)
{
    int codes [] = { SQLITE_IOERR_WRITE, SQLITE_FULL };
    const char *names [] = { "SQLITE_IOERR", "SQLITE_FULL" };
    for (int n = 0; n < 2; n++) {
        s_new_dir ();
        s_open ();
        s_capture_start ();
        faulty_vfs_arm (1, codes [n], true);
        json_t *reply = s_run (TXN (1, "one"));
        CHECK_STR (harness_str (reply, "error.class"), "io");
        json_decref (reply);
        reply = s_run (TXN (2, "two"));
        CHECK_STR (harness_str (reply, "error.class"), "io");
        json_decref (reply);
        /*  Ten seconds later, the next one goes out with the count of
            those held back. */
        for (int topic = 0; topic < STORE_LOG_TOPICS; topic++)
            s_store->log_limits [topic].last_us -= STORE_LOG_EVERY_US;
        reply = s_run (TXN (3, "three"));
        CHECK_STR (harness_str (reply, "error.class"), "io");
        json_decref (reply);
        faulty_vfs_arm (0, SQLITE_OK, false);
        char *log = s_capture_stop ();
        char expected [200];
        snprintf (expected, sizeof (expected), " error storage failure on database %s: %s", s_path, names [n]);
        CHECK_INT (s_occurrences (log, expected), 2);
        CHECK (strstr (log, "more like it in the last 10 s were not logged") != NULL);
        free (log);
        s_close ();
    }
}

/*  One batch of 5000 txn.create with 900-byte descriptions: some 1300
    pages, so its commit takes the WAL past 1000 frames. */
static char *
s_big_batch_text (const char *key)
{
    size_t size = 5000 * 1100 + 200;
    char *text = malloc (size);
    char description [901];
    memset (description, 'x', 900);
    description [900] = 0;
    size_t at = (size_t) snprintf (text, size, "{\"v\":1,\"key\":\"%s\",\"ops\":[", key);
    for (int n = 0; n < 5000; n++)
        at += (size_t) snprintf (text + at, size - at, "%s{\"op\":\"txn.create\",\"amount\":%d,"
                                 "\"occurred_at\":\"2025-01-01T00:00:00Z\",\"description\":\"%s\"}",
                                 n? ",": "", n, description);
    snprintf (text + at, size - at, "]}");
    return text;
}

static long long
s_file_size (const char *suffix)
{
    char name [160];
    snprintf (name, sizeof (name), "%s%s", s_path, suffix);
    struct stat st;
    return stat (name, &st) == 0? (long long) st.st_size: -1;
}

static void
test_writer_checkpoints_the_wal (void)
{
    /*  The writer's WAL hook replaces SQLite's autocheckpoint: the WAL is
        reused once it passes 1000 frames, instead of growing. */
    s_new_dir ();
    s_open ();
    for (int round = 0; round < 3; round++) {
        char key [16];
        snprintf (key, sizeof (key), "big-%d", round);
        char *text = s_big_batch_text (key);
        json_t *reply = s_run (text);
        free (text);
        CHECK_INT (harness_bool (reply, "ok"), 1);
        json_decref (reply);
    }
    long long frames = (s_file_size ("-wal") - 32) / (4096 + 24);
    CHECK (frames > 1000);
    CHECK (frames < 2000);
    /*  At shutdown the WAL is checkpointed and truncated (and SQLite
        deletes it when the last connection closes). */
    s_capture_start ();
    store_destroy (&s_store);
    char *log = s_capture_stop ();
    CHECK (strstr (log, "checkpointed the WAL at shutdown") != NULL);
    free (log);
    CHECK_INT (s_file_size ("-wal"), -1);
    CHECK_INT (s_sql ("SELECT count (*) FROM txn"), 15000);
    s_close ();
}

/*  Run the big batch on a fresh database with the faulty VFS armed at
    fail_at (fail once). Returns whether the reply was ok; *fired tells
    whether the fault was hit, *log gets stderr meanwhile (if log). */
static bool
s_big_round (const s_request_t *big, uint64_t fail_at, uint64_t *calls_p, bool *fired_p, char **log_p)
{
    s_new_dir ();
    s_open ();
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    if (log_p)
        s_capture_start ();
    faulty_vfs_arm (fail_at, SQLITE_IOERR_WRITE, false);
    store_run (s_store, big->request, &out);
    *calls_p = faulty_vfs_calls ();
    *fired_p = faulty_vfs_failures () > 0;
    faulty_vfs_arm (0, SQLITE_OK, false);
    if (log_p)
        *log_p = s_capture_stop ();
    json_t *reply = proto_json_from_msgpack (out.data, out.size, NULL, 0);
    bool ok = harness_bool (reply, "ok") == 1;
    json_decref (reply);
    msgpack_sbuffer_destroy (&out);
    store_destroy (&s_store);
    if (ok)
        CHECK_INT (s_sql ("SELECT count (*) FROM txn"), 5000);
    harness_remove_dir (s_dir);
    return ok;
}

static void
test_failed_checkpoint_is_logged (void)
{
    char *text = s_big_batch_text ("big");
    s_request_t big = s_request (text);
    free (text);
    /*  The calls (writes, syncs) of the commit come first, then those of
        the checkpoint its WAL hook runs: the smallest fault point whose
        batch is still answered ok is the checkpoint's first call. */
    uint64_t calls, lowest_ok;
    bool fired;
    CHECK (s_big_round (&big, 0, &calls, &fired, NULL));
    uint64_t low = 1, high = calls + 1;
    while (low < high) {
        uint64_t mid = low + (high - low) / 2;
        uint64_t ignored;
        if (s_big_round (&big, mid, &ignored, &fired, NULL))
            high = mid;
        else
            low = mid + 1;
    }
    lowest_ok = low;
    char *log = NULL;
    CHECK (s_big_round (&big, lowest_ok, &calls, &fired, &log));
    CHECK (fired);              /* the fault hit the checkpoint, after the commit */
    CHECK (strstr (log? log: "", " error the WAL of database ") != NULL);
    CHECK (strstr (log? log: "", "could not be checkpointed: SQLITE_IOERR") != NULL);
    printf ("     %llu calls in all, the checkpoint's first is call %llu\n",
            (unsigned long long) calls, (unsigned long long) lowest_ok);
    free (log);
    s_request_free (&big);
}

static void
test_failed_checkpoint_at_shutdown_is_logged (void)
{
    s_new_dir ();
    s_open ();
    json_decref (s_run (TXN (1, "one")));
    s_capture_start ();
    faulty_vfs_arm (1, SQLITE_IOERR_WRITE, true);
    store_destroy (&s_store);
    faulty_vfs_arm (0, SQLITE_OK, false);
    char *log = s_capture_stop ();
    CHECK (strstr (log, " error the WAL could not be checkpointed at shutdown: ") != NULL);
    free (log);
    /*  The WAL stayed: the next open recovers the batch from it. */
    CHECK_INT (s_sql ("SELECT count (*) FROM txn"), 1);
    s_close ();
}

int
main (void)
{
    faulty_vfs_install ();
    TEST_RUN (test_unknown_schema_version_is_refused);
    TEST_RUN (test_read_only_file_is_refused);
    TEST_RUN (test_read_only_errors_are_io);
    TEST_RUN (test_deleted_database_refuses_writes);
    TEST_RUN (test_database_deleted_during_a_group);
    TEST_RUN (test_replaced_database_refuses_writes);
    TEST_RUN (test_new_ledger_is_logged);
    TEST_RUN (test_storage_failures_are_logged);
    TEST_RUN (test_writer_checkpoints_the_wal);
    TEST_RUN (test_failed_checkpoint_is_logged);
    TEST_RUN (test_failed_checkpoint_at_shutdown_is_logged);
    return TEST_DONE ();
}
