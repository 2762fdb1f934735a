/*  proto_request -- decode and validate one request body.

    One pass over the body. Structural damage (truncation, lying sizes, bad
    UTF-8, bad or duplicate keys, nesting) stops decoding at once: the rest
    cannot be trusted. Anything else is recorded and decoding goes on, so the
    request id is still found for the reply, and the precedence is the same
    whatever order the keys came in: protocol, then too_large, then the
    lowest invalid op. */

#include "proto_request.h"
#include "proto_amount.h"
#include "proto_period.h"
#include "proto_reader.h"
#include "proto_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  A limit's value as text, for messages built at compile time: the
    constant, not a copy of its number, so the two cannot disagree. */
#define S_TEXT(constant) S_TEXT_ (constant)
#define S_TEXT_(constant) #constant

/*  Decoding state that does not outlive proto_request_new. */
typedef struct {
    proto_reader_t reader;
    proto_request_t *request;
    proto_error_t protocol;     /* first envelope error */
    proto_error_t too_large;
    proto_read_rc_t read_rc;    /* structural failure: stop */
    bool nomem;                 /* out of memory: stop, and say so as internal */
    proto_op_t *spare_ops;      /* an op array to reuse, ops_capacity long */
} decoder_t;

/*  Out of memory: stop decoding. Returns false for the caller to pass up. */
static bool
s_nomem (decoder_t *dec)
{
    dec->nomem = true;
    dec->read_rc = PROTO_READ_MALFORMED;        /* stops every further read */
    return false;
}

static bool
s_is (const proto_item_t *item, const char *text)
{
    return item->type == PROTO_ITEM_STR && strlen (text) == item->len
        && memcmp (item->ptr, text, item->len) == 0;
}

/*  Record the first envelope problem; later ones are not reported. */
#define PROTOCOL(dec, field, code, ...) do { \
    if (!proto_error_is_set (&(dec)->protocol)) \
        proto_error_set (&(dec)->protocol, PROTO_CLASS_PROTOCOL, -1, field, code, __VA_ARGS__); \
    } while (0)

/*  Skip the rest of a value we do not use; false on structural failure. */
static bool
s_skip (decoder_t *dec, const proto_item_t *item, int depth)
{
    if (dec->read_rc == PROTO_READ_OK)
        dec->read_rc = proto_reader_skip_rest (&dec->reader, item, depth);
    return dec->read_rc == PROTO_READ_OK;
}

static bool
s_next (decoder_t *dec, proto_item_t *item)
{
    if (dec->read_rc == PROTO_READ_OK)
        dec->read_rc = proto_reader_next (&dec->reader, item);
    return dec->read_rc == PROTO_READ_OK;
}

/*  Record an op's value error unless one is already there. */
static void
s_invalid (proto_error_t *err, int op, const char *field, const char *code, const char *message)
{
    if (!proto_error_is_set (err))
        proto_error_set (err, PROTO_CLASS_INVALID, op, field, code, "%s", message);
}

_Static_assert (PROTO_CHUNK_MAX == 1048576, "PROTO_FT_LENGTH's type name states the limit");

static const char *s_type_names [] = {
    [PROTO_FT_ID] = "a positive integer id or {\"ref\": k}",
    [PROTO_FT_CATEGORY] = "a category id, {\"ref\": k}, name or nil",
    [PROTO_FT_CATEGORY_LIST] = "an array of category ids, refs or names",
    [PROTO_FT_NAME] = "a string of 1 to " S_TEXT (PROTO_NAME_MAX) " bytes",
    [PROTO_FT_TEXT] = "a string of at most " S_TEXT (PROTO_TEXT_MAX) " bytes, or nil",
    [PROTO_FT_AMOUNT] = "an integer number of minor units or a decimal string",
    [PROTO_FT_TIME] = "an RFC 3339 timestamp with offset or a msgpack timestamp",
    [PROTO_FT_BOUND] = "an RFC 3339 timestamp with offset, a YYYY-MM-DD date or a msgpack timestamp",
    [PROTO_FT_BOOL] = "a boolean",
    [PROTO_FT_LIMIT] = "an integer from 1 to " S_TEXT (PROTO_MAX_LIMIT),
    [PROTO_FT_CURSOR] = "a cursor string from a previous `next`, or nil",
    [PROTO_FT_EXTERNAL_ID] = "a string of 1 to " S_TEXT (PROTO_EXTERNAL_ID_MAX) " bytes",
    [PROTO_FT_VERSION] = "a row version: an integer from 1",
    [PROTO_FT_SUMMARY_BY] = "\"category\", \"period\" or \"both\"",
    [PROTO_FT_PERIOD] = "\"day\", \"week\", \"month\" or \"year\"",
    [PROTO_FT_OFFSET] = "\"Z\" or a UTC offset \"+hh:mm\" / \"-hh:mm\"",
    [PROTO_FT_TOKEN] = "a backup token: a string of 1 to " S_TEXT (PROTO_TOKEN_MAX) " bytes",
    [PROTO_FT_POSITION] = "a byte position: an integer from 0",
    [PROTO_FT_LENGTH] = "a byte count: an integer from 1 to " "1048576",
};

/*  A word of txn.summary's (by, period, offset), read by parse into
    value->i. */
