/*  cmd_import -- a bank-statement CSV into the ledger, batch by batch, in a
    way that can be run again after any interruption.

    Rows. Each row goes as txn.create with its external_id (import_rows.h)
    and if_absent: a row the ledger already holds -- from an earlier run,
    another batch size, or another file that overlaps this one -- is
    recognised by the worker and not added again, however long ago it came.
    The results say which rows were new.

    Keys. Each batch's idempotency key is made of the file's SHA-1, the
    batch size and the batch's number. Running the same import again (after
    a crash, a kill, a timeout) sends the same rows under the same keys, and
    the worker answers the batches that had committed from its log: a
    re-run within the worker's --dedup-ttl-s costs a lookup a batch. The
    batch size is part of the key because it decides which rows a batch
    holds.

    Categories (--create-categories). The names the file uses that do not
    exist when the import starts are created first, in batches of their
    own; rows always name their category. So a batch of rows is the same
    whatever existed at the start, and a re-run sends it byte for byte
    again: a replay, not a key reused for another batch. (A batch that an
    older ledgerctl sent under the same key differs, and the worker refuses
    it as KEY_REUSED: the worker keeps only the keys of batches that
    committed, and such a key can only name this file's batch of these
    rows, so its rows are in and the batch counts as done.) */

#include "ctl_commands.h"
#include "ctl_parse.h"
#include "import_rows.h"
#include "progress.h"
#include <czmq.h>

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_BATCH_SIZE 500
#define MAX_BATCH_SIZE 10000
/* Key = prefix, hash, batch size, batch number: well under the protocol's 128 bytes. */
#define KEY_HASH_CHARS 32

enum {
    OPT_BATCH_SIZE = CTL_OPT_FIRST_LOCAL,
    OPT_CREATE_CATEGORIES
};

typedef struct {
    ctl_t *ctl;
    const char *path;
    import_rows_t *rows;
    long batch_size;
    bool create_categories;
    char key_prefix [96];
    json_t *known;              /* names of categories that exist: a set (values unused) */
    json_t *creating;           /* name -> op index, for the batch being built */
    size_t *op_lines;           /* the CSV line of each op of the batch being built */
    size_t imported;            /* rows known to be in the ledger */
    size_t added;               /* rows this run added */
    size_t already;             /* rows the ledger held before */
    size_t batches;
    size_t replayed;            /* batches answered from the idempotency log */
    size_t created;             /* categories created */
} import_t;

/*  The whole file (or standard input, for "-") into memory: the key needs
    the hash of all of it before the first batch is sent. */
static int
s_read_all (const char *path, char **data_p, size_t *size_p)
{
    bool from_stdin = strcmp (path, "-") == 0;
    FILE *file = from_stdin? stdin: fopen (path, "rb");
    if (!file)
        return -1;
    char *data = NULL;
    size_t size = 0, alloc = 0;
    int rc = 0;
    while (true) {
        if (size == alloc) {
            alloc = alloc? alloc * 2: 65536;
            char *grown = realloc (data, alloc);
            if (!grown) {
                errno = ENOMEM;
                rc = -1;
                break;
            }
            data = grown;
        }
        size_t got = fread (data + size, 1, alloc - size, file);
        size += got;
        if (got == 0) {
            if (ferror (file))
                rc = -1;
            break;
        }
    }
    int saved = errno;
    if (!from_stdin)
        fclose (file);
    if (rc) {
        free (data);
        errno = saved;
        return -1;
    }
    *data_p = data;
    *size_p = size;
    return 0;
}

static double
s_now_s (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (double) now.tv_sec + (double) now.tv_nsec / 1e9;
}

/*  The names of the categories that exist now. */
static int
s_load_known (import_t *imp)
{
    ledger_batch_t *batch = ledger_batch_new ();
    if (batch)
        ledger_batch_category_list (batch);
    ledger_result_t *result;
    int status = ctl_submit (imp->ctl, &batch, &result);
    if (status)
        return status;
    size_t rows = ledger_result_row_count (result, 0);
    for (size_t row = 0; row < rows && status == CTL_EXIT_OK; row++) {
        ledger_category_t category;
        if (ledger_result_category (result, 0, row, &category) == 0
        &&  json_object_set_new_nocheck (imp->known, category.name, json_true ()))
            status = ctl_fail (imp->ctl, CTL_EXIT_FAILED, "out of memory");
    }
    ledger_result_destroy (&result);
    return status;
}

