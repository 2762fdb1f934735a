/*  store_db_sqlite -- the store's statements on SQLite, in this process.

    The single-node backend: one connection, WAL, the writer checkpointing
    the WAL itself (so a failure is heard), and watching that its path still
    names the file it opened. */

#include "store_internal.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

typedef struct {
    store_stmt_t base;
    sqlite3_stmt *stmt;
} s_stmt_t;

typedef struct {
    store_db_t base;
    store_t *store;             /* the owner: path, options, log limits, busy handler */
    sqlite3 *db;
    bool owned;                 /* closed with this; else someone else's */
    s_stmt_t stmts [STMT_COUNT];
    store_stmt_t bases [STMT_COUNT];
    int64_t busy_since_us;
    /*  The writer's file: the path must still name it, or what commits
        goes into a file nobody will open again. */
    const char *file;           /* full path, owned by SQLite; NULL: not watched */
    dev_t file_dev;
    ino_t file_ino;
    bool checkpoint_at_close;   /* the writer, fully opened */
} s_db_t;

/*  SQLite's autocheckpoint runs a PASSIVE checkpoint once the WAL holds
    this many frames; the writer's own hook does the same. */
#define CHECKPOINT_FRAMES 1000
/*  At shutdown a checkpoint is housekeeping (the next start recovers the
    WAL anyway): it must not eat a service manager's stop timeout. */
#define CHECKPOINT_CLOSE_WAIT_MS 1000

static s_db_t *
s_db (store_db_t *db)
{
    return (s_db_t *) db;
}

static sqlite3_stmt *
s_stmt (store_stmt_t *stmt)
{
    return s_db (stmt->db)->stmts [stmt->id].stmt;
}

static void
s_bind_int64 (store_stmt_t *stmt, int index, int64_t value)
{
    sqlite3_bind_int64 (s_stmt (stmt), index, value);
}

static void
s_bind_text (store_stmt_t *stmt, int index, const char *text, size_t len)
{
    sqlite3_bind_text (s_stmt (stmt), index, text, (int) len, SQLITE_STATIC);
}

static void
s_bind_blob (store_stmt_t *stmt, int index, const void *data, size_t size)
{
    sqlite3_bind_blob (s_stmt (stmt), index, data, (int) size, SQLITE_STATIC);
}

static void
s_bind_null (store_stmt_t *stmt, int index)
{
    sqlite3_bind_null (s_stmt (stmt), index);
}

static int
s_step (store_stmt_t *stmt)
{
    return sqlite3_step (s_stmt (stmt));
}

static void
s_reset (store_stmt_t *stmt)
{
    sqlite3_stmt *handle = s_stmt (stmt);
    sqlite3_reset (handle);
    sqlite3_clear_bindings (handle);
}

static int
s_column_type (store_stmt_t *stmt, int column)
{
    return sqlite3_column_type (s_stmt (stmt), column);
}

static int64_t
s_column_int64 (store_stmt_t *stmt, int column)
{
    return sqlite3_column_int64 (s_stmt (stmt), column);
}

static const void *
s_column_blob (store_stmt_t *stmt, int column)
{
    sqlite3_stmt *handle = s_stmt (stmt);
    /*  Text columns come back as text (NUL-terminated), blobs as blobs. */
    if (sqlite3_column_type (handle, column) == SQLITE_TEXT)
        return sqlite3_column_text (handle, column);
    return sqlite3_column_blob (handle, column);
}

static size_t
s_column_bytes (store_stmt_t *stmt, int column)
{
    return (size_t) sqlite3_column_bytes (s_stmt (stmt), column);
}

static int64_t
s_changes (store_db_t *db)
{
    return sqlite3_changes64 (s_db (db)->db);
}

static int64_t
s_total_changes (store_db_t *db)
{
    return sqlite3_total_changes64 (s_db (db)->db);
}

static int64_t
s_last_insert_id (store_db_t *db)
{
    return sqlite3_last_insert_rowid (s_db (db)->db);
}

