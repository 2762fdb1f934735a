/*  timing -- the one clock every figure is measured with. */

#include "timing.h"

#include <errno.h>
#include <sys/resource.h>
#include <time.h>

int64_t
timing_now_ns (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * TIMING_NS_PER_S + now.tv_nsec;
}

void
timing_sleep_until_ns (int64_t when_ns)
{
    struct timespec when = { .tv_sec = when_ns / TIMING_NS_PER_S, .tv_nsec = when_ns % TIMING_NS_PER_S };
    while (clock_nanosleep (CLOCK_MONOTONIC, TIMER_ABSTIME, &when, NULL) == EINTR)
        ;
}

double
timing_cpu_s (void)
{
    struct rusage usage;
    if (getrusage (RUSAGE_SELF, &usage))
        return 0;
    return (double) (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
         + (double) (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

int64_t
timing_wall_us (void)
{
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    return (int64_t) now.tv_sec * 1000000 + now.tv_nsec / 1000;
}
