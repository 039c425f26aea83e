/* ordo_perf_control.c — ordo-perf --control: control messaging on libordo
 * (the roles watch, join and churn of apps/perf_control.h; cpg-perf's
 * counterpart is bench/cpg_control.c).
 *
 * Owns: the transport side of the three roles — attach, ordo_join,
 * ordo_leave, the END publish, polling — and the callbacks that feed
 * perf_control.h's bookkeeping. A watcher records GROUP's views (the view
 * callback) and the ring's configurations (the configuration callback).
 * Never: measures anything itself beyond timestamps (scripts/lib/control.py
 * combines the processes' JSON); single-threaded.
 */
#include <poll.h>
#include <signal.h>

#include "app_attach.h"
#include "ordo.h"
#include "ordo_perf_control.h"
#include "perf_control.h"

#define CTL_VIEW_MEMBERS_MAX 256u

static volatile sig_atomic_t ctl_stop, ctl_end_asked;
static void ctl_on_stop(int s) { (void)s; ctl_stop = 1; }
static void ctl_on_usr1(int s) { (void)s; ctl_end_asked = 1; }

static struct perf_ctl ctl; /* large: the recorded views */

/* One attached client of a join or churn role, cycling on one group. */
struct ctl_client {
	struct ordo_client *c;
	struct ordo_member self;
	const char *group;
	struct perf_ctl_cycler y;
	int refused, detached;
};

static void cl_view(void *ctx, const struct ordo_view *v)
{
	struct ctl_client *x = ctx;
	if (v->transitional || v->group_len != strlen(x->group) || memcmp(v->group, x->group, v->group_len) != 0)
		return;
	x->y.in_view = 0;
	for (uint32_t i = 0; i < v->member_count; i++)
		if (v->members[i].node == x->self.node && v->members[i].client == x->self.client)
			x->y.in_view = 1;
	x->y.got_view = 1;
	x->y.view_ns = perf_now_ns();
}

static void cl_refused(void *ctx, const uint8_t *group, uint8_t len, int err)
{
	struct ctl_client *x = ctx;
	(void)group, (void)len;
	x->refused = 1;
	fprintf(stderr, "ordo-perf: join of %s refused: %s\n", x->group, ordo_strerror(err));
}

static void cl_detached(void *ctx, int why)
{
	struct ctl_client *x = ctx;
	x->detached = 1;
	fprintf(stderr, "ordo-perf: detached: %s\n", ordo_strerror(why));
}

static void w_message(void *ctx, const struct ordo_message *m)
{
	(void)ctx;
	if (perf_ctl_group_index(&ctl, m->group, m->group_len) == 0)
		perf_ctl_on_message(&ctl, m->data, m->size);
}

static void w_view(void *ctx, const struct ordo_view *v)
{
	(void)ctx;
	static struct perf_ctl_member mem[CTL_VIEW_MEMBERS_MAX];
	struct perf_ctl_member j = {0}, l = {0};
	uint32_t n = v->member_count < CTL_VIEW_MEMBERS_MAX ? v->member_count : CTL_VIEW_MEMBERS_MAX;
	for (uint32_t i = 0; i < n; i++)
		mem[i] = (struct perf_ctl_member){.node = v->members[i].node, .id = v->members[i].client};
	if (v->joined_count > 0)
		j = (struct perf_ctl_member){v->joined[0].member.node, v->joined[0].member.client, v->joined[0].reason};
	if (v->left_count > 0)
		l = (struct perf_ctl_member){v->left[0].member.node, v->left[0].member.client, v->left[0].reason};
	uint64_t gone = 0;
	for (uint32_t i = 0; i < v->left_count; i++)
		gone |= perf_ctl_node_bit(v->left[i].member.node);
	perf_ctl_on_view(&ctl, perf_ctl_group_index(&ctl, v->group, v->group_len), v->transitional, mem, n, &j,
			 v->joined_count, &l, v->left_count, gone);
}

