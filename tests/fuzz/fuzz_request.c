/*  fuzz_request -- libFuzzer target for the request decoder and validator.

    Every input is decoded as a request body twice with max_ops 10000 (from
    two different buffers) and once with max_ops 3, and the results are held
    to what proto_request.h promises: a request without error has ops, each
    of them valid or (independent mode) invalid with its own error, every
    value of the kind and range its field type allows, strings inside the
    body; the fingerprint does not depend on where the body lies; a smaller
    max_ops changes nothing but too_large. The replies for it are encoded and
    must be msgpack that proto_reader walks to the end. The same bytes go to
    the scalar parsers (time, amount, cursor), whose results must survive a
    round trip through their formatters. A broken promise is __builtin_trap.

    Built with clang -fsanitize=fuzzer,address,undefined when LEDGER_FUZZ is
    on (tests/fuzz.cmake). Built with FUZZ_REPLAY_MAIN, it is a plain program
    that runs each file or directory given on its command line once, so any
    compiler can replay the corpus in `make test`. */

#include "proto_amount.h"
#include "proto_reader.h"
#include "proto_reply.h"
#include "proto_request.h"
#include "proto_time.h"

#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
const char *__asan_default_options (void);

/*  ASan keeps 256 MB of freed memory in quarantine by default, which alone
    would reach `make fuzz`'s -rss_limit_mb=256 and be reported as an OOM. */
const char *
__asan_default_options (void)
{
    return "quarantine_size_mb=32";
}

#define REQUIRE(cond) do { \
    if (!(cond)) { \
        fprintf (stderr, "fuzz_request.c:%d: invariant broken: %s\n", __LINE__, #cond); \
        __builtin_trap (); \
    } } while (0)

#define US_PER_SEC INT64_C (1000000)
/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z in microseconds. */
#define FIRST_US   (INT64_C (-62135596800) * US_PER_SEC)
#define LAST_US    (INT64_C (253402300799) * US_PER_SEC + 999999)
#define OFFSET_MAX_MIN (23 * 60 + 59)

/*  Text longer than this is no valid time, amount (int64 has 19 digits) or
    cursor, so the scalar parsers see only short inputs: they stay cheap. */
#define SCALAR_MAX 80

static bool
s_inside (const void *ptr, size_t len, const uint8_t *body, size_t size)
{
    const uint8_t *p = (const uint8_t *) ptr;
    return p >= body && p <= body + size && len <= (size_t) (body + size - p);
}

static bool
s_terminated (const char *buf, size_t size)
{
    return memchr (buf, 0, size) != NULL;
}

/*  An error object as the wire needs it: a class, a code, and field and
    message that are terminated and valid UTF-8 (a reply must be). */
static void
s_check_error (const proto_error_t *err)
{
    REQUIRE (err->klass > PROTO_CLASS_NONE && err->klass < PROTO_CLASS_COUNT);
    REQUIRE (err->code != NULL && err->code [0]);
    REQUIRE (s_terminated (err->field, sizeof (err->field)));
    REQUIRE (s_terminated (err->message, sizeof (err->message)));
    REQUIRE (proto_utf8_valid (err->field, strlen (err->field)));
    REQUIRE (proto_utf8_valid (err->message, strlen (err->message)));
    REQUIRE (err->message [0]);
}

static bool
s_is_structural (const proto_error_t *err)
{
    static const char *codes [] = {
        "MALFORMED", "BAD_UTF8", "TOO_DEEP", "BAD_MAP_KEY", "DUPLICATE_KEY", "TOO_MANY_KEYS"
    };
    if (err->klass != PROTO_CLASS_PROTOCOL)
        return false;
    for (size_t n = 0; n < sizeof (codes) / sizeof (codes [0]); n++)
        if (strcmp (err->code, codes [n]) == 0)
            return true;
    return false;
}

/*  A time value: text keeps the offset it was written in, whose local year
    is 0001..9999, so it can always be formatted back; an ext is UTC. */
static void
s_check_time (const proto_value_t *value)
{
    REQUIRE (value->offset_min >= -OFFSET_MAX_MIN && value->offset_min <= OFFSET_MAX_MIN);
    REQUIRE (value->i >= FIRST_US - 86400 * US_PER_SEC && value->i <= LAST_US + 86400 * US_PER_SEC);
    char text [PROTO_TIME_MAX];
    size_t len = proto_time_format (value->i, value->offset_min, text);
    REQUIRE (len > 0);
    int64_t us = 0;
    int offset = 0;
    REQUIRE (proto_time_parse (text, len, &us, &offset) == PROTO_TIME_OK);
    REQUIRE (us == value->i && offset == value->offset_min);
}

