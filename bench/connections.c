/*  connections -- issue 13's load: many producers, each on a connection of
    its own, each sending one small keyed batch now and then. */

#include "connections.h"
#include "driver.h"
#include "histogram.h"
#include "progress.h"
#include "report.h"
#include "signals.h"
#include "spawn.h"
#include "tally.h"
#include "timing.h"
#include "workdir.h"
#include "workload.h"

#include <errno.h>
#include <msgpack.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zmq.h>

#define S_MIB (1024.0 * 1024.0)
/*  Sockets the context needs beside the connections' own. */
#define S_SPARE_SOCKETS 64
/*  Descriptors the process needs beside two per connection (libzmq's: the
    TCP connection and the socket's mailbox): its own threads' mailboxes,
    the epoll sets, the spawned worker's log, SQLite, stdio. */
#define S_SPARE_FDS 256
/*  How long every connection has to answer its ping before the clock. */
#define S_SETUP_MS 30000
/*  The longest a thread waits without looking at the clock and Ctrl-C. */
#define S_SLICE_MS 100
#define S_EVENTS 256
/*  The (class, code) pairs a run tells apart; past this, one catch-all. */
#define S_CODES_MAX 32
/*  Request ids. A ping's has the top bit and the connection's number; a
    batch's the thread's number above S_SEQ_BITS and the thread's sequence
    number below, so a late ping reply is never taken for a batch's. */
#define S_PING_ID  (1ULL << 63)
#define S_SEQ_BITS 40
#define S_SEQ_MASK ((1ULL << S_SEQ_BITS) - 1)
/*  The ring of batches in flight starts with room for this many at most,
    and grows when it must. */
#define S_RING_START_MAX (1ULL << 22)

typedef struct {
    char klass [32];
    char code [64];
    uint64_t count;
} s_code_t;

/*  What one thread saw; merged, what the run saw. Every batch sent ends in
    exactly one of ok, refused, failed, timed_out or lost. */
typedef struct {
    uint64_t sent;
    uint64_t not_sent;          /* the socket's queue was full: never on the wire */
    uint64_t ok;                /* answered ok in time */
    uint64_t refused;           /* answered overloaded in time */
    uint64_t failed;            /* answered with another error in time */
    uint64_t timed_out;         /* no reply in time: the producer gave up */
    uint64_t late;              /* of those, replies that came afterwards */
    uint64_t late_ok;           /* of which ok */
    uint64_t late_refused;      /* overloaded */
    uint64_t late_failed;       /* another error */
    uint64_t lost;              /* still in time when the run was interrupted */
    uint64_t unmatched;         /* replies to no batch of ours, or unreadable */
    s_code_t codes [S_CODES_MAX];       /* every error reply, in time or late, by class and code */
    size_t code_count;
    histogram_t ok_latency;     /* ns, from the send to the reply */
    histogram_t refused_latency;
    histogram_t send_lag;       /* ns, how long after its due time a batch went out */
} s_figures_t;

/*  What the threads share with the main thread. */
typedef struct {
    const options_t *options;
    const char *endpoint;
    void *ctx;
    char key_prefix [64];       /* keys are unique across runs, for a worker at --endpoint */
    pthread_mutex_t lock;       /* guards ready, go */
    pthread_cond_t changed;
    int ready;                  /* threads set up (or failed to) */
    bool go;                    /* the clock started (or the run was called off) */
    bool abort;
    int64_t start_ns;           /* written before go, read after */
    int64_t deadline_ns;        /* sending stops */
    atomic_int running;
    tally_live_t live;
} s_shared_t;

typedef struct {
    void *socket;
    int64_t phase_ns;           /* it sends at start + phase + k × interval */
    bool ready;                 /* it answered its ping */
} s_conn_t;

/*  One thread: its connections and their batches in flight. */
typedef struct {
    s_shared_t *shared;
    int index;
    int first;                  /* the run's number of its first connection */
    int count;
    s_conn_t *conns;
    int *order;                 /* its connections by phase: the order they send in */
    int epoll_fd;
    int ready;                  /* connections that answered their ping */
    int ready_at_start;
    /*  Send times of the batches from sequence number tail to head, by
        sequence number modulo the ring's size; 0 once answered. Batches
        go out in sequence order, so they time out in that order too: the
        tail is the oldest batch still in time. */
    int64_t *ring;
    uint64_t ring_mask;
    uint64_t tail;
    uint64_t head;
    int64_t last_sent_ns;
    uint64_t rng;               /* xorshift64* */
    msgpack_sbuffer buffer;
    msgpack_packer packer;
    msgpack_unpacked unpacked;
    s_figures_t *figures;
    pthread_t thread;
    bool started;
    int64_t finished_ns;        /* it stopped listening */
    char error [256];           /* why it stopped early, or "" */
} s_loop_t;

/*  A reply, as much of it as we look at. */
typedef struct {
    bool has_id;
    uint64_t id;
    bool ok;
    const char *klass;
    size_t klass_len;
    const char *code;
    size_t code_len;
} s_reply_t;

/*  The run, for the report. */
typedef struct {
    s_figures_t *figures;
    int ready;
    double setup_s;
    int64_t start_ns;
    int64_t deadline_ns;
    int64_t end_ns;             /* the last thread stopped listening */
    bool spawned;
    char endpoint [256];
    char worker_command [1024];
    int worker_exit;
    bool usage_known;
    spawn_usage_t usage_start;
    spawn_usage_t usage_sent;   /* when sending stopped */
    spawn_usage_t usage_end;
    double client_cpu_sent_s;   /* ours, while sending */
    double client_cpu_s;        /* ours, from the start to the end */
    double others_cpu_s;        /* other processes', over others_s; -1 unknown */
    double others_s;
    json_t *machine;            /* with --json: the machine, as it was before the run */
    bool stats_known;
    driver_worker_stats_t stats_start;
    driver_worker_stats_t stats_end;
    bool db_known;
    int64_t db_rows;
    int64_t db_keys;
    char error [512];
} s_result_t;

static uint64_t
s_random (uint64_t *state)
{
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    return *state * 0x2545F4914F6CDD1DULL;
}

