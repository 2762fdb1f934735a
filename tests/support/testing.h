/*  testing.h -- the smallest test harness that tells you what failed.

    A test file defines `static void test_xxx (void)` functions and a main
    that calls TEST_RUN (test_xxx) for each, then returns TEST_DONE ().
    A failed CHECK prints file, line, the expression and the values, and the
    test goes on, so one run shows every failure. */

#ifndef LEDGER_TESTING_H
#define LEDGER_TESTING_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int t_checks_failed;
static int t_tests_passed;
static int t_tests_failed;

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

#define TEST_RUN(fn) do { \
    int t_before_ = t_checks_failed; \
    fn (); \
    if (t_checks_failed == t_before_) { t_tests_passed++; printf ("ok   %s\n", #fn); } \
    else                              { t_tests_failed++; printf ("FAIL %s\n", #fn); } \
    fflush (stdout); \
    } while (0)

#define TEST_DONE() \
    (printf ("%d passed, %d failed\n", t_tests_passed, t_tests_failed), \
     t_tests_failed == 0 && t_tests_passed > 0? 0: 1)

#endif
