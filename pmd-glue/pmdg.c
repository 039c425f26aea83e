/* pmdg.c — EAL, ports, mempools, burst rx/tx and ordo's L2 framing
 * (contract in pmdg.h).
 *
 * Framing: [dst MAC][src MAC][EtherType 0x88B5][ordo frame]. Frames to every
 * node go to the ring's multicast MAC 03:4f:52:00:00:<ring> (locally
 * administered, group bit set); frames to one node (tokens, commit tokens)
 * go to its unicast MAC 02:4f:52:<ring>:00:<node>, which is also the source
 * of everything the node sends, so a learning switch or bridge forwards a
 * token to its one receiver instead of flooding it. Ports run promiscuous:
 * these MACs are not the NIC's own. The one exception, a DUP_NOTICE
 * (pmdg_send_from_port), goes from the NIC's own MAC.
 *
 * Routed paths (udp4, udp6): the port's own MAC, no promiscuous mode, the
 * multicast MACs the path needs (the ring's group; IPv6: our solicited-node
 * address and all-nodes) through the port's multicast list, or all
 * multicast where it has none. Checksums by the port where it offers both
 * directions, else in software (pmdg_net.c). A fan-out shares the payload
 * mbuf (reference count) among per-destination header mbufs when the port
 * sends chained mbufs, else copies it per destination.
 *
 * Never: blocks. A full tx queue is retried a bounded number of times and
 * then counted and dropped; the protocol's retransmission repairs a lost
 * data frame, its token retransmission a lost token.
 */
#include "pmdg.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "rp_wire.h"

/* Framing reads an ordo frame's frame_size and stamps its path index
 * through ring-proto's wire helpers (rp_wire.h): both lie in the header's
 * first PMDG_HDR_MIN bytes. */
#define PMDG_HDR_MIN (RP_HDR_PATH_INDEX + 2u)
/* Ethernet pads frames to 60 bytes (without FCS): a shorter ordo frame
 * arrives with trailing zeros that its frame_size excludes. */
#define PMDG_ETH_MIN_FRAME 60u
/* Tries to hand a full burst to the tx queue before dropping the rest. */
#define PMDG_TX_RETRIES 64u

/* The EAL's runtime directory for a file prefix, as the EAL names it:
 * /var/run/dpdk/<prefix> for root, else under $XDG_RUNTIME_DIR or /tmp. */
static void runtime_dir_of(const char *prefix, char *out, size_t size)
{
	const char *base = "/var/run";
	if (getuid() != 0) {
		const char *x = getenv("XDG_RUNTIME_DIR");
		base = x != NULL ? x : "/tmp";
	}
	snprintf(out, size, "%s/dpdk/%s", base, prefix);
}

/* The pid of a process that holds the EAL's lock on prefix's config file
 * (a primary process of that prefix runs), or 0. The EAL write-locks part
 * of the file for as long as it runs; F_GETLK over all of it only looks. */
static pid_t prefix_holder(const char *dir)
{
	char path[PATH_MAX + 8];
	snprintf(path, sizeof(path), "%s/config", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0}; /* the whole file */
	pid_t pid = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK ? fl.l_pid : 0;
	close(fd);
	return pid;
}

int pmdg_eal_init(int argc, char **argv, char *err, size_t err_size)
{
	const char *prefix = "rte";
	for (int i = 1; i < argc; i++)
		if (strncmp(argv[i], "--file-prefix=", 14) == 0)
			prefix = argv[i] + 14;
	char dir[PATH_MAX];
	runtime_dir_of(prefix, dir, sizeof(dir));
	pid_t holder = prefix_holder(dir);
	if (holder != 0) {
		snprintf(err, err_size,
			 "DPDK file prefix '%s' is in use by process %ld (it holds %s/config): a node with this "
			 "configuration runs already; stop it first, or give this one its own [eal] file_prefix",
			 prefix, (long)holder, dir);
		return -EBUSY;
	}
	if (rte_eal_init(argc, argv) < 0) {
		int e = rte_errno;
		if (e != 0)
			snprintf(err, err_size, "EAL initialisation failed (file prefix '%s'): %s", prefix,
				 rte_strerror(e));
		else /* the EAL failed without saying why (rte_errno 0) */
			snprintf(err, err_size, "EAL initialisation failed (file prefix '%s', runtime directory %s); "
				 "the EAL gives no reason: run with [node] log_level = debug to see its messages", prefix, dir);
		return -(e ? e : EINVAL);
	}
	return 0;
}

