/*  Unit tests for proto_request: decoding, validation and precedence. */

#include "proto_json.h"
#include "proto_period.h"
#include "proto_request.h"
#include "proto_time.h"
#include "proto_reader.h"
#include "testing.h"

/*  The fingerprint of the request in test_fingerprint_is_stable_across_builds. */
#define FINGERPRINT_PINNED 0x053db1cb6c9c6b1cULL

#include <stdlib.h>

static char *s_body;
static size_t s_size;

/*  Decode a request given as JSON (turned into msgpack first). */
static proto_request_t *
s_decode (const char *json_text, uint32_t max_ops)
{
    json_error_t jerr;
    json_t *json = json_loads (json_text, 0, &jerr);
    if (!json) {
        fprintf (stderr, "bad test JSON: %s: %s\n", json_text, jerr.text);
        abort ();
    }
    free (s_body);
    char errbuf [100];
    if (proto_json_to_msgpack (json, &s_body, &s_size, errbuf, sizeof (errbuf))) {
        fprintf (stderr, "cannot pack: %s\n", errbuf);
        abort ();
    }
    json_decref (json);
    return proto_request_new (s_body, s_size, max_ops);
}

static proto_request_t *
s_decode_bytes (const char *bytes, size_t size)
{
    return proto_request_new (bytes, size, 100);
}

/*  Check the request failed with class, code, op and field ("" = none). */
static void
s_check_error (const char *json_text, proto_class_t klass, const char *code, int op, const char *field)
{
    proto_request_t *request = s_decode (json_text, 100);
    CHECK_STR (proto_class_name (request->error.klass), proto_class_name (klass));
    CHECK_STR (request->error.code? request->error.code: "(none)", code);
    CHECK_INT (request->error.op, op);
    CHECK_STR (request->error.field, field);
    if (request->error.klass != klass || !request->error.code || strcmp (request->error.code, code))
        fprintf (stderr, "    for %s: %s\n", json_text, request->error.message);
    proto_request_destroy (&request);
}

static void
test_valid_batch (void)
{
    proto_request_t *request = s_decode (
        "{\"v\":1,\"id\":7,\"key\":\"k1\",\"ops\":["
        "{\"op\":\"category.create\",\"name\":\"Food\"},"
        "{\"op\":\"txn.create\",\"amount\":\"-12.34\",\"occurred_at\":\"2025-01-02T10:00:00+01:00\","
        " \"category\":{\"ref\":0},\"description\":\"lunch\"},"
        "{\"op\":\"txn.query\",\"from\":\"2025-01-01\",\"categories\":[\"Food\",3,{\"ref\":0}],\"limit\":5}]}", 100);
    CHECK (!proto_error_is_set (&request->error));
    CHECK_INT (request->op_count, 3);
    CHECK_INT (request->invalid_count, 0);
    CHECK (request->writes);
    CHECK_INT (request->key_len, 2);
    CHECK_INT (request->id_len, 1);                 /* positive fixint 7 */
    CHECK_INT ((uint8_t) request->id_raw [0], 7);
    proto_op_t *op = &request->ops [1];
    CHECK_INT (op->code, PROTO_OP_TXN_CREATE);
    CHECK_INT (op->value [PROTO_FIELD_AMOUNT].kind, PROTO_VAL_INT);
    CHECK_INT (op->value [PROTO_FIELD_AMOUNT].i, -1234);
    CHECK_INT (op->value [PROTO_FIELD_OCCURRED_AT].kind, PROTO_VAL_TIME);
    CHECK_INT (op->value [PROTO_FIELD_OCCURRED_AT].i, 1735808400000000LL);
    CHECK_INT (op->value [PROTO_FIELD_OCCURRED_AT].offset_min, 60);
    CHECK_INT (op->value [PROTO_FIELD_CATEGORY].kind, PROTO_VAL_REF);
    CHECK_INT (op->value [PROTO_FIELD_CATEGORY].i, 0);
    op = &request->ops [2];
    CHECK_INT (op->value [PROTO_FIELD_FROM].i, 1735689600000000LL);
    CHECK_INT (op->value [PROTO_FIELD_CATEGORIES].kind, PROTO_VAL_LIST);
    CHECK_INT (op->value [PROTO_FIELD_CATEGORIES].len, 3);
    CHECK_INT (op->value [PROTO_FIELD_CATEGORIES].list [0].kind, PROTO_VAL_STR);
    CHECK_INT (op->value [PROTO_FIELD_CATEGORIES].list [1].kind, PROTO_VAL_INT);
    CHECK_INT (op->value [PROTO_FIELD_CATEGORIES].list [2].kind, PROTO_VAL_REF);
    CHECK_INT (op->value [PROTO_FIELD_LIMIT].i, 5);
    proto_request_destroy (&request);
    CHECK (request == NULL);
    proto_request_destroy (&request);               /* safe twice */
}

static void
test_read_only_batch_does_not_write (void)
{
    proto_request_t *request = s_decode ("{\"v\":1,\"ops\":[{\"op\":\"sys.ping\"},{\"op\":\"txn.get\",\"id\":1}]}", 100);
    CHECK (!proto_error_is_set (&request->error));
    CHECK (!request->writes);
    proto_request_destroy (&request);
    request = s_decode ("{\"v\":1,\"key\":\"x\",\"ops\":[{\"op\":\"sys.ping\"}]}", 100);
    CHECK (request->writes);                        /* a key is written */
    proto_request_destroy (&request);
}

static void
test_structural_garbage (void)
{
    static const struct { const char *bytes; size_t size; const char *code; } cases [] = {
        { "", 0, "MALFORMED" },
        { "\xdd\xff\xff\xff\xff", 5, "MALFORMED" },               /* array32 of 4G elements */
        { "\xdf\xff\xff\xff\xff", 5, "MALFORMED" },               /* map32 */
        { "\xdb\xff\xff\xff\xff", 5, "MALFORMED" },               /* str32 */
        { "\xc6\xff\xff\xff\xff", 5, "MALFORMED" },               /* bin32 */
        { "\xc9\xff\xff\xff\xff\x01", 6, "MALFORMED" },           /* ext32 */
        { "\x81\xa1v\xdd\x00\x00\x10\x00", 8, "MALFORMED" },      /* v: array of 4096, 0 bytes follow */
        { "\x82\xa1v\x01", 4, "MALFORMED" },                      /* truncated map */
        { "\xc1", 1, "MALFORMED" },                               /* never used byte */
        { "\x81\xa1v\xa2\xc3\x28", 6, "BAD_UTF8" },               /* invalid UTF-8 value */
        { "\x81\xa2\xff\xfe\x01", 5, "BAD_UTF8" },                /* invalid UTF-8 key */
        { "\x81\x01\x01", 3, "BAD_MAP_KEY" },                     /* integer key */
        { "\x82\xa1v\x01\xa1v\x01", 7, "DUPLICATE_KEY" },
        { "\x01", 1, "NOT_A_MAP" },
        { "\x90", 1, "NOT_A_MAP" },
        { "\x82\xa1v\x01\xa3ops\x91\x81\xa2op\xa8sys.ping\xc0", 23, "TRAILING_BYTES" },
    };
    for (size_t n = 0; n < sizeof (cases) / sizeof (cases [0]); n++) {
        proto_request_t *request = s_decode_bytes (cases [n].bytes, cases [n].size);
        CHECK_STR (proto_class_name (request->error.klass), "protocol");
        CHECK_STR (request->error.code? request->error.code: "", cases [n].code);
        proto_request_destroy (&request);
    }
}

static void
test_deep_nesting (void)
{
    /*  {"v":1,"ops":[{"op":"sys.ping","name":[[[[...]]]]}]}, 100 deep */
    char bytes [200];
    size_t size = 0;
    const char head [] = "\x82\xa1v\x01\xa3ops\x91\x82\xa2op\xa8sys.ping\xa4name";
    memcpy (bytes, head, sizeof (head) - 1);
    size = sizeof (head) - 1;
    for (int n = 0; n < 100; n++)
        bytes [size++] = (char) 0x91;
    bytes [size++] = (char) 0xc0;
    proto_request_t *request = s_decode_bytes (bytes, size);
    CHECK_STR (request->error.code, "TOO_DEEP");
    proto_request_destroy (&request);
}

