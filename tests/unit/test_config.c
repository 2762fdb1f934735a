/*  Unit: ledgerd's command line (worker/config.c) -- defaults, every
    numeric option at and past both ends of its range, choices, the rules
    that tie options together, and README.md's option tables against the
    option table. The expected ranges and defaults are written out here, not
    read from the table, so a changed bound or default in the table fails. */

#include "config.h"
#include "testing.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>

#define S_MAX_ARGS 32

/*  The outcome of one parse: its code, the config and the error. */
typedef struct {
    config_rc_t rc;
    config_t config;
    char error [512];
    char output [16384];        /* what --help or --version printed */
} s_parse_t;

/*  Parse "ledgerd" followed by the NULL-terminated words. */
static s_parse_t *
s_parse (const char *word, ...)
{
    static s_parse_t parse;
    char *argv [S_MAX_ARGS] = { (char *) "ledgerd" };
    int argc = 1;
    va_list args;
    va_start (args, word);
    for (; word && argc < S_MAX_ARGS - 1; word = va_arg (args, const char *))
        argv [argc++] = (char *) word;
    va_end (args);
    argv [argc] = NULL;
    memset (&parse, 0, sizeof (parse));
    FILE *out = fmemopen (parse.output, sizeof (parse.output) - 1, "w");
    parse.rc = config_parse (&parse.config, argc, argv, out, parse.error, sizeof (parse.error));
    fclose (out);
    return &parse;
}

/*  Check parse was refused with an error that says expected. */
#define CHECK_BAD(parse, expected) do { \
    s_parse_t *t_p_ = (parse); \
    CHECK_INT (t_p_->rc, CONFIG_BAD); \
    if (!strstr (t_p_->error, (expected))) { \
        fprintf (stderr, "%s:%d: error \"%s\" does not say \"%s\"\n", __FILE__, __LINE__, t_p_->error, (expected)); \
        t_checks_failed++; \
    } } while (0)

static void
test_defaults (void)
{
    s_parse_t *parse = s_parse (NULL);
    CHECK_INT (parse->rc, CONFIG_RUN);
    const config_t *config = &parse->config;
    CHECK_STR (config->db_path, "ledger.db");
    CHECK_INT (config->bind_count, 1);
    CHECK_STR (config->binds [0], "tcp://127.0.0.1:5555");
    CHECK_INT (config->sync_full, true);
    CHECK_INT (config->busy_timeout_ms, 5000);
    CHECK_INT (config->max_ops, 10000);
    CHECK_INT (config->max_msg_bytes, 16777216);
    CHECK_INT (config->max_queue, 10000);
    CHECK_INT (config->dedup_ttl_s, 86400);
    CHECK_INT (config->log_level, LOG_LEVEL_INFO);
    CHECK_INT (config->readers, 2);
    CHECK_INT (config->reader_nice, 10);
    CHECK_INT (config->group_max, 256);
    CHECK_INT (config->group_wait_us, 0);
    CHECK_INT (config->max_memory, 1LL << 30);
    CHECK_INT (config->max_wait_ms, 1000);
    CHECK (config->curve_secret == NULL && config->curve_allow == NULL);
    CHECK_INT (config->insecure_bind, false);
    CHECK_INT (config->ipv6, false);
    CHECK_INT (config->cluster_id, 0);
    CHECK (config->cluster_bind == NULL && config->cluster_join == NULL);
    CHECK (config->data_dir == NULL && config->advertise == NULL);
    CHECK_INT (config->cluster_latency_ms, 20);
    CHECK_INT (config->cluster_timeout_ms, 3000);
    CHECK_INT (config->cluster_snapshot, 1024);
    CHECK_INT (config->cluster_trailing, 2048);
}

/*  Readers of the config field each numeric option sets. */
#define S_GETTER(field) \
    static long long s_get_##field (const config_t *config) { return (long long) config->field; }