/*  A non-zero xorshift state for stream of seed (splitmix64). */
static uint64_t
s_seed (uint64_t seed, uint64_t stream)
{
    uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (stream + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return (z ^ (z >> 31)) | 1;
}

static int
s_pack_str (msgpack_packer *packer, const char *text)
{
    return msgpack_pack_str_with_body (packer, text, strlen (text));
}

/*  Count count error replies under their class and code. Past
    S_CODES_MAX pairs, the last entry becomes a catch-all. */
static void
s_count_code (s_figures_t *self, const char *klass, size_t klass_len, const char *code, size_t code_len,
              uint64_t count)
{
    for (size_t n = 0; n < self->code_count; n++) {
        s_code_t *entry = &self->codes [n];
        if (strlen (entry->klass) == klass_len && memcmp (entry->klass, klass, klass_len) == 0
        &&  strlen (entry->code) == code_len && memcmp (entry->code, code, code_len) == 0) {
            entry->count += count;
            return;
        }
    }
    s_code_t *entry = &self->codes [self->code_count < S_CODES_MAX? self->code_count++: S_CODES_MAX - 1];
    if (self->code_count == S_CODES_MAX && entry->count) {
        snprintf (entry->klass, sizeof (entry->klass), "other");
        snprintf (entry->code, sizeof (entry->code), "(more codes)");
    }
    else {
        snprintf (entry->klass, sizeof (entry->klass), "%.*s", (int) klass_len, klass);
        snprintf (entry->code, sizeof (entry->code), "%.*s", (int) code_len, code);
    }
    entry->count += count;
}

static void
s_figures_merge (s_figures_t *self, const s_figures_t *other)
{
    self->sent += other->sent;
    self->not_sent += other->not_sent;
    self->ok += other->ok;
    self->refused += other->refused;
    self->failed += other->failed;
    self->timed_out += other->timed_out;
    self->late += other->late;
    self->late_ok += other->late_ok;
    self->late_refused += other->late_refused;
    self->late_failed += other->late_failed;
    self->lost += other->lost;
    self->unmatched += other->unmatched;
    for (size_t n = 0; n < other->code_count; n++)
        s_count_code (self, other->codes [n].klass, strlen (other->codes [n].klass), other->codes [n].code,
                      strlen (other->codes [n].code), other->codes [n].count);
    histogram_merge (&self->ok_latency, &other->ok_latency);
    histogram_merge (&self->refused_latency, &other->refused_latency);
    histogram_merge (&self->send_lag, &other->send_lag);
}

/*  Read the reply in data: our own worker's, so msgpack-c's unpacker is
    fine. Returns 0, or -1 when it is not a map. */
static int
s_decode (msgpack_unpacked *unpacked, const char *data, size_t size, s_reply_t *reply)
{
    memset (reply, 0, sizeof (*reply));
    size_t offset = 0;
    if (msgpack_unpack_next (unpacked, data, size, &offset) != MSGPACK_UNPACK_SUCCESS
    ||  unpacked->data.type != MSGPACK_OBJECT_MAP)
        return -1;
    const msgpack_object_map *map = &unpacked->data.via.map;
    for (uint32_t n = 0; n < map->size; n++) {
        const msgpack_object *key = &map->ptr [n].key, *value = &map->ptr [n].val;
        if (key->type != MSGPACK_OBJECT_STR)
            continue;
        const char *name = key->via.str.ptr;
        uint32_t name_len = key->via.str.size;
        if (name_len == 2 && memcmp (name, "id", 2) == 0 && value->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
            reply->has_id = true;
            reply->id = value->via.u64;
        }
        else
        if (name_len == 2 && memcmp (name, "ok", 2) == 0 && value->type == MSGPACK_OBJECT_BOOLEAN)
            reply->ok = value->via.boolean;
        else
        if (name_len == 5 && memcmp (name, "error", 5) == 0 && value->type == MSGPACK_OBJECT_MAP)
            for (uint32_t field = 0; field < value->via.map.size; field++) {
                const msgpack_object *field_key = &value->via.map.ptr [field].key;
                const msgpack_object *field_value = &value->via.map.ptr [field].val;
                if (field_key->type != MSGPACK_OBJECT_STR || field_value->type != MSGPACK_OBJECT_STR)
                    continue;
                if (field_key->via.str.size == 5 && memcmp (field_key->via.str.ptr, "class", 5) == 0) {
                    reply->klass = field_value->via.str.ptr;
                    reply->klass_len = field_value->via.str.size;
                }
                else
                if (field_key->via.str.size == 4 && memcmp (field_key->via.str.ptr, "code", 4) == 0) {
                    reply->code = field_value->via.str.ptr;
                    reply->code_len = field_value->via.str.size;
                }
            }
    }
    return 0;
}

/*  Batches of this thread sent and neither answered nor given up. */
static uint64_t
s_in_flight (const s_loop_t *self)
{
    uint64_t count = 0;
    for (uint64_t seq = self->tail; seq < self->head; seq++)
        count += self->ring [seq & self->ring_mask] > 0;
    return count;
}

/*  Give up every batch unanswered for longer than the timeout, oldest
    first, and forget the answered ones before the oldest still in time. */
static void
s_sweep (s_loop_t *self, int64_t now)
{
    int64_t timeout_ns = (int64_t) self->shared->options->timeout_ms * TIMING_NS_PER_MS;
    while (self->tail < self->head) {
        int64_t sent_ns = self->ring [self->tail & self->ring_mask];
        if (sent_ns > 0 && now - sent_ns <= timeout_ns)
            break;
        if (sent_ns > 0) {
            self->figures->timed_out++;
            tally_live_count (&self->shared->live, false);
        }
        self->tail++;
    }
}

/*  Take one reply (data) that came in on conn. */
static void
s_take_reply (s_loop_t *self, s_conn_t *conn, const char *data, size_t size, int64_t now)
{
    s_figures_t *figures = self->figures;
    s_reply_t reply;
    if (s_decode (&self->unpacked, data, size, &reply) || !reply.has_id) {
        figures->unmatched++;
        return;
    }
    if (reply.id & S_PING_ID) {
        if ((reply.id & ~S_PING_ID) == (uint64_t) (self->first + (conn - self->conns)) && !conn->ready) {
            conn->ready = true;
            self->ready++;
        }
        return;
    }
    uint64_t seq = reply.id & S_SEQ_MASK;
    if ((reply.id >> S_SEQ_BITS) != (uint64_t) self->index || seq >= self->head) {
        figures->unmatched++;
        return;
    }
    int64_t timeout_ns = (int64_t) self->shared->options->timeout_ms * TIMING_NS_PER_MS;
    int64_t *slot = seq >= self->tail? &self->ring [seq & self->ring_mask]: NULL;
    if (slot && *slot == 0) {
        figures->unmatched++;   /* a second reply to one batch */
        return;
    }
    const char *klass = reply.klass? reply.klass: "?";
    size_t klass_len = reply.klass? reply.klass_len: 1;
    bool overloaded = !reply.ok && klass_len == 10 && memcmp (klass, "overloaded", 10) == 0;
    if (!reply.ok)
        s_count_code (figures, klass, klass_len, reply.code? reply.code: "?", reply.code? reply.code_len: 1, 1);
    if (!slot || now - *slot > timeout_ns) {
        /*  Given up already, or due to be at the next sweep. */
        if (slot) {
            *slot = 0;
            figures->timed_out++;
            tally_live_count (&self->shared->live, false);
        }
        figures->late++;
        figures->late_ok += reply.ok;
        figures->late_refused += overloaded;
        figures->late_failed += !reply.ok && !overloaded;
        return;
    }
    int64_t latency = now - *slot;
    *slot = 0;
    tally_live_count (&self->shared->live, reply.ok);
    if (reply.ok) {
        figures->ok++;
        histogram_record (&figures->ok_latency, latency);
    }
    else
    if (overloaded) {
        figures->refused++;
        histogram_record (&figures->refused_latency, latency);
    }
    else
        figures->failed++;
}

/*  Take every message waiting on conn. Returns 0, or -1 with the error set
    when the socket fails. */
static int
s_drain (s_loop_t *self, s_conn_t *conn)
{
    zmq_msg_t message;
    if (zmq_msg_init (&message)) {
        snprintf (self->error, sizeof (self->error), "zmq_msg_init: %s", zmq_strerror (zmq_errno ()));
        return -1;
    }
    int rc = 0;
    bool skipping = false;      /* the rest of a message of more than one frame */
    while (true) {
        if (zmq_msg_recv (&message, conn->socket, ZMQ_DONTWAIT) < 0) {
            int error = zmq_errno ();
            if (error == EINTR)
                continue;
            if (error != EAGAIN) {
                snprintf (self->error, sizeof (self->error), "cannot receive: %s", zmq_strerror (error));
                rc = -1;
            }
            break;
        }
        bool more = zmq_msg_more (&message);
        if (!skipping && !more)
            s_take_reply (self, conn, zmq_msg_data (&message), zmq_msg_size (&message), timing_now_ns ());
        else
        if (!skipping)
            self->figures->unmatched++;         /* a reply has one frame here */
        skipping = more;
    }
    zmq_msg_close (&message);
    return rc;
}

/*  A send may have taken the wake-up of a reply that came in meanwhile
    (libzmq processes a socket's commands on send, and ZMQ_FD signals only
    new commands): look, and take what is there. */
static int
s_after_send (s_loop_t *self, s_conn_t *conn)
{
    int events = 0;
    size_t events_size = sizeof (events);
    if (zmq_getsockopt (conn->socket, ZMQ_EVENTS, &events, &events_size)) {
        snprintf (self->error, sizeof (self->error), "ZMQ_EVENTS: %s", zmq_strerror (zmq_errno ()));
        return -1;
    }
    return (events & ZMQ_POLLIN)? s_drain (self, conn): 0;
}

/*  Send what the packer holds on conn, without waiting. Returns 1 sent, 0
    the socket's queue is full, -1 (error set) the socket failed. */
static int
s_send_packed (s_loop_t *self, s_conn_t *conn)
{
    while (zmq_send (conn->socket, self->buffer.data, self->buffer.size, ZMQ_DONTWAIT) < 0) {
        int error = zmq_errno ();
        if (error == EAGAIN)
            return 0;
        if (error != EINTR) {
            snprintf (self->error, sizeof (self->error), "cannot send: %s", zmq_strerror (error));
            return -1;
        }
    }
    return 1;
}

/*  Make room in the ring for one more batch. Returns 0, or -1. */
static int
s_ring_reserve (s_loop_t *self)
{
    if (self->head - self->tail <= self->ring_mask)
        return 0;
    uint64_t size = (self->ring_mask + 1) * 2;
    int64_t *ring = malloc (size * sizeof (int64_t));
    if (!ring) {
        snprintf (self->error, sizeof (self->error), "out of memory (%llu batches in flight)",
                  (unsigned long long) (self->head - self->tail));
        return -1;
    }
    for (uint64_t seq = self->tail; seq < self->head; seq++)
        ring [seq & (size - 1)] = self->ring [seq & self->ring_mask];
    free (self->ring);
    self->ring = ring;
    self->ring_mask = size - 1;
    return 0;
}

/*  Send conn's next batch, due at due_ns: {"v": 1, "id": ..., "key": ...,
    "ops": [{"op": "txn.create", "amount": ..., "occurred_at": ...,
    "description": ...}]}. Returns 0, or -1 with the error set. */
static int
s_send_batch (s_loop_t *self, s_conn_t *conn, int64_t due_ns)
{
    if (s_ring_reserve (self))
        return -1;
    s_shared_t *shared = self->shared;
    uint64_t seq = self->head;
    uint64_t id = ((uint64_t) self->index << S_SEQ_BITS) | seq;
    char key [128];
    int key_len = snprintf (key, sizeof (key), "%s-%llu", shared->key_prefix, (unsigned long long) id);
    int64_t occurred_us = workload_occurred_us (self->index, shared->options->threads, (int64_t) seq);
    msgpack_timestamp occurred_at = {
        .tv_sec = occurred_us / 1000000, .tv_nsec = (uint32_t) (occurred_us % 1000000) * 1000
    };
    /*  Amounts from -1000.00 to 999.99, never 0, as the other modes'. */
    int64_t amount = (int64_t) (s_random (&self->rng) % 199999) - 99999;
    msgpack_packer *packer = &self->packer;
    msgpack_sbuffer_clear (&self->buffer);
    if (key_len <= 0 || key_len >= (int) sizeof (key)
    ||  msgpack_pack_map (packer, 4)
    ||  s_pack_str (packer, "v") || msgpack_pack_int (packer, 1)
    ||  s_pack_str (packer, "id") || msgpack_pack_uint64 (packer, id)
    ||  s_pack_str (packer, "key") || msgpack_pack_str_with_body (packer, key, (size_t) key_len)
    ||  s_pack_str (packer, "ops") || msgpack_pack_array (packer, 1)
    ||  msgpack_pack_map (packer, 4)
    ||  s_pack_str (packer, "op") || s_pack_str (packer, "txn.create")
    ||  s_pack_str (packer, "amount") || msgpack_pack_int64 (packer, amount? amount: 1)
    ||  s_pack_str (packer, "occurred_at") || msgpack_pack_timestamp (packer, &occurred_at)
    ||  s_pack_str (packer, "description") || s_pack_str (packer, WORK_DESCRIPTION)) {
        snprintf (self->error, sizeof (self->error), "cannot pack a batch: out of memory");
        return -1;
    }
    int64_t now = timing_now_ns ();
    int sent = s_send_packed (self, conn);
    if (sent < 0)
        return -1;
    if (sent == 0) {
        self->figures->not_sent++;
        return s_after_send (self, conn);
    }
    self->ring [seq & self->ring_mask] = now;
    self->last_sent_ns = now;
    self->head++;
    self->figures->sent++;
    histogram_record (&self->figures->send_lag, now - due_ns);
    return s_after_send (self, conn);
}

/*  Wait up to wait_ms for replies and take them. Returns 0, or -1 with the
    error set. */
static int
s_wait (s_loop_t *self, int wait_ms)
{
    struct epoll_event events [S_EVENTS];
    int count = epoll_wait (self->epoll_fd, events, S_EVENTS, wait_ms);
    if (count < 0 && errno != EINTR) {
        snprintf (self->error, sizeof (self->error), "epoll_wait: %s", strerror (errno));
        return -1;
    }
    for (int n = 0; n < count; n++)
        if (s_drain (self, &self->conns [events [n].data.u32]))
            return -1;
    return 0;
}

/*  Milliseconds from now until when, rounded up, within [0, S_SLICE_MS]. */
static int
s_wait_ms (int64_t now, int64_t when)
{
    int64_t ms = (when - now + TIMING_NS_PER_MS - 1) / TIMING_NS_PER_MS;
    return ms < 0? 0: ms > S_SLICE_MS? S_SLICE_MS: (int) ms;
}

/*  Make this thread's sockets, connect them, and have each answer a ping.
    Returns 0, or -1 with the error set (connections that do not answer in
    time are not an error: they are counted). */
static int
s_setup (s_loop_t *self)
{
    s_shared_t *shared = self->shared;
    if ((self->epoll_fd = epoll_create1 (EPOLL_CLOEXEC)) < 0) {
        snprintf (self->error, sizeof (self->error), "epoll_create1: %s", strerror (errno));
        return -1;
    }
    int linger = 0;
    for (int n = 0; n < self->count; n++) {
        s_conn_t *conn = &self->conns [n];
        int fd;
        size_t fd_size = sizeof (fd);
        struct epoll_event event = { .events = EPOLLIN, .data.u32 = (uint32_t) n };
        if (!(conn->socket = zmq_socket (shared->ctx, ZMQ_DEALER))
        ||  zmq_setsockopt (conn->socket, ZMQ_LINGER, &linger, sizeof (linger))
        ||  zmq_connect (conn->socket, shared->endpoint)
        ||  zmq_getsockopt (conn->socket, ZMQ_FD, &fd, &fd_size)) {
            snprintf (self->error, sizeof (self->error), "connection %d: %s", self->first + n,
                      zmq_strerror (zmq_errno ()));
            return -1;
        }
        if (epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, fd, &event)) {
            snprintf (self->error, sizeof (self->error), "epoll_ctl: %s", strerror (errno));
            return -1;
        }
    }
    for (int n = 0; n < self->count; n++) {
        s_conn_t *conn = &self->conns [n];
        msgpack_packer *packer = &self->packer;
        msgpack_sbuffer_clear (&self->buffer);
        if (msgpack_pack_map (packer, 3)
        ||  s_pack_str (packer, "v") || msgpack_pack_int (packer, 1)
        ||  s_pack_str (packer, "id") || msgpack_pack_uint64 (packer, S_PING_ID | (uint64_t) (self->first + n))
        ||  s_pack_str (packer, "ops") || msgpack_pack_array (packer, 1)
        ||  msgpack_pack_map (packer, 1) || s_pack_str (packer, "op") || s_pack_str (packer, "sys.ping")) {
            snprintf (self->error, sizeof (self->error), "cannot pack a ping: out of memory");
            return -1;
        }
        int sent = s_send_packed (self, conn);
        if (sent < 0 || s_after_send (self, conn))
            return -1;
    }
    int64_t deadline = timing_now_ns () + S_SETUP_MS * TIMING_NS_PER_MS;
    int64_t now;
    while (self->ready < self->count && (now = timing_now_ns ()) < deadline && !signals_stopped ())
        if (s_wait (self, s_wait_ms (now, deadline)))
            return -1;
    return 0;
}

