/*  metrics_http -- ledgerd's HTTP endpoint: /metrics, /healthz, /readyz. */

#include "metrics_http.h"
#include "log.h"
#include "metrics.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Connections at once: Prometheus holds one, an operator's curl another. */
#define S_MAX_CONNECTIONS 16

/* Of them, from one address. */
#define S_MAX_PER_ADDRESS 8

/* Bytes a connection may hold for its request line and headers: a larger
   request is answered 431 and closed. */
#define S_REQUEST_BYTES (16 * 1024)

/* Seconds a connection may sit idle (a request trickling in, a reply not
   read) before it is closed. */
#define S_IDLE_TIMEOUT_S 5

struct _metrics_http_t {
    struct MHD_Daemon *daemon;
    stats_t *stats;
    char *db_path;
};

/*  libmicrohttpd's complaints (a malformed request, a connection cut),
    at debug level: they are the client's business. */
static void
s_log (void *arg, const char *format, va_list args)
{
    char line [512];
    vsnprintf (line, sizeof (line), format, args);
    size_t len = strlen (line);
    while (len && line [len - 1] == '\n')
        line [--len] = 0;
    log_debug ("metrics.http", "metrics http: %s", line);
}

/*  Queue a reply of text (copied) with status. */
static enum MHD_Result
s_reply (struct MHD_Connection *connection, unsigned status, const char *text, const char *type)
{
    struct MHD_Response *response = MHD_create_response_from_buffer (strlen (text), (void *) text,
                                                                     MHD_RESPMEM_MUST_COPY);
    if (!response)
        return MHD_NO;
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header (response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result rc = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return rc;
}

static enum MHD_Result
s_metrics (metrics_http_t *self, struct MHD_Connection *connection)
{
    size_t size;
    char *text = metrics_render (self->stats, self->db_path, &size);
    if (!text)
        return s_reply (connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n", "text/plain");
    struct MHD_Response *response = MHD_create_response_from_buffer (size, text, MHD_RESPMEM_MUST_FREE);
    if (!response) {
        free (text);
        return MHD_NO;
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_CONTENT_TYPE);
    enum MHD_Result rc = MHD_queue_response (connection, MHD_HTTP_OK, response);
    MHD_destroy_response (response);
    return rc;
}

/*  200 "ok", or 503 and why not. */
static enum MHD_Result
s_ready (metrics_http_t *self, struct MHD_Connection *connection)
{
    const char *why = NULL;
    switch ((stats_state_t) atomic_load_explicit (&self->stats->state, memory_order_relaxed)) {
        case STATS_READY:
            break;
        case STATS_STARTING:
            why = "starting: the database is not open yet\n";
            break;
        case STATS_NO_LEADER:
            why = "no leader: this cluster node knows no leader, or leads without its store\n";
            break;
        case STATS_DRAINING:
            why = "draining: the worker is stopping\n";
            break;
    }
    if (why)
        return s_reply (connection, MHD_HTTP_SERVICE_UNAVAILABLE, why, "text/plain");
    return s_reply (connection, MHD_HTTP_OK, "ok\n", "text/plain");
}

/*  Every request is answered on its first call, before any body is read:
    none of these paths takes one, and a body (however large) is then
    dropped with the connection instead of being read. */
static enum MHD_Result
s_answer (void *arg, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *upload_data, size_t *upload_data_size, void **request_p)
{
    metrics_http_t *self = (metrics_http_t *) arg;
    if (strcmp (method, MHD_HTTP_METHOD_GET) != 0 && strcmp (method, MHD_HTTP_METHOD_HEAD) != 0)
        return s_reply (connection, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed\n", "text/plain");
    if (strcmp (url, "/metrics") == 0)
        return s_metrics (self, connection);
    if (strcmp (url, "/healthz") == 0)
        return s_reply (connection, MHD_HTTP_OK, "ok\n", "text/plain");
    if (strcmp (url, "/readyz") == 0)
        return s_ready (self, connection);
    return s_reply (connection, MHD_HTTP_NOT_FOUND, "not found: try /metrics, /healthz or /readyz\n", "text/plain");
}

metrics_http_t *
metrics_http_new (const config_t *config, stats_t *stats, const char *db_path, char *errbuf, size_t errlen)
{
    metrics_http_t *self = calloc (1, sizeof (metrics_http_t));
    if (!self || (db_path && !(self->db_path = strdup (db_path)))) {
        snprintf (errbuf, errlen, "out of memory");
        free (self);
        return NULL;
    }
    self->stats = stats;
    struct sockaddr_in address4 = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) config->metrics_port) };
    struct sockaddr_in6 address6 = { .sin6_family = AF_INET6, .sin6_port = htons ((uint16_t) config->metrics_port) };
    bool ipv6 = inet_pton (AF_INET, config->metrics_host, &address4.sin_addr) != 1;
    if (ipv6)
        inet_pton (AF_INET6, config->metrics_host, &address6.sin6_addr);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG | (ipv6? MHD_USE_IPv6: 0);
    /*  Signals belong to the front end's thread, which drains on them:
        the server's thread starts with every signal blocked. */
    sigset_t all, old;
    sigfillset (&all);
    pthread_sigmask (SIG_BLOCK, &all, &old);
    self->daemon = MHD_start_daemon (flags, 0, NULL, NULL, s_answer, self,
        MHD_OPTION_SOCK_ADDR, ipv6? (struct sockaddr *) &address6: (struct sockaddr *) &address4,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned) S_MAX_CONNECTIONS,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned) S_MAX_PER_ADDRESS,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) S_REQUEST_BYTES,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) S_IDLE_TIMEOUT_S,
        MHD_OPTION_EXTERNAL_LOGGER, s_log, NULL,
        MHD_OPTION_END);
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    if (!self->daemon) {
        snprintf (errbuf, errlen, "cannot serve metrics at %s: the address is in use or not this host's",
                  config->metrics_bind);
        metrics_http_destroy (&self);
        return NULL;
    }
    return self;
}

void
metrics_http_destroy (metrics_http_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    metrics_http_t *self = *self_p;
    if (self->daemon)
        MHD_stop_daemon (self->daemon);
    free (self->db_path);
    free (self);
    *self_p = NULL;
}
