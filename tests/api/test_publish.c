/* test_publish.c — include/ordo.h ordo_publish: AGREED and SAFE delivery
 * to every member (the publisher too), open groups, FIFO per client and
 * priority, priorities, empty messages, the size limit (ORDO_E2BIG), bad
 * arguments (ORDO_EINVAL), a full submit ring (ORDO_EAGAIN), the
 * publish sequence numbers, publishing to a node that sleeps when idle
 * (`idle = block`: the client rings its doorbell), the node's own check
 * of the size limit against a client that writes its submit ring itself,
 * the node's budget (docs/attach.md §6: a client publishes at most
 * [node] client_budget_kib, one token visit by default, ahead of the ring), and a
 * publisher that found no room sleeping in ordo_wait until the node frees
 * some (ATT_ENGINE_ROOM); and publishing in place (ordo_publish_reserve,
 * ordo_publish_commit): byte-exact up to the largest reservation, and
 * misuse refused with ORDO_EINVAL, publishing nothing.
 *
 *   test-api-publish ORDOD       (the node has the default 1 MiB max_message_size)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <pthread.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "api_node.h"
#include "ordo_client_internal.h"
#include "shm_ring.h"

/* [node] client_budget_kib's default at the api nodes' MTU 9000 and 64
 * max_messages (api_node.c sets neither budget nor MTU): one token visit,
 * 64 x 9000 B rounded up to 563 KiB */
#define API_BUDGET (563u << 10)
#define OVER 31u /* 32 - 1: the envelope's room a 1-byte group name leaves */

struct two {
	struct api_rec *a, *b;
	uint64_t n;
};

static int both_have(void *arg)
{
	struct two *t = arg;
	return t->a->msgs >= t->n && (t->b == NULL || t->b->msgs >= t->n);
}

static int wait_both(struct api_rec *a, struct api_rec *b, uint64_t n, unsigned ms)
{
	struct two t = {a, b, n};
	struct api_rec *v[2] = {a, b};
	return api_pump(v, b != NULL ? 2 : 1, both_have, &t, ms);
}

/* (ring, seq, index) strictly grows along what one client delivered. */
static void assert_positions_grow(const struct api_rec *r, uint64_t n)
{
	for (uint64_t i = 1; i < n; i++) {
		const struct ordo_position *p = &r->m[i - 1].pos, *q = &r->m[i].pos;
		int grows = q->ring.seq > p->ring.seq ||
			    (q->ring.seq == p->ring.seq && (q->seq > p->seq || (q->seq == p->seq && q->index > p->index)));
		if (!grows)
			fail_msg("%s: position of message %llu (%llu/%llu.%u) does not follow %llu/%llu.%u", r->name,
				 (unsigned long long)i, (unsigned long long)q->ring.seq, (unsigned long long)q->seq,
				 q->index, (unsigned long long)p->ring.seq, (unsigned long long)p->seq, p->index);
	}
}

/* Both clients delivered the same messages in the same order. */
static void assert_same_order(const struct api_rec *a, const struct api_rec *b, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		assert_int_equal(a->m[i].tag, b->m[i].tag);
		assert_int_equal(a->m[i].sum, b->m[i].sum);
		assert_int_equal(a->m[i].pos.seq, b->m[i].pos.seq);
		assert_int_equal(a->m[i].pos.index, b->m[i].pos.index);
	}
}

static void test_agreed_safe(void **state)
{
	(void)state;
	struct api_rec a, b;
	api_attach_pair(&a, "a", &b, "b", 16, "p1");
	uint64_t t0 = api_now_ns();
	assert_int_equal(ordo_publish(a.c, "p1", 2, "agreed-0", 8, ORDO_AGREED, 1), 0);
	assert_int_equal(ordo_publish(a.c, "p1", 2, "safe-1..", 8, ORDO_SAFE, 1), 1);
	assert_true(wait_both(&a, &b, 2, 5000));
	printf("# AGREED + SAFE delivered to both members (publisher included) in %.2f ms\n", api_ms_since(t0));
	uint64_t tag0;
	memcpy(&tag0, "agreed-0", 8);
	for (int i = 0; i < 2; i++) {
		const struct api_rec *r = i ? &b : &a;
		assert_int_equal(r->msgs, 2);
		assert_int_equal(r->m[0].service, ORDO_AGREED);
		assert_int_equal(r->m[1].service, ORDO_SAFE);
		assert_int_equal(r->m[0].tag, tag0);
		assert_int_equal(r->m[0].size, 8);
		assert_int_equal(r->m[0].priority, 1);
		assert_true(api_same_member(r->m[0].sender, ordo_self(a.c)));
		assert_true(api_same_member(r->m[1].sender, ordo_self(a.c)));
		assert_string_equal(r->m[0].group, "p1");
	}
	assert_same_order(&a, &b, 2);
	api_rec_free_all((struct api_rec *[]){&a, &b}, 2);
}

