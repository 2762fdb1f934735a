/*  cmd_backup -- a consistent copy of a live worker's database, and the
    check of one.

    `backup FILE` asks the worker for a snapshot (sys.backup: a token, its
    size and SHA-256), reads it in chunks (sys.backup_read) into a
    temporary file beside FILE, checks the size and digest, fsyncs the file,
    renames it to FILE and fsyncs the directory, then lets the worker drop
    the snapshot (sys.backup_end). FILE appears whole or not at all: on any
    failure or an interrupting signal the temporary file is removed, and the
    worker removes its snapshot when it ends or expires.

    `backup --verify FILE` opens a copy read-only and runs SQLite's
    integrity check and the schema version check (the worker's own number,
    from store_schema_version.h). */

#define _GNU_SOURCE             /* sync_file_range */
#include "ctl_commands.h"
#include "ctl_parse.h"
#include "progress.h"
#include "store_schema_version.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* sys.backup copies the whole database before it answers: minutes, for a
   large one on a slow disk. */
#define SNAPSHOT_TIMEOUT_MS (30 * 60 * 1000)

#define DEFAULT_CHUNK (LEDGER_BACKUP_CHUNK_MAX)

/* Written data is sent to the disk every this many bytes, and the batch
   before waited for, rather than all of it at the final fsync: on the
   worker's machine, an fsync of the whole copy at once would queue the
   database's size of writes ahead of the worker's next commit. */
#define WRITE_BEHIND (8 * 1024 * 1024)

enum {
    OPT_VERIFY = CTL_OPT_FIRST_LOCAL,
    OPT_CHUNK_SIZE,
    OPT_FORCE
};

/*  The temporary file, for the signal handler: a copy interrupted by
    SIGINT, SIGTERM or SIGHUP is removed before the process goes. */
static char s_temp_path [PATH_MAX];
static volatile sig_atomic_t s_temp_armed;

static void
s_on_signal (int signum)
{
    if (s_temp_armed)
        unlink (s_temp_path);
    signal (signum, SIG_DFL);
    raise (signum);
}

static double
s_now_s (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

/*  PRAGMA integrity_check and the schema version of the file at path.
    Returns CTL_EXIT_OK, or CTL_EXIT_FAILED after saying why. */
static int
s_verify (ctl_t *ctl, const char *path)
{
    struct stat info;
    if (stat (path, &info))
        return ctl_fail (ctl, CTL_EXIT_FAILED, "%s: %s", path, strerror (errno));
    char uri [PATH_MAX + 32];
    /*  Read-only, and immutable: checking a copy must not change it, nor
        create a journal beside it. */
    sqlite3 *db = NULL;
    snprintf (uri, sizeof (uri), "file:%s?immutable=1", path);
    int rc = sqlite3_open_v2 (uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    sqlite3_stmt *stmt = NULL;
    int status = CTL_EXIT_FAILED;
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL);
    if (rc != SQLITE_OK) {
        ctl_fail (ctl, CTL_EXIT_FAILED, "%s: not a usable SQLite database: %s", path,
                  db? sqlite3_errmsg (db): sqlite3_errstr (rc));
        goto cleanup;
    }
    int problems = 0;
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        const char *line = (const char *) sqlite3_column_text (stmt, 0);
        if (line && strcmp (line, "ok") == 0)
            continue;
        if (problems++ < 5)
            fprintf (stderr, "ledgerctl %s: %s: integrity: %s\n", ctl->name, path, line? line: "(null)");
    }
    if (rc != SQLITE_DONE) {
        ctl_fail (ctl, CTL_EXIT_FAILED, "%s: the integrity check failed: %s", path, sqlite3_errmsg (db));
        goto cleanup;
    }
    if (problems) {
        ctl_fail (ctl, CTL_EXIT_FAILED, "%s: damaged: the integrity check found %d problem%s", path, problems,
                  problems == 1? "": "s");
        goto cleanup;
    }
    sqlite3_finalize (stmt);
    stmt = NULL;
    int64_t version = -1, tables = 0;
    if (sqlite3_prepare_v2 (db, "SELECT (SELECT user_version FROM pragma_user_version),"
                                " (SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
                                "  AND name IN ('category', 'txn'))", -1, &stmt, NULL) == SQLITE_OK
    &&  sqlite3_step (stmt) == SQLITE_ROW) {
        version = sqlite3_column_int64 (stmt, 0);
        tables = sqlite3_column_int64 (stmt, 1);
    }
    if (version < 1 || tables != 2)
        ctl_fail (ctl, CTL_EXIT_FAILED, "%s: not a ledger database (schema version %lld, %lld of its 2 tables)",
                  path, (long long) version, (long long) tables);
    else
    if (version > STORE_SCHEMA_VERSION)
        ctl_fail (ctl, CTL_EXIT_FAILED, "%s: schema version %lld is newer than this build's %d: check it with a"
                  " newer ledgerctl", path, (long long) version, STORE_SCHEMA_VERSION);
    else {
        printf ("%s: integrity ok, schema version %lld%s, %lld bytes\n", path, (long long) version,
                version < STORE_SCHEMA_VERSION? " (older: ledgerd migrates it when it opens it)": "",
                (long long) info.st_size);
        status = CTL_EXIT_OK;
    }

cleanup:
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    return status;
}

