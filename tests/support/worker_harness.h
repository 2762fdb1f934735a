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

    This is the process only: harness_wire.h talks to it, harness_json.h
    reads its replies, harness_files.h reads its database and removes a
    directory kept after it stopped. Every call that waits does so for a
    bounded time and says on stderr why it gave up, so a broken worker fails
    a test instead of hanging it. */

#ifndef WORKER_HARNESS_H
#define WORKER_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

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
   true (harness_remove_dir, in harness_files.h, removes a kept one). Destroys the harness and sets *self_p to NULL. */
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

/* A field of the worker's /proc/PID/status in KiB ("VmRSS", "VmHWM"), or -1
   if unknown. */
long harness_status_kb (harness_t *self, const char *field);

/* True if the worker's log of this run (its first megabyte) says text. */
bool harness_log_says (harness_t *self, const char *text);

/* Print the worker's log to stderr, framed so it stands out in test output. */
void harness_dump_log (harness_t *self);

/* A new string "tcp://127.0.0.1:PORT" naming a port nothing listens on
   now (the caller frees it), or NULL. */
char *harness_free_endpoint (void);

/* Wait for pid to exit, 10 s at most: a program that should have ended
   and serves instead is killed (reported, *status_p set to -1) rather
   than hanging the test. */
void harness_wait_bounded (pid_t pid, int *status_p);

/* Run program with args (NULL-terminated; argv [0] is program) to its
   end, bounded as harness_wait_bounded, with what it prints on stdout
   and stderr in output (NUL-terminated). Returns its exit status, or -1. */
int harness_run (const char *program, char *output, size_t size, const char *const *args);

#endif
