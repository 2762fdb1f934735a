/*  stats -- counters shared by the front end (the writer) and the readers for sys.stats. */

#ifndef WORKER_STATS_H
#define WORKER_STATS_H

#include "proto_error.h"

#include <msgpack.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t started_us;                             /* wall clock at start */
    atomic_uint_fast64_t batches_ok;
    atomic_uint_fast64_t batches_failed [PROTO_CLASS_COUNT];
    atomic_uint_fast64_t ops;                       /* ops run, by the writer and the readers */
    atomic_uint_fast64_t rows_changed;
    atomic_uint_fast64_t replays;                   /* replies from the idempotency log */
    atomic_uint_fast64_t replies_dropped;           /* peer gone or not reading */
    atomic_uint_fast64_t write_transactions;        /* groups the writer ran */
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

/* Count one finished batch: klass is PROTO_CLASS_NONE when it succeeded. */
void stats_count_batch (stats_t *self, proto_class_t klass);

/* Microseconds since the Unix epoch, wall clock. */
int64_t stats_now_us (void);

/* Microseconds on the monotonic clock: for intervals. */
int64_t stats_monotonic_us (void);

#endif
