/* sim_evs.c — the checker's extended virtual synchrony properties (EVS:
 * Moser, Amir, Melliar-Smith, Agarwal 1994; DESIGN.md §3; docs/protocol.md
 * §18 lists them with the functions that enforce them).
 *
 * Owns: the simulator's own record of who sent what (the ring, frame and
 * entry at which each message's origin sent its last fragment, read from
 * the frames the origin hands to the network), and the checks that compare
 * deliveries and configurations with it:
 *   origin             a delivered message sits exactly where its origin
 *                      sent it, and its origin was a member of that ring in
 *                      the incarnation that published it (a message
 *                      delivered in a transitional configuration was sent
 *                      by a member of C in C; a stale frame taken as
 *                      current lands at a position nobody sent it at)
 *   failure-atomicity  nodes that go from C to the same C' deliver the same
 *                      messages in C's regular part, and the same in its
 *                      transitional part (compared separately)
 *   trans-delivery     Totem's rule: the first message a node delivers in a
 *                      transitional configuration could not have been
 *                      delivered in C with its promise (it follows a hole,
 *                      or it is SAFE)
 *   safe-trans         SAFE in a transitional configuration T: every member
 *                      of T that does not crash delivers it before it
 *                      leaves C
 *   trans-members      T is exactly the members of C that move together
 *                      into C' (T within C and C', a node of C' is in T if
 *                      and only if it came from C)
 *   ring-id            no node installs one regular ring id twice, in one
 *                      incarnation or across restarts
 * Group views (DESIGN.md §3 property 6, second half) are checked by
 * ordo-sim-groups (sim_groups.c), which runs the engine's group table.
 * Never: trusts ring-proto's labels for what it checks (origin ids and
 * positions are compared with what the simulator saw on the wire).
 */
#include "sim_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* ---- who sent what ---- */

static uint64_t frame_key(struct rp_ring_id ring, uint64_t seq)
{
	return sim_mix64(((uint64_t)ring.rep << 48) ^ sim_mix64(ring.seq) ^ (seq * 0x9E3779B97F4A7C15ull));
}

static uint64_t entry_hash(uint16_t index, uint32_t client, uint8_t service, uint8_t prio, uint8_t flags,
			   uint32_t msg_size, uint32_t frag_offset, uint32_t chunk_size)
{
	uint64_t h = sim_mix64(((uint64_t)index << 48) ^ ((uint64_t)client << 32) ^
			       ((uint64_t)service << 24) ^ ((uint64_t)prio << 16) ^ flags);
	h = sim_mix64(h ^ msg_size);
	h = sim_mix64(h ^ ((uint64_t)frag_offset << 32) ^ chunk_size);
	return h;
}

static struct sim_sent_frame *sent_find(const struct sim *s, struct rp_ring_id ring, uint64_t seq)
{
	if (s->sent_index_cap == 0)
		return NULL;
	size_t mask = s->sent_index_cap - 1u;
	for (size_t i = frame_key(ring, seq) & mask;; i = (i + 1u) & mask) {
		uint32_t k = s->sent_index[i];
		if (k == 0)
			return NULL;
		struct sim_sent_frame *f = &s->sent[k - 1u];
		if (f->seq == seq && sim_ring_eq(f->ring, ring))
			return f;
	}
}

static void sent_index_put(struct sim *s, size_t k)
{
	size_t mask = s->sent_index_cap - 1u;
	size_t i = frame_key(s->sent[k].ring, s->sent[k].seq) & mask;
	while (s->sent_index[i] != 0)
		i = (i + 1u) & mask;
	s->sent_index[i] = (uint32_t)(k + 1u);
}

static struct sim_sent_frame *sent_add(struct sim *s, const struct sim_sent_frame *f)
{
	SIM_GROW(s->sent, s->sent_cap, s->sent_count, 4096);
	if (2u * (s->sent_count + 1u) > s->sent_index_cap) {
		free(s->sent_index);
		s->sent_index_cap = s->sent_index_cap ? s->sent_index_cap * 2 : 8192;
		s->sent_index = calloc(s->sent_index_cap, sizeof(*s->sent_index));
		if (!s->sent_index)
			abort();
		for (size_t k = 0; k < s->sent_count; k++)
			sent_index_put(s, k);
	}
	s->sent[s->sent_count] = *f;
	sent_index_put(s, s->sent_count);
	return &s->sent[s->sent_count++];
}

