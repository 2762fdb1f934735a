/*  store_ops -- one handler per op, dispatched by a table generated from
    the op list (PROTO_OP_LIST).

    By the time a handler runs, proto_request has checked every field's
    presence, type and format; handlers only resolve references (refs, ids,
    names) against the batch and the database, run their statement, and pack
    their result. */

#include "store_internal.h"
#include "store_stmts.h"
#include "proto_period.h"
#include "proto_reader.h"
#include "proto_reply.h"
#include "proto_time.h"
#include "sys_ops.h"

#include <stdio.h>
#include <string.h>

typedef int (op_handler_fn) (store_t *self, uint32_t n, const proto_op_t *op,
                             msgpack_packer *pk, proto_error_t *err);

#define VALUE(op, sym) (&(op)->value [PROTO_FIELD_##sym])
#define HAS(op, sym) (((op)->present & PF (sym)) != 0)

static void
s_not_found (proto_error_t *err, uint32_t n, const char *field, const char *what, int64_t id)
{
    proto_error_set (err, PROTO_CLASS_NOT_FOUND, (int) n, field, "NOT_FOUND", "no %s with id %lld",
                     what, (long long) id);
}

/*  Step a statement that changes rows; on failure map the error. */
static int
s_step_done (store_t *self, store_stmt_t *stmt, uint32_t n, const char *field, proto_error_t *err)
{
    int rc = stmt_step (stmt);
    stmt_reset (stmt);
    if (rc != SQLITE_DONE) {
        store_error_from_sqlite (self, rc, (int) n, field, err);
        return -1;
    }
    return 0;
}

/*  The row an update or delete changes: which table, and how its
    messages name it. */
typedef struct {
    store_stmt_id_t version_stmt;       /* STMT_CAT_VERSION or STMT_TXN_VERSION */
    const char *what;                   /* "category", "transaction" */
} s_row_kind_t;

static const s_row_kind_t s_category_kind = { STMT_CAT_VERSION, "category" };
static const s_row_kind_t s_txn_kind = { STMT_TXN_VERSION, "transaction" };

/*  The version the op expects the row at, or 0 when it gives none. */
static int64_t
s_expect_version (const proto_op_t *op)
{
    return HAS (op, EXPECT_VERSION)? VALUE (op, EXPECT_VERSION)->i: 0;
}

/*  Row id of kind exists and is at the version op expects (if it gives
    one). Returns 0, or -1 with err set: not_found, or conflict naming the
    row's version. The writer holds the write lock for the whole batch, so
    the answer stands until the op's statement runs; that statement
    compares the version again itself. */
static int
s_check_row (store_t *self, uint32_t n, const proto_op_t *op, const s_row_kind_t *kind, int64_t id,
             proto_error_t *err)
{
    store_stmt_t *stmt = store_stmt (self, kind->version_stmt);
    stmt_bind_int64 (stmt, 1, id);
    int rc = stmt_step (stmt);
    int64_t version = rc == SQLITE_ROW? stmt_column_int64 (stmt, 0): 0;
    stmt_reset (stmt);
    if (rc == SQLITE_DONE) {
        s_not_found (err, n, "id", kind->what, id);
        return -1;
    }
    if (rc != SQLITE_ROW) {
        store_error_from_sqlite (self, rc, (int) n, NULL, err);
        return -1;
    }
    int64_t expected = s_expect_version (op);
    if (expected && expected != version) {
        proto_error_set (err, PROTO_CLASS_CONFLICT, (int) n, "expect_version", "VERSION_MISMATCH",
                         "%s %lld is at version %lld, not %lld", kind->what, (long long) id,
                         (long long) version, (long long) expected);
        return -1;
    }
    return 0;
}

/*  An update or delete of row id changed nothing: say why (not_found or
    conflict). A row that passes the check now should have been changed:
    that is a bug, not the caller's. Returns -1 with err set. */
static int
s_nothing_changed (store_t *self, uint32_t n, const proto_op_t *op, const s_row_kind_t *kind, int64_t id,
                   proto_error_t *err)
{
    if (s_check_row (self, n, op, kind, id, err) == 0)
        proto_error_set (err, PROTO_CLASS_INTERNAL, (int) n, NULL, "INTERNAL",
                         "%s %lld is at the expected version but was not changed", kind->what, (long long) id);
    return -1;
}

