/* ordoctl — the operator's tool: asks running nodes over their control
 * sockets (docs/ordoctl.md).
 *
 * Owns: the command line, the admin request (client/attach_proto.h,
 * ATT_ADMIN) to one node or several, the human tables made from the JSON
 * replies (--json prints the replies themselves), the live view (watch),
 * and exit statuses a script can test: 0 fine, 1 the node refused or
 * failed the request, 2 a node is not in a primary operational ring, 3 a
 * node is unreachable, 4 (status --all) the nodes' views differ, 64 a
 * usage error.
 *
 * Never: changes a node except by the verbs that say so (leave,
 * shutdown, reinstate, reload, key), or waits on a node longer than
 * its timeout.
 */
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "attach_proto.h"
#include "eng.h"

enum {
	EX_FINE = 0,
	EX_FAILED = 1,      /* the node answered with an error */
	EX_NOT_PRIMARY = 2, /* not operational in a primary ring */
	EX_UNREACHABLE = 3, /* no answer: no socket, refused, timeout, garbage */
	EX_DIFFER = 4,      /* status --all: the views differ */
	EX_USAGE_ = 64,
};

static int json_out, timeout_ms = 2000;
static volatile sig_atomic_t interrupted;

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ordoctl [-s SOCKET | -n ID | -c FILE] [--json] [-t MS] VERB [ARGS]\n"
		"       ordoctl [--json] status --all SOCKET...\n"
		"  -s SOCKET  the node's control socket ([node] socket)\n"
		"  -n ID      the socket of node ID with the default file_prefix: /run/ordo/ordo-n<ID>.sock\n"
		"  -c FILE    the socket the node's configuration file names\n"
		"  --json     print the node's JSON reply (status --all: one object of them)\n"
		"  -t MS      wait this long for an answer (default 2000)\n"
		"verbs:\n"
		"  status             ring, members, quorum, protocol version, this node's paths\n"
		"  members            every member's link on each path, and when it was last heard\n"
		"  quorum             quorum policy and state\n"
		"  stats              every counter, and per path\n"
		"  drops              dropped frames by reason: harmful and harmless apart\n"
		"  watch [VERB] [-i SECONDS] [-n COUNT]   VERB (status) again and again\n"
		"  leave              leave the ring politely; the node stays up until stopped\n"
		"  shutdown           leave the ring and stop the node (exit 0)\n"
		"  reinstate PATH     clear this node's fault mark on PATH now\n"
		"  reload             re-read the configuration file and apply the live keys\n"
		"  key reload         re-read the cluster key file (docs/security.md)\n"
		"exit: 0 fine, 1 refused or failed, 2 not in a primary operational ring,\n"
		"      3 unreachable, 4 (status --all) the views differ, 64 usage\n");
}

/* ---- one request ---- */

/* Sends request to the node at path; returns its reply (parsed), or NULL
 * with why set. */
static json_t *ask(const char *path, const char *request, char *why, size_t why_size)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path)) {
		snprintf(why, why_size, "%s: socket path too long", path);
		return NULL;
	}
	memcpy(a.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		/* the two an operator meets: say what they mean */
		snprintf(why, why_size, "%s: %s%s", path, strerror(errno),
			 errno == ENOENT	 ? " (is the node running? ordoctl status --all lists this host's nodes)"
			 : errno == ECONNREFUSED ? " (nobody listens: the node has stopped, or not started yet)"
						 : "");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	struct att_admin req = {.type = ATT_ADMIN, .version = ATT_ADMIN_VERSION};
	snprintf(req.request, sizeof(req.request), "%s", request);
	char *buf = malloc(ATT_ADMIN_REPLY_MAX + 1);
	json_t *j = NULL;
	ssize_t n = -1;
	if (buf != NULL && send(fd, &req, sizeof(req), MSG_NOSIGNAL) == (ssize_t)sizeof(req)) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, timeout_ms);
		if (r == 1)
			n = recv(fd, buf, ATT_ADMIN_REPLY_MAX, 0);
		else
			errno = r == 0 ? ETIMEDOUT : errno;
	}
	if (n > 0) {
		buf[n] = '\0';
		json_error_t je;
		j = json_loads(buf, 0, &je);
		if (j == NULL || !json_is_object(j)) {
			json_decref(j);
			j = NULL;
			snprintf(why, why_size, "%s: not an ordod admin reply (%s)", path, je.text);
		}
	} else {
		snprintf(why, why_size, "%s: %s", path,
			 n == 0 ? "closed without an answer (an ordod without admin requests?)" : strerror(errno));
	}
	free(buf);
	close(fd);
	return j;
}

