/* ordo_sim.c — the `ordo-sim` command: run one seed, or sweep a range.
 *
 *   ordo-sim --seed S [--nodes N] [--paths P] [--faults none|net|memb|all|pause]
 *            [--rrp active|passive] [--quorum majority|two_node|last_man_standing] [--trace]
 *   ordo-sim --seeds A..B [...]          ends with "N passed, M failed"
 *   ordo-sim --mutate drop-delivery|swap-deliveries|early-safe [...]
 *   ordo-sim --topology partial [...]    networks reach seeded subsets of the nodes
 *   ordo-sim --networks 1234/12/134 [...] networks reach the nodes given (1,2,10/... past 9)
 *
 * Nodes and paths default to a seeded choice per seed (3..7 nodes, 1..3
 * paths; 2..4 paths with --topology partial) unless given. A violation prints the seed, the property and the
 * command that replays it with a trace. A ring-proto assertion (a trap) is
 * caught and reported the same way.
 */
#include "sim_cli.h"
#include "sim_internal.h"

#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char replay_line[512];
static const char *const quorum_names[] = {"majority", "two_node", "last_man_standing"};
static uint64_t sweep_passed, sweep_failed;

static uint64_t current_seed;

/* SIGTERM, SIGINT, SIGHUP (a killed sweep, a CI timeout): the verdicts
 * printed so far are out already (stdout is line-buffered); say where it
 * stopped and what it had. */
static void on_term(int sig)
{
	char buf[256];
	int len = snprintf(buf, sizeof(buf),
			   "ordo-sim: stopped by signal %d during seed %" PRIu64 "\n"
			   "%" PRIu64 " passed, %" PRIu64 " failed (interrupted)\n",
			   sig, current_seed, sweep_passed, sweep_failed);
	if (len > 0 && write(1, buf, (size_t)len) < 0)
		_exit(3);
	_exit(128 + sig);
}

static void on_fatal(int sig)
{
	/* async-signal context: only write(2) */
	char buf[768];
	int len = snprintf(buf, sizeof(buf),
			   "FAIL property=invariant (ring-proto assertion, signal %d)\n  replay: %s --trace\n"
			   "%" PRIu64 " passed, %" PRIu64 " failed\n",
			   sig, replay_line, sweep_passed, sweep_failed + 1);
	if (len > 0 && write(2, buf, (size_t)len) < 0)
		_exit(3);
	_exit(1);
}

static const char *const mutation_names[] = {
	[RP_MUTATION_NONE] = "none",
	[RP_MUTATION_DROP_DELIVERY] = "drop-delivery",
	[RP_MUTATION_SWAP_DELIVERIES] = "swap-deliveries",
	[RP_MUTATION_EARLY_SAFE] = "early-safe",
	[RP_MUTATION_ALWAYS_PRIMARY] = "always-primary",
	[RP_MUTATION_SINGLE_PATH] = "single-path",
	[RP_MUTATION_SKIP_TRANSITIONAL] = "skip-transitional",
	[RP_MUTATION_SPLIT_ON_CHANGE] = "split-on-change",
	[RP_MUTATION_LATE_COMMIT] = "late-commit",
	[RP_MUTATION_NO_RELAY] = "no-relay",
	[RP_MUTATION_TRANS_OLD] = "trans-old",
	[RP_MUTATION_TRANS_ALL] = "trans-all",
	[RP_MUTATION_DUP_AFTER_MERGE] = "dup-after-merge",
	[RP_MUTATION_STALE_DATA] = "stale-data",
	[RP_MUTATION_SKIP_RTR] = "skip-rtr",
};

/* --expect: the properties a mutant sweep must be caught by */
static char failed_property[32];