/*  Send every batch when it is due until the deadline, and take replies,
    then take replies until every batch has one or the timeout after the
    last send has passed. */
static void
s_run (s_loop_t *self)
{
    s_shared_t *shared = self->shared;
    const options_t *options = shared->options;
    int64_t interval_ns = (int64_t) options->interval_ms * TIMING_NS_PER_MS;
    int64_t timeout_ns = (int64_t) options->timeout_ms * TIMING_NS_PER_MS;
    /*  Until every batch has had its timeout: from the last send, which
        can be later than the deadline when we fell behind the schedule. */
    int64_t listen_until = 0;
    int64_t round = 0;
    int cursor = 0;
    bool sending = true;
    while (!signals_stopped ()) {
        int64_t now = timing_now_ns ();
        int64_t due = 0;
        while (sending) {
            s_conn_t *conn = &self->conns [self->order [cursor]];
            due = shared->start_ns + round * interval_ns + conn->phase_ns;
            if (due >= shared->deadline_ns) {
                sending = false;
                int64_t last_ns = self->last_sent_ns > shared->deadline_ns? self->last_sent_ns: shared->deadline_ns;
                listen_until = last_ns + timeout_ns + 1;
                break;
            }
            if (due > now)
                break;
            if (s_send_batch (self, conn, due))
                return;
            if (++cursor == self->count) {
                cursor = 0;
                round++;
            }
        }
        now = timing_now_ns ();
        s_sweep (self, now);
        const s_figures_t *figures = self->figures;
        if (!sending && (now >= listen_until || (self->tail == self->head && figures->late == figures->timed_out)))
            break;
        int64_t wake = now + S_SLICE_MS * TIMING_NS_PER_MS;
        if (sending && due < wake)
            wake = due;
        if (self->tail < self->head && self->ring [self->tail & self->ring_mask] + timeout_ns + 1 < wake)
            wake = self->ring [self->tail & self->ring_mask] + timeout_ns + 1;
        if (!sending && listen_until < wake)
            wake = listen_until;
        if (s_wait (self, s_wait_ms (now, wake)))
            return;
    }
}

