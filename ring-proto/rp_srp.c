/* rp_srp.c — Totem single-ring ordering: the token visit, the frame stores,
 * retransmission, flow control, AGREED and SAFE delivery, discard.
 *
 * Implements TOCS §5 (ordering), §8 (flow control).
 * In RECOVERY the same visit sends recovery frames instead of application
 * messages (rp_recovery.c). Deviations, each also in docs/protocol.md §7:
 *  - u64 sequence numbers with serial comparison (rp_seq.h); no -1
 *    sentinels: every ring starts at cfg.initial_seq.
 *  - Spread's gap cap (SPR FC_allowed), and no new frame the sender's own
 *    store cannot hold.
 *  - Retransmission is requested only for seqs at or below the token.seq
 *    forwarded on the previous visit (SPR / Accelerated Ring rule 3).
 *  - The token-retransmit timer is cancelled by the token's return or by a
 *    data frame newer than the token we forwarded.
 *  - A fair share of 0 counts as 1 when the node has a backlog (CS).
 *  - Delivery happens after the token is forwarded (CS); discard is deferred
 *    to the start of the next step so delivered bytes stay valid until then.
 *
 * Never: acts on a token twice (token_seq filter); discards a frame beyond
 * min(safe point, delivered); delivers outside OPERATIONAL (the old ring's
 * remaining messages are delivered at install, rp_recovery.c).
 */
#include "rp_internal.h"

#include <string.h>

static uint16_t me(const struct rp_node *n) { return n->cfg.node_id; }

/* ---- stores ---- */

struct rp_slot *rp_store_slot(const struct rp_node *n, const struct rp_store *st, uint64_t seq)
{
	(void)n;
	return &st->slots[seq & st->mask];
}

/* The bytes of slot seq: lent ones while it holds them (§14), else the
 * slot's own buffer (where the node builds its own frames: empty slots
 * never hold lent bytes). */
uint8_t *rp_store_frame(const struct rp_node *n, const struct rp_store *st, uint64_t seq)
{
	const struct rp_slot *s = &st->slots[seq & st->mask];
	if (s->lent != NULL)
		return s->lent;
	return st->frames + (size_t)(seq & st->mask) * n->cfg.frame_size_max;
}

/* Empties a slot; its lent bytes, if any, go to the returned list, which
 * the caller takes only after performing the step's actions (deliveries
 * and retransmissions of this step may point into them). */
static void slot_free(struct rp_node *n, struct rp_slot *s)
{
	if (s->lent != NULL) {
		RP_ASSERT(n->lent_kept > 0 && n->returned_count < 2u * n->cfg.store_slots);
		n->returned[n->returned_count++] = s->lend;
		n->lent_kept--;
		s->lent = NULL;
		s->lend = NULL;
	}
	s->size = 0;
}

/* Empties every slot of st, keeping its position in the sequence. */
void rp_store_clear(struct rp_node *n, struct rp_store *st)
{
	if (n->lent_kept > 0)
		for (uint32_t i = 0; i < n->cfg.store_slots; i++)
			slot_free(n, &st->slots[i]);
	memset(st->slots, 0, (size_t)n->cfg.store_slots * sizeof(struct rp_slot));
}

bool rp_store_holds(const struct rp_node *n, const struct rp_store *st, uint64_t seq)
{
	const struct rp_slot *s = rp_store_slot(n, st, seq);
	return s->size != 0 && s->seq == seq;
}

void rp_store_reset(struct rp_node *n, struct rp_store *st)
{
	rp_store_clear(n, st);
	uint64_t s0 = n->cfg.initial_seq;
	st->my_aru = st->high_seq = st->discarded = st->delivered = s0;
	st->high_origin = 0;
	st->deliver_entry = 0;
	st->deliver_off = 0;
}

static void advance_aru(struct rp_node *n, struct rp_store *st)
{
	while (rp_seq_lt(st->my_aru, st->high_seq) && rp_store_holds(n, st, st->my_aru + 1u))
		st->my_aru++;
}

/* Stores a validated frame; false if it is a duplicate or beyond the store.
 * With a lend handle (§14) the slot keeps the bytes themselves, while the
 * node lends fewer than 2 * store_slots handles; otherwise it copies them. */
bool rp_store_put(struct rp_node *n, struct rp_store *st, uint64_t seq, const uint8_t *frame,
		  uint32_t size, void *lend)
{
	if (rp_seq_le(seq, st->discarded) || rp_store_holds(n, st, seq))
		return false;
	if (rp_seq_dist(st->discarded, seq) > n->cfg.store_slots)
		return false;
	struct rp_slot *slot = rp_store_slot(n, st, seq);
	RP_ASSERT(slot->size == 0 && slot->lent == NULL);
	if (lend != NULL && n->lent_kept + n->returned_count < 2u * n->cfg.store_slots) {
		/* lending grants write access (a retransmission rewrites the
		 * sender): the caller's bytes are the node's until returned */
		slot->lent = (uint8_t *)(uintptr_t)frame;
		slot->lend = lend;
		n->lent_kept++;
		n->stats.frames_kept++; /* rp_step's RP_KEPT */
	} else {
		memcpy(rp_store_frame(n, st, seq), frame, size);
	}
	slot->seq = seq;
	slot->size = size;
	slot->recovered = 0;
	st->high_seq = rp_seq_max(st->high_seq, seq);
	advance_aru(n, st);
	return true;
}

