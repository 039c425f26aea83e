/* cpg_control.c — cpg-perf --control: control messaging on libcpg, the
 * counterpart of apps/ordo_perf_control.c (roles watch, join and churn of
 * apps/perf_control.h).
 *
 * Owns: the CPG side of the three roles. A CPG handle is in one group at a
 * time, so a watcher holds one handle per group (GROUP's handle is made
 * with cpg_model_initialize and records totem's ring changes, the
 * totem_confchg callback: the ring configuration CPG shows a client) and a
 * churner one handle per churning client. Members are (nodeid, pid).
 * Never: anything outside the network namespace of its corosync (libqb's
 * IPC socket is an abstract Unix socket, private to a namespace).
 *
 * Built with cpg_perf.c by scripts/bench-compare (gcc, outside meson).
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <sys/uio.h>

#include <corosync/cpg.h>

#include "cpg_control.h"
#include "perf_control.h"

#define CTL_VIEW_MEMBERS_MAX 256u
#define CTL_HANDLES_MAX PERF_CTL_GROUPS_MAX

static volatile sig_atomic_t ctl_stop, ctl_end_asked;
static void ctl_on_stop(int s) { (void)s; ctl_stop = 1; }
static void ctl_on_usr1(int s) { (void)s; ctl_end_asked = 1; }

static struct perf_ctl ctl; /* large: the recorded views */

/* One handle: in group `group` (an index into ctl.names). */
struct ctl_handle {
	cpg_handle_t h;
	int fd;
	int group;
	struct cpg_name name;
	struct perf_ctl_cycler y;
	int used;            /* joined once: a join again needs a new handle */
	int dead;            /* dispatch failed: corosync went away */
};

static struct ctl_handle hs[CTL_HANDLES_MAX];
static uint32_t nhs;
static uint32_t self_nodeid;

static struct ctl_handle *handle_of(cpg_handle_t h)
{
	for (uint32_t i = 0; i < nhs; i++)
		if (hs[i].h == h)
			return &hs[i];
	return NULL;
}

static struct perf_ctl_member member_of(const struct cpg_address *a)
{
	return (struct perf_ctl_member){.node = a->nodeid, .id = a->pid, .reason = a->reason};
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *g, const struct cpg_address *members, size_t n,
		       const struct cpg_address *left, size_t nl, const struct cpg_address *joined, size_t nj)
{
	struct ctl_handle *x = handle_of(h);
	if (x == NULL || g->length != x->name.length || memcmp(g->value, x->name.value, g->length) != 0)
		return;
	if (ctl.mode != PERF_CTL_WATCH) {
		x->y.in_view = 0;
		for (size_t i = 0; i < n; i++)
			x->y.in_view |= members[i].nodeid == self_nodeid && members[i].pid == (uint32_t)getpid();
		x->y.got_view = 1;
		x->y.view_ns = perf_now_ns();
		return;
	}
	static struct perf_ctl_member mem[CTL_VIEW_MEMBERS_MAX];
	uint32_t m = n < CTL_VIEW_MEMBERS_MAX ? (uint32_t)n : CTL_VIEW_MEMBERS_MAX;
	for (uint32_t i = 0; i < m; i++)
		mem[i] = member_of(&members[i]);
	struct perf_ctl_member j = nj ? member_of(&joined[0]) : (struct perf_ctl_member){0};
	struct perf_ctl_member l = nl ? member_of(&left[0]) : (struct perf_ctl_member){0};
	uint64_t gone = 0;
	for (size_t i = 0; i < nl; i++)
		gone |= perf_ctl_node_bit(left[i].nodeid);
	perf_ctl_on_view(&ctl, x->group, 0, mem, m, &j, (uint32_t)nj, &l, (uint32_t)nl, gone);
}

static void on_deliver(cpg_handle_t h, const struct cpg_name *g, uint32_t nodeid, uint32_t pid, void *msg,
		       size_t len)
{
	(void)g, (void)nodeid, (void)pid;
	struct ctl_handle *x = handle_of(h);
	if (x != NULL && x->group == 0)
		perf_ctl_on_message(&ctl, msg, len);
}

static void on_totem(cpg_handle_t h, struct cpg_ring_id ring, uint32_t n, const uint32_t *nodes)
{
	(void)h, (void)ring, (void)nodes;
	perf_ctl_on_config(&ctl, 0, n);
}

