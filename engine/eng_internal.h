/* eng_internal.h — the engine's shared state: struct eng, the delivery
 * tracker and load generator (eng_load.c), and the snapshot telemetry reads
 * (eng_telemetry.c).
 *
 * Thread context: everything in struct eng belongs to the worker lcore. The
 * telemetry thread reads only the snapshot eng_telemetry.c keeps in static
 * storage (so that it outlives the engine) under a seqlock the worker
 * writes, and sets request flags the worker polls once per loop. Unless a
 * declaration says otherwise, a function declared here runs on the worker:
 * during eng_create() and eng_destroy() on the thread that calls them,
 * during eng_run() on the worker lcore as an online RCU (QSBR) reader that
 * holds no RCU reference across duty cycles (duty_cycle() reports the
 * quiescent state).
 */
#ifndef ENG_INTERNAL_H
#define ENG_INTERNAL_H

#include <rte_debug.h>
#include <rte_log.h>

#include "eng.h"
#include "eng_arena.h"
#include "eng_clients.h"
#include "eng_groups.h"
#include "eng_crypto.h"
#include "pmdg.h"

#define ENG_OPS_BYTES (4u << 20)   /* engine messages in flight, besides one SYNC */
#define ENG_DEFER_BYTES (1u << 20) /* group ops an exchange defers: the same at every node */

/* Always-on check of a value the engine made itself (a submit cookie, a
 * client slot, a path index of its own mbuf): a failure is the engine's
 * bug, never bad input, so it stops the node with the place, as DPDK's
 * RTE_VERIFY. Input from the network or a client is never ENG_VERIFYed. */
