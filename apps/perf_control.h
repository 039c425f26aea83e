/* perf_control.h — control messaging, what ordo-perf --control
 * (apps/ordo_perf_control.c) and cpg-perf --control (bench/cpg_control.c)
 * share: the group names, the bookkeeping of views and ring
 * configurations, the view-sequence digest, the END handshake and the JSON.
 * A tool brings only its transport (attach, join, leave, publish, poll).
 * Measured by scripts/lib/control.py (docs/performance.md §7, "Control
 * messaging against CPG").
 *
 * Three roles (--control MODE), one process each:
 *   watch  a member that stays: joins the churn groups GROUP.<n>.<k> (n in
 *          1..MEMBERS, k < CHURNERS), then GROUP (the control group), and
 *          records every view of GROUP and every ring configuration with
 *          its CLOCK_MONOTONIC time (shared by every process on the host,
 *          network namespaces or not). From the view of GROUP that first
 *          holds MEMBERS members (the barrier, the same view at every
 *          watcher) it folds every view of every group into a digest, and
 *          prints "ready". On SIGUSR1 (or after --duration s) it publishes
 *          one END to GROUP; it stops at the END that makes as many ENDs as
 *          the smaller of MEMBERS and GROUP's current members. The digest
 *          is one running digest per group, folded in group order at the
 *          end: watchers that delivered the same views of each group
 *          between the barrier and that END have the same digest.
 *          The churn groups are joined before GROUP: a client's joins are
 *          ordered in the order it made them, so once the barrier view is
 *          ordered every watcher is a member of every group. With ordo one
 *          client is in every group and its views are one total order, so
 *          the window is exact (`exact`). A CPG handle is in one group
 *          only: a watcher has one handle per group, whose streams it
 *          dispatches one after the other; it counts the churn groups'
 *          views (`churn_on`) from a drain of every handle after the
 *          barrier until a drain after the last END — sound because the
 *          churners start after every watcher said "ready" and stop
 *          before the ENDs are asked for (scripts/lib/control.py).
 *   join   joins GROUP, waits for its own view holding itself, leaves,
 *          waits for its own view without itself, sleeps --gap ms, --cycles
 *          times; records the time of each call and of each own view. The
 *          join latency of a cycle (until every member has the view) is
 *          computed afterwards from its JSON and the watchers'.
 *   churn  --churners clients (handles), client k cycling join/leave on
 *          GROUP.<node>.<k> as fast as the views come back, for --duration
 *          s; counts the changes.
 *
 * Header-only, libc only: cpg-perf is built outside meson.
 */
#ifndef PERF_CONTROL_H
#define PERF_CONTROL_H

#include <signal.h>

#include "perf_common.h"

#define PERF_CTL_CHURNERS_MAX 16u
#define PERF_CTL_NODES_MAX 16u
#define PERF_CTL_GROUPS_MAX (1u + PERF_CTL_NODES_MAX * PERF_CTL_CHURNERS_MAX)
#define PERF_CTL_NAME_MAX 48u
#define PERF_CTL_VIEWS_MAX 8192u   /* views of GROUP recorded with their time */
#define PERF_CTL_CONFS_MAX 256u    /* ring configurations recorded */
#define PERF_CTL_CYCLES_MAX 10000u
#define PERF_CTL_END 0xC7E5u       /* the END message's first two bytes */

enum perf_ctl_mode { PERF_CTL_NONE = 0, PERF_CTL_WATCH, PERF_CTL_JOIN, PERF_CTL_CHURN };

static inline enum perf_ctl_mode perf_ctl_mode(const char *s)
{
	if (s == NULL)
		return PERF_CTL_NONE;
	if (strcmp(s, "watch") == 0)
		return PERF_CTL_WATCH;
	if (strcmp(s, "join") == 0)
		return PERF_CTL_JOIN;
	if (strcmp(s, "churn") == 0)
		return PERF_CTL_CHURN;
	return PERF_CTL_NONE;
}

struct perf_ctl_member {
	uint32_t node, id;
	uint32_t reason; /* left members: the system's reason code */
};

/* One view of GROUP, or (group -1) one ring configuration. */
struct perf_ctl_view {
	uint64_t t_ns;
	int32_t group;
	uint32_t members, joined_count, left_count;
	int transitional;
	struct perf_ctl_member joined, left; /* the first of each list */
	uint64_t left_nodes;                 /* bit n: a member of node n (< 64) left */
};

struct perf_ctl_cycle {
	uint64_t join_ns, joined_ns, leave_ns, left_ns;
};

