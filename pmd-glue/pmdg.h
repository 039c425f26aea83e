/* pmdg.h — pmd-glue: the only code that touches DPDK ethdev (docs/design.md §5).
 *
 * Owns: EAL start and stop, one ethdev port per redundant path with one rx
 * and one tx queue, a mempool per path, burst rx and tx, and a transport
 * per path: `l2`, ordo's Ethernet framing (EtherType 0x88B5, a multicast
 * MAC per ring for frames to all nodes, and a locally administered unicast
 * MAC per (ring, node) for frames to one node: the token, the commit
 * token); or `udp4` / `udp6`, UDP over IP from the port's own MAC, with
 * ARP / Neighbour Discovery for the node's address and its next hops
 * (pmdg_net.h does the bytes; this file the mbufs and the port). A frame
 * to every node goes to the ring's IP multicast group if one is set, else
 * once to each other node: the payload is written once into one mbuf and
 * shared (reference count) by one small header mbuf per destination.
 * Frames are filtered on receipt and every refusal is counted by reason.
 *
 * Never: interprets ordo's header beyond the two fields framing needs (the
 * frame type, to let the caller feed tokens after data; frame_size, to strip
 * Ethernet padding), logs per packet, or allocates after pmdg_open().
 *
 * Thread context: one struct pmdg is owned by the worker lcore; the counters
 * in pmdg_path_stats are written only by it (readers take a snapshot through
 * the engine's seqlock).
 */
#ifndef PMDG_H
#define PMDG_H

#include <stddef.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "pmdg_net.h"
#include "pmdg_name.h" /* pmdg_device_name() */

#define PMDG_ETHERTYPE 0x88B5u
#define PMDG_PATHS_MAX 4u
#define PMDG_BURST 64u

struct pmdg_port_conf {
	const char *device;   /* vdev string ("net_af_packet0,iface=p0,...") or PCI address */
	uint16_t rx_desc, tx_desc;
	uint32_t mbufs;       /* mempool elements */
	uint32_t data_room;   /* bytes of data per mbuf, headroom excluded */
	const struct pmdg_net_conf *net; /* the path's transport and addresses (NULL: l2) */
};

struct pmdg_conf {
	uint8_t path_count;
	uint8_t ring_id;      /* 1..255 */
	uint16_t node_id;     /* 1..64 */
	uint32_t mtu;         /* Ethernet payload bytes: an ordo frame (l2), or IP header, UDP header and ordo frame */
	uint8_t path_mask;    /* the paths to open: the networks this node is on (0: every one) */
	struct pmdg_port_conf port[PMDG_PATHS_MAX];
};

struct pmdg_path_stats {
	uint64_t rx_frames, rx_bytes;
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_full;     /* frames the tx queue did not take: dropped, the protocol repairs */
	uint64_t tx_nombuf;   /* no mbuf to send with: dropped */
};

struct pmdg {
	struct pmdg_conf conf;
	uint16_t port_id[PMDG_PATHS_MAX];
	struct rte_mempool *pool[PMDG_PATHS_MAX];
	struct rte_ether_addr ring_mac;  /* 03:4f:52:00:00:<ring> */
	struct rte_ether_addr self_mac;  /* 02:4f:52:<ring>:00:<node> */
	struct rte_mbuf *tx[PMDG_PATHS_MAX][PMDG_BURST];
	uint16_t tx_count[PMDG_PATHS_MAX];
	uint8_t started[PMDG_PATHS_MAX];
	struct pmdg_path_stats stats[PMDG_PATHS_MAX];
	uint64_t drops[PMDG_DROP_COUNT];
	/* Received mbufs a caller may keep past the burst (zero-copy receive,
	 * docs/protocol.md §14) without starving the port: the pool less what
	 * the device itself holds. */
	uint32_t keep_max[PMDG_PATHS_MAX];
	uint32_t dev_held[PMDG_PATHS_MAX]; /* mbufs counted as the device's */
	/* udp4 / udp6 paths */
	struct pmdg_net net[PMDG_PATHS_MAX];
	struct rte_mempool *hdr_pool[PMDG_PATHS_MAX]; /* one header per destination of a fan-out */
	uint32_t payload_max[PMDG_PATHS_MAX];  /* largest ordo frame the path carries */
	uint8_t tx_csum[PMDG_PATHS_MAX];       /* the port computes IP and UDP checksums */
	uint8_t rx_csum[PMDG_PATHS_MAX];       /* the port checks them and says so in ol_flags */
	uint8_t tx_chain[PMDG_PATHS_MAX];      /* the port sends chained mbufs */
	uint64_t now_ns;                       /* the worker's clock at the last pmdg_tick() */
};

