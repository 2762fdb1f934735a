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
    long long value = -1;
    if (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
        value = harness_db_int (db, sql);
    sqlite3_close (db);
    return value;
}

long long
harness_db_int (sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    long long value = -1;
    if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
        value = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return value;
}

/*  Schema versions 1 to 3 as ledgerd wrote them (worker/store/store_schema.c
    before version 4), statement for statement: a migration test must start
    from what an old ledgerd left on disk, not from the new schema pared
    back. */
static const char s_schema_v3 [] =
    "CREATE TABLE category ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  name TEXT NOT NULL UNIQUE CHECK (length (CAST (name AS BLOB)) BETWEEN 1 AND 100),"
    "  parent_id INTEGER REFERENCES category (id)"
    ");"
    "CREATE INDEX category_parent ON category (parent_id);"
    "CREATE TABLE txn ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  amount INTEGER NOT NULL,"
    "  occurred_us INTEGER NOT NULL,"
    "  occurred_off INTEGER NOT NULL CHECK (occurred_off BETWEEN -1439 AND 1439),"
    "  description TEXT CHECK (length (CAST (description AS BLOB)) <= 1000),"
    "  category_id INTEGER REFERENCES category (id),"
    "  created_us INTEGER NOT NULL,"
    "  updated_us INTEGER NOT NULL"
    ");"
    "CREATE INDEX txn_occurred ON txn (occurred_us, id);"
    "CREATE INDEX txn_category ON txn (category_id);"
    "CREATE TABLE idempotency ("
    "  key BLOB PRIMARY KEY,"
    "  fingerprint INTEGER NOT NULL,"
    "  results BLOB NOT NULL,"
    "  failed INTEGER,"
    "  created_us INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX idempotency_created ON idempotency (created_us);"
    "PRAGMA user_version = 1;"
    "DROP INDEX idempotency_created;"
    "PRAGMA user_version = 2;"
    "ALTER TABLE txn ADD COLUMN external_id TEXT"
    "  CHECK (length (CAST (external_id AS BLOB)) BETWEEN 1 AND 128);"
    "CREATE UNIQUE INDEX txn_external_id ON txn (external_id) WHERE external_id IS NOT NULL;"
    "PRAGMA user_version = 3;";

int
harness_make_schema_v3 (const char *db_path, const char *then_sql)
{
    sqlite3 *db = NULL;
    char *message = NULL;
    int rc = sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_EXCLUSIVE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec (db, s_schema_v3, NULL, NULL, &message);
    if (rc == SQLITE_OK && then_sql)
        rc = sqlite3_exec (db, then_sql, NULL, NULL, &message);
    if (rc != SQLITE_OK)
        fprintf (stderr, "harness: cannot make a version 3 database at %s: %s\n", db_path,
                 message? message: sqlite3_errmsg (db));
    sqlite3_free (message);
    sqlite3_close (db);
    return rc == SQLITE_OK? 0: -1;
}
