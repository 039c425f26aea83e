/* rp_quorum.c — quorum flags of regular configurations and protocol version
 * negotiation.
 *
 * Implements docs/protocol.md §10 (majority, two_node with wait-for-all,
 * last man standing as dynamic linear voting) and §11 (ranges in every
 * header and commit entry, refusal of nodes sharing no version). Everything
 * a ring decides is computed from its commit token at rotation 2, which
 * every member sees identically, so every member decides the same.
 * Never: lets a node that shares no version with this node or, in
 * OPERATIONAL, with its ring, start a gather.
 */
#include "rp_internal.h"

#include <string.h>

static uint64_t configured(const struct rp_node *n)
{
	uint64_t set = 0;
	for (uint32_t i = 0; i < n->cfg.member_count; i++)
		set |= rp_bit(n->cfg.members[i]);
	return set;
}

bool rp_version_overlap(uint8_t amin, uint8_t amax, uint8_t bmin, uint8_t bmax)
{
	return amin <= bmax && bmin <= amax;
}

static void refuse(struct rp_node *n, const struct rp_wire_hdr *h, uint8_t our_min, uint8_t our_max,
		   struct rp_actions *out)
{
	struct rp_peer *pe = &n->peers[h->sender - 1u];
	n->stats.drops[RP_DROP_VERSION_MISMATCH]++;
	if (pe->refused_inc == h->incarnation || !rp_actions_room(out, 1))
		return;
	pe->refused_inc = h->incarnation;
	struct rp_action *a = rp_action_push(out, RP_ACT_REFUSED);
	a->refused.node = h->sender;
	a->refused.incarnation = h->incarnation;
	a->refused.their_min = h->proto_min;
	a->refused.their_max = h->proto_max;
	a->refused.our_min = our_min;
	a->refused.our_max = our_max;
	n->stats.refusals++;
}

bool rp_version_refuse(struct rp_node *n, const struct rp_wire_hdr *h, uint64_t now_ns,
		       struct rp_actions *out)
{
	uint64_t bit = rp_bit(h->sender);
	struct rp_peer *pe = &n->peers[h->sender - 1u];
	pe->proto_min = h->proto_min;
	pe->proto_max = h->proto_max;
	if (!rp_version_overlap(h->proto_min, h->proto_max, n->cfg.proto_min, n->cfg.proto_max)) {
		if (n->state == RP_STATE_GATHER && (n->proc_set & bit) && !(n->fail_set & bit)) {
			n->fail_set |= bit;
			rp_memb_gather(n, now_ns, out);
		}
		refuse(n, h, n->cfg.proto_min, n->cfg.proto_max, out);
		return true;
	}
	if (n->state == RP_STATE_OPERATIONAL && !(n->memb & bit) &&
	    !rp_version_overlap(h->proto_min, h->proto_max, n->ring_vmin, n->ring_vmax)) {
		refuse(n, h, n->ring_vmin, n->ring_vmax, out);
		return true;
	}
	return false;
}

uint64_t rp_version_disjoint(const struct rp_node *n, uint64_t set)
{
	uint64_t bad = 0;
	for (uint16_t id = 1; id <= RP_NODES_MAX; id++) {
		const struct rp_peer *pe = &n->peers[id - 1u];
		if ((set & rp_bit(id)) && pe->proto_min != 0 &&
		    !rp_version_overlap(pe->proto_min, pe->proto_max, n->cfg.proto_min, n->cfg.proto_max))
			bad |= rp_bit(id);
	}
	return bad;
}

void rp_persist(struct rp_node *n, uint64_t ring_seq, struct rp_actions *out)
{
	if (ring_seq > n->max_ring_seq)
		n->max_ring_seq = ring_seq;
	struct rp_action *a = rp_action_push(out, RP_ACT_PERSIST);
	a->persist.ring_seq = ring_seq;
	a->persist.last_primary = n->last_primary;
	a->persist.last_primary_members = n->last_primary_members;
	a->persist.installed_primary = n->installed_primary;
	a->persist.installed_primary_members = n->installed_primary_members;
}

static bool ring_newer(struct rp_ring_id a, struct rp_ring_id b)
{
	return a.seq > b.seq || (a.seq == b.seq && a.rep > b.rep);
}

/* M holds more than half of r, or exactly half including r's lowest id
 * (corosync's auto_tie_breaker). */
static bool majority_of(uint64_t m, uint64_t r)
{
	uint32_t k = rp_popcount64(m & r), size = rp_popcount64(r);
	uint64_t lowest = r & (~r + 1u);
	return 2u * k > size || (2u * k == size && (m & lowest));
}

