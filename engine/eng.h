/* eng.h — the node runtime (docs/design.md §5): configuration, the poll-mode
 * worker that drives ring-proto over pmd-glue, the built-in load generator,
 * persisted state, statistics and telemetry.
 *
 * Owns: everything between the daemon's main() and ring-proto: reading the
 * configuration file, the node's state directory, the worker loop (rx on
 * every path, tokens after data, timers from ring-proto's deadline, the TSC
 * read once per iteration, the idle strategy), performing ring-proto's
 * actions, and publishing a consistent snapshot of the node's state for
 * telemetry readers.
 *
 * Never: touches DPDK ethdev (pmd-glue does), or lets bad input (a frame, a
 * configuration value) crash the node: configuration errors are one line
 * naming the key; frames are counted drops.
 *
 * Thread context: the worker is whichever EAL lcore calls eng_run() — the
 * main lcore in ordod, another lcore in in-process mode (ordo_inproc.c) —
 * and owns all node state from eng_create() to eng_destroy(); it is an RCU
 * (QSBR) reader of the client table, registered for the whole of eng_run()
 * and reporting its quiescent state once per duty cycle. Telemetry
 * callbacks run on DPDK's telemetry thread and read only the
 * seqlock-protected snapshot (eng_snapshot) and the atomic request flags;
 * the control thread (eng_control.c) attaches clients and publishes client
 * tables by RCU. Each declaration below says where it may be called.
 */
#ifndef ENG_H
#define ENG_H

#include <limits.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>

#include "pmdg_net.h"
#include "rp.h"

_Static_assert(PMDG_NODES_MAX == RP_NODES_MAX, "pmd-glue's node table covers ring-proto's node ids");

enum eng_idle { ENG_IDLE_SPIN = 0, ENG_IDLE_YIELD, ENG_IDLE_BACKOFF, ENG_IDLE_BLOCK, ENG_IDLE_ADAPTIVE };
/* [node] log_level, in rte_log's order from RTE_LOG_ERR */
enum eng_log_level { ENG_LOG_ERROR = 0, ENG_LOG_WARNING, ENG_LOG_NOTICE, ENG_LOG_INFO, ENG_LOG_DEBUG };
/* [node] log: where the log goes */
enum eng_log_target { ENG_LOG_TO_STDERR = 0, ENG_LOG_TO_SYSLOG, ENG_LOG_TO_JOURNAL };

#define ENG_ADDRESSES_MAX 4096u /* [pathN] addresses, neighbours: 64 IPv6 entries */
#define ENG_CLIENTS_LIMIT 4096u /* [node] max_clients at most */

struct eng_path_conf {
	uint64_t nodes;    /* the configured nodes on this network (bit id-1); 0: every one */
	char device[256];
	uint16_t rx_desc, tx_desc;
	uint32_t mbufs;
	uint32_t framesz;  /* af_packet's framesz= from the device string, 0 if none */
	/* udp4 / udp6 (docs/ordod.md, Transports): the keys' text as written,
	 * and net, what pmd-glue gets: transport and neighbour_learning
	 * directly, the rest parsed from the text and checked */
	char address[64], gateway[64], multicast[64];
	char addresses[ENG_ADDRESSES_MAX], neighbours[ENG_ADDRESSES_MAX];
	struct pmdg_net_conf net;
};

struct eng_load_conf {
	uint32_t size;            /* 0: no load */
	uint64_t rate;            /* messages per second; 0: flood */
	uint64_t count;           /* 0: no limit */
	uint8_t service;          /* enum rp_service */
	uint8_t priority;
	uint64_t start_delay_ns;
};

#define ENG_LOAD_HDR_SIZE 24u
#define ENG_ALLOW_MAX 32u           /* [node] allow_users, allow_groups: entries each */
#define ENG_ENVELOPE_MAX 34u        /* a client message's envelope: kind, length, 32-byte group */
#define ENG_LOAD_CLIENT 0xFFFFFF01u /* client id of the load generator's messages */

/* The node's configuration: every field a key of the file fills is listed
 * in eng_config.c's key table (engine/README.md, "Adding a configuration
 * key"). */
