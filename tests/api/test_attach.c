/* test_attach.c — include/ordo.h: attach and detach, ordo_self,
 * ordo_max_message_size, attach errors, what a client sees when its node
 * stops (SIGTERM) or dies (SIGKILL), ordo_strerror, the node's client limit
 * ([node] max_clients: ORDO_ECLIENTS past it).
 *
 *   test-api-attach ORDOD
 */
#include <setjmp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "api_node.h"

#define BIG_MAX (64u << 20)

static void test_attach_detach(void **state)
{
	(void)state;
	struct ordo_client *a = NULL, *b = NULL;
	uint64_t t0 = api_now_ns();
	assert_int_equal(ordo_attach(api_nodes[0].sock, NULL, &a), ORDO_OK);
	double attach_ms = api_ms_since(t0);
	assert_non_null(a);
	struct ordo_client_opts o = {.name = "b"};
	assert_int_equal(ordo_attach(api_nodes[0].sock, &o, &b), ORDO_OK);
	struct ordo_member sa = ordo_self(a), sb = ordo_self(b);
	printf("# attach took %.2f ms; self a = %u/%u, b = %u/%u\n", attach_ms, sa.node, sa.client, sb.node,
	       sb.client);
	assert_int_equal(sa.node, 1);
	assert_int_equal(sb.node, 1);
	assert_int_not_equal(sa.client, 0);
	assert_int_not_equal(sb.client, 0);
	assert_int_not_equal(sa.client, sb.client);
	assert_true(ordo_fd(a) >= 0);
	assert_true(ordo_fd(b) >= 0);
	assert_int_not_equal(ordo_fd(a), ordo_fd(b));
	/* nothing waits for a fresh client but what the node tells it */
	int n = ordo_poll(a, 64);
	assert_true(n >= 0);
	ordo_detach(a);
	ordo_detach(b);
	ordo_detach(NULL); /* allowed: nothing */

	/* many attach/detach cycles: the node keeps taking clients */
	t0 = api_now_ns();
	uint32_t last = sb.client;
	for (int i = 0; i < 50; i++) {
		struct ordo_client *c = NULL;
		assert_int_equal(ordo_attach(api_nodes[0].sock, NULL, &c), ORDO_OK);
		assert_int_not_equal(ordo_self(c).client, last);
		last = ordo_self(c).client;
		ordo_detach(c);
	}
	printf("# 50 attach/detach cycles in %.1f ms\n", api_ms_since(t0));

	/* more clients at once than a handful */
	struct ordo_client *many[40];
	struct ordo_client_opts small = {.submit_ring_size = 65536, .delivery_ring_size = 65536};
	for (int i = 0; i < 40; i++)
		assert_int_equal(ordo_attach(api_nodes[0].sock, &small, &many[i]), ORDO_OK);
	for (int i = 0; i < 40; i++)
		for (int j = 0; j < i; j++)
			assert_int_not_equal(ordo_self(many[i]).client, ordo_self(many[j]).client);
	for (int i = 0; i < 40; i++)
		ordo_detach(many[i]);
}

static void test_max_message_size(void **state)
{
	(void)state;
	struct ordo_client *c = NULL;
	assert_int_equal(ordo_attach(api_nodes[0].sock, NULL, &c), ORDO_OK);
	size_t max = ordo_max_message_size(c);
	printf("# [ring] max_message_size %u: ordo_max_message_size %zu (%zu bytes of envelope)\n", BIG_MAX, max,
	       (size_t)BIG_MAX - max);
	/* the node's limit, less at most the envelope (kind, length, 32-byte group) */
	assert_true(max <= BIG_MAX);
	assert_true(max >= BIG_MAX - (2u + ORDO_GROUP_NAME_MAX));
	/* the same for every client */
	struct ordo_client *d = NULL;
	struct ordo_client_opts o = {.submit_ring_size = 65536, .delivery_ring_size = 1u << 20};
	assert_int_equal(ordo_attach(api_nodes[0].sock, &o, &d), ORDO_OK);
	assert_int_equal(ordo_max_message_size(d), max);
	/* the boundary: max + 1 is refused before anything is written */
	static uint8_t one;
	assert_int_equal(ordo_publish(c, "g", 1, &one, max + 1, ORDO_AGREED, 1), ORDO_E2BIG);
	ordo_detach(d);
	ordo_detach(c);
}

