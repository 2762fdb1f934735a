/*  ledger-bench -- measure ledgerd against what producers would do without it.

    A flat program in the manner of libzmq's perf tools: parse the command
    line, set everything up off the clock, measure, print the figures with
    their units. `compare` runs the standard matrix, `soak` its
    memory target, `connections` many producers on connections of their
    own and `cluster` three nodes beside dqlite-direct, `summary` txn.summary beside paging
    every row; anything else is one run (see options.c for the usage). */

#include "cluster_run.h"
#include "compare.h"
#include "connections.h"
#include "options.h"
#include "report.h"
#include "run.h"
#include "signals.h"
#include "soak.h"
#include "summary.h"
#include "workdir.h"

#include <stdio.h>
#include <string.h>

static int
s_run_main (const options_t *options)
{
    char errbuf [512];
    workdir_t *workdir = NULL;
    if ((options->spawn || options->direct || options->raw)
    &&  !(workdir = workdir_new (options->dir, options->keep, errbuf, sizeof (errbuf)))) {
        fprintf (stderr, "ledger-bench: %s\n", errbuf);
        return 3;
    }
    run_result_t *result = run_result_new ();
    if (!result) {
        fprintf (stderr, "ledger-bench: out of memory\n");
        workdir_destroy (&workdir);
        return 3;
    }
    int rc = run_execute (options, workdir, result);
    int status = run_exit_status (result, rc);
    if (rc)
        fprintf (stderr, "ledger-bench: %s\n", result->error);
    if (options->json) {
        json_t *root = report_json (options, result);
        if (!root || json_dumpf (root, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER) || printf ("\n") < 0) {
            fprintf (stderr, "ledger-bench: cannot write the JSON report\n");
            status = 3;
        }
        json_decref (root);
    }
    else
        report_print (stdout, options, result);
    if (status == 1 && !options->json)
        fprintf (stderr, "ledger-bench: %s\n", signals_stopped ()? "interrupted"
                 : "not every batch was answered ok, or the worker did not stop cleanly (see above)");
    run_result_destroy (&result);
    workdir_destroy (&workdir);
    return status;
}

int
main (int argc, char *argv [])
{
    /*  summary has options of its own (summary.c). */
    if (argc > 1 && strcmp (argv [1], "summary") == 0)
        return summary_main (argc - 1, argv + 1);
    bench_mode_t mode = BENCH_RUN;
    int skip = 0;
    if (argc > 1 && strcmp (argv [1], "compare") == 0)
        mode = BENCH_COMPARE, skip = 1;
    else
    if (argc > 1 && strcmp (argv [1], "soak") == 0)
        mode = BENCH_SOAK, skip = 1;
    else
    if (argc > 1 && strcmp (argv [1], "connections") == 0)
        mode = BENCH_CONNECTIONS, skip = 1;
    else
    if (argc > 1 && strcmp (argv [1], "cluster") == 0)
        mode = BENCH_CLUSTER, skip = 1;
    options_t options;
    char errbuf [512];
    options_rc_t parsed = options_parse (&options, mode, argc - skip, argv + skip, stdout, errbuf, sizeof (errbuf));
    if (parsed == OPTIONS_DONE)
        return 0;
    if (parsed == OPTIONS_BAD) {
        fprintf (stderr, "ledger-bench: %s\n(ledger-bench --help shows the options)\n", errbuf);
        return 2;
    }
    if (signals_install ()) {
        fprintf (stderr, "ledger-bench: cannot install signal handlers\n");
        return 3;
    }
    if (mode == BENCH_COMPARE)
        return compare_main (&options);
    if (mode == BENCH_SOAK)
        return soak_main (&options);
    if (mode == BENCH_CONNECTIONS)
        return connections_main (&options);
    if (mode == BENCH_CLUSTER)
        return cluster_run_main (&options);
    return s_run_main (&options);
}
