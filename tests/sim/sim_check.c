/* sim_check.c — the checker: docs/design.md §3 properties, checked at every
 * delivery and configuration, and at the end of the run.
 *
 * Owns: the reference total order of each ring (the first node to deliver
 * position k of a ring fixes what position k is), per-node delivery sets,
 * per-stream FIFO positions, and the end-of-run liveness accounting.
 * Properties checked here (numbers are docs/design.md §3's):
 *   1 total-order   every message has one position (ring, seq, entry), the
 *                   same at every node; each node delivers in increasing
 *                   position; in a regular configuration a node's k-th
 *                   delivery of a ring is that ring's k-th (nothing skipped)
 *   2 integrity     at most once per node, only published messages, bytes
 *                   intact (sim.c checks the bytes of every fragment)
 *   3 fifo          per (origin, client, priority) in publish order
 *   5 safe          a SAFE message is delivered only once every member of
 *                   the configuration holds its last fragment's frame
 *   4 failure-atomicity  sim_evs.c: the regular and transitional parts
 *                   of C compared separately
 *   6 view          equal configuration ids list equal members; every
 *                   regular configuration but a node's first is preceded by
 *                   the transitional one from the node's previous ring
 *   7 self-delivery a node delivers every message it published
 *   8 liveness      after the faults heal, all live nodes are in one regular
 *                   configuration of exactly themselves, and the rest holds
 *   liveness        after the faults stop, everything published is
 *                   delivered everywhere within the bound
 *   path-fault      (--faults all) once every node is in one ring, path
 *                   faults alone (a path left between every pair) install
 *                   no new regular configuration
 *   net-fault       (--faults net) once every node is in one ring, network
 *                   faults alone install no new regular configuration
 *   origin, failure-atomicity (regular and transitional parts apart),
 *   trans-delivery, safe-trans, trans-members, ring-id: sim_evs.c
 *   quorum          flags follow the policy: majority and two_node by their
 *                   formula; under majority and last_man_standing the
 *                   primary configurations, by ring seq, each share a member
 *                   with the previous one; the final configuration of all
 *                   nodes is primary; transitional ones never are
 *   version         a ring runs the highest version every member speaks
 *   9 stability, 10 primary-continuity: sim_stable.c
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
	free(s->views);
	sim_evs_free(s);
}

/* A (re)started node: a new member, with no configuration yet. FIFO
 * positions stay: a stream's msgnos only grow. */
void sim_check_node_reset(struct sim *s, struct sim_node *n)
{
	n->has_config = false;
	n->in_trans = false;
	n->ring_pos = 0;
	n->fa_hash = n->fa_count = 0;
	n->trans_hash = n->trans_count = 0;
	n->have_last = false;
	sim_evs_node_reset(s, n);
}

static bool ring_eq(struct rp_ring_id a, struct rp_ring_id b)
{
	return a.rep == b.rep && a.seq == b.seq;
}

/* Records, after every step, the highest aru the node has had in each ring
 * (the SAFE check asks whether every member of a ring held a seq). */
void sim_check_arus(struct sim *s, struct sim_node *n)
{
	(void)s;
	struct rp_ring_id ring[2];
	uint64_t aru[2];
	int k = rp_node_arus(n->rp, ring, aru);
	for (int i = 0; i < k; i++) {
		struct sim_aru *a = NULL;
		for (size_t j = n->aru_count; j-- > 0 && j + 4 >= n->aru_count;)
			if (ring_eq(n->arus[j].ring, ring[i]))
				a = &n->arus[j];
		if (!a) {
			SIM_GROW(n->arus, n->aru_cap, n->aru_count, 16);
			a = &n->arus[n->aru_count++];
			a->ring = ring[i];
			a->aru = aru[i];
		} else if (rp_seq_gt(aru[i], a->aru)) {
			a->aru = aru[i];
		}
	}
}

