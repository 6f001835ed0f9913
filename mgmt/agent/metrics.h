/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's /metrics page in the Prometheus text exposition format
 * (version 0.0.4): the node's inventory, its part of a VC, and the node's DSM
 * statistics. docs/management.md lists every metric.
 */
#ifndef CVMM_MGMT_AGENT_METRICS_H
#define CVMM_MGMT_AGENT_METRICS_H

#include <stdio.h>

#include "mgmt/agent/inventory.h"
#include "mgmt/agent/nodelog.h"
#include "mgmt/agent/vcpart.h"

/*
 * Writes the page to f. log is what the node printed (NULL if unread); live
 * is the text of the node's stats file (NULL if it writes none): its lines
 * are passed on when they are well-formed cvmm_* samples or their HELP and
 * TYPE comments, and take the place of the figures parsed from log.
 */
void metrics_render(FILE *f, const struct inventory *inv, const struct vcpart *p,
		    const struct nodelog *log, const char *live);

#endif