static bool
s_in_transaction (store_db_t *db)
{
    return sqlite3_get_autocommit (s_db (db)->db) == 0;
}

static const char *
s_errmsg (store_db_t *db)
{
    return sqlite3_errmsg (s_db (db)->db);
}

static int
s_exec_script (store_db_t *db, const char *sql)
{
    return sqlite3_exec (s_db (db)->db, sql, NULL, NULL, NULL);
}

static int
s_query_int (store_db_t *db, const char *sql, int64_t *value_p)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (s_db (db)->db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        *value_p = sqlite3_column_int64 (stmt, 0);
        rc = SQLITE_OK;
    }
    else
    if (rc == SQLITE_DONE)
        rc = SQLITE_EMPTY;
    sqlite3_finalize (stmt);
    return rc;
}

static int
s_prepare (store_db_t *db, int id, const char *sql, char *errbuf, size_t errlen)
{
    s_db_t *self = s_db (db);
    int rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &self->stmts [id].stmt, NULL);
    if (rc != SQLITE_OK) {
        snprintf (errbuf, errlen, "cannot prepare statement %d: %s", id, sqlite3_errmsg (self->db));
        return -1;
    }
    return 0;
}

/*  How the writer's path no longer names the file it has open ("was
    deleted or moved away", ...), or NULL while it does. One stat(2). */
static const char *
s_moved (store_db_t *db)
{
    s_db_t *self = s_db (db);
    if (!self->file)
        return NULL;
    struct stat st;
    if (stat (self->file, &st) == 0)
        return st.st_dev == self->file_dev && st.st_ino == self->file_ino? NULL: "was replaced by another file";
    return errno == ENOENT? "was deleted or moved away": "cannot be found any more";
}

static int64_t
s_monotonic_us (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
}

/*  SQLite's busy handler: count is 0 on the first call of each wait. */
static int
s_busy (void *arg, int count)
{
    s_db_t *self = (s_db_t *) arg;
    store_t *store = self->store;
    int64_t now = s_monotonic_us ();
    if (count == 0)
        self->busy_since_us = now;
    int64_t left_ms = store->options.busy_timeout_ms - (now - self->busy_since_us) / 1000;
    if (left_ms <= 0)
        return 0;
    store->busy_serve (store->busy_arg, left_ms < 5? (int) left_ms: 5);
    return 1;
}

/*  Wait for the lock (with the store's serving handler if there is one,
    else SQLite's own sleeping timeout), or not at all. */
static void
s_busy_wait (store_db_t *db, bool wait)
{
    s_db_t *self = s_db (db);
    if (!wait)
        sqlite3_busy_timeout (self->db, 0);
    else
    if (self->store->busy_serve)
        sqlite3_busy_handler (self->db, s_busy, self);
    else
        sqlite3_busy_timeout (self->db, self->store->options.busy_timeout_ms);
}

#ifdef LEDGERD_TEST_HOOKS
/*  Test hook (ledgerd_test only): make a commit fail, as a full disk would. */
static int
s_fail_commit_hook (void *arg)
{
    sqlite3_commit_hook ((sqlite3 *) arg, NULL, NULL);
    return 1;
}

static void
s_fail_next_commit (store_db_t *db)
{
    sqlite3 *handle = s_db (db)->db;
    sqlite3_commit_hook (handle, s_fail_commit_hook, handle);
}
#endif

/*  Leave the database whole in one file: copy the WAL back and truncate
    it, and say so if that fails (the WAL then stays beside the file, and
    whatever copies the database alone misses its last commits). */
