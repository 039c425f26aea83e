/* test_shm_ring.c — unit tests of the shared-memory record ring
 * (client/shm_ring.h, docs/attach.md §2).
 *
 * Owns: the executable statement of the ring's contract: attach refuses bad
 * sizes and impossible positions; records keep their payload, type and flags;
 * a record never wraps (a PAD fills the end of the data area and the consumer
 * skips it); FULL, TOOBIG and lagging releases give the producer exactly the
 * room the consumer gave back; every impossible head, tail or record header
 * is reported as SHM_RING_GARBAGE. Each garbage case is paired with the
 * nearest legal one, so a test fails if a check disappears or fires early.
 * Ends with a two-thread stress run (ordering, content, lagging releases).
 *
 * Never: reads past a data area: every ring's data area is a heap block of
 * exactly its size, so the ASan build (test-shm-ring-asan) catches any
 * overread by the ring or by a record it hands out; calls cmocka from a
 * thread other than the test's own (the stress threads report errors back).
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "shm_ring.h"

#define SMALL 4096u /* SHM_RING_MIN_SIZE: largest payload 1016, record 1024 */
#define SMALL_MAX 1016u
#define TYPE_DATA 7u

/* ---- helpers ------------------------------------------------------------ */

/* The two handles on cache lines of their own (the stress threads). */
struct ring {
	struct shm_ring_ctl *ctl;
	uint8_t *data; /* exactly size bytes */
	uint64_t size;
	_Alignas(64) struct shm_ring_prod p;
	_Alignas(64) struct shm_ring_cons c;
};

static uint64_t need_of(uint32_t length) { return SHM_RING_REC_HDR + shm_ring_round(length); }

/* A ring whose head and tail both start at start (aligned), both sides
 * attached. */
static void ring_open_at(struct ring *r, uint64_t size, uint64_t start)
{
	r->ctl = aligned_alloc(64, sizeof(*r->ctl));
	r->data = malloc(size);
	assert_non_null(r->ctl);
	assert_non_null(r->data);
	memset(r->data, 0xA5, size);
	r->size = size;
	shm_ring_init(r->ctl);
	atomic_store(&r->ctl->head, start);
	atomic_store(&r->ctl->tail, start);
	assert_int_equal(shm_ring_prod_attach(&r->p, r->ctl, r->data, size), 0);
	assert_int_equal(shm_ring_cons_attach(&r->c, r->ctl, r->data, size), 0);
}

static void ring_open(struct ring *r, uint64_t size) { ring_open_at(r, size, 0); }

static void ring_close(struct ring *r)
{
	free(r->data);
	free(r->ctl);
}

static uint64_t head_of(struct ring *r) { return atomic_load(&r->ctl->head); }
static uint64_t tail_of(struct ring *r) { return atomic_load(&r->ctl->tail); }

static uint8_t pattern(uint32_t tag, uint32_t i) { return (uint8_t)(tag * 31u + i * 7u + 1u); }

/* Producer: one record whose payload is pattern(tag, .). */
static enum shm_ring_status put(struct ring *r, uint32_t length, uint16_t type, uint16_t flags, uint32_t tag)
{
	enum shm_ring_status st = SHM_RING_OK;
	uint8_t *w = shm_ring_reserve(&r->p, length, &st);
	if (w == NULL) {
		assert_int_not_equal(st, SHM_RING_OK);
		return st;
	}
	assert_int_equal(st, SHM_RING_OK);
	/* the reservation is contiguous inside the data area */
	assert_true(w >= r->data + SHM_RING_REC_HDR);
	assert_true((uint64_t)(w - r->data) + shm_ring_round(length) <= r->size);
	for (uint32_t i = 0; i < length; i++)
		w[i] = pattern(tag, i);
	shm_ring_commit(&r->p, length, type, flags);
	return SHM_RING_OK;
}

/* Consumer: peek; on OK checks that the record lies whole and aligned inside
 * the data area where its position says, and reads every payload byte (in
 * the ASan build, a backstop should those checks be wrong). */
static enum shm_ring_status get(struct ring *r, struct shm_ring_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	enum shm_ring_status st = shm_ring_peek(&r->c, rec);
	if (st != SHM_RING_OK)
		return st;
	uint64_t off = rec->pos & (r->size - 1u);
	assert_int_equal(rec->pos % SHM_RING_ALIGN, 0);
	assert_ptr_equal(rec->data, r->data + off + SHM_RING_REC_HDR);
	assert_int_equal(rec->end, rec->pos + need_of(rec->length));
	assert_true(off + need_of(rec->length) <= r->size);
	assert_true(rec->end <= head_of(r));
	assert_int_not_equal(rec->type, SHM_RING_TYPE_PAD);
	volatile uint8_t sink = 0;
	for (uint32_t i = 0; i < rec->length; i++)
		sink ^= rec->data[i];
	(void)sink;
	return SHM_RING_OK;
}

static void check_payload(const struct shm_ring_rec *rec, uint32_t length, uint32_t tag)
{
	assert_int_equal(rec->length, length);
	for (uint32_t i = 0; i < length; i++)
		if (rec->data[i] != pattern(tag, i))
			fail_msg("payload byte %u of record %u: %u, expected %u", i, tag, rec->data[i], pattern(tag, i));
}

/* A hostile producer: a header written straight into the data area. */
static void forge(struct ring *r, uint64_t off, uint32_t length, uint16_t type)
{
	shm_ring_put_hdr(r->data + off, length, type, 0);
}

static void forge_head(struct ring *r, uint64_t head) { atomic_store(&r->ctl->head, head); }

/* ---- sizes and attach ----------------------------------------------------- */

static void test_max_record(void **state)
{
	(void)state;
	assert_int_equal(shm_ring_max_record(SMALL), SMALL_MAX);
	assert_int_equal(need_of(SMALL_MAX), SMALL / 4u);
	assert_int_equal(shm_ring_max_record(65536), 16376);
	assert_int_equal(shm_ring_max_record(4u << 20), (4u << 20) / 4u - 8u);
	assert_int_equal(shm_ring_round(0), 0);
	assert_int_equal(shm_ring_round(1), 8);
	assert_int_equal(shm_ring_round(8), 8);
	assert_int_equal(shm_ring_round(9), 16);
	assert_int_equal(shm_ring_round(0xFFFFFFFFu), 0x100000000u); /* no 32-bit wrap */
}

