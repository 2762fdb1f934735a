/*  cmd_report -- spending per category, per period, or both (txn.summary).

    One batch: category.list for the names, then the summary. The worker
    adds up; ledgerctl only names the categories, formats the amounts as
    `query` does and, for a table on a terminal, draws each total as a bar
    scaled to the largest magnitude, so the shape shows at a glance. */

#include "ctl_category.h"
#include "ctl_commands.h"
#include "ctl_parse.h"
#include "ctl_rows.h"
#include "table.h"
#include "proto_ops.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum {
    OPT_BY = CTL_OPT_FIRST_LOCAL,
    OPT_PERIOD,
    OPT_OFFSET,
    OPT_ROLLUP,
    OPT_FROM,
    OPT_TO,
    OPT_CATEGORY,
    OPT_SUBCATEGORIES,
    OPT_MIN,
    OPT_MAX,
    OPT_FORMAT
};

/*  Columns: period, category, category_id, count, total, min, max, bar;
    those that do not apply are left out. */
#define REPORT_COLUMNS_MAX 8
#define BAR_WIDTH 40

typedef struct {
    ledger_summary_t summary;
    const char *category_texts [PROTO_MAX_LIST];
    ledger_ref_t categories [PROTO_MAX_LIST];
    table_format_t format;
    bool bars;                  /* a table on a terminal */
    table_column_t columns [REPORT_COLUMNS_MAX];
    size_t column_count;
} s_args_t;

static int
s_parse_word (ctl_t *ctl, const char *option, const char *text, const char *const *words, int count,
              const char *choices, int *value_p)
{
    for (int n = 0; n < count; n++)
        if (strcmp (text, words [n]) == 0) {
            *value_p = n + 1;
            return 0;
        }
    return ctl_usage (ctl, "%s must be %s, not \"%s\"", option, choices, text);
}

/*  One option of the report's own; -1 when it is not one. */
static int
s_option (ctl_t *ctl, int opt, s_args_t *args)
{
    static const char *const by [] = { "category", "period", "both" };
    static const char *const periods [] = { "day", "week", "month", "year" };
    ledger_summary_t *summary = &args->summary;
    int value = 0, rc = 0;
    switch (opt) {
        case OPT_BY:
            rc = s_parse_word (ctl, "--by", optarg, by, 3, "category, period or both", &value);
            summary->by = (ledger_by_t) value;
            return rc;
        case OPT_PERIOD:
            rc = s_parse_word (ctl, "--period", optarg, periods, 4, "day, week, month or year", &value);
            summary->period = (ledger_period_t) value;
            return rc;
        case OPT_OFFSET:
            summary->offset = optarg;   /* the library checks it as the worker will */
            return 0;
        case OPT_ROLLUP:
            summary->rollup = true;
            return 0;
        case OPT_FROM:
            return ctl_parse_time (ctl, "--from", optarg, &summary->from);
        case OPT_TO:
            return ctl_parse_time (ctl, "--to", optarg, &summary->to);
        case OPT_CATEGORY:
            if (summary->category_count == PROTO_MAX_LIST)
                return ctl_usage (ctl, "at most %d --category options", PROTO_MAX_LIST);
            args->category_texts [summary->category_count++] = optarg;
            return 0;
        case OPT_SUBCATEGORIES:
            summary->include_subcategories = true;
            return 0;
        case OPT_MIN:
            summary->set_min_amount = true;
            return ctl_parse_amount (ctl, "--min", optarg, &summary->min_amount);
        case OPT_MAX:
            summary->set_max_amount = true;
            return ctl_parse_amount (ctl, "--max", optarg, &summary->max_amount);
        case OPT_FORMAT:
            return ctl_parse_format (ctl, optarg, &args->format);
    }
    return -1;
}

static int
s_parse (ctl_t *ctl, int argc, char **argv, s_args_t *args)
{
    static const struct option options [] = {
        { "by",            required_argument, NULL, OPT_BY },
        { "period",        required_argument, NULL, OPT_PERIOD },
        { "offset",        required_argument, NULL, OPT_OFFSET },
        { "rollup",        no_argument,       NULL, OPT_ROLLUP },
        { "from",          required_argument, NULL, OPT_FROM },
        { "to",            required_argument, NULL, OPT_TO },
        { "category",      required_argument, NULL, OPT_CATEGORY },
        { "subcategories", no_argument,       NULL, OPT_SUBCATEGORIES },
        { "min",           required_argument, NULL, OPT_MIN },
        { "max",           required_argument, NULL, OPT_MAX },
        { "format",        required_argument, NULL, OPT_FORMAT },
        CTL_COMMON_OPTIONS
    };
    int opt;
    while ((opt = getopt_long (argc, argv, CTL_SHORT_OPTIONS, options, NULL)) != -1) {
        int rc = s_option (ctl, opt, args);
        if (rc == -1) {
            int status = ctl_option (ctl, opt, optarg, argv);
            if (status != CTL_CONTINUE)
                return status;
        }
        else
        if (rc)
            return CTL_EXIT_USAGE;
    }
    if (optind < argc)
        return ctl_usage (ctl, "unexpected argument \"%s\"", argv [optind]);
    ledger_summary_t *summary = &args->summary;
    if (summary->include_subcategories && summary->category_count == 0)
        return ctl_usage (ctl, "--subcategories needs at least one --category");
    int status = ctl_category_refs (ctl, "--category", args->category_texts, summary->category_count,
                                    args->categories);
    if (status)
        return status;
    summary->categories = args->categories;
    return CTL_CONTINUE;
}