int sim_run_one(const struct sim_opts *o, const char *replay_args, bool verbose)
{
	const char *why = sim_opts_invalid(o);
	if (why) {
		fprintf(stderr, "ordo-sim: invalid options: %s\n", why);
		return 2;
	}
	struct sim *s = sim_create(o);
	if (!s) {
		fprintf(stderr, "ordo-sim: seed %" PRIu64 " drew no partial topology of %u nodes and %u paths\n",
			o->seed, o->nodes, o->paths);
		return 2;
	}
	struct sim_result r;
	sim_run(s, &r);
	sim_destroy(s);
	if (!r.ok) {
		printf("seed %" PRIu64 ": FAIL property=%s: %s\n  replay: %s --trace\n", o->seed, r.property,
		       r.detail, replay_args);
		snprintf(failed_property, sizeof(failed_property), "%s", r.property);
		return 1;
	}
	/* --topology partial: the nodes on each network, e.g. 1245/13/3 */
	char topo[RP_PATHS_MAX * (SIM_NODES_MAX * 3 + 1) + 1] = "";
	for (uint32_t k = 0, len = 0; o->partial && k < o->paths; k++) {
		for (uint32_t i = 0; i < o->nodes; i++)
			if ((r.on[i] >> k) & 1u)
				len += (uint32_t)snprintf(topo + len, sizeof(topo) - len, o->nodes > 9 ? "%u," : "%u", i + 1u);
		if (k + 1u < o->paths)
			len += (uint32_t)snprintf(topo + len, sizeof(topo) - len, "/");
	}
	if (verbose)
		printf("seed %" PRIu64 ": ok nodes=%u paths=%u faults=%s messages=%" PRIu64
		       " deliveries=%" PRIu64 " frames=%" PRIu64 " retransmitted=%" PRIu64
		       " token-retransmits=%" PRIu64 " configs=%" PRIu64 " crashes=%" PRIu64
		       " restarts=%" PRIu64 " leaves=%" PRIu64 " partitions=%" PRIu64
		       " rrp=%s quorum=%s path-cuts=%" PRIu64 " path-faults=%" PRIu64
		        " reinstated=%" PRIu64 " primaries=%" PRIu64 " holds=%" PRIu64 " hold-cancels=%" PRIu64
		       " after-token=%" PRIu64 " kept=%" PRIu64 " pauses=%" PRIu64 " pause-drops=%" PRIu64
		       " one-way=%" PRIu64 " max-outage=%.3fms%s%s relayed=%" PRIu64 " flooded=%" PRIu64
		       " held=%" PRIu64 " replayed=%" PRIu64 " bursts=%" PRIu64
		       " simtime=%.3fs events=%" PRIu64 " digest=%016" PRIx64 "\n",
		       o->seed, o->nodes, o->paths, sim_faults_name(o->faults), r.messages, r.deliveries,
		       r.frames_sent, r.frames_retransmitted, r.tokens_retransmitted, r.configs,
		       r.crashes, r.restarts, r.leaves, r.partitions,
		       r.rrp_mode == RP_RRP_PASSIVE ? "passive" : "active", quorum_names[r.quorum],
		       r.path_cuts, r.path_faults, r.path_reinstated, r.primaries, r.tokens_held, r.hold_cancels,
		       r.frames_after_token, r.frames_kept, r.pauses, r.pause_drops, r.oneways,
		       (double)r.max_outage_ns / 1e6, o->partial ? " networks=" : "", topo, r.relayed, r.flooded,
		       r.held, r.replayed, r.bursts, (double)r.sim_time_ns / 1e9, r.events, r.digest);
	return 0;
}

/* --networks 1234/12/134 (or 1,2,10/...): the node ids on each network.
 * Returns the number of networks, 0 if malformed; *top: the highest id. */
static uint32_t parse_networks(const char *v, uint64_t *nets, uint32_t *top)
{
	uint32_t k = 0;
	bool commas = strchr(v, ',') != NULL;
	*top = 0;
	memset(nets, 0, RP_PATHS_MAX * sizeof(nets[0]));
	for (const char *c = v; *c != '\0'; c++) {
		if (*c == '/') {
			if (nets[k] == 0 || ++k == RP_PATHS_MAX)
				return 0;
			continue;
		}
		if (*c == ',')
			continue;
		char *end;
		unsigned long id = commas ? strtoul(c, &end, 10) : (unsigned long)(*c - '0');
		if (*c < '1' || *c > '9' || id < 1 || id > SIM_NODES_MAX)
			return 0;
		if (commas)
			c = end - 1;
		nets[k] |= 1ull << (id - 1u);
		*top = id > *top ? (uint32_t)id : *top;
	}
	return nets[k] != 0 ? k + 1u : 0;
}

