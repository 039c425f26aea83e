/* rp_wire.c — encode and validating decode of ordo frames (layout in rp_wire.h).
 *
 * Never: reads a byte it has not bounds-checked; asserts on wire input. Every
 * failure is a return value naming the reason (docs/design.md §6).
 */
#include "rp_wire.h"

#include <stdbool.h>
#include <string.h>

const struct rp_counter_desc rp_drop_desc[RP_DROP_COUNT] = {
	[RP_DROP_NONE] = {"none", RP_COUNTER_EVENT, "not dropped", 0},
#define RP_DROP_DESC_(e, name, kind, help) [RP_DROP_##e] = {name, kind, help, 0},
	foreach_rp_drop(RP_DROP_DESC_)
#undef RP_DROP_DESC_
};

const char *rp_drop_name(enum rp_drop reason)
{
	if ((unsigned)reason >= RP_DROP_COUNT)
		return "unknown";
	return rp_drop_desc[reason].name;
}

const char *rp_frame_type_name(unsigned type)
{
	static const char *const names[RP_FRAME_TYPE_END] = {
#define RP_FRAME_NAME_(e, v, name) [RP_FRAME_##e] = name,
		foreach_rp_frame_type(RP_FRAME_NAME_)
#undef RP_FRAME_NAME_
	};
	return type != 0 && type < RP_FRAME_TYPE_END ? names[type] : "?";
}

void rp_wire_encode_hdr(uint8_t *buf, const struct rp_wire_hdr *h)
{
	memset(buf, 0, RP_WIRE_HDR_SIZE);
	rp_wire_hdr_put(buf, h);
}

enum rp_drop rp_wire_decode_hdr(const uint8_t *buf, size_t len, struct rp_wire_hdr *h)
{
	if (len < RP_WIRE_HDR_SIZE)
		return RP_DROP_TRUNCATED;
	if (rp_get16(buf + RP_HDR_MAGIC) != RP_WIRE_MAGIC)
		return RP_DROP_BAD_MAGIC;
	rp_wire_hdr_get(buf, h);
	if (h->version < RP_WIRE_VERSION_MIN || h->version > RP_WIRE_VERSION_MAX)
		return RP_DROP_BAD_VERSION;
	if (h->proto_min == 0 || h->proto_min > h->proto_max || h->proto == 0)
		return RP_DROP_BAD_VERSION;
	if (h->type == 0 || h->type >= RP_FRAME_TYPE_END)
		return RP_DROP_BAD_TYPE;
	if (h->hdr_size < RP_WIRE_HDR_SIZE || (h->hdr_size & 7u) != 0)
		return RP_DROP_BAD_HDR_SIZE;
	if ((size_t)h->frame_size != len)
		return RP_DROP_BAD_FRAME_SIZE;
	if ((size_t)h->hdr_size > len)
		return RP_DROP_TRUNCATED;
	if (h->sender == 0 || h->sender > RP_NODES_MAX)
		return RP_DROP_BAD_SENDER;
	if (h->path_index >= RP_PATHS_MAX)
		return RP_DROP_BAD_PATH;
	if (h->ring.rep > RP_NODES_MAX)
		return RP_DROP_BAD_RING;
	return RP_DROP_NONE;
}

/* Writes the header of a frame of the given type and size (the body
 * right after the header) and zeroes the first zero bytes of the body;
 * returns the body. */
static inline uint8_t *begin_frame(uint8_t *buf, struct rp_wire_hdr *h, uint8_t type, size_t size, size_t zero)
{
	h->type = type;
	h->hdr_size = RP_WIRE_HDR_SIZE;
	h->frame_size = (uint32_t)size;
	rp_wire_encode_hdr(buf, h);
	memset(buf + RP_WIRE_HDR_SIZE, 0, zero);
	return buf + RP_WIRE_HDR_SIZE;
}

/* A received frame's body: where it starts, its size, and its body
 * header's size (what its body_hdr_size field says). */
struct body {
	const uint8_t *p;
	size_t size;
	uint16_t hdr_size;
};

/* Opens the body of a frame whose header h decoded, the checks every body
 * decoder makes first: RP_DROP_TRUNCATED if it holds fewer than min bytes,
 * RP_DROP_BAD_BODY if its body_hdr_size (the u16 at size_at in the body)
 * does not cover min or runs past the body. */
