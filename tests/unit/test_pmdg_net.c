/* test_pmdg_net.c — pmd-glue's routed encapsulation (pmd-glue/pmdg_net.c),
 * without DPDK: address parsing and the configuration's rules, checksums
 * against a plain RFC 1071 reference, headers built by one node and decoded
 * by another, ARP and Neighbour Discovery round trips between two nodes,
 * the neighbour table's rules (static entries win, learning off learns
 * nothing, a frame cannot add an entry), and every single-byte corruption
 * of a valid frame either dropped or harmless.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pmdg_net.h"

#define MS 1000000ull

/* RFC 1071 the slow way: big-endian 16-bit words, end-around carry. */
static uint16_t ref_sum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xFFFF) + (s >> 16);
	return (uint16_t)s;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* The reference UDP checksum check of a frame (sum over pseudo-header and
 * datagram is 0xFFFF). */
static uint16_t ref_udp_sum(const uint8_t *f)
{
	uint8_t ph[40];
	const uint8_t *ip = f + 14, *udp;
	uint32_t ulen;
	size_t n;
	if (rd16(f + 12) == 0x0800) {
		udp = ip + (ip[0] & 15) * 4;
		ulen = rd16(udp + 4);
		memcpy(ph, ip + 12, 8);
		ph[8] = 0;
		ph[9] = 17;
		ph[10] = (uint8_t)(ulen >> 8);
		ph[11] = (uint8_t)ulen;
		n = 12;
	} else {
		udp = ip + 40;
		ulen = rd16(ip + 4);
		memcpy(ph, ip + 8, 32);
		memset(ph + 32, 0, 8);
		ph[34] = (uint8_t)(ulen >> 8);
		ph[35] = (uint8_t)ulen;
		ph[39] = ip[6];
		n = 40;
	}
	return ref_sum(udp, ulen, ref_sum(ph, n, 0));
}

static const struct pmdg_mac mac1 = {{0x02, 0, 0, 0, 0, 0x01}};
static const struct pmdg_mac mac2 = {{0x02, 0, 0, 0, 0, 0x02}};
static const struct pmdg_mac mac3 = {{0x02, 0, 0, 0, 0, 0x03}};
static const struct pmdg_mac mac_gw = {{0x02, 0, 0, 0, 0, 0xfe}};
static const uint16_t members[3] = {1, 2, 3};

/* A path config for node self: transport, own address/prefix, every
 * node's address, gateway, group ("" none). */
static void conf(struct pmdg_net_conf *c, uint8_t transport, const char *self, const char *addresses,
		 const char *gw, const char *group)
{
	char why[128];
	memset(c, 0, sizeof(*c));
	c->transport = transport;
	c->learn = 1;
	c->udp_port = PMDG_UDP_PORT_DEFAULT;
	assert_int_equal(pmdg_ip_parse(self, &c->self, &c->prefix, why, sizeof(why)), 0);
	assert_int_equal(pmdg_net_parse_addresses(addresses, c, why, sizeof(why)), 0);
	if (gw[0])
		assert_int_equal(pmdg_ip_parse(gw, &c->gateway, NULL, why, sizeof(why)), 0);
	if (group[0])
		assert_int_equal(pmdg_ip_parse(group, &c->group, NULL, why, sizeof(why)), 0);
}

static void check_ok(const struct pmdg_net_conf *c, uint16_t self)
{
	const char *key = NULL;
	char why[256] = "";
	int rc = pmdg_net_check(c, self, members, 3, &key, why, sizeof(why));
	if (rc != 0)
		fail_msg("check refused: %s: %s", key, why);
}

static void check_bad(const struct pmdg_net_conf *c, uint16_t self, const char *want_key, const char *want_word)
{
	const char *key = NULL;
	char why[256] = "";
	assert_int_equal(pmdg_net_check(c, self, members, 3, &key, why, sizeof(why)), -1);
	assert_non_null(key);
	assert_string_equal(key, want_key);
	if (strstr(why, want_word) == NULL)
		fail_msg("'%s' does not say '%s'", why, want_word);
}

/* ---------------------------------------------------------------- parsing */

static void test_ip_parse(void **state)
{
	(void)state;
	struct pmdg_ip ip;
	uint8_t prefix = 0;
	char why[128];
	assert_int_equal(pmdg_ip_parse("10.1.2.3/24", &ip, &prefix, why, sizeof(why)), 0);
	assert_int_equal(ip.family, 4);
	assert_int_equal(prefix, 24);
	assert_memory_equal(ip.b, ((uint8_t[]){10, 1, 2, 3}), 4);
	assert_int_equal(pmdg_ip_parse("fe80::1/64", &ip, &prefix, why, sizeof(why)), 0);
	assert_int_equal(ip.family, 6);
	assert_int_equal(ip.b[0], 0xfe);
	assert_int_equal(ip.b[15], 1);
	assert_int_equal(pmdg_ip_parse("fd00::1", &ip, NULL, why, sizeof(why)), 0);
	/* refusals */
	assert_int_equal(pmdg_ip_parse("10.1.2.3", &ip, &prefix, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "prefix"));
	assert_int_equal(pmdg_ip_parse("10.1.2.3/33", &ip, &prefix, why, sizeof(why)), -1);
	assert_int_equal(pmdg_ip_parse("10.1.2.3/0", &ip, &prefix, why, sizeof(why)), -1);
	assert_int_equal(pmdg_ip_parse("10.1.2.3/24x", &ip, &prefix, why, sizeof(why)), -1);
	assert_int_equal(pmdg_ip_parse("fd00::1/129", &ip, &prefix, why, sizeof(why)), -1);
	assert_int_equal(pmdg_ip_parse("10.1.2.256/24", &ip, &prefix, why, sizeof(why)), -1);
	assert_int_equal(pmdg_ip_parse("10.1.2/24", &ip, &prefix, why, sizeof(why)), -1);
	assert_int_equal(pmdg_ip_parse("fe80::1%p0", &ip, NULL, why, sizeof(why)), -1);
	assert_int_equal(pmdg_ip_parse("10.1.2.3/24", &ip, NULL, why, sizeof(why)), -1);
	assert_int_equal(pmdg_ip_parse("", &ip, NULL, why, sizeof(why)), -1);
	struct pmdg_mac m;
	assert_int_equal(pmdg_mac_parse("02:00:00:00:00:0a", &m), 0);
	assert_int_equal(m.b[5], 10);
	assert_int_equal(pmdg_mac_parse("02:00:00:00:00", &m), -1);
	assert_int_equal(pmdg_mac_parse("02:00:00:00:00:0a:", &m), -1);
	assert_int_equal(pmdg_mac_parse("02:00:00:00:00:0g", &m), -1);
	assert_int_equal(pmdg_transport_parse("udp6"), PMDG_TRANSPORT_UDP6);
	assert_int_equal(pmdg_transport_parse("udp"), -1);
}

