/*  soak_verdict -- target 6's judgement of a soak. */

#include "soak_verdict.h"

#define S_MIB (1024.0 * 1024.0)

soak_verdict_t
soak_verdict (const soak_sample_t *samples, size_t count, double seconds, int64_t peak_bytes,
              double limit_bytes, bool batches_ok)
{
    soak_verdict_t verdict = { .first_half = 0 };
    size_t first_count = 0, second_count = 0;
    for (size_t n = 0; n < count; n++) {
        bool first = samples [n].t_s < seconds / 2;
        int64_t *highest = first? &verdict.first_half: &verdict.second_half;
        if (first)
            first_count++;
        else
            second_count++;
        if (samples [n].rss_bytes > *highest)
            *highest = samples [n].rss_bytes;
    }
    verdict.enough = first_count >= 2 && second_count >= 2;
    verdict.allowed = (double) verdict.first_half * 1.10 + S_MIB;
    verdict.flat = verdict.enough && (double) verdict.second_half <= verdict.allowed;
    verdict.small = peak_bytes >= 0 && (double) peak_bytes <= limit_bytes;
    verdict.pass = verdict.flat && verdict.small && batches_ok;
    return verdict;
}
