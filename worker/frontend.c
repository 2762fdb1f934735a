/*  frontend -- the thread that owns the ROUTER socket and the writer's
    connection. */

#include "frontend.h"
#include "auth.h"
#include "backup.h"
#include "job.h"
#include "log.h"
#include "peers.h"
#include "reader.h"
#include "sys_ops.h"
#include "proto_reply.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Messages taken from the ROUTER per poll: RECV_GROUPS groups' worth.
   Requests are taken faster than the writer runs them, so that under
   overload the backlog builds in our queue, where each request has a
   clock on it and can be refused, not inside libzmq, where it is
   invisible (its age unknown, its 8 KB read buffer pinned). Not much
   faster: every request taken between two groups delays the next commit,
   and a writer that commits too seldom serves fewer. */
#define RECV_GROUPS 4

/* How often the front end looks at its resident memory (and so the
   longest it sleeps in poll: a message that never ends wakes nobody). */
#define MEMORY_TICK_US 10000

/* Read batches handed to one reader at a time: one running, one ready.
   The rest wait in the front end, where they hold no reply yet: a reader
   that ran ahead would hold the replies (up to megabytes each) until the
   front end sent them. */
#define READER_WINDOW 2

/* Past this share of --max-memory new requests are refused. */
#define MEMORY_SOFT_PERCENT 80

/* A connection is disconnected for memory only if it holds this much. */
#define EVICT_MIN_BYTES (1024 * 1024)

/* While near the limit, give freed memory back at most this often: what
   glibc keeps after a peer is cut off is not memory anyone holds. */
#define TIGHT_TRIM_US 100000

/* After this long without a request, give freed memory back to the OS. */
#define IDLE_TRIM_US 1000000

/* A group stops taking batches once their bodies pass this many bytes, or
   their ops this many: past a few thousand rows a commit costs no less per
   row, while the transaction's dirty pages and the replies held back for
   it cost memory and latency. */
#define GROUP_BYTES (8 * 1024 * 1024)
#define GROUP_OPS 10000

/* Ops of the batches taken and not yet answered, at most. A decoded op
   takes about 380 bytes (an op has a slot for every field), several times
   its size on the wire, so --max-queue alone would let a peer that
   pipelines big batches hold gigabytes; this holds it near 40 MB. A batch
   is always taken when nothing else is held, however big. */
#define HELD_OPS_MAX 100000

/* Backup batches handed to the backup thread and not yet back, at most:
   it runs one at a time, and a snapshot can take seconds. */
#define BACKUP_QUEUE_MAX 8

#define BACKUP_ENDPOINT "inproc://ledgerd-backup"

/* A client is refused if no ZAP handler answers for its domain. The option
   is a draft in libzmq 4.3: zmq.h declares it only when built with the
   draft API, but a library built with it takes the option all the same. */
/* Each reader counts into a block of its own (stats.h). */
_Static_assert (CONFIG_MAX_READERS <= STATS_MAX_READERS, "a reader without a counter block");

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

/*  Batches waiting for the writer, oldest first. */
typedef struct {
    job_t **jobs;
    size_t head;
    size_t count;
    size_t capacity;
} queue_t;

struct _frontend_t {
    void *router;
    store_t *store;                     /* the writer's connection; cluster mode: only while leading */
    cluster_t *cluster;                 /* cluster mode, or NULL */
    char leader [256];                  /* cluster: the leader's endpoint, "" if unknown */
    bool leads;                         /* cluster: this node's dqlite node leads */
    int64_t store_tried_us;             /* cluster: last attempt to open the store */
    queue_t waiting;                    /* write batches not yet running */
    job_pool_t pool;                    /* jobs done with, for reuse */
    job_t **group;                      /* the group running, group_max long */
    const proto_request_t **requests;
    msgpack_sbuffer **replies;
    void *pipes [CONFIG_MAX_READERS];   /* one per reader */
    reader_t *readers [CONFIG_MAX_READERS];
    char endpoints [CONFIG_MAX_READERS] [48];
    uint32_t in_flight [CONFIG_MAX_READERS];    /* jobs handed to each reader, not yet back */
    queue_t reads;                      /* read batches not yet handed to a reader */
    size_t held_ops;                    /* ops taken and not yet answered */
    void *backup_pipe;                  /* to the backup thread; single-node mode only */
    backup_t *backup;
    uint32_t backup_in_flight;          /* backup batches handed over, not yet back */
    int reader_count;
    int bound;                          /* config->binds [0 .. bound) are ours */
    bool draining;                      /* stopping: no new requests */
    peers_t *peers;                     /* connections, and what each holds */
    auth_t *auth;                       /* the CURVE allow list, or NULL */
    int statm_fd;                       /* /proc/self/statm, for the resident size */
    size_t resident;                    /* bytes, at the last tick */
    bool memory_tight;                  /* past the soft mark: refusing requests */
    int64_t tick_us;                    /* last memory check */
    int64_t trim_us;                    /* last malloc_trim */
    int64_t memory_logged_us;           /* last "no connection to disconnect" line */
    int64_t last_request_us;
    bool idle_trimmed;                  /* memory given back since the last request */
    int wake_fd;
    volatile sig_atomic_t *stop;
    const config_t *config;
    stats_t *stats;
    stats_block_t *counts;              /* this thread's counters */
};

static int
s_set_int (void *socket, int option, int value)
{
    return zmq_setsockopt (socket, option, &value, sizeof (value));
}

/*  Make router a CURVE server with the certificate at path. Clients are
    then checked by the ZAP handler (zauth) against the allowed keys at the
    handshake, before any message of theirs is read. */