static void test_attach_errors(void **state)
{
	(void)state;
	struct ordo_client *c = (struct ordo_client *)&c;
	char missing[160];
	snprintf(missing, sizeof(missing), "%s/nobody.sock", api_nodes[0].dir);
	assert_int_equal(ordo_attach(missing, NULL, &c), ORDO_ECONNECT);
	assert_null(c);
	/* a path that is not a socket */
	c = (struct ordo_client *)&c;
	assert_int_equal(ordo_attach(api_nodes[0].conf, NULL, &c), ORDO_ECONNECT);
	assert_null(c);
	/* a path too long for a Unix socket */
	char longp[300];
	memset(longp, 'x', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	c = (struct ordo_client *)&c;
	int rc = ordo_attach(longp, NULL, &c);
	printf("# too long a socket path: %s\n", ordo_strerror(rc));
	assert_true(rc == ORDO_EINVAL || rc == ORDO_ECONNECT);
	assert_null(c);
	/* ring sizes the node refuses: not a power of two, too small, too big */
	const uint32_t bad[] = {65535, 4096, 128u << 20, 100000};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ordo_client_opts o = {.submit_ring_size = bad[i]};
		c = (struct ordo_client *)&c;
		rc = ordo_attach(api_nodes[0].sock, &o, &c);
		printf("# submit_ring_size %u: %s (%d)\n", bad[i], ordo_strerror(rc), rc);
		/* ordo.h: a refused attach; the node says why (a bad argument) */
		assert_true(rc == ORDO_EINVAL || rc == ORDO_ECONNECT);
		assert_null(c);
		o = (struct ordo_client_opts){.delivery_ring_size = bad[i]};
		rc = ordo_attach(api_nodes[0].sock, &o, &c);
		assert_true(rc == ORDO_EINVAL || rc == ORDO_ECONNECT);
		assert_null(c);
	}
	/* the node still takes good clients */
	assert_int_equal(ordo_attach(api_nodes[0].sock, NULL, &c), ORDO_OK);
	ordo_detach(c);
}

struct sleeper {
	struct ordo_client *c;
	_Atomic int rc;
	_Atomic int done;
};

static void *sleep_forever(void *arg)
{
	struct sleeper *s = arg;
	int rc;
	while ((rc = ordo_wait(s->c, 16, -1)) >= 0)
		;
	atomic_store(&s->rc, rc);
	atomic_store(&s->done, 1);
	return NULL;
}

/* A node of its own (n) with one member r of group "g" that has seen its
 * view; submit_size as api_rec_attach's (0: the default). */
static void own_node_member(struct api_node *n, struct api_rec *r, const char *name, uint32_t submit_size)
{
	assert_int_equal(api_node_start(n, NULL), 0);
	assert_int_equal(api_rec_attach(r, name, n->sock, NULL, 16, submit_size, 0), ORDO_OK);
	assert_int_equal(ordo_join(r->c, "g", 1), ORDO_OK);
	assert_true(api_wait_views(r, 1, 5000));
}

/* A clean stop (SIGTERM): the engine marks every region ENGINE_STOPPED;
 * publish, join and poll say ORDO_EDETACHED, the callback says so once,
 * and a client asleep in ordo_wait(-1) wakes up. */
