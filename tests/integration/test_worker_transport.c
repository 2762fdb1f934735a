/*  Integration: what arrives from the network -- REQ, DEALER and proxied
    envelopes, pipelining, frame and size limits, garbage, overload, and
    peers that vanish. The worker must answer or drop, never crash or hang. */

#include "proto_json.h"
#include "testing.h"
#include "harness_files.h"
#include "harness_json.h"
#include "harness_wire.h"
#include "worker_harness.h"

#include <sqlite3.h>
#include <stdlib.h>

#define OPS(...) "{\"v\":1,\"ops\":[" __VA_ARGS__ "]}"

/*  The tests that need no special flags get a worker of their own each, so
    one that leaves it jammed or dead fails alone. The memory ceiling is
    test_worker_limits' subject; here it is set out of the way, so that the
    peer that never reads (which pins ~120 MB of replies, more under
    AddressSanitizer) is about dropped replies, not about refusals near the
    limit. The tests that need other flags start and stop their own. */
typedef struct {
    harness_t *worker;
} fixture_t;

static fixture_t *
s_setup (void)
{
    fixture_t *f = calloc (1, sizeof *f);
    if (!f)
        return NULL;
    f->worker = harness_start ("--sync", "normal", "--max-memory", "8G", NULL);
    if (!f->worker) {
        free (f);
        return NULL;
    }
    return f;
}

/*  The worker must stop cleanly after every test: a crash or a non-zero
    exit fails the test that caused it. */
static void
s_teardown (fixture_t **f_p)
{
    fixture_t *f = *f_p;
    if (TEST_FAILING ())
        harness_dump_log (f->worker);
    CHECK_INT (harness_stop (&f->worker, false), 0);
    free (f);
    *f_p = NULL;
}

/*  Encode JSON text as a msgpack frame. */
static zframe_t *
s_body (const char *json_text)
{
    json_t *json = json_loads (json_text, 0, NULL);
    char *data = NULL;
    size_t size = 0;
    if (!json || proto_json_to_msgpack (json, &data, &size, NULL, 0))
        abort ();
    json_decref (json);
    zframe_t *frame = zframe_new (data, size);
    free (data);
    return frame;
}

static json_t *
s_decode_frame (zframe_t *frame)
{
    return frame? proto_json_from_msgpack (zframe_data (frame), zframe_size (frame), NULL, 0): NULL;
}

/*  Receive one multipart reply: returns it, or NULL on timeout. */
static zmsg_t *
s_recv (zsock_t *socket)
{
    return zmsg_recv (socket);
}

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

static void
test_dealer_pipelined_without_delimiter (fixture_t *f)
{
    harness_t *worker = f->worker;
    zsock_t *dealer = harness_dealer (worker);
    enum { COUNT = 500 };
    for (int n = 0; n < COUNT; n++) {
        char text [200];
        snprintf (text, sizeof (text), "{\"v\":1,\"id\":%d,\"ops\":[{\"op\":\"sys.ping\"}]}", n);
        zframe_t *body = s_body (text);
        zframe_send (&body, dealer, 0);
    }
    bool seen [COUNT] = { false };
    int replies = 0;
    for (int n = 0; n < COUNT; n++) {
        zmsg_t *msg = s_recv (dealer);
        if (!msg)
            break;
        CHECK_INT (zmsg_size (msg), 1);         /* no envelope came, none goes back */
        zframe_t *frame = zmsg_first (msg);
        json_t *reply = s_decode_frame (frame);
        long long id = harness_int (reply, "id");
        CHECK (id >= 0 && id < COUNT && !seen [id]);
        if (id >= 0 && id < COUNT)
            seen [id] = true;
        replies++;
        json_decref (reply);
        zmsg_destroy (&msg);
    }
    CHECK_INT (replies, COUNT);
    zsock_destroy (&dealer);
}

