/*  store -- the ledger in SQLite: open, statements, and running batches.

    A batch is one transaction: BEGIN IMMEDIATE when it writes or carries a
    key (so it waits for the lock up front instead of failing on upgrade),
    plain BEGIN when it only reads. In independent mode each op runs in a
    savepoint so a failing op is undone alone. The idempotency record is
    written in the same transaction as the batch it describes. */

#include "store_internal.h"
#include "log.h"
#include "proto_reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_stmt_sql [STMT_COUNT] = {
#define X(sym, sql) [STMT_##sym] = sql,
    STORE_STMT_LIST (X)
#undef X
};

store_stmt_t *
store_stmt (store_t *self, store_stmt_id_t id)
{
    return store_db_stmt (self->db, id);
}

/*  Step a transaction-control statement (BEGIN, COMMIT, SAVEPOINT ...),
    which returns no rows. Returns the result code, SQLITE_OK for done. */
static int
s_step_control (store_t *self, store_stmt_id_t id)
{
    store_stmt_t *stmt = store_stmt (self, id);
    int rc = stmt_step (stmt);
    stmt_reset (stmt);
    return rc == SQLITE_DONE? SQLITE_OK: rc;
}

static store_t *
s_store_new (const char *path, const store_options_t *options, stats_t *stats, char *errbuf, size_t errlen)
{
    store_t *self = calloc (1, sizeof (store_t));
    if (!self || !(self->path = strdup (path))) {
        snprintf (errbuf, errlen, "out of memory");
        free (self);
        return NULL;
    }
    self->options = *options;
    self->stats = stats;
    self->counts = stats_block (stats, STATS_FRONTEND);
    msgpack_sbuffer_init (&self->results);
    msgpack_sbuffer_init (&self->rows);
#ifdef LEDGERD_TEST_HOOKS
    const char *fail_commit = getenv ("LEDGERD_TEST_FAIL_COMMIT_KEY");
    if (fail_commit && *fail_commit && !options->read_only)
        self->fail_commit_key = strdup (fail_commit);
#endif
    return self;
}

/*  The backend is open: migrate (a writer) and prepare every statement. */
static int
s_store_ready (store_t *self, char *errbuf, size_t errlen)
{
    if (!self->options.read_only && store_schema_migrate (self->db, errbuf, errlen))
        return -1;
    for (int id = 0; id < STMT_COUNT; id++)
        if (self->db->ops->prepare (self->db, id, s_stmt_sql [id], errbuf, errlen))
            return -1;
    if (!self->options.read_only)
        store_prune (self);
    return 0;
}

store_t *
store_new (const char *path, const store_options_t *options, stats_t *stats, char *errbuf, size_t errlen)
{
    store_t *self = s_store_new (path, options, stats, errbuf, errlen);
    if (!self)
        return NULL;
    if (!(self->db = store_db_sqlite_open (self, errbuf, errlen)) || s_store_ready (self, errbuf, errlen)) {
        store_destroy (&self);
        return NULL;
    }
    store_db_sqlite_opened (self->db);
    return self;
}

store_t *
store_new_dqlite (const char *address, const char *name, int timeout_ms, const store_options_t *options,
                  stats_t *stats, char *errbuf, size_t errlen)
{
    store_t *self = s_store_new (name, options, stats, errbuf, errlen);
    if (!self)
        return NULL;
    if (!(self->db = store_db_dqlite_new (address, name, timeout_ms, errbuf, errlen))
    ||  s_store_ready (self, errbuf, errlen)) {
        store_destroy (&self);
        return NULL;
    }
    return self;
}

void
store_destroy (store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    store_t *self = *self_p;
    if (self->db)
        self->db->ops->destroy (self->db);
    free (self->path);
    msgpack_sbuffer_destroy (&self->results);
    msgpack_sbuffer_destroy (&self->rows);
    free (self->batch.ids);
    free (self->batch.failed);
#ifdef LEDGERD_TEST_HOOKS
    free (self->fail_commit_key);
#endif
    free (self);
    *self_p = NULL;
}

int
store_schema_version (store_t *self)
{
    int64_t version = -1;
    if (self->db->ops->query_int (self->db, "PRAGMA user_version", &version) != SQLITE_OK)
        return -1;
    return (int) version;
}

