/*  cmd_cluster -- `cluster status|transfer|remove`: see and steer a cluster.

    status prints the nodes as the worker asked sees them (its sys.stats
    "cluster" object); transfer and remove send cluster.transfer and
    cluster.remove, which any node hands on to the Raft leader. */

#include "ctl_commands.h"
#include "ctl_parse.h"
#include "ctl_rows.h"
#include "table.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>

/*  Parse the connection options, --format when format_p is set, and
    exactly `wanted` positional arguments into args. */
static int
s_parse (ctl_t *ctl, int argc, char **argv, table_format_t *format_p, int wanted, char **args)
{
    static const struct option options [] = {
        { "format", required_argument, NULL, CTL_OPT_FIRST_LOCAL },
        CTL_COMMON_OPTIONS
    };
    const struct option *accepted = format_p? options: options + 1;
    int opt;
    while ((opt = getopt_long (argc, argv, CTL_SHORT_OPTIONS, accepted, NULL)) != -1) {
        int status = opt == CTL_OPT_FIRST_LOCAL? (ctl_parse_format (ctl, optarg, format_p)? CTL_EXIT_USAGE: CTL_CONTINUE)
                                               : ctl_option (ctl, opt, optarg, argv);
        if (status != CTL_CONTINUE)
            return status;
    }
    if (argc - optind != wanted)
        return wanted? ctl_usage (ctl, "give one node id"): ctl_usage (ctl, "takes no arguments, but got \"%s\"", argv [optind]);
    for (int n = 0; n < wanted; n++)
        args [n] = argv [optind + n];
    return CTL_CONTINUE;
}

static const char *
s_text (json_t *value, char *buffer, size_t size)
{
    if (json_is_string (value))
        return json_string_value (value);
    if (json_is_integer (value))
        snprintf (buffer, size, "%" JSON_INTEGER_FORMAT, json_integer_value (value));
    else
    if (json_is_boolean (value))
        snprintf (buffer, size, "%s", json_is_true (value)? "yes": "no");
    else
        snprintf (buffer, size, "-");
    return buffer;
}

int
ctl_cmd_cluster_status (ctl_t *ctl, int argc, char **argv)
{
    table_format_t format = ctl_default_format ();
    int status = s_parse (ctl, argc, argv, &format, 0, NULL);
    if (status != CTL_CONTINUE)
        return status;
    ledger_batch_t *batch = ledger_batch_new ();
    if (batch)
        ledger_batch_stats (batch);
    ledger_result_t *result;
    status = ctl_submit (ctl, &batch, &result);
    if (status)
        return status;

    char *text = ledger_result_json (result);
    json_t *reply = text? json_loads (text, 0, NULL): NULL;
    json_t *stats = json_object_get (json_array_get (json_object_get (reply, "results"), 0), "stats");
    json_t *cluster = json_object_get (stats, "cluster");
    json_t *nodes = json_object_get (cluster, "nodes");
    status = CTL_EXIT_OK;
    if (!json_is_object (stats))
        status = ctl_fail (ctl, CTL_EXIT_FAILED, "the reply holds no stats");
    else
    if (!json_is_array (nodes))
        status = ctl_fail (ctl, CTL_EXIT_FAILED, "%s is not in cluster mode", ctl->endpoint);
    else
    if (format == TABLE_FORMAT_JSON) {
        json_dumpf (cluster, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
        printf ("\n");
    }
    else {
        static const char *keys [] = { "id", "address", "endpoint", "role", "leader", "reachable" };
        static const table_column_t columns [] = {
            { "id", TABLE_INTEGER }, { "raft address", TABLE_TEXT }, { "endpoint", TABLE_TEXT },
            { "role", TABLE_TEXT }, { "leader", TABLE_TEXT }, { "reachable", TABLE_TEXT }
        };
        table_t *table = table_new (format, columns, 6, stdout);
        int rc = table? 0: -1;
        size_t index;
        json_t *node;
        json_array_foreach (nodes, index, node) {
            char buffers [6][32];
            const char *cells [6];
            for (size_t k = 0; k < 6; k++)
                cells [k] = s_text (json_object_get (node, keys [k]), buffers [k], sizeof (buffers [k]));
            if (rc == 0)
                rc = table_add (table, cells);
        }
        if (rc || table_finish (table))
            status = ctl_fail (ctl, CTL_EXIT_FAILED, "cannot print the nodes");
        table_destroy (&table);
    }
    json_decref (reply);
    free (text);
    ledger_result_destroy (&result);
    return status;
}

static int
s_membership (ctl_t *ctl, int argc, char **argv, int (*add) (ledger_batch_t *, int64_t))
{
    char *args [1] = { NULL };
    int status = s_parse (ctl, argc, argv, NULL, 1, args);
    if (status != CTL_CONTINUE)
        return status;
    long id;
    if (ctl_parse_int (ctl, "node id", args [0], 1, LONG_MAX, &id))
        return CTL_EXIT_USAGE;
    ledger_batch_t *batch = ledger_batch_new ();
    if (batch)
        add (batch, (int64_t) id);
    ledger_result_t *result;
    status = ctl_submit (ctl, &batch, &result);
    ledger_result_destroy (&result);
    return status;
}

int
ctl_cmd_cluster_transfer (ctl_t *ctl, int argc, char **argv)
{
    return s_membership (ctl, argc, argv, ledger_batch_cluster_transfer);
}

int
ctl_cmd_cluster_remove (ctl_t *ctl, int argc, char **argv)
{
    return s_membership (ctl, argc, argv, ledger_batch_cluster_remove);
}
