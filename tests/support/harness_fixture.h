/*  harness_fixture -- a fresh worker (--sync normal) and a REQ socket to it,
    for TEST_RUN_F: s_setup, s_teardown, and s_call, which takes a new REQ
    socket after a call that timed out. Include after testing.h: teardown
    checks, with its CHECK_INT, that the worker stopped cleanly -- a crash
    or a non-zero exit fails the test that caused it. Each test starts from
    an empty database, so names start from nothing and a test that breaks
    its worker breaks no other. */

#ifndef HARNESS_FIXTURE_H
#define HARNESS_FIXTURE_H

#include "harness_wire.h"
#include "worker_harness.h"

#include <stdlib.h>

typedef struct {
    harness_t *worker;
    zsock_t *req;
} fixture_t;

static inline fixture_t *
s_setup (void)
{
    fixture_t *f = calloc (1, sizeof *f);
    if (!f)
        return NULL;
    f->worker = harness_start ("--sync", "normal", NULL);
    f->req = f->worker? harness_req (f->worker): NULL;
    if (!f->req) {
        harness_stop (&f->worker, false);
        free (f);
        return NULL;
    }
    return f;
}

static inline void
s_teardown (fixture_t **f_p)
{
    fixture_t *f = *f_p;
    zsock_destroy (&f->req);
    if (TEST_FAILING ())
        harness_dump_log (f->worker);
    CHECK_INT (harness_stop (&f->worker, false), 0);
    free (f);
    *f_p = NULL;
}

/*  The reply, or an empty object when none came (harness_call said why). */
static inline json_t *
s_call (fixture_t *f, const char *json_text)
{
    json_t *reply = harness_call (f->req, json_text);
    if (!reply) {
        /*  A timed-out REQ socket is stuck: take a new one. */
        zsock_destroy (&f->req);
        f->req = harness_req (f->worker);
        reply = json_object ();
    }
    return reply;
}

#endif
