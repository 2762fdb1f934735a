/*  store_stmts -- the worker's transaction statements, bound by name.

    Every parameter position of TXN_INSERT (and its multi-row forms),
    TXN_UPDATE, TXN_BY_ID, TXN_BY_EXTERNAL_ID and TXN_QUERY*
    (store_internal.h) is written here, next to the statement's meaning,
    and nowhere else. */

#include "store_stmts.h"
#include "store_internal.h"

store_txn_window_t
store_txn_window_all (int64_t limit)
{
    return (store_txn_window_t) {
        .from_us = INT64_MIN, .to_us = INT64_MAX, .has_cursor = false,
        .min_amount = INT64_MIN, .max_amount = INT64_MAX, .limit = limit
    };
}

store_stmt_t *
store_stmts_txn_insert (store_t *store, const store_txn_values_t *values, int64_t now_us)
{
    store_stmt_t *stmt = store_stmt (store, STMT_TXN_INSERT);
    stmt_bind_int64 (stmt, 1, values->amount);
    stmt_bind_int64 (stmt, 2, values->occurred_us);
    stmt_bind_int64 (stmt, 3, values->occurred_off);
    stmt_bind_text_or_null (stmt, 4, values->description, values->description_len);
    stmt_bind_id_or_null (stmt, 5, values->category_id);
    stmt_bind_int64 (stmt, 6, now_us);         /* created_us and updated_us */
    stmt_bind_text_or_null (stmt, 7, values->external_id, values->external_id_len);
    return stmt;
}

void
store_stmts_txn_insert_row (store_stmt_t *stmt, uint32_t row, const store_txn_values_t *values, int64_t now_us)
{
    int base = (int) (row * TXN_ROW_PARAMS);
    stmt_bind_int64 (stmt, base + 1, values->amount);
    stmt_bind_int64 (stmt, base + 2, values->occurred_us);
    stmt_bind_int64 (stmt, base + 3, values->occurred_off);
    stmt_bind_text_or_null (stmt, base + 4, values->description, values->description_len);
    stmt_bind_id_or_null (stmt, base + 5, values->category_id);
    stmt_bind_int64 (stmt, base + 6, now_us);  /* created_us */
    stmt_bind_int64 (stmt, base + 7, now_us);  /* updated_us */
}

store_stmt_t *
store_stmts_txn_by_external_id (store_t *store, const char *external_id, size_t len)
{
    store_stmt_t *stmt = store_stmt (store, STMT_TXN_BY_EXTERNAL_ID);
    stmt_bind_text (stmt, 1, external_id, len);
    return stmt;
}

store_stmt_t *
store_stmts_txn_update (store_t *store, int64_t id, const store_txn_change_t *change, int64_t now_us)
{
    const store_txn_values_t *values = &change->values;
    store_stmt_t *stmt = store_stmt (store, STMT_TXN_UPDATE);
    stmt_bind_int64 (stmt, 1, id);
    stmt_bind_int64 (stmt, 2, change->set_amount);
    stmt_bind_int64 (stmt, 3, values->amount);
    stmt_bind_int64 (stmt, 4, change->set_occurred);
    stmt_bind_int64 (stmt, 5, values->occurred_us);
    stmt_bind_int64 (stmt, 6, values->occurred_off);
    stmt_bind_int64 (stmt, 7, change->set_description);
    stmt_bind_text_or_null (stmt, 8, values->description, values->description_len);
    stmt_bind_int64 (stmt, 9, change->set_category);
    stmt_bind_id_or_null (stmt, 10, values->category_id);
    stmt_bind_int64 (stmt, 11, now_us);
    stmt_bind_id_or_null (stmt, 12, change->expect_version);
    return stmt;
}

store_stmt_t *
store_stmts_txn_get (store_t *store, int64_t id)
{
    store_stmt_t *stmt = store_stmt (store, STMT_TXN_BY_ID);
    stmt_bind_int64 (stmt, 1, id);
    return stmt;
}

/*  Bind window's parameters (TXN_QUERY_WHERE, TXN_QUERY_ORDER) with rows
    as the LIMIT. */
static store_stmt_t *
s_bind_window (store_stmt_t *stmt, const store_txn_window_t *window, int64_t rows)
{
    /*  Rows after (start_us, start_id): `occurred_us >= from` is "after
        (from, INT64_MIN)", as ids are positive; a cursor further on wins. */
    int64_t start_us = window->from_us;
    int64_t start_id = INT64_MIN;
    if (window->has_cursor
    && (window->after_us > start_us || (window->after_us == start_us && window->after_id > start_id))) {
        start_us = window->after_us;
        start_id = window->after_id;
    }
    stmt_bind_int64 (stmt, 1, window->to_us);
    stmt_bind_int64 (stmt, 2, start_us);
    stmt_bind_int64 (stmt, 3, start_id);
    stmt_bind_int64 (stmt, 4, window->min_amount);
    stmt_bind_int64 (stmt, 5, window->max_amount);
    stmt_bind_int64 (stmt, 6, rows);
    if (window->category_ids)
        stmt_bind_text (stmt, 7, window->category_ids, window->category_ids_len);
    return stmt;
}

store_stmt_t *
store_stmts_txn_query (store_t *store, const store_txn_window_t *window)
{
    store_stmt_id_t id = STMT_TXN_QUERY;
    if (window->category_ids)
        id = window->subcategories? STMT_TXN_QUERY_TREE: STMT_TXN_QUERY_CATS;
    return s_bind_window (store_stmt (store, id), window, window->limit + 1);
}

store_stmt_t *
store_stmts_txn_summary (store_t *store, const store_txn_window_t *window)
{
    store_stmt_id_t id = STMT_TXN_SUMMARY;
    if (window->category_ids)
        id = window->subcategories? STMT_TXN_SUMMARY_TREE: STMT_TXN_SUMMARY_CATS;
    return s_bind_window (store_stmt (store, id), window, window->limit);
}

/*  Run a statement of the store's that takes no parameters. */
static int
s_exec (store_t *store, store_stmt_id_t id, proto_error_t *err)
{
    return store_stmts_done (store, store_stmt (store, id), err);
}

int
store_stmts_begin (store_t *store, proto_error_t *err)
{
    return s_exec (store, STMT_BEGIN_WRITE, err);
}

int
store_stmts_commit (store_t *store, proto_error_t *err)
{
    return s_exec (store, STMT_COMMIT, err);
}

void
store_stmts_rollback (store_t *store)
{
    proto_error_t ignored;
    if (store->db->ops->in_transaction (store->db))
        s_exec (store, STMT_ROLLBACK, &ignored);
}

int
store_stmts_done (store_t *store, store_stmt_t *stmt, proto_error_t *err)
{
    int rc = stmt_step (stmt);
    stmt_reset (stmt);
    if (rc == SQLITE_DONE)
        return 0;
    store_stmts_error (store, rc, err);
    return -1;
}

void
store_stmts_error (store_t *store, int rc, proto_error_t *err)
{
    store_error_from_sqlite (store, rc, -1, NULL, err);
}

int64_t
store_stmts_last_id (store_t *store)
{
    return store->db->ops->last_insert_id (store->db);
}

int64_t
store_stmts_changes (store_t *store)
{
    return store->db->ops->changes (store->db);
}
