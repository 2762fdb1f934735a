/*  options -- ledger-bench's command line.

    Numbers are checked whole and against their range, so a typo is an
    error before anything starts rather than a strange figure after. */

#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define M_RUN     (1u << BENCH_RUN)
#define M_COMPARE (1u << BENCH_COMPARE)
#define M_SOAK    (1u << BENCH_SOAK)
#define M_CONN    (1u << BENCH_CONNECTIONS)
#define M_CLUSTER (1u << BENCH_CLUSTER)
/*  The commands that drive the worker through the client library. */
#define M_CLIENT  (M_RUN | M_COMPARE | M_SOAK)
#define M_ALL     (M_CLIENT | M_CONN | M_CLUSTER)

/*  X (id, name, takes a value, commands that accept it) */
#define OPTION_LIST(X) \
    X (ENDPOINT,        "endpoint",        1, M_RUN | M_CONN) \
    X (SPAWN,           "spawn",           0, M_RUN | M_CONN) \
    X (DIRECT,          "direct",          0, M_RUN) \
    X (RAW,             "raw",             0, M_RUN) \
    X (ECHO,            "echo",            0, M_RUN) \
    X (CLIENTS,         "clients",         1, M_RUN | M_SOAK | M_CLUSTER) \
    X (WINDOW,          "window",          1, M_CLIENT | M_CLUSTER) \
    X (BATCH_OPS,       "batch-ops",       1, M_RUN | M_SOAK) \
    X (MIX,             "mix",             1, M_RUN | M_SOAK) \
    X (DURATION,        "duration",        1, M_ALL) \
    X (BATCHES,         "batches",         1, M_RUN) \
    X (RATE,            "rate",            1, M_RUN) \
    X (SCRIPT,          "script",          1, M_RUN) \
    X (QUERY_CLIENTS,   "query-clients",   1, M_RUN) \
    X (QUERY_LIMIT,     "query-limit",     1, M_RUN) \
    X (PREFILL,         "prefill",         1, M_RUN) \
    X (TIMEOUT_MS,      "timeout-ms",      1, M_ALL) \
    X (RETRIES,         "retries",         1, M_CLIENT | M_CLUSTER) \
    X (CURVE_SECRET,    "curve-secret",    1, M_CLIENT) \
    X (CURVE_SERVER_KEY, "curve-server-key", 1, M_CLIENT) \
    X (SYNC,            "sync",            1, M_RUN | M_SOAK | M_CONN) \
    X (BUSY_TIMEOUT_MS, "busy-timeout-ms", 1, M_RUN | M_COMPARE) \
    X (ECHO_BYTES,      "echo-bytes",      1, M_RUN | M_COMPARE) \
    X (DIR,             "dir",             1, M_ALL) \
    X (KEEP,            "keep",            0, M_ALL) \
    X (SEED,            "seed",            1, M_ALL) \
    X (ROWS,            "rows",            1, M_SOAK | M_CLUSTER) \
    X (KILLS,           "kills",           1, M_CLUSTER) \
    X (SAMPLE_S,        "sample-s",        1, M_SOAK) \
    X (RSS_LIMIT_MIB,   "rss-limit-mib",   1, M_SOAK) \
    X (CONNECTIONS,     "connections",     1, M_CONN) \
    X (INTERVAL_MS,     "interval-ms",     1, M_CONN) \
    X (THREADS,         "threads",         1, M_CONN) \
    X (JSON,            "json",            0, M_CLIENT | M_CONN) \
    X (QUIET,           "quiet",           0, M_ALL) \
    X (HELP,            "help",            0, M_ALL)

enum {
    S_FIRST = 256,              /* above every char getopt can return */
#define X(id, name, arg, modes) OPT_##id,
    OPTION_LIST (X)
#undef X
};

static const struct option s_long_options [] = {
#define X(id, name, arg, modes) { name, arg? required_argument: no_argument, NULL, OPT_##id },
    OPTION_LIST (X)
#undef X
    { NULL, 0, NULL, 0 }
};

