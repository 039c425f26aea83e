/* rp_quorum.c — quorum flags of regular configurations and protocol version
 * negotiation.
 *
 * Implements docs/protocol.md §10 (majority, two_node with wait-for-all,
 * last man standing as dynamic linear voting) and §11 (ranges in every
 * header and commit entry, refusal of nodes sharing no version). Everything
 * a ring decides is computed from its commit token at rotation 2, which
 * every member sees identically, so every member decides the same.
 * Also §8.8: ring parameters compared in every JOIN and MERGE_DETECT, and
 * a second process with a node's id.
 * Never: lets a node that shares no version with this node or, in
 * OPERATIONAL, with its ring, or a node with other ring parameters, start
 * a gather; lets a newer incarnation displace a node that is still heard.
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

static struct rp_action *refusal(struct rp_node *n, enum rp_refusal_kind kind, uint16_t node, uint64_t inc,
				 struct rp_actions *out);

static void refuse(struct rp_node *n, const struct rp_wire_hdr *h, uint8_t our_min, uint8_t our_max,
		   struct rp_actions *out)
{
	struct rp_peer *pe = &n->peers[h->sender - 1u];
	n->stats.drops[RP_DROP_VERSION_MISMATCH]++;
	if (pe->refused_inc == h->incarnation)
		return;
	struct rp_action *a = refusal(n, RP_REFUSE_VERSION, h->sender, h->incarnation, out);
	if (!a)
		return;
	pe->refused_inc = h->incarnation;
	a->refused.their_min = h->proto_min;
	a->refused.their_max = h->proto_max;
	a->refused.our_min = our_min;
	a->refused.our_max = our_max;
}

bool rp_version_refuse(struct rp_node *n, const struct rp_wire_hdr *h, uint64_t now_ns,
		       struct rp_actions *out)
{
	uint64_t bit = rp_bit(h->sender);
	struct rp_peer *pe = &n->peers[h->sender - 1u];
	pe->proto_min = h->proto_min;
	pe->proto_max = h->proto_max;
	if (!rp_version_overlap(h->proto_min, h->proto_max, n->cfg.proto_min, n->cfg.proto_max)) {
		if (n->state == RP_STATE_GATHER && (n->proc_set & bit) && !(n->barred & bit)) {
			n->barred |= bit;
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
		if ((set & rp_bit(id)) && pe->params_refused_inc != 0 &&
		    pe->params_refused_inc == n->known_inc[id - 1u])
			bad |= rp_bit(id);
	}
	return bad;
}

/* ---- misconfiguration (docs/protocol.md §8.8) ---- */

void rp_params_of(const struct rp_config *c, struct rp_wire_params *p)
{
	memset(p, 0, sizeof(*p));
	for (uint32_t i = 0; i < c->member_count; i++)
		p->nodes |= rp_bit(c->members[i]);
	p->frame_size_max = c->frame_size_max;
	p->window_size = c->window_size;
	p->token_retransmit_ns = c->token_retransmit_ns;
	p->token_loss_ns = c->token_loss_ns;
	p->join_ns = c->join_ns;
	p->consensus_ns = c->consensus_ns;
	p->quorum = (uint8_t)c->quorum;
	p->rrp_mode = (uint8_t)c->rrp_mode;
	p->path_count = c->path_count;
}

uint64_t rp_param_value(const struct rp_wire_params *p, enum rp_param k)
{
	switch (k) {
	case RP_PARAM_NODES: return p->nodes;
	case RP_PARAM_FRAME_SIZE_MAX: return p->frame_size_max;
	case RP_PARAM_WINDOW_SIZE: return p->window_size;
	case RP_PARAM_TOKEN_RETRANSMIT: return p->token_retransmit_ns;
	case RP_PARAM_TOKEN_LOSS: return p->token_loss_ns;
	case RP_PARAM_JOIN: return p->join_ns;
	case RP_PARAM_CONSENSUS: return p->consensus_ns;
	case RP_PARAM_QUORUM: return p->quorum;
	case RP_PARAM_RRP_MODE: return p->rrp_mode;
	case RP_PARAM_PATH_COUNT: return p->path_count;
	case RP_PARAM_COUNT: break;
	}
	return 0;
}

