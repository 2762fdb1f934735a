/*  Soak: bounded resources under load and bad peers.

    1. 16 producers writing keyed batches and paging queries, a peer sending
       nothing but bad requests, and a client that reconnects every second,
       for LEDGER_SOAK_SECONDS (default 8; the documented long form is 600).
       No error but the intended ones; the worker's RSS and open files are
       flat between the end of the warm-up and the end.
    2. 64 clients pipelining 1000-op batches as fast as they can for a few
       seconds: the queue stays bounded (`overloaded` past --max-queue), and
       so does memory. */

#include "ledger.h"
#include "proto_json.h"
#include "testing.h"
#include "worker_harness.h"

/*  Under AddressSanitizer the worker's RSS is mostly the sanitizer's own
    (shadow memory, quarantine): the figures are printed, not judged. */
#if defined (__SANITIZE_ADDRESS__)
#   define RSS_JUDGED 0
#else
#   define RSS_JUDGED 1
#endif

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

static atomic_bool s_stop;
static atomic_long s_ok_batches, s_unexpected, s_bad_answered, s_reconnects, s_overloaded;
static const char *s_endpoint;

static long
s_env (const char *name, long fallback)
{
    const char *value = getenv (name);
    return value && atol (value) > 0? atol (value): fallback;
}

/*  A /proc/<pid>/status field in kB, or -1. */
static long
s_status_kb (pid_t pid, const char *field)
{
    char path [64], line [256];
    snprintf (path, sizeof (path), "/proc/%d/status", (int) pid);
    FILE *file = fopen (path, "r");
    long value = -1;
    size_t len = strlen (field);
    while (file && fgets (line, sizeof (line), file))
        if (strncmp (line, field, len) == 0 && line [len] == ':')
            value = atol (line + len + 1);
    if (file)
        fclose (file);
    return value;
}

static int
s_open_files (pid_t pid)
{
    char path [64];
    snprintf (path, sizeof (path), "/proc/%d/fd", (int) pid);
    DIR *dir = opendir (path);
    int count = 0;
    while (dir && readdir (dir))
        count++;
    if (dir)
        closedir (dir);
    return count - 2;
}

static void *
s_producer (void *arg)
{
    long id = (long) (intptr_t) arg;
    ledger_client_t *client = ledger_client_new (s_endpoint);
    ledger_client_set_timeout (client, 5000);
    for (long n = 0; !atomic_load (&s_stop); n++) {
        ledger_batch_t *batch = ledger_batch_new ();
        if (n % 10 == 9) {
            ledger_query_t query = { .limit = 50 };
            ledger_batch_txn_query (batch, &query);
        }
        else
            for (int op = 0; op < 5; op++)
                ledger_batch_txn_create (batch, id * 1000000 + n, ledger_time_text ("2025-01-01T00:00:00Z"),
                                         "soak", LEDGER_UNSET);
        ledger_result_t *result = ledger_client_submit (client, batch);
        if (result && ledger_result_status (result) == LEDGER_OK) {
            if (ledger_batch_writes (batch))
                atomic_fetch_add (&s_ok_batches, 1);
        }
        else {
            atomic_fetch_add (&s_unexpected, 1);
            fprintf (stderr, "producer %ld: %s\n", id, result? ledger_result_describe (result): ledger_client_error (client));
        }
        ledger_result_destroy (&result);
        ledger_batch_destroy (&batch);
    }
    ledger_client_destroy (&client);
    return NULL;
}

