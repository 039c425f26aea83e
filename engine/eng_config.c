/* eng_config.c — the node's configuration file (format in docs/ordod.md).
 *
 * Owns: reading the INI file through DPDK's rte_cfgfile, checking every
 * section, key and value, filling struct eng_config (with ring-proto's
 * struct rp_config inside), the timeout profiles, and the EAL arguments.
 *
 * Never: accepts an unknown section or key, a duplicate, or a value with
 * trailing garbage (a typo must not silently keep a default); reports more
 * than one line per error; runs after the EAL (it builds the EAL's
 * arguments, so it cannot use the EAL's logging).
 */
#include "eng.h"

#include <errno.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>
#include <rte_log.h>

#include "pmdg.h"

#define US 1000ull
#define MS 1000000ull
#define ENG_SECTION_MAX 16
#define ENG_ENTRY_MAX 64

/* Timeout profiles (docs/ordod.md "Timeouts"). */
struct eng_profile {
	uint64_t token_retransmit_ns, token_loss_ns, join_ns, consensus_ns, merge_ns;
	uint64_t rrp_timeout_ns, rrp_probe_ns;
	uint64_t token_hold_ns;
};

static const struct eng_profile profile_shared = {
	.token_retransmit_ns = 30 * MS, .token_loss_ns = 250 * MS, .join_ns = 30 * MS,
	.consensus_ns = 300 * MS, .merge_ns = 100 * MS, .rrp_timeout_ns = 20 * MS,
	.rrp_probe_ns = 100 * MS, .token_hold_ns = 10 * MS,
};
static const struct eng_profile profile_dedicated = {
	.token_retransmit_ns = 2 * MS, .token_loss_ns = 10 * MS, .join_ns = 2 * MS,
	.consensus_ns = 12 * MS, .merge_ns = 10 * MS, .rrp_timeout_ns = 1 * MS,
	.rrp_probe_ns = 10 * MS, .token_hold_ns = 0,
};

struct parse {
	struct rte_cfgfile *f;
	char *err;
	size_t err_size;
	int failed;
};

static int fail(struct parse *ps, const char *sec, const char *key, const char *val, const char *fmt, ...)
{
	if (ps->failed)
		return -1;
	ps->failed = 1;
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (key != NULL)
		snprintf(ps->err, ps->err_size, "%s.%s = '%s': %s", sec, key, val ? val : "", why);
	else
		snprintf(ps->err, ps->err_size, "[%s]: %s", sec, why);
	return -1;
}

static const char *get(struct parse *ps, const char *sec, const char *key)
{
	const char *v = rte_cfgfile_get_entry(ps->f, sec, key);
	return (v != NULL && v[0] != '\0') ? v : NULL;
}

/* A decimal unsigned integer in [min, max]; absent keeps *out. */
static int get_u64(struct parse *ps, const char *sec, const char *key, uint64_t min, uint64_t max,
		   uint64_t *out)
{
	const char *v = get(ps, sec, key);
	if (v == NULL)
		return 0;
	if (v[0] < '0' || v[0] > '9')
		return fail(ps, sec, key, v, "not a non-negative integer");
	errno = 0;
	char *end;
	unsigned long long x = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0')
		return fail(ps, sec, key, v, "not a non-negative integer");
	if (x < min || x > max)
		return fail(ps, sec, key, v, "must be in %llu..%llu", (unsigned long long)min,
			    (unsigned long long)max);
	*out = x;
	return 0;
}

static int get_u32(struct parse *ps, const char *sec, const char *key, uint32_t min, uint32_t max,
		   uint32_t *out)
{
	uint64_t x = *out;
	if (get_u64(ps, sec, key, min, max, &x) != 0)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

/* A duration in microseconds, stored in ns. */
static int get_us(struct parse *ps, const char *sec, const char *key, uint64_t *ns)
{
	uint64_t us = *ns / US;
	const char *v = get(ps, sec, key);
	if (v == NULL)
		return 0;
	if (get_u64(ps, sec, key, 1, 3600ull * 1000 * 1000, &us) != 0)
		return -1;
	*ns = us * US;
	return 0;
}

/* token_hold_us: 0 turns the hold off. */
static int get_hold(struct parse *ps, uint64_t *ns)
{
	uint64_t us = *ns / US;
	if (get_u64(ps, "ring", "token_hold_us", 0, 1000000, &us) != 0)
		return -1;
	*ns = us * US;
	return 0;
}

/* One of names[]; returns its index in *out. */
static int get_enum(struct parse *ps, const char *sec, const char *key, const char *const *names,
		    int count, int *out)
{
	const char *v = get(ps, sec, key);
	if (v == NULL)
		return 0;
	char list[128] = "";
	for (int i = 0; i < count; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? " | " : "", names[i]);
	}
	return fail(ps, sec, key, v, "must be one of %s", list);
}

