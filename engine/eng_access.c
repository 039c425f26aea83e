/* eng_access.c — who may attach (docs/security.md §7): the control
 * socket's mode, and the users and groups of [node] socket_user,
 * socket_group, allow_users and allow_groups resolved to ids. libc only:
 * the configuration library checks the keys with it, the control thread
 * resolves them with it when it makes the socket.
 *
 * Never: accepts a name that does not resolve, a negative or oversized id,
 * or more than the caller's maximum of entries.
 */
#include "eng.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One name or numeric id; 0 with *id, or -1. */
static int resolve_one(const char *name, int groups, uint32_t *id)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(name, &end, 10);
	if (name[0] >= '0' && name[0] <= '9' && *end == '\0' && errno == 0 && v < UINT32_MAX) {
		*id = (uint32_t)v;
		return 0;
	}
	char buf[4096];
	if (groups) {
		struct group g, *r = NULL;
		if (getgrnam_r(name, &g, buf, sizeof(buf), &r) != 0 || r == NULL)
			return -1;
		*id = (uint32_t)g.gr_gid;
	} else {
		struct passwd p, *r = NULL;
		if (getpwnam_r(name, &p, buf, sizeof(buf), &r) != 0 || r == NULL)
			return -1;
		*id = (uint32_t)p.pw_uid;
	}
	return 0;
}

int eng_resolve_ids(const char *list, int groups, uint32_t *out, uint32_t max, char *why, size_t why_size)
{
	uint32_t n = 0;
	for (const char *p = list; *p != '\0';) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, ", ");
		if (len == 0)
			break;
		char name[256];
		if (len >= sizeof(name)) {
			snprintf(why, why_size, "a name longer than %zu characters", sizeof(name) - 1);
			return -1;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		if (n == max) {
			snprintf(why, why_size, "more than %u entries", max);
			return -1;
		}
		if (resolve_one(name, groups, &out[n]) != 0) {
			snprintf(why, why_size, "no %s named '%s' on this machine", groups ? "group" : "user", name);
			return -1;
		}
		n++;
		p += len;
	}
	return (int)n;
}

int eng_socket_mode(const char *text)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(text, &end, 8);
	if (text[0] < '0' || text[0] > '7' || *end != '\0' || errno != 0 || v > 0777)
		return -1;
	return (int)v;
}
