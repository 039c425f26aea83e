/* eng_clients.c — the worker's side of client attach (docs/attach.md):
 * draining submit rings into ring-proto, fanning deliveries out to client
 * delivery rings by group, group operations and views in delivery order,
 * the group-state exchange after a merge, wake-ups, eviction and retiring
 * detached clients.
 *
 * Owns: everything a client's engine side holds, and the group table.
 *
 * Never: trusts a byte of a client's region (every record is checked; a
 * client that breaks the layout is evicted, nobody else notices), blocks on
 * a client, or drops a delivery for a client it has not evicted.
 *
 * Thread context: the worker lcore only. It reads the client table through
 * liburcu QSBR (rcu_dereference); the control thread publishes and retires
 * tables (eng_control.c).
 */
#include "eng_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <urcu-qsbr.h>

#include "eng_arena.h"
#include "eng_groups.h"
#include "ordo.h"

#define ENG_DRAIN_MAX 64u        /* records taken from one client per duty cycle */
#define ENG_OP_PRIORITY 0u       /* group operations go first */

/* ---- small helpers ---- */

static uint64_t cookie_client(uint16_t slot, uint32_t idx)
{
	return ENG_COOKIE_CLIENT | ((uint64_t)slot << 32) | idx;
}

static struct eng_client *client_at(struct eng *e, uint16_t slot)
{
	return slot < e->cfg.max_clients ? e->cl_by_slot[slot] : NULL;
}

/* A client's id says its slot (eng_control.c: id % max_clients == slot). */
static struct eng_client *client_by_id(struct eng *e, uint32_t id)
{
	struct eng_client *c = e->cl_by_slot[id % e->cfg.max_clients];
	return c != NULL && c->id == id ? c : NULL;
}

/* The assembly buffers of large messages (eng_create sized them): one of
 * message_size_max bytes, or NULL if every one is taken. */
static uint8_t *asm_get(struct eng *e) { return e->asm_free_count != 0 ? e->asm_free[--e->asm_free_count] : NULL; }
static void asm_put(struct eng *e, uint8_t *b) { e->asm_free[e->asm_free_count++] = b; }

/* This node's clients in g that are still here (the group table lists
 * members in delivery order; a client may have gone before its leave). */
#define FOR_LOCAL(e, g, c)                                                                     \
	for (uint32_t first_, n_ = eg_node_range((g), (e)->cfg.rp.node_id, &first_), k_ = 0; k_ < n_; k_++) \
		if (((c) = client_by_id((e), (g)->m[first_ + k_].client)) != NULL)

/* ---- delivery records ---- */

/* Appends a record to a client's overflow queue; -1 if it is full. */
static int overflow_put(struct eng_client *c, uint16_t type, uint16_t flags, const uint8_t *const *parts,
			const uint32_t *lens, uint32_t nparts, uint32_t length)
{
	uint32_t need = 8u + att_pad8(length);
	if (c->ov_size - c->ov_tail < need && c->ov_head > 0) {
		/* compact: move what is queued to the front */
		memmove(c->overflow, c->overflow + c->ov_head, c->ov_tail - c->ov_head);
		c->ov_tail -= c->ov_head;
		c->ov_head = 0;
	}
	if (c->ov_size - c->ov_tail < need)
		return -1; /* its size was fixed at attach (eng_control.c) */
	uint8_t *at = c->overflow + c->ov_tail;
	shm_ring_put_hdr(at, length, type, flags);
	uint32_t off = 8;
	for (uint32_t i = 0; i < nparts; i++) {
		memcpy(at + off, parts[i], lens[i]);
		off += lens[i];
	}
	c->ov_tail += need;
	return 0;
}

static void evict(struct eng *e, struct eng_client *c, uint32_t reason, const char *why);
static uint32_t overflow_flush(struct eng_client *c);

/* Whether a record just written into a delivery ring is worth waking its
 * client for (docs/attach.md §6): anything but a piece of a message that
 * does not end it. A client woken for such a piece could only hold it (or
 * copy it, assembling) and sleep again: at MTU 1500 a 64 KiB message is
 * ~47 pieces, delivered over several duty cycles. Pieces still wake it
 * once they fill half of its ring, which it must drain (or, holding them
 * in ORDO_RECEIVE_PIECES, spill) for the pieces that complete the message
 * to fit. */
static int record_wakes(struct shm_ring_prod *ring, uint16_t type, uint16_t flags)
{
	if (type != ATT_REC_MESSAGE || (flags & ATT_F_LAST))
		return 1;
	return shm_ring_prod_used(ring) >= (ring->mask + 1u) / 2u;
}

/* Writes one record (the concatenation of parts) for a client: into its
 * delivery ring, or behind what already waits in its overflow queue. */
static void put_record(struct eng *e, struct eng_client *c, uint16_t type, uint16_t flags,
		       const uint8_t *const *parts, const uint32_t *lens, uint32_t nparts)
{
	if (c->state != ENG_CL_ACTIVE)
		return;
	uint32_t length = 0;
	for (uint32_t i = 0; i < nparts; i++)
		length += lens[i];
	if (c->ov_head != c->ov_tail)
		(void)overflow_flush(c); /* the client may have drained meanwhile */
	if (c->ov_head == c->ov_tail) {
		enum shm_ring_status st;
		uint8_t *p = shm_ring_reserve(&c->deliver, length, &st);
		if (p != NULL) {
			for (uint32_t i = 0; i < nparts; i++) {
				memcpy(p, parts[i], lens[i]);
				p += lens[i];
			}
			shm_ring_commit(&c->deliver, length, type, flags);
			if (record_wakes(&c->deliver, type, flags))
				c->need_wake = 1;
			return;
		}
		if (st == SHM_RING_GARBAGE) {
			evict(e, c, ORDO_REASON_EVICTED, "delivery ring garbage");
			return;
		}
		if (st == SHM_RING_TOOBIG) {
			e->cnt.deliveries_too_big++;
			return;
		}
		if (c->stalled_since_ns == 0)
			c->stalled_since_ns = e->now_ns;
		c->need_wake = 1; /* a full ring: whatever waits there, it must drain */
	}
	if (overflow_put(c, type, flags, parts, lens, nparts, length) != 0)
		evict(e, c, ORDO_REASON_EVICTED, "its overflow queue is full");
}

