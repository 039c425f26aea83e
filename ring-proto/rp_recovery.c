/* rp_recovery.c — recovery of the old ring's messages on the new ring, and
 * the install: old messages in the old regular configuration, the
 * transitional configuration, the rest, the new regular configuration.
 *
 * Implements TOCS §7.2 (Figs 6–7) and EVS §3 steps 2–6 as laid out in
 * docs/protocol.md §8.4–8.5; the end-of-recovery counters follow CS's
 * reading of Fig 6 (retrans_flg cleared only by a node that set it).
 * Deviations: a recovery frame carries the old frame whole as its single
 * entry (instead of CS's encapsulation header); a node skips rebroadcasting
 * an old frame another member already rebroadcast in this recovery;
 * retransmission is needed only if some transitional member's old aru is
 * below another's old high seq.
 *
 * Never: sends an application message in RECOVERY; files a recovered frame
 * of a ring other than this node's old ring; delivers a new-ring message
 * before the old ring's remaining messages and both configurations.
 */
#include "rp_internal.h"

#include <string.h>

static uint16_t me(const struct rp_node *n) { return n->cfg.node_id; }

void rp_recovery_enter(struct rp_node *n, uint64_t now_ns)
{
	const struct rp_wire_commit *c = &n->commit;
	n->new_memb = 0;
	n->trans_memb = 0;
	n->trans_count = 0;
	bool first = true, all_received = true;
	uint64_t max_high = 0;
	for (uint32_t i = 0; i < c->count; i++) {
		const struct rp_wire_commit_entry *e = &c->e[i];
		n->new_memb |= rp_bit(e->id);
		n->memb_inc[e->id - 1u] = e->incarnation;
		if (!rp_ring_eq(e->old_ring, n->old_ring))
			continue;
		n->trans_memb |= rp_bit(e->id);
		if (first) {
			n->low_ring_aru = e->old_aru;
			n->high_ring_delivered = e->old_delivered;
			max_high = e->old_high_seq;
			first = false;
		} else {
			n->low_ring_aru = rp_seq_min(n->low_ring_aru, e->old_aru);
			n->high_ring_delivered = rp_seq_max(n->high_ring_delivered, e->old_delivered);
			max_high = rp_seq_max(max_high, e->old_high_seq);
		}
		if (!e->received_flg)
			all_received = false;
	}
	RP_ASSERT(n->trans_memb & rp_bit(me(n)));
	/* configurations list their members by id, whatever the ring order */
	for (uint16_t id = 1; id <= RP_NODES_MAX; id++)
		if (n->trans_memb & rp_bit(id))
			n->trans_members[n->trans_count++] = id;
	/* "someone rebroadcast it" holds for one recovery attempt only: the
	 * members of an earlier, failed attempt are not this one's */
	for (uint32_t i = 0; i < n->cfg.store_slots; i++)
		n->old->slots[i].recovered = 0;
	rp_set_members(n, n->new_memb);
	/* deliver_memb comes from this commit token alone, so every
	 * transitional member skips the same messages: the transitional
	 * members, and every sender a transitional member owes from a failed
	 * attempt in which all may have installed (TOCS §7.2 obligation set,
	 * carried in the commit entries; docs/protocol.md §8.4) */
	(void)all_received;
	n->deliver_memb = n->trans_memb;
	for (uint32_t i = 0; i < c->count; i++)
		if (rp_ring_eq(c->e[i].old_ring, n->old_ring))
			n->deliver_memb |= rp_obligation_decode(n, c->e[i].obligation);
	n->recovered_all = false;
	n->retrans_next = n->low_ring_aru + 1u;
	n->retrans_end = n->old->high_seq;
	n->retrans_active = rp_seq_lt(n->low_ring_aru, max_high) &&
			    rp_seq_le(n->retrans_next, n->retrans_end);
	n->state = RP_STATE_RECOVERY;
	n->my_set_retrans_flg = false;
	n->my_retrans_flg_count = 0;
	n->install_seq = n->cfg.initial_seq;
	n->rotation_counter = 0;
	n->commit_converted = false;
	n->token_loss_at = now_ns + n->cfg.token_loss_ns;
}

