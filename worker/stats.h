/*  stats -- the worker's counters, for sys.stats and /metrics.

    No lock and no shared cache line on the hot path: every thread that
    counts (the front end, which is the writer, and each reader) owns one
    stats_block_t and is the only one to write it, with relaxed atomic
    loads and stores (a plain add, with no locked instruction). Whoever
    reports -- sys.stats on any thread, the metrics HTTP thread -- sums the
    blocks with stats_total. A sum read while the owners count may be a
    few counts behind; never torn, never ahead. */

#ifndef WORKER_STATS_H
#define WORKER_STATS_H

#include "proto_error.h"
#include "proto_ops.h"

#include <msgpack.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Blocks: the front end's (STATS_FRONTEND), one per reader, then the
   backup thread's (STATS_BACKUP). */
#define STATS_FRONTEND 0
#define STATS_MAX_READERS 64
#define STATS_BACKUP (1 + STATS_MAX_READERS)
#define STATS_BLOCKS (2 + STATS_MAX_READERS)

/* Ops are counted by code; an op the decoder did not know counts here. */
#define STATS_OP_UNKNOWN PROTO_OP_COUNT
#define STATS_OPS (PROTO_OP_COUNT + 1)

/* The histograms, each with fixed bucket bounds (stats_bounds). */
typedef enum {
    STATS_BATCH_LATENCY,        /* µs from receiving a batch to sending its reply */
    STATS_WRITER_WAIT,          /* µs a write batch waited for its group to start */
    STATS_COMMIT,               /* µs of a write transaction's COMMIT (its fsync) */
    STATS_GROUP_SIZE,           /* batches in one write transaction */
    STATS_HISTOGRAMS
} stats_histogram_t;

/* Bounds per histogram, at most; the last bucket (+Inf) comes after them. */
#define STATS_MAX_BOUNDS 18
#define STATS_BUCKETS (STATS_MAX_BOUNDS + 1)

typedef struct {
    atomic_uint_fast64_t buckets [STATS_BUCKETS];   /* observations in each bucket, not cumulative */
    atomic_uint_fast64_t sum;                       /* of the values observed */
} stats_histogram_data_t;

/* One thread's counters. */
typedef struct {
    alignas (64) atomic_uint_fast64_t batches_ok;
    atomic_uint_fast64_t batches_failed [PROTO_CLASS_COUNT];
    atomic_uint_fast64_t ops [STATS_OPS];           /* ops run, by op code */
    atomic_uint_fast64_t rows_changed;
    atomic_uint_fast64_t replays;                   /* replies from the idempotency log */
    atomic_uint_fast64_t replies_dropped;           /* peer gone or not reading */
    atomic_uint_fast64_t write_transactions;        /* groups the writer ran */
    atomic_uint_fast64_t checkpoints;               /* WAL checkpoints the writer ran */
    stats_histogram_data_t histograms [STATS_HISTOGRAMS];
} stats_block_t;

/* Whether the worker takes requests, for /readyz. Written by the front end. */
typedef enum {
    STATS_STARTING,             /* the database is not open yet */
    STATS_READY,
    STATS_NO_LEADER,            /* cluster: no leader known, or leading without a store */
    STATS_DRAINING              /* stopping: no new requests */
} stats_state_t;

typedef struct {
    int64_t started_us;                             /* wall clock at start */
    stats_block_t blocks [STATS_BLOCKS];
    /*  Gauges, written by the front end alone. */
    atomic_uint_fast64_t writer_queue;              /* write batches waiting for the writer */
    atomic_uint_fast64_t reader_queue;              /* read batches not yet handed to a reader */
    atomic_uint_fast64_t reader_in_flight;          /* read batches at the readers */
    atomic_uint_fast64_t held_ops;                  /* ops taken and not yet answered */
    atomic_int state;                               /* stats_state_t */
    /*  Cluster mode: what sys.ping and sys.stats say of the cluster (NULL
        in single-node mode). Safe to call from any thread. */
    void *cluster;
    const char *(*cluster_role) (void *cluster);
    void (*cluster_pack) (void *cluster, msgpack_packer *pk);
    /*  cluster.transfer (remove false) or cluster.remove of node id:
        0, or -1 with errbuf set. Blocks for at most the cluster timeout. */
    int (*cluster_admin) (void *cluster, bool remove, uint64_t id, char *errbuf, size_t errlen);
} stats_t;

/* Zero all counters and note the start time. */
void stats_init (stats_t *self);

/* The block of thread index (STATS_FRONTEND, or 1 + a reader's number). */
stats_block_t *stats_block (stats_t *self, int index);

/* Add n to a counter of a block the calling thread owns. */
static inline void
stats_add (atomic_uint_fast64_t *counter, uint64_t n)
{
    atomic_store_explicit (counter, atomic_load_explicit (counter, memory_order_relaxed) + n, memory_order_relaxed);
}

/* Set a gauge (one writer). */
static inline void
stats_set (atomic_uint_fast64_t *gauge, uint64_t value)
{
    atomic_store_explicit (gauge, value, memory_order_relaxed);
}

/* A counter or gauge, from any thread. */
static inline uint64_t
stats_get (const atomic_uint_fast64_t *counter)
{
    return atomic_load_explicit ((atomic_uint_fast64_t *) counter, memory_order_relaxed);
}

/* Count one finished batch: klass is PROTO_CLASS_NONE when it succeeded. */
void stats_count_batch (stats_block_t *block, proto_class_t klass);

/* Count n ops of code (STATS_OP_UNKNOWN, or any code out of range, for an
   op the decoder did not know). */
void stats_count_ops (stats_block_t *block, int code, uint64_t n);

/* Record value in histogram which. */
void stats_observe (stats_block_t *block, stats_histogram_t which, uint64_t value);

/* The upper bounds of histogram which's buckets, ascending, and how many
   (*count_p; +Inf comes after them). */
const uint64_t *stats_bounds (stats_histogram_t which, int *count_p);

/* Sum every block into total (any thread). */
void stats_total (stats_t *self, stats_block_t *total);

/* Every batch counted in total, whatever its outcome. */
uint64_t stats_batches (const stats_block_t *total);

/* Every op counted in total. */
uint64_t stats_ops (const stats_block_t *total);

/* Microseconds since the Unix epoch, wall clock. */
int64_t stats_now_us (void);

/* Microseconds on the monotonic clock: for intervals. */
int64_t stats_monotonic_us (void);

#endif
