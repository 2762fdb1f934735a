/*  dqw_codec -- dqlite wire protocol version 1: messages to and from bytes.

    The formats follow dqlite 1.11.1: src/request.h and src/response.h for
    the fields of each message, src/lib/serialize.h for words, texts and
    blobs, src/tuple.c for parameter tuples and row headers, src/query.c for
    ROWS bodies, src/gateway.c for what each request is answered with. */

#include "dqw_codec.h"

#include <stdlib.h>
#include <string.h>

#define WORD 8

/* Value type codes of dqlite's tuples: SQLite's five, then dqlite's own
   (src/protocol.h), which only rows carry. */
#define WIRE_INTEGER   1
#define WIRE_FLOAT     2
#define WIRE_TEXT      3
#define WIRE_BLOB      4
#define WIRE_NULL      5
#define WIRE_UNIXTIME  9
#define WIRE_ISO8601  10
#define WIRE_BOOLEAN  11

static size_t
s_pad (size_t size)
{
    return (size + WORD - 1) & ~(size_t) (WORD - 1);
}

/*  --------------------------------------------------------------------------
    The requests: one row per type says which fields its body holds, in
    order, and which response answers it. Encoding walks the row. */

typedef enum {
    F_END = 0,
    F_ZERO,                     /* a word of zero: LEADER's unused field, OPEN's flags */
    F_DB,                       /* db as a word */
    F_DB_STMT,                  /* db and stmt as two u32 in one word */
    F_TEXT,                     /* text */
    F_VFS,                      /* OPEN's vfs name: ignored by dqlite 1.11 */
    F_NODE,                     /* node as a word */
    F_ROLE,                     /* role as a word */
    F_FORMAT,                   /* CLUSTER's format: 1, with roles */
    F_PARAMS                    /* the parameter tuple, if count > 0 */
} s_field_t;

#define MAX_FIELDS 4

static const struct {
    uint8_t type;
    const char *name;
    uint8_t response;
    s_field_t fields [MAX_FIELDS];
} s_requests [] = {
    { DQW_REQUEST_LEADER,    "LEADER",    DQW_RESPONSE_SERVER,  { F_ZERO } },
    { DQW_REQUEST_OPEN,      "OPEN",      DQW_RESPONSE_DB,      { F_TEXT, F_ZERO, F_VFS } },
    { DQW_REQUEST_PREPARE,   "PREPARE",   DQW_RESPONSE_STMT,    { F_DB, F_TEXT } },
    { DQW_REQUEST_EXEC,      "EXEC",      DQW_RESPONSE_RESULT,  { F_DB_STMT, F_PARAMS } },
    { DQW_REQUEST_QUERY,     "QUERY",     DQW_RESPONSE_ROWS,    { F_DB_STMT, F_PARAMS } },
    { DQW_REQUEST_FINALIZE,  "FINALIZE",  DQW_RESPONSE_EMPTY,   { F_DB_STMT } },
    { DQW_REQUEST_EXEC_SQL,  "EXEC_SQL",  DQW_RESPONSE_RESULT,  { F_DB, F_TEXT, F_PARAMS } },
    { DQW_REQUEST_QUERY_SQL, "QUERY_SQL", DQW_RESPONSE_ROWS,    { F_DB, F_TEXT, F_PARAMS } },
    { DQW_REQUEST_ADD,       "ADD",       DQW_RESPONSE_EMPTY,   { F_NODE, F_TEXT } },
    { DQW_REQUEST_ASSIGN,    "ASSIGN",    DQW_RESPONSE_EMPTY,   { F_NODE, F_ROLE } },
    { DQW_REQUEST_REMOVE,    "REMOVE",    DQW_RESPONSE_EMPTY,   { F_NODE } },
    { DQW_REQUEST_CLUSTER,   "CLUSTER",   DQW_RESPONSE_SERVERS, { F_FORMAT } },
    { DQW_REQUEST_TRANSFER,  "TRANSFER",  DQW_RESPONSE_EMPTY,   { F_NODE } },
};
#define N_REQUESTS (sizeof (s_requests) / sizeof (s_requests [0]))

/* What OPEN sends as the vfs: the name go-dqlite sends. */
#define OPEN_VFS "volatile"

