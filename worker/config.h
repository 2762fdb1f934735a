/*  config -- ledgerd's command line. */

#ifndef WORKER_CONFIG_H
#define WORKER_CONFIG_H

#include "log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_MAX_BINDS 16

typedef struct {
    const char *db_path;
    const char *binds [CONFIG_MAX_BINDS];
    int bind_count;
    bool sync_full;
    int busy_timeout_ms;
    uint32_t max_ops;
    int64_t max_msg_bytes;
    uint32_t max_queue;
    int64_t dedup_ttl_s;
    log_level_t log_level;
    log_format_t log_format;    /* stderr lines as text or JSON */
    const char *curve_secret;   /* the server's certificate (zcert), or NULL */
    const char *curve_allow;    /* directory of allowed client public certificates */
    bool insecure_bind;         /* listen without CURVE beyond loopback */
    int readers;                /* read-only connections beside the writer */
    int reader_nice;            /* how much lower the readers' CPU priority is */
    uint32_t group_max;         /* batches per group commit */
    int group_wait_us;
    int64_t max_memory;         /* bytes of resident memory before refusing and disconnecting */
    int max_wait_ms;            /* longest a batch may wait to start before `overloaded` */
    int backup_idle_s;          /* a snapshot unread this long is removed */
    bool ipv6;                  /* some endpoint is an IPv6 address */
    char bind_text [CONFIG_MAX_BINDS] [256];    /* endpoints rewritten (localhost) */
    /*  Cluster mode (cluster_id > 0): a dqlite node in this process. */
    uint64_t cluster_id;
    const char *cluster_bind;   /* HOST:PORT of the node (Raft and dqlite clients) */
    const char *cluster_join;   /* HOST:PORT[,...] of members to join through */
    const char *data_dir;       /* the node's Raft log and snapshots */
    const char *advertise;      /* the endpoint producers are told to use for this node */
    int cluster_latency_ms;
    int cluster_timeout_ms;     /* a write waits at most this for the cluster */
    int cluster_snapshot;       /* Raft entries between snapshots */
    int cluster_trailing;       /* entries kept after one */
    char cluster_bind_text [128];
    /*  Metrics and health over HTTP (--metrics-bind), or NULL: off. */
    const char *metrics_bind;
    char metrics_host [64];     /* numeric IPv4 or IPv6 address, "localhost" resolved */
    int metrics_port;
} config_t;

/* Most readers; a pipe and a thread per reader. */
#define CONFIG_MAX_READERS 64

typedef enum {
    CONFIG_RUN,                 /* start the worker */
    CONFIG_DONE,                /* --help or --version printed: exit 0 */
    CONFIG_BAD                  /* errbuf says what is wrong: exit 2 */
} config_rc_t;

/* Fill self from argv, then give every option argv left out its default
   (strings stay borrowed from argv), then check the rules that tie options
   together. --help and --version print to out. */
config_rc_t config_parse (config_t *self, int argc, char *argv [], FILE *out, char *errbuf, size_t errlen);

/* What the usage text says of one option: what README.md's option tables
   must say too. */
typedef struct {
    const char *name;           /* "--db" */
    char arg [64];              /* what its value looks like ("PATH", "full|normal"); empty for a switch */
    const char *fallback;       /* its default as it would be typed, or NULL */
    const char *fallback_note;  /* or its default in words, when other options decide it; or NULL */
} config_doc_t;

/* Fill doc for the option at index (0 up, in usage order). Returns 0, or
   -1 past the last option. */
int config_doc (size_t index, config_doc_t *doc);

/* False for endpoints other hosts can reach: TCP beyond loopback, and the
   other network transports. */
bool config_endpoint_is_local (const char *endpoint);

/* Print the usage text to stream. */
void config_usage (FILE *stream);

#endif
