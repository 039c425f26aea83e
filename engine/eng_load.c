/* eng_load.c — what the node does with deliveries until client attach lands,
 * and the built-in load generator (a benchmarking feature that stays).
 *
 * Owns:
 * - reassembly bookkeeping: fragments of a stream (origin, priority) arrive
 *   in order, possibly interleaved with other streams; a message is whole at
 *   its LAST fragment, and a partial one is dropped at the next regular
 *   configuration (docs/protocol.md §8.5 step 5: its sender publishes it
 *   again). Only the first ENG_LOAD_HDR_SIZE bytes are kept: nothing here
 *   needs the whole message yet.
 * - the delivered-sequence digest (docs/ordod.md): a running 64-bit hash
 *   over every whole message in delivery order, and per-origin counter
 *   checks of load messages;
 * - the longest gap between consecutive whole-message deliveries;
 * - the load generator: payload slots (one per message in flight, returned
 *   by RP_ACT_SUBMIT_DONE), a rate limit, a count limit, started once the
 *   node sees a regular configuration of every configured node.
 *
 * Never: keeps a pointer to delivered bytes past the action (they live
 * until the next rp_step), or reuses a slot ring-proto still references.
 */
#include "eng_internal.h"

#include <stdlib.h>
#include <string.h>

#include "ordo_digest.h"

#define ENG_LOAD_MEM_MAX (64u << 20)  /* payload slots take at most this */
#define ENG_LOAD_SLOTS_MAX 4096u
#define ENG_LOAD_PUMP_MAX 256u        /* submits per duty cycle */

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void on_whole(struct eng *e, uint16_t origin, uint32_t client_id, uint8_t service,
		     uint32_t size, const uint8_t *head, uint32_t head_len)
{
	struct eng_delivery *d = &e->dlv;
	uint64_t v = ordo_mix64(((uint64_t)origin << 48) ^ ((uint64_t)service << 40) ^ size);
	v = ordo_mix64(v ^ client_id);
	uint8_t h[ENG_LOAD_HDR_SIZE] = {0};
	memcpy(h, head, head_len);
	for (uint32_t i = 0; i < ENG_LOAD_HDR_SIZE; i += 8)
		v = ordo_mix64(v ^ load_le64(h + i));
	d->digest = ordo_digest_add(d->digest, v);
	d->delivered++;
	d->bytes += size;
	if (d->last_ns != 0 && e->now_ns - d->last_ns > d->max_gap_ns)
		d->max_gap_ns = e->now_ns - d->last_ns;
	d->last_ns = e->now_ns;

	/* A load message: u16 origin, u16 0, u32 0, u64 incarnation, u64 counter. */
	if (client_id != ENG_LOAD_CLIENT || head_len < ENG_LOAD_HDR_SIZE || origin > RP_NODES_MAX)
		return;
	uint16_t claimed = (uint16_t)(h[0] | (h[1] << 8));
	uint64_t inc = load_le64(h + 8), counter = load_le64(h + 16);
	struct eng_origin *o = &d->origins[origin];
	if (claimed != origin) {
		d->origin_gaps++;
		o->gaps++;
		return;
	}
	o->delivered++;
	if (o->incarnation == inc && counter != o->next) {
		d->origin_gaps++;
		o->gaps++;
	}
	o->incarnation = inc;
	o->next = counter + 1;
}

void eng_delivery_on_fragment(struct eng *e, const struct rp_delivery *dv)
{
	if (dv->origin == 0 || dv->origin > RP_NODES_MAX || dv->priority >= RP_PRIO_COUNT)
		return; /* ring-proto validated these; defensive */
	if ((dv->flags & (RP_ENTRY_F_FIRST | RP_ENTRY_F_LAST)) == (RP_ENTRY_F_FIRST | RP_ENTRY_F_LAST)) {
		uint32_t n = dv->chunk_size < ENG_LOAD_HDR_SIZE ? dv->chunk_size : ENG_LOAD_HDR_SIZE;
		on_whole(e, dv->origin, dv->client_id, dv->service, dv->msg_size, dv->data, n);
		return;
	}
	struct eng_stream *s = &e->dlv.streams[dv->origin - 1][dv->priority];
	if (dv->flags & RP_ENTRY_F_FIRST) {
		if (s->active)
			e->dlv.fragments_dropped++; /* ring-proto restarts a stream only at a configuration */
		s->active = 1;
		s->client_id = dv->client_id;
		s->msg_size = dv->msg_size;
		s->got = 0;
	} else if (!s->active || s->client_id != dv->client_id || s->msg_size != dv->msg_size ||
		   s->got != dv->frag_offset) {
		/* Not the continuation this stream expects: it cannot be made whole. */
		e->dlv.fragments_dropped++;
		s->active = 0;
		return;
	}
	if (s->got < ENG_LOAD_HDR_SIZE) {
		uint32_t n = ENG_LOAD_HDR_SIZE - s->got;
		if (n > dv->chunk_size)
			n = dv->chunk_size;
		memcpy(s->head + s->got, dv->data, n);
	}
	s->got += dv->chunk_size;
	if (dv->flags & RP_ENTRY_F_LAST) {
		s->active = 0;
		on_whole(e, dv->origin, s->client_id, dv->service, s->msg_size, s->head,
			 s->msg_size < ENG_LOAD_HDR_SIZE ? s->msg_size : ENG_LOAD_HDR_SIZE);
	}
}

