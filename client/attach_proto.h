/* attach_proto.h — what libordo and the engine agree on (docs/attach.md
 * §3–5): the control-socket messages, the shared region's header, the
 * record types of the submit and delivery rings, and the envelope that goes
 * into the total order. Plain C, no DPDK: libordo includes it.
 *
 * The control messages, the region header and the ring records stay on one
 * host: their multi-byte fields are in host order, read with memcpy, never
 * through a packed cast. The envelopes cross the network inside ring-proto
 * messages: their fields have a byte order of their own (GROUP_OP: network
 * byte order, through att_put_be* / att_get_be*; KEY: little-endian).
 */
#ifndef ATTACH_PROTO_H
#define ATTACH_PROTO_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "shm_ring.h"

#define ATT_VERSION 2u
#define ATT_MAGIC 0x4344524Fu /* "ORDC" */

/* ---- control socket (SOCK_SEQPACKET) ---- */

enum att_msg_type { ATT_HELLO = 1, ATT_WELCOME = 2, ATT_REFUSE = 3, ATT_KEY_RELOAD = 4, ATT_ADMIN = 5 };

/* ATT_ADMIN (ordoctl, docs/ordoctl.md): an operator's request as text
 * ("status", "reinstate 1", ...; NUL-terminated); the engine answers with
 * one message of JSON text (an object; {"error": ...} for a refusal), at
 * most ATT_ADMIN_REPLY_MAX bytes, and closes the connection. Requests that
 * change the node are for root and the daemon's user only. */
#define ATT_ADMIN_VERSION 1u
#define ATT_ADMIN_REQUEST_MAX 248u
#define ATT_ADMIN_REPLY_MAX (128u << 10)
struct att_admin {
	uint32_t type;            /* ATT_ADMIN */
	uint32_t version;         /* ATT_ADMIN_VERSION */
	char request[ATT_ADMIN_REQUEST_MAX];
};

/* ATT_KEY_RELOAD: a struct att_hello with this type (the rest zero) asks the
 * node to re-read its key file (docs/security.md §6), as SIGHUP does. Only
 * root and the daemon's own user may; the reply is a struct att_welcome
 * with type ATT_WELCOME (err 0) or ATT_REFUSE (err ORDO_EACCES). */

struct att_hello {
	uint32_t type;            /* ATT_HELLO */
	uint32_t version;
	uint32_t submit_size;     /* requested; 0: default */
	uint32_t delivery_size;
	char name[32];
};

/* Sent with three descriptors (SCM_RIGHTS): the region's memfd, the
 * client's eventfd (the engine wakes the client), the engine's doorbell (an
 * eventfd the client writes to wake an engine that blocks when idle). */
struct att_welcome {
	uint32_t type;            /* ATT_WELCOME, or ATT_REFUSE with err set */
	int32_t err;              /* ORDO_E* for a refusal */
	uint64_t region_size;
};

/* ---- the region ---- */

enum att_state {
	ATT_STATE_ATTACHED = 1,
	ATT_STATE_EVICTED,        /* the client stopped draining, or wrote garbage */
	ATT_STATE_DETACHED,       /* the client detached, or the engine dropped it */
	ATT_STATE_ENGINE_STOPPED,
};

struct att_region_hdr {
	uint32_t magic, version;
	uint32_t client_id;
	uint16_t node_id, reserved0;
	uint64_t submit_off, submit_size;
	uint64_t delivery_off, delivery_size;
	uint32_t max_message_size;
	uint32_t engine_flags;                 /* ATT_ENGINE_*, fixed at attach */
	uint32_t submit_budget;                /* bytes of the submit ring a client fills at most
						* before publish says ORDO_EAGAIN (0: all of it) */
	/* engine line */
	_Alignas(64) _Atomic uint32_t state;  /* enum att_state */
	_Atomic uint32_t evict_reason;         /* enum ordo_reason when evicted */
	_Atomic uint32_t no_quorum;            /* 1: publishing would be refused now */
	_Atomic uint32_t engine_sleeping;      /* the engine is about to block: ring its doorbell */
	/* client line */
	_Alignas(64) _Atomic uint32_t sleeping; /* the client is about to block on the eventfd */
	_Atomic uint32_t wants_room;            /* its last publish found no room: wake it when the
						 * node releases submit bytes (ATT_ENGINE_ROOM) */
};

/* The engine blocks when idle (`idle = block`): after committing a record
 * the client fences, and rings the doorbell if engine_sleeping is set (the
 * mirror image of the client's own sleep handshake, docs/attach.md §4). */
