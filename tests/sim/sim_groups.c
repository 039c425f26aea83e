/* sim_groups.c — the group table under the simulator (sim_groups.h).
 *
 * Owns: one eng_groups table per node, the SYNC snapshots of every
 * configuration that brought new nodes, and the digest every node recorded
 * after each message (by message number).
 */
#include "sim_groups.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eng_groups.h"
#include "sim_internal.h"

#define SG_REASON_JOIN 1u
#define SG_REASON_LEAVE 2u

struct sg_op { /* a delivered message, as an operation */
	uint64_t index;
	uint16_t origin;
	uint32_t client;
};

struct sg_entry { /* one (group, client) of a node's SYNC */
	uint16_t node, reason;
	uint32_t client;
	uint8_t len;
	uint8_t name[EG_NAME_MAX];
};

struct sg_snap { /* the SYNCs of one configuration */
	struct rp_ring_id ring;
	uint64_t members, have; /* node-id bits */
	struct sg_entry *e;
	size_t count, cap;
};

struct sg_node {
	struct eg_table *t;
	void *mem;
	uint64_t incarnation;
	bool synced;              /* its table is its ring's (no unfinished exchange since) */
	bool waiting;             /* an exchange is under way */
	struct rp_ring_id wait_ring;
	uint64_t trans_set;
	struct sg_op *def;        /* operations delivered during the exchange */
	size_t ndef, capdef;
	uint64_t ops;             /* operations applied (the mutant's count) */
	uint64_t conf_key;        /* the configuration it is in: regular, or transitional */
};

struct sim_groups {
	struct sim_groups_opts go;
	struct sim_groups_stats st;
	struct eg_conf conf;
	uint32_t nodes;
	struct sg_node n[SIM_NODES_MAX];
	struct sg_snap *snaps;
	size_t nsnap, capsnap;
	/* by (message number, the configuration it was delivered in): the
	 * first table digest recorded after it (open addressing) */
	struct sg_rec {
		uint64_t key, digest;
		uint64_t index;
		uint16_t node;    /* who recorded it (0: a free entry) */
	} *at;
	size_t cap_at, count_at;
};

static void *grow(void *v, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return v;
	size_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	void *p = realloc(v, c * size);
	if (!p)
		abort();
	memset((uint8_t *)p + *cap * size, 0, (c - *cap) * size);
	*cap = c;
	return p;
}

static bool same_ring(struct rp_ring_id a, struct rp_ring_id b) { return a.rep == b.rep && a.seq == b.seq; }

/* The operation a message stands for: its number picks it, alike everywhere. */
static void op_of(const struct sim_groups *g, const struct sg_op *o, uint8_t *name, uint8_t *len, int *join)
{
	uint64_t r = sim_mix64(o->index ^ 0x6A09E667F3BCC909ull);
	*len = (uint8_t)snprintf((char *)name, EG_NAME_MAX, "grp-%u", (unsigned)(r % g->go.names));
	*join = (r >> 20) % 100 < 60;
}

static void record(struct sim *s, struct sim_groups *g, struct sg_node *n, uint32_t node, uint64_t index)
{
	const char *why = NULL;
	if (eg_check(n->t, &why) != 0) {
		sim_violation(s, "group-views", "node %u: its group table is broken after message %" PRIu64 ": %s",
			      s->nodes[node].id, index, why);
		return;
	}
	if (!n->synced)
		return;
	uint64_t d = eg_digest(n->t);
	if (2 * (g->count_at + 1) > g->cap_at) {
		/* rehash into twice the room */
		struct sg_rec *old = g->at;
		size_t cap = g->cap_at;
		g->cap_at = cap ? cap * 2 : 4096;
		g->at = calloc(g->cap_at, sizeof(*g->at));
		if (!g->at)
			abort();
		for (size_t i = 0; i < cap; i++) {
			if (old[i].node == 0)
				continue;
			size_t j = old[i].key & (g->cap_at - 1);
			while (g->at[j].node != 0)
				j = (j + 1) & (g->cap_at - 1);
			g->at[j] = old[i];
		}
		free(old);
	}
	/* the same point of the order: the same message in the same
	 * configuration (a message of an old ring that nodes deliver in
	 * different transitional configurations follows different departures) */
	uint64_t key = sim_mix64(index * 0x9E3779B97F4A7C15ull ^ n->conf_key);
	size_t j = key & (g->cap_at - 1);
	while (g->at[j].node != 0 && (g->at[j].key != key || g->at[j].index != index))
		j = (j + 1) & (g->cap_at - 1);
	struct sg_rec *r = &g->at[j];
	if (r->node == 0) {
		*r = (struct sg_rec){.key = key, .digest = d, .index = index, .node = s->nodes[node].id};
		g->count_at++;
		return;
	}
	g->st.compared++;
	if (r->digest != d)
		sim_violation(s, "group-views",
			      "node %u: group table %016" PRIx64 " after message %" PRIu64 ", node %u had %016" PRIx64
			      " after it (%u groups here)",
			      s->nodes[node].id, d, index, r->node, r->digest, eg_group_count(n->t));
}

