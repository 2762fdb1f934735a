/*  import_rows -- a bank-statement CSV read into checked transaction rows.

    The first record is the header; its names (any case, blanks around them
    ignored) say which column is which:

        time         date, occurred_at, time or timestamp   (required)
        amount       amount                                 (required)
        description  description, desc or memo
        category     category
        external_id  external_id

    Other columns are ignored, so a statement's balance column, or a
    ledgerctl query exported as CSV, can be imported as it is. Each value
    has the blanks around it removed. A time is RFC 3339 with an offset
    ("2025-01-02T10:00:00+01:00", "...Z") or a bare date ("2025-01-02"),
    which means that day's midnight UTC; a time without an offset is an
    error, since the ledger keeps the offset. An amount is a decimal number
    of the currency unit with at most two decimals ("-12.34", "+7", "0.5").
    An empty description or category means none.

    Every row gets an external_id, the name the ledger recognises it by
    when it is imported again (txn.create if_absent): the row's own, from
    an external_id column (a bank's transaction id, 1 to 128 bytes), or
    else "row-sha1:" and the SHA-1 of its time, amount, description and
    its occurrence number among the rows of this file with the same three.
    So the same statement row in two files (overlapping statements, or one
    file re-sent with another batch size) has one name, while two equal
    payments on one day in one file stay two rows. The category is not
    part of it: a row re-categorised in a later export is the same row.

    Every row is checked before any is sent, so a typo on the last line
    does not leave the rows before it imported. */

#ifndef IMPORT_ROWS_H
#define IMPORT_ROWS_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t line;                /* the CSV line the record starts on */
    int64_t amount;             /* minor units (cents) */
    int64_t occurred_us;        /* microseconds since the epoch */
    int occurred_offset;        /* the offset it was written in, minutes east of UTC */
    char *description;          /* NULL: none */
    char *category;             /* a category name; NULL: none */
    char *external_id;          /* the column's value, or the row's digest (see above) */
} import_row_t;

typedef struct _import_rows_t import_rows_t;

/* Read size bytes of CSV at data. Returns the rows (perhaps none), or NULL
   with "line N: why" in errbuf for the first problem found. */
import_rows_t *import_rows_parse (const char *data, size_t size, char *errbuf, size_t errlen);

/* Destroy the rows and set *self_p to NULL. */
void import_rows_destroy (import_rows_t **self_p);

/* How many rows there are. */
size_t import_rows_count (import_rows_t *self);

/* Row index (< import_rows_count), borrowed from self. */
const import_row_t *import_rows_get (import_rows_t *self, size_t index);

#endif