/* This node holds no token and sends none again: no hold, no quiet ring, no
 * retransmission of its last token, no pending fail-to-receive. The one
 * place this is written: a new ring's token, a gather and a leave all use it. */
void rp_srp_token_clear(struct rp_node *n)
{
	n->token_local = false;
	n->token_hold_at = RP_NEVER;
	n->ring_quiet = false;
	n->fwd_settled = false;
	n->fail_to_recv = false;
	n->token_retransmit_at = RP_NEVER;
	n->probe_ring = false;
}

/* Per-ring token state, at start and whenever a new ring's token begins. */
void rp_srp_ring_reset(struct rp_node *n)
{
	uint64_t s0 = n->cfg.initial_seq;
	n->safe_point = s0;
	n->fwd_aru[0] = n->fwd_aru[1] = s0;
	n->prev_visit_seq = s0;
	n->my_token_seq = s0;
	n->my_last_aru = s0;
	n->my_aru_count = 0;
	n->my_trc_prev = 0;
	n->my_pbl = 0;
	n->hold_cancel_seen = false;
	n->rtr_took_mask = 0;
	n->rtr_doubt = 0;
	rp_srp_token_clear(n);
}

/* Frees stored frames of the current ring every member holds and this node
 * has delivered (TOCS §5.1; CS `messages_free`). The old store is kept whole
 * until the install has delivered it. */
void rp_srp_discard(struct rp_node *n)
{
	struct rp_store *st = n->cur;
	uint64_t upto = rp_seq_min(n->safe_point, st->delivered);
	while (rp_seq_lt(st->discarded, upto)) {
		st->discarded++;
		struct rp_slot *s = rp_store_slot(n, st, st->discarded);
		if (s->seq == st->discarded)
			slot_free(n, s);
	}
}

/* ---- delivery ---- */

static bool is_whole(uint8_t flags)
{
	return (flags & (RP_ENTRY_F_FIRST | RP_ENTRY_F_LAST)) == (RP_ENTRY_F_FIRST | RP_ENTRY_F_LAST);
}

/* Test-only protocol bugs (rp_mutation). Returns true to skip the delivery;
 * sets *swap to swap it with the previous one. */
static bool mutate(struct rp_node *n, uint8_t flags, const struct rp_actions *out, bool *swap)
{
	*swap = false;
	if (n->mutation_done || !is_whole(flags) ||
	    (n->cfg.mutation != RP_MUTATION_DROP_DELIVERY && n->cfg.mutation != RP_MUTATION_SWAP_DELIVERIES))
		return false;
	if (++n->mutation_count < 20)
		return false;
	if (n->cfg.mutation == RP_MUTATION_DROP_DELIVERY) {
		n->mutation_done = true;
		return true;
	}
	if (out->count > 0) {
		const struct rp_action *prev = &out->v[out->count - 1];
		if (prev->kind == RP_ACT_DELIVER && is_whole(prev->deliver.flags)) {
			n->mutation_done = true;
			*swap = true;
		}
	}
	return false;
}

bool rp_deliver_frame(struct rp_node *n, struct rp_store *st, uint64_t seq, struct rp_ring_id ring,
		      uint64_t safe, bool skip, struct rp_actions *out)
{
	const uint8_t *f = rp_store_frame(n, st, seq);
	uint32_t frame_size = rp_store_slot(n, st, seq)->size;
	uint16_t hdr_size = rp_get16(f + RP_HDR_HDR_SIZE);
	const uint8_t *body = f + hdr_size;
	uint16_t origin = rp_get16(body + RP_DATA_ORIGIN), count = rp_get16(body + RP_DATA_ENTRY_COUNT);
	const uint8_t *entries = body + rp_get16(body + RP_DATA_BODY_HDR_SIZE);
	size_t size = (size_t)frame_size - hdr_size - rp_get16(body + RP_DATA_BODY_HDR_SIZE);
	while (!skip && st->deliver_entry < count) {
		struct rp_wire_entry e;
		size_t off = st->deliver_off;
		RP_ASSERT(off + RP_WIRE_ENTRY_HDR_SIZE <= size);
		rp_wire_entry_read(entries + off, &e);
		off += RP_WIRE_ENTRY_HDR_SIZE + (size_t)e.chunk_size;
		RP_ASSERT(off <= size);
		if (e.service == RP_SERVICE_SAFE && (e.flags & RP_ENTRY_F_LAST) && rp_seq_gt(seq, safe))
			return false;
		if (!rp_delivery_room(n, out)) {
			n->deliver_more = true;
			return false;
		}
		bool swap;
		if (!mutate(n, e.flags, out, &swap)) {
			struct rp_action *a = rp_action_push(out, RP_ACT_DELIVER);
			struct rp_delivery *d = &a->deliver;
			d->ring = ring;
			d->seq = seq;
			d->entry_index = st->deliver_entry;
			d->origin = origin;
			d->client_id = e.client_id;
			d->service = e.service;
			d->priority = e.priority;
			d->flags = e.flags;
			d->msg_size = e.msg_size;
			d->frag_offset = e.frag_offset;
			d->chunk_size = e.chunk_size;
			d->data = e.data;
			if (e.flags & RP_ENTRY_F_LAST)
				n->stats.messages_delivered++;
			if (swap) {
				struct rp_action tmp = out->v[out->count - 1];
				out->v[out->count - 1] = out->v[out->count - 2];
				out->v[out->count - 2] = tmp;
			}
		}
		st->deliver_entry++;
		st->deliver_off = off;
	}
	st->delivered = seq;
	st->deliver_entry = 0;
	st->deliver_off = 0;
	return true;
}

