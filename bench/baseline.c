/*  baseline -- one SQLite writer running the workload, as the worker
    would but without it.

    The writer is the worker's own store (store_new: its connection set-up,
    its schema migration, its statements) and binds the worker's statements
    through the functions its op handlers use (store_stmts.h); a failure
    gets the class the worker's error map gives it. So the baselines cannot
    drift from what the worker runs: tests/unit/test_bench_baseline.c holds
    them to it, row for row. */

#include "baseline.h"
#include "signals.h"
#include "timing.h"

#include "log.h"
#include "store_stmts.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PREFILL_BATCH 1000
#define S_TICK_NS (100 * TIMING_NS_PER_MS)

struct _baseline_t {
    store_t *store;
    stats_t stats;              /* the store's counters; nothing reads them here */
};

/*  The tally's class of a failure the worker's error map has classed. */
static tally_class_t
s_class (const proto_error_t *err)
{
    return tally_class_from_name (proto_class_name (err->klass));
}

/*  Open (creating, migrating) the worker's store on path, as a writer set
    up as options say. Returns 0, or -1 with errbuf set. */
static int
s_open (baseline_t *self, const char *path, const options_t *options, char *errbuf, size_t errlen)
{
    /*  The store's info lines (a new database, the WAL checkpointed at
        close) are the daemon's news, not the bench's; failures still show. */
    log_set_level (LOG_LEVEL_WARN);
    store_options_t store_options = {
        .sync_full = options->sync_full, .busy_timeout_ms = options->busy_timeout_ms, .read_only = false
    };
    stats_init (&self->stats);
    self->store = store_new (path, &store_options, &self->stats, errbuf, errlen);
    return self->store? 0: -1;
}

baseline_t *
baseline_new (const char *path, const options_t *options, char *errbuf, size_t errlen)
{
    baseline_t *self = calloc (1, sizeof (baseline_t));
    if (!self) {
        snprintf (errbuf, errlen, "out of memory");
        return NULL;
    }
    if (s_open (self, path, options, errbuf, errlen))
        baseline_destroy (&self);
    return self;
}

void
baseline_destroy (baseline_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    baseline_t *self = *self_p;
    store_destroy (&self->store);
    free (self);
    *self_p = NULL;
}

/*  Rows one transaction wrote and read; the first of those read go into
    out [0 .. out_max) when out is set. */
typedef struct {
    uint64_t written;
    uint64_t read;
    work_row_t *out;
    size_t out_max;
} s_rows_t;

/*  Read the rows of stmt as the worker reads them to pack a reply: every
    column of up to limit rows, stepping steps times at most (a query steps
    once past its page, to learn whether there is a next). */
static int
s_read (baseline_t *self, store_stmt_t *stmt, int64_t limit, int64_t steps, s_rows_t *rows, proto_error_t *err)
{
    int rc = SQLITE_DONE;
    for (int64_t count = 0; count < steps && (rc = stmt_step (stmt)) == SQLITE_ROW; count++) {
        if (count == limit)
            continue;
        for (int column = 0; column < STORE_TXN_COLUMN_COUNT; column++)
            if (stmt_column_type (stmt, column) == SQLITE_TEXT)
                stmt_column_blob (stmt, column);
            else
                stmt_column_int64 (stmt, column);
        if (rows->out && rows->read < rows->out_max)
            rows->out [rows->read] = (work_row_t) { .id = stmt_column_int64 (stmt, STORE_TXN_ID),
                                                    .occurred_us = stmt_column_int64 (stmt, STORE_TXN_OCCURRED_US) };
        rows->read++;
    }
    stmt_reset (stmt);
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return 0;
    store_stmts_error (self->store, rc, err);
    return -1;
}

/*  Run one op inside the open transaction, as the worker's handler of its
    op runs its statement. Returns 0, or -1 with err set; counts rows into
    rows and, for a create, puts the new id in *created_id. */
