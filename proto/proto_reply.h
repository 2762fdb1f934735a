/*  proto_reply -- encode reply maps.

    A reply is {"v": 1, "id"?, "ok", "results"? , "failed"?, "replayed"?,
    "error"?}. The results array is packed by whoever ran the ops and handed
    over as bytes, so the same bytes can be stored for idempotent replay and
    sent again behind a different request id. */

#ifndef PROTO_REPLY_H
#define PROTO_REPLY_H

#include "proto_error.h"
#include "proto_request.h"

#include <msgpack.h>

/* Pack s (NUL-terminated) as a msgpack string. */
void proto_pack_cstr (msgpack_packer *pk, const char *s);

/* Pack len bytes at s as a msgpack string. */
void proto_pack_strn (msgpack_packer *pk, const char *s, size_t len);

/* Pack the error object {class, retryable, op, field, code, message}. */
void proto_pack_error (msgpack_packer *pk, const proto_error_t *err);

/* Append a failure reply to request (which may be NULL when nothing of it
   could be decoded) to out. */
void proto_reply_error (msgpack_sbuffer *out, const proto_request_t *request, const proto_error_t *err);

/* Append a success reply to out: results is a packed array of one entry per
   op. failed is the count of failed ops in independent mode, or -1 in atomic
   mode (then the key is left out). replayed marks a reply from the
   idempotency log. */
void proto_reply_ok (msgpack_sbuffer *out, const proto_request_t *request,
                     const char *results, size_t size, int64_t failed, bool replayed);

#endif
