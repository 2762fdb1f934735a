/*  test_dqwire -- dqwire: the codec against hand-written bytes, the
    connection against fake peers that misbehave, and the whole client
    against a real dqlite node started in this process.

    The expected request bytes were written from dqlite 1.11.1's sources
    (src/request.h, src/lib/serialize.h, src/tuple.c), not produced by the
    code under test. */

#define _GNU_SOURCE             /* nftw */
#include "dqw.h"
#include "dqw_codec.h"
#include "testing.h"

#include <dqlite.h>

#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define COUNT(a) (sizeof (a) / sizeof ((a) [0]))

/*  --------------------------------------------------------------------------
    Helpers. */

static int64_t
s_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
s_sleep_ms (int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000 };
    nanosleep (&ts, NULL);
}

/*  A failed comparison shows every byte that differs. */
static void
s_check_bytes (const char *label, const uint8_t *got, size_t got_size,
               const uint8_t *want, size_t want_size)
{
    if (got_size == want_size && memcmp (got, want, want_size) == 0)
        return;
    fprintf (stderr, "%s: bytes differ (got %zu bytes, want %zu)\n", label, got_size, want_size);
    size_t max = got_size > want_size? got_size: want_size;
    for (size_t i = 0; i < max; i++) {
        int g = i < got_size? got [i]: -1;
        int w = i < want_size? want [i]: -1;
        if (g != w)
            fprintf (stderr, "    [%zu] got %02x want %02x\n", i, (unsigned) g & 0xff, (unsigned) w & 0xff);
    }
    t_checks_failed++;
}

/*  A growable byte vector for building responses. */
typedef struct {
    uint8_t *data;
    size_t size;
    size_t capacity;
} s_bytes_t;

static void
s_raw (s_bytes_t *b, const void *bytes, size_t n)
{
    if (b->size + n > b->capacity) {
        b->capacity = (b->size + n) * 2 + 64;
        b->data = realloc (b->data, b->capacity);
        if (!b->data)
            abort ();
    }
    if (n)
        memcpy (b->data + b->size, bytes, n);
    b->size += n;
}

static void
s_word (s_bytes_t *b, uint64_t value)
{
    uint8_t bytes [8];
    for (int i = 0; i < 8; i++)
        bytes [i] = (uint8_t) (value >> (8 * i));
    s_raw (b, bytes, 8);
}

static void
s_text (s_bytes_t *b, const char *text)
{
    static const uint8_t zeros [8];
    size_t len = strlen (text) + 1;
    s_raw (b, text, len);
    if (len % 8)
        s_raw (b, zeros, 8 - len % 8);
}

/*  A whole message: header, then the body built between begin and end. */
static size_t
s_message_begin (s_bytes_t *b)
{
    s_word (b, 0);
    return b->size;
}

static void
s_message_end (s_bytes_t *b, size_t start, uint8_t type)
{
    uint32_t words = (uint32_t) ((b->size - start) / 8);
    for (int i = 0; i < 4; i++)
        b->data [start - 8 + i] = (uint8_t) (words >> (8 * i));
    b->data [start - 4] = type;
}

static void
s_bytes_free (s_bytes_t *b)
{
    free (b->data);
    memset (b, 0, sizeof (*b));
}

static dqw_value_t
s_int (int64_t i)
{
    dqw_value_t v = { .type = DQW_INTEGER, .i = i };
    return v;
}

static dqw_value_t
s_float (double f)
{
    dqw_value_t v = { .type = DQW_FLOAT, .f = f };
    return v;
}

static dqw_value_t
s_textv (const char *text)
{
    dqw_value_t v = { .type = DQW_TEXT, .p = text, .len = strlen (text) };
    return v;
}

static dqw_value_t
s_blob (const void *p, size_t len)
{
    dqw_value_t v = { .type = DQW_BLOB, .p = p, .len = len };
    return v;
}

static dqw_value_t
s_null (void)
{
    dqw_value_t v = { .type = DQW_NULL };
    return v;
}

static bool
s_text_is (const dqw_value_t *v, const char *text)
{
    return v && v->type == DQW_TEXT && v->len == strlen (text) && memcmp (v->p, text, v->len) == 0
        && ((const char *) v->p) [v->len] == 0;
}

/*  --------------------------------------------------------------------------
    Encoding requests. */

static void
s_encode_check (const char *label, const dqw_request_t *req, const uint8_t *want, size_t want_size)
{
    dqw_buf_t buf;
    const char *why = "";
    dqw_buf_init (&buf);
    int rc = dqw_request_encode (req, &buf, &why);
    CHECK_INT (rc, 0);
    if (rc)
        fprintf (stderr, "    %s: %s\n", label, why);
    else
        s_check_bytes (label, buf.data, buf.size, want, want_size);
    dqw_buf_reset (&buf);
}

static void
test_encode_requests (void)
{
    /* LEADER: one unused word. */
    static const uint8_t leader [] = {
        1,0,0,0, 0,0,0,0,               /* 1 word, type 0 */
        0,0,0,0,0,0,0,0 };
    dqw_request_t req = { .type = DQW_REQUEST_LEADER };
    s_encode_check ("LEADER", &req, leader, sizeof (leader));

    /* OPEN: name, flags, vfs. */
    static const uint8_t open [] = {
        4,0,0,0, 3,0,0,0,
        't','e','s','t',0,0,0,0,
        0,0,0,0,0,0,0,0,
        'v','o','l','a','t','i','l','e', 0,0,0,0,0,0,0,0 };
    req = (dqw_request_t) { .type = DQW_REQUEST_OPEN, .text = "test" };
    s_encode_check ("OPEN", &req, open, sizeof (open));

    /* PREPARE: db as a word, then the SQL. */
    static const uint8_t prepare [] = {
        3,0,0,0, 4,0,0,0,
        2,0,0,0,0,0,0,0,
        'S','E','L','E','C','T',' ','1', 0,0,0,0,0,0,0,0 };
    req = (dqw_request_t) { .type = DQW_REQUEST_PREPARE, .db = 2, .text = "SELECT 1" };
    s_encode_check ("PREPARE", &req, prepare, sizeof (prepare));

    /* EXEC: db and stmt as two u32, then the tuple: count, types, padding,
       then each value from a word boundary. */
    static const uint8_t blob [] = { 1, 2, 3 };
    dqw_value_t params [] = { s_int (-2), s_float (1.5), s_textv ("hi"), s_blob (blob, 3), s_null () };
    static const uint8_t exec [] = {
        8,0,0,0, 5,0,0,0,
        1,0,0,0, 7,0,0,0,               /* db 1, stmt 7 */
        5, 1,2,3,4,5, 0,0,              /* 5 params: integer float text blob null */
        0xfe,0xff,0xff,0xff,0xff,0xff,0xff,0xff,    /* -2 */
        0,0,0,0,0,0,0xf8,0x3f,          /* 1.5 */
        'h','i',0,0,0,0,0,0,
        3,0,0,0,0,0,0,0, 1,2,3,0,0,0,0,0,
        0,0,0,0,0,0,0,0 };
    req = (dqw_request_t) { .type = DQW_REQUEST_EXEC, .db = 1, .stmt = 7, .params = params, .count = 5 };
    s_encode_check ("EXEC", &req, exec, sizeof (exec));

    /* QUERY with no params carries no tuple. */
    static const uint8_t query [] = {
        1,0,0,0, 6,0,0,0,
        0,0,0,0, 2,0,0,0 };
    req = (dqw_request_t) { .type = DQW_REQUEST_QUERY, .db = 0, .stmt = 2 };
    s_encode_check ("QUERY", &req, query, sizeof (query));

    /* Seven params fill the tuple header's word exactly... */
    dqw_value_t seven [7];
    for (int i = 0; i < 7; i++)
        seven [i] = s_int (i + 1);
    static const uint8_t exec7 [] = {
        9,0,0,0, 5,0,0,0,
        0,0,0,0, 3,0,0,0,
        7, 1,1,1,1,1,1,1,
        1,0,0,0,0,0,0,0, 2,0,0,0,0,0,0,0, 3,0,0,0,0,0,0,0, 4,0,0,0,0,0,0,0,
        5,0,0,0,0,0,0,0, 6,0,0,0,0,0,0,0, 7,0,0,0,0,0,0,0 };
    req = (dqw_request_t) { .type = DQW_REQUEST_EXEC, .stmt = 3, .params = seven, .count = 7 };
    s_encode_check ("EXEC 7 params", &req, exec7, sizeof (exec7));

    /* ...and eight need a second one. */
    dqw_value_t eight [8];
    for (int i = 0; i < 8; i++)
        eight [i] = s_null ();
    static const uint8_t exec8 [] = {
        11,0,0,0, 5,0,0,0,
        0,0,0,0, 9,0,0,0,
        8, 5,5,5,5,5,5,5,
        5, 0,0,0,0,0,0,0,
        0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,
        0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0 };
    req = (dqw_request_t) { .type = DQW_REQUEST_EXEC, .stmt = 9, .params = eight, .count = 8 };
    s_encode_check ("EXEC 8 params", &req, exec8, sizeof (exec8));

    static const uint8_t finalize [] = {
        1,0,0,0, 7,0,0,0,
        0,0,0,0, 7,0,0,0 };
    req = (dqw_request_t) { .type = DQW_REQUEST_FINALIZE, .stmt = 7 };
    s_encode_check ("FINALIZE", &req, finalize, sizeof (finalize));

    static const uint8_t exec_sql [] = {
        4,0,0,0, 8,0,0,0,
        0,0,0,0,0,0,0,0,
        'C','R','E','A','T','E',' ','T', 'A','B','L','E',' ','t',' ','(', 'x',')',0,0,0,0,0,0 };
    req = (dqw_request_t) { .type = DQW_REQUEST_EXEC_SQL, .text = "CREATE TABLE t (x)" };
    s_encode_check ("EXEC_SQL", &req, exec_sql, sizeof (exec_sql));

    /* A 7-byte text param fills its word with the NUL; an empty text and an
       empty blob take one word each. */
    dqw_value_t texts [] = { s_textv ("abcdefg"), s_textv (""), s_blob (NULL, 0) };
    static const uint8_t query_sql [] = {
        7,0,0,0, 9,0,0,0,
        0,0,0,0,0,0,0,0,
        'S','E','L','E','C','T',' ','?', 0,0,0,0,0,0,0,0,
        3, 3,3,4, 0,0,0,0,
        'a','b','c','d','e','f','g',0,
        0,0,0,0,0,0,0,0,
        0,0,0,0,0,0,0,0 };
    req = (dqw_request_t) { .type = DQW_REQUEST_QUERY_SQL, .text = "SELECT ?", .params = texts, .count = 3 };
    s_encode_check ("QUERY_SQL", &req, query_sql, sizeof (query_sql));

    static const uint8_t add [] = {
        2,0,0,0, 12,0,0,0,
        2,0,0,0,0,0,0,0,
        '@','a',0,0,0,0,0,0 };
    req = (dqw_request_t) { .type = DQW_REQUEST_ADD, .node = 2, .text = "@a" };
    s_encode_check ("ADD", &req, add, sizeof (add));

    static const uint8_t assign [] = {
        2,0,0,0, 13,0,0,0,
        2,0,0,0,0,0,0,0,
        1,0,0,0,0,0,0,0 };
    req = (dqw_request_t) { .type = DQW_REQUEST_ASSIGN, .node = 2, .role = DQW_STANDBY };
    s_encode_check ("ASSIGN", &req, assign, sizeof (assign));

    static const uint8_t remove_ [] = {
        1,0,0,0, 14,0,0,0,
        8,7,6,5,4,3,2,1 };
    req = (dqw_request_t) { .type = DQW_REQUEST_REMOVE, .node = UINT64_C (0x0102030405060708) };
    s_encode_check ("REMOVE", &req, remove_, sizeof (remove_));

    static const uint8_t cluster [] = {
        1,0,0,0, 16,0,0,0,
        1,0,0,0,0,0,0,0 };             /* format 1: with roles */
    req = (dqw_request_t) { .type = DQW_REQUEST_CLUSTER };
    s_encode_check ("CLUSTER", &req, cluster, sizeof (cluster));

    static const uint8_t transfer [] = {
        1,0,0,0, 17,0,0,0,
        3,0,0,0,0,0,0,0 };
    req = (dqw_request_t) { .type = DQW_REQUEST_TRANSFER, .node = 3 };
    s_encode_check ("TRANSFER", &req, transfer, sizeof (transfer));

    CHECK_INT (dqw_request_response_type (DQW_REQUEST_LEADER), DQW_RESPONSE_SERVER);
    CHECK_INT (dqw_request_response_type (DQW_REQUEST_QUERY_SQL), DQW_RESPONSE_ROWS);
    CHECK_INT (dqw_request_response_type (DQW_REQUEST_CLUSTER), DQW_RESPONSE_SERVERS);
    CHECK_INT (dqw_request_response_type (2), -1);
}