/*  Say this thread is set up and wait for the clock to start. */
static void
s_wait_for_go (s_shared_t *shared)
{
    pthread_mutex_lock (&shared->lock);
    shared->ready++;
    pthread_cond_broadcast (&shared->changed);
    while (!shared->go)
        pthread_cond_wait (&shared->changed, &shared->lock);
    pthread_mutex_unlock (&shared->lock);
}

static void *
s_loop_main (void *arg)
{
    s_loop_t *self = (s_loop_t *) arg;
    s_shared_t *shared = self->shared;
    int rc = s_setup (self);
    self->ready_at_start = self->ready;
    s_wait_for_go (shared);
    if (rc == 0 && !shared->abort) {
        s_run (self);
        self->finished_ns = timing_now_ns ();
        /*  Interrupted, or stopped by an error: what is still in time
            has no outcome. */
        self->figures->lost += s_in_flight (self);
    }
    for (int n = 0; n < self->count; n++)
        if (self->conns [n].socket)
            zmq_close (self->conns [n].socket);
    if (self->epoll_fd >= 0)
        close (self->epoll_fd);
    atomic_fetch_sub (&shared->running, 1);
    return NULL;
}

/*  Raise the open-files soft limit to the hard limit, as libzmq needs two
    descriptors a connection. Returns 0, or -1 with errbuf set when even
    the hard limit is too low. */
static int
s_raise_fd_limit (int connections, char *errbuf, size_t errlen)
{
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit)) {
        snprintf (errbuf, errlen, "getrlimit: %s", strerror (errno));
        return -1;
    }
    if (limit.rlim_cur != limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit (RLIMIT_NOFILE, &limit)) {
            snprintf (errbuf, errlen, "cannot raise the open-files limit to %llu: %s",
                      (unsigned long long) limit.rlim_max, strerror (errno));
            return -1;
        }
    }
    rlim_t needed = 2 * (rlim_t) connections + S_SPARE_FDS;
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < needed) {
        snprintf (errbuf, errlen, "%d connections need about %llu open files; the hard limit is %llu (ulimit -Hn)",
                  connections, (unsigned long long) needed, (unsigned long long) limit.rlim_cur);
        return -1;
    }
    return 0;
}

/*  Count the rows and the idempotency keys in the stopped worker's
    database. Returns 0, or -1 (why on stderr). */
static int
s_count_applied (const char *db_path, int64_t *rows_p, int64_t *keys_p)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    const char *sql [2] = { "SELECT count(*) FROM txn", "SELECT count(*) FROM idempotency" };
    int64_t *counts [2] = { rows_p, keys_p };
    int rc = sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READWRITE, NULL);
    for (int n = 0; n < 2 && rc == SQLITE_OK; n++) {
        rc = sqlite3_prepare_v2 (db, sql [n], -1, &stmt, NULL);
        if (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW) {
            *counts [n] = sqlite3_column_int64 (stmt, 0);
            rc = SQLITE_OK;
        }
        sqlite3_finalize (stmt);
        stmt = NULL;
    }
    if (rc != SQLITE_OK)
        fprintf (stderr, "ledger-bench: cannot count the rows in %s: %s\n", db_path,
                 db? sqlite3_errmsg (db): "out of memory");
    sqlite3_close (db);
    return rc == SQLITE_OK? 0: -1;
}

