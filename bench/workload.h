/*  workload -- what a batch contains, the same for the worker and the
    baselines.

    A mix gives each op kind a weight; every op of a batch is drawn from it.
    A workload is one client's stream of ops: creates get a fresh instant in
    the client's own lane of time (so the instant of the k-th row a client
    created can be computed again from k, without remembering it), and
    update, get and query pick a row created earlier -- prefilled before the
    clock started, or created by this client since.

    The ops are plain values. The worker driver turns them into ledger_batch
    calls and the baselines into bound SQL statements, so both sides run the
    same shape of work. */

#ifndef BENCH_WORKLOAD_H
#define BENCH_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    WORK_CREATE,                /* txn.create */
    WORK_UPDATE,                /* txn.update of an earlier row's amount */
    WORK_GET,                   /* txn.get of an earlier row */
    WORK_QUERY,                 /* txn.query of the minute from an earlier row's instant, 10 rows at most */
    WORK_KIND_COUNT
} work_kind_t;

typedef struct {
    int weight [WORK_KIND_COUNT];
    int total;
} work_mix_t;

typedef struct {
    work_kind_t kind;
    int64_t amount;             /* create, update: minor units */
    int64_t occurred_us;        /* create: the instant; query: from */
    int64_t seq;                /* create: the client's row number (see workload_occurred_us) */
    int64_t target_id;          /* update, get */
} work_op_t;

/*  A row a later op may target. */
typedef struct {
    int64_t id;
    int64_t occurred_us;
} work_row_t;

/* The description every created row carries. */
#define WORK_DESCRIPTION "ledger-bench row"

/* How long a query's window is, from its target row's instant. */
#define WORK_QUERY_SPAN_US (60LL * 1000000)

/* How many rows a query op returns at most. */
#define WORK_QUERY_LIMIT 10

/* Parse "create:90,update:5,query:5" into mix. Returns 0, or -1 with
   errbuf saying what is wrong. */
int workload_mix_parse (const char *text, work_mix_t *mix, char *errbuf, size_t errlen);

/* Write mix as text ("create:90,update:5,query:5") into buffer. */
void workload_mix_format (const work_mix_t *mix, char *buffer, size_t size);

/* Whether the mix has ops that target earlier rows. */
bool workload_mix_needs_rows (const work_mix_t *mix);

/* The instant of row seq of lane (of lanes): every lane has its own
   instants, one millisecond apart in lane order, so rows never share one.
   Lane -1 is the prefill's, a year earlier. */
int64_t workload_occurred_us (int lane, int lanes, int64_t seq);

typedef struct _workload_t workload_t;

/* A new op stream for lane (of lanes) drawing from mix, seeded by seed.
   prefill (borrowed, may be NULL) holds rows that exist before the clock
   starts. Returns NULL when memory runs out. */
workload_t *workload_new (const work_mix_t *mix, int lane, int lanes, uint64_t seed,
                          const work_row_t *prefill, size_t prefill_count);

/* Destroy the workload and set *self_p to NULL. */
void workload_destroy (workload_t **self_p);

/* Fill ops [0 .. count) with the next batch's ops. An op that needs an
   earlier row becomes a create while there is none. */
void workload_next (workload_t *self, work_op_t *ops, size_t count);

/* Row id now exists with the instant of this lane's row seq: later ops
   may target it. */
void workload_created (workload_t *self, int64_t id, int64_t seq);

#endif
