/* pmdg.c — EAL, ports, mempools, burst rx/tx and ordo's L2 framing
 * (contract in pmdg.h).
 *
 * Framing: [dst MAC][src MAC][EtherType 0x88B5][ordo frame]. Frames to every
 * node go to the ring's multicast MAC 03:4f:52:00:00:<ring> (locally
 * administered, group bit set); frames to one node (tokens, commit tokens)
 * go to its unicast MAC 02:4f:52:<ring>:00:<node>, which is also the source
 * of everything the node sends, so a learning switch or bridge forwards a
 * token to its one receiver instead of flooding it. Ports run promiscuous:
 * these MACs are not the NIC's own.
 *
 * Never: blocks. A full tx queue is retried a bounded number of times and
 * then counted and dropped; the protocol's retransmission repairs a lost
 * data frame, its token retransmission a lost token.
 */
#include "pmdg.h"

#include <dirent.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

/* Offsets in ordo's header (ring-proto/rp_wire.h) that framing needs. */
#define PMDG_HDR_FRAME_SIZE 8u
#define PMDG_HDR_PATH 14u
#define PMDG_HDR_MIN 16u
/* Ethernet pads frames to 60 bytes (without FCS): a shorter ordo frame
 * arrives with trailing zeros that its frame_size excludes. */
#define PMDG_ETH_MIN_FRAME 60u
/* Tries to hand a full burst to the tx queue before dropping the rest. */
#define PMDG_TX_RETRIES 64u

static const char *const drop_names[PMDG_DROP_COUNT] = {
	[PMDG_DROP_RUNT] = "l2_runt",
	[PMDG_DROP_ETHERTYPE] = "l2_ethertype",
	[PMDG_DROP_DEST] = "l2_dest",
	[PMDG_DROP_OVERSIZE] = "l2_oversize",
};

const char *pmdg_drop_name(enum pmdg_drop d)
{
	return (unsigned)d < PMDG_DROP_COUNT ? drop_names[d] : "?";
}

int pmdg_eal_init(int argc, char **argv, char *err, size_t err_size)
{
	if (rte_eal_init(argc, argv) < 0) {
		int e = rte_errno;
		snprintf(err, err_size, "EAL initialisation failed: %s", rte_strerror(e));
		return -(e ? e : EINVAL);
	}
	return 0;
}

void pmdg_eal_cleanup(void) { rte_eal_cleanup(); }

int pmdg_device_name(const char *device, char *name, size_t name_size)
{
	size_t n = strcspn(device, ",");
	if (n == 0 || n >= name_size)
		return -1;
	memcpy(name, device, n);
	name[n] = '\0';
	if (strncmp(name, "net_", 4) == 0 || strncmp(name, "eth_", 4) == 0)
		return 1;
	/* A PCI address: [domain:]bus:device.function, hex digits. */
	unsigned dom, bus, dev, fn;
	char tail;
	if (sscanf(name, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) == 4 ||
	    sscanf(name, "%x:%x.%x%c", &bus, &dev, &fn, &tail) == 3)
		return device[n] == '\0' ? 0 : -1;
	return -1;
}

void pmdg_node_mac(uint8_t ring_id, uint16_t node_id, struct rte_ether_addr *mac)
{
	const uint8_t b[RTE_ETHER_ADDR_LEN] = {0x02, 0x4f, 0x52, ring_id, (uint8_t)(node_id >> 8),
					       (uint8_t)node_id};
	memcpy(mac->addr_bytes, b, sizeof(b));
}

