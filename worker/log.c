/*  log -- one line per event on stderr, as text or as a JSON object.

    Text: "2025-01-02T10:00:00.123Z info  message", as ledgerd always wrote.
    JSON: {"time":"2025-01-02T10:00:00.123456Z","level":"info",
    "event":"worker.start","msg":"message",<fields>}. Every string is
    escaped here, byte by byte: what a peer sent can reach a message (an
    unknown field's name), so control characters become \u00XX and bytes
    that are not valid UTF-8 become U+FFFD; the line is always valid JSON.
    A line too long for its buffer is cut inside a string, never in the
    middle of an escape or a character, and ends with "truncated":true. */

#include "log.h"

#include <assert.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int s_level = LOG_LEVEL_INFO;
static atomic_int s_format = LOG_FORMAT_TEXT;
static const char *s_names [] = { "error", "warn", "info", "debug" };

/*  The JSON line's buffer, and what is kept back from it so that a cut
    line can still close its string and its object. */
#define S_JSON_SIZE 4096
#define S_JSON_RESERVE 32

typedef struct {
    char data [S_JSON_SIZE];
    size_t size;
    bool cut;                   /* something did not fit: write nothing more */
} s_json_t;

void
log_set_level (log_level_t level)
{
    atomic_store (&s_level, (int) level);
}

void
log_set_format (log_format_t format)
{
    atomic_store (&s_format, (int) format);
}

bool
log_enabled (log_level_t level)
{
    return (int) level <= atomic_load (&s_level);
}

int
log_level_parse (const char *name, log_level_t *level_p)
{
    for (int level = LOG_LEVEL_ERROR; level <= LOG_LEVEL_DEBUG; level++)
        if (strcmp (name, s_names [level]) == 0) {
            *level_p = (log_level_t) level;
            return 0;
        }
    return -1;
}

/*  Append size bytes whole, or nothing and mark the line cut. */
static void
s_put (s_json_t *json, const char *text, size_t size)
{
    if (json->cut || json->size + size > S_JSON_SIZE - S_JSON_RESERVE) {
        json->cut = true;
        return;
    }
    memcpy (json->data + json->size, text, size);
    json->size += size;
}

/*  Append from the reserve: only the bytes that close a line. */
static void
s_put_closing (s_json_t *json, const char *text)
{
    size_t size = strlen (text);
    assert (json->size + size <= S_JSON_SIZE);
    memcpy (json->data + json->size, text, size);
    json->size += size;
}

/*  The length of the valid UTF-8 character at bytes (1 to 4), or 0 if
    the bytes there are not one: a stray continuation byte, an overlong
    form, a surrogate, past U+10FFFF, or cut short by the end. */
static size_t
s_utf8_length (const uint8_t *bytes, size_t left)
{
    uint8_t lead = bytes [0];
    if (lead < 0x80)
        return 1;
    size_t length = lead >= 0xC2 && lead <= 0xDF? 2: lead >= 0xE0 && lead <= 0xEF? 3: lead >= 0xF0 && lead <= 0xF4? 4: 0;
    if (length == 0 || length > left)
        return 0;
    for (size_t n = 1; n < length; n++)
        if ((bytes [n] & 0xC0) != 0x80)
            return 0;
    uint8_t second = bytes [1];
    if ((lead == 0xE0 && second < 0xA0) || (lead == 0xED && second > 0x9F)
    ||  (lead == 0xF0 && second < 0x90) || (lead == 0xF4 && second > 0x8F))
        return 0;
    return length;
}

/*  Append text as a JSON string. Cut short, it still ends with its quote. */
static void
s_put_string (s_json_t *json, const char *text)
{
    s_put (json, "\"", 1);
    if (json->cut)
        return;
    const uint8_t *bytes = (const uint8_t *) text;
    size_t left = strlen (text);
    while (left && !json->cut) {
        char escaped [8];
        size_t length = s_utf8_length (bytes, left);
        if (length == 0) {
            s_put (json, "\xEF\xBF\xBD", 3);        /* U+FFFD for one bad byte */
            length = 1;
        }
        else
        if (bytes [0] == '"' || bytes [0] == '\\') {
            escaped [0] = '\\';
            escaped [1] = (char) bytes [0];
            s_put (json, escaped, 2);
        }
        else
        if (bytes [0] < 0x20 || bytes [0] == 0x7F) {
            snprintf (escaped, sizeof (escaped), "\\u%04x", bytes [0]);
            s_put (json, escaped, 6);
        }
        else
            s_put (json, (const char *) bytes, length);
        bytes += length;
        left -= length;
    }
    s_put_closing (json, "\"");
}

