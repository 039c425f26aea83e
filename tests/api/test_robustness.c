/* test_robustness.c — include/ordo.h and docs/attach.md §2, §6: a client
 * that breaks its submit ring is evicted and nobody else notices; a client
 * that stops draining is evicted after client_evict_ms while a fast member
 * of the same group loses nothing; a publisher killed in the middle of a
 * 64 MiB message leaves no trace but its departure.
 *
 *   test-api-robustness ORDOD     (node: max_message_size 64 MiB, client_evict_ms 500,
 *                                  assembly_timeout_ms 1000)
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include "api_node.h"
#include "ordo_client_internal.h"
#include "shm_ring.h"

#define EVICT_MS 500u
#define ASSEMBLY_MS 1000u

/* ---- garbage in a submit ring ---- */

enum garbage {
	G_UNKNOWN_TYPE,
	G_SHORT_PUBLISH,    /* a PUBLISH shorter than its header */
	G_SIZE_MISMATCH,    /* msg_size says 100, the record carries 10 */
	G_FORGED_GROUP_OP,  /* a PUBLISH whose envelope claims to be a group operation */
	G_ORPHAN_PIECE,     /* a middle piece of a message never begun */
	G_EMPTY_JOIN,       /* a JOIN with no group name */
	G_HEAD_AHEAD,       /* head more than the ring's size ahead of tail */
	G_HEAD_BEHIND,      /* head behind the engine's read position */
	G_COUNT
};

static const char *const garbage_names[G_COUNT] = {
	"unknown record type", "short PUBLISH", "PUBLISH size mismatch", "forged GROUP_OP envelope",
	"orphan piece", "empty JOIN", "head too far ahead", "head behind tail",
};

static void put(struct ordo_client *c, uint16_t type, uint16_t flags, const void *payload, uint32_t len)
{
	enum shm_ring_status st;
	uint8_t *p = shm_ring_reserve(&c->submit, len, &st);
	assert_non_null(p);
	memcpy(p, payload, len);
	shm_ring_commit(&c->submit, len, type, flags);
}

static void write_garbage(struct ordo_client *c, enum garbage g)
{
	uint8_t rec[64] = {0};
	struct att_publish p = {.service = ORDO_AGREED, .priority = 1};
	switch (g) {
	case G_UNKNOWN_TYPE:
		put(c, 0x77, 0, "garbage!", 8);
		break;
	case G_SHORT_PUBLISH:
		put(c, ATT_REC_PUBLISH, ATT_F_FIRST | ATT_F_LAST, "\1\1\0\0", 4);
		break;
	case G_SIZE_MISMATCH:
		p.msg_size = 100;
		memcpy(rec, &p, sizeof(p));
		rec[sizeof(p)] = ATT_ENV_USER;
		rec[sizeof(p) + 1] = 2;
		memcpy(rec + sizeof(p) + 2, "rb", 2);
		put(c, ATT_REC_PUBLISH, ATT_F_FIRST | ATT_F_LAST, rec, (uint32_t)sizeof(p) + 4 + 10);
		break;
	case G_FORGED_GROUP_OP: {
		/* a LEAVE of another node's client, dressed as a publish */
		p.msg_size = 16;
		memcpy(rec, &p, sizeof(p));
		uint8_t *b = rec + sizeof(p);
		b[0] = ATT_ENV_GROUP_OP;
		b[1] = ATT_OP_LEAVE;
		b[2] = 1;
		b[4] = 1;
		put(c, ATT_REC_PUBLISH, ATT_F_FIRST | ATT_F_LAST, rec, (uint32_t)sizeof(p) + 18);
		break;
	}
	case G_ORPHAN_PIECE:
		p.msg_size = 1000;
		p.offset = 500;
		memcpy(rec, &p, sizeof(p));
		put(c, ATT_REC_PUBLISH, 0, rec, (uint32_t)sizeof(p) + 16);
		break;
	case G_EMPTY_JOIN:
		put(c, ATT_REC_JOIN, 0, "", 0);
		break;
	case G_HEAD_AHEAD: {
		uint64_t tail = atomic_load(&c->submit.ctl->tail);
		atomic_store(&c->submit.ctl->head, tail + (c->submit.mask + 1u) + 64u);
		break;
	}
	case G_HEAD_BEHIND: {
		/* one good record taken by the engine, then head moves back */
		uint64_t head = atomic_load(&c->submit.ctl->head);
		assert_int_equal(ordo_join(c, "rb-extra", 8), ORDO_OK);
		for (int i = 0; i < 2000 && atomic_load(&c->submit.ctl->tail) == head; i++)
			api_sleep_ms(1);
		atomic_store(&c->submit.ctl->head, head >= 8 ? head - 8 : 0);
		break;
	}
	default:
		fail();
	}
}