/*  The batches that reached a verdict in time (ok, refused, failed). */
static uint64_t
s_answered (const s_figures_t *figures)
{
    return figures->ok + figures->refused + figures->failed;
}

static double
s_share (uint64_t part, uint64_t whole)
{
    return whole? 100.0 * (double) part / (double) whole: 0.0;
}

static int
s_exit_status (const s_result_t *result)
{
    const s_figures_t *figures = result->figures;
    bool clean = !signals_stopped () && !result->error [0] && figures->failed == 0 && figures->late_failed == 0
              && figures->unmatched == 0
              && figures->lost == 0 && !(result->spawned && result->worker_exit != 0)
              && !(result->db_known && result->db_rows < (int64_t) figures->ok);
    return clean? 0: 1;
}

static const double s_percents [] = { 50, 90, 99, 100 };
static const char *s_percent_names [] = { "p50", "p90", "p99", "max" };
#define S_PERCENTS ((int) (sizeof (s_percents) / sizeof (s_percents [0])))

static void
s_print_latency (const char *label, const histogram_t *histogram)
{
    printf ("%-32s", label);
    for (int n = 0; n < S_PERCENTS; n++) {
        double us = (double) histogram_percentile (histogram, s_percents [n]) / 1000.0;
        if (histogram->count)
            printf (us < 1e5? "%12.1f": "%12.0f", us);
        else
            printf ("%12s", "-");
    }
    printf ("%12llu\n", (unsigned long long) histogram->count);
}

/*  One line of the outcome table: what, how many, and its share of sent. */
static void
s_print_outcome (const char *label, uint64_t count, uint64_t sent, bool share)
{
    printf ("%-40s%10llu", label, (unsigned long long) count);
    if (share)
        printf ("%9.2f %%", s_share (count, sent));
    printf ("\n");
}

static void
s_report_print (const options_t *options, const s_result_t *result)
{
    const s_figures_t *figures = result->figures;
    double send_s = (double) (result->deadline_ns - result->start_ns) / 1e9;
    double after_s = (double) (result->end_ns - result->deadline_ns) / 1e9;
    double nominal = (double) options->connections * 1000.0 / options->interval_ms;
    printf ("ledger-bench %s connections: %d connections on %d thread%s, each sending a 1-op keyed txn.create every"
            " %d ms (random phase), %.1f s, open loop, giving up after %d ms, no retries, sync %s\n",
            LEDGER_VERSION, options->connections, options->threads, options->threads == 1? "": "s",
            options->interval_ms, options->duration_s, options->timeout_ms, options->sync_full? "full": "normal");
    if (result->spawned)
        printf ("worker: %s\n", result->worker_command);
    else
        printf ("worker: %s (not spawned: its CPU, memory and database are not measured)\n", result->endpoint);
    printf ("connections: %d of %d answered a ping before the clock started (set-up %.2f s)\n", result->ready,
            options->connections, result->setup_s);
    printf ("offered: %.1f batches/s (%llu sent in %.1f s; nominal %.1f/s)", send_s > 0? (double) figures->sent / send_s: 0.0,
            (unsigned long long) figures->sent, send_s, nominal);
    if (figures->not_sent)
        printf ("; %llu not sent (the socket's queue was full)", (unsigned long long) figures->not_sent);
    printf ("\n\n%-40s%10s%11s\n", "batches", "count", "of sent");
    uint64_t sent = figures->sent;
    s_print_outcome ("sent", sent, sent, false);
    s_print_outcome ("ok (answered in time)", figures->ok, sent, true);
    s_print_outcome ("refused: overloaded", figures->refused, sent, true);
    s_print_outcome ("other errors", figures->failed, sent, true);
    char label [64];
    snprintf (label, sizeof (label), "timed out (no reply in %d ms)", options->timeout_ms);
    s_print_outcome (label, figures->timed_out, sent, true);
    s_print_outcome ("  of which answered late", figures->late, sent, true);
    s_print_outcome ("  of which never answered", figures->timed_out - figures->late, sent, true);
    if (figures->lost)
        s_print_outcome ("still in time when interrupted", figures->lost, sent, true);
    printf ("late replies (after giving up): %llu: %llu ok, %llu overloaded, %llu other errors\n",
            (unsigned long long) figures->late, (unsigned long long) figures->late_ok,
            (unsigned long long) figures->late_refused, (unsigned long long) figures->late_failed);
    if (figures->unmatched)
        printf ("replies that match no batch sent, or could not be read: %llu\n", (unsigned long long) figures->unmatched);
    printf ("share refused: %.2f %% of sent (%.2f %% of those answered in time)\n", s_share (figures->refused, sent),
            s_share (figures->refused, s_answered (figures)));
    printf ("error replies by class and code (in time and late):");
    for (size_t n = 0; n < figures->code_count; n++)
        printf ("%s %s %s %llu", n? ",": "", figures->codes [n].klass, figures->codes [n].code,
                (unsigned long long) figures->codes [n].count);
    printf ("%s\n", figures->code_count? "": " none");

    printf ("\n%-32s", "latency µs");
    for (int n = 0; n < S_PERCENTS; n++)
        report_pad (stdout, s_percent_names [n], 12);
    report_pad (stdout, "batches", 12);
    printf ("\n");
    s_print_latency ("ok, send to reply", &figures->ok_latency);
    if (figures->refused_latency.count)
        s_print_latency ("overloaded, send to reply", &figures->refused_latency);
    s_print_latency ("send, behind its schedule", &figures->send_lag);
    printf ("\n");

    if (result->spawned && result->usage_known) {
        const spawn_usage_t *start = &result->usage_start, *mid = &result->usage_sent, *end = &result->usage_end;
        double user = mid->user_s - start->user_s, system = mid->system_s - start->system_s;
        double after = (end->user_s + end->system_s) - (mid->user_s + mid->system_s);
        printf ("worker process: %.2f CPU s (%.2f user + %.2f system) in the %.1f s of sending = %.0f %% of one core,"
                " %.1f µs per batch sent; %.2f CPU s in the %.1f s after; peak RSS %.1f MiB (VmHWM)\n",
                user + system, user, system, send_s, send_s > 0? 100 * (user + system) / send_s: 0.0,
                sent? 1e6 * (user + system) / (double) sent: 0.0, after, after_s,
                (double) end->peak_rss_bytes / S_MIB);
    }
    printf ("load generator (ledger-bench, all its threads): %.2f CPU s in the %.1f s of sending = %.0f %% of one core;"
            " %.2f CPU s in the %.1f s after\n", result->client_cpu_sent_s, send_s,
            send_s > 0? 100 * result->client_cpu_sent_s / send_s: 0.0,
            result->client_cpu_s - result->client_cpu_sent_s, after_s);
    if (result->others_cpu_s >= 0)
        printf ("other processes: %.2f CPU s in the %.1f s of this run = %.0f %% of one core%s\n", result->others_cpu_s,
                result->others_s, result->others_s > 0? 100 * result->others_cpu_s / result->others_s: 0.0,
                result->spawned? "": " (the worker's included)");
    int64_t worker_ok = -1;
    if (result->stats_known) {
        const driver_worker_stats_t *start = &result->stats_start, *end = &result->stats_end;
        /*  Not counting the first sys.stats itself. */
        worker_ok = end->batches_ok - start->batches_ok - 1;
        int64_t transactions = end->transactions - start->transactions;
        printf ("worker counters (sys.stats): %lld batches ok", (long long) worker_ok);
        if (start->transactions >= 0 && transactions > 0)
            printf (", %lld write transactions (%.1f batches per commit)", (long long) transactions,
                    (double) worker_ok / (double) transactions);
        if (start->replies_dropped >= 0)
            printf (", %lld replies dropped", (long long) (end->replies_dropped - start->replies_dropped));
        printf ("\n");
    }
    if (result->db_known)
        printf ("database: %lld batches applied (rows in txn; %lld idempotency keys); answered ok in time %llu;"
                " applied for nobody %lld (applied - ok answered in time)%s\n", (long long) result->db_rows,
                (long long) result->db_keys, (unsigned long long) figures->ok,
                (long long) result->db_rows - (long long) figures->ok,
                result->db_rows < (long long) figures->ok? "; ROWS ANSWERED OK ARE MISSING": "");
    else
    if (worker_ok >= 0)
        printf ("applied (the worker's count): %lld; answered ok in time %llu; applied for nobody %lld\n",
                (long long) worker_ok, (unsigned long long) figures->ok, (long long) worker_ok - (long long) figures->ok);
    if (result->spawned && result->worker_exit)
        printf ("worker process: did not exit cleanly on SIGTERM (status %d)\n", result->worker_exit);
    if (result->error [0])
        printf ("stopped early: %s\n", result->error);
    else
    if (signals_stopped ())
        printf ("interrupted: the figures cover the part that ran\n");
}

