/* eng_crypto.c — frame security (contract and wire layout in eng_crypto.h,
 * the design in docs/security.md).
 *
 * Per frame, EVP is told only the nonce (EVP_CipherInit_ex2 with no cipher
 * and no key keeps the context's key schedule), the AAD in three pieces,
 * the body, and the tag. Every context is made once per key at install; a
 * (sender, incarnation) not cached costs one HMAC and a key schedule
 * (subkey_init), into a context made at install too.
 *
 * Never: passes a length from the wire to EVP before checking it against
 * the bytes received; updates a replay window for a frame whose tag has not
 * verified.
 */
#include "eng_crypto.h"

#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "rp_wire.h"

/* The fields of ring-proto's header the layer reads (rp_wire.h's list). */
#define HDR_SIZE_OFF RP_HDR_HDR_SIZE
#define FRAME_SIZE_OFF RP_HDR_FRAME_SIZE
#define SENDER_OFF RP_HDR_SENDER
#define PATH_OFF RP_HDR_PATH_INDEX
#define TYPE_OFF RP_HDR_TYPE /* < PATH_OFF: inside every header open() takes */
#define INC_OFF RP_HDR_INCARNATION /* u64: the sender's incarnation (its windows) */
/* Trailer fields. */
#define TR_SUITE 0u
#define TR_EPOCH 2u
#define TR_COUNTER 4u
#define TR_TAG 12u
#define TR_AAD 12u /* trailer bytes that are AAD */

static const char *const drop_names[ENG_CRYPTO_DROP_COUNT] = {
#define ENG_CRYPTO_NAME_(e, name) [ENG_CRYPTO_##e] = name,
	foreach_eng_crypto_result(ENG_CRYPTO_NAME_)
#undef ENG_CRYPTO_NAME_
};

const char *eng_crypto_drop_name(enum eng_crypto_result r)
{
	return (unsigned)r < ENG_CRYPTO_DROP_COUNT ? drop_names[r] : "?";
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static uint64_t get64(const uint8_t *p) { return (uint64_t)get32(p) | ((uint64_t)get32(p + 4) << 32); }
static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t eng_crypto_incarnation(uint64_t last, uint64_t clock_us, uint32_t random)
{
	uint64_t base = last + 1u > clock_us ? last + 1u : clock_us;
	return base + (random & ((1u << ENG_CRYPTO_INC_RANDOM_BITS) - 1u));
}

enum eng_cipher eng_cipher_parse(const char *name)
{
	if (strcmp(name, "aes256-gcm") == 0)
		return ENG_CIPHER_AES256_GCM;
	if (strcmp(name, "chacha20-poly1305") == 0)
		return ENG_CIPHER_CHACHA20_POLY1305;
	return 0;
}

const char *eng_cipher_name(enum eng_cipher c)
{
	return c == ENG_CIPHER_AES256_GCM ? "aes256-gcm" : c == ENG_CIPHER_CHACHA20_POLY1305 ? "chacha20-poly1305" : "?";
}

static const EVP_CIPHER *evp_cipher(enum eng_cipher c)
{
	switch (c) {
	case ENG_CIPHER_AES256_GCM:
		return EVP_aes_256_gcm();
	case ENG_CIPHER_CHACHA20_POLY1305:
		return EVP_chacha20_poly1305();
	}
	return NULL;
}

/* HKDF-SHA256(salt "ordo frame security v1", ikm key, info) -> out. */
static int hkdf(const uint8_t *key, size_t len, const uint8_t *info, size_t info_len, uint8_t *out,
		size_t out_len)
{
	static const char salt[] = "ordo frame security v1";
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (kdf == NULL)
		return -1;
	EVP_KDF_CTX *k = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (k == NULL)
		return -1;
	OSSL_PARAM p[5];
	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, len);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, sizeof(salt) - 1);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
	p[4] = OSSL_PARAM_construct_end();
	int rc = EVP_KDF_derive(k, out, out_len, p) == 1 ? 0 : -1;
	EVP_KDF_CTX_free(k);
	return rc;
}

