/* eng_counters.c — every counter the node reports, for the admin requests
 * (ordoctl stats, drops), the metrics (Prometheus) and the stop summary:
 * one iteration over ring-proto's descriptions (rp_stats_desc,
 * rp_path_stats_desc, rp_drop_desc), the worker's (eng_counter_desc), and
 * the descriptions below of what has none elsewhere: the engine's delivery
 * and client counters, pmd-glue's per-path counters and drop reasons, and
 * frame security's drop reasons. Each has a kind (rp_counter_kind): event,
 * harmless, harmful (docs/ordod.md "Drops: harmful and harmless").
 *
 * Never: counts; it only names, classifies and reads what the snapshot
 * holds.
 *
 * Thread context: any; constant tables only.
 */
#include "eng_internal.h"

#include <stddef.h>
#include <string.h>

#define SNAP(f) offsetof(struct eng_snapshot, f)
#define EV RP_COUNTER_EVENT
#define OK_ RP_COUNTER_HARMLESS
#define BAD RP_COUNTER_HARMFUL

const struct rp_counter_desc eng_counter_desc[] = {
#define ENG_COUNTER_DESC_(f, kind, help) {#f, kind, help, offsetof(struct eng_counters, f)},
	foreach_eng_counter(ENG_COUNTER_DESC_)
#undef ENG_COUNTER_DESC_
};
const size_t eng_counter_desc_count = sizeof(eng_counter_desc) / sizeof(eng_counter_desc[0]);

/* The engine's own, offsets in struct eng_snapshot; gauges marked. */
static const struct {
	struct rp_counter_desc d;
	int gauge;
} extra[] = {
	{{"frames_lent", EV, "received mbufs ring-proto holds now (docs/protocol.md §14)", SNAP(frames_lent)}, 1},
	{{"delivered", EV, "whole application messages delivered", SNAP(delivered)}, 0},
	{{"delivered_bytes", EV, "bytes of whole application messages delivered", SNAP(bytes)}, 0},
	{{"fragments_dropped", BAD, "incomplete messages dropped at a configuration change", SNAP(fragments_dropped)}, 0},
	{{"origin_gaps", BAD, "load messages whose per-sender counter skipped", SNAP(origin_gaps)}, 0},
	{{"load_sent", EV, "load generator messages accepted", SNAP(load_sent)}, 0},
	{{"configs_regular", EV, "regular configurations installed", SNAP(configs_regular)}, 0},
	{{"configs_transitional", EV, "transitional configurations installed", SNAP(configs_transitional)}, 0},
	{{"clients", EV, "clients attached now", SNAP(clients)}, 1},
};

/* pmd-glue's per-path counters (struct pmdg_path_stats). */
static const struct rp_counter_desc pmdg_path_desc[] = {
	{"rx_frames", EV, "frames received", offsetof(struct pmdg_path_stats, rx_frames)},
	{"tx_frames", EV, "frames sent", offsetof(struct pmdg_path_stats, tx_frames)},
	{"rx_bytes", EV, "bytes received", offsetof(struct pmdg_path_stats, rx_bytes)},
	{"tx_bytes", EV, "bytes sent", offsetof(struct pmdg_path_stats, tx_bytes)},
	{"tx_full", OK_, "frames the NIC queue refused: dropped, the protocol repairs", offsetof(struct pmdg_path_stats, tx_full)},
	{"tx_nombuf", BAD, "frames not sent for want of an mbuf", offsetof(struct pmdg_path_stats, tx_nombuf)},
};

/* pmd-glue's drop reasons: their kinds from foreach_pmdg_drop. */
static const uint8_t pmdg_drop_kind[PMDG_DROP_COUNT] = {
#define PMDG_DROP_KIND_(e, name, kind) [PMDG_DROP_##e] = RP_COUNTER_##kind,
	foreach_pmdg_drop(PMDG_DROP_KIND_)
#undef PMDG_DROP_KIND_
};