/* The command that replays one run of the sweep, into replay_line. */
static void set_replay_line(const struct sim_opts *so, const char *net_arg)
{
	snprintf(replay_line, sizeof(replay_line),
		 "build/tests/ordo-sim --seed %" PRIu64 " --nodes %u --paths %u --faults %s%s%s%s",
		 so->seed, so->nodes, so->paths, sim_faults_name(so->faults),
		 so->mutation ? " --mutate " : "", so->mutation ? mutation_names[so->mutation] : "",
		 so->initial_seq ? " --initial-seq ..." : "");
	if (so->initial_seq)
		snprintf(replay_line + strlen(replay_line) - 3, sizeof(replay_line) - strlen(replay_line) + 3,
			 "%" PRIu64, so->initial_seq);
	if (so->rrp_mode >= 0)
		snprintf(replay_line + strlen(replay_line), sizeof(replay_line) - strlen(replay_line),
			 " --rrp %s", so->rrp_mode == RP_RRP_PASSIVE ? "passive" : "active");
	if (so->quorum >= 0)
		snprintf(replay_line + strlen(replay_line), sizeof(replay_line) - strlen(replay_line),
			 " --quorum %s", quorum_names[so->quorum]);
	if (so->load_ns != 300000000ull)
		snprintf(replay_line + strlen(replay_line), sizeof(replay_line) - strlen(replay_line),
			 " --load-ms %" PRIu64, (uint64_t)(so->load_ns / 1000000ull));
	if (so->calm_ns != 0)
		snprintf(replay_line + strlen(replay_line), sizeof(replay_line) - strlen(replay_line),
			 " --calm-ms %" PRIu64, (uint64_t)(so->calm_ns / 1000000ull));
	if (so->token_hold_ns != 0)
		snprintf(replay_line + strlen(replay_line), sizeof(replay_line) - strlen(replay_line),
			 " --token-hold-us %" PRIu64, (uint64_t)(so->token_hold_ns / 1000ull));
	if (so->accelerated != 0)
		snprintf(replay_line + strlen(replay_line), sizeof(replay_line) - strlen(replay_line),
			 " --accelerated %u", so->accelerated);
	if (so->stability >= 0)
		snprintf(replay_line + strlen(replay_line), sizeof(replay_line) - strlen(replay_line),
			 " --%sstability", so->stability ? "" : "no-");
	if (so->partial)
		snprintf(replay_line + strlen(replay_line), sizeof(replay_line) - strlen(replay_line),
			 net_arg ? " --networks %s" : " --topology partial", net_arg);
	if (so->lend != SIM_LEND_ODD)
		snprintf(replay_line + strlen(replay_line), sizeof(replay_line) - strlen(replay_line),
			 " --lend %s", so->lend == SIM_LEND_NONE ? "none" : "all");
	if (!so->stale)
		snprintf(replay_line + strlen(replay_line), sizeof(replay_line) - strlen(replay_line),
			 " --stale none");
	if (so->mutes)
		snprintf(replay_line + strlen(replay_line), sizeof(replay_line) - strlen(replay_line), " --mutes");
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ordo-sim (--seed S | --seeds A..B) [--nodes N] [--paths P]\n"
		"                [--faults none|net|memb|all|pause] [--mutate NAME] [--trace]\n"
		"                [--rrp active|passive] [--quorum majority|two_node|last_man_standing]\n"
		"                [--load-ms MS] [--calm-ms MS] [--initial-seq N] [--token-hold-us US] [--accelerated N]\n"
		"                [--lend none|odd|all] [--stability | --no-stability] [--topology full|partial]\n"
		"                [--networks IDS/IDS/... (the nodes on each network, e.g. 1234/12/134)]\n"
		"                [--stale none|all] [--mutes] [--expect PROPERTY[,PROPERTY...]]\n"
		"  mutations: drop-delivery swap-deliveries early-safe skip-transitional always-primary\n"
		"             single-path split-on-change late-commit no-relay trans-old trans-all\n"
		"             dup-after-merge stale-data skip-rtr\n"
		"  --expect: the sweep passes only if some seed fails naming one of these properties\n"
		"            (a mutant must be caught, and caught by the right check)\n");
}

