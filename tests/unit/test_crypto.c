/* test_crypto.c — frame security (engine/eng_crypto.[ch], docs/security.md):
 * known answers computed by another implementation (crypto_kat.py), round
 * trips at every size, a bit flipped in each byte of a sealed frame, replays
 * inside and beyond the window, frames with the node's own id (reflected,
 * or a second process's with that id) and start frames, wrong keys, wrong
 * suites, key rotation, the counter reservation, and the key file's checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "eng_crypto.h"
#include "rp_wire.h"

/* python3 tests/unit/crypto_kat.py: key bytes 0..63, ring 1, node 2,
 * counter 1000, the 64-byte frame of kat_frame(). */
static const char kat_aes_enc[] = "646566676869280040000000020001737475767778797a7b7c7d7e7f808182838485868788898a8b70eb36415271137e3f0f290766a62f17125c19847e02856c910067b0e8030000000000005d87e79ba5c7ab561ef562aad3ba6f00";
static const char kat_aes_auth[] = "646566676869280040000000020001737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a10067b0e803000000000000458b085430a1e107183adfc40b019faa";
static const char kat_chacha_enc[] = "646566676869280040000000020001737475767778797a7b7c7d7e7f808182838485868788898a8b60a48382b0526dc99908c24767244dedcee7120462e4851a920067b0e803000000000000f19ba27091b10f7c4fa513b8305afa51";
static const char kat_chacha_auth[] = "646566676869280040000000020001737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a20067b0e803000000000000f743b3e1bf2ac910ffb041584011457b";
static const char kat_aes_enc_hdr80[] = "646566676869500080000000020001737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b348d30e797a593b561727012f3efe774f4a0441dc166aed04fe2891b85e05d9dbba51ce3ac63c376bf56fbc460f34720c910067b0e803000000000000b59c3eca5e3413ede2f1a70afc3f9662";
#define KAT_FINGERPRINT 0x79acd72e9c27b067ull
#define KAT_COUNTER 1000u
#define FRAME_MAX 9216u

static uint8_t key1[64], key2[64];

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

/* The KAT frame: bytes 100.., hdr_size hdr, frame_size size, sender 2, path 1. */
static void kat_frame_n(uint8_t *f, uint16_t hdr, uint32_t size)
{
	for (uint32_t i = 0; i < size; i++)
		f[i] = (uint8_t)(100 + i);
	put16(f + 6, hdr);
	put32(f + 8, size);
	put16(f + 12, 2);
	f[14] = 1;
}

static void kat_frame(uint8_t f[64]) { kat_frame_n(f, 40, 64); }

/* A frame of size bytes (40-byte header) from sender, of incarnation
 * (header bytes 16..23: the replay windows are per incarnation). */
static void make_frame_of(uint8_t *f, size_t size, uint16_t sender, uint64_t incarnation, uint32_t seed)
{
	for (size_t i = 0; i < size; i++)
		f[i] = (uint8_t)(i * 31u + seed);
	put16(f + 6, 40);
	put32(f + 8, (uint32_t)size);
	put16(f + 12, sender);
	f[14] = 0;
	put32(f + 16, (uint32_t)incarnation);
	put32(f + 20, (uint32_t)(incarnation >> 32));
}

static void make_frame(uint8_t *f, size_t size, uint16_t sender, uint32_t seed)
{
	make_frame_of(f, size, sender, 1, seed);
}

static void node(struct eng_crypto *c, enum eng_cipher cipher, enum eng_protect prot, uint16_t id,
		 const uint8_t *key)
{
	char err[256];
	assert_int_equal(eng_crypto_init(c, cipher, prot, 1, id, KAT_COUNTER, UINT64_MAX, err, sizeof(err)), 0);
	assert_int_equal(eng_crypto_install(c, key, 64, err, sizeof(err)), 1);
}

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < 64; i++) {
		key1[i] = (uint8_t)i;
		key2[i] = (uint8_t)(0xA5 ^ (i * 7));
	}
	return 0;
}

