/*  Integration: txn.summary through a real ledgerd -- by category, by
    period and both, each period kind, period boundaries in a non-zero
    offset, rollup over a three-level tree, filters, exact totals near
    INT64_MAX, the row cap, and bad fields. Expected rows are computed here
    from the rows the test inserted, with libc's calendar (gmtime_r,
    strftime's %G-W%V) as the independent oracle for labels. */

#include "testing.h"
#include "harness_files.h"
#include "harness_json.h"
#include "harness_wire.h"
#include "worker_harness.h"
#include "harness_fixture.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define OPS(...) "{\"v\":1,\"ops\":[" __VA_ARGS__ "]}"

/*  The data set: a three-level tree Home > Food > Groceries, and Travel,
    and rows with no category; amounts of both signs over ten weeks around
    a year's end, written in several offsets. */
enum { HOME, FOOD, GROCERIES, TRAVEL, NONE, CATEGORIES };

#define ROWS 240
typedef struct {
    int64_t us;                 /* the instant, UTC */
    int category;               /* HOME .. NONE */
    int64_t amount;
} row_t;

typedef struct {
    fixture_t *f;
    int64_t ids [CATEGORIES];   /* NONE: 0 */
    row_t rows [ROWS];
} data_t;

static int64_t s_parents [CATEGORIES] = { -1, HOME, FOOD, -1, -1 };

static void
s_format_instant (int64_t us, int offset_min, char *buf, size_t size)
{
    time_t secs = (time_t) (us / 1000000 + offset_min * 60);
    struct tm tm;
    gmtime_r (&secs, &tm);
    char clock [32];
    strftime (clock, sizeof (clock), "%Y-%m-%dT%H:%M:%S", &tm);
    int magnitude = abs (offset_min);
    snprintf (buf, size, "%s%c%02d:%02d", clock, offset_min < 0? '-': '+', magnitude / 60, magnitude % 60);
}

/*  Make the categories and ROWS rows; amounts and times from a fixed LCG. */
static void
s_load (data_t *data)
{
    json_t *reply = s_call (data->f, OPS (
        "{\"op\":\"category.create\",\"name\":\"Home\"},"
        "{\"op\":\"category.create\",\"name\":\"Food\",\"parent\":{\"ref\":0}},"
        "{\"op\":\"category.create\",\"name\":\"Groceries\",\"parent\":{\"ref\":1}},"
        "{\"op\":\"category.create\",\"name\":\"Travel\"}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    for (int c = HOME; c <= TRAVEL; c++) {
        char path [32];
        snprintf (path, sizeof (path), "results.%d.id", c);
        data->ids [c] = harness_int (reply, path);
    }
    json_decref (reply);
    uint64_t seed = 12345;
    static const int offsets [] = { 0, 60, -300, 330, -60 };
    size_t cap = ROWS * 200 + 100, size = 0;
    char *batch = malloc (cap);
    size += (size_t) snprintf (batch + size, cap - size, "{\"v\":1,\"ops\":[");
    int64_t start = INT64_C (1734739200) * 1000000;        /* 2024-12-21T00:00:00Z */
    for (int n = 0; n < ROWS; n++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        row_t *row = &data->rows [n];
        row->us = start + (int64_t) ((seed >> 20) % (70ULL * 86400)) * 1000000;
        row->category = (int) ((seed >> 8) % CATEGORIES);
        row->amount = (int64_t) ((seed >> 33) % 200001) - 100000;
        char when [64];
        s_format_instant (row->us, offsets [n % 5], when, sizeof (when));
        char category [40] = "";
        if (row->category != NONE)
            snprintf (category, sizeof (category), ",\"category\":%lld", (long long) data->ids [row->category]);
        size += (size_t) snprintf (batch + size, cap - size,
                                   "%s{\"op\":\"txn.create\",\"amount\":%lld,\"occurred_at\":\"%s\"%s}",
                                   n? ",": "", (long long) row->amount, when, category);
    }
    snprintf (batch + size, cap - size, "]}");
    reply = s_call (data->f, batch);
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);
    free (batch);
}

