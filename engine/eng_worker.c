/* eng_worker.c — the poll-mode worker: ring-proto driven over pmd-glue.
 *
 * Owns: one iteration of the duty cycle (read the TSC once; receive a burst
 * on every path; feed ring-proto every non-token frame of the round, then
 * the round's tokens (docs/design.md §5); tick ring-proto when its deadline has
 * come; let the load generator submit; flush the tx bursts; poll link state
 * every 100 ms; publish the telemetry snapshot every millisecond while
 * awake, and before a sleep), the idle strategy run when an iteration did
 * no work, performing ring-proto's actions, and the polite leave at
 * shutdown.
 *
 * Never: steps ring-proto while performing its actions (their pointers live
 * until the next step), blocks except in the backoff idle strategy's short
 * sleep and the block and adaptive strategies' wait (bounded by the next
 * deadline),
 * allocates after eng_create(), or logs per frame.
 */
#include "eng_internal.h"
#include "ordo.h"
#include "rp_drive.h"

#include <errno.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#include <urcu-qsbr.h>

int eng_logtype;

#define ENG_T0_NS 1000000000ull          /* ring-proto's clock starts here */
#define ENG_LINK_POLL_NS 100000000ull    /* 100 ms */
#define ENG_DAD_PROBES 3u                /* probes for this node's address at start (RFC 5227, 4862) */
#define ENG_PUBLISH_NS 1000000ull        /* 1 ms */
#define ENG_BLOCK_MIN_NS 20000ull      /* a deadline nearer than this: yield, do not block */
#define ENG_BLOCK_AFTER_NS 50000ull    /* yield this long after the last work before blocking */
#define ENG_BLOCK_DOORBELL 0xFFFFu     /* epoll tag of the doorbell (paths are tagged 0..3) */
#define ENG_TICKS_PER_LOOP 64u           /* bounded catch-up of due work per iteration */
#define ENG_LEAVE_WAIT_NS 500000000ull   /* polite leave: wait this long at most */
#define ENG_ACTIONS_EXTRA 16384u
#define ENG_OFF_CPU_NS 100000u         /* a gap between duty cycles counted as off the CPU */

static const char *const state_names[] = {"?", "gather", "commit", "recovery", "operational", "left"};
static const char *const path_state_names[] = {"ok", "faulty", "excluded"};

static inline uint64_t eng_clock(const struct eng *e)
{
	uint64_t d = rte_rdtsc() - e->tsc0;
	return ENG_T0_NS + (uint64_t)(((unsigned __int128)d * e->tsc_mult) >> 32);
}

static uint64_t unix_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* "1,2,3" for a set of node ids (bit id-1); "none" for the empty set. */
static void id_list(uint64_t set, char *out, size_t size)
{
	size_t n = 0;
	out[0] = '\0';
	for (uint16_t id = 1; id <= RP_NODES_MAX; id++)
		if ((set & (1ull << (id - 1u))) && n + 5 < size)
			n += (size_t)snprintf(out + n, size - n, "%s%u", n ? "," : "", id);
	if (n == 0)
		snprintf(out, size, "none");
}

static uint64_t id_set(const uint16_t *ids, uint16_t count)
{
	uint64_t set = 0;
	for (uint16_t i = 0; i < count; i++)
		set |= 1ull << (ids[i] - 1u);
	return set;
}

static void cause_text(const struct rp_configuration *c, char *out, size_t size)
{
	switch (c->cause) {
	case RP_CAUSE_START: snprintf(out, size, "this node started"); break;
	case RP_CAUSE_TOKEN_LOSS: snprintf(out, size, "the token was lost"); break;
	case RP_CAUSE_JOIN: snprintf(out, size, "a Join from node %u", c->cause_node); break;
	case RP_CAUSE_LEAVE: snprintf(out, size, "node %u announced its leave", c->cause_node); break;
	case RP_CAUSE_FOREIGN:
		snprintf(out, size, "frames of another ring from node %u (a node started or a partition healed)",
			 c->cause_node);
		break;
	case RP_CAUSE_RESTART: snprintf(out, size, "node %u restarted", c->cause_node); break;
	case RP_CAUSE_FAIL_RECV: snprintf(out, size, "node %u failed to receive", c->cause_node); break;
	default: snprintf(out, size, "a membership change"); break;
	}
}

/* A regular configuration names who joined, who left and why: the ones
 * that announced their leave, and the ones not heard (crashed, stopped
 * without a leave, or cut off: a partition looks the same from here). */
static void log_config(struct eng *e, const struct rp_configuration *c)
{
	char list[RP_NODES_MAX * 4 + 8], joined[RP_NODES_MAX * 4 + 8], polite[RP_NODES_MAX * 4 + 8],
		failed[RP_NODES_MAX * 4 + 8], why[128];
	uint64_t now = id_set(c->members, c->member_count);
	id_list(now, list, sizeof(list));
	if (c->kind == RP_CONFIG_TRANSITIONAL) {
		ENG_LOG(INFO, e, "transitional configuration (%u:%llu -> %u:%llu) members %s", c->old_ring.rep,
			(unsigned long long)c->old_ring.seq, c->ring.rep, (unsigned long long)c->ring.seq, list);
		return;
	}
	uint64_t before = e->configs_regular ? id_set(e->members, e->member_count) : now;
	uint64_t left = before & ~now;
	char changes[3 * (RP_NODES_MAX * 4 + 64)] = "";
	size_t n = 0;
	if (now & ~before) {
		id_list(now & ~before, joined, sizeof(joined));
		n += (size_t)snprintf(changes + n, sizeof(changes) - n, "; joined %s", joined);
	}
	if (left & c->left_politely) {
		id_list(left & c->left_politely, polite, sizeof(polite));
		n += (size_t)snprintf(changes + n, sizeof(changes) - n, "; left %s (announced)", polite);
	}
	if (left & ~c->left_politely) {
		id_list(left & ~c->left_politely, failed, sizeof(failed));
		snprintf(changes + n, sizeof(changes) - n, "; lost %s (not heard: crashed, killed or cut off)", failed);
	}
	cause_text(c, why, sizeof(why));
	ENG_LOG(NOTICE, e, "regular configuration %u:%llu members %s%s, protocol %u%s; cause: %s", c->ring.rep,
		(unsigned long long)c->ring.seq, list, c->primary ? " primary" : " NOT primary", c->proto_version,
		changes, why);
	if (e->configs_regular != 0 && e->primary && !c->primary)
		ENG_LOG(WARNING, e, "quorum lost: %u of %u configured nodes here (quorum %s); %s", c->member_count,
			e->cfg.rp.member_count,
			e->cfg.rp.quorum == RP_QUORUM_MAJORITY ? "majority"
			: e->cfg.rp.quorum == RP_QUORUM_TWO_NODE ? "two_node"
								 : "last_man_standing",
			e->cfg.rp.quorum_publish ? "publishing is refused until it returns"
						 : "publishing goes on (quorum_publish = no): a split brain is possible");
	else if (e->configs_regular != 0 && !e->primary && c->primary)
		ENG_LOG(NOTICE, e, "quorum regained: %u of %u configured nodes", c->member_count, e->cfg.rp.member_count);
	for (uint16_t id = 1; id <= RP_NODES_MAX; id++)
		if (!(now & (1ull << (id - 1u))))
			memset(e->peer_link[id - 1u], ENG_PEER_UNKNOWN, sizeof(e->peer_link[0]));
}