static void
test_encode_refuses (void)
{
    dqw_buf_t buf;
    dqw_buf_init (&buf);
    const char *why;
    dqw_value_t many [256];
    for (int i = 0; i < 256; i++)
        many [i] = s_null ();

    /* 255 params: a 256-byte header (count + 255 types), 255 words. */
    dqw_request_t req = { .type = DQW_REQUEST_EXEC, .params = many, .count = 255 };
    CHECK_INT (dqw_request_encode (&req, &buf, &why), 0);
    CHECK_INT (buf.size, 8 + 8 + 256 + 255 * 8);
    CHECK_INT (buf.data [16], 255);
    CHECK_INT (buf.data [16 + 255], 5);

    why = NULL;
    req.count = 256;
    CHECK_INT (dqw_request_encode (&req, &buf, &why), -1);
    CHECK (why && strstr (why, "255"));

    dqw_value_t nul_text = { .type = DQW_TEXT, .p = "a\0b", .len = 3 };
    req = (dqw_request_t) { .type = DQW_REQUEST_EXEC, .params = &nul_text, .count = 1 };
    CHECK_INT (dqw_request_encode (&req, &buf, &why), -1);

    dqw_value_t bad_type = { .type = (dqw_type_t) 9 };
    req = (dqw_request_t) { .type = DQW_REQUEST_EXEC, .params = &bad_type, .count = 1 };
    CHECK_INT (dqw_request_encode (&req, &buf, &why), -1);

    dqw_value_t null_blob = { .type = DQW_BLOB, .p = NULL, .len = 4 };
    req = (dqw_request_t) { .type = DQW_REQUEST_EXEC, .params = &null_blob, .count = 1 };
    CHECK_INT (dqw_request_encode (&req, &buf, &why), -1);

    req = (dqw_request_t) { .type = DQW_REQUEST_EXEC_SQL, .text = NULL };
    CHECK_INT (dqw_request_encode (&req, &buf, &why), -1);

    req = (dqw_request_t) { .type = 2 };            /* HEARTBEAT: not sent */
    CHECK_INT (dqw_request_encode (&req, &buf, &why), -1);
    req = (dqw_request_t) { .type = 200 };
    CHECK_INT (dqw_request_encode (&req, &buf, &why), -1);
    dqw_buf_reset (&buf);
}

/*  --------------------------------------------------------------------------
    Decoding responses. Bodies are copied into allocations of their exact
    size, so that AddressSanitizer sees any read past the end. */

static void *
s_dup (const void *bytes, size_t size)
{
    void *copy = malloc (size? size: 1);
    if (!copy)
        abort ();
    if (size)
        memcpy (copy, bytes, size);
    return copy;
}

static int
s_decode (uint8_t type, const void *body, size_t size, dqw_response_t *res, char *copy_of_text, size_t len)
{
    const char *why = NULL;
    void *copy = s_dup (body, size);
    int rc = dqw_response_decode (type, copy, size, res, &why);
    if (rc == 0 && copy_of_text) {
        const char *text = type == DQW_RESPONSE_FAILURE? res->message: res->address;
        snprintf (copy_of_text, len, "%s", text? text: "(null)");
    }
    if (rc)
        CHECK (why && *why);
    free (copy);
    return rc;
}

static void
test_decode_responses (void)
{
    dqw_response_t res;
    char text [64];

    static const uint8_t failure [] = {
        0x13,0x08,0,0,0,0,0,0,          /* 2067 */
        'u','n','i','q','u','e','!',0 };
    CHECK_INT (s_decode (DQW_RESPONSE_FAILURE, failure, sizeof (failure), &res, text, sizeof (text)), 0);
    CHECK_INT (res.code, 2067);
    CHECK_STR (text, "unique!");

    /* A step that fails: dqlite 1.11 puts the code and message after the
       batch it had begun. These are the bytes a node sent for "SELECT
       abs(-9223372036854775807 - 1) AS boom". */
    static const uint8_t failure_after_batch [] = {
        1,0,0,0,0,0,0,0,                /* 1 column */
        'b','o','o','m',0,0,0,0,        /* its name */
        1,0,0,0,0,0,0,0,                /* SQLITE_ERROR */
        'i','n','t','e','g','e','r',' ', 'o','v','e','r','f','l','o','w', 0,0,0,0,0,0,0,0 };
    CHECK_INT (s_decode (DQW_RESPONSE_FAILURE, failure_after_batch, sizeof (failure_after_batch),
                         &res, text, sizeof (text)), 0);
    CHECK_INT (res.code, 1);
    CHECK_STR (text, "integer overflow");

    /* ...and after rows of two columns. */
    s_bytes_t after_rows = { 0 };
    s_word (&after_rows, 2);
    s_text (&after_rows, "x");
    s_text (&after_rows, "CASE WHEN x = 100 THEN abs(-9223372036854775807 - 1) ELSE x END");
    for (int r = 1; r < 100; r++) {
        s_word (&after_rows, 0x11);
        s_word (&after_rows, (uint64_t) r);
        s_word (&after_rows, (uint64_t) r);
    }
    s_word (&after_rows, 2067);
    s_text (&after_rows, "UNIQUE constraint failed: t.k");
    CHECK_INT (s_decode (DQW_RESPONSE_FAILURE, after_rows.data, after_rows.size, &res, text, sizeof (text)), 0);
    CHECK_INT (res.code, 2067);
    CHECK_STR (text, "UNIQUE constraint failed: t.k");
    s_bytes_free (&after_rows);

    static const uint8_t server [] = {
        1,0,0,0,0,0,0,0,
        '@','n','o','d','e','1',0,0 };
    CHECK_INT (s_decode (DQW_RESPONSE_SERVER, server, sizeof (server), &res, text, sizeof (text)), 0);
    CHECK_INT (res.id, 1);
    CHECK_STR (text, "@node1");

    static const uint8_t no_leader [16] = { 0 };
    CHECK_INT (s_decode (DQW_RESPONSE_SERVER, no_leader, sizeof (no_leader), &res, text, sizeof (text)), 0);
    CHECK_INT (res.id, 0);
    CHECK_STR (text, "");

    static const uint8_t db [] = { 3,0,0,0, 0,0,0,0 };
    CHECK_INT (s_decode (DQW_RESPONSE_DB, db, sizeof (db), &res, NULL, 0), 0);
    CHECK_INT (res.db, 3);

    static const uint8_t stmt [] = {
        0,0,0,0, 5,0,0,0,
        2,0,0,0,0,0,0,0 };
    CHECK_INT (s_decode (DQW_RESPONSE_STMT, stmt, sizeof (stmt), &res, NULL, 0), 0);
    CHECK_INT (res.db, 0);
    CHECK_INT (res.stmt, 5);
    CHECK_INT (res.params, 2);

    static const uint8_t result [] = {
        10,0,0,0,0,0,0,0,
        0,1,0,0,0,0,0,0 };
    CHECK_INT (s_decode (DQW_RESPONSE_RESULT, result, sizeof (result), &res, NULL, 0), 0);
    CHECK_INT (res.last_id, 10);
    CHECK_INT (res.changes, 256);

    static const uint8_t empty [8] = { 0 };
    CHECK_INT (s_decode (DQW_RESPONSE_EMPTY, empty, sizeof (empty), &res, NULL, 0), 0);

    static const uint8_t servers [] = {
        2,0,0,0,0,0,0,0,
        1,0,0,0,0,0,0,0, '@','a',0,0,0,0,0,0, 0,0,0,0,0,0,0,0,
        2,0,0,0,0,0,0,0, '1','0','.','0','.','0','.','2', ':','9','0','0','1',0,0,0,
        2,0,0,0,0,0,0,0 };
    dqw_node_t *nodes = NULL;
    size_t count = 0;
    const char *why;
    void *copy = s_dup (servers, sizeof (servers));
    CHECK_INT (dqw_servers_decode (copy, sizeof (servers), &nodes, &count, &why), 0);
    free (copy);
    CHECK_INT (count, 2);
    if (count == 2) {
        CHECK_INT (nodes [0].id, 1);
        CHECK_STR (nodes [0].address, "@a");
        CHECK_INT (nodes [0].role, DQW_VOTER);
        CHECK_INT (nodes [1].id, 2);
        CHECK_STR (nodes [1].address, "10.0.0.2:9001");
        CHECK_INT (nodes [1].role, DQW_SPARE);
    }
    dqw_nodes_free (nodes, count);

    uint8_t header [8] = { 0x03,0x02,0x01,0x00, 7, 1, 0x34, 0x12 };
    dqw_header_t h;
    dqw_header_decode (header, &h);
    CHECK_INT (h.words, 0x010203);
    CHECK_INT (h.type, 7);
    CHECK_INT (h.schema, 1);
    CHECK_INT (h.extra, 0x1234);
}