static bool is_recovery_frame(const struct rp_node *n, const struct rp_store *st, uint64_t seq)
{
	const uint8_t *f = rp_store_frame(n, st, seq);
	return (rp_get16(f + rp_get16(f + RP_HDR_HDR_SIZE) + RP_DATA_BODY_FLAGS) & RP_DATA_F_RECOVERY) != 0;
}

/* Delivers, in seq order, every entry that is ready: AGREED once all earlier
 * frames are held; SAFE once its seq is at or below the safe point. A waiting
 * SAFE message blocks everything after it (TOCS §5.2; SPR `Prot_handle_token`).
 * Finishes a pending install first. In RECOVERY only recovery frames are
 * consumed (their content was filed into the old store on receipt). */
void rp_srp_deliver(struct rp_node *n, struct rp_actions *out)
{
	n->deliver_more = false;
	if (n->install != RP_INSTALL_NONE && !rp_install_deliver(n, out))
		return;
	struct rp_store *st = n->cur;
	if (n->state == RP_STATE_RECOVERY) {
		while (rp_seq_lt(st->delivered, st->my_aru) && is_recovery_frame(n, st, st->delivered + 1u))
			st->delivered++;
		return;
	}
	if (n->state != RP_STATE_OPERATIONAL)
		return;
	uint64_t safe = n->cfg.mutation == RP_MUTATION_EARLY_SAFE ? st->my_aru : n->safe_point;
	while (rp_seq_lt(st->delivered, st->my_aru)) {
		uint64_t s = st->delivered + 1u;
		bool skip = is_recovery_frame(n, st, s); /* a late copy: consumed in recovery */
		if (!rp_deliver_frame(n, st, s, n->ring, safe, skip, out))
			return;
	}
}

/* ---- the token visit ---- */

static void encode_token(struct rp_node *n)
{
	struct rp_wire_hdr h;
	rp_hdr_init(n, &h, n->ring);
	rp_rrp_stamp_token(n);
	n->token.rtr_has_from = rp_relay_rtr_from(n); /* who asked for each seq (§17.4, §9.8) */
	if (n->token.rtr_has_from && n->token.rtr_count > rp_relay_rtr_cap(n))
		n->token.rtr_count = (uint16_t)rp_relay_rtr_cap(n); /* an older build's requests (§9.8) */
	n->token_buf_size = (uint32_t)rp_wire_encode_token(n->token_buf, &h, &n->token);
	n->token_buf_dest = n->successor;
}

/* Sends the encoded token (token_buf) to its destination. */
static void emit_token(struct rp_node *n, uint64_t now_ns, struct rp_actions *out)
{
	rp_emit_send(n, out, n->token_buf, n->token_buf_size, n->token_buf_dest);
	n->token_sent_mask = out->v[out->count - 1u].send.path_mask;
	n->token_retransmit_at = now_ns + n->cfg.token_retransmit_ns;
	n->token_fwd_seq = n->token.seq;
}

static void send_token(struct rp_node *n, uint64_t now_ns, struct rp_actions *out)
{
	encode_token(n);
	emit_token(n, now_ns, out);
}

/* §12: who holds a quiet ring's token: the node that sequenced its last
 * frame, or the representative if nobody has yet or the topology is
 * partial (a HOLD_CANCEL is not relayed). */
static uint16_t hold_holder(const struct rp_node *n)
{
	uint16_t o = n->cur->high_origin;
	return n->partial || o == 0 ? n->members[0] : o;
}

/* §12: the holder keeps a quiet ring's token as it arrives, before
 * visiting it: a whole rotation that began settled sequenced nothing,
 * nobody asks for anything, everything is delivered here (SAFE too), and
 * this node has nothing to send, so the visit would send nothing but the
 * token. */
static bool may_hold(const struct rp_node *n)
{
	const struct rp_wire_token *t = &n->token;
	return n->cfg.token_hold_ns != 0 && n->state == RP_STATE_OPERATIONAL && n->successor != me(n) &&
	       !n->hold_cancel_seen && !n->fail_to_recv && t->rtr_count == 0 && t->backlog == 0 &&
	       t->aru == t->seq && t->seq == n->prev_visit_seq && n->cur->my_aru == t->seq &&
	       n->cur->high_seq == t->seq && n->cur->delivered == t->seq && n->fwd_settled &&
	       hold_holder(n) == me(n) && !rp_pack_has_work(n);
}

/* Ends a hold: the held token is visited now, as if it arrived now (a
 * message just submitted here goes out in this visit). */
void rp_srp_release_hold(struct rp_node *n, uint64_t now_ns, struct rp_actions *out)
{
	if (n->token_hold_at == RP_NEVER)
		return;
	n->token_hold_at = RP_NEVER;
	rp_srp_visit(n, now_ns, out);
}