static int open_port(struct pmdg *g, uint8_t path, char *err, size_t err_size)
{
	const struct pmdg_port_conf *pc = &g->conf.port[path];
	char name[RTE_ETH_NAME_MAX_LEN];
	int kind = pmdg_device_name(pc->device, name, sizeof(name));
	if (kind < 0) {
		snprintf(err, err_size, "path%u: device '%s' is neither a vdev nor a PCI address", path,
			 pc->device);
		return -EINVAL;
	}
	uint16_t port;
	if (rte_eth_dev_get_port_by_name(name, &port) != 0) {
		snprintf(err, err_size, "path%u: no DPDK port named '%s' (driver missing, or the device could not be probed)",
			 path, name);
		return -ENODEV;
	}
	for (uint8_t k = 0; k < path; k++)
		if (g->port_id[k] == port) {
			snprintf(err, err_size, "path%u: port '%s' is also path%u", path, name, k);
			return -EINVAL;
		}
	g->port_id[path] = port;

	char pool_name[RTE_MEMPOOL_NAMESIZE];
	snprintf(pool_name, sizeof(pool_name), "ordo-p%u", path);
	uint32_t room = pc->data_room + RTE_PKTMBUF_HEADROOM;
	if (room > UINT16_MAX) {
		snprintf(err, err_size, "path%u: mbuf data room %u exceeds 65535", path, room);
		return -EINVAL;
	}
	int socket = rte_eth_dev_socket_id(port);
	if (socket < 0)
		socket = (int)rte_socket_id();
	/* DPDK refuses a per-lcore cache above 2/3 of the pool */
	uint32_t cache = pc->mbufs * 2u / 3u < 256u ? pc->mbufs * 2u / 3u : 256u;
	g->pool[path] = rte_pktmbuf_pool_create(pool_name, pc->mbufs, cache, 0, (uint16_t)room, socket);
	if (g->pool[path] == NULL) {
		snprintf(err, err_size, "path%u: cannot create a pool of %u mbufs of %u bytes: %s (raise [eal] memory_mb or lower mbufs)",
			 path, pc->mbufs, room, rte_strerror(rte_errno));
		return -ENOMEM;
	}

	struct rte_eth_conf econf;
	memset(&econf, 0, sizeof(econf));
	int rc = rte_eth_dev_configure(port, 1, 1, &econf);
	if (rc == 0)
		rc = rte_eth_rx_queue_setup(port, 0, pc->rx_desc, (unsigned)socket, NULL, g->pool[path]);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(port, 0, pc->tx_desc, (unsigned)socket, NULL);
	if (rc != 0) {
		snprintf(err, err_size, "path%u: cannot configure port '%s' (1 rx, 1 tx queue): %s", path,
			 name, rte_strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_start(port);
	if (rc != 0) {
		snprintf(err, err_size, "path%u: cannot start port '%s': %s", path, name, rte_strerror(-rc));
		return rc;
	}
	g->started[path] = 1;
	/* af_packet and null fill an mbuf per frame as it is received and free
	 * a sent one at once; other devices hold a descriptor ring's worth on
	 * each side. Either way keep four bursts in hand. */
	struct rte_eth_dev_info info;
	uint32_t held = 4u * PMDG_BURST;
	if (rte_eth_dev_info_get(port, &info) != 0 || info.driver_name == NULL ||
	    (strcmp(info.driver_name, "net_af_packet") != 0 && strcmp(info.driver_name, "net_null") != 0))
		held += (uint32_t)pc->rx_desc + pc->tx_desc;
	g->dev_held[path] = held;
	g->keep_max[path] = pc->mbufs > held ? pc->mbufs - held : 0;
	/* Not every PMD has these; frames then arrive only if addressed to it. */
	(void)rte_eth_promiscuous_enable(port);
	(void)rte_eth_allmulticast_enable(port);
	return 0;
}

int pmdg_open(struct pmdg *g, const struct pmdg_conf *c, char *err, size_t err_size)
{
	memset(g, 0, sizeof(*g));
	g->conf = *c;
	if (c->path_count == 0 || c->path_count > PMDG_PATHS_MAX) {
		snprintf(err, err_size, "path count %u is not 1..%u", c->path_count, PMDG_PATHS_MAX);
		return -EINVAL;
	}
	const uint8_t mc[RTE_ETHER_ADDR_LEN] = {0x03, 0x4f, 0x52, 0x00, 0x00, c->ring_id};
	memcpy(g->ring_mac.addr_bytes, mc, sizeof(mc));
	pmdg_node_mac(c->ring_id, c->node_id, &g->self_mac);
	for (uint8_t p = 0; p < c->path_count; p++) {
		int rc = open_port(g, p, err, err_size);
		if (rc != 0) {
			pmdg_close(g);
			return rc;
		}
	}
	return 0;
}

void pmdg_close(struct pmdg *g)
{
	for (uint8_t p = 0; p < g->conf.path_count; p++) {
		for (uint16_t i = 0; i < g->tx_count[p]; i++)
			rte_pktmbuf_free(g->tx[p][i]);
		g->tx_count[p] = 0;
		if (g->started[p]) {
			(void)rte_eth_dev_stop(g->port_id[p]);
			(void)rte_eth_dev_close(g->port_id[p]);
			g->started[p] = 0;
		}
		if (g->pool[p] != NULL) {
			rte_mempool_free(g->pool[p]);
			g->pool[p] = NULL;
		}
	}
}

const uint8_t *pmdg_payload(struct pmdg *g, uint8_t path, struct rte_mbuf *m, uint8_t *scratch,
			    size_t *len)
{
	uint32_t total = rte_pktmbuf_pkt_len(m);
	if (total < sizeof(struct rte_ether_hdr)) {
		g->drops[PMDG_DROP_RUNT]++;
		return NULL;
	}
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	if (m->nb_segs > 1) {
		if (total - sizeof(struct rte_ether_hdr) > g->conf.mtu) {
			g->drops[PMDG_DROP_OVERSIZE]++;
			return NULL;
		}
		/* rte_pktmbuf_read copies only when the bytes span segments. */
		frame = rte_pktmbuf_read(m, 0, total, scratch);
		if (frame == NULL) {
			g->drops[PMDG_DROP_RUNT]++;
			return NULL;
		}
	}
	const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)frame;
	if (eh->ether_type != rte_cpu_to_be_16(PMDG_ETHERTYPE)) {
		g->drops[PMDG_DROP_ETHERTYPE]++;
		return NULL;
	}
	if (!rte_is_same_ether_addr(&eh->dst_addr, &g->ring_mac) &&
	    !rte_is_same_ether_addr(&eh->dst_addr, &g->self_mac)) {
		g->drops[PMDG_DROP_DEST]++;
		return NULL;
	}
	size_t n = total - sizeof(struct rte_ether_hdr);
	if (n > g->conf.mtu) {
		g->drops[PMDG_DROP_OVERSIZE]++;
		return NULL;
	}
	const uint8_t *p = frame + sizeof(struct rte_ether_hdr);
	if (total <= PMDG_ETH_MIN_FRAME && n >= PMDG_HDR_MIN) {
		uint32_t fs = (uint32_t)p[PMDG_HDR_FRAME_SIZE] | ((uint32_t)p[PMDG_HDR_FRAME_SIZE + 1] << 8) |
			      ((uint32_t)p[PMDG_HDR_FRAME_SIZE + 2] << 16) |
			      ((uint32_t)p[PMDG_HDR_FRAME_SIZE + 3] << 24);
		if (fs >= PMDG_HDR_MIN && fs < n)
			n = fs; /* padding: ring-proto checks the rest */
	}
	g->stats[path].rx_frames++;
	g->stats[path].rx_bytes += n;
	*len = n;
	return p;
}

static void tx_burst(struct pmdg *g, uint8_t path)
{
	uint16_t n = g->tx_count[path], sent = 0;
	for (uint32_t tries = 0; sent < n && tries < PMDG_TX_RETRIES; tries++)
		sent = (uint16_t)(sent + rte_eth_tx_burst(g->port_id[path], 0, g->tx[path] + sent,
							 (uint16_t)(n - sent)));
	for (uint16_t i = sent; i < n; i++)
		rte_pktmbuf_free(g->tx[path][i]);
	g->stats[path].tx_frames += sent;
	g->stats[path].tx_full += (uint64_t)(n - sent);
	g->tx_count[path] = 0;
}

int pmdg_send(struct pmdg *g, uint8_t path, uint16_t dest, const uint8_t *frame, uint32_t size)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->pool[path]);
	if (m == NULL) {
		g->stats[path].tx_nombuf++;
		return -1;
	}
	uint32_t total = (uint32_t)sizeof(struct rte_ether_hdr) + size;
	uint8_t *buf = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)total);
	if (buf == NULL || total > UINT16_MAX) {
		rte_pktmbuf_free(m);
		g->stats[path].tx_nombuf++;
		return -1;
	}
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)buf;
	if (dest == 0)
		eh->dst_addr = g->ring_mac;
	else
		pmdg_node_mac(g->conf.ring_id, dest, &eh->dst_addr);
	eh->src_addr = g->self_mac;
	eh->ether_type = rte_cpu_to_be_16(PMDG_ETHERTYPE);
	uint8_t *p = buf + sizeof(*eh);
	memcpy(p, frame, size);
	if (size > PMDG_HDR_PATH)
		p[PMDG_HDR_PATH] = path;
	g->stats[path].tx_bytes += size;
	g->tx[path][g->tx_count[path]++] = m;
	if (g->tx_count[path] == PMDG_BURST)
		tx_burst(g, path);
	return 0;
}

