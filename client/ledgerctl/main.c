/*  ledgerctl -- the command line for ledgerd.

    The command table below is the whole surface: each command's words, its
    handler, and its help. main parses the connection options that may come
    before the command, finds the command, and hands it the rest of the
    command line; the handler parses its own options (and the connection
    options again, so they work after the command too). */

#include "ctl_commands.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FORMAT_HELP \
    "  --format F         table, csv or json (one object per line); default: table\n" \
    "                     on a terminal, csv otherwise\n"

#define TIME_HELP "\n" \
    "TIME is RFC 3339 with an offset (2025-01-02T10:00:00+01:00, ...Z) or a bare\n" \
    "date (2025-01-02), which means that day's midnight UTC. AMOUNT is a decimal\n" \
    "with at most two decimals (-12.34); negative for money spent.\n"

#define EXPECT_VERSION_HELP \
    "  --expect-version N only if the row is still at version N (as get, categories\n" \
    "                     or query show it); if someone changed it since, nothing\n" \
    "                     is changed and the exit status is 4: read it again\n"

#define CATEGORY_HELP "\n" \
    "A category (C, P, CATEGORY) is id:N for an id or name:TEXT for a name, TEXT\n" \
    "as written (name:2024). Without a prefix, digits are an id and other text a\n" \
    "name; digits that are also a category's name are refused as ambiguous.\n"

