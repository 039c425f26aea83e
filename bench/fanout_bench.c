/* fanout_bench.c — the engine's delivery fan-out, driven for
 * bench_fanout.cc (C: the engine's headers are C11 and DPDK's).
 *
 * Owns: a worker-side engine with nothing but what eng_clients_deliver()
 * touches (its configuration, the group table, the client slots), N
 * clients whose regions are plain memory with a 4 MiB delivery ring each,
 * all joined to one group through real GROUP_OP JOIN deliveries (so the
 * group table, the views and the local-member lists are the engine's own),
 * and the loop the benchmark times: one whole message delivered by
 * ring-proto goes through eng_clients_deliver() (envelope checks, group
 * lookup, one MESSAGE record into every member's ring), then every
 * member's ring is drained as a client would (peek, next, release).
 *
 * Never: starts DPDK, a control thread or ring-proto: the fan-out is
 * measured alone, and nothing here runs in ordod.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eng_internal.h"
#include "ordo.h"

#define FANOUT_RING (4u << 20)

struct fanout {
	struct eng *e;
	uint32_t n;
	struct eng_client **c;
	struct shm_ring_cons *cons;
	uint8_t *msg;           /* the envelope and the data of the message delivered */
	uint32_t msg_len;
	uint64_t seq;
};

static const uint8_t group[] = "bench";
#define GLEN ((uint8_t)(sizeof(group) - 1u))

static void deliver(struct fanout *f, uint32_t client_id, const uint8_t *data, uint32_t size)
{
	struct rp_delivery d;
	memset(&d, 0, sizeof(d));
	d.origin = 1;
	d.client_id = client_id;
	d.service = RP_SERVICE_AGREED;
	d.priority = 1;
	d.flags = RP_ENTRY_F_FIRST | RP_ENTRY_F_LAST;
	d.data = data;
	d.chunk_size = size;
	d.msg_size = size;
	d.seq = ++f->seq;
	eng_clients_deliver(f->e, &d);
}

/* Reads every record of every member's ring; returns the records read. */
static uint64_t drain(struct fanout *f)
{
	uint64_t n = 0;
	for (uint32_t i = 0; i < f->n; i++) {
		struct shm_ring_rec r;
		while (shm_ring_peek(&f->cons[i], &r) == SHM_RING_OK) {
			shm_ring_next(&f->cons[i], &r);
			n++;
		}
		shm_ring_release_read(&f->cons[i]);
	}
	return n;
}

void fanout_free(struct fanout *f)
{
	if (f == NULL)
		return;
	for (uint32_t i = 0; f->c != NULL && i < f->n; i++)
		if (f->c[i] != NULL) {
			free(f->c[i]->region);
			free(f->c[i]);
		}
	if (f->e != NULL) {
		free(f->e->groups_mem);
		free(f->e->view_joined);
		free(f->e->view_left);
		free(f->e->cl_by_slot);
	}
	free(f->e);
	free(f->c);
	free(f->cons);
	free(f->msg);
	free(f);
}

/* N clients on node 1, each a member of one group; messages of size bytes. */
struct fanout *fanout_new(uint32_t n, uint32_t size)
{
	struct fanout *f = calloc(1, sizeof(*f));
	if (f == NULL || n == 0 || n > ENG_CLIENTS_LIMIT)
		goto fail;
	f->n = n;
	f->e = calloc(1, sizeof(*f->e));
	if (f->e == NULL)
		goto fail;
	f->e->cfg.max_clients = n;
	f->e->cl_by_slot = calloc(n, sizeof(*f->e->cl_by_slot));
	f->e->cfg.max_groups = 16;
	f->e->cfg.max_group_members = n;
	struct eg_conf gc = {.max_groups = 16, .max_members = n};
	f->e->groups_mem = calloc(1, eg_table_size(&gc));
	f->e->view_joined = calloc(n, sizeof(struct eg_member));
	f->e->view_left = calloc(n, sizeof(struct eg_member));
	if (f->e->groups_mem == NULL || f->e->view_joined == NULL || f->e->view_left == NULL)
		goto fail;
	f->e->groups = eg_table_init(f->e->groups_mem, &gc);
	f->c = calloc(n, sizeof(*f->c));
	f->cons = calloc(n, sizeof(*f->cons));
	f->msg_len = ATT_ENV_HEAD(GLEN) + size;
	f->msg = calloc(1, f->msg_len);
	if (f->e->cl_by_slot == NULL || f->c == NULL || f->cons == NULL || f->msg == NULL)
		goto fail;
	f->e->cfg.rp.node_id = 1;
	f->e->cfg.max_message_size = 1u << 20;
	f->e->cfg.rp.message_size_max = (1u << 20) + ENG_ENVELOPE_MAX;
	for (uint32_t i = 0; i < n; i++) {
		struct eng_client *c = calloc(1, sizeof(*c));
		if (c == NULL)
			goto fail;
		f->c[i] = c;
		c->region_size = ATT_REGION_HDR_SIZE + SHM_RING_CTL_SIZE + FANOUT_RING;
		c->region = aligned_alloc(4096, c->region_size);
		if (c->region == NULL)
			goto fail;
		memset(c->region, 0, c->region_size);
		c->hdr = (struct att_region_hdr *)c->region;
		c->id = n + i; /* an id says its slot (eng_control.c) */
		c->slot = (uint16_t)i;
		c->sock_fd = c->event_fd = c->mem_fd = -1;
		c->state = ENG_CL_ACTIVE;
		struct shm_ring_ctl *ctl = (struct shm_ring_ctl *)(c->region + ATT_REGION_HDR_SIZE);
		shm_ring_init(ctl);
		if (shm_ring_prod_attach(&c->deliver, ctl, (uint8_t *)(ctl + 1), FANOUT_RING) != 0 ||
		    shm_ring_cons_attach(&f->cons[i], ctl, (const uint8_t *)(ctl + 1), FANOUT_RING) != 0)
			goto fail;
		f->e->cl_by_slot[i] = c;
	}
	/* the joins, in the total order as ordod would deliver them */
	for (uint32_t i = 0; i < n; i++) {
		uint8_t op[ATT_OP_HDR + ATT_OP_ENTRY_HDR + 8] = {0};
		att_op_put_hdr(op, ATT_OP_JOIN, 1, 1);
		uint32_t size = ATT_OP_HDR + att_op_put_entry(op + ATT_OP_HDR, group, GLEN, ORDO_REASON_JOIN, n + i);
		deliver(f, 0, op, size);
	}
	(void)drain(f); /* the views */
	f->msg[0] = ATT_ENV_USER;
	f->msg[1] = GLEN;
	memcpy(f->msg + 2, group, GLEN);
	memset(f->msg + ATT_ENV_HEAD(GLEN), 0x5a, size);
	/* every member must get the message: the setup is what ordod does */
	deliver(f, 0xC0FFEEu, f->msg, f->msg_len);
	if (drain(f) != n)
		goto fail;
	return f;
fail:
	fanout_free(f);
	return NULL;
}

/* Delivers `iters` messages, each drained by every member at once.
 * Returns the records the members read (iters * n when all is well). */
uint64_t fanout_run(struct fanout *f, uint64_t iters)
{
	uint64_t got = 0;
	for (uint64_t k = 0; k < iters; k++) {
		deliver(f, 0xC0FFEEu, f->msg, f->msg_len);
		got += drain(f);
	}
	return got;
}
