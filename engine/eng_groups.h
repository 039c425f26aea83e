/* eng_groups.h — the group table (docs/attach.md §5): which clients of
 * which nodes are members of which group, as a replicated state machine.
 *
 * Every node applies the same operations (JOIN, LEAVE, the departure of
 * nodes at a transitional configuration, the group-state exchange after a
 * merge) in the total order to a table of the same size, so every node
 * holds the same views at the same point of the order (docs/design.md §3,
 * property 6). The table's limits come from configuration that is the same
 * at every node ([node] max_groups, max_group_members), and a decision
 * reads nothing but the table and the operation: an operation either
 * applies at every node or is refused at every node.
 *
 * Owns: the groups, each group's members sorted by (node, client), the
 * name index (open addressing), and the second table the group-state
 * exchange builds before it replaces the first.
 *
 * Never: allocates (the caller gives eg_table_size() bytes once, as
 * ring-proto's rp_node_size()), reads a clock, or depends on anything but
 * its inputs: libc only (tests/unit/check-symbols.sh holds it to that).
 *
 * Thread context: one thread at a time per table (the engine's worker).
 */
#ifndef ENG_GROUPS_H
#define ENG_GROUPS_H

#include <stddef.h>
#include <stdint.h>

#define EG_NAME_MAX 32u
#define EG_GROUPS_LIMIT 65536u   /* max_groups at most */
#define EG_MEMBERS_LIMIT 65536u  /* max_group_members at most */

struct eg_conf {
	uint32_t max_groups;      /* groups with at least one member, at once */
	uint32_t max_members;     /* members of one group */
};

/* A member: the layout of attach_proto.h's struct att_member, so a view's
 * member list is copied as it is. */
struct eg_member {
	uint16_t node;
	uint16_t reason;          /* enum ordo_reason it joined with */
	uint32_t client;
};

struct eg_group {
	uint8_t len;
	uint8_t name[EG_NAME_MAX];
	uint32_t count;
	struct eg_member *m;      /* count members, sorted by (node, client) */
};

enum eg_result {
	EG_OK = 0,
	EG_NOCHANGE = 1,          /* already a member (JOIN), not a member (LEAVE) */
	EG_EGROUPS = -1,          /* a new group, and max_groups groups exist */
	EG_EMEMBERS = -2,         /* the group has max_members members */
	EG_EINVAL = -3,           /* a name of 0 or more than 32 bytes */
};

struct eg_table;

/* Bytes a table of c needs (both halves, the index, the change lists); 0
 * if c is out of range. */
size_t eg_table_size(const struct eg_conf *c);
/* Lays a table out in mem (eg_table_size(c) bytes, 8-aligned); returns it,
 * empty, or NULL if c is out of range. */
struct eg_table *eg_table_init(void *mem, const struct eg_conf *c);

const struct eg_group *eg_find(const struct eg_table *t, const uint8_t *name, uint8_t len);
/* Groups that exist now (each has a member). */
uint32_t eg_group_count(const struct eg_table *t);
/* Iteration: the group in slot i (0 <= i < max_groups), NULL if the slot is
 * free. The slots a history fills are the same at every node. */
const struct eg_group *eg_group_at(const struct eg_table *t, uint32_t i);
/* The members of node in g: returns how many, *first the index of the first. */
uint32_t eg_node_range(const struct eg_group *g, uint16_t node, uint32_t *first);

/* JOIN: EG_OK (added; *g the group), EG_NOCHANGE, EG_EGROUPS, EG_EMEMBERS,
 * EG_EINVAL. */
int eg_join(struct eg_table *t, const uint8_t *name, uint8_t len, uint16_t node, uint32_t client,
	    uint16_t reason, const struct eg_group **g);
/* LEAVE: EG_OK (removed; *g the group, which stays readable until the
 * next change of the table even when it became empty and was deleted),
 * EG_NOCHANGE, EG_EINVAL. */
int eg_leave(struct eg_table *t, const uint8_t *name, uint8_t len, uint16_t node, uint32_t client,
	     const struct eg_group **g);

/* Called for each group a bulk change changed: g after the change (count
 * 0: it was deleted), who joined and who left (each sorted). */
typedef void (*eg_changed_fn)(void *ctx, const struct eg_group *g, const struct eg_member *joined,
			      uint32_t joined_count, const struct eg_member *left, uint32_t left_count);

/* Removes every member of a node not in keep (bit node - 1), at a
 * transitional configuration. */
void eg_keep_nodes(struct eg_table *t, uint64_t keep, eg_changed_fn changed, void *ctx);

/* The group-state exchange (docs/attach.md §5): begin, then every entry of
 * every node's SYNC in delivery order, then end, which replaces the table
 * with what the entries said and reports the differences. An entry the
 * new table cannot take (its limits) is refused: EG_EGROUPS or
 * EG_EMEMBERS, as a JOIN would be. */
void eg_sync_begin(struct eg_table *t);
int eg_sync_add(struct eg_table *t, const uint8_t *name, uint8_t len, uint16_t node, uint32_t client,
		uint16_t reason);
void eg_sync_end(struct eg_table *t, eg_changed_fn changed, void *ctx);

/* A digest of the table's content (groups, members, reasons), the same for
 * equal tables whatever their slots: what the simulator compares. */
uint64_t eg_digest(const struct eg_table *t);
/* Checks the table's invariants (sorted members, limits, the index finds
 * every group and nothing else); 0, or -1 with *why saying which failed.
 * For tests and the simulator. */
int eg_check(const struct eg_table *t, const char **why);

#endif