static const ctl_command_t s_commands [] = {
    { "ping", NULL, ctl_cmd_ping, "",
      "check that the worker answers; show its version",
      "Waits 1000 ms for an answer and tries each endpoint once, unless\n"
      "--timeout-ms or --retries say otherwise, so a health check gets its no\n"
      "within about a second.\n", false },
    { "stats", NULL, ctl_cmd_stats, "[--format F]",
      "show the worker's counters",
      FORMAT_HELP, false },
    { "submit", NULL, ctl_cmd_submit, "[FILE|-]",
      "send batches written as JSON, one per line; print each reply as JSON",
      "Reads FILE (default: standard input), one batch per line, shaped like a\n"
      "protocol request: {\"ops\": [...], \"mode\": \"atomic\"|\"independent\", \"key\": \"...\"}\n"
      "(\"v\" and \"id\" are optional and ignored). Blank lines are skipped. Each batch\n"
      "is sent in turn and its reply printed as one line of JSON; a line that is\n"
      "not a batch gets a reply-shaped error line. Batches without a key get one,\n"
      "so retries never apply a batch twice. Exit status 0 when every batch and\n"
      "every op succeeded, 1 when any failed, 3 when the worker did not answer\n"
      "(the lines after it are not sent).\n", false },
    { "add-category", NULL, ctl_cmd_category_add, "NAME [--parent P]",
      "create a category; print its id",
      "  --parent P         the parent category\n"
      "NAME is taken as written, digits and prefixes included.\n"
      CATEGORY_HELP, false },
    { "categories", NULL, ctl_cmd_category_list, "[--format F]",
      "list every category",
      FORMAT_HELP, false },
    { "add", NULL, ctl_cmd_txn_add, "--amount AMOUNT [--at TIME] [--category C] [--desc TEXT]",
      "record one transaction; print its id",
      "  --amount AMOUNT    the amount, e.g. -12.34 (required)\n"
      "  --at TIME          when it happened (default: now, in this machine's offset)\n"
      "  --category C       its category\n"
      "  --desc TEXT        a description (also --description)\n"
      TIME_HELP
      CATEGORY_HELP, false },
    { "get", "txn", ctl_cmd_txn_get, "ID [--format F]",
      "show one transaction",
      FORMAT_HELP, false },
    { "get", "category", ctl_cmd_category_get, "CATEGORY [--format F]",
      "show one category",
      FORMAT_HELP
      CATEGORY_HELP, false },
    { "update", "txn", ctl_cmd_txn_update,
      "ID [--amount AMOUNT] [--at TIME] [--category C|--no-category] [--desc TEXT|--no-desc]\n"
      "                       [--expect-version N]",
      "change a transaction",
      "  --amount AMOUNT    a new amount\n"
      "  --at TIME          a new time\n"
      "  --category C       a new category\n"
      "  --no-category      take its category away\n"
      "  --desc TEXT        a new description (also --description)\n"
      "  --no-desc          take its description away\n"
      EXPECT_VERSION_HELP
      TIME_HELP
      CATEGORY_HELP, false },
    { "update", "category", ctl_cmd_category_update,
      "CATEGORY [--name NEW] [--parent P|--no-parent] [--expect-version N]",
      "rename a category or move it under another",
      "  --name NEW         a new name, taken as written\n"
      "  --parent P         a new parent\n"
      "  --no-parent        make it a top-level category\n"
      EXPECT_VERSION_HELP
      CATEGORY_HELP, false },
    { "delete", "txn", ctl_cmd_txn_delete, "ID [--expect-version N]",
      "delete a transaction",
      EXPECT_VERSION_HELP, false },
    { "delete", "category", ctl_cmd_category_delete, "CATEGORY [--expect-version N]",
      "delete a category (one still used by transactions or subcategories is refused)",
      EXPECT_VERSION_HELP
      CATEGORY_HELP, false },
    { "query", NULL, ctl_cmd_query,
      "[--from TIME] [--to TIME] [--category C]... [--subcategories] [--min AMOUNT] [--max AMOUNT] [--limit N]\n"
      "                       [--page-size N] [--format F]",
      "list transactions, oldest first",
      "  --from TIME        from this instant on (inclusive)\n"
      "  --to TIME          up to this instant (exclusive)\n"
      "  --category C       only this category; repeat for several\n"
      "  --subcategories    include the subcategories of every --category\n"
      "  --min AMOUNT       only amounts >= AMOUNT\n"
      "  --max AMOUNT       only amounts <= AMOUNT\n"
      "  --limit N          print at most N rows (default: all, page after page)\n"
      "  --page-size N      rows per request, 1 to 10000 (default 1000)\n"
      FORMAT_HELP
      TIME_HELP
      CATEGORY_HELP, false },
    { "report", NULL, ctl_cmd_report,
      "[--by category|period|both] [--period day|week|month|year] [--offset +hh:mm] [--rollup]\n"
      "                       [--from TIME] [--to TIME] [--category C]... [--subcategories] [--min AMOUNT]\n"
      "                       [--max AMOUNT] [--format F]",
      "count, total, min and max of transactions per category, per period, or both",
      "  --by WHAT          category (default), period, or both\n"
      "  --period P         day, week (ISO, from Monday), month (default) or year;\n"
      "                     only with --by period or both\n"
      "  --offset +hh:mm    the UTC offset whose wall clock periods start in (default Z)\n"
      "  --rollup           a category's row includes its subcategories' transactions\n"
      "  --from TIME        from this instant on (inclusive)\n"
      "  --to TIME          up to this instant (exclusive)\n"
      "  --category C       only this category; repeat for several\n"
      "  --subcategories    include the subcategories of every --category\n"
      "  --min AMOUNT       only amounts >= AMOUNT\n"
      "  --max AMOUNT       only amounts <= AMOUNT\n"
      FORMAT_HELP
      "                     (a table on a terminal ends with a bar of each total)\n"
      TIME_HELP
      CATEGORY_HELP, false },
    { "cluster", "status", ctl_cmd_cluster_status, "[--format F]",
      "show every node of a cluster: id, Raft address, endpoint, role, leader, reachable",
      "Asks the worker at --endpoint (any node) how it sees the cluster. A node that\n"
      "cannot reach the leader shows no leader.\n"
      FORMAT_HELP, false },
    { "cluster", "transfer", ctl_cmd_cluster_transfer, "ID",
      "make node ID the Raft leader (it must be a reachable voter)",
      "", false },
    { "cluster", "remove", ctl_cmd_cluster_remove, "ID",
      "take node ID out of the cluster for good",
      "Do not restart a removed node with its old --data-dir; to bring the machine\n"
      "back, give it a new id and an empty --data-dir and --cluster-join.\n", false },
    { "keygen", NULL, ctl_cmd_keygen, "NAME",
      "write a CURVE certificate pair: NAME (public) and NAME_secret (private)",
      "Give NAME to the worker (its --curve-allow directory) for a client, or to\n"
      "clients (--curve-server-key) for a worker; keep NAME_secret private. Existing\n"
      "files are never overwritten. Needs no worker.\n",
      true },
    { "import", NULL, ctl_cmd_import, "FILE.csv|- [--batch-size N] [--create-categories]",
      "import a bank-statement CSV file",
      "  --batch-size N        rows per batch, 1 to 10000 (default 500); each batch\n"
      "                        is applied whole or not at all\n"
      "  --create-categories   create categories the file names that do not exist\n"
      "\n"
      "The first line names the columns (any case; others are ignored):\n"
      "  date, occurred_at, time or timestamp   TIME (required)\n"
      "  amount                                 AMOUNT (required; a leading + is allowed)\n"
      "  description, desc or memo              text (optional)\n"
      "  category                               a category name, as written (optional)\n"
      "Blanks around values are dropped; an empty description or category means\n"
      "none. Every row is checked before anything is sent. Import stops at the\n"
      "first batch the worker refuses and names the CSV line of the row at fault.\n"
      "A row already in the ledger is never added again, whatever the batch size\n"
      "or file it came in: each row is named by its external_id column (a bank's\n"
      "transaction id) or else by a digest of its date, amount, description and\n"
      "its number among identical rows of the file. The summary says how many\n"
      "rows were new and how many already in. An interrupted import can simply be\n"
      "run again.\n"
      TIME_HELP, false },
    { "backup", NULL, ctl_cmd_backup, "FILE [--chunk-size N] [--force] | --verify FILE",
      "copy a live worker's database into FILE, consistently; or check such a copy",
      "  --chunk-size N     bytes per request, 1 to 1048576 (default 1048576)\n"
      "  --force            replace FILE if it exists (default: refuse)\n"
      "  --verify           check FILE instead: SQLite's integrity check and the\n"
      "                     ledger's schema version; needs no worker\n"
      "  --timeout-ms N     also bounds the snapshot, which the worker answers once it\n"
      "                     has copied the database (default for it: 30 minutes, with\n"
      "                     no retry; the reads keep the usual 5000 ms and retries)\n"
      "\n"
      "The worker takes a snapshot of its database as of one commit (writes go on\n"
      "meanwhile), and ledgerctl reads it in chunks into a temporary file beside\n"
      "FILE, checks its size and SHA-256, syncs it to disk and renames it to FILE:\n"
      "FILE appears whole or not at all, and an interrupted backup (a signal, a\n"
      "worker that dies, an error) leaves no file behind. FILE is a plain SQLite\n"
      "database that `ledgerd --db FILE` serves. Single-node workers only.\n", false },
};

