/* pmdg_net.c — UDP over IPv4/IPv6, checksums, ARP and Neighbour Discovery
 * for one path (contract in pmdg_net.h). libc only.
 *
 * Layouts (RFC 791, 8200, 768, 826, 4861):
 *   Ethernet  0 dst[6] 6 src[6] 12 type
 *   IPv4     14: 0 ver/ihl 1 tos 2 total 4 id 6 flags/frag 8 ttl 9 proto 10 csum 12 src 16 dst
 *   IPv6     14: 0 ver/class/flow 4 payload length 6 next header 7 hop limit 8 src 24 dst
 *   UDP          0 sport 2 dport 4 length 6 csum, then ordo's frame
 *   ARP      14: 0 htype 2 ptype 4 hlen 5 plen 6 op 8 sha 14 spa 18 tha 24 tpa (28 bytes)
 *   NS/NA    54: 0 type 1 code 2 csum 4 flags(NA)/reserved 8 target[16] 24 options
 *
 * Checksums are summed in memory order (RFC 1071 §2(B): the sum is byte-
 * order independent), so every value goes in and out through memcpy.
 *
 * Neighbour timing: a next hop without a MAC is solicited at once, then
 * after 100 ms, doubling to once a second; a learned one is solicited again
 * every 30 s (three tries a second apart) and keeps its MAC meanwhile: a
 * peer that stops answering is the protocol's business, not this table's.
 *
 * Address conflict detection (pmdg_net_dad_start()): while the address is
 * tentative every frame this path sends about it is anonymous, an ARP
 * request from 0.0.0.0 (RFC 5227 §2.1.1) or an NS from :: (RFC 4862
 * §5.4.2), which no receiver learns a neighbour from: a second process
 * with a running node's address cannot move that node's entry at its
 * peers. The running node answers such a probe (it defends its address)
 * and the prober stops. Unlike RFC 5227 §2.1.1 and RFC 4862 §5.4.3, a
 * probe for an address being probed is no conflict: a peer that starts at
 * the same time solicits this node's address in just that form. Two
 * processes starting together with one address are left to ring-proto's
 * duplicate-id rules (docs/protocol.md §8.8).
 */
#include "pmdg_net.h"

#include <arpa/inet.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_MS 1000000ull
#define PROBE_FIRST_NS (100 * NS_PER_MS)
#define PROBE_MAX_NS (1000 * NS_PER_MS)
#define REFRESH_NS (30000 * NS_PER_MS)
#define REFRESH_TRIES 3u
#define TTL 64u
#define ND_HOP_LIMIT 255u
#define ICMP6_NS 135u
#define ICMP6_NA 136u
#define PROTO_UDP 17u
#define PROTO_ICMP6 58u
#define PROTO_FRAG6 44u
#define ARP_LEN 28u
#define ND_LEN 24u
#define ND_OPT_SLLA 1u
#define ND_OPT_TLLA 2u
#define NA_F_ROUTER 0x80u
#define NA_F_SOLICITED 0x40u
#define NA_F_OVERRIDE 0x20u
#define NH_NONE 0xFFu

static const char *const drop_names[PMDG_DROP_COUNT] = {
#define PMDG_DROP_NAME_(e, name, kind) [PMDG_DROP_##e] = name,
	foreach_pmdg_drop(PMDG_DROP_NAME_)
#undef PMDG_DROP_NAME_
};

const char *pmdg_drop_name(enum pmdg_drop d)
{
	return (unsigned)d < PMDG_DROP_COUNT ? drop_names[d] : "?";
}

static const struct pmdg_mac mac_broadcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
static const struct pmdg_mac mac_all_nodes = {{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}};
static const uint8_t ip6_all_nodes[16] = {0xff, 0x02, [15] = 0x01};

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline int mac_eq(const uint8_t *a, const struct pmdg_mac *b) { return memcmp(a, b->b, 6) == 0; }
static inline int mac_is_group(const uint8_t *m) { return m[0] & 1u; }
static inline int mac_is_zero(const uint8_t *m)
{
	return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0;
}
static inline uint32_t ip_len(uint8_t family) { return family == 6 ? 16u : 4u; }
static inline int ip_is(const struct pmdg_ip *a, const uint8_t *b) { return memcmp(a->b, b, ip_len(a->family)) == 0; }

/* ---------------------------------------------------------------- text */

int pmdg_ip_equal(const struct pmdg_ip *a, const struct pmdg_ip *b)
{
	return a->family == b->family && (a->family == 0 || ip_is(a, b->b));
}

int pmdg_ip_parse(const char *s, struct pmdg_ip *ip, uint8_t *prefix, char *why, size_t why_size)
{
	char buf[64];
	size_t n = strcspn(s, "/");
	memset(ip, 0, sizeof(*ip));
	if (n == 0 || n >= sizeof(buf)) {
		snprintf(why, why_size, "not an IPv4 or IPv6 address");
		return -1;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strchr(buf, '%') != NULL) {
		snprintf(why, why_size, "no zone index (%%...): a link-local address belongs to its path's port");
		return -1;
	}
	if (inet_pton(AF_INET, buf, ip->b) == 1)
		ip->family = 4;
	else if (inet_pton(AF_INET6, buf, ip->b) == 1)
		ip->family = 6;
	else {
		snprintf(why, why_size, "'%s' is not an IPv4 or IPv6 address", buf);
		return -1;
	}
	if (prefix == NULL) {
		if (s[n] != '\0') {
			snprintf(why, why_size, "an address without a prefix length here");
			return -1;
		}
		return 0;
	}
	if (s[n] != '/') {
		snprintf(why, why_size, "needs a prefix length (address/prefix, e.g. 10.1.0.1/24 or fd00::1/64)");
		return -1;
	}
	const char *p = s + n + 1;
	char *end;
	unsigned long x = (*p >= '0' && *p <= '9') ? strtoul(p, &end, 10) : 0;
	unsigned max = ip->family == 4 ? 32u : 128u;
	if (*p < '0' || *p > '9' || *end != '\0' || x < 1 || x > max) {
		snprintf(why, why_size, "prefix length must be 1..%u", max);
		return -1;
	}
	*prefix = (uint8_t)x;
	return 0;
}

void pmdg_ip_format(const struct pmdg_ip *ip, char *out, size_t out_size)
{
	if (ip->family == 0 || inet_ntop(ip->family == 4 ? AF_INET : AF_INET6, ip->b, out, (socklen_t)out_size) == NULL)
		snprintf(out, out_size, "-");
}

int pmdg_mac_parse(const char *s, struct pmdg_mac *mac)
{
	unsigned v[6];
	char tail;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &tail) != 6)
		return -1;
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++)
		mac->b[i] = (uint8_t)v[i];
	return 0;
}

