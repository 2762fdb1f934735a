/*  test_cluster -- three real ledgerd nodes on loopback, faulted while
    producers write through the client library.

    Producers send keyed 2-op batches (two txns whose descriptions name the
    batch) to all three endpoints the whole time. Faults: kill -9 of the
    leader (the time from the kill to the first ok write is reported), a
    restart with the data directory, SIGSTOP of the leader for longer than
    an election then SIGCONT, kill and restart of a follower, and two nodes
    down (no write may be answered ok; the survivor answers `unavailable`).
    At the end, on every node in turn made leader with cluster.transfer:
    integrity_check ok, the same digest of every row, every batch answered
    ok present exactly once, and no batch partial or applied twice.

    LEDGER_CLUSTER_FAULTS=N adds N random faults after the fixed ones (the
    long form; `make test` runs none). */

#include "ledger.h"
#include "dqw.h"
#include "testing.h"
#include "harness_files.h"
#include "harness_json.h"
#include "worker_harness.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NODES        3
#define PRODUCERS    3
#define BATCHES_MAX  (1 << 20)

typedef struct {
    int id;
    char dir [PATH_MAX];
    char data_dir [PATH_MAX + 8];
    char *endpoint;             //  tcp://127.0.0.1:PORT
    char raft [32];             //  127.0.0.1:PORT
    harness_t *worker;          //  NULL while down
    bool stopped;               //  SIGSTOPped
} node_t;

static node_t s_nodes [NODES + 1];        //  the last joins at the end
static int s_started = NODES;               //  nodes started so far
static char s_endpoints [NODES * 64];
static char s_join [NODES * 32];

typedef enum { OUTCOME_NONE, OUTCOME_OK, OUTCOME_FAILED, OUTCOME_UNKNOWN } outcome_t;

//  What the producers were told, by batch number.
static _Atomic int s_outcome [BATCHES_MAX];
static double s_ok_at [BATCHES_MAX];       //  when the ok came, ms
static atomic_int s_next_batch;
static atomic_bool s_stop;
static atomic_int s_oks, s_failures, s_unknowns;
static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static char s_first_failure [512];

static double
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec * 1e3 + (double) now.tv_nsec / 1e6;
}

static void
s_sleep_ms (int ms)
{
    struct timespec wait = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep (&wait, NULL);
}

/*  When the first ok received at or after t came, or -1. */
static double
s_first_ok_after (double t)
{
    int count = atomic_load (&s_next_batch);
    double first = -1;
    for (int n = 0; n < count && n < BATCHES_MAX; n++)
        if (atomic_load (&s_outcome [n]) == OUTCOME_OK && s_ok_at [n] >= t && (first < 0 || s_ok_at [n] < first))
            first = s_ok_at [n];
    return first;
}

/* -------------------------------------------------------------------------
   Nodes
   ------------------------------------------------------------------------- */

static bool
s_start (node_t *node)
{
    char id [16];
    snprintf (id, sizeof (id), "%d", node->id);
    //  Node 1 founds the cluster; a restarted node 1 finds its state.
    node->worker = node->id == 1
        ? harness_start_at (node->dir, node->endpoint, "--cluster-id", id, "--cluster-bind", node->raft,
                            "--data-dir", node->data_dir, "--cluster-timeout-ms", "2000", NULL)
        : harness_start_at (node->dir, node->endpoint, "--cluster-id", id, "--cluster-bind", node->raft,
                            "--data-dir", node->data_dir, "--cluster-join", s_join,
                            "--cluster-timeout-ms", "2000", NULL);
    node->stopped = false;
    return node->worker != NULL;
}

static void
s_kill (node_t *node)
{
    if (!node->worker)
        return;
    harness_signal (node->worker, SIGKILL);
    harness_wait (node->worker, 5000);
    harness_stop (&node->worker, true);
}

static node_t *
s_node (uint64_t id)
{
    return id >= 1 && id <= (uint64_t) s_started? &s_nodes [id - 1]: NULL;
}

