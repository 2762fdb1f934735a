/*  reply -- values in a reply decoded to JSON, found by path.

    For unit tests that run the store in-process and read its replies
    through proto_json: no worker, no sockets (worker_harness is for
    those). A path is object keys and array indexes separated by dots,
    like "results.0.id" or "error.class"; the empty path is the root. */

#ifndef LEDGER_TEST_REPLY_H
#define LEDGER_TEST_REPLY_H

#include <jansson.h>

/* The value at path in root (borrowed from root), or NULL if there is none. */
json_t *reply_get (json_t *root, const char *path);

/* The string at path (borrowed), or NULL if there is none or it is not one. */
const char *reply_str (json_t *root, const char *path);

/* The integer at path, or LLONG_MIN if there is none or it is not one. */
long long reply_int (json_t *root, const char *path);

/* 1 or 0 for true or false at path, or -1 if there is none or it is not a
   boolean. */
int reply_bool (json_t *root, const char *path);

#endif
