/*  PROTOCOL.md against the op table (proto/proto_ops.h): every op and every
    field of the table is in the document's tables, with the same shape, and
    the tables name nothing the table does not have. The limits the document
    states are the constants the code checks. */

#include "proto_ops.h"
#include "proto_reader.h"
#include "proto_request.h"
#include "testing.h"

#include <stdarg.h>
#include <stdlib.h>

#define S_MAX_CELLS 8
#define S_MAX_NAMES 16

static char *s_doc;             /* PROTOCOL.md, NUL-terminated */

static char *
s_read_file (const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return NULL;
    char *text = NULL;
    long size = fseek (file, 0, SEEK_END) == 0? ftell (file): -1;
    if (size >= 0 && fseek (file, 0, SEEK_SET) == 0 && (text = malloc ((size_t) size + 1))) {
        if (fread (text, 1, (size_t) size, file) == (size_t) size)
            text [size] = 0;
        else {
            free (text);
            text = NULL;
        }
    }
    fclose (file);
    return text;
}

/*  One table row, split into trimmed cells (pointers into line). */
typedef struct {
    char line [2048];
    char *cell [S_MAX_CELLS];
    int count;
} row_t;

static char *
s_trim (char *text)
{
    while (*text == ' ')
        text++;
    size_t len = strlen (text);
    while (len > 0 && text [len - 1] == ' ')
        text [--len] = 0;
    return text;
}

/*  Split the line at text (up to its newline) into row. Returns 0, or -1 if
    it is not a table row. */
static int
s_split_row (const char *text, row_t *row)
{
    size_t len = strcspn (text, "\n");
    if (len == 0 || text [0] != '|' || len >= sizeof (row->line))
        return -1;
    memcpy (row->line, text, len);
    row->line [len] = 0;
    row->count = 0;
    char *cursor = row->line + 1;
    char *bar;
    while ((bar = strchr (cursor, '|')) && row->count < S_MAX_CELLS) {
        *bar = 0;
        row->cell [row->count++] = s_trim (cursor);
        cursor = bar + 1;
    }
    return 0;
}

/*  The rows of the table whose header line starts with header, one by
    one: call with *at NULL to start; returns 0 with the next row, or -1
    at the table's end. */
static int
s_next_row (const char *header, const char **at, row_t *row)
{
    if (!*at) {
        const char *start = strstr (s_doc, header);
        if (!start)
            return -1;
        *at = strchr (start, '\n');             /* the header line */
        *at = *at? strchr (*at + 1, '\n'): NULL; /* the |---| line */
        if (!*at)
            return -1;
    }
    (*at)++;
    if (s_split_row (*at, row))
        return -1;
    *at = strchr (*at, '\n');
    if (!*at)
        *at = s_doc + strlen (s_doc) - 1;
    return 0;
}

/*  The `quoted` names in a cell. Returns how many, each NUL-terminated in
    place (cell is changed). */
static int
s_names (char *cell, char *names [S_MAX_NAMES])
{
    int count = 0;
    char *open;
    while (count < S_MAX_NAMES && (open = strchr (cell, '`'))) {
        char *close = strchr (open + 1, '`');
        if (!close)
            break;
        *close = 0;
        names [count++] = open + 1;
        cell = close + 1;
    }
    return count;
}

/*  The set of fields a cell names; an unknown name is reported and fails. */
static uint32_t
s_fields_in (char *cell, const char *where)
{
    char *names [S_MAX_NAMES];
    int count = s_names (cell, names);
    uint32_t set = 0;
    for (int n = 0; n < count; n++) {
        proto_field_t field;
        if (proto_field_lookup (names [n], (uint32_t) strlen (names [n]), &field) == 0)
            set |= 1u << field;
        else {
            fprintf (stderr, "    %s: `%s` is not a field of the op table\n", where, names [n]);
            CHECK (!"a documented field is in the op table");
        }
    }
    return set;
}

static void
test_the_document_is_there (void)
{
    CHECK (s_doc != NULL);
    if (!s_doc)
        fprintf (stderr, "    cannot read %s/PROTOCOL.md\n", LEDGER_SOURCE_DIR);
}

/*  The Operations table: one row per op, in any order, with the op's
    writes flag and its required, optional and at-least-one-of fields. */