int eng_crypto_key_id(const uint8_t *key, size_t len, uint64_t *fingerprint, uint16_t *epoch)
{
	static const char info[] = "ordo key id";
	uint8_t b[8];
	if (hkdf(key, len, (const uint8_t *)info, sizeof(info) - 1, b, sizeof(b)) != 0)
		return -1;
	*fingerprint = get64(b);
	*epoch = (uint16_t)*fingerprint;
	return 0;
}

int eng_crypto_init(struct eng_crypto *c, enum eng_cipher cipher, enum eng_protect protect,
		    uint8_t ring_id, uint16_t node_id, uint64_t counter_start, uint64_t counter_limit,
		    char *err, size_t err_size)
{
	memset(c, 0, sizeof(*c));
	if (evp_cipher(cipher) == NULL || (protect != ENG_PROTECT_ENCRYPT && protect != ENG_PROTECT_AUTH)) {
		snprintf(err, err_size, "frame security: unknown cipher %d or protection %d", (int)cipher,
			 (int)protect);
		return -1;
	}
	if (node_id == 0 || node_id > ENG_CRYPTO_NODES_MAX) {
		snprintf(err, err_size, "frame security: node id %u is not 1..%u", node_id, ENG_CRYPTO_NODES_MAX);
		return -1;
	}
	c->cipher = cipher;
	c->protect = protect;
	c->suite = ENG_SUITE(cipher, protect);
	c->ring_id = ring_id;
	c->node_id = node_id;
	c->counter = counter_start > 0 ? counter_start : 1;
	c->counter_first = c->counter;
	c->counter_limit = counter_limit;
	return 0;
}

static void key_clear(struct eng_crypto_key *k)
{
	EVP_MAC_CTX_free(k->mac);
	EVP_CIPHER_CTX_free(k->enc.ctx);
	EVP_CIPHER_CTX_free(k->spare);
	for (unsigned s = 0; s < ENG_CRYPTO_NODES_MAX; s++)
		for (unsigned i = 0; i < ENG_CRYPTO_INCS; i++)
			EVP_CIPHER_CTX_free(k->dec[s][i].ctx);
	memset(k, 0, sizeof(*k));
}

void eng_crypto_free(struct eng_crypto *c)
{
	for (int s = 0; s < ENG_KEY_SLOTS; s++)
		key_clear(&c->key[s]);
}

/* A context for cipher, with no key yet (subkey_init gives it one). */
static EVP_CIPHER_CTX *ctx_new(const EVP_CIPHER *cipher, int enc)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (ctx != NULL && EVP_CipherInit_ex2(ctx, cipher, NULL, NULL, enc, NULL) != 1) {
		EVP_CIPHER_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* k->mac: HMAC-SHA256 keyed with base (HKDF-Expand's PRK). */
static int mac_make(struct eng_crypto_key *k, const uint8_t *base, size_t len)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mac == NULL)
		return -1;
	k->mac = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	OSSL_PARAM p[2] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
			   OSSL_PARAM_construct_end()};
	return k->mac != NULL && EVP_MAC_init(k->mac, base, len, p) == 1 ? 0 : -1;
}

/* Derives k's base secret and IV for c's suite and ring, and makes its
 * contexts (none keyed yet). The base secret lives only inside k->mac, the
 * AEAD keys only inside the cipher contexts. */
