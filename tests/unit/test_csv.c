/*  Unit: what ledgerctl import reads -- the CSV reader (csv.c) and the
    rows it makes of a bank statement (import_rows.c). */

#include "csv.h"
#include "import_rows.h"
#include "testing.h"

#include <stdlib.h>

/*  Read all of text; return the records as "field|field" lines, each
    prefixed with its line number ("2:a|b\n"), or the error ("!3: why"). */
static char *
s_records (const char *text, size_t size)
{
    static char out [4096];
    size_t used = 0;
    out [0] = 0;
    csv_reader_t *csv = csv_reader_new (text, size);
    int rc;
    while ((rc = csv_reader_next (csv)) == 1) {
        used += (size_t) snprintf (out + used, sizeof (out) - used, "%zu:", csv_reader_line (csv));
        for (size_t n = 0; n < csv_reader_fields (csv); n++)
            used += (size_t) snprintf (out + used, sizeof (out) - used, "%s%s", n? "|": "", csv_reader_field (csv, n));
        used += (size_t) snprintf (out + used, sizeof (out) - used, "\n");
    }
    if (rc < 0)
        snprintf (out + used, sizeof (out) - used, "!%zu: %s", csv_reader_line (csv), csv_reader_error (csv));
    CHECK_INT (csv_reader_next (csv), rc);      /* stays at the end, or broken */
    csv_reader_destroy (&csv);
    CHECK (csv == NULL);
    return out;
}

#define RECORDS(text) s_records (text, sizeof (text) - 1)

static void
test_csv_plain_records (void)
{
    CHECK_STR (RECORDS ("a,b,c\n1,2,3\n"), "1:a|b|c\n2:1|2|3\n");
    CHECK_STR (RECORDS ("a,b\r\n1,2\r\n"), "1:a|b\n2:1|2\n");
    CHECK_STR (RECORDS ("a,b\r1,2\r"), "1:a|b\n2:1|2\n");          /* old Mac line ends */
    CHECK_STR (RECORDS ("a,b\n1,2"), "1:a|b\n2:1|2\n");            /* no final line end */
    CHECK_STR (RECORDS ("a,,c,\n"), "1:a||c|\n");                  /* empty fields, at the end too */
    CHECK_STR (RECORDS (""), "");
    CHECK_STR (RECORDS ("\xEF\xBB\xBF" "date,amount\n"), "1:date|amount\n");  /* byte order mark */
    CHECK_STR (RECORDS (" a , b \n"), "1: a | b \n");               /* unquoted blanks are the caller's */
}

static void
test_csv_blank_lines_are_skipped_but_counted (void)
{
    CHECK_STR (RECORDS ("a\n\n  \nb\r\n\r\nc\n"), "1:a\n4:b\n6:c\n");
    CHECK_STR (RECORDS ("a\n\"\"\n"), "1:a\n2:\n");                 /* a quoted empty field is a record */
}

static void
test_csv_quoted_fields (void)
{
    CHECK_STR (RECORDS ("\"a,b\",c\n"), "1:a,b|c\n");
    CHECK_STR (RECORDS ("\"say \"\"hi\"\"\",x\n"), "1:say \"hi\"|x\n");
    CHECK_STR (RECORDS ("x,\"two\nlines\",y\nnext\n"), "1:x|two\nlines|y\n3:next\n");
    CHECK_STR (RECORDS ("x,\"a\r\nb\"\r\nz\n"), "1:x|a\r\nb\n3:z\n");
    CHECK_STR (RECORDS ("a, \"b\" ,c\n"), "1:a|b|c\n");             /* blanks around quotes */
    CHECK_STR (RECORDS ("5\" screen,1\n"), "1:5\" screen|1\n");     /* a stray quote is text */
    CHECK_STR (RECORDS ("\"\",\"\"\n"), "1:|\n");
}

static void
test_csv_malformed (void)
{
    CHECK_STR (RECORDS ("a\n\"open,b\nc\n"), "1:a\n!2: a quoted field is not closed before the end of the file");
    CHECK_STR (RECORDS ("\"a\"b,c\n"),
               "!1: text after the closing quote of a field (quotes inside a quoted field are doubled: \"\")");
    CHECK_STR (s_records ("a,b\nc\0d\n", 8), "1:a|b\n!2: a NUL byte in a field");
}