/*  The leader id as node sees it (0 if none or node cannot be asked). */
static uint64_t
s_leader_seen_by (node_t *node)
{
    if (!node->worker || node->stopped)
        return 0;
    dqw_t *conn = dqw_connect (node->raft, 1000, NULL, 0);
    uint64_t id = 0;
    if (conn && dqw_leader (conn, &id, NULL, 0))
        id = 0;
    dqw_destroy (&conn);
    return id;
}

/*  Wait up to timeout_ms for a leader that is up, that says it leads, and
    that is not `not`. Returns it, or NULL. */
static node_t *
s_wait_leader (node_t *not, int timeout_ms)
{
    double deadline = s_now_ms () + timeout_ms;
    do {
        for (int n = 0; n < s_started; n++) {
            node_t *node = s_node (s_leader_seen_by (&s_nodes [n]));
            if (node && node != not && s_leader_seen_by (node) == (uint64_t) node->id)
                return node;
        }
        s_sleep_ms (50);
    } while (s_now_ms () < deadline);
    return NULL;
}

/*  Wait up to timeout_ms from now until some ok write has arrived after t;
    returns its delay after t in ms, or -1. Replies read in the first 20 ms
    after t are not counted: the node faulted at t may have sent them just
    before. */
#define S_IN_FLIGHT_MS 20

static double
s_wait_ok_after (double t, int timeout_ms)
{
    double deadline = s_now_ms () + timeout_ms;
    while (s_now_ms () < deadline) {
        double first = s_first_ok_after (t + S_IN_FLIGHT_MS);
        if (first >= 0)
            return first - t;
        s_sleep_ms (10);
    }
    return -1;
}

/* -------------------------------------------------------------------------
   Producers
   ------------------------------------------------------------------------- */

static void *
s_producer (void *arg)
{
    int index = (int) (intptr_t) arg;
    //  Each producer lists the endpoints starting elsewhere.
    char endpoints [sizeof (s_endpoints)];
    size_t used = 0;
    for (int n = 0; n < NODES; n++)
        used += (size_t) snprintf (endpoints + used, sizeof (endpoints) - used, "%s%s", n? ",": "",
                                   s_nodes [(index + n) % NODES].endpoint);
    ledger_client_t *client = ledger_client_new (endpoints);
    if (!client)
        return NULL;
    ledger_client_set_timeout (client, 1000);
    ledger_client_set_retries (client, 60);
    ledger_client_set_backoff (client, 20, 300);
    while (!atomic_load (&s_stop)) {
        int number = atomic_fetch_add (&s_next_batch, 1);
        if (number >= BATCHES_MAX)
            break;
        ledger_batch_t *batch = ledger_batch_new ();
        char description [64];
        for (int part = 0; part < 2; part++) {
            snprintf (description, sizeof (description), "batch %d %c", number, "ab" [part]);
            ledger_batch_txn_create (batch, -(int64_t) number - 1, ledger_time_at (1700000000000000LL + number, 0),
                                     description, LEDGER_UNSET);
        }
        ledger_result_t *result = ledger_client_submit (client, batch);
        ledger_status_t status = result? ledger_result_status (result): LEDGER_UNKNOWN;
        if (status == LEDGER_OK) {
            s_ok_at [number] = s_now_ms ();
            atomic_store (&s_outcome [number], OUTCOME_OK);
            atomic_fetch_add (&s_oks, 1);
        }
        else {
            atomic_store (&s_outcome [number], status == LEDGER_FAILED? OUTCOME_FAILED: OUTCOME_UNKNOWN);
            atomic_fetch_add (status == LEDGER_FAILED? &s_failures: &s_unknowns, 1);
            pthread_mutex_lock (&s_lock);
            if (!*s_first_failure)
                snprintf (s_first_failure, sizeof (s_first_failure), "batch %d: %s", number,
                          result? ledger_result_describe (result): ledger_client_error (client));
            pthread_mutex_unlock (&s_lock);
        }
        ledger_result_destroy (&result);
        ledger_batch_destroy (&batch);
    }
    ledger_client_destroy (&client);
    return NULL;
}

/* -------------------------------------------------------------------------
   Faults
   ------------------------------------------------------------------------- */

static double s_kill_to_ok [256];
static int s_kills;