/* Removes the files the EAL left in its runtime directory (flat: config,
 * fbarray_*, hugepage_info, mp_socket, the telemetry socket) and the
 * directory itself. Only this process's own directory, named by the EAL
 * that it started: another process with the same file prefix cannot start
 * while this one runs (the EAL locks its config file). */
static void remove_runtime_dir(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			(void)unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
	(void)rmdir(path);
}

void pmdg_eal_cleanup(void)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	if (dir[0] != '\0')
		remove_runtime_dir(dir);
}

void pmdg_node_mac(uint8_t ring_id, uint16_t node_id, struct rte_ether_addr *mac)
{
	const uint8_t b[RTE_ETHER_ADDR_LEN] = {0x02, 0x4f, 0x52, ring_id, (uint8_t)(node_id >> 8),
					       (uint8_t)node_id};
	memcpy(mac->addr_bytes, b, sizeof(b));
}

/* A routed path after its port started: the port's MAC, the path's state,
 * the multicast MACs it must receive. */
static int open_routed(struct pmdg *g, uint8_t path, char *err, size_t err_size)
{
	const struct pmdg_net_conf *nc = g->conf.port[path].net;
	uint16_t port = g->port_id[path];
	struct rte_ether_addr ea;
	int rc = rte_eth_macaddr_get(port, &ea);
	if (rc != 0) {
		snprintf(err, err_size, "path%u: cannot read the port's MAC address: %s", path, rte_strerror(-rc));
		return rc;
	}
	struct pmdg_mac mac;
	memcpy(mac.b, ea.addr_bytes, 6);
	pmdg_net_init(&g->net[path], nc, g->conf.node_id, &mac);
	struct rte_ether_addr mc[3];
	uint32_t n = 0;
	if (nc->group.family)
		memcpy(mc[n++].addr_bytes, g->net[path].group_mac.b, 6);
	if (nc->transport == PMDG_TRANSPORT_UDP6) {
		static const uint8_t all_nodes[6] = {0x33, 0x33, 0, 0, 0, 1};
		memcpy(mc[n++].addr_bytes, g->net[path].snm_mac.b, 6);
		memcpy(mc[n++].addr_bytes, all_nodes, 6);
	}
	/* af_packet and others keep no list: then every multicast frame */
	if (n > 0 && rte_eth_dev_set_mc_addr_list(port, mc, n) != 0)
		(void)rte_eth_allmulticast_enable(port);
	return 0;
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

/* A list of this namespace's network interfaces, or of the DPDK ports. */
static void list_ifaces(char *out, size_t size)
{
	struct if_nameindex *ifs = if_nameindex();
	size_t n = 0;
	out[0] = '\0';
	for (struct if_nameindex *i = ifs; i != NULL && i->if_index != 0 && n < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%s%s", n ? ", " : "", i->if_name);
	if (ifs != NULL)
		if_freenameindex(ifs);
	if (out[0] == '\0')
		snprintf(out, size, "none");
}

static void list_ports(char *out, size_t size)
{
	size_t n = 0;
	uint16_t p;
	out[0] = '\0';
	RTE_ETH_FOREACH_DEV(p)
	{
		char name[RTE_ETH_NAME_MAX_LEN];
		if (n < size && rte_eth_dev_get_name_by_port(p, name) == 0)
			n += (size_t)snprintf(out + n, size - n, "%s%s", n ? ", " : "", name);
	}
	if (out[0] == '\0')
		snprintf(out, size, "none");
}

/* Why the port of [pathN] device does not exist, and what to write instead. */
static void no_port(uint8_t path, const char *device, const char *name, int kind, char *err, size_t err_size)
{
	char iface[IF_NAMESIZE + 8], ifaces[512], ports[512];
	list_ports(ports, sizeof(ports));
	vdev_arg(device, "iface", iface, sizeof(iface));
	if (kind == 0) {
		snprintf(err, err_size, "path%u: device = '%s': no DPDK port for PCI device %s (DPDK ports: %s): "
			 "bind it to vfio-pci first (dpdk-devbind.py --bind=vfio-pci %s; docs/deployment.md)",
			 path, device, name, ports, name);
	} else if (iface[0] != '\0' && if_nametoindex(iface) == 0) {
		list_ifaces(ifaces, sizeof(ifaces));
		snprintf(err, err_size, "path%u: device = '%s': no network interface '%s' here (interfaces: %s), "
			 "so the vdev %s could not start: write the interface's name, "
			 "e.g. device = %s,iface=<interface>", path, device, iface, ifaces, name, name);
	} else if (iface[0] == '\0' && strstr(name, "af_packet") != NULL) {
		list_ifaces(ifaces, sizeof(ifaces));
		snprintf(err, err_size, "path%u: device = '%s': the vdev %s needs the interface it runs on "
			 "(interfaces: %s), e.g. device = %s,iface=<interface>", path, device, name, ifaces, name);
	} else {
		snprintf(err, err_size, "path%u: device = '%s': the vdev %s could not be started (DPDK ports: %s): "
			 "a driver that is not installed or arguments it refused; [node] log_level = debug shows "
			 "the EAL's reason", path, device, name, ports);
	}
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
		no_port(path, pc->device, name, kind, err, err_size);
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
	uint32_t overhead = pc->net != NULL ? pmdg_net_overhead(pc->net->transport) : 0;
	if (g->conf.mtu <= overhead) {
		snprintf(err, err_size, "path%u: mtu %u leaves no room for an ordo frame after %u bytes of headers", path,
			 g->conf.mtu, overhead);
		return -EINVAL;
	}
	g->payload_max[path] = g->conf.mtu - overhead;
	g->pool[path] = rte_pktmbuf_pool_create(pool_name, pc->mbufs, cache, 0, (uint16_t)room, socket);
	if (g->pool[path] == NULL) {
		snprintf(err, err_size, "path%u: cannot create a pool of %u mbufs of %u bytes: %s (raise [eal] memory_mb or lower mbufs)",
			 path, pc->mbufs, room, rte_strerror(rte_errno));
		return -ENOMEM;
	}

	struct rte_eth_conf econf;
	memset(&econf, 0, sizeof(econf));
	const struct pmdg_net_conf *nc = pc->net;
	int routed = nc != NULL && nc->transport != PMDG_TRANSPORT_L2;
	struct rte_eth_dev_info info;
	int have_info = rte_eth_dev_info_get(port, &info) == 0;
	/* The port's MTU is the ring's. Unless told, DPDK configures 1500, and
	 * a NIC then drops every longer frame: a ring with mtu 9000 would form
	 * on its small frames and lose its large ones. A PCI port that cannot
	 * take the ring's MTU is refused; a vdev that says it cannot keeps
	 * DPDK's default (af_packet says 1518 bytes whatever its framesz, and
	 * carries what its framesz holds). The frame's L2 overhead as DPDK
	 * computes it when it checks the MTU. */
	if (have_info) {
		uint32_t l2 = info.max_mtu != UINT16_MAX && info.max_rx_pktlen > info.max_mtu
				      ? info.max_rx_pktlen - info.max_mtu
				      : RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;
		if (g->conf.mtu >= info.min_mtu && g->conf.mtu <= info.max_mtu &&
		    g->conf.mtu + l2 <= info.max_rx_pktlen) {
			econf.rxmode.mtu = g->conf.mtu;
		} else if (kind == 0) {
			snprintf(err, err_size, "path%u: port '%s' takes an MTU of %u..%u (frames up to %u bytes), not the ring's %u ([ring] mtu)",
				 path, name, info.min_mtu, info.max_mtu, info.max_rx_pktlen, g->conf.mtu);
			return -EINVAL;
		}
	}
	if (routed && have_info) {
		int v4 = nc->transport == PMDG_TRANSPORT_UDP4;
		uint64_t tx = RTE_ETH_TX_OFFLOAD_UDP_CKSUM | (v4 ? RTE_ETH_TX_OFFLOAD_IPV4_CKSUM : 0);
		uint64_t rx = RTE_ETH_RX_OFFLOAD_UDP_CKSUM | (v4 ? RTE_ETH_RX_OFFLOAD_IPV4_CKSUM : 0);
		if ((info.tx_offload_capa & tx) == tx && (info.rx_offload_capa & rx) == rx) {
			econf.txmode.offloads |= tx;
			econf.rxmode.offloads |= rx;
			g->tx_csum[path] = g->rx_csum[path] = 1;
		}
		if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS) {
			econf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
			g->tx_chain[path] = 1;
		}
	}
	if (routed && g->tx_chain[path]) {
		snprintf(pool_name, sizeof(pool_name), "ordo-h%u", path);
		g->hdr_pool[path] = rte_pktmbuf_pool_create(pool_name, pc->mbufs, cache, 0,
							    RTE_PKTMBUF_HEADROOM + PMDG_NET_HDR_MAX, socket);
		if (g->hdr_pool[path] == NULL) {
			snprintf(err, err_size, "path%u: cannot create a pool of %u header mbufs: %s (raise [eal] memory_mb or lower mbufs)",
				 path, pc->mbufs, rte_strerror(rte_errno));
			return -ENOMEM;
		}
	}
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
	uint32_t held = 4u * PMDG_BURST;
	if (!have_info || info.driver_name == NULL ||
	    (strcmp(info.driver_name, "net_af_packet") != 0 && strcmp(info.driver_name, "net_null") != 0))
		held += (uint32_t)pc->rx_desc + pc->tx_desc;
	g->dev_held[path] = held;
	g->keep_max[path] = pc->mbufs > held ? pc->mbufs - held : 0;
	if (routed)
		return open_routed(g, path, err, err_size);
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
		if (c->path_mask != 0 && !(c->path_mask & (1u << p)))
			continue; /* a network this node is not on: no port (docs/protocol.md §17) */
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
		if (g->hdr_pool[p] != NULL) {
			rte_mempool_free(g->hdr_pool[p]);
			g->hdr_pool[p] = NULL;
		}
	}
}

