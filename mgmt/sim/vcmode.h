/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VC mode of `cvmm sim` (--kernel or --vc, no COMMAND): the emulated nodes
 * are the nodes of one virtual computer, and node I runs
 * `cvmm node --vc FILE --id I`. The VC file is written into the run
 * directory, which the nodes see at the same path.
 */
#ifndef CVMM_MGMT_SIM_VCMODE_H
#define CVMM_MGMT_SIM_VCMODE_H

#include <stddef.h>

#include "mgmt/launch/guest-check.h"
#include "mgmt/sim/opts.h"
#include "mgmt/vc/vc.h"

/* Room a node's guest RAM needs beyond the guest's: its kernel, initramfs, agent, cvmm. */
#define SIM_VC_NODE_OWN (1ull << 30)
#define SIM_VC_KVM_AMD	"npt=0" /* i386 guests hang under nested paging in a TCG node */
#define SIM_VC_ARGC	6	/* cvmm node --vc FILE --id I */

/*
 * Builds the VC of o->vc with node i at 10.77.0.(i+1), then sets what
 * follows from it and the user left open: --nodes (the file's count),
 * --node-cpus (the most vCPUs a node runs, at most 8), --node-mem (guest RAM + SIM_VC_NODE_OWN: a node maps the whole guest RAM
 * and may come to hold a copy of any page), --kvm-amd, and --rdma for an
 * rdma transport. Returns 0, or -errno with a message naming the option or
 * field in err. Reads the --vc file; otherwise pure.
 */
int sim_vc_prepare(struct sim_opts *o, struct vc *vc, char *err, size_t errlen);

/*
 * Makes the guest's kernel and initrd paths absolute (the nodes see host
 * files at their host paths, from whatever directory) and checks that they
 * can be read. Returns 0, or -errno with a message in err.
 */
int sim_vc_resolve_guest(const struct sim_opts *o, struct vc *vc, char *err, size_t errlen);

/* The command of node id: argv[0..SIM_VC_ARGC-1] and a NULL; idbuf holds the id. */
void sim_vc_argv(const char *vc_path, unsigned int id, char *idbuf, size_t idlen,
		 const char **argv);

/*
 * --check: the status of a VC-mode run whose launcher result is sim_result,
 * from what the I/O node's console (its cvmm node's stdout) showed c
 * (guest-check.h). The sim's own --timeout (124) is the guest's timeout
 * here, as cvmm run's: 6, or 10 when init never started. Says what was
 * expected and what the guest showed in one line on stderr.
 */
int sim_vc_check(struct guest_check *c, int sim_result);

#endif
