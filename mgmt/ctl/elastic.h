/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What cvmmctl vc evict, add-node and checksum decide before and after they
 * talk to the agents, kept pure for the unit tests: which VC node an
 * argument names, whether a node may leave or join, and the monitor's reply
 * lines (docs/man/cvmm-node.md, MONITOR) read into figures.
 */
#ifndef CVMM_MGMT_CTL_ELASTIC_H
#define CVMM_MGMT_CTL_ELASTIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mgmt/ctl/db.h"
#include "mgmt/vc/vc.h"

/*
 * The VC node that `arg` names: its id ("1"), "node1", or the name of the
 * agent that runs it. 0 with *idx, or -ENOENT with a message in err.
 */
int ctl_vc_node_find(const struct vc *vc, const char (*agent)[CTL_NAME_LEN], const char *arg,
		     unsigned int *idx, char *err, size_t errlen);

/* Whether node i runs in the VC now: not left, and joined if it joins later. */
bool ctl_node_present(const struct vc *vc, const enum ctl_member *member, unsigned int i);

/*
 * Whether node `node` may leave to node `to` (-1: the default, the I/O
 * node); *to_out is the node it leaves to. 0, or -EPERM with the reason.
 */
int ctl_evict_check(const struct vc *vc, const enum ctl_member *member, unsigned int node, int to,
		    unsigned int *to_out, char *err, size_t errlen);

/* Whether node `node` may join the running VC. 0, or -EPERM with the reason. */
int ctl_add_node_check(const struct vc *vc, const enum ctl_member *member, unsigned int node,
		       char *err, size_t errlen);

/* "progress pages D/T R/s": 0 with the figures, or -EINVAL. */
int ctl_parse_progress(const char *line, uint64_t *done, uint64_t *total, double *rate);

/* A progress bar of `width` cells and the figures, in buf. */
void ctl_progress_text(uint64_t done, uint64_t total, double rate, unsigned int width, char *buf,
		       size_t len);

/* The answer to `leave NODE verify`. */
struct ctl_leave_result {
	unsigned int to, vcpus;
	uint64_t pages, pushed, zero, handover_ms, paused_ms, max_move_us;
	bool has_pushed, verified;
	char before[48], after[48]; /* "HEX/PAGES", with verify */
};

/* "ok left to nodeN vcpus V pages P ...": 0, or -EINVAL. */
int ctl_parse_leave(const char *line, struct ctl_leave_result *res);

/* The answer to `rehome NODE verify`. */
struct ctl_rehome_result {
	unsigned int to;
	uint64_t pages, pushed, zero, rehome_ms, paused_ms;
	bool verified;
	char before[48], after[48]; /* "HEX/PAGES", with verify */
};

/* "ok rehomed to nodeN pages P pushed X zero Z ...": 0, or -EINVAL. */
int ctl_parse_rehome(const char *line, struct ctl_rehome_result *res);

/* "ok checksum HEX pages N paused_ms P": 0, or -EINVAL. */
int ctl_parse_checksum(const char *line, char *hex, size_t hexlen, uint64_t *pages,
		       uint64_t *paused_ms);

#endif