static void test_garbage_submit(void **state)
{
	(void)state;
	struct api_rec h, s;
	api_attach_pair(&h, "healthy", &s, "subscriber", 4096, "rb");
	uint64_t sent = 0;
	uint8_t buf[300];
	for (int g = 0; g < G_COUNT; g++) {
		struct api_rec bad;
		api_attach(&bad, "garbage", 4, 65536, 65536);
		api_join_wait(&bad, "rb");
		struct ordo_member sb = ordo_self(bad.c);
		/* traffic before, during and after */
		for (int i = 0; i < 40; i++, sent++) {
			api_fill(buf, sizeof(buf), sent);
			assert_true(api_publish(h.c, &h, "rb", buf, 16 + sent % 280u, ORDO_AGREED, sent % 3u, 5000) >= 0);
			if (i == 20)
				write_garbage(bad.c, (enum garbage)g);
		}
		uint64_t t0 = api_now_ns();
		int evicted = api_wait_detached(&bad, 3000);
		double ms = api_ms_since(t0);
		/* the others see it leave, EVICTED */
		int seen = 0;
		for (int i = 0; i < 3000 && !seen; i++) {
			api_pump((struct api_rec *[]){&h, &s}, 2, NULL, NULL, 1);
			seen = api_find_change(&h, "rb", 1, sb, ORDO_REASON_EVICTED) != NULL &&
			       api_find_change(&s, "rb", 1, sb, ORDO_REASON_EVICTED) != NULL;
		}
		printf("# garbage '%s': %s %.1f ms after the traffic; the others saw it leave EVICTED: %s\n",
		       garbage_names[g], evicted ? "evicted" : "NOT evicted", ms, seen ? "yes" : "no");
		assert_true(evicted);
		assert_int_equal(bad.detached, 1);
		assert_int_equal(ordo_publish(bad.c, "rb", 2, "x", 1, ORDO_AGREED, 1), ORDO_EDETACHED);
		assert_int_equal(atomic_load(&bad.c->hdr->evict_reason), ORDO_REASON_EVICTED);
		assert_true(seen);
		api_rec_free(&bad);
	}
	/* nothing lost, nothing doubled, one order */
	struct api_rec *both[2] = {&h, &s};
	for (int i = 0; i < 5000 && (h.msgs < sent || s.msgs < sent); i++)
		api_pump(both, 2, NULL, NULL, 1);
	api_pump(both, 2, NULL, NULL, 50);
	printf("# %llu messages published by the healthy client: it got %llu, the subscriber %llu\n",
	       (unsigned long long)sent, (unsigned long long)h.msgs, (unsigned long long)s.msgs);
	assert_int_equal(h.msgs, sent);
	assert_int_equal(s.msgs, sent);
	for (uint64_t i = 0; i < sent; i++) {
		assert_int_equal(h.m[i].tag, s.m[i].tag);
		assert_int_equal(h.m[i].sum, s.m[i].sum);
	}
	/* per priority, FIFO */
	for (unsigned p = 0; p < ORDO_PRIORITIES; p++) {
		uint64_t last = 0;
		int first = 1;
		for (uint64_t i = 0; i < sent; i++) {
			if (h.m[i].priority != p)
				continue;
			assert_true(first || h.m[i].tag > last);
			first = 0;
			last = h.m[i].tag;
		}
	}
	assert_int_equal(h.c->garbage, 0);
	assert_int_equal(s.c->garbage, 0);
	api_rec_free_all((struct api_rec *[]){&h, &s}, 2);
}