void rp_srp_on_submit(struct rp_node *n, uint64_t now_ns, struct rp_actions *out)
{
	if (n->token_hold_at != RP_NEVER) {
		rp_srp_release_hold(n, now_ns, out);
		return;
	}
	/* the holder's own HOLD_CANCEL would only wake the others: its token
	 * finds its work queued */
	if (!n->ring_quiet || n->state != RP_STATE_OPERATIONAL || n->token_local)
		return;
	uint16_t holder = hold_holder(n);
	if (holder == me(n))
		return;
	/* The ring went quiet: the holder probably holds; only it acts on a
	 * HOLD_CANCEL (every node hears one in a partial topology). */
	n->ring_quiet = false;
	struct rp_wire_hdr h;
	rp_hdr_init(n, &h, n->ring);
	size_t size = rp_wire_encode_hold_cancel(n->hold_cancel_buf, &h);
	rp_emit_send(n, out, n->hold_cancel_buf, (uint32_t)size, n->partial ? RP_DEST_ALL : holder);
	n->stats.hold_cancels_sent++;
}

void rp_srp_on_hold_cancel(struct rp_node *n, uint64_t now_ns, struct rp_actions *out)
{
	if (n->state != RP_STATE_OPERATIONAL)
		return;
	if (n->token_hold_at != RP_NEVER) {
		n->stats.hold_cancels_received++;
		rp_srp_release_hold(n, now_ns, out);
	} else {
		n->hold_cancel_seen = true; /* the token is on its way: do not hold it */
	}
}

/* Retransmits a stored frame on behalf of its origin (TOCS §5.2: rtr
 * entries are served by any node that holds the frame); mask: only on
 * these paths (0: as rp_emit_send chooses). */
static void retransmit(struct rp_node *n, uint64_t seq, uint8_t mask, struct rp_actions *out)
{
	uint8_t *f = rp_store_frame(n, n->cur, seq);
	rp_put16(f + RP_HDR_FLAGS, (uint16_t)(rp_get16(f + RP_HDR_FLAGS) | RP_HDR_F_RETRANS));
	rp_put16(f + RP_HDR_SENDER, me(n));
	rp_put64(f + RP_HDR_INCARNATION, n->cfg.incarnation);
	if (mask != 0)
		rp_emit_send_on(n, out, f, rp_store_slot(n, n->cur, seq)->size, RP_DEST_ALL, mask);
	else
		rp_emit_send(n, out, f, rp_store_slot(n, n->cur, seq)->size, RP_DEST_ALL);
	n->stats.frames_retransmitted++;
}

/* TOCS §8.2 flow control: the frames this visit may send, retransmitted
 * and new: max_messages, and the window less what the last rotation sent
 * (token.fcc). */
static uint32_t visit_room(const struct rp_node *n)
{
	int64_t allowed = n->cfg.max_messages;
	int64_t room = (int64_t)n->cfg.window_size - (int64_t)n->token.fcc;
	if (room < allowed)
		allowed = room;
	return allowed < 0 ? 0u : (uint32_t)allowed;
}

/* The fair share (§3.1 step 1): the new frames this visit may send, a
 * share of the window in proportion to this node's backlog (my_tbl) among
 * the ring's; a share of 0 with a backlog counts as 1. It bounds new
 * frames only, not the retransmissions served before them (§3.1 step 2):
 * counted against it, a node with a short queue among long ones served one
 * request per rotation, while the gap cap kept every queue from moving
 * (seed 4352), or while RECOVERY sent no queue at all (seed 4293). */
static uint32_t fair_share(const struct rp_node *n, uint32_t my_tbl, uint32_t room)
{
	int64_t denom = (int64_t)n->token.backlog + my_tbl - n->my_pbl;
	if (denom <= 0 || my_tbl == 0)
		return room;
	int64_t share = (int64_t)n->cfg.window_size * my_tbl / denom;
	if (share == 0)
		share = 1;
	return share < room ? (uint32_t)share : room;
}

/* This node's backlog for the fair share (§3.1 step 1, §8.4): what it has
 * to send as new frames. In RECOVERY that is the old frames it still has
 * to rebroadcast (an upper bound: those another member recovered first are
 * skipped), not its application queue, which waits for the install (CS
 * backlog_get counts the retransmit queue in RECOVERY). */
static uint32_t visit_backlog(const struct rp_node *n)
{
	if (n->state != RP_STATE_RECOVERY)
		return rp_pack_backlog(n);
	if (!n->retrans_active || rp_seq_gt(n->retrans_next, n->retrans_end))
		return 0;
	uint64_t left = n->retrans_end - n->retrans_next + 1u;
	return left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
}

/* The index of seq in the token's rtr list, or -1. */
static int rtr_index(const struct rp_wire_token *t, uint64_t seq)
{
	for (uint32_t i = 0; i < t->rtr_count; i++)
		if (t->rtr[i] == seq)
			return (int)i;
	return -1;
}