static void
test_decode_malformed (void)
{
    dqw_response_t res;
    static const uint8_t code_only [] = { 5,0,0,0,0,0,0,0 };
    CHECK_INT (s_decode (DQW_RESPONSE_FAILURE, code_only, sizeof (code_only), &res, NULL, 0), -1);
    static const uint8_t no_nul [] = { 5,0,0,0,0,0,0,0, 'a','b','c','d','e','f','g','h' };
    CHECK_INT (s_decode (DQW_RESPONSE_FAILURE, no_nul, sizeof (no_nul), &res, NULL, 0), -1);
    static const uint8_t no_padding [] = { 5,0,0,0,0,0,0,0, 'a','b','c',0 };
    CHECK_INT (s_decode (DQW_RESPONSE_FAILURE, no_padding, sizeof (no_padding), &res, NULL, 0), -1);
    static const uint8_t extra_word [] = { 5,0,0,0,0,0,0,0, 'a',0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0 };
    CHECK_INT (s_decode (DQW_RESPONSE_FAILURE, extra_word, sizeof (extra_word), &res, NULL, 0), -1);
    /* What precedes code and message must be a batch of rows. */
    static const uint8_t not_a_batch [] = {
        1,0,0,0,0,0,0,0, 'b','o','o','m',0,0,0,0,
        0x07,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,    /* a row of unknown type */
        1,0,0,0,0,0,0,0, 'o','o','p','s',0,0,0,0 };
    CHECK_INT (s_decode (DQW_RESPONSE_FAILURE, not_a_batch, sizeof (not_a_batch), &res, NULL, 0), -1);
    static const uint8_t code_without_zeros [] = {
        1,0,0,0,0,0,0,0, 'b','o','o','m',0,0,0,0,
        1,1,1,1,1,1,1,1, 'o','o','p','s',0,0,0,0 };
    CHECK_INT (s_decode (DQW_RESPONSE_FAILURE, code_without_zeros, sizeof (code_without_zeros), &res, NULL, 0), -1);
    static const uint8_t binary_message [] = {
        1,0,0,0,0,0,0,0, 'b','o','o','m',0,0,0,0,
        1,0,0,0,0,0,0,0, 'o',0x01,'p','s',0,0,0,0 };
    CHECK_INT (s_decode (DQW_RESPONSE_FAILURE, binary_message, sizeof (binary_message), &res, NULL, 0), -1);
    static const uint8_t padding_not_zero [] = {
        1,0,0,0,0,0,0,0, 'b','o','o','m',0,0,0,0,
        1,0,0,0,0,0,0,0, 'o','o','p','s',0,0,0,1 };
    CHECK_INT (s_decode (DQW_RESPONSE_FAILURE, padding_not_zero, sizeof (padding_not_zero), &res, NULL, 0), -1);
    static const uint8_t address_no_nul [] = { 1,0,0,0,0,0,0,0, '@','a','b','c','d','e','f','g' };
    CHECK_INT (s_decode (DQW_RESPONSE_SERVER, address_no_nul, sizeof (address_no_nul), &res, NULL, 0), -1);
    static const uint8_t half_word [] = { 0,0,0,0 };
    CHECK_INT (s_decode (DQW_RESPONSE_DB, half_word, sizeof (half_word), &res, NULL, 0), -1);
    static const uint8_t two_words [16] = { 0 };
    CHECK_INT (s_decode (DQW_RESPONSE_DB, two_words, sizeof (two_words), &res, NULL, 0), -1);
    CHECK_INT (s_decode (DQW_RESPONSE_EMPTY, two_words, 0, &res, NULL, 0), -1);
    CHECK_INT (s_decode (DQW_RESPONSE_EMPTY, two_words, sizeof (two_words), &res, NULL, 0), -1);
    CHECK_INT (s_decode (DQW_RESPONSE_RESULT, two_words, 8, &res, NULL, 0), -1);
    CHECK_INT (s_decode (DQW_RESPONSE_STMT, two_words, 12, &res, NULL, 0), -1);
    CHECK_INT (s_decode (DQW_RESPONSE_ROWS, two_words, 16, &res, NULL, 0), -1);
    CHECK_INT (s_decode (200, two_words, 8, &res, NULL, 0), -1);

    /* SERVERS whose count disagrees with what follows, or is huge. */
    static const uint8_t more_declared [] = {
        3,0,0,0,0,0,0,0,
        1,0,0,0,0,0,0,0, '@','a',0,0,0,0,0,0, 0,0,0,0,0,0,0,0,
        2,0,0,0,0,0,0,0, '@','b',0,0,0,0,0,0, 0,0,0,0,0,0,0,0 };
    static const uint8_t huge_count [] = {
        0,0,0,0,0,0,0,0x80,
        1,0,0,0,0,0,0,0, '@','a',0,0,0,0,0,0, 0,0,0,0,0,0,0,0 };
    static const uint8_t fewer_declared [] = {
        1,0,0,0,0,0,0,0,
        1,0,0,0,0,0,0,0, '@','a',0,0,0,0,0,0, 0,0,0,0,0,0,0,0,
        2,0,0,0,0,0,0,0, '@','b',0,0,0,0,0,0, 0,0,0,0,0,0,0,0 };
    static const uint8_t bad_role [] = {
        1,0,0,0,0,0,0,0,
        1,0,0,0,0,0,0,0, '@','a',0,0,0,0,0,0, 7,0,0,0,0,0,0,0 };
    static const uint8_t bad_address [] = {
        1,0,0,0,0,0,0,0,
        1,0,0,0,0,0,0,0, '@','a','a','a','a','a','a','a', 1,1,1,1,1,1,1,1 };
    const struct { const uint8_t *bytes; size_t size; } bad_servers [] = {
        { more_declared, sizeof (more_declared) }, { huge_count, sizeof (huge_count) },
        { fewer_declared, sizeof (fewer_declared) }, { bad_role, sizeof (bad_role) },
        { bad_address, sizeof (bad_address) }, { bad_address, 0 }
    };
    for (size_t i = 0; i < COUNT (bad_servers); i++) {
        dqw_node_t *nodes = NULL;
        size_t count = 0;
        const char *why = NULL;
        void *copy = s_dup (bad_servers [i].bytes, bad_servers [i].size);
        CHECK_INT (dqw_servers_decode (copy, bad_servers [i].size, &nodes, &count, &why), -1);
        CHECK (why != NULL);
        CHECK (nodes == NULL);
        free (copy);
    }
}

/*  --------------------------------------------------------------------------
    ROWS. */

static const uint64_t PART = UINT64_C (0xeeeeeeeeeeeeeeee);
static const uint64_t DONE = UINT64_C (0xffffffffffffffff);

/*  What s_append saw of one ROWS body. */
enum { MALFORMED = -1, COMPLETE = 0, MORE = 1 };

static int
s_append (dqw_rows_t *rows, const s_bytes_t *body)
{
    const char *why = NULL;
    bool more = true;
    void *copy = s_dup (body->data, body->size);
    int rc = dqw_rows_append (rows, copy, body->size, &more, &why);
    free (copy);
    if (rc) {
        CHECK_INT (rc, -1);
        CHECK (why && *why);
        CHECK (!more);
        return MALFORMED;
    }
    return more? MORE: COMPLETE;
}

static void
test_rows_decode (void)
{
    dqw_rows_t rows;
    dqw_rows_init (&rows);

    /* Two columns; types packed a nibble each, column 0 in the low nibble. */
    static const uint8_t two [] = {
        2,0,0,0,0,0,0,0,
        'a',0,0,0,0,0,0,0,
        'b',0,0,0,0,0,0,0,
        0x31,0,0,0,0,0,0,0,             /* integer, text */
        42,0,0,0,0,0,0,0,
        'x','y',0,0,0,0,0,0,
        0x52,0,0,0,0,0,0,0,             /* float, null */
        0,0,0,0,0,0,0x04,0x40,          /* 2.5 */
        0,0,0,0,0,0,0,0,
        0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff };
    s_bytes_t body = { 0 };
    s_raw (&body, two, sizeof (two));
    CHECK_INT (s_append (&rows, &body), COMPLETE);
    CHECK_INT (rows.columns, 2);
    CHECK_INT (rows.rows, 2);
    CHECK_INT (rows.parts, 1);
    if (rows.rows == 2) {
        CHECK_STR (rows.names [0], "a");
        CHECK_STR (rows.names [1], "b");
        CHECK_INT (dqw_rows_get (&rows, 0, 0)->type, DQW_INTEGER);
        CHECK_INT (dqw_rows_get (&rows, 0, 0)->i, 42);
        CHECK (s_text_is (dqw_rows_get (&rows, 0, 1), "xy"));
        CHECK_INT (dqw_rows_get (&rows, 1, 0)->type, DQW_FLOAT);
        CHECK (dqw_rows_get (&rows, 1, 0)->f == 2.5);
        CHECK_INT (dqw_rows_get (&rows, 1, 1)->type, DQW_NULL);
        CHECK (dqw_rows_get (&rows, 2, 0) == NULL);
        CHECK (dqw_rows_get (&rows, 0, 2) == NULL);
    }
    s_bytes_free (&body);

    /* dqlite's own types: unix time and boolean are integers, ISO 8601 text. */
    static const uint8_t special [] = {
        3,0,0,0,0,0,0,0,
        't',0,0,0,0,0,0,0, 's',0,0,0,0,0,0,0, 'b',0,0,0,0,0,0,0,
        0xa9,0x0b,0,0,0,0,0,0,          /* unixtime 9, iso8601 10, boolean 11 */
        0x00,0xf1,0x53,0x65,0,0,0,0,    /* 1700000000 */
        '2','0','2','4','-','0','1','-', '0','2',0,0,0,0,0,0,
        1,0,0,0,0,0,0,0,
        0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff };
    s_raw (&body, special, sizeof (special));
    CHECK_INT (s_append (&rows, &body), COMPLETE);
    CHECK_INT (rows.rows, 1);
    if (rows.rows == 1) {
        CHECK_INT (dqw_rows_get (&rows, 0, 0)->type, DQW_INTEGER);
        CHECK_INT (dqw_rows_get (&rows, 0, 0)->i, 1700000000);
        CHECK (s_text_is (dqw_rows_get (&rows, 0, 1), "2024-01-02"));
        CHECK_INT (dqw_rows_get (&rows, 0, 2)->type, DQW_INTEGER);
        CHECK_INT (dqw_rows_get (&rows, 0, 2)->i, 1);
    }
    s_bytes_free (&body);

    /* A blob with a NUL in it, then a negative integer. */
    static const uint8_t blob [] = {
        2,0,0,0,0,0,0,0,
        'v',0,0,0,0,0,0,0, 'n',0,0,0,0,0,0,0,
        0x14,0,0,0,0,0,0,0,
        5,0,0,0,0,0,0,0, 'h',0,'l','l','o',0,0,0,
        0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,
        0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff };
    s_raw (&body, blob, sizeof (blob));
    CHECK_INT (s_append (&rows, &body), COMPLETE);
    CHECK_INT (rows.rows, 1);
    if (rows.rows == 1) {
        const dqw_value_t *v = dqw_rows_get (&rows, 0, 0);
        CHECK_INT (v->type, DQW_BLOB);
        CHECK_INT (v->len, 5);
        CHECK (memcmp (v->p, "h\0llo", 5) == 0);
        CHECK_INT (dqw_rows_get (&rows, 0, 1)->i, -1);
    }
    s_bytes_free (&body);

    /* Seventeen columns: the row header takes two words. */
    s_word (&body, 17);
    for (int c = 0; c < 17; c++)
        s_text (&body, "c");
    static const uint8_t header17 [16] = {
        0x11,0x11,0x11,0x11,0x11,0x11,0x11,0x11, 0x01,0,0,0,0,0,0,0 };
    s_raw (&body, header17, sizeof (header17));
    for (int c = 0; c < 17; c++)
        s_word (&body, (uint64_t) c * 10);
    s_word (&body, DONE);
    CHECK_INT (s_append (&rows, &body), COMPLETE);
    CHECK_INT (rows.columns, 17);
    CHECK_INT (rows.rows, 1);
    if (rows.rows == 1)
        for (int c = 0; c < 17; c++)
            CHECK_INT (dqw_rows_get (&rows, 0, (size_t) c)->i, c * 10);
    s_bytes_free (&body);

    /* No rows at all. */
    s_word (&body, 1);
    s_text (&body, "count(*)");
    s_word (&body, DONE);
    CHECK_INT (s_append (&rows, &body), COMPLETE);
    CHECK_INT (rows.columns, 1);
    CHECK_INT (rows.rows, 0);
    CHECK_STR (rows.names [0], "count(*)");
    CHECK (dqw_rows_get (&rows, 0, 0) == NULL);
    s_bytes_free (&body);
    dqw_rows_reset (&rows);
    dqw_rows_reset (&rows);
}

/*  One part of a one-column result: integer rows, or a text row, then the
    marker. */
static void
s_part (s_bytes_t *body, const int64_t *ints, size_t n, const char *text, uint64_t marker)
{
    s_word (body, 1);
    s_text (body, "n");
    for (size_t i = 0; i < n; i++) {
        s_word (body, 0x01);
        s_word (body, (uint64_t) ints [i]);
    }
    if (text) {
        s_word (body, 0x03);
        s_text (body, text);
    }
    s_word (body, marker);
}

