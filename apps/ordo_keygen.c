/* ordo-keygen — writes a cluster key file (docs/security.md §5).
 *
 * Owns: making a key: ENG_CRYPTO_KEYGEN_SIZE random bytes from the kernel
 * (getrandom, blocking until its pool is initialised), written to a new
 * file of mode 0400 in the target's directory, flushed to disk and renamed
 * over the target (so a node reloading its key never reads half a file);
 * printing a key file's fingerprint, to compare the nodes' keys without
 * showing them.
 *
 * Never: overwrites a key without -f; writes the key anywhere else (no
 * stdout); leaves a temporary file behind.
 *
 * Exit status: 0 done, 1 bad usage, 2 the key could not be made or read.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eng_crypto.h"

#define DEFAULT_KEY "/etc/ordo/authkey"

static void usage(FILE *out)
{
	fprintf(out, "usage: ordo-keygen [-o FILE] [-f]     write a new cluster key (default " DEFAULT_KEY ")\n"
		     "       ordo-keygen --show FILE         print a key file's fingerprint and epoch\n"
		     "  -o FILE   where to write it (mode 0400; copy it to every node of the ring)\n"
		     "  -f        replace an existing key file (a live rotation: docs/security.md)\n");
}

static int show(const char *path)
{
	uint8_t key[ENG_CRYPTO_KEY_MAX];
	char err[512];
	int n = eng_crypto_read_key(path, key, sizeof(key), err, sizeof(err));
	if (n < 0) {
		fprintf(stderr, "ordo-keygen: %s\n", err);
		return 2;
	}
	uint64_t fp;
	uint16_t epoch;
	int rc = eng_crypto_key_id(key, (size_t)n, &fp, &epoch);
	memset(key, 0, sizeof(key));
	if (rc != 0) {
		fprintf(stderr, "ordo-keygen: libcrypto could not derive the key's fingerprint\n");
		return 2;
	}
	printf("%s: %d bytes, fingerprint %016llx, epoch %04x\n", path, n, (unsigned long long)fp, epoch);
	return 0;
}

static int fill_random(uint8_t *b, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom(b + got, n - got, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int write_key(const char *path, int force)
{
	struct stat st;
	if (!force && lstat(path, &st) == 0) {
		fprintf(stderr, "ordo-keygen: %s exists; -f replaces it (every node must then get the new key)\n", path);
		return 2;
	}
	uint8_t key[ENG_CRYPTO_KEYGEN_SIZE];
	if (fill_random(key, sizeof(key)) != 0) {
		fprintf(stderr, "ordo-keygen: getrandom: %s\n", strerror(errno));
		return 2;
	}
	char tmp[4096];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp)) {
		fprintf(stderr, "ordo-keygen: %s: path too long\n", path);
		return 2;
	}
	mode_t old = umask(0377);
	int fd = mkstemp(tmp);
	umask(old);
	if (fd < 0) {
		fprintf(stderr, "ordo-keygen: cannot create a file next to %s: %s%s\n", path, strerror(errno),
			errno == ENOENT ? " (its directory does not exist: mkdir -p it first)" : "");
		memset(key, 0, sizeof(key));
		return 2;
	}
	int ok = fchmod(fd, 0400) == 0 && write(fd, key, sizeof(key)) == (ssize_t)sizeof(key) && fsync(fd) == 0;
	int e = errno;
	ok = close(fd) == 0 && ok;
	if (ok && rename(tmp, path) != 0) {
		e = errno;
		ok = 0;
	}
	if (!ok) {
		fprintf(stderr, "ordo-keygen: cannot write %s: %s\n", path, strerror(e));
		(void)unlink(tmp);
		memset(key, 0, sizeof(key));
		return 2;
	}
	uint64_t fp = 0;
	uint16_t epoch = 0;
	(void)eng_crypto_key_id(key, sizeof(key), &fp, &epoch);
	memset(key, 0, sizeof(key));
	printf("%s: new key, %zu bytes, fingerprint %016llx, epoch %04x\n", path, sizeof(key),
	       (unsigned long long)fp, epoch);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{"show", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	const char *out = DEFAULT_KEY;
	int force = 0, opt;
	while ((opt = getopt_long(argc, argv, "o:fh", longs, NULL)) != -1) {
		switch (opt) {
		case 'o': out = optarg; break;
		case 'f': force = 1; break;
		case 's': return show(optarg);
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1; /* getopt said which argument */
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ordo-keygen: unknown argument '%s'\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	return write_key(out, force);
}
