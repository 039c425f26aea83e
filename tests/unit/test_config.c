/* test_config.c — the engine's configuration file (engine/eng_config.c):
 * a good file gives the configuration docs/ordod.md promises, and every
 * kind of bad value is refused with one line naming its key.
 * The parser is libc only: this test links neither DPDK nor the engine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "eng.h"
#include "eng_crypto.h"

static const char *const good =
	"# a comment line\n"
	"[node]   ; comments may follow a section\n"
	"id = 2   # or a value\n"
	"state_dir = /tmp/ordo-test-state\n"
	"[eal]\n"
	"file_prefix = ordo-test\n"
	"[ring]\n"
	"id = 7\n"
	"nodes = 3, 1,2\n"
	"rrp_mode = passive\n"
	"[path0]\n"
	"device = net_af_packet0,iface=p0,framesz=16384,blocksz=16384\n"
	"[path1]\n"
	"device = 0000:03:00.1\n"
	"[load]\n"
	"size = 1024\n"
	"rate = 1000\n";

static char path[64];

static void write_conf(const char *text)
{
	snprintf(path, sizeof(path), "/tmp/ordo-test-config-%d.conf", (int)getpid());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* good with `line` appended to section `sec` (or a key replaced). */
static int load_with(const char *sec, const char *line, struct eng_config *c, char *err, size_t n)
{
	char text[4096];
	const char *at = strstr(good, sec);
	assert_non_null(at);
	at = strchr(at, '\n') + 1;
	size_t head = (size_t)(at - good);
	/* a key the good file sets in that section is replaced, not repeated */
	char key[64];
	snprintf(key, sizeof(key), "\n%.*s= ", (int)strcspn(line, "="), line);
	const char *old = strstr(at - 1, key);
	const char *next_sec = strchr(at, '[');
	if (old != NULL && (next_sec == NULL || old < next_sec)) {
		head = (size_t)(old + 1 - good);
		at = strchr(old + 1, '\n') + 1;
	}
	if (line[0] == '[') /* a section of its own goes at the end */
		snprintf(text, sizeof(text), "%s%s\n", good, line);
	else
		snprintf(text, sizeof(text), "%.*s%s\n%s", (int)head, good, line, at);
	write_conf(text);
	int rc = eng_config_load(path, c, err, n);
	unlink(path);
	return rc;
}

static void test_good(void **state)
{
	(void)state;
	struct eng_config c;
	char err[512] = "";
	write_conf(good);
	int rc = eng_config_load(path, &c, err, sizeof(err));
	unlink(path);
	assert_int_equal(rc, 0);
	assert_int_equal(c.rp.node_id, 2);
	assert_int_equal(c.ring_id, 7);
	assert_int_equal(c.rp.member_count, 3);
	assert_int_equal(c.rp.members[0], 1);
	assert_int_equal(c.rp.members[2], 3);
	assert_int_equal(c.rp.path_count, 2);
	assert_int_equal(c.rp.rrp_mode, RP_RRP_PASSIVE);
	assert_int_equal(c.path[0].framesz, 16384);
	assert_int_equal(c.idle, ENG_IDLE_ADAPTIVE); /* the default */
	assert_int_equal(c.zero_copy, 1); /* received frames lent to ring-proto by default */
	assert_int_equal(c.log_target, ENG_LOG_TO_STDERR);
	/* shared profile by default */
	assert_int_equal(c.rp.token_retransmit_ns, 30000000ull);
	assert_int_equal(c.rp.token_loss_ns, 250000000ull);
	assert_int_equal(c.rp.token_hold_ns, 10000000ull);
	assert_int_equal(c.rp.frame_size_max, 9000);
	assert_int_equal(c.load.size, 1024);
	assert_int_equal(c.load.rate, 1000);
	assert_int_equal(c.client_evict_ms, 2000); /* kept in ms */
	assert_int_equal(c.max_clients, 256);
	assert_int_equal(c.assembly_timeout_ms, 10000);
	assert_int_equal(c.load.start_delay_ns, 0);

	char *argv[64], buf[4096];
	int argc = eng_config_eal_argv(&c, "ordod", argv, 64, buf, sizeof(buf));
	assert_true(argc > 4);
	int vdev = 0, allow = 0, prefix = 0;
	for (int i = 0; i < argc; i++) {
		vdev += strncmp(argv[i], "--vdev=net_af_packet0,", 22) == 0;
		allow += strcmp(argv[i], "0000:03:00.1") == 0 && strcmp(argv[i - 1], "-a") == 0;
		prefix += strcmp(argv[i], "--file-prefix=ordo-test") == 0;
	}
	assert_int_equal(vdev, 1);
	assert_int_equal(allow, 1);
	assert_int_equal(prefix, 1);
	assert_null(argv[argc]);
}