static void apply(struct sim *s, struct sim_groups *g, uint32_t node, const struct sg_op *o)
{
	struct sg_node *n = &g->n[node];
	if (g->go.mutate_skip && node == 0 && ++n->ops % 7 == 0)
		return; /* the mutant: this node loses an operation */
	uint8_t name[EG_NAME_MAX], len;
	int join;
	op_of(g, o, name, &len, &join);
	int rc = join ? eg_join(n->t, name, len, o->origin, o->client, SG_REASON_JOIN, NULL)
		      : eg_leave(n->t, name, len, o->origin, o->client, NULL);
	if (rc == EG_OK)
		g->st.applied++;
	else if (rc == EG_EGROUPS)
		g->st.refused_groups++;
	else if (rc == EG_EMEMBERS)
		g->st.refused_members++;
	else
		g->st.noops++;
	record(s, g, n, node, o->index);
}

static struct sg_snap *snap_of(struct sim_groups *g, struct rp_ring_id ring, uint64_t members)
{
	for (size_t i = 0; i < g->nsnap; i++)
		if (same_ring(g->snaps[i].ring, ring))
			return &g->snaps[i];
	g->snaps = grow(g->snaps, &g->capsnap, g->nsnap + 1, sizeof(*g->snaps));
	struct sg_snap *sn = &g->snaps[g->nsnap++];
	sn->ring = ring;
	sn->members = members;
	return sn;
}

static void complete(struct sim *s, struct sim_groups *g, uint32_t node, const struct sg_snap *sn)
{
	struct sg_node *n = &g->n[node];
	eg_sync_begin(n->t);
	/* the SYNCs in one order at every node (the engine: delivery order) */
	for (uint16_t id = 1; id <= 64; id++) {
		if (!(sn->members & (1ull << (id - 1u))))
			continue;
		for (size_t k = 0; k < sn->count; k++) {
			const struct sg_entry *e = &sn->e[k];
			if (e->node != id)
				continue;
			int rc = eg_sync_add(n->t, e->name, e->len, e->node, e->client, e->reason);
			g->st.refused_groups += rc == EG_EGROUPS;
			g->st.refused_members += rc == EG_EMEMBERS;
		}
	}
	eg_sync_end(n->t, NULL, NULL);
	n->waiting = false;
	n->synced = true;
	g->st.exchanges++;
	for (size_t i = 0; i < n->ndef && !s->failed; i++)
		apply(s, g, node, &n->def[i]);
	n->ndef = 0;
}

/* In the engine the exchange finishes at the last SYNC's place in the
 * order, after some messages of the configuration: here, after the first
 * sn_defer(ring) messages delivered in it (the same count at every node,
 * since they deliver the same messages in it), once every member's SYNC is
 * known. Operations delivered before that wait, as in the engine. */
static uint32_t sn_defer(struct rp_ring_id ring) { return (uint32_t)(sim_mix64(ring.seq ^ ring.rep) % 6u); }

static void try_complete(struct sim *s, struct sim_groups *g, const struct sg_snap *sn)
{
	if (sn->have != sn->members)
		return;
	for (uint32_t i = 0; i < g->nodes; i++)
		if (g->n[i].waiting && same_ring(g->n[i].wait_ring, sn->ring) && g->n[i].ndef >= sn_defer(sn->ring))
			complete(s, g, i, sn);
}

static void fresh(struct sim *s, struct sim_groups *g, uint32_t node)
{
	struct sg_node *n = &g->n[node];
	if (n->t != NULL && n->incarnation == s->nodes[node].incarnation)
		return;
	/* a new incarnation starts with an empty table, as a restarted ordod */
	n->t = eg_table_init(n->mem, &g->conf);
	n->incarnation = s->nodes[node].incarnation;
	n->synced = true;
	n->waiting = false;
	n->trans_set = 0;
	n->ndef = 0;
}

