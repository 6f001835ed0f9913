/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The monitor commands the agent passes to its node (POST /v1/vc/monitor):
 * a fixed set, each with its arguments checked, rewritten as the one line
 * the node's monitor socket takes. Pure: no I/O.
 *
 *   placement | checksum | leave NODE [verify] | node-join NODE |
 *   node-leave NODE | node-leave-keep NODE | status SEQ |
 *   vcpu-move VCPU NODE | rtt NODE [COUNT]
 *
 * (status SEQ reads the guest's acknowledgement of a node-join,
 * node-leave or node-leave-keep, whose answer is "ok seq SEQ".)
 */
#ifndef CVMM_MGMT_AGENT_MONITOR_CMD_H
#define CVMM_MGMT_AGENT_MONITOR_CMD_H

#include <stddef.h>

/*
 * Checks the command text `in` (words separated by blanks). Returns 0 with
 * the canonical line (no newline) in line, or -EINVAL with the reason in err.
 */
int monitor_cmd_check(const char *in, char *line, size_t len, char *err, size_t errlen);

/*
 * Whether a reply line ends the reply (it starts with ok, error, acked or
 * pending); "progress" lines and "vcpu I node N" lines do not.
 */
int monitor_reply_is_last(const char *line, size_t len);

#endif
