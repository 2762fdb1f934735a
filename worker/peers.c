/*  peers -- the ROUTER's connections: how many there are, and what each
    one makes the worker hold. */

#include "peers.h"
#include "log.h"
#include "stats.h"

#include <zmq.h>
#include <dirent.h>
#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/*  The bytes of a connection's ZMTP greeting and handshake, and of the
    occasional heartbeat, are on the wire but in no message: a peer
    holding less than this is holding nothing. */
#define HANDSHAKE_SLACK 4096

/* What a byte received and not yet taken may cost libzmq, at most. */
#define INBOUND_COST 32

typedef struct {
    bool live;
    uint64_t taken;             /* wire bytes of the messages the front end took */
    uint64_t sent;              /* wire bytes of the replies it sent */
} peer_t;

struct _peers_t {
    void *router;
    void *events;               /* our end of the monitor's PAIR */
    char endpoint [64];
    bool curve;
    peer_t *table;              /* by file descriptor */
    size_t table_size;
    size_t count;
    size_t capacity;
    uint64_t refused;
    uint64_t evicted;
    int64_t refused_logged_us;  /* when the last "past capacity" line was logged */
    uint64_t refused_unlogged;
};


static uint64_t
s_fd_limit (void)
{
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) || limit.rlim_cur == RLIM_INFINITY)
        return 1024 * 1024;
    return limit.rlim_cur;
}

size_t
peers_raise_fd_limit (size_t reserve, uint64_t *limit_p)
{
    struct rlimit limit;
    if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        if (setrlimit (RLIMIT_NOFILE, &limit))
            log_warn ("worker.fd_limit_failed", "cannot raise the open-files limit to %llu: %s",
                      (unsigned long long) limit.rlim_max, strerror (errno));
    }
    uint64_t max = s_fd_limit ();
    size_t open = 0;
    DIR *dir = opendir ("/proc/self/fd");
    if (dir) {
        while (readdir (dir))
            open++;
        closedir (dir);
    }
    *limit_p = max;
    return max > open + reserve? (size_t) (max - open - reserve): 0;
}

peers_t *
peers_new (void *ctx, void *router, size_t capacity, bool curve, char *errbuf, size_t errlen)
{
    peers_t *self = calloc (1, sizeof (peers_t));
    if (!self) {
        snprintf (errbuf, errlen, "out of memory");
        return NULL;
    }
    self->router = router;
    self->curve = curve;
    self->capacity = capacity;
    uint64_t limit = s_fd_limit ();
    self->table_size = limit < 1024 * 1024? (size_t) limit: 1024 * 1024;
    self->table = calloc (self->table_size, sizeof (peer_t));
    snprintf (self->endpoint, sizeof (self->endpoint), "inproc://ledgerd-peers-%p", (void *) self);
    int events = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_ACCEPT_FAILED;
    /*  The monitor's sends block when its pipe is full, and they run on
        libzmq's I/O thread: no high-water mark on our end, so a burst of
        connections can never stall it. */
    int unlimited = 0;
    if (!self->table
    ||  zmq_socket_monitor (router, self->endpoint, events)
    ||  !(self->events = zmq_socket (ctx, ZMQ_PAIR))
    ||  zmq_setsockopt (self->events, ZMQ_RCVHWM, &unlimited, sizeof (unlimited))
    ||  zmq_connect (self->events, self->endpoint)) {
        snprintf (errbuf, errlen, "cannot monitor connections: %s", self->table? zmq_strerror (errno): "out of memory");
        peers_destroy (&self);
        return NULL;
    }
    return self;
}

void
peers_destroy (peers_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    peers_t *self = *self_p;
    if (self->events) {
        zmq_socket_monitor (self->router, NULL, 0);
        int linger = 0;
        zmq_setsockopt (self->events, ZMQ_LINGER, &linger, sizeof (linger));
        zmq_close (self->events);
    }
    free (self->table);
    free (self);
    *self_p = NULL;
}

void *
peers_events (peers_t *self)
{
    return self->events;
}

static peer_t *
s_peer (peers_t *self, int fd)
{
    return fd >= 0 && (size_t) fd < self->table_size? &self->table [fd]: NULL;
}

/*  Log "past capacity" at most once a second, with the count since. */
static void
s_log_refused (peers_t *self, const char *why)
{
    self->refused_unlogged++;
    int64_t now = stats_monotonic_us ();
    if (now - self->refused_logged_us < 1000000)
        return;
    log_warn_with ("connection.refused", LOG_FIELDS (LOG_INT ("open", self->count), LOG_INT ("capacity", self->capacity),
                   LOG_INT ("refused", self->refused_unlogged)),
              "%s: %zu connections open, capacity %zu (open-files limit %llu); %llu refused since the last report",
              why, self->count, self->capacity, (unsigned long long) s_fd_limit (),
              (unsigned long long) self->refused_unlogged);
    self->refused_logged_us = now;
    self->refused_unlogged = 0;
}

