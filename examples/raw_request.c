/*  raw_request -- one batch to ledgerd with nothing but libzmq and msgpack-c.

    This is what a client in any language does: pack a map, send it as one
    frame, read one frame back. Build: cc raw_request.c $(pkg-config --cflags
    --libs libzmq msgpack) -o raw_request; run: ./raw_request [ENDPOINT] */

#include <msgpack.h>
#include <stdio.h>
#include <string.h>
#include <zmq.h>

static void
s_str (msgpack_packer *pk, const char *s)
{
    msgpack_pack_str_with_body (pk, s, strlen (s));
}

int
main (int argc, char *argv [])
{
    const char *endpoint = argc > 1? argv [1]: "tcp://127.0.0.1:5555";
    /*  {"v": 1, "id": 1, "ops": [{"op": "category.create", "name": "Food"},
         {"op": "txn.create", "amount": "12.34", "occurred_at": "2025-01-02T10:00:00+01:00",
          "category": {"ref": 0}}]} */
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buffer, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 3);
    s_str (&pk, "v");   msgpack_pack_int (&pk, 1);
    s_str (&pk, "id");  msgpack_pack_int (&pk, 1);
    s_str (&pk, "ops"); msgpack_pack_array (&pk, 2);
    msgpack_pack_map (&pk, 2);
    s_str (&pk, "op");  s_str (&pk, "category.create");
    s_str (&pk, "name"); s_str (&pk, "Food");
    msgpack_pack_map (&pk, 4);
    s_str (&pk, "op");  s_str (&pk, "txn.create");
    s_str (&pk, "amount"); s_str (&pk, "12.34");
    s_str (&pk, "occurred_at"); s_str (&pk, "2025-01-02T10:00:00+01:00");
    s_str (&pk, "category"); msgpack_pack_map (&pk, 1); s_str (&pk, "ref"); msgpack_pack_int (&pk, 0);

    void *ctx = zmq_ctx_new ();
    void *req = zmq_socket (ctx, ZMQ_REQ);
    int timeout = 5000, linger = 0;
    zmq_setsockopt (req, ZMQ_RCVTIMEO, &timeout, sizeof (timeout));
    zmq_setsockopt (req, ZMQ_LINGER, &linger, sizeof (linger));
    zmq_connect (req, endpoint);
    zmq_send (req, buffer.data, buffer.size, 0);
    msgpack_sbuffer_destroy (&buffer);

    zmq_msg_t reply;
    zmq_msg_init (&reply);
    int rc = 1;
    if (zmq_msg_recv (&reply, req, 0) >= 0) {
        /*  Our own worker's reply: msgpack-c's unpacker is fine here. */
        msgpack_unpacked result;
        msgpack_unpacked_init (&result);
        if (msgpack_unpack_next (&result, zmq_msg_data (&reply), zmq_msg_size (&reply), NULL)
            == MSGPACK_UNPACK_SUCCESS) {
            msgpack_object_print (stdout, result.data);
            printf ("\n");
            rc = 0;
        }
        msgpack_unpacked_destroy (&result);
    }
    else
        fprintf (stderr, "no reply from %s: %s\n", endpoint, zmq_strerror (zmq_errno ()));
    zmq_msg_close (&reply);
    zmq_close (req);
    zmq_ctx_term (ctx);
    return rc;
}
