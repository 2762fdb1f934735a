/*  Unit tests for the client library without a worker: the batch builder's
    encoding (checked by the worker's own decoder) and result accessors. */

#include "ledger.h"
#include "ledger_internal.h"
#include "proto_json.h"
#include "proto_request.h"
#include "testing.h"

#include <stdlib.h>

/*  Encode batch and decode it as the worker would. */
static proto_request_t *
s_roundtrip (ledger_batch_t *batch, uint64_t id, const char *auto_key, msgpack_sbuffer *body)
{
    msgpack_sbuffer_init (body);
    if (ledger_batch_encode (batch, id, auto_key, body))
        return NULL;
    return proto_request_new (body->data, body->size, 1000);
}

static void
test_builder_encodes_what_the_worker_accepts (void)
{
    ledger_batch_t *batch = ledger_batch_new ();
    int food = ledger_batch_category_create (batch, "Food", LEDGER_UNSET);
    int bakery = ledger_batch_category_create (batch, "Bakery", ledger_op (food));
    CHECK_INT (food, 0);
    CHECK_INT (bakery, 1);
    int txn = ledger_batch_txn_create (batch, -1234, ledger_time_text ("2025-01-02T10:00:00+01:00"),
                                       "lunch", ledger_op (bakery));
    ledger_batch_txn_create (batch, 500, ledger_time_at (1735808400000000LL, -330), NULL, ledger_name ("Food"));
    ledger_txn_change_t change = { .set_description = true, .description = NULL, .category = LEDGER_NULL };
    ledger_batch_txn_update (batch, ledger_op (txn), &change);
    ledger_batch_category_update (batch, ledger_id (9), NULL, LEDGER_NULL);
    ledger_batch_category_get (batch, ledger_name ("Food"));
    ledger_ref_t cats [] = { ledger_name ("Food"), ledger_id (3), ledger_op (bakery) };
    ledger_query_t query = { .from = ledger_time_text ("2025-01-01"), .categories = cats, .category_count = 3,
                             .include_subcategories = true, .set_min_amount = true, .min_amount = -5, .limit = 10 };
    ledger_batch_txn_query (batch, &query);
    ledger_batch_ping (batch);
    CHECK_INT (ledger_batch_size (batch), 9);
    CHECK (ledger_batch_writes (batch));
    CHECK (ledger_batch_error (batch) == NULL);

    msgpack_sbuffer body;
    proto_request_t *request = s_roundtrip (batch, 77, "client-1", &body);
    CHECK (request != NULL);
    if (request) {
        CHECK (!proto_error_is_set (&request->error));
        CHECK_INT (request->invalid_count, 0);
        CHECK_INT (request->op_count, 9);
        CHECK_INT (request->key_len, 8);
        CHECK (memcmp (request->key, "client-1", 8) == 0);
        proto_op_t *op = &request->ops [3];
        CHECK_INT (op->value [PROTO_FIELD_OCCURRED_AT].i, 1735808400000000LL);
        CHECK_INT (op->value [PROTO_FIELD_OCCURRED_AT].offset_min, -330);
        CHECK_INT (op->value [PROTO_FIELD_CATEGORY].kind, PROTO_VAL_STR);
        op = &request->ops [4];
        CHECK_INT (op->value [PROTO_FIELD_DESCRIPTION].kind, PROTO_VAL_NIL);
        CHECK_INT (op->value [PROTO_FIELD_CATEGORY].kind, PROTO_VAL_NIL);
        CHECK_INT (op->value [PROTO_FIELD_ID].kind, PROTO_VAL_REF);
        CHECK_INT (request->ops [7].value [PROTO_FIELD_CATEGORIES].len, 3);
    }
    proto_request_destroy (&request);
    msgpack_sbuffer_destroy (&body);

    /*  The key is kept for a resend of the same batch... */
    request = s_roundtrip (batch, 78, "client-2", &body);
    CHECK (request && request->key_len == 8 && memcmp (request->key, "client-1", 8) == 0);
    proto_request_destroy (&request);
    msgpack_sbuffer_destroy (&body);
    /*  ...and replaced once the batch changes. */
    ledger_batch_stats (batch);
    request = s_roundtrip (batch, 79, "client-3", &body);
    CHECK (request && request->key_len == 8 && memcmp (request->key, "client-3", 8) == 0);
    proto_request_destroy (&request);
    msgpack_sbuffer_destroy (&body);
    ledger_batch_destroy (&batch);
    CHECK (batch == NULL);
}

/*  The bytes the builder sends, compared with the same request written as
    JSON (keys in the order the builder packs them) and packed by proto_json:
    a builder that packs fields through the op table must send exactly what
    it sent when it spelled them by hand. Every op and every field appears,
    with each kind of value a field can take. */
