/* rp_topo.c — which nodes sit on which network: the configured graph, its
 * cut, and the ring order membership chooses (docs/protocol.md §17.1, 17.3).
 *
 * Owns: pure functions of struct rp_config. Two nodes are joined when they
 * share a configured network (G₀). The ring order of a member set is the
 * lowest, in lexicographic order, of the cyclic orders that start at its
 * lowest id and in which consecutive members (the last and the first
 * included) share a network: a Hamiltonian cycle of G₀ restricted to the
 * set, found by a depth-first search bounded by RP_TOPO_SEARCH_MAX
 * extensions so that every member gives up at the same point.
 * Never: looks at working links (a node's view of them is its own, and
 * every member must compute the same order); allocates.
 */
#include "rp_internal.h"

#include <string.h>

static uint64_t configured(const struct rp_config *c)
{
	uint64_t set = 0;
	for (uint32_t i = 0; i < c->member_count && i < RP_NODES_MAX; i++)
		if (c->members[i] >= 1 && c->members[i] <= RP_NODES_MAX)
			set |= rp_bit(c->members[i]);
	return set;
}

static uint64_t net_nodes(const struct rp_config *c, uint32_t k, uint64_t all)
{
	return c->path_nodes[k] != 0 ? c->path_nodes[k] & all : all;
}

uint8_t rp_topo_paths_of(const struct rp_config *c, uint16_t id)
{
	uint64_t all = configured(c);
	uint8_t m = 0;
	for (uint32_t k = 0; k < c->path_count && k < RP_PATHS_MAX; k++)
		if (net_nodes(c, k, all) & rp_bit(id))
			m |= (uint8_t)(1u << k);
	return m;
}

int rp_topo_partial(const struct rp_config *c)
{
	uint64_t all = configured(c);
	for (uint32_t k = 0; k < c->path_count && k < RP_PATHS_MAX; k++)
		if (net_nodes(c, k, all) != all)
			return 1;
	return 0;
}

/* The nodes of `set` that share a network with node id. */
static uint64_t neighbours(const struct rp_config *c, uint64_t all, uint16_t id, uint64_t set)
{
	uint64_t nb = 0;
	for (uint32_t k = 0; k < c->path_count && k < RP_PATHS_MAX; k++) {
		uint64_t on = net_nodes(c, k, all);
		if (on & rp_bit(id))
			nb |= on;
	}
	return nb & set & ~rp_bit(id);
}

static uint16_t lowest(uint64_t set)
{
	for (uint16_t id = 1; id <= RP_NODES_MAX; id++)
		if (set & rp_bit(id))
			return id;
	return 0;
}

uint64_t rp_topo_cut(const struct rp_config *c)
{
	uint64_t all = configured(c);
	if (all == 0)
		return 0;
	uint64_t seen = rp_bit(lowest(all)), frontier = seen;
	while (frontier != 0) {
		uint16_t id = lowest(frontier);
		frontier &= ~rp_bit(id);
		uint64_t nb = neighbours(c, all, id, all) & ~seen;
		seen |= nb;
		frontier |= nb;
	}
	return seen == all ? 0 : seen;
}

static uint32_t ascending(uint64_t set, uint16_t *order)
{
	uint32_t k = 0;
	for (uint16_t id = 1; id <= RP_NODES_MAX; id++)
		if (set & rp_bit(id))
			order[k++] = id;
	return k;
}

int rp_topo_order(const struct rp_config *c, uint64_t set, uint16_t *order)
{
	uint64_t all = configured(c);
	set &= all;
	uint32_t count = ascending(set, order);
	if (count <= 2)
		return count < 2 || (neighbours(c, all, order[0], set) & rp_bit(order[1])) != 0;
	/* nb[id-1]: the set's members sharing a network with id */
	uint64_t nb[RP_NODES_MAX];
	for (uint32_t i = 0; i < count; i++)
		nb[order[i] - 1u] = neighbours(c, all, order[i], set);
	uint16_t path[RP_NODES_MAX];
	uint16_t tried[RP_NODES_MAX]; /* at each depth, the last id tried there */
	path[0] = order[0];
	uint64_t used = rp_bit(order[0]);
	uint32_t depth = 1, steps = 0;
	tried[1] = 0;
	while (depth > 0) {
		if (depth == count) {
			if (nb[path[count - 1u] - 1u] & rp_bit(path[0])) {
				memcpy(order, path, count * sizeof(order[0]));
				return 1;
			}
			depth--;
			used &= ~rp_bit(path[depth]);
			continue;
		}
		/* the next candidate above the last one tried at this depth */
		uint64_t cand = nb[path[depth - 1u] - 1u] & ~used;
		if (tried[depth] != 0)
			cand &= ~((rp_bit(tried[depth]) << 1) - 1u);
		if (cand == 0 || steps >= RP_TOPO_SEARCH_MAX) {
			if (steps >= RP_TOPO_SEARCH_MAX)
				break;
			depth--;
			if (depth > 0)
				used &= ~rp_bit(path[depth]);
			continue;
		}
		uint16_t next = lowest(cand);
		steps++;
		tried[depth] = next;
		path[depth] = next;
		used |= rp_bit(next);
		depth++;
		if (depth < count)
			tried[depth] = 0;
	}
	ascending(set, order);
	return 0;
}
