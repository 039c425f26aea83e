/* sim.c — the simulator's event loop, network model, client load and the
 * reassembly of fragments; the checker lives in sim_check.c.
 *
 * Owns: virtual time (a binary heap of events ordered by time, then by
 * insertion), one copy of each frame per path per receiver with the path's
 * loss, duplication and delay, and the engine's duties towards ring-proto
 * (timers from rp_next_deadline_ns, actions performed, fragments reassembled
 * and checked byte by byte against what was published).
 * Never: reads a clock or an unseeded random source; every choice flows
 * from sim_opts.seed through sim_rand().
 */
#include "sim_internal.h"
#include "rp_drive.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- PRNG: splitmix64 seeding xoshiro256** ---- */

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t sim_rand(struct sim *s)
{
	uint64_t *q = s->rng;
	uint64_t r = rotl(q[1] * 5, 7) * 9, t = q[1] << 17;
	q[2] ^= q[0]; q[3] ^= q[1]; q[1] ^= q[2]; q[0] ^= q[3];
	q[2] ^= t; q[3] = rotl(q[3], 45);
	return r;
}

uint64_t sim_rand_range(struct sim *s, uint64_t lo, uint64_t hi)
{
	return lo + sim_rand(s) % (hi - lo + 1u);
}

bool sim_chance(struct sim *s, double p)
{
	return p > 0 && (double)(sim_rand(s) >> 11) * (1.0 / 9007199254740992.0) < p;
}

/* ---- digest and trace ---- */

void sim_digest(struct sim *s, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		s->digest ^= (v >> (8 * i)) & 0xff;
		s->digest *= 0x100000001B3ull;
	}
}

void sim_trace(struct sim *s, const char *fmt, ...)
{
	if (!s->opts.trace)
		return;
	va_list ap;
	va_start(ap, fmt);
	printf("%10.6f ", (double)s->now / 1e9);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
}

/* ---- event heap ---- */

static bool ev_before(const struct sim_event *a, const struct sim_event *b)
{
	return a->at < b->at || (a->at == b->at && a->order < b->order);
}

static void ev_push(struct sim *s, struct sim_event ev)
{
	SIM_GROW(s->ev, s->ev_cap, s->ev_count, 1024);
	ev.order = s->ev_order++;
	size_t i = s->ev_count++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!ev_before(&ev, &s->ev[p]))
			break;
		s->ev[i] = s->ev[p];
		i = p;
	}
	s->ev[i] = ev;
}

static struct sim_event ev_pop(struct sim *s)
{
	struct sim_event top = s->ev[0], last = s->ev[--s->ev_count];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= s->ev_count)
			break;
		if (c + 1 < s->ev_count && ev_before(&s->ev[c + 1], &s->ev[c]))
			c++;
		if (!ev_before(&s->ev[c], &last))
			break;
		s->ev[i] = s->ev[c];
		i = c;
	}
	if (s->ev_count > 0)
		s->ev[i] = last;
	return top;
}

void sim_ev_push(struct sim *s, struct sim_event ev) { ev_push(s, ev); }

void sim_free_event(struct sim_event *ev)
{
	if (ev->kind == SIM_EV_ARRIVE && --ev->buf->refs == 0)
		free(ev->buf);
}

struct sim_buf *sim_buf_new(struct sim *s, uint32_t size)
{
	struct sim_buf *b = s->buf_free;
	if (b != NULL && size <= SIM_BUF_CAP) {
		s->buf_free = b->next_free;
		s->buf_free_count--;
	} else {
		uint32_t cap = size <= SIM_BUF_CAP ? SIM_BUF_CAP : size;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			abort();
		b->cap = cap;
	}
	b->refs = 1;
	b->size = size;
	return b;
}

void sim_buf_unref(struct sim *s, struct sim_buf *b)
{
	if (--b->refs != 0)
		return;
	if (b->cap != SIM_BUF_CAP || s->buf_free_count >= 4096) {
		free(b);
		return;
	}
	b->next_free = s->buf_free;
	s->buf_free = b;
	s->buf_free_count++;
}

/* ---- network ---- */

static bool faults_on(const struct sim *s) { return s->now >= s->calm_ns && s->now < s->opts.load_ns; }
static int step(struct sim *s, struct sim_node *n, const struct rp_input *in);

/* ---- lent frames (docs/protocol.md §14) ----
 * A lending node gets each frame as a private heap copy it may keep. A
 * returned copy is checked, poisoned and freed: a handle returned twice or
 * never kept fails the run, and a read after the return reads the poison. */

#define SIM_LENT_LIVE 0x4c454e544c495645ull /* "LENTLIVE" */
#define SIM_LENT_DEAD 0x4445414444454144ull

struct sim_lent {
	uint64_t magic;
	uint32_t node;  /* index of the node it was lent to */
	uint32_t kept;
	uint32_t size;
	uint8_t data[];
};

static struct sim_lent *lent_new(uint32_t node, const struct sim_buf *b)
{
	struct sim_lent *l = malloc(sizeof(*l) + b->size);
	if (!l)
		abort();
	l->magic = SIM_LENT_LIVE;
	l->node = node;
	l->kept = 0;
	l->size = b->size;
	memcpy(l->data, b->data, b->size);
	return l;
}

static bool lends(const struct sim *s, const struct sim_node *n)
{
	return s->opts.lend == SIM_LEND_ALL || (s->opts.lend == SIM_LEND_ODD && (n->index & 1u));
}

/* Poisons a lent frame that is no longer lent and quarantines it; the
 * oldest quarantined one is freed. */
static void lent_free(struct sim *s, struct sim_lent *l)
{
	l->magic = SIM_LENT_DEAD;
	memset(l->data, 0xdb, l->size);
	if (s->quarantine_count == SIM_QUARANTINE) {
		free(s->quarantine[s->quarantine_head]);
		s->quarantine_head = (s->quarantine_head + 1u) % SIM_QUARANTINE;
		s->quarantine_count--;
	}
	s->quarantine[(s->quarantine_head + s->quarantine_count++) % SIM_QUARANTINE] = l;
}

/* A step's driver context (rp_drive.h). */
struct sim_step {
	struct sim *s;
	struct sim_node *n;
	bool bad_lend;                    /* the node kept a frame that was not lent */
	const uint64_t *drops_before;     /* --trace: the drop counters before the step */
};

static bool returned(void *ctx, void *lend)
{
	struct sim *s = ((struct sim_step *)ctx)->s;
	struct sim_node *n = ((struct sim_step *)ctx)->n;
	struct sim_lent *l = lend;
	if (l->magic != SIM_LENT_LIVE || l->node != n->index || !l->kept) {
		sim_violation(s, "lending", "node %u returned a frame it %s", n->id,
			      l->magic != SIM_LENT_LIVE ? "had returned already" :
			      l->node != n->index ? "was never lent" : "did not keep");
		return false;
	}
	n->lent_out--;
	lent_free(s, l);
	return true;
}

static void kept(void *ctx, const struct rp_input *in);
static void stepped(void *ctx, const struct rp_input *in, int rc);
static void perform(void *ctx, const struct rp_actions *acts);
static const struct rp_driver sim_driver = {.kept = kept, .stepped = stepped, .perform = perform,
					    .returned = returned};

/* Before a node's memory is dropped or reused: every kept frame back. */
static void return_all(struct sim *s, struct sim_node *n)
{
	struct sim_step ctx = {.s = s, .n = n};
	rp_drive_return_all(n->rp, &sim_driver, &ctx);
	if (n->lent_out != 0 && !s->failed)
		sim_violation(s, "lending", "node %u still holds %" PRId64 " lent frames after rp_return_all",
			      n->id, n->lent_out);
	n->lent_out = 0;
}

/* Starts (or restarts) a node: a new incarnation, the ring seq it recorded. */
void sim_node_boot(struct sim *s, struct sim_node *n)
{
	struct rp_config c = s->cfg;
	c.node_id = n->id;
	c.incarnation = ++n->incarnation;
	c.ring_seq = n->stable.ring_seq;
	c.last_primary = n->stable.last_primary;
	c.last_primary_members = n->stable.last_primary_members;
	c.installed_primary = n->stable.installed_primary;
	c.installed_primary_members = n->stable.installed_primary_members;
	c.proto_min = n->proto_min;
	c.proto_max = n->proto_max;
	if (s->opts.window_size[n->index] != 0)
		c.window_size = s->opts.window_size[n->index];
	/* no-relay: at every node (a topology's relays are wherever the seed put them) */
	c.mutation = n->index == s->mutant || s->opts.mutation == RP_MUTATION_NO_RELAY ? s->opts.mutation
											: RP_MUTATION_NONE;
	if (rp_node_init(n->rp, &c) != 0)
		abort();
	n->alive = true;
	n->left = false;
	n->pending_self = 0;
	n->seen_all = false;
	n->link_down = 0;
	n->resumed_ns = UINT64_MAX;
	n->timer_at = UINT64_MAX;
	n->timer_gen++;
	memset(n->streams, 0, sizeof(n->streams));
	sim_check_node_reset(s, n);
	sim_trace(s, "n%u starts, incarnation %" PRIu64, n->id, n->incarnation);
}

