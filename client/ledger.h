/*  ledger.h -- the C client library for ledgerd.

    A producer builds a batch with one typed call per operation, submits it,
    and reads typed results; it never sees msgpack or ZeroMQ frames.

        ledger_client_t *client = ledger_client_new ("tcp://127.0.0.1:5555");
        ledger_batch_t *batch = ledger_batch_new ();
        int food = ledger_batch_category_create (batch, "Food", LEDGER_UNSET);
        ledger_batch_txn_create (batch, -1234, ledger_time_text ("2025-01-02T10:00:00+01:00"),
                                 "lunch", ledger_op (food));
        ledger_result_t *result = ledger_client_submit (client, batch);
        if (ledger_result_status (result) != LEDGER_OK)
            fprintf (stderr, "%s\n", ledger_result_describe (result));
        ledger_result_destroy (&result);
        ledger_batch_destroy (&batch);
        ledger_client_destroy (&client);

    Retries are safe: every batch that writes carries an idempotency key (a
    random client id and a sequence number, unless you set one), so the
    library resends after a timeout or a retryable error reply without ever
    applying a batch twice.

    Threads: a client object belongs to one thread at a time. Use one client
    per thread; batches and results may be handed between threads, and are
    read by one thread at a time (a result's string accessors fill a cache).
    Every client of a process shares one ZeroMQ context, made with the
    first client and ended with the last, so a process with many clients
    has one ZeroMQ I/O thread. After fork (), a client made before it
    belongs to the parent: the child makes its own.

    Ownership: `x_new` returns an object the caller destroys with
    `x_destroy (&x)`, which sets the pointer to NULL and is safe on NULL.
    Returned `const char *` strings are borrowed from the object they came
    from and live as long as it does. No call aborts the process on bad input
    or a bad reply: failures come back as -1, NULL or a result that says why. */

#ifndef LEDGER_H
#define LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*  The library is built with hidden visibility; only what this header
    declares is exported. */
#if defined (LEDGER_BUILDING) && defined (__GNUC__)
#   pragma GCC visibility push (default)
#endif

#define LEDGER_CLIENT_VERSION "0.1.0"

typedef struct _ledger_client_t ledger_client_t;
typedef struct _ledger_batch_t ledger_batch_t;
typedef struct _ledger_result_t ledger_result_t;

/* ---------------------------------------------------------------------
   Values: references to ids, and timestamps
   --------------------------------------------------------------------- */

typedef enum {
    LEDGER_REF_UNSET = 0,       /* leave the field out (keep it, on update) */
    LEDGER_REF_NULL,            /* send nil: no parent / no category / clear */
    LEDGER_REF_ID,              /* an id that exists in the database */
    LEDGER_REF_OP,              /* the id made by an earlier op of this batch */
    LEDGER_REF_NAME             /* a category by its exact name */
} ledger_ref_kind_t;

typedef struct {
    ledger_ref_kind_t kind;
    int64_t value;              /* id, or op index */
    const char *name;           /* for LEDGER_REF_NAME; copied when the op is added */
} ledger_ref_t;

#define LEDGER_UNSET ((ledger_ref_t) { LEDGER_REF_UNSET, 0, NULL })
#define LEDGER_NULL  ((ledger_ref_t) { LEDGER_REF_NULL, 0, NULL })

/* An existing id. */
ledger_ref_t ledger_id (int64_t id);

/* The id that op `index` of the same batch creates (the index an add call
   returned). */
ledger_ref_t ledger_op (int index);

/* A category by name (only where a category is expected). */
ledger_ref_t ledger_name (const char *name);

typedef struct {
    const char *text;           /* RFC 3339, or NULL to use unix_us/offset_min */
    int64_t unix_us;            /* microseconds since 1970-01-01T00:00:00Z */
    int offset_min;             /* the offset it was written in, minutes east of UTC */
    bool set;                   /* false: leave the field out */
} ledger_time_t;

