/* scenarios.c — scripted simulator runs that read like specifications.
 *
 * Each scenario sets up the simulator, injects one precise fault or load,
 * runs with the full checker, and asserts the expected outcome besides the
 * checker's verdict (that the fault really happened and was repaired the way
 * the protocol says). Usage: scenarios NAME; `scenarios list` prints names.
 * Every scenario is one line of scenario_list.h.
 */
#include "sim.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MS (1000ull * 1000ull)

static int verdict(const char *name, const struct sim_result *r, bool expect, const char *what)
{
	if (!r->ok) {
		printf("%s: FAIL property=%s: %s\n", name, r->property, r->detail);
		return 1;
	}
	if (!expect) {
		printf("%s: FAIL expectation not met: %s\n", name, what);
		return 1;
	}
	printf("%s: ok (%s) messages=%" PRIu64 " deliveries=%" PRIu64 " retransmitted=%" PRIu64
	       " token-retransmits=%" PRIu64 " simtime=%.3fs\n",
	       name, what, r->messages, r->deliveries, r->frames_retransmitted, r->tokens_retransmitted,
	       (double)r->sim_time_ns / 1e9);
	return 0;
}

/* A scenario's fault script: a whole array of struct sim_fault, its count
 * from its size. */
#define SET_SCRIPT(opts, faults) \
	((opts).script = (faults), (opts).script_count = (uint32_t)(sizeof(faults) / sizeof((faults)[0])))

static void run(const struct sim_opts *o, struct sim_result *r)
{
	struct sim *s = sim_create(o);
	if (!s)
		abort();
	sim_run(s, r);
	sim_destroy(s);
}

static bool is_token(const uint8_t *f, uint32_t size)
{
	struct rp_wire_hdr h;
	return rp_wire_decode_hdr(f, size, &h) == RP_DROP_NONE && h.type == RP_FRAME_TOKEN;
}

/* "The first token sent after 50 ms is lost on every path; its sender
 * retransmits it and the ring goes on with nothing lost." */
struct lost_token {
	bool armed;
	uint64_t token_seq, sent_at;
	uint32_t dropped;
};

static bool drop_one_token(struct sim *s, void *arg, uint32_t from, uint32_t to, uint8_t path,
			   const uint8_t *f, uint32_t size)
{
	(void)from, (void)to, (void)path;
	struct lost_token *lt = arg;
	if (sim_now(s) < 50 * MS || !is_token(f, size))
		return false;
	uint64_t tseq = rp_get64(f + RP_WIRE_HDR_SIZE + RP_TOKEN_TOKEN_SEQ);
	if (!lt->armed) {
		lt->armed = true;
		lt->token_seq = tseq;
		lt->sent_at = sim_now(s);
	}
	if (tseq == lt->token_seq && sim_now(s) == lt->sent_at) {
		lt->dropped++;
		return true;
	}
	return false;
}

static int scenario_lost_token(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.seed = 11;
	o.nodes = 4;
	o.paths = 2;
	o.faults = SIM_FAULTS_NONE;
	struct lost_token lt = {0};
	o.filter = drop_one_token;
	o.filter_arg = &lt;
	struct sim_result r;
	run(&o, &r);
	return verdict("lost-token", &r, lt.dropped == 2 && r.tokens_retransmitted >= 1,
		       "token dropped on both paths, retransmitted by its sender");
}

/* "From 100 ms to 200 ms path 0 loses 30 % of frames. With one path the
 * ring repairs it by retransmission; with two, path 1 masks it." */
struct burst {
	uint64_t dropped;
};

static bool loss_burst(struct sim *s, void *arg, uint32_t from, uint32_t to, uint8_t path,
		       const uint8_t *f, uint32_t size)
{
	(void)from, (void)to, (void)f, (void)size;
	struct burst *b = arg;
	uint64_t now = sim_now(s);
	if (path != 0 || now < 100 * MS || now >= 200 * MS)
		return false;
	if (sim_rand(s) % 100 < 30) {
		b->dropped++;
		return true;
	}
	return false;
}

static int scenario_loss_burst(uint32_t paths, const char *name)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.seed = 12;
	o.nodes = 5;
	o.paths = paths;
	o.faults = SIM_FAULTS_NONE;
	struct burst b = {0};
	o.filter = loss_burst;
	o.filter_arg = &b;
	struct sim_result r;
	run(&o, &r);
	bool expect = b.dropped > 100 && (paths > 1 || r.frames_retransmitted > 0);
	return verdict(name, &r, expect, paths > 1 ? "30% burst on path 0 masked by path 1"
						    : "30% burst repaired by retransmission");
}

/* "The ring starts 1000 seqs before 2^64 and carries on across the wrap,
 * under network faults." */
static int scenario_wrap(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.seed = 13;
	o.nodes = 4;
	o.paths = 2;
	o.initial_seq = UINT64_MAX - 1000;
	struct sim_result r;
	run(&o, &r);
	return verdict("seq-wrap", &r, r.seq_wrapped && r.max_seq_delivered > 1000,
		       "delivered seqs crossed 2^64");
}

/* "A 64 MiB message published among small ones is delivered whole, once,
 * at one position, everywhere; the small ones keep flowing around it." */
static int scenario_big_message(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.seed = 14;
	o.nodes = 4;
	o.paths = 2;
	o.faults = SIM_FAULTS_NET;
	o.frame_size = 8960;
	o.store_slots = 4096;
	o.message_size_max = 64u << 20;
	struct sim_publish big = {.at_ns = 20 * MS, .node = 1, .size = 64u << 20,
				  .service = RP_SERVICE_SAFE, .priority = 2};
	o.publish = &big;
	o.publish_count = 1;
	struct sim_result r;
	run(&o, &r);
	return verdict("big-message", &r, r.bytes_delivered >= 4ull * (64u << 20),
		       "64 MiB SAFE message delivered whole at 4 nodes among small ones");
}

/* "With token holds on (docs/protocol.md §12), a quiet ring's token rests
 * at its last sender; the load's pauses make the ring quiet and its
 * restarts wake it with HOLD_CANCEL. A hold never outlasts the
 * predecessor's token-retransmit timer: on a loss-free network no token is
 * retransmitted." */
static int scenario_token_hold(uint32_t nodes, const char *name)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.seed = 31;
	o.nodes = nodes;
	o.paths = 2;
	o.faults = SIM_FAULTS_NONE;
	o.token_hold_ns = 900 * 1000;
	struct sim_result r;
	run(&o, &r);
	char what[160];
	snprintf(what, sizeof(what), "%" PRIu64 " holds, %" PRIu64 " ended by HOLD_CANCEL, %" PRIu64
		 " token retransmissions", r.tokens_held, r.hold_cancels, r.tokens_retransmitted);
	return verdict(name, &r, r.tokens_held > 20 && r.hold_cancels > 0 && r.tokens_retransmitted == 0,
		       what);
}

/* "With token holds on, a message submitted anywhere while a node holds
 * the token goes out within a HOLD_CANCEL's flight and a rotation, never
 * after the hold's deadline." Every node publishes, so the ring's last
 * sender, which holds (docs/protocol.md §12), is the representative or a
 * member; at each node's own steps the watch times each wait from a
 * submit into an empty queue (rp_node_backlog) to the node's next sent
 * data frame. A wait of most of a hold is a hold nobody cancelled (a
 * sender whose last visit was busy by its own count sends none, or one
 * sent to a node that does not hold). */
struct hold_wait {
	uint64_t since[SIM_NODES_MAX]; /* a wait began then (0: none) */
	uint64_t sent[SIM_NODES_MAX];  /* frames_sent when it began */
	uint64_t held[SIM_NODES_MAX];  /* tokens_held at the node's last step */
	uint64_t max_ns, long_waits, waits;
	uint64_t bound_ns; /* a wait this long is a hold nobody cancelled */
};

static void watch_hold_wait(struct sim *s, void *arg, uint32_t node)
{
	struct hold_wait *w = arg;
	const struct rp_node *n = sim_node(s, node);
	if (!sim_node_alive(s, node) || rp_node_state(n) != RP_NODE_OPERATIONAL) {
		w->since[node] = 0;
		return;
	}
	uint64_t sent = rp_node_stats(n)->frames_sent;
	w->held[node] = rp_node_stats(n)->tokens_held;
	if (w->since[node] == 0) {
		if (rp_node_backlog(n) != 0) {
			w->since[node] = sim_now(s);
			w->sent[node] = sent;
		}
		return;
	}
	if (sent == w->sent[node])
		return;
	uint64_t d = sim_now(s) - w->since[node];
	w->since[node] = 0;
	w->waits++;
	w->max_ns = d > w->max_ns ? d : w->max_ns;
	w->long_waits += d >= w->bound_ns;
}

