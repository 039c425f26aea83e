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

#include "sim_cli.h"
#include "sim_groups.h"

static void usage(void)
{
	fprintf(stderr, "usage: ordo-sim-groups (--seed S | --seeds A..B) [--nodes N] [--paths P]\n"
			"                       [--faults none|net|memb|all|pause] [--max-groups G] [--max-members M]\n"
			"                       [--names K] [--trace] [--mutate groups-skip]\n");
}

/* The sweep's layer (sim_sweep): a group table at every node. */
struct groups_sweep {
	const struct sim_groups_opts *go;
	struct sim_groups_stats tot;
};

static void *attach(struct sim_opts *o, void *arg)
{
	return sim_groups_attach(o, ((struct groups_sweep *)arg)->go);
}

static void seen(void *layer, const struct sim_opts *o, const struct sim_result *r, bool one_seed, void *arg)
{
	struct groups_sweep *gs = arg;
	const struct sim_groups_opts *go = gs->go;
	struct sim_groups_stats st;
	sim_groups_stats(layer, &st);
	gs->tot.applied += st.applied;
	gs->tot.refused_groups += st.refused_groups;
	gs->tot.refused_members += st.refused_members;
	gs->tot.noops += st.noops;
	gs->tot.exchanges += st.exchanges;
	gs->tot.aborted += st.aborted;
	gs->tot.deferred += st.deferred;
	gs->tot.compared += st.compared;
	if (!r->ok)
		printf("seed %" PRIu64 ": FAIL property=%s: %s\n  replay: build/tests/ordo-sim-groups --seed %" PRIu64
		       " --nodes %u --paths %u --faults %s --max-groups %u --max-members %u --names %u%s --trace\n",
		       o->seed, r->property, r->detail, o->seed, o->nodes, o->paths, sim_faults_name(o->faults),
		       go->max_groups, go->max_members, go->names, go->mutate_skip ? " --mutate groups-skip" : "");
	else if (one_seed)
		printf("seed %" PRIu64 ": ok nodes=%u paths=%u deliveries=%" PRIu64 " configs=%" PRIu64
		       " applied=%" PRIu64 " compared=%" PRIu64 " exchanges=%" PRIu64 " digest=%016" PRIx64 "\n",
		       o->seed, o->nodes, o->paths, r->deliveries, r->configs, st.applied, st.compared, st.exchanges,
		       r->digest);
}

static void free_layer(void *layer) { sim_groups_free(layer); }

/* ordo-sim-groups' own options (sim_cli_parse). */
static int own_option(const char *a, const char *v, void *ctx)
{
	struct sim_groups_opts *go = ctx;
	if (!strcmp(a, "--max-groups") && v && atoi(v) >= 1) {
		go->max_groups = (uint32_t)atoi(v);
		return 2;
	}
	if (!strcmp(a, "--max-members") && v && atoi(v) >= 1) {
		go->max_members = (uint32_t)atoi(v);
		return 2;
	}
	if (!strcmp(a, "--names") && v && atoi(v) >= 1 && atoi(v) <= 1000) {
		go->names = (uint32_t)atoi(v);
		return 2;
	}
	if (!strcmp(a, "--mutate") && v && !strcmp(v, "groups-skip")) {
		go->mutate_skip = true;
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sim_opts base;
	sim_opts_default(&base);
	base.faults = SIM_FAULTS_MEMB;
	struct sim_groups_opts go = {.max_groups = 4, .max_members = 6, .names = 6};
	struct sim_cli cli = {0};
	if (sim_cli_parse(argc, argv, &cli, &base, own_option, &go) != 0) {
		usage();
		return 2;
	}
	struct groups_sweep gs = {.go = &go};
	const struct sim_sweep sw = {.tool = "ordo-sim-groups", .attach = attach, .seen = seen, .free = free_layer,
				     .arg = &gs};
	uint64_t passed, failed;
	if (sim_sweep(&cli, &base, &sw, &passed, &failed) != 0)
		return 2;
	const struct sim_groups_stats tot = gs.tot;
	printf("groups: %" PRIu64 " operations applied, %" PRIu64 " without effect, refused %" PRIu64
	       " for a full table and %" PRIu64 " for a full group; %" PRIu64 " compared at the same message; %" PRIu64
	       " exchanges finished, %" PRIu64 " cut short, %" PRIu64 " operations waited for one\n",
	       tot.applied, tot.noops, tot.refused_groups, tot.refused_members, tot.compared, tot.exchanges,
	       tot.aborted, tot.deferred);
	printf("%" PRIu64 " passed, %" PRIu64 " failed\n", passed, failed);
	if (failed == 0 && cli.first != cli.last &&
	    (tot.applied == 0 || tot.compared == 0 || tot.refused_groups == 0 || tot.refused_members == 0 ||
	     (base.faults == SIM_FAULTS_MEMB || base.faults == SIM_FAULTS_ALL ? tot.exchanges == 0 || tot.deferred == 0
									       : 0))) {
		printf("the sweep exercised too little to prove anything\n");
		return 1;
	}
	return failed == 0 ? 0 : 1;
}