/*  Append ,"key": as one piece; keys are the callers' literals. */
static void
s_put_key (s_json_t *json, const char *key)
{
    char text [72];
    size_t length = strlen (key);
    assert (length > 0 && length < 64 && strspn (key, "abcdefghijklmnopqrstuvwxyz0123456789_") == length);
    snprintf (text, sizeof (text), ",\"%s\":", key);
    s_put (json, text, length + 4);
}

static void
s_put_field (s_json_t *json, const log_field_t *field)
{
    assert (strcmp (field->key, "time") && strcmp (field->key, "level") && strcmp (field->key, "event")
            && strcmp (field->key, "msg"));
    char number [32];
    s_put_key (json, field->key);
    if (json->cut)
        return;
    size_t before = json->size;
    switch (field->kind) {
        case LOG_FIELD_TEXT:
            if (field->text)
                s_put_string (json, field->text);
            else
                s_put (json, "null", 4);
            break;
        case LOG_FIELD_INT:
            s_put (json, number, (size_t) snprintf (number, sizeof (number), "%lld", field->number));
            break;
        case LOG_FIELD_BOOL:
            s_put (json, field->number? "true": "false", field->number? 4: 5);
            break;
    }
    if (json->cut && json->size == before)
        /*  The key is there and no value began: give it one. */
        s_put_closing (json, "null");
}

/*  The JSON line for one event, into json. */
static void
s_json_line (s_json_t *json, const struct timespec *now, log_level_t level, const char *event,
             const log_field_t *fields, size_t field_count, const char *message)
{
    struct tm tm;
    gmtime_r (&now->tv_sec, &tm);
    char time_text [48];
    size_t size = strftime (time_text, sizeof (time_text), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf (time_text + size, sizeof (time_text) - size, ".%06ldZ", now->tv_nsec / 1000);
    json->size = 0;
    json->cut = false;
    s_put (json, "{\"time\":", 8);
    s_put_string (json, time_text);
    s_put (json, ",\"level\":", 9);
    s_put_string (json, s_names [level]);
    s_put (json, ",\"event\":", 9);
    s_put_string (json, event);
    s_put (json, ",\"msg\":", 7);
    s_put_string (json, message);
    for (size_t n = 0; n < field_count && !json->cut; n++)
        s_put_field (json, &fields [n]);
    if (json->cut)
        s_put_closing (json, ",\"truncated\":true");
    s_put_closing (json, "}\n");
}

/*  The text line, as ledgerd has always written it, into line. Returns
    its length. */
static size_t
s_text_line (char *line, size_t line_size, const struct timespec *now, log_level_t level, const char *message)
{
    struct tm tm;
    gmtime_r (&now->tv_sec, &tm);
    size_t size = strftime (line, line_size, "%Y-%m-%dT%H:%M:%S", &tm);
    int n = snprintf (line + size, line_size - size, ".%03ldZ %-5s %s", now->tv_nsec / 1000000,
                      s_names [level], message);
    size = n < 0? size: size + (size_t) n;
    if (size > line_size - 2)
        size = line_size - 2;
    line [size++] = '\n';
    return size;
}

void
log_event (log_level_t level, const char *event, const log_field_t *fields, size_t field_count,
           const char *format, ...)
{
    if (!log_enabled (level))
        return;
    struct timespec now;
    clock_gettime (CLOCK_REALTIME, &now);
    char message [1024];
    va_list args;
    va_start (args, format);
    vsnprintf (message, sizeof (message), format, args);
    va_end (args);
    /*  One write(2) per line keeps lines whole when threads log at once. */
    ssize_t written;
    if (atomic_load (&s_format) == LOG_FORMAT_JSON) {
        s_json_t json;
        s_json_line (&json, &now, level, event, fields, field_count, message);
        written = write (STDERR_FILENO, json.data, json.size);
    }
    else {
        char line [1100];
        written = write (STDERR_FILENO, line, s_text_line (line, sizeof (line), &now, level, message));
    }
    (void) written;
}
