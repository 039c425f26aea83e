/* perf_common.h — what ordo-perf (apps/ordo_perf.c) and cpg-perf
 * (bench/cpg_perf.c) share, so that their numbers mean the same thing: the
 * message header, the latency histogram, the receiver's bookkeeping, the
 * CPU readings, the sending side of a run (what is due, the window, the
 * END), and the two reports (a human-readable table and JSON). A tool
 * brings only its transport: attach, a publish function, poll and sleep.
 *
 * Header-only (static functions), libc only: cpg-perf is built by
 * scripts/bench-compare with a plain `gcc -I apps -I client`, outside meson.
 *
 * The message header (24 bytes, host byte order: every node runs on this
 * host) starts every message; the rest of the message is filler.
 *
 *   u16 node    the sender's node id
 *   u16 kind    PERF_KIND_DATA or PERF_KIND_END (upper byte PERF_MAGIC)
 *   u32 sender  the sender's id on its node (ordo client id; cpg: pid)
 *   u64 seq     0, 1, 2, ... per sender (END carries the count sent)
 *   u64 ts_ns   CLOCK_MONOTONIC when the sender handed it to the library
 *
 * Receiver: latency = CLOCK_MONOTONIC at delivery - ts_ns (the clock is
 * shared by every process on the host, namespaces or not). The digest is a
 * running hash over (node, sender, seq) of every data message in delivery
 * order: receivers that delivered the same messages in the same order have
 * the same digest.
 *
 * Throughput is reported twice: over the whole run (first to last data
 * delivery) and over the window in which every expected sender was active
 * (from the first delivery of the last sender to start until the first END
 * delivered). The window is the steady state; the whole run includes the
 * ramp-up and the drain of queued messages.
 */
#ifndef PERF_COMMON_H
#define PERF_COMMON_H

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ordo_digest.h"

#define PERF_HDR_SIZE 24u
#define PERF_MAGIC 0xA500u
#define PERF_KIND_DATA (PERF_MAGIC | 1u)
#define PERF_KIND_END (PERF_MAGIC | 2u)
#define PERF_SENDERS_MAX 256u

struct perf_hdr {
	uint16_t node;
	uint16_t kind;
	uint32_t sender;
	uint64_t seq;
	uint64_t ts_ns;
};
_Static_assert(sizeof(struct perf_hdr) == PERF_HDR_SIZE, "perf header is 24 bytes");

static inline uint64_t perf_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------- histogram
 * Log-linear buckets (HdrHistogram's layout with 2^(PERF_SUB_BITS-1)
 * sub-buckets per power of two): values below 2^PERF_SUB_BITS ns are exact;
 * above, a bucket spans 1/128 of its power of two (0.8 % relative error).
 * Values up to 2^PERF_MAX_EXP ns (18 minutes) are counted; larger ones go
 * to the last bucket. */
#define PERF_SUB_BITS 8u
#define PERF_HALF (1u << (PERF_SUB_BITS - 1u))
#define PERF_MAX_EXP 40u
#define PERF_BUCKETS (((PERF_MAX_EXP - PERF_SUB_BITS + 2u) << (PERF_SUB_BITS - 1u)) + PERF_HALF)

struct perf_hist {
	uint64_t count, min, max;
	double sum;
	uint64_t b[PERF_BUCKETS];
};

static inline unsigned perf_hist_index(uint64_t v)
{
	if (v < (1u << PERF_SUB_BITS))
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= PERF_SUB_BITS */
	if (e > PERF_MAX_EXP)
		return PERF_BUCKETS - 1u;
	unsigned shift = e - PERF_SUB_BITS + 1u;
	return (shift << (PERF_SUB_BITS - 1u)) + (unsigned)(v >> shift);
}

/* The smallest and largest value a bucket holds. */
static inline uint64_t perf_hist_lo(unsigned i)
{
	if (i < (1u << PERF_SUB_BITS))
		return i;
	unsigned shift = (i >> (PERF_SUB_BITS - 1u)) - 1u;
	uint64_t m = (i & (PERF_HALF - 1u)) + PERF_HALF;
	return m << shift;
}

static inline uint64_t perf_hist_hi(unsigned i)
{
	if (i < (1u << PERF_SUB_BITS))
		return i;
	unsigned shift = (i >> (PERF_SUB_BITS - 1u)) - 1u;
	uint64_t m = (i & (PERF_HALF - 1u)) + PERF_HALF;
	return ((m + 1u) << shift) - 1u;
}

static inline void perf_hist_add(struct perf_hist *h, uint64_t v)
{
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += (double)v;
	h->b[perf_hist_index(v)]++;
}

/* The value at quantile q (0..1): the largest value of the bucket holding
 * the ceil(q * count)-th smallest value, clamped to [min, max]. */
