/* eng_state.c — the node's state directory: its incarnation and the ring
 * state ring-proto asks to persist (docs/design.md §5 "Restarts").
 *
 * Owns: two small text files in state_dir, each replaced atomically (write
 * a temporary file, fsync it, rename it over the old one, fsync the
 * directory):
 *   incarnation   the last start's incarnation
 *   ring          ring_seq, the last attempted and installed primary rings
 *   counter       the frame counters' reservation (docs/security.md §3)
 * and 'lock', which the process holds an exclusive flock(2) on from
 * eng_state_start until it ends or eng_state_stop (the PID of its holder
 * written in it, for the message only): a second process on the same
 * directory would read the same incarnation, counter reservation and ring
 * ids, so it is refused (docs/ordod.md state_dir).
 * An incarnation is larger than every earlier one of this node: the stored
 * one + 1, or the wall clock in microseconds if larger (so that a wiped
 * state directory still gives a new incarnation), plus a random part
 * (eng_crypto_incarnation: two processes with one id must not share a
 * frame key, docs/security.md §3).
 *
 * Never: starts a node whose state it could not read or write (ring ids must
 * never repeat, corosync 3675dace); a corrupt file is an error naming it.
 */
#include "eng.h"
#include "eng_crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int write_file(const char *dir, const char *name, const char *text)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	ssize_t w = write(fd, text, len);
	int rc = (w == (ssize_t)len && fsync(fd) == 0) ? 0 : -(errno ? errno : EIO);
	close(fd);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc == 0) {
		int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			(void)fsync(dfd);
			close(dfd);
		}
	}
	return rc;
}

/* Reads "key value" lines of name into the callback's fields; 1 if the file
 * does not exist, 0 if read, -1 if corrupt. */
static int read_file(const char *dir, const char *name, char *buf, size_t size)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return errno == ENOENT ? 1 : -1;
	size_t n = fread(buf, 1, size - 1, f);
	int bad = ferror(f) || n == size - 1;
	fclose(f);
	buf[n] = '\0';
	return bad ? -1 : 0;
}

static int get_field(const char *text, const char *key, uint64_t *out)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "%s ", key);
	for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (strncmp(p, pat, strlen(pat)) == 0)
			return sscanf(p + strlen(pat), "%" SCNu64, out) == 1 ? 0 : -1;
	}
	return -1;
}

/* Reads the one field key of file name (a file this module wrote with one
 * line): 0 with *out set, or left as it is if the file does not exist; -EIO
 * with err naming the file and what an operator may do (advice) if it is
 * unreadable or corrupt. Control thread, at start. */
static int read_one_field(const char *dir, const char *name, const char *key, uint64_t *out,
			  const char *advice, char *err, size_t err_size)
{
	char text[1024];
	int rc = read_file(dir, name, text, sizeof(text));
	if (rc < 0 || (rc == 0 && get_field(text, key, out) != 0)) {
		snprintf(err, err_size, "state_dir %s: file '%s' is unreadable or corrupt (%s)", dir, name, advice);
		return -EIO;
	}
	return 0;
}

/* mkdir -p: every missing parent too (mode 0755). */
static int mkdir_parents(const char *path)
{
	char p[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof(p))
		return -ENAMETOOLONG;
	memcpy(p, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char keep = p[i];
		p[i] = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return -errno;
		p[i] = keep;
	}
	return 0;
}

/* The open file description holding the state directory's lock; -1 if none. */
static int lock_fd = -1;

/* The error for a state directory whose lock another process holds, naming
 * that process if it wrote its PID (read only for the message). */
static void lock_held_error(int fd, const char *dir, char *err, size_t err_size)
{
	char pid[24] = "";
	ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
	pid[n > 0 ? n : 0] = '\0';
	size_t digits = strspn(pid, "0123456789");
	pid[digits] = '\0';
	snprintf(err, err_size,
		 "state_dir %s is in use by %s%s%s: two processes must never share a state directory "
		 "(their incarnations, frame counters and ring ids would repeat); stop that one or give this "
		 "node its own [node] state_dir",
		 dir, digits > 0 ? "process " : "another process", pid,
		 digits > 0 ? ", which holds its lock" : " (it holds its lock)");
}

/* Takes the exclusive lock on dir/lock (kept open, close-on-exec, until the
 * process ends or eng_state_stop) and writes this process's PID into it. */
static int lock_state_dir(const char *dir, char *err, size_t err_size)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;
		snprintf(err, err_size, "state_dir %s: cannot open 'lock': %s", dir, strerror(e));
		return -e;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		if (e == EWOULDBLOCK)
			lock_held_error(fd, dir, err, err_size);
		else
			snprintf(err, err_size, "state_dir %s: cannot lock 'lock': %s", dir, strerror(e));
		close(fd);
		return -e;
	}
	char pid[24];
	int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
		int e = errno ? errno : EIO;
		snprintf(err, err_size, "state_dir %s: cannot write 'lock': %s", dir, strerror(e));
		close(fd);
		return -e;
	}
	lock_fd = fd;
	return 0;
}

void eng_state_stop(void)
{
	if (lock_fd >= 0)
		close(lock_fd);
	lock_fd = -1;
}

