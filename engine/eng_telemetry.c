/* eng_telemetry.c — the node's statistics through DPDK telemetry
 * (commands and replies in docs/ordod.md).
 *
 * Owns: the snapshot of the node's state in static storage (it outlives the
 * engine: DPDK 22.11 cannot unregister a telemetry command), the seqlock
 * that makes a reader see one consistent copy, and the ordo telemetry commands.
 *
 * Thread context: eng_publish() and eng_telemetry_take_gap_reset() run on
 * the worker lcore (the only writer); the command callbacks run on DPDK's
 * telemetry thread. rte_seqlock's write side orders the snapshot's stores
 * between two sequence increments (release); a reader copies, then retries
 * if the sequence moved (acquire), so it never returns a torn copy.
 */
#include "eng_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_seqlock.h>
#include <rte_telemetry.h>

#include <urcu-qsbr.h>

static rte_seqlock_t snap_lock = RTE_SEQLOCK_INITIALIZER;
static struct eng_snapshot snap;
static uint32_t live;           /* 1 while an engine publishes (relaxed) */
static uint32_t gap_reset_req;  /* set by /ordo/delivery_reset (relaxed) */

void eng_publish(struct eng *e)
{
	const struct rp_stats *s = rp_node_stats(e->rp);
	rte_seqlock_write_lock(&snap_lock);
	snap.node_id = e->cfg.rp.node_id;
	snap.incarnation = e->cfg.rp.incarnation;
	snap.state = (uint8_t)rp_node_state(e->rp);
	snap.ring = e->ring;
	snap.member_count = e->member_count;
	memcpy(snap.members, e->members, sizeof(snap.members));
	snap.primary = e->primary;
	snap.proto_version = e->proto_version;
	snap.proto_min = e->cfg.rp.proto_min;
	snap.proto_max = e->cfg.rp.proto_max;
	snap.configs_regular = e->configs_regular;
	snap.configs_transitional = e->configs_transitional;
	snap.last_config_unix_ns = e->last_config_unix_ns;
	snap.uptime_ns = e->now_ns - 1000000000ull;
	snap.path_count = e->cfg.rp.path_count;
	snap.in_use = rp_node_paths_in_use(e->rp);
	snap.faulty = rp_node_paths_faulty(e->rp);
	memcpy(snap.path_state, e->path_state, sizeof(snap.path_state));
	memcpy(snap.link, e->link, sizeof(snap.link));
	memcpy(snap.paths, e->g.stats, sizeof(snap.paths));
	for (uint8_t p = 0; p < e->cfg.rp.path_count; p++) {
		snap.transport[p] = e->g.net[p].c.transport;
		snap.neigh[p] = e->g.net[p].st;
		pmdg_net_resolved(&e->g.net[p], &snap.neigh_resolved[p], &snap.neigh_total[p]);
	}
	memcpy(snap.l2_drops, e->g.drops, sizeof(snap.l2_drops));
	snap.rp = *s;
	snap.cnt = e->cnt;
	snap.frames_lent = rp_node_lent(e->rp);
	snap.delivered = e->dlv.delivered;
	snap.bytes = e->dlv.bytes;
	snap.digest = e->dlv.digest;
	snap.fragments_dropped = e->dlv.fragments_dropped;
	snap.max_gap_ns = e->dlv.max_gap_ns;
	snap.origin_gaps = e->dlv.origin_gaps;
	snap.max_id = e->cfg.rp.member_count ? e->cfg.rp.members[e->cfg.rp.member_count - 1u] : 0;
	for (uint32_t i = 0; i < RP_NODES_MAX; i++) {
		snap.origin_delivered[i] = e->dlv.origins[i + 1u].delivered;
		snap.origin_gaps_of[i] = e->dlv.origins[i + 1u].gaps;
	}
	snap.load_sent = e->load.sent;
	snap.load_done = (uint64_t)e->load.done;
	if (e->keys != NULL) {
		const struct eng_crypto *c = &e->keys->c;
		snap.crypto_on = 1;
		snap.cipher = (uint8_t)c->cipher;
		snap.protect = (uint8_t)c->protect;
		snap.epoch = c->key[ENG_KEY_CURRENT].epoch;
		snap.fp_current = c->key[ENG_KEY_CURRENT].fingerprint;
		snap.fp_previous = c->key[ENG_KEY_PREVIOUS].in_use ? c->key[ENG_KEY_PREVIOUS].fingerprint : 0;
		snap.fp_next = c->key[ENG_KEY_NEXT].in_use ? c->key[ENG_KEY_NEXT].fingerprint : 0;
		snap.counter = c->counter;
		snap.crypto = c->st;
	}
	const struct eng_client_table *ct = rcu_dereference(e->clients);
	snap.clients = ct != NULL ? ct->count : 0;
	snap.clock_ns = e->now_ns;
	for (uint16_t i = 0; i < e->member_count; i++) {
		struct rp_peer_info pi;
		struct eng_peer_snap *ps = &snap.peers[i];
		uint16_t id = e->members[i];
		if (rp_node_peer(e->rp, id, &pi) != 0)
			continue;
		ps->incarnation = id == e->cfg.rp.node_id ? e->cfg.rp.incarnation : pi.incarnation;
		memcpy(ps->last_rx_ns, pi.last_rx_ns, sizeof(ps->last_rx_ns));
		memcpy(ps->link, e->peer_link[id - 1u], sizeof(ps->link));
		ps->fault_mask = id == e->cfg.rp.node_id ? rp_node_paths_faulty(e->rp) : pi.fault_mask;
		ps->send_mask = id == e->cfg.rp.node_id ? rp_node_paths_in_use(e->rp) : pi.send_mask;
	}
	rte_seqlock_write_unlock(&snap_lock);
	__atomic_store_n(&live, 1, __ATOMIC_RELAXED);
}

