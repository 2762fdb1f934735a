/*  config -- ledgerd's command line.

    Every option is `--name value` or `--name=value`. Numbers are checked
    whole and against their range, so a typo is an error at start-up rather
    than a surprising limit later. */

#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

void
config_usage (FILE *stream)
{
    fprintf (stream,
        "usage: ledgerd [--db PATH] [--bind ENDPOINT]... [--sync full|normal]\n"
        "               [--busy-timeout-ms N] [--max-ops N] [--max-msg-bytes N] [--max-queue N]\n"
        "               [--dedup-ttl-s N] [--readers N] [--reader-nice N] [--group-max N]\n"
        "               [--group-wait-us N] [--max-memory BYTES] [--max-wait-ms N]\n"
        "               [--curve-secret FILE --curve-allow DIR] [--insecure-bind]\n"
        "               [--cluster-id N --cluster-bind HOST:PORT --data-dir DIR [--cluster-join HOST:PORT,...]\n"
        "                [--advertise ENDPOINT] [--cluster-latency-ms N] [--cluster-timeout-ms N]\n"
        "                [--cluster-snapshot N] [--cluster-trailing N]]\n"
        "               [--log-level error|warn|info|debug] [--version] [--help]\n"
        "\n"
        "  --db PATH              SQLite database file (default ledger.db)\n"
        "  --bind ENDPOINT        ZeroMQ endpoint to serve, repeatable (default tcp://127.0.0.1:5555)\n"
        "  --sync full|normal     full: fsync every commit (default); normal: WAL may lose the\n"
        "                         last commits on power loss, never on a process crash\n"
        "  --busy-timeout-ms N    wait this long for a lock held by another process (default 5000)\n"
        "  --max-ops N            most ops in one batch (default 10000)\n"
        "  --max-msg-bytes N      largest request in bytes (default 16777216)\n"
        "  --max-queue N          batches waiting for the writer before `overloaded` (default 10000)\n"
        "  --dedup-ttl-s N        keep idempotency keys at least N seconds; 0 = forever (default 86400)\n"
        "  --readers N            read-only connections for batches that only read (default 2)\n"
        "  --reader-nice N        readers run this much nicer than the writer, 0-19 (default 10):\n"
        "                         on a busy CPU, writes come first\n"
        "  --group-max N          most batches committed together in one transaction (default 256)\n"
        "  --group-wait-us N      wait this long for more batches when the queue is short (default 0)\n"
        "  --max-memory BYTES     resident memory ceiling; near it requests are refused, past it the\n"
        "                         connections holding the most are dropped (K, M, G; default 1G)\n"
        "  --max-wait-ms N        a batch that cannot start within N ms is answered `overloaded`\n"
        "                         (default 1000)\n"
        "  --curve-secret FILE    CURVE: this server's certificate (czmq zcert format, with secret key)\n"
        "  --curve-allow DIR      CURVE: client public certificates allowed in (re-read when it changes)\n"
        "  --insecure-bind        allow non-loopback endpoints without CURVE (anyone can write)\n"
        "  --log-level LEVEL      error, warn, info or debug (default info)\n"
        "\n"
        "cluster mode (a replicated ledger on dqlite; see README \"Cluster mode\"):\n"
        "  --cluster-id N         this node's id; node 1 founds the cluster, the others join it\n"
        "  --cluster-bind H:P     the node's Raft address, IPv4 (loopback unless --insecure-bind)\n"
        "  --cluster-join H:P,... members to join through (every node but node 1)\n"
        "  --data-dir DIR         the node's Raft log, snapshots and copy of the ledger\n"
        "  --advertise ENDPOINT   where producers reach this node (default the first --bind)\n"
        "  --cluster-latency-ms N network round trip between nodes; elections take 15-30 times it\n"
        "                         (default 20)\n"
        "  --cluster-timeout-ms N a write waits at most this for a quorum before `unavailable`\n"
        "                         (default 3000)\n"
        "  --cluster-snapshot N   Raft entries (commits) between snapshots (default 1024)\n"
        "  --cluster-trailing N   entries kept in memory after a snapshot, for followers behind\n"
        "                         (default 2048)\n");
}

/*  Parse all of text as a decimal integer in [min, max]. */
static int
s_number (const char *text, long long min, long long max, long long *value_p)
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

/*  Parse a size: a whole number of bytes, or with K, M or G (powers of
    1024) after it, in [min, max]. */
