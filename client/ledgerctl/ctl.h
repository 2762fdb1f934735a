/*  ctl -- what ledgerctl's commands share: the run context, the exit
    statuses, option handling common to every command, and the few parsers
    and printers several commands need.

    Every command is a handler in main.c's command table. It parses its own
    options with getopt_long, handing anything it does not know to
    ctl_option, builds one batch with the client library, submits it with
    ctl_submit, and prints. Errors are one line on stderr, made here. */

#ifndef CTL_H
#define CTL_H

#include "ledger.h"
#include "table.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

/* Exit statuses (documented in `ledgerctl --help`). */
#define CTL_EXIT_OK          0   /* everything asked for was done */
#define CTL_EXIT_FAILED      1   /* the worker refused something, or the input data is bad */
#define CTL_EXIT_USAGE       2   /* bad command line */
#define CTL_EXIT_UNREACHABLE 3   /* no reply after every try: outcome unknown */

/* Returned by ctl_option when parsing goes on. */
#define CTL_CONTINUE (-1)

#define CTL_DEFAULT_ENDPOINT "tcp://127.0.0.1:5555"

typedef struct _ctl_t ctl_t;

typedef int (ctl_handler_t) (ctl_t *ctl, int argc, char **argv);

/* One row of the command table. */
typedef struct {
    const char *verb;           /* "get" */
    const char *noun;           /* "txn", or NULL for a one-word command */
    ctl_handler_t *handler;
    const char *synopsis;       /* arguments after the command words */
    const char *summary;        /* one line for `ledgerctl --help` */
    const char *help;           /* the options, for `ledgerctl CMD --help` */
} ctl_command_t;

struct _ctl_t {
    const char *endpoint;
    const char *curve_cert;     /* this client's certificate file, or NULL: no CURVE */
    const char *server_key;     /* the worker's public key or certificate file */
    int timeout_ms;             /* -1: the library's default */
    int retries;                /* -1: the library's default */
    const ctl_command_t *command;       /* the one running */
    char name [64];             /* "get txn", for messages */
    ledger_client_t *client;    /* made on first use by ctl_client */
};

/*  Option codes above any character, so they never clash with short ones.
    Every command's option table ends with CTL_COMMON_OPTIONS. */
enum {
    CTL_OPT_ENDPOINT = 256,
    CTL_OPT_TIMEOUT,
    CTL_OPT_RETRIES,
    CTL_OPT_CURVE_CERT,
    CTL_OPT_SERVER_KEY,
    CTL_OPT_HELP,
    CTL_OPT_FIRST_LOCAL         /* commands number their own options from here */
};

#define CTL_COMMON_OPTIONS \
    { "endpoint",   required_argument, NULL, CTL_OPT_ENDPOINT }, \
    { "timeout-ms", required_argument, NULL, CTL_OPT_TIMEOUT }, \
    { "retries",    required_argument, NULL, CTL_OPT_RETRIES }, \
    { "curve-secret", required_argument, NULL, CTL_OPT_CURVE_CERT }, \
    { "curve-server-key", required_argument, NULL, CTL_OPT_SERVER_KEY }, \
    { "help",       no_argument,       NULL, CTL_OPT_HELP }, \
    { NULL, 0, NULL, 0 }

/* The getopt_long short-option string every command uses: no short options
   but -h, and ':' first so a missing value is told apart from an unknown
   option. */
#define CTL_SHORT_OPTIONS ":h"

/* The common part of every command's option loop: the connection options,
   --help, and getopt's complaints (opt '?' or ':'). Returns CTL_CONTINUE
   when parsing goes on, else the exit status to return at once. */
int ctl_option (ctl_t *ctl, int opt, const char *arg, char **argv);

/* Print "ledgerctl CMD: <message> (see ...--help)" on stderr and return
   CTL_EXIT_USAGE. */