/* The publisher need not be a member; it then receives nothing. */
static void test_open_group(void **state)
{
	(void)state;
	struct api_rec a, b, c;
	api_attach(&a, "a", 16, 0, 0);
	api_attach(&b, "b", 16, 0, 0);
	api_attach(&c, "outsider", 16, 0, 0);
	api_join_wait(&a, "p2");
	api_join_wait(&b, "p2");
	api_join_wait(&c, "c-own");
	assert_int_equal(ordo_publish(c.c, "p2", 2, "from outside", 12, ORDO_AGREED, 1), 0);
	assert_int_equal(ordo_publish(c.c, "c-own", 5, "marker..", 8, ORDO_AGREED, 1), 1);
	assert_true(wait_both(&a, &b, 1, 5000));
	assert_true(api_wait_msgs(&c, 1, 5000));
	/* the marker came after the p2 message (FIFO): c got only its own group */
	assert_int_equal(c.msgs, 1);
	assert_string_equal(c.m[0].group, "c-own");
	for (int i = 0; i < 2; i++) {
		const struct api_rec *r = i ? &b : &a;
		assert_int_equal(r->m[0].size, 12);
		assert_true(api_same_member(r->m[0].sender, ordo_self(c.c)));
	}
	/* a group with no members at all: accepted, delivered to nobody */
	assert_int_equal(ordo_publish(c.c, "nobody", 6, "void", 4, ORDO_AGREED, 1), 2);
	assert_int_equal(ordo_publish(c.c, "c-own", 5, "marker2.", 8, ORDO_AGREED, 1), 3);
	assert_true(api_wait_msgs(&c, 2, 5000));
	api_pump((struct api_rec *[]){&a, &b}, 2, NULL, NULL, 50);
	assert_int_equal(a.msgs, 1);
	assert_int_equal(b.msgs, 1);
	assert_int_equal(c.msgs, 2);
	api_rec_free_all((struct api_rec *[]){&a, &b, &c}, 3);
}

static void test_fifo_1000(void **state)
{
	(void)state;
	enum { N = 1000 };
	struct api_rec a, b;
	api_attach_pair(&a, "a", &b, "b", N + 8, "p3");
	uint8_t buf[64];
	uint64_t t0 = api_now_ns(), eagain = 0;
	for (uint64_t i = 0; i < N; i++) {
		api_fill(buf, sizeof(buf), i);
		int64_t s;
		while ((s = ordo_publish(a.c, "p3", 2, buf, sizeof(buf), ORDO_AGREED, 1)) == ORDO_EAGAIN) {
			eagain++;
			(void)ordo_poll(a.c, 256);
			(void)ordo_poll(b.c, 256);
		}
		assert_int_equal(s, (int64_t)i);
	}
	double pub_ms = api_ms_since(t0);
	assert_true(wait_both(&a, &b, N, 20000));
	double all_ms = api_ms_since(t0);
	printf("# %d messages of 64 B: published in %.1f ms (%llu EAGAIN), delivered to both in %.1f ms (%.0f msg/s)\n",
	       N, pub_ms, (unsigned long long)eagain, all_ms, N / (all_ms / 1000.0));
	for (int k = 0; k < 2; k++) {
		const struct api_rec *r = k ? &b : &a;
		assert_int_equal(r->msgs, N);
		for (uint64_t i = 0; i < N; i++) {
			if (r->m[i].tag != i)
				fail_msg("%s: message %llu has number %llu", r->name, (unsigned long long)i,
					 (unsigned long long)r->m[i].tag);
			api_fill(buf, sizeof(buf), i);
			assert_int_equal(r->m[i].sum, api_sum(buf, sizeof(buf)));
		}
		assert_positions_grow(r, N);
	}
	assert_same_order(&a, &b, N);
	api_pump((struct api_rec *[]){&a, &b}, 2, NULL, NULL, 50);
	assert_int_equal(a.msgs, N); /* once each */
	assert_int_equal(b.msgs, N);
	api_rec_free_all((struct api_rec *[]){&a, &b}, 2);
}

/* Three priorities and two services, interleaved: FIFO within each
 * (client, priority); everything delivered once, in one order at every
 * member. A higher priority may overtake a lower one not yet ordered. */
