/* cpg_control.h — cpg-perf --control (bench/cpg_control.c). */
#ifndef CPG_CONTROL_H
#define CPG_CONTROL_H

#include "perf_common.h"

/* Runs the control role cli->control against the corosync of this network
 * namespace; writes cli->json. Returns the exit status: 0, 1 (failed or
 * incomplete), 2 (bad arguments), 3 (timed out). Main thread; installs
 * SIGINT, SIGTERM and SIGUSR1 (publish the END) handlers. */
int cpg_perf_control(const struct perf_config *cfg, const struct perf_cli *cli);

#endif
