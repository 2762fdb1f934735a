/*  harness_wire -- talk to a worker over ZeroMQ, JSON on this side and
    msgpack on the wire. */

#include "harness_wire.h"
#include "worker_harness.h"

#include "proto_json.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* How long a call waits for its reply. */
#define S_CALL_TIMEOUT_MS   5000

int
harness_zmtp_connect (const char *endpoint)
{
    const char *colon = strrchr (endpoint, ':');
    int port = colon? atoi (colon + 1): 0;
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port),
                                   .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    if (fd < 0 || connect (fd, (struct sockaddr *) &address, sizeof (address))) {
        if (fd >= 0)
            close (fd);
        return -1;
    }
    uint8_t greeting [64] = { 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 0, 'N', 'U', 'L', 'L' };
    static const uint8_t ready [] = {
        0x04, 28, 5, 'R', 'E', 'A', 'D', 'Y',
        11, 'S', 'o', 'c', 'k', 'e', 't', '-', 'T', 'y', 'p', 'e', 0, 0, 0, 6, 'D', 'E', 'A', 'L', 'E', 'R' };
    uint8_t theirs [64];
    struct timeval handshake = { .tv_sec = 5 };
    if (setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &handshake, sizeof (handshake))
    ||  send (fd, greeting, sizeof (greeting), MSG_NOSIGNAL) != (ssize_t) sizeof (greeting)
    ||  send (fd, ready, sizeof (ready), MSG_NOSIGNAL) != (ssize_t) sizeof (ready)
    ||  recv (fd, theirs, sizeof (theirs), MSG_WAITALL) != (ssize_t) sizeof (theirs)) {
        close (fd);
        return -1;
    }
    return fd;
}

zsock_t *
harness_connect (const char *endpoint, int type, int timeout_ms)
{
    zsock_t *sock = zsock_new (type);
    if (!sock) {
        fprintf (stderr, "harness: cannot create a socket: %s\n", zmq_strerror (zmq_errno ()));
        return NULL;
    }
    zsock_set_linger (sock, 0);
    zsock_set_sndtimeo (sock, timeout_ms);
    zsock_set_rcvtimeo (sock, timeout_ms);
    if (zsock_connect (sock, "%s", endpoint)) {
        fprintf (stderr, "harness: cannot connect to %s: %s\n", endpoint, zmq_strerror (zmq_errno ()));
        zsock_destroy (&sock);
    }
    return sock;
}

int
harness_poll_in (zsock_t *sock, int timeout_ms)
{
    int64_t deadline = zclock_mono () + timeout_ms;
    while (true) {
        zmq_pollitem_t item = { zsock_resolve (sock), 0, ZMQ_POLLIN, 0 };
        int64_t left = deadline - zclock_mono ();
        int rc = zmq_poll (&item, 1, left > 0? (long) left: 0);
        if (rc >= 0)
            return rc > 0? 1: 0;
        if (zmq_errno () != EINTR || zsys_interrupted) {
            fprintf (stderr, "harness: poll: %s\n",
                     zsys_interrupted? "interrupted": zmq_strerror (zmq_errno ()));
            return -1;
        }
    }
}

int
harness_send_body (zsock_t *sock, const void *data, size_t size)
{
    zframe_t *frame = zframe_new (data, size);
    if (!frame) {
        fprintf (stderr, "harness: out of memory\n");
        return -1;
    }
    int rc = zframe_send (&frame, sock, 0);
    if (rc)
        fprintf (stderr, "harness: cannot send: %s\n", zmq_strerror (zmq_errno ()));
    //  zframe_send keeps the frame when it fails.
    zframe_destroy (&frame);
    return rc;
}

json_t *
harness_recv_reply (zsock_t *sock)
{
    zmsg_t *msg = zmsg_recv (sock);
    if (!msg) {
        fprintf (stderr, "harness: cannot receive: %s\n", zmq_strerror (zmq_errno ()));
        return NULL;
    }
    json_t *reply = NULL;
    if (zmsg_size (msg) != 1)
        fprintf (stderr, "harness: the reply has %zu frames, not 1\n", zmsg_size (msg));
    else {
        zframe_t *frame = zmsg_first (msg);
        char errbuf [256];
        reply = proto_json_from_msgpack (zframe_data (frame), zframe_size (frame),
                                         errbuf, sizeof errbuf);
        if (!reply)
            fprintf (stderr, "harness: the reply (%zu bytes) does not decode: %s\n",
                     zframe_size (frame), errbuf);
    }
    zmsg_destroy (&msg);
    return reply;
}

/*  Send a body and wait up to S_CALL_TIMEOUT_MS for the reply. */
static json_t *
s_exchange (zsock_t *req, const void *data, size_t size)
{
    if (harness_send_body (req, data, size))
        return NULL;
    int rc = harness_poll_in (req, S_CALL_TIMEOUT_MS);
    if (rc == 0)
        fprintf (stderr, "harness: no reply within %d ms\n", S_CALL_TIMEOUT_MS);
    return rc > 0? harness_recv_reply (req): NULL;
}

zsock_t *
harness_req (harness_t *worker)
{
    assert (worker);
    return harness_connect (harness_endpoint (worker), ZMQ_REQ, S_CALL_TIMEOUT_MS);
}

zsock_t *
harness_dealer (harness_t *worker)
{
    assert (worker);
    return harness_connect (harness_endpoint (worker), ZMQ_DEALER, S_CALL_TIMEOUT_MS);
}

json_t *
harness_call (zsock_t *req, const char *json_text)
{
    assert (req);
    assert (json_text);
    //  Duplicate keys are refused rather than silently merged: a test that
    //  means to send them must build the bytes for harness_call_raw.
    json_error_t error;
    json_t *request = json_loads (json_text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &error);
    if (!request) {
        fprintf (stderr, "harness: the request is not JSON (line %d, column %d: %s): %s\n",
                 error.line, error.column, error.text, json_text);
        return NULL;
    }
    char *data = NULL;
    size_t size = 0;
    char errbuf [256];
    int rc = proto_json_to_msgpack (request, &data, &size, errbuf, sizeof errbuf);
    json_decref (request);
    if (rc) {
        fprintf (stderr, "harness: cannot encode the request: %s\n", errbuf);
        return NULL;
    }
    json_t *reply = s_exchange (req, data, size);
    free (data);
    return reply;
}

json_t *
harness_callf (zsock_t *req, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    int length = vsnprintf (NULL, 0, format, args);
    va_end (args);
    char *text = length < 0? NULL: malloc ((size_t) length + 1);
    if (!text) {
        fprintf (stderr, "harness: cannot format the request \"%s\"\n", format);
        return NULL;
    }
    va_start (args, format);
    vsnprintf (text, (size_t) length + 1, format, args);
    va_end (args);
    json_t *reply = harness_call (req, text);
    free (text);
    return reply;
}

json_t *
harness_call_raw (zsock_t *req, const void *data, size_t size)
{
    assert (req);
    return s_exchange (req, data, size);
}
