/* fuzz_config.c — libFuzzer target for the engine's configuration parser
 * (engine/eng_config.c, libc only): any bytes as a configuration file must
 * give a configuration or one error line, never a crash, a leak or
 * undefined behaviour; a configuration it accepts, printed back as INI,
 * must load to the same configuration.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int parse(const char *data, size_t size, struct eng_config *c, char *err, size_t err_size)
{
	char *text = malloc(size + 1);
	if (text == NULL)
		return -2;
	memcpy(text, data, size);
	text[size] = '\0';
	err[0] = '\0';
	int rc = eng_config_parse(text, "fuzz", c, err, err_size);
	free(text);
	/* one line, and it says something */
	if (rc != 0 && (err[0] == '\0' || strchr(err, '\n') != NULL))
		__builtin_trap();
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (memchr(data, '\0', size) != NULL)
		return 0; /* eng_config_load refuses a NUL byte before parsing */
	static struct eng_config c, again;
	char err[512];
	if (parse((const char *)data, size, &c, err, sizeof(err)) != 0)
		return 0;
	char *argv[64], buf[4096];
	(void)eng_config_eal_argv(&c, "ordod", argv, 64, buf, sizeof(buf));
	char *printed = NULL;
	size_t printed_size = 0;
	FILE *f = open_memstream(&printed, &printed_size);
	if (f == NULL)
		return 0;
	eng_config_print(&c, f);
	fclose(f);
	if (parse(printed, printed_size, &again, err, sizeof(err)) != 0 || memcmp(&c, &again, sizeof(c)) != 0)
		__builtin_trap();
	free(printed);
	return 0;
}