static void on_config(struct eng *e, const struct rp_configuration *c)
{
	log_config(e, c);
	eng_delivery_on_config(e, c);
	eng_clients_config(e, c);
	eng_keys_on_config(e, c);
	if (c->kind == RP_CONFIG_TRANSITIONAL) {
		e->configs_transitional++;
		return;
	}
	e->configs_regular++;
	e->ring = c->ring;
	e->member_count = c->member_count;
	memcpy(e->members, c->members, c->member_count * sizeof(c->members[0]));
	e->primary = c->primary;
	e->proto_version = c->proto_version;
	e->last_config_unix_ns = unix_ns();
	eng_load_on_config(e, c);
	e->next_publish_ns = 0; /* publish at once */
}

/* The members ring-proto counts missing on path p (docs/protocol.md
 * §9.6: their sends that also went on p arrived here on other paths only):
 * whom a fault this node marks is about. Not "not heard on p lately": on
 * an idle ring a node hears only its predecessor, and a quiet peer is no
 * evidence against a path. */
static uint64_t silent_on(const struct eng *e, uint8_t p)
{
	uint64_t set = 0;
	for (uint16_t i = 0; i < e->member_count; i++) {
		struct rp_peer_info pi;
		uint16_t id = e->members[i];
		if (id == e->cfg.rp.node_id || rp_node_peer(e->rp, id, &pi) != 0)
			continue;
		if (pi.missing & (1u << p))
			set |= 1ull << (id - 1u);
	}
	return set;
}

/* One ring parameter (docs/protocol.md §8.8) as the configuration key
 * that sets it, and its value in that key's terms. */
static void param_text(const struct eng *e, enum rp_param k, const struct rp_wire_params *p, const char **key,
		       char *val, size_t size)
{
	static const char *const quorum_names[] = {"majority", "two_node", "last_man_standing"};
	static const char *const rrp_names[] = {"active", "passive"};
	uint64_t v = rp_param_value(p, k);
	*key = rp_param_name(k);
	switch (k) {
	case RP_PARAM_NODES:
		id_list(v, val, size);
		return;
	case RP_PARAM_FRAME_SIZE_MAX:
		/* the same transport and security: the same overhead as here */
		*key = "mtu";
		snprintf(val, size, "%llu", (unsigned long long)(v + (e->cfg.mtu - e->cfg.rp.frame_size_max)));
		return;
	case RP_PARAM_TOKEN_RETRANSMIT:
	case RP_PARAM_TOKEN_LOSS:
	case RP_PARAM_JOIN:
	case RP_PARAM_CONSENSUS:
		*key = k == RP_PARAM_TOKEN_RETRANSMIT ? "token_retransmit_us" : k == RP_PARAM_TOKEN_LOSS ? "token_loss_us" :
		       k == RP_PARAM_JOIN ? "join_us" : "consensus_us";
		snprintf(val, size, "%llu", (unsigned long long)(v / 1000u));
		return;
	case RP_PARAM_QUORUM:
		snprintf(val, size, "%s", v < 3 ? quorum_names[v] : "?");
		return;
	case RP_PARAM_RRP_MODE:
		snprintf(val, size, "%s", v < 2 ? rrp_names[v] : "?");
		return;
	case RP_PARAM_PATH_COUNT:
		*key = "paths";
		break;
	default:
		break;
	}
	snprintf(val, size, "%llu", (unsigned long long)v);
}

/* An incarnation for a log line: ordod's is its start time in µs since
 * 1970 (eng_state.c), shown as such. */
