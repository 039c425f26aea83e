/* eng_control.c — the control thread: attaches clients (from the control
 * socket or an in-process call), publishes the client table to the worker
 * through RCU, notices clients that go away, and frees retired ones after a
 * grace period (docs/attach.md §1, §7).
 *
 * Owns: the listening socket, each client's region (memfd, sealed so a
 * client cannot shrink it under the engine), its eventfd, and the client
 * table's memory.
 *
 * Never: touches a client's rings or the group table (the worker owns
 * them), or frees a client before the worker has marked it gone and a grace
 * period has passed.
 *
 * Thread context: its own thread (not an RCU reader); eng_control_attach
 * and eng_control_detach may also be called from application threads in
 * in-process mode. A mutex serialises table updates.
 */
#include "eng_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <urcu-qsbr.h>

#include "ordo.h"

#define CTL_EPOLL_MS 50
#define CTL_MIN_RING (64u << 10)

struct eng_control {
	struct eng *e;
	int listen_fd, epoll_fd, stop_fd;
	pthread_t thread;
	int running;
	pthread_mutex_t lock;
	uint32_t next_id;
	uint8_t *slot_used;        /* [node] max_clients of them */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	uint64_t refused;          /* connections refused by peer_allowed */
	time_t refused_logged_s;
	/* [node] allow_users, allow_groups, resolved at start */
	uint32_t allow_users[ENG_ALLOW_MAX], allow_groups[ENG_ALLOW_MAX];
	uint32_t allow_user_count, allow_group_count;
};

static uint32_t ring_size(uint32_t asked)
{
	if (asked == 0)
		return ATT_RING_DEFAULT;
	if (asked < CTL_MIN_RING || asked > ATT_RING_MAX || (asked & (asked - 1u)) != 0)
		return 0;
	return asked;
}