static void sent_entry(struct sim *s, uint64_t h)
{
	SIM_GROW(s->sent_entries, s->sent_entries_cap, s->sent_entries_count, 8192);
	s->sent_entries[s->sent_entries_count++] = h;
}

/* A frame handed to the network by node n: for each new data frame (not a
 * retransmission, not a recovery frame) note where each message's last
 * fragment was sent. */
void sim_evs_sent(struct sim *s, struct sim_node *n, const struct rp_wire_hdr *h, const uint8_t *frame)
{
	struct rp_wire_data d;
	if (h->type != RP_FRAME_DATA || (h->flags & RP_HDR_F_RETRANS) ||
	    rp_wire_decode_data(frame, h, &d) != RP_DROP_NONE || (d.body_flags & RP_DATA_F_RECOVERY))
		return;
	if (d.origin != n->id) {
		sim_violation(s, "origin", "node %u sent a new data frame (%u,%" PRIu64 ").%" PRIu64
			      " naming origin %u", n->id, h->ring.rep, h->ring.seq, d.seq, d.origin);
		return;
	}
	if (sent_find(s, h->ring, d.seq) != NULL) {
		sim_violation(s, "origin", "node %u sent a second new frame at (%u,%" PRIu64 ").%" PRIu64,
			      n->id, h->ring.rep, h->ring.seq, d.seq);
		return;
	}
	sim_stable_sent(s, n, h->ring);
	struct sim_sent_frame *sf = sent_add(s, &(struct sim_sent_frame){
		.ring = h->ring, .seq = d.seq, .inc = n->incarnation, .origin = n->index,
		.first = (uint32_t)s->sent_entries_count});
	struct rp_wire_entry e;
	size_t off = 0;
	for (uint16_t i = 0; rp_wire_entry_next(d.entries, d.entries_size, &off, &e) == 0; i++) {
		sent_entry(s, entry_hash(i, e.client_id, e.service, e.priority, e.flags, e.msg_size,
					 e.frag_offset, e.chunk_size));
		sf->entries++;
		uint64_t *open = &s->send_stream[sim_stream_index(d.origin, e.client_id, e.priority)];
		if ((e.flags & RP_ENTRY_F_FIRST) && e.chunk_size >= 8)
			*open = rp_get64(e.data) + 1u;
		if (!(e.flags & RP_ENTRY_F_LAST) || *open == 0 || *open > s->msg_count)
			continue;
		struct sim_msg *m = &s->msgs[*open - 1u];
		*open = 0;
		if (!m->sent) {
			m->sent = true;
			m->sent_ring = h->ring;
			m->sent_seq = d.seq;
			m->sent_entry = i;
		} else if (!sim_ring_eq(m->sent_ring, h->ring) || m->sent_seq != d.seq || m->sent_entry != i) {
			sim_violation(s, "origin", "node %u sent message %" PRIu64 " twice: at (%u,%" PRIu64
				      ").%" PRIu64 ".%u and at (%u,%" PRIu64 ").%" PRIu64 ".%u", n->id,
				      *open - 1u, m->sent_ring.rep, m->sent_ring.seq, m->sent_seq,
				      m->sent_entry, h->ring.rep, h->ring.seq, d.seq, i);
			return;
		}
	}
}

static const struct sim_view *regular_view(const struct sim *s, struct rp_ring_id ring)
{
	for (size_t i = s->view_count; i-- > 0;)
		if (!s->views[i].trans && sim_ring_eq(s->views[i].ring, ring))
			return &s->views[i];
	return NULL;
}

static const struct sim_view *view_of(const struct sim *s, const struct sim_node *n, struct rp_ring_id ring)
{
	if (n->has_config && sim_ring_eq(s->views[n->view].ring, ring))
		return &s->views[n->view];
	return regular_view(s, ring);
}

/* origin, per fragment: what a node hands out at (ring, seq, entry) is
 * what that frame's origin sent there. Only a ring of one sends nothing. */
