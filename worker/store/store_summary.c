/*  store_summary -- txn.summary: count, total, min and max of the rows a
    filter selects, by category, by period, or both.

    The rows come in (occurred, id) order, a chunk at a time, and are added
    up here: a period's key grows with time, so each period is complete
    when the first row of the next one arrives, and is then written out
    (rolled up, sorted by category) and forgotten. Memory is one table of
    the categories seen in a period, whatever the number of rows.
    Totals are added in 128 bits, so they are exact whatever the order of
    the rows, and a row whose total does not fit int64 fails the op
    (invalid / TOTAL_OVERFLOW) rather than going out wrapped. */

#include "store_internal.h"
#include "proto_period.h"
#include "proto_reply.h"

#include <stdlib.h>
#include <string.h>

/*  2^63 rows of amounts below 2^63 cannot reach 2^127. */
__extension__ typedef __int128 s_wide_t;

typedef struct {
    int64_t count, min, max;
    s_wide_t total;
} s_stats_t;

/*  A category's row of the period being added up. Category 0: none
    (ids are positive), and the one row when rows are by period alone. */
typedef struct {
    int64_t category;
    bool used;
    s_stats_t own;              /* the rows of this very category */
    s_stats_t all;              /* what its row says: own, and with rollup its subtree's */
} s_group_t;

/*  Open addressing by category; capacity a power of two, never more
    than half full. */
typedef struct {
    s_group_t *slots;
    size_t capacity;
    size_t used;
} s_groups_t;

/*  A category and its parent (0: none), for rollup. selected: the filter
    takes its rows (every category when there is no filter). */
typedef struct {
    int64_t id;
    int64_t parent;
    bool listed;                /* named by the filter */
    bool selected;
} s_node_t;

typedef struct {
    s_node_t *slots;
    size_t capacity;
    size_t count;
} s_tree_t;

typedef struct {
    store_t *store;
    uint32_t n;
    const store_summary_spec_t *spec;
    proto_error_t *err;
    s_tree_t tree;              /* rollup only */
    s_groups_t groups;          /* of the period being added up */
    int64_t key;                /* its key */
    bool open;                  /* a period is being added up */
    int64_t last_day;           /* the day the last row fell on, and its period key */
    int64_t last_day_key;
    bool have_day;
    s_group_t *order;           /* scratch: a period's rows to sort */
    size_t order_capacity;
    msgpack_packer rows_pk;     /* into store->rows */
    int64_t rows;               /* rows written */
} s_run_t;

static uint64_t
s_hash (int64_t id)
{
    uint64_t h = (uint64_t) id * 0x9e3779b97f4a7c15ULL;
    return h ^ (h >> 29);
}

static int
s_nomem (s_run_t *run)
{
    proto_error_set (run->err, PROTO_CLASS_INTERNAL, (int) run->n, NULL, "NOMEM", "out of memory");
    return -1;
}

static int
s_overflow (s_run_t *run)
{
    proto_error_set (run->err, PROTO_CLASS_INVALID, (int) run->n, NULL, "TOTAL_OVERFLOW",
                     "a total does not fit int64 minor units: summarise fewer rows (narrow the filters)");
    return -1;
}

static void
s_stats_add (s_stats_t *stats, int64_t amount)
{
    stats->total += amount;
    if (stats->count == 0 || amount < stats->min)
        stats->min = amount;
    if (stats->count == 0 || amount > stats->max)
        stats->max = amount;
    stats->count++;
}

/*  Add the rows counted in from to into. */
static void
s_stats_merge (s_stats_t *into, const s_stats_t *from)
{
    if (from->count == 0)
        return;
    into->total += from->total;
    if (into->count == 0 || from->min < into->min)
        into->min = from->min;
    if (into->count == 0 || from->max > into->max)
        into->max = from->max;
    into->count += from->count;
}

/*  The slot of category in slots (capacity a power of two): its own, or
    the empty one where it goes. */