/*  An id field: an integer as given, or the id an earlier op made. */
static int64_t
s_id (store_t *self, const proto_value_t *value)
{
    return value->kind == PROTO_VAL_REF? self->batch.ids [value->i]: value->i;
}

/*  Resolve a category reference (id, ref or name) to an existing id.
    Returns 0 and sets *id_p (0 for nil), or -1 with err set. */
static int
s_category (store_t *self, uint32_t n, const proto_value_t *value, const char *field,
            int64_t *id_p, proto_error_t *err)
{
    *id_p = 0;
    if (value->kind == PROTO_VAL_NIL || value->kind == PROTO_VAL_ABSENT)
        return 0;
    if (value->kind == PROTO_VAL_REF) {
        *id_p = self->batch.ids [value->i];
        return 0;
    }
    store_stmt_t *stmt;
    if (value->kind == PROTO_VAL_STR) {
        stmt = store_stmt (self, STMT_CAT_BY_NAME);
        stmt_bind_text (stmt, 1, value->str, value->len);
    }
    else {
        stmt = store_stmt (self, STMT_CAT_BY_ID);
        stmt_bind_int64 (stmt, 1, value->i);
    }
    int rc = stmt_step (stmt);
    if (rc == SQLITE_ROW)
        *id_p = stmt_column_int64 (stmt, 0);
    stmt_reset (stmt);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc != SQLITE_DONE)
        store_error_from_sqlite (self, rc, (int) n, field, err);
    else
    if (value->kind == PROTO_VAL_STR)
        proto_error_set (err, PROTO_CLASS_NOT_FOUND, (int) n, field, "NOT_FOUND",
                         "no category named \"%.*s\"", (int) value->len, value->str);
    else
        s_not_found (err, n, field, "category", value->i);
    return -1;
}

static void
s_pack_key_int (msgpack_packer *pk, const char *key, int64_t value)
{
    msgpack_pack_map (pk, 1);
    proto_pack_cstr (pk, key);
    msgpack_pack_int64 (pk, value);
}

static void
s_pack_column_int_or_nil (msgpack_packer *pk, store_stmt_t *stmt, int column)
{
    if (stmt_column_type (stmt, column) == SQLITE_NULL)
        msgpack_pack_nil (pk);
    else
        msgpack_pack_int64 (pk, stmt_column_int64 (stmt, column));
}

static void
s_pack_column_text_or_nil (msgpack_packer *pk, store_stmt_t *stmt, int column)
{
    if (stmt_column_type (stmt, column) == SQLITE_NULL)
        msgpack_pack_nil (pk);
    else
        proto_pack_strn (pk, (const char *) stmt_column_blob (stmt, column),
                         (size_t) stmt_column_bytes (stmt, column));
}

static void
s_pack_time (msgpack_packer *pk, int64_t us, int offset_min)
{
    char text [PROTO_TIME_MAX];
    size_t size = proto_time_format (us, offset_min, text);
    proto_pack_strn (pk, text, size);
}

/*  A category row from CAT_COLUMNS. */
static void
s_pack_category_row (msgpack_packer *pk, store_stmt_t *stmt)
{
    msgpack_pack_map (pk, 4);
    proto_pack_cstr (pk, "id");
    msgpack_pack_int64 (pk, stmt_column_int64 (stmt, 0));
    proto_pack_cstr (pk, "name");
    s_pack_column_text_or_nil (pk, stmt, 1);
    proto_pack_cstr (pk, "parent_id");
    s_pack_column_int_or_nil (pk, stmt, 2);
    proto_pack_cstr (pk, "version");
    msgpack_pack_int64 (pk, stmt_column_int64 (stmt, 3));
}

/*  A transaction row from TXN_COLUMNS; external_id only when it has one,
    so rows read as before for producers that never set it. */