static void test_priorities(void **state)
{
	(void)state;
	enum { N = 600 };
	struct api_rec a, b;
	api_attach_pair(&a, "a", &b, "b", N + 400, "p4");
	uint64_t next[ORDO_PRIORITIES] = {0};
	uint8_t buf[200];
	for (uint64_t i = 0; i < N; i++) {
		unsigned prio = (unsigned)((i * 7u) % ORDO_PRIORITIES);
		uint64_t tag = ((uint64_t)prio << 32) | next[prio]++;
		api_fill(buf, sizeof(buf), tag);
		enum ordo_service svc = (i % 5u) == 0 ? ORDO_SAFE : ORDO_AGREED;
		assert_int_equal(api_publish(a.c, &a, "p4", buf, 16 + (i % 150u), svc, prio, 5000), (int64_t)i);
	}
	assert_true(wait_both(&a, &b, N, 20000));
	uint64_t seen[ORDO_PRIORITIES] = {0}, overtakes = 0, by_prio[ORDO_PRIORITIES] = {0};
	uint64_t last_pub = 0;
	for (uint64_t i = 0; i < N; i++) {
		const struct api_msg *m = &a.m[i];
		unsigned prio = (unsigned)(m->tag >> 32);
		uint64_t k = m->tag & 0xffffffffu;
		assert_int_equal(m->priority, prio);
		if (k != seen[prio])
			fail_msg("priority %u: message %llu arrived when %llu was due", prio, (unsigned long long)k,
				 (unsigned long long)seen[prio]);
		seen[prio]++;
		by_prio[prio]++;
		/* publish order of this message (i-th publish had prio (i*7)%3) */
		uint64_t count = 0, pub = 0;
		for (pub = 0; pub < N; pub++)
			if ((pub * 7u) % ORDO_PRIORITIES == prio && count++ == k)
				break;
		if (pub < last_pub)
			overtakes++;
		else
			last_pub = pub;
		assert_int_equal(m->service, (pub % 5u) == 0 ? ORDO_SAFE : ORDO_AGREED);
		assert_int_equal(m->size, 16 + (pub % 150u));
	}
	printf("# %d messages over priorities 0/1/2 (%llu/%llu/%llu): FIFO per priority holds; %llu delivered before an earlier-published message\n",
	       N, (unsigned long long)by_prio[0], (unsigned long long)by_prio[1], (unsigned long long)by_prio[2],
	       (unsigned long long)overtakes);
	assert_positions_grow(&a, N);
	assert_positions_grow(&b, N);
	assert_same_order(&a, &b, N);

	/* a backlog of low-priority messages, then one of the highest: it may
	 * overtake those not yet ordered (measured, not required) */
	enum { BACKLOG = 300 };
	uint8_t *big = malloc(8000);
	assert_non_null(big);
	uint64_t base = a.msgs;
	for (uint64_t i = 0; i < BACKLOG; i++) {
		api_fill(big, 8000, (2ull << 32) | (1000 + i));
		assert_true(api_publish(a.c, NULL, "p4", big, 8000, ORDO_AGREED, 2, 5000) >= 0);
	}
	api_fill(big, 8000, 1000);
	assert_true(api_publish(a.c, NULL, "p4", big, 8000, ORDO_AGREED, 0, 5000) >= 0);
	assert_true(wait_both(&a, &b, base + BACKLOG + 1, 20000));
	uint64_t at = 0;
	for (uint64_t i = base; i < base + BACKLOG + 1; i++)
		if (a.m[i].priority == 0)
			at = i - base;
	printf("# %d priority-2 messages of 8000 B then one of priority 0: it was delivered %lluth (%llu overtaken)\n",
	       BACKLOG, (unsigned long long)at + 1, (unsigned long long)(BACKLOG - at));
	for (uint64_t i = base, k = 1000; i < base + BACKLOG + 1; i++)
		if (a.m[i].priority == 2)
			assert_int_equal(a.m[i].tag, (2ull << 32) | k++);
	assert_same_order(&a, &b, base + BACKLOG + 1);
	free(big);
	api_rec_free_all((struct api_rec *[]){&a, &b}, 2);
}

static void test_zero_byte(void **state)
{
	(void)state;
	struct api_rec a;
	api_attach(&a, "a", 8, 0, 0);
	api_join_wait(&a, "p5");
	assert_int_equal(ordo_publish(a.c, "p5", 2, NULL, 0, ORDO_AGREED, 1), 0);
	assert_int_equal(ordo_publish(a.c, "p5", 2, "ignored", 0, ORDO_SAFE, 0), 1);
	assert_int_equal(ordo_publish(a.c, "p5", 2, "12345678", 8, ORDO_AGREED, 2), 2);
	assert_true(api_wait_msgs(&a, 3, 5000));
	assert_int_equal(a.m[0].size, 0);
	assert_int_equal(a.m[0].service, ORDO_AGREED);
	assert_int_equal(a.m[1].size, 0);
	assert_int_equal(a.m[1].service, ORDO_SAFE);
	assert_int_equal(a.m[1].priority, 0);
	assert_int_equal(a.m[2].size, 8);
	printf("# two empty messages delivered (size 0), then an 8-byte one\n");
	api_rec_free(&a);
}

static void test_too_big(void **state)
{
	(void)state;
	struct api_rec a, b;
	api_attach(&a, "a", 8, 0, 0);
	api_attach(&b, "b", 8, 0, 0);
	api_join_wait(&b, "p6-with-a-name-of-32-bytes-long");
	size_t max = ordo_max_message_size(a.c);
	printf("# default [ring] max_message_size 1048576: ordo_max_message_size %zu\n", max);
	assert_true(max <= 1048576 && max >= 1048576 - 34);
	uint8_t *buf = malloc(max + 1);
	assert_non_null(buf);
	api_fill(buf, max + 1, 77);
	const char *g = "p6-with-a-name-of-32-bytes-long";
	assert_int_equal(strlen(g), 31);
	assert_int_equal(ordo_publish(a.c, g, 31, buf, max + 1, ORDO_AGREED, 1), ORDO_E2BIG);
	assert_int_equal(ordo_publish(a.c, g, 31, buf, 64u << 20, ORDO_AGREED, 1), ORDO_E2BIG);
	assert_int_equal(ordo_publish(a.c, g, 31, buf, SIZE_MAX, ORDO_AGREED, 1), ORDO_E2BIG);
	/* exactly the maximum is accepted (and a refusal did not use a number) */
	uint64_t t0 = api_now_ns();
	assert_int_equal(api_publish(a.c, NULL, g, buf, max, ORDO_AGREED, 1, 5000), 0);
	/* the longest group name with the largest message: the envelope fits too */
	char g32[33];
	memset(g32, 'G', 32);
	g32[32] = '\0';
	api_join_wait(&b, g32);
	assert_int_equal(api_publish(a.c, NULL, g32, buf, max, ORDO_SAFE, 2, 5000), 1);
	assert_true(api_wait_msgs(&b, 2, 10000));
	printf("# two messages of the maximum size delivered in %.1f ms\n", api_ms_since(t0));
	assert_int_equal(b.m[0].size, max);
	assert_int_equal(b.m[0].sum, api_sum(buf, max));
	assert_int_equal(b.m[1].size, max);
	assert_int_equal(b.m[1].sum, api_sum(buf, max));
	assert_string_equal(b.m[1].group, g32);
	/* a node with max_message_size = 64 MiB... is another test (receive) */
	free(buf);
	api_rec_free_all((struct api_rec *[]){&a, &b}, 2);
}