static void
s_decode_word (const proto_item_t *item, const proto_field_info_t *info, proto_value_t *value,
               proto_error_t *err, int op)
{
    int parsed = 0, rc = -1;
    if (item->type != PROTO_ITEM_STR) {
        s_invalid (err, op, info->name, "WRONG_TYPE", s_type_names [info->type]);
        return;
    }
    if (info->type == PROTO_FT_SUMMARY_BY)
        rc = proto_by_parse (item->ptr, item->len, &parsed);
    else
    if (info->type == PROTO_FT_PERIOD)
        rc = proto_period_parse (item->ptr, item->len, &parsed);
    else
        rc = proto_offset_parse (item->ptr, item->len, &parsed);
    if (rc) {
        s_invalid (err, op, info->name, "BAD_VALUE", s_type_names [info->type]);
        return;
    }
    value->kind = PROTO_VAL_INT;
    value->i = parsed;
}

/*  {"ref": k}: the header (a map) is already read. */
static bool
s_decode_ref (decoder_t *dec, const proto_item_t *item, int depth, proto_value_t *value,
              proto_error_t *err, int op, const char *field)
{
    if (item->count != 1) {
        s_invalid (err, op, field, "BAD_REF", "a ref is a map with the one key \"ref\"");
        return s_skip (dec, item, depth);
    }
    proto_item_t key, k;
    if (dec->read_rc == PROTO_READ_OK)
        dec->read_rc = proto_reader_key (&dec->reader, &key, NULL, 0);
    if (!s_next (dec, &k) || !s_skip (dec, &k, depth + 1))
        return false;
    if (!s_is (&key, PROTO_REF_KEY) || k.type != PROTO_ITEM_INT || k.i < 0 || k.i > UINT32_MAX) {
        s_invalid (err, op, field, "BAD_REF", "a ref is {\"ref\": k} with k the index of an earlier op");
        return true;
    }
    value->kind = PROTO_VAL_REF;
    value->i = k.i;
    return true;
}

/*  A category reference: id, ref or name (and nil where allow_nil). */
static bool
s_decode_category (decoder_t *dec, const proto_item_t *item, int depth, proto_value_t *value,
                   proto_error_t *err, int op, const char *field, bool allow_nil)
{
    if (item->type == PROTO_ITEM_MAP)
        return s_decode_ref (dec, item, depth, value, err, op, field);
    if (item->type == PROTO_ITEM_INT && item->i > 0) {
        value->kind = PROTO_VAL_INT;
        value->i = item->i;
    }
    else
    if (item->type == PROTO_ITEM_INT || item->type == PROTO_ITEM_UINT)
        s_invalid (err, op, field, "BAD_VALUE", "an id is a positive integer that fits int64");
    else
    if (item->type == PROTO_ITEM_STR && item->len >= 1 && item->len <= PROTO_NAME_MAX) {
        value->kind = PROTO_VAL_STR;
        value->str = item->ptr;
        value->len = item->len;
    }
    else
    if (item->type == PROTO_ITEM_STR)
        s_invalid (err, op, field, "BAD_VALUE", "a category name has 1 to " S_TEXT (PROTO_NAME_MAX) " bytes");
    else
    if (item->type == PROTO_ITEM_NIL && allow_nil)
        value->kind = PROTO_VAL_NIL;
    else {
        s_invalid (err, op, field, "WRONG_TYPE",
                   allow_nil? s_type_names [PROTO_FT_CATEGORY]: "a category id, {\"ref\": k} or name");
        return s_skip (dec, item, depth);
    }
    return true;
}

static void
s_decode_amount (const proto_item_t *item, proto_value_t *value, proto_error_t *err, int op, const char *field)
{
    if (item->type == PROTO_ITEM_INT) {
        value->kind = PROTO_VAL_INT;
        value->i = item->i;
        return;
    }
    if (item->type == PROTO_ITEM_UINT) {
        s_invalid (err, op, field, "AMOUNT_OUT_OF_RANGE", "amount does not fit int64 minor units");
        return;
    }
    if (item->type == PROTO_ITEM_FLOAT) {
        s_invalid (err, op, field, "AMOUNT_NOT_EXACT",
                   "amount must be integer minor units or a decimal string, never a float");
        return;
    }
    if (item->type != PROTO_ITEM_STR) {
        s_invalid (err, op, field, "WRONG_TYPE", s_type_names [PROTO_FT_AMOUNT]);
        return;
    }
    int rc = proto_amount_parse (item->ptr, item->len, &value->i);
    if (rc == PROTO_AMOUNT_OK)
        value->kind = PROTO_VAL_INT;
    else
    if (rc == PROTO_AMOUNT_INEXACT)
        s_invalid (err, op, field, "AMOUNT_NOT_EXACT", "amount has more than two fraction digits");
    else
    if (rc == PROTO_AMOUNT_RANGE)
        s_invalid (err, op, field, "AMOUNT_OUT_OF_RANGE", "amount does not fit int64 minor units");
    else
        s_invalid (err, op, field, "BAD_AMOUNT", "amount string must match -?[0-9]+(\\.[0-9]{1,2})?");
}

