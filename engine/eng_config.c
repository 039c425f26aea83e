/* eng_config.c — the node's configuration file (format in docs/ordod.md).
 *
 * Owns: the table of every configuration key (section, name, type, range,
 * default, help, and the field it fills), and everything derived from it:
 * reading the INI text, checking every section, key and value, filling
 * struct eng_config (with ring-proto's struct rp_config inside), printing
 * the configuration in use as INI (`ordod --check`) or JSON (`--check
 * --json`), the key reference of docs/ordod.md (`ordod --keys`), the
 * timeout profiles, and the EAL arguments.
 *
 * Never: accepts an unknown section or key, a duplicate, or a value with
 * trailing garbage (a typo must not silently keep a default); reports more
 * than one line per error; repeats a rule of rp_config_check (its verdict
 * is reported against the key that fills the field it names); uses DPDK or
 * anything beyond libc (it runs before the EAL, and its fuzzer is plain C).
 *
 * Adding a key: its field in struct eng_config (eng.h) and one line in
 * keys[] below (engine/README.md, "Adding a configuration key").
 *
 * Thread context: any thread; no global state but the constant tables.
 */
#include "eng.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "eng_crypto.h"
#include "eng_groups.h"
#include "pmdg_name.h"
#include "pmdg_net.h"
#include "rp_wire.h"

#define US 1000ull
#define MS 1000000ull
#define ENG_SECTION_MAX 16
#define ENG_ENTRY_MAX 64
#define ENG_LINE_MAX 8190 /* [pathN] addresses of 64 IPv6 nodes fit */
#define ENG_FILE_MAX (1u << 20)

enum key_type {
	KT_UINT,  /* a decimal integer in [min, max], stored times scale */
	KT_BOOL,  /* yes | no (and true/false, 1/0, on/off), stored as int 1/0 */
	KT_ENUM,  /* one of names[], stored as min + its index */
	KT_STR,   /* text, shorter than the field */
	KT_NODES, /* [ring] nodes: a list of node ids */
	KT_NODESET, /* [pathN] nodes: a list of node ids, stored as a u64 mask (bit id-1) */
};

/* The section a key lives in; [pathN] keys fill struct eng_path_conf. */
enum key_sec { SEC_NODE, SEC_EAL, SEC_RING, SEC_PATH, SEC_LOAD, SEC_COUNT };
static const char *const sec_names[SEC_COUNT] = {"node", "eal", "ring", "path", "load"};

#define KF_REQUIRED 1u /* no default: the file must set it */
#define KF_EMPTY 2u    /* "key =" is a value (the empty string), not "use the default" */

struct parse;
struct key;
/* base: the struct the key's field is in (struct eng_config, or the path's struct eng_path_conf) */
typedef void key_derive_fn(struct eng_config *c, const struct key *k, void *base);
typedef int key_check_fn(struct parse *ps, const struct key *k, const struct eng_config *c, void *base);

struct key {
	enum key_sec sec;
	const char *name;
	enum key_type type;
	const char *field; /* its C name, e.g. "rp.mtu": rp_config_check names fields */
	size_t off, size;  /* the field, in struct eng_config or struct eng_path_conf */
	uint64_t min, max; /* KT_UINT, in the file's unit */
	uint64_t scale;    /* the file's unit to the field's (us -> ns: 1000) */
	const char *unit;  /* the file's unit for the docs ("us", "ms", "") */
	const char *const *names; /* KT_ENUM */
	const char *def;   /* the default as written in a file; with derive: how it is derived;
			    * NULL: the field keeps its earlier value (ring-proto's default) */
	key_derive_fn *derive;
	key_check_fn *check; /* a rule of this key's own beyond its range */
	unsigned flags;
	const char *help;
};

/* ---- defaults derived from other keys ---- */

/* Timeout profiles (docs/ordod.md "Timeouts"), in microseconds. */
static const struct {
	const char *key;
	uint64_t shared_us, dedicated_us;
} profiles[] = {
	{"token_retransmit_us", 30000, 2000}, {"token_loss_us", 250000, 10000},
	{"token_hold_us", 10000, 0},          {"join_us", 30000, 2000},
	{"consensus_us", 300000, 12000},      {"merge_us", 100000, 10000},
	{"rrp_timeout_us", 20000, 1000},      {"rrp_probe_us", 100000, 10000},
};

static void store(void *p, size_t size, uint64_t v)
{
	switch (size) {
	case 1: *(uint8_t *)p = (uint8_t)v; break;
	case 2: *(uint16_t *)p = (uint16_t)v; break;
	case 4: *(uint32_t *)p = (uint32_t)v; break;
	default: *(uint64_t *)p = v; break;
	}
}

static uint64_t load(const void *p, size_t size)
{
	switch (size) {
	case 1: return *(const uint8_t *)p;
	case 2: return *(const uint16_t *)p;
	case 4: return *(const uint32_t *)p;
	default: return *(const uint64_t *)p;
	}
}

/* A default that is the field's zero: "every node" ([pathN] nodes), or
 * "none" where the key is required on some condition ([pathN] device). */
static void derive_nothing(struct eng_config *c, const struct key *k, void *base)
{
	(void)c;
	(void)k;
	(void)base;
}

static void derive_state_dir(struct eng_config *c, const struct key *k, void *base)
{
	(void)base;
	(void)k;
	snprintf(c->state_dir, sizeof(c->state_dir), "/var/lib/ordo/n%u", c->rp.node_id);
}

static void derive_file_prefix(struct eng_config *c, const struct key *k, void *base)
{
	(void)base;
	(void)k;
	snprintf(c->file_prefix, sizeof(c->file_prefix), "ordo-n%u", c->rp.node_id);
}

static void derive_socket(struct eng_config *c, const struct key *k, void *base)
{
	(void)base;
	if (c->file_prefix[0] == '\0') /* [eal] comes after [node] in the table */
		derive_file_prefix(c, k, base);
	snprintf(c->socket_path, sizeof(c->socket_path), "/run/ordo/%s.sock", c->file_prefix);
}

static void derive_profile(struct eng_config *c, const struct key *k, void *base)
{
	(void)base;
	(void)k;
	c->profile_dedicated = c->idle == ENG_IDLE_SPIN;
}

static void derive_timeout(struct eng_config *c, const struct key *k, void *base)
{
	(void)base;
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (strcmp(profiles[i].key, k->name) == 0)
			store((char *)c + k->off, k->size,
			      (c->profile_dedicated ? profiles[i].dedicated_us : profiles[i].shared_us) * k->scale);
}

/* The Accelerated Ring is on by default: the last 3/4 of a busy visit's
 * frames go after the token (docs/performance.md measured +40 % msgs/s at
 * MTU 1500 on this VM's topology; protocol.md §13). */
static void derive_accelerated(struct eng_config *c, const struct key *k, void *base)
{
	(void)base;
	(void)k;
	c->rp.accelerated_window = c->rp.max_messages * 3u / 4u;
}

/* A client's budget: what its node sends in one token visit, max_messages
 * frames of the MTU (563 KiB at 9000, 94 KiB at 1500). A longer queue waits
 * for later rotations without making any visit fuller; measured against
 * 1 MiB, 512 and 256 KiB at both MTUs in docs/performance.md §7. */
static void derive_budget(struct eng_config *c, const struct key *k, void *base)
{
	(void)base;
	uint64_t kib = ((uint64_t)c->rp.max_messages * c->mtu + 1023u) / 1024u;
	c->client_budget_kib = kib < k->max ? (uint32_t)kib : (uint32_t)k->max;
}

/* With a cluster key, ARP and ND (not authenticated) must not steer a
 * path's frames: a path learns nothing unless its file says so. */
static void derive_learning(struct eng_config *c, const struct key *k, void *base)
{
	(void)k;
	((struct eng_path_conf *)base)->net.learn = c->key_file[0] == '\0';
}

/* ---- rules of one key beyond its range ---- */

static int fail_key(struct parse *ps, const struct key *k, const void *base, const char *fmt, ...);

static int check_path_nodes(struct parse *ps, const struct key *k, const struct eng_config *c, void *base)
{
	const struct eng_path_conf *pc = base;
	uint64_t all = 0;
	for (uint32_t i = 0; i < c->rp.member_count; i++)
		all |= 1ull << (c->rp.members[i] - 1u);
	for (uint16_t id = 1; id <= RP_NODES_MAX; id++)
		if ((pc->nodes & ~all) & (1ull << (id - 1u)))
			return fail_key(ps, k, base, "node %u is not one of [ring] nodes", id);
	return 0;
}

static int check_node_id(struct parse *ps, const struct key *k, const struct eng_config *c, void *base)
{
	char ids[RP_NODES_MAX * 4] = "";
	size_t n = 0;
	for (uint32_t i = 0; i < c->rp.member_count; i++) {
		if (c->rp.members[i] == c->rp.node_id)
			return 0;
		n += (size_t)snprintf(ids + n, sizeof(ids) - n, "%s%u", i ? "," : "", c->rp.members[i]);
	}
	return fail_key(ps, k, base, "not one of [ring] nodes (%s): every node's file lists every node of the ring there", ids);
}

static int check_file_prefix(struct parse *ps, const struct key *k, const struct eng_config *c, void *base)
{
	if (strpbrk(c->file_prefix, "/ ") != NULL)
		return fail_key(ps, k, base, "must not contain '/' or spaces");
	return 0;
}

/* Whether this node is on the path's network ([pathN] nodes, docs/protocol.md §17). */
static bool node_on(const struct eng_config *c, const struct eng_path_conf *pc)
{
	return pc->nodes == 0 || (pc->nodes & (1ull << (c->rp.node_id - 1u))) != 0;
}