static void
test_envelope_errors (void)
{
    s_check_error ("{\"ops\":[{\"op\":\"sys.ping\"}]}", PROTO_CLASS_PROTOCOL, "MISSING_KEY", -1, "v");
    s_check_error ("{\"v\":1}", PROTO_CLASS_PROTOCOL, "MISSING_KEY", -1, "ops");
    s_check_error ("{\"v\":2,\"ops\":[{\"op\":\"sys.ping\"}]}", PROTO_CLASS_PROTOCOL, "BAD_VERSION", -1, "v");
    s_check_error ("{\"v\":\"1\",\"ops\":[{\"op\":\"sys.ping\"}]}", PROTO_CLASS_PROTOCOL, "BAD_VERSION", -1, "v");
    s_check_error ("{\"v\":1,\"ops\":[{\"op\":\"sys.ping\"}],\"extra\":1}", PROTO_CLASS_PROTOCOL, "UNKNOWN_KEY", -1, "extra");
    s_check_error ("{\"v\":1,\"id\":-1,\"ops\":[{\"op\":\"sys.ping\"}]}", PROTO_CLASS_PROTOCOL, "BAD_ID", -1, "id");
    s_check_error ("{\"v\":1,\"id\":[1],\"ops\":[{\"op\":\"sys.ping\"}]}", PROTO_CLASS_PROTOCOL, "BAD_ID", -1, "id");
    s_check_error ("{\"v\":1,\"key\":\"\",\"ops\":[{\"op\":\"sys.ping\"}]}", PROTO_CLASS_PROTOCOL, "BAD_KEY", -1, "key");
    s_check_error ("{\"v\":1,\"mode\":\"some\",\"ops\":[{\"op\":\"sys.ping\"}]}", PROTO_CLASS_PROTOCOL, "BAD_MODE", -1, "mode");
    s_check_error ("{\"v\":1,\"ops\":{}}", PROTO_CLASS_PROTOCOL, "BAD_TYPE", -1, "ops");
    s_check_error ("{\"v\":1,\"ops\":[]}", PROTO_CLASS_PROTOCOL, "BAD_VALUE", -1, "ops");
    s_check_error ("{\"v\":1,\"ops\":[{\"op\":\"sys.ping\"},7]}", PROTO_CLASS_PROTOCOL, "OP_NOT_A_MAP", 1, "ops");
    /*  A 257-byte string id is refused; 256 is fine. */
    char text [600];
    snprintf (text, sizeof (text), "{\"v\":1,\"id\":\"%0257d\",\"ops\":[{\"op\":\"sys.ping\"}]}", 0);
    s_check_error (text, PROTO_CLASS_PROTOCOL, "BAD_ID", -1, "id");
    snprintf (text, sizeof (text), "{\"v\":1,\"id\":\"%0256d\",\"ops\":[{\"op\":\"sys.ping\"}]}", 0);
    proto_request_t *request = s_decode (text, 100);
    CHECK (!proto_error_is_set (&request->error));
    proto_request_destroy (&request);
}

static void
test_too_many_ops (void)
{
    proto_request_t *request = s_decode ("{\"v\":1,\"ops\":[{\"op\":\"sys.ping\"},{\"op\":\"sys.ping\"},{\"op\":\"sys.ping\"}]}", 2);
    CHECK_STR (proto_class_name (request->error.klass), "too_large");
    CHECK_STR (request->error.code, "TOO_MANY_OPS");
    proto_request_destroy (&request);
}

static void
test_precedence (void)
{
    /*  An invalid op first, an envelope error after it: protocol wins. */
    s_check_error ("{\"v\":1,\"ops\":[{\"op\":\"nope\"}],\"mode\":\"bad\"}", PROTO_CLASS_PROTOCOL, "BAD_MODE", -1, "mode");
    /*  too_large beats an envelope-valid request with invalid ops. */
    proto_request_t *request = s_decode ("{\"v\":1,\"ops\":[{\"op\":\"nope\"},{\"op\":\"nope\"},{\"op\":\"nope\"}]}", 2);
    CHECK_STR (request->error.code, "TOO_MANY_OPS");
    proto_request_destroy (&request);
    /*  The lowest invalid op is the one reported. */
    s_check_error ("{\"v\":1,\"ops\":[{\"op\":\"sys.ping\"},{\"op\":\"txn.get\"},{\"op\":\"nope\"}]}",
                   PROTO_CLASS_INVALID, "MISSING_FIELD", 1, "id");
}

static void
test_id_is_kept_despite_errors (void)
{
    proto_request_t *request = s_decode ("{\"v\":1,\"id\":\"abc\",\"bogus\":1,\"ops\":[{\"op\":\"sys.ping\"}]}", 100);
    CHECK_STR (request->error.code, "UNKNOWN_KEY");
    CHECK_INT (request->id_len, 4);                 /* fixstr header + "abc" */
    CHECK (memcmp (request->id_raw, "\xa3" "abc", 4) == 0);
    proto_request_destroy (&request);
}