/*  kill -9 the leader, report the time to the first ok, restart it. */
static void
s_fault_kill_leader (void)
{
    node_t *leader = s_wait_leader (NULL, 10000);
    CHECK (leader);
    if (!leader)
        return;
    double killed = s_now_ms ();
    s_kill (leader);
    double delay = s_wait_ok_after (killed, 20000);
    CHECK (delay >= 0);
    if (delay >= 0 && s_kills < 256)
        s_kill_to_ok [s_kills++] = delay;
    printf ("     kill -9 leader %d: first ok write %.0f ms later\n", leader->id, delay);
    CHECK (s_start (leader));
}

/*  SIGSTOP the leader past an election, then SIGCONT it. */
static void
s_fault_pause_leader (void)
{
    node_t *leader = s_wait_leader (NULL, 10000);
    CHECK (leader);
    if (!leader)
        return;
    double paused = s_now_ms ();
    harness_signal (leader->worker, SIGSTOP);
    leader->stopped = true;
    node_t *next = s_wait_leader (leader, 10000);
    CHECK (next);
    double delay = s_wait_ok_after (paused, 20000);
    CHECK (delay >= 0);
    printf ("     SIGSTOP leader %d: node %d leads, first ok write %.0f ms later\n", leader->id,
            next? next->id: 0, delay);
    harness_signal (leader->worker, SIGCONT);
    leader->stopped = false;
}

/*  kill -9 a follower, let the others write a while, restart it. */
static void
s_fault_kill_follower (void)
{
    node_t *leader = s_wait_leader (NULL, 10000);
    CHECK (leader);
    if (!leader)
        return;
    node_t *follower = &s_nodes [leader->id % NODES];
    double killed = s_now_ms ();
    s_kill (follower);
    CHECK (s_wait_ok_after (killed + 200, 10000) >= 0);
    printf ("     kill -9 follower %d: writes go on\n", follower->id);
    CHECK (s_start (follower));
}

/*  Two nodes down: nothing is ok, the survivor answers unavailable. */
static void
s_fault_two_down (void)
{
    node_t *leader = s_wait_leader (NULL, 10000);
    CHECK (leader);
    if (!leader)
        return;
    //  Kill the two followers: the survivor is the leader that lost its quorum.
    node_t *survivor = leader;
    for (int n = 0; n < NODES; n++)
        if (&s_nodes [n] != survivor)
            s_kill (&s_nodes [n]);
    double down = s_now_ms ();

    //  A write straight to the survivor, sent once: refused, promptly.
    ledger_client_t *probe = ledger_client_new (survivor->endpoint);
    ledger_client_set_timeout (probe, 15000);
    ledger_client_set_retries (probe, 0);
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_batch_txn_create (batch, 1, ledger_time_at (0, 0), "probe without quorum", LEDGER_UNSET);
    double sent = s_now_ms ();
    ledger_result_t *result = ledger_client_submit (probe, batch);
    double answered = s_now_ms () - sent;
    CHECK (result && ledger_result_status (result) == LEDGER_FAILED);
    CHECK_STR (result? ledger_result_error_class (result): NULL, "unavailable");
    printf ("     two nodes down: the survivor, node %d (%s), answered %s in %.0f ms\n", survivor->id,
            survivor->endpoint, result? ledger_result_describe (result): "nothing", answered);
    ledger_result_destroy (&result);
    ledger_batch_destroy (&batch);
    ledger_client_destroy (&probe);

    //  Producers keep trying for a while; no ok may come. A commit that had
    //  its quorum before the kill is answered within a few ms of it.
    s_sleep_ms (1500);
    double after = s_first_ok_after (down + 500);
    CHECK (after < 0);
    if (after >= 0)
        fprintf (stderr, "test_cluster: an ok write %.0f ms after two of three nodes died\n", after - down);

    double restarted = s_now_ms ();
    for (int n = 0; n < NODES; n++)
        if (&s_nodes [n] != survivor)
            CHECK (s_start (&s_nodes [n]));
    double delay = s_wait_ok_after (restarted, 20000);
    CHECK (delay >= 0);
    printf ("     two nodes back: first ok write %.0f ms after the restarts began\n", delay);
}

