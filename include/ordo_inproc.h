/* ordo_inproc.h — in-process mode of the ordo client API
 * (libordo-inproc: pkg-config ordo-inproc).
 *
 * The engine runs inside the application: its EAL, its ports and its
 * worker lcore are the process's own, and clients attach with a direct
 * call instead of a daemon's control socket (docs/attach.md §1). Everything
 * else is ordo.h: libordo-inproc implements all of ordo.h as well, so a
 * program links either libordo (a daemon's client, libc only) or
 * libordo-inproc (the engine, DPDK, liburcu and libcrypto with it), never
 * both. A client of an in-process engine may still attach other clients
 * through the engine's control socket ([node] socket).
 *
 * No function here is called from a callback.
 */
#ifndef ORDO_INPROC_H
#define ORDO_INPROC_H

#include "ordo.h"

#ifdef __cplusplus
extern "C" {
#endif

struct ordo_engine;

/* Starts an engine inside this process from an ordod configuration file
 * (the EAL, the ports and the worker lcore are the process's own; the
 * configuration's [eal] lcores must give the worker an lcore besides the
 * main one). One engine per process, started once (the EAL cannot be
 * started again after ordo_engine_stop; a start that failed before the EAL
 * was reached, e.g. on a bad configuration, may be retried). Blocks until
 * the worker runs. One application thread. */
int ordo_engine_start(const char *config_file, struct ordo_engine **out);

/* Attaches to an in-process engine: the same rings, no socket. Any thread. */
int ordo_attach_engine(struct ordo_engine *e, const struct ordo_client_opts *opts, struct ordo_client **out);

/* Leaves the ring politely and stops the engine; every client still
 * attached is detached (ORDO_EDETACHED). Blocks until the worker has
 * stopped; removes the EAL's runtime directory. The thread that started
 * it. */
void ordo_engine_stop(struct ordo_engine *e);

#ifdef __cplusplus
}
#endif

#endif
