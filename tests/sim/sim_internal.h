/* sim_internal.h — the simulator's state, shared by sim.c (events, network,
 * load) and sim_check.c (the checker). Not used outside tests/sim/.
 */
#ifndef SIM_INTERNAL_H
#define SIM_INTERNAL_H

#include "sim.h"
#include "ordo_digest.h"

#include <stddef.h>
#include <stdlib.h>

#define SIM_PAYLOAD_HDR 16u /* index (8), size (4), 0xA5 x 4 */
/* Events at one virtual instant beyond which a run fails as a livelock
 * (the largest legitimate burst is a few paths' queued frames). */
#define SIM_INSTANT_EVENTS_MAX 1000000u

enum sim_event_kind {
	SIM_EV_ARRIVE = 1, SIM_EV_TIMER, SIM_EV_LOAD, SIM_EV_SCRIPT, SIM_EV_FAULT, SIM_EV_HEAL_ALL,
	SIM_EV_PATH, /* gen 2: a seeded path fault; else node (UINT32_MAX: whole path) cut (1) or restored (0) */
	SIM_EV_RESUME,  /* a paused node resumes (gen: its pause count) */
	SIM_EV_ONEWAY,  /* a one-way cut ends (node: from, gen: to, UINT32_MAX: to every node) */
};

struct sim_buf {
	uint32_t refs;
	uint32_t size;
	uint32_t cap;  /* bytes of data[]: SIM_BUF_CAP ones are recycled */
	struct sim_buf *next_free;
	uint8_t data[];
};

#define SIM_BUF_CAP 9216u  /* the largest frame a sweep or scenario sends */

struct sim_event {
	uint64_t at;
	uint64_t order;
	enum sim_event_kind kind;
	uint32_t node;
	uint8_t path;
	uint64_t gen;
	struct sim_buf *buf;
};

/* The stale corners of the network model (sim_stale.c). */
#define SIM_ARCHIVE 1024u    /* frames kept for replays */
#define SIM_STALE_QUEUE 512u /* copies a cut path keeps per receiver */

struct sim_stale_frame {
	struct sim_buf *buf;
	uint32_t from;
	uint8_t path;
};

struct sim_stale_queue {
	struct sim_buf *v[SIM_STALE_QUEUE];
	uint32_t head, count;
};

struct sim_path {
	uint64_t delay_ns;
	uint64_t jitter_ns;
	double loss;
	double dup;
};

/* A fragment stream being reassembled at one node: (origin, client, prio). */
struct sim_stream {
	bool active;
	uint64_t index;
	uint32_t next_off;
};

#define SIM_STREAMS (SIM_NODES_MAX * SIM_CLIENTS_MAX * RP_PRIO_COUNT)

/* Room for one more element in the doubling array v (cap elements, count
 * used; first: the first allocation's capacity). The simulator cannot go
 * on without the memory: it aborts when there is none. */
#define SIM_GROW(v, cap, count, first)                                   \
	do {                                                             \
		if ((count) == (cap)) {                                  \
			(cap) = (cap) ? (cap) * 2u : (first);            \
			(v) = realloc((v), (size_t)(cap) * sizeof(*(v))); \
			if (!(v))                                        \
				abort();                                 \
		}                                                        \
	} while (0)

/* A 64-bit finalizer (murmur3's): checker hashes and payload rotations.
 * Not the tools' digest mixer (ordo_mix64): the recorded seeds
 * (regressions.txt) depend on these values. */
static inline uint64_t sim_mix64(uint64_t x)
{
	return ordo_fmix64(x, 33, 0xFF51AFD7ED558CCDull, 33, 0xC4CEB9FE1A85EC53ull, 33);
}

static inline bool sim_ring_eq(struct rp_ring_id a, struct rp_ring_id b)
{
	return a.rep == b.rep && a.seq == b.seq;
}