static int key_make(const struct eng_crypto *c, const uint8_t *key, size_t len, struct eng_crypto_key *k)
{
	memset(k, 0, sizeof(*k));
	if (eng_crypto_key_id(key, len, &k->fingerprint, &k->epoch) != 0)
		return -1;
	/* domain separation: another suite or ring gets other keys */
	uint8_t info[24] = "ordo frame key";
	size_t n = 14;
	info[n++] = c->suite;
	info[n++] = c->ring_id;
	uint8_t base[32];
	if (hkdf(key, len, info, n, base, sizeof(base)) != 0)
		return -1;
	memcpy(info, "ordo frame iv.", 14);
	int rc = hkdf(key, len, info, n, k->iv, sizeof(k->iv));
	if (rc == 0)
		rc = mac_make(k, base, sizeof(base));
	memset(base, 0, sizeof(base));
	const EVP_CIPHER *cipher = evp_cipher(c->cipher);
	k->enc.ctx = ctx_new(cipher, 1);
	k->spare = ctx_new(cipher, 0);
	rc |= k->enc.ctx == NULL || k->spare == NULL ? -1 : 0;
	for (unsigned s = 0; s < ENG_CRYPTO_NODES_MAX && rc == 0; s++)
		for (unsigned i = 0; i < ENG_CRYPTO_INCS && rc == 0; i++)
			if ((k->dec[s][i].ctx = ctx_new(cipher, 0)) == NULL)
				rc = -1;
	if (rc != 0) {
		key_clear(k);
		return -1;
	}
	k->in_use = 1;
	return 0;
}

/* Keys ctx with (sender, inc)'s AEAD key under k: HKDF-Expand(base,
 * "ordo frame subkey" || u16 sender || u64 inc, 32), big-endian — one
 * HMAC-SHA256 block. Returns 0, or -1 if libcrypto failed. */
static int subkey_init(struct eng_crypto_key *k, EVP_CIPHER_CTX *ctx, uint16_t sender, uint64_t inc, int enc)
{
	static const char label[] = "ordo frame subkey";
	uint8_t info[sizeof(label) - 1 + 2 + 8 + 1], aead[32];
	size_t n = sizeof(label) - 1, out = 0;
	memcpy(info, label, n);
	info[n++] = (uint8_t)(sender >> 8);
	info[n++] = (uint8_t)sender;
	for (int i = 0; i < 8; i++)
		info[n++] = (uint8_t)(inc >> (56 - 8 * i));
	info[n++] = 1; /* HKDF-Expand's block counter: T(1) */
	int ok = EVP_MAC_init(k->mac, NULL, 0, NULL) == 1 && EVP_MAC_update(k->mac, info, n) == 1 &&
		 EVP_MAC_final(k->mac, aead, &out, sizeof(aead)) == 1 && out == sizeof(aead) &&
		 EVP_CipherInit_ex2(ctx, NULL, aead, k->iv, enc, NULL) == 1;
	OPENSSL_cleanse(aead, sizeof(aead));
	return ok ? 0 : -1;
}

int eng_crypto_install(struct eng_crypto *c, const uint8_t *key, size_t len, char *err, size_t err_size)
{
	struct eng_crypto_key k;
	if (key_make(c, key, len, &k) != 0) {
		snprintf(err, err_size, "frame security: libcrypto could not derive the key's contexts");
		return -1;
	}
	struct eng_crypto_key *cur = &c->key[ENG_KEY_CURRENT], *prev = &c->key[ENG_KEY_PREVIOUS],
			      *next = &c->key[ENG_KEY_NEXT];
	if ((cur->in_use && cur->fingerprint == k.fingerprint) ||
	    (next->in_use && next->fingerprint == k.fingerprint)) {
		key_clear(&k);
		return 0;
	}
	if (!cur->in_use) {
		*cur = k;
		return 1;
	}
	if (k.epoch == cur->epoch || (prev->in_use && k.epoch == prev->epoch)) {
		snprintf(err, err_size, "the new key's epoch %04x is that of a key in use (1 in 65536): make another key with ordo-keygen",
			 k.epoch);
		key_clear(&k);
		return -1;
	}
	key_clear(next);
	*next = k;
	return 1;
}