static void
test_envelopes_come_back_unchanged (fixture_t *f)
{
    harness_t *worker = f->worker;
    zsock_t *dealer = harness_dealer (worker);
    /*  As a REQ peer (empty delimiter), and as a client behind a proxy
        (extra routing frames before the delimiter). */
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "hop-1");
    zmsg_addstr (msg, "hop-2");
    zmsg_addstr (msg, "");
    zframe_t *body = s_body ("{\"v\":1,\"id\":\"proxied\",\"ops\":[{\"op\":\"sys.ping\"}]}");
    zmsg_append (msg, &body);
    zmsg_send (&msg, dealer);
    msg = s_recv (dealer);
    CHECK (msg && zmsg_size (msg) == 4);
    if (msg && zmsg_size (msg) == 4) {
        char *hop1 = zmsg_popstr (msg), *hop2 = zmsg_popstr (msg), *empty = zmsg_popstr (msg);
        CHECK_STR (hop1, "hop-1");
        CHECK_STR (hop2, "hop-2");
        CHECK_STR (empty, "");
        zstr_free (&hop1);
        zstr_free (&hop2);
        zstr_free (&empty);
        zframe_t *frame = zmsg_pop (msg);
        json_t *reply = s_decode_frame (frame);
        CHECK_STR (harness_str (reply, "id"), "proxied");
        json_decref (reply);
        zframe_destroy (&frame);
    }
    zmsg_destroy (&msg);
    zsock_destroy (&dealer);
}

/*  Send `extra` frames of envelope, then a ping body; return the reply's
    frames. */
static zmsg_t *
s_send_with_envelope (zsock_t *dealer, int extra)
{
    zmsg_t *msg = zmsg_new ();
    for (int n = 0; n < extra; n++)
        zmsg_addstr (msg, "x");
    zframe_t *body = s_body (OPS ("{\"op\":\"sys.ping\"}"));
    zmsg_append (msg, &body);
    zmsg_send (&msg, dealer);
    return s_recv (dealer);
}

static void
test_too_many_frames (fixture_t *f)
{
    harness_t *worker = f->worker;
    zsock_t *dealer = harness_dealer (worker);
    /*  16 frames from the peer (15 envelope + body) are fine, and the
        envelope comes back whole... */
    zmsg_t *msg = s_send_with_envelope (dealer, 15);
    CHECK (msg && zmsg_size (msg) == 16);
    if (msg) {
        json_t *reply = s_decode_frame (zmsg_last (msg));
        CHECK_INT (harness_bool (reply, "ok"), 1);
        json_decref (reply);
    }
    zmsg_destroy (&msg);
    /*  ...17 are a protocol error. */
    msg = s_send_with_envelope (dealer, 16);
    CHECK (msg != NULL);
    if (msg) {
        json_t *reply = s_decode_frame (zmsg_last (msg));
        CHECK_STR (harness_str (reply, "error.class"), "protocol");
        CHECK_STR (harness_str (reply, "error.code"), "TOO_MANY_FRAMES");
        json_decref (reply);
    }
    zmsg_destroy (&msg);
    zsock_destroy (&dealer);
}

static void
test_size_limits (void)
{
    harness_t *worker = harness_start ("--max-msg-bytes", "1000", "--max-ops", "3", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    /*  Frames each under the limit but together over it: too_large. */
    zsock_t *dealer = harness_dealer (worker);
    char filler [700];
    memset (filler, 'f', sizeof (filler));
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, filler, sizeof (filler));
    zmsg_addmem (msg, filler, sizeof (filler));
    zmsg_send (&msg, dealer);
    msg = s_recv (dealer);
    CHECK (msg != NULL);
    if (msg) {
        json_t *reply = s_decode_frame (zmsg_last (msg));
        CHECK_STR (harness_str (reply, "error.class"), "too_large");
        CHECK_STR (harness_str (reply, "error.code"), "MESSAGE_TOO_LARGE");
        CHECK_INT (harness_bool (reply, "error.retryable"), 0);
        json_decref (reply);
    }
    zmsg_destroy (&msg);

    /*  More ops than --max-ops: too_large. */
    zsock_t *req = harness_req (worker);
    json_t *reply = harness_call (req, OPS ("{\"op\":\"sys.ping\"},{\"op\":\"sys.ping\"},{\"op\":\"sys.ping\"},{\"op\":\"sys.ping\"}"));
    CHECK_STR (harness_str (reply, "error.code"), "TOO_MANY_OPS");
    json_decref (reply);

    /*  One frame over the limit: ZeroMQ drops it and disconnects that
        peer; nobody else notices. */
    char big [2000];
    memset (big, 'b', sizeof (big));
    zsock_set_rcvtimeo (dealer, 300);
    zmq_send (zsock_resolve (dealer), big, sizeof (big), 0);
    msg = s_recv (dealer);
    CHECK (msg == NULL);
    zmsg_destroy (&msg);
    reply = harness_call (req, OPS ("{\"op\":\"sys.ping\"}"));
    CHECK_INT (harness_bool (reply, "ok"), 1);
    json_decref (reply);
    zsock_destroy (&req);
    zsock_destroy (&dealer);
    CHECK_INT (harness_stop (&worker, false), 0);
}