static void test_spin_is_dedicated(void **state)
{
	(void)state;
	struct eng_config c;
	char err[512] = "";
	assert_int_equal(load_with("[node]", "idle = spin", &c, err, sizeof(err)), 0);
	assert_int_equal(c.rp.token_loss_ns, 10000000ull);
	assert_int_equal(c.rp.token_hold_ns, 0);
	assert_int_equal(load_with("[ring]", "token_loss_us = 40000", &c, err, sizeof(err)), 0);
	assert_int_equal(c.rp.token_loss_ns, 40000000ull);
	/* block sleeps like backoff: the shared profile, token hold on */
	assert_int_equal(load_with("[node]", "idle = block", &c, err, sizeof(err)), 0);
	assert_int_equal(c.idle, ENG_IDLE_BLOCK);
	assert_int_equal(c.rp.token_hold_ns, 10000000ull);
	assert_int_equal(load_with("[node]", "idle = backoff", &c, err, sizeof(err)), 0);
	assert_int_equal(c.idle, ENG_IDLE_BACKOFF);
	assert_int_equal(c.rp.token_hold_ns, 10000000ull);
	assert_int_equal(load_with("[node]", "zero_copy = no", &c, err, sizeof(err)), 0);
	assert_int_equal(c.zero_copy, 0);
	assert_int_equal(load_with("[node]", "metrics_listen = [::1]:9464", &c, err, sizeof(err)), 0);
	assert_string_equal(c.metrics_listen, "[::1]:9464");
	assert_int_equal(load_with("[node]", "log = journal", &c, err, sizeof(err)), 0);
	assert_int_equal(c.log_target, ENG_LOG_TO_JOURNAL);
	assert_int_equal(c.backoff_yield_ns, 1000000ull); /* backoff: 1 ms of yields, */
	assert_int_equal(c.backoff_sleep_ns, 100000ull);  /* then 100 us sleeps */
	assert_int_equal(load_with("[node]", "backoff_yield_us = 0\nbackoff_sleep_us = 20", &c, err, sizeof(err)), 0);
	assert_int_equal(c.backoff_yield_ns, 0);
	assert_int_equal(c.backoff_sleep_ns, 20000ull);
	assert_int_equal(load_with("[node]", "max_clients = 4096", &c, err, sizeof(err)), 0);
	assert_int_equal(c.max_clients, 4096);
	assert_int_equal(load_with("[node]", "assembly_timeout_ms = 250", &c, err, sizeof(err)), 0);
	assert_int_equal(c.assembly_timeout_ms, 250);
	assert_int_equal(c.profile_dedicated, 0);
	assert_true(c.rp.token_hold_ns > 0);
	assert_int_equal(c.rp.accelerated_window, 48); /* Accelerated Ring: 3/4 of max_messages */
	assert_int_equal(load_with("[ring]", "max_messages = 8", &c, err, sizeof(err)), 0);
	assert_int_equal(c.rp.accelerated_window, 6);
	assert_int_equal(load_with("[ring]", "accelerated_window = 0", &c, err, sizeof(err)), 0);
	assert_int_equal(c.rp.accelerated_window, 0);
	assert_int_equal(load_with("[ring]", "accelerated_window = 16", &c, err, sizeof(err)), 0);
	assert_int_equal(c.rp.accelerated_window, 16);
}

/* A client's budget defaults to one token visit, max_messages frames of
 * the MTU (docs/performance.md §7), rounded up to KiB; a value in the
 * file wins, 0 included. */
static void test_budget_is_one_visit(void **state)
{
	(void)state;
	struct eng_config c;
	char err[512];
	assert_int_equal(load_with("[ring]", "mtu = 9000", &c, err, sizeof(err)), 0);
	assert_int_equal(c.client_budget_kib, 563); /* 64 x 9000 B = 562.5 KiB */
	assert_int_equal(load_with("[ring]", "mtu = 1500", &c, err, sizeof(err)), 0);
	assert_int_equal(c.client_budget_kib, 94);  /* 64 x 1500 B = 93.75 KiB */
	assert_int_equal(load_with("[ring]", "max_messages = 8", &c, err, sizeof(err)), 0);
	assert_int_equal(c.client_budget_kib, 71);  /* 8 x 9000 B */
	assert_int_equal(load_with("[node]", "client_budget_kib = 1024", &c, err, sizeof(err)), 0);
	assert_int_equal(c.client_budget_kib, 1024);
	assert_int_equal(load_with("[node]", "client_budget_kib = 0", &c, err, sizeof(err)), 0);
	assert_int_equal(c.client_budget_kib, 0);
}

struct bad {
	const char *sec, *line, *expect; /* expect: the start of the error */
};

