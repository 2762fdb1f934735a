/*  test_json -- proto_json: JSON to msgpack and back. */

#include "proto_json.h"
#include "testing.h"

#include <stdint.h>
#include <stdlib.h>

/*  Bytes written as a string literal, without its terminating NUL. */
#define BYTES(literal) (literal), (sizeof (literal) - 1)

/*  Encode json and check the bytes are exactly the n at expected. */
static void
s_check_encodes_to (const json_t *json, const char *expected, size_t n)
{
    char *data = NULL;
    size_t size = 0;
    char errbuf [256] = "";
    CHECK_INT (proto_json_to_msgpack (json, &data, &size, errbuf, sizeof errbuf), 0);
    CHECK_INT (size, n);
    if (data && size == n)
        CHECK (memcmp (data, expected, n) == 0);
    free (data);
}

/*  Encode json, decode it again, and check nothing changed, key order and
    all (json_dumps walks keys in insertion order). Takes json. */
static void
s_check_round_trip (json_t *json)
{
    char *data = NULL;
    size_t size = 0;
    char errbuf [256] = "";
    CHECK_INT (proto_json_to_msgpack (json, &data, &size, errbuf, sizeof errbuf), 0);
    json_t *back = proto_json_from_msgpack (data, size, errbuf, sizeof errbuf);
    CHECK (back != NULL);
    if (!back)
        fprintf (stderr, "  decode said: %s\n", errbuf);
    CHECK (json_equal (json, back));
    char *want = json_dumps (json, JSON_COMPACT | JSON_ENCODE_ANY);
    char *got = back? json_dumps (back, JSON_COMPACT | JSON_ENCODE_ANY): NULL;
    CHECK_STR (got, want);
    free (want);
    free (got);
    json_decref (back);
    json_decref (json);
    free (data);
}

/*  Decode n bytes that must be refused, and check the reason mentions what. */
static void
s_check_refused (const char *data, size_t n, const char *what)
{
    char errbuf [256] = "";
    json_t *json = proto_json_from_msgpack (data, n, errbuf, sizeof errbuf);
    CHECK (json == NULL);
    if (!strstr (errbuf, what)) {
        fprintf (stderr, "  error \"%s\" does not mention \"%s\"\n", errbuf, what);
        CHECK (strstr (errbuf, what));
    }
    json_decref (json);
}

static void
test_scalars_round_trip (void)
{
    s_check_round_trip (json_null ());
    s_check_round_trip (json_true ());
    s_check_round_trip (json_false ());
    s_check_round_trip (json_integer (0));
    s_check_round_trip (json_integer (-1));
    s_check_round_trip (json_integer (-33));
    s_check_round_trip (json_integer (127));
    s_check_round_trip (json_integer (128));
    s_check_round_trip (json_integer (65536));
    s_check_round_trip (json_integer (-2147483649LL));
    s_check_round_trip (json_real (1.5));
    s_check_round_trip (json_real (-0.25));
    s_check_round_trip (json_real (1e300));
    s_check_round_trip (json_string (""));
    s_check_round_trip (json_string ("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x98\x80"));
}

static void
test_scalar_encodings (void)
{
    json_t *json;
    s_check_encodes_to (json = json_null (), BYTES ("\xc0"));
    s_check_encodes_to (json = json_true (), BYTES ("\xc3"));
    s_check_encodes_to (json = json_false (), BYTES ("\xc2"));
    //  msgpack_pack_int64 picks the smallest encoding.
    s_check_encodes_to (json = json_integer (0), BYTES ("\x00"));
    json_decref (json);
    s_check_encodes_to (json = json_integer (-1), BYTES ("\xff"));
    json_decref (json);
    s_check_encodes_to (json = json_integer (200), BYTES ("\xcc\xc8"));
    json_decref (json);
    s_check_encodes_to (json = json_integer (-200), BYTES ("\xd1\xff\x38"));
    json_decref (json);
    s_check_encodes_to (json = json_string ("ab"), BYTES ("\xa2" "ab"));
    json_decref (json);
}