/*  An expected row. */
typedef struct {
    char period [24];
    int64_t category;           /* an id; 0: none; -1: not grouped by category */
    int64_t count, total, min, max;
} expect_t;

typedef struct {
    expect_t rows [ROWS * 8];
    size_t count;
} expected_t;

static void
s_label (int64_t us, int offset_min, const char *period, char *buf)
{
    time_t secs = (time_t) (us / 1000000 + offset_min * 60);
    struct tm tm;
    gmtime_r (&secs, &tm);
    if (strcmp (period, "day") == 0)
        strftime (buf, 24, "%Y-%m-%d", &tm);
    else
    if (strcmp (period, "week") == 0)
        strftime (buf, 24, "%G-W%V", &tm);
    else
    if (strcmp (period, "month") == 0)
        strftime (buf, 24, "%Y-%m", &tm);
    else
        strftime (buf, 24, "%Y", &tm);
}

static void
s_expect_add (expected_t *out, const char *period, int64_t category, int64_t amount)
{
    expect_t *row = NULL;
    for (size_t n = 0; n < out->count && !row; n++)
        if (strcmp (out->rows [n].period, period) == 0 && out->rows [n].category == category)
            row = &out->rows [n];
    if (!row) {
        row = &out->rows [out->count++];
        *row = (expect_t) { .category = category, .min = amount, .max = amount };
        snprintf (row->period, sizeof (row->period), "%s", period);
    }
    row->count++;
    row->total += amount;
    if (amount < row->min)
        row->min = amount;
    if (amount > row->max)
        row->max = amount;
}

static int
s_expect_order (const void *a, const void *b)
{
    const expect_t *x = a, *y = b;
    int by_period = strcmp (x->period, y->period);
    if (by_period)
        return by_period;
    return (x->category > y->category) - (x->category < y->category);
}

/*  What a summary of data should say. period NULL: not by period; by
    category unless !by_category. selected: the categories the filter
    takes (NULL: all); rollup adds each row to its selected ancestors. */
typedef struct {
    const char *period;
    bool by_category;
    int offset_min;
    bool rollup;
    const bool *selected;       /* [CATEGORIES], or NULL */
    int64_t from_us, to_us;
    int64_t min_amount, max_amount;
} shape_t;

static void
s_expect (const data_t *data, const shape_t *shape, expected_t *out)
{
    out->count = 0;
    for (int n = 0; n < ROWS; n++) {
        const row_t *row = &data->rows [n];
        if (row->us < shape->from_us || row->us >= shape->to_us
        ||  row->amount < shape->min_amount || row->amount > shape->max_amount
        ||  (shape->selected && !shape->selected [row->category]))
            continue;
        char period [24] = "";
        if (shape->period)
            s_label (row->us, shape->offset_min, shape->period, period);
        if (!shape->by_category) {
            s_expect_add (out, period, -1, row->amount);
            continue;
        }
        s_expect_add (out, period, data->ids [row->category], row->amount);
        for (int64_t up = s_parents [row->category]; shape->rollup && up >= 0; up = s_parents [up])
            if (!shape->selected || shape->selected [up])
                s_expect_add (out, period, data->ids [up], row->amount);
    }
    qsort (out->rows, out->count, sizeof (expect_t), s_expect_order);
}

