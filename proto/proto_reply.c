/*  proto_reply -- encode reply maps. */

#include "proto_reply.h"

#include <string.h>

void
proto_pack_strn (msgpack_packer *pk, const char *s, size_t len)
{
    msgpack_pack_str (pk, len);
    msgpack_pack_str_body (pk, s, len);
}

void
proto_pack_cstr (msgpack_packer *pk, const char *s)
{
    proto_pack_strn (pk, s, strlen (s));
}

void
proto_pack_error (msgpack_packer *pk, const proto_error_t *err)
{
    msgpack_pack_map (pk, err->leader? 7: 6);
    proto_pack_cstr (pk, "class");
    proto_pack_cstr (pk, proto_class_name (err->klass));
    proto_pack_cstr (pk, "retryable");
    if (proto_class_retryable (err->klass))
        msgpack_pack_true (pk);
    else
        msgpack_pack_false (pk);
    proto_pack_cstr (pk, "op");
    if (err->op >= 0)
        msgpack_pack_int32 (pk, err->op);
    else
        msgpack_pack_nil (pk);
    proto_pack_cstr (pk, "field");
    if (err->field [0])
        proto_pack_cstr (pk, err->field);
    else
        msgpack_pack_nil (pk);
    proto_pack_cstr (pk, "code");
    proto_pack_cstr (pk, err->code? err->code: "INTERNAL");
    proto_pack_cstr (pk, "message");
    proto_pack_cstr (pk, err->message);
    if (err->leader) {
        proto_pack_cstr (pk, "leader");
        proto_pack_cstr (pk, err->leader);
    }
}

/*  v, id and ok: the start every reply shares. */
static void
s_pack_head (msgpack_packer *pk, const proto_request_t *request, size_t extra, bool ok)
{
    bool has_id = request && request->id_len > 0;
    msgpack_pack_map (pk, 2 + (has_id? 1: 0) + extra);
    proto_pack_cstr (pk, "v");
    msgpack_pack_int (pk, PROTO_VERSION);
    if (has_id) {
        proto_pack_cstr (pk, "id");
        msgpack_sbuffer_write (pk->data, request->id_raw, request->id_len);
    }
    proto_pack_cstr (pk, "ok");
    if (ok)
        msgpack_pack_true (pk);
    else
        msgpack_pack_false (pk);
}

void
proto_reply_error (msgpack_sbuffer *out, const proto_request_t *request, const proto_error_t *err)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    s_pack_head (&pk, request, 1, false);
    proto_pack_cstr (&pk, "error");
    proto_pack_error (&pk, err);
}

void
proto_reply_ok (msgpack_sbuffer *out, const proto_request_t *request,
                const char *results, size_t size, int64_t failed, bool replayed)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    s_pack_head (&pk, request, 1 + (failed >= 0? 1: 0) + (replayed? 1: 0), true);
    proto_pack_cstr (&pk, "results");
    msgpack_sbuffer_write (out, results, size);
    if (failed >= 0) {
        proto_pack_cstr (&pk, "failed");
        msgpack_pack_int64 (&pk, failed);
    }
    if (replayed) {
        proto_pack_cstr (&pk, "replayed");
        msgpack_pack_true (&pk);
    }
}
