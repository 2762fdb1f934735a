/*  cluster_run -- `ledger-bench cluster`: three ledgerd nodes on loopback,
    measured beside the dqlite-direct baseline in the same run.

    The nodes are the ledgerd beside ledger-bench, started in cluster mode
    in the run's directory (node 1 founds, 2 and 3 join). Then, one after
    another:

    1. dqlite-direct: --clients producers, each a connection of its own
       straight to the leader's dqlite node (dqwire), each running the
       worker's own txn insert as a 1-op autocommit transaction, one at a
       time; SQLITE_BUSY (another connection's transaction open) is retried
       after 1 ms and counted. What a user of dqlite alone would do.
    2. ledgerd, 1-op batches: --clients clients x --window in flight,
       through the client library (keyed, as it keys every write), to all
       three endpoints, the leader's first.
    3. ledgerd, 1000-op batches: one client, window 4.
    4. failover: --kills times, kill -9 of the leader while four producers
       write 1-op batches one at a time; the time from the kill to the
       first ok write is measured, the node restarted on its data
       directory and given time to catch up.
    5. with --rows N: N rows in 1000-op batches while one producer writes
       1-op batches one at a time; its worst latency is the worst write
       stall (snapshots included), and every node's RSS is read at the end.

    Each phase runs --duration seconds (phases 1-3). Figures and the
    targets' ratios print as a table. */

#ifndef BENCH_CLUSTER_RUN_H
#define BENCH_CLUSTER_RUN_H

#include "options.h"

/* Run `ledger-bench cluster`. Returns the exit status: 0 every target met
   and every batch ok, 1 a target missed or a batch failed, 3 set-up failed. */
int cluster_run_main (const options_t *options);

#endif