int eng_crypto_activate(struct eng_crypto *c, uint64_t fp)
{
	struct eng_crypto_key *next = &c->key[ENG_KEY_NEXT];
	if (!next->in_use || next->fingerprint != fp)
		return -1;
	key_clear(&c->key[ENG_KEY_PREVIOUS]);
	c->key[ENG_KEY_PREVIOUS] = c->key[ENG_KEY_CURRENT];
	c->key[ENG_KEY_CURRENT] = *next;
	memset(next, 0, sizeof(*next));
	c->st.activations++;
	return 0;
}

void eng_crypto_retire(struct eng_crypto *c)
{
	if (c->key[ENG_KEY_PREVIOUS].in_use)
		c->st.retirements++;
	key_clear(&c->key[ENG_KEY_PREVIOUS]);
}

void eng_crypto_extend(struct eng_crypto *c, uint64_t counter_limit)
{
	if (counter_limit > c->counter_limit)
		c->counter_limit = counter_limit;
}

static void make_nonce(const struct eng_crypto_key *k, uint16_t sender, uint64_t counter, uint8_t nonce[12])
{
	uint8_t x[12] = {(uint8_t)(sender >> 8), (uint8_t)sender, 0, 0};
	for (int i = 0; i < 8; i++)
		x[4 + i] = (uint8_t)(counter >> (56 - 8 * i));
	for (int i = 0; i < 12; i++)
		nonce[i] = k->iv[i] ^ x[i];
}

/* Feeds the AAD: the header with the path byte as 0, then the trailer's
 * first bytes. hdr_size > PATH_OFF. A header of the usual size goes in one
 * call (each EVP call costs tens of ns: a 64-byte frame's budget). */
#define AAD_INLINE 64u
static int feed_aad(EVP_CIPHER_CTX *ctx, const uint8_t *hdr, size_t hdr_size, const uint8_t *trailer)
{
	int n;
	if (hdr_size <= AAD_INLINE) {
		uint8_t aad[AAD_INLINE + TR_AAD];
		memcpy(aad, hdr, hdr_size);
		aad[PATH_OFF] = 0;
		memcpy(aad + hdr_size, trailer, TR_AAD);
		return EVP_CipherUpdate(ctx, NULL, &n, aad, (int)(hdr_size + TR_AAD)) == 1;
	}
	static const uint8_t zero = 0;
	return EVP_CipherUpdate(ctx, NULL, &n, hdr, PATH_OFF) == 1 && EVP_CipherUpdate(ctx, NULL, &n, &zero, 1) == 1 &&
	       EVP_CipherUpdate(ctx, NULL, &n, hdr + PATH_OFF + 1, (int)(hdr_size - PATH_OFF - 1)) == 1 &&
	       EVP_CipherUpdate(ctx, NULL, &n, trailer, TR_AAD) == 1;
}

/* Gets (set = 0) or sets the AEAD tag: the provider's parameter directly,
 * not through EVP_CIPHER_CTX_ctrl's translation into it. */
static int tag_param(EVP_CIPHER_CTX *ctx, uint8_t *tag, int set)
{
	OSSL_PARAM p[2] = {OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, ENG_CRYPTO_TAG_SIZE),
			   OSSL_PARAM_construct_end()};
	return set ? EVP_CIPHER_CTX_set_params(ctx, p) : EVP_CIPHER_CTX_get_params(ctx, p);
}

