/*  scratch_dir -- a fresh directory under /tmp for one test's files.

    For unit tests that open a database of their own: the database, its
    -wal and -shm (and whatever else the test writes) live in it, and
    scratch_dir_remove takes it all away. No worker process is involved. */

#ifndef LEDGER_TEST_SCRATCH_DIR_H
#define LEDGER_TEST_SCRATCH_DIR_H

#include <stddef.h>

/* Make a new directory /tmp/<name>-XXXXXX and write its path into dir
   (size bytes). Returns 0, or -1 with the reason on stderr. */
int scratch_dir_make (char *dir, size_t size, const char *name);

/* Remove dir and everything in it, never following symlinks. Returns 0,
   or -1 with the reason on stderr. */
int scratch_dir_remove (const char *dir);

#endif
