/* rp_assert.c — what a failed RP_ASSERT does when the driver says nothing
 * (rp.h, rp_assert_failed): trap. A weak definition, so that a driver's own
 * (the engine's: log the place, then abort) takes its place at link time.
 */
#include "rp.h"

__attribute__((weak, noreturn)) void rp_assert_failed(const char *file, unsigned line, const char *cond)
{
	(void)file;
	(void)line;
	(void)cond;
	__builtin_trap();
}
