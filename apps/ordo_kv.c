/* ordo-kv — a replicated key-value store on libordo (a demo).
 *
 *   ordo-kv [-s SOCKET] [-g GROUP] [-n UPDATES] [-k KEYS] [-w SECONDS] [-m MEMBERS] [-v COUNT]
 *
 * Every instance joins GROUP, waits until the group's view has MEMBERS
 * members (default 1: at once), then publishes UPDATES random updates,
 * "SET <key> <value>" or "DEL <key>" (text), keys from a space of KEYS,
 * while it applies every update delivered to the group, in delivery order,
 * to an in-memory table (open addressing, linear probing, deletion by
 * backward shift). The number of writers is the member count of the view it
 * started publishing at: the same view, at the same point of the total
 * order, at every member, so every member receives every update published
 * after it. It stops when it has applied members x UPDATES updates (or
 * after SECONDS in all) and prints
 *
 *   kv: applied N updates, K keys, state digest XXXXXXXXXXXXXXXX
 *
 * The digest is the sum (mod 2^64) of one hash per (key, value) entry: it
 * depends on the table's content only, not on the order it was built in,
 * so equal digests at every member mean equal tables. The group should hold
 * ordo-kv instances only (every member is counted as a writer).
 *
 * -v COUNT prints the first COUNT updates applied, with their place in the
 * total order. Exit status: 0 when every expected update was applied, 1
 * otherwise (timeout, detached, an error), 2 for bad usage.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app_attach.h"
#include "ordo.h"
#include "ordo_digest.h"

#define KV_KEY_MAX 32u
#define KV_VAL_MAX 48u

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t fnv64(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* ---- the table: open addressing, linear probing, backward-shift deletion ---- */

struct kv_entry {
	uint64_t hash;            /* of the key; 0 marks an empty slot (a real 0 is mapped to 1) */
	uint8_t klen, vlen;
	char key[KV_KEY_MAX];
	char val[KV_VAL_MAX];
};

struct kv_table {
	struct kv_entry *e;
	size_t cap;               /* a power of two */
	size_t count;
};

static uint64_t key_hash(const char *k, size_t n)
{
	uint64_t h = ordo_mix64(fnv64(k, n));
	return h ? h : 1;
}

static int kv_init(struct kv_table *t, size_t cap)
{
	t->e = calloc(cap, sizeof(*t->e));
	t->cap = cap;
	t->count = 0;
	return t->e != NULL ? 0 : -1;
}

static struct kv_entry *kv_slot(struct kv_table *t, uint64_t h, const char *k, size_t kn)
{
	size_t mask = t->cap - 1u;
	for (size_t i = h & mask;; i = (i + 1u) & mask) {
		struct kv_entry *x = &t->e[i];
		if (x->hash == 0 || (x->hash == h && x->klen == kn && memcmp(x->key, k, kn) == 0))
			return x;
	}
}

static int kv_grow(struct kv_table *t)
{
	struct kv_table n;
	if (kv_init(&n, t->cap * 2u) != 0)
		return -1;
	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].hash != 0)
			*kv_slot(&n, t->e[i].hash, t->e[i].key, t->e[i].klen) = t->e[i];
	n.count = t->count;
	free(t->e);
	*t = n;
	return 0;
}

static int kv_set(struct kv_table *t, const char *k, size_t kn, const char *v, size_t vn)
{
	if ((t->count + 1u) * 2u > t->cap && kv_grow(t) != 0)
		return -1;
	uint64_t h = key_hash(k, kn);
	struct kv_entry *x = kv_slot(t, h, k, kn);
	if (x->hash == 0) {
		x->hash = h;
		x->klen = (uint8_t)kn;
		memcpy(x->key, k, kn);
		t->count++;
	}
	x->vlen = (uint8_t)vn;
	memcpy(x->val, v, vn);
	return 0;
}

static void kv_del(struct kv_table *t, const char *k, size_t kn)
{
	uint64_t h = key_hash(k, kn);
	struct kv_entry *x = kv_slot(t, h, k, kn);
	if (x->hash == 0)
		return;
	/* backward shift: move later entries of the cluster into the hole when
	 * the hole lies between their home slot and where they are */
	size_t mask = t->cap - 1u, hole = (size_t)(x - t->e);
	for (size_t j = (hole + 1u) & mask; t->e[j].hash != 0; j = (j + 1u) & mask) {
		size_t home = t->e[j].hash & mask;
		if (((j - home) & mask) >= ((j - hole) & mask)) {
			t->e[hole] = t->e[j];
			hole = j;
		}
	}
	memset(&t->e[hole], 0, sizeof(t->e[hole]));
	t->count--;
}

