/*  import_rows -- a bank-statement CSV read into checked transaction rows. */

#include "import_rows.h"
#include "csv.h"
#include "proto_amount.h"
#include "proto_ops.h"
#include "proto_time.h"

#include <czmq.h>
#include <jansson.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct _import_rows_t {
    import_row_t *rows;
    size_t count;
    size_t alloc;
};

typedef enum {
    COL_TIME,
    COL_AMOUNT,
    COL_DESCRIPTION,
    COL_CATEGORY,
    COL_EXTERNAL_ID,
    COL_COUNT
} column_t;

/*  The header names each column may go by. */
static const struct {
    const char *name;
    column_t column;
} s_names [] = {
    { "date",        COL_TIME },
    { "occurred_at", COL_TIME },
    { "time",        COL_TIME },
    { "timestamp",   COL_TIME },
    { "amount",      COL_AMOUNT },
    { "description", COL_DESCRIPTION },
    { "desc",        COL_DESCRIPTION },
    { "memo",        COL_DESCRIPTION },
    { "category",    COL_CATEGORY },
    { "external_id", COL_EXTERNAL_ID },
};

static const char *s_column_names [COL_COUNT] = { "date", "amount", "description", "category", "external_id" };

typedef struct {
    csv_reader_t *csv;
    size_t header_fields;
    long index [COL_COUNT];     /* field index of each column, -1 if absent */
    char *errbuf;
    size_t errlen;
} parser_t;

static int
s_fail (parser_t *parser, size_t line, const char *format, ...) __attribute__ ((format (printf, 3, 4)));

static int
s_fail (parser_t *parser, size_t line, const char *format, ...)
{
    int used = snprintf (parser->errbuf, parser->errlen, "line %zu: ", line);
    if (used >= 0 && (size_t) used < parser->errlen) {
        va_list args;
        va_start (args, format);
        vsnprintf (parser->errbuf + used, parser->errlen - (size_t) used, format, args);
        va_end (args);
    }
    return -1;
}

static void
s_row_free (import_row_t *row)
{
    free (row->description);
    free (row->category);
    free (row->external_id);
}

/*  The value without the blanks around it, as a new string. */
static char *
s_trimmed (const char *text)
{
    while (*text == ' ' || *text == '\t')
        text++;
    size_t len = strlen (text);
    while (len && (text [len - 1] == ' ' || text [len - 1] == '\t'))
        len--;
    return strndup (text, len);
}

/*  The worker refuses a request holding bad UTF-8 as a whole, without
    saying which op; checking here names the line instead. */
static bool
s_utf8_valid (const char *text)
{
    const unsigned char *c = (const unsigned char *) text;
    while (*c) {
        if (*c < 0x80) {
            c++;
            continue;
        }
        int more;
        uint32_t point;
        if ((*c & 0xE0) == 0xC0)      { more = 1; point = *c & 0x1F; }
        else if ((*c & 0xF0) == 0xE0) { more = 2; point = *c & 0x0F; }
        else if ((*c & 0xF8) == 0xF0) { more = 3; point = *c & 0x07; }
        else
            return false;
        c++;
        for (int n = 0; n < more; n++, c++) {
            if ((*c & 0xC0) != 0x80)
                return false;
            point = point << 6 | (*c & 0x3F);
        }
        static const uint32_t least [] = { 0, 0x80, 0x800, 0x10000 };
        if (point < least [more] || point > 0x10FFFF || (point >= 0xD800 && point <= 0xDFFF))
            return false;
    }
    return true;
}

static int
s_read_header (parser_t *parser)
{
    int rc = csv_reader_next (parser->csv);
    if (rc < 0)
        return s_fail (parser, csv_reader_line (parser->csv), "%s", csv_reader_error (parser->csv));
    if (rc == 0)
        return s_fail (parser, 1, "the file is empty: expected a header row (date,amount,description,category)");
    size_t line = csv_reader_line (parser->csv);
    parser->header_fields = csv_reader_fields (parser->csv);
    for (int c = 0; c < COL_COUNT; c++)
        parser->index [c] = -1;
    for (size_t field = 0; field < parser->header_fields; field++) {
        char *name = s_trimmed (csv_reader_field (parser->csv, field));
        if (!name)
            return s_fail (parser, line, "out of memory");
        for (size_t n = 0; n < sizeof (s_names) / sizeof (s_names [0]); n++) {
            if (strcasecmp (name, s_names [n].name))
                continue;
            column_t column = s_names [n].column;
            if (parser->index [column] >= 0) {
                free (name);
                return s_fail (parser, line, "columns %ld and %zu both give the %s",
                               parser->index [column] + 1, field + 1, s_column_names [column]);
            }
            parser->index [column] = (long) field;
        }
        free (name);
    }
    if (parser->index [COL_TIME] < 0)
        return s_fail (parser, line, "the header has no date column (date, occurred_at, time or timestamp)");
    if (parser->index [COL_AMOUNT] < 0)
        return s_fail (parser, line, "the header has no amount column");
    return 0;
}

