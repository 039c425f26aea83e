/* sim_stable.c — docs/design.md §3 properties 9 and 10, as stated in
 * docs/protocol.md §16:
 *   stability           a node never installs a regular configuration
 *                       without a node it has been together with for the
 *                       whole failure-detection bound B before
 *   primary-continuity  a node together (for B) with a quorum installs only
 *                       primary regular configurations; and once the
 *                       faults stop, a group of nodes together that is a
 *                       quorum is back in a primary configuration within
 *                       the outage bound P
 * Two nodes are *together* while both are alive and unpaused, each
 * reaches the other on some path (not necessarily the same path both
 * ways: a's frames reach b on one network, b's reach a on any), and every node connected to them (both
 * ways, directly or through others) is connected both ways to every other
 * such node: the part of the graph of two-way links that holds them is
 * complete. That exception is the only one, and no ring can do without it
 * (docs/protocol.md §16.0): a ring's members hear each other directly, so
 * if a-b and b-c are links and a-c is not, a and c are never in one ring
 * and one of the pairs must part. Nodes with one-way links only are outside
 * every part and do not excuse anything. Being together is an
 * equivalence, so the nodes fall into groups; the
 * group that would be primary under the policy (majority: more than half
 * the configured nodes; two_node: both; last_man_standing: all of them, as
 * its quorum otherwise depends on history) is the quorum group.
 *
 * Owns: the `together` matrix, the quorum group and its outages.
 * Never: reads ring-proto's internals beyond its public inspection calls.
 */
#include "sim_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

uint64_t sim_stable_bound_ns(const struct sim *s)
{
	return s->cfg.token_loss_ns + s->cfg.consensus_ns;
}

/* docs/protocol.md §16.0: P = token loss + 2 x consensus + merge. */
uint64_t sim_outage_bound_ns(const struct sim *s)
{
	return s->cfg.token_loss_ns + 2u * s->cfg.consensus_ns + s->cfg.merge_ns;
}

/* a's frames reach b directly: on some network they share, whichever,
 * one direction (docs/protocol.md §16.0: a pair that hears each other one
 * way on one network and the other way on another is connected; every
 * frame of Totem is a one-way send, and the way back may be another
 * network). Without mutes every link works both ways or neither, and this
 * is sim_direct() less the directed cuts. */
static bool reaches(const struct sim *s, uint32_t a, uint32_t b)
{
	if (s->blocked[a][b] || s->oneway[a][b])
		return false;
	return sim_sends_to(s, a, b);
}

/* In a partial topology a node's frames reach another through relays
 * (docs/protocol.md §17.6): reach becomes the transitive closure of the
 * direct links (each one direction), through live, running nodes only. */
static void relay_closure(struct sim *s, const bool *live)
{
	uint32_t nn = s->opts.nodes;
	for (uint32_t x = 0; x < nn; x++) {
		if (!live[x])
			continue;
		for (uint32_t a = 0; a < nn; a++)
			for (uint32_t b = 0; b < nn; b++)
				if (a != b && s->reach[a][x] && s->reach[x][b])
					s->reach[a][b] = true;
	}
}

static uint32_t popcount64(uint64_t v)
{
	uint32_t c = 0;
	for (; v; v &= v - 1u)
		c++;
	return c;
}

/* A group of nodes that the policy would make primary as a ring. */
static bool is_quorum(const struct sim *s, uint64_t group)
{
	uint32_t k = popcount64(group), total = s->opts.nodes;
	switch (s->quorum) {
	case RP_QUORUM_MAJORITY:
		return 2u * k > total;
	case RP_QUORUM_TWO_NODE:
		return k == 2u && total == 2u;
	default:
		return k == total;
	}
}

static void set_group(struct sim *s, uint64_t group)
{
	if (group == s->quorum_group)
		return;
	s->quorum_group = group;
	s->group_in_primary = 0;
	for (uint32_t i = 0; i < s->opts.nodes; i++)
		if ((group >> i) & 1u)
			s->group_in_primary += s->nodes[i].in_primary;
	s->outage_from_ns = group != 0 && s->group_in_primary == 0 ? s->now : UINT64_MAX;
}

/* --trace: who reaches whom (a row per live node: the ids it reaches, '<'
 * after an id it reaches one way only), and the groups of nodes together. */