static int scenario_hold_cancel(uint32_t nodes, uint64_t seed, const char *name)
{
	/* The representative (index 0) publishes one message every 5 ms; each
	 * other node publishes one a little later, the delay swept across a
	 * hold (25 us steps, staggered per node), so that some land while the
	 * representative holds the token one rotation after its own send, and
	 * the representative's own lands while the round's last sender holds. */
	enum { ROUNDS = 48 };
	static struct sim_publish pub[ROUNDS * SIM_NODES_MAX];
	uint32_t count = 0;
	for (uint32_t k = 0; k < ROUNDS; k++) {
		uint64_t t = 20 * MS + k * 5 * MS;
		pub[count++] = (struct sim_publish){.at_ns = t, .node = 0, .size = 200, .service = RP_SERVICE_AGREED};
		for (uint32_t i = 1; i < nodes; i++)
			pub[count++] = (struct sim_publish){.at_ns = t + 30000 + k * 25000 + i * 7000, .node = i,
							    .size = 200, .service = RP_SERVICE_AGREED};
	}
	struct sim_opts o;
	sim_opts_default(&o);
	o.seed = seed;
	o.nodes = nodes;
	o.faults = SIM_FAULTS_NONE;
	o.random_load = false;
	o.load_ns = 20 * MS + ROUNDS * 5 * MS;
	o.publish = pub;
	o.publish_count = count;
	o.token_hold_ns = 900 * 1000;
	struct hold_wait w = {.bound_ns = o.token_hold_ns * 3 / 4};
	o.watch = watch_hold_wait;
	o.watch_arg = &w;
	struct sim_result r;
	run(&o, &r);
	uint64_t member_holds = 0; /* index 0 is the representative: no faults */
	for (uint32_t i = 1; i < nodes; i++)
		member_holds += w.held[i];
	char what[240];
	snprintf(what, sizeof(what), "%" PRIu64 " holds (%" PRIu64 " at members), %" PRIu64
		 " ended by HOLD_CANCEL; of %" PRIu64 " sends %" PRIu64
		 " waited 3/4 of a hold or more, the longest %.3f ms",
		 r.tokens_held, member_holds, r.hold_cancels, w.waits, w.long_waits, (double)w.max_ns / 1e6);
	return verdict(name, &r, r.tokens_held > 20 && member_holds > 0 && w.waits >= ROUNDS && w.long_waits == 0,
		       what);
}

/* "With the Accelerated Ring option (docs/protocol.md §13) every busy
 * visit sends its last frames behind the token, so a successor often
 * visits before it has them. On a loss-free network that must cost no
 * retransmission: rtr requests reach only up to the previous visit's seq." */
static int scenario_accelerated(void)
{
	struct sim_opts o;
	sim_opts_default(&o);
	o.seed = 41;
	o.nodes = 4;
	o.paths = 2;
	o.faults = SIM_FAULTS_NONE;
	o.accelerated = 16;
	struct sim_result r;
	run(&o, &r);
	char what[160];
	snprintf(what, sizeof(what), "%" PRIu64 " frames sent behind a token, %" PRIu64 " retransmitted, %" PRIu64
		 " token retransmissions", r.frames_after_token, r.frames_retransmitted, r.tokens_retransmitted);
	return verdict("accelerated", &r,
		       r.frames_after_token > 1000 && r.frames_retransmitted == 0 && r.tokens_retransmitted == 0,
		       what);
}

/* "A node that keeps received frames lent by its driver instead of copying
 * them (docs/protocol.md §14) behaves exactly as one that copies: through
 * crashes, restarts, partitions and merges, every store reset and install
 * returns each kept frame once, and the run is the same run." The same seed
 * with no node, every other node and every node lending: equal trace
 * digests, and the simulator's own checks (a frame returned twice, never
 * kept, or still held when its node stops fails the run). */
static int scenario_lent_frames(void)
{
	static const int modes[3] = {SIM_LEND_NONE, SIM_LEND_ODD, SIM_LEND_ALL};
	struct sim_result r[3];
	for (int i = 0; i < 3; i++) {
		struct sim_opts o;
		sim_opts_default(&o);
		o.seed = 10; /* a schedule with a crash (lent frames die with their node) */
		o.nodes = 7;
		o.paths = 3;
		o.faults = SIM_FAULTS_ALL;
		o.lend = modes[i];
		run(&o, &r[i]);
		if (!r[i].ok)
			return verdict("lent-frames", &r[i], false, "");
	}
	char what[200];
	snprintf(what, sizeof(what), "frames kept: %" PRIu64 " / %" PRIu64 " / %" PRIu64 ", %" PRIu64
		 " crashes, %" PRIu64 " configurations, digests %016" PRIx64 " %016" PRIx64 " %016" PRIx64,
		 r[0].frames_kept, r[1].frames_kept, r[2].frames_kept, r[2].crashes, r[2].configs, r[0].digest,
		 r[1].digest, r[2].digest);
	return verdict("lent-frames", &r[2],
		       r[0].frames_kept == 0 && r[1].frames_kept > 1000 && r[2].frames_kept > r[1].frames_kept &&
			       r[2].crashes > 0 && r[0].digest == r[1].digest && r[1].digest == r[2].digest,
		       what);
}

/* ---- membership (issue: ring-proto part 2) ---- */

static void memb_opts(struct sim_opts *o, uint64_t seed, uint32_t nodes)
{
	sim_opts_default(o);
	o->seed = seed;
	o->nodes = nodes;
	o->paths = 2;
	o->faults = SIM_FAULTS_NONE;
	o->trace = getenv("ORDO_SIM_TRACE") != NULL; /* a readable trace of the run */
}

static struct sim *run_keep(const struct sim_opts *o, struct sim_result *r)
{
	struct sim *s = sim_create(o);
	if (!s)
		abort();
	sim_run(s, r);
	return s;
}

#define IDX(i) (1ull << (i))

/* "A member that holds a quiet ring's token as its last sender (docs/
 * protocol.md §12) is paused while it holds it, past the others' token
 * loss and consensus, so that they form a ring without it. On resume a
 * message its client submitted during the pause is its first step: the
 * submit releases the stale held token, and that visit is the probe of
 * §16.1 — it sequences nothing, the message waits for the next ring, and
 * every node delivers it." Only node 2 (index 1) publishes, so it is the
 * last sender and holds one rotation after its message; the watch pauses
 * it at its first hold. Its next message is scripted for 40 ms, inside
 * the pause, and retried every 100 us while it is paused; the pause ends
 * on one of those retries, whose event was queued before the resume's
 * frames and tick, so the submit comes first. Without the probe that
 * visit sends the message in the ring the others left (pause-send). */
struct hold_pause {
	bool fired;      /* node 2 paused while holding */
	uint64_t resume_ns;
	bool after;      /* node 2's first step after the resume seen */
	uint64_t held;   /* node 2's tokens_held (at the pause: its holds so far) */
	uint64_t probes_before;
	bool first_kept; /* ... it counted a probe and kept the message queued */
};

static void watch_hold_pause(struct sim *s, void *arg, uint32_t node)
{
	struct hold_pause *w = arg;
	const struct rp_node *n = sim_node(s, node);
	if (node != 1)
		return;
	const struct rp_stats *st = rp_node_stats(n);
	if (!w->fired) {
		uint64_t before = w->held;
		w->held = st->tokens_held;
		if (w->held == before || sim_now(s) < 20 * MS || sim_now(s) >= 40 * MS)
			return; /* not a hold begun in this step, after its first message */
		w->fired = true;
		w->probes_before = st->pause_probes;
		/* resume on a retry of the 40 ms message: 40 ms + k * 100 us */
		uint64_t at = sim_now(s) + 60 * MS, step = 100 * 1000;
		w->resume_ns = 40 * MS + (at - 40 * MS + step - 1) / step * step;
		struct sim_fault f = {.kind = SIM_FAULT_PAUSE, .node = 1, .duration_ns = w->resume_ns - sim_now(s)};
		sim_apply_fault(s, &f);
		return;
	}
	if (w->after || sim_now(s) < w->resume_ns)
		return;
	w->after = true;
	w->first_kept = st->pause_probes == w->probes_before + 1 && rp_node_backlog(n) != 0;
}

