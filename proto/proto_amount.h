/*  proto_amount -- decimal money strings to int64 minor units.

    Money is never rounded and never passes through a double: an amount
    string either names an exact number of cents that fits int64, or it is
    refused with a reason the caller can report. */

#ifndef PROTO_AMOUNT_H
#define PROTO_AMOUNT_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    PROTO_AMOUNT_OK = 0,
    PROTO_AMOUNT_BAD = -1,      /* not of the form -?[0-9]+(\.[0-9]+)? */
    PROTO_AMOUNT_INEXACT = -2,  /* well formed, but more than 2 fraction digits */
    PROTO_AMOUNT_RANGE = -3     /* exact, but does not fit int64 minor units */
} proto_amount_rc_t;

/* Parse a decimal amount -?[0-9]+(\.[0-9]{1,2})? of exactly len bytes, not
   NUL-terminated, into minor units ("-12.34" -> -1234). Returns
   PROTO_AMOUNT_OK and sets *minor_p; else PROTO_AMOUNT_BAD, then _INEXACT,
   then _RANGE, the first that applies; *minor_p is then left alone. */
int proto_amount_parse (const char *text, size_t len, int64_t *minor_p);

#endif
