/*  test_crash -- acknowledged means durable: kill -9 ledgerd under load.

    Four producers, each a thread with its own client, send keyed batches of
    txn.create ops to a real ledgerd started with --sync full. A killer
    thread SIGKILLs the worker at random moments and starts it again on the
    same database and endpoint. A batch that got no answer is sent again
    with the same key until the restarted worker answers it. When every
    batch has been answered the worker is stopped cleanly and the database
    is read back with sqlite3:

    - every batch answered ok is there, whole, exactly once;
    - no batch is partly there (all its ops or none);
    - no op of any batch is there twice (no key applied twice);
    - the idempotency table has exactly one row per applied batch;
    - PRAGMA integrity_check says ok.

    Every row is traceable: op o of batch b of producer p has the amount
    ((p + 1) * 10^8 + b) * 10 + o and the description "p<p>-b<b>-o<o>", and
    the batch's key is "p<p>-b<b>".

    When to kill is decided in two steps. Kill k (of K) waits until
    (k + 1) / (K + 1) of all batches are finished and at least one more since
    the last restart, so the kills are spread over the whole run and each
    lands on a worker that has traffic again; it then waits a random
    0..KILL_DELAY_MAX_US (from a seeded PRNG, the seed printed) so the kill
    falls at a random point of a batch: decoding, inside the transaction,
    during the fsync, between COMMIT and the reply. Producers may run ahead
    of kill k only up to kill k + 1's mark, where they wait for it: however
    fast the worker is, every kill happens while there is work left. These
    waits are on a condition variable, not a clock; the random delay is the
    point of the test.

    The CI form is short. The long form runs by hand, e.g.

        LEDGER_CRASH_KILLS=500 LEDGER_CRASH_BATCHES=5000 build/bin/test_crash

    LEDGER_CRASH_SEED=N repeats a run's kill delays (the interleaving with
    the producers is still up to the scheduler). */

#include "ledger.h"
#include "testing.h"
#include "harness_files.h"
#include "worker_harness.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PRODUCERS           4
#define CI_KILLS            25
#define CI_BATCHES          150         /* per producer */
#define OPS_MIN             2
#define OPS_MAX             4           /* ops in a batch: OPS_MIN..OPS_MAX */
/*  Some batches' worth at full speed with group commit (about 3000 batches
    a second on a 2-core VM), so the producers are still sending when it ends. */
#define KILL_DELAY_MAX_US   8000
/*  Small, so a dead worker is noticed quickly; generous, so the restarted
    worker answers before the library gives up. If it does give up
    (LEDGER_UNKNOWN) the producer submits the same batch again. */
#define CLIENT_TIMEOUT_MS   200
#define CLIENT_RETRIES      50
#define BACKOFF_INITIAL_MS  10
#define BACKOFF_MAX_MS      100
/*  A batch with no ok after this long stops the run and fails the test
    instead of hanging it (a restart takes a fraction of a second). */
#define BATCH_DEADLINE_MS   30000
#define RESTART_ATTEMPTS    3
/*  Problems printed one by one before only counting the rest. */
#define REPORT_MAX          20

/*  What the threads share. Counters are written under lock, or are atomic. */
typedef struct {
    const char *endpoint;
    int batches;                /* per producer */
    int kills;                  /* wanted */
    uint64_t seed;

    pthread_mutex_t lock;
    pthread_cond_t progress;    /* signalled on every change below */
    long claimed;               /* batches started, all producers */
    long finished;              /* batches answered ok or given up */
    int producers_done;
    int kills_done;
    atomic_bool abort;          /* stop: a batch was refused or given up, or no worker */
    atomic_int submitting;      /* producers inside ledger_client_submit now */

    harness_t *worker;          /* the killer's while it runs, then main's */
    char dir [PATH_MAX];
    int kills_in_flight;        /* kills that found a producer waiting for a reply */
} run_t;