#define ENG_VERIFY(cond)                                                                           \
	do {                                                                                       \
		if (__builtin_expect(!(cond), 0))                                                  \
			rte_panic("%s:%d: ENG_VERIFY(%s) failed\n", __FILE__, __LINE__, #cond);    \
	} while (0)

/* One line of the node's log (eng_log.c adds the time, node and severity). */
#define ENG_LOG(lvl, e, fmt, ...) \
	((void)(e), rte_log(RTE_LOG_##lvl, eng_logtype, fmt "\n", ##__VA_ARGS__))

/* ---- delivery tracking and the load generator (eng_load.c) ---- */

/* A message being reassembled: consecutive fragments of one stream
 * (origin, priority; one client per stream until client attach lands). */
struct eng_stream {
	uint8_t active;
	uint32_t client_id;
	uint32_t msg_size;
	uint32_t got;                       /* bytes received so far */
	uint8_t head[ENG_LOAD_HDR_SIZE];    /* the message's first bytes, for the digest */
};

struct eng_origin {
	uint64_t incarnation; /* of the load stream last seen from this node */
	uint64_t next;        /* its next expected counter */
	uint64_t delivered;   /* load messages delivered from this node, every incarnation */
	uint64_t gaps;        /* its counters skipped (within one incarnation) */
};

struct eng_delivery {
	uint64_t delivered, bytes, digest, fragments_dropped, origin_gaps;
	uint64_t max_gap_ns, last_ns;       /* last_ns 0: no delivery since the reset */
	struct eng_stream streams[RP_NODES_MAX][RP_PRIO_COUNT];
	struct eng_origin origins[RP_NODES_MAX + 1];
};

struct eng_load {
	uint8_t *mem;                 /* slot_count payload slots of size bytes */
	uint32_t slot_count;
	uint32_t *free_slots;         /* stack of free slot indices */
	uint32_t free_count;
	uint64_t sent;                /* accepted by ring-proto */
	uint64_t start_ns;            /* 0: not started (waits for a full ring) */
	int armed;                    /* a full ring was seen: start at start_ns */
	int done;
	uint64_t refused[RP_ENOQUORUM + 1]; /* rp_step's refusals by code */
};

/* What this node sees of a peer on one path (eng_worker.c, per-peer
 * link state: docs/ordod.md "Logs"). */
enum eng_peer_link {
	ENG_PEER_UNKNOWN = 0, /* not heard on any path lately: no evidence */
	ENG_PEER_OK,          /* heard on the path lately */
	ENG_PEER_SILENT,      /* its sends on this path arrive on another only */
	ENG_PEER_FAULTY,      /* the peer's own frames say it marked the path faulty */
};
const char *eng_peer_link_name(uint8_t s);

/* ---- telemetry snapshot ---- */

/* Durations the worker measures, each kept as three counters: the sum in
 * nanoseconds and how many reached each of two thresholds:
 * D(_, sum, lo, lo_ns, lo_text, hi, hi_ns, hi_text, what). A row gives
 * foreach_eng_counter its three counters and eng_count_<sum>() records
 * one duration into them (docs/performance.md §7). */
#define foreach_eng_duration(D, _)                                                          \
	D(_, wakes_timer_lateness, wakes_late_100us, 100000u, "100 us", wakes_late_1ms, 1000000u, "1 ms", \
	  "idle = block, adaptive: how late past its deadline a sleep ended by the deadline resumed") \
	D(_, off_cpu_time, off_cpu_100us, 100000u, "100 us", off_cpu_1ms, 1000000u, "1 ms",         \
	  "gaps between two duty cycles with no sleep between, counted from 100 us (the worker was runnable and did not run)") \
	D(_, token_gap_time, token_gaps_1ms, 1000000u, "1 ms", token_gaps_10ms, 10000000u, "10 ms", \
	  "times between two tokens this node accepted (the rotation it saw, a quiet ring's holds included; the sum over tokens_received is the mean)")

#define ENG_DURATION_COUNTERS_(_, sum, lo, lo_ns, lo_text, hi, hi_ns, hi_text, what) \
	_(sum, RP_COUNTER_EVENT, what "; the sum, in nanoseconds")                      \
	_(lo, RP_COUNTER_EVENT, what "; how many were " lo_text " or more")             \
	_(hi, RP_COUNTER_EVENT, what "; how many were " hi_text " or more")

/* The worker's own counters, once: _(field, kind, help). struct
 * eng_counters, the snapshot, /ordo/stats and the docs come from this list
 * (kinds as ring-proto's, rp_wire.h). */
#define foreach_eng_counter(_)                                                             \
	_(loops, RP_COUNTER_EVENT, "worker loop iterations")                                     \
	_(idle_loops, RP_COUNTER_EVENT, "iterations that found no work")                         \
	_(sleeps, RP_COUNTER_EVENT, "sleeps of the backoff, block and adaptive idle strategies")  \
	_(quiet_sleeps, RP_COUNTER_EVENT, "idle = adaptive: sleeps begun at once on a quiet ring") \
	_(unsent_sleeps, RP_COUNTER_EVENT, "idle = adaptive: sleeps begun at once on a busy ring with nothing of this node's own to send") \
	_(wakes_frames, RP_COUNTER_EVENT, "idle = block, adaptive: sleeps ended by a frame")      \
	_(wakes_doorbell, RP_COUNTER_EVENT, "idle = block, adaptive: sleeps ended by a client's doorbell") \
	_(wakes_timer, RP_COUNTER_EVENT, "idle = block, adaptive: sleeps ended by a deadline")   \
	foreach_eng_duration(ENG_DURATION_COUNTERS_, _)                                         \
	_(client_evictions, RP_COUNTER_HARMFUL,                                                  \
	  "clients evicted: garbage in a submit ring, a delivery ring not drained, a full overflow queue") \
	_(client_bad_envelopes, RP_COUNTER_HARMFUL,                                              \
	  "delivered envelopes that failed their checks (dropped at every node alike)")         \
	_(group_ops_lost, RP_COUNTER_HARMFUL,                                                    \
	  "the engine's own messages (group ops, SYNCs, key states) lost: no room, or ring-proto refused them") \
	_(deliveries_too_big, RP_COUNTER_HARMFUL, "deliveries larger than a client's delivery ring") \
	_(joins_refused, RP_COUNTER_HARMLESS,                                                   \
	  "JOINs the group table refused at every node alike (max_groups, max_group_members)")   \
	_(ops_deferred_full, RP_COUNTER_HARMLESS,                                               \
	  "group ops an exchange had no room to defer: dropped everywhere, queued again by their node") \
	_(assemblies_dropped, RP_COUNTER_HARMFUL,                                               \
	  "large client messages dropped: no piece came for assembly_timeout_ms")

struct eng_counters {
#define ENG_COUNTER_FIELD_(f, kind, help) uint64_t f;
	foreach_eng_counter(ENG_COUNTER_FIELD_)
#undef ENG_COUNTER_FIELD_
};

/* eng_count_<sum>(c, ns): one duration into its three counters. */
#define ENG_DURATION_RECORD_(_, sum, lo, lo_ns, lo_text, hi, hi_ns, hi_text, what) \
	static inline void eng_count_##sum(struct eng_counters *c, uint64_t ns)        \
	{                                                                               \
		c->sum += ns;                                                           \
		c->lo += ns >= lo_ns;                                                   \
		c->hi += ns >= hi_ns;                                                   \
	}
foreach_eng_duration(ENG_DURATION_RECORD_, -)
#undef ENG_DURATION_RECORD_

struct eng_snapshot {
	uint16_t node_id;
	uint64_t incarnation;
	uint8_t state;                 /* enum rp_node_state */
	struct rp_ring_id ring;
	uint16_t member_count;
	uint16_t members[RP_NODES_MAX];
	uint8_t primary, proto_version;
	uint8_t proto_min, proto_max;  /* this node's configured range */
	uint64_t configs_regular, configs_transitional;
	uint64_t last_config_unix_ns, uptime_ns;
	uint8_t path_count, in_use, faulty;
	uint8_t path_state[RP_PATHS_MAX];
	int8_t link[RP_PATHS_MAX];
	struct pmdg_path_stats paths[RP_PATHS_MAX];
	struct pmdg_net_stats neigh[RP_PATHS_MAX];   /* routed paths: ARP / ND */
	uint32_t neigh_resolved[RP_PATHS_MAX], neigh_total[RP_PATHS_MAX];
	uint8_t transport[RP_PATHS_MAX];
	uint64_t l2_drops[PMDG_DROP_COUNT];
	struct rp_stats rp;
	struct eng_counters cnt;
	uint64_t frames_lent;          /* received mbufs ring-proto holds now (§14) */
	uint64_t delivered, bytes, digest, fragments_dropped, max_gap_ns, origin_gaps;
	uint64_t load_sent, load_done;
	/* frame security (all zero when off) */
	uint8_t crypto_on, protect, cipher;
	uint16_t epoch;
	uint64_t fp_current, fp_previous, fp_next;
	uint64_t counter;
	struct eng_crypto_stats crypto;
	uint64_t origin_delivered[RP_NODES_MAX], origin_gaps_of[RP_NODES_MAX]; /* by id - 1 */
	uint16_t max_id; /* the highest configured node id */
	uint64_t clients;
	uint64_t clock_ns;             /* the worker's clock at publish (ring-proto's) */
	/* each member of the last regular configuration, as members[] */
	struct eng_peer_snap {
		uint64_t incarnation;
		uint64_t last_rx_ns[RP_PATHS_MAX]; /* worker's clock; 0: never */
		uint8_t link[RP_PATHS_MAX];        /* enum eng_peer_link */
		uint8_t fault_mask, send_mask;
	} peers[RP_NODES_MAX];
};

/* ---- frame security and key rotation (eng_keys.c, docs/protocol.md §15) ---- */

struct eng_key_have {   /* a member's last KEY_STATE in this configuration */
	uint8_t known;
	uint64_t current, next;
};

struct eng_keys {
	struct eng_crypto c;
	uint8_t *sealed;               /* a sealed frame is built here (frame_size_max + trailer) */
	struct eng_key_have have[RP_NODES_MAX + 1];
	uint64_t members;              /* the current regular configuration (bit id-1) */
	int regular;                   /* the last configuration delivered was regular */
	uint64_t waiting_fp;           /* the next key whose wait was logged */
	uint64_t waiting_missing;      /* ... and the members it waited for */
	uint64_t next_log_ns;
	uint64_t logged_auth[RP_NODES_MAX + 1], logged_unknown[RP_NODES_MAX + 1];
	uint64_t logged_suite, logged_replay, logged_malformed;
};

struct eng_fstream { /* a fragmented client message being fanned out */
	uint8_t active, glen;
	uint32_t head;     /* envelope bytes before the data */
	uint8_t group[32];
};

/* The keys `ordoctl reload` changes live (eng_config.c live_keys). */
struct eng_reload {
	int log_level;
	uint64_t evict_ms, backoff_yield_ns, backoff_sleep_ns, load_rate;
};
#define ENG_ADMIN_LEAVE 1u
#define ENG_ADMIN_SHUTDOWN 2u

struct eng {
	struct eng_config cfg;
	uint64_t dad_until;            /* routed paths probe for this node's address until then (0: done) */
	uint64_t dad_conflict_ns;      /* when a path found it in use (0: none) */
	struct pmdg g;
	struct rp_node *rp;
	struct rp_actions acts;
	uint8_t *scratch;              /* a multi-segment frame is linearised here */
	uint32_t kept[RP_PATHS_MAX];   /* received mbufs ring-proto keeps, per path (§14) */

	uint64_t tsc0, tsc_mult;       /* now_ns = ENG_T0 + (tsc - tsc0) * tsc_mult >> 32 */
	uint64_t now_ns;
	uint64_t start_unix_ns;
	int fatal;                     /* a persist failed: stop, do not go on */
	const struct rte_mbuf *rx_mbuf; /* the frame being stepped (NULL: none), on rx_path */
	uint8_t rx_path;

	/* the last configurations installed */
	struct rp_ring_id ring;
	uint16_t member_count;
	uint16_t members[RP_NODES_MAX];
	uint8_t primary, proto_version;
	uint64_t configs_regular, configs_transitional, last_config_unix_ns;
	uint8_t path_state[RP_PATHS_MAX];
	int8_t link[RP_PATHS_MAX];
	uint64_t next_link_poll_ns, next_publish_ns;
	uint8_t peer_link[RP_NODES_MAX][RP_PATHS_MAX]; /* enum eng_peer_link, by id - 1 */

	struct eng_counters cnt;
	uint64_t idle_since_ns;
	bool unpublished;              /* a duty cycle did work since the last eng_publish */
	bool wake_rt;                  /* the worker is SCHED_FIFO now ([node] wake_priority) */
	uint64_t cycle_end_ns;         /* the last duty cycle's end; 0 after a sleep */
	uint64_t token_seen, token_ns; /* tokens_received at the last token, and when */
	int doorbell_fd;               /* eventfd clients write to wake a blocked worker */
	int block_epfd;                /* idle = block: the paths' wait fds and the doorbell */

	struct eng_delivery dlv;
	struct eng_load load;

	/* clients and groups (eng_clients.c, eng_control.c) */
	struct eng_client_table *clients;          /* RCU: the control thread publishes */
	struct eng_client **cl_by_slot;            /* worker: active and leaving clients, by slot
						    * (cfg.max_clients of them) */
	struct eg_table *groups;           /* eng_groups.h: sized at start, [node] max_groups */
	void *groups_mem;
	struct eg_member *view_joined, *view_left; /* a bulk change's views (max_group_members each) */
	/* memory sized at eng_create: the worker never allocates */
	uint8_t *arena_mem;                /* both arenas, mapped (pages come as used) */
	uint64_t arena_bytes;
	struct eng_arena ops;              /* engine messages, queued to SUBMIT_DONE (ENG_OPS_BYTES + the largest SYNC) */
	struct eng_arena deferred;         /* group ops delivered during the exchange (ENG_DEFER_BYTES) */
	uint8_t *asm_mem;                  /* assembly buffers of large client messages: */
	uint8_t **asm_free;                /* [node] assembly_buffers of message_size_max bytes, */
	uint32_t asm_free_count;           /* the free ones stacked */
	struct {
		int active;
		uint64_t waiting;          /* nodes whose SYNC is still to come */
	} sync;
	uint64_t trans_set;                /* the last transitional configuration's nodes */
	struct eng_fstream fstreams[RP_NODES_MAX][RP_PRIO_COUNT];
	uint64_t evict_ns;
	uint64_t assembly_timeout_ns;
	struct eng_control *control;       /* the control thread (eng_control.c) */
	struct eng_metrics *metrics;       /* the Prometheus endpoint (eng_metrics.c); NULL: off */
	struct eng_keys *keys;             /* frame security; NULL: off (no key file) */
	_Atomic int key_reload;            /* eng_key_reload_request (any thread, a signal handler) */
	/* what the worker's last key reload did (eng_keys.c), for ordoctl:
	 * written before key_reloads_done is raised (release) */
	struct eng_key_reload_result {
		int rc;                    /* 1 installed, 0 nothing to do, -1 failed (keys unchanged) */
		char what[384];            /* the line it logged */
	} key_reload_result;
	_Atomic uint32_t key_reloads_done;
	/* operator requests (eng_admin.c): set by the control thread, taken by
	 * the worker at its link poll */
	_Atomic uint32_t admin_flags;      /* ENG_ADMIN_* */
	_Atomic uint32_t admin_reinstate;  /* paths to reinstate */
	_Atomic int admin_reload;          /* reload_next is ready for the worker */
	struct eng_reload reload_next;
	struct eng_config admin_cfg;       /* control thread: the configuration as reloads left it */
	int admin_stop;                    /* worker: ordoctl shutdown */
};

/* Steps ring-proto with in and performs the resulting actions. */
int eng_step(struct eng *e, const struct rp_input *in);

/* eng_load.c */
int eng_load_init(struct eng *e);
void eng_load_free(struct eng *e);
/* Submits load messages as the rate and the submit queue allow; returns how
 * many were accepted. */
uint32_t eng_load_pump(struct eng *e);
void eng_load_submit_done(struct eng *e, uint64_t cookie);
/* When the load generator next has a message due (UINT64_MAX: none until
 * ring-proto returns a slot, or no load). */
uint64_t eng_load_next_ns(const struct eng *e);
void eng_load_on_config(struct eng *e, const struct rp_configuration *c);
void eng_delivery_on_fragment(struct eng *e, const struct rp_delivery *d);
void eng_delivery_on_config(struct eng *e, const struct rp_configuration *c);

/* eng_keys.c */
/* Reads the key file, reserves frame counters, installs the key. 0 (also
 * when no key file is configured: keys stays NULL), or -1 with err. */
int eng_keys_init(struct eng *e, char *err, size_t err_size);
void eng_keys_free(struct eng *e);
/* Seals frame into keys->sealed; returns its size, 0 if it cannot be sent
 * (counted; a fatal stop if the counter reservation cannot be persisted). */
size_t eng_keys_seal(struct eng *e, const uint8_t *frame, size_t len);
/* Worker, once per loop: a requested key reload, the rate-limited log of
 * frames that failed authentication. Returns work done. */
uint32_t eng_keys_poll(struct eng *e);
void eng_keys_on_config(struct eng *e, const struct rp_configuration *c);
/* A KEY_STATE (attach_proto.h ATT_ENV_KEY) delivered from node origin. */
void eng_keys_on_op(struct eng *e, uint16_t origin, const uint8_t *b, uint32_t size);
/* eng_counters.c: every counter the node reports, each with its
 * description (name, kind, help): ring-proto's, the worker's
 * (eng_counter_desc) and the engine's others; per path; the drop reasons
 * (ring-proto's, pmd-glue's, frame security's). fn gets the value, and
 * whether it is a level rather than a running count. */
extern const struct rp_counter_desc eng_counter_desc[];
extern const size_t eng_counter_desc_count;
typedef void eng_counter_fn(void *arg, const struct rp_counter_desc *d, int gauge, uint64_t v);
void eng_counters_each(const struct eng_snapshot *s, eng_counter_fn *fn, void *arg);
void eng_path_counters_each(const struct eng_snapshot *s, unsigned path, eng_counter_fn *fn, void *arg);
struct eng_drop_src {                /* where the drop counts are */
	const uint64_t *rp;          /* rp_stats.drops */
	const uint64_t *l2;          /* pmdg's drops */
	const uint64_t *crypto;      /* eng_crypto_stats.drops; NULL: no frame security */
};
void eng_drops_each(const struct eng_drop_src *src, eng_counter_fn *fn, void *arg);
/* "N harmful (reason n, ...); M harmless (reason m, ...)" */
void eng_drops_summary(const struct eng_drop_src *src, char *out, size_t size);

/* eng_admin.c: an operator's request (text) answered as one JSON object
 * in reply (at most cap bytes; returns its length); admin_ok: the caller
 * may change the node. Control thread. */
size_t eng_admin_request(struct eng *e, const char *request, int admin_ok, char *reply, size_t cap);
/* Worker: performs what the control thread asked for. */
void eng_admin_poll(struct eng *e);

/* eng_metrics.c: GET /metrics on [node] metrics_listen (nothing if empty);
 * 0, or -1 with err */
int eng_metrics_start(struct eng *e, char *err, size_t err_size);
void eng_metrics_stop(struct eng *e);

/* eng_telemetry.c */
/* eng_create()'s thread. */
int eng_telemetry_register(struct eng *e);
/* Any thread: telemetry answers "no engine" from now on. */
void eng_telemetry_unregister(void);
/* One consistent copy of the snapshot (any thread); -1 if no engine runs. */
int eng_snapshot_read(struct eng_snapshot *out);
/* Copies the node's state into the snapshot (worker only). */
void eng_publish(struct eng *e);
/* 1 once after telemetry asked to reset the delivery gap (worker only). */
int eng_telemetry_take_gap_reset(void);
/* Any thread. */
const char *eng_state_name(uint8_t s);
const char *eng_path_state_name(uint8_t s);

#endif