static s_group_t *
s_groups_slot (s_group_t *slots, size_t capacity, int64_t category)
{
    size_t at = s_hash (category) & (capacity - 1);
    while (slots [at].used && slots [at].category != category)
        at = (at + 1) & (capacity - 1);
    return &slots [at];
}

static int
s_groups_grow (s_groups_t *groups)
{
    size_t capacity = groups->capacity? groups->capacity * 2: 64;
    s_group_t *slots = calloc (capacity, sizeof (s_group_t));
    if (!slots)
        return -1;
    for (size_t at = 0; at < groups->capacity; at++)
        if (groups->slots [at].used)
            *s_groups_slot (slots, capacity, groups->slots [at].category) = groups->slots [at];
    free (groups->slots);
    groups->slots = slots;
    groups->capacity = capacity;
    return 0;
}

/*  The group of category, made empty if it is new; NULL if memory ran out. */
static s_group_t *
s_groups_get (s_groups_t *groups, int64_t category)
{
    if (groups->capacity) {
        s_group_t *group = s_groups_slot (groups->slots, groups->capacity, category);
        if (group->used)
            return group;
    }
    if ((groups->used + 1) * 2 > groups->capacity && s_groups_grow (groups))
        return NULL;
    s_group_t *group = s_groups_slot (groups->slots, groups->capacity, category);
    *group = (s_group_t) { .category = category, .used = true };
    groups->used++;
    return group;
}

static s_node_t *
s_tree_slot (s_node_t *slots, size_t capacity, int64_t id)
{
    size_t at = s_hash (id) & (capacity - 1);
    while (slots [at].id && slots [at].id != id)
        at = (at + 1) & (capacity - 1);
    return &slots [at];
}

static s_node_t *
s_tree_find (const s_tree_t *tree, int64_t id)
{
    if (!tree->capacity || id == 0)
        return NULL;
    s_node_t *node = s_tree_slot (tree->slots, tree->capacity, id);
    return node->id? node: NULL;
}

static int
s_tree_add (s_tree_t *tree, int64_t id, int64_t parent)
{
    if ((tree->count + 1) * 2 > tree->capacity) {
        size_t capacity = tree->capacity? tree->capacity * 2: 64;
        s_node_t *slots = calloc (capacity, sizeof (s_node_t));
        if (!slots)
            return -1;
        for (size_t at = 0; at < tree->capacity; at++)
            if (tree->slots [at].id)
                *s_tree_slot (slots, capacity, tree->slots [at].id) = tree->slots [at];
        free (tree->slots);
        tree->slots = slots;
        tree->capacity = capacity;
    }
    *s_tree_slot (tree->slots, tree->capacity, id) = (s_node_t) { .id = id, .parent = parent };
    tree->count++;
    return 0;
}

/*  Is id, or (with subcategories) one of its ancestors, named by the
    filter? A walk longer than the tree is a cycle the database should
    not hold: it stops there. */
static bool
s_tree_selects (const s_tree_t *tree, const store_summary_spec_t *spec, int64_t id)
{
    if (spec->category_count == 0)
        return true;
    size_t steps = 0;
    for (s_node_t *node = s_tree_find (tree, id); node && steps <= tree->count; steps++) {
        if (node->listed)
            return true;
        if (!spec->subcategories)
            return false;
        node = s_tree_find (tree, node->parent);
    }
    return false;
}

/*  Read every category and its parent, and mark those the filter selects. */
static int
s_tree_load (s_run_t *run)
{
    store_stmt_t *stmt = store_stmt (run->store, STMT_CAT_LIST);
    int rc;
    while ((rc = stmt_step (stmt)) == SQLITE_ROW)
        if (s_tree_add (&run->tree, stmt_column_int64 (stmt, 0),
                        stmt_column_type (stmt, 2) == SQLITE_NULL? 0: stmt_column_int64 (stmt, 2))) {
            stmt_reset (stmt);
            return s_nomem (run);
        }
    stmt_reset (stmt);
    if (rc != SQLITE_DONE) {
        store_error_from_sqlite (run->store, rc, (int) run->n, NULL, run->err);
        return -1;
    }
    for (size_t i = 0; i < run->spec->category_count; i++) {
        s_node_t *node = s_tree_find (&run->tree, run->spec->category_ids [i]);
        if (node)
            node->listed = true;
    }
    for (size_t at = 0; at < run->tree.capacity; at++)
        if (run->tree.slots [at].id)
            run->tree.slots [at].selected = s_tree_selects (&run->tree, run->spec, run->tree.slots [at].id);
    return 0;
}

