/* ordo_perf_control.h — ordo-perf --control (apps/ordo_perf_control.c). */
#ifndef ORDO_PERF_CONTROL_H
#define ORDO_PERF_CONTROL_H

#include "perf_common.h"

/* Runs the control role cli->control on the node at sock; writes
 * cli->json. Returns the exit status: 0, 1 (failed or incomplete), 2 (bad
 * arguments), 3 (timed out). Main thread; installs SIGINT, SIGTERM and
 * SIGUSR1 (publish the END) handlers. */
int ordo_perf_control(const struct perf_config *cfg, const struct perf_cli *cli, const char *sock);

#endif
