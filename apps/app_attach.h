/* app_attach.h — how the client tools (ordo-pub, ordo-sub, ordo-kv,
 * ordo-perf, and tests/integration's ordo-it-recv) attach to a node: with
 * their options, and when the node cannot be reached they say so the same
 * way, "<o->name>: attach <socket>: <reason>" on stderr.
 *
 * Header-only, libordo (include/ordo.h) and libc only. */
#ifndef APP_ATTACH_H
#define APP_ATTACH_H

#include <stdio.h>
#include <unistd.h>

#include "ordo.h"

/* The attached client, or NULL after saying why not. */
static inline struct ordo_client *app_attach(const char *sock, const struct ordo_client_opts *o)
{
	struct ordo_client *c;
	int rc = ordo_attach(sock, o, &c);
	if (rc != ORDO_OK) {
		/* no node there: say where to look for one */
		int none = rc == ORDO_ECONNECT && access(sock, F_OK) != 0;
		fprintf(stderr, "%s: attach %s: %s%s\n", o->name, sock, ordo_strerror(rc),
			none ? " (no such socket: is ordod running? ordoctl status --all lists this host's nodes; "
			       "-s names another socket)" : "");
		return NULL;
	}
	return c;
}

#endif
