/*  store_internal -- what the store's files share; not for other modules. */

#ifndef WORKER_STORE_INTERNAL_H
#define WORKER_STORE_INTERNAL_H

#include "store.h"
#include "store_db.h"
#include "store_stmts.h"

#include <sqlite3.h>

/*  Every statement the store runs, prepared once at open. The txn.*
    ops' statements (TXN_INSERT, TXN_UPDATE, TXN_BY_ID, TXN_QUERY*) are
    bound only through store_stmts.h.
    X (SYMBOL, SQL) */
/*  In the order of store_txn_column_t (store_stmts.h). */
#define TXN_COLUMNS "id, amount, occurred_us, occurred_off, description, category_id, created_us, updated_us," \
                    " external_id, version"
/*  A category row: id, name, parent_id, version. */
#define CAT_COLUMNS "id, name, parent_id, version"
/*  The guard of every update and delete: the row is at the version the op
    expects, or the op expects none (NULL). Compared in the statement that
    changes the row, so no other write can come between. */
#define VERSION_IS(param) " AND (" param " IS NULL OR version = " param ")"
/*  txn.query's statements: ?1 is `to`, (?2, ?3) the row the page starts
    after, ?4 and ?5 the amount bounds, ?6 the rows to return, ?7 (CATS and
    TREE) the category ids as a JSON array. Bind them through
    store_stmts_txn_query (store_stmts.h), which alone knows these numbers.
    `from` has no parameter of its own: (?2, ?3) is the later of (from,
    INT64_MIN) and the cursor, so that the index seeks straight to the page.
    With `occurred_us >= from` beside the row value, SQLite ranged on the
    former and walked every earlier row (a page deep in a large table cost
    milliseconds). */
#define TXN_QUERY_WHERE \
    " WHERE (occurred_us, id) > (?2, ?3) AND occurred_us < ?1" \
    " AND amount >= ?4 AND amount <= ?5"
#define TXN_QUERY_ORDER " ORDER BY occurred_us, id LIMIT ?6"
/*  txn.summary reads the rows txn.query would, with the same parameters,
    in chunks of ?6 rows and only the columns it adds up, in the order of
    store_summary_column_t (store_stmts.h). Adding up in the store rather
    than with GROUP BY: SQLite sorts every row to group them, three times
    the cost of reading them (BENCHMARKS.md); and in cluster mode a chunk
    at a time keeps each answer of the node small. */
#define TXN_SUMMARY_COLUMNS "occurred_us, id, category_id, amount"

/*  Runs of txn.create in one batch go in one statement, 32 or 8 rows at a
    time (store_ops.c): one request a row is what a dqlite node costs most.
    Each row takes 7 parameters in order, TXN_INSERT's ?1..?6 with ?6
    twice; dqlite's wire protocol carries at most 255 a statement. Rows
    with an external_id do not go this way (each is looked up first). */
#define TXN_INSERT_ROWS "INSERT INTO txn (amount, occurred_us, occurred_off, description, category_id," \
                        " created_us, updated_us) VALUES"
#define TXN_ROW         "(?, ?, ?, ?, ?, ?, ?)"
#define TXN_ROWS_4      TXN_ROW ", " TXN_ROW ", " TXN_ROW ", " TXN_ROW
#define TXN_ROWS_16     TXN_ROWS_4 ", " TXN_ROWS_4 ", " TXN_ROWS_4 ", " TXN_ROWS_4
#define TXN_ROW_PARAMS  7