/* The n bytes a known answer's hex string says (it must say exactly n). */
static void unhex(const char *hex, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(hex), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void one_kat(enum eng_cipher cipher, enum eng_protect prot, const char *want_hex)
{
	struct eng_crypto tx, rx;
	node(&tx, cipher, prot, 2, key1);
	node(&rx, cipher, prot, 3, key1);
	assert_true(tx.key[ENG_KEY_CURRENT].fingerprint == KAT_FINGERPRINT);
	uint8_t f[64], out[64 + ENG_CRYPTO_TRAILER_SIZE];
	kat_frame(f);
	assert_int_equal(eng_crypto_seal(&tx, f, 64, out), sizeof(out));
	uint8_t want[sizeof(out)];
	unhex(want_hex, want, sizeof(want));
	assert_memory_equal(out, want, sizeof(out));
	size_t plain = 0;
	assert_int_equal(eng_crypto_open(&rx, out, sizeof(out), 1, &plain), ENG_CRYPTO_OK);
	assert_int_equal(plain, 64);
	assert_memory_equal(out, f, 64);
	eng_crypto_free(&tx);
	eng_crypto_free(&rx);
}

static void test_known_answers(void **state)
{
	(void)state;
	one_kat(ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, kat_aes_enc);
	one_kat(ENG_CIPHER_AES256_GCM, ENG_PROTECT_AUTH, kat_aes_auth);
	one_kat(ENG_CIPHER_CHACHA20_POLY1305, ENG_PROTECT_ENCRYPT, kat_chacha_enc);
	one_kat(ENG_CIPHER_CHACHA20_POLY1305, ENG_PROTECT_AUTH, kat_chacha_auth);
	/* a header longer than what the AAD is assembled in: fed piecewise */
	struct eng_crypto tx, rx;
	node(&tx, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 2, key1);
	node(&rx, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 3, key1);
	uint8_t f[128], out[128 + ENG_CRYPTO_TRAILER_SIZE];
	kat_frame_n(f, 80, 128);
	assert_int_equal(eng_crypto_seal(&tx, f, 128, out), sizeof(out));
	uint8_t want[sizeof(out)];
	unhex(kat_aes_enc_hdr80, want, sizeof(want));
	assert_memory_equal(out, want, sizeof(out));
	size_t plain = 0;
	assert_int_equal(eng_crypto_open(&rx, out, sizeof(out), 1, &plain), ENG_CRYPTO_OK);
	assert_memory_equal(out, f, 128);
	eng_crypto_free(&tx);
	eng_crypto_free(&rx);
}

static void roundtrip(enum eng_cipher cipher, enum eng_protect prot)
{
	static const size_t sizes[] = {40, 41, 64, 1024, 1500, 9000};
	static uint8_t f[FRAME_MAX], s[FRAME_MAX + ENG_CRYPTO_TRAILER_SIZE];
	struct eng_crypto tx, rx;
	node(&tx, cipher, prot, 5, key1);
	node(&rx, cipher, prot, 6, key1);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		make_frame(f, n, 5, (uint32_t)i);
		assert_int_equal(eng_crypto_seal(&tx, f, n, s), n + ENG_CRYPTO_TRAILER_SIZE);
		/* the header is in clear; the body is encrypted unless auth */
		assert_memory_equal(s, f, 40);
		if (n > 48) {
			if (prot == ENG_PROTECT_ENCRYPT)
				assert_memory_not_equal(s + 40, f + 40, n - 40);
			else
				assert_memory_equal(s + 40, f + 40, n - 40);
		}
		s[14] = 2; /* the transport stamps the path of each copy */
		size_t plain = 0;
		assert_int_equal(eng_crypto_open(&rx, s, n + ENG_CRYPTO_TRAILER_SIZE, 2, &plain), ENG_CRYPTO_OK);
		assert_int_equal(plain, n);
		f[14] = 2;
		assert_memory_equal(s, f, n);
	}
	assert_int_equal(tx.st.sealed, 6);
	assert_int_equal(rx.st.opened, 6);
	eng_crypto_free(&tx);
	eng_crypto_free(&rx);
}

static void test_roundtrip(void **state)
{
	(void)state;
	roundtrip(ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT);
	roundtrip(ENG_CIPHER_AES256_GCM, ENG_PROTECT_AUTH);
	roundtrip(ENG_CIPHER_CHACHA20_POLY1305, ENG_PROTECT_ENCRYPT);
	roundtrip(ENG_CIPHER_CHACHA20_POLY1305, ENG_PROTECT_AUTH);
}

/* Every bit of every byte but the path index changes the verdict to a
 * drop; the receiver's window is not moved by any of them, so the
 * untouched frame still opens afterwards. */
static void tamper(enum eng_cipher cipher, enum eng_protect prot)
{
	enum { N = 200 };
	uint8_t f[N], s[N + ENG_CRYPTO_TRAILER_SIZE], t[sizeof(s)];
	struct eng_crypto tx, rx;
	node(&tx, cipher, prot, 5, key1);
	node(&rx, cipher, prot, 6, key1);
	make_frame(f, N, 5, 9);
	assert_int_equal(eng_crypto_seal(&tx, f, N, s), sizeof(s));
	for (size_t i = 0; i < sizeof(s); i++) {
		if (i == 14)
			continue;
		for (int bit = 0; bit < 8; bit++) {
			memcpy(t, s, sizeof(s));
			t[i] ^= (uint8_t)(1u << bit);
			size_t plain = 0;
			enum eng_crypto_result r = eng_crypto_open(&rx, t, sizeof(t), 0, &plain);
			if (r == ENG_CRYPTO_OK)
				fail_msg("byte %zu bit %d flipped: still authenticates", i, bit);
		}
	}
	uint64_t drops = 0;
	for (int r = 1; r < ENG_CRYPTO_DROP_COUNT; r++)
		drops += rx.st.drops[r];
	assert_int_equal(drops, (sizeof(s) - 1) * 8);
	assert_true(rx.st.drops[ENG_CRYPTO_DROP_AUTH] > (sizeof(s) - 40) * 8 / 2);
	/* shorter or longer by a byte */
	size_t plain = 0;
	memcpy(t, s, sizeof(s));
	assert_int_equal(eng_crypto_open(&rx, t, sizeof(t) - 1, 0, &plain), ENG_CRYPTO_DROP_LENGTH);
	assert_int_equal(eng_crypto_open(&rx, t, 30, 0, &plain), ENG_CRYPTO_DROP_SHORT);
	memcpy(t, s, sizeof(s));
	assert_int_equal(eng_crypto_open(&rx, t, sizeof(t), 0, &plain), ENG_CRYPTO_OK);
	assert_memory_equal(t, f, N);
	eng_crypto_free(&tx);
	eng_crypto_free(&rx);
}

static void test_tamper_every_byte(void **state)
{
	(void)state;
	tamper(ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT);
	tamper(ENG_CIPHER_AES256_GCM, ENG_PROTECT_AUTH);
	tamper(ENG_CIPHER_CHACHA20_POLY1305, ENG_PROTECT_ENCRYPT);
	tamper(ENG_CIPHER_CHACHA20_POLY1305, ENG_PROTECT_AUTH);
}

