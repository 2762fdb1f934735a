/*  test_time -- proto_time: RFC 3339 parsing and formatting, msgpack timestamps.

    Expected instants were computed independently (Python's datetime), not
    with the code under test. */

#include "proto_time.h"
#include "testing.h"

#include <limits.h>
#include <stdint.h>

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z. */
#define FIRST_US INT64_C (-62135596800000000)
#define LAST_US  INT64_C (253402300799999999)
#define US_PER_DAY INT64_C (86400000000)

static int
s_parse (const char *text, int64_t *us_p, int *offset_min_p)
{
    return proto_time_parse (text, strlen (text), us_p, offset_min_p);
}

/*  A table row that fails says which row: CHECK only knows the line. */
static void
s_name_row_if_failed (int failed_before, const char *text)
{
    if (t_checks_failed != failed_before)
        fprintf (stderr, "    ... for \"%s\"\n", text);
}

static void
test_parse_valid (void)
{
    static const struct {
        const char *text;
        int64_t us;
        int offset_min;
    } rows [] = {
        { "2025-01-02T10:00:00+01:00",        INT64_C (1735808400000000),   60 },
        { "2025-01-02T09:00:00Z",             INT64_C (1735808400000000),    0 },
        { "2025-06-15T08:30:00-05:30",        INT64_C (1749996000000000), -330 },
        { "1970-01-01T00:00:00Z",             0,                             0 },
        { "1969-12-31T23:59:59.999999Z",      -1,                            0 },
        { "2000-02-29T12:34:56.789012Z",      INT64_C (951827696789012),     0 },
        { "2025-03-30T02:30:00.5Z",           INT64_C (1743301800500000),    0 },
        { "2025-03-30T02:30:00.50Z",          INT64_C (1743301800500000),    0 },
        { "2025-03-30T02:30:00.000001Z",      INT64_C (1743301800000001),    0 },
        { "1900-03-01T00:00:00Z",             INT64_C (-2203891200000000),   0 },
        { "2023-12-31T23:59:59+23:59",        INT64_C (1703980859000000), 1439 },
        { "1970-01-01T00:00:00-23:59",        INT64_C (86340000000),     -1439 },
        { "2038-01-19T03:14:08Z",             INT64_C (2147483648000000),    0 },
    };
    for (size_t i = 0; i < sizeof (rows) / sizeof (rows [0]); i++) {
        int before = t_checks_failed;
        int64_t us = 42;
        int offset_min = 42;
        CHECK_INT (s_parse (rows [i].text, &us, &offset_min), PROTO_TIME_OK);
        CHECK_INT (us, rows [i].us);
        CHECK_INT (offset_min, rows [i].offset_min);
        s_name_row_if_failed (before, rows [i].text);
    }
}

static void
test_parse_case_and_utc_spellings (void)
{
    int64_t us;
    int offset_min;
    const char *spellings [] = {
        "2025-01-02T09:00:00Z", "2025-01-02t09:00:00Z", "2025-01-02T09:00:00z",
        "2025-01-02t09:00:00z", "2025-01-02T09:00:00+00:00", "2025-01-02T09:00:00-00:00"
    };
    for (size_t i = 0; i < sizeof (spellings) / sizeof (spellings [0]); i++) {
        int before = t_checks_failed;
        us = 0;
        offset_min = 42;
        CHECK_INT (s_parse (spellings [i], &us, &offset_min), PROTO_TIME_OK);
        CHECK_INT (us, INT64_C (1735808400000000));
        CHECK_INT (offset_min, 0);
        s_name_row_if_failed (before, spellings [i]);
    }
}

