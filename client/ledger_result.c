/*  ledger_result -- what happened to one batch, with typed accessors.

    A load generator reads thousands of results a second, and a tree of
    jansson objects (one per row, one per field) cost it most of its CPU. So
    a result keeps one copy of the reply bytes and one msgpack-c unpack of
    them into a zone: no allocation per row or per field.

    The bytes are checked with the bounded proto_reader first: a reply is
    still bytes from the network, and msgpack-c's unpacker allocates by the
    sizes a message declares. Only once every size is known to fit the bytes
    does msgpack-c see them.

    The unpacked strings point into the copy and are not NUL-terminated. An
    accessor that lends a string out copies it into the zone with a NUL the
    first time and points the object at the copy (the tree is ours), so the
    string lives as long as the result and a second call costs nothing.
    Accessors therefore change the result: one result is read by one thread
    at a time.

    ledgerctl prints results as JSON; ledger_result_json builds that from the
    bytes when asked, which is the only place a jansson tree is made. */

#include "ledger_internal.h"
#include "proto_json.h"
#include "proto_reader.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _ledger_result_t {
    ledger_status_t status;
    uint64_t request_id;
    int tries;
    msgpack_unpacked reply;     /* the wire reply; its objects live in reply.zone */
    char describe [600];
    size_t size;
    char bytes [];              /* the reply's bytes, which its strings point into */
};

static bool
s_is (const msgpack_object *obj, msgpack_object_type type)
{
    return obj && obj->type == type;
}

/*  The value of key in map, or NULL if map is not a map or has no such key.
    proto_reader has made sure every key is a string and none repeats. */
static msgpack_object *
s_get (const msgpack_object *map, const char *key)
{
    if (!s_is (map, MSGPACK_OBJECT_MAP))
        return NULL;
    size_t len = strlen (key);
    for (uint32_t index = 0; index < map->via.map.size; index++) {
        const msgpack_object *name = &map->via.map.ptr [index].key;
        if (name->type == MSGPACK_OBJECT_STR && name->via.str.size == len
        &&  memcmp (name->via.str.ptr, key, len) == 0)
            return &map->via.map.ptr [index].val;
    }
    return NULL;
}

/*  Entry index of array, or NULL if array is not an array or is shorter. */
static msgpack_object *
s_at (const msgpack_object *array, size_t index)
{
    if (!s_is (array, MSGPACK_OBJECT_ARRAY) || index >= array->via.array.size)
        return NULL;
    return &array->via.array.ptr [index];
}

static size_t
s_size (const msgpack_object *array)
{
    return s_is (array, MSGPACK_OBJECT_ARRAY)? array->via.array.size: 0;
}

static bool
s_is_int (const msgpack_object *obj)
{
    return s_is (obj, MSGPACK_OBJECT_POSITIVE_INTEGER) || s_is (obj, MSGPACK_OBJECT_NEGATIVE_INTEGER);
}

/*  An integer, or 0 if obj is not one. Positive integers above INT64_MAX
    were refused when the reply was read. */
static int64_t
s_int (const msgpack_object *obj)
{
    if (!s_is_int (obj))
        return 0;
    return obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER? (int64_t) obj->via.u64: obj->via.i64;
}

/*  True only for true: absent, nil or any other type is false. */
static bool
s_bool (const msgpack_object *obj)
{
    return s_is (obj, MSGPACK_OBJECT_BOOLEAN) && obj->via.boolean;
}

/*  A NUL-terminated string that lives as long as self, or NULL if obj is not
    a string (or there is no memory to copy it into). A string still in the
    reply's bytes is copied into the zone and the object pointed at the copy;
    a pointer outside the bytes is such a copy already. */
