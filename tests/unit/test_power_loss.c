/*  The store through a power cut (tests/support/powerloss_vfs.h): the
    power goes at the k-th write, sync, truncate or delete, for every k a
    keyed, grouped workload makes, with --sync full and --sync normal, and
    with unsynced writes all lost or a random subset of their sectors kept
    (some torn). The workload starts from a schema-3 ledger in rollback
    mode, so the store's open switches it to WAL and migrates it inside the
    window; it runs groups of three keyed batches of one to three ops (the
    middle one of every other group fails) and single batches, checkpoints
    the WAL as the writer's hook does, and restarts the store once (the
    checkpoint at close, the WAL deleted and made anew).

    After each cut the files are rewritten to what survived and opened by
    the store again on the real VFS (recovery, migration), then:
    - integrity_check is ok, the schema is the latest, the rows from before
      the window are there;
    - no batch is partial and every group commit is all there or not at
      all, and what is there is a prefix of the commits in order (what was
      lost is a suffix);
    - --sync full: every batch answered ok is there; --sync normal: every
      batch answered ok before the last completed checkpoint is there;
    - the idempotency log holds exactly the batches there; every batch sent
      again with its key is replayed if it was there and applied if not,
      after which each is there exactly once.

    Long form: LEDGER_POWERLOSS_CUTS=N cuts per sync and loss mode (default
    one at every point, two in sectors mode; past the number of points,
    every point again with new draws), LEDGER_POWERLOSS_SEED=S repeats a
    run's draws, LEDGER_POWERLOSS_CUT=K runs the cut at point K alone,
    LEDGER_POWERLOSS_VERBOSE=1 shows the store's log in the window. */

#include "powerloss_vfs.h"
#include "log.h"
#include "proto_json.h"
#include "proto_request.h"
#include "store.h"
#include "store_internal.h"
#include "testing.h"
#include "harness_json.h"
#include "harness_files.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum {
    ROUNDS = 8,                 /* a group then a single batch, each round */
    PER_GROUP = 3,
    PER_ROUND = PER_GROUP + 1,
    BATCHES = ROUNDS * PER_ROUND,
    RESTART_AFTER = 4,          /* rounds before the store restarts */
    OLD_ROWS = 3                /* rows in the ledger before the window */
};

/*  A keyed batch and what became of it. */
typedef struct {
    char *body;
    size_t size;
    proto_request_t *request;
    int txns;                   /* txn.create ops: rows it adds */
    bool category;              /* and a category */
    bool fails;                 /* made to fail (not_found at its last op) */
    bool acked;                 /* answered ok before the cut */
    int commit;                 /* which commit carried it (-1: none tried) */
} batch_t;

typedef struct {
    bool sync_full;
    powerloss_mode_t mode;
    uint64_t cut_at;
    uint64_t base;              /* the seed to repeat it with */
    uint64_t seed;              /* drawn from base, cut_at and the modes */
} run_t;

/*  Figures for the closing line of a sweep. */
typedef struct {
    int cuts;
    int cuts_fired;
    int acked;                  /* batches answered ok, over all cuts */
    int acked_lost;             /* of which not there after the cut */
    int max_lost_suffix;        /* most acknowledged batches lost by one cut */
    int cuts_losing;            /* cuts that lost an acknowledged batch */
    long sectors_kept, sectors_torn, sectors_lost;
    int names_gone, names_back;
} sweep_t;

static batch_t s_batches [BATCHES];
static bool s_verbose;          /* LEDGER_POWERLOSS_VERBOSE: the store's log in the window too */
static char s_template [64];    /* holds ledger.db at schema 3 */
static unsigned char *s_v3;
static size_t s_v3_size;

static bool
s_fails (int n)
{
    return (n / PER_ROUND) % 2 == 1 && n % PER_ROUND == 1;
}

