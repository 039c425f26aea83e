/* eng_metrics.c — the node's metrics for Prometheus: GET /metrics over HTTP
 * ([node] metrics_listen, off by default; docs/ordod.md "Metrics").
 *
 * Owns: the HTTP listener (libmicrohttpd, its own thread), and the text
 * exposition format (version 0.0.4) made from one snapshot: the ring's
 * state (ring seq, members, primary, protocol version, quorum), every
 * counter of eng_counters_each() as ordo_<name>_total (gauges without the
 * suffix), the per-path counters and states with a path label, each
 * member's link on each path and when it was last heard, and every drop
 * reason as ordo_drops_total{reason, kind}. The same tables feed
 * telemetry and ordoctl, so a counter appears in all three.
 *
 * Never: serves anything but GET /metrics, or touches the worker's state
 * (it reads the seqlock snapshot).
 *
 * Thread context: libmicrohttpd's thread; eng_metrics_start/stop on the
 * thread that creates and destroys the engine.
 */
#include "eng_internal.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define METRICS_MAX (512u << 10)

struct out {
	char *buf;
	size_t len, cap;
	char node[8];
	const char *last; /* the family whose HELP/TYPE was written last */
};

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n < o->cap - o->len ? (size_t)n : o->cap - o->len - 1;
}