static json_t *
s_latency_json (const histogram_t *histogram)
{
    json_t *root = json_object ();
    if (!root)
        return NULL;
    json_object_set_new (root, "count", json_integer ((json_int_t) histogram->count));
    json_object_set_new (root, "mean", json_real (histogram_mean (histogram) / 1000.0));
    for (int n = 0; n < S_PERCENTS; n++)
        json_object_set_new (root, s_percent_names [n],
                             json_real ((double) histogram_percentile (histogram, s_percents [n]) / 1000.0));
    return root;
}

static json_t *
s_report_json (const options_t *options, const s_result_t *result)
{
    const s_figures_t *figures = result->figures;
    double send_s = (double) (result->deadline_ns - result->start_ns) / 1e9;
    json_t *root = json_object ();
    json_t *config = json_object ();
    json_t *batches = json_object ();
    json_t *errors = json_array ();
    json_t *latency = json_object ();
    if (!root || !config || !batches || !errors || !latency) {
        json_decref (root);
        json_decref (config);
        json_decref (batches);
        json_decref (errors);
        json_decref (latency);
        return NULL;
    }
    json_object_set_new (root, "tool", json_string ("ledger-bench connections"));
    json_object_set_new (root, "version", json_string (LEDGER_VERSION));
    json_object_set_new (root, "machine", json_incref (result->machine));
    json_object_set_new (config, "worker", json_string (result->spawned? "spawned": "endpoint"));
    json_object_set_new (config, "endpoint", json_string (result->endpoint));
    json_object_set_new (config, "worker_command", result->spawned? json_string (result->worker_command): json_null ());
    json_object_set_new (config, "connections", json_integer (options->connections));
    json_object_set_new (config, "threads", json_integer (options->threads));
    json_object_set_new (config, "interval_ms", json_integer (options->interval_ms));
    json_object_set_new (config, "duration_s", json_real (options->duration_s));
    json_object_set_new (config, "timeout_ms", json_integer (options->timeout_ms));
    json_object_set_new (config, "sync", json_string (options->sync_full? "full": "normal"));
    json_object_set_new (config, "seed", json_integer ((json_int_t) options->seed));
    json_object_set_new (root, "config", config);
    json_object_set_new (root, "connections_ready", json_integer (result->ready));
    json_object_set_new (root, "setup_s", json_real (result->setup_s));
    json_object_set_new (root, "send_s", json_real (send_s));
    json_object_set_new (root, "after_s", json_real ((double) (result->end_ns - result->deadline_ns) / 1e9));
    json_object_set_new (root, "offered_batches_per_s", json_real (send_s > 0? (double) figures->sent / send_s: 0.0));
    json_object_set_new (root, "nominal_batches_per_s",
                         json_real ((double) options->connections * 1000.0 / options->interval_ms));
    json_object_set_new (batches, "sent", json_integer ((json_int_t) figures->sent));
    json_object_set_new (batches, "not_sent", json_integer ((json_int_t) figures->not_sent));
    json_object_set_new (batches, "ok", json_integer ((json_int_t) figures->ok));
    json_object_set_new (batches, "refused", json_integer ((json_int_t) figures->refused));
    json_object_set_new (batches, "failed", json_integer ((json_int_t) figures->failed));
    json_object_set_new (batches, "timed_out", json_integer ((json_int_t) figures->timed_out));
    json_object_set_new (batches, "late", json_integer ((json_int_t) figures->late));
    json_object_set_new (batches, "late_ok", json_integer ((json_int_t) figures->late_ok));
    json_object_set_new (batches, "late_refused", json_integer ((json_int_t) figures->late_refused));
    json_object_set_new (batches, "late_failed", json_integer ((json_int_t) figures->late_failed));
    json_object_set_new (batches, "never_answered", json_integer ((json_int_t) (figures->timed_out - figures->late)));
    json_object_set_new (batches, "lost", json_integer ((json_int_t) figures->lost));
    json_object_set_new (batches, "unmatched", json_integer ((json_int_t) figures->unmatched));
    json_object_set_new (root, "batches", batches);
    json_object_set_new (root, "share_refused", json_real (figures->sent? (double) figures->refused / (double) figures->sent: 0.0));
    for (size_t n = 0; n < figures->code_count; n++)
        json_array_append_new (errors, json_pack ("{s:s, s:s, s:I}", "class", figures->codes [n].klass,
                                                  "code", figures->codes [n].code,
                                                  "count", (json_int_t) figures->codes [n].count));
    json_object_set_new (root, "errors", errors);
    json_object_set_new (latency, "ok", s_latency_json (&figures->ok_latency));
    json_object_set_new (latency, "refused", s_latency_json (&figures->refused_latency));
    json_object_set_new (latency, "send_lag", s_latency_json (&figures->send_lag));
    json_object_set_new (root, "latency_us", latency);
    if (result->spawned && result->usage_known) {
        const spawn_usage_t *start = &result->usage_start, *mid = &result->usage_sent, *end = &result->usage_end;
        double user = mid->user_s - start->user_s, system = mid->system_s - start->system_s;
        json_object_set_new (root, "worker_process", json_pack ("{s:f, s:f, s:f, s:f, s:I, s:I, s:i}",
            "cpu_s_sending", user + system, "user_s_sending", user, "system_s_sending", system,
            "cpu_s_after", (end->user_s + end->system_s) - (mid->user_s + mid->system_s),
            "peak_rss_bytes", (json_int_t) end->peak_rss_bytes, "rss_bytes", (json_int_t) end->rss_bytes,
            "exit_status", result->worker_exit));
    }
    json_object_set_new (root, "client_cpu_s_sending", json_real (result->client_cpu_sent_s));
    json_object_set_new (root, "client_cpu_s", json_real (result->client_cpu_s));
    json_object_set_new (root, "others_cpu_s", result->others_cpu_s >= 0? json_real (result->others_cpu_s): json_null ());
    if (result->stats_known) {
        const driver_worker_stats_t *start = &result->stats_start, *end = &result->stats_end;
        json_object_set_new (root, "worker_counters", json_pack ("{s:I, s:I, s:I}",
            "batches_ok", (json_int_t) (end->batches_ok - start->batches_ok - 1),
            "write_transactions", (json_int_t) (start->transactions >= 0? end->transactions - start->transactions: -1),
            "replies_dropped", (json_int_t) (start->replies_dropped >= 0? end->replies_dropped - start->replies_dropped: -1)));
    }
    if (result->db_known)
        json_object_set_new (root, "database", json_pack ("{s:I, s:I, s:I}", "applied", (json_int_t) result->db_rows,
            "idempotency_keys", (json_int_t) result->db_keys,
            "applied_for_nobody", (json_int_t) (result->db_rows - (int64_t) figures->ok)));
    else
        json_object_set_new (root, "database", json_null ());
    json_object_set_new (root, "error", result->error [0]? json_string (result->error): json_null ());
    json_object_set_new (root, "ok", json_boolean (s_exit_status (result) == 0));
    return root;
}