static void
s_batches_init (void)
{
    for (int n = 0; n < BATCHES; n++) {
        batch_t *self = &s_batches [n];
        self->txns = 1 + n % 3;
        self->category = n % 4 == 0;
        self->fails = s_fails (n);
        char text [1200];
        size_t at = (size_t) snprintf (text, sizeof (text), "{\"v\":1,\"key\":\"power-%d\",\"ops\":[", n);
        if (self->category)
            at += (size_t) snprintf (text + at, sizeof (text) - at, "{\"op\":\"category.create\",\"name\":\"c%d\"},", n);
        for (int op = 0; op < self->txns; op++)
            at += (size_t) snprintf (text + at, sizeof (text) - at, "%s{\"op\":\"txn.create\",\"amount\":%d,"
                                     "\"occurred_at\":\"2025-01-01T00:00:00Z\",\"description\":\"p%d\"}",
                                     op? ",": "", 100 + op, n);
        if (self->fails)
            at += (size_t) snprintf (text + at, sizeof (text) - at, ",{\"op\":\"txn.delete\",\"id\":999999}");
        snprintf (text + at, sizeof (text) - at, "]}");
        json_t *json = json_loads (text, 0, NULL);
        if (!json || proto_json_to_msgpack (json, &self->body, &self->size, NULL, 0))
            abort ();
        json_decref (json);
        self->request = proto_request_new (self->body, self->size, 100);
        if (!self->request || proto_error_is_set (&self->request->error))
            abort ();
    }
}

static void
s_batches_fini (void)
{
    for (int n = 0; n < BATCHES; n++) {
        proto_request_destroy (&s_batches [n].request);
        free (s_batches [n].body);
    }
}

/*  The ledger as schema 3 (rollback journal) wrote it, once, kept in
    memory: each run starts from a copy. */
static void
s_template_init (void)
{
    if (harness_make_dir (s_template, sizeof (s_template), "ledger-power-template"))
        abort ();
    char path [128];
    snprintf (path, sizeof (path), "%s/ledger.db", s_template);
    char sql [600] = "";
    for (int n = 0; n < OLD_ROWS; n++)
        snprintf (sql + strlen (sql), sizeof (sql) - strlen (sql),
                  "INSERT INTO txn (amount, occurred_us, occurred_off, description, created_us, updated_us)"
                  " VALUES (%d, 0, 0, 'old', 0, 0);", n);
    if (harness_make_schema_v3 (path, sql))
        abort ();
    FILE *file = fopen (path, "rb");
    if (!file || fseek (file, 0, SEEK_END))
        abort ();
    s_v3_size = (size_t) ftell (file);
    rewind (file);
    s_v3 = malloc (s_v3_size);
    if (!s_v3 || fread (s_v3, 1, s_v3_size, file) != s_v3_size)
        abort ();
    fclose (file);
    harness_remove_dir (s_template);
}

static json_t *
s_json (msgpack_sbuffer *out)
{
    json_t *reply = out->size? proto_json_from_msgpack (out->data, out->size, NULL, 0): NULL;
    return reply? reply: json_object ();
}

static store_t *
s_store_open (const char *path, bool sync_full, char *errbuf, size_t errlen)
{
    static stats_t stats;
    stats_init (&stats);
    store_options_t options = { .sync_full = sync_full, .busy_timeout_ms = 100 };
    return store_new (path, &options, &stats, errbuf, errlen);
}

/*  Checkpoint as the writer's WAL hook does (it would at 1000 frames).
    True if every frame reached the database file. */
static bool
s_checkpoint (store_t *store)
{
    int frames = -1, done = -2;
    int rc = sqlite3_wal_checkpoint_v2 (store_db_sqlite_handle (store->db), "main", SQLITE_CHECKPOINT_PASSIVE,
                                        &frames, &done);
    return rc == SQLITE_OK && frames == done;
}

/*  Run the rounds from..to-1 on store: a group, then a batch alone. Marks
    batches acked and numbers the commits from *commit_p on. Stops at the
    cut. *durable_p: batches acked before the last complete checkpoint. */