/* -------------------------------------------------------------------------
   What each node holds
   ------------------------------------------------------------------------- */

/*  FNV-1a over every txn row, and the count of each batch's two rows. */
typedef struct {
    uint64_t digest;
    long rows;
    bool integrity_ok;
} contents_t;

static void
s_fnv (uint64_t *hash, const void *data, size_t size)
{
    const unsigned char *bytes = data;
    for (size_t n = 0; n < size; n++) {
        *hash ^= bytes [n];
        *hash *= 1099511628211ULL;
    }
}

static unsigned char s_count [BATCHES_MAX][2];

/*  Read node's copy (it must lead). Fills contents and, if counts, s_count. */
static int
s_read (node_t *node, contents_t *contents, bool counts)
{
    char errbuf [256];
    dqw_t *conn = dqw_connect (node->raft, 10000, errbuf, sizeof (errbuf));
    uint32_t db;
    if (!conn || dqw_open (conn, "ledger", &db)) {
        fprintf (stderr, "test_cluster: node %d: %s\n", node->id, conn? dqw_errmsg (conn): errbuf);
        dqw_destroy (&conn);
        return -1;
    }
    dqw_rows_t rows;
    dqw_rows_init (&rows);
    int rc = dqw_query_sql (conn, db, "PRAGMA integrity_check", NULL, 0, &rows);
    const dqw_value_t *value = rc? NULL: dqw_rows_get (&rows, 0, 0);
    contents->integrity_ok = value && value->type == DQW_TEXT && strcmp (value->p, "ok") == 0;
    rc = rc? rc: dqw_query_sql (conn, db, "SELECT id, amount, occurred_us, description FROM txn ORDER BY id",
                                NULL, 0, &rows);
    if (rc)
        fprintf (stderr, "test_cluster: node %d: %s\n", node->id, dqw_errmsg (conn));
    contents->digest = 14695981039346656037ULL;
    contents->rows = rc? -1: (long) rows.rows;
    for (size_t row = 0; rc == 0 && row < rows.rows; row++) {
        for (size_t column = 0; column < 3; column++)
            s_fnv (&contents->digest, &dqw_rows_get (&rows, row, column)->i, sizeof (int64_t));
        const dqw_value_t *text = dqw_rows_get (&rows, row, 3);
        s_fnv (&contents->digest, text->p, text->len);
        int number;
        char part;
        if (counts && sscanf (text->p, "batch %d %c", &number, &part) == 2 && number >= 0 && number < BATCHES_MAX
        &&  (part == 'a' || part == 'b') && s_count [number][part - 'a'] < 255)
            s_count [number][part - 'a']++;
    }
    dqw_rows_reset (&rows);
    dqw_destroy (&conn);
    return rc? -1: 0;
}

/*  Make node the leader through cluster.transfer, sent to another node. */
static bool
s_transfer_to (node_t *node)
{
    if (s_leader_seen_by (node) == (uint64_t) node->id)
        return true;
    ledger_client_t *client = ledger_client_new (s_nodes [node->id % NODES].endpoint);
    ledger_client_set_timeout (client, 10000);
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_batch_cluster_transfer (batch, node->id);
    ledger_result_t *result = ledger_client_submit (client, batch);
    bool ok = result && ledger_result_status (result) == LEDGER_OK;
    if (!ok)
        fprintf (stderr, "test_cluster: transfer to %d: %s\n", node->id,
                 result? ledger_result_describe (result): "no result");
    ledger_result_destroy (&result);
    ledger_batch_destroy (&batch);
    ledger_client_destroy (&client);
    return ok && s_wait_leader (NULL, 10000) == node;
}

/* -------------------------------------------------------------------------
   The test
   ------------------------------------------------------------------------- */