S_GETTER (busy_timeout_ms)
S_GETTER (max_ops)
S_GETTER (max_msg_bytes)
S_GETTER (max_queue)
S_GETTER (dedup_ttl_s)
S_GETTER (readers)
S_GETTER (reader_nice)
S_GETTER (group_max)
S_GETTER (group_wait_us)
S_GETTER (max_wait_ms)
S_GETTER (cluster_latency_ms)
S_GETTER (cluster_timeout_ms)
S_GETTER (cluster_snapshot)
S_GETTER (cluster_trailing)

typedef struct {
    const char *name;
    long long min, max;
    long long (*get) (const config_t *config);
    bool cluster;               /* only meaningful on a cluster node */
} s_range_t;

static const s_range_t s_ranges [] = {
    { "--busy-timeout-ms", 0, INT_MAX, s_get_busy_timeout_ms, false },
    { "--max-ops", 1, 1000000, s_get_max_ops, false },
    { "--max-msg-bytes", 64, 1LL << 30, s_get_max_msg_bytes, false },
    { "--max-queue", 1, 1000000, s_get_max_queue, false },
    { "--dedup-ttl-s", 0, 100LL * 365 * 86400, s_get_dedup_ttl_s, false },
    { "--readers", 0, 64, s_get_readers, false },
    { "--reader-nice", 0, 19, s_get_reader_nice, false },
    { "--group-max", 1, 10000, s_get_group_max, false },
    { "--group-wait-us", 0, 1000000, s_get_group_wait_us, false },
    { "--max-wait-ms", 1, 3600000, s_get_max_wait_ms, false },
    { "--cluster-latency-ms", 1, 10000, s_get_cluster_latency_ms, true },
    { "--cluster-timeout-ms", 100, 600000, s_get_cluster_timeout_ms, true },
    { "--cluster-snapshot", 16, 1000000, s_get_cluster_snapshot, true },
    { "--cluster-trailing", 16, 1000000, s_get_cluster_trailing, true },
};

/*  Parse name value, on a cluster node if cluster. */
static s_parse_t *
s_parse_one (const s_range_t *range, const char *value)
{
    if (range->cluster)
        return s_parse ("--cluster-id", "1", "--cluster-bind", "127.0.0.1:9001", "--data-dir", "/tmp/x",
                        range->name, value, NULL);
    return s_parse (range->name, value, NULL);
}

static void
test_numeric_range_edges (void)
{
    for (size_t n = 0; n < sizeof (s_ranges) / sizeof (s_ranges [0]); n++) {
        const s_range_t *range = &s_ranges [n];
        char text [32], expect [96];
        long long edges [2] = { range->min, range->max };
        for (int edge = 0; edge < 2; edge++) {
            snprintf (text, sizeof (text), "%lld", edges [edge]);
            s_parse_t *parse = s_parse_one (range, text);
            if (parse->rc != CONFIG_RUN)
                fprintf (stderr, "%s %s refused: %s\n", range->name, text, parse->error);
            CHECK_INT (parse->rc, CONFIG_RUN);
            CHECK_INT (range->get (&parse->config), edges [edge]);
        }
        long long outside [2] = { range->min - 1, range->max + 1 };
        for (int edge = 0; edge < 2; edge++) {
            snprintf (text, sizeof (text), "%lld", outside [edge]);
            snprintf (expect, sizeof (expect), "bad value '%s' for %s (%lld to %lld)", text, range->name,
                      range->min, range->max);
            CHECK_BAD (s_parse_one (range, text), expect);
        }
        /*  Whole numbers only. */
        CHECK_BAD (s_parse_one (range, "12abc"), "bad value '12abc'");
        CHECK_BAD (s_parse_one (range, ""), "bad value ''");
        CHECK_BAD (s_parse_one (range, "1.5"), "bad value '1.5'");
        CHECK_BAD (s_parse_one (range, "99999999999999999999"), "bad value '99999999999999999999'");
    }
}