bool sim_check_held(const struct sim_node *o, struct rp_ring_id ring, uint64_t seq)
{
	for (size_t j = o->aru_count; j-- > 0;)
		if (ring_eq(o->arus[j].ring, ring))
			return rp_seq_ge(o->arus[j].aru, seq);
	return false;
}

static struct sim_log *log_of(struct sim *s, struct rp_ring_id ring)
{
	for (size_t i = s->log_count; i-- > 0;)
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

static uint64_t members_mask(const struct rp_configuration *c)
{
	uint64_t m = 0;
	for (uint32_t i = 0; i < c->member_count; i++)
		m |= 1ull << (c->members[i] - 1u);
	return m;
}

/* 6: equal ids, equal members (for a transitional configuration, "the same
 * T at each" of the trans-members property). Returns the view's index. */
static size_t check_view(struct sim *s, struct sim_node *n, bool trans, struct rp_ring_id ring,
			 struct rp_ring_id old, uint64_t members, bool primary, uint8_t proto)
{
	for (size_t i = 0; i < s->view_count; i++) {
		struct sim_view *v = &s->views[i];
		if (v->trans == trans && ring_eq(v->ring, ring) && (!trans || ring_eq(v->old_ring, old))) {
			if (v->members != members)
				sim_violation(s, trans ? "trans-members" : "view", "node %u installed %s"
					      " configuration (%u,%" PRIu64 ") with members 0x%" PRIx64
					      ", another node with 0x%" PRIx64, n->id,
					      trans ? "transitional" : "regular", ring.rep, ring.seq,
					      members, v->members);
			else if (!trans && (v->primary != primary || v->proto != proto))
				sim_violation(s, "view", "node %u installed ring (%u,%" PRIu64 ") as %s, version %u;"
					      " another node as %s, version %u", n->id, ring.rep, ring.seq,
					      primary ? "primary" : "non-primary", proto,
					      v->primary ? "primary" : "non-primary", v->proto);
			return i;
		}
	}
	s->views = realloc(s->views, (s->view_count + 1) * sizeof(*s->views));
	if (!s->views)
		abort();
	s->views[s->view_count] = (struct sim_view){.trans = trans, .ring = ring, .old_ring = old,
						    .members = members, .primary = primary,
						    .proto = proto};
	return s->view_count++;
}

static uint32_t popcount(uint64_t v)
{
	uint32_t c = 0;
	for (; v; v &= v - 1u)
		c++;
	return c;
}

/* The quorum formula (majority, two_node) and the version a ring runs. */
static void check_policy(struct sim *s, const struct sim_node *n, const struct rp_configuration *c,
			 uint64_t members)
{
	uint32_t k = popcount(members), total = s->opts.nodes;
	bool want;
	if (s->quorum == RP_QUORUM_MAJORITY)
		want = 2u * k > total;
	else if (s->quorum == RP_QUORUM_TWO_NODE)
		want = k == 2u || n->seen_all;
	else
		want = c->primary; /* last_man_standing: checked by the chain */
	if ((bool)c->primary != want) {
		sim_violation(s, "quorum", "node %u: ring (%u,%" PRIu64 ") of %u of %u nodes is %s under"
			      " policy %d", n->id, c->ring.rep, c->ring.seq, k, total,
			      c->primary ? "primary" : "non-primary", s->quorum);
		return;
	}
	uint8_t lo = 1, hi = 255;
	for (uint32_t i = 0; i < s->opts.nodes; i++) {
		if (!(members & (1ull << i)))
			continue;
		const struct sim_node *m = &s->nodes[i];
		if (m->proto_min > lo)
			lo = m->proto_min;
		if (m->proto_max < hi)
			hi = m->proto_max;
	}
	if (lo > hi || c->proto_version != hi)
		sim_violation(s, "version", "node %u: ring (%u,%" PRIu64 ") runs version %u; its members"
			      " share %u..%u", n->id, c->ring.rep, c->ring.seq, c->proto_version, lo, hi);
}

/* Every node alive, in one regular configuration of all of them. */
static bool all_formed(const struct sim *s)
{
	uint64_t all = s->opts.nodes >= 64 ? UINT64_MAX : (1ull << s->opts.nodes) - 1u;
	for (uint32_t i = 0; i < s->opts.nodes; i++) {
		const struct sim_node *m = &s->nodes[i];
		if (!m->alive || !m->has_config || m->in_trans || m->conf_members != all ||
		    !ring_eq(m->ring, s->nodes[0].ring))
			return false;
	}
	return true;
}

/* A transitional configuration: it follows the node's regular one, within it. */
static void check_trans_config(struct sim *s, struct sim_node *n, const struct rp_configuration *c,
			       uint64_t members)
{
	if (!n->has_config || n->in_trans || !ring_eq(c->old_ring, n->ring)) {
		sim_violation(s, "view", "node %u: transitional configuration (%u,%" PRIu64
			      ") does not follow its regular configuration", n->id, c->ring.rep,
			      c->ring.seq);
		return;
	}
	if (members & ~n->conf_members) {
		sim_violation(s, "trans-members", "node %u: transitional configuration (%u,%" PRIu64
			      ") from (%u,%" PRIu64 ") lists members 0x%" PRIx64 " outside that"
			      " regular configuration's 0x%" PRIx64, n->id, c->ring.rep, c->ring.seq,
			      n->ring.rep, n->ring.seq, members, n->conf_members);
		return;
	}
	if (c->primary) {
		sim_violation(s, "quorum", "node %u: a transitional configuration marked primary", n->id);
		return;
	}
	sim_evs_trans(s, n, c, members);
	if (s->failed)
		return;
	check_view(s, n, true, c->ring, c->old_ring, members, false, c->proto_version);
	n->in_trans = true;
	n->trans_new = c->ring;
	n->conf_members = members;
}

/* path-fault and net-fault: a new regular configuration once the ring has
 * formed, under faults that must not change it. */
static void check_fault_model(struct sim *s, const struct sim_node *n, const struct rp_configuration *c)
{
	if (s->opts.faults == SIM_FAULTS_ALL && s->formed_ns != UINT64_MAX && s->now < s->memb_from_ns) {
		sim_violation(s, "path-fault", "node %u installed ring (%u,%" PRIu64 ") at %.6f s with"
			      " path faults only (the ring had formed at %.6f s)", n->id, c->ring.rep,
			      c->ring.seq, (double)s->now / 1e9, (double)s->formed_ns / 1e9);
		return;
	}
	/* (a node alone has "formed" in its start ring; leaving that is not a change) */
	bool from_start = n->has_config && !s->views[n->view].has_prev[n->index];
	if (s->opts.faults == SIM_FAULTS_NET && s->opts.script_count == 0 && s->formed_ns != UINT64_MAX &&
	    !from_start) {
		sim_violation(s, "net-fault", "node %u installed ring (%u,%" PRIu64 ") at %.6f s with"
			      " network faults only (loss, duplication, delay, held and replayed frames;"
			      " the ring had formed at %.6f s)", n->id, c->ring.rep, c->ring.seq,
			      (double)s->now / 1e9, (double)s->formed_ns / 1e9);
		return;
	}
}

void sim_check_config(struct sim *s, struct sim_node *n, const struct rp_configuration *c)
{
	uint64_t members = members_mask(c);
	if (!(members & (1ull << n->index))) {
		sim_violation(s, "view", "node %u installed a configuration without itself", n->id);
		return;
	}
	if (c->kind == RP_CONFIG_TRANSITIONAL) {
		check_trans_config(s, n, c, members);
		return;
	}
	/* regular */
	sim_stable_config(s, n, c, members);
	if (s->failed)
		return;
	if (n->has_config) {
		if (!n->in_trans || !ring_eq(n->trans_new, c->ring)) {
			sim_violation(s, "view", "node %u installed regular configuration (%u,%" PRIu64
				      ") after (%u,%" PRIu64 ") without the transitional configuration"
				      " between them", n->id, c->ring.rep, c->ring.seq, n->ring.rep, n->ring.seq);
			return;
		}
		sim_evs_leave(s, n, c->ring);
		if (s->failed)
			return;
		if (c->member_count > 1 || members != (1ull << n->index)) {
			s->configs++;
			s->last_change_ns = s->now;
		}
	}
	check_fault_model(s, n, c);
	if (s->failed)
		return;
	check_policy(s, n, c, members);
	if (s->failed)
		return;
	size_t view = check_view(s, n, false, c->ring, c->ring, members, c->primary, c->proto_version);
	if (s->failed)
		return;
	sim_evs_install(s, n, view);
	if (s->failed)
		return;
	n->view = view;
	if (popcount(members) == 2u)
		n->seen_all = true;
	n->has_config = true;
	n->in_trans = false;
	n->ring = c->ring;
	n->ring_pos = 0;
	n->conf_members = members;
	n->fa_hash = n->fa_count = 0;
	n->trans_hash = n->trans_count = 0;
	if (s->formed_ns == UINT64_MAX && all_formed(s))
		s->formed_ns = s->now;
}

static int view_cmp(const void *a, const void *b)
{
	const struct sim_view *x = *(const struct sim_view *const *)a, *y = *(const struct sim_view *const *)b;
	if (x->ring.seq != y->ring.seq)
		return x->ring.seq < y->ring.seq ? -1 : 1;
	return x->ring.rep < y->ring.rep ? -1 : x->ring.rep > y->ring.rep;
}

uint64_t sim_check_primaries(const struct sim *s)
{
	uint64_t k = 0;
	for (size_t i = 0; i < s->view_count; i++)
		k += !s->views[i].trans && s->views[i].primary;
	return k;
}

void sim_check_quorum_final(struct sim *s)
{
	size_t k = 0;
	const struct sim_view **p = malloc((s->view_count + 1) * sizeof(*p));
	if (!p)
		abort();
	for (size_t i = 0; i < s->view_count; i++)
		if (!s->views[i].trans && s->views[i].primary)
			p[k++] = &s->views[i];
	qsort(p, k, sizeof(*p), view_cmp);
	if (s->quorum != RP_QUORUM_TWO_NODE) {
		for (size_t i = 1; i < k; i++) {
			if ((p[i]->members & p[i - 1]->members) == 0) {
				sim_violation(s, "quorum", "primary rings (%u,%" PRIu64 ") members 0x%" PRIx64
					      " and (%u,%" PRIu64 ") members 0x%" PRIx64 " follow each other"
					      " with no member in common", p[i - 1]->ring.rep, p[i - 1]->ring.seq,
					      p[i - 1]->members, p[i]->ring.rep, p[i]->ring.seq, p[i]->members);
				break;
			}
		}
	}
	free(p);
	if (s->failed || !all_formed(s))
		return;
	for (size_t i = s->view_count; i-- > 0;) {
		if (!s->views[i].trans && ring_eq(s->views[i].ring, s->nodes[0].ring)) {
			if (!s->views[i].primary)
				sim_violation(s, "quorum", "the final ring of every node (%u,%" PRIu64
					      ") is not primary", s->views[i].ring.rep, s->views[i].ring.seq);
			break;
		}
	}
}

/* Strictly increasing (ring seq, seq, entry) at one node. */
static bool key_after(const struct sim_node *n, const struct rp_delivery *d)
{
	if (!n->have_last)
		return true;
	if (d->ring.seq != n->last_ring_seq)
		return d->ring.seq > n->last_ring_seq;
	if (d->seq != n->last_seq)
		return rp_seq_gt(d->seq, n->last_seq);
	return d->entry_index > n->last_entry;
}

/* 1 in a regular configuration: nothing skipped (a node's k-th delivery of
 * a ring is that ring's k-th); and the sets of C's regular and
 * transitional parts that failure-atomicity compares. */
static bool count_in_config(struct sim *s, struct sim_node *n, uint64_t index, const struct rp_delivery *d)
{
	/* ... and nothing skipped in a regular configuration */
	if (!n->in_trans) {
		struct sim_log *l = log_of(s, d->ring);
		if (n->ring_pos < l->count) {
			if (l->v[n->ring_pos] != index) {
				sim_violation(s, "total-order", "node %u delivered message %" PRIu64
					      " at position %" PRIu64 " of ring (%u,%" PRIu64 "), where another"
					      " node delivered message %" PRIu64, n->id, index, n->ring_pos,
					      d->ring.rep, d->ring.seq, l->v[n->ring_pos]);
				return false;
			}
		} else {
			SIM_GROW(l->v, l->cap, l->count, 1024);
			l->v[l->count++] = index;
		}
		n->ring_pos++;
	}
	if (n->in_trans) {
		n->trans_hash ^= sim_mix64(index + 1u);
		n->trans_count++;
	} else {
		n->fa_hash ^= sim_mix64(index + 1u);
		n->fa_count++;
	}
	return true;
}

void sim_check_delivery(struct sim *s, struct sim_node *n, uint64_t index, const struct rp_delivery *d)
{
	struct sim_msg *m = &s->msgs[index];
	uint32_t bit = 1u << n->index;
	uint16_t origin_id = (uint16_t)(m->origin + 1);
	s->deliveries++;
	n->delivered_count++;
	sim_trace(s, "n%u deliver #%" PRIu64 " from n%u seq=%" PRIu64 ".%u %s%s", n->id, index,
		  origin_id, d->seq, d->entry_index, m->service == RP_SERVICE_SAFE ? "SAFE" : "AGREED",
		  n->in_trans ? " (transitional)" : "");
	sim_evs_origin(s, n, index, d);
	if (s->failed)
		return;
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
		sim_violation(s, "view", "node %u delivered a message of ring (%u,%" PRIu64 ") outside"
			      " that ring's configuration", n->id, d->ring.rep, d->ring.seq);
		return;
	}
	if (m->origin == n->index && m->incarnation == n->incarnation && n->pending_self > 0)
		n->pending_self--;
	/* 1: one position per message, increasing at every node */
	if (!m->has_pos) {
		m->has_pos = true;
		m->pos_ring = d->ring;
		m->pos_seq = d->seq;
		m->pos_entry = d->entry_index;
	} else if (!ring_eq(m->pos_ring, d->ring) || m->pos_seq != d->seq || m->pos_entry != d->entry_index) {
		sim_violation(s, "total-order", "node %u delivered message %" PRIu64 " at position (%u,%"
			      PRIu64 ").%" PRIu64 ".%u, another node at (%u,%" PRIu64 ").%" PRIu64 ".%u",
			      n->id, index, d->ring.rep, d->ring.seq, d->seq, d->entry_index,
			      m->pos_ring.rep, m->pos_ring.seq, m->pos_seq, m->pos_entry);
		return;
	}
	if (!key_after(n, d)) {
		sim_violation(s, "total-order", "node %u delivered message %" PRIu64 " (seq %" PRIu64
			      ") after a later position (seq %" PRIu64 ")", n->id, index, d->seq, n->last_seq);
		return;
	}
	n->have_last = true;
	n->last_ring_seq = d->ring.seq;
	n->last_seq = d->seq;
	n->last_entry = d->entry_index;
	if (!count_in_config(s, n, index, d))
		return;
	/* 3: FIFO per (origin, client, priority) */
	int64_t *last = &n->last_msgno[sim_stream_index(origin_id, m->client, m->prio)];
	if ((int64_t)m->msgno <= *last) {
		sim_violation(s, "fifo", "node %u delivered msgno %u of stream (n%u,c%u,p%u) after %" PRId64,
			      n->id, m->msgno, origin_id, m->client, m->prio, *last);
		return;
	}
	*last = m->msgno;
	/* 5: SAFE in a regular configuration — every member held the frame */
	if (m->service == RP_SERVICE_SAFE && !n->in_trans) {
		for (uint32_t j = 0; j < s->opts.nodes; j++) {
			if (!(n->conf_members & (1ull << j)))
				continue;
			if (!sim_check_held(&s->nodes[j], d->ring, d->seq)) {
				sim_violation(s, "safe", "node %u delivered SAFE message %" PRIu64 " (seq %" PRIu64
					      ") in regular configuration (%u,%" PRIu64 ") before node %u"
					      " received it", n->id, index, d->seq, d->ring.rep, d->ring.seq,
					      s->nodes[j].id);
				return;
			}
		}
	}
	sim_evs_delivered(s, n, index, d);
}

