/*  cmd_txn -- add, and get/update/delete txn: one transaction at a time. */

#include "ctl_category.h"
#include "ctl_commands.h"
#include "ctl_parse.h"
#include "ctl_rows.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    OPT_AMOUNT = CTL_OPT_FIRST_LOCAL,
    OPT_AT,
    OPT_CATEGORY,
    OPT_NO_CATEGORY,
    OPT_DESC,
    OPT_NO_DESC,
    OPT_FORMAT,
    OPT_EXPECT_VERSION
};

/* What the options of the commands here say. */
typedef struct {
    bool set_amount;
    int64_t amount;
    ledger_time_t at;
    const char *category;
    bool no_category;
    const char *description;
    bool no_description;
    table_format_t format;
    int64_t id;                 /* the ID argument, for get/update/delete */
    int64_t expect_version;     /* 0: any */
} s_args_t;

/*  Parse the options in `options` into args; with want_id, exactly one
    argument, the transaction id, must follow; without, none. Returns
    CTL_CONTINUE, or the exit status. */
static int
s_parse (ctl_t *ctl, int argc, char **argv, const struct option *options, bool want_id, s_args_t *args)
{
    memset (args, 0, sizeof (*args));
    args->at = LEDGER_TIME_UNSET;
    args->format = ctl_default_format ();
    int opt;
    while ((opt = getopt_long (argc, argv, CTL_SHORT_OPTIONS, options, NULL)) != -1) {
        int status = CTL_CONTINUE;
        switch (opt) {
            case OPT_AMOUNT:
                if (ctl_parse_amount (ctl, "--amount", optarg, &args->amount))
                    return CTL_EXIT_USAGE;
                args->set_amount = true;
                break;
            case OPT_AT:
                if (ctl_parse_time (ctl, "--at", optarg, &args->at))
                    return CTL_EXIT_USAGE;
                break;
            case OPT_CATEGORY:    args->category = optarg; break;
            case OPT_NO_CATEGORY: args->no_category = true; break;
            case OPT_DESC:
                if (ctl_parse_text (ctl, "--desc", optarg))
                    return CTL_EXIT_USAGE;
                args->description = optarg;
                break;
            case OPT_NO_DESC:     args->no_description = true; break;
            case OPT_FORMAT:
                if (ctl_parse_format (ctl, optarg, &args->format))
                    return CTL_EXIT_USAGE;
                break;
            case OPT_EXPECT_VERSION:
                if (ctl_parse_version (ctl, optarg, &args->expect_version))
                    return CTL_EXIT_USAGE;
                break;
            default:
                status = ctl_option (ctl, opt, optarg, argv);
        }
        if (status != CTL_CONTINUE)
            return status;
    }
    int wanted = want_id? 1: 0;
    if (argc - optind < wanted)
        return ctl_usage (ctl, "needs a transaction ID");
    if (argc - optind > wanted)
        return ctl_usage (ctl, "unexpected argument \"%s\"", argv [optind + wanted]);
    if (want_id && ctl_parse_id (ctl, "a transaction id", argv [optind], &args->id))
        return CTL_EXIT_USAGE;
    if (args->category && args->no_category)
        return ctl_usage (ctl, "--category and --no-category contradict each other");
    if (args->description && args->no_description)
        return ctl_usage (ctl, "--desc and --no-desc contradict each other");
    return CTL_CONTINUE;
}

/*  Now, to the second, in this machine's offset: what `add` means when no
    time is given. */
static ledger_time_t
s_now (void)
{
    time_t now = time (NULL);
    struct tm local;
    int offset_min = localtime_r (&now, &local)? (int) (local.tm_gmtoff / 60): 0;
    return ledger_time_at ((int64_t) now * 1000000, offset_min);
}

int
ctl_cmd_txn_add (ctl_t *ctl, int argc, char **argv)
{
    static const struct option options [] = {
        { "amount",      required_argument, NULL, OPT_AMOUNT },
        { "at",          required_argument, NULL, OPT_AT },
        { "category",    required_argument, NULL, OPT_CATEGORY },
        { "desc",        required_argument, NULL, OPT_DESC },
        { "description", required_argument, NULL, OPT_DESC },
        CTL_COMMON_OPTIONS
    };
    s_args_t args;
    int status = s_parse (ctl, argc, argv, options, false, &args);
    if (status != CTL_CONTINUE)
        return status;
    if (!args.set_amount)
        return ctl_usage (ctl, "--amount is required");
    ledger_ref_t category = LEDGER_UNSET;
    if (args.category && (status = ctl_category_ref (ctl, "--category", args.category, &category)))
        return status;
    ledger_batch_t *batch = ledger_batch_new ();
    if (batch)
        ledger_batch_txn_create (batch, args.amount, args.at.set? args.at: s_now (), args.description, category);
    ledger_result_t *result;
    status = ctl_submit (ctl, &batch, &result);
    if (status)
        return status;
    printf ("%" PRId64 "\n", ledger_result_id (result, 0));
    ledger_result_destroy (&result);
    return CTL_EXIT_OK;
}