static int scenario_hold_pause(void)
{
	static const struct sim_publish pub[] = {
		{.at_ns = 20 * MS, .node = 1, .size = 200, .service = RP_SERVICE_AGREED},
		{.at_ns = 40 * MS, .node = 1, .size = 200, .service = RP_SERVICE_AGREED},
	};
	struct sim_opts o;
	memb_opts(&o, 33, 3);
	o.random_load = false;
	o.load_ns = 250 * MS;
	o.publish = pub;
	o.publish_count = (uint32_t)(sizeof(pub) / sizeof(pub[0]));
	o.token_hold_ns = 900 * 1000;
	struct hold_pause w = {0};
	o.watch = watch_hold_pause;
	o.watch_arg = &w;
	struct sim_result r;
	struct sim *s = run_keep(&o, &r);
	const struct rp_stats *st = rp_node_stats(sim_node(s, 1));
	bool left = sim_saw_regular(s, IDX(0) | IDX(2));
	bool back = r.last_change_ns > w.resume_ns && sim_saw_regular(s, IDX(0) | IDX(1) | IDX(2));
	char what[240];
	snprintf(what, sizeof(what),
		 "node 2 paused holding (hold %" PRIu64 ") until %.3f ms: {1,3} %s, its first step after"
		 " the resume %s; pauses %" PRIu64 ", probes %" PRIu64 ", the ring of three again %s",
		 w.held, (double)w.resume_ns / 1e6, left ? "formed" : "not formed",
		 w.first_kept ? "a probe that kept the submitted message" : "not a probe with the message kept",
		 st->pauses, st->pause_probes, back ? "yes" : "no");
	bool expect = w.fired && w.after && w.first_kept && left && back && r.messages == 2;
	sim_destroy(s);
	return verdict("hold-pause", &r, expect, what);
}

/* "Node 3 crashes while node 2 is in RECOVERY after node 5's crash: the
 * survivors give up that ring, keep the old ring's messages, and form
 * {1,2,4} with nothing lost or duplicated." */
struct crash_in_recovery {
	bool first_done, fired;
};

static void watch_recovery(struct sim *s, void *arg, uint32_t node)
{
	struct crash_in_recovery *w = arg;
	if (w->fired || node != 1 || sim_now(s) < 50 * MS)
		return;
	if (rp_node_state(sim_node(s, 1)) == RP_NODE_RECOVERY) {
		w->fired = true;
		struct sim_fault f = {.kind = SIM_FAULT_CRASH, .node = 2};
		sim_apply_fault(s, &f);
	}
}

static int scenario_crash_in_recovery(void)
{
	struct sim_opts o;
	memb_opts(&o, 21, 5);
	struct sim_fault crash5 = {.at_ns = 50 * MS, .kind = SIM_FAULT_CRASH, .node = 4};
	o.script = &crash5;
	o.script_count = 1;
	o.faults = SIM_FAULTS_NONE;
	struct crash_in_recovery w = {0};
	o.watch = watch_recovery;
	o.watch_arg = &w;
	struct sim_result r;
	struct sim *s = run_keep(&o, &r);
	/* {1,2,3,4} may or may not have been installed before node 3 crashed;
	 * the final ring is {1,2,4}; HEAL_ALL is not scheduled without faults */
	bool expect = w.fired && sim_saw_regular(s, IDX(0) | IDX(1) | IDX(3));
	sim_destroy(s);
	return verdict("crash-during-recovery", &r, expect,
		       "node 3 crashed in recovery; {1,2,4} formed, old messages kept");
}

/* "Partition {1,2}|{3,4,5} at 60 ms: two rings form; at 160 ms the network
 * heals and one ring of five forms again." */
static int scenario_partition_merge(void)
{
	struct sim_opts o;
	memb_opts(&o, 22, 5);
	struct sim_fault f[2] = {
		{.at_ns = 60 * MS, .kind = SIM_FAULT_SPLIT, .mask = 0x03},
		{.at_ns = 160 * MS, .kind = SIM_FAULT_HEAL},
	};
	SET_SCRIPT(o, f);
	struct sim_result r;
	struct sim *s = run_keep(&o, &r);
	bool expect = sim_saw_regular(s, IDX(0) | IDX(1)) &&
		      sim_saw_regular(s, IDX(2) | IDX(3) | IDX(4)) && r.last_change_ns > 160 * MS;
	sim_destroy(s);
	return verdict("partition-merge", &r, expect, "{1,2} and {3,4,5} formed, then merged into five");
}

/* "Node 2 crashes while the token is on its way to it: the others detect
 * the loss and form {1,3,4,5}." Prints the time from crash to the new ring. */
struct holder {
	bool armed, fired;
	uint64_t crash_ns;
};

static bool token_to_2(struct sim *s, void *arg, uint32_t from, uint32_t to, uint8_t path,
		       const uint8_t *f, uint32_t size)
{
	(void)from, (void)path;
	struct holder *h = arg;
	if (!h->fired && sim_now(s) >= 60 * MS && to == 1 && is_token(f, size))
		h->armed = true;
	return false;
}

static void crash_holder(struct sim *s, void *arg, uint32_t node)
{
	(void)node;
	struct holder *h = arg;
	if (h->armed && !h->fired) {
		h->fired = true;
		h->crash_ns = sim_now(s);
		struct sim_fault f = {.kind = SIM_FAULT_CRASH, .node = 1};
		sim_apply_fault(s, &f);
	}
}

static int scenario_token_holder_crash(bool defaults)
{
	struct sim_opts o;
	memb_opts(&o, 23, 5);
	if (defaults) {
		/* token loss 1 s + consensus 1.2 s: give liveness room */
		o.default_timeouts = true;
		o.liveness_ns = 6000 * MS;
	}
	struct holder h = {0};
	o.filter = token_to_2;
	o.filter_arg = &h;
	o.watch = crash_holder;
	o.watch_arg = &h;
	struct sim_result r;
	struct sim *s = run_keep(&o, &r);
	bool expect = h.fired && sim_saw_regular(s, IDX(0) | IDX(2) | IDX(3) | IDX(4));
	sim_destroy(s);
	printf("token-holder-crash: crash at %.3f ms, new regular configuration at %.3f ms: %.3f ms"
	       " (%s)\n",
	       (double)h.crash_ns / 1e6, (double)r.last_change_ns / 1e6,
	       (double)(r.last_change_ns - h.crash_ns) / 1e6,
	       defaults ? "default timeouts: token loss 1000 ms, consensus 1200 ms, join 50 ms"
			: "simulator timeouts: token loss 20 ms, consensus 25 ms, join 3 ms");
	return verdict("token-holder-crash", &r, expect, "the ring without node 2 formed");
}

/* "Nodes 2 and 4 crash at 50 ms and both restart at 130 ms with new
 * incarnations: {1,3,5} forms, then all five again." */
static int scenario_two_restarts(void)
{
	struct sim_opts o;
	memb_opts(&o, 24, 5);
	struct sim_fault f[4] = {
		{.at_ns = 50 * MS, .kind = SIM_FAULT_CRASH, .node = 1},
		{.at_ns = 50 * MS, .kind = SIM_FAULT_CRASH, .node = 3},
		{.at_ns = 130 * MS, .kind = SIM_FAULT_RESTART, .node = 1},
		{.at_ns = 130 * MS, .kind = SIM_FAULT_RESTART, .node = 3},
	};
	SET_SCRIPT(o, f);
	struct sim_result r;
	struct sim *s = run_keep(&o, &r);
	bool expect = sim_saw_regular(s, IDX(0) | IDX(2) | IDX(4)) && r.restarts == 2 &&
		      r.last_change_ns > 130 * MS;
	sim_destroy(s);
	return verdict("two-restarts", &r, expect, "{1,3,5} formed, then five with two new incarnations");
}

/* "Node 3, cut off from the others, restarts twice before it joins any
 * ring (each time within a consensus timeout, so it forms no ring of its
 * own): its three start rings have three different ids, and it joins the
 * others once the network heals." (The review's ring-id repeat, seed
 * 1000000016: the start ring's seq was persisted only if it was primary.) */
struct start_rings {
	struct rp_ring_id seen[16];
	uint32_t count;
};

static void watch_start_rings(struct sim *s, void *arg, uint32_t node)
{
	struct start_rings *w = arg;
	if (node != 2 || !sim_node_alive(s, 2))
		return;
	struct rp_ring_id r = rp_node_ring(sim_node(s, 2));
	if (r.rep != 3)
		return;
	for (uint32_t i = 0; i < w->count; i++)
		if (w->seen[i].seq == r.seq)
			return;
	if (w->count < 16)
		w->seen[w->count++] = r;
}

static int scenario_restart_before_join(void)
{
	struct sim_opts o;
	memb_opts(&o, 31, 3);
	struct sim_fault f[6] = {
		{.at_ns = 40 * MS, .kind = SIM_FAULT_ISOLATE, .node = 2},
		{.at_ns = 60 * MS, .kind = SIM_FAULT_CRASH, .node = 2},
		{.at_ns = 70 * MS, .kind = SIM_FAULT_RESTART, .node = 2},
		{.at_ns = 80 * MS, .kind = SIM_FAULT_CRASH, .node = 2},
		{.at_ns = 90 * MS, .kind = SIM_FAULT_RESTART, .node = 2},
		{.at_ns = 150 * MS, .kind = SIM_FAULT_HEAL},
	};
	SET_SCRIPT(o, f);
	struct start_rings w = {0};
	o.watch = watch_start_rings;
	o.watch_arg = &w;
	struct sim_result r;
	struct sim *s = run_keep(&o, &r);
	bool distinct = w.count >= 3;
	for (uint32_t i = 0; i < w.count; i++)
		for (uint32_t j = i + 1; j < w.count; j++)
			distinct = distinct && w.seen[i].seq != w.seen[j].seq;
	bool expect = distinct && r.restarts == 2 && sim_saw_regular(s, IDX(0) | IDX(1) | IDX(2));
	sim_destroy(s);
	return verdict("restart-before-join", &r, expect,
		       "three start rings of node 3 with three ids, then all three in one ring");
}