static void
test_max_memory_sizes (void)
{
    CHECK_INT (s_parse ("--max-memory", "16M", NULL)->config.max_memory, 16LL << 20);
    CHECK_INT (s_parse ("--max-memory", "16777216", NULL)->config.max_memory, 16LL << 20);
    CHECK_INT (s_parse ("--max-memory", "16384k", NULL)->config.max_memory, 16LL << 20);
    CHECK_INT (s_parse ("--max-memory", "2g", NULL)->config.max_memory, 2LL << 30);
    CHECK_INT (s_parse ("--max-memory", "1048576G", NULL)->config.max_memory, 1LL << 50);
    CHECK_BAD (s_parse ("--max-memory", "16777215", NULL), "bad value '16777215' for --max-memory");
    CHECK_BAD (s_parse ("--max-memory", "15M", NULL), "bad value '15M' for --max-memory");
    CHECK_BAD (s_parse ("--max-memory", "1048577G", NULL), "bad value '1048577G'");
    CHECK_BAD (s_parse ("--max-memory", "1125899906842625", NULL), "bad value '1125899906842625'");
    CHECK_BAD (s_parse ("--max-memory", "1T", NULL), "bad value '1T'");
    CHECK_BAD (s_parse ("--max-memory", "G", NULL), "bad value 'G'");
}

static void
test_cluster_id_range (void)
{
    s_parse_t *parse = s_parse ("--cluster-id", "9223372036854775807", "--cluster-bind", "127.0.0.1:9001",
                                "--data-dir", "/tmp/x", "--cluster-join", "127.0.0.1:9002", NULL);
    CHECK_INT (parse->rc, CONFIG_RUN);
    CHECK (parse->config.cluster_id == (uint64_t) INT64_MAX);
    CHECK_BAD (s_parse ("--cluster-id", "0", "--cluster-bind", "127.0.0.1:9001", "--data-dir", "/tmp/x", NULL),
               "bad value '0' for --cluster-id");
    CHECK_BAD (s_parse ("--cluster-id", "9223372036854775808", NULL), "bad value '9223372036854775808'");
}

static void
test_choices_and_text (void)
{
    CHECK_INT (s_parse ("--sync", "normal", NULL)->config.sync_full, false);
    CHECK_INT (s_parse ("--sync=full", NULL)->config.sync_full, true);
    CHECK_BAD (s_parse ("--sync", "sometimes", NULL), "bad value 'sometimes' for --sync (full|normal)");
    CHECK_BAD (s_parse ("--sync", "FULL", NULL), "bad value 'FULL'");
    static const char *levels [] = { "error", "warn", "info", "debug" };
    for (int level = LOG_LEVEL_ERROR; level <= LOG_LEVEL_DEBUG; level++)
        CHECK_INT (s_parse ("--log-level", levels [level], NULL)->config.log_level, level);
    CHECK_BAD (s_parse ("--log-level", "loud", NULL), "bad value 'loud' for --log-level (error|warn|info|debug)");

    CHECK_STR (s_parse ("--db", "x.db", NULL)->config.db_path, "x.db");
    CHECK_STR (s_parse ("--db=y.db", NULL)->config.db_path, "y.db");
    CHECK_BAD (s_parse ("--db=", NULL), "bad value '' for --db");
    CHECK_BAD (s_parse ("--db", NULL), "option '--db' needs a value");
    CHECK_BAD (s_parse ("--curve-secret", "", "--curve-allow", "d", NULL), "bad value '' for --curve-secret");
}

