/*  Unit: worker/log.c -- the text line as ledgerd always wrote it, and the
    JSON line: always one valid JSON object, whatever bytes the message and
    the fields hold (control characters, invalid UTF-8, quotes), cut short
    with "truncated":true when too long. Stderr is redirected to a file
    while each line is written; jansson, which refuses invalid UTF-8 and
    bad escapes, reads it back. */

#include "log.h"
#include "testing.h"

#include <jansson.h>
#include <regex.h>
#include <stdlib.h>
#include <unistd.h>

/*  What the logging calls between s_capture_begin and s_capture_end wrote
    to stderr. */
static int s_saved_stderr = -1;
static FILE *s_capture;

static void
s_capture_begin (void)
{
    s_capture = tmpfile ();
    fflush (stderr);
    s_saved_stderr = dup (STDERR_FILENO);
    dup2 (fileno (s_capture), STDERR_FILENO);
}

/*  The captured text (the caller frees it). */
static char *
s_capture_end (void)
{
    dup2 (s_saved_stderr, STDERR_FILENO);
    close (s_saved_stderr);
    long size = ftell (s_capture);
    char *text = calloc (1, (size_t) size + 1);
    rewind (s_capture);
    size_t got = fread (text, 1, (size_t) size, s_capture);
    text [got] = 0;
    fclose (s_capture);
    return text;
}

/*  The one JSON line in text, parsed (the caller frees it), or NULL with
    why on stderr. */
static json_t *
s_one_object (const char *text)
{
    size_t length = strlen (text);
    if (length == 0 || text [length - 1] != '\n' || strchr (text, '\n') != text + length - 1) {
        fprintf (stderr, "not one line: [%s]\n", text);
        return NULL;
    }
    json_error_t error;
    json_t *root = json_loadb (text, length - 1, JSON_ALLOW_NUL, &error);
    if (!root || !json_is_object (root)) {
        fprintf (stderr, "not a JSON object (%s): [%s]\n", error.text, text);
        json_decref (root);
        return NULL;
    }
    return root;
}

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

static void
test_text_line_unchanged (void)
{
    log_set_format (LOG_FORMAT_TEXT);
    log_set_level (LOG_LEVEL_INFO);
    s_capture_begin ();
    log_info_with ("worker.listen", LOG_FIELDS (LOG_TEXT ("endpoint", "tcp://x")), "listening on %s", "tcp://x");
    log_warn ("test.warn", "a %d", 1);
    log_debug ("test.debug", "not written at info");
    char *text = s_capture_end ();
    CHECK (s_matches (text, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z info  "
                            "listening on tcp://x\n[0-9T:.-]+Z warn  a 1\n$"));
    free (text);
}

