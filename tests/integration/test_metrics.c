/*  Integration: --metrics-bind -- /metrics in Prometheus' text format
    (checked by promtool, and scraped by a real Prometheus server), counters
    that move by exactly what real traffic did, histograms whose counts are
    the batches served, /healthz and /readyz (503 while draining), the
    loopback rule, and HTTP clients that misbehave without hurting the
    worker. HTTP is spoken by hand over a socket (HTTP/1.0: one request, the
    reply ends when the server closes). */

#include "proto_json.h"
#include "testing.h"
#include "harness_files.h"
#include "harness_json.h"
#include "harness_wire.h"
#include "worker_harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define OPS(...) "{\"v\":1,\"ops\":[" __VA_ARGS__ "]}"

extern char **environ;

/*  Every family /metrics must have (README "Metrics and health"). */
static const char *s_families [] = {
    "ledgerd_batches_total", "ledgerd_batches_failed_total", "ledgerd_ops_total", "ledgerd_rows_changed_total",
    "ledgerd_replays_total", "ledgerd_replies_dropped_total", "ledgerd_write_transactions_total",
    "ledgerd_checkpoints_total", "ledgerd_batch_duration_seconds", "ledgerd_writer_wait_seconds",
    "ledgerd_commit_duration_seconds", "ledgerd_write_transaction_batches", "ledgerd_writer_queue_batches",
    "ledgerd_reader_queue_batches", "ledgerd_reader_batches_in_flight", "ledgerd_held_ops", "ledgerd_ready",
    "ledgerd_build_info", "ledgerd_database_size_bytes", "ledgerd_wal_size_bytes",
    "process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
    "process_start_time_seconds", "process_open_fds", "process_max_fds",
};

static const char *s_histograms [] = {
    "ledgerd_batch_duration_seconds", "ledgerd_writer_wait_seconds", "ledgerd_commit_duration_seconds",
    "ledgerd_write_transaction_batches",
};

/*  A TCP port nothing listens on now. */
static int
s_free_port (void)
{
    char *endpoint = harness_free_endpoint ();
    int port = endpoint? atoi (strrchr (endpoint, ':') + 1): 0;
    free (endpoint);
    return port;
}

/*  A socket connected to 127.0.0.1:port with 5 s timeouts, or -1. */
static int
s_connect (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    address.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    struct timeval timeout = { .tv_sec = 5 };
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof (timeout));
    setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof (timeout));
    if (connect (fd, (struct sockaddr *) &address, sizeof (address))) {
        close (fd);
        return -1;
    }
    return fd;
}

/*  Send size bytes of request (it may be cut short by a server that
    answers and closes first), read the reply to the end. Returns the HTTP
    status (0 if none came) and the body in *body_p (the caller frees it),
    or -1 if no connection. */
static int
s_http_raw (int port, const char *request, size_t size, char **body_p)
{
    *body_p = NULL;
    int fd = s_connect (port);
    if (fd < 0)
        return -1;
    for (size_t sent = 0; sent < size; ) {
        ssize_t rc = send (fd, request + sent, size - sent, MSG_NOSIGNAL);
        if (rc <= 0)
            break;
        sent += (size_t) rc;
    }
    shutdown (fd, SHUT_WR);
    size_t capacity = 65536, used = 0;
    char *reply = malloc (capacity);
    ssize_t got;
    while ((got = recv (fd, reply + used, capacity - used - 1, 0)) > 0) {
        used += (size_t) got;
        if (used + 1 == capacity)
            reply = realloc (reply, capacity *= 2);
    }
    close (fd);
    reply [used] = 0;
    int status = 0;
    sscanf (reply, "HTTP/1.%*d %d", &status);
    const char *body = strstr (reply, "\r\n\r\n");
    *body_p = strdup (body? body + 4: "");
    free (reply);
    return status;
}