static int
s_parse_time (parser_t *parser, size_t line, const char *text, import_row_t *row)
{
    size_t len = strlen (text);
    if (len == 10 && proto_time_parse_date (text, len, &row->occurred_us) == PROTO_TIME_OK) {
        row->occurred_offset = 0;
        return 0;
    }
    int rc = proto_time_parse (text, len, &row->occurred_us, &row->occurred_offset);
    if (rc == PROTO_TIME_NAIVE)
        return s_fail (parser, line, "date \"%s\" has no UTC offset: add Z or +hh:mm, or give a bare date (midnight UTC)", text);
    if (rc != PROTO_TIME_OK)
        return s_fail (parser, line, "date \"%s\" is not YYYY-MM-DD or an RFC 3339 time like 2025-01-02T10:00:00+01:00", text);
    return 0;
}

static int
s_parse_amount (parser_t *parser, size_t line, const char *text, import_row_t *row)
{
    /*  Statements often mark credits with a plus; the wire does not. */
    const char *digits = text [0] == '+' && text [1] != '-'? text + 1: text;
    int rc = proto_amount_parse (digits, strlen (digits), &row->amount);
    if (rc == PROTO_AMOUNT_OK)
        return 0;
    if (rc == PROTO_AMOUNT_INEXACT)
        return s_fail (parser, line, "amount \"%s\" has more than two decimals", text);
    if (rc == PROTO_AMOUNT_RANGE)
        return s_fail (parser, line, "amount \"%s\" is too large", text);
    return s_fail (parser, line, "amount \"%s\" is not a decimal number like -12.34", text);
}

/*  An optional text column: NULL when empty, else checked against max. */
static int
s_parse_text (parser_t *parser, size_t line, const char *text, const char *what, size_t max, char **value_p)
{
    *value_p = NULL;
    if (!*text)
        return 0;
    if (strlen (text) > max)
        return s_fail (parser, line, "the %s is longer than %zu bytes", what, max);
    if (!s_utf8_valid (text))
        return s_fail (parser, line, "the %s is not valid UTF-8", what);
    *value_p = strdup (text);
    return *value_p? 0: s_fail (parser, line, "out of memory");
}

/*  The value of column c in the current record, trimmed, as a new string. */
static char *
s_value (parser_t *parser, column_t c)
{
    return s_trimmed (parser->index [c] >= 0? csv_reader_field (parser->csv, (size_t) parser->index [c]): "");
}

static int
s_read_row (parser_t *parser, import_row_t *row)
{
    size_t line = csv_reader_line (parser->csv);
    memset (row, 0, sizeof (*row));
    row->line = line;
    size_t fields = csv_reader_fields (parser->csv);
    if (fields != parser->header_fields)
        return s_fail (parser, line, "%zu fields where the header has %zu (a comma inside a value needs quotes)",
                       fields, parser->header_fields);
    char *value [COL_COUNT];
    for (int c = 0; c < COL_COUNT; c++)
        value [c] = s_value (parser, (column_t) c);
    int rc = -1;
    for (int c = 0; c < COL_COUNT; c++)
        if (!value [c]) {
            s_fail (parser, line, "out of memory");
            goto done;
        }
    if (!*value [COL_TIME])
        s_fail (parser, line, "the date is empty");
    else
    if (!*value [COL_AMOUNT])
        s_fail (parser, line, "the amount is empty");
    else
    if (s_parse_time (parser, line, value [COL_TIME], row) == 0
    &&  s_parse_amount (parser, line, value [COL_AMOUNT], row) == 0
    &&  s_parse_text (parser, line, value [COL_DESCRIPTION], "description", PROTO_TEXT_MAX, &row->description) == 0
    &&  s_parse_text (parser, line, value [COL_CATEGORY], "category name", PROTO_NAME_MAX, &row->category) == 0
    &&  s_parse_text (parser, line, value [COL_EXTERNAL_ID], "external_id", PROTO_EXTERNAL_ID_MAX,
                      &row->external_id) == 0)
        rc = 0;
done:
    for (int c = 0; c < COL_COUNT; c++)
        free (value [c]);
    if (rc)
        s_row_free (row);
    return rc;
}