int eng_telemetry_take_gap_reset(void)
{
	if (__atomic_load_n(&gap_reset_req, __ATOMIC_RELAXED) == 0)
		return 0;
	return __atomic_exchange_n(&gap_reset_req, 0, __ATOMIC_RELAXED) != 0;
}

int eng_snapshot_read(struct eng_snapshot *out)
{
	if (__atomic_load_n(&live, __ATOMIC_RELAXED) == 0)
		return -1;
	uint32_t sn;
	do {
		sn = rte_seqlock_read_begin(&snap_lock);
		memcpy(out, &snap, sizeof(*out));
	} while (rte_seqlock_read_retry(&snap_lock, sn));
	return 0;
}

static int fill_node(const struct eng_snapshot *sp, struct rte_tel_data *d)
{
	const struct eng_snapshot s = *sp;
	rte_tel_data_add_dict_u64(d, "id", s.node_id);
	rte_tel_data_add_dict_u64(d, "incarnation", s.incarnation);
	rte_tel_data_add_dict_string(d, "state", eng_state_name(s.state));
	rte_tel_data_add_dict_u64(d, "ring_rep", s.ring.rep);
	rte_tel_data_add_dict_u64(d, "ring_seq", s.ring.seq);
	struct rte_tel_data *m = rte_tel_data_alloc();
	if (m != NULL) {
		rte_tel_data_start_array(m, RTE_TEL_U64_VAL);
		for (uint16_t i = 0; i < s.member_count; i++)
			rte_tel_data_add_array_u64(m, s.members[i]);
		rte_tel_data_add_dict_container(d, "members", m, 0);
	}
	rte_tel_data_add_dict_u64(d, "primary", s.primary);
	rte_tel_data_add_dict_u64(d, "proto_version", s.proto_version);
	rte_tel_data_add_dict_u64(d, "proto_min", s.proto_min);
	rte_tel_data_add_dict_u64(d, "proto_max", s.proto_max);
	rte_tel_data_add_dict_u64(d, "configs_regular", s.configs_regular);
	rte_tel_data_add_dict_u64(d, "configs_transitional", s.configs_transitional);
	rte_tel_data_add_dict_u64(d, "last_config_unix_ns", s.last_config_unix_ns);
	rte_tel_data_add_dict_u64(d, "uptime_ns", s.uptime_ns);
	return 0;
}