/*  A category reference inside an op: id, ref, name (or nil where allowed). */
static void
s_check_category (const proto_value_t *value, int op, bool allow_nil, const uint8_t *body, size_t size)
{
    if (value->kind == PROTO_VAL_INT)
        REQUIRE (value->i > 0);
    else
    if (value->kind == PROTO_VAL_REF)
        REQUIRE (value->i >= 0 && value->i < op);
    else
    if (value->kind == PROTO_VAL_STR) {
        REQUIRE (value->len >= 1 && value->len <= PROTO_NAME_MAX);
        REQUIRE (s_inside (value->str, value->len, body, size));
        REQUIRE (proto_utf8_valid (value->str, value->len));
    }
    else
        REQUIRE (allow_nil && value->kind == PROTO_VAL_NIL);
}

/*  A ref that passed validation names an earlier op; if that op is valid
    it creates what the field refers to. */
static void
s_check_ref_target (const proto_request_t *request, const proto_value_t *value, proto_entity_t want)
{
    if (value->kind != PROTO_VAL_REF)
        return;
    const proto_op_t *target = &request->ops [value->i];
    if (target->error)
        return;
    const proto_op_info_t *info = proto_op_info (target->code);
    REQUIRE ((info->flags & PROTO_OPF_CREATES) && info->entity == want);
}

/*  One op the validator let through: the table's rules, and each value of
    the kind and range its field type allows. */
static void
s_check_valid_op (const proto_request_t *request, int n, const uint8_t *body, size_t size)
{
    const proto_op_t *op = &request->ops [n];
    REQUIRE (op->code < PROTO_OP_COUNT);
    const proto_op_info_t *info = proto_op_info (op->code);
    REQUIRE ((op->present & ~info->allowed) == 0);
    REQUIRE ((op->present & info->required) == info->required);
    uint32_t given = op->present & info->one_of;
    REQUIRE (info->one_of == 0 || given != 0);
    REQUIRE (!(info->flags & PROTO_OPF_ONLY_ONE) || (given & (given - 1)) == 0);
    for (int f = 0; f < PROTO_FIELD_COUNT; f++) {
        const proto_value_t *value = &op->value [f];
        if (!(op->present & (1u << f))) {
            REQUIRE (value->kind == PROTO_VAL_ABSENT);
            continue;
        }
        REQUIRE (value->kind != PROTO_VAL_ABSENT);
        switch (proto_field_info ((proto_field_t) f)->type) {
            case PROTO_FT_ID:
                REQUIRE (value->kind == PROTO_VAL_INT || value->kind == PROTO_VAL_REF);
                s_check_category (value, n, false, body, size);
                s_check_ref_target (request, value, info->entity);
                break;
            case PROTO_FT_CATEGORY:
                s_check_category (value, n, true, body, size);
                s_check_ref_target (request, value, PROTO_ENTITY_CATEGORY);
                break;
            case PROTO_FT_CATEGORY_LIST:
                REQUIRE (value->kind == PROTO_VAL_LIST && value->list != NULL);
                REQUIRE (value->len >= 1 && value->len <= PROTO_MAX_LIST);
                for (uint32_t i = 0; i < value->len; i++) {
                    s_check_category (&value->list [i], n, false, body, size);
                    s_check_ref_target (request, &value->list [i], PROTO_ENTITY_CATEGORY);
                }
                break;
            case PROTO_FT_NAME:
            case PROTO_FT_TEXT:
                if (value->kind == PROTO_VAL_NIL) {
                    REQUIRE (f == PROTO_FIELD_DESCRIPTION);
                    break;
                }
                REQUIRE (value->kind == PROTO_VAL_STR);
                REQUIRE (value->len <= (f == PROTO_FIELD_NAME? PROTO_NAME_MAX: PROTO_TEXT_MAX));
                REQUIRE (f != PROTO_FIELD_NAME || value->len >= 1);
                REQUIRE (s_inside (value->str, value->len, body, size));
                REQUIRE (proto_utf8_valid (value->str, value->len));
                break;
            case PROTO_FT_AMOUNT:
                REQUIRE (value->kind == PROTO_VAL_INT);
                break;
            case PROTO_FT_TIME:
            case PROTO_FT_BOUND:
                REQUIRE (value->kind == PROTO_VAL_TIME);
                s_check_time (value);
                break;
            case PROTO_FT_BOOL:
                REQUIRE (value->kind == PROTO_VAL_BOOL);
                break;
            case PROTO_FT_LIMIT:
                REQUIRE (value->kind == PROTO_VAL_INT && value->i >= 1 && value->i <= PROTO_MAX_LIMIT);
                break;
            case PROTO_FT_VERSION:
                REQUIRE (value->kind == PROTO_VAL_INT && value->i >= 1);
                break;
            case PROTO_FT_SUMMARY_BY:
                REQUIRE (value->kind == PROTO_VAL_INT && value->i >= 1 && value->i <= 3);
                break;
            case PROTO_FT_PERIOD:
                REQUIRE (value->kind == PROTO_VAL_INT && value->i >= 0 && value->i <= 3);
                break;
            case PROTO_FT_OFFSET:
                REQUIRE (value->kind == PROTO_VAL_INT && value->i >= -1439 && value->i <= 1439);
                break;
            case PROTO_FT_CURSOR:
                REQUIRE (value->kind == PROTO_VAL_NIL
                      || (value->kind == PROTO_VAL_CURSOR && value->cursor_id > 0));
                break;
            case PROTO_FT_EXTERNAL_ID:
                REQUIRE (value->kind == PROTO_VAL_STR);
                REQUIRE (value->len >= 1 && value->len <= PROTO_EXTERNAL_ID_MAX);
                REQUIRE (s_inside (value->str, value->len, body, size));
                REQUIRE (proto_utf8_valid (value->str, value->len));
                break;
            case PROTO_FT_TOKEN:
                REQUIRE (value->kind == PROTO_VAL_STR);
                REQUIRE (value->len >= 1 && value->len <= PROTO_TOKEN_MAX);
                REQUIRE (s_inside (value->str, value->len, body, size));
                break;
            case PROTO_FT_POSITION:
                REQUIRE (value->kind == PROTO_VAL_INT && value->i >= 0);
                break;
            case PROTO_FT_LENGTH:
                REQUIRE (value->kind == PROTO_VAL_INT && value->i >= 1 && value->i <= PROTO_CHUNK_MAX);
                break;
        }
    }
}

