/*  ledger_internal -- what the library's files share; not installed. */

#ifndef LEDGER_INTERNAL_H
#define LEDGER_INTERNAL_H

#include "ledger.h"

#include <jansson.h>
#include <msgpack.h>

/* Encode the batch as a request body with the given request id into out.
   auto_key is used when the batch writes and has no key of its own (it is
   remembered, so a resubmission of the same batch carries the same key).
   Returns 0, or -1 if the batch is broken. */
int ledger_batch_encode (ledger_batch_t *self, uint64_t request_id, const char *auto_key, msgpack_sbuffer *out);

/* A result from a reply's bytes, or NULL (why in errbuf) if they are not a
   reply. */
ledger_result_t *ledger_result_from_reply (const void *data, size_t size, char *errbuf, size_t errlen);

/* A result for a request that got no usable answer after tries sends. */
ledger_result_t *ledger_result_unknown (uint64_t request_id, int tries, const char *reason);

/* A failed result, class denied, for a request the worker refused before
   it was delivered (its CURVE key, at the handshake): nothing applied. */
ledger_result_t *ledger_result_denied (uint64_t request_id, int tries, const char *code, const char *message);

/* The request id a reply carries, or 0. */
uint64_t ledger_result_reply_id (ledger_result_t *self);

/* Note how many times the request was sent. */
void ledger_result_set_tries (ledger_result_t *self, int tries);

#endif