static void
test_parse_leap_years (void)
{
    int64_t us;
    int offset_min;
    CHECK_INT (s_parse ("2024-02-29T00:00:00Z", &us, &offset_min), PROTO_TIME_OK);
    CHECK_INT (us, INT64_C (1709164800000000));
    CHECK_INT (s_parse ("2000-02-29T00:00:00Z", &us, &offset_min), PROTO_TIME_OK);
    CHECK_INT (us, INT64_C (951782400000000));
    CHECK_INT (s_parse ("1600-02-29T00:00:00Z", &us, &offset_min), PROTO_TIME_OK);
    CHECK_INT (us, INT64_C (-11670998400000000));
    CHECK_INT (s_parse ("2023-02-29T00:00:00Z", &us, &offset_min), PROTO_TIME_BAD);
    CHECK_INT (s_parse ("1900-02-29T00:00:00Z", &us, &offset_min), PROTO_TIME_BAD);
    CHECK_INT (s_parse ("2100-02-29T00:00:00Z", &us, &offset_min), PROTO_TIME_BAD);
    CHECK_INT (s_parse ("2024-02-30T00:00:00Z", &us, &offset_min), PROTO_TIME_BAD);
    CHECK_INT (s_parse ("2023-02-28T23:59:59Z", &us, &offset_min), PROTO_TIME_OK);
}

static void
test_parse_boundaries (void)
{
    int64_t us;
    int offset_min;
    CHECK_INT (s_parse ("0001-01-01T00:00:00Z", &us, &offset_min), PROTO_TIME_OK);
    CHECK_INT (us, FIRST_US);
    CHECK_INT (s_parse ("9999-12-31T23:59:59.999999Z", &us, &offset_min), PROTO_TIME_OK);
    CHECK_INT (us, LAST_US);
    /* The local time is in range though the instant is not: accepted. */
    CHECK_INT (s_parse ("0001-01-01T00:00:00+01:00", &us, &offset_min), PROTO_TIME_OK);
    CHECK_INT (us, INT64_C (-62135600400000000));
    CHECK_INT (offset_min, 60);
    CHECK_INT (s_parse ("9999-12-31T23:59:59.999999-23:59", &us, &offset_min), PROTO_TIME_OK);
    CHECK_INT (us, INT64_C (253402387139999999));
    CHECK_INT (offset_min, -1439);
    CHECK_INT (s_parse ("0000-12-31T23:59:59Z", &us, &offset_min), PROTO_TIME_BAD);
}

static void
test_parse_bad (void)
{
    static const char *rows [] = {
        "",
        "2025",
        "2025-01-02",
        "2025-01-02T",
        "2025-01-02T10:00",
        "2025-01-02T10:00Z",
        "2025-01-02 10:00:00Z",             /* space instead of T */
        "2025-01-02X10:00:00Z",
        "2025-1-02T10:00:00Z",              /* missing digits */
        "2025-01-2T10:00:00Z",
        "2025-01-02T1:00:00Z",
        "2025-01-02T10:0:00Z",
        "2025-01-02T10:00:0Z",
        "25-01-02T10:00:00Z",
        "+2025-01-02T10:00:00Z",
        "20250102T100000Z",
        "2025/01/02T10:00:00Z",
        "2025-01-02T10-00-00Z",
        "2025-00-02T10:00:00Z",             /* month */
        "2025-13-02T10:00:00Z",
        "2025-01-00T10:00:00Z",             /* day */
        "2025-01-32T10:00:00Z",
        "2025-04-31T10:00:00Z",
        "2025-06-31T10:00:00Z",
        "2025-09-31T10:00:00Z",
        "2025-11-31T10:00:00Z",
        "0000-01-01T00:00:00Z",             /* year */
        "2025-01-02T24:00:00Z",             /* hour */
        "2025-01-02T10:60:00Z",             /* minute */
        "2025-01-02T10:00:60Z",             /* leap second */
        "2025-01-02T10:00:61Z",
        "2025-01-02T10:00:00.Z",            /* fraction */
        "2025-01-02T10:00:00.",
        "2025-01-02T10:00:00.1234567Z",
        "2025-01-02T10:00:00.123456789Z",
        "2025-01-02T10:00:00,5Z",
        "2025-01-02T10:00:00.5.5Z",
        "2025-01-02T10:00:00+",             /* offset */
        "2025-01-02T10:00:00-",
        "2025-01-02T10:00:00+01",
        "2025-01-02T10:00:00+0100",
        "2025-01-02T10:00:00+1:00",
        "2025-01-02T10:00:00+01:0",
        "2025-01-02T10:00:00+01:000",
        "2025-01-02T10:00:00+24:00",
        "2025-01-02T10:00:00+01:60",
        "2025-01-02T10:00:00-24:00",
        "2025-01-02T10:00:00UTC",
        "2025-01-02T10:00:00ZZ",
        "2025-01-02T10:00:00Z ",            /* trailing bytes */
        "2025-01-02T10:00:00+01:00 ",
        "2025-01-02T10:00:00+01:00Z",
        " 2025-01-02T10:00:00Z",
        "2025-01-02T10:00:00 ",
        "2025-01-02T10:00:00.5 ",
        "\xef\xbc\x92\xef\xbc\x90\xef\xbc\x92\xef\xbc\x95-01-02T10:00:00Z",
    };
    for (size_t i = 0; i < sizeof (rows) / sizeof (rows [0]); i++) {
        int before = t_checks_failed;
        int64_t us = 42;
        int offset_min = 42;
        CHECK_INT (s_parse (rows [i], &us, &offset_min), PROTO_TIME_BAD);
        CHECK_INT (us, 42);
        CHECK_INT (offset_min, 42);
        s_name_row_if_failed (before, rows [i]);
    }
}

