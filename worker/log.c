/*  log -- one line per event on stderr: timestamp, level, message. */

#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int s_level = LOG_LEVEL_INFO;
static const char *s_names [] = { "error", "warn", "info", "debug" };

void
log_set_level (log_level_t level)
{
    atomic_store (&s_level, (int) level);
}

int
log_level_parse (const char *name, log_level_t *level_p)
{
    for (int level = LOG_LEVEL_ERROR; level <= LOG_LEVEL_DEBUG; level++)
        if (strcmp (name, s_names [level]) == 0) {
            *level_p = (log_level_t) level;
            return 0;
        }
    return -1;
}

void
log_msg (log_level_t level, const char *format, ...)
{
    if ((int) level > atomic_load (&s_level))
        return;
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r (&now.tv_sec, &tm);
    char line [1024];
    size_t size = strftime (line, sizeof (line), "%Y-%m-%dT%H:%M:%S", &tm);
    size += (size_t) snprintf (line + size, sizeof (line) - size, ".%03ldZ %-5s ",
                               now.tv_nsec / 1000000, s_names [level]);
    va_list args;
    va_start (args, format);
    int n = vsnprintf (line + size, sizeof (line) - size - 1, format, args);
    va_end (args);
    size = n < 0? size: size + (size_t) n;
    if (size > sizeof (line) - 2)
        size = sizeof (line) - 2;
    line [size++] = '\n';
    /*  One write(2) per line keeps lines whole when threads log at once. */
    ssize_t written = write (STDERR_FILENO, line, size);
    (void) written;
}