/* Writes one whole PUBLISH of size data bytes to group straight into c's
 * submit ring, past libordo's own check of the size. */
static void put_publish(struct ordo_client *c, const char *group, const uint8_t *data, uint32_t size)
{
	uint8_t glen = (uint8_t)strlen(group);
	struct att_publish p = {.service = ORDO_AGREED, .priority = 1, .msg_size = size};
	uint32_t len = (uint32_t)sizeof(p) + ATT_ENV_HEAD(glen) + size;
	enum shm_ring_status st;
	uint8_t *w = shm_ring_reserve(&c->submit, len, &st);
	assert_non_null(w);
	memcpy(w, &p, sizeof(p));
	w[sizeof(p)] = ATT_ENV_USER;
	w[sizeof(p) + 1] = glen;
	memcpy(w + sizeof(p) + 2, group, glen);
	memcpy(w + sizeof(p) + ATT_ENV_HEAD(glen), data, size);
	shm_ring_commit(&c->submit, len, ATT_REC_PUBLISH, ATT_F_FIRST | ATT_F_LAST);
}

/* Regression (issue 14): the node checked a PUBLISH against its transport
 * limit (max_message_size plus the longest envelope), not against
 * max_message_size, so a client writing its ring itself with a short group
 * name got up to 31 bytes more ordered; every libordo subscriber then
 * dropped it as garbage while ordod counted it delivered. The node takes
 * exactly max_message_size data bytes, and a record over it is garbage:
 * its writer is evicted, nothing is ordered. */
static void test_over_limit_direct(void **state)
{
	(void)state;
	struct api_rec w, s, o;
	api_attach(&w, "writer", 0, 16u << 20, 0); /* a record of 4 MiB: the message fits whole */
	api_attach(&s, "sub", 8, 0, 0);
	api_attach(&o, "other", 0, 0, 0);
	api_join_wait(&s, "o");
	uint32_t max = (uint32_t)ordo_max_message_size(w.c);
	uint8_t *buf = malloc(max + 64);
	assert_non_null(buf);
	api_fill(buf, max + 64, 91);
	/* exactly the limit: ordered and delivered */
	put_publish(w.c, "o", buf, max);
	assert_true(api_wait_msgs(&s, 1, 10000));
	assert_int_equal(s.m[0].size, max);
	/* over it by what a 1-byte group name leaves of the envelope */
	put_publish(w.c, "o", buf, max + OVER);
	uint64_t t0 = api_now_ns();
	while (atomic_load(&w.c->hdr->state) == ATT_STATE_ATTACHED && api_ms_since(t0) < 3000) {
		api_pump((struct api_rec *[]){&s}, 1, NULL, NULL, 0);
		api_sleep_ms(1);
	}
	uint32_t wstate = atomic_load(&w.c->hdr->state);
	/* a message after it: when s has it, s has had everything before it */
	assert_true(api_publish(o.c, NULL, "o", "after", 5, ORDO_AGREED, 1, 5000) >= 0);
	assert_true(api_wait_msgs(&s, 2, 10000));
	api_pump((struct api_rec *[]){&s}, 1, NULL, NULL, 50);
	printf("# %u + %u bytes written into the submit ring: the writer is %s; the subscriber got %llu message(s) (sizes %u, %u), %llu garbage\n",
	       max, OVER, wstate == ATT_STATE_EVICTED ? "evicted" : "still attached",
	       (unsigned long long)s.msgs, s.m[0].size, s.m[1].size, (unsigned long long)s.c->garbage);
	assert_int_equal(s.c->garbage, 0);  /* failed before: the over-size message was ordered, then dropped */
	assert_int_equal(s.msgs, 2);
	assert_int_equal(s.m[1].size, 5);
	assert_int_equal(wstate, ATT_STATE_EVICTED);
	free(buf);
	api_rec_free_all((struct api_rec *[]){&w, &s, &o}, 3);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	struct api_rec a;
	api_attach(&a, "a", 8, 0, 0);
	api_join_wait(&a, "p7");
	assert_int_equal(ordo_publish(a.c, "p7", 2, "x", 1, (enum ordo_service)0, 1), ORDO_EINVAL);
	assert_int_equal(ordo_publish(a.c, "p7", 2, "x", 1, (enum ordo_service)3, 1), ORDO_EINVAL);
	assert_int_equal(ordo_publish(a.c, "p7", 2, "x", 1, (enum ordo_service)-1, 1), ORDO_EINVAL);
	assert_int_equal(ordo_publish(a.c, "p7", 2, "x", 1, ORDO_AGREED, ORDO_PRIORITIES), ORDO_EINVAL);
	assert_int_equal(ordo_publish(a.c, "p7", 2, "x", 1, ORDO_SAFE, 100), ORDO_EINVAL);
	assert_int_equal(ordo_publish(a.c, "p7", 2, "x", 1, ORDO_SAFE, ~0u), ORDO_EINVAL);
	assert_int_equal(ordo_publish(a.c, "p7", 2, NULL, 1, ORDO_AGREED, 1), ORDO_EINVAL);
	assert_int_equal(ordo_publish(a.c, NULL, 2, "x", 1, ORDO_AGREED, 1), ORDO_EINVAL);
	/* refusals do not use sequence numbers; nothing was delivered */
	assert_int_equal(ordo_publish(a.c, "p7", 2, "ok", 2, ORDO_AGREED, ORDO_PRIORITIES - 1), 0);
	assert_true(api_wait_msgs(&a, 1, 5000));
	api_pump((struct api_rec *[]){&a}, 1, NULL, NULL, 30);
	assert_int_equal(a.msgs, 1);
	assert_int_equal(a.m[0].size, 2);
	assert_int_equal(a.m[0].priority, ORDO_PRIORITIES - 1);
	api_rec_free(&a);
}

