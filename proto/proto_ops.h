/*  proto_ops -- the op table: every operation and every field, declared once.

    Decoding, validation, dispatch (the store's handler table is generated
    from PROTO_OP_LIST: worker/store/store_ops.c) and the field lists in
    PROTOCOL.md all follow from these two lists. A field has one type
    wherever it appears; an op says which fields it requires, which it
    accepts, and which of them must be given at least one of. */

#ifndef PROTO_OPS_H
#define PROTO_OPS_H

#include <stdbool.h>
#include <stdint.h>

/* How a field's value is read. */
typedef enum {
    PROTO_FT_ID,                /* positive integer or {"ref": k} */
    PROTO_FT_CATEGORY,          /* id, {"ref": k} or exact name; nil = none */
    PROTO_FT_CATEGORY_LIST,     /* array of 1..PROTO_MAX_LIST ids, refs or names */
    PROTO_FT_NAME,              /* string of 1..100 bytes */
    PROTO_FT_TEXT,              /* string of at most 1000 bytes; nil = none */
    PROTO_FT_AMOUNT,            /* integer minor units or exact decimal string */
    PROTO_FT_TIME,              /* RFC 3339 with offset, or msgpack timestamp */
    PROTO_FT_BOUND,             /* as PROTO_FT_TIME, or YYYY-MM-DD (midnight UTC) */
    PROTO_FT_BOOL,
    PROTO_FT_LIMIT,             /* integer 1..PROTO_MAX_LIMIT */
    PROTO_FT_CURSOR,            /* a `next` cursor from txn.query; nil = first page */
    PROTO_FT_EXTERNAL_ID,       /* string of 1..PROTO_EXTERNAL_ID_MAX bytes */
    PROTO_FT_VERSION,           /* a row's version: integer 1..INT64_MAX */
    PROTO_FT_SUMMARY_BY,        /* "category", "period" or "both" (proto_period.h) */
    PROTO_FT_PERIOD,            /* "day", "week", "month" or "year" */
    PROTO_FT_OFFSET,            /* "Z" or "+hh:mm" / "-hh:mm": minutes east of UTC */
    PROTO_FT_TOKEN,             /* a backup's token: string of 1..PROTO_TOKEN_MAX bytes */
    PROTO_FT_POSITION,          /* a byte position in a file: integer 0..INT64_MAX */
    PROTO_FT_LENGTH             /* bytes to read: integer 1..PROTO_CHUNK_MAX */
} proto_field_type_t;

#define PROTO_NAME_MAX 100
#define PROTO_TEXT_MAX 1000
#define PROTO_EXTERNAL_ID_MAX 128
#define PROTO_MAX_LIST 1000
#define PROTO_MAX_LIMIT 10000
#define PROTO_DEFAULT_LIMIT 1000
#define PROTO_TOKEN_MAX 64
#define PROTO_CHUNK_MAX (1024 * 1024)    /* bytes one sys.backup_read returns, at most */

/* The key of an op map that names the op, and the one key of a ref map
   ({"ref": k}); every other key of an op map is a field below. */
#define PROTO_OP_KEY "op"
#define PROTO_REF_KEY "ref"

/*  X (SYMBOL, wire name, type)
    Append new fields and ops at the end: idempotency fingerprints walk the
    fields in this order, and stored keys must match across versions. */
#define PROTO_FIELD_LIST(X) \
    X (ID,          "id",                    PROTO_FT_ID) \
    X (NAME,        "name",                  PROTO_FT_NAME) \
    X (PARENT,      "parent",                PROTO_FT_CATEGORY) \
    X (AMOUNT,      "amount",                PROTO_FT_AMOUNT) \
    X (OCCURRED_AT, "occurred_at",           PROTO_FT_TIME) \
    X (DESCRIPTION, "description",           PROTO_FT_TEXT) \
    X (CATEGORY,    "category",              PROTO_FT_CATEGORY) \
    X (FROM,        "from",                  PROTO_FT_BOUND) \
    X (TO,          "to",                    PROTO_FT_BOUND) \
    X (CATEGORIES,  "categories",            PROTO_FT_CATEGORY_LIST) \
    X (INCLUDE_SUB, "include_subcategories", PROTO_FT_BOOL) \
    X (MIN_AMOUNT,  "min_amount",            PROTO_FT_AMOUNT) \
    X (MAX_AMOUNT,  "max_amount",            PROTO_FT_AMOUNT) \
    X (LIMIT,       "limit",                 PROTO_FT_LIMIT) \
    X (AFTER,       "after",                 PROTO_FT_CURSOR) \
    X (EXTERNAL_ID, "external_id",           PROTO_FT_EXTERNAL_ID) \
    X (IF_ABSENT,   "if_absent",             PROTO_FT_BOOL) \
    X (EXPECT_VERSION, "expect_version",     PROTO_FT_VERSION) \
    X (BY,          "by",                    PROTO_FT_SUMMARY_BY) \
    X (PERIOD,      "period",                PROTO_FT_PERIOD) \
    X (OFFSET,      "offset",                PROTO_FT_OFFSET) \
    X (ROLLUP,      "rollup",                PROTO_FT_BOOL) \
    X (TOKEN,       "token",                 PROTO_FT_TOKEN) \
    X (POSITION,    "position",              PROTO_FT_POSITION) \
    X (LENGTH,      "length",                PROTO_FT_LENGTH)

typedef enum {
#define X(sym, name, type) PROTO_FIELD_##sym,
    PROTO_FIELD_LIST (X)
#undef X
    PROTO_FIELD_COUNT
} proto_field_t;

/* A set of fields, one bit each. */
#define PF(sym) (1u << PROTO_FIELD_##sym)

