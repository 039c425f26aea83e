/* attach_cost.c — the attach path's cost on one node: publish -> deliver
 * latency of a client's own messages at a fixed rate, and the most
 * messages per second one client can publish, either through a daemon's
 * shared-memory rings or with the engine in the same process.
 *
 *   attach-cost --socket PATH  [--rate N] [--count N] [--size B] [--flood S] [--on-full wait|spin]
 *   attach-cost --inproc CONFIG [...]
 *
 * The client joins a group, publishes `count` messages of `size` bytes at
 * `rate` per second (each carrying its send time), and records the time
 * from ordo_publish to its own delivery (the same clock: one process) in a
 * log-linear histogram; then it floods for `flood` seconds and reports the
 * publish rate the node sustained (messages accepted and delivered back).
 * The client polls with ordo_poll between sends (a busy client); the idle
 * strategy of the node is its configuration's. When publish finds no room
 * (ORDO_EAGAIN) the flood sleeps in ordo_wait until the node frees some
 * (`--on-full wait`, the default) or spins on ordo_poll (`spin`: the old
 * behaviour, which starves the node's worker whenever the scheduler puts
 * both on one CPU; docs/performance.md, "The flood collapse").
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ordo_inproc.h"
#include "perf_common.h" /* the log-linear histogram ordo-perf and cpg-perf use */

struct run {
	struct perf_hist lat;
	uint64_t delivered;
	int timing;
};

static void on_message(void *ctx, const struct ordo_message *m)
{
	struct run *r = ctx;
	r->delivered++;
	if (r->timing && m->size >= 8) {
		uint64_t sent;
		memcpy(&sent, m->data, 8);
		perf_hist_add(&r->lat, perf_now_ns() - sent);
	}
}

struct args {
	const char *sock, *inproc;
	uint64_t rate, count;
	size_t size;
	double flood_s;
	int spin; /* --on-full spin */
};

static int parse_args(int argc, char **argv, struct args *a)
{
	*a = (struct args){.rate = 1000, .count = 10000, .size = 1024, .flood_s = 3.0};
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--socket"))
			a->sock = argv[i + 1];
		else if (!strcmp(argv[i], "--inproc"))
			a->inproc = argv[i + 1];
		else if (!strcmp(argv[i], "--rate"))
			a->rate = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--count"))
			a->count = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--size"))
			a->size = strtoull(argv[i + 1], NULL, 10);
		else if (!strcmp(argv[i], "--flood"))
			a->flood_s = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--on-full"))
			a->spin = !strcmp(argv[i + 1], "spin") ? 1 : strcmp(argv[i + 1], "wait") ? -1 : 0;
	}
	if ((a->sock == NULL) == (a->inproc == NULL) || a->size < 8 || a->rate == 0 || a->spin < 0) {
		fprintf(stderr, "usage: attach-cost (--socket PATH | --inproc CONFIG) [--rate N] [--count N] [--size B] [--flood S] [--on-full wait|spin]\n");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct args a;
	if (parse_args(argc, argv, &a) != 0)
		return 2;
	struct run r;
	memset(&r, 0, sizeof(r));
	struct ordo_callbacks cb = {.message = on_message};
	struct ordo_client_opts o = {.callbacks = &cb, .ctx = &r, .name = "attach-cost"};
	struct ordo_engine *eng = NULL;
	struct ordo_client *c = NULL;
	int rc = a.inproc ? ordo_engine_start(a.inproc, &eng) : 0;
	if (rc == 0)
		rc = a.inproc ? ordo_attach_engine(eng, &o, &c) : ordo_attach(a.sock, &o, &c);
	if (rc != 0) {
		fprintf(stderr, "attach-cost: %s\n", ordo_strerror(rc));
		return 1;
	}
	const char *g = "attach-cost";
	if (ordo_join(c, g, strlen(g)) != 0)
		return 1;
	uint8_t *buf = calloc(1, a.size);
	/* wait for the join to take effect: our own first message comes back */
	uint64_t t_end = perf_now_ns() + 5000000000ull;
	while (r.delivered == 0 && perf_now_ns() < t_end) {
		(void)ordo_publish(c, g, strlen(g), buf, a.size, ORDO_AGREED, 1);
		uint64_t t = perf_now_ns() + 20000000u;
		while (r.delivered == 0 && perf_now_ns() < t)
			(void)ordo_poll(c, 64);
	}
	uint64_t settle = perf_now_ns() + 200000000u;
	while (perf_now_ns() < settle)
		(void)ordo_poll(c, 64);

	/* fixed rate: latency of each message to its own delivery */
	r.timing = 1;
	r.delivered = 0;
	uint64_t t0 = perf_now_ns(), gap = 1000000000u / a.rate;
	for (uint64_t i = 0; i < a.count; i++) {
		uint64_t due = t0 + i * gap;
		while (perf_now_ns() < due)
			(void)ordo_poll(c, 64);
		uint64_t t = perf_now_ns();
		memcpy(buf, &t, 8);
		while (ordo_publish(c, g, strlen(g), buf, a.size, ORDO_AGREED, 1) == ORDO_EAGAIN)
			(void)ordo_poll(c, 64);
	}
	t_end = perf_now_ns() + 2000000000ull;
	while (r.delivered < a.count && perf_now_ns() < t_end)
		(void)ordo_poll(c, 64);
	printf("%s, %zu B at %" PRIu64 " msg/s, %" PRIu64 " messages: publish->deliver p50 %.1f us, p99 %.1f us, p99.9 %.1f us, max %.1f us (%" PRIu64 " delivered)\n",
	       a.inproc ? "in-process" : "shared memory (daemon)", a.size, a.rate, a.count,
	       (double)perf_hist_quantile(&r.lat, 0.50) / 1e3, (double)perf_hist_quantile(&r.lat, 0.99) / 1e3,
	       (double)perf_hist_quantile(&r.lat, 0.999) / 1e3, (double)r.lat.max / 1e3, r.delivered);

	/* flood: the most one client can publish (and have delivered back) */
	r.timing = 0;
	r.delivered = 0;
	uint64_t sent = 0;
	t0 = perf_now_ns();
	t_end = t0 + (uint64_t)(a.flood_s * 1e9);
	while (perf_now_ns() < t_end) {
		if (ordo_publish(c, g, strlen(g), buf, a.size, ORDO_AGREED, 1) >= 0)
			sent++;
		else if (a.spin)
			(void)ordo_poll(c, 256);
		else
			(void)ordo_wait(c, 256, 10);
	}
	uint64_t t1 = perf_now_ns(), drain_end = t1 + 3000000000ull;
	while (r.delivered < sent && perf_now_ns() < drain_end)
		(void)ordo_poll(c, 256);
	double secs = (double)(t1 - t0) / 1e9;
	printf("%s, %zu B flood for %.1f s (%s when full): %.0f msgs/s published, %" PRIu64 " of %" PRIu64 " delivered back\n",
	       a.inproc ? "in-process" : "shared memory (daemon)", a.size, secs, a.spin ? "spin" : "wait", (double)sent / secs,
	       r.delivered, sent);
	ordo_detach(c);
	if (eng != NULL)
		ordo_engine_stop(eng);
	free(buf);
	return 0;
}