#define LEDGER_TIME_UNSET ((ledger_time_t) { NULL, 0, 0, false })

/* A timestamp as RFC 3339 text with an offset, e.g. "2025-01-02T10:00:00+01:00"
   (for query bounds a bare "YYYY-MM-DD" means midnight UTC). */
ledger_time_t ledger_time_text (const char *text);

/* A timestamp as an instant and the offset to show it in. */
ledger_time_t ledger_time_at (int64_t unix_us, int offset_min);

/* ---------------------------------------------------------------------
   Batches
   --------------------------------------------------------------------- */

/* A new empty batch (atomic mode, no key yet). */
ledger_batch_t *ledger_batch_new (void);

/* Destroy the batch and set *self_p to NULL. */
void ledger_batch_destroy (ledger_batch_t **self_p);

/* Independent mode: each op commits or fails on its own (default: atomic,
   all or nothing). */
void ledger_batch_set_independent (ledger_batch_t *self, bool independent);

/* Use key (1..128 bytes, copied) as the idempotency key instead of the one
   the client would make. Use a key derived from the content when a retry may
   come from another process (e.g. an import re-run). Returns 0, or -1 if the
   key's length is out of range. */
int ledger_batch_set_key (ledger_batch_t *self, const char *key);

/* Number of ops in the batch. */
size_t ledger_batch_size (ledger_batch_t *self);

/* Whether any op changes the database. */
bool ledger_batch_writes (ledger_batch_t *self);

/* Why an add call (or ledger_batch_set_key) failed, or NULL. A batch with
   a failed call is never sent, since it is not the batch the caller meant:
   ledger_client_submit returns NULL for it. */
const char *ledger_batch_error (ledger_batch_t *self);

/*  Each add call appends one op and returns its index in the batch (use it
    with ledger_op () to refer to the id it creates), or -1 on bad arguments
    (ledger_batch_error says which). Strings are copied. Amounts are integer
    minor units (cents): money is never a float. */

/* category.create: name (1..100 bytes); parent: UNSET/NULL for none, or an
   id, op or name. */
int ledger_batch_category_create (ledger_batch_t *self, const char *name, ledger_ref_t parent);

/*  Safe concurrent edits: every category and transaction row has a
    version (ledger_category_t.version, ledger_txn_t.version), 1 when it is
    created and one more on every update. An update or delete given the
    version it was read at (expect_version >= 1) is applied only if the row
    is still at that version; otherwise the op fails with class "conflict",
    code "VERSION_MISMATCH", field "expect_version", a message naming the
    row's version ("transaction 7 is at version 3, not 2"), and is not
    retried: read the row again, and decide again. expect_version 0 means
    any version (the plain calls); a negative one fails the add call. */

/* category.update: a new name (NULL keeps it) and/or a new parent (UNSET
   keeps it, NULL detaches). */
int ledger_batch_category_update (ledger_batch_t *self, ledger_ref_t id, const char *name, ledger_ref_t parent);

/* category.update, only if the category is at expect_version (0: any). */
int ledger_batch_category_update_if (ledger_batch_t *self, ledger_ref_t id, const char *name, ledger_ref_t parent,
                                     int64_t expect_version);

/* category.delete by id or op. */
int ledger_batch_category_delete (ledger_batch_t *self, ledger_ref_t id);

/* category.delete, only if the category is at expect_version (0: any). */
int ledger_batch_category_delete_if (ledger_batch_t *self, ledger_ref_t id, int64_t expect_version);

/* category.get by id, op or name. */
int ledger_batch_category_get (ledger_batch_t *self, ledger_ref_t category);

/* category.list: every category, by id. */
int ledger_batch_category_list (ledger_batch_t *self);

/* txn.create: amount in minor units, when it happened, a description (NULL
   for none) and a category (UNSET/NULL for none). */
