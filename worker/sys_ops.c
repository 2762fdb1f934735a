/*  sys_ops -- the ops ledgerd answers without its ledger. */

#include "sys_ops.h"
#include "proto_reply.h"

#include <stdlib.h>

#define VALUE(op, sym) (&(op)->value [PROTO_FIELD_##sym])

/*  sys_ops_answer has a case for each of these ops: one more flagged
    PROTO_OPF_NO_LEDGER in proto_ops.h needs one too. */
enum {
#define X(sym, name, entity, flags, required, optional, one_of) + (((flags) & PROTO_OPF_NO_LEDGER) != 0)
    S_NO_LEDGER_OPS = 0 PROTO_OP_LIST (X)
#undef X
};
_Static_assert (S_NO_LEDGER_OPS == 4, "an op flagged PROTO_OPF_NO_LEDGER needs its case in sys_ops_answer");

static void
s_pack_ping (stats_t *stats, msgpack_packer *pk)
{
    msgpack_pack_map (pk, stats->cluster? 3: 2);
    proto_pack_cstr (pk, "pong");
    msgpack_pack_true (pk);
    proto_pack_cstr (pk, "version");
    proto_pack_cstr (pk, LEDGER_VERSION);
    if (stats->cluster) {
        proto_pack_cstr (pk, "role");
        proto_pack_cstr (pk, stats->cluster_role (stats->cluster));
    }
}

static void
s_pack_counter (msgpack_packer *pk, const char *name, uint64_t value)
{
    proto_pack_cstr (pk, name);
    msgpack_pack_uint64 (pk, value);
}

static void
s_pack_stats (stats_t *stats, msgpack_packer *pk)
{
    stats_block_t total;
    stats_total (stats, &total);
    msgpack_pack_map (pk, 1);
    proto_pack_cstr (pk, "stats");
    msgpack_pack_map (pk, stats->cluster? 9: 8);
    proto_pack_cstr (pk, "uptime_s");
    msgpack_pack_int64 (pk, (stats_now_us () - stats->started_us) / 1000000);
    s_pack_counter (pk, "batches_ok", stats_get (&total.batches_ok));
    proto_pack_cstr (pk, "batches_failed");
    msgpack_pack_map (pk, PROTO_CLASS_COUNT - 1);
    for (int klass = PROTO_CLASS_NONE + 1; klass < PROTO_CLASS_COUNT; klass++)
        s_pack_counter (pk, proto_class_name ((proto_class_t) klass), stats_get (&total.batches_failed [klass]));
    s_pack_counter (pk, "ops", stats_ops (&total));
    s_pack_counter (pk, "rows_changed", stats_get (&total.rows_changed));
    s_pack_counter (pk, "replays", stats_get (&total.replays));
    s_pack_counter (pk, "replies_dropped", stats_get (&total.replies_dropped));
    s_pack_counter (pk, "transactions", stats_get (&total.write_transactions));
    if (stats->cluster) {
        proto_pack_cstr (pk, "cluster");
        stats->cluster_pack (stats->cluster, pk);
    }
}

/*  cluster.transfer and cluster.remove: for the cluster, not the ledger.
    Without one (single-node mode), there is nothing to do. */
static int
s_cluster_admin (stats_t *stats, uint32_t n, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err)
{
    bool remove = op->code == PROTO_OP_CLUSTER_REMOVE;
    if (!stats->cluster) {
        proto_error_set (err, PROTO_CLASS_INVALID, (int) n, "op", "NOT_CLUSTER",
                         "this worker is not in cluster mode");
        return -1;
    }
    if (VALUE (op, ID)->kind != PROTO_VAL_INT) {
        proto_error_set (err, PROTO_CLASS_INVALID, (int) n, "id", "NOT_A_NODE", "give a node id");
        return -1;
    }
    char why [256];
    if (stats->cluster_admin (stats->cluster, remove, (uint64_t) VALUE (op, ID)->i, why, sizeof (why))) {
        proto_error_set (err, PROTO_CLASS_UNAVAILABLE, (int) n, "id", remove? "REMOVE_FAILED": "TRANSFER_FAILED",
                         "%s", why);
        return -1;
    }
    msgpack_pack_map (pk, 1);
    proto_pack_cstr (pk, "done");
    msgpack_pack_true (pk);
    return 0;
}

bool
sys_ops_only (const proto_request_t *request)
{
    for (uint32_t n = 0; n < request->op_count; n++)
        if (!(proto_op_info (request->ops [n].code)->flags & PROTO_OPF_NO_LEDGER) || request->ops [n].error)
            return false;
    return request->op_count > 0;
}

int
sys_ops_answer (stats_t *stats, uint32_t n, const proto_op_t *op, msgpack_packer *pk, proto_error_t *err)
{
    switch (op->code) {
        case PROTO_OP_SYS_PING:
            s_pack_ping (stats, pk);
            return 0;
        case PROTO_OP_SYS_STATS:
            s_pack_stats (stats, pk);
            return 0;
        case PROTO_OP_CLUSTER_TRANSFER:
        case PROTO_OP_CLUSTER_REMOVE:
            return s_cluster_admin (stats, n, op, pk, err);
        default:
            abort ();           /* a ledger op: the caller's mistake */
    }
}

void
sys_ops_run (stats_t *stats, const proto_request_t *request, msgpack_sbuffer *out)
{
    msgpack_sbuffer results;
    msgpack_sbuffer_init (&results);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &results, msgpack_sbuffer_write);
    msgpack_pack_array (&pk, request->op_count);
    bool independent = request->mode == PROTO_MODE_INDEPENDENT;
    int64_t failed = 0;
    stats_block_t *counts = stats_block (stats, STATS_FRONTEND);
    for (uint32_t n = 0; n < request->op_count; n++) {
        proto_error_t err = { .klass = PROTO_CLASS_NONE };
        stats_count_ops (counts, request->ops [n].code, 1);
        size_t mark = results.size;
        if (sys_ops_answer (stats, n, &request->ops [n], &pk, &err) == 0)
            continue;
        if (independent && err.klass == PROTO_CLASS_INVALID) {
            results.size = mark;
            failed++;
            msgpack_pack_map (&pk, 1);
            proto_pack_cstr (&pk, "error");
            proto_pack_error (&pk, &err);
            continue;
        }
        msgpack_sbuffer_destroy (&results);
        proto_reply_error (out, request, &err);
        stats_count_batch (counts, err.klass);
        return;
    }
    proto_reply_ok (out, request, results.data, results.size, independent? failed: -1, false);
    stats_count_batch (counts, PROTO_CLASS_NONE);
    msgpack_sbuffer_destroy (&results);
}