static void test_lists(void **state)
{
	(void)state;
	struct pmdg_net_conf c;
	char why[128];
	memset(&c, 0, sizeof(c));
	assert_int_equal(pmdg_net_parse_addresses(" 1@10.0.1.1, 2@10.0.2.1 ,3@10.0.3.1", &c, why, sizeof(why)), 0);
	assert_int_equal(c.node[3].family, 4);
	assert_int_equal(c.node[3].b[2], 3);
	assert_int_equal(c.node[4].family, 0);
	assert_int_equal(pmdg_net_parse_addresses("1@10.0.1.1,1@10.0.2.1", &c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "twice"));
	assert_int_equal(pmdg_net_parse_addresses("65@10.0.1.1", &c, why, sizeof(why)), -1);
	assert_int_equal(pmdg_net_parse_addresses("1=10.0.1.1", &c, why, sizeof(why)), -1);
	assert_int_equal(pmdg_net_parse_addresses("1@10.0.1.1,,2@10.0.2.1", &c, why, sizeof(why)), -1);
	assert_int_equal(pmdg_net_parse_addresses("1@10.0.1.1/24", &c, why, sizeof(why)), -1);
	assert_int_equal(pmdg_net_parse_neighbours("fd00::fe@02:00:00:00:00:fe, 10.0.0.1@02:00:00:00:00:01", &c, why,
						   sizeof(why)), 0);
	assert_int_equal(c.static_count, 2);
	assert_int_equal(c.statics[0].ip.family, 6);
	assert_int_equal(pmdg_net_parse_neighbours("10.0.0.1@01:00:5e:00:00:01", &c, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "unicast"));
	assert_int_equal(pmdg_net_parse_neighbours("10.0.0.1@00:00:00:00:00:00", &c, why, sizeof(why)), -1);
	assert_int_equal(pmdg_net_parse_neighbours("10.0.0.1@02:00:00:00:00:01,10.0.0.1@02:00:00:00:00:02", &c, why,
						   sizeof(why)), -1);
	assert_int_equal(pmdg_net_parse_neighbours("10.0.0.1", &c, why, sizeof(why)), -1);
}

static void test_check(void **state)
{
	(void)state;
	/* one configuration a row: accepted (key NULL), or refused naming key
	 * with word in the reason */
	static const struct {
		uint8_t transport;
		const char *self, *addresses, *gw, *group, *key, *word;
	} cases[] = {
		/* routed: nodes in three subnets through a gateway */
		{PMDG_TRANSPORT_UDP4, "10.80.1.1/24", "1@10.80.1.1,2@10.80.2.1,3@10.80.3.1", "10.80.1.254", "", NULL, NULL},
		{PMDG_TRANSPORT_UDP4, "10.80.1.1/24", "1@10.80.1.1,2@10.80.2.1,3@10.80.3.1", "", "", "addresses", "no gateway"},
		{PMDG_TRANSPORT_UDP4, "10.80.1.1/24", "1@10.80.1.1,2@10.80.2.1,3@10.80.3.1", "10.80.9.254", "", "gateway",
		 "not in this node's subnet"},
		/* one subnet, no gateway needed */
		{PMDG_TRANSPORT_UDP4, "10.80.0.1/16", "1@10.80.0.1,2@10.80.2.1,3@10.80.3.1", "", "239.1.2.3", NULL, NULL},
		/* families, self, members */
		{PMDG_TRANSPORT_UDP6, "10.80.1.1/24", "1@10.80.1.1,2@10.80.2.1,3@10.80.3.1", "10.80.1.254", "", "address", "IPv6"},
		{PMDG_TRANSPORT_UDP4, "10.80.1.1/24", "1@10.80.1.2,2@10.80.1.3,3@10.80.1.4", "", "", "addresses",
		 "is not its address"},
		{PMDG_TRANSPORT_UDP4, "10.80.1.1/24", "1@10.80.1.1,2@10.80.1.3", "", "", "addresses", "node 3"},
		{PMDG_TRANSPORT_UDP4, "10.80.1.1/24", "1@10.80.1.1,2@10.80.1.3,3@10.80.1.4,4@10.80.1.5", "", "", "addresses",
		 "not one of [ring] nodes"},
		{PMDG_TRANSPORT_UDP4, "10.80.1.1/24", "1@10.80.1.1,2@10.80.1.3,3@10.80.1.3", "", "", "addresses", "same address"},
		{PMDG_TRANSPORT_UDP4, "10.80.1.0/24", "1@10.80.1.0,2@10.80.1.3,3@10.80.1.4", "", "", "address",
		 "not a host address"},
		{PMDG_TRANSPORT_UDP4, "10.80.1.1/24", "1@10.80.1.1,2@224.0.0.1,3@10.80.1.4", "", "", "addresses",
		 "not a host address"},
		{PMDG_TRANSPORT_UDP4, "10.80.1.1/24", "1@10.80.1.1,2@10.80.1.3,3@10.80.1.4", "", "10.1.1.1", "multicast",
		 "multicast"},
		/* IPv6: link-local peers are on the link whatever the prefix */
		{PMDG_TRANSPORT_UDP6, "fe80::1/64", "1@fe80::1,2@fe80::2,3@fe80::3", "", "ff02::4f52", NULL, NULL},
		{PMDG_TRANSPORT_UDP6, "fe80::1/10", "1@fe80::1,2@fe80::2,3@fe80::3", "", "", "address", "/64"},
		{PMDG_TRANSPORT_UDP6, "fe80::1/64", "1@fe80::1,2@fd00::2,3@fe80::3", "", "", "addresses", "no gateway"},
		/* a link-local gateway, as routers advertise */
		{PMDG_TRANSPORT_UDP6, "fd6f:0:0:1::1/64", "1@fd6f:0:0:1::1,2@fd6f:0:0:2::1,3@fd6f:0:0:3::1", "fe80::fe", "",
		 NULL, NULL},
	};
	struct pmdg_net_conf c;
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		conf(&c, cases[k].transport, cases[k].self, cases[k].addresses, cases[k].gw, cases[k].group);
		if (cases[k].key == NULL)
			check_ok(&c, 1);
		else
			check_bad(&c, 1, cases[k].key, cases[k].word);
	}
	/* static neighbours and learning */
	conf(&c, PMDG_TRANSPORT_UDP4, "10.80.1.1/24", "1@10.80.1.1,2@10.80.2.1,3@10.80.3.1", "10.80.1.254", "");
	char why[128];
	assert_int_equal(pmdg_net_parse_neighbours("10.80.2.1@02:00:00:00:00:02", &c, why, sizeof(why)), 0);
	check_bad(&c, 1, "neighbours", "not a next hop");
	assert_int_equal(pmdg_net_parse_neighbours("10.80.1.254@02:00:00:00:00:fe", &c, why, sizeof(why)), 0);
	check_ok(&c, 1);
	c.learn = 0;
	check_ok(&c, 1); /* the gateway is every peer's next hop, and static */
	conf(&c, PMDG_TRANSPORT_UDP4, "10.80.1.1/24", "1@10.80.1.1,2@10.80.1.2,3@10.80.1.3", "", "");
	assert_int_equal(pmdg_net_parse_neighbours("10.80.1.2@02:00:00:00:00:02", &c, why, sizeof(why)), 0);
	c.learn = 0;
	check_bad(&c, 1, "neighbour_learning", "10.80.1.3");
	/* l2 takes no addresses */
	conf(&c, PMDG_TRANSPORT_UDP4, "10.80.1.1/24", "1@10.80.1.1,2@10.80.1.2,3@10.80.1.3", "", "");
	c.transport = PMDG_TRANSPORT_L2;
	check_bad(&c, 1, "address", "l2");
	memset(&c, 0, sizeof(c));
	check_ok(&c, 1);
	assert_int_equal(pmdg_net_overhead(PMDG_TRANSPORT_UDP4), 28);
	assert_int_equal(pmdg_net_overhead(PMDG_TRANSPORT_UDP6), 48);
	assert_int_equal(pmdg_net_overhead(PMDG_TRANSPORT_L2), 0);
}

