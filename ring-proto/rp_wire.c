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

void rp_wire_encode_hdr(uint8_t *buf, const struct rp_wire_hdr *h)
{
	memset(buf, 0, RP_WIRE_HDR_SIZE);
	rp_put16(buf + 0, RP_WIRE_MAGIC);
	buf[2] = h->version;
	buf[3] = h->type;
	rp_put16(buf + 4, h->flags);
	rp_put16(buf + 6, h->hdr_size);
	rp_put32(buf + 8, h->frame_size);
	rp_put16(buf + 12, h->sender);
	buf[14] = h->path_index;
	buf[15] = h->fault_mask;
	rp_put64(buf + 16, h->incarnation);
	rp_put16(buf + 24, h->ring.rep);
	buf[26] = h->send_mask;
	buf[27] = h->proto;
	buf[28] = h->proto_min;
	buf[29] = h->proto_max;
	rp_put16(buf + 30, h->tx_seq);
	rp_put64(buf + 32, h->ring.seq);
}

enum rp_drop rp_wire_decode_hdr(const uint8_t *buf, size_t len, struct rp_wire_hdr *h)
{
	if (len < RP_WIRE_HDR_SIZE)
		return RP_DROP_TRUNCATED;
	if (rp_get16(buf) != RP_WIRE_MAGIC)
		return RP_DROP_BAD_MAGIC;
	h->version = buf[2];
	h->type = buf[3];
	h->flags = rp_get16(buf + 4);
	h->hdr_size = rp_get16(buf + 6);
	h->frame_size = rp_get32(buf + 8);
	h->sender = rp_get16(buf + 12);
	h->path_index = buf[14];
	h->fault_mask = buf[15];
	h->incarnation = rp_get64(buf + 16);
	h->ring.rep = rp_get16(buf + 24);
	h->send_mask = buf[26];
	h->proto = buf[27];
	h->proto_min = buf[28];
	h->proto_max = buf[29];
	h->tx_seq = rp_get16(buf + 30);
	h->ring.seq = rp_get64(buf + 32);
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

void rp_wire_encode_data_hdr(uint8_t *body, const struct rp_wire_data *d)
{
	rp_put64(body + 0, d->seq);
	rp_put16(body + 8, d->origin);
	rp_put16(body + 10, d->entry_count);
	rp_put16(body + 12, RP_WIRE_DATA_HDR_SIZE);
	rp_put16(body + 14, d->body_flags);
}

void rp_wire_encode_entry_hdr(uint8_t *p, const struct rp_wire_entry *e)
{
	rp_put32(p + 0, e->chunk_size);
	rp_put32(p + 4, e->msg_size);
	rp_put32(p + 8, e->frag_offset);
	rp_put32(p + 12, e->client_id);
	p[16] = e->service;
	p[17] = e->priority;
	p[18] = e->flags;
	p[19] = 0;
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
	if ((e->flags & ~(RP_ENTRY_F_FIRST | RP_ENTRY_F_LAST)) != 0 || p[19] != 0)
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
	size_t body_size = (size_t)h->frame_size - h->hdr_size;
	const uint8_t *body = buf + h->hdr_size;
	if (body_size < RP_WIRE_DATA_HDR_SIZE)
		return RP_DROP_TRUNCATED;
	d->seq = rp_get64(body + 0);
	d->origin = rp_get16(body + 8);
	d->entry_count = rp_get16(body + 10);
	d->body_hdr_size = rp_get16(body + 12);
	d->body_flags = rp_get16(body + 14);
	if (d->body_hdr_size < RP_WIRE_DATA_HDR_SIZE || (size_t)d->body_hdr_size > body_size)
		return RP_DROP_BAD_BODY;
	if (d->origin == 0 || d->origin > RP_NODES_MAX || d->entry_count == 0)
		return RP_DROP_BAD_BODY;
	d->entries = body + d->body_hdr_size;
	d->entries_size = body_size - d->body_hdr_size;
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

size_t rp_wire_token_size_from(uint16_t rtr_count)
{
	return rp_wire_token_size(rtr_count) + (size_t)rtr_count * 8u;
}

size_t rp_wire_token_size(uint16_t rtr_count)
{
	return RP_WIRE_HDR_SIZE + RP_WIRE_TOKEN_HDR_SIZE + (size_t)rtr_count * 8u;
}

size_t rp_wire_encode_token(uint8_t *buf, struct rp_wire_hdr *h, const struct rp_wire_token *t)
{
	size_t size = t->rtr_has_from ? rp_wire_token_size_from(t->rtr_count) : rp_wire_token_size(t->rtr_count);
	h->type = RP_FRAME_TOKEN;
	h->hdr_size = RP_WIRE_HDR_SIZE;
	h->frame_size = (uint32_t)size;
	rp_wire_encode_hdr(buf, h);
	uint8_t *b = buf + RP_WIRE_HDR_SIZE;
	memset(b, 0, RP_WIRE_TOKEN_HDR_SIZE);
	rp_put64(b + 0, t->token_seq);
	rp_put64(b + 8, t->seq);
	rp_put64(b + 16, t->aru);
	rp_put16(b + 24, t->aru_id);
	rp_put16(b + 26, t->dest);
	rp_put16(b + 28, RP_WIRE_TOKEN_HDR_SIZE);
	rp_put16(b + 30, t->rtr_count);
	rp_put32(b + 32, t->fcc);
	rp_put32(b + 36, t->backlog);
	b[40] = t->retrans_flg;
	b[41] = t->rrp_acc;
	b[42] = t->rrp_all;
	b[43] = t->rrp_sus_acc;
	b[44] = t->rrp_sus_all;
	b[45] = t->rtr_has_from ? RP_TOKEN_F_RTR_FROM : 0u;
	for (uint32_t i = 0; i < t->rtr_count; i++)
		rp_put64(b + RP_WIRE_TOKEN_HDR_SIZE + 8u * i, t->rtr[i]);
	for (uint32_t i = 0; t->rtr_has_from && i < t->rtr_count; i++)
		rp_put64(b + RP_WIRE_TOKEN_HDR_SIZE + 8u * (t->rtr_count + i), t->rtr_from[i]);
	return size;
}

enum rp_drop rp_wire_decode_token(const uint8_t *buf, const struct rp_wire_hdr *h,
				  struct rp_wire_token *t)
{
	size_t body_size = (size_t)h->frame_size - h->hdr_size;
	const uint8_t *b = buf + h->hdr_size;
	if (body_size < RP_WIRE_TOKEN_HDR_SIZE)
		return RP_DROP_TRUNCATED;
	t->token_seq = rp_get64(b + 0);
	t->seq = rp_get64(b + 8);
	t->aru = rp_get64(b + 16);
	t->aru_id = rp_get16(b + 24);
	t->dest = rp_get16(b + 26);
	uint16_t body_hdr_size = rp_get16(b + 28);
	t->rtr_count = rp_get16(b + 30);
	t->fcc = rp_get32(b + 32);
	t->backlog = rp_get32(b + 36);
	t->retrans_flg = b[40];
	t->rrp_acc = b[41];
	t->rrp_all = b[42];
	t->rrp_sus_acc = b[43];
	t->rrp_sus_all = b[44];
	t->rtr_has_from = (b[45] & RP_TOKEN_F_RTR_FROM) != 0;
	if (body_hdr_size < RP_WIRE_TOKEN_HDR_SIZE || (size_t)body_hdr_size > body_size)
		return RP_DROP_BAD_BODY;
	if (t->aru_id > RP_NODES_MAX || t->dest == 0 || t->dest > RP_NODES_MAX || t->retrans_flg > 1)
		return RP_DROP_BAD_BODY;
	if (t->rtr_count > RP_WIRE_RTR_MAX ||
	    (size_t)t->rtr_count * (t->rtr_has_from ? 16u : 8u) != body_size - body_hdr_size)
		return RP_DROP_BAD_RTR;
	for (uint32_t i = 0; i < t->rtr_count; i++)
		t->rtr[i] = rp_get64(b + body_hdr_size + 8u * i);
	for (uint32_t i = 0; t->rtr_has_from && i < t->rtr_count; i++)
		t->rtr_from[i] = rp_get64(b + body_hdr_size + 8u * (t->rtr_count + i));
	return RP_DROP_NONE;
}

size_t rp_wire_join_size(uint64_t proc_set)
{
	return RP_WIRE_HDR_SIZE + RP_WIRE_JOIN_HDR_SIZE + (size_t)rp_popcount64(proc_set) * 8u;
}

size_t rp_wire_encode_join(uint8_t *buf, struct rp_wire_hdr *h, const struct rp_wire_join *j)
{
	size_t size = rp_wire_join_size(j->proc_set);
	h->type = RP_FRAME_JOIN;
	h->hdr_size = RP_WIRE_HDR_SIZE;
	h->frame_size = (uint32_t)size;
	rp_wire_encode_hdr(buf, h);
	uint8_t *b = buf + RP_WIRE_HDR_SIZE;
	memset(b, 0, RP_WIRE_JOIN_HDR_SIZE);
	rp_put64(b + 0, j->ring_seq);
	rp_put64(b + 8, j->proc_set);
	rp_put64(b + 16, j->fail_set);
	rp_put16(b + 24, RP_WIRE_JOIN_HDR_SIZE);
	rp_put16(b + 26, (uint16_t)rp_popcount64(j->proc_set));
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
	size_t body_size = (size_t)h->frame_size - h->hdr_size;
	const uint8_t *b = buf + h->hdr_size;
	if (body_size < RP_WIRE_JOIN_HDR_SIZE)
		return RP_DROP_TRUNCATED;
	j->ring_seq = rp_get64(b + 0);
	j->proc_set = rp_get64(b + 8);
	j->fail_set = rp_get64(b + 16);
	uint16_t body_hdr_size = rp_get16(b + 24);
	uint16_t inc_count = rp_get16(b + 26);
	if (body_hdr_size < RP_WIRE_JOIN_HDR_SIZE || (size_t)body_hdr_size > body_size)
		return RP_DROP_BAD_BODY;
	if ((j->fail_set & ~j->proc_set) != 0 || !(j->proc_set & (1ull << (h->sender - 1u))))
		return RP_DROP_BAD_BODY;
	if (inc_count != rp_popcount64(j->proc_set) || (size_t)inc_count * 8u != body_size - body_hdr_size)
		return RP_DROP_BAD_BODY;
	const uint8_t *p = b + body_hdr_size;
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
	h->type = RP_FRAME_COMMIT;
	h->hdr_size = RP_WIRE_HDR_SIZE;
	h->frame_size = (uint32_t)size;
	rp_wire_encode_hdr(buf, h);
	uint8_t *b = buf + RP_WIRE_HDR_SIZE;
	memset(b, 0, size - RP_WIRE_HDR_SIZE);
	rp_put16(b + 0, c->memb_index);
	rp_put16(b + 2, c->count);
	rp_put16(b + 4, c->dest);
	rp_put16(b + 6, RP_WIRE_COMMIT_HDR_SIZE);
	b[8] = c->rotation;
	for (uint32_t i = 0; i < c->count; i++) {
		uint8_t *p = b + RP_WIRE_COMMIT_HDR_SIZE + (size_t)i * RP_WIRE_COMMIT_ENTRY_SIZE;
		const struct rp_wire_commit_entry *e = &c->e[i];
		rp_put16(p + 0, e->id);
		p[2] = e->received_flg;
		p[3] = e->proto_min;
		rp_put16(p + 4, e->old_ring.rep);
		p[6] = e->proto_max;
		rp_put64(p + 8, e->incarnation);
		rp_put64(p + 16, e->old_ring.seq);
		rp_put64(p + 24, e->old_aru);
		rp_put64(p + 32, e->old_high_seq);
		rp_put64(p + 40, e->old_delivered);
		rp_put64(p + 48, e->last_primary.seq);
		rp_put16(p + 56, e->last_primary.rep);
		rp_put64(p + 64, e->last_primary_members);
		rp_put16(p + 58, e->installed_primary.rep);
		rp_put64(p + 72, e->installed_primary.seq);
		rp_put64(p + 80, e->installed_primary_members);
	}
	return size;
}

enum rp_drop rp_wire_decode_commit(const uint8_t *buf, const struct rp_wire_hdr *h,
				   struct rp_wire_commit *c)
{
	size_t body_size = (size_t)h->frame_size - h->hdr_size;
	const uint8_t *b = buf + h->hdr_size;
	if (body_size < RP_WIRE_COMMIT_HDR_SIZE)
		return RP_DROP_TRUNCATED;
	c->memb_index = rp_get16(b + 0);
	c->count = rp_get16(b + 2);
	c->dest = rp_get16(b + 4);
	uint16_t body_hdr_size = rp_get16(b + 6);
	c->rotation = b[8];
	if (body_hdr_size < RP_WIRE_COMMIT_HDR_SIZE || (size_t)body_hdr_size > body_size)
		return RP_DROP_BAD_BODY;
	if (c->count == 0 || c->count > RP_NODES_MAX || c->memb_index > c->count ||
	    (c->rotation != 1 && c->rotation != 2) || c->dest == 0 || c->dest > RP_NODES_MAX)
		return RP_DROP_BAD_BODY;
	if ((size_t)c->count * RP_WIRE_COMMIT_ENTRY_SIZE != body_size - body_hdr_size)
		return RP_DROP_BAD_BODY;
	uint64_t seen = 0;
	for (uint32_t i = 0; i < c->count; i++) {
		const uint8_t *p = b + body_hdr_size + (size_t)i * RP_WIRE_COMMIT_ENTRY_SIZE;
		struct rp_wire_commit_entry *e = &c->e[i];
		e->id = rp_get16(p + 0);
		e->received_flg = p[2];
		e->proto_min = p[3];
		e->old_ring.rep = rp_get16(p + 4);
		e->proto_max = p[6];
		e->incarnation = rp_get64(p + 8);
		e->old_ring.seq = rp_get64(p + 16);
		e->old_aru = rp_get64(p + 24);
		e->old_high_seq = rp_get64(p + 32);
		e->old_delivered = rp_get64(p + 40);
		e->last_primary.seq = rp_get64(p + 48);
		e->last_primary.rep = rp_get16(p + 56);
		e->last_primary_members = rp_get64(p + 64);
		e->installed_primary.rep = rp_get16(p + 58);
		e->installed_primary.seq = rp_get64(p + 72);
		e->installed_primary_members = rp_get64(p + 80);
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

/* A frame that is its header alone (MERGE_DETECT, HOLD_CANCEL). */
static size_t encode_header_only(uint8_t *buf, struct rp_wire_hdr *h, uint8_t type)
{
	h->type = type;
	h->hdr_size = RP_WIRE_HDR_SIZE;
	h->frame_size = RP_WIRE_HDR_SIZE;
	rp_wire_encode_hdr(buf, h);
	return RP_WIRE_HDR_SIZE;
}

size_t rp_wire_encode_merge_detect(uint8_t *buf, struct rp_wire_hdr *h)
{
	return encode_header_only(buf, h, RP_FRAME_MERGE_DETECT);
}

size_t rp_wire_encode_hold_cancel(uint8_t *buf, struct rp_wire_hdr *h)
{
	return encode_header_only(buf, h, RP_FRAME_HOLD_CANCEL);
}

size_t rp_wire_path_test_size(void) { return RP_WIRE_HDR_SIZE + RP_WIRE_PATH_TEST_HDR_SIZE; }

size_t rp_wire_encode_path_test(uint8_t *buf, struct rp_wire_hdr *h, uint64_t heard)
{
	size_t size = rp_wire_path_test_size();
	h->type = RP_FRAME_PATH_TEST;
	h->hdr_size = RP_WIRE_HDR_SIZE;
	h->frame_size = (uint32_t)size;
	rp_wire_encode_hdr(buf, h);
	uint8_t *b = buf + RP_WIRE_HDR_SIZE;
	memset(b, 0, RP_WIRE_PATH_TEST_HDR_SIZE);
	rp_put64(b + 0, heard);
	rp_put16(b + 8, RP_WIRE_PATH_TEST_HDR_SIZE);
	return size;
}

enum rp_drop rp_wire_decode_path_test(const uint8_t *buf, const struct rp_wire_hdr *h,
				      uint64_t *heard)
{
	size_t body_size = (size_t)h->frame_size - h->hdr_size;
	const uint8_t *b = buf + h->hdr_size;
	if (body_size < RP_WIRE_PATH_TEST_HDR_SIZE)
		return RP_DROP_TRUNCATED;
	uint16_t body_hdr_size = rp_get16(b + 8);
	if (body_hdr_size < RP_WIRE_PATH_TEST_HDR_SIZE || (size_t)body_hdr_size > body_size)
		return RP_DROP_BAD_BODY;
	*heard = rp_get64(b + 0);
	return RP_DROP_NONE;
}

size_t rp_wire_relay_size(size_t inner_size) { return RP_WIRE_HDR_SIZE + RP_WIRE_RELAY_HDR_SIZE + inner_size; }

size_t rp_wire_encode_relay(uint8_t *buf, struct rp_wire_hdr *h, const uint8_t *inner, size_t inner_size)
{
	size_t size = rp_wire_relay_size(inner_size);
	h->type = RP_FRAME_RELAY;
	h->hdr_size = RP_WIRE_HDR_SIZE;
	h->frame_size = (uint32_t)size;
	rp_wire_encode_hdr(buf, h);
	uint8_t *b = buf + RP_WIRE_HDR_SIZE;
	memset(b, 0, RP_WIRE_RELAY_HDR_SIZE);
	rp_put16(b + 0, RP_WIRE_RELAY_HDR_SIZE);
	memcpy(b + RP_WIRE_RELAY_HDR_SIZE, inner, inner_size);
	return size;
}

enum rp_drop rp_wire_decode_relay(const uint8_t *buf, const struct rp_wire_hdr *h, const uint8_t **inner,
				  size_t *inner_size)
{
	size_t body_size = (size_t)h->frame_size - h->hdr_size;
	const uint8_t *b = buf + h->hdr_size;
	if (body_size < RP_WIRE_RELAY_HDR_SIZE)
		return RP_DROP_TRUNCATED;
	uint16_t body_hdr_size = rp_get16(b + 0);
	if (body_hdr_size < RP_WIRE_RELAY_HDR_SIZE || (size_t)body_hdr_size > body_size)
		return RP_DROP_BAD_BODY;
	if (body_size - body_hdr_size < RP_WIRE_HDR_SIZE)
		return RP_DROP_TRUNCATED;
	*inner = b + body_hdr_size;
	*inner_size = body_size - body_hdr_size;
	return RP_DROP_NONE;
}