static void
test_builder_bytes_are_the_wire_format (void)
{
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_batch_set_independent (batch, true);
    CHECK_INT (ledger_batch_set_key (batch, "k-1"), 0);
    ledger_batch_category_create (batch, "Food", LEDGER_UNSET);
    ledger_batch_category_create (batch, "Bakery", ledger_op (0));
    ledger_batch_category_create (batch, "Top", LEDGER_NULL);
    ledger_batch_category_create (batch, "Sub", ledger_name ("Food"));
    ledger_batch_category_update (batch, ledger_op (1), "Bread", ledger_id (7));
    ledger_batch_category_update (batch, ledger_id (2), NULL, LEDGER_NULL);
    ledger_batch_category_update (batch, ledger_id (2), "Cake", LEDGER_UNSET);
    ledger_batch_category_delete (batch, ledger_id (3));
    ledger_batch_category_get (batch, ledger_id (4));
    ledger_batch_category_get (batch, ledger_name ("Food"));
    ledger_batch_category_get (batch, ledger_op (0));
    ledger_batch_category_list (batch);
    ledger_batch_txn_create (batch, -1234, ledger_time_text ("2025-01-02T10:00:00+01:00"), "lunch", ledger_op (1));
    ledger_batch_txn_create (batch, 70000, ledger_time_at (1735808400000000LL, -330), NULL, LEDGER_UNSET);
    ledger_batch_txn_create (batch, 0, ledger_time_at (-1000000LL, 0), "", LEDGER_NULL);
    ledger_txn_change_t change = { .set_amount = true, .amount = -5, .occurred_at = ledger_time_text ("2025-02-01T00:00:00Z"),
                                   .set_description = true, .description = "tea", .category = ledger_name ("Food") };
    ledger_batch_txn_update (batch, ledger_op (12), &change);
    change = (ledger_txn_change_t) { .set_description = true, .description = NULL, .category = LEDGER_NULL };
    ledger_batch_txn_update (batch, ledger_id (9), &change);
    change = (ledger_txn_change_t) { .set_amount = true, .amount = INT64_MIN, .category = LEDGER_UNSET };
    ledger_batch_txn_update (batch, ledger_id (9), &change);
    ledger_batch_txn_delete (batch, ledger_id (10));
    ledger_batch_txn_get (batch, ledger_op (13));
    ledger_ref_t cats [] = { ledger_name ("Food"), ledger_id (3), ledger_op (1) };
    ledger_query_t query = { .from = ledger_time_text ("2025-01-01"), .to = ledger_time_at (1735689600000000LL, 60),
                             .categories = cats, .category_count = 3, .include_subcategories = true,
                             .set_min_amount = true, .min_amount = -500, .set_max_amount = true,
                             .max_amount = INT64_MAX, .limit = 10000, .after = "1735689600000000:42" };
    ledger_batch_txn_query (batch, &query);
    ledger_batch_txn_query (batch, NULL);
    query = (ledger_query_t) { .limit = 1 };
    ledger_batch_txn_query (batch, &query);
    ledger_batch_ping (batch);
    ledger_batch_stats (batch);
    ledger_batch_cluster_transfer (batch, 2);
    ledger_batch_cluster_remove (batch, 300);
    ledger_batch_txn_create_ext (batch, 1, ledger_time_text ("2025-01-03T00:00:00Z"), NULL, LEDGER_UNSET, "bank-7", true);
    ledger_batch_txn_create_ext (batch, 2, ledger_time_text ("2025-01-03T00:00:00Z"), "x", ledger_id (1), "bank-8", false);
    ledger_batch_category_update_if (batch, ledger_id (2), "Pie", LEDGER_UNSET, 3);
    ledger_batch_category_update_if (batch, ledger_id (2), NULL, LEDGER_NULL, 0);
    ledger_batch_category_delete_if (batch, ledger_op (1), 1);
    change = (ledger_txn_change_t) { .set_amount = true, .amount = 8, .category = LEDGER_UNSET, .expect_version = 2 };
    ledger_batch_txn_update (batch, ledger_id (9), &change);
    ledger_batch_txn_delete_if (batch, ledger_id (10), INT64_MAX);
    ledger_batch_txn_delete_if (batch, ledger_id (11), 0);
    CHECK (ledger_batch_error (batch) == NULL);
    CHECK_INT (ledger_batch_size (batch), 35);

    const char *expected_json =
        "{\"v\":1,\"id\":4294967296,\"key\":\"k-1\",\"mode\":\"independent\",\"ops\":["
        "{\"op\":\"category.create\",\"name\":\"Food\"},"
        "{\"op\":\"category.create\",\"name\":\"Bakery\",\"parent\":{\"ref\":0}},"
        "{\"op\":\"category.create\",\"name\":\"Top\",\"parent\":null},"
        "{\"op\":\"category.create\",\"name\":\"Sub\",\"parent\":\"Food\"},"
        "{\"op\":\"category.update\",\"id\":{\"ref\":1},\"name\":\"Bread\",\"parent\":7},"
        "{\"op\":\"category.update\",\"id\":2,\"parent\":null},"
        "{\"op\":\"category.update\",\"id\":2,\"name\":\"Cake\"},"
        "{\"op\":\"category.delete\",\"id\":3},"
        "{\"op\":\"category.get\",\"id\":4},"
        "{\"op\":\"category.get\",\"name\":\"Food\"},"
        "{\"op\":\"category.get\",\"id\":{\"ref\":0}},"
        "{\"op\":\"category.list\"},"
        "{\"op\":\"txn.create\",\"amount\":-1234,\"occurred_at\":\"2025-01-02T10:00:00+01:00\","
        "\"description\":\"lunch\",\"category\":{\"ref\":1}},"
        "{\"op\":\"txn.create\",\"amount\":70000,\"occurred_at\":\"2025-01-02T03:30:00-05:30\"},"
        "{\"op\":\"txn.create\",\"amount\":0,\"occurred_at\":\"1969-12-31T23:59:59Z\",\"description\":\"\",\"category\":null},"
        "{\"op\":\"txn.update\",\"id\":{\"ref\":12},\"amount\":-5,\"occurred_at\":\"2025-02-01T00:00:00Z\","
        "\"description\":\"tea\",\"category\":\"Food\"},"
        "{\"op\":\"txn.update\",\"id\":9,\"description\":null,\"category\":null},"
        "{\"op\":\"txn.update\",\"id\":9,\"amount\":-9223372036854775808},"
        "{\"op\":\"txn.delete\",\"id\":10},"
        "{\"op\":\"txn.get\",\"id\":{\"ref\":13}},"
        "{\"op\":\"txn.query\",\"from\":\"2025-01-01\",\"to\":\"2025-01-01T01:00:00+01:00\","
        "\"categories\":[\"Food\",3,{\"ref\":1}],\"include_subcategories\":true,\"min_amount\":-500,"
        "\"max_amount\":9223372036854775807,\"limit\":10000,\"after\":\"1735689600000000:42\"},"
        "{\"op\":\"txn.query\"},"
        "{\"op\":\"txn.query\",\"limit\":1},"
        "{\"op\":\"sys.ping\"},"
        "{\"op\":\"sys.stats\"},"
        "{\"op\":\"cluster.transfer\",\"id\":2},"
        "{\"op\":\"cluster.remove\",\"id\":300},"
        "{\"op\":\"txn.create\",\"amount\":1,\"occurred_at\":\"2025-01-03T00:00:00Z\",\"external_id\":\"bank-7\","
        "\"if_absent\":true},"
        "{\"op\":\"txn.create\",\"amount\":2,\"occurred_at\":\"2025-01-03T00:00:00Z\",\"description\":\"x\","
        "\"category\":1,\"external_id\":\"bank-8\"},"
        "{\"op\":\"category.update\",\"id\":2,\"name\":\"Pie\",\"expect_version\":3},"
        "{\"op\":\"category.update\",\"id\":2,\"parent\":null},"
        "{\"op\":\"category.delete\",\"id\":{\"ref\":1},\"expect_version\":1},"
        "{\"op\":\"txn.update\",\"id\":9,\"amount\":8,\"expect_version\":2},"
        "{\"op\":\"txn.delete\",\"id\":10,\"expect_version\":9223372036854775807},"
        "{\"op\":\"txn.delete\",\"id\":11}]}";
    json_error_t jerr;
    json_t *json = json_loads (expected_json, 0, &jerr);
    CHECK (json != NULL);
    char *expected = NULL;
    size_t expected_size = 0;
    CHECK (json && proto_json_to_msgpack (json, &expected, &expected_size, NULL, 0) == 0);
    json_decref (json);

    msgpack_sbuffer body;
    proto_request_t *request = s_roundtrip (batch, 4294967296ULL, "auto", &body);
    CHECK_INT (body.size, expected_size);
    CHECK (expected && body.size == expected_size && memcmp (body.data, expected, expected_size) == 0);
    if (expected && (body.size != expected_size || memcmp (body.data, expected, expected_size))) {
        json_t *sent = proto_json_from_msgpack (body.data, body.size, NULL, 0);
        char *text = sent? json_dumps (sent, JSON_COMPACT | JSON_PRESERVE_ORDER): NULL;
        fprintf (stderr, "    sent %s\n", text? text: "(not JSON)");
        free (text);
        json_decref (sent);
    }
    /*  And the worker's decoder takes every op as valid. */
    CHECK (request && !proto_error_is_set (&request->error) && request->invalid_count == 0);
    CHECK (request && request->op_count == 35);
    proto_request_destroy (&request);
    msgpack_sbuffer_destroy (&body);
    free (expected);
    ledger_batch_destroy (&batch);
}

