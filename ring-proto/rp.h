/* rp.h — the ring-proto state machine: Totem single-ring ordering as a pure,
 * deterministic function (state, input, now) -> actions.
 *
 * Owns: the contract between ring-proto and whoever drives it (the engine's
 * worker, the simulator, the benchmarks). Nothing here does I/O, reads a
 * clock, allocates, or keeps global state: the caller provides the node's
 * memory (rp_node_size() bytes, 64-byte aligned), every input, the current
 * time, and an actions buffer; it performs the actions.
 *
 * Thread context: a node is owned by one thread at a time; calls on one node
 * must not overlap. Different nodes share nothing.
 *
 * Lifetime of action data: pointers inside actions (frames to send, delivered
 * bytes, member lists) point into the node's memory and stay valid until the
 * next rp_step() on that node. A submitted message's bytes are referenced,
 * not copied, until RP_ACT_SUBMIT_DONE returns them to the caller.
 */
#ifndef RP_H
#define RP_H

#include <stddef.h>
#include <stdint.h>

#include "rp_seq.h"
#include "rp_wire.h"

/* Deliberate protocol bugs, for testing the simulator's checker (never set in
 * production; the engine's configuration parser cannot reach this field). */
enum rp_mutation {
	RP_MUTATION_NONE = 0,
	RP_MUTATION_DROP_DELIVERY,   /* skip one whole-message delivery */
	RP_MUTATION_SWAP_DELIVERIES, /* swap two adjacent whole-message deliveries */
	RP_MUTATION_EARLY_SAFE,      /* deliver SAFE as soon as held locally */
	RP_MUTATION_SKIP_TRANSITIONAL, /* install the regular configuration without the transitional one */
	RP_MUTATION_ALWAYS_PRIMARY,    /* mark every regular configuration primary */
	RP_MUTATION_SINGLE_PATH,       /* send everything on path 0 only, whatever RRP says */
	RP_MUTATION_SPLIT_ON_CHANGE,   /* fail my successor whenever I leave an operational ring */
	RP_MUTATION_LATE_COMMIT,       /* as representative, build the commit token long after consensus */
	RP_MUTATION_NO_RELAY,          /* partial topology, or full made partial (§9.8): never flood a token nor relay a data frame */
	RP_MUTATION_TRANS_OLD,         /* at install, deliver every old-ring message in the transitional configuration */
	RP_MUTATION_TRANS_ALL,         /* the transitional configuration lists every member of the old ring */
	RP_MUTATION_DUP_AFTER_MERGE,   /* after a merge, deliver the last old-ring frame's entries again */
	RP_MUTATION_STALE_DATA,        /* take a data frame of an earlier ring of mine as current */
	RP_MUTATION_SKIP_RTR,          /* drop the retransmission requests it should answer, unanswered */
};

/* Redundant ring modes (docs/protocol.md §9). */
enum rp_rrp_mode {
	RP_RRP_ACTIVE = 0,  /* every frame on every in-use path; first copy wins */
	RP_RRP_PASSIVE = 1, /* frames and tokens round robin over the in-use paths */
};

/* Quorum policies (docs/protocol.md §10). */
enum rp_quorum {
	RP_QUORUM_MAJORITY = 0,          /* more than half the configured nodes */
	RP_QUORUM_TWO_NODE,              /* two configured nodes; either alone once both were seen */
	RP_QUORUM_LAST_MAN_STANDING,     /* dynamic linear voting with a tie breaker */
};

/* Protocol versions this build of ring-proto implements (docs/protocol.md
 * §11); the configured range may name others only for negotiation tests. */
#define RP_PROTO_VERSION_IMPLEMENTED 1u