static void test_attach_sizes(void **state)
{
	(void)state;
	static const uint64_t bad[] = {0, 1, 8, 2048, 4095, 4097, 6144, 12288, (1u << 20) + 8u, UINT64_MAX};
	static const uint64_t good[] = {4096, 8192, 65536, 1u << 22};
	struct shm_ring_ctl *ctl = aligned_alloc(64, sizeof(*ctl));
	assert_non_null(ctl);
	shm_ring_init(ctl);
	assert_int_equal(atomic_load(&ctl->head), 0);
	assert_int_equal(atomic_load(&ctl->tail), 0);
	uint8_t dummy[8]; /* never touched by attach */
	struct shm_ring_prod p;
	struct shm_ring_cons c;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(shm_ring_prod_attach(&p, ctl, dummy, bad[i]), -1);
		assert_int_equal(shm_ring_cons_attach(&c, ctl, dummy, bad[i]), -1);
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(shm_ring_prod_attach(&p, ctl, dummy, good[i]), 0);
		assert_int_equal(shm_ring_cons_attach(&c, ctl, dummy, good[i]), 0);
		assert_int_equal(p.mask, good[i] - 1u);
		assert_int_equal(c.mask, good[i] - 1u);
	}
	free(ctl);
}

static void test_attach_positions(void **state)
{
	(void)state;
	struct shm_ring_ctl *ctl = aligned_alloc(64, sizeof(*ctl));
	assert_non_null(ctl);
	uint8_t dummy[8];
	struct shm_ring_prod p;
	struct shm_ring_cons c;
	const uint64_t base = (1ull << 40) + 4096u;

	/* legal: each side starts from the published positions */
	shm_ring_init(ctl);
	atomic_store(&ctl->head, base + 1000u);
	atomic_store(&ctl->tail, base);
	assert_int_equal(shm_ring_prod_attach(&p, ctl, dummy, SMALL), 0);
	assert_int_equal(p.head, base + 1000u);
	assert_int_equal(p.tail_cache, base);
	assert_int_equal(shm_ring_cons_attach(&c, ctl, dummy, SMALL), 0);
	assert_int_equal(c.read, base);
	assert_int_equal(c.released, base);
	assert_int_equal(c.head_cache, base + 1000u);

	/* legal: exactly full */
	atomic_store(&ctl->head, base + SMALL);
	assert_int_equal(shm_ring_prod_attach(&p, ctl, dummy, SMALL), 0);
	assert_int_equal(shm_ring_cons_attach(&c, ctl, dummy, SMALL), 0);

	/* more than size apart */
	atomic_store(&ctl->head, base + SMALL + 8u);
	assert_int_equal(shm_ring_prod_attach(&p, ctl, dummy, SMALL), -1);
	assert_int_equal(shm_ring_cons_attach(&c, ctl, dummy, SMALL), -1);
	/* ... but fine for a larger ring */
	assert_int_equal(shm_ring_prod_attach(&p, ctl, dummy, 2u * SMALL), 0);
	assert_int_equal(shm_ring_cons_attach(&c, ctl, dummy, 2u * SMALL), 0);

	/* tail ahead of head */
	atomic_store(&ctl->head, base);
	atomic_store(&ctl->tail, base + 8u);
	assert_int_equal(shm_ring_prod_attach(&p, ctl, dummy, SMALL), -1);
	assert_int_equal(shm_ring_cons_attach(&c, ctl, dummy, SMALL), -1);

	/* unaligned head: the producer refuses (the consumer finds out in peek) */
	atomic_store(&ctl->head, base + 12u);
	atomic_store(&ctl->tail, base);
	assert_int_equal(shm_ring_prod_attach(&p, ctl, dummy, SMALL), -1);

	/* unaligned tail: the consumer refuses */
	atomic_store(&ctl->head, base + 16u);
	atomic_store(&ctl->tail, base + 4u);
	assert_int_equal(shm_ring_cons_attach(&c, ctl, dummy, SMALL), -1);
	free(ctl);
}

/* ---- records ---------------------------------------------------------------- */

static void test_roundtrip_one(void **state)
{
	(void)state;
	struct ring r;
	ring_open(&r, SMALL);
	struct shm_ring_rec rec;
	enum shm_ring_status st;

	assert_int_equal(get(&r, &rec), SHM_RING_EMPTY);
	uint8_t *w = shm_ring_reserve(&r.p, 13, &st);
	assert_int_equal(st, SHM_RING_OK);
	assert_ptr_equal(w, r.data + SHM_RING_REC_HDR);
	memcpy(w, "hello, world!", 13);
	/* reserved is not visible */
	assert_int_equal(get(&r, &rec), SHM_RING_EMPTY);
	assert_int_equal(head_of(&r), 0);
	shm_ring_commit(&r.p, 13, 0x1234, 0x8001);
	assert_int_equal(head_of(&r), 24);

	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	assert_int_equal(rec.length, 13);
	assert_int_equal(rec.type, 0x1234);
	assert_int_equal(rec.flags, 0x8001);
	assert_int_equal(rec.pos, 0);
	assert_int_equal(rec.end, 24);
	assert_memory_equal(rec.data, "hello, world!", 13);
	/* the header as laid out in docs/attach.md §2 (host byte order) */
	uint32_t len32;
	uint16_t t16, f16;
	memcpy(&len32, r.data, 4);
	memcpy(&t16, r.data + 4, 2);
	memcpy(&f16, r.data + 6, 2);
	assert_int_equal(len32, 13);
	assert_int_equal(t16, 0x1234);
	assert_int_equal(f16, 0x8001);

	/* peek does not consume */
	struct shm_ring_rec again;
	assert_int_equal(get(&r, &again), SHM_RING_OK);
	assert_int_equal(again.pos, rec.pos);
	shm_ring_next(&r.c, &rec);
	assert_int_equal(get(&r, &again), SHM_RING_EMPTY);

	/* nothing goes back to the producer before a release */
	assert_int_equal(tail_of(&r), 0);
	assert_int_equal(shm_ring_prod_used(&r.p), 24);
	shm_ring_release_read(&r.c);
	assert_int_equal(tail_of(&r), 24);
	assert_int_equal(shm_ring_prod_used(&r.p), 0);
	ring_close(&r);
}

