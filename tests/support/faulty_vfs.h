/*  faulty_vfs -- an SQLite VFS that fails the k-th write, sync or truncate,
    or the k-th read.

    It wraps the default VFS and counts every xWrite, xSync and xTruncate on
    every file (database, WAL, journal), or, armed for reads, every xRead.
    When the count reaches `fail_at` the call returns the chosen error
    instead of doing anything; in "keep failing" mode every later one fails
    too. In WAL mode a transaction writes only at COMMIT unless its pages
    overflow the cache; a read can fail inside any statement that needs a
    page the cache does not hold. For tests only: it is how the
    store is shown to turn storage failures into retryable errors, never an
    `ok` for work that is not on disk. */

#ifndef FAULTY_VFS_H
#define FAULTY_VFS_H

#include <stdbool.h>
#include <stdint.h>

/* Register the faulty VFS as the default one (once per process). Returns 0. */
int faulty_vfs_install (void);

/* Arm it: fail the fail_at-th counted call from now on (0: never) with rc
   (SQLITE_IOERR_WRITE, SQLITE_FULL, ...), and every one after it if
   keep_failing. Resets the count. */
void faulty_vfs_arm (uint64_t fail_at, int rc, bool keep_failing);

/* Arm it as faulty_vfs_arm does, but count and fail reads (xRead) instead:
   writes, syncs and truncates go through. */
void faulty_vfs_arm_reads (uint64_t fail_at, int rc, bool keep_failing);

/* Calls counted since the last arm, and how many were failed. */
uint64_t faulty_vfs_calls (void);
uint64_t faulty_vfs_failures (void);

#endif
