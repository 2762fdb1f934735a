/*  direct -- the --direct baseline: many processes, one SQLite file.

    The writers are forked first, before this process opens any SQLite
    connection (a connection must never cross a fork). They wait while the
    parent makes the database, open their own connections (setup, off the
    clock), say they are ready, and start together when the parent closes
    the `go` pipe -- closing a pipe wakes every reader at once. Outcomes and
    the prefilled rows live in memory shared with the children. */

#include "baseline.h"
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

int
baseline_direct (const char *path, const options_t *options, size_t prefill_count, tally_t *tally,
                 tally_live_t *live, baseline_tick_fn *tick, void *tick_arg, char *errbuf, size_t errlen)
{
    int clients = options->clients;
    size_t size = sizeof (s_shared_t) + (size_t) clients * sizeof (s_slot_t) + prefill_count * sizeof (work_row_t);
    s_shared_t *shared = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        snprintf (errbuf, errlen, "cannot map %zu bytes of shared memory: %s", size, strerror (errno));
        return -1;
    }
    shared->prefill_count = prefill_count;
    int made [2] = { -1, -1 }, ready [2] = { -1, -1 }, go [2] = { -1, -1 };
    pid_t *pids = calloc ((size_t) clients, sizeof (pid_t));
    int rc = -1;
    int forked = 0;
    if (!pids || pipe (made) || pipe (ready) || pipe (go)) {
        snprintf (errbuf, errlen, "cannot make pipes: %s", strerror (errno));
        goto done;
    }
    fflush (NULL);
    for (; forked < clients; forked++) {
        pid_t pid = fork ();
        if (pid == 0) {
            close (made [1]);
            close (ready [0]);
            close (go [1]);
            s_child (forked, shared, path, options, made [0], ready [1], go [0]);
        }
        if (pid < 0) {
            snprintf (errbuf, errlen, "cannot fork writer %d: %s", forked, strerror (errno));
            atomic_store (&shared->abort, true);
            break;
        }
        pids [forked] = pid;
    }
    close (ready [1]);
    ready [1] = -1;
    if (forked == clients
    &&  baseline_create (path, options, s_rows (shared, clients), prefill_count, errbuf, errlen))
        atomic_store (&shared->abort, true);
    close (made [1]);
    made [1] = -1;
    /*  Every child answers once (a dead one by closing its end). */
    int answered = 0;
    char status;
    bool setup_ok = !atomic_load (&shared->abort);
    while (answered < forked) {
        ssize_t got = read (ready [0], &status, 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got != 1)
            break;
        answered++;
        setup_ok &= status == 0;
    }
    if (answered < forked)
        setup_ok = false;
    if (!setup_ok && !atomic_load (&shared->abort)) {
        snprintf (errbuf, errlen, "a direct writer could not start");
        for (int n = 0; n < forked; n++)
            if (s_slots (shared) [n].error [0]) {
                snprintf (errbuf, errlen, "direct writer %d: %s", n, s_slots (shared) [n].error);
                break;
            }
        atomic_store (&shared->abort, true);
    }
    int64_t start_ns = timing_now_ns ();
    atomic_store (&shared->start_ns, start_ns);
    atomic_store (&shared->deadline_ns, options->batches? 0: start_ns + (int64_t) (options->duration_s * 1e9));
    close (go [1]);
    go [1] = -1;

    /*  Wait for the writers, drawing progress meanwhile. */
    int running = forked;
    bool crashed = false;
    while (running > 0) {
        for (int n = 0; n < forked; n++) {
            if (!pids [n])
                continue;
            int wstatus;
            pid_t got = waitpid (pids [n], &wstatus, WNOHANG);
            if (got == pids [n] || (got < 0 && errno != EINTR)) {
                if (got < 0 || !WIFEXITED (wstatus) || WEXITSTATUS (wstatus)) {
                    if (!crashed && setup_ok)
                        snprintf (errbuf, errlen, "direct writer %d %s%s%s", n,
                                  got > 0 && WIFSIGNALED (wstatus)? "died by signal ": "failed",
                                  got > 0 && WIFSIGNALED (wstatus)? strsignal (WTERMSIG (wstatus)): "",
                                  s_slots (shared) [n].error [0]? s_slots (shared) [n].error: "");
                    crashed = true;
                }
                pids [n] = 0;
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
                tick (tick_arg, start_ns);
            timing_sleep_until_ns (timing_now_ns () + 50 * TIMING_NS_PER_MS);
        }
    }
    for (int n = 0; n < forked; n++)
        tally_merge (tally, &s_slots (shared) [n].tally);
    rc = setup_ok && !crashed && forked == clients? 0: -1;
done:;
    int fds [] = { made [0], made [1], ready [0], ready [1], go [0], go [1] };
    for (size_t n = 0; n < sizeof (fds) / sizeof (fds [0]); n++)
        if (fds [n] >= 0)
            close (fds [n]);
    free (pids);
    munmap (shared, size);
    return rc;
}
