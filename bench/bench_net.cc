// bench_net.cc — the routed transports' cost per frame (pmd-glue/pmdg_net.c),
// without DPDK: what udp4 / udp6 add to every frame beyond the L2
// transport's Ethernet header. A sender sums the payload once per frame and
// builds one header per destination (pmdg_net_encap); a receiver decodes
// Ethernet, IP and UDP and verifies the checksums (pmdg_net_rx). Software
// checksums: the cost a port without checksum offload pays (af_packet).
//
//   BM_net_payload_sum/<bytes>       the payload's checksum, once per frame
//   BM_net_encap/<v>                 one header (v: 4 or 6), per destination
//   BM_net_rx/<v>/<bytes>            decode + verify one received datagram
//
// Run: meson test -C build --benchmark --suite ordo net  (or build/bench/bench-net)
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <vector>

extern "C" {
#include "pmdg_net.h"
}

namespace {

struct Pair {
	pmdg_net a{}, b{};
};

void conf(pmdg_net_conf *c, bool v6, const char *self)
{
	char why[128];
	std::memset(c, 0, sizeof(*c));
	c->transport = v6 ? PMDG_TRANSPORT_UDP6 : PMDG_TRANSPORT_UDP4;
	c->udp_port = PMDG_UDP_PORT_DEFAULT;
	c->learn = 1;
	pmdg_ip_parse(self, &c->self, &c->prefix, why, sizeof(why));
	pmdg_net_parse_addresses(v6 ? "1@fd6f::1,2@fd6f::2,3@fd6f::3" : "1@10.80.1.1,2@10.80.1.2,3@10.80.1.3", c,
				 why, sizeof(why));
	pmdg_net_parse_neighbours(v6 ? "fd6f::2@02:00:00:00:00:02,fd6f::3@02:00:00:00:00:03"
				     : "10.80.1.2@02:00:00:00:00:02,10.80.1.3@02:00:00:00:00:03",
				  c, why, sizeof(why));
}

// Node 1 and node 2 on one segment, every next hop static (resolved).
void make_pair(Pair *p, bool v6)
{
	static const pmdg_mac m1 = {{2, 0, 0, 0, 0, 1}}, m2 = {{2, 0, 0, 0, 0, 2}};
	pmdg_net_conf c;
	conf(&c, v6, v6 ? "fd6f::1/64" : "10.80.1.1/24");
	pmdg_net_init(&p->a, &c, 1, &m1);
	conf(&c, v6, v6 ? "fd6f::2/64" : "10.80.1.2/24");
	char why[128];
	pmdg_net_parse_neighbours(v6 ? "fd6f::1@02:00:00:00:00:01,fd6f::3@02:00:00:00:00:03"
				     : "10.80.1.1@02:00:00:00:00:01,10.80.1.3@02:00:00:00:00:03",
				  &c, why, sizeof(why));
	pmdg_net_init(&p->b, &c, 2, &m2);
}

void BM_net_payload_sum(benchmark::State &st)
{
	std::vector<uint8_t> payload(static_cast<size_t>(st.range(0)), 0x5a);
	for (auto _ : st)
		benchmark::DoNotOptimize(pmdg_csum_partial(payload.data(), payload.size(), 0));
	st.SetBytesProcessed(static_cast<int64_t>(st.iterations()) * st.range(0));
}
BENCHMARK(BM_net_payload_sum)->Arg(64)->Arg(1024)->Arg(1452)->Arg(8952);

void BM_net_encap(benchmark::State &st)
{
	static Pair p;
	make_pair(&p, st.range(0) == 6);
	uint8_t hdr[PMDG_NET_HDR_MAX];
	uint16_t dest = 2;
	for (auto _ : st) {
		benchmark::DoNotOptimize(pmdg_net_encap(&p.a, dest, 1000, 0x1234, 0, 0, hdr));
		dest = dest == 2 ? 3 : 2;
	}
}
BENCHMARK(BM_net_encap)->Arg(4)->Arg(6);

void BM_net_rx(benchmark::State &st)
{
	static Pair p;
	bool v6 = st.range(0) == 6;
	make_pair(&p, v6);
	uint32_t size = static_cast<uint32_t>(st.range(1));
	std::vector<uint8_t> frame(PMDG_NET_HDR_MAX + size, 0);
	for (uint32_t i = 0; i < size; i++)
		frame[PMDG_NET_HDR_MAX + i] = static_cast<uint8_t>(i);
	uint8_t hdr[PMDG_NET_HDR_MAX];
	uint32_t hl = pmdg_net_encap(&p.a, 2, size, pmdg_csum_partial(frame.data() + PMDG_NET_HDR_MAX, size, 0), 0,
				     0, hdr);
	std::memmove(frame.data() + hl, frame.data() + PMDG_NET_HDR_MAX, size);
	std::memcpy(frame.data(), hdr, hl);
	uint8_t reply[PMDG_NET_REPLY_MAX];
	pmdg_rx r{};
	for (auto _ : st) {
		pmdg_net_rx(&p.b, frame.data(), hl + size, 9000, 0, 0, reply, &r);
		benchmark::DoNotOptimize(r);
	}
	if (r.kind != PMDG_RX_PAYLOAD)
		st.SkipWithError("the datagram was not accepted");
	st.SetBytesProcessed(static_cast<int64_t>(st.iterations()) * size);
}
BENCHMARK(BM_net_rx)->Args({4, 64})->Args({4, 1024})->Args({4, 8952})->Args({6, 64})->Args({6, 1024})->Args({6, 8932});

} // namespace

BENCHMARK_MAIN();
