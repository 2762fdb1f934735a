/*  cluster_run -- `ledger-bench cluster`: three nodes beside dqlite-direct. */

#include "cluster_run.h"
#include "driver.h"
#include "histogram.h"
#include "spawn.h"
#include "tally.h"
#include "timing.h"
#include "workdir.h"

#include "dqw.h"
#include "ledger.h"
#include "stats.h"
#include "store.h"
#include "store_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_NODES          3
#define S_DB_NAME        "ledger"           /* the worker's database, as cluster.c names it */
#define S_DIRECT_DB      "bench-direct"     /* the baseline's own database, same schema */
#define S_PEER_MS        1000
#define S_FAILOVER_PRODUCERS 4
#define S_IN_FLIGHT_NS   (20 * TIMING_NS_PER_MS)    /* replies the dead leader sent just before */
#define S_BIG_BATCH      1000

/*  The worker's own insert, so the baseline writes what a txn.create does. */
static const char *s_worker_sql [STMT_COUNT] = {
#define X(sym, sql) [STMT_##sym] = sql,
    STORE_STMT_LIST (X)
#undef X
};

typedef struct {
    int id;
    char id_text [16];
    char raft [32];             /* 127.0.0.1:PORT */
    char endpoint [64];         /* tcp://127.0.0.1:PORT */
    char data_dir [4096];
    char log_path [4096];
    char *args [32];
    int argc;
    spawn_t *proc;              /* NULL while down */
} node_t;

typedef struct {
    const options_t *options;
    workdir_t *workdir;
    node_t nodes [S_NODES];
    char error [512];
} cluster_t;

/* -------------------------------------------------------------------------
   The nodes
   ------------------------------------------------------------------------- */

/*  A thread the run cannot do without: a machine that cannot start one
    cannot run the benchmark at all. */
static void
s_start_thread (pthread_t *thread, void *(*main) (void *), void *arg)
{
    int rc = pthread_create (thread, NULL, main, arg);
    if (rc) {
        fprintf (stderr, "ledger-bench: cannot start a thread: %s\n", strerror (rc));
        exit (1);
    }
}

static int
s_node_start (cluster_t *self, node_t *node)
{
    node->proc = spawn_start (*node->endpoint? node->endpoint: NULL, node->args, node->argc, node->log_path,
                              self->error, sizeof (self->error));
    if (!node->proc)
        return -1;
    snprintf (node->endpoint, sizeof (node->endpoint), "%s", spawn_endpoint (node->proc));
    return 0;
}

/*  The leader id as node sees it; 0 if none, or node cannot be asked. */
static uint64_t
s_leader_seen_by (node_t *node)
{
    uint64_t id = 0;
    dqw_t *conn = node->proc? dqw_connect (node->raft, S_PEER_MS, NULL, 0): NULL;
    if (conn && dqw_leader (conn, &id, NULL, 0))
        id = 0;
    dqw_destroy (&conn);
    return id;
}

/*  Wait up to timeout_ms for a node that is up and says it leads a
    cluster of S_NODES voters. Returns it, or NULL. */
static node_t *
s_wait_leader (cluster_t *self, int timeout_ms)
{
    int64_t deadline = timing_now_ns () + (int64_t) timeout_ms * TIMING_NS_PER_MS;
    do {
        for (int n = 0; n < S_NODES; n++) {
            node_t *node = &self->nodes [n];
            spawn_usage_t usage;
            if (node->proc && spawn_usage (node->proc, &usage)) {
                /*  Not one we killed: say so now rather than wait. */
                snprintf (self->error, sizeof (self->error), "node %d died on its own (its log: %.300s)", node->id,
                          node->log_path);
                return NULL;
            }
        }
        for (int n = 0; n < S_NODES; n++) {
            node_t *node = &self->nodes [n];
            if (s_leader_seen_by (node) != (uint64_t) node->id)
                continue;
            dqw_t *conn = dqw_connect (node->raft, S_PEER_MS, NULL, 0);
            dqw_node_t *members = NULL;
            size_t count = 0, voters = 0;
            if (conn && dqw_cluster (conn, &members, &count) == 0)
                for (size_t m = 0; m < count; m++)
                    voters += members [m].role == DQW_VOTER;
            dqw_nodes_free (members, count);
            dqw_destroy (&conn);
            if (voters == S_NODES)
                return node;
        }
        timing_sleep_until_ns (timing_now_ns () + 50 * TIMING_NS_PER_MS);
    } while (timing_now_ns () < deadline);
    return NULL;
}