/* Starts the EAL with argv (argv[0] is the program name). Returns 0, or
 * -errno with a message in err. Call once per process. */
int pmdg_eal_init(int argc, char **argv, char *err, size_t err_size);
/* Stops the EAL (after pmdg_close) and removes its runtime directory
 * /var/run/dpdk/<file_prefix>/, which would otherwise stay behind (a few
 * MiB of memory maps and sockets). Once, after a successful init. */
void pmdg_eal_cleanup(void);

/* Finds, configures and starts one port per path. Returns 0, or -errno with
 * err naming the path and what failed (everything opened is closed again). */
int pmdg_open(struct pmdg *g, const struct pmdg_conf *c, char *err, size_t err_size);
void pmdg_close(struct pmdg *g);

/* The node's unicast MAC on a ring (for a destination node id). */
void pmdg_node_mac(uint8_t ring_id, uint16_t node_id, struct rte_ether_addr *mac);

/* Receives up to n frames from path's queue into pkts. */
static inline uint16_t pmdg_rx(struct pmdg *g, uint8_t path, struct rte_mbuf **pkts, uint16_t n)
{
	if (!g->started[path])
		return 0; /* a network this node is not on (docs/protocol.md §17) */
	return rte_eth_rx_burst(g->port_id[path], 0, pkts, n);
}

/* The path a received mbuf came from, by its pool (each path has its own;
 * not every PMD sets m->port): PMDG_PATHS_MAX if none. */
static inline uint8_t pmdg_path_of(const struct pmdg *g, const struct rte_mbuf *m)
{
	for (uint8_t p = 0; p < g->conf.path_count; p++)
		if (g->pool[p] == m->pool)
			return p;
	return PMDG_PATHS_MAX;
}

/* Checks one received frame's framing (Ethernet; on a routed path also IP
 * and UDP, checksums included) and returns a pointer to its ordo payload
 * and its length (padding stripped), or NULL after counting the drop or
 * taking an ARP / ND frame (answering it) (the caller frees the mbuf either
 * way). A frame that spans segments is copied and its payload returned at
 * scratch itself (scratch holds at least conf.mtu + 64 bytes). */
const uint8_t *pmdg_payload(struct pmdg *g, uint8_t path, struct rte_mbuf *m, uint8_t *scratch,
			    size_t *len);

/* Queues a copy of frame on path, to node dest (0: every node of the ring),
 * stamping the path index into the copy (rp_wire_set_path). Sends a burst
 * when one is full. Returns 0, or -1 after counting a drop (no mbuf; on a
 * routed path also: no MAC for the next hop yet, tx_unresolved). */
int pmdg_send(struct pmdg *g, uint8_t path, uint16_t dest, const uint8_t *frame, uint32_t size);

/* The same, to every node, from the port's own MAC instead of the node's
 * (02:4f:52:...): a DUP_NOTICE (docs/protocol.md §8.8) must not move the
 * node id's MAC in the learning bridges to this process. -1 on an L2 port
 * whose MAC is the node's (nothing sent). */
int pmdg_send_from_port(struct pmdg *g, uint8_t path, const uint8_t *frame, uint32_t size);

/* Who sent a received frame, for a log line: "MAC <src>", on a routed path
 * followed by ", address <source IP>". */
void pmdg_frame_source(const struct pmdg *g, uint8_t path, const struct rte_mbuf *m, char *out, size_t size);

/* Gives pmd-glue the worker's clock (once per loop, before receiving) and
 * queues the neighbour solicitations due on the routed paths. */
void pmdg_tick(struct pmdg *g, uint64_t now_ns);

/* The largest ordo frame a path carries: mtu less the transport's headers. */
static inline uint32_t pmdg_frame_max(const struct pmdg *g, uint8_t path) { return g->payload_max[path]; }

/* Sends every queued frame; what the queue does not take after a bounded
 * number of retries is dropped and counted (tx_full). Returns frames sent. */
uint32_t pmdg_flush(struct pmdg *g);

/* The PMD's link state of a path: 1 up, 0 down, -1 unknown. */
int pmdg_link_up(struct pmdg *g, uint8_t path);

/* A descriptor that polls readable (EPOLLIN, level-triggered) while a
 * path's rx queue holds frames, for a worker that blocks when idle
 * (`idle = block`): the AF_PACKET socket behind an af_packet vdev (its
 * mmap ring), found by the interface it is bound to. Returns the fd (owned
 * by the PMD: never close it), PMDG_WAIT_NEVER for a device that never
 * receives (net_null with no-rx=1), or -ENOTSUP (with err) for a device
 * that gives no way to wait. */
#define PMDG_WAIT_NEVER (-1)
int pmdg_wait_fd(struct pmdg *g, uint8_t path, char *err, size_t err_size);

#endif