static void
s_pack_txn_row (msgpack_packer *pk, store_stmt_t *stmt)
{
    bool external = stmt_column_type (stmt, STORE_TXN_EXTERNAL_ID) != SQLITE_NULL;
    msgpack_pack_map (pk, external? 9: 8);
    proto_pack_cstr (pk, "id");
    msgpack_pack_int64 (pk, stmt_column_int64 (stmt, 0));
    proto_pack_cstr (pk, "amount");
    msgpack_pack_int64 (pk, stmt_column_int64 (stmt, 1));
    proto_pack_cstr (pk, "occurred_at");
    s_pack_time (pk, stmt_column_int64 (stmt, 2), (int) stmt_column_int64 (stmt, 3));
    proto_pack_cstr (pk, "description");
    s_pack_column_text_or_nil (pk, stmt, 4);
    proto_pack_cstr (pk, "category_id");
    s_pack_column_int_or_nil (pk, stmt, 5);
    proto_pack_cstr (pk, "created_at");
    s_pack_time (pk, stmt_column_int64 (stmt, 6), 0);
    proto_pack_cstr (pk, "updated_at");
    s_pack_time (pk, stmt_column_int64 (stmt, 7), 0);
    proto_pack_cstr (pk, "version");
    msgpack_pack_int64 (pk, stmt_column_int64 (stmt, STORE_TXN_VERSION));
    if (external) {
        proto_pack_cstr (pk, "external_id");
        s_pack_column_text_or_nil (pk, stmt, STORE_TXN_EXTERNAL_ID);
    }
}

/*  Step a statement that returns at most one row and pack {"row": row}. */
static int
s_get_row (store_t *self, store_stmt_t *stmt, uint32_t n, const char *field, const char *what,
           int64_t id, void (*pack_row) (msgpack_packer *, store_stmt_t *),
           msgpack_packer *pk, proto_error_t *err)
{
    int rc = stmt_step (stmt);
    if (rc == SQLITE_ROW) {
        msgpack_pack_map (pk, 1);
        proto_pack_cstr (pk, "row");
        pack_row (pk, stmt);
    }
    stmt_reset (stmt);
    if (rc == SQLITE_ROW)
        return 0;
    if (rc == SQLITE_DONE)
        s_not_found (err, n, field, what, id);
    else
        store_error_from_sqlite (self, rc, (int) n, NULL, err);
    return -1;
}

/*  Pack up to limit rows of stmt as an array, through the scratch buffer
    since msgpack needs the count first. Returns the rows packed, or -1. */
static int64_t
s_pack_rows (store_t *self, store_stmt_t *stmt, int64_t limit, void (*pack_row) (msgpack_packer *, store_stmt_t *),
             msgpack_packer *pk, uint32_t n, bool *more_p, int64_t last [2], proto_error_t *err)
{
    msgpack_sbuffer_clear (&self->rows);
    msgpack_packer rows_pk;
    msgpack_packer_init (&rows_pk, &self->rows, msgpack_sbuffer_write);
    int64_t count = 0;
    int rc;
    *more_p = false;
    while ((rc = stmt_step (stmt)) == SQLITE_ROW) {
        if (count == limit) {
            *more_p = true;
            break;
        }
        pack_row (&rows_pk, stmt);
        if (last) {
            last [0] = stmt_column_int64 (stmt, 2);
            last [1] = stmt_column_int64 (stmt, 0);
        }
        count++;
    }
    stmt_reset (stmt);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        store_error_from_sqlite (self, rc, (int) n, NULL, err);
        return -1;
    }
    msgpack_pack_array (pk, (size_t) count);
    msgpack_sbuffer_write (pk->data, self->rows.data, self->rows.size);
    return count;
}

static int
s_category_create (store_t *self, uint32_t n, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err)
{
    int64_t parent;
    if (s_category (self, n, VALUE (op, PARENT), "parent", &parent, err))
        return -1;
    store_stmt_t *stmt = store_stmt (self, STMT_CAT_INSERT);
    stmt_bind_text (stmt, 1, VALUE (op, NAME)->str, VALUE (op, NAME)->len);
    stmt_bind_id_or_null (stmt, 2, parent);
    if (s_step_done (self, stmt, n, "name", err))
        return -1;
    self->batch.ids [n] = self->db->ops->last_insert_id (self->db);
    s_pack_key_int (pk, "id", self->batch.ids [n]);
    return 0;
}

