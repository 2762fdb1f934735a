/*  driver -- the workload against a worker, through the client library. */

#include "driver.h"
#include "signals.h"
#include "timing.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_PREFILL_BATCH 1000
/*  The longest a blocking receive waits, so Ctrl-C is noticed. */
#define S_RECV_SLICE_MS 100

/*  What every client thread shares with the driver. */
typedef struct {
    const driver_plan_t *plan;
    pthread_mutex_t lock;       /* guards ready and go */
    pthread_cond_t changed;
    int ready;                  /* clients connected (or failed to) */
    bool go;                    /* the clock started (or the run was called off) */
    int64_t start_ns;           /* written before go, read after */
    int64_t deadline_ns;        /* 0: by batch count */
    bool abort;                 /* a client could not start: nobody runs */
    atomic_int writers_running;
    atomic_uint_fast64_t script_next;   /* the next script line, over all writers */
} shared_t;

typedef struct {
    shared_t *shared;
    int index;                  /* among writers, or among readers */
    bool reader;
    uint64_t quota;             /* batches to send; 0: until the deadline */
    pthread_t thread;
    bool started;
    char error [300];           /* why this client stopped early, or "" */
    tally_t tally;
} client_t;

/*  A batch sent and not yet answered. */
typedef struct {
    uint64_t id;
    int64_t due_ns;             /* latency counts from here */
    int64_t first_seq;          /* the workload seq of its first create, or -1 */
} flight_t;

int
driver_add_op (ledger_batch_t *batch, const work_op_t *op)
{
    switch (op->kind) {
        case WORK_CREATE:
            return ledger_batch_txn_create (batch, op->amount, ledger_time_at (op->occurred_us, 0), WORK_DESCRIPTION,
                                            LEDGER_UNSET) < 0? -1: 0;
        case WORK_UPDATE: {
            ledger_txn_change_t change = { .set_amount = true, .amount = op->amount, .category = LEDGER_UNSET };
            return ledger_batch_txn_update (batch, ledger_id (op->target_id), &change) < 0? -1: 0;
        }
        case WORK_GET:
            return ledger_batch_txn_get (batch, ledger_id (op->target_id)) < 0? -1: 0;
        case WORK_QUERY: {
            ledger_query_t query = {
                .from = ledger_time_at (op->occurred_us, 0),
                .to = ledger_time_at (op->occurred_us + WORK_QUERY_SPAN_US, 0),
                .limit = WORK_QUERY_LIMIT
            };
            return ledger_batch_txn_query (batch, &query) < 0? -1: 0;
        }
        default:
            return -1;
    }
}

/*  Count result (the outcome of flight) into tally, and teach workload
    (may be NULL) the rows it created. */
static void
s_account (tally_t *tally, tally_live_t *live, workload_t *workload, ledger_result_t *result,
           const flight_t *flight, int64_t now)
{
    if (flight)
        histogram_record (&tally->latency, now - flight->due_ns);
    tally->finished_ns = now;
    if (ledger_result_tries (result) > 1)
        tally->resent++;
    ledger_status_t status = ledger_result_status (result);
    tally_live_count (live, status == LEDGER_OK && ledger_result_failed_count (result) == 0);
    if (status == LEDGER_UNKNOWN) {
        tally->errors [TALLY_UNKNOWN]++;
        return;
    }
    if (status == LEDGER_FAILED) {
        tally->errors [tally_class_from_name (ledger_result_error_class (result))]++;
        return;
    }
    tally->batches_ok++;
    if (ledger_result_replayed (result))
        tally->replays++;
    size_t ops = ledger_result_op_count (result);
    tally->ops_ok += ops;
    tally->ops_failed += (uint64_t) ledger_result_failed_count (result);
    int64_t seq = flight? flight->first_seq: -1;
    for (size_t op = 0; op < ops; op++) {
        int64_t id = ledger_result_id (result, op);
        if (id > 0) {
            tally->rows_written++;
            if (workload && seq >= 0)
                workload_created (workload, id, seq++);
        }
        tally->rows_written += (uint64_t) ledger_result_changed (result, op);
        tally->rows_read += ledger_result_row_count (result, op);
    }
}

