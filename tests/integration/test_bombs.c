/*  Integration: allocation bombs and oversized messages against the real
    worker. Sizes declared far beyond the bytes present, chained container
    headers and nesting past the limit are refused as `protocol` before
    anything is allocated by them, so 10 000 of them leave the worker's peak
    RSS under 64 MiB. A message over --max-msg-bytes costs its sender the
    connection and nobody else anything. */

#include "proto_json.h"
#include "testing.h"
#include "harness_json.h"
#include "harness_wire.h"
#include "worker_harness.h"

#include <stdlib.h>

#define OPS(...) "{\"v\":1,\"ops\":[" __VA_ARGS__ "]}"

enum {
    BOMB_COUNT = 10000,
    WINDOW = 500,               /* in flight at once: well below the HWM of 1000 */
    RSS_LIMIT_KB = 64 * 1024,
    BOMB_MAX = 120000           /* bytes in the largest bomb */
};

static bool
s_ping_ok (harness_t *worker)
{
    zsock_t *req = harness_req (worker);
    json_t *reply = harness_call (req, OPS ("{\"op\":\"sys.ping\"}"));
    bool ok = reply && harness_bool (reply, "results.0.pong") == 1;
    json_decref (reply);
    zsock_destroy (&req);
    return ok;
}

static size_t
s_put (uint8_t *out, size_t at, const void *bytes, size_t size)
{
    memcpy (out + at, bytes, size);
    return at + size;
}

static size_t
s_put_be (uint8_t *out, size_t at, uint64_t value, int width)
{
    for (int n = width - 1; n >= 0; n--)
        out [at++] = (uint8_t) (value >> (8 * n));
    return at;
}

/*  The lie itself, variant `round` of kind `kind`, written at out [at].
    Returns the new end. */
static size_t
s_lie (uint8_t *out, size_t at, int kind, int round)
{
    uint32_t huge = ((uint32_t) rand () << 1) | 0x10000u;              /* 2^16 .. 2^32-2 */
    switch (kind) {
        case 0:  out [at++] = 0xdd; return s_put_be (out, at, huge, 4);    /* array32 */
        case 1:  out [at++] = 0xdf; return s_put_be (out, at, huge, 4);    /* map32 */
        case 2:  out [at++] = 0xdb; return s_put_be (out, at, huge, 4);    /* str32 */
        case 3:  out [at++] = 0xc6; return s_put_be (out, at, huge, 4);    /* bin32 */
        case 4:  out [at++] = 0xc9; at = s_put_be (out, at, huge, 4);      /* ext32 */
                 out [at++] = (uint8_t) (round & 0xff);
                 return at;
        case 5:  out [at++] = 0xdc; return s_put_be (out, at, 0xffff, 2);  /* array16 */
        case 6:  out [at++] = 0xde; return s_put_be (out, at, 0xffff, 2);  /* map16 */
        case 7:  out [at++] = 0xda; return s_put_be (out, at, 0xffff, 2);  /* str16 */
        case 8:  out [at++] = 0xc5; return s_put_be (out, at, 0xffff, 2);  /* bin16 */
        case 9:  out [at++] = 0xc8; at = s_put_be (out, at, 0xffff, 2);    /* ext16 */
                 out [at++] = 0xff;
                 return at;
        case 10: {                                                         /* array32 chain */
            int links = 2 + round % 2000;
            for (int n = 0; n < links; n++)
                at = s_put (out, at, "\xdd\x00\x01\x00\x00", 5);
            return at;
        }
        case 11: {                                                         /* map32 chain */
            int links = 2 + round % 2000;
            for (int n = 0; n < links; n++)
                at = s_put (out, at, "\xdf\x00\x01\x00\x00", 5);
            return at;
        }
        case 12: {                                                         /* arrays too deep */
            int depth = 33 + round % 3000;
            memset (out + at, 0x91, (size_t) depth);
            at += (size_t) depth;
            out [at++] = 0xc0;
            return at;
        }
        case 13: {                                                         /* maps too deep */
            int depth = 33 + round % 1000;
            for (int n = 0; n < depth; n++)
                at = s_put (out, at, "\x81\xa1k", 3);
            out [at++] = 0xc0;
            return at;
        }
        case 14: {                                                         /* 20 000-link chain, 100 KB */
            for (int n = 0; n < 20000; n++)
                at = s_put (out, at, "\xdd\x00\x01\x00\x00", 5);
            return at;
        }
        default: {                                                         /* 65+ keys in one map */
            int keys = 65 + round % 100;
            out [at++] = 0xde;
            at = s_put_be (out, at, (uint64_t) keys, 2);
            for (int n = 0; n < keys; n++) {
                char key [8];
                int len = snprintf (key, sizeof (key), "k%d", n);
                out [at++] = (uint8_t) (0xa0 | len);
                at = s_put (out, at, key, (size_t) len);
                out [at++] = 0xc0;
            }
            return at;
        }
    }
}

enum { LIE_KINDS = 16, PLACES = 5 };

/*  Bomb number n: a lie, bare or where a request would have a value, with
    a few bytes after it that do not make it true. */
