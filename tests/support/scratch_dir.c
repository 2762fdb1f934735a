/*  scratch_dir -- a fresh directory under /tmp for one test's files. */

#define _XOPEN_SOURCE 700
#include "scratch_dir.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
scratch_dir_make (char *dir, size_t size, const char *name)
{
    int length = snprintf (dir, size, "/tmp/%s-XXXXXX", name);
    if (length < 0 || (size_t) length >= size || !mkdtemp (dir)) {
        fprintf (stderr, "scratch_dir: cannot make /tmp/%s-XXXXXX: %s\n", name,
                 length < 0 || (size_t) length >= size? "name too long": strerror (errno));
        return -1;
    }
    return 0;
}

static int
s_remove_entry (const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void) st;
    (void) type;
    (void) ftw;
    if (remove (path)) {
        fprintf (stderr, "scratch_dir: cannot remove %s: %s\n", path, strerror (errno));
        return -1;
    }
    return 0;
}

int
scratch_dir_remove (const char *dir)
{
    if (!dir || !*dir)
        return -1;
    /*  Depth first, so a directory is empty when its turn comes. */
    return nftw (dir, s_remove_entry, 16, FTW_DEPTH | FTW_PHYS)? -1: 0;
}