static void client_free(struct eng_client *c)
{
	if (c->region != NULL && c->region != MAP_FAILED)
		munmap(c->region, c->region_size);
	const int fds[] = {c->mem_fd, c->event_fd, c->sock_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (c->overflow != NULL)
		munmap(c->overflow, c->ov_size);
	free(c); /* (its assembly buffers are the worker's pool's) */
}

/* Wakes a worker blocked in idle = block: the client table changed, or a
 * client is closing. */
static void ring_worker(struct eng *e)
{
	uint64_t one = 1;
	(void)!write(e->doorbell_fd, &one, sizeof(one));
}

/* The client detached or died: the worker drains it and lets it go. */
static void mark_closing(struct eng *e, struct eng_client *c)
{
	atomic_store_explicit(&c->closing, 1, memory_order_release);
	ring_worker(e);
}

/* Replaces the table with one where add is added and every client marked
 * gone is removed; frees the removed ones after a grace period. Called with
 * the lock held. */
static int table_update(struct eng_control *ctl, struct eng_client *add)
{
	struct eng *e = ctl->e;
	struct eng_client_table *old = e->clients,
				*t = calloc(1, sizeof(*t) + e->cfg.max_clients * sizeof(t->v[0]));
	if (t == NULL)
		return -1;
	for (uint32_t i = 0; old != NULL && i < old->count; i++) {
		struct eng_client *c = old->v[i];
		c->retired = atomic_load_explicit(&c->gone, memory_order_acquire) != 0;
		if (!c->retired)
			t->v[t->count++] = c;
	}
	if (add != NULL) /* a slot was free: so is an entry */
		t->v[t->count++] = add;
	rcu_assign_pointer(e->clients, t);
	ring_worker(e);
	synchronize_rcu(); /* the worker no longer holds the old table */
	for (uint32_t i = 0; old != NULL && i < old->count; i++) {
		struct eng_client *c = old->v[i];
		if (!c->retired)
			continue;
		ctl->slot_used[c->slot] = 0;
		if (c->sock_fd >= 0)
			(void)epoll_ctl(ctl->epoll_fd, EPOLL_CTL_DEL, c->sock_fd, NULL);
		client_free(c);
	}
	free(old);
	return 0;
}

static int make_region(struct eng *e, struct eng_client *c, uint32_t sub, uint32_t del)
{
	c->region_size = ATT_REGION_HDR_SIZE + 2u * SHM_RING_CTL_SIZE + (uint64_t)sub + del;
	c->region_size = (c->region_size + 4095u) & ~(uint64_t)4095u;
	c->mem_fd = memfd_create("ordo-client", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (c->mem_fd < 0 || ftruncate(c->mem_fd, (off_t)c->region_size) != 0 ||
	    fcntl(c->mem_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
		return -1;
	c->region = mmap(NULL, c->region_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->mem_fd, 0);
	if (c->region == MAP_FAILED)
		return -1;
	c->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->event_fd < 0)
		return -1;
	struct att_region_hdr *h = (struct att_region_hdr *)c->region;
	c->hdr = h;
	h->magic = ATT_MAGIC;
	h->version = ATT_VERSION;
	h->client_id = c->id;
	h->node_id = e->cfg.rp.node_id;
	h->submit_off = ATT_REGION_HDR_SIZE;
	h->submit_size = sub;
	h->delivery_off = ATT_REGION_HDR_SIZE + SHM_RING_CTL_SIZE + sub;
	h->delivery_size = del;
	h->max_message_size = e->cfg.max_message_size; /* what att_size_ok allows */
	h->engine_flags = (e->block_epfd >= 0 ? ATT_ENGINE_BLOCKS : 0) | ATT_ENGINE_ROOM | /* blocks: block, adaptive */
			  ATT_ENGINE_TAKES;
	uint64_t budget = (uint64_t)e->cfg.client_budget_kib * 1024u;
	h->submit_budget = budget < sub ? (uint32_t)budget : 0; /* 0: the whole ring */
	atomic_store_explicit(&h->state, ATT_STATE_ATTACHED, memory_order_relaxed);
	atomic_store_explicit(&h->no_quorum, e->cfg.rp.quorum_publish && !e->primary, memory_order_relaxed);
	struct shm_ring_ctl *sctl = (struct shm_ring_ctl *)(c->region + h->submit_off);
	struct shm_ring_ctl *dctl = (struct shm_ring_ctl *)(c->region + h->delivery_off);
	shm_ring_init(sctl);
	shm_ring_init(dctl);
	if (shm_ring_cons_attach(&c->submit, sctl, (uint8_t *)(sctl + 1), sub) != 0 ||
	    shm_ring_prod_attach(&c->deliver, dctl, (uint8_t *)(dctl + 1), del) != 0)
		return -1;
	return 0;
}

struct eng_client *eng_control_attach(struct eng *e, const struct att_hello *h, int sock_fd, int *err)
{
	struct eng_control *ctl = e->control;
	*err = ORDO_EINVAL;
	if (h->version != ATT_VERSION) {
		*err = ORDO_EPROTO;
		return NULL;
	}
	uint32_t sub = ring_size(h->submit_size), del = ring_size(h->delivery_size);
	if (sub == 0 || del == 0)
		return NULL;
	struct eng_client *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		*err = ORDO_ENOMEM;
		return NULL;
	}
	c->mem_fd = c->event_fd = -1;
	c->sock_fd = sock_fd;
	memcpy(c->name, h->name, sizeof(c->name));
	c->name[sizeof(c->name) - 1] = '\0';
	pthread_mutex_lock(&ctl->lock);
	int slot = -1;
	for (uint32_t s = 0; s < e->cfg.max_clients && slot < 0; s++)
		if (!ctl->slot_used[s])
			slot = (int)s;
	if (slot < 0) { /* [node] max_clients are attached */
		pthread_mutex_unlock(&ctl->lock);
		c->sock_fd = -1;
		client_free(c);
		*err = ORDO_ECLIENTS;
		return NULL;
	}
	c->slot = (uint16_t)slot;
	/* ids grow and never repeat while a client could remember one, and
	 * say their slot (id % max_clients): the worker finds a group
	 * member's client without a search. 0 is the node's own. */
	uint64_t m = e->cfg.max_clients, id = (uint64_t)ctl->next_id + 1u;
	id += ((uint64_t)slot + m - id % m) % m;
	if (id > UINT32_MAX) /* after 2^32 / max_clients attaches: from the start again */
		id = slot != 0 ? (uint64_t)slot : m;
	c->id = (uint32_t)id;
	ctl->next_id = c->id;
	/* the overflow queue: at least two of the largest message, mapped
	 * here so that the worker never allocates (its pages come as used) */
	uint64_t ov = 2ull * e->cfg.rp.message_size_max;
	ov = ov < ENG_OVERFLOW_MAX ? ENG_OVERFLOW_MAX : ov > UINT32_MAX / 2 ? UINT32_MAX / 2 : ov;
	c->overflow = mmap(NULL, ov, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (c->overflow == MAP_FAILED)
		c->overflow = NULL;
	else
		c->ov_size = (uint32_t)ov;
	if (c->overflow == NULL || make_region(e, c, sub, del) != 0) {
		pthread_mutex_unlock(&ctl->lock);
		c->sock_fd = -1;
		client_free(c);
		*err = ORDO_ENOMEM;
		return NULL;
	}
	ctl->slot_used[slot] = 1;
	if (table_update(ctl, c) != 0) {
		ctl->slot_used[slot] = 0;
		pthread_mutex_unlock(&ctl->lock);
		c->sock_fd = -1;
		client_free(c);
		*err = ORDO_ENOMEM;
		return NULL;
	}
	pthread_mutex_unlock(&ctl->lock);
	*err = 0;
	return c;
}

void eng_control_detach(struct eng *e, uint32_t client_id)
{
	struct eng_control *ctl = e->control;
	pthread_mutex_lock(&ctl->lock);
	struct eng_client_table *t = e->clients;
	for (uint32_t i = 0; t != NULL && i < t->count; i++)
		if (t->v[i]->id == client_id)
			mark_closing(e, t->v[i]);
	pthread_mutex_unlock(&ctl->lock);
}

static int send_welcome(int fd, const struct att_welcome *w, int mem_fd, int event_fd, int doorbell_fd)
{
	struct iovec iov = {.iov_base = (void *)w, .iov_len = sizeof(*w)};
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	if (mem_fd >= 0) {
		memset(&u, 0, sizeof(u));
		msg.msg_control = u.buf;
		msg.msg_controllen = sizeof(u.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(3 * sizeof(int));
		int fds[3] = {mem_fd, event_fd, doorbell_fd};
		memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	}
	return sendmsg(fd, &msg, MSG_NOSIGNAL) == (ssize_t)sizeof(*w) ? 0 : -1;
}

/* Whether the process on fd may attach: root, the daemon's own user, or,
 * when [node] allow_users or allow_groups is set, a user or a group
 * (primary or supplementary, as the kernel reports them with
 * SO_PEERCRED and SO_PEERGROUPS) listed there; with neither set, anyone
 * the socket's mode lets connect. *cr is the peer's credentials. */
static int peer_allowed(const struct eng_control *ctl, int fd, struct ucred *cr, int admin)
{
	socklen_t len = sizeof(*cr);
	memset(cr, 0, sizeof(*cr));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cr, &len) != 0)
		return 0;
	if (cr->uid == 0 || cr->uid == geteuid())
		return 1;
	const struct eng_control *c = ctl;
	if (admin)
		return 0;
	if (c->allow_user_count == 0 && c->allow_group_count == 0)
		return 1;
	for (uint32_t i = 0; i < c->allow_user_count; i++)
		if (c->allow_users[i] == cr->uid)
			return 1;
	gid_t groups[256];
	socklen_t glen = sizeof(groups);
	uint32_t ng = 0;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &glen) == 0)
		ng = glen / (socklen_t)sizeof(gid_t);
	for (uint32_t i = 0; i < c->allow_group_count; i++) {
		if (c->allow_groups[i] == cr->gid)
			return 1;
		for (uint32_t k = 0; k < ng; k++)
			if (c->allow_groups[i] == groups[k])
				return 1;
	}
	return 0;
}