/* "A 64 MiB message is being sent when node 5 crashes: its fragments of the
 * old ring are dropped everywhere and it is sent again, whole, in the new
 * ring — delivered once at every live node." */
static int scenario_big_message_change(void)
{
	struct sim_opts o;
	memb_opts(&o, 25, 4);
	o.frame_size = 8960;
	o.store_slots = 4096;
	o.message_size_max = 64u << 20;
	o.load_ns = 400 * MS;
	struct sim_publish big = {.at_ns = 20 * MS, .node = 0, .size = 64u << 20,
				  .service = RP_SERVICE_AGREED, .priority = 2};
	o.publish = &big;
	o.publish_count = 1;
	struct sim_fault crash = {.at_ns = 23 * MS, .kind = SIM_FAULT_CRASH, .node = 3};
	o.script = &crash;
	o.script_count = 1;
	struct sim_result r;
	run(&o, &r);
	return verdict("big-message-membership-change", &r,
		       r.dropped_partial >= 1 && r.bytes_delivered >= 3ull * (64u << 20),
		       "partial 64 MiB message dropped at the change, resent whole, delivered once");
}

/* "Node 3 crashes and restarts at once; frames it sent before the crash are
 * still on the wire and arrive after its new incarnation is known: they are
 * dropped as stale and change nothing." */
struct stale {
	uint8_t frames[8][1472];
	uint32_t size[8];
	uint32_t count;
	bool injected;
};

static bool capture_n3(struct sim *s, void *arg, uint32_t from, uint32_t to, uint8_t path,
		       const uint8_t *f, uint32_t size)
{
	(void)to, (void)path;
	struct stale *st = arg;
	if (from == 2 && sim_now(s) < 50 * MS && sim_now(s) > 40 * MS && size <= 1472) {
		uint32_t k = st->count++ % 8;
		memcpy(st->frames[k], f, size);
		st->size[k] = size;
	}
	return false;
}

static void replay_n3(struct sim *s, void *arg, uint32_t node)
{
	(void)node;
	struct stale *st = arg;
	/* after the new incarnation is adopted: the old one silent for
	 * token_loss (20 ms; docs/protocol.md §8.8, Rule D) */
	if (st->injected || sim_now(s) < 80 * MS || st->count == 0)
		return;
	st->injected = true;
	uint32_t k = st->count < 8 ? st->count : 8;
	for (uint32_t i = 0; i < k; i++)
		for (uint32_t to = 0; to < 5; to++)
			if (to != 2)
				sim_inject(s, 2, to, 0, st->frames[i], st->size[i], 10 * 1000);
}

static int scenario_stale_incarnation(void)
{
	struct sim_opts o;
	memb_opts(&o, 26, 5);
	struct sim_fault f[2] = {
		{.at_ns = 50 * MS, .kind = SIM_FAULT_CRASH, .node = 2},
		{.at_ns = 50 * MS, .kind = SIM_FAULT_RESTART, .node = 2},
	};
	SET_SCRIPT(o, f);
	static struct stale st;
	memset(&st, 0, sizeof(st));
	o.filter = capture_n3;
	o.filter_arg = &st;
	o.watch = replay_n3;
	o.watch_arg = &st;
	struct sim_result r;
	struct sim *s = run_keep(&o, &r);
	uint64_t stale = sim_drops(s, RP_DROP_STALE);
	sim_destroy(s);
	printf("stale-incarnation: %u old frames replayed, %" PRIu64 " dropped as stale\n",
	       st.count < 8 ? st.count : 8, stale);
	return verdict("stale-incarnation", &r, st.injected && stale > 0,
		       "the old incarnation's frames were dropped as stale");
}

/* "A faulty peer (id 9, never configured) sends node 2 a Join claiming ring
 * seq 2^64 - 2: it is refused, and the ring of three still regroups when
 * node 3 crashes and reforms with it." (found by review) */
struct forged {
	bool sent;
};

static void send_forged(struct sim *s, void *arg, uint32_t node)
{
	(void)node;
	struct forged *f = arg;
	if (f->sent || sim_now(s) < 50 * MS)
		return;
	f->sent = true;
	/* in the name of node 3 (its first incarnation, as the simulator
	 * numbers them), with a ring seq near 2^64 */
	struct rp_wire_join j;
	memset(&j, 0, sizeof(j));
	j.ring_seq = UINT64_MAX - 1u;
	j.proc_set = 1ull << 2;
	j.inc[2] = 1;
	struct rp_wire_hdr h = {.version = RP_WIRE_VERSION_MAX, .sender = 3, .incarnation = 1,
				.ring = {.rep = 3, .seq = 1}, .proto = 1, .proto_min = 1, .proto_max = 1};
	uint8_t buf[256];
	size_t size = rp_wire_encode_join(buf, &h, &j);
	sim_inject(s, 0, 1, 0, buf, (uint32_t)size, 1000);
	/* and from node 9, which is not configured: dropped before anything
	 * is learnt from it (docs/protocol.md §8.2) */
	j.ring_seq = 5;
	j.proc_set = 1ull << 8;
	j.inc[8] = 1;
	h.sender = 9;
	h.ring.rep = 9;
	size = rp_wire_encode_join(buf, &h, &j);
	sim_inject(s, 0, 1, 0, buf, (uint32_t)size, 1000);
}

static int scenario_forged_join(void)
{
	struct sim_opts o;
	memb_opts(&o, 27, 3);
	struct sim_fault f[2] = {
		{.at_ns = 100 * MS, .kind = SIM_FAULT_CRASH, .node = 2},
		{.at_ns = 200 * MS, .kind = SIM_FAULT_RESTART, .node = 2},
	};
	SET_SCRIPT(o, f);
	struct forged fj = {0};
	o.watch = send_forged;
	o.watch_arg = &fj;
	struct sim_result r;
	struct sim *s = run_keep(&o, &r);
	uint64_t bad = sim_drops(s, RP_DROP_BAD_BODY), unknown = sim_drops(s, RP_DROP_BAD_SENDER);
	bool expect = fj.sent && bad >= 1 && unknown >= 1 && sim_saw_regular(s, IDX(0) | IDX(1)) && r.last_change_ns > 200 * MS;
	sim_destroy(s);
	return verdict("forged-join", &r, expect, "a Join with ring seq near 2^64 and one from an unconfigured node refused; the ring still regroups");
}

/* ---- part 3: redundant ring, quorum, versions ---- */

/* "Path 0 dies for every node at 100 ms under load and comes back at
 * 200 ms: no configuration change, nothing lost, the path is marked faulty
 * and later reinstated." Prints the longest gap between two deliveries at a
 * node while the path is down, beside the same run without the cut. */
static int scenario_path_cut(enum rp_rrp_mode mode, bool defaults, bool link, const char *name)
{
	struct sim_opts o;
	memb_opts(&o, 31, 3);
	o.rrp_mode = mode;
	/* with ring-proto's defaults (token retransmit 50 ms, probes every
	 * 100 ms) the path stays down 300 ms and the run lasts 900 ms */
	uint64_t up = defaults ? 400 * MS : 200 * MS;
	o.default_timeouts = defaults;
	if (defaults) {
		o.load_ns = 900 * MS;
		o.liveness_ns = 6000 * MS;
	}
	o.gap_from_ns = 100 * MS;
	o.gap_to_ns = up;
	struct sim_result base;
	run(&o, &base);
	/* with link: every node's NIC also reports the link down and up
	 * (RP_IN_LINK), as a PMD with link-status events does */
	struct sim_fault f[8] = {
		{.at_ns = 100 * MS, .kind = SIM_FAULT_PATH_DOWN, .path = 0},
		{.at_ns = up, .kind = SIM_FAULT_PATH_UP, .path = 0},
	};
	uint32_t k = 2;
	for (uint32_t i = 0; link && i < o.nodes; i++) {
		f[k++] = (struct sim_fault){.at_ns = 100 * MS, .kind = SIM_FAULT_LINK_DOWN, .node = i, .path = 0};
		f[k++] = (struct sim_fault){.at_ns = up, .kind = SIM_FAULT_LINK_UP, .node = i, .path = 0};
	}
	o.script = f;
	o.script_count = k;
	struct sim_result r;
	run(&o, &r);
	printf("%s: longest delivery gap with path 0 down %.3f ms (node %u), without the cut %.3f ms;"
	       " path marked faulty %.3f ms after the cut, back in use %.3f ms after the repair\n",
	       name, (double)r.max_gap_ns / 1e6, r.max_gap_node, (double)base.max_gap_ns / 1e6,
	       r.path_first_faulty_ns == UINT64_MAX ? -1.0 : (double)(r.path_first_faulty_ns - 100 * MS) / 1e6,
	       r.path_last_ok_ns > up ? (double)(r.path_last_ok_ns - up) / 1e6 : -1.0);
	bool expect = base.ok && r.last_change_ns < 100 * MS && r.path_faults > 0 &&
		      r.path_first_faulty_ns >= 100 * MS && r.path_last_ok_ns > up &&
		      r.path_reinstated > 0;
	return verdict(name, &r, expect, "no configuration change; path 0 marked faulty, then reinstated");
}

