/* rp_relay.c — getting frames across a partial topology: flooding of Joins
 * and of tokens whose destination is out of direct reach, relay mode, and
 * the designated relay of data frames (docs/protocol.md §17.4), in partial
 * topologies and in full active ones whose faults made them partial (§9.8).
 *
 * Owns: the per-peer window of flooded sends already forwarded, the relay
 * buffer, what this node knows of the networks each node works on (reach,
 * dyn), and the rule of which node relays which data frame on which
 * network. A full passive topology never comes here, nor a full active one
 * that lost no token and whose known faults leave every pair a network:
 * it sends exactly as §9 says.
 * Never: forwards a send twice; forwards its own frames; forwards a token
 * or commit token of a ring it is not a member of; changes a byte of
 * a forwarded frame (it travels whole inside a RELAY frame of this node, so
 * that the hop is this node's and frame security seals it as such).
 */
#include "rp_internal.h"

#include <string.h>

static uint16_t me(const struct rp_node *n) { return n->cfg.node_id; }

bool rp_relay_configured(const struct rp_config *c)
{
	return rp_topo_partial(c) || (c->rrp_mode == RP_RRP_ACTIVE && c->path_count > 1);
}

void rp_relay_init(struct rp_node *n)
{
	n->partial = rp_topo_partial(&n->cfg) != 0;
	n->relaying = rp_relay_configured(&n->cfg);
	n->dyn = n->partial;
	for (uint32_t i = 0; i < n->cfg.member_count; i++)
		n->on[n->cfg.members[i] - 1u] = rp_topo_paths_of(&n->cfg, n->cfg.members[i]);
	n->mine = n->on[me(n) - 1u];
}

/* This node: the paths it sends on. A peer: its configured networks minus
 * the paths it marked itself (its latest frame's fault mask) and those it
 * is out of reach on here — a pair's mark taken for the peer's every pair,
 * an over-estimate that only adds copies (§9.8). A partial topology keeps
 * the configured networks (§17.4; §9.8 says why). */
uint8_t rp_relay_reach(const struct rp_node *n, uint16_t id)
{
	if (n->partial)
		return n->on[id - 1u];
	if (id == me(n))
		return (uint8_t)(n->mine & n->rrp_in_use);
	const struct rp_peer *pe = &n->peers[id - 1u];
	return (uint8_t)(n->on[id - 1u] & ~pe->fault_mask & ~pe->unreachable);
}

void rp_relay_refresh(struct rp_node *n)
{
	if (n->partial || !n->relaying)
		return;
	uint8_t r[RP_NODES_MAX];
	bool dyn = false;
	for (uint32_t i = 0; i < n->cfg.member_count && !dyn; i++) {
		r[i] = rp_relay_reach(n, n->cfg.members[i]);
		for (uint32_t k = 0; k < i && !dyn; k++)
			dyn = (r[i] & r[k]) == 0;
	}
	n->dyn = dyn;
}

/* How many rtr requests fit a token that names their requesters, flooded
 * inside a RELAY frame, within frame_size_max (0: none). A partial
 * topology's configuration is refused unless rtr_max do (rp_config_check);
 * a full one is sized for the token without requesters (§9.8). */
static uint32_t from_fit(const struct rp_node *n)
{
	size_t base = rp_wire_relay_size(rp_wire_token_size_from(0));
	size_t per = rp_wire_token_size_from(1) - rp_wire_token_size_from(0);
	return n->cfg.frame_size_max > base ? (uint32_t)((n->cfg.frame_size_max - base) / per) : 0u;
}

bool rp_relay_rtr_from(const struct rp_node *n)
{
	return n->relaying && from_fit(n) > 0;
}

uint32_t rp_relay_rtr_cap(const struct rp_node *n)
{
	if (!rp_relay_rtr_from(n) || from_fit(n) >= n->cfg.rtr_max)
		return n->cfg.rtr_max;
	return from_fit(n);
}

static bool no_relay(const struct rp_node *n) { return n->cfg.mutation == RP_MUTATION_NO_RELAY; }

static void set_flood(uint8_t *data, bool on)
{
	uint16_t f = rp_get16(data + RP_HDR_FLAGS);
	rp_put16(data + RP_HDR_FLAGS, (uint16_t)(on ? f | RP_HDR_F_FLOOD : f & ~RP_HDR_F_FLOOD));
}