/* r got exactly messages 0..n-1 of `size` bytes (api_fill), once each, in
 * order (a few more pumps first: nothing may follow); buf: size bytes. */
static void all_once_in_order(struct api_rec *r, uint64_t n, uint8_t *buf, size_t size)
{
	api_pump((struct api_rec *[]){r}, 1, NULL, NULL, 50);
	assert_int_equal(r->msgs, n);
	for (uint64_t i = 0; i < n; i++) {
		assert_int_equal(r->m[i].tag, i);
		api_fill(buf, size, i);
		assert_int_equal(r->m[i].sum, api_sum(buf, size));
	}
}

/* A 64 KiB submit ring fills in a burst (a record stays in the ring until
 * the node has ordered it: zero copy). ORDO_EAGAIN costs no sequence
 * number, and every message accepted is delivered once. */
static void test_eagain(void **state)
{
	(void)state;
	enum { N = 200, SIZE = 15000 };
	struct api_rec e, s;
	api_attach(&e, "small-submit", 0, 65536, 0);
	api_attach(&s, "sub", N + 8, 0, 0);
	api_join_wait(&s, "p8");
	uint8_t *buf = malloc(SIZE);
	assert_non_null(buf);
	uint64_t eagain = 0, bursts_with_eagain = 0, first_eagain_at = 0;
	/* the first burst with the node stopped (SIGSTOP: it takes nothing), so
	 * the ring's capacity alone decides where EAGAIN comes, whatever the
	 * two processes' speeds; the node runs again for the bursts after it */
	uint64_t rec = SHM_RING_REC_HDR + shm_ring_round(sizeof(struct att_publish) + ATT_ENV_HEAD(2) + SIZE);
	uint64_t fit = 65536 / rec;
	assert_true(fit >= 1 && fit * rec < API_BUDGET); /* well inside the node's budget */
	assert_int_equal(kill(api_nodes[0].pid, SIGSTOP), 0);
	int st;
	assert_int_equal(waitpid(api_nodes[0].pid, &st, WUNTRACED), api_nodes[0].pid);
	assert_true(WIFSTOPPED(st));
	bool stopped = true;
	uint64_t t0 = api_now_ns();
	for (uint64_t i = 0; i < N;) {
		/* a burst: as fast as possible, no polls in between */
		uint64_t burst_eagain = 0;
		while (i < N) {
			api_fill(buf, SIZE, i);
			int64_t rc = ordo_publish(e.c, "p8", 2, buf, SIZE, ORDO_AGREED, 1);
			if (rc == ORDO_EAGAIN) {
				if (eagain == 0)
					first_eagain_at = i;
				eagain++;
				burst_eagain++;
				break;
			}
			assert_int_equal(rc, (int64_t)i); /* 0, 1, 2, ... without gaps */
			i++;
		}
		bursts_with_eagain += burst_eagain != 0;
		if (stopped) {
			assert_int_equal(kill(api_nodes[0].pid, SIGCONT), 0);
			stopped = false;
		}
		(void)ordo_poll(s.c, 256);
		struct timespec ts = {0, 200000};
		nanosleep(&ts, NULL);
	}
	double ms = api_ms_since(t0);
	assert_true(api_wait_msgs(&s, N, 20000));
	printf("# %d x %d B through a 64 KiB submit ring in %.1f ms: %llu EAGAIN (first after %llu messages), %llu bursts ended by EAGAIN\n",
	       N, SIZE, ms, (unsigned long long)eagain, (unsigned long long)first_eagain_at,
	       (unsigned long long)bursts_with_eagain);
	/* the ring holds `fit` such records: with the node stopped, the first
	 * burst ends with EAGAIN exactly when they are in */
	assert_true(eagain > 0);
	assert_int_equal(first_eagain_at, fit);
	all_once_in_order(&s, N, buf, SIZE);
	free(buf);
	api_rec_free_all((struct api_rec *[]){&e, &s}, 2);
}

