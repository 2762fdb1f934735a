/*  harness_files -- what tests leave on disk: read a value from a SQLite
    database, make a scratch directory, remove a directory tree.

    Neither needs a running worker: unit tests use them on the databases and
    directories they make themselves. */

#ifndef HARNESS_FILES_H
#define HARNESS_FILES_H

#include <stddef.h>

/* Run sql on the database at db_path (read-only, a connection of its own)
   and return the first column of the first row as an integer, or -1. */
long long harness_sql_int (const char *db_path, const char *sql);

/* The same on a connection the test holds open. */
typedef struct sqlite3 sqlite3;
long long harness_db_int (sqlite3 *db, const char *sql);

/* Remove dir and everything in it, never following symlinks: for temporary
   directories, and those a test kept with harness_stop (&h, true). Returns
   0, or -1 with the reason on stderr. */
int harness_remove_dir (const char *dir);

/* Write a new database at db_path (which must not exist) exactly as
   ledgerd made it at schema version 3, the last before row versions, with
   then_sql (may be NULL) run after it: rows to migrate. Returns 0, or -1
   with the reason on stderr. */
int harness_make_schema_v3 (const char *db_path, const char *then_sql);

/* Make a fresh directory /tmp/<name>-XXXXXX and write its path into dir
   (size bytes). Returns 0, or -1 with the reason on stderr. */
int harness_make_dir (char *dir, size_t size, const char *name);

#endif