static int
s_request_index (uint8_t type)
{
    for (size_t n = 0; n < N_REQUESTS; n++)
        if (s_requests [n].type == type)
            return (int) n;
    return -1;
}

int
dqw_request_response_type (uint8_t request_type)
{
    int index = s_request_index (request_type);
    return index < 0? -1: s_requests [index].response;
}

const char *
dqw_request_name (uint8_t type)
{
    int index = s_request_index (type);
    return index < 0? "unknown request": s_requests [index].name;
}

const char *
dqw_response_name (uint8_t type)
{
    switch (type) {
        case DQW_RESPONSE_FAILURE: return "FAILURE";
        case DQW_RESPONSE_SERVER:  return "SERVER";
        case DQW_RESPONSE_SERVERS: return "SERVERS";
        case DQW_RESPONSE_DB:      return "DB";
        case DQW_RESPONSE_STMT:    return "STMT";
        case DQW_RESPONSE_RESULT:  return "RESULT";
        case DQW_RESPONSE_ROWS:    return "ROWS";
        case DQW_RESPONSE_EMPTY:   return "EMPTY";
    }
    return "unknown response";
}

/*  --------------------------------------------------------------------------
    Encoding. A writer with no buffer only counts, so a request is measured,
    its buffer sized once, then written. */

void
dqw_buf_init (dqw_buf_t *buf)
{
    memset (buf, 0, sizeof (*buf));
}

void
dqw_buf_reset (dqw_buf_t *buf)
{
    free (buf->data);
    dqw_buf_init (buf);
}

typedef struct {
    uint8_t *data;              /* NULL: measure only */
    size_t size;
} s_writer_t;

static void
s_put_bytes (s_writer_t *w, const void *bytes, size_t len)
{
    if (w->data && len)
        memcpy (w->data + w->size, bytes, len);
    w->size += len;
}

static void
s_put_zeros (s_writer_t *w, size_t len)
{
    if (w->data)
        memset (w->data + w->size, 0, len);
    w->size += len;
}

static void
s_put_le (s_writer_t *w, uint64_t value, int n)
{
    uint8_t bytes [8];
    for (int i = 0; i < n; i++)
        bytes [i] = (uint8_t) (value >> (8 * i));
    s_put_bytes (w, bytes, (size_t) n);
}

static void
s_put_u64 (s_writer_t *w, uint64_t value)
{
    s_put_le (w, value, 8);
}

static void
s_put_pad (s_writer_t *w)
{
    s_put_zeros (w, s_pad (w->size) - w->size);
}

/*  A text: the bytes, a NUL, zeros to the word. The writer's size is
    word-aligned wherever a text starts. */
static void
s_put_text (s_writer_t *w, const void *bytes, size_t len)
{
    s_put_bytes (w, bytes, len);
    s_put_zeros (w, 1);
    s_put_pad (w);
}

/*  The tuple of parameters (src/tuple.h, params format): a count byte, a
    type byte per parameter, zeros to the word, then each value from a word
    boundary. dqlite skips the tuple when the body ends before it. */
static void
s_put_params (s_writer_t *w, const dqw_value_t *params, unsigned count)
{
    if (count == 0)
        return;
    s_put_le (w, count, 1);
    for (unsigned n = 0; n < count; n++)
        s_put_le (w, (uint64_t) params [n].type, 1);
    s_put_pad (w);
    for (unsigned n = 0; n < count; n++) {
        const dqw_value_t *value = &params [n];
        switch (value->type) {
            case DQW_INTEGER:
                s_put_u64 (w, (uint64_t) value->i);
                break;
            case DQW_FLOAT: {
                uint64_t bits;
                memcpy (&bits, &value->f, sizeof (bits));
                s_put_u64 (w, bits);
                break;
            }
            case DQW_TEXT:
                s_put_text (w, value->p, value->len);
                break;
            case DQW_BLOB:
                s_put_u64 (w, value->len);
                s_put_bytes (w, value->p, value->len);
                s_put_pad (w);
                break;
            case DQW_NULL:
                s_put_u64 (w, 0);
                break;
        }
    }
}

/*  Everything that would make a request unsendable, found before a byte is
    written. Each length is below DQW_MAX_BODY, so the measuring that
    follows cannot overflow. */
