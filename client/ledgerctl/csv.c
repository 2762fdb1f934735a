/*  csv -- a reader for comma-separated values (RFC 4180, leniently).

    The current record is kept as its fields' text, one after another in
    one buffer, each ended by a NUL, with their start offsets beside. */

#include "csv.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _csv_reader_t {
    const char *data;
    size_t size;
    size_t pos;                 /* next byte to read */
    size_t line;                /* line of data [pos], from 1 */
    size_t record_line;         /* line the current record starts on */
    char *text;                 /* the fields, NUL-terminated, back to back */
    size_t text_len;
    size_t text_alloc;
    size_t *starts;             /* offset of each field in text */
    size_t fields;
    bool first_quoted;          /* the record's first field was quoted */
    size_t starts_alloc;
    bool broken;
    char error [120];
};

csv_reader_t *
csv_reader_new (const char *data, size_t size)
{
    csv_reader_t *self = calloc (1, sizeof (csv_reader_t));
    if (!self)
        return NULL;
    self->data = data;
    self->size = size;
    self->line = 1;
    if (size >= 3 && memcmp (data, "\xEF\xBB\xBF", 3) == 0)
        self->pos = 3;
    return self;
}

void
csv_reader_destroy (csv_reader_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    csv_reader_t *self = *self_p;
    free (self->text);
    free (self->starts);
    free (self);
    *self_p = NULL;
}

static int
s_fail (csv_reader_t *self, const char *message)
{
    snprintf (self->error, sizeof (self->error), "%s", message);
    self->broken = true;
    return -1;
}

static int
s_put (csv_reader_t *self, char c)
{
    if (self->text_len == self->text_alloc) {
        size_t alloc = self->text_alloc? self->text_alloc * 2: 256;
        char *text = realloc (self->text, alloc);
        if (!text)
            return -1;
        self->text = text;
        self->text_alloc = alloc;
    }
    self->text [self->text_len++] = c;
    return 0;
}

static int
s_start_field (csv_reader_t *self)
{
    if (self->fields == self->starts_alloc) {
        size_t alloc = self->starts_alloc? self->starts_alloc * 2: 16;
        size_t *starts = realloc (self->starts, alloc * sizeof (size_t));
        if (!starts)
            return -1;
        self->starts = starts;
        self->starts_alloc = alloc;
    }
    self->starts [self->fields++] = self->text_len;
    return 0;
}

static bool
s_at_end (csv_reader_t *self)
{
    return self->pos >= self->size;
}

static char
s_peek (csv_reader_t *self)
{
    return self->data [self->pos];
}

static bool
s_blank (char c)
{
    return c == ' ' || c == '\t';
}

/*  At a line break: step over it (CRLF is one) and count the line. */
static void
s_take_line_break (csv_reader_t *self)
{
    if (s_peek (self) == '\r' && self->pos + 1 < self->size && self->data [self->pos + 1] == '\n')
        self->pos++;
    self->pos++;
    self->line++;
}

static bool
s_at_line_break (csv_reader_t *self)
{
    return !s_at_end (self) && (s_peek (self) == '\n' || s_peek (self) == '\r');
}

/*  A quoted field, from its opening quote to just after the closing one
    and any blanks behind it. */
static int
s_quoted_field (csv_reader_t *self)
{
    self->pos++;
    while (true) {
        if (s_at_end (self))
            return s_fail (self, "a quoted field is not closed before the end of the file");
        char c = s_peek (self);
        if (c == '"') {
            self->pos++;
            if (s_at_end (self) || s_peek (self) != '"')
                break;
        }
        else
        if (c == '\0')
            return s_fail (self, "a NUL byte in a field");
        if (c == '\r' || c == '\n') {
            /*  Kept as written, but the line count must follow. */
            if (c == '\r' && self->pos + 1 < self->size && self->data [self->pos + 1] == '\n') {
                if (s_put (self, '\r'))
                    return s_fail (self, "out of memory");
                self->pos++;
            }
            if (s_put (self, self->data [self->pos]))
                return s_fail (self, "out of memory");
            self->pos++;
            self->line++;
            continue;
        }
        if (s_put (self, c))
            return s_fail (self, "out of memory");
        self->pos++;
    }
    while (!s_at_end (self) && s_blank (s_peek (self)))
        self->pos++;
    if (!s_at_end (self) && s_peek (self) != ',' && !s_at_line_break (self))
        return s_fail (self, "text after the closing quote of a field (quotes inside a quoted field are doubled: \"\")");
    return 0;
}

/*  One field; the cursor is at its first byte, and is left on the comma,
    line break or end of input that ends it. */
static int
s_field (csv_reader_t *self)
{
    if (s_start_field (self))
        return s_fail (self, "out of memory");
    size_t blanks = 0;
    while (self->pos + blanks < self->size && s_blank (self->data [self->pos + blanks]))
        blanks++;
    if (self->pos + blanks < self->size && self->data [self->pos + blanks] == '"') {
        if (self->fields == 1)
            self->first_quoted = true;
        self->pos += blanks;
        if (s_quoted_field (self))
            return -1;
    }
    else
        while (!s_at_end (self) && s_peek (self) != ',' && !s_at_line_break (self)) {
            if (s_peek (self) == '\0')
                return s_fail (self, "a NUL byte in a field");
            if (s_put (self, s_peek (self)))
                return s_fail (self, "out of memory");
            self->pos++;
        }
    if (s_put (self, '\0'))
        return s_fail (self, "out of memory");
    return 0;
}

/*  A record of one unquoted field holding nothing but blanks is a blank
    line. */
static bool
s_blank_record (csv_reader_t *self)
{
    if (self->fields != 1 || self->first_quoted)
        return false;
    for (const char *c = self->text; *c; c++)
        if (!s_blank (*c))
            return false;
    return true;
}

int
csv_reader_next (csv_reader_t *self)
{
    if (self->broken)
        return -1;
    while (!s_at_end (self)) {
        self->fields = 0;
        self->text_len = 0;
        self->record_line = self->line;
        self->first_quoted = false;
        while (true) {
            if (s_field (self))
                return -1;
            if (s_at_end (self) || s_at_line_break (self))
                break;
            self->pos++;        /* the comma */
        }
        if (s_at_line_break (self))
            s_take_line_break (self);
        if (!s_blank_record (self))
            return 1;
    }
    self->fields = 0;
    return 0;
}

size_t
csv_reader_fields (csv_reader_t *self)
{
    return self->fields;
}

const char *
csv_reader_field (csv_reader_t *self, size_t index)
{
    return index < self->fields? self->text + self->starts [index]: "";
}

size_t
csv_reader_line (csv_reader_t *self)
{
    return self->record_line;
}

const char *
csv_reader_error (csv_reader_t *self)
{
    return self->broken? self->error: NULL;
}
