/* ordo.h — the ordo client API (libordo: pkg-config ordo).
 *
 * An application attaches to its local ordo node — a daemon (ordod)
 * reached through its control socket, or an engine started inside the
 * application's own process (ordo_inproc.h, libordo-inproc) — joins groups, publishes messages that every
 * member of the group receives in one total order (the same at every node),
 * and receives messages, group views and ring configurations through
 * callbacks. Semantics: docs/design.md §2–3; mechanism:
 * docs/attach.md.
 *
 * Thread safety, per function, is stated with each declaration:
 *   "any thread"      may be called concurrently from several threads;
 *   "one thread"      calls on one client must not overlap (different
 *                     clients are independent): the same rule as for a
 *                     socket. Publishing from one thread while another polls
 *                     the same client is allowed (the submit and delivery
 *                     rings are separate): ordo_publish, ordo_join and
 *                     ordo_leave share the "submit side", ordo_poll and
 *                     ordo_prepare_sleep the "receive side".
 * No function blocks except ordo_attach (connecting) and ordo_wait: a full
 * ring is ORDO_EAGAIN, never a wait.
 */
#ifndef ORDO_H
#define ORDO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ORDO_GROUP_NAME_MAX 32u

/* Error codes: every function returns 0 (or a count) on success and one
 * of these (negative) on failure. */
enum {
	ORDO_OK = 0,
	ORDO_EAGAIN = -11,        /* the submit ring is full: retry (after ordo_poll or ordo_wait) */
	ORDO_EINVAL = -22,        /* a bad argument (group name length, service, priority) */
	ORDO_E2BIG = -7,          /* larger than the node's max_message_size */
	ORDO_ENOMEM = -12,
	ORDO_ENOQUORUM = -1001,   /* the node's policy refuses publishing outside a primary configuration */
	ORDO_EDETACHED = -1002,   /* the client was detached: evicted, the node stopped, or ordo_detach */
	ORDO_ECONNECT = -1003,    /* no node at that socket, or no answer: errno says why (ordo_attach) */
	ORDO_EPROTO = -1004,      /* the node speaks another attach protocol version */
	ORDO_EACCES = -1005,      /* the node does not let this process attach: its user and groups
				   * are not in the node's [node] allow_users / allow_groups */
	ORDO_ECLIENTS = -1006,    /* the node has its maximum number of clients attached ([node] max_clients) */
	ORDO_EGROUPS = -1007,     /* a join refused: the group table is full ([node] max_groups) */
	ORDO_EMEMBERS = -1008,    /* a join refused: the group is full ([node] max_group_members) */
};

/* A short English description of an error code. Any thread. */
const char *ordo_strerror(int err);

enum ordo_service { ORDO_AGREED = 1, ORDO_SAFE = 2 };

/* Priorities: 0 is the highest; a higher priority may overtake a lower one
 * not yet sequenced, never one already ordered. */
#define ORDO_PRIORITIES 3u

struct ordo_ring_id {
	uint64_t seq;
	uint16_t rep;
};

/* A message's place in the total order: the same at every node. */
struct ordo_position {
	struct ordo_ring_id ring; /* the configuration it was delivered in */
	uint64_t seq;             /* the frame that ordered it */
	uint16_t index;           /* its entry in that frame */
};

struct ordo_member {
	uint16_t node;
	uint32_t client;
};

/* A run of a message's bytes where they lie (docs/attach.md §9). */
struct ordo_piece {
	const void *data;
	size_t size;
};

struct ordo_message {
	const uint8_t *group;
	uint8_t group_len;
	const void *data;         /* valid until the callback returns (zero copy); NULL for a
				   * message given in pieces (ORDO_RECEIVE_PIECES) */
	size_t size;
	struct ordo_member sender;
	enum ordo_service service;
	uint8_t priority;
	struct ordo_position position;
	/* The same bytes as pieces, in order, their sizes adding up to size:
	 * one piece (data, size) unless the client chose ORDO_RECEIVE_PIECES
	 * and the message came in several; valid until the callback returns. */
	const struct ordo_piece *pieces;
	uint32_t piece_count;     /* >= 1 */
};

/* Why a member joined or left a group's view. */
enum ordo_reason {
	ORDO_REASON_JOIN = 1,      /* ordo_join */
	ORDO_REASON_LEAVE,         /* ordo_leave or ordo_detach */
	ORDO_REASON_DISCONNECT,    /* its process died or closed its connection */
	ORDO_REASON_EVICTED,       /* it stopped draining its delivery ring */
	ORDO_REASON_NODE_LEFT,     /* its node left the configuration */
	ORDO_REASON_NODE_JOINED,   /* its node joined the configuration (merge) */
};

struct ordo_view_change {
	struct ordo_member member;
	enum ordo_reason reason;
};

