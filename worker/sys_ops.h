/*  sys_ops -- the ops ledgerd answers without its ledger: sys.ping,
    sys.stats, cluster.transfer and cluster.remove (PROTO_OPF_NO_LEDGER in
    the op table).

    The front end answers a batch of these alone itself, on every node of a
    cluster, leader or not. In a batch with ledger ops (or, on a single node,
    a keyed batch: the store's idempotency log checks and keeps its key) the
    store runs them in the batch's transaction, through sys_ops_answer. */

#ifndef WORKER_SYS_OPS_H
#define WORKER_SYS_OPS_H

#include "proto_request.h"
#include "stats.h"

#include <msgpack.h>
#include <stdbool.h>

/* Does request hold ops answered without the ledger and nothing else (at
   least one, none refused by the decoder)? */
bool sys_ops_only (const proto_request_t *request);

/* Answer op n of a batch (op, which is PROTO_OPF_NO_LEDGER) from stats,
   packing its result into pk. Returns 0, or -1 with err set (a cluster op
   without a cluster, or refused by it). A cluster op blocks for at most
   the cluster timeout. */
int sys_ops_answer (stats_t *stats, uint32_t n, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err);

/* Answer request (sys_ops_only says yes) and append its reply to out,
   exactly as the store would; count the batch and its ops in stats, in
   the front end's block (call it on the front end's thread alone). In
   independent mode an op's own mistake (invalid) fails that op alone;
   else a failed op fails the batch, and no op after it runs (a cluster op
   is never undone). */
void sys_ops_run (stats_t *stats, const proto_request_t *request, msgpack_sbuffer *out);

#endif
