/*  cmd_category -- add-category, categories, and get/update/delete category.

    A category is named on the command line by id or by name
    (ctl_category.h: id:N, name:TEXT, or bare). The protocol takes names
    for get and as a parent, but update and delete take ids only, so for
    those a name is looked up first. A new name (add-category NAME,
    --name) is taken as written. */

#include "ctl_category.h"
#include "ctl_commands.h"
#include "ctl_parse.h"
#include "ctl_rows.h"
#include "table.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

enum {
    OPT_PARENT = CTL_OPT_FIRST_LOCAL,
    OPT_NO_PARENT,
    OPT_NAME,
    OPT_FORMAT,
    OPT_EXPECT_VERSION
};

/*  The id of the category text names. Returns CTL_EXIT_OK, or the exit
    status after saying why. */
static int
s_resolve (ctl_t *ctl, const char *text, int64_t *id_p)
{
    ledger_ref_t ref;
    int status = ctl_category_ref (ctl, "the category", text, &ref);
    if (status)
        return status;
    if (ref.kind == LEDGER_REF_ID) {
        *id_p = ref.value;
        return CTL_EXIT_OK;
    }
    ledger_batch_t *batch = ledger_batch_new ();
    if (batch)
        ledger_batch_category_get (batch, ref);
    ledger_result_t *result;
    status = ctl_submit (ctl, &batch, &result);
    if (status)
        return status;
    ledger_category_t category;
    if (ledger_result_category (result, 0, 0, &category) == 0)
        *id_p = category.id;
    else
        status = ctl_fail (ctl, CTL_EXIT_FAILED, "the reply holds no category");
    ledger_result_destroy (&result);
    return status;
}

/*  What the options of the commands here say. */
typedef struct {
    const char *parent;
    bool no_parent;
    const char *name;
    table_format_t format;
    int64_t expect_version;     /* 0: any */
} s_args_t;

/*  Parse the options in `options` into args; there must be exactly
    `positional` arguments besides (`what` says what they are). Returns
    CTL_CONTINUE, or the exit status. */
static int
s_parse (ctl_t *ctl, int argc, char **argv, const struct option *options, int positional,
         const char *what, s_args_t *args)
{
    args->format = ctl_default_format ();
    int opt;
    while ((opt = getopt_long (argc, argv, CTL_SHORT_OPTIONS, options, NULL)) != -1) {
        int status = CTL_CONTINUE;
        switch (opt) {
            case OPT_PARENT:    args->parent = optarg; break;
            case OPT_NO_PARENT: args->no_parent = true; break;
            case OPT_NAME:
                args->name = optarg;
                if (ctl_parse_text (ctl, "--name", optarg))
                    status = CTL_EXIT_USAGE;
                break;
            case OPT_FORMAT:
                if (ctl_parse_format (ctl, optarg, &args->format))
                    status = CTL_EXIT_USAGE;
                break;
            case OPT_EXPECT_VERSION:
                if (ctl_parse_version (ctl, optarg, &args->expect_version))
                    status = CTL_EXIT_USAGE;
                break;
            default:
                status = ctl_option (ctl, opt, optarg, argv);
        }
        if (status != CTL_CONTINUE)
            return status;
    }
    if (argc - optind < positional)
        return ctl_usage (ctl, "needs %s", what);
    if (argc - optind > positional)
        return ctl_usage (ctl, "unexpected argument \"%s\"", argv [optind + positional]);
    if (args->parent && args->no_parent)
        return ctl_usage (ctl, "--parent and --no-parent contradict each other");
    return CTL_CONTINUE;
}

int
ctl_cmd_category_add (ctl_t *ctl, int argc, char **argv)
{
    static const struct option options [] = {
        { "parent", required_argument, NULL, OPT_PARENT },
        CTL_COMMON_OPTIONS
    };
    s_args_t args = { NULL };
    int status = s_parse (ctl, argc, argv, options, 1, "a NAME", &args);
    if (status != CTL_CONTINUE)
        return status;
    if (ctl_parse_text (ctl, "the NAME", argv [optind]))
        return CTL_EXIT_USAGE;
    ledger_ref_t parent = LEDGER_UNSET;
    if (args.parent && (status = ctl_category_ref (ctl, "--parent", args.parent, &parent)))
        return status;
    ledger_batch_t *batch = ledger_batch_new ();
    if (batch)
        ledger_batch_category_create (batch, argv [optind], parent);
    ledger_result_t *result;
    status = ctl_submit (ctl, &batch, &result);
    if (status)
        return status;
    printf ("%" PRId64 "\n", ledger_result_id (result, 0));
    ledger_result_destroy (&result);
    return CTL_EXIT_OK;
}

/*  Print the categories of op `op` of result, naming parents from op
    `names_op` (a category.list). */