struct eng_config {
	struct rp_config rp;      /* incarnation, ring_seq and primaries come from the state dir;
				   * frame_size_max is mtu less the largest path transport's headers */
	uint8_t ring_id;
	uint32_t mtu;             /* [ring] mtu: Ethernet payload bytes per frame on every path */
	uint16_t udp_port;        /* [ring] udp_port: the routed transports' port */
	uint32_t max_message_size; /* what an application may publish; rp.message_size_max
				    * adds ENG_ENVELOPE_MAX */
	char state_dir[PATH_MAX - 32];
	enum eng_idle idle;
	int zero_copy;            /* keep received frames in their mbufs (docs/protocol.md §14) */
	uint64_t backoff_yield_ns; /* idle = backoff (adaptive: on a device it cannot wait on): yield while work came within this long, */
	uint64_t backoff_sleep_ns; /* ... then sleep this long at a time (adaptive: when it cannot block) */
	uint32_t wake_priority;   /* idle = block, adaptive: sleep as SCHED_FIFO of this priority; 0: off */
	uint64_t adaptive_yield_ns; /* idle = adaptive, busy ring: yield this long after work, then sleep */
	int log_level;            /* enum eng_log_level: RTE_LOG_ERR + log_level */
	int log_target;           /* enum eng_log_target */
	char config_file[PATH_MAX]; /* the file this was read from (ordoctl reload); not a key */
	char metrics_listen[64];  /* ADDRESS:PORT of the Prometheus endpoint; "" off */
	char lcores[128];
	char file_prefix[64];
	uint32_t memory_mb;
	int hugepages;
	char eal_args[256];
	struct eng_path_conf path[RP_PATHS_MAX];
	struct eng_load_conf load;
	int profile_dedicated;
	char socket_path[108];    /* the control socket clients attach through; "" none */
	/* who may attach (docs/security.md §7): as written in the file; the
	 * names are resolved (eng_resolve_ids) when the socket is made */
	char socket_mode[8];      /* octal permission bits of the control socket */
	char socket_user[64];     /* its owner, a user name or uid; "": the daemon's */
	char socket_group[64];    /* its group, a group name or gid; "": the daemon's */
	char allow_users[512];    /* users who may attach, comma separated; with allow_groups */
	char allow_groups[512];   /* "" both: whoever the socket's mode lets connect */
	/* frame security (docs/security.md): no key file, none */
	char key_file[PATH_MAX - 32];
	int cipher;               /* enum eng_cipher */
	int protect;              /* enum eng_protect */
	uint64_t client_evict_ms; /* a client not draining its deliveries this long is evicted */
	uint32_t max_clients;     /* clients attached at once; past it attach is ORDO_ECLIENTS */
	uint32_t client_budget_kib; /* a client's unsent publishes at most (its submit ring's bytes); 0: the ring */
	uint64_t assembly_timeout_ms; /* a message in pieces none of which came this long is dropped */
	uint32_t assembly_buffers; /* large client messages assembled at once (message_size_max each) */
	uint32_t max_groups;      /* the group table (eng_groups.h): groups, and members of one group; */
	uint32_t max_group_members; /* the same at every node: a JOIN past them is refused everywhere */
	uint32_t protocol_test;   /* rp.proto_min/max may name versions this build does not implement */
};

/* Reads and checks a configuration file. Returns 0, or -1 with err holding
 * one line "<section>.<key> = '<value>': <why>" (or the file's problem).
 * Any thread, no RCU; libc only (it runs before the EAL). */
int eng_config_load(const char *file, struct eng_config *c, char *err, size_t err_size);

/* The same over a configuration's text (NUL-terminated; split in place);
 * name stands for the file in error messages. */
int eng_config_parse(char *text, const char *name, struct eng_config *c, char *err, size_t err_size);

/* Writes the configuration as the node will use it, every key with its
 * value: as an INI file that loads to the same configuration (--check), or
 * as one JSON object of sections (--check --json). */
void eng_config_print(const struct eng_config *c, FILE *out);
void eng_config_print_json(const struct eng_config *c, FILE *out);
/* s as a JSON string (quoted, escaped) into out; returns the length it
 * needs (as snprintf). */
size_t eng_json_string(char *out, size_t size, const char *s);

/* Calls fn for every key whose value differs between a and b (section
 * "path<k>" for a path's), saying whether `ordoctl reload` applies it to
 * a running node; returns how many differ. */
typedef void eng_config_diff_fn(void *arg, const char *section, const char *key, int live);
int eng_config_diff(const struct eng_config *a, const struct eng_config *b, eng_config_diff_fn *fn, void *arg);

/* ADDRESS:PORT (IPv4, or [IPv6]:PORT) into *ss (a struct sockaddr_storage);
 * 0, or -1 if spec is not one. */
int eng_parse_listen(const char *spec, void *ss);

/* Writes the key reference of docs/ordod.md: a Markdown table of every key
 * (section, name, type, range, default, meaning) and one of the timeout
 * profiles (ordod --keys). */
void eng_config_print_keys(FILE *out);

