/*  ctl -- what ledgerctl's commands share: options every command takes,
    one-line errors, submitting a batch, and parsing option values. */

#include "ctl.h"
#include "proto_amount.h"
#include "proto_time.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void
s_vprint (ctl_t *ctl, const char *format, va_list args)
{
    fprintf (stderr, "ledgerctl%s%s: ", ctl->name [0]? " ": "", ctl->name);
    vfprintf (stderr, format, args);
}

int
ctl_usage (ctl_t *ctl, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_vprint (ctl, format, args);
    va_end (args);
    fprintf (stderr, " (see ledgerctl%s%s --help)\n", ctl->name [0]? " ": "", ctl->name);
    return CTL_EXIT_USAGE;
}

int
ctl_fail (ctl_t *ctl, int status, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    s_vprint (ctl, format, args);
    va_end (args);
    fputc ('\n', stderr);
    return status;
}

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
ctl_option (ctl_t *ctl, int opt, const char *arg, char **argv)
{
    long value = 0;
    switch (opt) {
        case CTL_OPT_ENDPOINT:
            ctl->endpoint = arg;
            return CTL_CONTINUE;
        case CTL_OPT_TIMEOUT:
            if (ctl_parse_int (ctl, "--timeout-ms", arg, 1, 3600000, &value))
                return CTL_EXIT_USAGE;
            ctl->timeout_ms = (int) value;
            return CTL_CONTINUE;
        case CTL_OPT_RETRIES:
            if (ctl_parse_int (ctl, "--retries", arg, 0, 1000, &value))
                return CTL_EXIT_USAGE;
            ctl->retries = (int) value;
            return CTL_CONTINUE;
        case CTL_OPT_CURVE_CERT:
            ctl->curve_cert = arg;
            return CTL_CONTINUE;
        case CTL_OPT_SERVER_KEY:
            ctl->server_key = arg;
            return CTL_CONTINUE;
        case CTL_OPT_HELP:
        case 'h':
            ctl_print_help (ctl);
            return CTL_EXIT_OK;
        case ':':
            return ctl_usage (ctl, "%s needs a value", argv [optind - 1]);
        case '?':
            if (optopt)
                return ctl_usage (ctl, "unknown option -%c", optopt);
            return ctl_usage (ctl, "unknown option %s", argv [optind - 1]);
        default:
            return ctl_usage (ctl, "unexpected option");
    }
}

ledger_client_t *
ctl_client (ctl_t *ctl)
{
    if (ctl->client)
        return ctl->client;
    if (!ctl->curve_cert != !ctl->server_key) {
        ctl_usage (ctl, "--curve-secret and --curve-server-key go together");
        return NULL;
    }
    ctl->client = ledger_client_new (ctl->endpoint);
    if (!ctl->client) {
        ctl_usage (ctl, "cannot use endpoint \"%s\" (expected e.g. tcp://127.0.0.1:5555)", ctl->endpoint);
        return NULL;
    }
    if (ctl->timeout_ms > 0)
        ledger_client_set_timeout (ctl->client, ctl->timeout_ms);
    if (ctl->retries >= 0)
        ledger_client_set_retries (ctl->client, ctl->retries);
    if (ctl->curve_cert && ledger_client_set_curve (ctl->client, ctl->curve_cert, ctl->server_key)) {
        ctl_usage (ctl, "%s", ledger_client_error (ctl->client));
        ledger_client_destroy (&ctl->client);
    }
    return ctl->client;
}

int
ctl_report (ctl_t *ctl, ledger_result_t *result)
{
    if (ledger_result_status (result) == LEDGER_UNKNOWN)
        return ctl_fail (ctl, CTL_EXIT_UNREACHABLE, "no answer from %s: %s", ctl->endpoint,
                         ledger_result_describe (result));
    const char *field = ledger_result_error_field (result);
    const char *code = ledger_result_error_code (result);
    return ctl_fail (ctl, CTL_EXIT_FAILED, "%s%s%s%s: %s%s%s%s",
                     ledger_result_error_class (result),
                     field? " (": "", field? field: "", field? ")": "",
                     ledger_result_error_message (result),
                     code? " (": "", code? code: "", code? ")": "");
}

int
ctl_submit (ctl_t *ctl, ledger_batch_t **batch_p, ledger_result_t **result_p)
{
    *result_p = NULL;
    ledger_batch_t *batch = *batch_p;
    int rc = CTL_EXIT_OK;
    ledger_client_t *client;
    if (!batch)
        rc = ctl_fail (ctl, CTL_EXIT_FAILED, "out of memory");
    else
    if (ledger_batch_error (batch))
        /*  The library refused an argument (a name too long, ...): the
            command line asked for something the protocol cannot carry. */
        rc = ctl_usage (ctl, "%s", ledger_batch_error (batch));
    else
    if (!(client = ctl_client (ctl)))
        rc = CTL_EXIT_USAGE;
    else {
        ledger_result_t *result = ledger_client_submit (client, batch);
        if (!result)
            rc = ctl_fail (ctl, CTL_EXIT_FAILED, "%s", ledger_client_error (client));
        else
        if (ledger_result_status (result) != LEDGER_OK) {
            rc = ctl_report (ctl, result);
            ledger_result_destroy (&result);
        }
        *result_p = result;
    }
    ledger_batch_destroy (batch_p);
    return rc;
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
    int rc = proto_amount_parse (text, strlen (text), minor_p);
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

ledger_ref_t
ctl_category_ref (const char *text)
{
    errno = 0;
    long long id = ctl_is_id (text)? strtoll (text, NULL, 10): 0;
    if (id > 0 && !errno)
        return ledger_id (id);
    return ledger_name (text);
}

char *
ctl_amount_format (int64_t minor, char buf [32])
{
    /*  Unsigned, so INT64_MIN has a magnitude too. */
    uint64_t magnitude = minor < 0? (uint64_t) -(minor + 1) + 1: (uint64_t) minor;
    snprintf (buf, 32, "%s%" PRIu64 ".%02" PRIu64, minor < 0? "-": "", magnitude / 100, magnitude % 100);
    return buf;
}

table_format_t
ctl_default_format (void)
{
    return isatty (STDOUT_FILENO) == 1? TABLE_FORMAT_TABLE: TABLE_FORMAT_CSV;
}
