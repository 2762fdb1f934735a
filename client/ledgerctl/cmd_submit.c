/*  cmd_submit -- batches as JSON lines in, replies as JSON lines out.

    Output lines answer input lines one for one (blank input lines aside),
    so a script can pair them without parsing ids. A line that cannot be
    made into a batch gets a reply-shaped error line, so a consumer reads
    one shape only. Batches go one at a time, in order: a later line may
    depend on what an earlier one created. */

#include "ctl_commands.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool
s_blank (const char *line)
{
    for (; *line; line++)
        if (!strchr (" \t\r\n", *line))
            return false;
    return true;
}

/*  A reply-shaped line for a batch the worker never saw. */
static void
s_print_local_error (const char *code, const char *message)
{
    json_t *reply = json_pack ("{s:i, s:b, s:{s:s, s:b, s:n, s:n, s:s, s:s?}}",
                               "v", 1, "ok", 0, "error", "class", "invalid", "retryable", 0, "op", "field",
                               "code", code, "message", message);
    if (!reply)         /* message was not UTF-8 (it quotes the input) */
        reply = json_pack ("{s:i, s:b, s:{s:s, s:b, s:n, s:n, s:s, s:s}}",
                           "v", 1, "ok", 0, "error", "class", "invalid", "retryable", 0, "op", "field",
                           "code", code, "message", "the line is not valid UTF-8");
    json_dumpf (reply, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
    printf ("\n");
    json_decref (reply);
}

/*  Send one line's batch and print its reply. Returns the exit status
    this batch alone would give. */
static int
s_submit_line (ctl_t *ctl, ledger_client_t *client, const char *line, size_t line_no)
{
    char reason [300];
    ledger_batch_t *batch = ledger_batch_from_json (line, reason, sizeof (reason));
    if (!batch) {
        char message [400];
        snprintf (message, sizeof (message), "line %zu: %s", line_no, reason);
        s_print_local_error ("BAD_BATCH", message);
        return ctl_fail (ctl, CTL_EXIT_FAILED, "%s", message);
    }
    ledger_result_t *result = ledger_client_submit (client, batch);
    ledger_batch_destroy (&batch);
    if (!result) {
        char message [400];
        snprintf (message, sizeof (message), "line %zu: %s", line_no, ledger_client_error (client));
        s_print_local_error ("NOT_SENT", message);
        return ctl_fail (ctl, CTL_EXIT_FAILED, "%s", message);
    }
    char *json = ledger_result_json (result);
    if (json)
        printf ("%s\n", json);
    fflush (stdout);
    int status = CTL_EXIT_OK;
    ledger_status_t outcome = ledger_result_status (result);
    if (!json)
        /*  sys.backup_read's bytes: a msgpack bin, which JSON cannot say. */
        status = ctl_fail (ctl, CTL_EXIT_FAILED, "line %zu: the reply cannot be shown as JSON (bytes, as"
                           " sys.backup_read answers: use `ledgerctl backup`; or out of memory)", line_no);
    else
    if (outcome == LEDGER_UNKNOWN)
        status = ctl_fail (ctl, CTL_EXIT_UNREACHABLE, "line %zu: no answer from %s: %s", line_no, ctl->endpoint,
                           ledger_result_describe (result));
    else
    if (outcome == LEDGER_FAILED || ledger_result_failed_count (result) > 0)
        status = ctl_fail (ctl, CTL_EXIT_FAILED, "line %zu: %s", line_no, ledger_result_describe (result));
    free (json);
    ledger_result_destroy (&result);
    return status;
}

int
ctl_cmd_submit (ctl_t *ctl, int argc, char **argv)
{
    static const struct option options [] = { CTL_COMMON_OPTIONS };
    int opt;
    while ((opt = getopt_long (argc, argv, CTL_SHORT_OPTIONS, options, NULL)) != -1) {
        int status = ctl_option (ctl, opt, optarg, argv);
        if (status != CTL_CONTINUE)
            return status;
    }
    if (argc - optind > 1)
        return ctl_usage (ctl, "takes at most one file");
    const char *path = optind < argc? argv [optind]: "-";
    bool from_stdin = strcmp (path, "-") == 0;
    FILE *input = from_stdin? stdin: fopen (path, "r");
    if (!input)
        return ctl_fail (ctl, CTL_EXIT_FAILED, "cannot open %s: %s", path, strerror (errno));
    ledger_client_t *client = ctl_client (ctl);
    if (!client) {
        if (!from_stdin)
            fclose (input);
        return CTL_EXIT_USAGE;
    }

    int status = CTL_EXIT_OK;
    char *line = NULL;
    size_t alloc = 0;
    size_t line_no = 0;
    while (getline (&line, &alloc, input) >= 0) {
        line_no++;
        if (s_blank (line))
            continue;
        int line_status = s_submit_line (ctl, client, line, line_no);
        if (line_status == CTL_EXIT_UNREACHABLE) {
            /*  Every later batch would wait out every retry as well. */
            status = line_status;
            if (getline (&line, &alloc, input) >= 0)
                ctl_fail (ctl, status, "stopped: the lines after line %zu were not sent", line_no);
            break;
        }
        if (line_status != CTL_EXIT_OK)
            status = line_status;
    }
    if (ferror (input))
        status = ctl_fail (ctl, CTL_EXIT_FAILED, "cannot read %s: %s", path, strerror (errno));
    free (line);
    if (!from_stdin)
        fclose (input);
    return status;
}
