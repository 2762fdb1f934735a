/*  script -- JSON-lines batches to replay, as `ledgerctl submit` reads them. */

#include "script.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _script_t {
    char **lines;
    size_t count;
    size_t alloc;
};

static bool
s_blank (const char *line)
{
    for (; *line; line++)
        if (!strchr (" \t\r\n", *line))
            return false;
    return true;
}

static int
s_append (script_t *self, const char *line)
{
    if (self->count == self->alloc) {
        size_t alloc = self->alloc? self->alloc * 2: 64;
        char **lines = realloc (self->lines, alloc * sizeof (char *));
        if (!lines)
            return -1;
        self->lines = lines;
        self->alloc = alloc;
    }
    if (!(self->lines [self->count] = strdup (line)))
        return -1;
    self->count++;
    return 0;
}

script_t *
script_new (const char *path, char *errbuf, size_t errlen)
{
    bool from_stdin = strcmp (path, "-") == 0;
    FILE *input = from_stdin? stdin: fopen (path, "r");
    if (!input) {
        snprintf (errbuf, errlen, "--script: cannot open %s: %s", path, strerror (errno));
        return NULL;
    }
    script_t *self = calloc (1, sizeof (script_t));
    char *line = NULL;
    size_t alloc = 0;
    size_t line_no = 0;
    bool failed = !self;
    if (failed)
        snprintf (errbuf, errlen, "out of memory");
    while (!failed && getline (&line, &alloc, input) >= 0) {
        line_no++;
        if (s_blank (line))
            continue;
        char reason [300];
        ledger_batch_t *batch = ledger_batch_from_json (line, reason, sizeof (reason));
        if (!batch) {
            snprintf (errbuf, errlen, "--script: %s line %zu: %s", path, line_no, reason);
            failed = true;
        }
        else
        if (s_append (self, line)) {
            snprintf (errbuf, errlen, "out of memory");
            failed = true;
        }
        ledger_batch_destroy (&batch);
    }
    if (!failed && ferror (input)) {
        snprintf (errbuf, errlen, "--script: cannot read %s: %s", path, strerror (errno));
        failed = true;
    }
    if (!failed && self->count == 0) {
        snprintf (errbuf, errlen, "--script: %s has no batches", path);
        failed = true;
    }
    free (line);
    if (!from_stdin)
        fclose (input);
    if (failed)
        script_destroy (&self);
    return self;
}

void
script_destroy (script_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    script_t *self = *self_p;
    for (size_t n = 0; n < self->count; n++)
        free (self->lines [n]);
    free (self->lines);
    free (self);
    *self_p = NULL;
}

size_t
script_size (script_t *self)
{
    return self->count;
}

ledger_batch_t *
script_batch (script_t *self, size_t index, char *errbuf, size_t errlen)
{
    return ledger_batch_from_json (self->lines [index % self->count], errbuf, errlen);
}
