/*  backup -- online backups: a thread that takes consistent snapshots of
    the database and serves them in chunks (sys.backup, sys.backup_read,
    sys.backup_end in the op table).

    A snapshot is a plain SQLite file written next to the database
    (DB.backup-TOKEN), copied page by page with sqlite3_backup on a
    read-only connection of the thread's own, inside one read transaction:
    in WAL mode that sees one commit and every commit before it, and holds
    no lock a writer waits for. The copy runs on this thread, not on a
    reader's, so that a snapshot of gigabytes does not stall the read
    batches queued for that reader; and not on the front end, which is the
    writer. Jobs arrive as pointers over an inproc PAIR, as for the
    readers, and go back the same way with their reply filled in.

    A snapshot lives until sys.backup_end, until nobody has read it for the
    idle timeout, or until the worker stops; its file goes with it. Files a
    worker killed outright left behind are removed when the next one
    starts (backup_new). */

#ifndef WORKER_BACKUP_H
#define WORKER_BACKUP_H

#include "stats.h"

#include <stdbool.h>
#include <stddef.h>

/* Snapshots held at once; one more sys.backup is `overloaded`. */
#define BACKUP_MAX_SNAPSHOTS 4

/* Tokens of ended or expired snapshots remembered, to say which it was. */
#define BACKUP_GONE_MAX 16

typedef struct _backup_t backup_t;

/* Start the backup thread on ctx (a ZeroMQ context) for the database at
   db_path, first removing snapshot files an earlier worker left. The thread
   connects a PAIR socket to endpoint, which the caller has already bound.
   A snapshot nobody reads for idle_s seconds is removed. The thread runs
   nice steps nicer than the writer, and at the lowest best-effort I/O
   priority. stats (borrowed) counts the batches it answers. Returns NULL
   and writes why into errbuf on failure. */
backup_t *backup_new (void *ctx, const char *endpoint, const char *db_path, int idle_s, int nice, stats_t *stats,
                      char *errbuf, size_t errlen);

/* Make the snapshot being taken, if any, stop soon (its batch is answered
   `overloaded` / SHUTTING_DOWN), and every later job too. Safe from any
   thread. */
void backup_cancel (backup_t *self);

/* Stop the thread through pipe (the caller's end of the PAIR), wait for it,
   remove every snapshot file; set *self_p to NULL. Jobs sent before this
   call are answered and sent back first. */
void backup_destroy (backup_t **self_p, void *pipe);

#endif
