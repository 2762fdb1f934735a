/*  table -- rows printed as an aligned table, as CSV, or as JSON lines.

    Cells are given as text (NULL for no value); each column's kind says how
    to show it: integers are numbers in JSON and right-aligned in tables,
    decimals (money) are right-aligned too but stay strings in JSON so they
    are never read back as binary floating point. CSV and JSON rows are
    written as they come; an aligned table needs every width, so its rows
    are kept until table_finish. */

#ifndef TABLE_H
#define TABLE_H

#include <stddef.h>
#include <stdio.h>

typedef enum {
    TABLE_FORMAT_TABLE,
    TABLE_FORMAT_CSV,
    TABLE_FORMAT_JSON
} table_format_t;

typedef enum {
    TABLE_TEXT,
    TABLE_INTEGER,
    TABLE_DECIMAL
} table_kind_t;

typedef struct {
    const char *name;
    table_kind_t kind;
} table_column_t;

typedef struct _table_t table_t;

/* A new table of count columns (the array is borrowed and must outlive the
   table) written to out. CSV writes its header line at once. Returns NULL
   when memory runs out. */
table_t *table_new (table_format_t format, const table_column_t *columns, size_t count, FILE *out);

/* Destroy the table without printing what is still kept, and set *self_p
   to NULL. */
void table_destroy (table_t **self_p);

/* Add a row of count cells (copied; NULL for no value). Returns 0, or -1
   when memory runs out. */
int table_add (table_t *self, const char *const *cells);

/* Rows added so far. */
size_t table_rows (table_t *self);

/* The format the table prints in. */
table_format_t table_format (table_t *self);

/* Print what is still kept (the aligned table, with a row count under it)
   and flush. Returns 0, or -1 if writing failed. */
int table_finish (table_t *self);

/* Write text as one CSV field to out, quoted when it needs to be. */
void table_csv_field (FILE *out, const char *text);

#endif
