/*  ledger_batch -- build a request without seeing msgpack.

    Each add call packs one op map straight into a buffer; the envelope (v,
    id, key, mode) is put around the ops only when the batch is sent, so one
    batch can be sent again with a new request id and the same key. Arguments
    are checked here, where the caller can still be told which one is wrong;
    the worker checks everything again. */

#include "ledger_internal.h"
#include "proto_json.h"
#include "proto_ops.h"
#include "proto_period.h"
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

/*  The name of a field, as the op table spells it on the wire. */
static const char *
s_name (proto_field_t field)
{
    return proto_field_info (field)->name;
}

/*  Check a reference before anything of its op is packed. */
static int
s_check_ref (ledger_batch_t *self, ledger_ref_t ref, proto_field_t field, bool name_ok, bool null_ok, bool required)
{
    switch (ref.kind) {
        case LEDGER_REF_UNSET:
            return required? s_fail (self, "%s is required", s_name (field)): 0;
        case LEDGER_REF_NULL:
            return null_ok? 0: s_fail (self, "%s cannot be null here", s_name (field));
        case LEDGER_REF_ID:
            return ref.value > 0? 0: s_fail (self, "%s: an id is a positive integer", s_name (field));
        case LEDGER_REF_OP:
            return ref.value >= 0 && (size_t) ref.value < self->op_count? 0:
                   s_fail (self, "%s: ledger_op (%lld) is not an earlier op of this batch", s_name (field),
                           (long long) ref.value);
        case LEDGER_REF_NAME:
            if (!name_ok)
                return s_fail (self, "%s takes an id, not a name", s_name (field));
            if (!ref.name || strlen (ref.name) < 1 || strlen (ref.name) > PROTO_NAME_MAX)
                return s_fail (self, "%s: a category name has 1 to %d bytes", s_name (field), PROTO_NAME_MAX);
            return 0;
    }
    return s_fail (self, "%s: not a reference", s_name (field));
}

/*  Check text as the worker will (proto_time's parser): caught here, the
    batch is broken with the reason before it is sent, not refused by the
    worker after a round trip. */
static int
s_check_time_text (ledger_batch_t *self, const char *text, proto_field_t field)
{
    size_t len = strlen (text);
    int64_t us;
    int offset_min;
    int rc = proto_time_parse (text, len, &us, &offset_min);
    if (rc == PROTO_TIME_OK)
        return 0;
    if (proto_field_info (field)->type == PROTO_FT_BOUND && proto_time_parse_date (text, len, &us) == PROTO_TIME_OK)
        return 0;
    if (rc == PROTO_TIME_NAIVE)
        return s_fail (self, "%s: '%.64s' has no UTC offset (add Z or +hh:mm)", s_name (field), text);
    return s_fail (self, "%s: '%.64s' is not an RFC 3339 date-time%s", s_name (field), text,
                   proto_field_info (field)->type == PROTO_FT_BOUND? " or a YYYY-MM-DD date": "");
}

static int
s_check_time (ledger_batch_t *self, ledger_time_t time, proto_field_t field, bool required)
{
    if (!time.set)
        return required? s_fail (self, "%s is required", s_name (field)): 0;
    char text [PROTO_TIME_MAX];
    if (!time.text && proto_time_format (time.unix_us, time.offset_min, text) == 0)
        return s_fail (self, "%s: the instant or offset is out of range", s_name (field));
    if (time.text)
        return s_check_time_text (self, time.text, field);
    return 0;
}

static int
s_check_text (ledger_batch_t *self, const char *text, proto_field_t field, size_t min, size_t max)
{
    size_t len = text? strlen (text): 0;
    if (!text || len < min || len > max)
        return s_fail (self, "%s has %zu to %zu bytes", s_name (field), min, max);
    return 0;
}

/*  One field's value as the caller gave it. Which member is packed follows
    the field's type in the op table. */
typedef struct {
    int64_t number;             /* AMOUNT, LIMIT, VERSION; SUMMARY_BY, PERIOD, OFFSET as proto_period.h has them */
    const char *text;           /* NAME, CURSOR; TEXT, where NULL packs nil */
    ledger_ref_t ref;           /* ID, CATEGORY */
    ledger_time_t time;         /* TIME, BOUND */
    const ledger_ref_t *refs;   /* CATEGORY_LIST */
    size_t ref_count;
    bool flag;                  /* BOOL */
} field_value_t;