static void tx_burst(struct pmdg *g, uint8_t path);

static inline void queue_tx(struct pmdg *g, uint8_t path, struct rte_mbuf *m)
{
	g->tx[path][g->tx_count[path]++] = m;
	if (g->tx_count[path] == PMDG_BURST)
		tx_burst(g, path);
}

/* A fresh mbuf from pool with size bytes of data: *m and the data, or NULL
 * after counting tx_nombuf. */
static uint8_t *alloc_data(struct pmdg *g, uint8_t path, struct rte_mempool *pool, uint32_t size,
			   struct rte_mbuf **m)
{
	*m = rte_pktmbuf_alloc(pool);
	uint8_t *buf = *m != NULL && size <= UINT16_MAX ? (uint8_t *)rte_pktmbuf_append(*m, (uint16_t)size) : NULL;
	if (buf == NULL) {
		if (*m != NULL)
			rte_pktmbuf_free(*m);
		g->stats[path].tx_nombuf++;
	}
	return buf;
}

/* Queues a frame pmd-glue made itself (ARP, ND): copied into an mbuf. */
static void send_control(struct pmdg *g, uint8_t path, const uint8_t *frame, uint32_t size)
{
	struct rte_mbuf *m;
	uint8_t *buf = alloc_data(g, path, g->pool[path], size, &m);
	if (buf == NULL)
		return;
	memcpy(buf, frame, size);
	queue_tx(g, path, m);
}