/*  Bad requests only: every one must be answered with the error it earns. */
static void *
s_bad_peer (void *arg)
{
#define BYTES(literal) { literal, sizeof (literal) - 1 }
    static const struct { const char *bytes; size_t size; } bad [] = {
        BYTES ("\xc1"), BYTES ("\xdd\xff\xff\xff\xff"), BYTES ("\x81\xa1v"),
        BYTES ("\x82\xa1v\x01\xa3ops\x91\x81\xa2op\xa4nope"),           /* unknown op: invalid */
        BYTES ("\x82\xa1v\x02\xa3ops\x91\x81\xa2op\xa8sys.ping"),        /* v 2: protocol */
    };
    zsock_t *dealer = zsock_new_dealer (s_endpoint);
    zsock_set_rcvtimeo (dealer, 5000);
    for (long n = 0; !atomic_load (&s_stop); n++) {
        size_t which = (size_t) n % 5;
        zmq_send (zsock_resolve (dealer), bad [which].bytes, bad [which].size, 0);
        zmsg_t *msg = zmsg_recv (dealer);
        json_t *reply = msg? proto_json_from_msgpack (zframe_data (zmsg_last (msg)), zframe_size (zmsg_last (msg)), NULL, 0): NULL;
        const char *klass = harness_str (reply, "error.class");
        if (klass && (strcmp (klass, which == 3? "invalid": "protocol") == 0))
            atomic_fetch_add (&s_bad_answered, 1);
        else {
            atomic_fetch_add (&s_unexpected, 1);
            fprintf (stderr, "bad peer: request %zu got %s\n", which, klass? klass: "no reply");
        }
        json_decref (reply);
        zmsg_destroy (&msg);
    }
    zsock_destroy (&dealer);
    return NULL;
}

/*  A new connection every second: a ping, then gone. */
static void *
s_reconnector (void *arg)
{
    while (!atomic_load (&s_stop)) {
        ledger_client_t *client = ledger_client_new (s_endpoint);
        ledger_batch_t *batch = ledger_batch_new ();
        ledger_batch_ping (batch);
        ledger_result_t *result = ledger_client_submit (client, batch);
        if (result && ledger_result_status (result) == LEDGER_OK)
            atomic_fetch_add (&s_reconnects, 1);
        else
            atomic_fetch_add (&s_unexpected, 1);
        ledger_result_destroy (&result);
        ledger_batch_destroy (&batch);
        ledger_client_destroy (&client);
        for (int n = 0; n < 10 && !atomic_load (&s_stop); n++)
            usleep (100000);    /* pacing the workload, not waiting for a result */
    }
    return NULL;
}