int eng_state_start(struct eng_config *c, char *err, size_t err_size)
{
	int mk = mkdir_parents(c->state_dir);
	if (mk != 0) {
		snprintf(err, err_size, "state_dir %s: cannot create: %s", c->state_dir, strerror(-mk));
		return mk;
	}
	if ((mk = lock_state_dir(c->state_dir, err, err_size)) != 0)
		return mk;
	char text[1024];
	uint64_t last_inc = 0;
	int rc = read_one_field(c->state_dir, "incarnation", "incarnation", &last_inc,
				"remove it only if this node's old incarnations are gone from every ring", err, err_size);
	if (rc != 0)
		return rc;
	rc = read_file(c->state_dir, "ring", text, sizeof(text));
	if (rc < 0) {
		snprintf(err, err_size, "state_dir %s: file 'ring' is unreadable", c->state_dir);
		return -EIO;
	}
	if (rc == 0) {
		uint64_t rs, lp_seq, lp_rep, lp_m, ip_seq, ip_rep, ip_m;
		if (get_field(text, "ring_seq", &rs) != 0 || get_field(text, "last_primary_seq", &lp_seq) != 0 ||
		    get_field(text, "last_primary_rep", &lp_rep) != 0 ||
		    get_field(text, "last_primary_members", &lp_m) != 0 ||
		    get_field(text, "installed_primary_seq", &ip_seq) != 0 ||
		    get_field(text, "installed_primary_rep", &ip_rep) != 0 ||
		    get_field(text, "installed_primary_members", &ip_m) != 0 || lp_rep > RP_NODES_MAX ||
		    ip_rep > RP_NODES_MAX) {
			snprintf(err, err_size, "state_dir %s: file 'ring' is corrupt", c->state_dir);
			return -EIO;
		}
		c->rp.ring_seq = rs;
		c->rp.last_primary = (struct rp_ring_id){.seq = lp_seq, .rep = (uint16_t)lp_rep};
		c->rp.last_primary_members = lp_m;
		c->rp.installed_primary = (struct rp_ring_id){.seq = ip_seq, .rep = (uint16_t)ip_rep};
		c->rp.installed_primary_members = ip_m;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t clock_us = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	uint32_t r;
	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		snprintf(err, err_size, "getrandom: %s (the incarnation's random part)", strerror(errno));
		return -EIO;
	}
	c->rp.incarnation = eng_crypto_incarnation(last_inc, clock_us, r);
	snprintf(text, sizeof(text), "incarnation %" PRIu64 "\n", c->rp.incarnation);
	rc = write_file(c->state_dir, "incarnation", text);
	if (rc != 0) {
		snprintf(err, err_size, "state_dir %s: cannot write 'incarnation': %s", c->state_dir,
			 strerror(-rc));
		return rc;
	}
	return 0;
}

int eng_state_persist(const struct eng_config *c, const struct rp_persist *p)
{
	char text[512];
	snprintf(text, sizeof(text),
		 "ring_seq %" PRIu64 "\nlast_primary_seq %" PRIu64 "\nlast_primary_rep %u\n"
		 "last_primary_members %" PRIu64 "\ninstalled_primary_seq %" PRIu64
		 "\ninstalled_primary_rep %u\ninstalled_primary_members %" PRIu64 "\n",
		 p->ring_seq, p->last_primary.seq, p->last_primary.rep, p->last_primary_members,
		 p->installed_primary.seq, p->installed_primary.rep, p->installed_primary_members);
	return write_file(c->state_dir, "ring", text);
}

/* The frame counter's reservation (docs/security.md §3): file 'counter'
 * holds the first counter no start may use yet. */
int eng_state_counter_start(const struct eng_config *c, uint64_t per_us, uint64_t reserve, uint64_t *start,
			    uint64_t *limit, char *err, size_t err_size)
{
	uint64_t reserved = 0;
	int rc = read_one_field(c->state_dir, "counter", "counter_reserved", &reserved,
				"frame counters must never repeat under one key: remove it only together with a new key",
				err, err_size);
	if (rc != 0)
		return rc;
	uint64_t from_inc = c->rp.incarnation <= UINT64_MAX / per_us ? c->rp.incarnation * per_us : UINT64_MAX;
	*start = reserved > from_inc ? reserved : from_inc;
	if (*start > UINT64_MAX - reserve) {
		snprintf(err, err_size, "state_dir %s: the frame counter is exhausted (%" PRIu64 "): make a new key and remove 'counter'",
			 c->state_dir, *start);
		return -ERANGE;
	}
	*limit = *start + reserve;
	rc = eng_state_counter_reserve(c, *limit);
	if (rc != 0) {
		snprintf(err, err_size, "state_dir %s: cannot write 'counter': %s", c->state_dir, strerror(-rc));
		return rc;
	}
	return 0;
}

int eng_state_counter_reserve(const struct eng_config *c, uint64_t limit)
{
	char text[64];
	snprintf(text, sizeof(text), "counter_reserved %" PRIu64 "\n", limit);
	return write_file(c->state_dir, "counter", text);
}
