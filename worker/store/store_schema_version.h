/*  store_schema_version -- the schema version this build writes.

    One number, shared by the worker (store_schema.c migrates a database up
    to it) and the tools that check a database file without running the
    worker (`ledgerctl backup --verify`). store_schema.c asserts that its
    migrations end here. */

#ifndef STORE_SCHEMA_VERSION_H
#define STORE_SCHEMA_VERSION_H

/* PRAGMA user_version of a database this build has made or migrated. */
#define STORE_SCHEMA_VERSION 4

#endif