int
ctl_cmd_txn_get (ctl_t *ctl, int argc, char **argv)
{
    static const struct option options [] = {
        { "format", required_argument, NULL, OPT_FORMAT },
        CTL_COMMON_OPTIONS
    };
    s_args_t args;
    int status = s_parse (ctl, argc, argv, options, true, &args);
    if (status != CTL_CONTINUE)
        return status;
    ledger_batch_t *batch = ledger_batch_new ();
    if (batch) {
        ledger_batch_txn_get (batch, ledger_id (args.id));
        ledger_batch_category_list (batch);     /* to name its category */
    }
    ledger_result_t *result;
    status = ctl_submit (ctl, &batch, &result);
    if (status)
        return status;
    ledger_txn_t txn;
    ctl_names_t *names = ctl_names_new (result, 1);
    table_t *table = ctl_txn_table_new (args.format);
    if (!names || !table || ledger_result_txn (result, 0, 0, &txn)
    ||  ctl_txn_table_add (table, &txn, names) || table_finish (table))
        status = ctl_fail (ctl, CTL_EXIT_FAILED, "cannot read or print the transaction");
    table_destroy (&table);
    ctl_names_destroy (&names);
    ledger_result_destroy (&result);
    return status;
}

int
ctl_cmd_txn_update (ctl_t *ctl, int argc, char **argv)
{
    static const struct option options [] = {
        { "amount",      required_argument, NULL, OPT_AMOUNT },
        { "at",          required_argument, NULL, OPT_AT },
        { "category",    required_argument, NULL, OPT_CATEGORY },
        { "no-category", no_argument,       NULL, OPT_NO_CATEGORY },
        { "desc",        required_argument, NULL, OPT_DESC },
        { "description", required_argument, NULL, OPT_DESC },
        { "no-desc",     no_argument,       NULL, OPT_NO_DESC },
        { "expect-version", required_argument, NULL, OPT_EXPECT_VERSION },
        CTL_COMMON_OPTIONS
    };
    s_args_t args;
    int status = s_parse (ctl, argc, argv, options, true, &args);
    if (status != CTL_CONTINUE)
        return status;
    ledger_txn_change_t change = {
        .set_amount = args.set_amount,
        .amount = args.amount,
        .occurred_at = args.at,
        .set_description = args.description || args.no_description,
        .description = args.description,
        .category = args.no_category? LEDGER_NULL: LEDGER_UNSET,
        .expect_version = args.expect_version,
    };
    if (!change.set_amount && !change.occurred_at.set && !change.set_description
    &&  !args.category && !args.no_category)
        return ctl_usage (ctl, "nothing to change: give --amount, --at, --category, --no-category, --desc or --no-desc");
    if (args.category && (status = ctl_category_ref (ctl, "--category", args.category, &change.category)))
        return status;
    ledger_batch_t *batch = ledger_batch_new ();
    if (batch)
        ledger_batch_txn_update (batch, ledger_id (args.id), &change);
    ledger_result_t *result;
    status = ctl_submit (ctl, &batch, &result);
    ledger_result_destroy (&result);
    return status;
}

int
ctl_cmd_txn_delete (ctl_t *ctl, int argc, char **argv)
{
    static const struct option options [] = {
        { "expect-version", required_argument, NULL, OPT_EXPECT_VERSION },
        CTL_COMMON_OPTIONS
    };
    s_args_t args;
    int status = s_parse (ctl, argc, argv, options, true, &args);
    if (status != CTL_CONTINUE)
        return status;
    ledger_batch_t *batch = ledger_batch_new ();
    if (batch)
        ledger_batch_txn_delete_if (batch, ledger_id (args.id), args.expect_version);
    ledger_result_t *result;
    status = ctl_submit (ctl, &batch, &result);
    ledger_result_destroy (&result);
    return status;
}