int ledger_batch_txn_create (ledger_batch_t *self, int64_t amount, ledger_time_t occurred_at,
                             const char *description, ledger_ref_t category);

/* txn.create, naming the transaction as its producer knows it: external_id
   (1 to 128 bytes of UTF-8, unique in the ledger; NULL for none), e.g. a
   bank's transaction id. With if_absent, a transaction that already has
   this external_id is the op's answer (its id; ledger_result_existed true)
   and nothing is created, so data sent again is never added twice; without
   it such a create fails (constraint / EXTERNAL_ID_EXISTS). */
int ledger_batch_txn_create_ext (ledger_batch_t *self, int64_t amount, ledger_time_t occurred_at,
                                 const char *description, ledger_ref_t category,
                                 const char *external_id, bool if_absent);

/* What a txn.update changes: only the fields marked set. A set description
   of NULL clears it; a category of LEDGER_NULL clears it. */
typedef struct {
    bool set_amount;
    int64_t amount;
    ledger_time_t occurred_at;  /* .set = false keeps it */
    bool set_description;
    const char *description;
    ledger_ref_t category;      /* LEDGER_UNSET keeps it */
    int64_t expect_version;     /* only if the row is at this version; 0: any */
} ledger_txn_change_t;

/* txn.update of id with the fields set in change. */
int ledger_batch_txn_update (ledger_batch_t *self, ledger_ref_t id, const ledger_txn_change_t *change);

/* txn.delete by id or op. */
int ledger_batch_txn_delete (ledger_batch_t *self, ledger_ref_t id);

/* txn.delete, only if the transaction is at expect_version (0: any). */
int ledger_batch_txn_delete_if (ledger_batch_t *self, ledger_ref_t id, int64_t expect_version);

/* txn.get by id or op. */
int ledger_batch_txn_get (ledger_batch_t *self, ledger_ref_t id);

/* Room for a `next` cursor with its NUL; the worker's are at most 47 bytes. */
#define LEDGER_CURSOR_MAX 64

/* A txn.query filter; zero-initialize and set what you need. */
typedef struct {
    ledger_time_t from;         /* inclusive; .set = false: no bound */
    ledger_time_t to;           /* exclusive */
    const ledger_ref_t *categories;     /* ids, ops or names */
    size_t category_count;      /* 0: any category */
    bool include_subcategories;
    bool set_min_amount;
    int64_t min_amount;         /* inclusive */
    bool set_max_amount;
    int64_t max_amount;         /* inclusive */
    int limit;                  /* 1..10000; 0: the worker's default (1000) */
    const char *after;          /* the `next` cursor of the previous page, or NULL */
    char cursor [LEDGER_CURSOR_MAX];    /* ledger_query_next_page's copy */
} ledger_query_t;

/* txn.query: rows ordered by time, then id; page with
   ledger_query_next_page (or ledger_result_next). */
int ledger_batch_txn_query (ledger_batch_t *self, const ledger_query_t *query);

/* What txn.summary groups by; 0 is the worker's default, by category. */
typedef enum {
    LEDGER_BY_DEFAULT = 0,
    LEDGER_BY_CATEGORY = 1,
    LEDGER_BY_PERIOD = 2,
    LEDGER_BY_BOTH = 3
} ledger_by_t;

/* A summary's period; 0 is the worker's default, the month. Weeks are
   ISO 8601 weeks, Monday to Sunday. */
typedef enum {
    LEDGER_PERIOD_DEFAULT = 0,
    LEDGER_PERIOD_DAY,
    LEDGER_PERIOD_WEEK,
    LEDGER_PERIOD_MONTH,
    LEDGER_PERIOD_YEAR
} ledger_period_t;

/* A txn.summary: the filters of ledger_query_t, and how to group the
   rows. Zero-initialize and set what you need. period and offset apply
   only with by PERIOD or BOTH, rollup only with CATEGORY or BOTH (else
   the add call fails). */