static void test_replay(void **state)
{
	(void)state;
	enum { N = 100, K = ENG_CRYPTO_WINDOW + 10 };
	static uint8_t sealed[K][N + ENG_CRYPTO_TRAILER_SIZE];
	uint8_t f[N], t[N + ENG_CRYPTO_TRAILER_SIZE];
	struct eng_crypto tx, rx;
	node(&tx, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 5, key1);
	node(&rx, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 6, key1);
	for (int i = 0; i < K; i++) {
		make_frame(f, N, 5, (uint32_t)i);
		assert_int_equal(eng_crypto_seal(&tx, f, N, sealed[i]), sizeof(t));
	}
	size_t plain;
#define OPEN(i, path) (memcpy(t, sealed[i], sizeof(t)), eng_crypto_open(&rx, t, sizeof(t), (path), &plain))
	/* out of order within the window: each once */
	assert_int_equal(OPEN(5, 0), ENG_CRYPTO_OK);
	assert_int_equal(OPEN(3, 0), ENG_CRYPTO_OK);
	assert_int_equal(OPEN(4, 0), ENG_CRYPTO_OK);
	assert_int_equal(OPEN(5, 0), ENG_CRYPTO_DROP_REPLAY);
	assert_int_equal(OPEN(3, 0), ENG_CRYPTO_DROP_REPLAY);
	/* the copy of a frame on another path is its own (active RRP) */
	assert_int_equal(OPEN(5, 1), ENG_CRYPTO_OK);
	assert_int_equal(OPEN(5, 1), ENG_CRYPTO_DROP_REPLAY);
	/* the sender's own frame reflected back to it */
	assert_int_equal((memcpy(t, sealed[7], sizeof(t)), eng_crypto_open(&tx, t, sizeof(t), 0, &plain)),
			 ENG_CRYPTO_DROP_REPLAY);
	/* far ahead: everything a window older is refused, even never seen */
	assert_int_equal(OPEN(K - 1, 0), ENG_CRYPTO_OK);
	assert_int_equal(OPEN(6, 0), ENG_CRYPTO_DROP_REPLAY);
	assert_int_equal(OPEN(K - 1 - ENG_CRYPTO_WINDOW, 0), ENG_CRYPTO_DROP_REPLAY);
	assert_int_equal(OPEN(K - ENG_CRYPTO_WINDOW, 0), ENG_CRYPTO_OK);
	assert_int_equal(OPEN(K - 2, 0), ENG_CRYPTO_OK);
	assert_int_equal(OPEN(K - 2, 0), ENG_CRYPTO_DROP_REPLAY);
	assert_int_equal(rx.st.drops[ENG_CRYPTO_DROP_REPLAY], 6);
	/* every frame from a fresh receiver: each accepted once, in any order */
	struct eng_crypto rx2;
	node(&rx2, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 7, key1);
	for (int i = K - 1; i >= K - (int)ENG_CRYPTO_WINDOW; i--) {
		memcpy(t, sealed[i], sizeof(t));
		assert_int_equal(eng_crypto_open(&rx2, t, sizeof(t), 3, &plain), ENG_CRYPTO_OK);
		memcpy(t, sealed[i], sizeof(t));
		assert_int_equal(eng_crypto_open(&rx2, t, sizeof(t), 3, &plain), ENG_CRYPTO_DROP_REPLAY);
	}
#undef OPEN
	eng_crypto_free(&tx);
	eng_crypto_free(&rx);
	eng_crypto_free(&rx2);
}

/* A process configured as node 2 whose counters begin at start. */
static void process_of_2(struct eng_crypto *c, uint64_t start)
{
	char err[256];
	assert_int_equal(eng_crypto_init(c, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 1, 2, start, UINT64_MAX, err,
					 sizeof(err)), 0);
	assert_int_equal(eng_crypto_install(c, key1, 64, err, sizeof(err)), 1);
}

enum { TYPED_SZ = 100 + ENG_CRYPTO_TRAILER_SIZE }; /* a frame seal_typed seals */

/* Seals a 100-byte frame of node 2's incarnation inc, of ring-proto frame
 * type `type` (rp_wire.h). */
static void seal_inc(struct eng_crypto *c, uint8_t type, uint64_t inc, uint32_t seed, uint8_t out[TYPED_SZ])
{
	uint8_t f[100];
	make_frame_of(f, sizeof(f), 2, inc, seed);
	f[3] = type;
	assert_int_equal(eng_crypto_seal(c, f, sizeof(f), out), TYPED_SZ);
}

static void seal_typed(struct eng_crypto *c, uint8_t type, uint32_t seed, uint8_t out[TYPED_SZ])
{
	seal_inc(c, type, c->counter_first / 1024u, seed, out); /* its incarnation: counters / 1024 */
}

/* Opens a copy of sealed frame f at c, on path 0 (opening decrypts in
 * place, and a frame is opened at several nodes). */
static enum eng_crypto_result open_copy(struct eng_crypto *c, const uint8_t f[TYPED_SZ])
{
	uint8_t t[TYPED_SZ];
	size_t plain;
	memcpy(t, f, sizeof(t));
	return eng_crypto_open(c, t, sizeof(t), 0, &plain);
}

/* docs/security.md §4 and §4.1: a frame with this node's own id is refused
 * as a reflection exactly when this process sealed its counter; a second
 * process's with this id opens (ring-proto's Rule D takes it), once; and
 * the second process's start frames (ID_PROBE, DUP_NOTICE) never move the
 * window by which a peer judges the running process's frames. */
