/* ordo_sim_groups.c — the `ordo-sim-groups` command: the simulator with a
 * group table (engine/eng_groups.c) at every node, fed the group operations
 * the simulated load stands for (tests/sim/sim_groups.h), and the check that
 * every node's table is the same after the same message (docs/design.md §3,
 * property 6, named `group-views`).
 *
 *   ordo-sim-groups --seeds A..B [--nodes N] [--paths P] [--faults none|net|memb|all|pause]
 *                   [--max-groups G] [--max-members M] [--names K] [--trace] [--mutate groups-skip]
 *
 * The sweep then requires that operations were applied and compared, that
 * both limits refused some, and that group-state exchanges finished with
 * operations waiting for them (a
 * sweep in which nothing of that happened proves nothing). Ends with
 * "N passed, M failed".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_groups.h"

static void usage(void)
{
	fprintf(stderr, "usage: ordo-sim-groups (--seed S | --seeds A..B) [--nodes N] [--paths P]\n"
			"                       [--faults none|net|memb|all|pause] [--max-groups G] [--max-members M]\n"
			"                       [--names K] [--trace] [--mutate groups-skip]\n");
}

static int parse_seeds(const char *v, uint64_t *a, uint64_t *b)
{
	char *end;
	*a = strtoull(v, &end, 10);
	if (end[0] == '\0') {
		*b = *a;
		return 0;
	}
	if (end[0] != '.' || end[1] != '.')
		return -1;
	*b = strtoull(end + 2, &end, 10);
	return *end == '\0' && *b >= *a ? 0 : -1;
}

static const char *faults_name(enum sim_faults f)
{
	return f == SIM_FAULTS_ALL ? "all" : f == SIM_FAULTS_MEMB ? "memb" : f == SIM_FAULTS_NET ? "net"
	       : f == SIM_FAULTS_PAUSE ? "pause" : "none";
}

int main(int argc, char **argv)
{
	struct sim_opts base;
	sim_opts_default(&base);
	base.faults = SIM_FAULTS_MEMB;
	struct sim_groups_opts go = {.max_groups = 4, .max_members = 6, .names = 6};
	uint64_t first = 0, last = 0;
	uint32_t nodes = 0, paths = 0;
	int have = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if ((!strcmp(a, "--seeds") || !strcmp(a, "--seed")) && v && parse_seeds(v, &first, &last) == 0) {
			have = 1;
			i++;
		} else if (!strcmp(a, "--nodes") && v && atoi(v) >= 1 && atoi(v) <= SIM_NODES_MAX) {
			nodes = (uint32_t)atoi(v);
			i++;
		} else if (!strcmp(a, "--paths") && v && atoi(v) >= 1 && atoi(v) <= (int)RP_PATHS_MAX) {
			paths = (uint32_t)atoi(v);
			i++;
		} else if (!strcmp(a, "--faults") && v) {
			base.faults = !strcmp(v, "all") ? SIM_FAULTS_ALL : !strcmp(v, "memb") ? SIM_FAULTS_MEMB
				      : !strcmp(v, "net") ? SIM_FAULTS_NET : !strcmp(v, "pause") ? SIM_FAULTS_PAUSE
				      : SIM_FAULTS_NONE;
			i++;
		} else if (!strcmp(a, "--max-groups") && v && atoi(v) >= 1) {
			go.max_groups = (uint32_t)atoi(v);
			i++;
		} else if (!strcmp(a, "--max-members") && v && atoi(v) >= 1) {
			go.max_members = (uint32_t)atoi(v);
			i++;
		} else if (!strcmp(a, "--names") && v && atoi(v) >= 1 && atoi(v) <= 1000) {
			go.names = (uint32_t)atoi(v);
			i++;
		} else if (!strcmp(a, "--mutate") && v && !strcmp(v, "groups-skip")) {
			go.mutate_skip = true;
			i++;
		} else if (!strcmp(a, "--trace")) {
			base.trace = true;
		} else {
			usage();
			return 2;
		}
	}
	if (!have) {
		usage();
		return 2;
	}
	struct sim_groups_stats tot;
	memset(&tot, 0, sizeof(tot));
	uint64_t passed = 0, failed = 0;
	for (uint64_t seed = first;; seed++) {
		struct sim_opts o = base;
		o.seed = seed;
		uint64_t mix = seed * 0x9E3779B97F4A7C15ull;
		o.nodes = nodes ? nodes : (uint32_t)(3 + (mix >> 40) % 5);
		o.paths = paths ? paths : (uint32_t)(1 + (mix >> 20) % 3);
		struct sim_groups *g = sim_groups_attach(&o, &go);
		struct sim *s = g ? sim_create(&o) : NULL;
		if (s == NULL) {
			fprintf(stderr, "ordo-sim-groups: cannot set up seed %" PRIu64 "\n", seed);
			sim_groups_free(g);
			return 2;
		}
		struct sim_result r;
		sim_run(s, &r);
		sim_destroy(s);
		struct sim_groups_stats st;
		sim_groups_stats(g, &st);
		sim_groups_free(g);
		tot.applied += st.applied;
		tot.refused_groups += st.refused_groups;
		tot.refused_members += st.refused_members;
		tot.noops += st.noops;
		tot.exchanges += st.exchanges;
		tot.aborted += st.aborted;
		tot.deferred += st.deferred;
		tot.compared += st.compared;
		if (!r.ok) {
			failed++;
			printf("seed %" PRIu64 ": FAIL property=%s: %s\n  replay: build/tests/ordo-sim-groups --seed %" PRIu64
			       " --nodes %u --paths %u --faults %s --max-groups %u --max-members %u --names %u%s --trace\n",
			       seed, r.property, r.detail, seed, o.nodes, o.paths, faults_name(o.faults), go.max_groups,
			       go.max_members, go.names, go.mutate_skip ? " --mutate groups-skip" : "");
		} else {
			passed++;
			if (first == last)
				printf("seed %" PRIu64 ": ok nodes=%u paths=%u deliveries=%" PRIu64 " configs=%" PRIu64
				       " applied=%" PRIu64 " compared=%" PRIu64 " exchanges=%" PRIu64 " digest=%016" PRIx64 "\n",
				       seed, o.nodes, o.paths, r.deliveries, r.configs, st.applied, st.compared, st.exchanges,
				       r.digest);
		}
		if (seed == last)
			break;
	}
	printf("groups: %" PRIu64 " operations applied, %" PRIu64 " without effect, refused %" PRIu64
	       " for a full table and %" PRIu64 " for a full group; %" PRIu64 " compared at the same message; %" PRIu64
	       " exchanges finished, %" PRIu64 " cut short, %" PRIu64 " operations waited for one\n",
	       tot.applied, tot.noops, tot.refused_groups, tot.refused_members, tot.compared, tot.exchanges,
	       tot.aborted, tot.deferred);
	printf("%" PRIu64 " passed, %" PRIu64 " failed\n", passed, failed);
	if (failed == 0 && first != last &&
	    (tot.applied == 0 || tot.compared == 0 || tot.refused_groups == 0 || tot.refused_members == 0 ||
	     (base.faults == SIM_FAULTS_MEMB || base.faults == SIM_FAULTS_ALL ? tot.exchanges == 0 || tot.deferred == 0
									       : 0))) {
		printf("the sweep exercised too little to prove anything\n");
		return 1;
	}
	return failed == 0 ? 0 : 1;
}
