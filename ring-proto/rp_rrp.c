/* rp_rrp.c — the redundant ring: which paths a frame goes on, the per-path
 * monitor, the fault marks spread by the token, probes and reinstatement.
 *
 * Implements docs/protocol.md §9 (RRP, Koch/Moser/Melliar-Smith ICDCS 2002;
 * docs/design.md §4; docs/protocol.md §9). SRP above it is unchanged: every copy after
 * the first is already dropped by seq or token_seq.
 * Never: charges a path for a peer it has not heard on another path (a dead
 * node or a quiet one says nothing about a path); sends on no path at all
 * (CS PR #206).
 */
#include "rp_internal.h"

#include <string.h>

/* The paths this node has: every configured one in a full topology (§17.1). */
static uint8_t all_paths(const struct rp_node *n) { return n->mine; }
static uint8_t pbit(uint32_t p) { return (uint8_t)(1u << p); }

/* Faults are counted per (peer, path) in active mode, in every topology
 * (§9.7, §17.5); passive mode, full topologies only, counts per path (§9.3):
 * its round robin needs a path that reaches every member. */
static bool per_pair(const struct rp_node *n) { return n->cfg.rrp_mode != RP_RRP_PASSIVE; }

static bool recent(uint64_t at, uint64_t now_ns, uint64_t window)
{
	return at != 0 && now_ns - at <= window;
}

void rp_rrp_init(struct rp_node *n)
{
	n->rrp_in_use = all_paths(n);
	n->rrp_decay_at = RP_NEVER;
	n->rrp_probe_at = RP_NEVER;
}

/* Paths probed: marked by this node or by a member (every node probes a
 * marked path, so whoever marked it gets the evidence it needs to
 * reinstate it, §9.4), or out of use here. */
static uint8_t probe_set(const struct rp_node *n)
{
	uint8_t marked = (uint8_t)(n->rrp_faulty | n->rrp_union);
	return (uint8_t)(all_paths(n) & (marked | ~n->rrp_in_use));
}

/* Recomputes the in-use set (§9.1) and reports every path whose state
 * changed. Active mode ignores the members' marks: an extra copy on a path
 * some peer finds faulty costs bandwidth only, while a path wrongly left
 * out could cut a node off until the token clears the mark. */
static void update(struct rp_node *n, uint64_t now_ns, struct rp_actions *out)
{
	uint8_t all = all_paths(n);
	uint8_t others = n->cfg.rrp_mode == RP_RRP_PASSIVE ? n->rrp_union : 0;
	uint8_t use = (uint8_t)(all & ~(n->rrp_faulty | others));
	n->rrp_report_pending = false;
	if (use == 0)
		use = (uint8_t)(all & ~n->rrp_faulty);
	if (use == 0)
		use = all;
	n->rrp_in_use = use;
	rp_relay_refresh(n);
	for (uint32_t p = 0; p < n->cfg.path_count; p++) {
		if (!(all & pbit(p)))
			continue; /* not on this network (§17.1): no path, no event */
		uint8_t st = (n->rrp_faulty & pbit(p)) ? RP_PATH_FAULTY
			     : (use & pbit(p))     ? RP_PATH_OK
						   : RP_PATH_EXCLUDED;
		if (st == n->rrp_reported[p])
			continue;
		if (!rp_actions_room(out, 1)) {
			n->rrp_report_pending = true;
			continue;
		}
		n->rrp_reported[p] = st;
		struct rp_action *a = rp_action_push(out, RP_ACT_PATH);
		a->path.path = (uint8_t)p;
		a->path.state = st;
		a->path.in_use = use;
		a->path.faulty = n->rrp_faulty;
	}
	if (probe_set(n) != 0 && n->rrp_probe_at == RP_NEVER)
		n->rrp_probe_at = now_ns + n->cfg.rrp_probe_ns;
}

/* Paths with problems charged but not marked faulty. */
static uint8_t suspects(const struct rp_node *n)
{
	uint8_t m = 0;
	for (uint32_t p = 0; p < n->cfg.path_count; p++)
		if (n->rrp_problems[p] > 0 && !(n->rrp_faulty & pbit(p)))
			m |= pbit(p);
	return m;
}

static bool suspect(const struct rp_node *n)
{
	return ((suspects(n) | n->rrp_sus_union) & n->rrp_in_use) != 0;
}