static void
test_reads_carry_no_key (void)
{
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_batch_category_list (batch);
    ledger_batch_txn_get (batch, ledger_id (1));
    CHECK (!ledger_batch_writes (batch));
    msgpack_sbuffer body;
    proto_request_t *request = s_roundtrip (batch, 1, "auto", &body);
    CHECK (request && request->key == NULL && !request->writes);
    proto_request_destroy (&request);
    msgpack_sbuffer_destroy (&body);
    ledger_batch_destroy (&batch);
}

static void
test_bad_arguments_break_the_batch (void)
{
    ledger_batch_t *batch = ledger_batch_new ();
    CHECK_INT (ledger_batch_category_create (batch, "", LEDGER_UNSET), -1);
    CHECK (ledger_batch_error (batch) != NULL);
    msgpack_sbuffer body;
    CHECK (s_roundtrip (batch, 1, "k", &body) == NULL);    /* never sent */
    msgpack_sbuffer_destroy (&body);
    ledger_batch_destroy (&batch);

    static const char *long_name = "0123456789012345678901234567890123456789012345678901234567890123456789"
                                   "0123456789012345678901234567890123456789";
    batch = ledger_batch_new ();
    CHECK_INT (ledger_batch_category_create (batch, long_name, LEDGER_UNSET), -1);
    CHECK_INT (ledger_batch_category_create (batch, NULL, LEDGER_UNSET), -1);
    CHECK_INT (ledger_batch_txn_get (batch, ledger_op (0)), -1);            /* no earlier op */
    CHECK_INT (ledger_batch_txn_get (batch, ledger_name ("x")), -1);        /* ids only */
    CHECK_INT (ledger_batch_txn_get (batch, ledger_id (0)), -1);
    CHECK_INT (ledger_batch_txn_create (batch, 1, LEDGER_TIME_UNSET, NULL, LEDGER_UNSET), -1);
    CHECK_INT (ledger_batch_txn_create (batch, 1, ledger_time_at (0, 5000), NULL, LEDGER_UNSET), -1);
    ledger_txn_change_t nothing = { .category = LEDGER_UNSET };
    CHECK_INT (ledger_batch_txn_update (batch, ledger_id (1), &nothing), -1);
    CHECK_INT (ledger_batch_category_update (batch, ledger_id (1), NULL, LEDGER_UNSET), -1);
    ledger_query_t query = { .limit = 10001 };
    CHECK_INT (ledger_batch_txn_query (batch, &query), -1);
    query = (ledger_query_t) { .after = "nonsense" };
    CHECK_INT (ledger_batch_txn_query (batch, &query), -1);
    CHECK_INT (ledger_batch_set_key (batch, ""), -1);
    ledger_time_t at = ledger_time_text ("2025-01-01T00:00:00Z");
    CHECK_INT (ledger_batch_txn_create_ext (batch, 1, at, NULL, LEDGER_UNSET, "", false), -1);
    CHECK_INT (ledger_batch_txn_create_ext (batch, 1, at, NULL, LEDGER_UNSET, NULL, true), -1);   /* if_absent needs one */
    char long_id [130];
    memset (long_id, 'x', 129);
    long_id [129] = 0;
    CHECK_INT (ledger_batch_txn_create_ext (batch, 1, at, NULL, LEDGER_UNSET, long_id, true), -1);
    long_id [128] = 0;
    CHECK_INT (ledger_batch_txn_create_ext (batch, 1, at, NULL, LEDGER_UNSET, long_id, true), 0);
    CHECK_INT (ledger_batch_txn_delete_if (batch, ledger_id (1), -1), -1);
    CHECK (strstr (ledger_batch_error (batch), "expect_version") != NULL);
    CHECK_INT (ledger_batch_category_delete_if (batch, ledger_id (1), -1), -1);
    CHECK_INT (ledger_batch_category_update_if (batch, ledger_id (1), "a", LEDGER_UNSET, -2), -1);
    ledger_txn_change_t stale = { .set_amount = true, .category = LEDGER_UNSET, .expect_version = -1 };
    CHECK_INT (ledger_batch_txn_update (batch, ledger_id (1), &stale), -1);
    CHECK_INT (ledger_batch_size (batch), 1);
    ledger_batch_destroy (&batch);
}

