/*  ctl_commands -- ledgerctl's commands: a row of the command table, and
    every handler, one group per cmd_*.c file.

    main.c holds the table itself; it finds the row the command line names
    and calls its handler with the run context and the command's arguments
    (its last command word as argv [0], as getopt wants). */

#ifndef CTL_COMMANDS_H
#define CTL_COMMANDS_H

#include "ctl.h"

#include <stdbool.h>

/* Run one command. Returns the exit status (CTL_EXIT_*). */
typedef int (ctl_handler_t) (ctl_t *ctl, int argc, char **argv);

/* One row of the command table; every string is static. */
struct _ctl_command_t {
    const char *verb;           /* "get" */
    const char *noun;           /* "txn", or NULL for a one-word command */
    ctl_handler_t *handler;
    const char *synopsis;       /* arguments after the command words */
    const char *summary;        /* one line for `ledgerctl --help` */
    const char *help;           /* the options, for `ledgerctl CMD --help` */
    bool offline;               /* needs no worker: its help shows no connection options */
};

/* cmd_sys.c */
int ctl_cmd_ping (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_stats (ctl_t *ctl, int argc, char **argv);
/* cmd_submit.c */
int ctl_cmd_submit (ctl_t *ctl, int argc, char **argv);
/* cmd_category.c */
int ctl_cmd_category_add (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_category_list (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_category_get (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_category_update (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_category_delete (ctl_t *ctl, int argc, char **argv);
/* cmd_txn.c */
int ctl_cmd_txn_add (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_txn_get (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_txn_update (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_txn_delete (ctl_t *ctl, int argc, char **argv);
/* cmd_query.c */
int ctl_cmd_query (ctl_t *ctl, int argc, char **argv);
/* cmd_report.c */
int ctl_cmd_report (ctl_t *ctl, int argc, char **argv);
/* cmd_import.c */
int ctl_cmd_import (ctl_t *ctl, int argc, char **argv);
/* cmd_backup.c */
int ctl_cmd_backup (ctl_t *ctl, int argc, char **argv);
/* cmd_keygen.c */
int ctl_cmd_keygen (ctl_t *ctl, int argc, char **argv);
/* cmd_cluster.c */
int ctl_cmd_cluster_status (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_cluster_transfer (ctl_t *ctl, int argc, char **argv);
int ctl_cmd_cluster_remove (ctl_t *ctl, int argc, char **argv);

#endif
