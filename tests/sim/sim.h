/* sim.h — the deterministic simulator: N ring-proto nodes and P paths in one
 * process, virtual time, a seeded network model, client load, and a checker
 * of DESIGN.md §3 that runs after every step.
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

enum sim_faults { SIM_FAULTS_NONE = 0, SIM_FAULTS_NET };

struct sim;

/* Scenario hook: called for every copy of a frame about to enter the network
 * (from node index, to node index, path); return true to drop that copy. */
typedef bool (*sim_filter_fn)(struct sim *s, void *arg, uint32_t from, uint32_t to,
			      uint8_t path, const uint8_t *frame, uint32_t size);

/* A message a scenario publishes at a given time, besides the random load. */
struct sim_publish {
	uint64_t at_ns;
	uint32_t node;
	uint32_t size;
	uint8_t service;
	uint8_t priority;
};

struct sim_opts {
	uint64_t seed;
	uint32_t nodes;
	uint32_t paths;
	enum sim_faults faults;
	enum rp_mutation mutation; /* applied to node index 0 */
	bool trace;
	bool random_load;         /* publish a seeded random load (default true) */
	uint64_t load_ns;         /* load and faults last this long (virtual) */
	uint64_t liveness_ns;     /* bound, after the faults stop, to deliver all */
	uint64_t initial_seq;
	uint32_t frame_size;      /* rp frame_size_max */
	uint32_t message_size_max;
	uint32_t store_slots;
	sim_filter_fn filter;
	void *filter_arg;
	const struct sim_publish *publish; /* scripted messages */
	uint32_t publish_count;
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
	uint64_t sim_time_ns;
	uint64_t events;
	uint64_t max_seq_delivered;    /* the highest frame seq delivered */
	bool seq_wrapped;               /* delivered seqs crossed 2^64 */
};

void sim_opts_default(struct sim_opts *o);
struct sim *sim_create(const struct sim_opts *o);
void sim_run(struct sim *s, struct sim_result *r);
void sim_destroy(struct sim *s);

uint64_t sim_now(const struct sim *s);
uint64_t sim_rand(struct sim *s); /* the run's PRNG: scenario hooks use it */
const struct rp_node *sim_node(const struct sim *s, uint32_t index);

/* Runs one seed and prints its verdict line; returns 0 if it passed. */
int sim_run_one(const struct sim_opts *o, const char *replay_args, bool verbose);

#endif
