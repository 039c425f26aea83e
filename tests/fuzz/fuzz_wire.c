/* fuzz_wire.c — libFuzzer target for the wire decoders (rp_wire.h).
 *
 * Owns: the property that no byte string can make a decoder read out of
 * bounds, overflow, or disagree with itself: a DATA frame the decoder accepts
 * iterates to exactly entry_count valid entries that fill the frame, and a
 * TOKEN, JOIN or COMMIT it accepts satisfies the invariants the decoder
 * promises and re-encodes to a frame that decodes to the same values (and
 * re-encodes to the same bytes).
 *
 * Never: trusts a decoder's verdict without checking it; reports anything but
 * by abort() (libFuzzer turns that into a crash with the input saved).
 *
 * Build: clang -fsanitize=fuzzer,address,undefined with ring-proto/rp_wire.c
 * compiled into the same executable, so the decoder itself is instrumented.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rp_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TOKEN_FRAME_MAX (RP_WIRE_HDR_SIZE + RP_WIRE_TOKEN_HDR_SIZE + 8u * RP_WIRE_RTR_MAX)

#define FUZZ_JOIN_FRAME_MAX (RP_WIRE_HDR_SIZE + RP_WIRE_JOIN_HDR_SIZE + 8u * RP_NODES_MAX)
#define FUZZ_COMMIT_FRAME_MAX \
	(RP_WIRE_HDR_SIZE + RP_WIRE_COMMIT_HDR_SIZE + RP_WIRE_COMMIT_ENTRY_SIZE * RP_NODES_MAX)
/* The re-encode buffers are sized for the largest frame: a full token. */
#define FUZZ_FRAME_MAX FUZZ_TOKEN_FRAME_MAX
_Static_assert(FUZZ_JOIN_FRAME_MAX <= FUZZ_FRAME_MAX, "JOIN frame fits the re-encode buffers");
_Static_assert(FUZZ_COMMIT_FRAME_MAX <= FUZZ_FRAME_MAX, "COMMIT frame fits the re-encode buffers");

static struct rp_wire_token token_a;
static struct rp_wire_token token_b;
static struct rp_wire_join join_a;
static struct rp_wire_join join_b;
static struct rp_wire_commit commit_a;
static struct rp_wire_commit commit_b;
static uint8_t reencoded[FUZZ_FRAME_MAX];
static uint8_t reencoded_again[FUZZ_FRAME_MAX];

/* Read every payload byte so ASan sees any pointer past the input. */
static volatile uint8_t payload_sink;

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_entry(const struct rp_wire_entry *e)
{
	check((uint64_t)e->frag_offset + e->chunk_size <= e->msg_size);
	check(!(e->flags & RP_ENTRY_F_FIRST) || e->frag_offset == 0);
	check(!(e->flags & RP_ENTRY_F_LAST) ||
	      (uint64_t)e->frag_offset + e->chunk_size == e->msg_size);
	check((e->flags & RP_ENTRY_F_LAST) || e->chunk_size != 0);
	check((e->flags & ~(RP_ENTRY_F_FIRST | RP_ENTRY_F_LAST)) == 0);
	check(e->service == RP_SERVICE_AGREED || e->service == RP_SERVICE_SAFE);
	check(e->priority < RP_PRIO_COUNT);
	uint8_t acc = 0;
	for (uint32_t i = 0; i < e->chunk_size; i++)
		acc = (uint8_t)(acc ^ e->data[i]);
	payload_sink = acc;
}