/*  Everything proto_request.h promises about a decoded request. */
static void
s_check_request (const proto_request_t *request, const uint8_t *body, size_t size, uint32_t max_ops)
{
    REQUIRE (request->op_count <= max_ops);
    REQUIRE (request->op_count == 0 || request->ops != NULL);
    REQUIRE (request->mode == PROTO_MODE_ATOMIC || request->mode == PROTO_MODE_INDEPENDENT);
    uint32_t invalid = 0;
    for (uint32_t n = 0; n < request->op_count; n++)
        if (request->ops [n].error) {
            invalid++;
            s_check_error (request->ops [n].error);
            REQUIRE (request->ops [n].error->klass == PROTO_CLASS_INVALID);
            REQUIRE (request->ops [n].error->op == (int32_t) n);
        }
    REQUIRE (invalid == request->invalid_count);

    if (request->id_len) {
        /*  The id is echoed verbatim: it must be exactly one scalar. */
        REQUIRE (s_inside (request->id_raw, request->id_len, body, size));
        proto_reader_t reader;
        proto_item_t item;
        proto_reader_init (&reader, request->id_raw, request->id_len);
        REQUIRE (proto_reader_next (&reader, &item) == PROTO_READ_OK);
        REQUIRE (proto_reader_remaining (&reader) == 0);
        REQUIRE ((item.type == PROTO_ITEM_INT && item.i >= 0) || item.type == PROTO_ITEM_UINT
              || (item.type == PROTO_ITEM_STR && item.len <= PROTO_ID_MAX));
    }
    if (request->key) {
        REQUIRE (request->key_len >= 1 && request->key_len <= PROTO_KEY_MAX);
        REQUIRE (s_inside (request->key, request->key_len, body, size));
        REQUIRE (proto_utf8_valid (request->key, request->key_len));
    }

    if (proto_error_is_set (&request->error)) {
        const proto_error_t *err = &request->error;
        s_check_error (err);
        REQUIRE (err->klass == PROTO_CLASS_PROTOCOL || err->klass == PROTO_CLASS_TOO_LARGE
              || err->klass == PROTO_CLASS_INVALID || err->klass == PROTO_CLASS_INTERNAL);
        if (err->klass == PROTO_CLASS_INVALID) {
            /*  Atomic mode, and the error of the lowest invalid op. */
            REQUIRE (request->mode == PROTO_MODE_ATOMIC && request->invalid_count > 0);
            REQUIRE (err->op >= 0 && (uint32_t) err->op < request->op_count);
            REQUIRE (request->ops [err->op].error != NULL);
            for (int32_t n = 0; n < err->op; n++)
                REQUIRE (request->ops [n].error == NULL);
            REQUIRE (memcmp (err, request->ops [err->op].error, sizeof (*err)) == 0);
        }
        return;
    }

    REQUIRE (request->op_count >= 1);
    REQUIRE (request->mode == PROTO_MODE_INDEPENDENT || request->invalid_count == 0);
    bool writes = request->key != NULL;
    for (uint32_t n = 0; n < request->op_count; n++) {
        const proto_op_t *op = &request->ops [n];
        if (op->error)
            continue;
        s_check_valid_op (request, (int) n, body, size);
        if (proto_op_info (op->code)->flags & PROTO_OPF_WRITE)
            writes = true;
    }
    /*  An invalid op in independent mode may have a known code: it still
        counts for the write lock, the way proto_request_new does it. */
    for (uint32_t n = 0; n < request->op_count; n++)
        if (request->ops [n].error && request->ops [n].code < PROTO_OP_COUNT
        &&  (proto_op_info (request->ops [n].code)->flags & PROTO_OPF_WRITE))
            writes = true;
    REQUIRE (request->writes == writes);
}