static const unsigned s_modes [] = {
#define X(id, name, arg, modes) [OPT_##id - S_FIRST - 1] = modes,
    OPTION_LIST (X)
#undef X
};

static const char *s_mode_names [] = { "a run", "compare", "soak", "connections", "cluster" };

void
options_usage (FILE *stream)
{
    fprintf (stream,
"usage: ledger-bench (--spawn | --endpoint E) [--direct] [--raw] [--echo] [workload] [-- worker flags]\n"
"       ledger-bench --direct | --raw | --echo [workload]      baselines alone\n"
"       ledger-bench compare [--duration S] [--window W] [--dir D] [--json] [-- worker flags]\n"
"       ledger-bench soak [--rows N] [--duration S] [--batch-ops B] [--clients N] [--json] [-- worker flags]\n"
"       ledger-bench connections (--spawn | --endpoint E) [--connections N] [--interval-ms P] [--duration S]\n"
"                    [--timeout-ms T] [--threads K] [--json] [-- worker flags]\n"
"       ledger-bench cluster [--clients N] [--window W] [--duration S] [--kills K] [--rows N] [-- node flags]\n"
"\n"
"What to measure (any of them, one after another, with the same workload):\n"
"  --spawn               start ledgerd (the one beside ledger-bench) on a new database in --dir,\n"
"                        with the flags after `--`; stopped with SIGTERM at the end\n"
"  --endpoint E          a worker already running at E (its database keeps the rows)\n"
"  --direct              baseline: --clients processes writing one SQLite file themselves (WAL,\n"
"                        BEGIN IMMEDIATE, busy timeout, the worker's schema): life without ledgerd\n"
"  --raw                 baseline: one in-process writer, no worker, no network: the upper limit\n"
"  --echo                a bare ZeroMQ DEALER/ROUTER round trip over tcp loopback (window 1)\n"
"\n"
"Workload:\n"
"  --clients N           writers, each its own thread and connection (default 1)\n"
"  --window W            batches in flight per worker client, 1..%d (default 1); a --direct\n"
"                        writer, being plain SQLite, has one transaction at a time\n"
"  --batch-ops B         ops per batch (default 1); --direct and --raw run B-row transactions\n"
"  --mix SPEC            op kinds and weights (default create:100), e.g. create:90,update:5,query:5\n"
"                        create: txn.create; update: txn.update of an earlier row; get: txn.get of\n"
"                        one; query: txn.query of the minute after one (10 rows at most)\n"
"  --duration S          send for S seconds (default 5)\n"
"  --batches N           send N batches in all (spread over the clients), then stop\n"
"  --rate R              open loop: R batches/s in all on a fixed schedule; latency counts from\n"
"                        the scheduled send, so a stalled worker cannot hide its queue\n"
"  --script FILE         send the batches of FILE, JSON lines as `ledgerctl submit` takes them, in\n"
"                        order and cycling (worker only); without --duration/--batches, once\n"
"  --query-clients Q     also run Q clients paging through txn.query, window 1 (default 0)\n"
"  --query-limit L       rows per page for them (default 100)\n"
"  --prefill N           rows made before the clock starts, for update/get/query to target\n"
"                        (default 10000 when the mix or --query-clients need rows, else 0)\n"
"  --seed N              the workload's random seed (default 1)\n"
"\n"
"Worker connection:\n"
"  --timeout-ms N        wait this long for a reply before a retry or `unknown` (default 5000)\n"
"  --retries N           resend after a timeout or a retryable error (default 0: count it)\n"
"  --curve-secret FILE   talk CURVE with this client certificate (FILE and FILE_secret)\n"
"  --curve-server-key K  the worker's public key (40 Z85 characters) or public certificate file\n"
"\n"
"Setting:\n"
"  --sync full|normal    the spawned worker's and the baselines' synchronous setting (default\n"
"                        full; a worker at --endpoint keeps its own)\n"
"  --busy-timeout-ms N   the --direct writers' busy timeout (default 5000, as ledgerd's)\n"
"  --echo-bytes N        the --echo message size (default 128, about a 1-op request)\n"
"  --dir DIR             where the temporary databases go (default $TMPDIR, else /tmp)\n"
"  --keep                keep them, and the worker's log\n"
"\n"
"compare: ledgerd against what producers would do without it, in 6 steps, each --duration long\n"
"  (default 5 s), throughput steps with --window in flight per client (default 64): 1-op batches\n"
"  from 8 clients vs. 8 processes writing SQLite directly (sync full: worker >= 10x; sync normal:\n"
"  >= 3x); 1000-op batches vs. one raw SQLite loop (>= 0.8x); 1-op round trip vs. a bare ZeroMQ\n"
"  echo (p50 <= 2x, p99 <= 1000 us); writes beside 4 paging readers vs. writes alone (>= 0.7x).\n"
"  Prints every figure, every ratio, PASS/FAIL against those floors.\n"
"soak: a long steady load: --rows rows (default 10000000) in --duration (default 600 s) at an\n"
"  even rate, --batch-ops (default 1000), sync normal; samples the worker's RSS every --sample-s\n"
"  (default 10) and checks its peak against --rss-limit-mib (default 64) and that it stays flat.\n"
"connections: many producers, each its own connection (a DEALER socket), each sending one keyed\n"
"  1-op write batch (txn.create) every --interval-ms (default 100, each at its own random phase)\n"
"  for --duration (default 30 s), open loop, with no retries:\n"
"  --connections N       how many (default 1000)\n"
"  --interval-ms P       each connection sends a batch every P ms (default 100)\n"
"  --timeout-ms T        a batch unanswered after T ms is given up (default 30000); after the last\n"
"                        send, replies are awaited for up to T ms more, and those to batches already\n"
"                        given up are counted as late\n"
"  --threads K           sending and receiving threads, each with an epoll loop over its share of\n"
"                        the connections (default 2)\n"
"  Reports the offered rate, batches ok, refused (overloaded) by code, other errors, timed out,\n"
"  late replies, latency of ok batches, the worker's CPU and peak RSS, and (spawned) the batches\n"
"  the database holds: applied, and applied for nobody (applied but not answered ok in time).\n"
"\n"
"cluster: ledgerd's cluster mode on three nodes on loopback (cluster mode, data in --dir), beside\n"
"  the dqlite-direct baseline in the same run: --clients producers (default 8) each writing 1-op\n"
"  autocommit transactions straight through dqlite's wire protocol to the leader; then ledgerd with\n"
"  1-op keyed batches, --clients x --window (default 64); then 1000-op batches from one client;\n"
"  each --duration long (default 5 s). Then --kills times (default 5) kill -9 of the leader while\n"
"  four producers write: the median time to the first ok write. With --rows N (default 0: skipped)\n"
"  N rows in 1000-op batches beside a 1-op writer: its worst latency (snapshot stalls) and every\n"
"  node's RSS. Clients use --timeout-ms (default 1000) and --retries (default 30).\n"
"\n"
"Output: a table on stdout (latency in microseconds, µs), a live line on stderr when it is a\n"
"terminal (--quiet: none); --json: one JSON object instead of the table.\n"
"Exit status: 0 every batch the worker answered was ok; 1 some batch failed, had a failed op or\n"
"was lost, the worker did not stop cleanly, the run was interrupted, or (compare, soak) a target\n"
"failed; 2 bad usage; 3 setup failed (worker, database, socket). Transactions the baselines lose\n"
"(busy, mostly) are figures in the table, not failures; so are, in `connections`, batches refused\n"
"as overloaded and batches timed out (any other error, or an ok batch missing from the database,\n"
"is status 1).\n",
        OPTIONS_MAX_WINDOW);
}

