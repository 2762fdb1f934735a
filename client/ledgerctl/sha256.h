/*  sha256 -- the SHA-256 digest (FIPS 180-4) of a buffer.

    ledgerctl names an import's idempotency keys after the file's content,
    so two different files must never share a name: a 64-bit hash would do
    for accidents, but a cryptographic one costs a hundred lines and leaves
    no doubt. */

#ifndef SHA256_H
#define SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_SIZE 32

/* The digest of size bytes at data, into digest. */
void sha256 (const void *data, size_t size, uint8_t digest [SHA256_SIZE]);

/* The digest as lowercase hex (64 characters and a NUL) into hex. */
void sha256_hex (const void *data, size_t size, char hex [2 * SHA256_SIZE + 1]);

#endif