static size_t
s_bomb (uint8_t *out, int n)
{
    int kind = n % LIE_KINDS;
    int place = (n / LIE_KINDS) % PLACES;
    int round = n / (LIE_KINDS * PLACES);
    if (kind == 14 && round % 20)
        kind = 10;              /* only one in 20 of the big chains: keep the run short */
    size_t at = 0;
    if (n % 50 == 49) {
        /*  Not a lie but the most the decoder allocates for one message:
            max_ops (10 000) ops, each a byte long (nil, so not an op). */
        static const char head [] = "\x82\xa1v\x01\xa3ops\xdc\x27\x10";
        at = s_put (out, at, head, sizeof (head) - 1);
        memset (out + at, 0xc0, 10000);
        return at + 10000;
    }
    static const char *heads [PLACES] = {
        "",                                                         /* bare */
        "\x82\xa1v\x01\xa3ops",                                     /* ops itself */
        ("\x82\xa1v\x01\xa3ops\x91\x82\xa2op\xaf" "category.create\xa4name"),  /* a field */
        "\x83\xa1v\x01\xa2id",                                      /* the id */
        "\x82\xa1v\x01",                                            /* a key */
    };
    at = s_put (out, at, heads [place], strlen (heads [place]));
    at = s_lie (out, at, kind, round);
    int tail = rand () % 32;
    for (int i = 0; i < tail; i++)
        out [at++] = (uint8_t) rand ();
    return at;
}

