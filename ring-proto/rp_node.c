/* rp_node.c — node lifecycle, configuration checks, input validation and
 * dispatch, timers, the actions buffer, inspection.
 *
 * Owns: the memory layout of a node inside the caller's block, and the order
 * in which one step validates and dispatches its input (STYLE.md: validate,
 * then dispatch on input kind, then on frame type and ring, then on state).
 * Never: allocates, reads a clock, or keeps anything outside struct rp_node.
 */
#include "rp_internal.h"

#include <string.h>

#define ALIGN64(x) (((x) + 63u) & ~(size_t)63u)
#define MS (1000ull * 1000ull)

void rp_config_default_timeouts(struct rp_config *c)
{
	c->token_retransmit_ns = 50 * MS;
	c->token_loss_ns = 1000 * MS;
	c->join_ns = 50 * MS;
	c->consensus_ns = 1200 * MS;
	c->merge_ns = 200 * MS;
	c->fail_recv_const = 2500;
	c->rrp_timeout_ns = 10 * MS;
	c->rrp_decay_ns = 1000 * MS;
	c->rrp_probe_ns = 100 * MS;
}

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
	rp_config_default_timeouts(c);
	c->token_hold_ns = 0;
	c->rrp_mode = RP_RRP_ACTIVE;
	c->rrp_threshold = 3;
	c->quorum = RP_QUORUM_MAJORITY;
	c->proto_min = 1;
	c->proto_max = RP_PROTO_VERSION_IMPLEMENTED;
	c->mutation = RP_MUTATION_NONE;
}