static void test_own_id_and_start_frames(void **state)
{
	(void)state;
	uint8_t run[3][TYPED_SZ], late[2][TYPED_SZ], early[TYPED_SZ], t[TYPED_SZ];
	struct eng_crypto running, newcomer, before, peer;
	size_t plain;
	process_of_2(&before, 500);               /* an earlier start: counters below the running one's */
	process_of_2(&running, 1000000);
	process_of_2(&newcomer, 1000000000);      /* started later: its incarnation x 1024 */
	node(&peer, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 3, key1);
	seal_typed(&before, RP_FRAME_TOKEN, 1, early);
	for (uint32_t i = 0; i < 3; i++)
		seal_typed(&running, RP_FRAME_TOKEN, i, run[i]);
	seal_typed(&newcomer, RP_FRAME_ID_PROBE, 7, late[0]);
	seal_typed(&newcomer, RP_FRAME_DUP_NOTICE, 8, late[1]);
	/* the running process's own frames, reflected: its first and its last */
	assert_int_equal(open_copy(&running, run[0]), ENG_CRYPTO_DROP_REPLAY);
	assert_int_equal(open_copy(&running, run[2]), ENG_CRYPTO_DROP_REPLAY);
	assert_int_equal(running.st.drops[ENG_CRYPTO_DROP_REPLAY], 2);
	/* the newcomer's probe opens at the running process, and the running
	 * one's answer at the newcomer: neither sealed the other's counters */
	assert_int_equal(open_copy(&running, late[0]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&running, late[0]), ENG_CRYPTO_DROP_REPLAY); /* once */
	assert_int_equal(open_copy(&newcomer, run[1]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&newcomer, run[1]), ENG_CRYPTO_DROP_REPLAY);
	assert_int_equal(open_copy(&newcomer, late[1]), ENG_CRYPTO_DROP_REPLAY); /* its own notice */
	/* a process that used lower counters (an earlier start) is not this one */
	assert_int_equal(open_copy(&running, early), ENG_CRYPTO_OK);
	/* at a peer: the newcomer's start frames between the running node's */
	assert_int_equal(open_copy(&peer, run[0]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&peer, late[0]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&peer, late[1]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&peer, run[1]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&peer, run[2]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&peer, late[0]), ENG_CRYPTO_DROP_REPLAY);
	assert_int_equal(open_copy(&peer, run[1]), ENG_CRYPTO_DROP_REPLAY);
	/* the type is authenticated: a start frame made an ordinary one fails */
	memcpy(t, late[0], TYPED_SZ);
	t[3] = RP_FRAME_TOKEN;
	assert_int_equal(eng_crypto_open(&peer, t, TYPED_SZ, 1, &plain), ENG_CRYPTO_DROP_AUTH);
	assert_int_equal(peer.st.drops[ENG_CRYPTO_DROP_REPLAY], 2);
	eng_crypto_free(&before);
	eng_crypto_free(&running);
	eng_crypto_free(&newcomer);
	eng_crypto_free(&peer);
}

/* docs/security.md §4: a sender's windows are per incarnation. At a peer
 * that pins node 2's running incarnation, a second process with its id
 * (and a third) never takes the running one's window; a window taken back
 * makes its incarnation a replay for good; an incarnation older than the
 * pin is refused; once the pin moves (a restart adopted), the old
 * incarnation's window is the one given away. */
static void test_windows_per_incarnation(void **state)
{
	(void)state;
	struct eng_crypto run, dup, dup2, old, restart, peer, moved;
	uint8_t r[4][TYPED_SZ], d[2][TYPED_SZ], d2[TYPED_SZ], o[TYPED_SZ], q[2][TYPED_SZ];
	process_of_2(&old, 500u * 1024u);
	process_of_2(&run, 1000u * 1024u);
	process_of_2(&dup, 2000u * 1024u);
	process_of_2(&dup2, 3000u * 1024u);
	process_of_2(&restart, 4000u * 1024u);
	for (uint32_t i = 0; i < 4; i++)
		seal_typed(&run, RP_FRAME_JOIN, i, r[i]);
	for (uint32_t i = 0; i < 2; i++) {
		seal_typed(&dup, RP_FRAME_JOIN, 10 + i, d[i]);
		seal_typed(&restart, RP_FRAME_JOIN, 20 + i, q[i]);
	}
	seal_typed(&dup2, RP_FRAME_JOIN, 30, d2);
	seal_typed(&old, RP_FRAME_JOIN, 40, o);
	node(&peer, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 3, key1);
	eng_crypto_pin(&peer, 2, 1000);
	assert_int_equal(open_copy(&peer, r[0]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&peer, d[0]), ENG_CRYPTO_OK);  /* the duplicate's Join: its own window */
	assert_int_equal(open_copy(&peer, r[1]), ENG_CRYPTO_OK);  /* one window per sender refused this */
	assert_int_equal(open_copy(&peer, d2), ENG_CRYPTO_OK); /* a third: takes the duplicate's */
	assert_int_equal(open_copy(&peer, d[1]), ENG_CRYPTO_DROP_REPLAY); /* taken back: for good */
	assert_int_equal(open_copy(&peer, r[2]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&peer, r[1]), ENG_CRYPTO_DROP_REPLAY);
	assert_int_equal(open_copy(&peer, o), ENG_CRYPTO_DROP_REPLAY); /* older than the pin */
	/* a restart adopted: the pin moves, the old incarnation's window goes */
	node(&moved, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 1, key1);
	eng_crypto_pin(&moved, 2, 1000);
	assert_int_equal(open_copy(&moved, r[0]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&moved, q[0]), ENG_CRYPTO_OK);
	eng_crypto_pin(&moved, 2, 4000);
	assert_int_equal(open_copy(&moved, r[1]), ENG_CRYPTO_DROP_REPLAY); /* a dead incarnation */
	assert_int_equal(open_copy(&moved, d[0]), ENG_CRYPTO_DROP_REPLAY); /* older than the pin */
	assert_int_equal(open_copy(&moved, q[1]), ENG_CRYPTO_OK);
	/* nothing pinned: a third incarnation takes the older one's window */
	eng_crypto_free(&moved);
	node(&moved, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 4, key1);
	assert_int_equal(open_copy(&moved, r[0]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&moved, d[0]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&moved, q[0]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&moved, r[1]), ENG_CRYPTO_DROP_REPLAY);
	assert_int_equal(open_copy(&moved, d[1]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&moved, q[1]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&moved, o), ENG_CRYPTO_DROP_REPLAY); /* older than both: no window */
	eng_crypto_free(&old);
	eng_crypto_free(&run);
	eng_crypto_free(&dup);
	eng_crypto_free(&dup2);
	eng_crypto_free(&restart);
	eng_crypto_free(&peer);
	eng_crypto_free(&moved);
}