/*  Run the summary op (its JSON) and check its rows against the shape's. */
static void
s_check_summary (const data_t *data, const char *op, const shape_t *shape)
{
    static expected_t expected;
    s_expect (data, shape, &expected);
    char text [600];
    snprintf (text, sizeof (text), OPS ("%s"), op);
    json_t *reply = s_call (data->f, text);
    if (harness_bool (reply, "ok") != 1)
        fprintf (stderr, "    %s: %s\n", op, harness_str (reply, "error.message"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_t *rows = harness_get (reply, "results.0.rows");
    CHECK_INT (json_array_size (rows), expected.count);
    CHECK (expected.count > 0);
    for (size_t n = 0; n < expected.count && n < json_array_size (rows); n++) {
        json_t *row = json_array_get (rows, n);
        const expect_t *want = &expected.rows [n];
        if (shape->by_category) {
            json_t *category = json_object_get (row, "category_id");
            CHECK (category != NULL);
            CHECK_INT (json_is_null (category)? 0: json_integer_value (category), want->category);
        }
        else
            CHECK (json_object_get (row, "category_id") == NULL);
        if (shape->period)
            CHECK_STR (harness_str (row, "period"), want->period);
        else
            CHECK (json_object_get (row, "period") == NULL);
        CHECK_INT (harness_int (row, "count"), want->count);
        CHECK_INT (harness_int (row, "total"), want->total);
        CHECK_INT (harness_int (row, "min"), want->min);
        CHECK_INT (harness_int (row, "max"), want->max);
        CHECK_INT (json_object_size (row), 4 + (shape->by_category? 1: 0) + (shape->period? 1: 0));
    }
    json_decref (reply);
}

static shape_t
s_shape (const char *period, bool by_category)
{
    return (shape_t) { .period = period, .by_category = by_category, .from_us = INT64_MIN, .to_us = INT64_MAX,
                       .min_amount = INT64_MIN, .max_amount = INT64_MAX };
}

static void
s_check_groupings (data_t *data)
{
    shape_t shape = s_shape (NULL, true);
    s_check_summary (data, "{\"op\":\"txn.summary\"}", &shape);
    s_check_summary (data, "{\"op\":\"txn.summary\",\"by\":\"category\"}", &shape);
    shape = s_shape ("month", false);
    s_check_summary (data, "{\"op\":\"txn.summary\",\"by\":\"period\"}", &shape);
    shape = s_shape ("month", true);
    s_check_summary (data, "{\"op\":\"txn.summary\",\"by\":\"both\",\"period\":\"month\"}", &shape);
    static const char *periods [] = { "day", "week", "month", "year" };
    static const struct { const char *text; int minutes; } offsets [] = {
        { "Z", 0 }, { "+01:00", 60 }, { "-05:00", -300 }, { "+05:30", 330 }
    };
    for (size_t p = 0; p < 4; p++)
        for (size_t o = 0; o < 4; o++) {
            char op [200];
            snprintf (op, sizeof (op), "{\"op\":\"txn.summary\",\"by\":\"both\",\"period\":\"%s\",\"offset\":\"%s\"}",
                      periods [p], offsets [o].text);
            shape = s_shape (periods [p], true);
            shape.offset_min = offsets [o].minutes;
            s_check_summary (data, op, &shape);
        }
}

static void
test_groupings_and_periods (fixture_t *f)
{
    static data_t data;
    memset (&data, 0, sizeof (data));
    data.f = f;
    s_load (&data);
    s_check_groupings (&data);
}

/*  Rollup over Home > Food > Groceries: each row counts in its category
    and every ancestor; with a filter, only selected categories get rows. */
static void
test_rollup (fixture_t *f)
{
    static data_t data;
    memset (&data, 0, sizeof (data));
    data.f = f;
    s_load (&data);
    shape_t shape = s_shape (NULL, true);
    shape.rollup = true;
    s_check_summary (&data, "{\"op\":\"txn.summary\",\"rollup\":true}", &shape);
    shape = s_shape ("month", true);
    shape.rollup = true;
    shape.offset_min = 60;
    s_check_summary (&data, "{\"op\":\"txn.summary\",\"by\":\"both\",\"offset\":\"+01:00\",\"rollup\":true}", &shape);
    /*  Food and below: Home is not selected, so it has no row. */
    bool food_tree [CATEGORIES] = { [FOOD] = true, [GROCERIES] = true };
    shape = s_shape (NULL, true);
    shape.rollup = true;
    shape.selected = food_tree;
    s_check_summary (&data, "{\"op\":\"txn.summary\",\"categories\":[\"Food\"],\"include_subcategories\":true,"
                            "\"rollup\":true}", &shape);
    /*  Home and Groceries without subcategories: Home's row holds the
        Groceries rows below it (selected), not Food's own (not selected). */
    bool two [CATEGORIES] = { [HOME] = true, [GROCERIES] = true };
    shape.selected = two;
    s_check_summary (&data, "{\"op\":\"txn.summary\",\"categories\":[\"Home\",\"Groceries\"],\"rollup\":true}", &shape);
    /*  The same without rollup: each category's own rows. */
    shape.rollup = false;
    s_check_summary (&data, "{\"op\":\"txn.summary\",\"categories\":[\"Home\",\"Groceries\"]}", &shape);
    /*  A category with nothing in its subtree has no row: Travel's rows
        are filtered out by amount here only if none pass; check plainly
        that an empty selection gives no rows. */
    json_t *reply = s_call (f, OPS ("{\"op\":\"category.create\",\"name\":\"Empty\",\"parent\":\"Home\"},"
                                    "{\"op\":\"txn.summary\",\"categories\":[\"Empty\"],\"rollup\":true}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (json_array_size (harness_get (reply, "results.1.rows")), 0);
    json_decref (reply);
}

static void
test_filters (fixture_t *f)
{
    static data_t data;
    memset (&data, 0, sizeof (data));
    data.f = f;
    s_load (&data);
    shape_t shape = s_shape ("week", true);
    shape.from_us = INT64_C (1735689600) * 1000000;        /* 2025-01-01 */
    shape.to_us = INT64_C (1737504000) * 1000000;          /* 2025-01-22 */
    shape.min_amount = -50000;
    shape.max_amount = 75000;
    s_check_summary (&data, "{\"op\":\"txn.summary\",\"by\":\"both\",\"period\":\"week\",\"from\":\"2025-01-01\","
                            "\"to\":\"2025-01-22T00:00:00Z\",\"min_amount\":\"-500.00\",\"max_amount\":75000}", &shape);
    bool travel [CATEGORIES] = { [TRAVEL] = true };
    shape = s_shape ("year", false);
    shape.selected = travel;
    s_check_summary (&data, "{\"op\":\"txn.summary\",\"by\":\"period\",\"period\":\"year\",\"categories\":[\"Travel\"]}",
                     &shape);
}

/*  One row's period label, by period kind and offset. */
static const char *
s_period_of (fixture_t *f, const char *at, const char *period, const char *offset)
{
    static char label [32];
    char text [400];
    snprintf (text, sizeof (text), OPS ("{\"op\":\"txn.summary\",\"by\":\"period\",\"period\":\"%s\",\"offset\":\"%s\","
                                        "\"from\":\"%s\",\"to\":\"%s\"}"), period, offset, at, "9999-12-31");
    json_t *reply = s_call (f, text);
    const char *got = harness_str (reply, "results.0.rows.0.period");
    snprintf (label, sizeof (label), "%s", got? got: "(none)");
    CHECK_INT (json_array_size (harness_get (reply, "results.0.rows")), 1);
    json_decref (reply);
    return label;
}

/*  Boundaries in the wall clock of the offset, not UTC's. Each case
    inserts one row alone in a fresh range of time. */
static void
test_boundaries_in_an_offset (fixture_t *f)
{
    static const struct {
        const char *at;         /* the row, and the bound `from` */
        const char *period, *offset, *label;
    } cases [] = {
        { "2025-01-31T23:30:00Z", "month", "+01:00", "2025-02" },
        { "2025-01-31T23:30:00Z", "month", "Z", "2025-01" },
        { "2025-01-31T23:30:00Z", "day", "+01:00", "2025-02-01" },
        { "2025-01-31T23:30:00Z", "day", "-01:00", "2025-01-31" },
        { "2025-02-01T00:30:00Z", "month", "-01:00", "2025-01" },
        { "2025-01-05T23:30:00Z", "week", "+01:00", "2025-W02" },      /* Sunday UTC, Monday at +01 */
        { "2025-01-05T23:30:00Z", "week", "Z", "2025-W01" },
        { "2024-12-30T00:30:00Z", "week", "-01:00", "2024-W52" },      /* Sunday 29th at -01 */
        { "2024-12-31T23:30:00Z", "year", "+01:00", "2025" },
        { "2024-12-31T23:30:00Z", "year", "Z", "2024" },
        { "2024-12-31T23:30:00Z", "week", "Z", "2025-W01" },           /* ISO week-year */
        { "2021-01-03T12:00:00Z", "week", "Z", "2020-W53" },
        { "2026-12-31T23:59:00+05:30", "week", "+05:30", "2026-W53" },
    };
    for (size_t n = 0; n < sizeof (cases) / sizeof (cases [0]); n++) {
        /*  Each row alone: delete what the case before left. */
        char text [300];
        snprintf (text, sizeof (text), OPS ("{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"%s\"}"), cases [n].at);
        json_t *reply = s_call (f, text);
        CHECK_INT (harness_bool (reply, "ok"), 1);
        long long id = harness_int (reply, "results.0.id");
        json_decref (reply);
        const char *label = s_period_of (f, cases [n].at, cases [n].period, cases [n].offset);
        if (strcmp (label, cases [n].label))
            fprintf (stderr, "    %s %s in %s\n", cases [n].at, cases [n].period, cases [n].offset);
        CHECK_STR (label, cases [n].label);
        snprintf (text, sizeof (text), OPS ("{\"op\":\"txn.delete\",\"id\":%lld}"), id);
        json_decref (s_call (f, text));
    }
}

/*  Totals are exact int64: INT64_MAX is reached exactly, and one more
    minor unit is invalid / TOTAL_OVERFLOW, never a wrapped or float total. */
static void
test_totals_exact_and_overflow (fixture_t *f)
{
    json_t *reply = s_call (f, OPS (
        "{\"op\":\"category.create\",\"name\":\"Big\"},"
        "{\"op\":\"category.create\",\"name\":\"Small\",\"parent\":{\"ref\":0}},"
        "{\"op\":\"txn.create\",\"amount\":9223372036854775000,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":{\"ref\":0}},"
        "{\"op\":\"txn.create\",\"amount\":807,\"occurred_at\":\"2025-01-02T00:00:00Z\",\"category\":{\"ref\":1}},"
        "{\"op\":\"txn.create\",\"amount\":-9223372036854775000,\"occurred_at\":\"2025-02-01T00:00:00Z\",\"category\":{\"ref\":0}},"
        "{\"op\":\"txn.create\",\"amount\":-808,\"occurred_at\":\"2025-02-02T00:00:00Z\",\"category\":{\"ref\":0}}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);
    /*  By month and category, each total fits; rolled up, January's Big
        is exactly INT64_MAX. */
    reply = s_call (f, OPS ("{\"op\":\"txn.summary\",\"by\":\"both\",\"rollup\":true}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (harness_int (reply, "results.0.rows.0.total"), INT64_MAX);
    CHECK_INT (harness_int (reply, "results.0.rows.0.count"), 2);
    CHECK_INT (harness_int (reply, "results.0.rows.2.total"), INT64_MIN);
    json_decref (reply);
    /*  One more minor unit in January: its total is INT64_MAX + 1. */
    json_decref (s_call (f, OPS ("{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-03T00:00:00Z\","
                                 "\"category\":\"Small\"}")));
    static const char *overflowing [] = {
        OPS ("{\"op\":\"txn.summary\",\"by\":\"period\"}"),
        OPS ("{\"op\":\"txn.summary\",\"by\":\"both\",\"rollup\":true,\"from\":\"2025-01-01\"}"),
    };
    for (size_t n = 0; n < 2; n++) {
        reply = s_call (f, overflowing [n]);
        CHECK_INT (harness_bool (reply, "ok"), 0);
        CHECK_STR (harness_str (reply, "error.class"), "invalid");
        CHECK_STR (harness_str (reply, "error.code"), "TOTAL_OVERFLOW");
        CHECK_INT (harness_int (reply, "error.op"), 0);
        json_decref (reply);
    }
    /*  The year's total passes INT64_MAX on the way and comes back: it is
        exact whatever order the rows are added in. */
    reply = s_call (f, OPS ("{\"op\":\"txn.summary\",\"by\":\"period\",\"period\":\"year\"}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (harness_int (reply, "results.0.rows.0.total"), 0);
    CHECK_INT (harness_int (reply, "results.0.rows.0.count"), 5);
    json_decref (reply);
    /*  Without rollup, Big's own rows and Small's fit. */
    reply = s_call (f, OPS ("{\"op\":\"txn.summary\"}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (harness_int (reply, "results.0.rows.0.total"), -808);
    CHECK_INT (harness_int (reply, "results.0.rows.1.total"), 808);
    json_decref (reply);
}

/*  More than PROTO_MAX_LIMIT rows fail as invalid / TOO_MANY_ROWS; exactly
    that many pass. */
static void
test_row_cap (fixture_t *f)
{
    enum { DAYS = 10001 };
    size_t cap = 1100 * 100, size = 0;
    char *batch = malloc (cap);
    int64_t day0 = INT64_C (946684800);     /* 2000-01-01 */
    for (int n = 0; n < DAYS; n++) {
        if (n % 1000 == 0)
            size = (size_t) snprintf (batch, cap, "{\"v\":1,\"ops\":[");
        time_t secs = (time_t) (day0 + (int64_t) n * 86400);
        struct tm tm;
        gmtime_r (&secs, &tm);
        char when [32];
        strftime (when, sizeof (when), "%Y-%m-%dT12:00:00Z", &tm);
        size += (size_t) snprintf (batch + size, cap - size, "%s{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"%s\"}",
                                   n % 1000? ",": "", when);
        if (n % 1000 == 999 || n == DAYS - 1) {
            snprintf (batch + size, cap - size, "]}");
            json_t *reply = s_call (f, batch);
            CHECK_INT (harness_bool (reply, "ok"), 1);
            json_decref (reply);
        }
    }
    free (batch);
    json_t *reply = s_call (f, OPS ("{\"op\":\"txn.summary\",\"by\":\"period\",\"period\":\"day\"}"));
    CHECK_INT (harness_bool (reply, "ok"), 0);
    CHECK_STR (harness_str (reply, "error.class"), "invalid");
    CHECK_STR (harness_str (reply, "error.code"), "TOO_MANY_ROWS");
    json_decref (reply);
    /*  2000-01-01 + 10000 days = 2027-05-19: the last day left out. */
    reply = s_call (f, OPS ("{\"op\":\"txn.summary\",\"by\":\"period\",\"period\":\"day\",\"to\":\"2027-05-19\"}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (json_array_size (harness_get (reply, "results.0.rows")), 10000);
    CHECK_STR (harness_str (reply, "results.0.rows.9999.period"), "2027-05-18");
    json_decref (reply);
    reply = s_call (f, OPS ("{\"op\":\"txn.summary\",\"by\":\"period\",\"period\":\"month\"}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (harness_int (reply, "results.0.rows.0.count"), 31);
    json_decref (reply);
}

static void
s_check_invalid (fixture_t *f, const char *op, const char *code, const char *field)
{
    char text [300];
    snprintf (text, sizeof (text), OPS ("%s"), op);
    json_t *reply = s_call (f, text);
    CHECK_INT (harness_bool (reply, "ok"), 0);
    CHECK_STR (harness_str (reply, "error.class"), "invalid");
    CHECK_STR (harness_str (reply, "error.code"), code);
    CHECK_STR (harness_str (reply, "error.field"), field);
    if (TEST_FAILING ())
        fprintf (stderr, "    %s\n", op);
    json_decref (reply);
}

static void
test_bad_fields (fixture_t *f)
{
    s_check_invalid (f, "{\"op\":\"txn.summary\",\"by\":\"weekly\"}", "BAD_VALUE", "by");
    s_check_invalid (f, "{\"op\":\"txn.summary\",\"by\":1}", "WRONG_TYPE", "by");
    s_check_invalid (f, "{\"op\":\"txn.summary\",\"by\":\"both\",\"period\":\"fortnight\"}", "BAD_VALUE", "period");
    s_check_invalid (f, "{\"op\":\"txn.summary\",\"by\":\"both\",\"offset\":\"+1:00\"}", "BAD_VALUE", "offset");
    s_check_invalid (f, "{\"op\":\"txn.summary\",\"by\":\"both\",\"offset\":\"+24:00\"}", "BAD_VALUE", "offset");
    s_check_invalid (f, "{\"op\":\"txn.summary\",\"by\":\"both\",\"offset\":\"Europe/Paris\"}", "BAD_VALUE", "offset");
    s_check_invalid (f, "{\"op\":\"txn.summary\",\"period\":\"month\"}", "CONFLICTING_FIELDS", "period");
    s_check_invalid (f, "{\"op\":\"txn.summary\",\"by\":\"category\",\"offset\":\"Z\"}", "CONFLICTING_FIELDS", "offset");
    s_check_invalid (f, "{\"op\":\"txn.summary\",\"by\":\"period\",\"rollup\":true}", "CONFLICTING_FIELDS", "rollup");
    s_check_invalid (f, "{\"op\":\"txn.summary\",\"limit\":5}", "UNKNOWN_FIELD", "limit");
    /*  rollup false with by period changes nothing and is let through. */
    json_t *reply = s_call (f, OPS ("{\"op\":\"txn.summary\",\"by\":\"period\",\"rollup\":false}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (json_array_size (harness_get (reply, "results.0.rows")), 0);
    json_decref (reply);
}

/*  On a one-node cluster: the same summaries on the dqlite backend. */
static void
test_summary_in_a_cluster (void)
{
    char dir [300], data_dir [320];
    CHECK_INT (harness_make_dir (dir, sizeof (dir), "ledgerd-summary-cluster"), 0);
    snprintf (data_dir, sizeof (data_dir), "%s/raft", dir);
    char *endpoint = harness_free_endpoint ();
    char *raft = harness_free_endpoint ();
    CHECK (endpoint && raft);
    fixture_t f = { NULL, NULL };
    if (endpoint && raft)
        f.worker = harness_start_at (dir, endpoint, "--cluster-id", "1", "--cluster-bind", raft + strlen ("tcp://"),
                                     "--data-dir", data_dir, "--sync", "normal", NULL);
    CHECK (f.worker != NULL);
    if (f.worker) {
        f.req = harness_req (f.worker);
        for (int tries = 0; tries < 100; tries++) {
            json_t *reply = s_call (&f, OPS ("{\"op\":\"sys.ping\"},{\"op\":\"txn.summary\"}"));
            const char *klass = harness_str (reply, "error.class");
            bool waiting = klass && strcmp (klass, "unavailable") == 0 && tries < 99;
            json_decref (reply);
            if (!waiting)
                break;
            usleep (100000);
        }
        static data_t data;
        memset (&data, 0, sizeof (data));
        data.f = &f;
        s_load (&data);
        s_check_groupings (&data);
        shape_t shape = s_shape ("week", true);
        shape.rollup = true;
        shape.offset_min = -300;
        s_check_summary (&data, "{\"op\":\"txn.summary\",\"by\":\"both\",\"period\":\"week\",\"offset\":\"-05:00\","
                                "\"rollup\":true}", &shape);
        zsock_destroy (&f.req);
        if (TEST_FAILING ())
            harness_dump_log (f.worker);
        CHECK_INT (harness_stop (&f.worker, false), 0);
    }
    free (endpoint);
    free (raft);
    harness_remove_dir (dir);
}

int
main (int argc, char *argv [])
{
    if (argc == 2 && strcmp (argv [1], "cluster") == 0) {
        TEST_RUN (test_summary_in_a_cluster);
        return TEST_DONE ();
    }
    TEST_RUN_F (test_groupings_and_periods, s_setup, s_teardown);
    TEST_RUN_F (test_rollup, s_setup, s_teardown);
    TEST_RUN_F (test_filters, s_setup, s_teardown);
    TEST_RUN_F (test_boundaries_in_an_offset, s_setup, s_teardown);
    TEST_RUN_F (test_totals_exact_and_overflow, s_setup, s_teardown);
    TEST_RUN_F (test_row_cap, s_setup, s_teardown);
    TEST_RUN_F (test_bad_fields, s_setup, s_teardown);
    return TEST_DONE ();
}
