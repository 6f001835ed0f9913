/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exit status of a whole virtual computer, from how each node's
 * `cvmm node` ended: what `cvmm run --nodes` and `cvmm sim --kernel` return.
 * Pure, so the rules are unit-tested (tests/unit/test-launch-local.c).
 *
 * The I/O node's status is the guest's result (0 poweroff, 3 reset, 6
 * timeout, ...), unless a node failed, which then explains the others'
 * failures and is named:
 *   1. a node killed by a signal the launcher did not send (a crash, the OOM
 *      killer): its status, 128 + the signal;
 *   2. the I/O node says a peer failed (8): the first other node that ended
 *      with a status of its own (neither 0 nor 8), else the first that ended
 *      with 8 too;
 *   3. the guest ended well (the I/O node's 0) but another node did not (a
 *      DSM that did not shut down cleanly, 8): the first such node.
 * Otherwise, e.g. the I/O node refused its input (1) and its peers then
 * timed out waiting for it (8), the I/O node's status stands.
 */
#ifndef CVMM_MGMT_LAUNCH_VERDICT_H
#define CVMM_MGMT_LAUNCH_VERDICT_H

#include <stdbool.h>

#include "mgmt/vc/vc.h"

/* `cvmm node`'s status when a peer node failed (docs/man/cvmm-node.md). */
#define VC_NODE_PEER_FAILED 8

struct vc_node_end {
	bool ended;	  /* the node's `cvmm node` ended and status is known */
	int status;	  /* its exit code, or 128 + the signal that killed it */
	bool signaled;	  /* killed by a signal */
	bool by_launcher; /* ... that the launcher sent (or forwarded) */
};

struct vc_verdict {
	int status;  /* the launcher's exit status */
	int culprit; /* the node named as failed, or -1 */
};

void vc_verdict(const struct vc_node_end *end, unsigned int nnodes, unsigned int io_node,
		struct vc_verdict *v);

/* One line saying which node failed and how, e.g. "node1 was killed by signal 9". */
void vc_verdict_describe(const struct vc_node_end *end, const struct vc_verdict *v, char *buf,
			 size_t len);

#endif