static const struct bad bads[] = {
	{"[node]", "colour = blue", "node.colour = 'blue': unknown key"},
	{"[node]", "idle = sometimes", "node.idle = 'sometimes': must be one of"},
	{"[node]", "zero_copy = maybe", "node.zero_copy = 'maybe': must be one of"},
	{"[node]", "log = file", "node.log = 'file': must be one of stderr | syslog | journal"},
	{"[node]", "metrics_listen = localhost:9464", "node.metrics_listen = 'localhost:9464': not ADDRESS:PORT"},
	{"[node]", "metrics_listen = 127.0.0.1:0", "node.metrics_listen = '127.0.0.1:0': not ADDRESS:PORT"},
	{"[node]", "backoff_sleep_us = 0", "node.backoff_sleep_us = '0': must be in"},
	{"[node]", "max_clients = 0", "node.max_clients = '0': must be in"},
	{"[node]", "max_clients = 4097", "node.max_clients = '4097': must be in"},
	{"[node]", "assembly_timeout_ms = 5", "node.assembly_timeout_ms = '5': must be in"},
	{"[node]", "state_dir = /x\nstate_dir = /y", "node.state_dir = '/y': key appears twice"},
	{"[node]", "protocol_max = 2", "node.protocol_max = '2': this build implements protocol versions 1..1"},
	{"[node]", "protocol_min = 2\nprotocol_max = 2", "node.protocol_min = '2': this build implements protocol versions 1..1"},
	{"[node]", "protocol_test = yes\nprotocol_min = 3\nprotocol_max = 2", "node.protocol_min = '3': protocol_min must be in 1..protocol_max (2)"},
	{"[node]", "protocol_test = yes\nprotocol_max = 256", "node.protocol_max = '256': must be in 1..255"},
	{"[ring]", "profile = sideways", "ring.profile = 'sideways': must be one of shared | dedicated"},
	{"[ring]", "mtu = 12", "ring.mtu = '12': must be in 576..9216"},
	{"[ring]", "mtu = 65000", "ring.mtu = '65000': must be in 576..9216"},
	{"[ring]", "mtu = 9000x", "ring.mtu = '9000x': not a non-negative integer"},
	{"[ring]", "window_size = -3", "ring.window_size = '-3': not a non-negative integer"},
	{"[ring]", "store_slots = 1000", "ring.store_slots = '1000': store_slots must be a power of two"},
	{"[ring]", "token_loss_us = 20000", "ring.token_loss_us = '20000': token_loss_us must be greater than token_retransmit_us (30000)"},
	{"[ring]", "token_hold_us = 20000", "ring.token_hold_us = '20000': token_hold_us must be below token_retransmit_us (30000) / 2"},
	{"[ring]", "accelerated_window = 65", "ring.accelerated_window = '65': accelerated_window must be at most max_messages"},
	{"[ring]", "quorum = two_node", "ring.quorum = 'two_node': quorum two_node needs exactly two nodes (1,2,3)"},
	{"[path1]", "mbufs = 3", "path1.mbufs = '3': must be in"},
	{"[load]", "size = 10", "load.size = '10': 0 (off) or at least 24"},
	{"[load]", "service = fast", "load.service = 'fast'"},
	{"[eal]", "file_prefix = a/b", "eal.file_prefix = 'a/b'"},
	{"[load]", "[path3]\ndevice = net_ring0", "[path3]: there is no [path2]"},
	{"[ring]", "key_file = /nonexistent/ordo-key", "ring.key_file = '/nonexistent/ordo-key': key file /nonexistent/ordo-key: No such file"},
	{"[ring]", "key_file = /tmp", "ring.key_file = '/tmp': key file /tmp: not a regular file"},
	{"[ring]", "cipher = des", "ring.cipher = 'des': must be one of aes256-gcm | chacha20-poly1305"},
	{"[ring]", "crypto = none", "ring.crypto = 'none': must be one of encrypt | auth"},
	{"[node]", "socket_mode = 0999", "node.socket_mode = '0999': an octal mode 0..0777"},
	{"[node]", "socket_mode = 01777", "node.socket_mode = '01777': an octal mode 0..0777"},
	{"[node]", "socket_user = no-such-user-ordo", "node.socket_user = 'no-such-user-ordo': no user named 'no-such-user-ordo'"},
	{"[node]", "socket_group = root,daemon", "node.socket_group = 'root,daemon': one name or id"},
	{"[node]", "allow_groups = root, no-such-group-ordo", "node.allow_groups = 'root, no-such-group-ordo': no group named 'no-such-group-ordo'"},
	{"[load]", "[paths]\ndevice = x", "[paths]: unknown section"},
};

/* The protocol range (docs/protocol.md §11): by default every version this
 * build implements; versions beyond it only with protocol_test. */
static void test_protocol_range(void **state)
{
	(void)state;
	struct eng_config c;
	char err[512] = "";
	assert_int_equal(load_with("[node]", "", &c, err, sizeof(err)), 0);
	assert_int_equal(c.rp.proto_min, 1);
	assert_int_equal(c.rp.proto_max, RP_PROTO_VERSION_IMPLEMENTED);
	assert_int_equal(c.protocol_test, 0);
	assert_int_equal(load_with("[node]", "protocol_test = yes\nprotocol_min = 2\nprotocol_max = 7", &c, err, sizeof(err)), 0);
	assert_int_equal(c.rp.proto_min, 2);
	assert_int_equal(c.rp.proto_max, 7);
	assert_int_equal(c.protocol_test, 1);
}