static const char *
s_request_check (const dqw_request_t *req, int index)
{
    for (int f = 0; f < MAX_FIELDS && s_requests [index].fields [f] != F_END; f++) {
        switch (s_requests [index].fields [f]) {
            case F_TEXT:
                if (!req->text)
                    return "a NULL string";
                if (strlen (req->text) >= DQW_MAX_BODY)
                    return "a string longer than a message may be";
                break;
            case F_PARAMS:
                if (req->count > DQW_MAX_PARAMS)
                    return "more than 255 parameters";
                if (req->count > 0 && !req->params)
                    return "NULL parameters";
                for (unsigned n = 0; n < req->count; n++) {
                    const dqw_value_t *value = &req->params [n];
                    if (value->type < DQW_INTEGER || value->type > DQW_NULL)
                        return "a parameter of unknown type";
                    if (value->type == DQW_TEXT || value->type == DQW_BLOB) {
                        if (value->len >= DQW_MAX_BODY)
                            return "a parameter longer than a message may be";
                        if (value->len > 0 && !value->p)
                            return "a parameter with a NULL pointer";
                    }
                    /* dqlite binds a text up to its first NUL */
                    if (value->type == DQW_TEXT && value->len > 0
                    &&  memchr (value->p, 0, value->len))
                        return "a text parameter with a NUL byte in it (send it as a blob)";
                }
                break;
            default:
                break;
        }
    }
    return NULL;
}

static void
s_request_write (s_writer_t *w, const dqw_request_t *req, int index, size_t body_size)
{
    s_put_le (w, body_size / WORD, 4);
    s_put_le (w, req->type, 1);
    s_put_zeros (w, 3);         /* schema 0, two unused bytes */
    for (int f = 0; f < MAX_FIELDS && s_requests [index].fields [f] != F_END; f++) {
        switch (s_requests [index].fields [f]) {
            case F_END:     break;
            case F_ZERO:    s_put_u64 (w, 0); break;
            case F_DB:      s_put_u64 (w, req->db); break;
            case F_DB_STMT: s_put_le (w, req->db, 4); s_put_le (w, req->stmt, 4); break;
            case F_TEXT:    s_put_text (w, req->text, strlen (req->text)); break;
            case F_VFS:     s_put_text (w, OPEN_VFS, strlen (OPEN_VFS)); break;
            case F_NODE:    s_put_u64 (w, req->node); break;
            case F_ROLE:    s_put_u64 (w, req->role); break;
            case F_FORMAT:  s_put_u64 (w, 1); break;
            case F_PARAMS:  s_put_params (w, req->params, req->count); break;
        }
    }
}

int
dqw_request_encode (const dqw_request_t *req, dqw_buf_t *buf, const char **why_p)
{
    int index = s_request_index (req->type);
    if (index < 0) {
        *why_p = "a request type dqwire does not send";
        return -1;
    }
    const char *why = s_request_check (req, index);
    if (why) {
        *why_p = why;
        return -1;
    }
    s_writer_t measure = { NULL, 0 };
    s_request_write (&measure, req, index, 0);
    size_t body_size = measure.size - DQW_HEADER_SIZE;
    if (body_size > DQW_MAX_BODY) {
        *why_p = "a request larger than a message may be";
        return -1;
    }
    if (buf->capacity < measure.size) {
        uint8_t *data = realloc (buf->data, measure.size);
        if (!data) {
            *why_p = "out of memory";
            return -1;
        }
        buf->data = data;
        buf->capacity = measure.size;
    }
    s_writer_t writer = { buf->data, 0 };
    s_request_write (&writer, req, index, body_size);
    buf->size = writer.size;
    return 0;
}

/*  --------------------------------------------------------------------------
    Decoding, through a bounded cursor. Every read checks what is left
    first; a failed read leaves the cursor where it was. */

typedef struct {
    const uint8_t *needle;      /* next byte to read */
    const uint8_t *ceiling;     /* one past the last byte */
} s_reader_t;

static void
s_reader_init (s_reader_t *r, const void *data, size_t size)
{
    r->needle = (const uint8_t *) data;
    r->ceiling = r->needle + size;
}

static size_t
s_left (const s_reader_t *r)
{
    return (size_t) (r->ceiling - r->needle);
}

static uint64_t
s_le (const uint8_t *p, int n)
{
    uint64_t value = 0;
    for (int i = n - 1; i >= 0; i--)
        value = (value << 8) | p [i];
    return value;
}