static void node_stop(struct sim *s, struct sim_node *n)
{
	sim_pause_free(s, n); /* a paused process that dies loses its queue */
	n->in_primary = false;
	return_all(s, n);
	n->alive = false;
	n->timer_gen++; /* its pending timers are void */
	n->timer_at = UINT64_MAX;
	n->pending_self = 0;
}

static uint32_t alive_count(const struct sim *s)
{
	uint32_t k = 0;
	for (uint32_t i = 0; i < s->opts.nodes; i++)
		k += s->nodes[i].alive;
	return k;
}

static void heal(struct sim *s)
{
	memset(s->blocked, 0, sizeof(s->blocked));
	sim_trace(s, "network healed");
}

static void heal_paths(struct sim *s)
{
	memset(s->cut, 0, sizeof(s->cut));
	memset(s->mute, 0, sizeof(s->mute));
	memset(s->path_down, 0, sizeof(s->path_down));
}

bool sim_direct(const struct sim *s, uint32_t a, uint32_t b)
{
	for (uint32_t p = 0; p < s->opts.paths; p++)
		if ((s->on[a] & s->on[b] & (1u << p)) && !s->path_down[p] && !s->cut[a][p] && !s->cut[b][p] &&
		    !s->mute[a][p] && !s->mute[b][p])
			return true; /* both ways: a muted sending side breaks the pair */
	return false;
}

bool sim_sends_to(const struct sim *s, uint32_t a, uint32_t b)
{
	for (uint32_t p = 0; p < s->opts.paths; p++)
		if ((s->on[a] & s->on[b] & (1u << p)) && !s->path_down[p] && !s->cut[a][p] && !s->cut[b][p] &&
		    !s->mute[a][p])
			return true; /* b's own mute stops only its sends */
	return false;
}

/* The nodes of `set` joined to node `from` by networks that work, through
 * nodes of `set` (the working graph G of docs/protocol.md §17.1). */
static uint64_t component(const struct sim *s, uint32_t from, uint64_t set)
{
	uint64_t seen = 1ull << from, frontier = seen;
	while (frontier != 0) {
		uint32_t a = 0;
		while (!((frontier >> a) & 1u))
			a++;
		frontier &= ~(1ull << a);
		for (uint32_t b = 0; b < s->opts.nodes; b++)
			if (((set >> b) & 1u) && !((seen >> b) & 1u) && sim_direct(s, a, b)) {
				seen |= 1ull << b;
				frontier |= 1ull << b;
			}
	}
	return seen;
}

/* A partial topology, and a full one in active mode: the working graph
 * joins every node (§17.2, §9.8). A full passive one: every pair of nodes
 * has a path on which neither link is cut (§9.5: its round robin needs a
 * path that reaches every member). */
static bool paths_connect(const struct sim *s)
{
	uint64_t all = (1ull << s->opts.nodes) - 1u;
	if (s->opts.partial || s->rrp_mode == RP_RRP_ACTIVE)
		return component(s, 0, all) == all;
	for (uint32_t a = 0; a < s->opts.nodes; a++)
		for (uint32_t b = a + 1; b < s->opts.nodes; b++)
			if (!sim_direct(s, a, b))
				return false;
	return true;
}

/* Sets a path fault's slot; before the membership faults start (--faults
 * all) a fault that would break paths_connect() is skipped (false). */
static bool fault_slot(struct sim *s, bool *slot, bool cut)
{
	if (*slot == cut)
		return false;
	*slot = cut;
	if (cut && s->opts.faults == SIM_FAULTS_ALL && s->now < s->memb_from_ns && !paths_connect(s)) {
		*slot = false;
		return false;
	}
	return true;
}

/* --mutes: node's frames on path are lost, while it still receives there
 * (one direction of one link; a filtering switch port, scripts/topology
 * mute), or that ends. */
static void path_mute(struct sim *s, uint32_t node, uint8_t path, bool on)
{
	if (!fault_slot(s, &s->mute[node][path], on))
		return;
	if (on)
		s->path_cuts++;
	sim_trace(s, "n%u path %u %s", s->nodes[node].id, path, on ? "muted" : "unmuted");
}

/* Applies a path fault, as fault_slot() allows. */
static void path_fault(struct sim *s, uint32_t node, uint8_t path, bool cut, bool whole)
{
	if (!fault_slot(s, whole ? &s->path_down[path] : &s->cut[node][path], cut))
		return;
	if (cut)
		s->path_cuts++;
	else
		sim_stale_flush(s);
	if (whole)
		sim_trace(s, "path %u %s", path, cut ? "down" : "up");
	else
		sim_trace(s, "n%u path %u %s", s->nodes[node].id, path, cut ? "cut" : "restored");
}

static void apply_fault(struct sim *s, const struct sim_fault *f);

/* Scenario hooks apply faults in the middle of a step: the connectivity
 * the stability checker knows follows at once. */
void sim_apply_fault(struct sim *s, const struct sim_fault *f)
{
	apply_fault(s, f);
	sim_stable_update(s);
}

static void apply_fault(struct sim *s, const struct sim_fault *f)
{
	struct sim_node *n = &s->nodes[f->node % s->opts.nodes];
	switch (f->kind) {
	case SIM_FAULT_CRASH:
		if (!n->alive)
			return;
		sim_trace(s, "n%u crashes", n->id);
		node_stop(s, n);
		s->crashes++;
		return;
	case SIM_FAULT_RESTART:
		if (n->alive)
			return;
		if (f->proto_min)
			n->proto_min = f->proto_min;
		if (f->proto_max)
			n->proto_max = f->proto_max;
		s->restarts++;
		sim_node_boot(s, n);
		step(s, n, &(struct rp_input){.kind = RP_IN_TICK});
		return;
	case SIM_FAULT_LEAVE:
		if (!n->alive || n->paused)
			return;
		sim_trace(s, "n%u leaves", n->id);
		step(s, n, &(struct rp_input){.kind = RP_IN_LEAVE});
		node_stop(s, n);
		n->left = true;
		s->leaves++;
		return;
	case SIM_FAULT_ISOLATE:
		for (uint32_t j = 0; j < s->opts.nodes; j++)
			s->blocked[n->index][j] = s->blocked[j][n->index] = j != n->index;
		s->partitions++;
		sim_trace(s, "n%u isolated", n->id);
		return;
	case SIM_FAULT_SPLIT:
		for (uint32_t a = 0; a < s->opts.nodes; a++)
			for (uint32_t b = 0; b < s->opts.nodes; b++)
				s->blocked[a][b] = ((f->mask >> a) & 1u) != ((f->mask >> b) & 1u);
		s->partitions++;
		sim_trace(s, "network split by mask 0x%x", f->mask);
		return;
	case SIM_FAULT_HEAL:
		heal(s);
		return;
	case SIM_FAULT_DROP_TOKEN:
		s->drop_next_token = true;
		sim_stable_fault(s);
		return;
	case SIM_FAULT_PAUSE:
		sim_pause(s, n, f->duration_ns);
		return;
	case SIM_FAULT_ONEWAY:
		for (uint32_t j = 0; j < s->opts.nodes; j++)
			if (j != n->index && ((f->mask >> j) & 1u))
				sim_oneway(s, n->index, j, f->duration_ns);
		return;
	case SIM_FAULT_PATH_CUT:
	case SIM_FAULT_PATH_RESTORE:
		path_fault(s, n->index, f->path % s->opts.paths, f->kind == SIM_FAULT_PATH_CUT, false);
		return;
	case SIM_FAULT_LINK_DOWN:
	case SIM_FAULT_LINK_UP: {
		if (!n->alive || n->paused)
			return;
		struct rp_input in = {.kind = RP_IN_LINK};
		in.link.path = f->path;
		in.link.up = f->kind == SIM_FAULT_LINK_UP;
		step(s, n, &in);
		return;
	}
	case SIM_FAULT_PATH_DOWN:
	case SIM_FAULT_PATH_UP:
		path_fault(s, 0, f->path % s->opts.paths, f->kind == SIM_FAULT_PATH_DOWN, true);
		return;
	}
}

