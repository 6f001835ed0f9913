/* SPDX-License-Identifier: GPL-2.0 */
/* `cvmm sim` command-line options: parsing and validation, no side effects. */
#ifndef CVMM_MGMT_SIM_OPTS_H
#define CVMM_MGMT_SIM_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mgmt/launch/vcspec.h"

#define SIM_MAX_NODES	  16
#define SIM_MAX_NODE_CPUS 8
#define SIM_MIN_NODE_MEM  (256ull << 20)
#define SIM_MAX_SHARES	  8
/* Host memory a node's QEMU needs beyond its guest RAM (TCG code cache, devices). */
#define SIM_NODE_OVERHEAD (384ull << 20)

struct sim_opts {
	unsigned int nodes;
	unsigned int node_cpus;
	uint64_t node_mem;
	bool rdma;
	bool all;		   /* run the command on every node, not only node 0 */
	bool verbose;		   /* copy node consoles to stderr */
	bool keep;		   /* keep the run directory (logs) even on success */
	unsigned int boot_timeout; /* seconds for all nodes to come up */
	unsigned int timeout;	   /* seconds for the command; 0: none */
	const char *cache_dir;	   /* NULL: $CVMM_CACHE or ~/.cache/cvmm */
	const char *kvm_amd;	   /* kvm_amd module parameters, e.g. "npt=0" */
	const char *secret;	   /* --secret: the agents also serve cvmmctl */
	const char *shares[SIM_MAX_SHARES];
	unsigned int nshares;
	/*
	 * --pxe: nodes boot over the network (mgmt/sim/pxe.h) with the iPXE
	 * ROM pxe_rom (NULL: found in ipxe-qemu's directories) from a server
	 * on 127.0.0.1:pxe_port (0: a free port).
	 */
	bool pxe;
	const char *pxe_rom;
	unsigned int pxe_port;
	char **argv; /* the command; NULL-terminated; NULL in VC mode */
	int argc;
	/*
	 * VC mode (--kernel or --vc, no COMMAND): `cvmm node` of a virtual
	 * computer on every node. sim_vc_prepare() (vcmode.h) fills in the
	 * defaults that depend on the VC.
	 */
	bool vc_mode;
	struct vc_spec vc;
	bool check; /* --check: the guest's init lines against the VC (vcmode.h) */
	bool nodes_given, node_cpus_given, node_mem_given;
};

enum sim_opts_result {
	SIM_OPTS_OK = 0,
	SIM_OPTS_HELP = 1,
};

/*
 * Parses argv (argv[0] is "sim"). Returns SIM_OPTS_OK, SIM_OPTS_HELP, or
 * -EINVAL with a one-line message naming the bad option in err.
 */
int sim_opts_parse(int argc, char **argv, struct sim_opts *o, char *err, size_t errlen);

/*
 * Checks that K nodes fit in avail bytes of host memory. Returns 0, or
 * -ENOMEM with a message saying how much is needed and how much is there.
 */
int sim_opts_check_memory(const struct sim_opts *o, uint64_t avail, char *err, size_t errlen);

extern const char sim_usage[];

#endif
