/*  ledger_client -- send batches, match replies, retry safely.

    One DEALER socket connected to every endpoint carries all requests; a
    reply is matched to its request by the `id` the client stamps on it, so
    replies may come back in any order and stale ones are ignored.

    Retries follow the zguide's Lazy Pirate pattern: when a reply is late the
    socket is closed and reopened (dropping whatever the dead connection
    held) and every request still waiting is sent again. A retryable error
    reply (busy, io, overloaded) is retried after a backoff. Retrying is safe
    because a batch that writes always carries an idempotency key: if an
    earlier try did commit, the worker answers from its log. */

#include "ledger_internal.h"

#include <czmq.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define MAX_ENDPOINTS 16

/*  One ZeroMQ context for every client of the process, as the zguide
    advises: a process with many clients (a load generator, a service with
    one client per thread) then has one I/O thread, not one per client, and
    replies for several clients are read in one wake-up. It is made with
    the first client and ended with the last. */
static pthread_mutex_t s_ctx_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t s_ctx_once = PTHREAD_ONCE_INIT;
static void *s_ctx;
static size_t s_ctx_users;
static atomic_uint_fast64_t s_monitors;     /* names each monitor's endpoint */

/*  fork: the child gets the parent's context without its I/O thread, and
    maybe the lock held by a thread that is not there. It starts afresh;
    clients made before the fork are the parent's, not usable here. */
static void
s_ctx_prepare (void)
{
    pthread_mutex_lock (&s_ctx_lock);
}

static void
s_ctx_parent (void)
{
    pthread_mutex_unlock (&s_ctx_lock);
}

static void
s_ctx_child (void)
{
    pthread_mutex_init (&s_ctx_lock, NULL);
    s_ctx = NULL;
    s_ctx_users = 0;
}

static void
s_ctx_at_fork (void)
{
    pthread_atfork (s_ctx_prepare, s_ctx_parent, s_ctx_child);
}

static void *
s_ctx_acquire (void)
{
    pthread_once (&s_ctx_once, s_ctx_at_fork);
    pthread_mutex_lock (&s_ctx_lock);
    if (!s_ctx && (s_ctx = zmq_ctx_new ()) != NULL)
        /*  Three sockets a client (its DEALER, and a monitor's two ends):
            the default 1023 would stop at about 340 clients. */
        zmq_ctx_set (s_ctx, ZMQ_MAX_SOCKETS, zmq_ctx_get (s_ctx, ZMQ_SOCKET_LIMIT));
    void *ctx = s_ctx;
    if (ctx)
        s_ctx_users++;
    pthread_mutex_unlock (&s_ctx_lock);
    return ctx;
}

static void
s_ctx_release (void *ctx)
{
    pthread_mutex_lock (&s_ctx_lock);
    /*  A context from before a fork is left alone (see above). */
    if (ctx == s_ctx && s_ctx_users && --s_ctx_users == 0) {
        zmq_ctx_term (s_ctx);
        s_ctx = NULL;
    }
    pthread_mutex_unlock (&s_ctx_lock);
}

typedef struct {
    uint64_t id;
    char *body;                 /* the encoded request, resent as is */
    size_t size;
    int attempts;               /* tries that ended in a timeout or a retryable error */
    int sends;
    int64_t started;            /* first sent (ms, monotonic) */
    int64_t deadline;           /* waiting for a reply until then (ms, monotonic) */
    int64_t resend_at;          /* 0, or when to send again after a backoff */
    bool timed_out;             /* some try got no reply: it may have committed */
    ledger_result_t *last_error;        /* the last retryable error reply */
} pending_t;