/* Every live node's NIC reports path's link down or up; an up is sent only
 * where a down was. */
static void link_report(struct sim *s, uint8_t path, bool up)
{
	for (uint32_t i = 0; i < s->opts.nodes; i++) {
		struct sim_node *n = &s->nodes[i];
		bool down = (n->link_down >> path) & 1u;
		if (!n->alive || n->paused || down != up || !((s->on[i] >> path) & 1u))
			continue;
		n->link_down = (uint8_t)(up ? n->link_down & ~(1u << path) : n->link_down | (1u << path));
		struct rp_input in = {.kind = RP_IN_LINK};
		in.link.path = path;
		in.link.up = up;
		step(s, n, &in);
	}
}

/* A seeded path fault (--faults all): a link or a whole path dies, comes
 * back, or flaps (a burst of cuts and restores a few ms apart). */
static void random_path_fault(struct sim *s)
{
	uint32_t node = (uint32_t)sim_rand_range(s, 0, s->opts.nodes - 1);
	uint8_t path = (uint8_t)sim_rand_range(s, 0, s->opts.paths - 1);
	uint64_t r = sim_rand_range(s, 0, 99);
	/* a partial topology cuts a link the node has */
	while (s->opts.partial && !((s->on[node] >> path) & 1u))
		path = (uint8_t)((path + 1u) % s->opts.paths);
	/* drawn only with --mutes, so that the seeds without it keep their
	 * schedules: a quarter of the path faults mute a link, or end a mute */
	if (s->opts.mutes && sim_chance(s, 0.25)) {
		path_mute(s, node, path, !s->mute[node][path]);
		return;
	}
	if (r < 30) {
		path_fault(s, node, path, true, false);
	} else if (r < 55) {
		for (uint32_t i = 0; i < s->opts.nodes; i++)
			for (uint32_t p = 0; p < s->opts.paths; p++)
				if (s->cut[i][p] && sim_chance(s, 0.5))
					path_fault(s, i, (uint8_t)p, false, false);
	} else if (r < 65) {
		path_fault(s, 0, path, true, true);
		/* half the time the NICs notice (RP_IN_LINK), as some PMDs do */
		if (s->path_down[path] && sim_chance(s, 0.5))
			link_report(s, path, false);
	} else if (r < 80) {
		path_fault(s, 0, path, false, true);
		link_report(s, path, true);
	} else {
		bool whole = sim_chance(s, 0.3);
		uint64_t t = s->now;
		uint32_t flips = (uint32_t)sim_rand_range(s, 2, 8);
		for (uint32_t k = 0; k < flips; k++) {
			t += sim_rand_range(s, 1, 8) * 1000000ull;
			ev_push(s, (struct sim_event){.at = t, .kind = SIM_EV_PATH, .node = whole ? UINT32_MAX : node,
						      .path = path, .gen = (k & 1u) ? 1u : 0u});
		}
		path_fault(s, node, path, true, whole);
	}
}

/* A seeded membership fault (--faults memb). */
static void random_fault(struct sim *s)
{
	if (s->opts.faults == SIM_FAULTS_PAUSE) {
		sim_random_pause(s);
		return;
	}
	struct sim_fault f = {.node = (uint32_t)sim_rand_range(s, 0, s->opts.nodes - 1)};
	uint64_t r = sim_rand_range(s, 0, 119);
	if (r >= 100) {
		/* process pauses and one-way cuts (sim_pause.c) */
		if (r < 112)
			sim_random_pause(s);
		else
			sim_random_oneway(s);
		return;
	}
	bool alive = s->nodes[f.node].alive;
	if (r < 20) {
		f.kind = alive && alive_count(s) > 1 ? SIM_FAULT_CRASH : SIM_FAULT_RESTART;
	} else if (r < 35) {
		f.kind = alive ? (alive_count(s) > 1 ? SIM_FAULT_LEAVE : SIM_FAULT_HEAL) : SIM_FAULT_RESTART;
	} else if (r < 50) {
		f.kind = SIM_FAULT_RESTART;
		for (uint32_t i = 0; i < s->opts.nodes; i++)
			if (!s->nodes[i].alive)
				f.node = i;
	} else if (r < 65) {
		f.kind = SIM_FAULT_SPLIT;
		f.mask = (uint32_t)sim_rand_range(s, 1, (1u << s->opts.nodes) - 2u);
	} else if (r < 72) {
		f.kind = SIM_FAULT_ISOLATE;
	} else if (r < 80) {
		/* asymmetric: one direction of some pairs */
		for (uint32_t a = 0; a < s->opts.nodes; a++)
			for (uint32_t b = 0; b < s->opts.nodes; b++)
				if (a != b && sim_chance(s, 0.15))
					s->blocked[a][b] = true;
		s->partitions++;
		sim_trace(s, "asymmetric partition");
		return;
	} else if (r < 95) {
		f.kind = SIM_FAULT_HEAL;
	} else {
		f.kind = SIM_FAULT_DROP_TOKEN;
	}
	sim_apply_fault(s, &f);
}

static void net_deliver_copy(struct sim *s, uint32_t from, uint32_t to, uint8_t path,
			     struct sim_buf *b)
{
	struct sim_path *p = &s->paths[path];
	if (!((s->on[from] >> path) & 1u)) {
		sim_violation(s, "topology", "node %u sent on path %u, which it is not on",
			      s->nodes[from].id, path);
		return;
	}
	if (!((s->on[to] >> path) & 1u))
		return;
	if (s->blocked[from][to] || s->oneway[from][to] || s->mute[from][path])
		return;
	if (s->path_down[path] || s->cut[from][path] || s->cut[to][path]) {
		sim_stale_queue(s, to, path, b);
		return;
	}
	if (s->opts.filter &&
	    s->opts.filter(s, s->opts.filter_arg, from, to, path, b->data, b->size))
		return;
	bool faulty = faults_on(s);
	if (faulty && sim_chance(s, p->loss))
		return;
	uint32_t copies = faulty && sim_chance(s, p->dup) ? 2 : 1;
	for (uint32_t c = 0; c < copies; c++) {
		uint64_t delay = sim_stale_delay(s, p->delay_ns + sim_rand_range(s, 0, p->jitter_ns));
		b->refs++;
		ev_push(s, (struct sim_event){.at = s->now + delay, .kind = SIM_EV_ARRIVE,
					      .node = to, .path = path, .buf = b});
	}
	sim_stale_maybe_replay(s);
}

static void net_send(struct sim *s, uint32_t from, const struct rp_send *snd)
{
	if (s->drop_next_token && snd->size > RP_WIRE_HDR_SIZE &&
	    rp_wire_peek_type(snd->data, snd->size) == RP_FRAME_TOKEN) {
		s->drop_next_token = false;
		sim_trace(s, "n%u token lost on every path (scripted)", s->nodes[from].id);
		return;
	}
	const uint8_t *data = snd->data;
	uint32_t size = snd->size;
	uint8_t *wire = NULL;
	if (s->opts.wire_seal) {
		wire = malloc(size + SIM_WIRE_EXTRA);
		if (!wire)
			abort();
		size = s->opts.wire_seal(s, s->opts.wire_arg, from, data, size, wire);
		data = wire;
	}
	for (uint8_t path = 0; size != 0 && path < s->opts.paths; path++) {
		if (!(snd->path_mask & (1u << path)))
			continue;
		struct sim_buf *b = sim_buf_new(s, size); /* held while fanning out */
		memcpy(b->data, data, size);
		rp_wire_set_path(b->data, path);
		for (uint32_t to = 0; to < s->opts.nodes; to++) {
			if (to == from)
				continue;
			if (snd->dest != RP_DEST_ALL && s->nodes[to].id != snd->dest)
				continue;
			net_deliver_copy(s, from, to, path, b);
		}
		sim_stale_archive(s, b, from, path);
		sim_buf_unref(s, b);
	}
	free(wire);
}

/* ---- payloads ---- */

static uint8_t *payload_make(uint64_t index, uint32_t size)
{
	uint8_t *p = malloc(size ? size : 1);
	if (!p)
		abort();
	sim_payload_fill(index, size, p);
	return p;
}

/* ---- node stepping ---- */