/* ---------------------------------------------------------------- checksums */

static void test_csum(void **state)
{
	(void)state;
	/* the IPv4 header of RFC 1071's usual example: checksum b861 */
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	uint16_t c = pmdg_csum_final(pmdg_csum_partial(h, 20, 0));
	memcpy(h + 10, &c, 2);
	assert_int_equal(h[10], 0xb8);
	assert_int_equal(h[11], 0x61);
	assert_int_equal(pmdg_csum_partial(h, 20, 0), 0xFFFF);
	/* random buffers, every length and split point against the reference */
	uint8_t buf[1031];
	uint32_t x = 12345;
	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (uint8_t)(x >> 16);
	}
	for (size_t n = 0; n <= sizeof(buf); n += (n < 40 ? 1 : 37)) {
		uint16_t want = ref_sum(buf, n, 0);
		uint32_t got = pmdg_csum_partial(buf, n, 0);
		uint8_t be[2];
		memcpy(be, &(uint16_t){(uint16_t)got}, 2);
		uint16_t got_be = (uint16_t)(be[0] << 8 | be[1]);
		/* 0 and 0xFFFF are the same number in one's complement */
		if (!(got_be == want || (got_be == 0xFFFF && want == 0) || (got_be == 0 && want == 0xFFFF)))
			fail_msg("length %zu: %04x, reference %04x", n, got_be, want);
		for (size_t split = 0; split + 1 < n; split += 2 + (n / 7 & ~(size_t)1)) {
			uint32_t s = pmdg_csum_partial(buf + split, n - split, pmdg_csum_partial(buf, split, 0));
			assert_int_equal(s, got);
		}
	}
	/* all ones stays representable */
	memset(buf, 0xFF, 64);
	assert_int_equal(pmdg_csum_partial(buf, 64, 0), 0xFFFF);
}

/* ---------------------------------------------------------------- frames */

struct pair {
	struct pmdg_net a, b; /* node 1 and node 2 */
};

static void ipv4_pair(struct pair *p, const char *group)
{
	struct pmdg_net_conf c;
	conf(&c, PMDG_TRANSPORT_UDP4, "10.80.1.1/24", "1@10.80.1.1,2@10.80.1.2,3@10.80.1.3", "", group);
	check_ok(&c, 1);
	pmdg_net_init(&p->a, &c, 1, &mac1);
	conf(&c, PMDG_TRANSPORT_UDP4, "10.80.1.2/24", "1@10.80.1.1,2@10.80.1.2,3@10.80.1.3", "", group);
	check_ok(&c, 2);
	pmdg_net_init(&p->b, &c, 2, &mac2);
}

static void ipv6_pair(struct pair *p, const char *a, const char *b, const char *all, const char *gw)
{
	struct pmdg_net_conf c;
	conf(&c, PMDG_TRANSPORT_UDP6, a, all, gw, "");
	check_ok(&c, 1);
	pmdg_net_init(&p->a, &c, 1, &mac1);
	conf(&c, PMDG_TRANSPORT_UDP6, b, all, gw, "");
	check_ok(&c, 2);
	pmdg_net_init(&p->b, &c, 2, &mac2);
}

/* Runs solicitations from x at now through y and y's answers back. */
static void exchange(struct pmdg_net *x, struct pmdg_net *y, uint64_t now)
{
	uint8_t f[PMDG_NET_REPLY_MAX], reply[PMDG_NET_REPLY_MAX];
	uint32_t n;
	while ((n = pmdg_net_solicit(x, now, f)) > 0) {
		struct pmdg_rx r;
		pmdg_net_rx(y, f, n, 9000, 0, now, reply, &r);
		if (r.kind != PMDG_RX_HANDLED || r.reply_size == 0)
			continue; /* a solicitation for someone else (node 3 here) */
		pmdg_net_rx(x, reply, r.reply_size, 9000, 0, now, f, &r);
		assert_int_equal(r.kind, PMDG_RX_HANDLED);
	}
}

/* A datagram of payload bytes from a to node dest; returns the frame size. */
static uint32_t datagram(struct pmdg_net *a, uint16_t dest, const uint8_t *payload, uint32_t size, uint8_t *f)
{
	uint32_t hl = pmdg_net_encap(a, dest, size, pmdg_csum_partial(payload, size, 0), 0, 0, f);
	if (hl == 0)
		return 0;
	memcpy(f + hl, payload, size);
	return hl + size;
}

