/* app_attach.h — how the client tools (ordo-pub, ordo-sub, ordo-kv,
 * ordo-perf, and tests/integration's ordo-it-recv) attach to a node: with
 * their options, and when the node cannot be reached they say so the same
 * way, "<o->name>: attach <socket>: <reason>" on stderr.
 *
 * Header-only, libordo (include/ordo.h) and libc only. */
#ifndef APP_ATTACH_H
#define APP_ATTACH_H

#include <stdio.h>

#include "ordo.h"

/* The attached client, or NULL after saying why not. */
static inline struct ordo_client *app_attach(const char *sock, const struct ordo_client_opts *o)
{
	struct ordo_client *c;
	int rc = ordo_attach(sock, o, &c);
	if (rc != ORDO_OK) {
		fprintf(stderr, "%s: attach %s: %s\n", o->name, sock, ordo_strerror(rc));
		return NULL;
	}
	return c;
}

#endif
