/* eng_log.c — the node's log: one line per event with its time, severity
 * and node, to stderr, syslog(3) or the systemd journal ([node] log,
 * docs/ordod.md "Logs").
 *
 * Owns: DPDK's log stream (rte_openlog_stream): every rte_log line, the
 * engine's own (logtype "ordo", ENG_LOG) and DPDK's, arrives here, is cut
 * into lines, filtered, rate-limited and written to the target. DPDK's
 * messages below WARNING (its start-up chatter, "No legacy callbacks"...)
 * are dropped unless log_level = debug. A line repeated more than
 * ENG_LOG_BURST times within ENG_LOG_WINDOW_S seconds (repeats: the same
 * text once its digits are ignored) is suppressed, and the count of
 * suppressed lines is logged when the next one passes or at close.
 *
 * Never: logs per frame (callers' rule), allocates while logging, or
 * writes a line in pieces: each line is one write, one syslog() call or
 * one journal entry.
 *
 * Thread context: any thread (the worker, the control thread, DPDK's
 * threads); a mutex serialises the rate limiter and the output. A thread's
 * partial line is kept in thread-local storage until its newline.
 */
#include "eng_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#define ENG_LOG_LINE_MAX 2048
#define ENG_LOG_BURST 10
#define ENG_LOG_WINDOW_S 10
#define ENG_LOG_KEYS 128

struct rl_key {
	uint64_t hash;
	int64_t window_s; /* start of its window (CLOCK_MONOTONIC s) */
	uint32_t count;   /* lines in the window */
	uint32_t suppressed;
	uint32_t level;
	char sample[96];  /* the last suppressed line, for the summary */
};

static struct {
	pthread_mutex_t lock;
	int open;
	int target;        /* enum eng_log_target */
	int level;         /* enum eng_log_level */
	uint16_t node_id;
	char ident[32];
	FILE *stream;
	struct rl_key keys[ENG_LOG_KEYS];
	uint64_t suppressed_total;
} lg = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const char *const level_names[] = {"emerg", "emerg", "alert", "crit", "error",
					  "warning", "notice", "info", "debug"};

static const char *level_name(uint32_t l) { return l <= RTE_LOG_DEBUG ? level_names[l] : "debug"; }

/* rte_log's levels 1..8 are syslog's priorities 0..7. */
static int syslog_prio(uint32_t l) { return l >= 1 && l <= 8 ? (int)l - 1 : LOG_INFO; }

static void out_line(uint32_t level, int dpdk, const char *msg)
{
	switch (lg.target) {
	case ENG_LOG_TO_SYSLOG:
		syslog(syslog_prio(level), "n%u %s%s", lg.node_id, dpdk ? "dpdk: " : "", msg);
		break;
	case ENG_LOG_TO_JOURNAL:
		sd_journal_send("MESSAGE=%s%s", dpdk ? "dpdk: " : "", msg, "PRIORITY=%d", syslog_prio(level),
				"SYSLOG_IDENTIFIER=%s", lg.ident, "ORDO_NODE=%u", lg.node_id, NULL);
		break;
	default: {
		struct timespec ts;
		struct tm tm;
		char when[40];
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		char line[ENG_LOG_LINE_MAX + 128];
		int n = snprintf(line, sizeof(line), "%s.%06ldZ %s n%u %s: %s%s\n", when, ts.tv_nsec / 1000, lg.ident,
				 lg.node_id, level_name(level), dpdk ? "dpdk: " : "", msg);
		if (n > (int)sizeof(line) - 1)
			n = (int)sizeof(line) - 1;
		(void)!write(STDERR_FILENO, line, (size_t)n);
		break;
	}
	}
}

/* The text's key for the rate limiter: its hash with digits left out, so
 * that "path 0 ... 12 ms" and "path 1 ... 40 ms" are repeats of one line. */
static uint64_t line_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static void flush_key(struct rl_key *k)
{
	if (k->suppressed == 0)
		return;
	char msg[192];
	snprintf(msg, sizeof(msg), "%u similar line(s) suppressed in %d s, the last: %s", k->suppressed,
		 ENG_LOG_WINDOW_S, k->sample);
	out_line(k->level, 0, msg);
	k->suppressed = 0;
}