static const char *const transport_names[] = {"l2", "udp4", "udp6"};

const char *pmdg_transport_name(uint8_t t) { return t <= PMDG_TRANSPORT_UDP6 ? transport_names[t] : "?"; }

int pmdg_transport_parse(const char *s)
{
	for (int i = 0; i <= PMDG_TRANSPORT_UDP6; i++)
		if (strcmp(s, transport_names[i]) == 0)
			return i;
	return -1;
}

uint32_t pmdg_net_overhead(uint8_t transport)
{
	return transport == PMDG_TRANSPORT_UDP4   ? PMDG_IP4_HDR + PMDG_UDP_HDR
	       : transport == PMDG_TRANSPORT_UDP6 ? PMDG_IP6_HDR + PMDG_UDP_HDR
						  : 0u;
}

/* Splits v at commas into trimmed items; calls item() on each. */
static int for_items(const char *v, int (*item)(const char *, void *, char *, size_t), void *arg, char *why,
		     size_t why_size)
{
	char tok[128];
	const char *p = v;
	int count = 0;
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = strcspn(p, ",");
		size_t m = n;
		while (m > 0 && (p[m - 1] == ' ' || p[m - 1] == '\t'))
			m--;
		if (m == 0 || m >= sizeof(tok)) {
			snprintf(why, why_size, m == 0 ? "an empty item in the list" : "an item longer than %zu characters",
				 sizeof(tok) - 1);
			return -1;
		}
		memcpy(tok, p, m);
		tok[m] = '\0';
		if (item(tok, arg, why, why_size) != 0)
			return -1;
		count++;
		p += n;
		if (*p == ',')
			p++;
	}
	if (count == 0) {
		snprintf(why, why_size, "an empty list");
		return -1;
	}
	return 0;
}

static int address_item(const char *tok, void *arg, char *why, size_t why_size)
{
	struct pmdg_net_conf *c = arg;
	const char *at = strchr(tok, '@');
	char *end;
	unsigned long id = (tok[0] >= '0' && tok[0] <= '9') ? strtoul(tok, &end, 10) : 0;
	if (at == NULL || tok[0] < '0' || tok[0] > '9' || end != at || id < 1 || id > PMDG_NODES_MAX) {
		snprintf(why, why_size, "'%s': items are <node id>@<address>, node ids 1..%u", tok, PMDG_NODES_MAX);
		return -1;
	}
	if (c->node[id].family != 0) {
		snprintf(why, why_size, "node %lu is listed twice", id);
		return -1;
	}
	char w[96];
	if (pmdg_ip_parse(at + 1, &c->node[id], NULL, w, sizeof(w)) != 0) {
		snprintf(why, why_size, "node %lu: %s", id, w);
		return -1;
	}
	return 0;
}

int pmdg_net_parse_addresses(const char *v, struct pmdg_net_conf *c, char *why, size_t why_size)
{
	memset(c->node, 0, sizeof(c->node));
	return for_items(v, address_item, c, why, why_size);
}

static int neighbour_item(const char *tok, void *arg, char *why, size_t why_size)
{
	struct pmdg_net_conf *c = arg;
	const char *at = strrchr(tok, '@');
	char ipbuf[64], w[96];
	if (at == NULL || (size_t)(at - tok) >= sizeof(ipbuf)) {
		snprintf(why, why_size, "'%s': items are <address>@<MAC>", tok);
		return -1;
	}
	memcpy(ipbuf, tok, (size_t)(at - tok));
	ipbuf[at - tok] = '\0';
	if (c->static_count == PMDG_STATIC_MAX) {
		snprintf(why, why_size, "more than %u neighbours", PMDG_STATIC_MAX);
		return -1;
	}
	struct pmdg_neigh_static *s = &c->statics[c->static_count];
	if (pmdg_ip_parse(ipbuf, &s->ip, NULL, w, sizeof(w)) != 0) {
		snprintf(why, why_size, "%s", w);
		return -1;
	}
	if (pmdg_mac_parse(at + 1, &s->mac) != 0) {
		snprintf(why, why_size, "'%s' is not a MAC address (xx:xx:xx:xx:xx:xx)", at + 1);
		return -1;
	}
	if (mac_is_group(s->mac.b) || mac_is_zero(s->mac.b)) {
		snprintf(why, why_size, "%s: a neighbour's MAC must be unicast and not zero", at + 1);
		return -1;
	}
	for (uint16_t i = 0; i < c->static_count; i++)
		if (pmdg_ip_equal(&c->statics[i].ip, &s->ip)) {
			snprintf(why, why_size, "%s is listed twice", ipbuf);
			return -1;
		}
	c->static_count++;
	return 0;
}

int pmdg_net_parse_neighbours(const char *v, struct pmdg_net_conf *c, char *why, size_t why_size)
{
	c->static_count = 0;
	return for_items(v, neighbour_item, c, why, why_size);
}

/* ---------------------------------------------------------------- addressing */

static int ip_is_multicast(const struct pmdg_ip *a)
{
	return a->family == 4 ? (a->b[0] & 0xF0u) == 0xE0u : a->b[0] == 0xFFu;
}

static int ip_is_link_local(const struct pmdg_ip *a)
{
	return a->family == 6 && a->b[0] == 0xFEu && (a->b[1] & 0xC0u) == 0x80u;
}

static int ip_is_unspecified(const struct pmdg_ip *a)
{
	static const uint8_t zero[16];
	return memcmp(a->b, zero, ip_len(a->family)) == 0;
}

static int ip_is_bad_unicast(const struct pmdg_ip *a)
{
	if (ip_is_unspecified(a) || ip_is_multicast(a))
		return 1;
	if (a->family == 4)
		return a->b[0] == 127u || (a->b[0] == 255u && a->b[1] == 255u && a->b[2] == 255u && a->b[3] == 255u);
	static const uint8_t loop6[16] = {[15] = 1};
	return memcmp(a->b, loop6, 16) == 0;
}

