/* sim_stale.c — the network model's stale corners (DESIGN.md §6: stale
 * and replayed frames are counted and dropped, never harm a node).
 *
 * Owns, while the faults run (sim_opts.stale):
 *   held     a copy held back and released long after: 1 ms up to four
 *            consensus timeouts (a frame stuck in a queue, a slow path);
 *   replay   a copy of a frame sent earlier in the run — other rings, dead
 *            incarnations — put on the wire again (a looping switch, a
 *            replaying attacker without the key check);
 *   burst    copies that a path fault would drop are queued instead, up to
 *            SIM_STALE_QUEUE per receiver and path, and all arrive within
 *            microseconds when the path returns (the real topology keeps
 *            ~512 frames in its veth and packet rings across a cut).
 * Every choice comes from the run's seeded stream, so runs stay replayable.
 */
#include "sim_internal.h"

#include <stdlib.h>

#define US 1000ull
#define MS (1000ull * 1000ull)

static void buf_drop(struct sim *s, struct sim_buf *b)
{
	if (b != NULL)
		sim_buf_unref(s, b);
}

/* Keeps a reference to a frame just fanned out: the newest SIM_ARCHIVE/2
 * in a ring, and every 64th in a second ring that reaches further back. */
void sim_stale_archive(struct sim *s, struct sim_buf *b, uint32_t from, uint8_t path)
{
	if (!s->stale_on)
		return;
	uint64_t k = s->archived++;
	uint32_t half = SIM_ARCHIVE / 2u;
	uint32_t slot[2] = {(uint32_t)(k % half), half + (uint32_t)((k / 64u) % half)};
	for (int i = 0; i < ((k % 64u) == 0 ? 2 : 1); i++) {
		struct sim_stale_frame *f = &s->archive[slot[i]];
		buf_drop(s, f->buf);
		b->refs++;
		*f = (struct sim_stale_frame){.buf = b, .from = from, .path = path};
	}
}

/* The delay of one copy: usually the path's, sometimes held back long. */
uint64_t sim_stale_delay(struct sim *s, uint64_t delay)
{
	if (s->stale_on && s->now < s->opts.load_ns && sim_chance(s, s->hold_chance)) {
		s->held++;
		return sim_rand_range(s, 1 * MS, 4u * s->cfg.consensus_ns);
	}
	return delay;
}

static void arrive(struct sim *s, uint32_t to, uint8_t path, struct sim_buf *b, uint64_t at)
{
	b->refs++;
	sim_ev_push(s, (struct sim_event){.at = at, .kind = SIM_EV_ARRIVE, .node = to, .path = path, .buf = b});
}

/* Now and then, after a copy went out, an archived frame goes out again
 * to a random node (not its sender) on the path it was first sent on. */
void sim_stale_maybe_replay(struct sim *s)
{
	if (!s->stale_on || s->now >= s->opts.load_ns || !sim_chance(s, s->replay_chance))
		return;
	uint64_t have = s->archived < SIM_ARCHIVE ? s->archived : SIM_ARCHIVE;
	if (have == 0)
		return;
	const struct sim_stale_frame *f = &s->archive[sim_rand_range(s, 0, have - 1u)];
	if (f->buf == NULL || s->opts.nodes < 2)
		return;
	uint32_t to = (uint32_t)sim_rand_range(s, 0, s->opts.nodes - 2u);
	if (to >= f->from)
		to++;
	if (!((s->on[to] >> f->path) & 1u))
		return; /* a partial topology: that node is not on the path */
	s->replayed++;
	arrive(s, to, f->path, f->buf, s->now + sim_rand_range(s, 5 * US, 500 * US));
}

/* A copy a path fault stops: queued at its receiver's end of the path. */
void sim_stale_queue(struct sim *s, uint32_t to, uint8_t path, struct sim_buf *b)
{
	if (!s->stale_on || s->now >= s->opts.load_ns)
		return;
	struct sim_stale_queue *q = &s->queues[to][path];
	if (q->count == SIM_STALE_QUEUE)
		return; /* full: the newest is dropped, as a NIC ring does */
	b->refs++;
	q->v[(q->head + q->count++) % SIM_STALE_QUEUE] = b;
}

/* After a path fault is repaired: every queue whose path is usable at its
 * receiver again bursts out, oldest first, a few microseconds apart. */
void sim_stale_flush(struct sim *s)
{
	for (uint32_t to = 0; to < s->opts.nodes; to++) {
		for (uint8_t p = 0; p < s->opts.paths; p++) {
			struct sim_stale_queue *q = &s->queues[to][p];
			if (q->count == 0 || s->path_down[p] || s->cut[to][p])
				continue;
			uint64_t at = s->now + s->paths[p].delay_ns;
			s->bursts++;
			for (; q->count > 0; q->count--) {
				struct sim_buf *b = q->v[q->head];
				q->head = (q->head + 1u) % SIM_STALE_QUEUE;
				at += sim_rand_range(s, 1 * US, 3 * US);
				arrive(s, to, p, b, at);
				buf_drop(s, b);
			}
		}
	}
}

/* The run's rates, drawn once from its seed: on with network faults and
 * above (scripted scenarios run with faults none and keep exact drops). */
void sim_stale_init(struct sim *s)
{
	s->stale_on = s->opts.stale && s->opts.faults >= SIM_FAULTS_NET;
	if (!s->stale_on)
		return;
	s->hold_chance = (double)sim_rand_range(s, 0, 30) / 10000.0;   /* 0..0.3% of copies */
	s->replay_chance = (double)sim_rand_range(s, 0, 20) / 10000.0; /* 0..0.2% of copies */
}

void sim_stale_free(struct sim *s)
{
	for (uint32_t i = 0; i < SIM_ARCHIVE; i++)
		buf_drop(s, s->archive[i].buf);
	for (uint32_t to = 0; to < SIM_NODES_MAX; to++)
		for (uint32_t p = 0; p < RP_PATHS_MAX; p++) {
			struct sim_stale_queue *q = &s->queues[to][p];
			for (; q->count > 0; q->count--) {
				buf_drop(s, q->v[q->head]);
				q->head = (q->head + 1u) % SIM_STALE_QUEUE;
			}
		}
}
