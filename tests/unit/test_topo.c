/* test_topo.c — ring-proto/rp_topo.c: which nodes sit on which network,
 * the configured graph's cut, and the ring order (docs/protocol.md §17.1,
 * 17.3). Each order is checked against a brute force over every
 * permutation where that is small enough.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rp.h"

#define B(id) (1ull << ((id) - 1u))

static void config(struct rp_config *c, uint16_t nodes, uint8_t paths)
{
	rp_config_default(c, 1);
	c->member_count = nodes;
	for (uint16_t i = 0; i < nodes; i++)
		c->members[i] = (uint16_t)(i + 1u);
	c->path_count = paths;
}

static uint64_t set_of(uint16_t first, uint16_t last)
{
	uint64_t s = 0;
	for (uint16_t id = first; id <= last; id++)
		s |= B(id);
	return s;
}

static void test_full(void **state)
{
	(void)state;
	struct rp_config c;
	config(&c, 5, 2);
	assert_int_equal(rp_topo_partial(&c), 0);
	assert_int_equal(rp_topo_paths_of(&c, 3), 3);
	assert_int_equal(rp_topo_cut(&c), 0);
	/* a full topology's order is ascending ids: §8.3 unchanged */
	uint16_t o[RP_NODES_MAX];
	assert_int_equal(rp_topo_order(&c, B(2) | B(4) | B(5), o), 1);
	assert_int_equal(o[0], 2);
	assert_int_equal(o[1], 4);
	assert_int_equal(o[2], 5);
	/* listing every node is the same as 0 */
	c.path_nodes[1] = set_of(1, 5);
	assert_int_equal(rp_topo_partial(&c), 0);
	const char *why;
	assert_int_equal(rp_config_check(&c, &why), 0);
}

/* The example: network 0 reaches 1-4, network 1 nodes 1-2,
 * network 2 nodes 3, 4 and 1. */
static void test_four_nodes(void **state)
{
	(void)state;
	struct rp_config c;
	config(&c, 4, 3);
	c.path_nodes[1] = B(1) | B(2);
	c.path_nodes[2] = B(1) | B(3) | B(4);
	const char *why;
	assert_int_equal(rp_config_check(&c, &why), 0);
	assert_int_equal(rp_topo_partial(&c), 1);
	assert_int_equal(rp_topo_paths_of(&c, 1), 7);
	assert_int_equal(rp_topo_paths_of(&c, 2), 3);
	assert_int_equal(rp_topo_paths_of(&c, 4), 5);
	uint16_t o[RP_NODES_MAX];
	assert_int_equal(rp_topo_order(&c, set_of(1, 4), o), 1);
	assert_int_equal(o[0], 1); /* every pair shares network 0 */
	assert_int_equal(o[3], 4);
	/* without network 0 the configuration would be 1-2, 1-3, 1-4, 3-4:
	 * node 2 hangs on node 1 alone, so no order exists */
	c.path_nodes[0] = B(1);
	assert_int_equal(rp_config_check(&c, &why), 0);
	assert_int_equal(rp_topo_order(&c, set_of(1, 4), o), 0);
	for (uint16_t i = 0; i < 4; i++)
		assert_int_equal(o[i], i + 1u); /* the fallback: ascending */
	/* {1, 3, 4} has one: 1-3 (net 2), 3-4 (net 2), 4-1 (net 2) */
	assert_int_equal(rp_topo_order(&c, B(1) | B(3) | B(4), o), 1);
	/* two nodes that share a network */
	assert_int_equal(rp_topo_order(&c, B(1) | B(2), o), 1);
	assert_int_equal(rp_topo_order(&c, B(2) | B(3), o), 0);
	assert_int_equal(rp_topo_order(&c, B(3), o), 1);
	assert_int_equal(o[0], 3);
}

static void test_refused(void **state)
{
	(void)state;
	struct rp_config c;
	const char *why;
	/* {1, 2} on network 0, {3, 4} on network 1: the cut */
	config(&c, 4, 2);
	c.path_nodes[0] = B(1) | B(2);
	c.path_nodes[1] = B(3) | B(4);
	assert_int_equal(rp_topo_cut(&c), B(1) | B(2));
	assert_int_equal(rp_config_check(&c, &why), -1);
	assert_non_null(strstr(why, "two parts"));
	/* node 4 on no network */
	c.path_nodes[1] = B(2) | B(3);
	assert_int_equal(rp_config_check(&c, &why), -1);
	assert_non_null(strstr(why, "at least one network"));
	/* an unconfigured node, and a network beyond path_count */
	c.path_nodes[1] = B(2) | B(3) | B(4) | B(9);
	assert_int_equal(rp_config_check(&c, &why), -1);
	c.path_nodes[1] = B(2) | B(3) | B(4);
	assert_int_equal(rp_config_check(&c, &why), 0);
	c.path_nodes[2] = B(1);
	assert_int_equal(rp_config_check(&c, &why), -1);
	c.path_nodes[2] = 0;
	/* passive replication needs every node on every network */
	c.rrp_mode = RP_RRP_PASSIVE;
	assert_int_equal(rp_config_check(&c, &why), -1);
	assert_non_null(strstr(why, "passive"));
}

