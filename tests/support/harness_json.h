/*  harness_json -- read a test's JSON by path: the worker's replies, the
    store's results, anything jansson holds.

    A path is object keys and array indexes separated by dots, like
    "results.0.id" or "error.class"; the empty path is the root itself. A
    root of NULL has nothing at any path, so a reply that never came reads
    as missing values and the CHECKs that follow fail, rather than crash. */

#ifndef HARNESS_JSON_H
#define HARNESS_JSON_H

#include <jansson.h>
#include <limits.h>

/* Return the value at path in root, or NULL if there is none. The value is
   borrowed from root. */
json_t *harness_get (json_t *root, const char *path);

/* Return the string at path, borrowed from root, or NULL if there is none or
   it is not a string. */
const char *harness_str (json_t *root, const char *path);

/* Return the integer at path, or LLONG_MIN if there is none or it is not an
   integer. */
long long harness_int (json_t *root, const char *path);

/* Return 1 or 0 for true or false at path, or -1 if there is none or it is
   not a boolean. */
int harness_bool (json_t *root, const char *path);

#endif
