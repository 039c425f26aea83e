/* pmdg_net.h — pmd-glue's routed encapsulation in plain C: UDP over IPv4
 * and IPv6, checksums, and neighbour resolution (ARP, IPv6 Neighbour
 * Discovery) for one path (docs/design.md §5, §6; docs/ordod.md "Transports").
 *
 * Owns: parsing and checking a path's addresses (this node's address and
 * prefix, every node's address, gateway, multicast group, static
 * neighbours), choosing each peer's next hop, building the Ethernet, IP and
 * UDP headers of a frame, decoding a received frame down to ordo's bytes
 * (every refusal a drop reason), answering ARP requests and Neighbour
 * Solicitations for this node's address, soliciting the next hops, and the
 * neighbour table those answers fill.
 *
 * Never: calls DPDK, allocates, reads a clock (time arrives as now_ns), or
 * trusts a received byte: a frame that fails any check is counted by reason
 * and changes nothing. The table holds only next hops this configuration
 * needs (peers on the link, the gateway): a frame cannot add an entry, only
 * fill one, and never a static one or one of a path with learning off.
 * pmdg.c wraps this in mbufs; the unit tests and the fuzz target drive it
 * directly.
 *
 * The frame above the UDP header is exactly what the L2 transport carries
 * after its Ethernet header: ordo's frame (with whatever trailer the layers
 * above add), unchanged. IP is never fragmented (DF on IPv4; the MTU leaves
 * room for the headers, see pmdg_net_overhead()).
 *
 * Thread context: a struct pmdg_net belongs to its path's worker.
 */
#ifndef PMDG_NET_H
#define PMDG_NET_H

#include <stddef.h>
#include <stdint.h>

#define PMDG_NODES_MAX 64u         /* = RP_NODES_MAX (the engine asserts it) */
#define PMDG_NEIGH_MAX (PMDG_NODES_MAX + 1u) /* every peer, and the gateway */
#define PMDG_STATIC_MAX PMDG_NEIGH_MAX
#define PMDG_UDP_PORT_DEFAULT 5405u
#define PMDG_ETH_HDR 14u
#define PMDG_IP4_HDR 20u
#define PMDG_IP6_HDR 40u
#define PMDG_UDP_HDR 8u
#define PMDG_NET_HDR_MAX (PMDG_ETH_HDR + PMDG_IP6_HDR + PMDG_UDP_HDR)
#define PMDG_NET_REPLY_MAX 128u    /* an ARP reply, a Neighbour Advertisement or Solicitation */
#define PMDG_ETHERTYPE_ORDO 0x88B5u
#define PMDG_ETHERTYPE_IP4 0x0800u
#define PMDG_ETHERTYPE_ARP 0x0806u
#define PMDG_ETHERTYPE_IP6 0x86DDu

enum pmdg_transport { PMDG_TRANSPORT_L2 = 0, PMDG_TRANSPORT_UDP4, PMDG_TRANSPORT_UDP6 };

/* Frame drop reasons, counted per node (not per path), once:
 * _(enum, telemetry name, kind). The first four are the L2 transport's; the
 * rest are the routed transports' and the neighbour protocols'. The kind
 * (the engine's counter kinds: HARMLESS for the host's own traffic on a
 * shared link, HARMFUL for what a healthy ring never sees) is for the
 * engine's reports; pmd-glue only counts. Names: pmdg_drop_name(). */
