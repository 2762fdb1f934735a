/*  ledger_result -- what happened to one batch, with typed accessors.

    The reply is checked with the bounded proto_reader before anything is
    unpacked (a reply is still bytes from the network), then kept as JSON:
    jansson gives NUL-terminated strings the accessors can lend out, and the
    JSON form is what ledgerctl prints anyway. */

#include "ledger_internal.h"
#include "proto_json.h"
#include "proto_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _ledger_result_t {
    ledger_status_t status;
    uint64_t request_id;
    int tries;
    json_t *reply;              /* the wire reply as JSON */
    char describe [600];
};

static void
s_describe (ledger_result_t *self)
{
    json_t *error = json_object_get (self->reply, "error");
    if (self->status == LEDGER_OK) {
        json_t *failed = json_object_get (self->reply, "failed");
        size_t n = json_array_size (json_object_get (self->reply, "results"));
        snprintf (self->describe, sizeof (self->describe), "ok (%zu op%s%s%s)", n, n == 1? "": "s",
                  json_integer_value (failed)? ", some failed: see each op": "",
                  json_is_true (json_object_get (self->reply, "replayed"))? ", replayed": "");
        return;
    }
    if (self->status == LEDGER_UNKNOWN) {
        snprintf (self->describe, sizeof (self->describe), "%s",
                  json_string_value (json_object_get (error, "message")));
        return;
    }
    json_t *op = json_object_get (error, "op");
    json_t *field = json_object_get (error, "field");
    char where [160] = "";
    if (json_is_integer (op))
        snprintf (where, sizeof (where), " at op %lld%s%s%s", json_integer_value (op),
                  json_is_string (field)? " (": "", json_is_string (field)? json_string_value (field): "",
                  json_is_string (field)? ")": "");
    snprintf (self->describe, sizeof (self->describe), "failed: %s%s: %s: %s%s",
              json_string_value (json_object_get (error, "class")), where,
              json_string_value (json_object_get (error, "code")),
              json_string_value (json_object_get (error, "message")),
              json_is_true (json_object_get (error, "retryable"))? " (retryable)": "");
}

ledger_result_t *
ledger_result_from_reply (const void *data, size_t size, char *errbuf, size_t errlen)
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
    json_t *reply = proto_json_from_msgpack (data, size, errbuf, errlen);
    if (!reply)
        return NULL;
    json_t *ok = json_object_get (reply, "ok");
    json_t *v = json_object_get (reply, "v");
    if (!json_is_boolean (ok) || !json_is_integer (v) || json_integer_value (v) != 1
    ||  (json_is_true (ok) && !json_is_array (json_object_get (reply, "results")))
    ||  (json_is_false (ok) && !json_is_object (json_object_get (reply, "error")))) {
        snprintf (errbuf, errlen, "bad reply: not a protocol v1 reply map");
        json_decref (reply);
        return NULL;
    }
    ledger_result_t *self = calloc (1, sizeof (ledger_result_t));
    if (!self) {
        json_decref (reply);
        return NULL;
    }
    self->reply = reply;
    self->status = json_is_true (ok)? LEDGER_OK: LEDGER_FAILED;
    json_t *id = json_object_get (reply, "id");
    self->request_id = json_is_integer (id) && json_integer_value (id) > 0? (uint64_t) json_integer_value (id): 0;
    self->tries = 1;
    s_describe (self);
    return self;
}

ledger_result_t *
ledger_result_unknown (uint64_t request_id, int tries, const char *reason)
{
    ledger_result_t *self = calloc (1, sizeof (ledger_result_t));
    if (!self)
        return NULL;
    char message [400];
    snprintf (message, sizeof (message), "outcome unknown after %d tr%s: %s", tries, tries == 1? "y": "ies", reason);
    self->status = LEDGER_UNKNOWN;
    self->request_id = request_id;
    self->tries = tries;
    self->reply = json_pack ("{s:i, s:I, s:b, s:b, s:i, s:{s:s, s:b, s:n, s:n, s:s, s:s}}",
                             "v", 1, "id", (json_int_t) request_id, "ok", 0, "unknown", 1, "tries", tries,
                             "error", "class", "unknown", "retryable", 1, "op", "field",
                             "code", "NO_REPLY", "message", message);
    if (!self->reply) {
        free (self);
        return NULL;
    }
    s_describe (self);
    return self;
}

void
ledger_result_destroy (ledger_result_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    json_decref ((*self_p)->reply);
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
    return json_is_true (json_object_get (self->reply, "replayed"));
}

static const char *
s_str (json_t *object, const char *key)
{
    return json_string_value (json_object_get (object, key));
}

static json_t *
s_error (ledger_result_t *self)
{
    return json_object_get (self->reply, "error");
}

const char *
ledger_result_error_class (ledger_result_t *self)
{
    return self->status == LEDGER_FAILED? s_str (s_error (self), "class"): NULL;
}

