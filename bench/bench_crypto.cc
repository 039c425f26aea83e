// bench_crypto.cc — Google Benchmark micro-benchmarks of frame security
// (engine/eng_crypto.[ch], docs/security.md): the cost one frame adds.
//
// Owns: BM_crypto_seal/<cipher>/<frame bytes> (one ring-proto frame sealed
// into a send buffer: header copied, body encrypted, trailer and tag) and
// BM_crypto_seal_open/<cipher>/<frame bytes> (sealed at one node, then
// authenticated and decrypted in place at another, as ordod's receive path
// does); open alone costs the difference. Cipher 1 is AES-256-GCM, 2
// ChaCha20-Poly1305; /auth variants authenticate without encrypting.
// BM_crypto_seal_open_new_incarnation: the same, each frame of an
// incarnation neither node has seen, so both derive its AEAD key (the cost
// a restart's first frame, or a forged frame of an unseen incarnation, adds
// at a receiver: about half the difference to BM_crypto_seal_open).
// Never: asserts a speed; checks that every open succeeds (a benchmark of
// failures would measure nothing).
//
// Frames are the sizes the engine sends at MTU 1500 and 9000 less the
// trailer, and a 64-byte one (a small token or control frame). Bytes per
// second count the ring-proto frame's bytes.

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

extern "C" {
#include "eng_crypto.h"
}

namespace {

void make_frame(uint8_t *f, size_t size, uint16_t sender)
{
	for (size_t i = 0; i < size; i++)
		f[i] = static_cast<uint8_t>(i * 13u);
	f[6] = 40; // hdr_size
	f[7] = 0;
	for (int i = 0; i < 4; i++)
		f[8 + i] = static_cast<uint8_t>(size >> (8 * i)); // frame_size
	f[12] = static_cast<uint8_t>(sender);
	f[13] = 0;
}

void node(eng_crypto *c, eng_cipher cipher, eng_protect prot, uint16_t id)
{
	static uint8_t key[64];
	for (int i = 0; i < 64; i++)
		key[i] = static_cast<uint8_t>(i * 3 + 1);
	char err[256];
	if (eng_crypto_init(c, cipher, prot, 1, id, 1, UINT64_MAX, err, sizeof(err)) != 0 ||
	    eng_crypto_install(c, key, sizeof(key), err, sizeof(err)) != 1)
		std::abort();
}

void set_incarnation(uint8_t *f, uint64_t inc)
{
	for (int i = 0; i < 8; i++)
		f[16 + i] = static_cast<uint8_t>(inc >> (8 * i));
}

void run(benchmark::State &state, bool open, bool new_incarnation = false)
{
	auto cipher = static_cast<eng_cipher>(state.range(0));
	auto prot = static_cast<eng_protect>(state.range(1));
	auto size = static_cast<size_t>(state.range(2));
	std::vector<uint8_t> f(size), s(size + ENG_CRYPTO_TRAILER_SIZE);
	make_frame(f.data(), size, 1);
	static eng_crypto tx, rx;
	node(&tx, cipher, prot, 1);
	node(&rx, cipher, prot, 2);
	uint64_t inc = 1;
	set_incarnation(f.data(), inc);
	for (auto _ : state) {
		if (new_incarnation)
			set_incarnation(f.data(), ++inc);
		size_t n = eng_crypto_seal(&tx, f.data(), size, s.data());
		if (open) {
			size_t plain = 0;
			if (eng_crypto_open(&rx, s.data(), n, 0, &plain) != ENG_CRYPTO_OK)
				std::abort();
		}
		benchmark::DoNotOptimize(s.data());
	}
	state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
	state.SetLabel(std::string(eng_cipher_name(cipher)) + (prot == ENG_PROTECT_AUTH ? " auth" : ""));
	eng_crypto_free(&tx);
	eng_crypto_free(&rx);
}

void BM_crypto_seal(benchmark::State &state) { run(state, false); }
void BM_crypto_seal_open(benchmark::State &state) { run(state, true); }
void BM_crypto_seal_open_new_incarnation(benchmark::State &state) { run(state, true, true); }

void sizes(benchmark::internal::Benchmark *b)
{
	for (int cipher : {ENG_CIPHER_AES256_GCM, ENG_CIPHER_CHACHA20_POLY1305})
		for (int64_t size : {64, 1024, 1500 - 28, 9000 - 28})
			b->Args({cipher, ENG_PROTECT_ENCRYPT, size});
	b->Args({ENG_CIPHER_AES256_GCM, ENG_PROTECT_AUTH, 1024});
	b->Args({ENG_CIPHER_AES256_GCM, ENG_PROTECT_AUTH, 9000 - 28});
}

BENCHMARK(BM_crypto_seal)->Apply(sizes);
BENCHMARK(BM_crypto_seal_open)->Apply(sizes);
BENCHMARK(BM_crypto_seal_open_new_incarnation)->Args({ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 64});

} // namespace

BENCHMARK_MAIN();