static void
s_column (s_args_t *args, const char *name, table_kind_t kind)
{
    args->columns [args->column_count++] = (table_column_t) { name, kind };
}

/*  The columns for what the summary groups by and the format. */
static void
s_columns (s_args_t *args)
{
    int by = args->summary.by? (int) args->summary.by: LEDGER_BY_CATEGORY;
    if (by & LEDGER_BY_PERIOD)
        s_column (args, "period", TABLE_TEXT);
    if (by & LEDGER_BY_CATEGORY) {
        s_column (args, "category", TABLE_TEXT);
        if (args->format != TABLE_FORMAT_TABLE)
            s_column (args, "category_id", TABLE_INTEGER);
    }
    s_column (args, "count", TABLE_INTEGER);
    s_column (args, "total", TABLE_DECIMAL);
    s_column (args, "min", TABLE_DECIMAL);
    s_column (args, "max", TABLE_DECIMAL);
    if (args->bars)
        s_column (args, "", TABLE_TEXT);
}

/*  The largest magnitude of a total, as a double: the bars are only drawn. */
static double
s_largest (ledger_result_t *result, size_t op)
{
    double largest = 0;
    ledger_summary_row_t row;
    for (size_t n = 0; ledger_result_summary_row (result, op, n, &row) == 0; n++) {
        double magnitude = row.total < 0? -(double) row.total: (double) row.total;
        if (magnitude > largest)
            largest = magnitude;
    }
    return largest;
}

/*  A bar of full blocks for a positive total, light shade for a negative
    one; at least one block for any total that is not zero. */
static char *
s_bar (int64_t total, double largest, char buf [BAR_WIDTH * 3 + 1])
{
    double magnitude = total < 0? -(double) total: (double) total;
    int blocks = largest > 0? (int) (magnitude / largest * BAR_WIDTH + 0.5): 0;
    if (blocks == 0 && total != 0)
        blocks = 1;
    const char *block = total < 0? "\xe2\x96\x91": "\xe2\x96\x88";       /* U+2591, U+2588 */
    buf [0] = 0;
    for (int n = 0; n < blocks; n++)
        memcpy (buf + 3 * n, block, 4);
    return buf;
}

static int
s_print (s_args_t *args, ledger_result_t *result, ctl_names_t *names, table_t *table)
{
    double largest = args->bars? s_largest (result, 1): 0;
    ledger_summary_row_t row;
    for (size_t n = 0; ledger_result_summary_row (result, 1, n, &row) == 0; n++) {
        char id [32], label [32], count [32], total [32], min [32], max [32], bar [BAR_WIDTH * 3 + 1];
        const char *cells [REPORT_COLUMNS_MAX];
        size_t cell = 0;
        if (row.has_period)
            cells [cell++] = row.period;
        if (row.has_category) {
            const char *name = row.category_id? ctl_names_lookup (names, row.category_id): NULL;
            if (row.category_id && !name)
                snprintf (label, sizeof (label), "#%" PRId64, row.category_id);
            cells [cell++] = name? name: row.category_id? label:
                             args->format == TABLE_FORMAT_TABLE? "(none)": NULL;
            snprintf (id, sizeof (id), "%" PRId64, row.category_id);
            if (args->format != TABLE_FORMAT_TABLE)
                cells [cell++] = row.category_id? id: NULL;
        }
        snprintf (count, sizeof (count), "%" PRId64, row.count);
        cells [cell++] = count;
        cells [cell++] = ctl_amount_format (row.total, total);
        cells [cell++] = ctl_amount_format (row.min, min);
        cells [cell++] = ctl_amount_format (row.max, max);
        if (args->bars)
            cells [cell++] = s_bar (row.total, largest, bar);
        if (table_add (table, cells))
            return -1;
    }
    return 0;
}

int
ctl_cmd_report (ctl_t *ctl, int argc, char **argv)
{
    s_args_t *args = calloc (1, sizeof (s_args_t));
    if (!args)
        return ctl_fail (ctl, CTL_EXIT_FAILED, "out of memory");
    args->format = ctl_default_format ();
    int status = s_parse (ctl, argc, argv, args);
    if (status != CTL_CONTINUE) {
        free (args);
        return status;
    }
    args->bars = args->format == TABLE_FORMAT_TABLE && isatty (STDOUT_FILENO) == 1;
    s_columns (args);
    ledger_batch_t *batch = ledger_batch_new ();
    if (batch) {
        ledger_batch_category_list (batch);
        ledger_batch_txn_summary (batch, &args->summary);
    }
    ledger_result_t *result = NULL;
    status = ctl_submit (ctl, &batch, &result);
    if (status == CTL_EXIT_OK) {
        ctl_names_t *names = ctl_names_new (result, 0);
        table_t *table = table_new (args->format, args->columns, args->column_count, stdout);
        if (!table || s_print (args, result, names, table))
            status = ctl_fail (ctl, CTL_EXIT_FAILED, "cannot read or print a row");
        else
        if (table_finish (table))
            status = ctl_fail (ctl, CTL_EXIT_FAILED, "cannot write the output");
        table_destroy (&table);
        ctl_names_destroy (&names);
    }
    ledger_result_destroy (&result);
    free (args);
    return status;
}
