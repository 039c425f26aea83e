/* ordo_digest.h — the one running hash every ordo tool uses for a digest of
 * a delivered sequence (ordod's /ordo/delivery, ordo-sub -q, ordo-kv,
 * ordo-perf and cpg-perf), so that digests printed by different tools are
 * built the same way and can be compared.
 *
 * Owns: the 64-bit mixer (splitmix64's finaliser) and the step that folds
 * one message's value into a running digest. Each tool chooses what a
 * message's value covers (docs/ordod.md, "Delivered-sequence digest").
 * Never: allocates, reads a clock or keeps state; any thread.
 */
#ifndef ORDO_DIGEST_H
#define ORDO_DIGEST_H

#include <stdint.h>

/* A bijective 64-bit mixer: every input bit affects every output bit. */
static inline uint64_t ordo_mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The running digest after one more message whose value is v: order
 * matters (a different order gives a different digest). */
static inline uint64_t ordo_digest_add(uint64_t digest, uint64_t v)
{
	return ordo_mix64(digest ^ v) + 0x9e3779b97f4a7c15ull;
}

#endif