int ctl_usage (ctl_t *ctl, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

/* Print "ledgerctl CMD: <message>" on stderr and return status. */
int ctl_fail (ctl_t *ctl, int status, const char *format, ...) __attribute__ ((format (printf, 3, 4)));

/* Print the help of the running command on stdout. */
void ctl_print_help (ctl_t *ctl);

/* The client, made on first use from the connection options. Returns NULL
   (having said why) if the endpoint is malformed or the CURVE keys cannot
   be used. Owned by ctl. */
ledger_client_t *ctl_client (ctl_t *ctl);

/* Submit batch; destroys it and sets *batch_p to NULL. Returns
   CTL_EXIT_OK with the result in *result_p (the caller destroys it), or
   an exit status after printing why on stderr (failed, unreachable, or a
   batch the library refused). */
int ctl_submit (ctl_t *ctl, ledger_batch_t **batch_p, ledger_result_t **result_p);

/* The exit status for a result that is not LEDGER_OK, after printing
   "ledgerctl CMD: <what went wrong>" on stderr. */
int ctl_report (ctl_t *ctl, ledger_result_t *result);

/* Parsers for option values. Each returns 0, or prints a usage error
   naming option and returns CTL_EXIT_USAGE. */
int ctl_parse_int (ctl_t *ctl, const char *option, const char *text, long min, long max, long *value_p);
int ctl_parse_id (ctl_t *ctl, const char *what, const char *text, int64_t *id_p);
int ctl_parse_amount (ctl_t *ctl, const char *option, const char *text, int64_t *minor_p);
int ctl_parse_format (ctl_t *ctl, const char *text, table_format_t *format_p);

/* A timestamp option: RFC 3339 with an offset, or a bare YYYY-MM-DD
   meaning that day's midnight UTC. Fills *time_p (which borrows nothing). */
int ctl_parse_time (ctl_t *ctl, const char *option, const char *text, ledger_time_t *time_p);

/* A category given on the command line: digits are an id, anything else a
   name (borrowed from text). */
ledger_ref_t ctl_category_ref (const char *text);

/* Whether text is all decimal digits (an id rather than a name). */
bool ctl_is_id (const char *text);

/* Format minor units as a decimal ("-12.34", "0.05"); returns buf. */
char *ctl_amount_format (int64_t minor, char buf [32]);

/* The format to print rows in when --format is not given: an aligned table
   on a terminal, CSV otherwise. */
table_format_t ctl_default_format (void);

/* ------------------------------------------------------------------
   Printing transaction and category rows (print_rows.c)
   ------------------------------------------------------------------ */

typedef struct _ctl_names_t ctl_names_t;

/* Category names by id, from op `op` of result (a category.list). The
   names are borrowed from result, which must outlive the table. */
ctl_names_t *ctl_names_new (ledger_result_t *result, size_t op);

/* Destroy the table and set *self_p to NULL. */
void ctl_names_destroy (ctl_names_t **self_p);

/* The name of category id, or NULL if it is not in the table. */
const char *ctl_names_lookup (ctl_names_t *self, int64_t id);

/* A new table for transaction rows / category rows in format, on stdout. */
table_t *ctl_txn_table_new (table_format_t format);
table_t *ctl_category_table_new (table_format_t format);

/* Add one row; names may be NULL (category names are then left empty). */
int ctl_txn_table_add (table_t *table, const ledger_txn_t *txn, ctl_names_t *names);
int ctl_category_table_add (table_t *table, const ledger_category_t *category, ctl_names_t *names);

/* ------------------------------------------------------------------
   Command handlers, one group per file
   ------------------------------------------------------------------ */

int ctl_cmd_ping (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_stats (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_submit (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_category_add (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_category_list (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_category_get (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_category_update (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_category_delete (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_txn_add (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_txn_get (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_txn_update (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_txn_delete (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_query (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_import (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_keygen (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_cluster_status (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_cluster_transfer (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_cluster_remove (ctl_t *ctl, int argc, char **argv);

#endif