void sim_evs_fragment(struct sim *s, struct sim_node *n, const struct rp_delivery *d)
{
	const struct sim_sent_frame *f = n->sent_hint < s->sent_count ? &s->sent[n->sent_hint] : NULL;
	if (f == NULL || f->seq != d->seq || !sim_ring_eq(f->ring, d->ring)) {
		f = sent_find(s, d->ring, d->seq);
		if (f != NULL)
			n->sent_hint = (size_t)(f - s->sent);
	}
	if (f == NULL) {
		const struct sim_view *v = view_of(s, n, d->ring);
		if (v == NULL || v->members != (1ull << n->index) || d->origin != n->id)
			sim_violation(s, "origin", "node %u delivered entry %u of (%u,%" PRIu64 ").%" PRIu64
				      "%s, a frame no node sent", n->id, d->entry_index, d->ring.rep,
				      d->ring.seq, d->seq, n->in_trans ? " (transitional)" : "");
		return;
	}
	uint64_t h = entry_hash(d->entry_index, d->client_id, d->service, d->priority, d->flags, d->msg_size,
				d->frag_offset, d->chunk_size);
	if (f->origin + 1u != d->origin || d->entry_index >= f->entries ||
	    s->sent_entries[f->first + d->entry_index] != h)
		sim_violation(s, "origin", "node %u delivered entry %u of (%u,%" PRIu64 ").%" PRIu64 "%s"
			      " (origin %u, offset %u of %u bytes), not what node %u sent there", n->id,
			      d->entry_index, d->ring.rep, d->ring.seq, d->seq,
			      n->in_trans ? " (transitional)" : "", d->origin, d->frag_offset, d->msg_size,
			      s->nodes[f->origin].id);
}

/* origin: before anything else is judged of a delivery. */
void sim_evs_origin(struct sim *s, struct sim_node *n, uint64_t index, const struct rp_delivery *d)
{
	const struct sim_msg *m = &s->msgs[index];
	const struct sim_node *o = &s->nodes[m->origin];
	if (m->sent) {
		if (!sim_ring_eq(m->sent_ring, d->ring) || m->sent_seq != d->seq ||
		    m->sent_entry != d->entry_index) {
			sim_violation(s, "origin", "node %u delivered message %" PRIu64 " at (%u,%" PRIu64
				      ").%" PRIu64 ".%u%s; node %u sent it at (%u,%" PRIu64 ").%" PRIu64 ".%u",
				      n->id, index, d->ring.rep, d->ring.seq, d->seq, d->entry_index,
				      n->in_trans ? " (transitional)" : "", o->id, m->sent_ring.rep,
				      m->sent_ring.seq, m->sent_seq, m->sent_entry);
			return;
		}
	}
	/* the ring it was sent in: the origin installed it, in the
	 * incarnation that published the message */
	const struct sim_view *v = view_of(s, n, d->ring);
	if (v == NULL || !(v->members & (1ull << m->origin)) || v->inc[m->origin] != m->incarnation) {
		sim_violation(s, "origin", "node %u delivered message %" PRIu64 " of node %u (incarnation %"
			      PRIu64 ") in ring (%u,%" PRIu64 "), which that node %s", n->id, index, o->id,
			      m->incarnation, d->ring.rep, d->ring.seq,
			      v == NULL || !(v->members & (1ull << m->origin)) ? "is not a member of"
			      : "did not install in that incarnation");
		return;
	}
	/* only a ring of one sends nothing on the wire */
	if (!m->sent && (v->members != (1ull << m->origin) || n->index != m->origin))
		sim_violation(s, "origin", "node %u delivered message %" PRIu64 " that node %u never sent"
			      " (ring (%u,%" PRIu64 ") members 0x%" PRIx64 ")", n->id, index, o->id,
			      d->ring.rep, d->ring.seq, v->members);
}

/* ---- transitional deliveries ---- */

static void oblige(struct sim_node *q, uint64_t msg, struct rp_ring_id ring, uint16_t by)
{
	SIM_GROW(q->obligs, q->oblig_cap, q->oblig_count, 16);
	q->obligs[q->oblig_count++] = (struct sim_oblig){.msg = msg, .ring = ring, .by = by};
}

