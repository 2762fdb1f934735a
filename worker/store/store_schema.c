/*  store_schema -- the schema, versioned with PRAGMA user_version.

    s_migrations [k] takes a database from version k to k + 1. A database
    whose version this build does not know (newer, or negative) is refused
    rather than guessed at.
    Each step runs in its own write transaction with the version bump, so a
    crash mid-migration leaves the previous version intact. */

#include "store_schema_version.h"
#include "store_internal.h"

#include <stdio.h>

static const char *s_migrations [] = {
    /*  1: categories, transactions, idempotency keys.
        Amounts are integer minor units; an instant is microseconds UTC with
        the offset it was written in, so it reads back as written.
        AUTOINCREMENT: an id is never handed out twice, so a producer that
        kept the id of a deleted row cannot change someone else's. */
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
    "CREATE INDEX idempotency_created ON idempotency (created_us);",
    /*  2: no index on idempotency.created_us. Every keyed batch paid for
        it (about a sixth of the writer's SQL per 1-op batch) so that a
        prune once a minute could find old keys; store_prune now sweeps the
        key order a few thousand keys a second instead. */
    "DROP INDEX idempotency_created;",
    /*  3: the producer's own name for a transaction (txn.create
        external_id), unique where given, so that rows sent twice -- a
        re-sent file, overlapping statements -- are recognised long after
        their idempotency keys are gone. The index is partial: rows without
        one (all rows before this version) cost it nothing. */
    "ALTER TABLE txn ADD COLUMN external_id TEXT"
    "  CHECK (length (CAST (external_id AS BLOB)) BETWEEN 1 AND 128);"
    "CREATE UNIQUE INDEX txn_external_id ON txn (external_id) WHERE external_id IS NOT NULL;",
    /*  4: row versions for optimistic concurrency (expect_version on
        update and delete). Every row there already is at version 1, as
        if just created: nothing that read it before could have seen
        another. SQLite writes an added column into the table's CREATE
        statement, so a database made new has the same schema as one
        migrated. */
    "ALTER TABLE category ADD COLUMN version INTEGER NOT NULL DEFAULT 1;"
    "ALTER TABLE txn ADD COLUMN version INTEGER NOT NULL DEFAULT 1;",
};

#define MIGRATION_COUNT ((int) (sizeof (s_migrations) / sizeof (s_migrations [0])))
_Static_assert (MIGRATION_COUNT == STORE_SCHEMA_VERSION, "store_schema_version.h names the last migration");

int
store_schema_latest (void)
{
    return MIGRATION_COUNT;
}

/*  The version indexes s_migrations: one this build did not write
    (negative, or newer) is refused before it can index anything. */
static int
s_version_known (int64_t version, char *errbuf, size_t errlen)
{
    if (version > MIGRATION_COUNT) {
        snprintf (errbuf, errlen, "the database has schema version %lld, newer than this build's %d:"
                  " use a newer ledgerd", (long long) version, MIGRATION_COUNT);
        return -1;
    }
    if (version < 0) {
        snprintf (errbuf, errlen, "the database has schema version %lld, which no ledgerd writes"
                  " (this build knows 0 to %d): refusing to touch it", (long long) version, MIGRATION_COUNT);
        return -1;
    }
    return 0;
}

/*  The objects in the database that SQLite did not make itself, and how
    many of ledgerd's three tables are among them. */
#define SQL_OWN_OBJECTS \
    "SELECT count (*) FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
#define SQL_LEDGERD_TABLES \
    "SELECT count (*) FROM sqlite_master WHERE type = 'table'" \
    " AND name IN ('category', 'txn', 'idempotency')"

int
store_schema_check (store_db_t *db, char *errbuf, size_t errlen)
{
    int64_t version = 0, objects = 0, ours = 0;
    if (db->ops->query_int (db, "PRAGMA user_version", &version) != SQLITE_OK
    ||  db->ops->query_int (db, SQL_OWN_OBJECTS, &objects) != SQLITE_OK
    ||  db->ops->query_int (db, SQL_LEDGERD_TABLES, &ours) != SQLITE_OK) {
        snprintf (errbuf, errlen, "cannot read the schema: %s", db->ops->errmsg (db));
        return -1;
    }
    /*  Another program's database: migrating it would add ledgerd's tables
        to it (or fail half-way on a name both use). A ledgerd database has
        all three tables from version 1 on, written with the version. */
    if (objects > 0 && (version == 0 || ours < 3)) {
        snprintf (errbuf, errlen, "not a ledgerd database (schema version %lld, %lld schema object%s,"
                  " %d of ledgerd's 3 tables): refusing to touch it; give --db a path of its own",
                  (long long) version, (long long) objects, objects == 1? "": "s", (int) ours);
        return -1;
    }
    return s_version_known (version, errbuf, errlen);
}

int
store_schema_migrate (store_db_t *db, char *errbuf, size_t errlen)
{
    int64_t version = 0;
    if (db->ops->query_int (db, "PRAGMA user_version", &version) != SQLITE_OK) {
        snprintf (errbuf, errlen, "cannot read the schema version: %s", db->ops->errmsg (db));
        return -1;
    }
    if (s_version_known (version, errbuf, errlen))
        return -1;
    for (; version < MIGRATION_COUNT; version++) {
        char bump [64];
        snprintf (bump, sizeof (bump), "PRAGMA user_version = %d", (int) version + 1);
        /*  One statement a request: dqlite runs a script statement by
            statement too, but says nothing of which one failed. */
        int rc = db->ops->exec_script (db, "BEGIN IMMEDIATE");
        if (rc == SQLITE_OK)
            rc = db->ops->exec_script (db, s_migrations [version]);
        if (rc == SQLITE_OK)
            rc = db->ops->exec_script (db, bump);
        if (rc == SQLITE_OK)
            rc = db->ops->exec_script (db, "COMMIT");
        if (rc != SQLITE_OK) {
            snprintf (errbuf, errlen, "cannot migrate the schema to version %d: %s",
                      (int) version + 1, db->ops->errmsg (db));
            db->ops->exec_script (db, "ROLLBACK");
            return -1;
        }
    }
    return 0;
}
