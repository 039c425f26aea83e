/* ordod — one ordo node as a daemon (docs/ordod.md).
 *
 * Owns: the command line, reading the configuration before the EAL starts
 * (the EAL's arguments come from it), the state directory, signals
 * (SIGTERM and SIGINT stop the worker, which leaves the ring politely;
 * SIGHUP has it re-read the key file for a live rotation), and
 * exit statuses: 0 clean stop, 1 bad configuration, 2 a setup failure.
 *
 * Never: daemonises (supervisors want the foreground), or prints more than
 * one line for a configuration error.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_log.h>

#include "eng.h"
#include "pmdg.h"

static volatile int stop;
static struct eng *the_eng;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* SIGHUP: re-read the key file (docs/security.md §6). */
static void on_hup(int sig)
{
	(void)sig;
	if (the_eng != NULL)
		eng_key_reload_request(the_eng);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: ordod -c FILE [--check [--json]] | ordod --keys | ordod --counters\n"
		     "  -c FILE   the node's configuration (docs/ordod.md)\n"
		     "  --check   check the configuration, print every key as the node would use it, exit\n"
		     "  --json    with --check: print it as one JSON object of sections\n"
		     "  --keys    print the reference table of every key (docs/ordod.md) and exit\n"
		     "  --counters  print the reference table of every counter telemetry reports and exit\n");
}

/* A command line ordod cannot run: what is wrong (fmt takes up to two
 * strings), then the usage; exit 1. */
static int usage_error(const char *fmt, const char *a, const char *b)
{
	fputs("ordod: ", stderr);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	usage(stderr);
	return 1;
}

struct args {
	const char *file;
	int check, json;
};

/* The command line into a; -1 to run on, else the exit status. */
static int parse_args(int argc, char **argv, struct args *a)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) {
			if (i + 1 == argc)
				return usage_error("%s needs the configuration file after it", argv[i], NULL);
			a->file = argv[++i];
		} else if (strcmp(argv[i], "--check") == 0) {
			a->check = 1;
		} else if (strcmp(argv[i], "--json") == 0) {
			a->json = 1;
		} else if (strcmp(argv[i], "--keys") == 0) {
			eng_config_print_keys(stdout);
			return 0;
		} else if (strcmp(argv[i], "--counters") == 0) {
			eng_telemetry_print_counters(stdout);
			return 0;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] != '-') {
			return usage_error("'%s': a configuration file goes after -c: ordod -c %s", argv[i], argv[i]);
		} else {
			return usage_error("unknown option '%s'", argv[i], NULL);
		}
	}
	if (a->file == NULL)
		return usage_error("%s", "no configuration file: ordod -c FILE runs the node FILE describes", NULL);
	if (a->json && !a->check)
		return usage_error("%s", "--json goes with --check (ordod -c FILE --check --json)", NULL);
	return -1;
}

/* --check: the configuration as the node would use it, and what the node
 * would warn of at start said now. */
static int print_check(const struct eng_config *cfg, const char *file, int json)
{
	if (json)
		eng_config_print_json(cfg, stdout);
	else
		eng_config_print(cfg, stdout);
	if (cfg->key_file[0] == '\0')
		fprintf(stderr, "ordod: note: %s sets no [ring] key_file: the node would run with NO FRAME "
				"SECURITY, anyone on its networks could forge frames (ordo-keygen; docs/security.md)\n",
			file);
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = {0};
	int rc = parse_args(argc, argv, &a);
	if (rc >= 0)
		return rc;
	const char *file = a.file;
	int check = a.check, json = a.json;

	static struct eng_config cfg;
	char err[512];
	if (eng_config_load(file, &cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "ordod: config: %s\n", err);
		return 1;
	}
	if (check)
		return print_check(&cfg, file, json);

	char *eal_argv[64];
	static char eal_buf[4096];
	int eal_argc = eng_config_eal_argv(&cfg, argv[0], eal_argv, 64, eal_buf, sizeof(eal_buf));
	if (eal_argc < 0) {
		fprintf(stderr, "ordod: config: [eal]: too many EAL arguments\n");
		return 1;
	}
	(void)eng_log_open(cfg.log_target, cfg.log_level, cfg.rp.node_id, "ordod");
	if (pmdg_eal_init(eal_argc, eal_argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "ordod: %s\n", err);
		eng_log_close();
		return 2;
	}
	eng_log_levels();

	int status = 0;
	struct eng *e = NULL;
	if (eng_state_start(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "ordod: %s\n", err);
		status = 2;
		goto out;
	}
	e = eng_create(&cfg, err, sizeof(err));
	if (e == NULL) {
		fprintf(stderr, "ordod: %s\n", err);
		status = 2;
		goto out;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	the_eng = e;
	sa.sa_handler = on_hup;
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	eng_run(e, &stop);
	if (eng_failed(e))
		status = 2;
out:
	eng_destroy(e);
	pmdg_eal_cleanup();
	eng_log_close();
	return status;
}
