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
 * The layout of every part of a frame is one list below (foreach_rp_*_field:
 * name, offset, width, and what fills it); the encoders, the decoders, the
 * offset constants the layers below use (RP_HDR_PATH_INDEX, ...) and the
 * layout checks are generated from those lists, and no other code in the
 * tree writes a literal offset into a frame (tests/unit/tidy.py checks).
 * Every field is naturally aligned; bytes no field covers are reserved:
 * written as zero, ignored when read (room for compatible extensions) —
 * except an entry's reserved byte, which must be zero. Entries are strict:
 * FIRST exactly when frag_offset is 0, LAST exactly when the chunk ends the
 * message. msg_size is bounded only by u32 here: a reassembler checks it
 * against its own maximum. A DATA frame's entries (each an entry header and
 * chunk_size payload bytes) must fill it exactly; a TOKEN carries rtr_count
 * u64 seqs, a JOIN inc_count u64 incarnations (one per member of proc_set,
 * ascending id), a COMMIT count entries, each from the body's body_hdr_size
 * on; with the token flag RTR_FROM the rtr seqs are followed by as many u64
 * masks of the nodes that asked for each (docs/protocol.md §17.4). A RELAY
 * carries a whole frame of another sender (a flooded Join, token or commit
 * token) from its body_hdr_size to the end. A JOIN's body header and a
 * MERGE_DETECT's body carry the sender's ring parameters (PARAMS,
 * docs/protocol.md §8.8); HOLD_CANCEL is a header alone (§12). A JOIN whose
 * body header is RP_WIRE_JOIN_HDR_MIN bytes (without heard and refused, as
 * the first version with PARAMS sent it) is still accepted: heard =
 * proc_set, refused = fail_set (docs/protocol.md §16.2).
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
#define RP_WIRE_JOIN_HDR_SIZE 104u  /* as sent: its fields, the ring parameters from RP_WIRE_JOIN_PARAMS, heard, refused */
#define RP_WIRE_JOIN_HDR_MIN 88u    /* the smallest accepted: without heard, refused */
#define RP_WIRE_JOIN_PARAMS 32u
#define RP_WIRE_PARAMS_SIZE 56u
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

/* ---- the layout: every field of every frame part, once ----
 *
 * _(NAME, offset, bits, HOW, member, value): NAME gives the offset constant
 * RP_<PART>_<NAME>; bits is 8, 16, 32 or 64 (little-endian). HOW says what
 * fills the field: FIELD (the struct's member), SET (encoders write value,
 * decoders read into member), CONST (encoders write value, decoders leave it
 * to an explicit check), ZERO (reserved: encoders write 0), HI and LO (a
 * u64 member split in two fields: HI its bits 32 and up, LO its bits 0..31;
 * HI at the lower offset, since decoders assign HI and then or in LO).
 *
 * The lists look alike, one row format for every part, and a
 * duplicate-code scan pairs them; they are not copies: each row is one
 * field of one part, stated nowhere else. */
#define foreach_rp_hdr_field(_)                                 \
	_(MAGIC, 0, 16, CONST, -, RP_WIRE_MAGIC)                 \
	_(VERSION, 2, 8, FIELD, version, -)                      \
	_(TYPE, 3, 8, FIELD, type, -)                            \
	_(FLAGS, 4, 16, FIELD, flags, -)                         \
	_(HDR_SIZE, 6, 16, FIELD, hdr_size, -)                   \
	_(FRAME_SIZE, 8, 32, FIELD, frame_size, -)               \
	_(SENDER, 12, 16, FIELD, sender, -)                      \
	_(PATH_INDEX, 14, 8, FIELD, path_index, -)               \
	_(FAULT_MASK, 15, 8, FIELD, fault_mask, -)               \
	_(INCARNATION, 16, 64, FIELD, incarnation, -)            \
	_(RING_REP, 24, 16, FIELD, ring.rep, -)                  \
	_(SEND_MASK, 26, 8, FIELD, send_mask, -)                 \
	_(PROTO, 27, 8, FIELD, proto, -)                         \
	_(PROTO_MIN, 28, 8, FIELD, proto_min, -)                 \
	_(PROTO_MAX, 29, 8, FIELD, proto_max, -)                 \
	_(TX_SEQ, 30, 16, FIELD, tx_seq, -)                      \
	_(RING_SEQ, 32, 64, FIELD, ring.seq, -)

