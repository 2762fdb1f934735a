/*  dqw -- a client for dqlite's wire protocol, version 1.

    dqlite 1.11 has no public client API, only a node that speaks a binary
    protocol on a socket. A dqw_t is one connection to one node: it sends one
    request at a time and waits, with a deadline, for the whole response.
    Each connection holds at most one open database, whose id is 0 (dqlite
    1.11 refuses any other id and a second OPEN on the same connection).

    Results of every call that talks to the node:
        0             the node answered as expected;
        DQW_FAILURE   the node answered FAILURE: dqw_errcode and dqw_errmsg
                      say what; the connection stays usable;
        DQW_TRANSPORT connecting or I/O failed, the deadline passed, memory
                      ran out, or the response was malformed: the connection
                      is closed and every later call on it returns
                      DQW_TRANSPORT at once. Destroy it;
        DQW_MISUSE    the arguments cannot be sent (say, more than 255
                      parameters); nothing was sent, the connection stays
                      usable.
    dqw_errmsg says why after every non-zero result.

    Not thread-safe: one thread uses a dqw_t at a time. */

#ifndef DQW_H
#define DQW_H

#include <stddef.h>
#include <stdint.h>

#define DQW_FAILURE   -1
#define DQW_TRANSPORT -2
#define DQW_MISUSE    -3

/* Most parameters one statement can take (the count is one byte). */
#define DQW_MAX_PARAMS 255

/* Node roles, as CLUSTER reports them and ASSIGN takes them. */
#define DQW_VOTER   0
#define DQW_STANDBY 1
#define DQW_SPARE   2

/* FAILURE codes worth naming: the node is not the leader (SQLITE_IOERR |
   40 << 8), or lost leadership while running the request (| 41 << 8). */
#define DQW_NOT_LEADER        10250
#define DQW_LEADERSHIP_LOST   10506

typedef struct _dqw_t dqw_t;

/* A value: a statement parameter, or a column of a row. */
typedef enum {
    DQW_INTEGER = 1,
    DQW_FLOAT   = 2,
    DQW_TEXT    = 3,
    DQW_BLOB    = 4,
    DQW_NULL    = 5
} dqw_type_t;

typedef struct {
    dqw_type_t type;
    int64_t i;                  /* DQW_INTEGER */
    double f;                   /* DQW_FLOAT */
    const void *p;              /* DQW_TEXT, DQW_BLOB: len bytes at p */
    size_t len;
} dqw_value_t;

/* A member of the cluster. */
typedef struct {
    uint64_t id;
    char *address;
    int role;                   /* DQW_VOTER, DQW_STANDBY or DQW_SPARE */
} dqw_node_t;

/* The result of a query, gathered from all the messages it came in.

    values holds rows * columns values, row-major. dqlite's time and boolean
    types arrive as DQW_INTEGER (unix time, 0 or 1) or DQW_TEXT (ISO 8601;
    a NULL in a DATETIME column arrives as the empty text). Text values are
    followed by a NUL byte that len does not count. values, names and what
    they point at belong to the rows and stay valid until its next query,
    dqw_rows_reset or dqw_rows_init. One dqw_rows_t can serve query after
    query, and keeps its memory between them. */
typedef struct {
    size_t columns;
    size_t rows;
    dqw_value_t *values;
    const char **names;         /* columns names */
    size_t parts;               /* messages the result came in */
    /* Private to dqwire. */
    uint8_t *data_;             /* the message bodies, end to end */
    size_t data_size_;
    size_t data_capacity_;
    size_t values_capacity_;
    size_t names_capacity_;
    size_t rows_seen_;          /* rows in the parts so far */
    int state_;
} dqw_rows_t;

/* Connect to the node at address and send the protocol version. address is
   "host:port" (TCP, with TCP_NODELAY; IPv6 hosts in brackets), "@name" (a
   Linux abstract unix socket) or "/path" (a unix socket). timeout_ms bounds
   the connect and handshake (name resolution excepted), and then each
   request until dqw_set_timeout; 0 or less means no deadline. Returns the
   connection, or NULL with the reason in errbuf (if errbuf is not NULL). */
dqw_t *dqw_connect (const char *address, int timeout_ms, char *errbuf, size_t errlen);

/* Close the connection and free it. Safe on NULL and twice; sets *self_p
   to NULL. */
