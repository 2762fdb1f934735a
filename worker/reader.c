/*  reader -- a thread that runs read-only batches on its own connection. */

#include "reader.h"
#include "job.h"
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

struct _reader_t {
    pthread_t thread;
    void *pipe;                 /* the reader's end of the PAIR */
    store_t *store;
    int nice;
    int64_t max_wait_us;        /* a batch older than this is not run */
};

static void *
s_reader_main (void *arg)
{
    reader_t *self = (reader_t *) arg;
    /*  Writes come first. The writer is one thread that every producer
        waits on, and readers scale out; on a machine short of CPU, a flood
        of queries should slow the queries, not the writes. Linux gives each
        thread its own nice value, so this lowers this thread alone. Raising
        it needs no privilege; if it fails the reader just runs as is. */
    if (reader_lower_priority (self->nice))
        log_warn ("reader.nice_failed", "reader: cannot lower its CPU priority: %s", strerror (errno));
    while (true) {
        job_t *job;
        int rc = zmq_recv (self->pipe, &job, sizeof (job), 0);
        if (rc == -1 && errno == EINTR)
            continue;
        if (rc != (int) sizeof (job)) {
            log_error ("reader.pipe_failed", "reader: cannot read from the front end: %s", zmq_strerror (errno));
            break;
        }
        if (!job)
            break;              /* the stop signal */
        /*  Its producer has most likely given up: the front end answers
            it `overloaded` instead. */
        job->expired = stats_monotonic_us () - job->received_us > self->max_wait_us;
        if (!job->expired)
            store_run (self->store, job->request, &job->reply);
        while (zmq_send (self->pipe, &job, sizeof (job), 0) == -1 && errno == EINTR)
            ;
    }
    return NULL;
}

int
reader_lower_priority (int nice)
{
    if (nice <= 0)
        return 0;
    errno = 0;
    int writer = getpriority (PRIO_PROCESS, 0);         /* the process's, as the writer runs */
    int target = (errno? 0: writer) + nice;
    return setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), target < 19? target: 19);
}

reader_t *
reader_new (void *ctx, const char *endpoint, store_t **store_p, int nice, int max_wait_ms,
            char *errbuf, size_t errlen)
{
    reader_t *self = calloc (1, sizeof (reader_t));
    if (!self) {
        snprintf (errbuf, errlen, "out of memory");
        return NULL;
    }
    self->pipe = zmq_socket (ctx, ZMQ_PAIR);
    int unlimited = 0;
    if (!self->pipe
    ||  zmq_setsockopt (self->pipe, ZMQ_SNDHWM, &unlimited, sizeof (unlimited))
    ||  zmq_setsockopt (self->pipe, ZMQ_RCVHWM, &unlimited, sizeof (unlimited))
    ||  zmq_connect (self->pipe, endpoint)) {
        snprintf (errbuf, errlen, "cannot connect to %s: %s", endpoint, zmq_strerror (errno));
        goto failed;
    }
    self->store = *store_p;
    self->nice = nice;
    self->max_wait_us = (int64_t) max_wait_ms * 1000;
    /*  Signals belong to the front end's thread, which drains on them. */
    sigset_t all, old;
    sigfillset (&all);
    pthread_sigmask (SIG_BLOCK, &all, &old);
    int rc = pthread_create (&self->thread, NULL, s_reader_main, self);
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    if (rc) {
        snprintf (errbuf, errlen, "cannot start its thread: %s", strerror (rc));
        self->store = NULL;
        goto failed;
    }
    *store_p = NULL;
    return self;

failed:
    if (self->pipe)
        zmq_close (self->pipe);
    free (self);
    return NULL;
}

void
reader_destroy (reader_t **self_p, void *pipe)
{
    if (!self_p || !*self_p)
        return;
    reader_t *self = *self_p;
    job_t *stop = NULL;
    zmq_send (pipe, &stop, sizeof (stop), 0);
    pthread_join (self->thread, NULL);
    zmq_close (self->pipe);
    store_destroy (&self->store);
    free (self);
    *self_p = NULL;
}
