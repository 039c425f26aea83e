/* rp_stats.c — the descriptions of ring-proto's counters (rp.h,
 * foreach_rp_counter and foreach_rp_path_counter): name, kind, help and
 * where each lives in struct rp_stats. Data only.
 */
#include "rp.h"

const struct rp_counter_desc rp_stats_desc[RP_STATS_COUNTERS] = {
#define RP_STATS_DESC_(f, kind, help) {#f, kind, help, offsetof(struct rp_stats, f)},
	foreach_rp_counter(RP_STATS_DESC_)
#undef RP_STATS_DESC_
};

const struct rp_counter_desc rp_path_stats_desc[RP_STATS_PATH_COUNTERS] = {
#define RP_PATH_DESC_(f, name, kind, help) {name, kind, help, offsetof(struct rp_stats, f)},
	foreach_rp_path_counter(RP_PATH_DESC_)
#undef RP_PATH_DESC_
};