/* "On an idle ring (no load, the token held), node 1's link on path 0 is
 * cut at 100 ms: a node may count a peer missing on a path (the evidence
 * that names it in a fault and reports the path down to it, docs/protocol.md
 * §9.6) only on path 0 and only if one of the two is node 1." Probes go on
 * one path and a quiet peer sends nothing: neither is evidence. */
struct idle_blame {
	uint64_t false_blames, blames_of_1;
	char first[96];
};

static void watch_blame(struct sim *s, void *arg, uint32_t node)
{
	struct idle_blame *w = arg;
	if (sim_now(s) < 100 * MS)
		return;
	const struct rp_node *n = sim_node(s, node);
	for (uint16_t id = 1; id <= 3; id++) {
		struct rp_peer_info pi;
		if (id == node + 1u || rp_node_peer(n, id, &pi) != 0 || pi.missing == 0)
			continue;
		bool cut_pair = node == 0 || id == 1;
		if (pi.missing == 1u && cut_pair) {
			w->blames_of_1++;
			continue;
		}
		if (w->false_blames++ == 0)
			snprintf(w->first, sizeof(w->first), "node %u counts node %u missing on paths 0x%x at %.3f ms",
				 node + 1u, id, pi.missing, (double)sim_now(s) / 1e6);
	}
}

static int scenario_path_cut_idle(void)
{
	struct sim_opts o;
	memb_opts(&o, 34, 3);
	o.rrp_mode = RP_RRP_ACTIVE;
	o.random_load = false;
	o.token_hold_ns = 900 * 1000; /* a quiet ring holds its token, as ordod does (§12) */
	struct sim_fault f[1] = {{.at_ns = 100 * MS, .kind = SIM_FAULT_PATH_CUT, .node = 0, .path = 0}};
	SET_SCRIPT(o, f);
	struct idle_blame w = {0};
	o.watch = watch_blame;
	o.watch_arg = &w;
	struct sim_result r;
	run(&o, &r);
	printf("path-cut-idle: %" PRIu64 " checks counted a peer of node 1 missing on path 0, %" PRIu64
	       " counted one missing elsewhere%s%s; paths marked faulty %" PRIu64 "\n",
	       w.blames_of_1, w.false_blames, w.false_blames ? ", first: " : "", w.first, r.path_faults);
	bool expect = r.last_change_ns < 100 * MS && r.path_faults > 0 && w.blames_of_1 > 0 && w.false_blames == 0;
	return verdict("path-cut-idle", &r, expect,
		       "path 0 marked; peers counted missing only on path 0 and only between node 1 and the others");
}

/* "Under load on a full 3-node, 2-path active ring, node 1's link on path 0
 * is cut at 100 ms: nodes 2 and 3 keep path 0 in use and keep hearing each
 * other on it; node 1 marks it. At 250 ms the whole of path 0 dies: every
 * node marks it. At 400 ms path 0 comes back but node 1's link stays cut:
 * nodes 2 and 3 reinstate it by 480 ms. At 520 ms node 1's link is back:
 * every node has it in use at the end." (docs/protocol.md §9.7: faults per
 * (peer, path) in every topology.) */
struct node_cut {
	uint64_t checks, pair_lost; /* nodes 2 and 3 between 150 and 250 ms */
	uint64_t healed_checks, healed_lost; /* the same between 480 and 520 ms */
	uint8_t marked_whole;       /* nodes that marked path 0 while it was down */
	char first[96];
};

static void watch_node_cut(struct sim *s, void *arg, uint32_t node)
{
	struct node_cut *w = arg;
	uint64_t now = sim_now(s);
	const struct rp_node *n = sim_node(s, node);
	if (now >= 250 * MS && now < 400 * MS && (rp_node_paths_faulty(n) & 1u))
		w->marked_whole |= (uint8_t)(1u << node);
	if (node != 0 && now >= 480 * MS && now < 520 * MS) {
		w->healed_checks++;
		w->healed_lost += (rp_node_paths_faulty(n) & 1u) != 0;
	}
	if (node == 0 || now < 150 * MS || now >= 250 * MS)
		return;
	/* the other of nodes 2 and 3, heard on path 0 within 10 ms */
	struct rp_peer_info pi;
	uint16_t other = node == 1 ? 3 : 2;
	w->checks++;
	bool heard = rp_node_peer(n, other, &pi) == 0 && pi.last_rx_ns[0] != 0 && now - pi.last_rx_ns[0] <= 10 * MS;
	bool used = (rp_node_paths_in_use(n) & 1u) && !(rp_node_paths_faulty(n) & 1u);
	if (heard && used)
		return;
	if (w->pair_lost++ == 0)
		snprintf(w->first, sizeof(w->first), "node %u at %.3f ms: path 0 %s, node %u %s on it",
			 node + 1u, (double)now / 1e6, used ? "in use" : "out of use", other,
			 heard ? "heard" : "not heard");
}

static int scenario_path_cut_node(void)
{
	struct sim_opts o;
	memb_opts(&o, 34, 3); /* node 2 marked path 0 before node 1 did, before §9.7 */
	o.rrp_mode = RP_RRP_ACTIVE;
	struct sim_fault f[] = {
		{.at_ns = 100 * MS, .kind = SIM_FAULT_PATH_CUT, .node = 0, .path = 0},
		{.at_ns = 250 * MS, .kind = SIM_FAULT_PATH_DOWN, .path = 0},
		{.at_ns = 400 * MS, .kind = SIM_FAULT_PATH_UP, .path = 0},
		{.at_ns = 520 * MS, .kind = SIM_FAULT_PATH_RESTORE, .node = 0, .path = 0},
	};
	SET_SCRIPT(o, f);
	o.load_ns = 700 * MS;
	struct node_cut w = {0};
	o.watch = watch_node_cut;
	o.watch_arg = &w;
	struct sim_result r;
	struct sim *s = run_keep(&o, &r);
	uint8_t faulty_end = 0;
	for (uint32_t i = 0; i < 3; i++)
		faulty_end |= (uint8_t)((rp_node_paths_faulty(sim_node(s, i)) & 1u) << i);
	sim_destroy(s);
	printf("path-cut-node: nodes 2 and 3 lost path 0 between them in %" PRIu64 " of %" PRIu64
	       " checks%s%s; nodes that marked path 0 while it was down 0x%x; after it came back with node 1"
	       " still cut, marked at nodes 2 or 3 in %" PRIu64 " of %" PRIu64 " checks; still marked at the end 0x%x\n",
	       w.pair_lost, w.checks, w.pair_lost ? ", first: " : "", w.first, w.marked_whole, w.healed_lost,
	       w.healed_checks, faulty_end);
	bool expect = r.last_change_ns < 100 * MS && w.checks > 0 && w.pair_lost == 0 && w.marked_whole == 7u &&
		      w.healed_checks > 0 && w.healed_lost == 0 && faulty_end == 0 && r.path_reinstated > 0;
	return verdict("path-cut-node", &r, expect,
		       "one node's cut: path 0 kept between the others; whole path 0 down: marked everywhere; back "
		       "with node 1 still cut: reinstated at nodes 2 and 3; no configuration change");
}

/* "Four nodes, two networks, active: node 1 is cut from network 0 at 100
 * ms, node 2 from network 1 at 200 ms, both until 500 ms (docs/protocol.md
 * §9.8's example): nodes 1 and 2 share no working network." No
 * configuration change, and node 1's frames reach node 2 through a
 * designated relay, not only by retransmission: more frames relayed than
 * the flooded tokens' forwards can account for (each is forwarded at most
 * once by each of the three others). Prints both and the retransmissions. */