/*  The next batch of a writer: a script line, or ops from the workload.
    Returns NULL with self->error set when it cannot be made. */
static ledger_batch_t *
s_next_batch (client_t *self, workload_t *workload, work_op_t *ops, int64_t *first_seq_p)
{
    const driver_plan_t *plan = self->shared->plan;
    *first_seq_p = -1;
    if (plan->script) {
        uint64_t line = atomic_fetch_add_explicit (&self->shared->script_next, 1, memory_order_relaxed);
        char reason [256];
        ledger_batch_t *batch = script_batch (plan->script, (size_t) line, reason, sizeof (reason));
        if (!batch)
            snprintf (self->error, sizeof (self->error), "script line: %s", reason);
        return batch;
    }
    size_t count = (size_t) plan->options->batch_ops;
    workload_next (workload, ops, count);
    ledger_batch_t *batch = ledger_batch_new ();
    if (!batch) {
        snprintf (self->error, sizeof (self->error), "out of memory");
        return NULL;
    }
    for (size_t n = 0; n < count; n++) {
        if (ops [n].kind == WORK_CREATE && *first_seq_p < 0)
            *first_seq_p = ops [n].seq;
        if (driver_add_op (batch, &ops [n])) {
            snprintf (self->error, sizeof (self->error), "cannot build a batch: %s", ledger_batch_error (batch));
            ledger_batch_destroy (&batch);
            return NULL;
        }
    }
    return batch;
}

/*  How long after the last send replies may still come: every try the
    library may make, each with its timeout and its backoff, and a second. */
static int64_t
s_drain_ns (const options_t *options)
{
    int64_t ms = (int64_t) options->timeout_ms * (options->retries + 1) + 5000LL * options->retries + 1000;
    return ms * TIMING_NS_PER_MS;
}

/*  Milliseconds from now until when, rounded up, at least 1, at most the
    slice that lets us notice Ctrl-C. */
static int
s_wait_ms (int64_t now, int64_t when)
{
    int64_t ms = (when - now + TIMING_NS_PER_MS - 1) / TIMING_NS_PER_MS;
    return ms < 1? 1: ms > S_RECV_SLICE_MS? S_RECV_SLICE_MS: (int) ms;
}

static void
s_writer (client_t *self, ledger_client_t *client)
{
    shared_t *shared = self->shared;
    const driver_plan_t *plan = shared->plan;
    const options_t *options = plan->options;
    int window = options->window;
    flight_t *flights = calloc ((size_t) window, sizeof (flight_t));
    work_op_t *ops = calloc ((size_t) options->batch_ops, sizeof (work_op_t));
    workload_t *workload = plan->script? NULL:
        workload_new (&options->mix, self->index, options->clients, options->seed, plan->prefill, plan->prefill_count);
    if (!flights || !ops || (!plan->script && !workload)) {
        snprintf (self->error, sizeof (self->error), "out of memory");
        self->tally.errors [TALLY_LOCAL]++;
        goto done;
    }
    bool open_loop = options->rate > 0;
    double interval_ns = open_loop? 1e9 * options->clients / options->rate: 0;
    double next_due = (double) shared->start_ns + interval_ns * self->index / options->clients;
    int in_flight = 0;
    uint64_t sent = 0;
    bool failed = false;
    int64_t drain_until = 0;
    while (true) {
        int64_t now = timing_now_ns ();
        bool stopping = failed || signals_stopped ()
                     || (self->quota && sent >= self->quota)
                     || (shared->deadline_ns && (open_loop? next_due >= (double) shared->deadline_ns
                                                          : now >= shared->deadline_ns));
        while (!stopping && in_flight < window && (!open_loop || next_due <= (double) now)) {
            int64_t first_seq;
            ledger_batch_t *batch = s_next_batch (self, workload, ops, &first_seq);
            uint64_t id = 0;
            int64_t sent_ns = timing_now_ns ();
            if (batch && !(id = ledger_client_send (client, batch)))
                snprintf (self->error, sizeof (self->error), "cannot send: %s", ledger_client_error (client));
            ledger_batch_destroy (&batch);
            if (!id) {
                self->tally.errors [TALLY_LOCAL]++;
                tally_live_count (plan->live, false);
                stopping = failed = true;
                break;
            }
            flights [in_flight++] = (flight_t) { id, open_loop? (int64_t) next_due: sent_ns, first_seq };
            sent++;
            next_due += interval_ns;
            stopping = (self->quota && sent >= self->quota)
                    || (open_loop && shared->deadline_ns && next_due >= (double) shared->deadline_ns);
        }
        if (in_flight == 0) {
            if (stopping)
                break;
            if (open_loop)
                timing_sleep_until_ns ((int64_t) next_due);
            continue;
        }
        int timeout_ms;
        if (stopping) {
            if (!drain_until)
                drain_until = now + s_drain_ns (options);
            if (now >= drain_until)
                break;
            timeout_ms = s_wait_ms (now, drain_until);
        }
        else
        if (open_loop && in_flight < window)
            timeout_ms = s_wait_ms (now, (int64_t) next_due);
        else
            timeout_ms = shared->deadline_ns? s_wait_ms (now, shared->deadline_ns): S_RECV_SLICE_MS;
        ledger_result_t *result = ledger_client_recv (client, timeout_ms);
        if (!result)
            continue;
        uint64_t id = ledger_result_request_id (result);
        int slot = 0;
        while (slot < in_flight && flights [slot].id != id)
            slot++;
        s_account (&self->tally, plan->live, workload, result, slot < in_flight? &flights [slot]: NULL, timing_now_ns ());
        if (slot < in_flight)
            flights [slot] = flights [--in_flight];
        ledger_result_destroy (&result);
    }
    self->tally.errors [TALLY_LOST] += (uint64_t) in_flight;
    for (int n = 0; n < in_flight; n++)
        tally_live_count (plan->live, false);
done:
    workload_destroy (&workload);
    free (ops);
    free (flights);
}