static void
test_real_is_float64 (void)
{
    //  Even a whole-number real stays a float64: tests send one on purpose.
    json_t *json = json_real (2.0);
    s_check_encodes_to (json, BYTES ("\xcb\x40\x00\x00\x00\x00\x00\x00\x00"));
    json_decref (json);

    json = json_real (1.5);
    char *data = NULL;
    size_t size = 0;
    CHECK_INT (proto_json_to_msgpack (json, &data, &size, NULL, 0), 0);
    CHECK_INT (size, 9);
    CHECK_INT (data? (uint8_t) data [0]: 0, 0xcb);
    free (data);
    json_decref (json);

    //  A float32 from the wire becomes a real too.
    char errbuf [256] = "";
    json = proto_json_from_msgpack (BYTES ("\xca\x3f\xc0\x00\x00"), errbuf, sizeof errbuf);
    CHECK (json_is_real (json));
    CHECK (json_real_value (json) == 1.5);
    json_decref (json);
}

static void
test_int64_extremes (void)
{
    json_t *json = json_integer (INT64_MAX);
    s_check_encodes_to (json, BYTES ("\xcf\x7f\xff\xff\xff\xff\xff\xff\xff"));
    s_check_round_trip (json);

    json = json_integer (INT64_MIN);
    s_check_encodes_to (json, BYTES ("\xd3\x80\x00\x00\x00\x00\x00\x00\x00"));
    s_check_round_trip (json);

    //  INT64_MAX as a uint64 is the largest integer that decodes.
    json = proto_json_from_msgpack (BYTES ("\xcf\x7f\xff\xff\xff\xff\xff\xff\xff"), NULL, 0);
    CHECK (json_is_integer (json));
    CHECK (json_integer_value (json) == INT64_MAX);
    json_decref (json);
}

static void
test_string_with_nul (void)
{
    json_t *json = json_stringn ("a\0b", 3);
    s_check_encodes_to (json, BYTES ("\xa3" "a\0b"));
    s_check_round_trip (json);

    //  A key with a NUL in it; json_equal looks keys up as C strings, so
    //  the round trip is checked by hand.
    json = json_object ();
    json_object_setn_new (json, "k\0ey", 4, json_integer (1));
    s_check_encodes_to (json, BYTES ("\x81\xa4" "k\0ey" "\x01"));
    json_decref (json);
    json = proto_json_from_msgpack (BYTES ("\x81\xa4" "k\0ey" "\x01"), NULL, 0);
    CHECK_INT (json_object_size (json), 1);
    CHECK_INT (json_integer_value (json_object_getn (json, "k\0ey", 4)), 1);
    CHECK (json_object_get (json, "k") == NULL);
    json_decref (json);

    //  The empty string and the empty key.
    json = json_object ();
    json_object_set_new (json, "", json_string (""));
    s_check_encodes_to (json, BYTES ("\x81\xa0\xa0"));
    s_check_round_trip (json);
}

static void
test_request_bytes (void)
{
    //  The exact wire form of a ping, keys in the order written.
    json_t *json = json_loads ("{\"v\":1,\"ops\":[{\"op\":\"sys.ping\"}]}", 0, NULL);
    CHECK (json != NULL);
    s_check_encodes_to (json, BYTES ("\x82" "\xa1" "v" "\x01"
                                     "\xa3" "ops" "\x91" "\x81" "\xa2" "op" "\xa8" "sys.ping"));
    json_decref (json);
}

