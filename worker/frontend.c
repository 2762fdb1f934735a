/*  frontend -- the thread that owns the ROUTER socket and the writer's
    connection. */

#include "frontend.h"
#include "job.h"
#include "log.h"
#include "reader.h"
#include "proto_reply.h"

#include <czmq.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Messages taken from the ROUTER per poll, so replies are not starved. */
#define RECV_BURST 256

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

/*  Batches waiting for the writer, oldest first. */
typedef struct {
    job_t **jobs;
    size_t head;
    size_t count;
    size_t capacity;
} queue_t;

struct _frontend_t {
    void *router;
    store_t *store;                     /* the writer's connection */
    queue_t waiting;                    /* write batches not yet running */
    job_pool_t pool;                    /* jobs done with, for reuse */
    job_t **group;                      /* the group running, group_max long */
    const proto_request_t **requests;
    msgpack_sbuffer **replies;
    void *pipes [CONFIG_MAX_READERS];   /* one per reader */
    reader_t *readers [CONFIG_MAX_READERS];
    char endpoints [CONFIG_MAX_READERS] [48];
    uint32_t in_flight [CONFIG_MAX_READERS];    /* jobs handed to each reader, not yet back */
    size_t held_ops;                    /* ops taken and not yet answered */
    int reader_count;
    bool draining;                      /* stopping: no new requests */
    int wake_fd;
    volatile sig_atomic_t *stop;
    const config_t *config;
    stats_t *stats;
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
    /*  ZMQ_ZAP_ENFORCE_DOMAIN (a draft option in libzmq 4.3): where it
        exists, a client is refused if no ZAP handler answers. */
    s_set_int (router, 93, 1);
    zcert_destroy (&cert);
    return rc;
}

static void s_serve_while_busy (void *arg, int wait_ms);