/* A group's view: delivered to its local members at the same point of the
 * total order at every node. */
struct ordo_view {
	const uint8_t *group;
	uint8_t group_len;
	struct ordo_ring_id ring;
	int transitional;                 /* 1: part of a transitional configuration */
	const struct ordo_member *members; /* sorted by (node, client) */
	uint32_t member_count;
	const struct ordo_view_change *joined;
	uint32_t joined_count;
	const struct ordo_view_change *left;
	uint32_t left_count;
};

/* A ring configuration (EVS): a transitional one precedes every regular one
 * after a change. */
struct ordo_configuration {
	int transitional;
	struct ordo_ring_id ring;
	struct ordo_ring_id old_ring;     /* transitional: the ring left */
	const uint16_t *nodes;
	uint32_t node_count;
	int primary;                      /* regular: the quorum policy holds */
};

/* Callbacks, called from ordo_poll on the polling thread. Any may be NULL.
 * They must not call ordo_poll or ordo_detach on their own client. */
struct ordo_callbacks {
	void (*message)(void *ctx, const struct ordo_message *m);
	void (*view)(void *ctx, const struct ordo_view *v);
	void (*configuration)(void *ctx, const struct ordo_configuration *c);
	/* a publish the node accepted but could not order: no quorum once it
	 * was its turn (ORDO_ENOQUORUM), or a message in pieces whose pieces
	 * stopped coming for the node's assembly_timeout_ms (ORDO_EAGAIN); seq is
	 * the value ordo_publish returned for it */
	void (*publish_failed)(void *ctx, uint64_t seq, int err);
	/* the client was detached (evicted, or the node stopped) */
	void (*detached)(void *ctx, int why);
	/* an ordo_join the group table refused at its place in the total
	 * order, at every node alike: ORDO_EGROUPS (max_groups groups exist)
	 * or ORDO_EMEMBERS (the group has max_group_members members). The
	 * client is not a member; no view follows. */
	void (*join_refused)(void *ctx, const uint8_t *group, uint8_t group_len, int err);
};

struct ordo_client_opts {
	const struct ordo_callbacks *callbacks;
	void *ctx;
	const char *name;                 /* for the node's logs and telemetry; may be NULL */
	uint32_t submit_ring_size;        /* bytes, power of two; 0: the node's default (4 MiB) */
	uint32_t delivery_ring_size;      /* bytes, power of two; 0: the node's default (4 MiB) */
};

struct ordo_client;

/* ---- attach and detach ---- */

/* Attaches to the daemon listening on socket_path (ordod's [node] socket).
 * Blocks for the handshake only. Any thread. On ORDO_ECONNECT errno says
 * why: ENOENT (no socket at that path), ECONNREFUSED (nobody listening, or
 * not a socket), EACCES (the socket file's permissions), ETIMEDOUT (no
 * answer within 5 s), ECONNRESET (the node closed the connection), EPROTO
 * (an answer that is not one). A node's refusal has its own code
 * (ORDO_EACCES, ORDO_ECLIENTS, ORDO_EPROTO). */
int ordo_attach(const char *socket_path, const struct ordo_client_opts *opts, struct ordo_client **out);

/* Leaves every group (views show reason LEAVE), and frees the client.
 * One thread (no other call on this client may be running or follow). */
void ordo_detach(struct ordo_client *c);

/* This client's identity: its node and its client id on that node. Any thread. */
struct ordo_member ordo_self(const struct ordo_client *c);
/* The largest message the node accepts. Any thread. */
size_t ordo_max_message_size(const struct ordo_client *c);

/* ---- groups ---- */

/* Joins or leaves a group (1..32 bytes of name). The change takes effect
 * at its place in the total order: this client's view callback reports
 * it, or (a JOIN past the node's max_groups or max_group_members) the
 * join_refused callback. That place is after every message this client
 * published before the call and before every message it publishes after
 * it, at any priority (docs/attach.md §5). Submit side. */
int ordo_join(struct ordo_client *c, const void *group, size_t group_len);
int ordo_leave(struct ordo_client *c, const void *group, size_t group_len);

/* ---- publish ---- */

/* Publishes size bytes (0..max message size) to a group (open groups: the
 * publisher need not be a member). Returns a non-negative publish sequence
 * number (per client, from 0), or ORDO_EAGAIN, ORDO_E2BIG, ORDO_EINVAL,
 * ORDO_ENOQUORUM, ORDO_EDETACHED. Never blocks: the bytes are copied into
 * the submit ring as far as it has room. A message larger than one submit
 * record goes in pieces; if the ring fills after some of them,
 * ORDO_EAGAIN: call ordo_publish again with the same arguments (the same
 * data pointer, unchanged bytes) and it goes on where it stopped, until it
 * returns the message's sequence number. A call with other arguments
 * abandons the partly written message: it is never delivered, and its
 * sequence number is spent (the next message gets the one after it).
 * Submit side. */
