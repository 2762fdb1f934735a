/*  ctl_parse -- the values ledgerctl's options and arguments take: whole
    numbers, ids, amounts, times, output formats, text. (Category references:
    ctl_category.h.)

    Each parser either fills its out-parameter and returns 0, or prints a
    usage error naming the option (through ctl_usage) and returns
    CTL_EXIT_USAGE, which the command returns as its exit status. Amounts
    and times are checked by proto_amount and proto_time, exactly as the
    worker will check them. */

#ifndef CTL_PARSE_H
#define CTL_PARSE_H

#include "ctl.h"
#include "table.h"

#include <stdbool.h>
#include <stdint.h>

/* A whole number from min to max. */
int ctl_parse_int (ctl_t *ctl, const char *option, const char *text, long min, long max, long *value_p);

/* --expect-version: a row version, 1 or more. */
int ctl_parse_version (ctl_t *ctl, const char *text, int64_t *version_p);

/* A positive id; what names it in the message ("a transaction id"). */
int ctl_parse_id (ctl_t *ctl, const char *what, const char *text, int64_t *id_p);

/* A decimal amount with at most two decimals (a leading + allowed, as in
   an import), as minor units. */
int ctl_parse_amount (ctl_t *ctl, const char *option, const char *text, int64_t *minor_p);

/* --format: table, csv or json. */
int ctl_parse_format (ctl_t *ctl, const char *text, table_format_t *format_p);

/* A timestamp option: RFC 3339 with an offset, or a bare YYYY-MM-DD
   meaning that day's midnight UTC. Fills *time_p (which borrows nothing). */
int ctl_parse_time (ctl_t *ctl, const char *option, const char *text, ledger_time_t *time_p);

/* Text the worker will store (a description, a name): it must be UTF-8,
   as the protocol requires, so the refusal names the option. */
int ctl_parse_text (ctl_t *ctl, const char *option, const char *text);

/* Whether text is all decimal digits. */
bool ctl_is_id (const char *text);

#endif