static void
test_rows_split (void)
{
    dqw_rows_t rows;
    dqw_rows_init (&rows);
    s_bytes_t body = { 0 };
    static const int64_t one [] = { 1 }, two_three [] = { 2, 3 };

    /* Over two messages. */
    s_part (&body, one, 1, NULL, PART);
    CHECK_INT (s_append (&rows, &body), MORE);
    CHECK (dqw_rows_get (&rows, 0, 0) == NULL);     /* not complete yet */
    s_bytes_free (&body);
    s_part (&body, two_three, 2, NULL, DONE);
    CHECK_INT (s_append (&rows, &body), COMPLETE);
    s_bytes_free (&body);
    CHECK_INT (rows.parts, 2);
    CHECK_INT (rows.rows, 3);
    for (size_t r = 0; r < rows.rows; r++)
        CHECK_INT (dqw_rows_get (&rows, r, 0)->i, (int64_t) r + 1);

    /* Over three, the last with a text and the middle one empty: the same
       rows start over, since they held a complete result. */
    s_part (&body, two_three, 2, NULL, PART);
    CHECK_INT (s_append (&rows, &body), MORE);
    s_bytes_free (&body);
    s_part (&body, NULL, 0, NULL, PART);
    CHECK_INT (s_append (&rows, &body), MORE);
    s_bytes_free (&body);
    s_part (&body, one, 1, "last", DONE);
    CHECK_INT (s_append (&rows, &body), COMPLETE);
    s_bytes_free (&body);
    CHECK_INT (rows.parts, 3);
    CHECK_INT (rows.rows, 4);
    if (rows.rows == 4) {
        CHECK_INT (dqw_rows_get (&rows, 0, 0)->i, 2);
        CHECK_INT (dqw_rows_get (&rows, 1, 0)->i, 3);
        CHECK_INT (dqw_rows_get (&rows, 2, 0)->i, 1);
        CHECK (s_text_is (dqw_rows_get (&rows, 3, 0), "last"));
        CHECK_STR (rows.names [0], "n");
    }
    dqw_rows_reset (&rows);
}

static void
test_rows_malformed (void)
{
    static const uint8_t no_columns [] = {
        0,0,0,0,0,0,0,0,
        0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff };
    static const uint8_t huge_columns [] = {
        0,0,0,0,0,1,0,0,                /* 2^40 columns */
        'a',0,0,0,0,0,0,0,
        0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff };
    static const uint8_t unknown_type [] = {
        1,0,0,0,0,0,0,0, 'a',0,0,0,0,0,0,0,
        0x07,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,
        0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff };
    static const uint8_t type_zero [] = {
        1,0,0,0,0,0,0,0, 'a',0,0,0,0,0,0,0,
        0x00,0,0,0,0,0,0,0, 0,0,0,0,0,0,0,0,
        0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff };
    static const uint8_t blob_past_end [] = {
        1,0,0,0,0,0,0,0, 'a',0,0,0,0,0,0,0,
        0x04,0,0,0,0,0,0,0, 0x00,0xff,0xff,0xff,0xff,0xff,0xff,0xff,
        0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff };
    static const uint8_t blob_past_pad [] = {
        1,0,0,0,0,0,0,0, 'a',0,0,0,0,0,0,0,
        0x04,0,0,0,0,0,0,0, 9,0,0,0,0,0,0,0, 1,2,3,4,5,6,7,8,
        0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff };
    static const uint8_t text_no_nul [] = {
        1,0,0,0,0,0,0,0, 'a',0,0,0,0,0,0,0,
        0x03,0,0,0,0,0,0,0, 'x','x','x','x','x','x','x','x',
        0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff };
    static const uint8_t name_no_nul [] = {
        1,0,0,0,0,0,0,0, 'a','b','c','d','e','f','g','h',
        0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff };
    static const uint8_t no_marker [] = {
        1,0,0,0,0,0,0,0, 'a',0,0,0,0,0,0,0,
        0x01,0,0,0,0,0,0,0, 5,0,0,0,0,0,0,0 };
    static const uint8_t after_marker [] = {
        1,0,0,0,0,0,0,0, 'a',0,0,0,0,0,0,0,
        0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff,
        0,0,0,0,0,0,0,0 };
    static const uint8_t type_past_columns [] = {
        1,0,0,0,0,0,0,0, 'a',0,0,0,0,0,0,0,
        0x11,0,0,0,0,0,0,0, 1,0,0,0,0,0,0,0,
        0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff };
    static const uint8_t padding_not_zero [] = {
        1,0,0,0,0,0,0,0, 'a',0,0,0,0,0,0,0,
        0x01,0,0,1,0,0,0,0, 1,0,0,0,0,0,0,0,
        0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff };
    static const uint8_t truncated_row [] = {
        2,0,0,0,0,0,0,0, 'a',0,0,0,0,0,0,0, 'b',0,0,0,0,0,0,0,
        0x11,0,0,0,0,0,0,0, 1,0,0,0,0,0,0,0,
        0xff,0xff,0xff,0xff,0xff,0xff,0xff,0xff };
    static const uint8_t marker_is_partial [] = {
        1,0,0,0,0,0,0,0, 'a',0,0,0,0,0,0,0,
        0xee,0xee,0xee,0xee,0xee,0xee,0xee,0xef };
    const struct { const char *name; const uint8_t *bytes; size_t size; } cases [] = {
        { "no columns", no_columns, sizeof (no_columns) },
        { "huge column count", huge_columns, sizeof (huge_columns) },
        { "unknown value type", unknown_type, sizeof (unknown_type) },
        { "value type 0", type_zero, sizeof (type_zero) },
        { "blob length past the end", blob_past_end, sizeof (blob_past_end) },
        { "blob padding past the end", blob_past_pad, sizeof (blob_past_pad) },
        { "text without NUL", text_no_nul, sizeof (text_no_nul) },
        { "name without NUL", name_no_nul, sizeof (name_no_nul) },
        { "no end marker", no_marker, sizeof (no_marker) },
        { "bytes after the marker", after_marker, sizeof (after_marker) },
        { "a type past the last column", type_past_columns, sizeof (type_past_columns) },
        { "header padding not zero", padding_not_zero, sizeof (padding_not_zero) },
        { "a row cut short", truncated_row, sizeof (truncated_row) },
        { "a marker that is neither", marker_is_partial, sizeof (marker_is_partial) },
        { "empty body", no_columns, 0 },
    };
    dqw_rows_t rows;
    dqw_rows_init (&rows);
    for (size_t i = 0; i < COUNT (cases); i++) {
        s_bytes_t body = { 0 };
        s_raw (&body, cases [i].bytes, cases [i].size);
        int before = t_checks_failed;
        CHECK_INT (s_append (&rows, &body), MALFORMED);
        CHECK_INT (rows.rows, 0);
        CHECK_INT (rows.parts, 0);
        if (t_checks_failed != before)
            fprintf (stderr, "    ... for \"%s\"\n", cases [i].name);
        s_bytes_free (&body);
    }

    /* Nothing may follow a PART marker either: refused at once, not when
       the last part comes. */
    static const uint8_t after_part [] = {
        1,0,0,0,0,0,0,0, 'a',0,0,0,0,0,0,0,
        0xee,0xee,0xee,0xee,0xee,0xee,0xee,0xee,
        1,0,0,0,0,0,0,0 };
    s_bytes_t junk = { 0 };
    s_raw (&junk, after_part, sizeof (after_part));
    CHECK_INT (s_append (&rows, &junk), MALFORMED);
    s_bytes_free (&junk);

    /* Parts that disagree on the column count; the rows are then empty and
       take a new result. */
    s_bytes_t body = { 0 };
    static const int64_t one [] = { 1 };
    s_part (&body, one, 1, NULL, PART);
    CHECK_INT (s_append (&rows, &body), MORE);
    s_bytes_free (&body);
    s_word (&body, 2);
    s_text (&body, "a");
    s_text (&body, "b");
    s_word (&body, DONE);
    CHECK_INT (s_append (&rows, &body), MALFORMED);
    CHECK_INT (rows.parts, 0);
    s_bytes_free (&body);
    s_part (&body, one, 1, NULL, DONE);
    CHECK_INT (s_append (&rows, &body), COMPLETE);
    CHECK_INT (rows.rows, 1);
    s_bytes_free (&body);
    dqw_rows_reset (&rows);
}

/*  Decode body as kind; when it passes, every pointer must stay inside it. */
enum { KIND_FAILURE, KIND_SERVERS, KIND_ROWS };

static int
s_decode_kind (int kind, const uint8_t *bytes, size_t size)
{
    uint8_t *body = s_dup (bytes, size);
    const char *why;
    int rc;
    if (kind == KIND_FAILURE) {
        dqw_response_t res;
        rc = dqw_response_decode (DQW_RESPONSE_FAILURE, body, size, &res, &why);
        if (rc == 0)
            CHECK ((const uint8_t *) res.message + strlen (res.message) < body + size);
    }
    else
    if (kind == KIND_SERVERS) {
        dqw_node_t *nodes = NULL;
        size_t count = 0;
        rc = dqw_servers_decode (body, size, &nodes, &count, &why);
        if (rc == 0)
            dqw_nodes_free (nodes, count);
    }
    else {
        dqw_rows_t rows;
        dqw_rows_init (&rows);
        bool more;
        rc = dqw_rows_append (&rows, body, size, &more, &why);
        if (rc == 0 && !more)
            for (size_t i = 0; i < rows.rows * rows.columns; i++) {
                const dqw_value_t *v = &rows.values [i];
                if (v->type == DQW_TEXT || v->type == DQW_BLOB) {
                    const uint8_t *p = v->p? v->p: rows.data_;
                    CHECK (p >= rows.data_ && p + v->len <= rows.data_ + rows.data_size_);
                    if (v->type == DQW_TEXT)
                        CHECK (p [v->len] == 0);
                }
            }
        dqw_rows_reset (&rows);
    }
    free (body);
    return rc;
}

/*  Every strict prefix of a valid body is refused; every body with one
    byte changed is decoded or refused, never read past its end. */