/* Moves overflow into the delivery ring while it fits; returns records moved. */
static uint32_t overflow_flush(struct eng_client *c)
{
	uint32_t n = 0;
	while (c->ov_head != c->ov_tail) {
		uint8_t *at = c->overflow + c->ov_head;
		uint32_t length;
		uint16_t type, flags;
		memcpy(&length, at, 4);
		memcpy(&type, at + 4, 2);
		memcpy(&flags, at + 6, 2);
		enum shm_ring_status st;
		uint8_t *p = shm_ring_reserve(&c->deliver, length, &st);
		if (p == NULL)
			break;
		memcpy(p, at + 8, length);
		shm_ring_commit(&c->deliver, length, type, flags);
		c->ov_head += 8u + att_pad8(length);
		c->need_wake = 1;
		n++;
	}
	if (c->ov_head == c->ov_tail) {
		c->ov_head = c->ov_tail = 0;
		c->stalled_since_ns = 0;
	} else if (n > 0) {
		c->stalled_since_ns = 0; /* it drains, if slowly */
	}
	return n;
}

static void wake(struct eng_client *c)
{
	if (c->room_freed) {
		/* Dekker with ordo_prepare_sleep: our release of submit bytes
		 * (retire), this fence, then the load of `wants_room`; the
		 * client stores `sleeping`, then `wants_room` (release),
		 * fences, then looks at the submit ring's tail. */
		c->room_freed = 0;
		atomic_thread_fence(memory_order_seq_cst);
		if (atomic_load_explicit(&c->hdr->wants_room, memory_order_relaxed) != 0 &&
		    atomic_exchange_explicit(&c->hdr->wants_room, 0, memory_order_acquire) != 0)
			c->need_wake = 1;
	}
	if (!c->need_wake)
		return;
	c->need_wake = 0;
	/* Dekker with the client (docs/attach.md §6): our ring stores, then
	 * this fence, then the load of `sleeping`; the client stores
	 * `sleeping`, fences, then looks at the ring. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&c->hdr->sleeping, memory_order_relaxed) != 0 &&
	    atomic_exchange_explicit(&c->hdr->sleeping, 0, memory_order_relaxed) != 0) {
		/* taken (ATT_ENGINE_TAKES): the client, exchanging it back,
		 * finds 0 and knows this write comes */
		uint64_t one = 1;
		ssize_t w = write(c->event_fd, &one, sizeof(one));
		(void)w;
	}
}

/* ---- group operations (through the total order) ---- */

/* GROUP_OP envelope (attach_proto.h): u8 kind, u8 op, u16 node, u32
 * count, then count entries: u8 group_len, u8 reason, u16 0, u32 client,
 * group padded to 8. */

/* Room in the ops arena for an engine message of size bytes: a client's
 * JOIN or LEAVE record (from_client) may use half of ENG_OPS_BYTES, leaving
 * the rest to what the engine must queue itself (the largest SYNC, leaves
 * of clients that go, key states),
 * and waits for room (back-pressure); the engine's own messages that do not
 * fit are lost, counted. NULL if no room. */
static uint8_t *op_put(struct eng *e, uint32_t size, int from_client)
{
	if (from_client && eng_arena_free(&e->ops) < e->ops.size - ENG_OPS_BYTES / 2u + ENG_ARENA_HDR + size)
		return NULL;
	uint8_t *p = eng_arena_put(&e->ops, size);
	if (p == NULL && !from_client)
		e->cnt.group_ops_lost++;
	return p;
}

int eng_clients_queue_op(struct eng *e, const uint8_t *buf, uint32_t size)
{
	uint8_t *p = op_put(e, size, 0);
	if (p == NULL)
		return -1;
	memcpy(p, buf, size);
	return 0;
}

/* Builds a GROUP_OP with one entry and queues it for submission; -1 if
 * the arena has no room for it now. */
static int queue_op(struct eng *e, uint8_t op, const uint8_t *group, uint8_t glen, uint32_t client,
		    uint8_t reason, int from_client)
{
	uint8_t *b = op_put(e, ATT_OP_HDR + att_op_entry_size(glen), from_client);
	if (b == NULL)
		return -1;
	att_op_put_hdr(b, op, e->cfg.rp.node_id, 1);
	(void)att_op_put_entry(b + ATT_OP_HDR, group, glen, reason, client);
	return 0;
}

/* Submits queued engine messages while ring-proto takes them. */
static uint32_t ops_pump(struct eng *e)
{
	uint32_t n = 0, len;
	uint8_t *p;
	while ((p = eng_arena_next(&e->ops, &len)) != NULL) {
		struct rp_input in = rp_input_submit(p, len, 0, RP_SERVICE_AGREED, ENG_OP_PRIORITY,
						     ENG_COOKIE_BUF | (uint64_t)(uintptr_t)p);
		int rc = eng_step(e, &in);
		/* no quorum, or left: group ops wait for a configuration that takes them */
		if (rc == RP_EAGAIN || rc == RP_ENOQUORUM)
			break;
		eng_arena_handed(&e->ops);
		if (rc != RP_OK) {
			eng_arena_done(&e->ops, p);
			e->cnt.group_ops_lost++;
		}
		eng_arena_retire(&e->ops); /* ring-proto may have returned it already */
		n++;
	}
	return n;
}

/* A VIEW record carries the table's member list as it is: never copied
 * into a list of another size, so never cut short. */
_Static_assert(sizeof(struct eg_member) == sizeof(struct att_member) &&
		       offsetof(struct eg_member, client) == offsetof(struct att_member, client),
	       "a view's member list is the group table's, as it is");

/* Sends a VIEW of g to its local members (and to extra, a local client that
 * just left it): the member list straight from the table. */