static void
test_operations_table_is_the_op_table (void)
{
    if (!s_doc)
        return;
    int rows_of [PROTO_OP_COUNT] = { 0 };
    int rows = 0;
    const char *at = NULL;
    row_t row;
    while (s_next_row ("| op | writes | required | optional | at least one of |", &at, &row) == 0) {
        rows++;
        CHECK (row.count >= 5);
        if (row.count < 5)
            continue;
        char *names [S_MAX_NAMES];
        char cell [256];
        snprintf (cell, sizeof (cell), "%s", row.cell [0]);
        proto_op_code_t code;
        if (s_names (row.cell [0], names) != 1
        ||  proto_op_lookup (names [0], (uint32_t) strlen (names [0]), &code)) {
            fprintf (stderr, "    operations table: row \"%s\" is not an op of the op table\n", cell);
            CHECK (!"every documented op is in the op table");
            continue;
        }
        const proto_op_info_t *info = proto_op_info (code);
        rows_of [code]++;
        char where [64];
        snprintf (where, sizeof (where), "operations table, %s", info->name);
        bool writes = strcmp (row.cell [1], "yes") == 0;
        CHECK (writes || strcmp (row.cell [1], "no") == 0);
        CHECK_INT (writes, (info->flags & PROTO_OPF_WRITE) != 0);
        bool only_one = strstr (row.cell [4], "exactly one of") != NULL;
        CHECK_INT (only_one, (info->flags & PROTO_OPF_ONLY_ONE) != 0);
        uint32_t required = s_fields_in (row.cell [2], where);
        uint32_t optional = s_fields_in (row.cell [3], where);
        uint32_t one_of = s_fields_in (row.cell [4], where);
        if (required != info->required || one_of != info->one_of
        ||  optional != (info->allowed & ~info->required & ~info->one_of))
            fprintf (stderr, "    %s: the fields differ from the op table\n", where);
        CHECK_INT (required, info->required);
        CHECK_INT (one_of, info->one_of);
        CHECK_INT (optional, info->allowed & ~info->required & ~info->one_of);
    }
    CHECK_INT (rows, PROTO_OP_COUNT);
    for (int code = 0; code < PROTO_OP_COUNT; code++) {
        if (rows_of [code] != 1)
            fprintf (stderr, "    %s: %d rows in the operations table\n", proto_op_info (code)->name, rows_of [code]);
        CHECK_INT (rows_of [code], 1);
    }
}

/*  Each op has its own section, and every section under Operations is an op. */
static void
test_every_op_has_a_section (void)
{
    if (!s_doc)
        return;
    const char *start = strstr (s_doc, "\n## Operations");
    const char *end = start? strstr (start + 1, "\n## "): NULL;
    CHECK (start && end);
    if (!start || !end)
        return;
    int sections_of [PROTO_OP_COUNT] = { 0 };
    for (const char *at = start; (at = strstr (at + 1, "\n### `")) && at < end; ) {
        const char *name = at + 6;
        size_t len = strcspn (name, "`\n");
        proto_op_code_t code;
        if (proto_op_lookup (name, (uint32_t) len, &code) == 0)
            sections_of [code]++;
        else {
            fprintf (stderr, "    section `%.*s` is not an op of the op table\n", (int) len, name);
            CHECK (!"every op section is an op of the op table");
        }
    }
    for (int code = 0; code < PROTO_OP_COUNT; code++) {
        if (sections_of [code] != 1)
            fprintf (stderr, "    %s: %d sections\n", proto_op_info (code)->name, sections_of [code]);
        CHECK_INT (sections_of [code], 1);
    }
}

/*  The op map's field table: every field once, with its type's name. */
static const char *s_type_names [] = {
    [PROTO_FT_ID] = "id",
    [PROTO_FT_CATEGORY] = "category",
    [PROTO_FT_CATEGORY_LIST] = "category list",
    [PROTO_FT_NAME] = "name",
    [PROTO_FT_TEXT] = "text",
    [PROTO_FT_AMOUNT] = "amount",
    [PROTO_FT_TIME] = "time",
    [PROTO_FT_BOUND] = "bound",
    [PROTO_FT_BOOL] = "bool",
    [PROTO_FT_LIMIT] = "limit",
    [PROTO_FT_CURSOR] = "cursor",
    [PROTO_FT_EXTERNAL_ID] = "external id",
    [PROTO_FT_VERSION] = "version",
    [PROTO_FT_SUMMARY_BY] = "grouping",
    [PROTO_FT_PERIOD] = "period",
    [PROTO_FT_OFFSET] = "offset",
    [PROTO_FT_TOKEN] = "token",
    [PROTO_FT_POSITION] = "position",
    [PROTO_FT_LENGTH] = "length",
};

