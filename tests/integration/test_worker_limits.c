/*  Integration: the worker's limits under hostile or heavy use -- memory
    held for peers that send without end or never read, the open-files
    limit, batches that waited too long, shutdown with a queue, and the
    endpoints and options a user gets wrong. Each test starts its own
    worker with the flags it needs. */

#include "proto_json.h"
#include "testing.h"
#include "harness_files.h"
#include "harness_json.h"
#include "harness_wire.h"
#include "worker_harness.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*  Resident sizes mean nothing under AddressSanitizer (shadow memory,
    quarantine): the memory tests run in the plain build only. */
#if defined (__SANITIZE_ADDRESS__)
#   define MEMORY_TESTS 0
#else
#   define MEMORY_TESTS 1
#endif

#define CREATE "{\"v\":1,\"id\":%d,\"ops\":[{\"op\":\"txn.create\",\"amount\":%d," \
               "\"occurred_at\":\"2025-01-01T00:00:00Z\"}]}"

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

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
    zmsg_t *msg = zmsg_recv (dealer);
    zframe_t *last = msg? zmsg_last (msg): NULL;
    json_t *reply = last? proto_json_from_msgpack (zframe_data (last), zframe_size (last), NULL, 0): NULL;
    zmsg_destroy (&msg);
    return reply;
}

static bool
s_ping_ok (harness_t *worker)
{
    zsock_t *req = harness_req (worker);
    json_t *reply = harness_call (req, "{\"v\":1,\"ops\":[{\"op\":\"sys.ping\"}]}");
    bool ok = reply && harness_bool (reply, "results.0.pong") == 1;
    json_decref (reply);
    zsock_destroy (&req);
    return ok;
}

/*  A connection of our own that holds the database's write lock, so the
    worker's writer waits on it (up to its --busy-timeout-ms). */