int64_t ordo_publish(struct ordo_client *c, const void *group, size_t group_len, const void *data,
		     size_t size, enum ordo_service service, unsigned priority);

/* Publishing without a copy: the application writes the message where
 * it goes, in the submit ring.
 *
 * ordo_publish_reserve reserves room for a message of size bytes (at most
 * ordo_max_reserve_size: one submit record; a larger one needs
 * ordo_publish) to group, with service and priority, and sets *buf to
 * where its bytes go; nothing is visible to the node until
 * ordo_publish_commit(c, buf) publishes it and returns its publish
 * sequence number (as ordo_publish would). Reserve returns ORDO_OK,
 * ORDO_EAGAIN (no room now: retry), ORDO_E2BIG, ORDO_EINVAL,
 * ORDO_ENOQUORUM or ORDO_EDETACHED, and never blocks. The reservation is
 * abandoned (never delivered, no sequence number spent) by another
 * reserve, an ordo_publish, ordo_join or ordo_leave before the commit;
 * commit returns ORDO_EINVAL, publishing nothing, for a pointer that is
 * not the current reservation's (none, committed already, abandoned, or
 * another), and ORDO_EDETACHED once the client was detached. Like
 * ordo_publish, a reserve abandons a partly written large message. Submit
 * side; *buf is writable until the commit or the abandonment. */
int ordo_publish_reserve(struct ordo_client *c, const void *group, size_t group_len, size_t size,
			 enum ordo_service service, unsigned priority, void **buf);
int64_t ordo_publish_commit(struct ordo_client *c, void *buf);
/* The largest message ordo_publish_reserve takes (for any group name):
 * one submit record's worth, at most the node's maximum. Any thread. */
size_t ordo_max_reserve_size(const struct ordo_client *c);

/* ---- receive ---- */

/* Delivers up to max records (messages, views, configurations) through the
 * callbacks; returns how many, 0 if none was waiting, or ORDO_EDETACHED.
 * Receive side. */
int ordo_poll(struct ordo_client *c, unsigned max);

/* How a message larger than one of the node's frames reaches the message
 * callback (a smaller one is always given in place: data points into the
 * delivery ring, no copy):
 *   ORDO_RECEIVE_WHOLE  (the default) data points at a contiguous copy that
 *                       libordo assembled from the pieces (one copy);
 *   ORDO_RECEIVE_PIECES data is NULL and pieces lists the message's pieces
 *                       where they lie in the delivery ring (no copy). A
 *                       client whose unfinished messages would hold more
 *                       than half of its delivery ring gets those whole
 *                       instead (assembled, data set), so that the node can
 *                       go on writing. Read a message in either form with
 *                       pieces, or ordo_message_copy.
 * Applies to messages whose first piece arrives after the call. Returns
 * ORDO_OK, or ORDO_EINVAL for another mode. Receive side. */
enum ordo_receive_mode { ORDO_RECEIVE_WHOLE = 0, ORDO_RECEIVE_PIECES = 1 };
int ordo_set_receive_mode(struct ordo_client *c, enum ordo_receive_mode mode);

/* Copies up to len bytes of m, from offset on, into buf, whatever form m
 * has (whole or pieces); returns how many (0 past the end). Any thread,
 * inside the message callback (m is valid only there). */
size_t ordo_message_copy(const struct ordo_message *m, size_t offset, void *buf, size_t len);

/* A file descriptor (an epoll instance) that becomes readable when this
 * client has something to poll or its node went away, usable with
 * poll/epoll; valid until ordo_detach. Any thread. */
int ordo_fd(const struct ordo_client *c);

/* Tells the node this client is about to sleep on ordo_fd. Returns 0 if
 * it may sleep, 1 if records arrived meanwhile (poll first) or, when the
 * last publish or join said ORDO_EAGAIN, the node has freed room since
 * (publish again). The node writes the descriptor only after this, never
 * once per message: when it delivers, and (after ORDO_EAGAIN) when it
 * frees submit room, so a publisher that found the ring full can sleep
 * until it may publish again instead of spinning. A message larger than
 * a frame wakes the client when its last piece arrives, not for each
 * piece before it, unless the pieces fill half of the delivery ring
 * (docs/attach.md §6). Receive side. */
int ordo_prepare_sleep(struct ordo_client *c);

/* Polls, sleeping on ordo_fd for up to timeout_ms (-1: no limit) when
 * nothing is waiting: until a delivery, or (after ORDO_EAGAIN) until the
 * node frees submit room. Returns what ordo_poll returned. Receive side. */
int ordo_wait(struct ordo_client *c, unsigned max, int timeout_ms);

#ifdef __cplusplus
}
#endif

#endif