static void
s_decode_time (const proto_item_t *item, proto_value_t *value, proto_error_t *err, int op,
               const char *field, bool date_ok)
{
    int rc = PROTO_TIME_BAD;
    int offset = 0;
    if (item->type == PROTO_ITEM_STR) {
        if (date_ok && item->len == 10)
            rc = proto_time_parse_date (item->ptr, item->len, &value->i);
        else
            rc = proto_time_parse (item->ptr, item->len, &value->i, &offset);
    }
    else
    if (item->type == PROTO_ITEM_EXT && item->ext_type == -1)
        rc = proto_time_from_ext ((const uint8_t *) item->ptr, item->len, &value->i);
    else {
        s_invalid (err, op, field, "WRONG_TYPE", s_type_names [date_ok? PROTO_FT_BOUND: PROTO_FT_TIME]);
        return;
    }
    if (rc == PROTO_TIME_OK) {
        value->kind = PROTO_VAL_TIME;
        value->offset_min = offset;
    }
    else
    if (rc == PROTO_TIME_NAIVE)
        s_invalid (err, op, field, "NAIVE_TIMESTAMP",
                   "timestamp has no UTC offset (add Z or +hh:mm): the ledger is timezone-aware");
    else
        s_invalid (err, op, field, "BAD_TIMESTAMP",
                   "timestamp is not RFC 3339 (YYYY-MM-DDTHH:MM:SS[.ffffff] and Z or +hh:mm, years 0001-9999)");
}

/*  Decode one field value whose header is in item. Returns false only on
    structural failure; a value the op cannot use sets err. */
static bool
s_decode_value (decoder_t *dec, const proto_item_t *item, int depth, proto_field_t field,
                proto_value_t *value, proto_error_t *err, int op)
{
    const proto_field_info_t *info = proto_field_info (field);
    const char *name = info->name;
    switch (info->type) {
        case PROTO_FT_ID:
            if (item->type == PROTO_ITEM_MAP)
                return s_decode_ref (dec, item, depth, value, err, op, name);
            if (item->type == PROTO_ITEM_INT && item->i > 0) {
                value->kind = PROTO_VAL_INT;
                value->i = item->i;
            }
            else
            if (item->type == PROTO_ITEM_INT || item->type == PROTO_ITEM_UINT)
                s_invalid (err, op, name, "BAD_VALUE", "an id is a positive integer that fits int64");
            else
                s_invalid (err, op, name, "WRONG_TYPE", s_type_names [info->type]);
            break;
        case PROTO_FT_CATEGORY:
            return s_decode_category (dec, item, depth, value, err, op, name, true);
        case PROTO_FT_CATEGORY_LIST:
            if (item->type != PROTO_ITEM_ARRAY)
                s_invalid (err, op, name, "WRONG_TYPE", s_type_names [info->type]);
            else
            if (item->count < 1 || item->count > PROTO_MAX_LIST) {
                s_invalid (err, op, name, "BAD_VALUE", "categories holds 1 to " S_TEXT (PROTO_MAX_LIST) " entries");
                return s_skip (dec, item, depth);
            }
            else {
                /*  count is at most PROTO_MAX_LIST, so this is not
                    allocation by a size the peer chose freely. */
                value->list = calloc (item->count, sizeof (proto_value_t));
                if (!value->list)
                    return s_nomem (dec);
                dec->request->lists++;
                value->kind = PROTO_VAL_LIST;
                value->len = item->count;
                for (uint32_t n = 0; n < item->count; n++) {
                    proto_item_t element;
                    if (!s_next (dec, &element)
                    ||  !s_decode_category (dec, &element, depth + 1, &value->list [n], err, op, name, false))
                        return false;
                }
                return true;    /* every element was consumed above */
            }
            return s_skip (dec, item, depth);
        case PROTO_FT_NAME:
        case PROTO_FT_TEXT: {
            uint32_t min = info->type == PROTO_FT_NAME? 1: 0;
            uint32_t max = info->type == PROTO_FT_NAME? PROTO_NAME_MAX: PROTO_TEXT_MAX;
            if (item->type == PROTO_ITEM_STR && item->len >= min && item->len <= max) {
                value->kind = PROTO_VAL_STR;
                value->str = item->ptr;
                value->len = item->len;
            }
            else
            if (item->type == PROTO_ITEM_NIL && info->type == PROTO_FT_TEXT)
                value->kind = PROTO_VAL_NIL;
            else
            if (item->type == PROTO_ITEM_STR)
                s_invalid (err, op, name, "BAD_VALUE",
                           info->type == PROTO_FT_NAME? "a name has 1 to " S_TEXT (PROTO_NAME_MAX) " bytes"
                                                      : "a description has at most " S_TEXT (PROTO_TEXT_MAX) " bytes");
            else
                s_invalid (err, op, name, "WRONG_TYPE", s_type_names [info->type]);
            break;
        }
        case PROTO_FT_AMOUNT:
            s_decode_amount (item, value, err, op, name);
            break;
        case PROTO_FT_TIME:
        case PROTO_FT_BOUND:
            s_decode_time (item, value, err, op, name, info->type == PROTO_FT_BOUND);
            break;
        case PROTO_FT_BOOL:
            if (item->type == PROTO_ITEM_BOOL) {
                value->kind = PROTO_VAL_BOOL;
                value->b = item->b;
            }
            else
                s_invalid (err, op, name, "WRONG_TYPE", s_type_names [info->type]);
            break;
        case PROTO_FT_LIMIT:
            if (item->type == PROTO_ITEM_INT && item->i >= 1 && item->i <= PROTO_MAX_LIMIT) {
                value->kind = PROTO_VAL_INT;
                value->i = item->i;
            }
            else
                s_invalid (err, op, name,
                           item->type == PROTO_ITEM_INT || item->type == PROTO_ITEM_UINT? "BAD_VALUE": "WRONG_TYPE",
                           s_type_names [info->type]);
            break;
        case PROTO_FT_CURSOR:
            if (item->type == PROTO_ITEM_NIL)
                value->kind = PROTO_VAL_NIL;
            else
            if (item->type == PROTO_ITEM_STR
            &&  proto_cursor_parse (item->ptr, item->len, &value->i, &value->cursor_id) == 0)
                value->kind = PROTO_VAL_CURSOR;
            else
                s_invalid (err, op, name, "BAD_CURSOR", "after must be the `next` cursor of a previous page, or nil");
            break;
        case PROTO_FT_EXTERNAL_ID:
            if (item->type == PROTO_ITEM_STR && item->len >= 1 && item->len <= PROTO_EXTERNAL_ID_MAX) {
                value->kind = PROTO_VAL_STR;
                value->str = item->ptr;
                value->len = item->len;
            }
            else
                s_invalid (err, op, name, item->type == PROTO_ITEM_STR? "BAD_VALUE": "WRONG_TYPE",
                           s_type_names [info->type]);
            break;
        case PROTO_FT_VERSION:
            /*  Rows start at version 1, so 0 or less can match no row:
                refused here rather than answered with a conflict. */
            if (item->type == PROTO_ITEM_INT && item->i >= 1) {
                value->kind = PROTO_VAL_INT;
                value->i = item->i;
            }
            else
                s_invalid (err, op, name,
                           item->type == PROTO_ITEM_INT || item->type == PROTO_ITEM_UINT? "BAD_VALUE": "WRONG_TYPE",
                           item->type == PROTO_ITEM_UINT? "a row version fits int64": s_type_names [info->type]);
            break;
        case PROTO_FT_SUMMARY_BY:
        case PROTO_FT_PERIOD:
        case PROTO_FT_OFFSET:
            s_decode_word (item, info, value, err, op);
            break;
        case PROTO_FT_TOKEN:
            if (item->type == PROTO_ITEM_STR && item->len >= 1 && item->len <= PROTO_TOKEN_MAX) {
                value->kind = PROTO_VAL_STR;
                value->str = item->ptr;
                value->len = item->len;
            }
            else
                s_invalid (err, op, name, item->type == PROTO_ITEM_STR? "BAD_VALUE": "WRONG_TYPE",
                           s_type_names [info->type]);
            break;
        case PROTO_FT_POSITION:
        case PROTO_FT_LENGTH: {
            int64_t min = info->type == PROTO_FT_POSITION? 0: 1;
            int64_t max = info->type == PROTO_FT_POSITION? INT64_MAX: PROTO_CHUNK_MAX;
            if (item->type == PROTO_ITEM_INT && item->i >= min && item->i <= max) {
                value->kind = PROTO_VAL_INT;
                value->i = item->i;
            }
            else
                s_invalid (err, op, name,
                           item->type == PROTO_ITEM_INT || item->type == PROTO_ITEM_UINT? "BAD_VALUE": "WRONG_TYPE",
                           s_type_names [info->type]);
            break;
        }
    }
    return s_skip (dec, item, depth);
}

