/* sim_crypto.c — frame security in the simulator (contract in
 * sim_crypto.h).
 *
 * The nodes seal and open with engine/eng_crypto.c, one keyring per node
 * index (kept across a node's restarts: its counter goes on growing, as
 * the reservation in the state directory makes it do in ordod). The
 * attacker sees every copy on the wire (the simulator's filter hook) and,
 * by the run's seeded PRNG, injects one of: a copy seen earlier (replay,
 * possibly on another path or to another node), the copy with one byte
 * changed (tamper), or the sender's frame sealed again with a key the ring
 * does not have (wrong key).
 *
 * Never: changes the simulated network's behaviour for frames it does not
 * inject; accepts a check's failure silently (sim_violation).
 */
#include "sim_crypto.h"

#include <stdlib.h>
#include <string.h>

#include "sim_internal.h"

#define CAPTURE_MAX 512u
#define ATTACK_SLOTS 65536u /* hashes of tampered and wrong-key frames, by hash (a later one may
			     * take an earlier one's slot: that frame is then not checked) */

struct seen { /* counters of one sender that opened at one receiver on one path */
	uint64_t base;
	uint64_t *bits;
	uint64_t words;
};

struct sender {
	uint64_t base;        /* the first counter it sealed */
	uint64_t *hash;       /* hash of the frame sealed under base + i */
	uint64_t count, cap;
	uint8_t *last;        /* the last frame it sealed, in clear */
	uint32_t last_size;
};

struct sim_crypto {
	struct sim_crypto_opts co;
	uint32_t nodes;
	struct eng_crypto node[SIM_NODES_MAX];
	struct eng_crypto wrong[SIM_NODES_MAX]; /* the attacker's: another key, each node's id */
	struct sender snd[SIM_NODES_MAX];
	struct seen seen[SIM_NODES_MAX][SIM_NODES_MAX][RP_PATHS_MAX];
	uint8_t *cap[CAPTURE_MAX];
	uint32_t cap_size[CAPTURE_MAX];
	uint32_t cap_count, cap_next;
	uint64_t attack_hash[ATTACK_SLOTS];
	sim_filter_fn inner;
	void *inner_arg;
	struct sim_crypto_stats st;
};

static uint64_t frame_hash(const uint8_t *p, uint32_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (uint32_t i = 0; i < n; i++) {
		h ^= i == 14 ? 0 : p[i]; /* the path byte: stamped per copy */
		h *= 0x100000001b3ull;
	}
	return h ^ n;
}

static uint32_t wire_seal(struct sim *s, void *arg, uint32_t from, const uint8_t *frame, uint32_t size,
			  uint8_t *out)
{
	struct sim_crypto *c = arg;
	struct sender *sd = &c->snd[from];
	uint64_t counter = c->node[from].counter;
	size_t n = eng_crypto_seal(&c->node[from], frame, size, out);
	if (n == 0) {
		sim_violation(s, "crypto", "n%u could not seal a %u-byte frame (seal errors %llu)", from + 1u, size,
			      (unsigned long long)c->node[from].st.seal_errors);
		return 0;
	}
	if (sd->count == 0)
		sd->base = counter;
	if (counter - sd->base != sd->count)
		sim_violation(s, "crypto", "n%u's counters are not consecutive", from + 1u);
	SIM_GROW(sd->hash, sd->cap, sd->count, 4096u);
	sd->hash[sd->count++] = frame_hash(frame, size);
	if (size > sd->last_size || sd->last == NULL) {
		free(sd->last);
		sd->last = malloc(size);
		if (!sd->last)
			abort();
	}
	memcpy(sd->last, frame, size);
	sd->last_size = size;
	c->st.sealed++;
	return (uint32_t)n;
}