static void
s_rounds (store_t *store, int from, int to, int *commit_p, int *durable_p)
{
    for (int round = from; round < to && !powerloss_vfs_is_cut (); round++) {
        batch_t *group = &s_batches [round * PER_ROUND];
        const proto_request_t *requests [PER_GROUP];
        msgpack_sbuffer outs [PER_ROUND];
        msgpack_sbuffer *out_ptrs [PER_GROUP];
        for (int n = 0; n < PER_ROUND; n++)
            msgpack_sbuffer_init (&outs [n]);
        for (int n = 0; n < PER_GROUP; n++) {
            requests [n] = group [n].request;
            out_ptrs [n] = &outs [n];
            group [n].commit = *commit_p;
        }
        store_run_group (store, requests, out_ptrs, PER_GROUP);
        ++*commit_p;
        if (!powerloss_vfs_is_cut ()) {
            group [PER_GROUP].commit = (*commit_p)++;
            store_run (store, group [PER_GROUP].request, &outs [PER_GROUP]);
        }
        for (int n = 0; n < PER_ROUND; n++) {
            json_t *reply = s_json (&outs [n]);
            group [n].acked = harness_bool (reply, "ok") == 1;
            json_decref (reply);
            msgpack_sbuffer_destroy (&outs [n]);
        }
        /*  Every other round, as the WAL hook would. */
        if (round % 2 == 1 && !powerloss_vfs_is_cut () && s_checkpoint (store) && !powerloss_vfs_is_cut ())
            *durable_p = (round + 1) * PER_ROUND;
    }
}

/*  The workload, inside the window. Leaves every file closed. */
static void
s_workload (const char *path, bool sync_full, int *durable_p)
{
    char errbuf [256];
    int commit = 0;
    *durable_p = 0;
    store_t *store = s_store_open (path, sync_full, errbuf, sizeof (errbuf));
    if (store)
        s_rounds (store, 0, RESTART_AFTER, &commit, durable_p);
    store_destroy (&store);
    if (!powerloss_vfs_is_cut ()) {
        /*  Closing checkpointed and truncated the WAL: all is in the file. */
        *durable_p = RESTART_AFTER * PER_ROUND;
        store = s_store_open (path, sync_full, errbuf, sizeof (errbuf));
    }
    if (store)
        s_rounds (store, RESTART_AFTER, ROUNDS, &commit, durable_p);
    store_destroy (&store);
}

static bool
s_integrity_ok (sqlite3 *db)
{
    sqlite3_stmt *stmt;
    bool ok = false;
    if (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL) == SQLITE_OK
    &&  sqlite3_step (stmt) == SQLITE_ROW)
        ok = strcmp ((const char *) sqlite3_column_text (stmt, 0), "ok") == 0;
    sqlite3_finalize (stmt);
    return ok;
}

/*  How much of batch n is in db: 1 all, 0 none, -1 part of it. */
static int
s_presence (sqlite3 *db, int n)
{
    char sql [120];
    snprintf (sql, sizeof (sql), "SELECT count (*) FROM txn WHERE description = 'p%d'", n);
    long long txns = harness_db_int (db, sql);
    snprintf (sql, sizeof (sql), "SELECT count (*) FROM category WHERE name = 'c%d'", n);
    long long categories = harness_db_int (db, sql);
    const batch_t *self = &s_batches [n];
    if (txns == 0 && categories == 0)
        return 0;
    if (txns == self->txns && categories == (self->category? 1: 0))
        return 1;
    return -1;
}

/*  Send every batch again, grouped as before, each with its key: the
    ones there are replayed, the others applied. Returns the number of
    replies that disagree. */