static void
test_truncate_and_mutate (void)
{
    s_bytes_t failure = { 0 }, batch_failure = { 0 }, servers = { 0 }, rows = { 0 };
    s_word (&failure, 19);
    s_text (&failure, "constraint failed");
    s_word (&batch_failure, 2);
    s_text (&batch_failure, "a");
    s_text (&batch_failure, "b");
    s_word (&batch_failure, 0x31);
    s_word (&batch_failure, 5);
    s_text (&batch_failure, "five");
    s_word (&batch_failure, 1);
    s_text (&batch_failure, "malformed JSON");
    s_word (&servers, 2);
    s_word (&servers, 1); s_text (&servers, "@a"); s_word (&servers, 0);
    s_word (&servers, 2); s_text (&servers, "127.0.0.1:9001"); s_word (&servers, 1);
    s_word (&rows, 5);
    const char *names [] = { "i", "f", "t", "b", "n" };
    for (int c = 0; c < 5; c++)
        s_text (&rows, names [c]);
    for (int r = 0; r < 3; r++) {
        s_word (&rows, 0x054321);        /* integer, float | text, blob | null */
        s_word (&rows, (uint64_t) r);
        s_word (&rows, UINT64_C (0x3ff8000000000000));
        s_text (&rows, r == 1? "": "seven!!");
        s_word (&rows, 3);
        s_word (&rows, 0x030201);
        s_word (&rows, 0);
    }
    s_word (&rows, DONE);
    /* A batch cut at a word boundary can read as a failure after a batch
       (the connection never cuts a body: it reads the length it is told),
       so for that layout only cuts inside a word must fail. */
    const struct { int kind; s_bytes_t *body; bool word_cuts; } cases [] = {
        { KIND_FAILURE, &failure, true }, { KIND_FAILURE, &batch_failure, false },
        { KIND_SERVERS, &servers, true }, { KIND_ROWS, &rows, true } };
    static const uint8_t replacements [] = { 0x00, 0x01, 0x07, 0x0b, 0x80, 0xee, 0xff };

    for (size_t c = 0; c < COUNT (cases); c++) {
        const s_bytes_t *body = cases [c].body;
        CHECK_INT (s_decode_kind (cases [c].kind, body->data, body->size), 0);
        for (size_t size = 0; size < body->size; size++) {
            if (!cases [c].word_cuts && size % 8 == 0)
                continue;
            if (s_decode_kind (cases [c].kind, body->data, size) != -1) {
                fprintf (stderr, "    kind %d: a prefix of %zu bytes was accepted\n", cases [c].kind, size);
                t_checks_failed++;
            }
        }
        uint8_t *copy = s_dup (body->data, body->size);
        for (size_t i = 0; i < body->size; i++) {
            uint8_t saved = copy [i];
            for (size_t r = 0; r < COUNT (replacements); r++) {
                copy [i] = replacements [r];
                s_decode_kind (cases [c].kind, copy, body->size);
                copy [i] = saved ^ replacements [r];
                s_decode_kind (cases [c].kind, copy, body->size);
            }
            copy [i] = saved;
        }
        free (copy);
    }
    s_bytes_free (&failure);
    s_bytes_free (&batch_failure);
    s_bytes_free (&servers);
    s_bytes_free (&rows);
}

/*  --------------------------------------------------------------------------
    A fake peer: listens on a unix (or TCP) socket, takes one connection,
    reads the handshake, then for each reply reads one request and sends the
    reply's bytes, in two pieces with a pause if asked. It keeps every byte
    it received. */

enum { PEER_KEEP, PEER_CLOSE, PEER_HANG };

typedef struct {
    s_bytes_t bytes;
    size_t split;               /* send pieces of this many bytes... */
    int pause_ms;               /* ...with this pause between them */
    int after;                  /* PEER_KEEP, PEER_CLOSE, PEER_HANG */
} s_reply_t;

typedef struct {
    int listener;
    char address [108];
    s_reply_t replies [4];
    size_t n_replies;
    s_bytes_t received;
    bool saw_close;             /* the client closed its end */
    pthread_t thread;
    bool joined;
} s_peer_t;

#define PEER_PATIENCE_MS 10000

/*  Read n bytes into received; -1 on EOF, error or PEER_PATIENCE_MS. */
static int
s_peer_read (s_peer_t *peer, int fd, size_t n)
{
    uint8_t buf [4096];
    while (n > 0) {
        struct pollfd item = { .fd = fd, .events = POLLIN };
        if (poll (&item, 1, PEER_PATIENCE_MS) <= 0)
            return -1;
        ssize_t got = recv (fd, buf, n < sizeof (buf)? n: sizeof (buf), 0);
        if (got <= 0) {
            if (got == 0)
                peer->saw_close = true;
            return -1;
        }
        s_raw (&peer->received, buf, (size_t) got);
        n -= (size_t) got;
    }
    return 0;
}

static int
s_peer_read_request (s_peer_t *peer, int fd)
{
    if (s_peer_read (peer, fd, 8))
        return -1;
    const uint8_t *header = peer->received.data + peer->received.size - 8;
    size_t words = (size_t) header [0] | (size_t) header [1] << 8 | (size_t) header [2] << 16
                 | (size_t) header [3] << 24;
    return s_peer_read (peer, fd, words * 8);
}

static void
s_peer_send (int fd, const uint8_t *bytes, size_t size)
{
    while (size > 0) {
        ssize_t sent = send (fd, bytes, size, MSG_NOSIGNAL);
        if (sent <= 0)
            return;
        bytes += sent;
        size -= (size_t) sent;
    }
}

static void *
s_peer_run (void *arg)
{
    s_peer_t *peer = arg;
    struct pollfd item = { .fd = peer->listener, .events = POLLIN };
    if (poll (&item, 1, PEER_PATIENCE_MS) <= 0)
        return NULL;
    int fd = accept (peer->listener, NULL, NULL);
    if (fd < 0)
        return NULL;
    if (s_peer_read (peer, fd, 8))
        goto done;
    for (size_t n = 0; n < peer->n_replies; n++) {
        s_reply_t *reply = &peer->replies [n];
        if (s_peer_read_request (peer, fd))
            goto done;
        if (reply->after == PEER_HANG)
            break;
        size_t piece = reply->split? reply->split: reply->bytes.size;
        for (size_t sent = 0; sent < reply->bytes.size; sent += piece) {
            if (sent > 0 && reply->pause_ms)
                s_sleep_ms (reply->pause_ms);
            size_t left = reply->bytes.size - sent;
            s_peer_send (fd, reply->bytes.data + sent, left < piece? left: piece);
        }
        if (reply->after == PEER_CLOSE)
            goto done;
    }
    /* wait for the client to close; keep what it sends meanwhile */
    while (s_peer_read (peer, fd, 1) == 0)
        ;
done:
    close (fd);
    return NULL;
}

static int s_peer_counter;

/*  Start listening, on an abstract unix socket or on 127.0.0.1. */
static int
s_peer_start (s_peer_t *peer, bool tcp)
{
    if (tcp) {
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
        socklen_t len = sizeof (addr);
        peer->listener = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (peer->listener < 0 || bind (peer->listener, (struct sockaddr *) &addr, len)
        ||  getsockname (peer->listener, (struct sockaddr *) &addr, &len))
            return -1;
        snprintf (peer->address, sizeof (peer->address), "127.0.0.1:%u", ntohs (addr.sin_port));
    }
    else {
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        snprintf (peer->address, sizeof (peer->address), "@dqw-fake-%d-%d", (int) getpid (), ++s_peer_counter);
        size_t len = strlen (peer->address);
        memcpy (addr.sun_path + 1, peer->address + 1, len - 1);
        peer->listener = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (peer->listener < 0
        ||  bind (peer->listener, (struct sockaddr *) &addr,
                  (socklen_t) (offsetof (struct sockaddr_un, sun_path) + len)))
            return -1;
    }
    if (listen (peer->listener, 4))
        return -1;
    return pthread_create (&peer->thread, NULL, s_peer_run, peer);
}

/*  Wait for the peer to finish (the client must have closed). */
static void
s_peer_join (s_peer_t *peer)
{
    if (!peer->joined) {
        pthread_join (peer->thread, NULL);
        close (peer->listener);
        peer->joined = true;
    }
}

/*  Join the peer and free what it holds. */
static void
s_peer_stop (s_peer_t *peer)
{
    s_peer_join (peer);
    for (size_t n = 0; n < COUNT (peer->replies); n++)
        s_bytes_free (&peer->replies [n].bytes);
    s_bytes_free (&peer->received);
}

/*  Add a reply holding one SERVER message: leader id at address. */
static s_reply_t *
s_reply_server (s_peer_t *peer, uint64_t id, const char *address)
{
    s_reply_t *reply = &peer->replies [peer->n_replies++];
    size_t start = s_message_begin (&reply->bytes);
    s_word (&reply->bytes, id);
    s_text (&reply->bytes, address);
    s_message_end (&reply->bytes, start, DQW_RESPONSE_SERVER);
    return reply;
}

static s_reply_t *
s_reply_raw (s_peer_t *peer, const uint8_t *bytes, size_t size, int after)
{
    s_reply_t *reply = &peer->replies [peer->n_replies++];
    s_raw (&reply->bytes, bytes, size);
    reply->after = after;
    return reply;
}

static dqw_t *
s_connect_peer (s_peer_t *peer, int timeout_ms)
{
    char error [256] = "";
    dqw_t *conn = dqw_connect (peer->address, timeout_ms, error, sizeof (error));
    CHECK (conn != NULL);
    if (!conn)
        fprintf (stderr, "    connect %s: %s\n", peer->address, error);
    return conn;
}

static void
test_peer_bytes_on_the_wire (void)
{
    s_peer_t peer = { 0 };
    s_reply_server (&peer, 7, "@node7");
    s_reply_server (&peer, 0, "");
    CHECK_INT (s_peer_start (&peer, false), 0);
    dqw_t *conn = s_connect_peer (&peer, 2000);
    if (conn) {
        uint64_t id = 99;
        char address [64] = "x";
        CHECK_INT (dqw_leader (conn, &id, address, sizeof (address)), 0);
        CHECK_INT (id, 7);
        CHECK_STR (address, "@node7");
        CHECK_INT (dqw_leader (conn, &id, address, sizeof (address)), 0);
        CHECK_INT (id, 0);
        CHECK_STR (address, "");
        CHECK_INT (dqw_errcode (conn), 0);
    }
    dqw_destroy (&conn);
    dqw_destroy (&conn);
    s_peer_join (&peer);
    static const uint8_t want [] = {
        1,0,0,0,0,0,0,0,                /* protocol version 1 */
        1,0,0,0, 0,0,0,0, 0,0,0,0,0,0,0,0,
        1,0,0,0, 0,0,0,0, 0,0,0,0,0,0,0,0 };
    s_check_bytes ("handshake and two LEADER requests", peer.received.data, peer.received.size,
                   want, sizeof (want));
    CHECK (peer.saw_close);
    s_peer_stop (&peer);
}

/*  The socket of this process connected to 127.0.0.1:port has TCP_NODELAY
    set: 1, 0, or -1 if there is no such socket. */
static int
s_nodelay_of_socket_to (unsigned port)
{
    for (int fd = 3; fd < 1024; fd++) {
        struct sockaddr_in peer;
        socklen_t len = sizeof (peer);
        int on = 0;
        socklen_t on_len = sizeof (on);
        if (getpeername (fd, (struct sockaddr *) &peer, &len) == 0 && peer.sin_family == AF_INET
        &&  ntohs (peer.sin_port) == port
        &&  getsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &on, &on_len) == 0)
            return on != 0;
    }
    return -1;
}

static void
test_peer_tcp (void)
{
    s_peer_t peer = { 0 };
    s_reply_server (&peer, 3, "127.0.0.1:9003");
    CHECK_INT (s_peer_start (&peer, true), 0);
    dqw_t *conn = s_connect_peer (&peer, 2000);
    if (conn) {
        uint64_t id = 0;
        CHECK_INT (dqw_leader (conn, &id, NULL, 0), 0);
        CHECK_INT (id, 3);
        CHECK_INT (s_nodelay_of_socket_to ((unsigned) atoi (strrchr (peer.address, ':') + 1)), 1);
    }
    dqw_destroy (&conn);
    s_peer_stop (&peer);
}

/*  The peer never answers: the call gives up at its deadline, and the next
    one at once. */
static void
test_peer_never_answers (void)
{
    s_peer_t peer = { 0 };
    s_reply_raw (&peer, NULL, 0, PEER_HANG);
    CHECK_INT (s_peer_start (&peer, false), 0);
    dqw_t *conn = s_connect_peer (&peer, 300);
    if (conn) {
        uint64_t id;
        int64_t start = s_ms ();
        CHECK_INT (dqw_leader (conn, &id, NULL, 0), DQW_TRANSPORT);
        int64_t elapsed = s_ms () - start;
        CHECK (elapsed >= 290 && elapsed < 1500);
        CHECK (strstr (dqw_errmsg (conn), "timed out") != NULL);
        start = s_ms ();
        CHECK_INT (dqw_leader (conn, &id, NULL, 0), DQW_TRANSPORT);
        CHECK_INT (dqw_open (conn, "x", &(uint32_t) { 0 }), DQW_TRANSPORT);
        CHECK_INT (dqw_assign (conn, 2, DQW_VOTER), DQW_TRANSPORT);
        CHECK (s_ms () - start < 50);
        CHECK (strstr (dqw_errmsg (conn), "timed out") != NULL);
    }
    /* the dead connection was closed at once, before destroy */
    s_sleep_ms (50);
    CHECK (peer.saw_close);
    dqw_destroy (&conn);
    s_peer_stop (&peer);
}

