/*  Integration: the real ledgerctl binary against the real ledgerd -- every
    subcommand, the exit statuses (0 done, 1 refused, 2 usage, 3 no answer),
    one-line errors, and an import of 10 000 rows interrupted by killing the
    worker, restarted on the same database and run again to exactly 10 000
    rows. */

#include "testing.h"
#include "harness_files.h"
#include "harness_json.h"
#include "worker_harness.h"

#include <czmq.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef LEDGERCTL_PATH
#   error "define LEDGERCTL_PATH as the ledgerctl binary"
#endif

extern char **environ;

/*  An endpoint nobody listens on: port 1 (tcpmux) is refused at once. */
#define NOBODY "tcp://127.0.0.1:1"

#define MAX_ARGS 64

/*  A ledgerctl run: its exit status (-1 if it died by a signal) and what it
    wrote on stdout and stderr. */
typedef struct {
    int status;
    char *out;
    char *err;
} run_t;

/*  A ledgerctl process that may still be running. */
typedef struct {
    pid_t pid;
    char out_path [64];
    char err_path [64];
} child_t;

static void
s_run_free (run_t *run)
{
    free (run->out);
    free (run->err);
    run->out = run->err = NULL;
}

static char *
s_slurp (const char *path)
{
    FILE *file = fopen (path, "rb");
    if (!file)
        return strdup ("");
    fseek (file, 0, SEEK_END);
    long size = ftell (file);
    fseek (file, 0, SEEK_SET);
    char *text = malloc ((size_t) size + 1);
    size_t got = fread (text, 1, (size_t) size, file);
    text [got] = 0;
    fclose (file);
    return text;
}

static void
s_write_file (const char *path, const char *text)
{
    FILE *file = fopen (path, "w");
    CHECK (file != NULL);
    if (file) {
        fputs (text, file);
        fclose (file);
    }
}

/*  Start ledgerctl with argv (argv [0] is ignored), stdin from input (NULL:
    /dev/null), and the environment without LEDGER_* variables, plus the
    "NAME=value" entries of env (NULL-terminated; NULL for none). Returns
    0, or -1 if it could not start. */
static int
s_child_start (child_t *child, const char *input, const char *const *env, char **argv)
{
    snprintf (child->out_path, sizeof (child->out_path), "/tmp/ledgerctl-out-XXXXXX");
    snprintf (child->err_path, sizeof (child->err_path), "/tmp/ledgerctl-err-XXXXXX");
    int out = mkstemp (child->out_path);
    int err = mkstemp (child->err_path);
    char *envp [512];
    size_t envc = 0;
    for (char **entry = environ; *entry && envc < 500; entry++)
        if (strncmp (*entry, "LEDGER_", 7))
            envp [envc++] = *entry;
    for (size_t n = 0; env && env [n] && envc < 510; n++)
        envp [envc++] = (char *) env [n];
    envp [envc] = NULL;

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init (&actions);
    posix_spawn_file_actions_addopen (&actions, 0, input? input: "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2 (&actions, out, 1);
    posix_spawn_file_actions_adddup2 (&actions, err, 2);
    argv [0] = (char *) LEDGERCTL_PATH;
    int rc = posix_spawn (&child->pid, LEDGERCTL_PATH, &actions, NULL, argv, envp);
    posix_spawn_file_actions_destroy (&actions);
    close (out);
    close (err);
    return rc == 0? 0: -1;
}

/*  Wait for the child and collect what it did into run. */
static int
s_child_finish (child_t *child, run_t *run)
{
    int status = -1;
    waitpid (child->pid, &status, 0);
    run->status = WIFEXITED (status)? WEXITSTATUS (status): -1;
    run->out = s_slurp (child->out_path);
    run->err = s_slurp (child->err_path);
    unlink (child->out_path);
    unlink (child->err_path);
    return run->status;
}

/*  Build argv from a NULL-terminated list, after `--endpoint endpoint` when
    endpoint is not NULL. */
static void
s_argv (char **argv, const char *endpoint, const char *first, va_list args)
{
    int argc = 1;
    if (endpoint) {
        argv [argc++] = (char *) "--endpoint";
        argv [argc++] = (char *) endpoint;
    }
    for (const char *arg = first; arg && argc < MAX_ARGS - 1; arg = va_arg (args, const char *))
        argv [argc++] = (char *) arg;
    argv [argc] = NULL;
}

/*  Run ledgerctl [--endpoint endpoint] args... to its end, stdin from input
    (NULL: /dev/null). Returns its exit status; the caller frees run. */
static int
s_run (run_t *run, const char *endpoint, const char *input, const char *first, ...)
{
    char *argv [MAX_ARGS];
    va_list args;
    va_start (args, first);
    s_argv (argv, endpoint, first, args);
    va_end (args);
    child_t child;
    memset (run, 0, sizeof (*run));
    if (s_child_start (&child, input, NULL, argv)) {
        run->status = -1;
        run->out = strdup ("");
        run->err = strdup ("spawn failed");
        return -1;
    }
    return s_child_finish (&child, run);
}

/*  ledgerctl against worker, stdin from /dev/null. */
#define CTL(run, worker, ...) s_run (run, harness_endpoint (worker), NULL, __VA_ARGS__, NULL)
/*  ledgerctl against worker, stdin from a file. */
#define CTL_IN(run, worker, input, ...) s_run (run, harness_endpoint (worker), input, __VA_ARGS__, NULL)

static size_t
s_count_lines (const char *text)
{
    size_t lines = 0;
    for (; *text; text++)
        lines += *text == '\n';
    return lines;
}

/*  An error is one line on stderr, naming the program. */
static bool
s_one_error_line (const char *err)
{
    return strncmp (err, "ledgerctl", 9) == 0 && s_count_lines (err) == 1 && err [strlen (err) - 1] == '\n';
}

/*  Line n (from 0) of text as JSON, or NULL. */
static json_t *
s_json_line (const char *text, size_t n)
{
    for (; n > 0 && text; n--) {
        text = strchr (text, '\n');
        if (text)
            text++;
    }
    if (!text || !*text)
        return NULL;
    size_t len = strcspn (text, "\n");
    return json_loadb (text, len, 0, NULL);
}

static harness_t *
s_worker (void)
{
    harness_t *worker = harness_start ("--sync", "normal", NULL);
    CHECK (worker != NULL);
    return worker;
}

/*  The rows of a query, as JSON lines; the count, or -1 on failure. */
static long
s_query_count (harness_t *worker, const char *extra_1, const char *extra_2)
{
    run_t run;
    CTL (&run, worker, "query", "--format", "json", extra_1, extra_2);
    long count = run.status == 0? (long) s_count_lines (run.out): -1;
    if (run.status)
        fprintf (stderr, "query failed: %s", run.err);
    s_run_free (&run);
    return count;
}

static void
test_ping_and_stats (void)
{
    harness_t *worker = s_worker ();
    if (!worker)
        return;
    run_t run;
    CHECK_INT (CTL (&run, worker, "ping"), 0);
    CHECK (strstr (run.out, "pong") != NULL);
    CHECK (strstr (run.out, "ledgerd " LEDGER_VERSION) != NULL);
    CHECK_STR (run.err, "");
    s_run_free (&run);

    /*  Options after the command, and the endpoint from the environment. */
    char env [128];
    snprintf (env, sizeof (env), "LEDGER_ENDPOINT=%s", harness_endpoint (worker));
    const char *const envs [] = { env, NULL };
    char *argv [] = { NULL, (char *) "ping", (char *) "--timeout-ms", (char *) "2000", (char *) "--retries=1", NULL };
    child_t child;
    CHECK_INT (s_child_start (&child, NULL, envs, argv), 0);
    CHECK_INT (s_child_finish (&child, &run), 0);
    CHECK (strstr (run.out, harness_endpoint (worker)) != NULL);
    s_run_free (&run);

    CHECK_INT (CTL (&run, worker, "stats", "--format", "json"), 0);
    json_t *stats = s_json_line (run.out, 0);
    CHECK (harness_int (stats, "batches_ok") >= 1);
    CHECK (json_is_object (harness_get (stats, "batches_failed")));
    json_decref (stats);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "stats", "--format", "csv"), 0);
    CHECK (strncmp (run.out, "counter,value\n", 14) == 0);
    CHECK (strstr (run.out, "\nbatches_failed.busy,0\n") != NULL);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "stats", "--format", "table"), 0);
    CHECK (strstr (run.out, "uptime_s") != NULL);
    s_run_free (&run);
    CHECK_INT (harness_stop (&worker, false), 0);
}