struct perf_ctl {
	enum perf_ctl_mode mode;
	const char *tool, *system;
	uint32_t members;    /* -m: watchers (one per node) */
	uint32_t churners;   /* --churners */
	uint32_t cycles;     /* --cycles */
	uint32_t gap_ms;     /* --gap */
	double duration_s, timeout_s;
	uint32_t self_node, self_id;
	char names[PERF_CTL_GROUPS_MAX][PERF_CTL_NAME_MAX];
	uint32_t ngroups;
	/* watch */
	uint32_t group_members;  /* GROUP's current view */
	int barrier, end_sent, done;
	uint64_t barrier_ns, end_ns, done_ns;
	uint32_t ends;
	uint64_t gdigest[PERF_CTL_GROUPS_MAX], digested;
	int exact;               /* one ordered stream: churn_on follows the barrier and the END */
	int churn_on;            /* count and digest the churn groups' views */
	uint64_t churn_views, churn_first_ns, churn_last_ns;
	struct perf_ctl_view rec[PERF_CTL_VIEWS_MAX];
	uint32_t nrec, rec_dropped;
	/* join */
	struct perf_ctl_cycle cyc[PERF_CTL_CYCLES_MAX];
	uint32_t ncyc;
	/* churn */
	uint64_t ops, churn_start_ns, churn_end_ns;
	uint64_t renew_ns, renews; /* CPG: time spent replacing handles to join again */
	uint64_t call_ns, retries; /* time in join/leave calls; calls the system asked to retry */
	int failed;
};

/* The group names: index 0 is GROUP, then GROUP.<n>.<k>. Returns -1 if a
 * name is longer than name_max or there are too many. */
static inline int perf_ctl_names(struct perf_ctl *c, const char *group, size_t name_max)
{
	if (c->members > PERF_CTL_NODES_MAX || c->churners > PERF_CTL_CHURNERS_MAX)
		return -1;
	snprintf(c->names[0], PERF_CTL_NAME_MAX, "%s", group);
	c->ngroups = 1;
	for (uint32_t n = 1; n <= c->members; n++)
		for (uint32_t k = 0; k < c->churners; k++)
			snprintf(c->names[c->ngroups++], PERF_CTL_NAME_MAX, "%s.%u.%u", group, n, k);
	for (uint32_t i = 0; i < c->ngroups; i++)
		if (strlen(c->names[i]) > name_max || strlen(c->names[i]) + 1 >= PERF_CTL_NAME_MAX)
			return -1;
	return 0;
}

/* The churn group of this node's client k. */
static inline const char *perf_ctl_churn_name(const struct perf_ctl *c, uint32_t node, uint32_t k)
{
	if (node < 1 || node > c->members || k >= c->churners)
		return NULL;
	return c->names[1 + (node - 1) * c->churners + k];
}

static inline int perf_ctl_group_index(const struct perf_ctl *c, const void *name, size_t len)
{
	for (uint32_t i = 0; i < c->ngroups; i++)
		if (strlen(c->names[i]) == len && memcmp(c->names[i], name, len) == 0)
			return (int)i;
	return -1;
}

static inline int perf_ctl_member_cmp(const void *a, const void *b)
{
	const struct perf_ctl_member *x = a, *y = b;
	if (x->node != y->node)
		return x->node < y->node ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* A watcher's view of group gi (members need not be sorted: sorted here,
 * in place; joined and left: the first of each list; left_nodes: bit n set
 * if a member of node n left). Updates the barrier, the digest and the counts; records the
 * views of GROUP. */
