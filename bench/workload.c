/*  workload -- what a batch contains, the same for the worker and the
    baselines. */

#include "workload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  2025-01-01T00:00:00Z: creates count up from here, the prefill from a
    year before. */
#define S_BASE_US         1735689600000000LL
#define S_PREFILL_BASE_US (S_BASE_US - 365LL * 86400 * 1000000)
#define S_STEP_US         1000LL

/*  Rows a client remembers as targets; past this, a new row replaces a
    random one, so memory stays bounded over a long run. */
#define S_OWN_ROWS_MAX 65536

static const char *s_kind_names [WORK_KIND_COUNT] = { "create", "update", "get", "query" };

struct _workload_t {
    work_mix_t mix;
    int lane;
    int lanes;
    uint64_t rng;               /* xorshift64* state */
    int64_t next_seq;
    const work_row_t *prefill;
    size_t prefill_count;
    work_row_t *own;            /* rows this client created */
    size_t own_count;
};

int
workload_mix_parse (const char *text, work_mix_t *mix, char *errbuf, size_t errlen)
{
    memset (mix, 0, sizeof (*mix));
    const char *cursor = text;
    while (*cursor) {
        size_t len = strcspn (cursor, ",");
        const char *colon = memchr (cursor, ':', len);
        size_t name_len = colon? (size_t) (colon - cursor): len;
        int kind = 0;
        while (kind < WORK_KIND_COUNT
           && (strlen (s_kind_names [kind]) != name_len || strncmp (cursor, s_kind_names [kind], name_len) != 0))
            kind++;
        if (kind == WORK_KIND_COUNT) {
            snprintf (errbuf, errlen, "--mix: unknown op kind '%.*s' (create, update, get, query)",
                      (int) name_len, cursor);
            return -1;
        }
        long weight = 1;
        if (colon) {
            char *end;
            errno = 0;
            weight = strtol (colon + 1, &end, 10);
            if (errno || end != cursor + len || end == colon + 1 || weight < 0 || weight > 1000000) {
                snprintf (errbuf, errlen, "--mix: bad weight in '%.*s' (a whole number, 0..1000000)",
                          (int) len, cursor);
                return -1;
            }
        }
        mix->weight [kind] += (int) weight;
        mix->total += (int) weight;
        cursor += len + (cursor [len] == ',');
    }
    if (mix->total <= 0) {
        snprintf (errbuf, errlen, "--mix: no op kind has a weight");
        return -1;
    }
    return 0;
}

void
workload_mix_format (const work_mix_t *mix, char *buffer, size_t size)
{
    size_t used = 0;
    buffer [0] = 0;
    for (int kind = 0; kind < WORK_KIND_COUNT; kind++)
        if (mix->weight [kind] && used < size) {
            int written = snprintf (buffer + used, size - used, "%s%s:%d", used? ",": "",
                                    s_kind_names [kind], mix->weight [kind]);
            if (written > 0)
                used += (size_t) written;
        }
}

bool
workload_mix_needs_rows (const work_mix_t *mix)
{
    return mix->weight [WORK_UPDATE] || mix->weight [WORK_GET] || mix->weight [WORK_QUERY];
}

int64_t
workload_occurred_us (int lane, int lanes, int64_t seq)
{
    if (lane < 0)
        return S_PREFILL_BASE_US + seq * S_STEP_US;
    return S_BASE_US + (seq * lanes + lane) * S_STEP_US;
}

/*  xorshift64*: fast, and the same stream for the same seed and lane. */
static uint64_t
s_random (workload_t *self)
{
    self->rng ^= self->rng >> 12;
    self->rng ^= self->rng << 25;
    self->rng ^= self->rng >> 27;
    return self->rng * 0x2545F4914F6CDD1DULL;
}

workload_t *
workload_new (const work_mix_t *mix, int lane, int lanes, uint64_t seed,
              const work_row_t *prefill, size_t prefill_count)
{
    workload_t *self = calloc (1, sizeof (workload_t));
    if (!self)
        return NULL;
    self->mix = *mix;
    self->lane = lane;
    self->lanes = lanes > 0? lanes: 1;
    /*  splitmix64 of seed and lane: a non-zero, well-mixed start per lane. */
    uint64_t z = seed + 0x9E3779B97F4A7C15ULL * (uint64_t) (lane + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    self->rng = (z ^ (z >> 31)) | 1;
    self->prefill = prefill;
    self->prefill_count = prefill? prefill_count: 0;
    if (workload_mix_needs_rows (mix)) {
        self->own = malloc (S_OWN_ROWS_MAX * sizeof (work_row_t));
        if (!self->own) {
            free (self);
            return NULL;
        }
    }
    return self;
}

void
workload_destroy (workload_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free ((*self_p)->own);
    free (*self_p);
    *self_p = NULL;
}

/*  A row created before now: half the time one of the client's own (when
    it has some), else one of the prefill. Returns false if there is none. */
static bool
s_pick_row (workload_t *self, work_row_t *row)
{
    size_t total = self->prefill_count + self->own_count;
    if (total == 0)
        return false;
    bool own = self->own_count && (self->prefill_count == 0 || (s_random (self) & 1));
    if (own)
        *row = self->own [s_random (self) % self->own_count];
    else
        *row = self->prefill [s_random (self) % self->prefill_count];
    return true;
}

void
workload_next (workload_t *self, work_op_t *ops, size_t count)
{
    for (size_t n = 0; n < count; n++) {
        work_op_t *op = &ops [n];
        memset (op, 0, sizeof (*op));
        uint64_t draw = s_random (self) % (uint64_t) self->mix.total;
        int kind = 0;
        while (draw >= (uint64_t) self->mix.weight [kind])
            draw -= (uint64_t) self->mix.weight [kind++];
        /*  Amounts from -1000.00 to 999.99, never 0. */
        op->amount = (int64_t) (s_random (self) % 199999) - 99999;
        if (op->amount == 0)
            op->amount = 1;
        work_row_t row;
        if (kind != WORK_CREATE && !s_pick_row (self, &row))
            kind = WORK_CREATE;
        op->kind = (work_kind_t) kind;
        if (kind == WORK_CREATE) {
            op->seq = self->next_seq++;
            op->occurred_us = workload_occurred_us (self->lane, self->lanes, op->seq);
        }
        else {
            op->target_id = row.id;
            op->occurred_us = row.occurred_us;
        }
    }
}

void
workload_created (workload_t *self, int64_t id, int64_t seq)
{
    if (!self->own)
        return;
    work_row_t row = { id, workload_occurred_us (self->lane, self->lanes, seq) };
    if (self->own_count < S_OWN_ROWS_MAX)
        self->own [self->own_count++] = row;
    else
        self->own [s_random (self) % S_OWN_ROWS_MAX] = row;
}