/* Brute force: the lowest valid cyclic order starting at the lowest id,
 * over every permutation of the rest (n <= 8). */
static int shares(const struct rp_config *c, uint16_t a, uint16_t b)
{
	return (rp_topo_paths_of(c, a) & rp_topo_paths_of(c, b)) != 0;
}

static int brute(const struct rp_config *c, const uint16_t *ids, uint32_t n, uint16_t *best)
{
	uint16_t p[8];
	memcpy(p, ids, n * sizeof(p[0]));
	/* permutations of p[1..n-1] in lexicographic order */
	for (;;) {
		int ok = 1;
		for (uint32_t i = 0; i < n && ok; i++)
			ok = shares(c, p[i], p[(i + 1u) % n]);
		if (ok) {
			memcpy(best, p, n * sizeof(p[0]));
			return 1;
		}
		int i = (int)n - 2;
		while (i >= 1 && p[i] >= p[i + 1])
			i--;
		if (i < 1)
			return 0;
		int j = (int)n - 1;
		while (p[j] <= p[i])
			j--;
		uint16_t t = p[i];
		p[i] = p[j];
		p[j] = t;
		for (int a = i + 1, b = (int)n - 1; a < b; a++, b--) {
			t = p[a];
			p[a] = p[b];
			p[b] = t;
		}
	}
}

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void test_against_brute_force(void **state)
{
	(void)state;
	uint64_t x = 0x9E3779B97F4A7C15ull;
	uint32_t valid = 0, none = 0;
	for (int round = 0; round < 3000; round++) {
		struct rp_config c;
		uint16_t nodes = (uint16_t)(3 + xorshift(&x) % 6);
		uint8_t paths = (uint8_t)(1 + xorshift(&x) % 4);
		config(&c, nodes, paths);
		for (uint8_t k = 0; k < paths; k++)
			c.path_nodes[k] = xorshift(&x) & set_of(1, nodes);
		uint64_t set = xorshift(&x) & set_of(1, nodes);
		if (set == 0)
			continue;
		uint16_t ids[8], expect[8], got[RP_NODES_MAX];
		uint32_t n = 0;
		for (uint16_t id = 1; id <= nodes; id++)
			if (set & B(id))
				ids[n++] = id;
		int want = n <= 2 ? (n < 2 || shares(&c, ids[0], ids[1])) : brute(&c, ids, n, expect);
		int have = rp_topo_order(&c, set, got);
		assert_int_equal(have, want);
		if (want && n > 2) {
			assert_memory_equal(got, expect, n * sizeof(got[0]));
			valid++;
		} else {
			assert_memory_equal(got, ids, n * sizeof(got[0])); /* ascending */
			none += n > 2;
		}
	}
	/* both kinds were exercised */
	assert_true(valid > 100);
	assert_true(none > 100);
}

/* 64 nodes on a chain of networks (k and k+1 share network k): no
 * Hamiltonian cycle exists, and a search without its bound would try
 * for a very long time on denser graphs; both end in the fallback. */
static void test_bound(void **state)
{
	(void)state;
	struct rp_config c;
	config(&c, 64, 4);
	/* four networks, each a quarter of the nodes plus a link to the next */
	for (uint32_t k = 0; k < 4; k++)
		c.path_nodes[k] = set_of((uint16_t)(16u * k + 1u), (uint16_t)(16u * k + 17u > 64u ? 64u : 16u * k + 17u));
	c.path_nodes[3] |= B(1);
	const char *why;
	assert_int_equal(rp_config_check(&c, &why), 0);
	uint16_t o[RP_NODES_MAX];
	/* a ring through the four cliques, joined at 17, 33, 49 and 1 */
	int found = rp_topo_order(&c, set_of(1, 64), o);
	uint64_t seen = 0;
	for (uint32_t i = 0; i < 64; i++)
		seen |= B(o[i]);
	assert_int_equal(seen, set_of(1, 64));
	if (found)
		for (uint32_t i = 0; i < 64; i++)
			assert_true(shares(&c, o[i], o[(i + 1u) % 64u]));
	/* a star: node 1 on every network with 15 others each: none */
	for (uint32_t k = 0; k < 4; k++)
		c.path_nodes[k] = set_of((uint16_t)(16u * k + 2u), (uint16_t)(16u * k + 17u > 64u ? 64u : 16u * k + 17u)) | B(1);
	assert_int_equal(rp_config_check(&c, &why), 0);
	assert_int_equal(rp_topo_order(&c, set_of(1, 64), o), 0);
	for (uint16_t i = 0; i < 64; i++)
		assert_int_equal(o[i], i + 1u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_four_nodes),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_against_brute_force),
		cmocka_unit_test(test_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