static void test_node_stopped(void **state)
{
	(void)state;
	struct api_node n2;
	struct api_rec r;
	own_node_member(&n2, &r, "stopped", 0);
	struct ordo_client *z = NULL;
	assert_int_equal(ordo_attach(n2.sock, NULL, &z), ORDO_OK);
	struct sleeper sl = {.c = z};
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, sleep_forever, &sl), 0);
	api_sleep_ms(50);
	uint64_t t0 = api_now_ns();
	assert_int_equal(api_node_stop(&n2), 0);
	int got = api_wait_detached(&r, 3000);
	for (int i = 0; i < 3000 && !atomic_load(&sl.done); i++)
		api_sleep_ms(1);
	int woke = atomic_load(&sl.done);
	printf("# a client asleep in ordo_wait(-1) %s (%s)\n", woke ? "woke up" : "still sleeps 3 s later",
	       woke ? ordo_strerror(atomic_load(&sl.rc)) : "-");
	assert_true(woke);
	pthread_join(th, NULL);
	assert_int_equal(atomic_load(&sl.rc), ORDO_EDETACHED);
	ordo_detach(z);
	printf("# after SIGTERM: poll says %s %.0f ms after the stop began\n", got ? "EDETACHED" : "nothing",
	       api_ms_since(t0));
	assert_true(got);
	assert_int_equal(r.detached, 1);
	assert_int_equal(r.detached_why, ORDO_EDETACHED);
	assert_int_equal(ordo_poll(r.c, 16), ORDO_EDETACHED);
	assert_int_equal(ordo_publish(r.c, "g", 1, "x", 1, ORDO_AGREED, 1), ORDO_EDETACHED);
	assert_int_equal(ordo_join(r.c, "h", 1), ORDO_EDETACHED);
	assert_int_equal(ordo_leave(r.c, "g", 1), ORDO_EDETACHED);
	assert_int_equal(ordo_wait(r.c, 16, 100), ORDO_EDETACHED);
	/* prepare_sleep must not let it sleep forever on a dead node */
	assert_int_equal(ordo_prepare_sleep(r.c), 1);
	api_rec_free(&r); /* detach after the node is gone: no crash, no hang */
	api_node_cleanup(&n2);
}

/* Regression (this suite found it; fixed): a node killed with SIGKILL never marks the
 * region, so the client learns of it only from its control socket, which
 * libordo never looks at after the handshake. ordo.h promises
 * ORDO_EDETACHED once "the node stopped"; attach.md §1 makes the socket
 * the liveness channel. Today poll returns 0 forever, publish fills the
 * submit ring and then says ORDO_EAGAIN forever, ordo_wait(-1) sleeps
 * forever. */
static void test_node_killed(void **state)
{
	(void)state;
	struct api_node n2;
	struct api_rec r;
	own_node_member(&n2, &r, "killed", 65536);
	api_node_kill(&n2);
	uint64_t t0 = api_now_ns();
	int got = api_wait_detached(&r, 3000);
	int64_t pub = 0;
	int pubs = 0;
	for (; pubs < 5000 && pub >= 0; pubs++)
		pub = ordo_publish(r.c, "g", 1, "xxxxxxxxxxxxxxxx", 16, ORDO_AGREED, 1);
	printf("# after SIGKILL of the node: poll says %s within %.0f ms; publish #%d says %s\n",
	       got ? "EDETACHED" : "nothing (0)", api_ms_since(t0), pubs,
	       pub >= 0 ? "ok" : ordo_strerror((int)pub));
	int prep = ordo_prepare_sleep(r.c);
	printf("# ordo_prepare_sleep on the dead node's client returns %d (0: it would sleep forever)\n", prep);
	api_rec_free(&r);
	api_node_cleanup(&n2);
	assert_true(got);                        /* fails today */
	assert_int_equal(pub, ORDO_EDETACHED);   /* fails today: ORDO_EAGAIN */
	assert_int_equal(prep, 1);
}

/* Attaches until n clients are attached; a refusal (ORDO_ECLIENTS) before
 * that is retried for a while: detached clients free their slots when the
 * node has retired them. Returns the last error, ORDO_OK if n attached. */
static int attach_n(const char *sock, struct ordo_client **v, uint32_t n)
{
	struct ordo_client_opts small = {.submit_ring_size = 65536, .delivery_ring_size = 65536};
	uint64_t t0 = api_now_ns();
	for (uint32_t i = 0; i < n;) {
		int rc = ordo_attach(sock, &small, &v[i]);
		if (rc == ORDO_OK) {
			i++;
			continue;
		}
		if (rc != ORDO_ECLIENTS || api_ms_since(t0) > 3000)
			return rc;
		api_sleep_ms(5);
	}
	return ORDO_OK;
}