static void send_view(struct eng *e, const struct eg_group *g, int transitional,
		      const struct eg_member *joined, uint32_t nj, const struct eg_member *left,
		      uint32_t nl, struct eng_client *extra)
{
	struct att_view v = {.group_len = g->len, .transitional = (uint8_t)transitional,
			     .member_count = g->count, .joined_count = nj, .left_count = nl,
			     .ring_rep = e->ring.rep, .ring_seq = e->ring.seq};
	uint8_t gname[32] = {0};
	memcpy(gname, g->name, g->len);
	const uint8_t *parts[5] = {(const uint8_t *)&v, gname, (const uint8_t *)g->m, (const uint8_t *)joined,
				   (const uint8_t *)left};
	uint32_t lens[5] = {sizeof(v), att_pad8(g->len), g->count * (uint32_t)sizeof(*g->m),
			    nj * (uint32_t)sizeof(*joined), nl * (uint32_t)sizeof(*left)};
	struct eng_client *c;
	FOR_LOCAL(e, g, c)
		if (c != extra)
			put_record(e, c, ATT_REC_VIEW, 0, parts, lens, 5);
	if (extra != NULL)
		put_record(e, extra, ATT_REC_VIEW, 0, parts, lens, 5);
}

/* A JOIN of this node's client that the table refused (alike at every
 * node): the client is told. */
static void join_refused(struct eng *e, uint32_t client, const uint8_t *group, uint8_t glen, int rc)
{
	e->cnt.joins_refused++;
	struct eng_client *c = client_by_id(e, client);
	if (c == NULL)
		return;
	struct att_join_refused r = {.err = rc == EG_EGROUPS ? ORDO_EGROUPS : ORDO_EMEMBERS, .group_len = glen};
	memcpy(r.group, group, glen);
	const uint8_t *parts[1] = {(const uint8_t *)&r};
	uint32_t lens[1] = {sizeof(r)};
	put_record(e, c, ATT_REC_JOIN_REFUSED, 0, parts, lens, 1);
}

/* Applies one JOIN or LEAVE entry at its point of the order. */
static void apply_entry(struct eng *e, uint8_t op, uint16_t node, const uint8_t *group, uint8_t glen,
			uint32_t client, uint8_t reason)
{
	struct eg_member ch = {.node = node, .reason = reason, .client = client};
	int mine = node == e->cfg.rp.node_id;
	struct eng_client *local = mine ? client_by_id(e, client) : NULL;
	const struct eg_group *g = NULL;
	if (op == ATT_OP_JOIN) {
		int rc = eg_join(e->groups, group, glen, node, client, reason, &g);
		if (rc == EG_EGROUPS || rc == EG_EMEMBERS) {
			if (mine)
				join_refused(e, client, group, glen, rc);
			else
				e->cnt.joins_refused++;
			return;
		}
		if (rc != EG_OK)
			return;
		send_view(e, g, 0, &ch, 1, NULL, 0, NULL);
		if (mine && (local == NULL || local->state != ENG_CL_ACTIVE))
			/* it joined after it went away: take it out again */
			(void)queue_op(e, ATT_OP_LEAVE, group, glen, client, ORDO_REASON_DISCONNECT, 0);
	} else if (eg_leave(e->groups, group, glen, node, client, &g) == EG_OK) {
		/* g stays readable (count 0 if it went) until the next change */
		send_view(e, g, 0, NULL, 0, &ch, 1, local);
	}
}

/* A GROUP_OP envelope, whole and validated here (it comes from the wire
 * through the total order: every node drops the same invalid ones). */
static void on_group_op(struct eng *e, uint16_t origin, const uint8_t *b, uint32_t size, int replay);

/* An operation delivered during the exchange waits in the deferred arena
 * (ENG_DEFER_BYTES at every node, emptied at every exchange: every node
 * of the configuration defers the same operations into the same room). One
 * that does not fit is dropped at every node alike, and the node it came
 * from queues it again, to be ordered after the exchange. */
static void defer_op(struct eng *e, uint16_t origin, const uint8_t *b, uint32_t size)
{
	uint8_t *p = eng_arena_put(&e->deferred, size + 2u);
	if (p != NULL) {
		memcpy(p, &origin, 2);
		memcpy(p + 2, b, size);
		return;
	}
	e->cnt.ops_deferred_full++;
	if (origin == e->cfg.rp.node_id)
		(void)eng_clients_queue_op(e, b, size);
}

static void apply_deferred(struct eng *e)
{
	uint32_t len;
	uint8_t *p;
	while ((p = eng_arena_next(&e->deferred, &len)) != NULL) {
		eng_arena_handed(&e->deferred);
		uint16_t origin;
		memcpy(&origin, p, 2);
		on_group_op(e, origin, p + 2, len - 2u, 1);
	}
	eng_arena_clear(&e->deferred);
}

/* The next entry of a GROUP_OP; -1 (counted: a bad envelope) if it does
 * not fit. */
static int next_entry(struct eng *e, const uint8_t *b, uint32_t size, uint32_t *off, struct att_op_entry *en)
{
	if (att_op_get_entry(b, size, off, ORDO_GROUP_NAME_MAX, en) == 0)
		return 0;
	e->cnt.client_bad_envelopes++;
	return -1;
}

/* Views after a bulk change of the table: members of departed nodes left
 * (a transitional configuration), or the group-state exchange replaced the
 * table (joined: members of nodes that came, left: who is no longer). */
struct view_ctx {
	struct eng *e;
	int transitional;
};

static void on_changed(void *arg, const struct eg_group *g, const struct eg_member *joined, uint32_t nj,
		       const struct eg_member *left, uint32_t nl)
{
	struct view_ctx *v = arg;
	struct eng *e = v->e;
	/* the reasons a bulk change gives: scratch lists of max_group_members */
	for (uint32_t i = 0; i < nj; i++) {
		e->view_joined[i] = joined[i];
		e->view_joined[i].reason = ORDO_REASON_NODE_JOINED;
	}
	for (uint32_t i = 0; i < nl; i++) {
		e->view_left[i] = left[i];
		e->view_left[i].reason = ORDO_REASON_NODE_LEFT;
	}
	send_view(e, g, v->transitional, e->view_joined, nj, e->view_left, nl, NULL);
}

/* Completes the group-state exchange: every node of the configuration has
 * said which of its clients are in which groups. */
static void sync_complete(struct eng *e)
{
	struct view_ctx v = {.e = e, .transitional = 0};
	eg_sync_end(e->groups, on_changed, &v);
	e->sync.active = 0;
	apply_deferred(e);
}

