/*  cluster -- this ledgerd's dqlite node, and what it knows of the others.

    Everything here talks to dqlite nodes over dqlite's wire protocol
    (dqwire): LEADER to the local node to learn who leads, CLUSTER for the
    members, ADD and ASSIGN to the leader to join, and the leader's
    "ledgerd-cluster" database for the endpoints. The front end only reads
    what the watcher thread publishes, under a mutex. */

#include "cluster.h"
#include "dqw.h"
#include "log.h"
#include "proto_reply.h"

#include <dqlite.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define NODES_MAX 16
#define ADDRESS_MAX 128
#define ENDPOINT_MAX 256
/*  How often the watcher asks who leads, and refreshes the member list. */
#define POLL_MS 50
#define REFRESH_MS 1000
/*  A connection to another node for a lookup waits at most this. */
#define PEER_TIMEOUT_MS 300

#define NODES_DB "ledgerd-cluster"
#define NODES_TABLE "CREATE TABLE IF NOT EXISTS node (id INTEGER PRIMARY KEY," \
                    " address TEXT NOT NULL, endpoint TEXT NOT NULL)"

typedef struct {
    uint64_t id;
    char address [ADDRESS_MAX];
    char endpoint [ENDPOINT_MAX];       /* "" until known */
    int role;                           /* 0 voter, 1 standby, 2 spare */
    bool reachable;
} node_t;

struct _cluster_t {
    cluster_options_t options;
    char *address;
    char *endpoint;
    char *data_dir;
    dqlite_node *node;
    pthread_t watcher;
    bool watching;
    bool started;               /* dqlite_node_start succeeded: stop before destroy */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    /*  Published by the watcher, under lock. */
    bool stopping;
    bool kicked;
    uint64_t leader_id;                 /* 0: none known */
    char leader_endpoint [ENDPOINT_MAX];
    node_t nodes [NODES_MAX];
    size_t node_count;
    /*  The watcher's own. */
    dqw_t *local;                       /* to this node */
    dqw_t *leader_conn;                 /* to the leader, when another node leads */
    uint64_t leader_conn_id;
    bool registered;                    /* our endpoint is in the table */
    int64_t refreshed_ms;
    int64_t register_tried_ms;
};

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/*  A connection to the node at address that has database name open. */
static dqw_t *
s_connect (const char *address, int timeout_ms, const char *name, uint32_t *db_p, char *errbuf, size_t errlen)
{
    dqw_t *conn = dqw_connect (address, timeout_ms, errbuf, errlen);
    if (!conn)
        return NULL;
    dqw_set_timeout (conn, timeout_ms);
    if (name && dqw_open (conn, name, db_p)) {
        snprintf (errbuf, errlen, "%s", dqw_errmsg (conn));
        dqw_destroy (&conn);
    }
    return conn;
}

/*  Who leads, asked of the node at address: 0 and "" when none is known. */
static int
s_ask_leader (const char *address, int timeout_ms, uint64_t *id_p, char *leader, size_t size,
              char *errbuf, size_t errlen)
{
    dqw_t *conn = s_connect (address, timeout_ms, NULL, NULL, errbuf, errlen);
    if (!conn)
        return -1;
    int rc = dqw_leader (conn, id_p, leader, size);
    if (rc)
        snprintf (errbuf, errlen, "%s", dqw_errmsg (conn));
    dqw_destroy (&conn);
    return rc? -1: 0;
}

/*  A connection to the leader, found through the node at address. */
static dqw_t *
s_connect_leader (const char *address, int timeout_ms, const char *name, uint32_t *db_p,
                  char *errbuf, size_t errlen)
{
    uint64_t id = 0;
    char leader [ADDRESS_MAX];
    if (s_ask_leader (address, timeout_ms, &id, leader, sizeof (leader), errbuf, errlen))
        return NULL;
    if (id == 0 || !*leader) {
        snprintf (errbuf, errlen, "%s knows no leader yet", address);
        return NULL;
    }
    return s_connect (leader, timeout_ms, name, db_p, errbuf, errlen);
}