/*  Write all of data to fd. Returns 0, or -1 with errno set. */
static int
s_write_all (int fd, const void *data, size_t size)
{
    const char *at = data;
    while (size) {
        ssize_t done = write (fd, at, size);
        if (done < 0 && errno == EINTR)
            continue;
        if (done < 0)
            return -1;
        at += done;
        size -= (size_t) done;
    }
    return 0;
}

/*  Start writing [from, to) of fd to the disk, and wait for the range
    before it, sent at the previous call: a steady trickle of writes, at
    most two ranges in flight. Best effort: the final fsync makes it
    durable whatever this did. */
static void
s_write_behind (int fd, int64_t *sent_p, int64_t *waited_p, int64_t to)
{
    if (*waited_p < *sent_p)
        sync_file_range (fd, *waited_p, *sent_p - *waited_p,
                         SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER);
    *waited_p = *sent_p;
    sync_file_range (fd, *sent_p, to - *sent_p, SYNC_FILE_RANGE_WRITE);
    *sent_p = to;
}

/*  Submit batch with the client's timeout and retries set for it. */
static int
s_submit (ctl_t *ctl, ledger_batch_t **batch_p, ledger_result_t **result_p, int timeout_ms, int retries)
{
    ledger_client_t *client = ctl_client (ctl);
    if (!client) {
        ledger_batch_destroy (batch_p);
        return CTL_EXIT_USAGE;
    }
    ledger_client_set_timeout (client, timeout_ms);
    ledger_client_set_retries (client, retries);
    return ctl_submit (ctl, batch_p, result_p);
}

/*  Tell the worker the snapshot is no longer needed. Best effort: one that
    is not ended expires there. */
static void
s_end (ctl_t *ctl, const char *token)
{
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_result_t *result = NULL;
    if (batch && ledger_batch_backup_end (batch, token) >= 0) {
        ledger_client_t *client = ctl_client (ctl);
        if (client) {
            ledger_client_set_retries (client, 0);
            result = ledger_client_submit (client, batch);
        }
    }
    ledger_result_destroy (&result);
    ledger_batch_destroy (&batch);
}

/*  The directory of path, for its fsync after the rename. */
static void
s_dir_of (const char *path, char *dir, size_t size)
{
    snprintf (dir, size, "%s", path);
    char *slash = strrchr (dir, '/');
    if (!slash)
        snprintf (dir, size, ".");
    else
        *(slash == dir? slash + 1: slash) = 0;
}

/*  Copy the snapshot token names (of backup->size bytes) into the file
    open at fd, in chunks of chunk bytes, checking its digest. Returns
    CTL_EXIT_OK, or a status after saying why. */