uint32_t pmdg_flush(struct pmdg *g)
{
	uint32_t n = 0;
	for (uint8_t p = 0; p < g->conf.path_count; p++) {
		if (g->tx_count[p] == 0)
			continue;
		n += g->tx_count[p];
		tx_burst(g, p);
	}
	return n;
}

int pmdg_link_up(struct pmdg *g, uint8_t path)
{
	struct rte_eth_link link;
	if (rte_eth_link_get_nowait(g->port_id[path], &link) != 0)
		return -1;
	return link.link_status == RTE_ETH_LINK_UP ? 1 : 0;
}

/* The value of key=... in a vdev's argument list ("" if absent). */
static void vdev_arg(const char *device, const char *key, char *out, size_t out_size)
{
	size_t klen = strlen(key);
	out[0] = '\0';
	for (const char *p = strchr(device, ','); p != NULL; p = strchr(p + 1, ',')) {
		if (strncmp(p + 1, key, klen) != 0 || p[1 + klen] != '=')
			continue;
		const char *v = p + 2 + klen;
		size_t n = strcspn(v, ",");
		if (n >= out_size)
			n = out_size - 1;
		memcpy(out, v, n);
		out[n] = '\0';
		return;
	}
}

/* The af_packet PMD keeps its socket to itself: it is the one AF_PACKET
 * socket of this process bound to the interface. */