static int get_bool(struct parse *ps, const char *sec, const char *key, int *out)
{
	static const char *const names[] = {"no", "yes", "false", "true", "0", "1", "off", "on"};
	int i = *out;
	if (get_enum(ps, sec, key, names, 8, &i) != 0)
		return -1;
	*out = i & 1;
	return 0;
}

static int get_str(struct parse *ps, const char *sec, const char *key, char *out, size_t size)
{
	const char *v = get(ps, sec, key);
	if (v == NULL)
		return 0;
	if (strlen(v) >= size)
		return fail(ps, sec, key, v, "longer than %zu characters", size - 1);
	snprintf(out, size, "%s", v);
	return 0;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static int parse_nodes(struct parse *ps, struct rp_config *rp)
{
	const char *v = get(ps, "ring", "nodes");
	if (v == NULL)
		return fail(ps, "ring", "nodes", "", "required: every node id of the ring, e.g. 1,2,3");
	uint16_t ids[RP_NODES_MAX];
	uint32_t n = 0;
	const char *p = v;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		char *end;
		errno = 0;
		unsigned long x = strtoul(p, &end, 10);
		if (end == p || errno != 0 || x < 1 || x > RP_NODES_MAX)
			return fail(ps, "ring", "nodes", v, "node ids are integers in 1..%u separated by commas",
				    RP_NODES_MAX);
		if (n == RP_NODES_MAX)
			return fail(ps, "ring", "nodes", v, "more than %u nodes", RP_NODES_MAX);
		ids[n++] = (uint16_t)x;
		p = end;
		while (*p == ' ')
			p++;
		if (*p == ',')
			p++;
		else if (*p != '\0')
			return fail(ps, "ring", "nodes", v, "node ids are integers separated by commas");
	}
	if (n == 0)
		return fail(ps, "ring", "nodes", v, "no node ids");
	qsort(ids, n, sizeof(ids[0]), cmp_u16);
	for (uint32_t i = 1; i < n; i++)
		if (ids[i] == ids[i - 1])
			return fail(ps, "ring", "nodes", v, "node %u is listed twice", ids[i]);
	memcpy(rp->members, ids, n * sizeof(ids[0]));
	rp->member_count = (uint16_t)n;
	return 0;
}

/* Every section and key must be known and appear once. */
static const char *const node_keys[] = {"id", "state_dir", "idle", "backoff_yield_us", "backoff_sleep_us",
					"zero_copy", "log_level", "socket",
					"client_evict_ms", NULL};
static const char *const eal_keys[] = {"lcores", "file_prefix", "memory_mb", "hugepages", "args", NULL};
static const char *const ring_keys[] = {
	"id", "nodes", "rrp_mode", "quorum", "quorum_publish", "mtu", "max_message_size",
	"window_size", "max_messages", "accelerated_window", "store_slots", "submit_queue", "rtr_max", "profile",
	"token_retransmit_us", "token_loss_us", "token_hold_us", "join_us", "consensus_us", "merge_us",
	"fail_recv_const", "rrp_timeout_us", "rrp_threshold", "rrp_decay_us", "rrp_probe_us", NULL};
static const char *const path_keys[] = {"device", "rx_ring", "tx_ring", "mbufs", NULL};
static const char *const load_keys[] = {"size", "rate", "count", "service", "priority",
					"start_delay_ms", NULL};

