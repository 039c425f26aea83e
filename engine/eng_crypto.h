/* eng_crypto.h — frame security: every frame between pmd-glue and ring-proto
 * authenticated, and encrypted unless the operator asks for authentication
 * only, with an AEAD from OpenSSL's EVP interface (docs/security.md;
 * DESIGN.md §5–6).
 *
 * Owns: the security trailer's byte layout, key derivation (HKDF-SHA256 from
 * the cluster key file), the keyring of one node (current, previous and next
 * key, each with its cipher contexts), the node's frame counter, the replay
 * windows, and the drop counters by reason.
 *
 * Never: writes cipher code (EVP does every byte of it); hands a caller
 * bytes that did not authenticate; updates a replay window or the cache of
 * derived keys before the tag has verified; reuses a (key, nonce) pair:
 * every (sender, incarnation) seals with a key of its own, derived from the
 * cluster key and the incarnation in the frame's header, so two processes
 * with one node id never share a key unless they share an incarnation
 * (docs/security.md §3), and within one the nonce is a per-node salt XOR
 * this node's id and a 64-bit counter that only grows, starting above
 * everything an earlier start of the node used (the caller gives it the
 * start and a persisted reservation, eng_state.c); allocates or logs per
 * frame. libc and libcrypto only: no DPDK, so unit tests, the simulator,
 * benchmarks and fuzz targets use it as it is.
 *
 * Wire (docs/security.md §2): a sealed frame is the ring-proto frame, its
 * header in clear and its body encrypted (or in clear with `auth`), then a
 * trailer of ENG_CRYPTO_TRAILER_SIZE bytes:
 *    0 u8  suite (ENG_SUITE_*: cipher and protection)
 *    1 u8  reserved (0)
 *    2 u16 key epoch (the key's 16-bit id, little-endian)
 *    4 u64 counter (the sender's frame counter, little-endian)
 *   12 16-byte AEAD tag
 * AAD = the ring-proto header (hdr_size bytes, the path index byte 14 read as
 * 0: the transport stamps it per copy) followed by trailer bytes 0..11.
 * AEAD key = HKDF-Expand(the key's base secret, "ordo frame subkey" || u16
 * sender || u64 incarnation (the header's; 0 in a header too short for
 * it), big-endian), one per (sender, incarnation): suite bit 0x80.
 * Nonce (12 bytes) = IV XOR (u16 sender id, u16 0, u64 counter), big-endian.
 *
 * Thread context: a struct eng_crypto belongs to one thread (the worker); a
 * second core would have its own (its own contexts, counter range and node
 * id namespace is then needed: not supported yet).
 */
#ifndef ENG_CRYPTO_H
#define ENG_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define ENG_CRYPTO_TRAILER_SIZE 28u
#define ENG_CRYPTO_TAG_SIZE 16u
#define ENG_CRYPTO_KEY_MIN 32u     /* bytes of a key file, at least ... */
#define ENG_CRYPTO_KEY_MAX 1024u   /* ... and at most */
#define ENG_CRYPTO_KEYGEN_SIZE 64u /* what ordo-keygen writes */
#define ENG_CRYPTO_NODES_MAX 64u
#define ENG_CRYPTO_PATHS_MAX 4u
#define ENG_CRYPTO_WINDOW 1024u    /* replay window per (sender, path), in frames */
/* Frame counters per microsecond of incarnation: a start's counters begin
 * at incarnation (microseconds of wall clock) * this (docs/security.md §3). */
#define ENG_CRYPTO_COUNTER_PER_US 1024u
/* Random bits of a start's incarnation (eng_crypto_incarnation): about a
 * second of microseconds, less than a restart takes. */
#define ENG_CRYPTO_INC_RANDOM_BITS 20u
/* Counters reserved (persisted) ahead of use. */
#define ENG_CRYPTO_RESERVE (1ull << 36)

/* The smallest frame open() looks at: the ring-proto fields it reads
 * (hdr_size, frame_size, sender, path) and a trailer. */