static inline uint32_t sim_stream_index(uint16_t origin, uint32_t client, uint8_t prio)
{
	uint32_t o = origin >= 1 && origin <= SIM_NODES_MAX ? origin - 1u : 0;
	uint32_t c = client < SIM_CLIENTS_MAX ? client : 0;
	uint32_t p = prio < RP_PRIO_COUNT ? prio : 0;
	return (o * SIM_CLIENTS_MAX + c) * RP_PRIO_COUNT + p;
}

struct sim_aru {
	struct rp_ring_id ring;
	uint64_t aru;
};

struct sim_lent;

struct sim_node {
	uint32_t index;
	uint16_t id;
	bool alive;
	bool left;
	uint64_t incarnation;
	size_t rp_size;
	uint64_t pending_self;    /* own messages (this incarnation) not yet delivered */
	struct rp_node *rp;
	struct rp_actions acts;
	uint64_t timer_at;
	uint64_t timer_gen;
	uint32_t clients;
	uint64_t load_gap_ns;
	uint64_t published;
	uint32_t next_msgno[SIM_CLIENTS_MAX][RP_PRIO_COUNT];
	struct sim_stream streams[SIM_STREAMS];
	/* checker state */
	uint64_t delivered_count;   /* whole messages delivered */
	uint64_t ring_pos;          /* position in the current ring's log */
	int64_t last_msgno[SIM_STREAMS]; /* FIFO: last msgno per stream */
	bool has_config;
	struct rp_ring_id ring;     /* the regular configuration */
	bool in_trans;              /* a transitional configuration follows it */
	struct rp_ring_id trans_new;
	uint64_t conf_members;      /* members of the configuration now in force */
	uint64_t fa_hash, fa_count; /* messages delivered in the regular configuration */
	uint64_t trans_hash, trans_count; /* ... and in the transitional one after it */
	size_t view;                /* index of its regular configuration in sim.views */
	size_t sent_hint;           /* sim.sent index of the frame it last delivered from */
	struct sim_oblig *obligs;   /* SAFE messages of a transitional configuration it owes */
	size_t oblig_count, oblig_cap;
	bool have_last;             /* order key of the last delivery */
	uint64_t last_ring_seq, last_seq;
	uint16_t last_entry;
	struct sim_aru *arus;       /* (ring, highest aru) the node has had */
	size_t aru_count, aru_cap;
	struct rp_persist stable;   /* what RP_ACT_PERSIST recorded: survives a crash */
	bool seen_all;              /* two_node: in a ring with both, this incarnation */
	uint8_t link_down;          /* paths whose link was reported down to it */
	uint8_t proto_min, proto_max;
	uint64_t last_delivery_ns;  /* delivery gaps */
	uint64_t traced_problems[RP_PATHS_MAX];
	uint64_t traced_pauses;
	int64_t lent_out;           /* frames lent to ring-proto and kept, not yet returned */
	/* process pauses (sim_pause.c) */
	bool paused;
	uint64_t pauses;            /* pauses begun: SIM_EV_RESUME's gen */
	uint64_t resumed_ns;        /* when its last pause ended (UINT64_MAX: none) */
	struct sim_event *pq;       /* frames that arrived while paused, oldest first */
	uint32_t pq_head, pq_count;
	/* stability and primary continuity (sim_stable.c) */
	bool in_primary;            /* OPERATIONAL in a primary configuration */
};

/* One published message. */
struct sim_msg {
	uint32_t origin; /* node index */
	uint32_t client;
	uint8_t prio;
	uint8_t service;
	uint32_t size;
	uint32_t msgno;
	uint64_t publish_ns;
	uint8_t *buf; /* until RP_ACT_SUBMIT_DONE */
	uint32_t delivered_mask;
	uint32_t trans_mask;    /* ... of them in a transitional configuration */
	uint64_t incarnation;   /* of the publisher */
	bool has_pos;           /* position in the total order, once delivered */
	struct rp_ring_id pos_ring;
	uint64_t pos_seq;
	uint16_t pos_entry;
	bool sent;              /* the simulator saw its origin send its LAST fragment ... */
	struct rp_ring_id sent_ring; /* ... in this ring, frame and entry */
	uint64_t sent_seq;
	uint16_t sent_entry;
};