static const char *const *keys_of(const char *sec)
{
	if (strcmp(sec, "node") == 0)
		return node_keys;
	if (strcmp(sec, "eal") == 0)
		return eal_keys;
	if (strcmp(sec, "ring") == 0)
		return ring_keys;
	if (strcmp(sec, "load") == 0)
		return load_keys;
	if (strncmp(sec, "path", 4) == 0 && sec[4] >= '0' && sec[4] < '0' + (int)RP_PATHS_MAX &&
	    sec[5] == '\0')
		return path_keys;
	return NULL;
}

static int check_names(struct parse *ps)
{
	int ns = rte_cfgfile_num_sections(ps->f, NULL, 0);
	if (ns < 0 || ns > ENG_SECTION_MAX)
		return fail(ps, "file", NULL, NULL, "%d sections (at most %d)", ns, ENG_SECTION_MAX);
	char names[ENG_SECTION_MAX][CFG_NAME_LEN];
	char *ptrs[ENG_SECTION_MAX];
	for (int i = 0; i < ENG_SECTION_MAX; i++)
		ptrs[i] = names[i];
	ns = rte_cfgfile_sections(ps->f, ptrs, ENG_SECTION_MAX);
	for (int i = 0; i < ns; i++) {
		for (int j = 0; j < i; j++)
			if (strcmp(names[i], names[j]) == 0)
				return fail(ps, names[i], NULL, NULL, "section appears twice");
		const char *const *keys = keys_of(names[i]);
		if (keys == NULL)
			return fail(ps, names[i], NULL, NULL,
				    "unknown section (node, eal, ring, path0..path%u, load)", RP_PATHS_MAX - 1);
		struct rte_cfgfile_entry entries[ENG_ENTRY_MAX];
		int ne = rte_cfgfile_section_entries(ps->f, names[i], entries, ENG_ENTRY_MAX);
		if (ne < 0 || ne >= ENG_ENTRY_MAX)
			return fail(ps, names[i], NULL, NULL, "too many keys");
		for (int k = 0; k < ne; k++) {
			int known = 0;
			for (const char *const *kk = keys; *kk != NULL; kk++)
				known |= strcmp(*kk, entries[k].name) == 0;
			if (!known)
				return fail(ps, names[i], entries[k].name, entries[k].value, "unknown key");
			for (int j = 0; j < k; j++)
				if (strcmp(entries[j].name, entries[k].name) == 0)
					return fail(ps, names[i], entries[k].name, entries[k].value,
						    "key appears twice in the section");
		}
	}
	return 0;
}

static int parse_node(struct parse *ps, struct eng_config *c)
{
	uint64_t id = 0;
	if (get(ps, "node", "id") == NULL)
		return fail(ps, "node", "id", "", "required: this node's id (1..%u)", RP_NODES_MAX);
	if (get_u64(ps, "node", "id", 1, RP_NODES_MAX, &id) != 0)
		return -1;
	c->rp.node_id = (uint16_t)id;
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/ordo/n%u", c->rp.node_id);
	if (get_str(ps, "node", "state_dir", c->state_dir, sizeof(c->state_dir)) != 0)
		return -1;
	/* the default socket follows [eal] file_prefix (parse_eal) */
	if (get_str(ps, "node", "socket", c->socket_path, sizeof(c->socket_path)) != 0)
		return -1;
	c->client_evict_ms = 2000;
	if (get_u64(ps, "node", "client_evict_ms", 10, 3600000, &c->client_evict_ms) != 0)
		return -1;
	static const char *const idles[] = {"spin", "yield", "backoff", "block"};
	int idle = ENG_IDLE_BACKOFF;
	if (get_enum(ps, "node", "idle", idles, 4, &idle) != 0)
		return -1;
	c->idle = (enum eng_idle)idle;
	c->zero_copy = 1;
	if (get_bool(ps, "node", "zero_copy", &c->zero_copy) != 0)
		return -1;
	uint64_t yield_us = 1000, sleep_us = 100;
	if (get_u64(ps, "node", "backoff_yield_us", 0, 1000000, &yield_us) != 0 ||
	    get_u64(ps, "node", "backoff_sleep_us", 1, 100000, &sleep_us) != 0)
		return -1;
	c->backoff_yield_ns = yield_us * 1000u;
	c->backoff_sleep_ns = sleep_us * 1000u;
	static const char *const levels[] = {"error", "warning", "notice", "info", "debug"};
	int lvl = 3;
	if (get_enum(ps, "node", "log_level", levels, 5, &lvl) != 0)
		return -1;
	c->log_level = RTE_LOG_ERR + lvl;
	return 0;
}