/*  Walk a reply with the same bounded reader the worker trusts for input:
    one map, string keys without duplicates, valid UTF-8, nothing after it.
    "ok" must be want_ok; "id" must be the request's id bytes. */
static void
s_check_reply (const msgpack_sbuffer *out, const proto_request_t *request, bool want_ok)
{
    proto_reader_t reader;
    proto_item_t item;
    proto_reader_init (&reader, out->data, out->size);
    REQUIRE (proto_reader_next (&reader, &item) == PROTO_READ_OK);
    REQUIRE (item.type == PROTO_ITEM_MAP);
    REQUIRE (item.count <= PROTO_READER_MAX_KEYS);
    proto_key_t seen [PROTO_READER_MAX_KEYS];
    bool have_ok = false, have_id = false;
    for (uint32_t pair = 0; pair < item.count; pair++) {
        proto_item_t key, value;
        REQUIRE (proto_reader_key (&reader, &key, seen, pair) == PROTO_READ_OK);
        seen [pair].ptr = key.ptr;
        seen [pair].len = key.len;
        const uint8_t *value_start = reader.needle;
        REQUIRE (proto_reader_next (&reader, &value) == PROTO_READ_OK);
        REQUIRE (proto_reader_skip_rest (&reader, &value, 1) == PROTO_READ_OK);
        if (key.len == 2 && memcmp (key.ptr, "ok", 2) == 0) {
            have_ok = true;
            REQUIRE (value.type == PROTO_ITEM_BOOL && value.b == want_ok);
        }
        else
        if (key.len == 2 && memcmp (key.ptr, "id", 2) == 0) {
            have_id = true;
            REQUIRE ((size_t) (reader.needle - value_start) == request->id_len);
            REQUIRE (memcmp (value_start, request->id_raw, request->id_len) == 0);
        }
    }
    REQUIRE (proto_reader_remaining (&reader) == 0);
    REQUIRE (have_ok);
    REQUIRE (have_id == (request->id_len > 0));

    /*  And msgpack-c, which other clients use, reads it as one object. */
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    REQUIRE (msgpack_unpack_next (&unpacked, out->data, out->size, &offset) == MSGPACK_UNPACK_SUCCESS);
    REQUIRE (offset == out->size);
    msgpack_unpacked_destroy (&unpacked);
}