/* Logs a refused connection, at most once a second (the rest counted). */
static void log_refused(struct eng_control *ctl, const struct ucred *cr, const char *what)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ctl->refused++;
	if (ts.tv_sec == ctl->refused_logged_s)
		return;
	ctl->refused_logged_s = ts.tv_sec;
	ENG_LOG(WARNING, ctl->e, "control socket: refused %s from pid %d (uid %u, gid %u): not allowed by [node] allow_users / allow_groups%s (%llu refused so far)",
		what, (int)cr->pid, (unsigned)cr->uid, (unsigned)cr->gid,
		strcmp(what, "a key reload") == 0 ? " (only root and the daemon's user may)" : "",
		(unsigned long long)ctl->refused);
}

/* An operator's request (ordoctl): one JSON reply, then the connection
 * closes. Reading is for whoever may attach; changing the node is for
 * root and the daemon's user. */
static void on_admin(struct eng_control *ctl, int fd, struct att_admin *a, ssize_t n)
{
	struct ucred cr;
	char *reply = malloc(ATT_ADMIN_REPLY_MAX);
	size_t len;
	if (reply == NULL) {
		close(fd);
		return;
	}
	if (n != (ssize_t)sizeof(*a) || a->version != ATT_ADMIN_VERSION ||
	    memchr(a->request, '\0', sizeof(a->request)) == NULL) {
		len = (size_t)snprintf(reply, ATT_ADMIN_REPLY_MAX,
				       "{\"error\": \"malformed request (admin protocol version %u)\"}\n",
				       ATT_ADMIN_VERSION);
	} else if (!peer_allowed(ctl, fd, &cr, 0)) {
		log_refused(ctl, &cr, "an admin request");
		len = (size_t)snprintf(reply, ATT_ADMIN_REPLY_MAX, "{\"error\": \"not allowed\", \"denied\": true}\n");
	} else {
		len = eng_admin_request(ctl->e, a->request, peer_allowed(ctl, fd, &cr, 1), reply, ATT_ADMIN_REPLY_MAX);
	}
	int sz = (int)ATT_ADMIN_REPLY_MAX * 2;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)send(fd, reply, len, MSG_NOSIGNAL | MSG_DONTWAIT);
	free(reply);
	close(fd);
}

