/* shm_ring_bench.c — the ring side of bench/bench_shm_ring.cc: the loops
 * that drive client/shm_ring.h, as plain C functions.
 *
 * Owns: one ring in process memory laid out as in a client region (control
 * block, then the data area right after it), a single-thread round trip
 * (reserve, copy in, commit, peek, copy out, next, release), and a
 * producer-thread/consumer-thread stream.
 * Never: is compiled as C++ — shm_ring.h uses C11 _Atomic and _Alignas,
 * which C++ does not accept (C++23's <stdatomic.h> only offers the
 * _Atomic(T) spelling, and the ring's layout must stay the C one); prints
 * anything (errors are return values the benchmark reports).
 *
 * The functions are declared in bench_shm_ring.cc (extern "C").
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "shm_ring.h"

#define SHMB_TYPE 1u

/* Each side's handle on a cache line of its own: in the two-thread stream
 * they are written by different threads. */
struct shmb {
	struct shm_ring_ctl *ctl; /* the control block, the data area after it */
	uint64_t size;
	uint8_t *src; /* a payload of the largest record */
	uint8_t *dst; /* where the consumer copies it out */
	_Alignas(64) struct shm_ring_prod p;
	_Alignas(64) struct shm_ring_cons c;
};

struct shmb *shmb_open(uint64_t size);
void shmb_close(struct shmb *b);
int shmb_roundtrip(struct shmb *b, uint32_t length, uint64_t n);
int shmb_stream(uint64_t size, uint32_t length, uint64_t n, double *seconds);

/* A ring of size data bytes (a power of two >= 4096); NULL on failure. */
struct shmb *shmb_open(uint64_t size)
{
	struct shmb *b = aligned_alloc(64, sizeof(*b));
	if (b == NULL)
		return NULL;
	memset(b, 0, sizeof(*b));
	b->size = size;
	/* page-aligned, as a ring in a client region is */
	b->ctl = aligned_alloc(4096, (SHM_RING_CTL_SIZE + size + 4095u) & ~(uint64_t)4095u);
	b->src = malloc(shm_ring_max_record(size) + 8u);
	b->dst = malloc(shm_ring_max_record(size) + 8u);
	if (b->ctl == NULL || b->src == NULL || b->dst == NULL) {
		shmb_close(b);
		return NULL;
	}
	memset(b->ctl, 0, SHM_RING_CTL_SIZE + size); /* fault the pages in */
	for (uint32_t i = 0; i < shm_ring_max_record(size); i++)
		b->src[i] = (uint8_t)(i * 7u + 1u);
	uint8_t *data = (uint8_t *)(b->ctl + 1);
	shm_ring_init(b->ctl);
	if (shm_ring_prod_attach(&b->p, b->ctl, data, size) != 0 ||
	    shm_ring_cons_attach(&b->c, b->ctl, data, size) != 0) {
		shmb_close(b);
		return NULL;
	}
	return b;
}

void shmb_close(struct shmb *b)
{
	if (b == NULL)
		return;
	free(b->ctl);
	free(b->src);
	free(b->dst);
	free(b);
}

/* n round trips of one record of length bytes in one thread. 0, or -1 if
 * the ring did not hand back what went in. */
int shmb_roundtrip(struct shmb *b, uint32_t length, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		enum shm_ring_status st;
		uint8_t *w = shm_ring_reserve(&b->p, length, &st);
		if (w == NULL)
			return -1;
		memcpy(w, b->src, length);
		shm_ring_commit(&b->p, length, SHMB_TYPE, (uint16_t)i);
		struct shm_ring_rec r;
		if (shm_ring_peek(&b->c, &r) != SHM_RING_OK || r.length != length || r.flags != (uint16_t)i)
			return -1;
		memcpy(b->dst, r.data, r.length);
		shm_ring_next(&b->c, &r);
		shm_ring_release(&b->c, r.end);
	}
	return 0;
}

/* ---- two threads ------------------------------------------------------------ */

