/* eng_arena.h — a byte FIFO of variable-size records on memory given once,
 * retired in order when done: the engine's own messages to ring-proto
 * (group operations, SYNCs, key states) from the moment they are queued to
 * ring-proto's SUBMIT_DONE, and the group operations an exchange defers.
 *
 * Records never wrap (a pad fills the end, as client/shm_ring.h): a record
 * is one contiguous buffer ring-proto may point into. Positions only grow:
 * [tail, sub) were handed on and are not all done, [sub, head) wait.
 *
 * Never: allocates. Thread context: one thread (the worker).
 */
#ifndef ENG_ARENA_H
#define ENG_ARENA_H

#include <stdint.h>
#include <string.h>

#define ENG_ARENA_HDR 8u          /* u32 length (UINT32_MAX: pad), u32 done */

struct eng_arena {
	uint8_t *mem;
	uint64_t size;            /* a multiple of 8 */
	uint64_t head, sub, tail;
};

static inline uint64_t eng_arena_round(uint64_t n) { return (n + 7u) & ~(uint64_t)7u; }

static inline void eng_arena_init(struct eng_arena *a, uint8_t *mem, uint64_t size)
{
	a->mem = mem;
	a->size = size & ~(uint64_t)7u;
	a->head = a->sub = a->tail = 0;
}

static inline uint64_t eng_arena_free(const struct eng_arena *a) { return a->size - (a->head - a->tail); }

/* Room for a record of len bytes at the end of what waits: its payload
 * (zeroed), or NULL if the arena cannot take it now. */
static inline uint8_t *eng_arena_put(struct eng_arena *a, uint32_t len)
{
	uint64_t need = ENG_ARENA_HDR + eng_arena_round(len);
	if (need > a->size)
		return NULL;
	uint64_t off = a->head % a->size, room = a->size - off;
	uint64_t pad = room < need ? room : 0;
	if (pad + need > eng_arena_free(a))
		return NULL;
	if (pad != 0) {
		uint32_t h[2] = {UINT32_MAX, 1};
		memcpy(a->mem + off, h, sizeof(h));
		a->head += pad;
		off = 0;
	}
	uint32_t h[2] = {len, 0};
	memcpy(a->mem + off, h, sizeof(h));
	memset(a->mem + off + ENG_ARENA_HDR, 0, eng_arena_round(len));
	a->head += need;
	return a->mem + off + ENG_ARENA_HDR;
}

/* The oldest record not handed on (skipping pads), or NULL. */
static inline uint8_t *eng_arena_next(struct eng_arena *a, uint32_t *len)
{
	while (a->sub != a->head) {
		uint64_t off = a->sub % a->size;
		uint32_t h[2];
		memcpy(h, a->mem + off, sizeof(h));
		if (h[0] == UINT32_MAX) {
			a->sub += a->size - off;
			continue;
		}
		*len = h[0];
		return a->mem + off + ENG_ARENA_HDR;
	}
	return NULL;
}

/* The record eng_arena_next() returned is handed on. */
static inline void eng_arena_handed(struct eng_arena *a)
{
	uint32_t len;
	memcpy(&len, a->mem + a->sub % a->size, 4);
	a->sub += ENG_ARENA_HDR + eng_arena_round(len);
}

static inline int eng_arena_owns(const struct eng_arena *a, const void *p)
{
	return (const uint8_t *)p >= a->mem && (const uint8_t *)p < a->mem + a->size;
}

/* Done records at the tail go (after eng_arena_handed: a record may be
 * done before it is counted as handed on). */
static inline void eng_arena_retire(struct eng_arena *a)
{
	while (a->tail != a->sub) {
		uint64_t off = a->tail % a->size;
		uint32_t h[2];
		memcpy(h, a->mem + off, sizeof(h));
		if (!h[1])
			break;
		a->tail += h[0] == UINT32_MAX ? a->size - off : ENG_ARENA_HDR + eng_arena_round(h[0]);
	}
}

/* A record handed on is done: it and every done record before it go. */
static inline void eng_arena_done(struct eng_arena *a, uint8_t *payload)
{
	uint32_t one = 1;
	memcpy(payload - ENG_ARENA_HDR + 4, &one, 4);
	eng_arena_retire(a);
}

/* Forgets every record (nothing of it is handed on). */
static inline void eng_arena_clear(struct eng_arena *a) { a->head = a->sub = a->tail = 0; }

#endif