/* ---- reading replies ---- */

static uint64_t u(const json_t *o, const char *k) { return (uint64_t)json_integer_value(json_object_get(o, k)); }
static const char *str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s != NULL ? s : "?";
}

static void ids(const json_t *arr, char *out, size_t size)
{
	size_t i, n = 0;
	json_t *v;
	out[0] = '\0';
	json_array_foreach(arr, i, v)
		n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%lld", i ? "," : "",
				      (long long)json_integer_value(v));
	if (n == 0)
		snprintf(out, size, "-");
}

static int is_primary(const json_t *r)
{
	return strcmp(str(r, "state"), "operational") == 0 && json_is_true(json_object_get(r, "primary"));
}

static void paths_line(const json_t *r, char *out, size_t size)
{
	size_t i, n = 0;
	json_t *p;
	out[0] = '\0';
	json_array_foreach(json_object_get(r, "paths"), i, p) {
		char down[256];
		ids(json_object_get(p, "peers_down"), down, sizeof(down));
		n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%llu:%s%s%s", i ? " " : "",
				      (unsigned long long)u(p, "path"), str(p, "state"),
				      strcmp(down, "-") != 0 ? "(down to " : "", strcmp(down, "-") != 0 ? down : "");
		if (strcmp(down, "-") != 0)
			n += (size_t)snprintf(out + n, n < size ? size - n : 0, ")");
	}
}

static void print_status(const json_t *r)
{
	char m[512], c[512], pl[512];
	const json_t *q = json_object_get(r, "quorum");
	ids(json_object_get(r, "members"), m, sizeof(m));
	ids(json_object_get(r, "configured"), c, sizeof(c));
	printf("node %llu: %s, ring %llu:%llu, %s, protocol %llu\n", (unsigned long long)u(r, "node"), str(r, "state"),
	       (unsigned long long)u(json_object_get(r, "ring"), "rep"),
	       (unsigned long long)u(json_object_get(r, "ring"), "seq"),
	       json_is_true(json_object_get(r, "primary")) ? "primary" : "NOT primary",
	       (unsigned long long)u(r, "proto_version"));
	printf("members: %s (%llu of %llu configured: %s)\n", m, (unsigned long long)u(q, "members"),
	       (unsigned long long)u(q, "configured"), c);
	if (json_is_integer(json_object_get(q, "needed")))
		printf("quorum: %s, %llu needed%s\n", str(q, "policy"), (unsigned long long)u(q, "needed"),
		       json_is_true(json_object_get(q, "publish_refused_without")) ? ", publishing refused without it" : "");
	else
		printf("quorum: %s%s\n", str(q, "policy"),
		       json_is_true(json_object_get(q, "publish_refused_without")) ? ", publishing refused without it" : "");
	size_t i;
	json_t *p;
	printf("paths (%s):\n", str(r, "rrp_mode"));
	json_array_foreach(json_object_get(r, "paths"), i, p) {
		ids(json_object_get(p, "peers_down"), pl, sizeof(pl));
		long long link = json_integer_value(json_object_get(p, "link"));
		printf("  path%llu %-8s link %-7s %s %s%s%s\n", (unsigned long long)u(p, "path"), str(p, "state"),
		       link < 0 ? "unknown" : link ? "up" : "down", str(p, "transport"), str(p, "device"),
		       strcmp(pl, "-") != 0 ? "; no link to node(s) " : "", strcmp(pl, "-") != 0 ? pl : "");
	}
	printf("clients: %llu\n", (unsigned long long)u(r, "clients"));
}

/* What a link state other than ok means, printed under the members table
 * for each state it shows (docs/ordoctl.md). */
static const char *const link_legend[][2] = {
	{"quiet", "not heard on this path lately, and none of its frames sent on it came on another: normal on an "
		  "idle ring, where a node hears only the node that passes it the token (and probes, which go on "
		  "one path); nothing is known of the link"},
	{"silent", "its frames sent on this path too came on another path only: the path to it is down"},
	{"faulty", "it marked this path faulty itself (its frames say so)"},
};