/*  Start the threads, wait until every one has set up, start the clock,
    wait for them to finish, and fill result. Returns 0, or -1 with
    result->error set when the run could not start. */
/*  Set up the loops: each connection's phase, each loop's share of the
    connections (in the order they send), its ring and buffers. Returns 0,
    or -1 with result->error set. */
static int
s_loops_init (const options_t *options, s_shared_t *shared, s_loop_t *loops, s_conn_t *conns, int *order,
              s_result_t *result)
{
    int threads = options->threads;
    /*  Every connection's phase: uniform over one interval. */
    uint64_t rng = s_seed (options->seed, 0);
    int64_t interval_ns = (int64_t) options->interval_ms * TIMING_NS_PER_MS;
    for (int n = 0; n < options->connections; n++)
        conns [n].phase_ns = (int64_t) (s_random (&rng) % (uint64_t) interval_ns);
    uint64_t ring_size = 1024;
    uint64_t in_flight_max = ((uint64_t) options->connections / (uint64_t) threads + 1)
                           * ((uint64_t) options->timeout_ms / (uint64_t) options->interval_ms + 2);
    while (ring_size < in_flight_max && ring_size < S_RING_START_MAX)
        ring_size *= 2;
    int first = 0;
    for (int n = 0; n < threads; n++) {
        s_loop_t *loop = &loops [n];
        loop->shared = shared;
        loop->index = n;
        loop->first = first;
        loop->count = options->connections / threads + (n < options->connections % threads);
        loop->conns = conns + first;
        loop->order = order + first;
        loop->epoll_fd = -1;
        loop->rng = s_seed (options->seed, (uint64_t) n + 1);
        loop->ring = malloc (ring_size * sizeof (int64_t));
        loop->ring_mask = ring_size - 1;
        loop->figures = calloc (1, sizeof (s_figures_t));
        msgpack_sbuffer_init (&loop->buffer);
        msgpack_packer_init (&loop->packer, &loop->buffer, msgpack_sbuffer_write);
        msgpack_unpacked_init (&loop->unpacked);
        first += loop->count;
        if (!loop->ring || !loop->figures) {
            snprintf (result->error, sizeof (result->error), "out of memory");
            return -1;
        }
        /*  Its connections in the order they send: by phase. */
        for (int conn = 0; conn < loop->count; conn++) {
            int at = conn;
            while (at > 0 && loop->conns [loop->order [at - 1]].phase_ns > loop->conns [conn].phase_ns) {
                loop->order [at] = loop->order [at - 1];
                at--;
            }
            loop->order [at] = conn;
        }
    }
    return 0;
}

/*  Start the loops' threads and wait until each has connected and pinged.
    Returns how many started; result->error says why if not all did, or if
    no connection answered. */
static int
s_loops_start (const options_t *options, s_shared_t *shared, s_loop_t *loops, s_result_t *result)
{
    int threads = options->threads;
    atomic_init (&shared->running, 0);
    int started = 0;
    int64_t setup_ns = timing_now_ns ();
    for (int n = 0; n < threads; n++) {
        if (pthread_create (&loops [n].thread, NULL, s_loop_main, &loops [n])) {
            snprintf (result->error, sizeof (result->error), "cannot start thread %d", n);
            break;
        }
        loops [n].started = true;
        atomic_fetch_add (&shared->running, 1);
        started++;
    }
    pthread_mutex_lock (&shared->lock);
    while (shared->ready < started)
        pthread_cond_wait (&shared->changed, &shared->lock);
    pthread_mutex_unlock (&shared->lock);
    result->setup_s = (double) (timing_now_ns () - setup_ns) / 1e9;
    for (int n = 0; n < started && !result->error [0]; n++)
        if (loops [n].error [0])
            snprintf (result->error, sizeof (result->error), "thread %d: %s", n, loops [n].error);
    for (int n = 0; n < started; n++)
        result->ready += loops [n].ready_at_start;
    if (!result->error [0] && started == threads && result->ready == 0 && !signals_stopped ())
        snprintf (result->error, sizeof (result->error), "no connection answered a ping within %d ms", S_SETUP_MS);
    return started;
}

/*  After the run: CPU used by the client, by the worker and by the rest of
    the machine, and the worker's counters. */
static void
s_account (const options_t *options, s_shared_t *shared, spawn_t *worker, double cpu_start,
           const report_cpu_t *machine_start, int64_t machine_start_ns, bool abort, s_result_t *result)
{
    result->client_cpu_s = timing_cpu_s () - cpu_start;
    result->usage_known &= worker && spawn_usage (worker, &result->usage_end) == 0;
    report_cpu_t machine_end;
    report_cpu_snapshot (&machine_end);
    result->others_s = (double) (timing_now_ns () - machine_start_ns) / 1e9;
    /*  The machine's busy time, less ours and the worker's: a shared
        machine's other work skews every figure. */
    result->others_cpu_s = -1;
    if (!worker || result->usage_known) {
        double worker_s = worker? (result->usage_end.user_s + result->usage_end.system_s)
                                - (result->usage_start.user_s + result->usage_start.system_s): 0;
        double others = report_cpu_others_s (machine_start, &machine_end) - worker_s;
        result->others_cpu_s = others > 0? others: 0;
    }
    if (!abort) {
        char ignored [256];
        result->stats_known &= driver_worker_stats (shared->endpoint, options, &result->stats_end, ignored,
                                                    sizeof (ignored)) == 0;
    }
    else
        result->stats_known = false;
}