/* Partial topology (§17.4): the members this node shares a network with
 * that it sends on, not marked out of reach there [reach], and of those
 * the ones heard directly on such a network lately [heard]: a request of
 * theirs is taken for answered. A network out of use here does not count,
 * even if the peer is heard on it: answered on another network, the
 * request was taken off unserved at every rotation (seed 1120 of all
 * --topology partial). Hearing a peer says nothing of whether it hears
 * this node, and a held or queued copy not even that the network works
 * (seed 1927): a requester whose request came back after this node took
 * it for answered is not taken off again for two probe periods from then
 * [rtr_doubt], the age of evidence this node trusts. A full topology that
 * is not dyn here counts every requester in reach as heard: a node that
 * only receives is heard by its successor alone, and every holder would
 * answer it (§9.8). */
static void rtr_reach(const struct rp_node *n, uint64_t now_ns, uint64_t *reach, uint64_t *heard)
{
	*reach = *heard = 0;
	uint64_t window = 2u * n->cfg.rrp_probe_ns;
	for (uint32_t i = 0; i < n->member_count; i++) {
		uint16_t id = n->members[i];
		const struct rp_peer *pe = &n->peers[id - 1u];
		uint8_t shared = (uint8_t)(n->mine & n->rrp_in_use & n->on[id - 1u] & ~pe->unreachable);
		if (!n->partial)
			shared &= (uint8_t)~pe->fault_mask; /* §9.8: what it marked itself */
		if (id == me(n) || shared == 0)
			continue;
		*reach |= rp_bit(id);
		if (!n->dyn)
			*heard |= rp_bit(id); /* §9.8: a working network joins every pair */
		for (uint32_t p = 0; p < n->cfg.path_count; p++)
			if ((shared & (1u << p)) && pe->last_rx[p] != 0 && now_ns - pe->last_rx[p] <= window)
				*heard |= rp_bit(id);
	}
	for (uint64_t d = *heard & n->rtr_doubt, id = 1; d != 0; id++, d >>= 1)
		if ((d & 1u) && now_ns - n->rtr_doubt_at[id - 1u] <= window)
			*heard &= ~rp_bit((uint16_t)id);
}

/* The requesters that ask again for a seq this node took off for them at
 * its last visit: its answer did not reach them (§17.4). */
static void rtr_came_back(struct rp_node *n, const struct rp_wire_token *t, uint64_t now_ns)
{
	uint64_t took = n->rtr_took_mask;
	n->rtr_took_mask = 0;
	for (uint32_t i = 0; i < t->rtr_count && took != 0; i++) {
		uint64_t back = t->rtr_from[i] & took;
		for (uint16_t id = 1; back != 0; id++, back >>= 1)
			if ((back & 1u) && n->rtr_took[id - 1u] == t->rtr[i]) {
				n->rtr_doubt |= rp_bit(id);
				n->rtr_doubt_at[id - 1u] = now_ns;
				took &= ~rp_bit(id);
			}
	}
}

/* Remembers, per requester, one seq taken off for it at this visit. */
static void rtr_took(struct rp_node *n, uint64_t seq, uint64_t off)
{
	off &= ~n->rtr_took_mask;
	n->rtr_took_mask |= off;
	for (uint16_t id = 1; off != 0; id++, off >>= 1)
		if (off & 1u)
			n->rtr_took[id - 1u] = seq;
}

/* Serves the retransmission requests this node can; keeps the others. In
 * a partial topology a request names who asked: it is answered only for
 * requesters this node shares a network with, on their networks, and
 * stays on the token for the others, and for requesters not heard lately,
 * so that a requester that cannot hear this node is served by another
 * (Spread livelocked answering requests its peer could not hear). */
static uint32_t serve_rtr(struct rp_node *n, uint32_t allowed, uint64_t now_ns, struct rp_actions *out)
{
	struct rp_wire_token *t = &n->token;
	struct rp_store *st = n->cur;
	uint32_t sent = 0, kept = 0;
	uint64_t reach = 0, heard = 0;
	bool from = n->relaying && t->rtr_has_from;
	if (from) {
		rtr_came_back(n, t, now_ns);
		rtr_reach(n, now_ns, &reach, &heard);
	}
	for (uint32_t i = 0; i < t->rtr_count; i++) {
		uint64_t s = t->rtr[i];
		uint64_t who = from ? t->rtr_from[i] : 0;
		bool held = rp_store_holds(n, st, s);
		if (rp_seq_le(s, st->discarded) && !held)
			continue; /* every member holds it: a stale request */
		if (held && n->cfg.mutation == RP_MUTATION_SKIP_RTR)
			continue; /* test-only: the request is dropped unanswered */
		if (from && rp_seq_le(s, t->aru))
			continue; /* every member held it at its last visit */
		if (!from) {
			if (sent < allowed && held) {
				retransmit(n, s, 0, out);
				sent++;
				continue;
			}
			t->rtr[kept++] = s;
			continue;
		}
		if (sent < allowed && held && (who & reach) != 0) {
			uint8_t mask = 0;
			for (uint16_t id = 1; id <= RP_NODES_MAX; id++)
				if (who & reach & rp_bit(id))
					mask |= n->on[id - 1u];
			mask &= n->rrp_in_use;
			retransmit(n, s, mask != 0 ? mask : (uint8_t)(n->mine & ~n->rrp_faulty), out);
			sent++;
			rtr_took(n, s, who & reach & heard);
			who &= ~(reach & heard);
		}
		if (who == 0)
			continue;
		t->rtr[kept] = s;
		t->rtr_from[kept++] = who;
	}
	t->rtr_count = (uint16_t)kept;
	return sent;
}