static int
s_category_update (store_t *self, uint32_t n, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err)
{
    int64_t id = s_id (self, VALUE (op, ID));
    if (s_check_row (self, n, op, &s_category_kind, id, err))
        return -1;
    int64_t parent = 0;
    if (HAS (op, PARENT)) {
        if (s_category (self, n, VALUE (op, PARENT), "parent", &parent, err))
            return -1;
        if (parent) {
            /*  The new parent must not be the category or below it. */
            store_stmt_t *stmt = store_stmt (self, STMT_CAT_IS_ANCESTOR);
            stmt_bind_int64 (stmt, 1, parent);
            stmt_bind_int64 (stmt, 2, id);
            int rc = stmt_step (stmt);
            stmt_reset (stmt);
            if (rc == SQLITE_ROW) {
                proto_error_set (err, PROTO_CLASS_INVALID, (int) n, "parent", "CATEGORY_CYCLE",
                                 "category %lld cannot be its own ancestor", (long long) id);
                return -1;
            }
            if (rc != SQLITE_DONE) {
                store_error_from_sqlite (self, rc, (int) n, "parent", err);
                return -1;
            }
        }
    }
    store_stmt_t *stmt = store_stmt (self, STMT_CAT_UPDATE);
    stmt_bind_int64 (stmt, 1, id);
    stmt_bind_int64 (stmt, 2, HAS (op, NAME));
    if (HAS (op, NAME))
        stmt_bind_text (stmt, 3, VALUE (op, NAME)->str, VALUE (op, NAME)->len);
    stmt_bind_int64 (stmt, 4, HAS (op, PARENT));
    stmt_bind_id_or_null (stmt, 5, parent);
    stmt_bind_id_or_null (stmt, 6, s_expect_version (op));
    if (s_step_done (self, stmt, n, HAS (op, NAME)? "name": NULL, err))
        return -1;
    if (self->db->ops->changes (self->db) == 0)
        return s_nothing_changed (self, n, op, &s_category_kind, id, err);
    s_pack_key_int (pk, "changed", 1);
    return 0;
}

/*  Delete by id (STMT_CAT_DELETE or STMT_TXN_DELETE), if the row is at
    the version the op expects; shared by category.delete and txn.delete. */
static int
s_delete (store_t *self, uint32_t n, const proto_op_t *op, store_stmt_id_t id_stmt, const s_row_kind_t *kind,
          msgpack_packer *pk, proto_error_t *err)
{
    int64_t id = s_id (self, VALUE (op, ID));
    store_stmt_t *stmt = store_stmt (self, id_stmt);
    stmt_bind_int64 (stmt, 1, id);
    stmt_bind_id_or_null (stmt, 2, s_expect_version (op));
    if (s_step_done (self, stmt, n, NULL, err))
        return -1;
    if (self->db->ops->changes (self->db) == 0)
        return s_nothing_changed (self, n, op, kind, id, err);
    s_pack_key_int (pk, "changed", 1);
    return 0;
}

/*  Refuse to delete category id while transactions or subcategories
    still name it, saying how many: counted by query rather than read from
    the foreign key's failure, which names neither. 0 if it is free, or -1
    with err set. */
static int
s_category_unused (store_t *self, uint32_t n, int64_t id, proto_error_t *err)
{
    store_stmt_t *stmt = store_stmt (self, STMT_CAT_USES);
    stmt_bind_int64 (stmt, 1, id);
    int rc = stmt_step (stmt);
    if (rc != SQLITE_ROW) {
        stmt_reset (stmt);
        store_error_from_sqlite (self, rc, (int) n, NULL, err);
        return -1;
    }
    int64_t txns = stmt_column_int64 (stmt, 0);
    int64_t subs = stmt_column_int64 (stmt, 1);
    stmt_reset (stmt);
    if (txns == 0 && subs == 0)
        return 0;
    char txn_part [48], sub_part [48];
    snprintf (txn_part, sizeof (txn_part), "%lld transaction%s", (long long) txns, txns == 1? "": "s");
    snprintf (sub_part, sizeof (sub_part), "%lld subcategor%s", (long long) subs, subs == 1? "y": "ies");
    proto_error_set (err, PROTO_CLASS_CONSTRAINT, (int) n, "id", "CATEGORY_IN_USE", "category %lld still has %s%s%s",
                     (long long) id, txns? txn_part: "", txns && subs? " and ": "", subs? sub_part: "");
    return -1;
}

static int
s_category_delete (store_t *self, uint32_t n, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err)
{
    /*  A stale version first: the caller's view of the row is out of
        date, and whether it is still in use is part of that view. */
    int64_t id = s_id (self, VALUE (op, ID));
    if (HAS (op, EXPECT_VERSION) && s_check_row (self, n, op, &s_category_kind, id, err))
        return -1;
    if (s_category_unused (self, n, id, err))
        return -1;
    return s_delete (self, n, op, STMT_CAT_DELETE, &s_category_kind, pk, err);
}

