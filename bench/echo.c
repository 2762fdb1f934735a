/*  echo -- the floor under a round trip: a bare ZeroMQ echo. */

#include "echo.h"
#include "signals.h"
#include "timing.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define S_WARMUP 1000

/*  Echo every [identity, body] back until the context is shut down. */
static void *
s_echo_main (void *router)
{
    zmq_msg_t identity, body;
    zmq_msg_init (&identity);
    zmq_msg_init (&body);
    while (zmq_msg_recv (&identity, router, 0) >= 0 && zmq_msg_more (&identity)
       &&  zmq_msg_recv (&body, router, 0) >= 0) {
        if (zmq_msg_send (&identity, router, ZMQ_SNDMORE) < 0 || zmq_msg_send (&body, router, 0) < 0)
            break;
    }
    zmq_msg_close (&identity);
    zmq_msg_close (&body);
    zmq_close (router);
    return NULL;
}

/*  One round trip of size bytes from buffer. Returns 0, or -1. */
static int
s_round_trip (void *dealer, char *buffer, size_t size)
{
    if (zmq_send (dealer, buffer, size, 0) != (int) size)
        return -1;
    int got = zmq_recv (dealer, buffer, size, 0);
    return got == (int) size? 0: -1;
}

int
echo_run (size_t size, double duration_s, uint64_t count, tally_t *tally, tally_live_t *live,
          char *errbuf, size_t errlen)
{
    void *ctx = zmq_ctx_new ();
    void *router = ctx? zmq_socket (ctx, ZMQ_ROUTER): NULL;
    void *dealer = ctx? zmq_socket (ctx, ZMQ_DEALER): NULL;
    char *buffer = calloc (1, size);
    char endpoint [256];
    size_t endpoint_size = sizeof (endpoint);
    int linger = 0;
    int timeout_ms = 5000;
    pthread_t thread;
    bool thread_started = false;
    int rc = -1;
    if (!ctx || !router || !dealer || !buffer) {
        snprintf (errbuf, errlen, "echo: cannot make sockets: %s", zmq_strerror (zmq_errno ()));
        goto done;
    }
    memset (buffer, 'x', size);
    if (zmq_setsockopt (dealer, ZMQ_LINGER, &linger, sizeof (linger))
    ||  zmq_setsockopt (router, ZMQ_LINGER, &linger, sizeof (linger))
    ||  zmq_setsockopt (dealer, ZMQ_RCVTIMEO, &timeout_ms, sizeof (timeout_ms))
    ||  zmq_bind (router, "tcp://127.0.0.1:*")
    ||  zmq_getsockopt (router, ZMQ_LAST_ENDPOINT, endpoint, &endpoint_size)
    ||  zmq_connect (dealer, endpoint)) {
        snprintf (errbuf, errlen, "echo: cannot set up the sockets: %s", zmq_strerror (zmq_errno ()));
        goto done;
    }
    if (pthread_create (&thread, NULL, s_echo_main, router)) {
        snprintf (errbuf, errlen, "echo: cannot start the echo thread");
        goto done;
    }
    thread_started = true;
    router = NULL;              /* the thread closes it */
    for (int n = 0; n < S_WARMUP; n++)
        if (s_round_trip (dealer, buffer, size)) {
            snprintf (errbuf, errlen, "echo: warm-up round trip failed: %s", zmq_strerror (zmq_errno ()));
            goto done;
        }
    int64_t start_ns = timing_now_ns ();
    int64_t deadline_ns = count? 0: start_ns + (int64_t) (duration_s * 1e9);
    tally->started_ns = start_ns;
    for (uint64_t done = 0; !signals_stopped (); done++) {
        int64_t sent_ns = timing_now_ns ();
        if ((count && done >= count) || (deadline_ns && sent_ns >= deadline_ns))
            break;
        if (s_round_trip (dealer, buffer, size)) {
            snprintf (errbuf, errlen, "echo: round trip failed: %s", zmq_strerror (zmq_errno ()));
            tally->errors [TALLY_LOCAL]++;
            goto done;
        }
        int64_t now = timing_now_ns ();
        histogram_record (&tally->latency, now - sent_ns);
        tally->finished_ns = now;
        tally->batches_ok++;
        tally_live_count (live, true);
    }
    rc = 0;
done:
    if (dealer)
        zmq_close (dealer);
    if (router)
        zmq_close (router);
    if (ctx) {
        zmq_ctx_shutdown (ctx);         /* ends the echo thread's receive */
        if (thread_started)
            pthread_join (thread, NULL);
        zmq_ctx_term (ctx);
    }
    free (buffer);
    return rc;
}
