/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the agent reads from the output of the `cvmm node` it runs: the lines
 * of `--stats` (the DSM counters printed when the node leaves) and its error
 * messages, so that `cvmmctl vc status` can show why a node stopped.
 *
 * Pure functions of the text: the agent reads the tail of the node's log and
 * hands it here.
 */
#ifndef CVMM_MGMT_AGENT_NODELOG_H
#define CVMM_MGMT_AGENT_NODELOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NODELOG_MAX_LINES 8
#define NODELOG_LINE_LEN  512

/* The counters of one "cvmm node: nodeI stats: ..." line (cvmm/builtin-node.c). */
struct node_stats {
	uint64_t faults_read, faults_write, faults_upgrade;
	uint64_t remote_fetches;
	uint64_t pages_in, pages_out;
	uint64_t inv_sent, inv_received;
	uint64_t bytes_in, bytes_out;
};

struct nodelog {
	unsigned int nstats;
	char stats[NODELOG_MAX_LINES][NODELOG_LINE_LEN]; /* the stats lines, oldest first */
	unsigned int nerrors;
	char errors[NODELOG_MAX_LINES][NODELOG_LINE_LEN]; /* the last error lines */
};

/* Collects the stats and error lines of len bytes of a node's output. */
void nodelog_scan(const char *text, size_t len, struct nodelog *out);

/* Parses the counters of a stats line; 0, or -EINVAL if it is not one. */
int nodelog_parse_stats(const char *line, struct node_stats *st);

#endif