static void w_config(void *ctx, const struct ordo_configuration *c)
{
	(void)ctx;
	perf_ctl_on_config(&ctl, c->transitional, c->node_count);
}

/* Attaches x (its callbacks' context) and notes its identity; 0 or -1. */
static int ctl_attach(struct ctl_client *x, const char *sock, const struct ordo_callbacks *cb)
{
	struct ordo_client_opts o = {.callbacks = cb, .ctx = x, .name = "ordo-perf-control"};
	x->c = app_attach(sock, &o);
	if (x->c == NULL)
		return -1;
	x->self = ordo_self(x->c);
	ctl.self_node = x->self.node;
	ctl.self_id = x->self.client;
	return 0;
}

static int ctl_call(void *ctx, int join)
{
	struct ctl_client *x = ctx;
	uint64_t t0 = perf_now_ns();
	int rc = join ? ordo_join(x->c, x->group, strlen(x->group)) : ordo_leave(x->c, x->group, strlen(x->group));
	ctl.call_ns += perf_now_ns() - t0;
	if (rc != ORDO_OK)
		fprintf(stderr, "ordo-perf: %s %s: %s\n", join ? "join" : "leave", x->group, ordo_strerror(rc));
	return rc == ORDO_OK ? 0 : -1;
}

/* The watcher's END, retried while the submit ring is full. */
static void w_publish_end(struct ordo_client *c)
{
	uint8_t end[PERF_HDR_SIZE] = {0};
	uint16_t k = PERF_CTL_END;
	memcpy(end, &k, sizeof(k));
	int64_t r;
	while ((r = ordo_publish(c, ctl.names[0], strlen(ctl.names[0]), end, sizeof(end), ORDO_AGREED, 1)) ==
	       ORDO_EAGAIN)
		(void)ordo_poll(c, 256);
	if (r < 0)
		fprintf(stderr, "ordo-perf: END: %s\n", ordo_strerror((int)r));
	ctl.end_sent = 1;
	ctl.end_ns = perf_now_ns();
}

static int ctl_watch(void *sock)
{
	struct ctl_client me = {.group = ctl.names[0]};
	struct ordo_callbacks cb = {.message = w_message, .view = w_view, .configuration = w_config,
				    .detached = cl_detached};
	if (ctl_attach(&me, sock, &cb) != 0)
		return 1;
	ctl.exact = 1;
	for (uint32_t i = ctl.ngroups; i-- > 0;) { /* GROUP last: see perf_control.h */
		me.group = ctl.names[i];
		if (ctl_call(&me, 1) != 0) {
			ordo_detach(me.c);
			return 1;
		}
	}
	uint64_t t0 = perf_now_ns();
	int said = 0, status = 0;
	while (!ctl.done && !ctl_stop && !me.detached) {
		if (ordo_wait(me.c, 256, 10) < 0)
			break;
		if (ctl.barrier && !said) {
			printf("ready\n");
			said = 1;
		}
		if (perf_ctl_end_due(&ctl, ctl_end_asked))
			w_publish_end(me.c);
		if (perf_ctl_timed_out(&ctl, t0)) {
			fprintf(stderr, "ordo-perf: watch: timeout (%s)\n", ctl.barrier ? "ENDs" : "members");
			status = 3;
			break;
		}
	}
	if (ctl.done) {
		/* stay a member until told (SIGTERM): a watcher's leave must not
		 * fall into another watcher's window */
		printf("done\n");
		uint64_t t_done = perf_now_ns();
		while (!ctl_stop && !me.detached && (double)(perf_now_ns() - t_done) / 1e9 < ctl.timeout_s)
			if (ordo_wait(me.c, 256, 10) < 0)
				break;
	}
	if (!me.detached)
		ordo_detach(me.c);
	return status ? status : (ctl.done ? 0 : 1);
}

/* Polls x until its own view says in_view == want; 0, or -1 (timeout,
 * refused, detached, stopped). */
