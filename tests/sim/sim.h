/* sim.h — the deterministic simulator: N ring-proto nodes and P paths in one
 * process, virtual time, a seeded network model, client load, and a checker
 * of docs/design.md §3 that runs after every step.
 *
 * Owns: everything a run needs besides ring-proto itself. One seed decides
 * every random choice (network faults, load, sizes, services, priorities),
 * so a run is replayed exactly by its arguments; sim_result.digest proves it.
 * Thread context: single-threaded; a struct sim is used by one thread.
 */
#ifndef SIM_H
#define SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "rp.h"

#define SIM_NODES_MAX 16
#define SIM_CLIENTS_MAX 4

/* net: loss, duplication, reordering, delay; memb: adds crashes, restarts,
 * leaves, partitions, process pauses and one-way cuts; all: adds path
 * faults (a node's link on a path, or a whole path, dying, flapping and
 * coming back); pause: net plus process pauses only. */
enum sim_faults { SIM_FAULTS_NONE = 0, SIM_FAULTS_NET, SIM_FAULTS_MEMB, SIM_FAULTS_ALL, SIM_FAULTS_PAUSE };

struct sim;

/* Scenario hook: called for every copy of a frame about to enter the network
 * (from node index, to node index, path); return true to drop that copy. */
typedef bool (*sim_filter_fn)(struct sim *s, void *arg, uint32_t from, uint32_t to,
			      uint8_t path, const uint8_t *frame, uint32_t size);

/* Transport hook (frame security, tests/sim/sim_crypto.c): wire_seal turns
 * a frame a node sends into what goes on the wire, once for all its copies
 * (at most size + SIM_WIRE_EXTRA bytes into out; 0: not sent); wire_open
 * turns an arriving copy, in a private writable buffer, back into the
 * frame ring-proto gets (its size; 0: dropped before ring-proto). */
#define SIM_WIRE_EXTRA 64u
typedef uint32_t (*sim_wire_seal_fn)(struct sim *s, void *arg, uint32_t from, const uint8_t *frame,
				     uint32_t size, uint8_t *out);
typedef uint32_t (*sim_wire_open_fn)(struct sim *s, void *arg, uint32_t to, uint8_t path, uint8_t *data,
				     uint32_t size);

/* A message a scenario publishes at a given time, besides the random load. */
struct sim_publish {
	uint64_t at_ns;
	uint32_t node;
	uint32_t size;
	uint8_t service;
	uint8_t priority;
};

enum sim_fault_kind {
	SIM_FAULT_CRASH = 1,  /* node: crash (no goodbye) */
	SIM_FAULT_RESTART,    /* node: start again with a new incarnation */
	SIM_FAULT_LEAVE,      /* node: leave politely, then stop */
	SIM_FAULT_ISOLATE,    /* node: cut from every other node, both ways */
	SIM_FAULT_SPLIT,      /* mask: nodes in mask | the rest, both ways */
	SIM_FAULT_HEAL,       /* every link restored */
	SIM_FAULT_DROP_TOKEN, /* the next token sent is lost on every path */
	SIM_FAULT_PATH_CUT,   /* node's link on path cut, both ways */
	SIM_FAULT_PATH_RESTORE, /* node's link on path restored */
	SIM_FAULT_PATH_DOWN,  /* path dead for every node */
	SIM_FAULT_PATH_UP,    /* path back (node links cut separately stay cut) */
	SIM_FAULT_LINK_DOWN,  /* node's NIC reports path's link down (RP_IN_LINK) */
	SIM_FAULT_LINK_UP,
	SIM_FAULT_PAUSE,      /* node: takes no steps for duration_ns; its frames queue up */
	SIM_FAULT_ONEWAY,     /* frames from `node` to the nodes in mask dropped for duration_ns */
};