static void
test_parse_naive (void)
{
    int64_t us = 42;
    int offset_min = 42;
    CHECK_INT (s_parse ("2025-01-02T10:00:00", &us, &offset_min), PROTO_TIME_NAIVE);
    CHECK_INT (s_parse ("2025-01-02t10:00:00", &us, &offset_min), PROTO_TIME_NAIVE);
    CHECK_INT (s_parse ("2025-01-02T10:00:00.5", &us, &offset_min), PROTO_TIME_NAIVE);
    CHECK_INT (s_parse ("2025-01-02T10:00:00.123456", &us, &offset_min), PROTO_TIME_NAIVE);
    CHECK_INT (us, 42);
    CHECK_INT (offset_min, 42);
    /* Naive only when otherwise valid: a wrong field is still BAD. */
    CHECK_INT (s_parse ("2025-02-30T10:00:00", &us, &offset_min), PROTO_TIME_BAD);
    CHECK_INT (s_parse ("2025-01-02T10:00:60", &us, &offset_min), PROTO_TIME_BAD);
    CHECK_INT (s_parse ("2025-01-02T10:00:00.1234567", &us, &offset_min), PROTO_TIME_BAD);
}

static void
test_parse_reads_exactly_len (void)
{
    int64_t us;
    int offset_min;
    /* No NUL after the last byte: ASan sees any read past it. */
    char exact [20];
    memcpy (exact, "2025-01-02T09:00:00Z", sizeof (exact));
    CHECK_INT (proto_time_parse (exact, sizeof (exact), &us, &offset_min), PROTO_TIME_OK);
    CHECK_INT (us, INT64_C (1735808400000000));

    const char *longer = "2025-01-02T10:00:00+01:00trailing";
    CHECK_INT (proto_time_parse (longer, 25, &us, &offset_min), PROTO_TIME_OK);
    CHECK_INT (us, INT64_C (1735808400000000));
    CHECK_INT (offset_min, 60);
    CHECK_INT (proto_time_parse (longer, 24, &us, &offset_min), PROTO_TIME_BAD);
    CHECK_INT (proto_time_parse (longer, 19, &us, &offset_min), PROTO_TIME_NAIVE);
    CHECK_INT (proto_time_parse (longer, 26, &us, &offset_min), PROTO_TIME_BAD);
    CHECK_INT (proto_time_parse (NULL, 0, &us, &offset_min), PROTO_TIME_BAD);

    char fraction [26];
    memcpy (fraction, "2025-01-02T09:00:00.123456", sizeof (fraction));
    CHECK_INT (proto_time_parse (fraction, sizeof (fraction), &us, &offset_min), PROTO_TIME_NAIVE);
    char sign [20];
    memcpy (sign, "2025-01-02T09:00:00+", sizeof (sign));
    CHECK_INT (proto_time_parse (sign, sizeof (sign), &us, &offset_min), PROTO_TIME_BAD);
}

