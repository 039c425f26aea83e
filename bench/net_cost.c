/* net_cost.c — instructions per frame of the routed transports' layer
 * (pmd-glue/pmdg_net.c), for callgrind (bench/net-cost.sh): what udp4 /
 * udp6 add to a frame beyond the L2 transport, which neither drifts with
 * the machine's load nor depends on the NIC.
 *
 *   net-cost OP V SIZE N
 *     OP send1   the sender's part per frame to one destination (a token,
 *                or a frame to the ring's multicast group): the payload's
 *                checksum and one header
 *     OP send2   a frame to every other node of a 3-node ring by unicast:
 *                the payload's checksum once, two headers
 *     OP recv    the receiver's part: decode Ethernet, IP and UDP, verify
 *                the IP (v4) and UDP checksums
 *   V 4 or 6, SIZE the ordo frame's bytes, N the frames (instrumented only
 *   between the callgrind client requests).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/callgrind.h>

#include "pmdg_net.h"

static void setup(struct pmdg_net *n, int v6, uint16_t self)
{
	static const char *const addr4[] = {"", "10.80.1.1/24", "10.80.1.2/24"};
	static const char *const addr6[] = {"", "fd6f::1/64", "fd6f::2/64"};
	struct pmdg_net_conf c;
	char why[128];
	memset(&c, 0, sizeof(c));
	c.transport = v6 ? PMDG_TRANSPORT_UDP6 : PMDG_TRANSPORT_UDP4;
	c.udp_port = PMDG_UDP_PORT_DEFAULT;
	c.learn = 1;
	if (pmdg_ip_parse(v6 ? addr6[self] : addr4[self], &c.self, &c.prefix, why, sizeof(why)) != 0 ||
	    pmdg_net_parse_addresses(v6 ? "1@fd6f::1,2@fd6f::2,3@fd6f::3" : "1@10.80.1.1,2@10.80.1.2,3@10.80.1.3", &c,
				     why, sizeof(why)) != 0 ||
	    pmdg_net_parse_neighbours(v6 ? "fd6f::1@02:00:00:00:00:01,fd6f::2@02:00:00:00:00:02,fd6f::3@02:00:00:00:00:03"
					 : "10.80.1.1@02:00:00:00:00:01,10.80.1.2@02:00:00:00:00:02,10.80.1.3@02:00:00:00:00:03",
				      &c, why, sizeof(why)) != 0) {
		fprintf(stderr, "net-cost: %s\n", why);
		exit(2);
	}
	/* a node's own address is not its neighbour: drop that static entry */
	for (uint16_t k = 0; k < c.static_count; k++)
		if (pmdg_ip_equal(&c.statics[k].ip, &c.self))
			c.statics[k] = c.statics[--c.static_count];
	const struct pmdg_mac mac = {{2, 0, 0, 0, 0, (uint8_t)self}};
	pmdg_net_init(n, &c, self, &mac);
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: net-cost send1|send2|recv 4|6 SIZE N\n");
		return 2;
	}
	const char *op = argv[1];
	int v6 = atoi(argv[2]) == 6;
	uint32_t size = (uint32_t)atoi(argv[3]);
	long n = atol(argv[4]);
	static struct pmdg_net a, b;
	setup(&a, v6, 1);
	setup(&b, v6, 2);
	uint8_t *frame = calloc(1, PMDG_NET_HDR_MAX + size);
	uint8_t hdr[PMDG_NET_HDR_MAX], reply[PMDG_NET_REPLY_MAX];
	for (uint32_t i = 0; i < size; i++)
		frame[PMDG_NET_HDR_MAX + i] = (uint8_t)(i * 31 + 7);
	uint8_t *payload = frame + PMDG_NET_HDR_MAX;
	uint32_t hl = pmdg_net_encap(&a, 2, size, pmdg_csum_partial(payload, size, 0), 0, 0, hdr);
	uint8_t *rx = frame + PMDG_NET_HDR_MAX - hl;
	memcpy(rx, hdr, hl);
	uint64_t sink = 0;
	struct pmdg_rx r;
	CALLGRIND_START_INSTRUMENTATION;
	for (long k = 0; k < n; k++) {
		if (strcmp(op, "recv") == 0) {
			pmdg_net_rx(&b, rx, hl + size, 9000, 0, 0, reply, &r);
			sink += r.payload_size;
		} else {
			uint32_t sum = pmdg_csum_partial(payload, size, 0);
			sink += pmdg_net_encap(&a, 2, size, sum, 0, 0, hdr);
			if (op[4] == '2')
				sink += pmdg_net_encap(&a, 3, size, sum, 0, 0, hdr);
		}
	}
	CALLGRIND_STOP_INSTRUMENTATION;
	free(frame);
	printf("%llu\n", (unsigned long long)sink);
	return sink == 0;
}