/*  Is this node already a member? Its data directory then holds Raft
    state, and it must not wait for anyone to add it (it may be one of
    the nodes a quorum needs). */
static bool
s_has_state (const char *dir)
{
    static const char *files [] = { "metadata1", "metadata2" };
    for (size_t n = 0; n < 2; n++) {
        char path [4096];
        snprintf (path, sizeof (path), "%s/%s", dir, files [n]);
        struct stat st;
        if (stat (path, &st) == 0 && st.st_size > 0)
            return true;
    }
    return false;
}

/*  Join through one of the members: ask it who leads, then ask the leader
    to add this node and make it a voter. Returns 0, or -1 with errbuf. */
static int
s_join_once (cluster_t *self, char *errbuf, size_t errlen)
{
    char list [1024];
    snprintf (list, sizeof (list), "%s", self->options.join);
    char *save = NULL;
    for (char *member = strtok_r (list, ",", &save); member; member = strtok_r (NULL, ",", &save)) {
        dqw_t *leader = s_connect_leader (member, self->options.timeout_ms, NULL, NULL, errbuf, errlen);
        if (!leader)
            continue;
        dqw_node_t *nodes = NULL;
        size_t count = 0;
        int role = -1;
        int rc = dqw_cluster (leader, &nodes, &count);
        for (size_t n = 0; rc == 0 && n < count; n++)
            if (nodes [n].id == self->options.id)
                role = nodes [n].role;
        dqw_nodes_free (nodes, count);
        if (rc == 0 && role < 0 && (rc = dqw_add (leader, self->options.id, self->address)) == 0)
            role = 1;
        if (rc == 0 && role != 0)
            rc = dqw_assign (leader, self->options.id, 0);
        if (rc)
            snprintf (errbuf, errlen, "the leader refused: %s", dqw_errmsg (leader));
        dqw_destroy (&leader);
        if (rc == 0)
            return 0;
    }
    return -1;
}

static int
s_join (cluster_t *self, char *errbuf, size_t errlen)
{
    int64_t until = s_now_ms () + self->options.join_timeout_ms;
    char why [256] = "no member answered";
    log_info ("cluster.joining", "cluster: node %" PRIu64 " joining through %s", self->options.id, self->options.join);
    while (s_now_ms () < until) {
        if (s_join_once (self, why, sizeof (why)) == 0) {
            log_info ("cluster.joined", "cluster: node %" PRIu64 " joined as a voter", self->options.id);
            return 0;
        }
        poll (NULL, 0, 200);
    }
    snprintf (errbuf, errlen, "cannot join the cluster through %s within %d ms: %s", self->options.join,
              self->options.join_timeout_ms, why);
    return -1;
}

/*  Record this ledgerd's endpoint in the replicated table, through the
    leader. Returns 0 once it is there, or -1 with errbuf set. */
static int
s_register (cluster_t *self, char *errbuf, size_t errlen)
{
    uint32_t db = 0;
    dqw_t *leader = s_connect_leader (self->address, self->options.timeout_ms, NODES_DB, &db, errbuf, errlen);
    if (!leader)
        return -1;
    uint64_t last, changes;
    dqw_value_t values [3] = {
        { .type = DQW_INTEGER, .i = (int64_t) self->options.id },
        { .type = DQW_TEXT, .p = self->address, .len = strlen (self->address) },
        { .type = DQW_TEXT, .p = self->endpoint, .len = strlen (self->endpoint) },
    };
    int rc = dqw_exec_sql (leader, db, NODES_TABLE, NULL, 0, &last, &changes);
    if (rc == 0)
        rc = dqw_exec_sql (leader, db, "INSERT INTO node (id, address, endpoint) VALUES (?, ?, ?)"
                           " ON CONFLICT (id) DO UPDATE SET address = excluded.address,"
                           " endpoint = excluded.endpoint", values, 3, &last, &changes);
    if (rc)
        snprintf (errbuf, errlen, "%s", dqw_errmsg (leader));
    dqw_destroy (&leader);
    return rc? -1: 0;
}