typedef struct {
    ledger_time_t from;         /* inclusive; .set = false: no bound */
    ledger_time_t to;           /* exclusive */
    const ledger_ref_t *categories;     /* ids, ops or names */
    size_t category_count;      /* 0: any category */
    bool include_subcategories;
    bool set_min_amount;
    int64_t min_amount;         /* inclusive */
    bool set_max_amount;
    int64_t max_amount;         /* inclusive */
    ledger_by_t by;
    ledger_period_t period;
    const char *offset;         /* "+01:00", "-05:30" or "Z": the wall clock periods
                                   start in; NULL: the worker's default, UTC */
    bool rollup;                /* a category's row holds its subcategories' too */
} ledger_summary_t;

/* txn.summary: one row per category, period, or (period, category), in
   period order, then category id (none first); at most 10000 rows (more
   fail with invalid / TOO_MANY_ROWS). Read them with
   ledger_result_summary_row. */
int ledger_batch_txn_summary (ledger_batch_t *self, const ledger_summary_t *summary);

/* sys.ping: liveness and the worker's version. */
int ledger_batch_ping (ledger_batch_t *self);

/* sys.stats: the worker's counters (in cluster mode, with every node). */
int ledger_batch_stats (ledger_batch_t *self);

/* cluster.transfer: make node_id the Raft leader (cluster mode only; on a
   single-node worker the op fails with class invalid, NOT_CLUSTER).
   cluster.remove: take node_id out of the cluster for good; a removed node
   must not be restarted with its old data directory. Any node answers both,
   sending them on to the leader's dqlite node. */
int ledger_batch_cluster_transfer (ledger_batch_t *self, int64_t node_id);
int ledger_batch_cluster_remove (ledger_batch_t *self, int64_t node_id);

/*  Online backups (single-node workers; in cluster mode the ops fail with
    invalid / NOT_SUPPORTED). A backup op goes alone in its batch: add
    nothing else to it. ledgerctl backup (client/ledgerctl/cmd_backup.c)
    shows the whole exchange:
      1. sys.backup takes a consistent snapshot of the database on the
         worker and answers its token, size and SHA-256
         (ledger_result_backup). It may take seconds for a large database:
         give the client a timeout to match, and no retries (each try makes
         a snapshot of its own).
      2. sys.backup_read gives up to length (1..LEDGER_BACKUP_CHUNK_MAX)
         bytes of it from position (ledger_result_data); fewer at its end.
      3. sys.backup_end removes the snapshot; one nobody reads for the
         worker's --backup-idle-s goes by itself. */
#define LEDGER_BACKUP_CHUNK_MAX (1024 * 1024)
int ledger_batch_backup (ledger_batch_t *self);
int ledger_batch_backup_read (ledger_batch_t *self, const char *token, int64_t position, int64_t length);
int ledger_batch_backup_end (ledger_batch_t *self, const char *token);

/* Make a batch from one JSON object shaped like a request:
   {"ops": [...], "mode": "atomic"|"independent", "key": "...", "v": 1}
   ("v" and "id" are optional and ignored; the client sets them). Returns
   NULL and writes why into errbuf if the text is not such an object. */
ledger_batch_t *ledger_batch_from_json (const char *json_text, char *errbuf, size_t errlen);

/* ---------------------------------------------------------------------
   Clients
   --------------------------------------------------------------------- */

/* A client for one or more worker endpoints, separated by commas
   ("tcp://a:5555,tcp://b:5555"). Requests go to one endpoint at a time:
   after a silence (no reply within the timeout) the client moves to the
   next; an `unavailable` reply (a cluster node that is not the leader)
   sends it to the leader's endpoint the reply names, at once, or to the
   next endpoint when the node knows no leader. Returns NULL if an
   endpoint is malformed. */
ledger_client_t *ledger_client_new (const char *endpoints);