const char *rp_param_name(enum rp_param k)
{
	static const char *const names[RP_PARAM_COUNT] = {
		[RP_PARAM_NODES] = "nodes", [RP_PARAM_FRAME_SIZE_MAX] = "frame_size_max",
		[RP_PARAM_WINDOW_SIZE] = "window_size", [RP_PARAM_TOKEN_RETRANSMIT] = "token_retransmit",
		[RP_PARAM_TOKEN_LOSS] = "token_loss", [RP_PARAM_JOIN] = "join",
		[RP_PARAM_CONSENSUS] = "consensus", [RP_PARAM_QUORUM] = "quorum",
		[RP_PARAM_RRP_MODE] = "rrp_mode", [RP_PARAM_PATH_COUNT] = "path_count",
	};
	return (unsigned)k < RP_PARAM_COUNT ? names[k] : "unknown";
}

uint32_t rp_params_diff(const struct rp_wire_params *a, const struct rp_wire_params *b)
{
	uint32_t keys = 0;
	for (unsigned k = 0; k < RP_PARAM_COUNT; k++)
		if (rp_param_value(a, (enum rp_param)k) != rp_param_value(b, (enum rp_param)k))
			keys |= 1u << k;
	return keys;
}

static struct rp_action *refusal(struct rp_node *n, enum rp_refusal_kind kind, uint16_t node, uint64_t inc,
				 struct rp_actions *out)
{
	if (!rp_actions_room(out, 1))
		return NULL;
	struct rp_action *a = rp_action_push(out, RP_ACT_REFUSED);
	memset(&a->refused, 0, sizeof(a->refused));
	a->refused.kind = (uint8_t)kind;
	a->refused.node = node;
	a->refused.incarnation = inc;
	n->stats.refusals++;
	return a;
}

bool rp_params_refuse(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf, uint64_t now_ns,
		      struct rp_actions *out)
{
	struct rp_peer *pe = &n->peers[h->sender - 1u];
	uint64_t bit = rp_bit(h->sender);
	if ((n->memb & bit) && n->memb_inc[h->sender - 1u] == h->incarnation)
		return false; /* a member of my ring: checked when it joined (a differing Join is forged) */
	if (pe->params_refused_inc == h->incarnation) {
		n->stats.drops[RP_DROP_CONFIG_MISMATCH]++;
		return true;
	}
	if (h->type != RP_FRAME_JOIN && h->type != RP_FRAME_MERGE_DETECT)
		return false;
	struct rp_wire_params p;
	enum rp_drop why = rp_wire_decode_params(buf, h, &p);
	if (why != RP_DROP_NONE) {
		n->stats.drops[why]++;
		return true;
	}
	uint32_t keys = rp_params_diff(&p, &n->params);
	if (keys == 0) {
		pe->params_refused_inc = 0; /* restarted with this node's parameters */
		return false;
	}
	n->stats.drops[RP_DROP_CONFIG_MISMATCH]++;
	pe->params_refused_inc = h->incarnation;
	pe->params = p;
	if (n->state == RP_STATE_GATHER && (n->proc_set & bit) && !(n->fail_set & bit)) {
		n->fail_set |= bit;
		rp_memb_gather(n, now_ns, out);
	}
	struct rp_action *a = refusal(n, RP_REFUSE_PARAMS, h->sender, h->incarnation, out);
	if (a) {
		a->refused.keys = keys;
		a->refused.theirs = &pe->params;
	}
	return true;
}

/* Rule D (0): this node, listening at start, heard its id running: one
 * DUP_NOTICE on every path, so that every running node reports it. */
static void send_dup_notice(struct rp_node *n, uint64_t running, struct rp_actions *out)
{
	struct rp_wire_hdr h;
	rp_hdr_init(n, &h, n->ring);
	size_t size = rp_wire_encode_dup_notice(n->notice_buf, &h, running);
	rp_emit_send_on(n, out, n->notice_buf, (uint32_t)size, RP_DEST_ALL, n->mine);
}