static inline enum rp_drop body_open(const uint8_t *buf, const struct rp_wire_hdr *h, size_t min, size_t size_at,
				     struct body *b)
{
	b->size = (size_t)h->frame_size - h->hdr_size;
	b->p = buf + h->hdr_size;
	if (b->size < min)
		return RP_DROP_TRUNCATED;
	b->hdr_size = rp_get16(b->p + size_at);
	return b->hdr_size < min || b->hdr_size > b->size ? RP_DROP_BAD_BODY : RP_DROP_NONE;
}

/* The opening of a body decoder of fixed-size body header PART (part: its
 * reader's name), inside the decoder (of buf and h): opens the body into
 * *b with the part's size and its body_hdr_size field, returning the
 * reason from the decoder if it does not open, then reads the body
 * header's fields into s. (A JOIN, whose body header has two sizes, opens
 * with body_open itself.) */
#define BODY_OPEN(b, PART, part, s)                                                                      \
	do {                                                                                             \
		enum rp_drop why_ = body_open(buf, h, RP_WIRE_##PART##_HDR_SIZE, RP_##PART##_BODY_HDR_SIZE, (b)); \
		if (why_ != RP_DROP_NONE)                                                                \
			return why_;                                                                     \
		rp_wire_##part##_get((b)->p, (s));                                                      \
	} while (0)


void rp_wire_encode_data_hdr(uint8_t *body, const struct rp_wire_data *d)
{
	rp_wire_data_put(body, d);
}

void rp_wire_encode_entry_hdr(uint8_t *p, const struct rp_wire_entry *e)
{
	rp_wire_entry_put(p, e);
}

/* Decodes and validates one entry at entries + *off. */
static int entry_parse(const uint8_t *entries, size_t size, size_t off, struct rp_wire_entry *e)
{
	if (off > size || size - off < RP_WIRE_ENTRY_HDR_SIZE)
		return -1;
	const uint8_t *p = entries + off;
	rp_wire_entry_read(p, e);
	if ((size_t)e->chunk_size > size - off - RP_WIRE_ENTRY_HDR_SIZE)
		return -1;
	if ((uint64_t)e->frag_offset + e->chunk_size > e->msg_size)
		return -1;
	/* FIRST exactly when the chunk starts the message, LAST exactly when it
	 * ends it: a reassembler can then trust the flags. */
	bool starts = e->frag_offset == 0;
	bool ends = (uint64_t)e->frag_offset + e->chunk_size == e->msg_size;
	if (starts != ((e->flags & RP_ENTRY_F_FIRST) != 0) || ends != ((e->flags & RP_ENTRY_F_LAST) != 0))
		return -1;
	if (!ends && e->chunk_size == 0)
		return -1; /* an empty middle fragment makes no progress */
	if ((e->flags & ~(RP_ENTRY_F_FIRST | RP_ENTRY_F_LAST)) != 0 || p[RP_ENTRY_RESERVED] != 0)
		return -1;
	if (e->service != RP_SERVICE_AGREED && e->service != RP_SERVICE_SAFE)
		return -1;
	if (e->priority >= RP_PRIO_COUNT)
		return -1;
	return 0;
}

int rp_wire_entry_next(const uint8_t *entries, size_t entries_size, size_t *off,
		       struct rp_wire_entry *e)
{
	if (entry_parse(entries, entries_size, *off, e) != 0)
		return -1;
	*off += RP_WIRE_ENTRY_HDR_SIZE + (size_t)e->chunk_size;
	return 0;
}

enum rp_drop rp_wire_decode_data(const uint8_t *buf, const struct rp_wire_hdr *h,
				 struct rp_wire_data *d)
{
	struct body b;
	BODY_OPEN(&b, DATA, data, d);
	if (d->origin == 0 || d->origin > RP_NODES_MAX || d->entry_count == 0)
		return RP_DROP_BAD_BODY;
	d->entries = b.p + b.hdr_size;
	d->entries_size = b.size - b.hdr_size;
	size_t off = 0;
	struct rp_wire_entry e;
	for (uint32_t i = 0; i < d->entry_count; i++) {
		if (rp_wire_entry_next(d->entries, d->entries_size, &off, &e) != 0)
			return RP_DROP_BAD_ENTRY;
	}
	if (off != d->entries_size)
		return RP_DROP_BAD_ENTRY; /* trailing bytes after the last entry */
	return RP_DROP_NONE;
}

size_t rp_wire_token_size(uint16_t rtr_count)
{
	return RP_WIRE_HDR_SIZE + RP_WIRE_TOKEN_HDR_SIZE + (size_t)rtr_count * 8u;
}

size_t rp_wire_token_size_from(uint16_t rtr_count)
{
	return rp_wire_token_size(rtr_count) + (size_t)rtr_count * 8u;
}

size_t rp_wire_encode_token(uint8_t *buf, struct rp_wire_hdr *h, const struct rp_wire_token *t)
{
	size_t size = t->rtr_has_from ? rp_wire_token_size_from(t->rtr_count) : rp_wire_token_size(t->rtr_count);
	uint8_t *b = begin_frame(buf, h, RP_FRAME_TOKEN, size, RP_WIRE_TOKEN_HDR_SIZE);
	rp_wire_token_put(b, t);
	for (uint32_t i = 0; i < t->rtr_count; i++)
		rp_put64(b + RP_WIRE_TOKEN_HDR_SIZE + 8u * i, t->rtr[i]);
	for (uint32_t i = 0; t->rtr_has_from && i < t->rtr_count; i++)
		rp_put64(b + RP_WIRE_TOKEN_HDR_SIZE + 8u * (t->rtr_count + i), t->rtr_from[i]);
	return size;
}

enum rp_drop rp_wire_decode_token(const uint8_t *buf, const struct rp_wire_hdr *h,
				  struct rp_wire_token *t)
{
	struct body b;
	BODY_OPEN(&b, TOKEN, token, t);
	t->rtr_has_from = (t->token_flags & RP_TOKEN_F_RTR_FROM) != 0;
	if (t->aru_id > RP_NODES_MAX || t->dest == 0 || t->dest > RP_NODES_MAX || t->retrans_flg > 1)
		return RP_DROP_BAD_BODY;
	if (t->rtr_count > RP_WIRE_RTR_MAX ||
	    (size_t)t->rtr_count * (t->rtr_has_from ? 16u : 8u) != b.size - b.hdr_size)
		return RP_DROP_BAD_RTR;
	for (uint32_t i = 0; i < t->rtr_count; i++)
		t->rtr[i] = rp_get64(b.p + b.hdr_size + 8u * i);
	for (uint32_t i = 0; t->rtr_has_from && i < t->rtr_count; i++)
		t->rtr_from[i] = rp_get64(b.p + b.hdr_size + 8u * (t->rtr_count + i));
	return RP_DROP_NONE;
}

static void encode_params(uint8_t *p, const struct rp_wire_params *s)
{
	memset(p, 0, RP_WIRE_PARAMS_SIZE);
	rp_wire_params_put(p, s);
}

size_t rp_wire_join_size(uint64_t proc_set)
{
	return RP_WIRE_HDR_SIZE + RP_WIRE_JOIN_HDR_SIZE + (size_t)rp_popcount64(proc_set) * 8u;
}

size_t rp_wire_encode_join(uint8_t *buf, struct rp_wire_hdr *h, const struct rp_wire_join *j)
{
	size_t size = rp_wire_join_size(j->proc_set);
	uint8_t *b = begin_frame(buf, h, RP_FRAME_JOIN, size, RP_WIRE_JOIN_HDR_SIZE);
	rp_wire_join_put(b, j);
	encode_params(b + RP_WIRE_JOIN_PARAMS, &j->params);
	uint8_t *p = b + RP_WIRE_JOIN_HDR_SIZE;
	for (unsigned id = 1; id <= RP_NODES_MAX; id++) {
		if (j->proc_set & (1ull << (id - 1u))) {
			rp_put64(p, j->inc[id - 1u]);
			p += 8;
		}
	}
	return size;
}

enum rp_drop rp_wire_decode_join(const uint8_t *buf, const struct rp_wire_hdr *h,
				 struct rp_wire_join *j)
{
	struct body b;
	enum rp_drop why = body_open(buf, h, RP_WIRE_JOIN_HDR_MIN, RP_JOIN_BODY_HDR_SIZE, &b);
	if (why != RP_DROP_NONE)
		return why;
	/* a body header of the first version (RP_WIRE_JOIN_HDR_MIN bytes, no
	 * heard nor refused) is decoded from a copy padded with zeros */
	uint8_t pad[RP_WIRE_JOIN_HDR_SIZE] = {0};
	const uint8_t *hdr = b.p;
	if (b.size < RP_WIRE_JOIN_HDR_SIZE) {
		memcpy(pad, b.p, RP_WIRE_JOIN_HDR_MIN);
		hdr = pad;
	}
	rp_wire_join_get(hdr, j);
	rp_wire_params_get(hdr + RP_WIRE_JOIN_PARAMS, &j->params);
	uint16_t body_hdr_size = b.hdr_size, inc_count = j->inc_count;
	if (body_hdr_size < RP_WIRE_JOIN_HDR_SIZE) {
		j->heard = j->proc_set;
		j->refused = j->fail_set;
	}
	if ((j->fail_set & ~j->proc_set) != 0 || !(j->proc_set & (1ull << (h->sender - 1u))) ||
	    (j->heard & ~j->proc_set) != 0 || (j->refused & ~j->fail_set) != 0)
		return RP_DROP_BAD_BODY;
	if (inc_count != rp_popcount64(j->proc_set) || (size_t)inc_count * 8u != b.size - body_hdr_size)
		return RP_DROP_BAD_BODY;
	const uint8_t *p = b.p + body_hdr_size;
	memset(j->inc, 0, sizeof(j->inc));
	for (unsigned id = 1; id <= RP_NODES_MAX; id++) {
		if (j->proc_set & (1ull << (id - 1u))) {
			j->inc[id - 1u] = rp_get64(p);
			p += 8;
		}
	}
	return RP_DROP_NONE;
}

size_t rp_wire_commit_size(uint16_t count)
{
	return RP_WIRE_HDR_SIZE + RP_WIRE_COMMIT_HDR_SIZE + (size_t)count * RP_WIRE_COMMIT_ENTRY_SIZE;
}

size_t rp_wire_encode_commit(uint8_t *buf, struct rp_wire_hdr *h, const struct rp_wire_commit *c)
{
	size_t size = rp_wire_commit_size(c->count);
	uint8_t *b = begin_frame(buf, h, RP_FRAME_COMMIT, size, size - RP_WIRE_HDR_SIZE);
	rp_wire_commit_put(b, c);
	for (uint32_t i = 0; i < c->count; i++)
		rp_wire_commit_entry_put(b + RP_WIRE_COMMIT_HDR_SIZE + (size_t)i * RP_WIRE_COMMIT_ENTRY_SIZE, &c->e[i]);
	return size;
}

enum rp_drop rp_wire_decode_commit(const uint8_t *buf, const struct rp_wire_hdr *h,
				   struct rp_wire_commit *c)
{
	struct body b;
	BODY_OPEN(&b, COMMIT, commit, c);
	if (c->count == 0 || c->count > RP_NODES_MAX || c->memb_index > c->count ||
	    (c->rotation != 1 && c->rotation != 2) || c->dest == 0 || c->dest > RP_NODES_MAX)
		return RP_DROP_BAD_BODY;
	if ((size_t)c->count * RP_WIRE_COMMIT_ENTRY_SIZE != b.size - b.hdr_size)
		return RP_DROP_BAD_BODY;
	uint64_t seen = 0;
	for (uint32_t i = 0; i < c->count; i++) {
		struct rp_wire_commit_entry *e = &c->e[i];
		rp_wire_commit_entry_get(b.p + b.hdr_size + (size_t)i * RP_WIRE_COMMIT_ENTRY_SIZE, e);
		/* unique ids, in ring order (docs/protocol.md §17.3): not
		 * necessarily ascending */
		if (e->id == 0 || e->id > RP_NODES_MAX || (seen & (1ull << (e->id - 1u))))
			return RP_DROP_BAD_BODY;
		seen |= 1ull << (e->id - 1u);
		if (e->received_flg > 1 || e->old_ring.rep > RP_NODES_MAX ||
		    e->last_primary.rep > RP_NODES_MAX || e->installed_primary.rep > RP_NODES_MAX ||
		    e->proto_min > e->proto_max)
			return RP_DROP_BAD_BODY;
	}
	return RP_DROP_NONE;
}

/* A frame that is its header alone (HOLD_CANCEL, ID_PROBE). */
static size_t encode_header_only(uint8_t *buf, struct rp_wire_hdr *h, uint8_t type)
{
	(void)begin_frame(buf, h, type, RP_WIRE_HDR_SIZE, 0);
	return RP_WIRE_HDR_SIZE;
}

size_t rp_wire_merge_detect_size(void) { return RP_WIRE_HDR_SIZE + RP_WIRE_PARAMS_SIZE; }

size_t rp_wire_encode_merge_detect(uint8_t *buf, struct rp_wire_hdr *h, const struct rp_wire_params *p)
{
	h->type = RP_FRAME_MERGE_DETECT;
	h->hdr_size = RP_WIRE_HDR_SIZE;
	h->frame_size = (uint32_t)rp_wire_merge_detect_size();
	rp_wire_encode_hdr(buf, h);
	encode_params(buf + RP_WIRE_HDR_SIZE, p);
	return rp_wire_merge_detect_size();
}

enum rp_drop rp_wire_decode_params(const uint8_t *buf, const struct rp_wire_hdr *h, struct rp_wire_params *p)
{
	size_t body_size = (size_t)h->frame_size - h->hdr_size, at;
	if (h->type == RP_FRAME_JOIN)
		at = RP_WIRE_JOIN_PARAMS;
	else if (h->type == RP_FRAME_MERGE_DETECT)
		at = 0;
	else
		return RP_DROP_BAD_TYPE;
	if (body_size < at + RP_WIRE_PARAMS_SIZE)
		return RP_DROP_TRUNCATED;
	rp_wire_params_get(buf + h->hdr_size + at, p);
	return RP_DROP_NONE;
}

size_t rp_wire_encode_hold_cancel(uint8_t *buf, struct rp_wire_hdr *h)
{
	return encode_header_only(buf, h, RP_FRAME_HOLD_CANCEL);
}

size_t rp_wire_encode_id_probe(uint8_t *buf, struct rp_wire_hdr *h)
{
	return encode_header_only(buf, h, RP_FRAME_ID_PROBE);
}

size_t rp_wire_path_test_size(void) { return RP_WIRE_HDR_SIZE + RP_WIRE_PATH_TEST_HDR_SIZE; }

static size_t encode_path_test_as(uint8_t *buf, struct rp_wire_hdr *h, uint8_t type, uint64_t heard)
{
	size_t size = rp_wire_path_test_size();
	const struct rp_wire_path_test pt = {.heard = heard};
	rp_wire_path_test_put(begin_frame(buf, h, type, size, RP_WIRE_PATH_TEST_HDR_SIZE), &pt);
	return size;
}

size_t rp_wire_encode_path_test(uint8_t *buf, struct rp_wire_hdr *h, uint64_t heard)
{
	return encode_path_test_as(buf, h, RP_FRAME_PATH_TEST, heard);
}

size_t rp_wire_encode_dup_notice(uint8_t *buf, struct rp_wire_hdr *h, uint64_t running)
{
	return encode_path_test_as(buf, h, RP_FRAME_DUP_NOTICE, running);
}

enum rp_drop rp_wire_decode_dup_notice(const uint8_t *buf, const struct rp_wire_hdr *h, uint64_t *running)
{
	return rp_wire_decode_path_test(buf, h, running);
}

size_t rp_wire_encode_id_answer(uint8_t *buf, struct rp_wire_hdr *h, uint64_t prober)
{
	return encode_path_test_as(buf, h, RP_FRAME_HOLD_CANCEL, prober);
}

enum rp_drop rp_wire_decode_id_answer(const uint8_t *buf, const struct rp_wire_hdr *h, uint64_t *prober)
{
	return rp_wire_decode_path_test(buf, h, prober);
}

enum rp_drop rp_wire_decode_path_test(const uint8_t *buf, const struct rp_wire_hdr *h,
				      uint64_t *heard)
{
	struct body b;
	struct rp_wire_path_test pt;
	BODY_OPEN(&b, PATH_TEST, path_test, &pt);
	*heard = pt.heard;
	return RP_DROP_NONE;
}

size_t rp_wire_relay_size(size_t inner_size) { return RP_WIRE_HDR_SIZE + RP_WIRE_RELAY_HDR_SIZE + inner_size; }

size_t rp_wire_encode_relay(uint8_t *buf, struct rp_wire_hdr *h, const uint8_t *inner, size_t inner_size)
{
	size_t size = rp_wire_relay_size(inner_size);
	uint8_t *b = begin_frame(buf, h, RP_FRAME_RELAY, size, RP_WIRE_RELAY_HDR_SIZE);
	const struct rp_wire_relay r = {0};
	rp_wire_relay_put(b, &r);
	memcpy(b + RP_WIRE_RELAY_HDR_SIZE, inner, inner_size);
	return size;
}

enum rp_drop rp_wire_decode_relay(const uint8_t *buf, const struct rp_wire_hdr *h, const uint8_t **inner,
				  size_t *inner_size)
{
	struct body b;
	struct rp_wire_relay r;
	BODY_OPEN(&b, RELAY, relay, &r);
	if (b.size - b.hdr_size < RP_WIRE_HDR_SIZE)
		return RP_DROP_TRUNCATED;
	*inner = b.p + b.hdr_size;
	*inner_size = b.size - b.hdr_size;
	return RP_DROP_NONE;
}
