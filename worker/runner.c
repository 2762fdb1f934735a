/*  runner -- a thread that owns one database connection and runs jobs. */

#include "runner.h"
#include "job.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

struct _runner_t {
    pthread_t thread;
    void *pipe;                 /* the runner's end of the PAIR */
    store_t *store;
    runner_options_t options;
    job_t **group;
    const proto_request_t **requests;
    msgpack_sbuffer **replies;
};

/*  Take one job pointer; flags as for zmq_recv. Returns 1 with *job_p set
    (NULL is the stop signal), 0 when none is waiting, -1 on failure. */
static int
s_take (runner_t *self, job_t **job_p, int flags)
{
    while (true) {
        int rc = zmq_recv (self->pipe, job_p, sizeof (*job_p), flags);
        if (rc == (int) sizeof (*job_p))
            return 1;
        if (rc == -1 && errno == EINTR)
            continue;
        if (rc == -1 && errno == EAGAIN)
            return 0;
        log_error ("runner: cannot read from the front end: %s", zmq_strerror (errno));
        return -1;
    }
}

/*  Add waiting jobs to the group behind the first, within the limits. */
static size_t
s_fill_group (runner_t *self, bool *stop_p)
{
    size_t count = 1;
    size_t bytes = zmq_msg_size (&self->group [0]->frames [self->group [0]->frame_count - 1]);
    bool waited = false;
    while (count < self->options.group_max && bytes < self->options.group_bytes) {
        job_t *job;
        int rc = s_take (self, &job, ZMQ_DONTWAIT);
        if (rc == 0 && self->options.group_wait_us > 0 && !waited) {
            /*  A short queue: give producers a moment to add to the group. */
            zmq_pollitem_t item = { self->pipe, 0, ZMQ_POLLIN, 0 };
            waited = true;
            if (zmq_poll (&item, 1, (self->options.group_wait_us + 999) / 1000) > 0)
                continue;
            break;
        }
        if (rc <= 0)
            break;
        if (!job) {
            *stop_p = true;
            break;
        }
        self->group [count++] = job;
        bytes += zmq_msg_size (&job->frames [job->frame_count - 1]);
    }
    return count;
}

static void *
s_runner_main (void *arg)
{
    runner_t *self = (runner_t *) arg;
    bool stop = false;
    while (!stop) {
        if (s_take (self, &self->group [0], 0) != 1 || !self->group [0])
            break;
        size_t count = s_fill_group (self, &stop);
        /*  Tell the front end how many jobs are running now, so it counts
            only the rest as waiting (a 4-byte message; jobs are pointers). */
        uint32_t running = (uint32_t) count;
        zmq_send (self->pipe, &running, sizeof (running), 0);
        store_prune (self->store);
        for (size_t n = 0; n < count; n++) {
            self->requests [n] = self->group [n]->request;
            self->replies [n] = &self->group [n]->reply;
        }
        store_run_group (self->store, self->requests, self->replies, count);
        /*  Only now, after COMMIT, may any reply of the group leave. */
        for (size_t n = 0; n < count; n++)
            while (zmq_send (self->pipe, &self->group [n], sizeof (job_t *), 0) == -1 && errno == EINTR)
                ;
    }
    return NULL;
}

runner_t *
runner_new (void *ctx, const char *endpoint, store_t **store_p, const runner_options_t *options)
{
    runner_t *self = calloc (1, sizeof (runner_t));
    if (!self)
        return NULL;
    self->options = *options;
    if (self->options.group_max < 1)
        self->options.group_max = 1;
    self->group = calloc (self->options.group_max, sizeof (job_t *));
    self->requests = calloc (self->options.group_max, sizeof (proto_request_t *));
    self->replies = calloc (self->options.group_max, sizeof (msgpack_sbuffer *));
    self->pipe = zmq_socket (ctx, ZMQ_PAIR);
    int unlimited = 0;
    if (!self->group || !self->requests || !self->replies || !self->pipe
    ||  zmq_setsockopt (self->pipe, ZMQ_SNDHWM, &unlimited, sizeof (unlimited))
    ||  zmq_setsockopt (self->pipe, ZMQ_RCVHWM, &unlimited, sizeof (unlimited))
    ||  zmq_connect (self->pipe, endpoint)) {
        log_error ("runner: cannot connect to %s: %s", endpoint, zmq_strerror (errno));
        goto failed;
    }
    self->store = *store_p;
    /*  Signals belong to the front end's thread, which drains on them. */
    sigset_t all, old;
    sigfillset (&all);
    pthread_sigmask (SIG_BLOCK, &all, &old);
    int rc = pthread_create (&self->thread, NULL, s_runner_main, self);
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    if (rc) {
        log_error ("runner: cannot start thread: %s", strerror (rc));
        self->store = NULL;
        goto failed;
    }
    *store_p = NULL;
    return self;

failed:
    if (self->pipe)
        zmq_close (self->pipe);
    free (self->group);
    free (self->requests);
    free (self->replies);
    free (self);
    return NULL;
}

void
runner_destroy (runner_t **self_p, void *pipe)
{
    if (!self_p || !*self_p)
        return;
    runner_t *self = *self_p;
    job_t *stop = NULL;
    zmq_send (pipe, &stop, sizeof (stop), 0);
    pthread_join (self->thread, NULL);
    zmq_close (self->pipe);
    store_destroy (&self->store);
    free (self->group);
    free (self->requests);
    free (self->replies);
    free (self);
    *self_p = NULL;
}
