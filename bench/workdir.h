/*  workdir -- the temporary directory a run keeps its databases in.

    <base>/ledger-bench-XXXXXX, made with mkdtemp; every database of the run
    (the spawned workers', the baselines') and the workers' logs go in it,
    each under its own name, so no phase sees another's rows. Removed with
    everything in it when destroyed, unless the run was told to keep it. */

#ifndef BENCH_WORKDIR_H
#define BENCH_WORKDIR_H

#include <stdbool.h>
#include <stddef.h>

typedef struct _workdir_t workdir_t;

/* Make a new directory under base. Returns NULL with errbuf set when it
   cannot be made. */
workdir_t *workdir_new (const char *base, bool keep, char *errbuf, size_t errlen);

/* Remove the directory (unless kept: then say on stderr where it is),
   destroy the object and set *self_p to NULL. */
void workdir_destroy (workdir_t **self_p);

/* The directory's path. */
const char *workdir_path (workdir_t *self);

/* Write "<dir>/<name>-<n>.<ext>" into buffer, with n counting up per call
   so every file of the run is new. Returns buffer. */
char *workdir_file (workdir_t *self, const char *name, const char *ext, char *buffer, size_t size);

#endif
