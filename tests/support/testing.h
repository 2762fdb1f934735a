/*  testing.h -- the smallest test harness that tells you what failed.

    A test file defines `static void test_xxx (void)` functions and a main
    that calls TEST_RUN (test_xxx) for each, then returns TEST_DONE ().
    A failed CHECK prints file, line, the expression and the values, and the
    test goes on, so one run shows every failure.

    A suite whose tests need something made for them (a running worker, a
    store) gives each test a fixture of its own, as dqlite's test/unit/
    does, so that what one test leaves behind -- rows, counters, a worker
    it broke -- cannot fail the next. The suite defines a fixture type and

        static fixture_t *s_setup (void);      new fixture, or NULL (said why)
        static void s_teardown (fixture_t **f_p);   destroy, set *f_p NULL
        static void test_xxx (fixture_t *f);

    and main calls TEST_RUN_F (test_xxx, s_setup, s_teardown). Tear-down
    runs after the test whatever it found, and its CHECKs (say, that the
    worker exited 0) count against that test; TEST_FAILING () tells it the
    test has failed so far, to dump a log. A setup that returns NULL fails
    the test without running it. */

#ifndef LEDGER_TESTING_H
#define LEDGER_TESTING_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int t_checks_failed;
static int t_tests_passed;
static int t_tests_failed;
static int t_checks_at_start;   /* t_checks_failed when the running test began */

#define CHECK(cond) do { \
    if (!(cond)) { \
        fprintf (stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        t_checks_failed++; \
    } } while (0)

#define CHECK_INT(actual, expected) do { \
    long long t_a_ = (long long) (actual), t_e_ = (long long) (expected); \
    if (t_a_ != t_e_) { \
        fprintf (stderr, "%s:%d: CHECK failed: %s == %s (got %lld, want %lld)\n", \
                 __FILE__, __LINE__, #actual, #expected, t_a_, t_e_); \
        t_checks_failed++; \
    } } while (0)

#define CHECK_STR(actual, expected) do { \
    const char *t_a_ = (actual), *t_e_ = (expected); \
    if (!t_a_ || !t_e_ || strcmp (t_a_, t_e_) != 0) { \
        fprintf (stderr, "%s:%d: CHECK failed: %s == %s (got \"%s\", want \"%s\")\n", \
                 __FILE__, __LINE__, #actual, #expected, \
                 t_a_? t_a_: "(null)", t_e_? t_e_: "(null)"); \
        t_checks_failed++; \
    } } while (0)

/* True if a CHECK has failed since the running test began. */
#define TEST_FAILING() (t_checks_failed != t_checks_at_start)

#define T_REPORT_(name) do { \
    if (!TEST_FAILING ()) { t_tests_passed++; printf ("ok   %s\n", name); } \
    else                  { t_tests_failed++; printf ("FAIL %s\n", name); } \
    fflush (stdout); \
    } while (0)

#define TEST_RUN(fn) do { \
    t_checks_at_start = t_checks_failed; \
    fn (); \
    T_REPORT_ (#fn); \
    } while (0)

/* Run fn on a fixture setup makes for it alone, then teardown (&fixture). */
#define TEST_RUN_F(fn, setup, teardown) do { \
    t_checks_at_start = t_checks_failed; \
    __typeof__ (setup ()) t_fixture_ = setup (); \
    if (t_fixture_) { \
        fn (t_fixture_); \
        teardown (&t_fixture_); \
    } \
    else { \
        fprintf (stderr, "%s:%d: %s: setup %s failed\n", __FILE__, __LINE__, #fn, #setup); \
        t_checks_failed++; \
    } \
    T_REPORT_ (#fn); \
    } while (0)

#define TEST_DONE() \
    (printf ("%d passed, %d failed\n", t_tests_passed, t_tests_failed), \
     t_tests_failed == 0 && t_tests_passed > 0? 0: 1)

#endif