void rp_relay_route(struct rp_node *n, uint8_t *data, uint16_t *dest, uint8_t *mask, bool retrans)
{
	uint8_t type = data[RP_HDR_TYPE];
	if (type == RP_FRAME_JOIN) {
		set_flood(data, n->dyn);
		return;
	}
	if ((type != RP_FRAME_TOKEN && type != RP_FRAME_COMMIT) || *dest == RP_DEST_ALL)
		return;
	/* the paths shared by configuration; flooded at once if none works by
	 * what this node knows (§9.8) */
	uint8_t shared = (uint8_t)(n->mine & n->on[*dest - 1u]);
	bool works = (rp_relay_reach(n, me(n)) & rp_relay_reach(n, *dest)) != 0;
	if (!no_relay(n) && (shared == 0 || !works || retrans || n->relay_dest == *dest)) {
		set_flood(data, true);
		*dest = RP_DEST_ALL;
		*mask = n->mine;
		n->stats.tokens_flooded++;
		return;
	}
	set_flood(data, false);
	uint8_t m = (uint8_t)(*mask & shared);
	*mask = m != 0 ? m : shared != 0 ? shared : n->mine;
}

/* A node that shares no working network with this one is heard only
 * through relays: its own header is all this node learns of its marks
 * (node 1 of §9.8's example learns node 2's mark of network 1 so). Taken
 * only from the incarnation heard directly before (rp_rrp_on_rx keeps the
 * rest of what is known of the peer per incarnation). */
static void relayed_marks(struct rp_node *n, const struct rp_wire_hdr *h)
{
	struct rp_peer *pe = &n->peers[h->sender - 1u];
	if (pe->inc != h->incarnation || pe->fault_mask == h->fault_mask)
		return;
	pe->fault_mask = h->fault_mask;
	rp_relay_refresh(n);
}

void rp_relay_rx(struct rp_node *n, const struct rp_wire_hdr *h, uint8_t path, bool relayed)
{
	if (!n->relaying)
		return;
	if (relayed)
		relayed_marks(n, h);
	else if (h->sender == n->relay_dest && (n->mine & n->on[h->sender - 1u] & (1u << path)))
		n->relay_dest = 0;
}

void rp_relay_token_lost(struct rp_node *n)
{
	if (n->relaying && n->token_buf_dest != me(n))
		n->relay_dest = n->token_buf_dest;
}

/* True if this send of h->sender was forwarded already; marks it if not.
 * The transmission count has 16 bits and counts every send of the peer,
 * flooded or not: after a quiet spell (seconds of a healthy ring) it may
 * have gone round by more than half, and the first flooded send after it
 * would look older than the window and never be forwarded (the token lost
 * at every network cut, CI's multipath test; regression seed 1 --calm-ms).
 * So the window is forgotten token_loss_ns after it last moved: every
 * relayed copy of one send arrives long before (a copy that came round
 * after it would be forwarded again, once per node), and no node sends
 * 32,768 frames in it. (rrp_timeout_ns, 1 ms in the simulator, was too
 * short: copies crossing several relays and a pause outlived it and were
 * forwarded again, and seed 936 of --faults all --topology partial never
 * settled its membership.) */
static bool seen(struct rp_node *n, const struct rp_wire_hdr *h, uint64_t now_ns)
{
	struct rp_peer *pe = &n->peers[h->sender - 1u];
	if (!pe->flood_have || pe->flood_inc != h->incarnation || now_ns - pe->flood_at > n->cfg.token_loss_ns) {
		pe->flood_have = true;
		pe->flood_inc = h->incarnation;
		pe->flood_top = h->tx_seq;
		pe->flood_bits = 0;
		pe->flood_at = now_ns;
		return false;
	}
	int16_t d = (int16_t)(uint16_t)(h->tx_seq - pe->flood_top);
	if (d > 0) {
		pe->flood_bits = d >= 64 ? 0 : (pe->flood_bits << d) | (1ull << (d - 1));
		pe->flood_top = h->tx_seq;
		pe->flood_at = now_ns;
		return false;
	}
	if (d == 0 || -d > 64)
		return true; /* the newest, or older than the window: forwarded or stale */
	uint64_t bit = 1ull << (-d - 1);
	if (pe->flood_bits & bit)
		return true;
	pe->flood_bits |= bit;
	return false;
}