/* HELP and TYPE once per family (its samples follow one another). */
static void family(struct out *o, const char *name, const char *type, const char *help)
{
	if (o->last != NULL && strcmp(o->last, name) == 0)
		return;
	o->last = name;
	put(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void gauge(struct out *o, const char *name, const char *help, const char *labels, uint64_t v)
{
	family(o, name, "gauge", help);
	put(o, "%s{node=\"%s\"%s} %llu\n", name, o->node, labels, (unsigned long long)v);
}

struct each {
	struct out *o;
	char name[64];
};

static void sample(void *arg, const struct rp_counter_desc *d, int is_gauge, uint64_t v)
{
	struct each *ea = arg;
	snprintf(ea->name, sizeof(ea->name), "ordo_%s%s", d->name, is_gauge ? "" : "_total");
	ea->o->last = NULL; /* every counter is a family of its own */
	family(ea->o, ea->name, is_gauge ? "gauge" : "counter", d->help);
	put(ea->o, "%s{node=\"%s\"} %llu\n", ea->name, ea->o->node, (unsigned long long)v);
}

/* The per-path counters, gathered so that each family's samples (one per
 * path) are written together. */
#define PATH_COUNTERS_MAX 32
struct path_table {
	const struct rp_counter_desc *d[PATH_COUNTERS_MAX];
	uint64_t v[RP_PATHS_MAX][PATH_COUNTERS_MAX];
	unsigned n, path;
};

static void path_sample(void *arg, const struct rp_counter_desc *d, int is_gauge, uint64_t v)
{
	(void)is_gauge;
	struct path_table *t = arg;
	if (t->n >= PATH_COUNTERS_MAX)
		return;
	t->d[t->n] = d;
	t->v[t->path][t->n++] = v;
}

static void drop_sample(void *arg, const struct rp_counter_desc *d, int is_gauge, uint64_t v)
{
	(void)is_gauge;
	struct out *o = arg;
	family(o, "ordo_drops_total", "counter",
	       "frames dropped, by reason; kind harmful: a bug, a misconfiguration or an attack, "
	       "harmless: the protocol's normal work (docs/ordod.md)");
	put(o, "ordo_drops_total{node=\"%s\",reason=\"%s\",kind=\"%s\"} %llu\n", o->node, d->name,
	    d->kind == RP_COUNTER_HARMLESS ? "harmless" : "harmful", (unsigned long long)v);
}

static size_t render(const struct eng *e, const struct eng_snapshot *s, char *buf, size_t cap)
{
	struct out o = {.buf = buf, .cap = cap};
	snprintf(o.node, sizeof(o.node), "%u", s->node_id);
	char lab[96];
	snprintf(lab, sizeof(lab), ",state=\"%s\"", eng_state_name(s->state));
	gauge(&o, "ordo_node_info", "this node; its state as a label", lab, 1);
	gauge(&o, "ordo_operational", "1 while the node is in an operational ring", "", s->state == RP_NODE_OPERATIONAL);
	gauge(&o, "ordo_ring_primary", "1 while the node's ring has quorum", "",
	      s->primary && s->state != RP_NODE_LEFT);
	gauge(&o, "ordo_ring_seq", "the seq of the node's ring id", "", s->ring.seq);
	gauge(&o, "ordo_ring_representative", "the representative of the node's ring id", "", s->ring.rep);
	gauge(&o, "ordo_ring_members", "members of the node's ring", "", s->member_count);
	gauge(&o, "ordo_ring_configured_nodes", "nodes configured in [ring] nodes", "", e->cfg.rp.member_count);
	gauge(&o, "ordo_protocol_version", "the protocol version the ring runs", "", s->proto_version);
	gauge(&o, "ordo_uptime_seconds", "seconds since the worker started", "", s->uptime_ns / 1000000000u);

	struct each ea = {.o = &o};
	eng_counters_each(s, sample, &ea);
	struct path_table *t = calloc(1, sizeof(*t));
	if (t == NULL)
		return 0;
	unsigned n = 0;
	for (uint8_t p = 0; p < s->path_count; p++) {
		t->n = 0;
		t->path = p;
		eng_path_counters_each(s, p, path_sample, t);
		n = t->n;
	}
	for (unsigned k = 0; k < n; k++) {
		char name[64];
		snprintf(name, sizeof(name), "ordo_path_%s_total", t->d[k]->name);
		o.last = NULL;
		family(&o, name, "counter", t->d[k]->help);
		for (uint8_t p = 0; p < s->path_count; p++)
			put(&o, "%s{node=\"%s\",path=\"%u\"} %llu\n", name, o.node, p, (unsigned long long)t->v[p][k]);
	}
	free(t);
	for (uint8_t p = 0; p < s->path_count; p++) {
		snprintf(lab, sizeof(lab), ",path=\"%u\"", p);
		gauge(&o, "ordo_path_up", "1 while the path is in use here (0: faulty here, or excluded)", lab,
		      !(s->faulty & (1u << p)) && (s->in_use & (1u << p)));
	}
	for (uint8_t p = 0; p < s->path_count; p++) {
		snprintf(lab, sizeof(lab), ",path=\"%u\"", p);
		gauge(&o, "ordo_path_link_up", "the NIC's link: 1 up, 0 down or unknown", lab, s->link[p] > 0);
	}
	for (uint8_t p = 0; p < s->path_count; p++)
		for (uint16_t i = 0; i < s->member_count; i++) {
			if (s->members[i] == s->node_id)
				continue;
			snprintf(lab, sizeof(lab), ",peer=\"%u\",path=\"%u\"", s->members[i], p);
			uint8_t l = s->peers[i].link[p];
			gauge(&o, "ordo_peer_link_up",
			      "1 unless the peer's frames sent on the path too came on another only (silent), or the peer marked it faulty", lab,
			      l != ENG_PEER_SILENT && l != ENG_PEER_FAULTY);
		}
	for (uint8_t p = 0; p < s->path_count; p++)
		for (uint16_t i = 0; i < s->member_count; i++) {
			if (s->members[i] == s->node_id || s->peers[i].last_rx_ns[p] == 0)
				continue;
			snprintf(lab, sizeof(lab), ",peer=\"%u\",path=\"%u\"", s->members[i], p);
			family(&o, "ordo_peer_last_heard_seconds", "gauge", "seconds since the peer was last heard on the path");
			put(&o, "ordo_peer_last_heard_seconds{node=\"%s\"%s} %.3f\n", o.node, lab,
			    (double)(s->clock_ns - s->peers[i].last_rx_ns[p]) / 1e9);
		}
	const struct eng_drop_src src = {s->rp.drops, s->l2_drops, s->crypto_on ? s->crypto.drops : NULL};
	eng_drops_each(&src, drop_sample, &o);
	return o.len;
}

/* ---- HTTP ---- */

struct eng_metrics {
	struct MHD_Daemon *d;
	const struct eng *e;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload, size_t *upload_size, void **state)
{
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)state;
	const struct eng_metrics *m = cls;
	struct MHD_Response *r;
	unsigned status = MHD_HTTP_OK;
	if (strcmp(method, "GET") != 0 || strcmp(url, "/metrics") != 0) {
		static const char nf[] = "ordod serves GET /metrics only\n";
		status = strcmp(method, "GET") != 0 ? MHD_HTTP_METHOD_NOT_ALLOWED : MHD_HTTP_NOT_FOUND;
		r = MHD_create_response_from_buffer(sizeof(nf) - 1, (void *)nf, MHD_RESPMEM_PERSISTENT);
	} else {
		struct eng_snapshot *s = malloc(sizeof(*s));
		char *buf = malloc(METRICS_MAX);
		size_t len = 0;
		if (s != NULL && buf != NULL && eng_snapshot_read(s) == 0)
			len = render(m->e, s, buf, METRICS_MAX);
		free(s);
		if (len == 0) {
			free(buf);
			static const char un[] = "the node is not running yet\n";
			status = MHD_HTTP_SERVICE_UNAVAILABLE;
			r = MHD_create_response_from_buffer(sizeof(un) - 1, (void *)un, MHD_RESPMEM_PERSISTENT);
		} else {
			r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
			MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
		}
	}
	if (r == NULL)
		return MHD_NO;
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

int eng_metrics_start(struct eng *e, char *err, size_t err_size)
{
	const char *spec = e->cfg.metrics_listen;
	if (spec[0] == '\0')
		return 0;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (eng_parse_listen(spec, &ss) != 0) {
		snprintf(err, err_size, "[node] metrics_listen = '%s': not ADDRESS:PORT", spec);
		return -1;
	}
	struct eng_metrics *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		snprintf(err, err_size, "out of memory for the metrics listener");
		return -1;
	}
	m->e = e;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	m->d = MHD_start_daemon(flags, 0, NULL, NULL, answer, m, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
	if (m->d == NULL) {
		snprintf(err, err_size, "[node] metrics_listen = '%s': cannot listen there (address in use, or not this host's?)",
			 spec);
		free(m);
		return -1;
	}
	e->metrics = m;
	ENG_LOG(NOTICE, e, "metrics for Prometheus on http://%s/metrics", spec);
	return 0;
}

void eng_metrics_stop(struct eng *e)
{
	if (e->metrics == NULL)
		return;
	MHD_stop_daemon(e->metrics->d);
	free(e->metrics);
	e->metrics = NULL;
}
