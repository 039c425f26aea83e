/* test_receive.c — include/ordo.h receiving: ordo_poll's counts,
 * ordo_fd with epoll and the ordo_prepare_sleep handshake, ordo_wait's
 * timeout and wake-up, zero copy, and messages larger than one ring record
 * (2 MiB with 4 MiB rings; the largest a 64 MiB node takes) arriving whole,
 * byte-exact, once; and ORDO_RECEIVE_PIECES: the same messages as their
 * pieces in the delivery ring, never released under the callback, from 1 B
 * to the largest, interleaved, and assembled when they would hold more than
 * half of a small ring; a message's pieces wake a sleeping receiver once,
 * when it is whole, unless they fill half of its ring.
 *
 *   test-api-receive ORDOD
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "api_node.h"
#include "ordo_client_internal.h"

/* a and w are members of group; everything waiting for a is drained; a's
 * ring gets what w gets (the node writes both rings in one fan-out), so
 * once w has n more messages, so does a's ring. */
static void witness_publish(struct api_rec *w, const char *group, uint32_t n)
{
	uint64_t before = w->msgs;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t tag = before + i;
		assert_true(api_publish(w->c, w, group, &tag, sizeof(tag), ORDO_AGREED, 1, 5000) >= 0);
	}
	assert_true(api_wait_msgs(w, before + n, 5000));
}

static void test_poll_counts(void **state)
{
	(void)state;
	struct api_rec a, w;
	api_attach_pair(&a, "a", &w, "witness", 64, "r1");
	/* a: w's join view is waiting */
	assert_int_equal(ordo_poll(a.c, 0), 0); /* max 0: nothing delivered */
	assert_int_equal(ordo_poll(a.c, 64), 1);
	assert_int_equal(a.view_count, 2);
	assert_int_equal(ordo_poll(a.c, 64), 0);
	witness_publish(&w, "r1", 10);
	assert_int_equal(ordo_poll(a.c, 4), 4);
	assert_int_equal(a.msgs, 4);
	assert_int_equal(ordo_poll(a.c, 4), 4);
	assert_int_equal(ordo_poll(a.c, 4), 2);
	assert_int_equal(ordo_poll(a.c, 4), 0);
	assert_int_equal(a.msgs, 10);
	for (uint64_t i = 0; i < 10; i++)
		assert_int_equal(a.m[i].tag, i);
	/* views and messages count alike */
	assert_int_equal(ordo_leave(w.c, "r1", 2), ORDO_OK);
	assert_true(api_wait_views(&w, 2, 5000)); /* w's own leave view */
	assert_int_equal(ordo_poll(a.c, 64), 1);
	assert_int_equal(a.view_count, 3);
	printf("# poll counts: 1 view, then 4 + 4 + 2 of 10 messages, then 0, then 1 view\n");
	api_rec_free_all((struct api_rec *[]){&a, &w}, 2);
}

static int epoll_ready(int ep, int ms)
{
	struct epoll_event ev;
	return epoll_wait(ep, &ev, 1, ms);
}

/* An epoll instance over r's ordo_fd (the caller closes it). */
static int epoll_of(const struct api_rec *r)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(ep >= 0);
	struct epoll_event ev = {.events = EPOLLIN};
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, ordo_fd(r->c), &ev), 0);
	return ep;
}

/* a and a witness w attached to group, a's first view taken, and an epoll
 * instance over a's ordo_fd (the caller closes it). */
static int epoll_pair(struct api_rec *a, struct api_rec *w, const char *group)
{
	api_attach_pair(a, "a", w, "witness", 64, group);
	api_pump((struct api_rec *[]){a}, 1, NULL, NULL, 20);
	return epoll_of(a);
}

