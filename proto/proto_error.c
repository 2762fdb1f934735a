/*  proto_error -- the one error object the wire carries. */

#include "proto_error.h"
#include "proto_reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *s_class_names [PROTO_CLASS_COUNT] = {
    [PROTO_CLASS_NONE] = "",
#define X(sym, name, retryable) [PROTO_CLASS_##sym] = name,
    PROTO_CLASS_LIST (X)
#undef X
};

static const bool s_class_retryable [PROTO_CLASS_COUNT] = {
#define X(sym, name, retryable) [PROTO_CLASS_##sym] = retryable,
    PROTO_CLASS_LIST (X)
#undef X
};

const char *
proto_class_name (proto_class_t klass)
{
    return klass < PROTO_CLASS_COUNT? s_class_names [klass]: "internal";
}

bool
proto_class_retryable (proto_class_t klass)
{
    return klass < PROTO_CLASS_COUNT && s_class_retryable [klass];
}

static void
s_set (proto_error_t *self, proto_class_t klass, int op, const char *field, uint32_t len,
       const char *code, const char *format, va_list args) __attribute__ ((format (printf, 7, 0)));

static void
s_set (proto_error_t *self, proto_class_t klass, int op, const char *field, uint32_t len,
       const char *code, const char *format, va_list args)
{
    self->klass = klass;
    self->op = op;
    /*  Cut on character boundaries: a reply must be valid UTF-8. */
    if (field)
        len = proto_utf8_cut (field, len, PROTO_ERROR_FIELD_MAX);
    if (field)
        memcpy (self->field, field, len);
    self->field [field? len: 0] = 0;
    self->code = code;
    self->leader = NULL;
    vsnprintf (self->message, sizeof (self->message), format, args);
    proto_utf8_trim (self->message);
}

void
proto_error_set (proto_error_t *self, proto_class_t klass, int op,
                 const char *field, const char *code, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_set (self, klass, op, field, field? (uint32_t) strlen (field): 0, code, format, args);
    va_end (args);
}

void
proto_error_setn (proto_error_t *self, proto_class_t klass, int op,
                  const char *field, uint32_t len, const char *code, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_set (self, klass, op, field, len, code, format, args);
    va_end (args);
}

bool
proto_error_is_set (const proto_error_t *self)
{
    return self->klass != PROTO_CLASS_NONE;
}
