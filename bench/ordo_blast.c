/* ordo_blast.c — ordo-blast: what the transport itself carries, the ceiling
 * scripts/bench-compare holds ordo's flood against (docs/performance.md §7,
 * "The transport's ceiling").
 *
 *   ordo-blast -n NODE -N NODES -D DEVICE [-D DEVICE...] [-m one|all] [-s SENDER]
 *              [-M MTU] [-f FRAME] [-d SECONDS] [-w SECONDS] [-t START_UNIX_NS]
 *              [-r RING] [-l LCORES] [-j FILE]
 *
 * One process per node, each in its node's network namespace. It opens the
 * node's ports exactly as ordod does, through pmd-glue (pmdg_eal_init,
 * pmdg_open with ordod's defaults for a path: one rx and one tx queue, 1024
 * descriptors each, a pool of 2047 mbufs of the vdev's framesz), and from a
 * common start time (-t, CLOCK_REALTIME: every process on the host shares
 * it) the senders send FRAME-byte frames (default: MTU, the full frame ordo
 * packs its messages into) to the ring's multicast MAC through pmdg_send (the
 * same copy into an mbuf per frame and the same bursts as ordod) as fast as
 * the port takes them, on every path (as ordod's active mode does); every
 * node counts the frames it receives through pmdg_payload. Mode `one`: node
 * SENDER sends, the others only receive; mode `all`: every node sends and
 * receives. The counts are taken over a window of SECONDS that begins -w
 * seconds after the start (the senders keep sending for -w seconds after it
 * ends, so that the window never sees the stream thin out); the result, per
 * node, on stdout and as JSON with -j: frames and MB/s (10^6 bytes of ordo
 * frame: the Ethernet payload) sent and received, per sender received and
 * lost (from the frames' sequence numbers), and the process's CPU time.
 *
 * The frames: EtherType 0x88B5 to 03:4f:52:00:00:<RING> (RING 254 unless
 * told: not the harness's ring 1) from 02:4f:52:<RING>:00:<NODE>, so that
 * a bridge floods them to every other port as it floods ordod's data
 * frames; the payload begins "BLST", not ordo's magic: an ordod on the
 * segment would drop them (l2-dest, or bad-magic on ring RING).
 *
 * Never: runs beside an ordod on the same veths while it measures (they
 * would share the CPUs), or says anything about speed but what it counted.
 *
 * Single-threaded, one lcore (default 0@(0-1), ordod's on a small machine:
 * any of the first two CPUs). A node that only receives yields its CPU on
 * an empty poll and sleeps 50 us after 1 ms without a frame, so that on a
 * machine with fewer cores than nodes it leaves the senders their CPU.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_mbuf.h>

#include "pmdg.h"

#define BLAST_NODES_MAX 64u
#define BLAST_FRAME_MAX 16384u
#define BLAST_HDR 24u          /* "BLST", sender (u16 at 4), sequence (u64 at 16) */
#define BLAST_SEQ_OFF 16u      /* past pmd-glue's path index stamp (byte 14) */
#define BLAST_RX_ROUNDS 8u     /* bursts per path per loop: drain before sending more */
#define BLAST_IDLE_SPIN_NS 1000000ull
#define BLAST_IDLE_SLEEP_NS 50000l
#define BLAST_ARGV_MAX (16 + PMDG_PATHS_MAX)

struct blast_opts {
	uint16_t node, nodes, sender;
	int all;                      /* mode all: every node sends */
	uint32_t mtu, frame_size;
	double duration_s, warmup_s;
	uint64_t start_ns;            /* CLOCK_REALTIME; 0: as soon as the ports are up */
	uint8_t ring, path_count;
	const char *device[PMDG_PATHS_MAX];
	const char *lcores, *json;
};

/* What one sender's frames did at this receiver. */
struct blast_peer {
	uint64_t frames, bytes;
	uint64_t first_seq, last_seq; /* in the window */
};

/* The counters at one instant (window start or end). */
struct blast_snap {
	uint64_t ns, cpu_ns;
	struct pmdg_path_stats path[PMDG_PATHS_MAX];
	struct blast_peer peer[BLAST_NODES_MAX + 1];
};