/* A reservation may be committed shorter than it was reserved. */
static void test_commit_shorter(void **state)
{
	(void)state;
	struct ring r;
	ring_open(&r, SMALL);
	enum shm_ring_status st;
	uint8_t *w = shm_ring_reserve(&r.p, 500, &st);
	assert_int_equal(st, SHM_RING_OK);
	memset(w, 0x5A, 3);
	shm_ring_commit(&r.p, 3, TYPE_DATA, 0);
	assert_int_equal(head_of(&r), 16);
	assert_int_equal(put(&r, 1, TYPE_DATA, 0, 9), SHM_RING_OK);
	struct shm_ring_rec rec;
	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	assert_int_equal(rec.length, 3);
	assert_int_equal(rec.end, 16);
	shm_ring_next(&r.c, &rec);
	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	check_payload(&rec, 1, 9);
	ring_close(&r);
}

/* Every length 0..300, first one record at a time, then in batches that
 * fill the ring (so FULL and PAD happen at many different offsets). */
static void test_every_length(void **state)
{
	(void)state;
	struct ring r;
	ring_open(&r, SMALL);
	struct shm_ring_rec rec;

	for (uint32_t len = 0; len <= 300; len++) {
		assert_int_equal(put(&r, len, (uint16_t)(len + 1u), (uint16_t)(len * 3u), len), SHM_RING_OK);
		assert_int_equal(get(&r, &rec), SHM_RING_OK);
		check_payload(&rec, len, len);
		assert_int_equal(rec.type, len + 1u);
		assert_int_equal(rec.flags, (uint16_t)(len * 3u));
		shm_ring_next(&r.c, &rec);
		assert_int_equal(get(&r, &rec), SHM_RING_EMPTY);
		shm_ring_release_read(&r.c);
	}

	uint32_t next_put = 0, next_get = 0, fulls = 0;
	while (next_get <= 300) {
		while (next_put <= 300) {
			uint64_t head = head_of(&r);
			enum shm_ring_status st = put(&r, next_put, TYPE_DATA, (uint16_t)next_put, next_put + 1000u);
			if (st == SHM_RING_FULL) {
				/* not spurious: the record (and its PAD) does not fit */
				uint64_t off = head & (SMALL - 1u), need = need_of(next_put);
				uint64_t pad = off + need > SMALL ? SMALL - off : 0;
				assert_true(head - tail_of(&r) + pad + need > SMALL);
				assert_int_equal(head_of(&r), head); /* nothing published */
				fulls++;
				break;
			}
			assert_int_equal(st, SHM_RING_OK);
			next_put++;
		}
		enum shm_ring_status st;
		while ((st = get(&r, &rec)) == SHM_RING_OK) {
			check_payload(&rec, next_get, next_get + 1000u);
			assert_int_equal(rec.flags, next_get);
			shm_ring_next(&r.c, &rec);
			next_get++;
		}
		assert_int_equal(st, SHM_RING_EMPTY);
		assert_int_equal(next_get, next_put);
		shm_ring_release_read(&r.c);
		assert_int_equal(tail_of(&r), head_of(&r));
	}
	assert_true(fulls >= 5);
	ring_close(&r);
}

/* A record that does not fit before the end of the data area: a PAD fills
 * the rest and the record starts at offset 0; the consumer skips the PAD. */
static void test_wrap_pad(void **state)
{
	(void)state;
	struct ring r;
	ring_open_at(&r, SMALL, SMALL - 24u); /* 24 bytes before the end */
	struct shm_ring_rec rec;
	enum shm_ring_status st;
	const uint64_t start = SMALL - 24u;

	uint8_t *w = shm_ring_reserve(&r.p, 100, &st); /* needs 112 */
	assert_int_equal(st, SHM_RING_OK);
	assert_ptr_equal(w, r.data + SHM_RING_REC_HDR); /* at offset 0 */
	/* the PAD is written, but nothing is published before the commit */
	uint32_t pad_len;
	uint16_t pad_type;
	memcpy(&pad_len, r.data + start, 4);
	memcpy(&pad_type, r.data + start + 4, 2);
	assert_int_equal(pad_len, 16);
	assert_int_equal(pad_type, SHM_RING_TYPE_PAD);
	assert_int_equal(head_of(&r), start);
	assert_int_equal(get(&r, &rec), SHM_RING_EMPTY);

	for (uint32_t i = 0; i < 100; i++)
		w[i] = pattern(1, i);
	shm_ring_commit(&r.p, 100, TYPE_DATA, 5);
	assert_int_equal(head_of(&r), start + 24u + 112u);

	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	assert_int_equal(rec.pos, SMALL); /* positions keep growing */
	assert_ptr_equal(rec.data, r.data + SHM_RING_REC_HDR);
	assert_int_equal(rec.end, SMALL + 112u);
	assert_int_equal(rec.flags, 5);
	check_payload(&rec, 100, 1);
	shm_ring_next(&r.c, &rec);
	const uint64_t end = rec.end;
	assert_int_equal(get(&r, &rec), SHM_RING_EMPTY);

	/* the PAD's bytes come back to the producer with the record after it */
	shm_ring_release(&r.c, end);
	assert_int_equal(shm_ring_prod_used(&r.p), 0);
	ring_close(&r);
}

/* A record that ends exactly at the end of the data area needs no PAD; the
 * smallest PAD is a bare header (8 bytes left). */
static void test_wrap_exact(void **state)
{
	(void)state;
	struct ring r;
	struct shm_ring_rec rec;

	ring_open_at(&r, SMALL, SMALL - 112u);
	assert_int_equal(put(&r, 100, TYPE_DATA, 0, 2), SHM_RING_OK); /* ends at SMALL */
	assert_int_equal(head_of(&r), SMALL);
	assert_int_equal(put(&r, 0, TYPE_DATA, 0, 3), SHM_RING_OK); /* offset 0 */
	assert_int_equal(head_of(&r), SMALL + 8u);
	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	assert_int_equal(rec.pos, SMALL - 112u);
	check_payload(&rec, 100, 2);
	shm_ring_next(&r.c, &rec);
	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	assert_int_equal(rec.pos, SMALL);
	assert_int_equal(rec.length, 0);
	ring_close(&r);

	ring_open_at(&r, SMALL, SMALL - 16u);
	assert_int_equal(put(&r, 0, TYPE_DATA, 0, 4), SHM_RING_OK); /* fits: 8 */
	assert_int_equal(put(&r, 1, TYPE_DATA, 0, 5), SHM_RING_OK); /* 16 > 8: PAD of 8 */
	assert_int_equal(head_of(&r), SMALL + 16u);
	uint32_t pad_len;
	memcpy(&pad_len, r.data + SMALL - 8u, 4);
	assert_int_equal(pad_len, 0);
	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	assert_int_equal(rec.length, 0);
	shm_ring_next(&r.c, &rec);
	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	assert_int_equal(rec.pos, SMALL);
	check_payload(&rec, 1, 5);
	ring_close(&r);
}