/* May the next frame, seq, be sent? The gap cap and this node's store. */
bool rp_srp_may_send(const struct rp_node *n, uint64_t seq)
{
	uint64_t gap_max = (uint64_t)n->cfg.store_slots - 2u * (uint64_t)n->cfg.window_size;
	/* A token whose seq is behind frames this node holds (a faulty peer)
	 * must not make it overwrite them: it sends nothing new instead. */
	return rp_seq_gt(seq, n->cur->high_seq) && rp_seq_dist(n->token.aru, seq) <= gap_max &&
	       rp_seq_dist(n->cur->discarded, seq) <= (uint64_t)n->cfg.store_slots;
}

/* Records and multicasts a frame this node just built at slot seq. */
void rp_srp_sent(struct rp_node *n, uint64_t seq, uint32_t size, struct rp_actions *out)
{
	struct rp_store *st = n->cur;
	struct rp_slot *slot = rp_store_slot(n, st, seq);
	slot->seq = seq;
	slot->size = size;
	slot->recovered = 0;
	n->token.seq = seq;
	st->high_seq = seq;
	st->high_origin = me(n);
	if (n->member_count > 1)
		rp_emit_send(n, out, rp_store_frame(n, st, seq), size, RP_DEST_ALL);
	n->stats.frames_sent++;
}

/* Sequences and sends new application frames while the budget, the gap
 * cap, this node's store and the actions buffer allow. */
static uint32_t send_new(struct rp_node *n, uint32_t budget, struct rp_actions *out)
{
	const struct rp_config *c = &n->cfg;
	uint32_t sent = 0;
	uint32_t notices = c->frame_size_max / RP_WIRE_ENTRY_HDR_SIZE;
	/* room for this frame and its submit-done notices, the rest of the
	 * visit's sends, and the token */
	while (sent < budget && rp_pack_has_work(n) &&
	       rp_actions_room(out, (budget - sent) + notices + 2u)) {
		uint64_t seq = n->token.seq + 1u;
		if (!rp_srp_may_send(n, seq))
			break;
		uint32_t size = rp_pack_frame(n, rp_store_frame(n, n->cur, seq), seq, out);
		if (size == 0)
			break;
		rp_srp_sent(n, seq, size, out);
		sent++;
	}
	return sent;
}

/* The rtr list is full: this node still names itself on the entries
 * from seq `from` to `limit` that it misses (§17.4: in a partial topology
 * a holder answers only the requesters it reaches, so a full list whose
 * entries name only requesters no holder reaches must not keep the others
 * from asking: seed 104 of all --topology partial). */
static void join_rtr(struct rp_node *n, uint64_t from, uint64_t limit)
{
	struct rp_wire_token *t = &n->token;
	for (uint32_t i = 0; i < t->rtr_count; i++)
		if (rp_seq_ge(t->rtr[i], from) && rp_seq_le(t->rtr[i], limit) &&
		    !rp_store_holds(n, n->cur, t->rtr[i]))
			t->rtr_from[i] |= rp_bit(me(n));
}

/* Partial topology (§17.4): this node takes its name off the requests
 * for frames it now holds, and a request nobody is left on leaves the
 * token. A holder keeps a request on the token for a requester it has not
 * heard lately, or whose request came back (rtr_doubt), so the requester
 * itself is the one that knows it is served: its stale requests filled the
 * list and took a holder's whole budget at every visit while the frames it
 * missed waited behind them (seed 3455 of all --topology partial). */
static void withdraw_rtr(struct rp_node *n)
{
	struct rp_wire_token *t = &n->token;
	const struct rp_store *st = n->cur;
	if (!n->relaying || !t->rtr_has_from)
		return;
	uint32_t kept = 0;
	for (uint32_t i = 0; i < t->rtr_count; i++) {
		uint64_t who = t->rtr_from[i];
		if (rp_seq_le(t->rtr[i], st->my_aru) || rp_store_holds(n, st, t->rtr[i]))
			who &= ~rp_bit(me(n));
		if (who == 0)
			continue;
		t->rtr[kept] = t->rtr[i];
		t->rtr_from[kept++] = who;
	}
	t->rtr_count = (uint16_t)kept;
}

/* Adds this node's missing seqs to the token's rtr list (TOCS §5.2). */
static void request_rtr(struct rp_node *n)
{
	struct rp_wire_token *t = &n->token;
	struct rp_store *st = n->cur;
	uint64_t limit = rp_seq_min(t->seq, n->prev_visit_seq);
	withdraw_rtr(n);
	for (uint64_t s = st->my_aru + 1u; rp_seq_le(s, limit); s++) {
		if (t->rtr_count >= rp_relay_rtr_cap(n)) {
			join_rtr(n, s, limit);
			break;
		}
		if (rp_store_holds(n, st, s))
			continue;
		int k = rtr_index(t, s);
		if (k >= 0) {
			t->rtr_from[k] |= rp_bit(me(n)); /* read only with rtr_has_from */
			continue;
		}
		t->rtr_from[t->rtr_count] = rp_bit(me(n));
		t->rtr[t->rtr_count++] = s;
		n->stats.rtr_requested++;
	}
}