/*  Parse all of text as a whole number in [min, max]. */
static int
s_integer (const char *text, long long min, long long max, long long *value_p)
{
    if (!*text)
        return -1;
    errno = 0;
    char *end;
    long long value = strtoll (text, &end, 10);
    if (errno || *end || value < min || value > max)
        return -1;
    *value_p = value;
    return 0;
}

/*  Parse all of text as a finite number in [min, max]. */
static int
s_real (const char *text, double min, double max, double *value_p)
{
    if (!*text)
        return -1;
    errno = 0;
    char *end;
    double value = strtod (text, &end);
    if (errno || *end || !isfinite (value) || value < min || value > max)
        return -1;
    *value_p = value;
    return 0;
}

static void
s_defaults (options_t *self, bench_mode_t mode)
{
    memset (self, 0, sizeof (*self));
    self->mode = mode;
    self->clients = 1;
    self->window = 1;
    self->batch_ops = 1;
    self->mix.weight [WORK_CREATE] = self->mix.total = 100;
    self->duration_s = 5;
    self->query_limit = 100;
    self->prefill = -1;
    self->timeout_ms = 5000;
    self->retries = 0;
    self->sync_full = true;
    self->busy_timeout_ms = 5000;
    self->echo_bytes = 128;
    const char *tmpdir = getenv ("TMPDIR");
    self->dir = tmpdir && *tmpdir? tmpdir: "/tmp";
    self->seed = 1;
    self->rows = 10000000;
    self->sample_s = 10;
    self->rss_limit_mib = 64;
    self->connections = 1000;
    self->interval_ms = 100;
    self->threads = 2;
    self->progress = isatty (STDERR_FILENO) == 1;
    /*  A pipelined producer keeps enough in flight that a full group waits
        while one commits: 8 clients x 64 = two groups of --group-max 256.
        (The library's own default window is 500.) BENCHMARKS.md has the
        whole sweep; --window 16 shows a latency-bound pipeline. */
    if (mode == BENCH_COMPARE)
        self->window = 64;
    if (mode == BENCH_SOAK) {
        self->duration_s = 600;
        self->batch_ops = 1000;
        self->window = 4;
        self->sync_full = false;
    }
    /*  Issue 13's load: a client that waits 30 s before giving up. */
    if (mode == BENCH_CONNECTIONS) {
        self->duration_s = 30;
        self->timeout_ms = 30000;
    }
    /*  Issue 9's load: 8 clients x 64, producers that ride out a failover. */
    if (mode == BENCH_CLUSTER) {
        self->clients = 8;
        self->window = 64;
        self->timeout_ms = 1000;
        self->retries = 30;
        self->rows = 0;
        self->kills = 5;
    }
}