static void test_arp_and_udp4(void **state)
{
	(void)state;
	static struct pair p;
	ipv4_pair(&p, "");
	uint8_t payload[1000], f[1200], reply[PMDG_NET_REPLY_MAX];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 1);
	/* nothing resolved: nothing sent, counted */
	assert_int_equal(datagram(&p.a, 2, payload, sizeof(payload), f), 0);
	assert_int_equal(p.a.st.tx_unresolved, 1);
	/* the first ARP request goes at once, to broadcast */
	uint32_t n = pmdg_net_solicit(&p.a, 0, f);
	assert_int_equal(n, 42);
	assert_memory_equal(f, ((uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), 6);
	assert_int_equal(rd16(f + 12), 0x0806);
	assert_int_equal(rd16(f + 20), 1);
	struct pmdg_rx r;
	pmdg_net_rx(&p.b, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.kind, PMDG_RX_HANDLED);
	assert_int_equal(r.reply_size, 42);
	assert_memory_equal(reply, mac1.b, 6);          /* to the asker */
	assert_int_equal(rd16(reply + 20), 2);          /* a reply */
	assert_memory_equal(reply + 22, mac2.b, 6);     /* b's MAC */
	assert_memory_equal(reply + 28, ((uint8_t[]){10, 80, 1, 2}), 4);
	assert_int_equal(p.b.st.answered, 1);
	assert_int_equal(p.b.st.learned, 1);            /* a's MAC from its request */
	pmdg_net_rx(&p.a, reply, r.reply_size, 9000, 0, 0, f, &r);
	assert_int_equal(r.kind, PMDG_RX_HANDLED);
	assert_int_equal(r.reply_size, 0);
	uint32_t res, tot;
	pmdg_net_resolved(&p.a, &res, &tot);
	assert_int_equal(tot, 2);
	assert_int_equal(res, 1);                       /* node 3 is not answering */
	/* a datagram, decoded by b */
	n = datagram(&p.a, 2, payload, sizeof(payload), f);
	assert_int_equal(n, 42 + sizeof(payload));
	assert_memory_equal(f, mac2.b, 6);
	assert_memory_equal(f + 6, mac1.b, 6);
	assert_int_equal(f[14], 0x45);
	assert_int_equal(rd16(f + 16), 28 + sizeof(payload));
	assert_int_equal(rd16(f + 20), 0x4000);         /* DF, never fragmented */
	assert_int_equal(f[23], 17);
	assert_int_equal(rd16(f + 34), PMDG_UDP_PORT_DEFAULT);
	assert_int_equal(ref_sum(f + 14, 20, 0), 0xFFFF);
	assert_int_equal(ref_udp_sum(f), 0xFFFF);
	pmdg_net_rx(&p.b, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.kind, PMDG_RX_PAYLOAD);
	assert_int_equal(r.payload_off, 42);
	assert_int_equal(r.payload_size, sizeof(payload));
	/* Ethernet padding after a short datagram is not payload */
	n = datagram(&p.a, 2, payload, 4, f);
	memset(f + n, 0, 60 - n);
	pmdg_net_rx(&p.b, f, 60, 9000, 0, 0, reply, &r);
	assert_int_equal(r.kind, PMDG_RX_PAYLOAD);
	assert_int_equal(r.payload_size, 4);
	/* too large for the path */
	n = datagram(&p.a, 2, payload, sizeof(payload), f);
	pmdg_net_rx(&p.b, f, n, 999, 0, 0, reply, &r);
	assert_int_equal(r.drop, PMDG_DROP_OVERSIZE);
	/* the offload's verdicts are taken */
	pmdg_net_rx(&p.b, f, n, 9000, PMDG_RX_L4_CSUM_BAD, 0, reply, &r);
	assert_int_equal(r.drop, PMDG_DROP_UDP_CHECKSUM);
	f[n - 1] ^= 1;
	pmdg_net_rx(&p.b, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.drop, PMDG_DROP_UDP_CHECKSUM);
	pmdg_net_rx(&p.b, f, n, 9000, PMDG_RX_IP_CSUM_GOOD | PMDG_RX_L4_CSUM_GOOD, 0, reply, &r);
	assert_int_equal(r.kind, PMDG_RX_PAYLOAD);
	/* a fragment */
	n = datagram(&p.a, 2, payload, 100, f);
	f[20] |= 0x20; /* MF */
	uint16_t z = 0;
	memcpy(f + 24, &z, 2);
	uint16_t c = pmdg_csum_final(pmdg_csum_partial(f + 14, 20, 0));
	memcpy(f + 24, &c, 2);
	pmdg_net_rx(&p.b, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.drop, PMDG_DROP_IP_FRAGMENT);
	/* from an address that is not a node */
	n = datagram(&p.a, 2, payload, 100, f);
	f[29] = 99;
	memcpy(f + 24, &z, 2);
	c = pmdg_csum_final(pmdg_csum_partial(f + 14, 20, 0));
	memcpy(f + 24, &c, 2);
	pmdg_net_rx(&p.b, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.drop, PMDG_DROP_IP_SOURCE);
	/* ordo's L2 EtherType on a UDP path */
	n = datagram(&p.a, 2, payload, 100, f);
	f[12] = 0x88;
	f[13] = 0xB5;
	pmdg_net_rx(&p.b, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.drop, PMDG_DROP_ETHERTYPE);
}

static void test_arp_rules(void **state)
{
	(void)state;
	static struct pair p;
	ipv4_pair(&p, "");
	uint8_t f[PMDG_NET_REPLY_MAX], g[PMDG_NET_REPLY_MAX], reply[PMDG_NET_REPLY_MAX];
	exchange(&p.a, &p.b, 0);
	assert_int_equal(p.a.neigh[p.a.nh[2]].state, PMDG_NEIGH_LEARNED);
	/* a reply from node 3's address with a new MAC moves the entry (ARP has
	 * no authentication; with learning off it would not: below) */
	uint32_t n = pmdg_net_solicit(&p.a, 0, f);
	assert_int_equal(n, 0); /* nothing due yet */
	struct pmdg_net c3;
	struct pmdg_net_conf c;
	conf(&c, PMDG_TRANSPORT_UDP4, "10.80.1.3/24", "1@10.80.1.1,2@10.80.1.2,3@10.80.1.3", "", "");
	pmdg_net_init(&c3, &c, 3, &mac3);
	n = pmdg_net_solicit(&c3, 0, f); /* c3 asks for node 1 */
	assert_int_equal(n, 42);
	struct pmdg_rx r;
	pmdg_net_rx(&p.a, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.kind, PMDG_RX_HANDLED);
	assert_memory_equal(p.a.neigh[p.a.nh[3]].mac.b, mac3.b, 6);
	/* an ARP for an address that is no next hop changes nothing */
	memcpy(g, f, n);
	g[14 + 17] = 77; /* spa 10.80.1.77 */
	g[14 + 27] = 9;  /* tpa 10.80.1.9 */
	struct pmdg_net before = p.a;
	pmdg_net_rx(&p.a, g, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.drop, PMDG_DROP_ARP_OTHER);
	assert_memory_equal(&before.neigh, &p.a.neigh, sizeof(before.neigh));
	/* malformed: group sender MAC, Ethernet source not the sender, bad
	 * opcode, wrong sizes, truncated; and someone claiming our address */
	static const struct {
		size_t off;
		uint8_t val;
		uint8_t want;
	} bad[] = {
		{14 + 8, 0x01, PMDG_DROP_ARP_MALFORMED},  {6, 0x06, PMDG_DROP_ARP_MALFORMED},
		{14 + 7, 3, PMDG_DROP_ARP_MALFORMED},     {14 + 4, 8, PMDG_DROP_ARP_MALFORMED},
		{14 + 5, 16, PMDG_DROP_ARP_MALFORMED},    {14 + 1, 6, PMDG_DROP_ARP_MALFORMED},
		{14 + 17, 1, PMDG_DROP_NEIGH_CONFLICT},   {0, 0x02, PMDG_DROP_DEST},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(g, f, n);
		g[bad[i].off] = bad[i].val;
		before = p.a;
		pmdg_net_rx(&p.a, g, n, 9000, 0, 0, reply, &r);
		assert_int_equal(r.kind, PMDG_RX_DROP);
		if (r.drop != bad[i].want)
			fail_msg("case %zu: drop %s, expected %s", i, pmdg_drop_name(r.drop), pmdg_drop_name(bad[i].want));
		assert_memory_equal(&before.neigh, &p.a.neigh, sizeof(before.neigh));
		assert_int_equal(before.st.answered, p.a.st.answered);
	}
	pmdg_net_rx(&p.a, f, 41, 9000, 0, 0, reply, &r);
	assert_int_equal(r.drop, PMDG_DROP_ARP_MALFORMED);
	/* learning off: answers, learns nothing */
	p.a.c.learn = 0;
	struct pmdg_mac other = {{0x02, 9, 9, 9, 9, 9}};
	struct pmdg_net c3b;
	pmdg_net_init(&c3b, &c, 3, &other);
	n = pmdg_net_solicit(&c3b, 0, f);
	before = p.a;
	pmdg_net_rx(&p.a, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.kind, PMDG_RX_HANDLED);
	assert_int_equal(r.reply_size, 42);
	assert_memory_equal(&before.neigh, &p.a.neigh, sizeof(before.neigh));
}