bool
store_usable (store_t *self)
{
    return !self->lost;
}

/*  Wait for locks as the store is set to, or (false) not at all. */
static void
s_busy_wait (store_t *self, bool wait)
{
    if (self->db->ops->busy_wait)
        self->db->ops->busy_wait (self->db, wait);
}

void
store_set_busy_handler (store_t *self, store_busy_fn *serve, void *arg)
{
    self->busy_serve = serve;
    self->busy_arg = arg;
    s_busy_wait (self, true);
}

/*  Pruning sweeps the idempotency keys in key order and deletes those past
    the TTL, PRUNE_CHUNK keys a step; each step is a short range scan on
    the primary key, so no index on created_us is needed (every batch would
    pay for it). Every PRUNE_TICK_US the writer sweeps twice as many keys
    as were written since the last tick, and at least PRUNE_IDLE: the sweep
    outruns the writes, so the table stays near the keys of one TTL, and a
    key lives at least the TTL and at most one pass more. */
#define PRUNE_CHUNK 1000
#define PRUNE_IDLE 100
#define PRUNE_TICK_US 100000

/*  Delete expired keys among the next count after the cursor (key,
    *len_p) and move it on; *len_p becomes 0 after the last key. Returns
    the SQLite result code. */
static int
s_prune_chunk (store_t *self, uint8_t *key, size_t *len_p, int count, int64_t cutoff_us)
{
    store_stmt_t *end = store_stmt (self, STMT_KEY_SWEEP_END);
    stmt_bind_blob (end, 1, key, *len_p);
    stmt_bind_int64 (end, 2, count - 1);
    int rc = stmt_step (end);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        stmt_reset (end);
        return rc;
    }
    bool last = rc == SQLITE_DONE;
    /*  The end key, copied: the statement is reset before the next one
        steps on some backends' connections. */
    uint8_t end_key [PROTO_KEY_MAX];
    size_t end_len = last? 0: stmt_column_bytes (end, 0);
    if (end_len > PROTO_KEY_MAX)
        end_len = 0;            /* not a key this worker wrote: start over */
    if (end_len)
        memcpy (end_key, stmt_column_blob (end, 0), end_len);
    stmt_reset (end);
    store_stmt_t *prune = store_stmt (self, last || !end_len? STMT_KEY_PRUNE_TAIL: STMT_KEY_PRUNE_RANGE);
    stmt_bind_blob (prune, 1, key, *len_p);
    if (last || !end_len)
        stmt_bind_int64 (prune, 2, cutoff_us);
    else {
        stmt_bind_blob (prune, 2, end_key, end_len);
        stmt_bind_int64 (prune, 3, cutoff_us);
    }
    rc = stmt_step (prune);
    stmt_reset (prune);
    if (rc == SQLITE_DONE) {
        if (end_len)
            memcpy (key, end_key, end_len);
        *len_p = end_len;
        rc = SQLITE_OK;
    }
    return rc;
}

void
store_prune (store_t *self)
{
    int64_t now = stats_now_us ();
    if (self->options.read_only || self->options.dedup_ttl_s <= 0 || now - self->last_prune_us < PRUNE_TICK_US)
        return;
    self->last_prune_us = now;
    uint64_t budget = 2 * self->keys_written > PRUNE_IDLE? 2 * self->keys_written: PRUNE_IDLE;
    /*  The cursor moves only if the deletes commit. */
    uint8_t key [PROTO_KEY_MAX];
    size_t len = self->sweep_len;
    memcpy (key, self->sweep_key, len);
    /*  Pruning is housekeeping: if another process holds the lock it runs
        next time, rather than make the batches behind it wait. */
    s_busy_wait (self, false);
    int rc = s_step_control (self, STMT_BEGIN_WRITE);
    for (uint64_t swept = 0; rc == SQLITE_OK && swept < budget; swept += PRUNE_CHUNK) {
        int count = budget - swept < PRUNE_CHUNK? (int) (budget - swept): PRUNE_CHUNK;
        rc = s_prune_chunk (self, key, &len, count, now - self->options.dedup_ttl_s * 1000000);
        if (len == 0)
            break;              /* swept to the end: from the start next time */
    }
    if (rc == SQLITE_OK && s_step_control (self, STMT_COMMIT) == SQLITE_OK) {
        memcpy (self->sweep_key, key, len);
        self->sweep_len = len;
        self->keys_written = 0;
    }
    s_busy_wait (self, true);
    if (self->db->ops->in_transaction (self->db))
        s_step_control (self, STMT_ROLLBACK);
}