static int parse_eal(struct parse *ps, struct eng_config *c)
{
	snprintf(c->file_prefix, sizeof(c->file_prefix), "ordo-n%u", c->rp.node_id);
	c->memory_mb = 256;
	if (get_str(ps, "eal", "lcores", c->lcores, sizeof(c->lcores)) != 0 ||
	    get_str(ps, "eal", "file_prefix", c->file_prefix, sizeof(c->file_prefix)) != 0 ||
	    get_u32(ps, "eal", "memory_mb", 16, 1u << 20, &c->memory_mb) != 0 ||
	    get_bool(ps, "eal", "hugepages", &c->hugepages) != 0 ||
	    get_str(ps, "eal", "args", c->eal_args, sizeof(c->eal_args)) != 0)
		return -1;
	for (const char *p = c->file_prefix; *p != '\0'; p++)
		if (*p == '/' || *p == ' ')
			return fail(ps, "eal", "file_prefix", c->file_prefix, "must not contain '/' or spaces");
	/* "socket =" (empty): no control socket; absent: one per file prefix */
	if (!rte_cfgfile_has_entry(ps->f, "node", "socket"))
		snprintf(c->socket_path, sizeof(c->socket_path), "/run/ordo/%s.sock", c->file_prefix);
	return 0;
}

static void apply_profile(struct rp_config *rp, const struct eng_profile *p)
{
	rp->token_retransmit_ns = p->token_retransmit_ns;
	rp->token_loss_ns = p->token_loss_ns;
	rp->join_ns = p->join_ns;
	rp->consensus_ns = p->consensus_ns;
	rp->merge_ns = p->merge_ns;
	rp->rrp_timeout_ns = p->rrp_timeout_ns;
	rp->rrp_probe_ns = p->rrp_probe_ns;
	rp->token_hold_ns = p->token_hold_ns;
}

