// bench_proto.cc — Google Benchmark micro-benchmarks of ring-proto: the wire
// codec, one token step, and the cost per ordered message in a 3-node
// in-memory ring (bench/ring_mem.h).
//
// Owns: BM_wire_* (encode and validating decode of single frames) and
// BM_srp_* (rp_step driven through ring_mem or replayed directly).
// Never: measures setup (rings are built and warmed before the timed loop)
// or prints anything but Google Benchmark's report; a benchmark whose ring
// misbehaves (stall, dropped replay) reports an error instead of a number.
//
// Time is CPU time (Google Benchmark's default), which on a shared machine is
// steadier than wall time; the loops are single-threaded.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstring>
#include <vector>

extern "C" {
#include "rp.h"
#include "rp_wire.h"
#include "ring_mem.h"
}

namespace {

constexpr uint32_t frame_size_max = 8960;

// A 3-node ring that has carried traffic and gone idle: every node has
// delivered everything and the token circulates with nothing to send.
ring_mem *idle_ring3()
{
	ring_mem *rm = ring_mem_create(3);
	if (!rm)
		return nullptr;
	if (ring_mem_run(rm, 2000, 64) != 9u * 2000u) {
		ring_mem_destroy(rm);
		return nullptr;
	}
	for (int i = 0; i < 30; i++) // ten idle rotations: aru and safe point settle
		ring_mem_pump(rm);
	return rm;
}

// The token in flight on an idle ring (decoded: header *h, body *t; where
// it goes: *to, *path), or nullptr unless the ring carries that frame alone.
const uint8_t *ring_token(ring_mem *rm, uint32_t *size, uint32_t *to, uint8_t *path, rp_wire_hdr *h,
			  rp_wire_token *t)
{
	const uint8_t *head = ring_mem_peek(rm, size, to, path);
	if (!head || ring_mem_in_flight(rm) != 1 || rp_wire_decode_hdr(head, *size, h) != RP_DROP_NONE ||
	    h->type != RP_FRAME_TOKEN || rp_wire_decode_token(head, h, t) != RP_DROP_NONE)
		return nullptr;
	return head;
}

// A token as a busy ring would carry it: the one an idle 3-node ring
// carries after traffic (header *h), with rtr_count requests for seqs above
// its aru. false if the ring did not form.
bool token_fill(rp_wire_hdr *h, rp_wire_token *t, uint16_t rtr_count)
{
	ring_mem *rm = idle_ring3();
	uint32_t size = 0, to = 0;
	uint8_t path = 0;
	bool ok = rm != nullptr && ring_token(rm, &size, &to, &path, h, t) != nullptr;
	ring_mem_destroy(rm);
	if (!ok)
		return false;
	t->rtr_count = rtr_count;
	for (uint16_t i = 0; i < rtr_count; i++)
		t->rtr[i] = t->aru + 1u + 3u * i;
	return true;
}

void BM_wire_encode_token(benchmark::State &state)
{
	static rp_wire_token t;
	rp_wire_hdr h;
	if (!token_fill(&h, &t, (uint16_t)state.range(0))) {
		state.SkipWithError("the ring did not form or stalled");
		return;
	}
	alignas(64) static uint8_t buf[frame_size_max];
	for (auto _ : state) {
		size_t size = rp_wire_encode_token(buf, &h, &t);
		benchmark::DoNotOptimize(size);
		benchmark::ClobberMemory();
	}
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)rp_wire_token_size(t.rtr_count));
}
BENCHMARK(BM_wire_encode_token)->ArgName("rtr")->Arg(0)->Arg(64);

// A received frame decoded as a node decodes it: the header, then the body
// with decode_body. RP_DROP_NONE, or the first reason either gives.
template <typename Body>
enum rp_drop decode_frame(const uint8_t *buf, size_t size, Body *out,
			  enum rp_drop (*decode_body)(const uint8_t *, const rp_wire_hdr *, Body *))
{
	rp_wire_hdr h;
	enum rp_drop why = rp_wire_decode_hdr(buf, size, &h);
	return why != RP_DROP_NONE ? why : decode_body(buf, &h, out);
}

// Header and token body, as a receiving node decodes them.
void BM_wire_decode_token(benchmark::State &state)
{
	static rp_wire_token t, out;
	rp_wire_hdr h;
	if (!token_fill(&h, &t, (uint16_t)state.range(0))) {
		state.SkipWithError("the ring did not form or stalled");
		return;
	}
	alignas(64) static uint8_t buf[frame_size_max];
	size_t size = rp_wire_encode_token(buf, &h, &t);
	for (auto _ : state) {
		benchmark::DoNotOptimize(buf);
		enum rp_drop why = decode_frame(buf, size, &out, rp_wire_decode_token);
		benchmark::DoNotOptimize(why);
		benchmark::ClobberMemory();
	}
	if (decode_frame(buf, size, &out, rp_wire_decode_token) != RP_DROP_NONE)
		state.SkipWithError("the token does not decode");
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)size);
}
BENCHMARK(BM_wire_decode_token)->ArgName("rtr")->Arg(0)->Arg(64);