/* What an op's ids are, so a ref can be checked to point at the right kind. */
typedef enum {
    PROTO_ENTITY_NONE,
    PROTO_ENTITY_CATEGORY,
    PROTO_ENTITY_TXN
} proto_entity_t;

/* Op flags. */
#define PROTO_OPF_WRITE    1u   /* changes the database */
#define PROTO_OPF_CREATES  2u   /* result is {"id": n}: a ref may point at it */
#define PROTO_OPF_ONLY_ONE 4u   /* at most one of `one_of` may be given */
#define PROTO_OPF_NO_LEDGER 8u  /* answered without the ledger, on every node (worker/sys_ops.c) */
#define PROTO_OPF_BACKUP   16u  /* answered by the backup thread (worker/backup.c); alone in an
                                   unkeyed batch */

/*  X (SYMBOL, wire name, entity, flags, required, optional, one_of)
    `one_of`: at least one of these must be present (they are optional too). */
#define PROTO_OP_LIST(X) \
    X (CATEGORY_CREATE, "category.create", CATEGORY, PROTO_OPF_WRITE | PROTO_OPF_CREATES, \
       PF (NAME), PF (PARENT), 0) \
    X (CATEGORY_UPDATE, "category.update", CATEGORY, PROTO_OPF_WRITE, \
       PF (ID), PF (EXPECT_VERSION), PF (NAME) | PF (PARENT)) \
    X (CATEGORY_DELETE, "category.delete", CATEGORY, PROTO_OPF_WRITE, \
       PF (ID), PF (EXPECT_VERSION), 0) \
    X (CATEGORY_GET,    "category.get",    CATEGORY, PROTO_OPF_ONLY_ONE, \
       0, 0, PF (ID) | PF (NAME)) \
    X (CATEGORY_LIST,   "category.list",   CATEGORY, 0, \
       0, 0, 0) \
    X (TXN_CREATE,      "txn.create",      TXN, PROTO_OPF_WRITE | PROTO_OPF_CREATES, \
       PF (AMOUNT) | PF (OCCURRED_AT), PF (DESCRIPTION) | PF (CATEGORY) | PF (EXTERNAL_ID) | PF (IF_ABSENT), 0) \
    X (TXN_UPDATE,      "txn.update",      TXN, PROTO_OPF_WRITE, \
       PF (ID), PF (EXPECT_VERSION), PF (AMOUNT) | PF (OCCURRED_AT) | PF (DESCRIPTION) | PF (CATEGORY)) \
    X (TXN_DELETE,      "txn.delete",      TXN, PROTO_OPF_WRITE, \
       PF (ID), PF (EXPECT_VERSION), 0) \
    X (TXN_GET,         "txn.get",         TXN, 0, \
       PF (ID), 0, 0) \
    X (TXN_QUERY,       "txn.query",       TXN, 0, \
       0, PF (FROM) | PF (TO) | PF (CATEGORIES) | PF (INCLUDE_SUB) | PF (MIN_AMOUNT) \
          | PF (MAX_AMOUNT) | PF (LIMIT) | PF (AFTER), 0) \
    X (SYS_PING,        "sys.ping",        NONE, PROTO_OPF_NO_LEDGER, \
       0, 0, 0) \
    X (SYS_STATS,       "sys.stats",       NONE, PROTO_OPF_NO_LEDGER, \
       0, 0, 0) \
    X (CLUSTER_TRANSFER, "cluster.transfer", NONE, PROTO_OPF_NO_LEDGER, \
       PF (ID), 0, 0) \
    X (CLUSTER_REMOVE,  "cluster.remove",  NONE, PROTO_OPF_NO_LEDGER, \
       PF (ID), 0, 0) \
    X (TXN_SUMMARY,     "txn.summary",     TXN, 0, \
       0, PF (FROM) | PF (TO) | PF (CATEGORIES) | PF (INCLUDE_SUB) | PF (MIN_AMOUNT) \
          | PF (MAX_AMOUNT) | PF (BY) | PF (PERIOD) | PF (OFFSET) | PF (ROLLUP), 0) \
    X (SYS_BACKUP,      "sys.backup",      NONE, PROTO_OPF_BACKUP, \
       0, 0, 0) \
    X (SYS_BACKUP_READ, "sys.backup_read", NONE, PROTO_OPF_BACKUP, \
       PF (TOKEN) | PF (POSITION) | PF (LENGTH), 0, 0) \
    X (SYS_BACKUP_END,  "sys.backup_end",  NONE, PROTO_OPF_BACKUP, \
       PF (TOKEN), 0, 0)

typedef enum {
#define X(sym, name, entity, flags, required, optional, one_of) PROTO_OP_##sym,
    PROTO_OP_LIST (X)
#undef X
    PROTO_OP_COUNT
} proto_op_code_t;

typedef struct {
    const char *name;
    proto_entity_t entity;
    uint32_t flags;
    uint32_t required;          /* fields that must be present */
    uint32_t allowed;           /* every field the op accepts */
    uint32_t one_of;            /* at least one of these must be present */
} proto_op_info_t;

typedef struct {
    const char *name;
    proto_field_type_t type;
} proto_field_info_t;

/* The table entry of an op (code < PROTO_OP_COUNT). */
const proto_op_info_t *proto_op_info (proto_op_code_t code);

/* The table entry of a field (field < PROTO_FIELD_COUNT). */
const proto_field_info_t *proto_field_info (proto_field_t field);

/* Look up an op by its wire name of len bytes. Returns 0 and sets *code_p,
   or -1 if there is no such op. */
int proto_op_lookup (const char *name, uint32_t len, proto_op_code_t *code_p);

/* Look up a field by its wire name of len bytes. Returns 0 and sets
   *field_p, or -1 if there is no such field. */
int proto_field_lookup (const char *name, uint32_t len, proto_field_t *field_p);

#endif