static int
s_drive (const options_t *options, s_shared_t *shared, spawn_t *worker, s_result_t *result)
{
    int threads = options->threads;
    s_loop_t *loops = calloc ((size_t) threads, sizeof (s_loop_t));
    s_conn_t *conns = calloc ((size_t) options->connections, sizeof (s_conn_t));
    int *order = calloc ((size_t) options->connections, sizeof (int));
    int rc = -1;
    if (!loops || !conns || !order) {
        snprintf (result->error, sizeof (result->error), "out of memory");
        goto done;
    }
    if (s_loops_init (options, shared, loops, conns, order, result))
        goto done;
    s_loops_start (options, shared, loops, result);
    bool abort = result->error [0] || signals_stopped ();
    if (!abort) {
        char ignored [256];
        result->stats_known = driver_worker_stats (shared->endpoint, options, &result->stats_start, ignored,
                                                   sizeof (ignored)) == 0;
        result->usage_known = worker && spawn_usage (worker, &result->usage_start) == 0;
    }
    double cpu_start = timing_cpu_s ();
    report_cpu_t machine_start;
    report_cpu_snapshot (&machine_start);
    int64_t machine_start_ns = timing_now_ns ();
    progress_t *progress = progress_new ("connections", options->duration_s, 0, &shared->live, options->progress);

    pthread_mutex_lock (&shared->lock);
    shared->abort = abort;
    shared->start_ns = timing_now_ns ();
    shared->deadline_ns = shared->start_ns + (int64_t) (options->duration_s * 1e9);
    shared->go = true;
    pthread_cond_broadcast (&shared->changed);
    pthread_mutex_unlock (&shared->lock);
    result->start_ns = shared->start_ns;
    result->deadline_ns = shared->deadline_ns;

    bool sent_sampled = false;
    while (atomic_load (&shared->running) > 0 || (!sent_sampled && !abort && !signals_stopped ())) {
        int64_t wake = timing_now_ns () + 100 * TIMING_NS_PER_MS;
        if (!sent_sampled && shared->deadline_ns < wake)
            wake = shared->deadline_ns;
        timing_sleep_until_ns (wake);
        progress_tick (progress, shared->start_ns);
        if (!sent_sampled && timing_now_ns () >= shared->deadline_ns) {
            result->usage_known &= worker && spawn_usage (worker, &result->usage_sent) == 0;
            result->client_cpu_sent_s = timing_cpu_s () - cpu_start;
            sent_sampled = true;
        }
    }
    for (int n = 0; n < threads; n++)
        if (loops [n].started) {
            pthread_join (loops [n].thread, NULL);
            s_figures_merge (result->figures, loops [n].figures);
            if (loops [n].finished_ns > result->end_ns)
                result->end_ns = loops [n].finished_ns;
            if (!abort && !result->error [0] && loops [n].error [0])
                snprintf (result->error, sizeof (result->error), "thread %d: %s", n, loops [n].error);
        }
    if (!result->end_ns)
        result->end_ns = timing_now_ns ();
    if (!sent_sampled) {        /* interrupted before the deadline */
        result->deadline_ns = result->end_ns;
        result->usage_known &= worker && spawn_usage (worker, &result->usage_sent) == 0;
        result->client_cpu_sent_s = timing_cpu_s () - cpu_start;
    }
    else
    if (result->end_ns < result->deadline_ns)
        result->end_ns = result->deadline_ns;   /* every reply came before the deadline */
    s_account (options, shared, worker, cpu_start, &machine_start, machine_start_ns, abort, result);
    progress_destroy (&progress);
    rc = abort? -1: 0;
    if (abort && !result->error [0])
        snprintf (result->error, sizeof (result->error), "interrupted");
done:
    for (int n = 0; loops && n < threads; n++) {
        free (loops [n].ring);
        free (loops [n].figures);
        msgpack_sbuffer_destroy (&loops [n].buffer);
        msgpack_unpacked_destroy (&loops [n].unpacked);
    }
    free (loops);
    free (conns);
    free (order);
    return rc;
}

int
connections_main (const options_t *options)
{
    s_result_t result;
    memset (&result, 0, sizeof (result));
    s_shared_t shared = { .options = options };
    workdir_t *workdir = NULL;
    spawn_t *worker = NULL;
    char db_path [4096] = "";
    int status = 3;
    pthread_mutex_init (&shared.lock, NULL);
    pthread_cond_init (&shared.changed, NULL);
    atomic_init (&shared.live.done, 0);
    atomic_init (&shared.live.failed, 0);
    if (!(result.figures = calloc (1, sizeof (s_figures_t)))) {
        snprintf (result.error, sizeof (result.error), "out of memory");
        goto done;
    }
    /*  The load average before the run, not the one it makes. */
    if (options->json)
        result.machine = report_machine_json ();
    else {
        report_machine_print (stdout);
        fflush (stdout);
    }
    if (s_raise_fd_limit (options->connections, result.error, sizeof (result.error)))
        goto done;
    if (options->spawn) {
        if (!(workdir = workdir_new (options->dir, options->keep, result.error, sizeof (result.error))))
            goto done;
        char log_path [4096];
        workdir_file (workdir, "connections", "db", db_path, sizeof (db_path));
        workdir_file (workdir, "connections", "log", log_path, sizeof (log_path));
        if (!(worker = spawn_new (db_path, log_path, options->sync_full, options->worker_args, options->worker_argc,
                                  result.error, sizeof (result.error))))
            goto done;
        result.spawned = true;
        snprintf (result.worker_command, sizeof (result.worker_command), "%s", spawn_command (worker));
    }
    shared.endpoint = worker? spawn_endpoint (worker): options->endpoint;
    snprintf (result.endpoint, sizeof (result.endpoint), "%s", shared.endpoint);
    snprintf (shared.key_prefix, sizeof (shared.key_prefix), "bench-conn-%llx-%d",
              (unsigned long long) timing_wall_us (), (int) getpid ());
    if (!(shared.ctx = zmq_ctx_new ())
    ||  zmq_ctx_set (shared.ctx, ZMQ_MAX_SOCKETS, options->connections + S_SPARE_SOCKETS)) {
        snprintf (result.error, sizeof (result.error), "cannot make a ZeroMQ context for %d sockets: %s",
                  options->connections + S_SPARE_SOCKETS, zmq_strerror (zmq_errno ()));
        goto done;
    }
    int rc = s_drive (options, &shared, worker, &result);
    if (worker) {
        char stop_error [256] = "";
        result.worker_exit = spawn_stop (&worker, stop_error, sizeof (stop_error));
        if (result.worker_exit)
            fprintf (stderr, "ledger-bench: %s\n", stop_error);
        result.db_known = rc == 0 && s_count_applied (db_path, &result.db_rows, &result.db_keys) == 0;
    }
    if (rc)
        goto done;
    status = s_exit_status (&result);
    if (options->json) {
        json_t *root = s_report_json (options, &result);
        if (!root || json_dumpf (root, stdout, JSON_INDENT (2) | JSON_PRESERVE_ORDER) || printf ("\n") < 0) {
            fprintf (stderr, "ledger-bench: cannot write the JSON report\n");
            status = 3;
        }
        json_decref (root);
    }
    else
        s_report_print (options, &result);
    if (status == 1 && !options->json)
        fprintf (stderr, "ledger-bench: %s\n", signals_stopped ()? "interrupted"
                 : "an error other than overloaded came back, a batch answered ok is missing, or the worker"
                   " did not stop cleanly (see above)");
done:
    if (status == 3)
        fprintf (stderr, "ledger-bench: connections: %s\n", result.error [0]? result.error: "set-up failed");
    if (worker) {
        char ignored [256];
        spawn_stop (&worker, ignored, sizeof (ignored));
    }
    if (shared.ctx)
        zmq_ctx_term (shared.ctx);
    pthread_cond_destroy (&shared.changed);
    pthread_mutex_destroy (&shared.lock);
    free (result.figures);
    json_decref (result.machine);
    workdir_destroy (&workdir);
    return status;
}