static int parse_ring(struct parse *ps, struct eng_config *c)
{
	struct rp_config *rp = &c->rp;
	uint64_t rid = 0;
	if (get(ps, "ring", "id") == NULL)
		return fail(ps, "ring", "id", "", "required: the ring's number (1..255)");
	if (get_u64(ps, "ring", "id", 1, 255, &rid) != 0 || parse_nodes(ps, rp) != 0)
		return -1;
	c->ring_id = (uint8_t)rid;
	int found = 0;
	for (uint32_t i = 0; i < rp->member_count; i++)
		found |= rp->members[i] == rp->node_id;
	if (!found) {
		char v[16];
		snprintf(v, sizeof(v), "%u", rp->node_id);
		return fail(ps, "node", "id", v, "not one of [ring] nodes");
	}
	static const char *const modes[] = {"active", "passive"};
	static const char *const quorums[] = {"majority", "two_node", "last_man_standing"};
	static const char *const profiles[] = {"shared", "dedicated"};
	int mode = RP_RRP_ACTIVE, q = RP_QUORUM_MAJORITY, prof = c->idle == ENG_IDLE_SPIN;
	if (get_enum(ps, "ring", "rrp_mode", modes, 2, &mode) != 0 ||
	    get_enum(ps, "ring", "quorum", quorums, 3, &q) != 0 ||
	    get_bool(ps, "ring", "quorum_publish", &rp->quorum_publish) != 0 ||
	    get_enum(ps, "ring", "profile", profiles, 2, &prof) != 0)
		return -1;
	rp->rrp_mode = (enum rp_rrp_mode)mode;
	rp->quorum = (enum rp_quorum)q;
	if (rp->quorum == RP_QUORUM_TWO_NODE && rp->member_count != 2)
		return fail(ps, "ring", "quorum", "two_node", "needs exactly two [ring] nodes, not %u",
			    rp->member_count);
	c->profile_dedicated = prof;
	apply_profile(rp, prof ? &profile_dedicated : &profile_shared);

	c->mtu = 9000;
	uint32_t rtr = rp->rtr_max;
	rp->accelerated_window = UINT32_MAX; /* not set: 3/4 of max_messages, below */
	if (get_u32(ps, "ring", "mtu", 576, 65535, &c->mtu) != 0 ||
	    get_u32(ps, "ring", "max_message_size", 0, UINT32_MAX, &rp->message_size_max) != 0 ||
	    get_u32(ps, "ring", "window_size", 1, 1u << 18, &rp->window_size) != 0 ||
	    get_u32(ps, "ring", "max_messages", 1, 1u << 18, &rp->max_messages) != 0 ||
	    get_u32(ps, "ring", "accelerated_window", 0, 1u << 18, &rp->accelerated_window) != 0 ||
	    get_u32(ps, "ring", "store_slots", 16, 1u << 20, &rp->store_slots) != 0 ||
	    get_u32(ps, "ring", "submit_queue", 1, 1u << 20, &rp->submit_queue_max) != 0 ||
	    get_u32(ps, "ring", "rtr_max", 1, RP_WIRE_RTR_MAX, &rtr) != 0 ||
	    get_us(ps, "ring", "token_retransmit_us", &rp->token_retransmit_ns) != 0 ||
	    get_us(ps, "ring", "token_loss_us", &rp->token_loss_ns) != 0 ||
	    get_hold(ps, &rp->token_hold_ns) != 0 ||
	    get_us(ps, "ring", "join_us", &rp->join_ns) != 0 ||
	    get_us(ps, "ring", "consensus_us", &rp->consensus_ns) != 0 ||
	    get_us(ps, "ring", "merge_us", &rp->merge_ns) != 0 ||
	    get_u32(ps, "ring", "fail_recv_const", 1, 1u << 30, &rp->fail_recv_const) != 0 ||
	    get_us(ps, "ring", "rrp_timeout_us", &rp->rrp_timeout_ns) != 0 ||
	    get_u32(ps, "ring", "rrp_threshold", 1, 1u << 20, &rp->rrp_threshold) != 0 ||
	    get_us(ps, "ring", "rrp_decay_us", &rp->rrp_decay_ns) != 0 ||
	    get_us(ps, "ring", "rrp_probe_us", &rp->rrp_probe_ns) != 0)
		return -1;
	rp->rtr_max = (uint16_t)rtr;
	/* The Accelerated Ring is on by default: the last 3/4 of a busy
	 * visit's frames go after the token (docs/performance.md measured
	 * +40 % msgs/s at MTU 1500 on this VM's topology; protocol.md §13). */
	if (rp->accelerated_window == UINT32_MAX)
		rp->accelerated_window = rp->max_messages * 3u / 4u;
	rp->frame_size_max = c->mtu;
	if (rp->message_size_max == 0)
		return fail(ps, "ring", "max_message_size", "0", "must be at least 1");
	if (rp->message_size_max > UINT32_MAX - ENG_ENVELOPE_MAX)
		return fail(ps, "ring", "max_message_size", get(ps, "ring", "max_message_size"), "too large");
	/* a client message travels in an envelope (its group name): the ring
	 * carries up to that much more, so the applications get the whole
	 * configured size (docs/attach.md §4) */
	rp->message_size_max += ENG_ENVELOPE_MAX;
	if ((rp->store_slots & (rp->store_slots - 1u)) != 0) {
		char v[16];
		snprintf(v, sizeof(v), "%u", rp->store_slots);
		return fail(ps, "ring", "store_slots", v, "must be a power of two");
	}
	if (rp->token_loss_ns <= rp->token_retransmit_ns)
		return fail(ps, "ring", "token_loss_us", get(ps, "ring", "token_loss_us"),
			    "must be greater than token_retransmit_us (%llu)",
			    (unsigned long long)(rp->token_retransmit_ns / US));
	if (rp->token_hold_ns != 0 && rp->token_hold_ns >= rp->token_retransmit_ns / 2) {
		char v[24];
		snprintf(v, sizeof(v), "%llu", (unsigned long long)(rp->token_hold_ns / US));
		return fail(ps, "ring", "token_hold_us", v, "must be 0 (off) or below token_retransmit_us / 2 (%llu)",
			    (unsigned long long)(rp->token_retransmit_ns / US / 2));
	}
	if (rp->consensus_ns <= rp->join_ns)
		return fail(ps, "ring", "consensus_us", get(ps, "ring", "consensus_us"),
			    "must be greater than join_us (%llu)", (unsigned long long)(rp->join_ns / US));
	return 0;
}