/* Close the connection and set *self_p to NULL. Requests still in flight
   are abandoned (their outcome is unknown to this process). */
void ledger_client_destroy (ledger_client_t **self_p);

/* How long to wait for a reply before resending (default 5000 ms). */
void ledger_client_set_timeout (ledger_client_t *self, int timeout_ms);

/* How many times to resend after a timeout or a retryable error (default 3,
   so 4 tries in all; 0 sends once). A connection that breaks while a
   batch waits (the worker died) ends that try at once; the next goes to
   the next endpoint. Unless retries is 0, two answers that come at once do
   not count as tries: a cluster node's `unavailable` (no leader yet, during
   an election) and a refused connection (nothing listens there). The batch
   is then sent again after the first backoff step, not a growing one,
   until (retries + 1) * timeout has passed since it was first sent; after
   that they count as any other failed try. */
void ledger_client_set_retries (ledger_client_t *self, int retries);

/* Wait between tries: exponential from initial_ms, doubling, capped at
   max_ms, each wait drawn at random from its upper half (default 100, 5000). */
void ledger_client_set_backoff (ledger_client_t *self, int initial_ms, int max_ms);

/* Most requests in flight at once for the pipelined calls (default 500;
   keep it below the socket high-water mark, 1000, or replies can be lost). */
void ledger_client_set_window (ledger_client_t *self, int window);

/* Talk CURVE (authenticated, encrypted) to the worker: client_cert is this
   client's certificate as czmq's zcert_save writes it (the file and its
   "_secret" twin), server_key the worker's public key: its public
   certificate file, or the 40-character Z85 key. Returns 0, or -1 if a file
   cannot be read (ledger_client_error says why). A worker that refuses the
   key at the handshake finishes every waiting request at once as
   LEDGER_FAILED, class "denied", code "AUTH_REFUSED", "authentication
   failed: the worker refused this client's CURVE key" (never delivered,
   nothing applied); a request that may have arrived on an earlier
   connection stays LEDGER_UNKNOWN, with the same reason. */
int ledger_client_set_curve (ledger_client_t *self, const char *client_cert, const char *server_key);

/* The random id this client puts in front of its idempotency keys. */
const char *ledger_client_id (ledger_client_t *self);

/* Why the last call on this client returned NULL or -1. */
const char *ledger_client_error (ledger_client_t *self);

/* Send batch and wait for its result, retrying as configured. Returns a
   result (check ledger_result_status), or NULL only when the batch is
   broken or memory ran out (ledger_client_error says which). The batch is
   not changed and may be submitted again (with the same key). */
ledger_result_t *ledger_client_submit (ledger_client_t *self, ledger_batch_t *batch);

/* Pipelined: send batch without waiting. Returns its request id (> 0), or 0
   when the window is full (receive first) or the batch is broken. */
uint64_t ledger_client_send (ledger_client_t *self, ledger_batch_t *batch);

/* Pipelined: wait up to timeout_ms (-1: until one is done; 0: only take a
   reply that is already here) for the next finished request, in whatever
   order they finish; retries happen inside. Returns its result
   (ledger_result_request_id says which), or NULL when none finished in
   time or nothing is in flight. */
ledger_result_t *ledger_client_recv (ledger_client_t *self, int timeout_ms);

/* Requests sent with ledger_client_send and not yet received. */
size_t ledger_client_in_flight (ledger_client_t *self);

/* ---------------------------------------------------------------------
   Results
   --------------------------------------------------------------------- */

typedef enum {
    LEDGER_OK,                  /* the worker ran the batch (independent mode: see per-op errors) */
    LEDGER_FAILED,              /* the worker refused or rolled back the batch, or refused this
                                   client's CURVE key (denied/AUTH_REFUSED): nothing applied */
    LEDGER_UNKNOWN              /* no reply after every try: it may or may not have been applied;
                                   resubmitting the same batch (same key) is safe */
} ledger_status_t;