/*  Make room for the per-op state of request's batch, and clear it. */
static int
s_batch_reset (store_t *self, const proto_request_t *request)
{
    store_batch_t *batch = &self->batch;
    if (request->op_count > batch->capacity) {
        int64_t *ids = realloc (batch->ids, request->op_count * sizeof (int64_t));
        if (ids)
            batch->ids = ids;
        bool *failed = realloc (batch->failed, request->op_count * sizeof (bool));
        if (failed)
            batch->failed = failed;
        if (!ids || !failed)
            return -1;
        batch->capacity = request->op_count;
    }
    memset (batch->ids, 0, request->op_count * sizeof (int64_t));
    memset (batch->failed, 0, request->op_count * sizeof (bool));
    batch->request = request;
    batch->now_us = stats_now_us ();
    return 0;
}

/*  A ref to an op that failed (independent mode) cannot be resolved. */
static int
s_check_failed_refs (store_t *self, uint32_t n, proto_error_t *err)
{
    const proto_op_t *op = &self->batch.request->ops [n];
    for (int f = 0; f < PROTO_FIELD_COUNT; f++) {
        const proto_value_t *value = &op->value [f];
        uint32_t count = value->kind == PROTO_VAL_LIST? value->len: 1;
        const proto_value_t *items = value->kind == PROTO_VAL_LIST? value->list: value;
        for (uint32_t i = 0; i < count; i++)
            if (items [i].kind == PROTO_VAL_REF && self->batch.failed [items [i].i]) {
                proto_error_set (err, PROTO_CLASS_INVALID, (int) n, proto_field_info (f)->name, "REF_FAILED",
                                 "op %d, which this ref points to, failed", (int) items [i].i);
                return -1;
            }
    }
    return 0;
}

/*  Look up a key. Returns 1 and packs the replayed reply when the same batch
    already committed under it, -1 with err set on reuse or failure, 0 when
    the key is new. */
static int
s_key_lookup (store_t *self, const proto_request_t *request, msgpack_sbuffer *out, proto_error_t *err)
{
    store_stmt_t *stmt = store_stmt (self, STMT_KEY_GET);
    stmt_bind_blob (stmt, 1, request->key, request->key_len);
    int rc = stmt_step (stmt);
    if (rc == SQLITE_DONE) {
        stmt_reset (stmt);
        return 0;
    }
    /*  Every way out resets the statement: one left on a row keeps the
        connection's read snapshot, and WAL checkpoints wait for it. */
    if (rc != SQLITE_ROW) {
        store_error_from_sqlite (self, rc, -1, NULL, err);
        stmt_reset (stmt);
        return -1;
    }
    if ((uint64_t) stmt_column_int64 (stmt, 0) != request->fingerprint) {
        stmt_reset (stmt);
        proto_error_set (err, PROTO_CLASS_INVALID, -1, "key", "KEY_REUSED",
                         "this key was used for a different batch");
        return -1;
    }
    int64_t failed = stmt_column_type (stmt, 2) == SQLITE_NULL? -1: stmt_column_int64 (stmt, 2);
    proto_reply_ok (out, request, stmt_column_blob (stmt, 1), stmt_column_bytes (stmt, 1), failed, true);
    stmt_reset (stmt);
    return 1;
}

static int
s_key_store (store_t *self, const proto_request_t *request, int64_t failed, proto_error_t *err)
{
    store_stmt_t *stmt = store_stmt (self, STMT_KEY_PUT);
    stmt_bind_blob (stmt, 1, request->key, request->key_len);
    stmt_bind_int64 (stmt, 2, (int64_t) request->fingerprint);
    stmt_bind_blob (stmt, 3, self->results.data, self->results.size);
    if (failed >= 0)
        stmt_bind_int64 (stmt, 4, failed);
    stmt_bind_int64 (stmt, 5, self->batch.now_us);
    int rc = stmt_step (stmt);
    stmt_reset (stmt);
    if (rc != SQLITE_DONE) {
        store_error_from_sqlite (self, rc, -1, NULL, err);
        return -1;
    }
    self->keys_written++;
    return 0;
}