static void fuzz_data(const uint8_t *buf, const struct rp_wire_hdr *h)
{
	struct rp_wire_data d;
	if (rp_wire_decode_data(buf, h, &d) != RP_DROP_NONE)
		return;
	const uint8_t *end = buf + h->frame_size;
	check(d.origin >= 1 && d.origin <= RP_NODES_MAX);
	check(d.entry_count > 0);
	check(d.body_hdr_size >= RP_WIRE_DATA_HDR_SIZE);
	check(d.entries == buf + h->hdr_size + d.body_hdr_size);
	check(d.entries <= end && (size_t)(end - d.entries) == d.entries_size);

	size_t off = 0;
	uint32_t count = 0;
	struct rp_wire_entry e;
	while (rp_wire_entry_next(d.entries, d.entries_size, &off, &e) == 0) {
		check(off <= d.entries_size);
		check(e.data >= d.entries && e.data + e.chunk_size <= end);
		check_entry(&e);
		count++;
	}
	/* the decoder walked exactly these entries, and they fill the frame */
	check(count == d.entry_count);
	check(off == d.entries_size);
}

static void hdr_check_same(const struct rp_wire_hdr *a, const struct rp_wire_hdr *b)
{
	check(a->version == b->version);
	check(a->type == b->type);
	check(a->flags == b->flags);
	check(a->sender == b->sender);
	check(a->path_index == b->path_index);
	check(a->incarnation == b->incarnation);
	check(a->ring.seq == b->ring.seq);
	check(a->ring.rep == b->ring.rep);
	check(a->fault_mask == b->fault_mask);
	check(a->send_mask == b->send_mask);
	check(a->proto == b->proto);
	check(a->proto_min == b->proto_min);
	check(a->proto_max == b->proto_max);
	check(a->tx_seq == b->tx_seq);
}

static void token_check_same(const struct rp_wire_token *a, const struct rp_wire_token *b)
{
	check(a->token_seq == b->token_seq);
	check(a->seq == b->seq);
	check(a->aru == b->aru);
	check(a->aru_id == b->aru_id);
	check(a->dest == b->dest);
	check(a->rtr_count == b->rtr_count);
	check(a->fcc == b->fcc);
	check(a->backlog == b->backlog);
	check(a->retrans_flg == b->retrans_flg);
	check(a->rrp_acc == b->rrp_acc);
	check(a->rrp_all == b->rrp_all);
	check(a->rrp_sus_acc == b->rrp_sus_acc);
	check(a->rrp_sus_all == b->rrp_sus_all);
	for (uint32_t i = 0; i < a->rtr_count; i++)
		check(a->rtr[i] == b->rtr[i]);
}

static void fuzz_token(const uint8_t *buf, const struct rp_wire_hdr *h)
{
	if (rp_wire_decode_token(buf, h, &token_a) != RP_DROP_NONE)
		return;
	check(token_a.rtr_count <= RP_WIRE_RTR_MAX);
	check(token_a.dest >= 1 && token_a.dest <= RP_NODES_MAX);
	check(token_a.aru_id <= RP_NODES_MAX);
	check(token_a.retrans_flg <= 1);

	/* Re-encode in this version's canonical form (40-byte header, 48-byte
	 * body header): the values must survive, unknown extra bytes need not. */
	struct rp_wire_hdr h2 = *h;
	size_t len = rp_wire_encode_token(reencoded, &h2, &token_a);
	check(len == rp_wire_token_size(token_a.rtr_count));
	check(len <= sizeof(reencoded));
	check(h2.frame_size == len);

	struct rp_wire_hdr h3;
	check(rp_wire_decode_hdr(reencoded, len, &h3) == RP_DROP_NONE);
	check(h3.type == RP_FRAME_TOKEN);
	check(h3.hdr_size == RP_WIRE_HDR_SIZE);
	check(h3.frame_size == len);
	hdr_check_same(h, &h3);
	check(rp_wire_decode_token(reencoded, &h3, &token_b) == RP_DROP_NONE);
	token_check_same(&token_a, &token_b);

	/* The canonical form is a fixed point. */
	size_t len2 = rp_wire_encode_token(reencoded_again, &h3, &token_b);
	check(len2 == len);
	check(memcmp(reencoded, reencoded_again, len) == 0);
}

static unsigned popcount(uint64_t v)
{
	unsigned c = 0;
	for (; v != 0; v &= v - 1u)
		c++;
	return c;
}