/* Destroy the result and set *self_p to NULL. */
void ledger_result_destroy (ledger_result_t **self_p);

/* What happened to the batch. */
ledger_status_t ledger_result_status (ledger_result_t *self);

/* One line for people: "ok (3 ops)", "failed: constraint at op 2 (name):
   SQLITE_CONSTRAINT_UNIQUE: ...", "outcome unknown after 4 tries: no reply
   within 5000 ms". */
const char *ledger_result_describe (ledger_result_t *self);

/* The request id (as returned by ledger_client_send). */
uint64_t ledger_result_request_id (ledger_result_t *self);

/* How many times the batch was sent. */
int ledger_result_tries (ledger_result_t *self);

/* True when the worker answered from its idempotency log: the batch had
   already been applied (by an earlier try) and was not applied again. */
bool ledger_result_replayed (ledger_result_t *self);

/* The error of a failed batch (LEDGER_FAILED): its class, NULL otherwise.
   For LEDGER_UNKNOWN the class is NULL and the message says why. The
   classes (PROTOCOL.md): "protocol", "too_large", "invalid", "not_found",
   "constraint", "conflict" (a stale expect_version: re-read, do not
   resend), "busy", "io", "overloaded", "unavailable", "denied",
   "internal"; a worker may add more: judge one you do not know by
   ledger_result_retryable. */
const char *ledger_result_error_class (ledger_result_t *self);
bool ledger_result_retryable (ledger_result_t *self);
int ledger_result_error_op (ledger_result_t *self);            /* -1 if none */
const char *ledger_result_error_field (ledger_result_t *self); /* NULL if none */
const char *ledger_result_error_code (ledger_result_t *self);
const char *ledger_result_error_message (ledger_result_t *self);
/* Cluster mode, class "unavailable": the leader's endpoint as the node
   that answered knows it, or NULL. */
const char *ledger_result_error_leader (ledger_result_t *self);

/* Per op (LEDGER_OK only): how many entries, how many failed (independent
   mode), and whether op i failed. */
size_t ledger_result_op_count (ledger_result_t *self);
int64_t ledger_result_failed_count (ledger_result_t *self);
bool ledger_result_op_failed (ledger_result_t *self, size_t op);

/* The error of failed op i (independent mode), as for the batch. */
const char *ledger_result_op_error_class (ledger_result_t *self, size_t op);
const char *ledger_result_op_error_code (ledger_result_t *self, size_t op);
const char *ledger_result_op_error_field (ledger_result_t *self, size_t op);
const char *ledger_result_op_error_message (ledger_result_t *self, size_t op);

/* The id op i created (category.create, txn.create), or 0. */
int64_t ledger_result_id (ledger_result_t *self, size_t op);

/* Rows op i changed (update, delete), or 0. */
int64_t ledger_result_changed (ledger_result_t *self, size_t op);

/* Whether txn.create op i, sent with if_absent, found its external_id
   already in the ledger (and so created nothing). */
bool ledger_result_existed (ledger_result_t *self, size_t op);

typedef struct {
    int64_t id;
    const char *name;
    int64_t parent_id;          /* 0: no parent */
    int64_t version;            /* 1 when created, + 1 on every update */
} ledger_category_t;

typedef struct {
    int64_t id;
    int64_t amount;             /* minor units */
    const char *occurred_at;    /* RFC 3339, in the offset it was written in */
    const char *description;    /* NULL: none */
    int64_t category_id;        /* 0: none */
    const char *created_at;     /* RFC 3339 UTC */
    const char *updated_at;
    int64_t version;            /* 1 when created, + 1 on every update */
} ledger_txn_t;

/* Rows op i returned: 1 for a get, n for a list or query, else 0. */
size_t ledger_result_row_count (ledger_result_t *self, size_t op);

/* Fill row `row` of op i. Returns 0, or -1 if there is no such row of
   that kind. Strings are borrowed from the result. */