#define ENG_CRYPTO_HDR_MIN 16u

enum eng_cipher {
	ENG_CIPHER_AES256_GCM = 1,
	ENG_CIPHER_CHACHA20_POLY1305 = 2,
};

enum eng_protect {
	ENG_PROTECT_ENCRYPT = 1, /* body encrypted and authenticated */
	ENG_PROTECT_AUTH = 2,    /* body in clear, authenticated */
};

/* Suite byte: protection in bits 4..6, cipher in the low nibble, and bit 7
 * set: the AEAD key is per (sender, incarnation). Builds before it sealed
 * every frame with one key per cluster key and set no bit 7: the two refuse
 * each other's frames (auth_suite; docs/security.md §3.1). */
#define ENG_SUITE_PER_INCARNATION 0x80u
#define ENG_SUITE(cipher, protect)                                                                     \
	((uint8_t)(ENG_SUITE_PER_INCARNATION | ((unsigned)(protect) << 4) | (unsigned)(cipher)))

/* Why a received frame was dropped before ring-proto saw it, once:
 * _(enum, telemetry name). Every drop is harmful (eng_counters.c). */
#define foreach_eng_crypto_result(_)                                                                   \
	_(OK, "ok")                                                                                   \
	_(DROP_SHORT, "auth_short")             /* fewer bytes than the fields read and a trailer */ \
	_(DROP_LENGTH, "auth_length")           /* frame_size or hdr_size disagree with the bytes received */ \
	_(DROP_SENDER, "auth_sender")           /* sender id outside 1..64: no window, no nonce */  \
	_(DROP_SUITE, "auth_suite")             /* another cipher or protection (a node configured otherwise) */ \
	_(DROP_UNKNOWN_KEY, "auth_unknown_key") /* a key epoch this node has not installed */       \
	_(DROP_REPLAY, "auth_replay")           /* a counter already seen or older than its incarnation's \
						 * window, an incarnation replaced since or older than the \
						 * pinned one, or a frame this process sealed, reflected */ \
	_(DROP_AUTH, "auth_bad_tag")            /* the tag does not verify: forged, corrupted, or a wrong key */

enum eng_crypto_result {
#define ENG_CRYPTO_ENUM_(e, name) ENG_CRYPTO_##e,
	foreach_eng_crypto_result(ENG_CRYPTO_ENUM_)
#undef ENG_CRYPTO_ENUM_
	ENG_CRYPTO_DROP_COUNT
};

const char *eng_crypto_drop_name(enum eng_crypto_result r);

/* Key slots of the keyring (docs/security.md §4). */
enum eng_key_slot {
	ENG_KEY_CURRENT = 0, /* sends, and receives */
	ENG_KEY_PREVIOUS,    /* receives only, until retired */
	ENG_KEY_NEXT,        /* installed, receives only, until activated */
	ENG_KEY_SLOTS
};

struct evp_cipher_ctx_st; /* OpenSSL's EVP_CIPHER_CTX */
struct evp_mac_ctx_st;    /* OpenSSL's EVP_MAC_CTX */

/* Incarnations of one sender whose opening contexts a key keeps. */
#define ENG_CRYPTO_INCS 2u

/* A cipher context keyed with one (sender, incarnation)'s AEAD key. */
struct eng_crypto_subkey {
	uint64_t incarnation;
	uint8_t ready;           /* ctx holds that incarnation's key */
	struct evp_cipher_ctx_st *ctx;
};

struct eng_crypto_key {
	uint8_t in_use;
	uint16_t epoch;          /* the key's id in every frame */
	uint64_t fingerprint;    /* HKDF of the key: names it in logs and rotations */
	uint8_t iv[12];
	struct evp_mac_ctx_st *mac; /* HMAC-SHA256 keyed with the base secret: derives AEAD keys */
	struct eng_crypto_subkey enc; /* seals: this node's id, the incarnation it last sealed */
	/* opens: per sender, the incarnations heard last (verified frames
	 * only); a frame of another incarnation is opened in spare, which is
	 * swapped in once its tag verified. Every context is made at install:
	 * none per frame. */
	struct eng_crypto_subkey dec[ENG_CRYPTO_NODES_MAX][ENG_CRYPTO_INCS];
	struct evp_cipher_ctx_st *spare;
};

