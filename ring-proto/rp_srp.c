/* rp_srp.c — Totem single-ring ordering: the token visit, the frame store,
 * retransmission, flow control, AGREED and SAFE delivery, discard.
 *
 * Implements TOCS §5 (ordering), §8 (flow control); TOTEM-NOTES §2–3.
 * Deviations, each also listed in docs/protocol.md:
 *  - Sequence numbers are u64 with serial comparison (rp_seq.h); no -1
 *    sentinels: the ring starts at cfg.initial_seq.
 *  - Spread's gap cap (SPR FC_allowed): no new frame while token.seq - token.aru
 *    would exceed store_slots - 2 * window_size, and none the sender's own
 *    store cannot hold.
 *  - A node requests retransmission only of seqs at or below the token.seq it
 *    forwarded on its previous visit (SPR / Accelerated Ring rule 3): frames
 *    newer than that may still be in flight, so asking would only add load.
 *  - The token-retransmit timer is cancelled by the token's return or by a
 *    data frame newer than the token we forwarded (proof that a downstream
 *    node holds it), not by any frame (TOCS) nor only by tokens (CS).
 *  - A fair-share of 0 is ignored when the node has a backlog (CS).
 *  - Delivery happens after the token is forwarded (CS), and discard is
 *    deferred to the start of the next step so that the bytes of every
 *    delivery stay valid until the caller's next rp_step().
 *
 * Never: acts on a token twice (token_seq filter); discards a frame beyond
 * min(safe point, delivered).
 */
#include "rp_internal.h"

#include <string.h>

struct rp_slot *rp_slot_of(const struct rp_node *n, uint64_t seq)
{
	return &n->slots[seq & n->store_mask];
}

uint8_t *rp_slot_frame(const struct rp_node *n, uint64_t seq)
{
	return n->frames + (size_t)(seq & n->store_mask) * n->cfg.frame_size_max;
}

static bool holds(const struct rp_node *n, uint64_t seq)
{
	const struct rp_slot *s = rp_slot_of(n, seq);
	return s->size != 0 && s->seq == seq;
}

static uint16_t me(const struct rp_node *n) { return n->cfg.node_id; }

void rp_srp_start(struct rp_node *n)
{
	const struct rp_config *c = &n->cfg;
	n->state = RP_STATE_OPERATIONAL;
	n->member_count = c->member_count;
	memcpy(n->members, c->members, sizeof(n->members));
	for (uint16_t i = 0; i < n->member_count; i++)
		if (n->members[i] == c->node_id)
			n->my_index = i;
	n->successor = n->members[(n->my_index + 1u) % n->member_count];
	/* Stored ring seq + 1 (TOTEM-NOTES §8 item 7): ring ids never repeat. */
	n->ring.rep = n->members[0];
	n->ring.seq = c->ring_seq + 1u;
	uint64_t s0 = c->initial_seq;
	n->my_aru = n->high_seq = n->discarded = n->delivered = s0;
	n->safe_point = s0;
	n->fwd_aru[0] = n->fwd_aru[1] = s0;
	n->prev_visit_seq = s0;
	n->my_token_seq = s0;
	n->my_last_aru = s0;
	n->token_retransmit_at = UINT64_MAX;
	n->config_pending = true;
	if (n->ring.rep == c->node_id) {
		/* The representative originates the ring's first token. */
		memset(&n->token, 0, sizeof(n->token));
		n->token.token_seq = s0 + 1u;
		n->token.seq = s0;
		n->token.aru = s0;
		n->token.dest = c->node_id;
		n->token_local = true;
		n->token_fresh = true;
	}
}

static void advance_aru(struct rp_node *n)
{
	while (rp_seq_lt(n->my_aru, n->high_seq) && holds(n, n->my_aru + 1u))
		n->my_aru++;
}

/* Frees stored frames every member holds and this node has delivered
 * (TOCS §5.1; TOTEM-NOTES §2.6). */
static void discard(struct rp_node *n)
{
	uint64_t upto = rp_seq_min(n->safe_point, n->delivered);
	while (rp_seq_lt(n->discarded, upto)) {
		n->discarded++;
		struct rp_slot *s = rp_slot_of(n, n->discarded);
		if (s->seq == n->discarded)
			s->size = 0;
	}
}

/* Entries of a stored frame: validated at receipt, so only located here. */
static void frame_entries(const struct rp_node *n, uint64_t seq, const uint8_t **entries,
			  size_t *size, uint16_t *count, uint16_t *origin)
{
	const uint8_t *f = rp_slot_frame(n, seq);
	uint32_t frame_size = rp_slot_of(n, seq)->size;
	uint16_t hdr_size = rp_get16(f + 6);
	const uint8_t *body = f + hdr_size;
	uint16_t body_hdr = rp_get16(body + 12);
	*origin = rp_get16(body + 8);
	*count = rp_get16(body + 10);
	*entries = body + body_hdr;
	*size = (size_t)frame_size - hdr_size - body_hdr;
}