struct rp_config {
	uint16_t node_id;        /* 1..RP_NODES_MAX */
	uint64_t incarnation;    /* grows at every start of this node */
	uint16_t member_count;   /* every configured node: sorted, unique ids */
	uint16_t members[RP_NODES_MAX];
	uint8_t path_count;      /* 1..RP_PATHS_MAX */
	uint64_t path_nodes[RP_PATHS_MAX]; /* the configured nodes on network k (bit id-1); 0: every
					    * one. Otherwise a partial topology (docs/protocol.md §17) */
	uint32_t frame_size_max; /* bytes per frame, header included (MTU - L2) */
	uint32_t message_size_max;  /* largest message accepted by submit */
	uint32_t window_size;       /* frames per token rotation, all nodes (TOCS §8) */
	uint32_t max_messages;      /* frames one node may send per token visit */
	uint32_t store_slots;       /* frames kept for retransmission; power of two */
	uint32_t submit_queue_max;  /* messages waiting per priority */
	uint16_t rtr_max;           /* retransmission requests carried by the token */
	uint64_t initial_seq;       /* first ring's seq and token_seq start here */
	uint64_t ring_seq;          /* highest ring seq recorded before this start */
	uint64_t token_retransmit_ns; /* resend the token if not seen again */
	uint64_t token_loss_ns;       /* no token for this long: the ring is lost (gather) */
	uint64_t join_ns;             /* rebroadcast the Join this often while gathering */
	uint64_t consensus_ns;        /* give up waiting for agreement on the sets */
	uint64_t merge_ns;            /* the representative announces its ring this often */
	uint64_t listen_ns;           /* at start, listen this long before sending anything: a frame
				       * with this node's id then is a process running with it
				       * already (0: do not; docs/protocol.md §8.8, Rule D) */
	int listen_fresh;             /* while listening, only the answer to this node's ID_PROBE,
				       * echoing its incarnation, says the id runs (a keyed ring:
				       * a replayed frame must not; §8.8 Rule D (0)) */
	uint64_t token_hold_ns;       /* hold a quiet ring's token this long at its last sender
				       * (0: never; < token_retransmit_ns / 2; docs/protocol.md §12) */
	uint32_t fail_recv_const;     /* visits with the aru stuck before its owner is failed */
	uint32_t accelerated_window;  /* Accelerated Ring: frames of a visit sent after the token
				       * (0: off; at most max_messages; docs/protocol.md §13) */
	/* redundant ring (§9) */
	enum rp_rrp_mode rrp_mode;
	uint64_t rrp_timeout_ns;      /* a copy missing this long, peer heard elsewhere: a problem */
	uint32_t rrp_threshold;       /* problems that mark a path faulty */
	uint64_t rrp_decay_ns;        /* one problem of a working path forgotten this often */
	uint64_t rrp_probe_ns;        /* probe paths out of use this often */
	/* quorum (§10) */
	enum rp_quorum quorum;
	int quorum_publish;           /* refuse submits outside a primary configuration */
	struct rp_ring_id last_primary;   /* persisted: the newest primary ring attempted */
	uint64_t last_primary_members;    /* its members (bit id-1); 0: none recorded */
	struct rp_ring_id installed_primary; /* persisted: the newest primary ring installed */
	uint64_t installed_primary_members;  /* its members; 0: none recorded */
	/* protocol versions (§11): this node speaks [proto_min, proto_max] */
	uint8_t proto_min, proto_max;
	enum rp_mutation mutation;
};

/* Fills c with defaults for node_id (paths 1, one member: the caller lists
 * the nodes). Default frame 8960 B, max message 1 MiB, window 256, 64 frames
 * per visit, store 1024 frames, rtr 128; token retransmit 50 ms, token loss
 * 1 s, join 50 ms, consensus 1.2 s, merge 200 ms, fail-to-receive 2500
 * visits (corosync's proportions; the engine picks its own), no token
 * hold; RRP active,
 * copy timeout 10 ms, threshold 3, decay 1 s, probe 100 ms; quorum
 * majority; protocol versions [1, RP_PROTO_VERSION_IMPLEMENTED]. */
void rp_config_default(struct rp_config *c, uint16_t node_id);
/* Sets only the timeouts of c to those defaults (token retransmit and loss,
 * join, consensus, merge, fail-to-receive, RRP copy timeout, decay and
 * probe; the token hold is not a timeout): what rp_config_default uses, and
 * a driver that keeps its other settings (the simulator's
 * --default-timeouts). */
void rp_config_default_timeouts(struct rp_config *c);

/* The ring parameters every member must share (docs/protocol.md §8.8), as
 * bits of rp_refusal.keys. */
enum rp_param {
	RP_PARAM_NODES = 0,
	RP_PARAM_FRAME_SIZE_MAX,
	RP_PARAM_WINDOW_SIZE,
	RP_PARAM_TOKEN_RETRANSMIT,
	RP_PARAM_TOKEN_LOSS,
	RP_PARAM_JOIN,
	RP_PARAM_CONSENSUS,
	RP_PARAM_QUORUM,
	RP_PARAM_RRP_MODE,
	RP_PARAM_PATH_COUNT,
	RP_PARAM_COUNT
};