/* A publisher `e` and a subscriber `s` (a member of group, 2 bytes), a
 * buffer of size bytes, and the node stopped (SIGSTOP, every thread: it
 * takes nothing until SIGCONT). */
static uint8_t *stopped_node_pair(struct api_rec *e, struct api_rec *s, const char *group, size_t size)
{
	api_attach(e, "pub", 0, 0, 0);
	api_attach(s, "sub", 256, 0, 0);
	api_join_wait(s, group);
	uint8_t *buf = malloc(size);
	assert_non_null(buf);
	while (ordo_poll(e->c, 64) > 0)
		;
	assert_int_equal(kill(api_nodes[0].pid, SIGSTOP), 0);
	int st;
	assert_int_equal(waitpid(api_nodes[0].pid, &st, WUNTRACED), api_nodes[0].pid);
	assert_true(WIFSTOPPED(st));
	return buf;
}

/* The budget: with the node stopped (SIGSTOP, so it takes nothing), a
 * client fills its 4 MiB submit ring only up to the node's 563 KiB budget
 * before publish says ORDO_EAGAIN (exactly as many records as fit in it);
 * once the node runs again every accepted message is delivered once, in
 * order, and publishing goes on. */
static void test_budget(void **state)
{
	(void)state;
	enum { SIZE = 15000, MORE = 20 };
	struct api_rec e, s;
	uint64_t rec = SHM_RING_REC_HDR + shm_ring_round(sizeof(struct att_publish) + ATT_ENV_HEAD(2) + SIZE);
	uint64_t fit = API_BUDGET / rec;
	assert_true(fit * rec < (4u << 20) / 2); /* the ring alone would take far more */
	uint8_t *buf = stopped_node_pair(&e, &s, "pb", SIZE);
	uint64_t accepted = 0;
	for (;;) {
		api_fill(buf, SIZE, accepted);
		int64_t rc = ordo_publish(e.c, "pb", 2, buf, SIZE, ORDO_AGREED, 1);
		if (rc == ORDO_EAGAIN)
			break;
		assert_int_equal(rc, (int64_t)accepted);
		accepted++;
		assert_true(accepted <= fit);
	}
	assert_int_equal(kill(api_nodes[0].pid, SIGCONT), 0);
	printf("# node stopped: %llu records of %llu B accepted, then ORDO_EAGAIN (budget 563 KiB)\n",
	       (unsigned long long)accepted, (unsigned long long)rec);
	assert_int_equal(accepted, fit);
	for (uint64_t i = accepted; i < accepted + MORE; i++) {
		api_fill(buf, SIZE, i);
		assert_int_equal(api_publish(e.c, &e, "pb", buf, SIZE, ORDO_AGREED, 1, 5000), (int64_t)i);
	}
	assert_true(api_wait_msgs(&s, accepted + MORE, 20000));
	all_once_in_order(&s, accepted + MORE, buf, SIZE);
	free(buf);
	api_rec_free_all((struct api_rec *[]){&e, &s}, 2);
}

static void *resume_later(void *arg)
{
	api_sleep_ms(300);
	(void)kill(*(pid_t *)arg, SIGCONT);
	return NULL;
}

/* A publisher that is no member of the group (nothing is delivered to it)
 * fills its budget while the node is stopped, then sleeps in ordo_wait with
 * a 20 s timeout; the node resumes 300 ms later, takes its records and
 * releases their room: that, and nothing else, must wake the publisher,
 * which then publishes again. Without the wake it would sleep out its
 * 20 s. Every message is then delivered once, in order. */
static void test_room_wake(void **state)
{
	(void)state;
	enum { SIZE = 15000 };
	struct api_rec e, s;
	uint8_t *buf = stopped_node_pair(&e, &s, "pw", SIZE);
	pid_t pid = api_nodes[0].pid;
	uint64_t accepted = 0;
	int64_t rc;
	while (api_fill(buf, SIZE, accepted), (rc = ordo_publish(e.c, "pw", 2, buf, SIZE, ORDO_AGREED, 1)) >= 0)
		assert_int_equal(rc, (int64_t)accepted++);
	assert_int_equal(rc, ORDO_EAGAIN);
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, resume_later, &pid), 0);
	uint64_t t0 = api_now_ns();
	assert_int_equal(ordo_wait(e.c, 16, 20000), 0); /* woken, and nothing was delivered */
	double ms = api_ms_since(t0);
	assert_int_equal(pthread_join(t, NULL), 0);
	printf("# %llu records accepted with the node stopped; ordo_wait after ORDO_EAGAIN woke %.0f ms later (node resumed at 300 ms)\n",
	       (unsigned long long)accepted, ms);
	assert_true(ms >= 250.0 && ms < 10000.0);
	api_fill(buf, SIZE, accepted);
	assert_int_equal(ordo_publish(e.c, "pw", 2, buf, SIZE, ORDO_AGREED, 1), (int64_t)accepted);
	assert_true(api_wait_msgs(&s, accepted + 1, 20000));
	all_once_in_order(&s, accepted + 1, buf, SIZE);
	free(buf);
	api_rec_free_all((struct api_rec *[]){&e, &s}, 2);
}

/* Sequence numbers: per client, from 0, one per accepted publish, in every
 * kind of publish (small, empty, in pieces), whatever errors come between. */