void pmdg_tick(struct pmdg *g, uint64_t now_ns)
{
	g->now_ns = now_ns;
	for (uint8_t p = 0; p < g->conf.path_count; p++) {
		struct pmdg_net *n = &g->net[p];
		if (!g->started[p] || n->c.transport == PMDG_TRANSPORT_L2 || now_ns < n->next_due_ns)
			continue;
		uint8_t frame[PMDG_NET_REPLY_MAX];
		uint32_t size;
		while ((size = pmdg_net_solicit(n, now_ns, frame)) > 0)
			send_control(g, p, frame, size);
	}
}

/* pmdg_payload() of a routed path: the frame's total bytes at frame (in
 * the mbuf, or copied to scratch). */
static const uint8_t *payload_routed(struct pmdg *g, uint8_t path, struct rte_mbuf *m, const uint8_t *frame,
				     uint32_t total, uint8_t *scratch, size_t *len)
{
	uint32_t flags = 0;
	if (g->rx_csum[path]) {
		uint64_t ip = m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK, l4 = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;
		flags |= ip == RTE_MBUF_F_RX_IP_CKSUM_GOOD ? PMDG_RX_IP_CSUM_GOOD
			 : ip == RTE_MBUF_F_RX_IP_CKSUM_BAD ? PMDG_RX_IP_CSUM_BAD
							     : 0;
		flags |= l4 == RTE_MBUF_F_RX_L4_CKSUM_GOOD ? PMDG_RX_L4_CSUM_GOOD
			 : l4 == RTE_MBUF_F_RX_L4_CKSUM_BAD ? PMDG_RX_L4_CSUM_BAD
							     : 0;
	}
	uint8_t reply[PMDG_NET_REPLY_MAX];
	struct pmdg_rx r;
	pmdg_net_rx(&g->net[path], frame, total, g->payload_max[path], flags, g->now_ns, reply, &r);
	if (r.kind == PMDG_RX_DROP) {
		g->drops[r.drop]++;
		return NULL;
	}
	if (r.kind == PMDG_RX_HANDLED) {
		if (r.reply_size > 0)
			send_control(g, path, reply, r.reply_size);
		return NULL;
	}
	const uint8_t *p = frame + r.payload_off;
	if (frame == scratch) { /* copied: the payload goes at scratch itself */
		memmove(scratch, p, r.payload_size);
		p = scratch;
	}
	g->stats[path].rx_frames++;
	g->stats[path].rx_bytes += r.payload_size;
	*len = r.payload_size;
	return p;
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
	if (g->net[path].c.transport != PMDG_TRANSPORT_L2)
		return payload_routed(g, path, m, frame, total, (uint8_t *)scratch, len);
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
		uint32_t fs = rp_wire_peek_frame_size(p, n);
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

/* The payload of a routed frame in a fresh mbuf, headroom kept for the
 * headers, path index stamped; *sum its checksum (unless the port does it). */
static struct rte_mbuf *routed_payload(struct pmdg *g, uint8_t path, const uint8_t *frame, uint32_t size,
				       uint32_t *sum)
{
	struct rte_mbuf *m;
	uint8_t *p = alloc_data(g, path, g->pool[path], size, &m);
	if (p == NULL)
		return NULL;
	memcpy(p, frame, size);
	if (size > RP_HDR_PATH_INDEX)
		rp_wire_set_path(p, path);
	*sum = g->tx_csum[path] ? 0 : pmdg_csum_partial(p, size, 0);
	return m;
}

static void tx_offload(struct pmdg *g, uint8_t path, struct rte_mbuf *h)
{
	if (!g->tx_csum[path])
		return;
	h->l2_len = PMDG_ETH_HDR;
	if (g->net[path].c.transport == PMDG_TRANSPORT_UDP4) {
		h->l3_len = PMDG_IP4_HDR;
		h->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM;
	} else {
		h->l3_len = PMDG_IP6_HDR;
		h->ol_flags |= RTE_MBUF_F_TX_IPV6 | RTE_MBUF_F_TX_UDP_CKSUM;
	}
}

/* One datagram to node dest, or to the ring's group (dest 0). */
static int send_one(struct pmdg *g, uint8_t path, uint16_t dest, const uint8_t *frame, uint32_t size)
{
	uint32_t sum;
	struct rte_mbuf *m = routed_payload(g, path, frame, size, &sum);
	if (m == NULL)
		return -1;
	uint8_t hdr[PMDG_NET_HDR_MAX];
	uint32_t hl = pmdg_net_encap(&g->net[path], dest, size, sum, g->tx_csum[path], g->now_ns, hdr);
	uint8_t *p = hl > 0 ? (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)hl) : NULL;
	if (p == NULL) {
		if (hl > 0)
			g->stats[path].tx_nombuf++;
		rte_pktmbuf_free(m);
		return -1;
	}
	memcpy(p, hdr, hl);
	tx_offload(g, path, m);
	g->stats[path].tx_bytes += size;
	queue_tx(g, path, m);
	return 0;
}

