/* cpg-perf — corosync's counterpart of ordo-perf: the same options, the same
 * message header, the same histogram and the same reports (table and JSON,
 * apps/perf_common.h), on libcpg (cpg_initialize, cpg_join,
 * cpg_mcast_joined with CPG_TYPE_AGREED, cpg_dispatch).
 *
 *   cpg-perf [-g GROUP] [-R send|recv|both] [-z SIZE] [-r RATE] [-d SECONDS]
 *            [-S] [-n SENDERS] [-m MEMBERS] [-p COROSYNC_PID] [-j FILE]
 *
 * Runs in the network namespace of its corosync (libqb's IPC socket is an
 * abstract Unix socket, private to a network namespace). The engine's CPU
 * time needs corosync's pid (-p): there is no socket to find it by.
 *
 * Built by scripts/bench-compare (libcpg-dev is installed there, not a
 * build dependency of ordo):
 *   gcc -O2 -Wall -Wextra -I apps -I client bench/cpg_perf.c bench/cpg_control.c \
 *       -o build/bench/cpg-perf -lcpg -lm
 * There is no SAFE mode: corosync documents CPG_TYPE_SAFE as "not
 * implemented" (it is delivered as AGREED), so -S is refused rather than
 * reporting AGREED numbers under a SAFE label.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/uio.h>

#include <corosync/cpg.h>

#include "cpg_control.h"
#include "perf_common.h"

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

static struct perf {
	struct perf_state st;
	struct cpg_name group;
	uint32_t view_members;
	uint64_t dispatched; /* deliveries and confchgs: work done in one dispatch */
	int barrier;
} p;

static int same_group(const struct cpg_name *g)
{
	return g->length == p.group.length && memcmp(g->value, p.group.value, g->length) == 0;
}

static void on_deliver(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid, void *msg,
		       size_t len)
{
	(void)h, (void)nodeid, (void)pid;
	p.dispatched++;
	if (!same_group(g) || !p.barrier)
		return;
	perf_on_deliver(&p.st, msg, len);
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *g, const struct cpg_address *members, size_t nmembers,
		       const struct cpg_address *left, size_t nleft, const struct cpg_address *joined, size_t njoined)
{
	(void)h, (void)members, (void)left, (void)nleft, (void)joined, (void)njoined;
	p.dispatched++;
	if (!same_group(g))
		return;
	p.view_members = (uint32_t)nmembers;
	if (nmembers >= p.st.cfg.members)
		p.barrier = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cpg-perf [options]   (in the network namespace of the corosync to use)\n"
		"  -g, --group NAME      CPG group (default perf)\n" PERF_USAGE_WORKLOAD
		"  -S, --safe            refused: corosync does not implement CPG_TYPE_SAFE\n" PERF_USAGE_MEMBERS
		"  -p, --pid PID         corosync's pid, for its CPU time\n" PERF_USAGE_OUTPUT PERF_USAGE_QUIET
		PERF_USAGE_CONTROL,
		PERF_HDR_SIZE);
}

static const char *cs_str(cs_error_t e)
{
	static char buf[32];
	switch (e) {
	case CS_OK: return "ok";
	case CS_ERR_LIBRARY: return "CS_ERR_LIBRARY (is corosync running in this network namespace?)";
	case CS_ERR_TRY_AGAIN: return "CS_ERR_TRY_AGAIN";
	case CS_ERR_BAD_HANDLE: return "CS_ERR_BAD_HANDLE";
	case CS_ERR_ACCESS: return "CS_ERR_ACCESS";
	case CS_ERR_TOO_BIG: return "CS_ERR_TOO_BIG";
	default: snprintf(buf, sizeof(buf), "cs_error %d", (int)e); return buf;
	}
}

struct publisher {
	cpg_handle_t h;
	cpg_guarantee_t guarantee;
	uint32_t size;
};

static enum perf_pub publish(void *ctx, const uint8_t *buf)
{
	const struct publisher *u = ctx;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = u->size};
	cs_error_t err = cpg_mcast_joined(u->h, u->guarantee, &iov, 1);
	if (err == CS_OK)
		return PERF_PUB_OK;
	if (err == CS_ERR_TRY_AGAIN)
		return PERF_PUB_FULL;
	fprintf(stderr, "cpg-perf: cpg_mcast_joined: %s\n", cs_str(err));
	return PERF_PUB_ERROR;
}

