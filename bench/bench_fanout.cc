// bench_fanout.cc — Google Benchmark micro-benchmark of the engine's
// delivery fan-out (engine/eng_clients.c, docs/attach.md §5): one message
// that ring-proto delivered whole goes to every local member of its group.
//
// Owns: BM_fanout/<members>/<bytes>: per iteration, one message through
// eng_clients_deliver() (envelope checks, group lookup, a MESSAGE record
// written into each member's 4 MiB delivery ring), and every member's ring
// drained as its client would drain it. Reported per message (items) and
// per record written (the "records" counter).
// Never: includes the engine's headers (C11 and DPDK): the loop lives in
// fanout_bench.c, called through the plain C functions declared below.

#include <benchmark/benchmark.h>

#include <cstdint>

extern "C" {
struct fanout;
struct fanout *fanout_new(uint32_t members, uint32_t size);
void fanout_free(struct fanout *f);
uint64_t fanout_run(struct fanout *f, uint64_t iters);
}

namespace {

// Messages are delivered in batches so that the call into the C file is
// not part of the cost of each one.
constexpr uint64_t batch = 64;

void BM_fanout(benchmark::State &state)
{
	const auto members = static_cast<uint32_t>(state.range(0));
	const auto size = static_cast<uint32_t>(state.range(1));
	fanout *f = fanout_new(members, size);
	if (f == nullptr) {
		state.SkipWithError("fanout_new failed");
		return;
	}
	uint64_t records = 0;
	for (auto _ : state) {
		uint64_t got = fanout_run(f, batch);
		if (got != batch * members) {
			state.SkipWithError("a member missed a message");
			break;
		}
		records += got;
	}
	state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
	state.counters["records"] = benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
	fanout_free(f);
}
BENCHMARK(BM_fanout)
	->ArgNames({"members", "bytes"})
	->ArgsProduct({{1, 4, 16, 64}, {64, 1024, 8192}});

} // namespace

BENCHMARK_MAIN();
