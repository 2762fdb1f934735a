/*  test_amount -- proto_amount: exact decimal strings to int64 minor units. */

#include "proto_amount.h"
#include "testing.h"

#include <stdint.h>

static int
s_parse (const char *text, int64_t *minor_p)
{
    return proto_amount_parse (text, strlen (text), minor_p);
}

/*  A table row that fails says which row: CHECK only knows the line. */
static void
s_name_row_if_failed (int failed_before, const char *text)
{
    if (t_checks_failed != failed_before)
        fprintf (stderr, "    ... for \"%s\"\n", text);
}

static void
test_valid (void)
{
    static const struct {
        const char *text;
        int64_t minor;
    } rows [] = {
        { "-12.34",  -1234 },
        { "12.34",    1234 },
        { "7",         700 },
        { "0.5",        50 },
        { "-0.05",      -5 },
        { "007.10",    710 },
        { "0",           0 },
        { "-0",          0 },
        { "-0.00",       0 },
        { "0.01",        1 },
        { "-0.1",      -10 },
        { "1.2",       120 },
        { "100",     10000 },
        { "000000000000000000000000000000000000000000001.23", 123 },
        { "92233720368547758.07",  INT64_MAX },
        { "92233720368547758",     INT64_C (9223372036854775800) },
        { "92233720368547758.0",   INT64_C (9223372036854775800) },
        { "-92233720368547758.08", INT64_MIN },
        { "-92233720368547758.07", INT64_MIN + 1 },
        { "-92233720368547758",    INT64_C (-9223372036854775800) },
        { "-0092233720368547758.08", INT64_MIN },
    };
    for (size_t i = 0; i < sizeof (rows) / sizeof (rows [0]); i++) {
        int before = t_checks_failed;
        int64_t minor = 42;
        CHECK_INT (s_parse (rows [i].text, &minor), PROTO_AMOUNT_OK);
        CHECK_INT (minor, rows [i].minor);
        s_name_row_if_failed (before, rows [i].text);
    }
}

static void
test_bad (void)
{
    static const char *rows [] = {
        "", "-", ".", "-.", ".5", "-.5", "5.", "-5.", "+5", "+5.00", " 5", "5 ", "5 .00",
        "- 5", "--5", "5-", "1e3", "1E3", "1.5e2", "0x10", "1,5", "1,000.00", "1.2.3",
        "1..2", "abc", "12a", "1.2a", "1.23a", "1.234a", "NaN", "inf", "-inf", "1_000",
        "\xef\xbc\x91", "1.\xef\xbc\x92",
    };
    for (size_t i = 0; i < sizeof (rows) / sizeof (rows [0]); i++) {
        int before = t_checks_failed;
        int64_t minor = 42;
        CHECK_INT (s_parse (rows [i], &minor), PROTO_AMOUNT_BAD);
        CHECK_INT (minor, 42);
        s_name_row_if_failed (before, rows [i]);
    }
    int64_t minor = 42;
    CHECK_INT (proto_amount_parse (NULL, 0, &minor), PROTO_AMOUNT_BAD);
    CHECK_INT (proto_amount_parse ("5\0", 2, &minor), PROTO_AMOUNT_BAD);
    CHECK_INT (minor, 42);
}

static void
test_inexact (void)
{
    static const char *rows [] = {
        "1.234", "1.230", "1.000", "0.001", "-0.001", "-12.345", "0.000",
        "1.23456789012345678901234567890",
        /* Inexact wins over range: the value is refused for its form first. */
        "99999999999999999999999.999",
    };
    for (size_t i = 0; i < sizeof (rows) / sizeof (rows [0]); i++) {
        int before = t_checks_failed;
        int64_t minor = 42;
        CHECK_INT (s_parse (rows [i], &minor), PROTO_AMOUNT_INEXACT);
        CHECK_INT (minor, 42);
        s_name_row_if_failed (before, rows [i]);
    }
    /* A bad byte after the extra digits makes it malformed, not inexact. */
    int64_t minor = 42;
    CHECK_INT (s_parse ("1.234x", &minor), PROTO_AMOUNT_BAD);
    CHECK_INT (s_parse ("1.234.5", &minor), PROTO_AMOUNT_BAD);
}

