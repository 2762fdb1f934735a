/*  store_errors -- SQLite result codes to ledgerd error classes, in one place.

    The class says whether a retry can help: a lock held by someone else
    (busy) or a storage hiccup (io, a read-only file among them) can pass;
    a broken constraint or a corrupt file cannot. Storage failures are
    also logged here, since every one passes through this file. The code is
    SQLite's own extended name, so an operator can look it up. Every error
    the store makes of a storage condition is shaped here, the group's
    among them (a failed COMMIT, a batch that cannot be undone alone, a
    database file moved away). */

#include "store_internal.h"
#include "log.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#define RC(name) { name, #name }
static const struct { int rc; const char *name; } s_names [] = {
    RC (SQLITE_CONSTRAINT_CHECK), RC (SQLITE_CONSTRAINT_COMMITHOOK), RC (SQLITE_CONSTRAINT_FOREIGNKEY),
    RC (SQLITE_CONSTRAINT_FUNCTION), RC (SQLITE_CONSTRAINT_NOTNULL), RC (SQLITE_CONSTRAINT_PRIMARYKEY),
    RC (SQLITE_CONSTRAINT_TRIGGER), RC (SQLITE_CONSTRAINT_UNIQUE), RC (SQLITE_CONSTRAINT_VTAB),
    RC (SQLITE_CONSTRAINT_ROWID), RC (SQLITE_CONSTRAINT_PINNED), RC (SQLITE_CONSTRAINT_DATATYPE),
    RC (SQLITE_BUSY_RECOVERY), RC (SQLITE_BUSY_SNAPSHOT), RC (SQLITE_BUSY_TIMEOUT),
    RC (SQLITE_LOCKED_SHAREDCACHE), RC (SQLITE_LOCKED_VTAB),
    RC (SQLITE_IOERR_READ), RC (SQLITE_IOERR_SHORT_READ), RC (SQLITE_IOERR_WRITE), RC (SQLITE_IOERR_FSYNC),
    RC (SQLITE_IOERR_DIR_FSYNC), RC (SQLITE_IOERR_TRUNCATE), RC (SQLITE_IOERR_FSTAT), RC (SQLITE_IOERR_UNLOCK),
    RC (SQLITE_IOERR_RDLOCK), RC (SQLITE_IOERR_DELETE), RC (SQLITE_IOERR_NOMEM), RC (SQLITE_IOERR_ACCESS),
    RC (SQLITE_IOERR_CHECKRESERVEDLOCK), RC (SQLITE_IOERR_LOCK), RC (SQLITE_IOERR_CLOSE),
    RC (SQLITE_IOERR_SHMOPEN), RC (SQLITE_IOERR_SHMSIZE), RC (SQLITE_IOERR_SHMLOCK), RC (SQLITE_IOERR_SHMMAP),
    RC (SQLITE_IOERR_SEEK), RC (SQLITE_IOERR_DELETE_NOENT), RC (SQLITE_IOERR_MMAP),
    RC (SQLITE_IOERR_GETTEMPPATH), RC (SQLITE_IOERR_CONVPATH), RC (SQLITE_IOERR_VNODE), RC (SQLITE_IOERR_AUTH),
    RC (SQLITE_IOERR_BEGIN_ATOMIC), RC (SQLITE_IOERR_COMMIT_ATOMIC), RC (SQLITE_IOERR_ROLLBACK_ATOMIC),
    RC (SQLITE_IOERR_DATA), RC (SQLITE_IOERR_CORRUPTFS),
    RC (SQLITE_CANTOPEN_NOTEMPDIR), RC (SQLITE_CANTOPEN_ISDIR), RC (SQLITE_CANTOPEN_FULLPATH),
    RC (SQLITE_CANTOPEN_CONVPATH), RC (SQLITE_CANTOPEN_SYMLINK),
    RC (SQLITE_CORRUPT_VTAB), RC (SQLITE_CORRUPT_SEQUENCE), RC (SQLITE_CORRUPT_INDEX),
    RC (SQLITE_READONLY_RECOVERY), RC (SQLITE_READONLY_CANTLOCK), RC (SQLITE_READONLY_ROLLBACK),
    RC (SQLITE_READONLY_DBMOVED), RC (SQLITE_READONLY_CANTINIT), RC (SQLITE_READONLY_DIRECTORY),
    RC (SQLITE_ERROR), RC (SQLITE_INTERNAL), RC (SQLITE_PERM), RC (SQLITE_ABORT), RC (SQLITE_BUSY),
    RC (SQLITE_LOCKED), RC (SQLITE_NOMEM), RC (SQLITE_READONLY), RC (SQLITE_INTERRUPT), RC (SQLITE_IOERR),
    RC (SQLITE_CORRUPT), RC (SQLITE_NOTFOUND), RC (SQLITE_FULL), RC (SQLITE_CANTOPEN), RC (SQLITE_PROTOCOL),
    RC (SQLITE_EMPTY), RC (SQLITE_SCHEMA), RC (SQLITE_TOOBIG), RC (SQLITE_CONSTRAINT), RC (SQLITE_MISMATCH),
    RC (SQLITE_MISUSE), RC (SQLITE_NOLFS), RC (SQLITE_AUTH), RC (SQLITE_FORMAT), RC (SQLITE_RANGE),
    RC (SQLITE_NOTADB),
};
#undef RC

