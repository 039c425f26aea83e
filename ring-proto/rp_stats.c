/* rp_stats.c — the descriptions of ring-proto's counters (rp.h,
 * foreach_rp_counter): name, kind, help and where each lives in struct
 * rp_stats. Data only.
 */
#include "rp.h"

#define RP_DESC_(f, scope, kind, help) {RP_COUNTER_NAME(f, scope), kind, help, offsetof(struct rp_stats, f)},
const struct rp_counter_desc rp_stats_desc[RP_STATS_COUNTERS] = {
#define RP_NODE_DESC_(f, scope, ...) RP_IF_SCOPE(NODE, scope, RP_DESC_(f, scope, __VA_ARGS__))
	foreach_rp_counter(RP_NODE_DESC_)
#undef RP_NODE_DESC_
};

const struct rp_counter_desc rp_path_stats_desc[RP_STATS_PATH_COUNTERS] = {
#define RP_PATH_DESC_(f, scope, ...) RP_IF_SCOPE(PATH, scope, RP_DESC_(f, scope, __VA_ARGS__))
	foreach_rp_counter(RP_PATH_DESC_)
#undef RP_PATH_DESC_
};
