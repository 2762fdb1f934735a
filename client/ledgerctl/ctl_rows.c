/*  ctl_rows -- transaction and category rows as tables, CSV or JSON.

    The worker returns category ids; people read names, so commands that
    print rows fetch category.list in the same batch and name them here.
    CSV and JSON carry every field, in an order a re-import understands
    (occurred_at, amount, category, description are import column names);
    the aligned table keeps only what fits on a screen: a prefix of each
    list, and the row's version (what --expect-version takes), which CSV
    and JSON carry last so that their earlier columns stay where they
    were. */

#include "ctl_rows.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

char *
ctl_amount_format (int64_t minor, char buf [32])
{
    /*  Unsigned, so INT64_MIN has a magnitude too. */
    uint64_t magnitude = minor < 0? (uint64_t) -(minor + 1) + 1: (uint64_t) minor;
    snprintf (buf, 32, "%s%" PRIu64 ".%02" PRIu64, minor < 0? "-": "", magnitude / 100, magnitude % 100);
    return buf;
}

table_format_t
ctl_default_format (void)
{
    return isatty (STDOUT_FILENO) == 1? TABLE_FORMAT_TABLE: TABLE_FORMAT_CSV;
}

struct _ctl_names_t {
    ledger_category_t *categories;      /* by id, as category.list returns them */
    size_t count;
};

ctl_names_t *
ctl_names_new (ledger_result_t *result, size_t op)
{
    ctl_names_t *self = calloc (1, sizeof (ctl_names_t));
    if (!self)
        return NULL;
    size_t rows = ledger_result_row_count (result, op);
    self->categories = calloc (rows? rows: 1, sizeof (ledger_category_t));
    if (!self->categories) {
        free (self);
        return NULL;
    }
    for (size_t row = 0; row < rows; row++)
        if (ledger_result_category (result, op, row, &self->categories [self->count]) == 0)
            self->count++;
    return self;
}

void
ctl_names_destroy (ctl_names_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->categories);
    free (*self_p);
    *self_p = NULL;
}

const char *
ctl_names_lookup (ctl_names_t *self, int64_t id)
{
    if (!self)
        return NULL;
    size_t low = 0, high = self->count;
    while (low < high) {
        size_t middle = low + (high - low) / 2;
        if (self->categories [middle].id == id)
            return self->categories [middle].name;
        if (self->categories [middle].id < id)
            low = middle + 1;
        else
            high = middle;
    }
    return NULL;
}

static const table_column_t s_txn_columns [] = {
    { "id",          TABLE_INTEGER },
    { "occurred_at", TABLE_TEXT },
    { "amount",      TABLE_DECIMAL },
    { "category",    TABLE_TEXT },
    { "description", TABLE_TEXT },
    /* the aligned table stops here */
    { "category_id", TABLE_INTEGER },
    { "created_at",  TABLE_TEXT },
    { "updated_at",  TABLE_TEXT },
    { "version",     TABLE_INTEGER },
};
#define TXN_COLUMNS (sizeof (s_txn_columns) / sizeof (s_txn_columns [0]))
#define TXN_TABLE_PREFIX 5

static const table_column_t s_category_columns [] = {
    { "id",        TABLE_INTEGER },
    { "name",      TABLE_TEXT },
    { "parent",    TABLE_TEXT },
    /* the aligned table stops here */
    { "parent_id", TABLE_INTEGER },
    { "version",   TABLE_INTEGER },
};
#define CATEGORY_COLUMNS (sizeof (s_category_columns) / sizeof (s_category_columns [0]))
#define CATEGORY_TABLE_PREFIX 3

/*  The aligned tables' columns: the prefix of the list, then version. */
static const table_column_t s_txn_table_columns [TXN_TABLE_PREFIX + 1] = {
    { "id",          TABLE_INTEGER },
    { "occurred_at", TABLE_TEXT },
    { "amount",      TABLE_DECIMAL },
    { "category",    TABLE_TEXT },
    { "description", TABLE_TEXT },
    { "version",     TABLE_INTEGER },
};

static const table_column_t s_category_table_columns [CATEGORY_TABLE_PREFIX + 1] = {
    { "id",        TABLE_INTEGER },
    { "name",      TABLE_TEXT },
    { "parent",    TABLE_TEXT },
    { "version",   TABLE_INTEGER },
};

table_t *
ctl_txn_table_new (table_format_t format)
{
    if (format == TABLE_FORMAT_TABLE)
        return table_new (format, s_txn_table_columns, TXN_TABLE_PREFIX + 1, stdout);
    return table_new (format, s_txn_columns, TXN_COLUMNS, stdout);
}

table_t *
ctl_category_table_new (table_format_t format)
{
    if (format == TABLE_FORMAT_TABLE)
        return table_new (format, s_category_table_columns, CATEGORY_TABLE_PREFIX + 1, stdout);
    return table_new (format, s_category_columns, CATEGORY_COLUMNS, stdout);
}

/*  Add cells (one per column of the list, count of them) to table; an
    aligned table takes the prefix and the last. */
static int
s_table_add (table_t *table, const char **cells, size_t prefix, size_t count)
{
    if (table_format (table) == TABLE_FORMAT_TABLE)
        cells [prefix] = cells [count - 1];
    return table_add (table, cells);
}

/*  A category's name, or its id when the name is not known (a category
    made after the names were fetched). */
static const char *
s_category_label (ctl_names_t *names, int64_t id, char buf [32])
{
    if (id == 0)
        return NULL;
    const char *name = ctl_names_lookup (names, id);
    if (name)
        return name;
    snprintf (buf, 32, "#%" PRId64, id);
    return buf;
}

int
ctl_txn_table_add (table_t *table, const ledger_txn_t *txn, ctl_names_t *names)
{
    char id [32], amount [32], category_id [32], label [32], version [32];
    snprintf (id, sizeof (id), "%" PRId64, txn->id);
    snprintf (category_id, sizeof (category_id), "%" PRId64, txn->category_id);
    snprintf (version, sizeof (version), "%" PRId64, txn->version);
    const char *cells [TXN_COLUMNS] = {
        id, txn->occurred_at, ctl_amount_format (txn->amount, amount),
        s_category_label (names, txn->category_id, label), txn->description,
        txn->category_id? category_id: NULL, txn->created_at, txn->updated_at, txn->version? version: NULL
    };
    return s_table_add (table, cells, TXN_TABLE_PREFIX, TXN_COLUMNS);
}

int
ctl_category_table_add (table_t *table, const ledger_category_t *category, ctl_names_t *names)
{
    char id [32], parent_id [32], label [32], version [32];
    snprintf (id, sizeof (id), "%" PRId64, category->id);
    snprintf (parent_id, sizeof (parent_id), "%" PRId64, category->parent_id);
    snprintf (version, sizeof (version), "%" PRId64, category->version);
    const char *cells [CATEGORY_COLUMNS] = {
        id, category->name, s_category_label (names, category->parent_id, label),
        category->parent_id? parent_id: NULL, category->version? version: NULL
    };
    return s_table_add (table, cells, CATEGORY_TABLE_PREFIX, CATEGORY_COLUMNS);
}