static int
s_print (ctl_t *ctl, ledger_result_t *result, size_t op, size_t names_op, table_format_t format)
{
    ctl_names_t *names = ctl_names_new (result, names_op);
    table_t *table = ctl_category_table_new (format);
    int status = names && table? CTL_EXIT_OK: ctl_fail (ctl, CTL_EXIT_FAILED, "out of memory");
    size_t rows = ledger_result_row_count (result, op);
    for (size_t row = 0; row < rows && status == CTL_EXIT_OK; row++) {
        ledger_category_t category;
        if (ledger_result_category (result, op, row, &category) || ctl_category_table_add (table, &category, names))
            status = ctl_fail (ctl, CTL_EXIT_FAILED, "cannot read or print category row %zu", row);
    }
    if (status == CTL_EXIT_OK && table_finish (table))
        status = ctl_fail (ctl, CTL_EXIT_FAILED, "cannot write the output");
    table_destroy (&table);
    ctl_names_destroy (&names);
    return status;
}

int
ctl_cmd_category_list (ctl_t *ctl, int argc, char **argv)
{
    static const struct option options [] = {
        { "format", required_argument, NULL, OPT_FORMAT },
        CTL_COMMON_OPTIONS
    };
    s_args_t args = { NULL };
    int status = s_parse (ctl, argc, argv, options, 0, "nothing", &args);
    if (status != CTL_CONTINUE)
        return status;
    ledger_batch_t *batch = ledger_batch_new ();
    if (batch)
        ledger_batch_category_list (batch);
    ledger_result_t *result;
    status = ctl_submit (ctl, &batch, &result);
    if (status)
        return status;
    status = s_print (ctl, result, 0, 0, args.format);
    ledger_result_destroy (&result);
    return status;
}

int
ctl_cmd_category_get (ctl_t *ctl, int argc, char **argv)
{
    static const struct option options [] = {
        { "format", required_argument, NULL, OPT_FORMAT },
        CTL_COMMON_OPTIONS
    };
    s_args_t args = { NULL };
    int status = s_parse (ctl, argc, argv, options, 1, "a category ID or NAME", &args);
    if (status != CTL_CONTINUE)
        return status;
    ledger_ref_t category;
    if ((status = ctl_category_ref (ctl, "the category", argv [optind], &category)))
        return status;
    ledger_batch_t *batch = ledger_batch_new ();
    if (batch) {
        ledger_batch_category_get (batch, category);
        ledger_batch_category_list (batch);     /* to name the parent */
    }
    ledger_result_t *result;
    status = ctl_submit (ctl, &batch, &result);
    if (status)
        return status;
    status = s_print (ctl, result, 0, 1, args.format);
    ledger_result_destroy (&result);
    return status;
}

int
ctl_cmd_category_update (ctl_t *ctl, int argc, char **argv)
{
    static const struct option options [] = {
        { "name",      required_argument, NULL, OPT_NAME },
        { "parent",    required_argument, NULL, OPT_PARENT },
        { "no-parent", no_argument,       NULL, OPT_NO_PARENT },
        { "expect-version", required_argument, NULL, OPT_EXPECT_VERSION },
        CTL_COMMON_OPTIONS
    };
    s_args_t args = { NULL };
    int status = s_parse (ctl, argc, argv, options, 1, "a category ID or NAME", &args);
    if (status != CTL_CONTINUE)
        return status;
    if (!args.name && !args.parent && !args.no_parent)
        return ctl_usage (ctl, "nothing to change: give --name, --parent or --no-parent");
    int64_t id;
    status = s_resolve (ctl, argv [optind], &id);
    if (status)
        return status;
    ledger_ref_t parent = args.no_parent? LEDGER_NULL: LEDGER_UNSET;
    if (args.parent && (status = ctl_category_ref (ctl, "--parent", args.parent, &parent)))
        return status;
    ledger_batch_t *batch = ledger_batch_new ();
    if (batch)
        ledger_batch_category_update_if (batch, ledger_id (id), args.name, parent, args.expect_version);
    ledger_result_t *result;
    status = ctl_submit (ctl, &batch, &result);
    ledger_result_destroy (&result);
    return status;
}

int
ctl_cmd_category_delete (ctl_t *ctl, int argc, char **argv)
{
    static const struct option options [] = {
        { "expect-version", required_argument, NULL, OPT_EXPECT_VERSION },
        CTL_COMMON_OPTIONS
    };
    s_args_t args = { NULL };
    int status = s_parse (ctl, argc, argv, options, 1, "a category ID or NAME", &args);
    if (status != CTL_CONTINUE)
        return status;
    int64_t id;
    status = s_resolve (ctl, argv [optind], &id);
    if (status)
        return status;
    ledger_batch_t *batch = ledger_batch_new ();
    if (batch)
        ledger_batch_category_delete_if (batch, ledger_id (id), args.expect_version);
    ledger_result_t *result;
    status = ctl_submit (ctl, &batch, &result);
    ledger_result_destroy (&result);
    return status;
}