static int ctl_open(struct ctl_handle *x, int group, int totem)
{
	cpg_model_v1_data_t md = {.model = CPG_MODEL_V1, .cpg_deliver_fn = on_deliver, .cpg_confchg_fn = on_confchg,
				  .cpg_totem_confchg_fn = totem ? on_totem : NULL};
	cs_error_t err;
	while ((err = cpg_model_initialize(&x->h, CPG_MODEL_V1, (cpg_model_data_t *)&md, NULL)) == CS_ERR_TRY_AGAIN &&
	       !ctl_stop)
		usleep(10000);
	if (err == CS_OK)
		err = cpg_fd_get(x->h, &x->fd);
	if (err == CS_OK && self_nodeid == 0)
		err = cpg_local_get(x->h, &self_nodeid);
	if (err != CS_OK) {
		fprintf(stderr, "cpg-perf: cpg_model_initialize: cs_error %d (is corosync running here?)\n", (int)err);
		return -1;
	}
	x->group = group;
	x->name.length = (uint32_t)strlen(ctl.names[group]);
	memcpy(x->name.value, ctl.names[group], x->name.length);
	return 0;
}

/* A handle that has left its group cannot join it again (corosync's
 * exec/cpg.c answers CS_ERR_EXIST: the connection keeps the group's name
 * until cpg_finalize): a new one takes its place, as CPG's users do. */
static int ctl_renew(struct ctl_handle *x)
{
	uint64_t t0 = perf_now_ns();
	cpg_finalize(x->h);
	x->used = 0;
	int rc = ctl_open(x, x->group, 0);
	ctl.renew_ns += perf_now_ns() - t0;
	ctl.renews++;
	return rc;
}

/* cpg_join or cpg_leave, retried while corosync says TRY_AGAIN. */
static int ctl_call(void *ctx, int join)
{
	struct ctl_handle *x = ctx;
	cs_error_t err = CS_OK;
	if (join && x->used && ctl_renew(x) != 0)
		return -1;
	x->used |= join;
	uint64_t t0 = perf_now_ns();
	for (int tries = 0; tries < 1000 && !ctl_stop; tries++) {
		err = join ? cpg_join(x->h, &x->name) : cpg_leave(x->h, &x->name);
		ctl.call_ns += perf_now_ns() - t0;
		if (err == CS_OK)
			return 0;
		if (err != CS_ERR_TRY_AGAIN)
			break;
		ctl.retries++;
		t0 = perf_now_ns();
		(void)cpg_dispatch(x->h, CS_DISPATCH_ALL);
		usleep(1000);
	}
	fprintf(stderr, "cpg-perf: cpg_%s %.*s: cs_error %d\n", join ? "join" : "leave", (int)x->name.length,
		x->name.value, (int)err);
	return -1;
}

/* Dispatches every handle once; sleeps up to ms on their fds first. */
static void ctl_dispatch_all(int ms)
{
	struct pollfd pfd[CTL_HANDLES_MAX];
	for (uint32_t i = 0; i < nhs; i++)
		pfd[i] = (struct pollfd){.fd = hs[i].dead ? -1 : hs[i].fd, .events = POLLIN};
	if (ms > 0)
		(void)poll(pfd, nhs, ms);
	for (uint32_t i = 0; i < nhs; i++) {
		if (hs[i].dead)
			continue;
		cs_error_t err = cpg_dispatch(hs[i].h, CS_DISPATCH_ALL);
		if (err != CS_OK && err != CS_ERR_TRY_AGAIN)
			hs[i].dead = 1;
	}
}

static void w_publish_end(void)
{
	uint8_t end[PERF_HDR_SIZE] = {0};
	uint16_t k = PERF_CTL_END;
	memcpy(end, &k, sizeof(k));
	struct iovec iov = {.iov_base = end, .iov_len = sizeof(end)};
	cs_error_t err;
	while ((err = cpg_mcast_joined(hs[0].h, CPG_TYPE_AGREED, &iov, 1)) == CS_ERR_TRY_AGAIN && !ctl_stop)
		ctl_dispatch_all(1);
	if (err != CS_OK)
		fprintf(stderr, "cpg-perf: END: cs_error %d\n", (int)err);
	ctl.end_sent = 1;
	ctl.end_ns = perf_now_ns();
}

static int ctl_watch(void *ctx)
{
	(void)ctx;
	nhs = ctl.ngroups;
	for (uint32_t i = 0; i < nhs; i++)
		if (ctl_open(&hs[i], (int)i, i == 0) != 0)
			return 1;
	ctl.self_node = self_nodeid;
	ctl.self_id = (uint32_t)getpid();
	for (uint32_t i = nhs; i-- > 0;) /* GROUP last: see perf_control.h */
		if (ctl_call(&hs[i], 1) != 0)
			return 1;
	uint64_t t0 = perf_now_ns();
	int said = 0, status = 0;
	while (!ctl.done && !ctl_stop && !hs[0].dead) {
		ctl_dispatch_all(10);
		if (ctl.barrier && !said) {
			ctl_dispatch_all(0); /* what was ordered before the barrier */
			ctl.churn_on = 1;
			printf("ready\n");
			said = 1;
		}
		if (perf_ctl_end_due(&ctl, ctl_end_asked))
			w_publish_end();
		if (perf_ctl_timed_out(&ctl, t0)) {
			fprintf(stderr, "cpg-perf: watch: timeout (%s)\n", ctl.barrier ? "ENDs" : "members");
			status = 3;
			break;
		}
	}
	if (ctl.done) {
		ctl_dispatch_all(0); /* what was ordered before the last END */
		ctl.churn_on = 0;
		/* stay a member until told (SIGTERM): a watcher's leave must not
		 * fall into another watcher's window */
		printf("done\n");
		uint64_t t_done = perf_now_ns();
		while (!ctl_stop && !hs[0].dead && (double)(perf_now_ns() - t_done) / 1e9 < ctl.timeout_s)
			ctl_dispatch_all(10);
	}
	ctl.churn_on = 0;
	for (uint32_t i = 0; i < nhs; i++)
		cpg_finalize(hs[i].h);
	return status ? status : (ctl.done ? 0 : 1);
}

