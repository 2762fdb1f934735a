/*  csv -- a reader for comma-separated values (RFC 4180, leniently).

    Reads records from a buffer held in memory: fields are separated by
    commas; a field may be quoted with double quotes, and then holds commas,
    line breaks and doubled quotes (""); lines end in LF, CRLF or CR. Kept
    lenient where real bank exports are sloppy: blanks around a quoted field
    are ignored, a quote inside an unquoted field is an ordinary character,
    blank lines are skipped, and a UTF-8 byte order mark at the start is
    dropped. An unterminated quoted field, text after a closing quote and a
    NUL byte are errors. The reader knows nothing of headers or columns. */

#ifndef CSV_H
#define CSV_H

#include <stddef.h>

typedef struct _csv_reader_t csv_reader_t;

/* A reader over size bytes at data, which are borrowed and must outlive
   the reader. Returns NULL when memory runs out. */
csv_reader_t *csv_reader_new (const char *data, size_t size);

/* Destroy the reader and set *self_p to NULL. */
void csv_reader_destroy (csv_reader_t **self_p);

/* Read the next record. Returns 1 when there is one, 0 at the end of the
   input, or -1 when the input is malformed or memory ran out
   (csv_reader_error says why; the reader then stays at -1). */
int csv_reader_next (csv_reader_t *self);

/* Fields of the current record (at least 1). */
size_t csv_reader_fields (csv_reader_t *self);

/* Field index of the current record, unquoted and NUL-terminated; ""
   past the last field. Borrowed until the next csv_reader_next. */
const char *csv_reader_field (csv_reader_t *self, size_t index);

/* The line, counting from 1, the current record starts on (after an
   error: the record that is malformed). */
size_t csv_reader_line (csv_reader_t *self);

/* Why csv_reader_next returned -1, or NULL. */
const char *csv_reader_error (csv_reader_t *self);

#endif