typedef struct {
    run_t *run;
    int id;
    bool *answered_ok;          /* [batch]: ever answered LEDGER_OK */
    long sends;                 /* tries, over every submit */
    long resubmits;             /* submits again after LEDGER_UNKNOWN or a retryable failure */
    long replays;               /* ok answers served from the idempotency log */
    long failures;              /* batches that never got an ok */
} producer_t;

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/*  splitmix64: small, seedable, good enough to pick moments. */
static uint64_t
s_random (uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/*  The number in environment variable name, or fallback when it is unset.
    Returns -1 (reported) when it is set but not a number in min..max. */
static long long
s_env_number (const char *name, long long fallback, long long min, long long max)
{
    const char *text = getenv (name);
    if (!text || !*text)
        return fallback;
    char *end;
    errno = 0;
    long long value = strtoll (text, &end, 10);
    if (errno || *end || value < min || value > max) {
        fprintf (stderr, "test_crash: %s=%s: want a number from %lld to %lld\n", name, text, min, max);
        return -1;
    }
    return value;
}

static int
s_ops_in (int producer, int batch)
{
    return OPS_MIN + (producer + batch) % (OPS_MAX - OPS_MIN + 1);
}

static int64_t
s_amount (int producer, int batch, int op)
{
    return ((int64_t) (producer + 1) * 100000000 + batch) * 10 + op;
}

/*  Batch `batch` of `producer`, with its key. Returns NULL (reported) if the
    library refused an add call. */
static ledger_batch_t *
s_batch_new (int producer, int batch)
{
    ledger_batch_t *self = ledger_batch_new ();
    if (!self)
        return NULL;
    char key [64];
    snprintf (key, sizeof key, "p%d-b%d", producer, batch);
    bool good = ledger_batch_set_key (self, key) == 0;
    for (int op = 0; good && op < s_ops_in (producer, batch); op++) {
        char description [64];
        snprintf (description, sizeof description, "p%d-b%d-o%d", producer, batch, op);
        good = ledger_batch_txn_create (self, s_amount (producer, batch, op),
                                        ledger_time_at (1735689600000000LL + (int64_t) batch * 1000000, 0),
                                        description, LEDGER_UNSET) >= 0;
    }
    if (!good) {
        fprintf (stderr, "test_crash: batch %s: %s\n", key, ledger_batch_error (self));
        ledger_batch_destroy (&self);
    }
    return self;
}

/*  Stop the run: producers start no more batches and the killer no more
    kills. */
static void
s_abort (run_t *run)
{
    pthread_mutex_lock (&run->lock);
    atomic_store (&run->abort, true);
    pthread_cond_broadcast (&run->progress);
    pthread_mutex_unlock (&run->lock);
}

/*  Submit batch until the worker answers ok or refuses it for good; a
    LEDGER_UNKNOWN or a retryable failure is submitted again, same key.
    Returns true when it was answered ok. */
static bool
s_submit_until_answered (producer_t *self, ledger_client_t *client, ledger_batch_t *batch, int number)
{
    run_t *run = self->run;
    int64_t deadline = s_now_ms () + BATCH_DEADLINE_MS;
    while (true) {
        atomic_fetch_add (&run->submitting, 1);
        ledger_result_t *result = ledger_client_submit (client, batch);
        atomic_fetch_sub (&run->submitting, 1);
        if (!result) {
            fprintf (stderr, "test_crash: p%d-b%d not sent: %s\n", self->id, number, ledger_client_error (client));
            s_abort (run);
            return false;
        }
        self->sends += ledger_result_tries (result);
        ledger_status_t status = ledger_result_status (result);
        bool ok = status == LEDGER_OK;
        bool again = status == LEDGER_UNKNOWN
                  || (status == LEDGER_FAILED && ledger_result_retryable (result));
        if (ok && ledger_result_replayed (result))
            self->replays++;
        if (!ok && !again) {
            fprintf (stderr, "test_crash: p%d-b%d refused: %s\n", self->id, number, ledger_result_describe (result));
            s_abort (run);
        }
        else
        if (again && atomic_load (&run->abort)) {
            fprintf (stderr, "test_crash: p%d-b%d left unanswered: the run was stopped\n", self->id, number);
            again = false;
        }
        else
        if (again && s_now_ms () > deadline) {
            fprintf (stderr, "test_crash: p%d-b%d given up, no ok within %d s: %s\n", self->id, number,
                     BATCH_DEADLINE_MS / 1000, ledger_result_describe (result));
            s_abort (run);
            again = false;
        }
        ledger_result_destroy (&result);
        if (!again)
            return ok;
        self->resubmits++;
    }
}

/*  How many batches must be finished before kill k. */
static long
s_kill_mark (run_t *run, int kill)
{
    long total = (long) run->batches * PRODUCERS;
    return total * (kill + 1) / (run->kills + 1);
}

/*  Take the right to start one more batch: wait while that would pass the
    mark of the kill after the next one. */
static void
s_claim (run_t *run)
{
    pthread_mutex_lock (&run->lock);
    while (run->kills_done + 1 < run->kills && !atomic_load (&run->abort)
       &&  run->claimed >= s_kill_mark (run, run->kills_done + 1))
        pthread_cond_wait (&run->progress, &run->lock);
    run->claimed++;
    pthread_mutex_unlock (&run->lock);
}

static void *
s_producer (void *arg)
{
    producer_t *self = (producer_t *) arg;
    run_t *run = self->run;
    ledger_client_t *client = ledger_client_new (run->endpoint);
    if (client) {
        ledger_client_set_timeout (client, CLIENT_TIMEOUT_MS);
        ledger_client_set_retries (client, CLIENT_RETRIES);
        ledger_client_set_backoff (client, BACKOFF_INITIAL_MS, BACKOFF_MAX_MS);
    }
    for (int number = 0; number < run->batches; number++) {
        if (atomic_load (&run->abort)) {
            self->failures += run->batches - number;
            break;
        }
        s_claim (run);
        ledger_batch_t *batch = client? s_batch_new (self->id, number): NULL;
        self->answered_ok [number] = batch && s_submit_until_answered (self, client, batch, number);
        ledger_batch_destroy (&batch);
        if (!self->answered_ok [number])
            self->failures++;
        pthread_mutex_lock (&run->lock);
        run->finished++;
        pthread_cond_broadcast (&run->progress);
        pthread_mutex_unlock (&run->lock);
    }
    ledger_client_destroy (&client);
    pthread_mutex_lock (&run->lock);
    run->producers_done++;
    pthread_cond_broadcast (&run->progress);
    pthread_mutex_unlock (&run->lock);
    return NULL;
}

/*  Wait until the next kill's mark is reached and a batch has finished
    since the last restart, or every producer has finished, or the run is
    stopped. Returns false in the last two cases. */
static bool
s_await_kill_mark (run_t *run, long since_restart)
{
    pthread_mutex_lock (&run->lock);
    long mark = s_kill_mark (run, run->kills_done);
    while ((run->finished < mark || run->finished <= since_restart)
       &&  run->producers_done < PRODUCERS && !atomic_load (&run->abort))
        pthread_cond_wait (&run->progress, &run->lock);
    bool more = run->producers_done < PRODUCERS && !atomic_load (&run->abort);
    pthread_mutex_unlock (&run->lock);
    return more;
}

/*  Start the worker again in the run's directory on its endpoint. Returns
    it, or NULL (reported by the harness) after RESTART_ATTEMPTS tries. */
static harness_t *
s_restart (run_t *run)
{
    harness_t *worker = NULL;
    for (int attempt = 0; !worker && attempt < RESTART_ATTEMPTS; attempt++)
        worker = harness_start_at (run->dir, run->endpoint, "--sync", "full", NULL);
    return worker;
}

static void *
s_killer (void *arg)
{
    run_t *run = (run_t *) arg;
    uint64_t state = run->seed;
    long since_restart = -1;
    for (int kill = 0; kill < run->kills; kill++) {
        if (!s_await_kill_mark (run, since_restart))
            break;
        long delay_us = (long) (s_random (&state) % (KILL_DELAY_MAX_US + 1));
        struct timespec delay = { delay_us / 1000000, (delay_us % 1000000) * 1000 };
        while (nanosleep (&delay, &delay) && errno == EINTR)
            ;
        bool in_flight = atomic_load (&run->submitting) > 0;
        harness_signal (run->worker, SIGKILL);
        harness_wait (run->worker, 10000);
        if (harness_alive (run->worker)) {
            fprintf (stderr, "test_crash: ledgerd outlived SIGKILL\n");
            s_abort (run);
            break;
        }
        harness_stop (&run->worker, true);
        run->kills_in_flight += in_flight;
        run->worker = s_restart (run);
        pthread_mutex_lock (&run->lock);
        run->kills_done++;
        since_restart = run->finished;
        if (!run->worker)
            atomic_store (&run->abort, true);
        pthread_cond_broadcast (&run->progress);
        pthread_mutex_unlock (&run->lock);
        if (!run->worker) {
            fprintf (stderr, "test_crash: cannot restart ledgerd after kill %d\n", kill + 1);
            break;
        }
    }
    return NULL;
}

/*  The database's answer to a one-row query, as text into value. Returns
    0, or -1 (reported). */
static int
s_query_text (sqlite3 *db, const char *sql, char *value, size_t size)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text (stmt, 0);
        snprintf (value, size, "%s", text? (const char *) text: "(null)");
        rc = SQLITE_OK;
    }
    if (rc != SQLITE_OK)
        fprintf (stderr, "test_crash: %s: %s\n", sql, sqlite3_errmsg (db));
    sqlite3_finalize (stmt);
    return rc == SQLITE_OK? 0: -1;
}

