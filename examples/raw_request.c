/*  raw_request -- one batch to ledgerd with nothing but libzmq and msgpack-c.

    This is what a client in any language does: pack a map, send it as one
    frame, read one frame back. Build: cc raw_request.c $(pkg-config --cflags
    --libs libzmq msgpack) -o raw_request; run: ./raw_request [ENDPOINT] */

#include <errno.h>
#include <msgpack.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

#define DEFAULT_ENDPOINT "tcp://127.0.0.1:5555"
#define TIMEOUT_MS       5000

static const char *s_usage =
    "usage: raw_request [ENDPOINT]   (default " DEFAULT_ENDPOINT ")\n"
    "Sends the README's first batch to ledgerd and prints the reply; exit 0 on a reply,\n"
    "1 when none came within 5 s or a call failed, 2 on bad arguments.\n";

static int
s_str (msgpack_packer *pk, const char *s)
{
    return msgpack_pack_str_with_body (pk, s, strlen (s));
}

/*  {"v": 1, "id": 1, "ops": [{"op": "category.create", "name": "Books"},
     {"op": "txn.create", "amount": "12.34", "occurred_at": "2025-01-02T10:00:00+01:00",
      "category": {"ref": 0}}]}
    Each pack call returns 0 or -1 (out of memory): any -1 makes the sum
    non-zero. */
static int
s_pack_batch (msgpack_packer *pk)
{
    int rc = msgpack_pack_map (pk, 3);
    rc |= s_str (pk, "v")   | msgpack_pack_int (pk, 1);
    rc |= s_str (pk, "id")  | msgpack_pack_int (pk, 1);
    rc |= s_str (pk, "ops") | msgpack_pack_array (pk, 2);
    rc |= msgpack_pack_map (pk, 2);
    rc |= s_str (pk, "op")   | s_str (pk, "category.create");
    rc |= s_str (pk, "name") | s_str (pk, "Books");
    rc |= msgpack_pack_map (pk, 4);
    rc |= s_str (pk, "op")          | s_str (pk, "txn.create");
    rc |= s_str (pk, "amount")      | s_str (pk, "12.34");
    rc |= s_str (pk, "occurred_at") | s_str (pk, "2025-01-02T10:00:00+01:00");
    rc |= s_str (pk, "category")    | msgpack_pack_map (pk, 1);
    rc |= s_str (pk, "ref")         | msgpack_pack_int (pk, 0);
    return rc? -1: 0;
}

/*  A REQ socket that gives up: a send or receive waits at most TIMEOUT_MS,
    and closing it drops what is unsent. Returns NULL with errno set. */
static void *
s_connect (void *ctx, const char *endpoint)
{
    void *req = zmq_socket (ctx, ZMQ_REQ);
    if (!req)
        return NULL;
    int timeout = TIMEOUT_MS, linger = 0;
    if (zmq_setsockopt (req, ZMQ_RCVTIMEO, &timeout, sizeof (timeout))
    ||  zmq_setsockopt (req, ZMQ_SNDTIMEO, &timeout, sizeof (timeout))
    ||  zmq_setsockopt (req, ZMQ_LINGER, &linger, sizeof (linger))
    ||  zmq_connect (req, endpoint)) {
        int saved = zmq_errno ();
        zmq_close (req);
        errno = saved;
        return NULL;
    }
    return req;
}

/*  Our own worker's reply: msgpack-c's unpacker is fine here. */
static int
s_print_reply (zmq_msg_t *reply)
{
    msgpack_unpacked result;
    msgpack_unpacked_init (&result);
    int rc = -1;
    if (msgpack_unpack_next (&result, zmq_msg_data (reply), zmq_msg_size (reply), NULL)
        == MSGPACK_UNPACK_SUCCESS) {
        msgpack_object_print (stdout, result.data);
        printf ("\n");
        rc = 0;
    }
    else
        fprintf (stderr, "raw_request: the reply is not msgpack\n");
    msgpack_unpacked_destroy (&result);
    return rc;
}

/*  Sends the batch and prints the reply: 0, or -1 with the reason printed. */
static int
s_request (void *req, const char *endpoint, const msgpack_sbuffer *buffer)
{
    if (zmq_send (req, buffer->data, buffer->size, 0) < 0) {
        fprintf (stderr, "raw_request: cannot send to %s: %s\n", endpoint, zmq_strerror (zmq_errno ()));
        return -1;
    }
    zmq_msg_t reply;
    zmq_msg_init (&reply);
    int rc = -1;
    if (zmq_msg_recv (&reply, req, 0) >= 0)
        rc = s_print_reply (&reply);
    else
        fprintf (stderr, "raw_request: no reply from %s: %s\n", endpoint, zmq_strerror (zmq_errno ()));
    zmq_msg_close (&reply);
    return rc;
}

int
main (int argc, char *argv [])
{
    if (argc > 1 && (strcmp (argv [1], "--help") == 0 || strcmp (argv [1], "-h") == 0)) {
        fputs (s_usage, stdout);
        return 0;
    }
    if (argc > 2 || (argc == 2 && argv [1][0] == '-')) {
        fputs (s_usage, stderr);
        return 2;
    }
    const char *endpoint = argc > 1? argv [1]: DEFAULT_ENDPOINT;

    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    if (s_pack_batch (&pk)) {
        fprintf (stderr, "raw_request: out of memory\n");
        msgpack_sbuffer_destroy (&buffer);
        return 1;
    }
    int rc = 1;
    void *ctx = zmq_ctx_new ();
    void *req = ctx? s_connect (ctx, endpoint): NULL;
    if (!req)
        fprintf (stderr, "raw_request: cannot connect to '%s': %s\n", endpoint, zmq_strerror (zmq_errno ()));
    else
    if (s_request (req, endpoint, &buffer) == 0)
        rc = 0;
    msgpack_sbuffer_destroy (&buffer);
    if (req)
        zmq_close (req);
    if (ctx)
        zmq_ctx_term (ctx);
    return rc;
}