static const char *
s_str (ledger_result_t *self, msgpack_object *obj)
{
    if (!s_is (obj, MSGPACK_OBJECT_STR))
        return NULL;
    msgpack_object_str *str = &obj->via.str;
    /*  An empty string's pointer may be NULL, or one past the bytes, where
        it would pass for a copy; it needs no copy anyway. */
    if (str->size == 0)
        return "";
    uintptr_t at = (uintptr_t) str->ptr;
    uintptr_t start = (uintptr_t) self->bytes;
    if (at < start || at >= start + self->size)
        return str->ptr;
    char *copy = msgpack_zone_malloc_no_align (self->reply.zone, (size_t) str->size + 1);
    if (!copy)
        return NULL;
    memcpy (copy, str->ptr, str->size);
    copy [str->size] = 0;
    str->ptr = copy;
    return copy;
}

/*  True if obj, and everything in it, has a JSON form. proto_reader has
    already refused what else proto_json_from_msgpack refuses (keys that are
    not strings or repeat, strings that are not UTF-8), so a result that
    exists can always be shown by ledger_result_json. msgpack-c bounds the
    depth of the recursion. */
static bool
s_showable (const msgpack_object *obj)
{
    switch (obj->type) {
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
            return obj->via.u64 <= INT64_MAX;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            return isfinite (obj->via.f64);
        case MSGPACK_OBJECT_BIN:       /* sys.backup_read's bytes: ledger_result_data */
            return true;
        case MSGPACK_OBJECT_EXT:
            return false;
        case MSGPACK_OBJECT_ARRAY:
            for (uint32_t index = 0; index < obj->via.array.size; index++)
                if (!s_showable (&obj->via.array.ptr [index]))
                    return false;
            return true;
        case MSGPACK_OBJECT_MAP:
            for (uint32_t index = 0; index < obj->via.map.size; index++)
                if (!s_showable (&obj->via.map.ptr [index].val))
                    return false;
            return true;
        default:
            return true;
    }
}

static msgpack_object *
s_root (ledger_result_t *self)
{
    return &self->reply.data;
}

static msgpack_object *
s_error (ledger_result_t *self)
{
    return s_get (s_root (self), "error");
}

/*  s_str, or "" where there is no string (a reply from a newer or broken
    worker may lack a field): for printing. */
static const char *
s_text (ledger_result_t *self, msgpack_object *obj)
{
    const char *text = s_str (self, obj);
    return text? text: "";
}

static void
s_describe (ledger_result_t *self)
{
    msgpack_object *root = s_root (self);
    msgpack_object *error = s_error (self);
    if (self->status == LEDGER_OK) {
        size_t n = s_size (s_get (root, "results"));
        snprintf (self->describe, sizeof (self->describe), "ok (%zu op%s%s%s)", n, n == 1? "": "s",
                  s_int (s_get (root, "failed"))? ", some failed: see each op": "",
                  s_bool (s_get (root, "replayed"))? ", replayed": "");
        return;
    }
    if (self->status == LEDGER_UNKNOWN) {
        snprintf (self->describe, sizeof (self->describe), "%s",
                  s_text (self, s_get (error, "message")));
        return;
    }
    msgpack_object *op = s_get (error, "op");
    const char *field = s_str (self, s_get (error, "field"));
    char where [160] = "";
    if (s_is_int (op))
        snprintf (where, sizeof (where), " at op %lld%s%s%s", (long long) s_int (op),
                  field? " (": "", field? field: "", field? ")": "");
    snprintf (self->describe, sizeof (self->describe), "failed: %s%s: %s: %s%s",
              s_text (self, s_get (error, "class")), where,
              s_text (self, s_get (error, "code")),
              s_text (self, s_get (error, "message")),
              s_bool (s_get (error, "retryable"))? " (retryable)": "");
}

/*  Say why msgpack-c refused bytes proto_reader accepted, or why they have
    no JSON form. proto_json_from_msgpack unpacks and refuses exactly as the
    checks here do, so it gives the reason without a second copy of its
    messages; this only runs for a reply that is refused anyway. */