/* docs/security.md §4, the cases test_windows_per_incarnation leaves to
 * one rule alone: (a) a newcomer's ID_PROBE takes no window, not even a
 * restart's that ring-proto has not adopted yet (the pin still names the
 * dead incarnation), so that restart's frames still open; (b) an unseen
 * incarnation older than the window it would take is refused without
 * taking it; (c) after the pin moved past nothing a window holds, an
 * incarnation whose window was taken back stays refused (the floor). */
static void test_window_edges(void **state)
{
	(void)state;
	struct eng_crypto run, mid, dup, restart, probe, peer;
	uint8_t r[TYPED_SZ], m[TYPED_SZ], d[2][TYPED_SZ], q[3][TYPED_SZ], p[TYPED_SZ];
	process_of_2(&run, 1000u * 1024u);
	process_of_2(&mid, 2000u * 1024u);
	process_of_2(&dup, 3000u * 1024u);
	process_of_2(&restart, 4000u * 1024u);
	process_of_2(&probe, 5000u * 1024u);
	seal_typed(&run, RP_FRAME_JOIN, 1, r);
	seal_typed(&mid, RP_FRAME_JOIN, 2, m);
	for (uint32_t i = 0; i < 2; i++)
		seal_typed(&dup, RP_FRAME_JOIN, 10 + i, d[i]);
	for (uint32_t i = 0; i < 3; i++)
		seal_typed(&restart, RP_FRAME_JOIN, 20 + i, q[i]);
	seal_typed(&probe, RP_FRAME_ID_PROBE, 30, p);
	/* (a) */
	node(&peer, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 3, key1);
	eng_crypto_pin(&peer, 2, 1000);
	assert_int_equal(open_copy(&peer, r), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&peer, q[0]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&peer, p), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&peer, q[1]), ENG_CRYPTO_OK);
	eng_crypto_free(&peer);
	/* (b) */
	node(&peer, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 3, key1);
	eng_crypto_pin(&peer, 2, 1000);
	assert_int_equal(open_copy(&peer, r), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&peer, d[0]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&peer, m), ENG_CRYPTO_DROP_REPLAY);
	assert_int_equal(open_copy(&peer, d[1]), ENG_CRYPTO_OK); /* its window kept */
	eng_crypto_free(&peer);
	/* (c) */
	node(&peer, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 3, key1);
	eng_crypto_pin(&peer, 2, 1000);
	assert_int_equal(open_copy(&peer, r), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&peer, d[0]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&peer, q[0]), ENG_CRYPTO_OK); /* takes the duplicate's */
	eng_crypto_pin(&peer, 2, 2000); /* adopted elsewhere: no window holds it */
	assert_int_equal(open_copy(&peer, d[1]), ENG_CRYPTO_DROP_REPLAY);
	assert_int_equal(open_copy(&peer, q[2]), ENG_CRYPTO_OK);
	eng_crypto_free(&peer);
	eng_crypto_free(&run);
	eng_crypto_free(&mid);
	eng_crypto_free(&dup);
	eng_crypto_free(&restart);
	eng_crypto_free(&probe);
}

/* docs/security.md §3: two processes with one node id and overlapping
 * counters (the issue: an earlier start climbs into a later one's
 * counters) seal the same counter under different keys, since their
 * incarnations differ — with one key per cluster key, equal counters gave
 * equal nonces: the same keystream (body XOR plaintext) and a forgeable
 * GHASH key. Both processes' frames still open at a peer and at each other. */
static void one_id_two_incarnations(enum eng_cipher cipher)
{
	enum { N = 100, HDR = 40 };
	struct eng_crypto a, b, peer;
	char err[256];
	assert_int_equal(eng_crypto_init(&a, cipher, ENG_PROTECT_ENCRYPT, 1, 2, 5000, UINT64_MAX, err, sizeof(err)), 0);
	assert_int_equal(eng_crypto_init(&b, cipher, ENG_PROTECT_ENCRYPT, 1, 2, 5000, UINT64_MAX, err, sizeof(err)), 0);
	assert_int_equal(eng_crypto_install(&a, key1, 64, err, sizeof(err)), 1);
	assert_int_equal(eng_crypto_install(&b, key1, 64, err, sizeof(err)), 1);
	node(&peer, cipher, ENG_PROTECT_ENCRYPT, 3, key1);
	uint8_t fa[N], fb[N], sa[TYPED_SZ], sb[TYPED_SZ];
	for (uint32_t i = 0; i < 3; i++) { /* counters 5000, 5001, 5002 at both */
		make_frame_of(fa, N, 2, 1000, i);
		make_frame_of(fb, N, 2, 1001, i); /* the same body */
		assert_int_equal(eng_crypto_seal(&a, fa, N, sa), TYPED_SZ);
		assert_int_equal(eng_crypto_seal(&b, fb, N, sb), TYPED_SZ);
		assert_memory_equal(sa + N + 4, sb + N + 4, 8); /* the same counter on the wire */
		assert_memory_equal(fa + HDR, fb + HDR, N - HDR);
		assert_memory_not_equal(sa + HDR, sb + HDR, N - HDR); /* another keystream */
		assert_memory_not_equal(sa + N + 12, sb + N + 12, ENG_CRYPTO_TAG_SIZE);
		/* the XOR of the two bodies is not the XOR of the plaintexts */
		uint8_t x = 0;
		for (size_t j = 0; j < 16; j++)
			x |= (uint8_t)(sa[HDR + j] ^ sb[HDR + j] ^ fa[HDR + j] ^ fb[HDR + j]);
		assert_int_not_equal(x, 0);
		assert_int_equal(open_copy(&peer, sa), ENG_CRYPTO_OK);
		assert_int_equal(open_copy(&peer, sb), ENG_CRYPTO_OK);
		/* at a, b's frame is a newer process's with its id (Rule D), though
		 * a sealed that counter too; at b, a's is refused as b's own
		 * reflected would be: of an older incarnation, which a running
		 * node ignores anyway (security.md §4.1) */
		assert_int_equal(open_copy(&a, sb), ENG_CRYPTO_OK);
		assert_int_equal(open_copy(&b, sa), ENG_CRYPTO_DROP_REPLAY);
	}
	eng_crypto_free(&a);
	eng_crypto_free(&b);
	eng_crypto_free(&peer);
}

