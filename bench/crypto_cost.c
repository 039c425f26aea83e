/* crypto_cost.c — the fixed workload bench/crypto-cost.sh runs under
 * callgrind: frame security's cost per frame in instructions, which do not
 * drift with the machine's load (docs/performance.md §8).
 *
 *   crypto-cost CIPHER PROTECTION SIZE COUNT
 *     CIPHER aes256-gcm | chacha20-poly1305, PROTECTION encrypt | auth,
 *     SIZE the ring-proto frame's bytes, COUNT frames
 *
 * Seals COUNT frames at one node (instrumented, then a callgrind dump
 * named "seal"), then opens them at another (instrumented, dump "open"):
 * each part's Ir / COUNT is the instructions per frame. Exits non-zero if
 * any frame does not open. Without valgrind it just runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/callgrind.h>

#include "eng_crypto.h"

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: crypto-cost aes256-gcm|chacha20-poly1305 encrypt|auth SIZE COUNT\n");
		return 2;
	}
	enum eng_cipher cipher = eng_cipher_parse(argv[1]);
	enum eng_protect prot = strcmp(argv[2], "auth") == 0 ? ENG_PROTECT_AUTH : ENG_PROTECT_ENCRYPT;
	size_t size = strtoul(argv[3], NULL, 10);
	size_t count = strtoul(argv[4], NULL, 10);
	if (cipher == 0 || size < 64 || size > 65000 || count == 0 || count > 1000000) {
		fprintf(stderr, "crypto-cost: bad arguments\n");
		return 2;
	}
	uint8_t key[64];
	for (int i = 0; i < 64; i++)
		key[i] = (uint8_t)(i * 3 + 1);
	char err[256];
	static struct eng_crypto tx, rx;
	if (eng_crypto_init(&tx, cipher, prot, 1, 1, 1, UINT64_MAX, err, sizeof(err)) != 0 ||
	    eng_crypto_init(&rx, cipher, prot, 1, 2, 1, UINT64_MAX, err, sizeof(err)) != 0 ||
	    eng_crypto_install(&tx, key, sizeof(key), err, sizeof(err)) != 1 ||
	    eng_crypto_install(&rx, key, sizeof(key), err, sizeof(err)) != 1) {
		fprintf(stderr, "crypto-cost: %s\n", err);
		return 2;
	}
	uint8_t *frame = malloc(size);
	size_t stride = size + ENG_CRYPTO_TRAILER_SIZE;
	uint8_t *sealed = malloc(stride * count);
	if (frame == NULL || sealed == NULL)
		return 2;
	for (size_t i = 0; i < size; i++)
		frame[i] = (uint8_t)(i * 13u);
	frame[6] = 40; /* hdr_size */
	frame[7] = 0;
	for (int i = 0; i < 4; i++)
		frame[8 + i] = (uint8_t)(size >> (8 * i));
	frame[12] = 1; /* sender */
	frame[13] = 0;
	CALLGRIND_START_INSTRUMENTATION;
	CALLGRIND_ZERO_STATS;
	for (size_t i = 0; i < count; i++)
		if (eng_crypto_seal(&tx, frame, size, sealed + i * stride) != stride)
			return 1;
	CALLGRIND_DUMP_STATS_AT("seal");
	for (size_t i = 0; i < count; i++) {
		size_t plain;
		if (eng_crypto_open(&rx, sealed + i * stride, stride, 0, &plain) != ENG_CRYPTO_OK)
			return 1;
	}
	CALLGRIND_DUMP_STATS_AT("open");
	CALLGRIND_STOP_INSTRUMENTATION;
	printf("%s %s %zu B: %zu frames sealed and opened\n", argv[1], argv[2], size, count);
	eng_crypto_free(&tx);
	eng_crypto_free(&rx);
	free(sealed);
	free(frame);
	return 0;
}