static void
test_invalid_ops (void)
{
    const char *head = "{\"v\":1,\"ops\":[";
    static const struct { const char *op; const char *code; const char *field; } cases [] = {
        { "{\"name\":\"x\"}", "MISSING_FIELD", "op" },
        { "{\"op\":7}", "WRONG_TYPE", "op" },
        { "{\"op\":\"txn.nope\"}", "UNKNOWN_OP", "op" },
        { "{\"op\":\"sys.ping\",\"colour\":1}", "UNKNOWN_FIELD", "colour" },
        { "{\"op\":\"sys.ping\",\"name\":\"x\"}", "UNKNOWN_FIELD", "name" },
        { "{\"op\":\"category.create\"}", "MISSING_FIELD", "name" },
        { "{\"op\":\"category.create\",\"name\":\"\"}", "BAD_VALUE", "name" },
        { "{\"op\":\"category.create\",\"name\":5}", "WRONG_TYPE", "name" },
        { "{\"op\":\"category.create\",\"name\":\"a\",\"parent\":0}", "BAD_VALUE", "parent" },
        { "{\"op\":\"category.create\",\"name\":\"a\",\"parent\":true}", "WRONG_TYPE", "parent" },
        { "{\"op\":\"category.update\",\"id\":1}", "NOTHING_TO_UPDATE", "" },
        { "{\"op\":\"category.get\"}", "MISSING_FIELD", "id" },
        { "{\"op\":\"category.get\",\"id\":1,\"name\":\"a\"}", "CONFLICTING_FIELDS", "name" },
        { "{\"op\":\"txn.create\",\"amount\":1.5,\"occurred_at\":\"2025-01-01T00:00:00Z\"}", "AMOUNT_NOT_EXACT", "amount" },
        { "{\"op\":\"txn.create\",\"amount\":\"1.234\",\"occurred_at\":\"2025-01-01T00:00:00Z\"}", "AMOUNT_NOT_EXACT", "amount" },
        { "{\"op\":\"txn.create\",\"amount\":\"1e3\",\"occurred_at\":\"2025-01-01T00:00:00Z\"}", "BAD_AMOUNT", "amount" },
        { "{\"op\":\"txn.create\",\"amount\":\"99999999999999999999\",\"occurred_at\":\"2025-01-01T00:00:00Z\"}", "AMOUNT_OUT_OF_RANGE", "amount" },
        { "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00\"}", "NAIVE_TIMESTAMP", "occurred_at" },
        { "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01 00:00:00Z\"}", "BAD_TIMESTAMP", "occurred_at" },
        { "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T23:59:60Z\"}", "BAD_TIMESTAMP", "occurred_at" },
        { "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01\"}", "BAD_TIMESTAMP", "occurred_at" },
        { "{\"op\":\"txn.create\",\"amount\":1}", "MISSING_FIELD", "occurred_at" },
        { "{\"op\":\"txn.get\",\"id\":{\"ref\":0}}", "BAD_REF", "id" },          /* not earlier */
        { "{\"op\":\"txn.get\",\"id\":{\"ref\":1,\"x\":2}}", "BAD_REF", "id" },
        { "{\"op\":\"txn.get\",\"id\":{\"rof\":0}}", "BAD_REF", "id" },
        { "{\"op\":\"txn.get\",\"id\":\"7\"}", "WRONG_TYPE", "id" },
        { "{\"op\":\"txn.update\",\"id\":1,\"description\":null,\"limit\":3}", "UNKNOWN_FIELD", "limit" },
        { "{\"op\":\"txn.query\",\"limit\":0}", "BAD_VALUE", "limit" },
        { "{\"op\":\"txn.query\",\"limit\":10001}", "BAD_VALUE", "limit" },
        { "{\"op\":\"txn.query\",\"categories\":[]}", "BAD_VALUE", "categories" },
        { "{\"op\":\"txn.query\",\"categories\":[null]}", "WRONG_TYPE", "categories" },
        { "{\"op\":\"txn.query\",\"after\":\"garbage\"}", "BAD_CURSOR", "after" },
        { "{\"op\":\"txn.query\",\"include_subcategories\":1}", "WRONG_TYPE", "include_subcategories" },
        { "{\"op\":\"txn.query\",\"from\":\"2025-13-01\"}", "BAD_TIMESTAMP", "from" },
        { "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"external_id\":\"\"}",
          "BAD_VALUE", "external_id" },
        { "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"external_id\":7}",
          "WRONG_TYPE", "external_id" },
        { "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"external_id\":null}",
          "WRONG_TYPE", "external_id" },
        { "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"if_absent\":true}",
          "MISSING_FIELD", "external_id" },
        { "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"external_id\":\"a\","
          "\"if_absent\":1}", "WRONG_TYPE", "if_absent" },
        { "{\"op\":\"txn.update\",\"id\":1,\"external_id\":\"a\"}", "UNKNOWN_FIELD", "external_id" },
        { "{\"op\":\"txn.update\",\"id\":1,\"amount\":1,\"expect_version\":0}", "BAD_VALUE", "expect_version" },
        { "{\"op\":\"txn.delete\",\"id\":1,\"expect_version\":-1}", "BAD_VALUE", "expect_version" },
        { "{\"op\":\"category.delete\",\"id\":1,\"expect_version\":\"1\"}", "WRONG_TYPE", "expect_version" },
        { "{\"op\":\"category.update\",\"id\":1,\"name\":\"a\",\"expect_version\":1.0}", "WRONG_TYPE",
          "expect_version" },
        { "{\"op\":\"txn.update\",\"id\":1,\"amount\":1,\"expect_version\":null}", "WRONG_TYPE", "expect_version" },
        { "{\"op\":\"txn.update\",\"id\":1,\"expect_version\":1}", "NOTHING_TO_UPDATE", "" },
        { "{\"op\":\"txn.get\",\"id\":1,\"expect_version\":1}", "UNKNOWN_FIELD", "expect_version" },
        { "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"expect_version\":1}",
          "UNKNOWN_FIELD", "expect_version" },
    };
    for (size_t n = 0; n < sizeof (cases) / sizeof (cases [0]); n++) {
        char text [600];
        snprintf (text, sizeof (text), "%s%s]}", head, cases [n].op);
        s_check_error (text, PROTO_CLASS_INVALID, cases [n].code, 0, cases [n].field);
    }
    /*  A ref must point at an op that creates the right kind of id. */
    s_check_error ("{\"v\":1,\"ops\":[{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\"},"
                   "{\"op\":\"category.create\",\"name\":\"a\",\"parent\":{\"ref\":0}}]}",
                   PROTO_CLASS_INVALID, "BAD_REF", 1, "parent");
    s_check_error ("{\"v\":1,\"ops\":[{\"op\":\"sys.ping\"},{\"op\":\"txn.delete\",\"id\":{\"ref\":0}}]}",
                   PROTO_CLASS_INVALID, "BAD_REF", 1, "id");
}

/*  external_id: 1 to PROTO_EXTERNAL_ID_MAX bytes, kept as a string into
    the body; if_absent a bool beside it. */
static void
test_external_id (void)
{
    char text [600], id [PROTO_EXTERNAL_ID_MAX + 2];
    for (int len = PROTO_EXTERNAL_ID_MAX; len <= PROTO_EXTERNAL_ID_MAX + 1; len++) {
        memset (id, 'x', (size_t) len);
        id [len] = 0;
        snprintf (text, sizeof (text), "{\"v\":1,\"ops\":[{\"op\":\"txn.create\",\"amount\":1,"
                  "\"occurred_at\":\"2025-01-01T00:00:00Z\",\"external_id\":\"%s\",\"if_absent\":true}]}", id);
        proto_request_t *request = s_decode (text, 100);
        if (len == PROTO_EXTERNAL_ID_MAX) {
            CHECK (!proto_error_is_set (&request->error));
            const proto_value_t *value = &request->ops [0].value [PROTO_FIELD_EXTERNAL_ID];
            CHECK_INT (value->kind, PROTO_VAL_STR);
            CHECK_INT (value->len, len);
            CHECK (value->len == (uint32_t) len && memcmp (value->str, id, (size_t) len) == 0);
            CHECK_INT (request->ops [0].value [PROTO_FIELD_IF_ABSENT].kind, PROTO_VAL_BOOL);
            CHECK (request->ops [0].value [PROTO_FIELD_IF_ABSENT].b);
        }
        else {
            CHECK_STR (request->error.code? request->error.code: "(none)", "BAD_VALUE");
            CHECK_STR (request->error.field, "external_id");
        }
        proto_request_destroy (&request);
    }
    /*  The same rows with and without an external_id are different batches. */
    proto_request_t *plain = s_decode ("{\"v\":1,\"key\":\"k\",\"ops\":[{\"op\":\"txn.create\",\"amount\":1,"
                                       "\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}", 100);
    proto_request_t *named = s_decode ("{\"v\":1,\"key\":\"k\",\"ops\":[{\"op\":\"txn.create\",\"amount\":1,"
                                       "\"occurred_at\":\"2025-01-01T00:00:00Z\",\"external_id\":\"a\"}]}", 100);
    CHECK (plain->fingerprint != named->fingerprint);
    proto_request_destroy (&plain);
    proto_request_destroy (&named);
}

/*  A ref must point to an EARLIER op. The refs below point to a later op
    (or to the op itself) that does create the right kind of id, so only
    the "earlier" rule can refuse them: a check of the kind alone lets them
    through, and a check that reads a later op reads one not decoded yet. */
