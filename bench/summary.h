/*  summary -- `ledger-bench summary`: txn.summary by month and category on
    a year of transactions, against paging every row and adding up in the
    client, measured in the same run (see BENCHMARKS.md). */

#ifndef BENCH_SUMMARY_H
#define BENCH_SUMMARY_H

/* Run the summary benchmark with the arguments after `summary` (argv [0]
   is the mode's name). Returns the exit status: 0, 1 when a batch failed
   or the two ways disagree, 2 for bad usage, 3 when it cannot set up. */
int summary_main (int argc, char **argv);

#endif