/* Marks (sender, counter) opened at `to` on path; false if it was already. */
static bool seen_once(struct sim_crypto *c, uint32_t to, uint32_t sender, uint8_t path, uint64_t counter)
{
	struct seen *sn = &c->seen[to][sender][path];
	uint64_t base = c->snd[sender].base;
	if (counter < base)
		return false;
	uint64_t i = counter - base, w = i / 64u;
	if (w >= sn->words) {
		uint64_t words = w * 2u + 64u;
		sn->bits = realloc(sn->bits, words * sizeof(*sn->bits));
		if (!sn->bits)
			abort();
		memset(sn->bits + sn->words, 0, (words - sn->words) * sizeof(*sn->bits));
		sn->words = words;
	}
	uint64_t bit = 1ull << (i % 64u);
	if (sn->bits[w] & bit)
		return false;
	sn->bits[w] |= bit;
	return true;
}

static bool is_attack(const struct sim_crypto *c, uint64_t h)
{
	return h != 0 && c->attack_hash[h % ATTACK_SLOTS] == h;
}

static uint32_t wire_open(struct sim *s, void *arg, uint32_t to, uint8_t path, uint8_t *data, uint32_t size)
{
	struct sim_crypto *c = arg;
	uint64_t h = c->co.attack > 0 ? frame_hash(data, size) : 0;
	size_t plain = 0;
	enum eng_crypto_result r = eng_crypto_open(&c->node[to], data, size, path, &plain);
	bool attack = c->co.attack > 0 && is_attack(c, h);
	if (r != ENG_CRYPTO_OK && c->co.mutate_accept_forged &&
	    (r == ENG_CRYPTO_DROP_AUTH || r == ENG_CRYPTO_DROP_UNKNOWN_KEY)) {
		r = ENG_CRYPTO_OK; /* the mutant */
		plain = size - ENG_CRYPTO_TRAILER_SIZE;
	}
	if (r != ENG_CRYPTO_OK) {
		c->st.refused[r]++;
		c->st.attacks_refused += attack;
		return 0;
	}
	if (attack)
		sim_violation(s, "crypto", "n%u accepted a tampered or wrong-key frame on path %u", to + 1u, path);
	uint32_t sender = (uint32_t)(data[12] | (data[13] << 8)) - 1u;
	uint64_t counter = 0;
	for (int i = 7; i >= 0; i--)
		counter = (counter << 8) | data[plain + 4u + (size_t)i];
	const struct sender *sd = sender < c->nodes ? &c->snd[sender] : NULL;
	if (sd == NULL || counter < sd->base || counter - sd->base >= sd->count ||
	    sd->hash[counter - sd->base] != frame_hash(data, (uint32_t)plain)) {
		sim_violation(s, "crypto", "n%u opened a frame (sender %u, counter %llu) that is not what its sender sealed",
			      to + 1u, sender + 1u, (unsigned long long)counter);
		return 0;
	}
	if (!seen_once(c, to, sender, path, counter))
		sim_violation(s, "crypto", "n%u opened frame %llu of n%u twice on path %u", to + 1u,
			      (unsigned long long)counter, sender + 1u, path);
	c->st.opened++;
	return (uint32_t)plain;
}

static void remember_attack(struct sim_crypto *c, const uint8_t *f, uint32_t n)
{
	uint64_t h = frame_hash(f, n);
	c->attack_hash[h % ATTACK_SLOTS] = h;
}