static void on_sync(struct eng *e, uint16_t origin, const uint8_t *b, uint32_t size, uint32_t count, int last)
{
	uint64_t bit = 1ull << (origin - 1u);
	if (!e->sync.active || !(e->sync.waiting & bit))
		return; /* a sync of an earlier configuration */
	uint32_t off = ATT_OP_HDR;
	struct att_op_entry en;
	for (uint32_t i = 0; i < count && next_entry(e, b, size, &off, &en) == 0; i++) {
		/* refused alike at every node (the new table's limits, in the
		 * SYNCs' delivery order) */
		int rc = eg_sync_add(e->groups, en.group, en.group_len, origin, en.client, en.reason);
		if (rc == EG_EGROUPS || rc == EG_EMEMBERS)
			e->cnt.joins_refused++;
	}
	if (!last)
		return; /* more pieces of this node's SYNC follow */
	e->sync.waiting &= ~bit;
	if (e->sync.waiting == 0)
		sync_complete(e);
}

static void on_group_op(struct eng *e, uint16_t origin, const uint8_t *b, uint32_t size, int replay)
{
	if (size < ATT_OP_HDR) {
		e->cnt.client_bad_envelopes++;
		return;
	}
	uint8_t op;
	uint16_t node;
	uint32_t count;
	att_op_get_hdr(b, &op, &node, &count);
	if (node != origin ||
	    (op != ATT_OP_JOIN && op != ATT_OP_LEAVE && op != ATT_OP_SYNC && op != ATT_OP_SYNC_MORE)) {
		e->cnt.client_bad_envelopes++; /* a node speaks only for its own clients */
		return;
	}
	if (op == ATT_OP_SYNC || op == ATT_OP_SYNC_MORE) {
		on_sync(e, origin, b, size, count, op == ATT_OP_SYNC);
		return;
	}
	if (e->sync.active && !replay) {
		defer_op(e, origin, b, size);
		return;
	}
	uint32_t off = ATT_OP_HDR;
	struct att_op_entry en;
	for (uint32_t i = 0; i < count && next_entry(e, b, size, &off, &en) == 0; i++)
		apply_entry(e, op, node, en.group, en.group_len, en.client, en.reason);
}

/* ---- deliveries ---- */

static void fan_out(struct eng *e, const struct rp_delivery *d, const uint8_t *group, uint8_t glen,
		    const uint8_t *data, uint32_t len, uint32_t msg_size, uint32_t offset, uint16_t flags)
{
	const struct eg_group *g = eg_find(e->groups, group, glen);
	if (g == NULL)
		return;
	struct att_message m = {.sender_node = d->origin, .sender_client = d->client_id,
				.service = d->service, .priority = d->priority, .group_len = glen,
				.msg_size = msg_size, .offset = offset, .ring_rep = d->ring.rep,
				.index = d->entry_index, .ring_seq = d->ring.seq, .seq = d->seq};
	uint8_t gname[32] = {0};
	memcpy(gname, group, glen);
	const uint8_t *parts[3] = {(const uint8_t *)&m, gname, data};
	uint32_t lens[3] = {sizeof(m), att_pad8(glen), len};
	struct eng_client *c;
	FOR_LOCAL(e, g, c) {
		put_record(e, c, ATT_REC_MESSAGE, flags, parts, lens, 3);
		c->delivered += (flags & ATT_F_LAST) != 0;
	}
}

void eng_clients_deliver(struct eng *e, const struct rp_delivery *d)
{
	if (d->client_id == ENG_LOAD_CLIENT || d->origin == 0 || d->origin > RP_NODES_MAX ||
	    d->priority >= RP_PRIO_COUNT)
		return;
	struct eng_fstream *fs = &e->fstreams[d->origin - 1u][d->priority];
	uint8_t first = (d->flags & RP_ENTRY_F_FIRST) != 0, last = (d->flags & RP_ENTRY_F_LAST) != 0;
	if (first) {
		const uint8_t *b = d->data;
		/* The kind byte was in the client's shared memory until ring-proto
		 * copied it into a frame; the client id was not (the engine gave
		 * it). Group ops come only from the engine (client id 0), user
		 * messages only from clients: a client that rewrites its record
		 * after the engine checked it cannot forge a group op. */
		int engine_op = d->client_id == 0;
		if (d->chunk_size < 2 ||
		    (engine_op ? b[0] != ATT_ENV_GROUP_OP && b[0] != ATT_ENV_KEY : b[0] != ATT_ENV_USER)) {
			e->cnt.client_bad_envelopes++;
			fs->active = 0;
			return;
		}
		if (engine_op) {
			if (!last) {
				e->cnt.client_bad_envelopes++; /* engine messages are small: never fragmented */
				return;
			}
			if (b[0] == ATT_ENV_KEY)
				eng_keys_on_op(e, d->origin, b, d->chunk_size);
			else
				on_group_op(e, d->origin, b, d->chunk_size, 0);
			return;
		}
		uint8_t glen = b[1];
		uint32_t head = ATT_ENV_HEAD(glen);
		if (glen == 0 || glen > ORDO_GROUP_NAME_MAX || d->chunk_size < head || d->msg_size < head ||
		    !att_size_ok(d->msg_size - head, e->cfg.max_message_size)) {
			/* larger than this node accepts (its clients would drop it):
			 * every node configured alike drops it */
			e->cnt.client_bad_envelopes++;
			fs->active = 0;
			return;
		}
		if (last) {
			fan_out(e, d, b + 2, glen, b + head, d->chunk_size - head, d->msg_size - head, 0,
				ATT_F_FIRST | ATT_F_LAST);
			return;
		}
		fs->active = 1;
		fs->glen = glen;
		memcpy(fs->group, b + 2, glen);
		fs->head = head;
		fan_out(e, d, fs->group, glen, b + head, d->chunk_size - head, d->msg_size - head, 0, ATT_F_FIRST);
		return;
	}
	if (!fs->active)
		return; /* its start was dropped: so is the rest */
	fan_out(e, d, fs->group, fs->glen, d->data, d->chunk_size, d->msg_size - fs->head,
		d->frag_offset - fs->head, last ? ATT_F_LAST : 0);
	if (last)
		fs->active = 0;
}

/* Members of nodes that did not move into the new configuration leave
 * every group (at the transitional configuration, the same at every node
 * that moves together). */
