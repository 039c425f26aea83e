/* eng_keyfile.c — reading a cluster key file (docs/security.md §5): the
 * checks a key file must pass, shared by ordod's configuration (a bad key
 * file is a configuration error), the engine (start and reload) and
 * ordo-keygen --show. libc only: the configuration library links it.
 *
 * Never: follows a FIFO into a blocking open, reads more than
 * ENG_CRYPTO_KEY_MAX bytes, or accepts a file others may read or write.
 */
#include "eng_crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int eng_crypto_read_key(const char *path, uint8_t *key, size_t key_max, char *err, size_t err_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK); /* a FIFO must not block */
	if (fd < 0) {
		snprintf(err, err_size, "key file %s: %s%s", path, strerror(errno),
			 errno == ENOENT ? " (make one with ordo-keygen and copy it to every node)" : "");
		return -1;
	}
	struct stat st;
	int n = -1;
	if (fstat(fd, &st) != 0) {
		snprintf(err, err_size, "key file %s: %s", path, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		snprintf(err, err_size, "key file %s: not a regular file", path);
	} else if ((st.st_mode & 077) != 0) {
		snprintf(err, err_size, "key file %s: mode %04o lets others than its owner read or write it: chmod 0400 it (and make a new key if others could read it)",
			 path, (unsigned)(st.st_mode & 07777));
	} else if (st.st_size < (off_t)ENG_CRYPTO_KEY_MIN || st.st_size > (off_t)ENG_CRYPTO_KEY_MAX ||
		   (size_t)st.st_size > key_max) {
		snprintf(err, err_size, "key file %s: %lld bytes; a key has %u..%u bytes (ordo-keygen writes %u)", path,
			 (long long)st.st_size, ENG_CRYPTO_KEY_MIN, ENG_CRYPTO_KEY_MAX, ENG_CRYPTO_KEYGEN_SIZE);
	} else {
		size_t got = 0, want = (size_t)st.st_size;
		while (got < want) {
			ssize_t r = read(fd, key + got, want - got);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		if (got != want)
			snprintf(err, err_size, "key file %s: short read (%zu of %zu bytes)", path, got, want);
		else
			n = (int)got;
	}
	close(fd);
	return n;
}
