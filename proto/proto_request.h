/*  proto_request -- decode and validate one request body.

    The body is untrusted bytes. proto_request_new reads it once through the
    bounded proto_reader, checks every op against the op table, and gives the
    worker typed values: amounts as minor units, timestamps as (instant,
    offset), refs as op indexes. Nothing reaches the store that the table does
    not allow. Strings point into the body, which must outlive the request. */

#ifndef PROTO_REQUEST_H
#define PROTO_REQUEST_H

#include "proto_error.h"
#include "proto_ops.h"

#include <stddef.h>

#define PROTO_VERSION 1
#define PROTO_ID_MAX 256        /* bytes in a string request id */
#define PROTO_KEY_MAX 128       /* bytes in an idempotency key */
#define PROTO_CURSOR_MAX 48     /* buffer for proto_cursor_format, with NUL */

typedef enum {
    PROTO_VAL_ABSENT = 0,
    PROTO_VAL_NIL,
    PROTO_VAL_INT,              /* i: id, amount or limit */
    PROTO_VAL_REF,              /* i: index of the earlier op whose id this is */
    PROTO_VAL_STR,              /* str, len: a name or a description */
    PROTO_VAL_BOOL,             /* b */
    PROTO_VAL_TIME,             /* i: instant in microseconds UTC; offset_min */
    PROTO_VAL_CURSOR,           /* i: instant of the last row; cursor_id: its id */
    PROTO_VAL_LIST              /* list, len: category references */
} proto_value_kind_t;

/*  Every op has a slot for every field, so a value is kept small (24
    bytes): a 1000-op batch decodes to about 410 KB. */
typedef struct proto_value_s proto_value_t;
struct proto_value_s {
    int64_t i;
    union {
        int64_t cursor_id;      /* PROTO_VAL_CURSOR */
        const char *str;        /* PROTO_VAL_STR */
        proto_value_t *list;    /* PROTO_VAL_LIST */
    };
    uint32_t len;
    int16_t offset_min;         /* PROTO_VAL_TIME, within +-1439 */
    uint8_t kind;               /* a proto_value_kind_t */
    bool b;
};

typedef struct {
    proto_op_code_t code;
    uint32_t present;           /* PF () bits of the fields given */
    proto_value_t value [PROTO_FIELD_COUNT];
    proto_error_t *error;       /* why this op is invalid, or NULL */
} proto_op_t;

typedef enum {
    PROTO_MODE_ATOMIC,
    PROTO_MODE_INDEPENDENT
} proto_mode_t;

typedef struct {
    const char *id_raw;         /* the msgpack bytes of `id`, echoed verbatim */
    uint32_t id_len;            /* 0 when the request had no id */
    const char *key;            /* idempotency key, or NULL */
    uint32_t key_len;
    proto_mode_t mode;
    proto_op_t *ops;
    uint32_t op_count;
    uint32_t invalid_count;     /* ops with an error */
    uint32_t lists;             /* category lists allocated (freed with the request) */
    uint32_t ops_capacity;      /* ops has room for this many, for proto_request_decode */
    bool writes;                /* needs the write lock: a write op, or a key */
    uint64_t fingerprint;       /* hash of mode and decoded ops, for key reuse */
    proto_error_t error;        /* set when the whole request fails */
} proto_request_t;

/* Decode size bytes at body, allowing at most max_ops ops. Returns a new
   request the caller destroys, or NULL if memory ran out. When the request
   cannot run at all (protocol, too_large, or an invalid op in atomic mode)
   request->error is set; in independent mode invalid ops carry their own
   error.
   The request BORROWS body: id_raw, key and every string value point into
   it, so body must stay unchanged and alive until the request is destroyed
   or decoded into again. Free or reuse the body (a zmq frame, say) only
   after that. */
proto_request_t *proto_request_new (const void *body, size_t size, uint32_t max_ops);

/* The same, decoding into *self_p: a request from an earlier decode (or
   NULL, for a new one), whose op array is reused when it has room. A front
   end that keeps its requests allocates nothing per message once warm.
   Returns *self_p, or NULL (with *self_p NULL) if memory ran out.
   The request now borrows this body, as for proto_request_new, and no
   longer points into the body of the earlier decode, which may then go. */
proto_request_t *proto_request_decode (proto_request_t **self_p, const void *body, size_t size, uint32_t max_ops);

/* Destroy the request and set *self_p to NULL; safe on NULL. */
void proto_request_destroy (proto_request_t **self_p);

/* Write the `next` cursor for the row (us, id) into buf; returns its length. */
size_t proto_cursor_format (int64_t us, int64_t id, char *buf /* PROTO_CURSOR_MAX */);

/* Parse a cursor of len bytes. Returns 0, or -1 when it is malformed. */
int proto_cursor_parse (const char *text, uint32_t len, int64_t *us_p, int64_t *id_p);

#endif