/*  Apply one option. Returns 0, or -1 with errbuf set. */
static int
s_apply (options_t *self, int id, const char *value, char *errbuf, size_t errlen)
{
    long long number = 0;
    const char *name = s_long_options [id - S_FIRST - 1].name;
    bool bad = false;
    switch (id) {
        case OPT_ENDPOINT:      bad = !*(self->endpoint = value); break;
        case OPT_SPAWN:         self->spawn = true; break;
        case OPT_DIRECT:        self->direct = true; break;
        case OPT_RAW:           self->raw = true; break;
        case OPT_ECHO:          self->echo = true; break;
        case OPT_CLIENTS:
            if (!(bad = s_integer (value, 1, 1024, &number))) {
                self->clients = (int) number;
                self->clients_set = true;
            }
            break;
        case OPT_WINDOW:
            if (!(bad = s_integer (value, 1, OPTIONS_MAX_WINDOW, &number))) {
                self->window = (int) number;
                self->window_set = true;
            }
            break;
        case OPT_BATCH_OPS:
            if (!(bad = s_integer (value, 1, 1000000, &number))) {
                self->batch_ops = (int) number;
                self->batch_ops_set = true;
            }
            break;
        case OPT_MIX:
            return workload_mix_parse (value, &self->mix, errbuf, errlen);
        case OPT_DURATION:
            if (!(bad = s_real (value, 0.01, 7 * 86400, &self->duration_s)))
                self->duration_set = true;
            break;
        case OPT_BATCHES:
            if (!(bad = s_integer (value, 1, 1LL << 40, &number)))
                self->batches = (uint64_t) number;
            break;
        case OPT_RATE:          bad = s_real (value, 0.001, 1e9, &self->rate); break;
        case OPT_SCRIPT:        bad = !*(self->script = value); break;
        case OPT_QUERY_CLIENTS:
            if (!(bad = s_integer (value, 0, 1024, &number)))
                self->query_clients = (int) number;
            break;
        case OPT_QUERY_LIMIT:
            if (!(bad = s_integer (value, 1, 10000, &number)))
                self->query_limit = (int) number;
            break;
        case OPT_PREFILL:
            if (!(bad = s_integer (value, 0, 1LL << 32, &number)))
                self->prefill = number;
            break;
        case OPT_TIMEOUT_MS:
            if (!(bad = s_integer (value, 1, 3600 * 1000, &number)))
                self->timeout_ms = (int) number;
            break;
        case OPT_RETRIES:
            if (!(bad = s_integer (value, 0, 100, &number)))
                self->retries = (int) number;
            break;
        case OPT_SYNC:
            bad = strcmp (value, "full") != 0 && strcmp (value, "normal") != 0;
            self->sync_full = strcmp (value, "full") == 0;
            self->sync_set = true;
            break;
        case OPT_BUSY_TIMEOUT_MS:
            if (!(bad = s_integer (value, 0, 3600 * 1000, &number)))
                self->busy_timeout_ms = (int) number;
            break;
        case OPT_ECHO_BYTES:
            if (!(bad = s_integer (value, 1, 16 * 1024 * 1024, &number)))
                self->echo_bytes = (int) number;
            break;
        case OPT_DIR:           bad = !*(self->dir = value); break;
        case OPT_KEEP:          self->keep = true; break;
        case OPT_SEED:
            if (!(bad = s_integer (value, 0, INT64_MAX, &number)))
                self->seed = (uint64_t) number;
            break;
        case OPT_ROWS:
            if (!(bad = s_integer (value, 1, 1LL << 40, &number)))
                self->rows = (uint64_t) number;
            break;
        case OPT_SAMPLE_S:      bad = s_real (value, 0.1, 3600, &self->sample_s); break;
        case OPT_RSS_LIMIT_MIB: bad = s_real (value, 1, 1 << 20, &self->rss_limit_mib); break;
        case OPT_CONNECTIONS:
            if (!(bad = s_integer (value, 1, 100000, &number)))
                self->connections = (int) number;
            break;
        case OPT_INTERVAL_MS:
            if (!(bad = s_integer (value, 1, 3600 * 1000, &number)))
                self->interval_ms = (int) number;
            break;
        case OPT_THREADS:
            if (!(bad = s_integer (value, 1, 64, &number)))
                self->threads = (int) number;
            break;
        case OPT_KILLS:
            if (!(bad = s_integer (value, 0, 1000, &number)))
                self->kills = (int) number;
            break;
        case OPT_JSON:          self->json = true; break;
        case OPT_CURVE_SECRET:  self->curve_secret = value; break;
        case OPT_CURVE_SERVER_KEY: self->curve_server_key = value; break;
        case OPT_QUIET:         self->progress = false; break;
        default:                bad = true; break;
    }
    if (bad) {
        snprintf (errbuf, errlen, "bad value '%s' for --%s", value? value: "", name);
        return -1;
    }
    return 0;
}

