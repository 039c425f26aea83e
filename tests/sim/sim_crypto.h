/* sim_crypto.h — frame security in the simulator (docs/security.md): every
 * frame a node sends is sealed by engine/eng_crypto.c and every copy that
 * arrives is opened by it before ring-proto sees it, as ordod does; an
 * attacker on the network injects replayed, tampered and wrong-key frames.
 *
 * Owns: the nodes' keyrings, the attacker, and four checks on top of the
 * simulator's own (sim_violation, property "crypto"):
 *   integrity   every frame that opens is byte for byte the frame its sender
 *               sealed under that (sender, counter);
 *   once        a (sender, counter) opens at most once per receiver and path;
 *   forgery     a tampered or wrong-key frame never opens;
 *   counted     every refusal has a reason (eng_crypto's counters).
 *
 * Thread context: the simulator's (single) thread.
 */
#ifndef SIM_CRYPTO_H
#define SIM_CRYPTO_H

#include <stdint.h>
#include <stdio.h>

#include "eng_crypto.h"
#include "sim.h"

struct sim_crypto;

struct sim_crypto_opts {
	enum eng_cipher cipher;
	enum eng_protect protect;
	double attack; /* chance, per frame copy on the wire, that the attacker injects one */
	bool mutate_accept_forged; /* a deliberately broken receiver (the checks must catch it):
				    * a frame refused for its tag or key is passed on anyway */
};

struct sim_crypto_stats {
	uint64_t sealed, opened;
	uint64_t refused[ENG_CRYPTO_DROP_COUNT];
	uint64_t injected_replay, injected_tamper, injected_wrong_key;
	uint64_t attacks_refused;  /* tampered and wrong-key frames that reached a node */
};

/* Makes the crypto state for o's nodes and hooks it into o (wire_seal,
 * wire_open, and the filter, which the attacker chains in front of any
 * filter o has). NULL if o has more than ENG_CRYPTO_NODES_MAX nodes or
 * libcrypto fails. Free it after sim_destroy. */
struct sim_crypto *sim_crypto_attach(struct sim_opts *o, const struct sim_crypto_opts *co);
void sim_crypto_stats(const struct sim_crypto *c, struct sim_crypto_stats *out);
void sim_crypto_free(struct sim_crypto *c);

#endif