/* After every check of sim_check_delivery passed. */
void sim_evs_delivered(struct sim *s, struct sim_node *n, uint64_t index, const struct rp_delivery *d)
{
	if (!n->in_trans)
		return;
	struct sim_msg *m = &s->msgs[index];
	m->trans_mask |= 1u << n->index;
	/* trans-delivery: no member of T delivered it in C's regular part
	 * (then it was deliverable there: the regular part delivers every SAFE
	 * message a transitional member had delivered, TOTEM-NOTES §4.6) */
	uint64_t regular = m->delivered_mask & ~m->trans_mask & n->conf_members;
	if (regular != 0) {
		uint32_t q = 0;
		while (!((regular >> q) & 1u))
			q++;
		sim_violation(s, "trans-delivery", "node %u delivered message %" PRIu64 " in the transitional"
			      " configuration after ring (%u,%" PRIu64 "); node %u, a member of it, delivered"
			      " it in that ring's regular configuration", n->id, index, d->ring.rep,
			      d->ring.seq, s->nodes[q].id);
		return;
	}
	/* trans-delivery: the regular part stops only at a hole or at a SAFE
	 * message not known stable (TOTEM-NOTES §4.6). n held every frame up
	 * to this one, so an AGREED message first in T could have been
	 * delivered in C. (trans_count counts the T deliveries before this.) */
	if (n->trans_count == 1 && m->service != RP_SERVICE_SAFE && sim_check_held(n, d->ring, d->seq)) {
		sim_violation(s, "trans-delivery", "node %u delivered AGREED message %" PRIu64 " (seq %"
			      PRIu64 ") first in the transitional configuration after ring (%u,%" PRIu64
			      "), though it held every frame up to it", n->id, index, d->seq,
			      d->ring.rep, d->ring.seq);
		return;
	}
	/* safe-trans: every other member of T owes it */
	if (m->service != RP_SERVICE_SAFE)
		return;
	for (uint32_t j = 0; j < s->opts.nodes; j++) {
		struct sim_node *q = &s->nodes[j];
		if (j == n->index || !(n->conf_members & (1ull << j)) || !q->alive)
			continue;
		const struct sim_view *v = &s->views[n->view];
		if (v->inc[j] != q->incarnation)
			continue; /* restarted since it was in C: it failed */
		if (q->has_config && sim_ring_eq(q->ring, d->ring)) {
			oblige(q, index, d->ring, n->id);
		} else if (!(m->delivered_mask & (1u << j))) {
			sim_violation(s, "safe-trans", "node %u delivered SAFE message %" PRIu64 " in the"
				      " transitional configuration after (%u,%" PRIu64 "), of which node %u"
				      " is a member; that node left the ring without delivering it", n->id,
				      index, d->ring.rep, d->ring.seq, q->id);
			return;
		}
	}
}

/* ---- configuration changes ---- */

/* failure-atomicity and safe-trans: node n leaves its regular
 * configuration (through its transitional one) for `to`. */
void sim_evs_leave(struct sim *s, struct sim_node *n, struct rp_ring_id to)
{
	struct rp_ring_id from = n->ring;
	for (size_t i = 0; i < n->oblig_count; i++) {
		const struct sim_oblig *o = &n->obligs[i];
		if (sim_ring_eq(o->ring, from) && !(s->msgs[o->msg].delivered_mask & (1u << n->index))) {
			sim_violation(s, "safe-trans", "node %u delivered SAFE message %" PRIu64 " in the"
				      " transitional configuration after (%u,%" PRIu64 "), of which node %u"
				      " is a member; that node moved to (%u,%" PRIu64 ") without delivering it",
				      o->by, o->msg, from.rep, from.seq, n->id, to.rep, to.seq);
			return;
		}
	}
	n->oblig_count = 0;
	for (size_t i = 0; i < s->fa_count; i++) {
		struct sim_fa *f = &s->fas[i];
		if (!sim_ring_eq(f->from, from) || !sim_ring_eq(f->to, to))
			continue;
		bool reg = f->hash != n->fa_hash || f->count != n->fa_count;
		if (reg || f->trans_hash != n->trans_hash || f->trans_count != n->trans_count)
			sim_violation(s, "failure-atomicity", "nodes %u and %u both went from ring (%u,%" PRIu64
				      ") to (%u,%" PRIu64 ") but delivered different sets in its %s part"
				      " (%" PRIu64 " and %" PRIu64 " messages)", f->first_node, n->id,
				      from.rep, from.seq, to.rep, to.seq, reg ? "regular" : "transitional",
				      reg ? f->count : f->trans_count, reg ? n->fa_count : n->trans_count);
		return;
	}
	s->fas = realloc(s->fas, (s->fa_count + 1) * sizeof(*s->fas));
	if (!s->fas)
		abort();
	s->fas[s->fa_count++] = (struct sim_fa){.from = from, .to = to, .hash = n->fa_hash,
						.count = n->fa_count, .trans_hash = n->trans_hash,
						.trans_count = n->trans_count, .first_node = n->id};
}

/* ring-id and trans-members: node n installs regular view v (still in its
 * previous configuration: n->ring, and n->conf_members its T). */