#define foreach_rp_data_field(_)                                \
	_(SEQ, 0, 64, FIELD, seq, -)                             \
	_(ORIGIN, 8, 16, FIELD, origin, -)                       \
	_(ENTRY_COUNT, 10, 16, FIELD, entry_count, -)            \
	_(BODY_HDR_SIZE, 12, 16, SET, body_hdr_size, RP_WIRE_DATA_HDR_SIZE) \
	_(BODY_FLAGS, 14, 16, FIELD, body_flags, -)

#define foreach_rp_entry_field(_)                               \
	_(CHUNK_SIZE, 0, 32, FIELD, chunk_size, -)               \
	_(MSG_SIZE, 4, 32, FIELD, msg_size, -)                   \
	_(FRAG_OFFSET, 8, 32, FIELD, frag_offset, -)             \
	_(CLIENT_ID, 12, 32, FIELD, client_id, -)                \
	_(SERVICE, 16, 8, FIELD, service, -)                     \
	_(PRIORITY, 17, 8, FIELD, priority, -)                   \
	_(FLAGS, 18, 8, FIELD, flags, -)                         \
	_(RESERVED, 19, 8, ZERO, -, 0)

#define foreach_rp_token_field(_)                               \
	_(TOKEN_SEQ, 0, 64, FIELD, token_seq, -)                 \
	_(SEQ, 8, 64, FIELD, seq, -)                             \
	_(ARU, 16, 64, FIELD, aru, -)                            \
	_(ARU_ID, 24, 16, FIELD, aru_id, -)                      \
	_(DEST, 26, 16, FIELD, dest, -)                          \
	_(BODY_HDR_SIZE, 28, 16, SET, body_hdr_size, RP_WIRE_TOKEN_HDR_SIZE) \
	_(RTR_COUNT, 30, 16, FIELD, rtr_count, -)                \
	_(FCC, 32, 32, FIELD, fcc, -)                            \
	_(BACKLOG, 36, 32, FIELD, backlog, -)                    \
	_(RETRANS_FLG, 40, 8, FIELD, retrans_flg, -)             \
	_(RRP_ACC, 41, 8, FIELD, rrp_acc, -)                     \
	_(RRP_ALL, 42, 8, FIELD, rrp_all, -)                     \
	_(RRP_SUS_ACC, 43, 8, FIELD, rrp_sus_acc, -)             \
	_(RRP_SUS_ALL, 44, 8, FIELD, rrp_sus_all, -)             \
	_(TOKEN_FLAGS, 45, 8, SET, token_flags, (uint8_t)(s_->rtr_has_from ? RP_TOKEN_F_RTR_FROM : 0u))

#define foreach_rp_join_field(_)                                \
	_(RING_SEQ, 0, 64, FIELD, ring_seq, -)                   \
	_(PROC_SET, 8, 64, FIELD, proc_set, -)                   \
	_(FAIL_SET, 16, 64, FIELD, fail_set, -)                  \
	_(BODY_HDR_SIZE, 24, 16, SET, body_hdr_size, RP_WIRE_JOIN_HDR_SIZE) \
	_(INC_COUNT, 26, 16, SET, inc_count, (uint16_t)rp_popcount64(s_->proc_set)) \
	_(HEARD, 88, 64, FIELD, heard, -)                        \
	_(REFUSED, 96, 64, FIELD, refused, -)

/* the ring parameters every member must share (docs/protocol.md §8.8): in
 * a JOIN's body header from RP_WIRE_JOIN_PARAMS, and a MERGE_DETECT's body */