/*  The endpoints of every node, as the leader's table has them. */
static void
s_read_endpoints (node_t *nodes, size_t count, const char *leader_address)
{
    char why [256];
    uint32_t db = 0;
    dqw_t *leader = s_connect (leader_address, PEER_TIMEOUT_MS, NODES_DB, &db, why, sizeof (why));
    if (!leader)
        return;
    dqw_rows_t rows;
    dqw_rows_init (&rows);
    if (dqw_query_sql (leader, db, "SELECT id, endpoint FROM node", NULL, 0, &rows) == 0)
        for (size_t r = 0; r < rows.rows; r++) {
            const dqw_value_t *id = dqw_rows_get (&rows, r, 0);
            const dqw_value_t *endpoint = dqw_rows_get (&rows, r, 1);
            for (size_t n = 0; n < count; n++)
                if (id->type == DQW_INTEGER && (uint64_t) id->i == nodes [n].id && endpoint->type == DQW_TEXT)
                    snprintf (nodes [n].endpoint, sizeof (nodes [n].endpoint), "%.*s",
                              (int) endpoint->len, (const char *) endpoint->p);
        }
    dqw_rows_reset (&rows);
    dqw_destroy (&leader);
}

/*  Can this node reach the node at address? A TCP connect, quickly. */
static bool
s_reachable (const char *address)
{
    char why [128];
    dqw_t *conn = dqw_connect (address, PEER_TIMEOUT_MS, why, sizeof (why));
    bool reached = conn != NULL;
    dqw_destroy (&conn);
    return reached;
}

static int
s_by_id (const void *a, const void *b)
{
    uint64_t x = ((const node_t *) a)->id, y = ((const node_t *) b)->id;
    return x < y? -1: x > y;
}

/*  Members (by id), their endpoints and whether they answer: once a second. */
static void
s_refresh (cluster_t *self, uint64_t leader_id, const char *leader_address)
{
    dqw_node_t *found = NULL;
    size_t count = 0;
    if (!self->local || dqw_cluster (self->local, &found, &count))
        return;
    node_t nodes [NODES_MAX];
    size_t kept = 0;
    for (size_t n = 0; n < count && kept < NODES_MAX; n++) {
        node_t *node = &nodes [kept++];
        memset (node, 0, sizeof (*node));
        node->id = found [n].id;
        node->role = found [n].role;
        snprintf (node->address, sizeof (node->address), "%s", found [n].address? found [n].address: "");
        node->reachable = node->id == self->options.id || s_reachable (node->address);
    }
    dqw_nodes_free (found, count);
    qsort (nodes, kept, sizeof (node_t), s_by_id);
    if (leader_id && *leader_address)
        s_read_endpoints (nodes, kept, leader_address);
    pthread_mutex_lock (&self->lock);
    memcpy (self->nodes, nodes, kept * sizeof (node_t));
    self->node_count = kept;
    pthread_mutex_unlock (&self->lock);
}

/*  The endpoint of node id, from the last refresh; "" if unknown. */
static void
s_endpoint_of (cluster_t *self, uint64_t id, char *endpoint, size_t size)
{
    *endpoint = 0;
    if (id == self->options.id) {
        snprintf (endpoint, size, "%s", self->endpoint);
        return;
    }
    for (size_t n = 0; n < self->node_count; n++)
        if (self->nodes [n].id == id)
            snprintf (endpoint, size, "%s", self->nodes [n].endpoint);
}

/*  Is the leader this node hears of alive? Until an election ends, a
    follower still names a leader that died: telling producers to go there
    would cost them a timeout. One LEADER request on a kept connection. */