/* ---- rewriting a record after the node checked it ---- */

/* One attempt: [JOIN "zz"][PUBLISH, USER envelope, priority 2]. The node
 * retires the JOIN (moves tail past it) in the same drain that handed the
 * PUBLISH to ring-proto where it lies (zero copy), so once tail passes the
 * JOIN the PUBLISH was checked but may not be packed into a frame yet:
 * rewrite its envelope into a GROUP_OP that makes `victim` leave `group`.
 * Returns 0, or -1 if the ring was full or the node never took the JOIN. */
static int forge_attempt(struct ordo_client *a, uint32_t victim, const char *group)
{
	enum shm_ring_status st;
	uint8_t *j = shm_ring_reserve(&a->submit, 2, &st);
	if (j == NULL)
		return -1;
	memcpy(j, "zz", 2);
	shm_ring_commit(&a->submit, 2, ATT_REC_JOIN, 0);
	uint64_t join_end = a->submit.head;
	struct att_publish p = {.service = ORDO_AGREED, .priority = 2, .msg_size = 30};
	uint32_t len = (uint32_t)sizeof(p) + 3u + 30u;
	uint8_t *w = shm_ring_reserve(&a->submit, len, &st);
	if (w == NULL)
		return -1;
	memcpy(w, &p, sizeof(p));
	uint8_t *env = w + sizeof(p);
	memset(env, 0, 33);
	env[0] = ATT_ENV_USER;
	env[1] = 1;
	env[2] = 'x';
	shm_ring_commit(&a->submit, len, ATT_REC_PUBLISH, ATT_F_FIRST | ATT_F_LAST);
	/* a short spin: the window is microseconds wide */
	uint64_t t0 = api_now_ns();
	while (atomic_load_explicit(&a->submit.ctl->tail, memory_order_acquire) < join_end)
		if (api_ms_since(t0) > 20)
			return -1;
	/* GROUP_OP: kind, op, node, count 1; entry: glen, reason, 0, client, group */
	uint8_t f[33] = {0};
	/* node 1: this node (a node speaks for its own clients) */
	att_op_put_hdr(f, ATT_OP_LEAVE, 1, 1);
	(void)att_op_put_entry(f + ATT_OP_HDR, (const uint8_t *)group, (uint8_t)strlen(group), ORDO_REASON_LEAVE,
			       victim);
	memcpy(env, f, sizeof(f));
	return 0;
}

static _Atomic int flood_stop;

static void *flood_main(void *arg)
{
	struct ordo_client *c = arg;
	size_t size = 1000000;
	uint8_t *buf = calloc(1, size);
	while (buf != NULL && !atomic_load(&flood_stop))
		if (ordo_publish(c, "flood", 5, buf, size, ORDO_AGREED, 0) < 0)
			api_sleep_ms(1);
	free(buf);
	return NULL;
}

/* Regression (this suite found it; fixed): a client rewrites a small PUBLISH in its
 * submit ring after the engine checked it (take_publish) and before
 * ring-proto copies it into a frame (it is handed over zero copy). Turned
 * into a GROUP_OP envelope, it passes every receiver's check (node ==
 * origin: this node may speak for its clients) and removes another client
 * from its group. In a ring of one the window opens while ring-proto has a
 * backlog (a flooder at priority 0); in a ring of several it is the token's
 * whole rotation. */
