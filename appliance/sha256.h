#ifndef MARKBOOK_SHA256_H
#define MARKBOOK_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* SHA-256 (FIPS 180-4), small and unoptimised: markbook hashes session tokens
 * and hidden test files with it, never anything large. */

#define SHA256_LEN	32
#define SHA256_HEX_LEN	64

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;
	unsigned char block[64];
	size_t used;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
void sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN]);

/* The digest of `len` bytes at `data` as 64 lowercase hex digits and a NUL. */
void sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN + 1]);

#endif