void rp_dup_address(struct rp_node *n, struct rp_actions *out)
{
	if (!n->start_pending || n->self_dup_inc != 0 || !rp_actions_room(out, 2))
		return;
	send_dup_notice(n, 0, out);
	struct rp_action *a = refusal(n, RP_REFUSE_DUPLICATE_ID, n->cfg.node_id, 0, out);
	if (a) {
		n->self_dup_inc = UINT64_MAX; /* reported: once */
		a->refused.kept_incarnation = n->cfg.incarnation;
		a->refused.newcomer = 1;
	}
}

void rp_dup_probe(struct rp_node *n, struct rp_actions *out)
{
	struct rp_wire_hdr h;
	if (!rp_actions_room(out, 1))
		return;
	rp_hdr_init(n, &h, n->ring);
	size_t size = rp_wire_encode_id_probe(n->id_probe_buf, &h);
	rp_emit_send_on(n, out, n->id_probe_buf, (uint32_t)size, RP_DEST_ALL, n->mine);
}

/* Rule D (0) at the node with the id: a listening process asks whether it
 * runs. The answer is a HOLD_CANCEL to every node (harmless everywhere): on
 * an idle ring this node may send nothing to every node while the other
 * listens (its tokens go to one MAC), so without it the other would start.
 * Its body echoes the prober's incarnation: on a keyed ring the prober
 * takes nothing else (listen_fresh), so a replayed frame cannot stop it. */
static void dup_answer(struct rp_node *n, uint64_t prober, struct rp_actions *out)
{
	struct rp_wire_hdr h;
	rp_hdr_init(n, &h, n->ring);
	size_t size = rp_wire_encode_id_answer(n->id_probe_buf, &h, prober);
	rp_emit_send_on(n, out, n->id_probe_buf, (uint32_t)size, RP_DEST_ALL, n->mine);
}

/* Listening with listen_fresh: is this frame the answer to my ID_PROBE? */
static bool fresh_answer(const struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf)
{
	uint64_t prober;
	return h->type == RP_FRAME_HOLD_CANCEL && rp_wire_decode_id_answer(buf, h, &prober) == RP_DROP_NONE &&
	       prober == n->cfg.incarnation;
}

enum rp_drop rp_dup_self(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf,
			 struct rp_actions *out)
{
	if (h->incarnation == n->cfg.incarnation)
		return RP_DROP_BAD_SENDER; /* my own frame, looped back */
	if (h->type == RP_FRAME_ID_PROBE && n->start_pending)
		return RP_DROP_UNHANDLED; /* both listen: neither runs yet ((1), (2) apply later) */
	if (n->start_pending && n->cfg.listen_fresh && !fresh_answer(n, h, buf))
		return RP_DROP_UNHANDLED; /* maybe replayed: proves nothing (§8.8 Rule D (0)) */
	if (!n->start_pending && n->cfg.listen_fresh && h->incarnation < n->cfg.incarnation)
		return RP_DROP_UNHANDLED; /* maybe my earlier process's, replayed (§8.8 Rule D (1)) */
	if (h->type == RP_FRAME_ID_PROBE && rp_actions_room(out, 3))
		dup_answer(n, h->incarnation, out);
	if (n->self_dup_inc != h->incarnation && rp_actions_room(out, 2)) {
		/* sent before the report: a caller that stops on it sends it */
		if (n->start_pending && h->type != RP_FRAME_DUP_NOTICE)
			send_dup_notice(n, h->incarnation, out);
		struct rp_action *a = refusal(n, RP_REFUSE_DUPLICATE_ID, h->sender, h->incarnation, out);
		if (a) {
			n->self_dup_inc = h->incarnation;
			a->refused.kept_incarnation = n->cfg.incarnation;
			a->refused.newcomer = n->start_pending;
		}
	}
	return RP_DROP_DUPLICATE_ID;
}

