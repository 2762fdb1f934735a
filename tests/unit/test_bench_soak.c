/*  Unit tests for ledger-bench soak's verdict (target 6): made-up samples
    of the worker's memory, judged as a soak judges its own. The soak in
    tests/bench.cmake runs a second, too short to be sure of its samples on
    a busy machine; here each rule is held to its edge. */

#include "soak_verdict.h"
#include "testing.h"

#define MIB (1024 * 1024)
#define LIMIT (64.0 * MIB)

/*  Ten samples over a 10 s run, a second apart: first half at rss_first,
    second half at rss_second. */
static void
s_samples (soak_sample_t samples [10], int64_t rss_first, int64_t rss_second)
{
    for (int n = 0; n < 10; n++)
        samples [n] = (soak_sample_t) { .t_s = n + 0.5, .batches = (uint64_t) n * 10,
                                        .rss_bytes = n < 5? rss_first: rss_second,
                                        .peak_rss_bytes = n < 5? rss_first: rss_second };
}

static void
test_flat_small_and_ok_passes (void)
{
    soak_sample_t samples [10];
    s_samples (samples, 10 * MIB, 10 * MIB);
    soak_verdict_t verdict = soak_verdict (samples, 10, 10.0, 10 * MIB, LIMIT, true);
    CHECK (verdict.enough);
    CHECK (verdict.flat);
    CHECK (verdict.small);
    CHECK (verdict.pass);
    CHECK_INT (verdict.first_half, 10 * MIB);
    CHECK_INT (verdict.second_half, 10 * MIB);
}

/*  The second half may reach 10 % and 1 MiB over the first, no more. */
static void
test_growth_past_the_allowance_fails (void)
{
    soak_sample_t samples [10];
    int64_t first = 10 * MIB;
    int64_t allowed = first + first / 10 + MIB;
    s_samples (samples, first, allowed);
    soak_verdict_t verdict = soak_verdict (samples, 10, 10.0, allowed, LIMIT, true);
    CHECK (verdict.flat);
    CHECK (verdict.pass);
    s_samples (samples, first, allowed + 1);
    verdict = soak_verdict (samples, 10, 10.0, allowed + 1, LIMIT, true);
    CHECK (!verdict.flat);
    CHECK (!verdict.pass);
}

/*  The halves are of the run's time, not of the samples: a sample at the
    middle belongs to the second. */
static void
test_halves_split_at_half_the_run (void)
{
    soak_sample_t samples [4] = {
        { .t_s = 1, .rss_bytes = 10 * MIB }, { .t_s = 2, .rss_bytes = 10 * MIB },
        { .t_s = 5, .rss_bytes = 20 * MIB }, { .t_s = 9, .rss_bytes = 10 * MIB },
    };
    soak_verdict_t verdict = soak_verdict (samples, 4, 10.0, 20 * MIB, LIMIT, true);
    CHECK (verdict.enough);
    CHECK_INT (verdict.first_half, 10 * MIB);
    CHECK_INT (verdict.second_half, 20 * MIB);
    CHECK (!verdict.flat);
}

/*  Fewer than two samples in either half cannot show memory is flat. */
static void
test_too_few_samples_fails (void)
{
    soak_sample_t samples [3] = {
        { .t_s = 1, .rss_bytes = 10 * MIB }, { .t_s = 6, .rss_bytes = 10 * MIB }, { .t_s = 8, .rss_bytes = 10 * MIB },
    };
    soak_verdict_t verdict = soak_verdict (samples, 3, 10.0, 10 * MIB, LIMIT, true);
    CHECK (!verdict.enough);
    CHECK (!verdict.flat);
    CHECK (!verdict.pass);
    verdict = soak_verdict (samples, 0, 10.0, 10 * MIB, LIMIT, true);
    CHECK (!verdict.pass);
}

/*  The peak must be known and at most the limit. */
static void
test_peak_over_the_limit_fails (void)
{
    soak_sample_t samples [10];
    s_samples (samples, 10 * MIB, 10 * MIB);
    CHECK (soak_verdict (samples, 10, 10.0, 64 * MIB, LIMIT, true).pass);
    soak_verdict_t verdict = soak_verdict (samples, 10, 10.0, 64 * MIB + 1, LIMIT, true);
    CHECK (!verdict.small);
    CHECK (!verdict.pass);
    verdict = soak_verdict (samples, 10, 10.0, -1, LIMIT, true);
    CHECK (!verdict.small);
    CHECK (!verdict.pass);
}

/*  Memory alone does not pass a run whose batches were not all ok. */
static void
test_failed_batches_fail (void)
{
    soak_sample_t samples [10];
    s_samples (samples, 10 * MIB, 10 * MIB);
    soak_verdict_t verdict = soak_verdict (samples, 10, 10.0, 10 * MIB, LIMIT, false);
    CHECK (verdict.flat);
    CHECK (verdict.small);
    CHECK (!verdict.pass);
}

int
main (void)
{
    TEST_RUN (test_flat_small_and_ok_passes);
    TEST_RUN (test_growth_past_the_allowance_fails);
    TEST_RUN (test_halves_split_at_half_the_run);
    TEST_RUN (test_too_few_samples_fails);
    TEST_RUN (test_peak_over_the_limit_fails);
    TEST_RUN (test_failed_batches_fail);
    return TEST_DONE ();
}