/*  Batch number k, of rows first .. first + count - 1; NULL if memory ran
    out. Fills imp->op_lines. */
static ledger_batch_t *
s_build (import_t *imp, size_t k, size_t first, size_t count)
{
    ledger_batch_t *batch = ledger_batch_new ();
    if (!batch)
        return NULL;
    char key [160];
    snprintf (key, sizeof (key), "%s%zu", imp->key_prefix, k);
    ledger_batch_set_key (batch, key);
    for (size_t n = first; n < first + count; n++) {
        const import_row_t *row = import_rows_get (imp->rows, n);
        ledger_ref_t category = row->category? ledger_name (row->category): LEDGER_UNSET;
        int op = ledger_batch_txn_create_ext (batch, row->amount,
                                              ledger_time_at (row->occurred_us, row->occurred_offset),
                                              row->description, category, row->external_id, true);
        if (op < 0)
            return batch;       /* broken: the submit says why */
        imp->op_lines [op] = row->line;
    }
    return batch;
}

/*  The worker refused the batch starting at first_line: say where and why. */
static int
s_report_failed (import_t *imp, ledger_result_t *result, size_t first_line, size_t ops)
{
    int op = ledger_result_error_op (result);
    size_t line = op >= 0 && (size_t) op < ops? imp->op_lines [op]: first_line;
    const char *klass = ledger_result_error_class (result);
    const char *field = ledger_result_error_field (result);
    const char *code = ledger_result_error_code (result);
    bool missing_category = klass && strcmp (klass, "not_found") == 0 && field && strcmp (field, "category") == 0;
    char outcome [200] = "no row was imported";
    if (imp->imported)
        snprintf (outcome, sizeof (outcome), "stopped: the %zu row%s before line %zu %s imported, none from there on",
                  imp->imported, imp->imported == 1? "": "s", first_line, imp->imported == 1? "is": "are");
    if (imp->created) {
        size_t used = strlen (outcome);
        snprintf (outcome + used, sizeof (outcome) - used, " (the %zu categor%s created stay)", imp->created,
                  imp->created == 1? "y": "ies");
    }
    return ctl_fail (imp->ctl, CTL_EXIT_FAILED, "%s:%zu: %s%s%s%s: %s (%s)%s; %s",
                     imp->path, line, klass, field? " (": "", field? field: "", field? ")": "",
                     ledger_result_error_message (result), code? code: "?",
                     missing_category && !imp->create_categories? "; --create-categories creates missing ones": "",
                     outcome);
}

/*  Send batch, whose ops are the rows from first_line on. Returns
    CTL_EXIT_OK with *result_p set when the batch is in (ok, or KEY_REUSED:
    see the top of this file), or a failure, reported. */
static int
s_exchange (import_t *imp, ledger_batch_t **batch_p, size_t first_line, ledger_result_t **result_p)
{
    *result_p = NULL;
    ledger_client_t *client = ctl_client (imp->ctl);
    if (!client) {
        ledger_batch_destroy (batch_p);
        return CTL_EXIT_USAGE;
    }
    if (!*batch_p)
        return ctl_fail (imp->ctl, CTL_EXIT_FAILED, "out of memory");
    size_t ops = ledger_batch_size (*batch_p);
    ledger_result_t *result = ledger_client_submit (client, *batch_p);
    ledger_batch_destroy (batch_p);
    if (!result)
        return ctl_fail (imp->ctl, CTL_EXIT_FAILED, "%s:%zu: %s", imp->path, first_line, ledger_client_error (client));
    int status = CTL_EXIT_OK;
    ledger_status_t outcome = ledger_result_status (result);
    const char *code = ledger_result_error_code (result);
    if (outcome == LEDGER_OK || (outcome == LEDGER_FAILED && code && strcmp (code, "KEY_REUSED") == 0))
        *result_p = result;
    else
    if (outcome == LEDGER_UNKNOWN)
        status = ctl_fail (imp->ctl, CTL_EXIT_UNREACHABLE,
                           "no answer from %s: %s; the %zu rows before line %zu are imported, later ones may or "
                           "may not be: run the same command again to finish", imp->ctl->endpoint,
                           ledger_result_describe (result), imp->imported, first_line);
    else
        status = s_report_failed (imp, result, first_line, ops);
    if (!*result_p)
        ledger_result_destroy (&result);
    return status;
}