static void test_one_id_two_incarnations(void **state)
{
	(void)state;
	one_id_two_incarnations(ENG_CIPHER_AES256_GCM);
	one_id_two_incarnations(ENG_CIPHER_CHACHA20_POLY1305);
}

/* A receiver keeps the opening keys of ENG_CRYPTO_INCS incarnations per
 * sender: frames of two incarnations in turn derive each key once; a
 * forged frame of a third costs a derivation but evicts nothing; a
 * verified one takes the place of the incarnation not pinned. */
static void test_subkey_cache(void **state)
{
	(void)state;
	struct eng_crypto p1, p2, p3, peer;
	uint8_t f1[4][TYPED_SZ], f2[4][TYPED_SZ], f3[TYPED_SZ], t[TYPED_SZ];
	process_of_2(&p1, 1000u * 1024u);
	process_of_2(&p2, 2000u * 1024u);
	process_of_2(&p3, 3000u * 1024u);
	for (uint32_t i = 0; i < 4; i++) {
		seal_typed(&p1, RP_FRAME_JOIN, i, f1[i]);
		seal_typed(&p2, RP_FRAME_JOIN, 10 + i, f2[i]);
	}
	seal_typed(&p3, RP_FRAME_JOIN, 20, f3);
	node(&peer, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 3, key1);
	eng_crypto_pin(&peer, 2, 1000);
	for (uint32_t i = 0; i < 2; i++) {
		assert_int_equal(open_copy(&peer, f1[i]), ENG_CRYPTO_OK);
		assert_int_equal(open_copy(&peer, f2[i]), ENG_CRYPTO_OK);
	}
	assert_int_equal(peer.st.subkeys, 2);
	/* a forgery of a third incarnation: derived, refused, nothing evicted */
	memcpy(t, f3, TYPED_SZ);
	t[TYPED_SZ - 1] ^= 1;
	size_t plain;
	assert_int_equal(eng_crypto_open(&peer, t, TYPED_SZ, 1, &plain), ENG_CRYPTO_DROP_AUTH);
	assert_int_equal(peer.st.subkeys, 3);
	assert_int_equal(open_copy(&peer, f2[2]), ENG_CRYPTO_OK);
	assert_int_equal(open_copy(&peer, f1[2]), ENG_CRYPTO_OK);
	assert_int_equal(peer.st.subkeys, 3);
	/* the third, verified, takes the unpinned incarnation's (2000) place */
	assert_int_equal(open_copy(&peer, f3), ENG_CRYPTO_OK);
	assert_int_equal(peer.st.subkeys, 4);
	assert_int_equal(open_copy(&peer, f1[3]), ENG_CRYPTO_OK);
	assert_int_equal(peer.st.subkeys, 4);
	eng_crypto_free(&p1);
	eng_crypto_free(&p2);
	eng_crypto_free(&p3);
	eng_crypto_free(&peer);
}

/* docs/security.md §3: a start's incarnation is above the stored one and
 * the clock, and its random part separates two starts that read the same
 * stored incarnation and clock (one state directory, read at once). */
static void test_incarnation_random_part(void **state)
{
	(void)state;
	const uint64_t last = 4000000000000000ull, clock = 1700000000000000ull; /* stored ahead of the clock */
	const uint32_t draws[] = {0, 1, 0x12345, 0xfffff, 0xfff00000u, 0xffffffffu};
	uint64_t seen[sizeof(draws) / sizeof(draws[0])];
	for (size_t i = 0; i < sizeof(draws) / sizeof(draws[0]); i++) {
		seen[i] = eng_crypto_incarnation(last, clock, draws[i]);
		assert_true(seen[i] > last && seen[i] - last <= (1u << ENG_CRYPTO_INC_RANDOM_BITS));
		assert_true(eng_crypto_incarnation(0, clock, draws[i]) >= clock);
		assert_true(eng_crypto_incarnation(0, clock, draws[i]) - clock < (1u << ENG_CRYPTO_INC_RANDOM_BITS));
	}
	assert_true(seen[0] != seen[1] && seen[1] != seen[2] && seen[2] != seen[3]);
	assert_true(seen[4] == seen[0] && seen[5] == seen[3]); /* only the low bits count */
}

/* A key derived after others (the HMAC context re-initialised with its
 * key, not given it again) is the one a fresh context derives first: a
 * process that sealed other incarnations before seals an incarnation's
 * frame exactly as one that seals only that incarnation. */