/* A new data frame as its origin sent it (sim_evs.c): where, by whom, and
 * a hash of each entry's header, so that every delivered fragment can be
 * matched with what was sent at its position. */
struct sim_sent_frame {
	struct rp_ring_id ring;
	uint64_t seq;
	uint64_t inc;        /* the origin's incarnation */
	uint32_t origin;     /* node index */
	uint32_t first;      /* its entries' hashes: sim.sent_entries[first ...] */
	uint16_t entries;
};

/* A SAFE message delivered in a transitional configuration of ring `ring`
 * that a member of it must deliver before it leaves that ring (sim_evs.c). */
struct sim_oblig {
	uint64_t msg;
	struct rp_ring_id ring;
	uint16_t by; /* the node that delivered it */
};

/* A configuration someone installed: members by id (property 6). */
struct sim_view {
	bool trans;
	struct rp_ring_id ring, old_ring;
	uint64_t members;
	bool primary;
	uint8_t proto;
	/* regular ones, per node index (sim_evs.c): the incarnation that
	 * installed it (0: none), the ring it came from and its transitional
	 * members (has_prev false: its first configuration, the start ring) */
	uint64_t inc[SIM_NODES_MAX];
	bool has_prev[SIM_NODES_MAX];
	struct rp_ring_id prev[SIM_NODES_MAX];
	uint64_t trans_of[SIM_NODES_MAX];
};

/* What the nodes that went from `from` to `to` delivered in `from`, in its
 * regular part and in the transitional one (4, sim_evs.c). */
struct sim_fa {
	struct rp_ring_id from, to;
	uint64_t hash, count;
	uint64_t trans_hash, trans_count;
	uint16_t first_node;
};

/* The reference order of one ring: message indices in delivery order. */
struct sim_log {
	struct rp_ring_id ring;
	uint64_t *v;
	size_t count, cap;
};

/* Lent frames handed back are kept poisoned this long before they are
 * freed, so a stale read or a second return meets the poison and the dead
 * mark, not reused memory. */
#define SIM_QUARANTINE 1024u

