/* ordo-sub — joins groups on the local node and prints what it delivers:
 * messages with their place in the total order, sender and service; group
 * views; ring configurations.
 *
 *   ordo-sub [-s SOCKET] [-n COUNT] [-q] GROUP...
 *
 * -n: exit after COUNT messages; -q: print one summary line at the end
 * instead of one line per delivery (count, bytes, and a digest of the
 * delivered sequence, equal at every subscriber of the same groups).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_attach.h"
#include "ordo.h"
#include "ordo_digest.h"

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

struct sub {
	int quiet;
	uint64_t count, limit, bytes, digest;
};

static void on_message(void *ctx, const struct ordo_message *m)
{
	struct sub *s = ctx;
	s->count++;
	s->bytes += m->size;
	uint64_t h = ordo_mix64(((uint64_t)m->sender.node << 48) ^ m->sender.client ^ ((uint64_t)m->size << 20));
	for (size_t i = 0; i < m->size && i < 64; i++)
		h = ordo_mix64(h ^ ((const uint8_t *)m->data)[i]);
	s->digest = ordo_digest_add(s->digest, h);
	if (s->quiet)
		return;
	printf("message %u:%llu/%llu.%u from %u/%u %s prio %u group %.*s size %zu: ", m->position.ring.rep,
	       (unsigned long long)m->position.ring.seq, (unsigned long long)m->position.seq, m->position.index,
	       m->sender.node, m->sender.client, m->service == ORDO_SAFE ? "SAFE" : "AGREED", m->priority,
	       m->group_len, (const char *)m->group, m->size);
	size_t n = m->size < 48 ? m->size : 48;
	for (size_t i = 0; i < n; i++) {
		char ch = ((const char *)m->data)[i];
		putchar(ch >= 32 && ch < 127 ? ch : '.');
	}
	printf("%s\n", m->size > n ? "..." : "");
}

static const char *reason(enum ordo_reason r)
{
	static const char *const names[] = {"?", "join", "leave", "disconnect", "evicted", "node-left", "node-joined"};
	return (unsigned)r < 7 ? names[r] : "?";
}

static void on_view(void *ctx, const struct ordo_view *v)
{
	struct sub *s = ctx;
	if (s->quiet)
		return;
	printf("view group %.*s ring %u:%llu%s members", v->group_len, (const char *)v->group, v->ring.rep,
	       (unsigned long long)v->ring.seq, v->transitional ? " (transitional)" : "");
	for (uint32_t i = 0; i < v->member_count; i++)
		printf(" %u/%u", v->members[i].node, v->members[i].client);
	for (uint32_t i = 0; i < v->joined_count; i++)
		printf(" +%u/%u(%s)", v->joined[i].member.node, v->joined[i].member.client, reason(v->joined[i].reason));
	for (uint32_t i = 0; i < v->left_count; i++)
		printf(" -%u/%u(%s)", v->left[i].member.node, v->left[i].member.client, reason(v->left[i].reason));
	printf("\n");
}

static void on_config(void *ctx, const struct ordo_configuration *c)
{
	struct sub *s = ctx;
	if (s->quiet)
		return;
	printf("configuration %s %u:%llu nodes", c->transitional ? "transitional" : "regular", c->ring.rep,
	       (unsigned long long)c->ring.seq);
	for (uint32_t i = 0; i < c->node_count; i++)
		printf(" %u", c->nodes[i]);
	printf("%s\n", c->transitional ? "" : c->primary ? " primary" : " NOT primary");
}

static void on_detached(void *ctx, int why)
{
	(void)ctx;
	fprintf(stderr, "ordo-sub: %s%s\n", ordo_strerror(why),
		why == ORDO_EDETACHED ? ": the node stopped, or evicted this client (the node's log says which)" : "");
}

static const char usage_text[] =
	"usage: ordo-sub [-s SOCKET] [-n COUNT] [-q] GROUP...\n"
	"Joins the groups through a node and prints each delivery (its place in the total order,\n"
	"sender, service), group views and ring configurations.\n"
	"  -s SOCKET  the node's control socket ([node] socket; default /run/ordo/ordo-n1.sock)\n"
	"  -n COUNT   exit after COUNT messages\n"
	"  -q         one summary line at the end (count, bytes, digest of the delivered sequence)\n"
	"  -h, --help this text\n";

int main(int argc, char **argv)
{
	const char *sock = "/run/ordo/ordo-n1.sock";
	struct sub s = {0};
	int opt;
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	while ((opt = getopt_long(argc, argv, "s:n:qh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': sock = optarg; break;
		case 'n': s.limit = strtoull(optarg, NULL, 10); break;
		case 'q': s.quiet = 1; break;
		case 'h': fputs(usage_text, stdout); return 0;
		default:
			fputs(usage_text, stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "ordo-sub: no GROUP: name the groups to join (ordo-sub demo)\n%s", usage_text);
		return 2;
	}
	struct ordo_callbacks cb = {.message = on_message, .view = on_view, .configuration = on_config,
				    .detached = on_detached};
	struct ordo_client *c = app_start(sock, "ordo-sub", &cb, &s, on_signal);
	int rc;
	for (int i = optind; i < argc; i++) {
		rc = ordo_join(c, argv[i], strlen(argv[i]));
		if (rc != ORDO_OK) {
			fprintf(stderr, "ordo-sub: join %s: %s\n", argv[i], ordo_strerror(rc));
			ordo_detach(c);
			return 1;
		}
	}
	int status = 0;
	while (!stop && (s.limit == 0 || s.count < s.limit)) {
		rc = ordo_wait(c, 256, 100);
		if (rc < 0) {
			status = 1;
			break;
		}
	}
	if (s.quiet)
		printf("delivered %llu messages, %llu bytes, digest %016llx\n", (unsigned long long)s.count,
		       (unsigned long long)s.bytes, (unsigned long long)s.digest);
	ordo_detach(c);
	return status;
}