static int check_device(struct parse *ps, const struct key *k, const struct eng_config *c, void *base)
{
	const struct eng_path_conf *pc = base;
	char name[64], other[64];
	if (!node_on(c, pc)) {
		if (pc->device[0] != '\0')
			return fail_key(ps, k, base, "node %u is not on this network ([path%u] nodes): no device here",
					c->rp.node_id, (unsigned)(pc - c->path));
		return 0;
	}
	if (pc->device[0] == '\0')
		return fail_key(ps, k, base, "required on a network this node is on: %s", k->help);
	if (pmdg_device_name(pc->device, name, sizeof(name)) < 0)
		return fail_key(ps, k, base,
				"neither a vdev (net_<driver><n>,args...: net_af_packet0,iface=eth1) nor a PCI address "
				"(0000:03:00.0); an interface name alone is neither");
	for (const struct eng_path_conf *o = c->path; o < pc; o++)
		if (node_on(c, o) && pmdg_device_name(o->device, other, sizeof(other)) >= 0 && strcmp(name, other) == 0)
			return fail_key(ps, k, base, "the same port as path%u", (unsigned)(o - c->path));
	return 0;
}

/* protocol_min, protocol_max: versions this build implements, unless
 * protocol_test (min <= max is ring-proto's rule: rp_config_check). */
static int check_protocol(struct parse *ps, const struct key *k, const struct eng_config *c, void *base)
{
	uint8_t v = strcmp(k->name, "protocol_min") == 0 ? c->rp.proto_min : c->rp.proto_max;
	if (v > RP_PROTO_VERSION_IMPLEMENTED && !c->protocol_test)
		return fail_key(ps, k, base, "this build implements protocol versions 1..%u (a higher one only with [node] protocol_test = yes)",
				RP_PROTO_VERSION_IMPLEMENTED);
	return 0;
}

int eng_parse_listen(const char *spec, void *out)
{
	char host[64];
	const char *colon = strrchr(spec, ':');
	if (colon == NULL || colon == spec || (size_t)(colon - spec) >= sizeof(host))
		return -1;
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || errno != 0 || port == 0 || port > 65535)
		return -1;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	struct sockaddr_storage *ss = out;
	memset(ss, 0, sizeof(*ss));
	size_t hl = strlen(host);
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		host[hl - 1] = '\0';
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		return inet_pton(AF_INET6, host + 1, &a6->sin6_addr) == 1 ? 0 : -1;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &a4->sin_addr) == 1 ? 0 : -1;
}

static int check_listen(struct parse *ps, const struct key *k, const struct eng_config *c, void *base)
{
	struct sockaddr_storage ss;
	if (c->metrics_listen[0] != '\0' && eng_parse_listen(c->metrics_listen, &ss) != 0)
		return fail_key(ps, k, base, "not ADDRESS:PORT (an IPv4 address, or [IPv6]:PORT; port 1..65535)");
	return 0;
}

/* [eal] lcores is EAL's --lcores map: refused here, with its line, rather
 * than by EAL after start with its whole usage text. Only its alphabet and
 * shape: EAL judges the ids against the machine. */
static int check_lcores(struct parse *ps, const struct key *k, const struct eng_config *c, void *base)
{
	const char *v = c->lcores;
	if (v[0] == '\0')
		return 0;
	size_t n = strlen(v);
	if (strspn(v, "0123456789,-@()") != n || !(v[0] == '(' || (v[0] >= '0' && v[0] <= '9')) ||
	    !(v[n - 1] == ')' || (v[n - 1] >= '0' && v[n - 1] <= '9')))
		return fail_key(ps, k, base,
				"not an EAL --lcores map: lcore ids, '@' and CPU ids, in lists of digits, ',' and '-' "
				"grouped by '(' ')' (e.g. 0@2, 0@(0-1)); empty: lcore 0 on every CPU this process may use");
	return 0;
}

static int check_load_size(struct parse *ps, const struct key *k, const struct eng_config *c, void *base)
{
	if (c->load.size != 0 && c->load.size < ENG_LOAD_HDR_SIZE)
		return fail_key(ps, k, base, "0 (off) or at least %u (the load header)", ENG_LOAD_HDR_SIZE);
	if (c->load.size > c->max_message_size)
		return fail_key(ps, k, base, "larger than [ring] max_message_size (%u)", c->max_message_size);
	return 0;
}

/* The routed transports' keys of one path: the text of address, addresses,
 * gateway, multicast and neighbours parsed into pc->net, then pmd-glue's
 * rules over them (pmdg_net_check), each refusal against its key. */
static const struct key *path_key(const char *name);

static int check_net(struct parse *ps, const struct key *k, const struct eng_config *c, void *base)
{
	(void)k;
	struct eng_path_conf *pc = base;
	struct pmdg_net_conf *n = &pc->net;
	char why[200];
	n->udp_port = c->udp_port;
	memset(&n->self, 0, sizeof(n->self));
	memset(&n->gateway, 0, sizeof(n->gateway));
	memset(&n->group, 0, sizeof(n->group));
	memset(n->node, 0, sizeof(n->node));
	n->static_count = 0;
	if (pc->address[0] && pmdg_ip_parse(pc->address, &n->self, &n->prefix, why, sizeof(why)) != 0)
		return fail_key(ps, path_key("address"), base, "%s", why);
	if (pc->addresses[0] && pmdg_net_parse_addresses(pc->addresses, n, why, sizeof(why)) != 0)
		return fail_key(ps, path_key("addresses"), base, "%s", why);
	if (pc->gateway[0] && pmdg_ip_parse(pc->gateway, &n->gateway, NULL, why, sizeof(why)) != 0)
		return fail_key(ps, path_key("gateway"), base, "%s", why);
	if (pc->multicast[0] && pmdg_ip_parse(pc->multicast, &n->group, NULL, why, sizeof(why)) != 0)
		return fail_key(ps, path_key("multicast"), base, "%s", why);
	if (pc->neighbours[0] && pmdg_net_parse_neighbours(pc->neighbours, n, why, sizeof(why)) != 0)
		return fail_key(ps, path_key("neighbours"), base, "%s", why);
	const char *name = NULL;
	if (pmdg_net_check(n, c->rp.node_id, c->rp.members, c->rp.member_count, &name, why, sizeof(why)) != 0)
		return fail_key(ps, path_key(name), base, "%s%s", why,
				strcmp(name, "neighbour_learning") == 0 && c->key_file[0] != '\0'
					? " (learning is off by default with [ring] key_file: list the next hops in neighbours, or set neighbour_learning = yes)"
					: "");
	return 0;
}

/* [ring] key_file: the checks of a key file (eng_keyfile.c) are
 * configuration errors: a missing, short or exposed key is named here. */
static int check_key_file(struct parse *ps, const struct key *k, const struct eng_config *c, void *base)
{
	if (c->key_file[0] == '\0')
		return 0;
	uint8_t key[ENG_CRYPTO_KEY_MAX];
	char why[384];
	int n = eng_crypto_read_key(c->key_file, key, sizeof(key), why, sizeof(why));
	memset(key, 0, sizeof(key));
	return n < 0 ? fail_key(ps, k, base, "%s", why) : 0;
}

static int check_socket_mode(struct parse *ps, const struct key *k, const struct eng_config *c, void *base)
{
	if (eng_socket_mode(c->socket_mode) < 0)
		return fail_key(ps, k, base, "an octal mode 0..0777 (e.g. 0660)");
	return 0;
}

/* socket_user, socket_group (one name or id), allow_users, allow_groups
 * (a list): every name must resolve on this machine. */
static int check_ids(struct parse *ps, const struct key *k, const struct eng_config *c, void *base)
{
	(void)c;
	uint32_t ids[ENG_ALLOW_MAX];
	char why[160];
	int one = strncmp(k->name, "socket_", 7) == 0;
	int groups = strstr(k->name, "group") != NULL;
	int n = eng_resolve_ids((const char *)base + k->off, groups, ids, one ? 1u : ENG_ALLOW_MAX, why, sizeof(why));
	if (n < 0)
		return fail_key(ps, k, base, "%s", one && strstr(why, "more than") ? "one name or id" : why);
	return 0;
}

/* ---- the keys ---- */

static const char *const bools[] = {"no", "yes", "false", "true", "0", "1", "off", "on", NULL};
static const char *const idles[] = {"spin", "yield", "backoff", "block", "adaptive", NULL};
static const char *const levels[] = {"error", "warning", "notice", "info", "debug", NULL};
static const char *const log_targets[] = {"stderr", "syslog", "journal", NULL};
static const char *const rrp_modes[] = {"active", "passive", NULL};
static const char *const quorums[] = {"majority", "two_node", "last_man_standing", NULL};
static const char *const profile_names[] = {"shared", "dedicated", NULL};
static const char *const services[] = {"agreed", "safe", NULL};
static const char *const transports[] = {"l2", "udp4", "udp6", NULL};
static const char *const protects[] = {"encrypt", "auth", NULL};
static const char *const ciphers[] = {"aes256-gcm", "chacha20-poly1305", NULL};

#define FIELD(T, f) .field = #f, .off = offsetof(T, f), .size = sizeof(((T *)0)->f)
#define C(f) FIELD(struct eng_config, f)
#define P(f) FIELD(struct eng_path_conf, f)
#define HOUR_US (3600ull * 1000 * 1000)
/* One line per key: NAME(section, key, field, [range,] default, help). A
 * default is written as in a file; NULL keeps the field's earlier value
 * (ring-proto's default). Keys with a derived default, a rule of their own
 * or a flag are written out with designated initializers. */
