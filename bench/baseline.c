/*  baseline -- one SQLite writer running the workload, as the worker
    would but without it.

    The statements are the worker's own, taken from its statement list
    (worker/store_internal.h), and the schema is made by its own migration
    code, so the baselines cannot drift from what the worker runs. */

#include "baseline.h"
#include "signals.h"
#include "timing.h"

#include "store_internal.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PREFILL_BATCH 1000
#define S_TICK_NS (100 * TIMING_NS_PER_MS)

static const char *s_worker_sql [STMT_COUNT] = {
#define X(sym, sql) [STMT_##sym] = sql,
    STORE_STMT_LIST (X)
#undef X
};

typedef enum { S_BEGIN, S_COMMIT, S_ROLLBACK, S_INSERT, S_UPDATE, S_BY_ID, S_QUERY, S_COUNT } s_stmt_t;

/*  Which of the worker's statements each of ours is. */
static const store_stmt_id_t s_worker_stmt [S_COUNT] = {
    [S_BEGIN] = STMT_BEGIN_WRITE, [S_COMMIT] = STMT_COMMIT, [S_ROLLBACK] = STMT_ROLLBACK,
    [S_INSERT] = STMT_TXN_INSERT, [S_UPDATE] = STMT_TXN_UPDATE, [S_BY_ID] = STMT_TXN_BY_ID,
    [S_QUERY] = STMT_TXN_QUERY
};

struct _baseline_t {
    sqlite3 *db;
    sqlite3_stmt *stmt [S_COUNT];
};

/*  The class the worker gives an SQLite result code (PROTOCOL.md, Errors). */
static tally_class_t
s_class (int rc)
{
    switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:     return TALLY_BUSY;
        case SQLITE_IOERR:
        case SQLITE_FULL:
        case SQLITE_CANTOPEN:
        case SQLITE_PROTOCOL:
        case SQLITE_NOMEM:      return TALLY_IO;
        case SQLITE_CONSTRAINT: return TALLY_CONSTRAINT;
        default:                return TALLY_INTERNAL;
    }
}

/*  Open path and set the connection up as the worker sets up its own.
    Returns the connection, or NULL with errbuf set. */
static sqlite3 *
s_open (const char *path, const options_t *options, bool create, char *errbuf, size_t errlen)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2 (path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
                              | (create? SQLITE_OPEN_CREATE: 0), NULL);
    if (rc != SQLITE_OK) {
        snprintf (errbuf, errlen, "cannot open %s: %s", path, db? sqlite3_errmsg (db): sqlite3_errstr (rc));
        sqlite3_close (db);
        return NULL;
    }
    sqlite3_extended_result_codes (db, 1);
    sqlite3_busy_timeout (db, options->busy_timeout_ms);
    char pragmas [200];
    snprintf (pragmas, sizeof (pragmas),
              "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = %s;",
              options->sync_full? "FULL": "NORMAL");
    char *message = NULL;
    rc = sqlite3_exec (db, pragmas, NULL, NULL, &message);
    if (rc != SQLITE_OK) {
        snprintf (errbuf, errlen, "cannot set up %s: %s", path, message? message: sqlite3_errstr (rc));
        sqlite3_free (message);
        sqlite3_close (db);
        return NULL;
    }
    return db;
}

/*  Step a statement that returns no rows, and reset it. */
static int
s_step_done (sqlite3_stmt *stmt)
{
    int rc = sqlite3_step (stmt);
    sqlite3_reset (stmt);
    return rc == SQLITE_DONE? SQLITE_OK: rc;
}

static int
s_prepare (baseline_t *self, char *errbuf, size_t errlen)
{
    for (int n = 0; n < S_COUNT; n++) {
        int rc = sqlite3_prepare_v3 (self->db, s_worker_sql [s_worker_stmt [n]], -1, SQLITE_PREPARE_PERSISTENT,
                                     &self->stmt [n], NULL);
        if (rc != SQLITE_OK) {
            snprintf (errbuf, errlen, "cannot prepare \"%s\": %s", s_worker_sql [s_worker_stmt [n]],
                      sqlite3_errmsg (self->db));
            return -1;
        }
    }
    return 0;
}

baseline_t *
baseline_new (const char *path, const options_t *options, char *errbuf, size_t errlen)
{
    baseline_t *self = calloc (1, sizeof (baseline_t));
    if (!self) {
        snprintf (errbuf, errlen, "out of memory");
        return NULL;
    }
    self->db = s_open (path, options, false, errbuf, errlen);
    if (!self->db || s_prepare (self, errbuf, errlen))
        baseline_destroy (&self);
    return self;
}