frontend_t *
frontend_new (void *ctx, const config_t *config, stats_t *stats, store_t **writer_p,
              store_t **readers, char *errbuf, size_t errlen)
{
    frontend_t *self = calloc (1, sizeof (frontend_t));
    if (!self) {
        snprintf (errbuf, errlen, "out of memory");
        return NULL;
    }
    self->config = config;
    self->stats = stats;
    self->wake_fd = -1;
    size_t group_max = config->group_max? config->group_max: 1;
    self->group = calloc (group_max, sizeof (job_t *));
    self->requests = calloc (group_max, sizeof (proto_request_t *));
    self->replies = calloc (group_max, sizeof (msgpack_sbuffer *));
    if (!self->group || !self->requests || !self->replies) {
        snprintf (errbuf, errlen, "out of memory");
        goto failed;
    }
    self->router = zmq_socket (ctx, ZMQ_ROUTER);
    int64_t max_msg = config->max_msg_bytes;
    if (!self->router
    ||  s_set_int (self->router, ZMQ_ROUTER_MANDATORY, 1)
    ||  s_set_int (self->router, ZMQ_LINGER, 0)
    ||  zmq_setsockopt (self->router, ZMQ_MAXMSGSIZE, &max_msg, sizeof (max_msg))) {
        snprintf (errbuf, errlen, "cannot create sockets: %s", zmq_strerror (errno));
        goto failed;
    }
    if (config->curve_secret && s_curve_server (self->router, config->curve_secret, errbuf, errlen))
        goto failed;
    for (int n = 0; n < config->readers; n++) {
        snprintf (self->endpoints [n], sizeof (self->endpoints [n]), "inproc://ledgerd-reader-%d", n);
        void *pipe = self->pipes [n] = zmq_socket (ctx, ZMQ_PAIR);
        /*  Unbounded here: the front end bounds what it hands over. */
        if (!pipe || s_set_int (pipe, ZMQ_LINGER, 0) || s_set_int (pipe, ZMQ_SNDHWM, 0)
        ||  s_set_int (pipe, ZMQ_RCVHWM, 0) || zmq_bind (pipe, self->endpoints [n])) {
            snprintf (errbuf, errlen, "cannot create sockets: %s", zmq_strerror (errno));
            goto failed;
        }
        if (!(self->readers [n] = reader_new (ctx, self->endpoints [n], &readers [n], config->reader_nice))) {
            snprintf (errbuf, errlen, "cannot start reader %d", n);
            goto failed;
        }
        self->reader_count++;
    }
    for (int n = 0; n < config->bind_count; n++)
        if (zmq_bind (self->router, config->binds [n])) {
            snprintf (errbuf, errlen, "cannot bind %s: %s", config->binds [n], zmq_strerror (errno));
            goto failed;
        }
    self->store = *writer_p;
    *writer_p = NULL;
    store_set_busy_handler (self->store, s_serve_while_busy, self);
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
    store_destroy (&self->store);
    for (size_t n = 0; n < self->waiting.count; n++)
        job_destroy (&self->waiting.jobs [self->waiting.head + n]);
    free (self->waiting.jobs);
    job_pool_empty (&self->pool);
    free (self->group);
    free (self->requests);
    free (self->replies);
    if (self->router) {
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
    uint32_t total = 0;
    for (int n = 0; n < self->reader_count; n++)
        total += self->in_flight [n];
    return total;
}

/*  Send the reply behind the request's routing envelope, without blocking. */
static void
s_send_reply (frontend_t *self, job_t *job)
{
    size_t envelope = job->frame_count - 1;
    for (size_t n = 0; n < envelope; n++)
        if (zmq_msg_send (&job->frames [n], self->router, ZMQ_SNDMORE | ZMQ_DONTWAIT) == -1)
            goto dropped;
    if (zmq_send (self->router, job->reply.data, job->reply.size, ZMQ_DONTWAIT) == -1)
        goto dropped;
    return;

dropped:
    atomic_fetch_add (&self->stats->replies_dropped, 1);
    log_debug ("reply dropped: %s", zmq_strerror (errno));
}

/*  Answer a request that is not run. */
static void
s_reply_error (frontend_t *self, job_t *job, const proto_error_t *err)
{
    proto_reply_error (&job->reply, job->request, err);
    stats_count_batch (self->stats, err->klass);
    s_send_reply (self, job);
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
    job_t *job = job_pool_take (&self->pool);
    while (true) {
        bool more = zmq_msg_more (&part);
        if (job) {
            /*  Frame 0 is the identity the ROUTER added, not the peer's. */
            if (job->frames_seen++ > 0)
                job->bytes_seen += zmq_msg_size (&part);
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
    if (!job)
        log_error ("out of memory: request dropped");
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

/*  Check a request and queue it: for the writer if it writes (or there is
    no reader), else for the least loaded reader. Anything refused is
    answered here. */
static void
s_handle_request (frontend_t *self, job_t *job)
{
    proto_error_t err = { .klass = PROTO_CLASS_NONE };
    if (job->frame_count < 2) {
        job_pool_give (&self->pool, &job);     /* a ROUTER always adds the identity frame */
        return;
    }
    if (job->frames_seen > JOB_MAX_FRAMES) {
        proto_error_set (&err, PROTO_CLASS_PROTOCOL, -1, NULL, "TOO_MANY_FRAMES",
                         "%zu frames in one message; at most %d (envelope and body)",
                         job->frames_seen - 1, JOB_MAX_PEER_FRAMES);
        goto reject;
    }
    if (job->bytes_seen > (size_t) self->config->max_msg_bytes) {
        proto_error_set (&err, PROTO_CLASS_TOO_LARGE, -1, NULL, "MESSAGE_TOO_LARGE",
                         "%zu bytes in one message; this worker takes at most %lld",
                         job->bytes_seen, (long long) self->config->max_msg_bytes);
        goto reject;
    }
    zmq_msg_t *body = &job->frames [job->frame_count - 1];
    job->request = job->spare;      /* decode into a pooled request, if the job has one */
    job->spare = NULL;
    if (!proto_request_decode (&job->request, zmq_msg_data (body), zmq_msg_size (body), self->config->max_ops)) {
        proto_error_set (&err, PROTO_CLASS_INTERNAL, -1, NULL, "NOMEM", "out of memory");
        goto reject;
    }
    if (proto_error_is_set (&job->request->error)) {
        err = job->request->error;
        goto reject;
    }
    /*  One running, max_queue waiting: past that, say so now rather than
        let the queue (and the latency of everyone in it) grow. */
    size_t ops = job->request->op_count;
    if (self->held_ops > 0 && self->held_ops + ops > HELD_OPS_MAX) {
        proto_error_set (&err, PROTO_CLASS_OVERLOADED, -1, NULL, "OVERLOADED",
                         "%zu ops are waiting or running; retry later", self->held_ops);
        goto reject;
    }
    if (job->request->writes || self->reader_count == 0) {
        if (self->waiting.count >= self->config->max_queue) {
            proto_error_set (&err, PROTO_CLASS_OVERLOADED, -1, NULL, "OVERLOADED",
                             "%zu batches are waiting for the writer; retry later", self->waiting.count);
            goto reject;
        }
        if (s_queue_push (&self->waiting, job)) {
            proto_error_set (&err, PROTO_CLASS_INTERNAL, -1, NULL, "NOMEM", "out of memory");
            goto reject;
        }
        self->held_ops += ops;
        return;
    }
    int reader = s_choose_reader (self);
    uint32_t waiting = self->in_flight [reader]? self->in_flight [reader] - 1: 0;
    if (waiting >= self->config->max_queue) {
        proto_error_set (&err, PROTO_CLASS_OVERLOADED, -1, NULL, "OVERLOADED",
                         "%u batches are waiting for the readers; retry later", waiting);
        goto reject;
    }
    if (zmq_send (self->pipes [reader], &job, sizeof (job), ZMQ_DONTWAIT) == -1) {
        proto_error_set (&err, PROTO_CLASS_INTERNAL, -1, NULL, "PIPE", "cannot reach the reader: %s",
                         zmq_strerror (errno));
        goto reject;
    }
    self->in_flight [reader]++;
    self->held_ops += ops;
    return;

reject:
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
        s_send_reply (self, job);
        job_pool_give (&self->pool, &job);
    }
}

/*  Wait up to timeout_ms (-1: for ever) for something to do, then do it:
    take readers' replies and send them, receive requests (not once
    stopping) and queue them. Runs no write. Returns -1 if polling fails. */
static int
s_serve (frontend_t *self, int timeout_ms)
{
    /*  [0..readers) the readers' pipes, then the ROUTER, then the wake-up pipe. */
    zmq_pollitem_t items [CONFIG_MAX_READERS + 2];
    int count = self->reader_count;
    for (int n = 0; n < count; n++)
        items [n] = (zmq_pollitem_t) { self->pipes [n], 0, ZMQ_POLLIN, 0 };
    items [count] = (zmq_pollitem_t) { self->router, 0, self->draining? 0: ZMQ_POLLIN, 0 };
    items [count + 1] = (zmq_pollitem_t) { NULL, self->wake_fd, ZMQ_POLLIN, 0 };
    if (zmq_poll (items, count + 2, timeout_ms) == -1) {
        if (errno == EINTR)
            return 0;
        log_error ("poll failed: %s", zmq_strerror (errno));
        return -1;
    }
    if (items [count + 1].revents & ZMQ_POLLIN) {
        char drain [16];
        ssize_t drained = read (self->wake_fd, drain, sizeof (drain));
        (void) drained;
    }
    if (*self->stop && !self->draining) {
        self->draining = true;
        log_info ("stopping: no new requests; finishing %zu batches in flight",
                  self->waiting.count + s_readers_in_flight (self));
    }
    for (int n = 0; n < count; n++)
        if (items [n].revents & ZMQ_POLLIN)
            s_take_replies (self, n);
    if ((items [count].revents & ZMQ_POLLIN) && !self->draining)
        for (int n = 0; n < RECV_BURST; n++) {
            job_t *job = s_receive (self);
            if (!job)
                break;
            s_handle_request (self, job);
        }
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
    to --group-max and the byte budget, then send their replies. */
static void
s_run_group (frontend_t *self)
{
    if (self->config->group_wait_us > 0 && self->waiting.count < self->config->group_max && !self->draining)
        /*  A short queue: give producers a moment to add to the group. */
        s_serve (self, (self->config->group_wait_us + 999) / 1000);
    size_t count = 0;
    size_t bytes = 0;
    size_t ops = 0;
    while (self->waiting.count && count < self->config->group_max && bytes < GROUP_BYTES && ops < GROUP_OPS) {
        job_t *job = self->group [count++] = s_queue_pop (&self->waiting);
        bytes += zmq_msg_size (&job->frames [job->frame_count - 1]);
        ops += job->request->op_count;
    }
    store_prune (self->store);
    for (size_t n = 0; n < count; n++) {
        self->requests [n] = self->group [n]->request;
        self->replies [n] = &self->group [n]->reply;
    }
    store_run_group (self->store, self->requests, self->replies, count);
    /*  Only now, after COMMIT, may any reply of the group leave. */
    for (size_t n = 0; n < count; n++) {
        self->held_ops -= self->group [n]->request->op_count;
        s_send_reply (self, self->group [n]);
        job_pool_give (&self->pool, &self->group [n]);
    }
}

int
frontend_run (frontend_t *self, int wake_fd, volatile sig_atomic_t *stop)
{
    self->wake_fd = wake_fd;
    self->stop = stop;
    while (!self->draining || self->waiting.count || s_readers_in_flight (self)) {
        /*  Work waiting: look for more without blocking, then run it. */
        if (s_serve (self, self->waiting.count? 0: -1))
            return -1;
        if (self->waiting.count)
            s_run_group (self);
    }
    return 0;
}
