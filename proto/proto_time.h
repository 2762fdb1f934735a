/*  proto_time -- instants on the wire: RFC 3339 text and msgpack timestamps.

    An instant is held as int64 microseconds since 1970-01-01T00:00:00Z,
    together with the offset, in minutes east of UTC, that the client wrote
    it in, so it can be given back the way it came. Only years 0001..9999
    are valid, which is what RFC 3339 can spell. The calendar arithmetic is
    done here rather than with mktime/timegm, so every function is pure:
    no locale, no TZ, no static state, no allocation. */

#ifndef PROTO_TIME_H
#define PROTO_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Buffer size for proto_time_format, including the NUL. */
#define PROTO_TIME_MAX 40

typedef enum {
    PROTO_TIME_OK = 0,
    PROTO_TIME_BAD = -1,        /* not a valid value of the expected form */
    PROTO_TIME_NAIVE = -2       /* a valid date-time with no UTC offset */
} proto_time_rc_t;

/* Parse an RFC 3339 date-time (section 5.6) of exactly len bytes, not
   NUL-terminated. Returns PROTO_TIME_OK and sets *us_p and *offset_min_p;
   PROTO_TIME_NAIVE when a valid date-time has no offset at all; else
   PROTO_TIME_BAD. The outputs are left alone unless the result is OK. */
int proto_time_parse (const char *text, size_t len, int64_t *us_p, int *offset_min_p);

/* Parse a bare date YYYY-MM-DD (exactly 10 bytes) as that day's midnight
   UTC. Returns PROTO_TIME_OK and sets *us_p, else PROTO_TIME_BAD. */
int proto_time_parse_date (const char *text, size_t len, int64_t *us_p);

/* Decode the payload of a msgpack timestamp extension (type -1) of 4, 8
   or 12 bytes, truncated to microseconds. Returns PROTO_TIME_OK and sets
   *us_p; PROTO_TIME_BAD for another length, nanoseconds above 999999999
   or an instant outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999Z. */
int proto_time_from_ext (const uint8_t *data, size_t len, int64_t *us_p);

/* Encode any us as a msgpack timestamp 96 payload into out. Returns 12. */
size_t proto_time_to_ext (int64_t us, uint8_t out [12]);

/* Format us as RFC 3339 in the local time of offset_min, with ".ffffff"
   only when there is a fraction and "Z" for offset 0. Returns the length
   written, without the NUL. Returns 0 and writes "" when no valid RFC 3339
   text exists: offset_min outside -1439..1439, or a local year outside
   0001..9999. */
size_t proto_time_format (int64_t us, int offset_min, char *buf /* PROTO_TIME_MAX */);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
int64_t proto_time_days_from_civil (int64_t year, int month, int day);

/* The date of days since 1970-01-01: the inverse of the above. */
void proto_time_civil_from_days (int64_t days, int64_t *year_p, int *month_p, int *day_p);

#endif