static void schedule_timer(struct sim *s, struct sim_node *n)
{
	uint64_t d = rp_next_deadline_ns(n->rp);
	if (d == UINT64_MAX)
		return;
	if (d < s->now)
		d = s->now;
	if (d >= n->timer_at)
		return;
	n->timer_at = d;
	n->timer_gen++;
	ev_push(s, (struct sim_event){.at = d, .kind = SIM_EV_TIMER, .node = n->index,
				      .gen = n->timer_gen});
}

/* The last fragment of a message: the message is delivered. */
static void message_complete(struct sim *s, struct sim_node *n, struct sim_stream *st, const struct rp_delivery *d)
{
	st->active = false;
	if (s->now >= s->opts.gap_from_ns && s->now < s->opts.gap_to_ns && n->last_delivery_ns != 0 &&
	    s->now - n->last_delivery_ns > s->max_gap_ns) {
		s->max_gap_ns = s->now - n->last_delivery_ns;
		s->max_gap_node = n->id;
	}
	n->last_delivery_ns = s->now;
	if (rp_seq_gt(d->seq, s->max_seq_delivered) || s->deliveries == 0)
		s->max_seq_delivered = d->seq;
	if (d->seq < s->opts.initial_seq)
		s->seq_wrapped = true;
	sim_check_delivery(s, n, st->index, d);
	if (s->opts.on_message && !s->failed)
		s->opts.on_message(s, s->opts.deliver_arg, n->index, st->index, d);
}

static void on_delivery(struct sim *s, struct sim_node *n, const struct rp_delivery *d)
{
	struct sim_stream *st = &n->streams[sim_stream_index(d->origin, d->client_id, d->priority)];
	sim_digest(s, ((uint64_t)n->index << 56) ^ d->seq ^ ((uint64_t)d->entry_index << 40));
	if (d->client_id >= SIM_CLIENTS_MAX || d->origin == 0 || d->origin > s->opts.nodes) {
		sim_violation(s, "integrity", "node %u: delivery from unknown stream origin %u client %u",
			      n->id, d->origin, d->client_id);
		return;
	}
	sim_evs_fragment(s, n, d);
	if (s->failed)
		return;
	if (n->in_trans && st->active &&
	    ((d->flags & RP_ENTRY_F_FIRST) || d->frag_offset != st->next_off)) {
		/* A transitional configuration skips holes: a message missing a
		 * fragment is dropped everywhere (docs/design.md §2). */
		st->active = false;
		s->dropped_partial++;
	}
	if (n->in_trans && !st->active && !(d->flags & RP_ENTRY_F_FIRST))
		return;
	if (d->flags & RP_ENTRY_F_FIRST) {
		if (st->active) {
			sim_violation(s, "integrity", "node %u: message %" PRIu64
				      " of origin %u never completed before the next began",
				      n->id, st->index, d->origin);
			return;
		}
		if (d->chunk_size < SIM_PAYLOAD_HDR && d->chunk_size != d->msg_size) {
			sim_violation(s, "integrity", "node %u: first fragment too short", n->id);
			return;
		}
		uint64_t index = 0;
		for (int i = 0; i < 8; i++)
			index |= (uint64_t)d->data[i] << (8 * i);
		st->active = true;
		st->index = index;
		st->next_off = 0;
	} else if (!st->active || d->frag_offset != st->next_off) {
		sim_violation(s, "integrity", "node %u: fragment at offset %u of stream (%u,%u,%u) out of place",
			      n->id, d->frag_offset, d->origin, d->client_id, d->priority);
		return;
	}
	if (st->index >= s->msg_count || s->msgs[st->index].size != d->msg_size) {
		sim_violation(s, "integrity", "node %u: delivered a message never published (index %" PRIu64 ")",
			      n->id, st->index);
		return;
	}
	uint32_t bad = sim_payload_check(st->index, d->msg_size, d->frag_offset, d->data, d->chunk_size);
	if (bad != UINT32_MAX) {
		sim_violation(s, "integrity", "node %u: message %" PRIu64 " corrupted at byte %u",
			      n->id, st->index, bad);
		return;
	}
	st->next_off = d->frag_offset + d->chunk_size;
	s->bytes_delivered += d->chunk_size;
	if (d->flags & RP_ENTRY_F_LAST)
		message_complete(s, n, st, d);
}

static void on_config(struct sim *s, struct sim_node *n, const struct rp_configuration *c)
{
	sim_trace(s, "n%u config %s ring (%u,%" PRIu64 ") members=%u", n->id,
		  c->kind == RP_CONFIG_REGULAR ? "regular" : "transitional", c->ring.rep,
		  c->ring.seq, c->member_count);
	sim_digest(s, ((uint64_t)n->index << 56) ^ c->ring.seq ^ 0xC0);
	if (c->kind == RP_CONFIG_REGULAR) {
		/* an incomplete message does not cross a regular configuration */
		for (uint32_t k = 0; k < SIM_STREAMS; k++) {
			if (n->streams[k].active)
				s->dropped_partial++;
			n->streams[k].active = false;
		}
	}
	sim_check_config(s, n, c);
	if (s->opts.on_config && !s->failed)
		s->opts.on_config(s, s->opts.deliver_arg, n->index, c);
}

/* --trace: a frame as its sender hands it to the network. */
static void trace_send(struct sim *s, const struct sim_node *n, const struct rp_wire_hdr *hp,
		       const struct rp_send *snd)
{
	struct rp_wire_hdr h = *hp;
	static struct rp_wire_token t;
	static struct rp_wire_join j;
	struct rp_wire_data d;
	if (h.type == RP_FRAME_TOKEN && rp_wire_decode_token(snd->data, &h, &t) == RP_DROP_NONE)
		sim_trace(s, "n%u send token -> n%u tseq=%" PRIu64 " seq=%" PRIu64
			  " aru=%" PRIu64 " aru_id=%u rtr=%u", n->id, snd->dest,
			  t.token_seq, t.seq, t.aru, t.aru_id, t.rtr_count);
	else if (h.type == RP_FRAME_JOIN && rp_wire_decode_join(snd->data, &h, &j) == RP_DROP_NONE)
		sim_trace(s, "n%u send join ring_seq=%" PRIu64 " proc=0x%" PRIx64 " fail=0x%" PRIx64,
			  n->id, j.ring_seq, j.proc_set, j.fail_set);
	else if (h.type != RP_FRAME_DATA)
		sim_trace(s, "n%u send %s size=%u paths=0x%x", n->id, rp_frame_type_name(h.type), snd->size,
			  snd->path_mask);
	else if (rp_wire_decode_data(snd->data, &h, &d) == RP_DROP_NONE)
		sim_trace(s, "n%u send data seq=%" PRIu64 " origin=%u entries=%u size=%u%s",
			  n->id, d.seq, d.origin, d.entry_count, snd->size,
			  (h.flags & RP_HDR_F_RETRANS) ? " (retransmission)" : "");
}

static void perform(void *ctx, const struct rp_actions *acts)
{
	struct sim *s = ((struct sim_step *)ctx)->s;
	struct sim_node *n = ((struct sim_step *)ctx)->n;
	for (uint32_t i = 0; i < acts->count && !s->failed; i++) {
		const struct rp_action *a = &acts->v[i];
		switch (a->kind) {
		case RP_ACT_SEND: {
			struct rp_wire_hdr h;
			enum rp_drop bad = rp_wire_decode_hdr(a->send.data, a->send.size, &h);
			if (bad != RP_DROP_NONE) {
				sim_violation(s, "wire", "node %u sent a frame its own decoder rejects (%s, %u bytes,"
					      " type %u)", n->id, rp_drop_name(bad), a->send.size,
					      rp_wire_peek_type(a->send.data, a->send.size));
				return;
			}
			sim_digest(s, ((uint64_t)n->index << 56) ^ ((uint64_t)h.type << 48) ^ a->send.size);
			sim_evs_sent(s, n, &h, a->send.data);
			if (s->opts.trace)
				trace_send(s, n, &h, &a->send);
			net_send(s, n->index, &a->send);
			break;
		}
		case RP_ACT_DELIVER:
			on_delivery(s, n, &a->deliver);
			break;
		case RP_ACT_CONFIG:
			on_config(s, n, &a->config);
			break;
		case RP_ACT_PERSIST:
			n->stable = a->persist; /* the newest record wins, as on a disk */
			break;
		case RP_ACT_PATH:
			sim_trace(s, "n%u path %u %s (in use 0x%x, faulty 0x%x)", n->id, a->path.path,
				  a->path.state == RP_PATH_OK ? "in use" :
				  a->path.state == RP_PATH_FAULTY ? "FAULTY" : "excluded",
				  a->path.in_use, a->path.faulty);
			if (a->path.state == RP_PATH_FAULTY) {
				s->path_faults++;
				if (s->path_first_faulty_ns == UINT64_MAX)
					s->path_first_faulty_ns = s->now;
			} else if (a->path.state == RP_PATH_OK) {
				s->path_last_ok_ns = s->now;
			}
			break;
		case RP_ACT_REFUSED:
			sim_trace(s, "n%u refuses n%u (kind %u): versions %u..%u, ours %u..%u, keys 0x%x", n->id,
				  a->refused.node, a->refused.kind, a->refused.their_min, a->refused.their_max,
				  a->refused.our_min, a->refused.our_max, a->refused.keys);
			s->refusals++;
			break;
		case RP_ACT_SUBMIT_DONE: {
			struct sim_msg *m = &s->msgs[a->submit_cookie];
			free(m->buf);
			m->buf = NULL;
			break;
		}
		}
	}
}