static void
test_unreachable_worker_is_status_3 (void)
{
    char dir [] = "/tmp/ledgerctl-test-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    char csv [128], batches [128];
    snprintf (csv, sizeof (csv), "%s/rows.csv", dir);
    snprintf (batches, sizeof (batches), "%s/batches.jsonl", dir);
    s_write_file (csv, "date,amount\n2025-01-01,1\n");
    s_write_file (batches, "{\"ops\":[{\"op\":\"sys.ping\"}]}\n{\"ops\":[{\"op\":\"sys.ping\"}]}\n");

    static const char *const commands [] [6] = {
        { "ping" },
        { "stats" },
        { "add", "--amount", "1", "--at", "2025-01-01" },
        { "add-category", "Food" },
        { "get", "txn", "1" },
        { "query" },
        { "import", NULL },     /* the file is filled in below */
        { "submit", NULL },
    };
    for (size_t n = 0; n < sizeof (commands) / sizeof (commands [0]); n++) {
        const char *const *words = commands [n];
        const char *file = strcmp (words [0], "import") == 0? csv: strcmp (words [0], "submit") == 0? batches: NULL;
        run_t run;
        int64_t start = zclock_mono ();
        s_run (&run, NOBODY, NULL, "--timeout-ms", "200", "--retries", "0", words [0],
               file? file: words [1], file? NULL: words [2], words [3], words [4], NULL);
        CHECK_INT (run.status, 3);
        CHECK (zclock_mono () - start < 5000);
        CHECK (strstr (run.err, "outcome unknown after 1 try") != NULL);
        if (strcmp (words [0], "submit") == 0) {
            /*  The reply-shaped line for the batch that got no answer, and
                a note that the next line was not sent. */
            json_t *reply = s_json_line (run.out, 0);
            CHECK_STR (harness_str (reply, "error.class"), "unknown");
            json_decref (reply);
            CHECK_INT (s_count_lines (run.out), 1);
            CHECK (strstr (run.err, "not sent") != NULL);
        }
        else
            CHECK (s_one_error_line (run.err));
        if (run.status != 3 || (strcmp (words [0], "submit") && !s_one_error_line (run.err)))
            fprintf (stderr, "%s: status %d, stderr: %s\n", words [0], run.status, run.err);
        s_run_free (&run);
    }
    /*  Nothing listens: the tries go on for (retries + 1) x timeout, and
        the message says so. */
    run_t run;
    CHECK_INT (s_run (&run, NOBODY, NULL, "ping", "--timeout-ms", "100", "--retries", "2", NULL), 3);
    CHECK (strstr (run.err, "outcome unknown after ") != NULL);
    CHECK (strstr (run.err, "(connection refused)") != NULL);
    s_run_free (&run);
    harness_remove_dir (dir);
}

static void
test_usage_errors_are_status_2 (void)
{
    static const char *const bad [] [7] = {
        { NULL },
        { "frobnicate" },
        { "ping", "extra" },
        { "ping", "--bogus" },
        { "--timeout-ms", "soon", "ping" },
        { "--retries", "-1", "ping" },
        { "get" },
        { "get", "nothing", "1" },
        { "get", "txn" },
        { "get", "txn", "abc" },
        { "get", "txn", "0" },
        { "get", "txn", "1", "--format", "xml" },
        { "add" },
        { "add", "--amount", "1.234" },
        { "add", "--amount", "12,34" },
        { "add", "--amount", "1", "--at", "2025-01-02T10:00:00" },
        { "add", "--amount" },
        { "update", "txn", "1" },
        { "update", "txn", "1", "--desc", "x", "--no-desc" },
        { "update", "txn", "1", "--category", "Food", "--no-category" },
        { "update", "category", "1" },
        { "delete", "txn" },
        { "add-category" },
        { "add-category", "a", "b" },
        { "query", "--limit", "0" },
        { "query", "--page-size", "10001" },
        { "query", "--subcategories" },
        { "query", "--min", "abc" },
        { "import" },
        { "import", "a.csv", "b.csv" },
        { "import", "a.csv", "--batch-size", "0" },
        { "submit", "a", "b" },
    };
    for (size_t n = 0; n < sizeof (bad) / sizeof (bad [0]); n++) {
        run_t run;
        /*  Short timeouts: a case that wrongly reaches for the network
            fails fast (status 3) instead of waiting out the retries. */
        s_run (&run, NOBODY, NULL, "--timeout-ms", "100", "--retries", "0",
               bad [n][0], bad [n][1], bad [n][2], bad [n][3], bad [n][4], bad [n][5], NULL);
        CHECK_INT (run.status, 2);
        CHECK (s_one_error_line (run.err));
        CHECK (strstr (run.err, "--help") != NULL);     /* says where to look */
        CHECK_STR (run.out, "");
        if (run.status != 2 || !s_one_error_line (run.err))
            fprintf (stderr, "case %zu (%s %s): status %d, stderr: %s\n", n, bad [n][0]? bad [n][0]: "",
                     bad [n][0] && bad [n][1]? bad [n][1]: "", run.status, run.err);
        s_run_free (&run);
    }
}

static void
test_help_for_every_command (void)
{
    static const char *const commands [] [2] = {
        { "ping" }, { "stats" }, { "submit" }, { "add-category" }, { "categories" }, { "add" },
        { "get", "txn" }, { "get", "category" }, { "update", "txn" }, { "update", "category" },
        { "delete", "txn" }, { "delete", "category" }, { "query" }, { "import" }, { "report" },
    };
    run_t run;
    CHECK_INT (s_run (&run, NULL, NULL, "--help", NULL), 0);
    for (size_t n = 0; n < sizeof (commands) / sizeof (commands [0]); n++)
        CHECK (strstr (run.out, commands [n][0]) != NULL);
    CHECK (strstr (run.out, "Exit status") != NULL);
    s_run_free (&run);
    for (size_t n = 0; n < sizeof (commands) / sizeof (commands [0]); n++) {
        char usage [64];
        snprintf (usage, sizeof (usage), "usage: ledgerctl %s%s%s", commands [n][0],
                  commands [n][1]? " ": "", commands [n][1]? commands [n][1]: "");
        CHECK_INT (s_run (&run, NULL, NULL, commands [n][0], commands [n][1]? commands [n][1]: "--help",
                          commands [n][1]? "--help": NULL, NULL), 0);
        CHECK (strncmp (run.out, usage, strlen (usage)) == 0);
        CHECK (strstr (run.out, "--endpoint") != NULL);
        CHECK_STR (run.err, "");
        s_run_free (&run);
    }
    CHECK_INT (s_run (&run, NULL, NULL, "get", "--help", NULL), 0);     /* every kind of get */
    CHECK (strstr (run.out, "ledgerctl get txn") && strstr (run.out, "ledgerctl get category"));
    s_run_free (&run);
    /*  The usage line names every option; keygen needs no connection. */
    CHECK_INT (s_run (&run, NULL, NULL, "query", "--help", NULL), 0);
    const char *blank = strstr (run.out, "\n\n");    /* the usage ends at the first blank line */
    char *usage = strndup (run.out, blank? (size_t) (blank - run.out): 0);
    CHECK (strstr (usage, "--page-size") && strstr (usage, "--format") && strstr (usage, "--limit"));
    free (usage);
    s_run_free (&run);
    CHECK_INT (s_run (&run, NULL, NULL, "keygen", "--help", NULL), 0);
    CHECK (strncmp (run.out, "usage: ledgerctl keygen NAME", 28) == 0);
    CHECK (strstr (run.out, "--endpoint") == NULL && strstr (run.out, "--timeout-ms") == NULL);
    s_run_free (&run);
    CHECK_INT (s_run (&run, NULL, NULL, "import", "--help", NULL), 0);
    CHECK (strstr (run.out, "occurred_at") && strstr (run.out, "memo") && strstr (run.out, "midnight UTC"));
    s_run_free (&run);
    CHECK_INT (s_run (&run, NULL, NULL, "--version", NULL), 0);
    CHECK (strstr (run.out, "ledgerctl " LEDGER_VERSION) != NULL);
    s_run_free (&run);
}

