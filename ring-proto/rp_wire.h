/* rp_wire.h — ordo's wire format: encode and strictly validating decode.
 *
 * Owns: the byte layout of every frame (docs/design.md §6). Little-endian, no
 * packed structs: every field is read and written through rp_wire_get/put so
 * the layout is independent of the compiler and the host.
 *
 * Never: trusts a length from the wire before checking it against the bytes
 * actually received; computes a length in anything narrower than size_t
 * (corosync 4082294f, CVE-2026-35092: a 32-bit join length overflow).
 *
 * Frame = fixed header (RP_WIRE_HDR_SIZE bytes, or more: hdr_size says where
 * the body starts, so a later version may append header fields that older
 * nodes skip) + a body whose layout depends on the frame type.
 *
 * Header (offsets in bytes):
 *   0 u16 magic 0x4F52          8 u32 frame_size (header + body)
 *   2 u8  wire format version   12 u16 sender node id (1..RP_NODES_MAX)
 *   3 u8  type                  14 u8  path index the frame was sent on
 *   4 u16 flags                 15 u8  sender's fault mask (paths it marked faulty)
 *   6 u16 hdr_size              16 u64 sender incarnation
 *  24 u16 ring representative  26 u8  sender's send mask (paths it sends on)
 *  27 u8  protocol version its ring runs   28 u8 sender's protocol min,
 *  29 u8  sender's protocol max (1 <= min <= max)
 *  30 u16 sender's transmission count (all copies of one send alike)
 * Reserved header bytes and unknown header flags are ignored (room for
 * compatible extensions); entries are strict: FIRST exactly when
 * frag_offset is 0, LAST exactly when the chunk ends the message.
 * msg_size is bounded only by u32 here: a reassembler checks it against its
 * own maximum.
 *  32 u64 ring seq
 *
 * DATA body:   0 u64 seq, 8 u16 origin node, 10 u16 entry count,
 *              12 u16 body_hdr_size (entries start there), 14 u16 body flags,
 *              then entries, which must fill the frame exactly.
 * entry:       0 u32 chunk_size, 4 u32 msg_size, 8 u32 frag_offset,
 *              12 u32 client id, 16 u8 service, 17 u8 priority, 18 u8 flags
 *              (FIRST, LAST), 19 u8 reserved, then chunk_size payload bytes.
 * TOKEN body:  0 u64 token_seq, 8 u64 seq, 16 u64 aru, 24 u16 aru_id,
 *              26 u16 dest node, 28 u16 body_hdr_size, 30 u16 rtr count,
 *              32 u32 fcc, 36 u32 backlog, 40 u8 retrans_flg, 41 u8 rrp_acc,
 *              42 u8 rrp_all (path fault unions, docs/protocol.md §9.1), 43 u8
 *              rrp_sus_acc, 44 u8 rrp_sus_all (suspect-path unions), 45 u8 token
 *              flags (RP_TOKEN_F_*), 46..47 reserved, then rtr count u64 seqs at
 *              body_hdr_size, and with RTR_FROM as many u64 masks after them:
 *              the nodes that asked for each (bit id-1; docs/protocol.md §17.4).
 * JOIN body:   0 u64 ring_seq (largest known), 8 u64 proc_set, 16 u64
 *              fail_set (bit id-1), 24 u16 body_hdr_size, 26 u16 inc_count,
 *              28 u32 reserved, then inc_count u64 incarnations, one per
 *              member of proc_set in ascending id order.
 * COMMIT body: 0 u16 memb_index, 2 u16 member count, 4 u16 dest node,
 *              6 u16 body_hdr_size, 8 u8 rotation (1 or 2), 9..15 reserved,
 *              then count entries of RP_WIRE_COMMIT_ENTRY_SIZE bytes:
 *              0 u16 id, 2 u8 received_flg, 3 u8 protocol min, 4 u16 old ring
 *              rep, 6 u8 protocol max, 7 u8 reserved, 8 u64 incarnation,
 *              16 u64 old ring seq, 24 u64 old aru, 32 u64 old high seq,
 *              40 u64 old delivered, 48 u64 last attempted primary ring seq,
 *              56 u16 its rep, 58 u16 last installed primary's rep, 60 u32
 *              reserved, 64 u64 attempted members (bit id-1), 72 u64 last
 *              installed primary ring seq, 80 u64 its members.
 * MERGE_DETECT body: empty (a later version may add fields).
 * PATH_TEST body: 0 u64 nodes heard on this path lately (bit id-1),
 *              8 u16 body_hdr_size, 10..15 reserved.
 * HOLD_CANCEL body: empty: the token held at the representative is wanted
 *              (docs/protocol.md §12).
 * RELAY body:  0 u16 body_hdr_size, 2..15 reserved, then a whole frame of
 *              another sender (a flooded Join, token or commit token) up to
 *              the end: its header and body as that sender sent them
 *              (docs/protocol.md §17.4).
 */