static void
s_check_replies (const proto_request_t *request)
{
    msgpack_sbuffer out;
    msgpack_sbuffer_init (&out);
    if (proto_error_is_set (&request->error)) {
        proto_reply_error (&out, request, &request->error);
        s_check_reply (&out, request, false);
    }
    else {
        int64_t failed = request->mode == PROTO_MODE_INDEPENDENT? (int64_t) request->invalid_count: -1;
        proto_reply_ok (&out, request, "\x90", 1, failed, false);
        s_check_reply (&out, request, true);
        msgpack_sbuffer_clear (&out);
        proto_reply_ok (&out, request, "\x90", 1, failed, true);
        s_check_reply (&out, request, true);
        for (uint32_t n = 0; n < request->op_count; n++)
            if (request->ops [n].error) {
                msgpack_sbuffer_clear (&out);
                proto_reply_error (&out, request, request->ops [n].error);
                s_check_reply (&out, request, false);
            }
    }
    msgpack_sbuffer_destroy (&out);
}

/*  Two decodes of the same bytes agree, wherever the bytes lie. */
static void
s_check_same (const proto_request_t *a, const proto_request_t *b)
{
    REQUIRE (a->error.klass == b->error.klass);
    REQUIRE (a->op_count == b->op_count && a->invalid_count == b->invalid_count);
    REQUIRE (a->mode == b->mode && a->writes == b->writes);
    if (proto_error_is_set (&a->error)) {
        REQUIRE (strcmp (a->error.code, b->error.code) == 0);
        REQUIRE (strcmp (a->error.message, b->error.message) == 0);
    }
    else
        REQUIRE (a->fingerprint == b->fingerprint);
}

/*  max_ops only adds too_large: below it nothing changes, above it the
    request is too_large unless something else was wrong; the structure of
    the bytes is judged the same either way. */
static void
s_check_small (const proto_request_t *big, const proto_request_t *small, uint32_t small_max)
{
    if (!proto_error_is_set (&big->error)) {
        if (big->op_count <= small_max)
            s_check_same (big, small);
        else {
            REQUIRE (small->error.klass == PROTO_CLASS_TOO_LARGE);
            REQUIRE (strcmp (small->error.code, "TOO_MANY_OPS") == 0);
        }
    }
    if (big->error.klass == PROTO_CLASS_INTERNAL || small->error.klass == PROTO_CLASS_INTERNAL)
        return;
    REQUIRE (s_is_structural (&big->error) == s_is_structural (&small->error));
    if (s_is_structural (&big->error))
        REQUIRE (strcmp (big->error.code, small->error.code) == 0);
}

/*  The reader walked the input to its end as one value, so the input is
    well-formed msgpack and every declared count is backed by bytes:
    msgpack-c must read it too, to the same end. (Never the other way: on a
    lying header msgpack-c allocates by the declared size.) */
static void
s_check_msgpack_agrees (const uint8_t *data, size_t size)
{
    proto_reader_t reader;
    proto_item_t item;
    proto_reader_init (&reader, data, size);
    if (proto_reader_next (&reader, &item) != PROTO_READ_OK
    ||  proto_reader_skip_rest (&reader, &item, 0) != PROTO_READ_OK
    ||  proto_reader_remaining (&reader) != 0)
        return;
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    REQUIRE (msgpack_unpack_next (&unpacked, (const char *) data, size, &offset) == MSGPACK_UNPACK_SUCCESS);
    REQUIRE (offset == size);
    msgpack_unpacked_destroy (&unpacked);
}

/*  A reference amount parser: int128 arithmetic, saturating, with the
    precedence the header gives (BAD, then INEXACT, then RANGE). */
static int
s_amount_reference (const char *text, size_t len, int64_t *minor_p)
{
    size_t pos = len > 0 && text [0] == '-'? 1: 0;
    bool negative = pos == 1;
    __int128 magnitude = 0;
    const __int128 cap = (__int128) 1 << 100;
    size_t digits = 0, fraction = 0;
    for (; pos < len && text [pos] >= '0' && text [pos] <= '9'; pos++, digits++)
        if (magnitude < cap)
            magnitude = magnitude * 10 + (text [pos] - '0');
    if (digits == 0)
        return PROTO_AMOUNT_BAD;
    magnitude *= 100;
    if (pos < len && text [pos] == '.') {
        pos++;
        __int128 scale = 10;
        for (; pos < len && text [pos] >= '0' && text [pos] <= '9'; pos++, fraction++) {
            if (fraction < 2)
                magnitude += (text [pos] - '0') * scale;
            scale /= 10;
        }
        if (fraction == 0)
            return PROTO_AMOUNT_BAD;
    }
    if (pos != len)
        return PROTO_AMOUNT_BAD;
    if (fraction > 2)
        return PROTO_AMOUNT_INEXACT;
    __int128 value = negative? -magnitude: magnitude;
    if (value < INT64_MIN || value > INT64_MAX)
        return PROTO_AMOUNT_RANGE;
    *minor_p = (int64_t) value;
    return PROTO_AMOUNT_OK;
}

