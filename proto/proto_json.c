/*  proto_json -- the JSON form of a wire message. */

#include "proto_json.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <msgpack.h>

/* jansson's parser refuses JSON nested deeper than this, so any value read
   from text encodes. A value built in code can nest further, or hold a cycle
   (jansson refuses only direct self-insertion); the bound turns both into an
   error instead of a stack overflow. */
#define S_MAX_DEPTH 2048

static void
s_error (char *errbuf, size_t errlen, const char *format, ...)
    __attribute__ ((format (printf, 3, 4)));

static void
s_error (char *errbuf, size_t errlen, const char *format, ...)
{
    if (!errbuf || errlen == 0)
        return;
    va_list args;
    va_start (args, format);
    vsnprintf (errbuf, errlen, format, args);
    va_end (args);
}

/*  Pack a string header and body. msgpack's largest string header is 32 bits;
    jansson's lengths are size_t. */
static int
s_pack_str (msgpack_packer *pk, const char *str, size_t len, char *errbuf, size_t errlen)
{
    if (len > UINT32_MAX) {
        s_error (errbuf, errlen, "a string of %zu bytes is longer than msgpack allows", len);
        return -1;
    }
    if (msgpack_pack_str (pk, len) || msgpack_pack_str_body (pk, str, len)) {
        s_error (errbuf, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/*  Pack one value and, depth-first, everything in it. */
static int
s_pack (msgpack_packer *pk, const json_t *json, int depth, char *errbuf, size_t errlen)
{
    if (depth > S_MAX_DEPTH) {
        s_error (errbuf, errlen, "nested deeper than %d levels (or a cycle)", S_MAX_DEPTH);
        return -1;
    }
    int rc = 0;
    switch (json_typeof (json)) {
        case JSON_OBJECT: {
            size_t size = json_object_size (json);
            if (size > UINT32_MAX) {
                s_error (errbuf, errlen, "an object of %zu keys is larger than msgpack allows", size);
                return -1;
            }
            rc = msgpack_pack_map (pk, size);
            //  jansson's iterator takes a non-const object but does not change
            //  it; it walks keys in insertion order, which is the order we keep.
            json_t *object = (json_t *) json;
            for (void *iter = json_object_iter (object);
                 iter && rc == 0;
                 iter = json_object_iter_next (object, iter)) {
                //  Keys may hold NUL bytes since jansson 2.14, so take the length.
                if (s_pack_str (pk, json_object_iter_key (iter),
                                json_object_iter_key_len (iter), errbuf, errlen)
                ||  s_pack (pk, json_object_iter_value (iter), depth + 1, errbuf, errlen))
                    return -1;
            }
            break;
        }
        case JSON_ARRAY: {
            size_t size = json_array_size (json);
            if (size > UINT32_MAX) {
                s_error (errbuf, errlen, "an array of %zu items is larger than msgpack allows", size);
                return -1;
            }
            rc = msgpack_pack_array (pk, size);
            for (size_t index = 0; index < size && rc == 0; index++)
                if (s_pack (pk, json_array_get (json, index), depth + 1, errbuf, errlen))
                    return -1;
            break;
        }
        case JSON_STRING:
            return s_pack_str (pk, json_string_value (json), json_string_length (json),
                               errbuf, errlen);
        case JSON_INTEGER:
            rc = msgpack_pack_int64 (pk, (int64_t) json_integer_value (json));
            break;
        case JSON_REAL:
            //  Always float64, never a whole number turned integer: tests send
            //  reals precisely to see the worker refuse them.
            rc = msgpack_pack_double (pk, json_real_value (json));
            break;
        case JSON_TRUE:
            rc = msgpack_pack_true (pk);
            break;
        case JSON_FALSE:
            rc = msgpack_pack_false (pk);
            break;
        case JSON_NULL:
            rc = msgpack_pack_nil (pk);
            break;
    }
    if (rc) {
        s_error (errbuf, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int
proto_json_to_msgpack (const json_t *json, char **data_p, size_t *size_p,
                       char *errbuf, size_t errlen)
{
    if (!json) {
        s_error (errbuf, errlen, "no value to encode");
        return -1;
    }
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    if (s_pack (&pk, json, 0, errbuf, errlen)) {
        msgpack_sbuffer_destroy (&sbuf);
        return -1;
    }
    //  The sbuffer grows with realloc, so its buffer is the caller's to free.
    *size_p = sbuf.size;
    *data_p = msgpack_sbuffer_release (&sbuf);
    return 0;
}

static const char *
s_type_name (msgpack_object_type type)
{
    switch (type) {
        case MSGPACK_OBJECT_NIL:              return "nil";
        case MSGPACK_OBJECT_BOOLEAN:          return "bool";
        case MSGPACK_OBJECT_POSITIVE_INTEGER: return "int";
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "int";
        case MSGPACK_OBJECT_FLOAT32:          return "float32";
        case MSGPACK_OBJECT_FLOAT64:          return "float64";
        case MSGPACK_OBJECT_STR:              return "str";
        case MSGPACK_OBJECT_ARRAY:            return "array";
        case MSGPACK_OBJECT_MAP:              return "map";
        case MSGPACK_OBJECT_BIN:              return "bin";
        case MSGPACK_OBJECT_EXT:              return "ext";
    }
    return "unknown type";
}

static json_t *s_unpack (const msgpack_object *obj, char *errbuf, size_t errlen);

/*  A map becomes an object only if every key is a string and none repeats:
    jansson would keep the last of two equal keys and hide the first. */
static json_t *
s_unpack_map (const msgpack_object_map *map, char *errbuf, size_t errlen)
{
    json_t *object = json_object ();
    if (!object)
        goto nomem;
    for (uint32_t index = 0; index < map->size; index++) {
        const msgpack_object *key = &map->ptr [index].key;
        if (key->type != MSGPACK_OBJECT_STR) {
            s_error (errbuf, errlen, "cannot show a map key of type %s as JSON",
                     s_type_name (key->type));
            goto failed;
        }
        //  msgpack-c leaves ptr NULL for an empty string; jansson wants "".
        const char *key_ptr = key->via.str.size? key->via.str.ptr: "";
        size_t key_len = key->via.str.size;
        if (json_object_getn (object, key_ptr, key_len)) {
            s_error (errbuf, errlen, "cannot show a map with the key \"%.*s\" twice as JSON",
                     (int) key_len, key_ptr);
            goto failed;
        }
        json_t *value = s_unpack (&map->ptr [index].val, errbuf, errlen);
        if (!value)
            goto failed;
        //  Takes value even when it fails; it fails on a key that is not UTF-8.
        if (json_object_setn_new (object, key_ptr, key_len, value)) {
            s_error (errbuf, errlen, "cannot show a map key that is not valid UTF-8 as JSON");
            goto failed;
        }
    }
    return object;

nomem:
    s_error (errbuf, errlen, "out of memory");
failed:
    json_decref (object);
    return NULL;
}

static json_t *
s_unpack_array (const msgpack_object_array *array, char *errbuf, size_t errlen)
{
    json_t *json = json_array ();
    if (!json)
        goto nomem;
    for (uint32_t index = 0; index < array->size; index++) {
        json_t *item = s_unpack (&array->ptr [index], errbuf, errlen);
        if (!item)
            goto failed;
        if (json_array_append_new (json, item))
            goto nomem;
    }
    return json;

nomem:
    s_error (errbuf, errlen, "out of memory");
failed:
    json_decref (json);
    return NULL;
}

/*  Convert one unpacked value. The recursion needs no bound of its own:
    msgpack-c's unpacker already refuses nesting deeper than 32 levels. */
static json_t *
s_unpack (const msgpack_object *obj, char *errbuf, size_t errlen)
{
    json_t *json = NULL;
    switch (obj->type) {
        case MSGPACK_OBJECT_NIL:
            json = json_null ();
            break;
        case MSGPACK_OBJECT_BOOLEAN:
            json = json_boolean (obj->via.boolean);
            break;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            if (obj->via.u64 > INT64_MAX) {
                s_error (errbuf, errlen,
                         "cannot show %" PRIu64 " as JSON: jansson integers stop at INT64_MAX",
                         obj->via.u64);
                return NULL;
            }
            json = json_integer ((json_int_t) obj->via.u64);
            break;
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            json = json_integer ((json_int_t) obj->via.i64);
            break;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            //  msgpack-c widens float32 into f64. JSON has no NaN or infinity.
            if (!isfinite (obj->via.f64)) {
                s_error (errbuf, errlen, "cannot show %s %g as JSON",
                         s_type_name (obj->type), obj->via.f64);
                return NULL;
            }
            json = json_real (obj->via.f64);
            break;
        case MSGPACK_OBJECT_STR:
            //  json_stringn keeps embedded NUL bytes and refuses bad UTF-8.
            json = json_stringn (obj->via.str.size? obj->via.str.ptr: "", obj->via.str.size);
            if (!json) {
                s_error (errbuf, errlen, "cannot show a str that is not valid UTF-8 as JSON");
                return NULL;
            }
            break;
        case MSGPACK_OBJECT_ARRAY:
            return s_unpack_array (&obj->via.array, errbuf, errlen);
        case MSGPACK_OBJECT_MAP:
            return s_unpack_map (&obj->via.map, errbuf, errlen);
        case MSGPACK_OBJECT_BIN:
        case MSGPACK_OBJECT_EXT:
        default:
            s_error (errbuf, errlen, "cannot show %s as JSON", s_type_name (obj->type));
            return NULL;
    }
    if (!json)
        s_error (errbuf, errlen, "out of memory");
    return json;
}

json_t *
proto_json_from_msgpack (const void *data, size_t size, char *errbuf, size_t errlen)
{
    if (size == 0) {
        s_error (errbuf, errlen, "no msgpack value: the input is empty");
        return NULL;
    }
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    json_t *json = NULL;
    msgpack_unpack_return rc = msgpack_unpack_next (&unpacked, (const char *) data, size, &offset);
    if (rc == MSGPACK_UNPACK_CONTINUE)
        s_error (errbuf, errlen, "truncated msgpack: %zu bytes end inside a value", size);
    else
    if (rc == MSGPACK_UNPACK_NOMEM_ERROR)
        s_error (errbuf, errlen, "out of memory decoding msgpack");
    else
    if (rc < 0)
        s_error (errbuf, errlen, "malformed msgpack, or nested deeper than msgpack-c allows");
    else
    if (offset != size)
        s_error (errbuf, errlen, "%zu trailing byte%s after the msgpack value",
                 size - offset, size - offset == 1? "": "s");
    else
        json = s_unpack (&unpacked.data, errbuf, errlen);
    msgpack_unpacked_destroy (&unpacked);
    return json;
}