/*  "leader,others": the endpoints for the producers, leader first. */
static void
s_endpoints (cluster_t *self, node_t *first, char *buffer, size_t size)
{
    size_t used = (size_t) snprintf (buffer, size, "%s", first->endpoint);
    for (int n = 0; n < S_NODES && used < size; n++)
        if (&self->nodes [n] != first)
            used += (size_t) snprintf (buffer + used, size - used, ",%s", self->nodes [n].endpoint);
}

static int
s_cluster_start (cluster_t *self)
{
    const options_t *options = self->options;
    for (int n = 0; n < S_NODES; n++) {
        node_t *node = &self->nodes [n];
        node->id = n + 1;
        snprintf (node->id_text, sizeof (node->id_text), "%d", node->id);
        int port = spawn_free_port (self->error, sizeof (self->error));
        if (port < 0)
            return -1;
        snprintf (node->raft, sizeof (node->raft), "127.0.0.1:%d", port);
        char name [32];
        snprintf (name, sizeof (name), "node%d", node->id);
        workdir_file (self->workdir, name, "raft", node->data_dir, sizeof (node->data_dir));
        workdir_file (self->workdir, name, "log", node->log_path, sizeof (node->log_path));
        char **arg = node->args;
        *arg++ = (char *) "--cluster-id";
        *arg++ = node->id_text;
        *arg++ = (char *) "--cluster-bind";
        *arg++ = node->raft;
        *arg++ = (char *) "--data-dir";
        *arg++ = node->data_dir;
        if (node->id > 1) {
            *arg++ = (char *) "--cluster-join";
            *arg++ = self->nodes [0].raft;
        }
        for (int extra = 0; extra < options->worker_argc && arg < node->args + 31; extra++)
            *arg++ = options->worker_args [extra];
        node->argc = (int) (arg - node->args);
        if (s_node_start (self, node))
            return -1;
    }
    *self->error = 0;
    if (!s_wait_leader (self, 30000)) {
        if (!*self->error)
            snprintf (self->error, sizeof (self->error), "the three nodes did not form a cluster within 30 s");
        return -1;
    }
    return 0;
}

static void
s_cluster_stop (cluster_t *self)
{
    char why [256];
    for (int n = 0; n < S_NODES; n++)
        if (self->nodes [n].proc && spawn_stop (&self->nodes [n].proc, why, sizeof (why)))
            fprintf (stderr, "ledger-bench: node %d: %s\n", n + 1, why);
}

/* -------------------------------------------------------------------------
   1. dqlite-direct
   ------------------------------------------------------------------------- */

typedef struct {
    const char *address;
    int64_t deadline_ns;
    pthread_barrier_t *go;
    tally_t tally;
    uint64_t busy;              /* SQLITE_BUSY answers, retried */
    char error [256];
} direct_t;

static void *
s_direct_main (void *arg)
{
    direct_t *self = (direct_t *) arg;
    char errbuf [256] = "";
    dqw_t *conn = dqw_connect (self->address, 5000, errbuf, sizeof (errbuf));
    uint32_t db = 0, stmt = 0;
    if (!conn || dqw_open (conn, S_DIRECT_DB, &db) || dqw_prepare (conn, db, s_worker_sql [STMT_TXN_INSERT], &stmt, NULL))
        snprintf (self->error, sizeof (self->error), "%s", conn? dqw_errmsg (conn): errbuf);
    pthread_barrier_wait (self->go);
    self->tally.started_ns = timing_now_ns ();
    for (int64_t n = 0; !*self->error && timing_now_ns () < self->deadline_ns; n++) {
        dqw_value_t params [6] = {
            { .type = DQW_INTEGER, .i = -(n + 1) },
            { .type = DQW_INTEGER, .i = 1700000000000000LL + n },
            { .type = DQW_INTEGER, .i = 0 },
            { .type = DQW_TEXT, .p = "direct", .len = 6 },
            { .type = DQW_NULL },
            { .type = DQW_INTEGER, .i = timing_wall_us () }
        };
        int64_t sent = timing_now_ns ();
        int rc = dqw_exec (conn, db, stmt, params, 6, NULL, NULL);
        int64_t now = timing_now_ns ();
        if (rc == 0) {
            self->tally.batches_ok++;
            self->tally.ops_ok++;
            self->tally.rows_written++;
            histogram_record (&self->tally.latency, now - sent);
            self->tally.finished_ns = now;
        }
        else
        if (rc == DQW_FAILURE && ((dqw_errcode (conn) & 0xff) == 5 || (dqw_errcode (conn) & 0xff) == 6)) {
            /*  Another connection's transaction is open: dqlite answers
                SQLITE_BUSY at once. Try again after a millisecond (at
                once, eight spinning clients starve the nodes of CPU). */
            self->busy++;
            timing_sleep_until_ns (now + TIMING_NS_PER_MS);
        }
        else {
            snprintf (self->error, sizeof (self->error), "%s", dqw_errmsg (conn));
            self->tally.errors [TALLY_INTERNAL]++;
        }
    }
    dqw_destroy (&conn);
    return NULL;
}

