/* app_attach.h — how the client tools (ordo-pub, ordo-sub, ordo-kv,
 * ordo-perf, and tests/integration's ordo-it-recv) attach to a node: with
 * their options, and when the node cannot be reached they say so the same
 * way, "<o->name>: attach <socket>: <reason>" on stderr; and how the
 * receiving ones start (app_start).
 *
 * Header-only, libordo (include/ordo.h) and libc only. */
#ifndef APP_ATTACH_H
#define APP_ATTACH_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ordo.h"

/* The attached client, or NULL after saying why not. */
static inline struct ordo_client *app_attach(const char *sock, const struct ordo_client_opts *o)
{
	struct ordo_client *c;
	int rc = ordo_attach(sock, o, &c);
	if (rc != ORDO_OK) {
		/* no node there: say where to look for one */
		int why = errno, none = rc == ORDO_ECONNECT && access(sock, F_OK) != 0;
		fprintf(stderr, "%s: attach %s: %s%s%s%s\n", o->name, sock, ordo_strerror(rc),
			rc == ORDO_ECONNECT ? ": " : "", rc == ORDO_ECONNECT ? strerror(why) : "",
			none ? " (no such socket: is ordod running? ordoctl status --all lists this host's nodes; "
			       "-s names another socket)" : "");
		return NULL;
	}
	return c;
}

/* A receiving tool's start: stdout line-buffered (each line reaches a pipe
 * when printed), SIGINT and SIGTERM to on_signal (the tool's stop flag),
 * then the attach with the callbacks cb on ctx. The attached client; if the
 * node cannot be reached, the tool exits with status 1 after saying why. */
static inline struct ordo_client *app_start(const char *sock, const char *name, const struct ordo_callbacks *cb,
					    void *ctx, void (*on_signal)(int))
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	struct ordo_client_opts o = {.callbacks = cb, .ctx = ctx, .name = name};
	struct ordo_client *c = app_attach(sock, &o);
	if (c == NULL)
		exit(1);
	return c;
}

#endif