static uint32_t add_clamped(uint32_t v, int64_t delta)
{
	int64_t r = (int64_t)v + delta;
	if (r < 0)
		return 0;
	if (r > UINT32_MAX)
		return UINT32_MAX;
	return (uint32_t)r;
}

/* §13 Accelerated Ring: the token, just appended to out, moves in front of
 * the last accelerated_window frames this visit sent (the sends from
 * index first on). Only the order of the actions changes. */
static void accelerate(struct rp_node *n, struct rp_actions *out, uint32_t first)
{
	uint32_t tok = out->count - 1u, sends = 0;
	for (uint32_t i = first; i < tok; i++)
		sends += out->v[i].kind == RP_ACT_SEND;
	uint32_t after = sends < n->cfg.accelerated_window ? sends : n->cfg.accelerated_window;
	if (after == 0)
		return;
	uint32_t before = sends - after, at = first;
	for (uint32_t seen = 0; at < tok; at++) {
		if (out->v[at].kind != RP_ACT_SEND)
			continue;
		if (seen == before)
			break;
		seen++;
	}
	struct rp_action token = out->v[tok];
	memmove(&out->v[at + 1u], &out->v[at], (size_t)(tok - at) * sizeof(out->v[0]));
	out->v[at] = token;
	n->stats.frames_after_token += after;
}

/* Steps 2 and 3 of a visit (§3.1): retransmission requests within the
 * room, then new frames (old ones in RECOVERY) within the fair share of
 * what is left. Returns the frames sent. */
static uint32_t visit_sends(struct rp_node *n, uint32_t my_tbl, uint64_t now_ns, struct rp_actions *out)
{
	uint32_t room = visit_room(n);
	uint32_t trc = serve_rtr(n, room, now_ns, out);
	uint32_t fresh = fair_share(n, my_tbl, room - trc);
	if (n->state == RP_STATE_RECOVERY)
		return trc + rp_recovery_send(n, fresh, out);
	if (n->probe_ring) {
		/* the first visit after a pause (§16.1): only if this token
		 * comes back is the ring still there to sequence into */
		n->probe_ring = false;
		n->stats.pause_probes++;
		return trc;
	}
	return trc + send_new(n, fresh, out);
}

/* One token visit (TOCS Fig 3 and Fig 6; docs/protocol.md §3.1). */
void rp_srp_visit(struct rp_node *n, uint64_t now_ns, struct rp_actions *out)
{
	struct rp_wire_token *t = &n->token;
	struct rp_store *st = n->cur;
	bool recovery = n->state == RP_STATE_RECOVERY;
	uint32_t first_act = out->count;
	uint32_t my_tbl = visit_backlog(n);
	uint32_t trc = visit_sends(n, my_tbl, now_ns, out);
	advance_aru(n, st);

	/* The aru rule (TOCS §5.2, Fig 3). */
	if (rp_seq_lt(st->my_aru, t->aru) || t->aru_id == me(n) || t->aru_id == 0) {
		t->aru = st->my_aru;
		t->aru_id = t->aru == t->seq ? 0 : me(n);
	}
	if (t->aru == n->my_last_aru && t->aru_id != 0)
		n->my_aru_count++;
	else
		n->my_aru_count = 0;
	n->my_last_aru = t->aru;
	/* Fail to receive (TOCS §6.2.2): the node named in aru_id has kept the
	 * aru stuck for too long; it is failed and the rest regroup. */
	if (!recovery && n->my_aru_count > n->cfg.fail_recv_const && t->aru_id != me(n))
		n->fail_to_recv = true;

	request_rtr(n);
	t->fcc = add_clamped(t->fcc, (int64_t)trc - n->my_trc_prev);
	n->my_trc_prev = trc;
	my_tbl = visit_backlog(n);
	t->backlog = add_clamped(t->backlog, (int64_t)my_tbl - n->my_pbl);
	n->my_pbl = my_tbl;
	if (recovery)
		rp_recovery_token(n);
	t->token_seq++;
	t->dest = n->successor;
	n->my_token_seq = t->token_seq;

	n->fwd_aru[1] = n->fwd_aru[0];
	n->fwd_aru[0] = t->aru;
	n->safe_point = rp_seq_min(n->fwd_aru[0], n->fwd_aru[1]);
	n->prev_visit_seq = t->seq;

	/* §12: settled (all have all, nothing asked or queued); quiet: a
	 * settled token from a visit that sent nothing (a hold may follow) */
	n->fwd_settled = !recovery && t->rtr_count == 0 && t->backlog == 0 && t->aru == t->seq;
	bool quiet = n->cfg.token_hold_ns != 0 && !recovery && n->state == RP_STATE_OPERATIONAL &&
		     trc == 0 && n->fwd_settled && !rp_pack_has_work(n);
	n->ring_quiet = quiet;
	if (n->successor == me(n)) {
		n->token_local = true; /* a ring of one keeps its token */
	} else {
		n->token_local = false;
		send_token(n, now_ns, out);
		if (n->cfg.accelerated_window != 0 && !recovery && n->state == RP_STATE_OPERATIONAL && trc != 0)
			accelerate(n, out, first_act);
	}
	n->hold_cancel_seen = false;
	if (recovery && n->rotation_counter >= 2)
		rp_recovery_install(n, now_ns);
	if (n->fail_to_recv && n->state == RP_STATE_OPERATIONAL) {
		rp_memb_fail_to_recv(n, t->aru_id, now_ns, out);
		return;
	}
	rp_srp_deliver(n, out);
}