/*  A timestamp the worker would refuse breaks the batch in the builder,
    with the field and the reason; every form the worker takes passes. */
static void
test_bad_timestamp_text_breaks_the_batch (void)
{
    static const char *bad [] = { "2025-13-40T00:00:00Z", "2025-13-40", "2025-02-30T00:00:00Z",
                                  "2025-01-01 10:00:00Z", "2025-01-01T10:00:00+0100", "yesterday", "" };
    for (size_t n = 0; n < sizeof (bad) / sizeof (bad [0]); n++) {
        ledger_batch_t *batch = ledger_batch_new ();
        CHECK_INT (ledger_batch_txn_create (batch, 1, ledger_time_text (bad [n]), NULL, LEDGER_UNSET), -1);
        const char *error = ledger_batch_error (batch);
        CHECK (error && strstr (error, "occurred_at") && strstr (error, "not an RFC 3339 date-time"));
        msgpack_sbuffer body;
        CHECK (s_roundtrip (batch, 1, "k", &body) == NULL);    /* never sent */
        msgpack_sbuffer_destroy (&body);
        ledger_batch_destroy (&batch);
    }
    ledger_batch_t *batch = ledger_batch_new ();
    CHECK_INT (ledger_batch_txn_create (batch, 1, ledger_time_text ("2025-01-01T10:00:00"), NULL, LEDGER_UNSET), -1);
    CHECK (ledger_batch_error (batch) && strstr (ledger_batch_error (batch), "no UTC offset"));
    ledger_batch_destroy (&batch);

    /*  A bare date is a bound, not an occurred_at; a bad one is neither. */
    batch = ledger_batch_new ();
    CHECK_INT (ledger_batch_txn_create (batch, 1, ledger_time_text ("2025-01-01"), NULL, LEDGER_UNSET), -1);
    ledger_batch_destroy (&batch);
    batch = ledger_batch_new ();
    ledger_query_t query = { .from = ledger_time_text ("2025-01-01"), .to = ledger_time_text ("2025-02-01T00:00:00-05:00") };
    CHECK_INT (ledger_batch_txn_query (batch, &query), 0);
    query = (ledger_query_t) { .to = ledger_time_text ("2025-13-40") };
    CHECK_INT (ledger_batch_txn_query (batch, &query), -1);
    CHECK (ledger_batch_error (batch) && strstr (ledger_batch_error (batch), "to: '2025-13-40'"));
    ledger_batch_destroy (&batch);
}