size_t eng_crypto_seal(struct eng_crypto *c, const uint8_t *frame, size_t len, uint8_t *out)
{
	struct eng_crypto_key *k = &c->key[ENG_KEY_CURRENT];
	if (c->counter >= c->counter_limit)
		return 0;
	size_t hdr_size = len >= ENG_CRYPTO_HDR_MIN ? get16(frame + HDR_SIZE_OFF) : 0;
	if (!k->in_use || len < ENG_CRYPTO_HDR_MIN || len > (size_t)INT32_MAX || hdr_size <= PATH_OFF ||
	    hdr_size > len || get16(frame + SENDER_OFF) != c->node_id) {
		c->st.seal_errors++;
		return 0;
	}
	uint64_t inc = hdr_size >= INC_OFF + 8u ? get64(frame + INC_OFF) : 0;
	if (!k->enc.ready || k->enc.incarnation != inc) {
		k->enc.ready = 0;
		if (subkey_init(k, k->enc.ctx, c->node_id, inc, 1) != 0) {
			c->st.seal_errors++;
			return 0;
		}
		k->enc = (struct eng_crypto_subkey){.incarnation = inc, .ready = 1, .ctx = k->enc.ctx};
	}
	if (inc > c->incarnation)
		c->incarnation = inc;
	uint64_t counter = c->counter++;
	uint8_t *tr = out + len;
	tr[TR_SUITE] = c->suite;
	tr[1] = 0;
	put16(tr + TR_EPOCH, k->epoch);
	put64(tr + TR_COUNTER, counter);
	uint8_t nonce[12];
	make_nonce(k, c->node_id, counter, nonce);
	EVP_CIPHER_CTX *ctx = k->enc.ctx;
	memcpy(out, frame, hdr_size);
	int n, ok = EVP_CipherInit_ex2(ctx, NULL, NULL, nonce, 1, NULL) == 1 && feed_aad(ctx, frame, hdr_size, tr);
	size_t body = len - hdr_size;
	if (ok && body > 0) {
		if (c->protect == ENG_PROTECT_ENCRYPT) {
			ok = EVP_CipherUpdate(ctx, out + hdr_size, &n, frame + hdr_size, (int)body) == 1 &&
			     (size_t)n == body;
		} else {
			ok = EVP_CipherUpdate(ctx, NULL, &n, frame + hdr_size, (int)body) == 1;
			memcpy(out + hdr_size, frame + hdr_size, body);
		}
	}
	ok = ok && EVP_CipherFinal_ex(ctx, out + len, &n) == 1 && n == 0 &&
	     tag_param(ctx, tr + TR_TAG, 0) == 1;
	if (!ok) {
		c->st.seal_errors++;
		return 0;
	}
	c->st.sealed++;
	return len + ENG_CRYPTO_TRAILER_SIZE;
}

static struct eng_crypto_key *key_of(struct eng_crypto *c, uint16_t epoch)
{
	for (int s = 0; s < ENG_KEY_SLOTS; s++)
		if (c->key[s].in_use && c->key[s].epoch == epoch)
			return &c->key[s];
	return NULL;
}

/* 1 if counter was accepted already or is older than the window. */
static int window_seen(const struct eng_crypto_window *w, uint64_t counter)
{
	if (counter > w->top || w->top == 0)
		return 0;
	if (w->top - counter >= ENG_CRYPTO_WINDOW)
		return 1;
	uint64_t b = counter % ENG_CRYPTO_WINDOW;
	return (int)((w->bits[b / 64u] >> (b % 64u)) & 1u);
}

static void window_accept(struct eng_crypto_window *w, uint64_t counter)
{
	if (counter > w->top || w->top == 0) {
		uint64_t d = w->top == 0 ? ENG_CRYPTO_WINDOW : counter - w->top;
		if (d >= ENG_CRYPTO_WINDOW) {
			memset(w->bits, 0, sizeof(w->bits));
		} else {
			for (uint64_t x = w->top + 1u; x <= counter; x++) {
				uint64_t b = x % ENG_CRYPTO_WINDOW;
				w->bits[b / 64u] &= ~(1ull << (b % 64u));
			}
		}
		w->top = counter;
	}
	uint64_t b = counter % ENG_CRYPTO_WINDOW;
	w->bits[b / 64u] |= 1ull << (b % 64u);
}

void eng_crypto_pin(struct eng_crypto *c, uint16_t sender, uint64_t incarnation)
{
	if (sender >= 1 && sender <= ENG_CRYPTO_NODES_MAX)
		c->pinned[sender - 1u] = incarnation;
}