static void
test_binds (void)
{
    s_parse_t *parse = s_parse ("--bind", "tcp://localhost:7000", "--bind", "ipc:///tmp/x",
                                "--bind=tcp://[::1]:7001", NULL);
    CHECK_INT (parse->rc, CONFIG_RUN);
    CHECK_INT (parse->config.bind_count, 3);
    CHECK_STR (parse->config.binds [0], "tcp://127.0.0.1:7000");
    CHECK_STR (parse->config.binds [1], "ipc:///tmp/x");
    CHECK_STR (parse->config.binds [2], "tcp://[::1]:7001");
    CHECK_INT (parse->config.ipv6, true);
    CHECK_BAD (s_parse ("--bind", "", NULL), "bad value '' for --bind");

    char *argv [2 * CONFIG_MAX_BINDS + 4] = { (char *) "ledgerd" };
    char endpoints [CONFIG_MAX_BINDS + 1] [32];
    int argc = 1;
    for (int n = 0; n <= CONFIG_MAX_BINDS; n++) {
        snprintf (endpoints [n], sizeof (endpoints [n]), "tcp://127.0.0.1:%d", 7000 + n);
        argv [argc++] = (char *) "--bind";
        argv [argc++] = endpoints [n];
    }
    config_t config;
    char error [256];
    CHECK_INT (config_parse (&config, argc - 2, argv, stdout, error, sizeof (error)), CONFIG_RUN);
    CHECK_INT (config.bind_count, CONFIG_MAX_BINDS);
    CHECK_INT (config_parse (&config, argc, argv, stdout, error, sizeof (error)), CONFIG_BAD);
    CHECK (strstr (error, "at most 16 --bind endpoints") != NULL);
}

static void
test_words_that_are_not_options (void)
{
    CHECK_BAD (s_parse ("--bogus", NULL), "unknown option '--bogus'");
    CHECK_BAD (s_parse ("--bogus=1", NULL), "unknown option '--bogus'");
    CHECK_BAD (s_parse ("--db-path", "x", NULL), "unknown option '--db-path'");
    CHECK_BAD (s_parse ("--an-option-name-far-too-long-to-be-one-of-ours-at-all-really-truly", NULL),
               "unknown option '--an-option-name-far-too-long-to-be-one-...'");
    CHECK_BAD (s_parse ("stray", NULL), "unexpected argument 'stray'");
    CHECK_BAD (s_parse ("-db", "x", NULL), "unexpected argument '-db'");
    /*  A switch takes no value, and leaves the next word alone. */
    CHECK_BAD (s_parse ("--insecure-bind=yes", NULL), "option '--insecure-bind' takes no value");
    s_parse_t *parse = s_parse ("--insecure-bind", "--max-ops", "5", NULL);
    CHECK_INT (parse->rc, CONFIG_RUN);
    CHECK_INT (parse->config.insecure_bind, true);
    CHECK_INT (parse->config.max_ops, 5);
    CHECK_BAD (s_parse ("--insecure-bind", "stray", NULL), "unexpected argument 'stray'");
}

static void
test_help_and_version (void)
{
    s_parse_t *parse = s_parse ("--max-ops", "5", "--help", "--bogus", NULL);
    CHECK_INT (parse->rc, CONFIG_DONE);
    CHECK (strstr (parse->output, "usage: ledgerd [--db PATH]") == parse->output);
    CHECK_INT (s_parse ("-h", NULL)->rc, CONFIG_DONE);
    parse = s_parse ("--version", NULL);
    CHECK_INT (parse->rc, CONFIG_DONE);
    CHECK_STR (parse->output, "ledgerd " LEDGER_VERSION "\n");
}

/*  The usage text names every option with its value and its default. */
static void
test_usage_names_every_option (void)
{
    s_parse_t *parse = s_parse ("--help", NULL);
    config_doc_t doc;
    size_t count = 0;
    for (; config_doc (count, &doc) == 0; count++) {
        char synopsis [128], line [128], fallback [128];
        snprintf (synopsis, sizeof (synopsis), "[%s%s%s]", doc.name, *doc.arg? " ": "", doc.arg);
        snprintf (line, sizeof (line), "\n  %s%s%s ", doc.name, *doc.arg? " ": "", doc.arg);
        CHECK (strstr (parse->output, synopsis) != NULL);
        const char *at = strstr (parse->output, line);
        CHECK (at != NULL);
        /*  The default closes this option's help, before the next option. */
        const char *value = doc.fallback? doc.fallback: doc.fallback_note;
        if (at && value) {
            snprintf (fallback, sizeof (fallback), "(default %s)\n", value);
            const char *said = strstr (at, fallback);
            const char *next = strstr (at + 1, "\n  --");
            CHECK (said && (!next || said < next));
        }
    }
    CHECK_INT (count, 30);
}