/*  GET path. Returns the status and the body, as s_http_raw does. */
static int
s_get (int port, const char *path, char **body_p)
{
    char request [1024];
    snprintf (request, sizeof (request), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", path);
    return s_http_raw (port, request, strlen (request), body_p);
}

/*  A scrape of /metrics (the caller frees it), or NULL. */
static char *
s_scrape (int port)
{
    char *body;
    int status = s_get (port, "/metrics", &body);
    CHECK_INT (status, 200);
    if (status != 200) {
        free (body);
        return NULL;
    }
    return body;
}

/*  The value of the sample `series` (name and labels, exactly as printed)
    in text, or -1 if it is not there. */
static double
s_sample (const char *text, const char *series)
{
    size_t len = strlen (series);
    for (const char *line = text; line && *line; line = strchr (line, '\n'), line = line? line + 1: NULL)
        if (strncmp (line, series, len) == 0 && line [len] == ' ')
            return strtod (line + len + 1, NULL);
    return -1;
}

static double
s_delta (const char *before, const char *after, const char *series)
{
    return s_sample (after, series) - s_sample (before, series);
}

/*  Every histogram in text: buckets never fall, +Inf is _count. */
static void
s_check_histograms (const char *text)
{
    for (size_t h = 0; h < sizeof (s_histograms) / sizeof (s_histograms [0]); h++) {
        char prefix [128], series [128];
        snprintf (prefix, sizeof (prefix), "%s_bucket{le=\"", s_histograms [h]);
        double last = 0;
        int buckets = 0;
        for (const char *line = strstr (text, prefix); line; line = strstr (line + 1, prefix)) {
            double value = strtod (strchr (line, ' ') + 1, NULL);
            CHECK (value >= last);
            last = value;
            buckets++;
        }
        CHECK (buckets > 2);
        snprintf (series, sizeof (series), "%s_bucket{le=\"+Inf\"}", s_histograms [h]);
        double inf = s_sample (text, series);
        snprintf (series, sizeof (series), "%s_count", s_histograms [h]);
        CHECK (inf >= 0);
        CHECK (inf == s_sample (text, series));
        CHECK (inf == last);
    }
}

/*  A worker serving metrics on a free port of its own. */
static harness_t *
s_start (int *port_p, const char *extra, const char *extra_value)
{
    char bind [64];
    *port_p = s_free_port ();
    snprintf (bind, sizeof (bind), "127.0.0.1:%d", *port_p);
    harness_t *worker = harness_start ("--metrics-bind", bind, extra, extra_value, NULL);
    CHECK (worker != NULL);
    return worker;
}

/*  One call, whose reply's ok must be want (1 or 0). */
static void
s_call (zsock_t *req, const char *request, int want)
{
    json_t *reply = harness_call (req, request);
    CHECK (reply != NULL);
    CHECK_INT (reply? harness_bool (reply, "ok"): -1, want);
    json_decref (reply);
}

static void
test_every_family_passes_promtool (void)
{
    int port;
    harness_t *worker = s_start (&port, NULL, NULL);
    if (!worker)
        return;
    zsock_t *req = harness_req (worker);
    s_call (req, OPS ("{\"op\":\"category.create\",\"name\":\"Food\"}"), 1);
    s_call (req, OPS ("{\"op\":\"category.get\",\"id\":4242}"), 0);
    char *text = s_scrape (port);
    if (text) {
        for (size_t n = 0; n < sizeof (s_families) / sizeof (s_families [0]); n++) {
            char type [128];
            snprintf (type, sizeof (type), "# TYPE %s ", s_families [n]);
            if (!strstr (text, type))
                fprintf (stderr, "no family %s\n", s_families [n]);
            CHECK (strstr (text, type) != NULL);
        }
        char series [64];
        snprintf (series, sizeof (series), "ledgerd_build_info{version=\"%s\"}", LEDGER_VERSION);
        CHECK (s_sample (text, series) == 1);
        CHECK (s_sample (text, "process_resident_memory_bytes") > 1e6);
        CHECK (s_sample (text, "process_open_fds") > 3);
        CHECK (s_sample (text, "ledgerd_database_size_bytes") > 0);
        CHECK (s_sample (text, "ledgerd_ready") == 1);
        /*  The process started within the last minute. */
        double started = s_sample (text, "process_start_time_seconds");
        CHECK (started > (double) time (NULL) - 60 && started <= (double) time (NULL) + 1);
        s_check_histograms (text);
        /*  promtool reads it as Prometheus would, and lints names and
            units: any line it prints is a complaint. */
        char path [] = "/tmp/ledgerd-metrics-XXXXXX";
        int fd = mkstemp (path);
        CHECK (write (fd, text, strlen (text)) == (ssize_t) strlen (text));
        close (fd);
        char command [256];
        snprintf (command, sizeof (command), "promtool check metrics < %s 2>&1", path);
        FILE *promtool = popen (command, "r");
        char complaint [512];
        int complaints = 0;
        while (promtool && fgets (complaint, sizeof (complaint), promtool)) {
            fprintf (stderr, "promtool: %s", complaint);
            complaints++;
        }
        int status = promtool? pclose (promtool): -1;
        CHECK_INT (complaints, 0);
        CHECK_INT (WIFEXITED (status)? WEXITSTATUS (status): -1, 0);
        unlink (path);
    }
    free (text);
    zsock_destroy (&req);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  Ten batches, one failing: the counters move by exactly that. */
static void
test_counters_move_by_exact_deltas (void)
{
    int port;
    harness_t *worker = s_start (&port, NULL, NULL);
    if (!worker)
        return;
    zsock_t *req = harness_req (worker);
    char *before = s_scrape (port);
    /*  7 writes of one row each, 1 write of three rows, 1 read (a reader
        thread), 1 read that fails not_found: 10 batches, 9 ok. */
    for (int n = 0; n < 7; n++) {
        json_t *reply = harness_callf (req, OPS ("{\"op\":\"category.create\",\"name\":\"C%d\"}"), n);
        CHECK_INT (reply? harness_bool (reply, "ok"): -1, 1);
        json_decref (reply);
    }
    s_call (req, OPS ("{\"op\":\"txn.create\",\"amount\":\"1.00\",\"occurred_at\":\"2026-01-01T00:00:00Z\"},"
                      "{\"op\":\"txn.create\",\"amount\":\"2.00\",\"occurred_at\":\"2026-01-02T00:00:00Z\"},"
                      "{\"op\":\"category.update\",\"id\":1,\"name\":\"Renamed\"}"), 1);
    s_call (req, OPS ("{\"op\":\"category.list\"}"), 1);
    s_call (req, OPS ("{\"op\":\"category.get\",\"id\":4242}"), 0);
    char *after = s_scrape (port);
    if (before && after) {
        CHECK_INT (s_delta (before, after, "ledgerd_batches_total{outcome=\"ok\"}"), 9);
        CHECK_INT (s_delta (before, after, "ledgerd_batches_total{outcome=\"failed\"}"), 1);
        CHECK_INT (s_delta (before, after, "ledgerd_batches_failed_total{class=\"not_found\"}"), 1);
        CHECK_INT (s_delta (before, after, "ledgerd_batches_failed_total{class=\"invalid\"}"), 0);
        CHECK_INT (s_delta (before, after, "ledgerd_ops_total{op=\"category.create\"}"), 7);
        CHECK_INT (s_delta (before, after, "ledgerd_ops_total{op=\"txn.create\"}"), 2);
        CHECK_INT (s_delta (before, after, "ledgerd_ops_total{op=\"category.update\"}"), 1);
        CHECK_INT (s_delta (before, after, "ledgerd_ops_total{op=\"category.list\"}"), 1);
        CHECK_INT (s_delta (before, after, "ledgerd_ops_total{op=\"category.get\"}"), 1);
        CHECK_INT (s_delta (before, after, "ledgerd_ops_total{op=\"txn.get\"}"), 0);
        CHECK_INT (s_delta (before, after, "ledgerd_rows_changed_total"), 10);
        CHECK_INT (s_delta (before, after, "ledgerd_replays_total"), 0);
        /*  Every batch served is one latency observation; every write
            batch one wait for the writer, in its own transaction here. */
        CHECK_INT (s_delta (before, after, "ledgerd_batch_duration_seconds_count"), 10);
        CHECK_INT (s_delta (before, after, "ledgerd_writer_wait_seconds_count"), 8);
        CHECK_INT (s_delta (before, after, "ledgerd_write_transactions_total"), 8);
        CHECK_INT (s_delta (before, after, "ledgerd_write_transaction_batches_count"), 8);
        CHECK_INT (s_delta (before, after, "ledgerd_write_transaction_batches_sum"), 8);
        CHECK_INT (s_delta (before, after, "ledgerd_commit_duration_seconds_count"), 8);
        CHECK (s_delta (before, after, "ledgerd_batch_duration_seconds_sum") > 0);
        s_check_histograms (after);
        CHECK_INT (s_sample (after, "ledgerd_writer_queue_batches"), 0);
        CHECK_INT (s_sample (after, "ledgerd_held_ops"), 0);
    }
    /*  A replay counts as one, and as an ok batch. */
    s_call (req, "{\"v\":1,\"key\":\"k-1\",\"ops\":[{\"op\":\"category.create\",\"name\":\"Keyed\"}]}", 1);
    s_call (req, "{\"v\":1,\"key\":\"k-1\",\"ops\":[{\"op\":\"category.create\",\"name\":\"Keyed\"}]}", 1);
    char *replayed = s_scrape (port);
    if (after && replayed) {
        CHECK_INT (s_delta (after, replayed, "ledgerd_replays_total"), 1);
        CHECK_INT (s_delta (after, replayed, "ledgerd_batches_total{outcome=\"ok\"}"), 2);
    }
    /*  sys.stats says the same as /metrics. */
    json_t *stats = harness_call (req, OPS ("{\"op\":\"sys.stats\"}"));
    char *last = s_scrape (port);
    if (stats && last) {
        CHECK_INT (harness_int (stats, "results.0.stats.batches_ok"),
                   s_sample (last, "ledgerd_batches_total{outcome=\"ok\"}") - 1);
        CHECK_INT (harness_int (stats, "results.0.stats.rows_changed"), s_sample (last, "ledgerd_rows_changed_total"));
        CHECK_INT (harness_int (stats, "results.0.stats.transactions"),
                   s_sample (last, "ledgerd_write_transactions_total"));
    }
    json_decref (stats);
    free (before);
    free (after);
    free (replayed);
    free (last);
    zsock_destroy (&req);
    CHECK_INT (harness_stop (&worker, false), 0);
}

static void
test_healthz_readyz_and_paths (void)
{
    int port;
    harness_t *worker = s_start (&port, "--busy-timeout-ms", "60000");
    if (!worker)
        return;
    char *body;
    CHECK_INT (s_get (port, "/healthz", &body), 200);
    CHECK_STR (body, "ok\n");
    free (body);
    CHECK_INT (s_get (port, "/readyz", &body), 200);
    CHECK_STR (body, "ok\n");
    free (body);
    CHECK_INT (s_get (port, "/nothing", &body), 404);
    free (body);
    CHECK_INT (s_get (port, "/metrics/", &body), 404);
    free (body);
    const char *post = "POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc";
    CHECK_INT (s_http_raw (port, post, strlen (post), &body), 405);
    free (body);
    const char *head = "HEAD /readyz HTTP/1.0\r\n\r\n";
    CHECK_INT (s_http_raw (port, head, strlen (head), &body), 200);
    free (body);

    /*  Drain with a write stuck behind a lock another process holds: the
        worker keeps serving HTTP, and says it is not ready. */
    sqlite3 *other;
    sqlite3_open (harness_db_path (worker), &other);
    CHECK_INT (sqlite3_exec (other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    zsock_t *dealer = harness_dealer (worker);
    json_t *json = json_loads (OPS ("{\"op\":\"category.create\",\"name\":\"Stuck\"}"), 0, NULL);
    char *request;
    size_t size;
    proto_json_to_msgpack (json, &request, &size, NULL, 0);
    json_decref (json);
    zmq_send (zsock_resolve (dealer), request, size, 0);
    free (request);
    /*  Garbage right behind it is answered at once; its reply proves the
        stuck write was taken (one connection keeps order). */
    zmq_send (zsock_resolve (dealer), "\xc1", 1, 0);
    zmsg_t *msg = zmsg_recv (dealer);
    CHECK (msg != NULL);
    zmsg_destroy (&msg);
    harness_signal (worker, SIGTERM);
    int status = 0;
    int64_t deadline = zclock_mono () + 5000;
    while (zclock_mono () < deadline) {
        status = s_get (port, "/readyz", &body);
        if (status == 503)
            break;
        free (body);
        body = NULL;
        zclock_sleep (10);
    }
    CHECK_INT (status, 503);
    CHECK_STR (body, "draining: the worker is stopping\n");
    free (body);
    CHECK (harness_alive (worker));
    CHECK_INT (s_get (port, "/healthz", &body), 200);
    free (body);
    char *text = s_scrape (port);
    CHECK (text && s_sample (text, "ledgerd_ready") == 0);
    CHECK (text && s_sample (text, "ledgerd_held_ops") == 1);     /* the stuck write, running */
    free (text);
    /*  The lock goes: the drain ends, the stuck write commits. */
    CHECK_INT (sqlite3_exec (other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close (other);
    CHECK_INT (harness_wait (worker, 10000), 0);
    zsock_destroy (&dealer);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  HTTP carries no authentication: beyond loopback only when asked, as
    for --bind. A port another process holds fails the start. */
static void
test_public_bind_refused_without_insecure_bind (void)
{
    char dir [256], db [300], output [4096];
    if (harness_make_dir (dir, sizeof (dir), "ledgerd-metrics")) {
        CHECK (false);
        return;
    }
    snprintf (db, sizeof (db), "%s/ledger.db", dir);
    char *endpoint = harness_free_endpoint ();
    const char *public [] = { "--db", db, "--bind", endpoint, "--metrics-bind", "0.0.0.0:9464", NULL };
    CHECK_INT (harness_run (LEDGERD_PATH, output, sizeof (output), public), 2);
    CHECK (strstr (output, "refusing to serve metrics beyond loopback (0.0.0.0:9464) without --insecure-bind"));
    const char *v6 [] = { "--db", db, "--bind", endpoint, "--metrics-bind", "[::]:9464", NULL };
    CHECK_INT (harness_run (LEDGERD_PATH, output, sizeof (output), v6), 2);
    /*  Nothing was created by a refused start. */
    struct stat st;
    CHECK (stat (db, &st) != 0);
    /*  A metrics port in use: exit 1, and no database left behind. */
    int taken = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    socklen_t length = sizeof (address);
    CHECK_INT (bind (taken, (struct sockaddr *) &address, sizeof (address)), 0);
    CHECK_INT (listen (taken, 1), 0);
    getsockname (taken, (struct sockaddr *) &address, &length);
    char bind_text [64];
    snprintf (bind_text, sizeof (bind_text), "127.0.0.1:%d", ntohs (address.sin_port));
    const char *in_use [] = { "--db", db, "--bind", endpoint, "--metrics-bind", bind_text, NULL };
    CHECK_INT (harness_run (LEDGERD_PATH, output, sizeof (output), in_use), 1);
    CHECK (strstr (output, "cannot serve metrics at"));
    CHECK (stat (db, &st) != 0);
    close (taken);
    free (endpoint);
    harness_remove_dir (dir);
}

/*  size bytes of filler, as a string the caller frees. */
static char *
s_filler (const char *head, size_t size, const char *tail)
{
    size_t head_len = strlen (head), tail_len = strlen (tail);
    char *text = malloc (head_len + size + tail_len + 1);
    memcpy (text, head, head_len);
    memset (text + head_len, 'a', size);
    memcpy (text + head_len + size, tail, tail_len + 1);
    return text;
}

/*  A write batch still goes through, promptly. */
static void
s_check_worker_writes (harness_t *worker, int n)
{
    zsock_t *req = harness_req (worker);
    int64_t start = zclock_mono ();
    json_t *reply = harness_callf (req, OPS ("{\"op\":\"category.create\",\"name\":\"W%d\"}"), n);
    CHECK_INT (reply? harness_bool (reply, "ok"): -1, 1);
    CHECK (zclock_mono () - start < 1000);
    json_decref (reply);
    zsock_destroy (&req);
}

/*  Malformed, huge and slow HTTP clients: refused or timed out, and
    neither the worker's batches nor /metrics suffer for them. */
static void
test_hostile_http_clients_do_not_hurt (void)
{
    int port;
    harness_t *worker = s_start (&port, NULL, NULL);
    if (!worker)
        return;
    long rss_before = harness_status_kb (worker, "VmRSS");
    char *body;
    const char *garbage = "GARBAGE\r\n\r\n";
    int status = s_http_raw (port, garbage, strlen (garbage), &body);
    CHECK (status == 400 || status == 0);
    free (body);
    const char *binary = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n";       /* a TLS hello */
    status = s_http_raw (port, binary, strlen (binary), &body);
    CHECK (status == 400 || status == 0);
    free (body);
    /*  8 MB of header: refused once past the request buffer. */
    char *huge = s_filler ("GET /metrics HTTP/1.0\r\nX-Filler: ", 8 << 20, "\r\n\r\n");
    status = s_http_raw (port, huge, strlen (huge), &body);
    CHECK (status >= 400 || status == 0);
    CHECK (status != 200);
    free (body);
    free (huge);
    /*  8 MB of body on a path that takes none: answered at once, unread. */
    huge = s_filler ("POST /metrics HTTP/1.0\r\nContent-Length: 8388608\r\n\r\n", 8 << 20, "");
    status = s_http_raw (port, huge, strlen (huge), &body);
    CHECK_INT (status, 405);
    free (body);
    free (huge);
    s_check_worker_writes (worker, 1);

    /*  Half requests held open (slowloris), a few and then past the
        connection limit: the worker's batches go on, and while a few are
        held /metrics still answers. */
    const char *half = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    int slow [40];
    for (int n = 0; n < 4; n++) {
        slow [n] = s_connect (port);
        CHECK (slow [n] >= 0);
        CHECK (send (slow [n], half, strlen (half), MSG_NOSIGNAL) == (ssize_t) strlen (half));
    }
    char *text = s_scrape (port);
    CHECK (text != NULL);
    free (text);
    for (int n = 4; n < 40; n++) {
        slow [n] = s_connect (port);
        if (slow [n] >= 0)
            send (slow [n], half, strlen (half), MSG_NOSIGNAL);
    }
    s_check_worker_writes (worker, 2);
    /*  The server closes an idle half request after its timeout (5 s). */
    char byte;
    int64_t start = zclock_mono ();
    struct timeval timeout = { .tv_sec = 15 };
    setsockopt (slow [0], SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof (timeout));
    ssize_t got = recv (slow [0], &byte, 1, 0);
    int64_t waited = zclock_mono () - start;
    CHECK (got <= 0);
    CHECK (waited < 12000);
    for (int n = 0; n < 40; n++)
        if (slow [n] >= 0)
            close (slow [n]);
    /*  Their slots come back: /metrics answers again (bounded retries, the
        server sees the closes on its next poll). */
    status = 0;
    int64_t deadline = zclock_mono () + 10000;
    while (status != 200 && zclock_mono () < deadline) {
        status = s_get (port, "/metrics", &body);
        free (body);
        if (status != 200)
            zclock_sleep (20);
    }
    CHECK_INT (status, 200);
    s_check_worker_writes (worker, 3);
    long rss_after = harness_status_kb (worker, "VmRSS");
    CHECK (rss_before > 0 && rss_after > 0);
    CHECK (rss_after - rss_before < 32 * 1024);         /* KiB: the 16 MB sent were not kept */
    CHECK (harness_alive (worker));
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  The value of the first sample in a Prometheus /api/v1/query answer,
    or -1. */
static double
s_query_value (const char *answer)
{
    const char *value = answer? strstr (answer, "\"value\":["): NULL;
    const char *quote = value? strstr (value, ",\""): NULL;
    return quote? strtod (quote + 2, NULL): -1;
}

/*  A real Prometheus server on loopback scrapes the worker every second;
    a counter read back through its query API matches the worker's. */
static void
test_a_real_prometheus_scrapes_it (void)
{
    const char *prometheus = "/usr/bin/prometheus";
    if (access (prometheus, X_OK)) {
        fprintf (stderr, "%s is missing: scripts/install-deps.sh installs it (Debian's prometheus)\n", prometheus);
        CHECK (false);
        return;
    }
    int port;
    harness_t *worker = s_start (&port, NULL, NULL);
    if (!worker)
        return;
    zsock_t *req = harness_req (worker);
    for (int n = 0; n < 5; n++) {
        json_t *reply = harness_callf (req, OPS ("{\"op\":\"category.create\",\"name\":\"P%d\"}"), n);
        json_decref (reply);
    }
    zsock_destroy (&req);
    char *text = s_scrape (port);
    double ok = text? s_sample (text, "ledgerd_batches_total{outcome=\"ok\"}"): -1;
    free (text);
    CHECK (ok >= 5);
    char dir [256], config [300], data [300], listen_arg [64], config_arg [320], data_arg [320];
    harness_make_dir (dir, sizeof (dir), "ledgerd-prometheus");
    snprintf (config, sizeof (config), "%s/prometheus.yml", dir);
    snprintf (data, sizeof (data), "%s/data", dir);
    FILE *file = fopen (config, "w");
    fprintf (file, "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                   "scrape_configs:\n  - job_name: ledgerd\n    static_configs:\n"
                   "      - targets: ['127.0.0.1:%d']\n", port);
    fclose (file);
    int web_port = s_free_port ();
    snprintf (listen_arg, sizeof (listen_arg), "--web.listen-address=127.0.0.1:%d", web_port);
    snprintf (config_arg, sizeof (config_arg), "--config.file=%s", config);
    snprintf (data_arg, sizeof (data_arg), "--storage.tsdb.path=%s", data);
    char log [320];
    snprintf (log, sizeof (log), "%s/prometheus.log", dir);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init (&actions);
    posix_spawn_file_actions_addopen (&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2 (&actions, 1, 2);
    char *argv [] = { (char *) prometheus, config_arg, data_arg, listen_arg, (char *) "--log.level=warn", NULL };
    pid_t pid;
    CHECK_INT (posix_spawn (&pid, prometheus, &actions, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy (&actions);
    /*  Its first scrape comes within a second or two of its start; 60 s
        bounds a slow machine. */
    double seen = -1;
    int64_t deadline = zclock_mono () + 60000;
    while (seen != ok && zclock_mono () < deadline) {
        char *answer = NULL;
        if (s_get (web_port, "/api/v1/query?query=ledgerd_batches_total%7Boutcome%3D%22ok%22%7D", &answer) == 200)
            seen = s_query_value (answer);
        free (answer);
        if (seen != ok)
            zclock_sleep (200);
    }
    if (seen != ok) {
        char output [4096];
        int fd = open (log, O_RDONLY);
        ssize_t got = fd >= 0? read (fd, output, sizeof (output) - 1): 0;
        output [got > 0? got: 0] = 0;
        fprintf (stderr, "prometheus read %g, the worker says %g; its log:\n%s\n", seen, ok, output);
        if (fd >= 0)
            close (fd);
    }
    CHECK (seen == ok);
    kill (pid, SIGTERM);
    int status;
    waitpid (pid, &status, 0);
    harness_remove_dir (dir);
    CHECK_INT (harness_stop (&worker, false), 0);
}

int
main (void)
{
    signal (SIGPIPE, SIG_IGN);
    TEST_RUN (test_every_family_passes_promtool);
    TEST_RUN (test_counters_move_by_exact_deltas);
    TEST_RUN (test_healthz_readyz_and_paths);
    TEST_RUN (test_public_bind_refused_without_insecure_bind);
    TEST_RUN (test_hostile_http_clients_do_not_hurt);
    TEST_RUN (test_a_real_prometheus_scrapes_it);
    return TEST_DONE ();
}