uint8_t rp_rrp_send_mask(struct rp_node *n, const uint8_t *frame)
{
	uint8_t use = n->rrp_in_use;
	uint8_t type = frame[RP_HDR_TYPE];
	/* membership frames: every path, whatever the marks (§9.2) */
	if (type != RP_FRAME_DATA && type != RP_FRAME_TOKEN)
		return all_paths(n);
	if (n->cfg.rrp_mode != RP_RRP_PASSIVE)
		return use;
	/* while a path in use is suspect (problems charged, not yet faulty)
	 * a passive node sends like an active one, on every path it trusts
	 * itself, the members' marks notwithstanding: detection then costs no
	 * more lost tokens, and a path excluded on a stale mark carries the
	 * ring when the path in use dies (seed 24407) (§9.2) */
	if (suspect(n)) {
		uint8_t trusted = (uint8_t)(all_paths(n) & ~n->rrp_faulty);
		return trusted ? trusted : all_paths(n);
	}
	/* a retransmission repairs a loss: every path in use */
	if (rp_get16(frame + RP_HDR_FLAGS) & RP_HDR_F_RETRANS)
		return use;
	/* one pointer for frames, one for tokens (RRP §6), so that every
	 * receiver sees each sender's frames spread over the paths */
	uint8_t *rr = &n->rrp_rr[type == RP_FRAME_TOKEN];
	for (uint32_t k = 0; k < n->cfg.path_count; k++) {
		uint32_t p = (*rr + k) % n->cfg.path_count;
		if (use & pbit(p)) {
			*rr = (uint8_t)((p + 1u) % n->cfg.path_count);
			return pbit(p);
		}
	}
	return use;
}

static void mark_faulty(struct rp_node *n, uint32_t p, uint64_t now_ns, struct rp_actions *out)
{
	n->rrp_faulty |= pbit(p);
	n->rrp_ok_ticks[p] = 0;
	n->stats.path_faults[p]++;
	update(n, now_ns, out);
}

static void charge(struct rp_node *n, uint32_t p, uint64_t now_ns, struct rp_actions *out)
{
	n->stats.path_problems[p]++;
	if (n->rrp_faulty & pbit(p))
		return;
	if (++n->rrp_problems[p] >= n->cfg.rrp_threshold) {
		mark_faulty(n, p, now_ns, out);
		return;
	}
	if (n->rrp_decay_at == RP_NEVER)
		n->rrp_decay_at = now_ns + n->cfg.rrp_decay_ns;
}

/* Nobody is left to use p with here (§9.7): at least one other member on p
 * is out of reach there, and none is heard on p lately (two probe periods)
 * while it still sends there (this node's end of p failed, or the whole
 * network). A member not heard on p lately is no witness either way: on
 * an idle ring a node hears its predecessor only. A partial topology
 * needs every other member on p out of reach (§17.5): a quiet member may
 * share p alone with this node, and the mark would cut it off. */
static bool alone_on(const struct rp_node *n, uint32_t p, uint64_t now_ns)
{
	bool any = false;
	for (uint32_t i = 0; i < n->member_count; i++) {
		uint16_t id = n->members[i];
		const struct rp_peer *pe = &n->peers[id - 1u];
		if (id == n->cfg.node_id || !(n->on[id - 1u] & pbit(p)))
			continue;
		if (pe->unreachable & pbit(p))
			any = true;
		else if (n->partial || ((pe->send_mask & pbit(p)) &&
					recent(pe->last_rx[p], now_ns, 2u * n->cfg.rrp_probe_ns)))
			return false;
	}
	return any;
}

/* A problem of the pair (peer j, path p) (§9.7, §17.5). At the threshold j
 * is out of reach on p; this node's own path p is marked only once nobody
 * is left to use it with. */
static void charge_peer(struct rp_node *n, uint16_t j, uint32_t p, uint64_t now_ns, struct rp_actions *out)
{
	struct rp_peer *pe = &n->peers[j - 1u];
	n->stats.path_problems[p]++;
	if (pe->unreachable & pbit(p)) {
		if (n->partial)
			return; /* §17.5: decided when the pair was marked */
	} else {
		if (++pe->peer_problems[p] < n->cfg.rrp_threshold) {
			if (n->rrp_decay_at == RP_NEVER)
				n->rrp_decay_at = now_ns + n->cfg.rrp_decay_ns;
			return;
		}
		pe->peer_problems[p] = 0;
		pe->unreachable |= pbit(p);
		n->stats.path_peer_faults[p]++;
		rp_relay_refresh(n);
	}
	/* full topology: again at every later charge, the others' last
	 * frames on p age */
	if (!(n->rrp_faulty & pbit(p)) && alone_on(n, p, now_ns))
		mark_faulty(n, p, now_ns, out);
}