static void trace_reach(struct sim *s, const bool *live)
{
	if (!s->opts.trace)
		return;
	char line[2048];
	size_t len = 0;
	uint32_t nn = s->opts.nodes;
	for (uint32_t a = 0; a < nn && len + 64 < sizeof(line); a++) {
		if (!live[a])
			continue;
		len += (size_t)snprintf(line + len, sizeof(line) - len, " n%u>", s->nodes[a].id);
		for (uint32_t b = 0; b < nn && len + 16 < sizeof(line); b++)
			if (s->reach[a][b])
				len += (size_t)snprintf(line + len, sizeof(line) - len, "%u%s,", s->nodes[b].id,
							s->reach[b][a] ? "" : "<");
	}
	len += (size_t)snprintf(line + len, sizeof(line) - len, " | together:");
	uint64_t seen = 0;
	for (uint32_t a = 0; a < nn && len + 64 < sizeof(line); a++) {
		if (!live[a] || ((seen >> a) & 1u))
			continue;
		len += (size_t)snprintf(line + len, sizeof(line) - len, " {%u", s->nodes[a].id);
		for (uint32_t b = a + 1; b < nn && len + 16 < sizeof(line); b++)
			if (s->together[a][b] != UINT64_MAX) {
				seen |= 1ull << b;
				len += (size_t)snprintf(line + len, sizeof(line) - len, ",%u", s->nodes[b].id);
			}
		len += (size_t)snprintf(line + len, sizeof(line) - len, "}");
	}
	sim_trace(s, "reach%s", line);
}

void sim_stable_fault(struct sim *s)
{
	s->last_fault_ns = s->now;
}

/* A frame reaches a node from a sender that is not live or does not reach
 * it now: held across a partition or a cut, replayed, burst from a queue
 * after its sender was cut off, or sent by a node since crashed. To the
 * receiver it is a link that worked for one frame — news of a node it
 * must try to merge with, which no protocol can tell from a link that
 * came up and went down again — so it counts as a change of connectivity
 * for the outage bound P (docs/protocol.md §16.0, §18.2). */
void sim_stable_arrival(struct sim *s, const struct sim_node *n, const struct sim_buf *b)
{
	struct rp_wire_hdr h;
	if (rp_wire_decode_hdr(b->data, b->size, &h) != RP_DROP_NONE || h.sender == 0 ||
	    h.sender > s->opts.nodes || h.sender - 1u == n->index)
		return;
	uint32_t from = h.sender - 1u;
	if (!s->stable_live[from] || !s->reach[from][n->index])
		s->last_fault_ns = s->now;
}

void sim_stable_update(struct sim *s)
{
	uint32_t nn = s->opts.nodes;
	bool changed = false, live[SIM_NODES_MAX], fresh[SIM_NODES_MAX];
	for (uint32_t i = 0; i < nn; i++) {
		const struct sim_node *n = &s->nodes[i];
		live[i] = n->alive && !n->paused;
		fresh[i] = n->incarnation != s->stable_inc[i];
		changed |= live[i] != s->stable_live[i] || fresh[i];
		s->stable_live[i] = live[i];
		s->stable_inc[i] = n->incarnation;
	}
	bool before[SIM_NODES_MAX][SIM_NODES_MAX];
	memcpy(before, s->reach, sizeof(before));
	for (uint32_t a = 0; a < nn; a++)
		for (uint32_t b = 0; b < nn; b++)
			s->reach[a][b] = a != b && reaches(s, a, b);
	if (s->opts.partial)
		relay_closure(s, live);
	changed |= memcmp(before, s->reach, sizeof(before)) != 0;
	if (!changed)
		return;
	s->last_fault_ns = s->now;
	/* the live nodes connected both ways, and the parts of that graph;
	 * a part in which every pair is connected is a group */
	uint64_t adj[SIM_NODES_MAX], part[SIM_NODES_MAX];
	for (uint32_t a = 0; a < nn; a++) {
		adj[a] = 0;
		for (uint32_t b = 0; b < nn; b++)
			if (b != a && live[a] && live[b] && s->reach[a][b] && s->reach[b][a])
				adj[a] |= 1ull << b;
	}
	for (uint32_t a = 0; a < nn; a++) {
		uint64_t p = 1ull << a, grown;
		do {
			grown = p;
			for (uint32_t b = 0; b < nn; b++)
				if ((p >> b) & 1u)
					grown |= adj[b];
			if (grown == p)
				break;
			p = grown;
		} while (true);
		part[a] = p;
	}
	uint64_t group = 0;
	for (uint32_t a = 0; a < nn; a++) {
		uint64_t mine = live[a] ? 1ull << a : 0;
		bool clique = true;
		for (uint32_t b = 0; b < nn; b++)
			if (((part[a] >> b) & 1u) && ((adj[b] | 1ull << b) & part[a]) != part[a])
				clique = false;
		for (uint32_t b = 0; b < nn; b++) {
			if (b == a)
				continue;
			bool t = ((adj[a] >> b) & 1u) && clique;
			if (!t)
				s->together[a][b] = UINT64_MAX;
			else if (s->together[a][b] == UINT64_MAX || fresh[a] || fresh[b])
				s->together[a][b] = s->now;
			if (t)
				mine |= 1ull << b;
		}
		if (mine != 0 && is_quorum(s, mine))
			group = mine;
	}
	set_group(s, group);
	trace_reach(s, live);
}