static int same_subnet(const struct pmdg_ip *a, const struct pmdg_ip *b, uint8_t prefix)
{
	if (a->family != b->family)
		return 0;
	uint32_t full = prefix / 8u, rest = prefix % 8u;
	if (memcmp(a->b, b->b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	uint8_t mask = (uint8_t)(0xFFu << (8u - rest));
	return (a->b[full] & mask) == (b->b[full] & mask);
}

/* Whether peer is reachable without a router from self/prefix. */
static int on_link(const struct pmdg_ip *self, uint8_t prefix, const struct pmdg_ip *peer)
{
	return ip_is_link_local(peer) || (!ip_is_link_local(self) && same_subnet(self, peer, prefix));
}

/* IPv4 host part all zeros or all ones in a subnet of 2+ host bits. */
static int ip4_net_or_broadcast(const struct pmdg_ip *a, uint8_t prefix)
{
	if (a->family != 4 || prefix > 30)
		return 0;
	uint32_t v = (uint32_t)a->b[0] << 24 | (uint32_t)a->b[1] << 16 | (uint32_t)a->b[2] << 8 | a->b[3];
	uint32_t host = v & (0xFFFFFFFFu >> prefix);
	return host == 0 || host == (0xFFFFFFFFu >> prefix);
}

#define CHECK_FAIL(k, ...)                                  \
	do {                                                \
		*key = (k);                                 \
		snprintf(why, why_size, __VA_ARGS__);       \
		return -1;                                  \
	} while (0)

int pmdg_net_check(const struct pmdg_net_conf *c, uint16_t self_id, const uint16_t *members, uint16_t count,
		   const char **key, char *why, size_t why_size)
{
	char a[64], b[64];
	if (c->transport == PMDG_TRANSPORT_L2) {
		if (c->self.family || c->gateway.family || c->group.family || c->static_count)
			CHECK_FAIL(c->self.family ? "address" : c->gateway.family ? "gateway" : c->group.family ? "multicast" : "neighbours",
				   "only with transport = udp4 or udp6 (this path is l2)");
		for (uint32_t i = 1; i <= PMDG_NODES_MAX; i++)
			if (c->node[i].family)
				CHECK_FAIL("addresses", "only with transport = udp4 or udp6 (this path is l2)");
		return 0;
	}
	uint8_t fam = c->transport == PMDG_TRANSPORT_UDP4 ? 4 : 6;
	const char *tname = pmdg_transport_name(c->transport);
	if (c->self.family == 0)
		CHECK_FAIL("address", "required with transport = %s: this node's address/prefix on the path", tname);
	pmdg_ip_format(&c->self, a, sizeof(a));
	if (c->self.family != fam)
		CHECK_FAIL("address", "%s is not an IPv%u address (transport = %s)", a, fam, tname);
	if (ip_is_bad_unicast(&c->self) || ip4_net_or_broadcast(&c->self, c->prefix))
		CHECK_FAIL("address", "%s/%u is not a host address", a, c->prefix);
	if (ip_is_link_local(&c->self) && c->prefix != 64)
		CHECK_FAIL("address", "a link-local address's prefix is /64, not /%u", c->prefix);
	if (c->udp_port == 0)
		CHECK_FAIL("udp_port", "must be 1..65535");
	/* every member listed, nothing else */
	uint32_t listed = 0;
	for (uint32_t i = 1; i <= PMDG_NODES_MAX; i++)
		listed += c->node[i].family != 0;
	if (listed == 0)
		CHECK_FAIL("addresses", "required with transport = %s: <node id>@<address> for every node of the ring",
			   tname);
	for (uint16_t k = 0; k < count; k++)
		if (members[k] > PMDG_NODES_MAX || c->node[members[k]].family == 0)
			CHECK_FAIL("addresses", "node %u of the ring has no address on this path", members[k]);
	if (listed != count)
		for (uint32_t i = 1; i <= PMDG_NODES_MAX; i++) {
			int member = 0;
			for (uint16_t k = 0; k < count; k++)
				member |= members[k] == i;
			if (c->node[i].family && !member)
				CHECK_FAIL("addresses", "node %u is not one of [ring] nodes", i);
		}
	int need_gateway = 0;
	for (uint32_t i = 1; i <= PMDG_NODES_MAX; i++) {
		const struct pmdg_ip *p = &c->node[i];
		if (p->family == 0)
			continue;
		pmdg_ip_format(p, b, sizeof(b));
		if (p->family != fam)
			CHECK_FAIL("addresses", "node %u: %s is not an IPv%u address (transport = %s)", i, b, fam, tname);
		if (ip_is_bad_unicast(p))
			CHECK_FAIL("addresses", "node %u: %s is not a host address", i, b);
		for (uint32_t j = 1; j < i; j++)
			if (pmdg_ip_equal(&c->node[j], p))
				CHECK_FAIL("addresses", "nodes %u and %u have the same address %s", j, i, b);
		if (i == self_id) {
			if (!pmdg_ip_equal(p, &c->self))
				CHECK_FAIL("addresses", "this node's entry %u@%s is not its address %s", i, b, a);
			continue;
		}
		if (!on_link(&c->self, c->prefix, p)) {
			if (c->gateway.family == 0)
				CHECK_FAIL("addresses", "node %u's %s is not in this node's subnet %s/%u, and no gateway is set",
					   i, b, a, c->prefix);
			need_gateway = 1;
		}
	}
	if (c->gateway.family != 0) {
		pmdg_ip_format(&c->gateway, b, sizeof(b));
		if (c->gateway.family != fam)
			CHECK_FAIL("gateway", "%s is not an IPv%u address (transport = %s)", b, fam, tname);
		if (ip_is_bad_unicast(&c->gateway) || pmdg_ip_equal(&c->gateway, &c->self))
			CHECK_FAIL("gateway", "%s cannot be a gateway", b);
		if (!on_link(&c->self, c->prefix, &c->gateway))
			CHECK_FAIL("gateway", "%s is not in this node's subnet %s/%u", b, a, c->prefix);
	}
	(void)need_gateway;
	if (c->group.family != 0) {
		pmdg_ip_format(&c->group, b, sizeof(b));
		if (c->group.family != fam || !ip_is_multicast(&c->group))
			CHECK_FAIL("multicast", "%s is not an IPv%u multicast address (%s)", b, fam,
				   fam == 4 ? "224.0.0.0/4" : "ff00::/8");
	}
	for (uint16_t s = 0; s < c->static_count; s++) {
		const struct pmdg_neigh_static *st = &c->statics[s];
		pmdg_ip_format(&st->ip, b, sizeof(b));
		if (st->ip.family != fam)
			CHECK_FAIL("neighbours", "%s is not an IPv%u address (transport = %s)", b, fam, tname);
		int next_hop = c->gateway.family && pmdg_ip_equal(&st->ip, &c->gateway);
		for (uint32_t i = 1; i <= PMDG_NODES_MAX && !next_hop; i++)
			next_hop = i != self_id && c->node[i].family && pmdg_ip_equal(&c->node[i], &st->ip) &&
				   on_link(&c->self, c->prefix, &c->node[i]);
		if (!next_hop)
			CHECK_FAIL("neighbours", "%s is not a next hop of this path (a node on the link, or the gateway)", b);
	}
	if (!c->learn) {
		struct pmdg_net tmp;
		static const struct pmdg_mac zero;
		pmdg_net_init(&tmp, c, self_id, &zero);
		for (uint8_t k = 0; k < tmp.neigh_count; k++)
			if (tmp.neigh[k].state != PMDG_NEIGH_STATIC) {
				pmdg_ip_format(&tmp.neigh[k].ip, b, sizeof(b));
				CHECK_FAIL("neighbour_learning", "'no' needs a static entry in neighbours for every next hop; %s has none", b);
			}
	}
	return 0;
}

/* ---------------------------------------------------------------- checksums */

/* 32-bit words into 64-bit accumulators (no carry lost below 2^32 words),
 * with SSE2 where the compiler targets it (x86-64 always); folded
 * to 16 bits at the end (RFC 1071 §2(C): any word size folds to the same
 * sum). */
uint32_t pmdg_csum_partial(const void *data, size_t len, uint32_t sum)
{
	const uint8_t *p = data;
	uint64_t s0 = sum, s1 = 0;
#if defined(__SSE2__)
	/* 32-bit lanes widened into two 64-bit lanes per accumulator: 16 bytes
	 * per load, no carry lost below 2^32 loads */
	__m128i acc = _mm_setzero_si128(), zero = _mm_setzero_si128();
	while (len >= 32) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
		acc = _mm_add_epi64(acc, _mm_unpacklo_epi32(a, zero));
		acc = _mm_add_epi64(acc, _mm_unpackhi_epi32(a, zero));
		acc = _mm_add_epi64(acc, _mm_unpacklo_epi32(b, zero));
		acc = _mm_add_epi64(acc, _mm_unpackhi_epi32(b, zero));
		p += 32;
		len -= 32;
	}
	uint64_t lanes[2];
	_mm_storeu_si128((__m128i *)(void *)lanes, acc);
	s0 += lanes[0];
	s1 += lanes[1];
#else
	while (len >= 32) {
		uint32_t w[8];
		memcpy(w, p, 32);
		s0 += (uint64_t)w[0] + w[2] + w[4] + w[6];
		s1 += (uint64_t)w[1] + w[3] + w[5] + w[7];
		p += 32;
		len -= 32;
	}
#endif
	while (len >= 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		s0 += w;
		p += 4;
		len -= 4;
	}
	if (len) {
		/* the last 1..3 bytes as one 32-bit word padded with zeros (an odd
		 * byte pads with zero): the fold below counts a 32-bit word as its
		 * two 16-bit halves, 2^16 being 1 in a ones' complement sum */
		uint8_t last[4] = {0};
		memcpy(last, p, len);
		uint32_t w;
		memcpy(&w, last, 4);
		s0 += w;
	}
	uint64_t s = s0 + s1; /* both far below 2^63 */
	s = (s & 0xFFFFFFFFu) + (s >> 32);
	s = (s & 0xFFFFFFFFu) + (s >> 32);
	s = (s & 0xFFFFu) + (s >> 16);
	s = (s & 0xFFFFu) + (s >> 16);
	return (uint32_t)s;
}

uint16_t pmdg_csum_final(uint32_t sum) { return (uint16_t)~sum; }

static void put_csum(uint8_t *field, uint16_t v) { memcpy(field, &v, 2); }

/* The pseudo-header's sum: addresses at addrs (src then dst, contiguous),
 * upper-layer length, protocol. */
static uint32_t pseudo_sum(uint8_t family, const uint8_t *addrs, uint32_t len, uint8_t proto)
{
	uint8_t tail[8] = {0};
	size_t n;
	if (family == 4) {
		tail[1] = proto;
		wr16(tail + 2, len);
		n = 4;
	} else {
		tail[0] = (uint8_t)(len >> 24);
		tail[1] = (uint8_t)(len >> 16);
		wr16(tail + 2, len);
		tail[7] = proto;
		n = 8;
	}
	uint32_t s = pmdg_csum_partial(addrs, 2u * ip_len(family), 0);
	return pmdg_csum_partial(tail, n, s);
}

/* ---------------------------------------------------------------- state */

static void multicast_mac(const struct pmdg_ip *g, struct pmdg_mac *m)
{
	if (g->family == 4) {
		const uint8_t b[6] = {0x01, 0x00, 0x5e, (uint8_t)(g->b[1] & 0x7Fu), g->b[2], g->b[3]};
		memcpy(m->b, b, 6);
	} else {
		const uint8_t b[6] = {0x33, 0x33, g->b[12], g->b[13], g->b[14], g->b[15]};
		memcpy(m->b, b, 6);
	}
}

static void solicited_node(const struct pmdg_ip *a, struct pmdg_ip *snm)
{
	static const uint8_t base[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};
	snm->family = 6;
	memcpy(snm->b, base, 13);
	memcpy(snm->b + 13, a->b + 13, 3);
}

static void recompute_due(struct pmdg_net *n)
{
	uint64_t due = n->dad == PMDG_DAD_PROBING && n->dad_left > 0 ? n->dad_next_ns : UINT64_MAX;
	for (uint8_t k = 0; k < n->neigh_count; k++)
		if (n->neigh[k].state != PMDG_NEIGH_STATIC && n->neigh[k].next_probe_ns < due)
			due = n->neigh[k].next_probe_ns;
	n->next_due_ns = due;
}

static uint8_t neigh_add(struct pmdg_net *n, const struct pmdg_ip *ip)
{
	for (uint8_t k = 0; k < n->neigh_count; k++)
		if (pmdg_ip_equal(&n->neigh[k].ip, ip))
			return k;
	struct pmdg_neigh *e = &n->neigh[n->neigh_count];
	memset(e, 0, sizeof(*e));
	e->ip = *ip;
	e->state = PMDG_NEIGH_INCOMPLETE;
	for (uint16_t s = 0; s < n->c.static_count; s++)
		if (pmdg_ip_equal(&n->c.statics[s].ip, ip)) {
			e->state = PMDG_NEIGH_STATIC;
			e->mac = n->c.statics[s].mac;
		}
	return n->neigh_count++;
}

void pmdg_net_init(struct pmdg_net *n, const struct pmdg_net_conf *c, uint16_t self_id,
		   const struct pmdg_mac *port_mac)
{
	memset(n, 0, sizeof(*n));
	n->c = *c;
	n->self_id = self_id;
	n->mac = *port_mac;
	memset(n->nh, NH_NONE, sizeof(n->nh));
	if (c->transport == PMDG_TRANSPORT_L2)
		return;
	if (c->group.family)
		multicast_mac(&c->group, &n->group_mac);
	if (c->self.family == 6) {
		solicited_node(&c->self, &n->snm);
		multicast_mac(&n->snm, &n->snm_mac);
	}
	for (uint16_t i = 1; i <= PMDG_NODES_MAX; i++) {
		const struct pmdg_ip *p = &c->node[i];
		if (p->family == 0 || i == self_id)
			continue;
		n->dest[n->dest_count++] = i;
		n->nh[i] = neigh_add(n, on_link(&c->self, c->prefix, p) ? p : &c->gateway);
	}
	recompute_due(n);
}

void pmdg_net_resolved(const struct pmdg_net *n, uint32_t *resolved, uint32_t *total)
{
	uint32_t r = 0;
	for (uint8_t k = 0; k < n->neigh_count; k++)
		r += n->neigh[k].state != PMDG_NEIGH_INCOMPLETE;
	*resolved = r;
	*total = n->neigh_count;
}

/* ---------------------------------------------------------------- transmit */

static uint8_t *put_eth(uint8_t *f, const struct pmdg_mac *dst, const struct pmdg_mac *src, uint16_t type)
{
	memcpy(f, dst->b, 6);
	memcpy(f + 6, src->b, 6);
	wr16(f + 12, type);
	return f + PMDG_ETH_HDR;
}

/* An IP header (no checksum yet) of payload_size bytes after it. */
static uint8_t *put_ip(uint8_t *ip, const struct pmdg_ip *src, const struct pmdg_ip *dst, uint8_t proto,
		       uint8_t ttl, uint32_t payload_size)
{
	if (src->family == 4) {
		ip[0] = 0x45;
		ip[1] = 0;
		wr16(ip + 2, PMDG_IP4_HDR + payload_size);
		wr16(ip + 4, 0);      /* atomic datagram (RFC 6864): no ID */
		wr16(ip + 6, 0x4000); /* DF */
		ip[8] = ttl;
		ip[9] = proto;
		wr16(ip + 10, 0);
		memcpy(ip + 12, src->b, 4);
		memcpy(ip + 16, dst->b, 4);
		return ip + PMDG_IP4_HDR;
	}
	ip[0] = 0x60;
	ip[1] = ip[2] = ip[3] = 0;
	wr16(ip + 4, payload_size);
	ip[6] = proto;
	ip[7] = ttl;
	memcpy(ip + 8, src->b, 16);
	memcpy(ip + 24, dst->b, 16);
	return ip + PMDG_IP6_HDR;
}

uint32_t pmdg_net_encap(struct pmdg_net *n, uint16_t dest, uint32_t payload_size, uint32_t payload_sum,
			int csum_offload, uint64_t now_ns, uint8_t *hdr)
{
	(void)now_ns;
	const struct pmdg_ip *dst;
	const struct pmdg_mac *dmac;
	if (dest == 0) {
		if (n->c.group.family == 0)
			return 0;
		dst = &n->c.group;
		dmac = &n->group_mac;
	} else if (dest == n->self_id && n->dad == PMDG_DAD_CONFLICT) {
		dst = &n->c.self; /* the host that holds this node's address */
		dmac = &n->holder;
	} else {
		if (dest > PMDG_NODES_MAX || n->nh[dest] == NH_NONE ||
		    n->neigh[n->nh[dest]].state == PMDG_NEIGH_INCOMPLETE) {
			n->st.tx_unresolved++;
			return 0;
		}
		dst = &n->c.node[dest];
		dmac = &n->neigh[n->nh[dest]].mac;
	}
	uint8_t fam = n->c.self.family;
	uint32_t ulen = PMDG_UDP_HDR + payload_size;
	uint8_t *ip = put_eth(hdr, dmac, &n->mac, fam == 4 ? PMDG_ETHERTYPE_IP4 : PMDG_ETHERTYPE_IP6);
	uint8_t *udp = put_ip(ip, &n->c.self, dst, PROTO_UDP, TTL, ulen);
	wr16(udp, n->c.udp_port);
	wr16(udp + 2, n->c.udp_port);
	wr16(udp + 4, ulen);
	wr16(udp + 6, 0);
	uint32_t ph = pseudo_sum(fam, fam == 4 ? ip + 12 : ip + 8, ulen, PROTO_UDP);
	if (csum_offload) {
		put_csum(udp + 6, (uint16_t)ph);
	} else {
		if (fam == 4)
			put_csum(ip + 10, pmdg_csum_final(pmdg_csum_partial(ip, PMDG_IP4_HDR, 0)));
		uint32_t s = pmdg_csum_partial(udp, PMDG_UDP_HDR, ph);
		s += payload_sum; /* two folded sums: one fold brings them back to 16 bits */
		s = (s & 0xFFFFu) + (s >> 16);
		uint16_t c = pmdg_csum_final(s);
		put_csum(udp + 6, c == 0 ? 0xFFFFu : c);
	}
	return (uint32_t)(udp + PMDG_UDP_HDR - hdr);
}

/* ---------------------------------------------------------------- ARP and ND frames */

/* An ARP frame from us; anonymous (a probe): sender address 0.0.0.0. */
static uint32_t build_arp(const struct pmdg_net *n, uint16_t op, const struct pmdg_mac *eth_dst,
			  const uint8_t *tha, const uint8_t *tpa, int anonymous, uint8_t *f)
{
	static const uint8_t zero[4];
	uint8_t *a = put_eth(f, eth_dst, &n->mac, PMDG_ETHERTYPE_ARP);
	wr16(a, 1);
	wr16(a + 2, PMDG_ETHERTYPE_IP4);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, op);
	memcpy(a + 8, n->mac.b, 6);
	memcpy(a + 14, anonymous ? zero : n->c.self.b, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, tpa, 4);
	return PMDG_ETH_HDR + ARP_LEN;
}