/*  The deadline covers the whole response, not each read: a response whose
    every piece comes in time, but whose whole does not, times out. */
static void
test_peer_too_slow (void)
{
    s_peer_t peer = { 0 };
    s_reply_t *reply = s_reply_server (&peer, 1, "@slow");     /* 24 bytes */
    reply->split = 8;
    reply->pause_ms = 100;                                      /* 200 ms in all */
    reply = s_reply_server (&peer, 1, "@slow");
    reply->split = 8;
    reply->pause_ms = 250;                                      /* 500 ms in all */
    CHECK_INT (s_peer_start (&peer, false), 0);
    dqw_t *conn = s_connect_peer (&peer, 400);
    if (conn) {
        uint64_t id = 0;
        CHECK_INT (dqw_leader (conn, &id, NULL, 0), 0);
        CHECK_INT (id, 1);
        int64_t start = s_ms ();
        CHECK_INT (dqw_leader (conn, &id, NULL, 0), DQW_TRANSPORT);
        int64_t elapsed = s_ms () - start;
        CHECK (elapsed >= 390 && elapsed < 700);
    }
    dqw_destroy (&conn);
    s_peer_stop (&peer);
}

/*  Each broken answer to LEADER kills the connection, at once. */
static void
test_peer_broken_answers (void)
{
    static const uint8_t cut_short [] = {
        3,0,0,0, 1,0,0,0,               /* SERVER, 3 words declared */
        1,0,0,0,0,0,0,0 };              /* only one sent */
    static const uint8_t huge [] = { 0xff,0xff,0xff,0xff, 1,0,0,0 };
    static const uint8_t just_over_cap [] = { 0x01,0x00,0x80,0x00, 1,0,0,0 };  /* 64 MiB + 8 */
    static const uint8_t unexpected [] = { 1,0,0,0, 8,0,0,0, 0,0,0,0,0,0,0,0 };  /* EMPTY */
    static const uint8_t failure_no_nul [] = {
        2,0,0,0, 0,0,0,0,
        5,0,0,0,0,0,0,0, 'b','u','s','y','b','u','s','y' };
    static const uint8_t server_no_nul [] = {
        2,0,0,0, 1,0,0,0,
        1,0,0,0,0,0,0,0, '@','a','b','c','d','e','f','g' };
    static const uint8_t half_header [] = { 2,0,0,0 };
    const struct { const char *name; const uint8_t *bytes; size_t size; int after; const char *says; } cases [] = {
        { "closed mid-body", cut_short, sizeof (cut_short), PEER_CLOSE, "closed" },
        { "closed mid-header", half_header, sizeof (half_header), PEER_CLOSE, "closed" },
        { "a huge declared size", huge, sizeof (huge), PEER_KEEP, "cap" },
        { "just over the cap", just_over_cap, sizeof (just_over_cap), PEER_KEEP, "cap" },
        { "an unexpected type", unexpected, sizeof (unexpected), PEER_KEEP, "EMPTY" },
        { "a FAILURE without NUL", failure_no_nul, sizeof (failure_no_nul), PEER_KEEP, "malformed" },
        { "a SERVER without NUL", server_no_nul, sizeof (server_no_nul), PEER_KEEP, "malformed" },
    };
    for (size_t i = 0; i < COUNT (cases); i++) {
        int before = t_checks_failed;
        s_peer_t peer = { 0 };
        s_reply_raw (&peer, cases [i].bytes, cases [i].size, cases [i].after);
        CHECK_INT (s_peer_start (&peer, false), 0);
        dqw_t *conn = s_connect_peer (&peer, 5000);
        if (conn) {
            uint64_t id;
            int64_t start = s_ms ();
            CHECK_INT (dqw_leader (conn, &id, NULL, 0), DQW_TRANSPORT);
            CHECK (s_ms () - start < 1000);
            CHECK (strstr (dqw_errmsg (conn), cases [i].says) != NULL);
            CHECK_INT (dqw_leader (conn, &id, NULL, 0), DQW_TRANSPORT);
            CHECK (strstr (dqw_errmsg (conn), cases [i].says) != NULL);
        }
        dqw_destroy (&conn);
        s_peer_stop (&peer);
        if (t_checks_failed != before)
            fprintf (stderr, "    ... for \"%s\"\n", cases [i].name);
    }
}

/*  FAILURE answers leave the connection usable, even after ROWS messages;
    a ROWS stream that stops, or turns malformed, kills it. */
static void
test_peer_rows (void)
{
    s_peer_t peer = { 0 };
    static const int64_t ints [] = { 10, 20 };
    /* 1: two parts, whole. */
    s_reply_t *reply = &peer.replies [peer.n_replies++];
    size_t start = s_message_begin (&reply->bytes);
    s_part (&reply->bytes, ints, 1, NULL, PART);
    s_message_end (&reply->bytes, start, DQW_RESPONSE_ROWS);
    start = s_message_begin (&reply->bytes);
    s_part (&reply->bytes, ints + 1, 1, NULL, DONE);
    s_message_end (&reply->bytes, start, DQW_RESPONSE_ROWS);
    /* 2: a part, then a FAILURE. */
    reply = &peer.replies [peer.n_replies++];
    start = s_message_begin (&reply->bytes);
    s_part (&reply->bytes, ints, 2, NULL, PART);
    s_message_end (&reply->bytes, start, DQW_RESPONSE_ROWS);
    start = s_message_begin (&reply->bytes);
    s_word (&reply->bytes, 1);
    s_text (&reply->bytes, "integer overflow");
    s_message_end (&reply->bytes, start, DQW_RESPONSE_FAILURE);
    /* 3: a part, then a part whose column count changed. */
    reply = &peer.replies [peer.n_replies++];
    start = s_message_begin (&reply->bytes);
    s_part (&reply->bytes, ints, 1, NULL, PART);
    s_message_end (&reply->bytes, start, DQW_RESPONSE_ROWS);
    start = s_message_begin (&reply->bytes);
    s_word (&reply->bytes, 2);
    s_text (&reply->bytes, "a");
    s_text (&reply->bytes, "b");
    s_word (&reply->bytes, DONE);
    s_message_end (&reply->bytes, start, DQW_RESPONSE_ROWS);
    CHECK_INT (s_peer_start (&peer, false), 0);

    dqw_t *conn = s_connect_peer (&peer, 2000);
    dqw_rows_t rows;
    dqw_rows_init (&rows);
    if (conn) {
        CHECK_INT (dqw_query_sql (conn, 0, "SELECT n", NULL, 0, &rows), 0);
        CHECK_INT (rows.rows, 2);
        CHECK_INT (rows.parts, 2);
        if (rows.rows == 2)
            CHECK_INT (dqw_rows_get (&rows, 1, 0)->i, 20);

        CHECK_INT (dqw_query_sql (conn, 0, "SELECT n", NULL, 0, &rows), DQW_FAILURE);
        CHECK_INT (dqw_errcode (conn), 1);
        CHECK_STR (dqw_errmsg (conn), "integer overflow");
        CHECK_INT (rows.rows, 0);
        CHECK (dqw_rows_get (&rows, 0, 0) == NULL);

        CHECK_INT (dqw_query (conn, 0, 1, NULL, 0, &rows), DQW_TRANSPORT);
        CHECK (strstr (dqw_errmsg (conn), "column count") != NULL);
        CHECK_INT (dqw_errcode (conn), 0);
        CHECK_INT (rows.rows, 0);
        CHECK_INT (dqw_query (conn, 0, 1, NULL, 0, &rows), DQW_TRANSPORT);
    }
    dqw_rows_reset (&rows);
    dqw_destroy (&conn);
    s_peer_stop (&peer);

    /* A stream that stops after a part. */
    memset (&peer, 0, sizeof (peer));
    reply = &peer.replies [peer.n_replies++];
    start = s_message_begin (&reply->bytes);
    s_part (&reply->bytes, ints, 1, NULL, PART);
    s_message_end (&reply->bytes, start, DQW_RESPONSE_ROWS);
    reply->after = PEER_CLOSE;
    CHECK_INT (s_peer_start (&peer, false), 0);
    conn = s_connect_peer (&peer, 2000);
    dqw_rows_init (&rows);
    if (conn) {
        CHECK_INT (dqw_query_sql (conn, 0, "SELECT n", NULL, 0, &rows), DQW_TRANSPORT);
        CHECK (strstr (dqw_errmsg (conn), "closed") != NULL);
        CHECK_INT (rows.rows, 0);
    }
    dqw_rows_reset (&rows);
    dqw_destroy (&conn);
    s_peer_stop (&peer);
}

/*  A FAILURE, then the next request is answered; arguments that cannot be
    sent are refused before a byte goes out. */
static void
test_peer_failure_then_usable (void)
{
    s_peer_t peer = { 0 };
    s_reply_t *reply = &peer.replies [peer.n_replies++];
    size_t start = s_message_begin (&reply->bytes);
    s_word (&reply->bytes, 10250);
    s_text (&reply->bytes, "not leader");
    s_message_end (&reply->bytes, start, DQW_RESPONSE_FAILURE);
    s_reply_server (&peer, 2, "@leader-is-two");
    s_reply_server (&peer, 2, "@leader-is-two");
    CHECK_INT (s_peer_start (&peer, false), 0);
    dqw_t *conn = s_connect_peer (&peer, 2000);
    if (conn) {
        uint64_t id = 0;
        char small [8];
        CHECK_INT (dqw_leader (conn, &id, NULL, 0), DQW_FAILURE);
        CHECK_INT (dqw_errcode (conn), DQW_NOT_LEADER);
        CHECK_STR (dqw_errmsg (conn), "not leader");

        dqw_value_t many [256];
        for (int i = 0; i < 256; i++)
            many [i] = s_null ();
        CHECK_INT (dqw_exec (conn, 0, 1, many, 256, NULL, NULL), DQW_MISUSE);
        CHECK_INT (dqw_errcode (conn), 0);
        CHECK_INT (dqw_assign (conn, 2, 7), DQW_MISUSE);
        dqw_value_t nul_text = { .type = DQW_TEXT, .p = "a\0b", .len = 3 };
        CHECK_INT (dqw_exec_sql (conn, 0, "SELECT ?", &nul_text, 1, NULL, NULL), DQW_MISUSE);

        CHECK_INT (dqw_leader (conn, &id, small, sizeof (small)), DQW_MISUSE);
        CHECK (strstr (dqw_errmsg (conn), "15 bytes") != NULL);
        CHECK_INT (dqw_leader (conn, &id, NULL, 0), 0);
        CHECK_INT (id, 2);
        CHECK_STR (dqw_errmsg (conn), "");
    }
    dqw_destroy (&conn);
    s_peer_join (&peer);
    /* the handshake, then three LEADER requests: nothing else was sent */
    CHECK_INT (peer.received.size, 8 + 3 * 16);
    s_peer_stop (&peer);
}

