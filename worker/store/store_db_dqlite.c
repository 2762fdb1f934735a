/*  store_db_dqlite -- the store's statements on a dqlite node, over
    dqlite's wire protocol (cluster mode).

    The node runs the same SQL on the same SQLite and replicates each
    COMMIT through Raft before it answers it. One request is in flight at a
    time, so every statement is a round trip over the connection (a unix
    socket to this process's own node). A statement that returns rows is
    sent as QUERY and its rows are read whole before the first step
    returns; every other statement is sent as EXEC (a write sent as QUERY
    outside a transaction crashes dqlite 1.11's leader). Once the
    connection fails, every call says STORE_RC_LOST: the store is then
    dropped and a new one opened when this node leads again. */

#include "store_internal.h"
#include "dqw.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { S_CONTROL, S_WRITE, S_QUERY } s_kind_t;

typedef struct {
    uint32_t id;                /* the node's statement id */
    s_kind_t kind;
    unsigned params;            /* the statement's parameter count */
    dqw_value_t *values;        /* params of them: [index - 1], DQW_NULL when not bound */
    bool stepped;               /* sent since the last reset */
    dqw_rows_t rows;            /* a query's rows, read whole */
    size_t next;                /* the row the next step returns */
} s_stmt_t;

typedef struct {
    store_db_t base;
    dqw_t *conn;                /* NULL once lost */
    uint32_t db;
    s_stmt_t stmts [STMT_COUNT];
    store_stmt_t bases [STMT_COUNT];
    int64_t changes;
    int64_t total_changes;
    int64_t last_id;
    bool in_tx;
    char errmsg [256];
} s_db_t;

static s_db_t *
s_db (store_db_t *db)
{
    return (s_db_t *) db;
}

static s_stmt_t *
s_stmt (store_stmt_t *stmt)
{
    return &s_db (stmt->db)->stmts [stmt->id];
}

/*  What a statement is, from its first word. */
static s_kind_t
s_kind_of (const char *sql)
{
    while (*sql == ' ')
        sql++;
    if (strncasecmp (sql, "SELECT", 6) == 0 || strncasecmp (sql, "WITH", 4) == 0
    ||  strncasecmp (sql, "PRAGMA", 6) == 0)
        return S_QUERY;
    if (strncasecmp (sql, "INSERT", 6) == 0 || strncasecmp (sql, "UPDATE", 6) == 0
    ||  strncasecmp (sql, "DELETE", 6) == 0 || strncasecmp (sql, "REPLACE", 7) == 0)
        return S_WRITE;
    return S_CONTROL;
}

/*  Transaction state follows the control statements that succeed. */
static void
s_track_tx (s_db_t *self, const char *sql)
{
    while (*sql == ' ')
        sql++;
    if (strncasecmp (sql, "BEGIN", 5) == 0)
        self->in_tx = true;
    else
    if (strncasecmp (sql, "COMMIT", 6) == 0 || strncasecmp (sql, "END", 3) == 0
    ||  (strncasecmp (sql, "ROLLBACK", 8) == 0 && strncasecmp (sql, "ROLLBACK TO", 11) != 0))
        self->in_tx = false;
}

/*  A request failed: the result code the store sees. */
static int
s_failed (s_db_t *self, int rc)
{
    if (rc == DQW_FAILURE) {
        snprintf (self->errmsg, sizeof (self->errmsg), "%s", dqw_errmsg (self->conn));
        int code = (int) dqw_errcode (self->conn);
        if (code == STORE_RC_NOT_LEADER || code == STORE_RC_LEADERSHIP_LOST)
            self->in_tx = false;
        return code? code: SQLITE_ERROR;
    }
    if (rc == DQW_MISUSE && self->conn) {
        /*  Refused before anything was sent: the connection is fine. */
        snprintf (self->errmsg, sizeof (self->errmsg), "%s", dqw_errmsg (self->conn));
        return SQLITE_MISUSE;
    }
    snprintf (self->errmsg, sizeof (self->errmsg), "connection to the dqlite node lost: %s",
              self->conn? dqw_errmsg (self->conn): "closed");
    dqw_destroy (&self->conn);
    self->in_tx = false;
    return STORE_RC_LOST;
}

static void
s_bind (store_stmt_t *stmt, int index, dqw_value_t value)
{
    s_stmt_t *self = s_stmt (stmt);
    if (index >= 1 && (unsigned) index <= self->params)
        self->values [index - 1] = value;
}