static int
s_resend (store_t *store, const int *present)
{
    int wrong = 0;
    for (int round = 0; round < ROUNDS; round++) {
        batch_t *group = &s_batches [round * PER_ROUND];
        const proto_request_t *requests [PER_GROUP];
        msgpack_sbuffer outs [PER_ROUND];
        msgpack_sbuffer *out_ptrs [PER_GROUP];
        for (int n = 0; n < PER_ROUND; n++)
            msgpack_sbuffer_init (&outs [n]);
        for (int n = 0; n < PER_GROUP; n++) {
            requests [n] = group [n].request;
            out_ptrs [n] = &outs [n];
        }
        store_run_group (store, requests, out_ptrs, PER_GROUP);
        store_run (store, group [PER_GROUP].request, &outs [PER_GROUP]);
        for (int n = 0; n < PER_ROUND; n++) {
            int number = round * PER_ROUND + n;
            json_t *reply = s_json (&outs [n]);
            bool ok = harness_bool (reply, "ok") == 1;
            bool replayed = harness_bool (reply, "replayed") == 1;
            if (ok != !group [n].fails || replayed != (present [number] == 1)) {
                fprintf (stderr, "    resent batch %d: ok %d replayed %d, was there %d\n", number, ok, replayed,
                         present [number]);
                wrong++;
            }
            json_decref (reply);
            msgpack_sbuffer_destroy (&outs [n]);
        }
    }
    return wrong;
}

/*  One run: the workload with the power cut at run->cut_at (0: never),
    what survived reopened and checked. Returns the number of failed
    checks; adds to sweep. */