/*  A ref must name an earlier op that creates an id of the expected kind. */
static void
s_check_ref (proto_request_t *request, int op, const proto_value_t *value, proto_entity_t want,
             const char *field, proto_error_t *err)
{
    if (value->kind != PROTO_VAL_REF)
        return;
    if (value->i >= op) {
        s_invalid (err, op, field, "BAD_REF", "a ref must point to an earlier op of the batch");
        return;
    }
    const proto_op_t *target = &request->ops [value->i];
    if (target->error)
        return;                 /* its own error says why; at run time this is REF_FAILED */
    const proto_op_info_t *info = proto_op_info (target->code);
    if (!(info->flags & PROTO_OPF_CREATES) || info->entity != want) {
        char message [100];
        snprintf (message, sizeof (message), "op %" PRId64 " does not create a %s",
                  value->i, want == PROTO_ENTITY_CATEGORY? "category": "transaction");
        s_invalid (err, op, field, "BAD_REF", message);
    }
}

/*  The lowest and the highest field of a non-empty set. */
static proto_field_t
s_lowest_field (uint32_t set)
{
    return (proto_field_t) __builtin_ctz (set);
}

static proto_field_t
s_highest_field (uint32_t set)
{
    return (proto_field_t) (31 - __builtin_clz (set));
}

/*  txn.summary: a period and its offset shape period rows, and rollup
    shapes category rows; given where there are no such rows, the caller
    has misread what the op will do. rollup false changes nothing and is
    let through. Returns -1 with err set, or 0. */
static int
s_check_summary (int n, const proto_op_t *op, proto_error_t *err)
{
    int by = (op->present & PF (BY))? (int) op->value [PROTO_FIELD_BY].i: PROTO_BY_DEFAULT;
    const char *wrong = NULL;
    if (!(by & PROTO_BY_PERIOD) && (op->present & PF (PERIOD)))
        wrong = proto_field_info (PROTO_FIELD_PERIOD)->name;
    else
    if (!(by & PROTO_BY_PERIOD) && (op->present & PF (OFFSET)))
        wrong = proto_field_info (PROTO_FIELD_OFFSET)->name;
    else
    if (!(by & PROTO_BY_CATEGORY) && (op->present & PF (ROLLUP)) && op->value [PROTO_FIELD_ROLLUP].b)
        wrong = proto_field_info (PROTO_FIELD_ROLLUP)->name;
    if (!wrong)
        return 0;
    proto_error_set (err, PROTO_CLASS_INVALID, n, wrong, "CONFLICTING_FIELDS", "\"%s\" applies only with by %s",
                     wrong, by & PROTO_BY_PERIOD? "\"category\" or \"both\"": "\"period\" or \"both\"");
    return -1;
}

/*  After all fields are read: check the set of fields against the table,
    then refs (which need the op code, and the op may have come last). */