/* A reservation that wrote a PAD and is then abandoned publishes the PAD
 * only; the consumer skips it and sees nothing. */
static void test_abandon(void **state)
{
	(void)state;
	struct ring r;
	struct shm_ring_rec rec;
	enum shm_ring_status st;
	ring_open_at(&r, SMALL, SMALL - 32u);
	assert_non_null(shm_ring_reserve(&r.p, 200, &st));
	shm_ring_abandon(&r.p);
	assert_int_equal(head_of(&r), SMALL);
	assert_int_equal(get(&r, &rec), SHM_RING_EMPTY);
	assert_int_equal(r.c.read, SMALL);
	shm_ring_release_read(&r.c);
	assert_int_equal(shm_ring_prod_used(&r.p), 0);
	assert_int_equal(put(&r, 200, TYPE_DATA, 0, 6), SHM_RING_OK);
	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	assert_int_equal(rec.pos, SMALL);
	check_payload(&rec, 200, 6);
	ring_close(&r);
}

/* ---- room ---------------------------------------------------------------------- */

static void test_full_then_release(void **state)
{
	(void)state;
	struct ring r;
	struct shm_ring_rec rec;
	enum shm_ring_status st;
	ring_open(&r, SMALL);

	for (uint32_t i = 0; i < 3; i++)
		assert_int_equal(put(&r, SMALL_MAX, TYPE_DATA, 0, i), SHM_RING_OK);
	assert_int_equal(put(&r, 8, TYPE_DATA, 0, 3), SHM_RING_OK); /* 3088 used */
	assert_null(shm_ring_reserve(&r.p, 1001, &st));             /* 1016 > 1008 */
	assert_int_equal(st, SHM_RING_FULL);
	assert_int_equal(put(&r, 1000, TYPE_DATA, 0, 4), SHM_RING_OK); /* exactly full */
	assert_int_equal(head_of(&r), SMALL);
	assert_int_equal(shm_ring_prod_used(&r.p), SMALL);
	assert_null(shm_ring_reserve(&r.p, 0, &st));
	assert_int_equal(st, SHM_RING_FULL);
	assert_int_equal(head_of(&r), SMALL);

	/* read without release: still full */
	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	check_payload(&rec, SMALL_MAX, 0);
	shm_ring_next(&r.c, &rec);
	assert_null(shm_ring_reserve(&r.p, 0, &st));
	assert_int_equal(st, SHM_RING_FULL);

	/* release one record: exactly its room comes back */
	shm_ring_release_read(&r.c);
	assert_null(shm_ring_reserve(&r.p, SMALL_MAX + 1u, &st));
	assert_int_equal(st, SHM_RING_TOOBIG);
	assert_int_equal(put(&r, SMALL_MAX, TYPE_DATA, 0, 5), SHM_RING_OK);
	assert_int_equal(put(&r, 0, TYPE_DATA, 0, 6), SHM_RING_FULL);

	/* everything still comes out in order */
	static const uint32_t lens[] = {SMALL_MAX, SMALL_MAX, 8, 1000, SMALL_MAX};
	static const uint32_t tags[] = {1, 2, 3, 4, 5};
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(get(&r, &rec), SHM_RING_OK);
		check_payload(&rec, lens[i], tags[i]);
		shm_ring_next(&r.c, &rec);
	}
	assert_int_equal(get(&r, &rec), SHM_RING_EMPTY);
	ring_close(&r);
}

/* A PAD is needed and the free room would hold the record but not the PAD
 * as well: FULL, and nothing is written; once more room comes back the PAD
 * and the record go in. */
static void test_full_at_wrap(void **state)
{
	(void)state;
	struct ring r;
	struct shm_ring_rec rec;
	uint8_t before[SMALL];
	ring_open(&r, SMALL);
	assert_int_equal(put(&r, 1000, TYPE_DATA, 0, 0), SHM_RING_OK); /* 1008 */
	assert_int_equal(put(&r, SMALL_MAX, TYPE_DATA, 0, 1), SHM_RING_OK);
	assert_int_equal(put(&r, SMALL_MAX, TYPE_DATA, 0, 2), SHM_RING_OK);
	assert_int_equal(put(&r, 1008, TYPE_DATA, 0, 3), SHM_RING_OK); /* head 4072 */
	assert_int_equal(head_of(&r), SMALL - 24u);

	/* 24 bytes free at the end: a 32-byte record needs a PAD first */
	memcpy(before, r.data, SMALL);
	assert_int_equal(put(&r, 24, TYPE_DATA, 0, 4), SHM_RING_FULL);
	assert_memory_equal(before, r.data, SMALL);

	/* release the first record: 1032 free, the largest record needs 1024
	 * plus a PAD of 24 */
	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	shm_ring_next(&r.c, &rec);
	shm_ring_release_read(&r.c);
	assert_int_equal(shm_ring_prod_used(&r.p), SMALL - 1032u);
	assert_int_equal(put(&r, SMALL_MAX, TYPE_DATA, 0, 5), SHM_RING_FULL);
	assert_memory_equal(before, r.data, SMALL);
	assert_int_equal(head_of(&r), SMALL - 24u);
	/* ... while one that fits with its PAD goes in */
	assert_int_equal(put(&r, 1000, TYPE_DATA, 0, 6), SHM_RING_OK); /* 24 + 1008 */
	assert_int_equal(head_of(&r), SMALL + 1008u);
	assert_int_equal(shm_ring_prod_used(&r.p), SMALL);
	ring_close(&r);
}

