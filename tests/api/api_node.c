/* api_node.c — the public-API tests' node and recorder (api_node.h). */
#include "api_node.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ordo_client_internal.h"

const char *api_ordod;

#define NODES_MAX 8
static pid_t started[NODES_MAX]; /* for the exit handler: never leave a daemon behind */
static int exit_handler_set;
static unsigned node_seq;

static void kill_started(void)
{
	for (int i = 0; i < NODES_MAX; i++)
		if (started[i] > 0) {
			kill(started[i], SIGKILL);
			(void)waitpid(started[i], NULL, 0);
			started[i] = 0;
		}
}

static void remember(pid_t pid, int add)
{
	for (int i = 0; i < NODES_MAX; i++)
		if (add ? started[i] == 0 : started[i] == pid) {
			started[i] = add ? pid : 0;
			return;
		}
}


void api_child_init(void)
{
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
}

/* ---- time ---- */

uint64_t api_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double api_ms_since(uint64_t t0_ns) { return (double)(api_now_ns() - t0_ns) / 1e6; }

void api_sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- the node ---- */

int api_node_write_config(struct api_node *n, const struct api_node_opts *o)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->dir, sizeof(n->dir), "/tmp/ordo-api-XXXXXX");
	if (mkdtemp(n->dir) == NULL) {
		fprintf(stderr, "api_node: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	snprintf(n->conf, sizeof(n->conf), "%s/n1.conf", n->dir);
	snprintf(n->sock, sizeof(n->sock), "%s/n1.sock", n->dir);
	snprintf(n->log, sizeof(n->log), "%s/ordod.log", n->dir);
	snprintf(n->prefix, sizeof(n->prefix), "ordo-api-%d-%u", (int)getpid(), node_seq++);
	if (o != NULL && o->preload != NULL)
		snprintf(n->preload, sizeof(n->preload), "%s", o->preload);
	FILE *f = fopen(n->conf, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "[node]\nid = 1\nstate_dir = %s/state\n", n->dir);
	const char *idle = o != NULL && o->idle != NULL ? o->idle : getenv("API_IDLE");
	if (idle != NULL && idle[0] != '\0')
		fprintf(f, "idle = %s\n", idle);
	if (o != NULL && o->no_socket)
		fprintf(f, "socket =\n");
	else
		fprintf(f, "socket = %s\n", n->sock);
	fprintf(f, "client_evict_ms = %u\n", o != NULL && o->client_evict_ms ? o->client_evict_ms : 500u);
	if (o != NULL && o->max_clients)
		fprintf(f, "max_clients = %u\n", o->max_clients);
	if (o != NULL && o->assembly_timeout_ms)
		fprintf(f, "assembly_timeout_ms = %u\n", o->assembly_timeout_ms);
	if (o != NULL && o->max_groups)
		fprintf(f, "max_groups = %u\n", o->max_groups);
	if (o != NULL && o->max_group_members)
		fprintf(f, "max_group_members = %u\n", o->max_group_members);
	fprintf(f, "[eal]\nfile_prefix = %s\n", n->prefix);
	if (o != NULL && o->lcores != NULL)
		fprintf(f, "lcores = %s\n", o->lcores);
	fprintf(f, "[ring]\nid = 9\nnodes = %s\n", o != NULL && o->ring_nodes != NULL ? o->ring_nodes : "1");
	if (o != NULL && o->max_message_size)
		fprintf(f, "max_message_size = %u\n", o->max_message_size);
	if (o != NULL && o->submit_queue)
		fprintf(f, "submit_queue = %u\n", o->submit_queue);
	if (o != NULL && o->max_messages)
		fprintf(f, "max_messages = %u\n", o->max_messages);
	if (o != NULL && o->quorum_publish_no)
		fprintf(f, "quorum_publish = no\n");
	fprintf(f, "[path0]\ndevice = net_null0,no-rx=1\n");
	return fclose(f) == 0 ? 0 : -1;
}

static void print_log(const struct api_node *n, const char *only)
{
	FILE *f = fopen(n->log, "r");
	if (f == NULL)
		return;
	char line[512];
	while (fgets(line, sizeof(line), f) != NULL)
		if (only == NULL || strstr(line, only) != NULL)
			fprintf(stderr, "  ordod| %s", line);
	fclose(f);
}

long long api_node_log_number(const struct api_node *n, const char *name)
{
	FILE *f = fopen(n->log, "r");
	if (f == NULL)
		return -1;
	char line[512];
	long long v = -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *at = strstr(line, name);
		if (at != NULL)
			v = strtoll(at + strlen(name), NULL, 10);
	}
	fclose(f);
	return v;
}