static void
s_check_op (proto_request_t *request, int n, proto_op_t *op, bool have_code,
            const proto_item_t *unknown, proto_error_t *err)
{
    if (!have_code)
        return;                 /* err already says why */
    const proto_op_info_t *info = proto_op_info (op->code);
    proto_error_t value_err = *err;
    memset (err, 0, sizeof (*err));
    if (unknown->type == PROTO_ITEM_STR) {
        proto_error_setn (err, PROTO_CLASS_INVALID, n, unknown->ptr, unknown->len, "UNKNOWN_FIELD",
                          "%s has no field \"%.*s\"", info->name, (int) proto_utf8_cut (unknown->ptr, unknown->len, 64),
                          unknown->ptr);
        return;
    }
    for (int f = 0; f < PROTO_FIELD_COUNT; f++)
        if ((op->present & (1u << f)) && !(info->allowed & (1u << f))) {
            proto_error_set (err, PROTO_CLASS_INVALID, n, proto_field_info (f)->name, "UNKNOWN_FIELD",
                             "%s has no field \"%s\"", info->name, proto_field_info (f)->name);
            return;
        }
    if (proto_error_is_set (&value_err)) {
        *err = value_err;
        return;
    }
    for (int f = 0; f < PROTO_FIELD_COUNT; f++)
        if ((info->required & (1u << f)) && !(op->present & (1u << f))) {
            proto_error_set (err, PROTO_CLASS_INVALID, n, proto_field_info (f)->name, "MISSING_FIELD",
                             "%s needs field \"%s\"", info->name, proto_field_info (f)->name);
            return;
        }
    /*  if_absent asks "is a row with this external_id there?": without
        one it cannot be answered, and silently creating would be the very
        duplicate the caller meant to avoid. */
    if ((op->present & PF (IF_ABSENT)) && !(op->present & PF (EXTERNAL_ID))) {
        proto_error_set (err, PROTO_CLASS_INVALID, n, proto_field_info (PROTO_FIELD_EXTERNAL_ID)->name,
                         "MISSING_FIELD", "%s with \"%s\" needs \"%s\"", info->name,
                         proto_field_info (PROTO_FIELD_IF_ABSENT)->name,
                         proto_field_info (PROTO_FIELD_EXTERNAL_ID)->name);
        return;
    }
    if (s_check_summary (n, op, err))
        return;
    uint32_t given = op->present & info->one_of;
    /*  An op that takes only one of its `one_of` fields has two of them
        (category.get: id or name): a missing one is reported at the
        first, a conflict at the second. */
    const char *first = info->one_of? proto_field_info (s_lowest_field (info->one_of))->name: NULL;
    const char *second = info->one_of? proto_field_info (s_highest_field (info->one_of))->name: NULL;
    if (info->one_of && !given) {
        if (info->flags & PROTO_OPF_ONLY_ONE)
            proto_error_set (err, PROTO_CLASS_INVALID, n, first, "MISSING_FIELD",
                             "%s needs \"%s\" or \"%s\"", info->name, first, second);
        else
            proto_error_set (err, PROTO_CLASS_INVALID, n, NULL, "NOTHING_TO_UPDATE",
                             "%s names no field to change", info->name);
        return;
    }
    if ((info->flags & PROTO_OPF_ONLY_ONE) && (given & (given - 1))) {
        proto_error_set (err, PROTO_CLASS_INVALID, n, second, "CONFLICTING_FIELDS",
                         "%s takes \"%s\" or \"%s\", not both", info->name, first, second);
        return;
    }
    for (int f = 0; f < PROTO_FIELD_COUNT; f++) {
        const proto_value_t *value = &op->value [f];
        const char *name = proto_field_info (f)->name;
        if (f == PROTO_FIELD_ID)
            s_check_ref (request, n, value, info->entity, name, err);
        else
        if (value->kind == PROTO_VAL_LIST)
            for (uint32_t i = 0; i < value->len; i++)
                s_check_ref (request, n, &value->list [i], PROTO_ENTITY_CATEGORY, name, err);
        else
            s_check_ref (request, n, value, PROTO_ENTITY_CATEGORY, name, err);
    }
}

