/*  job -- one request on its way through the worker.

    The front end fills a job from a ROUTER message (envelope frames and the
    body) and decodes it; the writer's group or a reader thread appends the
    reply. The body frame stays alive with the job because the decoded
    request points into it. */

#ifndef WORKER_JOB_H
#define WORKER_JOB_H

#include "proto_request.h"

#include <msgpack.h>
#include <zmq.h>

/* Frames a peer may send in one request, envelope and body together; the
   ROUTER adds one more in front, the peer's identity. */
#define JOB_MAX_PEER_FRAMES 16
#define JOB_MAX_FRAMES (JOB_MAX_PEER_FRAMES + 1)

/* A body up to this size is copied out of its ZeroMQ frame: a small frame
   points into the 8 KB buffer libzmq read it with, and would keep all of
   it alive while the request waits. */
#define JOB_BODY_COPY_MAX 4096

typedef struct {
    zmq_msg_t frames [JOB_MAX_FRAMES];  /* routing envelope, then the body */
    size_t frame_count;                 /* frames held (at most JOB_MAX_FRAMES) */
    size_t frames_seen;                 /* frames received, held or not */
    size_t bytes_seen;                  /* bytes of the frames the peer sent */
    int fd;                             /* the connection it came from (ZMQ_SRCFD), or -1 */
    int64_t received_us;                /* monotonic clock when the front end took it */
    bool expired;                       /* a reader found it waited past --max-wait-ms */
    const uint8_t *body;                /* the body: in the last frame, or in copy */
    size_t body_size;
    uint8_t *copy;                      /* a small body, out of its frame */
    size_t copy_capacity;
    proto_request_t *request;           /* decoded body (points into body), or NULL before */
    proto_request_t *spare;             /* a request to decode into (job_pool_give) */
    msgpack_sbuffer reply;
} job_t;

/* A new empty job, or NULL if memory ran out. */
job_t *job_new (void);

/* Close the frames, free the request and reply; set *self_p to NULL. */
void job_destroy (job_t **self_p);

/* Jobs done with, kept for reuse by one thread: a job is a kilobyte of
   frames and a reply buffer, and the front end goes through one per
   request. */
#define JOB_POOL_MAX 256

typedef struct {
    job_t *jobs [JOB_POOL_MAX];
    size_t count;
} job_pool_t;

/* A job from the pool, emptied, or a new one; NULL if memory ran out. */
job_t *job_pool_take (job_pool_t *pool);

/* Empty the job (frames closed, reply cleared; a small decoded request is
   kept to be decoded into again) and keep it in the pool, or destroy it if
   the pool is full or its reply buffer grew large; set *job_p to NULL. */
void job_pool_give (job_pool_t *pool, job_t **job_p);

/* Destroy every job in the pool. */
void job_pool_empty (job_pool_t *pool);

#endif
