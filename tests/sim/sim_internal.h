/* sim_internal.h — the simulator's state, shared by sim.c (events, network,
 * load) and sim_check.c (the checker). Not used outside tests/sim/.
 */
#ifndef SIM_INTERNAL_H
#define SIM_INTERNAL_H

#include "sim.h"

#include <stddef.h>

#define SIM_PAYLOAD_HDR 16u /* index (8), size (4), 0xA5 x 4 */

enum sim_event_kind { SIM_EV_ARRIVE = 1, SIM_EV_TIMER, SIM_EV_LOAD, SIM_EV_SCRIPT };

struct sim_buf {
	uint32_t refs;
	uint32_t size;
	uint8_t data[];
};

struct sim_event {
	uint64_t at;
	uint64_t order;
	enum sim_event_kind kind;
	uint32_t node;
	uint8_t path;
	uint64_t gen;
	struct sim_buf *buf;
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

static inline uint32_t sim_stream_index(uint16_t origin, uint32_t client, uint8_t prio)
{
	uint32_t o = origin >= 1 && origin <= SIM_NODES_MAX ? origin - 1u : 0;
	uint32_t c = client < SIM_CLIENTS_MAX ? client : 0;
	uint32_t p = prio < RP_PRIO_COUNT ? prio : 0;
	return (o * SIM_CLIENTS_MAX + c) * RP_PRIO_COUNT + p;
}

struct sim_node {
	uint32_t index;
	uint16_t id;
	bool alive;
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
	struct rp_ring_id ring;
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
};

/* The reference order of one ring: message indices in delivery order. */
struct sim_log {
	struct rp_ring_id ring;
	uint64_t *v;
	size_t count, cap;
};

struct sim {
	struct sim_opts opts;
	uint64_t rng[4];
	uint64_t now;
	uint64_t digest;
	struct sim_event *ev;
	size_t ev_count, ev_cap;
	uint64_t ev_order;
	uint64_t events, steps;
	struct sim_path paths[RP_PATHS_MAX];
	struct sim_node nodes[SIM_NODES_MAX];
	struct sim_msg *msgs;
	uint64_t msg_count, msg_cap;
	uint64_t refused;
	/* checker */
	struct sim_log *logs;
	size_t log_count;
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
uint8_t sim_payload_byte(uint64_t index, uint32_t size, uint32_t off);

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

#endif
