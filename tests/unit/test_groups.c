/* test_groups.c — the group table (engine/eng_groups.[ch]): a replicated
 * state machine, checked alone: joins and leaves against a plain model,
 * its limits (a full table, a full group) refused the same way by every
 * table fed the same operations, the departure of nodes, the group-state
 * exchange, and deletion from the name index under collisions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eng_groups.h"

static struct eg_table *table_new(uint32_t groups, uint32_t members)
{
	struct eg_conf c = {.max_groups = groups, .max_members = members};
	size_t size = eg_table_size(&c);
	assert_true(size > 0);
	void *mem = malloc(size);
	assert_non_null(mem);
	memset(mem, 0xA5, size); /* the table must not read what it did not write */
	struct eg_table *t = eg_table_init(mem, &c);
	assert_ptr_equal(t, mem);
	return t;
}

static void check(const struct eg_table *t)
{
	const char *why = NULL;
	if (eg_check(t, &why) != 0)
		fail_msg("table invariant: %s", why);
}

static int join(struct eg_table *t, const char *g, uint16_t node, uint32_t client)
{
	int rc = eg_join(t, (const uint8_t *)g, (uint8_t)strlen(g), node, client, 1, NULL);
	check(t);
	return rc;
}

static int leave(struct eg_table *t, const char *g, uint16_t node, uint32_t client)
{
	int rc = eg_leave(t, (const uint8_t *)g, (uint8_t)strlen(g), node, client, NULL);
	check(t);
	return rc;
}

static const struct eg_group *find(const struct eg_table *t, const char *g)
{
	return eg_find(t, (const uint8_t *)g, (uint8_t)strlen(g));
}

static void test_conf(void **state)
{
	(void)state;
	struct eg_conf bad[] = {{0, 8}, {8, 0}, {EG_GROUPS_LIMIT + 1u, 8}, {8, EG_MEMBERS_LIMIT + 1u}};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(eg_table_size(&bad[i]), 0);
		uint64_t mem[64];
		assert_null(eg_table_init(mem, &bad[i]));
	}
	struct eg_conf c = {.max_groups = 1024, .max_members = 256};
	printf("# max_groups 1024, max_group_members 256: %zu bytes\n", eg_table_size(&c));
}

static void test_join_leave(void **state)
{
	(void)state;
	struct eg_table *t = table_new(4, 8);
	assert_int_equal(join(t, "g", 2, 7), EG_OK);
	assert_int_equal(join(t, "g", 1, 9), EG_OK);
	assert_int_equal(join(t, "g", 2, 3), EG_OK);
	assert_int_equal(join(t, "g", 2, 3), EG_NOCHANGE);
	const struct eg_group *g = find(t, "g");
	assert_non_null(g);
	assert_int_equal(g->count, 3);
	/* sorted by (node, client) */
	assert_int_equal(g->m[0].node, 1);
	assert_int_equal(g->m[1].client, 3);
	assert_int_equal(g->m[2].client, 7);
	uint32_t first, n = eg_node_range(g, 2, &first);
	assert_int_equal(n, 2);
	assert_int_equal(first, 1);
	assert_int_equal(eg_node_range(g, 3, &first), 0);
	assert_int_equal(leave(t, "g", 2, 99), EG_NOCHANGE);
	assert_int_equal(leave(t, "nope", 2, 3), EG_NOCHANGE);
	assert_int_equal(leave(t, "g", 2, 3), EG_OK);
	assert_int_equal(leave(t, "g", 1, 9), EG_OK);
	const struct eg_group *last = NULL;
	assert_int_equal(eg_leave(t, (const uint8_t *)"g", 1, 2, 7, &last), EG_OK);
	/* deleted, and still readable until the next change */
	assert_non_null(last);
	assert_int_equal(last->count, 0);
	assert_memory_equal(last->name, "g", 1);
	assert_null(find(t, "g"));
	assert_int_equal(eg_group_count(t), 0);
	/* bad names */
	assert_int_equal(eg_join(t, (const uint8_t *)"", 0, 1, 1, 1, NULL), EG_EINVAL);
	uint8_t long_name[33] = {0};
	assert_int_equal(eg_join(t, long_name, 33, 1, 1, 1, NULL), EG_EINVAL);
	assert_int_equal(eg_join(t, long_name, 32, 1, 1, 1, NULL), EG_OK); /* 32 zero bytes is a name */
	free(t);
}

