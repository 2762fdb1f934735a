/*  config -- ledgerd's command line.

    Every option is declared once, in s_options: its name, what its value
    looks like, its range or choices, its default, its help and the field it
    sets. Parsing, the range checks, the defaults, the usage text and the
    README check (tests/unit/test_config.c) all read that table, as Redis's
    config.c does with its standardConfig table. What one option cannot say
    alone -- the flags that go together, listeners beyond loopback -- is
    checked after the table pass, in the s_check_ functions.

    Every option is `--name value` or `--name=value`. Numbers are checked
    whole and against their range, so a typo is an error at start-up rather
    than a surprising limit later. */

#include "config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    S_TEXT,                     /* a non-empty string, borrowed from argv */
    S_BIND,                     /* an endpoint appended to binds []: repeatable */
    S_SWITCH,                   /* no value: sets a bool */
    S_NUMBER,                   /* a whole decimal number in [min, max] */
    S_BYTES,                    /* a number with an optional K, M or G, in [min, max] bytes */
    S_CHOICE                    /* one of choices [] */
} s_kind_t;

typedef struct {
    const char *word;
    int value;
} s_choice_t;

typedef struct {
    const char *name;           /* "--db" */
    const char *arg;            /* what the value looks like; NULL: the choices joined by '|' */
    s_kind_t kind;
    long long min, max;         /* S_NUMBER and S_BYTES */
    const s_choice_t *choices;  /* S_CHOICE: ends with a NULL word */
    const char *fallback;       /* the default, as it would be typed; NULL: none */
    const char *fallback_note;  /* a default other options decide (see s_check_cluster) */
    const char *help;
    const char *heading;        /* a usage section that starts at this option */
    size_t offset, size;        /* the config_t field it sets */
} s_option_t;

#define S_FIELD(field) .offset = offsetof (config_t, field), .size = sizeof (((config_t *) 0)->field)

static const s_choice_t s_sync_choices [] = { { "full", true }, { "normal", false }, { NULL, 0 } };
static const s_choice_t s_level_choices [] = {
    { "error", LOG_LEVEL_ERROR }, { "warn", LOG_LEVEL_WARN }, { "info", LOG_LEVEL_INFO },
    { "debug", LOG_LEVEL_DEBUG }, { NULL, 0 } };
static const s_choice_t s_format_choices [] = {
    { "text", LOG_FORMAT_TEXT }, { "json", LOG_FORMAT_JSON }, { NULL, 0 } };

/*  In usage order; README.md's option tables list the same options with
    the same defaults (test_config checks it). */