/* Whether a line may be written now (lock held). */
static int rate_ok(uint32_t level, const char *msg)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t now = ts.tv_sec;
	uint64_t h = line_hash(msg);
	struct rl_key *k = NULL, *oldest = &lg.keys[0];
	for (int i = 0; i < ENG_LOG_KEYS; i++) {
		if (lg.keys[i].hash == h && lg.keys[i].count != 0) {
			k = &lg.keys[i];
			break;
		}
		if (lg.keys[i].window_s < oldest->window_s)
			oldest = &lg.keys[i];
	}
	if (k == NULL) {
		flush_key(oldest);
		k = oldest;
		*k = (struct rl_key){.hash = h, .window_s = now, .level = level};
	}
	if (now - k->window_s >= ENG_LOG_WINDOW_S) {
		flush_key(k);
		k->window_s = now;
		k->count = 0;
	}
	if (++k->count <= ENG_LOG_BURST)
		return 1;
	k->suppressed++;
	k->level = level;
	size_t len = strnlen(msg, sizeof(k->sample) - 1);
	memcpy(k->sample, msg, len);
	k->sample[len] = '\0';
	lg.suppressed_total++;
	return 0;
}

/* DPDK lines it logs as warnings on every start of a node that are not:
 * the node does not use the legacy telemetry socket. */
static const char *const dpdk_noise[] = {"No legacy callbacks"};

static void emit(char *msg)
{
	int type = rte_log_cur_msg_logtype();
	uint32_t level = (uint32_t)rte_log_cur_msg_loglevel();
	int dpdk = type != eng_logtype;
	for (size_t i = 0; dpdk && i < sizeof(dpdk_noise) / sizeof(dpdk_noise[0]); i++)
		if (strstr(msg, dpdk_noise[i]) != NULL)
			level = RTE_LOG_DEBUG;
	/* DPDK's start-up chatter: only with log_level = debug */
	if (dpdk && level > RTE_LOG_WARNING && lg.level < ENG_LOG_DEBUG)
		return;
	if (msg[0] == '\0')
		return;
	pthread_mutex_lock(&lg.lock);
	if (rate_ok(level, msg))
		out_line(level, dpdk, msg);
	pthread_mutex_unlock(&lg.lock);
}

/* rte_log formats a message with one vfprintf into this unbuffered stream
 * (glibc hands an unbuffered stream the whole formatted text at once) on
 * the logging thread, so the thread-local line and rte_log's current level
 * belong to the same message. */
static ssize_t sink_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	static __thread char line[ENG_LOG_LINE_MAX];
	static __thread size_t len;
	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n' || len == sizeof(line) - 1) {
			line[len] = '\0';
			emit(line);
			len = 0;
			if (buf[i] == '\n')
				continue;
		}
		line[len++] = buf[i];
	}
	return (ssize_t)size;
}

int eng_log_open(int target, int level, uint16_t node_id, const char *ident)
{
	eng_logtype = rte_log_register_type_and_pick_level("ordo", (uint32_t)(RTE_LOG_ERR + level));
	if (eng_logtype < 0)
		eng_logtype = RTE_LOGTYPE_USER1;
	pthread_mutex_lock(&lg.lock);
	lg.target = target;
	lg.level = level;
	lg.node_id = node_id;
	snprintf(lg.ident, sizeof(lg.ident), "%s", ident);
	if (target == ENG_LOG_TO_SYSLOG)
		openlog(lg.ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	if (lg.stream == NULL) {
		cookie_io_functions_t io = {.write = sink_write};
		lg.stream = fopencookie(NULL, "w", io);
		if (lg.stream != NULL)
			setvbuf(lg.stream, NULL, _IONBF, 0);
	}
	lg.open = lg.stream != NULL;
	pthread_mutex_unlock(&lg.lock);
	if (!lg.open)
		return -1;
	rte_openlog_stream(lg.stream);
	eng_log_levels();
	return 0;
}

void eng_log_levels(void)
{
	rte_log_set_level(eng_logtype, (uint32_t)(RTE_LOG_ERR + lg.level));
}

void eng_log_set_level(int level)
{
	pthread_mutex_lock(&lg.lock);
	lg.level = level;
	pthread_mutex_unlock(&lg.lock);
	eng_log_levels();
}

void eng_log_close(void)
{
	pthread_mutex_lock(&lg.lock);
	if (!lg.open) {
		pthread_mutex_unlock(&lg.lock);
		return;
	}
	for (int i = 0; i < ENG_LOG_KEYS; i++)
		flush_key(&lg.keys[i]);
	lg.open = 0;
	pthread_mutex_unlock(&lg.lock);
	rte_openlog_stream(NULL);
	if (lg.target == ENG_LOG_TO_SYSLOG)
		closelog();
	/* the stream stays: a DPDK thread may still hold it */
}