/*  Run the baseline into tally; busy_p gets the SQLITE_BUSY count. */
static int
s_direct_phase (cluster_t *self, node_t *leader, tally_t *tally, uint64_t *busy_p)
{
    const options_t *options = self->options;
    /*  The worker's schema, made by the worker's migration, on a database
        of the baseline's own. */
    stats_t stats;
    stats_init (&stats);
    store_options_t store_options = { .busy_timeout_ms = 5000 };
    store_t *schema = store_new_dqlite (leader->raft, S_DIRECT_DB, 5000, &store_options, &stats,
                                        self->error, sizeof (self->error));
    if (!schema)
        return -1;
    store_destroy (&schema);

    int count = options->clients;
    direct_t *clients = calloc ((size_t) count, sizeof (direct_t));
    pthread_t *threads = calloc ((size_t) count, sizeof (pthread_t));
    pthread_barrier_t go;
    if (!clients || !threads || pthread_barrier_init (&go, NULL, (unsigned) count + 1)) {
        free (clients);
        free (threads);
        snprintf (self->error, sizeof (self->error), "out of memory");
        return -1;
    }
    for (int n = 0; n < count; n++) {
        clients [n].address = leader->raft;
        clients [n].go = &go;
        tally_reset (&clients [n].tally);
        s_start_thread (&threads [n], s_direct_main, &clients [n]);
    }
    int64_t start = timing_now_ns ();
    for (int n = 0; n < count; n++)
        clients [n].deadline_ns = start + (int64_t) (options->duration_s * TIMING_NS_PER_S) + TIMING_NS_PER_S;
    pthread_barrier_wait (&go);
    int rc = 0;
    tally_reset (tally);
    *busy_p = 0;
    for (int n = 0; n < count; n++) {
        pthread_join (threads [n], NULL);
        tally_merge (tally, &clients [n].tally);
        *busy_p += clients [n].busy;
        if (*clients [n].error && !rc) {
            snprintf (self->error, sizeof (self->error), "dqlite-direct client %d: %s", n, clients [n].error);
            rc = -1;
        }
    }
    pthread_barrier_destroy (&go);
    free (clients);
    free (threads);
    return rc;
}

/* -------------------------------------------------------------------------
   2, 3. ledgerd through the client library
   ------------------------------------------------------------------------- */

static int
s_worker_phase (cluster_t *self, const char *endpoints, int clients, int window, int batch_ops,
                uint64_t batches, tally_t *tally)
{
    options_t options = *self->options;
    options.clients = clients;
    options.window = window;
    options.batch_ops = batch_ops;
    options.query_clients = 0;
    options.rate = 0;
    options.batches = batches;
    if (batches)
        options.duration_s = 0;
    driver_plan_t plan = { .options = &options, .endpoint = endpoints, .batches = batches };
    tally_t readers;
    tally_reset (tally);
    tally_reset (&readers);
    return driver_run (&plan, tally, &readers, self->error, sizeof (self->error));
}

/* -------------------------------------------------------------------------
   4. failover
   ------------------------------------------------------------------------- */