static void
test_categories (void)
{
    harness_t *worker = s_worker ();
    if (!worker)
        return;
    run_t run;
    CHECK_INT (CTL (&run, worker, "add-category", "Food"), 0);
    CHECK_STR (run.out, "1\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "add-category", "Groceries", "--parent", "Food"), 0);
    CHECK_STR (run.out, "2\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "add-category", "Bakery", "--parent", "1"), 0);
    CHECK_STR (run.out, "3\n");
    s_run_free (&run);

    CHECK_INT (CTL (&run, worker, "get", "category", "Groceries", "--format", "json"), 0);
    json_t *row = s_json_line (run.out, 0);
    CHECK_INT (harness_int (row, "id"), 2);
    CHECK_STR (harness_str (row, "name"), "Groceries");
    CHECK_STR (harness_str (row, "parent"), "Food");
    CHECK_INT (harness_int (row, "parent_id"), 1);
    json_decref (row);
    s_run_free (&run);

    /*  A duplicate name: refused by the worker, status 1, one line. */
    CHECK_INT (CTL (&run, worker, "add-category", "Food"), 1);
    CHECK (s_one_error_line (run.err));
    CHECK (strstr (run.err, "SQLITE_CONSTRAINT_UNIQUE") != NULL);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "add-category", "Orphan", "--parent", "Nope"), 1);
    CHECK (strstr (run.err, "not_found") != NULL);
    s_run_free (&run);

    /*  Update and delete take a name as well as an id. */
    CHECK_INT (CTL (&run, worker, "update", "category", "Groceries", "--name", "Supermarket"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "update", "category", "3", "--no-parent"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "update", "category", "Food", "--parent", "Supermarket"), 1);
    CHECK (strstr (run.err, "CATEGORY_CYCLE") != NULL);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "get", "category", "2", "--format", "csv"), 0);
    CHECK_STR (run.out, "id,name,parent,parent_id,version\n2,Supermarket,Food,1,2\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "delete", "category", "Food"), 1);     /* still a parent */
    CHECK (s_one_error_line (run.err));
    CHECK_STR (run.err, "ledgerctl delete category: constraint (id): category 1 still has 1 subcategory"
                        " (CATEGORY_IN_USE)\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "update", "category", "Supermarket", "--name", "Shop", "--expect-version", "1"), 4);
    CHECK_STR (run.err, "ledgerctl update category: conflict (expect_version): category 2 is at version 2, not 1"
                        " (VERSION_MISMATCH)\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "delete", "category", "Supermarket", "--expect-version", "1"), 4);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "delete", "category", "Supermarket", "--expect-version", "2"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "get", "category", "Supermarket"), 1);
    CHECK (strstr (run.err, "not_found") != NULL);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "delete", "category", "99"), 1);
    s_run_free (&run);

    CHECK_INT (CTL (&run, worker, "categories", "--format", "csv"), 0);
    CHECK_STR (run.out, "id,name,parent,parent_id,version\n1,Food,,,1\n3,Bakery,,,2\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "categories", "--format", "table"), 0);
    CHECK_STR (run.out, "id  name    parent  version\n 1  Food                  1\n 3  Bakery                2\n(2 rows)\n");
    s_run_free (&run);
    CHECK_INT (harness_stop (&worker, false), 0);
}

static void
test_transactions (void)
{
    harness_t *worker = s_worker ();
    if (!worker)
        return;
    run_t run;
    CHECK_INT (CTL (&run, worker, "add-category", "Food"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "add", "--amount", "-12.34", "--at", "2025-01-02T10:00:00+01:00",
                    "--category", "Food", "--desc", "lunch, with \"friends\""), 0);
    CHECK_STR (run.out, "1\n");
    s_run_free (&run);

    CHECK_INT (CTL (&run, worker, "get", "txn", "1", "--format", "json"), 0);
    json_t *row = s_json_line (run.out, 0);
    CHECK_INT (harness_int (row, "id"), 1);
    CHECK_STR (harness_str (row, "amount"), "-12.34");          /* exact, as text */
    CHECK_STR (harness_str (row, "occurred_at"), "2025-01-02T10:00:00+01:00");
    CHECK_STR (harness_str (row, "category"), "Food");
    CHECK_INT (harness_int (row, "category_id"), 1);
    CHECK_STR (harness_str (row, "description"), "lunch, with \"friends\"");
    CHECK (harness_str (row, "created_at") != NULL);
    json_decref (row);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "get", "txn", "1", "--format", "csv"), 0);
    CHECK (strstr (run.out, "1,2025-01-02T10:00:00+01:00,-12.34,Food,\"lunch, with \"\"friends\"\"\",1,") != NULL);
    s_run_free (&run);

    /*  Without --at: now. A bare date: midnight UTC. */
    CHECK_INT (CTL (&run, worker, "add", "--amount", "7"), 0);
    CHECK_STR (run.out, "2\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "add", "--amount", "0.5", "--at", "2025-01-03", "--category", "1"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "get", "txn", "3", "--format", "json"), 0);
    row = s_json_line (run.out, 0);
    CHECK_STR (harness_str (row, "occurred_at"), "2025-01-03T00:00:00Z");
    CHECK_STR (harness_str (row, "amount"), "0.50");
    json_decref (row);
    s_run_free (&run);

    CHECK_INT (CTL (&run, worker, "update", "txn", "1", "--amount", "5", "--no-desc", "--no-category",
                    "--at", "2025-01-02T11:30:00-05:00"), 0);
    CHECK_STR (run.out, "");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "get", "txn", "1", "--format", "json"), 0);
    row = s_json_line (run.out, 0);
    CHECK_STR (harness_str (row, "amount"), "5.00");
    CHECK_STR (harness_str (row, "occurred_at"), "2025-01-02T11:30:00-05:00");
    CHECK (json_is_null (harness_get (row, "description")));
    CHECK (json_is_null (harness_get (row, "category")));
    json_decref (row);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "update", "txn", "1", "--category", "Food", "--desc", "dinner"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "get", "txn", "1", "--format", "table"), 0);
    CHECK (strstr (run.out, "id  occurred_at") == run.out);
    CHECK (strstr (run.out, "5.00  Food      dinner             3\n(1 row)\n") != NULL);
    s_run_free (&run);

    /*  --expect-version: the version get shows (3, after two updates)
        goes through; a stale one changes nothing and exits 4. */
    CHECK_INT (CTL (&run, worker, "update", "txn", "1", "--amount", "6", "--expect-version", "2"), 4);
    CHECK (s_one_error_line (run.err));
    CHECK_STR (run.err, "ledgerctl update txn: conflict (expect_version): transaction 1 is at version 3, not 2"
                        " (VERSION_MISMATCH)\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "update", "txn", "1", "--amount", "6", "--expect-version", "3"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "get", "txn", "1", "--format", "json"), 0);
    row = s_json_line (run.out, 0);
    CHECK_STR (harness_str (row, "amount"), "6.00");
    CHECK_INT (harness_int (row, "version"), 4);
    json_decref (row);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "delete", "txn", "1", "--expect-version", "3"), 4);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "update", "txn", "1", "--amount", "6", "--expect-version", "0"), 2);
    CHECK (strstr (run.err, "--expect-version") != NULL);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "update", "txn", "1", "--category", "Nope"), 1);
    CHECK (strstr (run.err, "not_found (category)") != NULL);
    s_run_free (&run);

    CHECK_INT (CTL (&run, worker, "delete", "txn", "1", "--expect-version", "4"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "get", "txn", "1"), 1);
    CHECK (s_one_error_line (run.err));
    CHECK (strstr (run.err, "not_found") != NULL);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "delete", "txn", "1"), 1);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "update", "txn", "1", "--amount", "1"), 1);
    s_run_free (&run);
    CHECK_INT (harness_stop (&worker, false), 0);
}