static int scenario_path_cross(void)
{
	struct sim_opts o;
	memb_opts(&o, 35, 4);
	o.rrp_mode = RP_RRP_ACTIVE;
	struct sim_fault f[] = {
		{.at_ns = 100 * MS, .kind = SIM_FAULT_PATH_CUT, .node = 0, .path = 0},
		{.at_ns = 200 * MS, .kind = SIM_FAULT_PATH_CUT, .node = 1, .path = 1},
		{.at_ns = 500 * MS, .kind = SIM_FAULT_PATH_RESTORE, .node = 0, .path = 0},
		{.at_ns = 500 * MS, .kind = SIM_FAULT_PATH_RESTORE, .node = 1, .path = 1},
	};
	SET_SCRIPT(o, f);
	o.load_ns = 600 * MS;
	struct sim_result r;
	run(&o, &r);
	printf("path-cross-active: frames relayed %" PRIu64 ", tokens flooded %" PRIu64
	       ", frames retransmitted %" PRIu64 "\n",
	       r.relayed, r.flooded, r.frames_retransmitted);
	return verdict("path-cross-active", &r, r.last_change_ns < 100 * MS && r.relayed > 3u * r.flooded,
		       "no configuration change; data frames relayed across the cut pair");
}

/* "Four nodes, two networks, active: from 100 to 500 ms node 1's frames
 * on network 1 are lost and node 3's on network 0 (their sending sides
 * muted, both still receive everywhere): nodes 1 and 3 hear each other one
 * way on each network and share no network that works both ways." They
 * are connected (docs/protocol.md §16.0: every frame of Totem is a one-way
 * send), so the ring keeps its configuration: no configuration change,
 * everything delivered; in active mode and in passive mode (frames and
 * tokens sent on a muted path are lost, and retransmitted). Counts the
 * copies the mutes dropped. */
struct mute_cross {
	uint64_t dropped;
};

static bool drop_muted(struct sim *s, void *arg, uint32_t from, uint32_t to, uint8_t path, const uint8_t *f,
		       uint32_t size)
{
	(void)to, (void)f, (void)size;
	struct mute_cross *w = arg;
	uint64_t now = sim_now(s);
	bool muted = now >= 100 * MS && now < 500 * MS && ((from == 0 && path == 1) || (from == 2 && path == 0));
	w->dropped += muted;
	return muted;
}

static int scenario_path_mute_cross(const char *name, enum rp_rrp_mode mode)
{
	struct sim_opts o;
	memb_opts(&o, 36, 4);
	o.rrp_mode = mode;
	struct mute_cross w = {0};
	o.filter = drop_muted;
	o.filter_arg = &w;
	o.load_ns = 600 * MS;
	struct sim_result r;
	run(&o, &r);
	printf("%s: copies dropped by the mutes %" PRIu64 ", frames relayed %" PRIu64
	       ", frames retransmitted %" PRIu64 "\n", name, w.dropped, r.relayed, r.frames_retransmitted);
	return verdict(name, &r, r.last_change_ns < 100 * MS && w.dropped > 0,
		       "a pair joined one way on each network stays in the ring: no configuration change");
}

/* "Four nodes, two networks, active, no fault; node 1 alone sends. From
 * 100 to 300 ms every eighth of its sends is lost at nodes 3 and 4 on both
 * networks." Nodes 3 and 4 only receive: each is heard directly by its
 * successor alone (tokens are unicast). A holder that is not dyn takes a
 * requester off when it answers (docs/protocol.md §9.8), so a lost frame
 * is sent again about once, not by every holder. Prints the counts. */
struct rx_loss {
	uint64_t lost;
};

static bool lose_at_receivers(struct sim *s, void *arg, uint32_t from, uint32_t to, uint8_t path,
			      const uint8_t *f, uint32_t size)
{
	struct rx_loss *l = arg;
	struct rp_wire_hdr h;
	uint64_t now = sim_now(s);
	if (from != 0 || to < 2 || now < 100 * MS || now >= 300 * MS ||
	    rp_wire_decode_hdr(f, size, &h) != RP_DROP_NONE || h.type != RP_FRAME_DATA ||
	    (h.flags & RP_HDR_F_RETRANS) || h.tx_seq % 8u != 0)
		return false;
	l->lost += to == 3 && path == 0;
	return true;
}

static int scenario_rtr_copies(void)
{
	struct sim_opts o;
	memb_opts(&o, 36, 4);
	o.rrp_mode = RP_RRP_ACTIVE;
	o.random_load = false;
	struct sim_publish p[600];
	for (uint32_t i = 0; i < 600; i++)
		p[i] = (struct sim_publish){.at_ns = 20 * MS + i * MS / 2, .node = 0, .size = 200,
					    .service = RP_SERVICE_AGREED, .priority = 2};
	o.publish = p;
	o.publish_count = 600;
	struct rx_loss l = {0};
	o.filter = lose_at_receivers;
	o.filter_arg = &l;
	struct sim_result r;
	run(&o, &r);
	printf("rtr-copies-active: frames lost at nodes 3 and 4 %" PRIu64 ", frames retransmitted %" PRIu64 "\n",
	       l.lost, r.frames_retransmitted);
	return verdict("rtr-copies-active", &r,
		       r.last_change_ns < 100 * MS && l.lost > 20 && 2u * r.frames_retransmitted < 3u * l.lost,
		       "no configuration change; fewer than 1.5 copies sent again per lost frame");
}

/* "Four nodes, two networks, active, frames of 800 bytes (rtr_max 64):
 * at 50 ms node 2 gets a token of an older build instead of node 1's, 64
 * requests without requesters." Node 2 sends every later token naming
 * requesters, 16 bytes a request: no more of them than fit a frame
 * (docs/protocol.md §9.8); every frame any node sends fits frame_size_max. */
struct old_token {
	bool sent;
	uint32_t frame_size;
	uint64_t oversize;
};

static bool old_build_token(struct sim *s, void *arg, uint32_t from, uint32_t to, uint8_t path,
			    const uint8_t *f, uint32_t size)
{
	struct old_token *o = arg;
	o->oversize += size > o->frame_size;
	struct rp_wire_hdr h;
	struct rp_wire_token t;
	if (o->sent || from != 0 || to != 1 || sim_now(s) < 50 * MS || !is_token(f, size) ||
	    rp_wire_decode_hdr(f, size, &h) != RP_DROP_NONE || rp_wire_decode_token(f, &h, &t) != RP_DROP_NONE)
		return false;
	if (path == 0) { /* the copy on path 1 is dropped too, below */
		t.rtr_has_from = 0;
		t.rtr_count = 64;
		for (uint32_t i = 0; i < 64; i++)
			t.rtr[i] = t.seq + 100u + i; /* asked for again until sent */
		uint8_t buf[2048];
		size_t n = rp_wire_encode_token(buf, &h, &t);
		sim_inject(s, 0, 1, 0, buf, (uint32_t)n, 1000);
	} else {
		o->sent = true;
	}
	return true;
}

static int scenario_old_token(void)
{
	struct sim_opts o;
	memb_opts(&o, 37, 4);
	o.rrp_mode = RP_RRP_ACTIVE;
	o.frame_size = 800;
	struct old_token ot = {.frame_size = o.frame_size};
	o.filter = old_build_token;
	o.filter_arg = &ot;
	struct sim_result r;
	run(&o, &r);
	printf("old-token-small-frames: frames larger than %u bytes: %" PRIu64 "\n", o.frame_size, ot.oversize);
	return verdict("old-token-small-frames", &r, ot.sent && ot.oversize == 0,
		       "the old build's token injected; no frame larger than frame_size_max");
}

/* "Both links of node 2 are cut at 60 ms and restored at 160 ms: the others
 * expel it, then it merges back." */
static int scenario_node_paths_cut(void)
{
	struct sim_opts o;
	memb_opts(&o, 32, 5);
	o.rrp_mode = RP_RRP_ACTIVE;
	struct sim_fault f[4] = {
		{.at_ns = 60 * MS, .kind = SIM_FAULT_PATH_CUT, .node = 1, .path = 0},
		{.at_ns = 60 * MS, .kind = SIM_FAULT_PATH_CUT, .node = 1, .path = 1},
		{.at_ns = 160 * MS, .kind = SIM_FAULT_PATH_RESTORE, .node = 1, .path = 0},
		{.at_ns = 160 * MS, .kind = SIM_FAULT_PATH_RESTORE, .node = 1, .path = 1},
	};
	SET_SCRIPT(o, f);
	struct sim_result r;
	struct sim *s = run_keep(&o, &r);
	bool expect = sim_saw_regular(s, IDX(0) | IDX(2) | IDX(3) | IDX(4)) && r.last_change_ns > 160 * MS;
	sim_destroy(s);
	return verdict("node-paths-cut", &r, expect, "{1,3,4,5} formed, then all five again");
}

/* "Node 1's link on path 0 flaps (cut and restored every 3..9 ms) from 40 to
 * 260 ms: no configuration change, nothing lost." */
