/* shm_ring.h — a single-producer single-consumer ring of variable-length
 * records in shared memory (docs/attach.md §2; Aeron's one-to-one ring
 * buffer in outline).
 *
 * Owns: the byte layout of one ring (a control block with the producer's
 * and the consumer's positions on cache lines of their own, then a data
 * area of a power-of-two size) and the memory ordering between the two
 * sides. Used by libordo (client side) and the engine (its side); plain C11
 * atomics, no DPDK, no allocation, no system calls.
 *
 * Never: trusts the other side. A consumer checks the producer's head and
 * every record header against the ring's bounds and reports garbage
 * instead of reading past them; a producer checks the consumer's tail.
 * Neither side ever blocks: a full ring and an empty ring are return
 * values.
 *
 * Thread context: one producer thread and one consumer thread per ring (in
 * different processes or the same); the struct shm_ring_prod/_cons handles
 * are private to their side.
 *
 * Memory ordering (the only two pairs):
 *   producer: writes record bytes, then head (release)
 *     -> consumer: loads head (acquire), then reads the bytes below it;
 *   consumer: reads record bytes, then tail (release)
 *     -> producer: loads tail (acquire), then overwrites the bytes below it.
 */
#ifndef SHM_RING_H
#define SHM_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SHM_RING_ALIGN 8u
#define SHM_RING_REC_HDR 8u
#define SHM_RING_MIN_SIZE 4096u
#define SHM_RING_CTL_SIZE 128u   /* two 64-byte lines */
#define SHM_RING_TYPE_PAD 0xFFFFu /* fills the end of the data area; skipped */

struct shm_ring_ctl {
	_Alignas(64) _Atomic uint64_t head; /* bytes ever produced; producer writes */
	_Alignas(64) _Atomic uint64_t tail; /* bytes ever released; consumer writes */
};

_Static_assert(sizeof(struct shm_ring_ctl) == SHM_RING_CTL_SIZE, "ctl layout");
/* The positions are shared between processes: they must be lock-free. */
_Static_assert(ATOMIC_LLONG_LOCK_FREE == 2, "64-bit atomics must be lock-free");

/* A record as the consumer sees it: payload bytes inside the ring. */
struct shm_ring_rec {
	const uint8_t *data;
	uint32_t length;
	uint16_t type;
	uint16_t flags;
	uint64_t pos;  /* where the record starts */
	uint64_t end;  /* position after it (what to release once done) */
};

enum shm_ring_status {
	SHM_RING_OK = 0,
	SHM_RING_EMPTY = 1,    /* consumer: nothing new */
	SHM_RING_FULL = 2,     /* producer: no room now; retry */
	SHM_RING_GARBAGE = -1, /* the other side broke the layout: stop using the ring */
	SHM_RING_TOOBIG = -2,  /* producer: larger than the largest record */
};

struct shm_ring_prod {
	struct shm_ring_ctl *ctl;
	uint8_t *data;
	uint64_t mask;
	uint64_t head;        /* private copy of head */
	uint64_t tail_cache;  /* the consumer's tail, last loaded */
	uint64_t reserved;    /* bytes of the pending reservation (0: none) */
	uint64_t reserved_pos;
};

struct shm_ring_cons {
	struct shm_ring_ctl *ctl;
	const uint8_t *data;
	uint64_t mask;
	uint64_t read;        /* next record to read (>= released tail) */
	uint64_t head_cache;  /* the producer's head, last loaded */
	uint64_t released;    /* tail last stored */
};

static inline uint64_t shm_ring_round(uint64_t n)
{
	return (n + SHM_RING_ALIGN - 1u) & ~(uint64_t)(SHM_RING_ALIGN - 1u);
}

/* The largest payload one record may carry in a ring of this size. */
static inline uint32_t shm_ring_max_record(uint64_t size)
{
	return (uint32_t)(size / 4u - SHM_RING_REC_HDR);
}

/* Initialises the control block of a new ring (the data area needs no
 * initialisation). Only the side that creates the ring calls this, before
 * handing the ring over (the hand-over — a socket message, or publishing a
 * pointer — orders these stores before the other side's loads). */