/* A connection with data: its HELLO, or (an attached client) an EOF. */
static void on_readable(struct eng_control *ctl, int fd)
{
	struct eng *e = ctl->e;
	pthread_mutex_lock(&ctl->lock);
	struct eng_client_table *t = e->clients;
	for (uint32_t i = 0; t != NULL && i < t->count; i++) {
		if (t->v[i]->sock_fd != fd)
			continue;
		/* an attached client says nothing more: EOF (or garbage) ends it */
		char b[64];
		ssize_t n = recv(fd, b, sizeof(b), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) || n > 0) {
			mark_closing(e, t->v[i]);
			(void)epoll_ctl(ctl->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
		}
		pthread_mutex_unlock(&ctl->lock);
		return;
	}
	pthread_mutex_unlock(&ctl->lock);
	union {
		struct att_hello h;
		struct att_admin a;
	} u;
	ssize_t n = recv(fd, &u, sizeof(u), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	(void)epoll_ctl(ctl->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
	if (n >= (ssize_t)sizeof(uint32_t) && u.h.type == ATT_ADMIN) {
		on_admin(ctl, fd, &u.a, n);
		return;
	}
	struct att_hello h = u.h;
	if (n == (ssize_t)sizeof(u))
		n = -1; /* longer than a HELLO */
	struct att_welcome w = {.type = ATT_REFUSE, .err = ORDO_EPROTO};
	if (n != (ssize_t)sizeof(h) || (h.type != ATT_HELLO && h.type != ATT_KEY_RELOAD)) {
		(void)send_welcome(fd, &w, -1, -1, -1);
		close(fd);
		return;
	}
	struct ucred cr;
	if (!peer_allowed(ctl, fd, &cr, h.type == ATT_KEY_RELOAD)) {
		log_refused(ctl, &cr, h.type == ATT_KEY_RELOAD ? "a key reload" : "an attach");
		w.err = ORDO_EACCES;
		(void)send_welcome(fd, &w, -1, -1, -1);
		close(fd);
		return;
	}
	if (h.type == ATT_KEY_RELOAD) {
		eng_key_reload_request(e);
		w.type = ATT_WELCOME;
		w.err = 0;
		(void)send_welcome(fd, &w, -1, -1, -1);
		close(fd);
		return;
	}
	int err;
	struct eng_client *c = eng_control_attach(e, &h, fd, &err);
	if (c == NULL) {
		w.err = err;
		(void)send_welcome(fd, &w, -1, -1, -1);
		close(fd);
		return;
	}
	w.type = ATT_WELCOME;
	w.err = 0;
	w.region_size = c->region_size;
	if (send_welcome(fd, &w, c->mem_fd, c->event_fd, e->doorbell_fd) != 0) {
		mark_closing(e, c);
		return;
	}
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = fd};
	if (epoll_ctl(ctl->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
		mark_closing(e, c);
}

static void *control_main(void *arg)
{
	struct eng_control *ctl = arg;
	struct eng *e = ctl->e;
	while (ctl->running) {
		struct epoll_event ev[16];
		int n = epoll_wait(ctl->epoll_fd, ev, 16, CTL_EPOLL_MS);
		for (int i = 0; i < n; i++) {
			int fd = ev[i].data.fd;
			if (fd == ctl->stop_fd)
				continue;
			if (fd == ctl->listen_fd) {
				int cfd = accept4(ctl->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
				if (cfd < 0)
					continue;
				struct epoll_event cev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = cfd};
				if (epoll_ctl(ctl->epoll_fd, EPOLL_CTL_ADD, cfd, &cev) != 0)
					close(cfd);
				continue;
			}
			on_readable(ctl, fd);
		}
		/* retire clients the worker is done with */
		pthread_mutex_lock(&ctl->lock);
		struct eng_client_table *t = e->clients;
		int any = 0;
		for (uint32_t i = 0; t != NULL && i < t->count; i++)
			any |= (int)atomic_load_explicit(&t->v[i]->gone, memory_order_acquire);
		if (any)
			(void)table_update(ctl, NULL);
		pthread_mutex_unlock(&ctl->lock);
	}
	return NULL;
}

int eng_control_start(struct eng *e, const char *socket_path, char *err, size_t err_size)
{
	struct eng_control *ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		snprintf(err, err_size, "out of memory for the control thread");
		return -ENOMEM;
	}
	ctl->e = e;
	ctl->listen_fd = ctl->stop_fd = ctl->epoll_fd = -1;
	char why[128];
	int nu = eng_resolve_ids(e->cfg.allow_users, 0, ctl->allow_users, ENG_ALLOW_MAX, why, sizeof(why));
	int ng = nu < 0 ? -1 : eng_resolve_ids(e->cfg.allow_groups, 1, ctl->allow_groups, ENG_ALLOW_MAX, why, sizeof(why));
	if (nu < 0 || ng < 0) {
		snprintf(err, err_size, "[node] allow_users / allow_groups: %s", why);
		free(ctl);
		return -EINVAL;
	}
	ctl->allow_user_count = (uint32_t)nu;
	ctl->allow_group_count = (uint32_t)ng;
	pthread_mutex_init(&ctl->lock, NULL);
	e->control = ctl;
	ctl->slot_used = calloc(e->cfg.max_clients, 1);
	if (ctl->slot_used == NULL) {
		snprintf(err, err_size, "out of memory for the client table");
		return -ENOMEM;
	}
	ctl->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	ctl->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ctl->epoll_fd < 0 || ctl->stop_fd < 0) {
		snprintf(err, err_size, "control thread: %s", strerror(errno));
		return -errno;
	}
	struct epoll_event sev = {.events = EPOLLIN, .data.fd = ctl->stop_fd};
	(void)epoll_ctl(ctl->epoll_fd, EPOLL_CTL_ADD, ctl->stop_fd, &sev);
	if (socket_path != NULL && socket_path[0] != '\0') {
		struct sockaddr_un a = {.sun_family = AF_UNIX};
		if (strlen(socket_path) >= sizeof(a.sun_path)) {
			snprintf(err, err_size, "socket path %s is too long", socket_path);
			return -ENAMETOOLONG;
		}
		snprintf(a.sun_path, sizeof(a.sun_path), "%s", socket_path);
		snprintf(ctl->path, sizeof(ctl->path), "%s", socket_path);
		/* its directory, then a stale socket of a dead daemon goes */
		char dir[sizeof(a.sun_path)];
		snprintf(dir, sizeof(dir), "%s", socket_path);
		char *slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir) {
			*slash = '\0';
			(void)mkdir(dir, 0755);
		}
		ctl->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (ctl->listen_fd >= 0 && connect(ctl->listen_fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			snprintf(err, err_size, "socket %s: another node is listening there", socket_path);
			return -EADDRINUSE;
		}
		if (ctl->listen_fd >= 0) {
			close(ctl->listen_fd);
			(void)unlink(socket_path);
			ctl->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		}
		if (ctl->listen_fd < 0 || bind(ctl->listen_fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
		    listen(ctl->listen_fd, 64) != 0) {
			int e2 = errno;
			snprintf(err, err_size, "socket %s: %s", socket_path, strerror(e2));
			ctl->path[0] = '\0';
			return -e2;
		}
		/* who may connect: the socket's mode and owner (docs/security.md §7) */
		uint32_t uid = UINT32_MAX, gid = UINT32_MAX;
		int mode = eng_socket_mode(e->cfg.socket_mode[0] ? e->cfg.socket_mode : "0660");
		char why[128];
		if (mode < 0 || eng_resolve_ids(e->cfg.socket_user, 0, &uid, 1, why, sizeof(why)) < 0 ||
		    eng_resolve_ids(e->cfg.socket_group, 1, &gid, 1, why, sizeof(why)) < 0) {
			snprintf(err, err_size, "socket %s: [node] socket_mode, socket_user or socket_group: %s",
				 socket_path, mode < 0 ? "socket_mode is not octal 0..0777" : why);
			return -EINVAL;
		}
		if (chmod(socket_path, (mode_t)mode) != 0 ||
		    ((uid != UINT32_MAX || gid != UINT32_MAX) && chown(socket_path, (uid_t)uid, (gid_t)gid) != 0)) {
			int e2 = errno;
			snprintf(err, err_size, "socket %s: cannot set its mode %04o or owner: %s", socket_path,
				 (unsigned)mode, strerror(e2));
			return -e2;
		}
		struct epoll_event lev = {.events = EPOLLIN, .data.fd = ctl->listen_fd};
		(void)epoll_ctl(ctl->epoll_fd, EPOLL_CTL_ADD, ctl->listen_fd, &lev);
	}
	ctl->running = 1;
	/* a DPDK control thread: it runs on the CPUs the EAL keeps for them
	 * (the process's, less the lcores'), never on the worker's CPU, which
	 * a thread created from the main lcore would inherit */
	if (rte_ctrl_thread_create(&ctl->thread, "ordo-control", NULL, control_main, ctl) != 0) {
		ctl->running = 0;
		snprintf(err, err_size, "cannot start the control thread");
		return -EAGAIN;
	}
	return 0;
}

void eng_control_stop(struct eng *e)
{
	struct eng_control *ctl = e->control;
	if (ctl == NULL)
		return;
	if (ctl->running) {
		ctl->running = 0;
		uint64_t one = 1;
		ssize_t w = write(ctl->stop_fd, &one, sizeof(one));
		(void)w;
		pthread_join(ctl->thread, NULL);
	}
	if (ctl->listen_fd >= 0)
		close(ctl->listen_fd);
	if (ctl->path[0] != '\0')
		(void)unlink(ctl->path);
	/* the worker has stopped: every client goes now */
	struct eng_client_table *t = e->clients;
	for (uint32_t i = 0; t != NULL && i < t->count; i++)
		client_free(t->v[i]);
	free(t);
	e->clients = NULL;
	if (ctl->epoll_fd >= 0)
		close(ctl->epoll_fd);
	if (ctl->stop_fd >= 0)
		close(ctl->stop_fd);
	pthread_mutex_destroy(&ctl->lock);
	free(ctl->slot_used);
	free(ctl);
	e->control = NULL;
}
