/* pmdg.h — pmd-glue: the only code that touches DPDK ethdev (docs/design.md §5).
 *
 * Owns: EAL start and stop, one ethdev port per redundant path with one rx
 * and one tx queue, a mempool per path, burst rx and tx, and ordo's Ethernet
 * framing: EtherType 0x88B5, a multicast MAC per ring for frames to all
 * nodes, and a locally administered unicast MAC per (ring, node) for frames
 * to one node (the token, the commit token). Frames are filtered on receipt
 * (EtherType, destination, size) and every refusal is counted by reason.
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

#define PMDG_ETHERTYPE 0x88B5u
#define PMDG_PATHS_MAX 4u
#define PMDG_BURST 64u

/* Frame-level L2 drop reasons, counted per node (not per path). */
enum pmdg_drop {
	PMDG_DROP_RUNT = 0,   /* shorter than an Ethernet header */
	PMDG_DROP_ETHERTYPE,  /* not ordo's EtherType (kernel chatter, others) */
	PMDG_DROP_DEST,       /* neither this ring's multicast MAC nor this node's */
	PMDG_DROP_OVERSIZE,   /* payload larger than the configured MTU */
	PMDG_DROP_COUNT
};

const char *pmdg_drop_name(enum pmdg_drop d);

struct pmdg_port_conf {
	const char *device;   /* vdev string ("net_af_packet0,iface=p0,...") or PCI address */
	uint16_t rx_desc, tx_desc;
	uint32_t mbufs;       /* mempool elements */
	uint32_t data_room;   /* bytes of data per mbuf, headroom excluded */
};

struct pmdg_conf {
	uint8_t path_count;
	uint8_t ring_id;      /* 1..255 */
	uint16_t node_id;     /* 1..64 */
	uint32_t mtu;         /* largest ordo frame (Ethernet payload) */
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
};

/* Starts the EAL with argv (argv[0] is the program name). Returns 0, or
 * -errno with a message in err. Call once per process. */
int pmdg_eal_init(int argc, char **argv, char *err, size_t err_size);
void pmdg_eal_cleanup(void);

/* The port name of a device string: the vdev name before the first comma,
 * or the PCI address; 1 if it is a vdev, 0 if PCI, -1 if neither fits. */
int pmdg_device_name(const char *device, char *name, size_t name_size);

/* Finds, configures and starts one port per path. Returns 0, or -errno with
 * err naming the path and what failed (everything opened is closed again). */
int pmdg_open(struct pmdg *g, const struct pmdg_conf *c, char *err, size_t err_size);
void pmdg_close(struct pmdg *g);

/* The node's unicast MAC on a ring (for a destination node id). */
void pmdg_node_mac(uint8_t ring_id, uint16_t node_id, struct rte_ether_addr *mac);

/* Receives up to n frames from path's queue into pkts. */
static inline uint16_t pmdg_rx(struct pmdg *g, uint8_t path, struct rte_mbuf **pkts, uint16_t n)
{
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

/* Checks one received frame's L2 framing and returns a pointer to its ordo
 * payload and its length (padding stripped), or NULL after counting the drop
 * (the caller frees the mbuf either way). A payload that spans segments is
 * copied into scratch (at least conf.mtu bytes). */
const uint8_t *pmdg_payload(struct pmdg *g, uint8_t path, struct rte_mbuf *m, uint8_t *scratch,
			    size_t *len);

/* Queues a copy of frame on path, to node dest (0: every node of the ring),
 * stamping the path index into the copy (rp_wire_set_path). Sends a burst
 * when one is full. Returns 0, or -1 after counting a drop (no mbuf). */
int pmdg_send(struct pmdg *g, uint8_t path, uint16_t dest, const uint8_t *frame, uint32_t size);

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