/* Dispatches x until its own confchg says in_view == want; 0 or -1. */
static int ctl_wait_own(void *ctx, int want)
{
	struct ctl_handle *x = ctx;
	uint64_t t0 = perf_now_ns();
	while (!(x->y.got_view && x->y.in_view == want)) {
		ctl_dispatch_all(10);
		if (x->dead || ctl_stop)
			return -1;
		if ((double)(perf_now_ns() - t0) / 1e9 > ctl.timeout_s) {
			fprintf(stderr, "cpg-perf: no confchg of %s %s itself after %.0f s\n", ctl.names[x->group],
				want ? "with" : "without", ctl.timeout_s);
			return -1;
		}
	}
	/* the next join's handle, made outside the timed join */
	return want == 0 && x->used ? ctl_renew(x) : 0;
}

static int ctl_join_role(void *ctx)
{
	(void)ctx;
	nhs = 1;
	if (ctl_open(&hs[0], 0, 0) != 0)
		return 1;
	ctl.self_node = self_nodeid;
	ctl.self_id = (uint32_t)getpid();
	perf_ctl_join_cycles(&ctl, &hs[0].y, ctl_call, ctl_wait_own, &hs[0], &ctl_stop);
	cpg_finalize(hs[0].h);
	return ctl.failed ? 1 : 0;
}

static int ctl_churn(void *ctx)
{
	(void)ctx;
	nhs = ctl.churners;
	for (uint32_t i = 0; i < nhs; i++)
		if (ctl_open(&hs[i], 0, 0) != 0)
			return 1;
	const char *g0 = perf_ctl_churn_name(&ctl, self_nodeid, 0);
	if (g0 == NULL) {
		fprintf(stderr, "cpg-perf: node %u is past -m %u\n", self_nodeid, ctl.members);
		return 2;
	}
	for (uint32_t i = 0; i < nhs; i++) {
		hs[i].group = perf_ctl_group_index(&ctl, perf_ctl_churn_name(&ctl, self_nodeid, i),
						   strlen(perf_ctl_churn_name(&ctl, self_nodeid, i)));
		hs[i].name.length = (uint32_t)strlen(ctl.names[hs[i].group]);
		memcpy(hs[i].name.value, ctl.names[hs[i].group], hs[i].name.length);
	}
	ctl.self_node = self_nodeid;
	ctl.self_id = (uint32_t)getpid();
	ctl.churn_start_ns = perf_now_ns();
	for (;;) {
		uint64_t now = perf_now_ns();
		int sending = perf_ctl_churn_sending(&ctl, now) && !ctl_stop, busy = 0, work = 0;
		for (uint32_t i = 0; i < nhs; i++) {
			if (hs[i].dead || hs[i].y.state < 0)
				ctl.failed = 1;
			work += perf_ctl_churn_step(&ctl, &hs[i].y, sending && !ctl.failed, ctl_call, &hs[i]);
			busy |= hs[i].y.state > 0;
		}
		if ((!busy && !sending) || ctl.failed || perf_ctl_churn_overdue(&ctl, now))
			break;
		ctl_dispatch_all(work ? 0 : 2);
	}
	ctl.churn_end_ns = perf_now_ns();
	for (uint32_t i = 0; i < nhs; i++)
		cpg_finalize(hs[i].h);
	return ctl.failed ? 1 : 0;
}

int cpg_perf_control(const struct perf_config *cfg, const struct perf_cli *cli)
{
	static const struct perf_ctl_roles roles = {.watch = ctl_watch, .join = ctl_join_role, .churn = ctl_churn};
	signal(SIGINT, ctl_on_stop);
	signal(SIGTERM, ctl_on_stop);
	signal(SIGUSR1, ctl_on_usr1);
	return perf_ctl_run(&ctl, cfg, cli, CPG_MAX_NAME_LENGTH - 1u, &roles, NULL);
}
