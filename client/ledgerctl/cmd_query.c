/*  cmd_query -- transactions matching a filter, following `next` to the end.

    Pages are fetched one request at a time with the cursor of the one
    before, so a query of any size stays within the worker's limits; the
    cursor names a position (time, id), so pages neither skip nor repeat
    rows. Category names come with the first page. */

#include "ctl_category.h"
#include "ctl_commands.h"
#include "ctl_parse.h"
#include "ctl_rows.h"
#include "table.h"
#include "proto_ops.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    OPT_FROM = CTL_OPT_FIRST_LOCAL,
    OPT_TO,
    OPT_CATEGORY,
    OPT_SUBCATEGORIES,
    OPT_MIN,
    OPT_MAX,
    OPT_LIMIT,
    OPT_PAGE_SIZE,
    OPT_FORMAT
};

typedef struct {
    ledger_query_t query;
    const char *category_texts [PROTO_MAX_LIST];        /* as given */
    ledger_ref_t categories [PROTO_MAX_LIST];
    long limit;                 /* rows to print at most; 0: all */
    long page_size;
    table_format_t format;
} s_args_t;

static int
s_parse (ctl_t *ctl, int argc, char **argv, s_args_t *args)
{
    static const struct option options [] = {
        { "from",          required_argument, NULL, OPT_FROM },
        { "to",            required_argument, NULL, OPT_TO },
        { "category",      required_argument, NULL, OPT_CATEGORY },
        { "subcategories", no_argument,       NULL, OPT_SUBCATEGORIES },
        { "min",           required_argument, NULL, OPT_MIN },
        { "max",           required_argument, NULL, OPT_MAX },
        { "limit",         required_argument, NULL, OPT_LIMIT },
        { "page-size",     required_argument, NULL, OPT_PAGE_SIZE },
        { "format",        required_argument, NULL, OPT_FORMAT },
        CTL_COMMON_OPTIONS
    };
    ledger_query_t *query = &args->query;
    int opt;
    while ((opt = getopt_long (argc, argv, CTL_SHORT_OPTIONS, options, NULL)) != -1) {
        int rc = 0;
        switch (opt) {
            case OPT_FROM:
                rc = ctl_parse_time (ctl, "--from", optarg, &query->from);
                break;
            case OPT_TO:
                rc = ctl_parse_time (ctl, "--to", optarg, &query->to);
                break;
            case OPT_CATEGORY:
                if (query->category_count == PROTO_MAX_LIST)
                    return ctl_usage (ctl, "at most %d --category options", PROTO_MAX_LIST);
                args->category_texts [query->category_count++] = optarg;
                break;
            case OPT_SUBCATEGORIES:
                query->include_subcategories = true;
                break;
            case OPT_MIN:
                rc = ctl_parse_amount (ctl, "--min", optarg, &query->min_amount);
                query->set_min_amount = true;
                break;
            case OPT_MAX:
                rc = ctl_parse_amount (ctl, "--max", optarg, &query->max_amount);
                query->set_max_amount = true;
                break;
            case OPT_LIMIT:
                rc = ctl_parse_int (ctl, "--limit", optarg, 1, LONG_MAX, &args->limit);
                break;
            case OPT_PAGE_SIZE:
                rc = ctl_parse_int (ctl, "--page-size", optarg, 1, PROTO_MAX_LIMIT, &args->page_size);
                break;
            case OPT_FORMAT:
                rc = ctl_parse_format (ctl, optarg, &args->format);
                break;
            default: {
                int status = ctl_option (ctl, opt, optarg, argv);
                if (status != CTL_CONTINUE)
                    return status;
            }
        }
        if (rc)
            return CTL_EXIT_USAGE;
    }
    if (optind < argc)
        return ctl_usage (ctl, "unexpected argument \"%s\"", argv [optind]);
    if (query->include_subcategories && query->category_count == 0)
        return ctl_usage (ctl, "--subcategories needs at least one --category");
    int status = ctl_category_refs (ctl, "--category", args->category_texts, query->category_count,
                                    args->categories);
    if (status)
        return status;
    query->categories = args->categories;
    return CTL_CONTINUE;
}

/*  Print the rows of op `op` of result. Returns 0, or -1 on failure. */
static int
s_print_page (table_t *table, ledger_result_t *result, size_t op, ctl_names_t *names, long limit)
{
    size_t rows = ledger_result_row_count (result, op);
    for (size_t row = 0; row < rows; row++) {
        if (limit && table_rows (table) >= (size_t) limit)
            break;
        ledger_txn_t txn;
        if (ledger_result_txn (result, op, row, &txn) || ctl_txn_table_add (table, &txn, names))
            return -1;
    }
    return 0;
}

int
ctl_cmd_query (ctl_t *ctl, int argc, char **argv)
{
    s_args_t *args = calloc (1, sizeof (s_args_t));
    if (!args)
        return ctl_fail (ctl, CTL_EXIT_FAILED, "out of memory");
    args->page_size = PROTO_DEFAULT_LIMIT;
    args->format = ctl_default_format ();
    int status = s_parse (ctl, argc, argv, args);
    if (status != CTL_CONTINUE) {
        free (args);
        return status;
    }

    /*  The table is made once the first page is in: CSV prints its header
        at once, and a query the worker refuses prints nothing but why. */
    table_t *table = NULL;
    ledger_result_t *first = NULL;      /* holds the category names */
    ctl_names_t *names = NULL;
    status = CTL_EXIT_OK;
    while (status == CTL_EXIT_OK) {
        size_t printed = table? table_rows (table): 0;
        long wanted = args->page_size;
        if (args->limit && args->limit - (long) printed < wanted)
            wanted = args->limit - (long) printed;
        args->query.limit = (int) wanted;
        ledger_batch_t *batch = ledger_batch_new ();
        size_t op = 0;
        if (batch && !first) {
            ledger_batch_category_list (batch);
            op = 1;
        }
        if (batch)
            ledger_batch_txn_query (batch, &args->query);
        ledger_result_t *result;
        status = ctl_submit (ctl, &batch, &result);
        if (status)
            break;
        if (!first) {
            first = result;
            names = ctl_names_new (first, 0);
            table = ctl_txn_table_new (args->format);
            if (!table) {
                status = ctl_fail (ctl, CTL_EXIT_FAILED, "out of memory");
                break;
            }
        }
        if (s_print_page (table, result, op, names, args->limit))
            status = ctl_fail (ctl, CTL_EXIT_FAILED, "cannot read or print a row");
        int more = ledger_query_next_page (&args->query, result, op);
        if (more < 0 && !status)
            status = ctl_fail (ctl, CTL_EXIT_FAILED, "the worker's reply has no usable next cursor");
        if (result != first)
            ledger_result_destroy (&result);
        if (status || more != 1 || (args->limit && (long) table_rows (table) >= args->limit))
            break;
    }
    /*  After a failure, rows already printed as CSV or JSON stay printed
        (the exit status says the list is incomplete); a table is not. */
    if (status == CTL_EXIT_OK && table_finish (table))
        status = ctl_fail (ctl, CTL_EXIT_FAILED, "cannot write the output");
    table_destroy (&table);
    ctl_names_destroy (&names);
    ledger_result_destroy (&first);
    free (args);
    return status;
}
