/* ordo_digest.h — the one running hash every ordo tool uses for a digest of
 * a delivered sequence (ordod's /ordo/delivery, ordo-sub -q, ordo-kv,
 * ordo-perf and cpg-perf), so that digests printed by different tools are
 * built the same way and can be compared.
 *
 * Owns: the 64-bit mixer (splitmix64's finaliser, and the finaliser
 * form the simulator's mixer shares) and the step that folds
 * one message's value into a running digest. Each tool chooses what a
 * message's value covers (docs/ordod.md, "Delivered-sequence digest").
 * Never: allocates, reads a clock or keeps state; any thread.
 */
#ifndef ORDO_DIGEST_H
#define ORDO_DIGEST_H

#include <stdint.h>

/* The xor-shift-multiply finaliser (murmur3's fmix64 and its variants):
 * bijective for odd multipliers and shifts in 1..63. Its constants choose
 * the function: ordo_mix64 below, and the simulator's own (tests/sim,
 * murmur3's constants, on which its recorded seeds depend). */
static inline uint64_t ordo_fmix64(uint64_t x, unsigned s1, uint64_t m1, unsigned s2, uint64_t m2, unsigned s3)
{
	x ^= x >> s1;
	x *= m1;
	x ^= x >> s2;
	x *= m2;
	return x ^ (x >> s3);
}

/* A bijective 64-bit mixer (splitmix64's finaliser): every input bit
 * affects every output bit. */
static inline uint64_t ordo_mix64(uint64_t x)
{
	return ordo_fmix64(x, 30, 0xbf58476d1ce4e5b9ull, 27, 0x94d049bb133111ebull, 31);
}

/* The running digest after one more message whose value is v: order
 * matters (a different order gives a different digest). */
static inline uint64_t ordo_digest_add(uint64_t digest, uint64_t v)
{
	return ordo_mix64(digest ^ v) + 0x9e3779b97f4a7c15ull;
}

#endif