static sqlite3 *
s_hold_write_lock (harness_t *worker)
{
    sqlite3 *lock = NULL;
    sqlite3_open (harness_db_path (worker), &lock);
    CHECK_INT (sqlite3_exec (lock, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    return lock;
}

static void
s_release (sqlite3 **lock_p)
{
    sqlite3_exec (*lock_p, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close (*lock_p);
    *lock_p = NULL;
}

/*  Wait up to timeout_ms for the worker's log to say text. */
static bool
s_log_soon (harness_t *worker, const char *text, int timeout_ms)
{
    int64_t deadline = s_now_ms () + timeout_ms;
    while (!harness_log_says (worker, text))
        if (s_now_ms () > deadline)
            return false;
        else
            zclock_sleep (20);
    return true;
}

/*  A peer sends one multipart message that never ends: libzmq shows the
    worker nothing until the last frame, and holds every frame (64 bytes
    each, even empty) meanwhile. The worker must stay near --max-memory,
    disconnect that peer, and keep serving everyone else. */
static void
test_endless_multipart_is_cut_off (void)
{
    if (!MEMORY_TESTS)
        return;
    harness_t *worker = harness_start ("--max-memory", "64M", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    int fd = harness_zmtp_connect (harness_endpoint (worker));
    CHECK (fd >= 0);
    /*  Empty frames with MORE set, 2 bytes each on the wire, up to 8 M of
        them (over 500 MB in a worker that kept them), until the worker
        closes the connection. */
    uint8_t frames [65536];
    for (size_t n = 0; n < sizeof (frames); n += 2) {
        frames [n] = 0x01;
        frames [n + 1] = 0;
    }
    long peak_kb = 0;
    bool cut = false;
    for (int chunk = 0; chunk < 256 && fd >= 0 && !cut; chunk++) {
        for (size_t sent = 0; sent < sizeof (frames) && !cut; ) {
            ssize_t size = send (fd, frames + sent, sizeof (frames) - sent, MSG_NOSIGNAL);
            if (size <= 0)
                cut = true;
            else
                sent += (size_t) size;
        }
        long rss = harness_status_kb (worker, "VmRSS");
        peak_kb = rss > peak_kb? rss: peak_kb;
    }
    fprintf (stderr, "endless multipart: worker peak RSS %ld KiB with --max-memory 64M; connection %s\n",
             peak_kb, cut? "cut by the worker": "still open");
    CHECK (cut);
    CHECK (harness_log_says (worker, "disconnected the connection holding the most"));
    CHECK (peak_kb > 0 && peak_kb < 100 * 1024);
    CHECK (s_ping_ok (worker));
    if (fd >= 0)
        close (fd);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  A peer asks for big pages and never reads them: each reply waits in
    libzmq's queue for it (up to 1000). The worker stays near its limit:
    it refuses new requests past 80 % and disconnects the peer past 100 %. */
static void
test_peer_that_never_reads_big_replies (void)
{
    if (!MEMORY_TESTS)
        return;
    harness_t *worker = harness_start ("--max-memory", "64M", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    /*  300 rows with 1000-byte descriptions: a page of all of them is
        about 330 KB. */
    zsock_t *req = harness_req (worker);
    char description [1001];
    memset (description, 'd', 1000);
    description [1000] = 0;
    for (int n = 0; n < 300; n++) {
        json_t *reply = harness_callf (req, "{\"v\":1,\"ops\":[{\"op\":\"txn.create\",\"amount\":%d,"
                                       "\"occurred_at\":\"2025-01-01T00:00:00Z\",\"description\":\"%s\"}]}",
                                       n + 1, description);
        CHECK (harness_bool (reply, "ok") == 1);
        json_decref (reply);
    }
    zsock_destroy (&req);
    void *ctx = zsys_init ();
    void *dealer = zmq_socket (ctx, ZMQ_DEALER);
    int zero = 0, one = 1, small = 4096;
    zmq_setsockopt (dealer, ZMQ_LINGER, &zero, sizeof (zero));
    zmq_setsockopt (dealer, ZMQ_RCVHWM, &one, sizeof (one));
    zmq_setsockopt (dealer, ZMQ_RCVBUF, &small, sizeof (small));
    zmq_connect (dealer, harness_endpoint (worker));
    zframe_t *query = s_body ("{\"v\":1,\"ops\":[{\"op\":\"txn.query\",\"limit\":300}]}");
    long peak_kb = 0;
    for (int n = 0; n < 1500; n++) {
        zmq_send (dealer, zframe_data (query), zframe_size (query), 0);
        if (n % 50 == 0) {
            long rss = harness_status_kb (worker, "VmRSS");
            peak_kb = rss > peak_kb? rss: peak_kb;
        }
    }
    zframe_destroy (&query);
    CHECK (s_log_soon (worker, "memory:", 10000));
    for (int n = 0; n < 100; n++) {
        long rss = harness_status_kb (worker, "VmRSS");
        peak_kb = rss > peak_kb? rss: peak_kb;
        zclock_sleep (20);
    }
    fprintf (stderr, "never-reading peer: worker peak RSS %ld KiB with --max-memory 64M\n", peak_kb);
    CHECK (peak_kb > 0 && peak_kb < 100 * 1024);
    CHECK (s_ping_ok (worker));
    zmq_close (dealer);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  Send a write then a ping from every dealer, and wait for every pong:
    a peer's messages are taken in order, so then every write is in the
    worker. Returns the pongs received. */
static int
s_write_and_ping (zsock_t **dealers, int count, int first_id)
{
    char text [300];
    for (int n = 0; n < count; n++) {
        snprintf (text, sizeof (text), CREATE, first_id + n, n + 1);
        s_send (dealers [n], text);
        s_send (dealers [n], "{\"v\":1,\"ops\":[{\"op\":\"sys.ping\"}]}");
    }
    int pongs = 0;
    for (int n = 0; n < count; n++) {
        json_t *pong = s_next_reply (dealers [n]);
        pongs += harness_bool (pong, "results.0.pong") == 1;
        json_decref (pong);
    }
    return pongs;
}

/*  2000 peers with requests waiting for a writer stuck on a lock: a
    waiting request costs about its own size, not the 8 KB buffer libzmq
    read it into (which, kept alive by it, makes the peer's next read
    take another). */
static void
test_queued_request_costs_its_size (void)
{
    if (!MEMORY_TESTS)
        return;
    enum { PEERS = 2000 };
    harness_t *worker = harness_start ("--busy-timeout-ms", "60000", "--max-wait-ms", "60000", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    sqlite3 *lock = s_hold_write_lock (worker);
    zsock_t **dealers = calloc (PEERS, sizeof (zsock_t *));
    for (int n = 0; n < PEERS; n++)
        dealers [n] = harness_dealer (worker);
    /*  The first write of each peer also sets up its connection. */
    CHECK_INT (s_write_and_ping (dealers, PEERS, 0), PEERS);
    long before = harness_status_kb (worker, "VmRSS");
    CHECK_INT (s_write_and_ping (dealers, PEERS, PEERS), PEERS);
    long after = harness_status_kb (worker, "VmRSS");
    fprintf (stderr, "queued requests: %d more took %ld KiB (%ld bytes each)\n", PEERS, after - before,
             (after - before) * 1024 / PEERS);
    CHECK ((after - before) * 1024 / PEERS < 10000);
    s_release (&lock);
    int ok = 0;
    for (int n = 0; n < PEERS; n++) {
        zsock_set_rcvtimeo (dealers [n], 30000);
        for (int k = 0; k < 2; k++) {
            json_t *reply = s_next_reply (dealers [n]);
            ok += harness_bool (reply, "ok") == 1;
            json_decref (reply);
        }
        zsock_destroy (&dealers [n]);
    }
    CHECK_INT (ok, 2 * PEERS);
    free (dealers);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  The worker's CPU seconds so far, from /proc/PID/stat. */
static double
s_cpu_s (harness_t *worker)
{
    char path [64], line [1024];
    snprintf (path, sizeof (path), "/proc/%d/stat", (int) harness_pid (worker));
    FILE *file = fopen (path, "r");
    double seconds = -1;
    if (file && fgets (line, sizeof (line), file)) {
        char *after = strrchr (line, ')');
        unsigned long utime = 0, stime = 0;
        if (after && sscanf (after + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) == 2)
            seconds = (double) (utime + stime) / (double) sysconf (_SC_CLK_TCK);
    }
    if (file)
        fclose (file);
    return seconds;
}

/*  Started with 256 open files and no way to raise it, the worker keeps
    its connections under the limit: the ones past its capacity are closed
    at once and logged, its I/O thread does not spin, and the clients it
    took keep working. */
static void
test_open_files_limit (void)
{
    enum { CLIENTS = 400 };
    char *saved = getenv ("LEDGER_TEST_WRAPPER")? strdup (getenv ("LEDGER_TEST_WRAPPER")): NULL;
    setenv ("LEDGER_TEST_WRAPPER", "prlimit --nofile=256:256", 1);
    harness_t *worker = harness_start (NULL);
    if (saved)
        setenv ("LEDGER_TEST_WRAPPER", saved, 1);
    else
        unsetenv ("LEDGER_TEST_WRAPPER");
    free (saved);
    CHECK (worker != NULL);
    if (!worker)
        return;
    CHECK (harness_log_says (worker, "connection capacity"));
    zsock_t *early = harness_dealer (worker);
    s_send (early, "{\"v\":1,\"id\":1,\"ops\":[{\"op\":\"sys.ping\"}]}");
    json_t *reply = s_next_reply (early);
    CHECK_INT (harness_int (reply, "id"), 1);
    json_decref (reply);
    zsock_t **clients = calloc (CLIENTS, sizeof (zsock_t *));
    for (int n = 0; n < CLIENTS; n++) {
        clients [n] = harness_dealer (worker);
        s_send (clients [n], "{\"v\":1,\"id\":2,\"ops\":[{\"op\":\"sys.ping\"}]}");
    }
    CHECK (s_log_soon (worker, "past the connection capacity", 10000));
    /*  Some were served, and not all. */
    int answered = 0;
    for (int n = 0; n < CLIENTS; n++) {
        zsock_set_rcvtimeo (clients [n], n < 100? 5000: 50);
        json_t *pong = s_next_reply (clients [n]);
        answered += pong != NULL;
        json_decref (pong);
    }
    fprintf (stderr, "open-files limit 256: %d of %d clients answered\n", answered, CLIENTS);
    CHECK (answered > 0 && answered < CLIENTS);
    /*  With everyone still trying to connect, the worker is not spinning:
        a second of it costs well under a second of CPU. */
    double cpu_before = s_cpu_s (worker);
    zclock_sleep (1000);
    double cpu = s_cpu_s (worker) - cpu_before;
    fprintf (stderr, "open-files limit 256: %.2f s CPU in 1 s at the limit\n", cpu);
    CHECK (cpu_before >= 0 && cpu < 0.5);
    /*  The first client still works. */
    s_send (early, "{\"v\":1,\"id\":3,\"ops\":[{\"op\":\"sys.ping\"}]}");
    reply = s_next_reply (early);
    CHECK_INT (harness_int (reply, "id"), 3);
    json_decref (reply);
    for (int n = 0; n < CLIENTS; n++)
        zsock_destroy (&clients [n]);
    free (clients);
    zsock_destroy (&early);
    /*  Once they are gone, a newcomer is served. */
    int64_t deadline = s_now_ms () + 10000;
    bool served = false;
    while (!served && s_now_ms () < deadline)
        served = s_ping_ok (worker);
    CHECK (served);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  SIGTERM with 256 batches queued behind a writer stuck on a lock: the
    batches not started are answered at once (retryable), the running group
    gets its answer within one busy timeout, and the worker exits. */
static void
test_shutdown_answers_the_queue_at_once (void)
{
    enum { BATCHES = 256 };
    harness_t *worker = harness_start ("--busy-timeout-ms", "2000", "--group-max", "16", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    sqlite3 *lock = s_hold_write_lock (worker);
    zsock_t *dealer = harness_dealer (worker);
    zsock_set_rcvtimeo (dealer, 20000);
    char text [300];
    for (int n = 0; n < BATCHES; n++) {
        snprintf (text, sizeof (text), CREATE, n, n + 1);
        s_send (dealer, text);
    }
    /*  A read answered from inside the writer's wait: every batch sent
        before it has been taken. */
    s_send (dealer, "{\"v\":1,\"id\":9999,\"ops\":[{\"op\":\"sys.ping\"}]}");
    int shutting = 0, busy = 0, other = 0, answered = 0;
    bool pinged = false;
    while (!pinged) {
        json_t *reply = s_next_reply (dealer);
        CHECK (reply != NULL);
        if (!reply)
            break;
        if (harness_int (reply, "id") == 9999)
            pinged = true;
        else {
            answered++;
            other++;
        }
        json_decref (reply);
    }
    int64_t signalled = s_now_ms ();
    harness_signal (worker, SIGTERM);
    while (answered < BATCHES) {
        json_t *reply = s_next_reply (dealer);
        if (!reply)
            break;
        answered++;
        const char *code = harness_str (reply, "error.code");
        if (code && strcmp (code, "SHUTTING_DOWN") == 0) {
            CHECK_STR (harness_str (reply, "error.class"), "overloaded");
            CHECK (harness_bool (reply, "error.retryable") == 1);
            shutting++;
        }
        else
        if (code && strncmp (code, "SQLITE_BUSY", 11) == 0)
            busy++;
        else
            other++;
        json_decref (reply);
    }
    int status = harness_wait (worker, 10000);
    int64_t took = s_now_ms () - signalled;
    fprintf (stderr, "shutdown: %d SHUTTING_DOWN, %d busy, %d other, exit after %lld ms\n",
             shutting, busy, other, (long long) took);
    CHECK_INT (answered, BATCHES);
    CHECK_INT (status, 0);
    CHECK (busy <= 16);
    CHECK (shutting >= BATCHES - 16 - other);
    CHECK (shutting > 0);
    s_release (&lock);
    CHECK_INT (harness_sql_int (harness_db_path (worker), "SELECT count (*) FROM txn"), 0);
    zsock_destroy (&dealer);
    harness_stop (&worker, false);
}

/*  A batch that waited longer than --max-wait-ms is answered `overloaded`
    and not run: its producer has most likely given up. Here the writer
    waits 1 s for a lock while twenty batches queue behind it. */
static void
test_batches_that_waited_too_long_are_refused (void)
{
    harness_t *worker = harness_start ("--busy-timeout-ms", "1000", "--max-wait-ms", "100", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    sqlite3 *lock = s_hold_write_lock (worker);
    zsock_t *dealer = harness_dealer (worker);
    zsock_set_rcvtimeo (dealer, 20000);
    char text [300];
    snprintf (text, sizeof (text), CREATE, 0, 1);
    s_send (dealer, text);
    s_send (dealer, "{\"v\":1,\"id\":99,\"ops\":[{\"op\":\"sys.ping\"}]}");
    json_t *reply = s_next_reply (dealer);
    CHECK_INT (harness_int (reply, "id"), 99);    /* batch 0 is running */
    json_decref (reply);
    for (int n = 1; n <= 20; n++) {
        snprintf (text, sizeof (text), CREATE, n, n + 1);
        s_send (dealer, text);
    }
    int busy = 0, expired = 0;
    for (int n = 0; n <= 20; n++) {
        reply = s_next_reply (dealer);
        CHECK (reply != NULL);
        const char *klass = harness_str (reply, "error.class");
        if (harness_int (reply, "id") == 0)
            busy += klass && strcmp (klass, "busy") == 0;
        else
            expired += klass && strcmp (klass, "overloaded") == 0 && harness_bool (reply, "error.retryable") == 1;
        json_decref (reply);
    }
    CHECK_INT (busy, 1);
    CHECK_INT (expired, 20);
    s_release (&lock);
    CHECK_INT (harness_sql_int (harness_db_path (worker), "SELECT count (*) FROM txn"), 0);
    zsock_destroy (&dealer);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  tcp://localhost:P and tcp://[::1]:P pass the loopback guard; they must
    also bind. */
static void
test_bind_localhost_names (void)
{
    char *free_endpoint = harness_free_endpoint ();
    CHECK (free_endpoint != NULL);
    if (!free_endpoint)
        return;
    const char *port = strrchr (free_endpoint, ':') + 1;
    char endpoint [64];
    snprintf (endpoint, sizeof (endpoint), "tcp://localhost:%s", port);
    char dir [] = "/tmp/ledgerd-test-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    harness_t *worker = harness_start_at (dir, endpoint, NULL);
    CHECK (worker != NULL);
    if (worker) {
        CHECK (s_ping_ok (worker));
        CHECK_INT (harness_stop (&worker, true), 0);
    }
    /*  IPv6 loopback, where this machine has it. */
    int probe = socket (AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 loopback = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    bool has_ipv6 = probe >= 0 && bind (probe, (struct sockaddr *) &loopback, sizeof (loopback)) == 0;
    if (probe >= 0)
        close (probe);
    if (has_ipv6) {
        snprintf (endpoint, sizeof (endpoint), "tcp://[::1]:%s", port);
        zsys_set_ipv6 (1);
        worker = harness_start_at (dir, endpoint, NULL);
        CHECK (worker != NULL);
        if (worker) {
            CHECK (s_ping_ok (worker));
            CHECK_INT (harness_stop (&worker, true), 0);
        }
        zsys_set_ipv6 (0);
    }
    else
        fprintf (stderr, "no IPv6 loopback here: tcp://[::1] not tried\n");
    harness_remove_dir (dir);
    free (free_endpoint);
}

/*  czmq reads --curve-allow '*' as "any key": refused at start. */
static void
test_curve_allow_any_is_refused (void)
{
    char command [512];
    snprintf (command, sizeof (command), "%s --db /tmp/ledgerd-never-created.db --curve-secret x "
              "--curve-allow '*' 2>/dev/null", LEDGERD_PATH);
    int status = system (command);
    CHECK (WIFEXITED (status));
    CHECK_INT (WEXITSTATUS (status), 2);
    CHECK (access ("/tmp/ledgerd-never-created.db", F_OK) != 0);
}

/*  After a burst, an idle worker gives the memory it freed back to the
    system instead of keeping its peak. */
static void
test_idle_worker_gives_memory_back (void)
{
    if (!MEMORY_TESTS)
        return;
    /*  Memory is this test's subject, not waiting: the standing-queue
        refusal (half of --max-wait-ms) must not answer the later batches
        `overloaded` on a slow or busy machine. */
    harness_t *worker = harness_start ("--max-wait-ms", "120000", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    /*  Twenty 5000-op batches pipelined: a few tens of MB decoded at once. */
    zsock_t *dealer = harness_dealer (worker);
    zsock_set_rcvtimeo (dealer, 30000);
    size_t capacity = 5000 * 100 + 100;
    char *text = malloc (capacity);
    for (int batch = 0; batch < 20; batch++) {
        size_t size = (size_t) snprintf (text, capacity, "{\"v\":1,\"id\":%d,\"ops\":[", batch);
        for (int n = 0; n < 5000; n++)
            size += (size_t) snprintf (text + size, capacity - size,
                                       "%s{\"op\":\"txn.create\",\"amount\":%d,\"occurred_at\":\"2025-01-01T00:00:00Z\"}",
                                       n? ",": "", n + 1);
        snprintf (text + size, capacity - size, "]}");
        s_send (dealer, text);
    }
    free (text);
    for (int batch = 0; batch < 20; batch++) {
        json_t *reply = s_next_reply (dealer);
        CHECK (harness_bool (reply, "ok") == 1);
        if (harness_bool (reply, "ok") != 1)
            fprintf (stderr, "    batch %d: %s %s\n", batch, harness_str (reply, "error.code"),
                     harness_str (reply, "error.message"));
        json_decref (reply);
    }
    long peak_kb = harness_status_kb (worker, "VmHWM");
    long idle_kb = harness_status_kb (worker, "VmRSS");
    int64_t deadline = s_now_ms () + 5000;
    while (idle_kb > peak_kb / 2 && s_now_ms () < deadline) {
        zclock_sleep (50);
        idle_kb = harness_status_kb (worker, "VmRSS");
    }
    fprintf (stderr, "idle: RSS peak %ld KiB in the burst, %ld KiB once idle\n", peak_kb, idle_kb);
    CHECK (idle_kb <= peak_kb / 2);
    zsock_destroy (&dealer);
    CHECK_INT (harness_stop (&worker, false), 0);
}

int
main (void)
{
    zsys_set_max_sockets (4096);
    TEST_RUN (test_curve_allow_any_is_refused);
    TEST_RUN (test_bind_localhost_names);
    TEST_RUN (test_batches_that_waited_too_long_are_refused);
    TEST_RUN (test_shutdown_answers_the_queue_at_once);
    TEST_RUN (test_endless_multipart_is_cut_off);
    TEST_RUN (test_peer_that_never_reads_big_replies);
    TEST_RUN (test_queued_request_costs_its_size);
    TEST_RUN (test_open_files_limit);
    TEST_RUN (test_idle_worker_gives_memory_back);
    zsys_shutdown ();
    return TEST_DONE ();
}
