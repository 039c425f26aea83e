/* fuzz_net.c — libFuzzer target for pmd-glue's routed receive path
 * (pmd-glue/pmdg_net.c): the Ethernet / IPv4 / IPv6 / UDP decoder and the
 * ARP and Neighbour Discovery handling, libc only (no DPDK).
 *
 * Input: byte 0 picks the path (IPv4 or IPv6; learning on or off; a
 * gateway and static entry or not; a multicast group or not; probing for
 * its address at start, RFC 5227 / 4862, or not); the rest is a
 * series of frames, each a 2-byte length and its bytes, fed to
 * pmdg_net_rx() with the clock advancing, solicitations drawn between them.
 *
 * Properties, checked after every frame (abort() on a violation):
 *   - an accepted payload lies inside the frame and within the path's
 *     largest frame; a reply fits PMDG_NET_REPLY_MAX and is itself a valid
 *     ARP reply or Neighbour Advertisement (checksum included) from us;
 *   - the neighbour table keeps its entries and their addresses (a frame
 *     never adds or moves one), a static entry never changes, with learning
 *     off no entry changes at all, and no entry ever holds a group or zero
 *     MAC;
 *   - an ARP frame from 0.0.0.0 or an NS from :: (a probe) changes no
 *     entry; while the address is tentative nothing is answered and every
 *     solicitation is anonymous (sender 0.0.0.0, source ::);
 *   - headers built afterwards for every node are well formed.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined with pmdg_net.c compiled
 * in (tests/fuzz/meson.build).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pmdg_net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PAYLOAD_MAX 1472u
#define MS 1000000ull

static struct pmdg_net net;
static struct pmdg_neigh before[PMDG_NEIGH_MAX];
static uint8_t frame[9100];

static void check(int cond)
{
	if (!cond)
		abort();
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void setup(uint8_t how)
{
	static const struct pmdg_mac mac = {{0x02, 0x4f, 0x52, 0, 0, 1}};
	struct pmdg_net_conf c;
	char why[128];
	const char *key;
	memset(&c, 0, sizeof(c));
	int v6 = how & 1, gw = (how >> 1) & 1, group = (how >> 2) & 1;
	c.transport = v6 ? PMDG_TRANSPORT_UDP6 : PMDG_TRANSPORT_UDP4;
	c.udp_port = PMDG_UDP_PORT_DEFAULT;
	c.learn = !((how >> 3) & 1);
	/* per family: node 1's address, the three nodes' ([gw]: node 3 in
	 * another subnet, through the gateway), the gateway with its static
	 * MAC, the multicast group, and every next hop static ([gw]) */
	static const struct {
		const char *self, *addresses[2], *gateway, *gateway_mac, *group, *statics[2];
	} fam[2] = {
		{"10.80.1.1/24",
		 {"1@10.80.1.1,2@10.80.1.2,3@10.80.1.3", "1@10.80.1.1,2@10.80.1.2,3@10.80.3.1"},
		 "10.80.1.254", "10.80.1.254@02:00:00:00:00:fe", "239.192.79.1",
		 {"10.80.1.2@02:00:00:00:00:02,10.80.1.3@02:00:00:00:00:03",
		  "10.80.1.2@02:00:00:00:00:02,10.80.1.254@02:00:00:00:00:fe"}},
		{"fd6f::1/64",
		 {"1@fd6f::1,2@fd6f::2,3@fe80::3", "1@fd6f::1,2@fd6f::2,3@fd6f:0:0:3::1"},
		 "fe80::fe", "fe80::fe@02:00:00:00:00:fe", "ff15::4f52",
		 {"fd6f::2@02:00:00:00:00:02,fe80::3@02:00:00:00:00:03",
		  "fd6f::2@02:00:00:00:00:02,fe80::fe@02:00:00:00:00:fe"}},
	};
	int rc = pmdg_ip_parse(fam[v6].self, &c.self, &c.prefix, why, sizeof(why));
	rc |= pmdg_net_parse_addresses(fam[v6].addresses[gw], &c, why, sizeof(why));
	if (gw) {
		rc |= pmdg_ip_parse(fam[v6].gateway, &c.gateway, NULL, why, sizeof(why));
		rc |= pmdg_net_parse_neighbours(fam[v6].gateway_mac, &c, why, sizeof(why));
	}
	if (group)
		rc |= pmdg_ip_parse(fam[v6].group, &c.group, NULL, why, sizeof(why));
	if (!c.learn) /* every next hop static */
		rc |= pmdg_net_parse_neighbours(fam[v6].statics[gw], &c, why, sizeof(why));
	static const uint16_t members[3] = {1, 2, 3};
	check(rc == 0);
	check(pmdg_net_check(&c, 1, members, 3, &key, why, sizeof(why)) == 0);
	pmdg_net_init(&net, &c, 1, &mac);
	if ((how >> 4) & 1)
		pmdg_net_dad_start(&net, 3, 50 * MS, 0);
}