/* The ring parameters of c (docs/protocol.md §8.8); the keys (bits of enum
 * rp_param) in which a and b differ; a parameter's value as a number. */
void rp_params_of(const struct rp_config *c, struct rp_wire_params *p);
uint32_t rp_params_diff(const struct rp_wire_params *a, const struct rp_wire_params *b);
uint64_t rp_param_value(const struct rp_wire_params *p, enum rp_param k);
const char *rp_param_name(enum rp_param k);

/* Checks a configuration; on error returns -1 and sets *why to a sentence
 * naming the field and the rule it broke. */
int rp_config_check(const struct rp_config *c, const char **why);

/* ---- topology (docs/protocol.md §17, ring-proto/rp_topo.c) ---- */

/* Extensions the ring-order search may make before it gives up (§17.3). */
#define RP_TOPO_SEARCH_MAX 20000u

/* The networks node id is on (bit k: network k). */
uint8_t rp_topo_paths_of(const struct rp_config *c, uint16_t id);
/* 1 if some network misses some configured node. */
int rp_topo_partial(const struct rp_config *c);
/* 0 if the configured graph (two nodes joined when they share a network)
 * joins every configured node; else the nodes joined to the lowest
 * configured id (one side of the cut). */
uint64_t rp_topo_cut(const struct rp_config *c);
/* The ring order of the node set `set` (bit id-1, configured nodes only):
 * the lowest valid order of §17.3, or ascending ids if none was found
 * within RP_TOPO_SEARCH_MAX extensions. Writes popcount(set) ids to order
 * and returns 1 if the order is valid, 0 if it fell back. */
int rp_topo_order(const struct rp_config *c, uint64_t set, uint16_t *order);

/* ---- inputs ---- */

enum rp_input_kind {
	RP_IN_TICK = 1, /* time passed: fire due timers, resume pending work */
	RP_IN_FRAME,    /* a frame arrived on a path */
	RP_IN_SUBMIT,   /* the application publishes a message */
	RP_IN_LEAVE,    /* leave the ring politely; the node then stops */
	RP_IN_LINK,     /* the NIC reports a path's link down or up (§9.3) */
	RP_IN_REINSTATE, /* the operator says a path is repaired: clear this node's mark now (§9.4) */
	RP_IN_ADDRESS_IN_USE, /* listening at start, the transport found this node's address held by
			       * another host (§8.8 Rule D (0)): as if its id had been heard, the
			       * running incarnation unknown (0); ignored once started */
};

struct rp_input {
	enum rp_input_kind kind;
	union {
		struct {
			const uint8_t *data;
			size_t size;
			uint8_t path;
			void *lend;       /* non-NULL: the node may keep data (see RP_KEPT) */
		} frame;
		struct {
			const void *data; /* referenced until RP_ACT_SUBMIT_DONE */
			uint32_t size;
			uint32_t client_id;
			uint8_t service;  /* enum rp_service */
			uint8_t priority; /* 0 = highest .. RP_PRIO_COUNT-1 */
			uint64_t cookie;  /* returned in RP_ACT_SUBMIT_DONE */
		} submit;
		struct {
			uint8_t path;
			uint8_t up;       /* 0: link down, 1: link up; RP_IN_REINSTATE: unused */
		} link;           /* RP_IN_LINK, RP_IN_REINSTATE */
	};
};

/* The RP_IN_SUBMIT input for one message (the one place its fields are
 * filled): data stays referenced until RP_ACT_SUBMIT_DONE brings the
 * cookie back. Any thread; reads and writes nothing else. */
static inline struct rp_input rp_input_submit(const void *data, uint32_t size, uint32_t client_id,
					      uint8_t service, uint8_t priority, uint64_t cookie)
{
	struct rp_input in = {.kind = RP_IN_SUBMIT,
			      .submit = {.data = data, .size = size, .client_id = client_id, .service = service,
					 .priority = priority, .cookie = cookie}};
	return in;
}

/* rp_step() return values for RP_IN_SUBMIT (0 for every other input). */
#define RP_OK 0
#define RP_EAGAIN 1   /* the priority's queue is full: retry later */
#define RP_E2BIG 2    /* larger than message_size_max */
#define RP_EINVAL 3   /* bad service or priority */
#define RP_ELEFT 4    /* the node has left */
#define RP_ENOQUORUM 5 /* quorum_publish is set and the configuration is not primary */
/* rp_step() return value for RP_IN_FRAME with a lend handle: the node keeps
 * the frame's bytes instead of copying them (docs/protocol.md §14). They
 * are then the node's, writable, until rp_take_returned() hands the handle
 * back; the caller must neither free nor change them before. */
