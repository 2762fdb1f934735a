/*  options -- ledger-bench's command line.

    One struct for the four commands (a run, `compare`, `soak`,
    `connections`); each command accepts only the options that mean
    something to it and says so when given another. Everything after `--`
    is handed to spawned workers untouched. Strings stay borrowed from
    argv. */

#ifndef BENCH_OPTIONS_H
#define BENCH_OPTIONS_H

#include "workload.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Most batches in flight per client: half the sockets' high-water mark
   (1000), so no reply is ever dropped for want of room. */
#define OPTIONS_MAX_WINDOW 500

typedef enum {
    BENCH_RUN,                  /* ledger-bench [options] */
    BENCH_COMPARE,              /* ledger-bench compare: the matrix */
    BENCH_SOAK,                 /* ledger-bench soak: target 6 */
    BENCH_CONNECTIONS,          /* ledger-bench connections: many connections, each sending now and then */
    BENCH_CLUSTER               /* ledger-bench cluster: three nodes beside dqlite-direct */
} bench_mode_t;

typedef struct {
    bench_mode_t mode;
    /* What to measure. */
    const char *endpoint;       /* a running worker, or NULL */
    bool spawn;                 /* start ledgerd */
    bool direct;                /* baseline: processes writing SQLite directly */
    bool raw;                   /* baseline: one in-process writer */
    bool echo;                  /* a bare ZeroMQ round trip */
    /* The workload. */
    int clients;
    int window;
    int batch_ops;
    work_mix_t mix;
    double duration_s;          /* 0 with --batches */
    uint64_t batches;           /* 0 with --duration */
    double rate;                /* batches/s over all clients; 0 = closed loop */
    const char *script;
    int query_clients;
    int query_limit;
    int64_t prefill;            /* -1: automatic */
    /* Talking to the worker. */
    int timeout_ms;
    int retries;
    const char *curve_secret;   /* client certificate, for a CURVE worker */
    const char *curve_server_key;
    /* Where and how. */
    bool sync_full;
    int busy_timeout_ms;
    int echo_bytes;
    const char *dir;
    bool keep;
    uint64_t seed;
    /* soak */
    uint64_t rows;
    double sample_s;
    double rss_limit_mib;
    /* connections */
    int connections;            /* one DEALER socket, so one TCP connection, each */
    int interval_ms;            /* each connection sends a batch this often */
    int threads;                /* the connections are shared out among these */
    /* cluster (rows: the fill, 0 for none) */
    int kills;                  /* kill -9 of the leader, for the failover time */
    /* Output. */
    bool json;
    bool progress;              /* draw the live line (stderr is a terminal) */
    /* Which of the above were given (compare and soak keep their own
       defaults for the rest). */
    bool duration_set;
    bool window_set;
    bool clients_set;
    bool batch_ops_set;
    bool sync_set;
    /* For spawned workers: the arguments after `--`. */
    char **worker_args;
    int worker_argc;
} options_t;

typedef enum {
    OPTIONS_GO,                 /* run */
    OPTIONS_DONE,               /* --help printed: exit 0 */
    OPTIONS_BAD                 /* errbuf says what is wrong: exit 2 */
} options_rc_t;

/* Fill self with mode's defaults, then apply argv (argv [0] is the command
   name: "ledger-bench", "compare", "soak", "connections" or "cluster"). --help prints to out. */
options_rc_t options_parse (options_t *self, bench_mode_t mode, int argc, char *argv [], FILE *out,
                            char *errbuf, size_t errlen);

/* Print the usage text of every command to stream. */
void options_usage (FILE *stream);

#endif