#define STORE_STMT_LIST(X) \
    X (BEGIN_READ,      "BEGIN") \
    X (BEGIN_WRITE,     "BEGIN IMMEDIATE") \
    X (COMMIT,          "COMMIT") \
    X (ROLLBACK,        "ROLLBACK") \
    X (SAVEPOINT,       "SAVEPOINT op") \
    X (RELEASE,         "RELEASE op") \
    X (ROLLBACK_TO,     "ROLLBACK TO op") \
    X (SAVEPOINT_BATCH, "SAVEPOINT batch") \
    X (RELEASE_BATCH,   "RELEASE batch") \
    X (ROLLBACK_TO_BATCH, "ROLLBACK TO batch") \
    X (KEY_GET,         "SELECT fingerprint, results, failed FROM idempotency WHERE key = ?1") \
    X (KEY_PUT,         "INSERT INTO idempotency (key, fingerprint, results, failed, created_us)" \
                        " VALUES (?1, ?2, ?3, ?4, ?5)") \
    X (KEY_SWEEP_END,   "SELECT key FROM idempotency WHERE key > ?1 ORDER BY key LIMIT 1 OFFSET ?2") \
    X (KEY_PRUNE_RANGE, "DELETE FROM idempotency WHERE key > ?1 AND key <= ?2 AND created_us < ?3") \
    X (KEY_PRUNE_TAIL,  "DELETE FROM idempotency WHERE key > ?1 AND created_us < ?2") \
    X (CAT_INSERT,      "INSERT INTO category (name, parent_id) VALUES (?1, ?2)") \
    X (CAT_UPDATE,      "UPDATE category SET name = CASE WHEN ?2 THEN ?3 ELSE name END," \
                        " parent_id = CASE WHEN ?4 THEN ?5 ELSE parent_id END, version = version + 1" \
                        " WHERE id = ?1" VERSION_IS ("?6")) \
    X (CAT_DELETE,      "DELETE FROM category WHERE id = ?1" VERSION_IS ("?2")) \
    X (CAT_VERSION,     "SELECT version FROM category WHERE id = ?1") \
    X (CAT_USES,        "SELECT (SELECT count (*) FROM txn WHERE category_id = ?1)," \
                        " (SELECT count (*) FROM category WHERE parent_id = ?1)") \
    X (CAT_BY_ID,       "SELECT " CAT_COLUMNS " FROM category WHERE id = ?1") \
    X (CAT_BY_NAME,     "SELECT " CAT_COLUMNS " FROM category WHERE name = ?1") \
    X (CAT_LIST,        "SELECT " CAT_COLUMNS " FROM category ORDER BY id") \
    X (CAT_IS_ANCESTOR, "WITH RECURSIVE up (id) AS (SELECT ?1 UNION" \
                        " SELECT c.parent_id FROM category c JOIN up ON c.id = up.id" \
                        " WHERE c.parent_id IS NOT NULL)" \
                        " SELECT 1 FROM up WHERE id = ?2") \
    X (TXN_INSERT,      "INSERT INTO txn (amount, occurred_us, occurred_off, description, category_id," \
                        " created_us, updated_us, external_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)") \
    X (TXN_BY_EXTERNAL_ID, "SELECT id FROM txn WHERE external_id = ?1") \
    X (TXN_INSERT_8,    TXN_INSERT_ROWS " " TXN_ROWS_4 ", " TXN_ROWS_4) \
    X (TXN_INSERT_32,   TXN_INSERT_ROWS " " TXN_ROWS_16 ", " TXN_ROWS_16) \
    X (TXN_UPDATE,      "UPDATE txn SET amount = CASE WHEN ?2 THEN ?3 ELSE amount END," \
                        " occurred_us = CASE WHEN ?4 THEN ?5 ELSE occurred_us END," \
                        " occurred_off = CASE WHEN ?4 THEN ?6 ELSE occurred_off END," \
                        " description = CASE WHEN ?7 THEN ?8 ELSE description END," \
                        " category_id = CASE WHEN ?9 THEN ?10 ELSE category_id END," \
                        " updated_us = ?11, version = version + 1 WHERE id = ?1" VERSION_IS ("?12")) \
    X (TXN_DELETE,      "DELETE FROM txn WHERE id = ?1" VERSION_IS ("?2")) \
    X (TXN_VERSION,     "SELECT version FROM txn WHERE id = ?1") \
    X (TXN_BY_ID,       "SELECT " TXN_COLUMNS " FROM txn WHERE id = ?1") \
    X (TXN_QUERY,       "SELECT " TXN_COLUMNS " FROM txn" TXN_QUERY_WHERE TXN_QUERY_ORDER) \
    X (TXN_QUERY_CATS,  "SELECT " TXN_COLUMNS " FROM txn" TXN_QUERY_WHERE \
                        " AND category_id IN (SELECT value FROM json_each (?7))" TXN_QUERY_ORDER) \
    X (TXN_QUERY_TREE,  "SELECT " TXN_COLUMNS " FROM txn" TXN_QUERY_WHERE \
                        " AND category_id IN (WITH RECURSIVE sub (id) AS" \
                        " (SELECT value FROM json_each (?7)" \
                        " UNION SELECT c.id FROM category c JOIN sub ON c.parent_id = sub.id)" \
                        " SELECT id FROM sub)" TXN_QUERY_ORDER) \
    X (TXN_SUMMARY,     "SELECT " TXN_SUMMARY_COLUMNS " FROM txn" TXN_QUERY_WHERE TXN_QUERY_ORDER) \
    X (TXN_SUMMARY_CATS, "SELECT " TXN_SUMMARY_COLUMNS " FROM txn" TXN_QUERY_WHERE \
                        " AND category_id IN (SELECT value FROM json_each (?7))" TXN_QUERY_ORDER) \
    X (TXN_SUMMARY_TREE, "SELECT " TXN_SUMMARY_COLUMNS " FROM txn" TXN_QUERY_WHERE \
                        " AND category_id IN (WITH RECURSIVE sub (id) AS" \
                        " (SELECT value FROM json_each (?7)" \
                        " UNION SELECT c.id FROM category c JOIN sub ON c.parent_id = sub.id)" \
                        " SELECT id FROM sub)" TXN_QUERY_ORDER)

