/* eng_clients.h — attached clients and groups, the engine side of
 * docs/attach.md.
 *
 * Owns: struct eng_client (one attached application: its shared region,
 * rings, in-flight submits, overflow queue), the client table the worker
 * reads through liburcu QSBR, the group table (eng_groups.h: worker-owned,
 * changed only in delivery order), and the control thread (eng_control.c) that attaches
 * clients from the control socket or in-process.
 *
 * Thread context: see each function. The worker is the only thread that
 * touches a client's rings, its in-flight state and the group table; the
 * control thread creates and finally frees clients.
 */
#ifndef ENG_CLIENTS_H
#define ENG_CLIENTS_H

#include <stdint.h>

#include "attach_proto.h"
#include "rp.h"

#define ENG_INFLIGHT_MAX 1024u        /* zero-copy submits per client awaiting SUBMIT_DONE */
#define ENG_OVERFLOW_MAX (16u << 20)  /* deliveries kept for a client whose ring is full */
#define ENG_COOKIE_CLIENT (1ull << 63) /* submit cookies of a client's zero-copy record */
#define ENG_COOKIE_BUF (1ull << 62)    /* an ops arena record (its address below) */

enum eng_client_state {
	ENG_CL_ACTIVE = 1,
	ENG_CL_LEAVING,   /* leave ops submitted; waiting for in-flight submits */
	ENG_CL_GONE,      /* the worker is done with it: the control thread frees it */
};

enum eng_held {
	ENG_HELD_NO = 0,
	ENG_HELD_OP,         /* behind its JOIN or LEAVE, still in the ops arena */
	ENG_HELD_PUBLISHES,  /* a JOIN or LEAVE behind its publishes at lower priorities */
};

struct eng_inflight {
	uint64_t end;     /* submit ring position after the record; 0: not a ring record */
	void *buf;        /* an assembly buffer to free when done */
	uint8_t done;
	uint8_t low;      /* a publish below the group ops' priority: counted in unsequenced */
};

struct eng_assembly {  /* a large message arriving in pieces, per priority */
	uint8_t *buf;
	uint32_t size, got, msg_size;
	uint64_t pub_seq;
	uint8_t service;
	uint64_t last_ns;     /* when its last piece was taken */
	/* a message dropped because its pieces stopped coming (its later
	 * pieces are skipped, its last answered with PUB_FAILED) */
	uint8_t dropped;
	uint32_t dropped_size;
	uint64_t dropped_seq;
};

struct eng_client {
	/* set by the control thread before the client is published, then read-only */
	uint32_t id;
	uint16_t slot;
	int sock_fd;           /* control socket; -1 in-process */
	int event_fd;
	int mem_fd;
	uint8_t *region;
	uint64_t region_size;
	struct att_region_hdr *hdr;
	char name[32];
	_Atomic uint32_t closing;  /* control thread: the client detached or died */
	_Atomic uint32_t gone;     /* worker: it no longer touches the client */
	uint8_t retired;           /* control thread: left out of the next table, freed after it */

	/* worker-owned */
	uint32_t state;            /* enum eng_client_state */
	uint32_t leave_reason;     /* enum ordo_reason */
	struct shm_ring_cons submit;
	struct shm_ring_prod deliver;
	struct eng_inflight inflight[ENG_INFLIGHT_MAX];
	uint32_t if_head, if_count; /* FIFO of in-flight submits, in ring order */
	struct eng_assembly asm_[RP_PRIO_COUNT];
	uint8_t *overflow;         /* records that did not fit the delivery ring: mapped at attach
				    * (reserved, not touched: pages come as it fills) */
	uint32_t ov_size, ov_head, ov_tail; /* byte queue of (u32 len, u16 type, u16 flags, payload) */
	uint64_t stalled_since_ns; /* 0: draining */
	uint64_t closing_since_ns; /* when the worker first saw it closing */
	uint8_t need_wake;         /* records were written since the last wake check */
	uint8_t room_freed;        /* submit bytes were released since the last wake check */
	/* one client's order (docs/attach.md §5): its records after a JOIN or
	 * LEAVE wait until ring-proto took the op (the ops arena's handed
	 * position reached op_until); a JOIN or LEAVE waits until ring-proto
	 * returned its publishes at lower priorities (unsequenced) */
	uint64_t op_until;
	uint32_t unsequenced;
	uint8_t held;              /* enum eng_held: why its drain stopped last */
	uint64_t delivered, published, garbage;
};

struct eng_client_table {
	uint32_t count;
	struct eng_client *v[];    /* [node] max_clients entries */
};

struct eng;

/* "Worker": the worker lcore inside a duty cycle, an online RCU (QSBR)
 * reader of e->clients (the duty cycle reports the quiescent state, never
 * these functions). */

/* Worker: called once per duty cycle; drains submit rings, flushes
 * overflow queues, evicts, retires. Returns work done. */
uint32_t eng_clients_poll(struct eng *e);
/* Worker: once per duty cycle, after the tx flush: wakes every active
 * client given records since the last call that sleeps on its descriptor
 * (frames go out before local readers take the CPU). */
void eng_clients_wake(struct eng *e);
/* Worker: a whole message or a fragment was delivered. */
void eng_clients_deliver(struct eng *e, const struct rp_delivery *d);
/* Worker: queues a copy of an engine message for the total order, at the
 * group operations' priority (the ops arena: no allocation). 0, or -1 if
 * the arena is full (counted as a lost op). */
int eng_clients_queue_op(struct eng *e, const uint8_t *buf, uint32_t size);
/* Worker: a configuration was installed. */
void eng_clients_config(struct eng *e, const struct rp_configuration *c);
/* Worker: ring-proto returned a client's submit. */
void eng_clients_submit_done(struct eng *e, uint64_t cookie);
/* Worker, idle = block or adaptive: marks every client's region "engine
 * sleeping", fences, and returns 1 if the worker must not block after all
 * (a client's records it has not taken, whether committed since its last
 * look or left for want of room, a new client, an overflow queue still to
 * flush). Each call is followed by eng_clients_disarm_sleep(). */
int eng_clients_arm_sleep(struct eng *e);
void eng_clients_disarm_sleep(struct eng *e);
/* Worker, at shutdown (still an RCU reader): tells every client the engine
 * stopped. */
void eng_clients_stop(struct eng *e);

/* Control thread (eng_control.c): registered with RCU; it publishes a new
 * client table with rcu_assign_pointer and frees the old one after
 * synchronize_rcu (the worker's next quiescent state). */
int eng_control_start(struct eng *e, const char *socket_path, char *err, size_t err_size);
void eng_control_stop(struct eng *e);
/* Marks a client as detaching (in-process ordo_detach). Any thread. */
void eng_control_detach(struct eng *e, uint32_t client_id);
/* Creates a client and publishes it to the worker; returns it (NULL with
 * *err = ORDO_E*). Any thread but the worker. */
struct eng_client *eng_control_attach(struct eng *e, const struct att_hello *h, int sock_fd, int *err);

#endif