static inline void perf_ctl_on_view(struct perf_ctl *c, int gi, int transitional, struct perf_ctl_member *members,
				    uint32_t n, const struct perf_ctl_member *joined, uint32_t nj,
				    const struct perf_ctl_member *left, uint32_t nl, uint64_t left_nodes)
{
	uint64_t now = perf_now_ns();
	if (gi < 0)
		return;
	qsort(members, n, sizeof(*members), perf_ctl_member_cmp);
	if (gi == 0)
		c->group_members = n; /* ordo: a node's leave comes as a transitional view */
	if (gi == 0 && !transitional) {
		if (!c->barrier && n >= c->members) {
			c->barrier = 1;
			c->barrier_ns = now;
		}
	}
	if (gi == 0 && c->barrier) /* progress for scripts/lib/control.py */
		printf("view %u %" PRIu64 "%s\n", n, now, transitional ? " transitional" : "");
	if (gi == 0) {
		if (c->nrec < PERF_CTL_VIEWS_MAX) {
			struct perf_ctl_view *v = &c->rec[c->nrec++];
			*v = (struct perf_ctl_view){.t_ns = now, .group = gi, .members = n, .joined_count = nj,
						    .left_count = nl, .transitional = transitional};
			if (nj > 0)
				v->joined = joined[0];
			if (nl > 0)
				v->left = left[0];
			v->left_nodes = left_nodes;
		} else {
			c->rec_dropped++;
		}
	}
	int on = gi == 0 || c->exact ? c->barrier && !c->done : c->churn_on;
	if (!on)
		return;
	if (gi > 0) {
		if (c->churn_views == 0)
			c->churn_first_ns = now;
		c->churn_views++;
		c->churn_last_ns = now;
	}
	uint64_t d = ordo_mix64(((uint64_t)n << 1) ^ (uint64_t)(transitional != 0));
	for (uint32_t i = 0; i < n; i++)
		d = ordo_digest_add(d, ((uint64_t)members[i].node << 32) ^ members[i].id);
	c->gdigest[gi] = ordo_digest_add(c->gdigest[gi], d);
	c->digested++;
}

/* The bit of a node in a view's left_nodes (nodes past 63: none). */
static inline uint64_t perf_ctl_node_bit(uint32_t node)
{
	return node < 64 ? 1ull << node : 0;
}

/* The watcher's digest: every group's, in group order. */
static inline uint64_t perf_ctl_digest(const struct perf_ctl *c)
{
	uint64_t d = 0;
	for (uint32_t i = 0; i < c->ngroups; i++)
		d = ordo_digest_add(d, ordo_mix64(c->gdigest[i] ^ i));
	return d;
}

/* A ring configuration (ordo: the configuration callback; CPG: the totem
 * ring change). Recorded with group -1, members = its nodes. */
static inline void perf_ctl_on_config(struct perf_ctl *c, int transitional, uint32_t nodes)
{
	if (c->nrec >= PERF_CTL_VIEWS_MAX) {
		c->rec_dropped++;
		return;
	}
	c->rec[c->nrec++] = (struct perf_ctl_view){.t_ns = perf_now_ns(), .group = -1, .members = nodes,
						   .transitional = transitional};
}

/* A message delivered to GROUP: an END counts (from the barrier on). */
static inline void perf_ctl_on_message(struct perf_ctl *c, const void *data, size_t size)
{
	uint16_t k;
	if (size < sizeof(k) || !c->barrier || c->done)
		return;
	memcpy(&k, data, sizeof(k));
	if (k != PERF_CTL_END)
		return;
	c->ends++;
	uint32_t want = c->group_members < c->members ? c->group_members : c->members;
	if (c->ends >= want) {
		c->done = 1;
		c->done_ns = perf_now_ns();
	}
}

/* The watcher should publish its END now: asked (SIGUSR1) or its duration
 * since the barrier passed. */
static inline int perf_ctl_end_due(const struct perf_ctl *c, int asked)
{
	if (!c->barrier || c->end_sent)
		return 0;
	return asked || (double)(perf_now_ns() - c->barrier_ns) / 1e9 > c->duration_s;
}

/* The watcher waited past its timeout: for the members (before the barrier,
 * since t0) or for the ENDs (after it, the run's duration more). */
static inline int perf_ctl_timed_out(const struct perf_ctl *c, uint64_t t0)
{
	double waited = (double)(perf_now_ns() - (c->barrier ? c->barrier_ns : t0)) / 1e9;
	return waited > c->timeout_s + (c->barrier ? c->duration_s : 0);
}

/* A churner at now (perf_now_ns) since churn_start_ns: still within the
 * run's duration (it sends), or past the duration and the timeout (it must
 * stop, done or not). */
static inline int perf_ctl_churn_sending(const struct perf_ctl *c, uint64_t now)
{
	return now - c->churn_start_ns < (uint64_t)(c->duration_s * 1e9);
}

static inline int perf_ctl_churn_overdue(const struct perf_ctl *c, uint64_t now)
{
	return now - c->churn_start_ns > (uint64_t)(c->duration_s * 1e9) + (uint64_t)(c->timeout_s * 1e9);
}

static inline void perf_ctl_json_member(FILE *f, const char *k, const struct perf_ctl_member *m, uint32_t count)
{
	if (count == 0)
		fprintf(f, ", \"%s\": null", k);
	else
		fprintf(f, ", \"%s\": [%u, %u, %u]", k, m->node, m->id, m->reason);
}