/* A frame to every other node, one datagram each: the payload is encoded
 * (and summed) once; each destination gets its own header mbuf chained to
 * the shared payload (one reference each), or a copy where the port cannot
 * send chains. Returns 0 if any copy was queued. */
static int send_fanout(struct pmdg *g, uint8_t path, const uint8_t *frame, uint32_t size)
{
	struct pmdg_net *n = &g->net[path];
	uint32_t sum;
	struct rte_mbuf *m = routed_payload(g, path, frame, size, &sum);
	if (m == NULL)
		return -1;
	int queued = 0;
	for (uint16_t k = 0; k < n->dest_count; k++) {
		uint8_t hdr[PMDG_NET_HDR_MAX];
		uint32_t hl = pmdg_net_encap(n, n->dest[k], size, sum, g->tx_csum[path], g->now_ns, hdr);
		if (hl == 0)
			continue;
		uint32_t copy = g->tx_chain[path] ? 0 : size;
		struct rte_mbuf *h;
		uint8_t *p = alloc_data(g, path, g->tx_chain[path] ? g->hdr_pool[path] : g->pool[path], hl + copy, &h);
		if (p == NULL)
			continue;
		memcpy(p, hdr, hl);
		if (copy) {
			memcpy(p + hl, rte_pktmbuf_mtod(m, const uint8_t *), size);
		} else {
			rte_mbuf_refcnt_update(m, 1);
			h->next = m;
			h->nb_segs = 2;
			h->pkt_len = hl + size;
		}
		tx_offload(g, path, h);
		g->stats[path].tx_bytes += size;
		queue_tx(g, path, h);
		queued = 1;
	}
	rte_pktmbuf_free(m); /* this function's reference */
	return queued ? 0 : -1;
}

