/* callgrind_ring.c — ring-cost: a fixed workload through the in-memory ring,
 * for counting instructions per delivered message under callgrind.
 *
 * Usage: ring-cost SIZE [MSGS_PER_NODE [NODES]]   (defaults 20000, 3)
 * With RING_COST_LEND=1 in the environment the nodes keep lent frames
 * instead of copying them into their stores (docs/protocol.md §14).
 * Run as: valgrind --tool=callgrind --instr-atstart=no ring-cost 1024
 * Only the measured run is instrumented: creating the ring (and pre-faulting
 * its memory) and a warm-up run of MSGS_PER_NODE / 10 messages happen with
 * instrumentation off. Prints the measured run's deliveries, rp_step calls and
 * frames moved; bench/proto-cost.sh divides callgrind's total by deliveries.
 * Outside valgrind the client requests are no-ops, and it prints wall time.
 *
 * Never: measures setup; hides a stall (exits 1 if the ring stopped short).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime under -std=c11 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <valgrind/callgrind.h>

#include "ring_mem.h"

static uint32_t arg_u32(const char *s, const char *what)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v > UINT32_MAX) {
		fprintf(stderr, "ring-cost: %s must be a number, not '%s'\n", what, s);
		exit(2);
	}
	return (uint32_t)v;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: ring-cost SIZE [MSGS_PER_NODE [NODES]]\n");
		return 2;
	}
	uint32_t size = arg_u32(argv[1], "SIZE");
	uint32_t msgs = argc > 2 ? arg_u32(argv[2], "MSGS_PER_NODE") : 20000u;
	uint32_t nodes = argc > 3 ? arg_u32(argv[3], "NODES") : 3u;
	struct ring_mem *rm = ring_mem_create(nodes);
	if (!rm) {
		fprintf(stderr, "ring-cost: cannot create a ring of %u nodes\n", nodes);
		return 2;
	}
	nodes = ring_mem_node_count(rm);
	const char *lend = getenv("RING_COST_LEND");
	if (lend != NULL && lend[0] == '1')
		ring_mem_lend(rm);
	uint32_t warm = msgs / 10u;
	uint64_t expect_warm = (uint64_t)nodes * nodes * warm;
	if (ring_mem_run(rm, warm, size) != expect_warm) {
		fprintf(stderr, "ring-cost: the ring stalled during warm-up\n");
		return 1;
	}
	uint64_t steps0 = ring_mem_steps(rm), frames0 = ring_mem_frames(rm);
	double t0 = now_s();
	CALLGRIND_START_INSTRUMENTATION;
	CALLGRIND_ZERO_STATS;
	uint64_t deliveries = ring_mem_run(rm, msgs, size);
	CALLGRIND_STOP_INSTRUMENTATION;
	double t = now_s() - t0;
	uint64_t expect = (uint64_t)nodes * nodes * msgs;
	printf("size %u nodes %u msgs_per_node %u\n", size, nodes, msgs);
	printf("deliveries %" PRIu64 "\n", deliveries);
	printf("steps %" PRIu64 "\n", ring_mem_steps(rm) - steps0);
	printf("frames %" PRIu64 "\n", ring_mem_frames(rm) - frames0);
	printf("wall_ns_per_delivery %.1f\n", deliveries ? t * 1e9 / (double)deliveries : 0.0);
	ring_mem_destroy(rm);
	if (deliveries != expect) {
		fprintf(stderr, "ring-cost: stalled after %" PRIu64 " of %" PRIu64 " deliveries\n",
			deliveries, expect);
		return 1;
	}
	return 0;
}