static int
s_curve_server (void *router, const char *path, char *errbuf, size_t errlen)
{
    zcert_t *cert = zcert_load (path);
    if (!cert) {
        snprintf (errbuf, errlen, "cannot load the CURVE certificate %s (and its %s_secret)", path, path);
        return -1;
    }
    static const byte zeros [32] = { 0 };
    int rc = 0;
    if (memcmp (zcert_secret_key (cert), zeros, 32) == 0) {
        snprintf (errbuf, errlen, "%s has no secret key: give the certificate with its _secret file", path);
        rc = -1;
    }
    else
    if (s_set_int (router, ZMQ_CURVE_SERVER, 1)
    ||  zmq_setsockopt (router, ZMQ_CURVE_SECRETKEY, zcert_secret_key (cert), 32)
    ||  zmq_setsockopt (router, ZMQ_ZAP_DOMAIN, "ledgerd", 7)) {
        snprintf (errbuf, errlen, "cannot set up CURVE: %s", zmq_strerror (errno));
        rc = -1;
    }
    /*  Best effort: a libzmq built without draft options refuses it. The
        ZAP handler still checks every client; this covers the case where
        no handler answers. */
    s_set_int (router, ZMQ_ZAP_ENFORCE_DOMAIN, 1);
    zcert_destroy (&cert);
    return rc;
}

static void s_serve_while_busy (void *arg, int wait_ms);
static void s_check_memory (frontend_t *self, int64_t now);


/*  The arrays a group commit runs through, group_max long. Returns 0, or
    -1 if memory ran out. */
static int
s_group_new (frontend_t *self)
{
    size_t group_max = self->config->group_max? self->config->group_max: 1;
    self->group = calloc (group_max, sizeof (job_t *));
    self->requests = calloc (group_max, sizeof (proto_request_t *));
    self->replies = calloc (group_max, sizeof (msgpack_sbuffer *));
    return self->group && self->requests && self->replies? 0: -1;
}

/*  The ROUTER, with the options config asks for, not yet bound. Returns
    0, or -1 with errbuf set. */
static int
s_router_new (frontend_t *self, void *ctx, char *errbuf, size_t errlen)
{
    const config_t *config = self->config;
    self->router = zmq_socket (ctx, ZMQ_ROUTER);
    int64_t max_msg = config->max_msg_bytes;
    if (!self->router
    ||  s_set_int (self->router, ZMQ_ROUTER_MANDATORY, 1)
    ||  s_set_int (self->router, ZMQ_LINGER, 0)
    ||  zmq_setsockopt (self->router, ZMQ_MAXMSGSIZE, &max_msg, sizeof (max_msg))) {
        snprintf (errbuf, errlen, "cannot create sockets: %s", zmq_strerror (errno));
        return -1;
    }
    if (config->ipv6 && s_set_int (self->router, ZMQ_IPV6, 1)) {
        snprintf (errbuf, errlen, "cannot enable IPv6: %s", zmq_strerror (errno));
        return -1;
    }
    if (config->curve_secret && s_curve_server (self->router, config->curve_secret, errbuf, errlen))
        return -1;
    return 0;
}

/*  Watch the ROUTER's connections, as many as the open-files limit
    allows. Returns 0, or -1 with errbuf set. */
static int
s_peers_new (frontend_t *self, void *ctx, char *errbuf, size_t errlen)
{
    uint64_t fd_limit = 0;
    /*  Each reader holds a pipe's two ends and its database's three
        files; SQLite, ZeroMQ and the log need a few dozen more. */
    size_t capacity = peers_raise_fd_limit (64 + 8 * (size_t) self->config->readers, &fd_limit);
    self->peers = peers_new (ctx, self->router, capacity, self->config->curve_secret != NULL, errbuf, errlen);
    if (!self->peers)
        return -1;
    log_info_with ("worker.capacity", LOG_FIELDS (LOG_INT ("capacity", capacity), LOG_INT ("fd_limit", fd_limit)),
                   "connection capacity %zu (open-files limit %llu)", capacity, (unsigned long long) fd_limit);
    return 0;
}

/*  Start one reader thread per store in readers [0 .. config->readers),
    each on a PAIR pipe of its own, taking the store. Returns 0, or -1
    with errbuf set. */
static int
s_readers_start (frontend_t *self, void *ctx, store_t **readers, char *errbuf, size_t errlen)
{
    for (int n = 0; n < self->config->readers; n++) {
        snprintf (self->endpoints [n], sizeof (self->endpoints [n]), "inproc://ledgerd-reader-%d", n);
        void *pipe = self->pipes [n] = zmq_socket (ctx, ZMQ_PAIR);
        /*  Unbounded here: the front end bounds what it hands over. */
        if (!pipe || s_set_int (pipe, ZMQ_LINGER, 0) || s_set_int (pipe, ZMQ_SNDHWM, 0)
        ||  s_set_int (pipe, ZMQ_RCVHWM, 0) || zmq_bind (pipe, self->endpoints [n])) {
            snprintf (errbuf, errlen, "cannot create sockets: %s", zmq_strerror (errno));
            return -1;
        }
        char why [256];
        store_set_counts (readers [n], stats_block (self->stats, 1 + n));
        self->readers [n] = reader_new (ctx, self->endpoints [n], &readers [n], self->config->reader_nice,
                                        self->config->max_wait_ms, why, sizeof (why));
        if (!self->readers [n]) {
            snprintf (errbuf, errlen, "cannot start reader %d: %s", n, why);
            return -1;
        }
        self->reader_count++;
    }
    return 0;
}

/*  Start the backup thread (single-node mode: a cluster's database is
    dqlite's, and this process has no file of it to copy). Returns 0, or
    -1 with errbuf set. */
static int
s_backup_start (frontend_t *self, void *ctx, char *errbuf, size_t errlen)
{
    if (self->cluster)
        return 0;
    void *pipe = self->backup_pipe = zmq_socket (ctx, ZMQ_PAIR);
    if (!pipe || s_set_int (pipe, ZMQ_LINGER, 0) || s_set_int (pipe, ZMQ_SNDHWM, 0)
    ||  s_set_int (pipe, ZMQ_RCVHWM, 0) || zmq_bind (pipe, BACKUP_ENDPOINT)) {
        snprintf (errbuf, errlen, "cannot create sockets: %s", zmq_strerror (errno));
        return -1;
    }
    char why [256];
    self->backup = backup_new (ctx, BACKUP_ENDPOINT, self->config->db_path, self->config->backup_idle_s,
                               self->config->reader_nice, self->stats, why, sizeof (why));
    if (!self->backup) {
        snprintf (errbuf, errlen, "cannot start the backup thread: %s", why);
        return -1;
    }
    return 0;
}

