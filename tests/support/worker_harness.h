/*  worker_harness -- start the real ledgerd for integration tests.

    A harness owns one ledgerd child process working in its own directory:
    the database is <dir>/ledger.db, and the worker's stdout and stderr are
    appended to <dir>/ledgerd.log, which harness_dump_log prints when a test
    fails. The worker listens on tcp://127.0.0.1:<a free port>; a harness is
    returned only once the worker has answered a sys.ping.

    The child is started with posix_spawn and execs LEDGERD_PATH (a string
    macro given at compile time) at once, with stdin on /dev/null and the
    default disposition for the usual termination signals. Start workers
    before the test process opens any SQLite connection of its own: SQLite
    does not support a connection that crosses a fork, and an inherited
    descriptor without close-on-exec would keep the database file open in
    the child.

    Requests and replies are JSON on this side and msgpack on the wire (see
    proto_json). Every call that waits does so for at most a few seconds and
    says on stderr why it gave up, so a broken worker fails a test instead of
    hanging it. */

#ifndef WORKER_HARNESS_H
#define WORKER_HARNESS_H

#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include <czmq.h>
#include <jansson.h>

typedef struct _harness_t harness_t;

/* Start ledgerd in a new temporary directory (/tmp/ledgerd-test-XXXXXX) with
   the given extra command-line arguments, a NULL-terminated list: pass NULL
   alone for none, or e.g. ("--sync", "normal", NULL). Returns a new harness
   once the worker answers a ping (10 s at most), or NULL with the reason and
   the worker's log on stderr; the directory is then removed. A worker that
   exits logging "Address already in use" lost its port to another process
   and is started again on a new one, three tries in all. Destroy with
   harness_stop. */
harness_t *harness_start (const char *extra_arg, ...);

/* Start ledgerd as harness_start does, but in dir, which must exist and is
   never removed by the harness: use it to restart a worker on the database a
   previous one left (harness_stop (&h, true) keeps that directory). */
harness_t *harness_start_in (const char *dir, const char *extra_arg, ...);

/* Start ledgerd as harness_start_in does, in dir, bound to exactly
   endpoint: to restart a worker where its clients expect it. The directory
   is never removed by the harness. */
harness_t *harness_start_at (const char *dir, const char *endpoint, const char *extra_arg, ...);

/* With "--cluster-id" among the extra arguments the worker is a cluster
   node: it is given no --db (its data lives in the --data-dir the caller
   passes), and harness_db_path names no file. */

/* Stop the worker with SIGTERM and wait for it to exit; after 10 s kill it
   with SIGKILL and say so on stderr. If it has exited already, just collect
   its status. Returns its exit status, or -1 if it had to be killed or died
   by a signal. Removes the directory harness_start made unless keep_dir is
   true. Destroys the harness and sets *self_p to NULL. */
int harness_stop (harness_t **self_p, bool keep_dir);

/* Send signum to the worker, if it is still running, and return at once. */
void harness_signal (harness_t *self, int signum);

/* Wait up to timeout_ms (no limit if negative) for the worker to exit.
   Returns its exit status, or -1 if it died by a signal or is still running
   (harness_alive tells which). The status is kept: asking again after the
   worker has exited returns the same answer at once. */
int harness_wait (harness_t *self, int timeout_ms);

/* True while the worker process has not exited. */
bool harness_alive (harness_t *self);

/* The endpoint the worker is bound to, tcp://127.0.0.1:<port>. */
const char *harness_endpoint (harness_t *self);

/* The worker's database file, <dir>/ledger.db. */
const char *harness_db_path (harness_t *self);

/* The worker's directory. */
const char *harness_dir (harness_t *self);

/* The worker's process id. */
pid_t harness_pid (harness_t *self);

/* A TCP socket connected to endpoint (tcp://127.0.0.1:PORT) that has
   spoken ZMTP 3.0's greeting and READY by hand, as a DEALER with the NULL
   mechanism, and read the worker's greeting (5 s at most): a peer that can
   write frames libzmq would never let a client send. -1 on failure. */
int harness_zmtp_connect (const char *endpoint);

/* A field of the worker's /proc/PID/status in KiB ("VmRSS", "VmHWM"), or -1
   if unknown. */
long harness_status_kb (harness_t *self, const char *field);

/* True if the worker's log of this run (its first megabyte) says text. */
bool harness_log_says (harness_t *self, const char *text);

/* Print the worker's log to stderr, framed so it stands out in test output. */
void harness_dump_log (harness_t *self);

/* Remove dir and everything in it, for directories a test kept with
   harness_stop (&h, true). Returns 0, or -1 with the reason on stderr. */
int harness_remove_dir (const char *dir);

/* Return a new REQ socket connected to the worker, with linger 0 and 5 s
   send and receive timeouts, or NULL on failure. The caller destroys it with
   zsock_destroy. After a call that timed out, a REQ socket is stuck waiting
   for its reply: destroy it and take a new one. */
zsock_t *harness_req (harness_t *self);

/* Return a new DEALER socket connected to the worker, set up as harness_req
   does. A DEALER sends no envelope of its own, so to look like a REQ peer a
   test sends an empty delimiter frame before the body, and receives one. */
zsock_t *harness_dealer (harness_t *self);

/* Send a request written as JSON text (encoded to msgpack, one frame) over
   the REQ socket req and wait up to 5 s for the reply. Returns the reply
   decoded as JSON, which the caller releases with json_decref, or NULL (with
   the reason on stderr) if the text is not JSON, the send fails, no reply
   comes in time, or the reply is not exactly one frame holding one msgpack
   value JSON can show. */
json_t *harness_call (zsock_t *req, const char *json_text);

/* Format the JSON text printf-style, then do what harness_call does. */
json_t *harness_callf (zsock_t *req, const char *format, ...)
    __attribute__ ((format (printf, 2, 3)));

/* Send size bytes at data as the body, unencoded, over the REQ socket req,
   and return the reply as harness_call does: for malformed-input tests. */
json_t *harness_call_raw (zsock_t *req, const void *data, size_t size);

/* A new string "tcp://127.0.0.1:PORT" naming a port nothing listens on
   now (the caller frees it), or NULL. */
char *harness_free_endpoint (void);

/* Run sql on the database at db_path (read-only, a connection of its own)
   and return the first column of the first row as an integer, or -1. */
long long harness_sql_int (const char *db_path, const char *sql);

/* Return the value at path in root, or NULL if there is none. A path is
   object keys and array indexes separated by dots, like "results.0.id" or
   "error.class"; the empty path is root itself. The value is borrowed from
   root. */
json_t *harness_get (json_t *root, const char *path);

/* Return the string at path, borrowed from root, or NULL if there is none or
   it is not a string. */
const char *harness_str (json_t *root, const char *path);

/* Return the integer at path, or LLONG_MIN if there is none or it is not an
   integer. */
long long harness_int (json_t *root, const char *path);

/* Return 1 or 0 for true or false at path, or -1 if there is none or it is
   not a boolean. */
int harness_bool (json_t *root, const char *path);

#endif