int main(int argc, char **argv)
{
	struct perf_config *cfg = &p.st.cfg;
	*cfg = (struct perf_config){.tool = "cpg-perf", .system = "corosync", .group = "perf", .role = "both",
				    .service = "agreed", .transport = "corosync-cpg", .size = 1024, .senders = 1,
				    .duration_s = 5};
	struct perf_cli cli;
	int prc = perf_parse_args(argc, argv, cfg, &cli, "", NULL, NULL, NULL, usage);
	if (prc != 0 || cli.control != NULL) /* --control: apps/perf_control.h */
		return prc == 1 ? 0 : prc != 0 ? 2 : cpg_perf_control(cfg, &cli);
	if (cli.safe) {
		fprintf(stderr, "cpg-perf: corosync does not implement SAFE delivery (CPG_TYPE_SAFE is "
				"delivered as AGREED): there is nothing to measure\n");
		return 2;
	}
	const char *json = cli.json;
	double timeout_s = cli.timeout_s;
	int quiet = cli.quiet;
	cpg_guarantee_t guarantee = CPG_TYPE_AGREED;
	struct perf_run run;
	if (perf_check_args(cfg, &run, CPG_MAX_NAME_LENGTH - 1u) != 0) {
		usage(stderr);
		return 2;
	}
	p.group.length = (uint32_t)strlen(cfg->group);
	memcpy(p.group.value, cfg->group, p.group.length);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	(void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);

	uint8_t *buf = perf_payload(cfg->size);
	if (buf == NULL)
		return 1;

	cpg_callbacks_t cb = {.cpg_deliver_fn = on_deliver, .cpg_confchg_fn = on_confchg};
	cpg_handle_t h;
	cs_error_t err;
	uint64_t t_wait = perf_now_ns();
	while ((err = cpg_initialize(&h, &cb)) == CS_ERR_TRY_AGAIN && !stop)
		usleep(10000);
	if (err != CS_OK) {
		fprintf(stderr, "cpg-perf: cpg_initialize: %s\n", cs_str(err));
		return 1;
	}
	unsigned int nodeid = 0;
	if ((err = cpg_local_get(h, &nodeid)) != CS_OK) {
		fprintf(stderr, "cpg-perf: cpg_local_get: %s\n", cs_str(err));
		return 1;
	}
	p.st.self_node = (uint16_t)nodeid;
	p.st.self_id = (uint32_t)getpid();
	while ((err = cpg_join(h, &p.group)) == CS_ERR_TRY_AGAIN && !stop)
		usleep(10000);
	if (err != CS_OK) {
		fprintf(stderr, "cpg-perf: cpg_join %s: %s\n", cfg->group, cs_str(err));
		cpg_finalize(h);
		return 1;
	}
	int fd;
	if ((err = cpg_fd_get(h, &fd)) != CS_OK) {
		fprintf(stderr, "cpg-perf: cpg_fd_get: %s\n", cs_str(err));
		return 1;
	}

	/* the start barrier: the confchg with every member */
	int status = 0;
	while (!p.barrier && !stop) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		(void)poll(&pfd, 1, 50);
		err = cpg_dispatch(h, CS_DISPATCH_ALL);
		if (err != CS_OK && err != CS_ERR_TRY_AGAIN) {
			fprintf(stderr, "cpg-perf: cpg_dispatch: %s\n", cs_str(err));
			status = 1;
			break;
		}
		if ((double)(perf_now_ns() - t_wait) / 1e9 > timeout_s) {
			fprintf(stderr, "cpg-perf: timeout after %.0f s waiting for %u members in %s (have %u)\n",
				timeout_s, cfg->members, cfg->group, p.view_members);
			status = 3;
			break;
		}
	}
	if (!p.barrier) {
		cpg_finalize(h);
		return status ? status : 1;
	}

	perf_run_start(&p.st, &run);
	struct publisher pub = {.h = h, .guarantee = guarantee, .size = cfg->size};
	while (!stop) {
		int sent = perf_send_step(&p.st, &run, buf, perf_now_ns(), publish, &pub);
		if (sent < 0) {
			status = 1;
			break;
		}
		uint64_t work = (uint64_t)sent;
		uint64_t before = p.dispatched;
		err = cpg_dispatch(h, CS_DISPATCH_ALL);
		if (err != CS_OK && err != CS_ERR_TRY_AGAIN) {
			fprintf(stderr, "cpg-perf: cpg_dispatch: %s\n", cs_str(err));
			status = 1;
			break;
		}
		work += p.dispatched - before;
		uint64_t sleep_ns = 0;
		int next = perf_after_step(&p.st, &run, work, &sleep_ns);
		if (next < 0)
			break;
		if (next > 0)
			(void)perf_sleep_on(fd, sleep_ns);
	}
	perf_run_end(&p.st, &run, stop);
	(void)cpg_leave(h, &p.group);
	cpg_finalize(h);
	free(buf);
	return perf_report(&p.st, &run, quiet, json, status);
}