/*  --create-categories: the names the rows use that do not exist yet, in
    batches of their own before any row (see the top of this file). */
static int
s_create_categories (import_t *imp)
{
    int status = s_load_known (imp);
    size_t total = import_rows_count (imp->rows);
    for (size_t n = 0; n < total && status == CTL_EXIT_OK; ) {
        ledger_batch_t *batch = ledger_batch_new ();
        size_t first_line = import_rows_get (imp->rows, n)->line;
        json_object_clear (imp->creating);
        for (; n < total && batch && ledger_batch_size (batch) < (size_t) imp->batch_size; n++) {
            const import_row_t *row = import_rows_get (imp->rows, n);
            if (!row->category || json_object_get (imp->known, row->category)
            ||  json_object_get (imp->creating, row->category))
                continue;
            int op = ledger_batch_category_create (batch, row->category, LEDGER_UNSET);
            if (op < 0)
                break;          /* broken: the submit says why */
            imp->op_lines [op] = row->line;
            json_object_set_new_nocheck (imp->creating, row->category, json_integer (op));
        }
        if (batch && ledger_batch_size (batch) == 0 && !ledger_batch_error (batch)) {
            ledger_batch_destroy (&batch);
            break;
        }
        ledger_result_t *result;
        status = s_exchange (imp, &batch, first_line, &result);
        ledger_result_destroy (&result);
        if (status)
            break;
        const char *name;
        json_t *value;
        json_object_foreach (imp->creating, name, value)
            json_object_set_new_nocheck (imp->known, name, json_true ());
        imp->created += json_object_size (imp->creating);
    }
    return status;
}

/*  Count the rows of a batch that is in: which were new, which the ledger
    held before. A batch answered from the log on the first try was
    applied by an earlier run: all its rows were in before. After a retry
    it was most likely this run's own first try, whose results say. */
static void
s_count_rows (import_t *imp, ledger_result_t *result, size_t count)
{
    bool earlier_run = ledger_result_status (result) != LEDGER_OK
                    || (ledger_result_replayed (result) && ledger_result_tries (result) == 1);
    if (ledger_result_status (result) != LEDGER_OK || ledger_result_replayed (result))
        imp->replayed++;
    for (size_t op = 0; op < count; op++)
        if (earlier_run || ledger_result_existed (result, op))
            imp->already++;
        else
            imp->added++;
}

/*  Send batch number k. Returns CTL_EXIT_OK when its rows are in. */
static int
s_send (import_t *imp, size_t k)
{
    size_t first = k * (size_t) imp->batch_size;
    size_t count = import_rows_count (imp->rows) - first;
    if (count > (size_t) imp->batch_size)
        count = (size_t) imp->batch_size;
    size_t first_line = import_rows_get (imp->rows, first)->line;
    ledger_batch_t *batch = s_build (imp, k, first, count);
    ledger_result_t *result;
    int status = s_exchange (imp, &batch, first_line, &result);
    if (status)
        return status;
    s_count_rows (imp, result, count);
    ledger_result_destroy (&result);
    imp->imported += count;
    imp->batches++;
    return CTL_EXIT_OK;
}

