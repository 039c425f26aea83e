/* rp_node.c — node lifecycle, configuration checks, input validation and
 * dispatch, the actions buffer, inspection.
 *
 * Owns: the memory layout of a node inside the caller's block, and the order
 * in which one step validates and dispatches its input (STYLE.md: validate,
 * then dispatch on input kind, then on state).
 * Never: allocates, reads a clock, or keeps anything outside struct rp_node.
 */
#include "rp_internal.h"

#include <string.h>

#define ALIGN64(x) (((x) + 63u) & ~(size_t)63u)

void rp_config_default(struct rp_config *c, uint16_t node_id)
{
	memset(c, 0, sizeof(*c));
	c->node_id = node_id;
	c->incarnation = 1;
	c->member_count = 1;
	c->members[0] = node_id;
	c->path_count = 1;
	c->frame_size_max = 8960;
	c->message_size_max = 1u << 20;
	c->window_size = 256;
	c->max_messages = 64;
	c->store_slots = 1024;
	c->submit_queue_max = 1024;
	c->rtr_max = 128;
	c->initial_seq = 0;
	c->ring_seq = 0;
	c->token_retransmit_ns = 10u * 1000u * 1000u;
	c->mutation = RP_MUTATION_NONE;
}

static bool is_pow2(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

int rp_config_check(const struct rp_config *c, const char **why)
{
#define BAD(msg)             \
	do {                 \
		*why = (msg); \
		return -1;    \
	} while (0)
	if (c->node_id == 0 || c->node_id > RP_NODES_MAX)
		BAD("node_id must be in 1..64");
	if (c->member_count == 0 || c->member_count > RP_NODES_MAX)
		BAD("member_count must be in 1..64");
	bool found = false;
	for (uint32_t i = 0; i < c->member_count; i++) {
		if (c->members[i] == 0 || c->members[i] > RP_NODES_MAX)
			BAD("members[] ids must be in 1..64");
		if (i > 0 && c->members[i] <= c->members[i - 1])
			BAD("members[] must be sorted and unique");
		if (c->members[i] == c->node_id)
			found = true;
	}
	if (!found)
		BAD("node_id must be one of members[]");
	if (c->path_count == 0 || c->path_count > RP_PATHS_MAX)
		BAD("path_count must be in 1..4");
	if (c->frame_size_max < 512 || c->frame_size_max > 65535)
		BAD("frame_size_max must be in 512..65535");
	if (rp_wire_token_size(c->rtr_max) > c->frame_size_max)
		BAD("rtr_max makes the token larger than frame_size_max");
	if (c->rtr_max == 0 || c->rtr_max > RP_WIRE_RTR_MAX)
		BAD("rtr_max must be in 1..1024");
	if (c->message_size_max == 0)
		BAD("message_size_max must be at least 1");
	if (!is_pow2(c->store_slots) || c->store_slots < 16 || c->store_slots > (1u << 20))
		BAD("store_slots must be a power of two in 16..1048576");
	if (c->max_messages == 0 || c->max_messages > c->window_size)
		BAD("max_messages must be in 1..window_size");
	if (c->window_size > c->store_slots / 4)
		BAD("window_size must be at most store_slots / 4");
	if (c->submit_queue_max == 0 || c->submit_queue_max > (1u << 20))
		BAD("submit_queue_max must be in 1..1048576");
	if (c->token_retransmit_ns == 0)
		BAD("token_retransmit_ns must be positive");
	*why = NULL;
	return 0;
#undef BAD
}

static uint32_t entries_per_frame_max(const struct rp_config *c)
{
	return (c->frame_size_max - RP_WIRE_HDR_SIZE - RP_WIRE_DATA_HDR_SIZE) / RP_WIRE_ENTRY_HDR_SIZE;
}

uint32_t rp_actions_min(const struct rp_config *c)
{
	/* one visit's sends (new frames, retransmissions, the token), the
	 * submit-done notices of one frame, and a configuration */
	return c->max_messages + c->rtr_max + entries_per_frame_max(c) + 8u;
}

struct layout {
	size_t slots, frames, token, queues[RP_PRIO_COUNT], total;
};

static void layout_of(const struct rp_config *c, struct layout *l)
{
	size_t off = ALIGN64(sizeof(struct rp_node));
	l->slots = off;
	off = ALIGN64(off + (size_t)c->store_slots * sizeof(struct rp_slot));
	l->frames = off;
	off = ALIGN64(off + (size_t)c->store_slots * c->frame_size_max);
	l->token = off;
	off = ALIGN64(off + rp_wire_token_size(c->rtr_max));
	for (uint32_t p = 0; p < RP_PRIO_COUNT; p++) {
		l->queues[p] = off;
		off = ALIGN64(off + (size_t)c->submit_queue_max * sizeof(struct rp_pending));
	}
	l->total = off;
}

size_t rp_node_size(const struct rp_config *c)
{
	const char *why;
	if (rp_config_check(c, &why) != 0)
		return 0;
	struct layout l;
	layout_of(c, &l);
	return l.total;
}

int rp_node_init(struct rp_node *n, const struct rp_config *c)
{
	const char *why;
	if (rp_config_check(c, &why) != 0)
		return -1;
	struct layout l;
	layout_of(c, &l);
	memset(n, 0, sizeof(*n));
	uint8_t *base = (uint8_t *)n;
	n->cfg = *c;
	n->slots = (struct rp_slot *)(void *)(base + l.slots);
	memset(n->slots, 0, (size_t)c->store_slots * sizeof(struct rp_slot));
	n->frames = base + l.frames;
	n->token_buf = base + l.token;
	for (uint32_t p = 0; p < RP_PRIO_COUNT; p++)
		n->queues[p].v = (struct rp_pending *)(void *)(base + l.queues[p]);
	n->store_mask = (uint64_t)c->store_slots - 1u;
	rp_srp_start(n);
	return 0;
}

bool rp_actions_room(const struct rp_actions *out, uint32_t k)
{
	return out->capacity - out->count >= k;
}

struct rp_action *rp_action_push(struct rp_actions *out, enum rp_action_kind kind)
{
	RP_ASSERT(out->count < out->capacity);
	struct rp_action *a = &out->v[out->count++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	return a;
}

void rp_emit_send(struct rp_node *n, struct rp_actions *out, const uint8_t *data,
		  uint32_t size, uint16_t dest)
{
	struct rp_action *a = rp_action_push(out, RP_ACT_SEND);
	a->send.data = data;
	a->send.size = size;
	a->send.dest = dest;
	/* Until the redundant ring (part 3): every frame on every path; the
	 * receiver acts on the first copy and drops the rest as duplicates. */
	a->send.path_mask = (uint8_t)((1u << n->cfg.path_count) - 1u);
}

static bool is_member(const struct rp_node *n, uint16_t id)
{
	for (uint32_t i = 0; i < n->member_count; i++)
		if (n->members[i] == id)
			return true;
	return false;
}

static void on_frame(struct rp_node *n, const struct rp_input *in, uint64_t now_ns,
		     struct rp_actions *out)
{
	struct rp_wire_hdr h;
	enum rp_drop why = rp_wire_decode_hdr(in->frame.data, in->frame.size, &h);
	if (why == RP_DROP_NONE && (h.path_index != in->frame.path || h.path_index >= n->cfg.path_count))
		why = RP_DROP_BAD_PATH;
	if (why == RP_DROP_NONE && (h.ring.seq != n->ring.seq || h.ring.rep != n->ring.rep))
		why = RP_DROP_FOREIGN_RING;
	if (why == RP_DROP_NONE && (!is_member(n, h.sender) || h.sender == n->cfg.node_id))
		why = RP_DROP_NOT_MEMBER;
	if (why != RP_DROP_NONE) {
		n->stats.drops[why]++;
		return;
	}
	switch (h.type) {
	case RP_FRAME_DATA:
		rp_srp_on_data(n, &h, in->frame.data, now_ns, out);
		break;
	case RP_FRAME_TOKEN:
		rp_srp_on_token(n, &h, in->frame.data, now_ns, out);
		break;
	default:
		n->stats.drops[RP_DROP_UNHANDLED]++;
		break;
	}
}

int rp_step(struct rp_node *n, const struct rp_input *in, uint64_t now_ns, struct rp_actions *out)
{
	out->count = 0;
	RP_ASSERT(out->capacity >= rp_actions_min(&n->cfg));
	int rc = RP_OK;
	if (n->config_pending) {
		struct rp_action *a = rp_action_push(out, RP_ACT_CONFIG);
		a->config.kind = RP_CONFIG_REGULAR;
		a->config.ring = n->ring;
		a->config.member_count = n->member_count;
		a->config.members = n->members;
		n->config_pending = false;
	}
	switch (in->kind) {
	case RP_IN_FRAME:
		on_frame(n, in, now_ns, out);
		break;
	case RP_IN_SUBMIT:
		rc = rp_pack_submit(n, in);
		break;
	case RP_IN_TICK:
		break;
	default:
		RP_ASSERT(0);
	}
	rp_srp_on_tick(n, now_ns, out);
	return rc;
}

uint64_t rp_next_deadline_ns(const struct rp_node *n)
{
	if (n->config_pending)
		return 0;
	return rp_srp_deadline(n);
}

void rp_check_invariants(const struct rp_node *n)
{
	RP_ASSERT(n->member_count >= 1 && n->members[n->my_index] == n->cfg.node_id);
	for (uint32_t p = 0; p < RP_PRIO_COUNT; p++)
		RP_ASSERT(n->queues[p].count <= n->cfg.submit_queue_max);
	rp_srp_invariants(n);
}

const struct rp_stats *rp_node_stats(const struct rp_node *n) { return &n->stats; }
struct rp_ring_id rp_node_ring(const struct rp_node *n) { return n->ring; }
uint64_t rp_node_my_aru(const struct rp_node *n) { return n->my_aru; }
uint32_t rp_node_backlog(const struct rp_node *n) { return rp_pack_backlog(n); }

int rp_node_has_received(const struct rp_node *n, uint64_t seq)
{
	if (rp_seq_le(seq, n->my_aru))
		return 1;
	if (rp_seq_gt(seq, n->high_seq))
		return 0;
	const struct rp_slot *s = rp_slot_of(n, seq);
	return s->size != 0 && s->seq == seq;
}