static uint32_t device_framesz(const char *device)
{
	const char *p = strstr(device, "framesz=");
	if (p == NULL)
		return 0;
	return (uint32_t)strtoul(p + 8, NULL, 10);
}

static int parse_paths(struct parse *ps, struct eng_config *c)
{
	uint8_t n = 0;
	for (uint8_t k = 0; k < RP_PATHS_MAX; k++) {
		char sec[8];
		snprintf(sec, sizeof(sec), "path%u", k);
		if (!rte_cfgfile_has_section(ps->f, sec))
			continue;
		if (k != n)
			return fail(ps, sec, NULL, NULL, "paths must be numbered from path0 without gaps");
		struct eng_path_conf *pc = &c->path[k];
		pc->rx_desc = 1024;
		pc->tx_desc = 1024;
		pc->mbufs = 2047;
		uint32_t rx = pc->rx_desc, tx = pc->tx_desc;
		if (get(ps, sec, "device") == NULL)
			return fail(ps, sec, "device", "", "required: a vdev string or a PCI address");
		if (get_str(ps, sec, "device", pc->device, sizeof(pc->device)) != 0 ||
		    get_u32(ps, sec, "rx_ring", 32, 32768, &rx) != 0 ||
		    get_u32(ps, sec, "tx_ring", 32, 32768, &tx) != 0 ||
		    get_u32(ps, sec, "mbufs", 255, 1u << 22, &pc->mbufs) != 0)
			return -1;
		pc->rx_desc = (uint16_t)rx;
		pc->tx_desc = (uint16_t)tx;
		char name[64];
		if (pmdg_device_name(pc->device, name, sizeof(name)) < 0)
			return fail(ps, sec, "device", pc->device,
				    "neither a vdev (net_<driver><n>,args...) nor a PCI address");
		for (uint8_t j = 0; j < k; j++) {
			char other[64];
			(void)pmdg_device_name(c->path[j].device, other, sizeof(other));
			if (strcmp(name, other) == 0)
				return fail(ps, sec, "device", pc->device, "the same port as path%u", j);
		}
		pc->framesz = device_framesz(pc->device);
		n++;
	}
	if (n == 0)
		return fail(ps, "path0", NULL, NULL, "missing: at least one path section is required");
	c->rp.path_count = n;
	return 0;
}

static int parse_load(struct parse *ps, struct eng_config *c)
{
	struct eng_load_conf *l = &c->load;
	l->service = RP_SERVICE_AGREED;
	l->priority = 1;
	static const char *const services[] = {"agreed", "safe"};
	int svc = 0;
	uint32_t prio = l->priority;
	uint64_t delay_ms = 0;
	if (get_u32(ps, "load", "size", 0, UINT32_MAX, &l->size) != 0 ||
	    get_u64(ps, "load", "rate", 0, 100000000ull, &l->rate) != 0 ||
	    get_u64(ps, "load", "count", 0, UINT64_MAX, &l->count) != 0 ||
	    get_enum(ps, "load", "service", services, 2, &svc) != 0 ||
	    get_u32(ps, "load", "priority", 0, RP_PRIO_COUNT - 1, &prio) != 0 ||
	    get_u64(ps, "load", "start_delay_ms", 0, 3600000, &delay_ms) != 0)
		return -1;
	l->service = svc ? RP_SERVICE_SAFE : RP_SERVICE_AGREED;
	l->priority = (uint8_t)prio;
	l->start_delay_ns = delay_ms * MS;
	if (l->size != 0 && l->size < ENG_LOAD_HDR_SIZE) {
		char v[16];
		snprintf(v, sizeof(v), "%u", l->size);
		return fail(ps, "load", "size", v, "0 (off) or at least %u (the load header)", ENG_LOAD_HDR_SIZE);
	}
	if (l->size > c->rp.message_size_max - ENG_ENVELOPE_MAX) {
		char v[16];
		snprintf(v, sizeof(v), "%u", l->size);
		return fail(ps, "load", "size", v, "larger than [ring] max_message_size (%u)",
			    c->rp.message_size_max - ENG_ENVELOPE_MAX);
	}
	return 0;
}