static void print_members(const json_t *r)
{
	size_t i, k, np = json_array_size(json_object_get(json_array_get(json_object_get(r, "peers"), 0), "paths"));
	unsigned seen = 0;
	json_t *pe, *p;
	printf("node %llu: %s, ring %llu:%llu\n", (unsigned long long)u(r, "node"), str(r, "state"),
	       (unsigned long long)u(json_object_get(r, "ring"), "rep"),
	       (unsigned long long)u(json_object_get(r, "ring"), "seq"));
	printf("%-5s %-20s", "id", "incarnation");
	for (k = 0; k < np; k++)
		printf(k + 1 < np ? " path%-22zu" : " path%zu", k);
	printf("\n");
	json_array_foreach(json_object_get(r, "peers"), i, pe) {
		printf("%-5llu %-20llu", (unsigned long long)u(pe, "id"), (unsigned long long)u(pe, "incarnation"));
		json_array_foreach(json_object_get(pe, "paths"), k, p) {
			char cell[64];
			const json_t *h = json_object_get(p, "last_heard_ms");
			int self = json_is_true(json_object_get(pe, "self"));
			if (self)
				snprintf(cell, sizeof(cell), "%s (this node)", str(p, "link"));
			else if (json_is_integer(h))
				snprintf(cell, sizeof(cell), "%s, %lld ms ago", str(p, "link"), (long long)json_integer_value(h));
			else
				snprintf(cell, sizeof(cell), "%s, never heard", str(p, "link"));
			for (unsigned l = 0; l < sizeof(link_legend) / sizeof(link_legend[0]); l++)
				seen |= !self && strcmp(str(p, "link"), link_legend[l][0]) == 0 ? 1u << l : 0u;
			printf(k + 1 < np ? " %-26s" : " %s", cell);
		}
		printf("\n");
	}
	for (unsigned l = 0; l < sizeof(link_legend) / sizeof(link_legend[0]); l++)
		if (seen & (1u << l))
			printf("%s: %s\n", link_legend[l][0], link_legend[l][1]);
}

static void print_quorum(const json_t *r)
{
	const json_t *q = json_object_get(r, "quorum");
	char m[512];
	ids(json_object_get(r, "members"), m, sizeof(m));
	printf("node %llu: %s; ring %llu:%llu members %s\n", (unsigned long long)u(r, "node"),
	       json_is_true(json_object_get(q, "primary")) ? "primary" : "NOT primary",
	       (unsigned long long)u(json_object_get(r, "ring"), "rep"),
	       (unsigned long long)u(json_object_get(r, "ring"), "seq"), m);
	printf("policy %s: %llu of %llu configured nodes here", str(q, "policy"), (unsigned long long)u(q, "members"),
	       (unsigned long long)u(q, "configured"));
	if (json_is_integer(json_object_get(q, "needed")))
		printf(", %llu needed", (unsigned long long)u(q, "needed"));
	printf("\npublishing without quorum: %s\n",
	       json_is_true(json_object_get(q, "publish_refused_without")) ? "refused" : "allowed (quorum_publish = no)");
}

/* A counter's unit, from its name (docs/ordod.md's counter table): the
 * rest count frames, messages or events. */
static const char *unit_of(const char *name)
{
	size_t n = strlen(name);
	if (strstr(name, "bytes") != NULL)
		return " bytes";
	if (strstr(name, "lateness") != NULL || (n > 3 && strcmp(name + n - 3, "_ns") == 0) ||
	    (n > 5 && strcmp(name + n - 5, "_time") == 0))
		return " ns";
	return "";
}

static void print_dict(const char *indent, const json_t *d)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)d, k, v)
		if (json_is_integer(v))
			printf("%s%-28s %llu%s\n", indent, k, (unsigned long long)json_integer_value(v), unit_of(k));
}

static void print_stats(const json_t *r)
{
	printf("node %llu:\n", (unsigned long long)u(r, "node"));
	print_dict("  ", json_object_get(r, "counters"));
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(r, "paths"), i, p) {
		printf("path%llu:\n", (unsigned long long)u(p, "path"));
		json_t *c = json_deep_copy(p);
		json_object_del(c, "path");
		print_dict("  ", c);
		json_decref(c);
	}
}