struct _ledger_client_t {
    void *ctx;
    void *socket;
    void *monitor;              /* handshake events of socket, to tell "refused" from "silent" */
    bool curve;
    uint8_t curve_public [32], curve_secret [32], curve_server [32];
    bool auth_refused;          /* the worker refused our key since the last reply */
    bool handshake_done;        /* a handshake succeeded on this socket: what was sent may have arrived */
    bool handshake_broken;      /* a handshake was cut short: wrong mechanism or server key */
    bool connection_lost;       /* the connection broke (the worker died or closed it) */
    bool refused;               /* a connect was refused: nothing listens there now */
    bool tcp_connected;         /* the current connect attempt reached a listener */
    int refusals;               /* endpoints that refused a connect since the last reply */
    char *endpoints [MAX_ENDPOINTS];
    int endpoint_count;
    int current;                /* the endpoint the socket is connected to */
    bool switch_endpoint;       /* reconnect to endpoints [current] at the next pump */
    int timeout_ms;
    int retries;
    int backoff_initial_ms;
    int backoff_max_ms;
    int window;
    char client_id [17];
    uint64_t next_key;          /* sequence number for idempotency keys */
    uint64_t next_request;      /* request ids, from 1 */
    pending_t *pending;
    size_t pending_count;
    size_t pending_alloc;
    ledger_result_t **ready;    /* finished, not yet handed out */
    size_t ready_count;
    size_t ready_alloc;
    char error [256];
};

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static int
s_fail (ledger_client_t *self, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

static int
s_fail (ledger_client_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (self->error, sizeof (self->error), format, args);
    va_end (args);
    return -1;
}

static uint64_t
s_random64 (void)
{
    uint64_t value = 0;
    if (getrandom (&value, sizeof (value), 0) != (ssize_t) sizeof (value)) {
        struct timespec now;
        clock_gettime (CLOCK_REALTIME, &now);
        value = ((uint64_t) now.tv_nsec << 32) ^ (uint64_t) now.tv_sec ^ ((uint64_t) getpid () << 16);
    }
    return value;
}

/*  Close the socket and its monitor. The monitor is stopped first: an
    event sent to a monitor whose reader is gone blocks libzmq's I/O thread,
    and with it every socket of the context (zeromq/libzmq#3575). */
static void
s_close (ledger_client_t *self)
{
    if (self->socket && self->monitor)
        zmq_socket_monitor (self->socket, NULL, 0);
    if (self->socket)
        zmq_close (self->socket);
    if (self->monitor)
        zmq_close (self->monitor);
    self->socket = NULL;
    self->monitor = NULL;
}

/*  (Re)open the socket and connect it to the current endpoint, with a
    monitor that reports failed handshakes. */
static int
s_open (ledger_client_t *self)
{
    s_close (self);
    self->socket = zmq_socket (self->ctx, ZMQ_DEALER);
    if (!self->socket)
        return s_fail (self, "cannot create a socket: %s", zmq_strerror (errno));
    int linger = 0;
    zmq_setsockopt (self->socket, ZMQ_LINGER, &linger, sizeof (linger));
    if (self->curve
    &&  (zmq_setsockopt (self->socket, ZMQ_CURVE_SERVERKEY, self->curve_server, 32)
         || zmq_setsockopt (self->socket, ZMQ_CURVE_PUBLICKEY, self->curve_public, 32)
         || zmq_setsockopt (self->socket, ZMQ_CURVE_SECRETKEY, self->curve_secret, 32))) {
        s_fail (self, "cannot set up CURVE: %s", zmq_strerror (errno));
        s_close (self);
        return -1;
    }
    char endpoint [64];
    snprintf (endpoint, sizeof (endpoint), "inproc://ledger-client-monitor-%llu",
              (unsigned long long) atomic_fetch_add (&s_monitors, 1));
    self->connection_lost = false;
    self->refused = false;
    self->tcp_connected = false;
    self->handshake_done = false;
    if (zmq_socket_monitor (self->socket, endpoint, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_DISCONNECTED
                            | ZMQ_EVENT_HANDSHAKE_SUCCEEDED
                            | ZMQ_EVENT_CONNECTED | ZMQ_EVENT_CONNECT_RETRIED
                            | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) == 0) {
        self->monitor = zmq_socket (self->ctx, ZMQ_PAIR);
        /*  Unbounded: libzmq sends events from the I/O thread, blocking, and
            a full pipe would stall every client sharing the context while
            this one is idle. Events are few and small. */
        int unlimited = 0;
        if (self->monitor
        &&  (zmq_setsockopt (self->monitor, ZMQ_RCVHWM, &unlimited, sizeof (unlimited))
             || zmq_connect (self->monitor, endpoint))) {
            zmq_close (self->monitor);
            self->monitor = NULL;
        }
    }
    /*  One endpoint at a time: a cluster has one leader, and a request
        that went to another node is answered `unavailable`, with the
        leader's endpoint when that node knows it. */
    if (zmq_connect (self->socket, self->endpoints [self->current])) {
        s_fail (self, "cannot connect to %s: %s", self->endpoints [self->current], zmq_strerror (errno));
        s_close (self);
        return -1;
    }
    return 0;
}

/*  Go to the next endpoint (after a silence, or a node that knows no
    leader). */
static void
s_rotate (ledger_client_t *self)
{
    if (self->endpoint_count > 1) {
        self->current = (self->current + 1) % self->endpoint_count;
        self->switch_endpoint = true;
    }
}

/*  A node said the leader is at endpoint: go there (adding it to the
    list if it is not in it). Returns true if that is a move. */
static bool
s_follow_hint (ledger_client_t *self, const char *endpoint)
{
    for (int n = 0; n < self->endpoint_count; n++)
        if (strcmp (self->endpoints [n], endpoint) == 0) {
            if (n == self->current)
                return false;
            self->current = n;
            self->switch_endpoint = true;
            return true;
        }
    char *copy = self->endpoint_count < MAX_ENDPOINTS? strdup (endpoint): NULL;
    if (!copy) {
        s_rotate (self);
        return false;
    }
    self->current = self->endpoint_count;
    self->endpoints [self->endpoint_count++] = copy;
    self->switch_endpoint = true;
    return true;
}

/*  Read the monitor's events: did a handshake fail, or the connection
    break, since the last look? */
static void
s_check_handshakes (ledger_client_t *self)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    while (self->monitor && zmq_msg_recv (&msg, self->monitor, ZMQ_DONTWAIT) >= 0) {
        if (zmq_msg_more (&msg) && zmq_msg_size (&msg) >= 2) {
            uint16_t event;
            memcpy (&event, zmq_msg_data (&msg), 2);
            if (event & ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
                self->auth_refused = true;
            if (event & ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
                self->handshake_done = true;
            if (event & (ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL))
                self->handshake_broken = true;
            if (event & ZMQ_EVENT_DISCONNECTED)
                self->connection_lost = true;
            if (event & ZMQ_EVENT_CONNECTED)
                self->tcp_connected = true;
            /*  libzmq announces every reconnect it schedules, also after a
                handshake that failed on a live listener (a wrong key):
                only an attempt that never connected was refused. */
            if (event & ZMQ_EVENT_CONNECT_RETRIED) {
                if (!self->tcp_connected)
                    self->refused = true;
                self->tcp_connected = false;
            }
        }
    }
    zmq_msg_close (&msg);
}

int
ledger_client_set_curve (ledger_client_t *self, const char *client_cert, const char *server_key)
{
    zcert_t *cert = client_cert? zcert_load (client_cert): NULL;
    if (!cert)
        return s_fail (self, "cannot load the client certificate %s", client_cert? client_cert: "(none)");
    memcpy (self->curve_public, zcert_public_key (cert), 32);
    memcpy (self->curve_secret, zcert_secret_key (cert), 32);
    zcert_destroy (&cert);
    if (server_key && strlen (server_key) == 40) {
        if (!zmq_z85_decode (self->curve_server, server_key))
            return s_fail (self, "the server key is not 40 Z85 characters");
    }
    else {
        zcert_t *server = server_key? zcert_load (server_key): NULL;
        if (!server)
            return s_fail (self, "cannot load the server's public certificate %s", server_key? server_key: "(none)");
        memcpy (self->curve_server, zcert_public_key (server), 32);
        zcert_destroy (&server);
    }
    self->curve = true;
    return s_open (self);
}

ledger_client_t *
ledger_client_new (const char *endpoints)
{
    ledger_client_t *self = calloc (1, sizeof (ledger_client_t));
    if (!self)
        return NULL;
    self->timeout_ms = 5000;
    self->retries = 3;
    self->backoff_initial_ms = 100;
    self->backoff_max_ms = 5000;
    self->window = 500;
    self->next_request = 1;
    snprintf (self->client_id, sizeof (self->client_id), "%016llx", (unsigned long long) s_random64 ());
    const char *cursor = endpoints? endpoints: "";
    while (*cursor && self->endpoint_count < MAX_ENDPOINTS) {
        size_t len = strcspn (cursor, ",");
        if (len)
            self->endpoints [self->endpoint_count++] = strndup (cursor, len);
        cursor += len + (cursor [len] == ',');
    }
    self->ctx = s_ctx_acquire ();
    if (!self->ctx || self->endpoint_count == 0 || s_open (self)) {
        ledger_client_destroy (&self);
        return NULL;
    }
    return self;
}

void
ledger_client_destroy (ledger_client_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    ledger_client_t *self = *self_p;
    for (size_t n = 0; n < self->pending_count; n++) {
        free (self->pending [n].body);
        ledger_result_destroy (&self->pending [n].last_error);
    }
    free (self->pending);
    for (size_t n = 0; n < self->ready_count; n++)
        ledger_result_destroy (&self->ready [n]);
    free (self->ready);
    for (int n = 0; n < self->endpoint_count; n++)
        free (self->endpoints [n]);
    s_close (self);
    if (self->ctx)
        s_ctx_release (self->ctx);
    free (self);
    *self_p = NULL;
}

void
ledger_client_set_timeout (ledger_client_t *self, int timeout_ms)
{
    self->timeout_ms = timeout_ms > 0? timeout_ms: 1;
}

void
ledger_client_set_retries (ledger_client_t *self, int retries)
{
    self->retries = retries >= 0? retries: 0;
}

void
ledger_client_set_backoff (ledger_client_t *self, int initial_ms, int max_ms)
{
    self->backoff_initial_ms = initial_ms > 0? initial_ms: 0;
    self->backoff_max_ms = max_ms > self->backoff_initial_ms? max_ms: self->backoff_initial_ms;
}

void
ledger_client_set_window (ledger_client_t *self, int window)
{
    self->window = window > 0? window: 1;
}

const char *
ledger_client_id (ledger_client_t *self)
{
    return self->client_id;
}

const char *
ledger_client_error (ledger_client_t *self)
{
    return self->error;
}

size_t
ledger_client_in_flight (ledger_client_t *self)
{
    return self->pending_count;
}

/*  Exponential, capped, with the wait drawn from the upper half so that
    clients who failed together do not all come back together. */
static int64_t
s_backoff_ms (ledger_client_t *self, int attempt)
{
    int64_t delay = self->backoff_initial_ms;
    for (int n = 1; n < attempt && delay < self->backoff_max_ms; n++)
        delay *= 2;
    if (delay > self->backoff_max_ms)
        delay = self->backoff_max_ms;
    if (delay < 2)
        return delay;
    return delay / 2 + (int64_t) (s_random64 () % (uint64_t) (delay / 2 + 1));
}

static void
s_transmit (ledger_client_t *self, pending_t *pending, int64_t now)
{
    pending->sends++;
    pending->resend_at = 0;
    pending->deadline = now + self->timeout_ms;
    /*  A send that would block counts as a lost try: the deadline handles it. */
    zmq_send (self->socket, pending->body, pending->size, ZMQ_DONTWAIT);
}

static int
s_push_ready (ledger_client_t *self, ledger_result_t *result)
{
    if (self->ready_count == self->ready_alloc) {
        size_t alloc = self->ready_alloc? self->ready_alloc * 2: 16;
        ledger_result_t **ready = realloc (self->ready, alloc * sizeof (ledger_result_t *));
        if (!ready)
            return -1;
        self->ready = ready;
        self->ready_alloc = alloc;
    }
    self->ready [self->ready_count++] = result;
    return 0;
}

/*  Request n is done with result: hand it over and forget the request. */
static void
s_finish (ledger_client_t *self, size_t n, ledger_result_t *result)
{
    pending_t *pending = &self->pending [n];
    if (result)
        ledger_result_set_tries (result, pending->sends);
    if (!result || s_push_ready (self, result))
        ledger_result_destroy (&result);
    free (pending->body);
    ledger_result_destroy (&pending->last_error);
    self->pending [n] = self->pending [--self->pending_count];
}

/*  A try of request n failed (no reply in time, or a retryable error
    reply): send it again later, or give up. Giving up after a try that got
    no reply means the outcome is unknown: that try may have committed. */
static void
s_try_failed (ledger_client_t *self, size_t n, int64_t now, bool timed_out, const char *reason)
{
    pending_t *pending = &self->pending [n];
    pending->attempts++;
    pending->timed_out |= timed_out;
    if (pending->attempts <= self->retries) {
        pending->resend_at = now + s_backoff_ms (self, pending->attempts);
        if (pending->resend_at <= now)
            pending->resend_at = now + 1;
        return;
    }
    ledger_result_t *result = pending->last_error;
    pending->last_error = NULL;
    if (pending->timed_out) {
        ledger_result_destroy (&result);
        result = ledger_result_unknown (pending->id, pending->sends, reason);
    }
    s_finish (self, n, result);
}

/*  Request n could not run on the node asked, and the node said so at once
    (a cluster node with no leader for now, or nothing listening): ask again
    after the first backoff step, not a growing one, and without counting a
    try, for as long as the retries would have waited for silent replies.
    Returns true if so (taking result, if any, as the last error); false
    when that time is spent, or retries is 0, and the try must count. */
static bool
s_not_now (ledger_client_t *self, size_t n, int64_t now, ledger_result_t *result)
{
    pending_t *pending = &self->pending [n];
    if (self->retries == 0 || now - pending->started >= (int64_t) (self->retries + 1) * self->timeout_ms) {
        if (!result)
            pending->deadline = now;    /* counts as a silent try at the next pump */
        return false;
    }
    if (result) {
        ledger_result_destroy (&pending->last_error);
        pending->last_error = result;
    }
    pending->resend_at = now + 1 + s_backoff_ms (self, 1);
    return true;
}

static ssize_t
s_find (ledger_client_t *self, uint64_t id)
{
    for (size_t n = 0; n < self->pending_count; n++)
        if (self->pending [n].id == id)
            return (ssize_t) n;
    return -1;
}

/*  A reply arrived: match it, then finish or retry its request. */
static void
s_on_reply (ledger_client_t *self, zmq_msg_t *msg, int64_t now)
{
    char reason [200];
    ledger_result_t *result = ledger_result_from_reply (zmq_msg_data (msg), zmq_msg_size (msg), reason, sizeof (reason));
    if (!result)
        return;                 /* not a reply we can read: its request times out and is retried */
    self->auth_refused = false; /* a reply came: whatever failed before was another connection */
    self->refusals = 0;
    self->handshake_broken = false;
    ssize_t n = s_find (self, ledger_result_reply_id (result));
    if (n < 0 || self->pending [n].resend_at) {
        ledger_result_destroy (&result);        /* stale: already done, or a try we gave up on */
        return;
    }
    if (ledger_result_status (result) == LEDGER_FAILED && ledger_result_retryable (result)) {
        pending_t *pending = &self->pending [n];
        /*  Not the leader: follow its hint at once, or try the next node
            after the backoff. */
        bool moved = false;
        const char *klass = ledger_result_error_class (result);
        if (klass && strcmp (klass, "unavailable") == 0) {
            const char *leader = ledger_result_error_leader (result);
            if (leader && *leader)
                moved = s_follow_hint (self, leader);
            else
                s_rotate (self);
            /*  A cluster without a leader for now (an election takes a
                fraction of a second): the node answered at once, so ask
                again soon, not after a growing backoff, for as long as the
                retries would have waited for silent replies. */
            if (s_not_now (self, (size_t) n, now, result)) {
                if (moved)
                    pending->resend_at = now;
                return;
            }
        }
        uint64_t id = pending->id;
        ledger_result_destroy (&pending->last_error);
        pending->last_error = result;
        s_try_failed (self, (size_t) n, now, false, ledger_result_describe (result));
        if (moved && (n = s_find (self, id)) >= 0 && self->pending [n].resend_at)
            self->pending [n].resend_at = now;
        return;
    }
    s_finish (self, (size_t) n, result);
}

/*  Why the try of a request that waited on `asked` got no reply. */
static void
s_silence_reason (ledger_client_t *self, const char *asked, char *reason, size_t size)
{
    s_check_handshakes (self);
    if (self->auth_refused)
        snprintf (reason, size, "authentication failed: the worker refused this client's "
                  "CURVE key (no reply within %d ms)", self->timeout_ms);
    else
    if (self->handshake_broken)
        snprintf (reason, size, "authentication failed: the worker closed the connection "
                  "during the handshake (%s; no reply within %d ms)",
                  self->curve? "is the server key right?": "does it require CURVE?", self->timeout_ms);
    else
    if (self->refused)
        snprintf (reason, size, "nothing answers at %s (connection refused)", asked);
    else
    if (self->connection_lost)
        snprintf (reason, size, "the connection to %s was lost before the reply", asked);
    else
        snprintf (reason, size, "no reply within %d ms", self->timeout_ms);
}

/*  Every request whose deadline passed had a silent try: count it, and
    move to the next endpoint. Returns true if the socket must be reopened
    (Lazy Pirate: a silent connection may be dead). */
static bool
s_expire_tries (ledger_client_t *self, const char *asked, int64_t now)
{
    bool reopen = self->switch_endpoint;
    for (size_t n = 0; n < self->pending_count; ) {
        pending_t *pending = &self->pending [n];
        size_t before = self->pending_count;
        if (!pending->resend_at && now >= pending->deadline) {
            char reason [160];
            s_silence_reason (self, asked, reason, sizeof (reason));
            s_try_failed (self, n, now, true, reason);
            if (!reopen)
                s_rotate (self);
            reopen = true;
        }
        if (self->pending_count == before)
            n++;
    }
    return reopen;
}

/*  Start afresh on the current endpoint (the next one, or the leader's) and
    send again what was waiting on the old socket. A request that was sent
    on it may have committed, since its reply will never be read: it is
    sent once more (keyed, so a replay if it did), unless no retry is
    allowed: then its outcome is unknown. */
static void
s_reopen (ledger_client_t *self, const char *asked, int64_t now)
{
    self->switch_endpoint = false;
    bool had_socket = self->socket != NULL;
    if (s_open (self))
        return;
    for (size_t n = 0; n < self->pending_count; ) {
        pending_t *pending = &self->pending [n];
        size_t before = self->pending_count;
        if (!pending->resend_at) {
            bool abandoned = had_socket && pending->sends;
            if (abandoned)
                pending->timed_out = true;
            if (abandoned && self->retries == 0) {
                char reason [160];
                snprintf (reason, sizeof (reason), "the connection to %s was closed before the reply "
                          "(another request timed out on it)", asked);
                s_try_failed (self, n, now, true, reason);
            }
            else
                s_transmit (self, pending, now);
        }
        if (self->pending_count == before)
            n++;
    }
}

/*  Send what is due after a backoff; returns the next timer, or until. */
static int64_t
s_send_due (ledger_client_t *self, int64_t now, int64_t until)
{
    int64_t wake = until;
    for (size_t n = 0; n < self->pending_count; n++) {
        pending_t *pending = &self->pending [n];
        if (pending->resend_at && pending->resend_at <= now)
            s_transmit (self, pending, now);
        int64_t at = pending->resend_at? pending->resend_at: pending->deadline;
        if (at < wake)
            wake = at;
    }
    return wake;
}

/*  The worker refused our CURVE key at the handshake: no try will get
    through, so finish every request now rather than after every timeout.
    One never delivered is a definite refusal (nothing applied); one that
    may have arrived before (a try that timed out, or sent while a
    handshake had succeeded on this socket) stays of unknown outcome. */
static void
s_refuse_all (ledger_client_t *self)
{
    const char *reason = "authentication failed: the worker refused this client's CURVE key";
    while (self->pending_count) {
        pending_t *pending = &self->pending [0];
        bool maybe_delivered = pending->timed_out || self->handshake_done;
        ledger_result_t *result = maybe_delivered
            ? ledger_result_unknown (pending->id, pending->sends, reason)
            : ledger_result_denied (pending->id, pending->sends, "AUTH_REFUSED", reason);
        s_finish (self, 0, result);
    }
}

/*  The socket monitor spoke: act on a connection that died or was refused. */
static void
s_on_monitor (ledger_client_t *self, int64_t now)
{
    s_check_handshakes (self);
    if (self->auth_refused) {
        /*  libzmq does not reconnect after a refused handshake: the next
            request goes on a new socket, whose handshake tells again. */
        s_refuse_all (self);
        self->auth_refused = false;
        self->switch_endpoint = true;
        return;
    }
    /*  A handshake cut short and then a refused connect: the node died
        while we were shaking hands (a leader killed under a ledgerctl
        loop), not a wrong key, which fails again on a live listener. */
    if (self->handshake_broken && self->refused)
        self->handshake_broken = false;
    if (self->auth_refused || self->handshake_broken)
        return;                 /* left to the timeout, which says why */
    if (self->connection_lost) {
        /*  The worker died or dropped us: no reply will come on this
            connection, so do not wait out the timeout (a leader killed in
            a cluster would cost every producer a whole timeout). What was
            waiting is a lost try, as after a timeout: its outcome is
            unknown, and it goes again, keyed, to the next endpoint. */
        for (size_t n = 0; n < self->pending_count; n++)
            if (!self->pending [n].resend_at)
                self->pending [n].deadline = now;
        if (!self->pending_count)
            s_rotate (self);
    }
    else
    if (self->refused) {
        /*  Nothing listens at this endpoint (a node that is down): what
            waits here was never delivered. Try the next endpoint at once
            while some endpoint has not refused since the last reply (a
            dead node first in the list must not slow every call), then
            soon, as for `unavailable`. A new socket only when something
            waited on this one (the old one holds the sends queued): never
            a spin of refused connects. */
        bool waiting = false;
        for (size_t n = 0; n < self->pending_count && !waiting; n++)
            waiting = !self->pending [n].resend_at;
        /*  A refusal counts once, when it sends something elsewhere (the
            flag stays up until the socket is reopened). */
        bool untried = waiting && ++self->refusals < self->endpoint_count;
        for (size_t n = 0; n < self->pending_count; n++)
            if (!self->pending [n].resend_at && s_not_now (self, n, now, NULL) && untried)
                self->pending [n].resend_at = now;
        if (waiting) {
            s_rotate (self);
            self->switch_endpoint = true;
        }
    }
}

/*  Take every reply that is here; each is one frame (no envelope). */
static void
s_take_replies (ledger_client_t *self)
{
    zmq_msg_t msg;
    zmq_msg_init (&msg);
    while (zmq_msg_recv (&msg, self->socket, ZMQ_DONTWAIT) >= 0) {
        if (!zmq_msg_more (&msg))
            s_on_reply (self, &msg, s_now_ms ());
        else
            while (zmq_msg_more (&msg) && zmq_msg_recv (&msg, self->socket, ZMQ_DONTWAIT) >= 0)
                ;               /* not ours: we send no envelope, so none comes back */
    }
    zmq_msg_close (&msg);
}

/*  Run timers, then wait for at most one reply until `until` or the next
    timer, whichever is first. */
static void
s_pump (ledger_client_t *self, int64_t until)
{
    int64_t now = s_now_ms ();
    size_t ready_before = self->ready_count;
    /*  The endpoint the waiting requests went to: a timeout rotates to the
        next one, but the reason names the one that failed. */
    const char *asked = self->endpoints [self->current];
    if (s_expire_tries (self, asked, now))
        s_reopen (self, asked, now);
    int64_t wake = s_send_due (self, now, until);
    if (self->ready_count > ready_before)
        return;                 /* a request gave up: let the caller see it */
    long timeout = wake <= now? 0: (long) (wake - now);
    if (!self->socket) {
        if (s_open (self)) {
            zmq_poll (NULL, 0, timeout);        /* no socket yet: try again at the next timer */
            return;
        }
        /*  What was waiting went out on a socket that is gone: again. */
        for (size_t n = 0; n < self->pending_count; n++)
            if (!self->pending [n].resend_at)
                s_transmit (self, &self->pending [n], now);
    }
    /*  The monitor is read as events come, so they never pile up in it. */
    zmq_pollitem_t items [2] = { { self->socket, 0, ZMQ_POLLIN, 0 }, { self->monitor, 0, ZMQ_POLLIN, 0 } };
    if (zmq_poll (items, self->monitor? 2: 1, timeout) <= 0)
        return;
    if (self->monitor && (items [1].revents & ZMQ_POLLIN))
        s_on_monitor (self, now);
    if (items [0].revents & ZMQ_POLLIN)
        s_take_replies (self);
}

/*  Encode batch and put it in flight. Returns its request id, or 0. */
static uint64_t
s_start (ledger_client_t *self, ledger_batch_t *batch)
{
    if (!batch) {
        s_fail (self, "no batch");
        return 0;
    }
    if (self->pending_count == self->pending_alloc) {
        size_t alloc = self->pending_alloc? self->pending_alloc * 2: 16;
        pending_t *pending = realloc (self->pending, alloc * sizeof (pending_t));
        if (!pending) {
            s_fail (self, "out of memory");
            return 0;
        }
        self->pending = pending;
        self->pending_alloc = alloc;
    }
    /*  Fixed-width hex, so one client's keys sort in the order they are
        made: the worker's key index then grows at a few points (one per
        client) instead of at random places, which keeps the pages each
        commit dirties few. */
    char key [64];
    snprintf (key, sizeof (key), "%s-%016llx", self->client_id, (unsigned long long) self->next_key);
    msgpack_sbuffer body;
    msgpack_sbuffer_init (&body);
    uint64_t id = self->next_request;
    if (ledger_batch_encode (batch, id, key, &body)) {
        s_fail (self, "batch not sent: %s", ledger_batch_error (batch)? ledger_batch_error (batch): "out of memory");
        msgpack_sbuffer_destroy (&body);
        return 0;
    }
    self->next_request++;
    self->next_key++;
    /*  A new socket now, if one is due and nothing waits on the old one
        (after a refused handshake, libzmq never connects it again). */
    if (self->switch_endpoint && self->pending_count == 0) {
        self->switch_endpoint = false;
        s_open (self);
    }
    pending_t *pending = &self->pending [self->pending_count++];
    memset (pending, 0, sizeof (*pending));
    pending->id = id;
    pending->size = body.size;
    pending->body = msgpack_sbuffer_release (&body);
    pending->started = s_now_ms ();
    s_transmit (self, pending, pending->started);
    return id;
}

uint64_t
ledger_client_send (ledger_client_t *self, ledger_batch_t *batch)
{
    if (self->pending_count >= (size_t) self->window) {
        s_fail (self, "%zu requests in flight: receive some first", self->pending_count);
        return 0;
    }
    return s_start (self, batch);
}

ledger_result_t *
ledger_client_recv (ledger_client_t *self, int timeout_ms)
{
    int64_t until = timeout_ms < 0? INT64_MAX: s_now_ms () + timeout_ms;
    bool looked = false;
    while (true) {
        if (self->ready_count) {
            ledger_result_t *result = self->ready [0];
            memmove (self->ready, self->ready + 1, --self->ready_count * sizeof (ledger_result_t *));
            return result;
        }
        if (self->pending_count == 0) {
            s_fail (self, "nothing in flight");
            return NULL;
        }
        /*  Look at the socket at least once, so a timeout of 0 takes a
            reply that is already here. */
        if (looked && s_now_ms () >= until) {
            s_fail (self, "no request finished within %d ms", timeout_ms);
            return NULL;
        }
        s_pump (self, until);
        looked = true;
    }
}

ledger_result_t *
ledger_client_submit (ledger_client_t *self, ledger_batch_t *batch)
{
    uint64_t id = s_start (self, batch);
    if (!id)
        return NULL;
    /*  Every pending request has a deadline, so this ends. Other requests'
        results wait in the ready list for ledger_client_recv. */
    while (true) {
        for (size_t n = 0; n < self->ready_count; n++)
            if (ledger_result_request_id (self->ready [n]) == id) {
                ledger_result_t *result = self->ready [n];
                memmove (self->ready + n, self->ready + n + 1, (--self->ready_count - n) * sizeof (ledger_result_t *));
                return result;
            }
        if (s_find (self, id) < 0) {
            s_fail (self, "out of memory");
            return NULL;
        }
        s_pump (self, INT64_MAX);
    }
}
