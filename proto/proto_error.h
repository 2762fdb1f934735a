/*  proto_error -- the one error object the wire carries.

    Every failure, wherever it is found (decoder, validator, store), is put
    into a proto_error_t and leaves through proto_reply. The class decides
    whether a retry can help; the code is a stable name for programs; the
    message is for people. */

#ifndef PROTO_ERROR_H
#define PROTO_ERROR_H

#include <stdbool.h>
#include <stdint.h>

/* Error classes, in the order PROTOCOL.md lists them. A class may be added
   (clients treat one they do not know by its retryable flag); sys.stats
   reports a counter for each. */
#define PROTO_CLASS_LIST(X) \
    X (PROTOCOL,   "protocol",   false) \
    X (TOO_LARGE,  "too_large",  false) \
    X (INVALID,    "invalid",    false) \
    X (NOT_FOUND,  "not_found",  false) \
    X (CONSTRAINT, "constraint", false) \
    X (CONFLICT,   "conflict",   false) \
    X (BUSY,       "busy",       true)  \
    X (IO,         "io",         true)  \
    X (OVERLOADED, "overloaded", true)  \
    X (UNAVAILABLE, "unavailable", true) \
    X (DENIED,     "denied",     false) \
    X (INTERNAL,   "internal",   false)

typedef enum {
    PROTO_CLASS_NONE = 0,
#define X(sym, name, retryable) PROTO_CLASS_##sym,
    PROTO_CLASS_LIST (X)
#undef X
    PROTO_CLASS_COUNT
} proto_class_t;

/* Longest field name an error keeps (a longer unknown field is cut). */
#define PROTO_ERROR_FIELD_MAX 64
#define PROTO_ERROR_MESSAGE_MAX 200

typedef struct {
    proto_class_t klass;        /* PROTO_CLASS_NONE: no error */
    int32_t op;                 /* index of the failing op, or -1 */
    char field [PROTO_ERROR_FIELD_MAX + 1];    /* "" when no field applies */
    const char *code;           /* static stable name, e.g. "AMOUNT_NOT_EXACT" */
    char message [PROTO_ERROR_MESSAGE_MAX];
    const char *leader;         /* unavailable: the leader's endpoint, borrowed; NULL if unknown */
} proto_error_t;

/* The wire name of a class ("invalid"); "" for PROTO_CLASS_NONE. */
const char *proto_class_name (proto_class_t klass);

/* True when a retry of the same batch can succeed. */
bool proto_class_retryable (proto_class_t klass);

/* Fill self. op is -1 and field is NULL when they do not apply; field may
   point into a message (it is copied). code must be a static string. */
void proto_error_set (proto_error_t *self, proto_class_t klass, int op,
                      const char *field, const char *code, const char *format, ...)
    __attribute__ ((format (printf, 6, 7)));

/* Like proto_error_set with a field that is len bytes, not NUL-terminated. */
void proto_error_setn (proto_error_t *self, proto_class_t klass, int op,
                       const char *field, uint32_t len, const char *code, const char *format, ...)
    __attribute__ ((format (printf, 7, 8)));

/* True when self holds an error. */
bool proto_error_is_set (const proto_error_t *self);

#endif