static void
s_on_event (peers_t *self, uint16_t event, int fd)
{
    peer_t *peer = s_peer (self, fd);
    if (event == ZMQ_EVENT_ACCEPTED) {
        if (peer) {
            self->count += !peer->live;
            *peer = (peer_t) { .live = true };     /* a new connection: its TCP counters start at 0 */
        }
        if (self->count > self->capacity) {
            /*  libzmq owns the descriptor: shutting it down makes its
                engine see the end of the stream and close it. */
            shutdown (fd, SHUT_RDWR);
            self->refused++;
            s_log_refused (self, "connection closed at once, past the connection capacity");
        }
    }
    else
    if (event == ZMQ_EVENT_DISCONNECTED) {
        if (peer && peer->live) {
            peer->live = false;
            self->count--;
        }
    }
    else
    if (event == ZMQ_EVENT_ACCEPT_FAILED)
        s_log_refused (self, "cannot accept a connection (open-files limit?)");
}

void
peers_take_events (peers_t *self)
{
    while (true) {
        zmq_msg_t msg;
        zmq_msg_init (&msg);
        if (zmq_msg_recv (&msg, self->events, ZMQ_DONTWAIT) == -1) {
            zmq_msg_close (&msg);
            return;
        }
        uint16_t event = 0;
        uint32_t value = 0;
        if (zmq_msg_size (&msg) == 6) {
            memcpy (&event, zmq_msg_data (&msg), 2);
            memcpy (&value, (uint8_t *) zmq_msg_data (&msg) + 2, 4);
        }
        /*  The second frame is the endpoint, which we do not need. */
        while (zmq_msg_more (&msg)) {
            zmq_msg_close (&msg);
            zmq_msg_init (&msg);
            if (zmq_msg_recv (&msg, self->events, 0) == -1)
                break;
        }
        zmq_msg_close (&msg);
        s_on_event (self, event, (int) value);
    }
}

/*  Bytes a frame of size takes on the wire: ZMTP's 2- or 9-byte header,
    and with CURVE the MESSAGE command around it (name, nonce, flags, MAC). */
uint64_t
peers_wire_size (peers_t *self, size_t size)
{
    uint64_t body = self->curve? size + 33: size;
    return body + (body > 255? 9: 2);
}

void
peers_received (peers_t *self, int fd, uint64_t wire_bytes)
{
    peer_t *peer = s_peer (self, fd);
    if (peer)
        peer->taken += wire_bytes;
}

void
peers_sent (peers_t *self, int fd, uint64_t wire_bytes)
{
    peer_t *peer = s_peer (self, fd);
    if (peer)
        peer->sent += wire_bytes;
}

size_t
peers_held (peers_t *self, int fd)
{
    peer_t *peer = s_peer (self, fd);
    if (!peer || !peer->live)
        return 0;
    struct tcp_info info;
    socklen_t len = sizeof (info);
    memset (&info, 0, sizeof (info));
    if (getsockopt (fd, IPPROTO_TCP, TCP_INFO, &info, &len) || len < offsetof (struct tcp_info, tcpi_bytes_received)
                                                                      + sizeof (info.tcpi_bytes_received))
        return 0;               /* not TCP (ipc://): not counted */
    int unread = 0;             /* in the kernel, not yet read by libzmq */
    if (ioctl (fd, FIONREAD, &unread))
        unread = 0;
    /*  Read after the counters: on a busy connection it may be ahead. */
    uint64_t in = info.tcpi_bytes_received > (uint64_t) unread? info.tcpi_bytes_received - (uint64_t) unread: 0;
    uint64_t arriving = in > peer->taken + HANDSHAKE_SLACK? in - peer->taken - HANDSHAKE_SLACK: 0;
    uint64_t unsent = peer->sent > info.tcpi_bytes_acked + HANDSHAKE_SLACK?
                      peer->sent - info.tcpi_bytes_acked - HANDSHAKE_SLACK: 0;
    /*  Bytes that came in cost libzmq up to 32 times their size: each
        frame, even an empty one (2 bytes on the wire), is a 64-byte
        message until the front end takes it. Replies cost about theirs. */
    return (size_t) (arriving * INBOUND_COST + unsent);
}

size_t
peers_evict_largest (peers_t *self, size_t min_bytes)
{
    int worst = -1;
    size_t most = 0;
    for (size_t fd = 0, seen = 0; fd < self->table_size && seen < self->count; fd++)
        if (self->table [fd].live) {
            seen++;
            size_t held = peers_held (self, (int) fd);
            if (held > most) {
                most = held;
                worst = (int) fd;
            }
        }
    if (worst < 0 || most < min_bytes)
        return 0;
    shutdown (worst, SHUT_RDWR);
    /*  Not live from now on: its descriptor may be reused before the
        DISCONNECTED event arrives. */
    self->table [worst].live = false;
    self->count--;
    self->evicted++;
    return most;
}

size_t
peers_count (peers_t *self)
{
    return self->count;
}

uint64_t
peers_refused (peers_t *self)
{
    return self->refused;
}

uint64_t
peers_evicted (peers_t *self)
{
    return self->evicted;
}