static void inc_text(uint64_t inc, char *out, size_t size)
{
	if (inc == 0) { /* found by its address (RP_IN_ADDRESS_IN_USE) */
		snprintf(out, size, "incarnation unknown: its address was found in use");
		return;
	}
	time_t t = (time_t)(inc / 1000000u);
	struct tm tm;
	if (inc >= 1000000000000000ull && gmtime_r(&t, &tm) != NULL) /* after 2001 */
		snprintf(out, size, "incarnation %llu, started %04d-%02d-%02dT%02d:%02d:%02dZ", (unsigned long long)inc,
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	else
		snprintf(out, size, "incarnation %llu", (unsigned long long)inc);
}

/* Rule D (§8.8): two processes with one node id. Every node names both
 * incarnations; a DUP_NOTICE also says where the second one runs. */
static void on_duplicate(struct eng *e, const struct rp_refusal *r)
{
	char theirs[96], running[96], from[96] = "";
	inc_text(r->incarnation, theirs, sizeof(theirs));
	inc_text(r->kept_incarnation, running, sizeof(running));
	if (e->rx_mbuf != NULL) {
		size_t n = (size_t)snprintf(from, sizeof(from), "; it sent from ");
		pmdg_frame_source(&e->g, e->rx_path, e->rx_mbuf, from + n, sizeof(from) - n);
		snprintf(from + strlen(from), sizeof(from) - strlen(from), " on path %u", e->rx_path);
	}
	if (r->node == e->cfg.rp.node_id && r->newcomer) {
		ENG_LOG(ERR, e, "DUPLICATE NODE ID: a process with this node's id %u runs already (%s), "
			"heard before this one sent anything: not starting (every node is told); give this node its "
			"own [node] id", r->node, theirs);
		pmdg_flush(&e->g); /* the DUP_NOTICE, before the worker stops */
		e->fatal = 1;
	} else if (r->node == e->cfg.rp.node_id) {
		ENG_LOG(ERR, e, "DUPLICATE NODE ID: another process runs with this node's id %u (%s%s; this one is %s): "
			"its frames are refused; give it its own [node] id", r->node, theirs, from, running);
	} else if (r->announced) {
		ENG_LOG(ERR, e, "DUPLICATE NODE ID: a second process configured as node %u (%s%s) found node %u "
			"running (%s) and did not start; node %u keeps its place; give that process its own [node] id",
			r->node, theirs, from, r->node, running, r->node);
	} else {
		ENG_LOG(ERR, e, "DUPLICATE NODE ID: a second process runs with node %u's id (%s) while %s is still "
			"heard: refused; node %u keeps its place", r->node, theirs, running, r->node);
	}
}

/* A node ring-proto refused (docs/protocol.md §8.8, §11): who, and why. */
static void on_refused(struct eng *e, const struct rp_refusal *r)
{
	unsigned long long inc = (unsigned long long)r->incarnation;
	if (r->kind == RP_REFUSE_DUPLICATE_ID) {
		on_duplicate(e, r);
	} else if (r->kind == RP_REFUSE_VERSION) {
		ENG_LOG(WARNING, e, "node %u (incarnation %llu) refused: it speaks protocol %u..%u, this ring %u..%u",
			r->node, inc, r->their_min, r->their_max, r->our_min, r->our_max);
	} else if (r->kind == RP_REFUSE_PARAMS && r->theirs != NULL) {
		char text[768], theirs[RP_NODES_MAX * 4 + 8], ours[RP_NODES_MAX * 4 + 8];
		size_t len = 0;
		struct rp_wire_params mine;
		rp_params_of(&e->cfg.rp, &mine);
		text[0] = '\0';
		for (unsigned k = 0; k < RP_PARAM_COUNT && len < sizeof(text); k++) {
			if (!(r->keys & (1u << k)))
				continue;
			const char *key;
			param_text(e, (enum rp_param)k, r->theirs, &key, theirs, sizeof(theirs));
			param_text(e, (enum rp_param)k, &mine, &key, ours, sizeof(ours));
			int n = snprintf(text + len, sizeof(text) - len, "%s%s = %s (here %s)", len ? ", " : "", key, theirs,
					 ours);
			if (n < 0)
				break;
			len += (size_t)n;
		}
		ENG_LOG(ERR, e, "node %u (incarnation %llu) refused: its ring configuration differs from this node's: %s; "
			"every node of a ring needs the same [ring] and paths", r->node, inc, text);
	}
}

static void on_path(struct eng *e, const struct rp_path_event *p)
{
	if (p->path < RP_PATHS_MAX)
		e->path_state[p->path] = p->state;
	if (p->state == RP_PATH_FAULTY) {
		char who[RP_NODES_MAX * 4 + 8];
		uint64_t missing = silent_on(e, p->path);
		id_list(missing, who, sizeof(who));
		if (missing != 0)
			ENG_LOG(WARNING, e, "path %u faulty here: copies missing from node(s) %s (in use 0x%x, marked faulty here 0x%x)",
				p->path, who, p->in_use, p->faulty);
		else /* §9.2, §9.3: RP_IN_LINK, or a passive token lost on it */
			ENG_LOG(WARNING, e, "path %u faulty here: its link is reported down, or tokens forwarded on it were lost (in use 0x%x, marked faulty here 0x%x)",
				p->path, p->in_use, p->faulty);
	} else if (p->state == RP_PATH_OK) { /* back in use: news, not a warning */
		ENG_LOG(NOTICE, e, "path %u ok: back in use here (in use 0x%x, marked faulty here 0x%x)", p->path,
			p->in_use, p->faulty);
	} else {
		ENG_LOG(WARNING, e, "path %u %s (in use 0x%x, marked faulty here 0x%x)", p->path,
			p->state < 3 ? path_state_names[p->state] : "?", p->in_use, p->faulty);
	}
	e->next_publish_ns = 0;
}

/* Per-peer link state (every link poll): on each path, whether each
 * member is heard there, heard only on another path, or says in its own
 * frames that it marked the path faulty. A change is logged by every node
 * that sees it, naming the peer: in active mode the node whose link was
 * cut marks the path, and its peers see it from its frames. */
static uint8_t peer_link_state(const struct eng *e, const struct rp_peer_info *pi, uint8_t p, uint8_t old)
{
	uint64_t window = e->cfg.rp.token_loss_ns;
	if (pi->fault_mask & (1u << p))
		return ENG_PEER_FAULTY;
	int heard_here = pi->last_rx_ns[p] != 0 && e->now_ns - pi->last_rx_ns[p] <= window;
	if (heard_here)
		return ENG_PEER_OK;
	/* its sends that also went on p came on other paths only (§9.6);
	 * heard elsewhere is not enough: a probe goes on one path */
	if (pi->missing & (1u << p))
		return ENG_PEER_SILENT;
	return old == ENG_PEER_SILENT || old == ENG_PEER_FAULTY ? old : ENG_PEER_UNKNOWN;
}

static void poll_peers(struct eng *e)
{
	if (e->cfg.rp.path_count < 2)
		return;
	for (uint16_t i = 0; i < e->member_count; i++) {
		uint16_t id = e->members[i];
		struct rp_peer_info pi;
		if (id == e->cfg.rp.node_id || rp_node_peer(e->rp, id, &pi) != 0)
			continue;
		for (uint8_t p = 0; p < e->cfg.rp.path_count; p++) {
			uint8_t *st = &e->peer_link[id - 1u][p], now = peer_link_state(e, &pi, p, *st);
			if (now == *st)
				continue;
			if (now == ENG_PEER_FAULTY)
				ENG_LOG(WARNING, e, "path %u to node %u: node %u marked it faulty (it sends on paths 0x%x)", p,
					id, id, pi.send_mask);
			else if (now == ENG_PEER_SILENT)
				ENG_LOG(WARNING, e, "path %u to node %u: node %u's frames sent on it too arrive here on another path only",
					p, id, id);
			else if (now == ENG_PEER_OK && *st != ENG_PEER_UNKNOWN)
				ENG_LOG(NOTICE, e, "path %u to node %u: working again", p, id);
			*st = now;
		}
	}
}

/* The step's actions (rp_drive.h); a fatal error stops the rest. Inlined
 * into eng_step, its one caller, as it was before rp_drive.h. */
static inline __attribute__((always_inline)) void perform(void *ctx, const struct rp_actions *acts)
{
	struct eng *e = ctx;
	for (uint32_t k = 0; k < acts->count; k++) {
		const struct rp_action *a = &acts->v[k];
		switch (a->kind) {
		case RP_ACT_SEND: {
			const uint8_t *data = a->send.data;
			uint32_t size = a->send.size;
			if (e->keys != NULL) {
				/* sealed once for every path: the path byte is not
				 * authenticated (docs/security.md §2) */
				size = (uint32_t)eng_keys_seal(e, data, size);
				if (e->fatal)
					return;
				if (size == 0)
					break;
				data = e->keys->sealed;
			}
			/* a DUP_NOTICE or ID_PROBE goes from the port's MAC, not this
			 * node id's; an ID_PROBE on L2 paths only: a routed path
			 * probes for its address instead (§8.8) */
			uint8_t type = rp_wire_peek_type(a->send.data, a->send.size);
			bool notice = type == RP_FRAME_DUP_NOTICE || type == RP_FRAME_ID_PROBE;
			for (uint8_t p = 0; p < e->cfg.rp.path_count; p++)
				if ((a->send.path_mask & (1u << p)) &&
				    (type != RP_FRAME_ID_PROBE || e->g.net[p].c.transport == PMDG_TRANSPORT_L2))
					(void)(notice ? pmdg_send_from_port(&e->g, p, data, size)
						      : pmdg_send(&e->g, p, a->send.dest, data, size));
			break;
		}
		case RP_ACT_DELIVER:
			/* the node's own group operations (client id 0; a ring that
			 * formed in steps has SYNCs some members never saw) are not
			 * application messages: /ordo/delivery leaves them out */
			if (a->deliver.client_id != 0)
				eng_delivery_on_fragment(e, &a->deliver);
			eng_clients_deliver(e, &a->deliver);
			break;
		case RP_ACT_CONFIG:
			on_config(e, &a->config);
			break;
		case RP_ACT_SUBMIT_DONE:
			if (a->submit_cookie & (ENG_COOKIE_CLIENT | ENG_COOKIE_BUF))
				eng_clients_submit_done(e, a->submit_cookie);
			else
				eng_load_submit_done(e, a->submit_cookie);
			break;
		case RP_ACT_PERSIST: {
			/* Durable before any later action is performed (rp.h). */
			pmdg_flush(&e->g);
			int rc = eng_state_persist(&e->cfg, &a->persist);
			if (rc != 0) {
				ENG_LOG(ERR, e, "cannot persist ring state in %s: %s; stopping (ring ids must never repeat)",
					e->cfg.state_dir, strerror(-rc));
				e->fatal = 1;
				return;
			}
			break;
		}
		case RP_ACT_PATH:
			on_path(e, &a->path);
			break;
		case RP_ACT_REFUSED:
			on_refused(e, &a->refused);
			break;
		}
	}
}

/* An mbuf ring-proto no longer references (docs/protocol.md §14), freed
 * only after the step's actions, which may point into it, were performed. */
static bool returned(void *ctx, void *lend)
{
	struct eng *e = ctx;
	struct rte_mbuf *m = lend;
	uint8_t p = pmdg_path_of(&e->g, m);
	/* a lent frame is an mbuf of one of this node's path pools */
	ENG_VERIFY(p < e->cfg.rp.path_count && e->kept[p] > 0);
	e->kept[p]--;
	rte_pktmbuf_free(m);
	return true;
}

static void kept(void *ctx, const struct rp_input *in)
{
	struct eng *e = ctx;
	e->kept[in->frame.path]++;
}

static const struct rp_driver eng_driver = {.kept = kept, .perform = perform, .returned = returned};

/* ring-proto's failed assertions (rp.h): the place in the log, then abort
 * (with a core dump where the system keeps them). The worker's thread. */
void rp_assert_failed(const char *file, unsigned line, const char *cond)
{
	rte_panic("ring-proto: %s:%u: RP_ASSERT(%s) failed\n", file, line, cond);
}

/* Every step gets the clock at the step, not the duty cycle's: a process
 * stopped between the two (SIGSTOP; a VM pause, where the guest's TSC keeps
 * counting) would give ring-proto a
 * time from before the pause, and the first step after it would not see
 * the pause (docs/protocol.md §16.1): a submit would release a token held
 * or queued in a ring the others had left, and sequence in it. */
int eng_step(struct eng *e, const struct rp_input *in)
{
	e->now_ns = eng_clock(e);
	return rp_drive(e->rp, in, e->now_ns, &e->acts, &eng_driver, e);
}

/* Steps one received frame. Lends its mbuf while the path's pool can spare
 * it: returns true if ring-proto kept it (it is freed when returned). */
static bool step_frame(struct eng *e, const uint8_t *data, size_t len, uint8_t path, struct rte_mbuf *m)
{
	struct rp_input in = {.kind = RP_IN_FRAME};
	in.frame.data = data;
	in.frame.size = len;
	in.frame.path = path;
	if (m != NULL && e->cfg.zero_copy && e->kept[path] < e->g.keep_max[path])
		in.frame.lend = m;
	return eng_step(e, &in) == RP_KEPT;
}

/* Before the node is dropped: every kept mbuf back to its pool. */
static void return_all(struct eng *e)
{
	rp_drive_return_all(e->rp, &eng_driver, e);
}

/* Receives on every path; tokens of the round wait until every data frame
 * of the round has been fed. Returns the frames received. */
static uint32_t poll_rx(struct eng *e)
{
	struct rte_mbuf *held[RP_PATHS_MAX * PMDG_BURST];
	const uint8_t *held_data[RP_PATHS_MAX * PMDG_BURST];
	size_t held_len[RP_PATHS_MAX * PMDG_BURST];
	uint8_t held_path[RP_PATHS_MAX * PMDG_BURST];
	uint32_t nheld = 0, total = 0;
	for (uint8_t p = 0; p < e->cfg.rp.path_count; p++) {
		struct rte_mbuf *pkts[PMDG_BURST];
		uint16_t n = pmdg_rx(&e->g, p, pkts, PMDG_BURST);
		total += n;
		for (uint16_t i = 0; i < n; i++) {
			size_t len;
			const uint8_t *d = pmdg_payload(&e->g, p, pkts[i], e->scratch, &len);
			/* Frame security: authenticated (and decrypted in place: the
			 * mbuf, or scratch, is the worker's) before ring-proto sees
			 * a byte; a refusal is counted by reason in keys->c.st. */
			if (d != NULL && e->keys != NULL &&
			    eng_crypto_open(&e->keys->c, (uint8_t *)(uintptr_t)d, len, p, &len) != ENG_CRYPTO_OK)
				d = NULL;
			if (d == NULL) {
				rte_pktmbuf_free(pkts[i]);
				continue;
			}
			if (rp_wire_peek_type(d, len) == RP_FRAME_TOKEN && d != e->scratch) {
				held[nheld] = pkts[i];
				held_data[nheld] = d;
				held_len[nheld] = len;
				held_path[nheld] = p;
				nheld++;
				continue;
			}
			/* a frame copied into scratch is not the mbuf's to lend */
			e->rx_mbuf = pkts[i];
			e->rx_path = p;
			bool kept = step_frame(e, d, len, p, d == e->scratch ? NULL : pkts[i]);
			e->rx_mbuf = NULL;
			if (!kept)
				rte_pktmbuf_free(pkts[i]);
		}
	}
	for (uint32_t i = 0; i < nheld; i++) {
		step_frame(e, held_data[i], held_len[i], held_path[i], NULL); /* tokens are never stored */
		rte_pktmbuf_free(held[i]);
	}
	return total;
}

static uint32_t poll_timers(struct eng *e)
{
	static const struct rp_input tick = {.kind = RP_IN_TICK};
	uint32_t n = 0;
	while (n < ENG_TICKS_PER_LOOP && rp_next_deadline_ns(e->rp) <= e->now_ns && !e->fatal) {
		(void)eng_step(e, &tick);
		n++;
	}
	return n;
}

static void poll_links(struct eng *e)
{
	for (uint8_t p = 0; p < e->cfg.rp.path_count; p++) {
		int up = pmdg_link_up(&e->g, p);
		if (up < 0 || up == e->link[p])
			continue;
		int first = e->link[p] < 0;
		e->link[p] = (int8_t)up;
		if (first && up)
			continue; /* ring-proto assumes a link up until told otherwise */
		ENG_LOG(WARNING, e, "path %u: the NIC reports its link %s", p, up ? "up" : "down");
		struct rp_input in = {.kind = RP_IN_LINK};
		in.link.path = p;
		in.link.up = (uint8_t)up;
		(void)eng_step(e, &in);
	}
}

/* Listening at start (§8.8 Rule D (0)), every routed path makes sure this
 * node's address is its own (RFC 5227, RFC 4862) before it claims it in
 * a solicitation: 3 probes a quarter of the listening time apart. */
static void dad_start(struct eng *e)
{
	uint64_t listen = e->cfg.rp.listen_ns;
	if (listen == 0)
		return;
	e->now_ns = eng_clock(e);
	for (uint8_t p = 0; p < e->cfg.rp.path_count; p++)
		if (e->g.started[p])
			pmdg_net_dad_start(&e->g.net[p], ENG_DAD_PROBES, listen / 4u, e->now_ns);
	e->dad_until = e->now_ns + listen;
}

/* An address found in use stops this process, telling the ring through
 * ring-proto's DUP_NOTICE, once the peers had a quarter of the listening
 * time to answer the anonymous solicitations (the notice goes to those
 * that did, and to the host that holds the address). */
static void dad_poll(struct eng *e)
{
	uint8_t conflict = RP_PATHS_MAX;
	uint32_t resolved = 0, total = 0;
	for (uint8_t p = 0; p < e->cfg.rp.path_count; p++) {
		uint32_t r, t;
		pmdg_net_resolved(&e->g.net[p], &r, &t);
		resolved += r;
		total += t;
		if (e->g.net[p].dad == PMDG_DAD_CONFLICT && conflict == RP_PATHS_MAX)
			conflict = p;
	}
	if (conflict != RP_PATHS_MAX && e->dad_conflict_ns == 0)
		e->dad_conflict_ns = e->now_ns;
	if (conflict != RP_PATHS_MAX &&
	    (resolved == total || e->now_ns - e->dad_conflict_ns >= e->cfg.rp.listen_ns / 4u)) {
		const struct pmdg_net *n = &e->g.net[conflict];
		const uint8_t *m = n->holder.b;
		char addr[64];
		pmdg_ip_format(&n->c.self, addr, sizeof(addr));
		ENG_LOG(ERR, e, "ADDRESS IN USE: path %u: this node's address %s is held by MAC "
			"%02x:%02x:%02x:%02x:%02x:%02x (it answered or probed for it; RFC %s): another host has it, "
			"or a process with this node's id %u runs there already; not starting",
			conflict, addr, m[0], m[1], m[2], m[3], m[4], m[5], n->c.self.family == 4 ? "5227" : "4862",
			e->cfg.rp.node_id);
		e->dad_until = 0;
		struct rp_input in = {.kind = RP_IN_ADDRESS_IN_USE};
		(void)eng_step(e, &in); /* the DUP_NOTICE, then the refusal: fatal */
		e->fatal = 1;
		return;
	}
	if (conflict == RP_PATHS_MAX && e->now_ns >= e->dad_until) {
		for (uint8_t p = 0; p < e->cfg.rp.path_count; p++)
			pmdg_net_dad_done(&e->g.net[p]);
		e->dad_until = 0;
	}
}

/* Where a message's time goes besides the work (docs/performance.md §7):
 * a gap between two duty cycles with no sleep between is time the worker
 * was runnable and did not run (it yielded, or was preempted, and the CPU
 * ran something else); the time between two accepted tokens is the
 * rotation this node saw. Counted at the start of a cycle; the tokens at
 * its end. */
static void count_off_cpu(struct eng *e)
{
	if (e->cycle_end_ns == 0 || e->now_ns - e->cycle_end_ns < ENG_OFF_CPU_NS)
		return;
	uint64_t gap = e->now_ns - e->cycle_end_ns;
	eng_count_off_cpu_time(&e->cnt, gap);
}

static void count_token_gap(struct eng *e)
{
	uint64_t t = rp_node_stats(e->rp)->tokens_received;
	if (t == e->token_seen)
		return;
	if (e->token_ns != 0) {
		eng_count_token_gap_time(&e->cnt, e->now_ns - e->token_ns);
	}
	e->token_seen = t;
	e->token_ns = e->now_ns;
}

/* One duty cycle; returns the work it did (0: idle). */
static uint32_t duty_cycle(struct eng *e)
{
	/* QSBR: between two duty cycles the worker holds no reference into
	 * the client table (or anything else RCU protects), so each cycle
	 * starts with its quiescent state: the control thread may then free
	 * a table it replaced. */
	rcu_quiescent_state();
	e->now_ns = eng_clock(e);
	e->cnt.loops++;
	count_off_cpu(e);
	if (eng_telemetry_take_gap_reset()) {
		e->dlv.max_gap_ns = 0;
		e->dlv.last_ns = 0;
	}
	pmdg_tick(&e->g, e->now_ns); /* the clock for ARP/ND; due solicitations */
	uint32_t work = poll_rx(e);
	if (e->dad_until != 0)
		dad_poll(e);
	work += poll_timers(e);
	work += eng_load_pump(e);
	work += eng_clients_poll(e);
	work += eng_keys_poll(e);
	if (e->now_ns >= e->next_link_poll_ns) {
		poll_links(e);
		poll_peers(e);
		eng_admin_poll(e);
		e->next_link_poll_ns = e->now_ns + ENG_LINK_POLL_NS;
	}
	work += pmdg_flush(&e->g);
	eng_clients_wake(e); /* after the flush: a woken reader may take this CPU */
	e->unpublished |= work != 0;
	if (e->now_ns >= e->next_publish_ns) {
		eng_publish(e);
		e->unpublished = false;
		e->next_publish_ns = e->now_ns + ENG_PUBLISH_NS;
	}
	count_token_gap(e);
	e->cycle_end_ns = eng_clock(e);
	return work;
}

static uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* [node] wake_priority: the worker blocks as a SCHED_FIFO task, so that
 * what ends the sleep runs it at once: a normal task woken while another
 * runs on its CPU may wait out that task's slice (milliseconds), on every
 * hop of the token. It returns to SCHED_OTHER before it polls or yields
 * again (wake_rt_leave), so a busy worker never runs real-time and cannot
 * starve its clients; what it does at real-time priority is the one duty
 * cycle after a wake. Without the privilege: logged once, then off. */
static void wake_rt_enter(struct eng *e)
{
	if (e->wake_rt || e->cfg.wake_priority == 0)
		return;
	struct sched_param sp = {.sched_priority = (int)e->cfg.wake_priority};
	if (sched_setscheduler(0, SCHED_FIFO, &sp) == 0) {
		e->wake_rt = true;
		return;
	}
	ENG_LOG(INFO, e, "[node] wake_priority %u: sched_setscheduler(SCHED_FIFO): %s; the worker sleeps at normal priority",
		e->cfg.wake_priority, strerror(errno));
	e->cfg.wake_priority = 0;
}

static void wake_rt_leave(struct eng *e)
{
	if (!e->wake_rt)
		return;
	const struct sched_param sp = {.sched_priority = 0};
	(void)sched_setscheduler(0, SCHED_OTHER, &sp);
	e->wake_rt = false;
}

/* Sleeps in epoll on every path's rx descriptor and the clients' doorbell
 * until a frame or a record arrives or the next deadline (ring-proto's
 * timers, the load generator, link polling) is due. Rx
 * descriptors are level-triggered on the rx ring itself, so a frame that
 * came after the duty cycle's poll wakes the wait at once. A deadline
 * nearer than ENG_BLOCK_MIN_NS, or a client's record that came meanwhile,
 * is not worth a sleep: it yields or returns. */
static void block_wait(struct eng *e)
{
	uint64_t until = min_u64(rp_next_deadline_ns(e->rp), eng_load_next_ns(e));
	until = min_u64(until, e->next_link_poll_ns);
	if (until <= e->now_ns + ENG_BLOCK_MIN_NS) {
		wake_rt_leave(e);
		sched_yield();
		return;
	}
	/* Telemetry: nothing it shows changes while the worker sleeps (the
	 * worker is its only writer), so a publish due before the deadline is
	 * done now rather than by waking every millisecond (uptime_ns then
	 * lags by at most the link poll's 100 ms). */
	if (e->unpublished && e->next_publish_ns < until) {
		eng_publish(e);
		e->unpublished = false;
		e->next_publish_ns = e->now_ns + ENG_PUBLISH_NS;
	}
	if (eng_clients_arm_sleep(e)) {
		eng_clients_disarm_sleep(e);
		wake_rt_leave(e);
		sched_yield(); /* a record it could not take yet may wait for others */
		return;
	}
	uint64_t wait = until - e->now_ns;
	struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000u), .tv_nsec = (long)(wait % 1000000000u)};
	struct epoll_event ev[RP_PATHS_MAX + 1];
	wake_rt_enter(e);
	rcu_thread_offline(); /* the control thread need not wait for us */
	int n = epoll_pwait2(e->block_epfd, ev, RP_PATHS_MAX + 1, &ts, NULL);
	if (n < 0 && errno == ENOSYS) /* kernels before 5.11: millisecond timeouts */
		n = epoll_wait(e->block_epfd, ev, RP_PATHS_MAX + 1, (int)((wait + 999999u) / 1000000u));
	rcu_thread_online();
	e->cycle_end_ns = 0; /* a sleep, not time off the CPU */
	int frames = 0;
	for (int i = 0; i < n; i++)
		if (ev[i].data.u32 == ENG_BLOCK_DOORBELL) {
			uint64_t v;
			(void)!read(e->doorbell_fd, &v, sizeof(v));
			e->cnt.wakes_doorbell++;
		} else {
			frames = 1;
		}
	e->cnt.wakes_frames += (uint64_t)frames;
	if (n == 0) { /* how long the host took to run us again: the cost of a sleep */
		uint64_t now = eng_clock(e), late = now > until ? now - until : 0;
		e->cnt.wakes_timer++;
		eng_count_wakes_timer_lateness(&e->cnt, late);
	}
	e->cnt.wakes_timer += n < 0;
	eng_clients_disarm_sleep(e);
	e->cnt.sleeps++;
}