static bool is_whole(const struct rp_wire_entry *e)
{
	return (e->flags & (RP_ENTRY_F_FIRST | RP_ENTRY_F_LAST)) == (RP_ENTRY_F_FIRST | RP_ENTRY_F_LAST);
}

/* Test-only protocol bugs (rp_mutation). Returns true to skip the delivery. */
static bool mutate(struct rp_node *n, const struct rp_wire_entry *e, struct rp_actions *out)
{
	if (n->cfg.mutation == RP_MUTATION_NONE || n->mutation_done || !is_whole(e))
		return false;
	n->mutation_count++;
	if (n->mutation_count < 20)
		return false;
	if (n->cfg.mutation == RP_MUTATION_DROP_DELIVERY) {
		n->mutation_done = true;
		return true;
	}
	if (n->cfg.mutation == RP_MUTATION_SWAP_DELIVERIES && out->count > 0) {
		struct rp_action *prev = &out->v[out->count - 1];
		if (prev->kind == RP_ACT_DELIVER &&
		    (prev->deliver.flags & (RP_ENTRY_F_FIRST | RP_ENTRY_F_LAST)) ==
			    (RP_ENTRY_F_FIRST | RP_ENTRY_F_LAST)) {
			n->mutation_done = true; /* the caller swaps after pushing */
		}
	}
	return false;
}

/* Delivers, in seq order, every entry that is ready: AGREED once all earlier
 * frames are held; SAFE once its seq is at or below the safe point. A waiting
 * SAFE message blocks everything after it (TOCS §5.2; TOTEM-NOTES §2.5). */
void rp_srp_deliver(struct rp_node *n, struct rp_actions *out)
{
	n->deliver_more = false;
	uint64_t safe = n->cfg.mutation == RP_MUTATION_EARLY_SAFE ? n->my_aru : n->safe_point;
	while (rp_seq_lt(n->delivered, n->my_aru)) {
		uint64_t s = n->delivered + 1u;
		const uint8_t *entries;
		size_t size;
		uint16_t count, origin;
		frame_entries(n, s, &entries, &size, &count, &origin);
		while (n->deliver_entry < count) {
			struct rp_wire_entry e;
			size_t off = n->deliver_off;
			RP_ASSERT(off + RP_WIRE_ENTRY_HDR_SIZE <= size);
			rp_wire_entry_read(entries + off, &e);
			off += RP_WIRE_ENTRY_HDR_SIZE + (size_t)e.chunk_size;
			RP_ASSERT(off <= size);
			if (e.service == RP_SERVICE_SAFE && (e.flags & RP_ENTRY_F_LAST) && rp_seq_gt(s, safe))
				return;
			if (!rp_actions_room(out, 1)) {
				n->deliver_more = true;
				return;
			}
			bool done_before = n->mutation_done;
			if (!mutate(n, &e, out)) {
				struct rp_action *a = rp_action_push(out, RP_ACT_DELIVER);
				struct rp_delivery *d = &a->deliver;
				d->ring = n->ring;
				d->seq = s;
				d->entry_index = n->deliver_entry;
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
				if (!done_before && n->mutation_done && out->count >= 2) {
					struct rp_action tmp = out->v[out->count - 1];
					out->v[out->count - 1] = out->v[out->count - 2];
					out->v[out->count - 2] = tmp;
				}
			}
			n->deliver_entry++;
			n->deliver_off = off;
		}
		n->delivered = s;
		n->deliver_entry = 0;
		n->deliver_off = 0;
	}
}

static void send_token(struct rp_node *n, uint64_t now_ns, struct rp_actions *out)
{
	struct rp_wire_hdr h = {
		.version = RP_WIRE_VERSION_MAX,
		.sender = me(n),
		.incarnation = n->cfg.incarnation,
		.ring = n->ring,
	};
	n->token_buf_size = (uint32_t)rp_wire_encode_token(n->token_buf, &h, &n->token);
	rp_emit_send(n, out, n->token_buf, n->token_buf_size, n->successor);
	n->token_retransmit_at = now_ns + n->cfg.token_retransmit_ns;
	n->token_fwd_seq = n->token.seq;
}

/* Retransmits a stored frame on behalf of its origin (TOCS §5.2: rtr
 * entries are served by any node that holds the frame). */
static void retransmit(struct rp_node *n, uint64_t seq, struct rp_actions *out)
{
	uint8_t *f = rp_slot_frame(n, seq);
	rp_put16(f + 4, (uint16_t)(rp_get16(f + 4) | RP_HDR_F_RETRANS));
	rp_put16(f + 12, me(n));
	rp_put64(f + 16, n->cfg.incarnation);
	rp_emit_send(n, out, f, rp_slot_of(n, seq)->size, RP_DEST_ALL);
	n->stats.frames_retransmitted++;
}