static void
s_fuzz_amount (const char *text, size_t len)
{
    int64_t minor = 0, expected = 0;
    int rc = proto_amount_parse (text, len, &minor);
    REQUIRE (rc == s_amount_reference (text, len, &expected));
    if (rc != PROTO_AMOUNT_OK)
        return;
    REQUIRE (minor == expected);
    /*  And back: the canonical text of the value parses to it. */
    char canonical [32];
    uint64_t magnitude = minor < 0? 0 - (uint64_t) minor: (uint64_t) minor;
    int n = snprintf (canonical, sizeof (canonical), "%s%" PRIu64 ".%02" PRIu64,
                      minor < 0? "-": "", magnitude / 100, magnitude % 100);
    int64_t again = 0;
    REQUIRE (proto_amount_parse (canonical, (size_t) n, &again) == PROTO_AMOUNT_OK && again == minor);
}

static void
s_fuzz_time (const char *text, size_t len)
{
    int64_t us = 0;
    int offset = 0;
    int rc = proto_time_parse (text, len, &us, &offset);
    REQUIRE (rc == PROTO_TIME_OK || rc == PROTO_TIME_BAD || rc == PROTO_TIME_NAIVE);
    if (rc == PROTO_TIME_OK) {
        proto_value_t value = { .kind = PROTO_VAL_TIME, .i = us, .offset_min = offset };
        s_check_time (&value);
        /*  Given back in the offset it was written in, the local date and
            clock are the ones in the text. */
        char formatted [PROTO_TIME_MAX];
        size_t n = proto_time_format (us, offset, formatted);
        REQUIRE (n >= 20 && n < PROTO_TIME_MAX);
        REQUIRE (memcmp (formatted, text, 10) == 0 && memcmp (formatted + 11, text + 11, 8) == 0);
    }
    if (len == 10 && proto_time_parse_date (text, len, &us) == PROTO_TIME_OK) {
        char formatted [PROTO_TIME_MAX];
        REQUIRE (us % (86400 * US_PER_SEC) == 0 && us >= FIRST_US && us <= LAST_US);
        REQUIRE (proto_time_format (us, 0, formatted) == 20);
        REQUIRE (memcmp (formatted, text, 10) == 0 && strcmp (formatted + 10, "T00:00:00Z") == 0);
    }
    if (len == 4 || len == 8 || len == 12) {
        if (proto_time_from_ext ((const uint8_t *) text, len, &us) == PROTO_TIME_OK) {
            REQUIRE (us >= FIRST_US && us <= LAST_US);
            uint8_t ext [12];
            int64_t again = 0;
            REQUIRE (proto_time_to_ext (us, ext) == 12);
            REQUIRE (proto_time_from_ext (ext, 12, &again) == PROTO_TIME_OK && again == us);
            char formatted [PROTO_TIME_MAX];
            REQUIRE (proto_time_format (us, 0, formatted) > 0);
        }
    }
}

static void
s_fuzz_cursor (const char *text, size_t len)
{
    int64_t us = 0, id = 0;
    if (proto_cursor_parse (text, (uint32_t) len, &us, &id) != 0)
        return;
    REQUIRE (id > 0);
    char canonical [PROTO_CURSOR_MAX];
    size_t n = proto_cursor_format (us, id, canonical);
    REQUIRE (n > 0 && n < PROTO_CURSOR_MAX && n <= len);
    int64_t us2 = 0, id2 = 0;
    REQUIRE (proto_cursor_parse (canonical, (uint32_t) n, &us2, &id2) == 0 && us2 == us && id2 == id);
}

/*  Cutting valid UTF-8 keeps it valid and loses at most a partial char. */
static void
s_fuzz_utf8 (const char *text, size_t len)
{
    if (!proto_utf8_valid (text, len))
        return;
    for (uint32_t max = 0; max <= len; max++) {
        uint32_t cut = proto_utf8_cut (text, (uint32_t) len, max);
        REQUIRE (cut <= max && cut + 3 >= max);
        REQUIRE (proto_utf8_valid (text, cut));
    }
    /*  Trimming a C string cut anywhere (as snprintf cuts) leaves valid
        UTF-8 and drops at most the three bytes of a partial character. */
    if (memchr (text, 0, len))
        return;
    char buf [SCALAR_MAX + 1];
    for (size_t keep = 0; keep <= len; keep++) {
        memcpy (buf, text, keep);
        buf [keep] = 0;
        proto_utf8_trim (buf);
        size_t trimmed = strlen (buf);
        REQUIRE (trimmed <= keep && trimmed + 3 >= keep);
        REQUIRE (proto_utf8_valid (buf, trimmed));
    }
}

