/* it_recv.c — ordo-it-recv, a receiver for the integration tests: like
 * ordo-sub, but it hashes every delivered message whole (ordo-sub's digest
 * covers the first 64 bytes of each), so a test can check that a large
 * message arrived byte for byte.
 *
 *   ordo-it-recv [-s SOCKET] [-n COUNT] GROUP
 *
 * Prints "joined <node>/<client>" once its own join shows in a view, then
 * one line per message:
 *   message <ring rep>:<ring seq>/<seq>.<index> from <node>/<client> size <bytes> fnv <fnv-1a 64, hex>
 * and, when it stops (COUNT messages, SIGTERM, or detached):
 *   received <count> messages, <bytes> bytes
 * Exit status 0, or 1 if it was detached or could not attach.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_attach.h"
#include "ordo.h"

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

struct recv {
	struct ordo_member self;
	int joined, detached;
	unsigned long long count, bytes;
};

static void on_message(void *ctx, const struct ordo_message *m)
{
	struct recv *r = ctx;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < m->size; i++)
		h = (h ^ ((const uint8_t *)m->data)[i]) * 0x100000001b3ull;
	r->count++;
	r->bytes += m->size;
	printf("message %u:%llu/%llu.%u from %u/%u size %zu fnv %016llx\n", m->position.ring.rep,
	       (unsigned long long)m->position.ring.seq, (unsigned long long)m->position.seq, m->position.index,
	       m->sender.node, m->sender.client, m->size, (unsigned long long)h);
}

static void on_view(void *ctx, const struct ordo_view *v)
{
	struct recv *r = ctx;
	for (uint32_t i = 0; i < v->member_count && !r->joined; i++)
		if (v->members[i].node == r->self.node && v->members[i].client == r->self.client) {
			r->joined = 1;
			printf("joined %u/%u\n", r->self.node, r->self.client);
		}
}

static void on_detached(void *ctx, int why)
{
	struct recv *r = ctx;
	r->detached = 1;
	fprintf(stderr, "ordo-it-recv: detached: %s\n", ordo_strerror(why));
}

int main(int argc, char **argv)
{
	const char *sock = "/run/ordo/ordo-n1.sock";
	unsigned long long limit = 0;
	int opt;
	while ((opt = getopt(argc, argv, "s:n:")) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'n': limit = strtoull(optarg, NULL, 10); break;
		default: optind = argc + 1; break;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: ordo-it-recv [-s SOCKET] [-n COUNT] GROUP\n");
		return 2;
	}
	const char *group = argv[optind];
	struct recv r = {0};
	struct ordo_callbacks cb = {.message = on_message, .view = on_view, .detached = on_detached};
	struct ordo_client *c = app_start(sock, "ordo-it-recv", &cb, &r, on_signal);
	r.self = ordo_self(c);
	int rc = ordo_join(c, group, strlen(group));
	if (rc != ORDO_OK) {
		fprintf(stderr, "ordo-it-recv: join %s: %s\n", group, ordo_strerror(rc));
		ordo_detach(c);
		return 1;
	}
	while (!stop && !r.detached && (limit == 0 || r.count < limit))
		if (ordo_wait(c, 64, 100) < 0)
			break;
	printf("received %llu messages, %llu bytes\n", r.count, r.bytes);
	ordo_detach(c);
	return r.detached ? 1 : 0;
}