void sim_evs_install(struct sim *s, struct sim_node *n, size_t view)
{
	struct sim_view *v = &s->views[view];
	uint32_t me = n->index;
	if (v->inc[me] != 0) {
		sim_violation(s, "ring-id", "node %u installed ring (%u,%" PRIu64 ") in incarnation %"
			      PRIu64 " and again in incarnation %" PRIu64, n->id, v->ring.rep, v->ring.seq,
			      v->inc[me], n->incarnation);
		return;
	}
	v->inc[me] = n->incarnation;
	v->has_prev[me] = n->has_config;
	if (!n->has_config)
		return;
	v->prev[me] = n->ring;
	v->trans_of[me] = n->conf_members;
	if (n->conf_members & ~v->members) {
		sim_violation(s, "trans-members", "node %u: transitional configuration from (%u,%" PRIu64
			      ") to (%u,%" PRIu64 ") lists 0x%" PRIx64 ", not within the new members 0x%"
			      PRIx64, n->id, n->ring.rep, n->ring.seq, v->ring.rep, v->ring.seq,
			      n->conf_members, v->members);
		return;
	}
	/* T holds exactly those of C' that came from C: checked against every
	 * member that installed C' before, both ways */
	for (uint32_t q = 0; q < s->opts.nodes; q++) {
		if (q == me || v->inc[q] == 0 || !v->has_prev[q])
			continue;
		bool same = sim_ring_eq(v->prev[q], n->ring);
		bool q_in_mine = (n->conf_members >> q) & 1u, me_in_q = (v->trans_of[q] >> me) & 1u;
		if (q_in_mine != same || me_in_q != same) {
			sim_violation(s, "trans-members", "nodes %u and %u installed ring (%u,%" PRIu64 ") from"
				      " (%u,%" PRIu64 ") and (%u,%" PRIu64 "), but %s transitional configuration"
				      " %s the other", n->id, s->nodes[q].id, v->ring.rep, v->ring.seq,
				      n->ring.rep, n->ring.seq, v->prev[q].rep, v->prev[q].seq,
				      q_in_mine != same ? "the first one's" : "the second one's",
				      same ? "omits" : "lists");
			return;
		}
	}
}

/* trans-members, as soon as node n installs transitional configuration T
 * (members, by index) from its ring C to C' = c->ring: every node that
 * already went from C somewhere is in T exactly if it went to C', and T
 * lies within C' if some node installed C' already. */
void sim_evs_trans(struct sim *s, struct sim_node *n, const struct rp_configuration *c, uint64_t members)
{
	struct rp_ring_id from = n->ring, to = c->ring;
	const struct sim_view *vc = &s->views[n->view];
	for (size_t i = 0; i < s->view_count; i++) {
		const struct sim_view *v = &s->views[i];
		if (v->trans)
			continue;
		if (sim_ring_eq(v->ring, to) && (members & ~v->members)) {
			sim_violation(s, "trans-members", "node %u: transitional configuration from (%u,%" PRIu64
				      ") to (%u,%" PRIu64 ") lists 0x%" PRIx64 ", not within the new members 0x%"
				      PRIx64, n->id, from.rep, from.seq, to.rep, to.seq, members, v->members);
			return;
		}
		for (uint32_t q = 0; q < s->opts.nodes; q++) {
			if (q == n->index || v->inc[q] == 0 || v->inc[q] != vc->inc[q] || !v->has_prev[q] ||
			    !sim_ring_eq(v->prev[q], from))
				continue;
			bool listed = (members >> q) & 1u, went_there = sim_ring_eq(v->ring, to);
			if (listed != went_there) {
				sim_violation(s, "trans-members", "node %u: transitional configuration from (%u,%"
					      PRIu64 ") to (%u,%" PRIu64 ") %s node %u, which went from (%u,%"
					      PRIu64 ") to (%u,%" PRIu64 ")", n->id, from.rep, from.seq, to.rep,
					      to.seq, listed ? "lists" : "omits", s->nodes[q].id, from.rep,
					      from.seq, v->ring.rep, v->ring.seq);
				return;
			}
		}
	}
}

void sim_evs_node_reset(struct sim *s, struct sim_node *n)
{
	(void)s;
	n->oblig_count = 0; /* a crash excuses what it owed */
}

void sim_evs_free(struct sim *s)
{
	free(s->fas);
	free(s->sent);
	free(s->sent_index);
	free(s->sent_entries);
	for (uint32_t i = 0; i < s->opts.nodes; i++)
		free(s->nodes[i].obligs);
}
