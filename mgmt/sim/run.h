/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CVMM_MGMT_SIM_RUN_H
#define CVMM_MGMT_SIM_RUN_H

#include "mgmt/sim/opts.h"
#include "mgmt/vc/vc.h"

/*
 * Builds or reuses the node image, boots the nodes, runs the command (in VC
 * mode, vc not NULL: node I's `cvmm node --vc FILE --id I`) and stops every
 * node. Returns the exit status for `cvmm sim` (see sim_usage).
 */
int sim_run(const struct sim_opts *opts, const struct vc *vc);

#endif