/*  The rules no single option can check. */
static void
test_options_that_go_together (void)
{
    CHECK_BAD (s_parse ("--curve-secret", "s", NULL), "--curve-secret and --curve-allow go together");
    CHECK_BAD (s_parse ("--curve-allow", "d", NULL), "--curve-secret and --curve-allow go together");
    CHECK_BAD (s_parse ("--curve-secret", "s", "--curve-allow", "*", NULL), "--curve-allow '*' would admit any key");
    CHECK_BAD (s_parse ("--bind", "tcp://0.0.0.0:7000", NULL),
               "refusing to listen without authentication on tcp://0.0.0.0:7000");
    CHECK_BAD (s_parse ("--bind", "tcp://127.0.0.1:7000", "--bind", "ws://127.0.0.1:7001", NULL),
               "refusing to listen without authentication on ws://127.0.0.1:7001");
    CHECK_INT (s_parse ("--bind", "tcp://0.0.0.0:7000", "--insecure-bind", NULL)->rc, CONFIG_RUN);
    CHECK_INT (s_parse ("--bind", "tcp://0.0.0.0:7000", "--curve-secret", "s", "--curve-allow", "d", NULL)->rc,
               CONFIG_RUN);
}

/*  --metrics-bind: HOST:PORT, numeric or localhost, loopback unless
    --insecure-bind (even with CURVE: HTTP has none). */
static void
test_metrics_bind (void)
{
    s_parse_t *parse = s_parse (NULL);
    CHECK (parse->config.metrics_bind == NULL);
    parse = s_parse ("--metrics-bind", "127.0.0.1:9464", NULL);
    CHECK_INT (parse->rc, CONFIG_RUN);
    CHECK_STR (parse->config.metrics_host, "127.0.0.1");
    CHECK_INT (parse->config.metrics_port, 9464);
    parse = s_parse ("--metrics-bind=localhost:1", NULL);
    CHECK_INT (parse->rc, CONFIG_RUN);
    CHECK_STR (parse->config.metrics_host, "127.0.0.1");
    CHECK_INT (parse->config.metrics_port, 1);
    parse = s_parse ("--metrics-bind", "[::1]:65535", NULL);
    CHECK_INT (parse->rc, CONFIG_RUN);
    CHECK_STR (parse->config.metrics_host, "::1");
    CHECK_INT (parse->config.metrics_port, 65535);
    CHECK_BAD (s_parse ("--metrics-bind", "0.0.0.0:9464", NULL),
               "refusing to serve metrics beyond loopback (0.0.0.0:9464) without --insecure-bind");
    CHECK_BAD (s_parse ("--metrics-bind", "10.1.2.3:9464", "--curve-secret", "s", "--curve-allow", "d", NULL),
               "refusing to serve metrics beyond loopback");
    CHECK_BAD (s_parse ("--metrics-bind", "[::]:9464", NULL), "refusing to serve metrics beyond loopback");
    CHECK_INT (s_parse ("--metrics-bind", "0.0.0.0:9464", "--insecure-bind", NULL)->rc, CONFIG_RUN);
    CHECK_BAD (s_parse ("--metrics-bind", "127.0.0.1", NULL), "give HOST:PORT");
    CHECK_BAD (s_parse ("--metrics-bind", "127.0.0.1:0", NULL), "give HOST:PORT");
    CHECK_BAD (s_parse ("--metrics-bind", "127.0.0.1:65536", NULL), "give HOST:PORT");
    CHECK_BAD (s_parse ("--metrics-bind", ":9464", NULL), "give HOST:PORT");
    CHECK_BAD (s_parse ("--metrics-bind", "metrics.example:9464", NULL), "give a numeric IPv4 or [IPv6] address");
}

