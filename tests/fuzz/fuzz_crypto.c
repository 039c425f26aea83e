/* fuzz_crypto.c — libFuzzer target for the authenticated decoder
 * (engine/eng_crypto.c, docs/security.md).
 *
 * Owns: three properties over any input.
 *   raw     arbitrary bytes given to eng_crypto_open as a received frame
 *           never authenticate, never make it read or write out of bounds
 *           (ASan), and always yield a drop reason in range;
 *   tamper  a frame made from the input, sealed by one node and changed by
 *           the input (one byte XORed anywhere, or the length cut or
 *           grown), opens at another node exactly when nothing
 *           authenticated changed (only the path byte, offset 14, is not),
 *           and then gives back the sealed frame's bytes; it never opens a
 *           second time (replay);
 *   suites  the same frame sealed under one suite never opens under
 *           another.
 *
 * Never: reports but by abort() (libFuzzer saves the input).
 *
 * Build: clang -fsanitize=fuzzer,address,undefined with eng_crypto.c compiled
 * into the target, linked with libcrypto.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eng_crypto.h"
#include "rp_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FRAME_MAX 9000u
#define SUITES 4

static struct eng_crypto tx[SUITES], rx[SUITES];
static uint8_t plain[FRAME_MAX], sealed[FRAME_MAX + ENG_CRYPTO_TRAILER_SIZE + 16],
	work[FRAME_MAX + ENG_CRYPTO_TRAILER_SIZE + 16];

static void check(int cond)
{
	if (!cond)
		abort();
}

static void setup(void)
{
	static int done;
	if (done)
		return;
	done = 1;
	uint8_t key[64];
	for (int i = 0; i < 64; i++)
		key[i] = (uint8_t)(i * 11 + 5);
	char err[256];
	for (int s = 0; s < SUITES; s++) {
		enum eng_cipher c = (s & 1) ? ENG_CIPHER_CHACHA20_POLY1305 : ENG_CIPHER_AES256_GCM;
		enum eng_protect p = (s & 2) ? ENG_PROTECT_AUTH : ENG_PROTECT_ENCRYPT;
		check(eng_crypto_init(&tx[s], c, p, 1, 2, 1, UINT64_MAX, err, sizeof(err)) == 0);
		check(eng_crypto_init(&rx[s], c, p, 1, 3, 1, UINT64_MAX, err, sizeof(err)) == 0);
		check(eng_crypto_install(&tx[s], key, sizeof(key), err, sizeof(err)) == 1);
		check(eng_crypto_install(&rx[s], key, sizeof(key), err, sizeof(err)) == 1);
	}
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* A frame of node 2 from the input: its bytes, with the fields the layer
 * reads made consistent. Returns its size. */
static size_t make_plain(const uint8_t *in, size_t in_size)
{
	size_t n = in_size < 16 ? 16 : in_size > FRAME_MAX ? FRAME_MAX : in_size;
	memset(plain, 0, n);
	memcpy(plain, in, in_size < n ? in_size : n);
	uint16_t hdr = (uint16_t)(15u + plain[6] % (n - 14u)); /* 15..n */
	put16(plain + 6, hdr);
	put16(plain + 8, (uint16_t)n);
	put16(plain + 10, (uint16_t)(n >> 16));
	put16(plain + 12, 2);
	if (hdr >= 24) /* one incarnation (the windows are per incarnation) */
		memset(plain + 16, 0, 8);
	return n;
}

static void fuzz_raw(int s, const uint8_t *in, size_t n)
{
	if (n > sizeof(work))
		n = sizeof(work);
	memcpy(work, in, n);
	size_t out = 0;
	enum eng_crypto_result r = eng_crypto_open(&rx[s], work, n, (uint8_t)(n & 3u), &out);
	check(r != ENG_CRYPTO_OK); /* a forgery: 2^-128, or a bug */
	check((unsigned)r < ENG_CRYPTO_DROP_COUNT);
}

static void fuzz_tamper(int s, uint8_t how, uint16_t where, uint8_t x, const uint8_t *in, size_t n)
{
	size_t len = make_plain(in, n);
	size_t sl = eng_crypto_seal(&tx[s], plain, len, sealed);
	check(sl == len + ENG_CRYPTO_TRAILER_SIZE);
	size_t wl = sl, out = 0;
	memcpy(work, sealed, sl);
	int changed = 0;
	if (how % 3 == 0) {
		size_t at = where % sl;
		work[at] ^= x;
		changed = x != 0 && at != 14;
	} else if (how % 3 == 1) {
		wl = sl - 1u - where % sl; /* shorter */
		changed = 1;
	} else {
		wl = sl + 1u + x % 16u; /* longer: trailing bytes */
		memset(work + sl, x, wl - sl);
		changed = 1;
	}
	enum eng_crypto_result r = eng_crypto_open(&rx[s], work, wl, (uint8_t)(how >> 6), &out);
	check((unsigned)r < ENG_CRYPTO_DROP_COUNT);
	check((r == ENG_CRYPTO_OK) == !changed);
	if (r != ENG_CRYPTO_OK) {
		/* the refused copy left no trace: the original still opens */
		memcpy(work, sealed, sl);
		r = eng_crypto_open(&rx[s], work, sl, (uint8_t)(how >> 6), &out);
		check(r == ENG_CRYPTO_OK);
	}
	check(out == len);
	work[RP_HDR_PATH_INDEX] = plain[RP_HDR_PATH_INDEX];
	check(memcmp(work, plain, len) == 0);
	memcpy(work, sealed, sl);
	check(eng_crypto_open(&rx[s], work, sl, (uint8_t)(how >> 6), &out) == ENG_CRYPTO_DROP_REPLAY);
	/* under every other suite: never */
	for (int o = 0; o < SUITES; o++) {
		if (o == s)
			continue;
		memcpy(work, sealed, sl);
		check(eng_crypto_open(&rx[o], work, sl, 0, &out) != ENG_CRYPTO_OK);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	setup();
	if (size < 5)
		return 0;
	int s = data[0] % SUITES;
	if ((data[0] >> 2) % 2 == 0)
		fuzz_raw(s, data + 1, size - 1);
	else
		fuzz_tamper(s, data[1], (uint16_t)(data[2] | (data[3] << 8)), data[4], data + 5, size - 5);
	return 0;
}
