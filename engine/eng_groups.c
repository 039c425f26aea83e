/* eng_groups.c — the group table as a replicated state machine
 * (eng_groups.h): groups in fixed slots with fixed member arrays, a name
 * index with linear probing, and two halves, the table and the one the
 * group-state exchange builds.
 *
 * Owns: the memory eg_table_init() was given; nothing else.
 * Never: allocates, or lets a decision depend on anything but the table
 * and the operation (slot choice, probing and deletion follow the history
 * alone, the same at every node).
 */
#include "eng_groups.h"

#include <string.h>

struct eg_half {
	struct eg_group *slots;   /* max_groups */
	uint8_t *used;            /* max_groups: 1 if the slot holds a group */
	struct eg_member *pool;   /* max_groups * max_members */
	uint32_t *index;          /* hmask + 1 entries: slot + 1, 0 empty */
	uint32_t *free;           /* stack of free slots, the lowest on top */
	uint32_t free_count, count;
};

struct eg_table {
	struct eg_conf c;
	uint32_t hmask;
	uint32_t cur;             /* h[cur] is the table; h[!cur] the exchange's */
	struct eg_half h[2];
	struct eg_member *joined, *left; /* max_members each: a bulk change's lists */
	struct eg_group gone;     /* a deleted group, as reported */
};

static size_t align8(size_t n) { return (n + 7u) & ~(size_t)7u; }

static uint32_t index_size(const struct eg_conf *c)
{
	uint32_t n = 8;
	while (n < 2u * c->max_groups)
		n *= 2u;
	return n;
}

static int conf_ok(const struct eg_conf *c)
{
	return c->max_groups >= 1 && c->max_groups <= EG_GROUPS_LIMIT && c->max_members >= 1 &&
	       c->max_members <= EG_MEMBERS_LIMIT;
}

static size_t half_size(const struct eg_conf *c)
{
	size_t g = c->max_groups;
	return align8(g * sizeof(struct eg_group)) + align8(g) + align8(g * c->max_members * sizeof(struct eg_member)) +
	       align8((size_t)index_size(c) * sizeof(uint32_t)) + align8(g * sizeof(uint32_t));
}

size_t eg_table_size(const struct eg_conf *c)
{
	if (!conf_ok(c))
		return 0;
	return align8(sizeof(struct eg_table)) + 2u * half_size(c) +
	       2u * align8((size_t)c->max_members * sizeof(struct eg_member));
}

static void half_clear(struct eg_table *t, struct eg_half *h)
{
	memset(h->used, 0, t->c.max_groups);
	memset(h->index, 0, (size_t)(t->hmask + 1u) * sizeof(uint32_t));
	for (uint32_t k = 0; k < t->c.max_groups; k++)
		h->free[k] = t->c.max_groups - 1u - k;
	h->free_count = t->c.max_groups;
	h->count = 0;
}

struct eg_table *eg_table_init(void *mem, const struct eg_conf *c)
{
	if (!conf_ok(c))
		return NULL;
	uint8_t *p = mem;
	struct eg_table *t = mem;
	memset(t, 0, sizeof(*t));
	t->c = *c;
	t->hmask = index_size(c) - 1u;
	p += align8(sizeof(*t));
	for (int k = 0; k < 2; k++) {
		struct eg_half *h = &t->h[k];
		size_t g = c->max_groups;
		h->slots = (struct eg_group *)p;
		p += align8(g * sizeof(struct eg_group));
		h->used = p;
		p += align8(g);
		h->pool = (struct eg_member *)p;
		p += align8(g * c->max_members * sizeof(struct eg_member));
		h->index = (uint32_t *)p;
		p += align8((size_t)index_size(c) * sizeof(uint32_t));
		h->free = (uint32_t *)p;
		p += align8(g * sizeof(uint32_t));
		for (uint32_t s = 0; s < c->max_groups; s++)
			h->slots[s] = (struct eg_group){.m = h->pool + (size_t)s * c->max_members};
		half_clear(t, h);
	}
	t->joined = (struct eg_member *)p;
	p += align8((size_t)c->max_members * sizeof(struct eg_member));
	t->left = (struct eg_member *)p;
	return t;
}