/* Decodes a re-encoded frame's header: canonical form, same values as h. */
static void check_reencoded_hdr(const uint8_t *buf, size_t len, const struct rp_wire_hdr *h,
				struct rp_wire_hdr *out)
{
	check(rp_wire_decode_hdr(buf, len, out) == RP_DROP_NONE);
	check(out->type == h->type);
	check(out->hdr_size == RP_WIRE_HDR_SIZE);
	check(out->frame_size == len);
	hdr_check_same(h, out);
}

static void join_check_same(const struct rp_wire_join *a, const struct rp_wire_join *b)
{
	check(a->ring_seq == b->ring_seq);
	check(a->proc_set == b->proc_set);
	check(a->fail_set == b->fail_set);
	check(a->heard == b->heard && a->refused == b->refused);
	for (unsigned id = 1; id <= RP_NODES_MAX; id++) {
		if (a->proc_set & (UINT64_C(1) << (id - 1u)))
			check(a->inc[id - 1u] == b->inc[id - 1u]);
	}
}

static void fuzz_join(const uint8_t *buf, const struct rp_wire_hdr *h)
{
	if (rp_wire_decode_join(buf, h, &join_a) != RP_DROP_NONE)
		return;
	check((join_a.fail_set & ~join_a.proc_set) == 0);
	check((join_a.proc_set & (UINT64_C(1) << (h->sender - 1u))) != 0);
	check((join_a.heard & ~join_a.proc_set) == 0 && (join_a.refused & ~join_a.fail_set) == 0);
	size_t body_size = (size_t)h->frame_size - h->hdr_size;
	check(body_size >= RP_WIRE_JOIN_HDR_MIN + 8u * (size_t)popcount(join_a.proc_set));

	struct rp_wire_hdr h2 = *h;
	size_t len = rp_wire_encode_join(reencoded, &h2, &join_a);
	check(len == rp_wire_join_size(join_a.proc_set));
	check(len <= FUZZ_JOIN_FRAME_MAX);
	check(h2.frame_size == len);

	struct rp_wire_hdr h3;
	check_reencoded_hdr(reencoded, len, h, &h3);
	check(rp_wire_decode_join(reencoded, &h3, &join_b) == RP_DROP_NONE);
	join_check_same(&join_a, &join_b);

	size_t len2 = rp_wire_encode_join(reencoded_again, &h3, &join_b);
	check(len2 == len);
	check(memcmp(reencoded, reencoded_again, len) == 0);
}

static int rp_ring_eq_w(struct rp_ring_id a, struct rp_ring_id b)
{
	return a.seq == b.seq && a.rep == b.rep;
}

static void commit_check_same(const struct rp_wire_commit *a, const struct rp_wire_commit *b)
{
	check(a->memb_index == b->memb_index);
	check(a->count == b->count);
	check(a->dest == b->dest);
	check(a->rotation == b->rotation);
	for (uint32_t i = 0; i < a->count; i++) {
		const struct rp_wire_commit_entry *x = &a->e[i];
		const struct rp_wire_commit_entry *y = &b->e[i];
		check(x->id == y->id);
		check(x->received_flg == y->received_flg);
		check(x->incarnation == y->incarnation);
		check(x->old_ring.seq == y->old_ring.seq);
		check(x->old_ring.rep == y->old_ring.rep);
		check(x->old_aru == y->old_aru);
		check(x->old_high_seq == y->old_high_seq);
		check(x->old_delivered == y->old_delivered);
		check(x->proto_min == y->proto_min && x->proto_min <= x->proto_max);
		check(x->proto_max == y->proto_max);
		check(x->last_primary.seq == y->last_primary.seq);
		check(x->last_primary.rep == y->last_primary.rep);
		check(x->last_primary_members == y->last_primary_members);
		check(rp_ring_eq_w(x->installed_primary, y->installed_primary));
		check(x->installed_primary_members == y->installed_primary_members);
	}
}

