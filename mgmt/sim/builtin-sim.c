// SPDX-License-Identifier: GPL-2.0
/* `cvmm sim`: run a command on an emulated cluster of KVM nodes. */
#include <stdio.h>

#include "cvmm/commands.h"
#include "cvmm/lib/log.h"
#include "mgmt/sim/launcher.h"
#include "mgmt/sim/opts.h"
#include "mgmt/sim/run.h"
#include "mgmt/sim/vcmode.h"

int cmd_sim(int argc, char **argv)
{
	static struct vc vc; /* VC mode; about 20 KiB */
	struct sim_opts opts;
	char err[600];
	int ret;

	ret = sim_opts_parse(argc, argv, &opts, err, sizeof(err));
	if (ret == SIM_OPTS_HELP) {
		fputs(sim_usage, stdout);
		return 0;
	}
	if (ret) {
		pr_err("%s", err);
		return SIM_EXIT_USAGE;
	}
	log_set_verbose(opts.verbose);
	if (opts.vc_mode && (sim_vc_prepare(&opts, &vc, err, sizeof(err)) ||
			     sim_vc_resolve_guest(&opts, &vc, err, sizeof(err)))) {
		pr_err("%s", err);
		return SIM_EXIT_USAGE;
	}
	return sim_run(&opts, opts.vc_mode ? &vc : NULL);
}
