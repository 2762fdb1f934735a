/*  proto_period -- txn.summary's groupings: `by`, `period` and `offset`.

    A period is a span of wall-clock time in one UTC offset: the day, the
    ISO 8601 week (Monday to Sunday, numbered in its ISO week-year), the
    month or the year an instant falls in when read in that offset. Each
    period has a key, an integer that grows with time (so rows read in
    time order arrive period by period), and a label for the wire. Pure
    functions: no locale, no TZ, no allocation. */

#ifndef PROTO_PERIOD_H
#define PROTO_PERIOD_H

#include <stddef.h>
#include <stdint.h>

/* What txn.summary groups by: bits, so "both" has each. */
typedef enum {
    PROTO_BY_CATEGORY = 1,
    PROTO_BY_PERIOD = 2,
    PROTO_BY_BOTH = 3
} proto_by_t;

typedef enum {
    PROTO_PERIOD_DAY,
    PROTO_PERIOD_WEEK,
    PROTO_PERIOD_MONTH,
    PROTO_PERIOD_YEAR
} proto_period_t;

#define PROTO_BY_DEFAULT PROTO_BY_CATEGORY
#define PROTO_PERIOD_DEFAULT PROTO_PERIOD_MONTH

/* Buffer size for a label ("2025-W05", "2025-01-31"), with the NUL. */
#define PROTO_PERIOD_LABEL_MAX 24
/* Buffer size for proto_offset_format ("+05:30", "Z"), with the NUL. */
#define PROTO_OFFSET_MAX 8

/* The wire names ("category", "period", "both"; "day", "week", "month",
   "year"), or NULL for a value that is none of these. */
const char *proto_by_name (int by);
const char *proto_period_name (int period);

/* Read a wire name of len bytes. Return 0 and set *value_p, or -1. */
int proto_by_parse (const char *text, uint32_t len, int *by_p);
int proto_period_parse (const char *text, uint32_t len, int *period_p);

/* Read an offset of len bytes: "Z" (or "z") or "+hh:mm" / "-hh:mm" with
   hh 00..23 and mm 00..59. Returns 0 and sets *minutes_p (east of UTC),
   or -1. */
int proto_offset_parse (const char *text, uint32_t len, int *minutes_p);

/* Write minutes (-1439..1439) as "Z" or "+hh:mm"; returns the length. */
size_t proto_offset_format (int minutes, char *buf /* PROTO_OFFSET_MAX */);

/* The day (days since 1970-01-01) the instant us falls on in the wall
   clock offset_min minutes east of UTC. */
int64_t proto_period_day (int64_t us, int offset_min);

/* The key of the period of kind period that holds day. Keys of one kind
   grow with the day. */
int64_t proto_period_key (int period, int64_t day);

/* Write the label of the period of kind period with key: "2025-01-31",
   "2025-W05", "2025-01", "2025". Returns the length. */
size_t proto_period_label (int period, int64_t key, char *buf /* PROTO_PERIOD_LABEL_MAX */);

#endif
