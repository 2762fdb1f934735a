/*  signals -- Ctrl-C stops a run cleanly. */

#include "signals.h"

#include <signal.h>
#include <unistd.h>

static volatile sig_atomic_t s_stop;

static void
s_on_signal (int signum)
{
    if (s_stop)
        _exit (128 + signum);
    s_stop = 1;
}

int
signals_install (void)
{
    struct sigaction action = { .sa_handler = s_on_signal };
    sigemptyset (&action.sa_mask);
    if (sigaction (SIGINT, &action, NULL) || sigaction (SIGTERM, &action, NULL))
        return -1;
    struct sigaction ignore = { .sa_handler = SIG_IGN };
    sigemptyset (&ignore.sa_mask);
    return sigaction (SIGPIPE, &ignore, NULL);
}

bool
signals_stopped (void)
{
    return s_stop != 0;
}