/*  The fields of one op, before it is packed. */
typedef struct {
    uint32_t present;           /* PF () bits of the fields to pack */
    field_value_t value [PROTO_FIELD_COUNT];
} op_fields_t;

/*  Mark field as given and return its value to fill in. */
static field_value_t *
s_give (op_fields_t *fields, proto_field_t field)
{
    fields->present |= 1u << field;
    return &fields->value [field];
}

/*  An optional reference: given unless the caller left it unset. */
static void
s_give_ref (op_fields_t *fields, proto_field_t field, ledger_ref_t ref)
{
    if (ref.kind != LEDGER_REF_UNSET)
        s_give (fields, field)->ref = ref;
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
        proto_pack_cstr (pk, PROTO_REF_KEY);
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
s_pack_value (ledger_batch_t *self, proto_field_type_t type, const field_value_t *value)
{
    msgpack_packer *pk = &self->pk;
    switch (type) {
        case PROTO_FT_ID:
        case PROTO_FT_CATEGORY:
            s_pack_ref (self, value->ref);
            break;
        case PROTO_FT_CATEGORY_LIST:
            msgpack_pack_array (pk, value->ref_count);
            for (size_t n = 0; n < value->ref_count; n++)
                s_pack_ref (self, value->refs [n]);
            break;
        case PROTO_FT_NAME:
        case PROTO_FT_TEXT:
        case PROTO_FT_CURSOR:
        case PROTO_FT_EXTERNAL_ID:
        case PROTO_FT_TOKEN:
            if (value->text)
                proto_pack_cstr (pk, value->text);
            else
                msgpack_pack_nil (pk);
            break;
        case PROTO_FT_AMOUNT:
        case PROTO_FT_LIMIT:
        case PROTO_FT_VERSION:
        case PROTO_FT_POSITION:
        case PROTO_FT_LENGTH:
            msgpack_pack_int64 (pk, value->number);
            break;
        case PROTO_FT_TIME:
        case PROTO_FT_BOUND:
            s_pack_time (self, value->time);
            break;
        case PROTO_FT_SUMMARY_BY:
            proto_pack_cstr (pk, proto_by_name ((int) value->number));
            break;
        case PROTO_FT_PERIOD:
            proto_pack_cstr (pk, proto_period_name ((int) value->number));
            break;
        case PROTO_FT_OFFSET: {
            char text [PROTO_OFFSET_MAX];
            proto_pack_strn (pk, text, proto_offset_format ((int) value->number, text));
            break;
        }
        case PROTO_FT_BOOL:
            if (value->flag)
                msgpack_pack_true (pk);
            else
                msgpack_pack_false (pk);
            break;
    }
}

/*  Pack op `code` with the given fields; returns the op's index. The map's
    size, the field names and the order all come from the op table (fields
    go in table order, which is append-only, so the bytes never move). A
    field set the table does not allow the op is a bug in this file, caught
    here rather than by the worker. */
static int
s_add_op (ledger_batch_t *self, proto_op_code_t code, const op_fields_t *fields)
{
    const proto_op_info_t *info = proto_op_info (code);
    if ((fields->present & ~info->allowed) || (info->required & ~fields->present))
        return s_fail (self, "%s: the fields do not match the op table", info->name);
    uint32_t count = 0;
    for (int f = 0; f < PROTO_FIELD_COUNT; f++)
        count += (fields->present >> f) & 1u;
    msgpack_pack_map (&self->pk, 1 + count);
    proto_pack_cstr (&self->pk, PROTO_OP_KEY);
    proto_pack_cstr (&self->pk, info->name);
    for (int f = 0; f < PROTO_FIELD_COUNT; f++)
        if (fields->present & (1u << f)) {
            const proto_field_info_t *field = proto_field_info ((proto_field_t) f);
            proto_pack_cstr (&self->pk, field->name);
            s_pack_value (self, field->type, &fields->value [f]);
        }
    if (info->flags & PROTO_OPF_WRITE)
        self->writes = true;
    if (self->key_is_auto)
        self->key [0] = 0;      /* the batch changed: its next send needs a new key */
    return (int) self->op_count++;
}

/*  An expect_version argument: 0 for none, else a row version (>= 1). */
static int
s_check_version (ledger_batch_t *self, int64_t expect_version)
{
    if (expect_version < 0)
        return s_fail (self, "%s is a row version (1 or more), or 0 for any",
                       s_name (PROTO_FIELD_EXPECT_VERSION));
    return 0;
}

static void
s_give_version (op_fields_t *fields, int64_t expect_version)
{
    if (expect_version)
        s_give (fields, PROTO_FIELD_EXPECT_VERSION)->number = expect_version;
}

static int
s_op_with_id (ledger_batch_t *self, proto_op_code_t code, ledger_ref_t id, int64_t expect_version)
{
    if (s_check_ref (self, id, PROTO_FIELD_ID, false, false, true)
    ||  s_check_version (self, expect_version))
        return -1;
    op_fields_t fields = { 0 };
    s_give (&fields, PROTO_FIELD_ID)->ref = id;
    s_give_version (&fields, expect_version);
    return s_add_op (self, code, &fields);
}

int
ledger_batch_category_create (ledger_batch_t *self, const char *name, ledger_ref_t parent)
{
    if (s_check_text (self, name, PROTO_FIELD_NAME, 1, PROTO_NAME_MAX)
    ||  s_check_ref (self, parent, PROTO_FIELD_PARENT, true, true, false))
        return -1;
    op_fields_t fields = { 0 };
    s_give (&fields, PROTO_FIELD_NAME)->text = name;
    s_give_ref (&fields, PROTO_FIELD_PARENT, parent);
    return s_add_op (self, PROTO_OP_CATEGORY_CREATE, &fields);
}

int
ledger_batch_category_update (ledger_batch_t *self, ledger_ref_t id, const char *name, ledger_ref_t parent)
{
    return ledger_batch_category_update_if (self, id, name, parent, 0);
}

int
ledger_batch_category_update_if (ledger_batch_t *self, ledger_ref_t id, const char *name, ledger_ref_t parent,
                                 int64_t expect_version)
{
    if (s_check_ref (self, id, PROTO_FIELD_ID, false, false, true)
    ||  (name && s_check_text (self, name, PROTO_FIELD_NAME, 1, PROTO_NAME_MAX))
    ||  s_check_ref (self, parent, PROTO_FIELD_PARENT, true, true, false)
    ||  s_check_version (self, expect_version))
        return -1;
    if (!name && parent.kind == LEDGER_REF_UNSET)
        return s_fail (self, "%s needs a new %s or %s", proto_op_info (PROTO_OP_CATEGORY_UPDATE)->name,
                       s_name (PROTO_FIELD_NAME), s_name (PROTO_FIELD_PARENT));
    op_fields_t fields = { 0 };
    s_give (&fields, PROTO_FIELD_ID)->ref = id;
    if (name)
        s_give (&fields, PROTO_FIELD_NAME)->text = name;
    s_give_ref (&fields, PROTO_FIELD_PARENT, parent);
    s_give_version (&fields, expect_version);
    return s_add_op (self, PROTO_OP_CATEGORY_UPDATE, &fields);
}

int
ledger_batch_category_delete (ledger_batch_t *self, ledger_ref_t id)
{
    return s_op_with_id (self, PROTO_OP_CATEGORY_DELETE, id, 0);
}

int
ledger_batch_category_delete_if (ledger_batch_t *self, ledger_ref_t id, int64_t expect_version)
{
    return s_op_with_id (self, PROTO_OP_CATEGORY_DELETE, id, expect_version);
}

/*  A name goes as field `name`, an id or op as field `id`; the argument is
    called `category` in messages, as in ledger.h. */
int
ledger_batch_category_get (ledger_batch_t *self, ledger_ref_t category)
{
    if (s_check_ref (self, category, PROTO_FIELD_CATEGORY, true, false, true))
        return -1;
    op_fields_t fields = { 0 };
    if (category.kind == LEDGER_REF_NAME)
        s_give (&fields, PROTO_FIELD_NAME)->text = category.name;
    else
        s_give (&fields, PROTO_FIELD_ID)->ref = category;
    return s_add_op (self, PROTO_OP_CATEGORY_GET, &fields);
}

int
ledger_batch_category_list (ledger_batch_t *self)
{
    op_fields_t fields = { 0 };
    return s_add_op (self, PROTO_OP_CATEGORY_LIST, &fields);
}

int
ledger_batch_txn_create (ledger_batch_t *self, int64_t amount, ledger_time_t occurred_at,
                         const char *description, ledger_ref_t category)
{
    return ledger_batch_txn_create_ext (self, amount, occurred_at, description, category, NULL, false);
}

int
ledger_batch_txn_create_ext (ledger_batch_t *self, int64_t amount, ledger_time_t occurred_at,
                             const char *description, ledger_ref_t category,
                             const char *external_id, bool if_absent)
{
    if (s_check_time (self, occurred_at, PROTO_FIELD_OCCURRED_AT, true)
    ||  (description && s_check_text (self, description, PROTO_FIELD_DESCRIPTION, 0, PROTO_TEXT_MAX))
    ||  s_check_ref (self, category, PROTO_FIELD_CATEGORY, true, true, false)
    ||  (external_id && s_check_text (self, external_id, PROTO_FIELD_EXTERNAL_ID, 1, PROTO_EXTERNAL_ID_MAX)))
        return -1;
    if (if_absent && !external_id)
        return s_fail (self, "%s needs %s", s_name (PROTO_FIELD_IF_ABSENT), s_name (PROTO_FIELD_EXTERNAL_ID));
    op_fields_t fields = { 0 };
    s_give (&fields, PROTO_FIELD_AMOUNT)->number = amount;
    s_give (&fields, PROTO_FIELD_OCCURRED_AT)->time = occurred_at;
    if (description)
        s_give (&fields, PROTO_FIELD_DESCRIPTION)->text = description;
    s_give_ref (&fields, PROTO_FIELD_CATEGORY, category);
    if (external_id)
        s_give (&fields, PROTO_FIELD_EXTERNAL_ID)->text = external_id;
    if (if_absent)
        s_give (&fields, PROTO_FIELD_IF_ABSENT)->flag = true;
    return s_add_op (self, PROTO_OP_TXN_CREATE, &fields);
}

int
ledger_batch_txn_update (ledger_batch_t *self, ledger_ref_t id, const ledger_txn_change_t *change)
{
    const char *op = proto_op_info (PROTO_OP_TXN_UPDATE)->name;
    if (!change)
        return s_fail (self, "%s needs a change", op);
    if (s_check_ref (self, id, PROTO_FIELD_ID, false, false, true)
    ||  s_check_time (self, change->occurred_at, PROTO_FIELD_OCCURRED_AT, false)
    ||  (change->set_description && change->description
         && s_check_text (self, change->description, PROTO_FIELD_DESCRIPTION, 0, PROTO_TEXT_MAX))
    ||  s_check_ref (self, change->category, PROTO_FIELD_CATEGORY, true, true, false)
    ||  s_check_version (self, change->expect_version))
        return -1;
    op_fields_t fields = { 0 };
    if (change->set_amount)
        s_give (&fields, PROTO_FIELD_AMOUNT)->number = change->amount;
    if (change->occurred_at.set)
        s_give (&fields, PROTO_FIELD_OCCURRED_AT)->time = change->occurred_at;
    if (change->set_description)
        s_give (&fields, PROTO_FIELD_DESCRIPTION)->text = change->description;
    s_give_ref (&fields, PROTO_FIELD_CATEGORY, change->category);
    if (!fields.present)
        return s_fail (self, "%s needs at least one field to change", op);
    s_give (&fields, PROTO_FIELD_ID)->ref = id;
    s_give_version (&fields, change->expect_version);
    return s_add_op (self, PROTO_OP_TXN_UPDATE, &fields);
}

int
ledger_batch_txn_delete (ledger_batch_t *self, ledger_ref_t id)
{
    return s_op_with_id (self, PROTO_OP_TXN_DELETE, id, 0);
}

int
ledger_batch_txn_delete_if (ledger_batch_t *self, ledger_ref_t id, int64_t expect_version)
{
    return s_op_with_id (self, PROTO_OP_TXN_DELETE, id, expect_version);
}

int
ledger_batch_txn_get (ledger_batch_t *self, ledger_ref_t id)
{
    return s_op_with_id (self, PROTO_OP_TXN_GET, id, 0);
}

/*  The query fields txn.query and txn.summary share. */
static void
s_give_filters (op_fields_t *fields, const ledger_query_t *query)
{
    if (query->from.set)
        s_give (fields, PROTO_FIELD_FROM)->time = query->from;
    if (query->to.set)
        s_give (fields, PROTO_FIELD_TO)->time = query->to;
    if (query->category_count) {
        field_value_t *value = s_give (fields, PROTO_FIELD_CATEGORIES);
        value->refs = query->categories;
        value->ref_count = query->category_count;
    }
    if (query->include_subcategories)
        s_give (fields, PROTO_FIELD_INCLUDE_SUB)->flag = true;
    if (query->set_min_amount)
        s_give (fields, PROTO_FIELD_MIN_AMOUNT)->number = query->min_amount;
    if (query->set_max_amount)
        s_give (fields, PROTO_FIELD_MAX_AMOUNT)->number = query->max_amount;
}

/*  Check a query's arguments before anything is packed. */
static int
s_check_query (ledger_batch_t *self, const ledger_query_t *query)
{
    if (s_check_time (self, query->from, PROTO_FIELD_FROM, false)
    ||  s_check_time (self, query->to, PROTO_FIELD_TO, false))
        return -1;
    if (query->category_count > PROTO_MAX_LIST || (query->category_count && !query->categories))
        return s_fail (self, "%s holds 1 to %d entries", s_name (PROTO_FIELD_CATEGORIES), PROTO_MAX_LIST);
    for (size_t n = 0; n < query->category_count; n++)
        if (s_check_ref (self, query->categories [n], PROTO_FIELD_CATEGORIES, true, false, true))
            return -1;
    if (query->limit < 0 || query->limit > PROTO_MAX_LIMIT)
        return s_fail (self, "%s is 1 to %d (0 for the default)", s_name (PROTO_FIELD_LIMIT), PROTO_MAX_LIMIT);
    int64_t us, id;
    if (query->after && proto_cursor_parse (query->after, (uint32_t) strlen (query->after), &us, &id))
        return s_fail (self, "%s is not a cursor from a previous page", s_name (PROTO_FIELD_AFTER));
    return 0;
}

int
ledger_batch_txn_query (ledger_batch_t *self, const ledger_query_t *query)
{
    ledger_query_t all = { .limit = 0 };
    if (!query)
        query = &all;
    if (s_check_query (self, query))
        return -1;
    op_fields_t fields = { 0 };
    s_give_filters (&fields, query);
    if (query->limit)
        s_give (&fields, PROTO_FIELD_LIMIT)->number = query->limit;
    if (query->after)
        s_give (&fields, PROTO_FIELD_AFTER)->text = query->after;
    return s_add_op (self, PROTO_OP_TXN_QUERY, &fields);
}

/*  The library's enums name the same things as proto_period.h's, with 0
    for "leave the field out". */
static const int s_periods [] = {
    [LEDGER_PERIOD_DAY] = PROTO_PERIOD_DAY, [LEDGER_PERIOD_WEEK] = PROTO_PERIOD_WEEK,
    [LEDGER_PERIOD_MONTH] = PROTO_PERIOD_MONTH, [LEDGER_PERIOD_YEAR] = PROTO_PERIOD_YEAR
};

/*  Check a summary's grouping, as the worker will. */
static int
s_check_summary (ledger_batch_t *self, const ledger_summary_t *summary, int *offset_p)
{
    int by = summary->by? (int) summary->by: PROTO_BY_DEFAULT;
    if (!proto_by_name (by))
        return s_fail (self, "%s is category, period or both", s_name (PROTO_FIELD_BY));
    if (summary->period < LEDGER_PERIOD_DEFAULT || summary->period > LEDGER_PERIOD_YEAR)
        return s_fail (self, "%s is day, week, month or year", s_name (PROTO_FIELD_PERIOD));
    if (summary->offset
    &&  proto_offset_parse (summary->offset, (uint32_t) strlen (summary->offset), offset_p))
        return s_fail (self, "%s: '%.16s' is not Z or +hh:mm / -hh:mm", s_name (PROTO_FIELD_OFFSET),
                       summary->offset);
    proto_field_t wrong = PROTO_FIELD_COUNT;
    if (!(by & PROTO_BY_PERIOD) && summary->period)
        wrong = PROTO_FIELD_PERIOD;
    else
    if (!(by & PROTO_BY_PERIOD) && summary->offset)
        wrong = PROTO_FIELD_OFFSET;
    else
    if (!(by & PROTO_BY_CATEGORY) && summary->rollup)
        wrong = PROTO_FIELD_ROLLUP;
    if (wrong != PROTO_FIELD_COUNT)
        return s_fail (self, "%s applies only when grouping by %s", s_name (wrong),
                       wrong == PROTO_FIELD_ROLLUP? "category": "period");
    return 0;
}

int
ledger_batch_txn_summary (ledger_batch_t *self, const ledger_summary_t *summary)
{
    ledger_summary_t all = { .by = LEDGER_BY_DEFAULT };
    if (!summary)
        summary = &all;
    ledger_query_t query = {
        .from = summary->from, .to = summary->to, .categories = summary->categories,
        .category_count = summary->category_count, .include_subcategories = summary->include_subcategories,
        .set_min_amount = summary->set_min_amount, .min_amount = summary->min_amount,
        .set_max_amount = summary->set_max_amount, .max_amount = summary->max_amount
    };
    int offset = 0;
    if (s_check_query (self, &query) || s_check_summary (self, summary, &offset))
        return -1;
    op_fields_t fields = { 0 };
    s_give_filters (&fields, &query);
    if (summary->by)
        s_give (&fields, PROTO_FIELD_BY)->number = summary->by;
    if (summary->period)
        s_give (&fields, PROTO_FIELD_PERIOD)->number = s_periods [summary->period];
    if (summary->offset)
        s_give (&fields, PROTO_FIELD_OFFSET)->number = offset;
    if (summary->rollup)
        s_give (&fields, PROTO_FIELD_ROLLUP)->flag = true;
    return s_add_op (self, PROTO_OP_TXN_SUMMARY, &fields);
}

int
ledger_batch_ping (ledger_batch_t *self)
{
    op_fields_t fields = { 0 };
    return s_add_op (self, PROTO_OP_SYS_PING, &fields);
}

int
ledger_batch_stats (ledger_batch_t *self)
{
    op_fields_t fields = { 0 };
    return s_add_op (self, PROTO_OP_SYS_STATS, &fields);
}

_Static_assert (LEDGER_BACKUP_CHUNK_MAX == PROTO_CHUNK_MAX, "ledger.h states the worker's chunk limit");

int
ledger_batch_backup (ledger_batch_t *self)
{
    op_fields_t fields = { 0 };
    return s_add_op (self, PROTO_OP_SYS_BACKUP, &fields);
}

int
ledger_batch_backup_read (ledger_batch_t *self, const char *token, int64_t position, int64_t length)
{
    if (s_check_text (self, token, PROTO_FIELD_TOKEN, 1, PROTO_TOKEN_MAX))
        return -1;
    if (position < 0)
        return s_fail (self, "%s is a byte position: 0 or more", s_name (PROTO_FIELD_POSITION));
    if (length < 1 || length > PROTO_CHUNK_MAX)
        return s_fail (self, "%s is 1 to %d bytes", s_name (PROTO_FIELD_LENGTH), PROTO_CHUNK_MAX);
    op_fields_t fields = { 0 };
    s_give (&fields, PROTO_FIELD_TOKEN)->text = token;
    s_give (&fields, PROTO_FIELD_POSITION)->number = position;
    s_give (&fields, PROTO_FIELD_LENGTH)->number = length;
    return s_add_op (self, PROTO_OP_SYS_BACKUP_READ, &fields);
}

int
ledger_batch_backup_end (ledger_batch_t *self, const char *token)
{
    if (s_check_text (self, token, PROTO_FIELD_TOKEN, 1, PROTO_TOKEN_MAX))
        return -1;
    op_fields_t fields = { 0 };
    s_give (&fields, PROTO_FIELD_TOKEN)->text = token;
    return s_add_op (self, PROTO_OP_SYS_BACKUP_END, &fields);
}

int
ledger_batch_cluster_transfer (ledger_batch_t *self, int64_t node_id)
{
    return s_op_with_id (self, PROTO_OP_CLUSTER_TRANSFER, ledger_id (node_id), 0);
}

int
ledger_batch_cluster_remove (ledger_batch_t *self, int64_t node_id)
{
    return s_op_with_id (self, PROTO_OP_CLUSTER_REMOVE, ledger_id (node_id), 0);
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
        json_t *op = json_object_get (value, PROTO_OP_KEY);
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
