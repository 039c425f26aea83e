/* test_rule_d.c — docs/protocol.md §8.8 Rule D (0) at one ring-proto
 * node, driven by hand: the running node's answer to an ID_PROBE echoes
 * the prober's incarnation (a HOLD_CANCEL with a body, which a decoder
 * that predates it reads as before), and a node listening with
 * listen_fresh (a keyed ring, docs/security.md §4.1) takes only that answer
 * as proof that its id runs: a frame of its id that could be a replay (an
 * answer to another incarnation, one without the echo, a DUP_NOTICE) does
 * not stop it. Without listen_fresh every frame of its id still does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rp.h"
#include "rp_wire.h"

#define MS 1000000ull
#define ME 100u /* this start's incarnation */

static struct rp_action *acts;
static struct rp_actions out;

static struct rp_node *node(uint64_t listen_ns, int fresh)
{
	struct rp_config c;
	rp_config_default(&c, 1);
	c.member_count = 2;
	c.members[0] = 1;
	c.members[1] = 2;
	c.incarnation = ME;
	c.listen_ns = listen_ns;
	c.listen_fresh = fresh;
	struct rp_node *n = aligned_alloc(64, (rp_node_size(&c) + 63u) & ~(size_t)63u);
	assert_non_null(n);
	assert_int_equal(rp_node_init(n, &c), RP_OK);
	out.capacity = rp_actions_min(&c);
	acts = out.v = realloc(acts, out.capacity * sizeof(*acts));
	assert_non_null(acts);
	return n;
}

static struct rp_wire_hdr hdr(uint64_t incarnation)
{
	return (struct rp_wire_hdr){.version = RP_WIRE_VERSION_MAX, .sender = 1, .incarnation = incarnation,
				    .ring = {.rep = 1, .seq = 4}, .proto = 1, .proto_min = 1, .proto_max = 1};
}

static void step_frame(struct rp_node *n, const uint8_t *buf, size_t size, uint64_t now)
{
	struct rp_input in = {.kind = RP_IN_FRAME, .frame = {.data = buf, .size = size, .path = 0}};
	(void)rp_step(n, &in, now, &out);
}

/* The frame type of the first send of the last step, 0 if none; and
 * whether the step reported the duplicate (this node refused to start). */
static uint8_t sent_type(const struct rp_send **s)
{
	for (uint32_t i = 0; i < out.count; i++)
		if (acts[i].kind == RP_ACT_SEND) {
			*s = &acts[i].send;
			return acts[i].send.data[RP_HDR_TYPE];
		}
	return 0;
}

static int refused_newcomer(void)
{
	for (uint32_t i = 0; i < out.count; i++)
		if (acts[i].kind == RP_ACT_REFUSED && acts[i].refused.kind == RP_REFUSE_DUPLICATE_ID &&
		    acts[i].refused.newcomer)
			return 1;
	return 0;
}

/* The answer on the wire: a HOLD_CANCEL whose body echoes the prober. */
static void test_answer_wire(void **state)
{
	(void)state;
	uint8_t buf[128];
	struct rp_wire_hdr h = hdr(7), d;
	size_t size = rp_wire_encode_id_answer(buf, &h, 123456789u);
	assert_int_equal(size, rp_wire_path_test_size());
	assert_int_equal(rp_wire_decode_hdr(buf, size, &d), RP_DROP_NONE);
	assert_int_equal(d.type, RP_FRAME_HOLD_CANCEL);
	uint64_t prober = 0;
	assert_int_equal(rp_wire_decode_id_answer(buf, &d, &prober), RP_DROP_NONE);
	assert_int_equal(prober, 123456789u);
	/* a plain HOLD_CANCEL (an older node's answer, or a held token's) has none */
	size = rp_wire_encode_hold_cancel(buf, &h);
	assert_int_equal(rp_wire_decode_hdr(buf, size, &d), RP_DROP_NONE);
	assert_int_equal(rp_wire_decode_id_answer(buf, &d, &prober), RP_DROP_TRUNCATED);
}

/* The node running with the id answers a probe with the prober's incarnation. */
static void test_running_answers(void **state)
{
	(void)state;
	struct rp_node *n = node(0, 1);
	struct rp_input tick = {.kind = RP_IN_TICK};
	(void)rp_step(n, &tick, 1 * MS, &out);
	uint8_t buf[128];
	struct rp_wire_hdr h = hdr(ME + 50);
	size_t size = rp_wire_encode_id_probe(buf, &h);
	step_frame(n, buf, size, 2 * MS);
	const struct rp_send *s = NULL;
	assert_int_equal(sent_type(&s), RP_FRAME_HOLD_CANCEL);
	struct rp_wire_hdr d;
	uint64_t prober = 0;
	assert_int_equal(rp_wire_decode_hdr(s->data, s->size, &d), RP_DROP_NONE);
	assert_int_equal(d.incarnation, ME);
	assert_int_equal(rp_wire_decode_id_answer(s->data, &d, &prober), RP_DROP_NONE);
	assert_int_equal(prober, ME + 50);
	free(n);
}