/* True if this node is a member of the ring a flooded token or commit
 * token travels in: only members carry a ring's frames (§17.2, §17.4). A
 * token counts if it is of my ring, from a member of it, while I run that
 * ring; a commit token if its member list names me. Joins go anywhere. */
static bool carries(const struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf)
{
	if (h->type == RP_FRAME_JOIN)
		return true;
	if (h->type == RP_FRAME_TOKEN)
		return rp_ring_eq(h->ring, n->ring) && (n->memb & rp_bit(h->sender)) &&
		       (n->state == RP_STATE_OPERATIONAL || n->state == RP_STATE_RECOVERY);
	struct rp_wire_commit c;
	if (h->type != RP_FRAME_COMMIT || rp_wire_decode_commit(buf, h, &c) != RP_DROP_NONE)
		return false;
	for (uint32_t i = 0; i < c.count; i++)
		if (c.e[i].id == me(n))
			return true;
	return false;
}

void rp_relay_forward(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf, uint64_t now_ns,
		      struct rp_actions *out)
{
	if (!n->relaying || !(h->flags & RP_HDR_F_FLOOD) || h->sender == me(n))
		return;
	if ((no_relay(n) && h->type != RP_FRAME_JOIN) || !carries(n, h, buf) || seen(n, h, now_ns))
		return;
	if (rp_wire_relay_size(h->frame_size) > n->cfg.frame_size_max || !rp_actions_room(out, 1))
		return;
	struct rp_wire_hdr rh;
	rp_hdr_init(n, &rh, n->ring);
	size_t size = rp_wire_encode_relay(n->relay_buf, &rh, buf, h->frame_size);
	rp_emit_send_on(n, out, n->relay_buf, (uint32_t)size, RP_DEST_ALL, n->mine);
	n->stats.frames_relayed++;
}

/* The designated relay onto network k of the frames of a node working on
 * `from`: the lowest-id member working on k that shares a working network
 * with it, by what this node knows (§17.4, §9.8; in a partial topology without faults, the
 * configured networks). Members that know different faults may pick two
 * relays (duplicates) or none (retransmission serves). */
static uint16_t designated(const struct rp_node *n, uint8_t from, uint32_t k)
{
	for (uint32_t i = 0; i < n->member_count; i++) {
		uint16_t id = n->members[i];
		uint8_t r = rp_relay_reach(n, id);
		if ((r & (1u << k)) && (r & from))
			return id;
	}
	return 0;
}

void rp_relay_data(struct rp_node *n, const struct rp_wire_hdr *h, uint16_t origin, uint64_t seq,
		   struct rp_actions *out)
{
	if (!n->dyn || no_relay(n) || (h->flags & RP_HDR_F_RETRANS) || h->sender != origin ||
	    !(n->memb & rp_bit(origin)))
		return;
	uint8_t mask = 0;
	uint8_t from = rp_relay_reach(n, origin);
	uint8_t missing = (uint8_t)(rp_relay_reach(n, me(n)) & ~from);
	for (uint32_t k = 0; k < n->cfg.path_count; k++)
		if ((missing & (1u << k)) && designated(n, from, k) == me(n))
			mask |= (uint8_t)(1u << k);
	if (mask == 0 || !rp_actions_room(out, 1))
		return;
	/* sent as a retransmission of this node's: its header says who sent
	 * this copy (§9.1), and no receiver relays it again */
	uint8_t *f = rp_store_frame(n, n->cur, seq);
	rp_put16(f + RP_HDR_FLAGS, (uint16_t)(rp_get16(f + RP_HDR_FLAGS) | RP_HDR_F_RETRANS));
	rp_put16(f + RP_HDR_SENDER, me(n));
	rp_put64(f + RP_HDR_INCARNATION, n->cfg.incarnation);
	rp_emit_send_on(n, out, f, rp_store_slot(n, n->cur, seq)->size, RP_DEST_ALL, mask);
	n->stats.frames_relayed++;
}