static void test_static_wins(void **state)
{
	(void)state;
	struct pmdg_net_conf c;
	char why[128];
	conf(&c, PMDG_TRANSPORT_UDP4, "10.80.1.1/24", "1@10.80.1.1,2@10.80.2.1,3@10.80.3.1", "10.80.1.254", "");
	assert_int_equal(pmdg_net_parse_neighbours("10.80.1.254@02:00:00:00:00:fe", &c, why, sizeof(why)), 0);
	check_ok(&c, 1);
	static struct pmdg_net a;
	pmdg_net_init(&a, &c, 1, &mac1);
	assert_int_equal(a.neigh_count, 1); /* one next hop for both peers */
	uint8_t f[1200], reply[PMDG_NET_REPLY_MAX];
	assert_int_equal(pmdg_net_solicit(&a, 0, f), 0); /* a static entry is never solicited */
	uint8_t payload[64] = {1, 2, 3};
	uint32_t n = datagram(&a, 3, payload, sizeof(payload), f);
	assert_int_equal(n, 42 + 64);
	assert_memory_equal(f, mac_gw.b, 6);          /* to the gateway's MAC */
	assert_memory_equal(f + 30, ((uint8_t[]){10, 80, 3, 1}), 4); /* for node 3 */
	/* the gateway "answers" with another MAC: ignored */
	struct pmdg_mac evil = {{0x02, 0xee, 0xee, 0xee, 0xee, 0xee}};
	/* craft the gateway's ARP reply by hand from a's request */
	uint8_t req[42];
	memset(req, 0, sizeof(req));
	memcpy(req, mac1.b, 6);
	memcpy(req + 6, evil.b, 6);
	req[12] = 0x08;
	req[13] = 0x06;
	uint8_t arp[28] = {0, 1, 8, 0, 6, 4, 0, 2};
	memcpy(arp + 8, evil.b, 6);
	memcpy(arp + 14, ((uint8_t[]){10, 80, 1, 254}), 4);
	memcpy(arp + 18, mac1.b, 6);
	memcpy(arp + 24, ((uint8_t[]){10, 80, 1, 1}), 4);
	memcpy(req + 14, arp, 28);
	struct pmdg_rx r;
	pmdg_net_rx(&a, req, 42, 9000, 0, 0, reply, &r);
	assert_int_equal(r.drop, PMDG_DROP_NEIGH_IGNORED);
	assert_memory_equal(a.neigh[0].mac.b, mac_gw.b, 6);
	assert_int_equal(a.neigh[0].state, PMDG_NEIGH_STATIC);
}

static void test_nd_and_udp6(void **state)
{
	(void)state;
	static struct pair p;
	ipv6_pair(&p, "fe80::1/64", "fe80::2/64", "1@fe80::1,2@fe80::2,3@fe80::3", "");
	uint8_t f[1200], reply[PMDG_NET_REPLY_MAX];
	/* the NS for fe80::2 goes to its solicited-node group */
	uint32_t n = pmdg_net_solicit(&p.a, 0, f);
	assert_int_equal(n, 86);
	assert_memory_equal(f, ((uint8_t[]){0x33, 0x33, 0xff, 0, 0, 2}), 6);
	assert_int_equal(rd16(f + 12), 0x86DD);
	assert_int_equal(f[14 + 7], 255);              /* hop limit */
	assert_int_equal(f[14 + 40], 135);
	assert_int_equal(ref_sum(f + 54, 32, 0) != 0, 1);
	struct pmdg_rx r;
	pmdg_net_rx(&p.b, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.kind, PMDG_RX_HANDLED);
	assert_int_equal(r.reply_size, 86);
	assert_memory_equal(reply, mac1.b, 6);
	assert_int_equal(reply[54], 136);
	assert_int_equal(reply[58], 0x60);              /* solicited, override */
	assert_int_equal(reply[54 + 24], 2);            /* target link-layer option */
	assert_memory_equal(reply + 54 + 26, mac2.b, 6);
	/* the NA's checksum, by the reference */
	{
		uint8_t ph[40];
		memcpy(ph, reply + 22, 32);
		memset(ph + 32, 0, 8);
		ph[35] = 32;
		ph[39] = 58;
		assert_int_equal(ref_sum(reply + 54, 32, ref_sum(ph, 40, 0)), 0xFFFF);
	}
	pmdg_net_rx(&p.a, reply, r.reply_size, 9000, 0, 0, f, &r);
	assert_int_equal(r.kind, PMDG_RX_HANDLED);
	assert_int_equal(p.a.neigh[p.a.nh[2]].state, PMDG_NEIGH_LEARNED);
	assert_memory_equal(p.a.neigh[p.a.nh[2]].mac.b, mac2.b, 6);
	/* a datagram over IPv6 */
	uint8_t payload[777];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i ^ 0x5a);
	n = datagram(&p.a, 2, payload, sizeof(payload), f);
	assert_int_equal(n, 62 + sizeof(payload));
	assert_int_equal(f[14] >> 4, 6);
	assert_int_equal(f[14 + 6], 17);
	assert_int_equal(ref_udp_sum(f), 0xFFFF);
	assert_true((f[60] | f[61]) != 0);            /* never zero over IPv6 */
	pmdg_net_rx(&p.b, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.kind, PMDG_RX_PAYLOAD);
	assert_int_equal(r.payload_off, 62);
	assert_memory_equal(f + r.payload_off, payload, sizeof(payload));
	/* a zero UDP checksum is refused over IPv6 */
	f[60] = f[61] = 0;
	pmdg_net_rx(&p.b, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.drop, PMDG_DROP_UDP_CHECKSUM);
	/* DAD for b's address (source ::, no option): defended to all-nodes */
	struct pmdg_net dad = p.a;
	memset(dad.c.self.b, 0, 16);
	dad.neigh[0].ip = p.b.c.self;
	dad.neigh[0].state = PMDG_NEIGH_INCOMPLETE;
	dad.neigh[0].next_probe_ns = 0;
	dad.next_due_ns = 0;
	n = pmdg_net_solicit(&dad, 0, f);
	assert_int_equal(n, 86);
	f[14 + 5] = 24; /* the bare NS: no source link-layer option from :: */
	memset(f + 14 + 40 + 2, 0, 2);
	{
		uint8_t ph[40];
		memcpy(ph, f + 22, 32);
		memset(ph + 32, 0, 8);
		ph[35] = 24;
		ph[39] = 58;
		uint16_t s = ref_sum(f + 54, 24, ref_sum(ph, 40, 0));
		uint16_t cs = (uint16_t)~s;
		f[56] = (uint8_t)(cs >> 8);
		f[57] = (uint8_t)cs;
	}
	pmdg_net_rx(&p.b, f, 78, 9000, 0, 0, reply, &r);
	assert_int_equal(r.kind, PMDG_RX_HANDLED);
	assert_memory_equal(reply, ((uint8_t[]){0x33, 0x33, 0, 0, 0, 1}), 6);
	assert_int_equal(reply[58], 0x20);              /* override, not solicited */
}