/* A node listening at start (fresh: listen_fresh) that sent its ID_PROBE
 * and then heard a plain HOLD_CANCEL of its id from an earlier incarnation
 * (an earlier start's, or the running one's: recorded, maybe replayed). */
static struct rp_node *listening_heard_plain(int fresh)
{
	struct rp_node *n = node(1000 * MS, fresh);
	struct rp_input tick = {.kind = RP_IN_TICK};
	(void)rp_step(n, &tick, 1 * MS, &out);
	const struct rp_send *s = NULL;
	assert_int_equal(sent_type(&s), RP_FRAME_ID_PROBE);
	uint8_t buf[128];
	struct rp_wire_hdr h = hdr(ME - 50);
	step_frame(n, buf, rp_wire_encode_hold_cancel(buf, &h), 2 * MS);
	return n;
}

/* Listening with listen_fresh: only the echo of this incarnation stops it. */
static void test_listening_fresh(void **state)
{
	(void)state;
	struct rp_node *n = listening_heard_plain(1);
	assert_false(refused_newcomer());
	uint8_t buf[128];
	struct rp_wire_hdr h = hdr(ME - 50);
	step_frame(n, buf, rp_wire_encode_id_answer(buf, &h, ME - 1), 3 * MS); /* another start's answer */
	assert_false(refused_newcomer());
	step_frame(n, buf, rp_wire_encode_dup_notice(buf, &h, ME), 4 * MS);
	assert_false(refused_newcomer());
	step_frame(n, buf, rp_wire_encode_id_answer(buf, &h, ME), 5 * MS); /* the answer to this one */
	assert_true(refused_newcomer());
	const struct rp_send *s = NULL;
	assert_int_equal(sent_type(&s), RP_FRAME_DUP_NOTICE);
	free(n);
}

/* Without listen_fresh (no key): any frame of its id stops it, as before. */
static void test_listening_unkeyed(void **state)
{
	(void)state;
	struct rp_node *n = listening_heard_plain(0);
	assert_true(refused_newcomer());
	free(n);
}

static int refused_any(void)
{
	for (uint32_t i = 0; i < out.count; i++)
		if (acts[i].kind == RP_ACT_REFUSED && acts[i].refused.kind == RP_REFUSE_DUPLICATE_ID)
			return 1;
	return 0;
}

/* A running node (listen 0) hears an ID_PROBE of its id from incarnation inc. */
static struct rp_node *running_probed(int fresh, uint64_t inc, const struct rp_send **s)
{
	struct rp_node *n = node(0, fresh);
	struct rp_input tick = {.kind = RP_IN_TICK};
	(void)rp_step(n, &tick, 1 * MS, &out);
	uint8_t buf[128];
	struct rp_wire_hdr h = hdr(inc);
	step_frame(n, buf, rp_wire_encode_id_probe(buf, &h), 2 * MS);
	*s = NULL;
	(void)sent_type(s);
	return n;
}

/* Running on a keyed ring (listen_fresh), a frame of its id from an older
 * incarnation may be a replay of its own earlier process's frame: no
 * answer, no report (docs/protocol.md §8.8 Rule D (1), security.md §4.1).
 * A newer one is still answered and reported; unkeyed, an older one too. */
static void test_running_ignores_older(void **state)
{
	(void)state;
	const struct rp_send *s;
	struct rp_node *n = running_probed(1, ME - 50, &s);
	assert_null(s);
	assert_false(refused_any());
	uint8_t buf[128];
	struct rp_wire_hdr h = hdr(ME - 60);
	step_frame(n, buf, rp_wire_encode_hold_cancel(buf, &h), 3 * MS);
	assert_false(refused_any());
	free(n);
	n = running_probed(1, ME + 50, &s);
	assert_non_null(s);
	assert_true(refused_any());
	free(n);
	n = running_probed(0, ME - 50, &s);
	assert_non_null(s);
	assert_true(refused_any());
	free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answer_wire),
		cmocka_unit_test(test_running_answers),
		cmocka_unit_test(test_listening_fresh),
		cmocka_unit_test(test_listening_unkeyed),
		cmocka_unit_test(test_running_ignores_older),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
