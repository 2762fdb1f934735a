/*  worker_harness -- start the real ledgerd for integration tests. */

#ifndef _GNU_SOURCE
#   define _GNU_SOURCE          /* strsignal, environ */
#endif

#include "worker_harness.h"
#include "harness_files.h"
#include "harness_json.h"
#include "harness_wire.h"

#include "proto_json.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef LEDGERD_PATH
#   error "define LEDGERD_PATH as the ledgerd binary, e.g. -DLEDGERD_PATH='\"build/bin/ledgerd\"'"
#endif

/* How long the worker has to answer its first ping, and to exit on SIGTERM. */
#define S_START_DEADLINE_MS 10000
#define S_STOP_DEADLINE_MS  10000
/* How long one readiness ping waits before its socket is closed and the ping
   sent again on a new one, and how often the child is checked meanwhile. */
#define S_PING_INTERVAL_MS  500
#define S_POLL_SLICE_MS     50
/* Another process can take the free port between our probe and the worker's
   bind; the worker then exits saying so, and a new port is tried, this many
   times in all. */
#define S_START_ATTEMPTS    3

struct _harness_t {
    char *dir;                  /* the worker's working directory */
    bool own_dir;               /* made by harness_start, so ours to remove */
    char *db_path;
    char *log_path;
    char endpoint [64];
    long log_start;             /* where this run's part of the log begins */
    pid_t pid;
    bool exited;                /* reaped: exit_code and term_signal are final */
    int exit_code;              /* exit status, or -1 if it died by a signal */
    int term_signal;            /* the signal that killed it, or 0 */
    bool test_signalled;        /* the test sent a signal, so a death by it is no news */
};

/* The outcome of waiting for a new worker to answer. */
typedef enum {
    S_READY,
    S_DIED,                     /* the child exited; it may not have got the port */
    S_FAILED                    /* anything else; already reported */
} s_start_rc_t;

static void
s_destroy (harness_t **self_p)
{
    harness_t *self = *self_p;
    if (self) {
        free (self->dir);
        free (self->db_path);
        free (self->log_path);
        free (self);
        *self_p = NULL;
    }
}

static harness_t *
s_new (const char *dir, bool own_dir)
{
    harness_t *self = calloc (1, sizeof *self);
    if (!self)
        return NULL;
    self->own_dir = own_dir;
    self->pid = -1;
    self->exited = true;
    self->exit_code = -1;
    self->dir = strdup (dir);
    self->db_path = zsys_sprintf ("%s/ledger.db", dir);
    self->log_path = zsys_sprintf ("%s/ledgerd.log", dir);
    if (!self->dir || !self->db_path || !self->log_path)
        s_destroy (&self);
    return self;
}

/*  Copy a NULL-terminated argument list into a new NULL-terminated array;
    the strings stay the caller's. Consumes args, which the caller must still
    va_end. */
static const char **
s_extras_new (const char *first, va_list args)
{
    va_list counting;
    va_copy (counting, args);
    size_t count = 0;
    for (const char *arg = first; arg; arg = va_arg (counting, const char *))
        count++;
    va_end (counting);

    const char **extras = calloc (count + 1, sizeof *extras);
    if (!extras)
        return NULL;
    size_t index = 0;
    for (const char *arg = first; arg; arg = va_arg (args, const char *))
        extras [index++] = arg;
    return extras;
}

/*  Collect the child's status if it has exited; with block, wait for it.
    Returns true once it has exited. */
static bool
s_reap (harness_t *self, bool block)
{
    while (!self->exited) {
        int status;
        pid_t rc = waitpid (self->pid, &status, block? 0: WNOHANG);
        if (rc == self->pid) {
            self->exited = true;
            self->exit_code = WIFEXITED (status)? WEXITSTATUS (status): -1;
            self->term_signal = WIFSIGNALED (status)? WTERMSIG (status): 0;
        }
        else
        if (rc == 0)
            break;
        else
        if (errno != EINTR) {
            //  Someone else reaped it (SIGCHLD ignored?); its status is lost.
            fprintf (stderr, "harness: cannot wait for ledgerd (pid %d): %s\n",
                     (int) self->pid, strerror (errno));
            self->exited = true;
            self->exit_code = -1;
        }
    }
    return self->exited;
}

