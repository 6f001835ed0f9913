/* SPDX-License-Identifier: GPL-2.0 */
/*
 * This node's part of a virtual computer, as the agent runs it: the VC
 * description saved under the state directory, the `cvmm node --vc FILE
 * --id I --stats --monitor SOCKET` process started from it, its output in a
 * log beside it, and its exit status once it ends.
 *
 * A node belongs to at most one VC: from a start until the stop that
 * releases it, even after its process has exited (so that its exit status
 * and statistics can still be read). A second start in that time is refused.
 *
 * Files under the state directory:
 *   vc.json     the description the node runs
 *   node.log    standard output and error of `cvmm node` (the guest console
 *               on the I/O node), truncated at each start
 *   stats.prom  live metrics the node may write (CVMM_STATS_FILE; see
 *               docs/management.md)
 *   monitor.sock the node's monitor socket (cvmm-node(1), MONITOR), which
 *               the agent passes some commands to (POST /v1/vc/monitor)
 */
#ifndef CVMM_MGMT_AGENT_VCPART_H
#define CVMM_MGMT_AGENT_VCPART_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

enum vcpart_state {
	VCPART_IDLE,	/* belongs to no VC */
	VCPART_RUNNING, /* `cvmm node` runs */
	VCPART_EXITED,	/* it ended; the node still belongs to the VC until a stop */
};

struct vcpart {
	char dir[PATH_MAX - 32]; /* the state directory */
	char cvmm[PATH_MAX];	 /* the cvmm program that runs `cvmm node` */
	enum vcpart_state state;
	char vc[64]; /* the VC's name, when not idle */
	unsigned int node;
	pid_t pid; /* also its process group */
	int wait_status;
	time_t started, ended;
};

/* dir must exist; cvmm is the program to run (normally this one). */
void vcpart_init(struct vcpart *p, const char *dir, const char *cvmm);

/*
 * Saves the description (already validated) of VC `name` and starts node
 * `node` of it. -EBUSY if the node belongs to a VC; -errno with a message in
 * err if the files or the process cannot be made.
 */
int vcpart_start(struct vcpart *p, const char *name, const char *vc_json, unsigned int node,
		 char *err, size_t errlen);

/* Notices, without blocking, that the process ended. */
void vcpart_poll(struct vcpart *p);

/*
 * Ends the process if it runs (SIGTERM to its group, SIGKILL after grace_ms)
 * and releases the node from its VC. -ENOENT if it belongs to none.
 */
int vcpart_stop(struct vcpart *p, unsigned int grace_ms);

/* The exit status as a shell shows it: 0-255, or 128+N for signal N. */
int vcpart_exit_code(const struct vcpart *p);

const char *vcpart_state_name(enum vcpart_state s);

/* The path of a file in the state directory ("vc.json", "node.log", "stats.prom"). */
void vcpart_path(const struct vcpart *p, const char *leaf, char *buf, size_t len);

/*
 * Reads up to len bytes of the log from offset `off` into buf. Returns the
 * number read (0 at its end) or -errno; *size is the log's size.
 */
ssize_t vcpart_read_log(const struct vcpart *p, off_t off, char *buf, size_t len, off_t *size);

#endif