static void
test_connect_errors (void)
{
    char error [256];
    char address [64];
    snprintf (address, sizeof (address), "@dqw-nowhere-%d", (int) getpid ());
    const char *bad [] = { address, "", "no-port", ":9001", "host:", "/nonexistent/dqw.sock", "@" };
    for (size_t i = 0; i < COUNT (bad); i++) {
        error [0] = 0;
        dqw_t *conn = dqw_connect (bad [i], 1000, error, sizeof (error));
        CHECK (conn == NULL);
        CHECK (error [0] != 0);
        if (conn || !error [0])
            fprintf (stderr, "    ... for \"%s\"\n", bad [i]);
        dqw_destroy (&conn);
    }
    CHECK (dqw_connect (address, 1000, NULL, 0) == NULL);
    dqw_destroy (NULL);
}

/*  A send to a closed peer must not raise SIGPIPE: run it in a child that
    keeps SIGPIPE's default action, which would kill it. */
static void
test_no_sigpipe (void)
{
    pid_t pid = fork ();
    if (pid == 0) {
        signal (SIGPIPE, SIG_DFL);
        char address [64];
        snprintf (address, sizeof (address), "@dqw-pipe-%d", (int) getpid ());
        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        size_t len = strlen (address);
        memcpy (addr.sun_path + 1, address + 1, len - 1);
        int listener = socket (AF_UNIX, SOCK_STREAM, 0);
        if (listener < 0 || bind (listener, (struct sockaddr *) &addr,
                                  (socklen_t) (offsetof (struct sockaddr_un, sun_path) + len))
        ||  listen (listener, 1))
            _exit (2);
        dqw_t *conn = dqw_connect (address, 1000, NULL, 0);
        int fd = accept (listener, NULL, NULL);
        if (!conn || fd < 0)
            _exit (3);
        close (fd);
        close (listener);
        uint64_t id;
        int rc = dqw_leader (conn, &id, NULL, 0);
        dqw_destroy (&conn);
        _exit (rc == DQW_TRANSPORT? 0: 4);
    }
    CHECK (pid > 0);
    int status = 0;
    CHECK_INT (waitpid (pid, &status, 0), pid);
    CHECK (!WIFSIGNALED (status));
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    if (WIFSIGNALED (status))
        fprintf (stderr, "    the child died of signal %d\n", WTERMSIG (status));
}

/*  --------------------------------------------------------------------------
    A real dqlite node, in this process. Node 1 bootstraps a one-node
    cluster on an empty data directory (src/server.c, maybeBootstrap). */

static dqlite_node *s_node;
static char s_dir [64];
static char s_address [64];
static dqw_t *s_conn;
static uint32_t s_db;

static void
test_node_start (void)
{
    snprintf (s_dir, sizeof (s_dir), "/tmp/dqw-test-XXXXXX");
    CHECK (mkdtemp (s_dir) != NULL);
    snprintf (s_address, sizeof (s_address), "@ledger-test-%d", (int) getpid ());
    CHECK_INT (dqlite_node_create (1, s_address, s_dir, &s_node), 0);
    CHECK_INT (dqlite_node_set_bind_address (s_node, s_address), 0);
    int rc = dqlite_node_start (s_node);
    CHECK_INT (rc, 0);
    if (rc) {
        fprintf (stderr, "    dqlite_node_start: %s\n", dqlite_node_errmsg (s_node));
        dqlite_node_destroy (s_node);
        s_node = NULL;
        return;
    }
    char error [256] = "";
    s_conn = dqw_connect (s_address, 20000, error, sizeof (error));
    CHECK (s_conn != NULL);
    if (!s_conn) {
        fprintf (stderr, "    connect: %s\n", error);
        return;
    }
    /* The node elects itself; until it has, LEADER says 0. */
    uint64_t id = 0;
    char leader [64] = "";
    int64_t give_up = s_ms () + 15000;
    while (s_ms () < give_up) {
        rc = dqw_leader (s_conn, &id, leader, sizeof (leader));
        if (rc || id)
            break;
        s_sleep_ms (20);
    }
    CHECK_INT (rc, 0);
    CHECK_INT (id, 1);
    CHECK_STR (leader, s_address);
}

#define NEED_NODE() do { CHECK (s_conn != NULL); if (!s_conn) return; } while (0)

/*  Print the node's error after a failed call. */
static int
s_ok (int rc, const char *what)
{
    if (rc)
        fprintf (stderr, "    %s: rc %d, code %llu: %s\n", what, rc,
                 (unsigned long long) dqw_errcode (s_conn), dqw_errmsg (s_conn));
    return rc;
}

static void
test_node_open (void)
{
    NEED_NODE ();
    s_db = 99;
    CHECK_INT (s_ok (dqw_open (s_conn, "test", &s_db), "OPEN"), 0);
    CHECK_INT (s_db, 0);
    uint32_t db = 99;
    CHECK_INT (dqw_open (s_conn, "other", &db), DQW_FAILURE);
    CHECK_INT (dqw_errcode (s_conn), 5);            /* SQLITE_BUSY */
    CHECK (strstr (dqw_errmsg (s_conn), "already open") != NULL);
    /* db ids other than 0 are unknown */
    CHECK_INT (dqw_exec_sql (s_conn, 1, "SELECT 1", NULL, 0, NULL, NULL), DQW_FAILURE);
    CHECK_INT (dqw_errcode (s_conn), 12);           /* SQLITE_NOTFOUND */
}

static const uint8_t s_blob_bytes [] = { 0, 1, 2, 0xff, 0, 'x' };
#define WORLD "h\xc3\xa9llo, w\xc3\xb6rld"

static void
s_check_row_a (const dqw_rows_t *rows, size_t r)
{
    const dqw_value_t *v = dqw_rows_get (rows, r, 0);
    CHECK (v && v->type == DQW_INTEGER && v->i == INT64_MIN);
    v = dqw_rows_get (rows, r, 1);
    CHECK (v && v->type == DQW_FLOAT && v->f == -1.25e300);
    CHECK (s_text_is (dqw_rows_get (rows, r, 2), WORLD));
    v = dqw_rows_get (rows, r, 3);
    CHECK (v && v->type == DQW_BLOB && v->len == sizeof (s_blob_bytes)
           && memcmp (v->p, s_blob_bytes, v->len) == 0);
    v = dqw_rows_get (rows, r, 4);
    CHECK (v && v->type == DQW_NULL);
}

static void
test_node_types (void)
{
    NEED_NODE ();
    uint64_t last_id = 99, changes = 99;
    CHECK_INT (s_ok (dqw_exec_sql (s_conn, s_db,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, i INTEGER, f REAL, s TEXT, b BLOB, z)",
        NULL, 0, &last_id, &changes), "CREATE"), 0);

    CHECK_INT (s_ok (dqw_exec_sql (s_conn, s_db, "BEGIN", NULL, 0, NULL, NULL), "BEGIN"), 0);
    uint32_t insert = 0;
    uint64_t params = 0;
    CHECK_INT (s_ok (dqw_prepare (s_conn, s_db, "INSERT INTO t (i, f, s, b, z) VALUES (?, ?, ?, ?, ?)",
                                  &insert, &params), "PREPARE"), 0);
    CHECK_INT (params, 5);
    dqw_value_t row_a [] = { s_int (INT64_MIN), s_float (-1.25e300), s_textv (WORLD),
                             s_blob (s_blob_bytes, sizeof (s_blob_bytes)), s_null () };
    CHECK_INT (s_ok (dqw_exec (s_conn, s_db, insert, row_a, 5, &last_id, &changes), "EXEC a"), 0);
    CHECK_INT (last_id, 1);
    CHECK_INT (changes, 1);
    dqw_value_t row_b [] = { s_int (INT64_MAX), s_float (0.5), s_textv (""), s_blob (NULL, 0), s_null () };
    CHECK_INT (s_ok (dqw_exec (s_conn, s_db, insert, row_b, 5, &last_id, &changes), "EXEC b"), 0);
    CHECK_INT (last_id, 2);
    CHECK_INT (s_ok (dqw_exec_sql (s_conn, s_db, "COMMIT", NULL, 0, NULL, NULL), "COMMIT"), 0);
    CHECK_INT (s_ok (dqw_finalize (s_conn, s_db, insert), "FINALIZE"), 0);

    dqw_rows_t rows;
    dqw_rows_init (&rows);
    CHECK_INT (s_ok (dqw_query_sql (s_conn, s_db, "SELECT i, f, s, b, z FROM t ORDER BY id",
                                    NULL, 0, &rows), "QUERY_SQL"), 0);
    CHECK_INT (rows.columns, 5);
    CHECK_INT (rows.rows, 2);
    if (rows.rows == 2) {
        const char *names [] = { "i", "f", "s", "b", "z" };
        for (int c = 0; c < 5; c++)
            CHECK_STR (rows.names [c], names [c]);
        s_check_row_a (&rows, 0);
        const dqw_value_t *v = dqw_rows_get (&rows, 1, 0);
        CHECK (v->type == DQW_INTEGER && v->i == INT64_MAX);
        CHECK (dqw_rows_get (&rows, 1, 1)->f == 0.5);
        CHECK (s_text_is (dqw_rows_get (&rows, 1, 2), ""));
        v = dqw_rows_get (&rows, 1, 3);
        CHECK (v->type == DQW_BLOB && v->len == 0);
        CHECK_INT (dqw_rows_get (&rows, 1, 4)->type, DQW_NULL);
    }

    /* Parameters come back as they were bound; the same rows serve again. */
    uint32_t echo = 0;
    CHECK_INT (s_ok (dqw_prepare (s_conn, s_db, "SELECT ?, ?, ?, ?, ?", &echo, &params), "PREPARE echo"), 0);
    CHECK_INT (s_ok (dqw_query (s_conn, s_db, echo, row_a, 5, &rows), "QUERY echo"), 0);
    CHECK_INT (rows.rows, 1);
    if (rows.rows == 1)
        s_check_row_a (&rows, 0);
    dqw_value_t other [] = { s_int (-7), s_float (NAN), s_textv ("x"), s_blob ("y", 1), s_int (0) };
    CHECK_INT (s_ok (dqw_query (s_conn, s_db, echo, other, 5, &rows), "QUERY echo 2"), 0);
    CHECK_INT (rows.rows, 1);
    if (rows.rows == 1) {
        CHECK_INT (dqw_rows_get (&rows, 0, 0)->i, -7);
        CHECK_INT (dqw_rows_get (&rows, 0, 1)->type, DQW_NULL);   /* SQLite binds NaN as NULL */
        CHECK (s_text_is (dqw_rows_get (&rows, 0, 2), "x"));
        CHECK_INT (dqw_rows_get (&rows, 0, 4)->type, DQW_INTEGER);
    }
    CHECK_INT (s_ok (dqw_finalize (s_conn, s_db, echo), "FINALIZE echo"), 0);
    dqw_rows_reset (&rows);
}

/*  dqlite's time and boolean types: codes 9, 10 and 11 on the wire. */
static void
test_node_time_types (void)
{
    NEED_NODE ();
    CHECK_INT (s_ok (dqw_exec_sql (s_conn, s_db,
        "CREATE TABLE tm (d DATETIME, b BOOLEAN, ts TIMESTAMP);"
        "INSERT INTO tm VALUES (1700000000, 1, '2024-01-02 03:04:05');"
        "INSERT INTO tm VALUES (NULL, NULL, NULL)", NULL, 0, NULL, NULL), "CREATE tm"), 0);
    dqw_rows_t rows;
    dqw_rows_init (&rows);
    CHECK_INT (s_ok (dqw_query_sql (s_conn, s_db, "SELECT d, b, ts FROM tm ORDER BY rowid",
                                    NULL, 0, &rows), "QUERY tm"), 0);
    CHECK_INT (rows.rows, 2);
    if (rows.rows == 2) {
        const dqw_value_t *v = dqw_rows_get (&rows, 0, 0);
        CHECK (v->type == DQW_INTEGER && v->i == 1700000000);
        v = dqw_rows_get (&rows, 0, 1);
        CHECK (v->type == DQW_INTEGER && v->i == 1);
        CHECK (s_text_is (dqw_rows_get (&rows, 0, 2), "2024-01-02 03:04:05"));
        CHECK (s_text_is (dqw_rows_get (&rows, 1, 0), ""));    /* NULL DATETIME */
        v = dqw_rows_get (&rows, 1, 1);
        CHECK (v->type == DQW_INTEGER && v->i == 0);            /* NULL BOOLEAN */
    }
    dqw_rows_reset (&rows);
}