#define COMMAND_COUNT (sizeof (s_commands) / sizeof (s_commands [0]))

static const char s_connection_help [] =
    "Connection options (before or after the command):\n"
    "  --endpoint E       the worker (default: $LEDGER_ENDPOINT, else " CTL_DEFAULT_ENDPOINT ");\n"
    "                     several, separated by commas: one is used, the next\n"
    "                     when it does not answer; a cluster leader is followed\n"
    "  --timeout-ms N     wait this long for a reply before sending again (default 5000)\n"
    "  --retries N        send again this many times after a timeout or a retryable\n"
    "                     error (default 3); retries never apply a batch twice\n"
    "  --curve-secret FILE\n"
    "                     talk CURVE with this client certificate (czmq format: FILE\n"
    "                     and FILE_secret; default $LEDGER_CURVE_SECRET)\n"
    "  --curve-server-key KEY\n"
    "                     the worker's public key (40 Z85 characters) or public\n"
    "                     certificate file (default $LEDGER_CURVE_SERVER_KEY)\n";

static const char s_exit_help [] =
    "Exit status: 0 done; 1 the worker refused the request or the input is bad;\n"
    "2 bad command line; 3 the worker did not answer (the outcome is unknown);\n"
    "4 the row changed since it was read (--expect-version): nothing was changed.\n";

static void
s_print_words (FILE *out, const ctl_command_t *command)
{
    fprintf (out, "%s%s%s", command->verb, command->noun? " ": "", command->noun? command->noun: "");
}

void
ctl_print_help (ctl_t *ctl)
{
    const ctl_command_t *command = ctl->command;
    printf ("usage: ledgerctl ");
    s_print_words (stdout, command);
    /*  The summary is written to follow a command name in a list; as a
        sentence of its own it starts with a capital. */
    printf ("%s%s\n\n%c%s.\n\n", command->synopsis [0]? " ": "", command->synopsis,
            toupper ((unsigned char) command->summary [0]), command->summary + 1);
    if (command->help [0])
        printf ("%s\n", command->help);
    if (!command->offline)
        printf ("%s\n", s_connection_help);
    printf ("%s", s_exit_help);
}