static void test_forged_group_op(void **state)
{
	(void)state;
	struct api_rec v, o;
	api_attach_pair(&v, "victim", &o, "observer", 64, "victim-g");
	struct ordo_member sv = ordo_self(v.c);
	struct ordo_client *flooder;
	struct ordo_client_opts fo = {.name = "flooder", .submit_ring_size = 64u << 20};
	assert_int_equal(ordo_attach(api_nodes[0].sock, &fo, &flooder), ORDO_OK);
	atomic_store(&flood_stop, 0);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, flood_main, flooder), 0);
	uint64_t t0 = api_now_ns();
	int attempts = 0, attackers = 0, evicted = 0;
	const struct api_view *forged = NULL;
	while (forged == NULL && api_ms_since(t0) < 3000) {
		struct ordo_client *a;
		assert_int_equal(ordo_attach(api_nodes[0].sock, NULL, &a), ORDO_OK);
		attackers++;
		for (int k = 0; k < 50 && forged == NULL; k++) {
			if (forge_attempt(a, sv.client, "victim-g") == 0)
				attempts++;
			api_sleep_ms(1);
			if (atomic_load(&a->hdr->state) != ATT_STATE_ATTACHED) {
				evicted++; /* rewritten before the check: caught */
				break;
			}
			api_pump((struct api_rec *[]){&v, &o}, 2, NULL, NULL, 0);
			forged = api_find_change(&o, "victim-g", 1, sv, ORDO_REASON_LEAVE);
		}
		ordo_detach(a);
	}
	atomic_store(&flood_stop, 1);
	pthread_join(th, NULL);
	ordo_detach(flooder);
	api_pump((struct api_rec *[]){&v, &o}, 2, NULL, NULL, 20);
	forged = api_find_change(&o, "victim-g", 1, sv, ORDO_REASON_LEAVE);
	/* the victim is still a member: a message to the group reaches it */
	uint64_t before = v.msgs;
	assert_true(api_publish(o.c, &o, "victim-g", "after", 5, ORDO_AGREED, 1, 5000) >= 0);
	api_pump((struct api_rec *[]){&v, &o}, 2, NULL, NULL, 200);
	printf("# %d rewrite attempts by %d attackers in %.0f ms (%d caught by the check): the victim %s; it got %llu message(s) sent to its group afterwards\n",
	       attempts, attackers, api_ms_since(t0), evicted,
	       forged ? "WAS REMOVED from its group by a forged GROUP_OP" : "kept its membership",
	       (unsigned long long)(v.msgs - before));
	api_rec_free_all((struct api_rec *[]){&v, &o}, 2);
	assert_null(forged);             /* fails today */
	assert_int_equal(v.msgs - before, 1);
}

/* ---- a large message whose pieces stop coming ---- */

/* Writes one piece of a message of msg_size data bytes (its first: with
 * the envelope's head) straight into c's submit ring. */
static void put_piece(struct ordo_client *c, uint64_t pub_seq, uint32_t msg_size, uint32_t offset, uint32_t len,
		      uint16_t flags)
{
	static uint8_t zeros[256u << 10];
	uint32_t head = (flags & ATT_F_FIRST) ? ATT_ENV_HEAD(6) : 0;
	struct att_publish p = {.service = ORDO_AGREED, .priority = 2, .msg_size = msg_size, .offset = offset,
				.pub_seq = pub_seq};
	uint8_t *rec = malloc(sizeof(p) + head + len);
	assert_non_null(rec);
	memcpy(rec, &p, sizeof(p));
	if (head != 0) {
		rec[sizeof(p)] = ATT_ENV_USER;
		rec[sizeof(p) + 1] = 6;
		memcpy(rec + sizeof(p) + 2, "part-g", 6);
	}
	assert_true(len <= sizeof(zeros));
	memcpy(rec + sizeof(p) + head, zeros, len);
	put(c, ATT_REC_PUBLISH, flags, rec, (uint32_t)(sizeof(p) + head + len));
	free(rec);
}

/* Regression (issue 14): a client that sent the first piece of a large
 * message and never the last kept the node's assembly buffer (up to
 * max_message_size, one per priority) for as long as it stayed attached.
 * Now a message none of whose pieces came for assembly_timeout_ms while
 * the client's ring was empty is dropped (counted, logged); pieces of it that
 * come later are skipped, and its last one is answered with
 * publish_failed(ORDO_EAGAIN). The client stays attached: libordo itself
 * leaves a message unfinished when the node does not take its pieces for
 * 10 s. */