#define UINT(s, n, f, lo, hi, d, h) {.sec = s, .name = n, .type = KT_UINT, f, .min = lo, .max = hi, .scale = 1, .unit = "", .def = d, .help = h}
#define USEC(s, n, f, lo, hi, d, h) {.sec = s, .name = n, .type = KT_UINT, f, .min = lo, .max = hi, .scale = US, .unit = "us", .def = d, .help = h}
#define MSEC(s, n, f, lo, hi, d, h) {.sec = s, .name = n, .type = KT_UINT, f, .min = lo, .max = hi, .scale = MS, .unit = "ms", .def = d, .help = h}
#define BOOL(s, n, f, d, h) {.sec = s, .name = n, .type = KT_BOOL, f, .scale = 1, .unit = "", .names = bools, .def = d, .help = h}
#define ENUM(s, n, f, nm, d, h) {.sec = s, .name = n, .type = KT_ENUM, f, .scale = 1, .unit = "", .names = nm, .def = d, .help = h}
#define STR(s, n, f, d, h) {.sec = s, .name = n, .type = KT_STR, f, .scale = 1, .unit = "", .def = d, .help = h}
/* a [ring] timeout whose default comes from the profile */
#define TIMEOUT(n, f, lo, hi, h) {.sec = SEC_RING, .name = n, .type = KT_UINT, f, .min = lo, .max = hi, .scale = US, .unit = "us", .def = "profile", .derive = derive_timeout, .help = h}