/* The replay window of one (sender, path, incarnation) (docs/security.md §4). */
struct eng_crypto_window {
	uint64_t incarnation;    /* whose frames (the header's: authenticated) */
	uint64_t top;            /* highest counter accepted; 0: none yet (a free window) */
	uint64_t bits[ENG_CRYPTO_WINDOW / 64u];
};
/* A sender has a window per path for ENG_CRYPTO_INCS incarnations: the one
 * ring-proto holds (pinned) and one more (a restart, or a second process
 * with its id). */

struct eng_crypto_stats {
	uint64_t sealed, opened;
	uint64_t drops[ENG_CRYPTO_DROP_COUNT];
	uint64_t seal_errors;    /* EVP failed, or a frame not this node's: not sent */
	/* per sender id (0: out of range): frames that failed the tag, and
	 * that named an unknown key (what the log reports, rate-limited) */
	uint64_t auth_from[ENG_CRYPTO_NODES_MAX + 1];
	uint64_t unknown_key_from[ENG_CRYPTO_NODES_MAX + 1];
	uint16_t unknown_epoch_last[ENG_CRYPTO_NODES_MAX + 1];
	uint64_t activations, retirements;
	uint64_t subkeys;        /* AEAD keys derived to open a frame of a (sender, incarnation) not cached */
};

struct eng_crypto {
	enum eng_cipher cipher;
	enum eng_protect protect;
	uint8_t suite;
	uint8_t ring_id;
	uint16_t node_id;
	uint64_t incarnation;    /* the newest this process sealed (its headers'): 0 before */
	uint64_t counter_first;  /* this process's first frame's: it sealed [counter_first, counter) */
	uint64_t counter;        /* the next frame's */
	uint64_t counter_limit;  /* seal refuses at this value (reservation) */
	struct eng_crypto_key key[ENG_KEY_SLOTS];
	struct eng_crypto_stats st;
	struct eng_crypto_window win[ENG_CRYPTO_NODES_MAX][ENG_CRYPTO_PATHS_MAX][ENG_CRYPTO_INCS];
	/* per (sender, path): every incarnation at most this was given a
	 * window that was taken back since, so its frames are replays */
	uint64_t floor[ENG_CRYPTO_NODES_MAX][ENG_CRYPTO_PATHS_MAX];
	uint64_t pinned[ENG_CRYPTO_NODES_MAX]; /* eng_crypto_pin's; 0: none */
	/* the windows of the frames only a process listening at start sends
	 * (ID_PROBE, DUP_NOTICE: docs/protocol.md §8.8 Rule D (0)), apart: a
	 * second process with a running node's id must not move that node's
	 * window (docs/security.md §4.1) */
	struct eng_crypto_window win_start[ENG_CRYPTO_NODES_MAX][ENG_CRYPTO_PATHS_MAX];
};

/* Reads a key file: a regular file, readable and writable by its owner
 * only (no group or other permission bits), of ENG_CRYPTO_KEY_MIN..
 * ENG_CRYPTO_KEY_MAX bytes. Returns its length, or -1 with err holding
 * one line naming the file and what is wrong. */
int eng_crypto_read_key(const char *path, uint8_t *key, size_t key_max, char *err, size_t err_size);

/* The fingerprint and epoch a key file's bytes give (to print or compare
 * without a keyring). Returns 0, or -1 if libcrypto fails. */
int eng_crypto_key_id(const uint8_t *key, size_t len, uint64_t *fingerprint, uint16_t *epoch);

