/* rp_pack.c — submit queues, packing of small messages many to a frame, and
 * fragmentation of large ones (docs/design.md §2; CS `totempg.c`).
 *
 * Owns: one FIFO of waiting messages per priority, and the choice of what
 * goes into the next data frame: highest priority first, each queue in
 * publish order, so FIFO holds per client and priority and a higher
 * priority overtakes only what is not yet sequenced.
 *
 * A message is referenced, never copied here, until its last byte has been
 * packed into a frame; then RP_ACT_SUBMIT_DONE hands it back. So the protocol
 * state never holds a whole large message (only its frames in the store).
 * A message fragmented across frames keeps its fragments contiguous within
 * its stream (origin, client, priority); other streams may interleave.
 */
#include "rp_internal.h"

#include <string.h>

/* Below this many payload bytes left in a frame, a message that does not fit
 * starts the next frame instead of leaving a sliver here. */
#define RP_FRAG_MIN 256u

int rp_pack_submit(struct rp_node *n, const struct rp_input *in)
{
	uint8_t prio = in->submit.priority;
	uint8_t svc = in->submit.service;
	if (prio >= RP_PRIO_COUNT || (svc != RP_SERVICE_AGREED && svc != RP_SERVICE_SAFE))
		return RP_EINVAL;
	if (in->submit.size > n->cfg.message_size_max)
		return RP_E2BIG;
	if (in->submit.size > 0 && in->submit.data == NULL)
		return RP_EINVAL;
	struct rp_queue *q = &n->queues[prio];
	if (q->count >= n->cfg.submit_queue_max)
		return RP_EAGAIN;
	uint32_t tail = q->head + q->count;
	if (tail >= n->cfg.submit_queue_max)
		tail -= n->cfg.submit_queue_max;
	struct rp_pending *m = &q->v[tail];
	m->data = in->submit.data;
	m->size = in->submit.size;
	m->sent = 0;
	m->client_id = in->submit.client_id;
	m->service = svc;
	m->cookie = in->submit.cookie;
	q->count++;
	n->stats.messages_submitted++;
	return RP_OK;
}

bool rp_pack_has_work(const struct rp_node *n)
{
	for (uint32_t p = 0; p < RP_PRIO_COUNT; p++)
		if (n->queues[p].count > 0)
			return true;
	return false;
}

uint32_t rp_pack_backlog(const struct rp_node *n)
{
	uint32_t total = 0;
	for (uint32_t p = 0; p < RP_PRIO_COUNT; p++)
		total += n->queues[p].count;
	return total;
}

static void put_entry(uint8_t *p, const struct rp_pending *m, uint8_t prio, uint32_t chunk,
		      uint8_t flags)
{
	struct rp_wire_entry e = {
		.chunk_size = chunk,
		.msg_size = m->size,
		.frag_offset = m->sent,
		.client_id = m->client_id,
		.service = m->service,
		.priority = prio,
		.flags = flags,
	};
	rp_wire_encode_entry_hdr(p, &e);
	if (chunk > 0)
		memcpy(p + RP_WIRE_ENTRY_HDR_SIZE, m->data + m->sent, chunk);
}

static void pop(struct rp_node *n, struct rp_queue *q, struct rp_actions *out)
{
	struct rp_action *a = rp_action_push(out, RP_ACT_SUBMIT_DONE);
	a->submit_cookie = q->v[q->head].cookie;
	if (++q->head == n->cfg.submit_queue_max)
		q->head = 0;
	q->count--;
}

/* A message partly sequenced in a ring that ended starts again from its
 * first byte in the next ring: receivers drop the incomplete copy at the new
 * regular configuration (docs/design.md §2). Only a queue's head can be partial. */
void rp_pack_restart_partial(struct rp_node *n)
{
	for (uint32_t p = 0; p < RP_PRIO_COUNT; p++) {
		struct rp_queue *q = &n->queues[p];
		if (q->count > 0)
			q->v[q->head].sent = 0;
	}
}

uint32_t rp_pack_frame(struct rp_node *n, uint8_t *buf, uint64_t seq, struct rp_actions *out)
{
	/* leave room to carry this frame whole inside a recovery frame */
	const uint32_t cap = n->cfg.frame_size_max - RP_WIRE_RECOVERY_OVERHEAD;
	uint32_t off = RP_WIRE_HDR_SIZE + RP_WIRE_DATA_HDR_SIZE;
	uint16_t count = 0;
	bool full = false;
	for (uint8_t p = 0; p < RP_PRIO_COUNT && !full; p++) {
		struct rp_queue *q = &n->queues[p];
		while (q->count > 0) {
			struct rp_pending *m = &q->v[q->head];
			uint32_t rem = m->size - m->sent;
			if (cap - off < RP_WIRE_ENTRY_HDR_SIZE || count == UINT16_MAX) {
				full = true;
				break;
			}
			uint32_t space = cap - off - RP_WIRE_ENTRY_HDR_SIZE;
			uint8_t first = m->sent == 0 ? RP_ENTRY_F_FIRST : 0;
			if (rem <= space) {
				put_entry(buf + off, m, p, rem, (uint8_t)(first | RP_ENTRY_F_LAST));
				off += RP_WIRE_ENTRY_HDR_SIZE + rem;
				count++;
				pop(n, q, out);
				continue;
			}
			/* Fragment into the rest of this frame only a message that
			 * would not fit whole in a fresh frame either; otherwise it
			 * starts the next frame and arrives in one piece. */
			bool fits_fresh = rem <= cap - (RP_WIRE_HDR_SIZE + RP_WIRE_DATA_HDR_SIZE) -
						     RP_WIRE_ENTRY_HDR_SIZE;
			if (count == 0 || (!fits_fresh && space >= RP_FRAG_MIN)) {
				put_entry(buf + off, m, p, space, first);
				off += RP_WIRE_ENTRY_HDR_SIZE + space;
				m->sent += space;
				count++;
			}
			full = true;
			break;
		}
	}
	if (count == 0)
		return 0;
	struct rp_wire_hdr h;
	rp_hdr_init(n, &h, n->ring);
	h.type = RP_FRAME_DATA;
	h.frame_size = off;
	rp_wire_encode_hdr(buf, &h);
	struct rp_wire_data d = {.seq = seq, .origin = n->cfg.node_id, .entry_count = count};
	rp_wire_encode_data_hdr(buf + RP_WIRE_HDR_SIZE, &d);
	return off;
}