static const struct key keys[] = {
	{.sec = SEC_NODE, .name = "id", .type = KT_UINT, C(rp.node_id), .min = 1, .max = RP_NODES_MAX, .scale = 1, .unit = "", .check = check_node_id, .flags = KF_REQUIRED, .help = "this node's id, one of [ring] nodes"},
	{.sec = SEC_NODE, .name = "state_dir", .type = KT_STR, C(state_dir), .scale = 1, .unit = "", .def = "/var/lib/ordo/n<id>", .derive = derive_state_dir, .help = "incarnation, frame counter reservation and persisted ring state; one process's alone (locked while it runs)"},
	ENUM(SEC_NODE, "idle", C(idle), idles, "adaptive", "what the worker does when a poll round found no work (docs/ordod.md, Idle strategies)"),
	USEC(SEC_NODE, "backoff_yield_us", C(backoff_yield_ns), 0, 1000000, "1000", "idle = backoff (and adaptive on a device that cannot be waited on): yield while work came within this long ..."),
	USEC(SEC_NODE, "backoff_sleep_us", C(backoff_sleep_ns), 1, 100000, "100", "... then nanosleep this long at a time"),
	USEC(SEC_NODE, "adaptive_yield_us", C(adaptive_yield_ns), 0, 1000000, "50",
	     "idle = adaptive, on a busy ring with messages of its own to send: yield this long after the last work, then sleep in epoll (docs/ordod.md, Idle strategies)"),
	UINT(SEC_NODE, "wake_priority", C(wake_priority), 0, 99, "1",
	     "idle = block, adaptive: the worker sleeps as a real-time task (SCHED_FIFO) of this priority, so that a frame, a doorbell or a deadline runs it at once instead of after other work's time slice, and polls again at normal priority (docs/ordod.md, Idle strategies); 0: off. Needs CAP_SYS_NICE (without it: logged once, off)"),
	BOOL(SEC_NODE, "zero_copy", C(zero_copy), "yes",
	     "keep received frames in their mbufs until ring-proto frees them instead of copying each (docs/protocol.md §14); "
	     "a NIC wants [pathN] mbufs >= rx_ring + tx_ring + 256 + store_slots (ordod logs how many frames each path can keep)"),
	ENUM(SEC_NODE, "log_level", C(log_level), levels, "info", "the engine's log level (debug also shows DPDK's own messages below warning)"),
	ENUM(SEC_NODE, "log", C(log_target), log_targets, "stderr",
	     "where the log goes: stderr (time, node, severity on each line), syslog (facility daemon) or journal (systemd's, with the field ORDO_NODE)"),
	{.sec = SEC_NODE, .name = "metrics_listen", .type = KT_STR, C(metrics_listen), .scale = 1, .unit = "", .def = "", .check = check_listen,
	 .help = "ADDRESS:PORT where ordod serves GET /metrics for Prometheus (e.g. 127.0.0.1:9464, [::1]:9464); empty: off"},
	{.sec = SEC_NODE, .name = "socket", .type = KT_STR, C(socket_path), .scale = 1, .unit = "", .def = "/run/ordo/<file_prefix>.sock", .derive = derive_socket, .flags = KF_EMPTY, .help = "the control socket clients attach through (docs/attach.md); empty: none"},
	{.sec = SEC_NODE, .name = "socket_mode", .type = KT_STR, C(socket_mode), .scale = 1, .unit = "", .def = "0660", .check = check_socket_mode, .help = "the control socket's permission bits, octal (docs/security.md §7)"},
	{.sec = SEC_NODE, .name = "socket_user", .type = KT_STR, C(socket_user), .scale = 1, .unit = "", .check = check_ids, .help = "the control socket's owner, a user name or uid; empty: the daemon's"},
	{.sec = SEC_NODE, .name = "socket_group", .type = KT_STR, C(socket_group), .scale = 1, .unit = "", .check = check_ids, .help = "the control socket's group, a group name or gid; empty: the daemon's"},
	{.sec = SEC_NODE, .name = "allow_users", .type = KT_STR, C(allow_users), .scale = 1, .unit = "", .check = check_ids, .help = "users (names or uids, comma separated) whose processes may attach, besides root and the daemon's user; empty, with allow_groups empty: whoever socket_mode lets connect"},
	{.sec = SEC_NODE, .name = "allow_groups", .type = KT_STR, C(allow_groups), .scale = 1, .unit = "", .check = check_ids, .help = "groups (names or gids, comma separated; primary or supplementary) whose processes may attach"},
	{.sec = SEC_NODE, .name = "client_evict_ms", .type = KT_UINT, C(client_evict_ms), .min = 10, .max = 3600000,
	 .scale = 1, .unit = "ms", .def = "2000", .help = "a client that does not drain its deliveries this long is evicted"},
	{.sec = SEC_NODE, .name = "client_budget_kib", .type = KT_UINT, C(client_budget_kib), .min = 0, .max = 65536, .scale = 1, .unit = "KiB", .def = "[ring] max_messages frames of [ring] mtu (one token visit: 563 KiB at 9000)", .derive = derive_budget,
	 .help = "a client publishes at most this much ahead of the ring (bytes in its submit ring, not yet sent) before publish says ORDO_EAGAIN; bounds a flooding client's queueing delay (docs/attach.md §6, docs/performance.md §7); 0: its whole submit ring"},
	UINT(SEC_NODE, "max_clients", C(max_clients), 1, ENG_CLIENTS_LIMIT, "256",
	     "clients attached at once (docs/attach.md); one more is refused with ORDO_ECLIENTS. Each holds 3 file descriptors in ordod: "
	     "above 256, raise ordod's open-file limit (LimitNOFILE) to 3 x max_clients + 256"),
	{.sec = SEC_NODE, .name = "assembly_timeout_ms", .type = KT_UINT, C(assembly_timeout_ms), .min = 10, .max = 3600000,
	 .scale = 1, .unit = "ms", .def = "10000",
	 .help = "a message in pieces none of which came this long while its client's submit ring was empty is dropped, and its client told (docs/attach.md §8)"},
	UINT(SEC_NODE, "assembly_buffers", C(assembly_buffers), 1, 1024, "4",
	     "client messages larger than a submit-ring record assembled at once, in buffers of max_message_size taken at start "
	     "(reserved; pages come as used); a message waits in its client's ring for a free one"),
	UINT(SEC_NODE, "max_groups", C(max_groups), 1, EG_GROUPS_LIMIT, "1024",
	     "groups with members at once, all nodes alike: a JOIN of one more is refused at every node (ORDO_EGROUPS; docs/attach.md §5, §8)"),
	UINT(SEC_NODE, "max_group_members", C(max_group_members), 1, EG_MEMBERS_LIMIT, "256",
	     "members of one group, all nodes alike: a JOIN past it is refused at every node (ORDO_EMEMBERS). "
	     "The table takes 16 x max_groups x max_group_members bytes"),
	{.sec = SEC_NODE, .name = "protocol_min", .type = KT_UINT, C(rp.proto_min), .min = 1, .max = 255, .scale = 1, .unit = "",
	 .check = check_protocol,
	 .help = "the lowest protocol version this node speaks; the ring runs the highest version every member speaks (docs/protocol.md §11; "
		 "a rolling upgrade: docs/deployment.md)"},
	{.sec = SEC_NODE, .name = "protocol_max", .type = KT_UINT, C(rp.proto_max), .min = 1, .max = 255, .scale = 1, .unit = "",
	 .check = check_protocol, .help = "the highest protocol version this node speaks: the highest this build implements unless lowered"},
	BOOL(SEC_NODE, "protocol_test", C(protocol_test), "no",
	     "let protocol_min and protocol_max name versions this build does not implement (which it runs as its own): "
	     "for testing version negotiation and rolling upgrades only"),

	{.sec = SEC_EAL, .name = "lcores", .type = KT_STR, C(lcores), .scale = 1, .unit = "", .check = check_lcores,
	 .help = "EAL --lcores (the worker is the main lcore); empty: lcore 0 floating over every CPU this process may use"},
	{.sec = SEC_EAL, .name = "file_prefix", .type = KT_STR, C(file_prefix), .scale = 1, .unit = "", .def = "ordo-n<id>", .derive = derive_file_prefix, .check = check_file_prefix, .help = "EAL runtime directory /var/run/dpdk/<file_prefix>/ (telemetry socket)"},
	UINT(SEC_EAL, "memory_mb", C(memory_mb), 16, 1u << 20, "256", "EAL -m: memory in MiB"),
	BOOL(SEC_EAL, "hugepages", C(hugepages), "no", "use hugepages (no: --no-huge)"),
	STR(SEC_EAL, "args", C(eal_args), NULL, "extra EAL arguments, space separated (expert)"),

	{.sec = SEC_RING, .name = "id", .type = KT_UINT, C(ring_id), .min = 1, .max = 255, .scale = 1, .unit = "", .flags = KF_REQUIRED, .help = "the ring's number: selects its multicast MAC 03:4f:52:00:00:<id>"},
	{.sec = SEC_RING, .name = "nodes", .type = KT_NODES, C(rp.members), .min = 1, .max = RP_NODES_MAX, .scale = 1, .unit = "", .flags = KF_REQUIRED, .help = "every configured node id, separated by commas"},
	ENUM(SEC_RING, "rrp_mode", C(rp.rrp_mode), rrp_modes, "active", "redundant ring: every frame on every path, or round robin"),
	ENUM(SEC_RING, "quorum", C(rp.quorum), quorums, "majority", "quorum policy (docs/protocol.md §10)"),
	BOOL(SEC_RING, "quorum_publish", C(rp.quorum_publish), "yes", "refuse publishing outside a primary configuration (no: a minority partition accepts and delivers publishes the majority never sees, a split brain)"),
	UINT(SEC_RING, "mtu", C(mtu), 576, 9216, "9000",
	     "Ethernet payload bytes per frame on every path, jumbo frames at most 9216 (a udp4 path's IP and UDP headers take 28 of them, udp6's 48)"),
	UINT(SEC_RING, "udp_port", C(udp_port), 1, 65535, "5405", "the UDP port of every udp4 and udp6 path (source and destination)"),
	UINT(SEC_RING, "max_message_size", C(max_message_size), 1, UINT32_MAX - ENG_ENVELOPE_MAX, "1048576",
	     "the largest message an application may publish"),
	UINT(SEC_RING, "window_size", C(rp.window_size), 1, 1u << 18, NULL, "frames per token rotation, all nodes"),
	UINT(SEC_RING, "max_messages", C(rp.max_messages), 1, 1u << 18, NULL, "frames one node may send per token visit"),
	{.sec = SEC_RING, .name = "accelerated_window", .type = KT_UINT, C(rp.accelerated_window), .min = 0, .max = 1u << 18, .scale = 1, .unit = "", .def = "3/4 of max_messages", .derive = derive_accelerated, .help = "Accelerated Ring: the last N frames of a visit go after the token (0: off; docs/protocol.md §13)"},
	UINT(SEC_RING, "store_slots", C(rp.store_slots), 16, 1u << 20, NULL, "frames kept for retransmission (a power of two)"),
	UINT(SEC_RING, "submit_queue", C(rp.submit_queue_max), 1, 1u << 20, NULL, "messages waiting per priority"),
	UINT(SEC_RING, "rtr_max", C(rp.rtr_max), 1, RP_WIRE_RTR_MAX, NULL, "retransmission requests a token carries"),
	{.sec = SEC_RING, .name = "profile", .type = KT_ENUM, C(profile_dedicated), .scale = 1, .unit = "", .names = profile_names, .def = "dedicated with idle = spin, else shared", .derive = derive_profile, .help = "the timeouts' defaults (docs/ordod.md, Timeouts)"},
	TIMEOUT("token_retransmit_us", C(rp.token_retransmit_ns), 1, HOUR_US, "resend the token if it is not seen again"),
	TIMEOUT("token_loss_us", C(rp.token_loss_ns), 1, HOUR_US, "no token this long: the ring is lost (gather)"),
	TIMEOUT("token_hold_us", C(rp.token_hold_ns), 0, 1000000, "hold a quiet ring's token this long (docs/protocol.md §12); 0: off"),
	TIMEOUT("join_us", C(rp.join_ns), 1, HOUR_US, "rebroadcast the Join this often while gathering"),
	TIMEOUT("consensus_us", C(rp.consensus_ns), 1, HOUR_US, "give up waiting for agreement on the member sets"),
	TIMEOUT("merge_us", C(rp.merge_ns), 1, HOUR_US, "the representative announces its ring this often"),
	UINT(SEC_RING, "fail_recv_const", C(rp.fail_recv_const), 1, 1u << 30, NULL, "visits with the aru stuck before its owner is failed"),
	TIMEOUT("rrp_timeout_us", C(rp.rrp_timeout_ns), 1, HOUR_US, "a copy missing this long while its sender is heard on another path: a problem"),
	UINT(SEC_RING, "rrp_threshold", C(rp.rrp_threshold), 1, 1u << 20, NULL, "problems that mark a path faulty"),
	USEC(SEC_RING, "rrp_decay_us", C(rp.rrp_decay_ns), 1, HOUR_US, NULL, "one problem of a working path is forgotten this often"),
	TIMEOUT("rrp_probe_us", C(rp.rrp_probe_ns), 1, HOUR_US, "probe paths out of use this often"),
	{.sec = SEC_RING, .name = "key_file", .type = KT_STR, C(key_file), .scale = 1, .unit = "", .check = check_key_file, .help = "the cluster key (ordo-keygen; the same file on every node, mode 0400): every frame authenticated and encrypted (docs/security.md); empty: NO frame security"},
	{.sec = SEC_RING, .name = "crypto", .type = KT_ENUM, C(protect), .min = ENG_PROTECT_ENCRYPT, .scale = 1, .unit = "", .names = protects, .def = "encrypt", .help = "with a key_file: encrypt and authenticate every frame's body, or only authenticate it (auth)"},
	{.sec = SEC_RING, .name = "cipher", .type = KT_ENUM, C(cipher), .min = ENG_CIPHER_AES256_GCM, .scale = 1, .unit = "", .names = ciphers, .def = "aes256-gcm", .help = "with a key_file: the AEAD (every node of a ring the same)"},

	{.sec = SEC_PATH, .name = "device", .type = KT_STR, P(device), .scale = 1, .unit = "", .def = "required on a network this node is on", .derive = derive_nothing, .check = check_device, .help = "a DPDK vdev string (the name before the first comma names the port) or a PCI address 0000:03:00.0"},
	UINT(SEC_PATH, "rx_ring", P(rx_desc), 32, 32768, "1024", "receive descriptors (af_packet ignores them)"),
	UINT(SEC_PATH, "tx_ring", P(tx_desc), 32, 32768, "1024", "transmit descriptors"),
	UINT(SEC_PATH, "mbufs", P(mbufs), 255, 1u << 22, "2047", "mempool size of this path (each mbuf holds the vdev's framesz)"),
	{.sec = SEC_PATH, .name = "transport", .type = KT_ENUM, P(net.transport), .scale = 1, .unit = "", .names = transports, .def = "l2", .check = check_net,
	 .help = "l2: ordo's EtherType on one segment; udp4, udp6: UDP over IP, routed (docs/ordod.md, Transports)"},
	STR(SEC_PATH, "address", P(address), NULL, "udp4, udp6: this node's address and prefix on the path, e.g. 10.80.1.1/24, fd00:1::1/64, fe80::1/64"),
	STR(SEC_PATH, "addresses", P(addresses), NULL, "udp4, udp6: every node's address on the path, <node id>@<address> separated by commas (this node's too)"),
	STR(SEC_PATH, "gateway", P(gateway), NULL, "udp4, udp6: the next hop to nodes outside this node's subnet; empty: every node is on the link"),
	STR(SEC_PATH, "multicast", P(multicast), NULL, "udp4, udp6: the ring's IP multicast group on the path; empty: a frame to all goes to each other node by unicast"),
	STR(SEC_PATH, "neighbours", P(neighbours), NULL, "udp4, udp6: static neighbour table, <address>@<MAC> separated by commas; an entry is never replaced by ARP / ND"),
	{.sec = SEC_PATH, .name = "neighbour_learning", .type = KT_BOOL, P(net.learn), .scale = 1, .unit = "", .names = bools,
	 .def = "no with [ring] key_file, else yes", .derive = derive_learning,
	 .help = "udp4, udp6: fill next hops' MACs from ARP / ND; no: static entries only (ARP and ND are not authenticated)"},
	{.sec = SEC_PATH, .name = "nodes", .type = KT_NODESET, P(nodes), .min = 1, .max = RP_NODES_MAX, .scale = 1, .unit = "", .def = "every [ring] node", .derive = derive_nothing, .check = check_path_nodes, .help = "the nodes on this network, separated by commas (docs/protocol.md §17: networks that reach only some nodes)"},

	{.sec = SEC_LOAD, .name = "size", .type = KT_UINT, C(load.size), .min = 0, .max = UINT32_MAX, .scale = 1, .unit = "", .def = "0", .check = check_load_size, .help = "the built-in load generator's message bytes; 0: off, else at least 24 (the load header)"},
	UINT(SEC_LOAD, "rate", C(load.rate), 0, 100000000ull, "0", "messages per second; 0: as fast as the ring takes them"),
	UINT(SEC_LOAD, "count", C(load.count), 0, UINT64_MAX, "0", "stop after this many; 0: no limit"),
	{.sec = SEC_LOAD, .name = "service", .type = KT_ENUM, C(load.service), .min = RP_SERVICE_AGREED, .scale = 1, .unit = "", .names = services, .def = "agreed", .help = "delivery service of the load messages"},
	UINT(SEC_LOAD, "priority", C(load.priority), 0, RP_PRIO_COUNT - 1, "1", "send priority, 0 the highest"),
	MSEC(SEC_LOAD, "start_delay_ms", C(load.start_delay_ns), 0, 3600000, "0",
	     "wait this long after the first regular configuration with all nodes"),
};
#define KEY_COUNT (sizeof(keys) / sizeof(keys[0]))