/*  Decode ops [n]. Returns false on structural failure. */
static bool
s_decode_op (decoder_t *dec, int n)
{
    proto_request_t *request = dec->request;
    proto_op_t *op = &request->ops [n];
    proto_item_t item;
    if (!s_next (dec, &item))
        return false;
    if (item.type != PROTO_ITEM_MAP) {
        if (!proto_error_is_set (&dec->protocol))
            proto_error_set (&dec->protocol, PROTO_CLASS_PROTOCOL, n, "ops", "OP_NOT_A_MAP",
                             "ops[%d] is not a map", n);
        return s_skip (dec, &item, 2);
    }
    if (item.count > PROTO_READER_MAX_KEYS) {
        dec->read_rc = PROTO_READ_TOO_MANY_KEYS;
        return false;
    }
    proto_key_t seen [PROTO_READER_MAX_KEYS];
    proto_item_t unknown = { .type = PROTO_ITEM_NIL };
    proto_error_t err = { .klass = PROTO_CLASS_NONE };
    bool have_op = false, have_code = false;
    for (uint32_t pair = 0; pair < item.count; pair++) {
        proto_item_t key, value;
        if (dec->read_rc == PROTO_READ_OK)
            dec->read_rc = proto_reader_key (&dec->reader, &key, seen, pair);
        if (!s_next (dec, &value))
            return false;
        seen [pair].ptr = key.ptr;
        seen [pair].len = key.len;
        proto_field_t field;
        if (s_is (&key, PROTO_OP_KEY)) {
            have_op = true;
            if (value.type != PROTO_ITEM_STR)
                proto_error_set (&err, PROTO_CLASS_INVALID, n, PROTO_OP_KEY, "WRONG_TYPE", "op must be a string");
            else
            if (proto_op_lookup (value.ptr, value.len, &op->code) == 0)
                have_code = true;
            else
                proto_error_set (&err, PROTO_CLASS_INVALID, n, PROTO_OP_KEY, "UNKNOWN_OP",
                                 "no op \"%.*s\"", (int) proto_utf8_cut (value.ptr, value.len, 64), value.ptr);
            if (!s_skip (dec, &value, 3))
                return false;
        }
        else
        if (proto_field_lookup (key.ptr, key.len, &field) == 0) {
            op->present |= 1u << field;
            if (!s_decode_value (dec, &value, 3, field, &op->value [field], &err, n))
                return false;
        }
        else {
            if (unknown.type != PROTO_ITEM_STR)
                unknown = key;
            if (!s_skip (dec, &value, 3))
                return false;
        }
    }
    if (!have_op)
        proto_error_set (&err, PROTO_CLASS_INVALID, n, PROTO_OP_KEY, "MISSING_FIELD", "ops[%d] has no \"%s\"", n,
                         PROTO_OP_KEY);
    else
    if (have_code || !proto_error_is_set (&err))
        s_check_op (request, n, op, have_code, &unknown, &err);
    if (proto_error_is_set (&err)) {
        op->error = malloc (sizeof (proto_error_t));
        if (!op->error)
            return s_nomem (dec);
        *op->error = err;
        request->invalid_count++;
    }
    return true;
}

static bool
s_decode_ops (decoder_t *dec, const proto_item_t *item, uint32_t max_ops)
{
    proto_request_t *request = dec->request;
    if (item->type != PROTO_ITEM_ARRAY) {
        PROTOCOL (dec, "ops", "BAD_TYPE", "ops must be an array of op maps");
        return s_skip (dec, item, 1);
    }
    if (item->count == 0) {
        PROTOCOL (dec, "ops", "BAD_VALUE", "ops must hold at least one op");
        return true;
    }
    if (item->count > max_ops) {
        proto_error_set (&dec->too_large, PROTO_CLASS_TOO_LARGE, -1, "ops", "TOO_MANY_OPS",
                         "%u ops in one batch; this worker takes at most %u", item->count, max_ops);
        return s_skip (dec, item, 1);
    }
    if (dec->spare_ops && request->ops_capacity >= item->count) {
        request->ops = dec->spare_ops;
        memset (request->ops, 0, item->count * sizeof (proto_op_t));
    }
    else {
        free (dec->spare_ops);
        request->ops_capacity = 0;
        if (!(request->ops = calloc (item->count, sizeof (proto_op_t))))
            return s_nomem (dec);
        request->ops_capacity = item->count;
    }
    dec->spare_ops = NULL;
    request->op_count = item->count;
    for (uint32_t n = 0; n < item->count; n++)
        if (!s_decode_op (dec, (int) n))
            return false;
    return true;
}

/*  FNV-1a, 64 bits: a retry must hash the same, and a different batch under
    the same key is a client bug that a 64-bit hash catches with certainty
    short of 2^-64. */