static void test_toobig(void **state)
{
	(void)state;
	static const uint64_t sizes[] = {SMALL, 65536, 1u << 20};
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct ring r;
		struct shm_ring_rec rec;
		enum shm_ring_status st;
		uint32_t max = shm_ring_max_record(sizes[i]);
		ring_open(&r, sizes[i]);
		assert_null(shm_ring_reserve(&r.p, max + 1u, &st));
		assert_int_equal(st, SHM_RING_TOOBIG);
		assert_null(shm_ring_reserve(&r.p, UINT32_MAX, &st));
		assert_int_equal(st, SHM_RING_TOOBIG);
		assert_int_equal(head_of(&r), 0);
		assert_int_equal(put(&r, max, TYPE_DATA, 0, 1), SHM_RING_OK);
		assert_int_equal(get(&r, &rec), SHM_RING_OK);
		check_payload(&rec, max, 1);
		ring_close(&r);
	}
}

/* docs/attach.md §2: the largest record always fits in an empty ring, after
 * at most one PAD, wherever the positions are. */
static void test_largest_fits_anywhere(void **state)
{
	(void)state;
	for (uint64_t start = SMALL; start < 2u * SMALL; start += SHM_RING_ALIGN) {
		struct ring r;
		struct shm_ring_rec rec;
		ring_open_at(&r, SMALL, start);
		assert_int_equal(put(&r, SMALL_MAX, TYPE_DATA, 0, 2), SHM_RING_OK);
		assert_int_equal(get(&r, &rec), SHM_RING_OK);
		assert_int_equal(rec.length, SMALL_MAX);
		ring_close(&r);
	}
}

/* Zero-copy use: read three records, release after the first only; the
 * producer gets exactly that room, and the other two stay intact. */
static void test_release_lagging(void **state)
{
	(void)state;
	struct ring r;
	struct shm_ring_rec a, b, c, d;
	ring_open(&r, SMALL);
	assert_int_equal(put(&r, 504, TYPE_DATA, 0, 1), SHM_RING_OK); /* 512 */
	assert_int_equal(put(&r, SMALL_MAX, TYPE_DATA, 0, 2), SHM_RING_OK);
	assert_int_equal(put(&r, SMALL_MAX, TYPE_DATA, 0, 3), SHM_RING_OK);
	assert_int_equal(put(&r, SMALL_MAX, TYPE_DATA, 0, 4), SHM_RING_OK);
	assert_int_equal(put(&r, 504, TYPE_DATA, 0, 5), SHM_RING_OK); /* full */
	assert_int_equal(put(&r, 0, TYPE_DATA, 0, 6), SHM_RING_FULL);

	assert_int_equal(get(&r, &a), SHM_RING_OK);
	shm_ring_next(&r.c, &a);
	assert_int_equal(get(&r, &b), SHM_RING_OK);
	shm_ring_next(&r.c, &b);
	assert_int_equal(get(&r, &c), SHM_RING_OK);
	shm_ring_next(&r.c, &c);
	assert_int_equal(r.c.read, 512u + 2048u);
	shm_ring_release(&r.c, a.end);
	assert_int_equal(tail_of(&r), 512);
	assert_int_equal(shm_ring_prod_used(&r.p), SMALL - 512u);

	/* 512 bytes of room: one byte more does not fit, exactly 512 does */
	assert_int_equal(put(&r, 505, TYPE_DATA, 0, 7), SHM_RING_FULL);
	assert_int_equal(put(&r, 504, TYPE_DATA, 0, 8), SHM_RING_OK);
	assert_int_equal(put(&r, 0, TYPE_DATA, 0, 9), SHM_RING_FULL);
	check_payload(&b, SMALL_MAX, 2);
	check_payload(&c, SMALL_MAX, 3);

	/* releasing backwards is a no-op; forwards frees up to there */
	shm_ring_release(&r.c, c.end);
	assert_int_equal(tail_of(&r), 512u + 2048u);
	shm_ring_release(&r.c, b.end);
	assert_int_equal(tail_of(&r), 512u + 2048u);
	assert_int_equal(shm_ring_prod_used(&r.p), SMALL + 512u - 2560u);

	assert_int_equal(get(&r, &d), SHM_RING_OK);
	check_payload(&d, SMALL_MAX, 4);
	shm_ring_next(&r.c, &d);
	assert_int_equal(get(&r, &d), SHM_RING_OK);
	check_payload(&d, 504, 5);
	shm_ring_next(&r.c, &d);
	assert_int_equal(get(&r, &d), SHM_RING_OK);
	assert_int_equal(d.pos, SMALL);
	check_payload(&d, 504, 8);
	ring_close(&r);
}

/* ---- garbage from the producer, seen by the consumer ------------------------- */

static void test_cons_garbage_head_behind(void **state)
{
	(void)state;
	struct ring r;
	struct shm_ring_rec rec;
	ring_open(&r, SMALL);
	assert_int_equal(put(&r, 16, TYPE_DATA, 0, 1), SHM_RING_OK);
	assert_int_equal(put(&r, 16, TYPE_DATA, 0, 2), SHM_RING_OK); /* head 48 */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(get(&r, &rec), SHM_RING_OK);
		shm_ring_next(&r.c, &rec);
	}
	assert_int_equal(get(&r, &rec), SHM_RING_EMPTY); /* head unchanged: fine */
	forge(&r, 48, 0, TYPE_DATA); /* what a record at the read position looks like */
	forge_head(&r, 40);          /* behind the read position (not the released tail) */
	assert_int_equal(get(&r, &rec), SHM_RING_GARBAGE);
	ring_close(&r);

	ring_open_at(&r, SMALL, 4096u * 3u);
	assert_int_equal(put(&r, 16, TYPE_DATA, 0, 1), SHM_RING_OK);
	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	shm_ring_next(&r.c, &rec);
	shm_ring_release_read(&r.c);
	forge(&r, 24, 0, TYPE_DATA);
	forge_head(&r, 0); /* far behind the released tail */
	assert_int_equal(get(&r, &rec), SHM_RING_GARBAGE);
	ring_close(&r);
}

