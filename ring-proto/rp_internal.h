/* rp_internal.h — the node's state, shared by the ring-proto source files.
 *
 * Owns: struct rp_node and the helpers the per-concern files (rp_node.c:
 * lifecycle and dispatch; rp_srp.c: ordering, token, store, delivery;
 * rp_pack.c: submit queues, packing and fragmentation) call on each other.
 * Never included outside ring-proto/.
 */
#ifndef RP_INTERNAL_H
#define RP_INTERNAL_H

#include <stdbool.h>

#include "rp.h"

/* Always-on assertion: a broken invariant is a programmer error (STYLE.md
 * "Errors"); abort() is the only way out that libc-only code has. */
#define RP_ASSERT(cond)                 \
	do {                            \
		if (!(cond))            \
			__builtin_trap(); \
	} while (0)

enum rp_state {
	RP_STATE_OPERATIONAL = 1,
};

/* One stored frame of the current ring, indexed by seq & (store_slots - 1). */
struct rp_slot {
	uint64_t seq;
	uint32_t size; /* 0: empty */
	uint32_t rsv;
};

/* A submitted message waiting, wholly or partly, to be sequenced. */
struct rp_pending {
	const uint8_t *data;
	uint32_t size;
	uint32_t sent; /* bytes already packed into frames */
	uint32_t client_id;
	uint8_t service;
	uint64_t cookie;
};

struct rp_queue {
	struct rp_pending *v; /* submit_queue_max entries */
	uint32_t head;
	uint32_t count;
};

struct rp_node {
	struct rp_config cfg;
	enum rp_state state;
	uint16_t my_index;  /* position in members[] */
	uint16_t successor; /* node id the token goes to */
	struct rp_ring_id ring;
	uint16_t member_count;
	uint16_t members[RP_NODES_MAX];

	/* Store of frames (TOCS §5.1 receive/sort queue). Holds seqs in
	 * (discarded, high_seq]. */
	struct rp_slot *slots;
	uint8_t *frames; /* store_slots * frame_size_max bytes */
	uint64_t store_mask;
	uint64_t my_aru;      /* every seq <= my_aru is held or was delivered */
	uint64_t high_seq;    /* highest seq received */
	uint64_t discarded;   /* every seq <= discarded has been freed */
	uint64_t delivered;   /* every frame <= delivered is fully delivered */
	uint16_t deliver_entry; /* next entry of frame delivered+1 */
	size_t deliver_off;     /* its byte offset among the frame's entries */
	uint64_t safe_point;  /* SAFE may be delivered up to here (§2.5) */

	/* Token state (TOCS §5.2 Fig 3). */
	struct rp_wire_token token;  /* working copy while processing a visit */
	uint64_t my_token_seq;       /* token_seq of the last accepted token */
	bool token_local;            /* holding a token for itself (rep start, singleton) */
	bool token_fresh;            /* a newly created token not yet visited */
	uint8_t *token_buf;          /* encoded last forwarded token */
	uint32_t token_buf_size;
	uint64_t token_fwd_seq;      /* token.seq when last forwarded */
	uint64_t token_retransmit_at; /* UINT64_MAX: disarmed */
	uint64_t fwd_aru[2];         /* aru forwarded at this visit [0] and the previous [1] */
	uint64_t prev_visit_seq;     /* token.seq forwarded at the previous visit */
	uint64_t my_last_aru;
	uint32_t my_aru_count;
	uint32_t my_trc_prev;        /* frames I sent on my previous visit */
	uint32_t my_pbl;             /* backlog I reported on my previous visit */

	bool config_pending; /* deliver the initial configuration */
	bool deliver_more;   /* deliveries left over for lack of action room */

	struct rp_queue queues[RP_PRIO_COUNT];

	uint32_t mutation_count; /* deliveries seen, to place a mutation */
	bool mutation_done;

	struct rp_stats stats;
};

/* rp_node.c */
bool rp_actions_room(const struct rp_actions *out, uint32_t n);
struct rp_action *rp_action_push(struct rp_actions *out, enum rp_action_kind kind);
void rp_emit_send(struct rp_node *n, struct rp_actions *out, const uint8_t *data,
		  uint32_t size, uint16_t dest);

/* rp_srp.c */
void rp_srp_start(struct rp_node *n);
void rp_srp_on_data(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf,
		    uint64_t now_ns, struct rp_actions *out);
void rp_srp_on_token(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf,
		     uint64_t now_ns, struct rp_actions *out);
void rp_srp_on_tick(struct rp_node *n, uint64_t now_ns, struct rp_actions *out);
void rp_srp_deliver(struct rp_node *n, struct rp_actions *out);
uint64_t rp_srp_deadline(const struct rp_node *n);
void rp_srp_invariants(const struct rp_node *n);
uint8_t *rp_slot_frame(const struct rp_node *n, uint64_t seq);
struct rp_slot *rp_slot_of(const struct rp_node *n, uint64_t seq);

/* rp_pack.c */
int rp_pack_submit(struct rp_node *n, const struct rp_input *in);
bool rp_pack_has_work(const struct rp_node *n);
/* Fills one data frame at buf with waiting messages; returns its size, or 0
 * if nothing was waiting. Emits RP_ACT_SUBMIT_DONE for messages finished. */
uint32_t rp_pack_frame(struct rp_node *n, uint8_t *buf, uint64_t seq, struct rp_actions *out);
uint32_t rp_pack_backlog(const struct rp_node *n);

#endif