/* The window of (sender, path) for incarnation inc (docs/security.md §4):
 * the one tracking it; else a free one, or the unpinned one (both
 * unpinned: the older incarnation's), with *fresh set — the caller gives it
 * to inc once the frame verified, not before (a forged frame takes
 * nothing). NULL: a replay of an incarnation replaced since (at most the
 * floor, or older than the window it would take) or older than the pin. */
static struct eng_crypto_window *window_of(struct eng_crypto *c, uint16_t sender, uint8_t path, uint64_t inc,
					   int *fresh)
{
	struct eng_crypto_window *w = c->win[sender - 1u][path], *v = NULL;
	uint64_t pin = c->pinned[sender - 1u];
	uint64_t floor = c->floor[sender - 1u][path];
	*fresh = 0;
	if (inc < pin)
		return NULL; /* ring-proto holds a newer one: this one is dead */
	for (unsigned i = 0; i < ENG_CRYPTO_INCS; i++)
		if (w[i].top != 0 && w[i].incarnation == inc)
			return &w[i];
	if (floor != 0 && inc <= floor)
		return NULL;
	for (unsigned i = 0; i < ENG_CRYPTO_INCS && (v == NULL || v->top != 0); i++)
		if (w[i].top == 0 || (w[i].incarnation != pin && (v == NULL || w[i].incarnation < v->incarnation)))
			v = &w[i];
	if (v == NULL || (v->top != 0 && inc < v->incarnation))
		return NULL;
	*fresh = 1;
	return v;
}

/* Gives window v of (sender, path) to incarnation inc: what it tracked
 * becomes a replay for good. */
static void window_take(struct eng_crypto *c, struct eng_crypto_window *v, uint16_t sender, uint8_t path, uint64_t inc)
{
	uint64_t *floor = &c->floor[sender - 1u][path];
	if (v->top != 0 && v->incarnation > *floor)
		*floor = v->incarnation;
	v->incarnation = inc;
	v->top = 0; /* emptied by window_accept */
}

static enum eng_crypto_result drop(struct eng_crypto *c, enum eng_crypto_result r)
{
	c->st.drops[r]++;
	return r;
}

/* The context that opens (sender, inc)'s frames under k: the cached one,
 * else k->spare keyed for it (*miss set; NULL if libcrypto failed). */
static EVP_CIPHER_CTX *subkey_of(struct eng_crypto *c, struct eng_crypto_key *k, uint16_t sender, uint64_t inc,
				 int *miss)
{
	struct eng_crypto_subkey *d = k->dec[sender - 1u];
	*miss = 0;
	for (unsigned i = 0; i < ENG_CRYPTO_INCS; i++)
		if (d[i].ready && d[i].incarnation == inc)
			return d[i].ctx;
	*miss = 1;
	c->st.subkeys++;
	return subkey_init(k, k->spare, sender, inc, 0) == 0 ? k->spare : NULL;
}

/* (sender, inc)'s frame opened in k->spare verified: spare takes the place
 * of an empty entry, else of one not pinned (both not pinned: the older
 * incarnation's), whose context becomes the spare. */
static void subkey_keep(struct eng_crypto *c, struct eng_crypto_key *k, uint16_t sender, uint64_t inc)
{
	struct eng_crypto_subkey *d = k->dec[sender - 1u], *v = NULL;
	uint64_t pin = c->pinned[sender - 1u];
	for (unsigned i = 0; i < ENG_CRYPTO_INCS && (v == NULL || v->ready); i++)
		if (!d[i].ready || (d[i].incarnation != pin && (v == NULL || d[i].incarnation < v->incarnation)))
			v = &d[i];
	if (v == NULL)
		v = &d[0]; /* ENG_CRYPTO_INCS == 1 and pinned: the pin names a dead process */
	EVP_CIPHER_CTX *old = v->ctx;
	*v = (struct eng_crypto_subkey){.incarnation = inc, .ready = 1, .ctx = k->spare};
	k->spare = old;
}