/* An NS (target, our SLLA) or NA (target = us, our TLLA, flags);
 * anonymous (an NS only): from ::, without the option (RFC 4861 §7.1.1). */
static uint32_t build_nd(const struct pmdg_net *n, uint8_t type, uint8_t flags, const struct pmdg_mac *eth_dst,
			 const struct pmdg_ip *dst, const uint8_t *target, int anonymous, uint8_t *f)
{
	static const struct pmdg_ip unspecified = {.family = 6};
	const uint32_t len = ND_LEN + (anonymous ? 0u : 8u);
	uint8_t *ip = put_eth(f, eth_dst, &n->mac, PMDG_ETHERTYPE_IP6);
	uint8_t *icmp = put_ip(ip, anonymous ? &unspecified : &n->c.self, dst, PROTO_ICMP6, ND_HOP_LIMIT, len);
	memset(icmp, 0, len);
	icmp[0] = type;
	icmp[4] = flags;
	memcpy(icmp + 8, target, 16);
	if (!anonymous) {
		icmp[24] = type == ICMP6_NS ? ND_OPT_SLLA : ND_OPT_TLLA;
		icmp[25] = 1;
		memcpy(icmp + 26, n->mac.b, 6);
	}
	uint32_t s = pseudo_sum(6, ip + 8, len, PROTO_ICMP6);
	put_csum(icmp + 2, pmdg_csum_final(pmdg_csum_partial(icmp, len, s)));
	return PMDG_ETH_HDR + PMDG_IP6_HDR + len;
}

