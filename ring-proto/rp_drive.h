/* rp_drive.h — the driver's side of rp.h's contract, once: in which order
 * every driver (the engine's worker, the simulator in tests/sim/, the
 * in-memory ring of bench/) steps a node, performs the step's actions and
 * takes back the lent frames the node no longer references.
 *
 *   rc = rp_step(node, in, now, acts)
 *   RP_KEPT: the node now keeps in->frame.lend      -> kept()
 *   the driver's checks of the step, if any         -> stepped()
 *   every action, in order, before anything else    -> perform()
 *   only then the returned lent frames (the actions
 *   may point into them)                            -> returned(), each
 *
 * Header-only and static inline: a driver passes a `static const struct
 * rp_driver`, so the compiler calls its functions directly, or inlines
 * them (no indirect call on the worker's path). libc-free like the rest of
 * ring-proto. Any thread: the one that steps the node.
 */
#ifndef RP_DRIVE_H
#define RP_DRIVE_H

#include "rp.h"

#include <stdbool.h>
#include <stddef.h>

struct rp_driver {
	/* rp_step returned RP_KEPT: the node keeps in->frame.lend. NULL: the
	 * driver lends nothing. */
	void (*kept)(void *ctx, const struct rp_input *in);
	/* after rp_step, before its actions are performed (the simulator's
	 * checks). NULL: none. */
	void (*stepped)(void *ctx, const struct rp_input *in, int rc);
	/* the step's actions, every one in order */
	void (*perform)(void *ctx, const struct rp_actions *acts);
	/* a lent frame the node no longer references: the driver's again.
	 * Returns false to take no more now (the simulator after a violation). */
	bool (*returned)(void *ctx, void *lend);
};

#define RP_DRIVE_RETURN_BATCH 64

/* Takes back every lent frame the node hands back now. Always inlined, as
 * the drivers' own loops were (callgrind counts the call otherwise). */
static inline __attribute__((always_inline)) void rp_drive_returned(struct rp_node *n, const struct rp_driver *d, void *ctx)
{
	void *v[RP_DRIVE_RETURN_BATCH];
	size_t k;
	while ((k = rp_take_returned(n, v, RP_DRIVE_RETURN_BATCH)) > 0)
		for (size_t i = 0; i < k; i++)
			if (!d->returned(ctx, v[i]))
				return;
}

/* One step of node n and everything that follows from it. Returns
 * rp_step's value. */
static inline __attribute__((always_inline)) int rp_drive(struct rp_node *n, const struct rp_input *in, uint64_t now_ns,
			   struct rp_actions *acts, const struct rp_driver *d, void *ctx)
{
	int rc = rp_step(n, in, now_ns, acts);
	if (rc == RP_KEPT && d->kept != NULL)
		d->kept(ctx, in);
	if (d->stepped != NULL)
		d->stepped(ctx, in, rc);
	d->perform(ctx, acts);
	rp_drive_returned(n, d, ctx);
	return rc;
}

/* Before the node's memory is dropped or initialised again: every frame it
 * keeps back to the driver. The node must not be stepped afterwards. */
static inline void rp_drive_return_all(struct rp_node *n, const struct rp_driver *d, void *ctx)
{
	rp_return_all(n);
	rp_drive_returned(n, d, ctx);
}

#endif
