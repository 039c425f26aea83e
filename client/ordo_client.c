/* ordo_client.c — libordo: the client side of attach (include/ordo.h,
 * docs/attach.md).
 *
 * Owns: connecting to a node's control socket and mapping the region it
 * hands over, writing PUBLISH/JOIN/LEAVE records into the submit ring,
 * reading the delivery ring and calling the application's callbacks
 * (zero copy for a message that arrives whole; for one that arrives in
 * pieces, one copy into an assembly buffer, or none with
 * ORDO_RECEIVE_PIECES: its pieces stay in the ring, unreleased, until its
 * callback returns; docs/attach.md §9), the sleep handshake on the
 * eventfd, and the engine's doorbell when the engine blocks while idle.
 *
 * Never: depends on DPDK or the engine (in-process mode lives in
 * ordo_inproc.c), trusts the delivery ring's layout (garbage detaches the
 * client), blocks outside ordo_attach and ordo_wait, or reads a clock.
 *
 * Thread context: see include/ordo.h: a submit side and a receive side per
 * client, each used by one thread at a time.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "attach_proto.h"
#include "ordo.h"
#include "ordo_client_internal.h"

/* A spinning client's full ring looks at the socket once in this many
 * returns or sleeps (a look costs a system call; a dead node also makes
 * ordo_fd readable, so a sleeping client wakes to look). */
#define ORDO_SOCK_CHECK_EVERY 1024u

const char *ordo_strerror(int err)
{
	switch (err) {
	case ORDO_OK: return "success";
	case ORDO_EAGAIN: return "the submit ring is full; retry";
	case ORDO_EINVAL: return "invalid argument";
	case ORDO_E2BIG: return "message larger than the node's maximum";
	case ORDO_ENOMEM: return "out of memory";
	case ORDO_ENOQUORUM: return "no quorum: the node refuses publishing outside a primary configuration";
	case ORDO_EDETACHED: return "detached from the node";
	case ORDO_ECONNECT: return "cannot attach to the node";
	case ORDO_EPROTO: return "the node speaks another attach protocol version";
	case ORDO_EACCES: return "the node does not allow this user to attach (its allow_users / allow_groups)";
	case ORDO_ECLIENTS: return "the node has its maximum number of clients attached ([node] max_clients)";
	case ORDO_EGROUPS: return "join refused: the group table is full ([node] max_groups)";
	case ORDO_EMEMBERS: return "join refused: the group has its maximum number of members ([node] max_group_members)";
	default: return "unknown error";
	}
}

/* Maps the region behind mem_fd and checks its header. */
int ordo_client_map(struct ordo_client *c, int mem_fd, int event_fd, int doorbell_fd, uint64_t region_size)
{
	c->mem_fd = mem_fd;
	c->event_fd = event_fd;
	c->doorbell_fd = doorbell_fd;
	struct stat st;
	if (fstat(mem_fd, &st) != 0 || (uint64_t)st.st_size < region_size || region_size < ATT_REGION_HDR_SIZE)
		return ORDO_EPROTO;
	c->region = mmap(NULL, region_size, PROT_READ | PROT_WRITE, MAP_SHARED, mem_fd, 0);
	if (c->region == MAP_FAILED) {
		c->region = NULL;
		return ORDO_ENOMEM;
	}
	c->region_size = region_size;
	struct att_region_hdr *h = (struct att_region_hdr *)c->region;
	c->hdr = h;
	if (h->magic != ATT_MAGIC || h->version != ATT_VERSION)
		return ORDO_EPROTO;
	uint64_t s_end = h->submit_off + SHM_RING_CTL_SIZE + h->submit_size;
	uint64_t d_end = h->delivery_off + SHM_RING_CTL_SIZE + h->delivery_size;
	if (h->submit_off < ATT_REGION_HDR_SIZE || s_end > region_size || h->delivery_off < s_end ||
	    d_end > region_size || (h->submit_off & 63u) || (h->delivery_off & 63u))
		return ORDO_EPROTO;
	struct shm_ring_ctl *sctl = (struct shm_ring_ctl *)(c->region + h->submit_off);
	struct shm_ring_ctl *dctl = (struct shm_ring_ctl *)(c->region + h->delivery_off);
	if (shm_ring_prod_attach(&c->submit, sctl, (uint8_t *)(sctl + 1), h->submit_size) != 0 ||
	    shm_ring_cons_attach(&c->deliver, dctl, (const uint8_t *)(dctl + 1), h->delivery_size) != 0)
		return ORDO_EPROTO;
	/* one descriptor to sleep on: deliveries (the eventfd) and, in daemon
	 * mode, the node going away (the socket's hang-up) */
	c->poll_fd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = event_fd};
	if (c->poll_fd < 0 || epoll_ctl(c->poll_fd, EPOLL_CTL_ADD, event_fd, &ev) != 0)
		return ORDO_ENOMEM;
	if (c->sock_fd >= 0) {
		struct epoll_event sev = {.events = EPOLLIN | EPOLLRDHUP, .data.fd = c->sock_fd};
		if (epoll_ctl(c->poll_fd, EPOLL_CTL_ADD, c->sock_fd, &sev) != 0)
			return ORDO_ENOMEM;
	}
	c->self.node = h->node_id;
	c->self.client = h->client_id;
	c->max_message = h->max_message_size;
	c->max_record = shm_ring_max_record(h->submit_size);
	c->engine_blocks = (h->engine_flags & ATT_ENGINE_BLOCKS) != 0;
	c->room_wake = (h->engine_flags & ATT_ENGINE_ROOM) != 0;
	c->engine_takes = (h->engine_flags & ATT_ENGINE_TAKES) != 0;
	c->budget = h->submit_budget;
	return ORDO_OK;
}