/*  Say how the child ended, for messages. */
static void
s_print_exit (harness_t *self, FILE *file)
{
    if (self->term_signal)
        fprintf (file, "died by signal %d (%s)", self->term_signal, strsignal (self->term_signal));
    else
        fprintf (file, "exited with status %d", self->exit_code);
}

/*  Find a TCP port on the loopback interface that nothing listens on now.
    Returns the port or -1. */
static int
s_free_port (void)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        fprintf (stderr, "harness: socket: %s\n", strerror (errno));
        return -1;
    }
    struct sockaddr_in addr = { .sin_family = AF_INET };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t addr_len = sizeof addr;
    int port = -1;
    if (bind (fd, (struct sockaddr *) &addr, sizeof addr) == 0
    &&  getsockname (fd, (struct sockaddr *) &addr, &addr_len) == 0)
        port = ntohs (addr.sin_port);
    else
        fprintf (stderr, "harness: cannot find a free port: %s\n", strerror (errno));
    close (fd);
    return port;
}

/*  True if this run's part of the log says text. Bounded: a worker that
    died at startup has not written much. */
static bool
s_log_says (harness_t *self, const char *text)
{
    FILE *file = fopen (self->log_path, "r");
    if (!file)
        return false;
    char buffer [16384];
    size_t size = 0;
    if (fseek (file, self->log_start, SEEK_SET) == 0)
        size = fread (buffer, 1, sizeof buffer - 1, file);
    fclose (file);
    buffer [size] = '\0';
    return strstr (buffer, text) != NULL;
}

long
harness_status_kb (harness_t *self, const char *field)
{
    char path [64], line [256];
    snprintf (path, sizeof (path), "/proc/%d/status", (int) self->pid);
    FILE *file = fopen (path, "r");
    long kb = -1;
    size_t prefix = strlen (field);
    while (file && fgets (line, sizeof (line), file))
        if (strncmp (line, field, prefix) == 0 && line [prefix] == ':')
            kb = strtol (line + prefix + 1, NULL, 10);
    if (file)
        fclose (file);
    return kb;
}

bool
harness_log_says (harness_t *self, const char *text)
{
    FILE *file = fopen (self->log_path, "r");
    if (!file)
        return false;
    size_t capacity = 1024 * 1024;
    char *buffer = malloc (capacity);
    size_t size = 0;
    if (buffer && fseek (file, self->log_start, SEEK_SET) == 0)
        size = fread (buffer, 1, capacity - 1, file);
    fclose (file);
    if (!buffer)
        return false;
    buffer [size] = '\0';
    bool says = strstr (buffer, text) != NULL;
    free (buffer);
    return says;
}

/*  Start the child on self->endpoint. The command line goes into the log
    first, so a dumped log says which run it shows. Returns 0 or -1. */
