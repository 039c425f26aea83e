/* sim_cli.h — what the simulator's commands (ordo-sim, ordo-sim-crypto,
 * ordo-sim-groups) read and print alike: seeds, fault sets, the seeded
 * topology of a sweep, and the options they all take. */
#ifndef SIM_CLI_H
#define SIM_CLI_H

#include "sim.h"

#include <stdbool.h>
#include <stdint.h>

/* "S" or "A..B" with A <= B (decimal, or 0x hex). */
bool sim_parse_seeds(const char *v, uint64_t *first, uint64_t *last);
/* none | net | memb | all | pause */
bool sim_parse_faults(const char *v, enum sim_faults *f);
const char *sim_faults_name(enum sim_faults f);

/* A sweep's topology for o->seed: nodes and paths when given (non-zero),
 * else seeded: 3..7 nodes, 1..3 paths (2..4 with o->partial). */
void sim_seed_topology(struct sim_opts *o, uint32_t nodes, uint32_t paths);

/* The options every command takes: --seed S or --seeds A..B, --nodes N,
 * --paths P, --faults F (into o->faults), --trace (o->trace). */
struct sim_cli {
	uint64_t first, last;
	bool have_seed;
	uint32_t nodes, paths; /* 0: seeded */
};

/* Reads argv[i] (and its value) if it is one of those options: returns the
 * arguments taken (1 or 2), 0 if argv[i] is none of them, -1 for one with a
 * missing or bad value. */
int sim_cli_option(int argc, char **argv, int i, struct sim_cli *c, struct sim_opts *o);

/* A command line of those options and the command's own, which own(a, v,
 * ctx) reads (a: the option, v: the next argument or NULL; returns the
 * arguments it took, 1 or 2, or 0 for none of its own or a bad value).
 * Returns 0, or -1 for a bad command line or one without a seed. */
int sim_cli_parse(int argc, char **argv, struct sim_cli *c, struct sim_opts *o,
		  int (*own)(const char *a, const char *v, void *ctx), void *ctx);

/* A sweep over the seeds of cli with a layer over each simulation (the
 * frame security of ordo-sim-crypto, the group tables of ordo-sim-groups):
 * attach() sets the layer up on a seed's options (NULL: it cannot); after
 * the run, seen() takes the layer's numbers and prints what the seed
 * showed (its FAIL and replay line, or with one seed its ok line); then
 * the layer is freed. */
struct sim_sweep {
	const char *tool;
	void *(*attach)(struct sim_opts *o, void *arg);
	void (*seen)(void *layer, const struct sim_opts *o, const struct sim_result *r, bool one_seed, void *arg);
	void (*free)(void *layer);
	void *arg;
};

/* Runs the sweep from base's options: returns 2 if a seed could not be
 * set up (said on stderr), else 0, with the seeds passed and failed. */
int sim_sweep(const struct sim_cli *cli, const struct sim_opts *base, const struct sim_sweep *sw, uint64_t *passed,
	      uint64_t *failed);

#endif