/* Obligations travel as bits over the old ring's members in id order (its
 * member list is the same at every member that installed it); a ring of
 * more than RP_WIRE_OBLIGATION_BITS members sends all ones, read as every
 * member of it (more senders after a hole, never fewer). */
uint64_t rp_obligation_encode(const struct rp_node *n, uint64_t set)
{
	uint64_t bits = 0, all = (1ull << RP_WIRE_OBLIGATION_BITS) - 1u;
	for (uint32_t i = 0; i < n->old_member_count; i++) {
		if (!(set & rp_bit(n->old_members[i])))
			continue;
		if (i >= RP_WIRE_OBLIGATION_BITS)
			return all;
		bits |= 1ull << i;
	}
	return bits;
}

uint64_t rp_obligation_decode(const struct rp_node *n, uint64_t bits)
{
	uint64_t all = (1ull << RP_WIRE_OBLIGATION_BITS) - 1u;
	if (bits == all && n->old_member_count > RP_WIRE_OBLIGATION_BITS)
		return n->old_memb;
	uint64_t set = 0;
	for (uint32_t i = 0; i < n->old_member_count && i < RP_WIRE_OBLIGATION_BITS; i++)
		if (bits & (1ull << i))
			set |= rp_bit(n->old_members[i]);
	return set;
}

static bool frame_is_recovery(const uint8_t *f)
{
	return (rp_get16(f + rp_get16(f + RP_HDR_HDR_SIZE) + RP_DATA_BODY_FLAGS) & RP_DATA_F_RECOVERY) != 0;
}

/* Sends old-ring frames, each whole inside a recovery frame of the new ring. */
uint32_t rp_recovery_send(struct rp_node *n, uint32_t budget, struct rp_actions *out)
{
	struct rp_store *old = n->old;
	uint32_t sent = 0;
	while (sent < budget && n->retrans_active && rp_actions_room(out, (budget - sent) + 2u)) {
		uint64_t s = n->retrans_next;
		if (rp_seq_gt(s, n->retrans_end)) {
			n->retrans_active = false;
			break;
		}
		struct rp_slot *os = rp_store_slot(n, old, s);
		const uint8_t *inner = rp_store_frame(n, old, s);
		if (!rp_store_holds(n, old, s) || os->recovered || frame_is_recovery(inner) ||
		    os->size + RP_WIRE_RECOVERY_OVERHEAD > n->cfg.frame_size_max) {
			n->retrans_next++;
			continue;
		}
		uint64_t seq = n->token.seq + 1u;
		if (!rp_srp_may_send(n, seq))
			break;
		uint8_t *f = rp_store_frame(n, n->cur, seq);
		uint32_t size = RP_WIRE_RECOVERY_OVERHEAD + os->size;
		struct rp_wire_hdr h;
		rp_hdr_init(n, &h, n->ring);
		h.type = RP_FRAME_DATA;
		h.frame_size = size;
		rp_wire_encode_hdr(f, &h);
		struct rp_wire_data d = {.seq = seq, .origin = me(n), .entry_count = 1,
					 .body_flags = RP_DATA_F_RECOVERY};
		rp_wire_encode_data_hdr(f + RP_WIRE_HDR_SIZE, &d);
		struct rp_wire_entry e = {.chunk_size = os->size, .msg_size = os->size,
					  .service = RP_SERVICE_AGREED,
					  .flags = RP_ENTRY_F_FIRST | RP_ENTRY_F_LAST};
		uint8_t *ep = f + RP_WIRE_HDR_SIZE + RP_WIRE_DATA_HDR_SIZE;
		rp_wire_encode_entry_hdr(ep, &e);
		memcpy(ep + RP_WIRE_ENTRY_HDR_SIZE, inner, os->size);
		os->recovered = 1;
		rp_srp_sent(n, seq, size, out);
		n->stats.recovery_frames_sent++;
		n->retrans_next++;
		sent++;
	}
	return sent;
}

/* A recovery frame arrived: file its old frame under its old seq, if it is
 * of my old ring (TOCS §7.2; CS deliver_messages_from_recovery_to_regular). */