/* Resolves a comma-separated list of user (groups = 0) or group names or
 * numeric ids into out (at most max). Returns the count, or -1 with why
 * naming the entry that does not resolve. libc (getpwnam_r, getgrnam_r). */
int eng_resolve_ids(const char *list, int groups, uint32_t *out, uint32_t max, char *why, size_t why_size);
/* The control socket's permission bits from [node] socket_mode: 0..0777, or -1. */
int eng_socket_mode(const char *text);

/* Builds the EAL argument vector for c into argv (at most argv_max entries,
 * strings stored in buf). Returns argc, or -1 if it does not fit. Any
 * thread, before the EAL. */
int eng_config_eal_argv(const struct eng_config *c, const char *prog, char **argv, int argv_max,
			char *buf, size_t buf_size);

/* ---- state directory (eng_state.c) ---- */

/* Creates the state directory if needed, takes its exclusive lock (held
 * until the process ends or eng_state_stop; another process holding it is
 * an error naming the directory and that process's PID), reads the
 * persisted ring state into c->rp and sets c->rp.incarnation to a value
 * larger than every earlier start's (persisted before returning). Returns
 * 0, or -errno with err set. The starting thread, before eng_create(). */
int eng_state_start(struct eng_config *c, char *err, size_t err_size);
/* Releases the state directory's lock (after eng_destroy; no-op if none). */
void eng_state_stop(void);

/* Records RP_ACT_PERSIST durably (write, fsync, rename). Returns 0 or
 * -errno. Worker only (it blocks on fsync: a persist is rare). */
int eng_state_persist(const struct eng_config *c, const struct rp_persist *p);

/* Frame counters (docs/security.md §3): the first counter of this start,
 * max(the persisted reservation, incarnation * per_us), and a new
 * reservation start + reserve, persisted before returning. Returns 0, or
 * -errno with err set. */
int eng_state_counter_start(const struct eng_config *c, uint64_t per_us, uint64_t reserve, uint64_t *start,
			    uint64_t *limit, char *err, size_t err_size);
/* Persists a higher reservation (worker, when the counter reaches it). */
int eng_state_counter_reserve(const struct eng_config *c, uint64_t limit);

/* ---- the node (eng_worker.c) ---- */

struct eng;

/* Opens the ports and initialises ring-proto and the telemetry commands.
 * Call after pmdg_eal_init(), on the thread that starts the node. Returns
 * NULL with err set on failure. */
struct eng *eng_create(const struct eng_config *c, char *err, size_t err_size);

/* Runs the worker loop on the calling lcore (it becomes the worker: the
 * main lcore in ordod, a worker lcore in in-process mode) until *stop
 * becomes non-zero, then leaves the ring politely (bounded wait) and
 * returns. Registers the thread with RCU (QSBR) for its duration. */
void eng_run(struct eng *e, volatile int *stop);

/* 1 if the node stopped because its state could not be persisted. Any
 * thread after eng_run() returned. */
int eng_failed(const struct eng *e);
/* The eventfd that wakes a worker blocked in idle = block (in-process
 * clients get a duplicate). Any thread. */
int eng_doorbell_fd(const struct eng *e);

/* Asks the worker to re-read the key file and install a new key as the
 * next one (docs/protocol.md §15.5). Async-signal-safe: one atomic store. */
void eng_key_reload_request(struct eng *e);

/* Logs the final counters, closes the ports, frees the node. The thread
 * that created it, after eng_run() returned. */
void eng_destroy(struct eng *e);

/* Writes the counter reference of docs/ordod.md: every ring-proto and
 * worker counter telemetry reports, with its kind (event, harmless,
 * harmful) and meaning, as a Markdown table (ordod --counters). Any
 * thread. */
void eng_telemetry_print_counters(FILE *out);

/* The logtype registered for ordo's messages. */
extern int eng_logtype;

/* ---- the log (eng_log.c) ---- */

/* Takes over DPDK's log stream (call before the EAL starts): every line,
 * the engine's and DPDK's, goes to target (enum eng_log_target) with its
 * time, severity and node id, rate-limited; DPDK's lines below WARNING only
 * at level (enum eng_log_level) debug. Registers eng_logtype. ident names
 * the program in syslog and the journal. Returns 0, or -1 (the log stays
 * DPDK's). */
int eng_log_open(int target, int level, uint16_t node_id, const char *ident);
/* After rte_eal_init(): its --log-level options reset every type's level;
 * this sets ordo's again. */
void eng_log_levels(void);
/* A new level for the node's lines (ordoctl reload). */
void eng_log_set_level(int level);
/* Logs what the rate limiter still holds and gives DPDK its stream back. */
void eng_log_close(void);

#endif