static inline void shm_ring_init(struct shm_ring_ctl *ctl)
{
	atomic_store_explicit(&ctl->head, 0, memory_order_relaxed);
	atomic_store_explicit(&ctl->tail, 0, memory_order_relaxed);
}

/* A ring's data size both sides accept: a power of two, at least
 * SHM_RING_MIN_SIZE. */
static inline int shm_ring_size_ok(uint64_t size) { return size >= SHM_RING_MIN_SIZE && (size & (size - 1u)) == 0; }

/* Whether a side may attach to a ring of size bytes whose published
 * positions are head and tail: size acceptable, the producer at most size
 * ahead of the consumer, and the attaching side's own position (own: head
 * for the producer, tail for the consumer) record-aligned. */
static inline int shm_ring_attach_ok(uint64_t size, uint64_t head, uint64_t tail, uint64_t own)
{
	return shm_ring_size_ok(size) && head - tail <= size && (own & (SHM_RING_ALIGN - 1u)) == 0;
}

/* Attaches a side to an existing ring. size: power of two, at least
 * SHM_RING_MIN_SIZE. The producer starts from the published head, the
 * consumer from the published tail. Returns 0, or -1 (the handle
 * untouched) if size is wrong or the positions already disagree with it. */
static inline int shm_ring_prod_attach(struct shm_ring_prod *p, struct shm_ring_ctl *ctl, uint8_t *data,
				       uint64_t size)
{
	uint64_t head = atomic_load_explicit(&ctl->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&ctl->tail, memory_order_acquire);
	if (!shm_ring_attach_ok(size, head, tail, head))
		return -1;
	*p = (struct shm_ring_prod){.ctl = ctl, .data = data, .mask = size - 1u, .head = head, .tail_cache = tail};
	return 0;
}

static inline int shm_ring_cons_attach(struct shm_ring_cons *c, struct shm_ring_ctl *ctl, const uint8_t *data,
				       uint64_t size)
{
	uint64_t tail = atomic_load_explicit(&ctl->tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&ctl->head, memory_order_acquire);
	if (!shm_ring_attach_ok(size, head, tail, tail))
		return -1;
	*c = (struct shm_ring_cons){.ctl = ctl, .data = data, .mask = size - 1u, .read = tail, .head_cache = head,
				    .released = tail};
	return 0;
}

static inline void shm_ring_put_hdr(uint8_t *at, uint32_t length, uint16_t type, uint16_t flags)
{
	memcpy(at, &length, 4);
	memcpy(at + 4, &type, 2);
	memcpy(at + 6, &flags, 2);
}

/* Producer: reserves room for a record of length payload bytes and returns
 * where to write the payload (contiguous), or NULL with *st set (FULL: no
 * room now; TOOBIG; GARBAGE: the consumer's tail is impossible). Nothing is
 * visible to the consumer until shm_ring_commit(). */
static inline uint8_t *shm_ring_reserve(struct shm_ring_prod *p, uint32_t length, enum shm_ring_status *st)
{
	uint64_t size = p->mask + 1u;
	if (length > shm_ring_max_record(size)) {
		*st = SHM_RING_TOOBIG;
		return NULL;
	}
	uint64_t need = SHM_RING_REC_HDR + shm_ring_round(length);
	uint64_t off = p->head & p->mask;
	uint64_t pad = (off + need > size) ? size - off : 0; /* a record never wraps */
	if (p->head + pad + need - p->tail_cache > size) {
		p->tail_cache = atomic_load_explicit(&p->ctl->tail, memory_order_acquire);
		if (p->tail_cache > p->head || p->head - p->tail_cache > size) {
			*st = SHM_RING_GARBAGE;
			return NULL;
		}
		if (p->head + pad + need - p->tail_cache > size) {
			*st = SHM_RING_FULL;
			return NULL;
		}
	}
	if (pad != 0) {
		shm_ring_put_hdr(p->data + off, (uint32_t)(pad - SHM_RING_REC_HDR), SHM_RING_TYPE_PAD, 0);
		p->head += pad;
		off = 0;
	}
	p->reserved = need;
	p->reserved_pos = p->head;
	*st = SHM_RING_OK;
	return p->data + off + SHM_RING_REC_HDR;
}