const char *
store_rc_name (int rc)
{
    for (size_t n = 0; n < sizeof (s_names) / sizeof (s_names [0]); n++)
        if (s_names [n].rc == rc)
            return s_names [n].name;
    for (size_t n = 0; n < sizeof (s_names) / sizeof (s_names [0]); n++)
        if (s_names [n].rc == (rc & 0xff))
            return s_names [n].name;
    return "SQLITE_ERROR";
}

static proto_class_t
s_class (int rc)
{
    switch (rc & 0xff) {
        case SQLITE_CONSTRAINT:
            return PROTO_CLASS_CONSTRAINT;
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return PROTO_CLASS_BUSY;
        case SQLITE_IOERR:
        case SQLITE_FULL:
        case SQLITE_CANTOPEN:
        case SQLITE_PROTOCOL:
        case SQLITE_NOMEM:
        case SQLITE_READONLY:   /* a file mode or mount an operator can fix: not the request's fault */
            return PROTO_CLASS_IO;
        default:                /* CORRUPT and NOTADB among them: a retry cannot help */
            return PROTO_CLASS_INTERNAL;
    }
}

void
store_log_limited (store_t *self, store_log_topic_t topic, const char *format, ...)
{
    store_log_limit_t *limit = &self->log_limits [topic];
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    int64_t now_us = (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
    if (limit->logged && now_us - limit->last_us < STORE_LOG_EVERY_US) {
        limit->held_back++;
        return;
    }
    char line [600];
    va_list args;
    va_start (args, format);
    vsnprintf (line, sizeof (line), format, args);
    va_end (args);
    /*  The log's event for each topic, in store_log_topic_t's order. */
    static const char *events [STORE_LOG_TOPICS] = {
        "store.io_error", "store.disk_full", "store.corrupt", "store.readonly", "store.checkpoint_failed",
        "store.moved" };
    if (limit->held_back)
        log_error_with (events [topic], LOG_FIELDS (LOG_INT ("unlogged", limit->held_back)),
                        "%s (%" PRIu64 " more like it in the last %d s were not logged)",
                        line, limit->held_back, STORE_LOG_EVERY_US / 1000000);
    else
        log_error (events [topic], "%s", line);
    limit->logged = true;
    limit->last_us = now_us;
    limit->held_back = 0;
}

/*  Which storage condition rc is, for the log; -1 for a failure that is
    the request's own (a constraint) or passes by itself (busy). */
static int
s_log_topic (int rc)
{
    switch (rc & 0xff) {
        case SQLITE_IOERR:
            return STORE_LOG_IOERR;
        case SQLITE_FULL:
            return STORE_LOG_FULL;
        case SQLITE_CORRUPT:
        case SQLITE_NOTADB:
            return STORE_LOG_CORRUPT;
        case SQLITE_READONLY:
            return STORE_LOG_READONLY;
        default:
            return -1;
    }
}

/*  The cluster's conditions: this node cannot run the batch now, another
    may. The store is then of no more use (store_usable says so). */
static bool
s_unavailable (store_t *self, int rc, int op, proto_error_t *err)
{
    if (rc != STORE_RC_LOST && rc != STORE_RC_NOT_LEADER && rc != STORE_RC_LEADERSHIP_LOST)
        return false;
    self->lost = true;
    proto_error_set (err, PROTO_CLASS_UNAVAILABLE, op, NULL, "NOT_LEADER", "%s: nothing of this batch was applied;"
                     " retry, on the leader", rc == STORE_RC_LOST? "the connection to this node's dqlite was lost"
                     : "this node is not the cluster's leader");
    return true;
}

/*  Clients retry io errors quietly; without this line a full disk or a
    failing device shows up nowhere an operator looks. */
static void
s_log_storage_failure (store_t *self, int rc, const char *message)
{
    int topic = s_log_topic (rc);
    if (topic >= 0)
        store_log_limited (self, (store_log_topic_t) topic, "storage failure on database %s: %s: %s",
                           self->path, store_rc_name (rc), message);
}

void
store_error_from_sqlite (store_t *self, int rc, int op, const char *field, proto_error_t *err)
{
    if (s_unavailable (self, rc, op, err))
        return;
    proto_class_t klass = s_class (rc);
    const char *message = self->db->ops->errmsg (self->db);
    s_log_storage_failure (self, rc, message);
    if (klass == PROTO_CLASS_BUSY)
        proto_error_set (err, klass, op, field, store_rc_name (rc),
                         "the database stayed locked for %d ms (%s)", self->options.busy_timeout_ms, message);
    else
        proto_error_set (err, klass, op, field, store_rc_name (rc), "%s", message);
}

void
store_error_from_commit (store_t *self, int rc, proto_error_t *err)
{
    if (rc == STORE_RC_LOST || rc == STORE_RC_NOT_LEADER || rc == STORE_RC_LEADERSHIP_LOST) {
        /*  The COMMIT went to the node, and the node (or its leadership)
            went away before it answered: the group may be in the cluster's
            log or not. Only a keyed retry can tell (replay, or first run). */
        self->lost = true;
        proto_error_set (err, PROTO_CLASS_UNAVAILABLE, -1, NULL, "OUTCOME_UNKNOWN", "the leader was lost while"
                         " committing: this batch may or may not have been applied; retry it with its key");
        return;
    }
    /*  Whatever the cause, nothing of the group is in the database and a
        retry can succeed: every batch is told so alike. */
    const char *message = self->db->ops->errmsg (self->db);
    s_log_storage_failure (self, rc, message);
    proto_error_set (err, PROTO_CLASS_IO, -1, NULL, store_rc_name (rc), "commit failed, nothing was applied: %s",
                     message);
}

void
store_error_group_undone (proto_error_t *err)
{
    proto_error_t batch_err = *err;
    proto_error_set (err, PROTO_CLASS_IO, -1, NULL, "GROUP_UNDONE", "a batch in the same commit failed after"
                     " writing and could not be undone alone; nothing was applied: %s", batch_err.message);
}

void
store_error_moved (store_t *self, const char *what, proto_error_t *err)
{
    proto_error_set (err, PROTO_CLASS_IO, -1, NULL, "DATABASE_MOVED", "database %s %s while ledgerd had it"
                     " open: nothing of this batch is in it; restart ledgerd, then retry", self->path, what);
    store_log_limited (self, STORE_LOG_MOVED, "database %s %s while ledgerd had it open: refusing every"
                       " write (DATABASE_MOVED) until ledgerd is restarted", self->path, what);
}

bool
store_class_is_per_op (proto_class_t klass)
{
    return klass == PROTO_CLASS_INVALID || klass == PROTO_CLASS_NOT_FOUND || klass == PROTO_CLASS_CONSTRAINT
        || klass == PROTO_CLASS_CONFLICT;
}

bool
store_class_ends_group (proto_class_t klass)
{
    return klass == PROTO_CLASS_BUSY || klass == PROTO_CLASS_IO || klass == PROTO_CLASS_INTERNAL
        || klass == PROTO_CLASS_UNAVAILABLE;
}