static void
test_range (void)
{
    static const char *rows [] = {
        "92233720368547758.08",
        "-92233720368547758.09",
        "92233720368547759",
        "-92233720368547759",
        "92233720368547758.1",
        "-92233720368547758.1",
        "100000000000000000",
        "184467440737095516.16",            /* 2^64 minor units: wraps to 0 if unchecked */
        "368934881474191032.32",            /* 2^65 */
        "99999999999999999999999999999999999999999999999999999999999999999999999999.99",
        "-99999999999999999999999999999999999999999999999999999999999999999999999999",
    };
    for (size_t i = 0; i < sizeof (rows) / sizeof (rows [0]); i++) {
        int before = t_checks_failed;
        int64_t minor = 42;
        CHECK_INT (s_parse (rows [i], &minor), PROTO_AMOUNT_RANGE);
        CHECK_INT (minor, 42);
        s_name_row_if_failed (before, rows [i]);
    }
}

static void
test_reads_exactly_len (void)
{
    int64_t minor = 42;
    /* No NUL after the last byte: ASan sees any read past it. */
    char exact [6];
    memcpy (exact, "-12.34", sizeof (exact));
    CHECK_INT (proto_amount_parse (exact, sizeof (exact), &minor), PROTO_AMOUNT_OK);
    CHECK_INT (minor, -1234);
    char dot [2];
    memcpy (dot, "5.", sizeof (dot));
    CHECK_INT (proto_amount_parse (dot, sizeof (dot), &minor), PROTO_AMOUNT_BAD);
    char sign [1] = { '-' };
    CHECK_INT (proto_amount_parse (sign, sizeof (sign), &minor), PROTO_AMOUNT_BAD);

    const char *longer = "12.345";
    CHECK_INT (proto_amount_parse (longer, 5, &minor), PROTO_AMOUNT_OK);
    CHECK_INT (minor, 1234);
    CHECK_INT (proto_amount_parse (longer, 4, &minor), PROTO_AMOUNT_OK);
    CHECK_INT (minor, 1230);
    CHECK_INT (proto_amount_parse (longer, 3, &minor), PROTO_AMOUNT_BAD);
    CHECK_INT (proto_amount_parse (longer, 6, &minor), PROTO_AMOUNT_INEXACT);
}

/*  Every cent value near zero and near both ends written out and read back,
    against an expectation built with integer arithmetic of the test's own. */
static void
test_spread (void)
{
    int failures = 0;
    for (int64_t cents = -100100; cents <= 100100 && failures < 5; cents++) {
        char text [32];
        int64_t magnitude = cents < 0? -cents: cents;
        snprintf (text, sizeof (text), "%s%" PRId64 ".%02d", cents < 0? "-": "",
                  magnitude / 100, (int) (magnitude % 100));
        int64_t minor = 42;
        if (s_parse (text, &minor) != PROTO_AMOUNT_OK || minor != cents) {
            fprintf (stderr, "%s:%d: \"%s\" gave %" PRId64 "\n", __FILE__, __LINE__, text, minor);
            failures++;
        }
    }
    for (uint64_t back = 0; back < 1000 && failures < 5; back++) {
        int64_t ends [2] = { INT64_MAX - (int64_t) back, INT64_MIN + (int64_t) back };
        uint64_t magnitudes [2] = { (uint64_t) INT64_MAX - back, (uint64_t) INT64_MAX + 1 - back };
        for (int i = 0; i < 2; i++) {
            char text [32];
            snprintf (text, sizeof (text), "%s%" PRIu64 ".%02" PRIu64, i? "-": "",
                      magnitudes [i] / 100, magnitudes [i] % 100);
            int64_t minor = 42;
            if (s_parse (text, &minor) != PROTO_AMOUNT_OK || minor != ends [i]) {
                fprintf (stderr, "%s:%d: \"%s\" gave %" PRId64 "\n", __FILE__, __LINE__, text, minor);
                failures++;
            }
        }
    }
    CHECK_INT (failures, 0);
}

int
main (void)
{
    TEST_RUN (test_valid);
    TEST_RUN (test_bad);
    TEST_RUN (test_inexact);
    TEST_RUN (test_range);
    TEST_RUN (test_reads_exactly_len);
    TEST_RUN (test_spread);
    return TEST_DONE ();
}
