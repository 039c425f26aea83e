/* rp_internal.h — the node's state, shared by the ring-proto source files.
 *
 * Owns: struct rp_node and the helpers the per-concern files call on each
 * other: rp_node.c (lifecycle, validation, dispatch, timers), rp_srp.c
 * (ordering: token visit, stores, retransmission, delivery), rp_pack.c
 * (submit queues, packing, fragmentation), rp_memb.c (gather, consensus,
 * commit token, joins, leaves, foreign frames), rp_recovery.c (recovery of
 * the old ring's messages and the install of the new ring).
 * Never included outside ring-proto/.
 */
#ifndef RP_INTERNAL_H
#define RP_INTERNAL_H

#include <stdbool.h>

#include "rp.h"

/* Always-on assertion: a broken invariant is a programmer error (STYLE.md
 * "Errors"). It hands its place and condition to rp_assert_failed (rp.h),
 * which reports them if the driver defined it, and never returns. */
#define RP_ASSERT(cond)                                                    \
	do {                                                               \
		if (__builtin_expect(!(cond), 0))                          \
			rp_assert_failed(__FILE__, __LINE__, #cond);       \
	} while (0)

#define RP_NEVER UINT64_MAX
#define RP_RING_HISTORY 8
/* Ring seqs grow by 4 per ring: a value this large is a faulty peer's. */
#define RP_RING_SEQ_MAX (1ull << 62)

static inline uint64_t rp_bit(uint16_t id) { return 1ull << (id - 1u); }

enum rp_state {
	RP_STATE_GATHER = 1,
	RP_STATE_COMMIT,
	RP_STATE_RECOVERY,
	RP_STATE_OPERATIONAL,
	RP_STATE_LEFT,
};

/* Phases of delivering the old ring at install (TOCS §7.2 steps 2–6). */
enum rp_install {
	RP_INSTALL_NONE = 0,
	RP_INSTALL_OLD_REGULAR,   /* old messages in the old regular configuration */
	RP_INSTALL_TRANS_EVENT,   /* deliver the transitional configuration */
	RP_INSTALL_OLD_TRANS,     /* the rest, in the transitional configuration */
	RP_INSTALL_REGULAR_EVENT, /* deliver the new regular configuration */
};

/* One stored frame, indexed by seq & mask. */
struct rp_slot {
	uint64_t seq;
	uint32_t size;      /* 0: empty */
	uint8_t recovered;  /* old store: someone rebroadcast it in recovery */
	uint8_t rsv[3];
	uint8_t *lent;      /* the frame's bytes when lent (§14), else NULL */
	void *lend;         /* their handle */
};

/* The frames of one ring and the node's position in its sequence
 * (TOCS §5.1). Holds seqs in (discarded, high_seq]. */
struct rp_store {
	struct rp_slot *slots;
	uint8_t *frames; /* store_slots * frame_size_max bytes */
	uint64_t mask;
	uint64_t my_aru;    /* every seq <= my_aru is held or was delivered */
	uint64_t high_seq;  /* highest seq received */
	uint16_t high_origin; /* who sequenced frame high_seq (0: none yet; §12's holder) */
	uint64_t discarded; /* every seq <= discarded has been freed */
	uint64_t delivered; /* every frame <= delivered is fully delivered */
	uint16_t deliver_entry; /* next entry of frame delivered+1 */
	size_t deliver_off;     /* its byte offset among the frame's entries */
};

/* A submitted message waiting, wholly or partly, to be sequenced. */
struct rp_pending {
	const uint8_t *data;
	uint32_t size;
	uint32_t sent; /* bytes already packed into frames of this ring */
	uint32_t client_id;
	uint8_t service;
	uint64_t cookie;
};

struct rp_queue {
	struct rp_pending *v; /* submit_queue_max entries */
	uint32_t head;
	uint32_t count;
};

/* What this node knows of one peer: its paths (§9.3) and its protocol
 * range (§11). Indexed by id - 1. */
struct rp_peer {
	uint64_t last_rx[RP_PATHS_MAX];     /* last heard on the path (0: never) */
	uint64_t skip_since[RP_PATHS_MAX];  /* first frame heard elsewhere since */
	uint64_t heard_me_at[RP_PATHS_MAX]; /* its last probe on the path listing me */
	uint32_t skipped[RP_PATHS_MAX];     /* frames heard elsewhere since */
	uint8_t missing;                    /* paths it is missing on (§9.6) */
	uint64_t inc;                       /* incarnation the fields below are of */
	uint16_t last_tx;                   /* newest transmission count seen */
	bool have_tx;
	uint8_t proto_min, proto_max;       /* its range; 0: unknown */
	uint64_t refused_inc;               /* incarnation a refusal was reported for */
	/* §8.8: an incarnation refused for its ring parameters, and them;
	 * the last frame of the known incarnation; a newer one held back
	 * (since when), and one found to be a duplicate */
	uint64_t params_refused_inc;
	struct rp_wire_params params;
	uint64_t heard_at;
	uint64_t pend_inc, pend_since;
	uint64_t dup_inc;
	uint64_t notice_inc;                /* its DUP_NOTICE reported (Rule D (0)) */
	uint64_t left_inc;                  /* an incarnation that announced its leave */
	uint64_t life_inc;                  /* the incarnation life_tx is of: */
	uint16_t life_tx;                   /* its newest send that counted as a sign of life */
	/* active mode (§9.7, §17.5): problems charged to (this peer, path),
	 * and the paths it is marked out of reach on */
	uint32_t peer_problems[RP_PATHS_MAX];
	uint8_t unreachable;
	/* flooded sends of this peer forwarded already (§17.4): the newest
	 * transmission count, a bit per one of the 64 before it, and when the
	 * window last moved (it is forgotten after token_loss_ns: the 16-bit
	 * count may have gone round by more than half since) */
	bool flood_have;
	uint16_t flood_top;
	uint64_t flood_inc;
	uint64_t flood_bits;
	uint64_t flood_at;
	uint8_t fault_mask, send_mask;      /* its path state, from its latest frame (§9.6) */
};

struct rp_node {
	struct rp_config cfg;
	enum rp_state state;

	/* The current ring: the one `cur` belongs to. */
	struct rp_ring_id ring;
	uint64_t memb;                  /* its members */
	uint64_t configured;            /* every configured node (cfg.members), bit id-1 */
	uint64_t memb_inc[RP_NODES_MAX]; /* their incarnations, by id - 1 */
	uint16_t member_count;
	uint16_t members[RP_NODES_MAX];
	uint16_t successor;
	struct rp_store stores[2];
	struct rp_store *cur;
	uint64_t safe_point; /* SAFE may be delivered up to here (§2.5) */

	/* The old ring, saved once at commit until the next install. */
	bool old_saved;
	struct rp_store *old;
	struct rp_ring_id old_ring;
	uint64_t old_memb;
	uint16_t old_member_count;
	uint16_t old_members[RP_NODES_MAX];
	uint64_t old_safe_point;

	/* Lent frames (§14): handles freed from their slots, until the caller
	 * takes them; kept + returned_count never exceeds 2 * store_slots. */
	uint32_t lent_kept;     /* slots holding lent bytes, both stores */
	uint32_t returned_count;
	void **returned;        /* 2 * store_slots */

	/* Token state (TOCS §5.2 Fig 3). */
	struct rp_wire_token token;   /* working copy while processing a visit */
	uint64_t my_token_seq;        /* token_seq of the last accepted token */
	bool token_local;             /* holding a token for itself (singleton, commit) */
	uint64_t token_hold_at;       /* a quiet ring's token held until then (§12); RP_NEVER: none */
	bool ring_quiet;              /* the token I last forwarded was quiet (§12) */
	bool fwd_settled;             /* the token I last forwarded: aru = seq, no rtr, no backlog (§12) */
	bool hold_cancel_seen;        /* a HOLD_CANCEL arrived since my last visit */
	uint8_t hold_cancel_buf[RP_WIRE_HDR_SIZE];
	uint8_t *token_buf;           /* last forwarded token or commit token */
	uint32_t token_buf_size;
	uint16_t token_buf_dest;
	uint64_t token_fwd_seq;       /* token.seq when last forwarded */
	uint64_t fwd_aru[2];          /* aru forwarded at this visit [0], the previous [1] */
	uint64_t prev_visit_seq;      /* token.seq forwarded at the previous visit */
	uint64_t my_last_aru;
	uint32_t my_aru_count;
	uint32_t my_trc_prev;         /* frames I sent on my previous visit */
	uint32_t my_pbl;              /* backlog I reported on my previous visit */
	bool fail_to_recv;            /* aru stuck: gather after forwarding */

	/* Membership (TOCS §6). */
	uint64_t proc_set, fail_set, consensus;
	/* What each node hears (docs/protocol.md §16.2). */
	uint64_t heard, refused;          /* mine, as in my last Join */
	uint64_t barred;                  /* out until the next install: left, version, fail-to-recv */
	uint64_t unreceiving;             /* the part of barred that is fail-to-recv (§16.2) */
	uint64_t proc_seen;               /* proc_set when `since` was last brought up to date */
	uint64_t gather_since;            /* when this gather began (or the node resumed) */
	uint64_t rows;                    /* the nodes whose last Join is in memb_peers */
	uint64_t heard_again;             /* silent nodes whose foreign frames revived them, this gather */
	/* §16.3: when this node entered COMMIT, and whether it has given up a
	 * forming ring for a Join from outside it since its last install */
	uint64_t commit_since;
	bool gave_way;
	struct rp_memb_peer {
		uint64_t join_at;         /* its last Join arrived */
		uint64_t since;           /* it entered proc_set */
		uint64_t heard, refused;  /* as that Join said */
		uint64_t run_since;       /* first Join of its unbroken run */
		/* since when (+1; 0: not) its Joins have said it does not
		 * hear each node, by id - 1 */
		uint64_t deaf_since[RP_NODES_MAX];
		/* its newest Join taken: incarnation, ring_seq, the ring
		 * it was sent in and its transmission count, kept across
		 * installs (§16.2 "Old Joins"; inc 0: none yet) */
		uint64_t join_inc, join_seq, join_taken_at;
		struct rp_ring_id join_ring;
		uint16_t join_tx;
	} memb_peers[RP_NODES_MAX];
	uint64_t known_inc[RP_NODES_MAX]; /* newest incarnation seen per id */
	struct rp_wire_params params;     /* this node's ring parameters (§8.8) */
	uint64_t self_dup_inc;            /* another process with my id, reported (§8.8) */
	uint64_t max_ring_seq;            /* largest ring seq known */
	struct rp_wire_commit commit;     /* working commit token */
	struct rp_ring_id commit_ring;    /* the ring it forms */
	struct rp_wire_commit_entry my_commit_entry; /* what I wrote in rotation 1 */
	uint64_t new_memb, trans_memb, deliver_memb;
	uint16_t trans_count;
	uint16_t trans_members[RP_NODES_MAX];
	struct rp_ring_id history[RP_RING_HISTORY]; /* rings installed, newest last */
	uint32_t history_count;
	uint8_t *join_buf;
	uint8_t *merge_buf;

	/* Recovery (TOCS §7.2, Fig 6). */
	uint64_t low_ring_aru, high_ring_delivered;
	uint64_t retrans_next, retrans_end;
	bool retrans_active;
	bool my_set_retrans_flg;
	uint32_t my_retrans_flg_count;
	uint64_t install_seq;
	bool my_received_flg;
	bool recovered_all;   /* this attempt: my_aru reached install_seq */
	uint64_t obligation;  /* old-ring senders whose messages I owe (§8.4) */
	uint32_t rotation_counter;
	bool commit_converted;

	/* Install, resumable across steps. */
	enum rp_install install;
	bool trans_hole_seen;

	/* Timers: deadlines in ns, RP_NEVER when disarmed. */
	uint64_t token_retransmit_at;
	uint64_t token_loss_at;
	uint64_t join_at;
	uint64_t consensus_at;
	uint64_t merge_at;

	bool start_pending;  /* deliver the start ring's configuration */
	uint64_t listen_until; /* listening at start until then (§8.8; 0: not yet started) */
	bool deliver_more;   /* deliveries left over for lack of action room */
	bool leave_pending;  /* a leave asked for during an install */

	struct rp_queue queues[RP_PRIO_COUNT];

	/* Redundant ring (docs/protocol.md §9). */
	uint8_t rrp_faulty;   /* this node's marks */
	uint8_t rrp_union;    /* members' marks, from the last token */
	uint8_t rrp_sus_union; /* members' suspect paths, from the last token */
	uint8_t token_sent_mask; /* paths token_buf was last sent on */
	uint8_t rrp_in_use;   /* paths sent on */
	uint8_t rrp_rr[2];    /* passive round robin: next path for data [0], tokens [1] */
	uint16_t tx_seq;      /* transmissions handed out (header bytes 30..31) */
	uint8_t rrp_reported[RP_PATHS_MAX]; /* last state reported (enum rp_path_state) */
	bool rrp_report_pending;            /* an event did not fit: report next step */
	uint8_t rrp_link_down;              /* paths whose link the NIC reports down */
	uint32_t rrp_problems[RP_PATHS_MAX];
	uint32_t rrp_ok_ticks[RP_PATHS_MAX];
	uint64_t rrp_decay_at;
	uint64_t rrp_probe_at;
	uint8_t probe_buf[RP_PATHS_MAX][RP_WIRE_HDR_SIZE + RP_WIRE_PATH_TEST_HDR_SIZE];
	uint8_t notice_buf[RP_WIRE_HDR_SIZE + RP_WIRE_PATH_TEST_HDR_SIZE]; /* DUP_NOTICE (§8.8) */
	uint8_t id_probe_buf[RP_WIRE_HDR_SIZE + RP_WIRE_PATH_TEST_HDR_SIZE]; /* the ID_PROBE sent listening,
									    * or the HOLD_CANCEL answering one */
	struct rp_peer peers[RP_NODES_MAX];

	/* Topology (docs/protocol.md §17). */
	bool partial;                 /* some network misses some configured node */
	bool relaying;                /* relaying may be needed: partial, or full active with paths (§9.8) */
	bool dyn;                     /* partial, or the known faults leave two nodes no network (§9.8) */
	uint8_t mine;                 /* the networks this node is on */
	uint8_t on[RP_NODES_MAX];     /* the networks of each configured node, by id - 1 */
	uint16_t order[RP_NODES_MAX]; /* the ring order of the ring forming or in force */
	uint64_t order_set;           /* its members (0: none, ascending ids) */
	uint16_t relay_dest;          /* relay mode: tokens to this node are flooded (0: none) */
	uint8_t *relay_buf;           /* a RELAY frame being forwarded */
	/* §17.4, per ring: requesters taken off the token as served at this
	 * node's last visit (and a seq of each), and those that asked again
	 * for such a seq since (when): this node's answers did not reach them */
	uint64_t rtr_took_mask;
	uint64_t rtr_took[RP_NODES_MAX];
	uint64_t rtr_doubt;
	uint64_t rtr_doubt_at[RP_NODES_MAX];

	/* Quorum and versions (§10, §11): of the ring in force, and of the
	 * ring being formed (set at rotation 2, adopted at install). */
	bool primary, new_primary;
	uint8_t ring_proto, ring_vmin, ring_vmax;
	uint8_t new_proto, new_vmin, new_vmax;
	bool seen_all;                  /* two_node: was in a ring with both */
	struct rp_ring_id last_primary; /* newest primary ring attempted */
	uint64_t last_primary_members;
	struct rp_ring_id installed_primary; /* newest primary ring installed */
	uint64_t installed_primary_members;

	/* Process pauses (docs/protocol.md §16): Joins that arrive before this
	 * are the queue of a pause and are dropped. */
	uint64_t join_flush_until;
	uint64_t pause_after_ns; /* a timer overdue by more than this is a pause (§16.1) */
	/* ... and in OPERATIONAL the next token visit sequences nothing new:
	 * the token may have waited in the queue of the pause, in a ring the
	 * others have left; its coming back shows the ring is still there. */
	bool probe_ring;

	uint64_t mut_late_at;    /* RP_MUTATION_LATE_COMMIT: the delayed commit token's time */
	bool mut_late_fired;     /* ... and its timer has fired */

	/* Why the node left its last installed ring, for the logs (§8.7). */
	bool cause_noted;               /* cause is set: the node has left that ring */
	uint8_t cause, cause_next;      /* enum rp_change_cause */
	uint16_t cause_node, cause_next_node;
	uint64_t leavers;               /* nodes that announced their leave since */

	uint32_t mutation_count; /* deliveries seen, to place a mutation */
	bool mutation_done;

	struct rp_stats stats;
};

/* rp_node.c */
bool rp_actions_room(const struct rp_actions *out, uint32_t n);
/* Room for one more delivery, leaving a whole visit's sends and the
 * timers' frames free behind it (deliveries are the only unbounded kind). */
bool rp_delivery_room(const struct rp_node *n, const struct rp_actions *out);
struct rp_action *rp_action_push(struct rp_actions *out, enum rp_action_kind kind);
/* Hands a frame of this node's memory to the caller: stamps the sender's
 * path state and range, picks the paths (§9.2). _every: every path, marks
 * or not (token retransmissions); _on: exactly these paths. */
void rp_emit_send(struct rp_node *n, struct rp_actions *out, const uint8_t *data,
		  uint32_t size, uint16_t dest);
void rp_emit_send_every(struct rp_node *n, struct rp_actions *out, const uint8_t *data,
			uint32_t size, uint16_t dest);
void rp_emit_send_on(struct rp_node *n, struct rp_actions *out, uint8_t *data, uint32_t size,
		     uint16_t dest, uint8_t mask);
void rp_emit_config(struct rp_node *n, struct rp_actions *out, enum rp_config_kind kind,
		    struct rp_ring_id ring, struct rp_ring_id old_ring, uint16_t count,
		    const uint16_t *members);
void rp_hdr_init(const struct rp_node *n, struct rp_wire_hdr *h, struct rp_ring_id ring);
void rp_set_members(struct rp_node *n, uint64_t set);

/* rp_srp.c */
void rp_store_reset(struct rp_node *n, struct rp_store *st);
struct rp_slot *rp_store_slot(const struct rp_node *n, const struct rp_store *st, uint64_t seq);
uint8_t *rp_store_frame(const struct rp_node *n, const struct rp_store *st, uint64_t seq);
bool rp_store_holds(const struct rp_node *n, const struct rp_store *st, uint64_t seq);
void rp_store_clear(struct rp_node *n, struct rp_store *st);
bool rp_store_put(struct rp_node *n, struct rp_store *st, uint64_t seq, const uint8_t *frame,
		  uint32_t size, void *lend);
void rp_srp_token_clear(struct rp_node *n);
void rp_srp_ring_reset(struct rp_node *n);
void rp_srp_on_data(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf, void *lend,
		    struct rp_actions *out);
void rp_srp_on_token(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf,
		     uint64_t now_ns, struct rp_actions *out);
void rp_srp_visit(struct rp_node *n, uint64_t now_ns, struct rp_actions *out);
bool rp_srp_may_send(const struct rp_node *n, uint64_t seq);
void rp_srp_sent(struct rp_node *n, uint64_t seq, uint32_t size, struct rp_actions *out);
bool rp_srp_local_work(const struct rp_node *n);
/* Token hold (docs/protocol.md §12): forward a held token now; react to a
 * message accepted by submit; a HOLD_CANCEL of the current ring arrived. */
void rp_srp_release_hold(struct rp_node *n, uint64_t now_ns, struct rp_actions *out);
void rp_srp_on_submit(struct rp_node *n, uint64_t now_ns, struct rp_actions *out);
void rp_srp_on_hold_cancel(struct rp_node *n, uint64_t now_ns, struct rp_actions *out);
void rp_srp_deliver(struct rp_node *n, struct rp_actions *out);
void rp_srp_discard(struct rp_node *n);
void rp_srp_invariants(const struct rp_node *n);
/* Delivers the entries of one stored frame from the store's cursor; returns
 * false if it stopped early (SAFE not yet stable, or no action room). */
bool rp_deliver_frame(struct rp_node *n, struct rp_store *st, uint64_t seq, struct rp_ring_id ring,
		      uint64_t safe, bool skip, struct rp_actions *out);

/* rp_pack.c */
int rp_pack_submit(struct rp_node *n, const struct rp_input *in);
bool rp_pack_has_work(const struct rp_node *n);
uint32_t rp_pack_frame(struct rp_node *n, uint8_t *buf, uint64_t seq, struct rp_actions *out);
uint32_t rp_pack_backlog(const struct rp_node *n);
void rp_pack_restart_partial(struct rp_node *n);

/* rp_memb.c */
void rp_memb_start(struct rp_node *n, uint64_t now_ns, struct rp_actions *out);
void rp_memb_gather(struct rp_node *n, uint64_t now_ns, struct rp_actions *out);
void rp_memb_on_join(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf,
		     uint64_t now_ns, struct rp_actions *out);
void rp_memb_on_commit(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf,
		       uint64_t now_ns, struct rp_actions *out);
/* A frame of a ring this node is not in (counted here): gather, unless
 * its representative was refused for its parameters (§8.8). */
void rp_memb_on_foreign(struct rp_node *n, const struct rp_wire_hdr *h, uint64_t now_ns, struct rp_actions *out);
void rp_memb_leave(struct rp_node *n, struct rp_actions *out);
void rp_memb_timers(struct rp_node *n, uint64_t now_ns, struct rp_actions *out);
void rp_memb_resumed(struct rp_node *n, uint64_t now_ns, struct rp_actions *out);
void rp_memb_restarted(struct rp_node *n, uint16_t id, uint64_t now_ns);
/* The token's aru stuck at id (TOCS §6.2.2): id barred, a gather. */
void rp_memb_fail_to_recv(struct rp_node *n, uint16_t id, uint64_t now_ns, struct rp_actions *out);
bool rp_memb_in_history(const struct rp_node *n, struct rp_ring_id ring);

/* rp_rrp.c */
void rp_rrp_init(struct rp_node *n);
uint8_t rp_rrp_send_mask(struct rp_node *n, const uint8_t *frame);
void rp_rrp_on_rx(struct rp_node *n, const struct rp_wire_hdr *h, uint8_t path, uint64_t now_ns,
		  struct rp_actions *out);
void rp_rrp_on_probe(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf,
		     uint8_t path, uint64_t now_ns);
void rp_rrp_on_token(struct rp_node *n, uint64_t now_ns, struct rp_actions *out);
void rp_rrp_stamp_token(struct rp_node *n);
/* The token this node forwarded was not seen again in time (§9.3). */
void rp_rrp_token_lost(struct rp_node *n, uint64_t now_ns, struct rp_actions *out);
void rp_rrp_timers(struct rp_node *n, uint64_t now_ns, struct rp_actions *out);
void rp_rrp_link(struct rp_node *n, uint8_t path, bool up, uint64_t now_ns, struct rp_actions *out);
void rp_rrp_reinstate(struct rp_node *n, uint8_t path, uint64_t now_ns, struct rp_actions *out);
uint64_t rp_rrp_deadline(const struct rp_node *n);
uint8_t rp_rrp_all_paths(const struct rp_node *n);

/* rp_relay.c: partial topologies, and full ones that faults made partial
 * (docs/protocol.md §17.4, §9.8) */
void rp_relay_init(struct rp_node *n);
/* Whether relaying may be needed with this configuration (§9.8). */
bool rp_relay_configured(const struct rp_config *c);
/* The networks node id works on, as far as this node knows (§9.8). */
uint8_t rp_relay_reach(const struct rp_node *n, uint16_t id);
/* Recomputes n->dyn after a change of the known faults (§9.8). */
void rp_relay_refresh(struct rp_node *n);
/* Whether the token names the requesters of each rtr seq (§17.4, §9.8). */
bool rp_relay_rtr_from(const struct rp_node *n);
/* The rtr requests a token may carry: rtr_max, fewer if the token with its
 * requesters would not fit frame_size_max relayed (§9.8). */
uint32_t rp_relay_rtr_cap(const struct rp_node *n);
/* A frame about to be sent to dest on mask: floods it, or sends it only on
 * the paths shared with dest; retrans: a timer's retransmission. */
void rp_relay_route(struct rp_node *n, uint8_t *data, uint16_t *dest, uint8_t *mask, bool retrans);
/* A frame from h->sender arrived on path, directly (relay mode ends if
 * it is the successor's) or relayed (its marks, §9.8). */
void rp_relay_rx(struct rp_node *n, const struct rp_wire_hdr *h, uint8_t path, bool relayed);
/* Forwards a flooded frame once (buf: its bytes, h: its header). */
void rp_relay_forward(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf, uint64_t now_ns,
		      struct rp_actions *out);
/* A data frame of the current ring stored for the first time (§17.4). */
void rp_relay_data(struct rp_node *n, const struct rp_wire_hdr *h, uint16_t origin, uint64_t seq,
		   struct rp_actions *out);
/* The token to token_buf_dest had to be retransmitted: relay mode. */
void rp_relay_token_lost(struct rp_node *n);

/* rp_quorum.c: quorum and protocol versions */
bool rp_version_overlap(uint8_t amin, uint8_t amax, uint8_t bmin, uint8_t bmax);
/* Refuses (true) a frame from a node that shares no version with this node,
 * or, in OPERATIONAL, a non-member that shares none with the ring. */
bool rp_version_refuse(struct rp_node *n, const struct rp_wire_hdr *h, uint64_t now_ns,
		       struct rp_actions *out);
/* Rotation 2: the forming ring's version and quorum flag, from the token. */
void rp_quorum_compute(struct rp_node *n, struct rp_actions *out);
void rp_quorum_install(struct rp_node *n);
/* The start ring's flag (a ring of one, computed alone), and its id persisted. */
void rp_quorum_start(struct rp_node *n, struct rp_actions *out);
/* RP_ACT_PERSIST of the ring seq and the last primary attempt. */
void rp_persist(struct rp_node *n, uint64_t ring_seq, struct rp_actions *out);
/* Gather: fail every node of set whose range is known disjoint from mine,
 * or whose current incarnation was refused for its ring parameters. */
uint64_t rp_version_disjoint(const struct rp_node *n, uint64_t set);
/* docs/protocol.md §8.8. A frame from a refused incarnation, or a JOIN or
 * MERGE_DETECT whose ring parameters differ from mine: dropped (true). */
bool rp_params_refuse(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf, uint64_t now_ns,
		      struct rp_actions *out);
/* A frame with my id: mine looped back (bad-sender), or, with another
 * incarnation, Rule D's duplicate (duplicate-id, reported once) — with
 * listen_fresh, while listening only the answer echoing my incarnation and
 * once running no older incarnation's, any other unhandled; the caller
 * counts the drop. */
/* §8.8 Rule D (0) without a frame: this node's address is in use. */
void rp_dup_address(struct rp_node *n, struct rp_actions *out);
/* Rule D (0): listening at start, ask whether a process with this id runs
 * (one ID_PROBE on every path; the node with the id answers). */
void rp_dup_probe(struct rp_node *n, struct rp_actions *out);
enum rp_drop rp_dup_self(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf,
			 struct rp_actions *out);
/* Rule D (0) at a receiver: another node's DUP_NOTICE, reported once per
 * incarnation; nothing learnt. Returns the drop (duplicate-id) to count;
 * another node's ID_PROBE: unhandled, nothing else. */
enum rp_drop rp_dup_notice(struct rp_node *n, const struct rp_wire_hdr *h, const uint8_t *buf,
			   struct rp_actions *out);
/* Rule D (2): a newer incarnation of a sender whose current one is still
 * heard is held back, and reported once both are seen alive (true:
 * dropped). h->incarnation is at least the known one. */
bool rp_incarnation_hold(struct rp_node *n, const struct rp_wire_hdr *h, uint64_t now_ns,
			 struct rp_actions *out);
bool rp_stale_member_frame(const struct rp_node *n, const struct rp_wire_hdr *h);

/* rp_recovery.c */
void rp_recovery_enter(struct rp_node *n, uint64_t now_ns);
/* An obligation set (node ids) as commit-entry bits over my old ring's
 * members, and back. */
uint64_t rp_obligation_encode(const struct rp_node *n, uint64_t set);
uint64_t rp_obligation_decode(const struct rp_node *n, uint64_t bits);
uint32_t rp_recovery_send(struct rp_node *n, uint32_t budget, struct rp_actions *out);
void rp_recovery_file(struct rp_node *n, const struct rp_wire_data *d);
void rp_recovery_token(struct rp_node *n);
void rp_recovery_install(struct rp_node *n, uint64_t now_ns);
bool rp_install_deliver(struct rp_node *n, struct rp_actions *out);

/* The version this node's frames carry: in RECOVERY the new ring's (known
 * since rotation 2), so the first member to install accepts the others'
 * tokens and frames. */
static inline uint8_t rp_send_proto(const struct rp_node *n)
{
	return n->state == RP_STATE_RECOVERY ? n->new_proto : n->ring_proto;
}

/* Names the event that sends the node to GATHER next (§8.7, logs only). */
static inline void rp_cause(struct rp_node *n, enum rp_change_cause c, uint16_t node)
{
	n->cause_next = (uint8_t)c;
	n->cause_next_node = node;
}

static inline bool rp_ring_eq(struct rp_ring_id a, struct rp_ring_id b)
{
	return a.rep == b.rep && a.seq == b.seq;
}

#endif