static int
s_get_le (s_reader_t *r, int n, uint64_t *value_p)
{
    if (s_left (r) < (size_t) n)
        return -1;
    *value_p = s_le (r->needle, n);
    r->needle += n;
    return 0;
}

static int
s_get_u64 (s_reader_t *r, uint64_t *value_p)
{
    return s_get_le (r, 8, value_p);
}

static int
s_get_u32 (s_reader_t *r, uint32_t *value_p)
{
    uint64_t value;
    if (s_get_le (r, 4, &value))
        return -1;
    *value_p = (uint32_t) value;
    return 0;
}

/*  A text: its NUL must be present, and so must the padding after it. */
static int
s_get_text (s_reader_t *r, const char **text_p, size_t *len_p)
{
    if (s_left (r) == 0)
        return -1;
    const uint8_t *nul = memchr (r->needle, 0, s_left (r));
    if (!nul)
        return -1;
    size_t len = (size_t) (nul - r->needle);
    if (s_pad (len + 1) > s_left (r))
        return -1;
    *text_p = (const char *) r->needle;
    if (len_p)
        *len_p = len;
    r->needle += s_pad (len + 1);
    return 0;
}

/*  A blob: the length is checked against what is left before padding it,
    so a length near 2^64 cannot wrap. */
static int
s_get_blob (s_reader_t *r, const void **bytes_p, size_t *len_p)
{
    s_reader_t start = *r;
    uint64_t len;
    if (s_get_u64 (r, &len))
        return -1;
    if (len > s_left (r) || s_pad ((size_t) len) > s_left (r)) {
        *r = start;
        return -1;
    }
    *bytes_p = r->needle;
    *len_p = (size_t) len;
    r->needle += s_pad ((size_t) len);
    return 0;
}

void
dqw_header_decode (const uint8_t *bytes, dqw_header_t *header)
{
    header->words = (uint32_t) s_le (bytes, 4);
    header->type = bytes [4];
    header->schema = bytes [5];
    header->extra = (uint16_t) s_le (bytes + 6, 2);
}

static const char *
s_rows_part (s_reader_t *r, bool marker, size_t *columns_p, size_t *rows_p, uint64_t *marker_p,
             dqw_value_t *values, const char **names);

/*  A FAILURE that ends a batch of rows. When a step fails, dqlite 1.11
    (src/gateway.c, query_batch) appends the failure to the batch it has
    begun instead of replacing it: the body is the column count, the names,
    the rows stepped so far, then the code and the message. The message is
    the last text: its words but the last hold no zero byte, while the
    code's word does (codes are below 2^32). What comes before the code
    must be a whole batch without end marker. The body's length comes from
    the message header, so a batch cut short cannot pose as one. */
static int
s_failure_after_rows (const uint8_t *body, size_t size, dqw_response_t *res)
{
    if (size % WORD || size < 4 * WORD)     /* columns, a name, code, message */
        return -1;
    size_t last = size - WORD;
    const uint8_t *nul = memchr (body + last, 0, WORD);
    if (!nul)
        return -1;
    for (const uint8_t *pad = nul; pad < body + size; pad++)
        if (*pad)
            return -1;
    size_t start = last;
    while (start > 0 && !memchr (body + start - WORD, 0, WORD))
        start -= WORD;
    if (start < 3 * WORD)
        return -1;
    size_t code_at = start - WORD;
    /* dqlite's messages are words, not control bytes: an empty or binary
       "message" is more likely a row cut short */
    if (nul == body + start)
        return -1;
    for (const uint8_t *p = body + start; p < nul; p++)
        if (*p < 0x20 && *p != '\t' && *p != '\n')
            return -1;

    s_reader_t r;
    size_t columns = 0, rows;
    uint64_t marker;
    s_reader_init (&r, body, code_at);
    if (s_rows_part (&r, false, &columns, &rows, &marker, NULL, NULL) || s_left (&r))
        return -1;
    res->code = s_le (body + code_at, 8);
    res->message = (const char *) body + start;
    return 0;
}