enum rp_drop rp_dup_notice(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf,
			   struct rp_actions *out)
{
	if (h->type == RP_FRAME_ID_PROBE)
		return RP_DROP_UNHANDLED; /* only the node with its id answers */
	struct rp_peer *pe = &n->peers[h->sender - 1u];
	uint64_t running;
	enum rp_drop why = rp_wire_decode_dup_notice(buf, h, &running);
	if (why != RP_DROP_NONE || pe->notice_inc == h->incarnation)
		return why != RP_DROP_NONE ? why : RP_DROP_DUPLICATE_ID;
	struct rp_action *a = refusal(n, RP_REFUSE_DUPLICATE_ID, h->sender, h->incarnation, out);
	if (a) {
		pe->notice_inc = h->incarnation;
		a->refused.kept_incarnation = running;
		a->refused.announced = 1;
	}
	return RP_DROP_DUPLICATE_ID;
}

bool rp_incarnation_hold(struct rp_node *n, const struct rp_wire_hdr *h, uint64_t now_ns,
			 struct rp_actions *out)
{
	struct rp_peer *pe = &n->peers[h->sender - 1u];
	uint64_t known = n->known_inc[h->sender - 1u];
	if (h->incarnation == known) {
		/* a copy of a send already seen (another path's, held or
		 * replayed), a frame of a ring it left, or of an incarnation
		 * that said it leaves: no sign of life (seeds 359, 18121,
		 * 18716 of memb) */
		bool newer = pe->life_inc != known || (int16_t)(uint16_t)(h->tx_seq - pe->life_tx) > 0;
		if (!newer || pe->left_inc == known || rp_stale_member_frame(n, h))
			return false;
		pe->life_inc = known;
		pe->life_tx = h->tx_seq;
		/* heard again well after a newer one appeared (half the
		 * token-loss timeout: later than a frame of a dead process
		 * could still be in flight): both run */
		if (pe->pend_inc > known && pe->dup_inc != pe->pend_inc && pe->heard_at != 0 &&
		    now_ns - pe->pend_since > n->cfg.token_loss_ns / 2u) {
			struct rp_action *a = refusal(n, RP_REFUSE_DUPLICATE_ID, h->sender, pe->pend_inc, out);
			if (a) {
				pe->dup_inc = pe->pend_inc;
				a->refused.kept_incarnation = known;
			}
		}
		pe->heard_at = now_ns;
		return false;
	}
	if (known == 0 || pe->heard_at == 0 || now_ns - pe->heard_at >= n->cfg.token_loss_ns ||
	    pe->left_inc == known) {
		/* the current incarnation is silent or has left: a restart (§8) */
		pe->pend_inc = 0;
		pe->dup_inc = 0;
		pe->heard_at = now_ns;
		return false;
	}
	if (pe->dup_inc == h->incarnation) {
		n->stats.drops[RP_DROP_DUPLICATE_ID]++;
		return true;
	}
	if (pe->pend_inc != h->incarnation) {
		pe->pend_inc = h->incarnation;
		pe->pend_since = now_ns;
	}
	n->stats.drops[RP_DROP_NEW_INCARNATION]++;
	return true;
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

/* The start ring's flag, and its id recorded before it is delivered: a
 * node that restarts before joining any ring must not start in the same
 * ring id again (design.md §5; it used to be recorded only when the start
 * ring was primary, and a non-primary node's incarnations repeated it). */
void rp_quorum_start(struct rp_node *n, struct rp_actions *out)
{
	uint64_t me = rp_bit(n->cfg.node_id);
	struct lms_refs r = {0};
	refs_installed(&r, n->installed_primary, n->installed_primary_members);
	refs_attempt(&r, n->last_primary, n->last_primary_members);
	n->primary = policy_primary(n, me, &r) || n->cfg.mutation == RP_MUTATION_ALWAYS_PRIMARY;
	if (!n->primary) {
		rp_persist(n, n->ring.seq, out);
		return;
	}
	attempt(n, me, out);
	n->installed_primary = n->ring;
	n->installed_primary_members = me;
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