static void
s_reader (client_t *self, ledger_client_t *client)
{
    shared_t *shared = self->shared;
    const options_t *options = shared->plan->options;
    ledger_query_t query = { .limit = options->query_limit };
    while (atomic_load (&shared->writers_running) > 0 && !signals_stopped ()) {
        ledger_batch_t *batch = ledger_batch_new ();
        uint64_t id = 0;
        int64_t sent_ns = timing_now_ns ();
        if (batch && ledger_batch_txn_query (batch, &query) >= 0)
            id = ledger_client_send (client, batch);
        if (!id) {
            snprintf (self->error, sizeof (self->error), "cannot send a query: %s",
                      batch? ledger_client_error (client): "out of memory");
            ledger_batch_destroy (&batch);
            self->tally.errors [TALLY_LOCAL]++;
            break;
        }
        ledger_batch_destroy (&batch);
        ledger_result_t *result = NULL;
        int64_t drain_until = timing_now_ns () + s_drain_ns (options);
        while (!result && timing_now_ns () < drain_until)
            result = ledger_client_recv (client, S_RECV_SLICE_MS);
        if (!result) {
            self->tally.errors [TALLY_LOST]++;
            break;
        }
        flight_t flight = { id, sent_ns, -1 };
        s_account (&self->tally, NULL, NULL, result, &flight, timing_now_ns ());
        //  After the last page, or a failed one, start again from the first.
        if (ledger_query_next_page (&query, result, 0) < 0)
            query.after = NULL;
        ledger_result_destroy (&result);
    }
}

/*  Say this client is ready and wait for the clock to start. */
static void
s_wait_for_go (shared_t *shared)
{
    pthread_mutex_lock (&shared->lock);
    shared->ready++;
    pthread_cond_broadcast (&shared->changed);
    while (!shared->go)
        pthread_cond_wait (&shared->changed, &shared->lock);
    pthread_mutex_unlock (&shared->lock);
}

/*  Connect, ping, and say so; wait for the clock; run. */
ledger_client_t *
driver_client_new (const options_t *options, const char *endpoint)
{
    ledger_client_t *client = ledger_client_new (endpoint);
    if (client && (options->curve_secret || options->curve_server_key)
    &&  ledger_client_set_curve (client, options->curve_secret, options->curve_server_key)) {
        fprintf (stderr, "ledger-bench: %s\n", ledger_client_error (client));
        ledger_client_destroy (&client);
    }
    return client;
}