static bool
s_leader_alive (cluster_t *self, uint64_t id, const char *address)
{
    if (id == 0 || id == self->options.id)
        return true;
    if (self->leader_conn && self->leader_conn_id != id)
        dqw_destroy (&self->leader_conn);
    char why [256];
    if (!self->leader_conn) {
        self->leader_conn = dqw_connect (address, PEER_TIMEOUT_MS, why, sizeof (why));
        if (!self->leader_conn)
            return false;
        dqw_set_timeout (self->leader_conn, PEER_TIMEOUT_MS);
        self->leader_conn_id = id;
    }
    uint64_t its = 0;
    char its_address [ADDRESS_MAX];
    if (dqw_leader (self->leader_conn, &its, its_address, sizeof (its_address))) {
        dqw_destroy (&self->leader_conn);
        return false;
    }
    return its == id;
}

/*  One look: who leads, by the local node's account. */
static void
s_watch_once (cluster_t *self)
{
    char why [256];
    if (!self->local && !(self->local = s_connect (self->address, self->options.timeout_ms, NULL, NULL,
                                                   why, sizeof (why))))
        return;
    uint64_t id = 0;
    char address [ADDRESS_MAX] = "";
    if (dqw_leader (self->local, &id, address, sizeof (address))) {
        dqw_destroy (&self->local);
        id = 0;
    }
    bool alive = s_leader_alive (self, id, address);
    int64_t now = s_now_ms ();
    pthread_mutex_lock (&self->lock);
    bool changed = id != self->leader_id;
    uint64_t was = self->leader_id;
    self->leader_id = id;
    s_endpoint_of (self, id, self->leader_endpoint, sizeof (self->leader_endpoint));
    if (!alive)
        *self->leader_endpoint = 0;
    bool known = !id || *self->leader_endpoint;
    pthread_mutex_unlock (&self->lock);
    if (changed)
        log_info_with ("cluster.leader", LOG_FIELDS (LOG_INT ("leader", id), LOG_BOOL ("self", id && id == self->options.id)),
                  "cluster: %s (node %" PRIu64 " %s)", id == self->options.id? "this node leads"
                  : id? "another node leads": "no leader known", id? id: was, id? address: "was the last leader");
    if (changed || !known || now - self->refreshed_ms >= REFRESH_MS) {
        self->refreshed_ms = now;
        s_refresh (self, id, address);
        pthread_mutex_lock (&self->lock);
        s_endpoint_of (self, self->leader_id, self->leader_endpoint, sizeof (self->leader_endpoint));
        if (!alive)
            *self->leader_endpoint = 0;
        pthread_mutex_unlock (&self->lock);
    }
    if (!self->registered && id && now - self->register_tried_ms >= REFRESH_MS) {
        self->register_tried_ms = now;
        if (s_register (self, why, sizeof (why)) == 0) {
            self->registered = true;
            self->refreshed_ms = 0;     /* read it back at the next look */
        }
        else
            log_debug ("cluster.endpoint_pending", "cluster: cannot record this node's endpoint yet: %s", why);
    }
}

static void *
s_watcher (void *arg)
{
    cluster_t *self = (cluster_t *) arg;
    pthread_mutex_lock (&self->lock);
    while (!self->stopping) {
        self->kicked = false;
        pthread_mutex_unlock (&self->lock);
        s_watch_once (self);
        pthread_mutex_lock (&self->lock);
        if (self->stopping || self->kicked)
            continue;
        struct timespec until;
        clock_gettime (CLOCK_REALTIME, &until);
        until.tv_nsec += POLL_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait (&self->wake, &self->lock, &until);
    }
    pthread_mutex_unlock (&self->lock);
    dqw_destroy (&self->local);
    dqw_destroy (&self->leader_conn);
    return NULL;
}