static void print_drops(const json_t *r, int all)
{
	const char *k;
	json_t *v;
	printf("node %llu: %llu harmful, %llu harmless\n", (unsigned long long)u(r, "node"),
	       (unsigned long long)u(r, "harmful_total"), (unsigned long long)u(r, "harmless_total"));
	for (int h = 0; h < 2; h++) {
		printf("%s:\n", h ? "harmless (the protocol's normal work)" : "harmful (a bug, a misconfiguration, an attack)");
		int any = 0;
		json_object_foreach(json_object_get(r, h ? "harmless" : "harmful"), k, v)
			if (all || json_integer_value(v) != 0) {
				printf("  %-28s %llu\n", k, (unsigned long long)json_integer_value(v));
				any = 1;
			}
		if (!any)
			printf("  none\n");
	}
}

/* ---- verbs ---- */

static int show(const char *verb, const json_t *r)
{
	if (json_out) {
		char *s = json_dumps(r, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		printf("%s\n", s != NULL ? s : "{}");
		free(s);
	}
	if (json_object_get(r, "error") != NULL) {
		if (!json_out)
			fprintf(stderr, "ordoctl: %s: %s\n", verb, str(r, "error"));
		return EX_FAILED;
	}
	if (!json_out) {
		if (strcmp(verb, "status") == 0)
			print_status(r);
		else if (strcmp(verb, "members") == 0)
			print_members(r);
		else if (strcmp(verb, "quorum") == 0)
			print_quorum(r);
		else if (strcmp(verb, "stats") == 0)
			print_stats(r);
		else if (strcmp(verb, "drops") == 0)
			print_drops(r, 0);
		else if (strcmp(verb, "reload") == 0) {
			char a[1024] = "", n[1024] = "";
			size_t i, la = 0, ln = 0;
			json_t *v;
			json_array_foreach(json_object_get(r, "applied"), i, v)
				la += (size_t)snprintf(a + la, la < sizeof(a) ? sizeof(a) - la : 0, " %s", json_string_value(v));
			json_array_foreach(json_object_get(r, "restart_needed"), i, v)
				ln += (size_t)snprintf(n + ln, ln < sizeof(n) ? sizeof(n) - ln : 0, " %s", json_string_value(v));
			printf("node %llu: reloaded %s\n  applied:%s\n  need a restart:%s\n", (unsigned long long)u(r, "node"),
			       str(r, "file"), la ? a : " none", ln ? n : " none");
		} else if (json_object_get(r, "result") != NULL)
			printf("node %llu: %s: %s\n", (unsigned long long)u(r, "node"), str(r, "action"), str(r, "result"));
		else
			printf("node %llu: %s requested\n", (unsigned long long)u(r, "node"), str(r, "action"));
	}
	int viewing = strcmp(verb, "status") == 0 || strcmp(verb, "quorum") == 0 || strcmp(verb, "members") == 0;
	return viewing && !is_primary(r) ? EX_NOT_PRIMARY : EX_FINE;
}

/* status of a node out of a primary ring: the harmful drops it counts
 * say why peers are missing (a peer refused for its ring parameters or
 * protocol versions, another key, a duplicate id), in one line. */
static void why_not_primary(const char *sock)
{
	char why[512], line[768] = "";
	size_t n = 0;
	const char *k;
	json_t *v, *d = ask(sock, "drops", why, sizeof(why));
	json_object_foreach(json_object_get(d, "harmful"), k, v)
		if (json_integer_value(v) != 0 && n < sizeof(line))
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s %lld", n ? ", " : "", k,
					      (long long)json_integer_value(v));
	if (n != 0)
		printf("harmful drops: %s (the node's log names the peers and why; docs/ordod.md, \"Drops\")\n", line);
	json_decref(d);
}

static int one(const char *sock, const char *verb, const char *request)
{
	char why[512];
	json_t *r = ask(sock, request, why, sizeof(why));
	if (r == NULL) {
		if (json_out)
			printf("{\"error\": \"unreachable\", \"why\": \"%s\"}\n", why);
		fprintf(stderr, "ordoctl: %s\n", why);
		return EX_UNREACHABLE;
	}
	int rc = show(verb, r);
	if (rc == EX_NOT_PRIMARY && !json_out && strcmp(verb, "status") == 0)
		why_not_primary(sock);
	json_decref(r);
	return rc;
}