/*  Print one problem, or only count it once REPORT_MAX have been printed. */
static void
s_problem (int *problems, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

static void
s_problem (int *problems, const char *format, ...)
{
    if (++*problems <= REPORT_MAX) {
        va_list args;
        va_start (args, format);
        fprintf (stderr, "test_crash: ");
        vfprintf (stderr, format, args);
        fprintf (stderr, "\n");
        va_end (args);
    }
}

/*  Read the database back and compare it with what the producers were told.
    Returns the number of problems found (each reported), -1 if the database
    could not be read. */
static int
s_verify (const char *db_path, run_t *run, producer_t *producers, long *rows_p)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf (stderr, "test_crash: cannot open %s: %s\n", db_path, db? sqlite3_errmsg (db): "out of memory");
        sqlite3_close (db);
        return -1;
    }
    int problems = 0;
    char integrity [256];
    if (s_query_text (db, "PRAGMA integrity_check", integrity, sizeof integrity))
        problems++;
    else
    if (strcmp (integrity, "ok") != 0)
        s_problem (&problems, "PRAGMA integrity_check: %s", integrity);

    //  seen [(p * batches + b) * OPS_MAX + o]: rows of op o of batch b of producer p.
    size_t batch_count = (size_t) PRODUCERS * (size_t) run->batches;
    int *seen = calloc (batch_count * OPS_MAX, sizeof *seen);
    int *keyed = calloc (batch_count, sizeof *keyed);
    if (!seen || !keyed) {
        fprintf (stderr, "test_crash: out of memory\n");
        problems = -1;
        goto cleanup;
    }
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2 (db, "SELECT id, amount, description FROM txn", -1, &stmt, NULL);
    long rows = 0;
    while (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        rc = SQLITE_OK;         /* a row: read on */
        rows++;
        int64_t id = sqlite3_column_int64 (stmt, 0);
        int64_t amount = sqlite3_column_int64 (stmt, 1);
        const char *description = (const char *) sqlite3_column_text (stmt, 2);
        int64_t op = amount % 10;
        int64_t batch = amount / 10 % 100000000;
        int64_t producer = amount / 1000000000 - 1;
        char expected [64];
        snprintf (expected, sizeof expected, "p%" PRId64 "-b%" PRId64 "-o%" PRId64, producer, batch, op);
        if (producer < 0 || producer >= PRODUCERS || batch >= run->batches
        ||  op >= s_ops_in ((int) producer, (int) batch) || s_amount ((int) producer, (int) batch, (int) op) != amount)
            s_problem (&problems, "txn %" PRId64 ": amount %" PRId64 " belongs to no batch", id, amount);
        else
        if (!description || strcmp (description, expected) != 0)
            s_problem (&problems, "txn %" PRId64 ": description \"%s\", want \"%s\"", id,
                       description? description: "(null)", expected);
        else
            seen [((size_t) producer * (size_t) run->batches + (size_t) batch) * OPS_MAX + (size_t) op]++;
    }
    if (rc != SQLITE_DONE) {
        fprintf (stderr, "test_crash: reading txn: %s\n", sqlite3_errmsg (db));
        problems++;
    }
    sqlite3_finalize (stmt);
    *rows_p = rows;

    rc = sqlite3_prepare_v2 (db, "SELECT CAST (key AS TEXT) FROM idempotency", -1, &stmt, NULL);
    while (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW) {
        rc = SQLITE_OK;         /* a row: read on */
        const char *key = (const char *) sqlite3_column_text (stmt, 0);
        int producer, batch, length = 0;
        if (key && sscanf (key, "p%d-b%d%n", &producer, &batch, &length) == 2 && key [length] == '\0'
        &&  producer >= 0 && producer < PRODUCERS && batch >= 0 && batch < run->batches)
            keyed [(size_t) producer * (size_t) run->batches + (size_t) batch]++;
        else
            s_problem (&problems, "idempotency key \"%s\" belongs to no batch", key? key: "(null)");
    }
    if (rc != SQLITE_DONE) {
        fprintf (stderr, "test_crash: reading idempotency: %s\n", sqlite3_errmsg (db));
        problems++;
    }
    sqlite3_finalize (stmt);

    for (int producer = 0; producer < PRODUCERS; producer++)
        for (int batch = 0; batch < run->batches; batch++) {
            size_t index = (size_t) producer * (size_t) run->batches + (size_t) batch;
            int ops = s_ops_in (producer, batch);
            int present = 0;
            for (int op = 0; op < ops; op++) {
                int copies = seen [index * OPS_MAX + (size_t) op];
                present += copies > 0;
                if (copies > 1)
                    s_problem (&problems, "p%d-b%d op %d applied %d times", producer, batch, op, copies);
            }
            bool applied = present == ops;
            if (present > 0 && !applied)
                s_problem (&problems, "p%d-b%d partly there: %d of %d ops", producer, batch, present, ops);
            if (producers [producer].answered_ok [batch] && present == 0)
                s_problem (&problems, "p%d-b%d answered ok but lost", producer, batch);
            if (keyed [index] != (applied? 1: 0))
                s_problem (&problems, "p%d-b%d: %d idempotency rows for a batch %s", producer, batch,
                           keyed [index], applied? "applied": "not applied");
        }
    if (problems > REPORT_MAX)
        fprintf (stderr, "test_crash: ... %d problems in all\n", problems);