/* idle = block: after 50 us without work (yielding meanwhile: the token of
 * a busy ring comes back sooner than a sleeping CPU wakes up), block_wait. */
static void block(struct eng *e)
{
	if (e->idle_since_ns == 0)
		e->idle_since_ns = e->now_ns;
	if (e->now_ns - e->idle_since_ns < ENG_BLOCK_AFTER_NS) {
		wake_rt_leave(e);
		sched_yield(); /* the grace: most idle loops end here */
		return;
	}
	block_wait(e);
}

/* idle = backoff: yield while work came within backoff_yield_ns or a
 * deadline is nearer than one sleep; else nanosleep backoff_sleep_ns. */
static void backoff(struct eng *e)
{
	/* [node] backoff_yield_us, backoff_sleep_us; timer slack 1 us */
	if (e->now_ns - e->idle_since_ns < e->cfg.backoff_yield_ns ||
	    rp_next_deadline_ns(e->rp) < e->now_ns + e->cfg.backoff_sleep_ns) {
		sched_yield();
		return;
	}
	const struct timespec ts = {.tv_sec = (time_t)(e->cfg.backoff_sleep_ns / 1000000000u),
				    .tv_nsec = (long)(e->cfg.backoff_sleep_ns % 1000000000u)};
	nanosleep(&ts, NULL);
	e->cycle_end_ns = 0;
	e->cnt.sleeps++;
}