typedef enum {
#define X(sym, sql) STMT_##sym,
    STORE_STMT_LIST (X)
#undef X
    STMT_COUNT
} store_stmt_id_t;

/*  One batch being run: the ids its ops made, which ops failed. */
typedef struct {
    const proto_request_t *request;
    int64_t *ids;               /* ids [n]: id created by op n, or 0 */
    bool *failed;               /* failed [n]: op n failed (independent mode) */
    uint32_t capacity;
    int64_t now_us;
} store_batch_t;

/*  Storage conditions an operator must hear of. Each is logged at most
    once per STORE_LOG_EVERY_US, so a full disk under load does not
    flood the log; the next line says how many were held back. */
typedef enum {
    STORE_LOG_IOERR,
    STORE_LOG_FULL,
    STORE_LOG_CORRUPT,
    STORE_LOG_READONLY,
    STORE_LOG_CHECKPOINT,
    STORE_LOG_MOVED,
    STORE_LOG_TOPICS
} store_log_topic_t;

#define STORE_LOG_EVERY_US 10000000

typedef struct {
    bool logged;                /* a line went out, at last_us */
    int64_t last_us;
    uint64_t held_back;         /* lines not logged since */
} store_log_limit_t;

struct _store_t {
    store_db_t *db;             /* the connection, on either backend */
    char *path;                 /* as given, for messages */
    store_options_t options;
    stats_t *stats;
    stats_block_t *counts;      /* the block of the thread that runs this store */
    store_batch_t batch;
    msgpack_sbuffer results;    /* the results array of the running batch */
    msgpack_sbuffer rows;       /* scratch for row lists of unknown length */
    int64_t last_prune_us;
    uint8_t sweep_key [PROTO_KEY_MAX];  /* pruning goes on after this key */
    size_t sweep_len;                   /* 0: from the first key */
    uint64_t keys_written;              /* since the last prune */
    store_busy_fn *busy_serve;  /* what to do while the lock is busy */
    void *busy_arg;
#ifdef LEDGERD_TEST_HOOKS
    char *fail_commit_key;      /* fail the commit of the group holding this key */
    bool fail_commit_done;
#endif
    bool lost;                  /* the node connection is gone (cluster): store_usable says no */
    store_log_limit_t log_limits [STORE_LOG_TOPICS];
};

/* Ready a prepared statement: reset it and clear its bindings. */
store_stmt_t *store_stmt (store_t *self, store_stmt_id_t id);

/* Turn the SQLite result rc (and the connection's message) into err, for
   op index op (-1 for none) and field (NULL for none). A storage failure
   (IOERR, FULL, CORRUPT, NOTADB, READONLY) is also logged, rate-limited. */
void store_error_from_sqlite (store_t *self, int rc, int op, const char *field, proto_error_t *err);

/* The error of a failed COMMIT (rc): unavailable / OUTCOME_UNKNOWN when
   the node or its leadership went away while committing (and the store is
   then lost), else io, retryable: nothing of the group was applied. */