/*  Rollup: each category's own rows count in every selected ancestor's
    row too. The rows to add are copied first, since adding an ancestor
    may move the groups. */
static int
s_rollup (s_run_t *run)
{
    size_t count = 0;
    for (size_t at = 0; at < run->groups.capacity; at++)
        if (run->groups.slots [at].used && run->groups.slots [at].category)
            run->order [count++] = run->groups.slots [at];
    for (size_t i = 0; i < count; i++) {
        s_node_t *node = s_tree_find (&run->tree, run->order [i].category);
        for (size_t steps = 0; node && node->parent && steps < run->tree.count; steps++) {
            node = s_tree_find (&run->tree, node->parent);
            if (!node || !node->selected)
                continue;
            s_group_t *group = s_groups_get (&run->groups, node->id);
            if (!group)
                return s_nomem (run);
            s_stats_merge (&group->all, &run->order [i].own);
        }
    }
    return 0;
}

static int
s_by_category (const void *a, const void *b)
{
    int64_t x = ((const s_group_t *) a)->category, y = ((const s_group_t *) b)->category;
    return (x > y) - (x < y);
}

static void
s_pack_row (s_run_t *run, const s_group_t *group)
{
    msgpack_packer *pk = &run->rows_pk;
    int by = run->spec->by;
    msgpack_pack_map (pk, 4 + ((by & PROTO_BY_CATEGORY)? 1: 0) + ((by & PROTO_BY_PERIOD)? 1: 0));
    if (by & PROTO_BY_CATEGORY) {
        proto_pack_cstr (pk, "category_id");
        if (group->category)
            msgpack_pack_int64 (pk, group->category);
        else
            msgpack_pack_nil (pk);
    }
    if (by & PROTO_BY_PERIOD) {
        char label [PROTO_PERIOD_LABEL_MAX];
        proto_pack_cstr (pk, "period");
        proto_pack_strn (pk, label, proto_period_label (run->spec->period, run->key, label));
    }
    proto_pack_cstr (pk, "count");
    msgpack_pack_int64 (pk, group->all.count);
    proto_pack_cstr (pk, "total");
    msgpack_pack_int64 (pk, (int64_t) group->all.total);
    proto_pack_cstr (pk, "min");
    msgpack_pack_int64 (pk, group->all.min);
    proto_pack_cstr (pk, "max");
    msgpack_pack_int64 (pk, group->all.max);
}

/*  Write out the period being added up, its rows in category order, and
    empty the groups for the next one. */