static void
test_cluster_rules (void)
{
    CHECK_BAD (s_parse ("--cluster-bind", "127.0.0.1:9001", NULL), "the cluster options need --cluster-id");
    CHECK_BAD (s_parse ("--advertise", "tcp://127.0.0.1:1", NULL), "the cluster options need --cluster-id");
    CHECK_BAD (s_parse ("--cluster-id", "1", NULL), "--cluster-id needs --cluster-bind and --data-dir");
    CHECK_BAD (s_parse ("--cluster-id", "1", "--cluster-bind", "127.0.0.1:9001", NULL),
               "--cluster-id needs --cluster-bind and --data-dir");
    CHECK_BAD (s_parse ("--cluster-id", "1", "--cluster-bind", "127.0.0.1:9001", "--data-dir", "/tmp/x",
                        "--db", "x.db", NULL), "--db has no meaning in cluster mode");
    /*  --db given as its own default is still given. */
    CHECK_BAD (s_parse ("--cluster-id", "1", "--cluster-bind", "127.0.0.1:9001", "--data-dir", "/tmp/x",
                        "--db", "ledger.db", NULL), "--db has no meaning in cluster mode");
    CHECK_BAD (s_parse ("--cluster-id", "1", "--cluster-bind", "127.0.0.1:9001", "--data-dir", "/tmp/x",
                        "--cluster-join", "127.0.0.1:9002", NULL), "node 1 founds the cluster");
    CHECK_BAD (s_parse ("--cluster-id", "2", "--cluster-bind", "127.0.0.1:9001", "--data-dir", "/tmp/x", NULL),
               "--cluster-id 2 needs --cluster-join");
    CHECK_BAD (s_parse ("--cluster-id", "1", "--cluster-bind", "10.1.2.3:9001", "--data-dir", "/tmp/x", NULL),
               "refusing a cluster address beyond loopback (10.1.2.3:9001) without --insecure-bind");
    CHECK_BAD (s_parse ("--cluster-id", "1", "--cluster-bind", "node1:9001", "--data-dir", "/tmp/x", NULL),
               "--cluster-bind 'node1:9001': give an IPv4 address and port");
    CHECK_BAD (s_parse ("--cluster-id", "1", "--cluster-bind", "127.0.0.1:65536", "--data-dir", "/tmp/x", NULL),
               "--cluster-bind '127.0.0.1:65536'");
    CHECK_BAD (s_parse ("--cluster-id", "1", "--cluster-bind", "127.0.0.1:9001", "--data-dir", "/tmp/x",
                        "--bind", "tcp://*:7000", "--insecure-bind", NULL),
               "tcp://*:7000 is not an address producers can use: give --advertise");

    s_parse_t *parse = s_parse ("--cluster-id", "2", "--cluster-bind", "localhost:9002", "--data-dir", "/tmp/x",
                                "--cluster-join", "127.0.0.1:9001", "--readers", "4", "--bind",
                                "tcp://localhost:7000", NULL);
    CHECK_INT (parse->rc, CONFIG_RUN);
    CHECK_STR (parse->config.cluster_bind, "127.0.0.1:9002");
    CHECK_STR (parse->config.advertise, "tcp://127.0.0.1:7000");
    CHECK_INT (parse->config.readers, 0);       /* dqlite serves queries on the leader only */
    CHECK (parse->config.db_path != NULL);

    parse = s_parse ("--cluster-id", "1", "--cluster-bind", "10.1.2.3:9001", "--data-dir", "/tmp/x",
                     "--insecure-bind", "--bind", "tcp://0.0.0.0:7000", "--advertise", "tcp://10.1.2.3:7000", NULL);
    CHECK_INT (parse->rc, CONFIG_RUN);
    CHECK_STR (parse->config.advertise, "tcp://10.1.2.3:7000");
}