void store_error_from_commit (store_t *self, int rc, proto_error_t *err);

/* A batch of a group failed (err) after writing, with no savepoint to undo
   it alone: err becomes the group's error, io / GROUP_UNDONE, quoting it. */
void store_error_group_undone (proto_error_t *err);

/* The writer's path no longer names the file it has open (what: "was
   deleted", ...): err is io / DATABASE_MOVED, and it is logged, rate-limited. */
void store_error_moved (store_t *self, const char *what, proto_error_t *err);

/* May one op own an error of klass in independent mode (undone alone, the
   batch goes on)? Storage trouble is never per-op: it fails the whole
   batch, so a retry cannot apply anything twice. */
bool store_class_is_per_op (proto_class_t klass);

/* Does an error of klass end the whole group? Then the transaction itself
   is in doubt. */
bool store_class_ends_group (proto_class_t klass);

/* Log an error line about topic, printf-style, unless one went out less
   than STORE_LOG_EVERY_US ago: then only count it; the next line that goes
   out says how many were held back. */
void store_log_limited (store_t *self, store_log_topic_t topic, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

/* The stable name of an SQLite (extended) result code, "SQLITE_CONSTRAINT_UNIQUE". */
const char *store_rc_name (int rc);

/* Run op n of the batch by its handler and pack its result into pk.
   Returns 0, or -1 with err set. */
int store_op_dispatch (store_t *self, uint32_t n, msgpack_packer *pk, proto_error_t *err);

/*  How txn.summary groups and shapes its rows (proto_period.h), and its
    category filter, resolved, for rollup to know which categories have
    rows. */
typedef struct {
    int by;                     /* proto_by_t */
    int period;                 /* proto_period_t */
    int offset_min;             /* the wall clock periods start in */
    bool rollup;
    const int64_t *category_ids;        /* the filter's ids; count 0: no filter */
    size_t category_count;
    bool subcategories;
} store_summary_spec_t;

/* Run txn.summary (op n) over the rows of window (its limit is the chunk
   size; its cursor moves) and pack {"rows": [...]}. Returns 0, or -1 with
   err set: invalid / TOTAL_OVERFLOW, invalid / TOO_MANY_ROWS, or the
   storage error. */
int store_summary_run (store_t *self, uint32_t n, store_txn_window_t *window, const store_summary_spec_t *spec,
                       msgpack_packer *pk, proto_error_t *err);

/*  Atomic batches: run the txn.create ops (without external_id) from op n, if 8 or more come in
    a row, as few multi-row inserts (32 and 8 rows), packing one result
    each, exactly as store_op_dispatch would one by one. Sets *done_p to the ops
    run (0: fewer than 8, nothing done); returns 0, or -1 with err naming
    the op at fault. */
int store_op_bulk_create (store_t *self, uint32_t n, uint32_t *done_p, msgpack_packer *pk, proto_error_t *err);

/* Whether the file --db names is new (holds nothing yet) or a ledgerd
   database at a version this build knows, reading only: anything else is
   refused before a byte of it changes. Not for a cluster's database, which
   ledgerd alone makes and which holds the cluster's node table as well.
   Returns 0, or -1 with errbuf set. */
int store_schema_check (store_db_t *db, char *errbuf, size_t errlen);

/* Bring the schema to the latest version; a version this build does not
   know is refused. Returns 0, or -1 with errbuf set. */
int store_schema_migrate (store_db_t *db, char *errbuf, size_t errlen);

/* The same, on an SQLite connection someone else opened (ledger-bench's
   baselines make their database with it). */
int store_schema_migrate_sqlite (sqlite3 *db, char *errbuf, size_t errlen);

/* The SQLite backend, opened for self (its path and options; its log
   limits for checkpoint failures; its busy handler). */
store_db_t *store_db_sqlite_open (store_t *self, char *errbuf, size_t errlen);

/* The SQLite connection under an SQLite store_db (for tests that hook it). */
sqlite3 *store_db_sqlite_handle (store_db_t *db);

/* Tell the SQLite backend the store is fully open (migrated, prepared):
   from now on the writer checkpoints the WAL when it closes. */
void store_db_sqlite_opened (store_db_t *db);

#endif