/* eng_counter_fn: one counter into the dict arg. */
static void add_counter(void *arg, const struct rp_counter_desc *cd, int gauge, uint64_t v)
{
	(void)gauge;
	rte_tel_data_add_dict_u64(arg, cd->name, v);
}

static int fill_paths(const struct eng_snapshot *sp, struct rte_tel_data *d)
{
	const struct eng_snapshot s = *sp;
	rte_tel_data_add_dict_u64(d, "count", s.path_count);
	rte_tel_data_add_dict_u64(d, "in_use", s.in_use);
	rte_tel_data_add_dict_u64(d, "faulty", s.faulty);
	for (uint8_t p = 0; p < s.path_count; p++) {
		struct rte_tel_data *c = rte_tel_data_alloc();
		if (c == NULL)
			return -1;
		rte_tel_data_start_dict(c);
		const char *st = (s.faulty & (1u << p)) ? "faulty" : (s.in_use & (1u << p)) ? "ok" : "excluded";
		rte_tel_data_add_dict_string(c, "state", st);
		rte_tel_data_add_dict_int(c, "link", s.link[p]);
		eng_path_counters_each(&s, p, add_counter, c);
		rte_tel_data_add_dict_string(c, "transport", pmdg_transport_name(s.transport[p]));
		if (s.transport[p] != PMDG_TRANSPORT_L2) {
			const struct pmdg_net_stats *ns = &s.neigh[p];
			rte_tel_data_add_dict_u64(c, "neigh_resolved", s.neigh_resolved[p]);
			rte_tel_data_add_dict_u64(c, "neigh_total", s.neigh_total[p]);
			rte_tel_data_add_dict_u64(c, "neigh_answered", ns->answered);
			rte_tel_data_add_dict_u64(c, "neigh_defended", ns->defended);
			rte_tel_data_add_dict_u64(c, "neigh_solicited", ns->solicited);
			rte_tel_data_add_dict_u64(c, "neigh_learned", ns->learned);
			rte_tel_data_add_dict_u64(c, "tx_unresolved", ns->tx_unresolved);
		}
		char name[8];
		snprintf(name, sizeof(name), "path%u", p);
		rte_tel_data_add_dict_container(d, name, c, 0);
	}
	return 0;
}

static int fill_stats(const struct eng_snapshot *sp, struct rte_tel_data *d)
{
	const struct eng_snapshot *s = sp;
	for (size_t i = 0; i < RP_STATS_COUNTERS; i++)
		rte_tel_data_add_dict_u64(d, rp_stats_desc[i].name, rp_stats_get(&s->rp, &rp_stats_desc[i], 0));
	rte_tel_data_add_dict_u64(d, "frames_lent", s->frames_lent);
	for (size_t i = 0; i < eng_counter_desc_count; i++)
		rte_tel_data_add_dict_u64(d, eng_counter_desc[i].name,
					  *(const uint64_t *)(const void *)((const char *)&s->cnt + eng_counter_desc[i].offset));
	return 0;
}

static int fill_drops(const struct eng_snapshot *sp, struct rte_tel_data *d)
{
	const struct eng_snapshot *s = sp;
	for (int r = 1; r < RP_DROP_COUNT; r++) {
		/* Telemetry names allow [A-Za-z0-9_/] only: "bad-magic" -> "bad_magic". */
		char name[32];
		snprintf(name, sizeof(name), "%s", rp_drop_desc[r].name);
		for (char *c = name; *c != '\0'; c++)
			if (*c == '-')
				*c = '_';
		rte_tel_data_add_dict_u64(d, name, s->rp.drops[r]);
	}
	for (int r = 0; r < PMDG_DROP_COUNT; r++)
		rte_tel_data_add_dict_u64(d, pmdg_drop_name((enum pmdg_drop)r), s->l2_drops[r]);
	for (int r = 1; r < ENG_CRYPTO_DROP_COUNT; r++)
		rte_tel_data_add_dict_u64(d, eng_crypto_drop_name((enum eng_crypto_result)r), s->crypto.drops[r]);
	return 0;
}

