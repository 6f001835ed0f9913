/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The agent's control service: HTTP on the node's control address
 * (libmicrohttpd), for cvmmctl and for Prometheus (docs/management.md).
 *
 *   GET  /metrics        Prometheus text; unauthenticated and read-only
 *   GET  /v1/inventory   what the node has, and the VC it belongs to
 *   POST /v1/vc/start    {"vc": DESCRIPTION, "node": I}: run node I of it
 *   POST /v1/vc/stop     [{"vc": NAME}]: stop it and release the node
 *   GET  /v1/vc/status   state, exit status, the node's stats and errors
 *   GET  /v1/vc/console?vc=NAME&offset=N   the node's output from byte N
 *   POST /v1/vc/monitor  {"vc": NAME, "command": C}: pass C, one of a fixed
 *                        set (monitor-cmd.h), to the node's monitor socket;
 *                        its reply lines stream back as text/plain
 *
 * Every /v1/ request must be signed with the cluster secret (mgmt/auth.h);
 * one that is not, or is stale or replayed, gets 401 and one log line.
 *
 * libmicrohttpd runs a thread per connection, so that a monitor reply can
 * stream for minutes (a leave) while other requests are served; the handlers
 * run under `lock`, which guards the VC part and the replay cache. A
 * streaming reply is read outside the lock and touches only its socket.
 */
#ifndef CVMM_MGMT_AGENT_CONTROL_H
#define CVMM_MGMT_AGENT_CONTROL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "mgmt/agent/vcpart.h"
#include "mgmt/auth.h"

struct MHD_Daemon;

struct agent_ctl {
	struct MHD_Daemon *mhd;
	pthread_mutex_t lock; /* held by every request handler */
	atomic_bool stopping; /* set by agent_ctl_stop(): streams end */
	struct auth_key key;
	struct auth_replay replay;
	struct vcpart part;
	unsigned int port; /* the bound port (useful with port 0) */
};

struct agent_ctl_config {
	const char *listen;	 /* "ADDR:PORT", "[ADDR6]:PORT" or ":PORT" (every address) */
	const char *secret_file; /* the cluster secret */
	const char *state_dir;	 /* created if missing */
	const char *cvmm;	 /* the program that runs `cvmm node` */
};

/* Starts serving. -errno with a message naming what failed in err. */
int agent_ctl_start(struct agent_ctl *c, const struct agent_ctl_config *cfg, char *err,
		    size_t errlen);

/* Stops serving, then stops the VC part if one runs. */
void agent_ctl_stop(struct agent_ctl *c);

/* Splits "ADDR:PORT" (ADDR may be [v6], or empty for any). 0 or -EINVAL. */
int agent_ctl_parse_listen(const char *s, char *addr, size_t addrlen, unsigned int *port);

#endif