static int
s_start_node (cluster_t *self, char *errbuf, size_t errlen)
{
    const cluster_options_t *options = &self->options;
    if (mkdir (self->data_dir, 0700) && errno != EEXIST) {
        snprintf (errbuf, errlen, "cannot create the data directory %s: %s", self->data_dir, strerror (errno));
        return -1;
    }
    int rc = dqlite_node_create (options->id, self->address, self->data_dir, &self->node);
    if (rc == 0 && (rc = dqlite_node_set_bind_address (self->node, self->address)) != 0)
        snprintf (errbuf, errlen, "cannot listen on %s (cluster address): in use, or not an IPv4 HOST:PORT",
                  self->address);
    else
    if (rc == 0
    &&  ((rc = dqlite_node_set_network_latency_ms (self->node, options->latency_ms)) != 0
         || (rc = dqlite_node_set_snapshot_params (self->node, options->snapshot_threshold,
                                                   options->snapshot_trailing)) != 0))
        snprintf (errbuf, errlen, "cannot set up the dqlite node: %s", dqlite_node_errmsg (self->node));
    else
    if (rc == 0 && (rc = dqlite_node_start (self->node)) != 0)
        snprintf (errbuf, errlen, "cannot start the dqlite node: %s", dqlite_node_errmsg (self->node));
    else
    if (rc == 0)
        self->started = true;
    else
    if (rc)
        snprintf (errbuf, errlen, "cannot create the dqlite node in %s: %s", self->data_dir,
                  self->node? dqlite_node_errmsg (self->node): "out of memory");
    return rc? -1: 0;
}

cluster_t *
cluster_new (const cluster_options_t *options, char *errbuf, size_t errlen)
{
    cluster_t *self = calloc (1, sizeof (cluster_t));
    if (!self) {
        snprintf (errbuf, errlen, "out of memory");
        return NULL;
    }
    self->options = *options;
    self->address = strdup (options->address);
    self->endpoint = strdup (options->endpoint? options->endpoint: "");
    self->data_dir = strdup (options->data_dir);
    pthread_mutex_init (&self->lock, NULL);
    pthread_cond_init (&self->wake, NULL);
    if (!self->address || !self->endpoint || !self->data_dir) {
        snprintf (errbuf, errlen, "out of memory");
        goto failed;
    }
    bool member = s_has_state (self->data_dir);
    if (s_start_node (self, errbuf, errlen))
        goto failed;
    log_info ("cluster.node", "cluster: node %" PRIu64 " at %s, data in %s (%s)", options->id, self->address, self->data_dir,
              member? "a member already": options->id == 1? "founding the cluster": "new");
    if (!member && options->id != 1 && s_join (self, errbuf, errlen))
        goto failed;
    if (pthread_create (&self->watcher, NULL, s_watcher, self)) {
        snprintf (errbuf, errlen, "cannot start the cluster watcher");
        goto failed;
    }
    self->watching = true;
    return self;

failed:
    cluster_destroy (&self);
    return NULL;
}

void
cluster_destroy (cluster_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cluster_t *self = *self_p;
    if (self->watching) {
        pthread_mutex_lock (&self->lock);
        self->stopping = true;
        bool leads = self->leader_id == self->options.id;
        size_t voters = 0;
        for (size_t n = 0; n < self->node_count; n++)
            voters += self->nodes [n].role == 0;
        pthread_cond_signal (&self->wake);
        pthread_mutex_unlock (&self->lock);
        pthread_join (self->watcher, NULL);
        char why [256];
        if (leads && voters > 1) {
            if (cluster_transfer (self, 0, why, sizeof (why)) == 0)
                log_info ("cluster.handover", "cluster: handed leadership to another node before stopping");
            else
                log_warn ("cluster.handover_failed", "cluster: could not hand leadership over before stopping: %s", why);
        }
    }
    if (self->node) {
        /*  dqlite_node_stop on a node that never started crashes. */
        if (self->started)
            dqlite_node_stop (self->node);
        dqlite_node_destroy (self->node);
    }
    pthread_mutex_destroy (&self->lock);
    pthread_cond_destroy (&self->wake);
    free (self->address);
    free (self->endpoint);
    free (self->data_dir);
    free (self);
    *self_p = NULL;
}