static void
s_refused (const void *data, size_t size, char *errbuf, size_t errlen)
{
    json_t *json = proto_json_from_msgpack (data, size, errbuf, errlen);
    if (json) {
        json_decref (json);
        snprintf (errbuf, errlen, "out of memory decoding msgpack");
    }
}

/*  A result (status from "ok", request id from "id", one try) for the reply
    in size bytes at data, or NULL with why in errbuf. */
static ledger_result_t *
s_parse (const void *data, size_t size, char *errbuf, size_t errlen)
{
    /*  One whole value, sizes that fit the bytes, before msgpack-c sees it. */
    proto_reader_t reader;
    proto_item_t item;
    proto_reader_init (&reader, data, size);
    proto_read_rc_t rc = proto_reader_next (&reader, &item);
    if (rc == PROTO_READ_OK)
        rc = proto_reader_skip_rest (&reader, &item, 0);
    if (rc != PROTO_READ_OK || proto_reader_remaining (&reader) || item.type != PROTO_ITEM_MAP) {
        snprintf (errbuf, errlen, "bad reply: %s", rc? proto_read_rc_str (rc): "not one msgpack map");
        return NULL;
    }
    ledger_result_t *self = calloc (1, sizeof (ledger_result_t) + size);
    if (!self) {
        snprintf (errbuf, errlen, "out of memory");
        return NULL;
    }
    memcpy (self->bytes, data, size);
    self->size = size;
    msgpack_unpacked_init (&self->reply);
    size_t offset = 0;
    if (msgpack_unpack_next (&self->reply, self->bytes, size, &offset) != MSGPACK_UNPACK_SUCCESS
    ||  offset != size || !s_showable (s_root (self))) {
        s_refused (data, size, errbuf, errlen);
        goto failed;
    }
    msgpack_object *root = s_root (self);
    msgpack_object *ok = s_get (root, "ok");
    msgpack_object *v = s_get (root, "v");
    if (!s_is (ok, MSGPACK_OBJECT_BOOLEAN) || !s_is_int (v) || s_int (v) != 1
    ||  (ok->via.boolean && !s_is (s_get (root, "results"), MSGPACK_OBJECT_ARRAY))
    ||  (!ok->via.boolean && !s_is (s_error (self), MSGPACK_OBJECT_MAP))) {
        snprintf (errbuf, errlen, "bad reply: not a protocol v1 reply map");
        goto failed;
    }
    self->status = ok->via.boolean? LEDGER_OK: LEDGER_FAILED;
    int64_t id = s_int (s_get (root, "id"));
    self->request_id = id > 0? (uint64_t) id: 0;
    self->tries = 1;
    return self;

failed:
    msgpack_unpacked_destroy (&self->reply);
    free (self);
    return NULL;
}

ledger_result_t *
ledger_result_from_reply (const void *data, size_t size, char *errbuf, size_t errlen)
{
    ledger_result_t *self = s_parse (data, size, errbuf, errlen);
    if (self)
        s_describe (self);
    return self;
}

static int
s_pack_str (msgpack_packer *packer, const char *str)
{
    size_t len = strlen (str);
    return msgpack_pack_str (packer, len) || msgpack_pack_str_body (packer, str, len);
}

/*  A reply-shaped map for an answer the library gives itself, read like
    any other, so every accessor and ledger_result_json treat it as they
    treat a real one. unknown: no reply, the outcome is unknown (the map
    says so with "unknown": true). */