static int scenario_path_flap(enum rp_rrp_mode mode, const char *name)
{
	struct sim_opts o;
	memb_opts(&o, 33, 4);
	o.rrp_mode = mode;
	struct sim_fault f[64];
	uint32_t k = 0;
	for (uint64_t t = 40 * MS; t < 260 * MS && k + 1 < 64; t += (3 + k % 7) * MS, k++)
		f[k] = (struct sim_fault){.at_ns = t, .kind = (k & 1) ? SIM_FAULT_PATH_RESTORE : SIM_FAULT_PATH_CUT,
					  .node = 0, .path = 0};
	f[k++] = (struct sim_fault){.at_ns = 260 * MS, .kind = SIM_FAULT_PATH_RESTORE, .node = 0, .path = 0};
	o.script = f;
	o.script_count = k;
	struct sim_result r;
	run(&o, &r);
	printf("%s: %u flips, path marked faulty %" PRIu64 " times, reinstated %" PRIu64 " times\n", name, k,
	       r.path_faults, r.path_reinstated);
	return verdict(name, &r, r.last_change_ns < 40 * MS, "no configuration change while the path flapped");
}

/* "Four nodes; network 0 reaches all of them, network 1 nodes 1 and 2,
 * network 2 nodes 1, 3 and 4 (the integration test multipath's topology,
 * docs/protocol.md §17). Under load, network k dies at every node for 100
 * ms and comes back: the working graph stays connected, so no
 * configuration change and nothing lost; with network 0 down, node 2
 * reaches node 3 only through node 1's relay." After `calm_ms` of a ring
 * with no fault at all (CI's failure: after seconds without a flood, the
 * relays' windows had gone stale and nobody relayed the token). Prints
 * the longest delivery gap while the network is down, beside the same
 * window without the cut. */
static int scenario_multipath_cut(uint8_t k, uint64_t calm_ms, const char *name)
{
	struct sim_opts o;
	memb_opts(&o, 41, 4);
	o.paths = 3;
	o.partial = true;
	o.networks[0] = IDX(0) | IDX(1) | IDX(2) | IDX(3);
	o.networks[1] = IDX(0) | IDX(1);
	o.networks[2] = IDX(0) | IDX(2) | IDX(3);
	o.rrp_mode = RP_RRP_ACTIVE;
	o.calm_ns = calm_ms * MS;
	uint64_t down = o.calm_ns + 100 * MS, up = down + 100 * MS;
	o.gap_from_ns = down;
	o.gap_to_ns = up;
	struct sim_result base;
	run(&o, &base);
	struct sim_fault f[2] = {
		{.at_ns = down, .kind = SIM_FAULT_PATH_DOWN, .path = k},
		{.at_ns = up, .kind = SIM_FAULT_PATH_UP, .path = k},
	};
	SET_SCRIPT(o, f);
	struct sim_result r;
	run(&o, &r);
	printf("%s: longest delivery gap with network %u down %.3f ms (node %u), without the cut %.3f ms;"
	       " tokens flooded %" PRIu64 ", frames relayed %" PRIu64 "\n",
	       name, k, (double)r.max_gap_ns / 1e6, r.max_gap_node, (double)base.max_gap_ns / 1e6, r.flooded,
	       r.relayed);
	bool expect = base.ok && r.formed_ns < down && r.last_change_ns < down && r.path_cuts == 1 &&
		      (k != 0 || r.flooded > base.flooded);
	return verdict(name, &r, expect, "no configuration change while a network was down");
}

/* "Four nodes split two and two at 60 ms and heal at 160 ms." majority:
 * neither half is primary. last_man_standing: the half holding the lowest
 * id of the last primary ring is. Then all four, primary again. */
static int scenario_even_split(enum rp_quorum q, const char *name)
{
	struct sim_opts o;
	memb_opts(&o, 34, 4);
	o.quorum = q;
	struct sim_fault f[2] = {
		{.at_ns = 60 * MS, .kind = SIM_FAULT_SPLIT, .mask = 0x3},
		{.at_ns = 160 * MS, .kind = SIM_FAULT_HEAL},
	};
	SET_SCRIPT(o, f);
	struct sim_result r;
	struct sim *s = run_keep(&o, &r);
	int low = sim_primary_of(s, IDX(0) | IDX(1)), high = sim_primary_of(s, IDX(2) | IDX(3));
	int all = sim_primary_of(s, IDX(0) | IDX(1) | IDX(2) | IDX(3));
	sim_destroy(s);
	printf("%s: {1,2} %s, {3,4} %s, all four %s\n", name, low ? "primary" : "non-primary",
	       high ? "primary" : "non-primary", all ? "primary" : "non-primary");
	bool want_low = q == RP_QUORUM_LAST_MAN_STANDING;
	return verdict(name, &r, low == want_low && high == 0 && all == 1,
		       want_low ? "{1,2} primary (tie broken by the lowest id), {3,4} not"
				: "neither half primary");
}

/* "Two nodes under two_node: node 2 is down at start, so node 1 alone is
 * not primary (wait for all); once both were seen, a split leaves each
 * primary." */
static int scenario_two_node(void)
{
	struct sim_opts o;
	memb_opts(&o, 35, 2);
	o.quorum = RP_QUORUM_TWO_NODE;
	struct sim_fault f[4] = {
		{.at_ns = 0, .kind = SIM_FAULT_CRASH, .node = 1},
		{.at_ns = 50 * MS, .kind = SIM_FAULT_RESTART, .node = 1},
		{.at_ns = 120 * MS, .kind = SIM_FAULT_SPLIT, .mask = 0x1},
		{.at_ns = 200 * MS, .kind = SIM_FAULT_HEAL},
	};
	SET_SCRIPT(o, f);
	struct sim_result r;
	struct sim *s = run_keep(&o, &r);
	/* node 1's start ring {1}, before node 2 was seen, is the first view
	 * of {1}; later {1} rings are primary */
	int both = sim_primary_of(s, IDX(0) | IDX(1)), one = sim_primary_of(s, IDX(0)),
	    two = sim_primary_of(s, IDX(1));
	sim_destroy(s);
	printf("two-node: {1,2} %d, last {1} %d, last {2} %d (1 = primary); primaries %" PRIu64 "\n",
	       both, one, two, r.primaries);
	return verdict("two-node", &r, both == 1 && one == 1 && two == 1,
		       "alone at start: not primary; after the split both halves primary");
}

/* "Nodes 1-3 speak version 1 only; node 4, configured for 2..3, starts at
 * 60 ms: it is refused on both sides and the ring does not change." */
/* Node index 3 stays down until 60 ms, after the others formed their ring,
 * and runs until 250 ms. */
static void late_node4(struct sim_opts *o)
{
	static struct sim_fault f[3] = {
		{.at_ns = 0, .kind = SIM_FAULT_CRASH, .node = 3},
		{.at_ns = 60 * MS, .kind = SIM_FAULT_RESTART, .node = 3},
		{.at_ns = 250 * MS, .kind = SIM_FAULT_CRASH, .node = 3},
	};
	SET_SCRIPT(*o, f);
}

static int scenario_versions_disjoint(void)
{
	struct sim_opts o;
	memb_opts(&o, 36, 4);
	o.proto_min[3] = 2;
	o.proto_max[3] = 3;
	late_node4(&o);
	struct sim_result r;
	struct sim *s = run_keep(&o, &r);
	uint64_t refused = sim_drops(s, RP_DROP_VERSION_MISMATCH);
	bool ring = sim_saw_regular(s, IDX(0) | IDX(1) | IDX(2));
	sim_destroy(s);
	printf("versions-disjoint: %" PRIu64 " refusal events, %" PRIu64 " frames dropped as"
	       " version-mismatch, last configuration change at %.3f ms\n", r.refusals, refused,
	       (double)r.last_change_ns / 1e6);
	return verdict("versions-disjoint", &r, ring && r.refusals >= 4 && r.last_change_ns < 60 * MS,
		       "refused by every ring member and refusing them; the ring unchanged");
}

/* "Node 4 starts with half the others' window_size (docs/protocol.md §8.8,
 * Rule P): every member of the ring refuses it and it refuses them; the
 * ring of 1, 2, 3 never changes." */
static int scenario_config_mismatch(void)
{
	struct sim_opts o;
	memb_opts(&o, 37, 4);
	late_node4(&o);
	o.window_size[3] = 32;
	struct sim_result r;
	struct sim *s = run_keep(&o, &r);
	uint64_t refused = sim_drops(s, RP_DROP_CONFIG_MISMATCH);
	bool ring = sim_saw_regular(s, IDX(0) | IDX(1) | IDX(2));
	bool never = !sim_saw_regular(s, IDX(0) | IDX(1) | IDX(2) | IDX(3));
	sim_destroy(s);
	printf("config-mismatch: %" PRIu64 " refusal events, %" PRIu64 " frames dropped as config-mismatch,"
	       " last configuration change at %.3f ms\n", r.refusals, refused, (double)r.last_change_ns / 1e6);
	return verdict("config-mismatch", &r, ring && never && r.refusals >= 4 && refused > 0 && r.last_change_ns < 60 * MS,
		       "refused by every ring member and refusing them; the ring unchanged");
}

