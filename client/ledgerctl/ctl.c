/*  ctl -- one run of ledgerctl: options every command takes, one-line
    errors, and submitting a batch. */

#include "ctl.h"
#include "ctl_parse.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
    const char *klass = ledger_result_error_class (result);
    bool conflict = klass && strcmp (klass, "conflict") == 0;
    return ctl_fail (ctl, conflict? CTL_EXIT_CONFLICT: CTL_EXIT_FAILED, "%s%s%s%s: %s%s%s%s", klass,
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