/* The configured nodes status --all did not list: on other hosts, not
 * started yet, or their sockets not given. */
static void all_missing(uint64_t missing)
{
	char ids_text[256] = "";
	size_t l = 0;
	for (unsigned id = 1; id <= 64 && l < sizeof(ids_text); id++)
		if (missing & (1ull << (id - 1u)))
			l += (size_t)snprintf(ids_text + l, sizeof(ids_text) - l, "%s%u", l ? "," : "", id);
	if (missing != 0)
		printf("configured but not listed: %s (no socket for them here: on another host, not started yet, or "
		       "their sockets not given)\n", ids_text);
}

/* One node's line of status --all (text only); view: its ring id and
 * members, which the nodes' must agree on. */
static void all_row(const json_t *r, char *view, size_t view_size)
{
	char m[512], pl[512], ring[40];
	ids(json_object_get(r, "members"), m, sizeof(m));
	paths_line(r, pl, sizeof(pl));
	snprintf(ring, sizeof(ring), "%llu:%llu", (unsigned long long)u(json_object_get(r, "ring"), "rep"),
		 (unsigned long long)u(json_object_get(r, "ring"), "seq"));
	const json_t *q = json_object_get(r, "quorum");
	char quorum[32];
	snprintf(quorum, sizeof(quorum), "%llu/%llu", (unsigned long long)u(q, "members"),
		 (unsigned long long)u(q, "configured"));
	if (!json_out)
		printf("%-5llu %-12s %-10s %-16s %-8s %-6llu %-6s %s\n", (unsigned long long)u(r, "node"), str(r, "state"),
		       ring, m, json_is_true(json_object_get(r, "primary")) ? "yes" : "NO",
		       (unsigned long long)u(r, "proto_version"), quorum, pl);
	snprintf(view, view_size, "%s %s", ring, m);
}

/* status --all: every node's view, one line each, and whether they agree. */
static int all(int n, char **socks)
{
	json_t *out = json_object(), *nodes = json_object();
	int unreachable = 0, not_primary = 0;
	char first[1024] = "", view[1024], waiting[512] = "";
	int differ = 0;
	uint64_t seen = 0, configured = 0; /* node ids: bit id - 1 */
	if (!json_out)
		printf("%-5s %-12s %-10s %-16s %-8s %-6s %-6s %s\n", "node", "state", "ring", "members", "primary",
		       "proto", "quorum", "paths (state, no link to)");
	for (int i = 0; i < n; i++) {
		char why[512];
		json_t *r = ask(socks[i], "status", why, sizeof(why));
		if (r == NULL || json_object_get(r, "error") != NULL) {
			unreachable = 1;
			if (!json_out)
				printf("%-5s unreachable: %s: %s\n", "?", socks[i], r != NULL ? str(r, "error") : why);
			json_object_set_new(nodes, socks[i],
					    r != NULL ? r : json_pack("{s:s, s:s}", "error", "unreachable", "why", why));
			continue;
		}
		all_row(r, view, sizeof(view));
		if (!is_primary(r)) {
			size_t l = strlen(waiting);
			snprintf(waiting + l, sizeof(waiting) - l, "%s%llu (%s)", not_primary ? ", " : "",
				 (unsigned long long)u(r, "node"), str(r, "state"));
			not_primary = 1;
		}
		seen |= 1ull << ((u(r, "node") - 1u) & 63u);
		size_t ci;
		json_t *cv;
		json_array_foreach(json_object_get(r, "configured"), ci, cv)
			configured |= 1ull << (((uint64_t)json_integer_value(cv) - 1u) & 63u);
		if (first[0] == '\0')
			snprintf(first, sizeof(first), "%s", view);
		else if (strcmp(first, view) != 0)
			differ = 1;
		json_object_set_new(nodes, socks[i], r);
	}
	int rc = unreachable ? EX_UNREACHABLE : not_primary ? EX_NOT_PRIMARY : differ ? EX_DIFFER : EX_FINE;
	if (json_out) {
		json_object_set_new(out, "nodes", nodes);
		json_object_set_new(out, "agree", json_boolean(!differ && !unreachable));
		json_object_set_new(out, "exit", json_integer(rc));
		char *s = json_dumps(out, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
		printf("%s\n", s != NULL ? s : "{}");
		free(s);
	} else {
		json_decref(nodes);
		printf("%s\n", unreachable ? "some nodes did not answer"
			       : differ    ? "the nodes' views DIFFER"
			       : not_primary ? "the same view, but not a primary ring"
					   : "every node sees the same ring");
		if (not_primary)
			printf("not operational in a primary ring: %s\n", waiting);
		all_missing(configured & ~seen);
	}
	json_decref(out);
	return rc;
}

static void on_int(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int watch(const char *sock, int argc, char **argv)
{
	const char *verb = "status";
	double interval = 1.0;
	long count = -1;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "-i") == 0 && i + 1 < argc)
			interval = atof(argv[++i]);
		else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			count = atol(argv[++i]);
		else if (argv[i][0] != '-')
			verb = argv[i];
		else
			return EX_USAGE_;
	}
	if (interval < 0.05 || !(strcmp(verb, "status") == 0 || strcmp(verb, "members") == 0 ||
				 strcmp(verb, "quorum") == 0 || strcmp(verb, "stats") == 0 || strcmp(verb, "drops") == 0))
		return EX_USAGE_;
	signal(SIGINT, on_int);
	signal(SIGTERM, on_int);
	int tty = isatty(STDOUT_FILENO), rc = EX_FINE;
	for (long k = 0; (count < 0 || k < count) && !interrupted; k++) {
		if (tty && !json_out)
			printf("\033[H\033[2J");
		time_t t = time(NULL);
		char when[32];
		strftime(when, sizeof(when), "%H:%M:%S", localtime(&t));
		if (!json_out)
			printf("ordoctl watch %s: %s (every %.2g s, Ctrl-C ends)\n", verb, when, interval);
		rc = one(sock, verb, verb);
		fflush(stdout);
		if (count >= 0 && k + 1 >= count)
			break;
		struct timespec ts = {.tv_sec = (time_t)interval, .tv_nsec = (long)((interval - (double)(time_t)interval) * 1e9)};
		nanosleep(&ts, NULL);
	}
	return rc;
}

