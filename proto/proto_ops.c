/*  proto_ops -- the op table: every operation and every field, declared once. */

#include "proto_ops.h"

#include <string.h>

static const proto_op_info_t s_ops [PROTO_OP_COUNT] = {
#define X(sym, name, entity, flags, required, optional, one_of) \
    [PROTO_OP_##sym] = { name, PROTO_ENTITY_##entity, flags, required, \
                         (required) | (optional) | (one_of), one_of },
    PROTO_OP_LIST (X)
#undef X
};

static const proto_field_info_t s_fields [PROTO_FIELD_COUNT] = {
#define X(sym, name, type) [PROTO_FIELD_##sym] = { name, type },
    PROTO_FIELD_LIST (X)
#undef X
};

const proto_op_info_t *
proto_op_info (proto_op_code_t code)
{
    return &s_ops [code];
}

const proto_field_info_t *
proto_field_info (proto_field_t field)
{
    return &s_fields [field];
}

static bool
s_same (const char *wire, uint32_t len, const char *name)
{
    return strlen (name) == len && memcmp (wire, name, len) == 0;
}

int
proto_op_lookup (const char *name, uint32_t len, proto_op_code_t *code_p)
{
    for (int code = 0; code < PROTO_OP_COUNT; code++)
        if (s_same (name, len, s_ops [code].name)) {
            *code_p = (proto_op_code_t) code;
            return 0;
        }
    return -1;
}

int
proto_field_lookup (const char *name, uint32_t len, proto_field_t *field_p)
{
    for (int field = 0; field < PROTO_FIELD_COUNT; field++)
        if (s_same (name, len, s_fields [field].name)) {
            *field_p = (proto_field_t) field;
            return 0;
        }
    return -1;
}