static void test_fd_epoll(void **state)
{
	(void)state;
	struct api_rec a, w;
	int ep = epoll_pair(&a, &w, "r2");
	assert_int_equal(epoll_ready(ep, 0), 0);

	/* no prepare_sleep: a message does not make the descriptor readable */
	witness_publish(&w, "r2", 1);
	assert_int_equal(epoll_ready(ep, 50), 0);
	/* prepare_sleep sees it waiting: poll first */
	assert_int_equal(ordo_prepare_sleep(a.c), 1);
	assert_int_equal(ordo_poll(a.c, 64), 1);

	/* now it may sleep: nothing yet, then a message wakes it */
	assert_int_equal(ordo_prepare_sleep(a.c), 0);
	assert_int_equal(epoll_ready(ep, 50), 0);
	uint64_t t0 = api_now_ns();
	uint64_t tag = 1;
	assert_true(ordo_publish(w.c, "r2", 2, &tag, 8, ORDO_AGREED, 1) >= 0);
	assert_int_equal(epoll_ready(ep, 5000), 1);
	double wake_ms = api_ms_since(t0);
	assert_int_equal(ordo_poll(a.c, 64), 1);

	/* once per sleep, never once per message: 20 messages, one write */
	/* ordo_fd is an epoll instance over the node's eventfd (and the
	 * socket): count the eventfd's writes through the client's internals */
	uint64_t v = 0;
	assert_int_equal(ordo_prepare_sleep(a.c), 0); /* consumes the wake-up above */
	witness_publish(&w, "r2", 20);
	assert_int_equal(epoll_ready(ep, 5000), 1);
	v = 0;
	assert_int_equal(read(a.c->event_fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	printf("# epoll: woken %.2f ms after a publish; 20 messages in one sleep wrote the descriptor %llu time(s)\n",
	       wake_ms, (unsigned long long)v);
	assert_int_equal(v, 1);
	assert_int_equal(ordo_poll(a.c, 64), 20);
	close(ep);
	api_rec_free_all((struct api_rec *[]){&a, &w}, 2);
}

/* Regression (this suite found it; fixed): after a wake-up, nothing in libordo reads the
 * eventfd (only ordo_wait does, for its own sleeps), so for an application
 * that sleeps on ordo_fd with epoll as ordo.h describes (prepare_sleep,
 * epoll_wait, ordo_poll) the descriptor stays readable forever after the
 * first wake-up: every later epoll_wait returns at once with nothing to
 * poll, a busy loop. */
static void test_fd_stays_readable(void **state)
{
	(void)state;
	struct api_rec a, w;
	int ep = epoll_pair(&a, &w, "r3");
	/* the loop ordo.h describes, with nothing but the public API */
	assert_int_equal(ordo_prepare_sleep(a.c), 0);
	uint64_t tag = 7;
	assert_true(ordo_publish(w.c, "r3", 2, &tag, 8, ORDO_AGREED, 1) >= 0);
	assert_int_equal(epoll_ready(ep, 5000), 1);
	assert_int_equal(ordo_poll(a.c, 64), 1);
	assert_int_equal(ordo_poll(a.c, 64), 0);
	/* nothing to poll: it may sleep, and the descriptor must not be readable */
	assert_int_equal(ordo_prepare_sleep(a.c), 0);
	uint64_t t0 = api_now_ns();
	int spurious = 0;
	for (int i = 0; i < 100 && epoll_ready(ep, 100) == 1 && ordo_poll(a.c, 64) == 0; i++) {
		spurious++;
		(void)ordo_prepare_sleep(a.c);
	}
	printf("# after one wake-up and a drained ring: %d spurious wake-ups in %.1f ms (0 expected)\n", spurious,
	       api_ms_since(t0));
	close(ep);
	api_rec_free_all((struct api_rec *[]){&a, &w}, 2);
	assert_int_equal(spurious, 0);
}

/* The eventfd is read for the engine's writes and only for them
 * (ATT_ENGINE_TAKES, docs/attach.md §6): a wake-up the application
 * polled without sleeping on it is read by the next prepare_sleep; a
 * prepare_sleep that finds a record waiting takes its `sleeping` back
 * itself and leaves nothing to read; and no wake-up is lost or left
 * readable either way. */
static void test_fd_reads_only_writes(void **state)
{
	(void)state;
	struct api_rec a, w;
	int ep = epoll_pair(&a, &w, "r5");
	assert_true(a.c->engine_takes);
	/* armed; a message: the engine takes `sleeping` and writes */
	assert_int_equal(ordo_prepare_sleep(a.c), 0);
	witness_publish(&w, "r5", 1);
	assert_int_equal(epoll_ready(ep, 5000), 1);
	assert_int_equal(ordo_poll(a.c, 64), 1);
	/* a second one, waiting before the next prepare_sleep: that reads
	 * the first wake-up, then takes `sleeping` back (poll first) */
	witness_publish(&w, "r5", 1);
	assert_int_equal(ordo_prepare_sleep(a.c), 1);
	assert_int_equal(a.c->wakes_unread, 0);
	assert_int_equal(a.c->sleep_armed, 0);
	assert_int_equal(atomic_load(&a.c->hdr->sleeping), 0);
	assert_int_equal(epoll_ready(ep, 0), 0); /* the first write was read */
	assert_int_equal(ordo_poll(a.c, 64), 1);
	/* nothing was written for the second: asleep, not readable, until a
	 * third message wakes it */
	assert_int_equal(ordo_prepare_sleep(a.c), 0);
	assert_int_equal(epoll_ready(ep, 50), 0);
	witness_publish(&w, "r5", 1);
	assert_int_equal(epoll_ready(ep, 5000), 1);
	assert_int_equal(ordo_poll(a.c, 64), 1);
	assert_int_equal(ordo_prepare_sleep(a.c), 0);
	assert_int_equal(a.c->wakes_unread, 0);
	assert_int_equal(epoll_ready(ep, 50), 0);
	printf("# three wake-ups: each read once, by the next prepare_sleep; none left readable\n");
	close(ep);
	api_rec_free_all((struct api_rec *[]){&a, &w}, 2);
}

struct late {
	struct api_rec *w;
	unsigned delay_ms;
};

static void *publish_late(void *arg)
{
	struct late *l = arg;
	api_sleep_ms(l->delay_ms);
	uint64_t tag = 99;
	(void)ordo_publish(l->w->c, "r4", 2, &tag, 8, ORDO_AGREED, 1);
	return NULL;
}

static void test_wait(void **state)
{
	(void)state;
	struct api_rec a, w;
	api_attach(&a, "a", 64, 0, 0);
	api_attach(&w, "w", 64, 0, 0);
	api_join_wait(&a, "r4");
	api_pump((struct api_rec *[]){&a}, 1, NULL, NULL, 20);
	/* nothing arrives: 0 after the timeout */
	uint64_t t0 = api_now_ns();
	assert_int_equal(ordo_wait(a.c, 16, 200), 0);
	double slept = api_ms_since(t0);
	t0 = api_now_ns();
	assert_int_equal(ordo_wait(a.c, 16, 0), 0);
	double zero = api_ms_since(t0);
	/* a message 100 ms into a 5 s wait ends it */
	pthread_t th;
	struct late l = {&w, 100};
	assert_int_equal(pthread_create(&th, NULL, publish_late, &l), 0);
	t0 = api_now_ns();
	int rc = ordo_wait(a.c, 16, 5000);
	double woke = api_ms_since(t0);
	pthread_join(th, NULL);
	printf("# ordo_wait: 200 ms timeout returned 0 after %.1f ms; timeout 0 after %.3f ms; a message 100 ms into a 5 s wait returned %d after %.1f ms\n",
	       slept, zero, rc, woke);
	assert_true(slept >= 195.0 && slept < 1000.0);
	assert_true(zero < 50.0);
	assert_int_equal(rc, 1);
	assert_true(woke >= 95.0 && woke < 2000.0);
	assert_int_equal(a.m[0].tag, 99);
	api_rec_free_all((struct api_rec *[]){&a, &w}, 2);
}

static void test_zero_copy(void **state)
{
	(void)state;
	struct api_rec a;
	api_attach(&a, "a", 8, 0, 0);
	a.check_region = 1;
	api_join_wait(&a, "r5");
	uint8_t buf[1000];
	api_fill(buf, sizeof(buf), 5);
	assert_int_equal(ordo_publish(a.c, "r5", 2, buf, sizeof(buf), ORDO_AGREED, 1), 0);
	assert_int_equal(ordo_publish(a.c, "r5", 2, buf, 8, ORDO_SAFE, 0), 1);
	assert_true(api_wait_msgs(&a, 2, 5000));
	printf("# region %p..%p (%llu bytes); both messages delivered from inside it: %d %d\n",
	       (void *)a.c->region, (void *)(a.c->region + a.c->region_size), (unsigned long long)a.c->region_size,
	       a.m[0].zero_copy, a.m[1].zero_copy);
	assert_int_equal(a.m[0].zero_copy, 1);
	assert_int_equal(a.m[1].zero_copy, 1);
	assert_int_equal(a.m[0].sum, api_sum(buf, sizeof(buf)));
	api_rec_free(&a);
}

/* Publishes count messages of size bytes (seeds 1..count) from p to group
 * and checks each receiver got each of them once, whole and byte-exact. */
static void large_round(struct api_rec *p, struct api_rec **rx, int nrx, const char *group, size_t size,
			int count)
{
	uint8_t *buf = malloc(size);
	assert_non_null(buf);
	uint64_t sums[8];
	struct api_rx th[4];
	uint64_t base[4];
	for (int k = 0; k < nrx; k++) {
		base[k] = rx[k]->msgs;
		assert_int_equal(api_rx_start(&th[k], rx[k], base[k] + (uint64_t)count, 60000), 0);
	}
	uint64_t t0 = api_now_ns();
	double pub_ms = 0;
	for (int i = 0; i < count; i++) {
		api_fill(buf, size, (uint64_t)i + 1);
		sums[i] = api_sum(buf, size);
		uint64_t t1 = api_now_ns();
		int64_t rc = api_publish(p->c, NULL, group, buf, size, ORDO_AGREED, 1, 30000);
		pub_ms += api_ms_since(t1);
		if (rc < 0) {
			/* the receiving threads use th[]: stop them before failing */
			for (int k = 0; k < nrx; k++) {
				atomic_store(&th[k].stop, 1);
				api_rx_join(&th[k]);
			}
			free(buf);
			fail_msg("publish of %zu bytes: %s", size, ordo_strerror((int)rc));
		}
	}
	for (int k = 0; k < nrx; k++)
		api_rx_join(&th[k]);
	double ms = api_ms_since(t0);
	for (int k = 0; k < nrx; k++)
		printf("# %s: %llu ordo_wait calls, the longest %.1f ms\n", rx[k]->name,
		       (unsigned long long)th[k].wakeups, th[k].longest_call_ms);
	printf("# %d x %zu B: publish calls took %.1f ms, all delivered to %d receiver(s) after %.1f ms (%.0f MB/s)\n",
	       count, size, pub_ms, nrx, ms, (double)size * count / 1e6 / (ms / 1000.0));
	/* anything more would be a duplicate */
	api_pump(rx, nrx, NULL, NULL, 50);
	for (int k = 0; k < nrx; k++) {
		struct api_rec *r = rx[k];
		if (r->msgs != base[k] + (uint64_t)count)
			fail_msg("%s got %llu messages of %d (detached %d)", r->name,
				 (unsigned long long)(r->msgs - base[k]), count, r->detached);
		for (int i = 0; i < count; i++) {
			const struct api_msg *m = &r->m[base[k] + (uint64_t)i];
			assert_int_equal(m->size, size);
			assert_int_equal(m->tag, (uint64_t)i + 1);
			assert_int_equal(m->sum, sums[i]);
			assert_string_equal(m->group, group);
		}
	}
	free(buf);
}

static void test_large_2mib(void **state)
{
	(void)state;
	struct api_rec p, s, t;
	/* the default node: its largest message (1 MiB less the envelope) is
	 * already larger than a 1 MiB record of a 4 MiB ring */
	api_attach(&p, "publisher", 0, 0, 0);
	api_attach(&s, "sub-4m", 16, 0, 0);
	api_attach(&t, "sub-64k", 16, 0, 65536); /* 16 KiB records */
	api_join_wait(&s, "r6");
	api_join_wait(&t, "r6");
	api_pump((struct api_rec *[]){&s, &t}, 2, NULL, NULL, 20);
	large_round(&p, (struct api_rec *[]){&s, &t}, 2, "r6", ordo_max_message_size(p.c), 4);
	api_rec_free_all((struct api_rec *[]){&p, &s, &t}, 3);

	/* 2 MiB on the 64 MiB node, 4 MiB rings; the publisher is a member
	 * too, receiving (on another thread) while it publishes */
	struct api_rec p2, s2;
	assert_int_equal(api_rec_attach(&p2, "publisher", api_nodes[1].sock, NULL, 8, 0, 0), ORDO_OK);
	assert_int_equal(api_rec_attach(&s2, "sub", api_nodes[1].sock, NULL, 8, 0, 0), ORDO_OK);
	api_join_wait(&s2, "r6");
	api_join_wait(&p2, "r6");
	api_pump((struct api_rec *[]){&s2}, 1, NULL, NULL, 20);
	large_round(&p2, (struct api_rec *[]){&s2, &p2}, 2, "r6", 2u << 20, 3);
	api_rec_free_all((struct api_rec *[]){&p2, &s2}, 2);
}

struct pub_job {
	struct ordo_client *c;
	size_t size;
	int count;
	uint64_t seed0;
	int64_t rc;
	unsigned prio;
};

static void *pub_main(void *arg)
{
	struct pub_job *j = arg;
	uint8_t *buf = malloc(j->size);
	j->rc = buf != NULL ? 0 : ORDO_ENOMEM;
	for (int i = 0; i < j->count && j->rc >= 0; i++) {
		api_fill(buf, j->size, j->seed0 + (uint64_t)i);
		j->rc = api_publish(j->c, NULL, "r7", buf, j->size, ORDO_AGREED, j->prio, 10000);
	}
	free(buf);
	return NULL;
}

/* Two clients of one node publish messages in pieces at the same priority
 * at the same time: each arrives whole (the node and libordo reassemble
 * per (node, priority): this holds only while ring-proto never interleaves
 * two messages of one priority from one node). */
static void test_large_concurrent(void **state)
{
	(void)state;
	enum { COUNT = 4 };
	struct api_rec s;
	struct ordo_client *p1, *p2;
	assert_int_equal(api_rec_attach(&s, "sub", api_nodes[1].sock, NULL, 2 * COUNT, 0, 0), ORDO_OK);
	assert_int_equal(ordo_attach(api_nodes[1].sock, NULL, &p1), ORDO_OK);
	assert_int_equal(ordo_attach(api_nodes[1].sock, NULL, &p2), ORDO_OK);
	api_join_wait(&s, "r7");
	struct api_rx rx;
	assert_int_equal(api_rx_start(&rx, &s, 2 * COUNT, 30000), 0);
	struct pub_job j1 = {p1, 3u << 20, COUNT, 100, 0, 1}, j2 = {p2, 3u << 20, COUNT, 200, 0, 1};
	pthread_t t1, t2;
	uint64_t t0 = api_now_ns();
	assert_int_equal(pthread_create(&t1, NULL, pub_main, &j1), 0);
	assert_int_equal(pthread_create(&t2, NULL, pub_main, &j2), 0);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	api_rx_join(&rx);
	printf("# two publishers, %d x 3 MiB each at priority 1, concurrently: %llu whole messages after %.1f ms\n",
	       COUNT, (unsigned long long)s.msgs, api_ms_since(t0));
	assert_true(j1.rc >= 0 && j2.rc >= 0);
	assert_int_equal(s.msgs, 2 * COUNT);
	uint8_t *buf = malloc(3u << 20);
	assert_non_null(buf);
	uint64_t next1 = 100, next2 = 200;
	for (int i = 0; i < 2 * COUNT; i++) {
		const struct api_msg *m = &s.m[i];
		assert_int_equal(m->size, 3u << 20);
		uint64_t *next = m->sender.client == ordo_self(p1).client ? &next1 : &next2;
		assert_int_equal(m->tag, *next);
		api_fill(buf, 3u << 20, (*next)++);
		assert_int_equal(m->sum, api_sum(buf, 3u << 20));
	}
	free(buf);
	ordo_detach(p1);
	ordo_detach(p2);
	api_rec_free(&s);
}

/* The largest message of the 64 MiB node (64 MiB less the envelope), to
 * receivers with 64 MiB delivery rings (the largest a client may ask for),
 * the publisher among them. */
static void test_large_64mib(void **state)
{
	(void)state;
	struct api_rec p, s;
	assert_int_equal(api_rec_attach(&p, "publisher", api_nodes[1].sock, NULL, 4, 0, 64u << 20), ORDO_OK);
	assert_int_equal(api_rec_attach(&s, "sub", api_nodes[1].sock, NULL, 4, 0, 64u << 20), ORDO_OK);
	api_join_wait(&s, "big");
	api_join_wait(&p, "big");
	api_pump((struct api_rec *[]){&s}, 1, NULL, NULL, 20);
	size_t size = ordo_max_message_size(p.c);
	printf("# 64 MiB node: the largest message is %zu bytes; 64 MiB delivery rings\n", size);
	large_round(&p, (struct api_rec *[]){&s, &p}, 2, "big", size, 2);
	assert_int_equal(p.detached, 0);
	assert_int_equal(s.detached, 0);
	api_rec_free_all((struct api_rec *[]){&p, &s}, 2);
}

/* Regression (this suite found it; fixed): the same with the default 4 MiB delivery
 * ring. The receiver drains continuously on its own thread, yet it is
 * evicted ("its overflow queue is full"): a ring of one keeps its token,
 * so one duty cycle of the worker runs up to 64 local token visits of 64
 * frames (~36 MiB) and fans all of it out before it next flushes overflow
 * queues (4 MiB ring + 16 MiB overflow). Any message above ~20 MiB evicts
 * every default-ring receiver. */
static void test_large_64mib_default_ring(void **state)
{
	(void)state;
	struct api_rec p, s;
	assert_int_equal(api_rec_attach(&p, "publisher", api_nodes[1].sock, NULL, 4, 0, 0), ORDO_OK);
	assert_int_equal(api_rec_attach(&s, "sub-4m", api_nodes[1].sock, NULL, 4, 0, 0), ORDO_OK);
	api_join_wait(&s, "big2");
	api_pump((struct api_rec *[]){&s}, 1, NULL, NULL, 20);
	size_t size = ordo_max_message_size(p.c);
	uint8_t *buf = malloc(size);
	assert_non_null(buf);
	api_fill(buf, size, 1);
	struct api_rx th;
	assert_int_equal(api_rx_start(&th, &s, 1, 20000), 0);
	uint64_t t0 = api_now_ns();
	int64_t rc = api_publish(p.c, NULL, "big2", buf, size, ORDO_AGREED, 1, 10000);
	api_rx_join(&th);
	int ok = s.msgs == 1 && s.m[0].size == size && s.m[0].sum == api_sum(buf, size);
	printf("# %zu B to a default-ring receiver draining on its own thread (%llu ordo_wait calls): publish %lld, received %llu, evicted %d, after %.1f ms\n",
	       size, (unsigned long long)th.wakeups, (long long)rc, (unsigned long long)s.msgs, s.detached,
	       api_ms_since(t0));
	free(buf);
	api_rec_free_all((struct api_rec *[]){&p, &s}, 2);
	assert_int_equal(rc, 0);
	assert_int_equal(s.detached, 0);
	assert_true(ok);
}

/* ---- ORDO_RECEIVE_PIECES: a message larger than a frame without a copy ---- */

/* One message of each size from w to a (pieces) and w (whole), one at a
 * time: both get it byte-exact; a's is in place (one piece) when small and
 * as its pieces in the ring, never released under it, when large. */
static void test_pieces_sizes(void **state)
{
	(void)state;
	struct api_rec a, w;
	api_attach_pair(&a, "pieces", &w, "whole", 16, "pz");
	assert_int_equal(ordo_set_receive_mode(a.c, ORDO_RECEIVE_PIECES), ORDO_OK);
	size_t max = ordo_max_message_size(w.c);
	/* the largest message one submit record takes: larger ones libordo
	 * publishes in pieces too */
	size_t rec = w.c->max_record - sizeof(struct att_publish) - ATT_ENV_HEAD(2);
	size_t sizes[] = {1, 1024, 8192, 8960, 9000, 16384, 65536, rec, rec + 1, max};
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	uint8_t *buf = malloc(max);
	assert_non_null(buf);
	uint64_t base = a.msgs;
	for (int i = 0; i < N; i++) {
		assert_true(sizes[i] <= max);
		api_fill(buf, sizes[i], 1000u + (uint64_t)i);
		assert_true(api_publish(w.c, &w, "pz", buf, sizes[i], ORDO_AGREED, 1, 10000) >= 0);
		assert_true(api_wait_msgs(&w, base + (uint64_t)i + 1, 10000));
		assert_true(api_wait_msgs(&a, base + (uint64_t)i + 1, 10000));
		const struct api_msg *m = &a.m[base + (uint64_t)i];
		printf("# %zu B: %u piece(s), in the ring %d, not released under them %d\n", sizes[i], m->pieces,
		       m->zero_copy, m->held);
		assert_int_equal(m->size, sizes[i]);
		assert_int_equal(m->bad, 0);
		assert_int_equal(m->sum, api_sum(buf, sizes[i]));
		assert_int_equal(m->sum, w.m[base + (uint64_t)i].sum);
		assert_int_equal(w.m[base + (uint64_t)i].pieces, 1);
		if (sizes[i] <= 1024)
			assert_int_equal(m->pieces, 1);
		if (sizes[i] >= 65536)
			assert_true(m->pieces > 1);
		if (m->pieces > 1) {
			assert_int_equal(m->zero_copy, 1);
			assert_int_equal(m->held, 1);
		}
	}
	/* nothing is held once every message was delivered */
	assert_int_equal(a.c->deliver.released, a.c->deliver.read);
	assert_int_equal(a.c->held[0] | a.c->held[1] | a.c->held[2], 0);
	free(buf);
	api_rec_free_all((struct api_rec *[]){&a, &w}, 2);
}

/* Messages in pieces at two priorities at once interleave in the ring:
 * the ring is released only up to the oldest piece still held. */
static void test_pieces_interleaved(void **state)
{
	(void)state;
	enum { COUNT = 6, SIZE = 256u << 10 };
	struct api_rec s;
	struct ordo_client *p1, *p2;
	assert_int_equal(api_rec_attach(&s, "sub", api_nodes[0].sock, NULL, 2 * COUNT, 0, 0), ORDO_OK);
	assert_int_equal(ordo_set_receive_mode(s.c, ORDO_RECEIVE_PIECES), ORDO_OK);
	assert_int_equal(ordo_attach(api_nodes[0].sock, NULL, &p1), ORDO_OK);
	assert_int_equal(ordo_attach(api_nodes[0].sock, NULL, &p2), ORDO_OK);
	api_join_wait(&s, "r7");
	struct api_rx rx;
	assert_int_equal(api_rx_start(&rx, &s, 2 * COUNT, 30000), 0);
	struct pub_job j1 = {p1, SIZE, COUNT, 100, 0, 0}, j2 = {p2, SIZE, COUNT, 200, 0, 2};
	pthread_t t1, t2;
	assert_int_equal(pthread_create(&t1, NULL, pub_main, &j1), 0);
	assert_int_equal(pthread_create(&t2, NULL, pub_main, &j2), 0);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	api_rx_join(&rx);
	assert_true(j1.rc >= 0 && j2.rc >= 0);
	assert_int_equal(s.msgs, 2 * COUNT);
	uint8_t *buf = malloc(SIZE);
	assert_non_null(buf);
	uint64_t next1 = 100, next2 = 200;
	uint32_t pieces = 0;
	for (int i = 0; i < 2 * COUNT; i++) {
		const struct api_msg *m = &s.m[i];
		assert_int_equal(m->size, SIZE);
		assert_int_equal(m->bad, 0);
		assert_true(m->pieces > 1);
		assert_int_equal(m->zero_copy, 1);
		assert_int_equal(m->held, 1);
		uint64_t *next = m->sender.client == ordo_self(p1).client ? &next1 : &next2;
		assert_int_equal(m->priority, next == &next1 ? 0 : 2);
		assert_int_equal(m->tag, *next);
		api_fill(buf, SIZE, (*next)++);
		assert_int_equal(m->sum, api_sum(buf, SIZE));
		pieces += m->pieces;
	}
	printf("# two publishers at priorities 0 and 2, %d x %u B each: all in place, %u pieces\n", COUNT,
	       (unsigned)SIZE, pieces);
	assert_int_equal(s.c->deliver.released, s.c->deliver.read);
	free(buf);
	ordo_detach(p1);
	ordo_detach(p2);
	api_rec_free(&s);
}

/* A message whose pieces would hold more than half of a small delivery
 * ring is assembled instead (one copy) and arrives whole: the node could
 * not otherwise write the pieces that complete it. */
static void test_pieces_spill(void **state)
{
	(void)state;
	struct api_rec p, s, t;
	api_attach(&p, "publisher", 0, 0, 0);
	api_attach(&s, "pieces-64k", 8, 0, 65536);
	api_attach(&t, "pieces-4m", 8, 0, 0);
	assert_int_equal(ordo_set_receive_mode(s.c, ORDO_RECEIVE_PIECES), ORDO_OK);
	assert_int_equal(ordo_set_receive_mode(t.c, ORDO_RECEIVE_PIECES), ORDO_OK);
	api_join_wait(&s, "r8");
	api_join_wait(&t, "r8");
	api_pump((struct api_rec *[]){&s, &t}, 2, NULL, NULL, 20);
	large_round(&p, (struct api_rec *[]){&s, &t}, 2, "r8", ordo_max_message_size(p.c), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(s.m[i].pieces, 1); /* assembled */
		assert_true(t.m[i].pieces > 1);
		assert_int_equal(t.m[i].zero_copy, 1);
		assert_int_equal(t.m[i].held, 1);
	}
	printf("# %zu B: assembled for the 64 KiB ring, %u pieces in place in the 4 MiB ring\n",
	       ordo_max_message_size(p.c), t.m[0].pieces);
	assert_int_equal(s.detached, 0);
	api_rec_free_all((struct api_rec *[]){&p, &s, &t}, 3);
}

/* The pieces of a message that does not complete wake no one (docs/attach.md
 * §6): a sleeping receiver is woken once its message is whole in the ring,
 * so the one poll after the wake-up delivers it, in either receive mode.
 * With a wake-up for every duty cycle that delivered pieces (as before),
 * a 1 MiB message (~118 pieces at MTU 9000, a few token visits) woke
 * the receivers while its last pieces were still to come. */
static void test_pieces_wake_once(void **state)
{
	(void)state;
	enum { ROUNDS = 12 };
	struct api_rec p, a, b;
	api_attach(&p, "publisher", 0, 0, 0);
	api_attach(&a, "pieces", ROUNDS, 0, 0);
	api_attach(&b, "whole", ROUNDS, 0, 0);
	assert_int_equal(ordo_set_receive_mode(a.c, ORDO_RECEIVE_PIECES), ORDO_OK);
	api_join_wait(&a, "rw");
	api_join_wait(&b, "rw");
	api_pump((struct api_rec *[]){&a, &b}, 2, NULL, NULL, 20);
	size_t size = ordo_max_message_size(p.c);
	uint8_t *buf = malloc(size);
	assert_non_null(buf);
	int ep[2] = {epoll_of(&a), epoll_of(&b)};
	struct api_rec *r[2] = {&a, &b};
	uint32_t pieces = 0;
	for (int i = 0; i < ROUNDS; i++) {
		for (int k = 0; k < 2; k++)
			assert_int_equal(ordo_prepare_sleep(r[k]->c), 0);
		api_fill(buf, size, 500u + (uint64_t)i);
		assert_true(api_publish(p.c, NULL, "rw", buf, size, ORDO_AGREED, 1, 10000) >= 0);
		for (int k = 0; k < 2; k++) {
			assert_int_equal(epoll_ready(ep[k], 5000), 1);
			/* one poll, as many records as the message has pieces and more */
			int n = ordo_poll(r[k]->c, 4096);
			assert_true(n > 0);
			assert_int_equal(r[k]->msgs, (uint64_t)i + 1);
			assert_int_equal(r[k]->m[i].size, size);
			assert_int_equal(r[k]->m[i].sum, api_sum(buf, size));
		}
		pieces = a.m[i].pieces;
		assert_true(pieces > 1);
	}
	printf("# %d x %zu B (%u pieces): each receiver woken once per message, the message whole at the wake-up\n",
	       ROUNDS, size, pieces);
	for (int k = 0; k < 2; k++)
		close(ep[k]);
	free(buf);
	api_rec_free_all((struct api_rec *[]){&p, &a, &b}, 3);
}

/* ... but pieces that fill half of a delivery ring (or all of it) do wake
 * its client: it must drain them (assembling) for the rest of the message
 * to fit. A receiver with a 64 KiB ring that only ever sleeps on ordo_fd
 * gets a 1 MiB message; every sleep ends in a wake-up, none in the
 * timeout (with no wake-up for pieces before the last the node evicts
 * it). The node wakes at half a ring and at a full one; which of the two
 * ended a sleep is not visible here (the node usually fills the ring
 * before the client runs), so this checks that one of them does. */
static void test_pieces_wake_half(void **state)
{
	(void)state;
	struct api_rec p, s;
	api_attach(&p, "publisher", 0, 0, 0);
	api_attach(&s, "sub-64k", 4, 0, 65536);
	api_join_wait(&s, "rh");
	api_pump((struct api_rec *[]){&s}, 1, NULL, NULL, 20);
	size_t size = ordo_max_message_size(p.c);
	uint8_t *buf = malloc(size);
	assert_non_null(buf);
	api_fill(buf, size, 77);
	int ep = epoll_of(&s);
	assert_int_equal(ordo_prepare_sleep(s.c), 0);
	assert_true(api_publish(p.c, NULL, "rh", buf, size, ORDO_AGREED, 1, 10000) >= 0);
	uint32_t wakes = 0;
	while (s.msgs == 0) {
		/* asleep until the node writes the descriptor: half the ring, or the last piece */
		assert_int_equal(epoll_ready(ep, 2000), 1);
		wakes++;
		assert_true(ordo_poll(s.c, 4096) > 0);
		while (s.msgs == 0 && ordo_prepare_sleep(s.c) != 0)
			assert_true(ordo_poll(s.c, 4096) >= 0);
	}
	printf("# %zu B into a 64 KiB ring: %u wake-ups, none lost\n", size, wakes);
	assert_int_equal(s.m[0].size, size);
	assert_int_equal(s.m[0].sum, api_sum(buf, size));
	assert_int_equal(s.detached, 0);
	close(ep);
	free(buf);
	api_rec_free_all((struct api_rec *[]){&p, &s}, 2);
}

/* Misuse: an unknown mode is refused; ordo_message_copy never reads past
 * a message, in either form. */
static void test_pieces_misuse(void **state)
{
	(void)state;
	struct api_rec a;
	api_attach(&a, "a", 1, 0, 0);
	assert_int_equal(ordo_set_receive_mode(a.c, (enum ordo_receive_mode)2), ORDO_EINVAL);
	assert_int_equal(ordo_set_receive_mode(a.c, (enum ordo_receive_mode)-1), ORDO_EINVAL);
	assert_int_equal(a.c->receive_pieces, 0);
	api_rec_free(&a);
	const uint8_t x[3] = {1, 2, 3}, y[1] = {4}, z[2] = {5, 6};
	struct ordo_piece pc[3] = {{x, 3}, {y, 1}, {z, 2}};
	struct ordo_message m = {.data = NULL, .size = 6, .pieces = pc, .piece_count = 3};
	uint8_t out[8] = {0};
	assert_int_equal(ordo_message_copy(&m, 2, out, 3), 3); /* across two boundaries */
	assert_memory_equal(out, ((uint8_t[]){3, 4, 5}), 3);
	assert_int_equal(ordo_message_copy(&m, 0, out, sizeof(out)), 6);
	assert_memory_equal(out, ((uint8_t[]){1, 2, 3, 4, 5, 6}), 6);
	assert_int_equal(ordo_message_copy(&m, 6, out, 1), 0);
	assert_int_equal(ordo_message_copy(&m, 100, out, 1), 0);
	struct ordo_message whole = {.data = x, .size = 3}; /* pieces NULL: one, data */
	assert_int_equal(ordo_message_copy(&whole, 1, out, 8), 2);
	assert_memory_equal(out, ((uint8_t[]){2, 3}), 2);
}

/* The 64 MiB node evicts after ordod's default (2 s), not the suite's
 * 500 ms: its receivers must allocate and touch 64 MiB for a message
 * (meson fills every malloc with MALLOC_PERTURB_), and on a loaded 2-core
 * machine one such ordo_wait call took 1.5 s while the node's ring stood
 * full. What is tested here is that a receiver that drains is not evicted
 * with the default bound; that one that does not drain is, test-api-alloc
 * shows with 300 ms. */
API_MAIN((api_node_count = 2,
	  api_nodes_opts[1] = (struct api_node_opts){.max_message_size = 64u << 20, .client_evict_ms = 2000}),
		cmocka_unit_test(test_poll_counts),
		cmocka_unit_test(test_fd_epoll),
		cmocka_unit_test(test_fd_stays_readable),
		cmocka_unit_test(test_fd_reads_only_writes),
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_zero_copy),
		cmocka_unit_test(test_large_2mib),
		cmocka_unit_test(test_large_concurrent),
		cmocka_unit_test(test_large_64mib),
		cmocka_unit_test(test_large_64mib_default_ring),
		cmocka_unit_test(test_pieces_sizes),
		cmocka_unit_test(test_pieces_interleaved),
		cmocka_unit_test(test_pieces_spill),
		cmocka_unit_test(test_pieces_wake_once),
		cmocka_unit_test(test_pieces_wake_half),
		cmocka_unit_test(test_pieces_misuse))
