/*  table -- rows printed as an aligned table, as CSV, or as JSON lines. */

#include "table.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct _table_t {
    table_format_t format;
    const table_column_t *columns;
    size_t count;
    FILE *out;
    size_t rows;
    char **kept;                /* TABLE_FORMAT_TABLE: rows * count cells, NULL for none */
    size_t kept_alloc;          /* rows the array has room for */
};

/*  Columns line up by characters, not bytes, so a description with "é"
    does not push the rest of its row out of line. */
static size_t
s_display_width (const char *text)
{
    size_t width = 0;
    for (; text && *text; text++)
        if (((unsigned char) *text & 0xC0) != 0x80)
            width++;
    return width;
}

void
table_csv_field (FILE *out, const char *text)
{
    if (!text)
        return;
    bool quote = text [0] == ' ' || (text [0] && text [strlen (text) - 1] == ' ')
              || strpbrk (text, ",\"\r\n") != NULL;
    if (!quote) {
        fputs (text, out);
        return;
    }
    fputc ('"', out);
    for (const char *c = text; *c; c++) {
        if (*c == '"')
            fputc ('"', out);
        fputc (*c, out);
    }
    fputc ('"', out);
}

static void
s_csv_row (table_t *self, const char *const *cells)
{
    for (size_t n = 0; n < self->count; n++) {
        if (n)
            fputc (',', self->out);
        table_csv_field (self->out, cells [n]);
    }
    fputc ('\n', self->out);
}

static int
s_json_row (table_t *self, const char *const *cells)
{
    json_t *row = json_object ();
    if (!row)
        return -1;
    for (size_t n = 0; n < self->count; n++) {
        const char *cell = cells [n];
        json_t *value;
        if (!cell)
            value = json_null ();
        else
        if (self->columns [n].kind == TABLE_INTEGER)
            value = json_integer (strtoll (cell, NULL, 10));
        else {
            /*  Text from the worker is UTF-8 (it checks); anything else is
                shown rather than dropped. */
            value = json_string (cell);
            if (!value)
                value = json_stringn_nocheck (cell, strlen (cell));
        }
        if (json_object_set_new (row, self->columns [n].name, value)) {
            json_decref (row);
            return -1;
        }
    }
    int rc = json_dumpf (row, self->out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fputc ('\n', self->out);
    json_decref (row);
    return rc;
}

table_format_t
table_format (table_t *self)
{
    return self->format;
}

table_t *
table_new (table_format_t format, const table_column_t *columns, size_t count, FILE *out)
{
    table_t *self = calloc (1, sizeof (table_t));
    if (!self)
        return NULL;
    self->format = format;
    self->columns = columns;
    self->count = count;
    self->out = out;
    if (format == TABLE_FORMAT_CSV) {
        for (size_t n = 0; n < count; n++) {
            if (n)
                fputc (',', out);
            table_csv_field (out, columns [n].name);
        }
        fputc ('\n', out);
    }
    return self;
}

void
table_destroy (table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    table_t *self = *self_p;
    if (self->kept) {
        for (size_t n = 0; n < self->rows * self->count; n++)
            free (self->kept [n]);
        free (self->kept);
    }
    free (self);
    *self_p = NULL;
}

/*  Keep a copy of a row for the aligned table. Control characters would
    break the layout, so they are shown as spaces. */
static int
s_keep_row (table_t *self, const char *const *cells)
{
    if (self->rows == self->kept_alloc) {
        size_t alloc = self->kept_alloc? self->kept_alloc * 2: 64;
        char **kept = realloc (self->kept, alloc * self->count * sizeof (char *));
        if (!kept)
            return -1;
        self->kept = kept;
        self->kept_alloc = alloc;
    }
    char **row = self->kept + self->rows * self->count;
    for (size_t n = 0; n < self->count; n++) {
        row [n] = NULL;
        if (!cells [n])
            continue;
        row [n] = strdup (cells [n]);
        if (!row [n]) {
            while (n-- > 0)
                free (row [n]);
            return -1;
        }
        for (char *c = row [n]; *c; c++)
            if ((unsigned char) *c < 0x20 || *c == 0x7F)
                *c = ' ';
    }
    return 0;
}

int
table_add (table_t *self, const char *const *cells)
{
    int rc = 0;
    if (self->format == TABLE_FORMAT_CSV)
        s_csv_row (self, cells);
    else
    if (self->format == TABLE_FORMAT_JSON)
        rc = s_json_row (self, cells);
    else
        rc = s_keep_row (self, cells);
    if (rc == 0)
        self->rows++;
    return rc;
}

size_t
table_rows (table_t *self)
{
    return self->rows;
}

static void
s_pad (FILE *out, size_t count)
{
    while (count--)
        fputc (' ', out);
}

/*  One line of the aligned table. Padding stops after the last cell that
    holds something, so lines carry no trailing blanks. */
static void
s_print_line (table_t *self, char *const *cells, const size_t *widths, bool header)
{
    size_t end = self->count;
    while (end > 1 && (!cells [end - 1] || !cells [end - 1][0]))
        end--;
    for (size_t n = 0; n < end; n++) {
        const char *cell = cells [n]? cells [n]: "";
        size_t gap = widths [n] - s_display_width (cell);
        bool right = !header && self->columns [n].kind != TABLE_TEXT;
        if (n)
            fputs ("  ", self->out);
        if (right)
            s_pad (self->out, gap);
        fputs (cell, self->out);
        if (!right && n + 1 < end)
            s_pad (self->out, gap);
    }
    fputc ('\n', self->out);
}

static void
s_print_table (table_t *self)
{
    size_t *widths = calloc (self->count, sizeof (size_t));
    char **header = calloc (self->count, sizeof (char *));
    if (!widths || !header) {
        free (widths);
        free (header);
        return;
    }
    for (size_t n = 0; n < self->count; n++) {
        header [n] = (char *) self->columns [n].name;
        widths [n] = s_display_width (header [n]);
    }
    for (size_t r = 0; r < self->rows; r++)
        for (size_t n = 0; n < self->count; n++) {
            size_t width = s_display_width (self->kept [r * self->count + n]);
            if (width > widths [n])
                widths [n] = width;
        }
    s_print_line (self, header, widths, true);
    for (size_t r = 0; r < self->rows; r++)
        s_print_line (self, self->kept + r * self->count, widths, false);
    fprintf (self->out, "(%zu row%s)\n", self->rows, self->rows == 1? "": "s");
    free (widths);
    free (header);
}

int
table_finish (table_t *self)
{
    if (self->format == TABLE_FORMAT_TABLE)
        s_print_table (self);
    return fflush (self->out) == 0 && !ferror (self->out)? 0: -1;
}