static void test_sequence_numbers(void **state)
{
	(void)state;
	struct api_rec a, b;
	api_attach(&a, "a", 0, 0, 0);
	api_attach(&b, "b", 0, 0, 0);
	size_t big = 2u << 20 < ordo_max_message_size(a.c) ? 2u << 20 : ordo_max_message_size(a.c);
	uint8_t *buf = calloc(1, big);
	assert_non_null(buf);
	int64_t expect = 0;
	for (int i = 0; i < 100; i++) {
		size_t size = i % 10 == 9 ? big : (size_t)(i % 3) * 100;
		int64_t rc = api_publish(a.c, &a, "p9", buf, size, ORDO_AGREED, (unsigned)i % 3, 5000);
		assert_int_equal(rc, expect++);
		if (i % 7 == 0) {
			assert_int_equal(ordo_publish(a.c, "p9", 2, buf, 1, ORDO_AGREED, 9), ORDO_EINVAL);
			assert_int_equal(ordo_publish(a.c, "p9", 2, buf, ordo_max_message_size(a.c) + 1, ORDO_AGREED, 1),
					 ORDO_E2BIG);
		}
		/* another client's numbers are its own */
		if (i % 10 == 0)
			assert_int_equal(ordo_publish(b.c, "p9", 2, "b", 1, ORDO_AGREED, 1), i / 10);
	}
	printf("# 100 publishes (empty, small, %zu B in pieces) numbered 0..99\n", big);
	free(buf);
	api_rec_free_all((struct api_rec *[]){&a, &b}, 2);
}

/* idle = block: a node with nothing to do sleeps in epoll; a publish must
 * wake it through the doorbell (attach_proto.h ATT_ENGINE_BLOCKS), not
 * wait for its next timer. Each message is published after a pause longer
 * than the node's 50 us grace, delivered back, and counted; the daemon's
 * final log line says what ended its sleeps. Without the doorbell every
 * wake-up would be a timer's. */
static void test_block_doorbell(void **state)
{
	(void)state;
	enum { N = 100 };
	struct api_node bn;
	struct api_node_opts o = {.idle = "block"};
	assert_int_equal(api_node_start(&bn, &o), 0);
	struct api_rec a;
	assert_int_equal(api_rec_attach(&a, "a", bn.sock, NULL, N + 8, 0, 0), ORDO_OK);
	uint32_t before = a.view_count;
	assert_int_equal(ordo_join(a.c, "db", 2), ORDO_OK);
	assert_true(api_wait_views(&a, before + 1, 5000));
	uint8_t buf[64];
	uint64_t t0 = api_now_ns();
	for (uint64_t i = 0; i < N; i++) {
		api_sleep_ms(2);
		api_fill(buf, sizeof(buf), i);
		assert_int_equal(ordo_publish(a.c, "db", 2, buf, sizeof(buf), ORDO_AGREED, 1), (int64_t)i);
		assert_true(api_wait_msgs(&a, i + 1, 5000));
		assert_int_equal(a.m[i].tag, i);
	}
	double ms = api_ms_since(t0) - 2.0 * N;
	api_rec_detach(&a);
	api_rec_free(&a);
	assert_int_equal(api_node_stop(&bn), 0);
	long long doorbell = api_node_log_number(&bn, "by the doorbell ");
	long long timers = api_node_log_number(&bn, "by timers ");
	printf("# idle = block: %d messages one at a time, %.0f us per round trip beyond the pauses; the node's sleeps ended %lld times by the doorbell, %lld by timers\n",
	       N, ms * 1000.0 / N, doorbell, timers);
	api_node_cleanup(&bn);
	/* every publish found the node asleep (2 ms pauses, 50 us grace), but
	 * the pause may end exactly on a timer wake-up: most, not all */
	assert_true(doorbell >= N / 2);
}

/* ---- publishing in place: ordo_publish_reserve / ordo_publish_commit ---- */

/* Reserves, writes in place, commits: the message arrives byte-exact at
 * every size up to the largest reservation; the sequence numbers are
 * ordo_publish's; a larger size is ORDO_E2BIG. */
static void test_reserve_commit(void **state)
{
	(void)state;
	struct api_rec a;
	api_attach(&a, "a", 16, 0, 0);
	api_join_wait(&a, "rc");
	size_t max = ordo_max_reserve_size(a.c);
	size_t sizes[] = {0, 1, 1024, 9000, 65536, max};
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	uint8_t *buf = malloc(max);
	assert_non_null(buf);
	int64_t first = api_publish_first(&a, "rc", "x", 1, 5000);
	assert_true(first >= 0);
	for (int i = 0; i < N; i++) {
		void *w = NULL;
		int rc;
		while ((rc = ordo_publish_reserve(a.c, "rc", 2, sizes[i], ORDO_SAFE, 2, &w)) == ORDO_EAGAIN)
			(void)ordo_poll(a.c, 64);
		assert_int_equal(rc, ORDO_OK);
		assert_non_null(w);
		/* in place: inside the client's region, in its submit ring */
		assert_true((uint8_t *)w >= a.c->region && (uint8_t *)w + sizes[i] <= a.c->region + a.c->region_size);
		api_fill(buf, sizes[i], 500u + (uint64_t)i);
		memcpy(w, buf, sizes[i]);
		assert_int_equal(ordo_publish_commit(a.c, w), first + 1 + i);
		assert_true(api_wait_msgs(&a, 2u + (uint64_t)i, 10000));
		const struct api_msg *m = &a.m[1 + i];
		assert_int_equal(m->size, sizes[i]);
		assert_int_equal(m->sum, api_sum(buf, sizes[i]));
		assert_int_equal(m->service, ORDO_SAFE);
		assert_int_equal(m->priority, 2);
	}
	void *w = (void *)1;
	assert_int_equal(ordo_publish_reserve(a.c, "rc", 2, max + 1, ORDO_AGREED, 1, &w), ORDO_E2BIG);
	assert_null(w);
	printf("# reserve/commit: %d sizes up to %zu B delivered byte-exact; %zu B is ORDO_E2BIG\n", N, max, max + 1);
	free(buf);
	api_rec_free(&a);
}

