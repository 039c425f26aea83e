/* ring_mem.c — the in-memory benchmark ring (contract in ring_mem.h).
 *
 * Owns: the nodes' memory and actions buffers, a pool of frame buffers
 * (indices, reference-counted: one copy per send and path, shared by its
 * receivers), the FIFO of (buffer, receiver, path), and the driver's duties
 * towards ring-proto as tests/sim/sim.c performs them: copy each sent frame
 * and stamp its path, never step a node while performing its actions, keep a
 * submitted message's bytes until RP_ACT_SUBMIT_DONE, tick a node whose
 * rp_next_deadline_ns() has come.
 * Never: allocates in steady state, reads a clock, or validates deliveries.
 */
#include "ring_mem.h"
#include "rp_drive.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Moves without a single delivery after which a run declares the ring
 * stalled. A healthy ring delivers within a few rotations. */
#define RM_STALL_PUMPS 1000000u
/* Consecutive due ticks after which a node is declared spinning. */
#define RM_TICKS_MAX 100000u

struct rm_node {
	struct rp_node *rp;
	struct rp_config cfg;
	struct rp_actions acts;
	uint8_t *payload;      /* every submit of this node points here */
	uint32_t payload_size;
	uint64_t submitted;    /* accepted in the current run */
	uint64_t done;         /* returned by RP_ACT_SUBMIT_DONE in the current run */
};

struct rm_item {
	uint32_t buf;
	uint16_t to;
	uint8_t path;
};

struct ring_mem {
	uint32_t node_count;
	uint32_t frame_size_max;
	uint64_t now_ns;
	struct rm_node nodes[RP_NODES_MAX];

	uint8_t *buf_data;     /* buf_cap * frame_size_max bytes */
	uint32_t *buf_size;
	uint32_t *buf_refs;
	uint32_t *buf_free;    /* stack of free indices */
	uint32_t buf_free_count;
	uint32_t buf_cap;

	struct rm_item *q;     /* FIFO, q_cap a power of two */
	uint32_t q_cap, q_head, q_count;

	int lend;              /* lend frames to the nodes (docs/protocol.md §14) */
	uint64_t lent;         /* buffer references the nodes keep */

	uint32_t run_msgs, run_size; /* the current run's workload */
	uint64_t steps, deliveries, frames;
	int stalled;
};

static void *xrealloc(void *p, size_t size)
{
	void *r = realloc(p, size);
	if (!r) {
		fprintf(stderr, "ring_mem: out of memory (%zu bytes)\n", size);
		abort();
	}
	return r;
}

/* ---- frame buffers ---- */

static void pool_grow(struct ring_mem *rm)
{
	uint32_t old = rm->buf_cap, cap = old ? old * 2u : 256u;
	if (rm->lent > 0) {
		/* nodes point into the pool: it must not move */
		fprintf(stderr, "ring_mem: frame pool exhausted with %" PRIu64 " frames lent\n", rm->lent);
		abort();
	}
	rm->buf_data = xrealloc(rm->buf_data, (size_t)cap * rm->frame_size_max);
	memset(rm->buf_data + (size_t)old * rm->frame_size_max, 0,
	       (size_t)(cap - old) * rm->frame_size_max); /* pre-fault */
	rm->buf_size = xrealloc(rm->buf_size, cap * sizeof(uint32_t));
	rm->buf_refs = xrealloc(rm->buf_refs, cap * sizeof(uint32_t));
	rm->buf_free = xrealloc(rm->buf_free, cap * sizeof(uint32_t));
	for (uint32_t i = cap; i > old; i--)
		rm->buf_free[rm->buf_free_count++] = i - 1u;
	rm->buf_cap = cap;
}

static uint32_t buf_get(struct ring_mem *rm)
{
	if (rm->buf_free_count == 0)
		pool_grow(rm);
	uint32_t b = rm->buf_free[--rm->buf_free_count];
	rm->buf_refs[b] = 0;
	return b;
}

static void buf_put(struct ring_mem *rm, uint32_t b) { rm->buf_free[rm->buf_free_count++] = b; }