static void
test_batch_from_json (void)
{
    char errbuf [200];
    ledger_batch_t *batch = ledger_batch_from_json (
        "{\"ops\":[{\"op\":\"txn.create\",\"amount\":\"1.50\",\"occurred_at\":\"2025-01-01T00:00:00Z\"}],"
        "\"mode\":\"independent\",\"key\":\"mine\"}", errbuf, sizeof (errbuf));
    CHECK (batch != NULL);
    if (batch) {
        CHECK (ledger_batch_writes (batch));
        msgpack_sbuffer body;
        proto_request_t *request = s_roundtrip (batch, 5, "auto", &body);
        CHECK (request && request->mode == PROTO_MODE_INDEPENDENT && request->key_len == 4);
        CHECK (request && request->ops [0].value [PROTO_FIELD_AMOUNT].i == 150);
        proto_request_destroy (&request);
        msgpack_sbuffer_destroy (&body);
        ledger_batch_destroy (&batch);
    }
    static const char *bad [] = { "not json", "[1]", "{\"ops\":[]}", "{\"ops\":[{}],\"mode\":\"x\"}",
                                  "{\"ops\":[{}],\"key\":5}", "{\"ops\":[{}],\"extra\":1}" };
    for (size_t n = 0; n < sizeof (bad) / sizeof (bad [0]); n++) {
        errbuf [0] = 0;
        CHECK (ledger_batch_from_json (bad [n], errbuf, sizeof (errbuf)) == NULL);
        CHECK (errbuf [0] != 0);
    }
}

/*  A result built from a reply given as JSON. */
static ledger_result_t *
s_result (const char *json_text)
{
    json_t *json = json_loads (json_text, 0, NULL);
    char *data;
    size_t size;
    proto_json_to_msgpack (json, &data, &size, NULL, 0);
    json_decref (json);
    char errbuf [200];
    ledger_result_t *result = ledger_result_from_reply (data, size, errbuf, sizeof (errbuf));
    free (data);
    return result;
}

