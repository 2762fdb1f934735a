/*  frontend -- the thread that owns the ROUTER socket. */

#include "frontend.h"
#include "job.h"
#include "log.h"
#include "proto_reply.h"

#include <czmq.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Messages taken from the ROUTER per poll, so replies are not starved. */
#define RECV_BURST 256

#define MAX_PIPES (1 + CONFIG_MAX_READERS)

struct _frontend_t {
    void *router;
    void *pipes [MAX_PIPES];            /* [0] the writer, then the readers */
    char endpoints [MAX_PIPES] [48];
    uint32_t in_flight [MAX_PIPES];     /* jobs handed to each runner, not yet back */
    uint32_t running [MAX_PIPES];       /* of those, in the runner's current group */
    int pipe_count;
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

frontend_t *
frontend_new (void *ctx, const config_t *config, stats_t *stats, char *errbuf, size_t errlen)
{
    frontend_t *self = calloc (1, sizeof (frontend_t));
    if (!self) {
        snprintf (errbuf, errlen, "out of memory");
        return NULL;
    }
    self->config = config;
    self->stats = stats;
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
    self->pipe_count = 1 + config->readers;
    for (int n = 0; n < self->pipe_count; n++) {
        snprintf (self->endpoints [n], sizeof (self->endpoints [n]), "inproc://ledgerd-runner-%d", n);
        void *pipe = self->pipes [n] = zmq_socket (ctx, ZMQ_PAIR);
        /*  Unbounded here: the front end bounds what it hands over. */
        if (!pipe || s_set_int (pipe, ZMQ_LINGER, 0) || s_set_int (pipe, ZMQ_SNDHWM, 0)
        ||  s_set_int (pipe, ZMQ_RCVHWM, 0) || zmq_bind (pipe, self->endpoints [n])) {
            snprintf (errbuf, errlen, "cannot create sockets: %s", zmq_strerror (errno));
            goto failed;
        }
    }
    for (int n = 0; n < config->bind_count; n++)
        if (zmq_bind (self->router, config->binds [n])) {
            snprintf (errbuf, errlen, "cannot bind %s: %s", config->binds [n], zmq_strerror (errno));
            goto failed;
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
    if (self->router) {
        /*  Replies already queued get a second to reach their peers. */
        s_set_int (self->router, ZMQ_LINGER, 1000);
        zmq_close (self->router);
    }
    for (int n = 0; n < MAX_PIPES; n++)
        if (self->pipes [n])
            zmq_close (self->pipes [n]);
    free (self);
    *self_p = NULL;
}

const char *
frontend_pipe_endpoint (frontend_t *self, int index)
{
    return self->endpoints [index];
}

void *
frontend_pipe (frontend_t *self, int index)
{
    return self->pipes [index];
}

/*  Where a batch goes: the writer if it writes (or has no reader to go
    to), else the reader with the least work in hand. */
static int
s_choose_runner (frontend_t *self, const proto_request_t *request)
{
    if (request->writes || self->pipe_count == 1)
        return 0;
    int best = 1;
    for (int n = 2; n < self->pipe_count; n++)
        if (self->in_flight [n] < self->in_flight [best])
            best = n;
    return best;
}

static uint32_t
s_total_in_flight (frontend_t *self)
{
    uint32_t total = 0;
    for (int n = 0; n < self->pipe_count; n++)
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

/*  Answer a request the writer never sees. */
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
    job_t *job = job_new ();
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

static void
s_handle_request (frontend_t *self, job_t *job)
{
    proto_error_t err = { .klass = PROTO_CLASS_NONE };
    if (job->frame_count < 2) {
        job_destroy (&job);     /* a ROUTER always adds the identity frame */
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
    job->request = proto_request_new (zmq_msg_data (body), zmq_msg_size (body), self->config->max_ops);
    if (!job->request) {
        proto_error_set (&err, PROTO_CLASS_INTERNAL, -1, NULL, "NOMEM", "out of memory");
        goto reject;
    }
    if (proto_error_is_set (&job->request->error)) {
        err = job->request->error;
        goto reject;
    }
    int runner = s_choose_runner (self, job->request);
    /*  One running, max_queue waiting: past that, say so now rather than
        let the queue (and the latency of everyone in it) grow. */
    uint32_t waiting = self->in_flight [runner] - self->running [runner];
    if (waiting >= self->config->max_queue) {
        proto_error_set (&err, PROTO_CLASS_OVERLOADED, -1, NULL, "OVERLOADED",
                         "%u batches are waiting for the %s; retry later", waiting,
                         runner? "readers": "writer");
        goto reject;
    }
    if (zmq_send (self->pipes [runner], &job, sizeof (job), ZMQ_DONTWAIT) == -1) {
        proto_error_set (&err, PROTO_CLASS_INTERNAL, -1, NULL, "PIPE", "cannot reach the %s: %s",
                         runner? "reader": "writer", zmq_strerror (errno));
        goto reject;
    }
    self->in_flight [runner]++;
    return;

reject:
    s_reply_error (self, job, &err);
    job_destroy (&job);
}

static void
s_take_replies (frontend_t *self, int runner)
{
    union {
        job_t *job;
        uint32_t running;
    } message;
    int size;
    while ((size = zmq_recv (self->pipes [runner], &message, sizeof (message), ZMQ_DONTWAIT)) >= 0) {
        if (size == (int) sizeof (uint32_t)) {
            self->running [runner] = message.running;       /* a group starts */
            continue;
        }
        if (size != (int) sizeof (job_t *))
            continue;
        self->in_flight [runner]--;
        if (self->running [runner])
            self->running [runner]--;
        s_send_reply (self, message.job);
        job_destroy (&message.job);
    }
}

int
frontend_run (frontend_t *self, int wake_fd, volatile sig_atomic_t *stop)
{
    /*  [0..pipes) the runners, then the ROUTER, then the wake-up pipe. */
    zmq_pollitem_t items [MAX_PIPES + 2];
    int count = self->pipe_count;
    for (int n = 0; n < count; n++)
        items [n] = (zmq_pollitem_t) { self->pipes [n], 0, ZMQ_POLLIN, 0 };
    items [count] = (zmq_pollitem_t) { self->router, 0, ZMQ_POLLIN, 0 };
    items [count + 1] = (zmq_pollitem_t) { NULL, wake_fd, ZMQ_POLLIN, 0 };
    bool draining = false;
    while (!draining || s_total_in_flight (self) > 0) {
        if (*stop && !draining) {
            draining = true;
            log_info ("stopping: no new requests; finishing %u batches in flight", s_total_in_flight (self));
            continue;
        }
        items [count].events = draining? 0: ZMQ_POLLIN;
        if (zmq_poll (items, count + 2, -1) == -1) {
            if (errno == EINTR)
                continue;
            log_error ("poll failed: %s", zmq_strerror (errno));
            return -1;
        }
        if (items [count + 1].revents & ZMQ_POLLIN) {
            char drain [16];
            ssize_t drained = read (wake_fd, drain, sizeof (drain));
            (void) drained;
        }
        for (int n = 0; n < count; n++)
            if (items [n].revents & ZMQ_POLLIN)
                s_take_replies (self, n);
        if (items [count].revents & ZMQ_POLLIN)
            for (int n = 0; n < RECV_BURST && !*stop; n++) {
                job_t *job = s_receive (self);
                if (!job)
                    break;
                s_handle_request (self, job);
            }
    }
    return 0;
}
