/* sim_check.c — the checker: DESIGN.md §3 properties, checked at every
 * delivery and configuration, and at the end of the run.
 *
 * Owns: the reference total order of each ring (the first node to deliver
 * position k of a ring fixes what position k is), per-node delivery sets,
 * per-stream FIFO positions, and the end-of-run liveness accounting.
 * Properties checked here (numbers are DESIGN.md §3's):
 *   1 total-order   a node's k-th delivery in a ring is the ring's k-th;
 *                   nothing skipped within a regular configuration
 *   2 integrity     at most once per node, only published messages, bytes
 *                   intact (sim.c checks the bytes of every fragment)
 *   3 fifo          per (origin, client, priority) in publish order
 *   5 safe          a SAFE message is delivered only once every member of
 *                   the configuration holds its last fragment's frame
 *   7 self-delivery a node delivers every message it published
 *   liveness        after the faults stop, everything published is
 *                   delivered everywhere within the bound
 * Never: weakens a check to let a run pass; a failing seed is a bug report.
 */
#include "sim_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sim_violation(struct sim *s, const char *property, const char *fmt, ...)
{
	if (s->failed)
		return;
	s->failed = true;
	snprintf(s->fail_property, sizeof(s->fail_property), "%s", property);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->fail_detail, sizeof(s->fail_detail), fmt, ap);
	va_end(ap);
	sim_trace(s, "VIOLATION %s: %s", s->fail_property, s->fail_detail);
}

void sim_check_init(struct sim *s)
{
	for (uint32_t i = 0; i < s->opts.nodes; i++)
		for (uint32_t k = 0; k < SIM_STREAMS; k++)
			s->nodes[i].last_msgno[k] = -1;
}

void sim_check_free(struct sim *s)
{
	for (size_t i = 0; i < s->log_count; i++)
		free(s->logs[i].v);
	free(s->logs);
}

static bool ring_eq(struct rp_ring_id a, struct rp_ring_id b)
{
	return a.rep == b.rep && a.seq == b.seq;
}

static struct sim_log *log_of(struct sim *s, struct rp_ring_id ring)
{
	for (size_t i = 0; i < s->log_count; i++)
		if (ring_eq(s->logs[i].ring, ring))
			return &s->logs[i];
	s->logs = realloc(s->logs, (s->log_count + 1) * sizeof(*s->logs));
	if (!s->logs)
		abort();
	struct sim_log *l = &s->logs[s->log_count++];
	memset(l, 0, sizeof(*l));
	l->ring = ring;
	return l;
}

void sim_check_config(struct sim *s, struct sim_node *n, const struct rp_configuration *c)
{
	(void)s;
	if (c->kind != RP_CONFIG_REGULAR)
		return;
	n->has_config = true;
	n->ring = c->ring;
	n->ring_pos = 0;
}

void sim_check_delivery(struct sim *s, struct sim_node *n, uint64_t index, const struct rp_delivery *d)
{
	struct sim_msg *m = &s->msgs[index];
	uint32_t bit = 1u << n->index;
	uint16_t origin_id = (uint16_t)(m->origin + 1);
	s->deliveries++;
	n->delivered_count++;
	sim_trace(s, "n%u deliver #%" PRIu64 " from n%u seq=%" PRIu64 ".%u %s", n->id, index,
		  origin_id, d->seq, d->entry_index, m->service == RP_SERVICE_SAFE ? "SAFE" : "AGREED");
	/* 2: integrity */
	if (m->delivered_mask & bit) {
		sim_violation(s, "integrity", "node %u delivered message %" PRIu64 " twice", n->id, index);
		return;
	}
	m->delivered_mask |= bit;
	if (d->origin != origin_id || d->client_id != m->client || d->priority != m->prio ||
	    d->service != m->service) {
		sim_violation(s, "integrity", "node %u: message %" PRIu64 " delivered with the wrong"
			      " origin, client, priority or service", n->id, index);
		return;
	}
	if (!n->has_config || !ring_eq(d->ring, n->ring)) {
		sim_violation(s, "view", "node %u delivered in a ring it has not installed", n->id);
		return;
	}
	/* 1: total order, no skipping within a regular configuration */
	struct sim_log *l = log_of(s, d->ring);
	if (n->ring_pos < l->count) {
		if (l->v[n->ring_pos] != index) {
			sim_violation(s, "total-order", "node %u delivered message %" PRIu64
				      " at position %" PRIu64 " of ring (%u,%" PRIu64 "), where another"
				      " node delivered message %" PRIu64, n->id, index, n->ring_pos,
				      d->ring.rep, d->ring.seq, l->v[n->ring_pos]);
			return;
		}
	} else {
		if (l->count == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 1024;
			l->v = realloc(l->v, l->cap * sizeof(*l->v));
			if (!l->v)
				abort();
		}
		l->v[l->count++] = index;
	}
	n->ring_pos++;
	/* 3: FIFO per (origin, client, priority) */
	int64_t *last = &n->last_msgno[sim_stream_index(origin_id, m->client, m->prio)];
	if ((int64_t)m->msgno <= *last) {
		sim_violation(s, "fifo", "node %u delivered msgno %u of stream (n%u,c%u,p%u) after %" PRId64,
			      n->id, m->msgno, origin_id, m->client, m->prio, *last);
		return;
	}
	*last = m->msgno;
	/* 5: SAFE — every member holds the frame of the last fragment */
	if (m->service == RP_SERVICE_SAFE) {
		for (uint32_t j = 0; j < s->opts.nodes; j++) {
			struct sim_node *o = &s->nodes[j];
			if (!o->alive)
				continue;
			if (!rp_node_has_received(o->rp, d->seq)) {
				sim_violation(s, "safe", "node %u delivered SAFE message %" PRIu64
					      " (seq %" PRIu64 ") before node %u received it", n->id,
					      index, d->seq, o->id);
				return;
			}
		}
	}
}

bool sim_check_quiescent(const struct sim *s)
{
	uint64_t expected = 0;
	for (uint32_t i = 0; i < s->opts.nodes; i++)
		if (s->nodes[i].alive)
			expected += s->msg_count;
	if (s->deliveries != expected)
		return false;
	for (uint32_t i = 0; i < s->opts.nodes; i++)
		if (rp_node_backlog(s->nodes[i].rp) != 0)
			return false;
	return true;
}

void sim_check_final(struct sim *s)
{
	for (uint64_t i = 0; i < s->msg_count; i++) {
		const struct sim_msg *m = &s->msgs[i];
		const struct sim_node *origin = &s->nodes[m->origin];
		if (origin->alive && !(m->delivered_mask & (1u << m->origin))) {
			sim_violation(s, "self-delivery", "node %u never delivered its own message %"
				      PRIu64 " (published at %.6f s)", origin->id, i,
				      (double)m->publish_ns / 1e9);
			return;
		}
		for (uint32_t j = 0; j < s->opts.nodes; j++) {
			if (s->nodes[j].alive && !(m->delivered_mask & (1u << j))) {
				sim_violation(s, "liveness", "message %" PRIu64 " of node %u (size %u,"
					      " published at %.6f s) not delivered at node %u within"
					      " %.3f s after the faults stopped", i, origin->id, m->size,
					      (double)m->publish_ns / 1e9, s->nodes[j].id,
					      (double)s->opts.liveness_ns / 1e9);
				return;
			}
		}
	}
}