/*  Run op n of the batch and pack its result into pk; on failure set err
    (clear on entry), and what the op packed is of no use. */
static void
s_op_apply (store_t *self, uint32_t n, msgpack_packer *pk, proto_error_t *err)
{
    const proto_op_t *op = &self->batch.request->ops [n];
    if (op->error)
        *err = *op->error;
    else
    if (s_check_failed_refs (self, n, err) == 0)
        store_op_dispatch (self, n, pk, err);
    stats_count_ops (self->counts, op->code, 1);
}

/*  Independent mode: run op n in a savepoint of its own, so that an error
    the op owns (store_class_is_per_op) undoes it alone and is packed as its
    result. Returns 0 when the op succeeded, 1 when it failed so, or -1
    with err set when the whole batch must roll back. */
static int
s_op_apply_alone (store_t *self, uint32_t n, msgpack_packer *pk, proto_error_t *err)
{
    size_t mark = self->results.size;
    proto_error_t op_err = { .klass = PROTO_CLASS_NONE };
    int rc = s_step_control (self, STMT_SAVEPOINT);
    if (rc != SQLITE_OK)
        goto storage_failed;
    s_op_apply (self, n, pk, &op_err);
    if (!proto_error_is_set (&op_err)) {
        if ((rc = s_step_control (self, STMT_RELEASE)) != SQLITE_OK)
            goto storage_failed;
        return 0;
    }
    if (!store_class_is_per_op (op_err.klass)) {
        *err = op_err;
        return -1;
    }
    if ((rc = s_step_control (self, STMT_ROLLBACK_TO)) != SQLITE_OK
    ||  (rc = s_step_control (self, STMT_RELEASE)) != SQLITE_OK)
        goto storage_failed;
    self->results.size = mark;
    self->batch.failed [n] = true;
    msgpack_pack_map (pk, 1);
    proto_pack_cstr (pk, "error");
    proto_pack_error (pk, &op_err);
    return 1;

storage_failed:
    store_error_from_sqlite (self, rc, (int) n, NULL, err);
    return -1;
}

/*  Run the batch's ops in order, packing their results into self->results,
    and set *failed_p to the ops that failed alone (independent mode; -1
    in atomic mode). Returns 0, or -1 with err set when the whole batch
    must roll back. */
static int
s_batch_apply_ops (store_t *self, const proto_request_t *request, int64_t *failed_p, proto_error_t *err)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->results, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, request->op_count);
    if (request->mode == PROTO_MODE_INDEPENDENT) {
        *failed_p = 0;
        for (uint32_t n = 0; n < request->op_count; n++) {
            int failed = s_op_apply_alone (self, n, &pk, err);
            if (failed < 0)
                return -1;
            *failed_p += failed;
        }
        return 0;
    }
    *failed_p = -1;
    for (uint32_t n = 0; n < request->op_count; ) {
        uint32_t done;
        if (store_op_bulk_create (self, n, &done, &pk, err))
            return -1;
        stats_count_ops (self->counts, PROTO_OP_TXN_CREATE, done);     /* bulk runs are txn.create alone */
        if (!done) {
            proto_error_t op_err = { .klass = PROTO_CLASS_NONE };
            s_op_apply (self, n, &pk, &op_err);
            if (proto_error_is_set (&op_err)) {
                *err = op_err;
                return -1;
            }
            done = 1;
        }
        n += done;
    }
    return 0;
}

/*  Apply one batch inside the open transaction: key lookup, ops, key
    record. On success packs the ok (or replayed) reply into out and adds
    the rows it changed to *changed_p; on failure leaves err set and out
    untouched. Returns 0 or -1. */
