/*  ctl_parse -- the values ledgerctl's options and arguments take: whole
    numbers, ids, amounts, times, output formats, category references.

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

/* A positive id; what names it in the message ("a transaction id"). */
int ctl_parse_id (ctl_t *ctl, const char *what, const char *text, int64_t *id_p);

/* A decimal amount with at most two decimals, as minor units. */
int ctl_parse_amount (ctl_t *ctl, const char *option, const char *text, int64_t *minor_p);

/* --format: table, csv or json. */
int ctl_parse_format (ctl_t *ctl, const char *text, table_format_t *format_p);

/* A timestamp option: RFC 3339 with an offset, or a bare YYYY-MM-DD
   meaning that day's midnight UTC. Fills *time_p (which borrows nothing). */
int ctl_parse_time (ctl_t *ctl, const char *option, const char *text, ledger_time_t *time_p);

/* A category given on the command line: digits are an id, anything else a
   name (borrowed from text). */
ledger_ref_t ctl_category_ref (const char *text);

/* Whether text is all decimal digits (an id rather than a name). */
bool ctl_is_id (const char *text);

#endif