static void add_hex(struct rte_tel_data *d, const char *name, uint64_t v)
{
	char hex[20];
	snprintf(hex, sizeof(hex), "%016" PRIx64, v);
	rte_tel_data_add_dict_string(d, name, hex);
}

static int fill_security(const struct eng_snapshot *sp, struct rte_tel_data *d)
{
	const struct eng_snapshot *s = sp;
	rte_tel_data_add_dict_u64(d, "enabled", s->crypto_on);
	if (!s->crypto_on)
		return 0;
	rte_tel_data_add_dict_string(d, "cipher", eng_cipher_name((enum eng_cipher)s->cipher));
	rte_tel_data_add_dict_string(d, "crypto", s->protect == ENG_PROTECT_AUTH ? "auth" : "encrypt");
	rte_tel_data_add_dict_u64(d, "epoch", s->epoch);
	add_hex(d, "key", s->fp_current);
	add_hex(d, "previous_key", s->fp_previous);
	add_hex(d, "next_key", s->fp_next);
	rte_tel_data_add_dict_u64(d, "counter", s->counter);
	rte_tel_data_add_dict_u64(d, "sealed", s->crypto.sealed);
	rte_tel_data_add_dict_u64(d, "opened", s->crypto.opened);
	rte_tel_data_add_dict_u64(d, "seal_errors", s->crypto.seal_errors);
	rte_tel_data_add_dict_u64(d, "activations", s->crypto.activations);
	rte_tel_data_add_dict_u64(d, "retirements", s->crypto.retirements);
	rte_tel_data_add_dict_u64(d, "subkeys", s->crypto.subkeys);
	for (int r = 1; r < ENG_CRYPTO_DROP_COUNT; r++)
		rte_tel_data_add_dict_u64(d, eng_crypto_drop_name((enum eng_crypto_result)r), s->crypto.drops[r]);
	/* refusals by claimed sender: bad tag, unknown key */
	struct rte_tel_data *bad = rte_tel_data_alloc(), *unk = rte_tel_data_alloc();
	if (bad == NULL || unk == NULL) {
		rte_tel_data_free(bad);
		rte_tel_data_free(unk);
		return -1;
	}
	rte_tel_data_start_dict(bad);
	rte_tel_data_start_dict(unk);
	for (int id = 1; id <= (int)RP_NODES_MAX; id++) {
		char name[8];
		snprintf(name, sizeof(name), "n%d", id);
		if (s->crypto.auth_from[id] != 0)
			rte_tel_data_add_dict_u64(bad, name, s->crypto.auth_from[id]);
		if (s->crypto.unknown_key_from[id] != 0)
			rte_tel_data_add_dict_u64(unk, name, s->crypto.unknown_key_from[id]);
	}
	rte_tel_data_add_dict_container(d, "bad_tag_from", bad, 0);
	rte_tel_data_add_dict_container(d, "unknown_key_from", unk, 0);
	return 0;
}

static int fill_delivery(const struct eng_snapshot *sp, struct rte_tel_data *d)
{
	const struct eng_snapshot s = *sp;
	char digest[20];
	snprintf(digest, sizeof(digest), "%016" PRIx64, s.digest);
	rte_tel_data_add_dict_u64(d, "delivered", s.delivered);
	rte_tel_data_add_dict_u64(d, "bytes", s.bytes);
	rte_tel_data_add_dict_string(d, "digest", digest);
	rte_tel_data_add_dict_u64(d, "fragments_dropped", s.fragments_dropped);
	rte_tel_data_add_dict_u64(d, "max_gap_ns", s.max_gap_ns);
	rte_tel_data_add_dict_u64(d, "origin_gaps", s.origin_gaps);
	rte_tel_data_add_dict_u64(d, "load_sent", s.load_sent);
	rte_tel_data_add_dict_u64(d, "load_done", s.load_done);
	/* per origin node id 1..: load messages delivered, counters skipped */
	const uint64_t *v[2] = {s.origin_delivered, s.origin_gaps_of};
	static const char *const name[2] = {"origin_delivered", "origin_gaps_by_node"};
	for (int k = 0; k < 2; k++) {
		struct rte_tel_data *a = rte_tel_data_alloc();
		if (a == NULL)
			continue;
		rte_tel_data_start_array(a, RTE_TEL_U64_VAL);
		for (uint32_t i = 0; i < s.max_id && i < RP_NODES_MAX; i++)
			rte_tel_data_add_array_u64(a, v[k][i]);
		rte_tel_data_add_dict_container(d, name[k], a, 0);
	}
	return 0;
}

