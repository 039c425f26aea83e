/* test_pause_detect.c — docs/protocol.md §16.1's pause detection at one
 * ring-proto node, driven by hand: a step that finds a timer overdue by
 * more than min(token_loss / 2, (consensus - token_hold) / 2) counts a
 * pause, one overdue by less does not. With a long token-loss timeout and
 * a short consensus (corosync's token: 3000 with ordod's default
 * consensus) the consensus bound is the one that applies: the others can
 * leave a silent node out one consensus timeout after a foreign Join or a
 * leave starts their gather, whatever the token-loss timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "rp.h"

#define MS 1000000ull

static struct rp_action *acts;
static struct rp_actions out;

static struct rp_node *node(uint64_t token_loss_ns, uint64_t consensus_ns, uint64_t hold_ns)
{
	struct rp_config c;
	rp_config_default(&c, 1);
	c.member_count = 2;
	c.members[0] = 1;
	c.members[1] = 2;
	c.token_loss_ns = token_loss_ns;
	c.consensus_ns = consensus_ns;
	c.token_hold_ns = hold_ns;
	struct rp_node *n = aligned_alloc(64, (rp_node_size(&c) + 63u) & ~(size_t)63u);
	assert_non_null(n);
	assert_int_equal(rp_node_init(n, &c), RP_OK);
	out.capacity = rp_actions_min(&c);
	acts = out.v = realloc(acts, out.capacity * sizeof(*acts));
	assert_non_null(acts);
	return n;
}

/* Pauses counted after a first tick and a second one `late` after the
 * node's next deadline. */
static uint64_t pauses_after(uint64_t token_loss_ns, uint64_t consensus_ns, uint64_t hold_ns, uint64_t late)
{
	struct rp_node *n = node(token_loss_ns, consensus_ns, hold_ns);
	struct rp_input tick = {.kind = RP_IN_TICK};
	(void)rp_step(n, &tick, 1 * MS, &out);
	uint64_t due = rp_next_deadline_ns(n);
	assert_true(due != UINT64_MAX);
	uint64_t before = rp_node_stats(n)->pauses;
	(void)rp_step(n, &tick, due + late, &out);
	uint64_t p = rp_node_stats(n)->pauses - before;
	free(n);
	return p;
}

static void test_half_token_loss(void **state)
{
	(void)state;
	/* ring-proto's defaults: token loss 1 s, consensus 1.2 s: 500 ms */
	assert_int_equal(pauses_after(1000 * MS, 1200 * MS, 0, 450 * MS), 0);
	assert_int_equal(pauses_after(1000 * MS, 1200 * MS, 0, 550 * MS), 1);
}

static void test_consensus_bound(void **state)
{
	(void)state;
	/* token loss 3 s, consensus 300 ms, hold 10 ms: (300 - 10) / 2 = 145 ms */
	assert_int_equal(pauses_after(3000 * MS, 300 * MS, 10 * MS, 140 * MS), 0);
	assert_int_equal(pauses_after(3000 * MS, 300 * MS, 10 * MS, 150 * MS), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_half_token_loss),
		cmocka_unit_test(test_consensus_bound),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(acts);
	return rc;
}
