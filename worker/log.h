/*  log -- one line per event on stderr, as text or as a JSON object.

    Every call names its event: a short stable name, "area.what" in
    lower case ("worker.start", "store.io_error"), that a log shipper can
    match on while the message stays free text for people. A call may also
    pass fields, the values the message is made of, for machines:

        log_info_with ("worker.listen", LOG_FIELDS (LOG_TEXT ("endpoint", endpoint)),
                       "listening on %s", endpoint);

    Text lines are "TIME LEVEL message" and show neither the event nor the
    fields (the message already says them). JSON lines are one object:
    {"time", "level", "event", "msg", then the fields}. */

#ifndef WORKER_LOG_H
#define WORKER_LOG_H

#include <stdbool.h>
#include <stddef.h>

/* Not LOG_INFO and friends: syslog.h (pulled in by czmq.h) defines those. */
typedef enum { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG } log_level_t;

typedef enum { LOG_FORMAT_TEXT, LOG_FORMAT_JSON } log_format_t;

typedef enum { LOG_FIELD_TEXT, LOG_FIELD_INT, LOG_FIELD_BOOL } log_field_kind_t;

/* One field of a JSON line. key is a literal of [a-z0-9_], not "time",
   "level", "event" or "msg"; text is borrowed for the call (NULL is null). */
typedef struct {
    const char *key;
    log_field_kind_t kind;
    const char *text;
    long long number;
} log_field_t;

#define LOG_TEXT(key, value) ((log_field_t) { (key), LOG_FIELD_TEXT, (value), 0 })
#define LOG_INT(key, value)  ((log_field_t) { (key), LOG_FIELD_INT, NULL, (long long) (value) })
#define LOG_BOOL(key, value) ((log_field_t) { (key), LOG_FIELD_BOOL, NULL, (value)? 1: 0 })
/* The fields and their count, as log_event's two arguments. */
#define LOG_FIELDS(...) (const log_field_t []) { __VA_ARGS__ }, \
                        sizeof ((const log_field_t []) { __VA_ARGS__ }) / sizeof (log_field_t)

/* Log only events at level or more severe. */
void log_set_level (log_level_t level);

/* Write text lines (the default) or JSON lines from now on. */
void log_set_format (log_format_t format);

/* True if an event at level would be written: to skip work made only for
   the log. */
bool log_enabled (log_level_t level);

/* Parse "error", "warn", "info" or "debug". Returns 0, or -1 if unknown. */
int log_level_parse (const char *name, log_level_t *level_p);

/* Write one line at level: event, field_count fields (fields may be NULL
   when it is 0), and a printf-style message. Thread-safe: one write per line. */
void log_event (log_level_t level, const char *event, const log_field_t *fields, size_t field_count,
                const char *format, ...) __attribute__ ((format (printf, 5, 6)));

#define log_msg(level, event, ...) log_event ((level), (event), NULL, 0, __VA_ARGS__)
#define log_error(event, ...) log_event (LOG_LEVEL_ERROR, (event), NULL, 0, __VA_ARGS__)
#define log_warn(event, ...)  log_event (LOG_LEVEL_WARN,  (event), NULL, 0, __VA_ARGS__)
#define log_info(event, ...)  log_event (LOG_LEVEL_INFO,  (event), NULL, 0, __VA_ARGS__)
#define log_debug(event, ...) log_event (LOG_LEVEL_DEBUG, (event), NULL, 0, __VA_ARGS__)
/* The same with fields: log_info_with (event, LOG_FIELDS (...), format, ...). */
#define log_error_with(event, ...) log_event (LOG_LEVEL_ERROR, (event), __VA_ARGS__)
#define log_warn_with(event, ...)  log_event (LOG_LEVEL_WARN,  (event), __VA_ARGS__)
#define log_info_with(event, ...)  log_event (LOG_LEVEL_INFO,  (event), __VA_ARGS__)
#define log_debug_with(event, ...) log_event (LOG_LEVEL_DEBUG, (event), __VA_ARGS__)

#endif
