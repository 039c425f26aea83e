/* eng_admin.c — the operator's requests on the control socket (ordoctl,
 * docs/ordoctl.md): one request as text ("status", "reinstate 1"), one
 * reply as a JSON object.
 *
 * Owns: the verbs (status, members, quorum, stats, drops, leave, shutdown,
 * reinstate, reload, key), their JSON replies built from one consistent
 * snapshot (eng_snapshot_read) and the configuration, and the requests it
 * hands to the worker (leave, shutdown, reinstate, the live keys of a
 * reload), which the worker takes at its next link poll
 * (eng_admin_poll).
 *
 * Never: touches ring-proto or the worker's state from the control thread
 * (it asks through atomics), or lets a request that changes the node
 * through unless the caller may (admin: root or the daemon's user).
 *
 * Thread context: eng_admin_request() on the control thread;
 * eng_admin_poll() on the worker.
 */
#include "eng_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- a JSON writer into a fixed buffer ---- */

struct jw {
	char *buf;
	size_t len, cap;
	int depth;
	uint8_t first[16]; /* per open container: nothing written in it yet */
	int overflow;
};

static void jw_raw(struct jw *w, const char *fmt, ...)
{
	if (w->overflow)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(w->buf + w->len, w->cap - w->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= w->cap - w->len)
		w->overflow = 1;
	else
		w->len += (size_t)n;
}

static void jw_str_raw(struct jw *w, const char *s)
{
	if (w->overflow)
		return;
	size_t n = eng_json_string(w->buf + w->len, w->cap - w->len, s);
	if (n >= w->cap - w->len)
		w->overflow = 1;
	else
		w->len += n;
}

/* The separator and key of the next value (key NULL inside an array). */
static void jw_key(struct jw *w, const char *key)
{
	if (!w->first[w->depth])
		jw_raw(w, ", ");
	w->first[w->depth] = 0;
	if (key != NULL) {
		jw_str_raw(w, key);
		jw_raw(w, ": ");
	}
}

static void jw_open(struct jw *w, const char *key, char c)
{
	jw_key(w, key);
	jw_raw(w, "%c", c);
	if (w->depth + 1 < (int)sizeof(w->first))
		w->first[++w->depth] = 1;
}

static void jw_close(struct jw *w, char c)
{
	jw_raw(w, "%c", c);
	if (w->depth > 0)
		w->depth--;
}

static void jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	jw_raw(w, "%" PRIu64, v);
}

static void jw_int(struct jw *w, const char *key, int64_t v)
{
	jw_key(w, key);
	jw_raw(w, "%" PRId64, v);
}

static void jw_bool(struct jw *w, const char *key, int v)
{
	jw_key(w, key);
	jw_raw(w, v ? "true" : "false");
}

static void jw_str(struct jw *w, const char *key, const char *v)
{
	jw_key(w, key);
	jw_str_raw(w, v);
}

static void jw_null(struct jw *w, const char *key)
{
	jw_key(w, key);
	jw_raw(w, "null");
}

/* ---- what the replies share ---- */

static const char *quorum_name(enum rp_quorum q)
{
	return q == RP_QUORUM_MAJORITY ? "majority" : q == RP_QUORUM_TWO_NODE ? "two_node" : "last_man_standing";
}

static void jw_ids(struct jw *w, const char *key, const uint16_t *ids, uint16_t n)
{
	jw_open(w, key, '[');
	for (uint16_t i = 0; i < n; i++)
		jw_u64(w, NULL, ids[i]);
	jw_close(w, ']');
}

static const char *path_state(const struct eng_snapshot *s, uint8_t p)
{
	return (s->faulty & (1u << p)) ? "faulty" : (s->in_use & (1u << p)) ? "ok" : "excluded";
}

static void jw_quorum(struct jw *w, const struct eng *e, const struct eng_snapshot *s)
{
	const struct rp_config *rc = &e->cfg.rp;
	jw_open(w, "quorum", '{');
	jw_bool(w, "primary", s->primary && s->state != RP_NODE_LEFT);
	jw_str(w, "policy", quorum_name(rc->quorum));
	jw_bool(w, "publish_refused_without", rc->quorum_publish);
	jw_u64(w, "members", s->member_count);
	jw_u64(w, "configured", rc->member_count);
	if (rc->quorum == RP_QUORUM_MAJORITY)
		jw_u64(w, "needed", rc->member_count / 2u + 1u);
	else if (rc->quorum == RP_QUORUM_TWO_NODE)
		jw_u64(w, "needed", 1);
	else
		jw_null(w, "needed"); /* dynamic: a majority of the last primary's members */
	jw_close(w, '}');
}

