/*  job -- one request on its way through the worker. */

#include "job.h"

#include <stdlib.h>

job_t *
job_new (void)
{
    job_t *self = calloc (1, sizeof (job_t));
    if (self)
        msgpack_sbuffer_init (&self->reply);
    return self;
}

void
job_destroy (job_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    job_t *self = *self_p;
    for (size_t n = 0; n < self->frame_count; n++)
        zmq_msg_close (&self->frames [n]);
    proto_request_destroy (&self->request);
    proto_request_destroy (&self->spare);
    msgpack_sbuffer_destroy (&self->reply);
    free (self->copy);
    free (self);
    *self_p = NULL;
}

/* A reply buffer larger than this, or a decoded request with room for more
   ops than this, is freed rather than kept in the pool. */
#define JOB_POOL_REPLY_MAX (16 * 1024)
#define JOB_POOL_OPS_MAX 16

job_t *
job_pool_take (job_pool_t *pool)
{
    return pool->count? pool->jobs [--pool->count]: job_new ();
}

void
job_pool_give (job_pool_t *pool, job_t **job_p)
{
    job_t *job = *job_p;
    if (!job)
        return;
    *job_p = NULL;
    if (pool->count == JOB_POOL_MAX || job->reply.alloc > JOB_POOL_REPLY_MAX) {
        job_destroy (&job);
        return;
    }
    for (size_t n = 0; n < job->frame_count; n++)
        zmq_msg_close (&job->frames [n]);
    /*  A small request is kept aside to decode the next one into. It
        points into the frames just closed: it is not job->request, so
        nothing reads it before it is decoded again. */
    if (job->request && job->request->ops_capacity <= JOB_POOL_OPS_MAX && !job->spare) {
        job->spare = job->request;
        job->request = NULL;
    }
    proto_request_destroy (&job->request);
    job->frame_count = 0;
    job->frames_seen = 0;
    job->bytes_seen = 0;
    job->expired = false;
    job->body = NULL;
    job->body_size = 0;
    msgpack_sbuffer_clear (&job->reply);
    pool->jobs [pool->count++] = job;
}

void
job_pool_empty (job_pool_t *pool)
{
    while (pool->count)
        job_destroy (&pool->jobs [--pool->count]);
}