/* Whether f (n bytes) is an ARP frame from 0.0.0.0 or IPv6 from ::. */
static int anonymous(const uint8_t *f, size_t n)
{
	static const uint8_t zero[16];
	if (n >= 42 && rd16(f + 12) == 0x0806)
		return memcmp(f + 28, zero, 4) == 0;
	return n >= 54 && rd16(f + 12) == 0x86DD && memcmp(f + 22, zero, 16) == 0;
}

/* A reply pmd-glue would send: an ARP reply or an NA for our address. */
static void check_reply(const uint8_t *r, uint32_t n)
{
	check(n <= PMDG_NET_REPLY_MAX && n >= 42);
	check(memcmp(r + 6, net.mac.b, 6) == 0);
	check(!(r[0] == 0 && r[1] == 0 && r[2] == 0 && r[3] == 0 && r[4] == 0 && r[5] == 0));
	if (rd16(r + 12) == 0x0806) {
		check(n == 42 && rd16(r + 20) == 2);
		check(memcmp(r + 28, net.c.self.b, 4) == 0);
		check(!(r[32] & 1)); /* never to a group MAC */
		return;
	}
	check(rd16(r + 12) == 0x86DD && n == 86);
	check(r[14 + 6] == 58 && r[14 + 7] == 255 && r[54] == 136);
	check(memcmp(r + 62, net.c.self.b, 16) == 0);
	uint8_t ph[40];
	memcpy(ph, r + 22, 32);
	memset(ph + 32, 0, 8);
	ph[35] = 32;
	ph[39] = 58;
	check(pmdg_csum_partial(r + 54, 32, pmdg_csum_partial(ph, 40, 0)) == 0xFFFF);
}

static void check_table(void)
{
	for (uint8_t k = 0; k < net.neigh_count; k++) {
		const struct pmdg_neigh *e = &net.neigh[k], *b = &before[k];
		check(pmdg_ip_equal(&e->ip, &b->ip));
		if (b->state == PMDG_NEIGH_STATIC || !net.c.learn)
			check(e->state == b->state && memcmp(e->mac.b, b->mac.b, 6) == 0);
		if (e->state != PMDG_NEIGH_INCOMPLETE)
			check(!(e->mac.b[0] & 1) && (e->mac.b[0] | e->mac.b[1] | e->mac.b[2] | e->mac.b[3] |
						     e->mac.b[4] | e->mac.b[5]) != 0);
	}
}

static void check_encap(uint16_t dest)
{
	uint8_t hdr[PMDG_NET_HDR_MAX];
	uint32_t hl = pmdg_net_encap(&net, dest, 100, 0, 0, 0, hdr);
	if (hl == 0)
		return;
	check(hl == (net.c.self.family == 4 ? 42u : 62u));
	check(!(hdr[6] & 1));
	if (net.c.self.family == 4)
		check(pmdg_csum_partial(hdr + 14, 20, 0) == 0xFFFF && rd16(hdr + 16) == 128);
	else
		check(rd16(hdr + 18) == 108);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	setup(data[0]);
	uint8_t count = net.neigh_count;
	uint64_t now = 0;
	size_t off = 1;
	while (off + 2 <= size) {
		size_t n = rd16(data + off);
		off += 2;
		if (n > size - off)
			n = size - off;
		if (n > sizeof(frame))
			n = sizeof(frame);
		memcpy(frame, data + off, n); /* exactly n bytes: ASan sees any read past */
		off += n;
		memcpy(before, net.neigh, sizeof(before));
		uint8_t *f = malloc(n ? n : 1);
		memcpy(f, frame, n);
		uint8_t reply[PMDG_NET_REPLY_MAX];
		struct pmdg_rx r;
		uint8_t tentative = net.dad != PMDG_DAD_OFF;
		pmdg_net_rx(&net, f, n, PAYLOAD_MAX, 0, now, reply, &r);
		check(!tentative || r.reply_size == 0);
		if (anonymous(frame, n))
			check(memcmp(before, net.neigh, sizeof(before)) == 0);
		check(r.kind <= PMDG_RX_DROP);
		if (r.kind == PMDG_RX_PAYLOAD) {
			check(r.payload_off + (uint64_t)r.payload_size <= n);
			check(r.payload_size <= PAYLOAD_MAX);
		} else if (r.kind == PMDG_RX_DROP) {
			check(r.drop < PMDG_DROP_COUNT && r.reply_size == 0);
		} else if (r.reply_size) {
			check_reply(reply, r.reply_size);
		}
		free(f);
		check(net.neigh_count == count);
		check_table();
		now += 37 * MS;
		uint8_t sol[PMDG_NET_REPLY_MAX];
		uint32_t k, guard = 0;
		while ((k = pmdg_net_solicit(&net, now, sol)) > 0) {
			check(k <= PMDG_NET_REPLY_MAX);
			check(net.dad == PMDG_DAD_OFF || anonymous(sol, k));
			check(++guard <= PMDG_NEIGH_MAX);
		}
	}
	for (uint16_t d = 0; d <= 3; d++)
		check_encap(d);
	return 0;
}