/* A full table refuses a new group, and a full group a new member; what
 * leaves makes room again. */
static void test_limits(void **state)
{
	(void)state;
	struct eg_table *t = table_new(2, 3);
	assert_int_equal(join(t, "a", 1, 1), EG_OK);
	assert_int_equal(join(t, "b", 1, 1), EG_OK);
	assert_int_equal(join(t, "c", 1, 1), EG_EGROUPS);
	assert_null(find(t, "c"));
	assert_int_equal(join(t, "a", 1, 2), EG_OK); /* an existing group takes members */
	assert_int_equal(join(t, "a", 2, 1), EG_OK);
	assert_int_equal(join(t, "a", 2, 2), EG_EMEMBERS);
	assert_int_equal(find(t, "a")->count, 3);
	assert_int_equal(join(t, "a", 1, 2), EG_NOCHANGE); /* a member already: not refused */
	assert_int_equal(leave(t, "a", 1, 1), EG_OK);
	assert_int_equal(join(t, "a", 2, 2), EG_OK);
	assert_int_equal(leave(t, "b", 1, 1), EG_OK); /* b goes: a slot for c */
	assert_int_equal(join(t, "c", 1, 1), EG_OK);
	assert_int_equal(eg_group_count(t), 2);
	free(t);
}

/* ---- a plain model: a list of (group, node, client) ---- */

#define NAMES 24
#define NODES 4
#define CLIENTS 3

struct model {
	uint8_t in[NAMES][NODES][CLIENTS];
	uint32_t max_groups, max_members;
};

static uint32_t model_count(const struct model *m, uint32_t g)
{
	uint32_t n = 0;
	for (uint32_t a = 0; a < NODES; a++)
		for (uint32_t b = 0; b < CLIENTS; b++)
			n += m->in[g][a][b];
	return n;
}

static uint32_t model_groups(const struct model *m)
{
	uint32_t n = 0;
	for (uint32_t g = 0; g < NAMES; g++)
		n += model_count(m, g) != 0;
	return n;
}

static int model_join(struct model *m, uint32_t g, uint32_t node, uint32_t client)
{
	if (m->in[g][node][client])
		return EG_NOCHANGE;
	uint32_t c = model_count(m, g);
	if (c == 0 && model_groups(m) == m->max_groups)
		return EG_EGROUPS;
	if (c == m->max_members)
		return EG_EMEMBERS;
	m->in[g][node][client] = 1;
	return EG_OK;
}

static int model_leave(struct model *m, uint32_t g, uint32_t node, uint32_t client)
{
	if (!m->in[g][node][client])
		return EG_NOCHANGE;
	m->in[g][node][client] = 0;
	return EG_OK;
}

static void name_of(uint32_t g, char *out) { snprintf(out, 8, "g%02u", g); }

