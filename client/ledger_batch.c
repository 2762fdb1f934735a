/*  ledger_batch -- build a request without seeing msgpack.

    Each add call packs one op map straight into a buffer; the envelope (v,
    id, key, mode) is put around the ops only when the batch is sent, so one
    batch can be sent again with a new request id and the same key. Arguments
    are checked here, where the caller can still be told which one is wrong;
    the worker checks everything again. */

#include "ledger_internal.h"
#include "proto_json.h"
#include "proto_ops.h"
#include "proto_reply.h"
#include "proto_request.h"
#include "proto_time.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _ledger_batch_t {
    msgpack_sbuffer ops;        /* op maps, one after another */
    msgpack_packer pk;
    size_t op_count;
    bool independent;
    bool writes;
    char *key;                  /* set by the caller, or the client's, kept for resends */
    bool key_is_auto;
    char error [256];           /* why an add failed; "" if none did */
    bool broken;                /* an add failed: the batch is not what the caller meant */
};

ledger_ref_t
ledger_id (int64_t id)
{
    return (ledger_ref_t) { LEDGER_REF_ID, id, NULL };
}

ledger_ref_t
ledger_op (int index)
{
    return (ledger_ref_t) { LEDGER_REF_OP, index, NULL };
}

ledger_ref_t
ledger_name (const char *name)
{
    return (ledger_ref_t) { LEDGER_REF_NAME, 0, name };
}

ledger_time_t
ledger_time_text (const char *text)
{
    return (ledger_time_t) { text, 0, 0, true };
}

ledger_time_t
ledger_time_at (int64_t unix_us, int offset_min)
{
    return (ledger_time_t) { NULL, unix_us, offset_min, true };
}

ledger_batch_t *
ledger_batch_new (void)
{
    ledger_batch_t *self = calloc (1, sizeof (ledger_batch_t));
    if (!self)
        return NULL;
    msgpack_sbuffer_init (&self->ops);
    msgpack_packer_init (&self->pk, &self->ops, msgpack_sbuffer_write);
    return self;
}

void
ledger_batch_destroy (ledger_batch_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ledger_batch_t *self = *self_p;
    msgpack_sbuffer_destroy (&self->ops);
    free (self->key);
    free (self);
    *self_p = NULL;
}