void dqw_destroy (dqw_t **self_p);

/* Set the deadline of each later request: the whole response (every
   message of a result) must arrive within timeout_ms of the call. 0 or
   less means no deadline. */
void dqw_set_timeout (dqw_t *self, int timeout_ms);

/* The code of the last FAILURE (an SQLite extended result code, say 2067
   for a UNIQUE constraint, or DQW_NOT_LEADER); 0 after other results. */
uint64_t dqw_errcode (dqw_t *self);

/* Why the last call did not return 0 (borrowed; overwritten by the next
   call). Once the connection is unusable, the reason it became so. */
const char *dqw_errmsg (dqw_t *self);

/* Ask the node who the leader is. Sets *id_p (0: no leader known) and, if
   address is not NULL, copies the leader's address (empty if none) there;
   DQW_MISUSE if it needs more than size bytes. */
int dqw_leader (dqw_t *self, uint64_t *id_p, char *address, size_t size);

/* Open the database name (created if needed); sets *db_p to its id, 0. */
int dqw_open (dqw_t *self, const char *name, uint32_t *db_p);

/* Prepare the first statement of sql; sets *stmt_p to its id and, if
   params_p is not NULL, *params_p to the number of parameters it takes.
   The statement lives on the node until dqw_finalize or the connection
   closes. */
int dqw_prepare (dqw_t *self, uint32_t db, const char *sql, uint32_t *stmt_p, uint64_t *params_p);

/* Run a prepared statement that returns no rows, binding count params
   (params may be NULL if count is 0). Sets *last_id_p and *changes_p, if
   not NULL, to the last inserted rowid and the rows changed. */
int dqw_exec (dqw_t *self, uint32_t db, uint32_t stmt, const dqw_value_t *params, unsigned count,
              uint64_t *last_id_p, uint64_t *changes_p);

/* Run a prepared statement that returns rows, and gather them all into
   rows (emptied first, also on error). Never send a write this way outside
   a transaction: dqlite 1.11 aborts on it. */
int dqw_query (dqw_t *self, uint32_t db, uint32_t stmt, const dqw_value_t *params, unsigned count,
               dqw_rows_t *rows);

/* Free a prepared statement on the node. */
int dqw_finalize (dqw_t *self, uint32_t db, uint32_t stmt);

/* Run every statement of sql, binding params to the first one. Sets
   *last_id_p and *changes_p as dqw_exec does (both 0 if sql holds no
   statement). */
int dqw_exec_sql (dqw_t *self, uint32_t db, const char *sql, const dqw_value_t *params, unsigned count,
                  uint64_t *last_id_p, uint64_t *changes_p);

/* Run the first statement of sql and gather its rows, as dqw_query does. */
int dqw_query_sql (dqw_t *self, uint32_t db, const char *sql, const dqw_value_t *params, unsigned count,
                   dqw_rows_t *rows);

/* Add node id at address to the cluster, as a spare. Leader only. */
int dqw_add (dqw_t *self, uint64_t id, const char *address);

/* Give node id a role: DQW_VOTER, DQW_STANDBY or DQW_SPARE (any other is
   DQW_MISUSE: dqlite would silently take it as standby). Leader only. */
int dqw_assign (dqw_t *self, uint64_t id, int role);

/* Remove node id from the cluster. Leader only. */
int dqw_remove (dqw_t *self, uint64_t id);

/* Hand leadership to node id (0: let the node choose). Leader only. */
int dqw_transfer (dqw_t *self, uint64_t id);

/* List the cluster's members as the node knows them. Sets *nodes_p to an
   array of *count_p nodes that the caller frees with dqw_nodes_free. */
int dqw_cluster (dqw_t *self, dqw_node_t **nodes_p, size_t *count_p);

/* Free what dqw_cluster returned. Safe on NULL. */
void dqw_nodes_free (dqw_node_t *nodes, size_t count);

/* Make rows empty, owning nothing. Call once before first use. */
void dqw_rows_init (dqw_rows_t *rows);

/* Free everything rows holds; it is then empty and can be used again. */
void dqw_rows_reset (dqw_rows_t *rows);

/* The value at row, column, or NULL if either is out of range. */
const dqw_value_t *dqw_rows_get (const dqw_rows_t *rows, size_t row, size_t column);

#endif