static const s_option_t s_options [] = {
    { .name = "--db", .arg = "PATH", .kind = S_TEXT, .fallback = "ledger.db", S_FIELD (db_path),
      .help = "SQLite database file" },
    { .name = "--bind", .arg = "ENDPOINT", .kind = S_BIND, .fallback = "tcp://127.0.0.1:5555",
      .help = "ZeroMQ endpoint to serve, repeatable" },
    { .name = "--sync", .kind = S_CHOICE, .choices = s_sync_choices, .fallback = "full", S_FIELD (sync_full),
      .help = "full: fsync every commit; normal: WAL may lose the last commits on power loss, never on a "
              "process crash" },
    { .name = "--busy-timeout-ms", .arg = "N", .kind = S_NUMBER, .min = 0, .max = INT_MAX, .fallback = "5000",
      S_FIELD (busy_timeout_ms), .help = "wait this long for a lock held by another process" },
    { .name = "--max-ops", .arg = "N", .kind = S_NUMBER, .min = 1, .max = 1000000, .fallback = "10000",
      S_FIELD (max_ops), .help = "most ops in one batch" },
    { .name = "--max-msg-bytes", .arg = "N", .kind = S_NUMBER, .min = 64, .max = 1LL << 30, .fallback = "16777216",
      S_FIELD (max_msg_bytes), .help = "largest request in bytes" },
    { .name = "--max-queue", .arg = "N", .kind = S_NUMBER, .min = 1, .max = 1000000, .fallback = "10000",
      S_FIELD (max_queue), .help = "batches waiting for the writer before `overloaded`" },
    { .name = "--dedup-ttl-s", .arg = "N", .kind = S_NUMBER, .min = 0, .max = 100LL * 365 * 86400,
      .fallback = "86400", S_FIELD (dedup_ttl_s), .help = "keep idempotency keys at least N seconds; 0 = forever" },
    { .name = "--readers", .arg = "N", .kind = S_NUMBER, .min = 0, .max = CONFIG_MAX_READERS, .fallback = "2",
      S_FIELD (readers), .help = "read-only connections for batches that only read" },
    { .name = "--reader-nice", .arg = "N", .kind = S_NUMBER, .min = 0, .max = 19, .fallback = "10",
      S_FIELD (reader_nice), .help = "readers (and backups) run this much nicer than the writer: on a busy CPU, writes come first" },
    { .name = "--group-max", .arg = "N", .kind = S_NUMBER, .min = 1, .max = 10000, .fallback = "256",
      S_FIELD (group_max), .help = "most batches committed together in one transaction" },
    { .name = "--group-wait-us", .arg = "N", .kind = S_NUMBER, .min = 0, .max = 1000000, .fallback = "0",
      S_FIELD (group_wait_us), .help = "wait this long for more batches when the queue is short" },
    { .name = "--max-wait-ms", .arg = "N", .kind = S_NUMBER, .min = 1, .max = 3600000, .fallback = "1000",
      S_FIELD (max_wait_ms), .help = "a batch that cannot start within N ms is answered `overloaded`" },
    { .name = "--max-memory", .arg = "BYTES", .kind = S_BYTES, .min = 16LL << 20, .max = 1LL << 50,
      .fallback = "1G", S_FIELD (max_memory),
      .help = "resident memory ceiling (K, M, G); near it requests are refused, past it the connections "
              "holding the most are dropped" },
    { .name = "--curve-secret", .arg = "FILE", .kind = S_TEXT, S_FIELD (curve_secret),
      .help = "CURVE: this server's certificate (czmq zcert format, with secret key)" },
    { .name = "--curve-allow", .arg = "DIR", .kind = S_TEXT, S_FIELD (curve_allow),
      .help = "CURVE: client public certificates allowed in (re-read when it changes)" },
    { .name = "--insecure-bind", .kind = S_SWITCH, S_FIELD (insecure_bind),
      .help = "allow non-loopback endpoints without CURVE (anyone can write)" },
    { .name = "--backup-idle-s", .arg = "N", .kind = S_NUMBER, .min = 1, .max = 86400, .fallback = "60",
      S_FIELD (backup_idle_s), .help = "a backup snapshot nobody reads for N seconds is removed" },
    { .name = "--metrics-bind", .arg = "H:P", .kind = S_TEXT, S_FIELD (metrics_bind),
      .help = "serve Prometheus /metrics, /healthz and /readyz over HTTP at this address (loopback unless "
              "--insecure-bind); off when not given" },
    { .name = "--log-level", .arg = "LEVEL", .kind = S_CHOICE, .choices = s_level_choices, .fallback = "info",
      S_FIELD (log_level), .help = "error, warn, info or debug" },
    { .name = "--log-format", .kind = S_CHOICE, .choices = s_format_choices, .fallback = "text",
      S_FIELD (log_format), .help = "text: one line per event; json: one JSON object per line (time, level, "
              "event, msg, fields)" },

    { .name = "--cluster-id", .arg = "N", .kind = S_NUMBER, .min = 1, .max = INT64_MAX, S_FIELD (cluster_id),
      .heading = "cluster mode (a replicated ledger on dqlite; see README \"Cluster mode\"):",
      .help = "this node's id; node 1 founds the cluster, the others join it" },
    { .name = "--cluster-bind", .arg = "H:P", .kind = S_TEXT, S_FIELD (cluster_bind),
      .help = "the node's Raft address, IPv4 (loopback unless --insecure-bind)" },
    { .name = "--cluster-join", .arg = "H:P,...", .kind = S_TEXT, S_FIELD (cluster_join),
      .help = "members to join through (every node but node 1)" },
    { .name = "--data-dir", .arg = "DIR", .kind = S_TEXT, S_FIELD (data_dir),
      .help = "the node's Raft log, snapshots and copy of the ledger" },
    { .name = "--advertise", .arg = "ENDPOINT", .kind = S_TEXT, .fallback_note = "the first --bind",
      S_FIELD (advertise), .help = "where producers reach this node" },
    { .name = "--cluster-latency-ms", .arg = "N", .kind = S_NUMBER, .min = 1, .max = 10000, .fallback = "20",
      S_FIELD (cluster_latency_ms), .help = "network round trip between nodes; elections take 15-30 times it" },
    { .name = "--cluster-timeout-ms", .arg = "N", .kind = S_NUMBER, .min = 100, .max = 600000, .fallback = "3000",
      S_FIELD (cluster_timeout_ms), .help = "a write waits at most this for a quorum before `unavailable`" },
    { .name = "--cluster-snapshot", .arg = "N", .kind = S_NUMBER, .min = 16, .max = 1000000, .fallback = "1024",
      S_FIELD (cluster_snapshot), .help = "Raft entries (commits) between snapshots" },
    { .name = "--cluster-trailing", .arg = "N", .kind = S_NUMBER, .min = 16, .max = 1000000, .fallback = "2048",
      S_FIELD (cluster_trailing), .help = "entries kept in memory after a snapshot, for followers behind" },
};