static void drop_departed(struct eng *e, uint64_t keep)
{
	struct view_ctx v = {.e = e, .transitional = 1};
	eg_keep_nodes(e->groups, keep, on_changed, &v);
}

/* Queues this node's SYNC: every (group, local client) it has. */
static void queue_sync(struct eng *e)
{
	/* in pieces of at most message_size_max: SYNC_MORE ..., then SYNC
	 * (every node applies the entries as they come and completes this
	 * node's part at the SYNC) */
	uint16_t me = e->cfg.rp.node_id;
	uint32_t limit = e->cfg.rp.message_size_max, gi = 0, ki = 0;
	for (;;) {
		/* the next piece: from (gi, ki) while it fits */
		uint32_t count = 0, size = ATT_OP_HDR, g2 = gi, k2 = ki, first, n;
		for (; g2 < e->cfg.max_groups; g2++, k2 = 0) {
			const struct eg_group *g = eg_group_at(e->groups, g2);
			n = g != NULL ? eg_node_range(g, me, &first) : 0;
			for (; k2 < n && size + att_op_entry_size(g->len) <= limit; k2++) {
				size += att_op_entry_size(g->len);
				count++;
			}
			if (k2 < n)
				break; /* the piece is full */
		}
		int last = g2 == e->cfg.max_groups;
		if (count == 0 && !last) {
			e->cnt.group_ops_lost++; /* max_message_size below one entry */
			return;
		}
		uint8_t *b = op_put(e, size, 0);
		if (b == NULL)
			return; /* counted: the exchange waits for the next configuration */
		att_op_put_hdr(b, last ? ATT_OP_SYNC : ATT_OP_SYNC_MORE, me, count);
		uint32_t off = ATT_OP_HDR;
		for (uint32_t c = 0, g3 = gi, k3 = ki; c < count; g3++, k3 = 0) {
			const struct eg_group *g = eg_group_at(e->groups, g3);
			n = g != NULL ? eg_node_range(g, me, &first) : 0;
			for (; k3 < n && c < count; k3++, c++)
				off += att_op_put_entry(b + off, g->name, g->len, (uint8_t)g->m[first + k3].reason,
							g->m[first + k3].client);
		}
		if (last)
			break;
		gi = g2;
		ki = k2;
	}
	/* Ops queued before it but ordered after it are deferred until the
	 * exchange completes at every node alike, so the order among them
	 * does not matter: the sync describes the table at this
	 * configuration. */
}

void eng_clients_config(struct eng *e, const struct rp_configuration *c)
{
	uint64_t set = 0;
	for (uint16_t i = 0; i < c->member_count; i++)
		set |= 1ull << (c->members[i] - 1u);
	/* incomplete fragmented messages are dropped at a regular configuration */
	if (c->kind == RP_CONFIG_REGULAR)
		memset(e->fstreams, 0, sizeof(e->fstreams));
	if (c->kind == RP_CONFIG_TRANSITIONAL) {
		if (e->sync.active) {
			/* the exchange did not finish: what was deferred happened in
			 * the configuration that ends here */
			e->sync.active = 0;
			apply_deferred(e);
		}
		drop_departed(e, set);
		e->trans_set = set;
	} else {
		/* a node that was not with us before: exchange group state */
		uint64_t before = e->trans_set ? e->trans_set : (1ull << (e->cfg.rp.node_id - 1u));
		if ((set & ~before) != 0) {
			e->sync.active = 1;
			e->sync.waiting = set;
			eg_sync_begin(e->groups);
			queue_sync(e);
		}
		e->trans_set = 0;
	}
	struct att_config ac = {.transitional = c->kind == RP_CONFIG_TRANSITIONAL, .primary = c->primary,
				.node_count = c->member_count, .ring_rep = c->ring.rep,
				.old_rep = c->old_ring.rep, .ring_seq = c->ring.seq, .old_seq = c->old_ring.seq};
	const uint8_t *parts[2] = {(const uint8_t *)&ac, (const uint8_t *)c->members};
	uint32_t lens[2] = {sizeof(ac), (uint32_t)c->member_count * 2u};
	uint32_t no_quorum = c->kind == RP_CONFIG_REGULAR && e->cfg.rp.quorum_publish && !c->primary;
	for (uint32_t s = 0; s < e->cfg.max_clients; s++) {
		struct eng_client *cl = e->cl_by_slot[s];
		if (cl == NULL || cl->state != ENG_CL_ACTIVE)
			continue;
		put_record(e, cl, ATT_REC_CONFIG, 0, parts, lens, 2);
		if (c->kind == RP_CONFIG_REGULAR)
			atomic_store_explicit(&cl->hdr->no_quorum, no_quorum, memory_order_relaxed);
	}
}

/* ---- submits ---- */

static void pub_failed(struct eng *e, struct eng_client *c, uint64_t pub_seq, int err)
{
	struct att_pub_failed f = {.pub_seq = pub_seq, .err = err};
	const uint8_t *parts[1] = {(const uint8_t *)&f};
	uint32_t lens[1] = {sizeof(f)};
	put_record(e, c, ATT_REC_PUB_FAILED, 0, parts, lens, 1);
}

static int rp_err_to_ordo(int rc)
{
	switch (rc) {
	case RP_E2BIG: return ORDO_E2BIG;
	case RP_ENOQUORUM: return ORDO_ENOQUORUM;
	case RP_ELEFT: return ORDO_EDETACHED;
	default: return ORDO_EINVAL;
	}
}

/* Appends an in-flight entry; returns its index, or -1 if the FIFO is full. */
static int inflight_push(struct eng_client *c, uint64_t end, void *buf, uint8_t done)
{
	if (c->if_count == ENG_INFLIGHT_MAX)
		return -1;
	uint32_t idx = (c->if_head + c->if_count) % ENG_INFLIGHT_MAX;
	c->inflight[idx] = (struct eng_inflight){.end = end, .buf = buf, .done = done};
	c->if_count++;
	return (int)idx;
}

