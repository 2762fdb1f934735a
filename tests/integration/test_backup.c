/*  Online backups against the real ledgerd and ledgerctl: a backup taken
    under concurrent keyed writes holds every batch acknowledged before it
    started and no batch in part, passes the integrity check and serves a
    worker; an interrupted backup (the worker killed, ledgerctl interrupted)
    leaves no file; the backup ops' errors (unknown, ended and expired
    tokens, a position past the end, too many snapshots, a batch that is
    not alone); snapshots are removed on end, expiry and worker exit; and
    `backup --verify` on a good, a damaged and a foreign file. */

#include "harness_files.h"
#include "ledger.h"
#include "testing.h"
#include "worker_harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef LEDGERCTL_PATH
#   error "define LEDGERCTL_PATH as the ledgerctl binary"
#endif

extern char **environ;

/* Rows per keyed batch of the producer: a batch is in a copy whole (all
   of them) or not at all. */
#define BATCH_ROWS 10

static void
s_sleep_ms (int ms)
{
    struct timespec pause = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep (&pause, NULL);
}

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static ledger_client_t *
s_client (harness_t *worker)
{
    ledger_client_t *client = ledger_client_new (harness_endpoint (worker));
    ledger_client_set_timeout (client, 10000);
    return client;
}

/*  Add rows transactions, 1000 a batch, with descriptions long enough to
    make a database of some megabytes. */
static void
s_seed (harness_t *worker, int rows)
{
    ledger_client_t *client = s_client (worker);
    for (int done = 0; done < rows; ) {
        ledger_batch_t *batch = ledger_batch_new ();
        for (int n = 0; n < 1000 && done < rows; n++, done++) {
            char description [200];
            snprintf (description, sizeof (description), "seed row %d: %0150d", done, done);
            ledger_batch_txn_create (batch, done, ledger_time_at ((int64_t) done * 1000000, 0), description,
                                     LEDGER_UNSET);
        }
        ledger_result_t *result = ledger_client_submit (client, batch);
        CHECK (result && ledger_result_status (result) == LEDGER_OK);
        ledger_result_destroy (&result);
        ledger_batch_destroy (&batch);
    }
    ledger_client_destroy (&client);
}

/*  Start ledgerctl with args (NULL-terminated, after the program name),
    its output into dir/ledgerctl.out and .err. Returns its pid, or -1. */
