/*  spawn -- a ledgerd of our own, on a database of our own. */

#define _GNU_SOURCE             /* strsignal */

#include "spawn.h"
#include "ledger.h"
#include "timing.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_READY_DEADLINE_MS 15000
#define S_PING_TIMEOUT_MS   250
#define S_STOP_DEADLINE_MS  30000
/*  Another process can take the free port between our probe and the
    worker's bind; the worker then exits saying so, and we try another. */
#define S_START_ATTEMPTS    3

struct _spawn_t {
    pid_t pid;
    bool exited;
    int status;                 /* waitpid's, once exited */
    char endpoint [64];
    char *log_path;
    char command [1024];
};

/*  Write the path of the ledgerd beside this executable into buffer.
    Returns 0, or -1 with errbuf set if there is none. */
static int
s_ledgerd_path (char *buffer, size_t size, char *errbuf, size_t errlen)
{
    char self_path [4096];
    ssize_t len = readlink ("/proc/self/exe", self_path, sizeof (self_path) - 1);
    if (len < 0) {
        snprintf (errbuf, errlen, "cannot read /proc/self/exe: %s", strerror (errno));
        return -1;
    }
    self_path [len] = 0;
    snprintf (buffer, size, "%s/ledgerd", dirname (self_path));
    if (access (buffer, X_OK)) {
        snprintf (errbuf, errlen, "no ledgerd beside ledger-bench (%s): %s", buffer, strerror (errno));
        return -1;
    }
    return 0;
}

int
spawn_free_port (char *errbuf, size_t errlen)
{
    int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        snprintf (errbuf, errlen, "socket: %s", strerror (errno));
        return -1;
    }
    struct sockaddr_in addr = { .sin_family = AF_INET };
    addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    socklen_t addr_len = sizeof (addr);
    int port = -1;
    if (bind (fd, (struct sockaddr *) &addr, sizeof (addr)) == 0
    &&  getsockname (fd, (struct sockaddr *) &addr, &addr_len) == 0)
        port = ntohs (addr.sin_port);
    else
        snprintf (errbuf, errlen, "cannot find a free port: %s", strerror (errno));
    close (fd);
    return port;
}

/*  Collect the child's status if it has exited; with block, wait for it. */
static bool
s_reap (spawn_t *self, bool block)
{
    while (!self->exited) {
        pid_t rc = waitpid (self->pid, &self->status, block? 0: WNOHANG);
        if (rc == self->pid)
            self->exited = true;
        else
        if (rc == 0)
            break;
        else
        if (errno != EINTR) {
            self->exited = true;        /* someone else reaped it: its status is lost */
            self->status = -1;
        }
    }
    return self->exited;
}

/*  Print the end of the worker's log to stderr; return whether it says text. */
static bool
s_log_tail (spawn_t *self, const char *text, bool print)
{
    FILE *file = fopen (self->log_path, "r");
    if (!file)
        return false;
    char buffer [4096];
    long size = fseek (file, 0, SEEK_END) == 0? ftell (file): 0;
    if (size > (long) sizeof (buffer) - 1)
        fseek (file, size - (long) sizeof (buffer) + 1, SEEK_SET);
    else
        fseek (file, 0, SEEK_SET);
    size_t got = fread (buffer, 1, sizeof (buffer) - 1, file);
    fclose (file);
    buffer [got] = 0;
    if (print)
        fprintf (stderr, "ledger-bench: the worker's log (%s) ends:\n%s", self->log_path, buffer);
    return text && strstr (buffer, text) != NULL;
}

/*  Fork and exec the worker with argv. In the child only async-signal-safe
    calls run between fork and exec. Returns 0, or -1 with errbuf set. */
static int
s_start (spawn_t *self, char *const argv [], char *errbuf, size_t errlen)
{
    int log_fd = open (self->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int null_fd = open ("/dev/null", O_RDONLY | O_CLOEXEC);
    if (log_fd < 0 || null_fd < 0) {
        snprintf (errbuf, errlen, "cannot open %s: %s", log_fd < 0? self->log_path: "/dev/null", strerror (errno));
        if (log_fd >= 0)
            close (log_fd);
        if (null_fd >= 0)
            close (null_fd);
        return -1;
    }
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid == 0) {
        /*  The worker must see SIGTERM and SIGINT, whatever we did with them. */
        struct sigaction standard = { .sa_handler = SIG_DFL };
        sigemptyset (&standard.sa_mask);
        sigaction (SIGTERM, &standard, NULL);
        sigaction (SIGINT, &standard, NULL);
        sigaction (SIGPIPE, &standard, NULL);
        sigset_t none;
        sigemptyset (&none);
        sigprocmask (SIG_SETMASK, &none, NULL);
        if (prctl (PR_SET_PDEATHSIG, SIGTERM) || getppid () != parent)
            _exit (127);
        if (dup2 (null_fd, STDIN_FILENO) < 0 || dup2 (log_fd, STDOUT_FILENO) < 0 || dup2 (log_fd, STDERR_FILENO) < 0)
            _exit (127);
        execv (argv [0], argv);
        _exit (127);
    }
    int fork_errno = errno;
    close (log_fd);
    close (null_fd);
    if (pid < 0) {
        snprintf (errbuf, errlen, "cannot fork: %s", strerror (fork_errno));
        return -1;
    }
    self->pid = pid;
    self->exited = false;
    return 0;
}