static void
test_result_accessors (void)
{
    ledger_result_t *result = s_result (
        "{\"v\":1,\"id\":3,\"ok\":true,\"results\":["
        "{\"id\":7,\"existed\":true},{\"changed\":1},"
        "{\"row\":{\"id\":7,\"name\":\"Food\",\"parent_id\":null,\"version\":4}},"
        "{\"rows\":[{\"id\":1,\"amount\":-1234,\"occurred_at\":\"2025-01-02T10:00:00+01:00\",\"description\":null,"
        "\"category_id\":7,\"created_at\":\"2025-01-02T09:00:00Z\",\"updated_at\":\"2025-01-02T09:00:00Z\","
        "\"version\":12}],\"next\":\"5:1\"},"
        "{\"pong\":true,\"version\":\"0.1.0\"},"
        "{\"stats\":{\"uptime_s\":5,\"batches_failed\":{\"busy\":2}}},"
        "{\"error\":{\"class\":\"not_found\",\"retryable\":false,\"op\":6,\"field\":\"id\",\"code\":\"NOT_FOUND\",\"message\":\"no\"}}],"
        "\"failed\":1,\"replayed\":true}");
    CHECK (result != NULL);
    if (!result)
        return;
    CHECK_INT (ledger_result_status (result), LEDGER_OK);
    CHECK_INT (ledger_result_request_id (result), 3);
    CHECK (ledger_result_replayed (result));
    CHECK_INT (ledger_result_op_count (result), 7);
    CHECK_INT (ledger_result_failed_count (result), 1);
    CHECK_INT (ledger_result_id (result, 0), 7);
    CHECK_INT (ledger_result_changed (result, 1), 1);
    CHECK (ledger_result_existed (result, 0));
    CHECK (!ledger_result_existed (result, 1));
    ledger_category_t category;
    CHECK_INT (ledger_result_category (result, 2, 0, &category), 0);
    CHECK_STR (category.name, "Food");
    CHECK_INT (category.parent_id, 0);
    CHECK_INT (category.version, 4);
    CHECK_INT (ledger_result_category (result, 2, 1, &category), -1);
    CHECK_INT (ledger_result_row_count (result, 3), 1);
    ledger_txn_t txn;
    CHECK_INT (ledger_result_txn (result, 3, 0, &txn), 0);
    CHECK_INT (txn.amount, -1234);
    CHECK_STR (txn.occurred_at, "2025-01-02T10:00:00+01:00");
    CHECK (txn.description == NULL);
    CHECK_INT (txn.category_id, 7);
    CHECK_INT (txn.version, 12);
    CHECK_STR (ledger_result_next (result, 3), "5:1");
    CHECK_INT (ledger_result_txn (result, 2, 0, &txn), -1);             /* a category is not a txn */
    CHECK_STR (ledger_result_version (result, 4), "0.1.0");
    CHECK_INT (ledger_result_stat (result, 5, "uptime_s"), 5);
    CHECK_INT (ledger_result_stat (result, 5, "batches_failed.busy"), 2);
    CHECK_INT (ledger_result_stat (result, 5, "nope"), -1);
    CHECK (ledger_result_op_failed (result, 6));
    CHECK (!ledger_result_op_failed (result, 0));
    CHECK_STR (ledger_result_op_error_code (result, 6), "NOT_FOUND");
    CHECK_STR (ledger_result_op_error_field (result, 6), "id");
    CHECK (strstr (ledger_result_describe (result), "ok (7 ops") != NULL);
    char *json = ledger_result_json (result);
    CHECK (json && strncmp (json, "{\"v\":1,\"id\":3,\"ok\":true", 23) == 0);
    free (json);
    ledger_result_destroy (&result);
    CHECK (result == NULL);

    result = s_result ("{\"v\":1,\"ok\":false,\"error\":{\"class\":\"busy\",\"retryable\":true,\"op\":null,"
                       "\"field\":null,\"code\":\"SQLITE_BUSY\",\"message\":\"locked\"}}");
    CHECK (result != NULL);
    if (result) {
        CHECK_INT (ledger_result_status (result), LEDGER_FAILED);
        CHECK_STR (ledger_result_error_class (result), "busy");
        CHECK (ledger_result_retryable (result));
        CHECK_INT (ledger_result_error_op (result), -1);
        CHECK (ledger_result_error_field (result) == NULL);
        CHECK_STR (ledger_result_describe (result), "failed: busy: SQLITE_BUSY: locked (retryable)");
        CHECK_INT (ledger_result_op_count (result), 0);
        CHECK_INT (ledger_result_id (result, 0), 0);                    /* no crash past the end */
        ledger_result_destroy (&result);
    }
    result = s_result ("{\"v\":1,\"ok\":false,\"error\":{\"class\":\"conflict\",\"retryable\":false,\"op\":0,"
                       "\"field\":\"expect_version\",\"code\":\"VERSION_MISMATCH\","
                       "\"message\":\"transaction 7 is at version 3, not 2\"}}");
    CHECK (result != NULL);
    if (result) {
        CHECK_STR (ledger_result_error_class (result), "conflict");
        CHECK (!ledger_result_retryable (result));
        CHECK_STR (ledger_result_error_field (result), "expect_version");
        CHECK_STR (ledger_result_error_code (result), "VERSION_MISMATCH");
        ledger_result_destroy (&result);
    }
    result = ledger_result_unknown (9, 4, "no reply within 100 ms");
    CHECK_INT (ledger_result_status (result), LEDGER_UNKNOWN);
    CHECK_STR (ledger_result_describe (result), "outcome unknown after 4 tries: no reply within 100 ms");
    CHECK (ledger_result_error_class (result) == NULL);
    ledger_result_destroy (&result);
}

