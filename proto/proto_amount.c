/*  proto_amount -- decimal money strings to int64 minor units. */

#include "proto_amount.h"

#include <stdbool.h>

#define FRACTION_DIGITS 2

static bool
s_is_digit (char c)
{
    return c >= '0' && c <= '9';     /* not isdigit: that depends on the locale */
}

/*  Append one decimal digit to *magnitude_p. Returns 0, or -1 and leaves
    it alone if the result would exceed limit. */
static int
s_shift_in (uint64_t *magnitude_p, int digit, uint64_t limit)
{
    if (*magnitude_p > (limit - (uint64_t) digit) / 10)
        return -1;
    *magnitude_p = *magnitude_p * 10 + (uint64_t) digit;
    return 0;
}

int
proto_amount_parse (const char *text, size_t len, int64_t *minor_p)
{
    bool negative = len > 0 && text [0] == '-';
    size_t pos = negative? 1: 0;

    size_t int_first = pos;
    while (pos < len && s_is_digit (text [pos]))
        pos++;
    size_t int_end = pos;
    if (int_end == int_first)
        return PROTO_AMOUNT_BAD;

    size_t frac_first = pos, frac_end = pos;
    if (pos < len && text [pos] == '.') {
        frac_first = ++pos;
        while (pos < len && s_is_digit (text [pos]))
            pos++;
        frac_end = pos;
        if (frac_end == frac_first)
            return PROTO_AMOUNT_BAD;
    }
    if (pos != len)
        return PROTO_AMOUNT_BAD;
    if (frac_end - frac_first > FRACTION_DIGITS)
        return PROTO_AMOUNT_INEXACT;

    /* Accumulate the magnitude unsigned against the bound of the sign, so
       INT64_MIN, whose magnitude int64 cannot hold, is still reachable. */
    uint64_t limit = negative? (uint64_t) INT64_MAX + 1: (uint64_t) INT64_MAX;
    uint64_t magnitude = 0;
    for (size_t i = int_first; i < int_end; i++)
        if (s_shift_in (&magnitude, text [i] - '0', limit))
            return PROTO_AMOUNT_RANGE;
    for (size_t i = 0; i < FRACTION_DIGITS; i++) {
        size_t at = frac_first + i;
        if (s_shift_in (&magnitude, at < frac_end? text [at] - '0': 0, limit))
            return PROTO_AMOUNT_RANGE;
    }

    if (negative && magnitude > 0)
        *minor_p = -(int64_t) (magnitude - 1) - 1;
    else
        *minor_p = (int64_t) magnitude;
    return PROTO_AMOUNT_OK;
}