static void
test_key_order_kept (void)
{
    //  Keys chosen so that neither sorting nor hashing would give this order.
    json_t *json = json_object ();
    json_object_set_new (json, "zeta", json_integer (1));
    json_object_set_new (json, "alpha", json_integer (2));
    json_object_set_new (json, "mu", json_integer (3));
    json_object_set_new (json, "beta", json_integer (4));
    s_check_encodes_to (json, BYTES ("\x84"
                                     "\xa4" "zeta" "\x01" "\xa5" "alpha" "\x02"
                                     "\xa2" "mu" "\x03" "\xa4" "beta" "\x04"));

    //  And decoding keeps the wire order.
    json_t *back = proto_json_from_msgpack (BYTES ("\x84"
                                     "\xa4" "zeta" "\x01" "\xa5" "alpha" "\x02"
                                     "\xa2" "mu" "\x03" "\xa4" "beta" "\x04"), NULL, 0);
    const char *order [] = { "zeta", "alpha", "mu", "beta" };
    int index = 0;
    const char *key;
    json_t *value;
    json_object_foreach (back, key, value) {
        CHECK (index < 4);
        if (index < 4)
            CHECK_STR (key, order [index]);
        CHECK_INT (json_integer_value (value), index + 1);
        index++;
    }
    CHECK_INT (index, 4);
    json_decref (back);
    s_check_round_trip (json);
}

static void
test_nested_round_trip (void)
{
    const char *text =
        "{\"v\":1,\"id\":\"req-7\",\"ops\":["
        "{\"op\":\"acct.create\",\"name\":\"cash\",\"meta\":{\"z\":[],\"a\":{}}},"
        "{\"op\":\"tx.post\",\"legs\":[[1,-100],[2,100]],\"memo\":null,\"amount\":1.25,"
        "\"flags\":[true,false,null,\"\",[[[[\"deep\"]]]]]}]}";
    json_t *json = json_loads (text, 0, NULL);
    CHECK (json != NULL);
    char *dumped = json_dumps (json, JSON_COMPACT);
    CHECK_STR (dumped, text);
    free (dumped);
    s_check_round_trip (json);

    json = json_object ();
    s_check_encodes_to (json, BYTES ("\x80"));
    s_check_round_trip (json);
    json = json_array ();
    s_check_encodes_to (json, BYTES ("\x90"));
    s_check_round_trip (json);
}

static void
test_large_containers (void)
{
    //  Past the fix and 16-bit headers: str32, array16, map16.
    size_t length = 70000;
    char *big = malloc (length);
    CHECK (big != NULL);
    if (!big)
        return;
    memset (big, 'x', length);
    s_check_round_trip (json_stringn (big, length));
    free (big);

    json_t *array = json_array ();
    for (int index = 0; index < 300; index++)
        json_array_append_new (array, json_integer (index * 1000));
    s_check_round_trip (array);

    json_t *object = json_object ();
    for (int index = 0; index < 40; index++) {
        char key [16];
        snprintf (key, sizeof key, "k%d", 40 - index);
        json_object_set_new (object, key, json_integer (index));
    }
    s_check_round_trip (object);
}

static void
test_refuse_bin_and_ext (void)
{
    s_check_refused (BYTES ("\xc4\x01" "A"), "cannot show bin as JSON");
    s_check_refused (BYTES ("\xd4\x01\x00"), "cannot show ext as JSON");
    s_check_refused (BYTES ("\xc7\x02\x05" "ab"), "cannot show ext as JSON");
    //  Deep inside a value: what was built so far is freed (ASan checks).
    s_check_refused (BYTES ("\x82\xa1" "a" "\x92\x01\x02" "\xa1" "b" "\x91\xc4\x00"),
                     "cannot show bin as JSON");
}

static void
test_refuse_big_uint64 (void)
{
    s_check_refused (BYTES ("\xcf\x80\x00\x00\x00\x00\x00\x00\x00"), "INT64_MAX");
    s_check_refused (BYTES ("\xcf\xff\xff\xff\xff\xff\xff\xff\xff"), "18446744073709551615");
}

static void
test_refuse_bad_keys (void)
{
    s_check_refused (BYTES ("\x81\x01\x02"), "map key of type int");
    s_check_refused (BYTES ("\x81\xc0\x02"), "map key of type nil");
    s_check_refused (BYTES ("\x81\x91\x01\x02"), "map key of type array");
    s_check_refused (BYTES ("\x82\xa1" "a" "\x01\xa1" "a" "\x02"), "twice");
    s_check_refused (BYTES ("\x81\xa2\xff\xfe\x01"), "UTF-8");
}