static void *
s_client_main (void *arg)
{
    client_t *self = (client_t *) arg;
    shared_t *shared = self->shared;
    const options_t *options = shared->plan->options;
    ledger_client_t *client = driver_client_new (options, shared->plan->endpoint);
    ledger_batch_t *ping = ledger_batch_new ();
    if (!client || !ping || ledger_batch_ping (ping) < 0)
        snprintf (self->error, sizeof (self->error), "cannot make a client for %s", shared->plan->endpoint);
    else {
        ledger_client_set_timeout (client, options->timeout_ms);
        ledger_client_set_retries (client, options->retries);
        ledger_client_set_window (client, self->reader? 1: options->window);
        ledger_result_t *result = ledger_client_submit (client, ping);
        if (!result || ledger_result_status (result) != LEDGER_OK)
            snprintf (self->error, sizeof (self->error), "the first ping failed: %s",
                      result? ledger_result_describe (result): ledger_client_error (client));
        ledger_result_destroy (&result);
    }
    ledger_batch_destroy (&ping);
    s_wait_for_go (shared);
    self->tally.started_ns = shared->start_ns;
    if (!shared->abort) {
        if (self->reader)
            s_reader (self, client);
        else
            s_writer (self, client);
    }
    if (!self->reader)
        atomic_fetch_sub (&shared->writers_running, 1);
    ledger_client_destroy (&client);
    return NULL;
}

int
driver_run (const driver_plan_t *plan, tally_t *writers, tally_t *readers, char *errbuf, size_t errlen)
{
    const options_t *options = plan->options;
    int writer_count = options->clients;
    int total = writer_count + options->query_clients;
    shared_t shared = { .plan = plan };
    atomic_init (&shared.writers_running, writer_count);
    atomic_init (&shared.script_next, 0);
    client_t *clients = calloc ((size_t) total, sizeof (client_t));
    if (!clients) {
        snprintf (errbuf, errlen, "out of memory");
        return -1;
    }
    pthread_mutex_init (&shared.lock, NULL);
    pthread_cond_init (&shared.changed, NULL);
    int rc = 0;
    int started = 0;
    for (int n = 0; n < total; n++) {
        client_t *client = &clients [n];
        client->shared = &shared;
        client->reader = n >= writer_count;
        client->index = client->reader? n - writer_count: n;
        if (!client->reader && plan->batches)
            client->quota = plan->batches / (uint64_t) writer_count
                          + ((uint64_t) client->index < plan->batches % (uint64_t) writer_count);
        tally_reset (&client->tally);
        if (!client->reader && plan->batches && client->quota == 0)
            continue;           /* fewer batches than clients: this one has none */
        if (pthread_create (&client->thread, NULL, s_client_main, client)) {
            snprintf (errbuf, errlen, "cannot start client thread %d", n);
            rc = -1;
            break;
        }
        client->started = true;
        started++;
    }
    /*  Writers that never run count as finished. */
    for (int n = 0; n < writer_count; n++)
        if (!clients [n].started)
            atomic_fetch_sub (&shared.writers_running, 1);

    pthread_mutex_lock (&shared.lock);
    while (shared.ready < started)
        pthread_cond_wait (&shared.changed, &shared.lock);
    for (int n = 0; rc == 0 && n < total; n++)
        if (clients [n].error [0]) {
            snprintf (errbuf, errlen, "%s %d: %s", clients [n].reader? "query client": "client",
                      clients [n].index, clients [n].error);
            rc = -1;
        }
    shared.abort = rc != 0;
    shared.start_ns = timing_now_ns ();
    shared.deadline_ns = plan->batches? 0: shared.start_ns + (int64_t) (options->duration_s * 1e9);
    shared.go = true;
    pthread_cond_broadcast (&shared.changed);
    pthread_mutex_unlock (&shared.lock);

    while (!shared.abort && atomic_load (&shared.writers_running) > 0) {
        timing_sleep_until_ns (timing_now_ns () + 100 * TIMING_NS_PER_MS);
        if (plan->tick)
            plan->tick (plan->tick_arg, shared.start_ns);
    }
    for (int n = 0; n < total; n++) {
        client_t *client = &clients [n];
        if (!client->started)
            continue;
        pthread_join (client->thread, NULL);
        tally_merge (client->reader? readers: writers, &client->tally);
        if (rc == 0 && client->error [0])
            fprintf (stderr, "ledger-bench: %s %d stopped early: %s\n", client->reader? "query client": "client",
                     client->index, client->error);
    }
    pthread_cond_destroy (&shared.changed);
    pthread_mutex_destroy (&shared.lock);
    free (clients);
    return rc;
}

