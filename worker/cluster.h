/*  cluster -- this ledgerd's dqlite node, and what it knows of the others.

    Cluster mode embeds a dqlite node (Raft) in ledgerd. Node 1 founds the
    cluster on an empty data directory; every other node starts empty and
    is added, as a voter, through a member it is told to join. Each ledgerd
    records the endpoint its clients use in a small replicated table
    (database "ledgerd-cluster"), so that every node can tell a producer
    where the leader is.

    A watcher thread asks the local node who leads, every poll interval
    and at once when the front end says its store was lost; the front end
    reads the answer with cluster_leader, which never blocks on the
    network. */

#ifndef WORKER_CLUSTER_H
#define WORKER_CLUSTER_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _cluster_t cluster_t;

/* The ledger's database on the dqlite nodes. */
#define CLUSTER_DB_NAME "ledger"

typedef struct {
    uint64_t id;                /* this node, 1 founds the cluster */
    const char *address;        /* HOST:PORT the node listens on and others reach it at */
    const char *join;           /* HOST:PORT[,...] of members to join through, or NULL */
    const char *data_dir;       /* Raft log and snapshots */
    const char *endpoint;       /* this ledgerd's endpoint, as clients should use it */
    unsigned latency_ms;        /* network round trip: election timeout is 15 times it */
    unsigned snapshot_threshold;        /* Raft entries between snapshots */
    unsigned snapshot_trailing;         /* entries kept after a snapshot */
    int timeout_ms;             /* a request to a node waits at most this */
    int join_timeout_ms;        /* joining gives up after this */
} cluster_options_t;

/* Start the node and, for a node that is not yet a member, join the
   cluster through options->join (blocking, at most join_timeout_ms).
   Returns NULL with errbuf set. */
cluster_t *cluster_new (const cluster_options_t *options, char *errbuf, size_t errlen);

/* Hand leadership to another voter if this node leads (so producers wait
   for no election), then stop the node. */
void cluster_destroy (cluster_t **self_p);

/* The address the store connects to (this node). */
const char *cluster_node_address (cluster_t *self);

/* Does this node lead now? Copies the leader's ledgerd endpoint into
   endpoint ("" when no leader is known). Never blocks on the network. */
bool cluster_leader (cluster_t *self, char *endpoint, size_t size);

/* The store lost its node or its leadership: ask again now. */
void cluster_kick (cluster_t *self);

/* "leader", "follower" or "candidate" (no leader known). */
const char *cluster_role (cluster_t *self);

/* Pack the cluster's view for sys.stats: a map with this node's id, the
   leader's id, and every node (id, address, endpoint, role, leader,
   reachable). */
void cluster_pack (cluster_t *self, msgpack_packer *pk);

/* Ask the leader to move leadership to node id (0: the most up to date
   voter), or to remove node id from the cluster. Blocking, bounded by the
   timeout. Returns 0, or -1 with errbuf set. */
int cluster_transfer (cluster_t *self, uint64_t id, char *errbuf, size_t errlen);
int cluster_remove (cluster_t *self, uint64_t id, char *errbuf, size_t errlen);

#endif