/* --trace: a Join or commit token as its receiver takes it, and why it
 * was dropped if it was. */
static void trace_memb_frame(struct sim *s, const struct sim_node *n, const struct rp_input *in,
			     const uint64_t *drops_before)
{
	struct rp_wire_hdr h;
	if (rp_wire_decode_hdr(in->frame.data, in->frame.size, &h) != RP_DROP_NONE ||
	    (h.type != RP_FRAME_JOIN && h.type != RP_FRAME_COMMIT))
		return;
	const struct rp_stats *st = rp_node_stats(n->rp);
	const char *why = NULL;
	for (uint32_t r = 0; r < RP_DROP_COUNT; r++)
		if (st->drops[r] != drops_before[r])
			why = rp_drop_name((enum rp_drop)r);
	struct rp_wire_join j;
	if (h.type == RP_FRAME_JOIN && rp_wire_decode_join(in->frame.data, &h, &j) == RP_DROP_NONE)
		sim_trace(s, "n%u recv join from n%u ring_seq=%" PRIu64 " proc=0x%" PRIx64 " fail=0x%" PRIx64
			  " heard=0x%" PRIx64 " refused=0x%" PRIx64 "%s%s", n->id, h.sender, j.ring_seq, j.proc_set,
			  j.fail_set, j.heard, j.refused, why ? " dropped: " : "", why ? why : "");
	else if (why)
		sim_trace(s, "n%u drops %s from n%u ring (%u,%" PRIu64 "): %s", n->id,
			  h.type == RP_FRAME_JOIN ? "join" : "commit", h.sender, h.ring.rep, h.ring.seq, why);
}

static void kept(void *ctx, const struct rp_input *in)
{
	struct sim_step *st = ctx;
	struct sim_lent *l = in->kind == RP_IN_FRAME ? in->frame.lend : NULL;
	if (l == NULL || l->magic != SIM_LENT_LIVE) {
		sim_violation(st->s, "lending", "node %u kept a frame that was not lent", st->n->id);
		st->bad_lend = true;
		return;
	}
	l->kept = 1;
	st->n->lent_out++;
}

/* After rp_step, before its actions: the checks of every step. */
static void stepped(void *ctx, const struct rp_input *in, int rc)
{
	struct sim *s = ((struct sim_step *)ctx)->s;
	struct sim_node *n = ((struct sim_step *)ctx)->n;
	(void)rc;
	if (s->opts.trace && in->kind == RP_IN_FRAME)
		trace_memb_frame(s, n, in, ((struct sim_step *)ctx)->drops_before);
	if (((struct sim_step *)ctx)->bad_lend)
		return;
	rp_check_invariants(n->rp);
	if (s->opts.trace) {
		const struct rp_stats *st = rp_node_stats(n->rp);
		if (st->pauses != n->traced_pauses) {
			n->traced_pauses = st->pauses;
			sim_trace(s, "n%u found a timer overdue: a pause (docs/protocol.md §16.1)", n->id);
		}
		for (uint32_t p = 0; p < s->opts.paths; p++)
			if (st->path_problems[p] != n->traced_problems[p]) {
				n->traced_problems[p] = st->path_problems[p];
				sim_trace(s, "n%u counts a problem on path %u (frame from path %u)", n->id, p,
					  in->kind == RP_IN_FRAME ? in->frame.path : 9);
			}
	}
	s->steps++;
	sim_check_arus(s, n);
}

static int step(struct sim *s, struct sim_node *n, const struct rp_input *in)
{
	uint64_t drops_before[RP_DROP_COUNT];
	struct sim_step ctx = {.s = s, .n = n, .drops_before = drops_before};
	if (s->opts.trace)
		memcpy(drops_before, rp_node_stats(n->rp)->drops, sizeof(drops_before));
	int rc = rp_drive(n->rp, in, s->now, &n->acts, &sim_driver, &ctx);
	if (ctx.bad_lend)
		return rc;
	schedule_timer(s, n);
	sim_stable_step(s, n);
	if (s->opts.watch && !s->failed)
		s->opts.watch(s, s->opts.watch_arg, n->index);
	return rc;
}

int sim_step(struct sim *s, struct sim_node *n, const struct rp_input *in) { return step(s, n, in); }

/* ---- client load ---- */

static uint32_t pick_size(struct sim *s)
{
	uint64_t r = sim_rand_range(s, 0, 999);
	uint32_t max = s->opts.message_size_max;
	uint32_t v;
	if (r < 650)
		v = (uint32_t)sim_rand_range(s, SIM_PAYLOAD_HDR, 128);
	else if (r < 900)
		v = (uint32_t)sim_rand_range(s, 129, 2048);
	else if (r < 985)
		v = (uint32_t)sim_rand_range(s, 2049, 16384);
	else
		v = (uint32_t)sim_rand_range(s, 16385, 262144);
	return v > max ? max : v;
}

/* Offers one message to node n's ring-proto; registers it if accepted. */
static bool publish(struct sim *s, struct sim_node *n, uint32_t client, uint32_t size,
		    uint8_t service, uint8_t prio)
{
	SIM_GROW(s->msgs, s->msg_cap, s->msg_count, 4096);
	uint64_t index = s->msg_count;
	uint8_t *buf = payload_make(index, size);
	struct rp_input in = rp_input_submit(buf, size, client, service, prio, index);
	/* register first: the step may already return the message as done */
	struct sim_msg *m = &s->msgs[s->msg_count++];
	memset(m, 0, sizeof(*m));
	m->origin = n->index;
	m->client = client;
	m->prio = prio;
	m->service = service;
	m->size = size;
	m->buf = buf;
	m->msgno = n->next_msgno[client][prio];
	m->publish_ns = s->now;
	m->incarnation = n->incarnation;
	n->pending_self++; /* before the step: a ring of one delivers within it */
	int rc = step(s, n, &in);
	if (rc != RP_OK) {
		n->pending_self--;
		s->msg_count--;
		free(buf);
		s->refused++;
		return false;
	}
	n->next_msgno[client][prio]++;
	n->published++;
	sim_trace(s, "n%u publish #%" PRIu64 " client=%u prio=%u %s size=%u", n->id, index, client,
		  prio, service == RP_SERVICE_SAFE ? "SAFE" : "AGREED", size);
	return true;
}

static void on_load(struct sim *s, struct sim_node *n)
{
	if (s->now >= s->opts.load_ns)
		return;
	if (!n->alive || n->paused)
		goto next; /* a paused process's clients wait */
	/* With token holds on, the load pauses 8 ms of every 20 so that the
	 * ring goes quiet, holds its token and is woken by HOLD_CANCEL. */
	if (s->opts.token_hold_ns != 0 && (s->now / 1000000u) % 20u >= 12u)
		goto next;
	uint32_t burst = (uint32_t)sim_rand_range(s, 1, 4);
	for (uint32_t i = 0; i < burst && !s->failed; i++) {
		uint32_t client = (uint32_t)sim_rand_range(s, 0, n->clients - 1);
		uint8_t svc = sim_chance(s, 0.3) ? RP_SERVICE_SAFE : RP_SERVICE_AGREED;
		uint8_t prio = (uint8_t)sim_rand_range(s, 0, RP_PRIO_COUNT - 1);
		publish(s, n, client, pick_size(s), svc, prio);
	}
next:
	ev_push(s, (struct sim_event){.at = s->now + sim_rand_range(s, 1, 2 * n->load_gap_ns),
				      .kind = SIM_EV_LOAD, .node = n->index});
}