static void assert_matches(const struct eg_table *t, const struct model *m)
{
	assert_int_equal(eg_group_count(t), model_groups(m));
	for (uint32_t g = 0; g < NAMES; g++) {
		char name[8];
		name_of(g, name);
		const struct eg_group *x = find(t, name);
		uint32_t c = model_count(m, g);
		if (c == 0) {
			assert_null(x);
			continue;
		}
		assert_non_null(x);
		assert_int_equal(x->count, c);
		uint32_t k = 0;
		for (uint32_t a = 0; a < NODES; a++)
			for (uint32_t b = 0; b < CLIENTS; b++)
				if (m->in[g][a][b]) {
					assert_int_equal(x->m[k].node, a + 1u);
					assert_int_equal(x->m[k].client, b + 100u);
					k++;
				}
	}
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Random joins and leaves against the model, with small limits (so both
 * refusals happen often) and a small index (collisions, deletion in the
 * middle of probe runs); a second table fed the same operations gives the
 * same answer to each and the same digest throughout. */
static void test_model(void **state)
{
	(void)state;
	const uint32_t limits[][2] = {{3, 4}, {8, 2}, {16, 12}, {1, 1}};
	uint64_t refused_groups = 0, refused_members = 0, ops = 0;
	for (unsigned l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
		struct eg_table *t = table_new(limits[l][0], limits[l][1]);
		struct eg_table *u = table_new(limits[l][0], limits[l][1]);
		struct model m = {.max_groups = limits[l][0], .max_members = limits[l][1]};
		uint64_t seed = 0x9E3779B97F4A7C15ull + l;
		for (int i = 0; i < 20000; i++) {
			uint32_t g = (uint32_t)(rnd(&seed) % NAMES), node = (uint32_t)(rnd(&seed) % NODES),
				 client = (uint32_t)(rnd(&seed) % CLIENTS);
			int is_join = rnd(&seed) % 100 < 55;
			char name[8];
			name_of(g, name);
			int want = is_join ? model_join(&m, g, node, client) : model_leave(&m, g, node, client);
			int got = is_join ? join(t, name, (uint16_t)(node + 1u), client + 100u)
					  : leave(t, name, (uint16_t)(node + 1u), client + 100u);
			int got2 = is_join ? join(u, name, (uint16_t)(node + 1u), client + 100u)
					   : leave(u, name, (uint16_t)(node + 1u), client + 100u);
			if (got != want)
				fail_msg("op %d (%s %s n%u c%u): %d, the model says %d", i, is_join ? "join" : "leave", name,
					 node + 1u, client + 100u, got, want);
			assert_int_equal(got2, got);
			assert_int_equal(eg_digest(t), eg_digest(u));
			refused_groups += got == EG_EGROUPS;
			refused_members += got == EG_EMEMBERS;
			ops++;
			if (i % 97 == 0)
				assert_matches(t, &m);
		}
		assert_matches(t, &m);
		free(t);
		free(u);
	}
	printf("# %llu operations: %llu refused for a full table, %llu for a full group, as the model says\n",
	       (unsigned long long)ops, (unsigned long long)refused_groups, (unsigned long long)refused_members);
	assert_true(refused_groups > 100);
	assert_true(refused_members > 100);
}

/* The digest is the content's, not the slots': two histories that end
 * with the same groups give the same digest. */
static void test_digest(void **state)
{
	(void)state;
	struct eg_table *a = table_new(8, 8), *b = table_new(8, 8);
	join(a, "x", 1, 1);
	join(a, "y", 1, 1);
	join(a, "z", 2, 5);
	leave(a, "x", 1, 1);
	join(b, "z", 2, 5);
	join(b, "y", 1, 1);
	assert_int_equal(eg_digest(a), eg_digest(b));
	join(b, "y", 1, 2);
	assert_int_not_equal(eg_digest(a), eg_digest(b));
	free(a);
	free(b);
}

struct changes {
	uint32_t calls, joined, left, gone;
	char last[EG_NAME_MAX + 1];
};

static void on_changed(void *ctx, const struct eg_group *g, const struct eg_member *joined, uint32_t nj,
		       const struct eg_member *left, uint32_t nl)
{
	struct changes *c = ctx;
	c->calls++;
	c->joined += nj;
	c->left += nl;
	c->gone += g->count == 0;
	memcpy(c->last, g->name, g->len);
	c->last[g->len] = '\0';
	for (uint32_t i = 1; i < nj; i++)
		assert_true(joined[i - 1].node < joined[i].node ||
			    (joined[i - 1].node == joined[i].node && joined[i - 1].client < joined[i].client));
	(void)left;
}

static void test_keep_nodes(void **state)
{
	(void)state;
	struct eg_table *t = table_new(8, 8);
	join(t, "a", 1, 1);
	join(t, "a", 2, 1);
	join(t, "a", 3, 1);
	join(t, "b", 3, 1);
	join(t, "c", 1, 5);
	struct changes c = {0};
	eg_keep_nodes(t, (1u << 0) | (1u << 1), on_changed, &c); /* nodes 1 and 2 stay */
	check(t);
	assert_int_equal(c.calls, 2); /* a lost node 3's member, b lost its only one */
	assert_int_equal(c.left, 2);
	assert_int_equal(c.gone, 1);
	assert_int_equal(find(t, "a")->count, 2);
	assert_null(find(t, "b"));
	assert_int_equal(find(t, "c")->count, 1);
	free(t);
}

/* The exchange replaces the table with what the SYNCs say, whatever was
 * there, reports the differences, and refuses what the limits do not take
 * in the order the entries come: every node fed the same SYNCs in the same
 * order ends with the same table, from whatever table it had. */
static void test_sync(void **state)
{
	(void)state;
	struct eg_table *a = table_new(3, 2), *b = table_new(3, 2);
	/* two sides of a partition with different tables */
	join(a, "p", 1, 1);
	join(a, "q", 1, 1);
	join(a, "gone", 2, 2);
	join(b, "p", 3, 3);
	join(b, "r", 3, 3);
	struct {
		const char *g;
		uint16_t node;
		uint32_t client;
		int want;
	} e[] = {
		{"p", 1, 1, EG_OK}, {"q", 1, 1, EG_OK}, {"p", 3, 3, EG_OK},
		{"r", 3, 3, EG_OK},         /* a third group */
		{"s", 3, 4, EG_EGROUPS},    /* a fourth: refused */
		{"p", 3, 5, EG_EMEMBERS},   /* p has two */
		{"q", 3, 3, EG_OK},
		{"q", 3, 3, EG_NOCHANGE},   /* said twice */
	};
	struct changes ca = {0}, cb = {0};
	eg_sync_begin(a);
	eg_sync_begin(b);
	for (unsigned i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		assert_int_equal(eg_sync_add(a, (const uint8_t *)e[i].g, (uint8_t)strlen(e[i].g), e[i].node,
					     e[i].client, 6), e[i].want);
		assert_int_equal(eg_sync_add(b, (const uint8_t *)e[i].g, (uint8_t)strlen(e[i].g), e[i].node,
					     e[i].client, 6), e[i].want);
	}
	/* the tables do not change until the end */
	assert_non_null(find(a, "gone"));
	eg_sync_end(a, on_changed, &ca);
	eg_sync_end(b, on_changed, &cb);
	check(a);
	check(b);
	assert_int_equal(eg_digest(a), eg_digest(b));
	assert_int_equal(eg_group_count(a), 3);
	assert_null(find(a, "gone"));
	assert_null(find(a, "s"));
	/* a: p gained 3/3, q gained 3/3, r is new, gone went */
	assert_int_equal(ca.joined, 3);
	assert_int_equal(ca.left, 1);
	assert_int_equal(ca.gone, 1);
	/* b: p gained 1/1, q is new (2), r unchanged */
	assert_int_equal(cb.joined, 3);
	assert_int_equal(cb.left, 0);
	/* and the exchange can run again on the other half */
	eg_sync_begin(a);
	assert_int_equal(eg_sync_add(a, (const uint8_t *)"p", 1, 1, 1, 6), EG_OK);
	eg_sync_end(a, NULL, NULL);
	check(a);
	assert_int_equal(eg_group_count(a), 1);
	free(a);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf),     cmocka_unit_test(test_join_leave), cmocka_unit_test(test_limits),
		cmocka_unit_test(test_model),    cmocka_unit_test(test_digest),     cmocka_unit_test(test_keep_nodes),
		cmocka_unit_test(test_sync),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