static void
test_parse_date (void)
{
    int64_t us = 42;
    CHECK_INT (proto_time_parse_date ("2025-01-02", 10, &us), PROTO_TIME_OK);
    CHECK_INT (us, INT64_C (1735776000000000));
    CHECK_INT (proto_time_parse_date ("1970-01-01", 10, &us), PROTO_TIME_OK);
    CHECK_INT (us, 0);
    CHECK_INT (proto_time_parse_date ("1969-12-31", 10, &us), PROTO_TIME_OK);
    CHECK_INT (us, -US_PER_DAY);
    CHECK_INT (proto_time_parse_date ("0001-01-01", 10, &us), PROTO_TIME_OK);
    CHECK_INT (us, FIRST_US);
    CHECK_INT (proto_time_parse_date ("9999-12-31", 10, &us), PROTO_TIME_OK);
    CHECK_INT (us, LAST_US + 1 - US_PER_DAY);
    CHECK_INT (proto_time_parse_date ("2024-02-29", 10, &us), PROTO_TIME_OK);
    CHECK_INT (us, INT64_C (1709164800000000));
    CHECK_INT (proto_time_parse_date ("2000-02-29", 10, &us), PROTO_TIME_OK);
    CHECK_INT (us, INT64_C (951782400000000));

    static const char *bad [] = {
        "2023-02-29", "1900-02-29", "0000-01-01", "2025-00-01", "2025-13-01",
        "2025-01-00", "2025-01-32", "2025-04-31", "2025-1-01x", "2025/01/01",
        "20250101xx", "2025-01-0a", " 2025-01-0",
    };
    for (size_t i = 0; i < sizeof (bad) / sizeof (bad [0]); i++) {
        int before = t_checks_failed;
        us = 42;
        CHECK_INT (proto_time_parse_date (bad [i], strlen (bad [i]), &us), PROTO_TIME_BAD);
        CHECK_INT (us, 42);
        s_name_row_if_failed (before, bad [i]);
    }
    CHECK_INT (proto_time_parse_date ("2025-01-02T00:00:00Z", 20, &us), PROTO_TIME_BAD);
    CHECK_INT (proto_time_parse_date ("2025-01-02 ", 11, &us), PROTO_TIME_BAD);
    CHECK_INT (proto_time_parse_date ("2025-01-02", 9, &us), PROTO_TIME_BAD);
    CHECK_INT (proto_time_parse_date ("", 0, &us), PROTO_TIME_BAD);
    char exact [10];
    memcpy (exact, "2025-01-02", sizeof (exact));
    CHECK_INT (proto_time_parse_date (exact, sizeof (exact), &us), PROTO_TIME_OK);
    CHECK_INT (us, INT64_C (1735776000000000));
}

/*  Walk every day of 0001..9999 with a calendar of the test's own and check
    each date parses to one day after the one before and formats back. */