/* A membership fault a scenario places at a given time. */
struct sim_fault {
	uint64_t at_ns;
	enum sim_fault_kind kind;
	uint32_t node;  /* node index for node faults */
	uint32_t mask;  /* node-index mask for SPLIT */
	uint8_t path;   /* for path faults */
	uint8_t proto_min, proto_max; /* RESTART: the node's new range (0: unchanged) */
	uint64_t duration_ns; /* PAUSE, ONEWAY */
};

enum { SIM_LEND_NONE = 0, SIM_LEND_ODD, SIM_LEND_ALL };

struct sim_opts {
	uint64_t seed;
	uint32_t nodes;
	uint32_t paths;
	bool partial;             /* networks reach seeded subsets of the nodes (docs/protocol.md §17) */
	uint64_t networks[RP_PATHS_MAX]; /* with partial: the node indexes on each network (bit i: node
				   * index i) instead of a seeded draw; all 0: drawn */
	enum sim_faults faults;
	enum rp_mutation mutation; /* applied to one node, picked by the seed */
	bool trace;
	bool random_load;         /* publish a seeded random load (default true) */
	uint64_t load_ns;         /* load and faults last this long (virtual) */
	uint64_t calm_ns;         /* a fault-free stretch under load before them: the ring runs this long
				   * with no loss, duplication, cut or membership fault, then load_ns of
				   * the faults follows (counters and windows that go stale over a long quiet
				   * time; the load runs calm_ns + load_ns in all) */
	uint64_t liveness_ns;     /* bound, after the faults stop, to deliver all */
	uint64_t initial_seq;
	uint64_t token_hold_ns;   /* ring-proto's token_hold_ns (docs/protocol.md §12); 0: off */
	uint32_t accelerated;     /* ring-proto's accelerated_window (§13), capped at max_messages; 0: off */
	int lend;                 /* lent frames (§14): SIM_LEND_NONE, _ODD (default: nodes at odd indexes), _ALL */
	int stability;            /* check properties 9 and 10 (docs/protocol.md §16): 1, 0, or -1:
				   * not said (on) */
	bool stale;               /* held frames, replays and bursts after cuts (default true; net faults and up) */
	bool mutes;               /* with --faults all: one-way faults of one (node, path) link among the
				   * path faults, its sending side alone failing (default false) */
	uint32_t frame_size;      /* rp frame_size_max */
	uint32_t message_size_max;
	uint32_t store_slots;
	bool default_timeouts;    /* ring-proto's defaults instead of LAN-sized ones */
	int rrp_mode;             /* enum rp_rrp_mode; -1: chosen by the seed */
	int quorum;               /* enum rp_quorum; -1: chosen by the seed (two_node only with 2 nodes) */
	bool quorum_publish;
	uint8_t proto_min[SIM_NODES_MAX]; /* per node index; 0: ring-proto's default */
	uint8_t proto_max[SIM_NODES_MAX];
	uint32_t window_size[SIM_NODES_MAX]; /* per node index; 0: the run's (docs/protocol.md §8.8) */
	uint64_t gap_from_ns, gap_to_ns;  /* window in which delivery gaps are measured */
	sim_filter_fn filter;
	void *filter_arg;
	sim_wire_seal_fn wire_seal; /* both or neither */
	sim_wire_open_fn wire_open;
	void *wire_arg;
	const struct sim_publish *publish; /* scripted messages */
	uint32_t publish_count;
	const struct sim_fault *script; /* scripted membership faults */
	uint32_t script_count;
	/* scenario hook: called after every step of a node */
	void (*watch)(struct sim *s, void *arg, uint32_t node);
	void *watch_arg;
	/* delivery hook (tests/sim/sim_groups.c): every whole message a node
	 * delivers, after the checker took it (index: the message's number,
	 * the same at every node), and every configuration it installs */
	void (*on_message)(struct sim *s, void *arg, uint32_t node, uint64_t index, const struct rp_delivery *d);
	void (*on_config)(struct sim *s, void *arg, uint32_t node, const struct rp_configuration *c);
	void *deliver_arg;
};