#define S_OPTION_COUNT (sizeof (s_options) / sizeof (s_options [0]))

/*  The usage text's width, and the column the help starts at (from 0). */
#define S_WIDTH 100
#define S_HELP_COLUMN 25

/*  The option called name (without any "=value"), or NULL. */
static const s_option_t *
s_option_find (const char *name)
{
    for (size_t index = 0; index < S_OPTION_COUNT; index++)
        if (strcmp (s_options [index].name, name) == 0)
            return &s_options [index];
    return NULL;
}

/*  A choice option's words joined by '|', into text. */
static void
s_choices_text (const s_option_t *option, char *text, size_t size)
{
    text [0] = 0;
    for (const s_choice_t *choice = option->choices; choice && choice->word; choice++) {
        size_t used = strlen (text);
        snprintf (text + used, size - used, "%s%s", used? "|": "", choice->word);
    }
}

/*  What option's value looks like, into arg: its own text, or its
    choices joined by '|'; empty for a switch. */
static void
s_arg_text (const s_option_t *option, char *arg, size_t size)
{
    if (option->arg)
        snprintf (arg, size, "%s", option->arg);
    else
        s_choices_text (option, arg, size);
}

/*  Write word (length bytes, kept on one line) to stream, which is at
    column: after a space, or at the start of a new line of indent spaces
    if it would reach S_WIDTH. No space goes before a word at indent.
    Returns the column it ends at. */
static int
s_put_word (FILE *stream, const char *word, int length, int column, int indent)
{
    if (column > indent && column + 1 + length > S_WIDTH)
        column = fprintf (stream, "\n%*s", indent, "") - 1;
    else
    if (column > indent)
        column += fprintf (stream, " ");
    return column + fprintf (stream, "%.*s", length, word);
}

/*  Write text word by word as s_put_word does. Returns the column. */
static int
s_wrap (FILE *stream, const char *text, int column, int indent)
{
    for (text += strspn (text, " "); *text; text += strspn (text, " ")) {
        int length = (int) strcspn (text, " ");
        column = s_put_word (stream, text, length, column, indent);
        text += length;
    }
    return column;
}

/*  The synopsis: every option in brackets, wrapped between options. */
static void
s_usage_synopsis (FILE *stream)
{
    int column = fprintf (stream, "usage: ledgerd ");
    int indent = column;
    for (size_t index = 0; index < S_OPTION_COUNT; index++) {
        const s_option_t *option = &s_options [index];
        char arg [64], item [128];
        s_arg_text (option, arg, sizeof (arg));
        int length = snprintf (item, sizeof (item), "[%s%s%s]%s", option->name, *arg? " ": "", arg,
                               option->kind == S_BIND? "...": "");
        column = s_put_word (stream, item, length, column, indent);
    }
    s_wrap (stream, "[--version] [--help]", column, indent);
    fprintf (stream, "\n");
}

/*  One option's line(s): name and value, then its help and its default. */
static void
s_usage_option (FILE *stream, const s_option_t *option)
{
    char arg [64], left [96], fallback [128];
    s_arg_text (option, arg, sizeof (arg));
    snprintf (left, sizeof (left), "%s%s%s", option->name, *arg? " ": "", arg);
    int column = fprintf (stream, "  %-*s ", S_HELP_COLUMN - 3, left);
    if (column > S_HELP_COLUMN)
        column = fprintf (stream, "\n%*s", S_HELP_COLUMN, "") - 1;
    column = s_wrap (stream, option->help, column, S_HELP_COLUMN);
    const char *text = option->fallback? option->fallback: option->fallback_note;
    if (text) {
        int length = snprintf (fallback, sizeof (fallback), "(default %s)", text);
        s_put_word (stream, fallback, length, column, S_HELP_COLUMN);
    }
    fprintf (stream, "\n");
}