static void set_opts(struct ordo_client *c, const struct ordo_client_opts *o)
{
	if (o != NULL && o->callbacks != NULL)
		c->cb = *o->callbacks;
	c->ctx = o != NULL ? o->ctx : NULL;
}

struct ordo_client *ordo_client_new(const struct ordo_client_opts *o)
{
	struct ordo_client *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->sock_fd = c->mem_fd = c->event_fd = c->poll_fd = c->doorbell_fd = -1;
	set_opts(c, o);
	return c;
}

void ordo_client_free(struct ordo_client *c)
{
	if (c->region != NULL)
		munmap(c->region, c->region_size);
	const int fds[] = {c->mem_fd, c->event_fd, c->doorbell_fd, c->sock_fd, c->poll_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	for (uint32_t n = 0; n < 64; n++)
		for (uint32_t p = 0; p < ORDO_PRIORITIES; p++) {
			free(c->rs[n][p].buf);
			free(c->rs[n][p].pieces);
		}
	free(c->groups);
	free(c);
}

void ordo_hello_fill(struct att_hello *h, const struct ordo_client_opts *o)
{
	memset(h, 0, sizeof(*h));
	h->type = ATT_HELLO;
	h->version = ATT_VERSION;
	if (o != NULL) {
		h->submit_size = o->submit_ring_size;
		h->delivery_size = o->delivery_ring_size;
		if (o->name != NULL)
			snprintf(h->name, sizeof(h->name), "%s", o->name);
	}
	if (h->name[0] == '\0')
		snprintf(h->name, sizeof(h->name), "pid %d", (int)getpid());
}

/* ORDO_ECONNECT, with errno = why (include/ordo.h) past the cleanup's calls. */
static int connect_failed(struct ordo_client *c, int why)
{
	ordo_client_free(c);
	errno = why;
	return ORDO_ECONNECT;
}

int ordo_attach(const char *socket_path, const struct ordo_client_opts *opts, struct ordo_client **out)
{
	*out = NULL;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (socket_path == NULL || strlen(socket_path) >= sizeof(a.sun_path))
		return ORDO_EINVAL;
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", socket_path);
	struct ordo_client *c = ordo_client_new(opts);
	if (c == NULL)
		return ORDO_ENOMEM;
	c->sock_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	struct timeval tv = {.tv_sec = 5};
	if (c->sock_fd < 0 || setsockopt(c->sock_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    connect(c->sock_fd, (struct sockaddr *)&a, sizeof(a)) != 0)
		return connect_failed(c, errno);
	struct att_hello h;
	ordo_hello_fill(&h, opts);
	if (send(c->sock_fd, &h, sizeof(h), MSG_NOSIGNAL) != (ssize_t)sizeof(h))
		return connect_failed(c, errno);
	struct att_welcome w;
	struct iovec iov = {.iov_base = &w, .iov_len = sizeof(w)};
	union {
		char buf[CMSG_SPACE(3 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	ssize_t n = recvmsg(c->sock_fd, &msg, MSG_CMSG_CLOEXEC);
	/* no answer within SO_RCVTIMEO, the node closed the socket, or not a reply */
	int why = n < 0 ? (errno == EAGAIN || errno == EWOULDBLOCK ? ETIMEDOUT : errno) : n == 0 ? ECONNRESET : EPROTO;
	int fds[3] = {-1, -1, -1};
	struct cmsghdr *cm = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (cm != NULL && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(3 * sizeof(int)))
		memcpy(fds, CMSG_DATA(cm), sizeof(fds));
	if (n != (ssize_t)sizeof(w) || w.type != ATT_WELCOME || fds[0] < 0 || fds[1] < 0 || fds[2] < 0) {
		for (int i = 0; i < 3; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		if (n == (ssize_t)sizeof(w) && w.type == ATT_REFUSE && w.err < 0) {
			ordo_client_free(c);
			return w.err;
		}
		return connect_failed(c, why);
	}
	int rc = ordo_client_map(c, fds[0], fds[1], fds[2], w.region_size);
	if (rc != ORDO_OK) {
		ordo_client_free(c);
		return rc;
	}
	*out = c;
	return ORDO_OK;
}

struct ordo_member ordo_self(const struct ordo_client *c) { return c->self; }
size_t ordo_max_message_size(const struct ordo_client *c) { return c->max_message; }
int ordo_fd(const struct ordo_client *c) { return c->poll_fd; }

/* The node closed the control socket: it stopped or died (a killed
 * engine never marks the region). A look costs a system call, and an empty
 * poll, a full ring or a sleep is the hot path of a busy client: it is
 * looked at once in ORDO_SOCK_CHECK_EVERY calls. */
static int socket_dead(struct ordo_client *c)
{
	if (c->sock_fd < 0 || c->sock_dead)
		return c->sock_dead;
	if (++c->sock_check_skips < ORDO_SOCK_CHECK_EVERY)
		return 0;
	c->sock_check_skips = 0;
	char b;
	ssize_t n = recv(c->sock_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
		c->sock_dead = 1;
	return c->sock_dead;
}

static int attached(const struct ordo_client *c)
{
	return !c->detached && !c->sock_dead &&
	       atomic_load_explicit(&c->hdr->state, memory_order_acquire) == ATT_STATE_ATTACHED;
}

/* After committing submit records: an engine about to block (idle = block)
 * is woken. Dekker with eng_clients_arm_sleep(): we commit, fence, read
 * engine_sleeping; it stores engine_sleeping, fences, reads our head. */
static void ring_engine(struct ordo_client *c)
{
	if (!c->engine_blocks)
		return;
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&c->hdr->engine_sleeping, memory_order_relaxed) != 0 &&
	    atomic_exchange_explicit(&c->hdr->engine_sleeping, 0, memory_order_relaxed) != 0) {
		uint64_t one = 1;
		(void)!write(c->doorbell_fd, &one, sizeof(one));
	}
}

/* No room for a record: ORDO_EAGAIN, and ordo_prepare_sleep will ask the
 * node to wake us when it releases submit bytes past this tail. */
static int no_room(struct ordo_client *c)
{
	c->room_wanted = 1;
	c->room_tail = atomic_load_explicit(&c->submit.ctl->tail, memory_order_acquire);
	return ORDO_EAGAIN;
}

/* ---- groups ---- */

static int group_ok(const void *group, size_t len)
{
	return group != NULL && len >= 1 && len <= ORDO_GROUP_NAME_MAX;
}

static void remember_group(struct ordo_client *c, const void *group, size_t len, int join)
{
	for (uint32_t i = 0; i < c->group_count; i++)
		if (c->groups[i].len == len && memcmp(c->groups[i].name, group, len) == 0) {
			if (!join)
				c->groups[i] = c->groups[--c->group_count];
			return;
		}
	if (!join)
		return;
	if (c->group_count == c->group_cap) {
		uint32_t cap = c->group_cap ? c->group_cap * 2u : 8u;
		void *v = realloc(c->groups, cap * sizeof(*c->groups));
		if (v == NULL)
			return;
		c->groups = v;
		c->group_cap = cap;
	}
	c->groups[c->group_count].len = (uint8_t)len;
	memcpy(c->groups[c->group_count].name, group, len);
	c->group_count++;
}

static int group_record(struct ordo_client *c, uint16_t type, const void *group, size_t len)
{
	if (!group_ok(group, len))
		return ORDO_EINVAL;
	if (!attached(c))
		return ORDO_EDETACHED;
	enum shm_ring_status st;
	c->resv = NULL; /* abandons an uncommitted ordo_publish_reserve */
	uint8_t *p = shm_ring_reserve(&c->submit, (uint32_t)len, &st);
	if (p == NULL)
		return st == SHM_RING_FULL && !socket_dead(c) ? no_room(c) : ORDO_EDETACHED;
	memcpy(p, group, len);
	shm_ring_commit(&c->submit, (uint32_t)len, type, 0);
	c->room_wanted = 0;
	ring_engine(c);
	remember_group(c, group, len, type == ATT_REC_JOIN);
	return ORDO_OK;
}

int ordo_join(struct ordo_client *c, const void *group, size_t len) { return group_record(c, ATT_REC_JOIN, group, len); }
int ordo_leave(struct ordo_client *c, const void *group, size_t len) { return group_record(c, ATT_REC_LEAVE, group, len); }

/* ---- publish ---- */

/* The node's budget (docs/attach.md §5): a record that would take the
 * unsent bytes in the submit ring past it waits, unless the ring is empty
 * (a record larger than the budget still goes, alone). */
static int over_budget(struct ordo_client *c, uint32_t length)
{
	if (c->budget == 0 || c->submit.head - c->submit.tail_cache + length <= c->budget)
		return 0;
	uint64_t used = shm_ring_prod_used(&c->submit); /* reloads the tail */
	return used != 0 && used + length > c->budget;
}

/* Reserves one PUBLISH record of len data bytes and writes its header
 * (and the envelope's head for a FIRST piece); returns where the data
 * goes, or NULL with *rc: FULL, or the budget spent, is ORDO_EAGAIN. Any
 * earlier uncommitted reservation (ordo_publish_reserve) is abandoned. */
static uint8_t *piece_open(struct ordo_client *c, const struct att_publish *p, const void *group, uint8_t glen,
			   uint32_t len, uint16_t flags, uint32_t *length, int *rc)
{
	uint32_t head = (flags & ATT_F_FIRST) ? ATT_ENV_HEAD(glen) : 0;
	*length = (uint32_t)sizeof(*p) + head + len;
	c->resv = NULL;
	*rc = ORDO_OK;
	if (over_budget(c, *length)) {
		*rc = no_room(c);
		return NULL;
	}
	enum shm_ring_status st;
	uint8_t *w = shm_ring_reserve(&c->submit, *length, &st);
	if (w == NULL) {
		*rc = st == SHM_RING_FULL ? no_room(c) : ORDO_EDETACHED;
		return NULL;
	}
	memcpy(w, p, sizeof(*p));
	w += sizeof(*p);
	if (head != 0) {
		w[0] = ATT_ENV_USER;
		w[1] = glen;
		memcpy(w + 2, group, glen);
		w += head;
	}
	return w;
}

/* Makes the record piece_open reserved visible to the node. */
static void piece_close(struct ordo_client *c, uint32_t length, uint16_t flags)
{
	shm_ring_commit(&c->submit, length, ATT_REC_PUBLISH, flags);
	ring_engine(c);
	c->room_wanted = 0;
}

/* Writes one PUBLISH record: the one copy of a message's bytes. */
static int publish_piece(struct ordo_client *c, const struct att_publish *p, const void *group, uint8_t glen,
			 const uint8_t *data, uint32_t len, uint16_t flags)
{
	uint32_t length;
	int rc;
	uint8_t *w = piece_open(c, p, group, glen, len, flags, &length, &rc);
	if (w == NULL)
		return rc;
	if (len != 0)
		memcpy(w, data, len);
	piece_close(c, length, flags);
	return ORDO_OK;
}

static int stream_is(const struct ordo_stream *st, const void *group, uint8_t glen, const void *data,
		     size_t size, uint8_t service, uint8_t priority)
{
	return st->active && st->data == data && st->size == size && st->glen == glen &&
	       st->service == service && st->priority == priority && memcmp(st->group, group, glen) == 0;
}

/* A message larger than one record: as many pieces as the submit ring
 * takes now. If it fills, ORDO_EAGAIN; the same call again goes on where
 * this one stopped (c->stream), another call abandons the message
 * (ordo_publish). */
static int64_t publish_stream(struct ordo_client *c, struct att_publish *p, const void *group, uint8_t glen,
			      const uint8_t *data, size_t size)
{
	struct ordo_stream *st = &c->stream;
	if (!st->active) {
		*st = (struct ordo_stream){.active = 1, .data = data, .size = size, .service = p->service,
					   .priority = p->priority, .glen = glen};
		memcpy(st->group, group, glen);
	}
	uint32_t piece_max = c->max_record - (uint32_t)sizeof(*p) - ATT_ENV_HEAD(glen);
	while (st->off < size) {
		uint32_t n = (uint32_t)(size - st->off) < piece_max ? (uint32_t)(size - st->off) : piece_max;
		uint16_t flags = (st->off == 0 ? ATT_F_FIRST : 0) | (st->off + n == size ? ATT_F_LAST : 0);
		p->offset = st->off;
		int rc = publish_piece(c, p, group, glen, data + st->off, n, flags);
		if (rc == ORDO_EAGAIN && socket_dead(c))
			rc = ORDO_EDETACHED;
		if (rc != ORDO_OK) {
			st->active = rc == ORDO_EAGAIN && st->off != 0; /* resumable once something was written */
			return rc;
		}
		st->off += n;
	}
	st->active = 0;
	return (int64_t)c->pub_seq++;
}

/* The checks every publish makes, in this order. */
static int publish_check(struct ordo_client *c, const void *group, size_t glen, size_t size,
			 enum ordo_service service, unsigned priority)
{
	if (!group_ok(group, glen) || (service != ORDO_AGREED && service != ORDO_SAFE) ||
	    priority >= ORDO_PRIORITIES)
		return ORDO_EINVAL;
	if (!attached(c))
		return ORDO_EDETACHED;
	if (!att_size_ok(size, c->max_message))
		return ORDO_E2BIG;
	if (atomic_load_explicit(&c->hdr->no_quorum, memory_order_relaxed))
		return ORDO_ENOQUORUM;
	return ORDO_OK;
}

/* A partly written large message that a publish does not go on with is
 * abandoned: its sequence number is spent, and the node drops the pieces
 * it holds (when this client's next large message at that priority
 * starts, or after assembly_timeout_ms, docs/attach.md §8). */
static void stream_abandon(struct ordo_client *c)
{
	c->stream.active = 0;
	c->pub_seq++;
}

int64_t ordo_publish(struct ordo_client *c, const void *group, size_t glen, const void *data, size_t size,
		     enum ordo_service service, unsigned priority)
{
	if (size != 0 && data == NULL)
		return ORDO_EINVAL;
	int rc0 = publish_check(c, group, glen, size, service, priority);
	if (rc0 != ORDO_OK)
		return rc0;
	if (c->stream.active &&
	    !stream_is(&c->stream, group, (uint8_t)glen, data, size, (uint8_t)service, (uint8_t)priority))
		stream_abandon(c);
	struct att_publish p = {.service = (uint8_t)service, .priority = (uint8_t)priority,
				.msg_size = (uint32_t)size, .pub_seq = c->pub_seq};
	uint32_t head = ATT_ENV_HEAD(glen);
	if ((uint64_t)sizeof(p) + head + size <= c->max_record) {
		int rc = publish_piece(c, &p, group, (uint8_t)glen, data, (uint32_t)size, ATT_F_FIRST | ATT_F_LAST);
		if (rc == ORDO_EAGAIN && socket_dead(c))
			return ORDO_EDETACHED;
		if (rc != ORDO_OK)
			return rc;
		return (int64_t)c->pub_seq++;
	}
	return publish_stream(c, &p, group, (uint8_t)glen, data, size);
}

size_t ordo_max_reserve_size(const struct ordo_client *c)
{
	size_t n = c->max_record - sizeof(struct att_publish) - ATT_ENV_HEAD(ORDO_GROUP_NAME_MAX);
	return n < c->max_message ? n : c->max_message;
}

int ordo_publish_reserve(struct ordo_client *c, const void *group, size_t glen, size_t size,
			 enum ordo_service service, unsigned priority, void **buf)
{
	if (buf == NULL)
		return ORDO_EINVAL;
	*buf = NULL;
	c->resv = NULL; /* a new reservation abandons the last one, even if this one fails */
	int rc = publish_check(c, group, glen, size, service, priority);
	if (rc != ORDO_OK)
		return rc;
	if (size > ordo_max_reserve_size(c))
		return ORDO_E2BIG;
	if (c->stream.active)
		stream_abandon(c);
	struct att_publish p = {.service = (uint8_t)service, .priority = (uint8_t)priority,
				.msg_size = (uint32_t)size, .pub_seq = c->pub_seq};
	uint32_t length;
	uint8_t *w = piece_open(c, &p, group, (uint8_t)glen, (uint32_t)size, ATT_F_FIRST | ATT_F_LAST, &length, &rc);
	if (w == NULL)
		return rc == ORDO_EAGAIN && socket_dead(c) ? ORDO_EDETACHED : rc;
	c->resv = w;
	c->resv_length = length;
	*buf = w;
	return ORDO_OK;
}

int64_t ordo_publish_commit(struct ordo_client *c, void *buf)
{
	if (buf == NULL || buf != c->resv)
		return ORDO_EINVAL; /* nothing reserved, committed already, abandoned, or another pointer */
	c->resv = NULL;
	if (!attached(c))
		return ORDO_EDETACHED;
	piece_close(c, c->resv_length, ATT_F_FIRST | ATT_F_LAST);
	return (int64_t)c->pub_seq++;
}

/* ---- receive ---- */

int ordo_set_receive_mode(struct ordo_client *c, enum ordo_receive_mode mode)
{
	if (mode != ORDO_RECEIVE_WHOLE && mode != ORDO_RECEIVE_PIECES)
		return ORDO_EINVAL;
	c->receive_pieces = mode == ORDO_RECEIVE_PIECES;
	return ORDO_OK;
}

size_t ordo_message_copy(const struct ordo_message *m, size_t offset, void *buf, size_t len)
{
	struct ordo_piece one = {m->data, m->size};
	const struct ordo_piece *p = m->pieces != NULL ? m->pieces : &one;
	uint32_t count = m->pieces != NULL ? m->piece_count : 1u;
	size_t done = 0;
	for (uint32_t i = 0; i < count && done < len; i++) {
		if (offset >= p[i].size) {
			offset -= p[i].size;
			continue;
		}
		size_t n = p[i].size - offset < len - done ? p[i].size - offset : len - done;
		memcpy((uint8_t *)buf + done, (const uint8_t *)p[i].data + offset, n);
		done += n;
		offset = 0;
	}
	return done;
}

/* Marks a message in pieces as holding (or no longer holding) its pieces
 * in the delivery ring: c->held has one bit per (sender node, priority). */
static void rs_hold(struct ordo_client *c, struct ordo_reassembly *rs, int on)
{
	size_t i = (size_t)(rs - &c->rs[0][0]);
	uint64_t bit = 1ull << (i / ORDO_PRIORITIES);
	rs->held = (uint8_t)(on != 0);
	if (on)
		c->held[i % ORDO_PRIORITIES] |= bit;
	else
		c->held[i % ORDO_PRIORITIES] &= ~bit;
}

static void rs_drop(struct ordo_client *c, struct ordo_reassembly *rs)
{
	rs->active = 0;
	rs_hold(c, rs, 0);
}

/* The assembly buffer, room for rs->size bytes (kept between messages). */
static int rs_buffer(struct ordo_reassembly *rs)
{
	if (rs->size <= rs->cap && rs->buf != NULL)
		return 0;
	free(rs->buf);
	rs->cap = rs->size ? rs->size : 1;
	rs->buf = malloc(rs->cap);
	if (rs->buf == NULL) {
		rs->cap = 0;
		return -1;
	}
	return 0;
}

/* A FIRST piece: the message is held in the ring (ORDO_RECEIVE_PIECES) or
 * assembled into the buffer. -1 if it must be dropped (no memory). */
static int rs_start(struct ordo_client *c, struct ordo_reassembly *rs, uint32_t msg_size, uint64_t pos)
{
	rs->active = 1;
	rs->size = msg_size;
	rs->got = 0;
	rs->piece_count = 0;
	rs->hold_pos = pos;
	rs_hold(c, rs, c->receive_pieces);
	if (!rs->held && rs_buffer(rs) != 0) {
		rs_drop(c, rs);
		return -1;
	}
	return 0;
}

/* One more piece: remembered where it lies, or copied. -1 if the message
 * was dropped (no memory). */
static int rs_add(struct ordo_client *c, struct ordo_reassembly *rs, const uint8_t *data, uint32_t len)
{
	if (!rs->held) {
		memcpy(rs->buf + rs->got, data, len);
		rs->got += len;
		return 0;
	}
	if (rs->piece_count == rs->piece_cap) {
		uint32_t cap = rs->piece_cap ? rs->piece_cap * 2u : 16u;
		void *v = realloc(rs->pieces, cap * sizeof(*rs->pieces));
		if (v == NULL) {
			rs_drop(c, rs);
			return -1;
		}
		rs->pieces = v;
		rs->piece_cap = cap;
	}
	rs->pieces[rs->piece_count++] = (struct ordo_piece){data, len};
	rs->got += len;
	return 0;
}

/* The LAST piece arrived: the message goes to the callback, in pieces or
 * assembled, and its pieces may be released. */
static void rs_finish(struct ordo_client *c, struct ordo_reassembly *rs, struct ordo_message *om)
{
	rs->active = 0;
	struct ordo_piece one = {rs->buf, rs->size};
	if (rs->got == rs->size && c->cb.message != NULL) {
		om->data = rs->held ? NULL : rs->buf;
		om->size = rs->size;
		om->pieces = rs->held ? rs->pieces : &one;
		om->piece_count = rs->held ? rs->piece_count : 1u;
		c->cb.message(c->ctx, om);
	}
	rs_hold(c, rs, 0);
}

/* Checks a MESSAGE record's header; its group and data follow. */
static int message_ok(const struct ordo_client *c, const struct shm_ring_rec *r, struct att_message *m)
{
	if (!att_rec_head(r, m, sizeof(*m)))
		return 0;
	uint32_t gpad = att_pad8(m->group_len);
	return m->group_len != 0 && m->group_len <= ORDO_GROUP_NAME_MAX && r->length >= sizeof(*m) + gpad &&
	       m->sender_node != 0 && m->sender_node <= 64 && m->priority < ORDO_PRIORITIES &&
	       att_size_ok(m->msg_size, c->max_message); /* the node never delivers more than it accepts */
}

static void on_message(struct ordo_client *c, const struct shm_ring_rec *r)
{
	struct att_message m;
	if (!message_ok(c, r, &m)) {
		c->garbage++;
		return;
	}
	const uint8_t *group = r->data + sizeof(m);
	const uint8_t *data = group + att_pad8(m.group_len);
	uint32_t len = r->length - (uint32_t)(data - r->data);
	struct ordo_piece one = {data, len};
	struct ordo_message om = {.group = group, .group_len = m.group_len, .data = data, .size = len,
				  .sender = {.node = m.sender_node, .client = m.sender_client},
				  .service = (enum ordo_service)m.service, .priority = m.priority,
				  .position = {.ring = {.seq = m.ring_seq, .rep = m.ring_rep}, .seq = m.seq,
					       .index = m.index},
				  .pieces = &one, .piece_count = 1};
	if ((r->flags & (ATT_F_FIRST | ATT_F_LAST)) == (ATT_F_FIRST | ATT_F_LAST)) {
		if (len != m.msg_size)
			c->garbage++;
		else if (c->cb.message != NULL)
			c->cb.message(c->ctx, &om);
		return;
	}
	struct ordo_reassembly *rs = &c->rs[m.sender_node - 1u][m.priority];
	if ((r->flags & ATT_F_FIRST) && rs_start(c, rs, m.msg_size, r->pos) != 0)
		return;
	if (!rs->active || m.offset != rs->got || m.msg_size != rs->size || len > rs->size - rs->got) {
		rs_drop(c, rs);
		return;
	}
	if (rs_add(c, rs, data, len) == 0 && (r->flags & ATT_F_LAST))
		rs_finish(c, rs, &om);
}

/* Messages that hold more than half of the delivery ring are assembled
 * instead (their pieces copied into their buffers), so that the node can
 * always write the pieces that complete them. */
static void rs_spill(struct ordo_client *c)
{
	for (uint32_t p = 0; p < ORDO_PRIORITIES; p++)
		for (uint64_t bits = c->held[p]; bits != 0; bits &= bits - 1u) {
			struct ordo_reassembly *rs = &c->rs[__builtin_ctzll(bits)][p];
			if (rs_buffer(rs) != 0) {
				rs_drop(c, rs);
				continue;
			}
			uint32_t off = 0;
			for (uint32_t i = 0; i < rs->piece_count; i++) {
				memcpy(rs->buf + off, rs->pieces[i].data, rs->pieces[i].size);
				off += (uint32_t)rs->pieces[i].size;
			}
			rs_hold(c, rs, 0);
		}
}

/* After a record: the producer gets back every byte no message in pieces
 * still holds (all that was read, unless ORDO_RECEIVE_PIECES holds some). */
static void release_done(struct ordo_client *c)
{
	if ((c->held[0] | c->held[1] | c->held[2]) == 0) {
		shm_ring_release_read(&c->deliver);
		return;
	}
	if (c->deliver.read - c->deliver.released > (c->deliver.mask + 1u) / 2u) {
		rs_spill(c);
		shm_ring_release_read(&c->deliver);
		return;
	}
	uint64_t upto = c->deliver.read;
	for (uint32_t p = 0; p < ORDO_PRIORITIES; p++)
		for (uint64_t bits = c->held[p]; bits != 0; bits &= bits - 1u) {
			uint64_t pos = c->rs[__builtin_ctzll(bits)][p].hold_pos;
			upto = pos < upto ? pos : upto;
		}
	shm_ring_release(&c->deliver, upto);
}

static void on_view(struct ordo_client *c, const struct shm_ring_rec *r)
{
	struct att_view v;
	if (!att_rec_head(r, &v, sizeof(v)))
		goto garbage;
	uint64_t n = (uint64_t)v.member_count + v.joined_count + v.left_count;
	uint32_t gpad = att_pad8(v.group_len);
	if (v.group_len == 0 || v.group_len > ORDO_GROUP_NAME_MAX ||
	    r->length != sizeof(v) + gpad + n * sizeof(struct att_member))
		goto garbage;
	const uint8_t *list = r->data + sizeof(v) + gpad;
	struct ordo_member *members = malloc((v.member_count ? v.member_count : 1) * sizeof(*members));
	struct ordo_view_change *changes = malloc((n - v.member_count ? n - v.member_count : 1) * sizeof(*changes));
	if (members == NULL || changes == NULL) {
		free(members);
		free(changes);
		return;
	}
	for (uint64_t i = 0; i < n; i++) {
		struct att_member am;
		memcpy(&am, list + i * sizeof(am), sizeof(am));
		if (i < v.member_count)
			members[i] = (struct ordo_member){.node = am.node, .client = am.client};
		else
			changes[i - v.member_count] = (struct ordo_view_change){
				.member = {.node = am.node, .client = am.client}, .reason = (enum ordo_reason)am.reason};
	}
	struct ordo_view ov = {.group = r->data + sizeof(v), .group_len = v.group_len,
			       .ring = {.seq = v.ring_seq, .rep = v.ring_rep}, .transitional = v.transitional,
			       .members = members, .member_count = v.member_count, .joined = changes,
			       .joined_count = v.joined_count, .left = changes + v.joined_count,
			       .left_count = v.left_count};
	if (c->cb.view != NULL)
		c->cb.view(c->ctx, &ov);
	free(members);
	free(changes);
	return;
garbage:
	c->garbage++;
}

static void on_config(struct ordo_client *c, const struct shm_ring_rec *r)
{
	struct att_config ac;
	if (!att_rec_head(r, &ac, sizeof(ac)))
		goto garbage;
	if (r->length != sizeof(ac) + (uint64_t)ac.node_count * 2u || ac.node_count > 64)
		goto garbage;
	uint16_t nodes[64];
	memcpy(nodes, r->data + sizeof(ac), ac.node_count * 2u);
	if (!ac.transitional) {
		/* a message in pieces not complete by now is dropped at every node */
		for (uint32_t n = 0; n < 64; n++)
			for (uint32_t p = 0; p < ORDO_PRIORITIES; p++) {
				struct ordo_reassembly *rs = &c->rs[n][p];
				rs_drop(c, rs);
				free(rs->buf);
				free(rs->pieces);
				*rs = (struct ordo_reassembly){0};
			}
	}
	struct ordo_configuration oc = {.transitional = ac.transitional,
					.ring = {.seq = ac.ring_seq, .rep = ac.ring_rep},
					.old_ring = {.seq = ac.old_seq, .rep = ac.old_rep}, .nodes = nodes,
					.node_count = ac.node_count, .primary = ac.primary};
	if (c->cb.configuration != NULL)
		c->cb.configuration(c->ctx, &oc);
	return;
garbage:
	c->garbage++;
}

static int check_detached(struct ordo_client *c)
{
	if (c->detached)
		return ORDO_EDETACHED;
	uint32_t st = atomic_load_explicit(&c->hdr->state, memory_order_acquire);
	if (st == ATT_STATE_ATTACHED && !socket_dead(c))
		return 0;
	c->detached = 1;
	if (c->cb.detached != NULL)
		c->cb.detached(c->ctx, ORDO_EDETACHED);
	return ORDO_EDETACHED;
}

int ordo_poll(struct ordo_client *c, unsigned max)
{
	if (c->detached)
		return ORDO_EDETACHED;
	unsigned n = 0;
	while (n < max) {
		struct shm_ring_rec r;
		enum shm_ring_status st = shm_ring_peek(&c->deliver, &r);
		if (st == SHM_RING_EMPTY)
			break;
		if (st != SHM_RING_OK) {
			c->detached = 1;
			if (c->cb.detached != NULL)
				c->cb.detached(c->ctx, ORDO_EPROTO);
			return ORDO_EDETACHED;
		}
		switch (r.type) {
		case ATT_REC_MESSAGE:
			on_message(c, &r);
			break;
		case ATT_REC_VIEW:
			on_view(c, &r);
			break;
		case ATT_REC_CONFIG:
			on_config(c, &r);
			break;
		case ATT_REC_PUB_FAILED: {
			struct att_pub_failed f;
			if (r.length == sizeof(f) && c->cb.publish_failed != NULL) {
				memcpy(&f, r.data, sizeof(f));
				c->cb.publish_failed(c->ctx, f.pub_seq, f.err);
			}
			break;
		}
		case ATT_REC_JOIN_REFUSED: {
			struct att_join_refused j;
			if (r.length != sizeof(j)) {
				c->garbage++;
				break;
			}
			memcpy(&j, r.data, sizeof(j));
			if (j.group_len == 0 || j.group_len > ORDO_GROUP_NAME_MAX) {
				c->garbage++;
				break;
			}
			/* (its name stays in the list ordo_detach leaves: that list
			 * is the submit side's, and a leave of a non-member is
			 * nothing) */
			if (c->cb.join_refused != NULL)
				c->cb.join_refused(c->ctx, j.group, j.group_len, j.err);
			break;
		}
		default:
			c->garbage++;
			break;
		}
		shm_ring_next(&c->deliver, &r);
		release_done(c); /* after the callback: zero copy */
		n++;
	}
	if (n == 0)
		return check_detached(c);
	return (int)n;
}

/* Reads the eventfd (non-blocking): the engine's writes since the last
 * read. With ATT_ENGINE_TAKES only when a write is known to come: a read
 * that finds nothing (the engine took `sleeping` and has not written
 * yet) leaves the count, and the next sleep's preparation reads again. */
static void read_wakes(struct ordo_client *c)
{
	uint64_t v;
	if (read(c->event_fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
		c->wakes_unread = v < c->wakes_unread ? c->wakes_unread - (uint32_t)v : 0;
}

/* Takes back our `sleeping` = 1, unless the engine took it first: then it
 * writes the eventfd, which the next ordo_prepare_sleep reads. */
static void unsleep(struct ordo_client *c)
{
	if (atomic_exchange_explicit(&c->hdr->sleeping, 0, memory_order_relaxed) != 1)
		c->wakes_unread++;
	c->sleep_armed = 0;
}

int ordo_prepare_sleep(struct ordo_client *c)
{
	/* The socket is looked at as often as by a poll, not forced: a node
	 * that goes away makes ordo_fd readable (the socket's hang-up is in
	 * its epoll set), so a sleep ends at once and the loop finds it. */
	if (!attached(c) || socket_dead(c))
		return 1;
	/* consume the last wake-up, so the descriptor is readable only for
	 * the next one (the eventfd is non-blocking). The engine takes
	 * `sleeping` (1 -> 0) before it writes, so while our last store of 1
	 * stands nothing was written, and where we took it back ourselves
	 * (unsleep) nothing will be: the read (a system call) is made only
	 * for a write that was made or comes. An older engine (no
	 * ATT_ENGINE_TAKES) stores instead of exchanging, so after a sleep
	 * we did not arm a write may come unseen: read then, as before. */
	int was_armed = c->sleep_armed;
	if (was_armed) /* an exchange: a load then a store would miss a take between them */
		unsleep(c); /* counts a take while we slept */
	if (c->wakes_unread != 0 || (!c->engine_takes && !was_armed))
		read_wakes(c);
	atomic_store_explicit(&c->hdr->sleeping, 1, memory_order_relaxed);
	int room = c->room_wanted && c->room_wake;
	if (room) /* after `sleeping`: a node that sees this sees that */
		atomic_store_explicit(&c->hdr->wants_room, 1, memory_order_release);
	/* Dekker with the engine (docs/attach.md §6) */
	atomic_thread_fence(memory_order_seq_cst);
	struct shm_ring_rec r;
	c->sleep_armed = shm_ring_peek(&c->deliver, &r) == SHM_RING_EMPTY && attached(c) &&
			 !(room && atomic_load_explicit(&c->submit.ctl->tail, memory_order_acquire) != c->room_tail);
	if (!c->sleep_armed) {
		unsleep(c);
		return 1;
	}
	return 0;
}

int ordo_wait(struct ordo_client *c, unsigned max, int timeout_ms)
{
	int n = ordo_poll(c, max);
	if (n != 0)
		return n;
	if (ordo_prepare_sleep(c) == 0) {
		struct pollfd pfd = {.fd = c->poll_fd, .events = POLLIN};
		(void)poll(&pfd, 1, timeout_ms);
		unsleep(c);
	}
	return ordo_poll(c, max);
}

void ordo_detach(struct ordo_client *c)
{
	if (c == NULL)
		return;
	/* explicit leaves first, so views say LEAVE rather than DISCONNECT */
	for (uint32_t i = 0; i < c->group_count && attached(c); i++) {
		enum shm_ring_status st;
		uint8_t *p = shm_ring_reserve(&c->submit, c->groups[i].len, &st);
		if (p == NULL)
			break;
		memcpy(p, c->groups[i].name, c->groups[i].len);
		shm_ring_commit(&c->submit, c->groups[i].len, ATT_REC_LEAVE, 0);
		ring_engine(c);
	}
	if (c->detach_hook != NULL)
		c->detach_hook(c);
	ordo_client_free(c);
}