static uint8_t *buf_at(const struct ring_mem *rm, uint32_t b)
{
	return rm->buf_data + (size_t)b * rm->frame_size_max;
}

/* ---- FIFO ---- */

static void q_push(struct ring_mem *rm, struct rm_item it)
{
	if (rm->q_count == rm->q_cap) {
		uint32_t cap = rm->q_cap ? rm->q_cap * 2u : 1024u;
		struct rm_item *q = xrealloc(NULL, cap * sizeof(*q));
		for (uint32_t i = 0; i < rm->q_count; i++)
			q[i] = rm->q[(rm->q_head + i) & (rm->q_cap - 1u)];
		free(rm->q);
		rm->q = q;
		rm->q_cap = cap;
		rm->q_head = 0;
	}
	rm->q[(rm->q_head + rm->q_count) & (rm->q_cap - 1u)] = it;
	rm->q_count++;
}

static struct rm_item q_pop(struct ring_mem *rm)
{
	struct rm_item it = rm->q[rm->q_head];
	rm->q_head = (rm->q_head + 1u) & (rm->q_cap - 1u);
	rm->q_count--;
	return it;
}

/* ---- driving one node ---- */

static void send_frame(struct ring_mem *rm, uint32_t from, const struct rp_send *snd)
{
	for (uint8_t path = 0; path < RP_PATHS_MAX; path++) {
		if (!(snd->path_mask & (1u << path)))
			continue;
		uint32_t b = buf_get(rm);
		uint8_t *copy = buf_at(rm, b);
		memcpy(copy, snd->data, snd->size);
		rp_wire_set_path(copy, path);
		rm->buf_size[b] = snd->size;
		for (uint32_t to = 0; to < rm->node_count; to++) {
			if (to == from || (snd->dest != RP_DEST_ALL && snd->dest != to + 1u))
				continue;
			rm->buf_refs[b]++;
			q_push(rm, (struct rm_item){.buf = b, .to = (uint16_t)to, .path = path});
		}
		if (rm->buf_refs[b] == 0)
			buf_put(rm, b);
	}
}

/* A step's driver context (rp_drive.h): the ring and the node's index. */
struct rm_step {
	struct ring_mem *rm;
	uint32_t i;
};

/* Performs node i's actions. Steps no node: the action pointers are valid
 * only until the next rp_step on this node. Inlined into step(), its one
 * caller, as before rp_drive.h (callgrind would count the call). */
static inline __attribute__((always_inline)) void perform(void *ctx, const struct rp_actions *acts)
{
	struct ring_mem *rm = ((struct rm_step *)ctx)->rm;
	uint32_t i = ((struct rm_step *)ctx)->i;
	struct rm_node *n = &rm->nodes[i];
	for (uint32_t k = 0; k < acts->count; k++) {
		const struct rp_action *a = &acts->v[k];
		switch (a->kind) {
		case RP_ACT_SEND:
			send_frame(rm, i, &a->send);
			break;
		case RP_ACT_DELIVER:
			if (a->deliver.flags & RP_ENTRY_F_LAST)
				rm->deliveries++;
			break;
		case RP_ACT_CONFIG:
		case RP_ACT_PERSIST:
		case RP_ACT_PATH:
		case RP_ACT_REFUSED:
			break;
		case RP_ACT_SUBMIT_DONE:
			n->done++;
			break;
		}
	}
}

/* A lent frame's handle is its buffer index + 1. */
static bool returned(void *ctx, void *lend)
{
	struct ring_mem *rm = ((struct rm_step *)ctx)->rm;
	uint32_t b = (uint32_t)((uintptr_t)lend - 1u);
	rm->lent--;
	if (--rm->buf_refs[b] == 0)
		buf_put(rm, b);
	return true;
}

static void kept(void *ctx, const struct rp_input *in)
{
	(void)in;
	((struct rm_step *)ctx)->rm->lent++; /* the node holds the receiver's reference */
}

static const struct rp_driver rm_driver = {.kept = kept, .perform = perform, .returned = returned};

static int step(struct ring_mem *rm, uint32_t i, const struct rp_input *in)
{
	struct rm_step ctx = {rm, i};
	rm->steps++;
	return rp_drive(rm->nodes[i].rp, in, rm->now_ns, &rm->nodes[i].acts, &rm_driver, &ctx);
}