#define RP_KEPT 6

/* ---- actions ---- */

enum rp_action_kind {
	RP_ACT_SEND = 1,    /* transmit a frame */
	RP_ACT_DELIVER,     /* hand one message (or one fragment) to the application */
	RP_ACT_CONFIG,      /* install a configuration */
	RP_ACT_SUBMIT_DONE, /* a submitted message's bytes are no longer referenced */
	RP_ACT_PERSIST,     /* record in stable storage before performing the actions after it:
			     * ring seq (rp_config.ring_seq at restart) and last primary */
	RP_ACT_PATH,        /* a path changed state at this node (§9) */
	RP_ACT_REFUSED,     /* a node was refused: no protocol version in common (§11), other
			     * ring parameters, or a second process with its id (§8.8) */
};

#define RP_DEST_ALL 0

struct rp_send {
	const uint8_t *data;
	uint32_t size;
	uint16_t dest;      /* node id, or RP_DEST_ALL for a multicast */
	uint8_t path_mask;  /* send a copy on each path set here */
};

/* One entry of a data frame. A message of one entry has both FIRST and LAST;
 * a fragmented one arrives as consecutive fragments of its stream
 * (origin, client_id, priority), possibly interleaved with other streams.
 * Its position in the total order is (seq, entry_index) of its LAST fragment. */
struct rp_delivery {
	struct rp_ring_id ring;
	uint64_t seq;
	uint16_t entry_index;
	uint16_t origin;
	uint32_t client_id;
	uint8_t service;
	uint8_t priority;
	uint8_t flags; /* RP_ENTRY_F_FIRST, RP_ENTRY_F_LAST */
	uint32_t msg_size;
	uint32_t frag_offset;
	uint32_t chunk_size;
	const uint8_t *data;
};

enum rp_config_kind { RP_CONFIG_REGULAR = 1, RP_CONFIG_TRANSITIONAL };

/* What made this node leave its previous ring (docs/protocol.md §8.7): the
 * event that first sent it to GATHER after its last installed ring. For the
 * logs only; the protocol never reads it. */
enum rp_change_cause {
	RP_CAUSE_START = 0,   /* the node's start ring */
	RP_CAUSE_TOKEN_LOSS,  /* no token for token_loss_ns: a member crashed or is cut off */
	RP_CAUSE_JOIN,        /* a Join from cause_node: it (re)joins, or saw a change first */
	RP_CAUSE_LEAVE,       /* cause_node announced its leave */
	RP_CAUSE_FOREIGN,     /* frames of another ring from cause_node: a partition heals, a node starts */
	RP_CAUSE_RESTART,     /* cause_node came back with a new incarnation */
	RP_CAUSE_FAIL_RECV,   /* cause_node kept the aru stuck: failed to receive */
	RP_CAUSE_OTHER,
};

struct rp_configuration {
	enum rp_config_kind kind;
	struct rp_ring_id ring;     /* the new ring's id */
	struct rp_ring_id old_ring; /* transitional: the ring left */
	uint16_t member_count;
	const uint16_t *members;
	uint8_t primary;            /* regular: quorum policy holds (§10); transitional: 0 */
	uint8_t proto_version;      /* the protocol version the ring runs (§11) */
	/* regular only, for the logs (§8.7): why the node left its previous
	 * ring, the node that caused it (0: none), and the nodes that
	 * announced their leave since then */
	uint8_t cause;              /* enum rp_change_cause */
	uint16_t cause_node;
	uint64_t left_politely;     /* bit id-1 */
};

enum rp_path_state {
	RP_PATH_OK = 0,       /* in use */
	RP_PATH_FAULTY,       /* this node's monitor marked it */
	RP_PATH_EXCLUDED,     /* out of use because a member marked it */
};

struct rp_path_event {
	uint8_t path;
	uint8_t state;        /* enum rp_path_state */
	uint8_t in_use;       /* paths this node sends on now */
	uint8_t faulty;       /* paths this node's monitor marked */
};