/*  The paging helper copies the cursor, so the result can go at once. */
static void
test_query_next_page (void)
{
    ledger_query_t query = { .limit = 2 };
    ledger_result_t *result = s_result ("{\"v\":1,\"id\":1,\"ok\":true,\"results\":["
        "{\"rows\":[],\"next\":\"1735689600000000:12\"},{\"rows\":[],\"next\":null},{\"row\":{\"id\":1}},"
        "{\"rows\":[],\"next\":\"" "0123456789012345678901234567890123456789012345678901234567890123" "\"}]}");
    CHECK (result != NULL);
    CHECK_INT (ledger_query_next_page (&query, result, 0), 1);
    ledger_result_destroy (&result);
    CHECK (query.after == query.cursor);
    CHECK_STR (query.after, "1735689600000000:12");
    CHECK_INT (query.limit, 2);

    result = s_result ("{\"v\":1,\"id\":1,\"ok\":true,\"results\":["
        "{\"rows\":[],\"next\":null},{\"row\":{\"id\":1}},"
        "{\"rows\":[],\"next\":\"" "0123456789012345678901234567890123456789012345678901234567890123" "\"}]}");
    /*  Not a query, or a cursor that does not fit: -1, query untouched. */
    CHECK_INT (ledger_query_next_page (&query, result, 1), -1);
    CHECK_INT (ledger_query_next_page (&query, result, 2), -1);
    CHECK_INT (ledger_query_next_page (&query, result, 7), -1);
    CHECK_STR (query.after, "1735689600000000:12");
    /*  The last page: no cursor. */
    CHECK_INT (ledger_query_next_page (&query, result, 0), 0);
    CHECK (query.after == NULL);
    ledger_result_destroy (&result);

    result = s_result ("{\"v\":1,\"ok\":false,\"error\":{\"class\":\"busy\",\"retryable\":true,\"op\":null,"
                       "\"field\":null,\"code\":\"SQLITE_BUSY\",\"message\":\"locked\"}}");
    query.after = "kept";
    CHECK_INT (ledger_query_next_page (&query, result, 0), -1);
    CHECK_STR (query.after, "kept");
    ledger_result_destroy (&result);
    CHECK_INT (ledger_query_next_page (&query, NULL, 0), -1);
}

static void
test_bad_replies_are_refused (void)
{
    char errbuf [200];
    static const struct { const char *bytes; size_t size; } cases [] = {
        { "", 0 }, { "\xdd\xff\xff\xff\xff", 5 }, { "\x91\x01", 2 }, { "\x81\xa2ok\xc3", 5 },
        { "\x83\xa1v\x01\xa2ok\xc3\xa7results\x01", 16 }, { "\x82\xa1v\x01\xa2ok\xc3\x00", 9 },
    };
    for (size_t n = 0; n < sizeof (cases) / sizeof (cases [0]); n++)
        CHECK (ledger_result_from_reply (cases [n].bytes, cases [n].size, errbuf, sizeof (errbuf)) == NULL);
}

static void
test_client_endpoints (void)
{
    CHECK (ledger_client_new ("") == NULL);
    CHECK (ledger_client_new (NULL) == NULL);
    CHECK (ledger_client_new ("not-an-endpoint") == NULL);
    ledger_client_t *client = ledger_client_new ("tcp://127.0.0.1:1,tcp://127.0.0.1:2");
    CHECK (client != NULL);
    if (client) {
        CHECK_INT (strlen (ledger_client_id (client)), 16);
        ledger_batch_t *empty = ledger_batch_new ();
        CHECK (ledger_client_submit (client, empty) == NULL);
        CHECK (strstr (ledger_client_error (client), "no ops") != NULL);
        CHECK (ledger_client_recv (client, 0) == NULL);                 /* nothing in flight */
        ledger_batch_destroy (&empty);
    }
    ledger_client_destroy (&client);
    ledger_client_destroy (&client);
}

/*  txn.summary: the builder packs the fields the worker decodes, in the
    op table's order, refuses what the worker would, and rows read back. */
