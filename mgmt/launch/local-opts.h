/* SPDX-License-Identifier: GPL-2.0 */
/* `cvmm run --nodes K` (local mode) options: parsing and validation, no side effects. */
#ifndef CVMM_MGMT_LAUNCH_LOCAL_OPTS_H
#define CVMM_MGMT_LAUNCH_LOCAL_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mgmt/launch/vcspec.h"

struct local_opts {
	struct vc_spec vc;
	unsigned int timeout; /* --timeout for every node; 0: none */
	unsigned int port;    /* --port BASE: node i listens on BASE+i; 0: free ports */
	bool stats;
	bool verbose;
	bool check; /* --check: the guest's init lines against the VC (guest-check.h) */
};

enum { LOCAL_OPTS_OK = 0, LOCAL_OPTS_HELP = 1 };

/*
 * True when `cvmm run` arguments ask for local mode (--nodes), so that
 * builtin-run.c leaves everything else to its single-node path. Values of
 * options (e.g. --append "--nodes") are not mistaken for it.
 */
bool local_opts_wanted(int argc, char **argv);

/*
 * Parses argv (argv[0] is "run"). Returns LOCAL_OPTS_OK, LOCAL_OPTS_HELP, or
 * -EINVAL with a one-line message naming the option in err.
 */
int local_opts_parse(int argc, char **argv, struct local_opts *o, char *err, size_t errlen);

extern const char local_usage[];

#endif
