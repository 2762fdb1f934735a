/*  proto_reader -- a bounded msgpack cursor for untrusted bytes.

    msgpack-c's unpacker allocates by the sizes a message declares, so five
    bytes can make it ask for gigabytes. This reader never allocates: it walks
    the caller's buffer between `needle` and `ceiling`, and every header whose
    declared size could not fit in the bytes that remain is refused before
    anything looks at it. Strings are checked for valid UTF-8 as they are read.
    Items point into the caller's buffer, which must outlive them. */

#ifndef PROTO_READER_H
#define PROTO_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deepest nesting of arrays and maps a request may have. */
#define PROTO_READER_MAX_DEPTH 32
/* Most pairs one map may have: no valid request needs more, and the bound
   keeps the duplicate-key check cheap and free of allocation. */
#define PROTO_READER_MAX_KEYS 64

typedef enum {
    PROTO_ITEM_NIL,
    PROTO_ITEM_BOOL,
    PROTO_ITEM_INT,             /* any integer that fits int64 */
    PROTO_ITEM_UINT,            /* a positive integer above INT64_MAX */
    PROTO_ITEM_FLOAT,
    PROTO_ITEM_STR,
    PROTO_ITEM_BIN,
    PROTO_ITEM_ARRAY,           /* count elements follow */
    PROTO_ITEM_MAP,             /* count key/value pairs follow */
    PROTO_ITEM_EXT
} proto_item_type_t;

typedef struct {
    proto_item_type_t type;
    bool b;
    int64_t i;
    uint64_t u;
    double f;
    const char *ptr;            /* STR, BIN, EXT payload */
    uint32_t len;               /* bytes at ptr */
    uint32_t count;             /* ARRAY elements, MAP pairs */
    int8_t ext_type;
} proto_item_t;

/* Why a read failed; PROTO_READ_OK is 0. A new reason goes last, moves
   PROTO_READ_LAST, and gets its code and text in proto_reader.c's table. */
typedef enum {
    PROTO_READ_OK = 0,
    PROTO_READ_MALFORMED,       /* truncated, or a size larger than the bytes left */
    PROTO_READ_BAD_UTF8,
    PROTO_READ_TOO_DEEP,
    PROTO_READ_BAD_KEY,         /* a map key that is not a string */
    PROTO_READ_DUPLICATE_KEY,
    PROTO_READ_TOO_MANY_KEYS    /* a map with more than PROTO_READER_MAX_KEYS pairs */
} proto_read_rc_t;
#define PROTO_READ_LAST PROTO_READ_TOO_MANY_KEYS

/* A map key already seen, for the duplicate check. */
typedef struct {
    const char *ptr;
    uint32_t len;
} proto_key_t;

typedef struct {
    const uint8_t *needle;      /* next byte to read */
    const uint8_t *ceiling;     /* one past the last byte */
} proto_reader_t;

/* Start reading size bytes at data. The reader borrows data: every item it
   reads points into it, so data must outlive the reader and the items. */
void proto_reader_init (proto_reader_t *self, const void *data, size_t size);

/* Read one item header (for arrays and maps, only the header: the elements
   follow). Returns PROTO_READ_OK, or why not; the cursor is then undefined. */
proto_read_rc_t proto_reader_next (proto_reader_t *self, proto_item_t *item);

/* Skip one whole value whose header was already read into item, including
   every element nested in it, to at most PROTO_READER_MAX_DEPTH - depth
   further levels. Returns PROTO_READ_OK or why not. */
proto_read_rc_t proto_reader_skip_rest (proto_reader_t *self, const proto_item_t *item, int depth);

/* Read the key of a map pair into key: it must be a string and must not
   equal any of the n_seen keys in seen. On success the caller appends it. */
proto_read_rc_t proto_reader_key (proto_reader_t *self, proto_item_t *key,
                                  const proto_key_t *seen, uint32_t n_seen);

/* The error code a reply gives for rc ("MALFORMED", "BAD_UTF8", ...; static
   string). */
const char *proto_read_rc_code (proto_read_rc_t rc);

/* A short description of rc for error messages (static string). */
const char *proto_read_rc_str (proto_read_rc_t rc);

/* Bytes not read yet. */
size_t proto_reader_remaining (const proto_reader_t *self);

/* True if len bytes at str are valid UTF-8 (no overlongs, no surrogates). */
bool proto_utf8_valid (const char *str, size_t len);

/* The longest prefix of the valid UTF-8 string str (len bytes) that has at
   most max bytes and does not split a character. */
uint32_t proto_utf8_cut (const char *str, uint32_t len, uint32_t max);

/* Shorten the NUL-terminated str, if needed, so it does not end in the
   middle of a character (after a cut by snprintf, say). */
void proto_utf8_trim (char *str);

#endif