static void on_message(struct sim *s, void *arg, uint32_t node, uint64_t index, const struct rp_delivery *d)
{
	struct sim_groups *g = arg;
	fresh(s, g, node);
	struct sg_node *n = &g->n[node];
	struct sg_op o = {.index = index, .origin = d->origin, .client = d->client_id + 1u};
	if (n->waiting) {
		n->def = grow(n->def, &n->capdef, n->ndef + 1, sizeof(*n->def));
		n->def[n->ndef++] = o;
		g->st.deferred++;
		for (size_t i = 0; i < g->nsnap; i++)
			if (same_ring(g->snaps[i].ring, n->wait_ring)) {
				try_complete(s, g, &g->snaps[i]);
				break;
			}
		return;
	}
	apply(s, g, node, &o);
}

static void on_config(struct sim *s, void *arg, uint32_t node, const struct rp_configuration *c)
{
	struct sim_groups *g = arg;
	fresh(s, g, node);
	struct sg_node *n = &g->n[node];
	uint16_t me = s->nodes[node].id;
	uint64_t set = 0;
	for (uint16_t i = 0; i < c->member_count; i++)
		set |= 1ull << (c->members[i] - 1u);
	n->conf_key = sim_mix64(((uint64_t)c->ring.rep << 48) ^ c->ring.seq ^ (uint64_t)c->kind << 40);
	if (c->kind == RP_CONFIG_TRANSITIONAL)
		n->conf_key ^= sim_mix64(((uint64_t)c->old_ring.rep << 48) ^ c->old_ring.seq);
	if (c->kind == RP_CONFIG_TRANSITIONAL) {
		if (n->waiting) {
			/* the exchange did not finish: what waited happened in the
			 * configuration that ends, on a table nobody else shares */
			n->waiting = false;
			n->synced = false;
			g->st.aborted++;
			for (size_t i = 0; i < n->ndef; i++)
				apply(s, g, node, &n->def[i]);
			n->ndef = 0;
		}
		eg_keep_nodes(n->t, set, NULL, NULL);
		n->trans_set = set;
		return;
	}
	uint64_t before = n->trans_set ? n->trans_set : (1ull << (me - 1u));
	n->trans_set = 0;
	if ((set & ~before) == 0)
		return;
	/* this node's SYNC: its own members now */
	struct sg_snap *sn = snap_of(g, c->ring, set);
	if (!(sn->have & (1ull << (me - 1u)))) {
		for (uint32_t i = 0; i < g->conf.max_groups; i++) {
			const struct eg_group *x = eg_group_at(n->t, i);
			if (x == NULL)
				continue;
			uint32_t first, k = eg_node_range(x, me, &first);
			for (uint32_t j = first; j < first + k; j++) {
				sn->e = grow(sn->e, &sn->cap, sn->count + 1, sizeof(*sn->e));
				struct sg_entry *e = &sn->e[sn->count++];
				e->node = me;
				e->client = x->m[j].client;
				e->reason = x->m[j].reason;
				e->len = x->len;
				memcpy(e->name, x->name, x->len);
			}
		}
		sn->have |= 1ull << (me - 1u);
	}
	n->waiting = true;
	n->wait_ring = c->ring;
	try_complete(s, g, sn);
}

struct sim_groups *sim_groups_attach(struct sim_opts *o, const struct sim_groups_opts *go)
{
	if (o->nodes == 0 || o->nodes > SIM_NODES_MAX)
		return NULL;
	struct sim_groups *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->go = *go;
	g->nodes = o->nodes;
	g->conf = (struct eg_conf){.max_groups = go->max_groups, .max_members = go->max_members};
	size_t size = eg_table_size(&g->conf);
	for (uint32_t i = 0; size != 0 && i < o->nodes; i++) {
		g->n[i].mem = aligned_alloc(8, (size + 7u) & ~(size_t)7u);
		if (!g->n[i].mem) {
			sim_groups_free(g);
			return NULL;
		}
	}
	if (size == 0) {
		sim_groups_free(g);
		return NULL;
	}
	o->on_message = on_message;
	o->on_config = on_config;
	o->deliver_arg = g;
	return g;
}

void sim_groups_stats(const struct sim_groups *g, struct sim_groups_stats *out) { *out = g->st; }

void sim_groups_free(struct sim_groups *g)
{
	if (!g)
		return;
	for (uint32_t i = 0; i < SIM_NODES_MAX; i++) {
		free(g->n[i].mem);
		free(g->n[i].def);
	}
	for (size_t i = 0; i < g->nsnap; i++)
		free(g->snaps[i].e);
	free(g->snaps);
	free(g->at);
	free(g);
}