static void
test_json_keys_and_fields (void)
{
    log_set_format (LOG_FORMAT_JSON);
    log_set_level (LOG_LEVEL_DEBUG);
    s_capture_begin ();
    log_debug_with ("worker.start", LOG_FIELDS (LOG_TEXT ("db", "a \"b\" \\c"), LOG_INT ("schema", -4),
                    LOG_BOOL ("curve", true), LOG_TEXT ("none", NULL), LOG_INT ("big", 1LL << 62)),
                    "ledgerd %s", "0.1");
    char *text = s_capture_end ();
    json_t *root = s_one_object (text);
    CHECK (root != NULL);
    if (root) {
        const char *time = json_string_value (json_object_get (root, "time"));
        CHECK (time && s_matches (time, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$"));
        CHECK_STR (json_string_value (json_object_get (root, "level")), "debug");
        CHECK_STR (json_string_value (json_object_get (root, "event")), "worker.start");
        CHECK_STR (json_string_value (json_object_get (root, "msg")), "ledgerd 0.1");
        CHECK_STR (json_string_value (json_object_get (root, "db")), "a \"b\" \\c");
        CHECK_INT (json_integer_value (json_object_get (root, "schema")), -4);
        CHECK (json_is_true (json_object_get (root, "curve")));
        CHECK (json_is_null (json_object_get (root, "none")));
        CHECK_INT (json_integer_value (json_object_get (root, "big")), 1LL << 62);
        CHECK (json_object_get (root, "truncated") == NULL);
        CHECK_INT (json_object_size (root), 9);
    }
    json_decref (root);
    free (text);
    log_set_format (LOG_FORMAT_TEXT);
}

/*  Every byte from 1 to 255, and the invalid forms UTF-8 decoders are
    caught out by: valid characters pass as they are, control characters
    are escaped, anything else becomes U+FFFD, one per bad byte. */
static void
test_json_any_bytes (void)
{
    char all [256];
    for (int n = 1; n < 256; n++)
        all [n - 1] = (char) n;
    all [255] = 0;
    const char *cases [] [2] = {
        { "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80" },
        { "a\x01" "b\n\t\x1F\x7F", "a\x01" "b\n\t\x1F\x7F" },
        { "\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD" },                 /* overlong '/' */
        { "\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },  /* a surrogate */
        { "\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },   /* past U+10FFFF */
        { "x\xE2\x82", "x\xEF\xBF\xBD\xEF\xBF\xBD" },               /* cut short */
        { "\x80z", "\xEF\xBF\xBDz" },
        { all, NULL },
    };
    log_set_format (LOG_FORMAT_JSON);
    log_set_level (LOG_LEVEL_INFO);
    for (size_t n = 0; n < sizeof (cases) / sizeof (cases [0]); n++) {
        s_capture_begin ();
        log_info_with ("test.bytes", LOG_FIELDS (LOG_TEXT ("value", cases [n] [0])), "%s", cases [n] [0]);
        char *text = s_capture_end ();
        json_t *root = s_one_object (text);
        CHECK (root != NULL);
        if (root && cases [n] [1]) {
            CHECK_STR (json_string_value (json_object_get (root, "msg")), cases [n] [1]);
            CHECK_STR (json_string_value (json_object_get (root, "value")), cases [n] [1]);
        }
        /*  Nothing below 0x20 is written raw. */
        for (const char *at = text; *at; at++)
            CHECK (*at == '\n' || (unsigned char) *at >= 0x20);
        json_decref (root);
        free (text);
    }
    log_set_format (LOG_FORMAT_TEXT);
}

/*  A message whose escapes outgrow the line is cut inside its string, at
    a whole escape, and the line says so; the fields after it are left
    out, and the line is still one valid object. */
static void
test_json_cut_short (void)
{
    char controls [1001];
    memset (controls, 1, 1000);
    controls [1000] = 0;
    char quotes [1001];
    memset (quotes, '"', 1000);
    quotes [1000] = 0;
    log_set_format (LOG_FORMAT_JSON);
    const char *messages [] = { controls, quotes };
    for (size_t m = 0; m < 2; m++) {
        s_capture_begin ();
        log_info_with ("test.long", LOG_FIELDS (LOG_TEXT ("field", messages [m]), LOG_TEXT ("tail", messages [m]),
                       LOG_INT ("number", 7)), "%s", messages [m]);
        char *text = s_capture_end ();
        json_t *root = s_one_object (text);
        CHECK (root != NULL);
        CHECK (strlen (text) <= 4096);
        if (root) {
            CHECK (json_is_true (json_object_get (root, "truncated")));
            const char *msg = json_string_value (json_object_get (root, "msg"));
            CHECK (msg && strlen (msg) > 0 && strncmp (msg, messages [m], strlen (msg)) == 0);
            /*  A field cut short keeps its key with a prefix of its value,
                or is null; the number after it is left out. */
            json_t *field = json_object_get (root, "field");
            const char *value = json_string_value (field);
            CHECK (!field || json_is_null (field) || (value && strncmp (value, messages [m], strlen (value)) == 0));
            CHECK (json_object_get (root, "number") == NULL);
        }
        json_decref (root);
        free (text);
    }
    log_set_format (LOG_FORMAT_TEXT);
}

static void
test_level_parse (void)
{
    log_level_t level;
    CHECK_INT (log_level_parse ("warn", &level), 0);
    CHECK_INT (level, LOG_LEVEL_WARN);
    CHECK_INT (log_level_parse ("json", &level), -1);
    log_set_level (LOG_LEVEL_WARN);
    CHECK (log_enabled (LOG_LEVEL_ERROR));
    CHECK (!log_enabled (LOG_LEVEL_INFO));
}

int
main (void)
{
    TEST_RUN (test_text_line_unchanged);
    TEST_RUN (test_json_keys_and_fields);
    TEST_RUN (test_json_any_bytes);
    TEST_RUN (test_json_cut_short);
    TEST_RUN (test_level_parse);
    return TEST_DONE ();
}