/* idle = adaptive (the default): ring-proto says when waiting is free.
 * On a quiet ring (rp_node_quiet: this node holds the token, or the last
 * token it forwarded sequenced nothing in a whole rotation) the token comes
 * back only after a hold, so nothing but a frame (a HOLD_CANCEL, the
 * released token), a client's record or a deadline can bring work: block
 * at once. On a busy ring with nothing of this node's own to send
 * (rp_node_backlog 0; a client's record not taken yet makes block_wait
 * yield instead) the next token only has to be passed on: block at once
 * too, so that it finds a sleeping worker its frame wakes real-time
 * rather than a yielded one waiting for a CPU behind the machine's other
 * runnable threads. With a backlog (a flood) yield, and block after
 * adaptive_yield_ns without work (on a device that cannot be waited on:
 * backoff, nanosleep after backoff_yield_ns). */
static void adaptive(struct eng *e)
{
	if (e->block_epfd >= 0 && rp_node_quiet(e->rp)) {
		e->cnt.quiet_sleeps++;
		block_wait(e);
		return;
	}
	if (e->block_epfd >= 0 && rp_node_backlog(e->rp) == 0) {
		e->cnt.unsent_sleeps++;
		block_wait(e);
		return;
	}
	if (e->block_epfd >= 0 && e->now_ns - e->idle_since_ns >= e->cfg.adaptive_yield_ns) {
		block_wait(e);
		return;
	}
	wake_rt_leave(e);
	backoff(e);
}