typedef struct {
    cluster_t *cluster;
    int index;
    atomic_bool *stop;
    atomic_int_fast64_t *armed_ns;      /* count oks from then on */
    atomic_int_fast64_t *first_ok_ns;   /* the first ok at or after armed_ns */
    uint64_t ok, failed;
} producer_t;

static void *
s_producer_main (void *arg)
{
    producer_t *self = (producer_t *) arg;
    cluster_t *cluster = self->cluster;
    char endpoints [S_NODES * 80];
    s_endpoints (cluster, &cluster->nodes [self->index % S_NODES], endpoints, sizeof (endpoints));
    ledger_client_t *client = driver_client_new (cluster->options, endpoints);
    if (!client)
        return NULL;
    ledger_client_set_timeout (client, cluster->options->timeout_ms);
    ledger_client_set_retries (client, cluster->options->retries);
    for (int64_t n = 0; !atomic_load (self->stop); n++) {
        ledger_batch_t *batch = ledger_batch_new ();
        ledger_batch_txn_create (batch, -(n + 1), ledger_time_at (1700000000000000LL + n, 0), "failover",
                                 LEDGER_UNSET);
        ledger_result_t *result = ledger_client_submit (client, batch);
        int64_t now = timing_now_ns ();
        if (result && ledger_result_status (result) == LEDGER_OK) {
            self->ok++;
            int_fast64_t armed = atomic_load (self->armed_ns), none = 0;
            if (armed && now >= armed)
                atomic_compare_exchange_strong (self->first_ok_ns, &none, now);
        }
        else
            self->failed++;
        ledger_result_destroy (&result);
        ledger_batch_destroy (&batch);
    }
    ledger_client_destroy (&client);
    return NULL;
}

static int
s_compare_double (const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y? -1: x > y;
}

/*  kill -9 the leader kills times; delays_ms gets each kill's time to the
    first ok write. Returns the kills measured, or -1. */
static int
s_failover_phase (cluster_t *self, double *delays_ms, int kills, uint64_t *failed_p)
{
    atomic_bool stop = false;
    atomic_int_fast64_t armed = 0, first = 0;
    producer_t producers [S_FAILOVER_PRODUCERS];
    pthread_t threads [S_FAILOVER_PRODUCERS];
    for (int n = 0; n < S_FAILOVER_PRODUCERS; n++) {
        producers [n] = (producer_t) { self, n, &stop, &armed, &first, 0, 0 };
        s_start_thread (&threads [n], s_producer_main, &producers [n]);
    }
    int measured = 0;
    for (int k = 0; k < kills; k++) {
        node_t *leader = s_wait_leader (self, 30000);
        if (!leader) {
            if (!*self->error)
                snprintf (self->error, sizeof (self->error), "no leader with three voters within 30 s");
            break;
        }
        timing_sleep_until_ns (timing_now_ns () + TIMING_NS_PER_S);     /* writes flowing again */
        atomic_store (&first, 0);
        int64_t killed = timing_now_ns ();
        atomic_store (&armed, killed + S_IN_FLIGHT_NS);
        spawn_kill (&leader->proc);
        int64_t deadline = killed + 30 * TIMING_NS_PER_S;
        while (!atomic_load (&first) && timing_now_ns () < deadline)
            timing_sleep_until_ns (timing_now_ns () + TIMING_NS_PER_MS);
        atomic_store (&armed, 0);
        if (!atomic_load (&first)) {
            snprintf (self->error, sizeof (self->error), "no ok write within 30 s of killing node %d", leader->id);
            break;
        }
        delays_ms [measured++] = (double) (atomic_load (&first) - killed) / TIMING_NS_PER_MS;
        if (s_node_start (self, leader))
            break;
    }
    atomic_store (&stop, true);
    *failed_p = 0;
    for (int n = 0; n < S_FAILOVER_PRODUCERS; n++) {
        pthread_join (threads [n], NULL);
        *failed_p += producers [n].failed;
    }
    return measured == kills? measured: -1;
}

/* -------------------------------------------------------------------------
   5. a big ledger: memory and snapshot stalls
   ------------------------------------------------------------------------- */

typedef struct {
    cluster_t *cluster;
    const char *endpoints;
    atomic_bool *stop;
    tally_t tally;
} prober_t;