/* Ticks node i while its deadline has come (leftover deliveries, a local
 * token). */
static void settle(struct ring_mem *rm, uint32_t i)
{
	const struct rp_input tick = {.kind = RP_IN_TICK};
	uint32_t ticks = 0;
	while (rp_next_deadline_ns(rm->nodes[i].rp) <= rm->now_ns) {
		if (++ticks > RM_TICKS_MAX) {
			fprintf(stderr, "ring_mem: node %u still due after %u ticks\n", i + 1u, ticks);
			abort();
		}
		step(rm, i, &tick);
	}
}

/* Offers node i's next messages of the current run while its queue has
 * room (known from the submit-done notices, so no step is refused). */
static void feed(struct ring_mem *rm, uint32_t i)
{
	struct rm_node *n = &rm->nodes[i];
	struct rp_input in = rp_input_submit(n->payload, rm->run_size, 0, RP_SERVICE_AGREED, 0, 0);
	while (n->submitted < rm->run_msgs && n->submitted - n->done < n->cfg.submit_queue_max) {
		in.submit.cookie = n->submitted;
		int rc = step(rm, i, &in);
		if (rc == RP_EAGAIN)
			break;
		if (rc != RP_OK) {
			fprintf(stderr, "ring_mem: node %u refused a %u-byte submit (%d)\n", i + 1u,
				rm->run_size, rc);
			abort();
		}
		n->submitted++;
	}
	settle(rm, i);
}

/* ---- public ---- */

struct ring_mem *ring_mem_create(uint32_t node_count)
{
	if (node_count == 0)
		node_count = 3;
	if (node_count > RP_NODES_MAX)
		return NULL;
	struct ring_mem *rm = calloc(1, sizeof(*rm));
	if (!rm)
		return NULL;
	rm->node_count = node_count;
	for (uint32_t i = 0; i < node_count; i++) {
		struct rm_node *n = &rm->nodes[i];
		struct rp_config *c = &n->cfg;
		rp_config_default(c, (uint16_t)(i + 1u));
		c->member_count = (uint16_t)node_count;
		for (uint32_t m = 0; m < node_count; m++)
			c->members[m] = (uint16_t)(m + 1u);
		c->frame_size_max = 8960;
		size_t size = rp_node_size(c);
		if (size == 0)
			goto fail;
		size = (size + 63u) & ~(size_t)63u;
		n->rp = aligned_alloc(64, size);
		if (!n->rp)
			goto fail;
		memset(n->rp, 0, size); /* pre-fault the store */
		if (rp_node_init(n->rp, c) != 0)
			goto fail;
		/* as the reference driver (tests/sim/sim.c): room for a visit's
		 * sends with the submit-done notices of many packed frames */
		n->acts.capacity = rp_actions_min(c) + 4096u;
		n->acts.v = calloc(n->acts.capacity, sizeof(*n->acts.v));
		if (!n->acts.v)
			goto fail;
	}
	rm->frame_size_max = rm->nodes[0].cfg.frame_size_max;
	pool_grow(rm);
	return rm;
fail:
	ring_mem_destroy(rm);
	return NULL;
}

void ring_mem_destroy(struct ring_mem *rm)
{
	if (!rm)
		return;
	for (uint32_t i = 0; i < rm->node_count; i++) {
		if (rm->nodes[i].rp != NULL && rm->lent > 0) {
			struct rm_step ctx = {rm, i};
			rp_drive_return_all(rm->nodes[i].rp, &rm_driver, &ctx);
		}
		free(rm->nodes[i].rp);
		free(rm->nodes[i].acts.v);
		free(rm->nodes[i].payload);
	}
	free(rm->buf_data);
	free(rm->buf_size);
	free(rm->buf_refs);
	free(rm->buf_free);
	free(rm->q);
	free(rm);
}

void ring_mem_lend(struct ring_mem *rm)
{
	/* every node may keep 2 * store_slots frames: the pool must never
	 * move under them, so it gets all it can need now */
	uint64_t need = (uint64_t)rm->node_count * 2u * rm->nodes[0].cfg.store_slots + rm->q_cap + 256u;
	while (rm->buf_cap < need)
		pool_grow(rm);
	rm->lend = 1;
}