#define foreach_pmdg_drop(_)                                                                             \
	_(RUNT, "l2_runt", HARMFUL)             /* shorter than an Ethernet header */                    \
	_(ETHERTYPE, "l2_ethertype", HARMLESS)  /* not this path's EtherType(s) (kernel chatter, others) */ \
	_(DEST, "l2_dest", HARMLESS)            /* Ethernet destination neither ours nor a group we take */ \
	_(OVERSIZE, "l2_oversize", HARMFUL)     /* payload larger than the configured MTU */             \
	_(IP_HEADER, "ip_header", HARMFUL)      /* bad version, header or total length, truncated */     \
	_(IP_CHECKSUM, "ip_checksum", HARMFUL)  /* IPv4 header checksum */                               \
	_(IP_FRAGMENT, "ip_fragment", HARMFUL)  /* a fragment: ordo never sends one */                    \
	_(IP_PROTO, "ip_proto", HARMLESS)       /* neither UDP nor (IPv6) ICMPv6; extension headers */   \
	_(IP_DEST, "ip_dest", HARMLESS)         /* IP destination neither ours nor the ring's group */   \
	_(IP_SOURCE, "ip_source", HARMFUL)      /* IP source not a node of the ring on this path */      \
	_(UDP_PORT, "udp_port", HARMLESS)       /* not the ring's port (source and destination) */       \
	_(UDP_LENGTH, "udp_length", HARMFUL)    /* UDP length disagrees with IP's */                     \
	_(UDP_CHECKSUM, "udp_checksum", HARMFUL) /* UDP checksum wrong (or zero over IPv6) */            \
	_(ARP_MALFORMED, "arp_malformed", HARMFUL) /* not Ethernet/IPv4 ARP, bad opcode or addresses */  \
	_(ARP_OTHER, "arp_other", HARMLESS)     /* ARP for someone else's address */                     \
	_(ND_MALFORMED, "nd_malformed", HARMFUL) /* ICMPv6 ND failing RFC 4861's checks (hop limit, code, length, options) */ \
	_(ND_CHECKSUM, "nd_checksum", HARMFUL)  /* ICMPv6 checksum */                                    \
	_(ND_OTHER, "nd_other", HARMLESS)       /* ND for someone else's address, or ICMPv6 that is not NS/NA */ \
	_(NEIGH_CONFLICT, "neigh_conflict", HARMFUL) /* someone else claims this node's address */       \
	_(NEIGH_IGNORED, "neigh_ignored", HARMLESS)  /* a MAC for a next hop not taken: static, learning off, or no override */

enum pmdg_drop {
#define PMDG_DROP_ENUM_(e, name, kind) PMDG_DROP_##e,
	foreach_pmdg_drop(PMDG_DROP_ENUM_)
#undef PMDG_DROP_ENUM_
	PMDG_DROP_COUNT
};

const char *pmdg_drop_name(enum pmdg_drop d);

struct pmdg_ip {
	uint8_t family;  /* 4, 6, or 0: none */
	uint8_t b[16];   /* IPv4 in b[0..3], network order */
};

struct pmdg_mac {
	uint8_t b[6];
};

struct pmdg_neigh_static {
	struct pmdg_ip ip;
	struct pmdg_mac mac;
};

/* One path's routed configuration (docs/ordod.md "Transports"). Filled by
 * the engine's configuration through the pmdg_net_parse_* helpers and
 * checked by pmdg_net_check(). */
struct pmdg_net_conf {
	uint8_t transport;        /* enum pmdg_transport */
	uint8_t prefix;           /* this node's prefix length */
	uint8_t learn;            /* 1: fill next hops from ARP/ND; 0: static entries only */
	uint16_t udp_port;        /* the ring's port, source and destination */
	struct pmdg_ip self;      /* this node's address on the path */
	struct pmdg_ip gateway;   /* family 0: none */
	struct pmdg_ip group;     /* family 0: fan out by unicast */
	struct pmdg_ip node[PMDG_NODES_MAX + 1]; /* by node id; family 0: not listed */
	uint16_t static_count;
	struct pmdg_neigh_static statics[PMDG_STATIC_MAX];
};

enum pmdg_neigh_state { PMDG_NEIGH_INCOMPLETE = 0, PMDG_NEIGH_STATIC, PMDG_NEIGH_LEARNED };

struct pmdg_neigh {
	struct pmdg_ip ip;
	struct pmdg_mac mac;
	uint8_t state;             /* enum pmdg_neigh_state */
	uint8_t probes;            /* solicitations since the last answer */
	uint64_t next_probe_ns;    /* when to solicit next (learned, incomplete) */
};

struct pmdg_net_stats {
	uint64_t answered;         /* ARP requests and NS for our address answered */
	uint64_t defended;         /* of those, probes for it from another MAC (RFC 5227, 4862) */
	uint64_t solicited;        /* ARP requests and NS we sent for a next hop */
	uint64_t learned;          /* next-hop MACs filled or changed */
	uint64_t tx_unresolved;    /* frames not sent: their next hop has no MAC yet */
};

