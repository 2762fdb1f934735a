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
    msgpack_sbuffer_destroy (&self->reply);
    free (self);
    *self_p = NULL;
}