#define foreach_rp_params_field(_)                              \
	_(NODES, 0, 64, FIELD, nodes, -)                         \
	_(FRAME_SIZE_MAX, 8, 32, FIELD, frame_size_max, -)       \
	_(WINDOW_SIZE, 12, 32, FIELD, window_size, -)            \
	_(TOKEN_RETRANSMIT_NS, 16, 64, FIELD, token_retransmit_ns, -) \
	_(TOKEN_LOSS_NS, 24, 64, FIELD, token_loss_ns, -)        \
	_(JOIN_NS, 32, 64, FIELD, join_ns, -)                    \
	_(CONSENSUS_NS, 40, 64, FIELD, consensus_ns, -)          \
	_(QUORUM, 48, 8, FIELD, quorum, -)                       \
	_(RRP_MODE, 49, 8, FIELD, rrp_mode, -)                   \
	_(PATH_COUNT, 50, 8, FIELD, path_count, -)

#define foreach_rp_commit_field(_)                              \
	_(MEMB_INDEX, 0, 16, FIELD, memb_index, -)               \
	_(COUNT, 2, 16, FIELD, count, -)                         \
	_(DEST, 4, 16, FIELD, dest, -)                           \
	_(BODY_HDR_SIZE, 6, 16, SET, body_hdr_size, RP_WIRE_COMMIT_HDR_SIZE) \
	_(ROTATION, 8, 8, FIELD, rotation, -)

#define foreach_rp_commit_entry_field(_)                        \
	_(ID, 0, 16, FIELD, id, -)                               \
	_(RECEIVED_FLG, 2, 8, FIELD, received_flg, -)            \
	_(PROTO_MIN, 3, 8, FIELD, proto_min, -)                  \
	_(OLD_RING_REP, 4, 16, FIELD, old_ring.rep, -)           \
	_(PROTO_MAX, 6, 8, FIELD, proto_max, -)                  \
	_(OBLIGATION_HI, 7, 8, HI, obligation, -)                \
	_(INCARNATION, 8, 64, FIELD, incarnation, -)             \
	_(OLD_RING_SEQ, 16, 64, FIELD, old_ring.seq, -)          \
	_(OLD_ARU, 24, 64, FIELD, old_aru, -)                    \
	_(OLD_HIGH_SEQ, 32, 64, FIELD, old_high_seq, -)          \
	_(OLD_DELIVERED, 40, 64, FIELD, old_delivered, -)        \
	_(LAST_PRIMARY_SEQ, 48, 64, FIELD, last_primary.seq, -)  \
	_(LAST_PRIMARY_REP, 56, 16, FIELD, last_primary.rep, -)  \
	_(INSTALLED_PRIMARY_REP, 58, 16, FIELD, installed_primary.rep, -) \
	_(OBLIGATION_LO, 60, 32, LO, obligation, -)              \
	_(LAST_PRIMARY_MEMBERS, 64, 64, FIELD, last_primary_members, -) \
	_(INSTALLED_PRIMARY_SEQ, 72, 64, FIELD, installed_primary.seq, -) \
	_(INSTALLED_PRIMARY_MEMBERS, 80, 64, FIELD, installed_primary_members, -)

#define foreach_rp_path_test_field(_)                           \
	_(HEARD, 0, 64, FIELD, heard, -)                         \
	_(BODY_HDR_SIZE, 8, 16, SET, body_hdr_size, RP_WIRE_PATH_TEST_HDR_SIZE)

#define foreach_rp_relay_field(_)                               \
	_(BODY_HDR_SIZE, 0, 16, SET, body_hdr_size, RP_WIRE_RELAY_HDR_SIZE)