static int
s_bytes (const char *text, long long min, long long max, long long *value_p)
{
    char digits [32];
    size_t len = strlen (text);
    if (len == 0 || len >= sizeof (digits))
        return -1;
    memcpy (digits, text, len + 1);
    int shift = 0;
    char unit = digits [len - 1];
    if (unit == 'K' || unit == 'k' || unit == 'M' || unit == 'm' || unit == 'G' || unit == 'g') {
        shift = unit == 'K' || unit == 'k'? 10: unit == 'M' || unit == 'm'? 20: 30;
        digits [len - 1] = 0;
    }
    long long value;
    if (s_number (digits, 0, max >> shift, &value) || (value << shift) < min)
        return -1;
    *value_p = value << shift;
    return 0;
}

/*  libzmq binds TCP to an address or an interface name, so "localhost"
    reads as a device that does not exist: bind 127.0.0.1 for it. An IPv6
    address needs ZMQ_IPV6 on the socket. Returns the endpoint to bind. */
static const char *
s_bindable (config_t *self, int index, const char *endpoint)
{
    if (strncmp (endpoint, "tcp://[", 7) == 0)
        self->ipv6 = true;
    if (strncmp (endpoint, "tcp://localhost:", 16) != 0)
        return endpoint;
    snprintf (self->bind_text [index], sizeof (self->bind_text [index]), "tcp://127.0.0.1:%s", endpoint + 16);
    return self->bind_text [index];
}

/*  The cluster flags go together, and the Raft address is numeric IPv4
    (all dqlite 1.11 takes) and loopback unless --insecure-bind: Raft and
    dqlite's own protocol carry no authentication. Returns -1 with errbuf. */
static int
s_check_cluster (config_t *self, bool db_given, char *errbuf, size_t errlen)
{
    if (!self->cluster_id) {
        if (self->cluster_bind || self->cluster_join || self->data_dir || self->advertise) {
            snprintf (errbuf, errlen, "the cluster options need --cluster-id");
            return -1;
        }
        return 0;
    }
    if (!self->cluster_bind || !self->data_dir) {
        snprintf (errbuf, errlen, "--cluster-id needs --cluster-bind and --data-dir");
        return -1;
    }
    if (db_given) {
        snprintf (errbuf, errlen, "--db has no meaning in cluster mode: the ledger is replicated in --data-dir");
        return -1;
    }
    if (self->cluster_id == 1 && self->cluster_join) {
        snprintf (errbuf, errlen, "node 1 founds the cluster: a node that joins one needs another --cluster-id");
        return -1;
    }
    if (self->cluster_id != 1 && !self->cluster_join) {
        snprintf (errbuf, errlen, "--cluster-id %llu needs --cluster-join (only node 1 founds a cluster)",
                  (unsigned long long) self->cluster_id);
        return -1;
    }
    const char *bind = self->cluster_bind;
    if (strncmp (bind, "localhost:", 10) == 0) {
        snprintf (self->cluster_bind_text, sizeof (self->cluster_bind_text), "127.0.0.1:%s", bind + 10);
        self->cluster_bind = bind = self->cluster_bind_text;
    }
    unsigned a, b, c, d, port;
    char tail;
    if (sscanf (bind, "%u.%u.%u.%u:%u%c", &a, &b, &c, &d, &port, &tail) != 5
    ||  a > 255 || b > 255 || c > 255 || d > 255 || port == 0 || port > 65535) {
        snprintf (errbuf, errlen, "--cluster-bind '%s': give an IPv4 address and port, like 127.0.0.1:9001", bind);
        return -1;
    }
    if (a != 127 && !self->insecure_bind) {
        snprintf (errbuf, errlen, "refusing a cluster address beyond loopback (%s) without --insecure-bind:"
                  " Raft traffic is not authenticated", bind);
        return -1;
    }
    if (!self->advertise) {
        const char *first = self->binds [0];
        if (strstr (first, "://*") || strstr (first, "://0.0.0.0")) {
            snprintf (errbuf, errlen, "%s is not an address producers can use: give --advertise", first);
            return -1;
        }
        self->advertise = first;
    }
    /*  dqlite serves queries on the leader only: every batch runs on the
        leader's writer connection. */
    self->readers = 0;
    return 0;
}