/* An ARP request or NS for ip (anonymous while our address is tentative). */
static uint32_t build_solicit(const struct pmdg_net *n, const struct pmdg_ip *ip, uint8_t *frame)
{
	int anonymous = n->dad != PMDG_DAD_OFF;
	if (n->c.self.family == 4) {
		static const uint8_t zero[6];
		return build_arp(n, 1, &mac_broadcast, zero, ip->b, anonymous, frame);
	}
	struct pmdg_ip snm;
	struct pmdg_mac snm_mac;
	solicited_node(ip, &snm);
	multicast_mac(&snm, &snm_mac);
	return build_nd(n, ICMP6_NS, 0, &snm_mac, &snm, ip->b, anonymous, frame);
}

void pmdg_net_dad_start(struct pmdg_net *n, uint32_t probes, uint64_t interval_ns, uint64_t now_ns)
{
	if (n->c.transport == PMDG_TRANSPORT_L2)
		return;
	n->dad = PMDG_DAD_PROBING;
	n->dad_left = (uint8_t)(probes < UINT8_MAX ? probes : UINT8_MAX);
	n->dad_interval_ns = interval_ns;
	n->dad_next_ns = now_ns;
	recompute_due(n);
}

void pmdg_net_dad_done(struct pmdg_net *n)
{
	if (n->dad != PMDG_DAD_PROBING)
		return;
	n->dad = PMDG_DAD_OFF;
	n->dad_left = 0;
	recompute_due(n);
}