void rp_srp_on_token(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf,
		     uint64_t now_ns, struct rp_actions *out)
{
	struct rp_wire_token t;
	enum rp_drop why = rp_wire_decode_token(buf, h, &t);
	if (why == RP_DROP_NONE && t.dest != me(n))
		why = RP_DROP_NOT_FOR_ME;
	if (why == RP_DROP_NONE && !rp_seq_gt(t.token_seq, n->my_token_seq))
		why = RP_DROP_STALE_TOKEN;
	if (why == RP_DROP_NONE && t.rtr_count > n->cfg.rtr_max)
		why = RP_DROP_BAD_RTR;
	if (why != RP_DROP_NONE) {
		n->stats.drops[why]++;
		return;
	}
	n->stats.tokens_received++;
	n->my_token_seq = t.token_seq;
	n->token_retransmit_at = RP_NEVER; /* it came back: the ring holds it */
	n->token_loss_at = now_ns + n->cfg.token_loss_ns;
	memcpy(&n->token, &t, offsetof(struct rp_wire_token, rtr) + (size_t)t.rtr_count * sizeof(uint64_t));
	if (!t.rtr_has_from) /* a full topology, or a peer that names no requesters: anyone may */
		for (uint32_t i = 0; i < t.rtr_count; i++)
			n->token.rtr_from[i] = n->configured;
	else
		memcpy(n->token.rtr_from, t.rtr_from, (size_t)t.rtr_count * sizeof(uint64_t));
	rp_rrp_on_token(n, now_ns, out);
	if (may_hold(n)) {
		n->token_local = false;
		n->token_hold_at = now_ns + n->cfg.token_hold_ns;
		n->stats.tokens_held++;
		return;
	}
	rp_srp_visit(n, now_ns, out);
}

/* A data frame of the current ring; lend: its driver's handle (§14), or NULL. */
void rp_srp_on_data(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf, void *lend,
		    struct rp_actions *out)
{
	struct rp_wire_data d;
	enum rp_drop why = rp_wire_decode_data(buf, h, &d);
	if (why == RP_DROP_NONE && (d.body_flags & RP_DATA_F_RECOVERY) && d.entry_count != 1)
		why = RP_DROP_BAD_BODY;
	if (why == RP_DROP_NONE && (rp_seq_le(d.seq, n->cur->discarded) || rp_store_holds(n, n->cur, d.seq)))
		why = RP_DROP_DUPLICATE;
	if (why == RP_DROP_NONE && rp_seq_dist(n->cur->discarded, d.seq) > n->cfg.store_slots)
		why = RP_DROP_OUT_OF_WINDOW;
	if (why != RP_DROP_NONE) {
		n->stats.drops[why]++;
		return;
	}
	if (rp_store_put(n, n->cur, d.seq, buf, h->frame_size, lend) && n->cur->high_seq == d.seq)
		n->cur->high_origin = d.origin;
	if ((d.body_flags & RP_DATA_F_RECOVERY) && n->state == RP_STATE_RECOVERY)
		rp_recovery_file(n, &d);
	if (n->dyn) /* a partial topology always is */
		rp_relay_data(n, h, d.origin, d.seq, out); /* a designated relay (§17.4, §9.8) */
	if (n->token_retransmit_at != RP_NEVER && rp_seq_gt(d.seq, n->token_fwd_seq) &&
	    n->state != RP_STATE_COMMIT)
		n->token_retransmit_at = RP_NEVER; /* a node downstream holds the token */
	rp_srp_deliver(n, out);
}

/* A locally held token (ring of one) is visited when there is something to
 * send, to make SAFE, or to finish recovery. */
bool rp_srp_local_work(const struct rp_node *n)
{
	if (!n->token_local)
		return false;
	if (n->state == RP_STATE_RECOVERY)
		return true;
	return n->state == RP_STATE_OPERATIONAL &&
	       (rp_pack_has_work(n) || rp_seq_lt(n->safe_point, n->cur->my_aru));
}

void rp_srp_invariants(const struct rp_node *n)
{
	/* Invariant: discarded <= SAFE point <= my_aru <= high_seq. */
	const struct rp_store *st = n->cur;
	RP_ASSERT(rp_seq_le(st->my_aru, st->high_seq));
	RP_ASSERT(rp_seq_le(st->discarded, n->safe_point));
	RP_ASSERT(rp_seq_le(st->discarded, st->delivered));
	RP_ASSERT(rp_seq_le(st->delivered, st->my_aru));
	RP_ASSERT(rp_seq_le(n->safe_point, st->my_aru));
	RP_ASSERT(rp_seq_dist(st->discarded, st->high_seq) <= n->cfg.store_slots);
	RP_ASSERT(n->token.rtr_count <= n->cfg.rtr_max);
	if (n->old_saved) {
		RP_ASSERT(rp_seq_le(n->old->my_aru, n->old->high_seq));
		RP_ASSERT(rp_seq_le(n->old->delivered, n->old->my_aru) ||
			  n->install == RP_INSTALL_OLD_TRANS || n->install == RP_INSTALL_REGULAR_EVENT);
	}
}