static void
test_summary (void)
{
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_ref_t cats [] = { ledger_name ("Food") };
    ledger_summary_t summary = { .from = ledger_time_text ("2025-01-01"), .categories = cats, .category_count = 1,
                                 .include_subcategories = true, .set_min_amount = true, .min_amount = -500,
                                 .by = LEDGER_BY_BOTH, .period = LEDGER_PERIOD_WEEK, .offset = "+01:00",
                                 .rollup = true };
    CHECK_INT (ledger_batch_txn_summary (batch, &summary), 0);
    CHECK_INT (ledger_batch_txn_summary (batch, NULL), 1);
    CHECK (!ledger_batch_writes (batch));
    msgpack_sbuffer body;
    proto_request_t *request = s_roundtrip (batch, 1, NULL, &body);
    CHECK (request && !proto_error_is_set (&request->error));
    json_t *json = proto_json_from_msgpack (body.data, body.size, NULL, 0);
    char *text = json_dumps (json_object_get (json, "ops"), JSON_COMPACT | JSON_PRESERVE_ORDER);
    CHECK_STR (text, "[{\"op\":\"txn.summary\",\"from\":\"2025-01-01\",\"categories\":[\"Food\"],"
                     "\"include_subcategories\":true,\"min_amount\":-500,\"by\":\"both\",\"period\":\"week\","
                     "\"offset\":\"+01:00\",\"rollup\":true},{\"op\":\"txn.summary\"}]");
    free (text);
    json_decref (json);
    proto_request_destroy (&request);
    msgpack_sbuffer_destroy (&body);
    ledger_batch_destroy (&batch);

    static const ledger_summary_t bad [] = {
        { .period = LEDGER_PERIOD_MONTH },                      /* by category: no period */
        { .by = LEDGER_BY_CATEGORY, .offset = "Z" },
        { .by = LEDGER_BY_PERIOD, .rollup = true },
        { .by = LEDGER_BY_PERIOD, .offset = "+1:00" },
        { .by = (ledger_by_t) 4 },
        { .by = LEDGER_BY_BOTH, .period = (ledger_period_t) 9 },
    };
    for (size_t n = 0; n < sizeof (bad) / sizeof (bad [0]); n++) {
        batch = ledger_batch_new ();
        CHECK_INT (ledger_batch_txn_summary (batch, &bad [n]), -1);
        CHECK (ledger_batch_error (batch) != NULL);
        ledger_batch_destroy (&batch);
    }

    ledger_result_t *result = s_result ("{\"v\":1,\"id\":1,\"ok\":true,\"results\":[{\"rows\":["
        "{\"category_id\":null,\"period\":\"2025-W05\",\"count\":2,\"total\":-9223372036854775808,"
        "\"min\":-9223372036854775000,\"max\":-808},"
        "{\"category_id\":7,\"count\":1,\"total\":5,\"min\":5,\"max\":5},"
        "{\"period\":\"2025\",\"count\":3,\"total\":9223372036854775807,\"min\":1,\"max\":9223372036854775000}]}]}");
    CHECK_INT (ledger_result_row_count (result, 0), 3);
    ledger_summary_row_t row;
    CHECK_INT (ledger_result_summary_row (result, 0, 0, &row), 0);
    CHECK (row.has_category && row.category_id == 0 && row.has_period);
    CHECK_STR (row.period, "2025-W05");
    CHECK_INT (row.count, 2);
    CHECK (row.total == INT64_MIN);
    CHECK_INT (row.min, -9223372036854775000LL);
    CHECK_INT (ledger_result_summary_row (result, 0, 1, &row), 0);
    CHECK (row.has_category && row.category_id == 7 && !row.has_period && row.period == NULL);
    CHECK_INT (ledger_result_summary_row (result, 0, 2, &row), 0);
    CHECK (!row.has_category && row.has_period);
    CHECK (row.total == INT64_MAX);
    CHECK_INT (ledger_result_summary_row (result, 0, 3, &row), -1);
    CHECK_INT (ledger_result_summary_row (result, 1, 0, &row), -1);
    ledger_result_destroy (&result);
}

int
main (void)
{
    TEST_RUN (test_builder_encodes_what_the_worker_accepts);
    TEST_RUN (test_builder_bytes_are_the_wire_format);
    TEST_RUN (test_reads_carry_no_key);
    TEST_RUN (test_bad_arguments_break_the_batch);
    TEST_RUN (test_bad_timestamp_text_breaks_the_batch);
    TEST_RUN (test_batch_from_json);
    TEST_RUN (test_result_accessors);
    TEST_RUN (test_query_next_page);
    TEST_RUN (test_bad_replies_are_refused);
    TEST_RUN (test_client_endpoints);
    TEST_RUN (test_summary);
    return TEST_DONE ();
}