/*  The combinations a run cannot make sense of. */
static int
s_check_run (options_t *self, char *errbuf, size_t errlen)
{
    bool worker = self->spawn || self->endpoint;
    if (self->spawn && self->endpoint) {
        snprintf (errbuf, errlen, "--spawn and --endpoint are two workers: pick one");
        return -1;
    }
    if (!worker && !self->direct && !self->raw && !self->echo) {
        snprintf (errbuf, errlen, "nothing to measure: give --spawn or --endpoint, and/or --direct, --raw, --echo");
        return -1;
    }
    if (self->worker_argc && !self->spawn) {
        snprintf (errbuf, errlen, "worker flags after `--` need --spawn");
        return -1;
    }
    if (self->script && (self->direct || self->raw)) {
        snprintf (errbuf, errlen, "--script replays protocol batches: it runs against a worker only, not --direct or --raw");
        return -1;
    }
    if (self->script && !worker) {
        snprintf (errbuf, errlen, "--script needs --spawn or --endpoint");
        return -1;
    }
    if (self->query_clients && !worker) {
        snprintf (errbuf, errlen, "--query-clients need --spawn or --endpoint");
        return -1;
    }
    if (self->batches && self->duration_set) {
        snprintf (errbuf, errlen, "--duration and --batches both say when to stop: pick one");
        return -1;
    }
    if (self->batches)
        self->duration_s = 0;
    if (self->script && !self->duration_set && !self->batches)
        self->duration_s = 0;   /* once through the file: the run sets batches */
    return 0;
}

