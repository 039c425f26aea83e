/* test_alloc.c — the worker allocates nothing after start (engine/eng_worker.c
 * says so; issue 14): ordod runs with tests/api/alloc_check.c preloaded,
 * which counts every allocation the worker thread makes while it runs,
 * through a workload that touches every buffer the worker once allocated
 * on its way: group operations and views (the group table, the ops
 * arena), JOINs the table refuses, small and large messages (the assembly
 * buffers), a message whose pieces stop coming (dropped), a client that
 * stops draining (its overflow queue, then eviction and its leaves), and
 * detaches.
 *
 *   test-api-alloc ORDOD ALLOC_CHECK_SO
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api_node.h"
#include "ordo_client_internal.h"
#include "shm_ring.h"

static const char *alloc_check_so;

static int refused(void *arg) { return ((struct api_rec *)arg)->join_refused >= 1; }

static void test_worker_allocates_nothing(void **state)
{
	(void)state;
	struct api_node n;
	struct api_node_opts o = {.client_evict_ms = 300, .assembly_timeout_ms = 300, .max_groups = 4,
				  .max_group_members = 4, .preload = alloc_check_so};
	assert_int_equal(api_node_start(&n, &o), 0);
	struct api_rec a, b, slow;
	assert_int_equal(api_rec_attach(&a, "a", n.sock, NULL, 64, 0, 0), ORDO_OK);
	assert_int_equal(api_rec_attach(&b, "b", n.sock, NULL, 64, 0, 0), ORDO_OK);
	assert_int_equal(api_rec_attach(&slow, "slow", n.sock, NULL, 1, 0, 65536), ORDO_OK);
	/* groups: joins, views, a refusal, leaves */
	api_join_wait(&a, "g1");
	api_join_wait(&b, "g1");
	api_join_wait(&a, "g2");
	api_join_wait(&a, "g3");
	api_join_wait(&slow, "g1");
	api_join_wait(&b, "g4");
	assert_int_equal(ordo_join(a.c, "g5", 2), ORDO_OK);
	int got = api_pump((struct api_rec *[]){&a}, 1, refused, &a, 5000);
	printf("# a fifth group with max_groups 4: %s; a has %u views\n", got ? ordo_strerror(a.join_refused_err) : "no answer", a.view_count);
	assert_true(got);
	assert_int_equal(ordo_leave(a.c, "g3", 2), ORDO_OK);
	/* small and large messages (larger than a submit record: assembled) */
	size_t big = ordo_max_message_size(a.c);
	uint8_t *buf = malloc(big);
	assert_non_null(buf);
	for (int i = 0; i < 200; i++) {
		api_fill(buf, 1000, (uint64_t)i);
		assert_true(api_publish(a.c, &a, "g1", buf, 1000, ORDO_AGREED, 1, 5000) >= 0);
		api_pump((struct api_rec *[]){&a, &b}, 2, NULL, NULL, 0);
	}
	for (int i = 0; i < 3; i++) {
		api_fill(buf, big, (uint64_t)i);
		assert_true(api_publish(b.c, &b, "g1", buf, big, ORDO_SAFE, 2, 10000) >= 0);
		api_pump((struct api_rec *[]){&a, &b}, 2, NULL, NULL, 0);
	}
	/* the first piece of a message, and nothing after it */
	struct att_publish p = {.service = ORDO_AGREED, .priority = 0, .msg_size = (uint32_t)big};
	uint32_t piece = 4096, len = (uint32_t)sizeof(p) + ATT_ENV_HEAD(2) + piece;
	enum shm_ring_status st;
	uint8_t *w = shm_ring_reserve(&a.c->submit, len, &st);
	assert_non_null(w);
	memcpy(w, &p, sizeof(p));
	w[sizeof(p)] = ATT_ENV_USER;
	w[sizeof(p) + 1] = 2;
	memcpy(w + sizeof(p) + 2, "g1", 2);
	shm_ring_commit(&a.c->submit, len, ATT_REC_PUBLISH, ATT_F_FIRST);
	/* the slow one never polls: its ring fills, its overflow queue too,
	 * it is evicted and leaves g1 */
	uint64_t t0 = api_now_ns();
	while (slow.c->hdr->state == ATT_STATE_ATTACHED && api_ms_since(t0) < 5000) {
		api_fill(buf, 20000, 7);
		(void)api_publish(a.c, &a, "g1", buf, 20000, ORDO_AGREED, 1, 1000);
		api_pump((struct api_rec *[]){&a, &b}, 2, NULL, NULL, 1);
	}
	int evicted = slow.c->hdr->state == ATT_STATE_EVICTED;
	api_pump((struct api_rec *[]){&a, &b}, 2, NULL, NULL, 600); /* the partial message times out */
	printf("# a: %llu messages, %u views; b: %llu messages; the slow client %s\n", (unsigned long long)a.msgs,
	       a.view_count, (unsigned long long)b.msgs, evicted ? "was evicted" : "was NOT evicted");
	assert_true(evicted);
	free(buf);
	api_rec_free_all((struct api_rec *[]){&slow, &a, &b}, 3);
	api_sleep_ms(100);
	assert_int_equal(api_node_stop(&n), 0);
	long long dropped = api_node_log_number(&n, "assemblies dropped ");
	long long allocs = api_node_log_number(&n, "ordo-alloc-check: ");
	printf("# after the workload: %lld assemblies dropped; the worker allocated %lld times while it ran\n", dropped,
	       allocs);
	api_node_cleanup(&n);
	assert_true(dropped >= 1);
	assert_int_equal(allocs, 0); /* -1: the check never ran (not preloaded, or no hook in the engine) */
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s ORDOD ALLOC_CHECK_SO\n", argv[0]);
		return 2;
	}
	alloc_check_so = argv[2];
	if (api_main_init(2, argv) != 0)
		return 2;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worker_allocates_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