/* A member's frames dropped paths from its send mask (it marked them
 * itself): this node may have nobody left on them (§9.7: the last node
 * still sending on a dead network). */
static void peer_dropped(struct rp_node *n, uint8_t dropped, uint64_t now_ns, struct rp_actions *out)
{
	for (uint32_t p = 0; p < n->cfg.path_count; p++)
		if ((dropped & pbit(p)) && !(n->rrp_faulty & pbit(p)) && alone_on(n, p, now_ns))
			mark_faulty(n, p, now_ns, out);
}

/* When the peer was last heard directly, on any path (0: never). */
static uint64_t last_heard(const struct rp_node *n, const struct rp_peer *pe)
{
	uint64_t last = 0;
	for (uint32_t p = 0; p < n->cfg.path_count; p++)
		if (pe->last_rx[p] > last)
			last = pe->last_rx[p];
	return last;
}

/* A valid frame from h->sender arrived on path q (§9.3). The header's
 * transmission count tells a first copy from a later one. */
void rp_rrp_on_rx(struct rp_node *n, const struct rp_wire_hdr *h, uint8_t q, uint64_t now_ns,
		  struct rp_actions *out)
{
	struct rp_peer *pe = &n->peers[h->sender - 1u];
	n->stats.path_accepted[q]++;
	/* after a silence the transmission count may have moved by more than
	 * half its range (tokens go to the successor only): start afresh */
	uint64_t last = last_heard(n, pe);
	if (last == 0 || now_ns - last > n->cfg.rrp_timeout_ns)
		pe->have_tx = false;
	pe->last_rx[q] = now_ns ? now_ns : 1u;
	pe->skipped[q] = 0;
	pe->missing &= (uint8_t)~pbit(q);
	uint16_t known = (uint16_t)(pe->fault_mask | pe->unreachable << 8);
	pe->fault_mask = h->fault_mask;
	uint8_t dropped = (uint8_t)(pe->send_mask & ~h->send_mask & all_paths(n));
	pe->send_mask = h->send_mask;
	if (pe->inc != h->incarnation) {
		pe->inc = h->incarnation;
		pe->have_tx = false;
		pe->unreachable = 0;
		pe->missing = 0;
		memset(pe->peer_problems, 0, sizeof(pe->peer_problems));
	}
	/* heard directly on q: back in reach there (§17.5) */
	pe->unreachable &= (uint8_t)~pbit(q);
	pe->peer_problems[q] = 0;
	if (known != (uint16_t)(pe->fault_mask | pe->unreachable << 8))
		rp_relay_refresh(n); /* what is known of j's networks changed (§9.8) */
	if (dropped != 0 && per_pair(n) && !n->partial && (n->memb & rp_bit(h->sender)))
		peer_dropped(n, dropped, now_ns, out);
	/* only a first copy counts against the other paths: a later copy
	 * of the same send proves nothing about them */
	bool first = !pe->have_tx || (int16_t)(uint16_t)(h->tx_seq - pe->last_tx) > 0;
	if (first) {
		pe->last_tx = h->tx_seq;
		pe->have_tx = true;
	}
	/* probes travel outside the send mask; a non-member's paths are not
	 * this ring's business */
	if (!first || n->cfg.path_count == 1 || h->type == RP_FRAME_PATH_TEST ||
	    !(n->memb & rp_bit(h->sender)))
		return;
	uint8_t sm = h->send_mask & all_paths(n);
	uint32_t need = n->cfg.rrp_mode == RP_RRP_PASSIVE ? 2u * rp_popcount64(sm) : 2u;
	for (uint32_t p = 0; p < n->cfg.path_count; p++) {
		if (!(sm & pbit(p))) {
			pe->skipped[p] = 0; /* j does not send on p: nothing missed */
			pe->missing &= (uint8_t)~pbit(p);
			continue;
		}
		if (p == q)
			continue;
		/* p missed `need` sends in a row; it is charged if it stays
		 * silent for the timeout after that (a copy still in flight,
		 * or one lost copy before a quiet spell, is not a fault) */
		if (++pe->skipped[p] == need) {
			pe->skip_since[p] = now_ns;
			pe->missing |= pbit(p); /* the evidence that names j (§9.6) */
		}
		if (pe->skipped[p] > need && now_ns - pe->skip_since[p] >= n->cfg.rrp_timeout_ns) {
			pe->skipped[p] = 0;
			if (per_pair(n))
				charge_peer(n, h->sender, p, now_ns, out);
			else
				charge(n, p, now_ns, out);
		}
	}
}