static void
test_every_day (void)
{
    static const int month_days [12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int64_t expected = FIRST_US;
    int failures = 0;
    for (int year = 1; year <= 9999 && failures < 5; year++) {
        int leap = year % 400 == 0 || (year % 100 != 0 && year % 4 == 0);
        for (int month = 1; month <= 12; month++) {
            int days = month_days [month - 1] + (month == 2 && leap);
            for (int day = 1; day <= days; day++) {
                char date [32], text [PROTO_TIME_MAX];
                snprintf (date, sizeof (date), "%04d-%02d-%02d", year, month, day);
                int64_t us = 0;
                int rc = proto_time_parse_date (date, 10, &us);
                size_t len = proto_time_format (expected, 0, text);
                if (rc != PROTO_TIME_OK || us != expected || len != 20
                ||  memcmp (text, date, 10) != 0 || strcmp (text + 10, "T00:00:00Z") != 0) {
                    fprintf (stderr, "%s:%d: day %s: rc %d us %" PRId64 " want %" PRId64
                             " formats as \"%s\"\n", __FILE__, __LINE__, date, rc, us,
                             expected, text);
                    failures++;
                }
                expected += US_PER_DAY;
            }
            /* The day after the last one of the month does not exist. */
            char date [32];
            int64_t us;
            snprintf (date, sizeof (date), "%04d-%02d-%02d", year, month, days + 1);
            if (proto_time_parse_date (date, 10, &us) != PROTO_TIME_BAD) {
                fprintf (stderr, "%s:%d: day %s accepted\n", __FILE__, __LINE__, date);
                failures++;
            }
        }
    }
    CHECK_INT (failures, 0);
    CHECK_INT (expected, LAST_US + 1);
}

static void
test_format (void)
{
    static const struct {
        int64_t us;
        int offset_min;
        const char *text;
    } rows [] = {
        { INT64_C (1735808400000000),    60,   "2025-01-02T10:00:00+01:00" },
        { INT64_C (1735808400000000),     0,   "2025-01-02T09:00:00Z" },
        { INT64_C (1749996000000000),  -330,   "2025-06-15T08:30:00-05:30" },
        { INT64_C (1703980859000000),  1439,   "2023-12-31T23:59:59+23:59" },
        { INT64_C (86340000000),      -1439,   "1970-01-01T00:00:00-23:59" },
        { 0,                              0,   "1970-01-01T00:00:00Z" },
        { 0,                             -1,   "1969-12-31T23:59:00-00:01" },
        { 0,                              1,   "1970-01-01T00:01:00+00:01" },
        { -1,                             0,   "1969-12-31T23:59:59.999999Z" },
        { -1,                           120,   "1970-01-01T01:59:59.999999+02:00" },
        { -999999,                        0,   "1969-12-31T23:59:59.000001Z" },
        { -1000000,                       0,   "1969-12-31T23:59:59Z" },
        { -US_PER_DAY,                    0,   "1969-12-31T00:00:00Z" },
        { -US_PER_DAY - 1,                0,   "1969-12-30T23:59:59.999999Z" },
        { INT64_C (-2203891200000000),    0,   "1900-03-01T00:00:00Z" },
        { INT64_C (951827696789012),      0,   "2000-02-29T12:34:56.789012Z" },
        { INT64_C (1743301800500000),     0,   "2025-03-30T02:30:00.500000Z" },
        { INT64_C (1743301800000001),     0,   "2025-03-30T02:30:00.000001Z" },
        { FIRST_US,                       0,   "0001-01-01T00:00:00Z" },
        { INT64_C (-62135600400000000),  60,   "0001-01-01T00:00:00+01:00" },
        { LAST_US,                        0,   "9999-12-31T23:59:59.999999Z" },
        { INT64_C (253402387139999999), -1439, "9999-12-31T23:59:59.999999-23:59" },
    };
    for (size_t i = 0; i < sizeof (rows) / sizeof (rows [0]); i++) {
        int before = t_checks_failed;
        char text [PROTO_TIME_MAX];
        memset (text, 'x', sizeof (text));
        size_t len = proto_time_format (rows [i].us, rows [i].offset_min, text);
        CHECK_STR (text, rows [i].text);
        CHECK_INT (len, strlen (rows [i].text));
        s_name_row_if_failed (before, rows [i].text);
    }
}

static void
test_format_refuses_what_rfc3339_cannot_spell (void)
{
    static const struct {
        int64_t us;
        int offset_min;
    } rows [] = {
        { FIRST_US - 1,                   0 },
        { FIRST_US,                      -1 },
        { LAST_US + 1,                    0 },
        { LAST_US,                        1 },
        { 0,                           1440 },
        { 0,                          -1440 },
        { 0,                        INT_MAX },
        { 0,                        INT_MIN },
        { INT64_MIN,                      0 },
        { INT64_MAX,                      0 },
        { INT64_MIN,                  -1439 },
        { INT64_MAX,                   1439 },
    };
    for (size_t i = 0; i < sizeof (rows) / sizeof (rows [0]); i++) {
        char text [PROTO_TIME_MAX];
        memset (text, 'x', sizeof (text));
        CHECK_INT (proto_time_format (rows [i].us, rows [i].offset_min, text), 0);
        CHECK_STR (text, "");
    }
}

static void
s_check_round_trip (int64_t us, int offset_min)
{
    char text [PROTO_TIME_MAX];
    int64_t back_us = 0;
    int back_offset = 0;
    size_t len = proto_time_format (us, offset_min, text);
    int rc = proto_time_parse (text, len, &back_us, &back_offset);
    if (len == 0 || len >= PROTO_TIME_MAX || rc != PROTO_TIME_OK
    ||  back_us != us || back_offset != offset_min) {
        fprintf (stderr, "%s:%d: round trip of (%" PRId64 ", %d) via \"%s\": rc %d, (%" PRId64
                 ", %d)\n", __FILE__, __LINE__, us, offset_min, text, rc, back_us, back_offset);
        t_checks_failed++;
    }
}

static void
test_round_trip (void)
{
    static const int64_t spots [] = {
        0, 1, -1, 999999, -999999, 1000000, -1000000, US_PER_DAY - 1, -US_PER_DAY,
        INT64_C (1735808400000000), INT64_C (951827696789012), INT64_C (-2203891200000000),
        INT64_C (-11670998400000000), FIRST_US, FIRST_US + 1, LAST_US, LAST_US - 1,
    };
    static const int offsets [] = { 0, 1, -1, 60, -60, -330, 330, 345, 1439, -1439 };
    for (size_t i = 0; i < sizeof (spots) / sizeof (spots [0]); i++)
        for (size_t j = 0; j < sizeof (offsets) / sizeof (offsets [0]); j++) {
            int64_t us = spots [i];
            /* Keep the local time inside 0001..9999, as parse requires. */
            if (us == FIRST_US || us == FIRST_US + 1)
                us -= offsets [j] < 0? (int64_t) offsets [j] * 60000000: 0;
            if (us == LAST_US || us == LAST_US - 1)
                us -= offsets [j] > 0? (int64_t) offsets [j] * 60000000: 0;
            s_check_round_trip (us, offsets [j]);
        }

    /* A fixed pseudo-random spread over the whole range, so failures repeat. */
    uint64_t state = 0x9E3779B97F4A7C15u;
    uint64_t span = (uint64_t) (LAST_US - FIRST_US) - 2 * (uint64_t) US_PER_DAY;
    for (int i = 0; i < 200000; i++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        int64_t us = FIRST_US + US_PER_DAY + (int64_t) ((state >> 1) % span);
        int offset_min = (int) ((state >> 40) % 2879) - 1439;
        if (i % 4 == 0)
            us -= us % 1000000;         /* whole seconds take the other format path */
        s_check_round_trip (us, offset_min);
    }

    /* And text to instant to the same text. */
    static const char *texts [] = {
        "2025-01-02T10:00:00+01:00", "1969-12-31T23:59:59.999999Z",
        "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59.999999-23:59",
        "2000-02-29T12:34:56.789012-05:30",
    };
    for (size_t i = 0; i < sizeof (texts) / sizeof (texts [0]); i++) {
        int64_t us;
        int offset_min;
        char text [PROTO_TIME_MAX];
        CHECK_INT (s_parse (texts [i], &us, &offset_min), PROTO_TIME_OK);
        proto_time_format (us, offset_min, text);
        CHECK_STR (text, texts [i]);
    }
}

static void
test_ext_32 (void)
{
    int64_t us = 42;
    const uint8_t stamp [4] = { 0x67, 0x76, 0x55, 0x90 };      /* 1735808400 */
    CHECK_INT (proto_time_from_ext (stamp, 4, &us), PROTO_TIME_OK);
    CHECK_INT (us, INT64_C (1735808400000000));

    const uint8_t zero [4] = { 0 };
    CHECK_INT (proto_time_from_ext (zero, 4, &us), PROTO_TIME_OK);
    CHECK_INT (us, 0);

    const uint8_t top [4] = { 0xff, 0xff, 0xff, 0xff };        /* unsigned, not -1 */
    CHECK_INT (proto_time_from_ext (top, 4, &us), PROTO_TIME_OK);
    CHECK_INT (us, INT64_C (4294967295000000));
}

static void
test_ext_64 (void)
{
    int64_t us = 42;
    /* 123456789 ns << 34 | 1735808400 s */
    const uint8_t stamp [8] = { 0x1d, 0x6f, 0x34, 0x54, 0x67, 0x76, 0x55, 0x90 };
    CHECK_INT (proto_time_from_ext (stamp, 8, &us), PROTO_TIME_OK);
    CHECK_INT (us, INT64_C (1735808400123456));                /* 789 ns truncated */

    /* 999999999 ns, 2^34 - 1 s: every bit of both fields is used. */
    const uint8_t top [8] = { 0xee, 0x6b, 0x27, 0xff, 0xff, 0xff, 0xff, 0xff };
    CHECK_INT (proto_time_from_ext (top, 8, &us), PROTO_TIME_OK);
    CHECK_INT (us, INT64_C (17179869183999999));

    us = 42;
    const uint8_t too_many_ns [8] = { 0xee, 0x6b, 0x28, 0x00, 0x00, 0x00, 0x00, 0x00 };
    CHECK_INT (proto_time_from_ext (too_many_ns, 8, &us), PROTO_TIME_BAD);
    const uint8_t all_ones [8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    CHECK_INT (proto_time_from_ext (all_ones, 8, &us), PROTO_TIME_BAD);
    CHECK_INT (us, 42);
}

static void
test_ext_96 (void)
{
    int64_t us = 42;
    const uint8_t stamp [12] = {
        0x07, 0x5b, 0xcd, 0x15, 0x00, 0x00, 0x00, 0x00, 0x67, 0x76, 0x55, 0x90
    };  /* 123456789 ns, 1735808400 s */
    CHECK_INT (proto_time_from_ext (stamp, 12, &us), PROTO_TIME_OK);
    CHECK_INT (us, INT64_C (1735808400123456));

    /* -1 s + 999999999 ns: nanoseconds add, and truncation floors. */
    const uint8_t before_epoch [12] = {
        0x3b, 0x9a, 0xc9, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
    };
    CHECK_INT (proto_time_from_ext (before_epoch, 12, &us), PROTO_TIME_OK);
    CHECK_INT (us, -1);

    const uint8_t first [12] = {
        0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xf1, 0x88, 0x6e, 0x09, 0x00
    };  /* 0001-01-01T00:00:00Z */
    CHECK_INT (proto_time_from_ext (first, 12, &us), PROTO_TIME_OK);
    CHECK_INT (us, FIRST_US);

    const uint8_t last [12] = {
        0x3b, 0x9a, 0xc9, 0xff, 0x00, 0x00, 0x00, 0x3a, 0xff, 0xf4, 0x41, 0x7f
    };  /* 9999-12-31T23:59:59.999999999Z */
    CHECK_INT (proto_time_from_ext (last, 12, &us), PROTO_TIME_OK);
    CHECK_INT (us, LAST_US);
}

static void
test_ext_bad (void)
{
    static const uint8_t rows [][12] = {
        /* 999999999 ns before 0001-01-01 */
        { 0x3b, 0x9a, 0xc9, 0xff, 0xff, 0xff, 0xff, 0xf1, 0x88, 0x6e, 0x08, 0xff },
        /* 10000-01-01T00:00:00Z */
        { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3a, 0xff, 0xf4, 0x41, 0x80 },
        /* INT64_MAX s, INT64_MIN s, INT64_MAX / 10^6 + 1 s: would overflow */
        { 0x00, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
        { 0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 },
        { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x63, 0x7b, 0xd0, 0x5a, 0xf7 },
        /* 10^9 ns */
        { 0x3b, 0x9a, 0xca, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 },
        { 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 },
    };
    for (size_t i = 0; i < sizeof (rows) / sizeof (rows [0]); i++) {
        int64_t us = 42;
        CHECK_INT (proto_time_from_ext (rows [i], 12, &us), PROTO_TIME_BAD);
        CHECK_INT (us, 42);
    }

    static const size_t lengths [] = { 0, 1, 3, 5, 7, 9, 11, 13, 16 };
    static const uint8_t zeros [16] = { 0 };
    for (size_t i = 0; i < sizeof (lengths) / sizeof (lengths [0]); i++) {
        int64_t us = 42;
        CHECK_INT (proto_time_from_ext (zeros, lengths [i], &us), PROTO_TIME_BAD);
        CHECK_INT (us, 42);
    }
}

static void
test_to_ext (void)
{
    uint8_t out [12];
    CHECK_INT (proto_time_to_ext (INT64_C (1735808400123456), out), 12);
    const uint8_t want [12] = {
        0x07, 0x5b, 0xca, 0x00, 0x00, 0x00, 0x00, 0x00, 0x67, 0x76, 0x55, 0x90
    };
    CHECK (memcmp (out, want, 12) == 0);

    CHECK_INT (proto_time_to_ext (-1, out), 12);
    const uint8_t want_minus_one [12] = {
        0x3b, 0x9a, 0xc6, 0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
    };  /* -1 s + 999999000 ns */
    CHECK (memcmp (out, want_minus_one, 12) == 0);

    static const int64_t values [] = {
        0, 1, -1, -1000000, -999999, INT64_C (1735808400123456), FIRST_US, LAST_US
    };
    for (size_t i = 0; i < sizeof (values) / sizeof (values [0]); i++) {
        int64_t back = 42;
        proto_time_to_ext (values [i], out);
        CHECK_INT (proto_time_from_ext (out, 12, &back), PROTO_TIME_OK);
        CHECK_INT (back, values [i]);
    }

    /* Any int64 encodes; the decoder then refuses what is out of range. */
    int64_t back = 42;
    proto_time_to_ext (INT64_MIN, out);
    CHECK_INT (proto_time_from_ext (out, 12, &back), PROTO_TIME_BAD);
    proto_time_to_ext (INT64_MAX, out);
    CHECK_INT (proto_time_from_ext (out, 12, &back), PROTO_TIME_BAD);
    CHECK_INT (back, 42);
}

int
main (void)
{
    TEST_RUN (test_parse_valid);
    TEST_RUN (test_parse_case_and_utc_spellings);
    TEST_RUN (test_parse_leap_years);
    TEST_RUN (test_parse_boundaries);
    TEST_RUN (test_parse_bad);
    TEST_RUN (test_parse_naive);
    TEST_RUN (test_parse_reads_exactly_len);
    TEST_RUN (test_parse_date);
    TEST_RUN (test_every_day);
    TEST_RUN (test_format);
    TEST_RUN (test_format_refuses_what_rfc3339_cannot_spell);
    TEST_RUN (test_round_trip);
    TEST_RUN (test_ext_32);
    TEST_RUN (test_ext_64);
    TEST_RUN (test_ext_96);
    TEST_RUN (test_ext_bad);
    TEST_RUN (test_to_ext);
    return TEST_DONE ();
}