static inline void perf_ctl_json_watch(FILE *f, const struct perf_ctl *c)
{
	fprintf(f, "  \"barrier_ns\": %" PRIu64 ",\n  \"done_ns\": %" PRIu64 ",\n  \"complete\": %s,\n",
		c->barrier_ns, c->done_ns, c->done ? "true" : "false");
	fprintf(f, "  \"ends\": %u,\n  \"digest\": \"%016" PRIx64 "\",\n  \"views_digested\": %" PRIu64 ",\n",
		c->ends, perf_ctl_digest(c), c->digested);
	fprintf(f, "  \"churn_views\": %" PRIu64 ",\n  \"churn_first_ns\": %" PRIu64 ",\n  \"churn_last_ns\": %" PRIu64
		",\n", c->churn_views, c->churn_first_ns, c->churn_last_ns);
	fprintf(f, "  \"views_dropped\": %u,\n  \"views\": [", c->rec_dropped);
	for (uint32_t i = 0; i < c->nrec; i++) {
		const struct perf_ctl_view *v = &c->rec[i];
		fprintf(f, "%s\n    {\"t_ns\": %" PRIu64 ", \"group\": %d, \"members\": %u, \"transitional\": %s, "
			"\"joined_count\": %u, \"left_count\": %u",
			i ? "," : "", v->t_ns, v->group, v->members, v->transitional ? "true" : "false",
			v->joined_count, v->left_count);
		perf_ctl_json_member(f, "joined", &v->joined, v->joined_count);
		perf_ctl_json_member(f, "left", &v->left, v->left_count);
		fprintf(f, ", \"left_nodes\": %" PRIu64 "}", v->left_nodes);
	}
	fprintf(f, "\n  ],\n");
}

static inline void perf_ctl_json_join(FILE *f, const struct perf_ctl *c)
{
	fprintf(f, "  \"cycles\": [");
	for (uint32_t i = 0; i < c->ncyc; i++) {
		const struct perf_ctl_cycle *y = &c->cyc[i];
		fprintf(f, "%s\n    {\"join_ns\": %" PRIu64 ", \"joined_ns\": %" PRIu64 ", \"leave_ns\": %" PRIu64
			", \"left_ns\": %" PRIu64 "}", i ? "," : "", y->join_ns, y->joined_ns, y->leave_ns, y->left_ns);
	}
	fprintf(f, "\n  ],\n");
}

/* Writes the role's JSON (path "-": stdout). 0, or -1. */
static inline int perf_ctl_write_json(const char *path, const struct perf_ctl *c, const char *group)
{
	static const char *const mode[] = {"none", "watch", "join", "churn"};
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "{\n");
	perf_json_str(f, "tool", c->tool, 1);
	perf_json_str(f, "system", c->system, 1);
	perf_json_str(f, "mode", mode[c->mode], 1);
	perf_json_str(f, "group", group, 1);
	fprintf(f, "  \"node\": %u,\n  \"id\": %u,\n  \"members\": %u,\n  \"churners\": %u,\n", c->self_node,
		c->self_id, c->members, c->churners);
	if (c->mode == PERF_CTL_WATCH)
		perf_ctl_json_watch(f, c);
	else if (c->mode == PERF_CTL_JOIN)
		perf_ctl_json_join(f, c);
	else
		fprintf(f, "  \"ops\": %" PRIu64 ",\n  \"start_ns\": %" PRIu64 ",\n  \"end_ns\": %" PRIu64 ",\n",
			c->ops, c->churn_start_ns, c->churn_end_ns);
	fprintf(f, "  \"renews\": %" PRIu64 ",\n  \"renew_ns\": %" PRIu64 ",\n  \"call_ns\": %" PRIu64
		",\n  \"retries\": %" PRIu64 ",\n", c->renews, c->renew_ns, c->call_ns, c->retries);
	fprintf(f, "  \"failed\": %s\n}\n", c->failed ? "true" : "false");
	if (f != stdout)
		return fclose(f) == 0 ? 0 : -1;
	fflush(f);
	return 0;
}