void rp_rrp_on_probe(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf,
		     uint8_t path, uint64_t now_ns)
{
	uint64_t heard;
	enum rp_drop why = rp_wire_decode_path_test(buf, h, &heard);
	if (why != RP_DROP_NONE) {
		n->stats.drops[why]++;
		return;
	}
	/* the peer's latest probe decides (§9.4) */
	n->peers[h->sender - 1u].heard_me_at[path] =
		(heard & rp_bit(n->cfg.node_id)) ? (now_ns ? now_ns : 1u) : 0u;
}

/* An accepted token: the members' marks (§9.1). */
void rp_rrp_on_token(struct rp_node *n, uint64_t now_ns, struct rp_actions *out)
{
	n->rrp_sus_union = (uint8_t)((n->token.rrp_sus_all | n->token.rrp_sus_acc) & all_paths(n));
	uint8_t u = (uint8_t)((n->token.rrp_all | n->token.rrp_acc) & all_paths(n));
	if (u == n->rrp_union)
		return;
	n->rrp_union = u;
	update(n, now_ns, out);
}

/* Before forwarding: the ring's lowest member closes a rotation's union. */
void rp_rrp_stamp_token(struct rp_node *n)
{
	struct rp_wire_token *t = &n->token;
	uint8_t sus = suspects(n);
	if (n->members[0] == n->cfg.node_id) {
		t->rrp_all = (uint8_t)(t->rrp_acc | n->rrp_faulty);
		t->rrp_acc = n->rrp_faulty;
		t->rrp_sus_all = (uint8_t)(t->rrp_sus_acc | sus);
		t->rrp_sus_acc = sus;
	} else {
		t->rrp_acc |= n->rrp_faulty;
		t->rrp_sus_acc |= sus;
	}
}

void rp_rrp_token_lost(struct rp_node *n, uint64_t now_ns, struct rp_actions *out)
{
	/* Passive: the one path the token went on is suspect (a crashed
	 * successor charges one problem, which decays). Retransmissions go
	 * on every path, so only the first counts. */
	uint8_t m = n->token_sent_mask;
	n->token_sent_mask = all_paths(n);
	if (n->cfg.rrp_mode != RP_RRP_PASSIVE || n->cfg.path_count == 1 || rp_popcount64(m) != 1)
		return;
	for (uint32_t p = 0; p < n->cfg.path_count; p++)
		if (m == pbit(p))
			charge(n, p, now_ns, out);
	/* the retransmitted token carries the suspicion, so the next hop
	 * already sends on every path */
	if (n->token_buf[RP_HDR_TYPE] == RP_FRAME_TOKEN)
		rp_wire_token_add_suspects(n->token_buf, suspects(n));
}

/* Every other member heard on p lately, and hearing this node on p (§9.4).
 * Counted per pair in a full topology (§9.7), a member out of reach here
 * that marked p itself says the fault is at its end: it is not waited for,
 * but at least one member must be heard. In a partial topology this
 * node's mark says its own end failed: one member on p heard and hearing
 * it is evidence enough (§17.5). */
static bool path_works(const struct rp_node *n, uint32_t p, uint64_t now_ns)
{
	uint64_t window = 2u * n->cfg.rrp_probe_ns;
	bool any = false, others = false;
	for (uint32_t i = 0; i < n->member_count; i++) {
		uint16_t id = n->members[i];
		if (id == n->cfg.node_id || !(n->on[id - 1u] & pbit(p)))
			continue;
		others = true;
		const struct rp_peer *pe = &n->peers[id - 1u];
		bool works = recent(pe->last_rx[p], now_ns, window) && recent(pe->heard_me_at[p], now_ns, window);
		any = any || works;
		if (works || n->partial)
			continue;
		if (!per_pair(n) || !(pe->unreachable & pbit(p)) || (pe->send_mask & pbit(p)))
			return false;
	}
	return any || !others;
}