/*  Ping until the worker answers ok. Returns 0 when it has, 1 when it
    exited first, -1 (errbuf set) on anything else. */
static int
s_await_ready (spawn_t *self, char *errbuf, size_t errlen)
{
    ledger_client_t *client = ledger_client_new (self->endpoint);
    ledger_batch_t *ping = ledger_batch_new ();
    if (!client || !ping || ledger_batch_ping (ping) < 0) {
        snprintf (errbuf, errlen, "cannot make a client for %s", self->endpoint);
        ledger_batch_destroy (&ping);
        ledger_client_destroy (&client);
        return -1;
    }
    ledger_client_set_timeout (client, S_PING_TIMEOUT_MS);
    ledger_client_set_retries (client, 0);
    int64_t deadline = timing_now_ns () + S_READY_DEADLINE_MS * TIMING_NS_PER_MS;
    int rc = -1;
    bool answered = false;
    while (timing_now_ns () < deadline) {
        if (s_reap (self, false)) {
            rc = 1;
            break;
        }
        ledger_result_t *result = ledger_client_submit (client, ping);
        ledger_status_t status = result? ledger_result_status (result): LEDGER_UNKNOWN;
        if (status == LEDGER_FAILED)
            snprintf (errbuf, errlen, "the worker answered a ping with %s", ledger_result_describe (result));
        ledger_result_destroy (&result);
        answered = status != LEDGER_UNKNOWN;
        if (status == LEDGER_OK)
            rc = 0;
        if (answered)
            break;
    }
    if (!answered && rc == -1)
        snprintf (errbuf, errlen, "the worker did not answer a ping within %d ms", S_READY_DEADLINE_MS);
    ledger_batch_destroy (&ping);
    ledger_client_destroy (&client);
    return rc;
}

static void
s_destroy (spawn_t **self_p)
{
    if (*self_p) {
        free ((*self_p)->log_path);
        free (*self_p);
        *self_p = NULL;
    }
}

/*  Kill a worker that is not ready, and collect it. */
static void
s_kill (spawn_t *self)
{
    if (!s_reap (self, false)) {
        kill (self->pid, SIGKILL);
        s_reap (self, true);
    }
}

spawn_t *
spawn_start (const char *endpoint, char **args, int argc_args, const char *log_path, char *errbuf, size_t errlen)
{
    char ledgerd [4096];
    if (s_ledgerd_path (ledgerd, sizeof (ledgerd), errbuf, errlen))
        return NULL;
    spawn_t *self = calloc (1, sizeof (spawn_t));
    char **argv = calloc ((size_t) argc_args + 4, sizeof (char *));
    if (!self || !argv || !(self->log_path = strdup (log_path))) {
        snprintf (errbuf, errlen, "out of memory");
        free (argv);
        s_destroy (&self);
        return NULL;
    }
    for (int attempt = 1; attempt <= S_START_ATTEMPTS; attempt++) {
        if (endpoint)
            snprintf (self->endpoint, sizeof (self->endpoint), "%s", endpoint);
        else {
            int port = spawn_free_port (errbuf, errlen);
            if (port < 0)
                break;
            snprintf (self->endpoint, sizeof (self->endpoint), "tcp://127.0.0.1:%d", port);
        }
        int argc = 0;
        argv [argc++] = ledgerd;
        argv [argc++] = (char *) "--bind";
        argv [argc++] = self->endpoint;
        for (int n = 0; n < argc_args; n++)
            argv [argc++] = args [n];
        argv [argc] = NULL;
        size_t used = 0;
        for (int n = 0; n < argc && used < sizeof (self->command); n++) {
            int written = snprintf (self->command + used, sizeof (self->command) - used, "%s%s", n? " ": "", argv [n]);
            used += written > 0? (size_t) written: 0;
        }
        if (s_start (self, argv, errbuf, errlen))
            break;
        int ready = s_await_ready (self, errbuf, errlen);
        if (ready == 0) {
            free (argv);
            return self;
        }
        if (ready == 1) {
            bool port_taken = s_log_tail (self, "Address already in use", false);
            if (port_taken && !endpoint && attempt < S_START_ATTEMPTS)
                continue;
            if (WIFEXITED (self->status))
                snprintf (errbuf, errlen, "the worker exited with status %d at start-up", WEXITSTATUS (self->status));
            else
                snprintf (errbuf, errlen, "the worker died at start-up (%s)",
                          WIFSIGNALED (self->status)? strsignal (WTERMSIG (self->status)): "?");
        }
        s_kill (self);
        s_log_tail (self, NULL, true);
        break;
    }
    free (argv);
    s_destroy (&self);
    return NULL;
}