static void
test_csv_long_fields_and_many_fields (void)
{
    char *text = malloc (200000);
    size_t used = 0;
    for (int n = 0; n < 100000; n++)
        text [used++] = 'x';
    text [used++] = '\n';
    for (int n = 0; n < 5000; n++) {
        text [used++] = 'f';
        text [used++] = ',';
    }
    text [used++] = '\n';
    csv_reader_t *csv = csv_reader_new (text, used);
    CHECK_INT (csv_reader_next (csv), 1);
    CHECK_INT (strlen (csv_reader_field (csv, 0)), 100000);
    CHECK_INT (csv_reader_next (csv), 1);
    CHECK_INT (csv_reader_fields (csv), 5001);
    CHECK_STR (csv_reader_field (csv, 4999), "f");
    CHECK_STR (csv_reader_field (csv, 5000), "");
    CHECK_STR (csv_reader_field (csv, 5001), "");               /* past the end */
    CHECK_INT (csv_reader_next (csv), 0);
    csv_reader_destroy (&csv);
    free (text);
}

/*  Parse text as an import file; returns the rows or NULL with errbuf. */
static import_rows_t *
s_rows (const char *text, char *errbuf)
{
    return import_rows_parse (text, strlen (text), errbuf, 300);
}

static void
test_rows_columns_by_name (void)
{
    char error [300] = "";
    /*  Any case, aliases, blanks, other columns ignored, any order. */
    import_rows_t *rows = s_rows ("Balance, Memo ,CATEGORY,Amount,Date\n"
                                  "100.00,coffee,Food,-3.40,2025-01-02T08:12:00+01:00\n"
                                  "96.60,,,+25,2025-01-03\n", error);
    CHECK (rows != NULL);
    if (!rows) {
        fprintf (stderr, "%s\n", error);
        return;
    }
    CHECK_INT (import_rows_count (rows), 2);
    const import_row_t *row = import_rows_get (rows, 0);
    CHECK_INT (row->line, 2);
    CHECK_INT (row->amount, -340);
    CHECK_INT (row->occurred_us, 1735801920000000LL);           /* 07:12Z */
    CHECK_INT (row->occurred_offset, 60);
    CHECK_STR (row->description, "coffee");
    CHECK_STR (row->category, "Food");
    row = import_rows_get (rows, 1);
    CHECK_INT (row->line, 3);
    CHECK_INT (row->amount, 2500);
    CHECK_INT (row->occurred_us, 1735862400000000LL);           /* a bare date: midnight UTC */
    CHECK_INT (row->occurred_offset, 0);
    CHECK (row->description == NULL);                           /* empty: none */
    CHECK (row->category == NULL);
    CHECK (import_rows_get (rows, 2) == NULL);
    import_rows_destroy (&rows);
    CHECK (rows == NULL);

    static const char *const time_names [] = { "date", "occurred_at", "time", "timestamp" };
    for (size_t n = 0; n < 4; n++) {
        char text [200];
        snprintf (text, sizeof (text), "amount,%s,desc\n1,2025-01-01,x\n", time_names [n]);
        rows = s_rows (text, error);
        CHECK (rows && import_rows_count (rows) == 1 && strcmp (import_rows_get (rows, 0)->description, "x") == 0);
        import_rows_destroy (&rows);
    }
    rows = s_rows ("date,amount,description\n", error);         /* a header alone is no error */
    CHECK (rows && import_rows_count (rows) == 0);
    import_rows_destroy (&rows);
}

static void
test_rows_errors_name_the_line (void)
{
    static const struct {
        const char *text;
        const char *error;
    } cases [] = {
        { "", "line 1: the file is empty: expected a header row (date,amount,description,category)" },
        { "amount,description\n", "line 1: the header has no date column (date, occurred_at, time or timestamp)" },
        { "date,description\n", "line 1: the header has no amount column" },
        { "date,amount,time\n", "line 1: columns 1 and 3 both give the date" },
        { "date,amount\n2025-01-01,1\n\n2025-01-01,1.234\n", "line 4: amount \"1.234\" has more than two decimals" },
        { "date,amount\n2025-01-01,1e3\n", "line 2: amount \"1e3\" is not a decimal number like -12.34" },
        { "date,amount\n2025-01-01,\n", "line 2: the amount is empty" },
        { "date,amount\n,1\n", "line 2: the date is empty" },
        { "date,amount\n2025-01-01,99999999999999999999\n", "line 2: amount \"99999999999999999999\" is too large" },
        { "date,amount\n2025-01-01T10:00:00,1\n",
          "line 2: date \"2025-01-01T10:00:00\" has no UTC offset: add Z or +hh:mm, or give a bare date (midnight UTC)" },
        { "date,amount\n01/02/2025,1\n",
          "line 2: date \"01/02/2025\" is not YYYY-MM-DD or an RFC 3339 time like 2025-01-02T10:00:00+01:00" },
        { "date,amount,description\n2025-01-01,1,a,b\n",
          "line 2: 4 fields where the header has 3 (a comma inside a value needs quotes)" },
        { "date,amount,category\n2025-01-01,1,\xC3\x28\n", "line 2: the category name is not valid UTF-8" },
        { "date,amount\n\"2025-01-01,1\n", "line 2: a quoted field is not closed before the end of the file" },
    };
    for (size_t n = 0; n < sizeof (cases) / sizeof (cases [0]); n++) {
        char error [300] = "";
        import_rows_t *rows = s_rows (cases [n].text, error);
        CHECK (rows == NULL);
        CHECK_STR (error, cases [n].error);
        import_rows_destroy (&rows);
    }
}

