/*  proto_period -- txn.summary's groupings: `by`, `period` and `offset`. */

#include "proto_period.h"
#include "proto_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define US_PER_MINUTE INT64_C(60000000)
#define US_PER_DAY INT64_C(86400000000)

static const char *s_by_names [] = {
    [PROTO_BY_CATEGORY] = "category", [PROTO_BY_PERIOD] = "period", [PROTO_BY_BOTH] = "both"
};

static const char *s_period_names [] = {
    [PROTO_PERIOD_DAY] = "day", [PROTO_PERIOD_WEEK] = "week",
    [PROTO_PERIOD_MONTH] = "month", [PROTO_PERIOD_YEAR] = "year"
};

#define S_COUNT(array) ((int) (sizeof (array) / sizeof ((array) [0])))

const char *
proto_by_name (int by)
{
    return by >= PROTO_BY_CATEGORY && by <= PROTO_BY_BOTH? s_by_names [by]: NULL;
}

const char *
proto_period_name (int period)
{
    return period >= 0 && period < S_COUNT (s_period_names)? s_period_names [period]: NULL;
}

/*  The index of the name of len bytes in names [from..count), or -1. */
static int
s_lookup (const char *const *names, int from, int count, const char *text, uint32_t len)
{
    for (int n = from; n < count; n++)
        if (strlen (names [n]) == len && memcmp (names [n], text, len) == 0)
            return n;
    return -1;
}

int
proto_by_parse (const char *text, uint32_t len, int *by_p)
{
    int by = s_lookup (s_by_names, PROTO_BY_CATEGORY, S_COUNT (s_by_names), text, len);
    if (by < 0)
        return -1;
    *by_p = by;
    return 0;
}

int
proto_period_parse (const char *text, uint32_t len, int *period_p)
{
    int period = s_lookup (s_period_names, 0, S_COUNT (s_period_names), text, len);
    if (period < 0)
        return -1;
    *period_p = period;
    return 0;
}

static int
s_two_digits (const char *text, int max, int *value_p)
{
    if (text [0] < '0' || text [0] > '9' || text [1] < '0' || text [1] > '9')
        return -1;
    *value_p = (text [0] - '0') * 10 + (text [1] - '0');
    return *value_p <= max? 0: -1;
}

int
proto_offset_parse (const char *text, uint32_t len, int *minutes_p)
{
    if (len == 1 && (text [0] == 'Z' || text [0] == 'z')) {
        *minutes_p = 0;
        return 0;
    }
    int hours, minutes;
    if (len != 6 || (text [0] != '+' && text [0] != '-') || text [3] != ':'
    ||  s_two_digits (text + 1, 23, &hours) || s_two_digits (text + 4, 59, &minutes))
        return -1;
    *minutes_p = (text [0] == '-'? -1: 1) * (hours * 60 + minutes);
    return 0;
}

size_t
proto_offset_format (int minutes, char *buf)
{
    if (minutes == 0)
        return (size_t) snprintf (buf, PROTO_OFFSET_MAX, "Z");
    int magnitude = minutes < 0? -minutes: minutes;
    return (size_t) snprintf (buf, PROTO_OFFSET_MAX, "%c%02d:%02d", minutes < 0? '-': '+',
                              (magnitude / 60) % 100, magnitude % 60);
}

/*  Floor division: an instant before the epoch is on the day before. */
static int64_t
s_floor_div (int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int64_t
proto_period_day (int64_t us, int offset_min)
{
    /*  Whole days first, so that the shift cannot overflow near INT64_MIN
        or INT64_MAX. */
    int64_t day = s_floor_div (us, US_PER_DAY);
    int64_t rest = us - day * US_PER_DAY + offset_min * US_PER_MINUTE;
    return day + s_floor_div (rest, US_PER_DAY);
}

/*  Day 0, 1970-01-01, was a Thursday: (day + 3) mod 7 counts from Monday. */
static int64_t
s_monday_of (int64_t day)
{
    return day - (day + 3 - s_floor_div (day + 3, 7) * 7);
}

int64_t
proto_period_key (int period, int64_t day)
{
    int64_t year;
    int month, mday;
    switch (period) {
        case PROTO_PERIOD_DAY:
            return day;
        case PROTO_PERIOD_WEEK:
            return s_monday_of (day);
        case PROTO_PERIOD_MONTH:
            proto_time_civil_from_days (day, &year, &month, &mday);
            return year * 12 + month - 1;
        default:
            proto_time_civil_from_days (day, &year, &month, &mday);
            return year;
    }
}

/*  An ISO week belongs to the year its Thursday is in, and is numbered
    from that year's first week (the one holding 4 January). */
static size_t
s_week_label (int64_t monday, char *buf)
{
    int64_t year;
    int month, mday;
    proto_time_civil_from_days (monday + 3, &year, &month, &mday);
    int64_t first_monday = s_monday_of (proto_time_days_from_civil (year, 1, 4));
    int64_t week = (monday - first_monday) / 7 + 1;
    return (size_t) snprintf (buf, PROTO_PERIOD_LABEL_MAX, "%04" PRId64 "-W%02" PRId64, year, week);
}

size_t
proto_period_label (int period, int64_t key, char *buf)
{
    int64_t year;
    int month, mday;
    switch (period) {
        case PROTO_PERIOD_DAY:
            proto_time_civil_from_days (key, &year, &month, &mday);
            return (size_t) snprintf (buf, PROTO_PERIOD_LABEL_MAX, "%04" PRId64 "-%02d-%02d", year, month, mday);
        case PROTO_PERIOD_WEEK:
            return s_week_label (key, buf);
        case PROTO_PERIOD_MONTH:
            return (size_t) snprintf (buf, PROTO_PERIOD_LABEL_MAX, "%04" PRId64 "-%02d",
                                      s_floor_div (key, 12), (int) (key - s_floor_div (key, 12) * 12) + 1);
        default:
            return (size_t) snprintf (buf, PROTO_PERIOD_LABEL_MAX, "%04" PRId64, key);
    }
}