spawn_t *
spawn_new (const char *db_path, const char *log_path, bool sync_full, char **worker_args,
           int worker_argc, char *errbuf, size_t errlen)
{
    char **args = calloc ((size_t) worker_argc + 4, sizeof (char *));
    if (!args) {
        snprintf (errbuf, errlen, "out of memory");
        return NULL;
    }
    int argc = 0;
    args [argc++] = (char *) "--db";
    args [argc++] = (char *) db_path;
    args [argc++] = (char *) "--sync";
    args [argc++] = (char *) (sync_full? "full": "normal");
    for (int n = 0; n < worker_argc; n++)
        args [argc++] = worker_args [n];
    spawn_t *self = spawn_start (NULL, args, argc, log_path, errbuf, errlen);
    free (args);
    return self;
}

void
spawn_kill (spawn_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_kill (*self_p);
    s_destroy (self_p);
}

const char *
spawn_endpoint (spawn_t *self)
{
    return self->endpoint;
}

pid_t
spawn_pid (spawn_t *self)
{
    return self->pid;
}

const char *
spawn_command (spawn_t *self)
{
    return self->command;
}

/*  Read a small /proc file into buffer. Returns its length, or -1. */
static ssize_t
s_read_proc (pid_t pid, const char *name, char *buffer, size_t size)
{
    char path [64];
    snprintf (path, sizeof (path), "/proc/%d/%s", (int) pid, name);
    int fd = open (path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    size_t got = 0;
    while (got < size - 1) {
        ssize_t rc = read (fd, buffer + got, size - 1 - got);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            break;
        got += (size_t) rc;
    }
    close (fd);
    buffer [got] = 0;
    return (ssize_t) got;
}

/*  The "<name>:   <n> kB" line of /proc/<pid>/status, in bytes, or -1. */
static int64_t
s_status_kb (const char *status, const char *name)
{
    const char *line = strstr (status, name);
    long long kb;
    if (!line || sscanf (line + strlen (name), " %lld kB", &kb) != 1)
        return -1;
    return (int64_t) kb * 1024;
}

int
spawn_usage (spawn_t *self, spawn_usage_t *usage)
{
    memset (usage, 0, sizeof (*usage));
    char buffer [4096];
    if (s_reap (self, false) || s_read_proc (self->pid, "stat", buffer, sizeof (buffer)) <= 0)
        return -1;
    /*  Fields after the command (which may hold spaces, hence the last ')'):
        state is field 3, utime 14, stime 15. */
    const char *after = strrchr (buffer, ')');
    unsigned long long utime, stime;
    if (!after || sscanf (after + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    long ticks = sysconf (_SC_CLK_TCK);
    usage->user_s = (double) utime / (double) (ticks > 0? ticks: 100);
    usage->system_s = (double) stime / (double) (ticks > 0? ticks: 100);
    if (s_read_proc (self->pid, "status", buffer, sizeof (buffer)) <= 0)
        return -1;
    usage->rss_bytes = s_status_kb (buffer, "VmRSS:");
    usage->peak_rss_bytes = s_status_kb (buffer, "VmHWM:");
    return usage->peak_rss_bytes < 0 || usage->rss_bytes < 0? -1: 0;
}

int
spawn_stop (spawn_t **self_p, char *errbuf, size_t errlen)
{
    if (!self_p || !*self_p)
        return -1;
    spawn_t *self = *self_p;
    int rc = -1;
    if (!s_reap (self, false))
        kill (self->pid, SIGTERM);
    int64_t deadline = timing_now_ns () + S_STOP_DEADLINE_MS * TIMING_NS_PER_MS;
    while (!s_reap (self, false) && timing_now_ns () < deadline)
        timing_sleep_until_ns (timing_now_ns () + 10 * TIMING_NS_PER_MS);
    if (!self->exited) {
        snprintf (errbuf, errlen, "the worker did not exit within %d ms of SIGTERM: killed", S_STOP_DEADLINE_MS);
        kill (self->pid, SIGKILL);
        s_reap (self, true);
    }
    else
    if (self->status != -1 && WIFEXITED (self->status)) {
        rc = WEXITSTATUS (self->status);
        if (rc)
            snprintf (errbuf, errlen, "the worker exited with status %d", rc);
    }
    else
        snprintf (errbuf, errlen, "the worker died by signal %s",
                  self->status != -1 && WIFSIGNALED (self->status)? strsignal (WTERMSIG (self->status)): "?");
    if (rc)
        s_log_tail (self, NULL, true);
    s_destroy (self_p);
    return rc;
}
