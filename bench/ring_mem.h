/* ring_mem.h — an in-memory ring of ring-proto nodes for the benchmarks.
 *
 * Owns: N nodes (ids 1..N, one path, the default configuration with
 * frame_size_max 8960) joined by one FIFO of frame copies: no loss, no delay,
 * no reordering, and a clock that never moves (now_ns is always 0, so the
 * token-retransmit timer never fires; nothing is lost for it to repair).
 * A single FIFO delivers every frame in send order, so a token always
 * arrives after the data frames sent before it.
 *
 * Never: checks what it delivers byte by byte or runs rp_check_invariants
 * (that is the simulator's job, tests/sim/); allocates per frame or per
 * message in steady state (frame buffers come from a pool that only grows,
 * and each node publishes from one preallocated payload buffer), so that
 * what a benchmark measures is mostly ring-proto.
 *
 * Thread context: one thread per struct ring_mem; nothing is shared.
 */
#ifndef RING_MEM_H
#define RING_MEM_H

#include <stdint.h>

#include "rp.h"

struct ring_mem;

/* Creates a ring of node_count nodes (1..RP_NODES_MAX; 0 means 3). Node
 * memory is pre-faulted here so that page faults stay out of measurements.
 * The ring forms at the first step. Returns NULL on a bad count or no memory. */
struct ring_mem *ring_mem_create(uint32_t node_count);
void ring_mem_destroy(struct ring_mem *rm);

/* Publishes msgs_per_node messages of size bytes from every node (AGREED,
 * priority 0, client 0), feeding each node's submit queue as
 * RP_ACT_SUBMIT_DONE frees room, and moves frames until every node has
 * delivered every one of them. Returns the whole-message deliveries counted
 * during the call: node_count * node_count * msgs_per_node, or fewer if the
 * ring stalled (a ring-proto liveness bug; see ring_mem_stalled()).
 * The ring carries on from where the previous call left it (the token keeps
 * circulating between calls). size must be at most message_size_max (1 MiB). */
uint64_t ring_mem_run(struct ring_mem *rm, uint32_t msgs_per_node, uint32_t size);

/* From now on, hand frames to the nodes as lent (docs/protocol.md §14):
 * a node keeps the pool buffer instead of copying it into its store. The
 * pool is sized for every node's whole store first and never moves after.
 * A buffer stays shared by its receivers: fine here, where nothing is lost,
 * so nothing is retransmitted (the only write to a stored frame). */
void ring_mem_lend(struct ring_mem *rm);

/* Moves one frame: hands the FIFO's head to its node and performs the
 * actions. Returns 1, or 0 if nothing was in flight. */
int ring_mem_pump(struct ring_mem *rm);

/* The frame at the FIFO's head (NULL if none): its bytes, size, receiving
 * node index (0-based) and path. Valid until the next call on rm. */
const uint8_t *ring_mem_peek(const struct ring_mem *rm, uint32_t *size, uint32_t *to_index,
			     uint8_t *path);

/* Counters since creation. */
uint64_t ring_mem_steps(const struct ring_mem *rm);      /* rp_step calls */
uint64_t ring_mem_deliveries(const struct ring_mem *rm); /* whole messages, all nodes */
uint64_t ring_mem_frames(const struct ring_mem *rm);     /* frames moved through the FIFO */
uint32_t ring_mem_in_flight(const struct ring_mem *rm);  /* frames in the FIFO now */
int ring_mem_stalled(const struct ring_mem *rm);         /* a run gave up */

uint32_t ring_mem_node_count(const struct ring_mem *rm);
/* Node by 0-based index (its id is index + 1), and its configuration. */
struct rp_node *ring_mem_node(struct ring_mem *rm, uint32_t index);
void ring_mem_config(const struct ring_mem *rm, uint32_t index, struct rp_config *out);

#endif