static int
s_copy (ctl_t *ctl, const ledger_backup_t *backup, int fd, long chunk, int timeout_ms, int retries)
{
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init (&state);
    progress_t *progress = progress_new ((size_t) (backup->size >> 10), "KiB");
    int64_t position = 0, sent = 0, waited = 0;
    int status = CTL_EXIT_OK;
    while (position < backup->size && status == CTL_EXIT_OK) {
        ledger_batch_t *batch = ledger_batch_new ();
        ledger_result_t *result = NULL;
        int64_t want = backup->size - position < chunk? backup->size - position: chunk;
        if (!batch || ledger_batch_backup_read (batch, backup->token, position, want) < 0) {
            ledger_batch_destroy (&batch);
            status = ctl_fail (ctl, CTL_EXIT_FAILED, "out of memory");
            break;
        }
        status = s_submit (ctl, &batch, &result, timeout_ms, retries);
        if (status != CTL_EXIT_OK)
            break;
        size_t size = 0;
        const void *data = ledger_result_data (result, 0, &size);
        if (!data || size == 0 || (int64_t) size > want)
            status = ctl_fail (ctl, CTL_EXIT_FAILED, "the worker answered %zu bytes at %lld of %lld: not a chunk",
                               size, (long long) position, (long long) backup->size);
        else
        if (s_write_all (fd, data, size))
            status = ctl_fail (ctl, CTL_EXIT_FAILED, "cannot write the copy: %s", strerror (errno));
        else {
            crypto_hash_sha256_update (&state, data, size);
            position += (int64_t) size;
            if (position - sent >= WRITE_BEHIND)
                s_write_behind (fd, &sent, &waited, position);
            progress_update (progress, (size_t) (position >> 10));
        }
        ledger_result_destroy (&result);
    }
    progress_destroy (&progress);
    if (status != CTL_EXIT_OK)
        return status;
    unsigned char digest [crypto_hash_sha256_BYTES];
    char hex [crypto_hash_sha256_BYTES * 2 + 1];
    crypto_hash_sha256_final (&state, digest);
    sodium_bin2hex (hex, sizeof (hex), digest, sizeof (digest));
    if (strcmp (hex, backup->sha256) != 0)
        return ctl_fail (ctl, CTL_EXIT_FAILED, "the copy's SHA-256 %s is not the worker's %s: nothing written",
                         hex, backup->sha256);
    return CTL_EXIT_OK;
}

