/*  reply -- values in a reply decoded to JSON, found by path. */

#include "reply.h"

#include <limits.h>
#include <string.h>

/*  The child of node named by the length bytes at segment: an object key,
    or a decimal index into an array. */
static json_t *
s_child (json_t *node, const char *segment, size_t length)
{
    if (json_is_object (node))
        return json_object_getn (node, segment, length);
    if (!json_is_array (node) || length == 0 || length > 9)
        return NULL;
    size_t index = 0;
    for (size_t at = 0; at < length; at++) {
        if (segment [at] < '0' || segment [at] > '9')
            return NULL;
        index = index * 10 + (size_t) (segment [at] - '0');
    }
    return json_array_get (node, index);
}

json_t *
reply_get (json_t *root, const char *path)
{
    if (!root || !path)
        return NULL;
    json_t *node = root;
    const char *segment = path;
    while (node && *path) {
        size_t length = strcspn (segment, ".");
        node = s_child (node, segment, length);
        if (segment [length] == '\0')
            break;
        segment += length + 1;
    }
    return node;
}

const char *
reply_str (json_t *root, const char *path)
{
    json_t *value = reply_get (root, path);
    return json_is_string (value)? json_string_value (value): NULL;
}

long long
reply_int (json_t *root, const char *path)
{
    json_t *value = reply_get (root, path);
    return json_is_integer (value)? (long long) json_integer_value (value): LLONG_MIN;
}

int
reply_bool (json_t *root, const char *path)
{
    json_t *value = reply_get (root, path);
    return json_is_boolean (value)? (json_is_true (value)? 1: 0): -1;
}