enum rp_refusal_kind {
	RP_REFUSE_VERSION = 0,  /* their_min..their_max shares nothing with our_min..our_max */
	RP_REFUSE_PARAMS,       /* keys: the parameters that differ; theirs: the node's values */
	RP_REFUSE_DUPLICATE_ID, /* incarnation runs with node's id while kept_incarnation (this
				 * node itself, if node is this node's id) is alive */
};

struct rp_refusal {
	uint8_t kind;                 /* enum rp_refusal_kind */
	uint16_t node;
	uint64_t incarnation;
	uint8_t their_min, their_max; /* the refused node's range */
	uint8_t our_min, our_max;     /* this node's range, or its ring's */
	uint32_t keys;                /* RP_REFUSE_PARAMS: bit per enum rp_param */
	const struct rp_wire_params *theirs; /* RP_REFUSE_PARAMS: in the node's memory */
	uint64_t kept_incarnation;    /* RP_REFUSE_DUPLICATE_ID */
	uint8_t newcomer;             /* RP_REFUSE_DUPLICATE_ID of this node's own id, heard while it
				       * listened at start: the other process was there first; this
				       * one has sent nothing but a DUP_NOTICE and should not start */
	uint8_t announced;            /* RP_REFUSE_DUPLICATE_ID from node's DUP_NOTICE: incarnation
				       * heard kept_incarnation run with its id and does not start */
};

struct rp_persist {
	uint64_t ring_seq;
	struct rp_ring_id last_primary;   /* attempted */
	uint64_t last_primary_members;
	struct rp_ring_id installed_primary;
	uint64_t installed_primary_members;
};

struct rp_action {
	enum rp_action_kind kind;
	union {
		struct rp_send send;
		struct rp_delivery deliver;
		struct rp_configuration config;
		uint64_t submit_cookie;
		struct rp_persist persist;
		struct rp_path_event path;
		struct rp_refusal refused;
	};
};

/* Caller-owned; rp_step() empties it first. capacity must be at least
 * rp_actions_min(cfg), with which a visit may send as little as one frame of
 * small messages; give it rp_actions_min(cfg) + max_messages * (entries per
 * frame) for full visits. More room also lets one step deliver more. When deliveries
 * do not fit, the node keeps them and rp_next_deadline_ns() returns `now`. */
struct rp_actions {
	struct rp_action *v;
	uint32_t count;
	uint32_t capacity;
};

uint32_t rp_actions_min(const struct rp_config *c);

/* ---- the node ---- */

struct rp_node;

/* Bytes the caller must provide for one node; 0 if the config is invalid. */
size_t rp_node_size(const struct rp_config *c);

/* Initialises a node in mem (rp_node_size(c) bytes, 64-byte aligned). The
 * node forms the configured ring at its first step. Returns 0, or -1 if the
 * config fails rp_config_check(). */
int rp_node_init(struct rp_node *n, const struct rp_config *c);

/* The only mutator. Returns RP_OK, or an RP_E* code for a refused submit. */
int rp_step(struct rp_node *n, const struct rp_input *in, uint64_t now_ns,
	    struct rp_actions *out);

/* Lent frames (docs/protocol.md §14). After performing each step's actions,
 * the caller takes back the handles of kept frames the node no longer
 * references: up to max are written to lends, the count is returned. */
size_t rp_take_returned(struct rp_node *n, void **lends, size_t max);
/* Before the node's memory is dropped or initialised again: every handle
 * it still keeps becomes returned (take them with rp_take_returned). The
 * node must not be stepped afterwards. */
void rp_return_all(struct rp_node *n);
/* Handles kept now, and handed back but not yet taken. */
uint32_t rp_node_lent(const struct rp_node *n);

/* The node starts alone in its start ring (id (node_id, ring_seq + 1),
 * delivered as a regular configuration at the first step) and gathers the
 * others (docs/protocol.md §8). */

/* The time at which the node next needs a RP_IN_TICK (UINT64_MAX: none). */
uint64_t rp_next_deadline_ns(const struct rp_node *n);

/* Aborts if an internal invariant does not hold (debug and simulator). */
void rp_check_invariants(const struct rp_node *n);

/* Called when one of ring-proto's always-on assertions fails, with its
 * file, line and condition; must not return. ring-proto's own definition is
 * weak and traps (libc-only code can say no more; a core dump holds the
 * arguments). A driver may define its own to report them first: the engine
 * logs them and aborts. Any thread (the one that ran rp_step). */
