/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The live statistics of `cvmm node`, as its agent reads them
 * (docs/management.md, "Live figures: what the node writes"): a sample of
 * the node's DSM, placement and hypercall figures in, Prometheus text out.
 * Pure: no I/O, no clock, no locks; cvmm/stats-writer.c takes the samples
 * and writes the file.
 */
#ifndef CVMM_STATS_FILE_H
#define CVMM_STATS_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dsm/dsm.h"

#define STATS_MAX_VCPUS 64 /* VC_MAX_CPUS */
#define STATS_MAX_CALLS 16 /* hypercall numbers, HC_NR or more */
#define STATS_MAX_HOT	8  /* cvmm_dsm_hot_page_faults */

struct stats_sample {
	const char *vc; /* the VC's name: label vc="..." */
	unsigned int node;

	bool have_dsm; /* the DSM figures below are set (once the node joined) */
	struct dsm_stats dsm;
	uint64_t pages_owned, pages_homed; /* dsm_count_pages() */
	/* the pages this node faulted on most since the previous sample */
	unsigned int nhot;
	struct dsm_hot_page hot[STATS_MAX_HOT];

	unsigned int nvcpus; /* vCPUs this node runs: cvmm_vcpu_node */
	struct {
		unsigned int vcpu, node;
	} vcpu[STATS_MAX_VCPUS];

	bool have_calls; /* the node has a VM: cvmm_hypercalls_total */
	unsigned int ncalls;
	struct {
		const char *name;
		uint64_t count;
	} call[STATS_MAX_CALLS];
};

/*
 * Writes s as Prometheus text (0.0.4) into buf: every family with its HELP
 * and TYPE lines, every sample labelled vc and node. Returns the length (the
 * text is NUL-terminated), or -ENOSPC when it does not fit in len bytes.
 */
int stats_format(const struct stats_sample *s, char *buf, size_t len);

#endif
