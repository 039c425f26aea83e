/* eng_counters.c — the node's drop reasons as one table: ring-proto's and
 * pmd-glue's, each with its name and its class (docs/ordod.md "Drops").
 *
 * Owns: which drops are harmless — the protocol's normal work (active
 * mode's second copy of every frame, a retransmission that arrives twice,
 * a token meant for another node, frames of a ring being left or formed,
 * the host's own traffic on a shared link) — and which are harmful (a
 * frame that is malformed, too large, from an unknown source, or of a
 * protocol version not spoken here: a bug, a misconfiguration or an
 * attack). The shutdown summary, /ordo/drops, ordoctl and the metrics all
 * iterate this table, so that alerting can watch the harmful ones only.
 *
 * Never: counts; it only names and classifies what rp_stats.drops[] and
 * pmdg's drops[] count.
 *
 * Thread context: any; constant tables only.
 */
#include "eng_internal.h"

/* ring-proto's reasons from RP_DROP_NONE + 1, then pmd-glue's. */
static const struct {
	const char *name;   /* letters, digits and '_' (telemetry, Prometheus labels) */
	uint8_t harmless;
} drops[ENG_DROP_COUNT] = {
	{"truncated", 0}, {"bad_magic", 0}, {"bad_version", 0}, {"bad_type", 0}, {"bad_hdr_size", 0},
	{"bad_frame_size", 0}, {"bad_sender", 0}, {"bad_path", 0}, {"bad_ring", 0}, {"bad_body", 0},
	{"bad_entry", 0}, {"bad_rtr", 0},
	{"foreign_ring", 1}, {"not_member", 1}, {"stale_token", 1}, {"not_for_me", 1}, {"duplicate", 1},
	{"out_of_window", 1}, {"unhandled", 1}, {"stale", 1}, {"busy", 1},
	{"version_mismatch", 0},
	/* pmd-glue */
	{"l2_runt", 0}, {"l2_ethertype", 1}, {"l2_dest", 1}, {"l2_oversize", 0}, {"ip_header", 0},
	{"ip_checksum", 0}, {"ip_fragment", 0}, {"ip_proto", 1}, {"ip_dest", 1}, {"ip_source", 0},
	{"udp_port", 1}, {"udp_length", 0}, {"udp_checksum", 0}, {"arp_malformed", 0}, {"arp_other", 1},
	{"nd_malformed", 0}, {"nd_checksum", 0}, {"nd_other", 1}, {"neigh_conflict", 0},
	{"neigh_ignored", 1},
};

_Static_assert(RP_DROP_VERSION_MISMATCH == RP_DROP_COUNT - 1 && RP_DROP_BUSY == 21 && RP_DROP_BAD_RTR == 12,
	       "eng_counters.c lists ring-proto's drop reasons in their order");
_Static_assert(PMDG_DROP_NEIGH_IGNORED == PMDG_DROP_COUNT - 1 && PMDG_DROP_OVERSIZE == 3,
	       "eng_counters.c lists pmd-glue's drop reasons in their order");

const char *eng_drop_name(unsigned i) { return i < ENG_DROP_COUNT ? drops[i].name : "?"; }
int eng_drop_harmless(unsigned i) { return i < ENG_DROP_COUNT && drops[i].harmless; }

uint64_t eng_drop_value(const struct rp_stats *rs, const uint64_t *l2, unsigned i)
{
	if (i < RP_DROP_COUNT - 1u)
		return rs->drops[i + 1u];
	i -= RP_DROP_COUNT - 1u;
	return i < PMDG_DROP_COUNT ? l2[i] : 0;
}

void eng_drops_summary(const struct rp_stats *rs, const uint64_t *l2, char *out, size_t size)
{
	uint64_t sum[2] = {0, 0};
	for (unsigned i = 0; i < ENG_DROP_COUNT; i++)
		sum[eng_drop_harmless(i)] += eng_drop_value(rs, l2, i);
	size_t n = 0;
	for (int h = 0; h < 2; h++) {
		n += (size_t)snprintf(out + n, size > n ? size - n : 0, "%s%llu %s", h ? "; " : "",
				      (unsigned long long)sum[h], h ? "harmless" : "harmful");
		const char *sep = " (";
		for (unsigned i = 0; i < ENG_DROP_COUNT; i++) {
			uint64_t v = eng_drop_value(rs, l2, i);
			if (v == 0 || eng_drop_harmless(i) != h)
				continue;
			n += (size_t)snprintf(out + n, size > n ? size - n : 0, "%s%s %llu", sep, drops[i].name,
					      (unsigned long long)v);
			sep = ", ";
		}
		if (sep[0] == ',')
			n += (size_t)snprintf(out + n, size > n ? size - n : 0, ")");
	}
}