#ifndef RP_WIRE_H
#define RP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define RP_WIRE_MAGIC 0x4F52u
#define RP_WIRE_VERSION_MIN 1u
#define RP_WIRE_VERSION_MAX 1u
#define RP_WIRE_HDR_SIZE 40u
#define RP_WIRE_DATA_HDR_SIZE 16u
#define RP_WIRE_ENTRY_HDR_SIZE 20u
#define RP_WIRE_TOKEN_HDR_SIZE 48u
#define RP_WIRE_RTR_MAX 1024u
#define RP_WIRE_JOIN_HDR_SIZE 32u
#define RP_WIRE_COMMIT_HDR_SIZE 16u
#define RP_WIRE_COMMIT_ENTRY_SIZE 88u
#define RP_WIRE_PATH_TEST_HDR_SIZE 16u
#define RP_WIRE_RELAY_HDR_SIZE 16u
/* A recovery frame carries a whole old-ring frame as its single entry:
 * the packer leaves this much room in every data frame (CS ee8b8993). */
#define RP_WIRE_RECOVERY_OVERHEAD (RP_WIRE_HDR_SIZE + RP_WIRE_DATA_HDR_SIZE + RP_WIRE_ENTRY_HDR_SIZE)
#define RP_NODES_MAX 64u
#define RP_PATHS_MAX 4u
#define RP_PRIO_COUNT 3u

enum rp_frame_type {
	RP_FRAME_DATA = 1,
	RP_FRAME_TOKEN = 2,
	RP_FRAME_JOIN = 3,
	RP_FRAME_COMMIT = 4,
	RP_FRAME_MERGE_DETECT = 5,
	RP_FRAME_HOLD_CANCEL = 6,
	RP_FRAME_PATH_TEST = 7,
	RP_FRAME_RELAY = 8,
	RP_FRAME_TYPE_END
};

/* Header flags. */
#define RP_HDR_F_RETRANS 0x0001u /* a retransmission: sender is not the origin */
#define RP_HDR_F_FLOOD 0x0002u   /* every node forwards it once, in a RELAY frame (§17.4) */

/* TOKEN body flags. */
#define RP_TOKEN_F_RTR_FROM 0x01u /* each rtr seq is followed by who asked for it */

/* DATA body flags. */
#define RP_DATA_F_RECOVERY 0x0001u /* the single entry is an old ring's frame */

/* Entry flags. */
#define RP_ENTRY_F_FIRST 0x01u
#define RP_ENTRY_F_LAST 0x02u

enum rp_service { RP_SERVICE_AGREED = 1, RP_SERVICE_SAFE = 2 };

/* Why a frame was dropped. Every decode failure and every protocol-level
 * refusal has a reason; the engine counts them per reason. */
/* What a counter means to an operator (telemetry, the operator tool,
 * Prometheus): work done, a drop or repair that normal operation produces,
 * or a sign that something is wrong. */
enum rp_counter_kind {
	RP_COUNTER_EVENT = 0, /* work done: grows with traffic */
	RP_COUNTER_HARMLESS,  /* normal operation makes some: duplicates of active RRP, repairs of loss */
	RP_COUNTER_HARMFUL,   /* something is wrong: corrupt or foreign frames, faults, misconfiguration */
};

/* One counter's description: its name (for telemetry and the docs), kind,
 * one line of help, and where it lives in its struct (rp_stats_desc). */
struct rp_counter_desc {
	const char *name;
	enum rp_counter_kind kind;
	const char *help;
	size_t offset;
};