uint32_t pmdg_net_solicit(struct pmdg_net *n, uint64_t now_ns, uint8_t *frame)
{
	if (now_ns < n->next_due_ns)
		return 0;
	if (n->dad == PMDG_DAD_PROBING && n->dad_left > 0 && n->dad_next_ns <= now_ns) {
		n->dad_left--;
		n->dad_next_ns = now_ns + n->dad_interval_ns;
		recompute_due(n);
		return build_solicit(n, &n->c.self, frame);
	}
	uint32_t size = 0;
	for (uint8_t k = 0; k < n->neigh_count && size == 0; k++) {
		struct pmdg_neigh *e = &n->neigh[k];
		if (e->state == PMDG_NEIGH_STATIC || e->next_probe_ns > now_ns)
			continue;
		size = build_solicit(n, &e->ip, frame);
		if (e->probes < UINT8_MAX)
			e->probes++;
		if (e->state == PMDG_NEIGH_INCOMPLETE) {
			uint64_t wait = PROBE_FIRST_NS << (e->probes > 4 ? 4 : e->probes - 1);
			e->next_probe_ns = now_ns + (wait < PROBE_MAX_NS ? wait : PROBE_MAX_NS);
		} else {
			e->next_probe_ns = now_ns + (e->probes < REFRESH_TRIES ? PROBE_MAX_NS : REFRESH_NS);
		}
		n->st.solicited++;
	}
	recompute_due(n);
	return size;
}

/* ---------------------------------------------------------------- receive */

static int neigh_find(const struct pmdg_net *n, const uint8_t *ip)
{
	for (uint8_t k = 0; k < n->neigh_count; k++)
		if (ip_is(&n->neigh[k].ip, ip))
			return k;
	return -1;
}

/* A MAC for next hop k from a valid frame: taken unless static, learning
 * is off, or (override 0) the entry has another MAC already. Returns 1 if
 * taken. */
static int learn(struct pmdg_net *n, int k, const uint8_t *mac, int override, uint64_t now_ns)
{
	struct pmdg_neigh *e = &n->neigh[k];
	if (e->state == PMDG_NEIGH_STATIC || !n->c.learn)
		return 0;
	if (e->state == PMDG_NEIGH_LEARNED && !override && !mac_eq(mac, &e->mac))
		return 0;
	if (e->state != PMDG_NEIGH_LEARNED || !mac_eq(mac, &e->mac))
		n->st.learned++;
	memcpy(e->mac.b, mac, 6);
	e->state = PMDG_NEIGH_LEARNED;
	e->probes = 0;
	e->next_probe_ns = now_ns + REFRESH_NS;
	recompute_due(n);
	return 1;
}

static void drop(struct pmdg_rx *out, enum pmdg_drop why)
{
	out->kind = PMDG_RX_DROP;
	out->drop = (uint8_t)why;
}

/* Another MAC claims or probes for our tentative address: it is in use. */
static void dad_conflict(struct pmdg_net *n, const uint8_t *mac)
{
	if (n->dad != PMDG_DAD_PROBING)
		return;
	n->dad = PMDG_DAD_CONFLICT;
	n->dad_left = 0;
	memcpy(n->holder.b, mac, 6);
	recompute_due(n);
}

/* A probe for our address from mac answered (it is ours: RFC 5227 §2.4,
 * RFC 4862 §5.4.3). */
static void defended(struct pmdg_net *n, const uint8_t *mac)
{
	n->st.defended++;
	memcpy(n->prober.b, mac, 6);
}

static void rx_arp(struct pmdg_net *n, const uint8_t *f, size_t size, uint64_t now_ns, uint8_t *reply,
		   struct pmdg_rx *out)
{
	static const uint8_t zero[4];
	if (size < PMDG_ETH_HDR + ARP_LEN)
		return drop(out, PMDG_DROP_ARP_MALFORMED);
	if (!mac_eq(f, &mac_broadcast) && !mac_eq(f, &n->mac))
		return drop(out, PMDG_DROP_DEST);
	const uint8_t *a = f + PMDG_ETH_HDR;
	uint16_t op = rd16(a + 6);
	if (rd16(a) != 1 || rd16(a + 2) != PMDG_ETHERTYPE_IP4 || a[4] != 6 || a[5] != 4 || (op != 1 && op != 2))
		return drop(out, PMDG_DROP_ARP_MALFORMED);
	const uint8_t *sha = a + 8, *spa = a + 14, *tpa = a + 24;
	if (mac_is_group(sha) || mac_is_zero(sha) || memcmp(sha, f + 6, 6) != 0)
		return drop(out, PMDG_DROP_ARP_MALFORMED);
	int probe = op == 1 && memcmp(spa, zero, 4) == 0; /* RFC 5227: never learned from */
	int own = mac_eq(sha, &n->mac);                   /* ours, looped back */
	if (ip_is(&n->c.self, spa)) {
		if (!own)
			dad_conflict(n, sha);
		return drop(out, PMDG_DROP_NEIGH_CONFLICT);
	}
	int k = probe ? -1 : neigh_find(n, spa);
	int taken = k >= 0 && learn(n, k, sha, 1, now_ns);
	if (op == 1 && ip_is(&n->c.self, tpa)) {
		struct pmdg_mac to;
		if (n->dad != PMDG_DAD_OFF || own)
			return drop(out, PMDG_DROP_ARP_OTHER); /* tentative: not ours to answer yet */
		if (probe)
			defended(n, sha);
		memcpy(to.b, sha, 6);
		out->reply_size = build_arp(n, 2, &to, sha, spa, 0, reply);
		n->st.answered++;
		out->kind = PMDG_RX_HANDLED;
		return;
	}
	if (taken) {
		out->kind = PMDG_RX_HANDLED;
		return;
	}
	drop(out, k >= 0 ? PMDG_DROP_NEIGH_IGNORED : PMDG_DROP_ARP_OTHER);
}