/* ---- setup and run ---- */

/* A seeded partial topology (--topology partial, docs/protocol.md §17):
 * each network reaches a random subset of at least two nodes, one of them
 * (half the time) every node; every node is on some network, the
 * configured graph joins them all, and some network misses some node.
 * Returns false if no such topology was drawn (too few nodes or paths). */
static bool partial_topology(struct sim *s)
{
	uint32_t nn = s->opts.nodes, np = s->opts.paths;
	uint64_t all = (1ull << nn) - 1u;
	if (nn < 3 || np < 2)
		return false;
	for (int attempt = 0; attempt < 1000; attempt++) {
		uint64_t net[RP_PATHS_MAX] = {0};
		bool wide = sim_chance(s, 0.5);
		for (uint32_t k = 0; k < np; k++) {
			net[k] = k == 0 && wide ? all : sim_rand(s) & all;
			if (__builtin_popcountll(net[k]) < 2)
				net[k] = 0;
		}
		bool ok = true, partial = false;
		for (uint32_t k = 0; k < np; k++)
			partial = partial || (net[k] != all);
		for (uint32_t i = 0; i < nn; i++) {
			s->on[i] = 0;
			for (uint32_t k = 0; k < np; k++)
				if ((net[k] >> i) & 1u)
					s->on[i] |= (uint8_t)(1u << k);
			ok = ok && s->on[i] != 0;
		}
		if (!ok || !partial || component(s, 0, all) != all)
			continue;
		for (uint32_t k = 0; k < np; k++)
			if (net[k] == 0)
				ok = false; /* every configured network reaches someone */
		if (ok)
			return true;
	}
	return false;
}

/* The topology the options give (a scenario, or --networks), if any: every
 * node on some network, the configured graph connected. Returns false if
 * none is given; aborts on one that the configuration would refuse. */
static bool given_topology(struct sim *s)
{
	uint64_t all = (1ull << s->opts.nodes) - 1u, any = 0;
	for (uint32_t k = 0; k < s->opts.paths; k++)
		any |= s->opts.networks[k];
	if (any == 0)
		return false;
	for (uint32_t i = 0; i < s->opts.nodes; i++) {
		s->on[i] = 0;
		for (uint32_t k = 0; k < s->opts.paths; k++)
			if ((s->opts.networks[k] >> i) & 1u)
				s->on[i] |= (uint8_t)(1u << k);
	}
	if (any != all || component(s, 0, all) != all) {
		fprintf(stderr, "sim: the networks given leave a node out or the nodes apart\n");
		abort();
	}
	return true;
}

void sim_opts_default(struct sim_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->nodes = 3;
	o->paths = 1;
	o->faults = SIM_FAULTS_NET;
	o->random_load = true;
	o->load_ns = 300ull * 1000 * 1000;
	o->liveness_ns = 2000ull * 1000 * 1000;
	o->frame_size = 1472;
	o->message_size_max = 1u << 20;
	o->store_slots = 1024;
	o->rrp_mode = -1;
	o->quorum = -1;
	o->lend = SIM_LEND_ODD;
	o->stability = -1;
	o->stale = true;
}

/* The seeded faults and the script's, after a calm stretch (--calm-ms):
 * the load runs through both. */
static void schedule_faults(struct sim *s, const struct sim_opts *o)
{
	s->calm_ns = o->calm_ns;
	s->opts.load_ns = o->calm_ns + o->load_ns;
	s->memb_from_ns = s->calm_ns + (o->faults == SIM_FAULTS_ALL ? o->load_ns / 2 : 0);
	if (o->faults == SIM_FAULTS_MEMB || o->faults == SIM_FAULTS_ALL || o->faults == SIM_FAULTS_PAUSE) {
		/* one membership fault (pause: a pause) every 10..60 ms while the load runs */
		for (uint64_t t = s->memb_from_ns + sim_rand_range(s, 5, 30) * 1000000ull; t < s->opts.load_ns;
		     t += sim_rand_range(s, 10, 60) * 1000000ull)
			ev_push(s, (struct sim_event){.at = t, .kind = SIM_EV_FAULT});
		ev_push(s, (struct sim_event){.at = s->opts.load_ns, .kind = SIM_EV_HEAL_ALL});
	}
	if (o->faults == SIM_FAULTS_ALL) {
		/* one path fault every 5..30 ms while the load runs */
		for (uint64_t t = s->calm_ns + sim_rand_range(s, 2, 20) * 1000000ull; t < s->opts.load_ns;
		     t += sim_rand_range(s, 5, 30) * 1000000ull)
			ev_push(s, (struct sim_event){.at = t, .kind = SIM_EV_PATH, .gen = 2});
	}
	for (uint32_t i = 0; i < o->script_count; i++)
		ev_push(s, (struct sim_event){.at = o->script[i].at_ns, .kind = SIM_EV_FAULT, .gen = i + 1u});
}

const char *sim_opts_invalid(const struct sim_opts *o)
{
	if (o->nodes == 0 || o->nodes > SIM_NODES_MAX)
		return "nodes must be in 1..16";
	if (o->paths == 0 || o->paths > RP_PATHS_MAX)
		return "paths must be in 1..4";
	if (o->quorum == RP_QUORUM_TWO_NODE && o->nodes != 2)
		return "quorum two_node needs exactly two nodes";
	if (o->partial && (o->nodes < 3 || o->paths < 2))
		return "--topology partial needs 3 or more nodes and 2 or more paths";
	return NULL;
}