struct sim {
	struct sim_opts opts;
	struct sim_lent *quarantine[SIM_QUARANTINE]; /* a FIFO of dead lent frames */
	size_t quarantine_head, quarantine_count;
	struct rp_config cfg; /* template for every node */
	uint64_t rng[4];
	uint64_t now;
	uint64_t digest;
	struct sim_event *ev;
	size_t ev_count, ev_cap;
	uint64_t ev_order;
	uint64_t events, steps;
	struct sim_path paths[RP_PATHS_MAX];
	bool blocked[SIM_NODES_MAX][SIM_NODES_MAX]; /* from, to: a partition */
	bool cut[SIM_NODES_MAX][RP_PATHS_MAX];      /* a node's link on a path */
	bool mute[SIM_NODES_MAX][RP_PATHS_MAX];     /* its sending side alone (--mutes) */
	bool path_down[RP_PATHS_MAX];
	uint8_t on[SIM_NODES_MAX];                  /* the networks each node is on (§17) */
	uint64_t memb_from_ns;    /* membership faults start here (all: the second half) */
	uint64_t calm_ns;         /* no fault of any kind before this (--calm-ms) */
	uint64_t formed_ns;       /* every node in one ring, first time (UINT64_MAX: not yet) */
	uint64_t path_faults, path_reinstated, path_first_faulty_ns, path_last_ok_ns, path_cuts;
	uint64_t max_gap_ns;
	uint32_t max_gap_node;
	uint64_t refusals;
	int rrp_mode, quorum;
	uint32_t mutant;          /* node index that runs opts.mutation */
	/* stale corners (sim_stale.c) */
	bool stale_on;
	double hold_chance, replay_chance;
	uint64_t archived, held, replayed, bursts;
	struct sim_stale_frame archive[SIM_ARCHIVE];
	struct sim_stale_queue queues[SIM_NODES_MAX][RP_PATHS_MAX];
	struct sim_buf *buf_free;  /* recycled frame buffers */
	uint32_t buf_free_count;
	bool drop_next_token;
	uint64_t crashes, restarts, leaves, partitions, dropped_partial, configs, last_change_ns;
	/* one-way cuts (sim_pause.c): frames from -> to dropped on every path,
	 * counted so that overlapping cuts end one by one */
	uint8_t oneway[SIM_NODES_MAX][SIM_NODES_MAX];
	uint64_t pauses, pause_drops, oneways;
	/* stability and primary continuity (sim_stable.c) */
	uint64_t together[SIM_NODES_MAX][SIM_NODES_MAX]; /* since when (UINT64_MAX: not) */
	bool reach[SIM_NODES_MAX][SIM_NODES_MAX];        /* from, to: on some path */
	uint64_t last_fault_ns;     /* connectivity, liveness or pauses last changed */
	uint64_t stable_inc[SIM_NODES_MAX]; /* incarnation `together` was computed for */
	bool stable_live[SIM_NODES_MAX];    /* alive and unpaused at the last update */
	uint64_t quorum_group;      /* node-index mask of the group that must stay primary; 0: none */
	uint32_t group_in_primary;  /* its members now in a primary configuration */
	uint64_t outage_from_ns;    /* since when none of them is (UINT64_MAX: one is) */
	uint64_t max_outage_ns;     /* longest outage after the last fault, for the report */
	struct sim_node nodes[SIM_NODES_MAX];
	struct sim_msg *msgs;
	uint64_t msg_count, msg_cap;
	uint64_t refused;
	/* checker */
	struct sim_log *logs;
	size_t log_count;
	struct sim_view *views;
	size_t view_count;
	struct sim_fa *fas;
	size_t fa_count;
	uint64_t send_stream[SIM_STREAMS]; /* sim_evs.c: message index + 1 of a stream's open FIRST */
	struct sim_sent_frame *sent;       /* sim_evs.c: every new data frame sent */
	size_t sent_count, sent_cap;
	uint32_t *sent_index;              /* open addressing over sent: index + 1, 0 empty */
	size_t sent_index_cap;             /* a power of two, at least twice sent_count */
	uint64_t *sent_entries;
	size_t sent_entries_count, sent_entries_cap;
	uint64_t deliveries;
	uint64_t bytes_delivered;
	uint64_t max_seq_delivered;
	bool seq_wrapped;
	bool failed;
	char fail_property[32];
	char fail_detail[256];
};