/*  README.md's option tables, checked against the option table. */

/*  Copy the next '|'-separated cell of a Markdown table row at *row_p
    into cell, trimmed, with `\|` read as '|'. Returns -1 at the row's end. */
static int
s_next_cell (const char **row_p, char *cell, size_t size)
{
    const char *at = *row_p;
    if (*at != '|' || at [1] == '\n' || at [1] == 0)
        return -1;
    at++;
    size_t used = 0;
    for (; *at && *at != '\n' && *at != '|'; at++) {
        if (*at == '\\' && at [1] == '|')
            at++;
        if (used + 1 < size && !(used == 0 && *at == ' '))
            cell [used++] = *at;
    }
    while (used && cell [used - 1] == ' ')
        used--;
    cell [used] = 0;
    *row_p = at;
    return 0;
}

/*  Check one row's options (each `--name ARG` in backquotes in option)
    and their default cell. Returns the number of problems, said on stderr. */
static int
s_check_row (const char *option, const char *fallback, int *seen)
{
    int problems = 0;
    for (const char *quote = strchr (option, '`'); quote; quote = strchr (quote + 1, '`')) {
        const char *end = strchr (quote + 1, '`');
        if (!end)
            break;
        char usage [128];
        snprintf (usage, sizeof (usage), "%.*s", (int) (end - quote - 1), quote + 1);
        quote = end;
        char *space = strchr (usage, ' ');
        const char *arg = space? space + 1: "";
        if (space)
            *space = 0;
        config_doc_t doc;
        size_t index = 0;
        while (config_doc (index, &doc) == 0 && strcmp (doc.name, usage) != 0)
            index++;
        if (config_doc (index, &doc)) {
            fprintf (stderr, "README lists %s, which ledgerd does not have\n", usage);
            problems++;
            continue;
        }
        seen [index]++;
        char expect [160] = "";
        if (doc.fallback)
            snprintf (expect, sizeof (expect), "`%s`", doc.fallback);
        char shown [160];
        size_t used = 0;
        for (const char *at = fallback; *at && used + 1 < sizeof (shown); at++)
            if (*at != '`' || !doc.fallback_note)
                shown [used++] = *at;
        shown [used] = 0;
        if (doc.fallback_note)
            snprintf (expect, sizeof (expect), "%s", doc.fallback_note);
        if (strcmp (arg, doc.arg) != 0) {
            fprintf (stderr, "README: %s %s, the usage: %s %s\n", usage, arg, doc.name, doc.arg);
            problems++;
        }
        if (strcmp (shown, expect) != 0) {
            fprintf (stderr, "README: %s defaults to \"%s\", the table to \"%s\"\n", usage, shown, expect);
            problems++;
        }
    }
    return problems;
}

/*  Check the option tables in readme's "## ledgerd" section list every
    option once with its default, and nothing else. Returns the number of
    problems, each said on stderr. */
static int
s_check_readme (const char *readme)
{
    const char *section = strstr (readme, "\n## ledgerd\n");
    if (!section) {
        fprintf (stderr, "README: no \"## ledgerd\" section\n");
        return 1;
    }
    const char *end = strstr (section + 1, "\n## ");
    int seen [64] = { 0 };
    int problems = 0;
    for (const char *row = strstr (section, "\n| `--"); row && (!end || row < end); row = strstr (row, "\n| `--")) {
        row++;
        char option [512], fallback [256], meaning [1024];
        if (s_next_cell (&row, option, sizeof (option)) || s_next_cell (&row, fallback, sizeof (fallback))
        ||  s_next_cell (&row, meaning, sizeof (meaning))) {
            fprintf (stderr, "README: a short option row: %.40s\n", option);
            problems++;
            continue;
        }
        problems += s_check_row (option, fallback, seen);
    }
    config_doc_t doc;
    for (size_t index = 0; config_doc (index, &doc) == 0; index++)
        if (seen [index] != 1) {
            fprintf (stderr, "README lists %s %d times, not once\n", doc.name, seen [index]);
            problems++;
        }
    return problems;
}