static void
test_soak (void)
{
    long seconds = s_env ("LEDGER_SOAK_SECONDS", 8);
    harness_t *worker = harness_start ("--sync", "normal", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    s_endpoint = harness_endpoint (worker);
    atomic_store (&s_stop, false);
    enum { PRODUCERS = 16 };
    pthread_t producers [PRODUCERS], bad, reconnector;
    for (long n = 0; n < PRODUCERS; n++)
        pthread_create (&producers [n], NULL, s_producer, (void *) (intptr_t) n);
    pthread_create (&bad, NULL, s_bad_peer, NULL);
    pthread_create (&reconnector, NULL, s_reconnector, NULL);

    /*  Warm-up: a quarter of the run (caches, statement cache, WAL size). */
    long warm_ms = seconds * 250, end_ms = seconds * 1000;
    int64_t start = zclock_mono ();
    while (zclock_mono () - start < warm_ms)
        usleep (50000);
    long rss_warm = s_status_kb (harness_pid (worker), "VmRSS");
    int files_warm = s_open_files (harness_pid (worker));
    long rss_peak = rss_warm;
    while (zclock_mono () - start < end_ms) {
        usleep (200000);
        long rss = s_status_kb (harness_pid (worker), "VmRSS");
        if (rss > rss_peak)
            rss_peak = rss;
    }
    long rss_end = s_status_kb (harness_pid (worker), "VmRSS");
    int files_end = s_open_files (harness_pid (worker));
    atomic_store (&s_stop, true);
    for (int n = 0; n < PRODUCERS; n++)
        pthread_join (producers [n], NULL);
    pthread_join (bad, NULL);
    pthread_join (reconnector, NULL);

    printf ("     %ld s: %ld write batches ok, %ld bad requests refused as intended, %ld reconnects, "
            "%ld unexpected\n     RSS %ld kB after warm-up, %ld kB at the end (peak %ld kB); "
            "open files %d then %d\n", seconds, atomic_load (&s_ok_batches), atomic_load (&s_bad_answered),
            atomic_load (&s_reconnects), atomic_load (&s_unexpected), rss_warm, rss_end, rss_peak,
            files_warm, files_end);
    CHECK_INT (atomic_load (&s_unexpected), 0);
    CHECK (atomic_load (&s_ok_batches) > 0 && atomic_load (&s_bad_answered) > 0 && atomic_load (&s_reconnects) > 0);
    /*  Flat: growth after warm-up within 16 MiB (WAL index, page cache). */
    if (RSS_JUDGED)
        CHECK (rss_end - rss_warm < 16 * 1024);
    CHECK (files_end <= files_warm + 2);
    char db [300];
    snprintf (db, sizeof (db), "%s", harness_db_path (worker));
    CHECK_INT (harness_stop (&worker, true), 0);
    long long rows = harness_sql_int (db, "SELECT count (*) FROM txn");
    CHECK_INT (rows, 5 * atomic_load (&s_ok_batches));
    char *slash = strrchr (db, '/');
    *slash = 0;
    harness_remove_dir (db);
}

static void *
s_pipeliner (void *arg)
{
    ledger_client_t *client = ledger_client_new (s_endpoint);
    ledger_client_set_timeout (client, 30000);
    ledger_client_set_retries (client, 0);
    ledger_client_set_window (client, 4);
    ledger_batch_t *batch = ledger_batch_new ();
    for (int op = 0; op < 1000; op++)
        ledger_batch_txn_create (batch, op, ledger_time_text ("2025-01-01T00:00:00Z"), NULL, LEDGER_UNSET);
    ledger_batch_set_key (batch, "reused-on-purpose");  /* replaced below, per send */
    long sent = 0;
    while (!atomic_load (&s_stop) || ledger_client_in_flight (client)) {
        while (!atomic_load (&s_stop) && ledger_client_in_flight (client) < 4) {
            char key [64];
            snprintf (key, sizeof (key), "pipe-%p-%ld", (void *) client, sent++);
            ledger_batch_set_key (batch, key);
            if (!ledger_client_send (client, batch))
                break;
        }
        ledger_result_t *result = ledger_client_recv (client, 1000);
        if (!result)
            continue;
        const char *klass = ledger_result_error_class (result);
        if (klass && strcmp (klass, "overloaded") == 0)
            atomic_fetch_add (&s_overloaded, 1);
        else
        if (ledger_result_status (result) != LEDGER_OK)
            atomic_fetch_add (&s_unexpected, 1);
        ledger_result_destroy (&result);
    }
    ledger_batch_destroy (&batch);
    ledger_client_destroy (&client);
    return NULL;
}

static void
test_64_pipelining_clients_stay_bounded (void)
{
    harness_t *worker = harness_start ("--sync", "normal", "--max-queue", "64", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    s_endpoint = harness_endpoint (worker);
    atomic_store (&s_stop, false);
    atomic_store (&s_unexpected, 0);
    enum { CLIENTS = 64 };
    pthread_t clients [CLIENTS];
    for (int n = 0; n < CLIENTS; n++)
        pthread_create (&clients [n], NULL, s_pipeliner, NULL);
    int64_t start = zclock_mono ();
    while (zclock_mono () - start < s_env ("LEDGER_SOAK_PIPELINE_SECONDS", 4) * 1000)
        usleep (100000);
    atomic_store (&s_stop, true);
    for (int n = 0; n < CLIENTS; n++)
        pthread_join (clients [n], NULL);
    long peak = s_status_kb (harness_pid (worker), "VmHWM");
    printf ("     64 clients x 4 in flight x 1000-op batches: peak RSS %ld kB, %ld answered overloaded\n",
            peak, atomic_load (&s_overloaded));
    CHECK_INT (atomic_load (&s_unexpected), 0);
    /*  256 requests of ~60 kB in flight at most, and the writer's group:
        well under 256 MiB whatever the load. */
    CHECK (peak > 0);
    if (RSS_JUDGED)
        CHECK (peak < 256 * 1024);
    CHECK_INT (harness_stop (&worker, false), 0);
}

int
main (void)
{
    TEST_RUN (test_soak);
    TEST_RUN (test_64_pipelining_clients_stay_bounded);
    return TEST_DONE ();
}