static void jw_node(struct jw *w, const struct eng *e, const struct eng_snapshot *s)
{
	jw_u64(w, "node", s->node_id);
	jw_u64(w, "incarnation", s->incarnation);
	jw_str(w, "state", eng_state_name(s->state));
	jw_open(w, "ring", '{');
	jw_u64(w, "rep", s->ring.rep);
	jw_u64(w, "seq", s->ring.seq);
	jw_close(w, '}');
	jw_ids(w, "members", s->members, s->member_count);
	jw_bool(w, "primary", s->primary && s->state != RP_NODE_LEFT);
	jw_u64(w, "proto_version", s->proto_version);
	jw_open(w, "proto_range", '[');
	jw_u64(w, NULL, e->cfg.rp.proto_min);
	jw_u64(w, NULL, e->cfg.rp.proto_max);
	jw_close(w, ']');
}

/* ---- the verbs ---- */

static int v_status(struct eng *e, const struct eng_snapshot *s, const char *args, struct jw *w)
{
	(void)args;
	jw_node(w, e, s);
	jw_u64(w, "ring_id", e->cfg.ring_id);
	jw_ids(w, "configured", e->cfg.rp.members, e->cfg.rp.member_count);
	jw_u64(w, "configs_regular", s->configs_regular);
	jw_u64(w, "last_config_unix_ns", s->last_config_unix_ns);
	jw_u64(w, "uptime_ns", s->uptime_ns);
	jw_quorum(w, e, s);
	jw_str(w, "rrp_mode", e->cfg.rp.rrp_mode == RP_RRP_PASSIVE ? "passive" : "active");
	jw_open(w, "paths", '[');
	for (uint8_t p = 0; p < s->path_count; p++) {
		jw_open(w, NULL, '{');
		jw_u64(w, "path", p);
		jw_str(w, "state", path_state(s, p));
		jw_int(w, "link", s->link[p]);
		jw_str(w, "transport", pmdg_transport_name(s->transport[p]));
		jw_str(w, "device", e->cfg.path[p].device);
		/* the members whose link to this node on the path is not ok */
		jw_open(w, "peers_down", '[');
		for (uint16_t i = 0; i < s->member_count; i++)
			if (s->peers[i].link[p] == ENG_PEER_SILENT || s->peers[i].link[p] == ENG_PEER_FAULTY)
				jw_u64(w, NULL, s->members[i]);
		jw_close(w, ']');
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_u64(w, "clients", s->clients);
	return 0;
}

static int v_members(struct eng *e, const struct eng_snapshot *s, const char *args, struct jw *w)
{
	(void)args;
	jw_node(w, e, s);
	jw_open(w, "peers", '[');
	for (uint16_t i = 0; i < s->member_count; i++) {
		const struct eng_peer_snap *ps = &s->peers[i];
		int self = s->members[i] == s->node_id;
		jw_open(w, NULL, '{');
		jw_u64(w, "id", s->members[i]);
		jw_bool(w, "self", self);
		jw_u64(w, "incarnation", ps->incarnation);
		jw_u64(w, "fault_mask", ps->fault_mask);
		jw_u64(w, "send_mask", ps->send_mask);
		jw_open(w, "paths", '[');
		for (uint8_t p = 0; p < s->path_count; p++) {
			jw_open(w, NULL, '{');
			jw_u64(w, "path", p);
			if (self) {
				jw_str(w, "link", path_state(s, p));
				jw_null(w, "last_heard_ms");
			} else {
				jw_str(w, "link", eng_peer_link_name(ps->link[p]));
				if (ps->last_rx_ns[p] == 0)
					jw_null(w, "last_heard_ms");
				else
					jw_u64(w, "last_heard_ms", (s->clock_ns - ps->last_rx_ns[p]) / 1000000u);
			}
			jw_close(w, '}');
		}
		jw_close(w, ']');
		jw_close(w, '}');
	}
	jw_close(w, ']');
	return 0;
}

static int v_quorum(struct eng *e, const struct eng_snapshot *s, const char *args, struct jw *w)
{
	(void)args;
	jw_node(w, e, s);
	jw_quorum(w, e, s);
	return 0;
}

struct jw_counters {
	struct jw *w;
	int kind; /* -1: every kind */
};

static void add_counter(void *arg, const struct rp_counter_desc *d, int gauge, uint64_t v)
{
	(void)gauge;
	struct jw_counters *jc = arg;
	if (jc->kind < 0 || (int)d->kind == jc->kind)
		jw_u64(jc->w, d->name, v);
}

static int v_stats(struct eng *e, const struct eng_snapshot *s, const char *args, struct jw *w)
{
	(void)e;
	(void)args;
	jw_u64(w, "node", s->node_id);
	struct jw_counters jc = {w, -1};
	jw_open(w, "counters", '{');
	eng_counters_each(s, add_counter, &jc);
	jw_close(w, '}');
	jw_open(w, "paths", '[');
	for (uint8_t p = 0; p < s->path_count; p++) {
		jw_open(w, NULL, '{');
		jw_u64(w, "path", p);
		eng_path_counters_each(s, p, add_counter, &jc);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	return 0;
}

struct drop_sums {
	uint64_t sum[3];
};

static void sum_drop(void *arg, const struct rp_counter_desc *d, int gauge, uint64_t v)
{
	(void)gauge;
	((struct drop_sums *)arg)->sum[d->kind == RP_COUNTER_HARMLESS] += v;
}

static int v_drops(struct eng *e, const struct eng_snapshot *s, const char *args, struct jw *w)
{
	(void)e;
	(void)args;
	const struct eng_drop_src src = {s->rp.drops, s->l2_drops, s->crypto_on ? s->crypto.drops : NULL};
	struct drop_sums ds = {{0, 0, 0}};
	eng_drops_each(&src, sum_drop, &ds);
	jw_u64(w, "node", s->node_id);
	jw_u64(w, "harmful_total", ds.sum[0]);
	jw_u64(w, "harmless_total", ds.sum[1]);
	struct jw_counters jc = {w, RP_COUNTER_HARMFUL};
	jw_open(w, "harmful", '{');
	eng_drops_each(&src, add_counter, &jc);
	jw_close(w, '}');
	jc.kind = RP_COUNTER_HARMLESS;
	jw_open(w, "harmless", '{');
	eng_drops_each(&src, add_counter, &jc);
	jw_close(w, '}');
	return 0;
}

/* leave and shutdown: a flag for the worker */
static int ask_worker(struct eng *e, const struct eng_snapshot *s, struct jw *w, uint32_t flag, const char *what)
{
	atomic_fetch_or_explicit(&e->admin_flags, flag, memory_order_release);
	jw_u64(w, "node", s->node_id);
	jw_str(w, "action", what);
	return 0;
}

static int v_leave(struct eng *e, const struct eng_snapshot *s, const char *args, struct jw *w)
{
	(void)args;
	return ask_worker(e, s, w, ENG_ADMIN_LEAVE, "leave");
}

static int v_shutdown(struct eng *e, const struct eng_snapshot *s, const char *args, struct jw *w)
{
	(void)args;
	return ask_worker(e, s, w, ENG_ADMIN_SHUTDOWN, "shutdown");
}

static int v_reinstate(struct eng *e, const struct eng_snapshot *s, const char *args, struct jw *w)
{
	char *end;
	unsigned long p = strtoul(args, &end, 10);
	if (args[0] < '0' || args[0] > '9' || *end != '\0' || p >= s->path_count) {
		jw_str(w, "error", "reinstate PATH: a path number of this node (0..count-1)");
		return -1;
	}
	if (!(s->faulty & (1u << p))) {
		char msg[96];
		snprintf(msg, sizeof(msg), "path %lu is not marked faulty here (it is %s)", p, path_state(s, (uint8_t)p));
		jw_str(w, "error", msg);
		return -1;
	}
	atomic_fetch_or_explicit(&e->admin_reinstate, 1u << p, memory_order_release);
	jw_u64(w, "node", s->node_id);
	jw_str(w, "action", "reinstate");
	jw_u64(w, "path", p);
	return 0;
}

struct reload_list {
	struct jw *w;
	int live;
};

static void list_key(void *arg, const char *section, const char *key, int live)
{
	struct reload_list *rl = arg;
	if (live != rl->live)
		return;
	char name[96];
	snprintf(name, sizeof(name), "%s.%s", section, key);
	jw_str(rl->w, NULL, name);
}

static int v_reload(struct eng *e, const struct eng_snapshot *s, const char *args, struct jw *w)
{
	(void)args;
	struct eng_config *nc = malloc(sizeof(*nc));
	char err[512];
	if (nc == NULL) {
		jw_str(w, "error", "out of memory");
		return -1;
	}
	if (eng_config_load(e->cfg.config_file, nc, err, sizeof(err)) != 0) {
		char msg[640];
		snprintf(msg, sizeof(msg), "config: %s (nothing changed)", err);
		jw_str(w, "error", msg);
		free(nc);
		return -1;
	}
	if (atomic_load_explicit(&e->admin_reload, memory_order_acquire)) {
		jw_str(w, "error", "the previous reload is still being applied; try again");
		free(nc);
		return -1;
	}
	struct eng_config *cur = &e->admin_cfg;
	jw_u64(w, "node", s->node_id);
	jw_str(w, "file", e->cfg.config_file);
	struct reload_list rl = {w, 1};
	jw_open(w, "applied", '[');
	(void)eng_config_diff(cur, nc, list_key, &rl);
	jw_close(w, ']');
	rl.live = 0;
	jw_open(w, "restart_needed", '[');
	(void)eng_config_diff(cur, nc, list_key, &rl);
	jw_close(w, ']');
	/* the live keys go to the worker; what needs a restart stays as the
	 * node runs, so that the next reload reports it again */
	e->reload_next = (struct eng_reload){.log_level = nc->log_level,
					     .evict_ms = nc->client_evict_ms,
					     .backoff_yield_ns = nc->backoff_yield_ns,
					     .backoff_sleep_ns = nc->backoff_sleep_ns,
					     .load_rate = nc->load.rate};
	cur->log_level = nc->log_level;
	cur->client_evict_ms = nc->client_evict_ms;
	cur->backoff_yield_ns = nc->backoff_yield_ns;
	cur->backoff_sleep_ns = nc->backoff_sleep_ns;
	cur->load.rate = nc->load.rate;
	atomic_store_explicit(&e->admin_reload, 1, memory_order_release);
	free(nc);
	return 0;
}

#define KEY_RELOAD_WAIT_MS 3000 /* the worker takes a reload at its next poll: ms, even idle */

static int v_key(struct eng *e, const struct eng_snapshot *s, const char *args, struct jw *w)
{
	/* frame security's verbs (docs/security.md): "key reload" re-reads the
	 * key file, as SIGHUP does */
	if (strcmp(args, "reload") != 0) {
		jw_str(w, "error", "key: the verbs are: key reload");
		return -1;
	}
	/* the worker reloads (the keyring is its own); wait for what it did */
	uint32_t before = atomic_load_explicit(&e->key_reloads_done, memory_order_acquire);
	eng_key_reload_request(e);
	for (int i = 0; i < KEY_RELOAD_WAIT_MS && atomic_load_explicit(&e->key_reloads_done, memory_order_acquire) == before;
	     i++)
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	char msg[448];
	if (atomic_load_explicit(&e->key_reloads_done, memory_order_acquire) == before) {
		snprintf(msg, sizeof(msg), "key reload: asked, but the worker did not take it within %d ms; it will (its log says what it did)",
			 KEY_RELOAD_WAIT_MS);
		jw_str(w, "error", msg);
		return -1;
	}
	const struct eng_key_reload_result *r = &e->key_reload_result;
	if (r->rc <= 0) {
		/* failed, or nothing to do: nothing was reloaded (exit 1) */
		snprintf(msg, sizeof(msg), "key reload: %s", r->what);
		jw_str(w, "error", msg);
		return -1;
	}
	jw_u64(w, "node", s->node_id);
	jw_str(w, "action", "key reload");
	jw_str(w, "result", r->what);
	return 0;
}

static const struct {
	const char *name;
	int admin; /* changes the node: root or the daemon's user only */
	int (*fn)(struct eng *e, const struct eng_snapshot *s, const char *args, struct jw *w);
} verbs[] = {
	{"status", 0, v_status},     {"members", 0, v_members},   {"quorum", 0, v_quorum},
	{"stats", 0, v_stats},       {"drops", 0, v_drops},       {"leave", 1, v_leave},
	{"shutdown", 1, v_shutdown}, {"reinstate", 1, v_reinstate}, {"reload", 1, v_reload},
	{"key", 1, v_key},
};

size_t eng_admin_request(struct eng *e, const char *request, int admin_ok, char *reply, size_t cap)
{
	struct jw w = {.buf = reply, .cap = cap};
	w.first[0] = 1;
	char verb[32];
	size_t n = strcspn(request, " ");
	const char *args = request + n + (request[n] == ' ');
	snprintf(verb, sizeof(verb), "%.*s", (int)(n < sizeof(verb) ? n : sizeof(verb) - 1), request);
	jw_raw(&w, "{");
	w.depth = 0;
	size_t k = 0;
	while (k < sizeof(verbs) / sizeof(verbs[0]) && strcmp(verbs[k].name, verb) != 0)
		k++;
	struct eng_snapshot *s = malloc(sizeof(*s));
	if (k == sizeof(verbs) / sizeof(verbs[0])) {
		char msg[96];
		snprintf(msg, sizeof(msg), "unknown request '%s'", verb);
		jw_str(&w, "error", msg);
	} else if (verbs[k].admin && !admin_ok) {
		jw_str(&w, "error", "not allowed: only root and the daemon's user may change the node");
		jw_bool(&w, "denied", 1);
	} else if (s == NULL || eng_snapshot_read(s) != 0) {
		jw_str(&w, "error", "the node is not running yet");
	} else if (verbs[k].fn(e, s, args, &w) == 0 && verbs[k].admin) {
		ENG_LOG(NOTICE, e, "control socket: '%s' requested", request);
	}
	free(s);
	jw_raw(&w, "}\n");
	if (w.overflow) {
		w = (struct jw){.buf = reply, .cap = cap};
		jw_raw(&w, "{\"error\": \"the reply does not fit in %zu bytes\"}\n", cap);
	}
	return w.len;
}

/* Worker, at each link poll: what the control thread asked for. */
void eng_admin_poll(struct eng *e)
{
	uint32_t re = atomic_exchange_explicit(&e->admin_reinstate, 0, memory_order_acquire);
	for (uint8_t p = 0; re != 0 && p < e->cfg.rp.path_count; p++)
		if (re & (1u << p)) {
			struct rp_input in = {.kind = RP_IN_REINSTATE};
			in.link.path = p;
			(void)eng_step(e, &in);
		}
	if (atomic_load_explicit(&e->admin_reload, memory_order_acquire)) {
		const struct eng_reload *r = &e->reload_next;
		e->cfg.log_level = r->log_level;
		eng_log_set_level(r->log_level);
		e->cfg.client_evict_ms = r->evict_ms;
		e->evict_ns = r->evict_ms * 1000000ull;
		e->cfg.backoff_yield_ns = r->backoff_yield_ns;
		e->cfg.backoff_sleep_ns = r->backoff_sleep_ns;
		e->cfg.load.rate = r->load_rate;
		atomic_store_explicit(&e->admin_reload, 0, memory_order_release);
	}
	uint32_t f = atomic_exchange_explicit(&e->admin_flags, 0, memory_order_acquire);
	if ((f & ENG_ADMIN_LEAVE) && rp_node_state(e->rp) != RP_NODE_LEFT) {
		ENG_LOG(NOTICE, e, "leaving the ring (ordoctl leave); the node stays up until it is stopped");
		struct rp_input leave = {.kind = RP_IN_LEAVE};
		(void)eng_step(e, &leave);
	}
	if (f & ENG_ADMIN_SHUTDOWN)
		e->admin_stop = 1;
}