static void test_nd_rules(void **state)
{
	(void)state;
	static struct pair p;
	ipv6_pair(&p, "fd6f::1/64", "fd6f::2/64", "1@fd6f::1,2@fd6f::2,3@fd6f::3", "");
	uint8_t f[PMDG_NET_REPLY_MAX], g[PMDG_NET_REPLY_MAX], reply[PMDG_NET_REPLY_MAX], na[PMDG_NET_REPLY_MAX];
	uint32_t n = pmdg_net_solicit(&p.a, 0, f);
	struct pmdg_rx r;
	pmdg_net_rx(&p.b, f, n, 9000, 0, 0, na, &r);
	uint32_t nalen = r.reply_size;
	assert_int_equal(nalen, 86);
	/* corruptions of the NS that must not be answered, and of the NA that
	 * must not be learned */
	static const struct {
		size_t off;
		uint8_t val;
		uint8_t want;
	} bad_ns[] = {
		{14 + 7, 64, PMDG_DROP_ND_MALFORMED},   /* hop limit */
		{14 + 41, 1, PMDG_DROP_ND_MALFORMED},   /* code */
		{14 + 42, 0x12, PMDG_DROP_ND_CHECKSUM},
		{54 + 8, 0xff, PMDG_DROP_ND_MALFORMED},  /* multicast target (checksum fixed below) */
		{54 + 25, 0, PMDG_DROP_ND_MALFORMED},   /* option length 0 */
		{54 + 25, 2, PMDG_DROP_ND_MALFORMED},   /* option past the end */
		{54 + 23, 9, PMDG_DROP_ND_OTHER},       /* someone else's target */
		{14 + 40, 133, PMDG_DROP_ND_OTHER},     /* a router solicitation */
		{14 + 6, 0, PMDG_DROP_IP_PROTO},        /* hop-by-hop options header */
		{14 + 5, 200, PMDG_DROP_IP_HEADER},     /* payload length past the frame */
		{14, 0x40, PMDG_DROP_IP_HEADER},        /* version */
	};
	for (size_t i = 0; i < sizeof(bad_ns) / sizeof(bad_ns[0]); i++) {
		memcpy(g, f, n);
		g[bad_ns[i].off] = bad_ns[i].val;
		if (bad_ns[i].want != PMDG_DROP_ND_CHECKSUM && bad_ns[i].off >= 14 + 40) {
			/* fix the checksum so that the check under test is reached */
			uint32_t plen = rd16(g + 18);
			uint8_t ph[40];
			memcpy(ph, g + 22, 32);
			memset(ph + 32, 0, 8);
			ph[34] = (uint8_t)(plen >> 8);
			ph[35] = (uint8_t)plen;
			ph[39] = 58;
			g[56] = g[57] = 0;
			uint16_t cs = (uint16_t)~ref_sum(g + 54, plen, ref_sum(ph, 40, 0));
			g[56] = (uint8_t)(cs >> 8);
			g[57] = (uint8_t)cs;
		}
		struct pmdg_net before = p.b;
		pmdg_net_rx(&p.b, g, n, 9000, 0, 0, reply, &r);
		if (r.kind != PMDG_RX_DROP || r.drop != bad_ns[i].want)
			fail_msg("NS case %zu: kind %u drop %s, expected %s", i, r.kind, pmdg_drop_name(r.drop),
				 pmdg_drop_name(bad_ns[i].want));
		assert_memory_equal(&before.neigh, &p.b.neigh, sizeof(before.neigh));
		assert_int_equal(before.st.answered, p.b.st.answered);
	}
	/* an NA claiming b's own address, seen by b */
	memcpy(g, na, nalen);
	memcpy(g, mac2.b, 6);
	struct pmdg_net before = p.b;
	pmdg_net_rx(&p.b, g, nalen, 9000, 0, 0, reply, &r);
	assert_int_equal(r.drop, PMDG_DROP_NEIGH_CONFLICT);
	assert_memory_equal(&before.neigh, &p.b.neigh, sizeof(before.neigh));
	/* the NA itself, at a: learned */
	pmdg_net_rx(&p.a, na, nalen, 9000, 0, 0, reply, &r);
	assert_int_equal(r.kind, PMDG_RX_HANDLED);
	/* the same NA without the override flag and with another MAC: kept */
	memcpy(g, na, nalen);
	g[14 + 44] = 0x40;               /* solicited only */
	g[14 + 40 + 26 + 5] = 0x77;      /* another MAC */
	{
		uint8_t ph[40];
		memcpy(ph, g + 22, 32);
		memset(ph + 32, 0, 8);
		ph[35] = 32;
		ph[39] = 58;
		g[56] = g[57] = 0;
		uint16_t cs = (uint16_t)~ref_sum(g + 54, 32, ref_sum(ph, 40, 0));
		g[56] = (uint8_t)(cs >> 8);
		g[57] = (uint8_t)cs;
	}
	pmdg_net_rx(&p.a, g, nalen, 9000, 0, 0, reply, &r);
	assert_int_equal(r.drop, PMDG_DROP_NEIGH_IGNORED);
	assert_memory_equal(p.a.neigh[p.a.nh[2]].mac.b, mac2.b, 6);
}

/* Every single-byte change of a valid datagram is dropped or decodes to the
 * same payload (the bytes no check covers: Ethernet source, IPv6 traffic
 * class and flow label, TTL of IPv6 hop limit). */
static void corrupt_all(struct pmdg_net *a, struct pmdg_net *b)
{
	uint8_t payload[300], f[400], g[400], reply[PMDG_NET_REPLY_MAX];
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 13);
	uint32_t n = datagram(a, 2, payload, sizeof(payload), f);
	assert_true(n > 0);
	for (uint32_t off = 0; off < n; off++)
		for (unsigned bit = 0; bit < 8; bit++) {
			memcpy(g, f, n);
			g[off] ^= (uint8_t)(1u << bit);
			struct pmdg_rx r;
			pmdg_net_rx(b, g, n, 9000, 0, 0, reply, &r);
			if (r.kind == PMDG_RX_PAYLOAD) {
				assert_int_equal(r.payload_size, sizeof(payload));
				if (memcmp(g + r.payload_off, payload, sizeof(payload)) != 0)
					fail_msg("bit %u of byte %u: a corrupted payload accepted", bit, off);
			} else {
				assert_int_equal(r.kind, PMDG_RX_DROP);
			}
		}
}

static void test_corruption(void **state)
{
	(void)state;
	static struct pair p;
	ipv4_pair(&p, "");
	exchange(&p.a, &p.b, 0);
	corrupt_all(&p.a, &p.b);
	ipv6_pair(&p, "fd6f::1/64", "fd6f::2/64", "1@fd6f::1,2@fd6f::2,3@fd6f::3", "");
	exchange(&p.a, &p.b, 0);
	corrupt_all(&p.a, &p.b);
}