static void
test_garbage_burst (fixture_t *f)
{
    harness_t *worker = f->worker;
    zsock_t *dealer = harness_dealer (worker);
    /*  Allocation bombs and damaged messages, then random bytes. */
    static const struct { const char *bytes; size_t size; } bombs [] = {
        { "\xdd\xff\xff\xff\xff", 5 },
        { "\xdf\xff\xff\xff\xff", 5 },
        { "\xdb\xff\xff\xff\xff", 5 },
        { "\x82\xa1v\x01\xa3ops\xdd\xff\xff\xff\xff\x80", 13 },
        { "\x82\xa1v\x01\xa3ops\xdd\x00\x01\x00\x00\xdd\x00\x01\x00\x00", 17 },
        { "\x81\xa1v", 3 },
        { "", 0 },
    };
    /*  Sent in windows well below the socket HWM (1000): a client that
        lets more replies pile up than that loses them, by design. */
    int sent = 0, replies = 0, refused = 0;
    srand (42);
    for (int window = 0; window < 5; window++) {
        int in_window = 0;
        if (window == 0) {
            for (size_t n = 0; n < sizeof (bombs) / sizeof (bombs [0]); n++, in_window++)
                zmq_send (zsock_resolve (dealer), bombs [n].bytes, bombs [n].size, 0);
            /*  Deep nesting: 10 000 array headers. */
            char deep [10000];
            memset (deep, 0x91, sizeof (deep));
            zmq_send (zsock_resolve (dealer), deep, sizeof (deep), 0);
            in_window++;
        }
        for (int n = 0; n < 400; n++, in_window++) {
            char noise [256];
            size_t size = (size_t) (rand () % (int) sizeof (noise));
            for (size_t i = 0; i < size; i++)
                noise [i] = (char) (rand () & 0xff);
            /*  Half the noise starts like a request map, to get deeper in. */
            if (n % 2 && size > 8)
                memcpy (noise, "\x83\xa1v\x01\xa3ops\x91", 8);
            zmq_send (zsock_resolve (dealer), noise, size, 0);
        }
        sent += in_window;
        for (int n = 0; n < in_window; n++) {
            zmsg_t *msg = s_recv (dealer);
            if (!msg)
                break;
            json_t *reply = s_decode_frame (zmsg_last (msg));
            replies++;
            const char *klass = harness_str (reply, "error.class");
            if (klass && (strcmp (klass, "protocol") == 0 || strcmp (klass, "invalid") == 0))
                refused++;
            if (window == 0 && n < 8)
                CHECK_STR (klass, "protocol");
            json_decref (reply);
            zmsg_destroy (&msg);
        }
    }
    CHECK_INT (replies, sent);
    CHECK_INT (refused, sent);
    CHECK (s_ping_ok (worker));
    zsock_destroy (&dealer);
}