static int
s_run (const run_t *run, sweep_t *sweep)
{
    int failed_before = t_checks_failed;
    char dir [64];
    if (harness_make_dir (dir, sizeof (dir), "ledger-power"))
        abort ();
    char path [128];
    snprintf (path, sizeof (path), "%s/ledger.db", dir);
    FILE *file = fopen (path, "wb");
    if (!file || fwrite (s_v3, 1, s_v3_size, file) != s_v3_size || fclose (file))
        abort ();
    for (int n = 0; n < BATCHES; n++) {
        s_batches [n].acked = false;
        s_batches [n].commit = -1;
    }
    int durable = 0;
    /*  The store logs every failure after the cut: a thousand lines that
        say the power is off. */
    fflush (stderr);
    int saved_stderr = s_verbose? -1: dup (2);
    int null = saved_stderr < 0? -1: open ("/dev/null", O_WRONLY);
    if (null >= 0)
        dup2 (null, 2);
    powerloss_vfs_arm (run->cut_at);
    s_workload (path, run->sync_full, &durable);
    bool fired = powerloss_vfs_is_cut ();
    if (null >= 0) {
        fflush (stderr);
        dup2 (saved_stderr, 2);
        close (null);
    }
    if (saved_stderr >= 0)
        close (saved_stderr);
    for (int n = 0; n < BATCHES; n++)
        CHECK (!(s_batches [n].acked && s_batches [n].fails));
    powerloss_report_t report;
    CHECK_INT (powerloss_vfs_restore (run->mode, run->seed, &report), 0);

    /*  What survived, through the store: recovery and migration. */
    char errbuf [256];
    store_t *store = s_store_open (path, run->sync_full, errbuf, sizeof (errbuf));
    CHECK (store != NULL);
    if (!store) {
        fprintf (stderr, "    store_new: %s\n", errbuf);
        goto done;
    }
    sqlite3 *db = store_db_sqlite_handle (store->db);
    CHECK (s_integrity_ok (db));
    CHECK_INT (harness_db_int (db, "PRAGMA user_version"), store_schema_latest ());
    CHECK_INT (harness_db_int (db, "SELECT count (*) FROM txn WHERE description = 'old'"), OLD_ROWS);

    int present [BATCHES];
    int there = 0, acked = 0, acked_lost = 0, commits_there = -1;
    bool gap = false;
    for (int n = 0; n < BATCHES; n++) {
        const batch_t *self = &s_batches [n];
        present [n] = s_presence (db, n);
        CHECK (present [n] >= 0);
        if (present [n] < 0)
            fprintf (stderr, "    batch %d is partly there\n", n);
        if (self->fails) {
            CHECK_INT (present [n], 0);
            continue;
        }
        there += present [n] == 1;
        acked += self->acked;
        acked_lost += self->acked && present [n] != 1;
        if (run->sync_full || n < durable)
            if (self->acked && present [n] != 1) {
                CHECK (!"a batch answered ok is lost");
                fprintf (stderr, "    batch %d (commit %d) was answered ok and is lost (%s)\n", n, self->commit,
                         n < durable? "and checkpointed": "with --sync full");
            }
        /*  Commits in order: all of one or none, and none after a gap. */
        if (present [n] == 1) {
            CHECK (self->commit >= 0 && !gap && self->commit >= commits_there);
            if (gap || self->commit < 0)
                fprintf (stderr, "    batch %d (commit %d) is there after a lost commit\n", n, self->commit);
            commits_there = self->commit;
        }
        else
        if (self->commit >= 0) {
            CHECK (self->commit != commits_there);
            if (self->commit == commits_there)
                fprintf (stderr, "    commit %d is there in part (batch %d is not)\n", self->commit, n);
            gap = true;
        }
    }
    /*  Lost acknowledged batches are the last ones acknowledged. */
    int lost_suffix = 0;
    for (int n = BATCHES - 1; n >= 0; n--) {
        if (s_batches [n].fails || !s_batches [n].acked)
            continue;
        if (present [n] == 1)
            break;
        lost_suffix++;
    }
    CHECK_INT (lost_suffix, acked_lost);
    CHECK_INT (harness_db_int (db, "SELECT count (*) FROM idempotency"), there);
    CHECK_INT (s_resend (store, present), 0);
    long long txns = OLD_ROWS;
    for (int n = 0; n < BATCHES; n++) {
        if (!s_batches [n].fails) {
            txns += s_batches [n].txns;
            CHECK_INT (s_presence (db, n), 1);
        }
    }
    CHECK_INT (harness_db_int (db, "SELECT count (*) FROM txn"), txns);
    CHECK (s_integrity_ok (db));
    store_destroy (&store);

    sweep->cuts++;
    sweep->cuts_fired += fired;
    sweep->acked += acked;
    sweep->acked_lost += acked_lost;
    sweep->cuts_losing += acked_lost > 0;
    if (lost_suffix > sweep->max_lost_suffix)
        sweep->max_lost_suffix = lost_suffix;
    sweep->sectors_kept += report.sectors_kept;
    sweep->sectors_torn += report.sectors_torn;
    sweep->sectors_lost += report.sectors_lost;
    sweep->names_gone += report.names_gone;
    sweep->names_back += report.names_back;

done:
    if (t_checks_failed != failed_before) {
        fprintf (stderr, "    ^ --sync %s, %s, cut at %llu of the run's calls, seed %llu:"
                 " repeat with LEDGER_POWERLOSS_SEED=%llu LEDGER_POWERLOSS_CUT=%llu (kept %s)\n",
                 run->sync_full? "full": "normal", run->mode == POWERLOSS_DROP? "unsynced lost": "sectors kept",
                 (unsigned long long) run->cut_at, (unsigned long long) run->seed, (unsigned long long) run->base,
                 (unsigned long long) run->cut_at, dir);
    }
    else
        harness_remove_dir (dir);
    return t_checks_failed - failed_before;
}

static long long
s_env (const char *name, long long otherwise)
{
    const char *value = getenv (name);
    return value && *value? atoll (value): otherwise;
}