static int
s_batch_apply (store_t *self, const proto_request_t *request, msgpack_sbuffer *out,
               uint64_t *changed_p, proto_error_t *err)
{
    int64_t failed = -1;
    uint64_t changes_before = (uint64_t) self->db->ops->total_changes (self->db);
    msgpack_sbuffer_clear (&self->results);
    if (s_batch_reset (self, request)) {
        proto_error_set (err, PROTO_CLASS_INTERNAL, -1, NULL, "NOMEM", "out of memory");
        return -1;
    }
    if (request->key) {
        int replayed = s_key_lookup (self, request, out, err);
        if (replayed < 0)
            return -1;
        if (replayed > 0) {
            stats_add (&self->counts->replays, 1);
            return 0;
        }
    }
    if (s_batch_apply_ops (self, request, &failed, err)
    ||  (request->key && s_key_store (self, request, failed, err)))
        return -1;
    uint64_t changed = (uint64_t) self->db->ops->total_changes (self->db) - changes_before;
    if (request->key)
        changed--;              /* the idempotency record is not the caller's row */
    *changed_p += changed;
    proto_reply_ok (out, request, self->results.data, self->results.size, failed, false);
    return 0;
}

/*  Is the file at the writer's path still the one it has open? If it was
    deleted or replaced, what commits goes into a file no restart will
    open. Returns 0, or -1 with err set (io, DATABASE_MOVED) and logged. */
static int
s_file_in_place (store_t *self, proto_error_t *err)
{
    const char *what = self->db->ops->moved? self->db->ops->moved (self->db): NULL;
    if (!what)
        return 0;
    store_error_moved (self, what, err);
    return -1;
}

#ifdef LEDGERD_TEST_HOOKS
/*  Test hook (ledgerd_test only): does this group hold the batch whose key
    says "fail my group's commit"? It fires once. */
static bool
s_poisoned (store_t *self, const proto_request_t **requests, size_t count)
{
    if (!self->fail_commit_key || self->fail_commit_done)
        return false;
    size_t len = strlen (self->fail_commit_key);
    for (size_t n = 0; n < count; n++)
        if (requests [n]->key && requests [n]->key_len == len
        &&  memcmp (requests [n]->key, self->fail_commit_key, len) == 0)
            return self->fail_commit_done = true;
    return false;
}
#endif

/*  Open the group's transaction. Returns 0, or -1 with err set. */
static int
s_group_begin (store_t *self, bool writes, size_t count, proto_error_t *err)
{
    /*  A write into a deleted file is lost at restart: refuse it at once. */
    if (writes && s_file_in_place (self, err))
        return -1;
    /*  A read-only batch alone takes no write lock; anything else waits
        for the lock up front rather than failing on upgrade. */
    int rc = s_step_control (self, writes? STMT_BEGIN_WRITE: STMT_BEGIN_READ);
    if (rc != SQLITE_OK) {
        store_error_from_sqlite (self, rc, -1, NULL, err);
        return -1;
    }
    if (!self->options.read_only) {
        stats_add (&self->counts->write_transactions, 1);
        stats_observe (self->counts, STATS_GROUP_SIZE, count);
    }
    return 0;
}

/*  What became of one batch of a group. */
typedef enum {
    BATCH_DONE,                 /* its work stands; its ok reply is packed */
    BATCH_UNDONE,               /* its work alone is undone; err says why */
    GROUP_FAILED                /* nothing of the group may commit; err says why */
} batch_outcome_t;

/*  Run one batch inside the group's transaction (grouped: it is not alone
    in it), packing its ok reply into out. A failed batch is undone alone
    where that is possible, and out is left as it was. */
