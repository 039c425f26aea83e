/* scenarios.c — scripted simulator runs that read like specifications.
 *
 * Each scenario sets up the simulator, injects one precise fault or load,
 * runs with the full checker, and asserts the expected outcome besides the
 * checker's verdict (that the fault really happened and was repaired the way
 * the protocol says). Usage: scenarios NAME; `scenarios list` prints names.
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
	uint64_t tseq = rp_get64(f + RP_WIRE_HDR_SIZE);
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

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "list";
	if (!strcmp(name, "lost-token"))
		return scenario_lost_token();
	if (!strcmp(name, "loss-burst-1path"))
		return scenario_loss_burst(1, name);
	if (!strcmp(name, "loss-burst-2paths"))
		return scenario_loss_burst(2, name);
	if (!strcmp(name, "seq-wrap"))
		return scenario_wrap();
	if (!strcmp(name, "big-message"))
		return scenario_big_message();
	printf("lost-token\nloss-burst-1path\nloss-burst-2paths\nseq-wrap\nbig-message\n");
	return strcmp(name, "list") ? 2 : 0;
}