static bool is_pow2(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

int rp_config_check(const struct rp_config *c, const char **why)
{
#define BAD(msg)              \
	do {                  \
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
	uint64_t all = 0;
	for (uint32_t i = 0; i < c->member_count; i++)
		all |= rp_bit(c->members[i]);
	for (uint32_t k = 0; k < RP_PATHS_MAX; k++) {
		if (k >= c->path_count && c->path_nodes[k] != 0)
			BAD("path_nodes[] must be 0 beyond path_count");
		if ((c->path_nodes[k] & ~all) != 0)
			BAD("path_nodes[] must list configured nodes only");
	}
	for (uint32_t i = 0; i < c->member_count; i++)
		if (rp_topo_paths_of(c, c->members[i]) == 0)
			BAD("path_nodes[] must put every configured node on at least one network");
	if (rp_topo_cut(c) != 0)
		BAD("path_nodes[] leave the configured nodes in two parts that share no network");
	if (c->frame_size_max < 512 || c->frame_size_max > 65535)
		BAD("frame_size_max must be in 512..65535");
	if (c->rtr_max == 0 || c->rtr_max > RP_WIRE_RTR_MAX)
		BAD("rtr_max must be in 1..1024");
	if (rp_wire_token_size(c->rtr_max) > c->frame_size_max)
		BAD("rtr_max makes the token larger than frame_size_max");
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
	if (c->token_loss_ns <= c->token_retransmit_ns)
		BAD("token_loss_ns must be greater than token_retransmit_ns");
	if (c->join_ns == 0 || c->consensus_ns <= c->join_ns)
		BAD("join_ns must be positive and consensus_ns greater than join_ns");
	if (c->merge_ns == 0)
		BAD("merge_ns must be positive");
	if (c->token_hold_ns != 0 && c->token_hold_ns >= c->token_retransmit_ns / 2)
		BAD("token_hold_ns must be below token_retransmit_ns / 2");
	if (c->fail_recv_const == 0)
		BAD("fail_recv_const must be positive");
	if (c->accelerated_window > c->max_messages)
		BAD("accelerated_window must be at most max_messages");
	if (rp_wire_commit_size(c->member_count) > c->frame_size_max)
		BAD("frame_size_max is too small for a commit token of member_count members");
	if (c->rrp_mode != RP_RRP_ACTIVE && c->rrp_mode != RP_RRP_PASSIVE)
		BAD("rrp_mode must be active or passive");
	if (rp_topo_partial(c) && c->rrp_mode == RP_RRP_PASSIVE)
		BAD("rrp_mode passive needs every node on every network (path_nodes[])");
	if (rp_topo_partial(c) &&
	    (rp_wire_relay_size(rp_wire_token_size_from(c->rtr_max)) > c->frame_size_max ||
	     rp_wire_relay_size(rp_wire_commit_size(c->member_count)) > c->frame_size_max ||
	     rp_wire_relay_size(rp_wire_join_size(all)) > c->frame_size_max))
		BAD("frame_size_max is too small to relay a token, commit token or Join (partial topology)");
	if (c->rrp_timeout_ns == 0 || c->rrp_decay_ns == 0 || c->rrp_probe_ns == 0)
		BAD("rrp_timeout_ns, rrp_decay_ns and rrp_probe_ns must be positive");
	if (c->rrp_threshold == 0)
		BAD("rrp_threshold must be at least 1");
	if (c->quorum != RP_QUORUM_MAJORITY && c->quorum != RP_QUORUM_TWO_NODE &&
	    c->quorum != RP_QUORUM_LAST_MAN_STANDING)
		BAD("quorum must be majority, two_node or last_man_standing");
	if (c->quorum == RP_QUORUM_TWO_NODE && c->member_count != 2)
		BAD("quorum two_node needs exactly two members");
	if (c->proto_min == 0 || c->proto_min > c->proto_max)
		BAD("proto_min must be in 1..proto_max");
	if (c->last_primary.rep > RP_NODES_MAX || c->installed_primary.rep > RP_NODES_MAX)
		BAD("last_primary.rep and installed_primary.rep must be in 0..64");
	*why = NULL;
	return 0;
#undef BAD
}

static uint32_t actions_spare(const struct rp_config *c)
{
	return c->max_messages + c->rtr_max + 16u + 4u * RP_PATHS_MAX;
}

static uint32_t entries_per_frame_max(const struct rp_config *c)
{
	return (c->frame_size_max - RP_WIRE_HDR_SIZE - RP_WIRE_DATA_HDR_SIZE) / RP_WIRE_ENTRY_HDR_SIZE;
}

uint32_t rp_actions_min(const struct rp_config *c)
{
	/* one visit's sends (new frames, retransmissions, the token), the
	 * submit-done notices of one frame, configurations, persists, path
	 * events, probes and refusals */
	return 2u * actions_spare(c) + entries_per_frame_max(c);
}

bool rp_delivery_room(const struct rp_node *n, const struct rp_actions *out)
{
	return rp_actions_room(out, 1u + actions_spare(&n->cfg));
}

struct layout {
	size_t slots[2], frames[2], token, join, merge, relay, queues[RP_PRIO_COUNT], returned, total;
};

static size_t token_buf_size(const struct rp_config *c)
{
	size_t t = rp_wire_token_size_from(c->rtr_max), m = rp_wire_commit_size(RP_NODES_MAX);
	return t > m ? t : m;
}

static void layout_of(const struct rp_config *c, struct layout *l)
{
	size_t off = ALIGN64(sizeof(struct rp_node));
	for (int i = 0; i < 2; i++) {
		l->slots[i] = off;
		off = ALIGN64(off + (size_t)c->store_slots * sizeof(struct rp_slot));
		l->frames[i] = off;
		off = ALIGN64(off + (size_t)c->store_slots * c->frame_size_max);
	}
	l->token = off;
	off = ALIGN64(off + token_buf_size(c));
	l->join = off;
	off = ALIGN64(off + rp_wire_join_size(UINT64_MAX));
	l->merge = off;
	off = ALIGN64(off + rp_wire_merge_detect_size());
	l->relay = off;
	off = ALIGN64(off + (rp_relay_configured(c) ? c->frame_size_max : 0u));
	for (uint32_t p = 0; p < RP_PRIO_COUNT; p++) {
		l->queues[p] = off;
		off = ALIGN64(off + (size_t)c->submit_queue_max * sizeof(struct rp_pending));
	}
	l->returned = off;
	off = ALIGN64(off + 2u * (size_t)c->store_slots * sizeof(void *));
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

/* §16.1: a timer overdue by more than this is a pause: half the token-loss
 * timeout (CS), but never so long that the others could gather on another
 * cause (a foreign Join, a node leaving), leave this node out after one
 * consensus timeout and install while a pause after a held or queued
 * token's arrival went unseen: with a hold, detection + hold < consensus. */
static uint64_t pause_threshold(const struct rp_config *c)
{
	uint64_t t = c->token_loss_ns / 2u;
	uint64_t room = c->consensus_ns > c->token_hold_ns ? (c->consensus_ns - c->token_hold_ns) / 2u : 1u;
	return t < room ? t : room;
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
	n->pause_after_ns = pause_threshold(c); /* the configuration is fixed from here on */
	for (int i = 0; i < 2; i++) {
		n->stores[i].slots = (struct rp_slot *)(void *)(base + l.slots[i]);
		n->stores[i].frames = base + l.frames[i];
		n->stores[i].mask = (uint64_t)c->store_slots - 1u;
		memset(n->stores[i].slots, 0, (size_t)c->store_slots * sizeof(struct rp_slot));
	}
	n->token_buf = base + l.token;
	n->join_buf = base + l.join;
	n->merge_buf = base + l.merge;
	n->relay_buf = base + l.relay;
	for (uint32_t p = 0; p < RP_PRIO_COUNT; p++)
		n->queues[p].v = (struct rp_pending *)(void *)(base + l.queues[p]);
	n->returned = (void **)(void *)(base + l.returned);
	n->cur = &n->stores[0];
	n->old = &n->stores[1];
	n->token_retransmit_at = n->token_loss_at = n->token_hold_at = RP_NEVER;
	n->join_at = n->consensus_at = n->merge_at = RP_NEVER;
	n->mut_late_at = RP_NEVER;
	n->known_inc[c->node_id - 1u] = c->incarnation;
	rp_params_of(c, &n->params);
	for (uint32_t i = 0; i < c->member_count; i++)
		n->configured |= rp_bit(c->members[i]);
	rp_relay_init(n);
	rp_rrp_init(n);
	n->last_primary = c->last_primary;
	n->last_primary_members = c->last_primary_members;
	n->installed_primary = c->installed_primary;
	n->installed_primary_members = c->installed_primary_members;
	n->ring_proto = c->proto_max;
	n->ring_vmin = c->proto_min;
	n->ring_vmax = c->proto_max;
	/* The start ring (TOCS: a starting node installs a singleton ring).
	 * Stored ring seq + 1: ring ids never repeat (corosync 3675dace). */
	n->ring.rep = c->node_id;
	n->ring.seq = c->ring_seq + 1u;
	n->max_ring_seq = n->ring.seq;
	rp_set_members(n, rp_bit(c->node_id));
	n->memb_inc[c->node_id - 1u] = c->incarnation;
	rp_srp_ring_reset(n);
	rp_store_reset(n, n->cur);
	n->history[0] = n->ring;
	n->history_count = 1;
	n->start_pending = true;
	n->state = RP_STATE_GATHER;
	return 0;
}

void rp_set_members(struct rp_node *n, uint64_t set)
{
	n->memb = set;
	n->member_count = 0;
	for (uint16_t id = 1; id <= RP_NODES_MAX; id++)
		if (set & rp_bit(id))
			n->members[n->member_count++] = id;
	uint16_t me = n->cfg.node_id;
	/* the token follows the ring order the commit token carried (§17.3) */
	const uint16_t *order = set == n->order_set ? n->order : n->members;
	n->successor = me;
	for (uint32_t i = 0; i < n->member_count; i++)
		if (order[i] == me)
			n->successor = order[(i + 1u) % n->member_count];
}

bool rp_actions_room(const struct rp_actions *out, uint32_t k)
{
	return out->capacity - out->count >= k;
}

struct rp_action *rp_action_push(struct rp_actions *out, enum rp_action_kind kind)
{
	RP_ASSERT(out->count < out->capacity);
	struct rp_action *a = &out->v[out->count++];
	a->kind = kind;
	return a;
}

void rp_emit_send_on(struct rp_node *n, struct rp_actions *out, uint8_t *data, uint32_t size,
		     uint16_t dest, uint8_t mask)
{
	rp_wire_set_sender_info(data, n->rrp_faulty, n->rrp_in_use, rp_send_proto(n), n->cfg.proto_min,
				n->cfg.proto_max, ++n->tx_seq);
	struct rp_action *a = rp_action_push(out, RP_ACT_SEND);
	a->send.data = data;
	a->send.size = size;
	a->send.dest = dest;
	a->send.path_mask = n->cfg.mutation == RP_MUTATION_SINGLE_PATH ? 1u : mask;
}

/* Every buffer sent is the node's own memory (stores, token, Join, merge
 * and probe buffers): the const is the caller-facing view of it. */
void rp_emit_send(struct rp_node *n, struct rp_actions *out, const uint8_t *data,
		  uint32_t size, uint16_t dest)
{
	uint8_t *d = (uint8_t *)(uintptr_t)data;
	uint8_t mask = rp_rrp_send_mask(n, data);
	if (n->relaying)
		rp_relay_route(n, d, &dest, &mask, false);
	rp_emit_send_on(n, out, d, size, dest, mask);
}

void rp_emit_send_every(struct rp_node *n, struct rp_actions *out, const uint8_t *data,
			uint32_t size, uint16_t dest)
{
	uint8_t *d = (uint8_t *)(uintptr_t)data;
	uint8_t mask = rp_rrp_all_paths(n);
	if (n->relaying)
		rp_relay_route(n, d, &dest, &mask, true);
	rp_emit_send_on(n, out, d, size, dest, mask);
}

void rp_emit_config(struct rp_node *n, struct rp_actions *out, enum rp_config_kind kind,
		    struct rp_ring_id ring, struct rp_ring_id old_ring, uint16_t count,
		    const uint16_t *members)
{
	struct rp_action *a = rp_action_push(out, RP_ACT_CONFIG);
	a->config.kind = kind;
	a->config.ring = ring;
	a->config.old_ring = old_ring;
	a->config.member_count = count;
	a->config.members = members;
	a->config.primary = kind == RP_CONFIG_REGULAR && n->primary;
	a->config.proto_version = n->ring_proto;
	a->config.cause = RP_CAUSE_START;
	a->config.cause_node = 0;
	a->config.left_politely = 0;
	if (kind == RP_CONFIG_REGULAR) {
		if (n->cause_noted) {
			a->config.cause = n->cause;
			a->config.cause_node = n->cause_node;
		}
		a->config.left_politely = n->leavers;
		n->cause_noted = false;
		n->leavers = 0;
	}
}

void rp_hdr_init(const struct rp_node *n, struct rp_wire_hdr *h, struct rp_ring_id ring)
{
	memset(h, 0, sizeof(*h));
	h->version = RP_WIRE_VERSION_MAX;
	h->proto = rp_send_proto(n);
	h->proto_min = n->cfg.proto_min;
	h->proto_max = n->cfg.proto_max;
	h->hdr_size = RP_WIRE_HDR_SIZE;
	h->sender = n->cfg.node_id;
	h->incarnation = n->cfg.incarnation;
	h->ring = ring;
}

/* Incarnations: a newer one than the newest seen means the node restarted
 * (docs/design.md §5, Restarts); an older one was dropped before this. */
static void incarnation_note(struct rp_node *n, const struct rp_wire_hdr *h, uint64_t now_ns,
			     struct rp_actions *out)
{
	uint64_t *known = &n->known_inc[h->sender - 1u];
	if (h->incarnation > *known) {
		bool was_known = *known != 0;
		*known = h->incarnation;
		rp_memb_restarted(n, h->sender, now_ns);
		/* a restarted member of my ring or of my gather sets */
		if (was_known && ((n->memb | n->proc_set) & rp_bit(h->sender)) &&
		    (n->state == RP_STATE_OPERATIONAL || n->state == RP_STATE_GATHER)) {
			n->proc_set |= rp_bit(h->sender);
			rp_cause(n, RP_CAUSE_RESTART, h->sender);
			rp_memb_gather(n, now_ns, out);
		}
	}
}

/* A frame of another ring from a member of my installed ring, in the
 * incarnation that joined it, whose ring seq is below that ring's: that
 * member sent it before it adopted my ring (every ring it can form or join
 * since has a higher seq), so it is stale even if the ring is not in my
 * history (a failed recovery attempt's, held in a queue until a path came
 * back). The installed ring is the old one while a new one forms. */
bool rp_stale_member_frame(const struct rp_node *n, const struct rp_wire_hdr *h)
{
	uint64_t memb = n->old_saved ? n->old_memb : n->memb;
	uint64_t seq = n->old_saved ? n->old_ring.seq : n->ring.seq;
	return n->state != RP_STATE_LEFT && (memb & rp_bit(h->sender)) &&
	       h->incarnation == n->memb_inc[h->sender - 1u] && h->ring.seq < seq;
}

/* A frame of neither my current nor my old ring: stale, or a foreign ring's. */
static void take_other_ring(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf, uint64_t now_ns,
			    struct rp_actions *out)
{
	if (rp_memb_in_history(n, h->ring) || (n->state == RP_STATE_OPERATIONAL && rp_stale_member_frame(n, h))) {
		if (n->cfg.mutation == RP_MUTATION_STALE_DATA && h->type == RP_FRAME_DATA &&
		    n->state == RP_STATE_OPERATIONAL) {
			rp_srp_on_data(n, h, buf, NULL, out); /* test-only: a stale frame taken as current */
			return;
		}
		n->stats.drops[RP_DROP_STALE]++;
		return;
	}
	rp_memb_on_foreign(n, h, now_ns, out);
}

static void take_frame(struct rp_node *n, const struct rp_wire_hdr *hp, const uint8_t *buf, void *lend,
		       uint8_t path, bool relayed, uint64_t now_ns, struct rp_actions *out);

/* A RELAY frame (§17.4): the hop is its sender's; the frame inside is
 * taken as if received directly, but says nothing about its sender's
 * paths. Only flooded kinds travel inside one. */
static void take_relay(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf, uint8_t path,
		       uint64_t now_ns, struct rp_actions *out)
{
	const uint8_t *inner;
	size_t inner_size;
	struct rp_wire_hdr ih;
	enum rp_drop why = rp_wire_decode_relay(buf, h, &inner, &inner_size);
	if (why == RP_DROP_NONE)
		why = rp_wire_decode_hdr(inner, inner_size, &ih);
	if (why == RP_DROP_NONE && (ih.path_index >= n->cfg.path_count ||
				    (ih.type != RP_FRAME_JOIN && ih.type != RP_FRAME_TOKEN &&
				     ih.type != RP_FRAME_COMMIT) || !(ih.flags & RP_HDR_F_FLOOD)))
		why = RP_DROP_BAD_BODY;
	if (why != RP_DROP_NONE) {
		n->stats.drops[why]++;
		return;
	}
	if (ih.sender == n->cfg.node_id) {
		n->stats.drops[RP_DROP_DUPLICATE]++; /* my own flooded frame, back */
		return;
	}
	(void)path;
	take_frame(n, &ih, inner, NULL, ih.path_index, true, now_ns, out);
}

static void on_frame(struct rp_node *n, const struct rp_input *in, uint64_t now_ns,
		     struct rp_actions *out)
{
	struct rp_wire_hdr h;
	enum rp_drop why = rp_wire_decode_hdr(in->frame.data, in->frame.size, &h);
	if (why == RP_DROP_NONE && (h.path_index != in->frame.path || h.path_index >= n->cfg.path_count ||
				    !(n->mine & (1u << h.path_index))))
		why = RP_DROP_BAD_PATH;
	if (why != RP_DROP_NONE) {
		n->stats.drops[why]++;
		return;
	}
	take_frame(n, &h, in->frame.data, in->frame.lend, in->frame.path, false, now_ns, out);
}

/* A frame with a valid header: directly from its sender on path, or
 * (relayed) from inside a RELAY frame. */
static void take_frame(struct rp_node *n, const struct rp_wire_hdr *hp, const uint8_t *buf, void *lend,
		       uint8_t path, bool relayed, uint64_t now_ns, struct rp_actions *out)
{
	struct rp_wire_hdr h = *hp;
	enum rp_drop why = RP_DROP_NONE;
	if (h.sender == n->cfg.node_id)
		why = rp_dup_self(n, &h, buf, out); /* our own frame looped back, or a second process with my id (§8.8) */
	if (why == RP_DROP_NONE && !(n->configured & rp_bit(h.sender)))
		why = RP_DROP_BAD_SENDER; /* not a configured node: it never joins (§8.2) */
	if (why == RP_DROP_NONE && h.type == RP_FRAME_DATA && h.frame_size > n->cfg.frame_size_max)
		why = RP_DROP_BAD_FRAME_SIZE;
	if (why == RP_DROP_NONE && h.type == RP_FRAME_RELAY && (relayed || !n->relaying))
		why = RP_DROP_BAD_TYPE; /* a relay inside a relay, or where nothing is relayed */
	if (why == RP_DROP_NONE && (h.type == RP_FRAME_DUP_NOTICE || h.type == RP_FRAME_ID_PROBE))
		why = rp_dup_notice(n, &h, buf, out); /* never an incarnation (§8.8 Rule D (0)) */
	/* a dead incarnation's frame has no effect at all, not even on what is known of its sender's range */
	if (why == RP_DROP_NONE && h.incarnation < n->known_inc[h.sender - 1u])
		why = RP_DROP_STALE;
	if (why != RP_DROP_NONE) {
		n->stats.drops[why]++;
		return;
	}
	if (rp_incarnation_hold(n, &h, now_ns, out) || rp_version_refuse(n, &h, now_ns, out) ||
	    rp_params_refuse(n, &h, buf, now_ns, out))
		return;
	incarnation_note(n, &h, now_ns, out);
	if (!relayed)
		rp_rrp_on_rx(n, &h, path, now_ns, out);
	rp_relay_rx(n, &h, path, relayed);
	if (h.type == RP_FRAME_RELAY) {
		take_relay(n, &h, buf, path, now_ns, out);
		return;
	}
	if (h.flags & RP_HDR_F_FLOOD)
		rp_relay_forward(n, &h, buf, now_ns, out);
	if (h.type == RP_FRAME_PATH_TEST) {
		rp_rrp_on_probe(n, &h, buf, path, now_ns);
		return;
	}
	if (h.type == RP_FRAME_JOIN) {
		rp_memb_on_join(n, &h, buf, now_ns, out);
		return;
	}
	if (h.type == RP_FRAME_COMMIT) {
		rp_memb_on_commit(n, &h, buf, now_ns, out);
		return;
	}
	bool is_cur = rp_ring_eq(h.ring, n->ring);
	bool is_old = n->old_saved && rp_ring_eq(h.ring, n->old_ring);
	if (is_cur && !(n->memb & rp_bit(h.sender))) {
		n->stats.drops[RP_DROP_NOT_MEMBER]++;
		return;
	}
	if (is_cur && h.proto != n->ring_proto && n->state == RP_STATE_OPERATIONAL) {
		n->stats.drops[RP_DROP_BAD_VERSION]++;
		return;
	}
	if (is_cur && h.type == RP_FRAME_DATA) {
		rp_srp_on_data(n, &h, buf, lend, out);
		return;
	}
	if (is_cur && h.type == RP_FRAME_HOLD_CANCEL && n->state == RP_STATE_OPERATIONAL) {
		rp_srp_on_hold_cancel(n, now_ns, out);
		return;
	}
	if (is_cur && h.type == RP_FRAME_TOKEN &&
	    (n->state == RP_STATE_OPERATIONAL || n->state == RP_STATE_RECOVERY)) {
		rp_srp_on_token(n, &h, buf, now_ns, out);
		return;
	}
	if (is_old && h.type == RP_FRAME_DATA && (n->old_memb & rp_bit(h.sender)) &&
	    n->state == RP_STATE_GATHER) {
		/* Frames of the old ring are still stored (TOCS Fig 5), but only
		 * while gathering: once a commit token has fixed this node's old
		 * aru and high seq, old frames arrive only through recovery, so
		 * every transitional member ends with the same old store. */
		struct rp_wire_data d;
		why = rp_wire_decode_data(buf, &h, &d);
		if (why == RP_DROP_NONE && !rp_store_put(n, n->old, d.seq, buf, h.frame_size, NULL))
			why = RP_DROP_DUPLICATE;
		if (why != RP_DROP_NONE)
			n->stats.drops[why]++;
		return;
	}
	if (is_cur || is_old) {
		n->stats.drops[RP_DROP_UNHANDLED]++;
		return;
	}
	take_other_ring(n, &h, buf, now_ns, out);
}

static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* The earliest armed timer (RP_NEVER: none). */
static uint64_t timers_due(const struct rp_node *n)
{
	uint64_t d = min64(min64(n->token_retransmit_at, n->token_loss_at), n->token_hold_at);
	d = min64(d, min64(n->join_at, n->consensus_at));
	if (n->state == RP_STATE_GATHER && !n->mut_late_fired)
		d = min64(d, n->mut_late_at);
	return min64(min64(d, n->merge_at), rp_rrp_deadline(n));
}

/* The first steps (§8.1): the start ring, after listening for listen_ns
 * (Rule D (0) of §8.8): silent meanwhile, only a frame with my own id
 * matters; submits queue as before the first ring; a leave ends the wait.
 * Returns true if the step ends here, with *rc. */
static bool start(struct rp_node *n, const struct rp_input *in, uint64_t now_ns, struct rp_actions *out, int *rc)
{
	if (!n->start_pending)
		return true; /* RP_IN_ADDRESS_IN_USE once started: the address is this node's now */
	if (n->listen_until == 0) {
		n->listen_until = now_ns + n->cfg.listen_ns;
		if (n->cfg.listen_ns != 0)
			rp_dup_probe(n, out); /* is my id running? (Rule D (0)) */
	}
	if (now_ns < n->listen_until && in->kind != RP_IN_LEAVE) {
		struct rp_wire_hdr h;
		*rc = RP_OK;
		if (in->kind == RP_IN_SUBMIT)
			*rc = n->cfg.quorum_publish && !n->primary ? RP_ENOQUORUM : rp_pack_submit(n, in);
		else if (in->kind == RP_IN_ADDRESS_IN_USE)
			rp_dup_address(n, out);
		else if (in->kind == RP_IN_FRAME)
			n->stats.drops[rp_wire_decode_hdr(in->frame.data, in->frame.size, &h) == RP_DROP_NONE &&
						   h.sender == n->cfg.node_id
					       ? rp_dup_self(n, &h, in->frame.data, out)
					       : RP_DROP_UNHANDLED]++;
		return true;
	}
	n->start_pending = false;
	rp_quorum_start(n, out);
	rp_emit_config(n, out, RP_CONFIG_REGULAR, n->ring, n->ring, n->member_count, n->members);
	rp_memb_start(n, now_ns, out);
	return false;
}

/* Token retransmit (§3.3), but not a forming ring's token whose loss is
 * due at this step: resent, a node that had just gathered took the stale
 * commit token while this one formed the next ring (seed 10812 of all). */
static void token_retransmit(struct rp_node *n, uint64_t now_ns, struct rp_actions *out)
{
	if (n->token_retransmit_at > now_ns ||
	    (n->token_loss_at <= now_ns && n->state != RP_STATE_OPERATIONAL))
		return;
	if (n->state == RP_STATE_OPERATIONAL)
		rp_rrp_token_lost(n, now_ns, out);
	rp_relay_token_lost(n);
	rp_emit_send_every(n, out, n->token_buf, n->token_buf_size, n->token_buf_dest);
	n->token_retransmit_at = now_ns + n->cfg.token_retransmit_ns;
	n->stats.tokens_retransmitted++;
}

int rp_step(struct rp_node *n, const struct rp_input *in, uint64_t now_ns, struct rp_actions *out)
{
	out->count = 0;
	RP_ASSERT(out->capacity >= rp_actions_min(&n->cfg));
	if (n->state == RP_STATE_LEFT)
		return in->kind == RP_IN_SUBMIT ? RP_ELEFT : RP_OK;
	int rc = RP_OK;
	uint64_t due = timers_due(n);
	if (due != RP_NEVER && now_ns > due && now_ns - due > n->pause_after_ns)
		rp_memb_resumed(n, now_ns, out); /* a pause (§16.1) */
	if (in->kind == RP_IN_REINSTATE) {
		if (in->link.path >= n->cfg.path_count)
			return RP_EINVAL;
		rp_rrp_reinstate(n, in->link.path, now_ns, out);
		return RP_OK;
	}
	if (in->kind == RP_IN_LINK) {
		/* taken even while an install is being delivered: the link
		 * state only changes which paths this node sends on */
		if (in->link.path >= n->cfg.path_count || !(n->mine & (1u << in->link.path)))
			return RP_EINVAL;
		rp_rrp_link(n, in->link.path, in->link.up != 0, now_ns, out);
		return RP_OK;
	}
	if ((n->start_pending || in->kind == RP_IN_ADDRESS_IN_USE) && start(n, in, now_ns, out, &rc))
		return rc;
	rp_srp_discard(n);
	if (n->install != RP_INSTALL_NONE) {
		/* Deliveries owed by an install come first: until they are out
		 * the node takes no input (frames are retransmitted, submits
		 * retried), so no new configuration can overtake them. */
		rp_srp_deliver(n, out);
		if (n->install != RP_INSTALL_NONE) {
			if (in->kind == RP_IN_FRAME)
				n->stats.drops[RP_DROP_BUSY]++;
			if (in->kind == RP_IN_LEAVE)
				n->leave_pending = true;
			return in->kind == RP_IN_SUBMIT ? RP_EAGAIN : RP_OK;
		}
		if (n->leave_pending) {
			rp_memb_leave(n, out);
			return in->kind == RP_IN_SUBMIT ? RP_ELEFT : RP_OK;
		}
	}
	switch (in->kind) {
	case RP_IN_FRAME: {
		uint64_t kept = n->stats.frames_kept; /* only a lent frame's store counts one */
		on_frame(n, in, now_ns, out);
		if (n->stats.frames_kept != kept)
			rc = RP_KEPT;
		break;
	}
	case RP_IN_SUBMIT:
		rc = n->cfg.quorum_publish && !n->primary ? RP_ENOQUORUM : rp_pack_submit(n, in);
		if (rc == RP_OK)
			rp_srp_on_submit(n, now_ns, out);
		break;
	case RP_IN_LEAVE:
		rp_memb_leave(n, out);
		return RP_OK;
	case RP_IN_TICK:
		break;
	default:
		RP_ASSERT(0);
	}
	if (n->state == RP_STATE_LEFT)
		return rc;
	token_retransmit(n, now_ns, out);
	if (n->token_hold_at <= now_ns)
		rp_srp_release_hold(n, now_ns, out);
	rp_memb_timers(n, now_ns, out);
	if (n->state != RP_STATE_LEFT)
		rp_rrp_timers(n, now_ns, out);
	if (rp_srp_local_work(n))
		rp_srp_visit(n, now_ns, out);
	else if (n->deliver_more)
		rp_srp_deliver(n, out);
	return rc;
}

uint64_t rp_next_deadline_ns(const struct rp_node *n)
{
	if (n->state == RP_STATE_LEFT)
		return RP_NEVER;
	if (n->start_pending && n->listen_until != 0 && !n->deliver_more)
		return n->listen_until; /* listening at start (§8.8) */
	if (n->start_pending || n->deliver_more || rp_srp_local_work(n))
		return 0;
	return timers_due(n);
}

void rp_check_invariants(const struct rp_node *n)
{
	RP_ASSERT(n->memb & rp_bit(n->cfg.node_id));
	RP_ASSERT((n->fail_set & ~n->proc_set) == 0);
	RP_ASSERT(!(n->fail_set & rp_bit(n->cfg.node_id)) || n->state == RP_STATE_LEFT);
	for (uint32_t p = 0; p < RP_PRIO_COUNT; p++)
		RP_ASSERT(n->queues[p].count <= n->cfg.submit_queue_max);
	if (n->state == RP_STATE_RECOVERY)
		RP_ASSERT(n->old_saved && (n->trans_memb & ~n->new_memb) == 0 &&
			  (n->trans_memb & rp_bit(n->cfg.node_id)));
	/* §9: never send on nothing; marks and use within the configured paths */
	uint8_t all = n->mine;
	RP_ASSERT(n->rrp_in_use != 0 && (n->rrp_in_use & ~all) == 0 && (n->rrp_faulty & ~all) == 0);
	RP_ASSERT(n->ring_vmin <= n->ring_vmax && n->ring_proto == n->ring_vmax);
	RP_ASSERT(n->lent_kept + n->returned_count <= 2u * n->cfg.store_slots);
	rp_srp_invariants(n);
}

size_t rp_take_returned(struct rp_node *n, void **lends, size_t max)
{
	size_t k = n->returned_count < max ? n->returned_count : max;
	/* from the end: the rest stays in place for the next call */
	for (size_t i = 0; i < k; i++)
		lends[i] = n->returned[--n->returned_count];
	return k;
}

void rp_return_all(struct rp_node *n)
{
	rp_store_clear(n, &n->stores[0]);
	rp_store_clear(n, &n->stores[1]);
	RP_ASSERT(n->lent_kept == 0);
}

uint32_t rp_node_lent(const struct rp_node *n) { return n->lent_kept + n->returned_count; }

const struct rp_stats *rp_node_stats(const struct rp_node *n) { return &n->stats; }

int rp_node_peer(const struct rp_node *n, uint16_t id, struct rp_peer_info *out)
{
	if (id == 0 || id > RP_NODES_MAX)
		return -1;
	const struct rp_peer *pe = &n->peers[id - 1u];
	memset(out, 0, sizeof(*out));
	out->incarnation = pe->inc;
	for (uint32_t p = 0; p < n->cfg.path_count; p++)
		out->last_rx_ns[p] = pe->last_rx[p];
	out->fault_mask = pe->fault_mask;
	out->send_mask = pe->send_mask;
	out->proto_min = pe->proto_min;
	out->proto_max = pe->proto_max;
	out->missing = pe->missing;
	return 0;
}

const char *rp_cause_name(enum rp_change_cause c)
{
	static const char *const names[] = {"start", "token loss", "join", "leave", "foreign ring",
					    "restart", "failed to receive", "other"};
	return (unsigned)c < sizeof(names) / sizeof(names[0]) ? names[c] : "?";
}
struct rp_ring_id rp_node_ring(const struct rp_node *n) { return n->ring; }
uint64_t rp_node_my_aru(const struct rp_node *n) { return n->cur->my_aru; }
uint32_t rp_node_backlog(const struct rp_node *n) { return rp_pack_backlog(n); }
uint8_t rp_node_paths_in_use(const struct rp_node *n) { return n->rrp_in_use; }

int rp_node_quiet(const struct rp_node *n)
{
	return n->state == RP_STATE_OPERATIONAL && (n->token_hold_at != RP_NEVER || n->ring_quiet);
}
uint8_t rp_node_paths_faulty(const struct rp_node *n) { return n->rrp_faulty; }
int rp_node_primary(const struct rp_node *n) { return n->primary; }
uint8_t rp_node_proto_version(const struct rp_node *n) { return n->ring_proto; }

enum rp_node_state rp_node_state(const struct rp_node *n)
{
	return (enum rp_node_state)n->state;
}

int rp_node_arus(const struct rp_node *n, struct rp_ring_id ring[2], uint64_t aru[2])
{
	ring[0] = n->ring;
	aru[0] = n->cur->my_aru;
	if (!n->old_saved)
		return 1;
	ring[1] = n->old_ring;
	aru[1] = n->old->my_aru;
	return 2;
}