void
config_usage (FILE *stream)
{
    s_usage_synopsis (stream);
    for (size_t index = 0; index < S_OPTION_COUNT; index++) {
        if (index == 0 || s_options [index].heading)
            fprintf (stream, "\n%s%s", s_options [index].heading? s_options [index].heading: "",
                     s_options [index].heading? "\n": "");
        s_usage_option (stream, &s_options [index]);
    }
}

int
config_doc (size_t index, config_doc_t *doc)
{
    if (index >= S_OPTION_COUNT)
        return -1;
    const s_option_t *option = &s_options [index];
    doc->name = option->name;
    s_arg_text (option, doc->arg, sizeof (doc->arg));
    doc->fallback = option->fallback;
    doc->fallback_note = option->fallback_note;
    return 0;
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

/*  The value of text among choices, or -1 if it is none of them. */
static int
s_choice (const s_choice_t *choices, const char *text, long long *value_p)
{
    for (const s_choice_t *choice = choices; choice->word; choice++)
        if (strcmp (choice->word, text) == 0) {
            *value_p = choice->value;
            return 0;
        }
    return -1;
}

/*  Set option's field to a number, at the field's own width. */
static void
s_store_number (config_t *self, const s_option_t *option, long long value)
{
    char *field = (char *) self + option->offset;
    if (option->size == sizeof (bool)) {
        bool flag = value != 0;
        memcpy (field, &flag, sizeof (flag));
    }
    else
    if (option->size == sizeof (int32_t)) {
        /*  int, uint32_t and enums: every range declared for them fits. */
        assert (option->min >= INT32_MIN && option->max <= INT32_MAX);
        int32_t narrow = (int32_t) value;
        memcpy (field, &narrow, sizeof (narrow));
    }
    else {
        assert (option->size == sizeof (int64_t));
        int64_t wide = value;
        memcpy (field, &wide, sizeof (wide));
    }
}

/*  "bad value" and what a good one looks like, into errbuf. */
static void
s_bad_value (const s_option_t *option, const char *value, char *errbuf, size_t errlen)
{
    char choices [64];
    s_choices_text (option, choices, sizeof (choices));
    if (option->kind == S_NUMBER || option->kind == S_BYTES)
        snprintf (errbuf, errlen, "bad value '%s' for %s (%lld to %lld%s)", value, option->name,
                  option->min, option->max, option->kind == S_BYTES? " bytes; K, M, G": "");
    else
    if (option->kind == S_CHOICE)
        snprintf (errbuf, errlen, "bad value '%s' for %s (%s)", value, option->name, choices);
    else
        snprintf (errbuf, errlen, "bad value '%s' for %s", value, option->name);
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

/*  Append endpoint to the binds. Returns -1 with errbuf. */
static int
s_add_bind (config_t *self, const char *endpoint, char *errbuf, size_t errlen)
{
    if (self->bind_count == CONFIG_MAX_BINDS) {
        snprintf (errbuf, errlen, "at most %d --bind endpoints", CONFIG_MAX_BINDS);
        return -1;
    }
    self->binds [self->bind_count] = s_bindable (self, self->bind_count, endpoint);
    self->bind_count++;
    return 0;
}

/*  Set option from value (given, or its default). Returns -1 with errbuf. */
static int
s_apply (config_t *self, const s_option_t *option, const char *value, char *errbuf, size_t errlen)
{
    long long number = 0;
    int rc = -1;
    switch (option->kind) {
        case S_SWITCH:
            s_store_number (self, option, true);
            return 0;
        case S_BIND:
            if (*value)
                return s_add_bind (self, value, errbuf, errlen);
            break;
        case S_TEXT:
            assert (option->size == sizeof (value));
            if (*value) {
                memcpy ((char *) self + option->offset, &value, sizeof (value));
                return 0;
            }
            break;
        case S_NUMBER:
            rc = s_number (value, option->min, option->max, &number);
            break;
        case S_BYTES:
            rc = s_bytes (value, option->min, option->max, &number);
            break;
        case S_CHOICE:
            rc = s_choice (option->choices, value, &number);
            break;
    }
    if (rc == 0) {
        s_store_number (self, option, number);
        return 0;
    }
    s_bad_value (option, value, errbuf, errlen);
    return -1;
}

/*  Split word (argv [*arg_p]) into its option and value: `--name=value`,
    or `--name value` taking the next word (a switch takes none). Returns
    the option, or NULL with errbuf. */
static const s_option_t *
s_read_option (int argc, char *argv [], int *arg_p, const char **value_p, char *errbuf, size_t errlen)
{
    const char *word = argv [*arg_p];
    if (strncmp (word, "--", 2) != 0) {
        snprintf (errbuf, errlen, "unexpected argument '%s'", word);
        return NULL;
    }
    char name [64];
    const char *equals = strchr (word, '=');
    size_t name_len = equals? (size_t) (equals - word): strlen (word);
    if (name_len >= sizeof (name)) {
        snprintf (errbuf, errlen, "unknown option '%.40s...'", word);
        return NULL;
    }
    memcpy (name, word, name_len);
    name [name_len] = 0;
    const s_option_t *option = s_option_find (name);
    if (!option) {
        snprintf (errbuf, errlen, "unknown option '%s'", name);
        return NULL;
    }
    *value_p = equals? equals + 1: NULL;
    if (option->kind == S_SWITCH) {
        if (equals) {
            snprintf (errbuf, errlen, "option '%s' takes no value", name);
            return NULL;
        }
        return option;
    }
    if (!equals && *arg_p + 1 < argc)
        *value_p = argv [++*arg_p];
    if (!*value_p) {
        snprintf (errbuf, errlen, "option '%s' needs a value", name);
        return NULL;
    }
    return option;
}

/*  Give every option argv left out its default. A default is typed text
    parsed as a user's would be, so it cannot break its own range. */
static void
s_apply_defaults (config_t *self, const bool *given)
{
    for (size_t index = 0; index < S_OPTION_COUNT; index++)
        if (!given [index] && s_options [index].fallback) {
            char errbuf [200];
            int rc = s_apply (self, &s_options [index], s_options [index].fallback, errbuf, sizeof (errbuf));
            assert (rc == 0);
            (void) rc;
        }
}

/*  CURVE takes both files, and a real list of keys. Returns -1 with
    errbuf. */
static int
s_check_curve (config_t *self, char *errbuf, size_t errlen)
{
    if (!self->curve_secret != !self->curve_allow) {
        snprintf (errbuf, errlen, "--curve-secret and --curve-allow go together");
        return -1;
    }
    /*  czmq reads "*" as "any key at all": CURVE that admits anyone. */
    if (self->curve_allow && strcmp (self->curve_allow, "*") == 0) {
        snprintf (errbuf, errlen, "--curve-allow '*' would admit any key: give a directory of client "
                  "certificates (or drop CURVE and use --insecure-bind)");
        return -1;
    }
    return 0;
}

/*  No unauthenticated listener on a public interface by accident. Returns
    -1 with errbuf. */
static int
s_check_public_binds (config_t *self, char *errbuf, size_t errlen)
{
    for (int n = 0; n < self->bind_count && !self->curve_secret && !self->insecure_bind; n++)
        if (!config_endpoint_is_local (self->binds [n])) {
            snprintf (errbuf, errlen, "refusing to listen without authentication on %s: give --curve-secret "
                      "and --curve-allow, or --insecure-bind", self->binds [n]);
            return -1;
        }
    return 0;
}

/*  Whether host (length len; an IPv6 address without its brackets) is
    this machine's loopback: localhost, 127.0.0.0/8 or ::1. A name other
    than localhost is not: it could resolve anywhere. The one rule for
    --bind, --cluster-bind and --metrics-bind. */
static bool
s_host_is_loopback (const char *host, size_t len)
{
    char text [INET6_ADDRSTRLEN];
    unsigned char address [16];
    if (len >= sizeof (text))
        return false;
    memcpy (text, host, len);
    text [len] = 0;
    if (strcmp (text, "localhost") == 0 || (inet_pton (AF_INET, text, address) == 1 && address [0] == 127))
        return true;
    static const unsigned char loopback6 [16] = { [15] = 1 };
    return inet_pton (AF_INET6, text, address) == 1 && memcmp (address, loopback6, 16) == 0;
}

/*  The Raft address is numeric IPv4 (all dqlite 1.11 takes) and loopback
    unless --insecure-bind: Raft and dqlite's own protocol carry no
    authentication. Returns -1 with errbuf. */
static int
s_check_cluster_bind (config_t *self, char *errbuf, size_t errlen)
{
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
    if (!s_host_is_loopback (bind, (size_t) (strrchr (bind, ':') - bind)) && !self->insecure_bind) {
        snprintf (errbuf, errlen, "refusing a cluster address beyond loopback (%s) without --insecure-bind:"
                  " Raft traffic is not authenticated", bind);
        return -1;
    }
    return 0;
}

/*  The metrics address: IPv4, [IPv6] or localhost, with a port; loopback
    unless --insecure-bind, as for --bind (HTTP carries no authentication,
    and the metrics name the worker's load). Returns -1 with errbuf. */
static int
s_check_metrics_bind (config_t *self, char *errbuf, size_t errlen)
{
    const char *bind = self->metrics_bind;
    if (!bind)
        return 0;
    const char *colon = strrchr (bind, ':');
    const char *host = bind;
    size_t host_len = colon? (size_t) (colon - bind): 0;
    if (host_len >= 2 && host [0] == '[' && host [host_len - 1] == ']') {
        host++;
        host_len -= 2;
    }
    long long port = 0;
    unsigned char address [16];
    if (!colon || host_len == 0 || host_len >= sizeof (self->metrics_host)
    ||  s_number (colon + 1, 1, 65535, &port)) {
        snprintf (errbuf, errlen, "--metrics-bind '%s': give HOST:PORT, like 127.0.0.1:9464", bind);
        return -1;
    }
    memcpy (self->metrics_host, host, host_len);
    self->metrics_host [host_len] = 0;
    if (strcmp (self->metrics_host, "localhost") == 0)
        snprintf (self->metrics_host, sizeof (self->metrics_host), "127.0.0.1");
    bool ipv4 = inet_pton (AF_INET, self->metrics_host, address) == 1;
    bool ipv6 = !ipv4 && inet_pton (AF_INET6, self->metrics_host, address) == 1;
    if (!ipv4 && !ipv6) {
        snprintf (errbuf, errlen, "--metrics-bind '%s': give a numeric IPv4 or [IPv6] address, or localhost", bind);
        return -1;
    }
    if (!s_host_is_loopback (self->metrics_host, strlen (self->metrics_host)) && !self->insecure_bind) {
        snprintf (errbuf, errlen, "refusing to serve metrics beyond loopback (%s) without --insecure-bind:"
                  " HTTP is not authenticated", bind);
        return -1;
    }
    self->metrics_port = (int) port;
    return 0;
}

/*  The cluster flags go together: node 1 founds, every other node joins,
    and the ledger lives in --data-dir, not --db. Returns -1 with errbuf. */
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
    if (s_check_cluster_bind (self, errbuf, errlen))
        return -1;
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
    bool given [S_OPTION_COUNT] = { false };
    for (int arg = 1; arg < argc; arg++) {
        if (strcmp (argv [arg], "--help") == 0 || strcmp (argv [arg], "-h") == 0) {
            config_usage (out);
            return CONFIG_DONE;
        }
        if (strcmp (argv [arg], "--version") == 0) {
            fprintf (out, "ledgerd %s\n", LEDGER_VERSION);
            return CONFIG_DONE;
        }
        const char *value = NULL;
        const s_option_t *option = s_read_option (argc, argv, &arg, &value, errbuf, errlen);
        if (!option || s_apply (self, option, value, errbuf, errlen))
            return CONFIG_BAD;
        given [option - s_options] = true;
    }
    s_apply_defaults (self, given);
    bool db_given = given [s_option_find ("--db") - s_options];
    if (s_check_curve (self, errbuf, errlen) || s_check_public_binds (self, errbuf, errlen)
    ||  s_check_metrics_bind (self, errbuf, errlen) || s_check_cluster (self, db_given, errbuf, errlen))
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
    const char *colon = strrchr (host, ':');
    size_t len = colon? (size_t) (colon - host): strlen (host);
    if (len >= 2 && host [0] == '[' && host [len - 1] == ']')
        return s_host_is_loopback (host + 1, len - 2);
    return s_host_is_loopback (host, len);
}