/* Producer: publishes the reserved record (and any PAD before it); length
 * must not exceed the reservation's. */
static inline void shm_ring_commit(struct shm_ring_prod *p, uint32_t length, uint16_t type, uint16_t flags)
{
	if (p->reserved == 0 || SHM_RING_REC_HDR + shm_ring_round(length) > p->reserved)
		__builtin_trap(); /* a programming error on this side, never the peer's */
	shm_ring_put_hdr(p->data + (p->reserved_pos & p->mask), length, type, flags);
	p->head = p->reserved_pos + SHM_RING_REC_HDR + shm_ring_round(length);
	p->reserved = 0;
	atomic_store_explicit(&p->ctl->head, p->head, memory_order_release);
}

/* Producer: publishes a PAD written by a reservation that is then
 * abandoned (nothing else changes). */
static inline void shm_ring_abandon(struct shm_ring_prod *p)
{
	p->reserved = 0;
	atomic_store_explicit(&p->ctl->head, p->head, memory_order_release);
}

/* Producer: bytes the consumer has not released yet (as last seen). */
static inline uint64_t shm_ring_prod_used(struct shm_ring_prod *p)
{
	p->tail_cache = atomic_load_explicit(&p->ctl->tail, memory_order_acquire);
	return p->head - p->tail_cache;
}

/* Consumer: the next record at the read position, without consuming it.
 * PAD records are skipped. EMPTY if none; GARBAGE if the producer broke the
 * layout (the ring must not be used again). */
static inline enum shm_ring_status shm_ring_peek(struct shm_ring_cons *c, struct shm_ring_rec *r)
{
	uint64_t size = c->mask + 1u;
	for (;;) {
		if (c->read == c->head_cache) {
			c->head_cache = atomic_load_explicit(&c->ctl->head, memory_order_acquire);
			if (c->read == c->head_cache)
				return SHM_RING_EMPTY;
		}
		if (c->head_cache < c->read || c->head_cache - c->released > size ||
		    (c->head_cache & (SHM_RING_ALIGN - 1u)))
			return SHM_RING_GARBAGE;
		uint64_t off = c->read & c->mask;
		const uint8_t *at = c->data + off;
		/* one load of the header: the producer may rewrite it while we
		 * check it, and every check must see the same value */
		uint64_t h = __atomic_load_n((const uint64_t *)(const void *)at, __ATOMIC_RELAXED);
		uint32_t length = (uint32_t)h;
		uint16_t type = (uint16_t)(h >> 32), flags = (uint16_t)(h >> 48);
		uint64_t need = SHM_RING_REC_HDR + shm_ring_round(length);
		if (need > size - off || need > c->head_cache - c->read)
			return SHM_RING_GARBAGE;
		if (type == SHM_RING_TYPE_PAD) {
			if (off + need != size)
				return SHM_RING_GARBAGE; /* a PAD only ever ends the data area */
			c->read += need;
			continue;
		}
		if (length > shm_ring_max_record(size))
			return SHM_RING_GARBAGE;
		r->data = at + SHM_RING_REC_HDR;
		r->length = length;
		r->type = type;
		r->flags = flags;
		r->pos = c->read;
		r->end = c->read + need;
		return SHM_RING_OK;
	}
}

/* Consumer: moves the read position past the record peek returned. */
static inline void shm_ring_next(struct shm_ring_cons *c, const struct shm_ring_rec *r) { c->read = r->end; }

/* Consumer: gives the producer back every byte below upto (a record end
 * already read; upto may lag the read position, e.g. while a record is
 * still referenced). */
static inline void shm_ring_release(struct shm_ring_cons *c, uint64_t upto)
{
	if (upto <= c->released)
		return;
	c->released = upto;
	atomic_store_explicit(&c->ctl->tail, upto, memory_order_release);
}

/* Consumer: releases everything read so far. */
static inline void shm_ring_release_read(struct shm_ring_cons *c) { shm_ring_release(c, c->read); }

#endif