static uint64_t
s_mix (uint64_t hash, const void *data, size_t size)
{
    const uint8_t *p = (const uint8_t *) data;
    for (size_t n = 0; n < size; n++) {
        hash ^= p [n];
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

static uint64_t
s_mix_u64 (uint64_t hash, uint64_t value)
{
    uint8_t bytes [8];
    for (int n = 0; n < 8; n++)
        bytes [n] = (uint8_t) (value >> (8 * n));
    return s_mix (hash, bytes, 8);
}

static uint64_t
s_mix_text (uint64_t hash, const char *text, size_t len)
{
    hash = s_mix_u64 (hash, len);
    return s_mix (hash, text, len);
}

/*  Values are hashed by a tag and fixed-width little-endian numbers, and
    ops and fields by their wire names, so a key recorded by one build is
    recognised by the next even if the tables grow or the machine changes. */
static uint64_t
s_mix_value (uint64_t hash, const proto_value_t *value)
{
    switch (value->kind) {
        case PROTO_VAL_ABSENT:
            return s_mix (hash, "-", 1);
        case PROTO_VAL_NIL:
            return s_mix (hash, "n", 1);
        case PROTO_VAL_INT:
            return s_mix_u64 (s_mix (hash, "i", 1), (uint64_t) value->i);
        case PROTO_VAL_REF:
            return s_mix_u64 (s_mix (hash, "r", 1), (uint64_t) value->i);
        case PROTO_VAL_STR:
            return s_mix_text (s_mix (hash, "s", 1), value->str, value->len);
        case PROTO_VAL_BOOL:
            return s_mix (hash, value->b? "T": "F", 1);
        case PROTO_VAL_TIME:
            hash = s_mix_u64 (s_mix (hash, "t", 1), (uint64_t) value->i);
            return s_mix_u64 (hash, (uint64_t) (int64_t) value->offset_min);
        case PROTO_VAL_CURSOR:
            hash = s_mix_u64 (s_mix (hash, "c", 1), (uint64_t) value->i);
            return s_mix_u64 (hash, (uint64_t) value->cursor_id);
        case PROTO_VAL_LIST:
            hash = s_mix_u64 (s_mix (hash, "l", 1), value->len);
            for (uint32_t n = 0; n < value->len; n++)
                hash = s_mix_value (hash, &value->list [n]);
            return hash;
    }
    return hash;
}

static uint64_t
s_fingerprint (const proto_request_t *request)
{
    uint64_t hash = 0xcbf29ce484222325ULL;
    hash = s_mix (hash, request->mode == PROTO_MODE_INDEPENDENT? "I": "A", 1);
    hash = s_mix_u64 (hash, request->op_count);
    for (uint32_t n = 0; n < request->op_count; n++) {
        const proto_op_t *op = &request->ops [n];
        const char *name = proto_op_info (op->code)->name;
        hash = s_mix_text (hash, name, strlen (name));
        for (int f = 0; f < PROTO_FIELD_COUNT; f++)
            if (op->present & (1u << f)) {
                const char *field = proto_field_info ((proto_field_t) f)->name;
                hash = s_mix_text (hash, field, strlen (field));
                hash = s_mix_value (hash, &op->value [f]);
            }
        /*  An invalid op (independent mode) compares by its error: what
            made it invalid (an unknown field, a value that did not decode)
            is not in its values, and two batches that differ there must
            not pass for the same batch. */
        if (op->error) {
            hash = s_mix (hash, "E", 1);
            hash = s_mix_text (hash, op->error->code, strlen (op->error->code));
            hash = s_mix_text (hash, op->error->field, strlen (op->error->field));
            hash = s_mix_text (hash, op->error->message, strlen (op->error->message));
        }
    }
    return hash;
}

/*  A backup op runs on the backup thread, apart from the ledger's
    transactions, and is not idempotent in the log's sense (sys.backup makes
    a new snapshot each time): it goes alone, in a batch with no key. One
    that does not is an invalid op like any other (in independent mode the
    rest of the batch runs). Called once the whole request is read, as the
    key may come after the ops. */
static void
s_check_backup_alone (decoder_t *dec)
{
    proto_request_t *self = dec->request;
    if (self->op_count < 2 && !self->key)
        return;
    for (uint32_t n = 0; n < self->op_count; n++) {
        proto_op_t *op = &self->ops [n];
        if (op->error || !(proto_op_info (op->code)->flags & PROTO_OPF_BACKUP))
            continue;
        if (!(op->error = calloc (1, sizeof (proto_error_t)))) {
            s_nomem (dec);
            return;
        }
        proto_error_set (op->error, PROTO_CLASS_INVALID, (int) n, self->key? "key": "op", "BACKUP_NOT_ALONE",
                         "%s goes alone in its batch, without a key", proto_op_info (op->code)->name);
        self->invalid_count++;
    }
}

static void
s_decode (decoder_t *dec, uint32_t max_ops)
{
    proto_request_t *request = dec->request;
    proto_item_t item;
    if (!s_next (dec, &item))
        return;
    if (item.type != PROTO_ITEM_MAP) {
        PROTOCOL (dec, NULL, "NOT_A_MAP", "the request must be a msgpack map");
        return;
    }
    if (item.count > PROTO_READER_MAX_KEYS) {
        dec->read_rc = PROTO_READ_TOO_MANY_KEYS;
        return;
    }
    proto_key_t seen [PROTO_READER_MAX_KEYS];
    bool have_v = false, have_ops = false;
    for (uint32_t pair = 0; pair < item.count; pair++) {
        proto_item_t key, value;
        if (dec->read_rc == PROTO_READ_OK)
            dec->read_rc = proto_reader_key (&dec->reader, &key, seen, pair);
        const char *value_start = (const char *) dec->reader.needle;
        if (!s_next (dec, &value))
            return;
        seen [pair].ptr = key.ptr;
        seen [pair].len = key.len;
        if (s_is (&key, "v")) {
            have_v = true;
            if (value.type != PROTO_ITEM_INT || value.i != PROTO_VERSION)
                PROTOCOL (dec, "v", "BAD_VERSION", "v must be %d: this worker speaks protocol version %d",
                          PROTO_VERSION, PROTO_VERSION);
        }
        else
        if (s_is (&key, "id")) {
            if ((value.type == PROTO_ITEM_INT && value.i >= 0) || value.type == PROTO_ITEM_UINT
            ||  (value.type == PROTO_ITEM_STR && value.len <= PROTO_ID_MAX)) {
                request->id_raw = value_start;
                request->id_len = (uint32_t) ((const char *) dec->reader.needle - value_start);
            }
            else
                PROTOCOL (dec, "id", "BAD_ID", "id must be an unsigned integer or a string of at most %d bytes",
                         PROTO_ID_MAX);
        }
        else
        if (s_is (&key, "key")) {
            if (value.type == PROTO_ITEM_STR && value.len >= 1 && value.len <= PROTO_KEY_MAX) {
                request->key = value.ptr;
                request->key_len = value.len;
            }
            else
                PROTOCOL (dec, "key", "BAD_KEY", "key must be a string of 1 to %d bytes", PROTO_KEY_MAX);
        }
        else
        if (s_is (&key, "mode")) {
            if (s_is (&value, "atomic"))
                request->mode = PROTO_MODE_ATOMIC;
            else
            if (s_is (&value, "independent"))
                request->mode = PROTO_MODE_INDEPENDENT;
            else
                PROTOCOL (dec, "mode", "BAD_MODE", "mode must be \"atomic\" or \"independent\"");
        }
        else
        if (s_is (&key, "ops")) {
            have_ops = true;
            if (!s_decode_ops (dec, &value, max_ops))
                return;
            continue;           /* s_decode_ops consumed the value */
        }
        else
        if (!proto_error_is_set (&dec->protocol))
            proto_error_setn (&dec->protocol, PROTO_CLASS_PROTOCOL, -1, key.ptr, key.len, "UNKNOWN_KEY",
                              "unknown top-level key \"%.*s\"", (int) proto_utf8_cut (key.ptr, key.len, 64), key.ptr);
        if (!s_skip (dec, &value, 1))
            return;
    }
    if (proto_reader_remaining (&dec->reader) > 0)
        PROTOCOL (dec, NULL, "TRAILING_BYTES", "%zu bytes follow the request map",
                  proto_reader_remaining (&dec->reader));
    if (!have_v)
        PROTOCOL (dec, "v", "MISSING_KEY", "the request has no \"v\"");
    if (!have_ops)
        PROTOCOL (dec, "ops", "MISSING_KEY", "the request has no \"ops\"");
}

/*  Free what the ops own (lists, errors), not the op array. Only ops that
    failed or hold a list own memory: skip the walk over every field of
    every op when there is none. */
static void
s_free_owned (proto_request_t *self)
{
    for (uint32_t n = 0; (self->lists || self->invalid_count) && n < self->op_count; n++) {
        free (self->ops [n].error);
        for (int f = 0; self->lists && f < PROTO_FIELD_COUNT; f++)
            if (self->ops [n].value [f].kind == PROTO_VAL_LIST)
                free (self->ops [n].value [f].list);
    }
}

proto_request_t *
proto_request_new (const void *body, size_t size, uint32_t max_ops)
{
    proto_request_t *self = NULL;
    return proto_request_decode (&self, body, size, max_ops);
}

proto_request_t *
proto_request_decode (proto_request_t **self_p, const void *body, size_t size, uint32_t max_ops)
{
    proto_request_t *self = *self_p;
    decoder_t dec = { .request = self };
    if (self) {
        s_free_owned (self);
        dec.spare_ops = self->ops;
        uint32_t capacity = self->ops_capacity;
        memset (self, 0, sizeof (proto_request_t));
        self->ops_capacity = capacity;
    }
    else
    if (!(self = *self_p = dec.request = calloc (1, sizeof (proto_request_t))))
        return NULL;
    proto_reader_init (&dec.reader, body, size);
    s_decode (&dec, max_ops);
    if (!dec.nomem && dec.read_rc == PROTO_READ_OK && !proto_error_is_set (&dec.protocol)
    &&  !proto_error_is_set (&dec.too_large))
        s_check_backup_alone (&dec);
    if (dec.spare_ops) {
        /*  No ops decoded: keep the array for the next time. */
        self->ops = dec.spare_ops;
        self->op_count = 0;
    }

    if (dec.nomem)
        proto_error_set (&self->error, PROTO_CLASS_INTERNAL, -1, NULL, "NOMEM", "out of memory");
    else
    if (dec.read_rc != PROTO_READ_OK) {
        proto_error_set (&self->error, PROTO_CLASS_PROTOCOL, -1, NULL, proto_read_rc_code (dec.read_rc),
                         "%s", proto_read_rc_str (dec.read_rc));
    }
    else
    if (proto_error_is_set (&dec.protocol))
        self->error = dec.protocol;
    else
    if (proto_error_is_set (&dec.too_large))
        self->error = dec.too_large;
    else
    if (self->invalid_count && self->mode == PROTO_MODE_ATOMIC) {
        for (uint32_t n = 0; n < self->op_count; n++)
            if (self->ops [n].error) {
                self->error = *self->ops [n].error;
                break;
            }
    }
    if (!proto_error_is_set (&self->error)) {
        self->writes = self->key != NULL;
        for (uint32_t n = 0; n < self->op_count; n++)
            if (proto_op_info (self->ops [n].code)->flags & PROTO_OPF_WRITE)
                self->writes = true;
        self->fingerprint = s_fingerprint (self);
    }
    return self;
}

void
proto_request_destroy (proto_request_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    proto_request_t *self = *self_p;
    s_free_owned (self);
    free (self->ops);
    free (self);
    *self_p = NULL;
}

size_t
proto_cursor_format (int64_t us, int64_t id, char *buf)
{
    return (size_t) snprintf (buf, PROTO_CURSOR_MAX, "%" PRId64 ":%" PRId64, us, id);
}

/*  Parse an optionally negative decimal int64 of len bytes exactly. */
static int
s_parse_int64 (const char *text, uint32_t len, int64_t *value_p)
{
    uint32_t pos = 0;
    bool negative = len > 0 && text [0] == '-';
    if (negative)
        pos++;
    if (pos == len || len - pos > 19)
        return -1;
    uint64_t magnitude = 0;
    for (; pos < len; pos++) {
        if (text [pos] < '0' || text [pos] > '9')
            return -1;
        magnitude = magnitude * 10 + (uint64_t) (text [pos] - '0');
    }
    if (magnitude > (uint64_t) INT64_MAX + (negative? 1: 0))
        return -1;
    *value_p = negative? (int64_t) (0 - magnitude): (int64_t) magnitude;
    return 0;
}

int
proto_cursor_parse (const char *text, uint32_t len, int64_t *us_p, int64_t *id_p)
{
    const char *colon = memchr (text, ':', len);
    if (!colon)
        return -1;
    uint32_t head = (uint32_t) (colon - text);
    if (s_parse_int64 (text, head, us_p) || s_parse_int64 (colon + 1, len - head - 1, id_p) || *id_p <= 0)
        return -1;
    return 0;
}