static void
s_bind_int64 (store_stmt_t *stmt, int index, int64_t value)
{
    s_bind (stmt, index, (dqw_value_t) { .type = DQW_INTEGER, .i = value });
}

static void
s_bind_text (store_stmt_t *stmt, int index, const char *text, size_t len)
{
    s_bind (stmt, index, (dqw_value_t) { .type = DQW_TEXT, .p = text, .len = len });
}

static void
s_bind_blob (store_stmt_t *stmt, int index, const void *data, size_t size)
{
    s_bind (stmt, index, (dqw_value_t) { .type = DQW_BLOB, .p = data, .len = size });
}

static void
s_bind_null (store_stmt_t *stmt, int index)
{
    s_bind (stmt, index, (dqw_value_t) { .type = DQW_NULL });
}

static void
s_reset (store_stmt_t *stmt)
{
    s_stmt_t *self = s_stmt (stmt);
    for (unsigned n = 0; n < self->params; n++)
        self->values [n] = (dqw_value_t) { .type = DQW_NULL };
    self->stepped = false;
    self->next = 0;
}

static int
s_step (store_stmt_t *stmt)
{
    s_db_t *db = s_db (stmt->db);
    s_stmt_t *self = s_stmt (stmt);
    if (!self->stepped) {
        if (!db->conn)
            return s_failed (db, DQW_TRANSPORT);
        self->stepped = true;
        self->next = 0;
        int rc;
        if (self->kind == S_QUERY) {
            dqw_rows_reset (&self->rows);
            rc = dqw_query (db->conn, db->db, self->id, self->values, self->params, &self->rows);
        }
        else {
            uint64_t last_id = 0, changes = 0;
            rc = dqw_exec (db->conn, db->db, self->id, self->values, self->params, &last_id, &changes);
            if (rc == 0 && self->kind == S_WRITE) {
                db->changes = (int64_t) changes;
                db->total_changes += (int64_t) changes;
                db->last_id = (int64_t) last_id;
            }
            if (rc == 0 && (stmt->id == STMT_BEGIN_READ || stmt->id == STMT_BEGIN_WRITE))
                db->in_tx = true;
            if (rc == 0 && (stmt->id == STMT_COMMIT || stmt->id == STMT_ROLLBACK))
                db->in_tx = false;
        }
        if (rc)
            return s_failed (db, rc);
    }
    if (self->kind != S_QUERY || self->next >= self->rows.rows)
        return SQLITE_DONE;
    self->next++;
    return SQLITE_ROW;
}

/*  The value in column of the row the last step returned. */
static const dqw_value_t *
s_value (store_stmt_t *stmt, int column)
{
    static const dqw_value_t null = { .type = DQW_NULL };
    s_stmt_t *self = s_stmt (stmt);
    if (self->next == 0 || column < 0 || (size_t) column >= self->rows.columns)
        return &null;
    return dqw_rows_get (&self->rows, self->next - 1, (size_t) column);
}

static int
s_column_type (store_stmt_t *stmt, int column)
{
    /*  dqlite's type numbers are SQLite's. */
    return (int) s_value (stmt, column)->type;
}

static int64_t
s_column_int64 (store_stmt_t *stmt, int column)
{
    const dqw_value_t *value = s_value (stmt, column);
    return value->type == DQW_INTEGER? value->i: value->type == DQW_FLOAT? (int64_t) value->f: 0;
}

static const void *
s_column_blob (store_stmt_t *stmt, int column)
{
    const dqw_value_t *value = s_value (stmt, column);
    return value->type == DQW_TEXT || value->type == DQW_BLOB? value->p: NULL;
}

static size_t
s_column_bytes (store_stmt_t *stmt, int column)
{
    const dqw_value_t *value = s_value (stmt, column);
    return value->type == DQW_TEXT || value->type == DQW_BLOB? value->len: 0;
}

static int64_t
s_changes (store_db_t *db)
{
    return s_db (db)->changes;
}

static int64_t
s_total_changes (store_db_t *db)
{
    return s_db (db)->total_changes;
}

static int64_t
s_last_insert_id (store_db_t *db)
{
    return s_db (db)->last_id;
}

static bool
s_in_transaction (store_db_t *db)
{
    return s_db (db)->in_tx;
}

