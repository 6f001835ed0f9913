/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `cvmm run --nodes K`, local mode: a virtual computer of K `cvmm node`
 * processes on this host (docs/man/cvmm-run.md, LOCAL MODE).
 */
#ifndef CVMM_MGMT_LAUNCH_LOCAL_H
#define CVMM_MGMT_LAUNCH_LOCAL_H

#include "mgmt/launch/local-opts.h"

/* Launcher failures of its own (no node could be started): as cvmm sim's. */
#define LOCAL_EXIT_LAUNCH 125

/*
 * Runs `cvmm run` in local mode (argv[0] is "run"); returns its exit status.
 * Called by cmd_run() when local_opts_wanted() says so.
 */
int local_run(int argc, char **argv);

#endif
