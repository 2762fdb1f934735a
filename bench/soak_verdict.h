/*  soak_verdict -- target 6's judgement of a soak: is the worker's memory
    small and flat?

    Apart from the run so that the judgement can be tested on samples made
    up for it (tests/unit/test_bench_soak.c): a soak itself runs too short
    in `make test` to be sure its samples fall two to each half on a busy
    machine. */

#ifndef BENCH_SOAK_VERDICT_H
#define BENCH_SOAK_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  One sample of the worker's memory. */
typedef struct {
    double t_s;                 /* since the clock started */
    uint64_t batches;           /* done by then */
    int64_t rss_bytes;
    int64_t peak_rss_bytes;
} soak_sample_t;

typedef struct {
    int64_t first_half;         /* the highest RSS sampled in the run's first half */
    int64_t second_half;        /* and in its second half */
    double allowed;             /* the most the second half may reach: 10 % and 1 MiB over the first */
    bool enough;                /* two samples in each half at least */
    bool flat;                  /* enough, and the second half within allowed */
    bool small;                 /* the peak is known (>= 0) and within the limit */
    bool pass;                  /* flat, small, and every batch was ok */
} soak_verdict_t;

/* Judge count samples of a run seconds long whose worker peaked at
   peak_bytes (-1: unknown) against limit_bytes; batches_ok says whether
   every batch was ok. */
soak_verdict_t soak_verdict (const soak_sample_t *samples, size_t count, double seconds, int64_t peak_bytes,
                             double limit_bytes, bool batches_ok);

#endif