void
baseline_destroy (baseline_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    baseline_t *self = *self_p;
    for (int n = 0; n < S_COUNT; n++)
        sqlite3_finalize (self->stmt [n]);
    sqlite3_close (self->db);
    free (self);
    *self_p = NULL;
}

/*  Rows one transaction wrote and read. */
typedef struct {
    uint64_t written;
    uint64_t read;
} s_rows_t;

/*  Run one op inside the open transaction. Returns SQLITE_OK or the
    failing result code; counts rows into rows and, for a create, puts the
    new id in *created_id. */
static int
s_op (baseline_t *self, const work_op_t *op, int64_t now_us, s_rows_t *rows, int64_t *created_id)
{
    sqlite3_stmt *stmt;
    int rc;
    switch (op->kind) {
        case WORK_CREATE:
            stmt = self->stmt [S_INSERT];
            sqlite3_bind_int64 (stmt, 1, op->amount);
            sqlite3_bind_int64 (stmt, 2, op->occurred_us);
            sqlite3_bind_int (stmt, 3, 0);
            sqlite3_bind_text (stmt, 4, WORK_DESCRIPTION, -1, SQLITE_STATIC);
            sqlite3_bind_null (stmt, 5);
            sqlite3_bind_int64 (stmt, 6, now_us);
            if ((rc = s_step_done (stmt)) == SQLITE_OK) {
                *created_id = sqlite3_last_insert_rowid (self->db);
                rows->written++;
            }
            return rc;
        case WORK_UPDATE:
            stmt = self->stmt [S_UPDATE];
            sqlite3_bind_int64 (stmt, 1, op->target_id);
            sqlite3_bind_int (stmt, 2, 1);
            sqlite3_bind_int64 (stmt, 3, op->amount);
            for (int param = 4; param <= 10; param++)
                sqlite3_bind_null (stmt, param);
            sqlite3_bind_int (stmt, 4, 0);
            sqlite3_bind_int (stmt, 7, 0);
            sqlite3_bind_int (stmt, 9, 0);
            sqlite3_bind_int64 (stmt, 11, now_us);
            if ((rc = s_step_done (stmt)) == SQLITE_OK)
                rows->written += (uint64_t) sqlite3_changes (self->db);
            return rc;
        case WORK_GET:
        case WORK_QUERY:
            if (op->kind == WORK_GET) {
                stmt = self->stmt [S_BY_ID];
                sqlite3_bind_int64 (stmt, 1, op->target_id);
            }
            else {
                stmt = self->stmt [S_QUERY];
                sqlite3_bind_int64 (stmt, 1, op->occurred_us);
                sqlite3_bind_int64 (stmt, 2, op->occurred_us + WORK_QUERY_SPAN_US);
                sqlite3_bind_int64 (stmt, 3, INT64_MIN);
                sqlite3_bind_int64 (stmt, 4, 0);
                sqlite3_bind_int64 (stmt, 5, INT64_MIN);
                sqlite3_bind_int64 (stmt, 6, INT64_MAX);
                sqlite3_bind_int (stmt, 7, WORK_QUERY_LIMIT);
            }
            /*  Read every column, as the worker does to pack the row. */
            while ((rc = sqlite3_step (stmt)) == SQLITE_ROW) {
                for (int column = 0; column < sqlite3_column_count (stmt); column++)
                    if (sqlite3_column_type (stmt, column) == SQLITE_TEXT)
                        sqlite3_column_text (stmt, column);
                    else
                        sqlite3_column_int64 (stmt, column);
                rows->read++;
            }
            sqlite3_reset (stmt);
            return rc == SQLITE_DONE? SQLITE_OK: rc;
        default:
            return SQLITE_MISUSE;
    }
}

/*  One batch as one transaction. Returns TALLY_CLASS_COUNT when it
    committed, else the class of its failure (it is then rolled back). */
static tally_class_t
s_transaction (baseline_t *self, const work_op_t *ops, size_t count, int64_t *created_ids, tally_t *tally)
{
    s_rows_t counted = { 0, 0 };
    int rc = s_step_done (self->stmt [S_BEGIN]);
    if (rc != SQLITE_OK)
        return s_class (rc);
    int64_t now_us = timing_wall_us ();
    for (size_t n = 0; rc == SQLITE_OK && n < count; n++) {
        created_ids [n] = 0;
        rc = s_op (self, &ops [n], now_us, &counted, &created_ids [n]);
    }
    if (rc == SQLITE_OK)
        rc = s_step_done (self->stmt [S_COMMIT]);
    if (rc != SQLITE_OK) {
        if (!sqlite3_get_autocommit (self->db))
            s_step_done (self->stmt [S_ROLLBACK]);
        return s_class (rc);
    }
    tally->rows_written += counted.written;
    tally->rows_read += counted.read;
    return TALLY_CLASS_COUNT;
}