static uint64_t at(const void *base, size_t off)
{
	uint64_t v;
	memcpy(&v, (const char *)base + off, sizeof(v));
	return v;
}

void eng_counters_each(const struct eng_snapshot *s, eng_counter_fn *fn, void *arg)
{
	for (size_t i = 0; i < RP_STATS_COUNTERS; i++)
		fn(arg, &rp_stats_desc[i], 0, rp_stats_get(&s->rp, &rp_stats_desc[i], 0));
	for (size_t i = 0; i < eng_counter_desc_count; i++)
		fn(arg, &eng_counter_desc[i], 0, at(&s->cnt, eng_counter_desc[i].offset));
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		fn(arg, &extra[i].d, extra[i].gauge, at(s, extra[i].d.offset));
}

void eng_path_counters_each(const struct eng_snapshot *s, unsigned path, eng_counter_fn *fn, void *arg)
{
	for (size_t i = 0; i < sizeof(pmdg_path_desc) / sizeof(pmdg_path_desc[0]); i++)
		fn(arg, &pmdg_path_desc[i], 0, at(&s->paths[path], pmdg_path_desc[i].offset));
	for (size_t i = 0; i < RP_STATS_PATH_COUNTERS; i++)
		fn(arg, &rp_path_stats_desc[i], 0, rp_stats_get(&s->rp, &rp_path_stats_desc[i], path));
}

void eng_drops_each(const struct eng_drop_src *src, eng_counter_fn *fn, void *arg)
{
	for (int r = 1; r < RP_DROP_COUNT; r++) {
		/* names of letters, digits and '_' (telemetry, Prometheus labels) */
		char name[40];
		snprintf(name, sizeof(name), "%s", rp_drop_desc[r].name);
		for (char *c = name; *c != '\0'; c++)
			if (*c == '-')
				*c = '_';
		struct rp_counter_desc d = rp_drop_desc[r];
		d.name = name;
		fn(arg, &d, 0, src->rp[r]);
	}
	for (int r = 0; r < PMDG_DROP_COUNT; r++) {
		struct rp_counter_desc d = {pmdg_drop_name((enum pmdg_drop)r), (enum rp_counter_kind)pmdg_drop_kind[r],
					    "dropped by pmd-glue before ring-proto", 0};
		fn(arg, &d, 0, src->l2[r]);
	}
	/* frame security: a replay window is kept per path, so active mode's
	 * copies are never replays; every one of these is harmful */
	for (int r = 1; r < ENG_CRYPTO_DROP_COUNT; r++) {
		struct rp_counter_desc d = {eng_crypto_drop_name((enum eng_crypto_result)r), BAD,
					    "refused by frame security (docs/security.md)", 0};
		fn(arg, &d, 0, src->crypto != NULL ? src->crypto[r] : 0);
	}
}

struct summary {
	uint64_t sum[2];
	char list[2][768];
	size_t len[2];
};

static void add_drop(void *arg, const struct rp_counter_desc *d, int gauge, uint64_t v)
{
	(void)gauge;
	struct summary *s = arg;
	int h = d->kind == RP_COUNTER_HARMLESS;
	s->sum[h] += v;
	if (v == 0 || s->len[h] >= sizeof(s->list[h]))
		return;
	s->len[h] += (size_t)snprintf(s->list[h] + s->len[h], sizeof(s->list[h]) - s->len[h], "%s%s %llu",
				      s->len[h] ? ", " : "", d->name, (unsigned long long)v);
}

void eng_drops_summary(const struct eng_drop_src *src, char *out, size_t size)
{
	struct summary s;
	memset(&s, 0, sizeof(s));
	eng_drops_each(src, add_drop, &s);
	snprintf(out, size, "%llu harmful%s%s%s; %llu harmless%s%s%s", (unsigned long long)s.sum[0],
		 s.len[0] ? " (" : "", s.list[0], s.len[0] ? ")" : "", (unsigned long long)s.sum[1],
		 s.len[1] ? " (" : "", s.list[1], s.len[1] ? ")" : "");
}