static ledger_result_t *
s_local (uint64_t request_id, int tries, bool unknown, const char *klass, const char *code, const char *message)
{
    msgpack_sbuffer buffer;
    msgpack_sbuffer_init (&buffer);
    msgpack_packer packer;
    msgpack_packer_init (&packer, &buffer, msgpack_sbuffer_write);
    int rc = msgpack_pack_map (&packer, unknown? 6: 5)
          || s_pack_str (&packer, "v") || msgpack_pack_int (&packer, 1)
          || s_pack_str (&packer, "id") || msgpack_pack_int64 (&packer, (int64_t) request_id)
          || s_pack_str (&packer, "ok") || msgpack_pack_false (&packer)
          || (unknown && (s_pack_str (&packer, "unknown") || msgpack_pack_true (&packer)))
          || s_pack_str (&packer, "tries") || msgpack_pack_int (&packer, tries)
          || s_pack_str (&packer, "error") || msgpack_pack_map (&packer, 6)
          || s_pack_str (&packer, "class") || s_pack_str (&packer, klass)
          || s_pack_str (&packer, "retryable") || (unknown? msgpack_pack_true (&packer): msgpack_pack_false (&packer))
          || s_pack_str (&packer, "op") || msgpack_pack_nil (&packer)
          || s_pack_str (&packer, "field") || msgpack_pack_nil (&packer)
          || s_pack_str (&packer, "code") || s_pack_str (&packer, code)
          || s_pack_str (&packer, "message") || s_pack_str (&packer, message);
    ledger_result_t *self = rc? NULL: s_parse (buffer.data, buffer.size, NULL, 0);
    msgpack_sbuffer_destroy (&buffer);
    if (!self)
        return NULL;
    self->status = unknown? LEDGER_UNKNOWN: LEDGER_FAILED;
    self->request_id = request_id;
    self->tries = tries;
    s_describe (self);
    return self;
}

ledger_result_t *
ledger_result_unknown (uint64_t request_id, int tries, const char *reason)
{
    char message [400];
    snprintf (message, sizeof (message), "outcome unknown after %d tr%s: %s", tries, tries == 1? "y": "ies", reason);
    /*  A reply's strings are UTF-8: a reason cut mid-character loses the
        partial character, and one that is not UTF-8 at all is left out. */
    proto_utf8_trim (message);
    if (!proto_utf8_valid (message, strlen (message)))
        snprintf (message, sizeof (message), "outcome unknown after %d tr%s", tries, tries == 1? "y": "ies");
    return s_local (request_id, tries, true, "unknown", "NO_REPLY", message);
}

ledger_result_t *
ledger_result_denied (uint64_t request_id, int tries, const char *code, const char *message)
{
    return s_local (request_id, tries, false, "denied", code, message);
}

void
ledger_result_destroy (ledger_result_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    msgpack_unpacked_destroy (&(*self_p)->reply);
    free (*self_p);
    *self_p = NULL;
}

uint64_t
ledger_result_reply_id (ledger_result_t *self)
{
    return self->request_id;
}

void
ledger_result_set_tries (ledger_result_t *self, int tries)
{
    self->tries = tries;
}

ledger_status_t
ledger_result_status (ledger_result_t *self)
{
    return self->status;
}

const char *
ledger_result_describe (ledger_result_t *self)
{
    return self->describe;
}

uint64_t
ledger_result_request_id (ledger_result_t *self)
{
    return self->request_id;
}

int
ledger_result_tries (ledger_result_t *self)
{
    return self->tries;
}

bool
ledger_result_replayed (ledger_result_t *self)
{
    return s_bool (s_get (s_root (self), "replayed"));
}

const char *
ledger_result_error_class (ledger_result_t *self)
{
    return self->status == LEDGER_FAILED? s_str (self, s_get (s_error (self), "class")): NULL;
}

bool
ledger_result_retryable (ledger_result_t *self)
{
    return s_bool (s_get (s_error (self), "retryable"));
}

int
ledger_result_error_op (ledger_result_t *self)
{
    msgpack_object *op = s_get (s_error (self), "op");
    return s_is_int (op)? (int) s_int (op): -1;
}

const char *
ledger_result_error_field (ledger_result_t *self)
{
    return s_str (self, s_get (s_error (self), "field"));
}

const char *
ledger_result_error_code (ledger_result_t *self)
{
    return s_str (self, s_get (s_error (self), "code"));
}