static int af_packet_socket(const char *device, uint8_t path, char *err, size_t err_size)
{
	char iface[IF_NAMESIZE + 1], qpairs[16];
	vdev_arg(device, "iface", iface, sizeof(iface));
	vdev_arg(device, "qpairs", qpairs, sizeof(qpairs));
	if (qpairs[0] != '\0' && strcmp(qpairs, "1") != 0) {
		snprintf(err, err_size, "path%u: idle = block needs one queue pair (qpairs=1), not qpairs=%s", path,
			 qpairs);
		return -ENOTSUP;
	}
	unsigned ifindex = iface[0] ? if_nametoindex(iface) : 0;
	if (ifindex == 0) {
		snprintf(err, err_size, "path%u: no interface '%s' to wait on", path, iface);
		return -ENOTSUP;
	}
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL) {
		snprintf(err, err_size, "path%u: cannot list /proc/self/fd: %s", path, strerror(errno));
		return -ENOTSUP;
	}
	int found = -1, count = 0, dfd = dirfd(d);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (*end != '\0' || end == de->d_name || fd == dfd)
			continue;
		int dom = 0;
		socklen_t len = sizeof(dom);
		if (getsockopt((int)fd, SOL_SOCKET, SO_DOMAIN, &dom, &len) != 0 || dom != AF_PACKET)
			continue;
		struct sockaddr_ll sll;
		len = sizeof(sll);
		if (getsockname((int)fd, (struct sockaddr *)&sll, &len) != 0 || sll.sll_ifindex != (int)ifindex)
			continue;
		found = (int)fd;
		count++;
	}
	closedir(d);
	if (count != 1) {
		snprintf(err, err_size, "path%u: found %d AF_PACKET sockets on '%s', expected one", path, count, iface);
		return -ENOTSUP;
	}
	return found;
}

int pmdg_wait_fd(struct pmdg *g, uint8_t path, char *err, size_t err_size)
{
	const char *device = g->conf.port[path].device;
	if (strncmp(device, "net_af_packet", 13) == 0 || strncmp(device, "eth_af_packet", 13) == 0)
		return af_packet_socket(device, path, err, err_size);
	if (strncmp(device, "net_null", 8) == 0) {
		char norx[8];
		vdev_arg(device, "no-rx", norx, sizeof(norx));
		if (strcmp(norx, "1") == 0)
			return PMDG_WAIT_NEVER;
	}
	snprintf(err, err_size, "path%u: idle = block cannot wait for frames from '%s' (af_packet and net_null,no-rx=1 can; use spin, yield or backoff)",
		 path, device);
	return -ENOTSUP;
}