/* TOCS §8.2 flow control: frames this visit may send (new + retransmitted). */
static uint32_t visit_budget(struct rp_node *n, uint32_t my_tbl)
{
	const struct rp_config *c = &n->cfg;
	const struct rp_wire_token *t = &n->token;
	int64_t allowed = c->max_messages;
	int64_t room = (int64_t)c->window_size - (int64_t)t->fcc;
	if (room < allowed)
		allowed = room;
	int64_t denom = (int64_t)t->backlog + my_tbl - n->my_pbl;
	if (denom > 0 && my_tbl > 0) {
		int64_t share = (int64_t)c->window_size * my_tbl / denom;
		if (share == 0)
			share = 1;
		if (share < allowed)
			allowed = share;
	}
	return allowed < 0 ? 0u : (uint32_t)allowed;
}

static bool rtr_listed(const struct rp_wire_token *t, uint64_t seq)
{
	for (uint32_t i = 0; i < t->rtr_count; i++)
		if (t->rtr[i] == seq)
			return true;
	return false;
}

/* Serves the retransmission requests this node can; keeps the others. */
static uint32_t serve_rtr(struct rp_node *n, uint32_t allowed, struct rp_actions *out)
{
	struct rp_wire_token *t = &n->token;
	uint32_t sent = 0, kept = 0;
	for (uint32_t i = 0; i < t->rtr_count; i++) {
		uint64_t s = t->rtr[i];
		if (rp_seq_le(s, n->discarded) && !holds(n, s))
			continue; /* every member holds it: a stale request */
		if (sent < allowed && holds(n, s)) {
			retransmit(n, s, out);
			sent++;
			continue;
		}
		t->rtr[kept++] = s;
	}
	t->rtr_count = (uint16_t)kept;
	return sent;
}

/* Sequences and sends new frames while the budget, the gap cap, this node's
 * store and the actions buffer allow. */
static uint32_t send_new(struct rp_node *n, uint32_t budget, struct rp_actions *out)
{
	const struct rp_config *c = &n->cfg;
	struct rp_wire_token *t = &n->token;
	uint64_t gap_max = (uint64_t)c->store_slots - 2u * (uint64_t)c->window_size;
	uint32_t sent = 0;
	uint32_t notices = c->frame_size_max / RP_WIRE_ENTRY_HDR_SIZE;
	/* room for this frame and its submit-done notices, the rest of the
	 * visit's sends, and the token */
	while (sent < budget && rp_pack_has_work(n) &&
	       rp_actions_room(out, (budget - sent) + notices + 2u)) {
		uint64_t seq = t->seq + 1u;
		if (rp_seq_dist(t->aru, seq) > gap_max)
			break;
		if (rp_seq_dist(n->discarded, seq) > (uint64_t)c->store_slots)
			break;
		struct rp_slot *slot = rp_slot_of(n, seq);
		RP_ASSERT(slot->size == 0);
		uint8_t *f = rp_slot_frame(n, seq);
		uint32_t size = rp_pack_frame(n, f, seq, out);
		if (size == 0)
			break;
		slot->seq = seq;
		slot->size = size;
		t->seq = seq;
		n->high_seq = seq;
		if (n->member_count > 1)
			rp_emit_send(n, out, f, size, RP_DEST_ALL);
		n->stats.frames_sent++;
		sent++;
	}
	return sent;
}