/* rte_cfgfile knows one comment character and skips some malformed lines
 * silently. So the file is read here first: `;` and `#` start a comment
 * anywhere on a line, every other line must be blank, a [section] or a
 * key = value, and what rte_cfgfile parses is the cleaned text, in a memory
 * file. Returns the memory file's descriptor, or -1 with err set. */
static int clean_file(const char *file, char *err, size_t err_size)
{
	FILE *f = fopen(file, "r");
	if (f == NULL) {
		snprintf(err, err_size, "%s: %s", file, strerror(errno));
		return -1;
	}
	int fd = memfd_create("ordo-config", MFD_CLOEXEC);
	if (fd < 0) {
		snprintf(err, err_size, "%s: cannot make a memory file: %s", file, strerror(errno));
		fclose(f);
		return -1;
	}
	char line[1024];
	int n = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		n++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			snprintf(err, err_size, "%s: line %d: longer than %zu characters", file, n, sizeof(line) - 2);
			rc = -1;
			break;
		}
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		p[strcspn(p, ";#\r\n")] = '\0';
		size_t len = strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			p[--len] = '\0';
		if (len != 0 && (p[0] == '[' ? (p[len - 1] != ']' || len < 3)
					   : (strchr(p, '=') == NULL || p[0] == '='))) {
			snprintf(err, err_size, "%s: line %d: not '[section]' or 'key = value'", file, n);
			rc = -1;
			break;
		}
		p[len] = '\n';
		if (write(fd, p, len + 1) != (ssize_t)(len + 1)) {
			snprintf(err, err_size, "%s: cannot copy: %s", file, strerror(errno));
			rc = -1;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, err_size, "%s: read error", file);
		rc = -1;
	}
	fclose(f);
	if (rc != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int eng_config_load(const char *file, struct eng_config *c, char *err, size_t err_size)
{
	memset(c, 0, sizeof(*c));
	rp_config_default(&c->rp, 1);
	int fd = clean_file(file, err, err_size);
	if (fd < 0)
		return -1;
	char clean[64];
	snprintf(clean, sizeof(clean), "/proc/self/fd/%d", fd);
	struct parse ps = {.err = err, .err_size = err_size};
	ps.f = rte_cfgfile_load(clean, CFG_FLAG_EMPTY_VALUES);
	close(fd);
	if (ps.f == NULL) {
		snprintf(err, err_size, "%s: not a valid INI file (a line outside [section], a bad "
			 "section header, or a line without '=')", file);
		return -1;
	}
	int rc = check_names(&ps);
	if (rc == 0)
		rc = parse_node(&ps, c);
	if (rc == 0)
		rc = parse_eal(&ps, c);
	if (rc == 0)
		rc = parse_ring(&ps, c);
	if (rc == 0)
		rc = parse_paths(&ps, c);
	if (rc == 0)
		rc = parse_load(&ps, c);
	rte_cfgfile_close(ps.f);
	if (rc != 0)
		return -1;
	const char *why = NULL;
	if (rp_config_check(&c->rp, &why) != 0) {
		snprintf(err, err_size, "[ring]: %s", why);
		return -1;
	}
	return 0;
}

void eng_config_print(const struct eng_config *c, FILE *out)
{
	static const char *const idles[] = {"spin", "yield", "backoff", "block"};
	const struct rp_config *rp = &c->rp;
	fprintf(out, "node %u of ring %u, nodes", rp->node_id, c->ring_id);
	for (uint32_t i = 0; i < rp->member_count; i++)
		fprintf(out, "%s%u", i ? "," : " ", rp->members[i]);
	fprintf(out, "\n  state_dir %s, idle %s, profile %s, zero_copy %s\n", c->state_dir, idles[c->idle],
		c->profile_dedicated ? "dedicated" : "shared", c->zero_copy ? "yes" : "no");
	if (c->idle == ENG_IDLE_BACKOFF)
		fprintf(out, "  backoff: yield while work came within %llu us, then sleep %llu us at a time\n",
			(unsigned long long)(c->backoff_yield_ns / US), (unsigned long long)(c->backoff_sleep_ns / US));
	fprintf(out, "  rrp %s, quorum %s%s, mtu %u, max message %u, window %u, max_messages %u, accelerated_window %u\n",
		rp->rrp_mode == RP_RRP_ACTIVE ? "active" : "passive",
		rp->quorum == RP_QUORUM_MAJORITY ? "majority" :
		rp->quorum == RP_QUORUM_TWO_NODE ? "two_node" : "last_man_standing",
		rp->quorum_publish ? " (publish needs quorum)" : "", c->mtu, rp->message_size_max - ENG_ENVELOPE_MAX,
		rp->window_size, rp->max_messages, rp->accelerated_window);
	fprintf(out, "  timeouts (us): token retransmit %llu, token loss %llu, token hold %llu, join %llu, consensus %llu, merge %llu, rrp %llu, probe %llu\n",
		(unsigned long long)(rp->token_retransmit_ns / US), (unsigned long long)(rp->token_loss_ns / US),
		(unsigned long long)(rp->token_hold_ns / US),
		(unsigned long long)(rp->join_ns / US), (unsigned long long)(rp->consensus_ns / US),
		(unsigned long long)(rp->merge_ns / US), (unsigned long long)(rp->rrp_timeout_ns / US),
		(unsigned long long)(rp->rrp_probe_ns / US));
	for (uint8_t k = 0; k < rp->path_count; k++)
		fprintf(out, "  path%u: %s\n", k, c->path[k].device);
	if (c->load.size != 0)
		fprintf(out, "  load: %u B, rate %llu/s, count %llu, %s, priority %u\n", c->load.size,
			(unsigned long long)c->load.rate, (unsigned long long)c->load.count,
			c->load.service == RP_SERVICE_SAFE ? "safe" : "agreed", c->load.priority);
}

/* Default lcore map: the worker (lcore 0) may float over every CPU this
 * process is allowed on, so that several nodes share a small machine. */
static void default_lcores(char *out, size_t size)
{
	cpu_set_t set;
	snprintf(out, size, "0");
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return;
	size_t n = (size_t)snprintf(out, size, "0@(");
	int first = 1;
	for (int cpu = 0; cpu < CPU_SETSIZE && n + 8 < size; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		n += (size_t)snprintf(out + n, size - n, "%s%d", first ? "" : ",", cpu);
		first = 0;
	}
	snprintf(out + n, size - n, ")");
}

int eng_config_eal_argv(const struct eng_config *c, const char *prog, char **argv, int argv_max,
			char *buf, size_t buf_size)
{
	int argc = 0;
	size_t used = 0;
#define ADD(...)                                                                      \
	do {                                                                          \
		if (argc >= argv_max - 1 || used >= buf_size)                         \
			return -1;                                                    \
		int w_ = snprintf(buf + used, buf_size - used, __VA_ARGS__);          \
		if (w_ < 0 || (size_t)w_ >= buf_size - used)                          \
			return -1;                                                    \
		argv[argc++] = buf + used;                                            \
		used += (size_t)w_ + 1;                                               \
	} while (0)
	ADD("%s", prog);
	char lc[128];
	if (c->lcores[0] != '\0')
		snprintf(lc, sizeof(lc), "%s", c->lcores);
	else
		default_lcores(lc, sizeof(lc));
	ADD("--lcores=%s", lc);
	ADD("--file-prefix=%s", c->file_prefix);
	if (!c->hugepages)
		ADD("--no-huge");
	ADD("-m");
	ADD("%u", c->memory_mb);
	int any_pci = 0;
	for (uint8_t k = 0; k < c->rp.path_count; k++) {
		char name[64];
		if (pmdg_device_name(c->path[k].device, name, sizeof(name)) == 1) {
			ADD("--vdev=%s", c->path[k].device);
		} else {
			ADD("-a");
			ADD("%s", c->path[k].device);
			any_pci = 1;
		}
	}
	if (!any_pci)
		ADD("--no-pci");
	ADD("--log-level=*:%s", c->log_level >= (int)RTE_LOG_INFO ? "notice" : "warning");
	char extra[sizeof(c->eal_args)];
	snprintf(extra, sizeof(extra), "%s", c->eal_args);
	for (char *save = NULL, *t = strtok_r(extra, " \t", &save); t != NULL; t = strtok_r(NULL, " \t", &save))
		ADD("%s", t);
#undef ADD
	argv[argc] = NULL;
	return argc;
}