static void test_cons_garbage_head_too_far(void **state)
{
	(void)state;
	struct ring r;
	struct shm_ring_rec rec;

	/* exactly size ahead of the tail: a full ring, legal */
	ring_open(&r, SMALL);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(put(&r, SMALL_MAX, TYPE_DATA, 0, i), SHM_RING_OK);
	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	ring_close(&r);

	/* one word more */
	ring_open(&r, SMALL);
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(put(&r, SMALL_MAX, TYPE_DATA, 0, i), SHM_RING_OK);
	forge_head(&r, SMALL + 8u);
	assert_int_equal(get(&r, &rec), SHM_RING_GARBAGE);
	ring_close(&r);

	/* far ahead, with nothing valid in the ring */
	ring_open(&r, SMALL);
	forge_head(&r, 1ull << 50);
	assert_int_equal(get(&r, &rec), SHM_RING_GARBAGE);
	ring_close(&r);

	/* measured from the released tail, not the read position: with a
	 * lagging release the producer may be at most size past the tail */
	for (int forged = 0; forged < 2; forged++) {
		ring_open(&r, SMALL);
		for (uint32_t i = 0; i < 4; i++)
			assert_int_equal(put(&r, SMALL_MAX, TYPE_DATA, 0, i), SHM_RING_OK);
		for (int i = 0; i < 4; i++) {
			assert_int_equal(get(&r, &rec), SHM_RING_OK);
			shm_ring_next(&r.c, &rec);
			if (i == 0)
				shm_ring_release_read(&r.c); /* tail 1024 */
		}
		assert_int_equal(put(&r, SMALL_MAX, TYPE_DATA, 0, 4), SHM_RING_OK); /* head 5120 */
		if (!forged) {
			assert_int_equal(get(&r, &rec), SHM_RING_OK);
			assert_int_equal(rec.pos, SMALL);
		} else {
			/* one word more: 4104 past the tail, but only 1032 past read,
			 * and the record at read (1024 bytes) lies below it */
			forge_head(&r, SMALL + 1024u + 8u);
			assert_int_equal(get(&r, &rec), SHM_RING_GARBAGE);
		}
		ring_close(&r);
	}
}

static void test_cons_garbage_head_unaligned(void **state)
{
	(void)state;
	static const uint64_t heads[] = {12, 17, 15, 4};
	struct ring r;
	struct shm_ring_rec rec;
	ring_open(&r, SMALL);
	forge(&r, 0, 4, TYPE_DATA); /* record of 16 bytes */
	forge_head(&r, 16);
	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	ring_close(&r);
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		ring_open(&r, SMALL);
		forge(&r, 0, 4, TYPE_DATA);
		forge_head(&r, heads[i]);
		assert_int_equal(get(&r, &rec), SHM_RING_GARBAGE);
		ring_close(&r);
	}
}

static void test_cons_garbage_len_past_head(void **state)
{
	(void)state;
	static const uint32_t lens[] = {105, 200, 0xFFFFFFF9u, 0xFFFFFFFFu};
	struct ring r;
	struct shm_ring_rec rec;
	ring_open(&r, SMALL);
	forge(&r, 0, 100, TYPE_DATA);
	forge_head(&r, 112);
	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	ring_close(&r);
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		ring_open(&r, SMALL);
		forge(&r, 0, lens[i], TYPE_DATA);
		forge_head(&r, 112);
		assert_int_equal(get(&r, &rec), SHM_RING_GARBAGE);
		ring_close(&r);
	}
	/* the second record of a batch runs past head */
	ring_open(&r, SMALL);
	forge(&r, 0, 8, TYPE_DATA);
	forge(&r, 16, 16, TYPE_DATA);
	forge_head(&r, 32);
	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	shm_ring_next(&r.c, &rec);
	assert_int_equal(get(&r, &rec), SHM_RING_GARBAGE);
	ring_close(&r);
}

/* A record (not a PAD) that would cross the end of the data area. */
static void test_cons_garbage_len_past_end(void **state)
{
	(void)state;
	struct ring r;
	struct shm_ring_rec rec;
	ring_open_at(&r, SMALL, SMALL - 16u);
	forge(&r, SMALL - 16u, 8, TYPE_DATA); /* ends exactly at the end */
	forge_head(&r, SMALL);
	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	ring_close(&r);

	ring_open_at(&r, SMALL, SMALL - 16u);
	forge(&r, SMALL - 16u, 16, TYPE_DATA);
	forge_head(&r, SMALL + 512u);
	assert_int_equal(get(&r, &rec), SHM_RING_GARBAGE);
	ring_close(&r);

	ring_open_at(&r, SMALL, SMALL - 8u);
	forge(&r, SMALL - 8u, 1, TYPE_DATA);
	forge_head(&r, SMALL + 8u);
	assert_int_equal(get(&r, &rec), SHM_RING_GARBAGE);
	ring_close(&r);
}

static void test_cons_garbage_too_long(void **state)
{
	(void)state;
	struct ring r;
	struct shm_ring_rec rec;
	ring_open(&r, SMALL);
	forge(&r, 0, SMALL_MAX, TYPE_DATA);
	forge_head(&r, 2048);
	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	ring_close(&r);

	ring_open(&r, SMALL);
	forge(&r, 0, SMALL_MAX + 1u, TYPE_DATA);
	forge_head(&r, 2048);
	assert_int_equal(get(&r, &rec), SHM_RING_GARBAGE);
	ring_close(&r);

	ring_open(&r, 65536);
	forge(&r, 0, shm_ring_max_record(65536) + 1u, TYPE_DATA);
	forge_head(&r, 65536);
	assert_int_equal(get(&r, &rec), SHM_RING_GARBAGE);
	ring_close(&r);
}

static void test_cons_garbage_pad(void **state)
{
	(void)state;
	struct ring r;
	struct shm_ring_rec rec;

	/* legal: a bare PAD in the last 8 bytes, then a record at offset 0 */
	ring_open_at(&r, SMALL, SMALL - 8u);
	forge(&r, SMALL - 8u, 0, SHM_RING_TYPE_PAD);
	forge(&r, 0, 4, TYPE_DATA);
	forge_head(&r, SMALL + 16u);
	assert_int_equal(get(&r, &rec), SHM_RING_OK);
	assert_int_equal(rec.pos, SMALL);
	ring_close(&r);

	/* a PAD at offset 0 that does not reach the end */
	ring_open(&r, SMALL);
	forge(&r, 0, 0, SHM_RING_TYPE_PAD);
	forge(&r, 8, 4, TYPE_DATA);
	forge_head(&r, 24);
	assert_int_equal(get(&r, &rec), SHM_RING_GARBAGE);
	ring_close(&r);

	/* a PAD in mid-ring, 8 bytes short of the end */
	ring_open_at(&r, SMALL, SMALL - 64u);
	forge(&r, SMALL - 64u, 48, SHM_RING_TYPE_PAD);
	forge(&r, SMALL - 8u, 0, TYPE_DATA);
	forge_head(&r, SMALL);
	assert_int_equal(get(&r, &rec), SHM_RING_GARBAGE);
	ring_close(&r);

	/* a PAD running past the end */
	ring_open_at(&r, SMALL, SMALL - 16u);
	forge(&r, SMALL - 16u, 16, SHM_RING_TYPE_PAD);
	forge_head(&r, SMALL + 64u);
	assert_int_equal(get(&r, &rec), SHM_RING_GARBAGE);
	ring_close(&r);

	/* a PAD ending the data area but past head */
	ring_open_at(&r, SMALL, SMALL - 64u);
	forge(&r, SMALL - 64u, 56, SHM_RING_TYPE_PAD);
	forge_head(&r, SMALL - 32u);
	assert_int_equal(get(&r, &rec), SHM_RING_GARBAGE);
	ring_close(&r);
}

