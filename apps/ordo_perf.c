/* ordo-perf — ordo's throughput and latency tool (the role of corosync's
 * cpgbench and Spread's spflooder), on libordo.
 *
 *   ordo-perf [-s SOCKET] [-g GROUP] [-R send|recv|both] [-z SIZE] [-r RATE]
 *             [-d SECONDS] [-S] [-n SENDERS] [-m MEMBERS] [-p PID] [-j FILE]
 *
 * Every instance joins GROUP on its node and waits until the group's view
 * has MEMBERS members (default: SENDERS), so that every sender starts at
 * the same point of the total order and every receiver sees every message.
 * A sender (role send or both) then publishes SIZE-byte messages for
 * SECONDS, at RATE messages per second (0: flood, as fast as the submit
 * ring takes them), then one END message. A receiver (recv or both) stops
 * once it has delivered the END of SENDERS senders, and reports delivered
 * msgs/s and MB/s, send-to-deliver latency percentiles (the clock is
 * CLOCK_MONOTONIC, shared by every process on the host), a digest of the
 * delivered sequence (equal at every receiver iff they delivered the same
 * messages in the same order), per-sender sequence gaps, and the engine's
 * CPU time per delivered message (ordod's utime + stime from /proc; the
 * daemon's pid is found through the control socket's SO_PEERCRED unless
 * given with -p). A human-readable table on stdout; JSON with -j.
 *
 * The message header, histogram and reports are shared with cpg-perf
 * (bench/cpg_perf.c), corosync's counterpart: apps/perf_common.h.
 *
 * Receives in pieces (ORDO_RECEIVE_PIECES): no copy of a large message
 * (it reads the header only); publishes with ordo_publish, one copy.
 *
 * Single-threaded: publishes a batch (what is due at a fixed rate, 64
 * messages in flood), then drains every delivery waiting, and sleeps on
 * ordo_fd (ppoll, ns timeout) when there is nothing to do, until the next
 * send is due or a delivery arrives. Draining before publishing more keeps
 * a flooding client from falling behind its own deliveries (the node
 * evicts a client whose overflow queue fills, docs/attach.md §6).
 */
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "app_attach.h"
#include "ordo.h"
#include "ordo_perf_control.h"
#include "perf_common.h"

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

struct perf {
	struct perf_state st;
	const char *group;
	size_t group_len;
	uint32_t view_members;
	int barrier;          /* the view reached MEMBERS */
	int detached;
};

static void on_message(void *ctx, const struct ordo_message *m)
{
	struct perf *p = ctx;
	if (m->group_len != p->group_len || memcmp(m->group, p->group, p->group_len) != 0)
		return;
	if (!p->barrier) /* a message before our view completed: not part of the run */
		return;
	/* in pieces (ORDO_RECEIVE_PIECES): only the header is read, copied
	 * out of the first pieces; the rest of the message is never touched */
	uint8_t hdr[PERF_HDR_SIZE];
	const void *d = m->data;
	if (d == NULL) {
		ordo_message_copy(m, 0, hdr, sizeof(hdr));
		d = hdr;
	}
	perf_on_deliver(&p->st, d, m->size);
}

static void on_view(void *ctx, const struct ordo_view *v)
{
	struct perf *p = ctx;
	if (v->group_len != p->group_len || memcmp(v->group, p->group, p->group_len) != 0 || v->transitional)
		return;
	p->view_members = v->member_count;
	if (v->member_count >= p->st.cfg.members)
		p->barrier = 1;
}

static void on_detached(void *ctx, int why)
{
	struct perf *p = ctx;
	p->detached = 1;
	fprintf(stderr, "ordo-perf: detached: %s\n", ordo_strerror(why));
}

/* The pid of the process listening on a Unix socket (SO_PEERCRED of a
 * connection: the credentials of the listener at listen()). 0 if unknown. */
static long socket_peer_pid(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return 0;
	strcpy(a.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	long pid = 0;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		struct ucred cr;
		socklen_t len = sizeof(cr);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0)
			pid = cr.pid;
	}
	close(fd);
	return pid;
}