/* ---- the name index ---- */

static uint32_t hash_name(const uint8_t *name, uint8_t len)
{
	uint32_t h = 2166136261u;
	for (uint8_t i = 0; i < len; i++)
		h = (h ^ name[i]) * 16777619u;
	return h;
}

static int name_ok(const uint8_t *name, uint8_t len) { return name != NULL && len >= 1 && len <= EG_NAME_MAX; }

/* The slot of the group called name in h, or -1. */
static int64_t find_in(const struct eg_table *t, const struct eg_half *h, const uint8_t *name, uint8_t len)
{
	for (uint32_t i = hash_name(name, len) & t->hmask;; i = (i + 1u) & t->hmask) {
		uint32_t e = h->index[i];
		if (e == 0)
			return -1;
		const struct eg_group *g = &h->slots[e - 1u];
		if (g->len == len && memcmp(g->name, name, len) == 0)
			return (int64_t)(e - 1u);
	}
}

/* A new, empty group called name in h; -1 if every slot is taken. */
static int64_t create_in(struct eg_table *t, struct eg_half *h, const uint8_t *name, uint8_t len)
{
	if (h->free_count == 0)
		return -1;
	uint32_t s = h->free[--h->free_count];
	struct eg_group *g = &h->slots[s];
	g->len = len;
	memset(g->name, 0, sizeof(g->name));
	memcpy(g->name, name, len);
	g->count = 0;
	h->used[s] = 1;
	h->count++;
	uint32_t i = hash_name(name, len) & t->hmask;
	while (h->index[i] != 0)
		i = (i + 1u) & t->hmask;
	h->index[i] = s + 1u;
	return s;
}

/* Deletes the group in slot s (its content stays readable until the slot
 * is taken again). Linear probing: later entries of the probe run move
 * back into the hole unless their home lies in (hole, them]. */
static void delete_in(struct eg_table *t, struct eg_half *h, uint32_t s)
{
	const struct eg_group *g = &h->slots[s];
	uint32_t i = hash_name(g->name, g->len) & t->hmask;
	while (h->index[i] != s + 1u)
		i = (i + 1u) & t->hmask;
	h->index[i] = 0;
	for (uint32_t j = (i + 1u) & t->hmask; h->index[j] != 0; j = (j + 1u) & t->hmask) {
		const struct eg_group *o = &h->slots[h->index[j] - 1u];
		uint32_t home = hash_name(o->name, o->len) & t->hmask;
		if (((j - home) & t->hmask) >= ((j - i) & t->hmask)) {
			h->index[i] = h->index[j];
			h->index[j] = 0;
			i = j;
		}
	}
	h->used[s] = 0;
	h->free[h->free_count++] = s;
	h->count--;
}

/* ---- members ---- */

static int member_cmp(const struct eg_member *a, uint16_t node, uint32_t client)
{
	if (a->node != node)
		return a->node < node ? -1 : 1;
	if (a->client != client)
		return a->client < client ? -1 : 1;
	return 0;
}

/* The index of (node, client) in g, or where it would go (*found 0). */
static uint32_t member_pos(const struct eg_group *g, uint16_t node, uint32_t client, int *found)
{
	uint32_t lo = 0, hi = g->count;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2u;
		int c = member_cmp(&g->m[mid], node, client);
		if (c == 0) {
			*found = 1;
			return mid;
		}
		if (c < 0)
			lo = mid + 1u;
		else
			hi = mid;
	}
	*found = 0;
	return lo;
}

uint32_t eg_node_range(const struct eg_group *g, uint16_t node, uint32_t *first)
{
	int found;
	uint32_t lo = member_pos(g, node, 0, &found);
	uint32_t hi = lo;
	while (hi < g->count && g->m[hi].node == node)
		hi++;
	*first = lo;
	return hi - lo;
}