/* The content's digest: independent of insertion history and table size. */
static uint64_t kv_digest(const struct kv_table *t)
{
	uint64_t d = 0;
	for (size_t i = 0; i < t->cap; i++) {
		const struct kv_entry *x = &t->e[i];
		if (x->hash != 0)
			d += ordo_mix64(x->hash ^ ordo_mix64(fnv64(x->val, x->vlen) + 0x9e3779b97f4a7c15ull + x->vlen));
	}
	return d;
}

/* ---- the replica ---- */

struct kv {
	struct kv_table t;
	struct ordo_member self;
	const char *group;
	uint32_t min_members;
	uint32_t writers;         /* 0 until the start view */
	uint64_t applied, ignored, failed;
	uint64_t verbose;
	int detached;
};

/* Parses and applies one update; returns 0, or -1 if it is not one. */
static int apply(struct kv *s, const char *p, size_t n)
{
	if (n > 4 && memcmp(p, "SET ", 4) == 0) {
		const char *k = p + 4, *sp = memchr(k, ' ', n - 4);
		if (sp == NULL)
			return -1;
		size_t kn = (size_t)(sp - k), vn = n - 4 - kn - 1u;
		if (kn == 0 || kn > KV_KEY_MAX || vn > KV_VAL_MAX)
			return -1;
		if (kv_set(&s->t, k, kn, sp + 1, vn) != 0) {
			fprintf(stderr, "ordo-kv: out of memory\n");
			exit(1);
		}
		return 0;
	}
	if (n > 4 && memcmp(p, "DEL ", 4) == 0) {
		size_t kn = n - 4;
		if (kn > KV_KEY_MAX || memchr(p + 4, ' ', kn) != NULL)
			return -1;
		kv_del(&s->t, p + 4, kn);
		return 0;
	}
	return -1;
}

static void on_message(void *ctx, const struct ordo_message *m)
{
	struct kv *s = ctx;
	if (apply(s, m->data, m->size) != 0) {
		s->ignored++;
		return;
	}
	s->applied++;
	if (s->applied <= s->verbose)
		printf("kv: update %u:%llu/%llu.%u from %u/%u: %.*s\n", m->position.ring.rep,
		       (unsigned long long)m->position.ring.seq, (unsigned long long)m->position.seq,
		       m->position.index, m->sender.node, m->sender.client, (int)m->size, (const char *)m->data);
}

static void on_view(void *ctx, const struct ordo_view *v)
{
	struct kv *s = ctx;
	if (s->writers != 0 || v->transitional || v->member_count < s->min_members)
		return;
	for (uint32_t i = 0; i < v->member_count; i++)
		if (v->members[i].node == s->self.node && v->members[i].client == s->self.client) {
			s->writers = v->member_count; /* the start view: the same one at every member */
			return;
		}
}

static void on_publish_failed(void *ctx, uint64_t seq, int err)
{
	struct kv *s = ctx;
	s->failed++;
	fprintf(stderr, "ordo-kv: update %llu was not ordered: %s\n", (unsigned long long)seq, ordo_strerror(err));
}

static void on_detached(void *ctx, int why)
{
	struct kv *s = ctx;
	s->detached = 1;
	fprintf(stderr, "ordo-kv: detached: %s\n", ordo_strerror(why));
}

static uint64_t rng_next(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

/* A random update into buf; returns its length. */
static size_t make_update(uint64_t *rng, uint32_t keys, char *buf, size_t size)
{
	uint64_t r = rng_next(rng);
	unsigned key = (unsigned)(r % keys);
	if ((r >> 40) % 4u == 0)
		return (size_t)snprintf(buf, size, "DEL k%u", key);
	char val[17];
	size_t vn = 4u + (size_t)((r >> 32) % 13u);
	uint64_t v = rng_next(rng);
	for (size_t i = 0; i < vn; i++, v >>= 4)
		val[i] = "0123456789abcdef"[v & 15u];
	val[vn] = '\0';
	return (size_t)snprintf(buf, size, "SET k%u %s", key, val);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: ordo-kv [-s SOCKET] [-g GROUP] [-n UPDATES] [-k KEYS] [-w SECONDS] [-m MEMBERS] "
		     "[-v COUNT]\n"
		     "A replicated key-value store (a demo): every instance publishes random SET/DEL updates to\n"
		     "GROUP, applies every update delivered there in delivery order, and prints a digest of its\n"
		     "table, equal at every member.\n"
		     "  -s SOCKET   the node's control socket ([node] socket; default /run/ordo/ordo-n1.sock)\n"
		     "  -g GROUP    the group (default kv; only ordo-kv instances in it)\n"
		     "  -n UPDATES  updates this instance publishes (default 1000)\n"
		     "  -k KEYS     the key space (default 100)\n"
		     "  -w SECONDS  give up after this long in all (default 60)\n"
		     "  -m MEMBERS  wait until the group has this many members before publishing (default 1)\n"
		     "  -v COUNT    print the first COUNT updates applied, with their place in the total order\n"
		     "  -h, --help  this text\n"
		     "exit: 0 every expected update applied, 1 not (timeout, detached, an error), 2 usage\n");
}