static pid_t
s_ledgerctl_start (const char *dir, const char *const *args)
{
    char out [300], err [300];
    snprintf (out, sizeof (out), "%s/ledgerctl.out", dir);
    snprintf (err, sizeof (err), "%s/ledgerctl.err", dir);
    char *argv [24] = { (char *) LEDGERCTL_PATH };
    int argc = 1;
    while (args [argc - 1] && argc < 23) {
        argv [argc] = (char *) args [argc - 1];
        argc++;
    }
    argv [argc] = NULL;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init (&actions);
    posix_spawn_file_actions_addopen (&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen (&actions, 1, out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen (&actions, 2, err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid = -1;
    int rc = posix_spawn (&pid, LEDGERCTL_PATH, &actions, NULL, argv, environ);
    posix_spawn_file_actions_destroy (&actions);
    CHECK_INT (rc, 0);
    return rc? -1: pid;
}

/*  Wait for the child; its raw wait status. */
static int
s_wait (pid_t pid)
{
    int status = -1;
    while (waitpid (pid, &status, 0) == -1 && errno == EINTR)
        ;
    return status;
}

/*  Run ledgerctl to the end: its exit status, or 128 + the signal. */
static int
s_ledgerctl (const char *dir, const char *const *args)
{
    pid_t pid = s_ledgerctl_start (dir, args);
    if (pid < 0)
        return -1;
    int status = s_wait (pid);
    return WIFEXITED (status)? WEXITSTATUS (status): 128 + WTERMSIG (status);
}

/*  The first line ledgerctl wrote on stream ("out" or "err") in dir. */
static void
s_ledgerctl_said (const char *dir, const char *stream, char *line, size_t size)
{
    char path [300];
    snprintf (path, sizeof (path), "%s/ledgerctl.%s", dir, stream);
    line [0] = 0;
    FILE *file = fopen (path, "r");
    if (file && !fgets (line, (int) size, file))
        line [0] = 0;
    if (file)
        fclose (file);
}

/*  How many entries of dir start with prefix. */
static int
s_count_files (const char *dir, const char *prefix)
{
    DIR *listing = opendir (dir);
    if (!listing)
        return -1;
    int count = 0;
    struct dirent *entry;
    while ((entry = readdir (listing)))
        count += strncmp (entry->d_name, prefix, strlen (prefix)) == 0;
    closedir (listing);
    return count;
}

static bool
s_exists (const char *path)
{
    struct stat info;
    return stat (path, &info) == 0;
}

/* --------------------------------------------------------------------
   A backup under concurrent keyed writes
   -------------------------------------------------------------------- */

typedef struct {
    harness_t *worker;
    atomic_int acked;           /* batches 0 .. acked - 1 are acknowledged */
    atomic_bool stop;
    atomic_int failures;
} producer_t;

/*  Keyed batches of BATCH_ROWS rows, one after the other, each described
    "batch k", until told to stop. */
static void *
s_produce (void *arg)
{
    producer_t *producer = arg;
    ledger_client_t *client = s_client (producer->worker);
    for (int k = 0; !atomic_load (&producer->stop); k++) {
        ledger_batch_t *batch = ledger_batch_new ();
        char text [64];
        snprintf (text, sizeof (text), "batch %d", k);
        for (int n = 0; n < BATCH_ROWS; n++)
            ledger_batch_txn_create (batch, k * 100 + n, ledger_time_at ((int64_t) k * 1000000, 0), text,
                                     LEDGER_UNSET);
        char key [64];
        snprintf (key, sizeof (key), "backup-test-%d", k);
        ledger_batch_set_key (batch, key);
        ledger_result_t *result = ledger_client_submit (client, batch);
        if (result && ledger_result_status (result) == LEDGER_OK)
            atomic_store (&producer->acked, k + 1);
        else {
            atomic_fetch_add (&producer->failures, 1);
            k--;                /* the same batch again, under its key */
        }
        ledger_result_destroy (&result);
        ledger_batch_destroy (&batch);
    }
    ledger_client_destroy (&client);
    return NULL;
}

static void
test_backup_under_writes (void)
{
    harness_t *worker = harness_start (NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    s_seed (worker, 30000);
    char out_dir [128];
    CHECK_INT (harness_make_dir (out_dir, sizeof (out_dir), "ledgerd-backup-out"), 0);
    char copy [300];
    snprintf (copy, sizeof (copy), "%s/copy.db", out_dir);

    producer_t producer = { .worker = worker };
    pthread_t thread;
    CHECK_INT (pthread_create (&thread, NULL, s_produce, &producer), 0);
    int64_t deadline = s_now_ms () + 20000;
    while (atomic_load (&producer.acked) < 20 && s_now_ms () < deadline)
        s_sleep_ms (1);
    int before = atomic_load (&producer.acked);
    CHECK (before >= 20);
    /*  Small chunks, so that the stream takes a while as writes go on. */
    const char *args [] = { "--endpoint", harness_endpoint (worker), "backup", copy, "--chunk-size", "65536",
                            NULL };
    int status = s_ledgerctl (out_dir, args);
    int after = atomic_load (&producer.acked);
    atomic_store (&producer.stop, true);
    pthread_join (thread, NULL);
    CHECK_INT (status, 0);
    char said [512];
    s_ledgerctl_said (out_dir, "out", said, sizeof (said));
    CHECK (strstr (said, "bytes, sha256 ") != NULL);
    if (status) {
        s_ledgerctl_said (out_dir, "err", said, sizeof (said));
        fprintf (stderr, "    ledgerctl: %s", said);
    }
    /*  Writes went on while the backup ran, without failing. */
    CHECK (after > before);
    CHECK_INT (atomic_load (&producer.failures), 0);
    CHECK_INT (s_count_files (out_dir, "copy.db.partial-"), 0);

    /*  The copy checks, with ledgerctl's own --verify. */
    const char *verify [] = { "backup", "--verify", copy, NULL };
    CHECK_INT (s_ledgerctl (out_dir, verify), 0);
    CHECK_INT (harness_sql_int (copy, "SELECT count (*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"), 0);
    /*  Every batch acknowledged before the backup began is in the copy,
        no batch is in it in part, and none answered after it ended. */
    char sql [300];
    snprintf (sql, sizeof (sql), "SELECT count (DISTINCT description) FROM txn WHERE description LIKE 'batch %%'"
              " AND CAST (substr (description, 7) AS INTEGER) < %d", before);
    CHECK_INT (harness_sql_int (copy, sql), before);
    CHECK_INT (harness_sql_int (copy, "SELECT count (*) FROM (SELECT description FROM txn WHERE description LIKE"
                                      " 'batch %' GROUP BY description HAVING count (*) <> 10)"), 0);
    long long batches = harness_sql_int (copy, "SELECT count (DISTINCT description) FROM txn"
                                               " WHERE description LIKE 'batch %'");
    CHECK (batches >= before && batches <= after + 1);
    long long rows = harness_sql_int (copy, "SELECT count (*) FROM txn");
    CHECK_INT (rows, 30000 + batches * BATCH_ROWS);
    CHECK_INT (harness_stop (&worker, false), 0);

    /*  The copy serves a worker, which answers with its rows. */
    char serve_dir [128];
    CHECK_INT (harness_make_dir (serve_dir, sizeof (serve_dir), "ledgerd-backup-serve"), 0);
    char db [300];
    snprintf (db, sizeof (db), "%s/ledger.db", serve_dir);
    CHECK_INT (rename (copy, db), 0);
    harness_t *restored = harness_start_in (serve_dir, NULL);
    CHECK (restored != NULL);
    if (restored) {
        ledger_client_t *client = s_client (restored);
        ledger_batch_t *batch = ledger_batch_new ();
        ledger_summary_t summary = { .by = LEDGER_BY_CATEGORY };
        ledger_batch_txn_summary (batch, &summary);
        ledger_query_t query = { .limit = 5 };
        ledger_batch_txn_query (batch, &query);
        ledger_result_t *result = ledger_client_submit (client, batch);
        CHECK (result && ledger_result_status (result) == LEDGER_OK);
        ledger_summary_row_t row = { 0 };
        CHECK_INT (ledger_result_summary_row (result, 0, 0, &row), 0);
        CHECK_INT (row.count, rows);
        CHECK_INT (ledger_result_row_count (result, 1), 5);
        ledger_result_destroy (&result);
        ledger_batch_destroy (&batch);
        ledger_client_destroy (&client);
        CHECK_INT (harness_stop (&restored, true), 0);
    }
    harness_remove_dir (serve_dir);
    harness_remove_dir (out_dir);
}

/* --------------------------------------------------------------------
   Interrupted backups leave nothing
   -------------------------------------------------------------------- */

/*  Start `ledgerctl backup` into out_dir/copy.db in chunks of 1 KiB, and
    wait until its temporary file is there. Returns its pid, or -1. */
static pid_t
s_start_slow_backup (harness_t *worker, const char *out_dir, const char *copy)
{
    const char *args [] = { "--endpoint", harness_endpoint (worker), "--timeout-ms", "500", "--retries", "1",
                            "backup", copy, "--chunk-size", "1024", NULL };
    pid_t pid = s_ledgerctl_start (out_dir, args);
    int64_t deadline = s_now_ms () + 20000;
    while (pid > 0 && s_count_files (out_dir, "copy.db.partial-") == 0 && s_now_ms () < deadline)
        s_sleep_ms (1);
    CHECK_INT (s_count_files (out_dir, "copy.db.partial-"), 1);
    return pid;
}

static void
test_worker_killed_mid_backup (void)
{
    harness_t *worker = harness_start (NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    s_seed (worker, 30000);
    char dir [128], out_dir [128], copy [300];
    snprintf (dir, sizeof (dir), "%s", harness_dir (worker));
    CHECK_INT (harness_make_dir (out_dir, sizeof (out_dir), "ledgerd-backup-out"), 0);
    snprintf (copy, sizeof (copy), "%s/copy.db", out_dir);
    pid_t pid = s_start_slow_backup (worker, out_dir, copy);
    CHECK_INT (s_count_files (dir, "ledger.db.backup-"), 1);
    harness_signal (worker, SIGKILL);
    int status = pid > 0? s_wait (pid): -1;
    /*  No answer: exit 3, and nothing left behind. */
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 3);
    CHECK (!s_exists (copy));
    CHECK_INT (s_count_files (out_dir, "copy.db.partial-"), 0);
    harness_stop (&worker, true);
    /*  The snapshot the dead worker left goes when the next one starts. */
    CHECK_INT (s_count_files (dir, "ledger.db.backup-"), 1);
    worker = harness_start_in (dir, NULL);
    CHECK (worker != NULL);
    CHECK_INT (s_count_files (dir, "ledger.db.backup-"), 0);
    if (worker)
        CHECK_INT (harness_stop (&worker, true), 0);
    harness_remove_dir (dir);
    harness_remove_dir (out_dir);
}

static void
test_ledgerctl_interrupted (void)
{
    harness_t *worker = harness_start ("--backup-idle-s", "1", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    s_seed (worker, 30000);
    char out_dir [128], copy [300];
    CHECK_INT (harness_make_dir (out_dir, sizeof (out_dir), "ledgerd-backup-out"), 0);
    snprintf (copy, sizeof (copy), "%s/copy.db", out_dir);
    pid_t pid = s_start_slow_backup (worker, out_dir, copy);
    if (pid > 0)
        kill (pid, SIGINT);
    int status = pid > 0? s_wait (pid): -1;
    CHECK (WIFSIGNALED (status) && WTERMSIG (status) == SIGINT);
    CHECK (!s_exists (copy));
    CHECK_INT (s_count_files (out_dir, "copy.db.partial-"), 0);
    /*  Nobody reads the worker's snapshot any more: it goes after
        --backup-idle-s. */
    int64_t deadline = s_now_ms () + 10000;
    while (s_count_files (harness_dir (worker), "ledger.db.backup-") > 0 && s_now_ms () < deadline)
        s_sleep_ms (10);
    CHECK_INT (s_count_files (harness_dir (worker), "ledger.db.backup-"), 0);
    CHECK (harness_log_says (worker, "expired after 1 s unread"));
    CHECK_INT (harness_stop (&worker, false), 0);
    harness_remove_dir (out_dir);
}

/* --------------------------------------------------------------------
   The ops, through the library
   -------------------------------------------------------------------- */

static ledger_result_t *
s_submit_backup_op (ledger_client_t *client, int code, const char *token, int64_t position, int64_t length)
{
    ledger_batch_t *batch = ledger_batch_new ();
    if (code == 0)
        ledger_batch_backup (batch);
    else
    if (code == 1)
        ledger_batch_backup_read (batch, token, position, length);
    else
        ledger_batch_backup_end (batch, token);
    ledger_result_t *result = ledger_client_submit (client, batch);
    ledger_batch_destroy (&batch);
    return result;
}

static void
s_check_failed (ledger_result_t *result, const char *klass, const char *code, const char *field)
{
    CHECK (result && ledger_result_status (result) == LEDGER_FAILED);
    if (!result || ledger_result_status (result) != LEDGER_FAILED)
        return;
    CHECK_STR (ledger_result_error_class (result), klass);
    CHECK_STR (ledger_result_error_code (result), code);
    const char *said = ledger_result_error_field (result);
    CHECK_STR (said? said: "", field);
}

static void
test_backup_ops (void)
{
    harness_t *worker = harness_start ("--backup-idle-s", "1", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    s_seed (worker, 3000);
    ledger_client_t *client = s_client (worker);

    ledger_result_t *result = s_submit_backup_op (client, 1, "0123456789abcdef0123456789abcdef", 0, 10);
    s_check_failed (result, "not_found", "UNKNOWN_BACKUP", "token");
    ledger_result_destroy (&result);

    /*  A snapshot, read whole in uneven chunks: its bytes are its digest's. */
    result = s_submit_backup_op (client, 0, NULL, 0, 0);
    ledger_backup_t backup = { 0 };
    CHECK_INT (ledger_result_backup (result, 0, &backup), 0);
    CHECK_INT (backup.chunk_max, LEDGER_BACKUP_CHUNK_MAX);
    CHECK_INT (backup.idle_timeout_s, 1);
    CHECK (backup.size > 0 && backup.size % 512 == 0);
    char token [80], path [400], want [80];
    snprintf (token, sizeof (token), "%s", backup.token? backup.token: "");
    snprintf (want, sizeof (want), "%s", backup.sha256? backup.sha256: "");
    snprintf (path, sizeof (path), "%s/ledger.db.backup-%s", harness_dir (worker), token);
    CHECK (s_exists (path));
    ledger_result_destroy (&result);
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init (&state);
    int64_t position = 0;
    while (position < backup.size) {
        result = s_submit_backup_op (client, 1, token, position, 7777);
        size_t size = 0;
        const void *data = ledger_result_data (result, 0, &size);
        CHECK (data && size > 0 && size <= 7777);
        if (!data || size == 0) {
            ledger_result_destroy (&result);
            break;
        }
        crypto_hash_sha256_update (&state, data, size);
        position += (int64_t) size;
        ledger_result_destroy (&result);
    }
    CHECK_INT (position, backup.size);
    unsigned char digest [crypto_hash_sha256_BYTES];
    char hex [crypto_hash_sha256_BYTES * 2 + 1];
    crypto_hash_sha256_final (&state, digest);
    sodium_bin2hex (hex, sizeof (hex), digest, sizeof (digest));
    CHECK_STR (hex, want);
    /*  A second snapshot, for the expiry below. */
    result = s_submit_backup_op (client, 0, NULL, 0, 0);
    ledger_backup_t second = { 0 };
    CHECK_INT (ledger_result_backup (result, 0, &second), 0);
    char second_token [80];
    snprintf (second_token, sizeof (second_token), "%s", second.token? second.token: "");
    ledger_result_destroy (&result);

    /*  At the end: no bytes; past it: an error. */
    result = s_submit_backup_op (client, 1, token, backup.size, 100);
    size_t size = 1;
    CHECK (ledger_result_data (result, 0, &size) != NULL);
    CHECK_INT (size, 0);
    ledger_result_destroy (&result);
    result = s_submit_backup_op (client, 1, token, backup.size + 1, 100);
    s_check_failed (result, "invalid", "POSITION_PAST_END", "position");
    ledger_result_destroy (&result);

    /*  Ended: the file goes, and the token says so. */
    result = s_submit_backup_op (client, 2, token, 0, 0);
    CHECK (result && ledger_result_status (result) == LEDGER_OK);
    ledger_result_destroy (&result);
    CHECK (!s_exists (path));
    result = s_submit_backup_op (client, 1, token, 0, 100);
    s_check_failed (result, "not_found", "BACKUP_ENDED", "token");
    ledger_result_destroy (&result);

    /*  Unread past --backup-idle-s (1 s): removed, and the token says so. */
    snprintf (path, sizeof (path), "%s/ledger.db.backup-%s", harness_dir (worker), second_token);
    int64_t deadline = s_now_ms () + 10000;
    while (s_exists (path) && s_now_ms () < deadline)
        s_sleep_ms (10);
    CHECK (!s_exists (path));
    result = s_submit_backup_op (client, 1, second_token, 0, 100);
    s_check_failed (result, "not_found", "BACKUP_EXPIRED", "token");
    ledger_result_destroy (&result);

    /*  A backup op goes alone. */
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_batch_ping (batch);
    ledger_batch_backup (batch);
    result = ledger_client_submit (client, batch);
    s_check_failed (result, "invalid", "BACKUP_NOT_ALONE", "op");
    ledger_result_destroy (&result);
    ledger_batch_destroy (&batch);
    CHECK_INT (s_count_files (harness_dir (worker), "ledger.db.backup-"), 0);
    ledger_client_destroy (&client);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  Four snapshots at most; those held go when the worker stops. */
static void
test_snapshot_limit_and_exit (void)
{
    harness_t *worker = harness_start (NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    ledger_client_t *client = s_client (worker);
    for (int n = 0; n < 4; n++) {
        ledger_result_t *result = s_submit_backup_op (client, 0, NULL, 0, 0);
        CHECK (result && ledger_result_status (result) == LEDGER_OK);
        ledger_result_destroy (&result);
    }
    CHECK_INT (s_count_files (harness_dir (worker), "ledger.db.backup-"), 4);
    ledger_client_set_retries (client, 0);
    ledger_result_t *result = s_submit_backup_op (client, 0, NULL, 0, 0);
    s_check_failed (result, "overloaded", "TOO_MANY_BACKUPS", "");
    ledger_result_destroy (&result);
    ledger_client_destroy (&client);
    char dir [128];
    snprintf (dir, sizeof (dir), "%s", harness_dir (worker));
    CHECK_INT (harness_stop (&worker, true), 0);
    CHECK_INT (s_count_files (dir, "ledger.db.backup-"), 0);
    CHECK_INT (s_count_files (dir, "ledger.db"), 1);
    harness_remove_dir (dir);
}

/* --------------------------------------------------------------------
   backup --verify
   -------------------------------------------------------------------- */

static void
s_write (const char *path, off_t at, const void *data, size_t size)
{
    int fd = open (path, O_WRONLY | O_CREAT, 0600);
    CHECK (fd >= 0);
    if (fd >= 0) {
        CHECK_INT (pwrite (fd, data, size, at), (ssize_t) size);
        close (fd);
    }
}

static void
s_copy_file (const char *from, const char *to)
{
    FILE *in = fopen (from, "rb"), *out = fopen (to, "wb");
    CHECK (in && out);
    char buffer [65536];
    size_t got;
    while (in && out && (got = fread (buffer, 1, sizeof (buffer), in)) > 0)
        CHECK_INT (fwrite (buffer, 1, got, out), got);
    if (in)
        fclose (in);
    if (out)
        fclose (out);
}

static void
test_verify (void)
{
    harness_t *worker = harness_start (NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    s_seed (worker, 5000);
    char out_dir [128], good [300], bad [300], foreign [300], said [512];
    CHECK_INT (harness_make_dir (out_dir, sizeof (out_dir), "ledgerd-backup-out"), 0);
    snprintf (good, sizeof (good), "%s/good.db", out_dir);
    snprintf (bad, sizeof (bad), "%s/bad.db", out_dir);
    snprintf (foreign, sizeof (foreign), "%s/foreign.db", out_dir);
    const char *take [] = { "--endpoint", harness_endpoint (worker), "backup", good, NULL };
    CHECK_INT (s_ledgerctl (out_dir, take), 0);
    /*  FILE exists: refused, and kept, unless --force. */
    CHECK_INT (s_ledgerctl (out_dir, take), 1);
    s_ledgerctl_said (out_dir, "err", said, sizeof (said));
    CHECK (strstr (said, "exists") != NULL);
    const char *force [] = { "--endpoint", harness_endpoint (worker), "backup", good, "--force", NULL };
    CHECK_INT (s_ledgerctl (out_dir, force), 0);
    CHECK_INT (harness_stop (&worker, false), 0);

    const char *verify_good [] = { "backup", "--verify", good, NULL };
    CHECK_INT (s_ledgerctl (out_dir, verify_good), 0);
    s_ledgerctl_said (out_dir, "out", said, sizeof (said));
    CHECK (strstr (said, "integrity ok, schema version") != NULL);

    /*  A page in the middle of the file overwritten. */
    s_copy_file (good, bad);
    struct stat info;
    CHECK_INT (stat (bad, &info), 0);
    char garbage [4096];
    memset (garbage, 0x5a, sizeof (garbage));
    s_write (bad, (info.st_size / 2) & ~(off_t) 4095, garbage, sizeof (garbage));
    const char *verify_bad [] = { "backup", "--verify", bad, NULL };
    CHECK_INT (s_ledgerctl (out_dir, verify_bad), 1);
    s_ledgerctl_said (out_dir, "err", said, sizeof (said));
    CHECK (strstr (said, bad) != NULL);

    /*  Not a database, and a database that is not a ledger. */
    s_write (foreign, 0, "hello, world\n", 13);
    const char *verify_foreign [] = { "backup", "--verify", foreign, NULL };
    CHECK_INT (s_ledgerctl (out_dir, verify_foreign), 1);
    unlink (foreign);
    sqlite3 *db = NULL;
    CHECK_INT (sqlite3_open (foreign, &db), SQLITE_OK);
    CHECK_INT (sqlite3_exec (db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close (db);
    CHECK_INT (s_ledgerctl (out_dir, verify_foreign), 1);
    s_ledgerctl_said (out_dir, "err", said, sizeof (said));
    CHECK (strstr (said, "not a ledger database") != NULL);
    /*  A missing file. */
    const char *verify_missing [] = { "backup", "--verify", "/nonexistent/ledger.db", NULL };
    CHECK_INT (s_ledgerctl (out_dir, verify_missing), 1);
    harness_remove_dir (out_dir);
}

int
main (void)
{
    if (sodium_init () < 0)
        return 1;
    signal (SIGPIPE, SIG_IGN);
    TEST_RUN (test_backup_ops);
    TEST_RUN (test_snapshot_limit_and_exit);
    TEST_RUN (test_verify);
    TEST_RUN (test_backup_under_writes);
    TEST_RUN (test_worker_killed_mid_backup);
    TEST_RUN (test_ledgerctl_interrupted);
    return TEST_DONE ();
}
