/* SPDX-License-Identifier: GPL-2.0 */
/*
 * `--check` of `cvmm run --nodes` and `cvmm sim`'s VC mode: what the guest's
 * /init printed on the console (guest-port/initramfs/init), compared with
 * the virtual computer it ran on, turned into one exit status per failure:
 *
 *   GUEST_CHECK_NO_BOOT    10  no "cvmm-guest: init" line: the kernel never
 *                              reached init (before it stopped or timed out)
 *   GUEST_CHECK_TIMEOUT     6  init ran but did not say "done" within
 *                              --timeout (cvmm's own timeout status)
 *   GUEST_CHECK_WRONG_CPUS 11  the last CPU report ("cpus=N online=LIST", or
 *                              "online cpus=LIST" after init brought CPUs
 *                              online) does not count the VC's vCPUs
 *   GUEST_CHECK_WRONG_NUMA 12  the last NUMA report ("nodeN cpus=LIST" lines
 *                              after the last CPU report) is not one guest
 *                              node per VC node with exactly its vCPUs
 *   GUEST_CHECK_WORKLOAD   13  a "cvmm-guest-test: NAME: FAIL" line, "done
 *                              status=S" with S != 0, or the guest powered
 *                              off before init said "done"
 *
 * Checked in that order; the first failure is the status. Only a guest that
 * ended as a guest ends (powered off 0, reset 3, triple fault 4, timeout 6)
 * is checked: a status that says cvmm or a node failed (bad input, KVM
 * failure, a lost peer, a crash, a signal) is more to the point and stays.
 * A guest that passes every check keeps its status (0, or 3/4/6 when it said
 * "done" but did not power off).
 *
 * Pure: the caller feeds the console's bytes and the VC's status; unit-tested
 * in tests/unit/test-guest-check.c.
 */
#ifndef CVMM_MGMT_LAUNCH_GUEST_CHECK_H
#define CVMM_MGMT_LAUNCH_GUEST_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mgmt/vc/vc.h"

#define GUEST_CHECK_TIMEOUT    6 /* = cvmm run's RUN_TIMEOUT */
#define GUEST_CHECK_NO_BOOT    10
#define GUEST_CHECK_WRONG_CPUS 11
#define GUEST_CHECK_WRONG_NUMA 12
#define GUEST_CHECK_WORKLOAD   13

#define GUEST_CHECK_LINE_MAX 512 /* a longer console line is cut */

_Static_assert(VC_MAX_CPUS <= 64, "CPU sets are 64-bit masks");

struct guest_check {
	/* What the VC says. */
	unsigned int want_cpus;
	unsigned int want_nodes;
	uint64_t want_node[VC_MAX_NODES];

	/* What the guest said so far. */
	bool init;	      /* "cvmm-guest: init" */
	bool cpus_seen;	      /* a CPU report */
	uint64_t online;      /* its online CPUs */
	bool numa_seen;	      /* "nodeN cpus=" lines since the last CPU report */
	bool numa_stale;      /* a CPU report came after them: the next line starts anew */
	uint32_t nodes_shown; /* the guest nodes in the last NUMA report */
	bool node_bad_list;   /* a cpulist in it did not parse, or a node id >= 16 */
	uint64_t node[VC_MAX_NODES];
	bool done; /* "cvmm-guest: done status=S" */
	int done_status;
	unsigned int fails;   /* "cvmm-guest-test: ...: FAIL" lines */
	char first_fail[128]; /* the first, from "NAME: FAIL" on */

	char line[GUEST_CHECK_LINE_MAX]; /* partial line of guest_check_feed() */
	size_t fill;
};

/* Starts a check of a guest running on vc. */
void guest_check_init(struct guest_check *c, const struct vc *vc);

/* Console bytes, in order, as they come; lines end in LF (a CR is ignored). */
void guest_check_feed(struct guest_check *c, const void *data, size_t len);

/* One console line, without its end. Lines that are not init's are ignored. */
void guest_check_line(struct guest_check *c, const char *line);

/*
 * The status of a run whose VC ended with vc_status (what the launcher
 * would return without --check), after the whole console was fed; a partial
 * last line counts. Writes one line naming what was expected and what the
 * guest showed into msg ("" when vc_status stands unchecked).
 */
int guest_check_verdict(struct guest_check *c, int vc_status, char *msg, size_t len);

/* The name of a status guest_check_verdict() returns, e.g. "wrong CPU count"; NULL for others. */
const char *guest_check_name(int status);

#endif