/* A Neighbour Solicitation (checked by rx_nd()) from src to dst; lla: its
 * source link-layer option, or NULL. */
static void rx_ns(struct pmdg_net *n, const uint8_t *f, const struct pmdg_ip *src, const uint8_t *dst,
		  const uint8_t *target, const uint8_t *lla, uint64_t now_ns, uint8_t *reply, struct pmdg_rx *out)
{
	int unspec = ip_is_unspecified(src);
	if (unspec && (lla != NULL || memcmp(dst, n->snm.b, 13) != 0))
		return drop(out, PMDG_DROP_ND_MALFORMED); /* RFC 4861 §7.1.1: to a solicited-node group */
	if (!ip_is(&n->c.self, target))
		return drop(out, PMDG_DROP_ND_OTHER);
	if (!ip_is(&n->c.self, dst) && !ip_is(&n->snm, dst))
		return drop(out, PMDG_DROP_IP_DEST);
	if (n->dad != PMDG_DAD_OFF || mac_eq(f + 6, &n->mac))
		return drop(out, PMDG_DROP_ND_OTHER); /* tentative: not ours to answer yet (or our own) */
	int k = unspec ? -1 : neigh_find(n, src->b);
	if (k >= 0 && lla != NULL)
		(void)learn(n, k, lla, 1, now_ns);
	struct pmdg_mac to;
	if (unspec) {
		struct pmdg_ip all = {.family = 6};
		memcpy(all.b, ip6_all_nodes, 16);
		out->reply_size = build_nd(n, ICMP6_NA, NA_F_OVERRIDE, &mac_all_nodes, &all, n->c.self.b, 0,
					   reply);
		defended(n, f + 6);
	} else {
		memcpy(to.b, lla != NULL ? lla : f + 6, 6);
		if (mac_is_group(to.b))
			return drop(out, PMDG_DROP_ND_MALFORMED);
		out->reply_size = build_nd(n, ICMP6_NA, NA_F_SOLICITED | NA_F_OVERRIDE, &to, src, n->c.self.b,
					   0, reply);
	}
	n->st.answered++;
	out->kind = PMDG_RX_HANDLED;
}

/* ICMPv6 at ip (IPv6 header) with plen payload bytes, all in the frame. */
static void rx_nd(struct pmdg_net *n, const uint8_t *f, const uint8_t *ip, uint32_t plen, uint64_t now_ns,
		  uint8_t *reply, struct pmdg_rx *out)
{
	const uint8_t *icmp = ip + PMDG_IP6_HDR;
	if (plen < 4)
		return drop(out, PMDG_DROP_ND_MALFORMED);
	uint8_t type = icmp[0];
	if (type != ICMP6_NS && type != ICMP6_NA)
		return drop(out, PMDG_DROP_ND_OTHER); /* MLD, router discovery, echo, errors */
	if (ip[7] != ND_HOP_LIMIT || icmp[1] != 0 || plen < ND_LEN)
		return drop(out, PMDG_DROP_ND_MALFORMED);
	if (pmdg_csum_partial(icmp, plen, pseudo_sum(6, ip + 8, plen, PROTO_ICMP6)) != 0xFFFFu)
		return drop(out, PMDG_DROP_ND_CHECKSUM);
	const uint8_t *target = icmp + 8;
	if (target[0] == 0xFF)
		return drop(out, PMDG_DROP_ND_MALFORMED);
	const uint8_t *lla = NULL;
	for (uint32_t o = ND_LEN; o < plen;) {
		if (plen - o < 2 || icmp[o + 1] == 0 || (uint32_t)icmp[o + 1] * 8u > plen - o)
			return drop(out, PMDG_DROP_ND_MALFORMED);
		uint8_t ot = icmp[o], ol = icmp[o + 1];
		if (ot == (type == ICMP6_NS ? ND_OPT_SLLA : ND_OPT_TLLA)) {
			if (ol != 1)
				return drop(out, PMDG_DROP_ND_MALFORMED);
			lla = icmp + o + 2;
		}
		o += (uint32_t)ol * 8u;
	}
	if (lla != NULL && (mac_is_group(lla) || mac_is_zero(lla)))
		return drop(out, PMDG_DROP_ND_MALFORMED);
	const uint8_t *src = ip + 8, *dst = ip + 24;
	struct pmdg_ip s6 = {.family = 6};
	memcpy(s6.b, src, 16);
	if (src[0] == 0xFF)
		return drop(out, PMDG_DROP_ND_MALFORMED);
	if (type == ICMP6_NS)
		return rx_ns(n, f, &s6, dst, target, lla, now_ns, reply, out);
	/* NA */
	uint8_t flags = icmp[4];
	if ((dst[0] == 0xFF && (flags & NA_F_SOLICITED)) || ip_is_unspecified(&s6))
		return drop(out, PMDG_DROP_ND_MALFORMED); /* RFC 4861 §7.1.2; an answer comes from an address */
	if (ip_is(&n->c.self, target)) {
		if (!mac_eq(f + 6, &n->mac))
			dad_conflict(n, lla != NULL ? lla : f + 6);
		return drop(out, PMDG_DROP_NEIGH_CONFLICT);
	}
	if (!ip_is(&n->c.self, dst) && memcmp(dst, ip6_all_nodes, 16) != 0)
		return drop(out, PMDG_DROP_IP_DEST);
	int k = neigh_find(n, target);
	if (k < 0)
		return drop(out, PMDG_DROP_ND_OTHER);
	if (lla == NULL || !learn(n, k, lla, (flags & NA_F_OVERRIDE) != 0, now_ns))
		return drop(out, PMDG_DROP_NEIGH_IGNORED);
	out->kind = PMDG_RX_HANDLED;
}

/* Whether src is one of the ring's other nodes on this path, or this
 * node's own address from another MAC: a second process configured with
 * it, whose frames ring-proto refuses and reports (§8.8 Rule D). */