/* Adds to h; the same rules for a JOIN and a SYNC entry. */
static int add_in(struct eg_table *t, struct eg_half *h, const uint8_t *name, uint8_t len, uint16_t node,
		  uint32_t client, uint16_t reason, const struct eg_group **out)
{
	if (!name_ok(name, len))
		return EG_EINVAL;
	int64_t s = find_in(t, h, name, len);
	if (s < 0) {
		s = create_in(t, h, name, len);
		if (s < 0)
			return EG_EGROUPS;
	}
	struct eg_group *g = &h->slots[s];
	if (out != NULL)
		*out = g;
	int found;
	uint32_t i = member_pos(g, node, client, &found);
	if (found)
		return EG_NOCHANGE;
	if (g->count == t->c.max_members)
		return EG_EMEMBERS; /* (a group refused a member is never a new one) */
	memmove(g->m + i + 1, g->m + i, (g->count - i) * sizeof(*g->m));
	g->m[i] = (struct eg_member){.node = node, .reason = reason, .client = client};
	g->count++;
	return EG_OK;
}

/* ---- operations ---- */

const struct eg_group *eg_find(const struct eg_table *t, const uint8_t *name, uint8_t len)
{
	if (!name_ok(name, len))
		return NULL;
	const struct eg_half *h = &t->h[t->cur];
	int64_t s = find_in(t, h, name, len);
	return s < 0 ? NULL : &h->slots[s];
}

uint32_t eg_group_count(const struct eg_table *t) { return t->h[t->cur].count; }

const struct eg_group *eg_group_at(const struct eg_table *t, uint32_t i)
{
	const struct eg_half *h = &t->h[t->cur];
	return i < t->c.max_groups && h->used[i] ? &h->slots[i] : NULL;
}

int eg_join(struct eg_table *t, const uint8_t *name, uint8_t len, uint16_t node, uint32_t client,
	    uint16_t reason, const struct eg_group **g)
{
	return add_in(t, &t->h[t->cur], name, len, node, client, reason, g);
}

int eg_leave(struct eg_table *t, const uint8_t *name, uint8_t len, uint16_t node, uint32_t client,
	     const struct eg_group **out)
{
	if (!name_ok(name, len))
		return EG_EINVAL;
	struct eg_half *h = &t->h[t->cur];
	int64_t s = find_in(t, h, name, len);
	if (s < 0)
		return EG_NOCHANGE;
	struct eg_group *g = &h->slots[s];
	int found;
	uint32_t i = member_pos(g, node, client, &found);
	if (!found)
		return EG_NOCHANGE;
	memmove(g->m + i, g->m + i + 1, (g->count - i - 1u) * sizeof(*g->m));
	g->count--;
	if (g->count == 0)
		delete_in(t, h, (uint32_t)s);
	if (out != NULL)
		*out = g;
	return EG_OK;
}

void eg_keep_nodes(struct eg_table *t, uint64_t keep, eg_changed_fn changed, void *ctx)
{
	struct eg_half *h = &t->h[t->cur];
	for (uint32_t s = 0; s < t->c.max_groups; s++) {
		if (!h->used[s])
			continue;
		struct eg_group *g = &h->slots[s];
		uint32_t n = 0, nl = 0;
		for (uint32_t k = 0; k < g->count; k++) {
			uint16_t node = g->m[k].node;
			if (node >= 1 && node <= 64 && (keep & (1ull << (node - 1u))))
				g->m[n++] = g->m[k];
			else
				t->left[nl++] = g->m[k];
		}
		if (nl == 0)
			continue;
		g->count = n;
		if (n == 0)
			delete_in(t, h, s);
		if (changed != NULL)
			changed(ctx, g, NULL, 0, t->left, nl);
	}
}

void eg_sync_begin(struct eg_table *t) { half_clear(t, &t->h[!t->cur]); }

int eg_sync_add(struct eg_table *t, const uint8_t *name, uint8_t len, uint16_t node, uint32_t client,
		uint16_t reason)
{
	return add_in(t, &t->h[!t->cur], name, len, node, client, reason, NULL);
}