static const struct key *path_key(const char *name)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (keys[i].sec == SEC_PATH && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return &keys[0]; /* not reached: pmdg_net_check names path keys only */
}

static const struct key *ring_key(const char *name)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (keys[i].sec == SEC_RING && strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return &keys[0];
}

_Static_assert(sizeof(enum eng_idle) == sizeof(uint32_t) && sizeof(enum rp_rrp_mode) == sizeof(uint32_t) &&
		       sizeof(enum rp_quorum) == sizeof(uint32_t),
	       "enum fields are stored as 32-bit integers");
_Static_assert(RP_SERVICE_SAFE == RP_SERVICE_AGREED + 1, "[load] service: agreed, safe in order");
_Static_assert(ENG_PROTECT_AUTH == ENG_PROTECT_ENCRYPT + 1 && ENG_CIPHER_CHACHA20_POLY1305 == ENG_CIPHER_AES256_GCM + 1,
	       "[ring] crypto, cipher: in the order of their names");

/* ---- the INI text ---- */

struct ini_entry {
	char *key, *val;
	int line;
};
struct ini_section {
	char *name;
	int line;
	int count;
	struct ini_entry e[ENG_ENTRY_MAX];
};

struct parse {
	const char *file;
	const struct eng_config *c;
	char *err;
	size_t err_size;
	int failed;
	int section_count;
	struct ini_section s[ENG_SECTION_MAX];
};

static int failf(struct parse *ps, const char *fmt, ...)
{
	if (ps->failed)
		return -1;
	ps->failed = 1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ps->err, ps->err_size, fmt, ap);
	va_end(ap);
	return -1;
}

static char *trim(char *p, char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	return p;
}

/* A value in matching double or single quotes: the quotes are not part of it. */
static char *unquote(char *v)
{
	size_t n = strlen(v);
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
		v[n - 1] = '\0';
		return v + 1;
	}
	return v;
}

/* One line: blank, [section] or key = value; `;` and `#` start a comment
 * anywhere. Splits the text in place. */
static int ini_line(struct parse *ps, char *p, int n)
{
	p[strcspn(p, ";#\r")] = '\0';
	char *line = trim(p, p + strlen(p));
	size_t len = strlen(line);
	if (len == 0)
		return 0;
	if (line[0] == '[') {
		if (line[len - 1] != ']' || len < 3)
			return failf(ps, "%s: line %d: not '[section]' or 'key = value'", ps->file, n);
		if (ps->section_count == ENG_SECTION_MAX)
			return failf(ps, "[%s]: more than %d sections", trim(line + 1, line + len - 1), ENG_SECTION_MAX);
		struct ini_section *s = &ps->s[ps->section_count++];
		s->name = trim(line + 1, line + len - 1);
		s->line = n;
		s->count = 0;
		return 0;
	}
	char *eq = strchr(line, '=');
	if (eq == NULL || eq == line)
		return failf(ps, "%s: line %d: not '[section]' or 'key = value'", ps->file, n);
	if (ps->section_count == 0)
		return failf(ps, "%s: line %d: a key before any [section]", ps->file, n);
	struct ini_section *s = &ps->s[ps->section_count - 1];
	if (s->count == ENG_ENTRY_MAX)
		return failf(ps, "[%s]: too many keys", s->name);
	s->e[s->count].val = unquote(trim(eq + 1, line + len));
	s->e[s->count].key = trim(line, eq);
	s->e[s->count].line = n;
	s->count++;
	return 0;
}

static int ini_parse(struct parse *ps, char *text)
{
	int n = 0;
	for (char *p = text; *p != '\0';) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		n++;
		if (len > ENG_LINE_MAX)
			return failf(ps, "%s: line %d: longer than %d characters", ps->file, n, ENG_LINE_MAX);
		if (nl != NULL)
			*nl = '\0';
		if (ini_line(ps, p, n) != 0)
			return -1;
		p += len + (nl != NULL);
	}
	return 0;
}

/* ---- values ---- */

static void *key_base(const struct key *k, struct eng_config *c, unsigned path)
{
	return k->sec == SEC_PATH ? (void *)&c->path[path] : (void *)c;
}

static void section_name(const struct key *k, unsigned path, char *out, size_t size)
{
	if (k->sec == SEC_PATH)
		snprintf(out, size, "path%u", path);
	else
		snprintf(out, size, "%s", sec_names[k->sec]);
}

/* The value of k as a file would say it. */
static void format_value(const struct key *k, const void *base, char *out, size_t size)
{
	const char *p = (const char *)base + k->off;
	switch (k->type) {
	case KT_UINT:
		snprintf(out, size, "%llu", (unsigned long long)(load(p, k->size) / k->scale));
		break;
	case KT_BOOL:
		snprintf(out, size, "%s", load(p, k->size) ? "yes" : "no");
		break;
	case KT_ENUM: {
		uint64_t i = load(p, k->size) - k->min, n = 0;
		while (k->names[n] != NULL)
			n++;
		snprintf(out, size, "%s", i < n ? k->names[i] : "?");
		break;
	}
	case KT_STR:
		snprintf(out, size, "%s", p);
		break;
	case KT_NODES: {
		const struct rp_config *rp = (const struct rp_config *)((const char *)base + offsetof(struct eng_config, rp));
		size_t n = 0;
		out[0] = '\0';
		for (uint32_t i = 0; i < rp->member_count && n < size; i++)
			n += (size_t)snprintf(out + n, size - n, "%s%u", i ? "," : "", rp->members[i]);
		break;
	}
	case KT_NODESET: {
		uint64_t mask = load(p, sizeof(uint64_t));
		size_t n = 0;
		out[0] = '\0';
		for (uint16_t id = 1; id <= RP_NODES_MAX && n < size; id++)
			if (mask & (1ull << (id - 1u)))
				n += (size_t)snprintf(out + n, size - n, "%s%u", n ? "," : "", id);
		break;
	}
	}
}

static unsigned key_path(const struct key *k, const struct eng_config *c, const void *base)
{
	return k->sec == SEC_PATH ? (unsigned)((const struct eng_path_conf *)base - c->path) : 0;
}

static const struct ini_section *find_section(const struct parse *ps, const char *name);

/* Where the file sets key k of section sec: " (FILE: line N)", or "" when
 * the file does not set it (a default or a derived value is wrong). */
static void key_where(const struct parse *ps, const char *sec, const struct key *k, char *out, size_t size)
{
	const struct ini_section *s = find_section(ps, sec);
	out[0] = '\0';
	for (int i = 0; s != NULL && i < s->count; i++)
		if (strcmp(s->e[i].key, k->name) == 0)
			snprintf(out, size, " (%s: line %d)", ps->file, s->e[i].line);
}

/* The one line for a bad value: "<section>.<key> = '<value>': <why>
 * (<file>: line <n>)". */
static int fail_value(struct parse *ps, const struct key *k, unsigned path, const char *v, const char *fmt, va_list ap)
{
	if (ps->failed)
		return -1;
	char why[256], sec[16], where[288];
	vsnprintf(why, sizeof(why), fmt, ap);
	section_name(k, path, sec, sizeof(sec));
	key_where(ps, sec, k, where, sizeof(where));
	return failf(ps, "%s.%s = '%s': %s%s", sec, k->name, v, why, where);
}

static int fail_key(struct parse *ps, const struct key *k, const void *base, const char *fmt, ...)
{
	char val[ENG_ADDRESSES_MAX + 64];
	format_value(k, base, val, sizeof(val));
	va_list ap;
	va_start(ap, fmt);
	int rc = fail_value(ps, k, key_path(k, ps->c, base), val, fmt, ap);
	va_end(ap);
	return rc;
}