/*  Take a backup into path. */
static int
s_backup (ctl_t *ctl, const char *path, long chunk, bool force)
{
    struct stat info;
    if (!force && lstat (path, &info) == 0)
        return ctl_fail (ctl, CTL_EXIT_FAILED, "%s exists: give another name, or --force to replace it", path);
    if (sodium_init () < 0)
        return ctl_fail (ctl, CTL_EXIT_FAILED, "cannot initialise libsodium");
#ifdef SYS_ioprio_set
    /*  Run on the worker's machine, the copy's writes go behind the
        worker's commits in the disk's queue (lowest best-effort priority;
        no privilege needed). */
    enum { IOPRIO_WHO_PROCESS = 1, IOPRIO_CLASS_BE = 2, IOPRIO_CLASS_SHIFT = 13, IOPRIO_LOWEST = 7 };
    syscall (SYS_ioprio_set, IOPRIO_WHO_PROCESS, 0, (IOPRIO_CLASS_BE << IOPRIO_CLASS_SHIFT) | IOPRIO_LOWEST);
#endif
    /*  Reads are idempotent: they keep the caller's timeout and retries.
        The snapshot is not (each try takes one): one try, a long wait. */
    int timeout_ms = ctl->timeout_ms >= 0? ctl->timeout_ms: 5000;
    int retries = ctl->retries >= 0? ctl->retries: 3;
    double start = s_now_s ();
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_result_t *result = NULL;
    if (!batch || ledger_batch_backup (batch) < 0) {
        ledger_batch_destroy (&batch);
        return ctl_fail (ctl, CTL_EXIT_FAILED, "out of memory");
    }
    int status = s_submit (ctl, &batch, &result, ctl->timeout_ms >= 0? ctl->timeout_ms: SNAPSHOT_TIMEOUT_MS, 0);
    if (status != CTL_EXIT_OK)
        return status;
    ledger_backup_t backup;
    if (ledger_result_backup (result, 0, &backup)) {
        ledger_result_destroy (&result);
        return ctl_fail (ctl, CTL_EXIT_FAILED, "the worker's answer to sys.backup is not a backup");
    }
    double taken = s_now_s ();
    long step = chunk < backup.chunk_max? chunk: (long) backup.chunk_max;

    int written = snprintf (s_temp_path, sizeof (s_temp_path), "%s.partial-XXXXXX", path);
    int fd = written > 0 && (size_t) written < sizeof (s_temp_path)? mkstemp (s_temp_path): -1;
    if (fd < 0) {
        status = ctl_fail (ctl, CTL_EXIT_FAILED, "cannot create a temporary file beside %s: %s", path,
                           strerror (errno));
        goto done;
    }
    s_temp_armed = 1;
    status = s_copy (ctl, &backup, fd, step, timeout_ms, retries);
    if (status == CTL_EXIT_OK && fsync (fd))
        status = ctl_fail (ctl, CTL_EXIT_FAILED, "cannot fsync %s: %s", s_temp_path, strerror (errno));
    close (fd);
    if (status == CTL_EXIT_OK && rename (s_temp_path, path))
        status = ctl_fail (ctl, CTL_EXIT_FAILED, "cannot rename %s to %s: %s", s_temp_path, path, strerror (errno));
    if (status != CTL_EXIT_OK) {
        unlink (s_temp_path);
        s_temp_armed = 0;
        goto done;
    }
    s_temp_armed = 0;
    /*  The rename is durable once the directory is. */
    char dir [PATH_MAX];
    s_dir_of (path, dir, sizeof (dir));
    int dir_fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0 || fsync (dir_fd))
        status = ctl_fail (ctl, CTL_EXIT_FAILED, "%s is written, but its directory cannot be synced: %s", path,
                           strerror (errno));
    if (dir_fd >= 0)
        close (dir_fd);
    if (status == CTL_EXIT_OK)
        printf ("%s: %lld bytes, sha256 %s; snapshot %.2f s, copy %.2f s\n", path, (long long) backup.size,
                backup.sha256, taken - start, s_now_s () - taken);

done:
    s_end (ctl, backup.token);
    ledger_result_destroy (&result);
    return status;
}

int
ctl_cmd_backup (ctl_t *ctl, int argc, char **argv)
{
    static const struct option options [] = {
        { "verify",     no_argument,       NULL, OPT_VERIFY },
        { "chunk-size", required_argument, NULL, OPT_CHUNK_SIZE },
        { "force",      no_argument,       NULL, OPT_FORCE },
        CTL_COMMON_OPTIONS
    };
    bool verify = false, force = false;
    long chunk = DEFAULT_CHUNK;
    int opt;
    while ((opt = getopt_long (argc, argv, CTL_SHORT_OPTIONS, options, NULL)) != -1) {
        if (opt == OPT_VERIFY)
            verify = true;
        else
        if (opt == OPT_FORCE)
            force = true;
        else
        if (opt == OPT_CHUNK_SIZE) {
            if (ctl_parse_int (ctl, "--chunk-size", optarg, 1, LEDGER_BACKUP_CHUNK_MAX, &chunk))
                return CTL_EXIT_USAGE;
        }
        else {
            int status = ctl_option (ctl, opt, optarg, argv);
            if (status != CTL_CONTINUE)
                return status;
        }
    }
    if (argc - optind != 1)
        return ctl_usage (ctl, "%s", argc - optind? "takes one file": "needs a FILE to write (or to --verify)");
    if (verify)
        return s_verify (ctl, argv [optind]);
    struct sigaction action = { .sa_handler = s_on_signal };
    sigemptyset (&action.sa_mask);
    sigaction (SIGINT, &action, NULL);
    sigaction (SIGTERM, &action, NULL);
    sigaction (SIGHUP, &action, NULL);
    return s_backup (ctl, argv [optind], chunk, force);
}