static void *
s_prober_main (void *arg)
{
    prober_t *self = (prober_t *) arg;
    ledger_client_t *client = driver_client_new (self->cluster->options, self->endpoints);
    if (!client)
        return NULL;
    ledger_client_set_timeout (client, self->cluster->options->timeout_ms);
    ledger_client_set_retries (client, self->cluster->options->retries);
    self->tally.started_ns = timing_now_ns ();
    for (int64_t n = 0; !atomic_load (self->stop); n++) {
        ledger_batch_t *batch = ledger_batch_new ();
        ledger_batch_txn_create (batch, -1, ledger_time_at (1600000000000000LL + n, 0), "probe", LEDGER_UNSET);
        int64_t sent = timing_now_ns ();
        ledger_result_t *result = ledger_client_submit (client, batch);
        int64_t now = timing_now_ns ();
        histogram_record (&self->tally.latency, now - sent);
        if (result && ledger_result_status (result) == LEDGER_OK) {
            self->tally.batches_ok++;
            self->tally.ops_ok++;
            self->tally.rows_written++;
        }
        else
            self->tally.errors [TALLY_UNKNOWN]++;
        self->tally.finished_ns = now;
        ledger_result_destroy (&result);
        ledger_batch_destroy (&batch);
    }
    ledger_client_destroy (&client);
    return NULL;
}

/* -------------------------------------------------------------------------
   The run
   ------------------------------------------------------------------------- */

static void
s_row (const char *name, const tally_t *tally, const char *note)
{
    printf ("%-34s %10.0f %10.0f %9.0f %9.0f %10.0f %7llu  %s\n", name, tally_batches_per_s (tally),
            tally_rows_per_s (tally), tally_latency_us (tally, 50), tally_latency_us (tally, 99),
            tally_latency_us (tally, 100), (unsigned long long) tally_failed (tally), note);
}

static const char *
s_verdict (bool pass)
{
    return pass? "PASS": "FAIL";
}

/*  Kill the leader kills times; print the failover times, and set the
    median. Returns 0, or -1 with self->error set. */
static int
s_failover_report (cluster_t *self, double *delays, int kills, double *median_p)
{
    uint64_t failed = 0;
    if (s_failover_phase (self, delays, kills, &failed) != kills)
        return -1;
    qsort (delays, (size_t) kills, sizeof (double), s_compare_double);
    double median = kills % 2? delays [kills / 2]: (delays [kills / 2 - 1] + delays [kills / 2]) / 2;
    printf ("failover: kill -9 of the leader to the first ok write: median %.0f ms, min %.0f, max %.0f"
            " over %d kills (%llu batches not ok)\n", median, delays [0], delays [kills - 1], kills,
            (unsigned long long) failed);
    *median_p = median;
    return 0;
}

/*  Fill the ledger to --rows in 1000-op batches while a prober writes 1-op
    batches beside it; print both and each node's memory. Returns 0, or -1
    with self->error set. */
static int
s_fill_phase (cluster_t *self, prober_t *prober, tally_t *big)
{
    node_t *leader = s_wait_leader (self, 30000);
    if (!leader) {
        if (!*self->error)
            snprintf (self->error, sizeof (self->error), "no leader before the fill");
        return -1;
    }
    char endpoints [S_NODES * 80];
    s_endpoints (self, leader, endpoints, sizeof (endpoints));
    atomic_bool stop = false;
    pthread_t thread;
    *prober = (prober_t) { .cluster = self, .endpoints = endpoints, .stop = &stop };
    tally_reset (&prober->tally);
    s_start_thread (&thread, s_prober_main, prober);
    int rc = s_worker_phase (self, endpoints, 1, 4, S_BIG_BATCH,
                             (self->options->rows + S_BIG_BATCH - 1) / S_BIG_BATCH, big);
    atomic_store (&stop, true);
    pthread_join (thread, NULL);
    if (rc)
        return -1;
    s_row ("fill, 1000-op batches", big, "");
    s_row ("  beside it, 1-op writes, window 1", &prober->tally, "(max: the worst write stall)");
    for (int n = 0; n < S_NODES; n++) {
        spawn_usage_t usage;
        if (self->nodes [n].proc && spawn_usage (self->nodes [n].proc, &usage) == 0)
            printf ("  node %d: RSS %.0f MiB (peak %.0f MiB)\n", n + 1, usage.rss_bytes / 1048576.0,
                    usage.peak_rss_bytes / 1048576.0);
    }
    return 0;
}