static void retire(struct eng_client *c)
{
	uint64_t upto = 0;
	while (c->if_count > 0 && c->inflight[c->if_head].done) {
		if (c->inflight[c->if_head].end != 0)
			upto = c->inflight[c->if_head].end;
		c->if_head = (c->if_head + 1u) % ENG_INFLIGHT_MAX;
		c->if_count--;
	}
	if (upto != 0) {
		shm_ring_release(&c->submit, upto);
		c->room_freed = 1; /* wake(): a client waiting for room */
	}
}

/* Submits a client's message (where it lies in the submit ring, or buf,
 * an assembly buffer) as an in-flight entry ending at end, done at its
 * SUBMIT_DONE; RP_EAGAIN also when the in-flight FIFO is full (nothing
 * taken). One at a priority below the group ops' counts as unsequenced
 * until then (take_group_op). */
static int submit_tracked(struct eng *e, struct eng_client *c, uint64_t end, uint8_t *buf, const void *data,
			  uint32_t size, const struct att_publish *p)
{
	int idx = inflight_push(c, end, buf, 0);
	if (idx < 0)
		return RP_EAGAIN;
	/* counted before the step: ring-proto may return it within it */
	uint8_t low = p->priority > ENG_OP_PRIORITY;
	c->inflight[idx].low = low;
	c->unsequenced += low;
	struct rp_input in = rp_input_submit(data, size, c->id, p->service, p->priority,
					     cookie_client(c->slot, (uint32_t)idx));
	int rc = eng_step(e, &in);
	if (rc == RP_OK)
		return rc;
	c->unsequenced -= low; /* not taken */
	if (rc == RP_EAGAIN)
		c->if_count--; /* try again later */
	else
		c->inflight[idx] = (struct eng_inflight){.end = end, .done = 1};
	return rc;
}

/* Returns 1 to go on draining, 0 to stop for now (back-pressure), -1 if
 * the record is garbage. */
static int take_publish(struct eng *e, struct eng_client *c, const struct shm_ring_rec *r)
{
	struct att_publish p;
	if (!att_rec_head(r, &p, sizeof(p)))
		return -1;
	const uint8_t *body = r->data + sizeof(p);
	uint32_t blen = r->length - (uint32_t)sizeof(p);
	if ((p.service != RP_SERVICE_AGREED && p.service != RP_SERVICE_SAFE) || p.priority >= RP_PRIO_COUNT)
		return -1;
	uint16_t pieces = r->flags & (ATT_F_FIRST | ATT_F_LAST);
	struct eng_assembly *a = &c->asm_[p.priority];
	/* body lies in memory the client can rewrite: each byte a check
	 * depends on is read once (receivers validate the envelope again) */
	uint8_t kind = 0, glen = 0;
	if (r->flags & ATT_F_FIRST) {
		if (blen < 2)
			return -1;
		kind = __atomic_load_n(&body[0], __ATOMIC_RELAXED);
		glen = __atomic_load_n(&body[1], __ATOMIC_RELAXED);
		if (kind != ATT_ENV_USER || glen == 0 || glen > ORDO_GROUP_NAME_MAX || blen < ATT_ENV_HEAD(glen) ||
		    p.offset != 0 || !att_size_ok(p.msg_size, e->cfg.max_message_size))
			return -1;
	}
	if (pieces == (ATT_F_FIRST | ATT_F_LAST)) {
		if (p.msg_size != blen - ATT_ENV_HEAD(glen))
			return -1;
		int rc = submit_tracked(e, c, r->end, NULL, body, blen, &p);
		if (rc == RP_EAGAIN)
			return 0;
		if (rc != RP_OK)
			pub_failed(e, c, p.pub_seq, rp_err_to_ordo(rc));
		c->published++;
		return 1;
	}
	/* a piece of a large message: assembled in an engine buffer */
	if (!(r->flags & ATT_F_FIRST) && a->buf == NULL && a->dropped && p.pub_seq == a->dropped_seq &&
	    p.msg_size == a->dropped_size) {
		/* the rest of a message dropped for its pause (drop_stale) */
		if (inflight_push(c, r->end, NULL, 1) < 0)
			return 0;
		if (r->flags & ATT_F_LAST) {
			a->dropped = 0;
			pub_failed(e, c, p.pub_seq, ORDO_EAGAIN);
		}
		return 1;
	}
	if (r->flags & ATT_F_FIRST) {
		a->dropped = 0;
		if (a->buf == NULL && (a->buf = asm_get(e)) == NULL)
			return 0; /* every assembly buffer is taken: it waits for one */
		a->size = ATT_ENV_HEAD(glen) + p.msg_size;
		a->msg_size = p.msg_size;
		a->pub_seq = p.pub_seq;
		a->service = p.service;
		a->got = 0;
	} else if (a->buf == NULL || p.msg_size != a->msg_size || p.pub_seq != a->pub_seq) {
		return -1;
	}
	uint32_t head = a->size - a->msg_size;
	const uint8_t *piece = body;
	uint32_t plen = blen;
	if (r->flags & ATT_F_FIRST) {
		a->buf[0] = kind;
		a->buf[1] = glen;
		memcpy(a->buf + 2, body + 2, glen);
		piece += head;
		plen -= head;
	}
	if (p.offset != a->got || plen > a->msg_size - a->got)
		return -1;
	if (!(r->flags & ATT_F_LAST)) {
		if (inflight_push(c, r->end, NULL, 1) < 0)
			return 0;
		memcpy(a->buf + head + a->got, piece, plen);
		a->got += plen;
		a->last_ns = e->now_ns;
		return 1;
	}
	if (a->got + plen != a->msg_size)
		return -1;
	memcpy(a->buf + head + a->got, piece, plen);
	p.service = a->service;
	/* EAGAIN: the LAST piece stays unread; its bytes are copied again */
	int rc = submit_tracked(e, c, r->end, a->buf, a->buf, a->size, &p);
	if (rc == RP_EAGAIN)
		return 0;
	if (rc != RP_OK) {
		asm_put(e, a->buf);
		pub_failed(e, c, p.pub_seq, rp_err_to_ordo(rc));
	}
	a->buf = NULL; /* ring-proto owns it until SUBMIT_DONE (its in-flight entry) */
	c->published++;
	return 1;
}