static int s_fail (ledger_batch_t *self, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

void
ledger_batch_set_independent (ledger_batch_t *self, bool independent)
{
    self->independent = independent;
    if (self->key_is_auto)
        self->key [0] = 0;      /* a different batch needs a new key */
}

int
ledger_batch_set_key (ledger_batch_t *self, const char *key)
{
    size_t len = key? strlen (key): 0;
    if (len < 1 || len > PROTO_KEY_MAX)
        return s_fail (self, "a key has 1 to %d bytes", PROTO_KEY_MAX);
    char *copy = strdup (key);
    if (!copy)
        return -1;
    free (self->key);
    self->key = copy;
    self->key_is_auto = false;
    return 0;
}

size_t
ledger_batch_size (ledger_batch_t *self)
{
    return self->op_count;
}

bool
ledger_batch_writes (ledger_batch_t *self)
{
    return self->writes;
}

const char *
ledger_batch_error (ledger_batch_t *self)
{
    return self->error [0]? self->error: NULL;
}

static int
s_fail (ledger_batch_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (self->error, sizeof (self->error), format, args);
    va_end (args);
    self->broken = true;
    return -1;
}

/*  Check a reference before anything of its op is packed. */
static int
s_check_ref (ledger_batch_t *self, ledger_ref_t ref, const char *field, bool name_ok, bool null_ok, bool required)
{
    switch (ref.kind) {
        case LEDGER_REF_UNSET:
            return required? s_fail (self, "%s is required", field): 0;
        case LEDGER_REF_NULL:
            return null_ok? 0: s_fail (self, "%s cannot be null here", field);
        case LEDGER_REF_ID:
            return ref.value > 0? 0: s_fail (self, "%s: an id is a positive integer", field);
        case LEDGER_REF_OP:
            return ref.value >= 0 && (size_t) ref.value < self->op_count? 0:
                   s_fail (self, "%s: ledger_op (%lld) is not an earlier op of this batch", field, (long long) ref.value);
        case LEDGER_REF_NAME:
            if (!name_ok)
                return s_fail (self, "%s takes an id, not a name", field);
            if (!ref.name || strlen (ref.name) < 1 || strlen (ref.name) > PROTO_NAME_MAX)
                return s_fail (self, "%s: a category name has 1 to %d bytes", field, PROTO_NAME_MAX);
            return 0;
    }
    return s_fail (self, "%s: not a reference", field);
}

static int
s_check_time (ledger_batch_t *self, ledger_time_t time, const char *field, bool required)
{
    if (!time.set)
        return required? s_fail (self, "%s is required", field): 0;
    char text [PROTO_TIME_MAX];
    if (!time.text && proto_time_format (time.unix_us, time.offset_min, text) == 0)
        return s_fail (self, "%s: the instant or offset is out of range", field);
    return 0;
}

static int
s_check_text (ledger_batch_t *self, const char *text, const char *field, size_t min, size_t max)
{
    size_t len = text? strlen (text): 0;
    if (!text || len < min || len > max)
        return s_fail (self, "%s has %zu to %zu bytes", field, min, max);
    return 0;
}

static void
s_pack_ref (ledger_batch_t *self, ledger_ref_t ref)
{
    msgpack_packer *pk = &self->pk;
    if (ref.kind == LEDGER_REF_ID)
        msgpack_pack_int64 (pk, ref.value);
    else
    if (ref.kind == LEDGER_REF_OP) {
        msgpack_pack_map (pk, 1);
        proto_pack_cstr (pk, "ref");
        msgpack_pack_int64 (pk, ref.value);
    }
    else
    if (ref.kind == LEDGER_REF_NAME)
        proto_pack_cstr (pk, ref.name);
    else
        msgpack_pack_nil (pk);
}

static void
s_pack_time (ledger_batch_t *self, ledger_time_t time)
{
    if (time.text)
        proto_pack_cstr (&self->pk, time.text);
    else {
        char text [PROTO_TIME_MAX];
        proto_pack_strn (&self->pk, text, proto_time_format (time.unix_us, time.offset_min, text));
    }
}

static void
s_pack_text_or_nil (ledger_batch_t *self, const char *text)
{
    if (text)
        proto_pack_cstr (&self->pk, text);
    else
        msgpack_pack_nil (&self->pk);
}

/*  The optional fields: packed as key and value only when given. */
static void
s_field_ref (ledger_batch_t *self, const char *key, ledger_ref_t ref)
{
    if (ref.kind != LEDGER_REF_UNSET) {
        proto_pack_cstr (&self->pk, key);
        s_pack_ref (self, ref);
    }
}

static void
s_field_str (ledger_batch_t *self, const char *key, const char *value)
{
    if (value) {
        proto_pack_cstr (&self->pk, key);
        proto_pack_cstr (&self->pk, value);
    }
}

/*  Start op `name` with `fields` more keys; returns the op's index. */
static int
s_begin_op (ledger_batch_t *self, proto_op_code_t code, size_t fields)
{
    const proto_op_info_t *info = proto_op_info (code);
    msgpack_pack_map (&self->pk, 1 + fields);
    proto_pack_cstr (&self->pk, "op");
    proto_pack_cstr (&self->pk, info->name);
    if (info->flags & PROTO_OPF_WRITE)
        self->writes = true;
    if (self->key_is_auto)
        self->key [0] = 0;      /* the batch changed: its next send needs a new key */
    return (int) self->op_count++;
}

static int
s_op_with_id (ledger_batch_t *self, proto_op_code_t code, ledger_ref_t id)
{
    if (s_check_ref (self, id, "id", false, false, true))
        return -1;
    int index = s_begin_op (self, code, 1);
    proto_pack_cstr (&self->pk, "id");
    s_pack_ref (self, id);
    return index;
}

int
ledger_batch_category_create (ledger_batch_t *self, const char *name, ledger_ref_t parent)
{
    if (s_check_text (self, name, "name", 1, PROTO_NAME_MAX)
    ||  s_check_ref (self, parent, "parent", true, true, false))
        return -1;
    int index = s_begin_op (self, PROTO_OP_CATEGORY_CREATE, parent.kind == LEDGER_REF_UNSET? 1: 2);
    proto_pack_cstr (&self->pk, "name");
    proto_pack_cstr (&self->pk, name);
    s_field_ref (self, "parent", parent);
    return index;
}

int
ledger_batch_category_update (ledger_batch_t *self, ledger_ref_t id, const char *name, ledger_ref_t parent)
{
    if (s_check_ref (self, id, "id", false, false, true)
    ||  (name && s_check_text (self, name, "name", 1, PROTO_NAME_MAX))
    ||  s_check_ref (self, parent, "parent", true, true, false))
        return -1;
    if (!name && parent.kind == LEDGER_REF_UNSET)
        return s_fail (self, "category.update needs a new name or parent");
    int index = s_begin_op (self, PROTO_OP_CATEGORY_UPDATE, 1 + (name? 1: 0) + (parent.kind != LEDGER_REF_UNSET));
    proto_pack_cstr (&self->pk, "id");
    s_pack_ref (self, id);
    s_field_str (self, "name", name);
    s_field_ref (self, "parent", parent);
    return index;
}

int
ledger_batch_category_delete (ledger_batch_t *self, ledger_ref_t id)
{
    return s_op_with_id (self, PROTO_OP_CATEGORY_DELETE, id);
}

int
ledger_batch_category_get (ledger_batch_t *self, ledger_ref_t category)
{
    if (s_check_ref (self, category, "category", true, false, true))
        return -1;
    int index = s_begin_op (self, PROTO_OP_CATEGORY_GET, 1);
    proto_pack_cstr (&self->pk, category.kind == LEDGER_REF_NAME? "name": "id");
    s_pack_ref (self, category);
    return index;
}

int
ledger_batch_category_list (ledger_batch_t *self)
{
    return s_begin_op (self, PROTO_OP_CATEGORY_LIST, 0);
}

int
ledger_batch_txn_create (ledger_batch_t *self, int64_t amount, ledger_time_t occurred_at,
                         const char *description, ledger_ref_t category)
{
    if (s_check_time (self, occurred_at, "occurred_at", true)
    ||  (description && s_check_text (self, description, "description", 0, PROTO_TEXT_MAX))
    ||  s_check_ref (self, category, "category", true, true, false))
        return -1;
    int index = s_begin_op (self, PROTO_OP_TXN_CREATE,
                            2 + (description? 1: 0) + (category.kind != LEDGER_REF_UNSET));
    proto_pack_cstr (&self->pk, "amount");
    msgpack_pack_int64 (&self->pk, amount);
    proto_pack_cstr (&self->pk, "occurred_at");
    s_pack_time (self, occurred_at);
    s_field_str (self, "description", description);
    s_field_ref (self, "category", category);
    return index;
}

int
ledger_batch_txn_update (ledger_batch_t *self, ledger_ref_t id, const ledger_txn_change_t *change)
{
    if (!change)
        return s_fail (self, "txn.update needs a change");
    if (s_check_ref (self, id, "id", false, false, true)
    ||  s_check_time (self, change->occurred_at, "occurred_at", false)
    ||  (change->set_description && change->description
         && s_check_text (self, change->description, "description", 0, PROTO_TEXT_MAX))
    ||  s_check_ref (self, change->category, "category", true, true, false))
        return -1;
    size_t fields = (change->set_amount? 1: 0) + (change->occurred_at.set? 1: 0)
                  + (change->set_description? 1: 0) + (change->category.kind != LEDGER_REF_UNSET);
    if (fields == 0)
        return s_fail (self, "txn.update needs at least one field to change");
    int index = s_begin_op (self, PROTO_OP_TXN_UPDATE, 1 + fields);
    proto_pack_cstr (&self->pk, "id");
    s_pack_ref (self, id);
    if (change->set_amount) {
        proto_pack_cstr (&self->pk, "amount");
        msgpack_pack_int64 (&self->pk, change->amount);
    }
    if (change->occurred_at.set) {
        proto_pack_cstr (&self->pk, "occurred_at");
        s_pack_time (self, change->occurred_at);
    }
    if (change->set_description) {
        proto_pack_cstr (&self->pk, "description");
        s_pack_text_or_nil (self, change->description);
    }
    s_field_ref (self, "category", change->category);
    return index;
}

int
ledger_batch_txn_delete (ledger_batch_t *self, ledger_ref_t id)
{
    return s_op_with_id (self, PROTO_OP_TXN_DELETE, id);
}

int
ledger_batch_txn_get (ledger_batch_t *self, ledger_ref_t id)
{
    return s_op_with_id (self, PROTO_OP_TXN_GET, id);
}

int
ledger_batch_txn_query (ledger_batch_t *self, const ledger_query_t *query)
{
    ledger_query_t all = { .limit = 0 };
    if (!query)
        query = &all;
    if (s_check_time (self, query->from, "from", false) || s_check_time (self, query->to, "to", false))
        return -1;
    if (query->category_count > PROTO_MAX_LIST || (query->category_count && !query->categories))
        return s_fail (self, "categories holds 1 to %d entries", PROTO_MAX_LIST);
    for (size_t n = 0; n < query->category_count; n++)
        if (s_check_ref (self, query->categories [n], "categories", true, false, true))
            return -1;
    if (query->limit < 0 || query->limit > PROTO_MAX_LIMIT)
        return s_fail (self, "limit is 1 to %d (0 for the default)", PROTO_MAX_LIMIT);
    int64_t us, id;
    if (query->after && proto_cursor_parse (query->after, (uint32_t) strlen (query->after), &us, &id))
        return s_fail (self, "after is not a cursor from a previous page");

    size_t fields = (query->from.set? 1: 0) + (query->to.set? 1: 0) + (query->category_count? 1: 0)
                  + (query->include_subcategories? 1: 0) + (query->set_min_amount? 1: 0)
                  + (query->set_max_amount? 1: 0) + (query->limit? 1: 0) + (query->after? 1: 0);
    int index = s_begin_op (self, PROTO_OP_TXN_QUERY, fields);
    if (query->from.set) {
        proto_pack_cstr (&self->pk, "from");
        s_pack_time (self, query->from);
    }
    if (query->to.set) {
        proto_pack_cstr (&self->pk, "to");
        s_pack_time (self, query->to);
    }
    if (query->category_count) {
        proto_pack_cstr (&self->pk, "categories");
        msgpack_pack_array (&self->pk, query->category_count);
        for (size_t n = 0; n < query->category_count; n++)
            s_pack_ref (self, query->categories [n]);
    }
    if (query->include_subcategories) {
        proto_pack_cstr (&self->pk, "include_subcategories");
        msgpack_pack_true (&self->pk);
    }
    if (query->set_min_amount) {
        proto_pack_cstr (&self->pk, "min_amount");
        msgpack_pack_int64 (&self->pk, query->min_amount);
    }
    if (query->set_max_amount) {
        proto_pack_cstr (&self->pk, "max_amount");
        msgpack_pack_int64 (&self->pk, query->max_amount);
    }
    if (query->limit) {
        proto_pack_cstr (&self->pk, "limit");
        msgpack_pack_int (&self->pk, query->limit);
    }
    if (query->after) {
        proto_pack_cstr (&self->pk, "after");
        proto_pack_cstr (&self->pk, query->after);
    }
    return index;
}

int
ledger_batch_ping (ledger_batch_t *self)
{
    return s_begin_op (self, PROTO_OP_SYS_PING, 0);
}

int
ledger_batch_stats (ledger_batch_t *self)
{
    return s_begin_op (self, PROTO_OP_SYS_STATS, 0);
}

int
ledger_batch_cluster_transfer (ledger_batch_t *self, int64_t node_id)
{
    return s_op_with_id (self, PROTO_OP_CLUSTER_TRANSFER, ledger_id (node_id));
}

int
ledger_batch_cluster_remove (ledger_batch_t *self, int64_t node_id)
{
    return s_op_with_id (self, PROTO_OP_CLUSTER_REMOVE, ledger_id (node_id));
}

ledger_batch_t *
ledger_batch_from_json (const char *json_text, char *errbuf, size_t errlen)
{
    json_error_t jerr;
    json_t *json = json_loads (json_text, JSON_REJECT_DUPLICATES, &jerr);
    ledger_batch_t *self = NULL;
    if (!json) {
        snprintf (errbuf, errlen, "not JSON: %s (column %d)", jerr.text, jerr.column);
        return NULL;
    }
    json_t *ops = json_object_get (json, "ops");
    json_t *mode = json_object_get (json, "mode");
    json_t *key = json_object_get (json, "key");
    const char *name;
    json_t *value;
    if (!json_is_object (json)) {
        snprintf (errbuf, errlen, "a batch is a JSON object with \"ops\"");
        goto done;
    }
    json_object_foreach (json, name, value) {
        if (strcmp (name, "ops") && strcmp (name, "mode") && strcmp (name, "key")
        &&  strcmp (name, "v") && strcmp (name, "id")) {
            snprintf (errbuf, errlen, "unknown key \"%s\" (a batch has ops, mode, key, v, id)", name);
            goto done;
        }
    }
    if (!json_is_array (ops) || json_array_size (ops) == 0) {
        snprintf (errbuf, errlen, "\"ops\" must be a non-empty array of op objects");
        goto done;
    }
    if (mode && (!json_is_string (mode) || (strcmp (json_string_value (mode), "atomic")
                                            && strcmp (json_string_value (mode), "independent")))) {
        snprintf (errbuf, errlen, "\"mode\" must be \"atomic\" or \"independent\"");
        goto done;
    }
    if (key && !json_is_string (key)) {
        snprintf (errbuf, errlen, "\"key\" must be a string");
        goto done;
    }
    self = ledger_batch_new ();
    if (!self) {
        snprintf (errbuf, errlen, "out of memory");
        goto done;
    }
    self->independent = mode && strcmp (json_string_value (mode), "independent") == 0;
    if (key && ledger_batch_set_key (self, json_string_value (key))) {
        snprintf (errbuf, errlen, "%s", self->error);
        ledger_batch_destroy (&self);
        goto done;
    }
    size_t index;
    json_array_foreach (ops, index, value) {
        /*  Ops go as they are: the worker validates them and says which
            one is wrong, exactly as for any other client. */
        char *data;
        size_t size;
        if (proto_json_to_msgpack (value, &data, &size, errbuf, errlen)) {
            ledger_batch_destroy (&self);
            goto done;
        }
        msgpack_sbuffer_write (&self->ops, data, size);
        free (data);
        self->op_count++;
        json_t *op = json_object_get (value, "op");
        proto_op_code_t code;
        if (json_is_string (op)
        &&  proto_op_lookup (json_string_value (op), (uint32_t) json_string_length (op), &code) == 0
        &&  (proto_op_info (code)->flags & PROTO_OPF_WRITE))
            self->writes = true;
    }
done:
    json_decref (json);
    return self;
}

int
ledger_batch_encode (ledger_batch_t *self, uint64_t request_id, const char *auto_key, msgpack_sbuffer *out)
{
    if (self->broken)
        return -1;
    if (self->op_count == 0) {
        snprintf (self->error, sizeof (self->error), "the batch has no ops");
        return -1;
    }
    /*  Reads need no key: running them twice changes nothing. */
    if (self->writes && (!self->key || !self->key [0]) && auto_key) {
        free (self->key);
        self->key = strdup (auto_key);
        if (!self->key)
            return -1;
        self->key_is_auto = true;
    }
    bool keyed = self->key && self->key [0];
    msgpack_packer pk;
    msgpack_packer_init (&pk, out, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, 3 + (keyed? 1: 0) + (self->independent? 1: 0));
    proto_pack_cstr (&pk, "v");
    msgpack_pack_int (&pk, PROTO_VERSION);
    proto_pack_cstr (&pk, "id");
    msgpack_pack_uint64 (&pk, request_id);
    if (keyed) {
        proto_pack_cstr (&pk, "key");
        proto_pack_cstr (&pk, self->key);
    }
    if (self->independent) {
        proto_pack_cstr (&pk, "mode");
        proto_pack_cstr (&pk, "independent");
    }
    proto_pack_cstr (&pk, "ops");
    msgpack_pack_array (&pk, self->op_count);
    msgpack_sbuffer_write (out, self->ops.data, self->ops.size);
    return 0;
}