struct sim_result {
	bool ok;
	char property[32];  /* the property violated, e.g. "total-order" */
	char detail[256];
	uint64_t digest;    /* trace digest: equal for equal arguments */
	uint64_t messages;  /* messages accepted for publishing */
	uint64_t deliveries;
	uint64_t bytes_delivered;
	uint64_t frames_sent;
	uint64_t frames_retransmitted;
	uint64_t tokens_retransmitted;
	uint64_t tokens_held, hold_cancels; /* §12: holds, and holds a HOLD_CANCEL ended */
	uint64_t frames_after_token;        /* §13: frames sent behind a token */
	uint64_t frames_kept;               /* §14: lent frames stored without a copy */
	uint64_t sim_time_ns;
	uint64_t events;
	uint64_t max_seq_delivered;    /* the highest frame seq delivered */
	uint64_t configs;              /* regular configurations installed, all nodes */
	uint64_t crashes, restarts, leaves, partitions;
	uint64_t dropped_partial;      /* incomplete messages dropped at a configuration change */
	uint64_t last_change_ns;       /* the last regular configuration installed */
	bool seq_wrapped;               /* delivered seqs crossed 2^64 */
	int rrp_mode, quorum;          /* what the run used */
	uint64_t path_faults;          /* paths marked faulty, all nodes */
	uint64_t path_reinstated;
	uint64_t path_first_faulty_ns; /* first FAULTY event (UINT64_MAX: none) */
	uint64_t path_last_ok_ns;      /* last event returning a path to use */
	uint64_t path_cuts;            /* path faults injected */
	uint64_t max_gap_ns;           /* longest time between deliveries at a node in the window */
	uint32_t max_gap_node;
	uint64_t refusals;             /* RP_ACT_REFUSED, all nodes */
	uint64_t primaries;            /* primary regular configurations seen */
	uint64_t formed_ns;            /* first time every node was in one ring */
	uint64_t pauses, pause_drops;  /* pauses begun; frames a paused node's queue dropped */
	uint64_t oneways;              /* one-way cuts begun */
	uint64_t max_outage_ns;        /* longest time a connected quorum was out of a primary
					* configuration, counted from the last fault */
	uint8_t on[SIM_NODES_MAX];     /* the networks each node is on */
	uint64_t relayed;              /* data frames relayed and flooded frames forwarded (§17.4) */
	uint64_t flooded;              /* tokens flooded (§17.4) */
	uint64_t held, replayed, bursts; /* stale corners: copies held long, frames replayed, queues burst */
};

void sim_opts_default(struct sim_opts *o);
/* NULL if a run can be made of o, else the rule it breaks. */
const char *sim_opts_invalid(const struct sim_opts *o);
/* NULL if sim_opts_invalid(o). */
struct sim *sim_create(const struct sim_opts *o);
void sim_run(struct sim *s, struct sim_result *r);
void sim_destroy(struct sim *s);

uint64_t sim_now(const struct sim *s);
uint64_t sim_rand(struct sim *s); /* the run's PRNG: scenario hooks use it */
const struct rp_node *sim_node(const struct sim *s, uint32_t index);
bool sim_node_alive(const struct sim *s, uint32_t index);
void sim_apply_fault(struct sim *s, const struct sim_fault *f);
/* Puts a copy of a frame on the wire from `from` to `to` (path stamped). */
void sim_inject(struct sim *s, uint32_t from, uint32_t to, uint8_t path, const uint8_t *frame,
		uint32_t size, uint64_t delay_ns);
/* True if some node installed a regular configuration of exactly these
 * node indexes (bit i = node index i). */
bool sim_saw_regular(const struct sim *s, uint64_t index_mask);
/* Drops counted for a reason, summed over the nodes. */
uint64_t sim_drops(const struct sim *s, enum rp_drop reason);
/* The quorum flag of the last regular configuration some node installed with
 * exactly these node indexes; -1 if none. */
int sim_primary_of(const struct sim *s, uint64_t index_mask);

/* Runs one seed and prints its verdict line; returns 0 if it passed. */
int sim_run_one(const struct sim_opts *o, const char *replay_args, bool verbose);

#endif