/* Every part: _(PART, list, its size, its struct). */
#define foreach_rp_wire_part(_)                                               \
	_(HDR, foreach_rp_hdr_field, RP_WIRE_HDR_SIZE, rp_wire_hdr)               \
	_(DATA, foreach_rp_data_field, RP_WIRE_DATA_HDR_SIZE, rp_wire_data)       \
	_(ENTRY, foreach_rp_entry_field, RP_WIRE_ENTRY_HDR_SIZE, rp_wire_entry)   \
	_(TOKEN, foreach_rp_token_field, RP_WIRE_TOKEN_HDR_SIZE, rp_wire_token)   \
	_(JOIN, foreach_rp_join_field, RP_WIRE_JOIN_HDR_SIZE, rp_wire_join)       \
	_(COMMIT, foreach_rp_commit_field, RP_WIRE_COMMIT_HDR_SIZE, rp_wire_commit) \
	_(COMMIT_ENTRY, foreach_rp_commit_entry_field, RP_WIRE_COMMIT_ENTRY_SIZE, rp_wire_commit_entry) \
	_(PATH_TEST, foreach_rp_path_test_field, RP_WIRE_PATH_TEST_HDR_SIZE, rp_wire_path_test) \
	_(RELAY, foreach_rp_relay_field, RP_WIRE_RELAY_HDR_SIZE, rp_wire_relay) \
	_(PARAMS, foreach_rp_params_field, RP_WIRE_PARAMS_SIZE, rp_wire_params)

/* The offsets: RP_HDR_PATH_INDEX, RP_TOKEN_RRP_SUS_ACC, ... */
#define RP_WIRE_OFF_(PART, NAME, off) RP_##PART##_##NAME = (off),
#define RP_HDR_OFF_(N, off, ...) RP_WIRE_OFF_(HDR, N, off)
#define RP_DATA_OFF_(N, off, ...) RP_WIRE_OFF_(DATA, N, off)
#define RP_ENTRY_OFF_(N, off, ...) RP_WIRE_OFF_(ENTRY, N, off)
#define RP_TOKEN_OFF_(N, off, ...) RP_WIRE_OFF_(TOKEN, N, off)
#define RP_JOIN_OFF_(N, off, ...) RP_WIRE_OFF_(JOIN, N, off)
#define RP_COMMIT_OFF_(N, off, ...) RP_WIRE_OFF_(COMMIT, N, off)
#define RP_COMMIT_ENTRY_OFF_(N, off, ...) RP_WIRE_OFF_(COMMIT_ENTRY, N, off)
#define RP_PATH_TEST_OFF_(N, off, ...) RP_WIRE_OFF_(PATH_TEST, N, off)
#define RP_RELAY_OFF_(N, off, ...) RP_WIRE_OFF_(RELAY, N, off)
#define RP_PARAMS_OFF_(N, off, ...) RP_WIRE_OFF_(PARAMS, N, off)
enum { foreach_rp_hdr_field(RP_HDR_OFF_) };
enum { foreach_rp_data_field(RP_DATA_OFF_) };
enum { foreach_rp_entry_field(RP_ENTRY_OFF_) };
enum { foreach_rp_token_field(RP_TOKEN_OFF_) };
enum { foreach_rp_join_field(RP_JOIN_OFF_) };
enum { foreach_rp_commit_field(RP_COMMIT_OFF_) };
enum { foreach_rp_commit_entry_field(RP_COMMIT_ENTRY_OFF_) };
enum { foreach_rp_path_test_field(RP_PATH_TEST_OFF_) };
enum { foreach_rp_relay_field(RP_RELAY_OFF_) };
enum { foreach_rp_params_field(RP_PARAMS_OFF_) };

#ifdef __cplusplus
#define RP_STATIC_ASSERT static_assert /* the benchmarks include this header from C++ */
#else
#define RP_STATIC_ASSERT _Static_assert
#endif

/* Every field lies within its part and is naturally aligned. (That no two
 * fields overlap is tests/unit/test_wire.c's test_layout.) */