static int
s_category_get (store_t *self, uint32_t n, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err)
{
    int64_t id = 0;
    if (HAS (op, NAME)) {
        proto_value_t name = *VALUE (op, NAME);
        if (s_category (self, n, &name, "name", &id, err))
            return -1;
    }
    else
        id = s_id (self, VALUE (op, ID));
    store_stmt_t *stmt = store_stmt (self, STMT_CAT_BY_ID);
    stmt_bind_int64 (stmt, 1, id);
    return s_get_row (self, stmt, n, "id", "category", id, s_pack_category_row, pk, err);
}

static int
s_category_list (store_t *self, uint32_t n, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err)
{
    bool more;
    msgpack_pack_map (pk, 1);
    proto_pack_cstr (pk, "rows");
    return s_pack_rows (self, store_stmt (self, STMT_CAT_LIST), INT64_MAX, s_pack_category_row,
                        pk, n, &more, NULL, err) < 0? -1: 0;
}

/*  A txn op's values, its category resolved to category (0: none). */
static store_txn_values_t
s_txn_values (const proto_op_t *op, int64_t category)
{
    const proto_value_t *description = VALUE (op, DESCRIPTION);
    bool text = description->kind == PROTO_VAL_STR;
    return (store_txn_values_t) {
        .amount = VALUE (op, AMOUNT)->i, .occurred_us = VALUE (op, OCCURRED_AT)->i,
        .occurred_off = VALUE (op, OCCURRED_AT)->offset_min,
        .description = text? description->str: NULL, .description_len = text? description->len: 0,
        .category_id = category
    };
}

/*  The transaction named external_id. Returns 1 and sets *id_p, 0 when
    there is none, or -1 with err set. */
static int
s_txn_by_external_id (store_t *self, uint32_t n, const proto_value_t *external_id, int64_t *id_p,
                      proto_error_t *err)
{
    store_stmt_t *stmt = store_stmts_txn_by_external_id (self, external_id->str, external_id->len);
    int rc = stmt_step (stmt);
    if (rc == SQLITE_ROW)
        *id_p = stmt_column_int64 (stmt, 0);
    stmt_reset (stmt);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    store_error_from_sqlite (self, rc, (int) n, "external_id", err);
    return -1;
}

/*  txn.create's result: {"id": n}, and with if_absent whether the row was
    there already. */
static void
s_pack_txn_created (msgpack_packer *pk, const proto_op_t *op, int64_t id, bool existed)
{
    msgpack_pack_map (pk, HAS (op, IF_ABSENT)? 2: 1);
    proto_pack_cstr (pk, "id");
    msgpack_pack_int64 (pk, id);
    if (HAS (op, IF_ABSENT)) {
        proto_pack_cstr (pk, "existed");
        if (existed)
            msgpack_pack_true (pk);
        else
            msgpack_pack_false (pk);
    }
}

/*  A row with the op's external_id already in the ledger: with if_absent
    it is the op's result; without, the op fails. The lookup comes before
    the category is resolved, so rows already in need no category to
    exist. Returns 1 when the op is answered, 0 to go on and insert, -1 on
    failure (err set). */
static int
s_txn_create_existing (store_t *self, uint32_t n, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err)
{
    const proto_value_t *external_id = VALUE (op, EXTERNAL_ID);
    if (external_id->kind != PROTO_VAL_STR)
        return 0;
    int64_t id;
    int found = s_txn_by_external_id (self, n, external_id, &id, err);
    if (found <= 0)
        return found;
    if (!(HAS (op, IF_ABSENT) && VALUE (op, IF_ABSENT)->b)) {
        proto_error_set (err, PROTO_CLASS_CONSTRAINT, (int) n, "external_id", "EXTERNAL_ID_EXISTS",
                         "transaction %lld already has external_id \"%.*s\"", (long long) id,
                         (int) proto_utf8_cut (external_id->str, external_id->len, 64), external_id->str);
        return -1;
    }
    self->batch.ids [n] = id;
    s_pack_txn_created (pk, op, id, true);
    return 1;
}

