/*  Integration: the real ledgerd's log on stderr. With --log-format json
    every line it writes -- start, a refused request whose field name holds
    a control character, a quote, a backslash and a newline, the drain
    and the stop -- is one JSON object with time, level, event and msg; by
    default, and with --log-format text, the lines are the text lines they
    always were. The harness appends the worker's stderr to ledgerd.log in
    its directory, with lines of its own that start "== harness:". */

#include "testing.h"
#include "harness_files.h"
#include "harness_wire.h"
#include "worker_harness.h"

#include <jansson.h>
#include <regex.h>
#include <stdlib.h>

static bool
s_matches (const char *text, const char *pattern)
{
    regex_t regex;
    if (regcomp (&regex, pattern, REG_EXTENDED | REG_NOSUB))
        return false;
    bool matches = regexec (&regex, text, 0, NULL, 0) == 0;
    regfree (&regex);
    return matches;
}

/*  The worker's log, without the harness's lines, read whole after it
    stopped (the caller frees it), or NULL. */
static char *
s_worker_lines (const char *dir)
{
    char path [512];
    snprintf (path, sizeof (path), "%s/ledgerd.log", dir);
    FILE *file = fopen (path, "r");
    if (!file)
        return NULL;
    size_t capacity = 1 << 20, size = 0;
    char *text = calloc (1, capacity);
    char line [8192];
    while (text && fgets (line, sizeof (line), file))
        if (strncmp (line, "== harness:", 11) != 0 && size + strlen (line) < capacity) {
            memcpy (text + size, line, strlen (line));
            size += strlen (line);
        }
    fclose (file);
    return text;
}

/*  A request that the worker refuses and logs at debug: sys.ping with an
    unknown field named "bad\x01\"\\\n" (a control character, a quote, a
    backslash, a newline), as raw msgpack. The decoder refuses invalid
    UTF-8 before it names a field; test_log covers those bytes. */
static void
s_send_bad_field (harness_t *worker)
{
    static const char request [] =
        "\x83" "\xa1" "v" "\x01" "\xa2" "id" "\x07" "\xa3" "ops" "\x91"
        "\x82" "\xa2" "op" "\xa8" "sys.ping" "\xa7" "bad\x01\"\\\n" "\x01";
    zsock_t *req = harness_req (worker);
    json_t *reply = req? harness_call_raw (req, request, sizeof (request) - 1): NULL;
    CHECK (reply != NULL);
    CHECK_STR (json_string_value (json_object_get (json_object_get (reply, "error"), "code")), "UNKNOWN_FIELD");
    json_decref (reply);
    zsock_destroy (&req);
}

static void
test_json_lines (void)
{
    harness_t *worker = harness_start ("--log-format", "json", "--log-level", "debug", NULL);
    CHECK (worker != NULL);
    if (!worker)
        return;
    s_send_bad_field (worker);
    char *dir = strdup (harness_dir (worker));
    CHECK_INT (harness_stop (&worker, true), 0);
    char *text = s_worker_lines (dir);
    CHECK (text != NULL);
    const char *wanted [] = { "store.new", "worker.listen", "worker.start", "request.refused", "worker.stopping",
                              "store.checkpoint", "worker.stopped" };
    size_t found = 0, lines = 0;
    char *save = NULL;
    for (char *line = text? strtok_r (text, "\n", &save): NULL; line; line = strtok_r (NULL, "\n", &save)) {
        lines++;
        json_error_t error;
        json_t *root = json_loads (line, 0, &error);
        if (!root || !json_is_object (root)) {
            fprintf (stderr, "not a JSON object (%s): %s\n", error.text, line);
            CHECK (false);
            json_decref (root);
            continue;
        }
        const char *time = json_string_value (json_object_get (root, "time"));
        const char *level = json_string_value (json_object_get (root, "level"));
        const char *event = json_string_value (json_object_get (root, "event"));
        CHECK (time && s_matches (time, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]+Z$"));
        CHECK (level && s_matches (level, "^(error|warn|info|debug)$"));
        CHECK (event && s_matches (event, "^[a-z_]+\\.[a-z_]+$"));
        CHECK (json_is_string (json_object_get (root, "msg")));
        if (event && found < sizeof (wanted) / sizeof (wanted [0]) && strcmp (event, wanted [found]) == 0)
            found++;
        if (event && strcmp (event, "request.refused") == 0) {
            /*  The peer's bytes, escaped and read back whole. */
            CHECK_STR (json_string_value (json_object_get (root, "field")), "bad\x01\"\\\n");
            CHECK_STR (json_string_value (json_object_get (root, "code")), "UNKNOWN_FIELD");
            CHECK_STR (json_string_value (json_object_get (root, "class")), "invalid");
        }
        if (event && strcmp (event, "worker.start") == 0) {
            CHECK_STR (json_string_value (json_object_get (root, "sync")), "full");
            CHECK (json_is_integer (json_object_get (root, "schema")));
        }
        json_decref (root);
    }
    /*  Every wanted event, in this order. */
    CHECK_INT (found, sizeof (wanted) / sizeof (wanted [0]));
    CHECK (lines >= sizeof (wanted) / sizeof (wanted [0]));
    free (text);
    harness_remove_dir (dir);
    free (dir);
}

/*  The default and --log-format text: "TIME LEVEL message", no JSON. */
static void
test_text_lines (void)
{
    for (int explicit = 0; explicit < 2; explicit++) {
        harness_t *worker = explicit? harness_start ("--log-format", "text", NULL): harness_start (NULL);
        CHECK (worker != NULL);
        if (!worker)
            return;
        char *dir = strdup (harness_dir (worker));
        CHECK_INT (harness_stop (&worker, true), 0);
        char *text = s_worker_lines (dir);
        CHECK (text != NULL);
        CHECK (text && strstr (text, " info  listening on tcp://127.0.0.1:") != NULL);
        CHECK (text && strstr (text, " info  stopped: database closed\n") != NULL);
        char *save = NULL;
        for (char *line = text? strtok_r (text, "\n", &save): NULL; line; line = strtok_r (NULL, "\n", &save))
            if (!s_matches (line, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
                                  "(error|warn |info |debug) [^{]")) {
                fprintf (stderr, "not a text log line: %s\n", line);
                CHECK (false);
            }
        free (text);
        harness_remove_dir (dir);
        free (dir);
    }
}

int
main (void)
{
    TEST_RUN (test_json_lines);
    TEST_RUN (test_text_lines);
    return TEST_DONE ();
}
