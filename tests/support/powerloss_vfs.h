/*  powerloss_vfs -- an SQLite VFS that simulates a power cut, in the style
    of SQLite's crash tests (src/test6.c), for the store's power-loss test.

    It wraps the default (unix) VFS. Writes go to the real files at once, so
    the process reads what it wrote, but the VFS also keeps, for every
    database, WAL and rollback journal, what a disk would have made durable:
    the file's content at its last xSync, the writes and truncates made
    since (in order), and which file each name pointed to when the
    directory was last synced. The unix VFS syncs the directory at the
    first xSync of a WAL or journal it created, and on xDelete when asked;
    those are the directory syncs modelled (a delete or a creation is not
    durable before one). The real fsync is not called: the model, not the
    disk, decides what survives.

    The cut_at-th counted call (xWrite, xSync, xTruncate, xDelete on a
    tracked file) is where the power goes: it does nothing and fails, and
    so does all later I/O (the process has lost its disk). After the
    caller has closed every connection, powerloss_vfs_restore rewrites the
    files to what survived:
    - POWERLOSS_DROP: exactly what was synced; every later write, truncate,
      creation and deletion is lost.
    - POWERLOSS_SECTORS: what was synced, then, in the order they were made,
      each unsynced write cut into 512-byte sectors of which a seeded random
      subset survives (30, 90 or 99 % of them, drawn per cut), half of the
      others torn (a prefix of the sector's new bytes, the rest old); each unsynced truncate and each unsynced creation or
      deletion survives or not at random. Bytes a write did not cover
      never change (SQLite's powersafe-overwrite assumption).
    Not modelled: a disk that acknowledges fsync and loses the data (a
    lying write cache), bit rot, a write torn inside bytes that were
    synced, and the -shm file (memory, rebuilt by SQLite on open, left as
    the cut found it).

    For tests only, one thread. */

#ifndef POWERLOSS_VFS_H
#define POWERLOSS_VFS_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    POWERLOSS_DROP = 1,         /* unsynced writes are all lost */
    POWERLOSS_SECTORS = 2       /* a random subset of unsynced sectors survives, some torn */
} powerloss_mode_t;

/* What restore did, for the test's report. */
typedef struct {
    int files;                  /* files rewritten */
    int keep_percent;           /* POWERLOSS_SECTORS: the share of sectors drawn to survive whole */
    int names_gone;             /* names that existed at the cut and did not survive */
    int names_back;             /* names deleted before the cut that came back */
    long sectors_kept;          /* unsynced sectors that survived whole */
    long sectors_torn;          /* ... in part */
    long sectors_lost;          /* ... not at all */
} powerloss_report_t;

/* Register the power-loss VFS (once per process; not as the default).
   Returns 0 or an SQLite error code. */
int powerloss_vfs_install (void);

/* Start a new life: forget every file, make the power-loss VFS the
   default one, and cut the power at the cut_at-th counted call from now
   (0: never). Files that exist now count as synced, names included. */
void powerloss_vfs_arm (uint64_t cut_at);

/* Counted calls since the last arm (the cut included). */
uint64_t powerloss_vfs_events (void);

/* True once the power is cut. */
bool powerloss_vfs_is_cut (void);

/* Once no file of this life is open: rewrite the files to what survived
   the cut (as mode says, drawing with seed), make the real VFS the
   default again and forget every file. Without a cut, the files are
   left as they are. Fills report if not NULL. Returns 0, or -1 (said why
   on stderr) if a file is still open or one could not be rewritten. */
int powerloss_vfs_restore (powerloss_mode_t mode, uint64_t seed, powerloss_report_t *report);

#endif