void rp_recovery_file(struct rp_node *n, const struct rp_wire_data *d)
{
	struct rp_wire_entry e;
	size_t off = 0;
	if (rp_wire_entry_next(d->entries, d->entries_size, &off, &e) != 0)
		return;
	struct rp_wire_hdr ih;
	struct rp_wire_data id;
	if (rp_wire_decode_hdr(e.data, e.chunk_size, &ih) != RP_DROP_NONE || ih.type != RP_FRAME_DATA ||
	    rp_wire_decode_data(e.data, &ih, &id) != RP_DROP_NONE) {
		n->stats.drops[RP_DROP_BAD_BODY]++;
		return;
	}
	if (!rp_ring_eq(ih.ring, n->old_ring) || (id.body_flags & RP_DATA_F_RECOVERY) ||
	    !(n->old_memb & rp_bit(id.origin)))
		return; /* another old ring's: counted for aru and rtr only */
	rp_store_put(n, n->old, id.seq, e.data, e.chunk_size, NULL); /* inside a stored frame: copied */
	if (rp_store_holds(n, n->old, id.seq))
		rp_store_slot(n, n->old, id.seq)->recovered = 1;
}

/* End of recovery (TOCS Fig 6; CS token handler, RECOVERY branch). */
void rp_recovery_token(struct rp_node *n)
{
	struct rp_wire_token *t = &n->token;
	if (n->retrans_active) {
		/* claim the flag only if nobody holds it: a single owner, so
		 * that the flag is clear for a whole rotation only once no
		 * member has anything left to rebroadcast (CS) */
		if (!t->retrans_flg) {
			t->retrans_flg = 1;
			n->my_set_retrans_flg = true;
		}
	} else if (t->retrans_flg && n->my_set_retrans_flg) {
		t->retrans_flg = 0;
		n->my_set_retrans_flg = false;
	}
	n->my_retrans_flg_count = t->retrans_flg ? 0 : n->my_retrans_flg_count + 1u;
	if (n->my_retrans_flg_count == 2)
		n->install_seq = t->seq;
	if (n->my_retrans_flg_count >= 2 && rp_seq_ge(n->cur->my_aru, n->install_seq)) {
		n->my_received_flg = true;
		n->recovered_all = true;
	}
	if (n->my_retrans_flg_count >= 3 && rp_seq_ge(t->aru, n->install_seq))
		n->rotation_counter++;
	else
		n->rotation_counter = 0;
}

void rp_recovery_install(struct rp_node *n, uint64_t now_ns)
{
	n->state = RP_STATE_OPERATIONAL;
	n->stats.rings_installed++;
	rp_quorum_install(n);
	n->install = RP_INSTALL_OLD_REGULAR;
	n->proc_set = n->memb;
	n->fail_set = 0;
	n->barred = 0;
	n->gave_way = false;
	n->unreceiving = 0;
	n->rows = 0; /* what the Joins of the gather said is of that gather (§16.2) */
	n->consensus = 0;
	n->my_received_flg = false;
	n->recovered_all = false;
	n->obligation = 0; /* kept by delivering deliver_memb's messages now */
	if (n->history_count == RP_RING_HISTORY) {
		memmove(n->history, n->history + 1, sizeof(n->history[0]) * (RP_RING_HISTORY - 1u));
		n->history_count--;
	}
	n->history[n->history_count++] = n->ring;
	rp_pack_restart_partial(n);
	n->merge_at = n->members[0] == me(n) ? now_ns + n->cfg.merge_ns : RP_NEVER;
	if (n->member_count == 1)
		n->token_loss_at = RP_NEVER;
	/* Recovery frames were consumed in RECOVERY up to the first
	 * application frame; those (and any later recovery frame, skipped) are
	 * delivered from here on. Members set install_seq at their own count of
	 * two, so frames below it may already be application frames of members
	 * that installed earlier. */
}

static uint16_t frame_origin(const uint8_t *f) { return rp_get16(f + rp_get16(f + RP_HDR_HDR_SIZE) + RP_DATA_ORIGIN); }

