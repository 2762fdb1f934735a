/*  workdir -- the temporary directory a run keeps its databases in. */

#define _GNU_SOURCE             /* nftw */

#include "workdir.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _workdir_t {
    char *path;
    bool keep;
    int files;
};

workdir_t *
workdir_new (const char *base, bool keep, char *errbuf, size_t errlen)
{
    workdir_t *self = calloc (1, sizeof (workdir_t));
    size_t size = strlen (base) + 32;
    char *path = malloc (size);
    if (!self || !path) {
        snprintf (errbuf, errlen, "out of memory");
        free (self);
        free (path);
        return NULL;
    }
    snprintf (path, size, "%s/ledger-bench-XXXXXX", base);
    if (!mkdtemp (path)) {
        snprintf (errbuf, errlen, "cannot make a directory in %s: %s", base, strerror (errno));
        free (self);
        free (path);
        return NULL;
    }
    self->path = path;
    self->keep = keep;
    return self;
}

static int
s_remove (const char *path, const struct stat *info, int flag, struct FTW *walk)
{
    if (remove (path))
        fprintf (stderr, "ledger-bench: cannot remove %s: %s\n", path, strerror (errno));
    return 0;
}

void
workdir_destroy (workdir_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    workdir_t *self = *self_p;
    if (self->keep)
        fprintf (stderr, "ledger-bench: kept the databases and logs in %s\n", self->path);
    else
    if (nftw (self->path, s_remove, 16, FTW_DEPTH | FTW_PHYS))
        fprintf (stderr, "ledger-bench: cannot remove %s: %s\n", self->path, strerror (errno));
    free (self->path);
    free (self);
    *self_p = NULL;
}

const char *
workdir_path (workdir_t *self)
{
    return self->path;
}

char *
workdir_file (workdir_t *self, const char *name, const char *ext, char *buffer, size_t size)
{
    snprintf (buffer, size, "%s/%s-%d.%s", self->path, name, ++self->files, ext);
    return buffer;
}
