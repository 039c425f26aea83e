/* sim_cli.c — see sim_cli.h. */
#include "sim_cli.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	if (!s || !*s)
		return false;
	*v = strtoull(s, &end, 0);
	return *end == '\0';
}

bool sim_parse_seeds(const char *v, uint64_t *first, uint64_t *last)
{
	const char *dots = v ? strstr(v, "..") : NULL;
	char left[32];
	if (!dots) {
		bool ok = parse_u64(v, first);
		*last = *first;
		return ok;
	}
	if ((size_t)(dots - v) >= sizeof(left))
		return false;
	memcpy(left, v, (size_t)(dots - v));
	left[dots - v] = '\0';
	return parse_u64(left, first) && parse_u64(dots + 2, last) && *last >= *first;
}

static const char *const faults_names[] = {
	[SIM_FAULTS_NONE] = "none", [SIM_FAULTS_NET] = "net", [SIM_FAULTS_MEMB] = "memb",
	[SIM_FAULTS_ALL] = "all",   [SIM_FAULTS_PAUSE] = "pause",
};

bool sim_parse_faults(const char *v, enum sim_faults *f)
{
	for (unsigned k = 0; v && k < sizeof(faults_names) / sizeof(faults_names[0]); k++)
		if (!strcmp(v, faults_names[k])) {
			*f = (enum sim_faults)k;
			return true;
		}
	return false;
}

const char *sim_faults_name(enum sim_faults f)
{
	return (unsigned)f < sizeof(faults_names) / sizeof(faults_names[0]) ? faults_names[f] : "?";
}

void sim_seed_topology(struct sim_opts *o, uint32_t nodes, uint32_t paths)
{
	uint64_t mix = o->seed * 0x9E3779B97F4A7C15ull;
	o->nodes = nodes ? nodes : (uint32_t)(3 + (mix >> 40) % 5);
	o->paths = paths ? paths : o->partial ? (uint32_t)(2 + (mix >> 20) % 3) : (uint32_t)(1 + (mix >> 20) % 3);
}

int sim_cli_option(int argc, char **argv, int i, struct sim_cli *c, struct sim_opts *o)
{
	const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
	uint64_t x;
	if (!strcmp(a, "--trace")) {
		o->trace = true;
		return 1;
	}
	if (!strcmp(a, "--seed") || !strcmp(a, "--seeds")) {
		if (!sim_parse_seeds(v, &c->first, &c->last))
			return -1;
		c->have_seed = true;
		return 2;
	}
	if (!strcmp(a, "--nodes") || !strcmp(a, "--paths")) {
		bool nodes = !strcmp(a, "--nodes");
		if (!parse_u64(v, &x) || x < 1 || x > (nodes ? SIM_NODES_MAX : RP_PATHS_MAX))
			return -1;
		*(nodes ? &c->nodes : &c->paths) = (uint32_t)x;
		return 2;
	}
	if (!strcmp(a, "--faults"))
		return sim_parse_faults(v, &o->faults) ? 2 : -1;
	if (!strcmp(a, "--mutes")) {
		o->mutes = true; /* one-way (node, path) faults among the path faults */
		return 1;
	}
	return 0;
}

int sim_cli_parse(int argc, char **argv, struct sim_cli *c, struct sim_opts *o,
		  int (*own)(const char *a, const char *v, void *ctx), void *ctx)
{
	for (int i = 1; i < argc; i++) {
		int took = sim_cli_option(argc, argv, i, c, o);
		if (took == 0)
			took = own(argv[i], i + 1 < argc ? argv[i + 1] : NULL, ctx);
		if (took <= 0)
			return -1;
		i += took - 1;
	}
	return c->have_seed ? 0 : -1;
}

int sim_sweep(const struct sim_cli *cli, const struct sim_opts *base, const struct sim_sweep *sw, uint64_t *passed,
	      uint64_t *failed)
{
	*passed = *failed = 0;
	for (uint64_t seed = cli->first;; seed++) {
		struct sim_opts o = *base;
		o.seed = seed;
		sim_seed_topology(&o, cli->nodes, cli->paths);
		void *layer = sw->attach(&o, sw->arg);
		struct sim *s = layer ? sim_create(&o) : NULL;
		if (s == NULL) {
			fprintf(stderr, "%s: cannot set up seed %" PRIu64 "\n", sw->tool, seed);
			sw->free(layer);
			return 2;
		}
		struct sim_result r;
		sim_run(s, &r);
		sim_destroy(s);
		sw->seen(layer, &o, &r, cli->first == cli->last, sw->arg);
		sw->free(layer);
		if (r.ok)
			++*passed;
		else
			++*failed;
		if (seed == cli->last)
			return 0;
	}
}