/*  Name each row that has no external_id of its own by its digest (see
    import_rows.h). Returns 0, or -1 if memory ran out. */
static int
s_name_rows (import_rows_t *self)
{
    json_t *seen = json_object ();     /* identity -> rows with it so far */
    int rc = seen? 0: -1;
    for (size_t n = 0; n < self->count && rc == 0; n++) {
        import_row_t *row = &self->rows [n];
        if (row->external_id)
            continue;
        char identity [PROTO_TEXT_MAX + 80];     /* the description has at most PROTO_TEXT_MAX bytes */
        snprintf (identity, sizeof (identity), "%lld|%d|%lld|%s", (long long) row->occurred_us,
                  row->occurred_offset, (long long) row->amount, row->description? row->description: "");
        json_int_t occurrence = json_integer_value (json_object_get (seen, identity));
        zdigest_t *digest = zdigest_new ();
        if (!digest || json_object_set_new (seen, identity, json_integer (occurrence + 1)))
            rc = -1;
        else {
            char number [24];
            snprintf (number, sizeof (number), "|%lld", (long long) occurrence);
            zdigest_update (digest, (const byte *) identity, strlen (identity));
            zdigest_update (digest, (const byte *) number, strlen (number));
            char name [64];
            snprintf (name, sizeof (name), "row-sha1:%s", zdigest_string (digest));
            if (!(row->external_id = strdup (name)))
                rc = -1;
        }
        zdigest_destroy (&digest);
    }
    json_decref (seen);
    return rc;
}

static int
s_append (import_rows_t *self, const import_row_t *row)
{
    if (self->count == self->alloc) {
        size_t alloc = self->alloc? self->alloc * 2: 256;
        import_row_t *rows = realloc (self->rows, alloc * sizeof (import_row_t));
        if (!rows)
            return -1;
        self->rows = rows;
        self->alloc = alloc;
    }
    self->rows [self->count++] = *row;
    return 0;
}

import_rows_t *
import_rows_parse (const char *data, size_t size, char *errbuf, size_t errlen)
{
    import_rows_t *self = calloc (1, sizeof (import_rows_t));
    parser_t parser = { .csv = csv_reader_new (data, size), .errbuf = errbuf, .errlen = errlen };
    if (!self || !parser.csv) {
        snprintf (errbuf, errlen, "out of memory");
        goto failed;
    }
    if (s_read_header (&parser))
        goto failed;
    int rc;
    while ((rc = csv_reader_next (parser.csv)) == 1) {
        import_row_t row;
        if (s_read_row (&parser, &row))
            goto failed;
        if (s_append (self, &row)) {
            s_row_free (&row);
            snprintf (errbuf, errlen, "out of memory");
            goto failed;
        }
    }
    if (rc < 0) {
        s_fail (&parser, csv_reader_line (parser.csv), "%s", csv_reader_error (parser.csv));
        goto failed;
    }
    if (s_name_rows (self)) {
        snprintf (errbuf, errlen, "out of memory");
        goto failed;
    }
    csv_reader_destroy (&parser.csv);
    return self;

failed:
    csv_reader_destroy (&parser.csv);
    import_rows_destroy (&self);
    return NULL;
}

void
import_rows_destroy (import_rows_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    import_rows_t *self = *self_p;
    for (size_t n = 0; n < self->count; n++)
        s_row_free (&self->rows [n]);
    free (self->rows);
    free (self);
    *self_p = NULL;
}

size_t
import_rows_count (import_rows_t *self)
{
    return self->count;
}

const import_row_t *
import_rows_get (import_rows_t *self, size_t index)
{
    return index < self->count? &self->rows [index]: NULL;
}