/*  splitmix64 of the run's coordinates: its own draws, the same every time. */
static uint64_t
s_mix (uint64_t base, uint64_t cut_at, bool sync_full, powerloss_mode_t mode)
{
    uint64_t z = base ^ (cut_at * 0x9E3779B97F4A7C15ull) ^ ((uint64_t) mode << 60) ^ ((uint64_t) sync_full << 62);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t s_seed;
static long long s_cuts;        /* cuts per sweep; 0: one at every point */
static long long s_only_cut;    /* 0: sweep */

/*  A clean run (which counts the calls), then cuts spread over them. */
static void
s_sweep (bool sync_full, powerloss_mode_t mode)
{
    sweep_t sweep = { 0 };
    run_t run = { .sync_full = sync_full, .mode = mode, .base = s_seed };
    CHECK_INT (s_run (&run, &sweep), 0);
    uint64_t points = powerloss_vfs_events ();
    CHECK (points > 0);
    CHECK_INT (sweep.acked_lost, 0);
    int clean_acked = sweep.acked;
    memset (&sweep, 0, sizeof (sweep));
    /*  What survives a cut in sectors mode is drawn: two draws a point. */
    long long cuts = s_only_cut? 1: s_cuts? s_cuts: (long long) points * (mode == POWERLOSS_SECTORS? 2: 1);
    int failures = 0;
    for (long long n = 0; n < cuts && failures < 5; n++) {
        uint64_t pass = points? (uint64_t) n / points: 0;
        run.cut_at = s_only_cut? (uint64_t) s_only_cut
                   : cuts <= (long long) points? 1 + (uint64_t) n * points / (uint64_t) cuts: 1 + (uint64_t) n % points;
        run.base = s_seed + pass;
        run.seed = s_mix (run.base, run.cut_at, sync_full, mode);
        failures += s_run (&run, &sweep) > 0;
    }
    printf ("     --sync %-6s %s: %llu calls in a clean run (%d batches ok); %d cuts (%d fired): %d batches answered"
            " ok, %d of them lost by %d cuts (a suffix of at most %d); unsynced sectors kept %ld, torn %ld, lost %ld;"
            " files gone %d, back %d\n",
            sync_full? "full,": "normal,", mode == POWERLOSS_DROP? "unsynced writes lost": "some sectors kept",
            (unsigned long long) points, clean_acked, sweep.cuts, sweep.cuts_fired, sweep.acked, sweep.acked_lost,
            sweep.cuts_losing, sweep.max_lost_suffix, sweep.sectors_kept, sweep.sectors_torn, sweep.sectors_lost,
            sweep.names_gone, sweep.names_back);
    fflush (stdout);
}

static void
test_full_unsynced_lost (void)
{
    s_sweep (true, POWERLOSS_DROP);
}

static void
test_full_some_sectors_kept (void)
{
    s_sweep (true, POWERLOSS_SECTORS);
}

static void
test_normal_unsynced_lost (void)
{
    s_sweep (false, POWERLOSS_DROP);
}

static void
test_normal_some_sectors_kept (void)
{
    s_sweep (false, POWERLOSS_SECTORS);
}

int
main (void)
{
    s_seed = (uint64_t) s_env ("LEDGER_POWERLOSS_SEED",
                               (long long) (((uint64_t) time (NULL) ^ ((uint64_t) getpid () << 20)) & INT64_MAX));
    s_cuts = s_env ("LEDGER_POWERLOSS_CUTS", 0);
    s_only_cut = s_env ("LEDGER_POWERLOSS_CUT", 0);
    s_verbose = s_env ("LEDGER_POWERLOSS_VERBOSE", 0) != 0;
#if defined (__SANITIZE_ADDRESS__)
    s_verbose = true;           /* a sanitizer's report must not go to /dev/null */
#endif
    printf ("test_power_loss: seed %llu (LEDGER_POWERLOSS_SEED), %s (LEDGER_POWERLOSS_CUTS, LEDGER_POWERLOSS_CUT)\n",
            (unsigned long long) s_seed, s_only_cut? "one cut": s_cuts? "cuts as asked": "a cut at every call");
    log_set_level (LOG_LEVEL_ERROR);
    if (powerloss_vfs_install () != SQLITE_OK)
        return 1;
    s_template_init ();
    s_batches_init ();
    TEST_RUN (test_full_unsynced_lost);
    TEST_RUN (test_full_some_sectors_kept);
    TEST_RUN (test_normal_unsynced_lost);
    TEST_RUN (test_normal_some_sectors_kept);
    s_batches_fini ();
    free (s_v3);
    return TEST_DONE ();
}