enum eng_crypto_result eng_crypto_open(struct eng_crypto *c, uint8_t *frame, size_t len, uint8_t path,
				       size_t *plain_len)
{
	if (len < ENG_CRYPTO_HDR_MIN + ENG_CRYPTO_TRAILER_SIZE || len > (size_t)INT32_MAX)
		return drop(c, ENG_CRYPTO_DROP_SHORT);
	size_t hdr_size = get16(frame + HDR_SIZE_OFF), frame_size = get32(frame + FRAME_SIZE_OFF);
	if (frame_size != len - ENG_CRYPTO_TRAILER_SIZE || hdr_size <= PATH_OFF || hdr_size > frame_size)
		return drop(c, ENG_CRYPTO_DROP_LENGTH);
	uint16_t sender = get16(frame + SENDER_OFF);
	if (sender == 0 || sender > ENG_CRYPTO_NODES_MAX || path >= ENG_CRYPTO_PATHS_MAX)
		return drop(c, ENG_CRYPTO_DROP_SENDER);
	uint8_t *tr = frame + frame_size;
	if (tr[TR_SUITE] != c->suite)
		return drop(c, ENG_CRYPTO_DROP_SUITE);
	uint16_t epoch = get16(tr + TR_EPOCH);
	struct eng_crypto_key *k = key_of(c, epoch);
	if (k == NULL) {
		c->st.unknown_key_from[sender]++;
		c->st.unknown_epoch_last[sender] = epoch;
		return drop(c, ENG_CRYPTO_DROP_UNKNOWN_KEY);
	}
	uint64_t counter = get64(tr + TR_COUNTER);
	uint8_t type = frame[TYPE_OFF];
	uint64_t inc = hdr_size >= INC_OFF + 8u ? get64(frame + INC_OFF) : 0;
	int fresh = 0;
	struct eng_crypto_window *w = type == RP_FRAME_ID_PROBE || type == RP_FRAME_DUP_NOTICE
					      ? &c->win_start[sender - 1u][path]
					      : window_of(c, sender, path, inc, &fresh);
	/* counters start above 0; a frame this process sealed never comes back
	 * but as a reflection (a node does not receive what it sends); one
	 * with this node's id and a counter it did not seal is a second
	 * process's with this id, for ring-proto's Rule D (security.md §4.1) */
	if (counter == 0 || w == NULL || (!fresh && window_seen(w, counter)) ||
	    (sender == c->node_id && inc <= c->incarnation && counter >= c->counter_first && counter < c->counter))
		return drop(c, ENG_CRYPTO_DROP_REPLAY);
	uint8_t nonce[12];
	make_nonce(k, sender, counter, nonce);
	int miss;
	EVP_CIPHER_CTX *ctx = subkey_of(c, k, sender, inc, &miss);
	size_t body = frame_size - hdr_size;
	int n, ok = ctx != NULL && EVP_CipherInit_ex2(ctx, NULL, NULL, nonce, 0, NULL) == 1 &&
		    feed_aad(ctx, frame, hdr_size, tr);
	if (ok && body > 0) {
		if (c->protect == ENG_PROTECT_ENCRYPT)
			ok = EVP_CipherUpdate(ctx, frame + hdr_size, &n, frame + hdr_size, (int)body) == 1 &&
			     (size_t)n == body;
		else
			ok = EVP_CipherUpdate(ctx, NULL, &n, frame + hdr_size, (int)body) == 1;
	}
	ok = ok && tag_param(ctx, tr + TR_TAG, 1) == 1 &&
	     EVP_CipherFinal_ex(ctx, frame + frame_size, &n) == 1;
	if (!ok) {
		c->st.auth_from[sender]++;
		return drop(c, ENG_CRYPTO_DROP_AUTH);
	}
	if (miss)
		subkey_keep(c, k, sender, inc);
	if (fresh)
		window_take(c, w, sender, path, inc);
	window_accept(w, counter);
	c->st.opened++;
	*plain_len = frame_size;
	return ENG_CRYPTO_OK;
}