void eng_delivery_on_config(struct eng *e, const struct rp_configuration *c)
{
	if (c->kind != RP_CONFIG_REGULAR)
		return;
	for (uint32_t o = 0; o < RP_NODES_MAX; o++)
		for (uint32_t p = 0; p < RP_PRIO_COUNT; p++)
			if (e->dlv.streams[o][p].active) {
				e->dlv.streams[o][p].active = 0;
				e->dlv.fragments_dropped++;
			}
}

/* ---- the load generator ---- */

int eng_load_init(struct eng *e)
{
	const struct eng_load_conf *lc = &e->cfg.load;
	if (lc->size == 0)
		return 0;
	uint32_t slots = ENG_LOAD_MEM_MAX / lc->size;
	if (slots > ENG_LOAD_SLOTS_MAX)
		slots = ENG_LOAD_SLOTS_MAX;
	if (slots > e->cfg.rp.submit_queue_max * RP_PRIO_COUNT)
		slots = e->cfg.rp.submit_queue_max * RP_PRIO_COUNT;
	if (slots < 2)
		slots = 2;
	e->load.mem = malloc((size_t)slots * lc->size);
	e->load.free_slots = malloc(slots * sizeof(uint32_t));
	if (e->load.mem == NULL || e->load.free_slots == NULL)
		return -1;
	for (size_t i = 0; i < (size_t)slots * lc->size; i++)
		e->load.mem[i] = (uint8_t)(i * 131u + 7u);
	for (uint32_t i = 0; i < slots; i++)
		e->load.free_slots[i] = slots - 1u - i;
	e->load.slot_count = slots;
	e->load.free_count = slots;
	return 0;
}

void eng_load_free(struct eng *e)
{
	free(e->load.mem);
	free(e->load.free_slots);
	e->load.mem = NULL;
	e->load.free_slots = NULL;
}

void eng_load_on_config(struct eng *e, const struct rp_configuration *c)
{
	if (e->cfg.load.size == 0 || e->load.armed || c->member_count != e->cfg.rp.member_count)
		return;
	e->load.armed = 1;
	e->load.start_ns = e->now_ns + e->cfg.load.start_delay_ns;
	ENG_LOG(NOTICE, e, "load: %u-byte messages from %llu ms on, rate %llu/s (0: flood), count %llu (0: no limit)",
		e->cfg.load.size, (unsigned long long)(e->cfg.load.start_delay_ns / 1000000u),
		(unsigned long long)e->cfg.load.rate, (unsigned long long)e->cfg.load.count);
}

void eng_load_submit_done(struct eng *e, uint64_t cookie)
{
	if (cookie < e->load.slot_count && e->load.free_count < e->load.slot_count)
		e->load.free_slots[e->load.free_count++] = (uint32_t)cookie;
}

uint32_t eng_load_pump(struct eng *e)
{
	const struct eng_load_conf *lc = &e->cfg.load;
	struct eng_load *l = &e->load;
	if (!l->armed || l->done || e->now_ns < l->start_ns)
		return 0;
	uint64_t allowed = ENG_LOAD_PUMP_MAX;
	if (lc->rate != 0) {
		uint64_t due = (uint64_t)(((unsigned __int128)(e->now_ns - l->start_ns) * lc->rate) / 1000000000u) + 1u;
		allowed = due > l->sent ? due - l->sent : 0;
		if (allowed > ENG_LOAD_PUMP_MAX)
			allowed = ENG_LOAD_PUMP_MAX;
	}
	uint32_t n = 0;
	while (n < allowed && l->free_count > 0) {
		if (lc->count != 0 && l->sent >= lc->count) {
			l->done = 1;
			ENG_LOG(NOTICE, e, "load: all %llu messages sent", (unsigned long long)lc->count);
			break;
		}
		/* Popped before the step: a SUBMIT_DONE during it pushes slots. */
		uint32_t slot = l->free_slots[--l->free_count];
		uint8_t *m = l->mem + (size_t)slot * lc->size;
		uint16_t id = e->cfg.rp.node_id;
		memset(m, 0, 8);
		m[0] = (uint8_t)id;
		m[1] = (uint8_t)(id >> 8);
		uint64_t inc = e->cfg.rp.incarnation, ctr = l->sent;
		for (int i = 0; i < 8; i++) {
			m[8 + i] = (uint8_t)(inc >> (8 * i));
			m[16 + i] = (uint8_t)(ctr >> (8 * i));
		}
		struct rp_input in = rp_input_submit(m, lc->size, ENG_LOAD_CLIENT, lc->service, lc->priority, slot);
		int rc = eng_step(e, &in);
		if (rc != RP_OK) {
			l->free_slots[l->free_count++] = slot;
			if (rc > 0 && rc <= RP_ENOQUORUM)
				l->refused[rc]++;
			break; /* full (retry next cycle), or refused */
		}
		l->sent++;
		n++;
	}
	if (lc->count != 0 && l->sent >= lc->count && !l->done) {
		l->done = 1;
		ENG_LOG(NOTICE, e, "load: all %llu messages sent", (unsigned long long)lc->count);
	}
	return n;
}

uint64_t eng_load_next_ns(const struct eng *e)
{
	const struct eng_load_conf *lc = &e->cfg.load;
	const struct eng_load *l = &e->load;
	if (!l->armed || l->done)
		return UINT64_MAX;
	if (e->now_ns < l->start_ns)
		return l->start_ns;
	if (lc->rate == 0 || l->free_count == 0)
		return l->free_count == 0 ? UINT64_MAX : e->now_ns; /* flood: now, unless all in flight */
	/* message number `sent` is due once (t - start) * rate >= sent * 1e9 */
	return l->start_ns + (uint64_t)(((unsigned __int128)l->sent * 1000000000u + lc->rate - 1u) / lc->rate);
}