static int
s_txn_create (store_t *self, uint32_t n, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err)
{
    int existing = s_txn_create_existing (self, n, op, pk, err);
    if (existing)
        return existing < 0? -1: 0;
    int64_t category;
    if (s_category (self, n, VALUE (op, CATEGORY), "category", &category, err))
        return -1;
    store_txn_values_t values = s_txn_values (op, category);
    const proto_value_t *external_id = VALUE (op, EXTERNAL_ID);
    if (external_id->kind == PROTO_VAL_STR) {
        values.external_id = external_id->str;
        values.external_id_len = external_id->len;
    }
    store_stmt_t *stmt = store_stmts_txn_insert (self, &values, self->batch.now_us);
    if (s_step_done (self, stmt, n, NULL, err))
        return -1;
    self->batch.ids [n] = self->db->ops->last_insert_id (self->db);
    s_pack_txn_created (pk, op, self->batch.ids [n], false);
    return 0;
}

/*  The bulk statements, largest first; dqlite takes 255 parameters a
    statement at most (store_db_dqlite.c refuses more when it prepares). */
_Static_assert (32 * TXN_ROW_PARAMS <= 255, "a bulk insert must fit dqlite's parameter tuple");
static const struct {
    store_stmt_id_t id;
    uint32_t rows;
} s_bulk [] = { { STMT_TXN_INSERT_32, 32 }, { STMT_TXN_INSERT_8, 8 } };

/*  Insert the k txn.create ops from n with one statement; categories
    resolve op by op first, as txn.create does. Returns 0, 1 when the
    statement broke a constraint (nothing of it was written: the caller
    runs the ops one by one, to name the op at fault), or -1 with err set. */
static int
s_txn_create_chunk (store_t *self, uint32_t n, store_stmt_id_t id, uint32_t k, msgpack_packer *pk,
                    proto_error_t *err)
{
    const proto_request_t *request = self->batch.request;
    int64_t categories [32];
    for (uint32_t i = 0; i < k; i++)
        if (s_category (self, n + i, VALUE (&request->ops [n + i], CATEGORY), "category", &categories [i], err))
            return -1;
    store_stmt_t *stmt = store_stmt (self, id);
    for (uint32_t i = 0; i < k; i++) {
        store_txn_values_t values = s_txn_values (&request->ops [n + i], categories [i]);
        store_stmts_txn_insert_row (stmt, i, &values, self->batch.now_us);
    }
    if (s_step_done (self, stmt, n, NULL, err))
        return err->klass == PROTO_CLASS_CONSTRAINT? 1: -1;
    /*  One statement gives AUTOINCREMENT ids one after another, the last
        one reported. */
    int64_t last = self->db->ops->last_insert_id (self->db);
    if (self->db->ops->changes (self->db) != (int64_t) k) {
        proto_error_set (err, PROTO_CLASS_INTERNAL, (int) n, NULL, "INTERNAL",
                         "a bulk insert of %u rows changed %lld", k, (long long) self->db->ops->changes (self->db));
        return -1;
    }
    for (uint32_t i = 0; i < k; i++) {
        self->batch.ids [n + i] = last - (int64_t) k + 1 + i;
        s_pack_key_int (pk, "id", self->batch.ids [n + i]);
    }
    return 0;
}

int
store_op_bulk_create (store_t *self, uint32_t n, uint32_t *done_p, msgpack_packer *pk, proto_error_t *err)
{
    const proto_request_t *request = self->batch.request;
    uint32_t run = 0;
    while (n + run < request->op_count && request->ops [n + run].code == PROTO_OP_TXN_CREATE
           && !request->ops [n + run].error && !HAS (&request->ops [n + run], EXTERNAL_ID))
        run++;
    *done_p = 0;
    for (size_t b = 0; b < sizeof (s_bulk) / sizeof (s_bulk [0]); b++)
        while (run - *done_p >= s_bulk [b].rows) {
            uint32_t at = n + *done_p, k = s_bulk [b].rows;
            int rc = s_txn_create_chunk (self, at, s_bulk [b].id, k, pk, err);
            if (rc < 0)
                return -1;
            if (rc > 0) {
                /*  A constraint: the same rows one by one find the op. */
                *err = (proto_error_t) { .klass = PROTO_CLASS_NONE };
                for (uint32_t i = 0; i < k; i++)
                    if (s_txn_create (self, at + i, &request->ops [at + i], pk, err))
                        return -1;
            }
            *done_p += k;
        }
    return 0;
}

