/*  proto_json -- the JSON form of a wire message.

    Tests and `ledgerctl submit` write requests as JSON and read replies as
    JSON; the wire carries msgpack. The mapping is one to one where both can
    say the same thing: object and map (string keys, order kept), array,
    string, integer (int64), real (always float64, so a test can send a float
    where the worker wants an integer), true/false and null. What JSON cannot
    show -- bin, ext, integers above INT64_MAX, non-string or duplicate map
    keys, strings that are not UTF-8, NaN and infinities -- is refused rather
    than guessed at.

    Decoding uses msgpack-c's unpacker, which allocates by the sizes a message
    declares: it is meant for replies from our own worker, not for bytes from
    an untrusted peer (the worker reads those with proto_reader). */

#ifndef PROTO_JSON_H
#define PROTO_JSON_H

#include <stddef.h>
#include <jansson.h>

/* Encode json as one msgpack value. Returns 0 and sets *data_p to a new
   buffer the caller frees with free (), and *size_p to its length; returns
   -1 if the value cannot be encoded (nested deeper than jansson's own parser
   allows, or out of memory), with the reason in errbuf (errlen bytes; errbuf
   may be NULL). */
int proto_json_to_msgpack (const json_t *json, char **data_p, size_t *size_p,
                           char *errbuf, size_t errlen);

/* Decode size bytes at data, which must hold exactly one msgpack value, into
   a new JSON value the caller releases with json_decref. Returns NULL if the
   bytes are not one whole value (empty, truncated, malformed, trailing bytes)
   or hold something JSON cannot show, with the reason in errbuf (errlen
   bytes; errbuf may be NULL). */
json_t *proto_json_from_msgpack (const void *data, size_t size,
                                 char *errbuf, size_t errlen);

#endif
