/* test_assert.c — a failed RP_ASSERT reaches the driver's rp_assert_failed
 * (rp.h) with its file, line and condition: this program defines its own,
 * which records them and jumps back instead of stopping. It replaces
 * ring-proto's weak definition (rp_assert.c) at link time, as the engine's
 * does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rp.h"
#include "rp_internal.h"

static jmp_buf back;
static const char *got_file, *got_cond;
static unsigned got_line, got_calls;

void rp_assert_failed(const char *file, unsigned line, const char *cond)
{
	got_file = file;
	got_line = line;
	got_cond = cond;
	got_calls++;
	longjmp(back, 1);
}

/* RP_ASSERT itself: the place of the failing line, the condition as
 * written; nothing when the condition holds. */
static void test_macro(void **state)
{
	(void)state;
	got_calls = 0;
	int x = 1;
	RP_ASSERT(x == 1);
	assert_int_equal(got_calls, 0);
	volatile unsigned line = 0; /* set between setjmp and longjmp */
	if (setjmp(back) == 0) {
		line = __LINE__ + 1;
		RP_ASSERT(x == 2);
		fail_msg("RP_ASSERT(x == 2) returned");
	}
	assert_int_equal(got_calls, 1);
	assert_string_equal(got_cond, "x == 2");
	assert_int_equal(got_line, line);
	assert_non_null(strstr(got_file, "test_assert.c"));
}

/* An assertion inside ring-proto: rp_step with fewer action slots than
 * rp_actions_min (a driver's bug) names rp_node.c and its condition. */
static void test_inside_ring_proto(void **state)
{
	(void)state;
	struct rp_config c;
	rp_config_default(&c, 1);
	c.member_count = 1;
	c.members[0] = 1;
	size_t size = rp_node_size(&c);
	assert_true(size > 0);
	struct rp_node *n = aligned_alloc(64, (size + 63u) & ~(size_t)63u);
	assert_non_null(n);
	assert_int_equal(rp_node_init(n, &c), RP_OK);
	struct rp_action one[1];
	struct rp_actions out = {.v = one, .capacity = 1};
	assert_true(rp_actions_min(&c) > 1);
	struct rp_input in = {.kind = RP_IN_TICK};
	got_calls = 0;
	if (setjmp(back) == 0) {
		(void)rp_step(n, &in, 1, &out);
		fail_msg("rp_step with too few action slots returned");
	}
	assert_int_equal(got_calls, 1);
	assert_non_null(strstr(got_file, "rp_node.c"));
	assert_true(got_line > 0);
	assert_non_null(strstr(got_cond, "rp_actions_min"));
	free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_macro),
		cmocka_unit_test(test_inside_ring_proto),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