static void
s_print_usage (void)
{
    printf ("usage: ledgerctl [--endpoint E] [--timeout-ms N] [--retries N]\n"
            "                 [--curve-secret FILE --curve-server-key KEY] COMMAND [ARGS]\n\n"
            "The command line for ledgerd, the expense ledger worker.\n\nCommands:\n");
    for (size_t n = 0; n < COMMAND_COUNT; n++) {
        char words [40];
        snprintf (words, sizeof (words), "%s%s%s", s_commands [n].verb,
                  s_commands [n].noun? " ": "", s_commands [n].noun? s_commands [n].noun: "");
        printf ("  %-16s %s\n", words, s_commands [n].summary);
    }
    printf ("\n%s\n%s\nRun `ledgerctl COMMAND --help` for a command's arguments and options.\n",
            s_connection_help, s_exit_help);
}

/*  `get --help` and friends: the help of every command the verb starts. */
static int
s_print_verb_help (ctl_t *ctl, const char *verb)
{
    for (size_t n = 0; n < COMMAND_COUNT; n++)
        if (strcmp (s_commands [n].verb, verb) == 0) {
            ctl->command = &s_commands [n];
            ctl_print_help (ctl);
            printf ("\n");
        }
    return CTL_EXIT_OK;
}

/*  Find the command argv starts with. Returns it and sets *words_p to how
    many arguments named it, or NULL after saying why on stderr (or after
    printing help, with *status_p CTL_EXIT_OK). */
static const ctl_command_t *
s_find (ctl_t *ctl, int argc, char **argv, int *words_p, int *status_p)
{
    const char *verb = argv [0];
    const char *noun = argc > 1? argv [1]: NULL;
    bool verb_known = false;
    *status_p = CTL_EXIT_USAGE;
    for (size_t n = 0; n < COMMAND_COUNT; n++) {
        const ctl_command_t *command = &s_commands [n];
        if (strcmp (command->verb, verb))
            continue;
        verb_known = true;
        if (!command->noun) {
            *words_p = 1;
            return command;
        }
        if (noun && strcmp (command->noun, noun) == 0) {
            *words_p = 2;
            return command;
        }
    }
    if (!verb_known) {
        ctl_usage (ctl, "unknown command \"%s\"", verb);
        return NULL;
    }
    if (noun && (strcmp (noun, "--help") == 0 || strcmp (noun, "-h") == 0)) {
        *status_p = s_print_verb_help (ctl, verb);
        return NULL;
    }
    snprintf (ctl->name, sizeof (ctl->name), "%s", verb);
    ctl_usage (ctl, "say what to %s: txn or category%s%s%s", verb,
               noun? ", not \"": "", noun? noun: "", noun? "\"": "");
    return NULL;
}

int
main (int argc, char *argv [])
{
    ctl_t ctl = { .endpoint = CTL_DEFAULT_ENDPOINT, .timeout_ms = -1, .retries = -1 };
    const char *env = getenv ("LEDGER_ENDPOINT");
    if (env && *env)
        ctl.endpoint = env;
    env = getenv ("LEDGER_CURVE_SECRET");
    if (env && *env)
        ctl.curve_cert = env;
    env = getenv ("LEDGER_CURVE_SERVER_KEY");
    if (env && *env)
        ctl.server_key = env;

    static const struct option options [] = {
        { "version", no_argument, NULL, CTL_OPT_FIRST_LOCAL },
        CTL_COMMON_OPTIONS
    };
    opterr = 0;
    int opt;
    /*  '+': stop at the command; what follows is the command's. */
    while ((opt = getopt_long (argc, argv, "+" CTL_SHORT_OPTIONS, options, NULL)) != -1) {
        if (opt == CTL_OPT_FIRST_LOCAL) {
            printf ("ledgerctl %s (libledger %s)\n", LEDGER_VERSION, LEDGER_CLIENT_VERSION);
            return CTL_EXIT_OK;
        }
        if (opt == CTL_OPT_HELP || opt == 'h') {
            s_print_usage ();
            return CTL_EXIT_OK;
        }
        int status = ctl_option (&ctl, opt, optarg, argv);
        if (status != CTL_CONTINUE)
            return status;
    }
    if (optind >= argc)
        return ctl_usage (&ctl, "no command given");

    int words, status;
    const ctl_command_t *command = s_find (&ctl, argc - optind, argv + optind, &words, &status);
    if (!command)
        return status;
    ctl.command = command;
    snprintf (ctl.name, sizeof (ctl.name), "%s%s%s", command->verb,
              command->noun? " ": "", command->noun? command->noun: "");

    /*  The handler sees its last command word as argv [0], as getopt wants,
        and starts parsing afresh (optind 0 makes glibc reset fully). */
    int first = optind + words - 1;
    optind = 0;
    status = command->handler (&ctl, argc - first, argv + first);
    ledger_client_destroy (&ctl.client);
    return status;
}
