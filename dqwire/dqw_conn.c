/*  dqw_conn -- one connection to a dqlite node: connect, handshake, and one
    request at a time, each answered within a deadline.

    The socket is non-blocking from the start; every wait is a poll(2) for
    the time left before the deadline. Any I/O error, timeout or malformed
    response closes the socket, because the bytes still on their way would
    be read as the answer to the next request: the connection is dead and
    says why. */

#include "dqw_codec.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define ERRMSG_MAX 512

struct _dqw_t {
    int fd;                     /* -1 once dead */
    int timeout_ms;             /* per request; 0 or less: none */
    uint64_t errcode;           /* of the last FAILURE */
    char errmsg [ERRMSG_MAX];
    dqw_buf_t request;          /* the request being sent */
    uint8_t *body;              /* the response body being read */
    size_t body_capacity;
    dqw_header_t header;        /* of that response */
};

/*  --------------------------------------------------------------------------
    Errors. */

static void
s_vset_errmsg (dqw_t *self, const char *format, va_list args)
    __attribute__ ((format (printf, 2, 0)));

static void
s_vset_errmsg (dqw_t *self, const char *format, va_list args)
{
    vsnprintf (self->errmsg, sizeof (self->errmsg), format, args);
}

static int
s_misuse (dqw_t *self, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

/*  The arguments cannot be sent; nothing was. */
static int
s_misuse (dqw_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_vset_errmsg (self, format, args);
    va_end (args);
    return DQW_MISUSE;
}

static int
s_dead (dqw_t *self, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

/*  The connection cannot be trusted any more: close it, keep why. */
static int
s_dead (dqw_t *self, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_vset_errmsg (self, format, args);
    va_end (args);
    if (self->fd >= 0) {
        close (self->fd);
        self->fd = -1;
    }
    return DQW_TRANSPORT;
}

/*  --------------------------------------------------------------------------
    Deadlines and I/O. */

static int64_t
s_now_ms (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A deadline timeout_ms from now; -1 for none. */
static int64_t
s_deadline (int timeout_ms)
{
    return timeout_ms > 0? s_now_ms () + timeout_ms: -1;
}

/*  Wait until fd is ready for events or the deadline passes. Returns 0
    when ready, DQW_TRANSPORT (connection dead) otherwise. */
static int
s_wait (dqw_t *self, short events, int64_t deadline, const char *what)
{
    while (true) {
        int timeout = -1;
        if (deadline >= 0) {
            int64_t left = deadline - s_now_ms ();
            if (left <= 0)
                return s_dead (self, "timed out %s", what);
            timeout = left > 60000? 60000: (int) left;
        }
        struct pollfd item = { .fd = self->fd, .events = events };
        int rc = poll (&item, 1, timeout);
        if (rc > 0)
            return 0;           /* errors and hang-ups show in the next send/recv */
        if (rc < 0 && errno != EINTR)
            return s_dead (self, "poll failed %s: %s", what, strerror (errno));
    }
}

static int
s_send_all (dqw_t *self, const uint8_t *data, size_t size, int64_t deadline, const char *what)
{
    while (size > 0) {
        ssize_t sent = send (self->fd, data, size, MSG_NOSIGNAL);
        if (sent > 0) {
            data += sent;
            size -= (size_t) sent;
        }
        else
        if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = s_wait (self, POLLOUT, deadline, what);
            if (rc)
                return rc;
        }
        else
        if (sent < 0 && errno != EINTR)
            return s_dead (self, "send failed %s: %s", what, strerror (errno));
    }
    return 0;
}

static int
s_recv_all (dqw_t *self, uint8_t *data, size_t size, int64_t deadline, const char *what)
{
    while (size > 0) {
        ssize_t got = recv (self->fd, data, size, 0);
        if (got > 0) {
            data += got;
            size -= (size_t) got;
        }
        else
        if (got == 0)
            return s_dead (self, "the node closed the connection %s", what);
        else
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int rc = s_wait (self, POLLIN, deadline, what);
            if (rc)
                return rc;
        }
        else
        if (errno != EINTR)
            return s_dead (self, "recv failed %s: %s", what, strerror (errno));
    }
    return 0;
}

/*  Read one whole message into self->header and self->body. The declared
    size is checked against the cap before anything is allocated. */
static int
s_read_message (dqw_t *self, int64_t deadline, const char *request_name)
{
    char what [64];
    uint8_t header [DQW_HEADER_SIZE];
    snprintf (what, sizeof (what), "waiting for the response to %s", request_name);
    int rc = s_recv_all (self, header, sizeof (header), deadline, what);
    if (rc)
        return rc;
    dqw_header_decode (header, &self->header);
    size_t size = (size_t) self->header.words * 8;
    if (size > DQW_MAX_BODY)
        return s_dead (self, "the response to %s declares a body of %zu bytes, over the %u-byte cap",
                       request_name, size, DQW_MAX_BODY);
    if (size > self->body_capacity) {
        uint8_t *body = realloc (self->body, size);
        if (!body)
            return s_dead (self, "out of memory reading the response to %s", request_name);
        self->body = body;
        self->body_capacity = size;
    }
    return s_recv_all (self, self->body, size, deadline, what);
}

/*  The body in self->body is a FAILURE: keep its code and message. */
static int
s_failure (dqw_t *self, const char *request_name)
{
    dqw_response_t res;
    const char *why;
    if (dqw_response_decode (DQW_RESPONSE_FAILURE, self->body, (size_t) self->header.words * 8,
                             &res, &why))
        return s_dead (self, "malformed FAILURE response to %s: %s", request_name, why);
    self->errcode = res.code;
    snprintf (self->errmsg, sizeof (self->errmsg), "%s", res.message);
    return DQW_FAILURE;
}

/*  The message just read must be a FAILURE or of type expected. */
static int
s_check_type (dqw_t *self, uint8_t expected, const char *request_name)
{
    if (self->header.type == DQW_RESPONSE_FAILURE)
        return s_failure (self, request_name);
    if (self->header.type != expected)
        return s_dead (self, "the node answered %s with %s (type %u), not %s", request_name,
                       dqw_response_name (self->header.type), self->header.type,
                       dqw_response_name (expected));
    return 0;
}

/*  Send req and read the first message of its response, which must be of
    the type that answers req. On 0, self->header and self->body hold it.
    *deadline_p is set for the messages that may follow. */
static int
s_call (dqw_t *self, const dqw_request_t *req, int64_t *deadline_p)
{
    const char *name = dqw_request_name (req->type);
    const char *why;
    if (self->fd < 0)
        return DQW_TRANSPORT;   /* errmsg still says why it died */
    self->errcode = 0;
    self->errmsg [0] = 0;
    if (dqw_request_encode (req, &self->request, &why))
        return s_misuse (self, "cannot send %s: %s", name, why);

    int64_t deadline = s_deadline (self->timeout_ms);
    char what [64];
    snprintf (what, sizeof (what), "sending %s", name);
    int rc = s_send_all (self, self->request.data, self->request.size, deadline, what);
    if (rc == 0)
        rc = s_read_message (self, deadline, name);
    if (rc == 0)
        rc = s_check_type (self, (uint8_t) dqw_request_response_type (req->type), name);
    if (deadline_p)
        *deadline_p = deadline;
    return rc;
}

/*  Send req and decode its one-message response into res. */
static int
s_call_simple (dqw_t *self, const dqw_request_t *req, dqw_response_t *res)
{
    const char *why;
    int rc = s_call (self, req, NULL);
    if (rc)
        return rc;
    if (dqw_response_decode (self->header.type, self->body, (size_t) self->header.words * 8,
                             res, &why))
        return s_dead (self, "malformed %s response to %s: %s", dqw_response_name (self->header.type),
                       dqw_request_name (req->type), why);
    return 0;
}

/*  Send req and gather every ROWS message of its response into rows. A
    FAILURE may come after some ROWS messages (a step failed): the node has
    then finished with the request. */
static int
s_call_rows (dqw_t *self, const dqw_request_t *req, dqw_rows_t *rows)
{
    const char *name = dqw_request_name (req->type);
    const char *why;
    int64_t deadline;
    dqw_rows_clear (rows);
    int rc = s_call (self, req, &deadline);
    while (rc == 0) {
        bool more;
        if (dqw_rows_append (rows, self->body, (size_t) self->header.words * 8, &more, &why))
            rc = s_dead (self, "malformed ROWS response to %s (message %zu): %s", name,
                         rows->parts + 1, why);
        else
        if (!more)
            return 0;
        else {
            rc = s_read_message (self, deadline, name);
            if (rc == 0)
                rc = s_check_type (self, DQW_RESPONSE_ROWS, name);
        }
    }
    dqw_rows_clear (rows);
    return rc;
}

/*  --------------------------------------------------------------------------
    Connecting. */

/*  "@name" or "/path" into *addr and *len_p. Returns 0, or -1 with
    errmsg set. */
static int
s_parse_unix (dqw_t *self, const char *address, struct sockaddr_un *addr, socklen_t *len_p)
{
    memset (addr, 0, sizeof (*addr));
    addr->sun_family = AF_UNIX;
    size_t len = strlen (address);
    if (address [0] == '@') {
        /* Linux abstract socket: a NUL, then the name, not NUL-terminated */
        if (len - 1 > sizeof (addr->sun_path) - 1 || len < 2) {
            snprintf (self->errmsg, sizeof (self->errmsg), "bad abstract socket name \"%s\"", address);
            return -1;
        }
        memcpy (addr->sun_path + 1, address + 1, len - 1);
        *len_p = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + len);
    }
    else {
        if (len > sizeof (addr->sun_path) - 1) {
            snprintf (self->errmsg, sizeof (self->errmsg), "socket path too long: \"%s\"", address);
            return -1;
        }
        memcpy (addr->sun_path, address, len);
        *len_p = (socklen_t) (offsetof (struct sockaddr_un, sun_path) + len + 1);
    }
    return 0;
}

