/* sim_pause.c — process pauses and one-way cuts (docs/design.md §3, faults the
 * simulator models).
 *
 * Owns: a paused node's life. It takes no steps (no frames processed, no
 * timers fired, its clients' load waits); frames that reach it queue up to
 * SIM_PAUSE_QUEUE, the oldest dropped beyond that as a NIC's rx ring would;
 * at the resume it sees the queued frames and its expired timers at once,
 * all at the resume's time, the tick placed at a seeded point among the
 * frames (ordod polls a burst of frames, then its timers, then the rest).
 * And one-way cuts: frames from one node to another dropped on every path
 * for a bounded time, the other direction untouched.
 * Never: lets a paused node send, or loses a queued frame other than the
 * oldest beyond the queue's size.
 */
#include "sim_internal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void sim_pause_free(struct sim *s, struct sim_node *n)
{
	(void)s;
	for (uint32_t i = 0; i < n->pq_count; i++)
		sim_free_event(&n->pq[(n->pq_head + i) % SIM_PAUSE_QUEUE]);
	free(n->pq);
	n->pq = NULL;
	n->pq_head = n->pq_count = 0;
	n->paused = false;
}

void sim_pause(struct sim *s, struct sim_node *n, uint64_t duration_ns)
{
	if (!n->alive || n->paused || duration_ns == 0)
		return;
	n->paused = true;
	n->pauses++;
	s->pauses++;
	sim_trace(s, "n%u paused for %.3f ms", n->id, (double)duration_ns / 1e6);
	sim_ev_push(s, (struct sim_event){.at = s->now + duration_ns, .kind = SIM_EV_RESUME,
					  .node = n->index, .gen = n->pauses});
}

void sim_pause_enqueue(struct sim *s, struct sim_node *n, const struct sim_event *ev)
{
	if (!n->pq) {
		n->pq = calloc(SIM_PAUSE_QUEUE, sizeof(*n->pq));
		if (!n->pq)
			abort();
	}
	if (n->pq_count == SIM_PAUSE_QUEUE) {
		sim_free_event(&n->pq[n->pq_head]);
		n->pq_head = (n->pq_head + 1u) % SIM_PAUSE_QUEUE;
		n->pq_count--;
		s->pause_drops++;
	}
	n->pq[(n->pq_head + n->pq_count++) % SIM_PAUSE_QUEUE] = *ev;
}

/* The queued frames go back on the event queue at `now`, in arrival
 * order, with one timer tick among them; events of one time run in the
 * order they were pushed. */
void sim_resume(struct sim *s, struct sim_node *n)
{
	if (!n->paused)
		return;
	n->paused = false;
	n->resumed_ns = s->now;
	uint32_t before = (uint32_t)sim_rand_range(s, 0, n->pq_count);
	sim_trace(s, "n%u resumes: %u queued frames, the timers after %u of them", n->id, n->pq_count,
		  before);
	for (uint32_t i = 0; i <= n->pq_count; i++) {
		if (i == before) {
			n->timer_gen++;
			n->timer_at = s->now;
			sim_ev_push(s, (struct sim_event){.at = s->now, .kind = SIM_EV_TIMER, .node = n->index,
							  .gen = n->timer_gen});
		}
		if (i == n->pq_count)
			break;
		struct sim_event ev = n->pq[(n->pq_head + i) % SIM_PAUSE_QUEUE];
		ev.at = s->now;
		sim_ev_push(s, ev);
	}
	n->pq_head = n->pq_count = 0;
}

void sim_oneway(struct sim *s, uint32_t from, uint32_t to, uint64_t duration_ns)
{
	if (from == to || from >= s->opts.nodes || to >= s->opts.nodes || s->oneway[from][to] == UINT8_MAX)
		return;
	s->oneway[from][to]++;
	sim_trace(s, "n%u -> n%u cut one way for %.3f ms", s->nodes[from].id, s->nodes[to].id,
		  (double)duration_ns / 1e6);
	sim_ev_push(s, (struct sim_event){.at = s->now + duration_ns, .kind = SIM_EV_ONEWAY, .node = from,
					  .gen = to});
}

void sim_oneway_end(struct sim *s, uint32_t from, uint32_t to)
{
	if (s->oneway[from][to] > 0 && --s->oneway[from][to] == 0)
		sim_trace(s, "n%u -> n%u restored", s->nodes[from].id, s->nodes[to].id);
}

void sim_oneway_clear(struct sim *s)
{
	memset(s->oneway, 0, sizeof(s->oneway));
}

/* A seeded pause of a live node: below the token-retransmit timeout, up
 * to token loss, up to token loss + consensus, or up to four consensus
 * timeouts, a quarter of the time each. */
void sim_random_pause(struct sim *s)
{
	struct sim_node *n = &s->nodes[sim_rand_range(s, 0, s->opts.nodes - 1)];
	uint64_t rt = s->cfg.token_retransmit_ns, tl = s->cfg.token_loss_ns, cs = s->cfg.consensus_ns, d;
	switch (sim_rand_range(s, 0, 3)) {
	case 0:
		d = sim_rand_range(s, rt / 4, rt - 1);
		break;
	case 1:
		d = sim_rand_range(s, rt, tl);
		break;
	case 2:
		d = sim_rand_range(s, tl, tl + cs);
		break;
	default:
		d = sim_rand_range(s, tl + cs, 4 * cs);
		break;
	}
	sim_pause(s, n, d);
}

/* A seeded one-way cut for a join period to four consensus timeouts:
 * one node's frames to another, or to every other node (its frames
 * dropped where they enter the network, the node still receiving). */
void sim_random_oneway(struct sim *s)
{
	uint32_t from = (uint32_t)sim_rand_range(s, 0, s->opts.nodes - 1);
	uint64_t d = sim_rand_range(s, s->cfg.join_ns, 4 * s->cfg.consensus_ns);
	s->oneways++;
	if (s->opts.nodes < 2)
		return;
	if (sim_chance(s, 0.5)) {
		for (uint32_t to = 0; to < s->opts.nodes; to++)
			sim_oneway(s, from, to, d);
		return;
	}
	uint32_t to = (uint32_t)sim_rand_range(s, 0, s->opts.nodes - 2);
	sim_oneway(s, from, to >= from ? to + 1u : to, d);
}
