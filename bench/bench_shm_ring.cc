// bench_shm_ring.cc — Google Benchmark micro-benchmarks of the shared-memory
// record ring (client/shm_ring.h, docs/attach.md §2).
//
// Owns: BM_shm_ring_roundtrip/<payload bytes> (one thread: reserve, copy
// in, commit, peek, copy out, next, release; one record at a time) and
// BM_shm_ring_pingpong_threads (a producer thread streaming 64-byte records
// to a consumer thread, which checks their order and copies them out).
// Never: includes shm_ring.h: it is C11 (_Atomic, _Alignas), which C++ does
// not compile, so the loops that touch the ring are C (shm_ring_bench.c)
// and are called here through the plain C functions declared below.
//
// Both use a ring of 4 MiB, the default size of a client's rings
// (docs/attach.md §3). The round trip's time is CPU time; the two-thread
// stream's is wall time from the start signal to the consumer's last record
// (manual time), reported as items (records) per second.

#include <benchmark/benchmark.h>

#include <cstdint>

extern "C" {
struct shmb;
struct shmb *shmb_open(uint64_t size);
void shmb_close(struct shmb *b);
int shmb_roundtrip(struct shmb *b, uint32_t length, uint64_t n);
int shmb_stream(uint64_t size, uint32_t length, uint64_t n, double *seconds);
}

namespace {

constexpr uint64_t ring_size = 4u << 20;

// Round trips are timed in batches so that the call into the C file is not
// part of the cost of each one.
constexpr uint64_t roundtrip_batch = 64;

void BM_shm_ring_roundtrip(benchmark::State &state)
{
	const auto length = static_cast<uint32_t>(state.range(0));
	shmb *b = shmb_open(ring_size);
	if (b == nullptr) {
		state.SkipWithError("shmb_open failed");
		return;
	}
	// warm: go once around the ring
	if (shmb_roundtrip(b, length, ring_size / (length + 8u) + 1u) != 0)
		state.SkipWithError("the ring misbehaved while warming up");
	while (state.KeepRunningBatch(roundtrip_batch)) {
		if (shmb_roundtrip(b, length, roundtrip_batch) != 0) {
			state.SkipWithError("the ring misbehaved");
			break;
		}
	}
	state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
	state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * length);
	shmb_close(b);
}
BENCHMARK(BM_shm_ring_roundtrip)->Arg(64)->Arg(1024)->Arg(8192);

constexpr uint32_t stream_length = 64;
constexpr uint64_t stream_records = 1u << 20;

void BM_shm_ring_pingpong_threads(benchmark::State &state)
{
	for (auto _ : state) {
		double seconds = 0;
		if (shmb_stream(ring_size, stream_length, stream_records, &seconds) != 0) {
			state.SkipWithError("the stream lost or reordered a record");
			break;
		}
		state.SetIterationTime(seconds);
	}
	state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * stream_records));
	state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream_records * stream_length));
	state.SetLabel("64 B records, producer and consumer threads");
}
BENCHMARK(BM_shm_ring_pingpong_threads)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.3);

} // namespace

BENCHMARK_MAIN();
