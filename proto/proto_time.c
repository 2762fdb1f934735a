/*  proto_time -- instants on the wire: RFC 3339 text and msgpack timestamps. */

#include "proto_time.h"

#include <stdbool.h>

#define US_PER_SEC  INT64_C (1000000)
#define SEC_PER_DAY INT64_C (86400)
#define US_PER_DAY  (SEC_PER_DAY * US_PER_SEC)

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z in seconds since the epoch. */
#define FIRST_SEC   INT64_C (-62135596800)
#define LAST_SEC    INT64_C (253402300799)

/* RFC 3339 offsets are two-digit hours and minutes. */
#define OFFSET_MAX_MIN (23 * 60 + 59)

/*  Days since 1970-01-01 of a proleptic Gregorian date. Howard Hinnant's
    days_from_civil: counting from March puts the leap day last, so each
    400-year era has the same shape. Valid for any year an int64 count of
    microseconds can reach. */
int64_t
proto_time_days_from_civil (int64_t year, int month, int day)
{
    year -= month <= 2;
    int64_t era = (year >= 0? year: year - 399) / 400;
    int64_t yoe = year - era * 400;                                   /* 0..399 */
    int64_t doy = (153 * (month > 2? month - 3: month + 9) + 2) / 5 + day - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;              /* 0..146096 */
    return era * 146097 + doe - 719468;
}

/*  The inverse of proto_time_days_from_civil. */
void
proto_time_civil_from_days (int64_t days, int64_t *year_p, int *month_p, int *day_p)
{
    days += 719468;
    int64_t era = (days >= 0? days: days - 146096) / 146097;
    int64_t doe = days - era * 146097;                                /* 0..146096 */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);            /* 0..365 */
    int64_t mp = (5 * doy + 2) / 153;                                 /* 0 = March */
    *day_p = (int) (doy - (153 * mp + 2) / 5 + 1);
    *month_p = (int) (mp < 10? mp + 3: mp - 9);
    *year_p = era * 400 + yoe + (*month_p <= 2);
}