void rp_assert_failed(const char *file, unsigned line, const char *cond) __attribute__((noreturn, cold));

/* ---- read-only inspection (statistics, simulator's checker) ---- */

/* Every counter of struct rp_stats, once: _(field, scope, kind, help).
 * scope NODE: one count, which telemetry calls field; PATH: one per path
 * (field[RP_PATHS_MAX]), which telemetry calls field without its "path_".
 * Telemetry, the docs and the operator tool iterate rp_stats_desc[] (the
 * NODE counters) and rp_path_stats_desc[] (the PATH ones) built from it. */
#define foreach_rp_counter(_)                                                                      \
	_(frames_sent, NODE, RP_COUNTER_EVENT, "new data frames originated")                                \
	_(recovery_frames_sent, NODE, RP_COUNTER_EVENT, "frames re-sent to a new ring during recovery")     \
	_(frames_retransmitted, NODE, RP_COUNTER_HARMLESS, "data frames sent again for a retransmission request") \
	_(tokens_received, NODE, RP_COUNTER_EVENT, "accepted tokens")                                       \
	_(tokens_retransmitted, NODE, RP_COUNTER_HARMLESS, "tokens sent again after the token retransmit timeout") \
	_(messages_submitted, NODE, RP_COUNTER_EVENT, "messages taken for ordering")                        \
	_(messages_delivered, NODE, RP_COUNTER_EVENT, "messages (last fragments) delivered")                \
	_(rtr_requested, NODE, RP_COUNTER_HARMLESS, "sequence numbers this node asked to be retransmitted") \
	_(gathers, NODE, RP_COUNTER_HARMFUL, "entries into gather (a membership change began)")             \
	_(token_losses, NODE, RP_COUNTER_HARMFUL, "token loss timeouts")                                    \
	_(rings_installed, NODE, RP_COUNTER_EVENT, "regular configurations installed")                      \
	_(probes_sent, NODE, RP_COUNTER_EVENT, "probes on paths out of use")                                \
	_(refusals, NODE, RP_COUNTER_HARMFUL, "submits refused (no quorum, or too large)")                  \
	_(tokens_held, NODE, RP_COUNTER_EVENT, "visits that ended in a token hold (docs/protocol.md §12)")  \
	_(hold_cancels_sent, NODE, RP_COUNTER_EVENT, "HOLD_CANCELs sent to release a held token")           \
	_(hold_cancels_received, NODE, RP_COUNTER_EVENT, "HOLD_CANCELs that released a held token")         \
	_(frames_after_token, NODE, RP_COUNTER_EVENT, "frames sent behind the visit's token (Accelerated Ring, §13)") \
	_(frames_kept, NODE, RP_COUNTER_EVENT, "received frames stored in the driver's buffer without a copy (§14)") \
	_(pauses, NODE, RP_COUNTER_HARMFUL, "steps that found a timer overdue by more than half the token-loss timeout (or half of consensus less token hold, if shorter): the node was paused (§16.1)") \
	_(pause_probes, NODE, RP_COUNTER_EVENT, "token visits after a pause that sent no new message, the ring not yet shown to be still there (§16.1)") \
	_(frames_relayed, NODE, RP_COUNTER_EVENT, "data frames sent again as designated relay, and flooded frames forwarded (partial topology, §17.4)") \
	_(tokens_flooded, NODE, RP_COUNTER_HARMLESS, "tokens and commit tokens flooded because their destination was out of direct reach (§17.4)") \
	_(path_problems, PATH, RP_COUNTER_HARMFUL, "copies found missing on this path (§9.3)")              \
	_(path_faults, PATH, RP_COUNTER_HARMFUL, "times this path was marked faulty")                       \
	_(path_reinstated, PATH, RP_COUNTER_EVENT, "times this path was put back in use")                   \
	_(path_accepted, PATH, RP_COUNTER_EVENT, "frames ring-proto took from this path (every copy)")      \
	_(path_peer_faults, PATH, RP_COUNTER_HARMFUL, "times a peer was marked out of reach on this path (active mode, §9.7)")

/* RP_IF_SCOPE(want, scope, x...): x where scope is want, nothing otherwise. */
#define RP_SCOPE_NODE_NODE(...) __VA_ARGS__
#define RP_SCOPE_NODE_PATH(...)
#define RP_SCOPE_PATH_NODE(...)
#define RP_SCOPE_PATH_PATH(...) __VA_ARGS__
#define RP_IF_SCOPE(want, scope, ...) RP_SCOPE_##want##_##scope(__VA_ARGS__)
/* A counter's telemetry name, from its field (above). */
#define RP_COUNTER_NAME(f, scope) (&(#f)[0 RP_IF_SCOPE(PATH, scope, + sizeof("path_") - 1)])