#define ATT_ENGINE_BLOCKS 0x1u
/* The engine wakes a client that sleeps after ORDO_EAGAIN once it releases
 * submit bytes (`wants_room`, docs/attach.md §6); without it (an older
 * node) such a client wakes only on a delivery or its own timeout. */
#define ATT_ENGINE_ROOM 0x2u
/* The engine takes a sleeping client's `sleeping` with an atomic exchange
 * (1 -> 0) before it writes the eventfd, so that a client that exchanges
 * it back itself knows whether a write comes: it reads the eventfd only
 * then (docs/attach.md §6). Without it (an older node, which loads and
 * then stores) the client reads whenever it cannot rule a write out. */
#define ATT_ENGINE_TAKES 0x4u

#define ATT_REGION_HDR_SIZE 4096u
#define ATT_RING_DEFAULT (4u << 20)
#define ATT_RING_MAX (64u << 20)

/* ---- records ---- */

enum att_rec_type {
	/* client -> engine */
	ATT_REC_PUBLISH = 1,
	ATT_REC_JOIN = 2,
	ATT_REC_LEAVE = 3,
	/* engine -> client */
	ATT_REC_MESSAGE = 16,
	ATT_REC_VIEW = 17,
	ATT_REC_CONFIG = 18,
	ATT_REC_PUB_FAILED = 19,
	ATT_REC_JOIN_REFUSED = 20,
};

/* Record flags (MESSAGE, PUBLISH pieces). */
#define ATT_F_FIRST 0x1u
#define ATT_F_LAST 0x2u

/* PUBLISH: this header, then (FIRST piece only) the envelope's head
 * (kind, group_len, group), then data bytes. offset counts data bytes. */
struct att_publish {
	uint8_t service, priority, reserved[2];
	uint32_t msg_size;        /* data bytes of the whole message */
	uint32_t offset;          /* data bytes before this piece */
	uint32_t reserved2;
	uint64_t pub_seq;         /* the client's publish sequence number */
};

/* MESSAGE: this header, then group_len bytes of group, padded to 8, then
 * the piece's data. */
struct att_message {
	uint16_t sender_node, reserved0;
	uint32_t sender_client;
	uint8_t service, priority, group_len, reserved1;
	uint32_t msg_size;
	uint32_t offset;
	uint16_t ring_rep, index;
	uint64_t ring_seq;
	uint64_t seq;
};

/* VIEW: this header, then group (padded to 8), then member_count members,
 * joined_count and left_count changes, each as struct att_member. */
struct att_view {
	uint8_t group_len, transitional, reserved[2];
	uint32_t member_count, joined_count, left_count;
	uint16_t ring_rep, reserved1[3];
	uint64_t ring_seq;
};

struct att_member {
	uint16_t node;
	uint16_t reason;          /* enum ordo_reason (joined/left lists) */
	uint32_t client;
};

/* CONFIG: this header, then node_count u16 node ids. */
struct att_config {
	uint8_t transitional, primary, reserved[2];
	uint32_t node_count;
	uint16_t ring_rep, old_rep, reserved1[2];
	uint64_t ring_seq, old_seq;
};

struct att_pub_failed {
	uint64_t pub_seq;
	int32_t err;
	uint32_t reserved;
};

/* JOIN_REFUSED: the group table refused a JOIN of this client, at every
 * node alike (docs/attach.md §5): ORDO_EGROUPS or ORDO_EMEMBERS. */
struct att_join_refused {
	int32_t err;
	uint8_t group_len, reserved[3];
	uint8_t group[32];
};

/* ---- the envelope: one ring-proto message ---- */

enum att_env_kind { ATT_ENV_USER = 1, ATT_ENV_GROUP_OP = 2, ATT_ENV_KEY = 3 };

/* KEY (docs/protocol.md §15.2), from the engine only (client id 0): u8
 * kind, u8 op (ATT_KEY_STATE), u16 node, u32 0, u64 current key's
 * fingerprint, u64 next key's (0: none). */
#define ATT_KEY_STATE 1u
#define ATT_KEY_SIZE 24u

/* USER: u8 kind, u8 group_len, group bytes, data.
 * GROUP_OP (multi-byte fields in network byte order): u8 kind, u8 op, u16
 * node, u32 count, then count entries of u8 group_len, u8 reason, u16 0,
 * u32 client, group bytes padded to 8.
 * JOIN and LEAVE carry one entry; SYNC lists every (group, client) of its
 * node after a configuration brought new nodes (docs/attach.md §5), in
 * pieces of at most max_message_size: SYNC_MORE, ..., then the last as
 * SYNC. */