static void test_multicast_and_routes(void **state)
{
	(void)state;
	static struct pair p;
	ipv4_pair(&p, "239.192.79.1");
	uint8_t payload[100] = {9}, f[300], reply[PMDG_NET_REPLY_MAX];
	uint32_t n = datagram(&p.a, 0, payload, sizeof(payload), f); /* no neighbour needed */
	assert_int_equal(n, 142);
	assert_memory_equal(f, ((uint8_t[]){0x01, 0x00, 0x5e, 0x40, 0x4f, 0x01}), 6);
	struct pmdg_rx r;
	pmdg_net_rx(&p.b, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.kind, PMDG_RX_PAYLOAD);
	/* without a group, dest 0 has no header: the caller fans out */
	ipv4_pair(&p, "");
	assert_int_equal(datagram(&p.a, 0, payload, sizeof(payload), f), 0);
	assert_int_equal(p.a.dest_count, 2);
	/* routed IPv6 with a link-local gateway: one next hop, the router */
	struct pmdg_net_conf c;
	conf(&c, PMDG_TRANSPORT_UDP6, "fd6f:0:0:1::1/64", "1@fd6f:0:0:1::1,2@fd6f:0:0:2::1,3@fd6f:0:0:3::1",
	     "fe80::fe", "");
	check_ok(&c, 1);
	static struct pmdg_net a;
	pmdg_net_init(&a, &c, 1, &mac1);
	assert_int_equal(a.neigh_count, 1);
	assert_int_equal(a.nh[2], a.nh[3]);
	n = pmdg_net_solicit(&a, 0, f);
	assert_int_equal(n, 86);
	assert_memory_equal(f, ((uint8_t[]){0x33, 0x33, 0xff, 0, 0, 0xfe}), 6);
	/* the solicitation schedule: 100 ms, then doubling to a second */
	assert_int_equal(pmdg_net_solicit(&a, 99 * MS, f), 0);
	assert_int_equal(pmdg_net_solicit(&a, 100 * MS, f), 86);
	assert_int_equal(pmdg_net_solicit(&a, 299 * MS, f), 0);
	assert_int_equal(pmdg_net_solicit(&a, 300 * MS, f), 86);
	assert_int_equal(pmdg_net_solicit(&a, 700 * MS, f), 86);
	assert_int_equal(pmdg_net_solicit(&a, 1500 * MS, f), 86);
	assert_int_equal(pmdg_net_solicit(&a, 2499 * MS, f), 0);
	assert_int_equal(pmdg_net_solicit(&a, 2500 * MS, f), 86);
	assert_int_equal(a.st.solicited, 6);
}

/* ---------------------------------------------------------------- address conflict detection */

static const struct pmdg_mac mac9 = {{0x02, 0, 0, 0, 0, 0x09}};

/* Every frame d solicits at now, through a (a peer) and b (the node that
 * holds d's address): their answers back to d. Returns the frames sent. */
static uint32_t dad_round(struct pmdg_net *d, struct pmdg_net *a, struct pmdg_net *b, uint64_t now)
{
	uint8_t f[PMDG_NET_REPLY_MAX], reply[PMDG_NET_REPLY_MAX], g[PMDG_NET_REPLY_MAX];
	uint32_t n, sent = 0;
	while ((n = pmdg_net_solicit(d, now, f)) > 0) {
		sent++;
		struct pmdg_net *to[2] = {a, b};
		for (int k = 0; k < 2; k++) {
			struct pmdg_rx r;
			pmdg_net_rx(to[k], f, n, 9000, 0, now, reply, &r);
			if (r.kind == PMDG_RX_HANDLED && r.reply_size > 0)
				pmdg_net_rx(d, reply, r.reply_size, 9000, 0, now, g, &r);
		}
	}
	return sent;
}

/* d: a process starting as node id of the ring whose addresses are all,
 * at self with MAC mac, probing three times 10 ms apart. */
static void dad_start(struct pmdg_net *d, uint8_t transport, const char *self, const char *all, uint16_t id,
		      const struct pmdg_mac *mac)
{
	struct pmdg_net_conf c;
	conf(&c, transport, self, all, "", "");
	pmdg_net_init(d, &c, id, mac);
	pmdg_net_dad_start(d, 3, 10 * 1000000ull, 0);
}

/* The address conflict tests' start: nodes 1 and 2 (p, IPv4) once node 1
 * has resolved node 2, and d as dad_start makes it. */
static void dad_setup(struct pair *p, struct pmdg_net *d, uint16_t id, const char *self,
		      const struct pmdg_mac *mac)
{
	ipv4_pair(p, "");
	exchange(&p->a, &p->b, 0);
	dad_start(d, PMDG_TRANSPORT_UDP4, self, "1@10.80.1.1,2@10.80.1.2,3@10.80.1.3", id, mac);
}

static void test_dad_ipv4(void **state)
{
	(void)state;
	static struct pair p;
	static struct pmdg_net d;
	/* a second process configured as node 2, elsewhere (mac9) */
	dad_setup(&p, &d, 2, "10.80.1.2/24", &mac9);
	exchange(&p.b, &p.a, 0);
	uint64_t learned = p.a.st.learned;
	uint8_t f[1200], reply[PMDG_NET_REPLY_MAX];
	/* its first frame: an ARP probe for its address, from 0.0.0.0 */
	uint32_t n = pmdg_net_solicit(&d, 0, f);
	assert_int_equal(n, 42);
	assert_memory_equal(f, ((uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff}), 6);
	assert_int_equal(rd16(f + 20), 1);
	assert_memory_equal(f + 22, mac9.b, 6);
	assert_memory_equal(f + 28, ((uint8_t[]){0, 0, 0, 0}), 4);
	assert_memory_equal(f + 38, ((uint8_t[]){10, 80, 1, 2}), 4);
	/* node 1 learns nothing from it; node 2 defends its address */
	struct pmdg_rx r;
	pmdg_net_rx(&p.a, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.drop, PMDG_DROP_ARP_OTHER);
	pmdg_net_rx(&p.b, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.kind, PMDG_RX_HANDLED);
	assert_int_equal(r.reply_size, 42);
	assert_memory_equal(reply, mac9.b, 6);
	assert_memory_equal(reply + 28, ((uint8_t[]){10, 80, 1, 2}), 4);
	assert_int_equal(p.b.st.defended, 1);
	assert_memory_equal(p.b.prober.b, mac9.b, 6);
	/* the rest (anonymous requests for nodes 1 and 3), and the answers */
	assert_int_equal(dad_round(&d, &p.a, &p.b, 0), 2);
	assert_int_equal(d.dad, PMDG_DAD_PROBING); /* the defence is not in yet */
	pmdg_net_rx(&d, reply, 42, 9000, 0, 0, f, &r);
	assert_int_equal(r.drop, PMDG_DROP_NEIGH_CONFLICT);
	assert_int_equal(d.dad, PMDG_DAD_CONFLICT);
	assert_memory_equal(d.holder.b, mac2.b, 6);
	/* node 1 still sends node 2's frames to node 2, and learned nothing */
	assert_memory_equal(p.a.neigh[p.a.nh[2]].mac.b, mac2.b, 6);
	assert_int_equal(p.a.st.learned, learned);
	/* no more probes after a conflict */
	assert_int_equal(dad_round(&d, &p.a, &p.b, 30 * 1000000ull), 0);
	/* d reaches node 1 (learned from its answer) and the holder */
	uint8_t payload[64] = {1, 2, 3};
	n = datagram(&d, 1, payload, sizeof(payload), f);
	assert_int_not_equal(n, 0);
	assert_memory_equal(f, mac1.b, 6);
	n = datagram(&d, 2, payload, sizeof(payload), f);
	assert_int_not_equal(n, 0);
	assert_memory_equal(f, mac2.b, 6);
	pmdg_net_rx(&p.b, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.kind, PMDG_RX_PAYLOAD); /* for ring-proto to refuse and report */
	/* the same frame from node 2's own MAC (looped back) is not taken */
	memcpy(f + 6, mac2.b, 6);
	pmdg_net_rx(&p.b, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.drop, PMDG_DROP_IP_SOURCE);
}