static void test_bad_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		struct eng_config c;
		char err[512] = "";
		int rc = load_with(bads[i].sec, bads[i].line, &c, err, sizeof(err));
		if (rc == 0 || strncmp(err, bads[i].expect, strlen(bads[i].expect)) != 0 ||
		    strchr(err, '\n') != NULL)
			fail_msg("'%s' in %s: rc %d, error '%s', expected '%s...'", bads[i].line, bads[i].sec,
				 rc, err, bads[i].expect);
	}
}

static void test_node_not_in_ring(void **state)
{
	(void)state;
	struct eng_config c;
	char err[512] = "";
	char text[4096];
	snprintf(text, sizeof(text), "%s", good);
	char *p = strstr(text, "nodes = 3, 1,2");
	assert_non_null(p);
	memcpy(p, "nodes = 3, 1,4", 14);
	write_conf(text);
	assert_int_equal(eng_config_load(path, &c, err, sizeof(err)), -1);
	unlink(path);
	char want[256];
	snprintf(want, sizeof(want),
		 "node.id = '2': not one of [ring] nodes (1,3,4): every node's file lists every node of the ring there "
		 "(%s: line 3)", path);
	assert_string_equal(err, want);
}

/* An error says what to do: the file and line of a bad value, the key a
 * typo meant, the file that lacks a required key (docs/ordod.md). */
static void test_error_guidance(void **state)
{
	(void)state;
	static const struct bad guided[] = {
		{"[ring]", "rrp_mdoe = active", "unknown key"},
		{"[ring]", "rrp_mdoe = active", ": did you mean rrp_mode?"},
		{"[node]", "wake_priorty = 2", ": did you mean wake_priority?"},
		{"[node]", "colour = blue", ": ordod --keys lists every key"},
		{"[ring]", "mtu = 65000", "must be in 576..9216 (/tmp/ordo-test-config-"},
		{"[ring]", "mtu = 65000", ".conf: line 8)"},
		{"[path1]", "mbufs = 3", ".conf: line 14)"},
		/* EAL's lcores map is checked before EAL prints its usage */
		{"[eal]", "lcores = abc", "eal.lcores = 'abc': not an EAL --lcores map"},
		{"[eal]", "lcores = 0@", "eal.lcores = '0@': not an EAL --lcores map"},
		/* a duration says its unit; a range gives it */
		{"[ring]", "token_loss_us = 250ms", "not a whole number of microseconds, without a unit (250 ms: 250000)"},
		{"[node]", "client_evict_ms = 2s", "not a whole number of milliseconds, without a unit (2 s: 2000)"},
		{"[ring]", "token_loss_us = 0", "must be in 1..3600000000 us ("},
		/* an MTU too small on l2 blames mtu, says how large it must be */
		{"[ring]", "mtu = 600", "ring.mtu = '600': leaves 600 bytes for ordo's frames; its largest frames need 1112 "
					"(a token with rtr_max 128 requests, a commit token of 3 members): set mtu to 1112 or more, "
					"or lower rtr_max"},
		/* ring-proto's rules in the file's words, with the other key's value */
		{"[ring]", "token_loss_us = 20000", "token_loss_us must be greater than token_retransmit_us (30000) ("},
		{"[ring]", "window_size = 512", "window_size must be at most store_slots (1024) / 4 ("},
	};
	for (size_t i = 0; i < sizeof(guided) / sizeof(guided[0]); i++) {
		struct eng_config c;
		char err[512] = "";
		int rc = load_with(guided[i].sec, guided[i].line, &c, err, sizeof(err));
		if (rc == 0 || strstr(err, guided[i].expect) == NULL)
			fail_msg("'%s' in %s: rc %d, error '%s', expected '...%s...'", guided[i].line, guided[i].sec, rc, err,
				 guided[i].expect);
	}
	struct eng_config c;
	char err[512] = "";
	write_conf("[node]\nid = 1\n[ring]\nid = 1\n[path0]\ndevice = net_null0\n");
	assert_int_equal(eng_config_load(path, &c, err, sizeof(err)), -1);
	unlink(path);
	char want[256];
	snprintf(want, sizeof(want),
		 "ring.nodes = '': required, and %s does not set it (every configured node id, separated by commas)", path);
	assert_string_equal(err, want);
}