static int
s_txn_update (store_t *self, uint32_t n, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err)
{
    int64_t id = s_id (self, VALUE (op, ID));
    if (s_check_row (self, n, op, &s_txn_kind, id, err))
        return -1;
    int64_t category = 0;
    if (HAS (op, CATEGORY) && s_category (self, n, VALUE (op, CATEGORY), "category", &category, err))
        return -1;
    store_txn_change_t change = {
        .set_amount = HAS (op, AMOUNT), .set_occurred = HAS (op, OCCURRED_AT),
        .set_description = HAS (op, DESCRIPTION), .set_category = HAS (op, CATEGORY),
        .values = s_txn_values (op, category), .expect_version = s_expect_version (op)
    };
    store_stmt_t *stmt = store_stmts_txn_update (self, id, &change, self->batch.now_us);
    if (s_step_done (self, stmt, n, NULL, err))
        return -1;
    if (self->db->ops->changes (self->db) == 0)
        return s_nothing_changed (self, n, op, &s_txn_kind, id, err);
    s_pack_key_int (pk, "changed", 1);
    return 0;
}

static int
s_txn_delete (store_t *self, uint32_t n, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err)
{
    return s_delete (self, n, op, STMT_TXN_DELETE, &s_txn_kind, pk, err);
}

static int
s_txn_get (store_t *self, uint32_t n, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err)
{
    int64_t id = s_id (self, VALUE (op, ID));
    store_stmt_t *stmt = store_stmts_txn_get (self, id);
    return s_get_row (self, stmt, n, "id", "transaction", id, s_pack_txn_row, pk, err);
}

/*  Room for the category filter's ids as a JSON array. */
#define IDS_JSON_MAX (PROTO_MAX_LIST * 21 + 2)

/*  The rows txn.query's and txn.summary's filters select (from, to,
    amounts, categories), in pages of limit. The categories resolve to
    ids [] (PROTO_MAX_LIST long; *count_p of them) and, for SQLite's
    json_each, to ids_json (IDS_JSON_MAX long), which the window points
    into. Returns 0, or -1 with err set. */
static int
s_txn_window (store_t *self, uint32_t n, const proto_op_t *op, int64_t limit, store_txn_window_t *window,
              int64_t *ids, size_t *count_p, char *ids_json, proto_error_t *err)
{
    *window = store_txn_window_all (limit);
    *count_p = 0;
    if (HAS (op, FROM))
        window->from_us = VALUE (op, FROM)->i;
    if (HAS (op, TO))
        window->to_us = VALUE (op, TO)->i;
    if (HAS (op, MIN_AMOUNT))
        window->min_amount = VALUE (op, MIN_AMOUNT)->i;
    if (HAS (op, MAX_AMOUNT))
        window->max_amount = VALUE (op, MAX_AMOUNT)->i;
    const proto_value_t *categories = VALUE (op, CATEGORIES);
    if (categories->kind != PROTO_VAL_LIST)
        return 0;
    /*  Resolved ids go to SQLite as a JSON array for json_each: one
        prepared statement serves any number of categories. */
    size_t size = 0;
    ids_json [size++] = '[';
    for (uint32_t i = 0; i < categories->len; i++) {
        if (s_category (self, n, &categories->list [i], "categories", &ids [i], err))
            return -1;
        size += (size_t) snprintf (ids_json + size, IDS_JSON_MAX - size, "%s%lld", i? ",": "",
                                   (long long) ids [i]);
    }
    ids_json [size++] = ']';
    *count_p = categories->len;
    window->category_ids = ids_json;
    window->category_ids_len = size;
    window->subcategories = HAS (op, INCLUDE_SUB) && VALUE (op, INCLUDE_SUB)->b;
    return 0;
}

static int
s_txn_query (store_t *self, uint32_t n, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err)
{
    int64_t limit = HAS (op, LIMIT)? VALUE (op, LIMIT)->i: PROTO_DEFAULT_LIMIT;
    store_txn_window_t window;
    int64_t ids [PROTO_MAX_LIST];
    size_t id_count;
    char ids_json [IDS_JSON_MAX];
    if (s_txn_window (self, n, op, limit, &window, ids, &id_count, ids_json, err))
        return -1;
    const proto_value_t *after = VALUE (op, AFTER);
    if (after->kind == PROTO_VAL_CURSOR) {
        window.has_cursor = true;
        window.after_us = after->i;
        window.after_id = after->cursor_id;
    }
    store_stmt_t *stmt = store_stmts_txn_query (self, &window);

    bool more;
    int64_t last [2] = { 0, 0 };
    msgpack_pack_map (pk, 2);
    proto_pack_cstr (pk, "rows");
    if (s_pack_rows (self, stmt, limit, s_pack_txn_row, pk, n, &more, last, err) < 0)
        return -1;
    proto_pack_cstr (pk, "next");
    if (more) {
        char cursor [PROTO_CURSOR_MAX];
        proto_pack_strn (pk, cursor, proto_cursor_format (last [0], last [1], cursor));
    }
    else
        msgpack_pack_nil (pk);
    return 0;
}