/* Nodes together with n for at least the bound B, n included. */
static uint64_t settled_with(const struct sim *s, const struct sim_node *n)
{
	uint64_t b = sim_stable_bound_ns(s), set = 1ull << n->index;
	for (uint32_t m = 0; m < s->opts.nodes; m++)
		if (m != n->index && s->together[n->index][m] != UINT64_MAX &&
		    s->together[n->index][m] + b <= s->now)
			set |= 1ull << m;
	return set;
}

/* Properties 9 and 10 are checked unless --no-stability says otherwise:
 * under every fault mode, with the stale network model or without, at
 * full and partial topologies (docs/protocol.md §16.3). */
static bool checked(const struct sim *s) { return s->opts.stability != 0; }

void sim_stable_config(struct sim *s, struct sim_node *n, const struct rp_configuration *c,
		       uint64_t members)
{
	if (!checked(s))
		return;
	uint64_t settled = settled_with(s, n);
	uint64_t missing = settled & ~members;
	if (missing != 0) {
		uint32_t m = 0;
		while (!((missing >> m) & 1u))
			m++;
		sim_violation(s, "stability", "node %u installed ring (%u,%" PRIu64 ") without node %u,"
			      " both alive, unpaused and connected both ways since %.6f s (bound %.3f s)",
			      n->id, c->ring.rep, c->ring.seq, s->nodes[m].id,
			      (double)s->together[n->index][m] / 1e9, (double)sim_stable_bound_ns(s) / 1e9);
		return;
	}
	if (!c->primary && is_quorum(s, settled))
		sim_violation(s, "primary-continuity", "node %u installed ring (%u,%" PRIu64 ") as non-primary,"
			      " together with a quorum (nodes 0x%" PRIx64 ") for the bound %.3f s", n->id,
			      c->ring.rep, c->ring.seq, settled, (double)sim_stable_bound_ns(s) / 1e9);
}

/* pause-send (docs/protocol.md §16.1): a node that resumed within the
 * last token-loss timeout sends a new data frame in ring `ring` after
 * another member of that ring, alive and running, installed a later
 * regular configuration. That member has left the ring for good, so the
 * frame reaches it neither now nor through recovery: the sender delivers
 * it in a transitional configuration without that member, and a message
 * is lost to a node it was only separated from by the pause. EVS allows
 * it; a resumed node that first waits for its ring to show it is still
 * there (the token coming back) never does it. */
void sim_stable_sent(struct sim *s, const struct sim_node *n, struct rp_ring_id ring)
{
	if (!checked(s) || n->resumed_ns == UINT64_MAX || s->now - n->resumed_ns > s->cfg.token_loss_ns ||
	    !n->has_config || n->in_trans || !sim_ring_eq(n->ring, ring))
		return;
	for (uint32_t q = 0; q < s->opts.nodes; q++) {
		const struct sim_node *m = &s->nodes[q];
		if (q == n->index || !((n->conf_members >> q) & 1u) || !m->alive || m->paused ||
		    !m->has_config || m->ring.seq <= ring.seq)
			continue;
		sim_violation(s, "pause-send", "node %u, resumed at %.6f s, sent a new data frame in ring"
			      " (%u,%" PRIu64 ") at %.6f s; its member node %u had installed ring (%u,%" PRIu64
			      ") already: the message is lost to it", n->id, (double)n->resumed_ns / 1e9,
			      ring.rep, ring.seq, (double)s->now / 1e9, m->id, m->ring.rep, m->ring.seq);
		return;
	}
}

/* After every step of n: its membership of a primary configuration, the
 * quorum group's outage, and the outage bound P counted from the later of
 * the outage's start and the last fault. */
void sim_stable_step(struct sim *s, struct sim_node *n)
{
	bool in = n->alive && rp_node_state(n->rp) == RP_NODE_OPERATIONAL && rp_node_primary(n->rp);
	if (in != n->in_primary) {
		n->in_primary = in;
		if ((s->quorum_group >> n->index) & 1u) {
			if (in) {
				s->group_in_primary++;
				if (s->outage_from_ns != UINT64_MAX) {
					uint64_t from = s->outage_from_ns > s->last_fault_ns ? s->outage_from_ns
											     : s->last_fault_ns;
					if (s->now - from > s->max_outage_ns)
						s->max_outage_ns = s->now - from;
					s->outage_from_ns = UINT64_MAX;
				}
			} else if (--s->group_in_primary == 0) {
				s->outage_from_ns = s->now;
			}
		}
	}
	if (s->outage_from_ns == UINT64_MAX || s->failed || !checked(s))
		return;
	uint64_t from = s->outage_from_ns > s->last_fault_ns ? s->outage_from_ns : s->last_fault_ns;
	if (s->now - from > sim_outage_bound_ns(s))
		sim_violation(s, "primary-continuity", "no node of the quorum group 0x%" PRIx64 " in a primary"
			      " configuration for %.6f s since %.6f s (the later of the outage's start and"
			      " the last fault); bound %.3f s", s->quorum_group, (double)(s->now - from) / 1e9,
			      (double)from / 1e9, (double)sim_outage_bound_ns(s) / 1e9);
}