static int
s_spawn (harness_t *self, const char **extras)
{
    size_t n_extras = 0;
    bool cluster = false;       //  a cluster node keeps its data in --data-dir, not --db
    while (extras [n_extras])
        cluster |= strcmp (extras [n_extras++], "--cluster-id") == 0;
    //  LEDGER_TEST_WRAPPER runs the worker under another program, e.g.
    //  "valgrind --error-exitcode=99 --leak-check=full": its words go first.
    char *wrapper = getenv ("LEDGER_TEST_WRAPPER")? strdup (getenv ("LEDGER_TEST_WRAPPER")): NULL;
    size_t n_wrapper = 0;
    char *words [16];
    for (char *save = NULL, *word = wrapper? strtok_r (wrapper, " ", &save): NULL; word && n_wrapper < 16;
         word = strtok_r (NULL, " ", &save))
        words [n_wrapper++] = word;
    //  posix_spawn's argv is not const for historical reasons; it is not written.
    char **argv = calloc (n_wrapper + n_extras + 6, sizeof *argv);
    if (!argv) {
        free (wrapper);
        return -1;
    }
    size_t argc = 0;
    for (size_t index = 0; index < n_wrapper; index++)
        argv [argc++] = words [index];
    argv [argc++] = (char *) LEDGERD_PATH;
    if (!cluster) {
        argv [argc++] = (char *) "--db";
        argv [argc++] = self->db_path;
    }
    argv [argc++] = (char *) "--bind";
    argv [argc++] = self->endpoint;
    for (size_t index = 0; index < n_extras; index++)
        argv [argc++] = (char *) extras [index];

    self->log_start = 0;
    FILE *log = fopen (self->log_path, "a");
    if (log) {
        fprintf (log, "== harness:");
        for (size_t index = 0; index < argc; index++)
            fprintf (log, " %s", argv [index]);
        fprintf (log, "\n");
        self->log_start = ftell (log);
        fclose (log);
    }

    //  A test runner may have ignored or blocked these; ignored signals and
    //  the mask survive exec, and the worker must see SIGTERM.
    sigset_t empty, defaults;
    sigemptyset (&empty);
    sigemptyset (&defaults);
    sigaddset (&defaults, SIGTERM);
    sigaddset (&defaults, SIGINT);
    sigaddset (&defaults, SIGHUP);
    sigaddset (&defaults, SIGQUIT);
    sigaddset (&defaults, SIGPIPE);

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    int rc = posix_spawn_file_actions_init (&actions);
    if (rc == 0) {
        rc = posix_spawnattr_init (&attr);
        if (rc == 0) {
            rc = posix_spawn_file_actions_addopen (&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
            if (rc == 0)
                rc = posix_spawn_file_actions_addopen (&actions, STDERR_FILENO, self->log_path,
                                                       O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (rc == 0)
                rc = posix_spawn_file_actions_adddup2 (&actions, STDERR_FILENO, STDOUT_FILENO);
            if (rc == 0)
                rc = posix_spawnattr_setflags (&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
            if (rc == 0)
                rc = posix_spawnattr_setsigmask (&attr, &empty);
            if (rc == 0)
                rc = posix_spawnattr_setsigdefault (&attr, &defaults);
            if (rc == 0)
                rc = posix_spawnp (&self->pid, argv [0], &actions, &attr, argv, environ);
            posix_spawnattr_destroy (&attr);
        }
        posix_spawn_file_actions_destroy (&actions);
    }
    free (argv);
    free (wrapper);
    if (rc) {
        fprintf (stderr, "harness: cannot start %s: %s\n", LEDGERD_PATH, strerror (rc));
        self->pid = -1;
        return -1;
    }
    self->exited = false;
    self->exit_code = -1;
    self->term_signal = 0;
    self->test_signalled = false;
    return 0;
}

/*  Ping the new child until it answers, it exits, or the start deadline
    passes. A ping that gets no answer within S_PING_INTERVAL_MS is sent again
    on a new socket, since the first may have gone to a worker not yet
    serving (Lazy Pirate). */
static s_start_rc_t
s_await_ready (harness_t *self)
{
    json_t *ping = json_pack ("{s:i, s:s, s:[{s:s}]}",
                              "v", 1, "id", "harness-ping", "ops", "op", "sys.ping");
    char *data = NULL;
    size_t size = 0;
    int rc = ping? proto_json_to_msgpack (ping, &data, &size, NULL, 0): -1;
    json_decref (ping);
    if (rc) {
        fprintf (stderr, "harness: cannot encode a ping\n");
        return S_FAILED;
    }
    int64_t deadline = zclock_mono () + S_START_DEADLINE_MS;
    s_start_rc_t result = S_FAILED;
    bool answered = false;
    while (!answered && zclock_mono () < deadline) {
        zsock_t *req = harness_connect (self->endpoint, ZMQ_REQ, S_PING_INTERVAL_MS);
        if (!req)
            break;
        bool sent = harness_send_body (req, data, size) == 0;
        int64_t resend_at = zclock_mono () + S_PING_INTERVAL_MS;
        while (true) {
            if (s_reap (self, false)) {
                zsock_destroy (&req);
                free (data);
                return S_DIED;
            }
            int64_t now = zclock_mono ();
            if (!sent || now >= resend_at || now >= deadline)
                break;
            int64_t left = (resend_at < deadline? resend_at: deadline) - now;
            rc = harness_poll_in (req, left < S_POLL_SLICE_MS? (int) left: S_POLL_SLICE_MS);
            if (rc == 0)
                continue;
            answered = true;
            json_t *reply = rc > 0? harness_recv_reply (req): NULL;
            if (harness_bool (reply, "ok") == 1 && harness_bool (reply, "results.0.pong") == 1)
                result = S_READY;
            else
            if (reply) {
                char *text = json_dumps (reply, JSON_COMPACT);
                fprintf (stderr, "harness: ledgerd answered the ping with %s\n", text? text: "?");
                free (text);
            }
            json_decref (reply);
            break;
        }
        zsock_destroy (&req);
    }
    free (data);
    if (!answered)
        fprintf (stderr, "harness: ledgerd did not answer a ping on %s within %d ms\n",
                 self->endpoint, S_START_DEADLINE_MS);
    return result;
}

/*  Start a worker in dir, retrying on a new port if it exits before it
    answers. Returns the harness, or NULL after reporting and cleaning up. */
static harness_t *
s_start (const char *dir, bool own_dir, const char *endpoint, const char **extras)
{
    harness_t *self = s_new (dir, own_dir);
    if (!self) {
        fprintf (stderr, "harness: out of memory\n");
        if (own_dir)
            harness_remove_dir (dir);
        return NULL;
    }
    s_start_rc_t result = S_FAILED;
    for (int attempt = 1; attempt <= S_START_ATTEMPTS; attempt++) {
        int port = endpoint? 0: s_free_port ();
        if (port < 0)
            break;
        if (endpoint)
            snprintf (self->endpoint, sizeof self->endpoint, "%s", endpoint);
        else
            snprintf (self->endpoint, sizeof self->endpoint, "tcp://127.0.0.1:%d", port);
        if (s_spawn (self, extras))
            break;
        result = s_await_ready (self);
        if (result != S_DIED)
            break;
        fprintf (stderr, "harness: ledgerd ");
        s_print_exit (self, stderr);
        fprintf (stderr, " before answering on %s\n", self->endpoint);
        //  Only a lost port is worth another try; the worker logs the
        //  system's message for EADDRINUSE when its bind fails.
        if (endpoint || !s_log_says (self, strerror (EADDRINUSE)))
            break;
        if (attempt < S_START_ATTEMPTS)
            fprintf (stderr, "harness: the port was taken; trying another\n");
    }
    if (result == S_READY)
        return self;

    if (!s_reap (self, false)) {
        kill (self->pid, SIGKILL);
        s_reap (self, true);
    }
    fprintf (stderr, "harness: could not start %s in %s\n", LEDGERD_PATH, dir);
    harness_dump_log (self);
    if (own_dir)
        harness_remove_dir (dir);
    s_destroy (&self);
    return NULL;
}

harness_t *
harness_start (const char *extra_arg, ...)
{
    va_list args;
    va_start (args, extra_arg);
    const char **extras = s_extras_new (extra_arg, args);
    va_end (args);
    if (!extras) {
        fprintf (stderr, "harness: out of memory\n");
        return NULL;
    }
    char dir [] = "/tmp/ledgerd-test-XXXXXX";
    harness_t *self = NULL;
    if (mkdtemp (dir))
        self = s_start (dir, true, NULL, extras);
    else
        fprintf (stderr, "harness: mkdtemp %s: %s\n", dir, strerror (errno));
    free (extras);
    return self;
}

harness_t *
harness_start_in (const char *dir, const char *extra_arg, ...)
{
    assert (dir);
    struct stat st;
    if (stat (dir, &st) || !S_ISDIR (st.st_mode)) {
        fprintf (stderr, "harness: %s is not a directory\n", dir);
        return NULL;
    }
    va_list args;
    va_start (args, extra_arg);
    const char **extras = s_extras_new (extra_arg, args);
    va_end (args);
    if (!extras) {
        fprintf (stderr, "harness: out of memory\n");
        return NULL;
    }
    harness_t *self = s_start (dir, false, NULL, extras);
    free (extras);
    return self;
}

harness_t *
harness_start_at (const char *dir, const char *endpoint, const char *extra_arg, ...)
{
    assert (dir && endpoint);
    va_list args;
    va_start (args, extra_arg);
    const char **extras = s_extras_new (extra_arg, args);
    va_end (args);
    if (!extras) {
        fprintf (stderr, "harness: out of memory\n");
        return NULL;
    }
    harness_t *self = s_start (dir, false, endpoint, extras);
    free (extras);
    return self;
}

int
harness_stop (harness_t **self_p, bool keep_dir)
{
    assert (self_p);
    harness_t *self = *self_p;
    if (!self)
        return -1;
    bool was_running = !s_reap (self, false);
    if (was_running)
        kill (self->pid, SIGTERM);
    int status = harness_wait (self, S_STOP_DEADLINE_MS);
    if (!self->exited) {
        fprintf (stderr, "harness: ledgerd (pid %d) did not exit within %d ms of SIGTERM; killing it\n",
                 (int) self->pid, S_STOP_DEADLINE_MS);
        kill (self->pid, SIGKILL);
        s_reap (self, true);
        status = -1;
    }
    else
    if (was_running && self->term_signal && !self->test_signalled) {
        fprintf (stderr, "harness: ledgerd (pid %d) ", (int) self->pid);
        s_print_exit (self, stderr);
        fprintf (stderr, " when asked to stop\n");
    }
    if (self->own_dir && !keep_dir)
        harness_remove_dir (self->dir);
    s_destroy (self_p);
    return status;
}

void
harness_signal (harness_t *self, int signum)
{
    assert (self);
    if (!s_reap (self, false)) {
        self->test_signalled = true;
        kill (self->pid, signum);
    }
}

int
harness_wait (harness_t *self, int timeout_ms)
{
    assert (self);
    int64_t deadline = zclock_mono () + timeout_ms;
    //  No portable way to wait for a child with a timeout: poll, briefly.
    while (!s_reap (self, timeout_ms < 0) && zclock_mono () < deadline)
        zclock_sleep (10);
    return s_reap (self, false)? self->exit_code: -1;
}

bool
harness_alive (harness_t *self)
{
    assert (self);
    return !s_reap (self, false);
}

const char *
harness_endpoint (harness_t *self)
{
    assert (self);
    return self->endpoint;
}

const char *
harness_db_path (harness_t *self)
{
    assert (self);
    return self->db_path;
}

const char *
harness_dir (harness_t *self)
{
    assert (self);
    return self->dir;
}

pid_t
harness_pid (harness_t *self)
{
    assert (self);
    return self->pid;
}

void
harness_dump_log (harness_t *self)
{
    assert (self);
    fprintf (stderr, "---- %s ----\n", self->log_path);
    FILE *file = fopen (self->log_path, "r");
    if (file) {
        char buffer [4096];
        size_t size;
        while ((size = fread (buffer, 1, sizeof buffer, file)) > 0)
            fwrite (buffer, 1, size, stderr);
        fclose (file);
    }
    else
        fprintf (stderr, "(cannot open: %s)\n", strerror (errno));
    fprintf (stderr, "---- end of %s ----\n", self->log_path);
}

char *
harness_free_endpoint (void)
{
    int port = s_free_port ();
    return port > 0? zsys_sprintf ("tcp://127.0.0.1:%d", port): NULL;
}

void
harness_wait_bounded (pid_t pid, int *status_p)
{
    for (int tick = 0; tick < 1000; tick++) {
        if (waitpid (pid, status_p, WNOHANG) == pid)
            return;
        usleep (10000);
    }
    fprintf (stderr, "%d still running after 10 s: killed\n", (int) pid);
    kill (pid, SIGKILL);
    waitpid (pid, status_p, 0);
    *status_p = -1;
}

int
harness_run (const char *program, char *output, size_t size, const char *const *args)
{
    char log [] = "/tmp/ledgerd-run-XXXXXX";
    int fd = mkstemp (log);
    if (fd < 0) {
        snprintf (output, size, "cannot make a temporary file: %s", strerror (errno));
        return -1;
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init (&actions);
    posix_spawn_file_actions_adddup2 (&actions, fd, 1);
    posix_spawn_file_actions_adddup2 (&actions, fd, 2);
    char *argv [32] = { (char *) program };
    int argc = 1;
    for (; args [argc - 1] && argc < 31; argc++)
        argv [argc] = (char *) args [argc - 1];
    argv [argc] = NULL;
    pid_t pid;
    int status = -1;
    if (posix_spawn (&pid, program, &actions, NULL, argv, environ) == 0)
        harness_wait_bounded (pid, &status);
    posix_spawn_file_actions_destroy (&actions);
    ssize_t got = pread (fd, output, size - 1, 0);
    output [got > 0? got: 0] = 0;
    close (fd);
    unlink (log);
    return WIFEXITED (status)? WEXITSTATUS (status): -1;
}