config_rc_t
config_parse (config_t *self, int argc, char *argv [], FILE *out, char *errbuf, size_t errlen)
{
    memset (self, 0, sizeof (*self));
    self->db_path = "ledger.db";
    self->sync_full = true;
    self->busy_timeout_ms = 5000;
    self->max_ops = 10000;
    self->max_msg_bytes = 16 * 1024 * 1024;
    self->max_queue = 10000;
    self->dedup_ttl_s = 86400;
    self->log_level = LOG_LEVEL_INFO;
    self->readers = 2;
    self->reader_nice = 10;
    self->group_max = 256;
    self->group_wait_us = 0;
    self->max_memory = 1LL << 30;
    self->max_wait_ms = 1000;
    self->cluster_latency_ms = 20;
    self->cluster_timeout_ms = 3000;
    self->cluster_snapshot = 1024;
    self->cluster_trailing = 2048;
    bool db_given = false;

    for (int arg = 1; arg < argc; arg++) {
        const char *name = argv [arg];
        if (strcmp (name, "--help") == 0 || strcmp (name, "-h") == 0) {
            config_usage (out);
            return CONFIG_DONE;
        }
        if (strcmp (name, "--version") == 0) {
            fprintf (out, "ledgerd %s\n", LEDGER_VERSION);
            return CONFIG_DONE;
        }
        if (strncmp (name, "--", 2) != 0) {
            snprintf (errbuf, errlen, "unexpected argument '%s'", name);
            return CONFIG_BAD;
        }
        /*  --name=value or --name value */
        char flag [64];
        const char *value = NULL;
        const char *equals = strchr (name, '=');
        size_t flag_len = equals? (size_t) (equals - name): strlen (name);
        if (flag_len >= sizeof (flag)) {
            snprintf (errbuf, errlen, "unknown option '%.40s...'", name);
            return CONFIG_BAD;
        }
        memcpy (flag, name, flag_len);
        flag [flag_len] = 0;
        if (equals)
            value = equals + 1;
        else
        if (arg + 1 < argc)
            value = argv [++arg];

        static const char *known [] = { "--db", "--bind", "--sync", "--busy-timeout-ms", "--max-ops",
                                        "--max-msg-bytes", "--max-queue", "--dedup-ttl-s", "--log-level",
                                        "--readers", "--reader-nice", "--group-max", "--group-wait-us",
                                        "--curve-secret", "--curve-allow", "--insecure-bind", "--max-memory",
                                        "--max-wait-ms", "--cluster-id", "--cluster-bind", "--cluster-join",
                                        "--data-dir", "--advertise", "--cluster-latency-ms",
                                        "--cluster-timeout-ms", "--cluster-snapshot", "--cluster-trailing" };
        bool is_known = false;
        for (size_t n = 0; n < sizeof (known) / sizeof (known [0]); n++)
            is_known |= strcmp (flag, known [n]) == 0;
        if (!is_known) {
            snprintf (errbuf, errlen, "unknown option '%s'", flag);
            return CONFIG_BAD;
        }
        if (strcmp (flag, "--insecure-bind") == 0) {
            /*  A switch: it takes no value, so the next word is not its. */
            if (equals) {
                snprintf (errbuf, errlen, "option '%s' takes no value", flag);
                return CONFIG_BAD;
            }
            if (value)
                arg--;
            self->insecure_bind = true;
            continue;
        }
        if (!value) {
            snprintf (errbuf, errlen, "option '%s' needs a value", flag);
            return CONFIG_BAD;
        }
        long long number = 0;
        bool bad = false;
        if (strcmp (flag, "--db") == 0) {
            bad = !*(self->db_path = value);
            db_given = true;
        }
        else
        if (strcmp (flag, "--bind") == 0) {
            if (self->bind_count == CONFIG_MAX_BINDS) {
                snprintf (errbuf, errlen, "at most %d --bind endpoints", CONFIG_MAX_BINDS);
                return CONFIG_BAD;
            }
            bad = !*value;
            self->binds [self->bind_count] = s_bindable (self, self->bind_count, value);
            self->bind_count++;
        }
        else
        if (strcmp (flag, "--sync") == 0) {
            bad = strcmp (value, "full") != 0 && strcmp (value, "normal") != 0;
            self->sync_full = strcmp (value, "full") == 0;
        }
        else
        if (strcmp (flag, "--log-level") == 0)
            bad = log_level_parse (value, &self->log_level) != 0;
        else
        if (strcmp (flag, "--curve-secret") == 0)
            bad = !*(self->curve_secret = value);
        else
        if (strcmp (flag, "--curve-allow") == 0)
            bad = !*(self->curve_allow = value);
        else
        if (strcmp (flag, "--busy-timeout-ms") == 0 && !(bad = s_number (value, 0, INT_MAX, &number)))
            self->busy_timeout_ms = (int) number;
        else
        if (strcmp (flag, "--max-ops") == 0 && !(bad = s_number (value, 1, 1000000, &number)))
            self->max_ops = (uint32_t) number;
        else
        if (strcmp (flag, "--max-msg-bytes") == 0 && !(bad = s_number (value, 64, 1LL << 30, &number)))
            self->max_msg_bytes = number;
        else
        if (strcmp (flag, "--max-queue") == 0 && !(bad = s_number (value, 1, 1000000, &number)))
            self->max_queue = (uint32_t) number;
        else
        if (strcmp (flag, "--dedup-ttl-s") == 0 && !(bad = s_number (value, 0, 100LL * 365 * 86400, &number)))
            self->dedup_ttl_s = number;
        else
        if (strcmp (flag, "--readers") == 0 && !(bad = s_number (value, 0, CONFIG_MAX_READERS, &number)))
            self->readers = (int) number;
        else
        if (strcmp (flag, "--reader-nice") == 0 && !(bad = s_number (value, 0, 19, &number)))
            self->reader_nice = (int) number;
        else
        if (strcmp (flag, "--group-max") == 0 && !(bad = s_number (value, 1, 10000, &number)))
            self->group_max = (uint32_t) number;
        else
        if (strcmp (flag, "--group-wait-us") == 0 && !(bad = s_number (value, 0, 1000000, &number)))
            self->group_wait_us = (int) number;
        else
        if (strcmp (flag, "--max-memory") == 0 && !(bad = s_bytes (value, 16LL << 20, 1LL << 50, &number)))
            self->max_memory = number;
        else
        if (strcmp (flag, "--max-wait-ms") == 0 && !(bad = s_number (value, 1, 3600000, &number)))
            self->max_wait_ms = (int) number;
        else
        if (strcmp (flag, "--cluster-id") == 0 && !(bad = s_number (value, 1, INT64_MAX, &number)))
            self->cluster_id = (uint64_t) number;
        else
        if (strcmp (flag, "--cluster-bind") == 0)
            bad = !*(self->cluster_bind = value);
        else
        if (strcmp (flag, "--cluster-join") == 0)
            bad = !*(self->cluster_join = value);
        else
        if (strcmp (flag, "--data-dir") == 0)
            bad = !*(self->data_dir = value);
        else
        if (strcmp (flag, "--advertise") == 0)
            bad = !*(self->advertise = value);
        else
        if (strcmp (flag, "--cluster-latency-ms") == 0 && !(bad = s_number (value, 1, 10000, &number)))
            self->cluster_latency_ms = (int) number;
        else
        if (strcmp (flag, "--cluster-timeout-ms") == 0 && !(bad = s_number (value, 100, 600000, &number)))
            self->cluster_timeout_ms = (int) number;
        else
        if (strcmp (flag, "--cluster-snapshot") == 0 && !(bad = s_number (value, 16, 1000000, &number)))
            self->cluster_snapshot = (int) number;
        else
        if (strcmp (flag, "--cluster-trailing") == 0 && !(bad = s_number (value, 16, 1000000, &number)))
            self->cluster_trailing = (int) number;
        if (bad) {
            snprintf (errbuf, errlen, "bad value '%s' for %s", value, flag);
            return CONFIG_BAD;
        }
    }
    if (self->bind_count == 0)
        self->binds [self->bind_count++] = "tcp://127.0.0.1:5555";
    if (!self->curve_secret != !self->curve_allow) {
        snprintf (errbuf, errlen, "--curve-secret and --curve-allow go together");
        return CONFIG_BAD;
    }
    /*  czmq reads "*" as "any key at all": CURVE that admits anyone. */
    if (self->curve_allow && strcmp (self->curve_allow, "*") == 0) {
        snprintf (errbuf, errlen, "--curve-allow '*' would admit any key: give a directory of client "
                  "certificates (or drop CURVE and use --insecure-bind)");
        return CONFIG_BAD;
    }
    /*  No unauthenticated listener on a public interface by accident. */
    for (int n = 0; n < self->bind_count && !self->curve_secret && !self->insecure_bind; n++)
        if (!config_endpoint_is_local (self->binds [n])) {
            snprintf (errbuf, errlen, "refusing to listen without authentication on %s: give --curve-secret "
                      "and --curve-allow, or --insecure-bind", self->binds [n]);
            return CONFIG_BAD;
        }
    if (s_check_cluster (self, db_given, errbuf, errlen))
        return CONFIG_BAD;
    return CONFIG_RUN;
}

bool
config_endpoint_is_local (const char *endpoint)
{
    static const char *networked [] = { "udp://", "ws://", "wss://", "pgm://", "epgm://", "tipc://", "vmci://" };
    for (size_t n = 0; n < sizeof (networked) / sizeof (networked [0]); n++)
        if (strncmp (endpoint, networked [n], strlen (networked [n])) == 0)
            return false;
    /*  ipc:// and inproc:// stay on this host; an unknown transport fails
        to bind, which says more than refusing it here would. */
    if (strncmp (endpoint, "tcp://", 6) != 0)
        return true;
    const char *host = endpoint + 6;
    return strncmp (host, "127.", 4) == 0 || strncmp (host, "localhost:", 10) == 0
        || strncmp (host, "[::1]:", 6) == 0;
}