/* "While the ring of 1, 2, 3 runs, a second process claiming node 3's id
 * (a newer incarnation) sends Joins for 100 ms (docs/protocol.md §8.8,
 * Rule D): nodes 1 and 2 hold it back, then find both alive and refuse it;
 * node 3 refuses frames with its own id; the ring never changes." */
struct dup {
	uint64_t next;
	uint32_t sent;
	bool probe; /* send_notice sends ID_PROBEs */
};

static void send_dup(struct sim *s, void *arg, uint32_t node)
{
	(void)node;
	struct dup *d = arg;
	uint64_t now = sim_now(s);
	if (now < 50 * MS || now > 150 * MS || now < d->next)
		return;
	d->next = now + 3 * MS;
	struct rp_wire_join j;
	memset(&j, 0, sizeof(j));
	j.ring_seq = 1;
	j.proc_set = 1ull << 2;
	j.inc[2] = 1000;
	struct rp_wire_hdr h = {.version = RP_WIRE_VERSION_MAX, .sender = 3, .incarnation = 1000,
				.ring = {.rep = 3, .seq = 1}, .proto = 1, .proto_min = 1, .proto_max = 1};
	uint8_t buf[256];
	size_t size = rp_wire_encode_join(buf, &h, &j);
	for (uint32_t to = 0; to < 3; to++)
		sim_inject(s, 2, to, 0, buf, (uint32_t)size, 1000);
	d->sent++;
}

/* Runs the ring of three while `inject` plays a second process configured
 * as node 3; counts what the nodes dropped as duplicate-id and held back as
 * a new incarnation. */
static void run_with_duplicate(void (*inject)(struct sim *, void *, uint32_t), struct dup *d,
			       struct sim_result *r, uint64_t *dup, uint64_t *held)
{
	struct sim_opts o;
	memb_opts(&o, 38, 3);
	o.watch = inject;
	o.watch_arg = d;
	struct sim *s = run_keep(&o, r);
	*dup = sim_drops(s, RP_DROP_DUPLICATE_ID);
	*held = sim_drops(s, RP_DROP_NEW_INCARNATION);
	sim_destroy(s);
}

static int scenario_duplicate_id(void)
{
	struct dup d = {0};
	struct sim_result r;
	uint64_t dup, held;
	run_with_duplicate(send_dup, &d, &r, &dup, &held);
	printf("duplicate-id: %u Joins of the duplicate; %" PRIu64 " refusal events; %" PRIu64 " frames held back as"
	       " new-incarnation, %" PRIu64 " dropped as duplicate-id; last configuration change at %.3f ms\n",
	       d.sent, r.refusals, held, dup, (double)r.last_change_ns / 1e6);
	return verdict("duplicate-id", &r, d.sent > 20 && r.refusals == 3 && held > 0 && dup > 0 && r.last_change_ns < 50 * MS,
		       "held back, then refused at every node; node 3 keeps its place, the ring unchanged");
}

/* "While the ring of 1, 2, 3 runs, a second process configured as node 3
 * heard node 3 while it listened and, before stopping, sent its DUP_NOTICE
 * (docs/protocol.md §8.8, Rule D (0)), here every 3 ms for 30 ms: every
 * node reports it once (node 3 as a process with its own id), counts every
 * copy as duplicate-id, holds nothing back as a new incarnation of node 3
 * (the notice never replaces an incarnation); the ring never changes." */
static void send_notice(struct sim *s, void *arg, uint32_t node)
{
	(void)node;
	struct dup *d = arg;
	uint64_t now = sim_now(s);
	if (now < 50 * MS || now > 80 * MS || now < d->next)
		return;
	d->next = now + 3 * MS;
	struct rp_wire_hdr h = {.version = RP_WIRE_VERSION_MAX, .sender = 3, .incarnation = 1000,
				.proto = 1, .proto_min = 1, .proto_max = 1};
	uint8_t buf[64];
	size_t size = d->probe ? rp_wire_encode_id_probe(buf, &h) : rp_wire_encode_dup_notice(buf, &h, 1);
	for (uint32_t to = 0; to < 3; to++)
		sim_inject(s, 2, to, 0, buf, (uint32_t)size, 1000);
	d->sent++;
}

static int scenario_dup_notice(void)
{
	struct dup d = {0};
	struct sim_result r;
	uint64_t dup, held;
	run_with_duplicate(send_notice, &d, &r, &dup, &held);
	printf("dup-notice: %u notices to each node; %" PRIu64 " refusal events; %" PRIu64 " dropped as duplicate-id, %"
	       PRIu64 " held back as new-incarnation; last configuration change at %.3f ms\n", d.sent, r.refusals, dup,
	       held, (double)r.last_change_ns / 1e6);
	return verdict("dup-notice", &r, d.sent >= 10 && r.refusals == 3 && dup == 3u * d.sent && held == 0 &&
		       r.last_change_ns < 50 * MS, "reported once at every node, counted, nothing held; the ring unchanged");
}

/* "While the ring of 1, 2, 3 runs, a process configured as node 3 is
 * listening at start and sends its ID_PROBE (docs/protocol.md §8.8, Rule D
 * (0)), here every 3 ms for 30 ms (send_notice): node 3 reports it once
 * and counts every copy as duplicate-id (it answers each with a
 * HOLD_CANCEL); nodes 1 and 2 drop it as unhandled, reporting and holding
 * back nothing; the ring never changes." */
static int scenario_id_probe(void)
{
	struct dup d = {.probe = true};
	struct sim_result r;
	uint64_t dup, held;
	run_with_duplicate(send_notice, &d, &r, &dup, &held);
	printf("id-probe: %u probes, %" PRIu64 " refusals, %" PRIu64 " duplicate-id, %" PRIu64 " new-incarnation\n",
	       d.sent, r.refusals, dup, held);
	return verdict("id-probe", &r, d.sent >= 10 && r.refusals == 1 && dup == d.sent && held == 0 &&
		       r.last_change_ns < 50 * MS, "reported once by node 3 alone, nothing held; the ring unchanged");
}

/* "A rolling upgrade: nodes speak 1..1, 1..2, 1..2 (the ring runs 1); node
 * 1 restarts speaking 1..2 and the ring of all three runs 2." */
struct versions_seen {
	uint8_t before, after;
};

static void watch_versions(struct sim *s, void *arg, uint32_t node)
{
	struct versions_seen *v = arg;
	if (node != 1 || rp_node_state(sim_node(s, 1)) != RP_NODE_OPERATIONAL)
		return;
	if (sim_now(s) < 80 * MS)
		v->before = rp_node_proto_version(sim_node(s, 1));
	else
		v->after = rp_node_proto_version(sim_node(s, 1));
}

static int scenario_versions_rolling(void)
{
	struct sim_opts o;
	memb_opts(&o, 37, 3);
	o.proto_min[0] = 1, o.proto_max[0] = 1;
	o.proto_min[1] = 1, o.proto_max[1] = 2;
	o.proto_min[2] = 1, o.proto_max[2] = 2;
	struct sim_fault f[2] = {
		{.at_ns = 80 * MS, .kind = SIM_FAULT_CRASH, .node = 0},
		{.at_ns = 100 * MS, .kind = SIM_FAULT_RESTART, .node = 0, .proto_min = 1, .proto_max = 2},
	};
	SET_SCRIPT(o, f);
	struct versions_seen v = {0};
	o.watch = watch_versions;
	o.watch_arg = &v;
	struct sim_result r;
	struct sim *s = run_keep(&o, &r);
	/* the switch costs no token: no frame of the new ring is refused for
	 * its version */
	uint64_t refused = sim_drops(s, RP_DROP_BAD_VERSION) + sim_drops(s, RP_DROP_VERSION_MISMATCH);
	bool rings = sim_saw_regular(s, IDX(0) | IDX(1) | IDX(2));
	sim_destroy(s);
	printf("versions-rolling: version %u before the upgrade, %u after; %" PRIu64 " frames refused"
	       " for their version; %" PRIu64 " token retransmissions\n", v.before, v.after, refused,
	       r.tokens_retransmitted);
	return verdict("versions-rolling", &r, v.before == 1 && v.after == 2 && refused == 0 && rings,
		       "the ring moved from version 1 to 2 when its last 1-only node upgraded, refusing nothing");
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "list";
#define SCENARIO(n, call)          \
	if (strcmp(name, n) == 0) \
		return call;
#include "scenario_list.h"
#undef SCENARIO
#define SCENARIO(n, call) puts(n);
#include "scenario_list.h"
#undef SCENARIO
	return strcmp(name, "list") ? 2 : 0;
}