int
driver_prefill (const char *endpoint, size_t count, const options_t *options, work_row_t **rows_p,
                char *errbuf, size_t errlen)
{
    *rows_p = NULL;
    work_row_t *rows = calloc (count? count: 1, sizeof (work_row_t));
    ledger_client_t *client = driver_client_new (options, endpoint);
    int rc = -1;
    if (!rows || !client) {
        snprintf (errbuf, errlen, "cannot make a client for %s", endpoint);
        goto done;
    }
    ledger_client_set_timeout (client, options->timeout_ms > 30000? options->timeout_ms: 30000);
    ledger_client_set_retries (client, 3);
    size_t made = 0;
    while (made < count) {
        size_t batch_rows = count - made < S_PREFILL_BATCH? count - made: S_PREFILL_BATCH;
        ledger_batch_t *batch = ledger_batch_new ();
        for (size_t n = 0; batch && n < batch_rows; n++) {
            work_op_t op = { .kind = WORK_CREATE, .amount = 100 + (int64_t) ((made + n) % 1000),
                             .occurred_us = workload_occurred_us (-1, 1, (int64_t) (made + n)) };
            if (driver_add_op (batch, &op))
                break;
        }
        ledger_result_t *result = batch && ledger_batch_size (batch) == batch_rows? ledger_client_submit (client, batch): NULL;
        ledger_batch_destroy (&batch);
        if (!result || ledger_result_status (result) != LEDGER_OK || ledger_result_op_count (result) != batch_rows) {
            snprintf (errbuf, errlen, "prefill: %s", result? ledger_result_describe (result): ledger_client_error (client));
            ledger_result_destroy (&result);
            goto done;
        }
        for (size_t n = 0; n < batch_rows; n++)
            rows [made + n] = (work_row_t) { ledger_result_id (result, n),
                                             workload_occurred_us (-1, 1, (int64_t) (made + n)) };
        ledger_result_destroy (&result);
        made += batch_rows;
        if (signals_stopped ()) {
            snprintf (errbuf, errlen, "interrupted");
            goto done;
        }
    }
    *rows_p = rows;
    rows = NULL;
    rc = 0;
done:
    free (rows);
    ledger_client_destroy (&client);
    return rc;
}

int
driver_worker_stats (const char *endpoint, const options_t *options, driver_worker_stats_t *stats,
                     char *errbuf, size_t errlen)
{
    ledger_client_t *client = driver_client_new (options, endpoint);
    ledger_batch_t *batch = ledger_batch_new ();
    ledger_result_t *result = NULL;
    int rc = -1;
    if (!client || !batch || ledger_batch_stats (batch) < 0)
        snprintf (errbuf, errlen, "cannot make a client for %s", endpoint);
    else {
        ledger_client_set_timeout (client, options->timeout_ms);
        ledger_client_set_retries (client, 2);
        result = ledger_client_submit (client, batch);
        if (!result || ledger_result_status (result) != LEDGER_OK)
            snprintf (errbuf, errlen, "sys.stats: %s", result? ledger_result_describe (result): ledger_client_error (client));
        else {
            stats->batches_ok = ledger_result_stat (result, 0, "batches_ok");
            stats->transactions = ledger_result_stat (result, 0, "transactions");
            stats->replies_dropped = ledger_result_stat (result, 0, "replies_dropped");
            rc = 0;
        }
    }
    ledger_result_destroy (&result);
    ledger_batch_destroy (&batch);
    ledger_client_destroy (&client);
    return rc;
}