static void probe_tick(struct rp_node *n, uint64_t now_ns, struct rp_actions *out)
{
	uint64_t window = 2u * n->cfg.rrp_probe_ns;
	uint8_t probes = probe_set(n);
	for (uint32_t p = 0; p < n->cfg.path_count; p++) {
		if (!(probes & pbit(p)) || !rp_actions_room(out, 1))
			continue;
		uint64_t heard = 0;
		for (uint16_t id = 1; id <= RP_NODES_MAX; id++)
			if (id != n->cfg.node_id && recent(n->peers[id - 1u].last_rx[p], now_ns, window))
				heard |= rp_bit(id);
		struct rp_wire_hdr h;
		rp_hdr_init(n, &h, n->ring);
		size_t size = rp_wire_encode_path_test(n->probe_buf[p], &h, heard);
		rp_emit_send_on(n, out, n->probe_buf[p], (uint32_t)size, RP_DEST_ALL, pbit(p));
		n->stats.probes_sent++;
	}
	bool changed = false;
	for (uint32_t p = 0; p < n->cfg.path_count; p++) {
		if (!(n->rrp_faulty & pbit(p)))
			continue;
		if ((n->rrp_link_down & pbit(p)) || !path_works(n, p, now_ns)) {
			n->rrp_ok_ticks[p] = 0;
			continue;
		}
		if (++n->rrp_ok_ticks[p] < 2)
			continue;
		n->rrp_faulty &= (uint8_t)~pbit(p);
		n->rrp_problems[p] = 0;
		n->rrp_ok_ticks[p] = 0;
		n->stats.path_reinstated[p]++;
		changed = true;
	}
	n->rrp_probe_at = RP_NEVER;
	if (changed)
		update(n, now_ns, out);
	if (probe_set(n) != 0)
		n->rrp_probe_at = now_ns + n->cfg.rrp_probe_ns;
}

/* The NIC says a path's link is down: no need to wait for missing copies,
 * the path is marked at once; it is reinstated by the probes as usual, but
 * not while the link is still reported down. */
void rp_rrp_link(struct rp_node *n, uint8_t path, bool up, uint64_t now_ns, struct rp_actions *out)
{
	if (up) {
		n->rrp_link_down &= (uint8_t)~pbit(path);
		return;
	}
	n->rrp_link_down |= pbit(path);
	if (n->cfg.path_count > 1 && !(n->rrp_faulty & pbit(path)))
		mark_faulty(n, path, now_ns, out);
}

/* The operator says path is repaired (§9.4): this node's mark goes now,
 * without waiting for two probe rounds of evidence, unless the NIC still
 * reports the link down. If the path still fails, the monitor charges and
 * marks it again as for any path. */
void rp_rrp_reinstate(struct rp_node *n, uint8_t path, uint64_t now_ns, struct rp_actions *out)
{
	if (!(n->rrp_faulty & pbit(path)) || (n->rrp_link_down & pbit(path)))
		return;
	n->rrp_faulty &= (uint8_t)~pbit(path);
	n->rrp_problems[path] = 0;
	n->rrp_ok_ticks[path] = 0;
	n->stats.path_reinstated[path]++;
	update(n, now_ns, out);
}

void rp_rrp_timers(struct rp_node *n, uint64_t now_ns, struct rp_actions *out)
{
	if (n->rrp_decay_at <= now_ns) {
		bool left = false;
		for (uint32_t p = 0; p < n->cfg.path_count; p++) {
			if ((n->rrp_faulty & pbit(p)) || n->rrp_problems[p] == 0)
				continue;
			n->rrp_problems[p]--;
			left = left || n->rrp_problems[p] > 0;
		}
		for (uint32_t i = 0; per_pair(n) && i < n->cfg.member_count; i++) {
			struct rp_peer *pe = &n->peers[n->cfg.members[i] - 1u];
			for (uint32_t p = 0; p < n->cfg.path_count; p++) {
				if (pe->peer_problems[p] == 0)
					continue;
				pe->peer_problems[p]--;
				left = left || pe->peer_problems[p] > 0;
			}
		}
		n->rrp_decay_at = left ? now_ns + n->cfg.rrp_decay_ns : RP_NEVER;
	}
	if (n->rrp_probe_at <= now_ns)
		probe_tick(n, now_ns, out);
	if (n->rrp_report_pending)
		update(n, now_ns, out);
}

uint8_t rp_rrp_all_paths(const struct rp_node *n) { return all_paths(n); }

uint64_t rp_rrp_deadline(const struct rp_node *n)
{
	return n->rrp_decay_at < n->rrp_probe_at ? n->rrp_decay_at : n->rrp_probe_at;
}