static void
test_query (void)
{
    harness_t *worker = s_worker ();
    if (!worker)
        return;
    char csv [256];
    snprintf (csv, sizeof (csv), "%s/month.csv", harness_dir (worker));
    FILE *file = fopen (csv, "w");
    fprintf (file, "date,amount,description,category\n");
    for (int day = 1; day <= 25; day++)
        fprintf (file, "2025-01-%02dT12:00:00+01:00,-%d.%02d,day %d,%s\n", day, day, day, day,
                 day % 5 == 0? "Bakery": day % 2? "Food": "Rent");
    fprintf (file, "2025-02-01,-1.00,february,Food\n");
    fclose (file);
    run_t run;
    CHECK_INT (CTL (&run, worker, "add-category", "Food"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "add-category", "Bakery", "--parent", "Food"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "import", csv, "--create-categories"), 0);
    s_run_free (&run);

    /*  Every page, in order, none twice. */
    CHECK_INT (CTL (&run, worker, "query", "--format", "json", "--page-size", "4", "--to", "2025-02-01"), 0);
    CHECK_INT (s_count_lines (run.out), 25);
    for (size_t n = 0; n < 25; n++) {
        json_t *row = s_json_line (run.out, n);
        char description [16];
        snprintf (description, sizeof (description), "day %zu", n + 1);
        CHECK_STR (harness_str (row, "description"), description);
        json_decref (row);
    }
    s_run_free (&run);
    CHECK_INT (s_query_count (worker, NULL, NULL), 26);
    CHECK_INT (s_query_count (worker, "--limit", "7"), 7);
    CHECK_INT (s_query_count (worker, "--from", "2025-02-01"), 1);
    CHECK_INT (s_query_count (worker, "--from", "2025-01-10T12:00:00+01:00"), 17);   /* inclusive */

    /*  Categories: by name or id, repeatable, with subcategories. */
    CHECK_INT (CTL (&run, worker, "query", "--format", "json", "--category", "Food", "--to", "2025-02-01"), 0);
    CHECK_INT (s_count_lines (run.out), 10);            /* odd days not divisible by 5 */
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "query", "--format", "json", "--category", "Food", "--subcategories",
                    "--to", "2025-02-01"), 0);
    CHECK_INT (s_count_lines (run.out), 15);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "query", "--format", "json", "--category", "2", "--category", "Rent"), 0);
    CHECK_INT (s_count_lines (run.out), 15);            /* Bakery 5 + Rent 10 */
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "query", "--category", "Nope"), 1);
    CHECK (strstr (run.err, "not_found") != NULL);
    s_run_free (&run);

    /*  Amount bounds are inclusive and exact. */
    CHECK_INT (s_query_count (worker, "--min=-3.03", "--max=-1.01"), 3);  /* days 1, 2, 3 */
    CHECK_INT (s_query_count (worker, "--min=-1.00", "--max=0"), 1);      /* february */
    CHECK_INT (CTL (&run, worker, "query", "--format", "csv", "--min", "0"), 0);
    CHECK_STR (run.out, "id,occurred_at,amount,category,description,category_id,created_at,updated_at,version\n");
    s_run_free (&run);

    /*  An aligned table: a header, the rows, and how many. */
    CHECK_INT (CTL (&run, worker, "query", "--format", "table", "--category", "Bakery"), 0);
    CHECK (strncmp (run.out, "id  occurred_at                amount  category  description  version\n", 69) == 0);
    CHECK (strstr (run.out, " -5.05  Bakery    day 5              1\n") != NULL);
    CHECK (strstr (run.out, "\n(5 rows)\n") != NULL);
    s_run_free (&run);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  report: txn.summary with names, amounts as query prints them; exact
    CSV by category, by month in an offset, rolled up; no bars off a
    terminal. */