/* Regression (issue 14): attach past the node's client limit (256, then
 * undocumented) said ORDO_ENOMEM "out of memory". The limit is [node]
 * max_clients; past it the refusal is ORDO_ECLIENTS, and a slot freed by a
 * detach is taken again. */
static void test_client_limit(void **state)
{
	(void)state;
	/* 256 clients hold 5 descriptors each in this process */
	struct rlimit rl;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < 4096) {
		rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	enum { DEFAULT_MAX = 256 };
	static struct ordo_client *v[DEFAULT_MAX + 1];
	uint64_t t0 = api_now_ns();
	int rc = attach_n(api_nodes[0].sock, v, DEFAULT_MAX);
	printf("# the default limit: %d clients attached in %.0f ms: %s\n", DEFAULT_MAX, api_ms_since(t0),
	       ordo_strerror(rc));
	assert_int_equal(rc, ORDO_OK);
	struct ordo_client_opts small = {.submit_ring_size = 65536, .delivery_ring_size = 65536};
	v[DEFAULT_MAX] = NULL;
	rc = ordo_attach(api_nodes[0].sock, &small, &v[DEFAULT_MAX]);
	printf("# client %d: %s (%d)\n", DEFAULT_MAX + 1, ordo_strerror(rc), rc);
	assert_int_equal(rc, ORDO_ECLIENTS);
	assert_null(v[DEFAULT_MAX]);
	assert_non_null(strstr(ordo_strerror(rc), "max_clients"));
	for (int i = 0; i < DEFAULT_MAX; i++)
		ordo_detach(v[i]);

	/* a node configured for 4: the fifth is refused until one detaches */
	struct api_node n2;
	struct api_node_opts o = {.max_clients = 4};
	assert_int_equal(api_node_start(&n2, &o), 0);
	assert_int_equal(attach_n(n2.sock, v, 4), ORDO_OK);
	assert_int_equal(ordo_attach(n2.sock, &small, &v[4]), ORDO_ECLIENTS);
	ordo_detach(v[0]);
	assert_int_equal(attach_n(n2.sock, v, 1), ORDO_OK); /* its slot comes back */
	assert_int_equal(ordo_attach(n2.sock, &small, &v[4]), ORDO_ECLIENTS);
	for (int i = 0; i < 4; i++)
		ordo_detach(v[i]);
	api_node_cleanup(&n2);
}

static void test_strerror(void **state)
{
	(void)state;
	const int codes[] = {ORDO_OK, ORDO_EAGAIN, ORDO_EINVAL, ORDO_E2BIG, ORDO_ENOMEM, ORDO_ENOQUORUM,
			     ORDO_EDETACHED, ORDO_ECONNECT, ORDO_EPROTO, ORDO_ECLIENTS};
	const unsigned n = sizeof(codes) / sizeof(codes[0]);
	const char *unknown = ordo_strerror(12345);
	assert_non_null(unknown);
	assert_true(strlen(unknown) > 0);
	assert_string_equal(ordo_strerror(-99999), unknown);
	for (unsigned i = 0; i < n; i++) {
		const char *s = ordo_strerror(codes[i]);
		printf("# %6d: %s\n", codes[i], s);
		assert_non_null(s);
		assert_true(strlen(s) > 0);
		assert_string_not_equal(s, unknown);
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(s, ordo_strerror(codes[j]));
	}
	/* the values ordo.h fixes (applications may compare with errno values) */
	assert_int_equal(ORDO_EAGAIN, -11);
	assert_int_equal(ORDO_EINVAL, -22);
	assert_int_equal(ORDO_E2BIG, -7);
	assert_int_equal(ORDO_ENOMEM, -12);
}

API_MAIN((api_nodes_opts[0] = (struct api_node_opts){.max_message_size = BIG_MAX}),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_attach_detach),
		cmocka_unit_test(test_max_message_size),
		cmocka_unit_test(test_attach_errors),
		cmocka_unit_test(test_client_limit),
		cmocka_unit_test(test_node_stopped),
		cmocka_unit_test(test_node_killed))