static int
s_flush (s_run_t *run)
{
    if (!run->open)
        return 0;
    run->open = false;
    for (size_t at = 0; at < run->groups.capacity; at++)
        run->groups.slots [at].all = run->groups.slots [at].own;
    /*  Rollup may add a group per category; order has room for all. */
    size_t room = run->groups.capacity + (run->spec->rollup? run->tree.count: 0);
    if (room > run->order_capacity) {
        s_group_t *order = realloc (run->order, room * sizeof (s_group_t));
        if (!order)
            return s_nomem (run);
        run->order = order;
        run->order_capacity = room;
    }
    if (run->spec->rollup && s_rollup (run))
        return -1;
    size_t count = 0;
    for (size_t at = 0; at < run->groups.capacity; at++)
        if (run->groups.slots [at].used)
            run->order [count++] = run->groups.slots [at];
    qsort (run->order, count, sizeof (s_group_t), s_by_category);
    run->rows += (int64_t) count;
    if (run->rows > PROTO_MAX_LIMIT) {
        proto_error_set (run->err, PROTO_CLASS_INVALID, (int) run->n, NULL, "TOO_MANY_ROWS",
                         "the summary has more than %d rows: narrow from/to or the categories, or choose"
                         " a longer period", PROTO_MAX_LIMIT);
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        if (run->order [i].all.total < INT64_MIN || run->order [i].all.total > INT64_MAX)
            return s_overflow (run);
    for (size_t i = 0; i < count; i++)
        s_pack_row (run, &run->order [i]);
    memset (run->groups.slots, 0, run->groups.capacity * sizeof (s_group_t));
    run->groups.used = 0;
    return 0;
}

/*  The period key of the instant us; days repeat row after row, so the
    last one's key is kept. */
static int64_t
s_period_key (s_run_t *run, int64_t us)
{
    int64_t day = proto_period_day (us, run->spec->offset_min);
    if (!run->have_day || day != run->last_day) {
        run->have_day = true;
        run->last_day = day;
        run->last_day_key = proto_period_key (run->spec->period, day);
    }
    return run->last_day_key;
}

/*  Add one row: its period first, which may close the one before. */
static int
s_add (s_run_t *run, int64_t us, int64_t category, int64_t amount)
{
    int64_t key = (run->spec->by & PROTO_BY_PERIOD)? s_period_key (run, us): 0;
    if (run->open && key != run->key && s_flush (run))
        return -1;
    run->key = key;
    run->open = true;
    s_group_t *group = s_groups_get (&run->groups, (run->spec->by & PROTO_BY_CATEGORY)? category: 0);
    if (!group)
        return s_nomem (run);
    s_stats_add (&group->own, amount);
    return 0;
}

/*  Read and add the window's rows, a chunk at a time. */
static int
s_scan (s_run_t *run, store_txn_window_t *window)
{
    while (true) {
        store_stmt_t *stmt = store_stmts_txn_summary (run->store, window);
        int64_t got = 0;
        int rc;
        while ((rc = stmt_step (stmt)) == SQLITE_ROW) {
            got++;
            window->has_cursor = true;
            window->after_us = stmt_column_int64 (stmt, STORE_SUMMARY_OCCURRED_US);
            window->after_id = stmt_column_int64 (stmt, STORE_SUMMARY_ID);
            int64_t category = stmt_column_type (stmt, STORE_SUMMARY_CATEGORY_ID) == SQLITE_NULL?
                               0: stmt_column_int64 (stmt, STORE_SUMMARY_CATEGORY_ID);
            if (s_add (run, window->after_us, category, stmt_column_int64 (stmt, STORE_SUMMARY_AMOUNT))) {
                stmt_reset (stmt);
                return -1;
            }
        }
        stmt_reset (stmt);
        if (rc != SQLITE_DONE) {
            store_error_from_sqlite (run->store, rc, (int) run->n, NULL, run->err);
            return -1;
        }
        if (got < window->limit)
            return s_flush (run);
    }
}

int
store_summary_run (store_t *self, uint32_t n, store_txn_window_t *window, const store_summary_spec_t *spec,
                   msgpack_packer *pk, proto_error_t *err)
{
    s_run_t run = { .store = self, .n = n, .spec = spec, .err = err };
    msgpack_sbuffer_clear (&self->rows);
    msgpack_packer_init (&run.rows_pk, &self->rows, msgpack_sbuffer_write);
    int rc = (spec->rollup && s_tree_load (&run)) || s_scan (&run, window)? -1: 0;
    if (rc == 0) {
        msgpack_pack_map (pk, 1);
        proto_pack_cstr (pk, "rows");
        msgpack_pack_array (pk, (size_t) run.rows);
        msgpack_sbuffer_write (pk->data, self->rows.data, self->rows.size);
    }
    free (run.groups.slots);
    free (run.tree.slots);
    free (run.order);
    return rc;
}