static void
s_checkpoint_at_close (s_db_t *self)
{
    const char *path = self->store->path;
    if (sqlite3_get_autocommit (self->db) == 0)
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
    /*  Even into a file that was deleted or replaced: SQLite then leaves
        the -wal file at the path when it closes, and the database found
        there next would take in any frames still in it. TRUNCATE leaves
        none. */
    const char *moved = s_moved (&self->base);
    if (moved)
        log_warn ("store.moved", "database %s %s while ledgerd had it open: emptying the WAL of the file it had open",
                  path, moved);
    /*  Not the front end's busy handler: the front end is going away. */
    int wait_ms = self->store->options.busy_timeout_ms;
    sqlite3_busy_timeout (self->db, wait_ms < CHECKPOINT_CLOSE_WAIT_MS? wait_ms: CHECKPOINT_CLOSE_WAIT_MS);
    int rc = sqlite3_wal_checkpoint_v2 (self->db, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    if (rc != SQLITE_OK)
        log_error ("store.checkpoint_failed", "the WAL could not be checkpointed at shutdown: database %s: %s: %s",
                   path, store_rc_name (rc), sqlite3_errmsg (self->db));
    else
        log_info_with ("store.checkpoint", LOG_FIELDS (LOG_TEXT ("db", path)), "database %s: checkpointed the WAL at shutdown", path);
}

static void
s_destroy (store_db_t *db)
{
    s_db_t *self = s_db (db);
    if (self->checkpoint_at_close)
        s_checkpoint_at_close (self);
    for (int id = 0; id < STMT_COUNT; id++)
        sqlite3_finalize (self->stmts [id].stmt);
    if (self->owned)
        sqlite3_close (self->db);
    free (self);
}

static const store_db_ops_t s_ops = {
    .destroy = s_destroy,
    .prepare = s_prepare,
    .bind_int64 = s_bind_int64,
    .bind_text = s_bind_text,
    .bind_blob = s_bind_blob,
    .bind_null = s_bind_null,
    .step = s_step,
    .reset = s_reset,
    .column_type = s_column_type,
    .column_int64 = s_column_int64,
    .column_blob = s_column_blob,
    .column_bytes = s_column_bytes,
    .changes = s_changes,
    .total_changes = s_total_changes,
    .last_insert_id = s_last_insert_id,
    .in_transaction = s_in_transaction,
    .errmsg = s_errmsg,
    .exec_script = s_exec_script,
    .query_int = s_query_int,
    .moved = s_moved,
    .busy_wait = s_busy_wait,
#ifdef LEDGERD_TEST_HOOKS
    .fail_next_commit = s_fail_next_commit,
#endif
};

static s_db_t *
s_db_new (store_t *store, sqlite3 *handle, bool owned)
{
    s_db_t *self = calloc (1, sizeof (s_db_t));
    if (!self)
        return NULL;
    self->base.ops = &s_ops;
    self->base.stmts = self->bases;
    for (int id = 0; id < STMT_COUNT; id++)
        self->bases [id] = (store_stmt_t) { &self->base, id };
    self->store = store;
    self->db = handle;
    self->owned = owned;
    return self;
}

/*  The writer's WAL hook, in place of SQLite's autocheckpoint, which does
    the same but swallows a failure: a WAL that cannot be checkpointed grows
    without bound, and an operator must hear of it. The commit that called
    it has happened whatever the checkpoint does, so it returns SQLITE_OK. */
static int
s_wal_hook (void *arg, sqlite3 *db, const char *name, int frames)
{
    s_db_t *self = (s_db_t *) arg;
    if (frames < CHECKPOINT_FRAMES)
        return SQLITE_OK;
    int rc = sqlite3_wal_checkpoint_v2 (db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc == SQLITE_OK)
        stats_add (&self->store->counts->checkpoints, 1);
    /*  Busy: another connection is checkpointing; that one will do. */
    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
        store_log_limited (self->store, STORE_LOG_CHECKPOINT, "the WAL of database %s (%d frames) could not be"
                           " checkpointed: %s: %s", self->store->path, frames, store_rc_name (rc),
                           sqlite3_errmsg (db));
    return SQLITE_OK;
}

/*  Say, before opening, whether the writer starts a new ledger: a file
    truncated to nothing is otherwise silently re-created empty. */
static void
s_log_new_ledger (const char *path)
{
    struct stat st;
    if (stat (path, &st) == 0) {
        if (S_ISREG (st.st_mode) && st.st_size == 0)
            log_warn_with ("store.new", LOG_FIELDS (LOG_TEXT ("db", path)), "database %s is empty: starting a new ledger", path);
    }
    else
    if (errno == ENOENT)
        log_info_with ("store.new", LOG_FIELDS (LOG_TEXT ("db", path)), "database %s does not exist: creating a new database", path);
}

/*  Remember which file the writer has open, so that the store can tell
    when the path names another one (or none). A database without a file
    (in memory, temporary) is not watched. */
static void
s_watch_file (s_db_t *self)
{
    const char *file = sqlite3_db_filename (self->db, "main");
    struct stat st;
    if (file && *file && stat (file, &st) == 0) {
        self->file = file;
        self->file_dev = st.st_dev;
        self->file_ino = st.st_ino;
    }
}

/*  Open the store's path, as its options say: the writer (creating it,
    WAL, foreign keys, synchronous as asked) or a read-only reader. */
store_db_t *
store_db_sqlite_open (store_t *store, char *errbuf, size_t errlen)
{
    const char *path = store->path;
    const store_options_t *options = &store->options;
    s_db_t *self = s_db_new (store, NULL, true);
    if (!self) {
        snprintf (errbuf, errlen, "out of memory");
        return NULL;
    }
    if (!options->read_only)
        s_log_new_ledger (path);
    int flags = options->read_only? SQLITE_OPEN_READONLY: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int rc = sqlite3_open_v2 (path, &self->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        snprintf (errbuf, errlen, "cannot open database %s: %s", path,
                  self->db? sqlite3_errmsg (self->db): sqlite3_errstr (rc));
        goto failed;
    }
    /*  SQLite quietly opens a file it may not write read-only; then every
        write would fail. Better not to start. */
    if (!options->read_only && sqlite3_db_readonly (self->db, "main") == 1) {
        snprintf (errbuf, errlen, "database %s is read-only: ledgerd must be able to write it", path);
        goto failed;
    }
    sqlite3_extended_result_codes (self->db, 1);
    sqlite3_busy_timeout (self->db, options->busy_timeout_ms);

    /*  Before the journal mode, which is written into the file: a
        database that is not ledgerd's is left as it was found. */
    char reason [300];
    if (!options->read_only && store_schema_check (&self->base, reason, sizeof (reason))) {
        snprintf (errbuf, errlen, "database %s: %s", path, reason);
        goto failed;
    }
    char *message = NULL;
    char pragmas [200];
    if (options->read_only)
        snprintf (pragmas, sizeof (pragmas), "PRAGMA query_only = ON;");
    else
        snprintf (pragmas, sizeof (pragmas),
                  "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = %s;",
                  options->sync_full? "FULL": "NORMAL");
    rc = sqlite3_exec (self->db, pragmas, NULL, NULL, &message);
    if (rc != SQLITE_OK) {
        snprintf (errbuf, errlen, "cannot set up database %s: %s", path, message? message: sqlite3_errstr (rc));
        sqlite3_free (message);
        goto failed;
    }
    if (!options->read_only) {
        sqlite3_wal_hook (self->db, s_wal_hook, self);
        s_watch_file (self);
    }
    return &self->base;

failed:
    s_destroy (&self->base);
    return NULL;
}

/*  After the store has migrated and prepared: from now on, closing
    checkpoints. */
void
store_db_sqlite_opened (store_db_t *db)
{
    s_db (db)->checkpoint_at_close = !s_db (db)->store->options.read_only;
}

sqlite3 *
store_db_sqlite_handle (store_db_t *db)
{
    return s_db (db)->db;
}

int
store_schema_migrate_sqlite (sqlite3 *handle, char *errbuf, size_t errlen)
{
    s_db_t *self = s_db_new (NULL, handle, false);
    if (!self) {
        snprintf (errbuf, errlen, "out of memory");
        return -1;
    }
    int rc = store_schema_migrate (&self->base, errbuf, errlen);
    s_destroy (&self->base);
    return rc;
}