#define RP_WIRE_CHECK_FIELD_(N, off, bits, how, m, v, size)                            \
	RP_STATIC_ASSERT((off) % ((bits) / 8) == 0 && (off) + (bits) / 8 <= (size),    \
		       "wire field " #N " lies inside its part, naturally aligned");
#define RP_WIRE_CHECK_PART_(PART, list, size, type) list(RP_WIRE_CHECK_##PART##_)
#define RP_WIRE_CHECK_HDR_(...) RP_WIRE_CHECK_FIELD_(__VA_ARGS__, RP_WIRE_HDR_SIZE)
#define RP_WIRE_CHECK_DATA_(...) RP_WIRE_CHECK_FIELD_(__VA_ARGS__, RP_WIRE_DATA_HDR_SIZE)
#define RP_WIRE_CHECK_ENTRY_(...) RP_WIRE_CHECK_FIELD_(__VA_ARGS__, RP_WIRE_ENTRY_HDR_SIZE)
#define RP_WIRE_CHECK_TOKEN_(...) RP_WIRE_CHECK_FIELD_(__VA_ARGS__, RP_WIRE_TOKEN_HDR_SIZE)
#define RP_WIRE_CHECK_JOIN_(...) RP_WIRE_CHECK_FIELD_(__VA_ARGS__, RP_WIRE_JOIN_HDR_SIZE)
#define RP_WIRE_CHECK_COMMIT_(...) RP_WIRE_CHECK_FIELD_(__VA_ARGS__, RP_WIRE_COMMIT_HDR_SIZE)
#define RP_WIRE_CHECK_COMMIT_ENTRY_(...) RP_WIRE_CHECK_FIELD_(__VA_ARGS__, RP_WIRE_COMMIT_ENTRY_SIZE)
#define RP_WIRE_CHECK_PATH_TEST_(...) RP_WIRE_CHECK_FIELD_(__VA_ARGS__, RP_WIRE_PATH_TEST_HDR_SIZE)
#define RP_WIRE_CHECK_RELAY_(...) RP_WIRE_CHECK_FIELD_(__VA_ARGS__, RP_WIRE_RELAY_HDR_SIZE)
#define RP_WIRE_CHECK_PARAMS_(...) RP_WIRE_CHECK_FIELD_(__VA_ARGS__, RP_WIRE_PARAMS_SIZE)
foreach_rp_wire_part(RP_WIRE_CHECK_PART_)
RP_STATIC_ASSERT(RP_WIRE_HDR_SIZE % 8 == 0 && RP_WIRE_TOKEN_HDR_SIZE % 8 == 0 && RP_WIRE_JOIN_HDR_SIZE % 8 == 0 &&
		       RP_WIRE_COMMIT_HDR_SIZE % 8 == 0 && RP_WIRE_COMMIT_ENTRY_SIZE % 8 == 0,
	       "u64 arrays after these parts stay aligned");
RP_STATIC_ASSERT(RP_JOIN_INC_COUNT + 2 <= RP_WIRE_JOIN_PARAMS && RP_WIRE_JOIN_PARAMS % 8 == 0 &&
		       RP_WIRE_JOIN_PARAMS + RP_WIRE_PARAMS_SIZE == RP_WIRE_JOIN_HDR_MIN,
	       "a JOIN's parameters follow its fields and end the smallest body header");
RP_STATIC_ASSERT(RP_JOIN_HEARD == RP_WIRE_JOIN_HDR_MIN && RP_JOIN_REFUSED + 8 == RP_WIRE_JOIN_HDR_SIZE,
	       "heard and refused follow the parameters and end a JOIN's body header");

/* Generated bodies of encoders and decoders: p_ is the part's first byte,
 * s_ the struct. */
#define RP_WIRE_ENC_VAL_FIELD(m, v) s_->m
#define RP_WIRE_ENC_VAL_SET(m, v) (v)
#define RP_WIRE_ENC_VAL_CONST(m, v) (v)
#define RP_WIRE_ENC_VAL_ZERO(m, v) 0
#define RP_WIRE_ENC_VAL_HI(m, v) (uint8_t)(s_->m >> 32)
#define RP_WIRE_ENC_VAL_LO(m, v) (uint32_t)s_->m
#define RP_WIRE_DEC_FIELD(m, x) s_->m = (x);
#define RP_WIRE_DEC_SET(m, x) s_->m = (x);
#define RP_WIRE_DEC_CONST(m, x)
#define RP_WIRE_DEC_ZERO(m, x)
#define RP_WIRE_DEC_HI(m, x) s_->m = (uint64_t)(x) << 32;
#define RP_WIRE_DEC_LO(m, x) s_->m |= (x);
#define RP_WIRE_ENCODE_(N, off, bits, how, m, v) rp_put##bits(p_ + (off), RP_WIRE_ENC_VAL_##how(m, v));
#define RP_WIRE_DECODE_(N, off, bits, how, m, v) RP_WIRE_DEC_##how(m, rp_get##bits(p_ + (off)))

/* One +1 per entry of a list: 0 foreach_x(RP_COUNT_ARGS_) is its length. */
#define RP_COUNT_ARGS_(...) +1

/* Every frame type, once: _(ENUM, value, name); values consecutive from
 * 1 (the header's type byte), names for traces and logs. */
#define foreach_rp_frame_type(_)                                                              \
	_(DATA, 1, "data")                                                                      \
	_(TOKEN, 2, "token")                                                                    \
	_(JOIN, 3, "join")                                                                      \
	_(COMMIT, 4, "commit")                                                                  \
	_(MERGE_DETECT, 5, "merge-detect")                                                      \
	_(HOLD_CANCEL, 6, "hold-cancel")                                                        \
	_(PATH_TEST, 7, "probe")                                                                \
	_(RELAY, 8, "relay")                                                                    \
	_(DUP_NOTICE, 9, "dup-notice") /* from a process that found its id in use at start (§8.8 Rule D) */ \
	_(ID_PROBE, 10, "id-probe")    /* from a process listening at start: is my id running? (§8.8 Rule D) */

enum rp_frame_type {
#define RP_FRAME_ENUM_(e, v, name) RP_FRAME_##e = (v),
	foreach_rp_frame_type(RP_FRAME_ENUM_)
#undef RP_FRAME_ENUM_
	RP_FRAME_TYPE_END
};
RP_STATIC_ASSERT(RP_FRAME_TYPE_END == 1 foreach_rp_frame_type(RP_COUNT_ARGS_),
	       "frame types are numbered 1, 2, ... in the list's order");

/* The name of a frame type ("?" for none). */
const char *rp_frame_type_name(unsigned type);

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
	_(FOREIGN_RING, "foreign-ring", RP_COUNTER_HARMLESS, "a valid frame of a ring this node is not in: how a starting node or a healed partition is found (every start counts some)") \
	_(NOT_MEMBER, "not-member", RP_COUNTER_HARMLESS, "the sender is not a member of this node's ring (yet)") \
	_(STALE_TOKEN, "stale-token", RP_COUNTER_HARMLESS, "token_seq not newer than the last accepted") \
	_(NOT_FOR_ME, "not-for-me", RP_COUNTER_HARMLESS, "a token addressed to another node")             \
	_(DUPLICATE, "duplicate", RP_COUNTER_HARMLESS, "data frame already held or delivered (every extra copy of active RRP)") \
	_(OUT_OF_WINDOW, "out-of-window", RP_COUNTER_HARMLESS, "data frame beyond the store's capacity")  \
	_(UNHANDLED, "unhandled", RP_COUNTER_HARMLESS, "a valid type this state does not act on")        \
	_(STALE, "stale", RP_COUNTER_HARMLESS, "an older incarnation's frame, or a ring this node has left") \
	_(BUSY, "busy", RP_COUNTER_HARMLESS, "still delivering an install: retransmission repairs it")    \
	_(VERSION_MISMATCH, "version-mismatch", RP_COUNTER_HARMFUL, "the sender's protocol range shares no version with this node's") \
	_(CONFIG_MISMATCH, "config-mismatch", RP_COUNTER_HARMFUL, "the sender's ring parameters differ from this node's (docs/protocol.md §8.8)") \
	_(DUPLICATE_ID, "duplicate-id", RP_COUNTER_HARMFUL, "a second process runs with the sender's node id (§8.8)") \
	_(NEW_INCARNATION, "new-incarnation", RP_COUNTER_HARMLESS, "a restarted node, held back until its previous incarnation has been silent for token_loss (§8.8)")

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
	uint16_t body_hdr_size; /* decoded; encoders write RP_WIRE_TOKEN_HDR_SIZE */
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
	uint8_t token_flags;              /* decoded (RP_TOKEN_F_*); encoders derive it */
	uint64_t rtr[RP_WIRE_RTR_MAX];
	uint64_t rtr_from[RP_WIRE_RTR_MAX]; /* with rtr_has_from: who asked for rtr[i] */
};