/* Every reason a frame is dropped, once: _(ENUM, name, kind, help). */
#define foreach_rp_drop(_)                                                                          \
	_(TRUNCATED, "truncated", RP_COUNTER_HARMFUL, "fewer bytes than the header or a length claims")   \
	_(BAD_MAGIC, "bad-magic", RP_COUNTER_HARMFUL, "not an ordo frame")                                \
	_(BAD_VERSION, "bad-version", RP_COUNTER_HARMFUL, "a frame format this node does not speak")      \
	_(BAD_TYPE, "bad-type", RP_COUNTER_HARMFUL, "an unknown frame type")                              \
	_(BAD_HDR_SIZE, "bad-hdr-size", RP_COUNTER_HARMFUL, "a header size other than the format's")      \
	_(BAD_FRAME_SIZE, "bad-frame-size", RP_COUNTER_HARMFUL, "frame_size disagrees with the bytes received") \
	_(BAD_SENDER, "bad-sender", RP_COUNTER_HARMFUL, "a sender id out of range")                       \
	_(BAD_PATH, "bad-path", RP_COUNTER_HARMFUL, "path index out of range or not the path it came on") \
	_(BAD_RING, "bad-ring", RP_COUNTER_HARMFUL, "ring representative out of range")                  \
	_(BAD_BODY, "bad-body", RP_COUNTER_HARMFUL, "body header inconsistent")                           \
	_(BAD_ENTRY, "bad-entry", RP_COUNTER_HARMFUL, "an entry's lengths, flags, service or priority")   \
	_(BAD_RTR, "bad-rtr", RP_COUNTER_HARMFUL, "retransmission list longer than the frame")           \
	_(FOREIGN_RING, "foreign-ring", RP_COUNTER_HARMFUL, "a valid frame of a ring this node is not in (another ring on the network?)") \
	_(NOT_MEMBER, "not-member", RP_COUNTER_HARMLESS, "the sender is not a member of this node's ring (yet)") \
	_(STALE_TOKEN, "stale-token", RP_COUNTER_HARMLESS, "token_seq not newer than the last accepted") \
	_(NOT_FOR_ME, "not-for-me", RP_COUNTER_HARMLESS, "a token addressed to another node")             \
	_(DUPLICATE, "duplicate", RP_COUNTER_HARMLESS, "data frame already held or delivered (every extra copy of active RRP)") \
	_(OUT_OF_WINDOW, "out-of-window", RP_COUNTER_HARMLESS, "data frame beyond the store's capacity")  \
	_(UNHANDLED, "unhandled", RP_COUNTER_HARMLESS, "a valid type this state does not act on")        \
	_(STALE, "stale", RP_COUNTER_HARMLESS, "an older incarnation's frame, or a ring this node has left") \
	_(BUSY, "busy", RP_COUNTER_HARMLESS, "still delivering an install: retransmission repairs it")    \
	_(VERSION_MISMATCH, "version-mismatch", RP_COUNTER_HARMFUL, "the sender's protocol range shares no version with this node's")

enum rp_drop {
	RP_DROP_NONE = 0,
#define RP_DROP_ENUM_(e, name, kind, help) RP_DROP_##e,
	foreach_rp_drop(RP_DROP_ENUM_)
#undef RP_DROP_ENUM_
	RP_DROP_COUNT
};

/* Indexed by enum rp_drop ([RP_DROP_NONE] is "none"). */
extern const struct rp_counter_desc rp_drop_desc[RP_DROP_COUNT];

const char *rp_drop_name(enum rp_drop reason);

struct rp_ring_id {
	uint64_t seq;
	uint16_t rep;
};

struct rp_wire_hdr {
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint16_t hdr_size;
	uint32_t frame_size;
	uint16_t sender;
	uint8_t path_index;
	uint8_t fault_mask; /* stamped at send time (rp_wire_set_rrp) */
	uint8_t send_mask;
	uint8_t proto;      /* protocol version the sender's ring runs */
	uint8_t proto_min;  /* the sender's configured range */
	uint8_t proto_max;
	uint16_t tx_seq;    /* stamped at send time: equal on every copy of one send */
	uint64_t incarnation;
	struct rp_ring_id ring;
};

struct rp_wire_data {
	uint64_t seq;
	uint16_t origin;
	uint16_t entry_count;
	uint16_t body_hdr_size;
	uint16_t body_flags;
	const uint8_t *entries; /* first entry */
	size_t entries_size;    /* bytes from entries to the end of the frame */
};

struct rp_wire_entry {
	uint32_t chunk_size;
	uint32_t msg_size;
	uint32_t frag_offset;
	uint32_t client_id;
	uint8_t service;
	uint8_t priority;
	uint8_t flags;
	const uint8_t *data;
};

