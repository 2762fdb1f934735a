/*  store_stmts -- the worker's transaction statements, with named
    parameters.

    The one way to bind txn.create's, txn.update's, txn.get's and
    txn.query's statements: the op handlers (store_ops.c) bind through it,
    and so does code that must run exactly what they run without a request
    (ledger-bench's --direct and --raw baselines, on a store of their own).
    A statement's parameter positions are written in store_stmts.c and
    nowhere else, so a caller cannot bind a stale one: the baselines once
    bound a query's window where the statement no longer read it, and
    measured reads of the table's first rows.

    Each statement function returns the statement reset and bound, ready
    for stmt_step (store_db.h); the caller resets it when done. Text bound
    is borrowed until then. */

#ifndef WORKER_STORE_STMTS_H
#define WORKER_STORE_STMTS_H

#include "proto_error.h"
#include "store.h"
#include "store_db.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  A transaction's values, as txn.create gives them. */
typedef struct {
    int64_t amount;             /* minor units */
    int64_t occurred_us;        /* UTC */
    int occurred_off;           /* the instant's UTC offset, minutes */
    const char *description;    /* NULL: none */
    size_t description_len;
    int64_t category_id;        /* 0: none */
    const char *external_id;    /* NULL: none (txn.create only; an update keeps it) */
    size_t external_id_len;
} store_txn_values_t;

/*  What a txn.update changes: the values whose set_ flag is true, if the
    row is at expect_version. */
typedef struct {
    bool set_amount;
    bool set_occurred;          /* occurred_us and occurred_off */
    bool set_description;
    bool set_category;
    store_txn_values_t values;
    int64_t expect_version;     /* 0: whatever version the row is at */
} store_txn_change_t;

/*  The rows of a txn.query: occurred in [from_us, to_us), after the
    cursor if there is one, amount in [min_amount, max_amount], in any of
    the categories if there are some; in (occurred, id) order, a page of
    limit rows. */
typedef struct {
    int64_t from_us;            /* INT64_MIN: from the first row */
    int64_t to_us;              /* INT64_MAX: to the last */
    bool has_cursor;            /* rows after (after_us, after_id) */
    int64_t after_us;
    int64_t after_id;
    int64_t min_amount;         /* INT64_MIN: no lower bound */
    int64_t max_amount;         /* INT64_MAX: no upper bound */
    int64_t limit;              /* rows a page holds */
    const char *category_ids;   /* a JSON array of category ids, or NULL: any category */
    size_t category_ids_len;
    bool subcategories;         /* with category_ids: their subcategories as well */
} store_txn_window_t;

/*  The columns of a transaction row, as txn.get's and txn.query's
    statements return it (TXN_COLUMNS). */
typedef enum {
    STORE_TXN_ID,
    STORE_TXN_AMOUNT,
    STORE_TXN_OCCURRED_US,
    STORE_TXN_OCCURRED_OFF,
    STORE_TXN_DESCRIPTION,      /* text or NULL */
    STORE_TXN_CATEGORY_ID,      /* NULL: none */
    STORE_TXN_CREATED_US,
    STORE_TXN_UPDATED_US,
    STORE_TXN_EXTERNAL_ID,      /* text or NULL */
    STORE_TXN_VERSION,          /* 1 on create, + 1 on every update */
    STORE_TXN_COLUMN_COUNT
} store_txn_column_t;

/*  The columns of txn.summary's rows (TXN_SUMMARY_COLUMNS). */
typedef enum {
    STORE_SUMMARY_OCCURRED_US,
    STORE_SUMMARY_ID,
    STORE_SUMMARY_CATEGORY_ID,  /* NULL: none */
    STORE_SUMMARY_AMOUNT
} store_summary_column_t;

/* A window without bounds: every row, in pages of limit. */
store_txn_window_t store_txn_window_all (int64_t limit);

/* INSERT a transaction with values, created and updated at now_us. */
store_stmt_t *store_stmts_txn_insert (store_t *store, const store_txn_values_t *values, int64_t now_us);

/* Bind row (0-based) of a multi-row insert (STMT_TXN_INSERT_8 or _32, as
   store_stmt returned it) with values, created and updated at now_us. The
   rows take no external_id: creates that carry one go in one by one. */
void store_stmts_txn_insert_row (store_stmt_t *stmt, uint32_t row, const store_txn_values_t *values,
                                 int64_t now_us);

/* UPDATE transaction id as change says, updated at now_us, its version
   + 1; it changes no row when the row is not at change->expect_version. */
store_stmt_t *store_stmts_txn_update (store_t *store, int64_t id, const store_txn_change_t *change,
                                      int64_t now_us);

/* SELECT the id of the transaction with this external_id: one row, or none. */
store_stmt_t *store_stmts_txn_by_external_id (store_t *store, const char *external_id, size_t len);

/* SELECT transaction id: one row (store_txn_column_t), or none. */
store_stmt_t *store_stmts_txn_get (store_t *store, int64_t id);

/* SELECT the rows of window: up to limit + 1 rows (store_txn_column_t),
   the one past the page saying that a next page exists. */
store_stmt_t *store_stmts_txn_query (store_t *store, const store_txn_window_t *window);

/* SELECT the next rows of window for txn.summary: up to limit rows
   (store_summary_column_t), in (occurred, id) order, after the cursor. */
store_stmt_t *store_stmts_txn_summary (store_t *store, const store_txn_window_t *window);

/*  For a caller that runs these outside a request, in transactions of its
    own. Each returns 0, or -1 with err set as the worker sets it for the
    same failure (the class, SQLite's code name, its message). */

/* BEGIN IMMEDIATE, as the worker begins a batch that writes. */
int store_stmts_begin (store_t *store, proto_error_t *err);

/* COMMIT. */
int store_stmts_commit (store_t *store, proto_error_t *err);

/* ROLLBACK, if a transaction is open. */
void store_stmts_rollback (store_t *store);

/* Step stmt, a statement that returns no rows, and reset it. */
int store_stmts_done (store_t *store, store_stmt_t *stmt, proto_error_t *err);

/* Set err from rc, the result of a step that failed. */
void store_stmts_error (store_t *store, int rc, proto_error_t *err);

/* The id the last INSERT made; the rows the last write changed. */
int64_t store_stmts_last_id (store_t *store);
int64_t store_stmts_changes (store_t *store);

#endif