/*  Rows txn.summary reads from the database at a time: few requests to a
    dqlite node, and a bounded answer from each. */
#define SUMMARY_CHUNK 65536

static int
s_txn_summary (store_t *self, uint32_t n, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err)
{
    store_txn_window_t window;
    int64_t ids [PROTO_MAX_LIST];
    size_t id_count;
    char ids_json [IDS_JSON_MAX];
    if (s_txn_window (self, n, op, SUMMARY_CHUNK, &window, ids, &id_count, ids_json, err))
        return -1;
    store_summary_spec_t spec = {
        .by = HAS (op, BY)? (int) VALUE (op, BY)->i: PROTO_BY_DEFAULT,
        .period = HAS (op, PERIOD)? (int) VALUE (op, PERIOD)->i: PROTO_PERIOD_DEFAULT,
        .offset_min = HAS (op, OFFSET)? (int) VALUE (op, OFFSET)->i: 0,
        .rollup = HAS (op, ROLLUP) && VALUE (op, ROLLUP)->b,
        .category_ids = ids, .category_count = id_count, .subcategories = window.subcategories
    };
    return store_summary_run (self, n, &window, &spec, pk, err);
}

/*  An op the ledger does not answer (PROTO_OPF_NO_LEDGER): sys_ops does,
    here as part of the batch; alone, the front end runs them itself. */
static int
s_no_ledger_op (store_t *self, uint32_t n, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err)
{
    return sys_ops_answer (self->stats, n, op, pk, err);
}

/*  A backup op (PROTO_OPF_BACKUP) goes alone to the backup thread; the
    decoder keeps it out of any batch a store runs. */
static int
s_backup_op (store_t *self, uint32_t n, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err)
{
    (void) self, (void) pk;
    proto_error_set (err, PROTO_CLASS_INTERNAL, (int) n, "op", "NOT_HERE", "%s runs on the backup thread",
                     proto_op_info (op->code)->name);
    return -1;
}

/*  Each op's handler, named for the op's symbol in PROTO_OP_LIST. The table
    below is generated from that list, so an op without a line here does
    not compile. */
#define HANDLER_CATEGORY_CREATE  s_category_create
#define HANDLER_CATEGORY_UPDATE  s_category_update
#define HANDLER_CATEGORY_DELETE  s_category_delete
#define HANDLER_CATEGORY_GET     s_category_get
#define HANDLER_CATEGORY_LIST    s_category_list
#define HANDLER_TXN_CREATE       s_txn_create
#define HANDLER_TXN_UPDATE       s_txn_update
#define HANDLER_TXN_DELETE       s_txn_delete
#define HANDLER_TXN_GET          s_txn_get
#define HANDLER_TXN_QUERY        s_txn_query
#define HANDLER_SYS_PING         s_no_ledger_op
#define HANDLER_SYS_STATS        s_no_ledger_op
#define HANDLER_CLUSTER_TRANSFER s_no_ledger_op
#define HANDLER_CLUSTER_REMOVE   s_no_ledger_op
#define HANDLER_TXN_SUMMARY      s_txn_summary
#define HANDLER_SYS_BACKUP       s_backup_op
#define HANDLER_SYS_BACKUP_READ  s_backup_op
#define HANDLER_SYS_BACKUP_END   s_backup_op

static op_handler_fn *const s_handlers [PROTO_OP_COUNT] = {
#define X(sym, name, entity, flags, required, optional, one_of) [PROTO_OP_##sym] = HANDLER_##sym,
    PROTO_OP_LIST (X)
#undef X
};

int
store_op_dispatch (store_t *self, uint32_t n, msgpack_packer *pk, proto_error_t *err)
{
    const proto_op_t *op = &self->batch.request->ops [n];
    return s_handlers [op->code] (self, n, op, pk, err);
}