static int fail_text(struct parse *ps, const struct key *k, unsigned path, const char *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = fail_value(ps, k, path, v, fmt, ap);
	va_end(ap);
	return rc;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static int set_nodes(struct parse *ps, const struct key *k, struct rp_config *rp, unsigned path, void *field,
		     const char *v)
{
	uint16_t ids[RP_NODES_MAX];
	uint32_t n = 0;
	for (const char *p = v; *p != '\0';) {
		while (*p == ' ')
			p++;
		char *end;
		errno = 0;
		unsigned long x = strtoul(p, &end, 10);
		if (end == p || *p == '-' || errno != 0 || x < k->min || x > k->max)
			return fail_text(ps, k, path, v, "node ids are integers in 1..%u separated by commas", RP_NODES_MAX);
		if (n == RP_NODES_MAX)
			return fail_text(ps, k, path, v, "more than %u nodes", RP_NODES_MAX);
		ids[n++] = (uint16_t)x;
		for (p = end; *p == ' ';)
			p++;
		if (*p == ',')
			p++;
		else if (*p != '\0')
			return fail_text(ps, k, path, v, "node ids are integers separated by commas");
	}
	if (n == 0)
		return fail_text(ps, k, path, v, "no node ids");
	qsort(ids, n, sizeof(ids[0]), cmp_u16);
	for (uint32_t i = 1; i < n; i++)
		if (ids[i] == ids[i - 1])
			return fail_text(ps, k, path, v, "node %u is listed twice", ids[i]);
	if (k->type == KT_NODESET) {
		uint64_t mask = 0;
		for (uint32_t i = 0; i < n; i++)
			mask |= 1ull << (ids[i] - 1u);
		store(field, sizeof(uint64_t), mask);
		return 0;
	}
	memcpy(rp->members, ids, n * sizeof(ids[0]));
	rp->member_count = (uint16_t)n;
	return 0;
}

static int set_enum(struct parse *ps, const struct key *k, unsigned path, void *p, const char *v)
{
	char list[160] = "";
	for (int i = 0; k->names[i] != NULL; i++) {
		if (strcmp(v, k->names[i]) == 0) {
			store(p, k->size, k->type == KT_BOOL ? (uint64_t)(i & 1) : k->min + (uint64_t)i);
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? " | " : "", k->names[i]);
	}
	return fail_text(ps, k, path, v, "must be one of %s", list);
}

/* Parses text v (as written in a file) into k's field. */
static int set_value(struct parse *ps, const struct key *k, struct eng_config *c, unsigned path, const char *v)
{
	char *p = (char *)key_base(k, c, path) + k->off;
	switch (k->type) {
	case KT_UINT: {
		/* a duration is a bare number in the key's unit: say which (a
		 * corosync user writes token = 3000 in ms, "250ms" here) */
		const char *nan = strcmp(k->unit, "us") == 0   ? "not a whole number of microseconds, without a unit (250 ms: 250000)"
				  : strcmp(k->unit, "ms") == 0 ? "not a whole number of milliseconds, without a unit (2 s: 2000)"
							       : "not a non-negative integer";
		if (v[0] < '0' || v[0] > '9')
			return fail_text(ps, k, path, v, "%s", nan);
		errno = 0;
		char *end;
		unsigned long long x = strtoull(v, &end, 10);
		if (errno != 0 || *end != '\0')
			return fail_text(ps, k, path, v, "%s", nan);
		if (x < k->min || x > k->max)
			return fail_text(ps, k, path, v, "must be in %llu..%llu%s%s", (unsigned long long)k->min,
					 (unsigned long long)k->max, k->unit[0] ? " " : "", k->unit);
		store(p, k->size, x * k->scale);
		return 0;
	}
	case KT_BOOL:
	case KT_ENUM:
		return set_enum(ps, k, path, p, v);
	case KT_STR:
		if (strlen(v) >= k->size)
			return fail_text(ps, k, path, v, "longer than %zu characters", k->size - 1);
		memcpy(p, v, strlen(v) + 1);
		return 0;
	case KT_NODES:
	case KT_NODESET:
		return set_nodes(ps, k, &c->rp, path, p, v);
	}
	return -1;
}

/* ---- sections ---- */

static const struct ini_section *find_section(const struct parse *ps, const char *name)
{
	for (int i = 0; i < ps->section_count; i++)
		if (strcmp(ps->s[i].name, name) == 0)
			return &ps->s[i];
	return NULL;
}

static const char *find_value(const struct ini_section *s, const char *key)
{
	for (int i = 0; s != NULL && i < s->count; i++)
		if (strcmp(s->e[i].key, key) == 0)
			return s->e[i].val;
	return NULL;
}

/* The section kind of a name: node, eal, ring, path0..path3 (*path set),
 * load; SEC_COUNT if none. */
static enum key_sec section_kind(const char *name, unsigned *path)
{
	for (int i = 0; i < SEC_COUNT; i++)
		if (i != SEC_PATH && strcmp(name, sec_names[i]) == 0)
			return (enum key_sec)i;
	if (strncmp(name, "path", 4) == 0 && name[4] >= '0' && name[4] < '0' + (int)RP_PATHS_MAX && name[5] == '\0') {
		*path = (unsigned)(name[4] - '0');
		return SEC_PATH;
	}
	return SEC_COUNT;
}

/* Edits (insert, delete, substitute, swap two neighbours) from a to b, at
 * most limit + 1 counted: a typo's distance to the key meant. */
static unsigned typo_distance(const char *a, const char *b, unsigned limit)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 40 || lb > 40 || (la > lb ? la - lb : lb - la) > limit)
		return limit + 1;
	unsigned d[41][41];
	for (size_t i = 0; i <= la; i++)
		for (size_t j = 0; j <= lb; j++) {
			if (i == 0 || j == 0) {
				d[i][j] = (unsigned)(i + j);
				continue;
			}
			unsigned best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[la][lb];
}

/* What to do about an unknown key of a section: the key of that section it
 * is nearest to, if a typo away; else where the keys are listed. */
static const char *key_hint(enum key_sec kind, const char *name)
{
	static char hint[96];
	unsigned best = 3;
	const char *meant = NULL;
	for (size_t k = 0; k < KEY_COUNT; k++) {
		unsigned d = keys[k].sec == kind ? typo_distance(name, keys[k].name, 2) : 3;
		if (d < best) {
			best = d;
			meant = keys[k].name;
		}
	}
	if (meant != NULL)
		snprintf(hint, sizeof(hint), ": did you mean %s?", meant);
	else
		snprintf(hint, sizeof(hint), ": ordod --keys lists every key");
	return hint;
}

/* Every section and key must be known and appear once; paths are path0,
 * path1, ... without gaps. */
static int check_names(struct parse *ps, struct eng_config *c)
{
	unsigned paths = 0;
	for (int i = 0; i < ps->section_count; i++) {
		const struct ini_section *s = &ps->s[i];
		unsigned path = 0;
		enum key_sec kind = section_kind(s->name, &path);
		const struct ini_section *first = find_section(ps, s->name);
		if (first != s)
			return failf(ps, "[%s]: section appears twice (%s: lines %d and %d): one section holds all its keys",
				     s->name, ps->file, first->line, s->line);
		if (kind == SEC_COUNT)
			return failf(ps, "[%s]: unknown section (%s: line %d; node, eal, ring, path0..path%u, load)", s->name,
				     ps->file, s->line, RP_PATHS_MAX - 1);
		if (kind == SEC_PATH)
			paths |= 1u << path;
		for (int e = 0; e < s->count; e++) {
			int known = 0, elsewhere = SEC_COUNT;
			for (size_t k = 0; k < KEY_COUNT; k++)
				if (strcmp(keys[k].name, s->e[e].key) == 0) {
					known |= keys[k].sec == kind;
					/* one other section has it: name it; several: none */
					elsewhere = elsewhere == SEC_COUNT ? (int)keys[k].sec : -1;
				}
			if (!known && elsewhere >= 0 && elsewhere != SEC_COUNT) /* under the wrong section */
				return failf(ps, "%s.%s = '%s': not a key of [%s] (%s: line %d): it belongs in [%s%s]",
					     s->name, s->e[e].key, s->e[e].val, s->name, ps->file, s->e[e].line,
					     sec_names[elsewhere], elsewhere == SEC_PATH ? "N" : "");
			if (!known)
				return failf(ps, "%s.%s = '%s': unknown key (%s: line %d)%s", s->name, s->e[e].key, s->e[e].val,
					     ps->file, s->e[e].line, key_hint(kind, s->e[e].key));
			for (int f = 0; f < e; f++)
				if (strcmp(s->e[f].key, s->e[e].key) == 0)
					return failf(ps, "%s.%s = '%s': key appears twice in the section (%s: lines %d and %d)",
						     s->name, s->e[e].key, s->e[e].val, ps->file, s->e[f].line, s->e[e].line);
		}
	}
	if (paths == 0)
		return failf(ps, "[path0]: missing: at least one path section is required");
	c->rp.path_count = 0;
	while (paths & (1u << c->rp.path_count))
		c->rp.path_count++;
	unsigned after = c->rp.path_count;
	while (after < RP_PATHS_MAX && !(paths & (1u << after)))
		after++;
	if (after < RP_PATHS_MAX) {
		char name[8];
		snprintf(name, sizeof(name), "path%u", after);
		return failf(ps, "[path%u]: there is no [path%u] (%s: line %d): paths are numbered from path0 without gaps",
			     after, c->rp.path_count, ps->file, find_section(ps, name)->line);
	}
	return 0;
}

static unsigned instances(const struct key *k, const struct eng_config *c)
{
	return k->sec == SEC_PATH ? c->rp.path_count : 1u;
}

/* The text a key is set to in the file; NULL if absent or empty (unless an
 * empty value is a value for it). */
static const char *file_value(const struct parse *ps, const struct key *k, unsigned path)
{
	char sec[16];
	section_name(k, path, sec, sizeof(sec));
	const char *v = find_value(find_section(ps, sec), k->name);
	return v != NULL && (v[0] != '\0' || (k->flags & KF_EMPTY)) ? v : NULL;
}

/* Three passes in table order: the file's values and the plain defaults;
 * the derived defaults (they may read keys earlier in the table); the
 * rules of each key. */
static int fill(struct parse *ps, struct eng_config *c)
{
	for (size_t i = 0; i < KEY_COUNT; i++)
		for (unsigned p = 0; p < instances(&keys[i], c); p++) {
			const struct key *k = &keys[i];
			const char *v = file_value(ps, k, p);
			if (v == NULL && (k->flags & KF_REQUIRED))
				return fail_text(ps, k, p, "", "required, and %s does not set it (%s)", ps->file, k->help);
			if (v == NULL && k->derive == NULL)
				v = k->def;
			if (v != NULL && set_value(ps, k, c, p, v) != 0)
				return -1;
		}
	for (size_t i = 0; i < KEY_COUNT; i++)
		for (unsigned p = 0; p < instances(&keys[i], c); p++)
			if (keys[i].derive != NULL && file_value(ps, &keys[i], p) == NULL)
				keys[i].derive(c, &keys[i], key_base(&keys[i], c, p));
	for (size_t i = 0; i < KEY_COUNT; i++)
		for (unsigned p = 0; p < instances(&keys[i], c); p++)
			if (keys[i].check != NULL && keys[i].check(ps, &keys[i], c, key_base(&keys[i], c, p)) != 0)
				return -1;
	return 0;
}

