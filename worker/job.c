/*  job -- one request on its way through the worker. */

#include "job.h"

#include <stdlib.h>
#include <string.h>

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
    proto_request_destroy (&self->spare_);
    msgpack_sbuffer_destroy (&self->reply);
    free (self->copy_);
    free (self);
    *self_p = NULL;
}

/*  Point self->body at the body frame, or at a copy of it if it is small:
    the frame of a small message shares libzmq's read buffer with others,
    and would keep it alive for as long as the request waits. Returns -1
    if memory ran out. */
static int
s_take_body (job_t *self)
{
    zmq_msg_t *frame = &self->frames [self->frame_count - 1];
    size_t size = zmq_msg_size (frame);
    if (size > JOB_BODY_COPY_MAX || size == 0) {
        self->body = zmq_msg_data (frame);
        self->body_size = size;
        return 0;
    }
    if (self->copy_capacity_ < size) {
        size_t capacity = (size + 255) & ~(size_t) 255;
        uint8_t *copy = realloc (self->copy_, capacity);
        if (!copy)
            return -1;
        self->copy_ = copy;
        self->copy_capacity_ = capacity;
    }
    memcpy (self->copy_, zmq_msg_data (frame), size);
    zmq_msg_close (frame);
    zmq_msg_init (frame);
    self->body = self->copy_;
    self->body_size = size;
    return 0;
}

int
job_decode (job_t *self, uint32_t max_ops)
{
    if (s_take_body (self))
        return -1;
    /*  The spare's strings dangle; proto_request_decode reads none of
        them, and overwrites all but the op array. */
    proto_request_destroy (&self->request);
    self->request = self->spare_;
    self->spare_ = NULL;
    return proto_request_decode (&self->request, self->body, self->body_size, max_ops)? 0: -1;
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
    /*  The request leaves job->request before the frames it points into
        are closed: a small one is kept aside, private, for job_decode. */
    if (job->request && job->request->ops_capacity <= JOB_POOL_OPS_MAX && !job->spare_) {
        job->spare_ = job->request;
        job->request = NULL;
    }
    proto_request_destroy (&job->request);
    job->body = NULL;
    job->body_size = 0;
    for (size_t n = 0; n < job->frame_count; n++)
        zmq_msg_close (&job->frames [n]);
    job->frame_count = 0;
    job->frames_seen = 0;
    job->bytes_seen = 0;
    job->expired = false;
    msgpack_sbuffer_clear (&job->reply);
    pool->jobs [pool->count++] = job;
}

void
job_pool_empty (job_pool_t *pool)
{
    while (pool->count)
        job_destroy (&pool->jobs [--pool->count]);
}
