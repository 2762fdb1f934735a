/*  ctl_rows -- what ledgerctl prints: transaction and category rows as an
    aligned table, CSV or JSON lines (through table.h), with category names
    for the ids the worker returns, and amounts as decimals. */

#ifndef CTL_ROWS_H
#define CTL_ROWS_H

#include "ledger.h"
#include "table.h"

#include <stddef.h>
#include <stdint.h>

typedef struct _ctl_names_t ctl_names_t;

/* The format to print rows in when --format is not given: an aligned table
   on a terminal, CSV otherwise. */
table_format_t ctl_default_format (void);

/* Format minor units as a decimal ("-12.34", "0.05"); returns buf. */
char *ctl_amount_format (int64_t minor, char buf [32]);

/* Category names by id, from op `op` of result (a category.list). The
   names are borrowed from result, which must outlive the table. */
ctl_names_t *ctl_names_new (ledger_result_t *result, size_t op);

/* Destroy the table and set *self_p to NULL. */
void ctl_names_destroy (ctl_names_t **self_p);

/* The name of category id, or NULL if it is not in the table. */
const char *ctl_names_lookup (ctl_names_t *self, int64_t id);

/* A new table for transaction rows / category rows in format, on stdout;
   the caller finishes it with table_finish and destroys it with
   table_destroy. */
table_t *ctl_txn_table_new (table_format_t format);
table_t *ctl_category_table_new (table_format_t format);

/* Add one row; names may be NULL (category names are then left empty). */
int ctl_txn_table_add (table_t *table, const ledger_txn_t *txn, ctl_names_t *names);
int ctl_category_table_add (table_t *table, const ledger_category_t *category, ctl_names_t *names);

#endif