static bool emit_config_phase(struct rp_node *n, struct rp_actions *out, bool trans)
{
	if (!rp_delivery_room(n, out)) {
		n->deliver_more = true;
		return false;
	}
	if (trans && n->cfg.mutation == RP_MUTATION_TRANS_ALL)
		rp_emit_config(n, out, RP_CONFIG_TRANSITIONAL, n->ring, n->old_ring, n->old_member_count,
			       n->old_members);
	else if (trans)
		rp_emit_config(n, out, RP_CONFIG_TRANSITIONAL, n->ring, n->old_ring, n->trans_count,
			       n->trans_members);
	else
		rp_emit_config(n, out, RP_CONFIG_REGULAR, n->ring, n->old_ring, n->member_count,
			       n->members);
	return true;
}

/* Test-only (RP_MUTATION_DUP_AFTER_MERGE): after a merge (a member joined
 * that was not in my old ring), hand out the last delivered old frame's
 * entries once more. */
static void mutate_dup_after_merge(struct rp_node *n, struct rp_actions *out)
{
	struct rp_store *old = n->old;
	uint64_t s = old->delivered;
	if (n->cfg.mutation != RP_MUTATION_DUP_AFTER_MERGE || n->mutation_done ||
	    (n->new_memb & ~n->trans_memb) == 0 || !rp_store_holds(n, old, s) ||
	    frame_is_recovery(rp_store_frame(n, old, s)) || !rp_delivery_room(n, out))
		return;
	n->mutation_done = true;
	old->deliver_entry = 0;
	old->deliver_off = 0;
	rp_deliver_frame(n, old, s, n->old_ring, old->high_seq, false, out);
}

/* The install's deliveries (TOCS §7.2 steps 2–6). Returns true once the new
 * regular configuration is out; false if it must resume next step. */
bool rp_install_deliver(struct rp_node *n, struct rp_actions *out)
{
	struct rp_store *old = n->old;
	for (;;) {
		switch (n->install) {
		case RP_INSTALL_NONE:
			return true;
		case RP_INSTALL_OLD_REGULAR: {
			/* stop at the first hole, or at a SAFE message not known
			 * stable: above both the old SAFE point and what any
			 * transitional member already delivered */
			uint64_t safe = rp_seq_max(n->high_ring_delivered, n->old_safe_point);
			while (rp_seq_lt(old->delivered, old->high_seq) && n->cfg.mutation != RP_MUTATION_TRANS_OLD) {
				uint64_t s = old->delivered + 1u;
				if (!rp_store_holds(n, old, s))
					break;
				bool skip = frame_is_recovery(rp_store_frame(n, old, s));
				if (!rp_deliver_frame(n, old, s, n->old_ring, safe, skip, out)) {
					if (n->deliver_more)
						return false;
					break;
				}
			}
			n->install = RP_INSTALL_TRANS_EVENT;
			break;
		}
		case RP_INSTALL_TRANS_EVENT:
			if (n->cfg.mutation != RP_MUTATION_SKIP_TRANSITIONAL && !emit_config_phase(n, out, true))
				return false;
			n->install = RP_INSTALL_OLD_TRANS;
			n->trans_hole_seen = false;
			break;
		case RP_INSTALL_OLD_TRANS:
			/* the rest in order, skipping holes; after the first hole
			 * only from senders in deliver_memb (TOCS §7.2; EVS 6a, 6d) */
			while (rp_seq_lt(old->delivered, old->high_seq)) {
				uint64_t s = old->delivered + 1u;
				if (!rp_store_holds(n, old, s)) {
					n->trans_hole_seen = true;
					old->delivered = s;
					old->deliver_entry = 0;
					old->deliver_off = 0;
					continue;
				}
				const uint8_t *f = rp_store_frame(n, old, s);
				bool skip = frame_is_recovery(f) ||
					    (n->trans_hole_seen && !(n->deliver_memb & rp_bit(frame_origin(f))));
				if (!rp_deliver_frame(n, old, s, n->old_ring, old->high_seq, skip, out))
					return false;
			}
			n->install = RP_INSTALL_REGULAR_EVENT;
			break;
		case RP_INSTALL_REGULAR_EVENT:
			mutate_dup_after_merge(n, out);
			if (!emit_config_phase(n, out, false))
				return false;
			n->install = RP_INSTALL_NONE;
			n->old_saved = false;
			n->deliver_memb = 0;
			/* frame bytes stay in place for this step's deliveries */
			rp_store_clear(n, old);
			return true;
		}
	}
}
