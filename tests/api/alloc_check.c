/* alloc_check.c — preloaded into ordod by test-api-alloc (LD_PRELOAD):
 * counts the allocations the worker thread makes while it runs. The engine
 * calls ordo_alloc_check(1) from the worker once it runs and
 * ordo_alloc_check(0) when it stops (engine/eng_worker.c, a weak
 * reference: ordod alone never calls it); every malloc, calloc, realloc and
 * aligned allocation of that thread in between is counted, the first few
 * with their caller. At exit it prints
 *   ordo-alloc-check: N allocations on the worker thread while it ran
 * which the test reads from the daemon's log.
 *
 * Thread context: any (a thread-local flag marks the worker).
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

void *__libc_malloc(size_t n);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t a, size_t n);

void ordo_alloc_check(int on);

static __thread int worker;
static _Atomic uint64_t count;
static int used;

void ordo_alloc_check(int on)
{
	worker = on;
	used = 1;
}

static void note(void *caller, size_t n)
{
	if (!worker)
		return;
	uint64_t k = atomic_fetch_add(&count, 1);
	if (k < 8) {
		worker = 0; /* fprintf may allocate */
		fprintf(stderr, "ordo-alloc-check: the worker allocated %zu bytes (from %p)\n", n, caller);
		worker = 1;
	}
}

void *malloc(size_t n)
{
	note(__builtin_return_address(0), n);
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t m)
{
	note(__builtin_return_address(0), n * m);
	return __libc_calloc(n, m);
}

void *realloc(void *p, size_t n)
{
	note(__builtin_return_address(0), n);
	return __libc_realloc(p, n);
}

void *aligned_alloc(size_t a, size_t n)
{
	note(__builtin_return_address(0), n);
	return __libc_memalign(a, n);
}

void *memalign(size_t a, size_t n)
{
	note(__builtin_return_address(0), n);
	return __libc_memalign(a, n);
}

int posix_memalign(void **out, size_t a, size_t n)
{
	note(__builtin_return_address(0), n);
	void *p = __libc_memalign(a, n);
	if (p == NULL)
		return 12; /* ENOMEM */
	*out = p;
	return 0;
}

__attribute__((destructor)) static void report(void)
{
	if (used)
		fprintf(stderr, "ordo-alloc-check: %llu allocations on the worker thread while it ran\n",
			(unsigned long long)atomic_load(&count));
}