/*  connections needs one worker to talk to. */
static int
s_check_connections (options_t *self, char *errbuf, size_t errlen)
{
    if (self->spawn && self->endpoint) {
        snprintf (errbuf, errlen, "--spawn and --endpoint are two workers: pick one");
        return -1;
    }
    if (!self->spawn && !self->endpoint) {
        snprintf (errbuf, errlen, "connections needs a worker: give --spawn or --endpoint");
        return -1;
    }
    if (self->worker_argc && !self->spawn) {
        snprintf (errbuf, errlen, "worker flags after `--` need --spawn");
        return -1;
    }
    if (self->threads > self->connections)
        self->threads = self->connections;
    return 0;
}

options_rc_t
options_parse (options_t *self, bench_mode_t mode, int argc, char *argv [], FILE *out,
               char *errbuf, size_t errlen)
{
    s_defaults (self, mode);
    /*  Everything after `--` is the worker's. */
    int own_argc = argc;
    for (int arg = 1; arg < argc; arg++)
        if (strcmp (argv [arg], "--") == 0) {
            own_argc = arg;
            self->worker_args = argv + arg + 1;
            self->worker_argc = argc - arg - 1;
            break;
        }
    opterr = 0;
    optind = 0;                 /* glibc: start afresh */
    int id;
    int index = 0;
    while ((id = getopt_long (own_argc, argv, "+h", s_long_options, &index)) != -1) {
        if (id == 'h')
            id = OPT_HELP;
        if (id == '?' || id == ':') {
            const char *arg = argv [optind - 1];
            if (optopt)
                snprintf (errbuf, errlen, "option '%s' needs a value", arg);
            else
                snprintf (errbuf, errlen, "unknown option '%s'", arg);
            return OPTIONS_BAD;
        }
        if (!(s_modes [id - S_FIRST - 1] & (1u << mode))) {
            snprintf (errbuf, errlen, "--%s is not an option of %s", s_long_options [id - S_FIRST - 1].name,
                      s_mode_names [mode]);
            return OPTIONS_BAD;
        }
        if (id == OPT_HELP) {
            options_usage (out);
            return OPTIONS_DONE;
        }
        if (s_apply (self, id, optarg, errbuf, errlen))
            return OPTIONS_BAD;
    }
    if (optind < own_argc) {
        snprintf (errbuf, errlen, "unexpected argument '%s'", argv [optind]);
        return OPTIONS_BAD;
    }
    if (mode == BENCH_RUN && s_check_run (self, errbuf, errlen))
        return OPTIONS_BAD;
    if (mode == BENCH_CONNECTIONS && s_check_connections (self, errbuf, errlen))
        return OPTIONS_BAD;
    return OPTIONS_GO;
}