/* Sets up idle = block's epoll set; 0, or -1 with err. */
static int block_init(struct eng *e, char *err, size_t err_size)
{
	e->block_epfd = epoll_create1(EPOLL_CLOEXEC);
	if (e->block_epfd < 0) {
		snprintf(err, err_size, "idle = block: epoll_create1: %s", strerror(errno));
		return -1;
	}
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = ENG_BLOCK_DOORBELL};
	if (epoll_ctl(e->block_epfd, EPOLL_CTL_ADD, e->doorbell_fd, &ev) != 0) {
		snprintf(err, err_size, "idle = block: epoll_ctl: %s", strerror(errno));
		return -1;
	}
	for (uint8_t p = 0; p < e->cfg.rp.path_count; p++) {
		int fd = pmdg_wait_fd(&e->g, p, err, err_size);
		if (fd == PMDG_WAIT_NEVER)
			continue;
		if (fd < 0)
			return -1;
		ev = (struct epoll_event){.events = EPOLLIN, .data.u32 = p};
		if (epoll_ctl(e->block_epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
			snprintf(err, err_size, "idle = block: path%u: epoll_ctl: %s", p, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* The epoll set of idle = block (a device that cannot be waited on is an
 * error) and adaptive (it then sleeps as backoff); 0, or -1 with err. */
static int idle_init(struct eng *e, char *err, size_t err_size)
{
	if (e->cfg.idle != ENG_IDLE_BLOCK && e->cfg.idle != ENG_IDLE_ADAPTIVE)
		return 0;
	if (block_init(e, err, err_size) == 0)
		return 0;
	if (e->cfg.idle == ENG_IDLE_BLOCK)
		return -1;
	ENG_LOG(INFO, e, "idle = adaptive sleeps in nanosleep: %s", err);
	err[0] = '\0';
	if (e->block_epfd >= 0)
		close(e->block_epfd);
	e->block_epfd = -1;
	return 0;
}

static void idle(struct eng *e)
{
	e->cnt.idle_loops++;
	switch (e->cfg.idle) {
	case ENG_IDLE_SPIN:
		rte_pause();
		break;
	case ENG_IDLE_YIELD:
		sched_yield();
		break;
	case ENG_IDLE_BACKOFF:
		if (e->idle_since_ns == 0)
			e->idle_since_ns = e->now_ns;
		backoff(e);
		break;
	case ENG_IDLE_ADAPTIVE:
		if (e->idle_since_ns == 0)
			e->idle_since_ns = e->now_ns;
		adaptive(e);
		break;
	case ENG_IDLE_BLOCK:
		block(e);
		break;
	}
}

/* The ops arena's room for this node's largest SYNC: every membership of
 * its clients the table can hold (40 bytes each at most), in pieces of at
 * most message_size_max, each a record that may need a pad before it. */
static uint64_t eng_sync_max(const struct eng_config *c)
{
	uint64_t per = c->max_group_members < c->max_clients ? c->max_group_members : c->max_clients;
	uint64_t bytes = (uint64_t)c->max_groups * per * (ATT_OP_ENTRY_HDR + ORDO_GROUP_NAME_MAX);
	uint64_t piece = c->rp.message_size_max > 2u * ATT_OP_HDR ? c->rp.message_size_max - ATT_OP_HDR : 1u;
	uint64_t pieces = bytes / piece + 1u;
	uint64_t pad = eng_arena_round(c->rp.message_size_max < bytes + ATT_OP_HDR ? c->rp.message_size_max
										    : bytes + ATT_OP_HDR);
	return bytes + pieces * (ATT_OP_HDR + ENG_ARENA_HDR + pad); /* a pad before each piece at most */
}

/* Tests only: tests/api/alloc_check.c, preloaded into ordod, counts the
 * allocations of the thread that called it with 1 until it calls it with
 * 0 (the worker allocates nothing after eng_create). Not defined in ordod. */
extern void ordo_alloc_check(int on) __attribute__((weak));

void eng_run(struct eng *e, volatile int *stop)
{
	if (e->cfg.idle == ENG_IDLE_BACKOFF || e->cfg.idle == ENG_IDLE_BLOCK || e->cfg.idle == ENG_IDLE_ADAPTIVE)
		(void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	rcu_register_thread(); /* the client table is read under QSBR */
	ENG_LOG(NOTICE, e, "running: incarnation %llu, %u path(s), idle %s",
		(unsigned long long)e->cfg.rp.incarnation, e->cfg.rp.path_count,
		e->cfg.idle == ENG_IDLE_SPIN    ? "spin"
		: e->cfg.idle == ENG_IDLE_YIELD ? "yield"
		: e->cfg.idle == ENG_IDLE_BLOCK ? "block"
		: e->cfg.idle == ENG_IDLE_ADAPTIVE ? (e->block_epfd >= 0 ? "adaptive" : "adaptive (nanosleep: a path cannot be waited on)")
						: "backoff");
	if (ordo_alloc_check != NULL)
		ordo_alloc_check(1);
	dad_start(e);
	while (!*stop && !e->fatal && !e->admin_stop) {
		if (duty_cycle(e) != 0) {
			e->idle_since_ns = 0;
			wake_rt_leave(e); /* busy: poll at normal priority */
		} else {
			idle(e);
		}
	}
	if (e->fatal) {
		eng_clients_stop(e);
		rcu_unregister_thread();
		if (ordo_alloc_check != NULL)
			ordo_alloc_check(0);
		return;
	}
	wake_rt_leave(e);
	/* Polite leave: the others reform without waiting for a token loss. */
	ENG_LOG(NOTICE, e, "leaving the ring");
	struct rp_input leave = {.kind = RP_IN_LEAVE};
	e->now_ns = eng_clock(e);
	(void)eng_step(e, &leave);
	uint64_t until = e->now_ns + ENG_LEAVE_WAIT_NS;
	while (rp_node_state(e->rp) != RP_NODE_LEFT && e->now_ns < until && !e->fatal) {
		if (duty_cycle(e) == 0)
			idle(e);
	}
	pmdg_flush(&e->g);
	eng_publish(e);
	eng_clients_stop(e);
	rcu_unregister_thread();
	if (ordo_alloc_check != NULL)
		ordo_alloc_check(0);
	if (e->block_epfd >= 0)
		ENG_LOG(NOTICE, e, "idle %s: slept %llu times (%llu on a quiet ring, %llu with nothing to send), woken by frames %llu, by the doorbell %llu, by timers %llu",
			e->cfg.idle == ENG_IDLE_BLOCK ? "block" : "adaptive", (unsigned long long)e->cnt.sleeps,
			(unsigned long long)e->cnt.quiet_sleeps, (unsigned long long)e->cnt.unsent_sleeps,
			(unsigned long long)e->cnt.wakes_frames,
			(unsigned long long)e->cnt.wakes_doorbell, (unsigned long long)e->cnt.wakes_timer);
}

int eng_failed(const struct eng *e) { return e->fatal; }
int eng_doorbell_fd(const struct eng *e) { return e->doorbell_fd; }

/* What eng_create() made besides the ports, the control thread and the
 * client state: freed on its failure and by eng_destroy(). */
static void free_node(struct eng *e)
{
	if (e->block_epfd >= 0)
		close(e->block_epfd);
	close(e->doorbell_fd);
	eng_keys_free(e);
	eng_load_free(e);
	if (e->arena_mem != NULL)
		munmap(e->arena_mem, e->arena_bytes);
	if (e->asm_mem != NULL)
		munmap(e->asm_mem, (size_t)e->cfg.assembly_buffers * eng_arena_round(e->cfg.rp.message_size_max));
	free(e->asm_free);
	free(e->groups_mem);
	free(e->view_joined);
	free(e->view_left);
	free(e->cl_by_slot);
	free(e->scratch);
	free(e->acts.v);
	free(e->rp);
	rte_free(e);
}

struct eng *eng_create(const struct eng_config *c, char *err, size_t err_size)
{
	struct eng *e = rte_zmalloc("ordo-eng", sizeof(*e), RTE_CACHE_LINE_SIZE);
	if (e == NULL) {
		snprintf(err, err_size, "out of memory for the engine (%zu bytes)", sizeof(*e));
		return NULL;
	}
	e->cfg = *c;
	e->admin_cfg = *c;
	e->block_epfd = -1;
	e->doorbell_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (e->doorbell_fd < 0) {
		snprintf(err, err_size, "cannot create the doorbell eventfd: %s", strerror(errno));
		rte_free(e);
		return NULL;
	}
	for (uint8_t p = 0; p < RP_PATHS_MAX; p++)
		e->link[p] = -1;
	e->start_unix_ns = unix_ns();

	size_t size = rp_node_size(&c->rp);
	if (size == 0) {
		snprintf(err, err_size, "ring-proto rejects the configuration");
		goto fail;
	}
	size = (size + 63u) & ~(size_t)63u;
	e->rp = aligned_alloc(64, size);
	e->acts.capacity = rp_actions_min(&c->rp) + ENG_ACTIONS_EXTRA;
	e->acts.v = calloc(e->acts.capacity, sizeof(*e->acts.v));
	e->scratch = malloc(c->mtu + 64u);
	e->cl_by_slot = calloc(c->max_clients, sizeof(*e->cl_by_slot));
	struct eg_conf gc = {.max_groups = c->max_groups, .max_members = c->max_group_members};
	size_t gsize = eg_table_size(&gc);
	e->groups_mem = gsize != 0 ? aligned_alloc(64, (gsize + 63u) & ~(size_t)63u) : NULL;
	e->view_joined = calloc(c->max_group_members, sizeof(*e->view_joined));
	e->view_left = calloc(c->max_group_members, sizeof(*e->view_left));
	/* the worker's other buffers, so that it never allocates: the engine's
	 * own messages (the largest SYNC is one message), deferred group ops,
	 * the assembly buffers of large client messages (mapped, not touched) */
	uint64_t ops_bytes = ENG_OPS_BYTES + eng_sync_max(c);
	e->arena_bytes = ops_bytes + ENG_DEFER_BYTES;
	e->arena_mem = mmap(NULL, e->arena_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			    -1, 0);
	if (e->arena_mem == MAP_FAILED)
		e->arena_mem = NULL;
	size_t asm_bytes = (size_t)c->assembly_buffers * eng_arena_round(c->rp.message_size_max);
	e->asm_mem = mmap(NULL, asm_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (e->asm_mem == MAP_FAILED)
		e->asm_mem = NULL;
	e->asm_free = calloc(c->assembly_buffers, sizeof(*e->asm_free));
	if (e->rp == NULL || e->acts.v == NULL || e->scratch == NULL || e->cl_by_slot == NULL ||
	    e->groups_mem == NULL || e->view_joined == NULL || e->view_left == NULL || e->arena_mem == NULL ||
	    e->asm_mem == NULL || e->asm_free == NULL) {
		snprintf(err, err_size, "out of memory for the protocol state (%zu bytes)", size);
		goto fail;
	}
	memset(e->rp, 0, size); /* pre-fault */
	memset(e->groups_mem, 0, gsize);
	e->groups = eg_table_init(e->groups_mem, &gc);
	eng_arena_init(&e->ops, e->arena_mem, ops_bytes);
	eng_arena_init(&e->deferred, e->arena_mem + ops_bytes, ENG_DEFER_BYTES);
	for (uint32_t i = 0; i < c->assembly_buffers; i++)
		e->asm_free[e->asm_free_count++] = e->asm_mem + (size_t)i * eng_arena_round(c->rp.message_size_max);
	if (rp_node_init(e->rp, &c->rp) != 0) {
		snprintf(err, err_size, "ring-proto rejects the configuration");
		goto fail;
	}
	if (eng_keys_init(e, err, err_size) != 0)
		goto fail;
	if (eng_load_init(e) != 0) {
		snprintf(err, err_size, "out of memory for the load generator's %u-byte messages", c->load.size);
		goto fail;
	}

	struct pmdg_conf pc = {.path_count = c->rp.path_count, .ring_id = c->ring_id,
			       .node_id = c->rp.node_id, .mtu = c->mtu,
			       .path_mask = rp_topo_paths_of(&c->rp, c->rp.node_id)};
	for (uint8_t p = 0; p < c->rp.path_count; p++) {
		uint32_t room = c->mtu + 18u;
		if (c->path[p].framesz > room)
			room = c->path[p].framesz;
		else if (c->path[p].framesz == 0 && strncmp(c->path[p].device, "net_af_packet", 13) == 0 &&
			 room < 2048u)
			room = 2048u; /* af_packet's default framesz */
		pc.port[p] = (struct pmdg_port_conf){.device = e->cfg.path[p].device,
						     .rx_desc = c->path[p].rx_desc,
						     .tx_desc = c->path[p].tx_desc,
						     .mbufs = c->path[p].mbufs,
						     .data_room = room,
						     .net = &e->cfg.path[p].net};
	}
	if (pmdg_open(&e->g, &pc, err, err_size) != 0)
		goto fail;
	for (uint8_t p = 0; c->zero_copy && p < c->rp.path_count; p++) {
		if (!e->g.started[p])
			continue;
		/* zero-copy receive needs mbufs beyond what the device holds */
		if (e->g.keep_max[p] < c->rp.store_slots)
			ENG_LOG(WARNING, e, "path%u: zero-copy receive keeps at most %u received frames of the store's %u, and copies the rest: raise [path%u] mbufs above %u to keep them all",
				p, e->g.keep_max[p], c->rp.store_slots, p,
				e->g.dev_held[p] + c->rp.store_slots);
		else
			ENG_LOG(INFO, e, "path%u: zero-copy receive keeps up to %u received frames in their mbufs", p,
				e->g.keep_max[p]);
	}
	if (idle_init(e, err, err_size) != 0)
		goto fail_ports;

	uint64_t hz = rte_get_tsc_hz();
	e->tsc_mult = (uint64_t)(((unsigned __int128)1000000000u << 32) / hz);
	e->tsc0 = rte_rdtsc();
	e->now_ns = eng_clock(e);
	e->evict_ns = c->client_evict_ms * 1000000ull;
	e->assembly_timeout_ns = c->assembly_timeout_ms * 1000000ull;
	if (eng_control_start(e, c->socket_path, err, err_size) != 0 || eng_metrics_start(e, err, err_size) != 0)
		goto fail_control;
	if (eng_telemetry_register(e) != 0)
		ENG_LOG(WARNING, e, "telemetry commands not registered (telemetry disabled?)");
	eng_publish(e);
	return e;
	/* undone in the reverse order of the above */
fail_control:
	eng_control_stop(e);
fail_ports:
	pmdg_close(&e->g);
fail:
	free_node(e);
	return NULL;
}

void eng_destroy(struct eng *e)
{
	if (e == NULL)
		return;
	const struct rp_stats *s = rp_node_stats(e->rp);
	char drops[1024];
	const struct eng_drop_src src = {s->drops, e->g.drops, e->keys != NULL ? e->keys->c.st.drops : NULL};
	eng_drops_summary(&src, drops, sizeof(drops));
	ENG_LOG(NOTICE, e, "stopped in state %s: delivered %llu messages (digest %016llx), sent %llu load messages, %llu frames retransmitted, %llu configurations; drops: %s",
		state_names[rp_node_state(e->rp) <= RP_NODE_LEFT ? rp_node_state(e->rp) : 0],
		(unsigned long long)e->dlv.delivered, (unsigned long long)e->dlv.digest,
		(unsigned long long)e->load.sent, (unsigned long long)s->frames_retransmitted,
		(unsigned long long)e->configs_regular, drops);
	ENG_LOG(NOTICE, e, "clients: %llu evictions, %llu bad envelopes, %llu group ops lost, %llu deliveries too big, %llu joins refused, %llu assemblies dropped",
		(unsigned long long)e->cnt.client_evictions, (unsigned long long)e->cnt.client_bad_envelopes,
		(unsigned long long)e->cnt.group_ops_lost, (unsigned long long)e->cnt.deliveries_too_big,
		(unsigned long long)e->cnt.joins_refused, (unsigned long long)e->cnt.assemblies_dropped);
	eng_metrics_stop(e);
	eng_telemetry_unregister();
	eng_control_stop(e);
	return_all(e); /* the pools go with the ports */
	pmdg_close(&e->g);
	free_node(e);
}

const char *eng_state_name(uint8_t s) { return s <= RP_NODE_LEFT ? state_names[s] : "?"; }
const char *eng_path_state_name(uint8_t s) { return s < 3 ? path_state_names[s] : "?"; }

const char *eng_peer_link_name(uint8_t s)
{
	static const char *const names[] = {"quiet", "ok", "silent", "faulty"};
	return s < 4 ? names[s] : "?";
}