static int ctl_wait_own(void *ctx, int want)
{
	struct ctl_client *x = ctx;
	uint64_t t0 = perf_now_ns();
	while (!(x->y.got_view && x->y.in_view == want)) {
		if (x->refused || x->detached || ctl_stop || ordo_wait(x->c, 256, 10) < 0)
			return -1;
		if ((double)(perf_now_ns() - t0) / 1e9 > ctl.timeout_s) {
			fprintf(stderr, "ordo-perf: no view of %s %s itself after %.0f s\n", x->group,
				want ? "with" : "without", ctl.timeout_s);
			return -1;
		}
	}
	return 0;
}

static int ctl_join_role(void *ctx)
{
	struct ctl_client me = {.group = ctl.names[0]};
	struct ordo_callbacks cb = {.view = cl_view, .join_refused = cl_refused, .detached = cl_detached};
	if (ctl_attach(&me, ctx, &cb) != 0)
		return 1;
	perf_ctl_join_cycles(&ctl, &me.y, ctl_call, ctl_wait_own, &me, &ctl_stop);
	if (!me.detached)
		ordo_detach(me.c);
	return ctl.failed ? 1 : 0;
}

/* Sleeps on the clients' descriptors up to 2 ms, unless one has records. */
static void churn_sleep(struct ctl_client *cl, uint32_t k)
{
	struct pollfd pfd[PERF_CTL_CHURNERS_MAX];
	int ready = 0;
	for (uint32_t i = 0; i < k; i++) {
		pfd[i] = (struct pollfd){.fd = ordo_fd(cl[i].c), .events = POLLIN};
		ready |= ordo_prepare_sleep(cl[i].c) != 0;
	}
	if (!ready)
		(void)poll(pfd, k, 2);
}

static int ctl_churn(void *ctx)
{
	static struct ctl_client cl[PERF_CTL_CHURNERS_MAX];
	struct ordo_callbacks cb = {.view = cl_view, .join_refused = cl_refused, .detached = cl_detached};
	uint32_t k = ctl.churners;
	for (uint32_t i = 0; i < k; i++) {
		if (ctl_attach(&cl[i], ctx, &cb) != 0)
			return 1;
		cl[i].group = perf_ctl_churn_name(&ctl, cl[i].self.node, i);
		if (cl[i].group == NULL) {
			fprintf(stderr, "ordo-perf: node %u is past -m %u\n", cl[i].self.node, ctl.members);
			return 2;
		}
	}
	ctl.churn_start_ns = perf_now_ns();
	for (;;) {
		uint64_t now = perf_now_ns();
		int sending = perf_ctl_churn_sending(&ctl, now) && !ctl_stop, busy = 0, work = 0;
		for (uint32_t i = 0; i < k; i++) {
			int n = ordo_poll(cl[i].c, 256);
			if (n < 0 || cl[i].refused || cl[i].y.state < 0)
				ctl.failed = 1;
			work += n > 0 ? n : 0;
			work += perf_ctl_churn_step(&ctl, &cl[i].y, sending && !ctl.failed, ctl_call, &cl[i]);
			busy |= cl[i].y.state > 0;
		}
		if ((!busy && !sending) || ctl.failed || perf_ctl_churn_overdue(&ctl, now))
			break;
		if (work == 0)
			churn_sleep(cl, k);
	}
	ctl.churn_end_ns = perf_now_ns();
	for (uint32_t i = 0; i < k; i++)
		ordo_detach(cl[i].c);
	return ctl.failed ? 1 : 0;
}

int ordo_perf_control(const struct perf_config *cfg, const struct perf_cli *cli, const char *sock)
{
	static const struct perf_ctl_roles roles = {.watch = ctl_watch, .join = ctl_join_role, .churn = ctl_churn};
	signal(SIGINT, ctl_on_stop);
	signal(SIGTERM, ctl_on_stop);
	signal(SIGUSR1, ctl_on_usr1);
	return perf_ctl_run(&ctl, cfg, cli, ORDO_GROUP_NAME_MAX, &roles, (void *)sock);
}