/* Who is in a and not in b, both sorted: into out; returns how many. */
static uint32_t diff(const struct eg_member *a, uint32_t na, const struct eg_member *b, uint32_t nb,
		     struct eg_member *out)
{
	uint32_t i = 0, j = 0, n = 0;
	while (i < na) {
		int c = j < nb ? member_cmp(&a[i], b[j].node, b[j].client) : -1;
		if (c < 0)
			out[n++] = a[i++];
		else if (c > 0)
			j++;
		else {
			i++;
			j++;
		}
	}
	return n;
}

void eg_sync_end(struct eg_table *t, eg_changed_fn changed, void *ctx)
{
	struct eg_half *old = &t->h[t->cur], *nw = &t->h[!t->cur];
	t->cur = !t->cur;
	for (uint32_t s = 0; s < t->c.max_groups; s++) {
		if (!nw->used[s])
			continue;
		const struct eg_group *g = &nw->slots[s];
		int64_t o = find_in(t, old, g->name, g->len);
		const struct eg_member *om = o < 0 ? NULL : old->slots[o].m;
		uint32_t on = o < 0 ? 0 : old->slots[o].count;
		uint32_t nj = diff(g->m, g->count, om, on, t->joined);
		uint32_t nl = diff(om, on, g->m, g->count, t->left);
		if ((nj != 0 || nl != 0) && changed != NULL)
			changed(ctx, g, t->joined, nj, t->left, nl);
	}
	for (uint32_t s = 0; s < t->c.max_groups; s++) {
		if (!old->used[s])
			continue;
		const struct eg_group *g = &old->slots[s];
		if (find_in(t, nw, g->name, g->len) >= 0)
			continue;
		/* gone: every member left */
		t->gone = (struct eg_group){.len = g->len, .count = 0, .m = t->left};
		memcpy(t->gone.name, g->name, sizeof(g->name));
		memcpy(t->left, g->m, g->count * sizeof(*g->m));
		if (changed != NULL)
			changed(ctx, &t->gone, NULL, 0, t->left, g->count);
	}
}

/* ---- checks ---- */

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

uint64_t eg_digest(const struct eg_table *t)
{
	const struct eg_half *h = &t->h[t->cur];
	uint64_t sum = h->count;
	for (uint32_t s = 0; s < t->c.max_groups; s++) {
		if (!h->used[s])
			continue;
		const struct eg_group *g = &h->slots[s];
		uint64_t x = mix(0, g->len);
		for (uint8_t i = 0; i < g->len; i++)
			x = mix(x, g->name[i]);
		for (uint32_t k = 0; k < g->count; k++)
			x = mix(x, ((uint64_t)g->m[k].node << 48) ^ ((uint64_t)g->m[k].reason << 32) ^ g->m[k].client);
		sum += x; /* commutative: slots do not matter */
	}
	return sum;
}

int eg_check(const struct eg_table *t, const char **why)
{
	const struct eg_half *h = &t->h[t->cur];
	uint32_t used = 0, indexed = 0;
	for (uint32_t s = 0; s < t->c.max_groups; s++) {
		if (!h->used[s])
			continue;
		used++;
		const struct eg_group *g = &h->slots[s];
		if (g->count == 0 || g->count > t->c.max_members) {
			*why = "a group is empty or over max_members";
			return -1;
		}
		if (!name_ok(g->name, g->len)) {
			*why = "a group's name is empty or too long";
			return -1;
		}
		for (uint32_t k = 1; k < g->count; k++)
			if (member_cmp(&g->m[k - 1], g->m[k].node, g->m[k].client) >= 0) {
				*why = "a group's members are not sorted by (node, client), or repeat";
				return -1;
			}
		if (find_in(t, h, g->name, g->len) != (int64_t)s) {
			*why = "the index does not find a group";
			return -1;
		}
	}
	for (uint32_t i = 0; i <= t->hmask; i++)
		if (h->index[i] != 0) {
			indexed++;
			if (h->index[i] > t->c.max_groups || !h->used[h->index[i] - 1u]) {
				*why = "the index holds a free slot";
				return -1;
			}
		}
	if (used != h->count || indexed != h->count || used > t->c.max_groups ||
	    h->free_count + h->count != t->c.max_groups) {
		*why = "the group count, the index and the free slots disagree";
		return -1;
	}
	return 0;
}