static void
test_cluster_survives_faults (void)
{
    //  Start the nodes: node 1 founds, 2 and 3 join through it.
    for (int n = 0; n < NODES + 1; n++) {
        node_t *node = &s_nodes [n];
        node->id = n + 1;
        char dir [PATH_MAX] = "/tmp/ledgerd-cluster-XXXXXX";
        CHECK (mkdtemp (dir) != NULL);
        snprintf (node->dir, sizeof (node->dir), "%s", dir);
        snprintf (node->data_dir, sizeof (node->data_dir), "%s/raft", dir);
        node->endpoint = harness_free_endpoint ();
        char *raft = harness_free_endpoint ();
        CHECK (node->endpoint && raft);
        if (!node->endpoint || !raft)
            return;
        snprintf (node->raft, sizeof (node->raft), "%s", raft + strlen ("tcp://"));
        free (raft);
    }
    snprintf (s_join, sizeof (s_join), "%s", s_nodes [0].raft);
    for (int n = 0; n < NODES; n++) {
        CHECK (s_start (&s_nodes [n]));
        if (!s_nodes [n].worker)
            return;
    }

    //  A node joined: cluster status from any node names all three.
    ledger_client_t *client = ledger_client_new (s_nodes [2].endpoint);
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_batch_stats (batch);
    for (int tries = 0; tries < 100; tries++) {
        ledger_result_t *result = ledger_client_submit (client, batch);
        char *json = result? ledger_result_json (result): NULL;
        json_t *reply = json? json_loads (json, 0, NULL): NULL;
        size_t nodes = json_array_size (harness_get (reply, "results.0.stats.cluster.nodes"));
        bool all = nodes == NODES && harness_int (reply, "results.0.stats.cluster.leader_id") >= 1;
        json_decref (reply);
        free (json);
        ledger_result_destroy (&result);
        if (all)
            break;
        CHECK (tries < 99);
        s_sleep_ms (100);
    }
    ledger_batch_destroy (&batch);
    ledger_client_destroy (&client);

    pthread_t producers [PRODUCERS];
    for (int n = 0; n < PRODUCERS; n++)
        pthread_create (&producers [n], NULL, s_producer, (void *) (intptr_t) n);
    CHECK (s_wait_ok_after (0, 20000) >= 0);

    s_fault_kill_leader ();
    s_fault_pause_leader ();
    s_fault_kill_follower ();
    s_fault_kill_leader ();
    s_fault_two_down ();
    int extra = getenv ("LEDGER_CLUSTER_FAULTS")? atoi (getenv ("LEDGER_CLUSTER_FAULTS")): 0;
    srand ((unsigned) time (NULL));
    for (int n = 0; n < extra; n++) {
        int which = rand () % 4;
        printf ("     fault %d of %d\n", n + 1, extra);
        if (which == 0) s_fault_kill_leader ();
        if (which == 1) s_fault_pause_leader ();
        if (which == 2) s_fault_kill_follower ();
        if (which == 3) s_fault_two_down ();
    }
    //  Writes go on after the last fault.
    CHECK (s_wait_ok_after (s_now_ms (), 20000) >= 0);
    atomic_store (&s_stop, true);
    for (int n = 0; n < PRODUCERS; n++)
        pthread_join (producers [n], NULL);
    int batches = atomic_load (&s_next_batch);
    printf ("     %d batches: %d ok, %d failed, %d unknown\n", batches, atomic_load (&s_oks),
            atomic_load (&s_failures), atomic_load (&s_unknowns));
    if (*s_first_failure)
        printf ("     first not ok: %s\n", s_first_failure);
    //  Keyed batches through the library end ok: retries settle every
    //  unknown outcome, and nothing here is refused.
    CHECK_INT (atomic_load (&s_failures), 0);
    CHECK_INT (atomic_load (&s_unknowns), 0);

    //  Every node in turn leads; each holds the same rows.
    contents_t first = { 0, -1, false };
    for (int n = 0; n < NODES; n++) {
        node_t *node = &s_nodes [n];
        CHECK (s_transfer_to (node));
        contents_t contents = { 0, -1, false };
        CHECK (s_read (node, &contents, n == 0) == 0);
        CHECK (contents.integrity_ok);
        printf ("     node %d: %ld rows, digest %016llx\n", node->id, contents.rows,
                (unsigned long long) contents.digest);
        if (n == 0)
            first = contents;
        else {
            CHECK_INT (contents.rows, first.rows);
            CHECK (contents.digest == first.digest);
        }
    }
    //  Exactly once, none partial.
    long missing = 0, partial = 0, twice = 0;
    for (int n = 0; n < batches && n < BATCHES_MAX; n++) {
        if (s_count [n][0] != s_count [n][1])
            partial++;
        if (s_count [n][0] > 1 || s_count [n][1] > 1)
            twice++;
        if (atomic_load (&s_outcome [n]) == OUTCOME_OK && s_count [n][0] != 1)
            missing++;
    }
    CHECK_INT (missing, 0);
    CHECK_INT (partial, 0);
    CHECK_INT (twice, 0);
    CHECK (first.rows >= 2L * atomic_load (&s_oks));

    //  A node joining the running cluster receives the data: node 4
    //  starts empty, leads, and holds the same rows; then it is removed.
    node_t *late = &s_nodes [NODES];
    s_started = NODES + 1;
    CHECK (s_start (late));
    CHECK (late->worker && s_transfer_to (late));
    contents_t contents = { 0, -1, false };
    CHECK (late->worker && s_read (late, &contents, false) == 0);
    printf ("     node %d (joined last): %ld rows, digest %016llx\n", late->id, contents.rows,
            (unsigned long long) contents.digest);
    CHECK (contents.integrity_ok);
    CHECK_INT (contents.rows, first.rows);
    CHECK (contents.digest == first.digest);
    CHECK (s_transfer_to (&s_nodes [0]));
    ledger_client_t *admin = ledger_client_new (s_nodes [1].endpoint);
    ledger_client_set_timeout (admin, 10000);
    batch = ledger_batch_new ();
    ledger_batch_cluster_remove (batch, late->id);
    ledger_result_t *removed = ledger_client_submit (admin, batch);
    CHECK (removed && ledger_result_status (removed) == LEDGER_OK);
    ledger_result_destroy (&removed);
    ledger_batch_destroy (&batch);
    //  Every node's view (refreshed once a second) drops it.
    batch = ledger_batch_new ();
    ledger_batch_stats (batch);
    size_t members = 0;
    for (int tries = 0; tries < 50 && members != NODES; tries++) {
        ledger_result_t *result = ledger_client_submit (admin, batch);
        char *json = result? ledger_result_json (result): NULL;
        json_t *reply = json? json_loads (json, 0, NULL): NULL;
        members = json_array_size (harness_get (reply, "results.0.stats.cluster.nodes"));
        json_decref (reply);
        free (json);
        ledger_result_destroy (&result);
        if (members != NODES)
            s_sleep_ms (100);
    }
    CHECK_INT (members, NODES);
    ledger_batch_destroy (&batch);
    ledger_client_destroy (&admin);
    harness_stop (&late->worker, true);

    if (s_kills) {
        double sorted [256];
        memcpy (sorted, s_kill_to_ok, sizeof (double) * (size_t) s_kills);
        for (int i = 1; i < s_kills; i++)
            for (int j = i; j > 0 && sorted [j - 1] > sorted [j]; j--) {
                double swap = sorted [j]; sorted [j] = sorted [j - 1]; sorted [j - 1] = swap;
            }
        printf ("     kill -9 of the leader to the first ok write: median %.0f ms over %d kills\n",
                sorted [s_kills / 2], s_kills);
    }
}

int
main (void)
{
    signal (SIGPIPE, SIG_IGN);
    TEST_RUN (test_cluster_survives_faults);
    int failed = t_tests_failed;
    for (int n = 0; n < NODES + 1; n++) {
        node_t *node = &s_nodes [n];
        if (node->worker && failed)
            harness_dump_log (node->worker);
        if (node->worker) {
            if (node->stopped)
                harness_signal (node->worker, SIGCONT);
            harness_stop (&node->worker, true);
        }
        if (*node->dir && !failed)
            harness_remove_dir (node->dir);
        else
        if (*node->dir)
            fprintf (stderr, "test_cluster: node %d kept in %s\n", node->id, node->dir);
        free (node->endpoint);
    }
    return TEST_DONE ();
}