static void test_partial_message(void **state)
{
	(void)state;
	enum { MSG = 1u << 20, PIECE = 256u << 10 };
	struct api_rec w, s;
	api_attach(&w, "partial", 0, 0, 0);
	api_attach(&s, "sub", 8, 0, 0);
	api_join_wait(&s, "part-g");
	long long before = api_node_log_number(&api_nodes[0], "assemblies dropped ");
	put_piece(w.c, 0, MSG, 0, PIECE, ATT_F_FIRST);
	put_piece(w.c, 0, MSG, PIECE, PIECE, 0);
	uint64_t t0 = api_now_ns();
	long long after = before;
	while (after == before && api_ms_since(t0) < 3 * ASSEMBLY_MS) {
		api_pump((struct api_rec *[]){&w, &s}, 2, NULL, NULL, 10);
		after = api_node_log_number(&api_nodes[0], "assemblies dropped ");
	}
	double dropped_ms = api_ms_since(t0);
	/* the rest of it, late */
	put_piece(w.c, 0, MSG, 2 * PIECE, PIECE, 0);
	put_piece(w.c, 0, MSG, 3 * PIECE, PIECE, ATT_F_LAST);
	t0 = api_now_ns();
	while (w.pub_failed == 0 && api_ms_since(t0) < 2000)
		api_pump((struct api_rec *[]){&w, &s}, 2, NULL, NULL, 10);
	/* the client goes on publishing (libordo numbers from 0: the
	 * dropped one was written by hand) */
	assert_true(api_publish(w.c, &w, "part-g", "after", 5, ORDO_AGREED, 2, 5000) >= 0);
	assert_true(api_wait_msgs(&s, 1, 5000));
	api_pump((struct api_rec *[]){&w, &s}, 2, NULL, NULL, 50);
	printf("# two pieces of a 1 MiB message, then nothing: the node %s (log: assemblies dropped %lld -> %lld, after %.0f ms, assembly_timeout_ms %u); the late rest: %u publish_failed (%s); the subscriber got %llu message(s) (first %u bytes); the writer is %s\n",
	       after > before ? "dropped it" : "still holds it", before, after, dropped_ms, ASSEMBLY_MS, w.pub_failed,
	       w.pub_failed ? ordo_strerror(w.pub_failed_err) : "-", (unsigned long long)s.msgs, s.m[0].size,
	       atomic_load(&w.c->hdr->state) == ATT_STATE_ATTACHED ? "attached" : "detached");
	assert_true(after > before && after >= 1);  /* failed before: nothing ever dropped it */
	assert_true(dropped_ms >= ASSEMBLY_MS - 50 && dropped_ms < 2 * ASSEMBLY_MS);
	assert_int_equal(w.pub_failed, 1);
	assert_int_equal(w.pub_failed_seq, 0);
	assert_int_equal(w.pub_failed_err, ORDO_EAGAIN);
	assert_int_equal(s.msgs, 1);                 /* the late rest was not delivered */
	assert_int_equal(s.m[0].size, 5);
	assert_int_equal(atomic_load(&w.c->hdr->state), ATT_STATE_ATTACHED);
	api_rec_free_all((struct api_rec *[]){&w, &s}, 2);
}

/* ---- a client that stops draining ---- */