struct publisher {
	struct ordo_client *c;
	const struct perf *p;
	uint32_t size;
	enum ordo_service service;
	unsigned priority;
};

static enum perf_pub publish(void *ctx, const uint8_t *buf)
{
	const struct publisher *u = ctx;
	int64_t r = ordo_publish(u->c, u->p->group, u->p->group_len, buf, u->size, u->service, u->priority);
	if (r >= 0)
		return PERF_PUB_OK;
	if (r == ORDO_EAGAIN)
		return PERF_PUB_FULL;
	fprintf(stderr, "ordo-perf: publish: %s\n", ordo_strerror((int)r));
	return PERF_PUB_ERROR;
}

/* Attaches, in libordo's cheapest receive mode: a message larger than a
 * frame is handed over as its pieces in the delivery ring, not assembled
 * by a copy (docs/attach.md §9); publishing copies each message once into
 * the submit ring, as cpg_mcast_joined copies it into libqb's
 * (ordo_publish_reserve would not save it: the message already lies in
 * a buffer, and writing it in place is the same copy). */
static struct ordo_client *perf_attach(struct perf *p, const char *sock, const struct ordo_client_opts *o)
{
	struct ordo_client *c = app_attach(sock, o);
	if (c == NULL)
		return NULL;
	(void)ordo_set_receive_mode(c, ORDO_RECEIVE_PIECES);
	struct ordo_member self = ordo_self(c);
	p->st.self_node = self.node;
	p->st.self_id = self.client;
	return c;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ordo-perf [options]\n"
		"  -s, --socket PATH     the node's control socket (default /run/ordo/ordo-n1.sock)\n"
		"  -g, --group NAME      group (default perf)\n" PERF_USAGE_WORKLOAD
		"  -S, --safe            SAFE delivery (default AGREED)\n"
		"  -P, --priority N      0 (highest) .. 2 (default 1)\n" PERF_USAGE_MEMBERS
		"  -p, --pid PID         the node's pid for its CPU time (default: found through the socket)\n"
		PERF_USAGE_OUTPUT
		"      --ring-kib K      submit and delivery ring size in KiB (default: the node's)\n"
		PERF_USAGE_QUIET PERF_USAGE_CONTROL,
		PERF_HDR_SIZE);
}

/* ordo-perf's own options: the node's socket, the priority, ring sizes. */
struct ordo_opts {
	const char *sock;
	unsigned prio, ring_kib;
};

static int ordo_opt(int opt, const char *arg, void *ctx)
{
	struct ordo_opts *o = ctx;
	switch (opt) {
	case 's': o->sock = arg; return 0;
	case 'P': o->prio = (unsigned)atoi(arg); return 0;
	case 'K': o->ring_kib = (unsigned)atoi(arg); return 0;
	}
	return -1;
}

/* The start barrier: the view with every member, at one point of the
 * order. 0, 3 on timeout, 1 if the run ended first. */
static int wait_barrier(struct ordo_client *c, struct perf *p, double timeout_s)
{
	uint64_t t_wait = perf_now_ns();
	while (!p->barrier && !stop && !p->detached) {
		if (ordo_wait(c, 256, 50) < 0)
			break;
		if ((double)(perf_now_ns() - t_wait) / 1e9 > timeout_s) {
			fprintf(stderr, "ordo-perf: timeout after %.0f s waiting for %u members in %s (have %u)\n",
				timeout_s, p->st.cfg.members, p->group, p->view_members);
			return 3;
		}
	}
	return p->barrier ? 0 : 1;
}