struct sim *sim_create(const struct sim_opts *o)
{
	if (sim_opts_invalid(o))
		return NULL;
	struct sim *s = calloc(1, sizeof(*s));
	if (!s)
		abort();
	s->opts = *o;
	/* the mutated node: the seed's pick, outside the run's random stream */
	s->mutant = (uint32_t)(sim_mix64(o->seed ^ 0x6D7574616E74ull) % o->nodes);
	uint64_t x = o->seed;
	for (int i = 0; i < 4; i++)
		s->rng[i] = splitmix(&x);
	s->digest = 0xCBF29CE484222325ull;
	for (uint32_t p = 0; p < o->paths; p++) {
		struct sim_path *pa = &s->paths[p];
		pa->delay_ns = sim_rand_range(s, 5, 60) * 1000;
		pa->jitter_ns = sim_rand_range(s, 0, 40) * 1000;
		if (o->faults >= SIM_FAULTS_NET) {
			pa->loss = (double)sim_rand_range(s, 0, 100) / 1000.0;
			pa->dup = (double)sim_rand_range(s, 0, 50) / 1000.0;
			pa->jitter_ns += sim_rand_range(s, 0, 150) * 1000;
		}
	}
	struct rp_config *c = &s->cfg;
	rp_config_default(c, 1);
	c->member_count = (uint16_t)o->nodes;
	for (uint32_t i = 0; i < o->nodes; i++)
		c->members[i] = (uint16_t)(i + 1);
	c->path_count = (uint8_t)o->paths;
	for (uint32_t i = 0; i < o->nodes; i++)
		s->on[i] = (uint8_t)((1u << o->paths) - 1u);
	if (o->partial && !given_topology(s) && !partial_topology(s)) {
		free(s);
		return NULL;
	}
	for (uint32_t k = 0; k < o->paths; k++) {
		for (uint32_t i = 0; i < o->nodes; i++)
			if (o->partial && ((s->on[i] >> k) & 1u))
				c->path_nodes[k] |= 1ull << i; /* id i + 1: bit id - 1 */
		if (o->partial)
			sim_trace(s, "network %u reaches nodes 0x%" PRIx64 " (bit id - 1)", k, c->path_nodes[k]);
	}
	c->frame_size_max = o->frame_size;
	c->message_size_max = o->message_size_max;
	c->store_slots = o->store_slots;
	c->window_size = o->store_slots / 8;
	c->max_messages = c->window_size / 4 > 32 ? 32 : c->window_size / 4;
	c->submit_queue_max = 256;
	c->rtr_max = 64;
	c->initial_seq = o->initial_seq;
	c->token_hold_ns = o->token_hold_ns;
	c->accelerated_window = o->accelerated < c->max_messages ? o->accelerated : c->max_messages;
	/* timeouts for a simulated LAN: hops of 5..250 us */
	c->token_retransmit_ns = 2ull * 1000 * 1000;
	c->token_loss_ns = 20ull * 1000 * 1000;
	c->join_ns = 3ull * 1000 * 1000;
	c->consensus_ns = 25ull * 1000 * 1000;
	c->merge_ns = 15ull * 1000 * 1000;
	c->fail_recv_const = 400;
	c->rrp_timeout_ns = 1ull * 1000 * 1000;
	c->rrp_threshold = 3;
	c->rrp_decay_ns = 50ull * 1000 * 1000;
	c->rrp_probe_ns = 5ull * 1000 * 1000;
	s->rrp_mode = o->rrp_mode;
	s->quorum = o->quorum;
	if (o->faults == SIM_FAULTS_ALL) {
		if (s->rrp_mode < 0)
			s->rrp_mode = (int)sim_rand_range(s, 0, 1);
		if (o->partial)
			s->rrp_mode = RP_RRP_ACTIVE; /* passive needs a full topology (§17.4) */
		static const int policies[3] = {RP_QUORUM_MAJORITY, RP_QUORUM_LAST_MAN_STANDING,
						RP_QUORUM_TWO_NODE};
		if (s->quorum < 0)
			s->quorum = policies[sim_rand_range(s, 0, o->nodes == 2 ? 2 : 1)];
	}
	if (s->rrp_mode < 0)
		s->rrp_mode = RP_RRP_ACTIVE;
	if (s->quorum < 0)
		s->quorum = RP_QUORUM_MAJORITY;
	c->rrp_mode = (enum rp_rrp_mode)s->rrp_mode;
	c->quorum = (enum rp_quorum)s->quorum;
	c->quorum_publish = o->quorum_publish;
	if (o->default_timeouts)
		rp_config_default_timeouts(c); /* ring-proto's, not the simulated LAN's */
	for (uint32_t i = 0; i < o->nodes; i++) {
		struct sim_node *n = &s->nodes[i];
		n->index = i;
		n->id = (uint16_t)(i + 1);
		n->clients = (uint32_t)sim_rand_range(s, 1, SIM_CLIENTS_MAX);
		n->load_gap_ns = sim_rand_range(s, 200, 1500) * 1000;
		n->timer_at = UINT64_MAX;
		n->proto_min = o->proto_min[i] ? o->proto_min[i] : c->proto_min;
		n->proto_max = o->proto_max[i] ? o->proto_max[i] : c->proto_max;
		c->node_id = n->id;
		n->rp_size = rp_node_size(c);
		if (n->rp_size == 0)
			abort();
		n->rp = aligned_alloc(64, (n->rp_size + 63) & ~(size_t)63);
		/* odd seeds give every node the smallest actions buffer allowed,
		 * so deliveries that do not fit are carried across steps */
		n->acts.capacity = rp_actions_min(c) + ((o->seed & 1u) ? 0u : 4096u);
		n->acts.v = calloc(n->acts.capacity, sizeof(*n->acts.v));
		if (!n->rp || !n->acts.v)
			abort();
	}
	sim_check_init(s);
	s->formed_ns = UINT64_MAX;
	s->path_first_faulty_ns = UINT64_MAX;
	for (uint32_t i = 0; i < o->nodes; i++)
		sim_node_boot(s, &s->nodes[i]);
	sim_stable_update(s);
	schedule_faults(s, o);
	sim_stale_init(s);
	return s;
}

void sim_destroy(struct sim *s)
{
	if (!s)
		return;
	while (s->ev_count > 0) {
		struct sim_event ev = ev_pop(s);
		if (ev.kind == SIM_EV_ARRIVE)
			sim_buf_unref(s, ev.buf);
	}
	free(s->ev);
	sim_stale_free(s);
	for (uint32_t i = 0; i < s->opts.nodes; i++) {
		if (s->nodes[i].alive && s->nodes[i].rp != NULL)
			return_all(s, &s->nodes[i]); /* a run stopped early: free what it lent */
		sim_pause_free(s, &s->nodes[i]);
		free(s->nodes[i].rp);
		free(s->nodes[i].acts.v);
		free(s->nodes[i].arus);
	}
	for (uint64_t i = 0; i < s->msg_count; i++)
		free(s->msgs[i].buf);
	for (size_t i = 0; i < s->quarantine_count; i++)
		free(s->quarantine[(s->quarantine_head + i) % SIM_QUARANTINE]);
	free(s->msgs);
	sim_check_free(s);
	while (s->buf_free != NULL) {
		struct sim_buf *b = s->buf_free;
		s->buf_free = b->next_free;
		free(b);
	}
	free(s);
}

uint64_t sim_now(const struct sim *s) { return s->now; }
const struct rp_node *sim_node(const struct sim *s, uint32_t index) { return s->nodes[index].rp; }
bool sim_node_alive(const struct sim *s, uint32_t index) { return s->nodes[index].alive; }

/* The trace shows frames that arrive from a ring other than the
 * receiver's: late, held, replayed or foreign ones. */
static void trace_other_ring(struct sim *s, const struct sim_node *n, const struct sim_event *ev)
{
	struct rp_wire_hdr h;
	struct rp_ring_id r = rp_node_ring(n->rp);
	if (rp_wire_decode_hdr(ev->buf->data, ev->buf->size, &h) != RP_DROP_NONE ||
	    (h.ring.rep == r.rep && h.ring.seq == r.seq))
		return;
	sim_trace(s, "n%u receives %s of ring (%u,%" PRIu64 ") from n%u (incarnation %" PRIu64 ") on path %u",
		  n->id, rp_frame_type_name(h.type), h.ring.rep, h.ring.seq, h.sender,
		  h.incarnation, ev->path);
}

/* A frame reaches a running node: the stability checker sees whether the
 * links explain it, the trace shows it if it is of another ring. */
static void note_arrival(struct sim *s, const struct sim_node *n, const struct sim_event *ev)
{
	sim_stable_arrival(s, n, ev->buf);
	if (s->opts.trace)
		trace_other_ring(s, n, ev);
}

static void handle(struct sim *s, const struct sim_event *ev)
{
	/* events of no node (faults, path events) carry node = UINT32_MAX */
	struct sim_node *n = ev->node < s->opts.nodes ? &s->nodes[ev->node] : NULL;
	switch (ev->kind) {
	case SIM_EV_ARRIVE: {
		if (!n->alive) {
			sim_buf_unref(s, ev->buf);
			break;
		}
		if (n->paused) {
			sim_pause_enqueue(s, n, ev); /* takes the reference */
			break;
		}
		note_arrival(s, n, ev);
		struct rp_input in = {.kind = RP_IN_FRAME};
		in.frame.data = ev->buf->data;
		in.frame.size = ev->buf->size;
		in.frame.path = ev->path;
		struct sim_lent *l = NULL;
		if (lends(s, n)) {
			l = lent_new(n->index, ev->buf);
			in.frame.data = l->data;
			in.frame.lend = l;
		}
		uint8_t *opened = NULL; /* wire_open's private copy (a lending node's is l) */
		if (s->opts.wire_open) {
			uint8_t *priv = l ? l->data : (opened = malloc(ev->buf->size ? ev->buf->size : 1u));
			if (!priv)
				abort();
			if (!l)
				memcpy(priv, ev->buf->data, ev->buf->size);
			in.frame.data = priv;
			in.frame.size = s->opts.wire_open(s, s->opts.wire_arg, ev->node, ev->path, priv, ev->buf->size);
		}
		if ((in.frame.size == 0 && s->opts.wire_open) || step(s, n, &in) != RP_KEPT) {
			if (l != NULL)
				lent_free(s, l);
		}
		free(opened);
		sim_buf_unref(s, ev->buf);
		break;
	}
	case SIM_EV_FAULT:
		if (ev->gen == 0)
			random_fault(s);
		else
			sim_apply_fault(s, &s->opts.script[ev->gen - 1u]);
		break;
	case SIM_EV_PATH:
		if (s->now >= s->opts.load_ns)
			break;
		if (ev->gen == 2)
			random_path_fault(s);
		else
			path_fault(s, ev->node == UINT32_MAX ? 0 : ev->node, ev->path, ev->gen == 1,
				   ev->node == UINT32_MAX);
		break;
	case SIM_EV_HEAL_ALL:
		for (uint32_t i = 0; i < s->opts.nodes; i++)
			if (s->nodes[i].paused)
				sim_resume(s, &s->nodes[i]);
		sim_oneway_clear(s);
		heal(s);
		heal_paths(s);
		sim_stale_flush(s);
		for (uint8_t p = 0; p < s->opts.paths; p++)
			link_report(s, p, true);
		for (uint32_t i = 0; i < s->opts.nodes; i++) {
			if (!s->nodes[i].alive) {
				s->restarts++;
				sim_node_boot(s, &s->nodes[i]);
				step(s, &s->nodes[i], &(struct rp_input){.kind = RP_IN_TICK});
			}
		}
		break;
	case SIM_EV_TIMER:
		if (ev->gen != n->timer_gen || !n->alive)
			break;
		n->timer_at = UINT64_MAX;
		if (n->paused)
			break; /* fired at the resume */
		step(s, n, &(struct rp_input){.kind = RP_IN_TICK});
		break;
	case SIM_EV_LOAD:
		on_load(s, n);
		break;
	case SIM_EV_RESUME:
		if (n->paused && ev->gen == n->pauses)
			sim_resume(s, n);
		break;
	case SIM_EV_ONEWAY:
		if (s->now < s->opts.load_ns) /* else HEAL_ALL cleared it */
			sim_oneway_end(s, ev->node, (uint32_t)ev->gen);
		break;
	case SIM_EV_SCRIPT: {
		const struct sim_publish *p = &s->opts.publish[ev->gen];
		if (!s->nodes[p->node].alive)
			break;
		if (s->nodes[p->node].paused || !publish(s, &s->nodes[p->node], 0, p->size, p->service, p->priority))
			ev_push(s, (struct sim_event){.at = s->now + 100000, .kind = SIM_EV_SCRIPT,
						      .node = ev->node, .gen = ev->gen});
		break;
	}
	}
}