/* Quiet: every live node is operational in one ring of exactly the live
 * nodes, has nothing queued or owed to itself, and has delivered all that
 * anyone delivered in that ring. */
static const char *quiet_why;

bool sim_check_quiescent(const struct sim *s)
{
	quiet_why = "";
	uint64_t alive = 0;
	const struct sim_node *first = NULL;
	for (uint32_t i = 0; i < s->opts.nodes; i++)
		if (s->nodes[i].alive)
			alive |= 1ull << i;
	for (uint32_t i = 0; i < s->opts.nodes; i++) {
		const struct sim_node *n = &s->nodes[i];
		if (!n->alive)
			continue;
		if (!n->has_config || n->in_trans || n->conf_members != alive) {
			quiet_why = " (configuration is not all live nodes)";
			return false;
		}
		if (n->pending_self != 0) {
			quiet_why = " (own messages undelivered)";
			return false;
		}
		if (rp_node_state(n->rp) != RP_NODE_OPERATIONAL || rp_node_backlog(n->rp) != 0) {
			quiet_why = " (not operational, or messages queued)";
			return false;
		}
		if (!first)
			first = n;
		else if (!ring_eq(first->ring, n->ring)) {
			quiet_why = " (nodes in different rings)";
			return false;
		}
	}
	if (!first)
		return true;
	for (size_t i = s->log_count; i-- > 0;) {
		if (!ring_eq(s->logs[i].ring, first->ring))
			continue;
		for (uint32_t j = 0; j < s->opts.nodes; j++)
			if (s->nodes[j].alive && s->nodes[j].ring_pos != s->logs[i].count) {
				quiet_why = " (some node behind in the final ring)";
				return false;
			}
	}
	return true;
}

