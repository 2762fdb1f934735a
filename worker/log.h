/*  log -- one line per event on stderr: timestamp, level, message. */

#ifndef WORKER_LOG_H
#define WORKER_LOG_H

/* Not LOG_INFO and friends: syslog.h (pulled in by czmq.h) defines those. */
typedef enum { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG } log_level_t;

/* Log only events at level or more severe. */
void log_set_level (log_level_t level);

/* Parse "error", "warn", "info" or "debug". Returns 0, or -1 if unknown. */
int log_level_parse (const char *name, log_level_t *level_p);

/* Write one line at level, printf-style. Thread-safe: one write per line. */
void log_msg (log_level_t level, const char *format, ...) __attribute__ ((format (printf, 2, 3)));

#define log_error(...) log_msg (LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg (LOG_LEVEL_WARN,  __VA_ARGS__)
#define log_info(...)  log_msg (LOG_LEVEL_INFO,  __VA_ARGS__)
#define log_debug(...) log_msg (LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