static void
test_ref_to_a_later_op (void)
{
    const char *create_txn = "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\"}";
    const char *create_cat = "{\"op\":\"category.create\",\"name\":\"a\"}";
    char text [600];
    snprintf (text, sizeof (text), "{\"v\":1,\"ops\":[{\"op\":\"txn.create\",\"amount\":1,"
              "\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":{\"ref\":1}},%s]}", create_cat);
    s_check_error (text, PROTO_CLASS_INVALID, "BAD_REF", 0, "category");
    snprintf (text, sizeof (text), "{\"v\":1,\"ops\":[{\"op\":\"category.update\",\"id\":1,\"parent\":{\"ref\":1}},%s]}",
              create_cat);
    s_check_error (text, PROTO_CLASS_INVALID, "BAD_REF", 0, "parent");
    snprintf (text, sizeof (text), "{\"v\":1,\"ops\":[{\"op\":\"txn.query\",\"categories\":[3,{\"ref\":1}]},%s]}",
              create_cat);
    s_check_error (text, PROTO_CLASS_INVALID, "BAD_REF", 0, "categories");
    snprintf (text, sizeof (text), "{\"v\":1,\"ops\":[{\"op\":\"txn.get\",\"id\":{\"ref\":1}},%s]}", create_txn);
    s_check_error (text, PROTO_CLASS_INVALID, "BAD_REF", 0, "id");
    /*  The op itself is not earlier either, though it creates a category. */
    s_check_error ("{\"v\":1,\"ops\":[{\"op\":\"category.create\",\"name\":\"a\",\"parent\":{\"ref\":0}}]}",
                   PROTO_CLASS_INVALID, "BAD_REF", 0, "parent");
    /*  Past the end of the batch. */
    snprintf (text, sizeof (text), "{\"v\":1,\"ops\":[%s,{\"op\":\"category.create\",\"name\":\"b\",\"parent\":{\"ref\":7}}]}",
              create_cat);
    s_check_error (text, PROTO_CLASS_INVALID, "BAD_REF", 1, "parent");
    /*  In independent mode the op alone fails, with the same code. */
    snprintf (text, sizeof (text), "{\"v\":1,\"mode\":\"independent\",\"ops\":[{\"op\":\"category.create\",\"name\":\"b\","
              "\"parent\":{\"ref\":1}},%s]}", create_cat);
    proto_request_t *request = s_decode (text, 100);
    CHECK (!proto_error_is_set (&request->error));
    CHECK (request->op_count == 2 && request->ops [0].error && request->ops [1].error == NULL);
    if (request->op_count == 2 && request->ops [0].error)
        CHECK_STR (request->ops [0].error->code, "BAD_REF");
    proto_request_destroy (&request);
    /*  The same refs pointing backwards are fine. */
    snprintf (text, sizeof (text), "{\"v\":1,\"ops\":[%s,{\"op\":\"txn.create\",\"amount\":1,"
              "\"occurred_at\":\"2025-01-01T00:00:00Z\",\"category\":{\"ref\":0}},"
              "{\"op\":\"txn.query\",\"categories\":[{\"ref\":0}]},{\"op\":\"txn.get\",\"id\":{\"ref\":1}}]}", create_cat);
    request = s_decode (text, 100);
    CHECK (!proto_error_is_set (&request->error));
    CHECK_INT (request->invalid_count, 0);
    proto_request_destroy (&request);
}

/*  Read one item from exactly size bytes copied to the heap, so that a read
    past the end is a heap overflow under ASan as well as a wrong answer. */
static proto_read_rc_t
s_read_one (const char *bytes, size_t size, proto_item_t *item)
{
    char *copy = malloc (size? size: 1);
    if (!copy)
        abort ();
    memcpy (copy, bytes, size);
    proto_reader_t reader;
    proto_reader_init (&reader, copy, size);
    proto_read_rc_t rc = proto_reader_next (&reader, item);
    free (copy);
    return rc;
}

/*  Every sized type with a declared size of exactly the bytes that follow
    (read) and of one more (refused as MALFORMED, never read). */
static void
test_reader_sizes_one_past_the_end (void)
{
    static const struct {
        const char *name;
        const char *header;     /* declares a payload of `declared` */
        size_t header_size;
        uint32_t declared;      /* bytes (str, bin, ext) or elements (array, map pairs) */
        proto_item_type_t type;
    } cases [] = {
        { "fixstr",   "\xa5", 1, 5, PROTO_ITEM_STR },
        { "str8",     "\xd9\x05", 2, 5, PROTO_ITEM_STR },
        { "str16",    "\xda\x00\x05", 3, 5, PROTO_ITEM_STR },
        { "str32",    "\xdb\x00\x00\x00\x05", 5, 5, PROTO_ITEM_STR },
        { "bin8",     "\xc4\x05", 2, 5, PROTO_ITEM_BIN },
        { "bin16",    "\xc5\x00\x05", 3, 5, PROTO_ITEM_BIN },
        { "bin32",    "\xc6\x00\x00\x00\x05", 5, 5, PROTO_ITEM_BIN },
        { "ext8",     "\xc7\x05\x01", 3, 5, PROTO_ITEM_EXT },
        { "ext16",    "\xc8\x00\x05\x01", 4, 5, PROTO_ITEM_EXT },
        { "ext32",    "\xc9\x00\x00\x00\x05\x01", 6, 5, PROTO_ITEM_EXT },
        { "fixext1",  "\xd4\x01", 2, 1, PROTO_ITEM_EXT },
        { "fixext2",  "\xd5\x01", 2, 2, PROTO_ITEM_EXT },
        { "fixext4",  "\xd6\xff", 2, 4, PROTO_ITEM_EXT },
        { "fixext8",  "\xd7\xff", 2, 8, PROTO_ITEM_EXT },
        { "fixext16", "\xd8\x01", 2, 16, PROTO_ITEM_EXT },
        { "fixarray", "\x95", 1, 5, PROTO_ITEM_ARRAY },
        { "array16",  "\xdc\x00\x05", 3, 5, PROTO_ITEM_ARRAY },
        { "array32",  "\xdd\x00\x00\x00\x05", 5, 5, PROTO_ITEM_ARRAY },
        { "fixmap",   "\x83", 1, 3, PROTO_ITEM_MAP },
        { "map16",    "\xde\x00\x03", 3, 3, PROTO_ITEM_MAP },
        { "map32",    "\xdf\x00\x00\x00\x03", 5, 3, PROTO_ITEM_MAP },
    };
    for (size_t n = 0; n < sizeof (cases) / sizeof (cases [0]); n++) {
        /*  The least a payload can take: a byte per element, two per pair. */
        size_t exact = cases [n].type == PROTO_ITEM_MAP? 2 * cases [n].declared: cases [n].declared;
        char bytes [64];
        memcpy (bytes, cases [n].header, cases [n].header_size);
        memset (bytes + cases [n].header_size, 'a', exact);     /* 'a': ASCII, and a fixint */
        proto_item_t item;
        proto_read_rc_t rc = s_read_one (bytes, cases [n].header_size + exact, &item);
        if (rc != PROTO_READ_OK || item.type != cases [n].type)
            fprintf (stderr, "    %s with the whole payload\n", cases [n].name);
        CHECK_INT (rc, PROTO_READ_OK);
        CHECK_INT (item.type, cases [n].type);
        if (cases [n].type == PROTO_ITEM_ARRAY || cases [n].type == PROTO_ITEM_MAP)
            CHECK_INT (item.count, cases [n].declared);
        else
            CHECK_INT (item.len, cases [n].declared);
        /*  One byte short: the declared size is what remains plus one. */
        rc = s_read_one (bytes, cases [n].header_size + exact - 1, &item);
        if (rc != PROTO_READ_MALFORMED)
            fprintf (stderr, "    %s one byte short: %s\n", cases [n].name, proto_read_rc_code (rc));
        CHECK_INT (rc, PROTO_READ_MALFORMED);
    }
    /*  The same through the request decoder: {"v": str8 of 3, 2 bytes follow}. */
    proto_request_t *request = s_decode_bytes ("\x81\xa1v\xd9\x03" "ab", 7);
    CHECK_STR (request->error.code, "MALFORMED");
    proto_request_destroy (&request);
    request = s_decode_bytes ("\x81\xa1v\xc4\x03" "ab", 7);
    CHECK_STR (request->error.code, "MALFORMED");
    proto_request_destroy (&request);
}

/*  The project's own UTF-8 check, byte by byte (jansson's is not the one
    the worker runs). */
static void
test_utf8_validator (void)
{
    static const struct { const char *bytes; size_t size; bool valid; const char *what; } cases [] = {
        { "abc", 3, true, "ASCII" },
        { "\xc2\x80", 2, true, "U+0080, the first two-byte" },
        { "\xdf\xbf", 2, true, "U+07FF" },
        { "\xe0\xa0\x80", 3, true, "U+0800, the first three-byte" },
        { "\xed\x9f\xbf", 3, true, "U+D7FF, just below the surrogates" },
        { "\xee\x80\x80", 3, true, "U+E000, just above the surrogates" },
        { "\xef\xbf\xbf", 3, true, "U+FFFF" },
        { "\xf0\x90\x80\x80", 4, true, "U+10000, the first four-byte" },
        { "\xf4\x8f\xbf\xbf", 4, true, "U+10FFFF, the last code point" },
        { "\xed\xa0\x80", 3, false, "U+D800, a high surrogate" },
        { "\xed\xaf\xbf", 3, false, "U+DBFF" },
        { "\xed\xb0\x80", 3, false, "U+DC00, a low surrogate" },
        { "\xed\xbf\xbf", 3, false, "U+DFFF" },
        { "\xed\xa0\xbd\xed\xb8\x80", 6, false, "a surrogate pair (CESU-8)" },
        { "\xc0\x80", 2, false, "overlong NUL" },
        { "\xc1\xbf", 2, false, "overlong U+007F" },
        { "\xe0\x80\x80", 3, false, "overlong three-byte NUL" },
        { "\xe0\x9f\xbf", 3, false, "overlong U+07FF" },
        { "\xf0\x80\x80\x80", 4, false, "overlong four-byte NUL" },
        { "\xf0\x8f\xbf\xbf", 4, false, "overlong U+FFFF" },
        { "\xf4\x90\x80\x80", 4, false, "U+110000" },
        { "\xf5\x80\x80\x80", 4, false, "lead byte F5" },
        { "\xf7\xbf\xbf\xbf", 4, false, "U+1FFFFF" },
        { "\xf8\x88\x80\x80\x80", 5, false, "five-byte form" },
        { "\xfe", 1, false, "FE" },
        { "\xff", 1, false, "FF" },
        { "\x80", 1, false, "a lone continuation byte" },
        { "a\xbf", 2, false, "a continuation byte after ASCII" },
        { "\xc3", 1, false, "two-byte cut after its lead" },
        { "\xe2\x82", 2, false, "three-byte cut short" },
        { "\xf0\x9f\x98", 3, false, "four-byte cut short" },
        /*  Cut by the string's length, with the rest of the character in
            the bytes that follow it: those are not the string's. */
        { "\xc3\xa9", 1, false, "two-byte, its continuation past the end" },
        { "\xe2\x82\xac", 2, false, "three-byte, its last byte past the end" },
        { "a\xf0\x9f\x98\x80", 4, false, "four-byte, its last byte past the end" },
        { "\xe2\x82" "a", 3, false, "three-byte with ASCII in the middle" },
        { "\xc3\x28", 2, false, "two-byte with a bad continuation" },
        { "\xf0\x9f\x98\x80", 4, true, "U+1F600" },
    };
    for (size_t n = 0; n < sizeof (cases) / sizeof (cases [0]); n++) {
        bool valid = proto_utf8_valid (cases [n].bytes, cases [n].size);
        if (valid != cases [n].valid)
            fprintf (stderr, "    %s: proto_utf8_valid says %d\n", cases [n].what, valid);
        CHECK_INT (valid, cases [n].valid);
        /*  The same bytes as a msgpack str, any bytes past its length
            following it: what the reader makes of them. */
        char bytes [16];
        size_t all = strlen (cases [n].bytes);
        bytes [0] = (char) (0xa0 | cases [n].size);
        memcpy (bytes + 1, cases [n].bytes, all);
        proto_item_t item;
        proto_read_rc_t rc = s_read_one (bytes, 1 + all, &item);
        CHECK_INT (rc, cases [n].valid? PROTO_READ_OK: PROTO_READ_BAD_UTF8);
    }
    /*  And as the worker sees them: an op name that is a surrogate is a
        structural error, before any op lookup. */
    const char bytes [] = "\x82\xa1v\x01\xa3ops\x91\x81\xa2op\xa3\xed\xa0\x80";
    proto_request_t *request = s_decode_bytes (bytes, sizeof (bytes) - 1);
    CHECK_STR (proto_class_name (request->error.klass), "protocol");
    CHECK_STR (request->error.code, "BAD_UTF8");
    proto_request_destroy (&request);
}

/*  Each reader failure reaches the reply as its own code, with the text
    that goes with it. */
static void
test_read_errors_map_to_code_and_text (void)
{
    for (int a = PROTO_READ_OK + 1; a <= PROTO_READ_LAST; a++) {
        CHECK (strlen (proto_read_rc_code ((proto_read_rc_t) a)) > 0);
        CHECK (strlen (proto_read_rc_str ((proto_read_rc_t) a)) > 0);
        for (int b = a + 1; b <= PROTO_READ_LAST; b++)
            CHECK (strcmp (proto_read_rc_code ((proto_read_rc_t) a), proto_read_rc_code ((proto_read_rc_t) b)) != 0);
    }
    /*  A map16 that declares 65 pairs (130 bytes follow): refused at its
        header, before any key is read. */
    char many [1 + 2 + 2 * 65];
    size_t size = 0;
    many [size++] = (char) 0xde;
    many [size++] = 0;
    many [size++] = 65;
    for (int n = 0; n < 65; n++) {
        many [size++] = (char) 0xa1;
        many [size++] = (char) ('0' + n % 64);
    }
    static const struct { const char *bytes; size_t size; proto_read_rc_t rc; const char *code; } cases [] = {
        { "\x82\xa1v", 3, PROTO_READ_MALFORMED, "MALFORMED" },
        { "\x81\xa1v\xa1\xff", 5, PROTO_READ_BAD_UTF8, "BAD_UTF8" },
        { "\x81\x01\x01", 3, PROTO_READ_BAD_KEY, "BAD_MAP_KEY" },
        { "\x82\xa1v\x01\xa1v\x01", 7, PROTO_READ_DUPLICATE_KEY, "DUPLICATE_KEY" },
    };
    for (size_t n = 0; n < sizeof (cases) / sizeof (cases [0]); n++) {
        proto_request_t *request = s_decode_bytes (cases [n].bytes, cases [n].size);
        CHECK_STR (request->error.code, cases [n].code);
        CHECK_STR (request->error.code, proto_read_rc_code (cases [n].rc));
        CHECK_STR (request->error.message, proto_read_rc_str (cases [n].rc));
        proto_request_destroy (&request);
    }
    proto_request_t *request = s_decode_bytes (many, size);
    CHECK_STR (request->error.code, "TOO_MANY_KEYS");
    CHECK_STR (request->error.message, proto_read_rc_str (PROTO_READ_TOO_MANY_KEYS));
    proto_request_destroy (&request);
}

static void
test_independent_mode_keeps_per_op_errors (void)
{
    proto_request_t *request = s_decode ("{\"v\":1,\"mode\":\"independent\",\"ops\":["
                                         "{\"op\":\"sys.ping\"},{\"op\":\"nope\"},{\"op\":\"txn.get\",\"id\":1}]}", 100);
    CHECK (!proto_error_is_set (&request->error));
    CHECK_INT (request->invalid_count, 1);
    CHECK (request->ops [0].error == NULL);
    CHECK (request->ops [1].error != NULL);
    if (request->ops [1].error)
        CHECK_STR (request->ops [1].error->code, "UNKNOWN_OP");
    CHECK (request->ops [2].error == NULL);
    proto_request_destroy (&request);
}

static void
test_msgpack_timestamp (void)
{
    /*  {"v":1,"ops":[{"op":"txn.create","amount":1,"occurred_at":<ext -1, 32-bit seconds>}]} */
    const char bytes [] = "\x82\xa1v\x01\xa3ops\x91\x83\xa2op\xaatxn.create\xa6" "amount\x01"
                          "\xab" "occurred_at\xd6\xff\x67\x76\x63\x10";
    proto_request_t *request = s_decode_bytes (bytes, sizeof (bytes) - 1);
    CHECK (!proto_error_is_set (&request->error));
    if (request->op_count == 1) {
        CHECK_INT (request->ops [0].value [PROTO_FIELD_OCCURRED_AT].i, 0x67766310LL * 1000000);
        CHECK_INT (request->ops [0].value [PROTO_FIELD_OCCURRED_AT].offset_min, 0);
    }
    proto_request_destroy (&request);
}

/*  expect_version: an integer from 1 on the four ops that change a row;
    decoded as it came, and part of the fingerprint (a retry that expects
    another version is another batch). */
static void
test_expect_version (void)
{
    const char *ops [] = { "category.update\",\"name\":\"a", "category.delete", "txn.update\",\"amount\":\"1",
                           "txn.delete" };
    for (size_t n = 0; n < sizeof (ops) / sizeof (ops [0]); n++) {
        char text [200];
        snprintf (text, sizeof (text), "{\"v\":1,\"ops\":[{\"op\":\"%s\",\"id\":7,\"expect_version\":%s}]}",
                  ops [n], n % 2? "1": "9223372036854775807");
        proto_request_t *request = s_decode (text, 10);
        CHECK (!proto_error_is_set (&request->error));
        if (request->op_count == 1) {
            const proto_value_t *value = &request->ops [0].value [PROTO_FIELD_EXPECT_VERSION];
            CHECK (request->ops [0].present & PF (EXPECT_VERSION));
            CHECK_INT (value->kind, PROTO_VAL_INT);
            CHECK_INT (value->i, n % 2? 1: INT64_MAX);
        }
        proto_request_destroy (&request);
    }
    /*  Above int64 (msgpack uint64 0xffffffffffffffff): not a version. */
    const char bytes [] = "\x82\xa1v\x01\xa3ops\x91\x83\xa2op\xaatxn.delete\xa2id\x07"
                          "\xae" "expect_version\xcf\xff\xff\xff\xff\xff\xff\xff\xff";
    proto_request_t *request = s_decode_bytes (bytes, sizeof (bytes) - 1);
    CHECK_STR (request->error.code? request->error.code: "(none)", "BAD_VALUE");
    CHECK_STR (request->error.field, "expect_version");
    proto_request_destroy (&request);

    proto_request_t *two = s_decode ("{\"v\":1,\"ops\":[{\"op\":\"txn.delete\",\"id\":7,\"expect_version\":2}]}", 10);
    proto_request_t *three = s_decode ("{\"v\":1,\"ops\":[{\"op\":\"txn.delete\",\"id\":7,\"expect_version\":3}]}", 10);
    proto_request_t *any = s_decode ("{\"v\":1,\"ops\":[{\"op\":\"txn.delete\",\"id\":7}]}", 10);
    CHECK (two->fingerprint != three->fingerprint);
    CHECK (two->fingerprint != any->fingerprint);
    proto_request_destroy (&two);
    proto_request_destroy (&three);
    proto_request_destroy (&any);
}

static void
test_fingerprint (void)
{
    const char *a = "{\"v\":1,\"ops\":[{\"op\":\"txn.create\",\"amount\":\"12.34\",\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}";
    const char *b = "{\"v\":1,\"id\":9,\"ops\":[{\"occurred_at\":\"2025-01-01T00:00:00Z\",\"op\":\"txn.create\",\"amount\":1234}]}";
    const char *c = "{\"v\":1,\"ops\":[{\"op\":\"txn.create\",\"amount\":1235,\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}";
    const char *d = "{\"v\":1,\"mode\":\"independent\",\"ops\":[{\"op\":\"txn.create\",\"amount\":1234,\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}";
    const char *e = "{\"v\":1,\"ops\":[{\"op\":\"txn.create\",\"amount\":1234,\"occurred_at\":\"2025-01-01T01:00:00+01:00\"}]}";
    proto_request_t *ra = s_decode (a, 10), *rb = s_decode (b, 10), *rc = s_decode (c, 10),
                    *rd = s_decode (d, 10), *re = s_decode (e, 10);
    CHECK (ra->fingerprint == rb->fingerprint);     /* same decoded ops, any key order or id */
    CHECK (ra->fingerprint != rc->fingerprint);
    CHECK (ra->fingerprint != rd->fingerprint);     /* mode is part of the batch */
    CHECK (ra->fingerprint != re->fingerprint);     /* same instant, other offset: reads back differently */
    proto_request_destroy (&ra);
    proto_request_destroy (&rb);
    proto_request_destroy (&rc);
    proto_request_destroy (&rd);
    proto_request_destroy (&re);
}

static void
test_fingerprint_is_stable_across_builds (void)
{
    /*  Stored keys must match after an upgrade: this value may change only
        together with a note in PROTOCOL.md that old keys are not recognised. */
    proto_request_t *request = s_decode ("{\"v\":1,\"ops\":[{\"op\":\"txn.create\",\"amount\":1234,"
                                         "\"occurred_at\":\"2025-01-01T00:00:00+01:00\",\"category\":\"Food\"}]}", 10);
    CHECK (!proto_error_is_set (&request->error));
    printf ("     fingerprint %016llx\n", (unsigned long long) request->fingerprint);
    CHECK (request->fingerprint == FINGERPRINT_PINNED);
    proto_request_destroy (&request);
}

static void
test_invalid_ops_keep_batches_apart (void)
{
    /*  Independent mode: batches that differ only in what made an op
        invalid must not share a fingerprint (a key reused across them must
        be KEY_REUSED, not a replay of the other's reply). Ops whose errors
        are the same to the letter may: the reply would be the same too. */
    static const char *pairs [] [2] = {
        { "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\",\"memo\":\"x\"}",
          "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-01T00:00:00Z\"}" },
        { "{\"op\":\"txn.nope\"}", "{\"op\":\"category.nope\"}" },
        { "{\"op\":\"txn.create\",\"amount\":1.5,\"occurred_at\":\"2025-01-01T00:00:00Z\"}",
          "{\"op\":\"txn.create\",\"amount\":\"x\",\"occurred_at\":\"2025-01-01T00:00:00Z\"}" },
    };
    for (size_t n = 0; n < sizeof (pairs) / sizeof (pairs [0]); n++) {
        uint64_t fingerprints [2];
        for (int side = 0; side < 2; side++) {
            char text [400];
            snprintf (text, sizeof (text), "{\"v\":1,\"mode\":\"independent\",\"ops\":[%s]}", pairs [n] [side]);
            proto_request_t *request = s_decode (text, 10);
            CHECK (!proto_error_is_set (&request->error));
            fingerprints [side] = request->fingerprint;
            proto_request_destroy (&request);
        }
        CHECK (fingerprints [0] != fingerprints [1]);
    }
}

static void
test_errors_stay_valid_utf8 (void)
{
    /*  An unknown field of "a" and 40 two-byte characters: cut at 64 bytes,
        the cut must not split a character. */
    char name [200] = "a";
    for (int n = 0; n < 40; n++)
        strcat (name, "\xc3\xa9");
    char text [400];
    snprintf (text, sizeof (text), "{\"v\":1,\"ops\":[{\"op\":\"sys.ping\",\"%s\":1}]}", name);
    proto_request_t *request = s_decode (text, 10);
    CHECK_STR (request->error.code, "UNKNOWN_FIELD");
    CHECK (strlen (request->error.field) <= PROTO_ERROR_FIELD_MAX);
    CHECK (proto_utf8_valid (request->error.field, strlen (request->error.field)));
    CHECK (proto_utf8_valid (request->error.message, strlen (request->error.message)));
    proto_request_destroy (&request);
    /*  A message cut by its buffer ends on a whole character too. */
    proto_error_t err;
    char long_text [400] = "";
    for (int n = 0; n < 120; n++)               /* 360 bytes, more than a message holds */
        strcat (long_text, "\xe2\x82\xac");      /* the euro sign, 3 bytes */
    proto_error_set (&err, PROTO_CLASS_INVALID, 0, NULL, "X", "%s", long_text);
    CHECK (proto_utf8_valid (err.message, strlen (err.message)));
    CHECK (strlen (err.message) >= PROTO_ERROR_MESSAGE_MAX - 4);
}

static void
test_cursor (void)
{
    char text [PROTO_CURSOR_MAX];
    size_t size = proto_cursor_format (-5, 42, text);
    int64_t us = 0, id = 0;
    CHECK_INT (proto_cursor_parse (text, (uint32_t) size, &us, &id), 0);
    CHECK_INT (us, -5);
    CHECK_INT (id, 42);
    CHECK_INT (proto_cursor_parse ("12", 2, &us, &id), -1);
    CHECK_INT (proto_cursor_parse ("12:", 3, &us, &id), -1);
    CHECK_INT (proto_cursor_parse ("12:0", 4, &us, &id), -1);
    CHECK_INT (proto_cursor_parse ("a:1", 3, &us, &id), -1);
    CHECK_INT (proto_cursor_parse ("99999999999999999999:1", 22, &us, &id), -1);
}

/*  Pack JSON text into a new buffer (the caller frees it). */
static char *
s_pack (const char *json_text, size_t *size_p)
{
    json_t *json = json_loads (json_text, 0, NULL);
    char *body = NULL;
    if (!json || proto_json_to_msgpack (json, &body, size_p, NULL, 0))
        abort ();
    json_decref (json);
    return body;
}

static void
test_decode_into_a_used_request (void)
{
    /*  Each decode into the same request gives what a new one would: op
        arrays reused when they are big enough, lists and errors freed. */
    static const char *const texts [] = {
        "{\"v\":1,\"mode\":\"independent\",\"ops\":[{\"op\":\"txn.query\",\"categories\":[\"A\",2]},"
        "{\"op\":\"bogus\"},{\"op\":\"sys.ping\"}]}",
        "{\"v\":1,\"key\":\"k\",\"ops\":[{\"op\":\"category.create\",\"name\":\"Food\"}]}",
        "{\"v\":2,\"ops\":[{\"op\":\"sys.ping\"}]}",
        "{\"v\":1,\"ops\":[{\"op\":\"sys.ping\"},{\"op\":\"sys.ping\"},{\"op\":\"sys.ping\"},"
        "{\"op\":\"sys.ping\"},{\"op\":\"txn.get\",\"id\":5}]}",
        "{\"v\":1,\"ops\":[{\"op\":\"txn.get\",\"id\":6}]}",
    };
    proto_request_t *reused = NULL;
    for (size_t n = 0; n < sizeof (texts) / sizeof (texts [0]); n++) {
        size_t size;
        char *body = s_pack (texts [n], &size);
        proto_request_t *fresh = proto_request_new (body, size, 100);
        CHECK (proto_request_decode (&reused, body, size, 100) == reused && reused != NULL);
        CHECK (fresh && reused);
        if (fresh && reused) {
            CHECK_INT (reused->op_count, fresh->op_count);
            CHECK_INT (reused->invalid_count, fresh->invalid_count);
            CHECK_INT (reused->lists, fresh->lists);
            CHECK_INT (reused->writes, fresh->writes);
            CHECK_INT (reused->error.klass, fresh->error.klass);
            CHECK (reused->fingerprint == fresh->fingerprint);
            CHECK_INT (reused->key_len, fresh->key_len);
            for (uint32_t op = 0; op < fresh->op_count; op++) {
                CHECK_INT (reused->ops [op].code, fresh->ops [op].code);
                CHECK_INT (reused->ops [op].present, fresh->ops [op].present);
                CHECK_INT (!reused->ops [op].error, !fresh->ops [op].error);
            }
        }
        proto_request_destroy (&fresh);
        free (body);
    }
    CHECK (reused->ops_capacity >= 5);     /* grown once, then kept */
    proto_request_destroy (&reused);
}

/*  txn.summary's words decode to proto_period.h's values; a bad word,
    or a period, offset or rollup where no such rows are made, is invalid
    at its field. */
static void
test_summary_fields (void)
{
    proto_request_t *request = s_decode ("{\"v\":1,\"ops\":[{\"op\":\"txn.summary\",\"by\":\"both\","
                                         "\"period\":\"week\",\"offset\":\"-05:30\",\"rollup\":true,"
                                         "\"categories\":[\"Food\"],\"from\":\"2025-01-01\"}]}", 100);
    CHECK (!proto_error_is_set (&request->error));
    CHECK (!request->writes);
    const proto_op_t *op = &request->ops [0];
    CHECK_INT (op->code, PROTO_OP_TXN_SUMMARY);
    CHECK_INT (op->value [PROTO_FIELD_BY].i, PROTO_BY_BOTH);
    CHECK_INT (op->value [PROTO_FIELD_PERIOD].i, PROTO_PERIOD_WEEK);
    CHECK_INT (op->value [PROTO_FIELD_OFFSET].i, -330);
    CHECK (op->value [PROTO_FIELD_ROLLUP].b);
    proto_request_destroy (&request);
    static const struct { const char *fields; const char *code; const char *field; } bad [] = {
        { "\"by\":\"month\"", "BAD_VALUE", "by" },
        { "\"by\":[]", "WRONG_TYPE", "by" },
        { "\"by\":\"period\",\"period\":\"Month\"", "BAD_VALUE", "period" },
        { "\"by\":\"period\",\"offset\":\"+01\"", "BAD_VALUE", "offset" },
        { "\"by\":\"period\",\"offset\":\"+01:60\"", "BAD_VALUE", "offset" },
        { "\"by\":\"period\",\"offset\":\"01:00\"", "BAD_VALUE", "offset" },
        { "\"by\":\"period\",\"offset\":3600", "WRONG_TYPE", "offset" },
        { "\"period\":\"day\"", "CONFLICTING_FIELDS", "period" },
        { "\"by\":\"category\",\"offset\":\"+01:00\"", "CONFLICTING_FIELDS", "offset" },
        { "\"by\":\"period\",\"rollup\":true", "CONFLICTING_FIELDS", "rollup" },
        { "\"after\":null", "UNKNOWN_FIELD", "after" },
    };
    for (size_t n = 0; n < sizeof (bad) / sizeof (bad [0]); n++) {
        char text [300];
        snprintf (text, sizeof (text), "{\"v\":1,\"ops\":[{\"op\":\"txn.summary\",%s}]}", bad [n].fields);
        s_check_error (text, PROTO_CLASS_INVALID, bad [n].code, 0, bad [n].field);
    }
    int minutes = 1;
    CHECK_INT (proto_offset_parse ("Z", 1, &minutes), 0);
    CHECK_INT (minutes, 0);
    CHECK_INT (proto_offset_parse ("+23:59", 6, &minutes), 0);
    CHECK_INT (minutes, 1439);
    CHECK_INT (proto_offset_parse ("+24:00", 6, &minutes), -1);
    char text [PROTO_OFFSET_MAX];
    CHECK_INT (proto_offset_format (-330, text), 6);
    CHECK_STR (text, "-05:30");
}

/*  The backup ops: their fields at and past their bounds, and the rule
    that a backup op goes alone, without a key. */
static void
test_backup_fields (void)
{
    char token [PROTO_TOKEN_MAX + 2];
    memset (token, 'a', sizeof (token) - 1);
    token [PROTO_TOKEN_MAX + 1] = 0;
    token [PROTO_TOKEN_MAX] = 0;
    char text [400];
    snprintf (text, sizeof (text), "{\"v\":1,\"ops\":[{\"op\":\"sys.backup_read\",\"token\":\"%s\","
              "\"position\":9223372036854775807,\"length\":%d}]}", token, PROTO_CHUNK_MAX);
    proto_request_t *request = s_decode (text, 100);
    CHECK (!proto_error_is_set (&request->error));
    CHECK (!request->writes);
    const proto_op_t *op = &request->ops [0];
    CHECK_INT (op->code, PROTO_OP_SYS_BACKUP_READ);
    CHECK_INT (op->value [PROTO_FIELD_TOKEN].len, PROTO_TOKEN_MAX);
    CHECK_INT (op->value [PROTO_FIELD_POSITION].i, INT64_MAX);
    CHECK_INT (op->value [PROTO_FIELD_LENGTH].i, PROTO_CHUNK_MAX);
    proto_request_destroy (&request);
    request = s_decode ("{\"v\":1,\"ops\":[{\"op\":\"sys.backup_read\",\"token\":\"t\",\"position\":0,"
                        "\"length\":1}]}", 100);
    CHECK (!proto_error_is_set (&request->error));
    proto_request_destroy (&request);
    token [PROTO_TOKEN_MAX] = 'a';      /* one byte too many */
    char too_long [100];
    snprintf (too_long, sizeof (too_long), "\"token\":\"%s\"", token);
    char too_much [64];
    snprintf (too_much, sizeof (too_much), "\"length\":%d", PROTO_CHUNK_MAX + 1);
    const struct { const char *fields; const char *code; const char *field; } bad [] = {
        { "\"token\":\"\",\"position\":0,\"length\":1", "BAD_VALUE", "token" },
        { "\"token\":7,\"position\":0,\"length\":1", "WRONG_TYPE", "token" },
        { "\"token\":\"t\",\"position\":-1,\"length\":1", "BAD_VALUE", "position" },
        { "\"token\":\"t\",\"position\":\"0\",\"length\":1", "WRONG_TYPE", "position" },
        { "\"token\":\"t\",\"position\":0,\"length\":0", "BAD_VALUE", "length" },
        { "\"token\":\"t\",\"position\":0,\"length\":1.5", "WRONG_TYPE", "length" },
        { "\"token\":\"t\",\"position\":0", "MISSING_FIELD", "length" },
        { "\"position\":0,\"length\":1", "MISSING_FIELD", "token" },
        { "\"token\":\"t\",\"position\":0,\"length\":1,\"limit\":5", "UNKNOWN_FIELD", "limit" },
    };
    for (size_t n = 0; n < sizeof (bad) / sizeof (bad [0]); n++) {
        snprintf (text, sizeof (text), "{\"v\":1,\"ops\":[{\"op\":\"sys.backup_read\",%s}]}", bad [n].fields);
        s_check_error (text, PROTO_CLASS_INVALID, bad [n].code, 0, bad [n].field);
    }
    snprintf (text, sizeof (text), "{\"v\":1,\"ops\":[{\"op\":\"sys.backup_end\",%s}]}", too_long);
    s_check_error (text, PROTO_CLASS_INVALID, "BAD_VALUE", 0, "token");
    snprintf (text, sizeof (text), "{\"v\":1,\"ops\":[{\"op\":\"sys.backup_read\",\"token\":\"t\",\"position\":0,%s}]}",
              too_much);
    s_check_error (text, PROTO_CLASS_INVALID, "BAD_VALUE", 0, "length");
    s_check_error ("{\"v\":1,\"ops\":[{\"op\":\"sys.backup\",\"token\":\"t\"}]}",
                   PROTO_CLASS_INVALID, "UNKNOWN_FIELD", 0, "token");
    /*  Alone, and without a key. */
    request = s_decode ("{\"v\":1,\"ops\":[{\"op\":\"sys.backup\"}]}", 100);
    CHECK (!proto_error_is_set (&request->error));
    CHECK (!request->writes);
    proto_request_destroy (&request);
    s_check_error ("{\"v\":1,\"ops\":[{\"op\":\"sys.ping\"},{\"op\":\"sys.backup\"}]}",
                   PROTO_CLASS_INVALID, "BACKUP_NOT_ALONE", 1, "op");
    s_check_error ("{\"v\":1,\"ops\":[{\"op\":\"sys.backup_end\",\"token\":\"t\"},{\"op\":\"txn.get\",\"id\":1}]}",
                   PROTO_CLASS_INVALID, "BACKUP_NOT_ALONE", 0, "op");
    s_check_error ("{\"v\":1,\"key\":\"k\",\"ops\":[{\"op\":\"sys.backup\"}]}",
                   PROTO_CLASS_INVALID, "BACKUP_NOT_ALONE", 0, "key");
    /*  Independent mode: the backup op fails alone, as any invalid op. */
    request = s_decode ("{\"v\":1,\"mode\":\"independent\",\"ops\":[{\"op\":\"sys.ping\"},{\"op\":\"sys.backup\"}]}",
                        100);
    CHECK (!proto_error_is_set (&request->error));
    CHECK_INT (request->invalid_count, 1);
    CHECK (request->ops [0].error == NULL);
    CHECK (request->ops [1].error != NULL);
    if (request->ops [1].error) {
        CHECK_STR (request->ops [1].error->code, "BACKUP_NOT_ALONE");
        CHECK_INT (request->ops [1].error->op, 1);
    }
    proto_request_destroy (&request);
}

/*  Labels of each period kind, across year ends, and before the epoch. */
static void
test_period_labels (void)
{
    static const struct { int y, m, d; int period; const char *label; } cases [] = {
        { 2025, 1, 31, PROTO_PERIOD_DAY, "2025-01-31" },
        { 2025, 1, 31, PROTO_PERIOD_WEEK, "2025-W05" },
        { 2025, 1, 31, PROTO_PERIOD_MONTH, "2025-01" },
        { 2025, 1, 31, PROTO_PERIOD_YEAR, "2025" },
        { 2024, 12, 30, PROTO_PERIOD_WEEK, "2025-W01" },
        { 2027, 1, 3, PROTO_PERIOD_WEEK, "2026-W53" },
        { 2021, 1, 3, PROTO_PERIOD_WEEK, "2020-W53" },
        { 1969, 12, 31, PROTO_PERIOD_MONTH, "1969-12" },
        { 1969, 12, 29, PROTO_PERIOD_WEEK, "1970-W01" },
        { 1, 1, 1, PROTO_PERIOD_WEEK, "0001-W01" },
    };
    for (size_t n = 0; n < sizeof (cases) / sizeof (cases [0]); n++) {
        int64_t day = proto_time_days_from_civil (cases [n].y, cases [n].m, cases [n].d);
        char label [PROTO_PERIOD_LABEL_MAX];
        proto_period_label (cases [n].period, proto_period_key (cases [n].period, day), label);
        CHECK_STR (label, cases [n].label);
    }
    /*  The day of an instant in an offset: 23:30Z is tomorrow at +01:00. */
    int64_t us = (proto_time_days_from_civil (2025, 1, 31) * 86400 + 23 * 3600 + 1800) * INT64_C (1000000);
    CHECK_INT (proto_period_day (us, 60), proto_time_days_from_civil (2025, 2, 1));
    CHECK_INT (proto_period_day (us, 0), proto_time_days_from_civil (2025, 1, 31));
    CHECK_INT (proto_period_day (-1, 0), -1);
}

int
main (void)
{
    TEST_RUN (test_valid_batch);
    TEST_RUN (test_read_only_batch_does_not_write);
    TEST_RUN (test_structural_garbage);
    TEST_RUN (test_deep_nesting);
    TEST_RUN (test_envelope_errors);
    TEST_RUN (test_too_many_ops);
    TEST_RUN (test_precedence);
    TEST_RUN (test_id_is_kept_despite_errors);
    TEST_RUN (test_invalid_ops);
    TEST_RUN (test_external_id);
    TEST_RUN (test_ref_to_a_later_op);
    TEST_RUN (test_reader_sizes_one_past_the_end);
    TEST_RUN (test_utf8_validator);
    TEST_RUN (test_read_errors_map_to_code_and_text);
    TEST_RUN (test_independent_mode_keeps_per_op_errors);
    TEST_RUN (test_msgpack_timestamp);
    TEST_RUN (test_expect_version);
    TEST_RUN (test_fingerprint);
    TEST_RUN (test_fingerprint_is_stable_across_builds);
    TEST_RUN (test_invalid_ops_keep_batches_apart);
    TEST_RUN (test_errors_stay_valid_utf8);
    TEST_RUN (test_cursor);
    TEST_RUN (test_decode_into_a_used_request);
    TEST_RUN (test_summary_fields);
    TEST_RUN (test_period_labels);
    TEST_RUN (test_backup_fields);
    free (s_body);
    return TEST_DONE ();
}