// Packs whole entries of entry_size payload bytes until the next would not
// fit in frame_size_max; returns the frame size and the entry count.
size_t data_frame(uint8_t *buf, uint32_t entry_size, uint16_t *count)
{
	size_t off = RP_WIRE_HDR_SIZE + RP_WIRE_DATA_HDR_SIZE;
	uint16_t n = 0;
	while (off + RP_WIRE_ENTRY_HDR_SIZE + entry_size <= frame_size_max) {
		rp_wire_entry e;
		std::memset(&e, 0, sizeof(e));
		e.chunk_size = entry_size;
		e.msg_size = entry_size;
		e.client_id = n % 4u;
		e.service = RP_SERVICE_AGREED;
		e.flags = RP_ENTRY_F_FIRST | RP_ENTRY_F_LAST;
		rp_wire_encode_entry_hdr(buf + off, &e);
		std::memset(buf + off + RP_WIRE_ENTRY_HDR_SIZE, 0x5A, entry_size);
		off += RP_WIRE_ENTRY_HDR_SIZE + entry_size;
		n++;
	}
	rp_wire_hdr h;
	std::memset(&h, 0, sizeof(h));
	h.version = RP_WIRE_VERSION_MAX;
	h.type = RP_FRAME_DATA;
	h.hdr_size = RP_WIRE_HDR_SIZE;
	h.frame_size = (uint32_t)off;
	h.sender = 1;
	h.incarnation = 1;
	h.ring.rep = 1;
	h.ring.seq = 1;
	h.proto = h.proto_min = h.proto_max = 1;
	rp_wire_encode_hdr(buf, &h);
	rp_wire_data d;
	std::memset(&d, 0, sizeof(d));
	d.seq = 12345;
	d.origin = 1;
	d.entry_count = n;
	rp_wire_encode_data_hdr(buf + RP_WIRE_HDR_SIZE, &d);
	*count = n;
	return off;
}

// Header and data body (which walks and validates every entry). entry:64
// packs 106 entries into exactly 8960 bytes; entry:8192 is one 8 KiB entry
// (an 8268-byte frame).
void BM_wire_decode_data(benchmark::State &state)
{
	alignas(64) static uint8_t buf[frame_size_max];
	uint16_t count;
	size_t size = data_frame(buf, (uint32_t)state.range(0), &count);
	rp_wire_data d;
	for (auto _ : state) {
		benchmark::DoNotOptimize(buf);
		enum rp_drop why = decode_frame(buf, size, &d, rp_wire_decode_data);
		benchmark::DoNotOptimize(why);
		benchmark::DoNotOptimize(d);
	}
	if (decode_frame(buf, size, &d, rp_wire_decode_data) != RP_DROP_NONE || d.entry_count != count)
		state.SkipWithError("the data frame does not decode");
	state.SetItemsProcessed((int64_t)state.iterations() * count);
	state.SetBytesProcessed((int64_t)state.iterations() * (int64_t)size);
	state.counters["frame_size"] = (double)size;
	state.counters["entries"] = (double)count;
}
BENCHMARK(BM_wire_decode_data)->ArgName("entry")->Arg(64)->Arg(8192);

// One rp_step: a token arrives at node 2 of an idle 3-node ring; the node has
// nothing to send, retransmit or deliver, so the step is decode, the
// token_seq filter, discard (nothing), the aru rule, the rtr scan (empty),
// encoding the forwarded token and emitting the send.
//
// Honesty: the token is captured once from the ring and replayed to the same
// node. The token_seq filter drops a repeat, so each iteration first writes
// token_seq + 3 into the frame (what the other two nodes' visits would have
// done); that 8-byte store is inside the timed loop. Replaying is faithful
// because an idle visit leaves the node's state as it found it (fcc, backlog,
// aru and safe point do not move); the forwarded token is discarded. No copy
// of the frame is made: rp_step takes it as const and does not write it.
// BM_srp_token_rotation below measures the same work through the real
// ring, transport copy included, as a cross-check.
void BM_srp_token_step(benchmark::State &state)
{
	ring_mem *rm = idle_ring3();
	if (!rm) {
		state.SkipWithError("the ring did not form or stalled");
		return;
	}
	uint32_t size = 0, to = 0;
	uint8_t path = 0;
	alignas(64) static uint8_t buf[frame_size_max];
	rp_wire_hdr h;
	static rp_wire_token t;
	const uint8_t *head = ring_token(rm, &size, &to, &path, &h, &t);
	if (!head) {
		ring_mem_destroy(rm);
		state.SkipWithError("an idle ring should carry exactly one token");
		return;
	}
	std::memcpy(buf, head, size);
	rp_node *node = ring_mem_node(rm, to);
	rp_config cfg;
	ring_mem_config(rm, to, &cfg);
	std::vector<rp_action> v(rp_actions_min(&cfg) + 4096u);
	rp_actions acts;
	acts.v = v.data();
	acts.count = 0;
	acts.capacity = (uint32_t)v.size();
	rp_input in;
	std::memset(&in, 0, sizeof(in));
	in.kind = RP_IN_FRAME;
	in.frame.data = buf;
	in.frame.size = size;
	in.frame.path = path;
	const rp_stats *st = rp_node_stats(node);
	uint64_t accepted0 = st->tokens_received;
	uint64_t token_seq = t.token_seq;
	uint8_t *token_seq_at = buf + h.hdr_size + RP_TOKEN_TOKEN_SEQ;
	for (auto _ : state) {
		token_seq += 3;
		rp_put64(token_seq_at, token_seq);
		rp_step(node, &in, 0, &acts);
		benchmark::DoNotOptimize(acts.count);
	}
	uint64_t accepted = st->tokens_received - accepted0;
	if (accepted != (uint64_t)state.iterations() || acts.count != 1 ||
	    acts.v[0].kind != RP_ACT_SEND)
		state.SkipWithError("a replayed token was dropped or the visit did more than forward it");
	state.SetItemsProcessed((int64_t)state.iterations());
	ring_mem_destroy(rm);
}
BENCHMARK(BM_srp_token_step);

