/*  report -- a run's figures for people (a table) and for machines (JSON).

    Latency is in microseconds everywhere, and says so. Throughput is ok
    batches (and rows) per second over the phase's own clock: from its
    start to its last reply. */

#ifndef BENCH_REPORT_H
#define BENCH_REPORT_H

#include "options.h"
#include "run.h"

#include <jansson.h>
#include <stdio.h>

/* Print the run: what was measured, a table with a line per phase, errors
   by class, the worker's CPU and memory, and the ratios between phases. */
void report_print (FILE *out, const options_t *options, const run_result_t *result);

/* The run as a new JSON object (the caller owns it), or NULL. */
json_t *report_json (const options_t *options, const run_result_t *result);

/* Print the machine: cores, CPU model, kernel, SQLite and ZeroMQ versions. */
void report_machine_print (FILE *out);

/* The 1-minute load average (-1 if unknown): other work on the machine
   skews every figure, so reports say how busy it was. */
double report_load_average (void);

/*  CPU time spent on the whole machine and by this process with its
    (reaped) children, at one moment. */
typedef struct {
    double machine_busy_s;
    double own_s;
} report_cpu_t;

/* Take a snapshot of CPU time now. */
void report_cpu_snapshot (report_cpu_t *snapshot);

/* CPU seconds other processes used between start and end: what the
   machine was busy with that was not this run (0 or more). */
double report_cpu_others_s (const report_cpu_t *start, const report_cpu_t *end);

/* The machine as a new JSON object, or NULL. */
json_t *report_machine_json (void);

/* The figures of one tally as a new JSON object, or NULL. */
json_t *report_tally_json (const tally_t *tally);

/* Print text right-aligned in width columns (counting UTF-8 characters,
   not bytes, so "µs" lines up). */
void report_pad (FILE *out, const char *text, int width);

#endif