struct rp_wire_token {
	uint64_t token_seq;
	uint64_t seq;
	uint64_t aru;
	uint16_t aru_id;
	uint16_t dest;
	uint16_t rtr_count;
	uint32_t fcc;
	uint32_t backlog;
	uint8_t retrans_flg;
	uint8_t rrp_acc; /* fault masks of the nodes visited this rotation */
	uint8_t rrp_all; /* ... over the last complete rotation */
	uint8_t rrp_sus_acc, rrp_sus_all; /* the same for paths with problems charged */
	uint8_t rtr_has_from;             /* rtr_from is on the wire (partial topologies) */
	uint64_t rtr[RP_WIRE_RTR_MAX];
	uint64_t rtr_from[RP_WIRE_RTR_MAX]; /* with rtr_has_from: who asked for rtr[i] */
};

struct rp_wire_join {
	uint64_t ring_seq;
	uint64_t proc_set;
	uint64_t fail_set;
	uint64_t inc[RP_NODES_MAX]; /* incarnation of each proc_set member, by id - 1 */
};

struct rp_wire_commit_entry {
	uint16_t id;
	uint8_t received_flg;
	uint8_t proto_min, proto_max;
	struct rp_ring_id last_primary; /* the newest primary ring it attempted */
	uint64_t last_primary_members;
	struct rp_ring_id installed_primary; /* the newest primary ring it installed */
	uint64_t installed_primary_members;
	uint64_t incarnation;
	struct rp_ring_id old_ring;
	uint64_t old_aru;
	uint64_t old_high_seq;
	uint64_t old_delivered;
};

struct rp_wire_commit {
	uint16_t memb_index;
	uint16_t count;
	uint16_t dest;
	uint8_t rotation;
	struct rp_wire_commit_entry e[RP_NODES_MAX];
};

/* Little-endian field access; p must have room for the field. */
static inline uint16_t rp_get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t rp_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t rp_get64(const uint8_t *p) { return (uint64_t)rp_get32(p) | ((uint64_t)rp_get32(p + 4) << 32); }
static inline void rp_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void rp_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void rp_put64(uint8_t *p, uint64_t v) { rp_put32(p, (uint32_t)v); rp_put32(p + 4, (uint32_t)(v >> 32)); }

/* Header. encode writes RP_WIRE_HDR_SIZE bytes (h->hdr_size and h->frame_size
 * as given). decode validates magic, version (within [RP_WIRE_VERSION_MIN,
 * RP_WIRE_VERSION_MAX]), type, hdr_size, frame_size == len, sender and path
 * ranges; returns RP_DROP_NONE or the reason. */
void rp_wire_encode_hdr(uint8_t *buf, const struct rp_wire_hdr *h);
enum rp_drop rp_wire_decode_hdr(const uint8_t *buf, size_t len, struct rp_wire_hdr *h);

/* Bits set in v (node sets, path masks); no libgcc helper. */
static inline unsigned rp_popcount64(uint64_t v)
{
	unsigned c = 0;
	for (; v != 0; v &= v - 1u)
		c++;
	return c;
}

/* The transport stamps the path index into a frame it sends on path p. */
static inline void rp_wire_set_path(uint8_t *buf, uint8_t path) { buf[14] = path; }
/* ring-proto stamps the sender's path state, its ring's version and its
 * protocol range into a frame it hands out (a retransmitted frame
 * describes the retransmitter and the ring now running). */
static inline void rp_wire_set_sender_info(uint8_t *buf, uint8_t fault_mask, uint8_t send_mask,
					   uint8_t proto, uint8_t proto_min, uint8_t proto_max,
					   uint16_t tx_seq)
{
	buf[15] = fault_mask;
	buf[26] = send_mask;
	buf[27] = proto;
	buf[28] = proto_min;
	buf[29] = proto_max;
	rp_put16(buf + 30, tx_seq);
}

/* ORs paths into an encoded token's rrp_sus_acc (a retransmitted token
 * carries suspicion found after it was first sent). */
static inline void rp_wire_token_add_suspects(uint8_t *buf, uint8_t paths)
{
	buf[rp_get16(buf + 6) + 43u] |= paths;
}

/* DATA body. decode walks and validates every entry once, so that
 * rp_wire_entry_next() on a decoded frame cannot fail. */
