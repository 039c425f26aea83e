/* sim_groups.h — the group table (engine/eng_groups.[ch]) under the
 * simulator: each node feeds the group operations it delivers into a table
 * of its own, and the checker compares the tables at the same point of the
 * total order (docs/design.md §3, property 6).
 *
 * The operations come from the simulated load: every delivered message
 * stands for a JOIN or LEAVE (chosen by its number, the same at every node)
 * of one group by its sender (node, client). Configurations drive the rest
 * as in the engine (docs/attach.md §5): members of departed nodes leave at
 * the transitional configuration; after a regular configuration that
 * brought new nodes, each node's SYNC (its own members, as its table had
 * them when it installed the configuration) is exchanged, operations
 * delivered meanwhile wait, and the exchange replaces every table with the
 * same content. A node compares its table's digest after each operation
 * with every other node's after the same message; an exchange that did not
 * finish (a configuration change came first) leaves its tables out of the
 * comparison until the next one finishes, as in the engine.
 *
 * Thread context: the simulator's (single-threaded).
 */
#ifndef SIM_GROUPS_H
#define SIM_GROUPS_H

#include <stdbool.h>
#include <stdint.h>

#include "sim.h"

struct sim_groups_opts {
	uint32_t max_groups;      /* the table's limits: small, so that refusals happen */
	uint32_t max_members;
	uint32_t names;           /* group names the operations use */
	bool mutate_skip;         /* node index 0 skips every 7th operation: the checker must object */
};

struct sim_groups_stats {
	uint64_t applied, refused_groups, refused_members, noops;
	uint64_t exchanges, aborted, deferred, compared;
};

struct sim_groups;

/* Sets o's delivery hooks; NULL if o's node count is out of range. */
struct sim_groups *sim_groups_attach(struct sim_opts *o, const struct sim_groups_opts *go);
void sim_groups_stats(const struct sim_groups *g, struct sim_groups_stats *out);
void sim_groups_free(struct sim_groups *g);

#endif
