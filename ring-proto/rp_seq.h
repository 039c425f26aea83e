/* rp_seq.h — wrap-safe sequence arithmetic for every protocol counter.
 *
 * Owns: the one definition of "before" and "after" for 64-bit serial numbers
 * (RFC 1982 style). Every comparison of a seq, aru, token_seq or ring seq in
 * ring-proto goes through these helpers; a bare `<` on a sequence number is a
 * bug (corosync issue 445: its sq.h window hack and -1 sentinels).
 *
 * Valid while the two values being compared are less than 2^63 apart, which
 * the protocol guarantees by bounding the window (store_slots) and by never
 * comparing numbers from unrelated rings. Tests start counters just below the
 * wrap (rp_config.initial_seq) to exercise it.
 */
#ifndef RP_SEQ_H
#define RP_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline bool rp_seq_lt(uint64_t a, uint64_t b) { return (int64_t)(a - b) < 0; }
static inline bool rp_seq_le(uint64_t a, uint64_t b) { return (int64_t)(a - b) <= 0; }
static inline bool rp_seq_gt(uint64_t a, uint64_t b) { return (int64_t)(a - b) > 0; }
static inline bool rp_seq_ge(uint64_t a, uint64_t b) { return (int64_t)(a - b) >= 0; }
static inline uint64_t rp_seq_min(uint64_t a, uint64_t b) { return rp_seq_lt(a, b) ? a : b; }
static inline uint64_t rp_seq_max(uint64_t a, uint64_t b) { return rp_seq_gt(a, b) ? a : b; }

/* Distance from a to b (b after a); only meaningful when rp_seq_ge(b, a). */
static inline uint64_t rp_seq_dist(uint64_t a, uint64_t b) { return b - a; }

#endif
