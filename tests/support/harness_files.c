/*  harness_files -- read a test's database, make and remove its directories. */

#ifndef _GNU_SOURCE
#   define _GNU_SOURCE          /* nftw */
#endif

#include "harness_files.h"

#include <sqlite3.h>

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int
s_remove_entry (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void) st;
    (void) type;
    (void) ftw;
    if (remove (path)) {
        fprintf (stderr, "harness: cannot remove %s: %s\n", path, strerror (errno));
        return -1;
    }
    return 0;
}

int
harness_remove_dir (const char *dir)
{
    assert (dir && *dir);
    //  Depth first, so a directory is empty when its turn comes; never
    //  following symlinks, so nothing outside dir is touched.
    return nftw (dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS)? -1: 0;
}

int
harness_make_dir (char *dir, size_t size, const char *name)
{
    int length = snprintf (dir, size, "/tmp/%s-XXXXXX", name);
    if (length < 0 || (size_t) length >= size || !mkdtemp (dir)) {
        fprintf (stderr, "harness: cannot make /tmp/%s-XXXXXX: %s\n", name,
                 length < 0 || (size_t) length >= size? "name too long": strerror (errno));
        return -1;
    }
    return 0;
}

long long
harness_sql_int (const char *db_path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    long long value = -1;
    if (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK
    &&  sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK
    &&  sqlite3_step (stmt) == SQLITE_ROW)
        value = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    sqlite3_close (db);
    return value;
}