static void
test_rows_length_limits (void)
{
    char text [1400], error [300];
    char name [102];
    memset (name, 'n', 101);
    name [101] = 0;
    snprintf (text, sizeof (text), "date,amount,category\n2025-01-01,1,%s\n", name);
    CHECK (s_rows (text, error) == NULL);
    CHECK_STR (error, "line 2: the category name is longer than 100 bytes");
    name [100] = 0;
    snprintf (text, sizeof (text), "date,amount,category\n2025-01-01,1,%s\n", name);
    import_rows_t *rows = s_rows (text, error);
    CHECK (rows != NULL);
    import_rows_destroy (&rows);

    char description [1002];
    memset (description, 'd', 1001);
    description [1001] = 0;
    snprintf (text, sizeof (text), "date,amount,desc\n2025-01-01,1,%s\n", description);
    CHECK (s_rows (text, error) == NULL);
    CHECK_STR (error, "line 2: the description is longer than 1000 bytes");
}

/*  Each row's external_id: its own column's, or a digest of time, amount,
    description and its occurrence among equal rows of the file -- so the
    same row in another file (another export of the same statement) has the
    same name, and two equal rows of one file have two. */
static void
test_rows_external_ids (void)
{
    char error [300] = "";
    import_rows_t *first = s_rows ("date,amount,description,category\n"
                                   "2025-01-02,-1.00,bus,Transport\n"
                                   "2025-01-02,-1.00,bus,\n"
                                   "2025-01-02T00:00:00Z,-1.00,bus,Other\n"
                                   "2025-01-03,-1.00,bus,\n", error);
    import_rows_t *second = s_rows ("Date,Amount,Memo\n"
                                    "2025-01-03,-1,bus\n"
                                    "2025-01-02,-1.0,bus\n", error);
    import_rows_t *own = s_rows ("date,amount,external_id\n2025-01-02,1,bank-17\n2025-01-02,1,\n", error);
    CHECK (first && second && own);
    if (!first || !second || !own) {
        fprintf (stderr, "%s\n", error);
        return;
    }
    const char *ids [4];
    for (size_t n = 0; n < 4; n++) {
        ids [n] = import_rows_get (first, n)->external_id;
        CHECK (ids [n] && strncmp (ids [n], "row-sha1:", 9) == 0 && strlen (ids [n]) == 9 + 40);
    }
    /*  Rows 0, 1 and 2 are one time, amount and description (the category
        does not count, a date is its midnight UTC): three names. */
    CHECK (strcmp (ids [0], ids [1]) && strcmp (ids [1], ids [2]) && strcmp (ids [0], ids [2]));
    CHECK_STR (import_rows_get (second, 0)->external_id, ids [3]);
    CHECK_STR (import_rows_get (second, 1)->external_id, ids [0]);
    CHECK_STR (import_rows_get (own, 0)->external_id, "bank-17");
    CHECK (strncmp (import_rows_get (own, 1)->external_id, "row-sha1:", 9) == 0);
    import_rows_destroy (&first);
    import_rows_destroy (&second);
    import_rows_destroy (&own);
}

int
main (void)
{
    TEST_RUN (test_csv_plain_records);
    TEST_RUN (test_csv_blank_lines_are_skipped_but_counted);
    TEST_RUN (test_csv_quoted_fields);
    TEST_RUN (test_csv_malformed);
    TEST_RUN (test_csv_long_fields_and_many_fields);
    TEST_RUN (test_rows_columns_by_name);
    TEST_RUN (test_rows_errors_name_the_line);
    TEST_RUN (test_rows_length_limits);
    TEST_RUN (test_rows_external_ids);
    return TEST_DONE ();
}
