/*  proto_reader -- a bounded msgpack cursor for untrusted bytes. */

#include "proto_reader.h"

#include <string.h>

void
proto_reader_init (proto_reader_t *self, const void *data, size_t size)
{
    self->needle = (const uint8_t *) data;
    self->ceiling = self->needle + size;
}

size_t
proto_reader_remaining (const proto_reader_t *self)
{
    return (size_t) (self->ceiling - self->needle);
}

static uint64_t
s_get_be (const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | p [i];
    return v;
}

/*  Take n bytes as a big-endian unsigned number. Returns -1 if fewer remain. */
static int
s_take (proto_reader_t *self, int n, uint64_t *value_p)
{
    if (proto_reader_remaining (self) < (size_t) n)
        return -1;
    *value_p = s_get_be (self->needle, n);
    self->needle += n;
    return 0;
}

bool
proto_utf8_valid (const char *str, size_t len)
{
    const uint8_t *p = (const uint8_t *) str;
    const uint8_t *end = p + len;
    while (p < end) {
        uint8_t c = *p;
        if (c < 0x80) {
            p++;
            continue;
        }
        int extra;
        uint32_t cp, min;
        if ((c & 0xE0) == 0xC0)      { extra = 1; cp = c & 0x1F; min = 0x80; }
        else if ((c & 0xF0) == 0xE0) { extra = 2; cp = c & 0x0F; min = 0x800; }
        else if ((c & 0xF8) == 0xF0) { extra = 3; cp = c & 0x07; min = 0x10000; }
        else
            return false;
        if (end - p <= extra)
            return false;
        for (int i = 1; i <= extra; i++) {
            if ((p [i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p [i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += extra + 1;
    }
    return true;
}

uint32_t
proto_utf8_cut (const char *str, uint32_t len, uint32_t max)
{
    if (len <= max)
        return len;
    uint32_t cut = max;
    while (cut > 0 && ((uint8_t) str [cut] & 0xC0) == 0x80)
        cut--;
    return cut;
}

void
proto_utf8_trim (char *str)
{
    size_t end = strlen (str);
    size_t start = end;
    while (start > 0 && ((uint8_t) str [start - 1] & 0xC0) == 0x80)
        start--;
    if (start == 0)
        return;
    uint8_t lead = (uint8_t) str [start - 1];
    size_t need = lead < 0x80? 1: (lead & 0xE0) == 0xC0? 2: (lead & 0xF0) == 0xE0? 3: 4;
    if (start - 1 + need > end)
        str [start - 1] = 0;
}

/*  Declares a run of len payload bytes at the cursor. The length came from
    the peer, so it is checked against what is there before anything else. */
static proto_read_rc_t
s_payload (proto_reader_t *self, proto_item_t *item, uint64_t len)
{
    if (len > proto_reader_remaining (self))
        return PROTO_READ_MALFORMED;
    item->ptr = (const char *) self->needle;
    item->len = (uint32_t) len;
    self->needle += len;
    return PROTO_READ_OK;
}

/*  Every element needs at least one byte (a map pair two), so a count that
    exceeds the bytes left is a lie and is refused at the header. */
static proto_read_rc_t
s_container (proto_reader_t *self, proto_item_t *item, proto_item_type_t type, uint64_t count)
{
    uint64_t min_bytes = type == PROTO_ITEM_MAP? count * 2: count;
    if (min_bytes > proto_reader_remaining (self))
        return PROTO_READ_MALFORMED;
    item->type = type;
    item->count = (uint32_t) count;
    return PROTO_READ_OK;
}

proto_read_rc_t
proto_reader_next (proto_reader_t *self, proto_item_t *item)
{
    uint64_t v, len;
    memset (item, 0, sizeof (*item));
    if (s_take (self, 1, &v))
        return PROTO_READ_MALFORMED;
    uint8_t tag = (uint8_t) v;

    if (tag <= 0x7f) {
        item->type = PROTO_ITEM_INT;
        item->i = tag;
        return PROTO_READ_OK;
    }
    if (tag >= 0xe0) {
        item->type = PROTO_ITEM_INT;
        item->i = (int8_t) tag;
        return PROTO_READ_OK;
    }
    if ((tag & 0xf0) == 0x80)
        return s_container (self, item, PROTO_ITEM_MAP, tag & 0x0f);
    if ((tag & 0xf0) == 0x90)
        return s_container (self, item, PROTO_ITEM_ARRAY, tag & 0x0f);
    if ((tag & 0xe0) == 0xa0) {
        item->type = PROTO_ITEM_STR;
        len = tag & 0x1f;
        goto string;
    }
    switch (tag) {
        case 0xc0:
            item->type = PROTO_ITEM_NIL;
            return PROTO_READ_OK;
        case 0xc2:
        case 0xc3:
            item->type = PROTO_ITEM_BOOL;
            item->b = tag == 0xc3;
            return PROTO_READ_OK;
        case 0xc4: case 0xc5: case 0xc6:
            if (s_take (self, 1 << (tag - 0xc4), &len))
                return PROTO_READ_MALFORMED;
            item->type = PROTO_ITEM_BIN;
            return s_payload (self, item, len);
        case 0xc7: case 0xc8: case 0xc9:
            if (s_take (self, 1 << (tag - 0xc7), &len) || s_take (self, 1, &v))
                return PROTO_READ_MALFORMED;
            item->type = PROTO_ITEM_EXT;
            item->ext_type = (int8_t) (uint8_t) v;
            return s_payload (self, item, len);
        case 0xca:
        case 0xcb: {
            int n = tag == 0xca? 4: 8;
            if (s_take (self, n, &v))
                return PROTO_READ_MALFORMED;
            item->type = PROTO_ITEM_FLOAT;
            if (n == 4) {
                uint32_t bits = (uint32_t) v;
                float f;
                memcpy (&f, &bits, 4);
                item->f = f;
            }
            else
                memcpy (&item->f, &v, 8);
            return PROTO_READ_OK;
        }
        case 0xcc: case 0xcd: case 0xce: case 0xcf:
            if (s_take (self, 1 << (tag - 0xcc), &v))
                return PROTO_READ_MALFORMED;
            if (v > (uint64_t) INT64_MAX) {
                item->type = PROTO_ITEM_UINT;
                item->u = v;
            }
            else {
                item->type = PROTO_ITEM_INT;
                item->i = (int64_t) v;
            }
            return PROTO_READ_OK;
        case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
            int n = 1 << (tag - 0xd0);
            if (s_take (self, n, &v))
                return PROTO_READ_MALFORMED;
            item->type = PROTO_ITEM_INT;
            if (n == 1)      item->i = (int8_t) v;
            else if (n == 2) item->i = (int16_t) v;
            else if (n == 4) item->i = (int32_t) v;
            else             item->i = (int64_t) v;
            return PROTO_READ_OK;
        }
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
            if (s_take (self, 1, &v))
                return PROTO_READ_MALFORMED;
            item->type = PROTO_ITEM_EXT;
            item->ext_type = (int8_t) (uint8_t) v;
            return s_payload (self, item, 1u << (tag - 0xd4));
        case 0xd9: case 0xda: case 0xdb:
            if (s_take (self, 1 << (tag - 0xd9), &len))
                return PROTO_READ_MALFORMED;
            item->type = PROTO_ITEM_STR;
            goto string;
        case 0xdc: case 0xdd:
            if (s_take (self, tag == 0xdc? 2: 4, &v))
                return PROTO_READ_MALFORMED;
            return s_container (self, item, PROTO_ITEM_ARRAY, v);
        case 0xde: case 0xdf:
            if (s_take (self, tag == 0xde? 2: 4, &v))
                return PROTO_READ_MALFORMED;
            return s_container (self, item, PROTO_ITEM_MAP, v);
        default:                /* 0xc1 is never used */
            return PROTO_READ_MALFORMED;
    }
string:
    {
        proto_read_rc_t rc = s_payload (self, item, len);
        if (rc == PROTO_READ_OK && !proto_utf8_valid (item->ptr, item->len))
            rc = PROTO_READ_BAD_UTF8;
        return rc;
    }
}

proto_read_rc_t
proto_reader_key (proto_reader_t *self, proto_item_t *key, const proto_key_t *seen, uint32_t n_seen)
{
    proto_read_rc_t rc = proto_reader_next (self, key);
    if (rc != PROTO_READ_OK)
        return rc;
    if (key->type != PROTO_ITEM_STR)
        return PROTO_READ_BAD_KEY;
    for (uint32_t n = 0; n < n_seen; n++)
        if (seen [n].len == key->len && memcmp (seen [n].ptr, key->ptr, key->len) == 0)
            return PROTO_READ_DUPLICATE_KEY;
    return PROTO_READ_OK;
}

proto_read_rc_t
proto_reader_skip_rest (proto_reader_t *self, const proto_item_t *item, int depth)
{
    if (item->type != PROTO_ITEM_ARRAY && item->type != PROTO_ITEM_MAP)
        return PROTO_READ_OK;
    if (depth + 1 >= PROTO_READER_MAX_DEPTH)
        return PROTO_READ_TOO_DEEP;
    proto_item_t child;
    proto_read_rc_t rc;
    if (item->type == PROTO_ITEM_ARRAY) {
        for (uint32_t n = 0; n < item->count; n++) {
            if ((rc = proto_reader_next (self, &child)) != PROTO_READ_OK
            ||  (rc = proto_reader_skip_rest (self, &child, depth + 1)) != PROTO_READ_OK)
                return rc;
        }
        return PROTO_READ_OK;
    }
    if (item->count > PROTO_READER_MAX_KEYS)
        return PROTO_READ_TOO_MANY_KEYS;
    proto_key_t seen [PROTO_READER_MAX_KEYS];
    for (uint32_t n = 0; n < item->count; n++) {
        if ((rc = proto_reader_key (self, &child, seen, n)) != PROTO_READ_OK)
            return rc;
        seen [n].ptr = child.ptr;
        seen [n].len = child.len;
        if ((rc = proto_reader_next (self, &child)) != PROTO_READ_OK
        ||  (rc = proto_reader_skip_rest (self, &child, depth + 1)) != PROTO_READ_OK)
            return rc;
    }
    return PROTO_READ_OK;
}

/*  Each reason's error code (as the reply's `code`) and its text, in one
    place, so the two cannot disagree. */
static const struct {
    const char *code;
    const char *text;
} s_read_rcs [] = {
    [PROTO_READ_OK]            = { "OK", "ok" },
    [PROTO_READ_MALFORMED]     = { "MALFORMED", "not valid msgpack (truncated, or a declared size larger than"
                                                " the bytes present)" },
    [PROTO_READ_BAD_UTF8]      = { "BAD_UTF8", "a string is not valid UTF-8" },
    [PROTO_READ_TOO_DEEP]      = { "TOO_DEEP", "arrays and maps nested too deep" },
    [PROTO_READ_BAD_KEY]       = { "BAD_MAP_KEY", "a map key is not a string" },
    [PROTO_READ_DUPLICATE_KEY] = { "DUPLICATE_KEY", "a map has the same key twice" },
    [PROTO_READ_TOO_MANY_KEYS] = { "TOO_MANY_KEYS", "a map has too many keys" },
};

#define S_READ_RC_COUNT (sizeof (s_read_rcs) / sizeof (s_read_rcs [0]))
_Static_assert (S_READ_RC_COUNT == PROTO_READ_LAST + 1, "every proto_read_rc_t has a code and a text");

const char *
proto_read_rc_code (proto_read_rc_t rc)
{
    return (size_t) rc < S_READ_RC_COUNT? s_read_rcs [rc].code: "MALFORMED";
}

const char *
proto_read_rc_str (proto_read_rc_t rc)
{
    return (size_t) rc < S_READ_RC_COUNT? s_read_rcs [rc].text: "unknown";
}
