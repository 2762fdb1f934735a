/*  ctl -- one run of ledgerctl: its context, the exit statuses, the options
    every command takes, one-line errors, and the client batches go through.

    Every command is a handler in main.c's command table (ctl_commands.h).
    It parses its own options with getopt_long, handing anything it does not
    know to ctl_option, parses option values with ctl_parse.h, builds one
    batch with the client library, submits it with ctl_submit, and prints
    (ctl_rows.h). Errors are one line on stderr, made here. */

#ifndef CTL_H
#define CTL_H

#include "ledger.h"

#include <getopt.h>

/* Exit statuses (documented in `ledgerctl --help`). */
#define CTL_EXIT_OK          0   /* everything asked for was done */
#define CTL_EXIT_FAILED      1   /* the worker refused something, or the input data is bad */
#define CTL_EXIT_USAGE       2   /* bad command line */
#define CTL_EXIT_UNREACHABLE 3   /* no reply after every try: outcome unknown */
#define CTL_EXIT_CONFLICT    4   /* --expect-version was stale: read the row again */

/* Returned by ctl_option when parsing goes on. */
#define CTL_CONTINUE (-1)

#define CTL_DEFAULT_ENDPOINT "tcp://127.0.0.1:5555"

typedef struct _ctl_t ctl_t;

/* A row of the command table (ctl_commands.h). */
typedef struct _ctl_command_t ctl_command_t;

/*  The run context. main fills it from the environment and the options
    before the command; the command's own options may change the connection
    fields. Its strings are borrowed from argv and the environment, which
    outlive it. */
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

/* Print the help of the running command on stdout (main.c, which holds the
   help texts). */
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
   "ledgerctl CMD: <what went wrong>" on stderr: CTL_EXIT_CONFLICT for class
   conflict, so that a script can tell "someone changed it first" from any
   other refusal. */
int ctl_report (ctl_t *ctl, ledger_result_t *result);

#endif