struct pmdg_net {
	struct pmdg_net_conf c;
	uint16_t self_id;
	uint16_t dest_count;                 /* every other node with an address */
	uint16_t dest[PMDG_NODES_MAX];
	struct pmdg_mac mac;                 /* the port's */
	struct pmdg_mac group_mac;
	struct pmdg_mac snm_mac;             /* IPv6: our solicited-node multicast MAC */
	struct pmdg_ip snm;                  /* IPv6: our solicited-node multicast address */
	uint8_t nh[PMDG_NODES_MAX + 1];      /* node id -> index in neigh[]; 0xFF none */
	uint8_t neigh_count;
	struct pmdg_neigh neigh[PMDG_NEIGH_MAX];
	uint64_t next_due_ns;                /* earliest next_probe_ns over neigh[] */
	/* address conflict detection at start (RFC 5227, RFC 4862 DAD) */
	uint8_t dad;                         /* enum pmdg_dad */
	uint8_t dad_left;                    /* probes for our address still to send */
	uint64_t dad_next_ns, dad_interval_ns;
	struct pmdg_mac holder;              /* PMDG_DAD_CONFLICT: the MAC that holds our address */
	struct pmdg_mac prober;              /* the last MAC that probed for our address (st.defended) */
	struct pmdg_net_stats st;
};

/* Whether this node's address is known to be its own (docs/ordod.md
 * "Transports", RFC 5227 and RFC 4862). */
enum pmdg_dad {
	PMDG_DAD_OFF = 0,   /* in use: answered, announced by every solicitation */
	PMDG_DAD_PROBING,   /* tentative: probed for, never claimed */
	PMDG_DAD_CONFLICT   /* another MAC holds it (holder) */
};

/* ---- addresses and configuration (no state) ---- */

/* Parses an IPv4 or IPv6 address, with "/prefix" if prefix is not NULL
 * (then required), without otherwise. Returns 0, or -1 with why. */
int pmdg_ip_parse(const char *s, struct pmdg_ip *ip, uint8_t *prefix, char *why, size_t why_size);
/* Writes ip as text (inet_ntop). */
void pmdg_ip_format(const struct pmdg_ip *ip, char *out, size_t out_size);
int pmdg_ip_equal(const struct pmdg_ip *a, const struct pmdg_ip *b);
int pmdg_mac_parse(const char *s, struct pmdg_mac *mac);
/* The transport's name ("l2", "udp4", "udp6") and back (-1: unknown). */
const char *pmdg_transport_name(uint8_t t);
int pmdg_transport_parse(const char *s);

/* Key parsers for the engine's configuration: each fills its part of c.
 * "addresses": `<node id>@<address>` separated by commas (every node of the
 * ring, this one included); "neighbours": `<address>@<MAC>` separated by
 * commas. Return 0, or -1 with why. */
int pmdg_net_parse_addresses(const char *v, struct pmdg_net_conf *c, char *why, size_t why_size);
int pmdg_net_parse_neighbours(const char *v, struct pmdg_net_conf *c, char *why, size_t why_size);

/* Checks a routed path's configuration for node self_id of a ring of
 * members[0..count): the addresses' families against the transport, every
 * member listed once with a distinct address, self's entry equal to the
 * own address, every peer on the link (same subnet, or both IPv6
 * link-local) or reachable through a gateway that is itself on the link,
 * the group a multicast address, static neighbours unicast MACs, and with
 * learning off a static entry for every next hop. Returns 0, or -1 with
 * *key naming the configuration key at fault ("address", "addresses",
 * "gateway", "multicast", "neighbours", "neighbour_learning") and why. */
int pmdg_net_check(const struct pmdg_net_conf *c, uint16_t self_id, const uint16_t *members, uint16_t count,
		   const char **key, char *why, size_t why_size);

/* Bytes the transport puts before ordo's frame beyond the Ethernet header:
 * 0 (l2), 28 (udp4), 48 (udp6). frame_size_max = mtu - overhead. */
uint32_t pmdg_net_overhead(uint8_t transport);

/* ---- checksums (RFC 1071), in memory order ---- */

/* Adds len bytes at data (starting at an even offset of the summed whole)
 * to the 16-bit one's-complement sum; returns the folded sum. */
uint32_t pmdg_csum_partial(const void *data, size_t len, uint32_t sum);
/* The checksum field for a folded sum: ~sum, as stored in a header. */
uint16_t pmdg_csum_final(uint32_t sum);