/* Every command but the reset: one consistent snapshot, then its filler. */
static const struct {
	const char *name;
	int (*fill)(const struct eng_snapshot *s, struct rte_tel_data *d);
	const char *help;
} commands[] = {
	{"/ordo/node", fill_node, "This node: id, incarnation, state, ring id, members, quorum. No parameters."},
	{"/ordo/paths", fill_paths, "Redundant paths: state, link, counters per path. No parameters."},
	{"/ordo/stats", fill_stats, "Protocol and worker counters. No parameters."},
	{"/ordo/drops", fill_drops, "Dropped frames by reason. No parameters."},
	{"/ordo/delivery", fill_delivery, "Delivered messages, sequence digest, longest delivery gap. No parameters."},
	{"/ordo/security", fill_security, "Frame security: cipher, keys, counters, refusals by reason and sender. No parameters."},
};

static int cmd_snapshot(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)params;
	struct eng_snapshot s;
	if (eng_snapshot_read(&s) != 0)
		return -1;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd, commands[i].name) == 0) {
			rte_tel_data_start_dict(d);
			return commands[i].fill(&s, d);
		}
	return -1;
}

static int cmd_delivery_reset(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	__atomic_store_n(&gap_reset_req, 1, __ATOMIC_RELAXED);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "reset", 1);
	return 0;
}

static const char *const kind_names[] = {[RP_COUNTER_EVENT] = "event", [RP_COUNTER_HARMLESS] = "harmless",
					  [RP_COUNTER_HARMFUL] = "harmful"};

static void print_rows(FILE *out, const char *cmd, const struct rp_counter_desc *d, size_t n, int dashes)
{
	for (size_t i = 0; i < n; i++) {
		char name[48];
		snprintf(name, sizeof(name), "%s", d[i].name);
		for (char *c = name; dashes && *c != '\0'; c++)
			if (*c == '-')
				*c = '_';
		fprintf(out, "| `%s` | `%s` | %s | %s |\n", cmd, name, kind_names[d[i].kind], d[i].help);
	}
}

void eng_telemetry_print_counters(FILE *out)
{
	fputs("| command | counter | kind | meaning |\n| --- | --- | --- | --- |\n", out);
	print_rows(out, "/ordo/stats", rp_stats_desc, RP_STATS_COUNTERS, 0);
	print_rows(out, "/ordo/stats", eng_counter_desc, eng_counter_desc_count, 0);
	print_rows(out, "/ordo/paths", rp_path_stats_desc, RP_STATS_PATH_COUNTERS, 0);
	print_rows(out, "/ordo/drops", rp_drop_desc + 1, RP_DROP_COUNT - 1, 1);
}

int eng_telemetry_register(struct eng *e)
{
	(void)e;
	int rc = 0;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		rc |= rte_telemetry_register_cmd(commands[i].name, cmd_snapshot, commands[i].help);
	rc |= rte_telemetry_register_cmd("/ordo/delivery_reset", cmd_delivery_reset,
					 "Resets the longest delivery gap. No parameters.");
	return rc != 0 ? -1 : 0;
}

void eng_telemetry_unregister(void) { __atomic_store_n(&live, 0, __ATOMIC_RELAXED); }