static void test_subkey_derivation_repeats(void **state)
{
	(void)state;
	enum { N = 100 };
	struct eng_crypto c, fresh;
	char err[256];
	uint8_t f[N], s[TYPED_SZ], want[TYPED_SZ];
	assert_int_equal(eng_crypto_init(&c, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 1, 2, 70, UINT64_MAX, err,
					 sizeof(err)), 0);
	assert_int_equal(eng_crypto_init(&fresh, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 1, 2, 73, UINT64_MAX, err,
					 sizeof(err)), 0);
	assert_int_equal(eng_crypto_install(&c, key1, 64, err, sizeof(err)), 1);
	assert_int_equal(eng_crypto_install(&fresh, key1, 64, err, sizeof(err)), 1);
	for (uint64_t inc = 10; inc < 13; inc++) { /* counters 70, 71, 72 */
		make_frame_of(f, N, 2, inc, 5);
		assert_int_equal(eng_crypto_seal(&c, f, N, s), TYPED_SZ);
	}
	make_frame_of(f, N, 2, 20, 5); /* counter 73 at both */
	assert_int_equal(eng_crypto_seal(&c, f, N, s), TYPED_SZ);
	assert_int_equal(eng_crypto_seal(&fresh, f, N, want), TYPED_SZ);
	assert_memory_equal(s, want, TYPED_SZ);
	eng_crypto_free(&c);
	eng_crypto_free(&fresh);
}

static void test_wrong_key_and_suite(void **state)
{
	(void)state;
	enum { N = 300 };
	uint8_t f[N], s[N + ENG_CRYPTO_TRAILER_SIZE];
	struct eng_crypto tx, rx_other_key, rx_chacha, rx_auth;
	node(&tx, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 4, key1);
	node(&rx_other_key, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 1, key2);
	node(&rx_chacha, ENG_CIPHER_CHACHA20_POLY1305, ENG_PROTECT_ENCRYPT, 1, key1);
	node(&rx_auth, ENG_CIPHER_AES256_GCM, ENG_PROTECT_AUTH, 1, key1);
	make_frame(f, N, 4, 1);
	assert_int_equal(eng_crypto_seal(&tx, f, N, s), sizeof(s));
	size_t plain;
	uint8_t t[sizeof(s)];
	memcpy(t, s, sizeof(s));
	assert_int_equal(eng_crypto_open(&rx_other_key, t, sizeof(t), 0, &plain), ENG_CRYPTO_DROP_UNKNOWN_KEY);
	assert_int_equal(rx_other_key.st.unknown_key_from[4], 1);
	assert_int_equal(rx_other_key.st.unknown_epoch_last[4], tx.key[ENG_KEY_CURRENT].epoch);
	memcpy(t, s, sizeof(s));
	assert_int_equal(eng_crypto_open(&rx_chacha, t, sizeof(t), 0, &plain), ENG_CRYPTO_DROP_SUITE);
	memcpy(t, s, sizeof(s));
	assert_int_equal(eng_crypto_open(&rx_auth, t, sizeof(t), 0, &plain), ENG_CRYPTO_DROP_SUITE);
	/* another key that happened to have the same epoch: a bad tag */
	memcpy(t, s, sizeof(s));
	uint16_t e2 = rx_other_key.key[ENG_KEY_CURRENT].epoch;
	t[N + 2] = (uint8_t)e2;
	t[N + 3] = (uint8_t)(e2 >> 8);
	assert_int_equal(eng_crypto_open(&rx_other_key, t, sizeof(t), 0, &plain), ENG_CRYPTO_DROP_AUTH);
	assert_int_equal(rx_other_key.st.auth_from[4], 1);
	/* a sender id outside 1..64: no window to check */
	make_frame(f, N, 4, 1);
	memcpy(t, s, sizeof(s));
	put16(t + 12, 65);
	assert_int_equal(eng_crypto_open(&rx_auth, t, sizeof(t), 0, &plain), ENG_CRYPTO_DROP_SENDER);
	put16(t + 12, 0);
	assert_int_equal(eng_crypto_open(&rx_auth, t, sizeof(t), 0, &plain), ENG_CRYPTO_DROP_SENDER);
	/* the sender seals only its own frames */
	make_frame(f, N, 9, 1);
	assert_int_equal(eng_crypto_seal(&tx, f, N, s), 0);
	assert_int_equal(tx.st.seal_errors, 1);
	eng_crypto_free(&tx);
	eng_crypto_free(&rx_other_key);
	eng_crypto_free(&rx_chacha);
	eng_crypto_free(&rx_auth);
}