/* A large message none of whose pieces came for assembly_timeout_ms while the
 * client's ring was empty (the client, not the node, stopped: a paused or
 * hung process, or one that gave up) is dropped: its buffer goes, and the
 * drop is counted. Its later pieces are skipped (take_publish). */
static void drop_stale(struct eng *e, struct eng_client *c)
{
	for (uint32_t p = 0; p < RP_PRIO_COUNT; p++) {
		struct eng_assembly *a = &c->asm_[p];
		if (a->buf == NULL || e->now_ns - a->last_ns <= e->assembly_timeout_ns)
			continue;
		e->cnt.assemblies_dropped++;
		ENG_LOG(WARNING, e, "client %u (%s): a %u-byte message at priority %u dropped with %u bytes of it: no piece for %llu ms (assemblies dropped %llu)",
			c->id, c->name, a->msg_size, p, a->got, (unsigned long long)((e->now_ns - a->last_ns) / 1000000u),
			(unsigned long long)e->cnt.assemblies_dropped);
		asm_put(e, a->buf);
		a->buf = NULL;
		a->dropped = 1;
		a->dropped_seq = a->pub_seq;
		a->dropped_size = a->msg_size;
	}
}

/* A JOIN or LEAVE record (docs/attach.md §5, one client's order): 1
 * taken, 0 waits in the ring, -1 garbage. It goes after the client's
 * publishes at lower priorities that ring-proto still holds (ring-proto
 * would send it first), into the ops arena and on into ring-proto now if
 * it takes it: the client's later records wait until it did (op_waits). */
static int take_group_op(struct eng *e, struct eng_client *c, const struct shm_ring_rec *r)
{
	if (r->length == 0 || r->length > ORDO_GROUP_NAME_MAX)
		return -1;
	if (c->unsequenced != 0) {
		c->held = ENG_HELD_PUBLISHES;
		return 0;
	}
	int join = r->type == ATT_REC_JOIN;
	/* both must take it, or it waits in the ring */
	if (c->if_count == ENG_INFLIGHT_MAX ||
	    queue_op(e, join ? ATT_OP_JOIN : ATT_OP_LEAVE, r->data, (uint8_t)r->length, c->id,
		     join ? ORDO_REASON_JOIN : ORDO_REASON_LEAVE, 1) != 0)
		return 0;
	(void)inflight_push(c, r->end, NULL, 1);
	c->op_until = e->ops.head;
	(void)ops_pump(e);
	return 1;
}

/* The client's newest JOIN or LEAVE is still in the ops arena. */
static int op_waits(const struct eng *e, const struct eng_client *c) { return e->ops.sub < c->op_until; }

/* The client's next record waits for its own earlier operations (not for
 * room): nobody rings for it, and the step that ends the wait (ring-proto
 * taking the op or returning the publishes) is followed by a poll. */
static int order_held(const struct eng *e, const struct eng_client *c)
{
	return (c->held == ENG_HELD_OP && op_waits(e, c)) ||
	       (c->held == ENG_HELD_PUBLISHES && c->unsequenced != 0);
}

static uint32_t drain(struct eng *e, struct eng_client *c)
{
	uint32_t n = 0;
	c->held = ENG_HELD_NO;
	while (n < ENG_DRAIN_MAX && c->state == ENG_CL_ACTIVE) {
		if (op_waits(e, c)) {
			c->held = ENG_HELD_OP;
			break;
		}
		struct shm_ring_rec r;
		enum shm_ring_status st = shm_ring_peek(&c->submit, &r);
		if (st == SHM_RING_EMPTY) {
			drop_stale(e, c);
			break;
		}
		int go = -1;
		if (st == SHM_RING_OK) {
			switch (r.type) {
			case ATT_REC_PUBLISH:
				go = take_publish(e, c, &r);
				break;
			case ATT_REC_JOIN:
			case ATT_REC_LEAVE:
				go = take_group_op(e, c, &r);
				break;
			default:
				break;
			}
		}
		if (go < 0) {
			c->garbage++;
			evict(e, c, ORDO_REASON_EVICTED, "garbage in its submit ring");
			break;
		}
		if (go == 0)
			break;
		shm_ring_next(&c->submit, &r);
		n++;
	}
	retire(c);
	return n;
}

void eng_clients_submit_done(struct eng *e, uint64_t cookie)
{
	if (cookie & ENG_COOKIE_BUF) {
		uint8_t *p = (uint8_t *)(uintptr_t)(cookie & ~ENG_COOKIE_BUF);
		ENG_VERIFY(eng_arena_owns(&e->ops, p));
		eng_arena_done(&e->ops, p);
		return;
	}
	/* the engine made the cookie (cookie_client), and a client is not
	 * gone while ring-proto holds one of its submits (if_count) */
	ENG_VERIFY(cookie & ENG_COOKIE_CLIENT);
	uint16_t slot = (uint16_t)((cookie >> 32) & 0x7FFFu);
	uint32_t idx = (uint32_t)cookie;
	struct eng_client *c = client_at(e, slot);
	ENG_VERIFY(c != NULL && idx < ENG_INFLIGHT_MAX);
	struct eng_inflight *f = &c->inflight[idx];
	if (f->buf != NULL)
		asm_put(e, f->buf);
	c->unsequenced -= f->low;
	*f = (struct eng_inflight){.end = f->end, .done = 1};
	retire(c);
}

/* ---- detach, eviction, retirement ---- */

static void begin_leave(struct eng *e, struct eng_client *c, uint32_t reason)
{
	if (c->state != ENG_CL_ACTIVE)
		return;
	c->state = ENG_CL_LEAVING;
	c->leave_reason = reason;
	for (uint32_t p = 0; p < RP_PRIO_COUNT; p++) {
		if (c->asm_[p].buf != NULL)
			asm_put(e, c->asm_[p].buf);
		c->asm_[p].buf = NULL;
	}
	for (uint32_t i = 0; i < e->cfg.max_groups; i++) {
		const struct eg_group *g = eg_group_at(e->groups, i);
		uint32_t first;
		for (uint32_t k = 0, n = g != NULL ? eg_node_range(g, e->cfg.rp.node_id, &first) : 0; k < n; k++)
			if (g->m[first + k].client == c->id)
				(void)queue_op(e, ATT_OP_LEAVE, g->name, g->len, c->id, (uint8_t)reason, 0);
	}
	c->ov_head = c->ov_tail = 0; /* the memory goes with the client (eng_control.c) */
}