int
dqw_response_decode (uint8_t type, const void *body, size_t size, dqw_response_t *res,
                     const char **why_p)
{
    s_reader_t r;
    uint64_t unused;
    const char *why = "truncated";
    s_reader_init (&r, body, size);
    memset (res, 0, sizeof (*res));
    res->type = type;

    switch (type) {
        case DQW_RESPONSE_FAILURE:
            if (s_get_u64 (&r, &res->code) == 0 && s_get_text (&r, &res->message, NULL) == 0
            &&  s_left (&r) == 0)
                return 0;
            if (s_failure_after_rows (body, size, res) == 0)
                return 0;
            memset (res, 0, sizeof (*res));
            why = "neither code and message, nor a batch of rows then code and message";
            goto malformed;
        case DQW_RESPONSE_SERVER:
            if (s_get_u64 (&r, &res->id))
                goto malformed;
            if (s_get_text (&r, &res->address, NULL)) {
                why = "the address is not a NUL-terminated, padded text";
                goto malformed;
            }
            break;
        case DQW_RESPONSE_DB:
            if (s_get_u32 (&r, &res->db) || s_get_le (&r, 4, &unused))
                goto malformed;
            break;
        case DQW_RESPONSE_STMT:
            if (s_get_u32 (&r, &res->db) || s_get_u32 (&r, &res->stmt)
            ||  s_get_u64 (&r, &res->params))
                goto malformed;
            break;
        case DQW_RESPONSE_RESULT:
            if (s_get_u64 (&r, &res->last_id) || s_get_u64 (&r, &res->changes))
                goto malformed;
            break;
        case DQW_RESPONSE_EMPTY:
            if (s_get_u64 (&r, &unused))
                goto malformed;
            break;
        default:
            why = "not a response type this decoder reads";
            goto malformed;
    }
    if (s_left (&r) > 0) {
        why = "bytes left over after the last field";
        goto malformed;
    }
    return 0;

malformed:
    *why_p = why;
    return -1;
}

void
dqw_nodes_free (dqw_node_t *nodes, size_t count)
{
    if (!nodes)
        return;
    for (size_t n = 0; n < count; n++)
        free (nodes [n].address);
    free (nodes);
}

/*  SERVERS (src/gateway.c, encodeServer): a count, then per node its id,
    address and role. Each node takes at least three words, which bounds
    the count before the array is allocated. */
int
dqw_servers_decode (const void *body, size_t size, dqw_node_t **nodes_p, size_t *count_p,
                    const char **why_p)
{
    s_reader_t r;
    uint64_t count;
    dqw_node_t *nodes = NULL;
    size_t n = 0;
    const char *why = "truncated";
    s_reader_init (&r, body, size);

    if (s_get_u64 (&r, &count))
        goto malformed;
    if (count > s_left (&r) / (3 * WORD)) {
        why = "more nodes declared than the body holds";
        goto malformed;
    }
    nodes = calloc (count? (size_t) count: 1, sizeof (dqw_node_t));
    if (!nodes) {
        why = "out of memory";
        goto malformed;
    }
    for (n = 0; n < count; n++) {
        const char *address;
        size_t len;
        uint64_t role;
        if (s_get_u64 (&r, &nodes [n].id))
            goto malformed;
        if (s_get_text (&r, &address, &len)) {
            why = "an address is not a NUL-terminated, padded text";
            goto malformed;
        }
        if (s_get_u64 (&r, &role))
            goto malformed;
        if (role > DQW_SPARE) {
            why = "a node with an unknown role";
            goto malformed;
        }
        nodes [n].role = (int) role;
        nodes [n].address = malloc (len + 1);
        if (!nodes [n].address) {
            why = "out of memory";
            goto malformed;
        }
        memcpy (nodes [n].address, address, len + 1);
    }
    if (s_left (&r) > 0) {
        why = "bytes left over after the last node";
        goto malformed;
    }
    *nodes_p = nodes;
    *count_p = (size_t) count;
    return 0;

malformed:
    dqw_nodes_free (nodes, nodes? (size_t) count: 0);     /* calloc'd: unset addresses are NULL */
    *why_p = why;
    return -1;
}

/*  --------------------------------------------------------------------------
    ROWS. One body (src/query.c, query__batch): the column count, the column
    names, rows, then the marker as the last word. A row is a header of one
    type nibble per column -- column 2k in the low nibble of byte k, column
    2k+1 in its high nibble (src/tuple.c, set_type) -- zero-padded to a
    word, then each value. The marker cannot be mistaken for a row header:
    its nibbles, 0xe and 0xf, are no value type.

    dqw_rows_append checks each body as it arrives (counting its rows) and
    keeps it; when the last one is in, it walks them all again to fill the
    values, which then point into bytes that no longer move. */