// One idle rotation of the token through the 3-node ring (three rp_steps,
// each with the transport's copy of the 88-byte token and the FIFO); items
// are steps, so items/s and time_per_step are per token arrival.
void BM_srp_token_rotation(benchmark::State &state)
{
	ring_mem *rm = idle_ring3();
	if (!rm) {
		state.SkipWithError("the ring did not form or stalled");
		return;
	}
	uint64_t steps0 = ring_mem_steps(rm);
	for (auto _ : state) {
		ring_mem_pump(rm);
		ring_mem_pump(rm);
		ring_mem_pump(rm);
	}
	uint64_t steps = ring_mem_steps(rm) - steps0;
	if (steps != 3u * (uint64_t)state.iterations() || ring_mem_in_flight(rm) != 1)
		state.SkipWithError("an idle rotation should be three steps and one token");
	state.SetItemsProcessed((int64_t)steps);
	state.counters["time_per_step"] = benchmark::Counter(
		(double)steps, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
	ring_mem_destroy(rm);
}
BENCHMARK(BM_srp_token_rotation);

// The protocol cost per ordered message: every node of a 3-node ring
// publishes msgs_per_iter messages of range(0) bytes (AGREED) and the
// iteration ends when every node has delivered all of them. Items are
// deliveries (3 per message: each node delivers each message once, its own
// included). time_per_delivery is CPU time / deliveries; time_per_msg is
// CPU time per message ordered (= 3 * time_per_delivery). The time includes
// ring_mem's own work (one copy of each sent frame, the FIFO, walking the
// actions); bench/proto-cost.sh separates rp_step's share by instructions.
// Publishing is one rp_step per message (RP_IN_SUBMIT), counted as protocol.
// The second argument lends the frames (docs/protocol.md §14): each node
// keeps the transport's buffer instead of copying it into its store.
void BM_srp_ring3_msg(benchmark::State &state)
{
	const uint32_t size = (uint32_t)state.range(0);
	const uint32_t msgs_per_iter = 1000;
	ring_mem *rm = ring_mem_create(3);
	if (!rm) {
		state.SkipWithError("cannot create the ring");
		return;
	}
	if (state.range(1) != 0)
		ring_mem_lend(rm);
	// warm-up: the ring forms, the pool and FIFO reach their size
	if (ring_mem_run(rm, msgs_per_iter, size) != 9u * msgs_per_iter) {
		ring_mem_destroy(rm);
		state.SkipWithError("the ring stalled during warm-up");
		return;
	}
	uint64_t deliveries = 0, steps0 = ring_mem_steps(rm), frames0 = ring_mem_frames(rm);
	for (auto _ : state)
		deliveries += ring_mem_run(rm, msgs_per_iter, size);
	if (ring_mem_stalled(rm) || deliveries != 9u * msgs_per_iter * (uint64_t)state.iterations())
		state.SkipWithError("the ring stalled");
	state.SetItemsProcessed((int64_t)deliveries);
	state.SetBytesProcessed((int64_t)(deliveries * size));
	double d = (double)deliveries;
	// inverted rates: seconds per item (the console shows e.g. "30.1ns")
	state.counters["time_per_delivery"] =
		benchmark::Counter(d, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
	state.counters["time_per_msg"] =
		benchmark::Counter(d / 3.0, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
	state.counters["steps_per_delivery"] = d > 0 ? (double)(ring_mem_steps(rm) - steps0) / d : 0.0;
	state.counters["frames_per_delivery"] = d > 0 ? (double)(ring_mem_frames(rm) - frames0) / d : 0.0;
	ring_mem_destroy(rm);
}
BENCHMARK(BM_srp_ring3_msg)
	->ArgNames({"size", "lend"})
	->ArgsProduct({{64, 1024, 8192}, {0, 1}})
	->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
