/*  harness_wire -- talk to a worker over ZeroMQ as its clients do, and as
    they never could.

    Requests and replies are JSON on this side and msgpack on the wire (see
    proto_json): harness_call and its kin send one request and wait for its
    reply. Beneath them are the steps they are made of (connect, send a
    body, wait, receive and decode a reply), for tests that pipeline or
    need to watch something else while they wait. harness_zmtp_connect
    gives a raw TCP peer that writes its own frames.

    Every call that waits does so for at most a few seconds and says on
    stderr why it gave up, so a broken worker fails a test instead of
    hanging it. */

#ifndef HARNESS_WIRE_H
#define HARNESS_WIRE_H

#include <stddef.h>

#include <czmq.h>
#include <jansson.h>

/* The worker process (worker_harness.h). */
typedef struct _harness_t harness_t;

/* Return a new REQ socket connected to the worker, with linger 0 and 5 s
   send and receive timeouts, or NULL on failure. The caller destroys it with
   zsock_destroy. After a call that timed out, a REQ socket is stuck waiting
   for its reply: destroy it and take a new one. */
zsock_t *harness_req (harness_t *worker);

/* Return a new DEALER socket connected to the worker, set up as harness_req
   does. A DEALER sends no envelope of its own, so to look like a REQ peer a
   test sends an empty delimiter frame before the body, and receives one. */
zsock_t *harness_dealer (harness_t *worker);

/* Send a request written as JSON text (encoded to msgpack, one frame) over
   the REQ socket req and wait up to 5 s for the reply. Returns the reply
   decoded as JSON, which the caller releases with json_decref, or NULL (with
   the reason on stderr) if the text is not JSON, the send fails, no reply
   comes in time, or the reply is not exactly one frame holding one msgpack
   value JSON can show. */
json_t *harness_call (zsock_t *req, const char *json_text);

/* Format the JSON text printf-style, then do what harness_call does. */
json_t *harness_callf (zsock_t *req, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

/* Send size bytes at data as the body, unencoded, over the REQ socket req,
   and return the reply as harness_call does: for malformed-input tests. */
json_t *harness_call_raw (zsock_t *req, const void *data, size_t size);

/* Return a new socket of type (ZMQ_REQ, ZMQ_DEALER, ...) connected to
   endpoint, with linger 0 and timeout_ms for sends and receives, or NULL
   with the reason on stderr. The caller destroys it with zsock_destroy. */
zsock_t *harness_connect (const char *endpoint, int type, int timeout_ms);

/* Send size bytes at data (borrowed) as one frame. Returns 0, or -1 with
   the reason on stderr. */
int harness_send_body (zsock_t *sock, const void *data, size_t size);

/* Wait up to timeout_ms for sock to have a message. Returns 1 if it has,
   0 on timeout, -1 (with the reason on stderr) on error or Ctrl-C. */
int harness_poll_in (zsock_t *sock, int timeout_ms);

/* Receive one waiting reply and decode it. Returns the reply, which the
   caller releases with json_decref, or NULL (with the reason on stderr) if
   it is not one frame holding one msgpack value JSON can show. */
json_t *harness_recv_reply (zsock_t *sock);

/* A TCP socket connected to endpoint (tcp://127.0.0.1:PORT) that has
   spoken ZMTP 3.0's greeting and READY by hand, as a DEALER with the NULL
   mechanism, and read the worker's greeting (5 s at most): a peer that can
   write frames libzmq would never let a client send. The caller closes it.
   -1 on failure. */
int harness_zmtp_connect (const char *endpoint);

#endif