static void test_slow_client(void **state)
{
	(void)state;
	enum { BEFORE = 400, AFTER = 100, SIZE = 1000 };
	struct api_rec slow, fast;
	api_attach(&slow, "slow", BEFORE + AFTER, 0, 65536);
	api_attach(&fast, "fast", BEFORE + AFTER, 0, 0);
	api_join_wait(&slow, "slow-g");
	api_join_wait(&fast, "slow-g");
	struct ordo_member ss = ordo_self(slow.c);
	uint8_t buf[SIZE];
	/* 400 KB: the slow one's 64 KiB ring fills, the rest waits in the node */
	uint64_t t0 = api_now_ns();
	for (uint64_t i = 0; i < BEFORE; i++) {
		api_fill(buf, SIZE, i);
		assert_true(api_publish(fast.c, &fast, "slow-g", buf, SIZE, ORDO_AGREED, 1, 5000) >= 0);
	}
	double pub_ms = api_ms_since(t0);
	const struct api_view *v = NULL;
	while (api_ms_since(t0) < 10000 && (v = api_find_change(&fast, "slow-g", 1, ss, ORDO_REASON_EVICTED)) == NULL)
		api_pump((struct api_rec *[]){&fast}, 1, NULL, NULL, 2);
	double evict_ms = api_ms_since(t0);
	assert_non_null(v);
	assert_int_equal(v->member_count, 1);
	assert_int_equal(v->members[0].client, ordo_self(fast.c).client);
	/* the group goes on */
	for (uint64_t i = BEFORE; i < BEFORE + AFTER; i++) {
		api_fill(buf, SIZE, i);
		assert_true(api_publish(fast.c, &fast, "slow-g", buf, SIZE, ORDO_AGREED, 1, 5000) >= 0);
	}
	assert_true(api_wait_msgs(&fast, BEFORE + AFTER, 10000));
	api_pump((struct api_rec *[]){&fast}, 1, NULL, NULL, 50);
	/* the slow one finds what its ring held, then that it was evicted */
	int evicted = api_wait_detached(&slow, 2000);
	printf("# slow client (64 KiB ring, never polled): published %d x %d B in %.1f ms, evicted %.0f ms after the first publish (client_evict_ms %u); it had %llu messages in its ring; the fast one got %llu of %d\n",
	       BEFORE, SIZE, pub_ms, evict_ms, EVICT_MS, (unsigned long long)slow.msgs,
	       (unsigned long long)fast.msgs, BEFORE + AFTER);
	assert_true(evict_ms >= EVICT_MS * 0.9);
	assert_true(evict_ms < EVICT_MS + 5000);
	assert_int_equal(fast.msgs, BEFORE + AFTER);
	for (uint64_t i = 0; i < BEFORE + AFTER; i++) {
		assert_int_equal(fast.m[i].tag, i);
		api_fill(buf, SIZE, i);
		assert_int_equal(fast.m[i].sum, api_sum(buf, SIZE));
	}
	assert_true(evicted);
	assert_int_equal(slow.detached, 1);
	assert_int_equal(atomic_load(&slow.c->hdr->evict_reason), ORDO_REASON_EVICTED);
	/* what it had is a gap-free prefix */
	assert_true(slow.msgs > 0 && slow.msgs < BEFORE);
	for (uint64_t i = 0; i < slow.msgs; i++)
		assert_int_equal(slow.m[i].tag, i);
	api_rec_free_all((struct api_rec *[]){&slow, &fast}, 2);
}

/* ---- a publisher killed in the middle of a 64 MiB message ---- */

static void child_publisher(int fd)
{
	struct ordo_client *c;
	struct ordo_client_opts o = {.name = "doomed-publisher"};
	if (ordo_attach(api_nodes[0].sock, &o, &c) != ORDO_OK)
		_exit(1);
	size_t size = ordo_max_message_size(c);
	uint8_t *buf = malloc(size);
	if (buf == NULL)
		_exit(1);
	api_fill(buf, size, 1000);
	if (write(fd, "g", 1) != 1)
		_exit(1);
	for (uint64_t i = 1000;; i++) {
		memcpy(buf, &i, 8); /* the tag: the rest is the pattern of 1000 */
		(void)ordo_publish(c, "kill-g", 6, buf, size, ORDO_AGREED, 1);
	}
}

