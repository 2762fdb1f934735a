/*  dqw_codec -- dqlite wire protocol version 1: messages to and from bytes.

    No sockets here. A message is an 8-byte header (u32 body length in 8-byte
    words, u8 type, u8 schema, u16 unused) and a body of whole words. All
    integers are little-endian. A text is its bytes, a NUL, then zeros up to
    the next word; a blob is a u64 length, its bytes, then zeros up to the
    next word.

    The decoders take bytes from the network: every length is checked
    against the bytes present before it is used, nothing is allocated by a
    declared size before the bytes it declares are there, and any body that
    is short, has bytes left over, or breaks a rule of its type is refused
    with a reason. Decoded strings point into the caller's body. */

#ifndef DQW_CODEC_H
#define DQW_CODEC_H

#include "dqw.h"

#include <stdbool.h>

#define DQW_PROTOCOL_VERSION 1
#define DQW_HEADER_SIZE 8
/* Largest body dqwire sends or accepts, in bytes. */
#define DQW_MAX_BODY (64u * 1024 * 1024)
/* Largest sum of ROWS bodies one query result may take, in bytes. */
#define DQW_MAX_RESULT (128u * 1024 * 1024)

/* Request types (dqlite src/protocol.h); the ones dqwire sends. */
#define DQW_REQUEST_LEADER     0
#define DQW_REQUEST_OPEN       3
#define DQW_REQUEST_PREPARE    4
#define DQW_REQUEST_EXEC       5
#define DQW_REQUEST_QUERY      6
#define DQW_REQUEST_FINALIZE   7
#define DQW_REQUEST_EXEC_SQL   8
#define DQW_REQUEST_QUERY_SQL  9
#define DQW_REQUEST_ADD       12
#define DQW_REQUEST_ASSIGN    13
#define DQW_REQUEST_REMOVE    14
#define DQW_REQUEST_CLUSTER   16
#define DQW_REQUEST_TRANSFER  17

/* Response types. */
#define DQW_RESPONSE_FAILURE   0
#define DQW_RESPONSE_SERVER    1
#define DQW_RESPONSE_SERVERS   3
#define DQW_RESPONSE_DB        4
#define DQW_RESPONSE_STMT      5
#define DQW_RESPONSE_RESULT    6
#define DQW_RESPONSE_ROWS      7
#define DQW_RESPONSE_EMPTY     8

/* The last word of a ROWS body: more rows follow in another message, or
   the result is complete. */
#define DQW_ROWS_PART UINT64_C (0xeeeeeeeeeeeeeeee)
#define DQW_ROWS_DONE UINT64_C (0xffffffffffffffff)

/* A growable byte buffer that owns its bytes. */
typedef struct {
    uint8_t *data;
    size_t size;
    size_t capacity;
} dqw_buf_t;

/* Make buf empty, owning nothing. */
void dqw_buf_init (dqw_buf_t *buf);

/* Free what buf holds; it is then empty. */
void dqw_buf_reset (dqw_buf_t *buf);

/* A request. Which fields a type reads: db (PREPARE, EXEC, QUERY, FINALIZE,
   EXEC_SQL, QUERY_SQL), stmt (EXEC, QUERY, FINALIZE), text (OPEN: the
   database name; PREPARE, EXEC_SQL, QUERY_SQL: the SQL; ADD: the address),
   node (ADD, ASSIGN, REMOVE, TRANSFER), role (ASSIGN), params and count
   (EXEC, QUERY, EXEC_SQL, QUERY_SQL). The others are ignored. */
typedef struct {
    uint8_t type;               /* DQW_REQUEST_* */
    uint32_t db;
    uint32_t stmt;
    const char *text;
    uint64_t node;
    uint64_t role;
    const dqw_value_t *params;
    unsigned count;
} dqw_request_t;

/* Encode req as one whole message, header and body, into buf (replacing
   what it held). Returns 0, or -1 with *why_p set to a static string if req
   cannot be sent: an unknown type, a NULL text, more than DQW_MAX_PARAMS
   params, a param of unknown type, a text param with a NUL byte in it, a
   body over DQW_MAX_BODY, or no memory. A request with no params carries
   no parameter tuple at all, as go-dqlite sends it. */
int dqw_request_encode (const dqw_request_t *req, dqw_buf_t *buf, const char **why_p);

/* The response type that answers a request of type request_type (FAILURE
   aside), or -1 if dqwire does not know that request. */
int dqw_request_response_type (uint8_t request_type);

/* A name for a request or response type, for messages (static string). */
const char *dqw_request_name (uint8_t type);
const char *dqw_response_name (uint8_t type);

typedef struct {
    uint32_t words;             /* body length in 8-byte words */
    uint8_t type;
    uint8_t schema;
    uint16_t extra;
} dqw_header_t;

/* Read a message header from its DQW_HEADER_SIZE bytes. */
void dqw_header_decode (const uint8_t *bytes, dqw_header_t *header);

/* A decoded response; which fields are set depends on type. Strings point
   into the body that was decoded. */
typedef struct {
    uint8_t type;
    uint64_t code;              /* FAILURE */
    const char *message;        /* FAILURE */
    uint64_t id;                /* SERVER: 0 if no leader is known */
    const char *address;        /* SERVER: "" if no leader is known */
    uint32_t db;                /* DB, STMT */
    uint32_t stmt;              /* STMT */
    uint64_t params;            /* STMT */
    uint64_t last_id;           /* RESULT */
    uint64_t changes;           /* RESULT */
} dqw_response_t;

/* Decode the size-byte body of a response of this type: FAILURE, SERVER,
   DB, STMT, RESULT or EMPTY (SERVERS and ROWS have their own decoders).
   A FAILURE is a code and a message, or -- as dqlite 1.11 sends it when a
   query's step fails -- the column count, names and rows of the batch it
   was building, then the code and the message. Returns 0, or -1 with
   *why_p set (static string) if the body is malformed or the type is not
   one of these. */
int dqw_response_decode (uint8_t type, const void *body, size_t size, dqw_response_t *res,
                         const char **why_p);

/* Decode the body of a SERVERS response (CLUSTER, format 1: id, address,
   role per node). Sets *nodes_p to an array of *count_p nodes, which the
   caller frees with dqw_nodes_free. Returns 0, or -1 with *why_p set (and
   nothing allocated) if malformed or out of memory. */
int dqw_servers_decode (const void *body, size_t size, dqw_node_t **nodes_p, size_t *count_p,
                        const char **why_p);

/* Add the body of one ROWS message to rows. Each message repeats the
   column count and names, holds whole rows, and ends with DQW_ROWS_PART or
   DQW_ROWS_DONE. Returns 0 and sets *more_p: true if more messages follow,
   false if this one completed the result, which rows then holds. Returns
   -1 with *why_p set if the body is malformed (or the parts disagree, or
   exceed DQW_MAX_RESULT, or memory ran out), and rows is then empty. A
   rows that holds a complete result is emptied before the body is added. */
int dqw_rows_append (dqw_rows_t *rows, const void *body, size_t size, bool *more_p, const char **why_p);

/* Make rows empty but keep its memory for the next result. */
void dqw_rows_clear (dqw_rows_t *rows);

#endif