/* The ring parameters (docs/protocol.md §8.8): rp_config's fields of the
 * same names; nodes is the configured set (bit id-1). */
struct rp_wire_params {
	uint64_t nodes;
	uint32_t frame_size_max, window_size;
	uint64_t token_retransmit_ns, token_loss_ns, join_ns, consensus_ns;
	uint8_t quorum, rrp_mode, path_count;
};

struct rp_wire_join {
	uint16_t body_hdr_size; /* decoded; encoders write RP_WIRE_JOIN_HDR_SIZE */
	uint16_t inc_count;     /* decoded; encoders write proc_set's count */
	uint64_t ring_seq;
	uint64_t proc_set;
	uint64_t fail_set;
	struct rp_wire_params params;
	uint64_t heard;             /* ⊆ proc_set: the nodes the sender hears */
	uint64_t refused;           /* ⊆ fail_set: its own verdicts (§16.2) */
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
	uint64_t obligation; /* 40 bits: old-ring members whose messages it owes (§8.4) */
};

#define RP_WIRE_OBLIGATION_BITS 40u

struct rp_wire_commit {
	uint16_t body_hdr_size; /* decoded; encoders write RP_WIRE_COMMIT_HDR_SIZE */
	uint16_t memb_index;
	uint16_t count;
	uint16_t dest;
	uint8_t rotation;
	struct rp_wire_commit_entry e[RP_NODES_MAX];
};