static void
test_refuse_bad_values (void)
{
    s_check_refused (BYTES ("\xa2\xff\xfe"), "UTF-8");
    s_check_refused (BYTES ("\xa3\xed\xa0\x80"), "UTF-8");
    s_check_refused (BYTES ("\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00"), "cannot show float64");
    s_check_refused (BYTES ("\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00"), "cannot show float64");
    s_check_refused (BYTES ("\xca\xff\x80\x00\x00"), "cannot show float32");
    s_check_refused (BYTES ("\xc1"), "malformed");
}

static void
test_refuse_trailing_bytes (void)
{
    s_check_refused (BYTES ("\x01\x02"), "1 trailing byte");
    s_check_refused (BYTES ("\x80\x80\x80"), "2 trailing bytes");
}

static void
test_refuse_truncated (void)
{
    s_check_refused ("", 0, "empty");
    s_check_refused (BYTES ("\xa3" "ab"), "truncated");
    s_check_refused (BYTES ("\x92\x01"), "truncated");
    s_check_refused (BYTES ("\x81\xa1" "a"), "truncated");
    s_check_refused (BYTES ("\xcb\x00\x00"), "truncated");
    s_check_refused (BYTES ("\xcd\x01"), "truncated");

    //  Every proper prefix of a real reply is refused.
    const char reply [] = "\x84\xa1" "v" "\x01\xa2" "id" "\xa1" "r" "\xa2" "ok" "\xc3"
                          "\xa7" "results" "\x91\x82\xa4" "pong" "\xc3"
                          "\xa7" "version" "\xa5" "0.1.0";
    size_t size = sizeof reply - 1;
    for (size_t prefix = 0; prefix < size; prefix++) {
        json_t *json = proto_json_from_msgpack (reply, prefix, NULL, 0);
        CHECK (json == NULL);
        json_decref (json);
    }
    json_t *json = proto_json_from_msgpack (reply, size, NULL, 0);
    CHECK (json_is_true (json_object_get (json, "ok")));
    json_decref (json);
}

static void
test_refuse_too_deep_to_encode (void)
{
    json_t *root = json_array ();
    json_t *leaf = root;
    for (int depth = 0; depth < 3000; depth++) {
        json_t *child = json_array ();
        json_array_append_new (leaf, child);
        leaf = child;
    }
    char *data = NULL;
    size_t size = 0;
    char errbuf [256] = "";
    CHECK_INT (proto_json_to_msgpack (root, &data, &size, errbuf, sizeof errbuf), -1);
    CHECK (data == NULL);
    CHECK (strstr (errbuf, "nested deeper") != NULL);
    json_decref (root);

    CHECK_INT (proto_json_to_msgpack (NULL, &data, &size, errbuf, sizeof errbuf), -1);
}

static void
test_small_errbuf (void)
{
    //  A short or missing buffer is truncated or skipped, never overrun.
    char errbuf [8];
    memset (errbuf, 'X', sizeof errbuf);
    CHECK (proto_json_from_msgpack (BYTES ("\xc4\x00"), errbuf, 4) == NULL);
    CHECK_STR (errbuf, "can");
    CHECK (errbuf [4] == 'X');
    CHECK (proto_json_from_msgpack (BYTES ("\xc4\x00"), NULL, 0) == NULL);
}

int
main (void)
{
    TEST_RUN (test_scalars_round_trip);
    TEST_RUN (test_scalar_encodings);
    TEST_RUN (test_real_is_float64);
    TEST_RUN (test_int64_extremes);
    TEST_RUN (test_string_with_nul);
    TEST_RUN (test_request_bytes);
    TEST_RUN (test_key_order_kept);
    TEST_RUN (test_nested_round_trip);
    TEST_RUN (test_large_containers);
    TEST_RUN (test_refuse_bin_and_ext);
    TEST_RUN (test_refuse_big_uint64);
    TEST_RUN (test_refuse_bad_keys);
    TEST_RUN (test_refuse_bad_values);
    TEST_RUN (test_refuse_trailing_bytes);
    TEST_RUN (test_refuse_truncated);
    TEST_RUN (test_refuse_too_deep_to_encode);
    TEST_RUN (test_small_errbuf);
    return TEST_DONE ();
}