bool
ledger_result_retryable (ledger_result_t *self)
{
    return json_is_true (json_object_get (s_error (self), "retryable"));
}

int
ledger_result_error_op (ledger_result_t *self)
{
    json_t *op = json_object_get (s_error (self), "op");
    return json_is_integer (op)? (int) json_integer_value (op): -1;
}

const char *
ledger_result_error_field (ledger_result_t *self)
{
    return s_str (s_error (self), "field");
}

const char *
ledger_result_error_code (ledger_result_t *self)
{
    return s_str (s_error (self), "code");
}

const char *
ledger_result_error_message (ledger_result_t *self)
{
    return s_str (s_error (self), "message");
}

size_t
ledger_result_op_count (ledger_result_t *self)
{
    return json_array_size (json_object_get (self->reply, "results"));
}

int64_t
ledger_result_failed_count (ledger_result_t *self)
{
    return json_integer_value (json_object_get (self->reply, "failed"));
}

static json_t *
s_op (ledger_result_t *self, size_t op)
{
    return json_array_get (json_object_get (self->reply, "results"), op);
}

static json_t *
s_op_error (ledger_result_t *self, size_t op)
{
    return json_object_get (s_op (self, op), "error");
}

bool
ledger_result_op_failed (ledger_result_t *self, size_t op)
{
    return s_op_error (self, op) != NULL;
}

const char *
ledger_result_op_error_class (ledger_result_t *self, size_t op)
{
    return s_str (s_op_error (self, op), "class");
}

const char *
ledger_result_op_error_code (ledger_result_t *self, size_t op)
{
    return s_str (s_op_error (self, op), "code");
}

const char *
ledger_result_op_error_field (ledger_result_t *self, size_t op)
{
    return s_str (s_op_error (self, op), "field");
}

const char *
ledger_result_op_error_message (ledger_result_t *self, size_t op)
{
    return s_str (s_op_error (self, op), "message");
}

int64_t
ledger_result_id (ledger_result_t *self, size_t op)
{
    return json_integer_value (json_object_get (s_op (self, op), "id"));
}

int64_t
ledger_result_changed (ledger_result_t *self, size_t op)
{
    return json_integer_value (json_object_get (s_op (self, op), "changed"));
}

/*  Row `row` of op: the one "row" of a get, or an entry of "rows". */
static json_t *
s_row (ledger_result_t *self, size_t op, size_t row)
{
    json_t *entry = s_op (self, op);
    json_t *single = json_object_get (entry, "row");
    if (single)
        return row == 0? single: NULL;
    return json_array_get (json_object_get (entry, "rows"), row);
}

size_t
ledger_result_row_count (ledger_result_t *self, size_t op)
{
    json_t *entry = s_op (self, op);
    if (json_object_get (entry, "row"))
        return 1;
    return json_array_size (json_object_get (entry, "rows"));
}

static int64_t
s_int (json_t *row, const char *key)
{
    return json_integer_value (json_object_get (row, key));
}

int
ledger_result_category (ledger_result_t *self, size_t op, size_t row, ledger_category_t *category)
{
    json_t *json = s_row (self, op, row);
    if (!json_is_object (json) || !json_is_string (json_object_get (json, "name")))
        return -1;
    category->id = s_int (json, "id");
    category->name = s_str (json, "name");
    category->parent_id = s_int (json, "parent_id");
    return 0;
}

int
ledger_result_txn (ledger_result_t *self, size_t op, size_t row, ledger_txn_t *txn)
{
    json_t *json = s_row (self, op, row);
    if (!json_is_object (json) || !json_is_string (json_object_get (json, "occurred_at")))
        return -1;
    txn->id = s_int (json, "id");
    txn->amount = s_int (json, "amount");
    txn->occurred_at = s_str (json, "occurred_at");
    txn->description = s_str (json, "description");
    txn->category_id = s_int (json, "category_id");
    txn->created_at = s_str (json, "created_at");
    txn->updated_at = s_str (json, "updated_at");
    return 0;
}

const char *
ledger_result_next (ledger_result_t *self, size_t op)
{
    return s_str (s_op (self, op), "next");
}

const char *
ledger_result_version (ledger_result_t *self, size_t op)
{
    return s_str (s_op (self, op), "version");
}

int64_t
ledger_result_stat (ledger_result_t *self, size_t op, const char *path)
{
    json_t *node = json_object_get (s_op (self, op), "stats");
    char key [64];
    while (node && path && *path) {
        size_t len = strcspn (path, ".");
        if (len >= sizeof (key))
            return -1;
        memcpy (key, path, len);
        key [len] = 0;
        node = json_object_get (node, key);
        path += len + (path [len] == '.');
    }
    return json_is_integer (node)? json_integer_value (node): -1;
}

char *
ledger_result_json (ledger_result_t *self)
{
    return json_dumps (self->reply, JSON_COMPACT | JSON_PRESERVE_ORDER);
}