static void test_dad_ipv4_free(void **state)
{
	(void)state;
	static struct pair p;
	static struct pmdg_net e;
	/* nobody holds it: 3 probes 10 ms apart, requests unanswered meanwhile */
	dad_setup(&p, &e, 3, "10.80.1.3/24", &mac3);
	uint8_t f[1200], reply[PMDG_NET_REPLY_MAX];
	struct pmdg_rx r;
	uint32_t n;
	assert_int_equal(dad_round(&e, &p.a, &p.b, 0), 3);      /* a probe, 2 anonymous requests */
	assert_int_equal(dad_round(&e, &p.a, &p.b, 5 * 1000000ull), 0);
	assert_int_equal(dad_round(&e, &p.a, &p.b, 10 * 1000000ull), 1);
	assert_int_equal(dad_round(&e, &p.a, &p.b, 20 * 1000000ull), 1);
	assert_int_equal(dad_round(&e, &p.a, &p.b, 40 * 1000000ull), 0);
	assert_int_equal(e.dad, PMDG_DAD_PROBING);
	assert_int_equal(p.a.nh[3] != 0xFF && p.a.neigh[p.a.nh[3]].state == PMDG_NEIGH_LEARNED, 0);
	n = pmdg_net_solicit(&p.a, 2000 * 1000000ull, f); /* node 1 asks for node 3 */
	assert_int_not_equal(n, 0);
	pmdg_net_rx(&e, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.drop, PMDG_DROP_ARP_OTHER);          /* tentative */
	pmdg_net_dad_done(&e);
	assert_int_equal(e.dad, PMDG_DAD_OFF);
	pmdg_net_rx(&e, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.reply_size, 42);
	/* a probe for an address being probed, from another MAC (a peer starting
	 * too solicits it so): no conflict, no answer */
	dad_start(&e, PMDG_TRANSPORT_UDP4, "10.80.1.3/24", "1@10.80.1.1,2@10.80.1.2,3@10.80.1.3", 3, &mac3);
	n = pmdg_net_solicit(&e, 0, f);
	pmdg_net_rx(&e, f, n, 9000, 0, 0, reply, &r);           /* its own, looped back */
	assert_int_equal(e.dad, PMDG_DAD_PROBING);
	memcpy(f + 6, mac9.b, 6);
	memcpy(f + 22, mac9.b, 6);
	pmdg_net_rx(&e, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.drop, PMDG_DROP_ARP_OTHER);
	assert_int_equal(e.dad, PMDG_DAD_PROBING);
	/* a gratuitous ARP for it (sender = its address) from another MAC is */
	memcpy(f + 28, ((uint8_t[]){10, 80, 1, 3}), 4);
	pmdg_net_rx(&e, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.drop, PMDG_DROP_NEIGH_CONFLICT);
	assert_int_equal(e.dad, PMDG_DAD_CONFLICT);
	assert_memory_equal(e.holder.b, mac9.b, 6);
}

static void test_dad_ipv6(void **state)
{
	(void)state;
	static struct pair p;
	static struct pmdg_net d;
	const char *all = "1@fe80::1,2@fe80::2,3@fe80::3";
	ipv6_pair(&p, "fe80::1/64", "fe80::2/64", all, "");
	exchange(&p.a, &p.b, 0);
	exchange(&p.b, &p.a, 0);
	uint64_t learned = p.a.st.learned;
	dad_start(&d, PMDG_TRANSPORT_UDP6, "fe80::2/64", all, 2, &mac9);
	uint8_t f[1200], reply[PMDG_NET_REPLY_MAX], g[PMDG_NET_REPLY_MAX];
	/* an NS from :: to fe80::2's solicited-node group, no option */
	uint32_t n = pmdg_net_solicit(&d, 0, f);
	assert_int_equal(n, 14 + 40 + 24);
	assert_memory_equal(f, ((uint8_t[]){0x33, 0x33, 0xff, 0, 0, 2}), 6);
	assert_memory_equal(f + 22, ((uint8_t[16]){0}), 16);
	assert_int_equal(f[54], 135);
	struct pmdg_rx r;
	pmdg_net_rx(&p.a, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.kind, PMDG_RX_DROP);                 /* not its group */
	pmdg_net_rx(&p.b, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.kind, PMDG_RX_HANDLED);
	assert_memory_equal(reply, ((uint8_t[]){0x33, 0x33, 0, 0, 0, 1}), 6); /* to all nodes */
	assert_int_equal(reply[54], 136);
	assert_int_equal(reply[58], 0x20);                      /* override, not solicited */
	assert_int_equal(p.b.st.defended, 1);
	/* node 1 hears the defence too: nothing changes there */
	pmdg_net_rx(&p.a, reply, r.reply_size, 9000, 0, 0, g, &r);
	assert_memory_equal(p.a.neigh[p.a.nh[2]].mac.b, mac2.b, 6);
	pmdg_net_rx(&d, reply, 86, 9000, 0, 0, g, &r);
	assert_int_equal(r.drop, PMDG_DROP_NEIGH_CONFLICT);
	assert_int_equal(d.dad, PMDG_DAD_CONFLICT);
	assert_memory_equal(d.holder.b, mac2.b, 6);
	/* anonymous NS for node 1 and 3: node 1 answers to all nodes, d learns */
	assert_int_equal(dad_round(&d, &p.a, &p.b, 0), 2);
	assert_int_equal(p.a.st.learned, learned);
	assert_memory_equal(p.a.neigh[p.a.nh[2]].mac.b, mac2.b, 6);
	n = datagram(&d, 1, f + 600, 64, f);
	assert_int_not_equal(n, 0);
	assert_memory_equal(f, mac1.b, 6);
	/* a DAD NS for an address being probed, from another MAC: no conflict
	 * (a peer starting too solicits it so), no answer */
	dad_start(&d, PMDG_TRANSPORT_UDP6, "fe80::2/64", all, 2, &mac9);
	n = pmdg_net_solicit(&d, 0, f);
	pmdg_net_rx(&d, f, n, 9000, 0, 0, reply, &r);           /* its own */
	assert_int_equal(d.dad, PMDG_DAD_PROBING);
	memcpy(f + 6, mac3.b, 6);
	pmdg_net_rx(&d, f, n, 9000, 0, 0, reply, &r);
	assert_int_equal(r.drop, PMDG_DROP_ND_OTHER);
	assert_int_equal(d.dad, PMDG_DAD_PROBING);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_parse),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_csum),
		cmocka_unit_test(test_arp_and_udp4),
		cmocka_unit_test(test_arp_rules),
		cmocka_unit_test(test_static_wins),
		cmocka_unit_test(test_nd_and_udp6),
		cmocka_unit_test(test_nd_rules),
		cmocka_unit_test(test_corruption),
		cmocka_unit_test(test_multicast_and_routes),
		cmocka_unit_test(test_dad_ipv4),
		cmocka_unit_test(test_dad_ipv4_free),
		cmocka_unit_test(test_dad_ipv6),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