struct blast {
	struct blast_opts o;
	struct pmdg g;
	int sending, measuring;
	uint64_t seq, rx_other;
	struct blast_peer peer[BLAST_NODES_MAX + 1];
	struct blast_snap at[2];
	double late_ms;               /* how late after the start time the ports came up */
	uint8_t frame[BLAST_FRAME_MAX];
	uint8_t scratch[BLAST_FRAME_MAX + 64];
};

static volatile sig_atomic_t stop;
static void on_signal(int s) { (void)s; stop = 1; }

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, sizeof(v)); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, sizeof(v)); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, sizeof(v)); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, sizeof(v)); return v; }

static void usage(FILE *f)
{
	fprintf(f, "usage: ordo-blast -n NODE -N NODES -D DEVICE [-D DEVICE...] [-m one|all] [-s SENDER]\n"
		   "                  [-M MTU] [-f FRAME] [-d SECONDS] [-w SECONDS] [-t START_UNIX_NS]\n"
		   "                  [-r RING] [-l LCORES] [-j FILE]\n"
		   "(bench/ordo_blast.c says what it measures)\n");
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

/* One option into o; -1 on a bad value. */
static int parse_opt(struct blast_opts *o, int c, const char *arg)
{
	double v = 0;
	switch (c) {
	case 'n': if (parse_num(arg, 1, BLAST_NODES_MAX, &v)) return -1; o->node = (uint16_t)v; return 0;
	case 'N': if (parse_num(arg, 2, BLAST_NODES_MAX, &v)) return -1; o->nodes = (uint16_t)v; return 0;
	case 's': if (parse_num(arg, 1, BLAST_NODES_MAX, &v)) return -1; o->sender = (uint16_t)v; return 0;
	case 'M': if (parse_num(arg, 64, 9216, &v)) return -1; o->mtu = (uint32_t)v; return 0;
	case 'f': if (parse_num(arg, BLAST_HDR, 9216, &v)) return -1; o->frame_size = (uint32_t)v; return 0;
	case 'd': return parse_num(arg, 0.1, 3600, &o->duration_s);
	case 'w': return parse_num(arg, 0, 60, &o->warmup_s);
	case 'r': if (parse_num(arg, 1, 255, &v)) return -1; o->ring = (uint8_t)v; return 0;
	case 't': {
		char *end;
		errno = 0;
		o->start_ns = strtoull(arg, &end, 10);
		return errno != 0 || end == arg || *end != '\0' ? -1 : 0;
	}
	case 'l': o->lcores = arg; return 0;
	case 'j': o->json = arg; return 0;
	case 'm':
		if (strcmp(arg, "one") != 0 && strcmp(arg, "all") != 0)
			return -1;
		o->all = strcmp(arg, "all") == 0;
		return 0;
	case 'D':
		if (o->path_count >= PMDG_PATHS_MAX)
			return -1;
		o->device[o->path_count++] = arg;
		return 0;
	default: return -1;
	}
}

static int parse_args(struct blast_opts *o, int argc, char **argv)
{
	*o = (struct blast_opts){.sender = 1, .mtu = 9000, .duration_s = 3, .warmup_s = 0.5, .ring = 254,
				 .lcores = "0@(0-1)"};
	int c;
	while ((c = getopt(argc, argv, "n:N:D:m:s:M:f:d:w:t:r:l:j:h")) != -1) {
		if (c == 'h') {
			usage(stdout);
			exit(0);
		}
		if (parse_opt(o, c, optarg) != 0) {
			fprintf(stderr, "ordo-blast: bad -%c %s\n", c, optarg ? optarg : "");
			usage(stderr);
			return -1;
		}
	}
	if (o->frame_size == 0)
		o->frame_size = o->mtu;
	const char *why = o->node == 0 || o->nodes == 0 ? "-n and -N are required"
			  : o->node > o->nodes || o->sender > o->nodes ? "-n and -s must be node ids up to -N"
			  : o->path_count == 0 ? "at least one -D DEVICE is required"
			  : o->frame_size > o->mtu ? "-f FRAME must not exceed -M MTU"
			  : optind != argc ? "unexpected arguments" : NULL;
	if (why != NULL) {
		fprintf(stderr, "ordo-blast: %s\n", why);
		usage(stderr);
		return -1;
	}
	return 0;
}

/* The vdev's framesz= (af_packet's frame buffer), or 0. */
static uint32_t device_framesz(const char *device)
{
	const char *p = strstr(device, "framesz=");
	return p != NULL ? (uint32_t)strtoul(p + 8, NULL, 10) : 0;
}

/* EAL and ports, as ordod opens them (engine/eng_worker.c, engine/eng_config.c). */
static int open_ports(struct blast *b, const char *prog, char *err, size_t err_size)
{
	const struct blast_opts *o = &b->o;
	char lc[64], prefix[64], vdev[PMDG_PATHS_MAX][256];
	char *argv[BLAST_ARGV_MAX];
	int argc = 0;
	snprintf(lc, sizeof(lc), "--lcores=%s", o->lcores);
	snprintf(prefix, sizeof(prefix), "--file-prefix=ordo-blast-n%u", o->node);
	argv[argc++] = (char *)prog;
	argv[argc++] = lc;
	argv[argc++] = prefix;
	argv[argc++] = (char *)"--no-huge";
	argv[argc++] = (char *)"-m";
	argv[argc++] = (char *)"256";
	argv[argc++] = (char *)"--no-pci";
	argv[argc++] = (char *)"--no-telemetry";
	argv[argc++] = (char *)"--log-level=*:warning";
	for (uint8_t p = 0; p < o->path_count; p++) {
		snprintf(vdev[p], sizeof(vdev[p]), "--vdev=%s", o->device[p]);
		argv[argc++] = vdev[p];
	}
	argv[argc] = NULL;
	int rc = pmdg_eal_init(argc, argv, err, err_size);
	if (rc != 0)
		return rc;
	struct pmdg_conf pc = {.path_count = o->path_count, .ring_id = o->ring, .node_id = o->node, .mtu = o->mtu};
	for (uint8_t p = 0; p < o->path_count; p++) {
		uint32_t room = o->mtu + 18u, fsz = device_framesz(o->device[p]);
		pc.port[p] = (struct pmdg_port_conf){.device = o->device[p], .rx_desc = 1024, .tx_desc = 1024,
						     .mbufs = 2047, .data_room = fsz > room ? fsz : room};
	}
	rc = pmdg_open(&b->g, &pc, err, err_size);
	if (rc != 0)
		pmdg_eal_cleanup();
	return rc;
}

/* One received frame: counted against its sender while measuring. */
static void count_rx(struct blast *b, const uint8_t *f, size_t len)
{
	if (len < BLAST_HDR || memcmp(f, "BLST", 4) != 0 || get16(f + 4) == 0 || get16(f + 4) > BLAST_NODES_MAX) {
		b->rx_other++;
		return;
	}
	if (!b->measuring)
		return;
	struct blast_peer *p = &b->peer[get16(f + 4)];
	uint64_t seq = get64(f + BLAST_SEQ_OFF);
	if (p->frames == 0 || seq < p->first_seq)
		p->first_seq = seq;
	if (p->frames == 0 || seq > p->last_seq)
		p->last_seq = seq;
	p->frames++;
	p->bytes += len;
}

/* Receives what every path holds, up to BLAST_RX_ROUNDS bursts each. */
static uint32_t rx_all(struct blast *b)
{
	struct rte_mbuf *pkts[PMDG_BURST];
	uint32_t total = 0;
	for (uint8_t p = 0; p < b->o.path_count; p++) {
		for (uint32_t round = 0; round < BLAST_RX_ROUNDS; round++) {
			uint16_t n = pmdg_rx(&b->g, p, pkts, PMDG_BURST);
			for (uint16_t i = 0; i < n; i++) {
				size_t len = 0;
				const uint8_t *f = pmdg_payload(&b->g, p, pkts[i], b->scratch, &len);
				if (f != NULL)
					count_rx(b, f, len);
				rte_pktmbuf_free(pkts[i]);
			}
			total += n;
			if (n < PMDG_BURST)
				break;
		}
	}
	return total;
}

/* One burst of frames on every path (pmdg_send queues and sends a full
 * burst itself). */
static void tx_burst(struct blast *b)
{
	for (uint32_t i = 0; i < PMDG_BURST; i++) {
		put64(b->frame + BLAST_SEQ_OFF, b->seq++);
		for (uint8_t p = 0; p < b->o.path_count; p++)
			(void)pmdg_send(&b->g, p, 0, b->frame, b->o.frame_size);
	}
	(void)pmdg_flush(&b->g);
}

static void snap(struct blast *b, struct blast_snap *s, uint64_t now)
{
	s->ns = now;
	s->cpu_ns = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	memcpy(s->path, b->g.stats, sizeof(s->path));
	memcpy(s->peer, b->peer, sizeof(s->peer));
}

/* Nothing received by a node that does not send: yield, and after
 * BLAST_IDLE_SPIN_NS without a frame sleep a little. */
static void idle(uint64_t now, uint64_t *idle_since)
{
	if (*idle_since == 0)
		*idle_since = now;
	if (now - *idle_since < BLAST_IDLE_SPIN_NS) {
		sched_yield();
		return;
	}
	struct timespec ts = {0, BLAST_IDLE_SLEEP_NS};
	nanosleep(&ts, NULL);
}

/* Until the start time: drain what arrives (the kernel's own frames),
 * then the run: warm-up, the window, and as long again after it. */
static void run(struct blast *b)
{
	uint64_t now = clock_ns(CLOCK_REALTIME);
	if (b->o.start_ns == 0)
		b->o.start_ns = now;
	if (now > b->o.start_ns)
		b->late_ms = (double)(now - b->o.start_ns) / 1e6;
	while (!stop && (now = clock_ns(CLOCK_REALTIME)) < b->o.start_ns) {
		(void)rx_all(b);
		struct timespec ts = {0, 200000l};
		nanosleep(&ts, NULL);
	}
	uint64_t from = b->o.start_ns + (uint64_t)(b->o.warmup_s * 1e9);
	uint64_t to = from + (uint64_t)(b->o.duration_s * 1e9);
	uint64_t end = to + (uint64_t)(b->o.warmup_s * 1e9);
	uint64_t idle_since = 0;
	int phase = 0; /* 0 warm-up, 1 window, 2 after */
	while (!stop && now < end) {
		uint32_t got = rx_all(b);
		if (b->sending)
			tx_burst(b);
		now = clock_ns(CLOCK_REALTIME);
		if (phase == 0 && now >= from) {
			snap(b, &b->at[0], now);
			b->measuring = 1;
			phase = 1;
		} else if (phase == 1 && now >= to) {
			snap(b, &b->at[1], now);
			b->measuring = 0;
			phase = 2;
		}
		if (got > 0 || b->sending)
			idle_since = 0;
		else
			idle(now, &idle_since);
	}
	if (phase < 2) /* stopped by a signal: the window so far */
		snap(b, &b->at[phase == 0 ? 0 : 1], now);
	if (phase == 0)
		b->at[1] = b->at[0];
}

/* A sender's frames missing at this receiver in the window: the gaps in
 * its sequence numbers (on several paths each frame counts once per path,
 * and what one path lost another may have brought: then 0). */
static uint64_t peer_lost(const struct blast_peer *p)
{
	uint64_t span = p->frames > 0 ? p->last_seq - p->first_seq + 1 : 0;
	return span > p->frames ? span - p->frames : 0;
}

/* The window's totals. */
struct blast_result {
	double window_s, cpu_s;
	uint64_t tx_frames, tx_full, tx_nombuf, rx_frames, rx_bytes, rx_lost;
};

static void result(const struct blast *b, struct blast_result *r)
{
	const struct blast_snap *s0 = &b->at[0], *s1 = &b->at[1];
	memset(r, 0, sizeof(*r));
	r->window_s = (double)(s1->ns - s0->ns) / 1e9;
	r->cpu_s = (double)(s1->cpu_ns - s0->cpu_ns) / 1e9;
	for (uint8_t p = 0; p < b->o.path_count; p++) {
		r->tx_frames += s1->path[p].tx_frames - s0->path[p].tx_frames;
		r->tx_full += s1->path[p].tx_full - s0->path[p].tx_full;
		r->tx_nombuf += s1->path[p].tx_nombuf - s0->path[p].tx_nombuf;
	}
	for (uint16_t i = 1; i <= b->o.nodes; i++) {
		const struct blast_peer *p = &s1->peer[i];
		r->rx_frames += p->frames;
		r->rx_bytes += p->bytes;
		r->rx_lost += peer_lost(p);
	}
}

static double per_s(const struct blast_result *r, double v) { return r->window_s > 0 ? v / r->window_s : 0; }

static void write_json(FILE *f, const struct blast *b, const struct blast_result *r)
{
	const struct blast_opts *o = &b->o;
	double fb = o->frame_size;
	fprintf(f, "{\n  \"tool\": \"ordo-blast\",\n  \"node\": %u,\n  \"nodes\": %u,\n  \"mode\": \"%s\",\n"
		   "  \"sender\": %u,\n  \"sending\": %s,\n  \"ring\": %u,\n  \"mtu\": %u,\n  \"frame_bytes\": %u,\n"
		   "  \"paths\": %u,\n  \"duration_s\": %.3f,\n  \"warmup_s\": %.3f,\n  \"late_ms\": %.1f,\n"
		   "  \"window_s\": %.6f,\n  \"cpu_s\": %.6f,\n",
		o->node, o->nodes, o->all ? "all" : "one", o->all ? 0 : o->sender, b->sending ? "true" : "false",
		o->ring, o->mtu, o->frame_size, o->path_count, o->duration_s, o->warmup_s, b->late_ms, r->window_s,
		r->cpu_s);
	fprintf(f, "  \"tx_frames\": %" PRIu64 ",\n  \"tx_full\": %" PRIu64 ",\n  \"tx_nombuf\": %" PRIu64
		   ",\n  \"tx_attempted\": %" PRIu64 ",\n  \"tx_frames_per_s\": %.1f,\n  \"tx_mb_per_s\": %.3f,\n",
		r->tx_frames, r->tx_full, r->tx_nombuf, r->tx_frames + r->tx_full + r->tx_nombuf,
		per_s(r, (double)r->tx_frames), per_s(r, (double)r->tx_frames * fb) / 1e6);
	fprintf(f, "  \"rx_frames\": %" PRIu64 ",\n  \"rx_bytes\": %" PRIu64 ",\n  \"rx_lost\": %" PRIu64
		   ",\n  \"rx_other\": %" PRIu64 ",\n  \"rx_frames_per_s\": %.1f,\n  \"rx_mb_per_s\": %.3f,\n",
		r->rx_frames, r->rx_bytes, r->rx_lost, b->rx_other, per_s(r, (double)r->rx_frames),
		per_s(r, (double)r->rx_bytes) / 1e6);
	fprintf(f, "  \"rx_from\": {");
	const char *sep = "";
	for (uint16_t i = 1; i <= o->nodes; i++) {
		const struct blast_peer *p = &b->at[1].peer[i];
		if (i == o->node)
			continue;
		fprintf(f, "%s\"%u\": {\"frames\": %" PRIu64 ", \"lost\": %" PRIu64 "}", sep, i, p->frames,
			peer_lost(p));
		sep = ", ";
	}
	fprintf(f, "}\n}\n");
}

static int report(const struct blast *b)
{
	struct blast_result r;
	result(b, &r);
	printf("ordo-blast n%u (%s%s): %.2f s window, sent %.0f frames/s (%.1f MB/s, %" PRIu64
	       " refused), received %.0f frames/s (%.1f MB/s, %" PRIu64 " lost), CPU %.2f s\n",
	       b->o.node, b->o.all ? "all" : "one", b->sending ? ", sending" : "", r.window_s,
	       per_s(&r, (double)r.tx_frames), per_s(&r, (double)r.tx_frames * b->o.frame_size) / 1e6,
	       r.tx_full + r.tx_nombuf, per_s(&r, (double)r.rx_frames), per_s(&r, (double)r.rx_bytes) / 1e6,
	       r.rx_lost, r.cpu_s);
	if (b->o.json == NULL)
		return 0;
	FILE *f = fopen(b->o.json, "w");
	if (f == NULL) {
		fprintf(stderr, "ordo-blast: cannot write %s: %s\n", b->o.json, strerror(errno));
		return -1;
	}
	write_json(f, b, &r);
	return fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	static struct blast b; /* ~40 KiB of frame buffers: not on the stack */
	if (parse_args(&b.o, argc, argv) != 0)
		return 2;
	b.sending = b.o.all || b.o.sender == b.o.node;
	memcpy(b.frame, "BLST", 4);
	put16(b.frame + 4, b.o.node);
	for (uint32_t i = BLAST_HDR; i < b.o.frame_size; i++)
		b.frame[i] = (uint8_t)i;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	char err[512];
	if (open_ports(&b, argv[0], err, sizeof(err)) != 0) {
		fprintf(stderr, "ordo-blast: %s\n", err);
		return 1;
	}
	run(&b);
	pmdg_close(&b.g);
	pmdg_eal_cleanup();
	return report(&b) == 0 ? 0 : 1;
}