/*  5000 rows of 200 bytes: dqlite sends about a page per message. */
static void
test_node_big_result (void)
{
    NEED_NODE ();
    uint64_t changes = 0;
    CHECK_INT (s_ok (dqw_exec_sql (s_conn, s_db,
        "CREATE TABLE big (x INTEGER PRIMARY KEY, v TEXT);"
        "INSERT INTO big (x, v) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000)"
        " SELECT x, printf('%0200d', x) FROM c", NULL, 0, NULL, &changes), "fill big"), 0);
    CHECK_INT (changes, 5000);

    dqw_rows_t rows;
    dqw_rows_init (&rows);
    CHECK_INT (s_ok (dqw_query_sql (s_conn, s_db, "SELECT x, v FROM big ORDER BY x", NULL, 0, &rows),
                     "QUERY big"), 0);
    CHECK_INT (rows.rows, 5000);
    CHECK (rows.parts > 100);
    printf ("     (5000 rows of 200 bytes came in %zu messages)\n", rows.parts);
    int bad = 0;
    for (size_t r = 0; r < rows.rows; r++) {
        char want [256];
        snprintf (want, sizeof (want), "%0200zu", r + 1);
        if (dqw_rows_get (&rows, r, 0)->i != (int64_t) r + 1 || !s_text_is (dqw_rows_get (&rows, r, 1), want))
            bad++;
    }
    CHECK_INT (bad, 0);

    uint32_t stmt = 0;
    CHECK_INT (s_ok (dqw_prepare (s_conn, s_db, "SELECT x, v FROM big WHERE x > ? ORDER BY x", &stmt, NULL),
                     "PREPARE big"), 0);
    dqw_value_t after = s_int (4000);
    CHECK_INT (s_ok (dqw_query (s_conn, s_db, stmt, &after, 1, &rows), "QUERY big > 4000"), 0);
    CHECK_INT (rows.rows, 1000);
    if (rows.rows == 1000)
        CHECK_INT (dqw_rows_get (&rows, 999, 0)->i, 5000);
    CHECK_INT (s_ok (dqw_finalize (s_conn, s_db, stmt), "FINALIZE big"), 0);

    /* A step that fails after many messages were sent: FAILURE, and the
       connection goes on. */
    CHECK_INT (dqw_query_sql (s_conn, s_db,
        "SELECT x, CASE WHEN x = 4000 THEN abs(-9223372036854775807 - 1) ELSE x END FROM big ORDER BY x",
        NULL, 0, &rows), DQW_FAILURE);
    CHECK_INT (dqw_errcode (s_conn), 1);
    CHECK (strstr (dqw_errmsg (s_conn), "integer overflow") != NULL);
    CHECK_INT (rows.rows, 0);
    CHECK_INT (s_ok (dqw_query_sql (s_conn, s_db, "SELECT count(*) FROM big", NULL, 0, &rows), "count"), 0);
    CHECK (rows.rows == 1 && dqw_rows_get (&rows, 0, 0)->i == 5000);
    dqw_rows_reset (&rows);
}

static void
test_node_failures (void)
{
    NEED_NODE ();
    CHECK_INT (s_ok (dqw_exec_sql (s_conn, s_db, "CREATE TABLE u (k TEXT UNIQUE)", NULL, 0, NULL, NULL),
                     "CREATE u"), 0);
    uint32_t insert = 0;
    CHECK_INT (s_ok (dqw_prepare (s_conn, s_db, "INSERT INTO u (k) VALUES (?)", &insert, NULL), "PREPARE u"), 0);
    dqw_value_t a = s_textv ("a"), b = s_textv ("b");
    CHECK_INT (s_ok (dqw_exec (s_conn, s_db, insert, &a, 1, NULL, NULL), "insert a"), 0);
    CHECK_INT (dqw_exec (s_conn, s_db, insert, &a, 1, NULL, NULL), DQW_FAILURE);
    CHECK_INT (dqw_errcode (s_conn), 2067);        /* SQLITE_CONSTRAINT_UNIQUE */
    CHECK (strstr (dqw_errmsg (s_conn), "UNIQUE constraint failed: u.k") != NULL);
    /* the connection and the statement go on */
    CHECK_INT (s_ok (dqw_exec (s_conn, s_db, insert, &b, 1, NULL, NULL), "insert b"), 0);
    CHECK_INT (dqw_exec_sql (s_conn, s_db, "INSERT INTO u (k) VALUES (?)", &b, 1, NULL, NULL), DQW_FAILURE);
    CHECK_INT (dqw_errcode (s_conn), 2067);

    uint32_t stmt;
    CHECK_INT (dqw_prepare (s_conn, s_db, "SELEC 1", &stmt, NULL), DQW_FAILURE);
    CHECK_INT (dqw_errcode (s_conn), 1);
    CHECK (strstr (dqw_errmsg (s_conn), "syntax error") != NULL);
    CHECK_INT (dqw_exec (s_conn, s_db, 999, NULL, 0, NULL, NULL), DQW_FAILURE);
    CHECK_INT (dqw_errcode (s_conn), 12);
    CHECK (strstr (dqw_errmsg (s_conn), "no statement") != NULL);

    CHECK_INT (s_ok (dqw_finalize (s_conn, s_db, insert), "FINALIZE u"), 0);
    CHECK_INT (dqw_finalize (s_conn, s_db, insert), DQW_FAILURE);
    CHECK_INT (dqw_errcode (s_conn), 12);

    dqw_value_t many [256];
    for (int i = 0; i < 256; i++)
        many [i] = s_null ();
    CHECK_INT (dqw_exec_sql (s_conn, s_db, "SELECT 1", many, 256, NULL, NULL), DQW_MISUSE);

    dqw_rows_t rows;
    dqw_rows_init (&rows);
    CHECK_INT (s_ok (dqw_query_sql (s_conn, s_db, "SELECT k FROM u ORDER BY k", NULL, 0, &rows), "SELECT u"), 0);
    CHECK_INT (rows.rows, 2);
    if (rows.rows == 2) {
        CHECK (s_text_is (dqw_rows_get (&rows, 0, 0), "a"));
        CHECK (s_text_is (dqw_rows_get (&rows, 1, 0), "b"));
    }
    dqw_rows_reset (&rows);
}

static void
s_check_cluster (size_t want_count)
{
    dqw_node_t *nodes = NULL;
    size_t count = 0;
    CHECK_INT (s_ok (dqw_cluster (s_conn, &nodes, &count), "CLUSTER"), 0);
    CHECK_INT (count, want_count);
    if (count >= 1) {
        CHECK_INT (nodes [0].id, 1);
        CHECK_STR (nodes [0].address, s_address);
        CHECK_INT (nodes [0].role, DQW_VOTER);
    }
    if (count >= 2) {
        CHECK_INT (nodes [1].id, 2);
        CHECK_INT (nodes [1].role, DQW_SPARE);
    }
    dqw_nodes_free (nodes, count);
}

static void
test_node_cluster (void)
{
    NEED_NODE ();
    s_check_cluster (1);
    char nowhere [64];
    snprintf (nowhere, sizeof (nowhere), "@dqw-nowhere-%d", (int) getpid ());
    CHECK_INT (s_ok (dqw_add (s_conn, 2, nowhere), "ADD"), 0);
    s_check_cluster (2);
    /* raft's errors arrive as SQLITE_ERROR with raft's message */
    CHECK_INT (dqw_add (s_conn, 2, nowhere), DQW_FAILURE);
    CHECK_INT (dqw_errcode (s_conn), 1);
    CHECK_STR (dqw_errmsg (s_conn), "server ID already in use");
    CHECK_INT (dqw_assign (s_conn, 2, DQW_SPARE), DQW_FAILURE);  /* it is one already */
    CHECK_INT (dqw_errcode (s_conn), 1);
    CHECK_STR (dqw_errmsg (s_conn), "server role is not valid");
    CHECK_INT (dqw_transfer (s_conn, 2), DQW_FAILURE);          /* not a voter */
    CHECK_STR (dqw_errmsg (s_conn), "server ID is not valid");
    CHECK_INT (s_ok (dqw_remove (s_conn, 2), "REMOVE"), 0);
    s_check_cluster (1);
    CHECK_INT (dqw_remove (s_conn, 2), DQW_FAILURE);
    CHECK_STR (dqw_errmsg (s_conn), "server ID is not valid");
    uint64_t id = 0;
    CHECK_INT (s_ok (dqw_leader (s_conn, &id, NULL, 0), "LEADER"), 0);
    CHECK_INT (id, 1);
}

static void
test_node_second_connection (void)
{
    NEED_NODE ();
    dqw_t *conn = dqw_connect (s_address, 5000, NULL, 0);
    CHECK (conn != NULL);
    if (!conn)
        return;
    uint32_t db = 9;
    CHECK_INT (dqw_open (conn, "test", &db), 0);
    dqw_rows_t rows;
    dqw_rows_init (&rows);
    CHECK_INT (dqw_query_sql (conn, db, "SELECT count(*) FROM t", NULL, 0, &rows), 0);
    CHECK (rows.rows == 1 && dqw_rows_get (&rows, 0, 0)->i == 2);
    dqw_rows_reset (&rows);
    dqw_destroy (&conn);
}

static int
s_remove_entry (const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove (path);
}

static void
s_node_stop (void)
{
    dqw_destroy (&s_conn);
    if (s_node) {
        dqlite_node_stop (s_node);
        dqlite_node_destroy (s_node);
        s_node = NULL;
    }
    if (s_dir [0])
        nftw (s_dir, s_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int
main (void)
{
    signal (SIGPIPE, SIG_IGN);
    setvbuf (stdout, NULL, _IOLBF, 0);

    TEST_RUN (test_encode_requests);
    TEST_RUN (test_encode_refuses);
    TEST_RUN (test_decode_responses);
    TEST_RUN (test_decode_malformed);
    TEST_RUN (test_rows_decode);
    TEST_RUN (test_rows_split);
    TEST_RUN (test_rows_malformed);
    TEST_RUN (test_truncate_and_mutate);

    TEST_RUN (test_peer_bytes_on_the_wire);
    TEST_RUN (test_peer_tcp);
    TEST_RUN (test_peer_never_answers);
    TEST_RUN (test_peer_too_slow);
    TEST_RUN (test_peer_broken_answers);
    TEST_RUN (test_peer_rows);
    TEST_RUN (test_peer_failure_then_usable);
    TEST_RUN (test_connect_errors);
    TEST_RUN (test_no_sigpipe);

    TEST_RUN (test_node_start);
    TEST_RUN (test_node_open);
    TEST_RUN (test_node_types);
    TEST_RUN (test_node_time_types);
    TEST_RUN (test_node_big_result);
    TEST_RUN (test_node_failures);
    TEST_RUN (test_node_cluster);
    TEST_RUN (test_node_second_connection);
    s_node_stop ();
    return TEST_DONE ();
}