/* Is p one of the comma-separated names in list? */
static bool property_listed(const char *list, const char *p)
{
	size_t len = strlen(p);
	for (const char *q = list; q != NULL; q = strchr(q, ',')) {
		if (*q == ',')
			q++;
		if (!strncmp(q, p, len) && (q[len] == ',' || q[len] == '\0'))
			return true;
	}
	return false;
}

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	if (!s || !*s)
		return false;
	*v = strtoull(s, &end, 0);
	return *end == '\0';
}

/* Line-buffered output, and a killed or crashed sweep still reports.
 * The heap is never given back to the kernel (nor are large blocks mapped
 * and unmapped): a run allocates and frees frames, payloads and node
 * arenas all the time, and trimming made every seed fault its pages in
 * again (perf: 14 % of a --topology partial sweep in page faults). */
static void report_on_signals(void)
{
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	mallopt(M_MMAP_THRESHOLD, 1 << 30);
	mallopt(M_TOP_PAD, 64 << 20);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGHUP, on_term);
	signal(SIGILL, on_fatal);
	signal(SIGABRT, on_fatal);
	signal(SIGSEGV, on_fatal);
	signal(SIGFPE, on_fatal);
}

/* The sweep's verdict (with --expect: whether the mutant was caught). */
static int report_sweep(bool sweep, const struct timespec *t0, const char *expect, uint64_t expected_fails)
{
	struct timespec t1, cpu;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
	double secs = (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
	double cpus = (double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9;
	uint64_t seeds = sweep_passed + sweep_failed;
	if (sweep) /* CPU time too: on a shared machine the wall clock says more about the others */
		fprintf(stderr, "%.1f seeds/s (%" PRIu64 " seeds in %.1f s; %.1f seeds per CPU second)\n",
			(double)seeds / secs, seeds, secs, (double)seeds / (cpus > 0 ? cpus : 1e-9));
	printf("%" PRIu64 " passed, %" PRIu64 " failed\n", sweep_passed, sweep_failed);
	if (expect) {
		printf("%" PRIu64 " seeds failed naming %s: the mutant is %s\n", expected_fails, expect,
		       expected_fails ? "caught" : "NOT caught");
		return expected_fails ? 0 : 1;
	}
	return sweep_failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct sim_opts o;
	sim_opts_default(&o);
	struct sim_cli cli = {0}; /* --seed(s), --nodes, --paths, --faults, --trace */
	uint32_t net_top = 0, net_paths = 0;
	const char *net_arg = NULL;
	const char *expect = NULL;
	uint64_t expected_fails = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		uint64_t x;
		int took = sim_cli_option(argc, argv, i, &cli, &o); /* -1: a bad value, said below */
		if (took > 0) {
			i += took - 1;
		} else if (took == 0 && !strcmp(a, "--rrp") && v && (!strcmp(v, "active") || !strcmp(v, "passive"))) {
			o.rrp_mode = !strcmp(v, "passive") ? RP_RRP_PASSIVE : RP_RRP_ACTIVE;
			i++;
		} else if (!strcmp(a, "--quorum") && v &&
			   (!strcmp(v, "majority") || !strcmp(v, "two_node") || !strcmp(v, "last_man_standing"))) {
			o.quorum = !strcmp(v, "majority") ? RP_QUORUM_MAJORITY
				   : !strcmp(v, "two_node") ? RP_QUORUM_TWO_NODE : RP_QUORUM_LAST_MAN_STANDING;
			i++;
		} else if (!strcmp(a, "--mutate") && v) {
			bool found = false;
			for (unsigned k = 1; k < sizeof(mutation_names) / sizeof(mutation_names[0]); k++)
				if (!strcmp(v, mutation_names[k])) {
					o.mutation = (enum rp_mutation)k;
					found = true;
				}
			if (!found) {
				fprintf(stderr, "ordo-sim: unknown mutation '%s'\n", v);
				usage();
				return 2;
			}
			i++;
		} else if (!strcmp(a, "--load-ms") && parse_u64(v, &x) && x > 0) {
			o.load_ns = x * 1000000ull;
			i++;
		} else if (!strcmp(a, "--calm-ms") && parse_u64(v, &x) && x <= 3600000) {
			o.calm_ns = x * 1000000ull;
			i++;
		} else if (!strcmp(a, "--initial-seq") && parse_u64(v, &x)) {
			o.initial_seq = x;
			i++;
		} else if (!strcmp(a, "--token-hold-us") && parse_u64(v, &x) && x < 1000000) {
			o.token_hold_ns = x * 1000ull;
			i++;
		} else if (!strcmp(a, "--accelerated") && parse_u64(v, &x) && x <= 1024) {
			o.accelerated = (uint32_t)x;
			i++;
		} else if (!strcmp(a, "--lend") && v && (!strcmp(v, "none") || !strcmp(v, "odd") || !strcmp(v, "all"))) {
			o.lend = !strcmp(v, "none") ? SIM_LEND_NONE : !strcmp(v, "odd") ? SIM_LEND_ODD : SIM_LEND_ALL;
			i++;
		} else if (!strcmp(a, "--stability") || !strcmp(a, "--no-stability")) {
			o.stability = !strcmp(a, "--stability");
		} else if (!strcmp(a, "--topology") && v && (!strcmp(v, "full") || !strcmp(v, "partial"))) {
			o.partial = !strcmp(v, "partial");
			i++;
		} else if (!strcmp(a, "--networks") && v && (x = parse_networks(v, o.networks, &net_top)) != 0) {
			o.partial = true;
			net_paths = (uint32_t)x;
			net_arg = v;
			i++;
		} else if (!strcmp(a, "--stale") && v && (!strcmp(v, "none") || !strcmp(v, "all"))) {
			o.stale = !strcmp(v, "all");
			i++;
		} else if (!strcmp(a, "--expect") && v && *v) {
			expect = v;
			i++;
		} else {
			fprintf(stderr, "ordo-sim: bad argument '%s'%s%s\n", a, v ? " " : "", v ? v : "");
			usage();
			return 2;
		}
	}
	uint32_t nodes = cli.nodes, paths = cli.paths;
	if (!cli.have_seed || (net_arg && ((paths && paths != net_paths) || (nodes && nodes < net_top)))) {
		usage();
		return 2;
	}
	if (net_arg) {
		nodes = nodes ? nodes : net_top;
		paths = net_paths;
	}
	if (o.quorum == RP_QUORUM_TWO_NODE && nodes != 2) {
		fprintf(stderr, "ordo-sim: --quorum two_node needs --nodes 2%s\n",
			nodes ? "" : " (without --nodes each seed picks 3..7 nodes)");
		return 2;
	}
	report_on_signals();
	bool sweep = cli.first != cli.last;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t seed = cli.first;; seed++) {
		struct sim_opts so = o;
		so.seed = seed;
		current_seed = seed;
		sim_seed_topology(&so, nodes, paths);
		set_replay_line(&so, net_arg);
		int rc = sim_run_one(&so, replay_line, !sweep);
		if (rc == 2)
			return 2;
		if (rc == 0) {
			sweep_passed++;
		} else {
			sweep_failed++;
			if (expect && property_listed(expect, failed_property))
				expected_fails++;
		}
		if (seed == cli.last)
			break;
	}
	return report_sweep(sweep, &t0, expect, expected_fails);
}