enum { ROWS_EMPTY = 0, ROWS_GATHERING, ROWS_COMPLETE };

void
dqw_rows_init (dqw_rows_t *rows)
{
    memset (rows, 0, sizeof (*rows));
}

void
dqw_rows_reset (dqw_rows_t *rows)
{
    free (rows->data_);
    free (rows->values);
    free (rows->names);
    dqw_rows_init (rows);
}

void
dqw_rows_clear (dqw_rows_t *rows)
{
    rows->columns = 0;
    rows->rows = 0;
    rows->parts = 0;
    rows->data_size_ = 0;
    rows->rows_seen_ = 0;
    rows->state_ = ROWS_EMPTY;
}

const dqw_value_t *
dqw_rows_get (const dqw_rows_t *rows, size_t row, size_t column)
{
    if (rows->state_ != ROWS_COMPLETE || row >= rows->rows || column >= rows->columns)
        return NULL;
    return &rows->values [row * rows->columns + column];
}

/*  Read one value of wire type into value (if not NULL). */
static const char *
s_get_value (s_reader_t *r, int type, dqw_value_t *value)
{
    dqw_value_t v;
    uint64_t word;
    memset (&v, 0, sizeof (v));
    switch (type) {
        case WIRE_INTEGER:
        case WIRE_UNIXTIME:
        case WIRE_BOOLEAN:
            if (s_get_u64 (r, &word))
                return "a row is truncated";
            v.type = DQW_INTEGER;
            v.i = (int64_t) word;
            break;
        case WIRE_FLOAT:
            if (s_get_u64 (r, &word))
                return "a row is truncated";
            v.type = DQW_FLOAT;
            memcpy (&v.f, &word, sizeof (v.f));
            break;
        case WIRE_TEXT:
        case WIRE_ISO8601: {
            const char *text;
            if (s_get_text (r, &text, &v.len))
                return "a text value is not a NUL-terminated, padded text";
            v.type = DQW_TEXT;
            v.p = text;
            break;
        }
        case WIRE_BLOB:
            if (s_get_blob (r, &v.p, &v.len))
                return "a blob value is longer than the body";
            v.type = DQW_BLOB;
            break;
        case WIRE_NULL:
            if (s_get_u64 (r, &word))
                return "a row is truncated";
            v.type = DQW_NULL;
            break;
        default:
            return "a value of unknown type";
    }
    if (value)
        *value = v;
    return NULL;
}

/*  Walk one part from r's needle up to and including its marker (or, if
    marker is false, to the end of r, with no marker). columns is the count
    earlier parts had (0 for the first part); the part's count must equal
    it. With values not NULL, fills columns values per row and, with names
    not NULL, the names. Sets *rows_p to the rows read and *marker_p to the
    marker. Returns NULL or why the part is malformed. */
static const char *
s_rows_part (s_reader_t *r, bool marker, size_t *columns_p, size_t *rows_p, uint64_t *marker_p,
             dqw_value_t *values, const char **names)
{
    uint64_t count;
    if (s_get_u64 (r, &count))
        return "truncated before the column count";
    if (count == 0)
        return "a result with no columns";
    /* each name takes at least a word */
    if (count > s_left (r) / WORD)
        return "more columns declared than the body holds";
    if (*columns_p && count != *columns_p)
        return "the parts of a result disagree on the column count";
    size_t columns = (size_t) count;
    for (size_t c = 0; c < columns; c++) {
        const char *name;
        if (s_get_text (r, &name, NULL))
            return "a column name is not a NUL-terminated, padded text";
        if (names)
            names [c] = name;
    }
    size_t header_size = s_pad ((columns + 1) / 2);
    size_t n_rows = 0;
    *marker_p = 0;
    while (true) {
        uint64_t word;
        if (!marker && s_left (r) == 0)
            break;
        if (s_left (r) < WORD)
            return "no end marker";
        word = s_le (r->needle, 8);
        if (word == DQW_ROWS_PART || word == DQW_ROWS_DONE) {
            if (!marker)
                return "an end marker where none belongs";
            r->needle += WORD;
            *marker_p = word;
            break;
        }
        if (header_size > s_left (r))
            return "a row header is truncated";
        const uint8_t *header = r->needle;
        for (size_t b = columns / 2 + columns % 2; b < header_size; b++)
            if (header [b])
                return "a row header has types past the last column";
        if (columns % 2 && header [columns / 2] >> 4)
            return "a row header has types past the last column";
        r->needle += header_size;
        for (size_t c = 0; c < columns; c++) {
            int type = (header [c / 2] >> (c % 2? 4: 0)) & 0x0f;
            const char *why = s_get_value (r, type, values? &values [n_rows * columns + c]: NULL);
            if (why)
                return why;
        }
        n_rows++;
    }
    *columns_p = columns;
    *rows_p = n_rows;
    return NULL;
}