struct rp_wire_path_test {
	uint64_t heard;         /* nodes heard on this path lately (bit id-1) */
	uint16_t body_hdr_size;
};

struct rp_wire_relay {
	uint16_t body_hdr_size; /* the relayed frame starts there */
};

/* Little-endian field access; p must have room for the field. */
static inline uint8_t rp_get8(const uint8_t *p) { return p[0]; }
static inline void rp_put8(uint8_t *p, uint8_t v) { p[0] = v; }
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

/* One raw writer and one raw reader per part, generated from its field
 * list (foreach_rp_wire_part): rp_wire_token_put(p, t) writes t's fields at
 * p, rp_wire_token_get(p, t) reads them back. No checks: the decoders above
 * validate what they read. */
#define RP_WIRE_PART_CODEC_(PART, list, size, type)                                    \
	static inline void type##_put(uint8_t *p_, const struct type *s_)               \
	{                                                                              \
		(void)s_; /* RELAY has no field of its own */                          \
		list(RP_WIRE_ENCODE_)                                                  \
	}                                                                              \
	static inline void type##_get(const uint8_t *p_, struct type *s_) { list(RP_WIRE_DECODE_) }
foreach_rp_wire_part(RP_WIRE_PART_CODEC_)
#undef RP_WIRE_PART_CODEC_

/* ---- for the layers below: the transport, the engine, the simulator ---- */

/* The frame type of an unvalidated frame of len bytes (0 if too short to
 * say); a hint for scheduling only: ring-proto validates everything. */
static inline uint8_t rp_wire_peek_type(const uint8_t *buf, size_t len)
{
	return len > RP_HDR_TYPE ? buf[RP_HDR_TYPE] : 0;
}
/* The frame_size an unvalidated frame claims (0 if len cannot hold it). */
static inline uint32_t rp_wire_peek_frame_size(const uint8_t *buf, size_t len)
{
	return len >= RP_HDR_FRAME_SIZE + 4u ? rp_get32(buf + RP_HDR_FRAME_SIZE) : 0;
}
/* The transport stamps the path index into a frame it sends on path p
 * (a frame of at least RP_HDR_PATH_INDEX + 1 bytes). */
static inline void rp_wire_set_path(uint8_t *buf, uint8_t path) { buf[RP_HDR_PATH_INDEX] = path; }
/* ring-proto stamps the sender's path state, its ring's version and its
 * protocol range into a frame it hands out (a retransmitted frame
 * describes the retransmitter and the ring now running). */