static void test_missing(void **state)
{
	(void)state;
	struct eng_config c;
	char err[512] = "";
	write_conf("[node]\nid = 1\n[ring]\nid = 1\nnodes = 1\n");
	assert_int_equal(eng_config_load(path, &c, err, sizeof(err)), -1);
	unlink(path);
	assert_string_equal(err, "[path0]: missing: at least one path section is required");
	assert_int_equal(eng_config_load("/nonexistent/ordo.conf", &c, err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/ordo.conf: No such file or directory");
	assert_int_equal(eng_config_load("/tmp", &c, err, sizeof(err)), -1); /* opens, does not read */
	assert_string_equal(err, "/tmp: cannot read it: Is a directory");
	write_conf("this is not an ini file\n");
	assert_int_equal(eng_config_load(path, &c, err, sizeof(err)), -1);
	unlink(path);
	if (strstr(err, "line 1: not '[section]' or 'key = value'") == NULL)
		fail_msg("error: %s", err);
	write_conf("[node]\nid = 1\nstray words\n");
	assert_int_equal(eng_config_load(path, &c, err, sizeof(err)), -1);
	unlink(path);
	if (strstr(err, "line 3: not '[section]' or 'key = value'") == NULL)
		fail_msg("error: %s", err);
}

static void parse_text(const char *text, struct eng_config *c)
{
	char err[512] = "", *copy = strdup(text);
	assert_non_null(copy);
	if (eng_config_parse(copy, "text", c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	free(copy);
}

/* The error parsing text gives (it must fail): a static buffer the next
 * call overwrites. */
static const char *parse_error(const char *text)
{
	static char err[512];
	struct eng_config c;
	char *copy = strdup(text);
	assert_non_null(copy);
	err[0] = '\0';
	assert_int_equal(eng_config_parse(copy, "text", &c, err, sizeof(err)), -1);
	free(copy);
	return err;
}

/* print (eng_config_print or _json) into a string the caller frees */
static char *printed(void (*print)(const struct eng_config *, FILE *), const struct eng_config *c)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	assert_non_null(f);
	print(c, f);
	fclose(f);
	return text;
}

/* What --check prints is a configuration file that loads to the same
 * configuration: every key, with the value in use. */
static void round_trip(const char *text)
{
	struct eng_config c, again;
	parse_text(text, &c);
	char *ini = printed(eng_config_print, &c);
	memset(&again, 0xA5, sizeof(again));
	parse_text(ini, &again);
	free(ini);
	assert_memory_equal(&c, &again, sizeof(c));
}

static void test_print_round_trip(void **state)
{
	(void)state;
	round_trip(good);
	round_trip("[node]\nid = 1\nidle = spin\nsocket =\n[eal]\nlcores = 0@(0-1)\nhugepages = yes\n"
		   "args = --in-memory -d x\n[ring]\nid = 255\nnodes = 1\nquorum = last_man_standing\n"
		   "quorum_publish = yes\ntoken_hold_us = 0\n[path0]\ndevice = net_null0\n"
		   "[load]\nsize = 24\nservice = safe\npriority = 0\nstart_delay_ms = 5\n");
}

/* A value in matching quotes loses them; unmatched quotes stay; the
 * defaults of issue 20: quorum_publish yes. */
static void test_quotes(void **state)
{
	(void)state;
	struct eng_config c;
	parse_text("[node]\nid = 1\nstate_dir = \"/var/lib/ordo x\"\nsocket = '/run/o.sock'\n[ring]\nid = 1\n"
		   "nodes = 1\n[path0]\ndevice = \"net_null0\"\n", &c);
	assert_string_equal(c.state_dir, "/var/lib/ordo x");
	assert_string_equal(c.socket_path, "/run/o.sock");
	assert_string_equal(c.path[0].device, "net_null0");
	assert_true(c.rp.quorum_publish);
	parse_text("[node]\nid = 1\nstate_dir = \"/a'\n[ring]\nid = 1\nnodes = 1\n[path0]\ndevice = net_null0\n", &c);
	assert_string_equal(c.state_dir, "\"/a'");
}

/* [pathN] nodes (docs/protocol.md §17): networks that reach only some
 * nodes. The issue's four nodes: network 0 reaches every node, network 1
 * nodes 1-2, network 2 nodes 3, 4 and 1; node 3 has no port on path1. */
static const char *partial_text(const char *node, const char *path1, const char *path2)
{
	static char text[1024];
	snprintf(text, sizeof(text),
		 "[node]\nid = %s\n[ring]\nid = 3\nnodes = 1,2,3,4\n"
		 "[path0]\ndevice = net_null0\n[path1]\n%s\n[path2]\n%s\n", node, path1, path2);
	return text;
}

static void test_partial(void **state)
{
	(void)state;
	struct eng_config c;
	parse_text(partial_text("3", "nodes = 1,2", "nodes = 3,4,1\ndevice = net_null2"), &c);
	assert_int_equal(c.rp.path_nodes[0], 0xF); /* every node, listed */
	assert_int_equal(c.rp.path_nodes[1], 0x3);
	assert_int_equal(c.rp.path_nodes[2], 0xD);
	assert_int_equal(rp_topo_paths_of(&c.rp, 3), 5);
	round_trip(partial_text("3", "nodes = 1,2", "nodes = 3,4,1\ndevice = net_null2"));
	round_trip(partial_text("1", "nodes = 1,2\ndevice = net_null1", "nodes = 3,4,1\ndevice = net_null2"));
	static const struct {
		const char *node, *path1, *path2, *err;
	} bad[] = {
		/* a device on a network the node is not on, or none where it is */
		{"3", "nodes = 1,2\ndevice = net_null1", "nodes = 3,4,1\ndevice = net_null2",
		 "path1.device = 'net_null1': node 3 is not on this network ([path1] nodes): no device here"},
		{"3", "nodes = 1,2", "nodes = 3,4,1",
		 "path2.device = '': required on a network this node is on"},
		/* a node that is not configured */
		{"3", "nodes = 1,9", "nodes = 3,4,1\ndevice = net_null2",
		 "path1.nodes = '1,9': node 9 is not one of [ring] nodes"},
		{"3", "nodes = 1,x", "nodes = 3,4,1\ndevice = net_null2",
		 "path1.nodes = '1,x': node ids are integers"},
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		const char *err = parse_error(partial_text(bad[k].node, bad[k].path1, bad[k].path2));
		if (strstr(err, bad[k].err) == NULL)
			fail_msg("case %zu: error '%s', expected '%s'", k, err, bad[k].err);
	}
	/* the cut, named by its two sides */
	const char *err = parse_error("[node]\nid = 1\n[ring]\nid = 3\nnodes = 1,2,3,4\n"
				      "[path0]\nnodes = 1,2\ndevice = net_null0\n[path1]\nnodes = 3,4\n");
	if (strstr(err, "nodes 1,2 share no network with nodes 3,4: the ring could never form whole ([path0] nodes 1,2 "
			"(text: line 7), [path1] nodes 3,4 (text: line 10)); list a node of each side on one network") == NULL)
		fail_msg("error '%s'", err);
	/* a path section after a gap names the one missing and its line */
	err = parse_error("[node]\nid = 1\n[ring]\nid = 3\nnodes = 1,2\n[path0]\ndevice = net_null0\n[path2]\ndevice = net_null2\n");
	assert_string_equal(err, "[path2]: there is no [path1] (text: line 8): paths are numbered from path0 without gaps");
	/* passive replication needs a full topology */
	err = parse_error("[node]\nid = 1\n[ring]\nid = 3\nnodes = 1,2,3\nrrp_mode = passive\n"
			  "[path0]\ndevice = net_null0\n[path1]\nnodes = 1,2\ndevice = net_null1\n");
	if (strstr(err, "passive") == NULL)
		fail_msg("error '%s'", err);
}

/* [ring] key_file: a key file with the rules of docs/security.md §5 is a
 * configuration; a short or exposed one is an error naming it; the
 * security keys and the attach keys are printed back as they load. */
static void test_security_keys(void **state)
{
	(void)state;
	char key[64], line[160], err[512];
	snprintf(key, sizeof(key), "/tmp/ordo-test-config-key-%d", (int)getpid());
	uint8_t bytes[64];
	for (int i = 0; i < 64; i++)
		bytes[i] = (uint8_t)(i * 5 + 1);
	struct { size_t size; mode_t mode; const char *expect; } cases[] = {
		{64, 0400, NULL},
		{64, 0600, NULL},
		{31, 0400, "31 bytes; a key has 32..1024 bytes"},
		{64, 0644, "mode 0644 lets others than its owner read or write it: chmod 0400"},
		{64, 0640, "mode 0640"},
	};
	snprintf(line, sizeof(line), "key_file = %s\ncipher = chacha20-poly1305\ncrypto = auth", key);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		(void)unlink(key);
		FILE *f = fopen(key, "w");
		assert_non_null(f);
		assert_int_equal(fwrite(bytes, 1, cases[i].size, f), cases[i].size);
		fclose(f);
		assert_int_equal(chmod(key, cases[i].mode), 0);
		struct eng_config c;
		int rc = load_with("[ring]", line, &c, err, sizeof(err));
		if (cases[i].expect == NULL) {
			if (rc != 0)
				fail_msg("key file of %zu bytes, mode %o: %s", cases[i].size, (unsigned)cases[i].mode, err);
			assert_string_equal(c.key_file, key);
			assert_int_equal(c.cipher, ENG_CIPHER_CHACHA20_POLY1305);
			assert_int_equal(c.protect, ENG_PROTECT_AUTH);
		} else if (rc == 0 || strncmp(err, "ring.key_file = '", 17) != 0 || strstr(err, cases[i].expect) == NULL) {
			fail_msg("key file of %zu bytes, mode %o: rc %d, error '%s', expected '...%s...'", cases[i].size,
				 (unsigned)cases[i].mode, rc, err, cases[i].expect);
		}
	}
	/* the defaults: no key (no frame security), AES-256-GCM, encrypt, 0660 */
	struct eng_config c;
	parse_text(good, &c);
	assert_string_equal(c.key_file, "");
	assert_int_equal(c.cipher, ENG_CIPHER_AES256_GCM);
	assert_int_equal(c.protect, ENG_PROTECT_ENCRYPT);
	assert_string_equal(c.socket_mode, "0660");
	/* printed back, they load again to the same configuration */
	(void)unlink(key);
	FILE *f = fopen(key, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, 64, f), 64);
	fclose(f);
	assert_int_equal(chmod(key, 0400), 0);
	char text[1024];
	snprintf(text, sizeof(text),
		 "[node]\nid = 1\nsocket_mode = 0600\nsocket_user = 0\nsocket_group = root\nallow_users = root, 0\n"
		 "allow_groups = 0\n[ring]\nid = 3\nnodes = 1\nkey_file = %s\ncipher = chacha20-poly1305\n"
		 "crypto = auth\n[path0]\ndevice = net_null0\n", key);
	round_trip(text);
	(void)unlink(key);
}

/* --check --json: one object of sections, numbers as numbers. */
static void test_json(void **state)
{
	(void)state;
	struct eng_config c;
	parse_text(good, &c);
	char *json = printed(eng_config_print_json, &c);
	const char *const expect[] = {"{\"node\": {\"id\": 2, ", "\"zero_copy\": true", "\"nodes\": [1,2,3]",
				      "\"token_loss_us\": 250000", "\"path1\": {\"device\": \"0000:03:00.1\"",
				      "\"service\": \"agreed\""};
	for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++)
		if (strstr(json, expect[i]) == NULL)
			fail_msg("no '%s' in %s", expect[i], json);
	free(json);
}