struct rp_stats {
	uint64_t drops[RP_DROP_COUNT];
#define RP_STATS_FIELD_(f, scope, kind, help) uint64_t f RP_IF_SCOPE(PATH, scope, [RP_PATHS_MAX]);
	foreach_rp_counter(RP_STATS_FIELD_)
#undef RP_STATS_FIELD_
};

#define RP_COUNT_NODE_(f, scope, kind, help) RP_IF_SCOPE(NODE, scope, +1)
#define RP_COUNT_PATH_(f, scope, kind, help) RP_IF_SCOPE(PATH, scope, +1)
enum {
	RP_STATS_COUNTERS = 0 foreach_rp_counter(RP_COUNT_NODE_),
	RP_STATS_PATH_COUNTERS = 0 foreach_rp_counter(RP_COUNT_PATH_),
};
#undef RP_COUNT_NODE_
#undef RP_COUNT_PATH_
/* offset: of the field in struct rp_stats (of the array, for a path counter) */
extern const struct rp_counter_desc rp_stats_desc[RP_STATS_COUNTERS];
extern const struct rp_counter_desc rp_path_stats_desc[RP_STATS_PATH_COUNTERS];

/* A counter of s by its description (path: which path's, for a path counter). */
static inline uint64_t rp_stats_get(const struct rp_stats *s, const struct rp_counter_desc *d, unsigned path)
{
	return ((const uint64_t *)(const void *)((const char *)s + d->offset))[path];
}


enum rp_node_state {
	RP_NODE_GATHER = 1,
	RP_NODE_COMMIT,
	RP_NODE_RECOVERY,
	RP_NODE_OPERATIONAL,
	RP_NODE_LEFT,
};

const struct rp_stats *rp_node_stats(const struct rp_node *n);

/* What this node knows of peer id (1..RP_NODES_MAX, not itself) from the
 * frames it accepted: when it last heard it on each path (ring-proto's
 * clock; 0: never), and the path state the peer's latest frame carried
 * (the paths it marked faulty and the ones it sends on; docs/protocol.md
 * §9.6). Returns 0, or -1 for an id out of range. */
struct rp_peer_info {
	uint64_t incarnation;          /* of the frames below; 0: never heard */
	uint64_t last_rx_ns[RP_PATHS_MAX];
	uint8_t fault_mask, send_mask;
	uint8_t proto_min, proto_max;
	/* paths on which `need` of its sends that also went there arrived
	 * here only on other paths since it was last heard there (§9.6) */
	uint8_t missing;
};
int rp_node_peer(const struct rp_node *n, uint16_t id, struct rp_peer_info *out);
const char *rp_cause_name(enum rp_change_cause c);
enum rp_node_state rp_node_state(const struct rp_node *n);
struct rp_ring_id rp_node_ring(const struct rp_node *n);
uint64_t rp_node_my_aru(const struct rp_node *n);
/* The rings whose frames the node holds (its current one, and the old one
 * while it changes configuration) with its aru in each; returns how many
 * (1 or 2) were written. */
int rp_node_arus(const struct rp_node *n, struct rp_ring_id ring[2], uint64_t aru[2]);
/* Messages (and partly sent fragments) still waiting to be sequenced. */
uint32_t rp_node_backlog(const struct rp_node *n);
/* The ring is quiet here (docs/protocol.md §12): this node holds a quiet
 * ring's token, or the last token it forwarded sequenced nothing in a whole
 * rotation, so the token comes back only after a hold (or a HOLD_CANCEL).
 * A hint for the driver's idle strategy: nothing but a frame, a submit or
 * rp_next_deadline_ns() will give the node work. */
int rp_node_quiet(const struct rp_node *n);
/* Paths this node sends on now, and the ones its own monitor marked. */
uint8_t rp_node_paths_in_use(const struct rp_node *n);
uint8_t rp_node_paths_faulty(const struct rp_node *n);
/* The last regular configuration's quorum flag and protocol version. */
int rp_node_primary(const struct rp_node *n);
uint8_t rp_node_proto_version(const struct rp_node *n);

#endif