void sim_check_final(struct sim *s)
{
	if (sim_check_quiescent(s))
		return;
	for (uint64_t i = 0; i < s->msg_count; i++) {
		const struct sim_msg *m = &s->msgs[i];
		const struct sim_node *origin = &s->nodes[m->origin];
		if (origin->alive && origin->incarnation == m->incarnation &&
		    !(m->delivered_mask & (1u << m->origin))) {
			sim_violation(s, "self-delivery", "node %u never delivered its own message %"
				      PRIu64 " (size %u, published at %.6f s)", origin->id, i, m->size,
				      (double)m->publish_ns / 1e9);
			return;
		}
	}
	char where[160] = "";
	size_t len = 0;
	for (uint32_t i = 0; i < s->opts.nodes && len < sizeof(where) - 40; i++) {
		const struct sim_node *n = &s->nodes[i];
		if (!n->alive)
			continue;
		struct rp_ring_id r = rp_node_ring(n->rp);
		len += (size_t)snprintf(where + len, sizeof(where) - len, " n%u:%s(%u,%" PRIu64 ")",
					n->id, rp_node_state(n->rp) == RP_NODE_OPERATIONAL ? "op" : "chg",
					r.rep, r.seq);
	}
	sim_violation(s, "liveness", "not one configuration of all live nodes with everything"
		      " delivered %.3f s after the faults stopped%s:%s", (double)s->opts.liveness_ns / 1e9,
		      quiet_why, where);
}