static void
test_overloaded (void)
{
    harness_t *worker = harness_start ("--max-queue", "1", "--sync", "normal", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    /*  Big batches sent without waiting: the writer cannot keep up, so
        past one waiting batch the front end answers `overloaded`. */
    zsock_t *dealer = harness_dealer (worker);
    char *text = malloc (200000);
    size_t size = (size_t) sprintf (text, "{\"v\":1,\"ops\":[");
    for (int n = 0; n < 2000; n++)
        size += (size_t) sprintf (text + size, "%s{\"op\":\"txn.create\",\"amount\":%d,\"occurred_at\":\"2025-01-01T00:00:00Z\"}",
                                  n? ",": "", n);
    sprintf (text + size, "]}");
    enum { BATCHES = 30 };
    for (int n = 0; n < BATCHES; n++) {
        zframe_t *body = s_body (text);
        zframe_send (&body, dealer, 0);
    }
    free (text);
    int ok = 0, overloaded = 0, other = 0;
    zsock_set_rcvtimeo (dealer, 30000);
    for (int n = 0; n < BATCHES; n++) {
        zmsg_t *msg = s_recv (dealer);
        if (!msg)
            break;
        json_t *reply = s_decode_frame (zmsg_last (msg));
        if (harness_bool (reply, "ok") == 1)
            ok++;
        else
        if (harness_str (reply, "error.class") && strcmp (harness_str (reply, "error.class"), "overloaded") == 0) {
            overloaded++;
            CHECK_INT (harness_bool (reply, "error.retryable"), 1);
        }
        else
            other++;
        json_decref (reply);
        zmsg_destroy (&msg);
    }
    CHECK_INT (ok + overloaded, BATCHES);
    CHECK (ok >= 2);
    CHECK (overloaded >= 1);
    CHECK_INT (other, 0);
    /*  What was answered ok is there; what was refused is not. */
    zsock_t *req = harness_req (worker);
    json_t *reply = harness_call (req, OPS ("{\"op\":\"sys.stats\"}"));
    CHECK_INT (harness_int (reply, "results.0.stats.rows_changed"), 2000LL * ok);
    CHECK_INT (harness_int (reply, "results.0.stats.batches_failed.overloaded"), overloaded);
    json_decref (reply);
    zsock_destroy (&req);
    zsock_destroy (&dealer);
    CHECK_INT (harness_stop (&worker, false), 0);
}

static void
test_vanished_client_does_not_block (fixture_t *f)
{
    harness_t *worker = f->worker;
    /*  A client sends work and disappears, maybe before its request left,
        maybe before its reply came back. */
    for (int n = 0; n < 20; n++) {
        zsock_t *gone = harness_dealer (worker);
        zframe_t *body = s_body (OPS ("{\"op\":\"category.list\"},{\"op\":\"sys.stats\"}"));
        zframe_send (&body, gone, 0);
        zsock_destroy (&gone);
    }
    CHECK (s_ping_ok (worker));
}

static void
test_client_that_never_reads (fixture_t *f)
{
    harness_t *worker = f->worker;
    /*  500 categories with long names make every category.list reply ~60 KB. */
    zsock_t *req = harness_req (worker);
    for (int n = 0; n < 500; n++) {
        json_t *reply = harness_callf (req, OPS ("{\"op\":\"category.create\",\"name\":\"%0100d\"}"), n);
        json_decref (reply);
    }
    /*  2000 such replies cannot all be buffered (ROUTER HWM 1000 messages,
        the client's HWM 10, a few MB of TCP buffers), so the worker must
        drop some rather than block on this client. */
    zsock_t *deaf = zsock_new (ZMQ_DEALER);
    zsock_set_rcvhwm (deaf, 10);
    zsock_set_sndtimeo (deaf, 5000);
    zsock_connect (deaf, "%s", harness_endpoint (worker));
    zframe_t *body = s_body (OPS ("{\"op\":\"category.list\"}"));
    for (int n = 0; n < 2000; n++)
        zmq_send (zsock_resolve (deaf), zframe_data (body), zframe_size (body), 0);
    zframe_destroy (&body);

    /*  Meanwhile everyone else is answered -- served, or, while the deaf
        peer's 2000 reads keep the readers busy past --max-wait-ms,
        refused as overloaded (retryable) -- and the drops are counted. */
    long long dropped = 0;
    int64_t deadline = zclock_mono () + 20000;
    while (dropped < 1 && zclock_mono () < deadline) {
        json_t *reply = harness_call (req, OPS ("{\"op\":\"sys.stats\"}"));
        CHECK (reply != NULL);
        if (!reply)
            break;
        const char *klass = harness_str (reply, "error.class");
        CHECK (harness_bool (reply, "ok") == 1 || (klass && strcmp (klass, "overloaded") == 0));
        if (harness_bool (reply, "ok") == 1)
            dropped = harness_int (reply, "results.0.stats.replies_dropped");
        json_decref (reply);
    }
    CHECK (dropped >= 1);
    zsock_destroy (&deaf);
    zsock_destroy (&req);
    CHECK (s_ping_ok (worker));
}

/*  Send one request given as JSON text on dealer. */
static void
s_send (zsock_t *dealer, const char *json_text)
{
    zframe_t *body = s_body (json_text);
    zframe_send (&body, dealer, 0);
}

/*  The next reply on dealer as JSON (NULL on timeout). */
static json_t *
s_next_reply (zsock_t *dealer)
{
    zmsg_t *msg = s_recv (dealer);
    json_t *reply = msg? s_decode_frame (zmsg_last (msg)): NULL;
    zmsg_destroy (&msg);
    return reply;
}

static void
test_running_group_is_not_waiting (void)
{
    harness_t *worker = harness_start ("--max-queue", "2", "--busy-timeout-ms", "30000", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    /*  Batch A runs and waits for a lock another process holds. The ping
        sent after it is answered from inside that wait, so when its reply
        is in, A is running. */
    sqlite3 *lock;
    sqlite3_open (harness_db_path (worker), &lock);
    sqlite3_exec (lock, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    zsock_t *dealer = harness_dealer (worker);
    zsock_set_rcvtimeo (dealer, 20000);
#define CREATE "{\"v\":1,\"id\":%d,\"ops\":[{\"op\":\"txn.create\",\"amount\":%d," \
               "\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}"
    char text [300];
    snprintf (text, sizeof (text), CREATE, 1, 1);
    s_send (dealer, text);
    s_send (dealer, "{\"v\":1,\"id\":99,\"ops\":[{\"op\":\"sys.ping\"}]}");
    json_t *reply = s_next_reply (dealer);
    CHECK_INT (harness_int (reply, "id"), 99);
    json_decref (reply);
    /*  With A running, --max-queue 2 lets B and C wait and refuses D and E. */
    for (int n = 2; n <= 5; n++) {
        snprintf (text, sizeof (text), CREATE, n, n);
        s_send (dealer, text);
    }
    for (int n = 4; n <= 5; n++) {
        reply = s_next_reply (dealer);
        CHECK_INT (harness_int (reply, "id"), n);
        CHECK_STR (harness_str (reply, "error.class"), "overloaded");
        json_decref (reply);
    }
    sqlite3_exec (lock, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close (lock);
    int ok = 0;
    for (int n = 1; n <= 3; n++) {
        reply = s_next_reply (dealer);
        ok += harness_bool (reply, "ok") == 1 && harness_int (reply, "id") >= 1 && harness_int (reply, "id") <= 3;
        json_decref (reply);
    }
    CHECK_INT (ok, 3);
#undef CREATE
    CHECK_INT (harness_sql_int (harness_db_path (worker), "SELECT count (*) FROM txn"), 3);
    zsock_destroy (&dealer);
    CHECK_INT (harness_stop (&worker, false), 0);
}

static void
test_overloaded_by_ops_held (void)
{
    harness_t *worker = harness_start ("--busy-timeout-ms", "30000", "--max-wait-ms", "60000", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    /*  The writer is stuck on a lock another process holds, so every batch
        it takes stays decoded in memory. Batches of 10000 ops: ten (100000
        ops) are taken, and the rest are refused at once, however few
        batches that is, rather than held until memory runs out. */
    sqlite3 *lock;
    sqlite3_open (harness_db_path (worker), &lock);
    sqlite3_exec (lock, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    zsock_t *dealer = harness_dealer (worker);
    size_t capacity = 10000 * 80 + 64;
    char *text = malloc (capacity);
    size_t size = (size_t) snprintf (text, capacity, "{\"v\":1,\"ops\":[");
    for (int n = 0; n < 10000; n++)
        size += (size_t) snprintf (text + size, capacity - size, "%s{\"op\":\"txn.create\",\"amount\":%d,"
                                   "\"occurred_at\":\"2025-01-01T00:00:00Z\"}", n? ",": "", n);
    snprintf (text + size, capacity - size, "]}");
    enum { BATCHES = 30 };
    for (int n = 0; n < BATCHES; n++)
        s_send (dealer, text);
    free (text);
    /*  The refusals come while the lock is still held. */
    int overloaded = 0;
    zsock_set_rcvtimeo (dealer, 20000);
    while (overloaded < BATCHES - 10) {
        json_t *reply = s_next_reply (dealer);
        if (!reply)
            break;
        CHECK_STR (harness_str (reply, "error.class"), "overloaded");
        overloaded += harness_str (reply, "error.class") != NULL;
        json_decref (reply);
    }
    CHECK_INT (overloaded, BATCHES - 10);
    sqlite3_exec (lock, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close (lock);
    int ok = 0;
    for (int n = 0; n < 10; n++) {
        json_t *reply = s_next_reply (dealer);
        if (!reply)
            break;
        ok += harness_bool (reply, "ok") == 1;
        json_decref (reply);
    }
    CHECK_INT (ok, 10);
    CHECK_INT (harness_sql_int (harness_db_path (worker), "SELECT count (*) FROM txn"), 100000);
    zsock_destroy (&dealer);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  Read-only batches pipelined past --max-queue 1 with two readers: each
    read scans ten thousand rows for an amount none has, so the readers
    fall behind at once, and past one batch waiting for each reader the
    front end answers `overloaded` instead of queueing. Every batch is
    answered, most of them refused. */
static void
test_readers_queue_is_bounded (void)
{
    harness_t *worker = harness_start ("--max-queue", "1", "--readers", "2", "--max-wait-ms", "60000",
                                       "--sync", "normal", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    zsock_t *req = harness_req (worker);
    char *text = malloc (200000);
    for (int batch = 0; batch < 5; batch++) {
        size_t size = (size_t) sprintf (text, "{\"v\":1,\"ops\":[");
        for (int op = 0; op < 2000; op++)
            size += (size_t) sprintf (text + size, "%s{\"op\":\"txn.create\",\"amount\":1,"
                                      "\"occurred_at\":\"2025-01-01T00:00:00Z\"}", op? ",": "");
        sprintf (text + size, "]}");
        json_t *reply = harness_call (req, text);
        CHECK (reply && harness_bool (reply, "ok") == 1);
        json_decref (reply);
    }
    free (text);
    zsock_destroy (&req);
    enum { BATCHES = 500 };
    zsock_t *dealer = harness_dealer (worker);
    for (int n = 0; n < BATCHES; n++) {
        char query [200];
        snprintf (query, sizeof (query), "{\"v\":1,\"id\":%d,\"ops\":[{\"op\":\"txn.query\",\"min_amount\":2},"
                  "{\"op\":\"txn.query\",\"min_amount\":3}]}", n);
        s_send (dealer, query);
    }
    int ok = 0, refused = 0, other = 0;
    zsock_set_rcvtimeo (dealer, 20000);
    for (int n = 0; n < BATCHES; n++) {
        json_t *reply = s_next_reply (dealer);
        if (!reply)
            break;
        const char *message = harness_str (reply, "error.message");
        if (harness_bool (reply, "ok") == 1)
            ok++;
        else
        if (harness_bool (reply, "error.retryable") == 1 && message && strstr (message, "waiting for the readers"))
            refused++;
        else
            other++;
        json_decref (reply);
    }
    printf ("     %d of %d read batches run, %d refused\n", ok, BATCHES, refused);
    CHECK_INT (ok + refused, BATCHES);
    CHECK_INT (other, 0);
    CHECK (ok >= 2);
    CHECK (refused >= BATCHES / 2);
    zsock_destroy (&dealer);
    CHECK_INT (harness_stop (&worker, false), 0);
}

int
main (void)
{
    TEST_RUN_F (test_dealer_pipelined_without_delimiter, s_setup, s_teardown);
    TEST_RUN_F (test_envelopes_come_back_unchanged, s_setup, s_teardown);
    TEST_RUN_F (test_too_many_frames, s_setup, s_teardown);
    TEST_RUN_F (test_garbage_burst, s_setup, s_teardown);
    TEST_RUN_F (test_vanished_client_does_not_block, s_setup, s_teardown);
    TEST_RUN_F (test_client_that_never_reads, s_setup, s_teardown);
    TEST_RUN (test_size_limits);
    TEST_RUN (test_overloaded);
    TEST_RUN (test_overloaded_by_ops_held);
    TEST_RUN (test_readers_queue_is_bounded);
    TEST_RUN (test_running_group_is_not_waiting);
    return TEST_DONE ();
}