cleanup:
    free (seen);
    free (keyed);
    sqlite3_close (db);
    return problems;
}

/*  Print the last lines of every worker's log in dir, for a failed run
    whose directory will not outlive the CI job. */
static void
s_print_log (const char *dir)
{
    char path [PATH_MAX + 16];
    snprintf (path, sizeof path, "%s/ledgerd.log", dir);
    FILE *file = fopen (path, "r");
    if (!file)
        return;
    char tail [8192];
    fseek (file, 0, SEEK_END);
    long size = ftell (file);
    long from = size > (long) sizeof tail - 1? size - (long) sizeof tail + 1: 0;
    fseek (file, from, SEEK_SET);
    size_t got = fread (tail, 1, sizeof tail - 1, file);
    tail [got] = '\0';
    fclose (file);
    fprintf (stderr, "---- the end of %s ----\n%s---- end ----\n", path, tail);
}

static void
test_acknowledged_batches_survive_kill_9 (void)
{
    run_t run = { .lock = PTHREAD_MUTEX_INITIALIZER, .progress = PTHREAD_COND_INITIALIZER };
    long long kills = s_env_number ("LEDGER_CRASH_KILLS", CI_KILLS, 0, 1000000);
    long long batches = s_env_number ("LEDGER_CRASH_BATCHES", CI_BATCHES, 1, 10000000);
    long long seed = s_env_number ("LEDGER_CRASH_SEED", (long long) (((uint64_t) time (NULL) ^ ((uint64_t) getpid () << 20)) & INT64_MAX),
                                   0, INT64_MAX);
    CHECK (kills >= 0 && batches >= 0 && seed >= 0);
    if (kills < 0 || batches < 0 || seed < 0)
        return;
    //  Every kill wants traffic before it: at least one answer per kill.
    if (batches * PRODUCERS < kills + 2) {
        fprintf (stderr, "test_crash: %lld batches per producer are too few for %lld kills\n", batches, kills);
        CHECK (batches * PRODUCERS >= kills + 2);
        return;
    }
    run.kills = (int) kills;
    run.batches = (int) batches;
    run.seed = (uint64_t) seed;
    printf ("test_crash: seed %llu, %d producers x %d batches, %d kills (LEDGER_CRASH_SEED/BATCHES/KILLS)\n",
            (unsigned long long) run.seed, PRODUCERS, run.batches, run.kills);
    fflush (stdout);

    int64_t started = s_now_ms ();
    run.worker = harness_start ("--sync", "full", NULL);
    CHECK (run.worker != NULL);
    if (!run.worker)
        return;
    char endpoint [128];
    char db_path [PATH_MAX + 16];
    snprintf (run.dir, sizeof run.dir, "%s", harness_dir (run.worker));
    snprintf (endpoint, sizeof endpoint, "%s", harness_endpoint (run.worker));
    snprintf (db_path, sizeof db_path, "%s", harness_db_path (run.worker));
    run.endpoint = endpoint;

    producer_t producers [PRODUCERS];
    pthread_t producer_threads [PRODUCERS];
    bool started_all = true;
    for (int id = 0; id < PRODUCERS; id++) {
        producers [id] = (producer_t) { .run = &run, .id = id,
                                        .answered_ok = calloc ((size_t) run.batches, sizeof (bool)) };
        started_all &= producers [id].answered_ok
                    && pthread_create (&producer_threads [id], NULL, s_producer, &producers [id]) == 0;
        if (!started_all) {
            free (producers [id].answered_ok);
            //  The killer never starts: stop the producers already running.
            s_abort (&run);
            for (int other = 0; other < id; other++)
                pthread_join (producer_threads [other], NULL);
            for (int other = 0; other < id; other++)
                free (producers [other].answered_ok);
            fprintf (stderr, "test_crash: cannot start producer %d\n", id);
            CHECK (started_all);
            harness_stop (&run.worker, false);
            return;
        }
    }
    pthread_t killer_thread;
    bool killer_started = pthread_create (&killer_thread, NULL, s_killer, &run) == 0;
    CHECK (killer_started);
    if (!killer_started)
        s_abort (&run);         /* nobody would open the producers' gates */
    for (int id = 0; id < PRODUCERS; id++)
        pthread_join (producer_threads [id], NULL);
    if (killer_started)
        pthread_join (killer_thread, NULL);
    int64_t produced = s_now_ms ();

    long sends = 0, resubmits = 0, replays = 0, failures = 0;
    for (int id = 0; id < PRODUCERS; id++) {
        sends += producers [id].sends;
        resubmits += producers [id].resubmits;
        replays += producers [id].replays;
        failures += producers [id].failures;
    }
    long total = (long) run.batches * PRODUCERS;
    //  The final stop is a clean one: drain, close, exit 0.
    int status = -1;
    if (run.worker) {
        status = harness_stop (&run.worker, true);
        CHECK_INT (status, 0);
    }
    long rows = 0;
    int problems = s_verify (db_path, &run, producers, &rows);

    printf ("test_crash: %d kills (%d with requests in flight), %ld batches (%ld answered ok), %ld txn rows\n",
            run.kills_done, run.kills_in_flight, total, total - failures, rows);
    printf ("test_crash: %ld retries (%ld sends for %ld batches), %ld resubmits after LEDGER_UNKNOWN, %ld replays\n",
            sends - total, sends, total, resubmits, replays);
    printf ("test_crash: %.1f s producing, %.1f s in all; seed %llu\n",
            (double) (produced - started) / 1000, (double) (s_now_ms () - started) / 1000,
            (unsigned long long) run.seed);

    CHECK (!atomic_load (&run.abort));
    CHECK_INT (run.kills_done, run.kills);
    CHECK_INT (failures, 0);
    CHECK_INT (problems, 0);
    //  The kills really interrupted requests: something was sent again.
    if (run.kills > 0)
        CHECK (sends > total);

    bool passed = t_checks_failed == 0;
    if (passed)
        harness_remove_dir (run.dir);
    else {
        s_print_log (run.dir);
        fprintf (stderr, "test_crash: kept %s (database and ledgerd.log) for a look; seed %llu\n",
                 run.dir, (unsigned long long) run.seed);
    }
    for (int id = 0; id < PRODUCERS; id++)
        free (producers [id].answered_ok);
}

int
main (void)
{
    TEST_RUN (test_acknowledged_batches_survive_kill_9);
    return TEST_DONE ();
}
