/* fuzz_config.c — libFuzzer target for the engine's configuration parser
 * (engine/eng_config.c over DPDK's rte_cfgfile): any bytes as a
 * configuration file must give a configuration or one error line, never a
 * crash, a leak or undefined behaviour. The input goes through a file
 * because that is what the parser reads (a memory file: no disk I/O).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "eng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("ordo-fuzz-config", 0);
		if (fd < 0)
			return 0;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		return 0;
	static struct eng_config c;
	char err[512];
	err[0] = '\0';
	if (eng_config_load(path, &c, err, sizeof(err)) != 0) {
		/* one line, and it says something */
		if (err[0] == '\0' || strchr(err, '\n') != NULL)
			__builtin_trap();
		return 0;
	}
	char *argv[64], buf[4096];
	(void)eng_config_eal_argv(&c, "ordod", argv, 64, buf, sizeof(buf));
	return 0;
}
