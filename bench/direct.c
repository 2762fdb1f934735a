/*  direct -- the --direct baseline: many processes, one SQLite file.

    The writers are forked first, before this process opens any SQLite
    connection (a connection must never cross a fork). They wait while the
    parent makes the database, open their own connections (setup, off the
    clock), say they are ready, and start together when the parent closes
    the `go` pipe -- closing a pipe wakes every reader at once. Outcomes and
    the prefilled rows live in memory shared with the children. */

#include "direct.h"
#include "signals.h"
#include "timing.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/*  One child's corner of the shared memory. */
typedef struct {
    tally_t tally;
    char error [300];
} s_slot_t;

typedef struct {
    atomic_int_least64_t start_ns;
    atomic_int_least64_t deadline_ns;
    atomic_bool abort;
    atomic_bool stop;           /* the parent was asked to stop (Ctrl-C): the children follow */
    tally_live_t live;
    size_t prefill_count;
    /* then s_slot_t [clients], then work_row_t [prefill_count] */
} s_shared_t;

static s_slot_t *
s_slots (s_shared_t *shared)
{
    return (s_slot_t *) (shared + 1);
}

static work_row_t *
s_rows (s_shared_t *shared, int clients)
{
    return (work_row_t *) (s_slots (shared) + clients);
}

/*  Block until the write end of the pipe whose read end is fd is closed
    everywhere. */
static void
s_wait_eof (int fd)
{
    char byte;
    while (true) {
        ssize_t got = read (fd, &byte, 1);
        if (got == 0 || (got < 0 && errno != EINTR))
            return;
    }
}

/*  A writer process; never returns. */
static void
s_child (int index, s_shared_t *shared, const char *path, const options_t *options, int made_fd, int ready_fd,
         int go_fd)
{
    s_slot_t *slot = &s_slots (shared) [index];
    s_wait_eof (made_fd);
    char status = 1;
    baseline_t *writer = NULL;
    if (!atomic_load (&shared->abort)) {
        writer = baseline_new (path, options, slot->error, sizeof (slot->error));
        status = writer? 0: 1;
    }
    if (write (ready_fd, &status, 1) != 1)
        status = 1;
    s_wait_eof (go_fd);
    int rc = 0;
    if (writer && status == 0 && !atomic_load (&shared->abort)) {
        uint64_t quota = 0;
        if (options->batches)
            quota = options->batches / (uint64_t) options->clients
                  + ((uint64_t) index < options->batches % (uint64_t) options->clients);
        baseline_plan_t plan = {
            .lane = index, .lanes = options->clients, .quota = quota,
            .start_ns = atomic_load (&shared->start_ns), .deadline_ns = atomic_load (&shared->deadline_ns),
            .prefill = s_rows (shared, options->clients), .prefill_count = shared->prefill_count,
            .live = &shared->live, .stop = &shared->stop
        };
        if (!options->batches || quota > 0)
            rc = baseline_run (writer, options, &plan, &slot->tally, slot->error, sizeof (slot->error));
    }
    baseline_destroy (&writer);
    _exit (rc || status? 1: 0);
}

/*  The parent's side of a --direct run. */
typedef struct {
    const char *path;
    const options_t *options;
    s_shared_t *shared;
    size_t size;                /* of the shared mapping */
    pid_t *pids;                /* [clients]; 0 once reaped */
    int forked;
    int made [2];               /* closed: the database is made */
    int ready [2];              /* a byte from each child: 0 it is set up */
    int go [2];                 /* closed: start */
    int64_t start_ns;
} s_direct_t;

/*  Fork the writers, as many as can be. Returns 0, or -1 with errbuf set
    (the ones forked then abort). */
static int
s_fork_writers (s_direct_t *self, char *errbuf, size_t errlen)
{
    fflush (NULL);
    for (; self->forked < self->options->clients; self->forked++) {
        pid_t pid = fork ();
        if (pid == 0) {
            close (self->made [1]);
            close (self->ready [0]);
            close (self->go [1]);
            s_child (self->forked, self->shared, self->path, self->options, self->made [0], self->ready [1],
                     self->go [0]);
        }
        if (pid < 0) {
            snprintf (errbuf, errlen, "cannot fork writer %d: %s", self->forked, strerror (errno));
            atomic_store (&self->shared->abort, true);
            return -1;
        }
        self->pids [self->forked] = pid;
    }
    return 0;
}

static void
s_close (int *fd)
{
    if (*fd >= 0)
        close (*fd);
    *fd = -1;
}

/*  Wait until every child has said whether it is set up (a dead one says
    so by closing its end). Returns whether all are, with errbuf set if
    not and nothing was wrong before. */