static void evict(struct eng *e, struct eng_client *c, uint32_t reason, const char *why)
{
	if (c->state != ENG_CL_ACTIVE)
		return;
	ENG_LOG(WARNING, e, "client %u (%s) evicted: %s", c->id, c->name, why);
	e->cnt.client_evictions++;
	atomic_store_explicit(&c->hdr->evict_reason, reason, memory_order_relaxed);
	atomic_store_explicit(&c->hdr->state, ATT_STATE_EVICTED, memory_order_release);
	begin_leave(e, c, reason);
	c->need_wake = 1;
	atomic_store_explicit(&c->hdr->sleeping, 1, memory_order_relaxed); /* force the wake-up */
	wake(c);
}

uint32_t eng_clients_poll(struct eng *e)
{
	uint32_t work = ops_pump(e);
	struct eng_client_table *t = rcu_dereference(e->clients);
	if (t == NULL)
		return work;
	for (uint32_t i = 0; i < t->count; i++) {
		struct eng_client *c = t->v[i];
		if (c->state == 0) {
			/* first sight of a new client: it learns the configuration */
			c->state = ENG_CL_ACTIVE;
			e->cl_by_slot[c->slot] = c;
			if (e->member_count != 0) {
				struct att_config ac = {.primary = e->primary, .node_count = e->member_count,
							.ring_rep = e->ring.rep, .old_rep = e->ring.rep,
							.ring_seq = e->ring.seq, .old_seq = e->ring.seq};
				const uint8_t *parts[2] = {(const uint8_t *)&ac, (const uint8_t *)e->members};
				uint32_t lens[2] = {sizeof(ac), (uint32_t)e->member_count * 2u};
				put_record(e, c, ATT_REC_CONFIG, 0, parts, lens, 2);
			}
			ENG_LOG(INFO, e, "client %u (%s) attached", c->id, c->name);
		}
		if (c->state == ENG_CL_GONE)
			continue;
		/* read before draining: records written before the client
		 * closed its socket are taken (its explicit leaves win) */
		uint32_t closing = atomic_load_explicit(&c->closing, memory_order_acquire);
		if (c->state == ENG_CL_ACTIVE) {
			if (c->ov_head != c->ov_tail)
				work += overflow_flush(c);
			if (c->stalled_since_ns != 0 && e->now_ns - c->stalled_since_ns > e->evict_ns)
				evict(e, c, ORDO_REASON_EVICTED, "it did not drain its delivery ring");
			else
				work += drain(e, c);
			if (closing && c->state == ENG_CL_ACTIVE) {
				/* what it published before it went is ordered: drain
				 * the ring to its end (bounded by the eviction time) */
				struct shm_ring_rec r;
				if (c->closing_since_ns == 0)
					c->closing_since_ns = e->now_ns;
				if (shm_ring_peek(&c->submit, &r) != SHM_RING_OK ||
				    e->now_ns - c->closing_since_ns > e->evict_ns)
					begin_leave(e, c, ORDO_REASON_DISCONNECT);
			}
			if (c->state != ENG_CL_ACTIVE)
				wake(c); /* an active one: eng_clients_wake, after the flush */
		} else {
			retire(c);
		}
		if (c->state == ENG_CL_LEAVING && c->if_count == 0) {
			c->state = ENG_CL_GONE;
			e->cl_by_slot[c->slot] = NULL;
			ENG_LOG(INFO, e, "client %u (%s) detached: %llu published, %llu delivered", c->id, c->name,
				(unsigned long long)c->published, (unsigned long long)c->delivered);
			atomic_store_explicit(&c->gone, 1, memory_order_release);
			work++;
		}
	}
	return work;
}

void eng_clients_wake(struct eng *e)
{
	struct eng_client_table *t = rcu_dereference(e->clients);
	for (uint32_t i = 0; t != NULL && i < t->count; i++)
		if (t->v[i]->state == ENG_CL_ACTIVE)
			wake(t->v[i]);
}

int eng_clients_arm_sleep(struct eng *e)
{
	struct eng_client_table *t = rcu_dereference(e->clients);
	if (t == NULL)
		return 0;
	for (uint32_t i = 0; i < t->count; i++)
		if (t->v[i]->hdr != NULL)
			atomic_store_explicit(&t->v[i]->hdr->engine_sleeping, 1, memory_order_relaxed);
	/* Dekker with the client (docs/attach.md §6): it commits, fences,
	 * then reads engine_sleeping; we store it, fence, then read its head.
	 * At least one of us sees the other's store. */
	atomic_thread_fence(memory_order_seq_cst);
	for (uint32_t i = 0; i < t->count; i++) {
		struct eng_client *c = t->v[i];
		if (c->state == 0)
			return 1;
		if (c->state != ENG_CL_ACTIVE || order_held(e, c))
			continue;
		/* records committed since the last look, or left unread (the
		 * node could not take them yet: ring-proto's queue, an
		 * assembly buffer, the in-flight FIFO): nobody would ring for
		 * those, so they are work now */
		if (c->ov_head != c->ov_tail ||
		    atomic_load_explicit(&c->submit.ctl->head, memory_order_relaxed) != c->submit.read)
			return 1;
	}
	return 0;
}

void eng_clients_disarm_sleep(struct eng *e)
{
	struct eng_client_table *t = rcu_dereference(e->clients);
	for (uint32_t i = 0; t != NULL && i < t->count; i++)
		if (t->v[i]->hdr != NULL)
			atomic_store_explicit(&t->v[i]->hdr->engine_sleeping, 0, memory_order_relaxed);
}

void eng_clients_stop(struct eng *e)
{
	struct eng_client_table *t = rcu_dereference(e->clients);
	for (uint32_t i = 0; t != NULL && i < t->count; i++) {
		struct eng_client *c = t->v[i];
		if (c->hdr != NULL) {
			atomic_store_explicit(&c->hdr->state, ATT_STATE_ENGINE_STOPPED, memory_order_release);
			c->need_wake = 1;
			atomic_store_explicit(&c->hdr->sleeping, 1, memory_order_relaxed);
			wake(c);
		}
	}
}