int ring_mem_pump(struct ring_mem *rm)
{
	if (rm->q_count == 0)
		return 0;
	struct rm_item it = q_pop(rm);
	struct rp_input in = {.kind = RP_IN_FRAME};
	in.frame.data = buf_at(rm, it.buf);
	in.frame.size = rm->buf_size[it.buf];
	in.frame.path = it.path;
	if (rm->lend)
		in.frame.lend = (void *)(uintptr_t)(it.buf + 1u);
	if (step(rm, it.to, &in) != RP_KEPT && --rm->buf_refs[it.buf] == 0)
		buf_put(rm, it.buf);
	rm->frames++;
	feed(rm, it.to); /* refills the queue the visit drained, then settles */
	return 1;
}

/* Ticks every node whose deadline has come; returns how many were due. */
static uint32_t tick_due(struct ring_mem *rm)
{
	uint32_t due = 0;
	for (uint32_t i = 0; i < rm->node_count; i++) {
		if (rp_next_deadline_ns(rm->nodes[i].rp) <= rm->now_ns) {
			settle(rm, i);
			due++;
		}
	}
	return due;
}

uint64_t ring_mem_run(struct ring_mem *rm, uint32_t msgs_per_node, uint32_t size)
{
	for (uint32_t i = 0; i < rm->node_count; i++) {
		struct rm_node *n = &rm->nodes[i];
		if (n->submitted != n->done) {
			fprintf(stderr, "ring_mem: node %u still holds %llu messages of an earlier run\n",
				i + 1u, (unsigned long long)(n->submitted - n->done));
			abort();
		}
		if (size > n->payload_size) {
			n->payload = xrealloc(n->payload, size);
			memset(n->payload, 0x5A, size);
			n->payload_size = size;
		}
		n->submitted = n->done = 0;
	}
	rm->run_msgs = msgs_per_node;
	rm->run_size = size;
	uint64_t start = rm->deliveries;
	uint64_t target = start + (uint64_t)rm->node_count * rm->node_count * msgs_per_node;
	for (uint32_t i = 0; i < rm->node_count; i++)
		feed(rm, i);
	uint64_t last = rm->deliveries;
	uint32_t idle = 0;
	while (rm->deliveries < target) {
		if (!ring_mem_pump(rm) && tick_due(rm) == 0)
			break; /* nothing in flight and nobody due */
		if (rm->deliveries != last) {
			last = rm->deliveries;
			idle = 0;
		} else if (++idle >= RM_STALL_PUMPS) {
			break;
		}
	}
	if (rm->deliveries < target)
		rm->stalled = 1;
	rm->run_msgs = 0; /* no more feeding outside a run */
	return rm->deliveries - start;
}

const uint8_t *ring_mem_peek(const struct ring_mem *rm, uint32_t *size, uint32_t *to_index,
			     uint8_t *path)
{
	if (rm->q_count == 0)
		return NULL;
	const struct rm_item *it = &rm->q[rm->q_head];
	*size = rm->buf_size[it->buf];
	*to_index = it->to;
	*path = it->path;
	return buf_at(rm, it->buf);
}

uint64_t ring_mem_steps(const struct ring_mem *rm) { return rm->steps; }
uint64_t ring_mem_deliveries(const struct ring_mem *rm) { return rm->deliveries; }
uint64_t ring_mem_frames(const struct ring_mem *rm) { return rm->frames; }
uint32_t ring_mem_in_flight(const struct ring_mem *rm) { return rm->q_count; }
int ring_mem_stalled(const struct ring_mem *rm) { return rm->stalled; }
uint32_t ring_mem_node_count(const struct ring_mem *rm) { return rm->node_count; }
struct rp_node *ring_mem_node(struct ring_mem *rm, uint32_t index) { return rm->nodes[index].rp; }

void ring_mem_config(const struct ring_mem *rm, uint32_t index, struct rp_config *out)
{
	*out = rm->nodes[index].cfg;
}