/* What last_man_standing weighs: the newest primary ring installed by any
 * member (the configured nodes if none), and every primary ring attempted
 * by a member that is newer than it (ambiguous: perhaps installed by
 * someone, perhaps not). */
struct lms_refs {
	struct rp_ring_id installed;
	uint64_t installed_members;
	uint32_t attempts;
	uint64_t attempt_members[RP_NODES_MAX + 1u];
	struct rp_ring_id attempt[RP_NODES_MAX + 1u];
};

static void refs_installed(struct lms_refs *r, struct rp_ring_id ring, uint64_t members)
{
	if (members != 0 && (r->installed_members == 0 || ring_newer(ring, r->installed))) {
		r->installed = ring;
		r->installed_members = members;
	}
}

static void refs_attempt(struct lms_refs *r, struct rp_ring_id ring, uint64_t members)
{
	if (members == 0)
		return;
	for (uint32_t i = 0; i < r->attempts; i++)
		if (rp_ring_eq(r->attempt[i], ring))
			return;
	r->attempt[r->attempts] = ring;
	r->attempt_members[r->attempts++] = members;
}

/* The policy's verdict for members M. */
static bool policy_primary(const struct rp_node *n, uint64_t m, const struct lms_refs *r)
{
	uint64_t conf = configured(n);
	switch (n->cfg.quorum) {
	case RP_QUORUM_TWO_NODE:
		return rp_popcount64(m & conf) == 2u || (m == rp_bit(n->cfg.node_id) && n->seen_all);
	case RP_QUORUM_LAST_MAN_STANDING: {
		if (!majority_of(m, r->installed_members ? r->installed_members : conf))
			return false;
		for (uint32_t i = 0; i < r->attempts; i++)
			if ((r->installed_members == 0 || ring_newer(r->attempt[i], r->installed)) &&
			    !majority_of(m, r->attempt_members[i]))
				return false;
		return true;
	}
	case RP_QUORUM_MAJORITY:
	default:
		return 2u * rp_popcount64(m & conf) > n->cfg.member_count;
	}
}

/* A primary ring is recorded as attempted before anyone can install it. */
static void attempt(struct rp_node *n, uint64_t members, struct rp_actions *out)
{
	n->last_primary = n->ring;
	n->last_primary_members = members;
	rp_persist(n, n->ring.seq, out);
}

void rp_quorum_start(struct rp_node *n, struct rp_actions *out)
{
	uint64_t me = rp_bit(n->cfg.node_id);
	struct lms_refs r = {0};
	refs_installed(&r, n->installed_primary, n->installed_primary_members);
	refs_attempt(&r, n->last_primary, n->last_primary_members);
	n->primary = policy_primary(n, me, &r) || n->cfg.mutation == RP_MUTATION_ALWAYS_PRIMARY;
	if (n->primary) {
		attempt(n, me, out);
		n->installed_primary = n->ring;
		n->installed_primary_members = me;
	}
}

void rp_quorum_compute(struct rp_node *n, struct rp_actions *out)
{
	const struct rp_wire_commit *c = &n->commit;
	uint8_t vmin = 1, vmax = 255;
	struct lms_refs r;
	memset(&r, 0, sizeof(r));
	for (uint32_t i = 0; i < c->count; i++) {
		const struct rp_wire_commit_entry *e = &c->e[i];
		if (e->proto_min > vmin)
			vmin = e->proto_min;
		if (e->proto_max < vmax)
			vmax = e->proto_max;
		refs_installed(&r, e->installed_primary, e->installed_primary_members);
		refs_attempt(&r, e->last_primary, e->last_primary_members);
	}
	/* Pairwise checks at rotation 1 make the intersection non-empty
	 * (§11); a forged entry could still empty it: run the lower bound,
	 * which every member computes alike. */
	n->new_vmin = vmin;
	n->new_vmax = vmin <= vmax ? vmax : vmin;
	n->new_proto = n->new_vmax;
	n->new_primary = policy_primary(n, n->new_memb, &r) ||
			 n->cfg.mutation == RP_MUTATION_ALWAYS_PRIMARY;
	if (n->new_primary)
		attempt(n, n->new_memb, out);
}

void rp_quorum_install(struct rp_node *n)
{
	n->primary = n->new_primary;
	if (n->primary) {
		/* persisted with the next RP_ACT_PERSIST: until then a restart
		 * sees only the attempt, which is the more cautious reference */
		n->installed_primary = n->ring;
		n->installed_primary_members = n->memb;
	}
	n->ring_proto = n->new_proto;
	n->ring_vmin = n->new_vmin;
	n->ring_vmax = n->new_vmax;
	if (n->cfg.quorum == RP_QUORUM_TWO_NODE && (n->memb & configured(n)) == configured(n))
		n->seen_all = true;
}