static int
s_op (baseline_t *self, const work_op_t *op, int64_t now_us, s_rows_t *rows, int64_t *created_id,
      proto_error_t *err)
{
    store_txn_values_t values = {
        .amount = op->amount, .occurred_us = op->occurred_us,
        .description = WORK_DESCRIPTION, .description_len = strlen (WORK_DESCRIPTION)
    };
    switch (op->kind) {
        case WORK_CREATE:
            if (store_stmts_done (self->store, store_stmts_txn_insert (self->store, &values, now_us), err))
                return -1;
            *created_id = store_stmts_last_id (self->store);
            rows->written++;
            return 0;
        case WORK_UPDATE: {
            store_txn_change_t change = { .set_amount = true, .values = { .amount = op->amount } };
            if (store_stmts_done (self->store, store_stmts_txn_update (self->store, op->target_id, &change, now_us),
                                  err))
                return -1;
            rows->written += (uint64_t) store_stmts_changes (self->store);
            return 0;
        }
        case WORK_GET:
            return s_read (self, store_stmts_txn_get (self->store, op->target_id), 1, 1, rows, err);
        case WORK_QUERY: {
            store_txn_window_t window = store_txn_window_all (WORK_QUERY_LIMIT);
            window.from_us = op->occurred_us;
            window.to_us = op->occurred_us + WORK_QUERY_SPAN_US;
            return s_read (self, store_stmts_txn_query (self->store, &window), WORK_QUERY_LIMIT,
                           WORK_QUERY_LIMIT + 1, rows, err);
        }
        default:
            proto_error_set (err, PROTO_CLASS_INTERNAL, -1, NULL, "INTERNAL", "unknown workload op %d", op->kind);
            return -1;
    }
}

/*  One batch as one transaction. Returns TALLY_CLASS_COUNT when it
    committed, else the class of its failure (it is then rolled back). */
static tally_class_t
s_transaction (baseline_t *self, const work_op_t *ops, size_t count, int64_t *created_ids, tally_t *tally)
{
    s_rows_t counted = { .written = 0 };
    proto_error_t err = { .klass = PROTO_CLASS_NONE };
    if (store_stmts_begin (self->store, &err))
        return s_class (&err);
    int64_t now_us = timing_wall_us ();
    int rc = 0;
    for (size_t n = 0; rc == 0 && n < count; n++) {
        created_ids [n] = 0;
        rc = s_op (self, &ops [n], now_us, &counted, &created_ids [n], &err);
    }
    if (rc == 0)
        rc = store_stmts_commit (self->store, &err);
    if (rc) {
        store_stmts_rollback (self->store);
        return s_class (&err);
    }
    tally->rows_written += counted.written;
    tally->rows_read += counted.read;
    return TALLY_CLASS_COUNT;
}

int
baseline_read (baseline_t *self, const work_op_t *op, work_row_t *rows, size_t max, size_t *count_p,
               char *errbuf, size_t errlen)
{
    s_rows_t counted = { .out = rows, .out_max = max };
    proto_error_t err = { .klass = PROTO_CLASS_NONE };
    int64_t ignored;
    int rc = store_stmts_begin (self->store, &err);
    if (rc == 0)
        rc = s_op (self, op, timing_wall_us (), &counted, &ignored, &err);
    store_stmts_rollback (self->store);
    if (rc) {
        snprintf (errbuf, errlen, "%s", err.message);
        return -1;
    }
    *count_p = counted.read < max? (size_t) counted.read: max;
    return 0;
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

/*  Prefill rows [made .. made + batch) in one transaction. */
static int
s_prefill (baseline_t *self, work_row_t *rows, size_t made, size_t batch, proto_error_t *err)
{
    s_rows_t ignored = { .written = 0 };
    if (store_stmts_begin (self->store, err))
        return -1;
    int64_t now_us = timing_wall_us ();
    for (size_t n = 0; n < batch; n++) {
        work_op_t op = { .kind = WORK_CREATE, .amount = 100 + (int64_t) ((made + n) % 1000),
                         .occurred_us = workload_occurred_us (-1, 1, (int64_t) (made + n)) };
        rows [made + n].occurred_us = op.occurred_us;
        if (s_op (self, &op, now_us, &ignored, &rows [made + n].id, err)) {
            store_stmts_rollback (self->store);
            return -1;
        }
    }
    return store_stmts_commit (self->store, err);
}

int
baseline_create (const char *path, const options_t *options, work_row_t *rows, size_t count,
                 char *errbuf, size_t errlen)
{
    baseline_t maker = { .store = NULL };
    if (s_open (&maker, path, options, errbuf, errlen))
        return -1;
    int rc = 0;
    proto_error_t err = { .klass = PROTO_CLASS_NONE };
    for (size_t made = 0; rc == 0 && made < count; made += S_PREFILL_BATCH) {
        size_t batch = count - made < S_PREFILL_BATCH? count - made: S_PREFILL_BATCH;
        if (s_prefill (&maker, rows, made, batch, &err)) {
            snprintf (errbuf, errlen, "cannot prefill %s: %s", path, err.message);
            rc = -1;
        }
    }
    store_destroy (&maker.store);
    return rc;
}
