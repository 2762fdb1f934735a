/*  spawn -- a ledgerd of our own, on a database of our own.

    The worker binary is the ledgerd in the same directory as ledger-bench
    (found through /proc/self/exe), so a build tree measures its own worker.
    It listens on tcp://127.0.0.1:<a free port>, writes its log to a file,
    and is handed back only once it has answered a sys.ping. It dies with
    us (PR_SET_PDEATHSIG) if ledger-bench is killed.

    Its CPU time and memory are read from /proc/<pid>/stat and
    /proc/<pid>/status while it runs; spawn_stop then sends SIGTERM, which
    makes it answer everything it took and exit. */

#ifndef BENCH_SPAWN_H
#define BENCH_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct _spawn_t spawn_t;

typedef struct {
    double user_s;              /* CPU seconds in user mode, since start */
    double system_s;            /* in the kernel */
    int64_t rss_bytes;          /* VmRSS: resident now */
    int64_t peak_rss_bytes;     /* VmHWM: the most it was ever resident */
} spawn_usage_t;

/* Start ledgerd on the database db_path, logging to log_path, with
   --sync full or normal, then the worker_argc flags of worker_args (which
   come last, so they win). Returns the worker once it answers a ping
   (15 s at most), or NULL with errbuf set and the log's end on stderr. */
spawn_t *spawn_new (const char *db_path, const char *log_path, bool sync_full, char **worker_args,
                    int worker_argc, char *errbuf, size_t errlen);

/* Start ledgerd --bind ENDPOINT with the argc arguments of args, logging to
   log_path. ENDPOINT is endpoint, or when NULL tcp://127.0.0.1:<a free
   port> (another one if that port is taken before the worker binds it).
   Returns the worker once it answers a ping (15 s at most), or NULL with
   errbuf set and the log's end on stderr. */
spawn_t *spawn_start (const char *endpoint, char **args, int argc, const char *log_path,
                      char *errbuf, size_t errlen);

/* A TCP port on the loopback interface that nothing listens on now, or -1
   with errbuf set. */
int spawn_free_port (char *errbuf, size_t errlen);

/* kill -9 the worker, collect it, destroy the object and set *self_p to
   NULL: a crash, for failover measurements. */
void spawn_kill (spawn_t **self_p);

/* The endpoint the worker listens on. */
const char *spawn_endpoint (spawn_t *self);

/* The worker's process id. */
pid_t spawn_pid (spawn_t *self);

/* The command line it was started with, for the report. */
const char *spawn_command (spawn_t *self);

/* Read its CPU time and memory now. Returns 0, or -1 if /proc cannot be
   read (the worker is gone). */
int spawn_usage (spawn_t *self, spawn_usage_t *usage);

/* Stop the worker with SIGTERM and wait for it (30 s, then SIGKILL);
   destroy the object and set *self_p to NULL. Returns its exit status, or
   -1 (errbuf says why) if it died by a signal or had to be killed. */
int spawn_stop (spawn_t **self_p, char *errbuf, size_t errlen);

#endif