/* The attacker: sees every copy, sometimes injects one of its own. */
static bool attacker(struct sim *s, void *arg, uint32_t from, uint32_t to, uint8_t path, const uint8_t *frame,
		     uint32_t size)
{
	struct sim_crypto *c = arg;
	if (c->inner && c->inner(s, c->inner_arg, from, to, path, frame, size))
		return true;
	/* keep a copy (its path byte as sent) for later replays */
	uint32_t k = c->cap_next;
	c->cap[k] = realloc(c->cap[k], size);
	if (!c->cap[k])
		abort();
	memcpy(c->cap[k], frame, size);
	rp_wire_set_path(c->cap[k], path);
	c->cap_size[k] = size;
	c->cap_next = (k + 1u) % CAPTURE_MAX;
	if (c->cap_count < CAPTURE_MAX)
		c->cap_count++;
	if (!sim_chance(s, c->co.attack))
		return false;
	uint64_t delay = sim_rand_range(s, 0, 2000000);
	uint8_t *buf = malloc(size + ENG_CRYPTO_TRAILER_SIZE + 64u);
	if (!buf)
		abort();
	switch (sim_rand(s) % 3u) {
	case 0: { /* replay an earlier copy, to this receiver, on any path */
		uint32_t i = (uint32_t)sim_rand_range(s, 0, c->cap_count - 1u);
		uint8_t p = (uint8_t)sim_rand_range(s, 0, s->opts.paths - 1u);
		sim_inject(s, from, to, p, c->cap[i], c->cap_size[i], delay);
		c->st.injected_replay++;
		break;
	}
	case 1: { /* this copy with one byte changed (never the path byte) */
		memcpy(buf, frame, size);
		uint32_t at = (uint32_t)sim_rand_range(s, 0, size - 2u);
		at += at >= RP_HDR_PATH_INDEX;
		buf[at] ^= (uint8_t)sim_rand_range(s, 1, 255);
		rp_wire_set_path(buf, path);
		remember_attack(c, buf, size);
		sim_inject(s, from, to, path, buf, size, delay);
		c->st.injected_tamper++;
		break;
	}
	default: { /* the sender's last frame sealed with a key the ring does not have */
		const struct sender *sd = &c->snd[from];
		size_t n = sd->last ? eng_crypto_seal(&c->wrong[from], sd->last, sd->last_size, buf) : 0;
		if (n == 0)
			break;
		rp_wire_set_path(buf, path);
		remember_attack(c, buf, (uint32_t)n);
		sim_inject(s, from, to, path, buf, (uint32_t)n, delay);
		c->st.injected_wrong_key++;
		break;
	}
	}
	free(buf);
	return false;
}

struct sim_crypto *sim_crypto_attach(struct sim_opts *o, const struct sim_crypto_opts *co)
{
	if (o->nodes == 0 || o->nodes > SIM_NODES_MAX || o->nodes > ENG_CRYPTO_NODES_MAX)
		return NULL;
	struct sim_crypto *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->co = *co;
	c->nodes = o->nodes;
	uint8_t key[64], other[64];
	for (int i = 0; i < 64; i++) {
		key[i] = (uint8_t)(o->seed * 131u + (uint64_t)i * 7u);
		other[i] = (uint8_t)(key[i] ^ 0x5a);
	}
	char err[256];
	for (uint32_t i = 0; i < o->nodes; i++) {
		/* counters start apart per node, as incarnations would make them */
		uint64_t start = (uint64_t)(i + 1u) << 40;
		if (eng_crypto_init(&c->node[i], co->cipher, co->protect, 1, (uint16_t)(i + 1u), start, UINT64_MAX, err,
				    sizeof(err)) != 0 ||
		    eng_crypto_install(&c->node[i], key, sizeof(key), err, sizeof(err)) != 1 ||
		    eng_crypto_init(&c->wrong[i], co->cipher, co->protect, 1, (uint16_t)(i + 1u), start, UINT64_MAX,
				    err, sizeof(err)) != 0 ||
		    eng_crypto_install(&c->wrong[i], other, sizeof(other), err, sizeof(err)) != 1) {
			fprintf(stderr, "ordo-sim: %s\n", err);
			sim_crypto_free(c);
			return NULL;
		}
	}
	o->wire_seal = wire_seal;
	o->wire_open = wire_open;
	o->wire_arg = c;
	if (co->attack > 0) {
		c->inner = o->filter;
		c->inner_arg = o->filter_arg;
		o->filter = attacker;
		o->filter_arg = c;
	}
	return c;
}

void sim_crypto_stats(const struct sim_crypto *c, struct sim_crypto_stats *out) { *out = c->st; }

void sim_crypto_free(struct sim_crypto *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; i < SIM_NODES_MAX; i++) {
		eng_crypto_free(&c->node[i]);
		eng_crypto_free(&c->wrong[i]);
		free(c->snd[i].hash);
		free(c->snd[i].last);
		for (uint32_t j = 0; j < SIM_NODES_MAX; j++)
			for (uint32_t p = 0; p < RP_PATHS_MAX; p++)
				free(c->seen[i][j][p].bits);
	}
	for (uint32_t i = 0; i < CAPTURE_MAX; i++)
		free(c->cap[i]);
	free(c);
}