static void test_rotation(void **state)
{
	(void)state;
	enum { N = 100 };
	uint8_t f[N], s[N + ENG_CRYPTO_TRAILER_SIZE];
	char err[256];
	size_t plain;
	struct eng_crypto a, b;
	node(&a, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 1, key1);
	node(&b, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 2, key1);
	uint64_t fp1 = a.key[ENG_KEY_CURRENT].fingerprint;
	/* installing the current key again changes nothing */
	assert_int_equal(eng_crypto_install(&a, key1, 64, err, sizeof(err)), 0);
	/* b installs the next key: it receives with both, sends with the old */
	assert_int_equal(eng_crypto_install(&b, key2, 64, err, sizeof(err)), 1);
	assert_int_equal(eng_crypto_install(&b, key2, 64, err, sizeof(err)), 0);
	uint64_t fp2 = b.key[ENG_KEY_NEXT].fingerprint;
	assert_true(fp2 != fp1);
	make_frame(f, N, 2, 1);
	assert_int_equal(eng_crypto_seal(&b, f, N, s), sizeof(s));
	assert_int_equal(eng_crypto_open(&a, s, sizeof(s), 0, &plain), ENG_CRYPTO_OK);
	/* a activates without having installed it: refused */
	assert_int_equal(eng_crypto_activate(&a, fp2), -1);
	assert_int_equal(eng_crypto_install(&a, key2, 64, err, sizeof(err)), 1);
	assert_int_equal(eng_crypto_activate(&a, fp2), 0);
	assert_true(a.key[ENG_KEY_CURRENT].fingerprint == fp2);
	assert_true(a.key[ENG_KEY_PREVIOUS].fingerprint == fp1);
	/* a sends with the new key; b (not yet activated) takes it */
	make_frame(f, N, 1, 2);
	assert_int_equal(eng_crypto_seal(&a, f, N, s), sizeof(s));
	assert_int_equal(eng_crypto_open(&b, s, sizeof(s), 0, &plain), ENG_CRYPTO_OK);
	/* b still sends with the old one; a takes it as previous */
	make_frame(f, N, 2, 3);
	assert_int_equal(eng_crypto_seal(&b, f, N, s), sizeof(s));
	uint8_t old[sizeof(s)];
	memcpy(old, s, sizeof(s));
	assert_int_equal(eng_crypto_open(&a, s, sizeof(s), 1, &plain), ENG_CRYPTO_OK);
	assert_int_equal(eng_crypto_activate(&b, fp2), 0);
	/* retired at a: a frame sealed with the old key is an unknown key */
	eng_crypto_retire(&a);
	assert_int_equal(a.st.retirements, 1);
	assert_int_equal(eng_crypto_open(&a, old, sizeof(old), 2, &plain), ENG_CRYPTO_DROP_UNKNOWN_KEY);
	make_frame(f, N, 2, 4);
	assert_int_equal(eng_crypto_seal(&b, f, N, s), sizeof(s));
	assert_int_equal(eng_crypto_open(&a, s, sizeof(s), 0, &plain), ENG_CRYPTO_OK);
	/* the old key cannot come back as next while it is previous at b */
	assert_int_equal(eng_crypto_install(&b, key1, 64, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "epoch"));
	eng_crypto_free(&a);
	eng_crypto_free(&b);
}

static void test_counter_reservation(void **state)
{
	(void)state;
	enum { N = 64 };
	uint8_t f[N], s[N + ENG_CRYPTO_TRAILER_SIZE];
	char err[256];
	struct eng_crypto c, rx;
	assert_int_equal(eng_crypto_init(&c, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 1, 3, 10, 12, err,
					 sizeof(err)), 0);
	assert_int_equal(eng_crypto_install(&c, key1, 64, err, sizeof(err)), 1);
	node(&rx, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 1, key1);
	make_frame(f, N, 3, 0);
	assert_int_equal(eng_crypto_seal(&c, f, N, s), sizeof(s));
	assert_int_equal(eng_crypto_seal(&c, f, N, s), sizeof(s));
	assert_int_equal(eng_crypto_seal(&c, f, N, s), 0); /* 12 reached */
	assert_int_equal(c.st.seal_errors, 0);
	eng_crypto_extend(&c, 13);
	assert_int_equal(eng_crypto_seal(&c, f, N, s), sizeof(s));
	size_t plain;
	assert_int_equal(eng_crypto_open(&rx, s, sizeof(s), 0, &plain), ENG_CRYPTO_OK);
	assert_int_equal(rx.win[2][0][0].top, 12);
	/* no key: nothing is sealed */
	struct eng_crypto none;
	assert_int_equal(eng_crypto_init(&none, ENG_CIPHER_AES256_GCM, ENG_PROTECT_ENCRYPT, 1, 3, 1, 100, err,
					 sizeof(err)), 0);
	assert_int_equal(eng_crypto_seal(&none, f, N, s), 0);
	eng_crypto_free(&c);
	eng_crypto_free(&rx);
}

static char kpath[64];

static void write_key(size_t n, mode_t mode)
{
	snprintf(kpath, sizeof(kpath), "/tmp/ordo-test-key-%d", (int)getpid());
	(void)unlink(kpath);
	FILE *f = fopen(kpath, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(key1, 1, n, f), n);
	fclose(f);
	assert_int_equal(chmod(kpath, mode), 0);
}

static void test_key_file(void **state)
{
	(void)state;
	uint8_t k[ENG_CRYPTO_KEY_MAX];
	char err[512];
	write_key(64, 0400);
	assert_int_equal(eng_crypto_read_key(kpath, k, sizeof(k), err, sizeof(err)), 64);
	assert_memory_equal(k, key1, 64);
	write_key(32, 0600);
	assert_int_equal(eng_crypto_read_key(kpath, k, sizeof(k), err, sizeof(err)), 32);
	write_key(31, 0400);
	assert_int_equal(eng_crypto_read_key(kpath, k, sizeof(k), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "31 bytes"));
	write_key(64, 0644);
	assert_int_equal(eng_crypto_read_key(kpath, k, sizeof(k), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "chmod 0400"));
	write_key(64, 0440);
	assert_int_equal(eng_crypto_read_key(kpath, k, sizeof(k), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "mode 0440"));
	(void)unlink(kpath);
	assert_int_equal(eng_crypto_read_key(kpath, k, sizeof(k), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ordo-keygen"));
	assert_int_equal(eng_crypto_read_key("/tmp", k, sizeof(k), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	uint64_t fp;
	uint16_t epoch;
	assert_int_equal(eng_crypto_key_id(key1, 64, &fp, &epoch), 0);
	assert_true(fp == KAT_FINGERPRINT);
	assert_int_equal(epoch, (uint16_t)KAT_FINGERPRINT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_tamper_every_byte),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_own_id_and_start_frames),
		cmocka_unit_test(test_windows_per_incarnation),
		cmocka_unit_test(test_window_edges),
		cmocka_unit_test(test_one_id_two_incarnations),
		cmocka_unit_test(test_subkey_cache),
		cmocka_unit_test(test_subkey_derivation_repeats),
		cmocka_unit_test(test_incarnation_random_part),
		cmocka_unit_test(test_wrong_key_and_suite),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_counter_reservation),
		cmocka_unit_test(test_key_file),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