/*  README.md, read whole (the caller frees it), or NULL. */
static char *
s_read_readme (void)
{
    FILE *file = fopen (LEDGER_SOURCE_DIR "/README.md", "r");
    if (!file)
        return NULL;
    char *text = calloc (1, 1 << 20);
    size_t size = text? fread (text, 1, (1 << 20) - 1, file): 0;
    fclose (file);
    if (text)
        text [size] = 0;
    return text;
}

/*  Delete the line of text that starts with start. */
static void
s_delete_line (char *text, const char *start)
{
    char *at = strstr (text, start);
    CHECK (at != NULL);
    char *end = at? strchr (at, '\n'): NULL;
    if (end)
        memmove (at, end + 1, strlen (end + 1) + 1);
}

/*  Replace the first from in text with to (the same length or shorter). */
static void
s_replace (char *text, const char *from, const char *to)
{
    char *at = strstr (text, from);
    CHECK (at != NULL && strlen (to) <= strlen (from));
    if (at && strlen (to) <= strlen (from)) {
        memcpy (at, to, strlen (to));
        memmove (at + strlen (to), at + strlen (from), strlen (at + strlen (from)) + 1);
    }
}

static void
test_readme_option_tables (void)
{
    char *readme = s_read_readme ();
    CHECK (readme != NULL);
    if (!readme)
        return;
    CHECK_INT (s_check_readme (readme), 0);

    /*  The check itself can fail: a lost row, a changed default, an
        option ledgerd does not have, a changed value name. */
    fprintf (stderr, "-- expected complaints follow:\n");
    char *copy = strdup (readme);
    s_delete_line (copy, "| `--max-queue N` |");
    CHECK (s_check_readme (copy) == 1);
    strcpy (copy, readme);
    s_replace (copy, "| `--max-queue N` |", "| `--max-queux N` |");
    CHECK (s_check_readme (copy) == 2);
    strcpy (copy, readme);
    s_replace (copy, "| `--dedup-ttl-s N` | `86400` |", "| `--dedup-ttl-s N` | `8640` |");
    CHECK (s_check_readme (copy) == 1);
    strcpy (copy, readme);
    s_replace (copy, "| `--advertise ENDPOINT` | the first `--bind` |", "| `--advertise ENDPOINT` | |");
    CHECK (s_check_readme (copy) == 1);
    strcpy (copy, readme);
    s_replace (copy, "| `--sync full\\|normal` |", "| `--sync MODE` |");
    CHECK (s_check_readme (copy) == 1);
    strcpy (copy, readme);
    s_replace (copy, "| `--insecure-bind` |", "| `--insecure-bin` |");
    CHECK (s_check_readme (copy) == 2);
    fprintf (stderr, "-- end of expected complaints\n");
    free (copy);
    free (readme);
}

int
main (void)
{
    TEST_RUN (test_defaults);
    TEST_RUN (test_numeric_range_edges);
    TEST_RUN (test_max_memory_sizes);
    TEST_RUN (test_cluster_id_range);
    TEST_RUN (test_choices_and_text);
    TEST_RUN (test_binds);
    TEST_RUN (test_words_that_are_not_options);
    TEST_RUN (test_help_and_version);
    TEST_RUN (test_usage_names_every_option);
    TEST_RUN (test_options_that_go_together);
    TEST_RUN (test_metrics_bind);
    TEST_RUN (test_cluster_rules);
    TEST_RUN (test_readme_option_tables);
    return TEST_DONE ();
}