static void
test_report (void)
{
    harness_t *worker = s_worker ();
    if (!worker)
        return;
    char csv [256];
    snprintf (csv, sizeof (csv), "%s/report.csv", harness_dir (worker));
    s_write_file (csv, "date,amount,description,category\n"
                       "2025-01-10T12:00:00+01:00,-10.00,a,Food\n"
                       "2025-01-31T23:30:00Z,-2.50,b,Bakery\n"
                       "2025-02-03T09:00:00Z,-4.00,c,Bakery\n"
                       "2025-02-05T09:00:00Z,100.00,d,\n");
    run_t run;
    CHECK_INT (CTL (&run, worker, "add-category", "Food"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "add-category", "Bakery", "--parent", "Food"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "import", csv), 0);
    s_run_free (&run);

    CHECK_INT (CTL (&run, worker, "report"), 0);     /* CSV into a pipe */
    CHECK_STR (run.out, "category,category_id,count,total,min,max\n"
                        ",,1,100.00,100.00,100.00\n"
                        "Food,1,1,-10.00,-10.00,-10.00\n"
                        "Bakery,2,2,-6.50,-4.00,-2.50\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "report", "--by", "both", "--offset", "+01:00", "--format", "csv"), 0);
    CHECK_STR (run.out, "period,category,category_id,count,total,min,max\n"
                        "2025-01,Food,1,1,-10.00,-10.00,-10.00\n"
                        "2025-02,,,1,100.00,100.00,100.00\n"
                        "2025-02,Bakery,2,2,-6.50,-4.00,-2.50\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "report", "--by", "both", "--format", "csv"), 0);
    CHECK_STR (run.out, "period,category,category_id,count,total,min,max\n"
                        "2025-01,Food,1,1,-10.00,-10.00,-10.00\n"
                        "2025-01,Bakery,2,1,-2.50,-2.50,-2.50\n"
                        "2025-02,,,1,100.00,100.00,100.00\n"
                        "2025-02,Bakery,2,1,-4.00,-4.00,-4.00\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "report", "--rollup", "--category", "Food", "--subcategories"), 0);
    CHECK_STR (run.out, "category,category_id,count,total,min,max\n"
                        "Food,1,3,-16.50,-10.00,-2.50\n"
                        "Bakery,2,2,-6.50,-4.00,-2.50\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "report", "--by", "period", "--period", "year", "--format", "json"), 0);
    CHECK_STR (run.out, "{\"period\":\"2025\",\"count\":4,\"total\":\"83.50\",\"min\":\"-10.00\",\"max\":\"100.00\"}\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "report", "--by", "period", "--period", "week", "--from", "2025-02-01",
                    "--min", "0", "--format", "csv"), 0);
    CHECK_STR (run.out, "period,count,total,min,max\n2025-W06,1,100.00,100.00,100.00\n");
    s_run_free (&run);
    /*  A table into a file: names, "(none)", the row count, no bars. */
    CHECK_INT (CTL (&run, worker, "report", "--format", "table"), 0);
    CHECK (strstr (run.out, "(none)") && strstr (run.out, "Bakery") && strstr (run.out, "(3 rows)"));
    CHECK (strstr (run.out, "\xe2\x96\x88") == NULL);
    s_run_free (&run);
    /*  Wrong words and misplaced options are usage errors, one line. */
    static const char *const bad [] [4] = {
        { "--by", "month" }, { "--period", "fortnight" }, { "--by", "period", "--rollup" },
        { "--offset", "+01:00" }, { "--by", "both", "--offset", "1h" }, { "--period", "day" },
    };
    for (size_t n = 0; n < sizeof (bad) / sizeof (bad [0]); n++) {
        CHECK_INT (CTL (&run, worker, "report", bad [n][0], bad [n][1], bad [n][2], bad [n][3]), 2);
        CHECK (s_one_error_line (run.err));
        s_run_free (&run);
    }
    CHECK_INT (harness_stop (&worker, false), 0);
}

static void
test_submit (void)
{
    harness_t *worker = s_worker ();
    if (!worker)
        return;
    char input [256];
    snprintf (input, sizeof (input), "%s/batches.jsonl", harness_dir (worker));
    s_write_file (input,
        "{\"ops\":[{\"op\":\"category.create\",\"name\":\"Food\"},"
        "{\"op\":\"txn.create\",\"amount\":\"-1.50\",\"occurred_at\":\"2025-01-01T08:00:00Z\",\"category\":{\"ref\":0}}]}\n"
        "\n"
        "{\"v\":1,\"ops\":[{\"op\":\"txn.get\",\"id\":1}]}\n");
    run_t run;
    CHECK_INT (CTL (&run, worker, "submit", input), 0);
    CHECK_INT (s_count_lines (run.out), 2);             /* the blank line is skipped */
    json_t *reply = s_json_line (run.out, 0);
    CHECK_INT (harness_bool (reply, "ok"), 1);
    CHECK_INT (harness_int (reply, "results.1.id"), 1);
    json_decref (reply);
    reply = s_json_line (run.out, 1);
    CHECK_INT (harness_int (reply, "results.0.row.amount"), -150);
    json_decref (reply);
    CHECK_STR (run.err, "");
    s_run_free (&run);

    /*  From stdin: a failing batch, a line that is not a batch, an
        independent batch with one failed op, a replayed key; status 1,
        and every line still answered in order. */
    s_write_file (input,
        "{\"ops\":[{\"op\":\"category.create\",\"name\":\"Food\"}]}\n"
        "this is not json\n"
        "{\"mode\":\"independent\",\"ops\":[{\"op\":\"txn.get\",\"id\":99},{\"op\":\"sys.ping\"}]}\n"
        "{\"key\":\"k-1\",\"ops\":[{\"op\":\"category.create\",\"name\":\"Rent\"}]}\n"
        "{\"key\":\"k-1\",\"ops\":[{\"op\":\"category.create\",\"name\":\"Rent\"}]}\n");
    CHECK_INT (CTL_IN (&run, worker, input, "submit"), 1);
    CHECK_INT (s_count_lines (run.out), 5);
    reply = s_json_line (run.out, 0);
    CHECK_STR (harness_str (reply, "error.code"), "SQLITE_CONSTRAINT_UNIQUE");
    json_decref (reply);
    reply = s_json_line (run.out, 1);
    CHECK_INT (harness_bool (reply, "ok"), 0);
    CHECK_STR (harness_str (reply, "error.code"), "BAD_BATCH");
    CHECK (strstr (harness_str (reply, "error.message"), "line 2") != NULL);
    json_decref (reply);
    reply = s_json_line (run.out, 2);
    CHECK_INT (harness_int (reply, "failed"), 1);
    CHECK_STR (harness_str (reply, "results.0.error.class"), "not_found");
    json_decref (reply);
    reply = s_json_line (run.out, 3);
    CHECK_INT (harness_int (reply, "results.0.id"), 2);
    json_decref (reply);
    reply = s_json_line (run.out, 4);
    CHECK_INT (harness_int (reply, "results.0.id"), 2);
    CHECK_INT (harness_bool (reply, "replayed"), 1);
    json_decref (reply);
    CHECK_INT (s_count_lines (run.err), 3);             /* one line per failed batch */
    s_run_free (&run);

    CHECK_INT (CTL (&run, worker, "submit", "/nonexistent/batches.jsonl"), 1);
    CHECK (s_one_error_line (run.err));
    s_run_free (&run);
    CHECK_INT (harness_stop (&worker, false), 0);
}

static void
test_import_sample (void)
{
    harness_t *worker = s_worker ();
    if (!worker)
        return;
    /*  The README's quick start, word for word. */
    run_t run;
    CHECK_INT (CTL (&run, worker, "import", SAMPLE_CSV_PATH), 1);      /* its categories do not exist yet */
    CHECK (s_one_error_line (run.err));
    CHECK (strstr (run.err, "sample.csv:2: not_found (category)") != NULL);
    CHECK (strstr (run.err, "--create-categories") != NULL);
    s_run_free (&run);
    CHECK_INT (s_query_count (worker, NULL, NULL), 0);

    CHECK_INT (CTL (&run, worker, "import", SAMPLE_CSV_PATH, "--create-categories"), 0);
    CHECK (strstr (run.out, "sample.csv: 40 rows, 40 new, 0 already in the ledger; 1 batch; 13 categories created")
           != NULL);
    CHECK_STR (run.err, "");            /* no progress bar when stderr is no terminal */
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "query", "--from", "2025-01-01", "--to", "2025-02-01", "--category", "Food",
                    "--format", "csv"), 0);
    CHECK_INT (s_count_lines (run.out), 1 + 20);
    CHECK (strstr (run.out, ",-3.40,Food,Espresso at Café Central,") != NULL);
    s_run_free (&run);

    /*  Again: the batch is the same batch, answered from the idempotency
        log as the README says -- a replay, not a failure -- and nothing
        is added. */
    CHECK_INT (CTL (&run, worker, "import", SAMPLE_CSV_PATH, "--create-categories"), 0);
    CHECK (strstr (run.out, "sample.csv: 40 rows, 0 new, 40 already in the ledger; 1 batch, "
                            "1 answered from the idempotency log;") != NULL);
    s_run_free (&run);
    CHECK_INT (s_query_count (worker, NULL, NULL), 40);
    CHECK_INT (CTL (&run, worker, "stats", "--format", "json"), 0);
    json_t *stats = s_json_line (run.out, 0);
    CHECK_INT (harness_int (stats, "replays"), 1);
    CHECK_INT (harness_int (stats, "batches_failed.invalid"), 0);
    json_decref (stats);
    s_run_free (&run);

    /*  What query prints as CSV imports again (into another ledger). */
    CHECK_INT (CTL (&run, worker, "query", "--format", "csv"), 0);
    char exported [256];
    snprintf (exported, sizeof (exported), "%s/exported.csv", harness_dir (worker));
    s_write_file (exported, run.out);
    s_run_free (&run);
    harness_t *other = s_worker ();
    if (other) {
        CHECK_INT (CTL (&run, other, "import", exported, "--create-categories"), 0);
        s_run_free (&run);
        CHECK_INT (s_query_count (other, "--category", "Food"), 20);
        CHECK_INT (harness_stop (&other, false), 0);
    }
    CHECK_INT (harness_stop (&worker, false), 0);
}

static void
test_import_stops_at_the_failing_line (void)
{
    harness_t *worker = s_worker ();
    if (!worker)
        return;
    char csv [256];
    snprintf (csv, sizeof (csv), "%s/rows.csv", harness_dir (worker));
    run_t run;

    /*  A bad row is found before anything is sent. */
    s_write_file (csv, "date,amount,category\n2025-01-01,1,Food\n2025-01-02,1,Food\n2025-01-03,1.5x,Food\n");
    CHECK_INT (CTL (&run, worker, "import", csv, "--create-categories"), 1);
    CHECK (s_one_error_line (run.err));
    CHECK (strstr (run.err, "line 4: amount \"1.5x\"") != NULL);
    s_run_free (&run);
    CHECK_INT (s_query_count (worker, NULL, NULL), 0);

    /*  The worker refuses a row of batch 3 (lines 6 and 7): batches 1 and
        2 are in, nothing of batch 3 or after, and the message names line
        7 -- the row, not the batch. */
    CHECK_INT (CTL (&run, worker, "add-category", "Food"), 0);
    s_run_free (&run);
    s_write_file (csv, "date,amount,category\n"
                       "2025-01-01,1,Food\n2025-01-02,1,Food\n"
                       "2025-01-03,1,Food\n2025-01-04,1,Food\n"
                       "2025-01-05,1,Food\n2025-01-06,1,Missing\n"
                       "2025-01-07,1,Food\n");
    CHECK_INT (CTL (&run, worker, "import", csv, "--batch-size", "2"), 1);
    CHECK (s_one_error_line (run.err));
    CHECK (strstr (run.err, "rows.csv:7: not_found (category)") != NULL);
    CHECK (strstr (run.err, "the 4 rows before line 6 are imported") != NULL);
    s_run_free (&run);
    CHECK_INT (s_query_count (worker, NULL, NULL), 4);

    /*  With --create-categories the same file goes in, and only the rows
        not yet in are added. */
    CHECK_INT (CTL (&run, worker, "import", csv, "--batch-size", "2", "--create-categories"), 0);
    CHECK (strstr (run.out, "rows.csv: 7 rows, 3 new, 4 already in the ledger; 4 batches, "
                            "2 answered from the idempotency log; 1 category created") != NULL);
    s_run_free (&run);
    CHECK_INT (s_query_count (worker, NULL, NULL), 7);
    CHECK_INT (s_query_count (worker, "--category", "Missing"), 1);

    CHECK_INT (CTL (&run, worker, "import", "/nonexistent/rows.csv"), 1);
    CHECK (strstr (run.err, "cannot read /nonexistent/rows.csv") != NULL);
    s_run_free (&run);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  Rows already in the ledger are never added again: whatever the batch
    size, whichever file they came in. */
static void
test_import_recognises_rows_already_in (void)
{
    harness_t *worker = s_worker ();
    if (!worker)
        return;
    char csv [256], overlap [256];
    snprintf (csv, sizeof (csv), "%s/year.csv", harness_dir (worker));
    snprintf (overlap, sizeof (overlap), "%s/overlap.csv", harness_dir (worker));
    /*  1200 rows, every row twice over (two equal payments on one day are
        two rows), then a file that overlaps its last 400 and adds 100. */
    FILE *file = fopen (csv, "w");
    FILE *other = fopen (overlap, "w");
    fprintf (file, "date,amount,description\n");
    fprintf (other, "date,amount,description\n");
    for (int n = 0; n < 1300; n++) {
        char row [100];
        snprintf (row, sizeof (row), "2025-%02d-%02d,-%d.%02d,shop %d\n", 1 + n / 200 % 12, 1 + n / 2 % 28,
                  n / 2 % 40, n / 2 % 100, n / 2);
        if (n < 1200)
            fputs (row, file);
        if (n >= 800)
            fputs (row, other);
    }
    fclose (file);
    fclose (other);
    run_t run;
    CHECK_INT (CTL (&run, worker, "import", csv, "--batch-size", "300"), 0);
    CHECK (strstr (run.out, "year.csv: 1200 rows, 1200 new, 0 already in the ledger; 4 batches;") != NULL);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "import", csv, "--batch-size", "1000"), 0);
    CHECK (strstr (run.out, "year.csv: 1200 rows, 0 new, 1200 already in the ledger; 2 batches;") != NULL);
    s_run_free (&run);
    CHECK_INT (s_query_count (worker, "--page-size", "5000"), 1200);
    CHECK_INT (CTL (&run, worker, "import", overlap), 0);
    CHECK (strstr (run.out, "overlap.csv: 500 rows, 100 new, 400 already in the ledger; 1 batch;") != NULL);
    s_run_free (&run);
    CHECK_INT (s_query_count (worker, "--page-size", "5000"), 1300);

    /*  A bank's own ids, in an external_id column, name the rows instead:
        the same payment twice under two ids is two rows, and the ids are
        kept. */
    s_write_file (csv, "date,amount,description,external_id\n"
                       "2025-03-01,-1.00,kiosk,tx-1\n2025-03-01,-1.00,kiosk,tx-2\n");
    CHECK_INT (CTL (&run, worker, "import", csv), 0);
    CHECK (strstr (run.out, "2 rows, 2 new, 0 already in the ledger") != NULL);
    s_run_free (&run);
    s_write_file (csv, "date,amount,description,external_id\n"
                       "2025-03-01,-1.00,kiosk,tx-2\n2025-03-02,-2.00,kiosk,tx-3\n");
    CHECK_INT (CTL (&run, worker, "import", csv), 0);
    CHECK (strstr (run.out, "2 rows, 1 new, 1 already in the ledger") != NULL);
    s_run_free (&run);
    CHECK_INT (s_query_count (worker, "--page-size", "5000"), 1303);
    s_write_file (csv, "date,amount,external_id\n2025-03-01,1,0123456789012345678901234567890123456789"
                       "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890\n");
    CHECK_INT (CTL (&run, worker, "import", csv), 1);
    CHECK (strstr (run.err, "line 2: the external_id is longer than 128 bytes") != NULL);
    s_run_free (&run);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  Write a new certificate pair as dir/name and dir/name_secret, with
    `ledgerctl keygen`, which must refuse to overwrite it afterwards. */
static void
s_keygen (const char *dir, const char *name)
{
    char path [400];
    snprintf (path, sizeof (path), "%s/%s", dir, name);
    run_t run;
    CHECK_INT (s_run (&run, NULL, NULL, "keygen", path, NULL), 0);
    CHECK (strstr (run.out, "public key: ") != NULL);
    s_run_free (&run);
    zcert_t *cert = zcert_load (path);
    CHECK (cert != NULL);
    zcert_destroy (&cert);
    CHECK_INT (s_run (&run, NULL, NULL, "keygen", path, NULL), 1);
    CHECK (strstr (run.err, "not overwriting") != NULL);
    s_run_free (&run);
}

/*  A worker that lets in only CURVE clients whose certificate is in
    dir/allowed. Started directly: the harness pings without CURVE, which
    this worker refuses. */
static void
test_curve_options (void)
{
    char dir [] = "/tmp/ledgerctl-curve-XXXXXX";
    CHECK (mkdtemp (dir) != NULL);
    char allowed [300], server [300], client [300], stranger [300], db [300], log [300];
    snprintf (allowed, sizeof (allowed), "%s/allowed", dir);
    mkdir (allowed, 0700);
    s_keygen (dir, "server");
    s_keygen (dir, "client");
    s_keygen (dir, "stranger");
    snprintf (server, sizeof (server), "%s/server", dir);
    snprintf (client, sizeof (client), "%s/client", dir);
    snprintf (stranger, sizeof (stranger), "%s/stranger", dir);
    snprintf (db, sizeof (db), "%s/ledger.db", dir);
    snprintf (log, sizeof (log), "%s/ledgerd.log", dir);
    char allowed_cert [400];
    snprintf (allowed_cert, sizeof (allowed_cert), "%s/client.cert", allowed);
    zcert_t *client_public = zcert_load (client);
    zcert_save_public (client_public, allowed_cert);
    zcert_destroy (&client_public);

    char *endpoint = harness_free_endpoint ();
    char *worker_argv [] = { (char *) LEDGERD_PATH, (char *) "--db", db, (char *) "--bind", endpoint,
                             (char *) "--curve-secret", server, (char *) "--curve-allow", allowed, NULL };
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init (&actions);
    posix_spawn_file_actions_addopen (&actions, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    pid_t pid;
    CHECK_INT (posix_spawn (&pid, LEDGERD_PATH, &actions, NULL, worker_argv, environ), 0);
    posix_spawn_file_actions_destroy (&actions);

    /*  Ready when a ping with the right keys gets through (20 tries at most). */
    run_t run = { 0 };
    for (int attempt = 0; attempt < 20; attempt++) {
        s_run_free (&run);
        if (s_run (&run, endpoint, NULL, "--timeout-ms", "500", "--retries", "0",
                   "--curve-secret", client, "--curve-server-key", server, "ping", NULL) == 0)
            break;
    }
    CHECK_INT (run.status, 0);
    s_run_free (&run);
    CHECK_INT (s_run (&run, endpoint, NULL, "add-category", "Secret", "--curve-secret", client,
                      "--curve-server-key", server, NULL), 0);
    CHECK_STR (run.out, "1\n");
    s_run_free (&run);

    /*  The keys from the environment; the server key as Z85 text. */
    zcert_t *server_cert = zcert_load (server);
    char cert_env [400], key_env [100];
    snprintf (cert_env, sizeof (cert_env), "LEDGER_CURVE_SECRET=%s", client);
    snprintf (key_env, sizeof (key_env), "LEDGER_CURVE_SERVER_KEY=%s", zcert_public_txt (server_cert));
    zcert_destroy (&server_cert);
    const char *const envs [] = { cert_env, key_env, NULL };
    char *argv [] = { NULL, (char *) "--endpoint", endpoint, (char *) "categories", (char *) "--format",
                      (char *) "csv", NULL };
    child_t child;
    CHECK_INT (s_child_start (&child, NULL, envs, argv), 0);
    CHECK_INT (s_child_finish (&child, &run), 0);
    CHECK_STR (run.out, "id,name,parent,parent_id,version\n1,Secret,,,1\n");
    s_run_free (&run);

    /*  Refused: no CURVE, or a key the worker does not know. (Several
        tries: libzmq may drop a socket's first monitor events, so the
        library can miss the handshake failure of a single one.) */
    CHECK_INT (s_run (&run, endpoint, NULL, "--timeout-ms", "300", "--retries", "3", "ping", NULL), 3);
    CHECK (strstr (run.err, "authentication failed") != NULL);
    s_run_free (&run);
    /*  A key the worker refuses is a definite refusal, known at the first
        handshake: exit 1 at once, not an unknown outcome after every try. */
    CHECK_INT (s_run (&run, endpoint, NULL, "--timeout-ms", "300", "--retries", "3", "--curve-secret", stranger,
                      "--curve-server-key", server, "add-category", "Intruder", NULL), 1);
    CHECK (strstr (run.err, "authentication failed") != NULL);
    s_run_free (&run);
    int64_t started = zclock_mono ();
    CHECK_INT (s_run (&run, endpoint, NULL, "--curve-secret", stranger, "--curve-server-key", server, "ping", NULL), 1);
    CHECK (zclock_mono () - started < 1500);
    CHECK (strstr (run.err, "authentication failed: the worker refused this client's CURVE key") != NULL);
    CHECK (s_one_error_line (run.err));
    s_run_free (&run);
    /*  Half the keys, or keys that cannot be read: a usage error. */
    CHECK_INT (s_run (&run, endpoint, NULL, "--curve-secret", client, "ping", NULL), 2);
    CHECK (s_one_error_line (run.err));
    s_run_free (&run);
    CHECK_INT (s_run (&run, endpoint, NULL, "--curve-secret", "/nonexistent/cert", "--curve-server-key", server, "ping", NULL), 2);
    CHECK (strstr (run.err, "/nonexistent/cert") != NULL);
    s_run_free (&run);

    kill (pid, SIGTERM);
    int status = -1;
    waitpid (pid, &status, 0);
    CHECK (WIFEXITED (status) && WEXITSTATUS (status) == 0);
    zstr_free (&endpoint);
    harness_remove_dir (dir);
}

#define BIG_ROWS 10000
#define KILL_AFTER_ROWS 3000

static long
s_db_count (sqlite3 *db, const char *sql)
{
    sqlite3_stmt *stmt = NULL;
    long count = -1;
    if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
        count = sqlite3_column_int64 (stmt, 0);
    sqlite3_finalize (stmt);
    return count;
}

static int64_t
s_now_ms (void)
{
    struct timespec now;
    clock_gettime (CLOCK_MONOTONIC, &now);
    return (int64_t) now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

static void
s_pause_ms (int ms)
{
    struct timespec pause = { 0, (long) ms * 1000000L };
    nanosleep (&pause, NULL);
}

/*  Start the import of csv against worker; the caller finishes the child. */
static int
s_start_import (child_t *child, harness_t *worker, const char *csv, const char *timeout_ms, const char *retries)
{
    char *argv [] = {
        NULL, (char *) "--endpoint", (char *) harness_endpoint (worker), (char *) "--timeout-ms", (char *) timeout_ms,
        (char *) "--retries", (char *) retries, (char *) "import", (char *) csv, (char *) "--batch-size", (char *) "100",
        (char *) "--create-categories", NULL
    };
    return s_child_start (child, NULL, NULL, argv);
}

/*  Wait until the ledger holds at least rows transactions, or the import
    ends, or 60 s pass. Then stop the importer (SIGSTOP: it sends nothing
    more, so the worker finishes at most the batch in flight), take the
    write lock, so the worker can commit nothing more, SIGKILL the worker,
    and let the importer go on to find it gone. Taking the lock alone is a
    race with an importer that sends its next batch the moment a reply
    comes: SQLite's busy handler may keep missing the gaps until the
    import is done. Returns the rows in the ledger at the kill, or -1. */
static long
s_kill_midway (harness_t *worker, child_t *import, long rows)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2 (harness_db_path (worker), &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        sqlite3_close (db);
        return -1;
    }
    sqlite3_busy_timeout (db, 10000);
    int64_t deadline = s_now_ms () + 60000;
    long count = 0;
    while (count < rows && s_now_ms () < deadline && waitpid (import->pid, NULL, WNOHANG) == 0) {
        count = s_db_count (db, "SELECT count(*) FROM txn");
        if (count < rows)
            s_pause_ms (2);     /* polling for progress; nothing waits on this pause */
    }
    long at_kill = -1;
    bool stopped = count >= rows && kill (import->pid, SIGSTOP) == 0;
    if (stopped && sqlite3_exec (db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) {
        at_kill = s_db_count (db, "SELECT count(*) FROM txn");
        harness_signal (worker, SIGKILL);
        harness_wait (worker, 10000);
        sqlite3_exec (db, "ROLLBACK", NULL, NULL, NULL);
    }
    else
        fprintf (stderr, "import not seen midway: %ld rows\n", count);
    if (stopped)
        kill (import->pid, SIGCONT);
    sqlite3_close (db);
    return at_kill;
}

static void
test_import_interrupted_by_a_killed_worker (void)
{
    harness_t *worker = harness_start (NULL);   /* --sync full: what a real ledger runs */
    CHECK (worker != NULL);
    if (!worker)
        return;
    char *dir = strdup (harness_dir (worker));
    char csv [256];
    snprintf (csv, sizeof (csv), "%s/big.csv", dir);
    FILE *file = fopen (csv, "w");
    fprintf (file, "date,amount,description,category\n");
    for (int n = 0; n < BIG_ROWS; n++) {
        /*  Categories appear early and one only near the end, so the re-run
            meets batches that created categories, batches that did not, and
            a category first needed after the kill. */
        char category [16];
        if (n >= 9500 && n % 10 == 0)
            snprintf (category, sizeof (category), "Late");
        else
            snprintf (category, sizeof (category), "Cat%d", n % 7);
        fprintf (file, "2025-%02d-%02dT%02d:%02d:00+01:00,-%d.%02d,row %d,%s\n", 1 + n % 12, 1 + n % 28,
                 n % 24, n % 60, n % 500, n % 100, n, category);
    }
    fclose (file);

    /*  Run 1: killed partway. With the worker gone it gives up after its
        retries: status 3, saying how to finish. */
    child_t import;
    CHECK_INT (s_start_import (&import, worker, csv, "1000", "1"), 0);
    long at_kill = s_kill_midway (worker, &import, KILL_AFTER_ROWS);
    run_t run;
    s_child_finish (&import, &run);
    CHECK (at_kill >= KILL_AFTER_ROWS && at_kill < BIG_ROWS);
    printf ("     the worker was killed with %ld of %d rows in\n", at_kill, BIG_ROWS);
    CHECK_INT (run.status, 3);
    CHECK (s_one_error_line (run.err));
    CHECK (strstr (run.err, "run the same command again") != NULL);
    if (run.status != 3)
        fprintf (stderr, "run 1: status %d\nstdout: %s\nstderr: %s\n", run.status, run.out, run.err);
    s_run_free (&run);
    harness_stop (&worker, true);

    /*  Run 2, on a worker restarted on the same database. */
    worker = harness_start_in (dir, NULL);
    CHECK (worker != NULL);
    if (worker) {
        CHECK_INT (s_start_import (&import, worker, csv, "5000", "3"), 0);
        CHECK_INT (s_child_finish (&import, &run), 0);
        /*  Another batch size: no key matches, the worker recognises the
            rows already in by their external_id. */
        CHECK (strstr (run.out, "big.csv: 10000 rows, ") != NULL);
        long added = 0, already = 0;
        const char *counts = strstr (run.out, "10000 rows, ");
        CHECK (counts && sscanf (counts, "10000 rows, %ld new, %ld already", &added, &already) == 2);
        CHECK (already >= at_kill - 1000 && added + already == BIG_ROWS);
        if (run.status)
            fprintf (stderr, "run 2: status %d\nstdout: %s\nstderr: %s\n", run.status, run.out, run.err);
        s_run_free (&run);

        /*  Run 3, after success: everything recognised, nothing added. */
        CHECK_INT (s_start_import (&import, worker, csv, "5000", "3"), 0);
        CHECK_INT (s_child_finish (&import, &run), 0);
        CHECK (strstr (run.out, "10000 rows, 0 new, 10000 already in the ledger; 100 batches, "
                                "100 answered from the idempotency log") != NULL);
        s_run_free (&run);
        CHECK_INT (harness_stop (&worker, true), 0);
    }

    /*  Exactly the file: every row once, every category once. */
    char db_path [300];
    snprintf (db_path, sizeof (db_path), "%s/ledger.db", dir);
    sqlite3 *db = NULL;
    CHECK_INT (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    CHECK_INT (s_db_count (db, "SELECT count(*) FROM txn"), BIG_ROWS);
    CHECK_INT (s_db_count (db, "SELECT count(DISTINCT description) FROM txn"), BIG_ROWS);
    CHECK_INT (s_db_count (db, "SELECT count(*) FROM category"), 8);
    CHECK_INT (s_db_count (db, "SELECT count(*) FROM txn JOIN category ON category.id = txn.category_id "
                               "WHERE category.name = 'Late'"), 50);
    CHECK_INT (s_db_count (db, "SELECT sum(amount) FROM txn WHERE description = 'row 1234'"), -23434);
    sqlite3_close (db);
    harness_remove_dir (dir);
    free (dir);
}

/*  A category whose name is all digits: reachable by name:, an id by id:,
    and bare digits that are also a name refused as ambiguous (issue 12). */
static void
test_digit_category_names (void)
{
    harness_t *worker = s_worker ();
    if (!worker)
        return;
    run_t run;
    CHECK_INT (CTL (&run, worker, "add-category", "Food"), 0);          /* id 1 */
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "add-category", "1"), 0);             /* id 2, named "1" */
    CHECK_STR (run.out, "2\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "add-category", "id:7"), 0);          /* id 3: a new name is as written */
    s_run_free (&run);

    CHECK_INT (CTL (&run, worker, "get", "category", "name:1", "--format", "csv"), 0);
    CHECK_STR (run.out, "id,name,parent,parent_id,version\n2,1,,,1\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "get", "category", "id:1", "--format", "csv"), 0);
    CHECK_STR (run.out, "id,name,parent,parent_id,version\n1,Food,,,1\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "get", "category", "name:id:7", "--format", "csv"), 0);
    CHECK_STR (run.out, "id,name,parent,parent_id,version\n3,id:7,,,1\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "get", "category", "3", "--format", "csv"), 0);   /* no such name: an id */
    CHECK_STR (run.out, "id,name,parent,parent_id,version\n3,id:7,,,1\n");
    s_run_free (&run);

    /*  Bare "1" is id 1 and the name of id 2: refused, wherever it goes,
        before anything is written. */
    static const char *const ambiguous [] [6] = {
        { "get", "category", "1" },
        { "delete", "category", "1" },
        { "update", "category", "1", "--name", "x" },
        { "update", "category", "Food", "--parent", "1" },
        { "add-category", "Sub", "--parent", "1" },
        { "add", "--amount", "1", "--category", "1" },
        { "query", "--category", "Food", "--category", "1" },
    };
    for (size_t n = 0; n < sizeof (ambiguous) / sizeof (ambiguous [0]); n++) {
        const char *const *w = ambiguous [n];
        CHECK_INT (CTL (&run, worker, w [0], w [1], w [2], w [3], w [4], w [5]), 2);
        CHECK (s_one_error_line (run.err));
        CHECK (strstr (run.err, "ambiguous") && strstr (run.err, "id:1") && strstr (run.err, "name:1"));
        CHECK_STR (run.out, "");
        s_run_free (&run);
    }
    CHECK_INT (CTL (&run, worker, "get", "category", "id:x"), 2);
    CHECK (s_one_error_line (run.err));
    s_run_free (&run);
    CHECK_INT (s_query_count (worker, NULL, NULL), 0);
    CHECK_INT (CTL (&run, worker, "categories", "--format", "csv"), 0);
    CHECK_STR (run.out, "id,name,parent,parent_id,version\n1,Food,,,1\n2,1,,,1\n3,id:7,,,1\n");
    s_run_free (&run);

    /*  Every place that takes a category takes name: and id:. */
    CHECK_INT (CTL (&run, worker, "add", "--amount", "-2", "--at", "2025-01-01", "--category", "name:1"), 0);
    CHECK_STR (run.out, "1\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "add", "--amount", "-3", "--at", "2025-01-02", "--category", "id:1"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "update", "txn", "2", "--category", "name:id:7"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "add-category", "Sub", "--parent", "name:1"), 0);    /* id 4 */
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "update", "category", "name:id:7", "--parent", "id:1"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "query", "--format", "csv", "--category", "name:1"), 0);
    CHECK (strstr (run.out, "\n1,2025-01-01T00:00:00Z,-2.00,1,,2,") != NULL);
    CHECK_INT (s_count_lines (run.out), 2);
    s_run_free (&run);
    CHECK_INT (s_query_count (worker, "--category", "name:id:7"), 1);
    CHECK_INT (s_query_count (worker, "--category", "id:1"), 0);
    CHECK_INT (CTL (&run, worker, "categories", "--format", "csv"), 0);
    CHECK_STR (run.out, "id,name,parent,parent_id,version\n1,Food,,,1\n2,1,,,1\n3,id:7,Food,1,2\n4,Sub,1,2,1\n");
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "delete", "category", "name:Sub"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "update", "category", "name:1", "--name", "2024"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "delete", "txn", "1"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "delete", "category", "name:2024"), 0);
    s_run_free (&run);

    /*  A CSV's category column is a name as written: 2024 is the category
        named 2024, also when an id 2024 could exist. */
    char csv [256];
    snprintf (csv, sizeof (csv), "%s/years.csv", harness_dir (worker));
    s_write_file (csv, "date,amount,category\n2025-03-01,-1,2024\n2025-03-02,-2,2024\n2025-03-03,-3,Food\n");
    CHECK_INT (CTL (&run, worker, "import", csv, "--create-categories"), 0);
    s_run_free (&run);
    CHECK_INT (s_query_count (worker, "--category", "name:2024"), 2);
    CHECK_INT (CTL (&run, worker, "query", "--category", "2024"), 2);  /* the name exists now */
    CHECK (strstr (run.err, "ambiguous") != NULL);
    s_run_free (&run);
    CHECK_INT (harness_stop (&worker, false), 0);
}

/*  ping is for health checks: against a worker that never answers it says
    no within about a second by default, and the command line still rules
    (issue 12). */
static void
test_ping_gives_up_within_a_second (void)
{
    zsock_t *silent = zsock_new_router ("tcp://127.0.0.1:*");
    CHECK (silent != NULL);
    if (!silent)
        return;
    const char *endpoint = zsock_endpoint (silent);
    run_t run;
    int64_t start = zclock_mono ();
    CHECK_INT (s_run (&run, endpoint, NULL, "ping", NULL), 3);
    int64_t elapsed = zclock_mono () - start;
    CHECK (elapsed < 3000);
    CHECK (strstr (run.err, "after 1 try") != NULL);
    if (elapsed >= 3000)
        fprintf (stderr, "ping took %lld ms\n", (long long) elapsed);
    s_run_free (&run);

    start = zclock_mono ();
    CHECK_INT (s_run (&run, endpoint, NULL, "ping", "--timeout-ms", "400", "--retries", "3", NULL), 3);
    CHECK (zclock_mono () - start >= 1500);            /* 4 tries of 400 ms */
    s_run_free (&run);

    /*  Several endpoints: each is tried once, so a live second one answers. */
    harness_t *worker = s_worker ();
    if (worker) {
        char endpoints [256];
        snprintf (endpoints, sizeof (endpoints), "%s,%s", endpoint, harness_endpoint (worker));
        start = zclock_mono ();
        CHECK_INT (s_run (&run, endpoints, NULL, "ping", NULL), 0);
        CHECK (zclock_mono () - start < 3000);
        CHECK (strstr (run.out, "pong") != NULL);
        s_run_free (&run);
        CHECK_INT (harness_stop (&worker, false), 0);
    }
    zsock_destroy (&silent);
}

/*  The CLI checks values as the protocol and an import do: a leading + on
    an amount is fine, text must be UTF-8 (issue 12). */
static void
test_cli_values_match_the_protocol (void)
{
    harness_t *worker = s_worker ();
    if (!worker)
        return;
    run_t run;
    CHECK_INT (CTL (&run, worker, "add", "--amount=+5", "--at", "2025-01-01"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "update", "txn", "1", "--amount", "+7.25"), 0);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "get", "txn", "1", "--format", "json"), 0);
    json_t *row = s_json_line (run.out, 0);
    CHECK_STR (harness_str (row, "amount"), "7.25");
    json_decref (row);
    s_run_free (&run);
    CHECK_INT (CTL (&run, worker, "add", "--amount", "+-5"), 2);
    s_run_free (&run);

    static const char *const bad_text [] [6] = {
        { "add", "--amount", "1", "--desc", "caf\xe9" },
        { "update", "txn", "1", "--desc", "\xff" },
        { "add-category", "caf\xe9" },
        { "update", "category", "id:1", "--name", "\xc3" },
        { "get", "category", "caf\xe9" },
    };
    for (size_t n = 0; n < sizeof (bad_text) / sizeof (bad_text [0]); n++) {
        const char *const *w = bad_text [n];
        CHECK_INT (CTL (&run, worker, w [0], w [1], w [2], w [3], w [4], w [5]), 2);
        CHECK (s_one_error_line (run.err));
        CHECK (strstr (run.err, "UTF-8") != NULL);
        s_run_free (&run);
    }
    /*  Nothing of it reached the worker: no request failed there. */
    CHECK_INT (CTL (&run, worker, "stats", "--format", "json"), 0);
    json_t *stats = s_json_line (run.out, 0);
    CHECK_INT (harness_int (stats, "batches_failed.invalid"), 0);
    json_decref (stats);
    s_run_free (&run);

    /*  A refused query prints why, and no header before it. */
    CHECK_INT (CTL (&run, worker, "query", "--format", "csv", "--category", "Nope"), 1);
    CHECK_STR (run.out, "");
    CHECK (s_one_error_line (run.err));
    s_run_free (&run);
    CHECK_INT (harness_stop (&worker, false), 0);
}

int
main (void)
{
    signal (SIGPIPE, SIG_IGN);
    TEST_RUN (test_ping_and_stats);
    TEST_RUN (test_unreachable_worker_is_status_3);
    TEST_RUN (test_usage_errors_are_status_2);
    TEST_RUN (test_help_for_every_command);
    TEST_RUN (test_categories);
    TEST_RUN (test_transactions);
    TEST_RUN (test_query);
    TEST_RUN (test_report);
    TEST_RUN (test_submit);
    TEST_RUN (test_import_sample);
    TEST_RUN (test_import_stops_at_the_failing_line);
    TEST_RUN (test_import_recognises_rows_already_in);
    TEST_RUN (test_curve_options);
    TEST_RUN (test_import_interrupted_by_a_killed_worker);
    TEST_RUN (test_digit_category_names);
    TEST_RUN (test_ping_gives_up_within_a_second);
    TEST_RUN (test_cli_values_match_the_protocol);
    return TEST_DONE ();
}
