/*  ctl_parse -- the values ledgerctl's options and arguments take. */

#include "ctl_parse.h"
#include "proto_amount.h"
#include "proto_reader.h"
#include "proto_time.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
ctl_parse_int (ctl_t *ctl, const char *option, const char *text, long min, long max, long *value_p)
{
    char *end;
    errno = 0;
    long value = strtol (text, &end, 10);
    if (errno || end == text || *end || value < min || value > max)
        return ctl_usage (ctl, "%s takes a whole number from %ld to %ld, not \"%s\"", option, min, max, text);
    *value_p = value;
    return 0;
}

int
ctl_parse_version (ctl_t *ctl, const char *text, int64_t *version_p)
{
    errno = 0;
    long long version = ctl_is_id (text)? strtoll (text, NULL, 10): 0;
    if (errno || version <= 0)
        return ctl_usage (ctl, "--expect-version takes a row version (1 or more, as get shows it), not \"%s\"", text);
    *version_p = version;
    return 0;
}

bool
ctl_is_id (const char *text)
{
    if (!*text)
        return false;
    for (const char *c = text; *c; c++)
        if (*c < '0' || *c > '9')
            return false;
    return true;
}

int
ctl_parse_id (ctl_t *ctl, const char *what, const char *text, int64_t *id_p)
{
    errno = 0;
    long long id = ctl_is_id (text)? strtoll (text, NULL, 10): 0;
    if (errno || id <= 0)
        return ctl_usage (ctl, "%s must be a positive whole number, not \"%s\"", what, text);
    *id_p = id;
    return 0;
}

int
ctl_parse_amount (ctl_t *ctl, const char *option, const char *text, int64_t *minor_p)
{
    /*  A leading plus, as a CSV import takes it (statements mark credits
        so); the wire has none. */
    const char *digits = text [0] == '+' && text [1] != '-'? text + 1: text;
    int rc = proto_amount_parse (digits, strlen (digits), minor_p);
    if (rc == PROTO_AMOUNT_INEXACT)
        return ctl_usage (ctl, "%s \"%s\" has more than two decimals", option, text);
    if (rc == PROTO_AMOUNT_RANGE)
        return ctl_usage (ctl, "%s \"%s\" is too large", option, text);
    if (rc != PROTO_AMOUNT_OK)
        return ctl_usage (ctl, "%s \"%s\" is not a decimal amount like -12.34", option, text);
    return 0;
}

int
ctl_parse_time (ctl_t *ctl, const char *option, const char *text, ledger_time_t *time_p)
{
    size_t len = strlen (text);
    int64_t us;
    int offset_min = 0;
    if (len == 10 && proto_time_parse_date (text, len, &us) == PROTO_TIME_OK) {
        *time_p = ledger_time_at (us, 0);
        return 0;
    }
    int rc = proto_time_parse (text, len, &us, &offset_min);
    if (rc == PROTO_TIME_NAIVE)
        return ctl_usage (ctl, "%s \"%s\" has no UTC offset: add Z or +hh:mm", option, text);
    if (rc != PROTO_TIME_OK)
        return ctl_usage (ctl, "%s \"%s\" is not YYYY-MM-DD or an RFC 3339 time like 2025-01-02T10:00:00+01:00",
                          option, text);
    *time_p = ledger_time_at (us, offset_min);
    return 0;
}

int
ctl_parse_format (ctl_t *ctl, const char *text, table_format_t *format_p)
{
    if (strcmp (text, "table") == 0)
        *format_p = TABLE_FORMAT_TABLE;
    else
    if (strcmp (text, "csv") == 0)
        *format_p = TABLE_FORMAT_CSV;
    else
    if (strcmp (text, "json") == 0)
        *format_p = TABLE_FORMAT_JSON;
    else
        return ctl_usage (ctl, "--format is table, csv or json, not \"%s\"", text);
    return 0;
}

int
ctl_parse_text (ctl_t *ctl, const char *option, const char *text)
{
    if (!proto_utf8_valid (text, strlen (text)))
        return ctl_usage (ctl, "%s is not valid UTF-8 text", option);
    return 0;
}