int
baseline_run (baseline_t *self, const options_t *options, const baseline_plan_t *plan, tally_t *tally,
              char *errbuf, size_t errlen)
{
    size_t count = (size_t) options->batch_ops;
    workload_t *workload = workload_new (&options->mix, plan->lane, plan->lanes, options->seed,
                                         plan->prefill, plan->prefill_count);
    work_op_t *ops = calloc (count, sizeof (work_op_t));
    int64_t *created_ids = calloc (count, sizeof (int64_t));
    if (!workload || !ops || !created_ids) {
        snprintf (errbuf, errlen, "out of memory");
        workload_destroy (&workload);
        free (ops);
        free (created_ids);
        return -1;
    }
    bool open_loop = options->rate > 0;
    double interval_ns = open_loop? 1e9 * plan->lanes / options->rate: 0;
    double next_due = (double) plan->start_ns + interval_ns * plan->lane / plan->lanes;
    int64_t next_tick = plan->start_ns + S_TICK_NS;
    uint64_t done = 0;
    tally->started_ns = plan->start_ns;
    while (!signals_stopped () && !(plan->stop && atomic_load_explicit (plan->stop, memory_order_relaxed))
       &&  !(plan->quota && done >= plan->quota)) {
        int64_t now = timing_now_ns ();
        int64_t due = now;
        if (open_loop) {
            if (plan->deadline_ns && next_due >= (double) plan->deadline_ns)
                break;
            if (next_due > (double) now)
                timing_sleep_until_ns ((int64_t) next_due);
            due = (int64_t) next_due;
            next_due += interval_ns;
        }
        else
        if (plan->deadline_ns && now >= plan->deadline_ns)
            break;
        workload_next (workload, ops, count);
        tally_class_t failure = s_transaction (self, ops, count, created_ids, tally);
        int64_t end = timing_now_ns ();
        histogram_record (&tally->latency, end - due);
        tally->finished_ns = end;
        if (failure == TALLY_CLASS_COUNT) {
            tally->batches_ok++;
            tally->ops_ok += count;
            for (size_t n = 0; n < count; n++)
                if (ops [n].kind == WORK_CREATE)
                    workload_created (workload, created_ids [n], ops [n].seq);
        }
        else
            tally->errors [failure]++;
        tally_live_count (plan->live, failure == TALLY_CLASS_COUNT);
        done++;
        if (plan->tick && end >= next_tick) {
            plan->tick (plan->tick_arg, plan->start_ns);
            next_tick = end + S_TICK_NS;
        }
    }
    workload_destroy (&workload);
    free (ops);
    free (created_ids);
    return 0;
}

int
baseline_create (const char *path, const options_t *options, work_row_t *rows, size_t count,
                 char *errbuf, size_t errlen)
{
    sqlite3 *db = s_open (path, options, true, errbuf, errlen);
    if (!db)
        return -1;
    baseline_t maker = { .db = db };
    int rc = store_schema_migrate_sqlite (db, errbuf, errlen) || s_prepare (&maker, errbuf, errlen)? -1: 0;
    s_rows_t ignored = { 0, 0 };
    for (size_t made = 0; rc == 0 && made < count; ) {
        size_t batch = count - made < S_PREFILL_BATCH? count - made: S_PREFILL_BATCH;
        int sql_rc = s_step_done (maker.stmt [S_BEGIN]);
        int64_t now_us = timing_wall_us ();
        for (size_t n = 0; sql_rc == SQLITE_OK && n < batch; n++) {
            work_op_t op = { .kind = WORK_CREATE, .amount = 100 + (int64_t) ((made + n) % 1000),
                             .occurred_us = workload_occurred_us (-1, 1, (int64_t) (made + n)) };
            sql_rc = s_op (&maker, &op, now_us, &ignored, &rows [made + n].id);
            rows [made + n].occurred_us = op.occurred_us;
        }
        if (sql_rc == SQLITE_OK)
            sql_rc = s_step_done (maker.stmt [S_COMMIT]);
        if (sql_rc != SQLITE_OK) {
            snprintf (errbuf, errlen, "cannot prefill %s: %s", path, sqlite3_errmsg (db));
            rc = -1;
        }
        made += batch;
    }
    for (int n = 0; n < S_COUNT; n++)
        sqlite3_finalize (maker.stmt [n]);
    if (sqlite3_close (db) != SQLITE_OK && rc == 0) {
        snprintf (errbuf, errlen, "cannot close %s", path);
        rc = -1;
    }
    return rc;
}