const char *
ledger_result_error_message (ledger_result_t *self)
{
    return s_str (self, s_get (s_error (self), "message"));
}

const char *
ledger_result_error_leader (ledger_result_t *self)
{
    return s_str (self, s_get (s_error (self), "leader"));
}

size_t
ledger_result_op_count (ledger_result_t *self)
{
    return s_size (s_get (s_root (self), "results"));
}

int64_t
ledger_result_failed_count (ledger_result_t *self)
{
    return s_int (s_get (s_root (self), "failed"));
}

static msgpack_object *
s_op (ledger_result_t *self, size_t op)
{
    return s_at (s_get (s_root (self), "results"), op);
}

static msgpack_object *
s_op_error (ledger_result_t *self, size_t op)
{
    return s_get (s_op (self, op), "error");
}

bool
ledger_result_op_failed (ledger_result_t *self, size_t op)
{
    return s_op_error (self, op) != NULL;
}

const char *
ledger_result_op_error_class (ledger_result_t *self, size_t op)
{
    return s_str (self, s_get (s_op_error (self, op), "class"));
}

const char *
ledger_result_op_error_code (ledger_result_t *self, size_t op)
{
    return s_str (self, s_get (s_op_error (self, op), "code"));
}

const char *
ledger_result_op_error_field (ledger_result_t *self, size_t op)
{
    return s_str (self, s_get (s_op_error (self, op), "field"));
}

const char *
ledger_result_op_error_message (ledger_result_t *self, size_t op)
{
    return s_str (self, s_get (s_op_error (self, op), "message"));
}

int64_t
ledger_result_id (ledger_result_t *self, size_t op)
{
    return s_int (s_get (s_op (self, op), "id"));
}

int64_t
ledger_result_changed (ledger_result_t *self, size_t op)
{
    return s_int (s_get (s_op (self, op), "changed"));
}

bool
ledger_result_existed (ledger_result_t *self, size_t op)
{
    return s_bool (s_get (s_op (self, op), "existed"));
}

/*  Row `row` of op: the one "row" of a get, or an entry of "rows". */
static msgpack_object *
s_row (ledger_result_t *self, size_t op, size_t row)
{
    msgpack_object *entry = s_op (self, op);
    msgpack_object *single = s_get (entry, "row");
    if (single)
        return row == 0? single: NULL;
    return s_at (s_get (entry, "rows"), row);
}

size_t
ledger_result_row_count (ledger_result_t *self, size_t op)
{
    msgpack_object *entry = s_op (self, op);
    if (s_get (entry, "row"))
        return 1;
    return s_size (s_get (entry, "rows"));
}

int
ledger_result_category (ledger_result_t *self, size_t op, size_t row, ledger_category_t *category)
{
    msgpack_object *map = s_row (self, op, row);
    const char *name = s_str (self, s_get (map, "name"));
    if (!name)
        return -1;
    category->id = s_int (s_get (map, "id"));
    category->name = name;
    category->parent_id = s_int (s_get (map, "parent_id"));
    category->version = s_int (s_get (map, "version"));
    return 0;
}

int
ledger_result_txn (ledger_result_t *self, size_t op, size_t row, ledger_txn_t *txn)
{
    msgpack_object *map = s_row (self, op, row);
    const char *occurred_at = s_str (self, s_get (map, "occurred_at"));
    if (!occurred_at)
        return -1;
    txn->id = s_int (s_get (map, "id"));
    txn->amount = s_int (s_get (map, "amount"));
    txn->occurred_at = occurred_at;
    txn->description = s_str (self, s_get (map, "description"));
    txn->category_id = s_int (s_get (map, "category_id"));
    txn->created_at = s_str (self, s_get (map, "created_at"));
    txn->updated_at = s_str (self, s_get (map, "updated_at"));
    txn->version = s_int (s_get (map, "version"));
    return 0;
}

