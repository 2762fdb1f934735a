/*  Integration: ledgerd and its database file (issue #13) -- a schema
    version it does not know and a file it may not write stop it at start
    (exit 1, with the reason in its log); a file deleted while it runs
    makes every write fail retryably instead of vanishing at restart; an
    empty file is said to start a new ledger; another program's database
    is refused and left byte for byte as it was; --sync full syncs the WAL at
    every commit and --sync normal does not. */

#include "proto_json.h"
#include "testing.h"
#include "harness_files.h"
#include "harness_json.h"
#include "harness_wire.h"
#include "worker_harness.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*  Read up to size - 1 bytes of the file at path into text. */
static void
s_read_file (const char *path, char *text, size_t size)
{
    text [0] = 0;
    int fd = open (path, O_RDONLY);
    if (fd < 0)
        return;
    ssize_t got = read (fd, text, size - 1);
    text [got > 0? got: 0] = 0;
    close (fd);
}

/*  Run ledgerd on dir/ledger.db to its end (10 s at most, then kill it),
    as nobody if as_nobody and this process is root. Returns its exit
    status (-1 if killed or by a signal) and keeps what it printed in
    output. No SQLite connection may be open here across the fork. */
static int
s_run_ledgerd (const char *dir, bool as_nobody, char *output, size_t size)
{
    char db [300], endpoint [300], log [300];
    snprintf (db, sizeof (db), "%s/ledger.db", dir);
    snprintf (endpoint, sizeof (endpoint), "ipc://%s/ledgerd.sock", dir);
    snprintf (log, sizeof (log), "/tmp/ledgerd-storage-%d.log", (int) getpid ());
    fflush (NULL);
    pid_t pid = fork ();
    if (pid == 0) {
        int fd = open (log, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        dup2 (fd, 1);
        dup2 (fd, 2);
        if (as_nobody && geteuid () == 0 && (setgid (65534) || setuid (65534)))
            _exit (99);
        execl (LEDGERD_PATH, LEDGERD_PATH, "--db", db, "--bind", endpoint, (char *) NULL);
        _exit (98);
    }
    int status = -1;
    for (int waited = 0; waited < 1000; waited++) {
        if (waitpid (pid, &status, WNOHANG) == pid)
            break;
        if (waited == 999) {
            fprintf (stderr, "    ledgerd still runs after 10 s: killed\n");
            kill (pid, SIGKILL);
            waitpid (pid, &status, 0);
            status = -1;
        }
        usleep (10000);
    }
    s_read_file (log, output, size);
    unlink (log);
    fprintf (stderr, "%s", output);
    if (status != -1 && WIFSIGNALED (status))
        fprintf (stderr, "    ledgerd died by signal %d\n", WTERMSIG (status));
    return status != -1 && WIFEXITED (status)? WEXITSTATUS (status): -1;
}

static char *
s_new_dir (void)
{
    char *dir = strdup ("/tmp/ledgerd-storage-XXXXXX");
    if (!mkdtemp (dir))
        abort ();
    return dir;
}

static void
test_unknown_schema_version_exits (void)
{
    int versions [] = { -100, INT_MIN, -1 };
    for (size_t n = 0; n < sizeof (versions) / sizeof (versions [0]); n++) {
        char *dir = s_new_dir ();
        char db [300], sql [64];
        snprintf (db, sizeof (db), "%s/ledger.db", dir);
        snprintf (sql, sizeof (sql), "PRAGMA user_version = %d", versions [n]);
        sqlite3 *conn;
        CHECK_INT (sqlite3_open (db, &conn), SQLITE_OK);
        CHECK_INT (sqlite3_exec (conn, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close (conn);
        char output [8192];
        CHECK_INT (s_run_ledgerd (dir, false, output, sizeof (output)), 1);
        char expected [64];
        snprintf (expected, sizeof (expected), "has schema version %d, which no ledgerd writes", versions [n]);
        CHECK (strstr (output, expected) != NULL);
        CHECK_INT (harness_sql_int (db, "PRAGMA user_version"), versions [n]);
        harness_remove_dir (dir);
        free (dir);
    }
}

static void
test_read_only_database_exits (void)
{
    /*  A ledger a worker made and left. */
    harness_t *worker = harness_start (NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    char *dir = strdup (harness_dir (worker));
    CHECK_INT (harness_stop (&worker, true), 0);
    char db [300];
    snprintf (db, sizeof (db), "%s/ledger.db", dir);
    /*  Root writes any file: the worker runs as nobody, in a directory of
        its own, on a file it may only read. */
    chmod (dir, 0755);
    if (geteuid () == 0)
        CHECK_INT (chown (dir, 65534, 65534), 0);
    CHECK_INT (chmod (db, 0444), 0);
    char output [8192];
    CHECK_INT (s_run_ledgerd (dir, true, output, sizeof (output)), 1);
    char expected [400];
    snprintf (expected, sizeof (expected), "error database %s is read-only", db);
    CHECK (strstr (output, expected) != NULL);
    harness_remove_dir (dir);
    free (dir);
}

#define TXN(amount, key) "{\"v\":1,\"key\":\"" key "\",\"ops\":[{\"op\":\"txn.create\",\"amount\":" #amount "," \
                         "\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}"

static bool
s_log_says (const char *dir, const char *text)
{
    char path [300];
    snprintf (path, sizeof (path), "%s/ledgerd.log", dir);
    static char log [1 << 20];
    s_read_file (path, log, sizeof (log));
    return strstr (log, text) != NULL;
}

static void
test_deleted_database_is_not_written (void)
{
    harness_t *worker = harness_start (NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    char dir [256], db [300], name [320];
    snprintf (dir, sizeof (dir), "%s", harness_dir (worker));
    snprintf (db, sizeof (db), "%s", harness_db_path (worker));
    zsock_t *req = harness_req (worker);
    json_t *reply = harness_call (req, TXN (1, "before"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);

    unlink (db);
    snprintf (name, sizeof (name), "%s-wal", db);
    unlink (name);
    snprintf (name, sizeof (name), "%s-shm", db);
    unlink (name);
    for (int attempt = 0; attempt < 2; attempt++) {
        reply = harness_call (req, TXN (2, "after"));
        CHECK_INT (harness_bool (reply, "ok"), 0);
        CHECK_STR (harness_str (reply, "error.class"), "io");
        CHECK_STR (harness_str (reply, "error.code"), "DATABASE_MOVED");
        CHECK_INT (harness_bool (reply, "error.retryable"), 1);
        json_decref (reply);
    }
    reply = harness_call (req, "{\"v\":1,\"ops\":[{\"op\":\"sys.stats\"}]}");
    CHECK_INT (harness_int (reply, "results.0.stats.batches_failed.io"), 2);
    json_decref (reply);
    zsock_destroy (&req);
    CHECK_INT (harness_stop (&worker, true), 0);
    char expected [400];
    snprintf (expected, sizeof (expected), "error database %s was deleted or moved away while ledgerd had it open", db);
    CHECK (s_log_says (dir, expected));
    CHECK (s_log_says (dir, "DATABASE_MOVED"));

    /*  Restarted on the path: nothing from after the deletion is there, and
        the batch goes in when retried with its key. */
    worker = harness_start_in (dir, NULL);
    CHECK (worker != NULL);
    if (!worker) {
        harness_remove_dir (dir);
        return;
    }
    snprintf (expected, sizeof (expected), "info  database %s does not exist: creating a new database", db);
    CHECK (s_log_says (dir, expected));
    CHECK_INT (harness_sql_int (db, "SELECT count (*) FROM txn"), 0);
    CHECK_INT (harness_sql_int (db, "SELECT count (*) FROM idempotency"), 0);
    req = harness_req (worker);
    reply = harness_call (req, TXN (2, "after"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK (harness_get (reply, "replayed") == NULL);
    json_decref (reply);
    zsock_destroy (&req);
    CHECK_INT (harness_stop (&worker, false), 0);
    harness_remove_dir (dir);
}

static void
test_empty_database_is_logged (void)
{
    char *dir = s_new_dir ();
    char db [300];
    snprintf (db, sizeof (db), "%s/ledger.db", dir);
    int fd = open (db, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK (fd >= 0);
    close (fd);
    harness_t *worker = harness_start_in (dir, NULL);
    CHECK (worker != NULL);
    if (worker) {
        char expected [400];
        snprintf (expected, sizeof (expected), "warn  database %s is empty: starting a new ledger", db);
        CHECK (s_log_says (dir, expected));
        CHECK_INT (harness_stop (&worker, false), 0);
    }
    harness_remove_dir (dir);
    free (dir);
}

/*  The whole file at path, malloc'ed, with its size in *size_p; NULL if
    it cannot be read. */
static char *
s_file_bytes (const char *path, size_t *size_p)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    char *bytes = malloc (1 << 20);
    *size_p = bytes? fread (bytes, 1, 1 << 20, file): 0;
    fclose (file);
    return bytes;
}

/*  Whether path + suffix exists. */
static bool
s_exists (const char *path, const char *suffix)
{
    char name [400];
    snprintf (name, sizeof (name), "%s%s", path, suffix);
    return access (name, F_OK) == 0;
}

/*  Another program's database is refused at start and left as it was
    found: the same bytes, no WAL switched on, nothing beside it. Also one
    that happens to hold a table named category (which the migration
    would trip on only after switching the file to WAL), one with a
    user_version of its own, and one with tables of ledgerd's names but
    no version (no ledgerd writes those without the version). */
static void
test_foreign_database_is_left_alone (void)
{
    static const char *const schemas [] = {
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER); INSERT INTO invoices VALUES (1, 100);",
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY); CREATE TABLE category (id INTEGER PRIMARY KEY, label TEXT);",
        "CREATE TABLE invoices (id INTEGER PRIMARY KEY); PRAGMA user_version = 1;",
        "CREATE TABLE category (id INTEGER); CREATE TABLE txn (id INTEGER); CREATE TABLE idempotency (key BLOB);",
        "CREATE VIEW answer AS SELECT 42;",
    };
    for (size_t n = 0; n < sizeof (schemas) / sizeof (schemas [0]); n++) {
        char *dir = s_new_dir ();
        char db [300];
        snprintf (db, sizeof (db), "%s/ledger.db", dir);
        sqlite3 *conn;
        CHECK_INT (sqlite3_open (db, &conn), SQLITE_OK);
        CHECK_INT (sqlite3_exec (conn, schemas [n], NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close (conn);
        size_t size_before = 0, size_after = 0;
        char *before = s_file_bytes (db, &size_before);
        CHECK (before != NULL && size_before > 0);

        char output [8192];
        CHECK_INT (s_run_ledgerd (dir, false, output, sizeof (output)), 1);
        char expected [400];
        snprintf (expected, sizeof (expected), "database %s: not a ledgerd database", db);
        CHECK (strstr (output, expected) != NULL);
        char *after = s_file_bytes (db, &size_after);
        CHECK (after != NULL);
        CHECK_INT (size_after, size_before);
        CHECK (before && after && size_after == size_before && memcmp (before, after, size_before) == 0);
        CHECK (!s_exists (db, "-wal"));
        CHECK (!s_exists (db, "-shm"));
        CHECK (!s_exists (db, "-journal"));
        free (before);
        free (after);
        harness_remove_dir (dir);
        free (dir);
    }
}

/*  The size of the file at path, or -1. */
static long long
s_file_size (const char *path)
{
    struct stat st;
    return stat (path, &st) == 0? (long long) st.st_size: -1;
}

/*  Start ledgerd with --sync value and fsync_counter preloaded; run
    commits batches that each commit alone; return how many fsyncs it made
    while they ran, or -1. */
static long long
s_syncs_for_commits (const char *value, int commits)
{
    char count_file [] = "/tmp/ledgerd-fsyncs-XXXXXX";
    int fd = mkstemp (count_file);
    if (fd < 0)
        abort ();
    close (fd);
    /*  ASan wants its runtime first among the libraries; this one, which
        only counts, may come before it. */
    const char *asan = getenv ("ASAN_OPTIONS");
    char *asan_saved = asan? strdup (asan): NULL;
    char asan_options [512];
    snprintf (asan_options, sizeof (asan_options), "%s%sverify_asan_link_order=0",
              asan? asan: "", asan && *asan? ":": "");
    setenv ("ASAN_OPTIONS", asan_options, 1);
    setenv ("LD_PRELOAD", FSYNC_COUNTER_PATH, 1);
    setenv ("LEDGER_FSYNC_COUNT_FILE", count_file, 1);
    harness_t *worker = harness_start ("--sync", value, NULL);
    unsetenv ("LD_PRELOAD");
    unsetenv ("LEDGER_FSYNC_COUNT_FILE");
    if (asan_saved)
        setenv ("ASAN_OPTIONS", asan_saved, 1);
    else
        unsetenv ("ASAN_OPTIONS");
    free (asan_saved);
    CHECK (worker != NULL);
    long long syncs = -1;
    if (worker) {
        zsock_t *req = harness_req (worker);
        long long before = s_file_size (count_file);
        int ok = 0;
        for (int n = 0; n < commits; n++) {
            json_t *reply = harness_callf (req, "{\"v\":1,\"ops\":[{\"op\":\"txn.create\",\"amount\":%d,"
                                                "\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}", n);
            ok += harness_bool (reply, "ok") == 1;
            json_decref (reply);
        }
        CHECK_INT (ok, commits);
        syncs = s_file_size (count_file) - before;
        zsock_destroy (&req);
        CHECK_INT (harness_stop (&worker, false), 0);
    }
    unlink (count_file);
    return syncs;
}

static void
test_sync_setting_reaches_the_writer (void)
{
    /*  full: SQLite syncs the WAL at every commit. */
    long long syncs = s_syncs_for_commits ("full", 20);
    fprintf (stderr, "    --sync full: %lld fsyncs for 20 commits\n", syncs);
    CHECK (syncs >= 20);
    /*  normal: only at a checkpoint, and 20 small commits make none. */
    syncs = s_syncs_for_commits ("normal", 20);
    fprintf (stderr, "    --sync normal: %lld fsyncs for 20 commits\n", syncs);
    CHECK_INT (syncs, 0);
}

int
main (void)
{
    TEST_RUN (test_unknown_schema_version_exits);
    TEST_RUN (test_read_only_database_exits);
    TEST_RUN (test_deleted_database_is_not_written);
    TEST_RUN (test_empty_database_is_logged);
    TEST_RUN (test_foreign_database_is_left_alone);
    TEST_RUN (test_sync_setting_reaches_the_writer);
    return TEST_DONE ();
}