int main(int argc, char **argv)
{
	static struct perf p; /* large: the histogram */
	struct perf_config *cfg = &p.st.cfg;
	*cfg = (struct perf_config){.tool = "ordo-perf", .system = "ordo", .group = "perf", .role = "both",
				    .service = "agreed", .transport = "ordod", .size = 1024, .senders = 1,
				    .duration_s = 5};
	static const struct option own[] = {{"socket", required_argument, 0, 's'},
					    {"priority", required_argument, 0, 'P'},
					    {"ring-kib", required_argument, 0, 'K'},
					    {0, 0, 0, 0}};
	struct ordo_opts oo = {.sock = "/run/ordo/ordo-n1.sock", .prio = 1};
	struct perf_cli cli;
	int prc = perf_parse_args(argc, argv, cfg, &cli, "s:P:K:", own, ordo_opt, &oo, usage);
	if (prc != 0 || cli.control != NULL) /* --control: apps/perf_control.h */
		return prc == 1 ? 0 : prc != 0 ? 2 : ordo_perf_control(cfg, &cli, oo.sock);
	const char *sock = oo.sock, *json = cli.json;
	double timeout_s = cli.timeout_s;
	unsigned prio = oo.prio, ring_kib = oo.ring_kib;
	int quiet = cli.quiet;
	enum ordo_service svc = cli.safe ? ORDO_SAFE : ORDO_AGREED;
	struct perf_run run;
	if (perf_check_args(cfg, &run, ORDO_GROUP_NAME_MAX) != 0) {
		usage(stderr);
		return 2;
	}
	run.full_wakes = 1; /* after ORDO_EAGAIN, ordo_fd wakes when the node frees room */
	p.group = cfg->group;
	p.group_len = strlen(cfg->group);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	(void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0); /* wake on time for a fixed rate */

	uint8_t *buf = perf_payload(cfg->size);
	if (buf == NULL)
		return 1;

	if (cfg->engine_pid == 0)
		cfg->engine_pid = socket_peer_pid(sock);
	struct ordo_callbacks cb = {.message = on_message, .view = on_view, .detached = on_detached};
	struct ordo_client_opts o = {.callbacks = &cb, .ctx = &p, .name = "ordo-perf",
				     .submit_ring_size = ring_kib << 10, .delivery_ring_size = ring_kib << 10};
	struct ordo_client *c = perf_attach(&p, sock, &o);
	if (c == NULL)
		return 1;
	if (cfg->size > ordo_max_message_size(c)) {
		fprintf(stderr, "ordo-perf: %u B is larger than the node's max_message_size %zu\n", cfg->size,
			ordo_max_message_size(c));
		ordo_detach(c);
		return 2;
	}
	int rc = ordo_join(c, p.group, p.group_len);
	if (rc != ORDO_OK) {
		fprintf(stderr, "ordo-perf: join %s: %s\n", p.group, ordo_strerror(rc));
		ordo_detach(c);
		return 1;
	}

	int brc = wait_barrier(c, &p, timeout_s);
	if (brc != 0) {
		ordo_detach(c);
		return brc;
	}

	perf_run_start(&p.st, &run);
	struct publisher pub = {.c = c, .p = &p, .size = cfg->size, .service = svc, .priority = prio};
	int fd = ordo_fd(c);
	int status = 0;
	while (!stop && !p.detached) {
		int sent = perf_send_step(&p.st, &run, buf, perf_now_ns(), publish, &pub);
		if (sent < 0) {
			status = 1;
			break;
		}
		unsigned work = (unsigned)sent;
		/* drain what was delivered before publishing more: a flooding
		 * client that falls behind its own deliveries would be evicted
		 * (docs/attach.md §6) */
		int n;
		unsigned rounds = 0;
		do {
			n = ordo_poll(c, 1024);
			if (n > 0)
				work += (unsigned)n;
		} while (n == 1024 && ++rounds < 64);
		if (n < 0)
			break;
		uint64_t sleep_ns = 0;
		int next = perf_after_step(&p.st, &run, work, &sleep_ns);
		if (next < 0)
			break;
		/* (the wake-up is consumed by the next ordo_prepare_sleep) */
		if (next > 0 && ordo_prepare_sleep(c) == 0)
			(void)perf_sleep_on(fd, sleep_ns);
	}
	perf_run_end(&p.st, &run, stop || p.detached);
	ordo_detach(c);
	free(buf);
	return perf_report(&p.st, &run, quiet, json, status);
}