#define SHMB_RELEASE_EVERY 64u

struct shmb_stream {
	struct shmb *b;
	uint32_t length;
	uint64_t n;
	atomic_int ready, go, stop;
	int bad; /* written by the consumer, only on failure */
};

static void shmb_wait(unsigned *spins)
{
	if (++*spins < 1024u) {
#if defined(__x86_64__) || defined(__i386__)
		__builtin_ia32_pause();
#endif
	} else {
		*spins = 0;
		sched_yield();
	}
}

static void *shmb_consumer(void *arg)
{
	struct shmb_stream *s = arg;
	struct shmb *b = s->b;
	unsigned spins = 0, unreleased = 0;
	atomic_store(&s->ready, 1);
	while (!atomic_load_explicit(&s->go, memory_order_acquire))
		shmb_wait(&spins);
	for (uint64_t seq = 0; seq < s->n;) {
		struct shm_ring_rec r;
		enum shm_ring_status st = shm_ring_peek(&b->c, &r);
		if (st == SHM_RING_EMPTY) {
			shm_ring_release_read(&b->c);
			unreleased = 0;
			if (atomic_load_explicit(&s->stop, memory_order_relaxed))
				return NULL;
			shmb_wait(&spins);
			continue;
		}
		if (st != SHM_RING_OK || r.length != s->length) {
			s->bad = 1;
			atomic_store(&s->stop, 1);
			return NULL;
		}
		memcpy(b->dst, r.data, r.length);
		uint64_t got;
		memcpy(&got, b->dst, 8);
		if (got != seq) {
			s->bad = 1;
			atomic_store(&s->stop, 1);
			return NULL;
		}
		shm_ring_next(&b->c, &r);
		seq++;
		spins = 0;
		if (++unreleased == SHMB_RELEASE_EVERY) {
			shm_ring_release_read(&b->c);
			unreleased = 0;
		}
	}
	shm_ring_release_read(&b->c);
	return NULL;
}

static double shmb_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Moves n records of length (>= 8) bytes from this thread (producer) to a
 * consumer thread through a ring of size bytes; the consumer checks their
 * order and copies each payload out. *seconds: wall time from the start
 * signal to the consumer's exit. 0, or -1. */
int shmb_stream(uint64_t size, uint32_t length, uint64_t n, double *seconds)
{
	struct shmb_stream s;
	memset(&s, 0, sizeof(s));
	s.b = shmb_open(size);
	if (s.b == NULL || length < 8u || length > shm_ring_max_record(size)) {
		shmb_close(s.b);
		return -1;
	}
	s.length = length;
	s.n = n;
	atomic_init(&s.ready, 0);
	atomic_init(&s.go, 0);
	atomic_init(&s.stop, 0);
	pthread_t cons;
	if (pthread_create(&cons, NULL, shmb_consumer, &s) != 0) {
		shmb_close(s.b);
		return -1;
	}
	unsigned spins = 0;
	while (!atomic_load(&s.ready))
		shmb_wait(&spins);
	double t0 = shmb_now();
	atomic_store_explicit(&s.go, 1, memory_order_release);
	int rc = 0;
	for (uint64_t seq = 0; seq < n && rc == 0; seq++) {
		enum shm_ring_status st;
		uint8_t *w;
		spins = 0;
		while ((w = shm_ring_reserve(&s.b->p, length, &st)) == NULL) {
			if (st != SHM_RING_FULL || atomic_load_explicit(&s.stop, memory_order_relaxed)) {
				rc = -1;
				break;
			}
			shmb_wait(&spins);
		}
		if (w == NULL)
			break;
		memcpy(w, s.b->src, length);
		memcpy(w, &seq, 8);
		shm_ring_commit(&s.b->p, length, SHMB_TYPE, 0);
	}
	if (rc != 0)
		atomic_store(&s.stop, 1);
	pthread_join(cons, NULL);
	*seconds = shmb_now() - t0;
	if (s.bad)
		rc = -1;
	shmb_close(s.b);
	return rc;
}