static int probe_done(void *arg) { return ((struct api_rec *)arg)->msgs >= 1; }

/* The ring is operational: a probe gets a message of its own. 0 or -1. */
static int probe_ring(const struct api_node *n)
{
	struct api_rec probe;
	int rc = api_rec_attach(&probe, "api-probe", n->sock, NULL, 1, 0, 0);
	if (rc != ORDO_OK) {
		fprintf(stderr, "api_node: probe attach: %s\n", ordo_strerror(rc));
		return -1;
	}
	int ok = ordo_join(probe.c, "api-probe", 9) == ORDO_OK &&
		 api_publish_first(&probe, "api-probe", "probe", 5, 20000) == 0 &&
		 api_pump((struct api_rec *[]){&probe}, 1, probe_done, &probe, 20000);
	api_rec_detach(&probe);
	api_rec_free(&probe);
	if (!ok)
		fprintf(stderr, "api_node: the probe's message was never delivered\n");
	return ok ? 0 : -1;
}

int api_node_start(struct api_node *n, const struct api_node_opts *o)
{
	if (api_ordod == NULL) {
		fprintf(stderr, "api_node: no ordod path (argv[1])\n");
		return -1;
	}
	if (api_node_write_config(n, o) != 0)
		return -1;
	if (!exit_handler_set) {
		atexit(kill_started);
		exit_handler_set = 1;
	}
	uint64_t t0 = api_now_ns();
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		int fd = open(n->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		close_range(3, ~0u, 0); /* no test client's descriptors in the daemon */
		if (n->preload[0] != '\0')
			setenv("LD_PRELOAD", n->preload, 1);
		execl(api_ordod, "ordod", "-c", n->conf, (char *)NULL);
		_exit(127);
	}
	n->pid = pid;
	remember(pid, 1);
	/* the socket accepts */
	int up = 0;
	while (!up && api_ms_since(t0) < 20000) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			fprintf(stderr, "api_node: ordod exited (status 0x%x) before its socket accepted\n", st);
			remember(pid, 0);
			n->pid = 0;
			print_log(n, NULL);
			return -1;
		}
		int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", n->sock);
		if (s >= 0 && connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
			up = 1;
		if (s >= 0)
			close(s);
		if (!up)
			api_sleep_ms(10);
	}
	if (!up) {
		fprintf(stderr, "api_node: the socket %s never accepted\n", n->sock);
		print_log(n, NULL);
		api_node_kill(n);
		return -1;
	}
	double sock_ms = api_ms_since(t0);
	if (o != NULL && o->no_probe) {
		printf("# node %s: socket accepts after %.0f ms (no probe)\n", n->prefix, sock_ms);
		return 0;
	}
	if (probe_ring(n) != 0) {
		print_log(n, NULL);
		api_node_kill(n);
		return -1;
	}
	n->start_ms = api_ms_since(t0);
	printf("# node %s: socket accepts after %.0f ms, ring delivers after %.0f ms\n", n->prefix, sock_ms,
	       n->start_ms);
	return 0;
}