static int
s_parse (ctl_t *ctl, int argc, char **argv, import_t *imp)
{
    static const struct option options [] = {
        { "batch-size",        required_argument, NULL, OPT_BATCH_SIZE },
        { "create-categories", no_argument,       NULL, OPT_CREATE_CATEGORIES },
        CTL_COMMON_OPTIONS
    };
    int opt;
    while ((opt = getopt_long (argc, argv, CTL_SHORT_OPTIONS, options, NULL)) != -1) {
        if (opt == OPT_BATCH_SIZE) {
            if (ctl_parse_int (ctl, "--batch-size", optarg, 1, MAX_BATCH_SIZE, &imp->batch_size))
                return CTL_EXIT_USAGE;
        }
        else
        if (opt == OPT_CREATE_CATEGORIES)
            imp->create_categories = true;
        else {
            int status = ctl_option (ctl, opt, optarg, argv);
            if (status != CTL_CONTINUE)
                return status;
        }
    }
    if (argc - optind != 1)
        return ctl_usage (ctl, "%s", argc - optind? "takes one file": "needs a CSV file (or - for standard input)");
    imp->path = argv [optind];
    return CTL_CONTINUE;
}

/*  Send every batch, showing progress. */
static int
s_run (import_t *imp)
{
    size_t total = import_rows_count (imp->rows);
    size_t batches = (total + (size_t) imp->batch_size - 1) / (size_t) imp->batch_size;
    int status = CTL_EXIT_OK;
    if (imp->create_categories)
        status = s_create_categories (imp);
    progress_t *progress = progress_new (total, "rows");
    for (size_t k = 0; k < batches && status == CTL_EXIT_OK; k++) {
        status = s_send (imp, k);
        progress_update (progress, imp->imported);
    }
    progress_destroy (&progress);
    return status;
}

int
ctl_cmd_import (ctl_t *ctl, int argc, char **argv)
{
    import_t imp = { .ctl = ctl, .batch_size = DEFAULT_BATCH_SIZE };
    int status = s_parse (ctl, argc, argv, &imp);
    if (status != CTL_CONTINUE)
        return status;
    status = CTL_EXIT_OK;

    double start = s_now_s ();
    char *data = NULL;
    size_t size = 0;
    if (s_read_all (imp.path, &data, &size))
        return ctl_fail (ctl, CTL_EXIT_FAILED, "cannot read %s: %s", imp.path, strerror (errno));
    char reason [300];
    imp.rows = import_rows_parse (data, size, reason, sizeof (reason));
    if (!imp.rows) {
        free (data);
        return ctl_fail (ctl, CTL_EXIT_FAILED, "%s: %s", imp.path, reason);
    }
    /*  The file's digest names its batches: czmq's zdigest (SHA-1) is plenty
        to tell one statement file from another; this is no security check. */
    zdigest_t *digest = zdigest_new ();
    if (!digest) {
        free (data);
        return ctl_fail (ctl, CTL_EXIT_FAILED, "out of memory");
    }
    zdigest_update (digest, (const byte *) data, size);
    free (data);
    snprintf (imp.key_prefix, sizeof (imp.key_prefix), "ledgerctl-import-%.*s-%ld-",
              KEY_HASH_CHARS, zdigest_string (digest), imp.batch_size);
    zdigest_destroy (&digest);

    size_t total = import_rows_count (imp.rows);
    imp.known = json_object ();
    imp.creating = json_object ();
    imp.op_lines = calloc (2 * (size_t) imp.batch_size, sizeof (size_t));
    if (!imp.known || !imp.creating || !imp.op_lines)
        status = ctl_fail (ctl, CTL_EXIT_FAILED, "out of memory");
    else
    if (total == 0)
        printf ("nothing to import: %s has a header but no rows\n", imp.path);
    else {
        status = s_run (&imp);
        if (status == CTL_EXIT_OK) {
            printf ("%s: %zu row%s, %zu new, %zu already in the ledger; %zu batch%s", imp.path, total,
                    total == 1? "": "s", imp.added, imp.already, imp.batches, imp.batches == 1? "": "es");
            if (imp.replayed)
                printf (", %zu answered from the idempotency log", imp.replayed);
            if (imp.created)
                printf ("; %zu categor%s created", imp.created, imp.created == 1? "y": "ies");
            printf ("; %.2f s\n", s_now_s () - start);
        }
    }
    json_decref (imp.known);
    json_decref (imp.creating);
    free (imp.op_lines);
    import_rows_destroy (&imp.rows);
    return status;
}