/*  Open a non-blocking socket and connect it to addr within the deadline.
    Returns 0 with self->fd set, or -1 with errmsg set. */
static int
s_connect_to (dqw_t *self, int family, const struct sockaddr *addr, socklen_t len,
              const char *address, int64_t deadline)
{
    self->fd = socket (family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (self->fd < 0) {
        snprintf (self->errmsg, sizeof (self->errmsg), "socket: %s", strerror (errno));
        return -1;
    }
    if (family == AF_INET || family == AF_INET6) {
        int on = 1;
        /* requests are small and each waits for its answer */
        if (setsockopt (self->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof (on))) {
            s_dead (self, "setsockopt TCP_NODELAY: %s", strerror (errno));
            return -1;
        }
    }
    int rc = connect (self->fd, addr, len);
    if (rc < 0 && errno == EINTR)
        errno = EINPROGRESS;    /* the connect goes on; wait for it */
    if (rc < 0 && errno == EINPROGRESS) {
        char what [300];
        snprintf (what, sizeof (what), "connecting to %s", address);
        if (s_wait (self, POLLOUT, deadline, what))
            return -1;
        int error = 0;
        socklen_t error_len = sizeof (error);
        if (getsockopt (self->fd, SOL_SOCKET, SO_ERROR, &error, &error_len) < 0)
            error = errno;
        rc = error? -1: 0;
        errno = error;
    }
    if (rc < 0) {
        s_dead (self, "connect to %s: %s", address, strerror (errno));
        return -1;
    }
    return 0;
}

/*  host:port, with [brackets] around an IPv6 host. Tries each address the
    name resolves to until one connects. */
static int
s_connect_tcp (dqw_t *self, const char *address, int64_t deadline)
{
    char host [256];
    const char *colon = strrchr (address, ':');
    if (!colon || colon == address || colon [1] == 0) {
        snprintf (self->errmsg, sizeof (self->errmsg),
                  "bad address \"%s\" (want host:port, @name or /path)", address);
        return -1;
    }
    size_t host_len = (size_t) (colon - address);
    const char *start = address;
    if (address [0] == '[' && colon [-1] == ']') {
        start++;
        host_len -= 2;
    }
    if (host_len == 0 || host_len >= sizeof (host)) {
        snprintf (self->errmsg, sizeof (self->errmsg), "bad host in address \"%s\"", address);
        return -1;
    }
    memcpy (host, start, host_len);
    host [host_len] = 0;

    struct addrinfo hints, *info = NULL;
    memset (&hints, 0, sizeof (hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int rc = getaddrinfo (host, colon + 1, &hints, &info);
    if (rc) {
        snprintf (self->errmsg, sizeof (self->errmsg), "cannot resolve \"%s\": %s", address,
                  gai_strerror (rc));
        return -1;
    }
    rc = -1;
    for (struct addrinfo *ai = info; ai && rc; ai = ai->ai_next)
        rc = s_connect_to (self, ai->ai_family, ai->ai_addr, ai->ai_addrlen, address, deadline);
    freeaddrinfo (info);
    return rc;
}

dqw_t *
dqw_connect (const char *address, int timeout_ms, char *errbuf, size_t errlen)
{
    dqw_t *self = calloc (1, sizeof (dqw_t));
    if (!self) {
        if (errbuf && errlen)
            snprintf (errbuf, errlen, "out of memory");
        return NULL;
    }
    self->fd = -1;
    self->timeout_ms = timeout_ms;
    dqw_buf_init (&self->request);

    int64_t deadline = s_deadline (timeout_ms);
    int rc;
    if (!address || !*address) {
        snprintf (self->errmsg, sizeof (self->errmsg), "no address");
        rc = -1;
    }
    else
    if (address [0] == '@' || address [0] == '/') {
        struct sockaddr_un addr;
        socklen_t len;
        rc = s_parse_unix (self, address, &addr, &len);
        if (rc == 0)
            rc = s_connect_to (self, AF_UNIX, (struct sockaddr *) &addr, len, address, deadline);
    }
    else
        rc = s_connect_tcp (self, address, deadline);

    if (rc == 0) {
        /* The handshake: the protocol version, to which the node says nothing. */
        uint8_t version [8] = { DQW_PROTOCOL_VERSION };
        char what [300];
        snprintf (what, sizeof (what), "sending the protocol version to %s", address);
        rc = s_send_all (self, version, sizeof (version), deadline, what);
    }
    if (rc) {
        if (errbuf && errlen)
            snprintf (errbuf, errlen, "%s", self->errmsg);
        dqw_destroy (&self);
        return NULL;
    }
    return self;
}

void
dqw_destroy (dqw_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    dqw_t *self = *self_p;
    if (self->fd >= 0)
        close (self->fd);
    dqw_buf_reset (&self->request);
    free (self->body);
    free (self);
    *self_p = NULL;
}

void
dqw_set_timeout (dqw_t *self, int timeout_ms)
{
    self->timeout_ms = timeout_ms;
}

uint64_t
dqw_errcode (dqw_t *self)
{
    return self->errcode;
}

const char *
dqw_errmsg (dqw_t *self)
{
    return self->errmsg;
}

/*  --------------------------------------------------------------------------
    The requests. */

int
dqw_leader (dqw_t *self, uint64_t *id_p, char *address, size_t size)
{
    dqw_request_t req = { .type = DQW_REQUEST_LEADER };
    dqw_response_t res;
    int rc = s_call_simple (self, &req, &res);
    if (rc)
        return rc;
    *id_p = res.id;
    if (address) {
        size_t len = strlen (res.address);
        if (len >= size)
            return s_misuse (self, "the leader's address \"%s\" needs %zu bytes, not %zu",
                             res.address, len + 1, size);
        memcpy (address, res.address, len + 1);
    }
    return 0;
}

int
dqw_open (dqw_t *self, const char *name, uint32_t *db_p)
{
    dqw_request_t req = { .type = DQW_REQUEST_OPEN, .text = name };
    dqw_response_t res;
    int rc = s_call_simple (self, &req, &res);
    if (rc == 0)
        *db_p = res.db;
    return rc;
}

int
dqw_prepare (dqw_t *self, uint32_t db, const char *sql, uint32_t *stmt_p, uint64_t *params_p)
{
    dqw_request_t req = { .type = DQW_REQUEST_PREPARE, .db = db, .text = sql };
    dqw_response_t res;
    int rc = s_call_simple (self, &req, &res);
    if (rc)
        return rc;
    *stmt_p = res.stmt;
    if (params_p)
        *params_p = res.params;
    return 0;
}

static int
s_result (dqw_t *self, const dqw_request_t *req, uint64_t *last_id_p, uint64_t *changes_p)
{
    dqw_response_t res;
    int rc = s_call_simple (self, req, &res);
    if (rc)
        return rc;
    if (last_id_p)
        *last_id_p = res.last_id;
    if (changes_p)
        *changes_p = res.changes;
    return 0;
}

int
dqw_exec (dqw_t *self, uint32_t db, uint32_t stmt, const dqw_value_t *params, unsigned count,
          uint64_t *last_id_p, uint64_t *changes_p)
{
    dqw_request_t req = { .type = DQW_REQUEST_EXEC, .db = db, .stmt = stmt,
                          .params = params, .count = count };
    return s_result (self, &req, last_id_p, changes_p);
}

int
dqw_query (dqw_t *self, uint32_t db, uint32_t stmt, const dqw_value_t *params, unsigned count,
           dqw_rows_t *rows)
{
    dqw_request_t req = { .type = DQW_REQUEST_QUERY, .db = db, .stmt = stmt,
                          .params = params, .count = count };
    return s_call_rows (self, &req, rows);
}

int
dqw_finalize (dqw_t *self, uint32_t db, uint32_t stmt)
{
    dqw_request_t req = { .type = DQW_REQUEST_FINALIZE, .db = db, .stmt = stmt };
    dqw_response_t res;
    return s_call_simple (self, &req, &res);
}

int
dqw_exec_sql (dqw_t *self, uint32_t db, const char *sql, const dqw_value_t *params, unsigned count,
              uint64_t *last_id_p, uint64_t *changes_p)
{
    dqw_request_t req = { .type = DQW_REQUEST_EXEC_SQL, .db = db, .text = sql,
                          .params = params, .count = count };
    return s_result (self, &req, last_id_p, changes_p);
}

int
dqw_query_sql (dqw_t *self, uint32_t db, const char *sql, const dqw_value_t *params, unsigned count,
               dqw_rows_t *rows)
{
    dqw_request_t req = { .type = DQW_REQUEST_QUERY_SQL, .db = db, .text = sql,
                          .params = params, .count = count };
    return s_call_rows (self, &req, rows);
}

int
dqw_add (dqw_t *self, uint64_t id, const char *address)
{
    dqw_request_t req = { .type = DQW_REQUEST_ADD, .node = id, .text = address };
    dqw_response_t res;
    return s_call_simple (self, &req, &res);
}

int
dqw_assign (dqw_t *self, uint64_t id, int role)
{
    if (self->fd < 0)
        return DQW_TRANSPORT;
    if (role != DQW_VOTER && role != DQW_STANDBY && role != DQW_SPARE)
        return s_misuse (self, "cannot send ASSIGN: unknown role %d", role);
    dqw_request_t req = { .type = DQW_REQUEST_ASSIGN, .node = id, .role = (uint64_t) role };
    dqw_response_t res;
    return s_call_simple (self, &req, &res);
}

int
dqw_remove (dqw_t *self, uint64_t id)
{
    dqw_request_t req = { .type = DQW_REQUEST_REMOVE, .node = id };
    dqw_response_t res;
    return s_call_simple (self, &req, &res);
}

int
dqw_transfer (dqw_t *self, uint64_t id)
{
    dqw_request_t req = { .type = DQW_REQUEST_TRANSFER, .node = id };
    dqw_response_t res;
    return s_call_simple (self, &req, &res);
}

int
dqw_cluster (dqw_t *self, dqw_node_t **nodes_p, size_t *count_p)
{
    dqw_request_t req = { .type = DQW_REQUEST_CLUSTER };
    const char *why;
    int rc = s_call (self, &req, NULL);
    if (rc)
        return rc;
    if (dqw_servers_decode (self->body, (size_t) self->header.words * 8, nodes_p, count_p, &why))
        return s_dead (self, "malformed SERVERS response to CLUSTER: %s", why);
    return 0;
}