/*  The socket file of an ipc:// endpoint, or NULL: an abstract (@name)
    or wildcard endpoint has none. */
static const char *
s_ipc_path (const char *endpoint)
{
    if (strncmp (endpoint, "ipc://", 6) != 0)
        return NULL;
    const char *path = endpoint + 6;
    return *path == '@' || strcmp (path, "*") == 0? NULL: path;
}

/*  True if a process accepts connections on the socket file of endpoint.
    libzmq unlinks the file before it binds, which would take the endpoint
    from a running worker silently; a file nobody answers on (left by a
    worker that died) is stale and may be taken over. Abstract sockets need
    no probe: their bind fails while another process holds the name. */
static bool
s_ipc_in_use (const char *endpoint)
{
    const char *path = s_ipc_path (endpoint);
    struct sockaddr_un address = { .sun_family = AF_UNIX };
    if (!path || strlen (path) >= sizeof (address.sun_path))
        return false;       /* no file, or too long: zmq_bind says why */
    strcpy (address.sun_path, path);
    int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    bool answered = connect (fd, (struct sockaddr *) &address, sizeof (address)) == 0;
    close (fd);
    return answered;
}

/*  Bind the ROUTER to every endpoint of config. Returns 0, or -1 with
    errbuf set. */
static int
s_bind (frontend_t *self, char *errbuf, size_t errlen)
{
    for (int n = 0; n < self->config->bind_count; n++) {
        const char *endpoint = self->config->binds [n];
        if (s_ipc_in_use (endpoint)) {
            snprintf (errbuf, errlen, "cannot bind %s: already in use (another process is listening)", endpoint);
            return -1;
        }
        if (zmq_bind (self->router, endpoint)) {
            snprintf (errbuf, errlen, "cannot bind %s: %s", endpoint, zmq_strerror (errno));
            return -1;
        }
        self->bound = n + 1;
    }
    return 0;
}

/*  Remove the socket files this worker bound; libzmq leaves them. Done
    while the ROUTER still listens: once it is closed a new worker may take
    the path over, and its file must not be removed. */
static void
s_unlink_ipc_files (frontend_t *self)
{
    for (int n = 0; n < self->bound; n++) {
        const char *path = s_ipc_path (self->config->binds [n]);
        if (path)
            unlink (path);
    }
}

frontend_t *
frontend_new (void *ctx, const config_t *config, stats_t *stats, store_t **writer_p,
              store_t **readers, cluster_t *cluster, char *errbuf, size_t errlen)
{
    frontend_t *self = calloc (1, sizeof (frontend_t));
    if (!self) {
        snprintf (errbuf, errlen, "out of memory");
        return NULL;
    }
    self->config = config;
    self->stats = stats;
    self->counts = stats_block (stats, STATS_FRONTEND);
    self->cluster = cluster;
    self->wake_fd = -1;
    self->statm_fd = open ("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (s_group_new (self)) {
        snprintf (errbuf, errlen, "out of memory");
        goto failed;
    }
    if (s_router_new (self, ctx, errbuf, errlen)
    ||  s_peers_new (self, ctx, errbuf, errlen)
    ||  s_readers_start (self, ctx, readers, errbuf, errlen)
    ||  s_backup_start (self, ctx, errbuf, errlen)
    ||  s_bind (self, errbuf, errlen))
        goto failed;
    if (*writer_p) {
        self->store = *writer_p;
        *writer_p = NULL;
        store_set_busy_handler (self->store, s_serve_while_busy, self);
    }
    return self;

failed:
    frontend_destroy (&self);
    return NULL;
}

void
frontend_destroy (frontend_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    frontend_t *self = *self_p;
    for (int n = 0; n < self->reader_count; n++)
        reader_destroy (&self->readers [n], self->pipes [n]);
    backup_destroy (&self->backup, self->backup_pipe);
    if (self->backup_pipe)
        zmq_close (self->backup_pipe);
    store_destroy (&self->store);
    for (size_t n = 0; n < self->waiting.count; n++)
        job_destroy (&self->waiting.jobs [self->waiting.head + n]);
    free (self->waiting.jobs);
    for (size_t n = 0; n < self->reads.count; n++)
        job_destroy (&self->reads.jobs [self->reads.head + n]);
    free (self->reads.jobs);
    job_pool_empty (&self->pool);
    free (self->group);
    free (self->requests);
    free (self->replies);
    peers_destroy (&self->peers);
    if (self->statm_fd >= 0)
        close (self->statm_fd);
    if (self->router) {
        s_unlink_ipc_files (self);
        /*  Replies already queued get a second to reach their peers. */
        s_set_int (self->router, ZMQ_LINGER, 1000);
        zmq_close (self->router);
    }
    for (int n = 0; n < CONFIG_MAX_READERS; n++)
        if (self->pipes [n])
            zmq_close (self->pipes [n]);
    free (self);
    *self_p = NULL;
}


/*  Append job to the writer's queue. Returns -1 if memory ran out. */
static int
s_queue_push (queue_t *queue, job_t *job)
{
    if (queue->head + queue->count == queue->capacity) {
        if (queue->head > 0) {
            memmove (queue->jobs, queue->jobs + queue->head, queue->count * sizeof (job_t *));
            queue->head = 0;
        }
        else {
            size_t capacity = queue->capacity? queue->capacity * 2: 256;
            job_t **jobs = realloc (queue->jobs, capacity * sizeof (job_t *));
            if (!jobs)
                return -1;
            queue->jobs = jobs;
            queue->capacity = capacity;
        }
    }
    queue->jobs [queue->head + queue->count++] = job;
    return 0;
}

static job_t *
s_queue_pop (queue_t *queue)
{
    job_t *job = queue->jobs [queue->head++];
    if (--queue->count == 0)
        queue->head = 0;
    return job;
}