int api_node_stop(struct api_node *n)
{
	if (n->pid <= 0)
		return -1;
	kill(n->pid, SIGTERM);
	uint64_t t0 = api_now_ns();
	int st = 0;
	while (waitpid(n->pid, &st, WNOHANG) != n->pid) {
		if (api_ms_since(t0) > 5000) {
			fprintf(stderr, "api_node: ordod did not stop within 5 s of SIGTERM: killed\n");
			kill(n->pid, SIGKILL);
			(void)waitpid(n->pid, &st, 0);
			remember(n->pid, 0);
			n->pid = 0;
			return -1;
		}
		api_sleep_ms(5);
	}
	remember(n->pid, 0);
	n->pid = 0;
	printf("# node %s stopped in %.0f ms, exit status %d\n", n->prefix, api_ms_since(t0),
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void api_node_kill(struct api_node *n)
{
	if (n->pid <= 0)
		return;
	kill(n->pid, SIGKILL);
	(void)waitpid(n->pid, NULL, 0);
	remember(n->pid, 0);
	n->pid = 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	(void)remove(path);
	return 0;
}

void api_node_cleanup(struct api_node *n)
{
	if (n->dir[0] == '\0')
		return;
	if (n->pid > 0)
		api_node_stop(n);
	print_log(n, "evicted");
	if (getenv("ORDO_API_KEEP") == NULL)
		(void)nftw(n->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	else
		fprintf(stderr, "# kept %s\n", n->dir);
	char run[128];
	snprintf(run, sizeof(run), "/var/run/dpdk/%s", n->prefix);
	(void)nftw(run, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	n->dir[0] = '\0';
}

/* ---- the recorder ---- */

static void copy_group(char *out, const uint8_t *g, uint8_t len)
{
	memcpy(out, g, len);
	out[len] = '\0';
}

static void rec_fields(struct api_msg *x, const struct ordo_message *m)
{
	x->size = (uint32_t)m->size;
	x->service = (uint8_t)m->service;
	x->priority = m->priority;
	x->sender = m->sender;
	x->pos = m->position;
	copy_group(x->group, m->group, m->group_len);
}

/* A message given as its pieces in the delivery ring: the pieces must add
 * up to its size and lie inside the client's region, and the ring must
 * not have been released past them (the node could overwrite them). */
static void rec_pieces(struct api_rec *r, struct api_msg *x, const struct ordo_message *m)
{
	const uint8_t *lo = r->c->region, *hi = lo + r->c->region_size;
	size_t total = 0;
	int inside = 1;
	for (uint32_t k = 0; k < m->piece_count; k++) {
		const uint8_t *d = m->pieces[k].data;
		inside &= d >= lo && d + m->pieces[k].size <= hi;
		total += m->pieces[k].size;
	}
	uint8_t *buf = malloc(m->size ? m->size : 1);
	if (buf == NULL || total != m->size || ordo_message_copy(m, 0, buf, m->size) != m->size) {
		free(buf);
		x->bad = 1;
		return;
	}
	/* the ring's read position is still at the last piece's record: what
	 * lies before it, every other piece, must not be released yet */
	uint64_t unreleased = r->c->deliver.read - atomic_load_explicit(&r->c->deliver.ctl->tail, memory_order_acquire);
	x->zero_copy = inside;
	x->held = unreleased >= m->size - m->pieces[m->piece_count - 1u].size;
	if (m->size >= 8)
		memcpy(&x->tag, buf, 8);
	x->sum = api_sum(buf, m->size);
	free(buf);
	rec_fields(x, m);
}

static void rec_message(void *ctx, const struct ordo_message *m)
{
	struct api_rec *r = ctx;
	uint64_t i = r->msgs++;
	r->bytes += m->size;
	if (i >= r->m_cap)
		return;
	struct api_msg *x = &r->m[i];
	memset(x, 0, sizeof(*x));
	x->pieces = m->piece_count;
	if (m->data == NULL) { /* in pieces (ORDO_RECEIVE_PIECES) */
		rec_pieces(r, x, m);
		return;
	}
	if (m->size >= 8)
		memcpy(&x->tag, m->data, 8);
	x->sum = api_sum(m->data, m->size);
	rec_fields(x, m);
	if (r->check_region) {
		const uint8_t *d = m->data, *lo = r->c->region;
		x->zero_copy = d >= lo && d + m->size <= lo + r->c->region_size;
	}
}

static void rec_view(void *ctx, const struct ordo_view *v)
{
	struct api_rec *r = ctx;
	uint32_t i = r->view_count++;
	if (i >= API_VIEWS_MAX)
		return;
	struct api_view *x = &r->views[i];
	memset(x, 0, sizeof(*x));
	copy_group(x->group, v->group, v->group_len);
	x->member_count = v->member_count;
	x->joined_count = v->joined_count;
	x->left_count = v->left_count;
	for (uint32_t k = 0; k < v->member_count && k < API_CHANGES_MAX; k++)
		x->members[k] = v->members[k];
	for (uint32_t k = 0; k < v->joined_count && k < API_CHANGES_MAX; k++)
		x->joined[k] = v->joined[k];
	for (uint32_t k = 0; k < v->left_count && k < API_CHANGES_MAX; k++)
		x->left[k] = v->left[k];
}

static void rec_config(void *ctx, const struct ordo_configuration *c)
{
	(void)c;
	((struct api_rec *)ctx)->configs++;
}

static void rec_detached(void *ctx, int why)
{
	struct api_rec *r = ctx;
	r->detached = 1;
	r->detached_why = why;
}

static void rec_pub_failed(void *ctx, uint64_t seq, int err)
{
	struct api_rec *r = ctx;
	r->pub_failed++;
	r->pub_failed_seq = seq;
	r->pub_failed_err = err;
}

static void rec_join_refused(void *ctx, const uint8_t *group, uint8_t len, int err)
{
	struct api_rec *r = ctx;
	r->join_refused++;
	r->join_refused_err = err;
	copy_group(r->join_refused_group, group, len);
}

static const struct ordo_callbacks rec_cb = {.message = rec_message, .view = rec_view,
					     .configuration = rec_config, .publish_failed = rec_pub_failed,
					     .detached = rec_detached, .join_refused = rec_join_refused};

struct ordo_client_opts api_rec_opts(struct api_rec *r, const char *name, uint32_t submit_size,
				     uint32_t delivery_size)
{
	return (struct ordo_client_opts){.callbacks = &rec_cb, .ctx = r, .name = name,
					 .submit_ring_size = submit_size, .delivery_ring_size = delivery_size};
}

int api_rec_attach(struct api_rec *r, const char *name, const char *socket, struct ordo_engine *e,
		   uint32_t m_cap, uint32_t submit_size, uint32_t delivery_size)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->m_cap = m_cap;
	r->m = calloc(m_cap ? m_cap : 1, sizeof(*r->m));
	if (r->m == NULL)
		return ORDO_ENOMEM;
	struct ordo_client_opts o = api_rec_opts(r, name, submit_size, delivery_size);
#ifdef API_INPROC
	int rc = e != NULL ? ordo_attach_engine(e, &o, &r->c) : ordo_attach(socket, &o, &r->c);
#else
	int rc = e != NULL ? ORDO_EINVAL : ordo_attach(socket, &o, &r->c);
#endif
	if (rc != ORDO_OK) {
		free(r->m);
		r->m = NULL;
	}
	return rc;
}

void api_rec_detach(struct api_rec *r)
{
	if (r->c != NULL)
		ordo_detach(r->c);
	r->c = NULL;
}

void api_rec_free(struct api_rec *r)
{
	api_rec_detach(r);
	free(r->m);
	r->m = NULL;
}

void api_rec_free_all(struct api_rec *const *recs, int n)
{
	for (int i = 0; i < n; i++)
		api_rec_free(recs[i]);
}

int api_pump(struct api_rec *const *recs, int n, int (*done)(void *arg), void *arg, unsigned timeout_ms)
{
	uint64_t t0 = api_now_ns();
	for (;;) {
		if (done != NULL && done(arg))
			return 1;
		int work = 0;
		for (int i = 0; i < n; i++) {
			if (recs[i]->c == NULL)
				continue;
			int rc = ordo_poll(recs[i]->c, 256);
			if (rc > 0)
				work += rc;
			else if (rc == ORDO_EDETACHED)
				recs[i]->detached = 1;
		}
		if (done != NULL && done(arg))
			return 1;
		if (api_ms_since(t0) >= timeout_ms)
			return 0;
		if (work == 0)
			api_sleep_ms(1);
	}
}

struct count_arg {
	struct api_rec *r;
	uint64_t count;
};

static int msgs_done(void *arg)
{
	struct count_arg *a = arg;
	return a->r->msgs >= a->count;
}

static int views_done(void *arg)
{
	struct count_arg *a = arg;
	return a->r->view_count >= a->count;
}

int api_wait_msgs(struct api_rec *r, uint64_t count, unsigned timeout_ms)
{
	struct count_arg a = {r, count};
	return api_pump(&r, 1, msgs_done, &a, timeout_ms);
}

int api_wait_views(struct api_rec *r, uint32_t count, unsigned timeout_ms)
{
	struct count_arg a = {r, count};
	return api_pump(&r, 1, views_done, &a, timeout_ms);
}

int api_wait_detached(struct api_rec *r, unsigned timeout_ms)
{
	uint64_t t0 = api_now_ns();
	while (api_ms_since(t0) <= timeout_ms) {
		int rc = ordo_poll(r->c, 256);
		if (rc == ORDO_EDETACHED)
			return 1;
		if (rc == 0)
			api_sleep_ms(2);
	}
	return 0;
}

const struct api_view *api_last_view(const struct api_rec *r, const char *group)
{
	uint32_t n = r->view_count < API_VIEWS_MAX ? r->view_count : API_VIEWS_MAX;
	for (uint32_t i = n; i-- > 0;)
		if (strcmp(r->views[i].group, group) == 0)
			return &r->views[i];
	return NULL;
}

const struct api_view *api_find_change(const struct api_rec *r, const char *group, int left,
				       struct ordo_member m, enum ordo_reason reason)
{
	uint32_t n = r->view_count < API_VIEWS_MAX ? r->view_count : API_VIEWS_MAX;
	for (uint32_t i = 0; i < n; i++) {
		const struct api_view *v = &r->views[i];
		if (strcmp(v->group, group) != 0)
			continue;
		uint32_t cnt = left ? v->left_count : v->joined_count;
		const struct ordo_view_change *ch = left ? v->left : v->joined;
		for (uint32_t k = 0; k < cnt && k < API_CHANGES_MAX; k++)
			if (ch[k].member.node == m.node && ch[k].member.client == m.client && ch[k].reason == reason)
				return v;
	}
	return NULL;
}

/* ---- a receiving thread ---- */

static void *rx_main(void *arg)
{
	struct api_rx *t = arg;
	uint64_t t0 = api_now_ns();
	while (!atomic_load(&t->stop) && t->r->msgs < t->until_msgs && api_ms_since(t0) < t->timeout_ms) {
		uint64_t t1 = api_now_ns();
		t->last_rc = ordo_wait(t->r->c, 256, 20);
		double ms = api_ms_since(t1);
		if (ms > t->longest_call_ms)
			t->longest_call_ms = ms;
		t->wakeups++;
		if (t->last_rc == ORDO_EDETACHED) {
			t->r->detached = 1;
			break;
		}
	}
	return NULL;
}

int api_rx_start(struct api_rx *t, struct api_rec *r, uint64_t until_msgs, unsigned timeout_ms)
{
	t->r = r;
	t->until_msgs = until_msgs;
	t->timeout_ms = timeout_ms;
	atomic_store(&t->stop, 0);
	t->last_rc = 0;
	t->wakeups = 0;
	t->longest_call_ms = 0;
	return pthread_create(&t->thread, NULL, rx_main, t) == 0 ? 0 : -1;
}

void api_rx_join(struct api_rx *t) { pthread_join(t->thread, NULL); }

/* ---- payloads ---- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

uint64_t api_sum(const void *data, size_t size)
{
	const uint8_t *p = data;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ size;
	size_t i = 0;
	for (; i + 8 <= size; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	for (; i < size; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return mix64(h);
}

void api_fill(void *buf, size_t size, uint64_t seed)
{
	uint8_t *p = buf;
	size_t i = 0;
	if (size >= 8) {
		memcpy(p, &seed, 8);
		i = 8;
	}
	for (; i + 8 <= size; i += 8) {
		uint64_t w = mix64(seed + i);
		memcpy(p + i, &w, 8);
	}
	for (; i < size; i++)
		p[i] = (uint8_t)mix64(seed ^ i);
}

int64_t api_publish_first(struct api_rec *r, const char *group, const void *data, size_t size,
			  unsigned timeout_ms)
{
	uint64_t t0 = api_now_ns();
	for (;;) {
		int64_t rc = ordo_publish(r->c, group, strlen(group), data, size, ORDO_AGREED, 1);
		if (rc != ORDO_ENOQUORUM || api_ms_since(t0) > timeout_ms)
			return rc;
		(void)api_pump((struct api_rec *[]){r}, 1, NULL, NULL, 10);
	}
}

int64_t api_publish(struct ordo_client *c, struct api_rec *r, const char *group, const void *data,
		    size_t size, enum ordo_service svc, unsigned prio, unsigned timeout_ms)
{
	uint64_t t0 = 0;
	for (;;) {
		int64_t rc = ordo_publish(c, group, strlen(group), data, size, svc, prio);
		if (rc != ORDO_EAGAIN)
			return rc;
		if (t0 == 0)
			t0 = api_now_ns();
		else if (api_ms_since(t0) > timeout_ms)
			return rc;
		if (r != NULL && r->c != NULL && ordo_poll(r->c, 256) > 0)
			continue;
		struct timespec ts = {0, 200000};
		nanosleep(&ts, NULL);
	}
}

#include <cmocka.h>

struct api_node api_nodes[2];
struct api_node_opts api_nodes_opts[2];
int api_node_count = 1;

int api_setup(void **state)
{
	(void)state;
	for (int i = 0; i < api_node_count; i++)
		if (api_node_start(&api_nodes[i], &api_nodes_opts[i]) != 0)
			return -1;
	return 0;
}

int api_teardown(void **state)
{
	(void)state;
	for (int i = 0; i < api_node_count; i++)
		api_node_cleanup(&api_nodes[i]);
	return 0;
}

void api_attach(struct api_rec *r, const char *name, uint32_t m_cap, uint32_t submit, uint32_t delivery)
{
	assert_int_equal(api_rec_attach(r, name, api_nodes[0].sock, NULL, m_cap, submit, delivery), ORDO_OK);
}

int api_same_member(struct ordo_member a, struct ordo_member b)
{
	return a.node == b.node && a.client == b.client;
}

struct join_seen {
	const struct api_rec *r;
	const char *group;
	uint32_t from; /* the views before the join */
	struct ordo_member self;
};

/* r has a view, after the join, of group in which it joined. */
static int join_seen(void *arg)
{
	const struct join_seen *j = arg;
	const struct api_rec *r = j->r;
	uint32_t n = r->view_count < API_VIEWS_MAX ? r->view_count : API_VIEWS_MAX;
	for (uint32_t i = j->from; i < n; i++) {
		const struct api_view *v = &r->views[i];
		if (strcmp(v->group, j->group) != 0)
			continue;
		for (uint32_t k = 0; k < v->joined_count && k < API_CHANGES_MAX; k++)
			if (api_same_member(v->joined[k].member, j->self) && v->joined[k].reason == ORDO_REASON_JOIN)
				return 1;
	}
	return 0;
}

void api_join_wait(struct api_rec *r, const char *group)
{
	struct join_seen j = {.r = r, .group = group, .from = r->view_count, .self = ordo_self(r->c)};
	assert_int_equal(ordo_join(r->c, group, strlen(group)), ORDO_OK);
	assert_true(api_pump((struct api_rec *[]){r}, 1, join_seen, &j, 5000));
}

void api_attach_pair(struct api_rec *a, const char *na, struct api_rec *b, const char *nb, uint32_t m_cap,
		     const char *group)
{
	api_attach(a, na, m_cap, 0, 0);
	api_attach(b, nb, m_cap, 0, 0);
	api_join_wait(a, group);
	api_join_wait(b, group);
}

pid_t api_fork_reporter(int *fd)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		api_child_init();
		close(p[0]);
		*fd = p[1];
		return 0;
	}
	close(p[1]);
	*fd = p[0];
	return child;
}

void api_child_report(int fd, void *buf, size_t size)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&pfd, 1, 10000), 1);
	assert_int_equal(read(fd, buf, size), (ssize_t)size);
	close(fd);
}

void api_child_kill(pid_t child)
{
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, NULL, 0), child);
}


int api_main_init(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s ORDOD\n", argv[0]);
		return -1;
	}
	api_ordod = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("API_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("API_TEST_FILTER"));
	return 0;
}
