/* eng_keys.c — frame security in the node: the key file, the frame
 * counter's reservation, sealing for the tx path, the rate-limited log of
 * refused frames, key reload, and the live rotation of docs/protocol.md §15
 * (KEY_STATE messages through the total order, activation and retirement
 * at the same point of the order at every node).
 *
 * Owns: struct eng_keys (the keyring, the send buffer, the KEY_STATEs of
 * the current regular configuration).
 *
 * Never: logs per frame (the refusals are summed and logged at most once a
 * second per kind); reads the key file except at start and on a reload
 * request; activates a key that some member of the configuration has not
 * announced; lets a frame counter be used twice (the reservation is
 * persisted before the counters in it are used; a failure stops the node).
 *
 * Thread context: the worker, except eng_key_reload_request (any thread, or
 * a signal handler: one atomic store).
 */
#include "eng_internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "attach_proto.h"

#define KEYS_LOG_NS 1000000000ull /* refusals are logged at most this often */

static void put64le(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64le(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static const char *protect_name(int p) { return p == ENG_PROTECT_AUTH ? "auth" : "encrypt"; }

void eng_key_reload_request(struct eng *e) { atomic_store_explicit(&e->key_reload, 1, memory_order_relaxed); }

int eng_keys_init(struct eng *e, char *err, size_t err_size)
{
	const struct eng_config *cfg = &e->cfg;
	if (cfg->key_file[0] == '\0') {
		ENG_LOG(WARNING, e, "NO FRAME SECURITY: [ring] key_file is not set, so anyone who can put a frame on this ring's networks can forge or change tokens, joins and messages. Make a key with ordo-keygen, copy it to every node and set key_file (docs/security.md); a future release may require it.");
		return 0;
	}
	uint8_t key[ENG_CRYPTO_KEY_MAX];
	int n = eng_crypto_read_key(cfg->key_file, key, sizeof(key), err, err_size);
	if (n < 0)
		return -1;
	struct eng_keys *k = calloc(1, sizeof(*k));
	if (k != NULL)
		k->sealed = malloc(cfg->rp.frame_size_max + ENG_CRYPTO_TRAILER_SIZE + 64u);
	if (k == NULL || k->sealed == NULL) {
		snprintf(err, err_size, "out of memory for frame security");
		free(k);
		memset(key, 0, sizeof(key));
		return -1;
	}
	uint64_t start, limit;
	int rc = eng_state_counter_start(cfg, ENG_CRYPTO_COUNTER_PER_US, ENG_CRYPTO_RESERVE, &start, &limit, err,
					 err_size);
	if (rc == 0)
		rc = eng_crypto_init(&k->c, (enum eng_cipher)cfg->cipher, (enum eng_protect)cfg->protect, cfg->ring_id,
				     cfg->rp.node_id, start, limit, err, err_size);
	if (rc == 0 && eng_crypto_install(&k->c, key, (size_t)n, err, err_size) != 1)
		rc = -1;
	memset(key, 0, sizeof(key));
	if (rc != 0) {
		eng_crypto_free(&k->c);
		free(k->sealed);
		free(k);
		return -1;
	}
	e->keys = k;
	const struct eng_crypto_key *cur = &k->c.key[ENG_KEY_CURRENT];
	ENG_LOG(NOTICE, e, "frame security: %s, %s, key %s (fingerprint %016llx, epoch %04x); frames of up to %u bytes and a %u-byte trailer",
		eng_cipher_name(k->c.cipher), protect_name(k->c.protect), cfg->key_file,
		(unsigned long long)cur->fingerprint, cur->epoch, cfg->rp.frame_size_max, ENG_CRYPTO_TRAILER_SIZE);
	return 0;
}

void eng_keys_free(struct eng *e)
{
	struct eng_keys *k = e->keys;
	if (k == NULL)
		return;
	ENG_LOG(NOTICE, e, "frame security: sealed %llu frames, opened %llu, refused %llu (bad tag %llu, unknown key %llu, replay %llu, suite %llu), %llu key activations",
		(unsigned long long)k->c.st.sealed, (unsigned long long)k->c.st.opened,
		(unsigned long long)(k->c.st.drops[ENG_CRYPTO_DROP_SHORT] + k->c.st.drops[ENG_CRYPTO_DROP_LENGTH] +
				     k->c.st.drops[ENG_CRYPTO_DROP_SENDER] + k->c.st.drops[ENG_CRYPTO_DROP_SUITE] +
				     k->c.st.drops[ENG_CRYPTO_DROP_UNKNOWN_KEY] + k->c.st.drops[ENG_CRYPTO_DROP_REPLAY] +
				     k->c.st.drops[ENG_CRYPTO_DROP_AUTH]),
		(unsigned long long)k->c.st.drops[ENG_CRYPTO_DROP_AUTH],
		(unsigned long long)k->c.st.drops[ENG_CRYPTO_DROP_UNKNOWN_KEY],
		(unsigned long long)k->c.st.drops[ENG_CRYPTO_DROP_REPLAY],
		(unsigned long long)k->c.st.drops[ENG_CRYPTO_DROP_SUITE], (unsigned long long)k->c.st.activations);
	eng_crypto_free(&k->c);
	free(k->sealed);
	free(k);
	e->keys = NULL;
}

size_t eng_keys_seal(struct eng *e, const uint8_t *frame, size_t len)
{
	struct eng_keys *k = e->keys;
	size_t n = eng_crypto_seal(&k->c, frame, len, k->sealed);
	if (n == 0 && k->c.counter >= k->c.counter_limit) {
		/* rare (every 2^36 frames): persist the next reservation first */
		uint64_t limit = k->c.counter_limit + ENG_CRYPTO_RESERVE;
		int rc = limit < k->c.counter_limit ? -ERANGE : eng_state_counter_reserve(&e->cfg, limit);
		if (rc != 0) {
			ENG_LOG(ERR, e, "cannot reserve more frame counters in %s: %s; stopping (a counter must never repeat under one key)",
				e->cfg.state_dir, strerror(-rc));
			e->fatal = 1;
			return 0;
		}
		eng_crypto_extend(&k->c, limit);
		n = eng_crypto_seal(&k->c, frame, len, k->sealed);
	}
	return n;
}

/* Queues this node's KEY_STATE for the total order. */
static void announce(struct eng *e)
{
	const struct eng_crypto *c = &e->keys->c;
	uint8_t b[ATT_KEY_SIZE] = {0};
	uint16_t me = e->cfg.rp.node_id;
	b[0] = ATT_ENV_KEY;
	b[1] = ATT_KEY_STATE;
	b[2] = (uint8_t)me;
	b[3] = (uint8_t)(me >> 8);
	put64le(b + 8, c->key[ENG_KEY_CURRENT].fingerprint);
	put64le(b + 16, c->key[ENG_KEY_NEXT].in_use ? c->key[ENG_KEY_NEXT].fingerprint : 0);
	(void)eng_clients_queue_op(e, b, ATT_KEY_SIZE);
}

/* Members of the configuration whose KEY_STATE does not show fp (as
 * current, or also as next if as_next). */
static uint64_t missing(const struct eng_keys *k, uint64_t fp, int as_next)
{
	uint64_t miss = 0;
	for (uint16_t id = 1; id <= RP_NODES_MAX; id++) {
		uint64_t bit = 1ull << (id - 1u);
		if (!(k->members & bit))
			continue;
		const struct eng_key_have *h = &k->have[id];
		if (!h->known || (h->current != fp && (!as_next || h->next != fp)))
			miss |= bit;
	}
	return miss;
}

static void list_nodes(uint64_t set, char *out, size_t size)
{
	size_t n = 0;
	out[0] = '\0';
	for (uint16_t id = 1; id <= RP_NODES_MAX && n + 5 < size; id++)
		if (set & (1ull << (id - 1u)))
			n += (size_t)snprintf(out + n, size - n, "%s%u", n ? "," : "", id);
}

/* After each KEY_STATE delivered in a regular configuration: activate the
 * next key when every member holds it; retire the previous one when every
 * member sends with the current one (docs/protocol.md §15.3–15.4). */
static void evaluate(struct eng *e, uint16_t origin)
{
	struct eng_keys *k = e->keys;
	struct eng_crypto *c = &k->c;
	const struct eng_crypto_key *next = &c->key[ENG_KEY_NEXT];
	if (next->in_use) {
		uint64_t fp = next->fingerprint, miss = missing(k, fp, 1);
		if (miss == 0) {
			uint16_t epoch = next->epoch;
			(void)eng_crypto_activate(c, fp);
			ENG_LOG(NOTICE, e, "key %016llx (epoch %04x) is current from here on: every member of ring %u:%llu holds it (activated at node %u's KEY_STATE); the previous key is kept until every member has switched",
				(unsigned long long)fp, epoch, e->ring.rep, (unsigned long long)e->ring.seq, origin);
			k->waiting_fp = 0;
			announce(e);
		} else if (fp != k->waiting_fp || miss != k->waiting_missing) {
			char list[RP_NODES_MAX * 4];
			list_nodes(miss, list, sizeof(list));
			ENG_LOG(NOTICE, e, "key %016llx installed here; waiting for node(s) %s to install it before it is used",
				(unsigned long long)fp, list);
			k->waiting_fp = fp;
			k->waiting_missing = miss;
		}
	}
	const struct eng_crypto_key *prev = &c->key[ENG_KEY_PREVIOUS];
	if (prev->in_use && missing(k, c->key[ENG_KEY_CURRENT].fingerprint, 0) == 0) {
		uint64_t old = prev->fingerprint;
		eng_crypto_retire(c);
		ENG_LOG(NOTICE, e, "previous key %016llx retired: every member of ring %u:%llu sends with %016llx",
			(unsigned long long)old, e->ring.rep, (unsigned long long)e->ring.seq,
			(unsigned long long)c->key[ENG_KEY_CURRENT].fingerprint);
	}
}

void eng_keys_on_op(struct eng *e, uint16_t origin, const uint8_t *b, uint32_t size)
{
	uint16_t node = (uint16_t)(b[2] | (b[3] << 8));
	if (size != ATT_KEY_SIZE || b[1] != ATT_KEY_STATE || node != origin || origin == 0 || origin > RP_NODES_MAX) {
		e->cnt.client_bad_envelopes++; /* at every node alike */
		return;
	}
	struct eng_keys *k = e->keys;
	if (k == NULL || !k->regular || !(k->members & (1ull << (origin - 1u))))
		return;
	k->have[origin] = (struct eng_key_have){.known = 1, .current = get64le(b + 8), .next = get64le(b + 16)};
	evaluate(e, origin);
}

/* Pins, for every other node, the incarnation ring-proto holds: its replay
 * windows are never given to another incarnation's frames (a second
 * process with its id: docs/security.md §4). */
static void pin_incarnations(struct eng *e)
{
	struct rp_peer_info pi;
	for (uint16_t id = 1; id <= RP_NODES_MAX; id++)
		if (id != e->cfg.rp.node_id && rp_node_peer(e->rp, id, &pi) == 0)
			eng_crypto_pin(&e->keys->c, id, pi.incarnation);
}

void eng_keys_on_config(struct eng *e, const struct rp_configuration *c)
{
	struct eng_keys *k = e->keys;
	if (k == NULL)
		return;
	if (c->kind == RP_CONFIG_TRANSITIONAL) {
		k->regular = 0;
		return;
	}
	pin_incarnations(e);
	k->regular = 1;
	k->members = 0;
	for (uint16_t i = 0; i < c->member_count; i++)
		k->members |= 1ull << (c->members[i] - 1u);
	memset(k->have, 0, sizeof(k->have));
	k->waiting_missing = 0;
	announce(e);
}

/* Ends a reload: what it did, for the log and for the operator who asked
 * (ordoctl key reload waits for key_reloads_done to move). */
static void reload_done(struct eng *e, int rc)
{
	struct eng_key_reload_result *r = &e->key_reload_result;
	r->rc = rc;
	if (e->keys == NULL)
		ENG_LOG(WARNING, e, "key reload asked, but %s", r->what);
	else if (rc < 0)
		ENG_LOG(ERR, e, "key reload: %s", r->what);
	else
		ENG_LOG(NOTICE, e, "key reload: %s", r->what);
	atomic_fetch_add_explicit(&e->key_reloads_done, 1u, memory_order_release);
}

static void reload(struct eng *e)
{
	struct eng_keys *k = e->keys;
	char *what = e->key_reload_result.what;
	size_t size = sizeof(e->key_reload_result.what);
	if (k == NULL) {
		snprintf(what, size, "frame security is off ([ring] key_file is not set): turning it on takes a restart of every node");
		reload_done(e, -1);
		return;
	}
	uint8_t key[ENG_CRYPTO_KEY_MAX];
	char err[256];
	int n = eng_crypto_read_key(e->cfg.key_file, key, sizeof(key), err, sizeof(err));
	int rc = n < 0 ? -1 : eng_crypto_install(&k->c, key, (size_t)n, err, sizeof(err));
	memset(key, 0, sizeof(key));
	const struct eng_crypto_key *next = &k->c.key[ENG_KEY_NEXT];
	if (rc < 0)
		snprintf(what, size, "%s; keys unchanged", err);
	else if (rc == 0)
		snprintf(what, size, "nothing reloaded: %.256s holds the current or the next key already", e->cfg.key_file);
	else
		snprintf(what, size, "installed key %016llx (epoch %04x) as the next key; it becomes current when every member holds it",
			 (unsigned long long)next->fingerprint, next->epoch);
	reload_done(e, rc);
	if (rc == 1) {
		k->waiting_fp = 0;
		announce(e);
	}
}

/* Logs what was refused since the last log, by sender where it says who. */
static void log_refusals(struct eng *e)
{
	struct eng_keys *k = e->keys;
	const struct eng_crypto_stats *st = &k->c.st;
	const struct eng_crypto *c = &k->c;
	for (uint16_t id = 1; id <= RP_NODES_MAX; id++) {
		uint64_t bad = st->auth_from[id] - k->logged_auth[id];
		uint64_t unknown = st->unknown_key_from[id] - k->logged_unknown[id];
		if (bad != 0)
			ENG_LOG(WARNING, e, "%llu frame(s) claiming to come from node %u failed authentication (bad tag): forged or corrupted, or sealed with another key of the same epoch",
				(unsigned long long)bad, id);
		if (unknown != 0)
			ENG_LOG(WARNING, e, "%llu frame(s) from node %u were refused: sealed with key epoch %04x, which this node does not hold (current %04x%s): node %u has another key — give every node the same key file (ordo-keygen --show prints its fingerprint: here %016llx)",
				(unsigned long long)unknown, id, st->unknown_epoch_last[id], c->key[ENG_KEY_CURRENT].epoch,
				c->key[ENG_KEY_NEXT].in_use ? ", and a next key" : "", id,
				(unsigned long long)c->key[ENG_KEY_CURRENT].fingerprint);
		k->logged_auth[id] = st->auth_from[id];
		k->logged_unknown[id] = st->unknown_key_from[id];
	}
	uint64_t suite = st->drops[ENG_CRYPTO_DROP_SUITE] - k->logged_suite;
	if (suite != 0)
		ENG_LOG(WARNING, e, "%llu frame(s) were refused: sealed with another cipher or protection than this node's (%s, %s) — every node must set the same [ring] cipher and crypto, and run a build with keys per incarnation (docs/security.md §3.1)",
			(unsigned long long)suite, eng_cipher_name(c->cipher), protect_name(c->protect));
	uint64_t replay = st->drops[ENG_CRYPTO_DROP_REPLAY] - k->logged_replay;
	if (replay != 0)
		ENG_LOG(WARNING, e, "%llu frame(s) were refused as replays (a counter seen before, or older than the last %u)",
			(unsigned long long)replay, ENG_CRYPTO_WINDOW);
	uint64_t malformed = st->drops[ENG_CRYPTO_DROP_SHORT] + st->drops[ENG_CRYPTO_DROP_LENGTH] +
			     st->drops[ENG_CRYPTO_DROP_SENDER];
	if (malformed != k->logged_malformed)
		ENG_LOG(WARNING, e, "%llu frame(s) were refused: no valid security trailer (too short, sizes that disagree, or a sender id out of range) — a node without [ring] key_file, or garbage",
			(unsigned long long)(malformed - k->logged_malformed));
	k->logged_suite = st->drops[ENG_CRYPTO_DROP_SUITE];
	k->logged_replay = st->drops[ENG_CRYPTO_DROP_REPLAY];
	k->logged_malformed = malformed;
}

uint32_t eng_keys_poll(struct eng *e)
{
	uint32_t work = 0;
	if (atomic_load_explicit(&e->key_reload, memory_order_relaxed) != 0 &&
	    atomic_exchange_explicit(&e->key_reload, 0, memory_order_relaxed) != 0) {
		reload(e);
		work++;
	}
	if (e->keys != NULL && e->now_ns >= e->keys->next_log_ns) {
		pin_incarnations(e); /* a restart adopted between configurations */
		log_refusals(e);
		e->keys->next_log_ns = e->now_ns + KEYS_LOG_NS;
	}
	return work;
}