static uint32_t
s_readers_in_flight (frontend_t *self)
{
    uint32_t total = (uint32_t) self->reads.count;
    for (int n = 0; n < self->reader_count; n++)
        total += self->in_flight [n];
    return total;
}

/*  Send the reply behind the request's routing envelope, without blocking. */
static void
s_send_reply (frontend_t *self, job_t *job)
{
    stats_observe (self->counts, STATS_BATCH_LATENCY, (uint64_t) (stats_monotonic_us () - job->received_us));
    size_t envelope = job->frame_count - 1;
    /*  The identity frame (0) stays with the ROUTER; the rest go on the wire. */
    uint64_t wire = peers_wire_size (self->peers, job->reply.size);
    for (size_t n = 1; n < envelope; n++)
        wire += peers_wire_size (self->peers, zmq_msg_size (&job->frames [n]));
    for (size_t n = 0; n < envelope; n++)
        if (zmq_msg_send (&job->frames [n], self->router, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1)
            goto dropped;
    if (zmq_send (self->router, job->reply.data, job->reply.size, ZMQ_DONTWAIT) == -1)
        goto dropped;
    peers_sent (self->peers, job->fd, wire);
    return;

dropped:
    stats_add (&self->counts->replies_dropped, 1);
    log_debug ("reply.dropped", "reply dropped: %s", zmq_strerror (errno));
}

/*  Answer a request that is not run. */
static void
s_reply_error (frontend_t *self, job_t *job, const proto_error_t *err)
{
    msgpack_sbuffer_clear (&job->reply);
    proto_reply_error (&job->reply, job->request, err);
    stats_count_batch (self->counts, err->klass);
    s_send_reply (self, job);
}

/*  Answer a batch taken but not run with a retryable overloaded error. */
static void
s_reply_overloaded (frontend_t *self, job_t *job, const char *code, const char *why)
{
    proto_error_t err;
    proto_error_set (&err, PROTO_CLASS_OVERLOADED, -1, NULL, code, "%s; retry later", why);
    s_reply_error (self, job, &err);
}

/*  Cluster mode: this node does not lead (now). The batch was not run;
    the producer is told where the leader is, when that is known. */
static void
s_reply_not_leader (frontend_t *self, job_t *job)
{
    proto_error_t err;
    if (self->leads)
        /*  Naming itself would send the producer straight back here. */
        proto_error_set (&err, PROTO_CLASS_UNAVAILABLE, -1, NULL, "NOT_LEADER", "this node leads but cannot write"
                         " now (its quorum or its connection to its dqlite node is lost): nothing was applied;"
                         " retry");
    else
    if (*self->leader) {
        proto_error_set (&err, PROTO_CLASS_UNAVAILABLE, -1, NULL, "NOT_LEADER", "this node is not the cluster's"
                         " leader (%s is): nothing was applied; retry there", self->leader);
        err.leader = self->leader;
    }
    else
        proto_error_set (&err, PROTO_CLASS_UNAVAILABLE, -1, NULL, "NOT_LEADER", "this node is not the cluster's"
                         " leader, and no leader is known (an election, or no quorum): nothing was applied;"
                         " retry");
    s_reply_error (self, job, &err);
}

/*  Take one whole message from the ROUTER into a new job. Keeps at most
    JOB_MAX_FRAMES frames; the rest are counted and dropped. Returns NULL
    when no message is waiting. */
static job_t *
s_receive (frontend_t *self)
{
    zmq_msg_t part;
    zmq_msg_init (&part);
    if (zmq_msg_recv (&part, self->router, ZMQ_DONTWAIT) == -1) {
        zmq_msg_close (&part);
        return NULL;
    }
    /*  The connection a message came from: libzmq 4.3 leaves no descriptor
        on the identity frame when zmq_poll has already fetched the
        message, so take it from whichever frame carries one. */
    int fd = -1;
    uint64_t wire = 0;
    job_t *job = job_pool_take (&self->pool);
    while (true) {
        bool more = zmq_msg_more (&part);
        int part_fd = zmq_msg_get (&part, ZMQ_SRCFD);
        if (part_fd >= 0)
            fd = part_fd;
        if (job) {
            /*  Frame 0 is the identity the ROUTER added, not the peer's. */
            if (job->frames_seen++ > 0) {
                job->bytes_seen += zmq_msg_size (&part);
                wire += peers_wire_size (self->peers, zmq_msg_size (&part));
            }
        }
        if (job && job->frame_count < JOB_MAX_FRAMES) {
            zmq_msg_t *frame = &job->frames [job->frame_count++];
            zmq_msg_init (frame);
            zmq_msg_move (frame, &part);
        }
        zmq_msg_close (&part);
        if (!more)
            break;
        /*  The rest of a multipart message is already here. */
        zmq_msg_init (&part);
        zmq_msg_recv (&part, self->router, 0);
    }
    peers_received (self->peers, fd, wire);
    if (!job) {
        log_error ("request.out_of_memory", "out of memory: request dropped");
        return NULL;
    }
    job->fd = fd;
    job->received_us = stats_monotonic_us ();
    self->last_request_us = job->received_us;
    self->idle_trimmed = false;
    return job;
}

/*  The reader with the least work in hand. */
static int
s_choose_reader (frontend_t *self)
{
    int best = 0;
    for (int n = 1; n < self->reader_count; n++)
        if (self->in_flight [n] < self->in_flight [best])
            best = n;
    return best;
}

/*  Hand waiting reads to the readers with room in their window, least
    loaded first. A read that cannot be handed over is answered here. */
static void
s_hand_reads (frontend_t *self)
{
    while (self->reads.count) {
        int reader = s_choose_reader (self);
        if (self->in_flight [reader] >= READER_WINDOW)
            return;
        job_t *job = s_queue_pop (&self->reads);
        if (zmq_send (self->pipes [reader], &job, sizeof (job), ZMQ_DONTWAIT) == -1) {
            proto_error_t err;
            proto_error_set (&err, PROTO_CLASS_INTERNAL, -1, NULL, "PIPE", "cannot reach the reader: %s",
                             zmq_strerror (errno));
            self->held_ops -= job->request->op_count;
            s_reply_error (self, job, &err);
            job_pool_give (&self->pool, &job);
            continue;
        }
        self->in_flight [reader]++;
    }
}

/*  How long the oldest write batch waiting has waited. In a queue that
    is served in order, a batch arriving now will wait about as long: a
    measure, where a forecast from the writer's pace would count the time
    spent refusing others and refuse more the more it refuses. */
static int64_t
s_writer_wait_us (frontend_t *self)
{
    if (self->waiting.count == 0)
        return 0;
    return stats_monotonic_us () - self->waiting.jobs [self->waiting.head]->received_us;
}

/*  Whether the worker can take request now: not near its memory limit,
    not holding too many ops, a queue for it (the writer's if it writes or
    there is no reader, else the readers') neither full nor standing.
    Returns 0, or -1 with the overloaded error in err. */
static int
s_admit (frontend_t *self, const proto_request_t *request, proto_error_t *err)
{
    if (self->memory_tight) {
        proto_error_set (err, PROTO_CLASS_OVERLOADED, -1, NULL, "MEMORY_LIMIT",
                         "the worker is near its memory limit (%zu MiB of %lld); retry later",
                         self->resident >> 20, (long long) (self->config->max_memory >> 20));
        return -1;
    }
    /*  One running, max_queue waiting: past that, say so now rather than
        let the queue (and the latency of everyone in it) grow. */
    if (self->held_ops > 0 && self->held_ops + request->op_count > HELD_OPS_MAX) {
        proto_error_set (err, PROTO_CLASS_OVERLOADED, -1, NULL, "OVERLOADED",
                         "%zu ops are waiting or running; retry later", self->held_ops);
        return -1;
    }
    if (!request->writes && self->reader_count > 0) {
        /*  --max-queue waiting for each reader, as for the writer. */
        if (self->reads.count < (size_t) self->config->max_queue * (size_t) self->reader_count)
            return 0;
        proto_error_set (err, PROTO_CLASS_OVERLOADED, -1, NULL, "OVERLOADED",
                         "%zu batches are waiting for the readers; retry later", self->reads.count);
        return -1;
    }
    if (self->waiting.count >= self->config->max_queue) {
        proto_error_set (err, PROTO_CLASS_OVERLOADED, -1, NULL, "OVERLOADED",
                         "%zu batches are waiting for the writer; retry later", self->waiting.count);
        return -1;
    }
    /*  A standing queue (CoDel's signal): once the oldest batch has waited
        half of --max-wait-ms, refuse now rather than take a batch that
        would likely wait past it and be refused then, after costing memory
        and the writer's time. */
    int64_t wait_us = s_writer_wait_us (self);
    if (wait_us > (int64_t) self->config->max_wait_ms * 500) {
        proto_error_set (err, PROTO_CLASS_OVERLOADED, -1, NULL, "OVERLOADED",
                         "the writer is %lld ms behind (--max-wait-ms %d); retry later",
                         (long long) (wait_us / 1000), self->config->max_wait_ms);
        return -1;
    }
    return 0;
}

/*  Refuse a message the ROUTER took whole but that breaks the transport's
    limits: too many frames, too many bytes. Returns 0, or -1 with the
    error in err. */
static int
s_check_message (frontend_t *self, const job_t *job, proto_error_t *err)
{
    if (job->frames_seen > JOB_MAX_FRAMES) {
        proto_error_set (err, PROTO_CLASS_PROTOCOL, -1, NULL, "TOO_MANY_FRAMES",
                         "%zu frames in one message; at most %d (envelope and body)",
                         job->frames_seen - 1, JOB_MAX_PEER_FRAMES);
        return -1;
    }
    if (job->bytes_seen > (size_t) self->config->max_msg_bytes) {
        proto_error_set (err, PROTO_CLASS_TOO_LARGE, -1, NULL, "MESSAGE_TOO_LARGE",
                         "%zu bytes in one message; this worker takes at most %lld",
                         job->bytes_seen, (long long) self->config->max_msg_bytes);
        return -1;
    }
    return 0;
}

/*  Decode the body into job->request, and refuse what may not run: a
    request the decoder refused, or one from a key revoked since its
    connection opened. Returns 0, or -1 with the error in err. */
static int
s_take_request (frontend_t *self, job_t *job, proto_error_t *err)
{
    /*  The key was checked at the handshake; the allow list may have
        changed since, and a revoked key must not write on a connection it
        opened before. Read while the body frame (and its metadata) is
        still there; answered after decoding, so the reply carries the id. */
    bool denied = false;
    if (self->auth) {
        const char *user = zmq_msg_gets (&job->frames [job->frame_count - 1], "User-Id");
        denied = !user || !auth_allows (self->auth, user);
    }
    if (job_decode (job, self->config->max_ops)) {
        proto_error_set (err, PROTO_CLASS_INTERNAL, -1, NULL, "NOMEM", "out of memory");
        return -1;
    }
    if (denied) {
        proto_error_set (err, PROTO_CLASS_DENIED, -1, NULL, "KEY_REVOKED", "this client's key is no longer allowed");
        return -1;
    }
    if (proto_error_is_set (&job->request->error)) {
        *err = job->request->error;
        return -1;
    }
    return 0;
}

/*  Queue the job, if admitted: for the writer if it writes (or there is
    no reader), else for the least loaded reader. Returns 0 (the queue
    holds the job), or -1 with the error in err (the job is still the
    caller's). */
static int
s_queue (frontend_t *self, job_t *job, proto_error_t *err)
{
    if (s_admit (self, job->request, err))
        return -1;
    bool to_writer = job->request->writes || self->reader_count == 0;
    if (s_queue_push (to_writer? &self->waiting: &self->reads, job)) {
        proto_error_set (err, PROTO_CLASS_INTERNAL, -1, NULL, "NOMEM", "out of memory");
        return -1;
    }
    self->held_ops += job->request->op_count;
    if (!to_writer)
        s_hand_reads (self);
    return 0;
}

/*  A backup op, alone in its batch (the decoder sees to that) and valid:
    for the backup thread. */
static bool
s_is_backup (const proto_request_t *request)
{
    return request->op_count == 1 && !request->ops [0].error
        && (proto_op_info (request->ops [0].code)->flags & PROTO_OPF_BACKUP);
}

/*  Hand a backup batch to the backup thread, or answer why not. */
static void
s_hand_backup (frontend_t *self, job_t *job)
{
    proto_error_t err;
    if (!self->backup)
        /*  dqlite 1.11 could send the leader's file (its DUMP request),
            but whole, in one message, with the WAL beside it: not a
            bounded stream, and not the plain file these ops promise. */
        proto_error_set (&err, PROTO_CLASS_INVALID, 0, "op", "NOT_SUPPORTED",
                         "backups are for single-node workers; in cluster mode, back up a node's data directory"
                         " (see README \"Backups\")");
    else
    if (self->backup_in_flight >= BACKUP_QUEUE_MAX)
        proto_error_set (&err, PROTO_CLASS_OVERLOADED, -1, NULL, "OVERLOADED",
                         "%d backup batches are waiting for the backup thread; retry later", BACKUP_QUEUE_MAX);
    else
    if (zmq_send (self->backup_pipe, &job, sizeof (job), ZMQ_DONTWAIT) == -1)
        proto_error_set (&err, PROTO_CLASS_INTERNAL, -1, NULL, "PIPE", "cannot reach the backup thread: %s",
                         zmq_strerror (errno));
    else {
        self->backup_in_flight++;
        return;
    }
    s_reply_error (self, job, &err);
    job_pool_give (&self->pool, &job);
}

static void
s_take_backup_replies (frontend_t *self)
{
    job_t *job;
    while (zmq_recv (self->backup_pipe, &job, sizeof (job), ZMQ_DONTWAIT) == (int) sizeof (job)) {
        self->backup_in_flight--;
        s_send_reply (self, job);
        job_pool_give (&self->pool, &job);
    }
}

/*  Check a request and queue it, or answer it here: refused, or (cluster
    mode) answered by any node, or this node does not lead. */
static void
s_handle_request (frontend_t *self, job_t *job)
{
    proto_error_t err = { .klass = PROTO_CLASS_NONE };
    if (job->frame_count < 2) {
        job_pool_give (&self->pool, &job);     /* a ROUTER always adds the identity frame */
        return;
    }
    if (s_check_message (self, job, &err) || s_take_request (self, job, &err))
        goto reject;
    if (s_is_backup (job->request)) {
        s_hand_backup (self, job);
        return;
    }
    if (sys_ops_only (job->request) && (self->cluster || !job->request->key)) {
        /*  Answered here, without the ledger, on every node, leader or
            not. A keyed batch on a single node goes to the store, whose
            idempotency log checks and keeps its key. */
        sys_ops_run (self->stats, job->request, &job->reply);
        s_send_reply (self, job);
        job_pool_give (&self->pool, &job);
        return;
    }
    if (self->cluster && !self->store) {
        s_reply_not_leader (self, job);
        job_pool_give (&self->pool, &job);
        return;
    }
    if (s_queue (self, job, &err) == 0)
        return;

reject:
    /*  At debug only: a refusal is the client's news, and under overload
        there is one per request. */
    if (log_enabled (LOG_LEVEL_DEBUG))
        log_debug_with ("request.refused", LOG_FIELDS (LOG_TEXT ("class", proto_class_name (err.klass)),
                        LOG_TEXT ("code", err.code), LOG_INT ("op", err.op), LOG_TEXT ("field", err.field)),
                        "refused a request: %s/%s: %s", proto_class_name (err.klass), err.code, err.message);
    s_reply_error (self, job, &err);
    job_pool_give (&self->pool, &job);
}

static void
s_take_replies (frontend_t *self, int reader)
{
    job_t *job;
    while (zmq_recv (self->pipes [reader], &job, sizeof (job), ZMQ_DONTWAIT) == (int) sizeof (job)) {
        self->in_flight [reader]--;
        self->held_ops -= job->request->op_count;
        if (job->expired)
            s_reply_overloaded (self, job, "OVERLOADED", "the batch waited past --max-wait-ms for a reader");
        else
            s_send_reply (self, job);
        job_pool_give (&self->pool, &job);
        s_hand_reads (self);
        s_check_memory (self, stats_monotonic_us ());
    }
}

/*  Resident bytes of this process, from /proc/self/statm; 0 if unknown. */
static size_t
s_resident (frontend_t *self)
{
    char text [128];
    ssize_t size = self->statm_fd >= 0? pread (self->statm_fd, text, sizeof (text) - 1, 0): -1;
    if (size <= 0)
        return 0;
    text [size] = 0;
    unsigned long long pages = 0;
    if (sscanf (text, "%*u %llu", &pages) != 1)
        return 0;
    return (size_t) pages * (size_t) sysconf (_SC_PAGESIZE);
}

/*  Hold the worker under --max-memory. Past the soft mark new requests are
    refused (MEMORY_LIMIT); past the limit, the connection that makes
    libzmq hold the most for it is disconnected, one a tick, until the
    worker is back under. Freed memory glibc still keeps is given back
    first, so a burst that is over does not count; and after a second
    without requests it is given back anyway. */
static void
s_check_memory (frontend_t *self, int64_t now)
{
    if (now - self->tick_us < MEMORY_TICK_US)
        return;
    self->tick_us = now;
    size_t limit = (size_t) self->config->max_memory;
    size_t soft = limit / 100 * MEMORY_SOFT_PERCENT;
    size_t resident = s_resident (self);
    bool idle = !self->idle_trimmed && now - self->last_request_us > IDLE_TRIM_US;
    if (idle || (resident > soft && now - self->trim_us > TIGHT_TRIM_US)) {
        malloc_trim (0);
        self->trim_us = now;
        self->idle_trimmed = true;
        resident = s_resident (self);
    }
    self->resident = resident;
    bool tight = resident > soft;
    if (tight != self->memory_tight)
        log_event (tight? LOG_LEVEL_WARN: LOG_LEVEL_INFO, tight? "memory.refusing": "memory.accepting",
                   LOG_FIELDS (LOG_INT ("resident_bytes", resident), LOG_INT ("max_memory_bytes", limit)),
                 tight? "memory: %zu MiB resident, past %d%% of --max-memory %zu MiB: refusing requests"
                      : "memory: %zu MiB resident, under %d%% of --max-memory %zu MiB again: taking requests",
                 resident >> 20, MEMORY_SOFT_PERCENT, limit >> 20);
    self->memory_tight = tight;
    if (!tight)
        return;
    /*  Near the limit no one peer may hold a quarter of it: a message that
        never ends grows by megabytes between two ticks. Past the limit,
        whoever holds the most goes. */
    size_t held = peers_evict_largest (self->peers, resident > limit? EVICT_MIN_BYTES: limit / 4);
    if (!held && resident <= limit)
        return;
    if (held)
        log_warn_with ("memory.disconnect", LOG_FIELDS (LOG_INT ("resident_bytes", resident),
                       LOG_INT ("max_memory_bytes", limit), LOG_INT ("held_bytes", held)),
                  "memory: %zu MiB resident, %s --max-memory %zu MiB: disconnected the connection holding "
                  "the most (up to %zu KiB: a message still arriving, unread requests or unacknowledged replies)",
                  resident >> 20, resident > limit? "past": "near", limit >> 20, held >> 10);
    else
    if (now - self->memory_logged_us > 10000000) {
        log_error_with ("memory.over_limit", LOG_FIELDS (LOG_INT ("resident_bytes", resident),
                        LOG_INT ("max_memory_bytes", limit)),
                   "memory: %zu MiB resident, past --max-memory %zu MiB, and no connection holds %d KiB: "
                   "refusing requests until it falls", resident >> 20, limit >> 20, EVICT_MIN_BYTES >> 10);
        self->memory_logged_us = now;
    }
}

/*  Stopping: answer every batch not yet started at once, so its producer
    can go elsewhere (or retry after the restart) instead of waiting for
    the queue to run; the group running finishes. */
static void
s_refuse_waiting (frontend_t *self)
{
    while (self->waiting.count) {
        job_t *job = s_queue_pop (&self->waiting);
        self->held_ops -= job->request->op_count;
        s_reply_overloaded (self, job, "SHUTTING_DOWN", "the worker is stopping");
        job_pool_give (&self->pool, &job);
    }
}

/*  Cluster mode: follow leadership. While this node leads, the writer
    has a store on its dqlite node (opened, and the schema migrated, when
    leadership comes); when it stops leading, or the store lost its node,
    the store goes and every batch is answered NOT_LEADER. */
#define STORE_RETRY_US 100000

static void
s_follow_leader (frontend_t *self)
{
    if (!self->cluster)
        return;
    bool leads = cluster_leader (self->cluster, self->leader, sizeof (self->leader));
    self->leads = leads;
    if (self->store && (!leads || !store_usable (self->store))) {
        log_info ("cluster.not_leader", "cluster: %s: answering NOT_LEADER", leads? "the store lost its node": "no longer the leader");
        store_destroy (&self->store);
        cluster_kick (self->cluster);
        return;
    }
    int64_t now = stats_monotonic_us ();
    if (!leads || self->store || now - self->store_tried_us < STORE_RETRY_US)
        return;
    self->store_tried_us = now;
    char errbuf [512];
    store_options_t options = {
        .busy_timeout_ms = self->config->busy_timeout_ms,
        .dedup_ttl_s = self->config->dedup_ttl_s,
    };
    self->store = store_new_dqlite (cluster_node_address (self->cluster), CLUSTER_DB_NAME,
                                    self->config->cluster_timeout_ms, &options, self->stats, errbuf, sizeof (errbuf));
    if (self->store)
        log_info ("cluster.leading", "cluster: this node leads: taking writes (schema version %d)", store_schema_version (self->store));
    else {
        log_warn ("cluster.store_failed", "cluster: this node leads, but its store cannot open: %s", errbuf);
        cluster_kick (self->cluster);
    }
}

/*  What /readyz says: draining wins; a cluster node is ready while it
    leads with a store, or follows a leader it knows (as etcd's and
    rqlite's readiness: a member that knows its leader). */
static stats_state_t
s_state (frontend_t *self)
{
    if (self->draining)
        return STATS_DRAINING;
    if (self->cluster && !(self->leads? self->store != NULL: *self->leader != 0))
        return STATS_NO_LEADER;
    return STATS_READY;
}

/*  Publish the gauges and the state for the metrics thread: plain stores,
    once per turn of the loop. */
static void
s_publish (frontend_t *self)
{
    stats_t *stats = self->stats;
    stats_set (&stats->writer_queue, self->waiting.count);
    stats_set (&stats->reader_queue, self->reads.count);
    uint64_t in_flight = 0;
    for (int n = 0; n < self->reader_count; n++)
        in_flight += self->in_flight [n];
    stats_set (&stats->reader_in_flight, in_flight);
    stats_set (&stats->held_ops, self->held_ops);
    atomic_store_explicit (&stats->state, (int) s_state (self), memory_order_relaxed);
}

static size_t
s_recv_burst (frontend_t *self)
{
    return (size_t) self->config->group_max * RECV_GROUPS;
}

/*  Wait up to timeout_ms (-1: for ever) for something to do, then do it:
    take readers' replies and send them, receive requests (not once
    stopping) and queue them. Runs no write. Returns -1 if polling fails. */
static int
s_serve (frontend_t *self, int timeout_ms)
{
    /*  [0..readers) the readers' pipes, then the ROUTER, the wake-up pipe,
        the connection events, the backup thread's pipe (fd -1 and no
        socket, which poll skips, in cluster mode). */
    zmq_pollitem_t items [CONFIG_MAX_READERS + 4];
    int count = self->reader_count;
    for (int n = 0; n < count; n++)
        items [n] = (zmq_pollitem_t) { self->pipes [n], 0, ZMQ_POLLIN, 0 };
    items [count] = (zmq_pollitem_t) { self->router, 0, self->draining? 0: ZMQ_POLLIN, 0 };
    items [count + 1] = (zmq_pollitem_t) { NULL, self->wake_fd, ZMQ_POLLIN, 0 };
    items [count + 2] = (zmq_pollitem_t) { peers_events (self->peers), 0, ZMQ_POLLIN, 0 };
    items [count + 3] = (zmq_pollitem_t) { self->backup_pipe, -1, self->backup_pipe? ZMQ_POLLIN: 0, 0 };
    if (timeout_ms < 0 || timeout_ms > MEMORY_TICK_US / 1000)
        timeout_ms = MEMORY_TICK_US / 1000;
    if (zmq_poll (items, count + 4, timeout_ms) == -1) {
        if (errno == EINTR)
            return 0;
        log_error ("worker.poll_failed", "poll failed: %s", zmq_strerror (errno));
        return -1;
    }
    if (items [count + 1].revents & ZMQ_POLLIN) {
        char drain [16];
        ssize_t drained = read (self->wake_fd, drain, sizeof (drain));
        (void) drained;
    }
    if (*self->stop && !self->draining) {
        self->draining = true;
        log_info_with ("worker.stopping", LOG_FIELDS (LOG_INT ("refused", self->waiting.count),
                       LOG_INT ("running", s_readers_in_flight (self))),
                  "stopping: no new requests; refusing %zu batches not started, finishing %u running or at readers",
                  self->waiting.count, s_readers_in_flight (self));
        s_refuse_waiting (self);
        backup_cancel (self->backup);
    }
    if (items [count + 2].revents & ZMQ_POLLIN)
        peers_take_events (self->peers);
    s_check_memory (self, stats_monotonic_us ());
    s_follow_leader (self);
    for (int n = 0; n < count; n++)
        if (items [n].revents & ZMQ_POLLIN)
            s_take_replies (self, n);
    if (items [count + 3].revents & ZMQ_POLLIN)
        s_take_backup_replies (self);
    if ((items [count].revents & ZMQ_POLLIN) && !self->draining)
        for (size_t n = 0; n < s_recv_burst (self); n++) {
            job_t *job = s_receive (self);
            if (!job)
                break;
            int64_t received = job->received_us;
            s_handle_request (self, job);
            s_check_memory (self, received);
        }
    s_publish (self);
    return 0;
}

/*  The writer's busy handler: while another connection holds the lock,
    keep answering readers and queueing requests instead of sleeping. */
static void
s_serve_while_busy (void *arg, int wait_ms)
{
    s_serve ((frontend_t *) arg, wait_ms);
}

/*  Run the oldest waiting batches as one group commit: as many as wait, up
    to --group-max and the byte budget, then send their replies. A batch
    that waited past --max-wait-ms is answered `overloaded` instead: its
    producer has most likely given up on it, and running it would only
    make every batch behind it later still. */
static void
s_run_group (frontend_t *self)
{
    if (self->config->group_wait_us > 0 && self->waiting.count < self->config->group_max && !self->draining)
        /*  A short queue: give producers a moment to add to the group. */
        s_serve (self, (self->config->group_wait_us + 999) / 1000);
    size_t count = 0;
    size_t bytes = 0;
    size_t ops = 0;
    int64_t started = stats_monotonic_us ();
    int64_t oldest = started - (int64_t) self->config->max_wait_ms * 1000;
    while (self->waiting.count && count < self->config->group_max && bytes < GROUP_BYTES && ops < GROUP_OPS) {
        job_t *job = s_queue_pop (&self->waiting);
        if (job->received_us < oldest) {
            self->held_ops -= job->request->op_count;
            s_reply_overloaded (self, job, "OVERLOADED", "the batch waited past --max-wait-ms for the writer");
            job_pool_give (&self->pool, &job);
            continue;
        }
        stats_observe (self->counts, STATS_WRITER_WAIT, (uint64_t) (started - job->received_us));
        self->group [count++] = job;
        bytes += job->body_size;
        ops += job->request->op_count;
    }
    if (count == 0)
        return;
    if (!self->store) {
        /*  Cluster mode: leadership went while these waited. */
        for (size_t n = 0; n < count; n++) {
            self->held_ops -= self->group [n]->request->op_count;
            s_reply_not_leader (self, self->group [n]);
            job_pool_give (&self->pool, &self->group [n]);
        }
        return;
    }
    store_prune (self->store);
    for (size_t n = 0; n < count; n++) {
        self->requests [n] = self->group [n]->request;
        self->replies [n] = &self->group [n]->reply;
    }
    store_run_group (self->store, self->requests, self->replies, count);
    if (!store_usable (self->store))
        s_follow_leader (self);
    /*  Only now, after COMMIT, may any reply of the group leave. */
    for (size_t n = 0; n < count; n++) {
        self->held_ops -= self->group [n]->request->op_count;
        s_send_reply (self, self->group [n]);
        job_pool_give (&self->pool, &self->group [n]);
    }
}

void
frontend_set_auth (frontend_t *self, auth_t *auth)
{
    self->auth = auth;
}

int
frontend_run (frontend_t *self, int wake_fd, volatile sig_atomic_t *stop)
{
    self->wake_fd = wake_fd;
    self->stop = stop;
    self->last_request_us = stats_monotonic_us ();
    while (!self->draining || self->waiting.count || s_readers_in_flight (self) || self->backup_in_flight) {
        /*  Work waiting: look for more without blocking, then run it. */
        if (s_serve (self, self->waiting.count? 0: -1))
            return -1;
        if (self->waiting.count)
            s_run_group (self);
        s_publish (self);
    }
    return 0;
}