static uint32_t device_framesz(const char *device)
{
	const char *p = strstr(device, "framesz=");
	return p == NULL ? 0 : (uint32_t)strtoul(p + 8, NULL, 10);
}

/* ring-proto's frames: the MTU less the largest transport's headers (a
 * path's IP and UDP headers) and, with a key_file, the security trailer
 * (docs/security.md §2). It must hold ring-proto's largest frames, or IP
 * would have to fragment: refused against [ring] mtu. */
static int set_frame_size(struct parse *ps, struct eng_config *c)
{
	uint32_t overhead = 0, worst = 0;
	for (uint8_t k = 0; k < c->rp.path_count; k++)
		if (pmdg_net_overhead(c->path[k].net.transport) > overhead) {
			overhead = pmdg_net_overhead(c->path[k].net.transport);
			worst = k;
		}
	uint32_t trailer = c->key_file[0] != '\0' ? ENG_CRYPTO_TRAILER_SIZE : 0u;
	c->rp.frame_size_max = c->mtu - overhead - trailer;
	size_t need = 512u; /* rp_config_check's floor */
	/* a partial topology's tokens name their requesters and travel relayed (docs/protocol.md §17.4) */
	bool partial = rp_topo_partial(&c->rp) != 0;
	size_t token = partial ? rp_wire_relay_size(rp_wire_token_size_from(c->rp.rtr_max)) : rp_wire_token_size(c->rp.rtr_max);
	size_t commit = partial ? rp_wire_relay_size(rp_wire_commit_size(c->rp.member_count)) : rp_wire_commit_size(c->rp.member_count);
	if (token > need)
		need = token;
	if (commit > need)
		need = commit;
	if (c->rp.frame_size_max >= need)
		return 0;
	char after[128] = "";
	if (overhead != 0 || trailer != 0)
		snprintf(after, sizeof(after), " after %s%s%s", overhead ? "the IP and UDP headers" : "",
			 overhead && trailer ? " and " : "", trailer ? "the 28-byte security trailer" : "");
	if (overhead != 0)
		snprintf(after + strlen(after), sizeof(after) - strlen(after), " (path%u, %s: %u bytes)", worst,
			 pmdg_transport_name(c->path[worst].net.transport), overhead);
	return fail_key(ps, ring_key("mtu"), c,
			"leaves %u bytes for ordo's frames%s; its largest frames need %zu (a token with rtr_max %u "
			"requests, a commit token of %u members): set mtu to %zu or more, or lower rtr_max",
			c->rp.frame_size_max, after, need, c->rp.rtr_max, c->rp.member_count,
			need + overhead + trailer);
}

/* The networks must join every configured node (docs/protocol.md §17.1):
 * a cut is named by its two sides. */
static int check_topology(struct parse *ps, const struct eng_config *c)
{
	uint64_t all = 0;
	for (uint32_t i = 0; i < c->rp.member_count; i++)
		all |= 1ull << (c->rp.members[i] - 1u);
	for (uint32_t i = 0; i < c->rp.member_count; i++)
		if (rp_topo_paths_of(&c->rp, c->rp.members[i]) == 0)
			return failf(ps, "[pathN] nodes: node %u is on no network", c->rp.members[i]);
	uint64_t side = rp_topo_cut(&c->rp);
	if (side == 0)
		return 0;
	char a[256] = "", b[256] = "";
	size_t la = 0, lb = 0;
	for (uint16_t id = 1; id <= RP_NODES_MAX; id++) {
		if (!(all & (1ull << (id - 1u))))
			continue;
		if (side & (1ull << (id - 1u)))
			la += (size_t)snprintf(a + la, sizeof(a) - la, "%s%u", la ? "," : "", id);
		else
			lb += (size_t)snprintf(b + lb, sizeof(b) - lb, "%s%u", lb ? "," : "", id);
	}
	/* each network's nodes, where the file sets them */
	char nets[256] = "";
	size_t ln = 0;
	for (uint8_t k = 0; k < c->rp.path_count && ln < sizeof(nets); k++) {
		char sec[16], where[128], val[128];
		snprintf(sec, sizeof(sec), "path%u", k);
		key_where(ps, sec, path_key("nodes"), where, sizeof(where));
		format_value(path_key("nodes"), &c->path[k], val, sizeof(val));
		ln += (size_t)snprintf(nets + ln, sizeof(nets) - ln, "%s[path%u] nodes %s%s", k ? ", " : "", k, val, where);
	}
	return failf(ps, "[pathN] nodes: nodes %s share no network with nodes %s: the ring could never form whole (%s); "
		     "list a node of each side on one network", a, b, nets);
}

/* ring-proto's sentence in the file's words: each field it names
 * ("token_retransmit_ns") becomes the key that fills it, and a key other
 * than the one reported (the sentence's first) carries its value:
 * "token_loss_us must be greater than token_retransmit_us (30000)". */
static void ring_why(const struct eng_config *c, const char *why, char *out, size_t size)
{
	size_t n = 0;
	int first = 1;
	out[0] = '\0';
	while (*why != '\0' && n + 1 < size) {
		size_t w = strspn(why, "abcdefghijklmnopqrstuvwxyz_");
		const struct key *k = NULL;
		char field[48];
		if (w > 0 && w + 4 < sizeof(field)) {
			snprintf(field, sizeof(field), "rp.%.*s", (int)w, why);
			for (size_t i = 0; i < KEY_COUNT && k == NULL; i++)
				if (keys[i].sec == SEC_RING || keys[i].sec == SEC_NODE)
					k = strcmp(keys[i].field, field) == 0 ? &keys[i] : NULL;
		}
		char val[64] = "";
		if (k == NULL)
			n += (size_t)snprintf(out + n, size - n, "%.*s", (int)(w ? w : 1), why);
		else if (first)
			n += (size_t)snprintf(out + n, size - n, "%s", k->name);
		else
			format_value(k, c, val, sizeof(val));
		if (k != NULL && !first)
			n += (size_t)snprintf(out + n, size - n, "%s (%s)", k->name, val);
		first = k != NULL ? 0 : first;
		why += w ? w : 1;
		if (k != NULL && strncmp(why, "[]", 2) == 0)
			why += 2;
		n = n < size ? n : size - 1;
	}
}

/* ring-proto's rules over the whole configuration; a failure is reported
 * against the key that fills the field its sentence starts with. */
static int check_ring(struct parse *ps, struct eng_config *c)
{
	/* listen before speaking (docs/protocol.md §8.8, Rule D): every live
	 * member sends within a token retransmit period, a gathering one
	 * within a Join period */
	c->rp.listen_ns = 2u * (c->rp.token_retransmit_ns > c->rp.join_ns ? c->rp.token_retransmit_ns : c->rp.join_ns);
	/* with a key, only the answer echoing this start's incarnation says
	 * the id runs: a replayed frame must not (docs/security.md §4.1) */
	c->rp.listen_fresh = c->key_file[0] != '\0';
	const char *why = NULL;
	if (rp_config_check(&c->rp, &why) == 0)
		return 0;
	char field[40] = "rp.";
	size_t n = strcspn(why, " [,");
	if (n < sizeof(field) - 4) {
		memcpy(field + 3, why, n);
		field[3 + n] = '\0';
	}
	char words[256];
	ring_why(c, why, words, sizeof(words));
	for (size_t i = 0; i < KEY_COUNT; i++)
		if (strcmp(keys[i].field, field) == 0)
			return fail_key(ps, &keys[i], c, "%s", words);
	if (strcmp(field, "rp.frame_size_max") == 0) /* the MTU less the transports' headers */
		return fail_key(ps, ring_key("mtu"), c, "%s", why);
	return failf(ps, "[ring]: %s", why);
}

int eng_config_parse(char *text, const char *name, struct eng_config *c, char *err, size_t err_size)
{
	memset(c, 0, sizeof(*c));
	rp_config_default(&c->rp, 1);
	struct parse *ps = calloc(1, sizeof(*ps));
	if (ps == NULL) {
		snprintf(err, err_size, "%s: out of memory", name);
		return -1;
	}
	*ps = (struct parse){.file = name, .c = c, .err = err, .err_size = err_size};
	int rc = ini_parse(ps, text);
	if (rc == 0)
		rc = check_names(ps, c);
	if (rc == 0)
		rc = fill(ps, c);
	if (rc == 0) {
		/* a client message travels in an envelope (its group name): the
		 * ring carries up to that much more, so the applications get the
		 * whole configured size (docs/attach.md §4) */
		c->rp.message_size_max = c->max_message_size + ENG_ENVELOPE_MAX;
		for (uint8_t k = 0; k < c->rp.path_count; k++) {
			c->path[k].framesz = device_framesz(c->path[k].device);
			if (c->path[k].nodes == 0) /* every node: printed as the list */
				for (uint32_t i = 0; i < c->rp.member_count; i++)
					c->path[k].nodes |= 1ull << (c->rp.members[i] - 1u);
			c->rp.path_nodes[k] = c->path[k].nodes;
		}
		rc = check_topology(ps, c);
		if (rc == 0)
			rc = set_frame_size(ps, c);
		if (rc == 0)
			rc = check_ring(ps, c);
	}
	free(ps);
	return rc;
}

