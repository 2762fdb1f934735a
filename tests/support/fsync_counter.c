/*  fsync_counter -- an LD_PRELOAD library that counts a process's fsyncs.

    Every fsync and fdatasync call appends one byte to the file named by
    LEDGER_FSYNC_COUNT_FILE (if set), then does the real call: the file's
    size is the count. For integration tests that must see what a --sync
    setting does to the real ledgerd: SQLite's synchronous level shows
    nowhere but in the syncs it asks of the kernel. */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static void
s_count (void)
{
    static int fd = -2;
    if (fd == -2) {
        const char *path = getenv ("LEDGER_FSYNC_COUNT_FILE");
        fd = path? open (path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644): -1;
    }
    if (fd >= 0 && write (fd, "s", 1) != 1)
        abort ();               /* a count that lies is worse than none */
}

int
fsync (int fd)
{
    static int (*real) (int);
    if (!real)
        real = (int (*) (int)) dlsym (RTLD_NEXT, "fsync");
    s_count ();
    return real (fd);
}

int
fdatasync (int fd)
{
    static int (*real) (int);
    if (!real)
        real = (int (*) (int)) dlsym (RTLD_NEXT, "fdatasync");
    s_count ();
    return real (fd);
}