static int send_l2(struct pmdg *g, uint8_t path, uint16_t dest, const uint8_t *frame, uint32_t size,
		   const struct rte_ether_addr *src)
{
	struct rte_mbuf *m;
	uint8_t *buf = alloc_data(g, path, g->pool[path], (uint32_t)sizeof(struct rte_ether_hdr) + size, &m);
	if (buf == NULL)
		return -1;
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)buf;
	if (dest == 0)
		eh->dst_addr = g->ring_mac;
	else
		pmdg_node_mac(g->conf.ring_id, dest, &eh->dst_addr);
	eh->src_addr = *src;
	eh->ether_type = rte_cpu_to_be_16(PMDG_ETHERTYPE);
	uint8_t *p = buf + sizeof(*eh);
	memcpy(p, frame, size);
	if (size > RP_HDR_PATH_INDEX)
		rp_wire_set_path(p, path);
	g->stats[path].tx_bytes += size;
	queue_tx(g, path, m);
	return 0;
}

int pmdg_send(struct pmdg *g, uint8_t path, uint16_t dest, const uint8_t *frame, uint32_t size)
{
	if (!g->started[path])
		return -ENODEV;
	const struct pmdg_net *n = &g->net[path];
	if (n->c.transport != PMDG_TRANSPORT_L2)
		return dest != 0 || n->c.group.family ? send_one(g, path, dest, frame, size)
						      : send_fanout(g, path, frame, size);
	return send_l2(g, path, dest, frame, size, &g->self_mac);
}

int pmdg_send_from_port(struct pmdg *g, uint8_t path, const uint8_t *frame, uint32_t size)
{
	struct rte_ether_addr port_mac;
	if (!g->started[path])
		return -ENODEV;
	if (g->net[path].c.transport != PMDG_TRANSPORT_L2) {
		/* from the port's own MAC already; with this node's address in
		 * use, also to the host that holds it (pmdg_net_encap()) */
		int rc = pmdg_send(g, path, 0, frame, size);
		if (g->net[path].dad == PMDG_DAD_CONFLICT && send_one(g, path, g->conf.node_id, frame, size) == 0)
			rc = 0;
		return rc;
	}
	if (rte_eth_macaddr_get(g->port_id[path], &port_mac) != 0 || rte_is_same_ether_addr(&port_mac, &g->self_mac))
		return -1; /* no other MAC to send from: better nothing than the id's */
	return send_l2(g, path, 0, frame, size, &port_mac);
}

void pmdg_frame_source(const struct pmdg *g, uint8_t path, const struct rte_mbuf *m, char *out, size_t size)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)f;
	const uint8_t *s = eh->src_addr.addr_bytes;
	int n = snprintf(out, size, "MAC %02x:%02x:%02x:%02x:%02x:%02x", s[0], s[1], s[2], s[3], s[4], s[5]);
	if (n < 0 || (size_t)n >= size || path >= g->conf.path_count || g->net[path].c.transport == PMDG_TRANSPORT_L2)
		return;
	char ip[INET6_ADDRSTRLEN];
	uint16_t type = rte_be_to_cpu_16(eh->ether_type);
	const uint8_t *iph = f + sizeof(*eh);
	if (type == PMDG_ETHERTYPE_IP4 && rte_pktmbuf_data_len(m) >= sizeof(*eh) + PMDG_IP4_HDR &&
	    inet_ntop(AF_INET, iph + offsetof(struct rte_ipv4_hdr, src_addr), ip, sizeof(ip)) != NULL)
		snprintf(out + n, size - (size_t)n, ", address %s", ip);
	else if (type == PMDG_ETHERTYPE_IP6 && rte_pktmbuf_data_len(m) >= sizeof(*eh) + PMDG_IP6_HDR &&
		 inet_ntop(AF_INET6, iph + offsetof(struct rte_ipv6_hdr, src_addr), ip, sizeof(ip)) != NULL)
		snprintf(out + n, size - (size_t)n, ", address %s", ip);
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
	if (!g->started[path] || rte_eth_link_get_nowait(g->port_id[path], &link) != 0)
		return -1;
	return link.link_status == RTE_ETH_LINK_UP ? 1 : 0;
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
	if (!g->started[path])
		return PMDG_WAIT_NEVER;
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