int eng_config_load(const char *file, struct eng_config *c, char *err, size_t err_size)
{
	FILE *f = fopen(file, "r");
	if (f == NULL) {
		snprintf(err, err_size, "%s: %s", file, strerror(errno));
		return -1;
	}
	char *text = malloc(ENG_FILE_MAX + 1);
	size_t n = text ? fread(text, 1, ENG_FILE_MAX + 1, f) : 0;
	int bad = ferror(f) ? errno : 0; /* EISDIR: a directory opens, but does not read */
	fclose(f);
	int rc = -1;
	if (text == NULL)
		snprintf(err, err_size, "%s: out of memory", file);
	else if (bad)
		snprintf(err, err_size, "%s: cannot read it: %s", file, strerror(bad));
	else if (n > ENG_FILE_MAX)
		snprintf(err, err_size, "%s: larger than %u bytes", file, ENG_FILE_MAX);
	else if (memchr(text, '\0', n) != NULL)
		snprintf(err, err_size, "%s: not a text file (a NUL byte)", file);
	else {
		text[n] = '\0';
		rc = eng_config_parse(text, file, c, err, err_size);
	}
	free(text);
	if (rc == 0 && (strlen(file) >= sizeof(c->config_file) || realpath(file, c->config_file) == NULL))
		snprintf(c->config_file, sizeof(c->config_file), "%.*s", (int)sizeof(c->config_file) - 1, file);
	return rc;
}

/* ---- printing ---- */

size_t eng_json_string(char *out, size_t size, const char *s)
{
	size_t n = 0;
#define PUT(...) (n += (size_t)snprintf(out + n, n < size ? size - n : 0, __VA_ARGS__))
	PUT("\"");
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			PUT("\\%c", ch);
		else if (ch < 0x20)
			PUT("\\u%04x", ch);
		else
			PUT("%c", ch);
	}
	PUT("\"");
#undef PUT
	return n;
}

static void json_value(FILE *out, const struct key *k, const char *v)
{
	if (k->type == KT_UINT) {
		fputs(v, out);
	} else if (k->type == KT_BOOL) {
		fputs(v[0] == 'y' ? "true" : "false", out);
	} else if (k->type == KT_NODES || k->type == KT_NODESET) {
		fprintf(out, "[%s]", v);
	} else {
		char q[1100];
		eng_json_string(q, sizeof(q), v);
		fputs(q, out);
	}
}

/* Every section the configuration has, every key with its value in use:
 * as INI, or as one JSON object of sections. */
static void print_config(const struct eng_config *c, FILE *out, int json)
{
	fputs(json ? "{" : "", out);
	for (int s = 0; s < SEC_COUNT; s++)
		for (unsigned p = 0; p < (s == SEC_PATH ? c->rp.path_count : 1u); p++) {
			const char *sep = s == SEC_NODE ? "" : json ? ", " : "\n";
			if (s == SEC_PATH)
				fprintf(out, json ? "%s\"path%u\": {" : "%s[path%u]\n", sep, p);
			else
				fprintf(out, json ? "%s\"%s\": {" : "%s[%s]\n", sep, sec_names[s]);
			int first = 1;
			for (size_t i = 0; i < KEY_COUNT; i++) {
				const struct key *k = &keys[i];
				if ((int)k->sec != s)
					continue;
				char v[ENG_ADDRESSES_MAX + 64];
				format_value(k, key_base(k, (struct eng_config *)c, p), v, sizeof(v));
				if (json) {
					fprintf(out, "%s\"%s\": ", first ? "" : ", ", k->name);
					json_value(out, k, v);
				} else {
					fprintf(out, "%s =%s%s\n", k->name, v[0] ? " " : "", v);
				}
				first = 0;
			}
			fputs(json ? "}" : "", out);
		}
	fputs(json ? "}\n" : "", out);
}

void eng_config_print(const struct eng_config *c, FILE *out)
{
	print_config(c, out, 0);
}

void eng_config_print_json(const struct eng_config *c, FILE *out)
{
	print_config(c, out, 1);
}

/* Markdown table text: a '|' would end the cell, a '<' start HTML; in
 * code (backticks) only the '|' needs escaping. */
static void md(FILE *out, const char *s, int code)
{
	if (code)
		fputc('`', out);
	for (; *s != '\0'; s++)
		if (*s == '|')
			fputs("\\|", out);
		else if (*s == '<' && !code)
			fputs("&lt;", out);
		else
			fputc(*s, out);
	if (code)
		fputc('`', out);
}

/* The keys `ordoctl reload` applies to a running node (docs/ordoctl.md):
 * the node's own behaviour only. Every other key needs a restart; a
 * [ring] key must be equal at every node (docs/ordod.md). */
static const char *const live_keys[] = {"node.log_level", "node.client_evict_ms", "node.backoff_yield_us",
					"node.backoff_sleep_us", "load.rate"};

static int key_live(const struct key *k)
{
	char name[64];
	snprintf(name, sizeof(name), "%s.%s", k->sec == SEC_PATH ? "path" : sec_names[k->sec], k->name);
	for (size_t i = 0; i < sizeof(live_keys) / sizeof(live_keys[0]); i++)
		if (strcmp(name, live_keys[i]) == 0)
			return 1;
	return 0;
}

int eng_config_diff(const struct eng_config *a, const struct eng_config *b, eng_config_diff_fn *fn, void *arg)
{
	int n = 0;
	if (a->rp.path_count != b->rp.path_count) {
		fn(arg, "ring", "paths", 0);
		n++;
	}
	unsigned paths = a->rp.path_count < b->rp.path_count ? a->rp.path_count : b->rp.path_count;
	for (size_t i = 0; i < KEY_COUNT; i++) {
		const struct key *k = &keys[i];
		for (unsigned p = 0; p < (k->sec == SEC_PATH ? paths : 1u); p++) {
			char va[512], vb[512], sec[16];
			format_value(k, key_base(k, (struct eng_config *)a, p), va, sizeof(va));
			format_value(k, key_base(k, (struct eng_config *)b, p), vb, sizeof(vb));
			if (strcmp(va, vb) == 0)
				continue;
			section_name(k, p, sec, sizeof(sec));
			fn(arg, sec, k->name, key_live(k));
			n++;
		}
	}
	return n;
}

static void print_key_row(FILE *out, const struct key *k, const struct eng_config *base)
{
	static const char *const types[] = {[KT_UINT] = "integer", [KT_BOOL] = "bool", [KT_ENUM] = "one of",
					    [KT_STR] = "text", [KT_NODES] = "node ids", [KT_NODESET] = "node ids"};
	char range[160] = "", def[512];
	if (k->type == KT_UINT || k->type == KT_NODES || k->type == KT_NODESET)
		snprintf(range, sizeof(range), "%llu..%llu%s%s", (unsigned long long)k->min, (unsigned long long)k->max,
			 k->unit[0] ? " " : "", k->unit);
	else if (k->type == KT_BOOL)
		snprintf(range, sizeof(range), "yes | no");
	else if (k->type == KT_ENUM)
		for (int i = 0; k->names[i] != NULL; i++)
			snprintf(range + strlen(range), sizeof(range) - strlen(range), "%s%s", i ? " | " : "", k->names[i]);
	else if (k->type == KT_STR)
		snprintf(range, sizeof(range), "up to %zu characters", k->size - 1);
	if (k->flags & KF_REQUIRED)
		snprintf(def, sizeof(def), "required");
	else if (k->def != NULL)
		snprintf(def, sizeof(def), "%s", k->def);
	else
		format_value(k, key_base(k, (struct eng_config *)base, 0), def, sizeof(def));
	fprintf(out, "| `%s` | `%s` | %s | ", k->sec == SEC_PATH ? "pathN" : sec_names[k->sec], k->name, types[k->type]);
	md(out, range, 0);
	fputs(" | ", out);
	if (k->flags & KF_REQUIRED || def[0] == '\0')
		md(out, def[0] ? def : "(empty)", 0);
	else
		md(out, def, k->def == NULL || k->derive == NULL);
	fputs(" | ", out);
	md(out, k->help, 0);
	if (key_live(k))
		fputs(" (`ordoctl reload` applies it live)", out);
	fputs(" |\n", out);
}

void eng_config_print_keys(FILE *out)
{
	static struct eng_config base; /* what a key without a default of its own keeps: ring-proto's */
	rp_config_default(&base.rp, 1);
	fputs("| section | key | type | range | default | meaning |\n| --- | --- | --- | --- | --- | --- |\n", out);
	for (size_t i = 0; i < KEY_COUNT; i++)
		print_key_row(out, &keys[i], &base);
	fputs("\nThe profiles' timeouts:\n\n| key | shared | dedicated |\n| --- | --- | --- |\n", out);
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		fprintf(out, "| `%s` | %llu | %llu%s |\n", profiles[i].key, (unsigned long long)profiles[i].shared_us,
			(unsigned long long)profiles[i].dedicated_us, profiles[i].dedicated_us ? "" : " (off)");
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
	ADD("--log-level=*:%s", c->log_level >= ENG_LOG_DEBUG ? "debug" : "warning");
	char extra[sizeof(c->eal_args)];
	snprintf(extra, sizeof(extra), "%s", c->eal_args);
	for (char *save = NULL, *t = strtok_r(extra, " \t", &save); t != NULL; t = strtok_r(NULL, " \t", &save))
		ADD("%s", t);
#undef ADD
	argv[argc] = NULL;
	return argc;
}