static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};

int main(int argc, char **argv)
{
	const char *sock = "/run/ordo/ordo-n1.sock";
	struct kv s = {.group = "kv", .min_members = 1};
	uint64_t updates = 1000, wait_s = 60;
	uint32_t keys = 100;
	int opt;
	while ((opt = getopt_long(argc, argv, "s:g:n:k:w:m:v:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h': usage(stdout); return 0;
		case 's': sock = optarg; break;
		case 'g': s.group = optarg; break;
		case 'n': updates = strtoull(optarg, NULL, 10); break;
		case 'k': keys = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'w': wait_s = strtoull(optarg, NULL, 10); break;
		case 'm': s.min_members = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'v': s.verbose = strtoull(optarg, NULL, 10); break;
		default: usage(stderr); return 2;
		}
	}
	size_t glen = strlen(s.group);
	if (optind != argc || keys == 0 || glen == 0 || glen > ORDO_GROUP_NAME_MAX) {
		usage(stderr);
		return 2;
	}
	s.min_members += s.min_members == 0; /* -m 0: at once, as -m 1 */
	if (kv_init(&s.t, 64) != 0)
		return 1;
	struct ordo_callbacks cb = {.message = on_message, .view = on_view, .publish_failed = on_publish_failed,
				    .detached = on_detached};
	struct ordo_client *c = app_start(sock, "ordo-kv", &cb, &s, on_signal);
	s.self = ordo_self(c);
	uint64_t rng = ordo_mix64(((uint64_t)s.self.node << 48) ^ ((uint64_t)s.self.client << 16) ^ now_ns() ^
			   (uint64_t)getpid());
	if (rng == 0)
		rng = 1;
	int rc = ordo_join(c, s.group, glen);
	if (rc != ORDO_OK) {
		fprintf(stderr, "ordo-kv: join %s: %s\n", s.group, ordo_strerror(rc));
		ordo_detach(c);
		return 1;
	}
	uint64_t t0 = now_ns(), deadline = t0 + wait_s * 1000000000ull;
	int status = 0;
	/* 1. the start view: MEMBERS members, this client among them */
	while (!stop && s.writers == 0 && !s.detached && now_ns() < deadline)
		if (ordo_wait(c, 256, 100) < 0)
			break;
	if (s.writers == 0) {
		fprintf(stderr, "ordo-kv: the group %s never had %u members\n", s.group, s.min_members);
		status = 1;
	}
	uint64_t t_start = now_ns(), published = 0, retries = 0, t_pub = 0;
	/* 2. publish, applying deliveries as they come */
	char buf[128];
	size_t len = 0;
	while (status == 0 && !stop && !s.detached && published < updates && now_ns() < deadline) {
		if (len == 0)
			len = make_update(&rng, keys, buf, sizeof(buf));
		int64_t r = ordo_publish(c, s.group, glen, buf, len, ORDO_AGREED, 1);
		if (r == ORDO_EAGAIN) {
			retries++;
			if (ordo_wait(c, 256, 1) < 0)
				break;
			continue;
		}
		if (r < 0) {
			fprintf(stderr, "ordo-kv: publish: %s\n", ordo_strerror((int)r));
			status = 1;
			break;
		}
		published++;
		len = 0;
		if ((published & 31u) == 0 && ordo_poll(c, 256) < 0)
			break;
	}
	t_pub = now_ns();
	/* 3. until every writer's updates are in */
	uint64_t expected = (uint64_t)s.writers * updates;
	while (status == 0 && !stop && !s.detached && s.applied < expected && now_ns() < deadline)
		if (ordo_wait(c, 256, 100) < 0)
			break;
	uint64_t t_end = now_ns();
	if (status == 0 && s.applied != expected)
		status = 1;
	printf("kv: node %u client %u: %u writers x %llu updates, published %llu in %.3f s "
	       "(%llu retries on a full ring), done after %.3f s%s%s\n",
	       s.self.node, s.self.client, s.writers, (unsigned long long)updates, (unsigned long long)published,
	       (double)(t_pub - t_start) / 1e9, (unsigned long long)retries, (double)(t_end - t_start) / 1e9,
	       s.ignored ? ", some messages were not updates" : "", s.failed ? ", some updates failed" : "");
	if (s.applied != expected)
		fprintf(stderr, "ordo-kv: INCOMPLETE: applied %llu of %llu expected updates\n",
			(unsigned long long)s.applied, (unsigned long long)expected);
	printf("kv: applied %llu updates, %zu keys, state digest %016llx\n", (unsigned long long)s.applied,
	       s.t.count, (unsigned long long)kv_digest(&s.t));
	ordo_detach(c);
	free(s.t.e);
	return status;
}