int
ledger_result_summary_row (ledger_result_t *self, size_t op, size_t row, ledger_summary_row_t *summary_row)
{
    msgpack_object *map = s_row (self, op, row);
    msgpack_object *count = s_get (map, "count");
    if (!s_is_int (count) || !summary_row)
        return -1;
    msgpack_object *category = s_get (map, "category_id");
    msgpack_object *period = s_get (map, "period");
    summary_row->has_category = category != NULL;
    summary_row->category_id = s_int (category);
    summary_row->has_period = period != NULL;
    summary_row->period = s_str (self, period);
    summary_row->count = s_int (count);
    summary_row->total = s_int (s_get (map, "total"));
    summary_row->min = s_int (s_get (map, "min"));
    summary_row->max = s_int (s_get (map, "max"));
    return 0;
}

const char *
ledger_result_next (ledger_result_t *self, size_t op)
{
    return s_str (self, s_get (s_op (self, op), "next"));
}

int
ledger_query_next_page (ledger_query_t *query, ledger_result_t *result, size_t op)
{
    if (!query || !result || ledger_result_status (result) != LEDGER_OK)
        return -1;
    const msgpack_object *map = s_op (result, op);
    if (!map || !s_get (map, "rows"))
        return -1;
    const msgpack_object *next = s_get (map, "next");
    if (!next || next->type == MSGPACK_OBJECT_NIL) {
        query->after = NULL;
        return 0;
    }
    if (next->type != MSGPACK_OBJECT_STR || next->via.str.size >= sizeof (query->cursor))
        return -1;
    memcpy (query->cursor, next->via.str.ptr, next->via.str.size);
    query->cursor [next->via.str.size] = '\0';
    query->after = query->cursor;
    return 1;
}

const char *
ledger_result_version (ledger_result_t *self, size_t op)
{
    return s_str (self, s_get (s_op (self, op), "version"));
}

int64_t
ledger_result_stat (ledger_result_t *self, size_t op, const char *path)
{
    msgpack_object *node = s_get (s_op (self, op), "stats");
    char key [64];
    while (node && path && *path) {
        size_t len = strcspn (path, ".");
        if (len >= sizeof (key))
            return -1;
        memcpy (key, path, len);
        key [len] = 0;
        node = s_get (node, key);
        path += len + (path [len] == '.');
    }
    return s_is_int (node)? s_int (node): -1;
}

int
ledger_result_backup (ledger_result_t *self, size_t op, ledger_backup_t *backup)
{
    msgpack_object *result = s_op (self, op);
    msgpack_object *size = s_get (result, "size");
    msgpack_object *chunk_max = s_get (result, "chunk_max");
    const char *token = s_str (self, s_get (result, "token"));
    const char *sha256 = s_str (self, s_get (result, "sha256"));
    if (!token || !sha256 || !s_is_int (size) || s_int (size) < 0 || !s_is_int (chunk_max) || s_int (chunk_max) < 1)
        return -1;
    backup->token = token;
    backup->size = s_int (size);
    backup->sha256 = sha256;
    backup->chunk_max = s_int (chunk_max);
    backup->idle_timeout_s = s_int (s_get (result, "idle_timeout_s"));
    return 0;
}

const void *
ledger_result_data (ledger_result_t *self, size_t op, size_t *size_p)
{
    msgpack_object *data = s_get (s_op (self, op), "data");
    if (!s_is (data, MSGPACK_OBJECT_BIN))
        return NULL;
    *size_p = data->via.bin.size;
    /*  An empty bin's pointer may be NULL: the caller gets a pointer all the same. */
    return data->via.bin.size? (const void *) data->via.bin.ptr: (const void *) "";
}

char *
ledger_result_json (ledger_result_t *self)
{
    /*  From the bytes, not the tree: s_str has moved some of its strings. */
    json_t *json = proto_json_from_msgpack (self->bytes, self->size, NULL, 0);
    if (!json)
        return NULL;
    char *text = json_dumps (json, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref (json);
    return text;
}