static batch_outcome_t
s_group_batch (store_t *self, const proto_request_t *request, msgpack_sbuffer *out, bool grouped,
               uint64_t *changed_p, proto_error_t *err)
{
    /*  A batch of one op needs no savepoint of its own: an op writes with
        one statement, and SQLite undoes a failed statement alone. Only its
        key record comes after it (see below). */
    bool savepoint = grouped && request->op_count > 1;
    int64_t changes_before = self->db->ops->total_changes (self->db);
    size_t mark = out->size;
    int rc;
    if (savepoint && (rc = s_step_control (self, STMT_SAVEPOINT_BATCH)) != SQLITE_OK)
        goto storage_failed;
    if (s_batch_apply (self, request, out, changed_p, err) == 0) {
        if (savepoint && (rc = s_step_control (self, STMT_RELEASE_BATCH)) != SQLITE_OK)
            goto storage_failed;
        return BATCH_DONE;
    }
    out->size = mark;
    if (store_class_ends_group (err->klass) || !self->db->ops->in_transaction (self->db))
        return GROUP_FAILED;
    /*  Without a savepoint, a batch that failed after changing rows (its op
        went in, its key record did not) cannot be undone alone: the group
        fails instead, retryably. */
    if (grouped && !savepoint && self->db->ops->total_changes (self->db) != changes_before) {
        store_error_group_undone (err);
        return GROUP_FAILED;
    }
    if (savepoint
    &&  ((rc = s_step_control (self, STMT_ROLLBACK_TO_BATCH)) != SQLITE_OK
         || (rc = s_step_control (self, STMT_RELEASE_BATCH)) != SQLITE_OK))
        goto storage_failed;
    return BATCH_UNDONE;

storage_failed:
    store_error_from_sqlite (self, rc, -1, NULL, err);
    return GROUP_FAILED;
}

/*  Commit the group. Returns 0, or -1 with err set: nothing of the group
    is in the database, or (cluster) whether it is cannot be known. */
static int
s_group_commit (store_t *self, const proto_request_t **requests, size_t count, bool writes, proto_error_t *err)
{
#ifdef LEDGERD_TEST_HOOKS
    if (s_poisoned (self, requests, count) && self->db->ops->fail_next_commit)
        self->db->ops->fail_next_commit (self->db);
#endif
    int64_t started = stats_monotonic_us ();
    int rc = s_step_control (self, STMT_COMMIT);
    if (writes)
        stats_observe (self->counts, STATS_COMMIT, (uint64_t) (stats_monotonic_us () - started));
    if (rc != SQLITE_OK) {
        store_error_from_commit (self, rc, err);
        return -1;
    }
    /*  Checked after COMMIT, so that a deletion during the group is caught
        too: no ok for a write that cannot survive a restart. */
    return writes? s_file_in_place (self, err): 0;
}

void
store_run_group (store_t *self, const proto_request_t **requests, msgpack_sbuffer **outs, size_t count)
{
    proto_error_t err = { .klass = PROTO_CLASS_NONE };
    proto_class_t klass [count];
    uint64_t changed = 0;
    bool grouped = count > 1;
    bool writes = grouped;
    for (size_t n = 0; n < count; n++) {
        klass [n] = PROTO_CLASS_NONE;
        writes |= requests [n]->writes;
    }
    if (s_group_begin (self, writes, count, &err))
        goto group_failed;
    for (size_t n = 0; n < count; n++) {
        batch_outcome_t outcome = s_group_batch (self, requests [n], outs [n], grouped, &changed, &err);
        if (outcome == GROUP_FAILED)
            goto group_failed;
        if (outcome == BATCH_UNDONE) {
            klass [n] = err.klass;
            proto_reply_error (outs [n], requests [n], &err);
            err = (proto_error_t) { .klass = PROTO_CLASS_NONE };
        }
    }
    /*  A batch alone had no savepoint: what its ops before the failed one
        did is undone with the transaction. */
    if (!grouped && klass [0] != PROTO_CLASS_NONE)
        s_step_control (self, STMT_ROLLBACK);
    else
    if (s_group_commit (self, requests, count, writes, &err))
        goto group_failed;
    stats_add (&self->counts->rows_changed, changed);
    for (size_t n = 0; n < count; n++)
        stats_count_batch (self->counts, klass [n]);
    return;

group_failed:
    if (self->db->ops->in_transaction (self->db))
        s_step_control (self, STMT_ROLLBACK);
    for (size_t n = 0; n < count; n++) {
        msgpack_sbuffer_clear (outs [n]);
        proto_reply_error (outs [n], requests [n], &err);
        stats_count_batch (self->counts, err.klass);
    }
}

void
store_set_counts (store_t *self, stats_block_t *counts)
{
    self->counts = counts;
}

void
store_run (store_t *self, const proto_request_t *request, msgpack_sbuffer *out)
{
    store_run_group (self, &request, &out, 1);
}