/*  data grown, if need be, to hold need (at least 1) units of unit bytes;
    *capacity_p follows. NULL if memory ran out: data is then unchanged and
    still the caller's. */
static void *
s_grow (void *data, size_t *capacity_p, size_t need, size_t unit)
{
    if (need <= *capacity_p)
        return data;
    size_t capacity = *capacity_p? *capacity_p: 16;
    while (capacity < need)
        capacity *= 2;
    if (capacity > SIZE_MAX / unit)
        return NULL;
    data = realloc (data, capacity * unit);
    if (data)
        *capacity_p = capacity;
    return data;
}

/*  All parts are in: walk them again, filling values and names. */
static const char *
s_rows_complete (dqw_rows_t *rows)
{
    size_t columns = rows->columns;
    if (rows->rows_seen_ > SIZE_MAX / sizeof (dqw_value_t) / columns)
        return "out of memory";
    /* at least one value, so that values is never NULL */
    dqw_value_t *values = s_grow (rows->values, &rows->values_capacity_,
                                  rows->rows_seen_ * columns + 1, sizeof (dqw_value_t));
    if (!values)
        return "out of memory";
    rows->values = values;
    const char **names = s_grow (rows->names, &rows->names_capacity_, columns, sizeof (char *));
    if (!names)
        return "out of memory";
    rows->names = names;
    s_reader_t r;
    s_reader_init (&r, rows->data_, rows->data_size_);
    size_t filled = 0;
    for (size_t part = 0; part < rows->parts; part++) {
        size_t part_rows;
        uint64_t marker;
        const char *why = s_rows_part (&r, true, &columns, &part_rows, &marker,
                                       rows->values + filled * columns,
                                       part == 0? rows->names: NULL);
        if (why)
            return why;         /* cannot happen: each part was checked */
        filled += part_rows;
    }
    if (filled != rows->rows_seen_ || s_left (&r) != 0)
        return "the parts of a result changed";
    rows->rows = filled;
    rows->state_ = ROWS_COMPLETE;
    return NULL;
}

int
dqw_rows_append (dqw_rows_t *rows, const void *body, size_t size, bool *more_p, const char **why_p)
{
    const char *why;
    *more_p = false;
    if (rows->state_ == ROWS_COMPLETE)
        dqw_rows_clear (rows);

    s_reader_t r;
    size_t columns = rows->columns;
    size_t part_rows;
    uint64_t marker;
    s_reader_init (&r, body, size);
    why = s_rows_part (&r, true, &columns, &part_rows, &marker, NULL, NULL);
    if (why)
        goto malformed;
    if (s_left (&r) > 0) {
        why = "bytes left over after the end marker";
        goto malformed;
    }
    if (size > DQW_MAX_RESULT - rows->data_size_) {
        why = "a result larger than DQW_MAX_RESULT";
        goto malformed;
    }
    uint8_t *data = s_grow (rows->data_, &rows->data_capacity_, rows->data_size_ + size, 1);
    if (!data) {
        why = "out of memory";
        goto malformed;
    }
    rows->data_ = data;
    memcpy (rows->data_ + rows->data_size_, body, size);
    rows->data_size_ += size;
    rows->columns = columns;
    rows->rows_seen_ += part_rows;
    rows->parts++;
    rows->state_ = ROWS_GATHERING;
    if (marker == DQW_ROWS_PART) {
        *more_p = true;
        return 0;
    }
    why = s_rows_complete (rows);
    if (why)
        goto malformed;
    return 0;

malformed:
    dqw_rows_clear (rows);
    *why_p = why;
    return -1;
}