/*  Print the targets' verdicts; returns the exit status, 0 if all pass. */
static int
s_print_targets (tally_t *direct, tally_t *small, tally_t *big, bool filled, int kills, double median)
{
    double ratio = tally_batches_per_s (direct) > 0? tally_batches_per_s (small) / tally_batches_per_s (direct): 0;
    bool pass1 = ratio >= 10 && tally_batches_per_s (small) >= 5000;
    bool pass2 = tally_rows_per_s (big) >= 50000 || filled;
    bool pass3 = kills == 0 || median <= 1000;
    printf ("\ntargets\n");
    printf ("1. 1-op batches: %.1f x dqlite-direct (>= 10), %.0f batches/s (>= 5000)   %s\n", ratio,
            tally_batches_per_s (small), s_verdict (pass1));
    if (!filled)
        printf ("2. 1000-op batches, 1 client: %.0f rows/s (>= 50000)   %s\n", tally_rows_per_s (big), s_verdict (pass2));
    if (kills)
        printf ("3. kill -9 of the leader to the first ok write: median %.0f ms (<= 1000)   %s\n", median,
                s_verdict (pass3));
    return pass1 && pass2 && pass3 && tally_failed (small) == 0 && (filled || tally_failed (big) == 0)? 0: 1;
}

int
cluster_run_main (const options_t *options)
{
    cluster_t *self = calloc (1, sizeof (cluster_t));
    tally_t *direct = malloc (sizeof (tally_t)), *small = malloc (sizeof (tally_t)), *big = malloc (sizeof (tally_t));
    prober_t *prober = calloc (1, sizeof (prober_t));
    if (!self || !direct || !small || !big || !prober) {
        fprintf (stderr, "ledger-bench: out of memory\n");
        free (self), free (direct), free (small), free (big), free (prober);
        return 3;
    }
    self->options = options;
    int status = 3;
    double *delays = calloc ((size_t) options->kills + 1, sizeof (double));
    if (!delays || !(self->workdir = workdir_new (options->dir, options->keep, self->error, sizeof (self->error)))
    ||  s_cluster_start (self))
        goto done;
    node_t *leader = s_wait_leader (self, 30000);
    if (!leader) {
        if (!*self->error)
            snprintf (self->error, sizeof (self->error), "the cluster lost its leader before the run");
        goto done;
    }
    char endpoints [S_NODES * 80];
    s_endpoints (self, leader, endpoints, sizeof (endpoints));
    printf ("ledger-bench cluster: 3 nodes on loopback, leader node %d; %d clients x window %d, %.0f s a phase\n",
            leader->id, options->clients, options->window, options->duration_s);
    printf ("%-34s %10s %10s %9s %9s %10s %7s\n", "", "batches/s", "rows/s", "p50 µs", "p99 µs", "max µs", "failed");

    uint64_t busy = 0;
    if (s_direct_phase (self, leader, direct, &busy))
        goto done;
    char note [128];
    snprintf (note, sizeof (note), "(%llu SQLITE_BUSY answers retried)", (unsigned long long) busy);
    s_row ("dqlite-direct, 1-op transactions", direct, note);
    fflush (stdout);

    if (s_worker_phase (self, endpoints, options->clients, options->window, 1, 0, small))
        goto done;
    s_row ("ledgerd, 1-op keyed batches", small, "");
    fflush (stdout);
    if (s_worker_phase (self, endpoints, 1, 4, S_BIG_BATCH, 0, big))
        goto done;
    s_row ("ledgerd, 1000-op batches, 1 client", big, "");
    fflush (stdout);

    int kills = options->kills;
    double median = 0;
    if (kills > 0 && s_failover_report (self, delays, kills, &median))
        goto done;
    bool filled = options->rows > 0;
    if (filled && s_fill_phase (self, prober, big))
        goto done;
    status = s_print_targets (direct, small, big, filled, kills, median);

done:
    if (status == 3)
        fprintf (stderr, "ledger-bench cluster: %s\n", self->error);
    s_cluster_stop (self);
    workdir_destroy (&self->workdir);
    free (delays);
    free (self), free (direct), free (small), free (big), free (prober);
    return status;
}