static const char *
s_errmsg (store_db_t *db)
{
    return s_db (db)->errmsg;
}

static int
s_exec_script (store_db_t *db, const char *sql)
{
    s_db_t *self = s_db (db);
    if (!self->conn)
        return s_failed (self, DQW_TRANSPORT);
    uint64_t last_id, changes;
    int rc = dqw_exec_sql (self->conn, self->db, sql, NULL, 0, &last_id, &changes);
    if (rc)
        return s_failed (self, rc);
    s_track_tx (self, sql);
    return SQLITE_OK;
}

static int
s_query_int (store_db_t *db, const char *sql, int64_t *value_p)
{
    s_db_t *self = s_db (db);
    if (!self->conn)
        return s_failed (self, DQW_TRANSPORT);
    dqw_rows_t rows;
    dqw_rows_init (&rows);
    int rc = dqw_query_sql (self->conn, self->db, sql, NULL, 0, &rows);
    if (rc) {
        dqw_rows_reset (&rows);
        return s_failed (self, rc);
    }
    rc = SQLITE_EMPTY;
    if (rows.rows > 0 && rows.columns > 0 && dqw_rows_get (&rows, 0, 0)->type == DQW_INTEGER) {
        *value_p = dqw_rows_get (&rows, 0, 0)->i;
        rc = SQLITE_OK;
    }
    dqw_rows_reset (&rows);
    return rc;
}

static int
s_prepare (store_db_t *db, int id, const char *sql, char *errbuf, size_t errlen)
{
    s_db_t *self = s_db (db);
    s_stmt_t *stmt = &self->stmts [id];
    uint64_t params = 0;
    int rc = self->conn? dqw_prepare (self->conn, self->db, sql, &stmt->id, &params): DQW_TRANSPORT;
    if (rc) {
        s_failed (self, rc);
        snprintf (errbuf, errlen, "cannot prepare statement %d on the dqlite node: %s", id, self->errmsg);
        return -1;
    }
    if (params > DQW_MAX_PARAMS) {
        snprintf (errbuf, errlen, "statement %d takes %llu parameters; dqlite's wire protocol carries %d", id,
                  (unsigned long long) params, DQW_MAX_PARAMS);
        return -1;
    }
    free (stmt->values);
    stmt->values = calloc (params? params: 1, sizeof (dqw_value_t));
    if (!stmt->values || params > UINT32_MAX) {
        stmt->params = 0;
        snprintf (errbuf, errlen, "out of memory for statement %d's %llu parameters", id, (unsigned long long) params);
        return -1;
    }
    stmt->params = (unsigned) params;
    s_reset (&self->bases [id]);
    stmt->kind = s_kind_of (sql);
    return 0;
}

static void
s_destroy (store_db_t *db)
{
    s_db_t *self = s_db (db);
    /*  Statements die with the connection; an open transaction is rolled
        back by the node when the connection closes. */
    for (int id = 0; id < STMT_COUNT; id++) {
        dqw_rows_reset (&self->stmts [id].rows);
        free (self->stmts [id].values);
    }
    dqw_destroy (&self->conn);
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
};

store_db_t *
store_db_dqlite_new (const char *address, const char *name, int timeout_ms, char *errbuf, size_t errlen)
{
    s_db_t *self = calloc (1, sizeof (s_db_t));
    if (!self) {
        snprintf (errbuf, errlen, "out of memory");
        return NULL;
    }
    self->base.ops = &s_ops;
    self->base.stmts = self->bases;
    for (int id = 0; id < STMT_COUNT; id++) {
        self->bases [id] = (store_stmt_t) { &self->base, id };
        dqw_rows_init (&self->stmts [id].rows);
        s_reset (&self->bases [id]);
    }
    char why [200];
    if (!(self->conn = dqw_connect (address, timeout_ms, why, sizeof (why)))) {
        snprintf (errbuf, errlen, "cannot connect to the dqlite node at %s: %s", address, why);
        s_destroy (&self->base);
        return NULL;
    }
    dqw_set_timeout (self->conn, timeout_ms);
    int rc = dqw_open (self->conn, name, &self->db);
    if (rc) {
        s_failed (self, rc);
        snprintf (errbuf, errlen, "cannot open database %s on the dqlite node: %s", name, self->errmsg);
        s_destroy (&self->base);
        return NULL;
    }
    return &self->base;
}
