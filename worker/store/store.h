/*  store -- the ledger in SQLite: schema, statements, and running batches.

    One store owns one connection and is used by one thread at a time (the
    writer, or one reader). store_run runs a decoded request as one transaction and packs
    the reply; every SQLite failure is turned into a proto_error_t at this
    boundary and nowhere else. */

#ifndef WORKER_STORE_H
#define WORKER_STORE_H

#include "proto_request.h"
#include "stats.h"

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct _store_t store_t;

typedef struct {
    bool sync_full;             /* PRAGMA synchronous=FULL, else NORMAL */
    int busy_timeout_ms;
    int64_t dedup_ttl_s;        /* 0 keeps idempotency keys forever */
    bool read_only;             /* a reader: no schema changes, no writes */
} store_options_t;

/* The schema version this build creates and understands. */
int store_schema_latest (void);

/* Open (creating if needed) the database at path, set it up (WAL, foreign
   keys) and migrate its schema forward. Counters go to stats (borrowed).
   Returns NULL and writes why into errbuf when the file cannot be opened,
   a writer could only open it read-only, or its schema version is one this
   build does not know (newer, or negative). A writer logs when it starts a
   new ledger, checkpoints the WAL itself (logging a failure), and watches
   that path still names the file it opened. */
store_t *store_new (const char *path, const store_options_t *options, stats_t *stats,
                    char *errbuf, size_t errlen);

/* The same store on a dqlite node (cluster mode): a connection to the
   node at address, database name on it. Call it on the leader only: it
   migrates the schema. Every request waits at most timeout_ms. */
store_t *store_new_dqlite (const char *address, const char *name, int timeout_ms,
                           const store_options_t *options, stats_t *stats, char *errbuf, size_t errlen);

/* False once the store has lost its node or the node its leadership
   (cluster mode): batches it ran since were answered `unavailable`, and
   it is of no more use. Always true on SQLite. */
bool store_usable (store_t *self);

/* Count into counts (borrowed) from now on: the block of the thread that
   will run this store. A new store counts into the front end's block. */
void store_set_counts (store_t *self, stats_block_t *counts);

/* Close the database (finalizing every statement) and set *self_p to NULL.
   A writer first checkpoints and truncates the WAL, and logs the outcome. */
void store_destroy (store_t **self_p);

/* The schema version of the open database. */
int store_schema_version (store_t *self);

/* Run request (decoded, with no envelope error) as one transaction and
   append its reply to out. */
void store_run (store_t *self, const proto_request_t *request, msgpack_sbuffer *out);

/* Group commit: run count requests in one transaction, each of more than
   one op in its own savepoint (one op is one statement, undone alone by
   SQLite), and append each one's reply to outs [n]. A batch that fails is
   undone alone and gets its error; the others commit. If the transaction
   cannot begin or commit, or storage fails on the way, every batch gets the
   same retryable error and nothing of the group is in the database. So it
   does when the writer's path no longer names the file it has open
   (io / DATABASE_MOVED), checked before BEGIN and after COMMIT. No reply
   may be sent before this returns: until COMMIT, nothing is durable. */
void store_run_group (store_t *self, const proto_request_t **requests, msgpack_sbuffer **outs, size_t count);

/* While the write lock is held by another connection, call serve (arg,
   wait_ms) instead of sleeping, until the busy timeout has passed: serve
   waits up to wait_ms for other work (it must not use this store). Without
   one, the store sleeps as SQLite's busy timeout does. */
typedef void (store_busy_fn) (void *arg, int wait_ms);
void store_set_busy_handler (store_t *self, store_busy_fn *serve, void *arg);

/* Drop idempotency records older than the TTL: a step of a sweep through
   the keys, if one is due (every 100 ms), sized to outrun the keys written
   since the last. Call between groups. */
void store_prune (store_t *self);

#endif