/* ---- the path's state ---- */

/* Sets up n for a checked configuration (pmdg_net_check() == 0): the port's
 * MAC, every peer's next hop, the static entries. Nothing is solicited
 * before the first pmdg_net_solicit(). */
void pmdg_net_init(struct pmdg_net *n, const struct pmdg_net_conf *c, uint16_t self_id,
		   const struct pmdg_mac *port_mac);

/* Builds the Ethernet, IP and UDP headers of a datagram of payload_size
 * bytes to node dest (0: the ring's multicast group) into hdr (at least
 * PMDG_NET_HDR_MAX bytes). payload_sum is pmdg_csum_partial(payload) when
 * csum_offload is 0; with csum_offload the IPv4 header checksum is left 0
 * and the UDP checksum field holds the pseudo-header's sum, for the NIC to
 * finish. Returns the header's size, or 0 when dest has no address or its
 * next hop no MAC yet (counted in tx_unresolved; a solicitation is due
 * at once). */
uint32_t pmdg_net_encap(struct pmdg_net *n, uint16_t dest, uint32_t payload_size, uint32_t payload_sum,
			int csum_offload, uint64_t now_ns, uint8_t *hdr);

/* What a received frame is. */
enum pmdg_rx_kind {
	PMDG_RX_PAYLOAD = 0, /* ordo's bytes at payload_off, payload_size long */
	PMDG_RX_HANDLED,     /* ARP or ND, taken; reply_size > 0: send reply as is */
	PMDG_RX_DROP         /* drop holds the reason */
};

struct pmdg_rx {
	uint8_t kind;          /* enum pmdg_rx_kind */
	uint8_t drop;          /* enum pmdg_drop */
	uint32_t payload_off, payload_size;
	uint32_t reply_size;
};

/* The receive offload's verdicts a caller may pass (0: check in software). */
#define PMDG_RX_IP_CSUM_GOOD 1u
#define PMDG_RX_L4_CSUM_GOOD 2u
#define PMDG_RX_IP_CSUM_BAD 4u
#define PMDG_RX_L4_CSUM_BAD 8u

/* Decodes one received frame of size bytes (contiguous). payload_max is the
 * largest ordo frame the path takes. Answers an ARP request or NS for our
 * address into reply (PMDG_NET_REPLY_MAX bytes), and fills a next hop's
 * MAC from a valid ARP or NA (NS with a source link-layer option) when
 * the path learns. */
void pmdg_net_rx(struct pmdg_net *n, const uint8_t *frame, size_t size, uint32_t payload_max,
		 uint32_t csum_flags, uint64_t now_ns, uint8_t *reply, struct pmdg_rx *out);

/* The next solicitation due at now_ns (an ARP request or an NS for a next
 * hop without a MAC, or a refresh of a learned one), written to frame
 * (PMDG_NET_REPLY_MAX bytes): returns its size, or 0 when none is due. Call
 * until it returns 0; cheap when nothing is due (one comparison). */
uint32_t pmdg_net_solicit(struct pmdg_net *n, uint64_t now_ns, uint8_t *frame);

/* Address conflict detection, before the node claims its address: from
 * now on pmdg_net_solicit() sends `probes` probes for the node's own
 * address, interval_ns apart (an ARP request with sender address 0.0.0.0;
 * an NS from the unspecified address to the solicited-node group, no
 * link-layer option), and solicits next hops the same anonymous way, so
 * that no peer learns (or changes) an entry for this address from it;
 * requests for the address go unanswered. An ARP frame with the address
 * as sender or an NA for it, from another MAC, sets PMDG_DAD_CONFLICT and
 * holder; a probe for it does not (a peer starting at the same time
 * solicits it that way). */
void pmdg_net_dad_start(struct pmdg_net *n, uint32_t probes, uint64_t interval_ns, uint64_t now_ns);
/* The address is free (no conflict by now): ordinary solicitations and
 * answers from now on. A no-op unless probing. */
void pmdg_net_dad_done(struct pmdg_net *n);

/* Next hops with a MAC (static or learned) and in total. */
void pmdg_net_resolved(const struct pmdg_net *n, uint32_t *resolved, uint32_t *total);

#endif