static bool
s_await_ready (s_direct_t *self, char *errbuf, size_t errlen)
{
    s_shared_t *shared = self->shared;
    int answered = 0;
    char status;
    bool setup_ok = !atomic_load (&shared->abort);
    while (answered < self->forked) {
        ssize_t got = read (self->ready [0], &status, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got != 1)
            break;
        answered++;
        setup_ok &= status == 0;
    }
    if (answered < self->forked)
        setup_ok = false;
    if (!setup_ok && !atomic_load (&shared->abort)) {
        snprintf (errbuf, errlen, "a direct writer could not start");
        for (int n = 0; n < self->forked; n++)
            if (s_slots (shared) [n].error [0]) {
                snprintf (errbuf, errlen, "direct writer %d: %s", n, s_slots (shared) [n].error);
                break;
            }
        atomic_store (&shared->abort, true);
    }
    return setup_ok;
}

/*  Start the clock and every writer with it. */
static void
s_start (s_direct_t *self)
{
    self->start_ns = timing_now_ns ();
    atomic_store (&self->shared->start_ns, self->start_ns);
    atomic_store (&self->shared->deadline_ns, self->options->batches? 0
                  : self->start_ns + (int64_t) (self->options->duration_s * 1e9));
    s_close (&self->go [1]);
}

/*  Reap writer n if it has ended. Returns whether it had; *failed_p says
    whether it failed, and errbuf why when report is set. */
static bool
s_reap (s_direct_t *self, int n, bool report, bool *failed_p, char *errbuf, size_t errlen)
{
    int wstatus;
    pid_t got = waitpid (self->pids [n], &wstatus, WNOHANG);
    if (got != self->pids [n] && !(got < 0 && errno != EINTR))
        return false;
    *failed_p = got < 0 || !WIFEXITED (wstatus) || WEXITSTATUS (wstatus);
    if (*failed_p && report) {
        const char *error = s_slots (self->shared) [n].error;
        bool signalled = got > 0 && WIFSIGNALED (wstatus);
        snprintf (errbuf, errlen, "direct writer %d %s%s%s", n, signalled? "died by signal ": "failed",
                  signalled? strsignal (WTERMSIG (wstatus)): "", error);
    }
    self->pids [n] = 0;
    return true;
}

/*  Wait for the writers, drawing progress meanwhile. Returns whether one
    failed (errbuf then says which, if the set-up did not fail first). */
static bool
s_await_writers (s_direct_t *self, bool setup_ok, tally_live_t *live, baseline_tick_fn *tick, void *tick_arg,
                 char *errbuf, size_t errlen)
{
    s_shared_t *shared = self->shared;
    int running = self->forked;
    bool crashed = false;
    while (running > 0) {
        for (int n = 0; n < self->forked; n++) {
            bool failed = false;
            if (self->pids [n] && s_reap (self, n, !crashed && setup_ok, &failed, errbuf, errlen)) {
                crashed |= failed;
                running--;
            }
        }
        if (running > 0) {
            if (signals_stopped ())
                atomic_store (&shared->stop, true);
            if (live) {
                atomic_store (&live->done, atomic_load (&shared->live.done));
                atomic_store (&live->failed, atomic_load (&shared->live.failed));
            }
            if (tick && setup_ok)
                tick (tick_arg, self->start_ns);
            timing_sleep_until_ns (timing_now_ns () + 50 * TIMING_NS_PER_MS);
        }
    }
    return crashed;
}

int
direct_run (const char *path, const options_t *options, size_t prefill_count, tally_t *tally,
            tally_live_t *live, baseline_tick_fn *tick, void *tick_arg, char *errbuf, size_t errlen)
{
    int clients = options->clients;
    s_direct_t self = {
        .path = path, .options = options,
        .size = sizeof (s_shared_t) + (size_t) clients * sizeof (s_slot_t) + prefill_count * sizeof (work_row_t),
        .made = { -1, -1 }, .ready = { -1, -1 }, .go = { -1, -1 }
    };
    self.shared = mmap (NULL, self.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (self.shared == MAP_FAILED) {
        snprintf (errbuf, errlen, "cannot map %zu bytes of shared memory: %s", self.size, strerror (errno));
        return -1;
    }
    self.shared->prefill_count = prefill_count;
    self.pids = calloc ((size_t) clients, sizeof (pid_t));
    int rc = -1;
    if (!self.pids || pipe (self.made) || pipe (self.ready) || pipe (self.go))
        snprintf (errbuf, errlen, "cannot make pipes: %s", strerror (errno));
    else {
        bool forked_all = s_fork_writers (&self, errbuf, errlen) == 0;
        s_close (&self.ready [1]);
        if (forked_all
        &&  baseline_create (path, options, s_rows (self.shared, clients), prefill_count, errbuf, errlen))
            atomic_store (&self.shared->abort, true);
        s_close (&self.made [1]);
        bool setup_ok = s_await_ready (&self, errbuf, errlen);
        s_start (&self);
        bool crashed = s_await_writers (&self, setup_ok, live, tick, tick_arg, errbuf, errlen);
        for (int n = 0; n < self.forked; n++)
            tally_merge (tally, &s_slots (self.shared) [n].tally);
        rc = setup_ok && !crashed && forked_all? 0: -1;
    }
    for (int n = 0; n < 2; n++) {
        s_close (&self.made [n]);
        s_close (&self.ready [n]);
        s_close (&self.go [n]);
    }
    free (self.pids);
    munmap (self.shared, self.size);
    return rc;
}