/* Fills the control settings from the command line; -1 for bad ones. */
static inline int perf_ctl_setup(struct perf_ctl *c, const struct perf_config *cfg, const struct perf_cli *cli,
				 size_t name_max)
{
	c->mode = perf_ctl_mode(cli->control);
	c->tool = cfg->tool;
	c->system = cfg->system;
	c->members = cfg->members ? cfg->members : 3;
	c->churners = cli->churners;
	c->cycles = cli->cycles;
	c->gap_ms = cli->gap_ms;
	c->duration_s = cfg->duration_s;
	c->timeout_s = cli->timeout_s;
	if (c->mode == PERF_CTL_NONE || c->cycles > PERF_CTL_CYCLES_MAX || c->churners < 1 || c->members < 1) {
		fprintf(stderr, "%s: --control watch|join|churn, --cycles <= %u, --churners 1..%u, -m >= 1\n",
			cfg->tool, PERF_CTL_CYCLES_MAX, PERF_CTL_CHURNERS_MAX);
		return -1;
	}
	if (perf_ctl_names(c, cfg->group, name_max) != 0) {
		fprintf(stderr, "%s: group names %s.<node>.<k> too long or too many (-m %u, --churners %u)\n",
			cfg->tool, cfg->group, c->members, c->churners);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- join and churn
 * A client cycling on one group: join, its own view with itself, leave, its
 * own view without itself. The tool's view callback sets got_view, in_view
 * and view_ns; call() makes the join (join 1) or leave (0) and returns 0 or -1. */
struct perf_ctl_cycler {
	int state;          /* 0: out, 1: joining, 2: leaving, -1: a call failed */
	int got_view, in_view;
	uint64_t view_ns;   /* when the callback delivered the last own view */
};

typedef int (*perf_ctl_call_fn)(void *ctx, int join);

/* One step of a churning client: the next call once its view came back,
 * a new join only while sending. Returns 1 if it made a call. */
static inline int perf_ctl_churn_step(struct perf_ctl *c, struct perf_ctl_cycler *y, int sending,
				      perf_ctl_call_fn call, void *ctx)
{
	if (y->state == 1 && y->got_view && y->in_view) {
		c->ops++;
		y->got_view = 0;
		y->state = call(ctx, 0) == 0 ? 2 : -1;
		return 1;
	}
	if ((y->state == 2 && y->got_view && !y->in_view) || (y->state == 0 && sending)) {
		if (y->state == 2)
			c->ops++;
		y->state = 0;
		if (!sending)
			return 0;
		y->got_view = 0;
		y->state = call(ctx, 1) == 0 ? 1 : -1;
		return 1;
	}
	return 0;
}

/* The join role's cycles: wait(ctx, want) polls until the own view says
 * in_view == want (0, or -1 on a timeout or failure). Records each call's
 * and view's time; stops at the first failure or when *stop is set. */
static inline void perf_ctl_join_cycles(struct perf_ctl *c, struct perf_ctl_cycler *y, perf_ctl_call_fn call,
					int (*wait)(void *ctx, int want), void *ctx, volatile sig_atomic_t *stop)
{
	for (uint32_t i = 0; i < c->cycles && !c->failed && !*stop; i++) {
		struct perf_ctl_cycle *t = &c->cyc[c->ncyc];
		for (int join = 1; join >= 0 && !c->failed; join--) {
			y->got_view = 0;
			uint64_t t0 = perf_now_ns();
			if (call(ctx, join) != 0 || wait(ctx, join) != 0)
				c->failed = 1;
			*(join ? &t->join_ns : &t->leave_ns) = t0;
			*(join ? &t->joined_ns : &t->left_ns) = y->view_ns;
		}
		if (c->failed)
			break;
		c->ncyc++;
		struct timespec gap = {(time_t)(c->gap_ms / 1000u), (long)(c->gap_ms % 1000u) * 1000000L};
		nanosleep(&gap, NULL);
	}
}

/* A tool's three roles. */
struct perf_ctl_roles {
	int (*watch)(void *ctx);
	int (*join)(void *ctx);
	int (*churn)(void *ctx);
};

/* Runs the role cli->control and writes cli->json; the exit status. */
static inline int perf_ctl_run(struct perf_ctl *c, const struct perf_config *cfg, const struct perf_cli *cli,
			       size_t name_max, const struct perf_ctl_roles *roles, void *ctx)
{
	if (perf_ctl_setup(c, cfg, cli, name_max) != 0)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	int status = c->mode == PERF_CTL_WATCH ? roles->watch(ctx)
		     : c->mode == PERF_CTL_JOIN ? roles->join(ctx) : roles->churn(ctx);
	if (cli->json != NULL && perf_ctl_write_json(cli->json, c, cfg->group) != 0) {
		fprintf(stderr, "%s: cannot write %s\n", cfg->tool, cli->json);
		status = status ? status : 1;
	}
	return status;
}

#endif