static void
s_fuzz_scalars (const uint8_t *data, size_t size)
{
    if (size > SCALAR_MAX)
        return;
    const char *text = (const char *) data;
    s_fuzz_amount (text, size);
    s_fuzz_time (text, size);
    s_fuzz_cursor (text, size);
    s_fuzz_utf8 (text, size);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    enum { MAX_OPS = 10000, SMALL_MAX_OPS = 3 };
    s_fuzz_scalars (data, size);
    s_check_msgpack_agrees (data, size);

    proto_request_t *request = proto_request_new (data, size, MAX_OPS);
    if (!request)
        return 0;               /* out of memory is allowed to fail */
    s_check_request (request, data, size, MAX_OPS);
    s_check_replies (request);

    /*  The same bytes elsewhere decode the same: nothing depends on where
        the body lies, and the fingerprint on nothing but the bytes. */
    uint8_t *copy = malloc (size + 1);
    if (copy) {
        memcpy (copy, data, size);
        proto_request_t *again = proto_request_new (copy, size, MAX_OPS);
        if (again) {
            s_check_request (again, copy, size, MAX_OPS);
            s_check_same (request, again);
        }
        proto_request_destroy (&again);
        REQUIRE (again == NULL);
        free (copy);
    }

    /*  Decoding into a request used for the inputs before (as the worker's
        front end does) gives what a new one does, whatever it held. */
    static proto_request_t *s_reused;
    if (proto_request_decode (&s_reused, data, size, MAX_OPS)) {
        s_check_request (s_reused, data, size, MAX_OPS);
        s_check_same (request, s_reused);
    }

    proto_request_t *small = proto_request_new (data, size, SMALL_MAX_OPS);
    if (small) {
        s_check_request (small, data, size, SMALL_MAX_OPS);
        s_check_replies (small);
        s_check_small (request, small, SMALL_MAX_OPS);
    }
    proto_request_destroy (&small);
    proto_request_destroy (&request);
    proto_request_destroy (&request);           /* safe twice */
    return 0;
}

#ifdef FUZZ_REPLAY_MAIN
#include <dirent.h>
#include <sys/stat.h>

static int
s_replay_file (const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file) {
        fprintf (stderr, "fuzz_request: cannot open %s\n", path);
        return -1;
    }
    size_t capacity = 4096, size = 0;
    uint8_t *data = malloc (capacity);
    size_t got;
    while (data && (got = fread (data + size, 1, capacity - size, file)) > 0) {
        size += got;
        if (size == capacity) {
            uint8_t *bigger = realloc (data, capacity *= 2);
            if (!bigger)
                free (data);
            data = bigger;
        }
    }
    fclose (file);
    if (!data)
        return -1;
    /*  An exact-size copy, so ASan sees a read one byte past the end. */
    uint8_t *exact = malloc (size? size: 1);
    if (exact) {
        memcpy (exact, data, size);
        LLVMFuzzerTestOneInput (exact, size);
    }
    free (exact);
    free (data);
    return exact? 0: -1;
}

int
main (int argc, char *argv [])
{
    int files = 0, failed = 0;
    for (int arg = 1; arg < argc; arg++) {
        struct stat st;
        if (stat (argv [arg], &st) == 0 && S_ISDIR (st.st_mode)) {
            DIR *dir = opendir (argv [arg]);
            struct dirent *entry;
            while (dir && (entry = readdir (dir)) != NULL) {
                if (entry->d_name [0] == '.')
                    continue;
                char path [4096];
                snprintf (path, sizeof (path), "%s/%s", argv [arg], entry->d_name);
                failed += s_replay_file (path) != 0;
                files++;
            }
            if (dir)
                closedir (dir);
            else
                failed++;
        }
        else {
            failed += s_replay_file (argv [arg]) != 0;
            files++;
        }
    }
    printf ("fuzz_request: %d inputs replayed, %d unreadable\n", files, failed);
    return failed || files == 0? 1: 0;
}
#endif