/* Misuse gets ORDO_EINVAL and publishes nothing: a commit without a
 * reservation, of another pointer, twice, after the reservation was
 * abandoned by an ordo_publish or another reserve; bad arguments. */
static void test_reserve_misuse(void **state)
{
	(void)state;
	struct api_rec a;
	api_attach(&a, "a", 16, 0, 0);
	api_join_wait(&a, "rm");
	assert_true(api_publish_first(&a, "rm", "0", 1, 5000) >= 0);
	uint8_t local[8];
	void *w = NULL, *w2 = NULL;
	assert_int_equal(ordo_publish_commit(a.c, local), ORDO_EINVAL);         /* nothing reserved */
	assert_int_equal(ordo_publish_commit(a.c, NULL), ORDO_EINVAL);
	assert_int_equal(ordo_publish_reserve(a.c, "rm", 2, 8, ORDO_AGREED, 1, NULL), ORDO_EINVAL);
	assert_int_equal(ordo_publish_reserve(a.c, "", 0, 8, ORDO_AGREED, 1, &w), ORDO_EINVAL);
	assert_int_equal(ordo_publish_reserve(a.c, "rm", 2, 8, (enum ordo_service)9, 1, &w), ORDO_EINVAL);
	assert_int_equal(ordo_publish_reserve(a.c, "rm", 2, 8, ORDO_AGREED, ORDO_PRIORITIES, &w), ORDO_EINVAL);
	/* a foreign pointer, then the right one once */
	assert_int_equal(ordo_publish_reserve(a.c, "rm", 2, 8, ORDO_AGREED, 1, &w), ORDO_OK);
	memcpy(w, "AAAAAAAA", 8);
	assert_int_equal(ordo_publish_commit(a.c, local), ORDO_EINVAL);
	assert_int_equal(ordo_publish_commit(a.c, (uint8_t *)w + 1), ORDO_EINVAL);
	int64_t s1 = ordo_publish_commit(a.c, w);
	assert_true(s1 >= 1);
	assert_int_equal(ordo_publish_commit(a.c, w), ORDO_EINVAL);             /* twice */
	/* abandoned by ordo_publish: never delivered, no sequence number spent */
	assert_int_equal(ordo_publish_reserve(a.c, "rm", 2, 8, ORDO_AGREED, 1, &w), ORDO_OK);
	memcpy(w, "BBBBBBBB", 8);
	assert_int_equal(ordo_publish(a.c, "rm", 2, "CCCCCCCC", 8, ORDO_AGREED, 1), s1 + 1);
	assert_int_equal(ordo_publish_commit(a.c, w), ORDO_EINVAL);
	/* abandoned by another reserve */
	assert_int_equal(ordo_publish_reserve(a.c, "rm", 2, 8, ORDO_AGREED, 1, &w), ORDO_OK);
	memcpy(w, "DDDDDDDD", 8);
	assert_int_equal(ordo_publish_reserve(a.c, "rm", 2, 8, ORDO_AGREED, 1, &w2), ORDO_OK);
	memcpy(w2, "EEEEEEEE", 8);
	if (w != w2)
		assert_int_equal(ordo_publish_commit(a.c, w), ORDO_EINVAL);
	assert_int_equal(ordo_publish_commit(a.c, w2), s1 + 2);
	assert_true(api_wait_msgs(&a, 4, 5000));
	api_pump((struct api_rec *[]){&a}, 1, NULL, NULL, 50); /* anything more would be wrong */
	assert_int_equal(a.msgs, 4);
	const char *want[] = {"AAAAAAAA", "CCCCCCCC", "EEEEEEEE"};
	for (int i = 0; i < 3; i++) {
		uint64_t tag;
		memcpy(&tag, want[i], 8);
		assert_int_equal(a.m[1 + i].tag, tag);
	}
	printf("# reserve misuse: ORDO_EINVAL for no reservation, a foreign pointer, a second commit and an abandoned one; delivered A, C, E only\n");
	api_rec_free(&a);
}

API_MAIN((void)0,
		cmocka_unit_test(test_agreed_safe),
		cmocka_unit_test(test_open_group),
		cmocka_unit_test(test_fifo_1000),
		cmocka_unit_test(test_priorities),
		cmocka_unit_test(test_zero_byte),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_over_limit_direct),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_eagain),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_room_wake),
		cmocka_unit_test(test_sequence_numbers),
		cmocka_unit_test(test_block_doorbell),
		cmocka_unit_test(test_reserve_commit),
		cmocka_unit_test(test_reserve_misuse))