static void test_publisher_killed(void **state)
{
	(void)state;
	struct api_rec s, h;
	/* 64 MiB delivery ring: a whole 64 MiB message may get through before
	 * the kill (see test_large_64mib_default_ring in test_receive.c) */
	api_attach(&s, "subscriber", 4096, 0, 64u << 20);
	api_attach(&h, "healthy", 4096, 0, 0);
	api_join_wait(&s, "kill-g");
	api_join_wait(&h, "kill-g");
	api_pump((struct api_rec *[]){&s}, 1, NULL, NULL, 20);
	int fd;
	pid_t child = api_fork_reporter(&fd);
	if (child == 0) {
		child_publisher(fd);
		_exit(0);
	}
	struct api_rx rx;
	assert_int_equal(api_rx_start(&rx, &s, UINT64_MAX, 30000), 0);
	char ch;
	api_child_report(fd, &ch, 1);
	/* ~50 ms into its publishing, with other traffic going on */
	uint64_t t0 = api_now_ns(), sent = 0;
	uint8_t buf[100];
	while (api_ms_since(t0) < 50) {
		api_fill(buf, sizeof(buf), sent++);
		assert_true(api_publish(h.c, &h, "kill-g", buf, sizeof(buf), ORDO_AGREED, 1, 5000) >= 0);
		api_sleep_ms(2);
	}
	api_child_kill(child);
	double killed_at = api_ms_since(t0);
	/* the node goes on: more traffic, and a new client */
	for (int i = 0; i < 100; i++) {
		api_fill(buf, sizeof(buf), sent++);
		assert_true(api_publish(h.c, &h, "kill-g", buf, sizeof(buf), ORDO_AGREED, 1, 5000) >= 0);
	}
	struct api_rec n;
	api_attach(&n, "newcomer", 8, 0, 0);
	api_join_wait(&n, "kill-g");
	api_fill(buf, sizeof(buf), sent++);
	assert_true(api_publish(n.c, &n, "kill-g", buf, sizeof(buf), ORDO_SAFE, 0, 5000) >= 0);
	assert_true(api_wait_msgs(&n, 1, 5000));
	assert_true(api_wait_msgs(&h, sent, 10000));
	/* the subscriber: everything small, and whole big ones only */
	for (int i = 0; i < 10000; i++) {
		uint64_t small = 0;
		for (uint64_t k = 0; k < s.msgs && k < s.m_cap; k++)
			small += s.m[k].size == sizeof(buf);
		if (small >= sent)
			break;
		api_sleep_ms(1);
	}
	atomic_store(&rx.stop, 1);
	api_rx_join(&rx);
	api_pump((struct api_rec *[]){&s, &h}, 2, NULL, NULL, 100);
	size_t big = ordo_max_message_size(s.c);
	uint8_t *pattern = malloc(big);
	assert_non_null(pattern);
	api_fill(pattern, big, 1000);
	uint64_t small = 0, whole = 0;
	for (uint64_t k = 0; k < s.msgs; k++) {
		const struct api_msg *m = &s.m[k];
		if (m->size == sizeof(buf)) {
			api_fill(buf, sizeof(buf), small);
			assert_int_equal(m->tag, small);
			assert_int_equal(m->sum, api_sum(buf, sizeof(buf)));
			small++;
			continue;
		}
		/* a big one: whole and byte-exact */
		if (m->size != big)
			fail_msg("a message of %u bytes (partial?) delivered", m->size);
		memcpy(pattern, &m->tag, 8);
		assert_int_equal(m->sum, api_sum(pattern, big));
		assert_int_equal(m->tag, 1000 + whole);
		whole++;
	}
	/* no piece of an unfinished message is half-assembled in the library */
	int pending = 0;
	for (int nd = 0; nd < 64; nd++)
		for (int pr = 0; pr < (int)ORDO_PRIORITIES; pr++)
			pending += s.c->rs[nd][pr].active;
	printf("# publisher of %zu B messages killed %.0f ms after it began: the subscriber got %llu whole big message(s), %llu/%llu small ones, %d half-assembled, %llu bad records; the healthy client got %llu/%llu (small + whole big)\n",
	       big, killed_at, (unsigned long long)whole, (unsigned long long)small, (unsigned long long)sent, pending,
	       (unsigned long long)s.c->garbage, (unsigned long long)h.msgs, (unsigned long long)(sent + whole));
	assert_int_equal(small, sent);
	/* the healthy member gets every small one and the same whole big ones:
	 * a big message the publisher committed completely before it was
	 * killed is still ordered (docs/attach.md §1) */
	assert_int_equal(h.msgs, sent + whole);
	assert_int_equal(pending, 0);
	assert_int_equal(s.c->garbage, 0);
	assert_int_equal(s.detached, 0);
	assert_int_equal(h.detached, 0);
	free(pattern);
	api_rec_free_all((struct api_rec *[]){&n, &s, &h}, 3);
}

API_MAIN((api_nodes_opts[0] = (struct api_node_opts){.max_message_size = 64u << 20, .client_evict_ms = EVICT_MS, .assembly_timeout_ms = ASSEMBLY_MS}),
		cmocka_unit_test(test_garbage_submit),
		cmocka_unit_test(test_slow_client),
		cmocka_unit_test(test_publisher_killed),
		cmocka_unit_test(test_forged_group_op),
		cmocka_unit_test(test_partial_message))