static void
test_bombs_refused_in_bounded_memory (void)
{
    harness_t *worker = harness_start ("--sync", "normal", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    long start_rss = harness_status_kb (worker, "VmRSS");
    long start_hwm = harness_status_kb (worker, "VmHWM");
    zsock_t *dealer = harness_dealer (worker);
    void *socket = zsock_resolve (dealer);
    uint8_t *bomb = malloc (BOMB_MAX);
    int sent = 0, replies = 0, protocol = 0;
    size_t bytes = 0;
    int64_t started = zclock_mono ();
    srand (7);
    while (sent < BOMB_COUNT && bomb) {
        int window = 0;
        for (; window < WINDOW && sent < BOMB_COUNT; window++, sent++) {
            size_t size = s_bomb (bomb, sent);
            if (zmq_send (socket, bomb, size, 0) != (int) size)
                break;
            bytes += size;
        }
        for (int n = 0; n < window; n++) {
            zmsg_t *msg = zmsg_recv (dealer);
            if (!msg)
                break;
            replies++;
            zframe_t *frame = zmsg_last (msg);
            json_t *reply = frame? proto_json_from_msgpack (zframe_data (frame), zframe_size (frame), NULL, 0): NULL;
            const char *klass = harness_str (reply, "error.class");
            if (klass && strcmp (klass, "protocol") == 0)
                protocol++;
            else
            if (replies - protocol <= 5)
                fprintf (stderr, "test_bombs: reply %d is not a protocol error: %s\n",
                         replies, klass? klass: "(no error class)");
            json_decref (reply);
            zmsg_destroy (&msg);
        }
        if (replies != sent)
            break;
    }
    int64_t elapsed = zclock_mono () - started;
    free (bomb);
    CHECK_INT (sent, BOMB_COUNT);
    CHECK_INT (replies, BOMB_COUNT);
    CHECK_INT (protocol, BOMB_COUNT);

    long peak = harness_status_kb (worker, "VmHWM");
    long rss = harness_status_kb (worker, "VmRSS");
    printf ("worker RSS: %ld KiB at start (peak %ld KiB); after %d bombs (%.1f MB) in %.1f s: %ld KiB,"
            " peak %ld KiB (limit %d KiB)\n", start_rss, start_hwm, sent, bytes / 1e6, elapsed / 1000.0,
            rss, peak, RSS_LIMIT_KB);
    CHECK (peak > 0);
    /*  ASan's shadow memory and quarantine, or valgrind's own memory
        (LEDGER_TEST_WRAPPER), are not the worker's. */
#if defined (__SANITIZE_ADDRESS__)
    bool measurable = false;
#else
    bool measurable = getenv ("LEDGER_TEST_WRAPPER") == NULL;
#endif
    if (measurable)
        CHECK (peak < RSS_LIMIT_KB);
    else
        printf ("worker RSS limit not checked: the worker runs under ASan or a wrapper\n");
    CHECK (s_ping_ok (worker));
    zsock_destroy (&dealer);
    if (t_checks_failed)
        harness_dump_log (worker);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  A monitor on socket that reports its disconnections. */
static zsock_t *
s_monitor (zsock_t *socket, const char *name)
{
    char endpoint [64];
    snprintf (endpoint, sizeof (endpoint), "inproc://test-bombs-monitor-%s", name);
    if (zmq_socket_monitor (zsock_resolve (socket), endpoint, ZMQ_EVENT_DISCONNECTED))
        return NULL;
    zsock_t *monitor = zsock_new (ZMQ_PAIR);
    if (monitor && zsock_connect (monitor, "%s", endpoint)) {
        zsock_destroy (&monitor);
        return NULL;
    }
    return monitor;
}

/*  True if monitor reports a disconnection within timeout_ms. */
static bool
s_disconnected (zsock_t *monitor, int timeout_ms)
{
    zsock_set_rcvtimeo (monitor, timeout_ms);
    zmsg_t *event = zmsg_recv (monitor);
    bool seen = false;
    if (event && zframe_size (zmsg_first (event)) >= 2) {
        uint16_t code;
        memcpy (&code, zframe_data (zmsg_first (event)), 2);
        seen = code == ZMQ_EVENT_DISCONNECTED;
    }
    zmsg_destroy (&event);
    return seen;
}

static int
s_compare_ms (const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

static void
test_oversized_message_disconnects_only_its_sender (void)
{
    harness_t *worker = harness_start ("--max-msg-bytes", "65536", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    zsock_t *a = harness_dealer (worker);
    zsock_t *b = harness_dealer (worker);
    zsock_t *monitor_a = s_monitor (a, "a");
    zsock_t *monitor_b = s_monitor (b, "b");
    CHECK (monitor_a && monitor_b);
    zframe_t *ping = NULL;
    {
        json_t *json = json_loads (OPS ("{\"op\":\"sys.ping\"}"), 0, NULL);
        char *data = NULL;
        size_t size = 0;
        if (json && proto_json_to_msgpack (json, &data, &size, NULL, 0) == 0)
            ping = zframe_new (data, size);
        free (data);
        json_decref (json);
    }
    CHECK (ping != NULL);
    if (!ping || !monitor_a || !monitor_b)
        goto done;

    /*  Both clients are connected and served before A misbehaves. */
    zsock_t *clients [2] = { a, b };
    for (int n = 0; n < 2; n++) {
        zmq_send (zsock_resolve (clients [n]), zframe_data (ping), zframe_size (ping), 0);
        zmsg_t *reply = zmsg_recv (clients [n]);
        CHECK (reply != NULL);
        zmsg_destroy (&reply);
    }

    /*  B pings 200 times, one at a time; after the 100th, A sends 100 KB. */
    enum { PINGS = 200 };
    int64_t latency [PINGS];
    int answered = 0;
    char *big = malloc (100 * 1024);
    memset (big, 0x90, 100 * 1024);
    for (int n = 0; n < PINGS; n++) {
        if (n == PINGS / 2)
            CHECK_INT (zmq_send (zsock_resolve (a), big, 100 * 1024, 0), 100 * 1024);
        int64_t sent_at = zclock_usecs ();
        zmq_send (zsock_resolve (b), zframe_data (ping), zframe_size (ping), 0);
        zmsg_t *reply = zmsg_recv (b);
        latency [n] = zclock_usecs () - sent_at;
        if (!reply)
            break;
        zframe_t *frame = zmsg_last (reply);
        json_t *json = proto_json_from_msgpack (zframe_data (frame), zframe_size (frame), NULL, 0);
        if (harness_bool (json, "results.0.pong") == 1)
            answered++;
        json_decref (json);
        zmsg_destroy (&reply);
    }
    free (big);
    CHECK_INT (answered, PINGS);

    /*  A's connection was dropped, and nothing ever comes back to it. */
    CHECK (s_disconnected (monitor_a, 2000));
    zsock_set_rcvtimeo (a, 500);
    zmsg_t *to_a = zmsg_recv (a);
    CHECK (to_a == NULL);
    zmsg_destroy (&to_a);
    /*  B kept its connection throughout. */
    CHECK (!s_disconnected (monitor_b, 100));

    if (answered == PINGS) {
        int64_t before [PINGS / 2], after [PINGS / 2];
        memcpy (before, latency, sizeof (before));
        memcpy (after, latency + PINGS / 2, sizeof (after));
        qsort (before, PINGS / 2, sizeof (int64_t), s_compare_ms);
        qsort (after, PINGS / 2, sizeof (int64_t), s_compare_ms);
        printf ("client B ping latency: before A's 100 KB frame median %" PRId64 " us, max %" PRId64
                " us; after: median %" PRId64 " us, max %" PRId64 " us\n",
                before [PINGS / 4], before [PINGS / 2 - 1], after [PINGS / 4], after [PINGS / 2 - 1]);
        /*  Generous: a shared CI machine stalls now and then, but a worker
            busy with A's frame would show as seconds. */
        CHECK (after [PINGS / 2 - 1] < 1000000);
    }
    CHECK (s_ping_ok (worker));

done:
    zframe_destroy (&ping);
    zsock_destroy (&monitor_a);
    zsock_destroy (&monitor_b);
    zsock_destroy (&a);
    zsock_destroy (&b);
    if (t_checks_failed)
        harness_dump_log (worker);
    CHECK_INT (harness_stop (&worker, false), 0);
}

int
main (void)
{
    TEST_RUN (test_bombs_refused_in_bounded_memory);
    TEST_RUN (test_oversized_message_disconnects_only_its_sender);
    return TEST_DONE ();
}