/* Adds this node's missing seqs to the token's rtr list (TOCS §5.2). */
static void request_rtr(struct rp_node *n)
{
	struct rp_wire_token *t = &n->token;
	uint64_t limit = rp_seq_min(t->seq, n->prev_visit_seq);
	for (uint64_t s = n->my_aru + 1u; rp_seq_le(s, limit); s++) {
		if (t->rtr_count >= n->cfg.rtr_max)
			break;
		if (holds(n, s) || rtr_listed(t, s))
			continue;
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

/* One token visit (TOCS Fig 3; TOTEM-NOTES §2.1 steps 3–9). */
static void visit(struct rp_node *n, uint64_t now_ns, struct rp_actions *out)
{
	struct rp_wire_token *t = &n->token;
	n->token_fresh = false;
	uint32_t my_tbl = rp_pack_backlog(n);
	uint32_t allowed = visit_budget(n, my_tbl);
	uint32_t trc = serve_rtr(n, allowed, out);
	trc += send_new(n, allowed - trc, out);
	advance_aru(n);

	/* The aru rule (TOCS §5.2; TOTEM-NOTES §2.3). */
	if (rp_seq_lt(n->my_aru, t->aru) || t->aru_id == me(n) || t->aru_id == 0) {
		t->aru = n->my_aru;
		t->aru_id = t->aru == t->seq ? 0 : me(n);
	}
	if (t->aru == n->my_last_aru && t->aru_id != 0)
		n->my_aru_count++;
	else
		n->my_aru_count = 0;
	n->my_last_aru = t->aru;

	request_rtr(n);
	t->fcc = add_clamped(t->fcc, (int64_t)trc - n->my_trc_prev);
	n->my_trc_prev = trc;
	my_tbl = rp_pack_backlog(n);
	t->backlog = add_clamped(t->backlog, (int64_t)my_tbl - n->my_pbl);
	n->my_pbl = my_tbl;
	t->token_seq++;
	t->dest = n->successor;
	n->my_token_seq = t->token_seq;

	n->fwd_aru[1] = n->fwd_aru[0];
	n->fwd_aru[0] = t->aru;
	n->safe_point = rp_seq_min(n->fwd_aru[0], n->fwd_aru[1]);
	n->prev_visit_seq = t->seq;

	if (n->successor == me(n)) {
		n->token_local = true; /* a ring of one keeps its token */
	} else {
		n->token_local = false;
		send_token(n, now_ns, out);
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
	n->token_retransmit_at = UINT64_MAX; /* it came back: the ring holds it */
	memcpy(&n->token, &t, offsetof(struct rp_wire_token, rtr) + (size_t)t.rtr_count * sizeof(uint64_t));
	discard(n);
	visit(n, now_ns, out);
}

void rp_srp_on_data(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf,
		    uint64_t now_ns, struct rp_actions *out)
{
	(void)now_ns;
	struct rp_wire_data d;
	enum rp_drop why = rp_wire_decode_data(buf, h, &d);
	if (why == RP_DROP_NONE && h->frame_size > n->cfg.frame_size_max)
		why = RP_DROP_BAD_FRAME_SIZE;
	if (why == RP_DROP_NONE && (rp_seq_le(d.seq, n->discarded) || holds(n, d.seq)))
		why = RP_DROP_DUPLICATE;
	if (why == RP_DROP_NONE && rp_seq_dist(n->discarded, d.seq) > n->cfg.store_slots)
		why = RP_DROP_OUT_OF_WINDOW;
	if (why != RP_DROP_NONE) {
		n->stats.drops[why]++;
		return;
	}
	discard(n);
	struct rp_slot *slot = rp_slot_of(n, d.seq);
	RP_ASSERT(slot->size == 0);
	memcpy(rp_slot_frame(n, d.seq), buf, h->frame_size);
	slot->seq = d.seq;
	slot->size = h->frame_size;
	n->high_seq = rp_seq_max(n->high_seq, d.seq);
	advance_aru(n);
	if (n->token_retransmit_at != UINT64_MAX && rp_seq_gt(d.seq, n->token_fwd_seq))
		n->token_retransmit_at = UINT64_MAX; /* a node downstream holds the token */
	rp_srp_deliver(n, out);
}

/* A locally held token is processed at once when the ring has other members
 * (the representative's first token); a ring of one visits itself only when
 * it has something to send or to make SAFE. */
static bool local_work(const struct rp_node *n)
{
	return n->token_local && (n->member_count > 1 || n->token_fresh || rp_pack_has_work(n) ||
				  rp_seq_lt(n->safe_point, n->my_aru));
}

void rp_srp_on_tick(struct rp_node *n, uint64_t now_ns, struct rp_actions *out)
{
	if (n->token_retransmit_at <= now_ns) {
		rp_emit_send(n, out, n->token_buf, n->token_buf_size, n->successor);
		n->token_retransmit_at = now_ns + n->cfg.token_retransmit_ns;
		n->stats.tokens_retransmitted++;
	}
	if (local_work(n)) {
		discard(n);
		visit(n, now_ns, out);
	} else if (n->deliver_more) {
		rp_srp_deliver(n, out);
	}
}

uint64_t rp_srp_deadline(const struct rp_node *n)
{
	if (n->deliver_more || local_work(n))
		return 0;
	return n->token_retransmit_at;
}

void rp_srp_invariants(const struct rp_node *n)
{
	/* TOTEM-NOTES §9: discarded <= SAFE point <= my_aru <= high_seq. */
	RP_ASSERT(rp_seq_le(n->my_aru, n->high_seq));
	RP_ASSERT(rp_seq_le(n->discarded, n->safe_point));
	RP_ASSERT(rp_seq_le(n->discarded, n->delivered));
	RP_ASSERT(rp_seq_le(n->delivered, n->my_aru));
	RP_ASSERT(rp_seq_le(n->safe_point, n->my_aru));
	RP_ASSERT(rp_seq_dist(n->discarded, n->high_seq) <= n->cfg.store_slots);
	RP_ASSERT(n->token.rtr_count <= n->cfg.rtr_max);
}