/* [pathN] transport = udp4 | udp6 and its address keys (docs/ordod.md,
 * Transports): parsed into pmd-glue's path configuration, the frame size
 * less the IP and UDP headers, every rule refused against its key. */
static char *routed_text(const char *ring_extra, const char *path_extra)
{
	static char text[4096];
	snprintf(text, sizeof(text),
		 "[node]\nid = 2\nstate_dir = /tmp/ordo-test-state\n[ring]\nid = 1\nnodes = 1,2,3\n%s"
		 "[path0]\ndevice = net_null0\n"
		 "[path1]\ndevice = net_null1\ntransport = udp6\naddress = fd6f:1:2::1/64\n"
		 "addresses = 1@fd6f:1:1::1, 2@fd6f:1:2::1, 3@fd6f:1:3::1\ngateway = fd6f:1:2::fe\n%s",
		 ring_extra, path_extra);
	return text;
}

static void test_routed(void **state)
{
	(void)state;
	struct eng_config c;
	parse_text(routed_text("udp_port = 6000\nmtu = 1500\n",
			       "neighbours = fd6f:1:2::fe@02:00:00:00:00:fe\nneighbour_learning = no\n"), &c);
	const struct pmdg_net_conf *n = &c.path[1].net;
	assert_int_equal(c.path[0].net.transport, PMDG_TRANSPORT_L2);
	assert_int_equal(n->transport, PMDG_TRANSPORT_UDP6);
	assert_int_equal(n->udp_port, 6000);
	assert_int_equal(n->prefix, 64);
	assert_int_equal(n->self.family, 6);
	assert_int_equal(n->node[3].b[5], 3);
	assert_int_equal(n->gateway.b[15], 0xfe);
	assert_int_equal(n->static_count, 1);
	assert_int_equal(n->learn, 0);
	assert_int_equal(c.mtu, 1500);
	assert_int_equal(c.rp.frame_size_max, 1500 - 48); /* IPv6 and UDP headers */
	round_trip(routed_text("", "multicast = ff15::4f52\n"));
	parse_text(routed_text("", ""), &c);
	assert_int_equal(c.path[1].net.udp_port, 5405);
	assert_int_equal(c.path[1].net.learn, 1);
	assert_int_equal(c.rp.frame_size_max, 9000 - 48);

	static const struct {
		const char *ring, *path, *expect;
	} bad[] = {
		{"", "transport = udp5\n", "path1.transport = 'udp5': must be one of l2 | udp4 | udp6"},
		{"", "address = fd6f:1:2::1\n", "path1.address = 'fd6f:1:2::1': needs a prefix length"},
		{"", "address = fd6f:1:2::1/129\n", "path1.address = 'fd6f:1:2::1/129': prefix length must be 1..128"},
		{"", "address = 10.1.2.1/24\n", "path1.address = '10.1.2.1/24': 10.1.2.1 is not an IPv6 address"},
		{"", "address = fd6f:1:2::g/64\n", "path1.address = 'fd6f:1:2::g/64': 'fd6f:1:2::g' is not an IPv4 or IPv6"},
		{"", "addresses = 1@fd6f:1:1::1, 2@fd6f:1:2::1\n", "path1.addresses = '1@fd6f:1:1::1, 2@fd6f:1:2::1': node 3 of the ring has no address"},
		{"", "addresses = 1@fd6f:1:1::1, 2@fd6f:1:2::9, 3@fd6f:1:3::1\n", "path1.addresses = '1@fd6f:1:1::1, 2@fd6f:1:2::9, 3@fd6f:1:3::1': this node's entry"},
		{"", "gateway = \n", "path1.addresses = '1@fd6f:1:1::1, 2@fd6f:1:2::1, 3@fd6f:1:3::1': node 1's fd6f:1:1::1 is not in this node's subnet fd6f:1:2::1/64, and no gateway is set"},
		{"", "gateway = fd6f:9::fe\n", "path1.gateway = 'fd6f:9::fe': fd6f:9::fe is not in this node's subnet"},
		{"", "multicast = fd6f::1\n", "path1.multicast = 'fd6f::1': fd6f::1 is not an IPv6 multicast address"},
		{"", "neighbours = fd6f:1:2::fe@02:00:00:00:00\n", "path1.neighbours = 'fd6f:1:2::fe@02:00:00:00:00': '02:00:00:00:00' is not a MAC"},
		{"", "neighbours = fd6f:1:3::1@02:00:00:00:00:03\n", "path1.neighbours = 'fd6f:1:3::1@02:00:00:00:00:03': fd6f:1:3::1 is not a next hop"},
		{"", "neighbour_learning = no\n", "path1.neighbour_learning = 'no': 'no' needs a static entry in neighbours for every next hop; fd6f:1:2::fe has none"},
		{"mtu = 576\nrtr_max = 64\n", "", "ring.mtu = '576': leaves 528 bytes for ordo's frames after the IP and UDP headers (path1, udp6: 48 bytes); its largest frames need 600 (a token with rtr_max 64 requests, a commit token of 3 members): set mtu to 648 or more, or lower rtr_max"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char err[512] = "", *copy = strdup(routed_text(bad[i].ring, bad[i].path));
		/* a key given twice in [path1] replaces the routed_text one */
		char *sec = strstr(copy, "[path1]");
		for (const char *k = bad[i].path; *k != '\0'; k = strchr(k, '\n') + 1) {
			char key[32];
			snprintf(key, sizeof(key), "\n%.*s=", (int)strcspn(k, "="), k);
			char *first = strstr(sec, key), *second = first ? strstr(first + 1, key) : NULL;
			if (second != NULL)
				memset(first + 1, ' ', strcspn(first + 1, "\n")); /* blank the first */
		}
		int rc = eng_config_parse(copy, "text", &c, err, sizeof(err));
		free(copy);
		if (rc == 0 || strncmp(err, bad[i].expect, strlen(bad[i].expect)) != 0 || strchr(err, '\n') != NULL)
			fail_msg("case %zu: rc %d, error '%s', expected '%s...'", i, rc, err, bad[i].expect);
	}
	/* with a cluster key, learning is off unless the file says so */
	char keyfile[64], ring_key[128];
	snprintf(keyfile, sizeof(keyfile), "/tmp/ordo-test-config-netkey-%d", (int)getpid());
	FILE *kf = fopen(keyfile, "w");
	assert_non_null(kf);
	for (int i = 0; i < 64; i++)
		fputc(i * 7 + 3, kf);
	fclose(kf);
	assert_int_equal(chmod(keyfile, 0400), 0);
	snprintf(ring_key, sizeof(ring_key), "key_file = %s\n", keyfile);
	parse_text(routed_text(ring_key, "neighbours = fd6f:1:2::fe@02:00:00:00:00:fe\n"), &c);
	assert_int_equal(c.path[1].net.learn, 0);
	parse_text(routed_text(ring_key, "neighbour_learning = yes\n"), &c);
	assert_int_equal(c.path[1].net.learn, 1);
	const char *kerr = parse_error(routed_text(ring_key, ""));
	if (strstr(kerr, "path1.neighbour_learning = 'no': ") != kerr || strstr(kerr, "off by default with [ring] key_file") == NULL)
		fail_msg("a key and no static neighbours: '%s'", kerr);
	unlink(keyfile);
	/* an address key on an l2 path */
	assert_string_equal(parse_error(routed_text("", "[path2]\ndevice = net_null2\naddress = 10.0.0.1/24\n")),
			    "path2.address = '10.0.0.1/24': only with transport = udp4 or udp6 (this path is l2) (text: line 17)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_spin_is_dedicated),
		cmocka_unit_test(test_budget_is_one_visit),
		cmocka_unit_test(test_quotes),
		cmocka_unit_test(test_protocol_range),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_node_not_in_ring),
		cmocka_unit_test(test_error_guidance),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_print_round_trip),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_routed),
		cmocka_unit_test(test_security_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