/* ---- garbage from the consumer, seen by the producer ------------------------- */

/* The producer looks at the consumer's tail only when its cached copy shows
 * no room, so each case first fills the ring. */
static void fill(struct ring *r)
{
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(put(r, SMALL_MAX, TYPE_DATA, 0, i), SHM_RING_OK);
}

static void test_prod_garbage_tail_ahead(void **state)
{
	(void)state;
	struct ring r;
	enum shm_ring_status st;

	ring_open(&r, SMALL);
	fill(&r);
	atomic_store(&r.ctl->tail, SMALL); /* everything released: legal */
	assert_non_null(shm_ring_reserve(&r.p, 0, &st));
	assert_int_equal(st, SHM_RING_OK);
	ring_close(&r);

	ring_open(&r, SMALL);
	fill(&r);
	atomic_store(&r.ctl->tail, SMALL + 8u);
	assert_null(shm_ring_reserve(&r.p, 0, &st));
	assert_int_equal(st, SHM_RING_GARBAGE);
	assert_int_equal(head_of(&r), SMALL);
	ring_close(&r);
}

static void test_prod_garbage_tail_behind(void **state)
{
	(void)state;
	struct ring r;
	enum shm_ring_status st;
	const uint64_t start = 2u * SMALL;

	ring_open_at(&r, SMALL, start);
	fill(&r);
	atomic_store(&r.ctl->tail, start); /* exactly size behind: full, legal */
	assert_null(shm_ring_reserve(&r.p, 0, &st));
	assert_int_equal(st, SHM_RING_FULL);
	atomic_store(&r.ctl->tail, start - 8u);
	assert_null(shm_ring_reserve(&r.p, 0, &st));
	assert_int_equal(st, SHM_RING_GARBAGE);
	atomic_store(&r.ctl->tail, 0);
	assert_null(shm_ring_reserve(&r.p, 0, &st));
	assert_int_equal(st, SHM_RING_GARBAGE);
	assert_int_equal(head_of(&r), start + SMALL);
	ring_close(&r);
}

/* ---- two threads ------------------------------------------------------------- */

#ifndef STRESS_RECORDS
#define STRESS_RECORDS 2000000u
#endif
#define STRESS_SIZE (64u * 1024u)
#define STRESS_MAX_LEN 2000u
#define STRESS_SEED 0x5EEDF00Dull
#define STRESS_HOLD 4u /* records the consumer may keep unreleased */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint32_t stress_len(uint64_t *s) { return (uint32_t)(splitmix(s) % (STRESS_MAX_LEN + 1u)); }

/* Payload of record seq: its first word is seq (when length >= 8), the
 * others derived from seq and their index (cheap: the stress test moves
 * about 2 GB through the ring). */
static uint64_t stress_word(uint64_t seq, uint32_t i)
{
	return i == 0 ? seq : ((seq << 20) ^ i) * 0x9E3779B97F4A7C15ull;
}

static void stress_fill(uint8_t *w, uint32_t length, uint64_t seq)
{
	uint32_t i = 0;
	for (; i + 8u <= length; i += 8u) {
		uint64_t word = stress_word(seq, i / 8u);
		memcpy(w + i, &word, 8);
	}
	if (i < length) {
		uint64_t word = stress_word(seq, i / 8u);
		memcpy(w + i, &word, length - i);
	}
}

/* A 16-bit checksum of seq and the payload (Fletcher-like over 64-bit
 * words; carried in the flags). */
static uint16_t stress_sum(const uint8_t *d, uint32_t length, uint64_t seq)
{
	uint64_t a = seq, b = length, word;
	uint32_t i = 0;
	for (; i + 8u <= length; i += 8u) {
		memcpy(&word, d + i, 8);
		a += word;
		b += a;
	}
	word = 0;
	if (i < length)
		memcpy(&word, d + i, length - i);
	a += word;
	b += a;
	uint64_t h = (a ^ (b * 0xFF51AFD7ED558CCDull)) * 0xC4CEB9FE1A85EC53ull;
	h ^= h >> 32;
	return (uint16_t)(h ^ (h >> 16));
}

struct stress {
	struct ring r;
	atomic_int stop;
	/* written by the consumer, read after join */
	_Alignas(64) uint64_t received;
	uint64_t bad_seq;
	const char *bad;
	uint64_t held_max, lagging_releases, pads;
	/* written by the producer */
	_Alignas(64) uint64_t fulls;
	const char *prod_bad;
};

static void stress_wait(unsigned *spins)
{
	if (++*spins < 64u) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	} else {
		*spins = 0;
		sched_yield();
	}
}

static void *stress_producer(void *arg)
{
	struct stress *s = arg;
	uint64_t lens = STRESS_SEED;
	for (uint64_t seq = 0; seq < STRESS_RECORDS; seq++) {
		uint32_t length = stress_len(&lens);
		enum shm_ring_status st;
		uint8_t *w;
		unsigned spins = 0;
		while ((w = shm_ring_reserve(&s->r.p, length, &st)) == NULL) {
			if (st != SHM_RING_FULL) {
				s->prod_bad = "reserve failed";
				atomic_store(&s->stop, 1);
				return NULL;
			}
			if (atomic_load_explicit(&s->stop, memory_order_relaxed))
				return NULL;
			s->fulls++;
			stress_wait(&spins);
		}
		stress_fill(w, length, seq);
		shm_ring_commit(&s->r.p, length, (uint16_t)(seq & 0x7FFFu), stress_sum(w, length, seq));
	}
	return NULL;
}