static void
test_field_table_is_the_field_list (void)
{
    if (!s_doc)
        return;
    int rows_of [PROTO_FIELD_COUNT] = { 0 };
    const char *at = NULL;
    row_t row;
    while (s_next_row ("| field | type | accepted values | nil |", &at, &row) == 0) {
        CHECK (row.count >= 2);
        if (row.count < 2)
            continue;
        char *names [S_MAX_NAMES];
        int count = s_names (row.cell [0], names);
        CHECK (count > 0);
        for (int n = 0; n < count; n++) {
            proto_field_t field;
            if (proto_field_lookup (names [n], (uint32_t) strlen (names [n]), &field)) {
                fprintf (stderr, "    field table: `%s` is not a field of the op table\n", names [n]);
                CHECK (!"every documented field is in the op table");
                continue;
            }
            rows_of [field]++;
            const char *type = s_type_names [proto_field_info (field)->type];
            if (strcmp (row.cell [1], type))
                fprintf (stderr, "    field table: `%s` is of type \"%s\", the op table says \"%s\"\n",
                         names [n], row.cell [1], type);
            CHECK_STR (row.cell [1], type);
        }
    }
    for (int field = 0; field < PROTO_FIELD_COUNT; field++) {
        if (rows_of [field] != 1)
            fprintf (stderr, "    `%s`: %d times in the field table\n", proto_field_info (field)->name, rows_of [field]);
        CHECK_INT (rows_of [field], 1);
    }
}

/*  The row of the table with header that starts with first, or NULL. */
static const char *
s_row_of (const char *header, const char *first, row_t *row)
{
    const char *at = NULL;
    while (s_next_row (header, &at, row) == 0)
        if (strncmp (row->cell [0], first, strlen (first)) == 0)
            return row->cell [row->count - 1];
    return NULL;
}

/*  A cell of the row of the table with header that starts with first holds
    the text made from format and the limit after it. */
static void s_check_limit (const char *header, const char *first, int column, const char *format, ...)
    __attribute__ ((format (printf, 4, 5)));

static void
s_check_limit (const char *header, const char *first, int column, const char *format, ...)
{
    row_t row;
    char want [64];
    va_list args;
    va_start (args, format);
    vsnprintf (want, sizeof (want), format, args);
    va_end (args);
    const char *found = s_row_of (header, first, &row);
    const char *cell = found && column < row.count? row.cell [column]: NULL;
    if (!cell || !strstr (cell, want))
        fprintf (stderr, "    row %s: \"%s\" not in \"%s\"\n", first, want, cell? cell: "(no row)");
    CHECK (cell && strstr (cell, want));
}

/*  The limits the document states are the constants (– is an en dash). */
static void
test_documented_limits_are_the_constants (void)
{
    if (!s_doc)
        return;
    const char *fields = "| field | type | accepted values | nil |";
    s_check_limit (fields, "`name`", 2, "1\xe2\x80\x93%d bytes", PROTO_NAME_MAX);
    s_check_limit (fields, "`parent`", 2, "1\xe2\x80\x93%d bytes", PROTO_NAME_MAX);
    s_check_limit (fields, "`description`", 2, "0\xe2\x80\x93%d bytes", PROTO_TEXT_MAX);
    s_check_limit (fields, "`categories`", 2, "1\xe2\x80\x93%d ", PROTO_MAX_LIST);
    s_check_limit (fields, "`limit`", 2, "1\xe2\x80\x93%d", PROTO_MAX_LIMIT);
    s_check_limit (fields, "`external_id`", 2, "1\xe2\x80\x93%d bytes", PROTO_EXTERNAL_ID_MAX);
    s_check_limit (fields, "`token`", 2, "1\xe2\x80\x93%d bytes", PROTO_TOKEN_MAX);
    s_check_limit (fields, "`length`", 2, "1\xe2\x80\x93%d", PROTO_CHUNK_MAX);
    const char *request = "| key | required | type | rule |";
    s_check_limit (request, "`v`", 3, "must be `%d`", PROTO_VERSION);
    s_check_limit (request, "`id`", 2, "0\xe2\x80\x93%d bytes", PROTO_ID_MAX);
    s_check_limit (request, "`key`", 2, "1\xe2\x80\x93%d bytes", PROTO_KEY_MAX);
    const char *rules = "| rule | code |";
    s_check_limit (rules, "no map has more than", 0, "more than %d pairs", PROTO_READER_MAX_KEYS);
    s_check_limit (rules, "nesting", 0, "at most %d levels", PROTO_READER_MAX_DEPTH - 1);
    s_check_limit ("| field | meaning |", "`limit`", 1, "default %d", PROTO_DEFAULT_LIMIT);
}

int
main (void)
{
    s_doc = s_read_file (LEDGER_SOURCE_DIR "/PROTOCOL.md");
    TEST_RUN (test_the_document_is_there);
    TEST_RUN (test_operations_table_is_the_op_table);
    TEST_RUN (test_every_op_has_a_section);
    TEST_RUN (test_field_table_is_the_field_list);
    TEST_RUN (test_documented_limits_are_the_constants);
    free (s_doc);
    return TEST_DONE ();
}