int ledger_result_category (ledger_result_t *self, size_t op, size_t row, ledger_category_t *category);
int ledger_result_txn (ledger_result_t *self, size_t op, size_t row, ledger_txn_t *txn);

/* A row of txn.summary. */
typedef struct {
    bool has_category;          /* grouped by category */
    int64_t category_id;        /* 0: the transactions with no category */
    bool has_period;            /* grouped by period */
    const char *period;         /* "2025-01-31", "2025-W05", "2025-01" or "2025"; NULL if none */
    int64_t count;              /* transactions */
    int64_t total;              /* minor units, exact */
    int64_t min;
    int64_t max;
} ledger_summary_row_t;

/* Fill row `row` of txn.summary op i. Returns 0, or -1 if there is no
   such row. The period is borrowed from the result. */
int ledger_result_summary_row (ledger_result_t *self, size_t op, size_t row, ledger_summary_row_t *summary_row);

/* The `next` cursor of txn.query op i, or NULL when no rows remain. It is
   borrowed from the result; to page, ledger_query_next_page is simpler. */
const char *ledger_result_next (ledger_result_t *self, size_t op);

/* Point query at the page after txn.query op i of result, copying the
   cursor into query->cursor, so that the result can be destroyed at once:

       ledger_query_t query = { .limit = 500 };
       int more;
       do {
           ledger_batch_t *batch = ledger_batch_new ();
           ledger_batch_txn_query (batch, &query);
           ledger_result_t *result = ledger_client_submit (client, batch);
           ledger_batch_destroy (&batch);
           ...read the rows...
           more = ledger_query_next_page (&query, result, 0);
           ledger_result_destroy (&result);
       } while (more == 1);

   Returns 1 when another page exists, 0 when no rows remain (after is then
   NULL), or -1 when op i of result is not a successful txn.query (result
   NULL, the batch failed, or a cursor longer than LEDGER_CURSOR_MAX - 1);
   query is then left as it was, and a loop like the one above ends.
   query->after then points into query itself: a copy of the struct must
   point its own after at its own cursor. */
int ledger_query_next_page (ledger_query_t *query, ledger_result_t *result, size_t op);

/* sys.ping op i: the worker's version, or NULL. */
const char *ledger_result_version (ledger_result_t *self, size_t op);

/* sys.stats op i: a counter by path ("uptime_s", "batches_ok",
   "batches_failed.busy"), or -1 if absent. */
int64_t ledger_result_stat (ledger_result_t *self, size_t op, const char *path);

/* sys.backup op i: the snapshot taken. Strings are borrowed from the result. */
typedef struct {
    const char *token;          /* names it in sys.backup_read and sys.backup_end */
    int64_t size;               /* bytes */
    const char *sha256;         /* of the whole file: 64 lowercase hex digits */
    int64_t chunk_max;          /* most bytes one sys.backup_read gives */
    int64_t idle_timeout_s;     /* removed after this long without a read */
} ledger_backup_t;

/* Fill backup from sys.backup op i. Returns 0, or -1 if op i is not a
   successful sys.backup. */
int ledger_result_backup (ledger_result_t *self, size_t op, ledger_backup_t *backup);

/* sys.backup_read op i: its bytes (borrowed from the result; *size_p of
   them, 0 at the snapshot's end), or NULL if op i is not a successful
   sys.backup_read. */
const void *ledger_result_data (ledger_result_t *self, size_t op, size_t *size_p);

/* The whole reply as one line of JSON (the wire reply, or for
   LEDGER_UNKNOWN a reply-shaped object with class "unknown"). Returns a
   new string the caller frees with free (), or NULL; NULL too for a
   sys.backup_read's reply, whose bytes JSON has no type for. */
char *ledger_result_json (ledger_result_t *self);

#if defined (LEDGER_BUILDING) && defined (__GNUC__)
#   pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif

#endif