static int stress_check(struct stress *s, const struct shm_ring_rec *rec, uint64_t seq)
{
	uint64_t mask = STRESS_SIZE - 1u, off = rec->pos & mask;
	if (rec->data != s->r.data + off + SHM_RING_REC_HDR || off + (rec->end - rec->pos) > STRESS_SIZE)
		s->bad = "record not contiguous inside the data area";
	else if (rec->type != (seq & 0x7FFFu))
		s->bad = "type (sequence number) out of order";
	else if (rec->length >= 8u && memcmp(rec->data, &seq, 8) != 0)
		s->bad = "sequence number in the payload out of order";
	else if (rec->flags != stress_sum(rec->data, rec->length, seq))
		s->bad = "payload checksum";
	else
		return 0;
	s->bad_seq = seq;
	atomic_store(&s->stop, 1);
	return -1;
}

static void *stress_consumer(void *arg)
{
	struct stress *s = arg;
	uint64_t lens = STRESS_SEED, dice = 42;
	struct shm_ring_rec held[STRESS_HOLD];
	uint64_t held_seq[STRESS_HOLD];
	unsigned nheld = 0, spins = 0;
	uint64_t seq = 0;
	while (seq < STRESS_RECORDS) {
		struct shm_ring_rec rec;
		uint64_t read_before = s->r.c.read;
		enum shm_ring_status st = shm_ring_peek(&s->r.c, &rec);
		if (st == SHM_RING_OK && rec.pos != read_before)
			s->pads++;
		if (st == SHM_RING_EMPTY) {
			/* nothing new: give back everything (held records checked again) */
			for (unsigned i = 0; i < nheld; i++)
				if (stress_check(s, &held[i], held_seq[i]) != 0)
					return NULL;
			nheld = 0;
			shm_ring_release_read(&s->r.c);
			if (atomic_load_explicit(&s->stop, memory_order_relaxed))
				return NULL;
			stress_wait(&spins);
			continue;
		}
		if (st != SHM_RING_OK) {
			s->bad = "peek failed";
			s->bad_seq = seq;
			atomic_store(&s->stop, 1);
			return NULL;
		}
		spins = 0;
		if (rec.length != stress_len(&lens)) {
			s->bad = "length out of order";
			s->bad_seq = seq;
			atomic_store(&s->stop, 1);
			return NULL;
		}
		if (stress_check(s, &rec, seq) != 0)
			return NULL;
		shm_ring_next(&s->r.c, &rec);
		held[nheld] = rec;
		held_seq[nheld] = seq;
		nheld++;
		seq++;
		s->received = seq;
		if (nheld > s->held_max)
			s->held_max = nheld;
		/* mostly release at once; sometimes keep a few records (zero-copy
		 * use) and release only a prefix of them */
		uint64_t roll = splitmix(&dice);
		if (nheld < STRESS_HOLD && (roll & 3u) == 0)
			continue;
		unsigned k = nheld == 1 ? 1u : 1u + (unsigned)((roll >> 8) % nheld);
		/* the records read before the newest must still be intact */
		for (unsigned i = 0; i < k && i + 1u < nheld; i++)
			if (stress_check(s, &held[i], held_seq[i]) != 0)
				return NULL;
		shm_ring_release(&s->r.c, held[k - 1u].end);
		if (k < nheld)
			s->lagging_releases++;
		memmove(held, held + k, (nheld - k) * sizeof(held[0]));
		memmove(held_seq, held_seq + k, (nheld - k) * sizeof(held_seq[0]));
		nheld -= k;
	}
	shm_ring_release_read(&s->r.c);
	return NULL;
}

static void test_stress_two_threads(void **state)
{
	(void)state;
	static struct stress s;
	memset(&s, 0, sizeof(s));
	ring_open(&s.r, STRESS_SIZE);
	atomic_init(&s.stop, 0);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_t prod, cons;
	assert_int_equal(pthread_create(&cons, NULL, stress_consumer, &s), 0);
	assert_int_equal(pthread_create(&prod, NULL, stress_producer, &s), 0);
	assert_int_equal(pthread_join(prod, NULL), 0);
	assert_int_equal(pthread_join(cons, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("stress: %llu records in %.2f s, %llu PADs, %llu lagging releases, "
		      "held up to %llu, %llu FULL retries\n",
		      (unsigned long long)s.received, secs, (unsigned long long)s.pads,
		      (unsigned long long)s.lagging_releases, (unsigned long long)s.held_max,
		      (unsigned long long)s.fulls);
	if (s.prod_bad != NULL)
		fail_msg("producer: %s", s.prod_bad);
	if (s.bad != NULL)
		fail_msg("consumer, record %llu: %s", (unsigned long long)s.bad_seq, s.bad);
	assert_int_equal(s.received, STRESS_RECORDS);
	assert_int_equal(head_of(&s.r), tail_of(&s.r));
	assert_true(s.pads > 0);
	assert_true(s.lagging_releases > 0);
	assert_int_equal(s.held_max, STRESS_HOLD);
	ring_close(&s.r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_max_record),
		cmocka_unit_test(test_attach_sizes),
		cmocka_unit_test(test_attach_positions),
		cmocka_unit_test(test_roundtrip_one),
		cmocka_unit_test(test_commit_shorter),
		cmocka_unit_test(test_every_length),
		cmocka_unit_test(test_wrap_pad),
		cmocka_unit_test(test_wrap_exact),
		cmocka_unit_test(test_abandon),
		cmocka_unit_test(test_full_then_release),
		cmocka_unit_test(test_full_at_wrap),
		cmocka_unit_test(test_toobig),
		cmocka_unit_test(test_largest_fits_anywhere),
		cmocka_unit_test(test_release_lagging),
		cmocka_unit_test(test_cons_garbage_head_behind),
		cmocka_unit_test(test_cons_garbage_head_too_far),
		cmocka_unit_test(test_cons_garbage_head_unaligned),
		cmocka_unit_test(test_cons_garbage_len_past_head),
		cmocka_unit_test(test_cons_garbage_len_past_end),
		cmocka_unit_test(test_cons_garbage_too_long),
		cmocka_unit_test(test_cons_garbage_pad),
		cmocka_unit_test(test_prod_garbage_tail_ahead),
		cmocka_unit_test(test_prod_garbage_tail_behind),
		cmocka_unit_test(test_stress_two_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
