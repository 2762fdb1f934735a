/*  raw -- the --raw baseline: one writer on this thread, no worker, no
    network, no idempotency record: the most the file can take. */

#include "raw.h"
#include "timing.h"

#include <stdio.h>
#include <stdlib.h>

int
raw_run (const char *path, const options_t *options, size_t prefill_count, tally_t *tally,
         tally_live_t *live, baseline_tick_fn *tick, void *tick_arg, char *errbuf, size_t errlen)
{
    work_row_t *rows = calloc (prefill_count? prefill_count: 1, sizeof (work_row_t));
    if (!rows) {
        snprintf (errbuf, errlen, "out of memory");
        return -1;
    }
    baseline_t *writer = NULL;
    int rc = -1;
    if (baseline_create (path, options, rows, prefill_count, errbuf, errlen) == 0
    && (writer = baseline_new (path, options, errbuf, errlen)) != NULL) {
        int64_t start_ns = timing_now_ns ();
        baseline_plan_t plan = {
            .lane = 0, .lanes = 1, .quota = options->batches, .start_ns = start_ns,
            .deadline_ns = options->batches? 0: start_ns + (int64_t) (options->duration_s * 1e9),
            .prefill = rows, .prefill_count = prefill_count, .live = live, .tick = tick, .tick_arg = tick_arg
        };
        rc = baseline_run (writer, options, &plan, tally, errbuf, errlen);
    }
    baseline_destroy (&writer);
    free (rows);
    return rc;
}