static inline void rp_wire_set_sender_info(uint8_t *buf, uint8_t fault_mask, uint8_t send_mask,
					   uint8_t proto, uint8_t proto_min, uint8_t proto_max,
					   uint16_t tx_seq)
{
	buf[RP_HDR_FAULT_MASK] = fault_mask;
	buf[RP_HDR_SEND_MASK] = send_mask;
	buf[RP_HDR_PROTO] = proto;
	buf[RP_HDR_PROTO_MIN] = proto_min;
	buf[RP_HDR_PROTO_MAX] = proto_max;
	rp_put16(buf + RP_HDR_TX_SEQ, tx_seq);
}

/* ORs paths into an encoded token's rrp_sus_acc (a retransmitted token
 * carries suspicion found after it was first sent). */
static inline void rp_wire_token_add_suspects(uint8_t *buf, uint8_t paths)
{
	buf[rp_get16(buf + RP_HDR_HDR_SIZE) + RP_TOKEN_RRP_SUS_ACC] |= paths;
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
	rp_wire_entry_get(p, e);
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
size_t rp_wire_merge_detect_size(void);
size_t rp_wire_encode_merge_detect(uint8_t *buf, struct rp_wire_hdr *h, const struct rp_wire_params *p);
/* The sender's ring parameters from a JOIN or MERGE_DETECT whose header
 * decoded (other types: RP_DROP_BAD_TYPE). */
enum rp_drop rp_wire_decode_params(const uint8_t *buf, const struct rp_wire_hdr *h, struct rp_wire_params *p);

/* HOLD_CANCEL: header only. */
size_t rp_wire_encode_hold_cancel(uint8_t *buf, struct rp_wire_hdr *h);
/* The HOLD_CANCEL answering an ID_PROBE (§8.8 Rule D (0)): the PATH_TEST
 * body's layout, its u64 the prober's incarnation (a decoder that predates
 * it reads the header only); rp_wire_path_test_size() bytes. decode:
 * RP_DROP_TRUNCATED for a HOLD_CANCEL without it. */
size_t rp_wire_encode_id_answer(uint8_t *buf, struct rp_wire_hdr *h, uint64_t prober);
enum rp_drop rp_wire_decode_id_answer(const uint8_t *buf, const struct rp_wire_hdr *h, uint64_t *prober);
/* ID_PROBE (§8.8 Rule D (0)): header only. */
size_t rp_wire_encode_id_probe(uint8_t *buf, struct rp_wire_hdr *h);

/* PATH_TEST: a probe on a path out of use, listing the nodes heard on it. */
size_t rp_wire_path_test_size(void);
size_t rp_wire_encode_path_test(uint8_t *buf, struct rp_wire_hdr *h, uint64_t heard);
enum rp_drop rp_wire_decode_path_test(const uint8_t *buf, const struct rp_wire_hdr *h,
				      uint64_t *heard);
/* A DUP_NOTICE (docs/protocol.md §8.8, Rule D (0)): the PATH_TEST body's
 * layout, its u64 the incarnation heard running with the sender's id;
 * rp_wire_path_test_size() bytes. */
size_t rp_wire_encode_dup_notice(uint8_t *buf, struct rp_wire_hdr *h, uint64_t running);
enum rp_drop rp_wire_decode_dup_notice(const uint8_t *buf, const struct rp_wire_hdr *h, uint64_t *running);

/* RELAY: a whole frame of another sender, forwarded (§17.4). decode points
 * *inner at it (at least a header's bytes); the caller decodes it as a
 * frame of its own. */
size_t rp_wire_relay_size(size_t inner_size);
size_t rp_wire_encode_relay(uint8_t *buf, struct rp_wire_hdr *h, const uint8_t *inner, size_t inner_size);
enum rp_drop rp_wire_decode_relay(const uint8_t *buf, const struct rp_wire_hdr *h, const uint8_t **inner,
				  size_t *inner_size);

#endif