const char *
cluster_node_address (cluster_t *self)
{
    return self->address;
}

bool
cluster_leader (cluster_t *self, char *endpoint, size_t size)
{
    pthread_mutex_lock (&self->lock);
    bool leads = self->leader_id == self->options.id;
    if (endpoint)
        snprintf (endpoint, size, "%s", self->leader_endpoint);
    pthread_mutex_unlock (&self->lock);
    return leads;
}

void
cluster_kick (cluster_t *self)
{
    pthread_mutex_lock (&self->lock);
    self->kicked = true;
    pthread_cond_signal (&self->wake);
    pthread_mutex_unlock (&self->lock);
}

const char *
cluster_role (cluster_t *self)
{
    pthread_mutex_lock (&self->lock);
    uint64_t leader = self->leader_id;
    pthread_mutex_unlock (&self->lock);
    return leader == self->options.id? "leader": leader? "follower": "candidate";
}

static const char *
s_role_name (int role)
{
    return role == 0? "voter": role == 1? "standby": role == 2? "spare": "unknown";
}

void
cluster_pack (cluster_t *self, msgpack_packer *pk)
{
    pthread_mutex_lock (&self->lock);
    msgpack_pack_map (pk, 4);
    proto_pack_cstr (pk, "id");
    msgpack_pack_uint64 (pk, self->options.id);
    proto_pack_cstr (pk, "role");
    proto_pack_cstr (pk, self->leader_id == self->options.id? "leader": self->leader_id? "follower": "candidate");
    proto_pack_cstr (pk, "leader_id");
    if (self->leader_id)
        msgpack_pack_uint64 (pk, self->leader_id);
    else
        msgpack_pack_nil (pk);
    proto_pack_cstr (pk, "nodes");
    msgpack_pack_array (pk, self->node_count);
    for (size_t n = 0; n < self->node_count; n++) {
        const node_t *node = &self->nodes [n];
        msgpack_pack_map (pk, 6);
        proto_pack_cstr (pk, "id");
        msgpack_pack_uint64 (pk, node->id);
        proto_pack_cstr (pk, "address");
        proto_pack_cstr (pk, node->address);
        proto_pack_cstr (pk, "endpoint");
        if (*node->endpoint)
            proto_pack_cstr (pk, node->endpoint);
        else
            msgpack_pack_nil (pk);
        proto_pack_cstr (pk, "role");
        proto_pack_cstr (pk, s_role_name (node->role));
        proto_pack_cstr (pk, "leader");
        if (node->id == self->leader_id)
            msgpack_pack_true (pk);
        else
            msgpack_pack_false (pk);
        proto_pack_cstr (pk, "reachable");
        if (node->reachable)
            msgpack_pack_true (pk);
        else
            msgpack_pack_false (pk);
    }
    pthread_mutex_unlock (&self->lock);
}

/*  Run one membership request on the leader. */
static int
s_on_leader (cluster_t *self, int (*request) (dqw_t *, uint64_t), uint64_t id, char *errbuf, size_t errlen)
{
    dqw_t *leader = s_connect_leader (self->address, self->options.timeout_ms, NULL, NULL, errbuf, errlen);
    if (!leader)
        return -1;
    int rc = request (leader, id);
    if (rc)
        snprintf (errbuf, errlen, "%s", dqw_errmsg (leader));
    dqw_destroy (&leader);
    cluster_kick (self);
    return rc? -1: 0;
}

int
cluster_transfer (cluster_t *self, uint64_t id, char *errbuf, size_t errlen)
{
    return s_on_leader (self, dqw_transfer, id, errbuf, errlen);
}

int
cluster_remove (cluster_t *self, uint64_t id, char *errbuf, size_t errlen)
{
    return s_on_leader (self, dqw_remove, id, errbuf, errlen);
}