uint64_t sim_rand_range(struct sim *s, uint64_t lo, uint64_t hi);
bool sim_chance(struct sim *s, double p);
void sim_digest(struct sim *s, uint64_t v);
void sim_trace(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* sim_payload.c: message `index` of `size` bytes, written whole, and a
 * fragment [off, off + len) of it checked: the first wrong byte's offset in
 * the message, or UINT32_MAX if every byte is right. */
void sim_payload_fill(uint64_t index, uint32_t size, uint8_t *dst);
uint32_t sim_payload_check(uint64_t index, uint32_t size, uint32_t off, const uint8_t *data,
			   uint32_t len);

void sim_node_boot(struct sim *s, struct sim_node *n);
void sim_ev_push(struct sim *s, struct sim_event ev);
/* A frame buffer with one reference (recycled when it fits), and its
 * release when the last reference goes. */
struct sim_buf *sim_buf_new(struct sim *s, uint32_t size);
void sim_buf_unref(struct sim *s, struct sim_buf *b);

/* sim_stale.c: held frames, replays, bursts at a path's return */
void sim_stale_init(struct sim *s);
void sim_stale_free(struct sim *s);
void sim_stale_archive(struct sim *s, struct sim_buf *b, uint32_t from, uint8_t path);
uint64_t sim_stale_delay(struct sim *s, uint64_t delay);
void sim_stale_maybe_replay(struct sim *s);
void sim_stale_queue(struct sim *s, uint32_t to, uint8_t path, struct sim_buf *b);
void sim_stale_flush(struct sim *s);

/* sim_check.c */
void sim_check_init(struct sim *s);
void sim_check_free(struct sim *s);
void sim_violation(struct sim *s, const char *property, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sim_check_config(struct sim *s, struct sim_node *n, const struct rp_configuration *c);
void sim_check_delivery(struct sim *s, struct sim_node *n, uint64_t index,
			const struct rp_delivery *d);
bool sim_check_quiescent(const struct sim *s);
void sim_check_final(struct sim *s);
void sim_check_node_reset(struct sim *s, struct sim_node *n);
void sim_check_arus(struct sim *s, struct sim_node *n);
void sim_check_quorum_final(struct sim *s);
uint64_t sim_check_primaries(const struct sim *s);
/* Did node o hold every frame up to seq of ring (its aru there reached it)? */
bool sim_check_held(const struct sim_node *o, struct rp_ring_id ring, uint64_t seq);

/* sim_evs.c: the extended virtual synchrony properties (docs/protocol.md §18) */
void sim_evs_sent(struct sim *s, struct sim_node *n, const struct rp_wire_hdr *h, const uint8_t *frame);
void sim_evs_origin(struct sim *s, struct sim_node *n, uint64_t index, const struct rp_delivery *d);
void sim_evs_fragment(struct sim *s, struct sim_node *n, const struct rp_delivery *d);
void sim_evs_delivered(struct sim *s, struct sim_node *n, uint64_t index, const struct rp_delivery *d);
void sim_evs_leave(struct sim *s, struct sim_node *n, struct rp_ring_id to);
void sim_evs_install(struct sim *s, struct sim_node *n, size_t view);
void sim_evs_trans(struct sim *s, struct sim_node *n, const struct rp_configuration *c, uint64_t members);
void sim_evs_node_reset(struct sim *s, struct sim_node *n);
void sim_evs_free(struct sim *s);

/* sim.c, for sim_pause.c */
void sim_ev_push(struct sim *s, struct sim_event ev);
int sim_step(struct sim *s, struct sim_node *n, const struct rp_input *in);
void sim_free_event(struct sim_event *ev);

/* sim_pause.c: process pauses and one-way cuts */
#define SIM_PAUSE_QUEUE 512u /* frames a paused node's NIC keeps (oldest dropped) */
void sim_pause(struct sim *s, struct sim_node *n, uint64_t duration_ns);
void sim_resume(struct sim *s, struct sim_node *n);
void sim_pause_enqueue(struct sim *s, struct sim_node *n, const struct sim_event *ev);
void sim_oneway(struct sim *s, uint32_t from, uint32_t to, uint64_t duration_ns);
void sim_oneway_end(struct sim *s, uint32_t from, uint32_t to);
void sim_oneway_clear(struct sim *s);
void sim_random_pause(struct sim *s);
void sim_random_oneway(struct sim *s);
void sim_pause_free(struct sim *s, struct sim_node *n);

/* sim.c: a and b share a network on which neither link is cut (§17.1) */
bool sim_direct(const struct sim *s, uint32_t a, uint32_t b);
/* sim.c: a's frames reach b on some network they share, whatever b's own
 * sending side does there (one direction; docs/protocol.md §16.0) */
bool sim_sends_to(const struct sim *s, uint32_t a, uint32_t b);

/* sim_stable.c: docs/design.md §3 properties 9 (stability) and 10 (primary continuity) */
uint64_t sim_stable_bound_ns(const struct sim *s);  /* B: token loss + consensus */
uint64_t sim_outage_bound_ns(const struct sim *s);  /* P: see docs/protocol.md §16.0 */
void sim_stable_update(struct sim *s);  /* after any change of connectivity, liveness or pauses */
void sim_stable_fault(struct sim *s);   /* a fault that changes none of these (a lost token) */
void sim_stable_arrival(struct sim *s, const struct sim_node *n, const struct sim_buf *b); /* a frame the links do not explain */
void sim_stable_config(struct sim *s, struct sim_node *n, const struct rp_configuration *c,
		       uint64_t members);
void sim_stable_step(struct sim *s, struct sim_node *n);
void sim_stable_sent(struct sim *s, const struct sim_node *n, struct rp_ring_id ring); /* a new data frame */

#endif