/* The control sockets of the nodes on this host: ordod's default place. */
#define ORDOCTL_SOCKETS "/run/ordo/*.sock"

/* status --all: the sockets given, or else every node's on this host. */
static int all_given_or_here(int n, char **socks)
{
	if (n > 0)
		return all(n, socks);
	glob_t g;
	if (glob(ORDOCTL_SOCKETS, 0, NULL, &g) != 0) {
		fprintf(stderr, "ordoctl: status --all: no sockets given and none in %s: name them "
			"(status --all SOCKET...)\n", ORDOCTL_SOCKETS);
		return EX_UNREACHABLE;
	}
	int rc = all((int)g.gl_pathc, g.gl_pathv);
	globfree(&g);
	return rc;
}

/* No node named: the one node of this host, if there is exactly one. */
static const char *the_node_here(char *buf, size_t size)
{
	glob_t g;
	int rc = glob(ORDOCTL_SOCKETS, 0, NULL, &g);
	if (rc == 0 && g.gl_pathc == 1) {
		snprintf(buf, size, "%s", g.gl_pathv[0]);
		globfree(&g);
		return buf;
	}
	if (rc == 0) {
		fprintf(stderr, "ordoctl: which node? %zu run here (%s): -s SOCKET, -n ID, -c FILE or ORDO_SOCKET\n",
			g.gl_pathc, ORDOCTL_SOCKETS);
		globfree(&g);
	} else {
		fprintf(stderr, "ordoctl: which node? none runs here (no %s): -s SOCKET, -n ID, -c FILE or ORDO_SOCKET\n",
			ORDOCTL_SOCKETS);
	}
	return NULL;
}