static bool
s_is_leap (int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int
s_days_in_month (int year, int month)
{
    static const int days [12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    return month == 2 && s_is_leap (year)? 29: days [month - 1];
}

/*  Read exactly n ASCII digits at text into *value_p. Returns 0, or -1 if
    any byte is not a digit. isdigit is not used: it depends on the locale. */
static int
s_digits (const char *text, int n, int *value_p)
{
    int value = 0;
    for (int i = 0; i < n; i++) {
        if (text [i] < '0' || text [i] > '9')
            return -1;
        value = value * 10 + (text [i] - '0');
    }
    *value_p = value;
    return 0;
}

/*  Read the 10 bytes "YYYY-MM-DD" at text as days since the epoch.
    Returns 0, or -1 if the form or any field is out of range. */
static int
s_parse_date (const char *text, int64_t *days_p)
{
    int year, month, day;
    if (s_digits (text, 4, &year) || text [4] != '-'
    ||  s_digits (text + 5, 2, &month) || text [7] != '-'
    ||  s_digits (text + 8, 2, &day))
        return -1;
    if (year < 1 || month < 1 || month > 12
    ||  day < 1 || day > s_days_in_month (year, month))
        return -1;
    *days_p = proto_time_days_from_civil (year, month, day);
    return 0;
}

/*  Read the 5 bytes "hh:mm" at text as minutes, with hh at most max_hour.
    Returns 0, or -1 if the form or a field is out of range. */
static int
s_parse_hour_minute (const char *text, int max_hour, int *minutes_p)
{
    int hour, minute;
    if (s_digits (text, 2, &hour) || text [2] != ':' || s_digits (text + 3, 2, &minute)
    ||  hour > max_hour || minute > 59)
        return -1;
    *minutes_p = hour * 60 + minute;
    return 0;
}

/*  Read the 8 bytes "HH:MM:SS" at text as seconds into the day. A leap
    second (:60) is refused: an int64 count of microseconds cannot hold it. */
static int
s_parse_clock (const char *text, int *seconds_p)
{
    int minutes, second;
    if (s_parse_hour_minute (text, 23, &minutes) || text [5] != ':'
    ||  s_digits (text + 6, 2, &second) || second > 59)
        return -1;
    *seconds_p = minutes * 60 + second;
    return 0;
}

int
proto_time_parse (const char *text, size_t len, int64_t *us_p, int *offset_min_p)
{
    int64_t days;
    int seconds, offset_min;
    int64_t fraction_us = 0;

    if (len < 19 || s_parse_date (text, &days)
    ||  (text [10] != 'T' && text [10] != 't')
    ||  s_parse_clock (text + 11, &seconds))
        return PROTO_TIME_BAD;

    size_t pos = 19;
    if (pos < len && text [pos] == '.') {
        size_t first = ++pos;
        int64_t scale = US_PER_SEC / 10;
        while (pos < len && text [pos] >= '0' && text [pos] <= '9') {
            if (pos - first == 6)
                return PROTO_TIME_BAD;      /* finer than we can hold: not rounded */
            fraction_us += (text [pos] - '0') * scale;
            scale /= 10;
            pos++;
        }
        if (pos == first)
            return PROTO_TIME_BAD;
    }
    if (pos == len)
        return PROTO_TIME_NAIVE;

    if ((text [pos] == 'Z' || text [pos] == 'z') && len - pos == 1)
        offset_min = 0;
    else
    if ((text [pos] == '+' || text [pos] == '-') && len - pos == 6
    &&  s_parse_hour_minute (text + pos + 1, 23, &offset_min) == 0) {
        if (text [pos] == '-')
            offset_min = -offset_min;       /* "-00:00" is still UTC */
    }
    else
        return PROTO_TIME_BAD;

    *us_p = ((days * SEC_PER_DAY + seconds) - (int64_t) offset_min * 60) * US_PER_SEC
          + fraction_us;
    *offset_min_p = offset_min;
    return PROTO_TIME_OK;
}

int
proto_time_parse_date (const char *text, size_t len, int64_t *us_p)
{
    int64_t days;
    if (len != 10 || s_parse_date (text, &days))
        return PROTO_TIME_BAD;
    *us_p = days * US_PER_DAY;
    return PROTO_TIME_OK;
}

static uint64_t
s_get_be (const uint8_t *data, int n)
{
    uint64_t value = 0;
    for (int i = 0; i < n; i++)
        value = (value << 8) | data [i];
    return value;
}

static void
s_put_be (uint8_t *data, int n, uint64_t value)
{
    for (int i = n - 1; i >= 0; i--) {
        data [i] = (uint8_t) value;
        value >>= 8;
    }
}

int
proto_time_from_ext (const uint8_t *data, size_t len, int64_t *us_p)
{
    int64_t seconds;
    uint64_t nanoseconds;

    if (len == 4) {
        seconds = (int64_t) s_get_be (data, 4);
        nanoseconds = 0;
    }
    else
    if (len == 8) {
        uint64_t packed = s_get_be (data, 8);
        nanoseconds = packed >> 34;
        seconds = (int64_t) (packed & ((UINT64_C (1) << 34) - 1));
    }
    else
    if (len == 12) {
        nanoseconds = s_get_be (data, 4);
        uint64_t raw = s_get_be (data + 4, 8);
        /* Two's complement by arithmetic: a plain cast of a value above
           INT64_MAX is implementation-defined. */
        seconds = raw <= INT64_MAX? (int64_t) raw: -(int64_t) (UINT64_MAX - raw) - 1;
    }
    else
        return PROTO_TIME_BAD;

    /* The seconds are checked before they are multiplied, so any int64
       the peer sends is safe; nanoseconds only move the instant forward
       by less than a second, so they cannot push it past the last one. */
    if (nanoseconds > 999999999 || seconds < FIRST_SEC || seconds > LAST_SEC)
        return PROTO_TIME_BAD;
    *us_p = seconds * US_PER_SEC + (int64_t) (nanoseconds / 1000);
    return PROTO_TIME_OK;
}

size_t
proto_time_to_ext (int64_t us, uint8_t out [12])
{
    /* Floor division: msgpack's nanoseconds are always positive and add to
       the seconds, so -1 us is -1 s plus 999999000 ns. */
    int64_t seconds = us / US_PER_SEC;
    int64_t sub_us = us % US_PER_SEC;
    if (sub_us < 0) {
        sub_us += US_PER_SEC;
        seconds--;
    }
    s_put_be (out, 4, (uint64_t) (sub_us * 1000));
    s_put_be (out + 4, 8, (uint64_t) seconds);
    return 12;
}

/*  Write value as exactly width decimal digits, zero-padded. */
static char *
s_put_digits (char *out, int64_t value, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out [i] = (char) ('0' + value % 10);
        value /= 10;
    }
    return out + width;
}

size_t
proto_time_format (int64_t us, int offset_min, char *buf)
{
    buf [0] = 0;
    if (offset_min < -OFFSET_MAX_MIN || offset_min > OFFSET_MAX_MIN)
        return 0;

    /* Split into days and time of day before adding the offset: adding it
       to us directly could overflow at the ends of the int64 range. */
    int64_t us_of_day = us % US_PER_DAY;
    int64_t days = us / US_PER_DAY;
    if (us_of_day < 0) {
        us_of_day += US_PER_DAY;
        days--;
    }
    int64_t local_sec = us_of_day / US_PER_SEC + (int64_t) offset_min * 60;
    if (local_sec < 0) {
        local_sec += SEC_PER_DAY;
        days--;
    }
    else
    if (local_sec >= SEC_PER_DAY) {
        local_sec -= SEC_PER_DAY;
        days++;
    }
    int64_t micro = us_of_day % US_PER_SEC;

    int64_t year;
    int month, day;
    proto_time_civil_from_days (days, &year, &month, &day);
    if (year < 1 || year > 9999)
        return 0;

    char *out = buf;
    out = s_put_digits (out, year, 4);
    *out++ = '-';
    out = s_put_digits (out, month, 2);
    *out++ = '-';
    out = s_put_digits (out, day, 2);
    *out++ = 'T';
    out = s_put_digits (out, local_sec / 3600, 2);
    *out++ = ':';
    out = s_put_digits (out, local_sec / 60 % 60, 2);
    *out++ = ':';
    out = s_put_digits (out, local_sec % 60, 2);
    if (micro) {
        *out++ = '.';
        out = s_put_digits (out, micro, 6);
    }
    if (offset_min == 0)
        *out++ = 'Z';
    else {
        int magnitude = offset_min < 0? -offset_min: offset_min;
        *out++ = offset_min < 0? '-': '+';
        out = s_put_digits (out, magnitude / 60, 2);
        *out++ = ':';
        out = s_put_digits (out, magnitude % 60, 2);
    }
    *out = 0;
    return (size_t) (out - buf);
}