/* The run may stop once the faults are over and the ring is quiet — but
 * not at the first quiet instant: every frame then still in flight (a
 * late copy, a held or replayed frame) must arrive, and the ring stay quiet
 * a token-loss timeout after it. *drain_until is 0 while not quiet. */
static bool quiet_to_stop(struct sim *s, uint64_t *drain_until)
{
	if (!sim_check_quiescent(s)) {
		*drain_until = 0;
		return false;
	}
	if (*drain_until == 0) {
		uint64_t last = s->now;
		for (size_t i = 0; i < s->ev_count; i++)
			if (s->ev[i].kind == SIM_EV_ARRIVE && s->ev[i].at > last)
				last = s->ev[i].at;
		*drain_until = last + s->cfg.token_loss_ns;
	}
	return s->now >= *drain_until;
}

/* What the run did, for the caller. */
static void fill_result(const struct sim *s, struct sim_result *r)
{
	memset(r, 0, sizeof(*r));
	r->ok = !s->failed;
	snprintf(r->property, sizeof(r->property), "%s", s->fail_property);
	snprintf(r->detail, sizeof(r->detail), "%s", s->fail_detail);
	r->digest = s->digest;
	r->messages = s->msg_count;
	r->deliveries = s->deliveries;
	r->bytes_delivered = s->bytes_delivered;
	r->sim_time_ns = s->now;
	r->events = s->events;
	r->max_seq_delivered = s->max_seq_delivered;
	r->seq_wrapped = s->seq_wrapped;
	r->configs = s->configs;
	r->crashes = s->crashes;
	r->restarts = s->restarts;
	r->leaves = s->leaves;
	r->partitions = s->partitions;
	r->dropped_partial = s->dropped_partial;
	r->last_change_ns = s->last_change_ns;
	r->rrp_mode = s->rrp_mode;
	r->quorum = s->quorum;
	r->path_faults = s->path_faults;
	r->path_first_faulty_ns = s->path_first_faulty_ns;
	r->path_last_ok_ns = s->path_last_ok_ns;
	r->path_cuts = s->path_cuts;
	r->max_gap_ns = s->max_gap_ns;
	r->max_gap_node = s->max_gap_node;
	r->refusals = s->refusals;
	r->primaries = sim_check_primaries(s);
	r->formed_ns = s->formed_ns;
	r->pauses = s->pauses;
	r->pause_drops = s->pause_drops;
	r->oneways = s->oneways;
	r->max_outage_ns = s->max_outage_ns;
	memcpy(r->on, s->on, sizeof(r->on));
	r->held = s->held;
	r->replayed = s->replayed;
	r->bursts = s->bursts;
	for (uint32_t i = 0; i < s->opts.nodes; i++) {
		const struct rp_stats *st = rp_node_stats(s->nodes[i].rp);
		for (uint32_t p = 0; p < RP_PATHS_MAX; p++)
			r->path_reinstated += st->path_reinstated[p];
		r->frames_sent += st->frames_sent;
		r->frames_retransmitted += st->frames_retransmitted;
		r->tokens_retransmitted += st->tokens_retransmitted;
		r->tokens_held += st->tokens_held;
		r->hold_cancels += st->hold_cancels_received;
		r->frames_after_token += st->frames_after_token;
		r->frames_kept += st->frames_kept;
		r->relayed += st->frames_relayed;
		r->flooded += st->tokens_flooded;
	}
}

void sim_run(struct sim *s, struct sim_result *r)
{
	for (uint32_t i = 0; i < s->opts.nodes; i++) {
		schedule_timer(s, &s->nodes[i]);
		if (s->opts.random_load)
			ev_push(s, (struct sim_event){.at = sim_rand_range(s, 0, s->nodes[i].load_gap_ns),
						      .kind = SIM_EV_LOAD, .node = i});
	}
	for (uint32_t i = 0; i < s->opts.publish_count; i++)
		ev_push(s, (struct sim_event){.at = s->opts.publish[i].at_ns, .kind = SIM_EV_SCRIPT,
					      .node = s->opts.publish[i].node, .gen = i});
	uint64_t end = s->opts.load_ns + s->opts.liveness_ns;
	uint64_t same_instant = 0, drain_until = 0;
	while (s->ev_count > 0 && !s->failed) {
		struct sim_event ev = ev_pop(s);
		if (ev.at > end) {
			if (ev.kind == SIM_EV_ARRIVE)
				sim_buf_unref(s, ev.buf);
			break;
		}
		/* virtual time must move: a node that keeps asking to be
		 * stepped at the same instant is a livelock, not a slow run */
		same_instant = ev.at == s->now && s->events > 0 ? same_instant + 1u : 0;
		if (same_instant > SIM_INSTANT_EVENTS_MAX) {
			if (ev.kind == SIM_EV_ARRIVE)
				sim_buf_unref(s, ev.buf);
			sim_violation(s, "livelock", "more than %u events at virtual time %.6f s (the last"
				      " one of kind %d for node %u)", SIM_INSTANT_EVENTS_MAX,
				      (double)s->now / 1e9, ev.kind, ev.node < s->opts.nodes ? ev.node + 1u : 0u);
			break;
		}
		s->now = ev.at;
		s->events++;
		handle(s, &ev);
		if (ev.kind != SIM_EV_ARRIVE && ev.kind != SIM_EV_TIMER && ev.kind != SIM_EV_LOAD &&
		    ev.kind != SIM_EV_SCRIPT)
			sim_stable_update(s);
		if (s->now >= s->opts.load_ns && quiet_to_stop(s, &drain_until))
			break;
	}
	if (!s->failed)
		sim_check_final(s);
	if (!s->failed)
		sim_check_quorum_final(s);
	for (uint32_t i = 0; i < s->opts.nodes; i++)
		if (s->nodes[i].alive)
			return_all(s, &s->nodes[i]);
	fill_result(s, r);
}

void sim_inject(struct sim *s, uint32_t from, uint32_t to, uint8_t path, const uint8_t *frame,
		uint32_t size, uint64_t delay_ns)
{
	(void)from;
	struct sim_buf *b = sim_buf_new(s, size);
	memcpy(b->data, frame, size);
	rp_wire_set_path(b->data, path);
	ev_push(s, (struct sim_event){.at = s->now + delay_ns, .kind = SIM_EV_ARRIVE, .node = to,
				      .path = path, .buf = b});
}

bool sim_saw_regular(const struct sim *s, uint64_t index_mask)
{
	/* views record members by id: bit id-1 = bit index */
	for (size_t i = 0; i < s->view_count; i++)
		if (!s->views[i].trans && s->views[i].members == index_mask)
			return true;
	return false;
}

uint64_t sim_drops(const struct sim *s, enum rp_drop reason)
{
	uint64_t k = 0;
	for (uint32_t i = 0; i < s->opts.nodes; i++)
		k += rp_node_stats(s->nodes[i].rp)->drops[reason];
	return k;
}

int sim_primary_of(const struct sim *s, uint64_t index_mask)
{
	for (size_t i = s->view_count; i-- > 0;)
		if (!s->views[i].trans && s->views[i].members == index_mask)
			return s->views[i].primary;
	return -1;
}