static void fuzz_commit(const uint8_t *buf, const struct rp_wire_hdr *h)
{
	if (rp_wire_decode_commit(buf, h, &commit_a) != RP_DROP_NONE)
		return;
	check(commit_a.count >= 1 && commit_a.count <= RP_NODES_MAX);
	check(commit_a.memb_index <= commit_a.count);
	check(commit_a.rotation == 1 || commit_a.rotation == 2);
	check(commit_a.dest >= 1 && commit_a.dest <= RP_NODES_MAX);
	/* the entries are in ring order (docs/protocol.md §17.3), not in id
	 * order: each id once */
	uint64_t seen = 0;
	for (uint32_t i = 0; i < commit_a.count; i++) {
		const struct rp_wire_commit_entry *e = &commit_a.e[i];
		check(e->id >= 1 && e->id <= RP_NODES_MAX);
		check((seen & (UINT64_C(1) << (e->id - 1u))) == 0);
		seen |= UINT64_C(1) << (e->id - 1u);
		check(e->received_flg <= 1);
		check(e->old_ring.rep <= RP_NODES_MAX);
	}

	struct rp_wire_hdr h2 = *h;
	size_t len = rp_wire_encode_commit(reencoded, &h2, &commit_a);
	check(len == rp_wire_commit_size(commit_a.count));
	check(len <= FUZZ_COMMIT_FRAME_MAX);
	check(h2.frame_size == len);

	struct rp_wire_hdr h3;
	check_reencoded_hdr(reencoded, len, h, &h3);
	check(rp_wire_decode_commit(reencoded, &h3, &commit_b) == RP_DROP_NONE);
	commit_check_same(&commit_a, &commit_b);

	size_t len2 = rp_wire_encode_commit(reencoded_again, &h3, &commit_b);
	check(len2 == len);
	check(memcmp(reencoded, reencoded_again, len) == 0);
}

/* PATH_TEST: decode, re-encode, decode again: the same heard set. */
static void fuzz_path_test(const uint8_t *buf, const struct rp_wire_hdr *h)
{
	uint64_t heard, heard_b;
	if (rp_wire_decode_path_test(buf, h, &heard) != RP_DROP_NONE)
		return;
	static uint8_t reencoded[RP_WIRE_HDR_SIZE + RP_WIRE_PATH_TEST_HDR_SIZE];
	struct rp_wire_hdr h2 = *h, h3;
	size_t len = rp_wire_encode_path_test(reencoded, &h2, heard);
	check(len == sizeof(reencoded));
	check_reencoded_hdr(reencoded, len, h, &h3);
	check(rp_wire_decode_path_test(reencoded, &h3, &heard_b) == RP_DROP_NONE);
	check(heard == heard_b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_wire_hdr h;
	if (rp_wire_decode_hdr(data, size, &h) == RP_DROP_NONE) {
		check(h.frame_size == size);
		check(h.hdr_size >= RP_WIRE_HDR_SIZE && h.hdr_size <= size);
		check(h.sender >= 1 && h.sender <= RP_NODES_MAX);
		check(h.path_index < RP_PATHS_MAX);
		if (h.type == RP_FRAME_DATA)
			fuzz_data(data, &h);
		else if (h.type == RP_FRAME_TOKEN)
			fuzz_token(data, &h);
		else if (h.type == RP_FRAME_JOIN)
			fuzz_join(data, &h);
		else if (h.type == RP_FRAME_COMMIT)
			fuzz_commit(data, &h);
		else if (h.type == RP_FRAME_PATH_TEST)
			fuzz_path_test(data, &h);
		check(h.proto_min >= 1 && h.proto_min <= h.proto_max && h.proto >= 1);
	}

	/* The entry walker on its own, over raw bytes: it must stop at the
	 * first malformed entry without reading past the end. */
	size_t off = 0;
	struct rp_wire_entry e;
	while (rp_wire_entry_next(data, size, &off, &e) == 0) {
		check(off <= size);
		check_entry(&e);
	}
	return 0;
}