static int from_member(const struct pmdg_net *n, const uint8_t *f, const uint8_t *src)
{
	for (uint16_t k = 0; k < n->dest_count; k++)
		if (ip_is(&n->c.node[n->dest[k]], src))
			return 1;
	return ip_is(&n->c.self, src) && !mac_eq(f + 6, &n->mac);
}

/* The UDP datagram at udp (ulen bytes by IP's count) of a valid IPv4 or
 * IPv6 header whose source address is at addrs, its destination right after
 * it: the checks both versions share (destination this node or the ring's
 * group, source a node of the ring), then ports, length, checksum. */
static void rx_udp(struct pmdg_net *n, const uint8_t *f, const uint8_t *addrs, const uint8_t *udp, uint32_t ulen,
		   uint32_t payload_max, uint32_t csum_flags, struct pmdg_rx *out)
{
	uint8_t fam = n->c.self.family;
	const uint8_t *dst = addrs + (fam == 6 ? 16u : 4u);
	if (!ip_is(&n->c.self, dst) && !(n->c.group.family && ip_is(&n->c.group, dst)))
		return drop(out, PMDG_DROP_IP_DEST);
	if (!from_member(n, f, addrs))
		return drop(out, PMDG_DROP_IP_SOURCE);
	if (ulen < PMDG_UDP_HDR || rd16(udp + 4) != ulen)
		return drop(out, PMDG_DROP_UDP_LENGTH);
	if (rd16(udp) != n->c.udp_port || rd16(udp + 2) != n->c.udp_port)
		return drop(out, PMDG_DROP_UDP_PORT);
	if (ulen - PMDG_UDP_HDR > payload_max)
		return drop(out, PMDG_DROP_OVERSIZE);
	if (csum_flags & PMDG_RX_L4_CSUM_BAD)
		return drop(out, PMDG_DROP_UDP_CHECKSUM);
	int zero = udp[6] == 0 && udp[7] == 0;
	if (zero && fam == 6)
		return drop(out, PMDG_DROP_UDP_CHECKSUM); /* mandatory over IPv6 (RFC 8200 §8.1) */
	if (!zero && !(csum_flags & PMDG_RX_L4_CSUM_GOOD) &&
	    pmdg_csum_partial(udp, ulen, pseudo_sum(fam, addrs, ulen, PROTO_UDP)) != 0xFFFFu)
		return drop(out, PMDG_DROP_UDP_CHECKSUM);
	out->kind = PMDG_RX_PAYLOAD;
	out->payload_off = (uint32_t)(udp + PMDG_UDP_HDR - f);
	out->payload_size = ulen - PMDG_UDP_HDR;
}

static int eth_dst_ok(const struct pmdg_net *n, const uint8_t *f)
{
	if (mac_eq(f, &n->mac))
		return 1;
	if (n->c.group.family && mac_eq(f, &n->group_mac))
		return 1;
	return n->c.self.family == 6 && (mac_eq(f, &n->snm_mac) || mac_eq(f, &mac_all_nodes));
}

static void rx_ip4(struct pmdg_net *n, const uint8_t *f, size_t size, uint32_t payload_max, uint32_t csum_flags,
		   struct pmdg_rx *out)
{
	const uint8_t *ip = f + PMDG_ETH_HDR;
	size_t avail = size - PMDG_ETH_HDR;
	if (avail < PMDG_IP4_HDR || (ip[0] >> 4) != 4 || (ip[0] & 0xFu) < 5)
		return drop(out, PMDG_DROP_IP_HEADER);
	uint32_t ihl = (ip[0] & 0xFu) * 4u, total = rd16(ip + 2);
	if (total < ihl || total > avail)
		return drop(out, PMDG_DROP_IP_HEADER);
	if ((csum_flags & PMDG_RX_IP_CSUM_BAD) ||
	    (!(csum_flags & PMDG_RX_IP_CSUM_GOOD) && pmdg_csum_partial(ip, ihl, 0) != 0xFFFFu))
		return drop(out, PMDG_DROP_IP_CHECKSUM);
	if (rd16(ip + 6) & 0x3FFFu)
		return drop(out, PMDG_DROP_IP_FRAGMENT);
	if (ip[9] != PROTO_UDP)
		return drop(out, PMDG_DROP_IP_PROTO);
	rx_udp(n, f, ip + 12, ip + ihl, total - ihl, payload_max, csum_flags, out);
}

static void rx_ip6(struct pmdg_net *n, const uint8_t *f, size_t size, uint32_t payload_max, uint32_t csum_flags,
		   uint64_t now_ns, uint8_t *reply, struct pmdg_rx *out)
{
	const uint8_t *ip = f + PMDG_ETH_HDR;
	size_t avail = size - PMDG_ETH_HDR;
	if (avail < PMDG_IP6_HDR || (ip[0] >> 4) != 6)
		return drop(out, PMDG_DROP_IP_HEADER);
	uint32_t plen = rd16(ip + 4);
	if (plen > avail - PMDG_IP6_HDR)
		return drop(out, PMDG_DROP_IP_HEADER);
	if (ip[6] == PROTO_ICMP6)
		return rx_nd(n, f, ip, plen, now_ns, reply, out);
	if (ip[6] == PROTO_FRAG6)
		return drop(out, PMDG_DROP_IP_FRAGMENT);
	if (ip[6] != PROTO_UDP)
		return drop(out, PMDG_DROP_IP_PROTO);
	rx_udp(n, f, ip + 8, ip + PMDG_IP6_HDR, plen, payload_max, csum_flags, out);
}

void pmdg_net_rx(struct pmdg_net *n, const uint8_t *frame, size_t size, uint32_t payload_max,
		 uint32_t csum_flags, uint64_t now_ns, uint8_t *reply, struct pmdg_rx *out)
{
	memset(out, 0, sizeof(*out));
	if (size < PMDG_ETH_HDR)
		return drop(out, PMDG_DROP_RUNT);
	uint16_t type = rd16(frame + 12);
	if (n->c.transport == PMDG_TRANSPORT_UDP4 && type == PMDG_ETHERTYPE_ARP)
		return rx_arp(n, frame, size, now_ns, reply, out);
	if (!(n->c.transport == PMDG_TRANSPORT_UDP4 && type == PMDG_ETHERTYPE_IP4) &&
	    !(n->c.transport == PMDG_TRANSPORT_UDP6 && type == PMDG_ETHERTYPE_IP6))
		return drop(out, PMDG_DROP_ETHERTYPE);
	if (!eth_dst_ok(n, frame))
		return drop(out, PMDG_DROP_DEST);
	if (type == PMDG_ETHERTYPE_IP4)
		rx_ip4(n, frame, size, payload_max, csum_flags, out);
	else
		rx_ip6(n, frame, size, payload_max, csum_flags, now_ns, reply, out);
}
