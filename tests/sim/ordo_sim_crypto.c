/* ordo_sim_crypto.c — the `ordo-sim-crypto` command: the simulator with
 * frame security (tests/sim/sim_crypto.h) and an attacker on the network.
 *
 *   ordo-sim-crypto --seeds A..B [--nodes N] [--paths P] [--faults none|net|memb|all|pause]
 *                   [--cipher aes256-gcm|chacha20-poly1305] [--auth] [--attack P] [--trace]
 *                   [--mutate accept-forged]
 *
 * Every seed runs with the simulator's checker of docs/design.md §3 and the
 * crypto checks of sim_crypto.h. The sweep then requires that the attacker
 * injected frames of every kind and that nodes refused them (replays as
 * auth_replay, tampered frames as bad tags or worse, wrong-key frames as
 * unknown keys): a sweep in which nothing was attacked proves nothing.
 * Ends with "N passed, M failed".
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_cli.h"
#include "sim_crypto.h"

static void usage(void)
{
	fprintf(stderr, "usage: ordo-sim-crypto (--seed S | --seeds A..B) [--nodes N] [--paths P]\n"
			"                       [--faults none|net|memb|all|pause] [--cipher aes256-gcm|chacha20-poly1305]\n"
			"                       [--auth] [--attack P] [--trace] [--mutate accept-forged]\n");
}

/* The sweep's layer (sim_sweep): frame security with the options of co. */
struct crypto_sweep {
	const struct sim_crypto_opts *co;
	struct sim_crypto_stats tot;
};

static void *attach(struct sim_opts *o, void *arg)
{
	return sim_crypto_attach(o, ((struct crypto_sweep *)arg)->co);
}

static void seen(void *layer, const struct sim_opts *o, const struct sim_result *r, bool one_seed, void *arg)
{
	struct crypto_sweep *cs = arg;
	const struct sim_crypto_opts *co = cs->co;
	struct sim_crypto_stats st;
	sim_crypto_stats(layer, &st);
	cs->tot.sealed += st.sealed;
	cs->tot.opened += st.opened;
	for (int k = 0; k < ENG_CRYPTO_DROP_COUNT; k++)
		cs->tot.refused[k] += st.refused[k];
	cs->tot.injected_replay += st.injected_replay;
	cs->tot.injected_tamper += st.injected_tamper;
	cs->tot.injected_wrong_key += st.injected_wrong_key;
	if (!r->ok)
		printf("seed %" PRIu64 ": FAIL property=%s: %s\n  replay: build/tests/ordo-sim-crypto --seed %" PRIu64
		       " --nodes %u --paths %u --faults %s --cipher %s%s --attack %g --trace\n",
		       o->seed, r->property, r->detail, o->seed, o->nodes, o->paths, sim_faults_name(o->faults),
		       eng_cipher_name(co->cipher), co->protect == ENG_PROTECT_AUTH ? " --auth" : "", co->attack);
	else if (one_seed)
		printf("seed %" PRIu64 ": ok nodes=%u paths=%u deliveries=%" PRIu64 " configs=%" PRIu64
		       " sealed=%" PRIu64 " opened=%" PRIu64 " digest=%016" PRIx64 "\n",
		       o->seed, o->nodes, o->paths, r->deliveries, r->configs, st.sealed, st.opened, r->digest);
}

static void free_layer(void *layer) { sim_crypto_free(layer); }

/* ordo-sim-crypto's own options (sim_cli_parse). */
static int own_option(const char *a, const char *v, void *ctx)
{
	struct sim_crypto_opts *co = ctx;
	if (!strcmp(a, "--cipher") && v && eng_cipher_parse(v) != 0) {
		co->cipher = eng_cipher_parse(v);
		return 2;
	}
	if (!strcmp(a, "--auth")) {
		co->protect = ENG_PROTECT_AUTH;
		return 1;
	}
	if (!strcmp(a, "--attack") && v) {
		co->attack = atof(v);
		return 2;
	}
	if (!strcmp(a, "--mutate") && v && !strcmp(v, "accept-forged")) {
		co->mutate_accept_forged = true;
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sim_opts base;
	sim_opts_default(&base);
	base.faults = SIM_FAULTS_NET;
	struct sim_crypto_opts co = {.cipher = ENG_CIPHER_AES256_GCM, .protect = ENG_PROTECT_ENCRYPT, .attack = 0.01};
	struct sim_cli cli = {0};
	if (sim_cli_parse(argc, argv, &cli, &base, own_option, &co) != 0) {
		usage();
		return 2;
	}
	struct crypto_sweep cs = {.co = &co};
	const struct sim_sweep sw = {.tool = "ordo-sim-crypto", .attach = attach, .seen = seen, .free = free_layer,
				     .arg = &cs};
	uint64_t passed, failed;
	if (sim_sweep(&cli, &base, &sw, &passed, &failed) != 0)
		return 2;
	const struct sim_crypto_stats tot = cs.tot;
	printf("crypto: sealed %" PRIu64 ", opened %" PRIu64 "; injected replay %" PRIu64 ", tamper %" PRIu64
	       ", wrong key %" PRIu64 "; refused:",
	       tot.sealed, tot.opened, tot.injected_replay, tot.injected_tamper, tot.injected_wrong_key);
	for (int k = 1; k < ENG_CRYPTO_DROP_COUNT; k++)
		printf(" %s %" PRIu64, eng_crypto_drop_name((enum eng_crypto_result)k), tot.refused[k]);
	printf("\n");
	if (co.attack > 0 && failed == 0 &&
	    (tot.injected_replay == 0 || tot.injected_tamper == 0 || tot.injected_wrong_key == 0 ||
	     tot.refused[ENG_CRYPTO_DROP_REPLAY] == 0 || tot.refused[ENG_CRYPTO_DROP_UNKNOWN_KEY] == 0 ||
	     tot.refused[ENG_CRYPTO_DROP_AUTH] == 0)) {
		printf("FAIL: the attacker did not inject (or the nodes did not refuse) every kind of frame\n");
		failed++;
	}
	printf("%" PRIu64 " passed, %" PRIu64 " failed\n", passed, failed);
	return failed ? 1 : 0;
}