/* Initialises c (no key yet) for this node of ring ring_id. Frame counters
 * run from counter_start up to, not including, counter_limit. Returns 0,
 * or -1 with err (a cipher libcrypto does not have). */
int eng_crypto_init(struct eng_crypto *c, enum eng_cipher cipher, enum eng_protect protect,
		    uint8_t ring_id, uint16_t node_id, uint64_t counter_start, uint64_t counter_limit,
		    char *err, size_t err_size);
void eng_crypto_free(struct eng_crypto *c);

/* Installs a key (its file's bytes): the current one if there is none, else
 * the next one (replacing a next that was never activated). Returns 1 if
 * installed, 0 if it is the current or the next key already, or -1 with
 * err (its epoch collides with a key in use: make another key; libcrypto
 * failed). */
int eng_crypto_install(struct eng_crypto *c, const uint8_t *key, size_t len, char *err, size_t err_size);

/* The next key (fingerprint fp) becomes current, the current one previous
 * (an older previous is dropped). Returns 0, or -1 if no next key has
 * that fingerprint. */
int eng_crypto_activate(struct eng_crypto *c, uint64_t fp);

/* The previous key is dropped: frames sealed with it are refused from now
 * on (ENG_CRYPTO_DROP_UNKNOWN_KEY). */
void eng_crypto_retire(struct eng_crypto *c);

/* The incarnation ring-proto holds for sender (rp_node_peer; 0: none):
 * its windows are never given to another incarnation's frames, and frames
 * of an older one are refused (docs/security.md §4). */
void eng_crypto_pin(struct eng_crypto *c, uint16_t sender, uint64_t incarnation);

/* Raises the counter reservation (after the caller persisted it). */
void eng_crypto_extend(struct eng_crypto *c, uint64_t counter_limit);

/* Seals one ring-proto frame (len bytes: its frame_size; its sender must
 * be this node) into out, which has room for len + ENG_CRYPTO_TRAILER_SIZE
 * bytes and may not overlap frame, with the AEAD key of the incarnation in
 * its header (derived at the first frame of each incarnation and key).
 * Returns the sealed size, or 0 if it was not sealed: the counter reached
 * counter_limit (extend and retry), no key, or libcrypto failed (counted in
 * seal_errors). */
size_t eng_crypto_seal(struct eng_crypto *c, const uint8_t *frame, size_t len, uint8_t *out);

/* Authenticates a frame of len bytes received on path, and decrypts its
 * body in place. On ENG_CRYPTO_OK, frame[0 .. *plain_len) is the
 * ring-proto frame; otherwise the drop is counted by reason and the bytes
 * are garbage. A frame with this node's id is refused as a reflection only
 * if this process sealed its counter in an incarnation not older than the
 * frame's: another process's with this id (a misconfiguration) opens like
 * any sender's, for ring-proto's Rule D (docs/security.md §4.1). A frame of
 * a (sender, incarnation) whose key is not cached costs one derivation
 * (stats.subkeys) before its tag is checked. */
enum eng_crypto_result eng_crypto_open(struct eng_crypto *c, uint8_t *frame, size_t len, uint8_t path,
				       size_t *plain_len);

/* The incarnation a start takes after last (the stored one; 0: none) at
 * wall clock clock_us: max(last + 1, clock_us) plus random's low
 * ENG_CRYPTO_INC_RANDOM_BITS bits (random from getrandom). Frame keys are
 * per incarnation, so two processes with one node id share one with a
 * probability of at most 2^-ENG_CRYPTO_INC_RANDOM_BITS, however their
 * clocks and state directories agree (docs/security.md §3). */
uint64_t eng_crypto_incarnation(uint64_t last, uint64_t clock_us, uint32_t random);

/* Parses a cipher or protection name (the configuration's words): returns
 * the enum value, or 0 if unknown. */
enum eng_cipher eng_cipher_parse(const char *name);
const char *eng_cipher_name(enum eng_cipher c);

#endif
