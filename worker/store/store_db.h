/*  store_db -- the statement interface the store runs on, and its two
    backends.

    The op handlers, group commit, savepoints, idempotency and the error map
    are written once, against this interface; a backend supplies the
    connection: SQLite in this process (store_db_sqlite.c), or a dqlite node
    over dqlite's wire protocol (store_db_dqlite.c), where the node runs
    the same SQL on the same SQLite and replicates each COMMIT with Raft.

    Statements are the store's fixed list (STORE_STMT_LIST), prepared once
    by id. Results are SQLite's result codes either way (dqlite reports
    SQLite's extended codes), plus STORE_RC_LOST: the connection to the
    node is gone, and with it whatever transaction was open. Text and blobs
    bound are borrowed until the statement is reset; column values read are
    valid until the next step or reset. A store_db is used by one thread. */

#ifndef WORKER_STORE_DB_H
#define WORKER_STORE_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _store_db_t store_db_t;

/*  One prepared statement; a backend keeps one per id of the list. */
typedef struct {
    store_db_t *db;
    int id;
} store_stmt_t;

/*  The connection to the node was lost (or timed out): a transaction that
    was open is gone, and a COMMIT that was sent has an unknown outcome.
    Not an SQLite code (those fit in 16 bits). */
#define STORE_RC_LOST 0x10000
/*  dqlite's own extended codes (SQLITE_IOERR | n << 8): the node is not
    the leader, or stopped being the leader while it applied a COMMIT. */
#define STORE_RC_NOT_LEADER 10250
#define STORE_RC_LEADERSHIP_LOST 10506

typedef struct {
    void (*destroy) (store_db_t *db);
    int (*prepare) (store_db_t *db, int id, const char *sql, char *errbuf, size_t errlen);
    void (*bind_int64) (store_stmt_t *stmt, int index, int64_t value);
    void (*bind_text) (store_stmt_t *stmt, int index, const char *text, size_t len);
    void (*bind_blob) (store_stmt_t *stmt, int index, const void *data, size_t size);
    void (*bind_null) (store_stmt_t *stmt, int index);
    int (*step) (store_stmt_t *stmt);           /* SQLITE_ROW, SQLITE_DONE, or an error */
    void (*reset) (store_stmt_t *stmt);         /* and clear the bindings */
    int (*column_type) (store_stmt_t *stmt, int column);        /* SQLITE_NULL, ... */
    int64_t (*column_int64) (store_stmt_t *stmt, int column);
    const void *(*column_blob) (store_stmt_t *stmt, int column); /* text too, NUL after it */
    size_t (*column_bytes) (store_stmt_t *stmt, int column);
    int64_t (*changes) (store_db_t *db);        /* rows changed by the last write statement */
    int64_t (*total_changes) (store_db_t *db);  /* since the connection opened */
    int64_t (*last_insert_id) (store_db_t *db);
    bool (*in_transaction) (store_db_t *db);
    const char *(*errmsg) (store_db_t *db);     /* of the last failure */
    /*  Run sql (several statements, no parameters). Returns a result code. */
    int (*exec_script) (store_db_t *db, const char *sql);
    /*  The first column of the first row of sql, as an integer. */
    int (*query_int) (store_db_t *db, const char *sql, int64_t *value_p);
    /*  Optional (NULL): how the database's file is no longer the one
        opened, or NULL while it is; wait for locks (true) or not at all. */
    const char *(*moved) (store_db_t *db);
    void (*busy_wait) (store_db_t *db, bool wait);
#ifdef LEDGERD_TEST_HOOKS
    void (*fail_next_commit) (store_db_t *db);  /* ledgerd_test only */
#endif
} store_db_ops_t;

struct _store_db_t {
    const store_db_ops_t *ops;
    store_stmt_t *stmts;        /* [STMT_COUNT], the backend's */
};

/*  The statement with this id, reset and with no bindings. */
static inline store_stmt_t *
store_db_stmt (store_db_t *db, int id)
{
    store_stmt_t *stmt = &db->stmts [id];
    db->ops->reset (stmt);
    return stmt;
}

static inline void stmt_bind_int64 (store_stmt_t *s, int i, int64_t v) { s->db->ops->bind_int64 (s, i, v); }
static inline void stmt_bind_text (store_stmt_t *s, int i, const char *t, size_t n) { s->db->ops->bind_text (s, i, t, n); }
static inline void stmt_bind_blob (store_stmt_t *s, int i, const void *p, size_t n) { s->db->ops->bind_blob (s, i, p, n); }
static inline void stmt_bind_null (store_stmt_t *s, int i) { s->db->ops->bind_null (s, i); }
/* An id, or NULL for none (0); text, or NULL for none (t NULL). */
static inline void stmt_bind_id_or_null (store_stmt_t *s, int i, int64_t id)
{
    if (id)
        stmt_bind_int64 (s, i, id);
    else
        stmt_bind_null (s, i);
}
static inline void stmt_bind_text_or_null (store_stmt_t *s, int i, const char *t, size_t n)
{
    if (t)
        stmt_bind_text (s, i, t, n);
    else
        stmt_bind_null (s, i);
}
static inline int stmt_step (store_stmt_t *s) { return s->db->ops->step (s); }
static inline void stmt_reset (store_stmt_t *s) { s->db->ops->reset (s); }
static inline int stmt_column_type (store_stmt_t *s, int c) { return s->db->ops->column_type (s, c); }
static inline int64_t stmt_column_int64 (store_stmt_t *s, int c) { return s->db->ops->column_int64 (s, c); }
static inline const void *stmt_column_blob (store_stmt_t *s, int c) { return s->db->ops->column_blob (s, c); }
static inline size_t stmt_column_bytes (store_stmt_t *s, int c) { return s->db->ops->column_bytes (s, c); }

/*  A connection to the dqlite node at address ("@abstract", "/path" or
    "host:port"), with database name open on it. Every request waits at
    most timeout_ms; then the connection counts as lost. Returns NULL with
    errbuf set. */
store_db_t *store_db_dqlite_new (const char *address, const char *name, int timeout_ms,
                                 char *errbuf, size_t errlen);

#endif
