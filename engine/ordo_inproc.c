/* ordo_inproc.c — in-process mode (include/ordo_inproc.h: ordo_engine_start,
 * ordo_attach_engine, ordo_engine_stop; docs/attach.md §1): the engine
 * runs inside the application, its worker on an EAL lcore of its own, and
 * clients attach with a direct call instead of the control socket. The
 * rings and records are the same as in daemon mode.
 *
 * Owns: the process's one engine (EAL start, state directory, the worker's
 * launch and stop).
 *
 * Never: starts a second engine in a process (the EAL allows one).
 *
 * Thread context: ordo_engine_start/stop from one application thread;
 * ordo_attach_engine from any thread (the control plane serialises it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_log.h>

#include "eng.h"
#include "eng_clients.h"
#include "ordo_inproc.h"
#include "ordo_client_internal.h"
#include "pmdg.h"

struct ordo_engine {
	struct eng *e;
	struct eng_config cfg;
	unsigned lcore;
	volatile int stop;
};

static int engine_started;

static int worker_main(void *arg)
{
	struct ordo_engine *oe = arg;
	eng_run(oe->e, &oe->stop);
	return 0;
}

int ordo_engine_start(const char *config_file, struct ordo_engine **out)
{
	*out = NULL;
	if (__atomic_exchange_n(&engine_started, 1, __ATOMIC_ACQ_REL))
		return ORDO_EINVAL; /* one engine per process */
	struct ordo_engine *oe = calloc(1, sizeof(*oe));
	if (oe == NULL)
		return ORDO_ENOMEM;
	char err[512];
	if (eng_config_load(config_file, &oe->cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "ordo: config: %s\n", err);
		free(oe);
		__atomic_store_n(&engine_started, 0, __ATOMIC_RELEASE); /* nothing started: try again */
		return ORDO_EINVAL;
	}
	char *argv[64];
	static char buf[4096];
	int argc = eng_config_eal_argv(&oe->cfg, "ordo-inproc", argv, 64, buf, sizeof(buf));
	if (argc < 0) {
		fprintf(stderr, "ordo: config: [eal]: too many EAL arguments\n");
		free(oe);
		__atomic_store_n(&engine_started, 0, __ATOMIC_RELEASE);
		return ORDO_EINVAL;
	}
	(void)eng_log_open(oe->cfg.log_target, oe->cfg.log_level, oe->cfg.rp.node_id, "ordo");
	if (pmdg_eal_init(argc, argv, err, sizeof(err)) != 0) {
		fprintf(stderr, "ordo: %s\n", err);
		free(oe);
		return ORDO_EINVAL; /* the EAL may be half started: no second try */
	}
	eng_log_levels();
	oe->lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	if (oe->lcore >= RTE_MAX_LCORE) {
		fprintf(stderr, "ordo: in-process mode needs a worker lcore besides the main one ([eal] lcores, e.g. 0@(0-1),1@(0-1))\n");
		pmdg_eal_cleanup();
		free(oe);
		return ORDO_EINVAL;
	}
	if (eng_state_start(&oe->cfg, err, sizeof(err)) != 0 ||
	    (oe->e = eng_create(&oe->cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ordo: %s\n", err);
		eng_state_stop();
		pmdg_eal_cleanup();
		free(oe);
		return ORDO_EINVAL;
	}
	if (rte_eal_remote_launch(worker_main, oe, oe->lcore) != 0) {
		eng_destroy(oe->e);
		eng_state_stop();
		pmdg_eal_cleanup();
		free(oe);
		return ORDO_EINVAL;
	}
	*out = oe;
	return ORDO_OK;
}

static void inproc_detach(struct ordo_client *c)
{
	/* after ordo_engine_stop the engine is gone; the region (our own
	 * mapping) says so */
	if (c->engine != NULL &&
	    atomic_load_explicit(&c->hdr->state, memory_order_acquire) != ATT_STATE_ENGINE_STOPPED)
		eng_control_detach(c->engine->e, c->self.client);
}

int ordo_attach_engine(struct ordo_engine *oe, const struct ordo_client_opts *opts, struct ordo_client **out)
{
	*out = NULL;
	if (oe == NULL || oe->stop)
		return ORDO_EDETACHED;
	struct att_hello h;
	ordo_hello_fill(&h, opts);
	int err;
	struct eng_client *ec = eng_control_attach(oe->e, &h, -1, &err);
	if (ec == NULL)
		return err;
	struct ordo_client *c = ordo_client_new(opts);
	int mem_fd = dup(ec->mem_fd), event_fd = dup(ec->event_fd), doorbell_fd = dup(eng_doorbell_fd(oe->e));
	if (c == NULL || mem_fd < 0 || event_fd < 0 || doorbell_fd < 0) {
		if (mem_fd >= 0)
			close(mem_fd);
		if (event_fd >= 0)
			close(event_fd);
		if (doorbell_fd >= 0)
			close(doorbell_fd);
		free(c);
		eng_control_detach(oe->e, ec->id);
		return ORDO_ENOMEM;
	}
	int rc = ordo_client_map(c, mem_fd, event_fd, doorbell_fd, ec->region_size);
	if (rc != ORDO_OK) {
		ordo_client_free(c);
		eng_control_detach(oe->e, ec->id);
		return rc;
	}
	c->engine = oe;
	c->detach_hook = inproc_detach;
	*out = c;
	return ORDO_OK;
}

void ordo_engine_stop(struct ordo_engine *oe)
{
	if (oe == NULL)
		return;
	oe->stop = 1;
	rte_eal_wait_lcore(oe->lcore);
	eng_destroy(oe->e);
	eng_state_stop();
	pmdg_eal_cleanup();
	eng_log_close();
	free(oe);
	__atomic_store_n(&engine_started, 0, __ATOMIC_RELEASE);
}