static inline uint64_t perf_hist_quantile(const struct perf_hist *h, double q)
{
	if (h->count == 0)
		return 0;
	uint64_t rank = (uint64_t)ceil(q * (double)h->count);
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < PERF_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= rank) {
			uint64_t v = perf_hist_hi(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}

/* ---------------------------------------------------------------- CPU */

/* utime + stime of a whole process (every thread) in ns, from
 * /proc/<pid>/stat (clock ticks: 10 ms resolution); -1 if unreadable. */
static inline int64_t perf_proc_cpu_ns(long pid)
{
	if (pid <= 0)
		return -1;
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	p += 2; /* field 3, the state */
	unsigned long long ut = 0, st = 0;
	/* fields 3..13 skipped, then utime (14) and stime (15) */
	if (sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	long hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		hz = 100;
	return (int64_t)((ut + st) * (1000000000ull / (unsigned long long)hz));
}

/* This process's CPU time (every thread) in ns. */
static inline int64_t perf_self_cpu_ns(void)
{
	struct rusage ru;
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return -1;
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* How long a thread waited runnable for a CPU, in ns (the second field of
 * /proc/<pid>/schedstat: run-queue time, summed since it started; pid 0:
 * this process's main thread); -1 if unreadable (a kernel without
 * schedstats). A run's share of it says whether the machine had a CPU for
 * the thread when it had work (docs/performance.md §7). */
static inline int64_t perf_runq_wait_ns(long pid)
{
	char path[64];
	if (pid < 0)
		return -1;
	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/schedstat");
	else
		snprintf(path, sizeof(path), "/proc/%ld/schedstat", pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return -1;
	unsigned long long run = 0, wait = 0;
	int n = fscanf(f, "%llu %llu", &run, &wait);
	fclose(f);
	return n == 2 ? (int64_t)wait : -1;
}

/* ---------------------------------------------------------------- receiver */

struct perf_sender {
	uint16_t node;
	uint32_t id;
	uint64_t next;      /* the seq expected next */
	uint64_t count;     /* data messages delivered from it */
	uint64_t gaps;      /* seq not the one expected (lost, duplicated, reordered) */
	uint64_t first_ns;  /* its first data delivery */
	int ended;
	uint64_t end_count; /* what its END says it sent */
};

struct perf_config {
	const char *tool, *system, *group, *role, *service, *transport;
	uint32_t size, senders, members;
	uint64_t rate;           /* per sender, msgs/s; 0: flood */
	uint64_t window;         /* at most this many of its own messages in flight (sent, not yet
				  * delivered back to it; role both); 0: as many as the node takes */
	double duration_s;
	long engine_pid;
};

struct perf_state {
	struct perf_config cfg;
	uint16_t self_node;
	uint32_t self_id;
	/* sender side */
	uint64_t sent, eagain, send_start_ns, send_end_ns;
	struct perf_hist lag;              /* fixed rate: how late each message was published */
	/* receiver side */
	struct perf_hist hist;
	struct perf_sender snd[PERF_SENDERS_MAX];
	uint32_t nsnd, ends;
	uint64_t delivered, bytes, digest, foreign, bad_size;
	uint64_t first_ns, last_ns;        /* first and last data delivery */
	uint64_t all_active_ns;            /* delivery of the first message of the last sender to start */
	uint64_t first_end_ns;             /* the first END delivered */
	uint64_t at_all_active, at_first_end; /* data delivered so far at those points */
	/* the run */
	uint64_t t0_ns, t1_ns;
	int64_t engine_cpu0, engine_cpu1, self_cpu0, self_cpu1;
	int64_t engine_wait0, engine_wait1, self_wait0, self_wait1; /* run-queue waits */
	int timed_out;
};

/* What a tool's publish function returns to perf_send_step. */
enum perf_pub {
	PERF_PUB_OK = 0,
	PERF_PUB_FULL,  /* its queue refuses now: retry later */
	PERF_PUB_ERROR, /* it failed for good (the function said why on stderr) */
};
typedef enum perf_pub (*perf_publish_fn)(void *ctx, const uint8_t *buf);

enum { PERF_FULL_QUEUE = 1, PERF_FULL_WINDOW = 2 };

/* The sending side and the bounds of one run. */
struct perf_run {
	int sending, receiving;  /* the role */
	int end_sent;
	int full;                /* the last step's: 0, PERF_FULL_QUEUE or PERF_FULL_WINDOW */
	int data_refused;        /* the last DATA publish was refused (full): it goes again first */
	int full_wakes;          /* the system wakes a client that found its queue full when
				  * there is room again (ordo); without it, look every 100 µs */
	uint64_t dur_ns;         /* of sending */
	uint64_t run_limit;      /* give up on missing ENDs after this */
};

static inline void perf_fill_hdr(void *buf, uint16_t node, uint32_t sender, uint16_t kind,
				 uint64_t seq)
{
	struct perf_hdr h = {.node = node, .kind = kind, .sender = sender, .seq = seq,
			     .ts_ns = perf_now_ns()};
	memcpy(buf, &h, sizeof(h));
}

static inline struct perf_sender *perf_sender_find(struct perf_state *s, uint16_t node, uint32_t id)
{
	for (uint32_t i = 0; i < s->nsnd; i++)
		if (s->snd[i].node == node && s->snd[i].id == id)
			return &s->snd[i];
	if (s->nsnd == PERF_SENDERS_MAX)
		return NULL;
	struct perf_sender *p = &s->snd[s->nsnd++];
	memset(p, 0, sizeof(*p));
	p->node = node;
	p->id = id;
	return p;
}

/* The run is over: a receiver has seen every sender's END, a pure sender
 * has seen its own END come back, or the run limit passed (timed_out). */
static inline int perf_run_over(struct perf_state *s, const struct perf_run *run, uint64_t now)
{
	if (run->end_sent) {
		if (run->receiving && s->ends >= s->cfg.senders)
			return 1;
		if (!run->receiving) {
			struct perf_sender *me = perf_sender_find(s, s->self_node, s->self_id);
			if (me != NULL && me->ended)
				return 1;
		}
	}
	if (now > run->run_limit) {
		s->timed_out = 1;
		fprintf(stderr, "%s: timeout: %u of %u ENDs after %.1f s\n", s->cfg.tool, s->ends, s->cfg.senders,
			(double)(now - s->t0_ns) / 1e9);
		return 1;
	}
	return 0;
}

/* The sends due now, cut to the in-flight window (--window): a sender that
 * also receives keeps at most `window` of its own messages between its
 * publish and their delivery back to it, so that a flood measures latency
 * under load rather than the depth of the queues. */
static inline uint64_t perf_window_due(struct perf_state *s, int receiving, uint64_t due)
{
	if (s->cfg.window == 0 || !receiving)
		return due;
	struct perf_sender *me = perf_sender_find(s, s->self_node, s->self_id);
	uint64_t limit = (me != NULL ? me->count : 0) + s->cfg.window;
	return due < limit ? due : limit;
}

/* How long an idle loop may sleep: until the next send is due at a fixed
 * rate, a short while when the submit ring was full, until a delivery
 * (bounded) when the window is, 0 when flooding, and never past the end of
 * the sending window. */
static inline uint64_t perf_idle_ns(const struct perf_state *s, const struct perf_run *run, uint64_t now)
{
	if (run->end_sent)
		return 100000000u;
	uint64_t sleep_ns;
	if (run->full == PERF_FULL_WINDOW)
		sleep_ns = 1000000u; /* a delivery wakes us */
	else if (run->full)
		sleep_ns = run->full_wakes ? 1000000u : 100000u; /* room wakes us, or look again soon */
	else if (s->cfg.rate)
		sleep_ns = (s->send_start_ns + (s->sent * 1000000000u) / s->cfg.rate > now)
				   ? s->send_start_ns + (s->sent * 1000000000u) / s->cfg.rate - now
				   : 0;
	else
		return 0;
	uint64_t left = s->send_start_ns + run->dur_ns;
	if (left <= now)
		return 0;
	return left - now < sleep_ns ? left - now : sleep_ns;
}

/* After a loop's step that did work (messages sent or delivered): -1 when
 * the run is over, 0 to step again at once (work was done, or nothing to
 * wait for), 1 to sleep *sleep_ns first (until a delivery, the next send,
 * or a short while). */
static inline int perf_after_step(struct perf_state *s, struct perf_run *run, uint64_t work,
				  uint64_t *sleep_ns)
{
	uint64_t now = perf_now_ns();
	if (perf_run_over(s, run, now))
		return -1;
	if (work != 0)
		return 0;
	*sleep_ns = perf_idle_ns(s, run, now);
	return *sleep_ns != 0;
}

/* Sleeps on fd (readable: a delivery) for at most ns; 1 if it became
 * readable, 0 if not, -1 if ppoll failed. */
static inline int perf_sleep_on(int fd, uint64_t ns)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
	int n = ppoll(&pfd, 1, &ts, NULL);
	return n < 0 ? -1 : n > 0;
}

/* Checks the role and the common arguments; 0, or -1 (print the usage). */
static inline int perf_check_args(struct perf_config *c, struct perf_run *run, size_t group_max)
{
	*run = (struct perf_run){0};
	run->sending = strcmp(c->role, "send") == 0 || strcmp(c->role, "both") == 0;
	run->receiving = strcmp(c->role, "recv") == 0 || strcmp(c->role, "both") == 0;
	if ((!run->sending && !run->receiving) || c->size < PERF_HDR_SIZE || c->senders < 1 ||
	    c->senders > PERF_SENDERS_MAX || c->duration_s <= 0 || strlen(c->group) < 1 ||
	    strlen(c->group) > group_max)
		return -1;
	if (c->members == 0)
		c->members = c->senders;
	return 0;
}

/* A message buffer: the header is written per send, the rest is filler. */
static inline uint8_t *perf_payload(uint32_t size)
{
	uint8_t *buf = malloc(size);
	for (uint32_t i = 0; buf != NULL && i < size; i++)
		buf[i] = (uint8_t)('a' + i % 26);
	return buf;
}

/* The start barrier passed: the clock and the CPU readings start. */
static inline void perf_run_start(struct perf_state *s, struct perf_run *run)
{
	s->t0_ns = perf_now_ns();
	s->engine_cpu0 = perf_proc_cpu_ns(s->cfg.engine_pid);
	s->self_cpu0 = perf_self_cpu_ns();
	s->engine_wait0 = s->cfg.engine_pid > 0 ? perf_runq_wait_ns(s->cfg.engine_pid) : -1;
	s->self_wait0 = perf_runq_wait_ns(0);
	run->dur_ns = (uint64_t)(s->cfg.duration_s * 1e9);
	run->run_limit = s->t0_ns + run->dur_ns +
			 (uint64_t)((s->cfg.duration_s > 30 ? s->cfg.duration_s : 30) * 1e9);
	run->end_sent = !run->sending;
	run->full = 0;
	run->data_refused = 0;
	s->send_start_ns = s->t0_ns;
}

/* Publishes one message of kind (its header stamped now): 1 if taken, 0 if
 * refused as full (run->full says so; a refused DATA message is published
 * again before anything else), -1 after a publish error. */
static inline int perf_publish_one(struct perf_state *s, struct perf_run *run, uint8_t *buf, uint16_t kind,
				   perf_publish_fn publish, void *ctx)
{
	perf_fill_hdr(buf, s->self_node, s->self_id, kind, s->sent);
	enum perf_pub r = publish(ctx, buf);
	if (r == PERF_PUB_ERROR)
		return -1;
	if (r == PERF_PUB_FULL) {
		run->full = PERF_FULL_QUEUE;
		run->data_refused = kind == PERF_KIND_DATA;
		return 0;
	}
	run->data_refused = 0;
	return 1;
}

/* One sending step: the END once the sending time is over; before, what
 * is due (at the fixed rate, or 64 more in a flood, cut to the window),
 * at most 256 messages. Returns the messages published, or -1 after a
 * publish error. */
static inline int perf_send_step(struct perf_state *s, struct perf_run *run, uint8_t *buf, uint64_t now,
				 perf_publish_fn publish, void *ctx)
{
	run->full = 0;
	if (run->end_sent)
		return 0;
	int rc;
	if (now - s->send_start_ns >= run->dur_ns) {
		/* a refused DATA message goes before the END: a publish that
		 * took part of a large message finishes it only when called
		 * again with the same buffer and size (ordo_publish) */
		if (run->data_refused) {
			if ((rc = perf_publish_one(s, run, buf, PERF_KIND_DATA, publish, ctx)) <= 0)
				return rc;
			s->sent++;
		}
		if ((rc = perf_publish_one(s, run, buf, PERF_KIND_END, publish, ctx)) <= 0)
			return rc;
		run->end_sent = 1;
		s->send_end_ns = now;
		return 1;
	}
	uint64_t due = s->cfg.rate ? (now - s->send_start_ns) * s->cfg.rate / 1000000000u + 1u : s->sent + 64u;
	due = perf_window_due(s, run->receiving, due);
	if (s->sent >= due && !s->cfg.rate)
		run->full = PERF_FULL_WINDOW;
	int n = 0;
	for (unsigned k = 0; k < 256 && s->sent < due; k++) {
		if ((rc = perf_publish_one(s, run, buf, PERF_KIND_DATA, publish, ctx)) < 0)
			return -1;
		if (rc == 0) {
			s->eagain++;
			break;
		}
		if (s->cfg.rate) { /* open loop: stamped when sent, so say how late that was */
			uint64_t due_ns = s->send_start_ns + s->sent * 1000000000u / s->cfg.rate;
			perf_hist_add(&s->lag, now > due_ns ? now - due_ns : 0);
		}
		s->sent++;
		n++;
	}
	return n;
}

/* The loop is over: the clock and the CPU readings stop. */
static inline void perf_run_end(struct perf_state *s, const struct perf_run *run, int interrupted)
{
	s->t1_ns = perf_now_ns();
	s->engine_cpu1 = perf_proc_cpu_ns(s->cfg.engine_pid);
	s->self_cpu1 = perf_self_cpu_ns();
	s->engine_wait1 = s->cfg.engine_pid > 0 ? perf_runq_wait_ns(s->cfg.engine_pid) : -1;
	s->self_wait1 = perf_runq_wait_ns(0);
	if (!run->end_sent)
		s->send_end_ns = s->t1_ns;
	if (interrupted)
		s->timed_out = 1;
}

/* One delivered message. */
static inline void perf_on_deliver(struct perf_state *s, const void *data, size_t size)
{
	uint64_t now = perf_now_ns();
	struct perf_hdr h;
	if (size < PERF_HDR_SIZE) {
		s->foreign++;
		return;
	}
	memcpy(&h, data, sizeof(h));
	if (h.kind != PERF_KIND_DATA && h.kind != PERF_KIND_END) {
		s->foreign++;
		return;
	}
	struct perf_sender *p = perf_sender_find(s, h.node, h.sender);
	if (p == NULL) {
		s->foreign++;
		return;
	}
	if (h.kind == PERF_KIND_END) {
		if (!p->ended) {
			p->ended = 1;
			p->end_count = h.seq;
			s->ends++;
			if (s->first_end_ns == 0) {
				s->first_end_ns = now;
				s->at_first_end = s->delivered;
			}
		}
		return;
	}
	if (size != s->cfg.size)
		s->bad_size++;
	if (p->count == 0) {
		p->first_ns = now;
		uint32_t started = 0;
		for (uint32_t i = 0; i < s->nsnd; i++)
			started += s->snd[i].count > 0 || &s->snd[i] == p;
		if (started == s->cfg.senders && s->all_active_ns == 0) {
			s->all_active_ns = now;
			s->at_all_active = s->delivered;
		}
	}
	if (h.seq != p->next)
		p->gaps++;
	p->next = h.seq + 1;
	p->count++;
	s->delivered++;
	s->bytes += size;
	if (s->first_ns == 0)
		s->first_ns = now;
	s->last_ns = now;
	perf_hist_add(&s->hist, now >= h.ts_ns ? now - h.ts_ns : 0);
	uint64_t v = ordo_mix64(((uint64_t)h.node << 32) ^ h.sender);
	v = ordo_mix64(v ^ h.seq);
	s->digest = ordo_digest_add(s->digest, v);
}

/* ---------------------------------------------------------------- results */

struct perf_result {
	double elapsed_s, msgs_per_s, mb_per_s;      /* whole run: first to last data delivery */
	double window_s, window_msgs_per_s, window_mb_per_s;
	uint64_t window_msgs;
	double send_s, send_rate;
	int64_t engine_cpu_ns, self_cpu_ns;
	double engine_ns_per_msg, self_ns_per_msg;
	uint64_t gaps, lost;
	int complete, order_ok;
};

static inline void perf_compute(const struct perf_state *s, struct perf_result *r)
{
	memset(r, 0, sizeof(*r));
	if (s->delivered > 0 && s->last_ns > s->first_ns) {
		r->elapsed_s = (double)(s->last_ns - s->first_ns) / 1e9;
		r->msgs_per_s = (double)s->delivered / r->elapsed_s;
		r->mb_per_s = (double)s->bytes / r->elapsed_s / 1e6;
	}
	if (s->all_active_ns != 0 && s->first_end_ns > s->all_active_ns) {
		r->window_s = (double)(s->first_end_ns - s->all_active_ns) / 1e9;
		r->window_msgs = s->at_first_end - s->at_all_active;
		r->window_msgs_per_s = (double)r->window_msgs / r->window_s;
		r->window_mb_per_s = r->window_msgs_per_s * s->cfg.size / 1e6;
	} else {
		/* no steady window (one END before the last sender started):
		 * fall back to the whole run */
		r->window_s = r->elapsed_s;
		r->window_msgs = s->delivered;
		r->window_msgs_per_s = r->msgs_per_s;
		r->window_mb_per_s = r->mb_per_s;
	}
	if (s->send_end_ns > s->send_start_ns) {
		r->send_s = (double)(s->send_end_ns - s->send_start_ns) / 1e9;
		r->send_rate = (double)s->sent / r->send_s;
	}
	r->engine_cpu_ns = s->engine_cpu0 >= 0 && s->engine_cpu1 >= 0 ? s->engine_cpu1 - s->engine_cpu0 : -1;
	r->self_cpu_ns = s->self_cpu1 - s->self_cpu0;
	if (s->delivered > 0) {
		r->engine_ns_per_msg = r->engine_cpu_ns >= 0 ? (double)r->engine_cpu_ns / (double)s->delivered : -1;
		r->self_ns_per_msg = (double)r->self_cpu_ns / (double)s->delivered;
	}
	for (uint32_t i = 0; i < s->nsnd; i++) {
		r->gaps += s->snd[i].gaps;
		if (s->snd[i].ended && s->snd[i].end_count > s->snd[i].count)
			r->lost += s->snd[i].end_count - s->snd[i].count;
	}
	r->complete = s->ends >= s->cfg.senders && !s->timed_out;
	r->order_ok = r->gaps == 0 && r->lost == 0 && s->bad_size == 0;
}

static inline const char *perf_fmt_ns(double ns, char *buf, size_t n)
{
	if (ns < 0)
		snprintf(buf, n, "-");
	else if (ns < 1e3)
		snprintf(buf, n, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, n, "%.1f us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, n, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, n, "%.2f s", ns / 1e9);
	return buf;
}

static inline void perf_print(FILE *f, const struct perf_state *s, const struct perf_result *r)
{
	const struct perf_config *c = &s->cfg;
	char a[32], b[32], d[32], e[32], g[32], m[32], mode[48];
	if (c->rate)
		snprintf(mode, sizeof(mode), "%" PRIu64 " msgs/s per sender", c->rate);
	else if (c->window)
		snprintf(mode, sizeof(mode), "flood, window %" PRIu64, c->window);
	else
		snprintf(mode, sizeof(mode), "flood");
	fprintf(f, "%s: node %u id %u, group %s, role %s, %u B %s, %s, %u sender(s) expected, %.1f s\n",
		c->tool, s->self_node, s->self_id, c->group, c->role, c->size, c->service, mode, c->senders,
		c->duration_s);
	fprintf(f, "  %-12s  %12s  %10s  %10s\n", "", "msgs", "msgs/s", "MB/s");
	if (s->sent > 0 || strcmp(c->role, "recv") != 0)
		fprintf(f, "  %-12s  %12" PRIu64 "  %10.0f  %10s  (%.2f s, %" PRIu64 " retries on a full queue)\n",
			"sent", s->sent, r->send_rate, "", r->send_s, s->eagain);
	fprintf(f, "  %-12s  %12" PRIu64 "  %10.0f  %10.1f  (%.2f s, first to last delivery)\n", "delivered",
		s->delivered, r->msgs_per_s, r->mb_per_s, r->elapsed_s);
	fprintf(f, "  %-12s  %12" PRIu64 "  %10.0f  %10.1f  (%.2f s with all %u senders active)\n", "steady",
		r->window_msgs, r->window_msgs_per_s, r->window_mb_per_s, r->window_s, c->senders);
	fprintf(f, "  latency       p50 %s  p99 %s  p99.9 %s  max %s  (min %s, mean %s, n %" PRIu64 ")\n",
		perf_fmt_ns((double)perf_hist_quantile(&s->hist, 0.5), a, sizeof(a)),
		perf_fmt_ns((double)perf_hist_quantile(&s->hist, 0.99), b, sizeof(b)),
		perf_fmt_ns((double)perf_hist_quantile(&s->hist, 0.999), d, sizeof(d)),
		perf_fmt_ns((double)s->hist.max, e, sizeof(e)),
		perf_fmt_ns((double)s->hist.min, g, sizeof(g)),
		perf_fmt_ns(s->hist.count ? s->hist.sum / (double)s->hist.count : 0, m, sizeof(m)),
		s->hist.count);
	fprintf(f, "  order         digest %016" PRIx64 ", %u sender(s) seen, %u END(s), %" PRIu64
		" seq gaps, %" PRIu64 " lost, %" PRIu64 " foreign, %" PRIu64 " wrong size%s\n",
		s->digest, s->nsnd, s->ends, r->gaps, r->lost, s->foreign, s->bad_size,
		r->complete ? "" : "  INCOMPLETE (timed out)");
	if (r->engine_cpu_ns >= 0)
		fprintf(f, "  cpu           engine (pid %ld) %.2f s = %s per delivered msg; this client %.2f s = %s per msg\n",
			c->engine_pid, (double)r->engine_cpu_ns / 1e9, perf_fmt_ns(r->engine_ns_per_msg, a, sizeof(a)),
			(double)r->self_cpu_ns / 1e9, perf_fmt_ns(r->self_ns_per_msg, b, sizeof(b)));
	else
		fprintf(f, "  cpu           engine: unknown (no pid); this client %.2f s = %s per msg\n",
			(double)r->self_cpu_ns / 1e9, perf_fmt_ns(r->self_ns_per_msg, b, sizeof(b)));
}

static inline void perf_json_str(FILE *f, const char *k, const char *v, int comma)
{
	fprintf(f, "  \"%s\": \"", k);
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if ((unsigned char)*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fprintf(f, "\"%s\n", comma ? "," : "");
}

/* The run-queue waits (ns; -1: unknown) and, at a fixed rate, how late
 * the sender published: an open-loop sender stamps a message when it
 * publishes it, so its latency leaves out the time it was late. */
static inline void perf_json_waits(FILE *f, const struct perf_state *s)
{
	int64_t ew = s->engine_wait0 >= 0 && s->engine_wait1 >= 0 ? s->engine_wait1 - s->engine_wait0 : -1;
	int64_t cw = s->self_wait0 >= 0 && s->self_wait1 >= 0 ? s->self_wait1 - s->self_wait0 : -1;
	fprintf(f, "  \"engine_runq_wait_ns\": %" PRId64 ",\n  \"client_runq_wait_ns\": %" PRId64 ",\n", ew, cw);
	const struct perf_hist *h = &s->lag;
	fprintf(f, "  \"send_lag_ns\": {\"count\": %" PRIu64 ", \"p50\": %" PRIu64 ", \"p99\": %" PRIu64
		", \"p999\": %" PRIu64 ", \"max\": %" PRIu64 "},\n",
		h->count, perf_hist_quantile(h, 0.5), perf_hist_quantile(h, 0.99), perf_hist_quantile(h, 0.999), h->max);
}

static inline int perf_write_json(const char *path, const struct perf_state *s, const struct perf_result *r)
{
	FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	if (f == NULL)
		return -1;
	const struct perf_config *c = &s->cfg;
	fprintf(f, "{\n");
	perf_json_str(f, "tool", c->tool, 1);
	perf_json_str(f, "system", c->system, 1);
	perf_json_str(f, "transport", c->transport, 1);
	fprintf(f, "  \"node\": %u,\n  \"id\": %u,\n", s->self_node, s->self_id);
	perf_json_str(f, "group", c->group, 1);
	perf_json_str(f, "role", c->role, 1);
	perf_json_str(f, "service", c->service, 1);
	fprintf(f, "  \"size\": %u,\n  \"rate\": %" PRIu64 ",\n  \"window\": %" PRIu64 ",\n  \"duration_s\": %.3f,\n",
		c->size, c->rate, c->window, c->duration_s);
	fprintf(f, "  \"senders\": %u,\n  \"members\": %u,\n", c->senders, c->members);
	fprintf(f, "  \"sent\": %" PRIu64 ",\n  \"send_s\": %.6f,\n  \"send_rate\": %.1f,\n  \"eagain\": %" PRIu64 ",\n",
		s->sent, r->send_s, r->send_rate, s->eagain);
	fprintf(f, "  \"delivered\": %" PRIu64 ",\n  \"bytes\": %" PRIu64 ",\n", s->delivered, s->bytes);
	fprintf(f, "  \"elapsed_s\": %.6f,\n  \"msgs_per_s_overall\": %.1f,\n  \"mb_per_s_overall\": %.3f,\n",
		r->elapsed_s, r->msgs_per_s, r->mb_per_s);
	fprintf(f, "  \"window_s\": %.6f,\n  \"window_msgs\": %" PRIu64 ",\n  \"msgs_per_s\": %.1f,\n  \"mb_per_s\": %.3f,\n",
		r->window_s, r->window_msgs, r->window_msgs_per_s, r->window_mb_per_s);
	const struct perf_hist *h = &s->hist;
	fprintf(f, "  \"latency_ns\": {\"count\": %" PRIu64 ", \"min\": %" PRIu64 ", \"mean\": %.0f, \"p50\": %" PRIu64
		", \"p90\": %" PRIu64 ", \"p99\": %" PRIu64 ", \"p999\": %" PRIu64 ", \"max\": %" PRIu64 "},\n",
		h->count, h->min, h->count ? h->sum / (double)h->count : 0.0, perf_hist_quantile(h, 0.5),
		perf_hist_quantile(h, 0.9), perf_hist_quantile(h, 0.99), perf_hist_quantile(h, 0.999), h->max);
	fprintf(f, "  \"hist_ns\": [");
	int first = 1;
	for (unsigned i = 0; i < PERF_BUCKETS; i++) {
		if (h->b[i] == 0)
			continue;
		fprintf(f, "%s[%" PRIu64 ", %" PRIu64 ", %" PRIu64 "]", first ? "" : ", ", perf_hist_lo(i),
			perf_hist_hi(i), h->b[i]);
		first = 0;
	}
	fprintf(f, "],\n");
	fprintf(f, "  \"digest\": \"%016" PRIx64 "\",\n", s->digest);
	fprintf(f, "  \"senders_seen\": %u,\n  \"ends\": %u,\n  \"seq_gaps\": %" PRIu64 ",\n  \"lost\": %" PRIu64
		",\n  \"foreign\": %" PRIu64 ",\n  \"wrong_size\": %" PRIu64 ",\n",
		s->nsnd, s->ends, r->gaps, r->lost, s->foreign, s->bad_size);
	fprintf(f, "  \"complete\": %s,\n  \"order_ok\": %s,\n", r->complete ? "true" : "false",
		r->order_ok ? "true" : "false");
	fprintf(f, "  \"engine_pid\": %ld,\n  \"engine_cpu_ns\": %" PRId64 ",\n  \"engine_cpu_ns_per_msg\": %.1f,\n",
		c->engine_pid, r->engine_cpu_ns, r->engine_ns_per_msg);
	fprintf(f, "  \"client_cpu_ns\": %" PRId64 ",\n  \"client_cpu_ns_per_msg\": %.1f,\n", r->self_cpu_ns,
		r->self_ns_per_msg);
	perf_json_waits(f, s);
	fprintf(f, "  \"run_s\": %.6f\n}\n", (double)(s->t1_ns - s->t0_ns) / 1e9);
	if (f != stdout)
		return fclose(f) == 0 ? 0 : -1;
	fflush(f);
	return 0;
}

/* Parses a size with an optional K/M suffix (binary). */
static inline int perf_parse_size(const char *s, uint32_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	if (*end != '\0' || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

/* What a perf tool's command line sets besides its struct perf_config. */
struct perf_cli {
	const char *json;   /* -j: write the results as JSON here (- for stdout) */
	double timeout_s;   /* -t: wait this long for the members */
	int quiet;          /* -q: no table */
	int safe;           /* -S: SAFE delivery */
	/* control messaging (apps/perf_control.h) */
	const char *control; /* --control watch|join|churn; NULL: a message run */
	uint32_t cycles;    /* --cycles: join/leave cycles of role join */
	uint32_t churners;  /* --churners: clients cycling per node (role churn; watch: per node) */
	uint32_t gap_ms;    /* --gap: pause between two join cycles */
};

#define PERF_OPTS_MAX 32

/* The help lines of the options perf_parse_args parses for every tool, in
 * the order the usage texts show them (the tool's -g, -S and -p lines go
 * between, as each says them its own way). PERF_USAGE_WORKLOAD has a %u:
 * PERF_HDR_SIZE, the smallest message. */
#define PERF_USAGE_WORKLOAD                                                                 \
	"  -R, --role ROLE       send, recv or both (default both)\n"                            \
	"  -z, --size BYTES      message size, >= %u; K and M suffixes (default 1024)\n"        \
	"  -r, --rate N          messages per second per sender; 0: flood (default 0)\n"        \
	"  -w, --window N        flood: at most N of its own messages in flight (role both;\n"  \
	"                        default 0: as many as the node takes)\n"                        \
	"  -d, --duration S      seconds of sending (default 5)\n"
#define PERF_USAGE_MEMBERS                                                                  \
	"  -n, --senders N       senders expected: receivers stop after N ENDs (default 1)\n"    \
	"  -m, --members N       start once the group has N members (default: senders)\n"
#define PERF_USAGE_OUTPUT                                                                   \
	"  -j, --json FILE       write the results as JSON (- for stdout)\n"                      \
	"  -t, --timeout S       wait this long for the members (default 30)\n"
#define PERF_USAGE_QUIET "  -q, --quiet           no table\n"
#define PERF_USAGE_CONTROL                                                                  \
	"      --control MODE    control messaging instead of a message run (apps/perf_control.h):\n" \
	"                        watch (a member that stays), join (join/leave cycles), churn\n"   \
	"      --cycles N        join: cycles (default 20)\n"                                    \
	"      --churners K      churn: clients per node, each on GROUP.<node>.<k> (default 4)\n"   \
	"      --gap MS          join: pause between cycles (default 20)\n"

enum { PERF_OPT_CONTROL = 0x100, PERF_OPT_CYCLES, PERF_OPT_CHURNERS, PERF_OPT_GAP };

/* Parses the options every perf tool has (group, role, size, rate, window,
 * duration, safe, senders, members, pid, json, timeout, quiet, help) and
 * hands the tool's own (extra_short, extra_long) to extra(), which returns
 * 0 or -1 for a bad value. Returns 0, 1 after --help (usage printed to
 * stdout), or 2 for a bad command line (usage printed to stderr). */
static inline int perf_parse_args(int argc, char **argv, struct perf_config *cfg, struct perf_cli *cli,
				  const char *extra_short, const struct option *extra_long,
				  int (*extra)(int opt, const char *arg, void *ctx), void *ctx,
				  void (*usage)(FILE *out))
{
	static const struct option common[] = {
		{"group", required_argument, 0, 'g'},   {"role", required_argument, 0, 'R'},
		{"size", required_argument, 0, 'z'},    {"rate", required_argument, 0, 'r'},
		{"window", required_argument, 0, 'w'},  {"duration", required_argument, 0, 'd'},
		{"safe", no_argument, 0, 'S'},          {"senders", required_argument, 0, 'n'},
		{"members", required_argument, 0, 'm'}, {"pid", required_argument, 0, 'p'},
		{"json", required_argument, 0, 'j'},    {"timeout", required_argument, 0, 't'},
		{"quiet", no_argument, 0, 'q'},         {"help", no_argument, 0, 'h'},
		{"control", required_argument, 0, PERF_OPT_CONTROL}, {"cycles", required_argument, 0, PERF_OPT_CYCLES},
		{"churners", required_argument, 0, PERF_OPT_CHURNERS}, {"gap", required_argument, 0, PERF_OPT_GAP}};
	struct option lo[PERF_OPTS_MAX];
	size_t n = sizeof(common) / sizeof(common[0]);
	memcpy(lo, common, sizeof(common));
	for (const struct option *x = extra_long; x != NULL && x->name != NULL && n + 1 < PERF_OPTS_MAX; x++)
		lo[n++] = *x;
	lo[n] = (struct option){0, 0, 0, 0};
	char shorts[64];
	snprintf(shorts, sizeof(shorts), "g:R:z:r:w:d:Sn:m:p:j:t:qh%s", extra_short);
	*cli = (struct perf_cli){.timeout_s = 30, .cycles = 20, .churners = 4, .gap_ms = 20};
	int opt;
	while ((opt = getopt_long(argc, argv, shorts, lo, NULL)) != -1) {
		switch (opt) {
		case 'g': cfg->group = optarg; break;
		case 'R': cfg->role = optarg; break;
		case 'z':
			if (perf_parse_size(optarg, &cfg->size) != 0) {
				fprintf(stderr, "%s: bad size '%s'\n", cfg->tool, optarg);
				return 2;
			}
			break;
		case 'r': cfg->rate = strtoull(optarg, NULL, 10); break;
		case 'w': cfg->window = strtoull(optarg, NULL, 10); break;
		case 'd': cfg->duration_s = atof(optarg); break;
		case 'S': cli->safe = 1; cfg->service = "safe"; break;
		case 'n': cfg->senders = (uint32_t)atoi(optarg); break;
		case 'm': cfg->members = (uint32_t)atoi(optarg); break;
		case 'p': cfg->engine_pid = atol(optarg); break;
		case 'j': cli->json = optarg; break;
		case 't': cli->timeout_s = atof(optarg); break;
		case 'q': cli->quiet = 1; break;
		case 'h': usage(stdout); return 1;
		case PERF_OPT_CONTROL: cli->control = optarg; break;
		case PERF_OPT_CYCLES: cli->cycles = (uint32_t)atoi(optarg); break;
		case PERF_OPT_CHURNERS: cli->churners = (uint32_t)atoi(optarg); break;
		case PERF_OPT_GAP: cli->gap_ms = (uint32_t)atoi(optarg); break;
		default:
			if (opt == '?' || extra == NULL || extra(opt, optarg, ctx) != 0) {
				usage(stderr);
				return 2;
			}
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

/* The reports (the table unless quiet, JSON if asked) and the exit status:
 * status as it stands, 1 if the JSON cannot be written, 3 for a receiver
 * that did not deliver everything in one order. */
static inline int perf_report(const struct perf_state *s, const struct perf_run *run, int quiet, const char *json,
			      int status)
{
	struct perf_result r;
	perf_compute(s, &r);
	if (!quiet)
		perf_print(stdout, s, &r);
	if (json != NULL && perf_write_json(json, s, &r) != 0) {
		fprintf(stderr, "%s: cannot write %s\n", s->cfg.tool, json);
		status = 1;
	}
	if (status == 0 && run->receiving && (!r.complete || !r.order_ok))
		status = 3;
	return status;
}

#endif
