/*  job -- one request on its way through the worker.

    The front end fills a job from a ROUTER message (envelope frames and the
    body) and decodes it with job_decode; the writer's group or a reader
    thread appends the reply. The decoded request borrows the body (its
    strings point into it), and the body lives in the job's frames or its
    copy: both stay valid until the job is given back to the pool or
    destroyed, and not a moment longer. */

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
    const uint8_t *body;                /* after job_decode: in the last frame, or in copy_ */
    size_t body_size;
    proto_request_t *request;           /* after job_decode: the decoded body, borrowing it */
    msgpack_sbuffer reply;
    /*  Private to job.c. */
    uint8_t *copy_;                     /* a small body, out of its frame */
    size_t copy_capacity_;
    proto_request_t *spare_;            /* a pooled job's last request, kept for its op array:
                                           its strings point into frames closed since, so
                                           nothing but job_decode's decode may use it */
} job_t;

/* A new empty job, or NULL if memory ran out. */
job_t *job_new (void);

/* Close the frames, free the request and reply; set *self_p to NULL. */
void job_destroy (job_t **self_p);

/* Take the body (the last frame) and decode it into job->request,
   allowing at most max_ops ops, into the op array of the job's last
   request when it has one. A small body is copied out of its frame first
   (see JOB_BODY_COPY_MAX): read the frame's metadata before this call.
   Returns 0, or -1 if memory ran out. A request that cannot run says so
   in job->request->error; that is still 0. */
int job_decode (job_t *self, uint32_t max_ops);

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

/* Take the job back: *job_p becomes NULL, and with it goes everything the
   caller may still hold of the job -- the request and its strings, the
   body, the reply's bytes -- since the frames they live in are closed
   here. The job is emptied and kept for job_pool_take, or destroyed if
   the pool is full or its reply buffer grew large. */
void job_pool_give (job_pool_t *pool, job_t **job_p);

/* Destroy every job in the pool. */
void job_pool_empty (job_pool_t *pool);

#endif