enum rp_drop rp_wire_decode_data(const uint8_t *buf, const struct rp_wire_hdr *h,
				 struct rp_wire_data *d);
void rp_wire_encode_data_hdr(uint8_t *body, const struct rp_wire_data *d);

/* Entry iteration over a decoded DATA frame: *off starts at 0 and is advanced
 * past the entry. Returns 0, or -1 past the last entry or on a malformed entry
 * (which a validated frame cannot have). */
int rp_wire_entry_next(const uint8_t *entries, size_t entries_size, size_t *off,
		       struct rp_wire_entry *e);
/* Reads an entry header at p without validating it: only for entries of a
 * frame rp_wire_decode_data() has already accepted. */
static inline void rp_wire_entry_read(const uint8_t *p, struct rp_wire_entry *e)
{
	e->chunk_size = rp_get32(p + 0);
	e->msg_size = rp_get32(p + 4);
	e->frag_offset = rp_get32(p + 8);
	e->client_id = rp_get32(p + 12);
	e->service = p[16];
	e->priority = p[17];
	e->flags = p[18];
	e->data = p + RP_WIRE_ENTRY_HDR_SIZE;
}

/* Writes an entry header at p (the chunk bytes follow it). */
void rp_wire_encode_entry_hdr(uint8_t *p, const struct rp_wire_entry *e);

/* Body decoders require h to come from a successful rp_wire_decode_hdr() of
 * the same buffer. */

/* TOKEN body (precondition: t->rtr_count <= RP_WIRE_RTR_MAX). encode returns the frame size it wrote (header included;
 * h->frame_size is filled in), which is at most rp_wire_token_size(rtr_count). */
size_t rp_wire_token_size(uint16_t rtr_count);
size_t rp_wire_token_size_from(uint16_t rtr_count); /* with the requesters (RTR_FROM) */
size_t rp_wire_encode_token(uint8_t *buf, struct rp_wire_hdr *h, const struct rp_wire_token *t);
enum rp_drop rp_wire_decode_token(const uint8_t *buf, const struct rp_wire_hdr *h,
				  struct rp_wire_token *t);

/* JOIN: encode returns the frame size (h->frame_size filled in); decode
 * checks fail_set ⊆ proc_set, the sender in proc_set, ids within 1..64 and
 * one incarnation per proc_set member. */
size_t rp_wire_join_size(uint64_t proc_set);
size_t rp_wire_encode_join(uint8_t *buf, struct rp_wire_hdr *h, const struct rp_wire_join *j);
enum rp_drop rp_wire_decode_join(const uint8_t *buf, const struct rp_wire_hdr *h,
				 struct rp_wire_join *j);

/* COMMIT: decode checks count 1..64, ids unique (in ring order), memb_index
 * <= count, rotation 1 or 2, dest and old ring rep within range. */
size_t rp_wire_commit_size(uint16_t count);
size_t rp_wire_encode_commit(uint8_t *buf, struct rp_wire_hdr *h, const struct rp_wire_commit *c);
enum rp_drop rp_wire_decode_commit(const uint8_t *buf, const struct rp_wire_hdr *h,
				   struct rp_wire_commit *c);

/* MERGE_DETECT: header only. */
size_t rp_wire_encode_merge_detect(uint8_t *buf, struct rp_wire_hdr *h);

/* HOLD_CANCEL: header only. */
size_t rp_wire_encode_hold_cancel(uint8_t *buf, struct rp_wire_hdr *h);

/* PATH_TEST: a probe on a path out of use, listing the nodes heard on it. */
size_t rp_wire_path_test_size(void);
size_t rp_wire_encode_path_test(uint8_t *buf, struct rp_wire_hdr *h, uint64_t heard);
enum rp_drop rp_wire_decode_path_test(const uint8_t *buf, const struct rp_wire_hdr *h,
				      uint64_t *heard);

/* RELAY: a whole frame of another sender, forwarded (§17.4). decode points
 * *inner at it (at least a header's bytes); the caller decodes it as a
 * frame of its own. */
size_t rp_wire_relay_size(size_t inner_size);
size_t rp_wire_encode_relay(uint8_t *buf, struct rp_wire_hdr *h, const uint8_t *inner, size_t inner_size);
enum rp_drop rp_wire_decode_relay(const uint8_t *buf, const struct rp_wire_hdr *h, const uint8_t **inner,
				  size_t *inner_size);

#endif
