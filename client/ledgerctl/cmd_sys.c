/*  cmd_sys -- `ping` and `stats`: is the worker there, and what has it done. */

#include "ctl_commands.h"
#include "ctl_parse.h"
#include "ctl_rows.h"
#include "table.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*  Parse a command that takes only the connection options (and, with
    format_p, --format). Returns CTL_CONTINUE, or the exit status. */
static int
s_parse (ctl_t *ctl, int argc, char **argv, table_format_t *format_p)
{
    static const struct option options [] = {
        { "format", required_argument, NULL, CTL_OPT_FIRST_LOCAL },
        CTL_COMMON_OPTIONS
    };
    /*  Without format_p, the table starts after --format, so it is unknown. */
    const struct option *accepted = format_p? options: options + 1;
    int opt;
    while ((opt = getopt_long (argc, argv, CTL_SHORT_OPTIONS, accepted, NULL)) != -1) {
        int status = opt == CTL_OPT_FIRST_LOCAL? (ctl_parse_format (ctl, optarg, format_p)? CTL_EXIT_USAGE: CTL_CONTINUE)
                                               : ctl_option (ctl, opt, optarg, argv);
        if (status != CTL_CONTINUE)
            return status;
    }
    if (optind < argc)
        return ctl_usage (ctl, "takes no arguments, but got \"%s\"", argv [optind]);
    return CTL_CONTINUE;
}

static double
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec * 1000.0 + (double) now.tv_nsec / 1e6;
}

/*  ping answers "is it up?" for health checks and wait loops, which must
    get a no within about a second, not after the library's 4 tries of 5 s.
    So unless the command line says otherwise it waits PING_TIMEOUT_MS per
    endpoint and tries each of several endpoints once. */
#define PING_TIMEOUT_MS 1000

static void
s_ping_defaults (ctl_t *ctl)
{
    if (ctl->timeout_ms < 0)
        ctl->timeout_ms = PING_TIMEOUT_MS;
    if (ctl->retries < 0) {
        int endpoints = 1;
        for (const char *c = ctl->endpoint; *c; c++)
            endpoints += *c == ',';
        ctl->retries = endpoints - 1;
    }
}

int
ctl_cmd_ping (ctl_t *ctl, int argc, char **argv)
{
    int status = s_parse (ctl, argc, argv, NULL);
    if (status != CTL_CONTINUE)
        return status;
    s_ping_defaults (ctl);
    ledger_batch_t *batch = ledger_batch_new ();
    if (batch)
        ledger_batch_ping (batch);
    ledger_result_t *result;
    double start = s_now_ms ();
    status = ctl_submit (ctl, &batch, &result);
    if (status)
        return status;
    double elapsed = s_now_ms () - start;
    /*  A cluster node also says what it is now. */
    char *text = ledger_result_json (result);
    json_t *reply = text? json_loads (text, 0, NULL): NULL;
    const char *role = json_string_value (json_object_get (json_array_get (json_object_get (reply, "results"), 0),
                                                           "role"));
    printf ("pong from %s: ledgerd %s%s%s (%.1f ms)\n", ctl->endpoint,
            ledger_result_version (result, 0)? ledger_result_version (result, 0): "(version unknown)",
            role? ", cluster ": "", role? role: "", elapsed);
    json_decref (reply);
    free (text);
    ledger_result_destroy (&result);
    return CTL_EXIT_OK;
}

/*  One row per counter; nested counters are named by their path
    ("batches_failed.busy"), as ledger_result_stat takes them. */
static int
s_add_counters (table_t *table, const char *prefix, json_t *object)
{
    const char *key;
    json_t *value;
    json_object_foreach (object, key, value) {
        char name [256], text [64];
        snprintf (name, sizeof (name), "%s%s%s", prefix, prefix [0]? ".": "", key);
        if (json_is_object (value)) {
            if (s_add_counters (table, name, value))
                return -1;
            continue;
        }
        if (json_is_integer (value))
            snprintf (text, sizeof (text), "%" JSON_INTEGER_FORMAT, json_integer_value (value));
        else
        if (json_is_real (value))
            snprintf (text, sizeof (text), "%g", json_real_value (value));
        else
        if (json_is_string (value))
            snprintf (text, sizeof (text), "%s", json_string_value (value));
        else
            snprintf (text, sizeof (text), "%s", json_is_true (value)? "true": json_is_false (value)? "false": "");
        const char *cells [2] = { name, text };
        if (table_add (table, cells))
            return -1;
    }
    return 0;
}

int
ctl_cmd_stats (ctl_t *ctl, int argc, char **argv)
{
    table_format_t format = ctl_default_format ();
    int status = s_parse (ctl, argc, argv, &format);
    if (status != CTL_CONTINUE)
        return status;
    ledger_batch_t *batch = ledger_batch_new ();
    if (batch)
        ledger_batch_stats (batch);
    ledger_result_t *result;
    status = ctl_submit (ctl, &batch, &result);
    if (status)
        return status;

    /*  The counters are whatever the worker reports; the library gives
        them by path, so the whole set is read from the reply's JSON. */
    char *text = ledger_result_json (result);
    json_t *reply = text? json_loads (text, 0, NULL): NULL;
    json_t *stats = json_object_get (json_array_get (json_object_get (reply, "results"), 0), "stats");
    status = CTL_EXIT_OK;
    if (!json_is_object (stats))
        status = ctl_fail (ctl, CTL_EXIT_FAILED, "the reply holds no stats");
    else
    if (format == TABLE_FORMAT_JSON) {
        json_dumpf (stats, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf ("\n");
    }
    else {
        static const table_column_t columns [] = { { "counter", TABLE_TEXT }, { "value", TABLE_DECIMAL } };
        table_t *table = table_new (format, columns, 2, stdout);
        if (!table || s_add_counters (table, "", stats) || table_finish (table))
            status = ctl_fail (ctl, CTL_EXIT_FAILED, "cannot print the stats");
        table_destroy (&table);
    }
    json_decref (reply);
    free (text);
    ledger_result_destroy (&result);
    return status;
}