#define ATT_ENV_HEAD(group_len) (2u + (uint32_t)(group_len))

/* The size limit, one definition for every side that checks it: the node
 * when it takes a PUBLISH from a client's ring and when it delivers a
 * message from the ring, libordo when it publishes and when it receives.
 * size counts data bytes (not the envelope); max is the node's [ring]
 * max_message_size, the region header's max_message_size. The envelope's
 * room (ENG_ENVELOPE_MAX) is the transport's, never a client's. */
static inline int att_size_ok(uint64_t size, uint32_t max) { return size <= max; }

/* Copies a record's fixed head (size bytes: struct att_publish,
 * att_message, ...) into head: 1, or 0 if the record is shorter, which only
 * a broken or hostile peer writes (garbage, never a crash). Every side reads
 * a record's head this way; the bytes after it stay at r->data + size. */
static inline int att_rec_head(const struct shm_ring_rec *r, void *head, size_t size)
{
	if (r->length < size)
		return 0;
	memcpy(head, r->data, size);
	return 1;
}

enum att_op { ATT_OP_JOIN = 1, ATT_OP_LEAVE = 2, ATT_OP_SYNC = 3, ATT_OP_SYNC_MORE = 4 };

static inline uint32_t att_pad8(uint32_t n) { return (n + 7u) & ~7u; }

#define ATT_OP_HDR 8u
#define ATT_OP_ENTRY_HDR 8u

static inline uint32_t att_op_entry_size(uint8_t group_len)
{
	return ATT_OP_ENTRY_HDR + att_pad8(group_len);
}

/* Network byte order for the envelopes' fields. */
static inline void att_put_be16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}
static inline void att_put_be32(uint8_t *b, uint32_t v)
{
	att_put_be16(b, (uint16_t)(v >> 16));
	att_put_be16(b + 2, (uint16_t)v);
}
static inline uint16_t att_get_be16(const uint8_t *b) { return (uint16_t)((b[0] << 8) | b[1]); }
static inline uint32_t att_get_be32(const uint8_t *b)
{
	return ((uint32_t)att_get_be16(b) << 16) | att_get_be16(b + 2);
}

/* Writes a GROUP_OP's header into b (zeroed by the caller). */
static inline void att_op_put_hdr(uint8_t *b, uint8_t op, uint16_t node, uint32_t count)
{
	b[0] = ATT_ENV_GROUP_OP;
	b[1] = op;
	att_put_be16(b + 2, node);
	att_put_be32(b + 4, count);
}

/* Reads a GROUP_OP's header (at least ATT_OP_HDR bytes). */
static inline void att_op_get_hdr(const uint8_t *b, uint8_t *op, uint16_t *node, uint32_t *count)
{
	*op = b[1];
	*node = att_get_be16(b + 2);
	*count = att_get_be32(b + 4);
}

/* Writes one GROUP_OP entry at b (zeroed by the caller); returns its size. */
static inline uint32_t att_op_put_entry(uint8_t *b, const uint8_t *group, uint8_t group_len, uint8_t reason,
					uint32_t client)
{
	b[0] = group_len;
	b[1] = reason;
	att_put_be32(b + 4, client);
	memcpy(b + ATT_OP_ENTRY_HDR, group, group_len);
	return att_op_entry_size(group_len);
}

/* One GROUP_OP entry as read. */
struct att_op_entry {
	uint8_t group_len, reason;
	uint32_t client;
	const uint8_t *group; /* inside the envelope */
};

/* Reads the entry at *off of the size-byte envelope b and moves *off past
 * it; -1 if it does not fit or its group length is 0 or over group_max. */
static inline int att_op_get_entry(const uint8_t *b, uint32_t size, uint32_t *off, uint8_t group_max,
				   struct att_op_entry *en)
{
	if (size - *off < ATT_OP_ENTRY_HDR)
		return -1;
	const uint8_t *p = b + *off;
	en->group_len = p[0];
	en->reason = p[1];
	en->client = att_get_be32(p + 4);
	if (en->group_len == 0 || en->group_len > group_max ||
	    size - *off - ATT_OP_ENTRY_HDR < att_pad8(en->group_len))
		return -1;
	en->group = p + ATT_OP_ENTRY_HDR;
	*off += att_op_entry_size(en->group_len);
	return 0;
}

#endif