/* What a command line's mistake is, then the usage; exit 64. */
static int usage_error(const char *fmt, const char *arg)
{
	fputs("ordoctl: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	usage(stderr);
	return EX_USAGE_;
}

/* The options before the verb (and --json anywhere: it is taken out of
 * argv). Returns the verb's index, or -(exit status) to stop. */
static int parse_opts(int *argc, char **argv, const char **sock, char *sockbuf, size_t size)
{
	static struct eng_config cfg;
	for (int k = 1, m = 1; k <= *argc; k++) /* --json after the verb too: "ordoctl status --json" */
		if (k == *argc)
			*argc = m;
		else if (strcmp(argv[k], "--json") == 0)
			json_out = 1;
		else
			argv[m++] = argv[k];
	int i = 1;
	for (; i < *argc && argv[i][0] == '-'; i++) {
		const char *opt = argv[i];
		if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
			usage(stdout);
			return -EX_FINE;
		}
		if (strcmp(opt, "-s") != 0 && strcmp(opt, "-n") != 0 && strcmp(opt, "-c") != 0 && strcmp(opt, "-t") != 0)
			return -usage_error("unknown option '%s'", opt);
		if (i + 1 == *argc)
			return -usage_error("%s needs a value after it", opt);
		const char *v = argv[++i];
		char *end;
		long x = strtol(v, &end, 10);
		if ((opt[1] == 'n' || opt[1] == 't') && (end == v || *end != '\0' || x < 1 || x > 600000))
			return -usage_error(opt[1] == 'n' ? "-n takes a node id, not '%s'" : "-t takes milliseconds, not '%s'", v);
		if (opt[1] == 's') {
			*sock = v;
		} else if (opt[1] == 'n') {
			snprintf(sockbuf, size, "/run/ordo/ordo-n%ld.sock", x);
			*sock = sockbuf;
		} else if (opt[1] == 't') {
			timeout_ms = (int)x;
		} else {
			char err[1024];
			if (eng_config_load(v, &cfg, err, sizeof(err)) != 0) {
				fprintf(stderr, "ordoctl: config: %s\n", err);
				return -EX_USAGE_;
			}
			if (cfg.socket_path[0] == '\0') {
				fprintf(stderr, "ordoctl: %s: the node has no control socket ([node] socket is empty)\n", v);
				return -EX_USAGE_;
			}
			snprintf(sockbuf, size, "%s", cfg.socket_path);
			*sock = sockbuf;
		}
	}
	if (i == *argc)
		return -usage_error("%s", "no verb: say what to ask the node (status, members, ...)");
	return i;
}

static const char *const simple[] = {"status", "members", "quorum", "stats", "drops", "leave", "shutdown", "reload"};

/* Whether verb is one of ordoctl's (with nargs arguments after it). */
static int known_verb(const char *verb, int nargs)
{
	for (size_t k = 0; k < sizeof(simple) / sizeof(simple[0]); k++)
		if (strcmp(verb, simple[k]) == 0)
			return 1;
	return strcmp(verb, "watch") == 0 || (nargs == 1 && (strcmp(verb, "reinstate") == 0 || strcmp(verb, "key") == 0));
}

int main(int argc, char **argv)
{
	const char *sock = getenv("ORDO_SOCKET");
	static char sockbuf[PATH_MAX];
	int i = parse_opts(&argc, argv, &sock, sockbuf, sizeof(sockbuf));
	if (i <= 0)
		return -i;
	const char *verb = argv[i++];
	if (strcmp(verb, "status") == 0 && i < argc && strcmp(argv[i], "--all") == 0)
		return all_given_or_here(argc - i - 1, argv + i + 1);
	if (!known_verb(verb, argc - i))
		return usage_error(strcmp(verb, "reinstate") == 0 || strcmp(verb, "key") == 0
				       ? "%s: one argument: reinstate PATH, key reload"
				       : "unknown verb '%s' (status shows the paths, stats the counters)", verb);
	if (sock == NULL && (sock = the_node_here(sockbuf, sizeof(sockbuf))) == NULL)
		return EX_USAGE_;
	if (strcmp(verb, "watch") == 0) {
		int rc = watch(sock, argc - i, argv + i);
		if (rc == EX_USAGE_)
			fprintf(stderr, "ordoctl: watch [status|members|quorum|stats|drops] [-i SECONDS >= 0.05] [-n COUNT]\n");
		return rc;
	}
	char request[ATT_ADMIN_REQUEST_MAX];
	for (size_t k = 0; k < sizeof(simple) / sizeof(simple[0]); k++)
		if (strcmp(verb, simple[k]) == 0) {
			if (i != argc) {
				fprintf(stderr, "ordoctl: %s takes no arguments\n", verb);
				return EX_USAGE_;
			}
			return one(sock, verb, verb);
		}
	snprintf(request, sizeof(request), "%s %s", verb, argv[i]);
	return one(sock, verb, request);
}
